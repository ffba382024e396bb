/* Budget figures solved from sla/calc.c's band comparisons
 * (sla/budget.h).
 *
 * calc.c: uptime u = (P - D) / P, and "u >= b" (b in 10^-4 percent) is
 * (P - D) * 10^6 >= b * P. For integer D that holds exactly while
 * D <= floor(P * (10^6 - b) / 10^6), so the band can only change at
 * D = floor(P * (10^6 - b) / 10^6) + 1 for a bound b of the policy (the
 * commitment, each band's from and to). The next band is found by
 * evaluating the band, with calc.c's own test, at each such threshold
 * above the current downtime in increasing order.
 */
#include "sla/budget.h"

typedef unsigned __int128 u128;

#define E6 1000000

/* (P - D) / P >= b / 10^6, as calc.c decides it (D <= P). */
static int up_ge(int64_t P, int64_t D, int64_t b)
{
	return (u128)(P - D) * E6 >= (u128)b * (u128)P;
}

/* The credit calc.c would give at downtime D: 0 when not breached or in
 * no band. */
static int64_t credit_at(const struct vgl_sla_policy *p, int64_t P, int64_t D)
{
	if (up_ge(P, D, p->commitment_e4))
		return 0;
	for (size_t i = 0; i < p->n_bands; i++)
		if (up_ge(P, D, p->bands[i].from_e4) && !up_ge(P, D, p->bands[i].to_e4))
			return p->bands[i].credit;
	return 0;
}

/* The least D at which u >= b no longer holds. */
static int64_t threshold(int64_t P, int64_t b)
{
	return (int64_t)((u128)P * (u128)(E6 - b) / E6) + 1;
}

int64_t vgl_sla_next_band_at(const struct vgl_sla_policy *p, int64_t P, int64_t D)
{
	int64_t cur, best = -1;
	int64_t cand[1 + 2 * VGL_SLA_MAX_BANDS];
	size_t n = 0;

	if (!p || p->kind != VGL_SLA_AVAILABILITY || P <= 0 || D < 0 || D > P)
		return -1;
	cur = credit_at(p, P, D);
	cand[n++] = threshold(P, p->commitment_e4);
	for (size_t i = 0; i < p->n_bands && i < VGL_SLA_MAX_BANDS; i++) {
		cand[n++] = threshold(P, p->bands[i].from_e4);
		cand[n++] = threshold(P, p->bands[i].to_e4);
	}
	/* Between thresholds the band is constant, so the first threshold
	 * above D whose credit is higher is the answer. n is at most 17: a
	 * scan for the least qualifying one beats sorting. */
	for (size_t i = 0; i < n; i++) {
		int64_t t = cand[i];

		if (t <= D || t > P)
			continue;
		if ((best < 0 || t < best) && credit_at(p, P, t) > cur)
			best = t;
	}
	return best < 0 ? -1 : best - D;
}

int64_t vgl_sla_next_band_ms(const struct vgl_sla_policy *p, const struct vgl_sla_result *r)
{
	if (!p || !r)
		return -1;
	return vgl_sla_next_band_at(p, r->period_ms, r->downtime_ms);
}

int64_t vgl_sla_allowance_used_mark_ms(const struct vgl_sla_result *r, int pct)
{
	u128 x;
	int64_t mark;

	if (pct < 0)
		pct = 0;
	if (pct > 100)
		pct = 100;
	x = (u128)r->allowance_ms * (u128)pct;
	mark = (int64_t)((x + 99) / 100);
	return mark - r->downtime_ms;
}
