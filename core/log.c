#include "core/log.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static enum vgl_log_level max_level = VGL_LOG_INFO;

void vgl_log_set_level(enum vgl_log_level level) { max_level = level; }

int vgl_log_debug_enabled(void) { return max_level >= VGL_LOG_DEBUG; }

static void vlog(enum vgl_log_level level, const char *suffix, const char *fmt, va_list ap)
{
	char line[2048];
	int n;

	if (level > max_level)
		return;
	n = vsnprintf(line, sizeof(line), fmt, ap);
	if (n < 0)
		return;
	/* One fprintf per line so that lines from the writer thread and the
	 * loop thread never interleave inside a line. */
	if (suffix)
		fprintf(stderr, "<%d>%s: %s\n", (int)level, line, suffix);
	else
		fprintf(stderr, "<%d>%s\n", (int)level, line);
}

void vgl_log(enum vgl_log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(level, NULL, fmt, ap);
	va_end(ap);
}

void vgl_log_errno(enum vgl_log_level level, const char *fmt, ...)
{
	va_list ap;
	int saved = errno;

	va_start(ap, fmt);
	vlog(level, strerror(saved), fmt, ap);
	va_end(ap);
	errno = saved;
}
