/* Month bounds from the zone files themselves (sla/tzfile.c), checked
 * against glibc. The code under test never touches TZ; the reference side
 * here does (setenv + tzset + localtime_r), which is fine in the forked
 * test process and is exactly what the code under test must not do. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "sla/tzfile.h"
#include "test/unit/sla_util.h"

#define ZI "/usr/share/zoneinfo/"

static const char *const oracle_zones[] = {
	"UTC", "Etc/GMT+12", "Etc/GMT-14",
	"Europe/Berlin", "Europe/London", "Europe/Dublin", "Europe/Lisbon", "Europe/Moscow",
	"Europe/Kyiv", "Europe/Istanbul", "Europe/Chisinau", "Europe/Minsk",
	"America/New_York", "America/Chicago", "America/Denver", "America/Phoenix",
	"America/Los_Angeles", "America/Anchorage", "America/Adak", "America/St_Johns",
	"America/Halifax", "America/Havana", "America/Mexico_City", "America/Bahia_Banderas",
	"America/Caracas", "America/Bogota", "America/Sao_Paulo", "America/Campo_Grande",
	"America/Argentina/Buenos_Aires", "America/Asuncion", "America/Santiago",
	"America/Punta_Arenas", "America/Nuuk", "America/Scoresbysund", "America/Miquelon",
	"Atlantic/Azores", "Atlantic/Cape_Verde",
	"Africa/Casablanca", "Africa/El_Aaiun", "Africa/Cairo", "Africa/Juba", "Africa/Khartoum",
	"Africa/Windhoek", "Africa/Johannesburg", "Africa/Monrovia",
	"Asia/Beirut", "Asia/Damascus", "Asia/Amman", "Asia/Gaza", "Asia/Hebron", "Asia/Jerusalem",
	"Asia/Tehran", "Asia/Baku", "Asia/Kabul", "Asia/Karachi", "Asia/Kolkata", "Asia/Kathmandu",
	"Asia/Colombo", "Asia/Dhaka", "Asia/Yangon", "Asia/Ho_Chi_Minh", "Asia/Shanghai",
	"Asia/Pyongyang", "Asia/Tokyo", "Asia/Dili", "Asia/Manila", "Asia/Ulaanbaatar",
	"Australia/Lord_Howe", "Australia/Sydney", "Australia/Adelaide", "Australia/Eucla",
	"Australia/Perth",
	"Antarctica/Troll", "Antarctica/Macquarie", "Antarctica/Casey", "Antarctica/Vostok",
	"Pacific/Chatham", "Pacific/Auckland", "Pacific/Kiritimati", "Pacific/Apia",
	"Pacific/Tongatapu", "Pacific/Fiji", "Pacific/Norfolk", "Pacific/Easter",
	"Pacific/Marquesas", "Pacific/Honolulu", "Pacific/Pago_Pago", "Pacific/Kwajalein",
};
#define N_ORACLE (sizeof(oracle_zones) / sizeof(oracle_zones[0]))

/* ---- the reference: glibc under TZ ---- */

static void set_tz(const char *tz)
{
	ASSERT_EQ(setenv("TZ", tz, 1), 0);
	tzset();
}

static int64_t ref_key(int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;

	ASSERT(localtime_r(&tt, &tm) != NULL);
	return ((int64_t)tm.tm_year + 1900) * 10000 + (tm.tm_mon + 1) * 100 + tm.tm_mday;
}

/* The first UTC second whose local date (under the TZ in force) is y-m-d
 * or later. Local midnight lies within 26 h of UTC midnight; the scan
 * steps 15 minutes (post-1970 offsets do not change twice that fast) and
 * then bisects the step where the date turns. */
static int64_t ref_day_start(int y, int m, int d)
{
	struct tm u = { 0 };
	int64_t want = (int64_t)y * 10000 + m * 100 + d, l, lo, hi;

	u.tm_year = y - 1900;
	u.tm_mon = m - 1;
	u.tm_mday = d;
	l = (int64_t)timegm(&u);
	lo = l - 26 * 3600;
	ASSERT_LT(ref_key(lo), want);
	for (hi = lo + 900; ref_key(hi) < want; hi += 900) {
		lo = hi;
		ASSERT_LT(hi, l + 26 * 3600);
	}
	while (hi - lo > 1) {
		int64_t mid = lo + (hi - lo) / 2;

		if (ref_key(mid) >= want)
			hi = mid;
		else
			lo = mid;
	}
	return hi;
}

static void show(const char *what, const char *tz, int y, int m, int64_t got_ms, int64_t want_ms,
		 unsigned *bad)
{
	char a[VGL_ISO_LEN], b[VGL_ISO_LEN];

	if (got_ms == want_ms)
		return;
	if (++*bad <= 10)
		fprintf(stderr, "%s %s %04d-%02d: got %s, glibc %s\n", what, tz, y, m,
			vgl_format_iso(got_ms, a), vgl_format_iso(want_ms, b));
}

/* Every month of [y0, y1] in tz (and, with every_k > 1, only every k-th
 * year after the first), through the public API. Months checked are added
 * to *months; mismatches to *bad. */
static void oracle_zone(const char *tz, int y0, int y1, int every_k, unsigned *months, unsigned *bad)
{
	int64_t ref_s = 0;
	int have_ref = 0;

	set_tz(tz);
	for (int y = y0; y <= y1; y += every_k) {
		have_ref = have_ref && every_k == 1;
		for (int m = 1; m <= 12; m++) {
			int64_t s, e, ref_e;

			if (!have_ref)
				ref_s = ref_day_start(y, m, 1);
			ref_e = ref_day_start(m == 12 ? y + 1 : y, m == 12 ? 1 : m + 1, 1);
			if (vgl_sla_month_bounds(tz, y, m, &s, &e) != 0) {
				if (++*bad <= 10)
					fprintf(stderr, "%s %04d-%02d: refused\n", tz, y, m);
				continue;
			}
			show("start", tz, y, m, s, ref_s * 1000, bad);
			show("end", tz, y, m, e, ref_e * 1000, bad);
			ref_s = ref_e;
			have_ref = 1;
			++*months;
		}
	}
}

