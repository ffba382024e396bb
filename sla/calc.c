/* One host, one month: from intervals, maintenance windows, observed spans
 * and counter samples to uptime, band and credit (../shared/SLA.md
 * "Formulas", "Maintenance", "Error-rate services"; docs/sla.md).
 *
 * Invariants:
 *  - the period [p0, p1) is fixed at creation: the month cut to the service
 *    window, and never to now. A month in progress is measured against the
 *    whole period with the downtime counted so far, so its uptime, band and
 *    credit are what is already owed and can only get worse as the month
 *    goes on (SLA.md: "total minutes in the month"); a rate over the time
 *    elapsed would fall and then recover with no new outage;
 *  - what has happened is [p0, upto), upto = now held inside the period:
 *    intervals, observed spans and counter samples are clipped to it, so a
 *    calc holds one host-month and nothing outside it except one counter
 *    sample before the period (needed for the first delta);
 *  - time sets (counted downtime, qualifying maintenance, observed spans)
 *    are computed as sorted unions of half-open segments, so overlaps count
 *    once;
 *  - every comparison with a bound is on integers: uptime >= b (b in 10^-4
 *    percent) <=> num * 10^6 >= b * den, with 128-bit intermediates. Only the
 *    vstorage average of block rates may not fit an exact 128-bit fraction;
 *    then it is bracketed within N * 2^-64 and a bound inside the bracket is
 *    decided for the customer (as not reached).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sla/sla.h"

typedef unsigned __int128 u128;

#define BLOCK_MS (5 * 60 * 1000)
#define E6 1000000

struct seg {
	int64_t s, e;
};

struct iv_rec {
	struct vgl_sla_interval iv;     /* note/rule point to owned copies */
	int64_t s, e;                   /* clipped to the period; s == e: empty */
	int64_t maint_ex;
};

struct mt_rec {
	struct vgl_sla_maint m;         /* note points to an owned copy */
	int qualifies;
	int64_t excluded;
};

struct ctr {
	int64_t ts;
	uint64_t total, failed;
	int bits;
};

struct vgl_sla_calc {
	struct vgl_sla_policy p;
	int64_t m0, m1, now;
	int64_t p0, p1;
	int64_t upto;                   /* min(max(now, p0), p1): counted up to here */
	int partial, in_progress;
	struct iv_rec *ivs;
	size_t n_ivs, cap_ivs;
	struct mt_rec *mts;
	size_t n_mts, cap_mts;
	struct seg *obs;
	size_t n_obs, cap_obs;
	struct ctr *ctrs;
	size_t n_ctrs, cap_ctrs;
	struct ctr pre;                 /* latest sample before the period */
	int have_pre;
	struct seg *excl;               /* after finish: maintenance-excluded time */
	size_t n_excl;
};

/* The uptime as an exact fraction, or (vstorage only) as a bracket of the
 * sum of block error rates: sum * 2^64 in [lo, hi], over n blocks. */
struct block {
	uint64_t total, failed;
};

/* Arbitrary-precision naturals, little-endian 64-bit limbs: only for a
 * vstorage month whose sum of block rates lies within the bracket's width
 * of a bound (in practice: exactly on it). */
struct big {
	uint64_t *d;
	size_t n;
};

struct uptime {
	int exact;
	u128 num, den;
	u128 lo, hi, n;
	/* bracket mode: the blocks, and sum = P / L once computed */
	const struct block *blocks;
	struct big L, P;
	int have_lp, nomem;
};

static int grow(void **arr, size_t *cap, size_t n, size_t elem)
{
	size_t ncap;
	void *na;

	if (n < *cap)
		return 0;
	ncap = *cap ? *cap * 2 : 16;
	na = realloc(*arr, ncap * elem);
	if (!na)
		return -ENOMEM;
	*arr = na;
	*cap = ncap;
	return 0;
}

static int64_t max64(int64_t a, int64_t b)
{
	return a > b ? a : b;
}

