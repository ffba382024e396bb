/* TZif reader (tzfile.h). Layout and rules from RFC 8536 and tzfile(5);
 * RFC 9636's version 4 changes only the leap-second table, which is
 * refused here anyway. The footer is a POSIX TZ string with the RFC's
 * extension of rule times to -167 h .. 167 h.
 *
 * Every count in the file is checked against the bytes actually there
 * before anything is read, and every index against its table, so a hostile
 * file is refused rather than read past. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sla/tzfile.h"

#define HDR_LEN 44
/* The range RFC 8536 says offsets SHOULD lie in (about -25 h .. +26 h).
 * Refusing others also bounds how far local midnight lies from UTC
 * midnight, which vgl_tz_day_start's search window relies on. */
#define UTOFF_MIN (-89999)
#define UTOFF_MAX 93599
#define T_CLAMP ((int64_t)1 << 42)
/* Real footers are under 60 bytes; the bound only keeps the copy small. */
#define FOOTER_MAX 255

struct rule {
	char kind;      /* 'J': Jn (1..365, Feb 29 never counted), 'D': n (0..365), 'M': Mm.w.d */
	int a, b, c;    /* n, or m w d */
	int32_t secs;   /* local time of day of the change */
};

struct vgl_tz {
	size_t n_trans, n_types;
	int64_t *trans;         /* strictly ascending */
	uint8_t *trans_type;    /* each < n_types */
	int32_t *utoff;         /* each in UTOFF_MIN..UTOFF_MAX */
	uint8_t *isdst;
	int footer;             /* a nonempty TZ string governs after the last transition */
	int has_dst;
	int32_t std_off, dst_off;       /* UT offsets, seconds east */
	struct rule rule[2];            /* [0] into DST (standard time), [1] out of it (DST) */
};

struct hdr {
	char ver;
	uint32_t isut, isstd, leap, timecnt, typecnt, charcnt;
};

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Two's complement by arithmetic: converting an out-of-range unsigned
 * value to a signed type is implementation-defined. */
static int32_t be32s(const unsigned char *p)
{
	uint32_t v = be32(p);

	return v <= INT32_MAX ? (int32_t)v : -(int32_t)(~v) - 1;
}

static int64_t be64s(const unsigned char *p)
{
	uint64_t v = (uint64_t)be32(p) << 32 | be32(p + 4);

	return v <= INT64_MAX ? (int64_t)v : -(int64_t)(~v) - 1;
}

static int read_hdr(const unsigned char *p, size_t left, struct hdr *h)
{
	if (left < HDR_LEN || memcmp(p, "TZif", 4) != 0)
		return -1;
	h->ver = (char)p[4];
	if (h->ver != 0 && (h->ver < '2' || h->ver > '4'))
		return -1;
	h->isut = be32(p + 20);
	h->isstd = be32(p + 24);
	h->leap = be32(p + 28);
	h->timecnt = be32(p + 32);
	h->typecnt = be32(p + 36);
	h->charcnt = be32(p + 40);
	return 0;
}

/* In 64 bits every term is below 2^36: no count can overflow the sum. */
static uint64_t block_len(const struct hdr *h, unsigned tsize)
{
	return (uint64_t)h->timecnt * (tsize + 1) + (uint64_t)h->typecnt * 6 + h->charcnt +
	       (uint64_t)h->leap * (tsize + 4) + h->isstd + h->isut;
}

/* ---- the footer: a POSIX TZ string ---- */

static int is_digit(char c) { return c >= '0' && c <= '9'; }
static int is_alpha(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }

/* 1 to maxd digits; maxd <= 3 keeps the value far from overflow. */
static int digits(const char **sp, int maxd, int *v)
{
	const char *s = *sp;
	int n = 0, x = 0;

	while (n < maxd && is_digit(*s)) {
		x = x * 10 + (*s++ - '0');
		n++;
	}
	if (!n)
		return -1;
	*sp = s;
	*v = x;
	return 0;
}

/* [+-]h[h[h]][:mm[:ss]], hours at most maxh */
static int hms(const char **sp, int maxh, int32_t *out)
{
	const char *s = *sp;
	int neg = 0, h, m = 0, sec = 0;

	if (*s == '+' || *s == '-')
		neg = *s++ == '-';
	if (digits(&s, 3, &h) || h > maxh)
		return -1;
	if (*s == ':') {
		s++;
		if (digits(&s, 2, &m) || m > 59)
			return -1;
		if (*s == ':') {
			s++;
			if (digits(&s, 2, &sec) || sec > 59)
				return -1;
		}
	}
	*out = (int32_t)((h * 3600 + m * 60 + sec) * (neg ? -1 : 1));
	*sp = s;
	return 0;
}

