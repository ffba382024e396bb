/* A month in progress, by hand-computed cases: it is measured against the
 * whole period (the month cut to the service window) with the downtime
 * counted so far, so its uptime, band and credit are what is already owed
 * and never shrink as the month goes on (docs/sla.md "The period"). */
#include "test/unit/sla_util.h"

/* vserver, UTC, November 2026 (30 d = 2,592,000,000 ms), at now. */
static void month_at(int64_t now, const int64_t *s, const int64_t *e, int n,
		     struct vgl_sla_result *r)
{
	int64_t m0, m1;
	struct vgl_sla_calc *c = calc_month("vserver", "UTC", 2026, 11, now, 0, 0, &m0, &m1);

	for (int i = 0; i < n; i++)
		add_iv(c, VGL_CAUSE_NETWORK, s[i], e[i]);
	ASSERT_EQ(vgl_sla_calc_finish(c, r), 0);
	vgl_sla_calc_free(c);
}

TEST(sla_progress_hour_down_mid_month)
{
	/* 15 November 12:00 UTC, down since 11:00: one hour of the month's
	 * 720, not of the 348 elapsed (that read 99.7126%). */
	int64_t now = T("2026-11-15T12:00:00Z");
	int64_t s = T("2026-11-15T11:00:00Z"), e = VGL_SLA_OPEN;
	struct vgl_sla_result r;

	month_at(now, &s, &e, 1, &r);
	ASSERT_EQ(r.in_progress, 1);
	ASSERT_EQ(r.begun, 1);
	ASSERT_EQ(r.as_of_ms, now);
	ASSERT_EQ(r.month_ms, 30 * D);
	ASSERT_EQ(r.period_ms, 30 * D);
	ASSERT_EQ(r.period_end_ms, T("2026-12-01T00:00:00Z"));
	ASSERT_EQ(r.elapsed_ms, 14 * D + 12 * H);
	ASSERT_EQ(r.downtime_ms, H);
	/* 1 - 1/720 = 719/720 = 99.86111...% */
	ASSERT_EQ(r.up_num, 719);
	ASSERT_EQ(r.up_den, 720);
	ASSERT_EQ(r.uptime_e4, 998611);
	ASSERT_EQ(r.breached, 1);
	ASSERT_EQ(r.band, 1);                   /* [95, 99.90) */
	ASSERT_EQ(r.credit, 30);
	/* the whole month's allowance, 2,592,000,000 x 0.0006, overspent */
	ASSERT_EQ(r.allowance_ms, 1555200);
	ASSERT_EQ(r.allowance_left_ms, 1555200 - 3600000);
}

TEST(sla_progress_credit_never_shrinks)
{
	/* 30 minutes down on the 1st of a 30-day month: 1 - 1800/2592000 =
	 * 99.930555...%, band [99.90, 99.94), credit 10: the same that
	 * evening, mid-month and once the month is over (the elapsed-time
	 * reading gave 97.9% and credit 30 that evening, then drifted back). */
	int64_t s = T("2026-11-01T02:00:00Z"), e = T("2026-11-01T02:30:00Z");
	const char *at[] = { "2026-11-01T20:00:00Z", "2026-11-15T00:00:00Z", "2026-11-30T23:59:59Z",
			     "2026-12-03T00:00:00Z" };
	struct vgl_sla_result r;

	for (size_t i = 0; i < sizeof(at) / sizeof(at[0]); i++) {
		month_at(T(at[i]), &s, &e, 1, &r);
		ASSERT_EQ(r.in_progress, i < 3);
		ASSERT_EQ(r.period_ms, 30 * D);
		ASSERT_EQ(r.downtime_ms, 30 * MIN);
		ASSERT_EQ(r.up_num, 1439);      /* 1 - 1/1440 */
		ASSERT_EQ(r.up_den, 1440);
		ASSERT_EQ(r.uptime_e4, 999305);
		ASSERT_EQ(r.breached, 1);
		ASSERT_EQ(r.band, 0);
		ASSERT_EQ(r.credit, 10);
		ASSERT_EQ(r.allowance_left_ms, 1555200 - 1800000);
	}
	/* before it happened: nothing owed, the whole allowance left */
	month_at(T("2026-11-01T01:00:00Z"), &s, &e, 1, &r);
	ASSERT_EQ(r.downtime_ms, 0);
	ASSERT_EQ(r.breached, 0);
	ASSERT_EQ(r.allowance_left_ms, 1555200);
	/* during it: counted up to now only */
	month_at(T("2026-11-01T02:10:00Z"), &s, &e, 1, &r);
	ASSERT_EQ(r.downtime_ms, 10 * MIN);
	ASSERT_EQ(r.breached, 0);
	ASSERT_EQ(r.allowance_left_ms, 1555200 - 600000);
}

