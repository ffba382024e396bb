/* Logging in the shape of OpenBSD ntpd's log.c: stderr lines carrying a
 * syslog priority prefix ("<3>" error .. "<7>" debug), which journald turns
 * into the record's priority when vigild runs under systemd. */
#ifndef VGL_LOG_H
#define VGL_LOG_H

#include <stdarg.h>

enum vgl_log_level {
	VGL_LOG_ERR = 3,
	VGL_LOG_WARNING = 4,
	VGL_LOG_NOTICE = 5,
	VGL_LOG_INFO = 6,
	VGL_LOG_DEBUG = 7,
};

/* Messages above this level are dropped; default VGL_LOG_INFO. */
void vgl_log_set_level(enum vgl_log_level level);
int vgl_log_debug_enabled(void);

void vgl_log(enum vgl_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* log_warn style: appends ": strerror(errno)". */
void vgl_log_errno(enum vgl_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define vgl_err(...) vgl_log(VGL_LOG_ERR, __VA_ARGS__)
#define vgl_warn(...) vgl_log(VGL_LOG_WARNING, __VA_ARGS__)
#define vgl_notice(...) vgl_log(VGL_LOG_NOTICE, __VA_ARGS__)
#define vgl_info(...) vgl_log(VGL_LOG_INFO, __VA_ARGS__)
#define vgl_debug(...) \
	do { if (vgl_log_debug_enabled()) vgl_log(VGL_LOG_DEBUG, __VA_ARGS__); } while (0)

#endif
