/* The SLA core against hand-computed cases (docs/sla.md shows the
 * arithmetic of the first ones). */
#include <errno.h>

#include "core/vtime.h"
#include "sla/sla.h"
#include "test/test.h"
#include "test/unit/sla_util.h"

/* ---- causes and presets ---- */

TEST(sla_causes)
{
	const char *names[] = { "network", "hardware", "power", "facility", "maintenance",
				"customer", "force_majeure", "unknown" };

	for (int i = 0; i < VGL_CAUSE_COUNT; i++) {
		ASSERT_EQ(vgl_cause_index(names[i]), i);
		ASSERT_STREQ(vgl_cause_str(i), names[i]);
	}
	ASSERT_EQ(vgl_cause_index("Network"), -1);
	ASSERT_EQ(vgl_cause_index(""), -1);
	ASSERT_EQ(vgl_cause_index(NULL), -1);
	ASSERT_STREQ(vgl_cause_str(VGL_CAUSE_COUNT), "?");
}

TEST(sla_presets)
{
	static const struct {
		const char *name;
		int64_t commitment;
		size_t n_bands;
		int64_t lowest_credit;
		enum vgl_credit_unit unit;
		enum vgl_sla_kind kind;
		int facility_counts;
	} want[] = {
		{ "vserver", 999400, 3, 100, VGL_CREDIT_PERCENT, VGL_SLA_AVAILABILITY, 1 },
		{ "vlb", 999400, 3, 100, VGL_CREDIT_PERCENT, VGL_SLA_AVAILABILITY, 1 },
		{ "vdb", 999400, 3, 100, VGL_CREDIT_PERCENT, VGL_SLA_AVAILABILITY, 1 },
		{ "vbaremetal", 999000, 3, 100, VGL_CREDIT_PERCENT, VGL_SLA_AVAILABILITY, 0 },
		{ "vstorage", 999900, 3, 100, VGL_CREDIT_PERCENT, VGL_SLA_BLOCK_ERRORS, 1 },
		{ "vcdn", 999000, 4, 100, VGL_CREDIT_PERCENT, VGL_SLA_CYCLE_ERRORS, 1 },
		{ "vcs", 998000, 3, 15, VGL_CREDIT_DAYS, VGL_SLA_AVAILABILITY, 1 },
	};
	char err[128];

	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		const struct vgl_sla_policy *p = vgl_sla_preset(want[i].name);

		ASSERT(p != NULL);
		ASSERT_STREQ(vgl_sla_preset_name(i), want[i].name);
		ASSERT_EQ(p->commitment_e4, want[i].commitment);
		ASSERT_EQ(p->n_bands, want[i].n_bands);
		ASSERT_EQ(p->bands[p->n_bands - 1].from_e4, 0);
		ASSERT_EQ(p->bands[p->n_bands - 1].credit, want[i].lowest_credit);
		ASSERT_EQ(p->unit, want[i].unit);
		ASSERT_EQ(p->kind, want[i].kind);
		ASSERT_EQ(!!(p->counted & (1u << VGL_CAUSE_FACILITY)), want[i].facility_counts);
		ASSERT(p->counted & (1u << VGL_CAUSE_UNKNOWN));
		ASSERT(p->counted & (1u << VGL_CAUSE_MAINTENANCE));
		ASSERT(!(p->counted & (1u << VGL_CAUSE_CUSTOMER)));
		ASSERT(!(p->counted & (1u << VGL_CAUSE_FORCE_MAJEURE)));
		ASSERT_EQ(p->notice_ms[VGL_MAINT_PLANNED], 72 * H);
		ASSERT_EQ(p->notice_ms[VGL_MAINT_EMERGENCY], 30 * MIN);
		ASSERT_EQ(p->maint_cap_ms, 120 * MIN);
		ASSERT_STREQ(p->tz, "UTC");
		ASSERT_EQ(vgl_sla_policy_check(p, err, sizeof(err)), 0);
	}
	ASSERT(vgl_sla_preset_name(7) == NULL);
	ASSERT(vgl_sla_preset("vServer") == NULL);
	/* vstorage's gap: nothing covers [99.90, 99.99) */
	ASSERT_EQ(vgl_sla_preset("vstorage")->bands[0].to_e4, 999000);
	/* vcdn's four bands */
	ASSERT_EQ(vgl_sla_preset("vcdn")->bands[2].from_e4, 900000);
	ASSERT_EQ(vgl_sla_preset("vcdn")->bands[0].credit, 5);
	ASSERT_EQ(vgl_sla_preset("vcs")->bands[0].from_e4, 995000);
}

TEST(sla_policy_check_rejects)
{
	struct vgl_sla_policy p = *vgl_sla_preset("vserver");
	char err[128];

	p.bands[0].to_e4 = 999500;      /* above the commitment */
	ASSERT_EQ(vgl_sla_policy_check(&p, err, sizeof(err)), -EINVAL);
	ASSERT_CONTAINS(err, "bands[0].to");
	p = *vgl_sla_preset("vserver");
	p.bands[1].to_e4 = 999100;      /* overlaps band 0 */
	ASSERT_EQ(vgl_sla_policy_check(&p, err, sizeof(err)), -EINVAL);
	ASSERT_CONTAINS(err, "bands[1]");
	p = *vgl_sla_preset("vserver");
	p.bands[2].from_e4 = p.bands[2].to_e4;
	ASSERT_EQ(vgl_sla_policy_check(&p, err, sizeof(err)), -EINVAL);
	p = *vgl_sla_preset("vserver");
	p.commitment_e4 = 1000001;
	ASSERT_EQ(vgl_sla_policy_check(&p, err, sizeof(err)), -EINVAL);
	ASSERT_CONTAINS(err, "commitment");
}

