/* One host-month from the database, and customer totals
 * (sla/host_month.h). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sla/host_month.h"
#include "sla/jw.h"
#include "sla/report.h"

struct span {
	int64_t s, e;
};

struct vgl_sla_source {
	struct vgl_sla_db *sdb;
	/* the spans of [obs_m0, obs_m1), when have_obs */
	int have_obs;
	int64_t obs_m0, obs_m1;
	struct span *obs;
	size_t n_obs, cap_obs;
};

struct vgl_host_month {
	const struct vgl_conf_host *h;
	char month[24];
	struct vgl_sla_calc *calc;
	struct vgl_sla_result res;
	int unknown_causes;
};

static int fail(int rc, char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int fail(int rc, char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return rc;
}

#define NOMEM(err, errlen) fail(VGL_HOST_MONTH_NOMEM, err, errlen, "out of memory")

/* ---- the source: observed spans, per database ---- */

struct vgl_sla_source *vgl_sla_source_new(struct vgl_sla_db *sdb)
{
	struct vgl_sla_source *src = calloc(1, sizeof(*src));

	if (src)
		src->sdb = sdb;
	return src;
}

void vgl_sla_source_free(struct vgl_sla_source *src)
{
	if (!src)
		return;
	free(src->obs);
	free(src);
}

static int on_span(void *ctx, int64_t s, int64_t e)
{
	struct vgl_sla_source *src = ctx;

	if (src->n_obs == src->cap_obs) {
		size_t cap = src->cap_obs ? src->cap_obs * 2 : 16;
		struct span *n = realloc(src->obs, cap * sizeof(*n));

		if (!n)
			return 1;
		src->obs = n;
		src->cap_obs = cap;
	}
	src->obs[src->n_obs++] = (struct span){ s, e };
	return 0;
}

/* Hosts of one zone share month bounds, so a report reads the runs once
 * per zone it meets in a row, not once per host. */
static int load_observed(struct vgl_sla_source *src, int64_t m0, int64_t m1, char *err,
			 size_t errlen)
{
	int rc;

	if (src->have_obs && src->obs_m0 == m0 && src->obs_m1 == m1)
		return 0;
	src->have_obs = 0;
	src->n_obs = 0;
	rc = vgl_sla_db_observed(src->sdb, m0, m1, on_span, src, err, errlen);
	if (rc < 0)
		return VGL_HOST_MONTH_DB;
	if (rc > 0)
		return NOMEM(err, errlen);
	src->have_obs = 1;
	src->obs_m0 = m0;
	src->obs_m1 = m1;
	return 0;
}

/* ---- feeding one host's month ---- */

struct feed {
	struct vgl_sla_calc *calc;
	int wrap_bits;                  /* of the host's SNMP counters */
	int unknown_causes;
};

static int on_interval(void *ctx, const struct vgl_sla_db_interval *iv)
{
	struct feed *f = ctx;
	int cause = vgl_cause_index(iv->cause);
	struct vgl_sla_interval si = {
		.id = iv->id, .start_ms = iv->start_ms,
		.end_ms = iv->is_open ? VGL_SLA_OPEN : iv->end_ms,
		.note = iv->note, .rule = iv->opened_by,
	};

	/* Every writer checks causes; should one slip through, it counts, as
	 * unattributed downtime does (SLA.md: the customer must not lose). */
	if (cause < 0) {
		cause = VGL_CAUSE_UNKNOWN;
		f->unknown_causes++;
	}
	si.cause = cause;
	return vgl_sla_calc_add_interval(f->calc, &si) ? 1 : 0;
}

static int on_maint(void *ctx, const struct vgl_sla_db_maint *m)
{
	struct feed *f = ctx;
	struct vgl_sla_maint sm = {
		.id = m->id,
		.kind = m->kind == VGL_SLA_DB_EMERGENCY ? VGL_MAINT_EMERGENCY : VGL_MAINT_PLANNED,
		.start_ms = m->start_ms, .end_ms = m->end_ms, .announced_ms = m->announced_ms,
		.note = m->note,
	};

	return vgl_sla_calc_add_maint(f->calc, &sm) ? 1 : 0;
}

static int on_counter(void *ctx, const struct vgl_sla_db_counter *c)
{
	struct feed *f = ctx;
	struct vgl_sla_counter s = { .ts_ms = c->ts_ms, .total = c->total, .failed = c->failed };

	/* Imported rows are 64-bit whatever the host's SNMP pair is. */
	return vgl_sla_calc_add_counter(f->calc, &s, c->from_poll ? f->wrap_bits : 64) ? 1 : 0;
}

/* A streaming read's return value as ours: < 0 the database's, > 0 a
 * callback's (every one of them fails only for memory). */
static int read_rc(int rc, char *err, size_t errlen)
{
	if (rc < 0)
		return VGL_HOST_MONTH_DB;
	if (rc > 0)
		return NOMEM(err, errlen);
	return 0;
}

static int feed_host(struct vgl_sla_source *src, const struct vgl_conf_host *h,
		     const struct vgl_sla_policy *p, int64_t m0, int64_t m1, struct feed *f,
		     char *err, size_t errlen)
{
	struct vgl_sla_db *sdb = src->sdb;
	int64_t host_id;
	int rc;

	if (vgl_sla_db_host_id(sdb, h->name, &host_id, err, errlen) != 0)
		return VGL_HOST_MONTH_DB;
	/* A host the database never saw has no intervals or samples, but its
	 * site's windows and the daemon's coverage still apply. */
	if (host_id &&
	    (rc = read_rc(vgl_sla_db_host_intervals(sdb, host_id, m0, m1, on_interval, f, err,
						    errlen), err, errlen)) != 0)
		return rc;
	rc = read_rc(vgl_sla_db_host_maints(sdb, host_id, h->site, m0, m1, on_maint, f, err,
					    errlen), err, errlen);
	if (rc != 0)
		return rc;
	if ((rc = load_observed(src, m0, m1, err, errlen)) != 0)
		return rc;
	for (size_t i = 0; i < src->n_obs; i++)
		if (vgl_sla_calc_add_observed(f->calc, src->obs[i].s, src->obs[i].e) != 0)
			return NOMEM(err, errlen);
	if (p->kind != VGL_SLA_AVAILABILITY && host_id)
		return read_rc(vgl_sla_db_host_counters(sdb, host_id, m0, m1, on_counter, f, err,
							errlen), err, errlen);
	return 0;
}

int vgl_host_month(struct vgl_sla_source *src, const struct vgl_conf_host *h, int year,
		   int month, int64_t now_ms, struct vgl_host_month **out, char *err,
		   size_t errlen)
{
	const struct vgl_sla_policy *p = h->policy;
	struct feed f = { .wrap_bits = 64 };
	struct vgl_host_month *m;
	int64_t m0, m1;
	int rc;

	*out = NULL;
	if (!p)
		return fail(VGL_HOST_MONTH_HOST, err, errlen, "%s has no service (SLA policy)",
			    h->name);
	m = calloc(1, sizeof(*m));
	if (!m)
		return NOMEM(err, errlen);
	m->h = h;
	snprintf(m->month, sizeof(m->month), "%04d-%02d", year, month);
	if (vgl_sla_month_bounds(p->tz, year, month, &m0, &m1) != 0) {
		rc = fail(VGL_HOST_MONTH_HOST, err, errlen, "%s: cannot compute the month %s in zone '%s'",
			  h->name, m->month, p->tz);
		goto out_free;
	}
	if (h->profile && h->profile->has_counters)
		f.wrap_bits = h->profile->counters.bits == 32 ? 32 : 64;
	m->calc = vgl_sla_calc_new(p, m0, m1, now_ms, h->service_start_ms, h->service_end_ms);
	if (!m->calc) {
		rc = fail(VGL_HOST_MONTH_HOST, err, errlen,
			  "%s: cannot set up the computation (policy %s)", h->name, p->name);
		goto out_free;
	}
	f.calc = m->calc;
	if ((rc = feed_host(src, h, p, m0, m1, &f, err, errlen)) != 0)
		goto out_free;
	if (vgl_sla_calc_finish(m->calc, &m->res) != 0) {
		rc = fail(VGL_HOST_MONTH_HOST, err, errlen, "%s: computing %s failed (out of memory?)",
			  h->name, m->month);
		goto out_free;
	}
	m->unknown_causes = f.unknown_causes;
	*out = m;
	return 0;

out_free:
	vgl_host_month_free(m);
	return rc;
}

void vgl_host_month_free(struct vgl_host_month *m)
{
	if (!m)
		return;
	vgl_sla_calc_free(m->calc);
	free(m);
}

const struct vgl_conf_host *vgl_host_month_host(const struct vgl_host_month *m)
{
	return m->h;
}

const char *vgl_host_month_text(const struct vgl_host_month *m)
{
	return m->month;
}

const struct vgl_sla_calc *vgl_host_month_calc(const struct vgl_host_month *m)
{
	return m->calc;
}

const struct vgl_sla_result *vgl_host_month_result(const struct vgl_host_month *m)
{
	return &m->res;
}

int vgl_host_month_unknown_causes(const struct vgl_host_month *m)
{
	return m->unknown_causes;
}

void vgl_host_month_json(struct vgl_jw *w, const struct vgl_host_month *m)
{
	vgl_sla_report_fields(w, m->h->name, m->month, m->calc, &m->res, 1);
	vgl_jw_key_lit(w, VGL_JW_KEY("customer"));
	vgl_jw_str(w, m->h->customer);
	vgl_jw_key_lit(w, VGL_JW_KEY("site"));
	vgl_jw_str(w, m->h->site);
}

/* ---- customer totals ---- */

struct total {
	struct vgl_sla_total pub;
	const char **names;             /* pub.breached_hosts */
	size_t cap_names;
};

struct vgl_sla_totals {
	struct total *cust;             /* in order of first appearance */
	size_t n_cust, cap_cust;
	/* open addressing over cust by name: index + 1, 0 = empty; at most
	 * half full. 500 customers x 10,000 hosts made a scan show in perf. */
	size_t *slot;
	size_t n_slot;
};

struct vgl_sla_totals *vgl_sla_totals_new(void)
{
	return calloc(1, sizeof(struct vgl_sla_totals));
}

void vgl_sla_totals_free(struct vgl_sla_totals *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->n_cust; i++)
		free(t->cust[i].names);
	free(t->cust);
	free(t->slot);
	free(t);
}

