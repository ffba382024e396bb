/* Helpers collectors/redfish_parse.c and collectors/redfish_log.c share
 * (not an API): cJSON lookups where a key of the wrong type is absent, the
 * err text, ASCII matching, a path's last segment, text made clean UTF-8.
 * Static inline: small, and each of the two files gets its own copy. */
#ifndef VGL_REDFISH_PARSE_INT_H
#define VGL_REDFISH_PARSE_INT_H

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>

#include "core/utf8.h"

static inline void seterr(char *err, size_t n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static inline void seterr(char *err, size_t n, const char *fmt, ...)
{
	va_list ap;

	if (!err || !n)
		return;
	va_start(ap, fmt);
	vsnprintf(err, n, fmt, ap);
	va_end(ap);
}

static inline const cJSON *obj_get(const cJSON *o, const char *key)
{
	return cJSON_IsObject(o) ? cJSON_GetObjectItemCaseSensitive(o, key) : NULL;
}

static inline int num_get(const cJSON *obj, const char *key, double *out)
{
	const cJSON *v = obj_get(obj, key);

	if (!cJSON_IsNumber(v))
		return 0;
	*out = v->valuedouble;
	return 1;
}

/* ASCII case-insensitive substring. */
static inline int ci_has(const char *hay, const char *needle)
{
	size_t n = strlen(needle);

	if (!hay)
		return 0;
	for (; *hay; hay++)
		if (strncasecmp(hay, needle, n) == 0)
			return 1;
	return 0;
}

/* The last path segment of a path (without a trailing '/'). */
static inline void last_segment(const char *path, char *out, size_t n)
{
	size_t len = path ? strlen(path) : 0;
	const char *e, *b;

	out[0] = 0;
	if (!len)
		return;
	e = path + len;
	while (e > path && e[-1] == '/')
		e--;
	b = e;
	while (b > path && b[-1] != '/')
		b--;
	if ((size_t)(e - b) >= n)
		b = e - (n - 1);
	memcpy(out, b, (size_t)(e - b));
	out[e - b] = 0;
}

/* Appends s to out (cap bytes with the NUL) as clean UTF-8: whole
 * characters only, line breaks and tabs as spaces, other controls and bad
 * bytes as '?'. Stops when the next character does not fit. */
static inline void text_add(char *out, size_t cap, size_t *len, const char *s)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	size_t left = strlen((const char *)p);

	while (left) {
		size_t k = vgl_utf8_seq(p, left);
		unsigned char c = *p;

		if (k == 0 || (k == 1 && (c < 0x20 || c == 0x7f))) {
			if (*len + 2 > cap)
				break;
			out[(*len)++] = k && (c == '\n' || c == '\r' || c == '\t') ? ' ' : '?';
			p++;
			left--;
			continue;
		}
		if (*len + k + 1 > cap)
			break;
		memcpy(out + *len, p, k);
		*len += k;
		p += k;
		left -= k;
	}
	out[*len] = 0;
}

#endif