static int64_t min64(int64_t a, int64_t b)
{
	return a < b ? a : b;
}

struct vgl_sla_calc *vgl_sla_calc_new(const struct vgl_sla_policy *p, int64_t month_start_ms,
				      int64_t month_end_ms, int64_t now_ms, int64_t svc_start_ms,
				      int64_t svc_end_ms)
{
	struct vgl_sla_calc *c;

	if (!p || month_end_ms <= month_start_ms || vgl_sla_policy_check(p, NULL, 0) != 0)
		return NULL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->p = *p;
	c->m0 = month_start_ms;
	c->m1 = month_end_ms;
	c->now = now_ms;
	c->p0 = month_start_ms;
	c->p1 = month_end_ms;
	if (svc_start_ms && svc_start_ms > c->p0) {
		c->p0 = svc_start_ms;
		c->partial = 1;
	}
	if (svc_end_ms && svc_end_ms < c->p1) {
		c->p1 = svc_end_ms;
		c->partial = 1;
	}
	if (c->p1 < c->p0)
		c->p1 = c->p0;
	/* A period not yet over keeps its whole length; only what has
	 * happened so far is counted (see the header). */
	c->in_progress = now_ms < c->p1;
	c->upto = min64(max64(now_ms, c->p0), c->p1);
	return c;
}

static int dup_str(const char *s, const char **out)
{
	char *d;

	*out = NULL;
	if (!s)
		return 0;
	d = strdup(s);
	if (!d)
		return -ENOMEM;
	*out = d;
	return 0;
}

int vgl_sla_calc_add_interval(struct vgl_sla_calc *c, const struct vgl_sla_interval *iv)
{
	struct iv_rec *r;
	int64_t end;

	if (iv->cause < 0 || iv->cause >= VGL_CAUSE_COUNT || iv->end_ms < iv->start_ms)
		return -EINVAL;
	end = iv->end_ms == VGL_SLA_OPEN ? c->now : iv->end_ms;
	/* Outside what has happened of the period it can neither count nor
	 * be evidence. */
	if (end <= c->p0 || iv->start_ms >= c->upto)
		return 0;
	if (grow((void **)&c->ivs, &c->cap_ivs, c->n_ivs, sizeof(*c->ivs)))
		return -ENOMEM;
	r = &c->ivs[c->n_ivs];
	memset(r, 0, sizeof(*r));
	r->iv = *iv;
	if (dup_str(iv->note, &r->iv.note))
		return -ENOMEM;
	if (dup_str(iv->rule, &r->iv.rule)) {
		free((void *)r->iv.note);
		return -ENOMEM;
	}
	r->s = max64(iv->start_ms, c->p0);
	r->e = min64(end, c->upto);
	c->n_ivs++;
	return 0;
}

int vgl_sla_calc_add_maint(struct vgl_sla_calc *c, const struct vgl_sla_maint *m)
{
	struct mt_rec *r;

	if ((m->kind != VGL_MAINT_PLANNED && m->kind != VGL_MAINT_EMERGENCY) || m->end_ms <= m->start_ms)
		return -EINVAL;
	/* Kept when it touches the calendar month, so a report can show a
	 * window still to come; only the period part can exclude anything. */
	if (m->end_ms <= c->m0 || m->start_ms >= c->m1)
		return 0;
	if (grow((void **)&c->mts, &c->cap_mts, c->n_mts, sizeof(*c->mts)))
		return -ENOMEM;
	r = &c->mts[c->n_mts];
	memset(r, 0, sizeof(*r));
	r->m = *m;
	if (dup_str(m->note, &r->m.note))
		return -ENOMEM;
	c->n_mts++;
	return 0;
}

