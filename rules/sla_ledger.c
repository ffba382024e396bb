/* One host's SLA month so far (rules/sla_ledger.h).
 *
 * Invariants:
 *  - [m0, m1) is the month holding the now of the last new/get (never
 *    moves back); every interval held ends at or after m0 or is open, every
 *    window held ends after m0;
 *  - have_base: base is what vgl_sla_calc gave at t_base over exactly the
 *    intervals and windows held now (any change clears it), and the
 *    aggregates below were taken from the same data;
 *  - the fast path (see the header) is used only when it provably equals a
 *    full computation at the new now.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/vtime.h"
#include "rules/sla_ledger.h"
#include "sla/budget.h"
#include "storage/sla_db.h"

#define RECOMPUTE_MS 1000

struct ivl {
	int64_t id;
	int cause;
	int64_t s, e;           /* e VGL_SLA_OPEN while open */
};

struct mnt {
	struct vgl_sla_maint m; /* note always NULL */
};

struct seg {
	int64_t s, e;
};

struct vgl_sla_ledger {
	struct vgl_sla_policy p;
	int64_t svc0, svc1;
	int year, month;
	int64_t m0, m1;
	struct ivl *iv;
	size_t n_iv, cap_iv;
	struct mnt *mt;
	size_t n_mt, cap_mt;

	/* the last full computation */
	int have_base;
	int64_t t_base;
	struct vgl_sla_result base;
	int any_open, open_counted;
	int64_t max_closed_end;         /* INT64_MIN when none */
	int64_t max_open_start;         /* of open counted intervals */
	struct seg *qw;                 /* qualifying windows cut to the period, union, sorted */
	size_t n_qw, cap_qw;
};