/* The offset and isdst at instants spread over [t0, t1), against glibc's
 * tm_gmtoff and tm_isdst: this checks the transitions and the footer
 * between the month starts too. */
static void oracle_at(const char *tz, const struct vgl_tz *z, int64_t t0, int64_t t1, int64_t step,
		      unsigned *n, unsigned *bad)
{
	set_tz(tz);
	for (int64_t t = t0; t < t1; t += step) {
		time_t tt = (time_t)t;
		struct tm tm;
		int32_t off;
		int dst;

		ASSERT(localtime_r(&tt, &tm) != NULL);
		vgl_tz_at(z, t, &off, &dst);
		++*n;
		if (off != tm.tm_gmtoff || dst != (tm.tm_isdst > 0)) {
			if (++*bad <= 10)
				fprintf(stderr, "%s at %" PRId64 ": offset %d isdst %d, glibc %ld %d\n", tz,
					t, off, dst, tm.tm_gmtoff, tm.tm_isdst);
		}
	}
}

#define T1970 0LL
#define T2101 4133980800LL      /* 2101-01-01T00:00Z */
#define T10000 253402300800LL   /* 10000-01-01T00:00Z */

TEST(sla_tz_oracle_zones_1970_2100)
{
	unsigned months = 0, bad = 0;

	for (size_t i = 0; i < N_ORACLE; i++)
		oracle_zone(oracle_zones[i], 1970, 2100, 1, &months, &bad);
	printf("# tz oracle: %zu zones, %u months 1970-01..2100-12, %u mismatches\n", N_ORACLE,
	       months, bad);
	ASSERT_EQ(months, N_ORACLE * 131 * 12);
	ASSERT_EQ(bad, 0);
}

/* Past 2037 every zone runs on its footer rule alone: years up to 9999 */
TEST(sla_tz_oracle_zones_far_future)
{
	unsigned months = 0, bad = 0;

	for (size_t i = 0; i < N_ORACLE; i++) {
		oracle_zone(oracle_zones[i], 2101, 9999, 97, &months, &bad);
		oracle_zone(oracle_zones[i], 9999, 9999, 1, &months, &bad);
	}
	printf("# tz oracle: %zu zones, %u months 2101..9999 (every 97th year), %u mismatches\n",
	       N_ORACLE, months, bad);
	ASSERT_EQ(bad, 0);
}

TEST(sla_tz_oracle_offsets)
{
	unsigned n = 0, bad = 0;

	for (size_t i = 0; i < N_ORACLE; i++) {
		char path[256];
		struct vgl_tz *z;

		snprintf(path, sizeof(path), ZI "%s", oracle_zones[i]);
		ASSERT_EQ(vgl_tz_load(path, &z), 0);
		/* odd steps, so the instants wander over the time of day */
		oracle_at(oracle_zones[i], z, T1970 - 86400, T2101, 7 * 86400 + 3607, &n, &bad);
		oracle_at(oracle_zones[i], z, T2101, T10000, 101 * 86400 + 3607, &n, &bad);
		vgl_tz_free(z);
	}
	printf("# tz oracle: %u offsets checked, %u mismatches\n", n, bad);
	ASSERT_EQ(bad, 0);
}

/* Every zone tzdata defines ("Z" lines of tzdata.zi), when asked for:
 * VGL_TZ_ORACLE_ALL=1 test/unit sla_tz_oracle_all (tens of seconds). */
TEST(sla_tz_oracle_all_zones_on_request)
{
	unsigned zones = 0, months = 0, bad = 0;
	char line[512], name[256];
	FILE *f;

	if (!getenv("VGL_TZ_ORACLE_ALL"))
		return;
	f = fopen(ZI "tzdata.zi", "r");
	ASSERT(f != NULL);
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "Z %255s", name) != 1)
			continue;
		oracle_zone(name, 1970, 2100, 1, &months, &bad);
		zones++;
	}
	ASSERT_EQ(fclose(f), 0);
	printf("# tz oracle: all %u zones, %u months 1970-01..2100-12, %u mismatches\n", zones, months,
	       bad);
	ASSERT_GT(zones, 300);
	ASSERT_EQ(bad, 0);
}

/* ---- footer rules, each against glibc reading the same string as TZ ---- */

struct tzb {
	unsigned char b[4096];
	size_t n;
};

static void put32(struct tzb *t, uint32_t v)
{
	ASSERT(t->n + 4 <= sizeof(t->b));
	for (int i = 3; i >= 0; i--)
		t->b[t->n++] = (unsigned char)(v >> (8 * i));
}

static void put64(struct tzb *t, int64_t v)
{
	put32(t, (uint32_t)((uint64_t)v >> 32));
	put32(t, (uint32_t)(uint64_t)v);
}

static void put8(struct tzb *t, unsigned v)
{
	ASSERT(t->n < sizeof(t->b));
	t->b[t->n++] = (unsigned char)v;
}

static void put_hdr(struct tzb *t, char ver, uint32_t timecnt, uint32_t typecnt, uint32_t charcnt)
{
	memcpy(t->b + t->n, "TZif", 4);
	t->n += 4;
	put8(t, (unsigned char)ver);
	memset(t->b + t->n, 0, 15);
	t->n += 15;
	put32(t, 0);            /* isut */
	put32(t, 0);            /* isstd */
	put32(t, 0);            /* leap */
	put32(t, timecnt);
	put32(t, typecnt);
	put32(t, charcnt);
}