/* "CET", or quoted "<+0545>"; at least three characters either way */
static int zone_abbr(const char **sp)
{
	const char *s = *sp, *b;

	if (*s == '<') {
		b = ++s;
		while (is_alpha(*s) || is_digit(*s) || *s == '+' || *s == '-')
			s++;
		if (*s != '>' || s - b < 3)
			return -1;
		s++;
	} else {
		b = s;
		while (is_alpha(*s))
			s++;
		if (s - b < 3)
			return -1;
	}
	*sp = s;
	return 0;
}

static int parse_rule(const char **sp, struct rule *r)
{
	const char *s = *sp;

	if (*s == 'J') {
		s++;
		r->kind = 'J';
		if (digits(&s, 3, &r->a) || r->a < 1 || r->a > 365)
			return -1;
	} else if (*s == 'M') {
		s++;
		r->kind = 'M';
		if (digits(&s, 2, &r->a) || r->a < 1 || r->a > 12 || *s != '.')
			return -1;
		s++;
		if (digits(&s, 1, &r->b) || r->b < 1 || r->b > 5 || *s != '.')
			return -1;
		s++;
		if (digits(&s, 1, &r->c) || r->c > 6)
			return -1;
	} else {
		r->kind = 'D';
		if (digits(&s, 3, &r->a) || r->a > 365)
			return -1;
	}
	r->secs = 2 * 3600;     /* POSIX's default time of day */
	if (*s == '/') {
		s++;
		if (hms(&s, 167, &r->secs))
			return -1;
	}
	*sp = s;
	return 0;
}

static int off_ok(int32_t o) { return o >= UTOFF_MIN && o <= UTOFF_MAX; }

/* s is NUL-terminated. POSIX offsets count west, TZif's east: hence the
 * sign flips. A DST name without rules is refused: POSIX leaves the rules
 * to the implementation then, and zic never writes one. */
static int parse_footer(struct vgl_tz *z, const char *s)
{
	int32_t v;

	if (!*s)
		return 0;       /* after the last transition, its type goes on */
	if (zone_abbr(&s) || hms(&s, 24, &v))
		return -1;
	z->std_off = -v;
	z->dst_off = z->std_off;
	if (*s) {
		if (zone_abbr(&s))
			return -1;
		z->dst_off = z->std_off + 3600;
		if (*s != ',') {
			if (hms(&s, 24, &v))
				return -1;
			z->dst_off = -v;
		}
		if (*s != ',')
			return -1;
		s++;
		if (parse_rule(&s, &z->rule[0]) || *s != ',')
			return -1;
		s++;
		if (parse_rule(&s, &z->rule[1]) || *s)
			return -1;
		z->has_dst = 1;
	}
	if (!off_ok(z->std_off) || !off_ok(z->dst_off))
		return -1;
	z->footer = 1;
	return 0;
}

/* ---- parsing the file ---- */

