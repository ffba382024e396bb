/* The streaming JSON writer; see jw.h for the output it promises.
 *
 * Invariant: after ensure(w, n) returned 1, n bytes fit at buf + len. The
 * buffer keeps one spare byte past cap for vgl_jw_text's NUL.
 */
#include "core/utf8.h"
#include "sla/jw.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/vtime.h"

/* Large enough that a 150 MB report is ~150 write(2)s, small enough to
 * stay in the L2/L3 caches while it fills. */
#define JW_CHUNK (1u << 20)

struct vgl_jw {
	FILE *f;                        /* NULL: memory mode */
	char *buf;
	size_t len, cap;
	int need_comma;                 /* a value ended at the current level */
	int failed;
	/* a report's times cluster in one month: the last day's date text */
	int64_t day;                    /* -1: none yet */
	char date[10];                  /* "YYYY-MM-DD" of day */
};

/* "00" .. "99": two digits per division. */
static const char digits2[201] =
	"00010203040506070809101112131415161718192021222324252627282930313233343536373839"
	"40414243444546474849505152535455565758596061626364656667686970717273747576777879"
	"8081828384858687888990919293949596979899";

/* 0: copied as is; else the second byte of its two-byte escape, 'u', or
 * 'm' for a byte that may start a multibyte sequence (checked: the output
 * is valid UTF-8 whatever the database holds). */
static const unsigned char esc[256] = {
	['\b'] = 'u', ['\f'] = 'u',
	['\n'] = 'n', ['\r'] = 'r', ['\t'] = 't', ['"'] = '"', ['\\'] = '\\',
	[0x01] = 'u', [0x02] = 'u', [0x03] = 'u', [0x04] = 'u', [0x05] = 'u', [0x06] = 'u',
	[0x07] = 'u', [0x0b] = 'u', [0x0e] = 'u', [0x0f] = 'u', [0x10] = 'u', [0x11] = 'u',
	[0x12] = 'u', [0x13] = 'u', [0x14] = 'u', [0x15] = 'u', [0x16] = 'u', [0x17] = 'u',
	[0x18] = 'u', [0x19] = 'u', [0x1a] = 'u', [0x1b] = 'u', [0x1c] = 'u', [0x1d] = 'u',
	[0x1e] = 'u', [0x1f] = 'u',
	[0x80 ... 0xff] = 'm',
};

struct vgl_jw *vgl_jw_new(FILE *f)
{
	struct vgl_jw *w = calloc(1, sizeof(*w));

	if (!w)
		return NULL;
	w->f = f;
	w->day = -1;
	w->cap = f ? JW_CHUNK : 4096;
	w->buf = malloc(w->cap + 1);
	if (!w->buf) {
		free(w);
		return NULL;
	}
	return w;
}

void vgl_jw_free(struct vgl_jw *w)
{
	if (!w)
		return;
	free(w->buf);
	free(w);
}

static int write_out(struct vgl_jw *w)
{
	if (w->f && w->len) {
		if (fwrite(w->buf, 1, w->len, w->f) != w->len)
			w->failed = 1;
		w->len = 0;
	}
	return w->failed ? -1 : 0;
}

int vgl_jw_flush(struct vgl_jw *w)
{
	return write_out(w);
}

int vgl_jw_failed(const struct vgl_jw *w)
{
	return w->failed;
}

const char *vgl_jw_text(struct vgl_jw *w, size_t *len)
{
	if (w->failed)
		return NULL;
	w->buf[w->len] = '\0';
	if (len)
		*len = w->len;
	return w->buf;
}

/* Room for n more bytes: 1, or 0 (failed set) when there cannot be. */
static int ensure_slow(struct vgl_jw *w, size_t n)
{
	size_t cap;
	char *nb;

	if (w->failed)
		return 0;
	if (w->f && write_out(w) != 0)
		return 0;
	if (w->len + n <= w->cap)
		return 1;
	cap = w->cap;
	while (cap < w->len + n) {
		if (cap > SIZE_MAX / 4) {
			w->failed = 1;
			return 0;
		}
		cap *= 2;
	}
	nb = realloc(w->buf, cap + 1);
	if (!nb) {
		w->failed = 1;
		return 0;
	}
	w->buf = nb;
	w->cap = cap;
	return 1;
}

