/* sla/budget.h against sla/calc.c itself: the downtime it names moves the
 * band, one millisecond less does not. */
#include "sla/budget.h"
#include "sla/sla.h"
#include "test/test.h"
#include "test/unit/sla_util.h"

/* The result of a month of preset with downtime d (one counted interval
 * from the month's start), as of the month's end. */
static struct vgl_sla_result month_with(const char *preset, const char *tz, int64_t d)
{
	int64_t m0, m1;
	struct vgl_sla_calc *c = calc_month(preset, tz, 2026, 11, 0, 0, 0, &m0, &m1);
	struct vgl_sla_result r;

	if (d > 0)
		add_iv(c, VGL_CAUSE_HARDWARE, m0, m0 + d);
	ASSERT_EQ(vgl_sla_calc_finish(c, &r), 0);
	vgl_sla_calc_free(c);
	return r;
}

/* From downtime d: next band at d + nb exactly (credit rises there and not
 * one ms before). Returns nb. */
static int64_t check_boundary(const char *preset, const char *tz, int64_t d)
{
	const struct vgl_sla_policy *p = vgl_sla_preset(preset);
	struct vgl_sla_result r = month_with(preset, tz, d), at, before;
	int64_t nb = vgl_sla_next_band_ms(p, &r);

	ASSERT_GT(nb, 0);
	at = month_with(preset, tz, d + nb);
	before = month_with(preset, tz, d + nb - 1);
	ASSERT_GT(at.credit, r.credit);
	ASSERT_EQ(before.credit, r.credit);
	ASSERT_NE(at.band, before.band);
	return nb;
}

TEST(sla_budget_next_band_vserver)
{
	/* November: 30 days = 2,592,000,000 ms. 99.94% allows
	 * floor(2592000000 x 600 / 10^6) = 1,555,200 ms: one more is a breach
	 * (band 0, 10%); 99.90%: 2,592,000 allowed, 2,592,001 is band 1
	 * (30%); 95%: 129,600,001 is band 2 (100%). */
	int64_t nb;

	nb = check_boundary("vserver", "UTC", 0);
	ASSERT_EQ(nb, 1555201);
	ASSERT_EQ(check_boundary("vserver", "UTC", 1000), 1554201);
	ASSERT_EQ(check_boundary("vserver", "UTC", 1555201), 2592001 - 1555201);
	ASSERT_EQ(check_boundary("vserver", "UTC", 2592001), 129600001 - 2592001);
	ASSERT_EQ(check_boundary("vserver", "UTC", 129600000), 1);
	/* the lowest band: nothing higher */
	{
		struct vgl_sla_result r = month_with("vserver", "UTC", 129600001);

		ASSERT_EQ(r.credit, 100);
		ASSERT_LT(vgl_sla_next_band_ms(vgl_sla_preset("vserver"), &r), 0);
	}
}

TEST(sla_budget_next_band_zone_and_days)
{
	/* A month in Asia/Ho_Chi_Minh (same length, other bounds) and vcs,
	 * credited in days with narrower bands; vbaremetal. */
	ASSERT_EQ(check_boundary("vserver", "Asia/Ho_Chi_Minh", 0), 1555201);
	check_boundary("vcs", "UTC", 0);
	check_boundary("vcs", "UTC", 5184001);
	check_boundary("vcs", "UTC", 12960000);
	check_boundary("vbaremetal", "UTC", 77);
}

TEST(sla_budget_next_band_odd_period)
{
	/* A service window whose period does not divide evenly: the floor of
	 * the allowance is where calc.c puts it. */
	const struct vgl_sla_policy *p = vgl_sla_preset("vserver");
	int64_t m0, m1, nb;

	for (int64_t extra = 0; extra < 5; extra++) {
		struct vgl_sla_calc *c;
		struct vgl_sla_result r, a, b;
		int64_t svc0;

		ASSERT_EQ(vgl_sla_month_bounds("UTC", 2026, 11, &m0, &m1), 0);
		svc0 = m0 + 12345677 + extra;
		c = vgl_sla_calc_new(p, m0, m1, m1 + D, svc0, 0);
		ASSERT(c != NULL);
		ASSERT_EQ(vgl_sla_calc_finish(c, &r), 0);
		vgl_sla_calc_free(c);
		nb = vgl_sla_next_band_ms(p, &r);
		ASSERT_GT(nb, 0);
		for (int k = 0; k < 2; k++) {
			c = vgl_sla_calc_new(p, m0, m1, m1 + D, svc0, 0);
			ASSERT(c != NULL);
			add_iv(c, VGL_CAUSE_POWER, svc0, svc0 + nb - k);
			ASSERT_EQ(vgl_sla_calc_finish(c, k ? &b : &a), 0);
			vgl_sla_calc_free(c);
		}
		ASSERT_EQ(a.band, 0);
		ASSERT_EQ(b.band, -1);
		ASSERT_EQ(nb, r.allowance_ms + 1);
	}
}

TEST(sla_budget_next_band_not_time)
{
	struct vgl_sla_result r;

	memset(&r, 0, sizeof(r));
	r.period_ms = 30 * D;
	ASSERT_LT(vgl_sla_next_band_ms(vgl_sla_preset("vstorage"), &r), 0);
	ASSERT_LT(vgl_sla_next_band_ms(vgl_sla_preset("vcdn"), &r), 0);
	ASSERT_GT(vgl_sla_next_band_ms(vgl_sla_preset("vserver"), &r), 0);
	r.period_ms = 0;
	ASSERT_LT(vgl_sla_next_band_ms(vgl_sla_preset("vserver"), &r), 0);
}

TEST(sla_budget_allowance_mark)
{
	struct vgl_sla_result r = month_with("vserver", "UTC", 1000);

	ASSERT_EQ(r.allowance_ms, 1555200);
	ASSERT_EQ(vgl_sla_allowance_used_mark_ms(&r, 50), 777600 - 1000);
	ASSERT_EQ(vgl_sla_allowance_used_mark_ms(&r, 100), 1555200 - 1000);
	ASSERT_EQ(vgl_sla_allowance_used_mark_ms(&r, 0), -1000);
	r.allowance_ms = 3;
	r.downtime_ms = 0;
	ASSERT_EQ(vgl_sla_allowance_used_mark_ms(&r, 50), 2); /* ceil(1.5) */
}