int vgl_tz_parse(const void *buf, size_t len, struct vgl_tz **out)
{
	const unsigned char *p = buf, *q;
	char footer[FOOTER_MAX + 1];
	struct vgl_tz *z = NULL;
	unsigned tsize = 4;
	struct hdr h, h2;
	size_t off = 0, end, size;
	uint64_t blen;

	*out = NULL;
	if (!buf || len > VGL_TZ_MAX_FILE || read_hdr(p, len, &h))
		goto inval;
	blen = block_len(&h, 4);
	if (blen > len - HDR_LEN)
		goto inval;
	if (h.ver != 0) {
		/* v2+: the v1 block is only skipped, so only its size matters */
		off = HDR_LEN + (size_t)blen;
		if (read_hdr(p + off, len - off, &h2) || h2.ver != h.ver)
			goto inval;
		h = h2;
		tsize = 8;
		blen = block_len(&h, 8);
		if (blen > len - off - HDR_LEN)
			goto inval;
	}
	/* 256 types at most: a transition names its type in one byte */
	if (h.typecnt == 0 || h.typecnt > 256 || h.charcnt == 0 || h.leap != 0 ||
	    (h.isstd != 0 && h.isstd != h.typecnt) || (h.isut != 0 && h.isut != h.typecnt))
		goto inval;
	end = off + HDR_LEN + (size_t)blen;

	size = sizeof(*z) + (size_t)h.timecnt * (sizeof(int64_t) + 1) +
	       (size_t)h.typecnt * (sizeof(int32_t) + 1);
	z = calloc(1, size);
	if (!z)
		return -1;      /* errno ENOMEM from calloc */
	/* one block, int64 first: sizeof(*z) is a multiple of its alignment */
	z->n_trans = h.timecnt;
	z->n_types = h.typecnt;
	z->trans = (int64_t *)(z + 1);
	z->utoff = (int32_t *)(z->trans + z->n_trans);
	z->trans_type = (uint8_t *)(z->utoff + z->n_types);
	z->isdst = z->trans_type + z->n_trans;

	q = p + off + HDR_LEN;
	for (size_t i = 0; i < z->n_trans; i++, q += tsize) {
		z->trans[i] = tsize == 8 ? be64s(q) : be32s(q);
		if (i && z->trans[i] <= z->trans[i - 1])
			goto inval;
	}
	for (size_t i = 0; i < z->n_trans; i++) {
		z->trans_type[i] = q[i];
		if (q[i] >= z->n_types)
			goto inval;
	}
	q += z->n_trans;
	for (size_t i = 0; i < z->n_types; i++, q += 6) {
		z->utoff[i] = be32s(q);
		z->isdst[i] = q[4];
		if (!off_ok(z->utoff[i]) || q[4] > 1 || q[5] >= h.charcnt)
			goto inval;
	}
	/* designations are NUL-terminated strings, so the last byte is NUL */
	if (q[h.charcnt - 1] != 0)
		goto inval;
	q += h.charcnt;
	for (size_t i = 0; i < h.isstd; i++)
		if (q[i] > 1)
			goto inval;
	for (size_t i = 0; i < h.isut; i++)
		/* a UT indicator of 1 requires a standard indicator of 1 */
		if (q[h.isstd + i] > 1 || (q[h.isstd + i] && (!h.isstd || !q[i])))
			goto inval;

	if (h.ver == 0) {
		if (end != len)
			goto inval;
	} else {
		/* "\n" TZ string "\n", and nothing after it */
		const unsigned char *nl;
		size_t flen;

		if (end >= len || p[end] != '\n' || len - end < 2 || p[len - 1] != '\n')
			goto inval;
		flen = len - end - 2;
		nl = memchr(p + end + 1, '\n', flen);
		if (nl || flen > FOOTER_MAX || memchr(p + end + 1, 0, flen))
			goto inval;
		memcpy(footer, p + end + 1, flen);
		footer[flen] = 0;
		if (parse_footer(z, footer))
			goto inval;
	}
	*out = z;
	return 0;
inval:
	free(z);
	errno = EINVAL;
	return -1;
}