int vgl_sla_calc_add_observed(struct vgl_sla_calc *c, int64_t start_ms, int64_t end_ms)
{
	if (end_ms < start_ms)
		return -EINVAL;
	start_ms = max64(start_ms, c->p0);
	end_ms = min64(end_ms, c->upto);
	if (end_ms <= start_ms)
		return 0;
	if (grow((void **)&c->obs, &c->cap_obs, c->n_obs, sizeof(*c->obs)))
		return -ENOMEM;
	c->obs[c->n_obs++] = (struct seg){ start_ms, end_ms };
	return 0;
}

int vgl_sla_calc_add_counter(struct vgl_sla_calc *c, const struct vgl_sla_counter *s, int wrap_bits)
{
	struct ctr k = { s->ts_ms, s->total, s->failed, wrap_bits };

	if (wrap_bits != 32 && wrap_bits != 64)
		return -EINVAL;
	if (s->ts_ms >= c->upto)
		return 0;
	if (s->ts_ms < c->p0) {
		/* Only the last one before the period matters: it is the base
		 * of the first delta inside it. */
		if (!c->have_pre || s->ts_ms >= c->pre.ts) {
			c->pre = k;
			c->have_pre = 1;
		}
		return 0;
	}
	if (grow((void **)&c->ctrs, &c->cap_ctrs, c->n_ctrs, sizeof(*c->ctrs)))
		return -ENOMEM;
	c->ctrs[c->n_ctrs++] = k;
	return 0;
}

static int cmp_seg(const void *a, const void *b)
{
	const struct seg *x = a, *y = b;

	if (x->s != y->s)
		return x->s < y->s ? -1 : 1;
	return (x->e > y->e) - (x->e < y->e);
}

static int cmp_iv(const void *a, const void *b)
{
	const struct iv_rec *x = a, *y = b;

	if (x->s != y->s)
		return x->s < y->s ? -1 : 1;
	if (x->e != y->e)
		return x->e < y->e ? -1 : 1;
	return (x->iv.id > y->iv.id) - (x->iv.id < y->iv.id);
}

static int cmp_mt(const void *a, const void *b)
{
	const struct mt_rec *x = a, *y = b;

	if (x->m.start_ms != y->m.start_ms)
		return x->m.start_ms < y->m.start_ms ? -1 : 1;
	return (x->m.id > y->m.id) - (x->m.id < y->m.id);
}

static int cmp_ctr(const void *a, const void *b)
{
	const struct ctr *x = a, *y = b;

	return (x->ts > y->ts) - (x->ts < y->ts);
}

/* Sorts and merges in place; returns the new count. Touching segments
 * merge too: [a,b) + [b,c) = [a,c). */
static size_t seg_union(struct seg *v, size_t n)
{
	size_t k = 0;

	if (!n)
		return 0;
	qsort(v, n, sizeof(*v), cmp_seg);
	for (size_t i = 1; i < n; i++) {
		if (v[i].s <= v[k].e)
			v[k].e = max64(v[k].e, v[i].e);
		else
			v[++k] = v[i];
	}
	return k + 1;
}

static int64_t seg_total(const struct seg *v, size_t n)
{
	int64_t t = 0;

	for (size_t i = 0; i < n; i++)
		t += v[i].e - v[i].s;
	return t;
}

/* |[s,e) ∩ v| for a sorted disjoint v. */
static int64_t seg_overlap(const struct seg *v, size_t n, int64_t s, int64_t e)
{
	int64_t t = 0;

	for (size_t i = 0; i < n && v[i].s < e; i++) {
		int64_t a = max64(s, v[i].s), b = min64(e, v[i].e);

		if (b > a)
			t += b - a;
	}
	return t;
}

static u128 gcd128(u128 a, u128 b)
{
	while (b) {
		u128 t = a % b;

		a = b;
		b = t;
	}
	return a;
}

static void big_mul_small(struct big *b, uint64_t m)
{
	u128 carry = 0;

	for (size_t i = 0; i < b->n; i++) {
		u128 x = (u128)b->d[i] * m + carry;

		b->d[i] = (uint64_t)x;
		carry = x >> 64;
	}
	if (carry)
		b->d[b->n++] = (uint64_t)carry;
}