/* A v3 file as zic -b slim writes one: a stub v1 block, then the 64-bit
 * block with the given transitions and types (offset, isdst), then the
 * footer. Designations are one "X". */
static void build(struct tzb *t, const int64_t *trans, const uint8_t *idx, size_t nt,
		  const int32_t *off, const uint8_t *dst, size_t ny, const char *footer)
{
	t->n = 0;
	put_hdr(t, '3', 0, 1, 1);
	put32(t, 0);
	put8(t, 0);
	put8(t, 0);
	put8(t, 0);
	put_hdr(t, '3', (uint32_t)nt, (uint32_t)ny, 2);
	for (size_t i = 0; i < nt; i++)
		put64(t, trans[i]);
	for (size_t i = 0; i < nt; i++)
		put8(t, idx[i]);
	for (size_t i = 0; i < ny; i++) {
		put32(t, (uint32_t)off[i]);
		put8(t, dst[i]);
		put8(t, 0);
	}
	put8(t, 'X');
	put8(t, 0);
	put8(t, '\n');
	ASSERT(t->n + strlen(footer) + 1 <= sizeof(t->b));
	memcpy(t->b + t->n, footer, strlen(footer));
	t->n += strlen(footer);
	put8(t, '\n');
}

/* a zone that is its footer rule at all times */
static struct vgl_tz *footer_zone(const char *footer)
{
	static const int32_t off[] = { 0 };
	static const uint8_t dst[] = { 0 };
	struct vgl_tz *z = NULL;
	struct tzb t;

	build(&t, NULL, NULL, 0, off, dst, 1, footer);
	if (vgl_tz_parse(t.b, t.n, &z) != 0)
		fprintf(stderr, "footer \"%s\" refused\n", footer);
	ASSERT(z != NULL);
	return z;
}

TEST(sla_tz_footer_rules_against_glibc)
{
	/* the forms zic writes, and the rest of POSIX and RFC 8536 v3 */
	static const char *const rules[] = {
		"CET-1CEST,M3.5.0,M10.5.0/3",
		"EST5EDT,M3.2.0,M11.1.0",
		"<+07>-7",
		"<-0930>9:30",
		"CST5CDT,M3.2.0/0,M11.1.0/1",                   /* Havana: at midnight */
		"<-04>4<-03>,M9.1.6/24,M4.1.6/24",              /* Santiago: 24 h */
		"EET-2EEST,M3.4.4/50,M10.4.4/50",               /* Gaza: 50 h */
		"IST-2IDT,M3.4.4/26,M10.5.0",
		"<-02>2<-01>,M3.5.0/-1,M10.5.0/0",              /* Nuuk: negative */
		"IST-1GMT0,M10.5.0,M3.5.0/1",                   /* Dublin: negative DST */
		"<+1245>-12:45<+1345>,M9.5.0/2:45,M4.1.0/3:45", /* Chatham */
		"<+1030>-10:30<+11>-11,M10.1.0,M4.1.0",         /* Lord Howe: 30 min DST */
		"AAA-10BBB,M10.1.0,M4.1.0/3",
		"AAA3BBB,M3.2.0,M11.1.0",                       /* DST offset implied */
		"AAA+3BBB+2,M3.2.0/-2,M11.1.0/-1:30",           /* signed offsets, minutes */
		"AAA-4:30:15BBB-5:15:30,M3.1.0/1:02:03,M9.4.6/23:59:59",
		"AAA-9BBB,M4.1.0/100,M10.1.0/167",              /* v3: up to 167 h */
		"AAA-9BBB,M4.1.0/-100,M10.1.0/-167",
		"AAA3BBB,J60/2,J300/2",                         /* Jn: Feb 29 not counted */
		"AAA-5:30BBB-6,J2/0,J364/23",
		"AAA5BBB,J1/12,J365/12",
		"AAA3BBB,59,299",                               /* n: Feb 29 counted */
		"AAA-3BBB,0/3,364/1",
		"AAA5BBB,J91/0,J305/1",         /* DST at 00:00 on Apr 1, back at 01:00 on Nov 1 */
		"AAA5BBB,J91/0,J305/0:30",      /* back across midnight on Nov 1 */
		"AAA-1BBB,M3.5.0,M10.5.0/3",
		"<+00>0<+02>-2,M3.5.0/1,M10.5.0/3",             /* Troll: 2 h DST */
		"<-01>1<+00>,M3.5.0/0,M10.5.0/1",               /* Scoresbysund */
	};
	unsigned months = 0, offsets = 0, bad = 0;

	for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
		struct vgl_tz *z = footer_zone(rules[i]);
		int64_t ref_s = 0;

		set_tz(rules[i]);
		for (int y = 1970; y <= 2100; y++) {
			for (int m = 1; m <= 12; m++) {
				int64_t s = vgl_tz_day_start(z, y, m, 1);

				if (y == 1970 && m == 1)
					ref_s = ref_day_start(y, m, 1);
				show("start", rules[i], y, m, s * 1000, ref_s * 1000, &bad);
				ref_s = ref_day_start(m == 12 ? y + 1 : y, m == 12 ? 1 : m + 1, 1);
				months++;
			}
		}
		oracle_at(rules[i], z, T1970, T2101, 3 * 86400 + 1799, &offsets, &bad);
		oracle_at(rules[i], z, T2101, T10000, 199 * 86400 + 1799, &offsets, &bad);
		vgl_tz_free(z);
	}
	printf("# tz footer oracle: %zu rules, %u months, %u offsets, %u mismatches\n",
	       sizeof(rules) / sizeof(rules[0]), months, offsets, bad);
	ASSERT_EQ(bad, 0);
}