static inline int ensure(struct vgl_jw *w, size_t n)
{
	if (w->len + n <= w->cap && !w->failed)
		return 1;
	return ensure_slow(w, n);
}

static inline void put(struct vgl_jw *w, const char *s, size_t n)
{
	memcpy(w->buf + w->len, s, n);
	w->len += n;
}

/* The comma owed before a new key or value at this level, and room for
 * n more bytes. */
static inline int start(struct vgl_jw *w, size_t n)
{
	if (!ensure(w, n + 1))
		return 0;
	if (w->need_comma)
		w->buf[w->len++] = ',';
	return 1;
}

void vgl_jw_raw(struct vgl_jw *w, const char *s, size_t n)
{
	if (!ensure(w, n))
		return;
	put(w, s, n);
	w->need_comma = 0;
}

static void open_(struct vgl_jw *w, char c)
{
	if (!start(w, 1))
		return;
	w->buf[w->len++] = c;
	w->need_comma = 0;
}

static void close_(struct vgl_jw *w, char c)
{
	if (!ensure(w, 1))
		return;
	w->buf[w->len++] = c;
	w->need_comma = 1;
}

void vgl_jw_obj(struct vgl_jw *w)
{
	open_(w, '{');
}

void vgl_jw_obj_end(struct vgl_jw *w)
{
	close_(w, '}');
}

void vgl_jw_arr(struct vgl_jw *w)
{
	open_(w, '[');
}

void vgl_jw_arr_end(struct vgl_jw *w)
{
	close_(w, ']');
}

/* s escaped and quoted; room for it was ensured. */
static void put_string(struct vgl_jw *w, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	char *o = w->buf + w->len;
	const char *run = s, *e = s + n;

	*o++ = '"';
	for (; s < e; s++) {
		unsigned char ch = (unsigned char)*s, x = esc[ch];

		if (!x)
			continue;
		if (x == 'm') {
			size_t k = vgl_utf8_seq((const unsigned char *)s, (size_t)(e - s));

			if (k) {                /* valid: stays in the run */
				s += k - 1;
				continue;
			}
		}
		memcpy(o, run, (size_t)(s - run));
		o += s - run;
		run = s + 1;
		if (x == 'm') {                 /* 3 bytes for 1: within the 6 per byte ensured */
			memcpy(o, "\xef\xbf\xbd", 3);
			o += 3;
			continue;
		}
		*o++ = '\\';
		if (x == 'u') {
			memcpy(o, "u00", 3);
			o[3] = hex[ch >> 4];
			o[4] = hex[ch & 15];
			o += 5;
		} else {
			*o++ = (char)x;
		}
	}
	memcpy(o, run, (size_t)(e - run));
	o += e - run;
	*o++ = '"';
	w->len = (size_t)(o - w->buf);
}

void vgl_jw_key(struct vgl_jw *w, const char *k)
{
	size_t n = strlen(k);

	if (n > SIZE_MAX / 8 || !start(w, 6 * n + 3))
		return;
	put_string(w, k, n);
	w->buf[w->len++] = ':';
	w->need_comma = 0;
}

void vgl_jw_key_lit(struct vgl_jw *w, struct vgl_jw_key k)
{
	if (!start(w, k.len))
		return;
	put(w, k.text, k.len);
	w->need_comma = 0;
}

void vgl_jw_str(struct vgl_jw *w, const char *s)
{
	size_t n;

	if (!s) {
		vgl_jw_null(w);
		return;
	}
	n = strlen(s);
	if (n > SIZE_MAX / 8 || !start(w, 6 * n + 2))
		return;
	put_string(w, s, n);
	w->need_comma = 1;
}