static uint64_t big_mod_small(const struct big *b, uint64_t m)
{
	u128 r = 0;

	for (size_t i = b->n; i-- > 0;)
		r = ((r << 64) | b->d[i]) % m;
	return (uint64_t)r;
}

/* acc += (a / m) * f, a divisible by m; acc has room for a->n + 2 limbs. */
static void big_add_quot_mul(struct big *acc, const struct big *a, uint64_t m, uint64_t f)
{
	u128 r = 0, carry = 0;
	size_t i;

	/* the quotient's limbs come most significant first: keep them */
	uint64_t *q = acc->d + a->n + 2;

	for (i = a->n; i-- > 0;) {
		u128 x = (r << 64) | a->d[i];

		q[i] = (uint64_t)(x / m);
		r = x % m;
	}
	for (i = 0; i < a->n || carry; i++) {
		u128 x = (i < acc->n ? acc->d[i] : 0) + carry + (i < a->n ? (u128)q[i] * f : 0);

		acc->d[i] = (uint64_t)x;
		carry = x >> 64;
		if (i >= acc->n)
			acc->n = i + 1;
	}
}

static int big_cmp(const struct big *a, const struct big *b)
{
	size_t na = a->n, nb = b->n;

	while (na && !a->d[na - 1])
		na--;
	while (nb && !b->d[nb - 1])
		nb--;
	if (na != nb)
		return na < nb ? -1 : 1;
	for (size_t i = na; i-- > 0;)
		if (a->d[i] != b->d[i])
			return a->d[i] < b->d[i] ? -1 : 1;
	return 0;
}

/* sum of block rates = P / L exactly, L = lcm of the totals of blocks
 * with failures. Each limb array gets room for every factor plus the
 * products by 10^6 and by n (10^6 - b) and, for P, a scratch quotient. */
static int exact_sum(struct uptime *u)
{
	size_t k = 0, cap;

	for (u128 i = 0; i < u->n; i++)
		k += u->blocks[i].failed != 0;
	cap = k + 4;
	u->L.d = calloc(cap, sizeof(uint64_t));
	u->P.d = calloc(2 * cap, sizeof(uint64_t));
	if (!u->L.d || !u->P.d)
		return -ENOMEM;
	u->L.d[0] = 1;
	u->L.n = 1;
	for (u128 i = 0; i < u->n; i++) {
		const struct block *b = &u->blocks[i];
		uint64_t g;

		if (!b->failed)
			continue;
		g = (uint64_t)gcd128(big_mod_small(&u->L, b->total), b->total);
		big_mul_small(&u->L, b->total / g);
	}
	for (u128 i = 0; i < u->n; i++)
		if (u->blocks[i].failed)
			big_add_quot_mul(&u->P, &u->L, u->blocks[i].total, u->blocks[i].failed);
	u->have_lp = 1;
	return 0;
}

/* uptime >= b_e4 / 10^6 */
static int up_ge(struct uptime *u, int64_t b_e4)
{
	struct big a, b;
	u128 r;
	int ge;

	if (u->exact)
		return u->num * E6 >= (u128)b_e4 * u->den;
	/* 1 - sum/n >= b/10^6  <=>  sum * 10^6 <= n * (10^6 - b), sum in 2^-64 */
	r = u->n * (u128)(E6 - b_e4) << 64;
	if (u->hi * E6 <= r)
		return 1;
	if (u->lo * E6 > r)
		return 0;
	/* Within the bracket: decide on the exact sum P / L. */
	if (!u->have_lp && exact_sum(u) != 0) {
		u->nomem = 1;
		return 0;
	}
	a.d = calloc(u->P.n + 2, sizeof(uint64_t));
	b.d = calloc(u->L.n + 2, sizeof(uint64_t));
	if (!a.d || !b.d) {
		free(a.d);
		free(b.d);
		u->nomem = 1;
		return 0;
	}
	memcpy(a.d, u->P.d, u->P.n * sizeof(uint64_t));
	a.n = u->P.n;
	memcpy(b.d, u->L.d, u->L.n * sizeof(uint64_t));
	b.n = u->L.n;
	big_mul_small(&a, E6);
	big_mul_small(&b, (uint64_t)(u->n * (u128)(E6 - b_e4)));
	ge = big_cmp(&a, &b) <= 0;
	free(a.d);
	free(b.d);
	return ge;
}