/* Rules whose changes cross New Year. glibc evaluates a footer with the
 * changes of the instant's UTC year only, so near New Year it applies the
 * wrong year's change; here the change most recently before the instant
 * decides, whichever year it belongs to. Hand values. */
TEST(sla_tz_footer_rules_across_new_year)
{
	struct vgl_tz *z;
	int32_t off;
	int dst;

	/* day 365 of a common year is January 1 of the next */
	z = footer_zone("AAA3BBB,10,365");
	ASSERT_EQ(vgl_tz_day_start(z, 1975, 1, 1) * 1000, T("1975-01-01T02:00:00Z"));
	ASSERT_EQ(vgl_tz_day_start(z, 1977, 1, 1) * 1000, T("1977-01-01T03:00:00Z"));
	vgl_tz_free(z);
	/* DST from January 1 00:00 (+05:30) to December 31 23:00 (+06) */
	z = footer_zone("AAA-5:30BBB-6,J1/0,J365/23");
	vgl_tz_at(z, T("2025-12-31T16:59:59Z") / 1000, &off, &dst);
	ASSERT_EQ(off, 6 * 3600);
	vgl_tz_at(z, T("2025-12-31T17:30:00Z") / 1000, &off, &dst);
	ASSERT_EQ(off, 5 * 3600 + 1800);
	ASSERT_EQ(dst, 0);
	vgl_tz_at(z, T("2025-12-31T20:00:00Z") / 1000, &off, &dst);
	ASSERT_EQ(off, 6 * 3600);
	ASSERT_EQ(dst, 1);
	ASSERT_EQ(vgl_tz_day_start(z, 2026, 1, 1) * 1000, T("2025-12-31T18:30:00Z"));
	ASSERT_EQ(vgl_tz_day_start(z, 2026, 2, 1) * 1000, T("2026-01-31T18:00:00Z"));
	vgl_tz_free(z);
	/* permanent DST as zic once wrote it: DST ends as it starts again */
	z = footer_zone("EST5EDT,0/0,J365/25");
	for (int y = 1970; y <= 2100; y++) {
		for (int m = 1; m <= 12; m++) {
			struct tm u = { .tm_year = y - 1900, .tm_mon = m - 1, .tm_mday = 1 };
			int64_t l = (int64_t)timegm(&u);

			ASSERT_EQ(vgl_tz_day_start(z, y, m, 1), l + 4 * 3600);
			vgl_tz_at(z, l + 5 * 3600, &off, &dst);
			ASSERT_EQ(off, -4 * 3600);
			ASSERT_EQ(dst, 1);
		}
	}
	vgl_tz_free(z);
}

/* The cases that motivate the rules: where midnight of the 1st is skipped
 * the month starts when the day does; where it occurs twice, at the first.
 * Expected values from Python's zoneinfo, an independent reader. */
TEST(sla_tz_hand_cases)
{
	static const struct {
		const char *tz;
		int y, m;
		const char *start, *end;
		int64_t len;
	} cases[] = {
		/* docs/sla.md "The month" */
		{ "UTC", 2026, 11, "2026-11-01T00:00:00Z", "2026-12-01T00:00:00Z", 30 * D },
		{ "Europe/Berlin", 2026, 3, "2026-02-28T23:00:00Z", "2026-03-31T22:00:00Z", 31 * D - H },
		{ "Europe/Berlin", 2026, 10, "2026-09-30T22:00:00Z", "2026-10-31T23:00:00Z", 31 * D + H },
		{ "America/New_York", 2026, 11, "2026-11-01T04:00:00Z", "2026-12-01T05:00:00Z", 30 * D + H },
		{ "Asia/Ho_Chi_Minh", 2026, 11, "2026-10-31T17:00:00Z", "2026-11-30T17:00:00Z", 30 * D },
		{ "Pacific/Kiritimati", 2026, 1, "2025-12-31T10:00:00Z", "2026-01-31T10:00:00Z", 31 * D },
		/* 2012-04-01 00:00 CST did not exist: the day began at 01:00 CDT */
		{ "America/Havana", 2012, 3, "2012-03-01T05:00:00Z", "2012-04-01T05:00:00Z", 31 * D },
		{ "America/Havana", 2012, 4, "2012-04-01T05:00:00Z", "2012-05-01T04:00:00Z", 30 * D - H },
		/* 2026-11-01 01:00 CDT -> 00:00 CST: the first midnight (CDT) */
		{ "America/Havana", 2026, 10, "2026-10-01T04:00:00Z", "2026-11-01T04:00:00Z", 31 * D },
		{ "America/Havana", 2026, 11, "2026-11-01T04:00:00Z", "2026-12-01T05:00:00Z", 30 * D + H },
		{ "Asia/Beirut", 1985, 5, "1985-04-30T22:00:00Z", "1985-05-31T21:00:00Z", 31 * D - H },
		{ "Africa/Cairo", 2014, 8, "2014-07-31T22:00:00Z", "2014-08-31T21:00:00Z", 31 * D - H },
		{ "Africa/Casablanca", 2008, 6, "2008-06-01T00:00:00Z", "2008-06-30T23:00:00Z", 30 * D - H },
		/* Samoa skipped 2011-12-30 */
		{ "Pacific/Apia", 2011, 12, "2011-12-01T10:00:00Z", "2011-12-31T10:00:00Z", 30 * D },
		{ "Asia/Kathmandu", 1986, 1, "1985-12-31T18:30:00Z", "1986-01-31T18:15:00Z", 31 * D - 15 * MIN },
		{ "Australia/Lord_Howe", 2026, 4, "2026-03-31T13:00:00Z", "2026-04-30T13:30:00Z", 30 * D + 30 * MIN },
		{ "Pacific/Chatham", 2026, 9, "2026-08-31T11:15:00Z", "2026-09-30T10:15:00Z", 30 * D - H },
		{ "Antarctica/Troll", 2026, 3, "2026-03-01T00:00:00Z", "2026-03-31T22:00:00Z", 31 * D - 2 * H },
		{ "America/Santiago", 2026, 4, "2026-04-01T03:00:00Z", "2026-05-01T04:00:00Z", 30 * D + H },
		{ "Asia/Tehran", 2021, 3, "2021-02-28T20:30:00Z", "2021-03-31T19:30:00Z", 31 * D - H },
		{ "Asia/Tehran", 2026, 3, "2026-02-28T20:30:00Z", "2026-03-31T20:30:00Z", 31 * D },
		/* the footer carries the rules to the last year vigil takes */
		{ "Europe/Berlin", 9998, 3, "9998-02-28T23:00:00Z", "9998-03-31T22:00:00Z", 31 * D - H },
		{ "America/New_York", 9998, 11, "9998-11-01T04:00:00Z", "9998-12-01T05:00:00Z", 30 * D + H },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int64_t s = 0, e = 0;

		ASSERT_EQ(vgl_sla_month_bounds(cases[i].tz, cases[i].y, cases[i].m, &s, &e), 0);
		if (s != T(cases[i].start) || e != T(cases[i].end))
			fprintf(stderr, "case %zu (%s %d-%02d)\n", i, cases[i].tz, cases[i].y, cases[i].m);
		ASSERT_EQ(s, T(cases[i].start));
		ASSERT_EQ(e, T(cases[i].end));
		ASSERT_EQ(e - s, cases[i].len);
	}
}