TEST(sla_open_interval_month_in_progress)
{
	struct vgl_sla_result r;
	struct parts ps = { 0 };
	int64_t m0, m1, now = T("2026-11-10T00:00:00Z");
	struct vgl_sla_calc *c = calc_month("vserver", "UTC", 2026, 11, now, 0, 0, &m0, &m1);
	struct vgl_sla_interval iv = { 7, VGL_CAUSE_NETWORK, T("2026-11-09T22:00:00Z"), VGL_SLA_OPEN,
				       "uplink", "reach" };

	ASSERT_EQ(vgl_sla_calc_add_interval(c, &iv), 0);
	/* starts after now: cannot have happened yet */
	add_iv(c, VGL_CAUSE_HARDWARE, T("2026-11-12T00:00:00Z"), T("2026-11-12T01:00:00Z"));
	ASSERT_EQ(vgl_sla_calc_finish(c, &r), 0);
	ASSERT_EQ(r.month_ms, 30 * D);
	ASSERT_EQ(r.period_ms, 30 * D);         /* the whole month, not the 9 days so far */
	ASSERT_EQ(r.in_progress, 1);
	ASSERT_EQ(r.partial, 0);
	ASSERT_EQ(r.downtime_ms, 2 * H);
	ASSERT_EQ(r.allowance_ms, 1555200);     /* 2,592,000,000 x 0.0006 */
	/* 1 - 2/720 = 99.7222...% */
	ASSERT_EQ(r.uptime_e4, 997222);
	ASSERT_EQ(r.band, 1);
	ASSERT_EQ(r.credit, 30);
	vgl_sla_calc_each_part(c, collect_part, &ps);
	ASSERT_EQ(ps.n, 1);
	ASSERT_EQ(ps.end[0], now);
	vgl_sla_calc_free(c);

	/* a month already over: the open interval counts to the month's end */
	c = calc_month("vserver", "UTC", 2026, 11, T("2027-01-05T00:00:00Z"), 0, 0, &m0, &m1);
	iv.start_ms = T("2026-11-30T23:00:00Z");
	ASSERT_EQ(vgl_sla_calc_add_interval(c, &iv), 0);
	ASSERT_EQ(vgl_sla_calc_finish(c, &r), 0);
	ASSERT_EQ(r.in_progress, 0);
	ASSERT_EQ(r.period_ms, 30 * D);
	ASSERT_EQ(r.downtime_ms, H);
	vgl_sla_calc_free(c);
}

TEST(sla_progress_open_interval_before_month)
{
	/* now is before December began; the outage open since 19 November
	 * has nothing of December yet. */
	int64_t m0, m1, now = T("2026-11-20T00:00:00Z");
	struct vgl_sla_calc *c = calc_month("vserver", "UTC", 2026, 12, now, 0, 0, &m0, &m1);
	struct vgl_sla_result r;
	struct parts ps = { 0 };

	add_iv(c, VGL_CAUSE_HARDWARE, T("2026-11-19T00:00:00Z"), VGL_SLA_OPEN);
	ASSERT_EQ(vgl_sla_calc_add_observed(c, T("2026-11-01T00:00:00Z"), now), 0);
	ASSERT_EQ(vgl_sla_calc_finish(c, &r), 0);
	ASSERT_EQ(r.in_progress, 1);
	ASSERT_EQ(r.begun, 0);
	ASSERT_EQ(r.period_ms, 31 * D);
	ASSERT_EQ(r.elapsed_ms, 0);
	ASSERT_EQ(r.downtime_ms, 0);
	ASSERT_EQ(r.observed_ms, 0);
	ASSERT(r.coverage_pct == 0);
	ASSERT_EQ(r.uptime_e4, 1000000);
	ASSERT_EQ(r.breached, 0);
	ASSERT_EQ(r.credit, 0);
	ASSERT_EQ(r.allowance_ms, 1607040);     /* 2,678,400,000 x 0.0006 */
	ASSERT_EQ(r.allowance_left_ms, 1607040);
	vgl_sla_calc_each_part(c, collect_part, &ps);
	ASSERT_EQ(ps.n, 0);
	vgl_sla_calc_free(c);
}