/* Decimal digits of v ending just before end; returns the first. */
static char *u64_digits(char *end, uint64_t v)
{
	while (v >= 100) {
		unsigned i = (unsigned)(v % 100) * 2;

		v /= 100;
		*--end = digits2[i + 1];
		*--end = digits2[i];
	}
	if (v >= 10) {
		*--end = digits2[v * 2 + 1];
		*--end = digits2[v * 2];
	} else {
		*--end = (char)('0' + v);
	}
	return end;
}

static void put_int(struct vgl_jw *w, int64_t v)
{
	char tmp[24], *end = tmp + sizeof(tmp), *p;
	/* the magnitude as unsigned: -INT64_MIN does not fit an int64_t */
	uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;

	p = u64_digits(end, u);
	if (v < 0)
		*--p = '-';
	put(w, p, (size_t)(end - p));
}

void vgl_jw_int(struct vgl_jw *w, int64_t v)
{
	if (!start(w, 24))
		return;
	put_int(w, v);
	w->need_comma = 1;
}

void vgl_jw_num(struct vgl_jw *w, double v)
{
	char buf[32];
	int n;

	if (!start(w, sizeof(buf)))
		return;
	w->need_comma = 1;
	if (!isfinite(v)) {
		put(w, "null", 4);
		return;
	}
	if (v == floor(v) && fabs(v) < 9007199254740992.0) {
		put_int(w, (int64_t)v);
		return;
	}
	n = snprintf(buf, sizeof(buf), "%.15g", v);
	if (strtod(buf, NULL) != v)
		n = snprintf(buf, sizeof(buf), "%.17g", v);
	if (n < 0 || (size_t)n >= sizeof(buf)) {
		w->failed = 1;
		return;
	}
	put(w, buf, (size_t)n);
}

void vgl_jw_bool(struct vgl_jw *w, int v)
{
	if (!start(w, 5))
		return;
	if (v)
		put(w, "true", 4);
	else
		put(w, "false", 5);
	w->need_comma = 1;
}

void vgl_jw_null(struct vgl_jw *w)
{
	if (!start(w, 4))
		return;
	put(w, "null", 4);
	w->need_comma = 1;
}

static void digits_fixed(char *p, unsigned v, int n)
{
	while (n-- > 0) {
		p[n] = (char)('0' + v % 10);
		v /= 10;
	}
}

/* day (since the epoch, 0 .. 2932896) as "YYYY-MM-DD": days to civil
 * date by the era / year-of-era arithmetic of the proleptic Gregorian
 * calendar. */
static void civil_date(int64_t days, char out[10])
{
	int64_t z = days + 719468, era, doe, yoe, y, doy, mp, d, m;

	era = z / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	y = yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	d = doy - (153 * mp + 2) / 5 + 1;
	m = mp < 10 ? mp + 3 : mp - 9;
	y += m <= 2;
	digits_fixed(out, (unsigned)y, 4);
	out[4] = '-';
	memcpy(out + 5, digits2 + m * 2, 2);
	out[7] = '-';
	memcpy(out + 8, digits2 + d * 2, 2);
}

/* vgl_format_iso's text without its gmtime_r and snprintf. */
void vgl_jw_time(struct vgl_jw *w, int64_t ms)
{
	int64_t days, rem;
	char *o;

	if (ms < 0 || ms >= 253402300800000LL) {        /* outside 1970..9999 */
		char buf[VGL_ISO_LEN];

		vgl_jw_str(w, vgl_format_iso(ms, buf));
		return;
	}
	if (!start(w, 26))
		return;
	days = ms / 86400000;
	rem = ms % 86400000;
	if (days != w->day) {
		civil_date(days, w->date);
		w->day = days;
	}
	o = w->buf + w->len;
	memcpy(o, "\"YYYY-MM-DDT00:00:00.000Z\"", 26);
	memcpy(o + 1, w->date, 10);
	memcpy(o + 12, digits2 + rem / 3600000 * 2, 2);
	memcpy(o + 15, digits2 + rem / 60000 % 60 * 2, 2);
	memcpy(o + 18, digits2 + rem / 1000 % 60 * 2, 2);
	digits_fixed(o + 21, (unsigned)(rem % 1000), 3);
	w->len += 26;
	w->need_comma = 1;
}