TEST(sla_tz_names)
{
	/* a regular file under the zone directory, but no zone: once glibc's UTC */
	ASSERT_EQ(vgl_sla_tz_valid("leapseconds"), 0);
	/* leap-second time scale: not vigil's */
	ASSERT_EQ(vgl_sla_tz_valid("right/Europe/Berlin"), 0);
	ASSERT_EQ(vgl_sla_tz_valid("Etc"), 0);
	ASSERT_EQ(vgl_sla_tz_valid("Europe/Berlin/"), 0);
	ASSERT_EQ(vgl_sla_tz_valid("Europe/./Berlin"), 0);
	ASSERT_EQ(vgl_sla_tz_valid("Europe//Berlin"), 1);      /* the same file */
	ASSERT_EQ(vgl_sla_tz_valid("UTC"), 1);
	ASSERT_EQ(vgl_sla_tz_valid("America/Argentina/Buenos_Aires"), 1);
	ASSERT_EQ(vgl_sla_tz_valid("Etc/GMT+5"), 1);
	ASSERT_EQ(vgl_sla_tz_valid("Etc/GMT-14"), 1);
	ASSERT_EQ(vgl_sla_month_bounds("leapseconds", 2026, 11, &(int64_t){ 0 }, &(int64_t){ 0 }), -1);
	/* months outside 1970..9999 */
	ASSERT_EQ(vgl_sla_month_bounds("UTC", 1969, 12, &(int64_t){ 0 }, &(int64_t){ 0 }), -1);
	ASSERT_EQ(vgl_sla_month_bounds("UTC", 10000, 1, &(int64_t){ 0 }, &(int64_t){ 0 }), -1);
}

/* ---- threads ---- */

#define TH_N 6
#define TH_YEARS 40
static const char *const th_zones[TH_N][2] = {
	{ "Europe/Berlin", "America/Havana" }, { "America/New_York", "Asia/Beirut" },
	{ "Asia/Kathmandu", "Pacific/Chatham" }, { "Australia/Lord_Howe", "America/Santiago" },
	{ "Asia/Tehran", "Pacific/Apia" }, { "Africa/Casablanca", "Antarctica/Troll" },
};
/* [thread][zone][month] as computed before any thread starts */
static int64_t th_want[TH_N][2][TH_YEARS * 12][2];
static atomic_int th_stop;

struct th_res {
	int idx;
	unsigned calls, bad;
};

static void *th_bounds(void *arg)
{
	struct th_res *r = arg;

	for (int round = 0; round < 6; round++) {
		for (int k = 0; k < TH_YEARS * 12; k++) {
			/* alternating zones: 12 zones over 8 cache slots keeps the
			 * zone cache evicting and reloading under contention */
			int zi = (k + round) & 1;
			int64_t s, e;

			if (vgl_sla_month_bounds(th_zones[r->idx][zi], 2000 + k / 12, k % 12 + 1, &s, &e) != 0 ||
			    s != th_want[r->idx][zi][k][0] || e != th_want[r->idx][zi][k][1])
				r->bad++;
			if (!vgl_sla_tz_valid(th_zones[r->idx][zi]))
				r->bad++;
			r->calls++;
		}
	}
	return NULL;
}

/* What the old mktime code broke: TZ is Asia/Tokyo all along, and a thread
 * reading local time must see Tokyo however many month bounds of other
 * zones are computed meanwhile. */
static void *th_localtime(void *arg)
{
	struct th_res *r = arg;
	time_t t = 1780000000;

	while (!th_stop) {
		struct tm tm;

		if (!localtime_r(&t, &tm) || tm.tm_gmtoff != 9 * 3600)
			r->bad++;
		r->calls++;
		t += 3607;
	}
	return NULL;
}