int vgl_tz_load(const char *path, struct vgl_tz **out)
{
	unsigned char *buf = NULL;
	size_t cap, n = 0;
	struct stat st;
	int fd, rc = -1, err;

	*out = NULL;
	/* O_NONBLOCK: a FIFO planted under the zone directory must not hang
	 * the caller; it is refused by the S_ISREG check below. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) != 0)
		goto out;
	if (!S_ISREG(st.st_mode) || st.st_size < 0 || (uint64_t)st.st_size > VGL_TZ_MAX_FILE) {
		errno = S_ISREG(st.st_mode) ? EFBIG : EINVAL;
		goto out;
	}
	/* One byte more than fstat said, so a file that grew meanwhile reads
	 * longer than its counts and is refused rather than cut. */
	cap = (size_t)st.st_size + 1;
	buf = malloc(cap);
	if (!buf)
		goto out;
	while (n < cap) {
		ssize_t r = read(fd, buf + n, cap - n);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			goto out;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	rc = vgl_tz_parse(buf, n, out);
out:
	err = errno;
	free(buf);
	if (close(fd) != 0 && rc == 0) {
		err = errno;
		vgl_tz_free(*out);
		*out = NULL;
		rc = -1;
	}
	errno = err;
	return rc;
}

void vgl_tz_free(struct vgl_tz *z)
{
	free(z);
}

/* ---- evaluation ---- */

static int64_t floordiv(int64_t a, int64_t b)
{
	int64_t q = a / b;

	return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

static int64_t floormod(int64_t a, int64_t b) { return a - floordiv(a, b) * b; }

static int is_leap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

static int month_days(int64_t y, int m)
{
	static const int dm[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	return m == 2 && is_leap(y) ? 29 : dm[m - 1];
}

/* Days since 1970-01-01 of a proleptic Gregorian date: years counted in
 * 400-year eras of 146097 days, each year starting on March 1 so that the
 * leap day falls at its end. */
static int64_t days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = floordiv(y, 400);
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static int64_t year_of_day(int64_t days)
{
	int64_t y = 1970 + floordiv(days * 400, 146097);

	while (days_from_civil(y, 1, 1) > days)
		y--;
	while (days_from_civil(y + 1, 1, 1) <= days)
		y++;
	return y;
}

static int64_t rule_day(const struct rule *r, int64_t y)
{
	int64_t jan1 = days_from_civil(y, 1, 1), first, day;

	switch (r->kind) {
	case 'J':
		return jan1 + r->a - 1 + (is_leap(y) && r->a >= 60);
	case 'D':
		return jan1 + r->a;
	default:
		first = days_from_civil(y, r->a, 1);
		/* 1970-01-01 was a Thursday (4) */
		day = first + floormod(r->c - floormod(first + 4, 7), 7) + 7 * (r->b - 1);
		if (day >= first + month_days(y, r->a))
			day -= 7;       /* week 5: the last such weekday */
		return day;
	}
}

/* The footer's rules at t: the change most recently before t decides.
 * Changes of the years around t's are enough: a rule time shifts a change
 * by at most 167 h and an offset by about a day, so the changes of t's
 * year - 2 all lie before t and those of its year + 2 all after. */
static void footer_at(const struct vgl_tz *z, int64_t t, int32_t *utoff, int *isdst, int64_t *next)
{
	int64_t y, best = 0, nx = INT64_MAX;
	int have = 0, best_dst = 0;

	if (!z->has_dst) {
		*utoff = z->std_off;
		*isdst = 0;
		*next = INT64_MAX;
		return;
	}
	y = year_of_day(floordiv(t, 86400));
	for (int64_t yy = y - 2; yy <= y + 2; yy++) {
		for (int k = 0; k < 2; k++) {
			const struct rule *r = &z->rule[k];
			int64_t at = rule_day(r, yy) * 86400 + r->secs - (k == 0 ? z->std_off : z->dst_off);
			int into_dst = k == 0;

			/* On a tie DST wins: "0/0,J365/25" ends DST exactly
			 * when it starts again, which means DST all year. */
			if (at <= t) {
				if (!have || at > best || (at == best && into_dst)) {
					best = at;
					best_dst = into_dst;
					have = 1;
				}
			} else if (at < nx) {
				nx = at;
			}
		}
	}
	*isdst = best_dst;
	*utoff = best_dst ? z->dst_off : z->std_off;
	*next = nx;
}

/* The offset in force at t and when it next may change (INT64_MAX: never).
 * RFC 8536: type 0 before the first transition; the footer, if nonempty,
 * after the last one (and everywhere when there are none), else the last
 * transition's type. */
static void lookup(const struct vgl_tz *z, int64_t t, int32_t *utoff, int *isdst, int64_t *next)
{
	size_t n = z->n_trans, ty;

	if (n == 0 || t >= z->trans[n - 1]) {
		if (z->footer) {
			footer_at(z, t, utoff, isdst, next);
			return;
		}
		ty = n ? z->trans_type[n - 1] : 0;
		*next = INT64_MAX;
	} else if (t < z->trans[0]) {
		ty = 0;
		*next = z->trans[0];
	} else {
		size_t lo = 0, hi = n - 1;      /* trans[lo] <= t < trans[hi] */

		while (hi - lo > 1) {
			size_t mid = lo + (hi - lo) / 2;

			if (z->trans[mid] <= t)
				lo = mid;
			else
				hi = mid;
		}
		ty = z->trans_type[lo];
		*next = z->trans[hi];
	}
	*utoff = z->utoff[ty];
	*isdst = z->isdst[ty];
}

void vgl_tz_at(const struct vgl_tz *z, int64_t t, int32_t *utoff, int *isdst)
{
	int64_t next;

	t = t < -T_CLAMP ? -T_CLAMP : t > T_CLAMP ? T_CLAMP : t;
	lookup(z, t, utoff, isdst, &next);
}

/* The least t with t + utoff(t) >= L, L the local date's midnight counted
 * as if in UTC. Walking the spans of constant offset in time order, the
 * first span that holds such a t holds the least one. Before L - UTOFF_MAX
 * no offset reaches L; from L - UTOFF_MIN every offset does: the walk ends
 * inside that window, after as many steps as it holds changes. */
int64_t vgl_tz_day_start(const struct vgl_tz *z, int y, int m, int d)
{
	int64_t l = days_from_civil(y, m, d) * 86400;
	int64_t t = l - UTOFF_MAX - 1;

	for (;;) {
		int64_t next, cand;
		int32_t off;
		int dst;

		lookup(z, t, &off, &dst, &next);
		cand = l - off > t ? l - off : t;
		if (cand < next)
			return cand;
		t = next;
	}
}