/* FNV-1a; NULL (no customer) hashes as the empty name. */
static size_t name_hash(const char *s)
{
	uint64_t h = 14695981039346656037ull;

	for (; s && *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return (size_t)h;
}

static int same_name(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

/* Rebuilds the slots with n of them (a power of two). 0, or -1. */
static int rehash(struct vgl_sla_totals *t, size_t n)
{
	size_t *slot = calloc(n, sizeof(*slot));

	if (!slot)
		return -1;
	for (size_t i = 0; i < t->n_cust; i++) {
		size_t k = name_hash(t->cust[i].pub.customer) & (n - 1);

		while (slot[k])
			k = (k + 1) & (n - 1);
		slot[k] = i + 1;
	}
	free(t->slot);
	t->slot = slot;
	t->n_slot = n;
	return 0;
}

static struct total *customer(struct vgl_sla_totals *t, const char *name)
{
	size_t k;

	if (2 * (t->n_cust + 1) > t->n_slot && rehash(t, t->n_slot ? 2 * t->n_slot : 64) != 0)
		return NULL;
	for (k = name_hash(name) & (t->n_slot - 1); t->slot[k]; k = (k + 1) & (t->n_slot - 1))
		if (same_name(t->cust[t->slot[k] - 1].pub.customer, name))
			return &t->cust[t->slot[k] - 1];
	if (t->n_cust == t->cap_cust) {
		size_t cap = t->cap_cust ? t->cap_cust * 2 : 16;
		struct total *nc = realloc(t->cust, cap * sizeof(*nc));

		if (!nc)
			return NULL;
		t->cust = nc;
		t->cap_cust = cap;
	}
	memset(&t->cust[t->n_cust], 0, sizeof(t->cust[0]));
	t->cust[t->n_cust].pub.customer = name;
	t->slot[k] = t->n_cust + 1;
	return &t->cust[t->n_cust++];
}

static int add_breached(struct total *c, const char *name)
{
	if (c->pub.n_breached == c->cap_names) {
		size_t cap = c->cap_names ? c->cap_names * 2 : 8;
		const char **n = realloc(c->names, cap * sizeof(*n));

		if (!n)
			return -1;
		c->names = n;
		c->cap_names = cap;
		c->pub.breached_hosts = n;
	}
	c->names[c->pub.n_breached++] = name;
	return 0;
}

int vgl_sla_totals_add(struct vgl_sla_totals *t, const struct vgl_conf_host *h,
		       const struct vgl_host_month *m)
{
	struct total *c = customer(t, h->customer);
	const struct vgl_sla_result *res;

	if (!c)
		return -ENOMEM;
	if (!m) {
		c->pub.skipped++;
		return 0;
	}
	res = &m->res;
	/* The one step that can fail goes first, so a failure adds nothing. */
	if (res->breached && add_breached(c, h->name) != 0)
		return -ENOMEM;
	c->pub.hosts++;
	c->pub.downtime_ms += res->downtime_ms;
	if (res->breached)
		c->pub.breached++;
	if (vgl_sla_calc_policy(m->calc)->unit == VGL_CREDIT_DAYS) {
		c->pub.credit_days += res->credit;
	} else if (res->credit > 0) {
		c->pub.credit_percent_hosts++;
		c->pub.credit_percent_sum += res->credit;
	}
	return 0;
}

size_t vgl_sla_totals_count(const struct vgl_sla_totals *t)
{
	return t->n_cust;
}

const struct vgl_sla_total *vgl_sla_totals_at(const struct vgl_sla_totals *t, size_t i)
{
	return &t->cust[i].pub;
}

void vgl_sla_total_json(struct vgl_jw *w, const struct vgl_sla_total *t, const char *month)
{
	vgl_jw_key_lit(w, VGL_JW_KEY("customer"));
	vgl_jw_str(w, t->customer);
	vgl_jw_key_lit(w, VGL_JW_KEY("month"));
	vgl_jw_str(w, month);
	vgl_jw_key_lit(w, VGL_JW_KEY("hosts"));
	vgl_jw_int(w, t->hosts);
	vgl_jw_key_lit(w, VGL_JW_KEY("skipped"));
	vgl_jw_int(w, t->skipped);
	vgl_jw_key_lit(w, VGL_JW_KEY("breached"));
	vgl_jw_int(w, t->breached);
	vgl_jw_key_lit(w, VGL_JW_KEY("breached_hosts"));
	vgl_jw_arr(w);
	for (size_t i = 0; i < t->n_breached; i++)
		vgl_jw_str(w, t->breached_hosts[i]);
	vgl_jw_arr_end(w);
	vgl_jw_key_lit(w, VGL_JW_KEY("credit_percent_hosts"));
	vgl_jw_int(w, t->credit_percent_hosts);
	vgl_jw_key_lit(w, VGL_JW_KEY("credit_percent_sum"));
	vgl_jw_int(w, t->credit_percent_sum);
	vgl_jw_key_lit(w, VGL_JW_KEY("credit_days"));
	vgl_jw_int(w, t->credit_days);
	vgl_jw_key_lit(w, VGL_JW_KEY("downtime_ms"));
	vgl_jw_int(w, t->downtime_ms);
}