TEST(sla_tz_threads)
{
	pthread_t th[TH_N], lt;
	struct th_res res[TH_N], lres = { 0, 0, 0 };

	for (int i = 0; i < TH_N; i++) {
		for (int zi = 0; zi < 2; zi++) {
			for (int k = 0; k < TH_YEARS * 12; k++) {
				int64_t *w = th_want[i][zi][k];

				ASSERT_EQ(vgl_sla_month_bounds(th_zones[i][zi], 2000 + k / 12, k % 12 + 1,
							       &w[0], &w[1]), 0);
			}
		}
	}
	set_tz("Asia/Tokyo");
	ASSERT_EQ(pthread_create(&lt, NULL, th_localtime, &lres), 0);
	for (int i = 0; i < TH_N; i++) {
		res[i] = (struct th_res){ i, 0, 0 };
		ASSERT_EQ(pthread_create(&th[i], NULL, th_bounds, &res[i]), 0);
	}
	for (int i = 0; i < TH_N; i++)
		ASSERT_EQ(pthread_join(th[i], NULL), 0);
	th_stop = 1;
	ASSERT_EQ(pthread_join(lt, NULL), 0);
	for (int i = 0; i < TH_N; i++) {
		ASSERT_EQ(res[i].bad, 0);
		ASSERT_EQ(res[i].calls, 6 * TH_YEARS * 12);
	}
	ASSERT_EQ(lres.bad, 0);
	ASSERT_GT(lres.calls, 0);
	ASSERT_STREQ(getenv("TZ"), "Asia/Tokyo");
}

/* ---- hostile files ---- */

static size_t slurp(const char *path, unsigned char *buf, size_t cap)
{
	FILE *f = fopen(path, "rb");
	size_t n;

	ASSERT(f != NULL);
	n = fread(buf, 1, cap, f);
	ASSERT(n > 0 && n < cap);
	ASSERT_EQ(fclose(f), 0);
	return n;
}

static int parses(const void *b, size_t n)
{
	struct vgl_tz *z = NULL;
	int rc = vgl_tz_parse(b, n, &z);

	ASSERT((rc == 0) == (z != NULL));
	vgl_tz_free(z);
	return rc == 0;
}

TEST(sla_tz_truncated_and_bad_magic_refused)
{
	static unsigned char buf[65536], cp[65536];
	size_t n = slurp(ZI "Europe/Berlin", buf, sizeof(buf));

	ASSERT(parses(buf, n));
	/* every strict prefix: each cuts a block, a count or the footer */
	for (size_t k = 0; k < n; k++) {
		unsigned char *p = malloc(k ? k : 1);  /* exact size: ASan sees any overread */

		ASSERT(p != NULL);
		memcpy(p, buf, k);
		if (parses(p, k))
			fprintf(stderr, "prefix of %zu bytes accepted\n", k);
		ASSERT(!parses(p, k));
		free(p);
	}
	memcpy(cp, buf, n);
	cp[0] = 'X';
	ASSERT(!parses(cp, n));
	memcpy(cp, buf, n);
	cp[4] = '1';                    /* no such version */
	ASSERT(!parses(cp, n));
	memcpy(cp, buf, n);
	cp[4] = '5';
	ASSERT(!parses(cp, n));
	/* bytes after the footer */
	memcpy(cp, buf, n);
	cp[n] = 'x';
	ASSERT(!parses(cp, n + 1));
	ASSERT(!parses(NULL, 0));
}

TEST(sla_tz_huge_counts_refused)
{
	static const int32_t off[] = { 3600, 7200 };
	static const uint8_t dst[] = { 0, 1 };
	static const int64_t tr[] = { 0, 1000 };
	static const uint8_t ix[] = { 0, 1 };
	struct tzb t;

	build(&t, tr, ix, 2, off, dst, 2, "");
	ASSERT(parses(t.b, t.n));
	/* each count of the v2 header (offset 51 + 20..43) set huge, and the
	 * v1 header's timecnt */
	for (size_t field = 0; field < 6; field++) {
		struct tzb c = t;
		size_t at = 51 + 20 + 4 * field;

		for (int i = 0; i < 4; i++)
			c.b[at + i] = 0xff;
		ASSERT(!parses(c.b, c.n));
		c = t;
		c.b[at + 3] += 1;       /* off by one */
		ASSERT(!parses(c.b, c.n));
	}
	{
		struct tzb c = t;

		memset(c.b + 32, 0xff, 4);
		ASSERT(!parses(c.b, c.n));
	}
	/* a buffer over the 1 MiB bound is refused before it is read */
	{
		unsigned char *big = calloc(1, VGL_TZ_MAX_FILE + 1);

		ASSERT(big != NULL);
		memcpy(big, t.b, t.n);
		ASSERT(!parses(big, VGL_TZ_MAX_FILE + 1));
		free(big);
	}
}

