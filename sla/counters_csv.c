/* The counter CSV parser (sla/counters_csv.h). Lines are copied one at a
 * time into a bounded buffer, so the text itself is never written to and
 * no line costs more than VGL_COUNTERS_CSV_LINE_MAX bytes of work space.
 */
#include "sla/counters_csv.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/vtime.h"

static void seterr(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* Trims blanks and a CR (files from Windows) around a field in place. */
static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' || e[-1] == '\n'))
		*--e = '\0';
	return s;
}

static int parse_u64(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	/* strtoull would take "-1" as 2^64-1 and " 1" with its blank. */
	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end)
		return -1;
	*out = v;
	return 0;
}

static int cmp_row(const void *a, const void *b)
{
	const struct vgl_counters_row *x = a, *y = b;

	if (x->ts_ms != y->ts_ms)
		return x->ts_ms < y->ts_ms ? -1 : 1;
	return x->line < y->line ? -1 : x->line > y->line;
}

int vgl_counters_csv_parse(const char *text, size_t len, int64_t now_ms,
			   struct vgl_counters_row **rows_out, size_t *n_out, char *err,
			   size_t errlen)
{
	struct vgl_counters_row *rows = NULL;
	size_t n = 0, cap = 0, lineno = 0, at = 0;
	char line[VGL_COUNTERS_CSV_LINE_MAX + 1];
	int have_header = 0, rc = -1;

	*rows_out = NULL;
	*n_out = 0;
	while (at < len) {
		const char *nl = memchr(text + at, '\n', len - at);
		size_t ll = nl ? (size_t)(nl - (text + at)) : len - at;
		char *fields[4], *p = line, *t;
		size_t nf = 0;

		lineno++;
		if (ll > VGL_COUNTERS_CSV_LINE_MAX) {
			seterr(err, errlen, "%zu: line longer than %d bytes", lineno,
			       VGL_COUNTERS_CSV_LINE_MAX);
			goto out;
		}
		memcpy(line, text + at, ll);
		line[ll] = '\0';
		at += ll + (nl != NULL);
		if (memchr(line, '\0', ll)) {
			seterr(err, errlen, "%zu: NUL byte in line", lineno);
			goto out;
		}
		if (*trim(line) == '\0')
			continue;
		while (nf < 4 && (fields[nf++] = strsep(&p, ",")) != NULL)
			;
		if (fields[nf - 1] == NULL)
			nf--;
		for (size_t k = 0; k < nf; k++)
			fields[k] = trim(fields[k]);
		if (!have_header) {
			if (nf != 3 || strcmp(fields[0], "time") || strcmp(fields[1], "total") ||
			    strcmp(fields[2], "failed")) {
				seterr(err, errlen, "%zu: expected the header 'time,total,failed'",
				       lineno);
				goto out;
			}
			have_header = 1;
			continue;
		}
		if (nf != 3) {
			seterr(err, errlen, "%zu: expected 3 fields (time,total,failed), found %s",
			       lineno, nf > 3 ? "more" : nf == 2 ? "2" : "1");
			goto out;
		}
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 256;
			struct vgl_counters_row *r;

			/* Rows are far fewer than bytes, so this cannot wrap
			 * for any text that fits in memory; checked anyway. */
			if (ncap > SIZE_MAX / sizeof(*r)) {
				rc = -ENOMEM;
				goto out;
			}
			r = realloc(rows, ncap * sizeof(*r));
			if (!r) {
				rc = -ENOMEM;
				goto out;
			}
			rows = r;
			cap = ncap;
		}
		memset(&rows[n], 0, sizeof(rows[n]));
		rows[n].line = lineno;
		t = fields[0];
		if (vgl_parse_iso(t, &rows[n].ts_ms) != 0) {
			seterr(err, errlen, "%zu: bad time '%s' (expected e.g. 2026-11-05T10:00:00Z)",
			       lineno, t);
			goto out;
		}
		if (rows[n].ts_ms > now_ms) {
			seterr(err, errlen, "%zu: time %s is in the future", lineno, t);
			goto out;
		}
		if (parse_u64(fields[1], &rows[n].total) != 0) {
			seterr(err, errlen, "%zu: bad total '%s' (expected an integer 0..2^64-1)",
			       lineno, fields[1]);
			goto out;
		}
		if (parse_u64(fields[2], &rows[n].failed) != 0) {
			seterr(err, errlen, "%zu: bad failed '%s' (expected an integer 0..2^64-1)",
			       lineno, fields[2]);
			goto out;
		}
		n++;
	}
	if (!have_header) {
		seterr(err, errlen, "1: empty file (expected the header 'time,total,failed')");
		goto out;
	}
	/* One time, one sample: a repeat would make the stored value depend
	 * on line order. */
	if (n > 1)
		qsort(rows, n, sizeof(*rows), cmp_row);
	for (size_t k = 1; k < n; k++) {
		if (rows[k].ts_ms == rows[k - 1].ts_ms) {
			char b[VGL_ISO_LEN];

			seterr(err, errlen, "%zu: time %s repeats line %zu", rows[k].line,
			       vgl_format_iso(rows[k].ts_ms, b), rows[k - 1].line);
			goto out;
		}
	}
	*rows_out = rows;
	*n_out = n;
	return 0;

out:
	free(rows);
	return rc;
}