TEST(sla_progress_service_started_on_the_10th)
{
	/* In service from 10 November: the period is the 20 days from then
	 * to the month's end, not the 5 elapsed by the 15th. */
	int64_t m0, m1, now = T("2026-11-15T00:00:00Z");
	struct vgl_sla_calc *c = calc_month("vserver", "UTC", 2026, 11, now,
					    T("2026-11-10T00:00:00Z"), 0, &m0, &m1);
	struct vgl_sla_result r;

	add_iv(c, VGL_CAUSE_HARDWARE, T("2026-11-05T00:00:00Z"), T("2026-11-05T05:00:00Z"));
	add_iv(c, VGL_CAUSE_HARDWARE, T("2026-11-12T00:00:00Z"), T("2026-11-12T01:00:00Z"));
	/* after now: has not happened */
	add_iv(c, VGL_CAUSE_HARDWARE, T("2026-11-20T00:00:00Z"), T("2026-11-20T01:00:00Z"));
	ASSERT_EQ(vgl_sla_calc_add_observed(c, T("2026-11-10T00:00:00Z"), T("2026-11-12T12:00:00Z")), 0);
	ASSERT_EQ(vgl_sla_calc_finish(c, &r), 0);
	ASSERT_EQ(r.partial, 1);
	ASSERT_EQ(r.in_progress, 1);
	ASSERT_EQ(r.period_start_ms, T("2026-11-10T00:00:00Z"));
	ASSERT_EQ(r.period_end_ms, T("2026-12-01T00:00:00Z"));
	ASSERT_EQ(r.period_ms, 21 * D);
	ASSERT_EQ(r.elapsed_ms, 5 * D);
	ASSERT_EQ(r.downtime_ms, H);
	/* 1 - 1/504 = 99.8015...%; allowance 1,814,400,000 x 0.0006 */
	ASSERT_EQ(r.up_num, 503);
	ASSERT_EQ(r.up_den, 504);
	ASSERT_EQ(r.uptime_e4, 998015);
	ASSERT_EQ(r.band, 1);
	ASSERT_EQ(r.credit, 30);
	ASSERT_EQ(r.allowance_ms, 1088640);
	ASSERT_EQ(r.allowance_left_ms, 1088640 - 3600000);
	/* coverage is of the 5 days that have passed: 2.5 of them watched */
	ASSERT_EQ(r.observed_ms, 2 * D + 12 * H);
	ASSERT(r.coverage_pct == 50.0);
	vgl_sla_calc_free(c);
}

TEST(sla_progress_dst_month_berlin)
{
	/* Europe/Berlin: March 2026 is 743 h, October 2026 745 h, whatever
	 * part of them has passed. 30 minutes down in each. */
	static const struct {
		int month;
		const char *now, *s, *e;
		int64_t hours, up_e4, allowance;
	} cases[] = {
		/* 1 - 1800000 / 2,674,800,000 = 99.93270...%, allowance x 0.0006 */
		{ 3, "2026-03-15T00:00:00Z", "2026-03-10T08:00:00Z", "2026-03-10T08:30:00Z", 743,
		  999327, 1604880 },
		/* 1 - 1800000 / 2,682,000,000 = 99.93288...% */
		{ 10, "2026-10-20T00:00:00Z", "2026-10-02T08:00:00Z", "2026-10-02T08:30:00Z", 745,
		  999328, 1609200 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int64_t m0, m1;
		struct vgl_sla_calc *c = calc_month("vserver", "Europe/Berlin", 2026, cases[i].month,
						    T(cases[i].now), 0, 0, &m0, &m1);
		struct vgl_sla_result r;

		add_iv(c, VGL_CAUSE_NETWORK, T(cases[i].s), T(cases[i].e));
		ASSERT_EQ(vgl_sla_calc_finish(c, &r), 0);
		ASSERT_EQ(r.in_progress, 1);
		ASSERT_EQ(r.month_ms, cases[i].hours * H);
		ASSERT_EQ(r.period_ms, cases[i].hours * H);
		ASSERT_EQ(r.downtime_ms, 30 * MIN);
		ASSERT_EQ(r.uptime_e4, cases[i].up_e4);
		ASSERT_EQ(r.breached, 1);
		ASSERT_EQ(r.band, 0);
		ASSERT_EQ(r.credit, 10);
		ASSERT_EQ(r.allowance_ms, cases[i].allowance);
		ASSERT_EQ(r.allowance_left_ms, cases[i].allowance - 30 * MIN);
		vgl_sla_calc_free(c);
	}
}

TEST(sla_progress_vstorage_blocks_of_the_whole_month)
{
	/* vstorage in progress: the average is over every 5-minute block of
	 * the month (8,640 in 30 days), the blocks to come at rate 0, so a
	 * failing block already weighs what it will at the month's end. */
	struct vgl_sla_policy p = policy_tz("vstorage", "UTC");
	int64_t m0, m1, t0 = T("2026-11-02T00:00:00Z");
	struct vgl_sla_calc *c;
	struct vgl_sla_result r;
	struct vgl_sla_counter s0 = { t0, 1000, 0 }, s1 = { t0 + 5 * MIN, 2000, 1000 };

	ASSERT_EQ(vgl_sla_month_bounds("UTC", 2026, 11, &m0, &m1), 0);
	c = vgl_sla_calc_new(&p, m0, m1, T("2026-11-03T00:00:00Z"), 0, 0);
	ASSERT(c != NULL);
	ASSERT_EQ(vgl_sla_calc_add_counter(c, &s0, 64), 0);
	ASSERT_EQ(vgl_sla_calc_add_counter(c, &s1, 64), 0);
	ASSERT_EQ(vgl_sla_calc_finish(c, &r), 0);
	ASSERT_EQ(r.blocks, 8640);
	ASSERT_EQ(r.requests, 1000);
	ASSERT_EQ(r.failures, 1000);
	/* one block at rate 1 of 8,640: 1 - 1/8640 = 99.98842...% */
	ASSERT_EQ(r.up_num, 8639);
	ASSERT_EQ(r.up_den, 8640);
	ASSERT_EQ(r.breached, 1);               /* below 99.99 */
	ASSERT_EQ(r.band, -1);                  /* [99.90, 99.99): no credit band */
	vgl_sla_calc_free(c);
}