TEST(sla_pct_parse)
{
	static const struct {
		const char *s;
		int64_t e4;     /* -1: refused */
	} cases[] = {
		{ "99.94", 999400 }, { "95", 950000 }, { "99.9", 999000 }, { "100", 1000000 },
		{ "0", 0 },          { "0.0001", 1 },  { "99.9999", 999999 }, { "99.99999", -1 },
		{ "100.0001", -1 },  { "101", -1 },    { "-1", -1 },      { "99.", -1 },
		{ ".5", -1 },        { "", -1 },       { "9e1", -1 },     { "99.94 ", -1 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int64_t v = -7;
		int rc = vgl_sla_pct_parse(cases[i].s, strlen(cases[i].s), &v);

		if (cases[i].e4 < 0) {
			ASSERT_EQ(rc, -1);
		} else {
			ASSERT_EQ(rc, 0);
			ASSERT_EQ(v, cases[i].e4);
		}
	}
	/* a token inside a larger text: the length bounds it */
	int64_t v;
	ASSERT_EQ(vgl_sla_pct_parse("99.94\", ", 5, &v), 0);
	ASSERT_EQ(v, 999400);
}

/* ---- months ---- */

TEST(sla_month_bounds)
{
	static const struct {
		const char *tz;
		int y, m;
		const char *start, *end;
		int64_t len;
	} cases[] = {
		{ "UTC", 2026, 2, "2026-02-01T00:00:00Z", "2026-03-01T00:00:00Z", 28 * D },
		{ "UTC", 2024, 2, "2024-02-01T00:00:00Z", "2024-03-01T00:00:00Z", 29 * D },
		{ "UTC", 2026, 11, "2026-11-01T00:00:00Z", "2026-12-01T00:00:00Z", 30 * D },
		{ "UTC", 2026, 12, "2026-12-01T00:00:00Z", "2027-01-01T00:00:00Z", 31 * D },
		/* DST: CET -> CEST on 2026-03-29, back on 2026-10-25 */
		{ "Europe/Berlin", 2026, 3, "2026-02-28T23:00:00Z", "2026-03-31T22:00:00Z", 31 * D - H },
		{ "Europe/Berlin", 2026, 10, "2026-09-30T22:00:00Z", "2026-10-31T23:00:00Z", 31 * D + H },
		{ "Europe/Berlin", 2026, 7, "2026-06-30T22:00:00Z", "2026-07-31T22:00:00Z", 31 * D },
		/* EDT from 2026-03-08, EST from 2026-11-01 02:00 (after midnight) */
		{ "America/New_York", 2026, 3, "2026-03-01T05:00:00Z", "2026-04-01T04:00:00Z", 31 * D - H },
		{ "America/New_York", 2026, 11, "2026-11-01T04:00:00Z", "2026-12-01T05:00:00Z", 30 * D + H },
		/* far from UTC, no DST */
		{ "Asia/Ho_Chi_Minh", 2026, 11, "2026-10-31T17:00:00Z", "2026-11-30T17:00:00Z", 30 * D },
		{ "Pacific/Kiritimati", 2026, 1, "2025-12-31T10:00:00Z", "2026-01-31T10:00:00Z", 31 * D },
		{ "Pacific/Pago_Pago", 2026, 1, "2026-01-01T11:00:00Z", "2026-02-01T11:00:00Z", 31 * D },
		{ "Asia/Kolkata", 2026, 2, "2026-01-31T18:30:00Z", "2026-02-28T18:30:00Z", 28 * D },
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

TEST(sla_month_bounds_rejects_and_restores_tz)
{
	const char *bad[] = { "Mars/Olympus", "../../etc/passwd", "", "EST5EDT,M3.2.0", "/UTC",
			      "Europe", ":UTC" };
	int64_t s, e;

	ASSERT_EQ(setenv("TZ", "Asia/Tokyo", 1), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ASSERT_EQ(vgl_sla_month_bounds(bad[i], 2026, 11, &s, &e), -1);
		ASSERT_EQ(vgl_sla_tz_valid(bad[i]), 0);
	}
	ASSERT_EQ(vgl_sla_month_bounds(NULL, 2026, 11, &s, &e), -1);
	ASSERT_EQ(vgl_sla_month_bounds("UTC", 2026, 13, &s, &e), -1);
	ASSERT_EQ(vgl_sla_month_bounds("UTC", 2026, 0, &s, &e), -1);
	ASSERT_EQ(vgl_sla_month_bounds("Europe/Berlin", 2026, 3, &s, &e), 0);
	ASSERT_STREQ(getenv("TZ"), "Asia/Tokyo");
	ASSERT_EQ(unsetenv("TZ"), 0);
	/* a month not asked before, so not answered from the cache */
	ASSERT_EQ(vgl_sla_month_bounds("Europe/Berlin", 2031, 3, &s, &e), 0);
	ASSERT_EQ(e - s, 31 * D - H);
	ASSERT(getenv("TZ") == NULL);
}

TEST(sla_month_parse)
{
	int y, m;

	ASSERT_EQ(vgl_sla_month_parse("2026-11", &y, &m), 0);
	ASSERT_EQ(y, 2026);
	ASSERT_EQ(m, 11);
	ASSERT_EQ(vgl_sla_month_parse("2026-13", &y, &m), -1);
	ASSERT_EQ(vgl_sla_month_parse("2026-1", &y, &m), -1);
	ASSERT_EQ(vgl_sla_month_parse("2026-00", &y, &m), -1);
	ASSERT_EQ(vgl_sla_month_parse("26-11-1", &y, &m), -1);
	ASSERT_EQ(vgl_sla_month_parse("2026-11x", &y, &m), -1);
}

/* ---- bands at, above and below each bound ---- */

TEST(sla_band_bounds)
{
	/* down = downtime from the month's start; the allowances are exact:
	 * 30 d = 2,592,000,000 ms x 0.06% = 1,555,200 ms, and so on. */
	static const struct {
		const char *preset, *tz;
		int y, m;
		int64_t down;
		int breached, band;
		int64_t credit;
	} cases[] = {
		/* vserver, November (30 d) */
		{ "vserver", "UTC", 2026, 11, 0, 0, -1, 0 },
		{ "vserver", "UTC", 2026, 11, 1555199, 0, -1, 0 },
		{ "vserver", "UTC", 2026, 11, 1555200, 0, -1, 0 },     /* exactly 99.94 */
		{ "vserver", "UTC", 2026, 11, 1555201, 1, 0, 10 },
		{ "vserver", "UTC", 2026, 11, 2591999, 1, 0, 10 },
		{ "vserver", "UTC", 2026, 11, 2592000, 1, 0, 10 },     /* exactly 99.90 */
		{ "vserver", "UTC", 2026, 11, 2592001, 1, 1, 30 },
		{ "vserver", "UTC", 2026, 11, 129599999, 1, 1, 30 },
		{ "vserver", "UTC", 2026, 11, 129600000, 1, 1, 30 },   /* exactly 95 */
		{ "vserver", "UTC", 2026, 11, 129600001, 1, 2, 100 },
		{ "vserver", "UTC", 2026, 11, 30 * D, 1, 2, 100 },     /* 0% */
		/* vlb, vdb: the same table, December (31 d): 1,607,040 */
		{ "vlb", "UTC", 2026, 12, 1607040, 0, -1, 0 },
		{ "vlb", "UTC", 2026, 12, 1607041, 1, 0, 10 },
		{ "vdb", "UTC", 2026, 12, 1607040, 0, -1, 0 },
		{ "vdb", "UTC", 2026, 12, 1607041, 1, 0, 10 },
		/* February 2024 (29 d): 1,503,360; February 2026 (28 d): 1,451,520 */
		{ "vserver", "UTC", 2024, 2, 1503360, 0, -1, 0 },
		{ "vserver", "UTC", 2024, 2, 1503361, 1, 0, 10 },
		{ "vserver", "UTC", 2026, 2, 1451520, 0, -1, 0 },
		{ "vserver", "UTC", 2026, 2, 1451521, 1, 0, 10 },
		/* DST: Berlin March 31 d - 1 h = 2,674,800,000: 1,604,880 (the 31-day
		 * allowance 1,607,040 would already breach); October 31 d + 1 h */
		{ "vserver", "Europe/Berlin", 2026, 3, 1604880, 0, -1, 0 },
		{ "vserver", "Europe/Berlin", 2026, 3, 1604881, 1, 0, 10 },
		{ "vserver", "Europe/Berlin", 2026, 10, 1609200, 0, -1, 0 },
		{ "vserver", "Europe/Berlin", 2026, 10, 1609201, 1, 0, 10 },
		/* vbaremetal, December (31 d = 2,678,400,000) */
		{ "vbaremetal", "UTC", 2026, 12, 2678400, 0, -1, 0 },  /* exactly 99.90 */
		{ "vbaremetal", "UTC", 2026, 12, 2678401, 1, 0, 10 },
		{ "vbaremetal", "UTC", 2026, 12, 26784000, 1, 0, 10 }, /* exactly 99 */
		{ "vbaremetal", "UTC", 2026, 12, 26784001, 1, 1, 30 },
		{ "vbaremetal", "UTC", 2026, 12, 133920000, 1, 1, 30 }, /* exactly 95 */
		{ "vbaremetal", "UTC", 2026, 12, 133920001, 1, 2, 100 },
		/* vcs, February 2026 (28 d = 2,419,200,000), credit in days */
		{ "vcs", "UTC", 2026, 2, 4838400, 0, -1, 0 },          /* exactly 99.8 */
		{ "vcs", "UTC", 2026, 2, 4838401, 1, 0, 7 },
		{ "vcs", "UTC", 2026, 2, 12096000, 1, 0, 7 },          /* exactly 99.50 */
		{ "vcs", "UTC", 2026, 2, 12096001, 1, 1, 10 },
		{ "vcs", "UTC", 2026, 2, 24192000, 1, 1, 10 },         /* exactly 99.00 */
		{ "vcs", "UTC", 2026, 2, 24192001, 1, 2, 15 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct vgl_sla_result r;
		int64_t m0, m1;
		struct vgl_sla_calc *c = calc_month(cases[i].preset, cases[i].tz, cases[i].y,
						    cases[i].m, 0, 0, 0, &m0, &m1);

		if (cases[i].down)
			add_iv(c, VGL_CAUSE_HARDWARE, m0, m0 + cases[i].down);
		ASSERT_EQ(vgl_sla_calc_finish(c, &r), 0);
		if (r.breached != cases[i].breached || r.band != cases[i].band)
			fprintf(stderr, "case %zu: %s %d-%02d down %" PRId64 "\n", i, cases[i].preset,
				cases[i].y, cases[i].m, cases[i].down);
		ASSERT_EQ(r.month_ms, m1 - m0);
		ASSERT_EQ(r.period_ms, r.month_ms);
		ASSERT_EQ(r.downtime_ms, cases[i].down);
		ASSERT_EQ(r.counted_ms, cases[i].down);
		ASSERT_EQ(r.breached, cases[i].breached);
		ASSERT_EQ(r.band, cases[i].band);
		ASSERT_EQ(r.credit, cases[i].credit);
		ASSERT_EQ(r.up_exact, 1);
		/* the fraction is (month - down) / month, reduced */
		ASSERT_EQ((__int128)r.up_num * r.month_ms, (__int128)(r.month_ms - cases[i].down) * r.up_den);
		vgl_sla_calc_free(c);
	}
}

TEST(sla_allowance_and_display)
{
	struct vgl_sla_result r;
	int64_t m0, m1;
	struct vgl_sla_calc *c = calc_month("vserver", "UTC", 2026, 11, 0, 0, 0, &m0, &m1);

	add_iv(c, VGL_CAUSE_NETWORK, m0 + D, m0 + D + 1555200);
	ASSERT_EQ(vgl_sla_calc_finish(c, &r), 0);
	ASSERT_EQ(r.allowance_ms, 1555200);     /* 25 min 55.2 s in a 30-day month */
	ASSERT_EQ(r.uptime_e4, 999400);
	ASSERT_EQ(r.uptime_e10, 999400000000LL);
	ASSERT(r.uptime_pct == 99.94);
	ASSERT_EQ(r.up_num, 4997);              /* 2590444800 / 2592000000 reduced */
	ASSERT_EQ(r.up_den, 5000);
	vgl_sla_calc_free(c);

	/* one millisecond more: the display never rounds up onto the bound */
	c = calc_month("vserver", "UTC", 2026, 11, 0, 0, 0, &m0, &m1);
	add_iv(c, VGL_CAUSE_NETWORK, m0 + D, m0 + D + 1555201);
	ASSERT_EQ(vgl_sla_calc_finish(c, &r), 0);
	ASSERT_EQ(r.uptime_e4, 999399);
	ASSERT(r.uptime_pct < 99.94);
	ASSERT_EQ(r.uptime_e10, 999399999614LL); /* 1 - 1555201/2592000000, floored */
	vgl_sla_calc_free(c);
}

/* ---- intervals ---- */

TEST(sla_overlapping_intervals)
{
	struct vgl_sla_result r;
	int64_t m0, m1;
	struct vgl_sla_calc *c = calc_month("vserver", "UTC", 2026, 11, 0, 0, 0, &m0, &m1);
	int64_t t = m0 + 3 * D;

	/* [0,10) + [5,20) + [15,25) + [40,50) + inside [42,44): 25 + 10 min */
	add_iv(c, VGL_CAUSE_HARDWARE, t + 40 * MIN, t + 50 * MIN);
	add_iv(c, VGL_CAUSE_HARDWARE, t, t + 10 * MIN);
	add_iv(c, VGL_CAUSE_POWER, t + 15 * MIN, t + 25 * MIN);
	add_iv(c, VGL_CAUSE_NETWORK, t + 5 * MIN, t + 20 * MIN);
	add_iv(c, VGL_CAUSE_UNKNOWN, t + 42 * MIN, t + 44 * MIN);
	/* touching, not overlapping: [50, 55) adds 5 */
	add_iv(c, VGL_CAUSE_FACILITY, t + 50 * MIN, t + 55 * MIN);
	ASSERT_EQ(vgl_sla_calc_finish(c, &r), 0);
	ASSERT_EQ(r.counted_ms, 40 * MIN);
	ASSERT_EQ(r.downtime_ms, 40 * MIN);
	ASSERT_EQ(r.breached, 1);               /* 2,400,000 > 1,555,200 */
	ASSERT_EQ(r.band, 0);
	vgl_sla_calc_free(c);
}

TEST(sla_interval_spanning_two_months)
{
	struct vgl_sla_result r;
	int64_t m0, m1;
	struct vgl_sla_calc *c;

	/* 2026-10-31T23:00Z .. 2026-11-01T01:00Z: one hour in each UTC month */
	c = calc_month("vserver", "UTC", 2026, 10, 0, 0, 0, &m0, &m1);
	add_iv(c, VGL_CAUSE_HARDWARE, T("2026-10-31T23:00:00Z"), T("2026-11-01T01:00:00Z"));
	ASSERT_EQ(vgl_sla_calc_finish(c, &r), 0);
	ASSERT_EQ(r.downtime_ms, H);
	vgl_sla_calc_free(c);
	c = calc_month("vserver", "UTC", 2026, 11, 0, 0, 0, &m0, &m1);
	add_iv(c, VGL_CAUSE_HARDWARE, T("2026-10-31T23:00:00Z"), T("2026-11-01T01:00:00Z"));
	ASSERT_EQ(vgl_sla_calc_finish(c, &r), 0);
	ASSERT_EQ(r.downtime_ms, H);
	vgl_sla_calc_free(c);
	/* in Ho Chi Minh City (+07) November began at 2026-10-31T17:00Z: all
	 * two hours are November's, none October's */
	c = calc_month("vserver", "Asia/Ho_Chi_Minh", 2026, 11, 0, 0, 0, &m0, &m1);
	add_iv(c, VGL_CAUSE_HARDWARE, T("2026-10-31T23:00:00Z"), T("2026-11-01T01:00:00Z"));
	add_iv(c, VGL_CAUSE_HARDWARE, T("2026-10-31T16:00:00Z"), T("2026-10-31T17:00:00Z"));
	ASSERT_EQ(vgl_sla_calc_finish(c, &r), 0);
	ASSERT_EQ(r.downtime_ms, 2 * H);
	vgl_sla_calc_free(c);
	c = calc_month("vserver", "Asia/Ho_Chi_Minh", 2026, 10, 0, 0, 0, &m0, &m1);
	add_iv(c, VGL_CAUSE_HARDWARE, T("2026-10-31T23:00:00Z"), T("2026-11-01T01:00:00Z"));
	add_iv(c, VGL_CAUSE_HARDWARE, T("2026-10-31T16:00:00Z"), T("2026-10-31T17:00:00Z"));
	ASSERT_EQ(vgl_sla_calc_finish(c, &r), 0);
	ASSERT_EQ(r.downtime_ms, H);
	vgl_sla_calc_free(c);
}

TEST(sla_excluded_causes)
{
	static const struct {
		const char *preset;
		int cause;
		int counts;
	} cases[] = {
		{ "vserver", VGL_CAUSE_CUSTOMER, 0 },      { "vserver", VGL_CAUSE_FORCE_MAJEURE, 0 },
		{ "vserver", VGL_CAUSE_FACILITY, 1 },      { "vserver", VGL_CAUSE_UNKNOWN, 1 },
		{ "vserver", VGL_CAUSE_MAINTENANCE, 1 },   { "vserver", VGL_CAUSE_POWER, 1 },
		{ "vbaremetal", VGL_CAUSE_FACILITY, 0 },   { "vbaremetal", VGL_CAUSE_CUSTOMER, 0 },
		{ "vbaremetal", VGL_CAUSE_FORCE_MAJEURE, 0 }, { "vbaremetal", VGL_CAUSE_HARDWARE, 1 },
		{ "vcs", VGL_CAUSE_CUSTOMER, 0 },          { "vcs", VGL_CAUSE_NETWORK, 1 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct vgl_sla_result r;
		int64_t m0, m1;
		struct vgl_sla_calc *c = calc_month(cases[i].preset, "UTC", 2026, 11, 0, 0, 0, &m0, &m1);

		/* two overlapping hours of the cause: 90 min as a union */
		add_iv(c, cases[i].cause, m0 + D, m0 + D + H);
		add_iv(c, cases[i].cause, m0 + D + 30 * MIN, m0 + D + 90 * MIN);
		ASSERT_EQ(vgl_sla_calc_finish(c, &r), 0);
		ASSERT_EQ(r.counted_ms, cases[i].counts ? 90 * MIN : 0);
		ASSERT_EQ(r.downtime_ms, cases[i].counts ? 90 * MIN : 0);
		ASSERT_EQ(r.excluded_ms[cases[i].cause], cases[i].counts ? 0 : 90 * MIN);
		ASSERT_EQ(r.breached, cases[i].counts);
		vgl_sla_calc_free(c);
	}
}

/* ---- maintenance ---- */

TEST(sla_maintenance_notice)
{
	/* interval [10:00, 11:00) on Nov 10; the window [09:30, 11:30) */
	static const struct {
		enum vgl_maint_kind kind;
		int64_t notice;
		int64_t downtime;
	} cases[] = {
		{ VGL_MAINT_PLANNED, 72 * H, 0 },
		{ VGL_MAINT_PLANNED, 72 * H + 1, 0 },
		{ VGL_MAINT_PLANNED, 72 * H - 1, H },
		{ VGL_MAINT_PLANNED, 30 * MIN, H },
		{ VGL_MAINT_EMERGENCY, 30 * MIN, 0 },
		{ VGL_MAINT_EMERGENCY, 30 * MIN - 1, H },
		{ VGL_MAINT_EMERGENCY, -H, H },         /* announced after it began */
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct vgl_sla_result r;
		int64_t m0, m1, ws = T("2026-11-10T09:30:00Z");
		struct vgl_sla_calc *c = calc_month("vserver", "UTC", 2026, 11, 0, 0, 0, &m0, &m1);

		add_iv(c, VGL_CAUSE_MAINTENANCE, T("2026-11-10T10:00:00Z"), T("2026-11-10T11:00:00Z"));
		add_mt(c, cases[i].kind, ws, T("2026-11-10T11:30:00Z"), ws - cases[i].notice);
		ASSERT_EQ(vgl_sla_calc_finish(c, &r), 0);
		ASSERT_EQ(r.counted_ms, H);
		ASSERT_EQ(r.downtime_ms, cases[i].downtime);
		ASSERT_EQ(r.maint_excluded_ms, H - cases[i].downtime);
		vgl_sla_calc_free(c);
	}
}

struct maints {
	int n;
	int qualifies[8];
	int64_t excluded[8];
};

static void collect_maint(void *ctx, const struct vgl_sla_maint_part *mp)
{
	struct maints *ms = ctx;

	ASSERT(ms->n < 8);
	ms->qualifies[ms->n] = mp->qualifies;
	ms->excluded[ms->n] = mp->excluded_ms;
	ms->n++;
}

TEST(sla_maintenance_cap_and_partial_cover)
{
	struct vgl_sla_result r;
	struct parts ps = { 0 };
	struct maints ms = { 0 };
	int64_t m0, m1;
	struct vgl_sla_calc *c = calc_month("vserver", "UTC", 2026, 11, 0, 0, 0, &m0, &m1);
	int64_t d5 = T("2026-11-05T00:00:00Z"), d6 = d5 + D, d7 = d5 + 2 * D, d8 = d5 + 3 * D;

	/* three 50-minute outages, each inside a well-announced window: the
	 * cap (120 min) takes 50 + 50 + 20 in time order; 30 min count */
	add_iv(c, VGL_CAUSE_HARDWARE, d7, d7 + 50 * MIN);
	add_iv(c, VGL_CAUSE_MAINTENANCE, d5, d5 + 50 * MIN);
	add_iv(c, VGL_CAUSE_NETWORK, d6, d6 + 50 * MIN);
	add_mt(c, VGL_MAINT_PLANNED, d5 - H, d5 + H, d5 - 10 * D);
	add_mt(c, VGL_MAINT_PLANNED, d6 - H, d6 + H, d5 - 10 * D);
	add_mt(c, VGL_MAINT_EMERGENCY, d7 - H, d7 + H, d7 - 2 * H);
	/* an outage only half inside a window: 20 of its 40 minutes are inside,
	 * but the cap is spent by then */
	add_iv(c, VGL_CAUSE_HARDWARE, d8, d8 + 40 * MIN);
	add_mt(c, VGL_MAINT_PLANNED, d8 + 20 * MIN, d8 + H, d5 - 10 * D);
	ASSERT_EQ(vgl_sla_calc_finish(c, &r), 0);
	ASSERT_EQ(r.counted_ms, 190 * MIN);
	ASSERT_EQ(r.maint_excluded_ms, 120 * MIN);
	ASSERT_EQ(r.downtime_ms, 70 * MIN);
	vgl_sla_calc_each_part(c, collect_part, &ps);
	ASSERT_EQ(ps.n, 4);
	ASSERT_EQ(ps.maint[0], 50 * MIN);
	ASSERT_EQ(ps.maint[1], 50 * MIN);
	ASSERT_EQ(ps.maint[2], 20 * MIN);
	ASSERT_EQ(ps.maint[3], 0);
	vgl_sla_calc_each_maint(c, collect_maint, &ms);
	ASSERT_EQ(ms.n, 4);
	ASSERT_EQ(ms.excluded[0], 50 * MIN);
	ASSERT_EQ(ms.excluded[2], 20 * MIN);
	ASSERT_EQ(ms.excluded[3], 0);
	vgl_sla_calc_free(c);

	/* the same half-covered outage alone: 20 minutes excluded */
	c = calc_month("vserver", "UTC", 2026, 11, 0, 0, 0, &m0, &m1);
	add_iv(c, VGL_CAUSE_HARDWARE, d8, d8 + 40 * MIN);
	add_mt(c, VGL_MAINT_PLANNED, d8 + 20 * MIN, d8 + H, d5 - 10 * D);
	/* a second, overlapping window: the time is not excluded twice */
	add_mt(c, VGL_MAINT_EMERGENCY, d8 + 10 * MIN, d8 + 30 * MIN, d8 - H);
	ASSERT_EQ(vgl_sla_calc_finish(c, &r), 0);
	ASSERT_EQ(r.maint_excluded_ms, 30 * MIN);
	ASSERT_EQ(r.downtime_ms, 10 * MIN);
	memset(&ms, 0, sizeof(ms));
	vgl_sla_calc_each_maint(c, collect_maint, &ms);
	ASSERT_EQ(ms.n, 2);                     /* in start order */
	ASSERT_EQ(ms.excluded[0], 20 * MIN);    /* emergency [10, 30) */
	ASSERT_EQ(ms.excluded[1], 10 * MIN);    /* planned: [30, 40) is its own */
	vgl_sla_calc_free(c);

	/* a window excludes nothing of a cause that does not count anyway */
	c = calc_month("vserver", "UTC", 2026, 11, 0, 0, 0, &m0, &m1);
	add_iv(c, VGL_CAUSE_CUSTOMER, d8, d8 + 40 * MIN);
	add_mt(c, VGL_MAINT_PLANNED, d8, d8 + H, d5 - 10 * D);
	ASSERT_EQ(vgl_sla_calc_finish(c, &r), 0);
	ASSERT_EQ(r.maint_excluded_ms, 0);
	ASSERT_EQ(r.excluded_ms[VGL_CAUSE_CUSTOMER], 40 * MIN);
	vgl_sla_calc_free(c);
}

/* ---- service window, coverage ---- */

TEST(sla_partial_service_month)
{
	struct vgl_sla_result r;
	int64_t m0, m1;
	struct vgl_sla_calc *c = calc_month("vserver", "UTC", 2026, 11, 0, T("2026-11-16T00:00:00Z"),
					    0, &m0, &m1);

	add_iv(c, VGL_CAUSE_HARDWARE, T("2026-11-10T00:00:00Z"), T("2026-11-10T05:00:00Z"));
	add_iv(c, VGL_CAUSE_HARDWARE, T("2026-11-15T23:00:00Z"), T("2026-11-16T00:10:00Z"));
	ASSERT_EQ(vgl_sla_calc_finish(c, &r), 0);
	ASSERT_EQ(r.partial, 1);
	ASSERT_EQ(r.month_ms, 30 * D);
	ASSERT_EQ(r.period_ms, 15 * D);
	ASSERT_EQ(r.downtime_ms, 10 * MIN);
	ASSERT_EQ(r.allowance_ms, 777600);      /* 1,296,000,000 x 0.0006 */
	ASSERT_EQ(r.breached, 0);
	vgl_sla_calc_free(c);

	/* ended on the 21st 12:00: 20.5 days measured */
	c = calc_month("vbaremetal", "UTC", 2026, 11, 0, T("2025-01-01T00:00:00Z"),
		       T("2026-11-21T12:00:00Z"), &m0, &m1);
	add_iv(c, VGL_CAUSE_HARDWARE, T("2026-11-21T11:00:00Z"), T("2026-11-21T14:00:00Z"));
	ASSERT_EQ(vgl_sla_calc_finish(c, &r), 0);
	ASSERT_EQ(r.partial, 1);
	ASSERT_EQ(r.period_ms, 20 * D + 12 * H);
	ASSERT_EQ(r.downtime_ms, H);
	vgl_sla_calc_free(c);

	/* service over before the month: nothing measured, nothing owed */
	c = calc_month("vserver", "UTC", 2026, 11, 0, 0, T("2026-10-01T00:00:00Z"), &m0, &m1);
	add_iv(c, VGL_CAUSE_HARDWARE, T("2026-11-21T11:00:00Z"), T("2026-11-21T14:00:00Z"));
	ASSERT_EQ(vgl_sla_calc_finish(c, &r), 0);
	ASSERT_EQ(r.period_ms, 0);
	ASSERT_EQ(r.downtime_ms, 0);
	ASSERT_EQ(r.breached, 0);
	ASSERT_EQ(r.uptime_e4, 1000000);
	vgl_sla_calc_free(c);
}

TEST(sla_coverage)
{
	struct vgl_sla_result r;
	int64_t m0, m1;
	struct vgl_sla_calc *c = calc_month("vserver", "UTC", 2026, 11, 0, 0, 0, &m0, &m1);

	/* [Oct 30, Nov 16) and [Nov 10, Nov 20): 19 days of 30 in the month */
	ASSERT_EQ(vgl_sla_calc_add_observed(c, T("2026-10-30T00:00:00Z"), T("2026-11-16T00:00:00Z")), 0);
	ASSERT_EQ(vgl_sla_calc_add_observed(c, T("2026-11-10T00:00:00Z"), T("2026-11-20T00:00:00Z")), 0);
	ASSERT_EQ(vgl_sla_calc_add_observed(c, 5, 4), -EINVAL);
	ASSERT_EQ(vgl_sla_calc_finish(c, &r), 0);
	ASSERT_EQ(r.observed_ms, 19 * D);
	ASSERT(r.coverage_pct == 63.3333);      /* 19/30, floored to 4 decimals */
	vgl_sla_calc_free(c);
}

TEST(sla_rejects_bad_input)
{
	int64_t m0, m1;
	struct vgl_sla_calc *c = calc_month("vserver", "UTC", 2026, 11, 0, 0, 0, &m0, &m1);
	struct vgl_sla_interval iv = { 0, VGL_CAUSE_COUNT, m0, m0 + 1, NULL, NULL };
	struct vgl_sla_maint m = { 0, VGL_MAINT_PLANNED, m0 + H, m0 + H, m0, NULL };
	struct vgl_sla_counter s = { m0, 1, 0 };
	struct vgl_sla_policy bad = *vgl_sla_preset("vserver");

	ASSERT_EQ(vgl_sla_calc_add_interval(c, &iv), -EINVAL);
	iv.cause = VGL_CAUSE_HARDWARE;
	iv.end_ms = m0 - 1;
	ASSERT_EQ(vgl_sla_calc_add_interval(c, &iv), -EINVAL);
	ASSERT_EQ(vgl_sla_calc_add_maint(c, &m), -EINVAL);
	ASSERT_EQ(vgl_sla_calc_add_counter(c, &s, 16), -EINVAL);
	vgl_sla_calc_free(c);
	ASSERT(vgl_sla_calc_new(vgl_sla_preset("vserver"), m1, m0, m1, 0, 0) == NULL);
	bad.n_bands = 9;
	ASSERT(vgl_sla_calc_new(&bad, m0, m1, m1, 0, 0) == NULL);
}

/* ---- error-rate services ---- */

static void add_ctr(struct vgl_sla_calc *c, int64_t ts, uint64_t total, uint64_t failed, int bits)
{
	struct vgl_sla_counter s = { ts, total, failed };

	ASSERT_EQ(vgl_sla_calc_add_counter(c, &s, bits), 0);
}

#define BLK (5 * MIN)

TEST(sla_vstorage_blocks_wrap_reset_gap)
{
	struct vgl_sla_result r;
	int64_t m0, m1;
	struct vgl_sla_calc *c = calc_month("vstorage", "UTC", 2026, 11, 0, 0, 0, &m0, &m1);

	/* 30 days = 8,640 blocks. Given out of order on purpose.
	 * block 0: 32-bit wrap 4294967000 -> 704 = 1000 requests, 100 failed
	 * block 1: both reset (704 -> 200, 100 -> 50): 200 requests, 50 failed
	 * blocks 2, 3: 300 of 300 failed each
	 * sum of rates 0.1 + 0.25 + 1 + 1 = 2.35; uptime 1 - 2.35/8640
	 * = 172753/172800 = 99.9728...%: below 99.99, above 99.90: breached,
	 * and the table has no band there: credit 0. */
	add_ctr(c, m0 + 3 * BLK + MIN, 800, 650, 32);
	add_ctr(c, m0 + MIN, 704, 100, 32);
	add_ctr(c, m0 - 2 * MIN, 4294966000u, 0, 32);  /* older, superseded */
	add_ctr(c, m0 - MIN, 4294967000u, 0, 32);
	add_ctr(c, m0 + BLK + MIN, 200, 50, 32);
	add_ctr(c, m0 + 2 * BLK + MIN, 500, 350, 32);
	add_ctr(c, m1 + MIN, 900000, 650, 32);         /* next month: ignored */
	ASSERT_EQ(vgl_sla_calc_finish(c, &r), 0);
	ASSERT_EQ(r.blocks, 8640);
	ASSERT_EQ(r.requests, 1800);
	ASSERT_EQ(r.failures, 750);
	ASSERT_EQ(r.up_exact, 1);
	ASSERT_EQ(r.up_num, 172753);
	ASSERT_EQ(r.up_den, 172800);
	ASSERT_EQ(r.uptime_e4, 999728);
	ASSERT_EQ(r.breached, 1);
	ASSERT_EQ(r.band, -1);
	ASSERT_EQ(r.credit, 0);
	vgl_sla_calc_free(c);

	/* the same samples as 64-bit counters: the drop in block 0 is a reset
	 * (704 requests, 100 failed) */
	c = calc_month("vstorage", "UTC", 2026, 11, 0, 0, 0, &m0, &m1);
	add_ctr(c, m0 - MIN, 4294967000u, 0, 64);
	add_ctr(c, m0 + MIN, 704, 100, 64);
	ASSERT_EQ(vgl_sla_calc_finish(c, &r), 0);
	ASSERT_EQ(r.requests, 704);
	ASSERT_EQ(r.failures, 100);
	vgl_sla_calc_free(c);
}

TEST(sla_vstorage_band_bounds_exact)
{
	/* 100 blocks measured (the service started 500 minutes before the
	 * month's end); a sum of block rates of exactly 1 is an average of
	 * 1% = uptime 99.00 exactly: band [99, 99.90) */
	static const struct {
		uint64_t t1, f1, t2, f2;        /* two blocks' requests and failures */
		int band;
		int64_t credit;
	} cases[] = {
		{ 1, 1, 7, 0, 0, 10 },                          /* 1 + 0 = 1: at 99.00 */
		{ 3, 1, 3, 2, 0, 10 },                          /* 1/3 + 2/3 = 1 exactly */
		{ 1, 1, 1000000000, 1, 1, 30 },                 /* just over 1: below 99 */
		{ 1000000000, 999999999, 1, 0, 0, 10 },         /* just under 1 */
		{ 1, 1, 1, 1, 1, 30 },                          /* 2: 98.00, [95, 99) */
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct vgl_sla_result r;
		int64_t m0, m1, s0;
		struct vgl_sla_calc *c;

		ASSERT_EQ(vgl_sla_month_bounds("UTC", 2026, 11, &m0, &m1), 0);
		s0 = m1 - 100 * BLK;
		c = calc_month("vstorage", "UTC", 2026, 11, 0, s0, 0, &m0, &m1);
		add_ctr(c, s0 - MIN, 0, 0, 64);
		add_ctr(c, s0 + MIN, cases[i].t1, cases[i].f1, 64);
		add_ctr(c, s0 + BLK + MIN, cases[i].t1 + cases[i].t2, cases[i].f1 + cases[i].f2, 64);
		ASSERT_EQ(vgl_sla_calc_finish(c, &r), 0);
		ASSERT_EQ(r.blocks, 100);
		ASSERT_EQ(r.breached, 1);
		ASSERT_EQ(r.band, cases[i].band);
		ASSERT_EQ(r.credit, cases[i].credit);
		vgl_sla_calc_free(c);
	}
}

TEST(sla_vstorage_bracket_when_inexact)
{
	/* Block totals that are distinct large primes leave no common factor:
	 * the exact sum outgrows 128 bits and the bracket decides. Rates
	 * are tiny, so the uptime is far from any bound. */
	static const uint64_t primes[] = { 1000000007u, 1000000009u, 1000000021u, 1000000033u,
					   1000000087u, 1000000093u, 1000000097u };
	struct vgl_sla_result r;
	int64_t m0, m1;
	uint64_t tot = 0, fail = 0;
	struct vgl_sla_calc *c = calc_month("vstorage", "UTC", 2026, 11, 0, 0, 0, &m0, &m1);

	add_ctr(c, m0 - MIN, 0, 0, 64);
	for (int i = 0; i < 7; i++) {
		tot += primes[i];
		fail += 1;
		add_ctr(c, m0 + i * BLK + MIN, tot, fail, 64);
	}
	ASSERT_EQ(vgl_sla_calc_finish(c, &r), 0);
	ASSERT_EQ(r.up_exact, 0);
	ASSERT_EQ(r.breached, 0);
	ASSERT_EQ(r.uptime_e4, 999999);         /* 1 - ~7e-9/8640 */
	ASSERT_EQ(r.up_den, 1000000000000LL);
	vgl_sla_calc_free(c);
}

TEST(sla_vcdn_cycle)
{
	/* 1,000,000 requests in the cycle; failures -> band */
	static const struct {
		uint64_t failed;
		int breached, band;
		int64_t credit;
	} cases[] = {
		{ 0, 0, -1, 0 },       { 1000, 0, -1, 0 },  /* exactly 99.90 */
		{ 1001, 1, 0, 5 },     { 10000, 1, 0, 5 },  /* exactly 99.00 */
		{ 10001, 1, 1, 10 },   { 50000, 1, 1, 10 }, /* exactly 95 */
		{ 50001, 1, 2, 30 },   { 100000, 1, 2, 30 }, /* exactly 90 */
		{ 100001, 1, 3, 100 }, { 1000000, 1, 3, 100 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct vgl_sla_result r;
		int64_t m0, m1;
		struct vgl_sla_calc *c = calc_month("vcdn", "UTC", 2026, 11, 0, 0, 0, &m0, &m1);

		/* split over two samples and a 32-bit wrap to show sums carry */
		add_ctr(c, m0 - SEC, 4294567296u, 0, 32);       /* 2^32 - 400,000 */
		add_ctr(c, m0 + D, 100000, cases[i].failed / 2, 32);
		add_ctr(c, m0 + 2 * D, 600000, cases[i].failed, 32);
		ASSERT_EQ(vgl_sla_calc_finish(c, &r), 0);
		ASSERT_EQ(r.requests, 1000000);
		ASSERT_EQ(r.failures, cases[i].failed);
		ASSERT_EQ(r.breached, cases[i].breached);
		ASSERT_EQ(r.band, cases[i].band);
		ASSERT_EQ(r.credit, cases[i].credit);
		vgl_sla_calc_free(c);
	}
}

TEST(sla_vcdn_no_requests)
{
	struct vgl_sla_result r;
	int64_t m0, m1;
	struct vgl_sla_calc *c = calc_month("vcdn", "UTC", 2026, 11, 0, 0, 0, &m0, &m1);

	/* failures can't exceed requests: 5 failed of 3 is held to 3 of 3 */
	add_ctr(c, m0 + SEC, 10, 0, 64);
	add_ctr(c, m0 + 2 * SEC, 13, 5, 64);
	ASSERT_EQ(vgl_sla_calc_finish(c, &r), 0);
	ASSERT_EQ(r.requests, 3);
	ASSERT_EQ(r.failures, 3);
	ASSERT_EQ(r.uptime_e4, 0);
	vgl_sla_calc_free(c);
	c = calc_month("vcdn", "UTC", 2026, 11, 0, 0, 0, &m0, &m1);
	ASSERT_EQ(vgl_sla_calc_finish(c, &r), 0);
	ASSERT_EQ(r.uptime_e4, 1000000);
	ASSERT_EQ(r.breached, 0);
	vgl_sla_calc_free(c);
}

TEST(sla_vstorage_exact_tie_beyond_128_bits)
{
	/* 300 blocks; rates 1/p1 + 1/p2 + 1/p3 + (p1-1)/p1 + (p2-1)/p2 +
	 * (p3-1)/p3 = 3 exactly: an average of 1%, uptime 99.00 exactly,
	 * band [99, 99.90). The running fraction's denominator p1 p2 p3 is
	 * past 2^62, so the bracket sees the tie and the exact sum decides. */
	static const uint64_t p[] = { 1000000007u, 1000000009u, 1000000021u, 1000000033u };
	static const struct {
		uint64_t last_failed;   /* of block 5 (total p3) */
		int extra;              /* one more failure in a block of p4 */
		int band;
		int64_t e4;
	} cases[] = {
		{ 1000000020u, 0, 0, 990000 },  /* exactly 3 */
		{ 1000000019u, 0, 0, 990000 },  /* 3 - 1/p3: above */
		{ 1000000020u, 1, 1, 989999 },  /* 3 + 1/p4: below */
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct vgl_sla_result r;
		int64_t m0, m1, s0;
		uint64_t tot = 0, fail = 0;
		uint64_t bt[7] = { p[0], p[1], p[2], p[0], p[1], p[2], p[3] };
		uint64_t bf[7] = { 1, 1, 1, p[0] - 1, p[1] - 1, cases[i].last_failed, 1 };
		struct vgl_sla_calc *c;

		ASSERT_EQ(vgl_sla_month_bounds("UTC", 2026, 11, &m0, &m1), 0);
		s0 = m1 - 300 * BLK;
		c = calc_month("vstorage", "UTC", 2026, 11, 0, s0, 0, &m0, &m1);
		add_ctr(c, s0 - MIN, 0, 0, 64);
		for (int b = 0; b < 6 + cases[i].extra; b++) {
			tot += bt[b];
			fail += bf[b];
			add_ctr(c, s0 + b * BLK + MIN, tot, fail, 64);
		}
		ASSERT_EQ(vgl_sla_calc_finish(c, &r), 0);
		ASSERT_EQ(r.blocks, 300);
		ASSERT_EQ(r.up_exact, 0);
		ASSERT_EQ(r.band, cases[i].band);
		ASSERT_EQ(r.uptime_e4, cases[i].e4);
		vgl_sla_calc_free(c);
	}
}
