/* Helpers the SLA core's unit tests share: times, preset calcs, and the
 * parts a calc reports. Static: each test file gets its own copy. */
#ifndef VGL_TEST_SLA_UTIL_H
#define VGL_TEST_SLA_UTIL_H

#include "core/vtime.h"
#include "sla/sla.h"
#include "test/test.h"

#define SEC 1000LL
#define MIN (60 * SEC)
#define H (60 * MIN)
#define D (24 * H)

static __attribute__((unused)) int64_t T(const char *iso)
{
	int64_t t;

	if (vgl_parse_iso(iso, &t) != 0) {
		fprintf(stderr, "bad time in test: %s\n", iso);
		vgl_test_fail();
	}
	return t;
}

static __attribute__((unused)) struct vgl_sla_policy policy_tz(const char *preset, const char *tz)
{
	const struct vgl_sla_policy *p = vgl_sla_preset(preset);
	struct vgl_sla_policy q;

	ASSERT(p != NULL);
	q = *p;
	snprintf(q.tz, sizeof(q.tz), "%s", tz);
	return q;
}

/* A calc for a month of a preset in a zone; m0 and m1 get its bounds. */
static __attribute__((unused)) struct vgl_sla_calc *calc_month(const char *preset, const char *tz, int y, int m, int64_t now,
				       int64_t svc0, int64_t svc1, int64_t *m0, int64_t *m1)
{
	struct vgl_sla_policy p = policy_tz(preset, tz);
	struct vgl_sla_calc *c;

	ASSERT_EQ(vgl_sla_month_bounds(tz, y, m, m0, m1), 0);
	c = vgl_sla_calc_new(&p, *m0, *m1, now ? now : *m1 + D, svc0, svc1);
	ASSERT(c != NULL);
	return c;
}

static __attribute__((unused)) void add_iv(struct vgl_sla_calc *c, int cause, int64_t s, int64_t e)
{
	struct vgl_sla_interval iv = { 0, cause, s, e, NULL, NULL };

	ASSERT_EQ(vgl_sla_calc_add_interval(c, &iv), 0);
}

static __attribute__((unused)) void add_mt(struct vgl_sla_calc *c, enum vgl_maint_kind k, int64_t s, int64_t e, int64_t ann)
{
	struct vgl_sla_maint m = { 0, k, s, e, ann, NULL };

	ASSERT_EQ(vgl_sla_calc_add_maint(c, &m), 0);
}

struct parts {
	int n;
	int64_t start[8], end[8], maint[8];
	int counted[8];
};

static __attribute__((unused)) void collect_part(void *ctx, const struct vgl_sla_part *p)
{
	struct parts *ps = ctx;

	ASSERT(ps->n < 8);
	ps->start[ps->n] = p->start_ms;
	ps->end[ps->n] = p->end_ms;
	ps->maint[ps->n] = p->maint_excluded_ms;
	ps->counted[ps->n] = p->counted;
	ps->n++;
}

#endif