TEST(sla_tz_bad_tables_refused)
{
	static const int32_t off[] = { 3600, 7200 };
	static const uint8_t dst[] = { 0, 1 };
	struct tzb t;

	build(&t, (int64_t[]){ 0, 1000 }, (uint8_t[]){ 0, 1 }, 2, off, dst, 2, "");
	ASSERT(parses(t.b, t.n));
	/* type index out of range */
	build(&t, (int64_t[]){ 0, 1000 }, (uint8_t[]){ 0, 2 }, 2, off, dst, 2, "");
	ASSERT(!parses(t.b, t.n));
	/* transitions not ascending, or repeated */
	build(&t, (int64_t[]){ 1000, 0 }, (uint8_t[]){ 0, 1 }, 2, off, dst, 2, "");
	ASSERT(!parses(t.b, t.n));
	build(&t, (int64_t[]){ 1000, 1000 }, (uint8_t[]){ 0, 1 }, 2, off, dst, 2, "");
	ASSERT(!parses(t.b, t.n));
	/* no types at all */
	build(&t, NULL, NULL, 0, off, dst, 0, "");
	ASSERT(!parses(t.b, t.n));
	/* offsets beyond about a day, and -2^31 */
	build(&t, NULL, NULL, 0, (int32_t[]){ 100000 }, dst, 1, "");
	ASSERT(!parses(t.b, t.n));
	build(&t, NULL, NULL, 0, (int32_t[]){ INT32_MIN }, dst, 1, "");
	ASSERT(!parses(t.b, t.n));
	/* isdst not a boolean */
	build(&t, NULL, NULL, 0, off, (uint8_t[]){ 2 }, 1, "");
	ASSERT(!parses(t.b, t.n));
	/* designation index past the strings (byte 5 of the type record) */
	build(&t, NULL, NULL, 0, off, dst, 1, "");
	ASSERT(parses(t.b, t.n));
	t.b[51 + 44 + 5] = 2;
	ASSERT(!parses(t.b, t.n));
	/* designations not NUL-terminated */
	build(&t, NULL, NULL, 0, off, dst, 1, "");
	t.b[51 + 44 + 6 + 1] = 'Y';
	ASSERT(!parses(t.b, t.n));
	/* leap seconds: a one-record table, sizes consistent */
	{
		struct tzb c;

		build(&c, NULL, NULL, 0, off, dst, 1, "");
		c.n = 51;
		put_hdr(&c, '3', 0, 1, 2);
		c.b[51 + 31] = 1;       /* leapcnt = 1 */
		put32(&c, 3600);
		put8(&c, 0);
		put8(&c, 0);
		put8(&c, 'X');
		put8(&c, 0);
		put64(&c, 78796800);
		put32(&c, 1);
		put8(&c, '\n');
		put8(&c, '\n');
		ASSERT(!parses(c.b, c.n));
	}
}

TEST(sla_tz_bad_footers_refused)
{
	static const char *const bad[] = {
		"garbage", "CET", "CET-1CEST", "CET-1CEST,M3.5.0", "CET-1CEST,M3.5.0,",
		"CET-1CEST,M13.5.0,M10.5.0", "CET-1CEST,M3.6.0,M10.5.0", "CET-1CEST,M3.5.7,M10.5.0",
		"CET-1CEST,M3.0.0,M10.5.0", "CET-1CEST,J0,J100", "CET-1CEST,J366,J100",
		"CET-1CEST,366,100", "CET-1CEST,M3.5.0/168,M10.5.0", "CET-1CEST,M3.5.0/-168,M10.5.0",
		"CET-1CEST,M3.5.0/2:60,M10.5.0", "CET-25", "CET-1CEST-25,M3.5.0,M10.5.0",
		"CE-1", "<CE>-1", "<+07-7", "<+07>", "<+07>-7x", "CET-1CEST,M3.5.0,M10.5.0/3x",
		"CET-1:", "CET-1::00", "CET-1CEST,M3.5.0,M10.5.0,M11.1.0", "CET-1 CEST",
		"CET-1CEST,M3.5.0,M10.5.0\n",
	};
	static const int32_t off[] = { 3600 };
	static const uint8_t dst[] = { 0 };
	struct tzb t;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		build(&t, NULL, NULL, 0, off, dst, 1, bad[i]);
		if (parses(t.b, t.n))
			fprintf(stderr, "footer \"%s\" accepted\n", bad[i]);
		ASSERT(!parses(t.b, t.n));
	}
	/* a NUL inside, a missing final newline, too long */
	build(&t, NULL, NULL, 0, off, dst, 1, "CET-1");
	t.b[t.n - 2] = 0;
	ASSERT(!parses(t.b, t.n));
	build(&t, NULL, NULL, 0, off, dst, 1, "CET-1");
	ASSERT(!parses(t.b, t.n - 1));
	{
		char longer[400];

		memset(longer, 'A', sizeof(longer) - 3);
		memcpy(longer + sizeof(longer) - 3, "-1", 3);
		build(&t, NULL, NULL, 0, off, dst, 1, longer);
		ASSERT(!parses(t.b, t.n));
	}
	/* a v1 file has no footer, and uses its 32-bit block */
	{
		struct tzb c;

		c.n = 0;
		put_hdr(&c, 0, 1, 2, 2);
		put32(&c, (uint32_t)-100);
		put8(&c, 1);
		put32(&c, 3600);
		put8(&c, 0);
		put8(&c, 0);
		put32(&c, (uint32_t)-18000);
		put8(&c, 0);
		put8(&c, 0);
		put8(&c, 'X');
		put8(&c, 0);
		{
			struct vgl_tz *z;
			int32_t o;
			int d;

			ASSERT_EQ(vgl_tz_parse(c.b, c.n, &z), 0);
			vgl_tz_at(z, -101, &o, &d);
			ASSERT_EQ(o, 3600);
			vgl_tz_at(z, -100, &o, &d);
			ASSERT_EQ(o, -18000);
			vgl_tz_at(z, (int64_t)1 << 40, &o, &d);
			ASSERT_EQ(o, -18000);   /* after the last transition: its type */
			vgl_tz_free(z);
		}
		put8(&c, '\n');
		ASSERT(!parses(c.b, c.n));      /* trailing bytes */
	}
}