static int grow(void **arr, size_t *cap, size_t n, size_t elem)
{
	size_t ncap;
	void *na;

	if (n < *cap)
		return 0;
	ncap = *cap ? *cap * 2 : 8;
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

static int set_month(struct vgl_sla_ledger *l, int year, int month)
{
	if (vgl_sla_month_bounds(l->p.tz, year, month, &l->m0, &l->m1) != 0)
		return -1;
	l->year = year;
	l->month = month;
	return 0;
}

/* The month holding now in the policy's zone: its UTC month, or the one
 * before or after (a zone is less than a day off UTC). */
static int month_of(struct vgl_sla_ledger *l, int64_t now)
{
	char iso[VGL_ISO_LEN];
	int y, m;

	vgl_format_iso(now, iso);
	iso[7] = '\0';
	if (vgl_sla_month_parse(iso, &y, &m) != 0 || set_month(l, y, m) != 0)
		return -1;
	if (now < l->m0) {
		if (set_month(l, m == 1 ? y - 1 : y, m == 1 ? 12 : m - 1) != 0)
			return -1;
	} else if (now >= l->m1) {
		if (set_month(l, m == 12 ? y + 1 : y, m == 12 ? 1 : m + 1) != 0)
			return -1;
	}
	return 0;
}

struct vgl_sla_ledger *vgl_sla_ledger_new(const struct vgl_sla_policy *p, int64_t svc_start_ms,
					  int64_t svc_end_ms, int64_t now_ms)
{
	struct vgl_sla_ledger *l;

	if (!p || vgl_sla_policy_check(p, NULL, 0) != 0)
		return NULL;
	l = calloc(1, sizeof(*l));
	if (!l)
		return NULL;
	l->p = *p;
	l->svc0 = svc_start_ms;
	l->svc1 = svc_end_ms;
	if (month_of(l, now_ms) != 0) {
		free(l);
		return NULL;
	}
	return l;
}

void vgl_sla_ledger_free(struct vgl_sla_ledger *l)
{
	if (!l)
		return;
	free(l->iv);
	free(l->mt);
	free(l->qw);
	free(l);
}

void vgl_sla_ledger_month(const struct vgl_sla_ledger *l, int64_t *start_ms, int64_t *end_ms)
{
	*start_ms = l->m0;
	*end_ms = l->m1;
}

int vgl_sla_ledger_add_interval(struct vgl_sla_ledger *l, int64_t id, int cause,
				int64_t start_ms, int64_t end_ms)
{
	struct ivl v;

	if (end_ms < start_ms)
		return -EINVAL;
	/* SLA.md: the customer must not lose by a cause no writer knows. */
	if (cause < 0 || cause >= VGL_CAUSE_COUNT)
		cause = VGL_CAUSE_UNKNOWN;
	v = (struct ivl){ id, cause, start_ms, end_ms };
	if (id > 0) {
		for (size_t i = 0; i < l->n_iv; i++) {
			if (l->iv[i].id == id) {
				if (end_ms != VGL_SLA_OPEN && end_ms <= l->m0) {
					l->iv[i] = l->iv[--l->n_iv];
				} else {
					l->iv[i] = v;
				}
				l->have_base = 0;
				return 0;
			}
		}
	}
	if (end_ms != VGL_SLA_OPEN && end_ms <= l->m0)
		return 0;
	if (grow((void **)&l->iv, &l->cap_iv, l->n_iv, sizeof(*l->iv)))
		return -ENOMEM;
	l->iv[l->n_iv++] = v;
	l->have_base = 0;
	return 0;
}

int vgl_sla_ledger_close(struct vgl_sla_ledger *l, int64_t end_ms)
{
	int n = 0;

	for (size_t i = 0; i < l->n_iv; i++) {
		if (l->iv[i].e == VGL_SLA_OPEN) {
			l->iv[i].e = max64(end_ms, l->iv[i].s);
			n++;
		}
	}
	if (n)
		l->have_base = 0;
	return n;
}

int vgl_sla_ledger_add_maint(struct vgl_sla_ledger *l, const struct vgl_sla_maint *m)
{
	struct mnt w;

	if ((m->kind != VGL_MAINT_PLANNED && m->kind != VGL_MAINT_EMERGENCY) ||
	    m->end_ms <= m->start_ms)
		return -EINVAL;
	w.m = *m;
	w.m.note = NULL;
	if (m->id > 0) {
		for (size_t i = 0; i < l->n_mt; i++) {
			if (l->mt[i].m.id == m->id) {
				l->mt[i] = w;
				l->have_base = 0;
				return 0;
			}
		}
	}
	if (m->end_ms <= l->m0)
		return 0;
	if (grow((void **)&l->mt, &l->cap_mt, l->n_mt, sizeof(*l->mt)))
		return -ENOMEM;
	l->mt[l->n_mt++] = w;
	l->have_base = 0;
	return 0;
}

void vgl_sla_ledger_remove_maint(struct vgl_sla_ledger *l, int64_t id)
{
	for (size_t i = 0; i < l->n_mt; i++) {
		if (l->mt[i].m.id == id) {
			l->mt[i] = l->mt[--l->n_mt];
			l->have_base = 0;
			return;
		}
	}
}

/* Starts the month holding now; drops what ended before it. */
static int rollover(struct vgl_sla_ledger *l, int64_t now)
{
	size_t k = 0;

	if (month_of(l, now) != 0)
		return -1;
	for (size_t i = 0; i < l->n_iv; i++)
		if (l->iv[i].e == VGL_SLA_OPEN || l->iv[i].e > l->m0)
			l->iv[k++] = l->iv[i];
	l->n_iv = k;
	k = 0;
	for (size_t i = 0; i < l->n_mt; i++)
		if (l->mt[i].m.end_ms > l->m0)
			l->mt[k++] = l->mt[i];
	l->n_mt = k;
	l->have_base = 0;
	return 0;
}

static int cmp_seg(const void *a, const void *b)
{
	const struct seg *x = a, *y = b;

	return x->s < y->s ? -1 : x->s > y->s;
}

/* The windows that qualify (calc.c's notice rule) cut to the period, as a
 * sorted union. */
static int qualifying(struct vgl_sla_ledger *l)
{
	int64_t p0 = l->base.period_start_ms, p1 = l->base.period_end_ms;
	size_t n = 0, k = 0;

	l->n_qw = 0;
	for (size_t i = 0; i < l->n_mt; i++) {
		const struct vgl_sla_maint *m = &l->mt[i].m;
		int64_t a = max64(m->start_ms, p0), b = min64(m->end_ms, p1);

		if (m->start_ms - m->announced_ms < l->p.notice_ms[m->kind] || b <= a)
			continue;
		if (grow((void **)&l->qw, &l->cap_qw, n, sizeof(*l->qw)))
			return -ENOMEM;
		l->qw[n++] = (struct seg){ a, b };
	}
	if (n)
		qsort(l->qw, n, sizeof(*l->qw), cmp_seg);
	for (size_t i = 0; i < n; i++) {
		if (k && l->qw[i].s <= l->qw[k - 1].e)
			l->qw[k - 1].e = max64(l->qw[k - 1].e, l->qw[i].e);
		else
			l->qw[k++] = l->qw[i];
	}
	l->n_qw = k;
	return 0;
}

static int full(struct vgl_sla_ledger *l, int64_t now)
{
	struct vgl_sla_calc *c;
	int rc = 0;

	l->have_base = 0;
	c = vgl_sla_calc_new(&l->p, l->m0, l->m1, now, l->svc0, l->svc1);
	if (!c)
		return -ENOMEM;
	l->any_open = 0;
	l->open_counted = 0;
	l->max_closed_end = INT64_MIN;
	l->max_open_start = INT64_MIN;
	for (size_t i = 0; i < l->n_iv && !rc; i++) {
		const struct ivl *v = &l->iv[i];
		struct vgl_sla_interval si = { .id = v->id, .cause = v->cause, .start_ms = v->s,
					       .end_ms = v->e };

		if (v->e == VGL_SLA_OPEN) {
			l->any_open = 1;
			if (l->p.counted & (1u << v->cause)) {
				l->open_counted++;
				l->max_open_start = max64(l->max_open_start, v->s);
			}
		} else {
			l->max_closed_end = max64(l->max_closed_end, v->e);
		}
		rc = vgl_sla_calc_add_interval(c, &si);
	}
	for (size_t i = 0; i < l->n_mt && !rc; i++)
		rc = vgl_sla_calc_add_maint(c, &l->mt[i].m);
	if (!rc)
		rc = vgl_sla_calc_finish(c, &l->base);
	vgl_sla_calc_free(c);
	if (!rc)
		rc = qualifying(l);
	if (rc)
		return rc < 0 ? rc : -ENOMEM;
	l->t_base = now;
	l->have_base = 1;
	return 0;
}

static int64_t overlap(const struct seg *v, size_t n, int64_t s, int64_t e)
{
	int64_t t = 0;

	for (size_t i = 0; i < n && v[i].s < e; i++) {
		int64_t a = max64(s, v[i].s), b = min64(e, v[i].e);

		if (b > a)
			t += b - a;
	}
	return t;
}

static void put(const struct vgl_sla_ledger *l, int64_t downtime, struct vgl_expr_sla *out)
{
	memset(out, 0, sizeof(*out));
	out->known = 1;
	out->allowance_ms = l->base.allowance_ms;
	out->downtime_ms = downtime;
	out->allowance_left_ms = l->base.allowance_ms - downtime;
	out->next_band_ms = vgl_sla_next_band_at(&l->p, l->base.period_ms, downtime);
	out->unavailable = l->any_open;
}

int vgl_sla_ledger_get(struct vgl_sla_ledger *l, int64_t now, struct vgl_expr_sla *out)
{
	int64_t p0, p1, a, b, left, ex;
	int rc;

	memset(out, 0, sizeof(*out));
	if (now >= l->m1 && rollover(l, now) != 0)
		return -EINVAL;
	if (!l->have_base)
		goto recompute;
	/* Not provable: the clock went back, or a closed interval reaches
	 * past the last computation (it was cut there). */
	if (now < l->t_base || l->max_closed_end > l->t_base ||
	    (l->open_counted && l->max_open_start > l->t_base)) {
		if (now - l->t_base >= RECOMPUTE_MS || now < l->t_base - RECOMPUTE_MS)
			goto recompute;
		put(l, l->base.downtime_ms, out);
		return 0;
	}
	if (!l->open_counted) {
		/* Every counted interval is closed and cut nowhere: the figures
		 * do not depend on now. */
		put(l, l->base.downtime_ms, out);
		return 0;
	}
	/* A counted interval open since before t_base covers [t_base, now):
	 * the downtime grows by the new time of the period, less what
	 * qualifying windows exclude of it while the cap lasts. */
	p0 = l->base.period_start_ms;
	p1 = l->base.period_end_ms;
	a = min64(max64(l->t_base, p0), p1);
	b = min64(max64(now, p0), p1);
	left = max64(l->p.maint_cap_ms - l->base.maint_excluded_ms, 0);
	ex = min64(overlap(l->qw, l->n_qw, a, b), left);
	put(l, l->base.downtime_ms + (b - a) - ex, out);
	return 0;

recompute:
	if ((rc = full(l, now)) != 0) {
		memset(out, 0, sizeof(*out));
		return rc;
	}
	put(l, l->base.downtime_ms, out);
	return 0;
}

/* ---- loading from the database ---- */

struct load {
	struct vgl_sla_ledger *l;
	int rc;
};

static int on_interval(void *ctx, const struct vgl_sla_db_interval *iv)
{
	struct load *ld = ctx;

	ld->rc = vgl_sla_ledger_add_interval(ld->l, iv->id, vgl_cause_index(iv->cause),
					     iv->start_ms, iv->is_open ? VGL_SLA_OPEN : iv->end_ms);
	return ld->rc ? 1 : 0;
}

static int on_maint(void *ctx, const struct vgl_sla_db_maint *m)
{
	struct load *ld = ctx;
	struct vgl_sla_maint sm = {
		.id = m->id,
		.kind = m->kind == VGL_SLA_DB_EMERGENCY ? VGL_MAINT_EMERGENCY : VGL_MAINT_PLANNED,
		.start_ms = m->start_ms, .end_ms = m->end_ms, .announced_ms = m->announced_ms,
	};

	ld->rc = vgl_sla_ledger_add_maint(ld->l, &sm);
	return ld->rc ? 1 : 0;
}

int vgl_sla_ledger_load_sdb(struct vgl_sla_db *sdb, int64_t host_id, const char *site,
			    struct vgl_sla_ledger *l, char *err, size_t errlen)
{
	struct load ld = { l, 0 };
	int rc = 0;

	/* The reads of sla/host_month.c's feed_host, for the same month. */
	if (host_id > 0)
		rc = vgl_sla_db_host_intervals(sdb, host_id, l->m0, l->m1, on_interval, &ld, err,
					       errlen);
	if (rc == 0)
		rc = vgl_sla_db_host_maints(sdb, host_id, site, l->m0, l->m1, on_maint, &ld, err,
					    errlen);
	if (rc > 0) {
		snprintf(err, errlen, "%s", ld.rc == -ENOMEM ? "out of memory" : "bad row");
		return -1;
	}
	return rc < 0 ? -1 : 0;
}

int vgl_sla_ledger_load(struct vgl_sql *db, int64_t host_id, const char *site, struct vgl_sla_ledger *l,
			char *err, size_t errlen)
{
	struct vgl_sla_db *sdb;
	int rc;

	if (vgl_sla_db_new(db, &sdb, err, errlen) != 0)
		return -1;
	rc = vgl_sla_ledger_load_sdb(sdb, host_id, site, l, err, errlen);
	vgl_sla_db_free(sdb);
	return rc;
}