/* floor(uptime x scale) */
static int64_t up_floor(const struct uptime *u, int64_t scale)
{
	u128 d;

	if (u->exact)
		return (int64_t)(u->num * (u128)scale / u->den);
	d = u->n << 64;
	/* the lower end of the bracket: never shows more than was earned */
	return (int64_t)((d - u->hi) * (u128)scale / d);
}

static uint64_t ctr_delta(uint64_t prev, uint64_t cur, int bits)
{
	if (bits == 32) {
		prev &= 0xffffffffu;
		cur &= 0xffffffffu;
	}
	if (cur >= prev)
		return cur - prev;
	/* A 32-bit counter that was in its upper half and is now in its lower
	 * half went round; any other decrease is a restart from zero (agent
	 * reboot, counter reset), and what was counted since is cur. */
	if (bits == 32 && prev > (1ull << 31) && cur < (1ull << 31))
		return cur + (1ull << 32) - prev;
	return cur;
}

static uint64_t sat_add(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

/* Walks consecutive samples; fn gets each delta whose later sample lies in
 * the period, with that sample's time. */
static void each_delta(struct vgl_sla_calc *c, void (*fn)(void *, int64_t, uint64_t, uint64_t),
		       void *ctx)
{
	const struct ctr *prev = c->have_pre ? &c->pre : NULL;

	if (c->n_ctrs)
		qsort(c->ctrs, c->n_ctrs, sizeof(*c->ctrs), cmp_ctr);
	for (size_t i = 0; i < c->n_ctrs; i++) {
		const struct ctr *cur = &c->ctrs[i];

		if (prev) {
			uint64_t dt = ctr_delta(prev->total, cur->total, cur->bits);
			uint64_t df = ctr_delta(prev->failed, cur->failed, cur->bits);

			/* Failures are a subset of requests; a pair that says
			 * otherwise (one counter reset, the other not) is held to
			 * at most all requests failed. */
			fn(ctx, cur->ts, dt, df < dt ? df : dt);
		}
		prev = cur;
	}
}

struct sums {
	struct vgl_sla_calc *c;
	struct block *blocks;
	u128 total, failed;
	uint64_t req, fail;
};

static void add_delta(void *ctx, int64_t ts, uint64_t dt, uint64_t df)
{
	struct sums *s = ctx;

	s->total += dt;
	s->failed += df;
	s->req = sat_add(s->req, dt);
	s->fail = sat_add(s->fail, df);
	if (s->blocks) {
		struct block *b = &s->blocks[(ts - s->c->p0) / BLOCK_MS];

		b->total = sat_add(b->total, dt);
		b->failed = sat_add(b->failed, df);
	}
}

/* vstorage: 1 - average over all n blocks of failed/total (a block with
 * no requests has rate 0). Exact while the running sum of rates reduces
 * to a fraction that fits; otherwise a 2^-64 bracket. */
static void blocks_uptime(const struct block *b, size_t n, struct uptime *u)
{
	u128 P = 0, Q = 1;
	int exact = 1;

	memset(u, 0, sizeof(*u));
	for (size_t i = 0; i < n && exact; i++) {
		u128 g, qn, pn, t1, t2;

		if (!b[i].failed)
			continue;
		g = gcd128(Q, b[i].total);
		if (__builtin_mul_overflow(Q / g, (u128)b[i].total, &qn) ||
		    __builtin_mul_overflow(P, (u128)(b[i].total / g), &t1) ||
		    __builtin_mul_overflow((u128)b[i].failed, Q / g, &t2) ||
		    __builtin_add_overflow(t1, t2, &pn)) {
			exact = 0;
			break;
		}
		g = gcd128(pn, qn);
		P = pn / g;
		Q = qn / g;
		if (Q >> 62)
			exact = 0;
	}
	if (exact) {
		u128 d = Q * n, g;

		u->exact = 1;
		if (!n) {
			u->num = u->den = 1;
			return;
		}
		g = gcd128(d - P, d);
		u->num = (d - P) / g;
		u->den = d / g;
		if (!u->num)
			u->den = 1;
		return;
	}
	u->n = n;
	for (size_t i = 0; i < n; i++) {
		if (!b[i].failed)
			continue;
		u128 x = ((u128)b[i].failed << 64) / b[i].total;

		u->lo += x;
		u->hi += x;
		if (((u128)b[i].failed << 64) % b[i].total)
			u->hi += 1;
	}
	u->blocks = b;
}

static int error_uptime(struct vgl_sla_calc *c, struct vgl_sla_result *r, struct uptime *u,
			struct block **blocks)
{
	int64_t period = c->p1 - c->p0;
	struct sums s = { .c = c };
	size_t n = 0;

	if (c->p.kind == VGL_SLA_BLOCK_ERRORS) {
		n = (size_t)((period + BLOCK_MS - 1) / BLOCK_MS);
		if (n) {
			s.blocks = calloc(n, sizeof(*s.blocks));
			if (!s.blocks)
				return -ENOMEM;
		}
	}
	each_delta(c, add_delta, &s);
	r->requests = s.req;
	r->failures = s.fail;
	if (c->p.kind == VGL_SLA_BLOCK_ERRORS) {
		double sum = 0;

		r->blocks = (int)n;
		blocks_uptime(s.blocks, n, u);
		for (size_t i = 0; i < n; i++)
			if (s.blocks[i].total)
				sum += (double)s.blocks[i].failed / (double)s.blocks[i].total;
		r->blocks_failed_rate_pct = n ? sum / (double)n * 100 : 0;
		*blocks = s.blocks;     /* the bracket may need them for an exact tie */
		return 0;
	}
	/* vcdn: 1 - failed/total over the cycle; no requests, no errors. */
	memset(u, 0, sizeof(*u));
	u->exact = 1;
	if (!s.total) {
		u->num = u->den = 1;
	} else {
		u128 g = gcd128(s.total - s.failed, s.total);

		u->num = (s.total - s.failed) / g;
		u->den = s.total / g;
		if (!u->num)
			u->den = 1;
	}
	return 0;
}

/* Counted downtime inside qualifying windows, chronologically, up to the
 * monthly cap; fills c->excl and the per-window and per-part shares. */
static int maint_exclude(struct vgl_sla_calc *c, const struct seg *u, size_t nu, int64_t *total)
{
	struct seg *w = NULL;
	size_t nw = 0, i = 0, j = 0;
	int64_t left = c->p.maint_cap_ms, reach = INT64_MIN;

	*total = 0;
	if (c->n_mts) {
		w = malloc(c->n_mts * sizeof(*w));
		if (!w)
			return -ENOMEM;
	}
	if (c->n_mts)
		qsort(c->mts, c->n_mts, sizeof(*c->mts), cmp_mt);
	for (size_t k = 0; k < c->n_mts; k++) {
		struct mt_rec *m = &c->mts[k];
		int64_t a = max64(m->m.start_ms, c->p0), b = min64(m->m.end_ms, c->p1);

		m->qualifies = m->m.start_ms - m->m.announced_ms >= c->p.notice_ms[m->m.kind];
		m->excluded = 0;
		if (m->qualifies && b > a)
			w[nw++] = (struct seg){ a, b };
	}
	nw = seg_union(w, nw);
	free(c->excl);
	c->excl = NULL;
	c->n_excl = 0;
	if (nu + nw) {
		c->excl = malloc((nu + nw) * sizeof(*c->excl));
		if (!c->excl) {
			free(w);
			return -ENOMEM;
		}
	}
	/* The intersection of two sorted disjoint lists, in time order. */
	while (i < nu && j < nw && left > 0) {
		int64_t a = max64(u[i].s, w[j].s), b = min64(u[i].e, w[j].e);

		if (b > a) {
			int64_t take = min64(b - a, left);

			c->excl[c->n_excl++] = (struct seg){ a, a + take };
			left -= take;
			*total += take;
		}
		if (u[i].e < w[j].e)
			i++;
		else
			j++;
	}
	free(w);
	/* Each window is credited with the excluded time in the part of it no
	 * earlier-starting window covers. */
	for (size_t k = 0; k < c->n_mts; k++) {
		struct mt_rec *m = &c->mts[k];

		if (!m->qualifies)
			continue;
		int64_t a = max64(max64(m->m.start_ms, c->p0), reach), b = min64(m->m.end_ms, c->p1);

		if (b > a)
			m->excluded = seg_overlap(c->excl, c->n_excl, a, b);
		reach = max64(reach, m->m.end_ms);
	}
	return 0;
}

int vgl_sla_calc_finish(struct vgl_sla_calc *c, struct vgl_sla_result *r)
{
	int64_t period = c->p1 - c->p0;
	struct seg *tmp = NULL;
	size_t n;
	struct uptime u;
	struct block *blocks = NULL;
	int rc;

	memset(r, 0, sizeof(*r));
	r->month_ms = c->m1 - c->m0;
	r->period_ms = period;
	r->month_start_ms = c->m0;
	r->month_end_ms = c->m1;
	r->period_start_ms = c->p0;
	r->period_end_ms = c->p1;
	r->partial = c->partial;
	r->in_progress = c->in_progress;
	r->begun = c->now >= c->p0;
	r->as_of_ms = c->now;
	r->elapsed_ms = c->upto - c->p0;
	r->allowance_ms = (int64_t)((u128)period * (u128)(E6 - c->p.commitment_e4) / E6);

	if (c->n_ivs)
		qsort(c->ivs, c->n_ivs, sizeof(*c->ivs), cmp_iv);
	if (c->n_ivs) {
		tmp = malloc(c->n_ivs * sizeof(*tmp));
		if (!tmp)
			return -ENOMEM;
	}
	/* Per non-counted cause: its own union, for the report. */
	for (int cause = 0; cause < VGL_CAUSE_COUNT; cause++) {
		if (c->p.counted & (1u << cause))
			continue;
		n = 0;
		for (size_t i = 0; i < c->n_ivs; i++)
			if (c->ivs[i].iv.cause == cause && c->ivs[i].e > c->ivs[i].s)
				tmp[n++] = (struct seg){ c->ivs[i].s, c->ivs[i].e };
		r->excluded_ms[cause] = seg_total(tmp, seg_union(tmp, n));
	}
	n = 0;
	for (size_t i = 0; i < c->n_ivs; i++)
		if ((c->p.counted & (1u << c->ivs[i].iv.cause)) && c->ivs[i].e > c->ivs[i].s)
			tmp[n++] = (struct seg){ c->ivs[i].s, c->ivs[i].e };
	n = seg_union(tmp, n);
	r->counted_ms = seg_total(tmp, n);
	rc = maint_exclude(c, tmp, n, &r->maint_excluded_ms);
	free(tmp);
	if (rc)
		return rc;
	for (size_t i = 0; i < c->n_ivs; i++) {
		struct iv_rec *v = &c->ivs[i];

		v->maint_ex = (c->p.counted & (1u << v->iv.cause))
				      ? seg_overlap(c->excl, c->n_excl, v->s, v->e)
				      : 0;
	}
	r->downtime_ms = r->counted_ms - r->maint_excluded_ms;
	r->allowance_left_ms = r->allowance_ms - r->downtime_ms;

	n = seg_union(c->obs, c->n_obs);
	c->n_obs = n;
	r->observed_ms = seg_total(c->obs, n);
	/* Coverage is of the time that has passed: the rest of the month
	 * cannot have been watched yet. */
	r->coverage_pct = r->elapsed_ms ? (double)((u128)r->observed_ms * 1000000 /
						   (u128)r->elapsed_ms) / 10000
					: 0;

	if (c->p.kind == VGL_SLA_AVAILABILITY) {
		memset(&u, 0, sizeof(u));
		u.exact = 1;
		if (period) {
			u128 g = gcd128((u128)(period - r->downtime_ms), (u128)period);

			u.num = (u128)(period - r->downtime_ms) / g;
			u.den = (u128)period / g;
			if (!u.num)
				u.den = 1;
		} else {
			u.num = u.den = 1;      /* nothing measured: nothing missed */
		}
	} else if ((rc = error_uptime(c, r, &u, &blocks)) != 0) {
		return rc;
	}

	r->uptime_e4 = up_floor(&u, E6);
	/* The bracket's floor may sit one below an uptime exactly on a
	 * 10^-4 step; the exact comparison settles it. */
	while (!u.exact && r->uptime_e4 < E6 && up_ge(&u, r->uptime_e4 + 1))
		r->uptime_e4++;
	r->uptime_e10 = up_floor(&u, 1000000000000LL);
	r->uptime_pct = (double)r->uptime_e10 / 1e10;
	if (u.exact && u.num <= INT64_MAX && u.den <= INT64_MAX) {
		r->up_exact = 1;
		r->up_num = (int64_t)u.num;
		r->up_den = (int64_t)u.den;
	} else {
		r->up_num = r->uptime_e10;
		r->up_den = 1000000000000LL;
	}
	r->breached = !up_ge(&u, c->p.commitment_e4);
	r->band = -1;
	if (r->breached) {
		for (size_t i = 0; i < c->p.n_bands; i++) {
			if (up_ge(&u, c->p.bands[i].from_e4) && !up_ge(&u, c->p.bands[i].to_e4)) {
				r->band = (int)i;
				r->credit = c->p.bands[i].credit;
				break;
			}
		}
	}
	free(u.L.d);
	free(u.P.d);
	free(blocks);
	return u.nomem ? -ENOMEM : 0;
}

void vgl_sla_calc_each_part(const struct vgl_sla_calc *c, vgl_sla_part_fn *fn, void *ctx)
{
	for (size_t i = 0; i < c->n_ivs; i++) {
		const struct iv_rec *v = &c->ivs[i];
		struct vgl_sla_part part = {
			&v->iv, v->s, v->e, (c->p.counted >> v->iv.cause) & 1, v->maint_ex,
		};

		if (v->e > v->s)
			fn(ctx, &part);
	}
}

void vgl_sla_calc_each_maint(const struct vgl_sla_calc *c, vgl_sla_maint_fn *fn, void *ctx)
{
	for (size_t i = 0; i < c->n_mts; i++) {
		const struct mt_rec *m = &c->mts[i];
		struct vgl_sla_maint_part mp = {
			&m->m, m->qualifies, m->m.start_ms - m->m.announced_ms, m->excluded,
		};

		fn(ctx, &mp);
	}
}

const struct vgl_sla_policy *vgl_sla_calc_policy(const struct vgl_sla_calc *c)
{
	return &c->p;
}

void vgl_sla_calc_free(struct vgl_sla_calc *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n_ivs; i++) {
		free((void *)c->ivs[i].iv.note);
		free((void *)c->ivs[i].iv.rule);
	}
	for (size_t i = 0; i < c->n_mts; i++)
		free((void *)c->mts[i].m.note);
	free(c->ivs);
	free(c->mts);
	free(c->obs);
	free(c->ctrs);
	free(c->excl);
	free(c);
}