TEST(sla_tz_files_refused)
{
	char path[512];
	FILE *f;
	struct vgl_tz *z;

	/* larger than 1 MiB, though it starts like a zone file */
	snprintf(path, sizeof(path), "%s/big", vgl_test_tmpdir());
	f = fopen(path, "wb");
	ASSERT(f != NULL);
	ASSERT_EQ(fwrite("TZif2", 1, 5, f), 5);
	ASSERT_EQ(fseek(f, VGL_TZ_MAX_FILE, SEEK_SET), 0);
	ASSERT_EQ(fputc(0, f), 0);
	ASSERT_EQ(fclose(f), 0);
	errno = 0;
	ASSERT_EQ(vgl_tz_load(path, &z), -1);
	ASSERT_EQ(errno, EFBIG);
	ASSERT(z == NULL);
	/* a directory, a FIFO (must not block), nothing there */
	ASSERT_EQ(vgl_tz_load(ZI "Europe", &z), -1);
	snprintf(path, sizeof(path), "%s/fifo", vgl_test_tmpdir());
	ASSERT_EQ(mkfifo(path, 0600), 0);
	ASSERT_EQ(vgl_tz_load(path, &z), -1);
	ASSERT_EQ(vgl_tz_load(ZI "Mars/Olympus", &z), -1);
	ASSERT_EQ(errno, ENOENT);
	ASSERT_EQ(vgl_tz_load(ZI "leapseconds", &z), -1);
	ASSERT_EQ(vgl_tz_load(ZI "right/UTC", &z), -1);
	ASSERT_EQ(vgl_tz_load(ZI "UTC", &z), 0);
	vgl_tz_free(z);
}

/* Random damage to real files: refused or accepted, never a crash, an
 * overread (ASan) or a hang; what is accepted can be evaluated. */
TEST(sla_tz_mutations_never_crash)
{
	static const char *const files[] = { "Europe/Berlin", "America/Nuuk", "Asia/Gaza",
					     "Pacific/Apia", "UTC" };
	static unsigned char buf[65536];
	unsigned accepted = 0, tried = 0;
	uint64_t rng = 0x9e3779b97f4a7c15ull;

	for (size_t f = 0; f < sizeof(files) / sizeof(files[0]); f++) {
		char path[256];
		size_t n;

		snprintf(path, sizeof(path), ZI "%s", files[f]);
		n = slurp(path, buf, sizeof(buf));
		for (int iter = 0; iter < 4000; iter++) {
			unsigned char *p = malloc(n);
			struct vgl_tz *z;
			int flips;

			ASSERT(p != NULL);
			memcpy(p, buf, n);
			rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
			flips = 1 + (int)(rng % 4);
			for (int k = 0; k < flips; k++) {
				rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
				/* mostly the headers and the footer, where it matters */
				size_t at = (rng >> 8) % 3 == 0 ? (rng >> 16) % (n < 120 ? n : 120)
					  : (rng >> 8) % 3 == 1 ? n - 1 - (rng >> 16) % (n < 40 ? n : 40)
					  : (rng >> 16) % n;
				p[at] = (unsigned char)(rng >> 40);
			}
			tried++;
			if (vgl_tz_parse(p, n, &z) == 0) {
				accepted++;
				for (int y = 1970; y <= 9999; y += 1003)
					(void)vgl_tz_day_start(z, y, (int)(rng % 12) + 1, 1);
				vgl_tz_free(z);
			}
			free(p);
		}
	}
	printf("# tz mutations: %u tried, %u still parsed\n", tried, accepted);
}

/* ---- cost ---- */

static double now_us(void)
{
	struct timespec ts;

	ASSERT_EQ(clock_gettime(CLOCK_MONOTONIC, &ts), 0);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

/* Prints the cost per call; no assertion on it (machines differ). */
TEST(sla_tz_cost)
{
	const int n_cold = 2000, n_zone = 20000, n_hit = 1000000;
	double t0, cold, zone, hit, old;
	int64_t s, e, sum = 0;

	t0 = now_us();
	for (int i = 0; i < n_cold; i++) {
		struct vgl_tz *z;

		ASSERT_EQ(vgl_tz_load(ZI "Europe/Berlin", &z), 0);
		sum += vgl_tz_day_start(z, 2026, 3, 1) + vgl_tz_day_start(z, 2026, 4, 1);
		vgl_tz_free(z);
	}
	cold = (now_us() - t0) / n_cold;
	/* zone cached, month not: more months than the bounds cache holds */
	ASSERT_EQ(vgl_sla_month_bounds("Europe/Berlin", 2026, 3, &s, &e), 0);
	t0 = now_us();
	for (int i = 0; i < n_zone; i++) {
		ASSERT_EQ(vgl_sla_month_bounds("Europe/Berlin", 1970 + (i / 12) % 1000, i % 12 + 1, &s, &e), 0);
		sum += s;
	}
	zone = (now_us() - t0) / n_zone;
	t0 = now_us();
	for (int i = 0; i < n_hit; i++) {
		ASSERT_EQ(vgl_sla_month_bounds("Europe/Berlin", 2026, 3, &s, &e), 0);
		sum += s;
	}
	hit = (now_us() - t0) / n_hit;
	/* what it replaced: switch TZ, tzset, mktime twice, switch back */
	t0 = now_us();
	for (int i = 0; i < n_cold; i++) {
		struct tm tm = { .tm_year = 126, .tm_mon = 2, .tm_mday = 1, .tm_isdst = -1 };

		set_tz("Europe/Berlin");
		sum += mktime(&tm);
		tm = (struct tm){ .tm_year = 126, .tm_mon = 3, .tm_mday = 1, .tm_isdst = -1 };
		sum += mktime(&tm);
		set_tz("UTC");
	}
	old = (now_us() - t0) / n_cold;
	printf("# tz cost per call: cold (read + parse + 2 day starts) %.2f us, zone cached %.3f us, "
	       "bounds cached %.3f us; old TZ switch + mktime %.2f us (%" PRId64 ")\n",
	       cold, zone, hit, old, sum & 1);
}
