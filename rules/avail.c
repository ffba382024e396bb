/* Per-host availability state machine (see rules/avail.h, docs/rules.md).
 *
 * Each condition of the profile is in one of three phases, the states of
 * its debouncer (rules/debounce.h; HOLDING is the debouncer's FIRED):
 *
 *   IDLE ----(fail / TRUE)----> PENDING ----(K fails / for_ms)----> HOLDING
 *     ^                            |                                   |
 *     +------(ok poll / FALSE)-----+-----------(ok poll / FALSE)-------+
 *
 * An unreachable condition is a COUNT debouncer over "the poll of its
 * source failed" (ok: FALSE, auth: UNKNOWN, anything else: TRUE), stepped
 * only by that source's results; an expression is a FOR debouncer over its
 * value, read from the host's table of last values (rules/values.h) and
 * stepped by the results of the sources whose metrics it reads. UNKNOWN
 * (missing data) leaves a phase as it is. for_ms == 0 and K == 1 go from
 * IDLE straight to HOLDING.
 *
 * The host has at most one open interval, attributed to one condition, its
 * owner. Transitions, evaluated after every condition has seen an
 * observation:
 *   closed, some condition HOLDING      -> OPEN (the earliest-starting one)
 *   open, owner HOLDING                 -> nothing
 *   open, owner recovered / no owner:
 *       another condition HOLDING       -> CLOSE + OPEN at this ts (split)
 *       some condition PENDING          -> stays open, owner-less
 *       all IDLE and the poll answered  -> CLOSE
 * An owner-less interval (after the owner recovered with another condition
 * pending, after restore_open of a rule the profile lacks, or after rebind)
 * thus closes once the host answers and nothing holds or is pending.
 *
 * Invariants: at most one interval open; CLOSE ts >= its OPEN ts; an OPEN's
 * ts >= the previous CLOSE ts. Event times are clamped to never go back
 * (last_event_ts), so a wall clock stepped backwards cannot break them.
 */
#include "rules/avail.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "core/vtime.h"
#include "rules/debounce.h"
#include "rules/expr.h"
#include "rules/values.h"

/* Metrics recorded per expression condition for evidence; an expression
 * reading more than this records the first ones. */
#define AVAIL_MAX_READS 16

/* Kept small: one per condition per host (100,000 hosts), 32 bytes. The
 * debouncer's configuration is the profile's, rebuilt per observation
 * (cond_cfg) rather than stored per host. */
struct cond_state {
	struct vgl_debounce d;  /* phase; since_ms = first failed poll / first TRUE of
				 * this run; count = consecutive failed polls */
	int64_t last_ts;        /* UNREACHABLE: last failed poll; EXPR: ts it started holding */
	uint16_t vals_off;      /* EXPR: first-TRUE values in vgl_avail.vals */
	uint8_t first_q;        /* UNREACHABLE: quality of the first failed poll */
	uint8_t vals_valid;     /* EXPR: vals hold the first TRUE observation */
	uint8_t n_vals;
};

struct vgl_avail {
	const struct vgl_conf_profile *p;
	struct vgl_values *last;        /* every metric's last value */
	struct cond_state *cs;  /* p->n_conds */
	double *vals;           /* first-TRUE values of expr conditions; NaN = missing */
	int open;
	int owner;              /* condition the open interval is attributed to, or -1 */
	int last_recovered;     /* condition that recovered last while open, or -1 */
	int64_t start_ms;
	int64_t last_event_ts;  /* no event is ever stamped before this */
	const char *cause, *rule;  /* of the open interval */
	char *own;              /* owned copies of cause and rule, when not the profile's */
	/* External conditions (vgl_avail_external); as owner or
	 * last_recovered they are p->n_conds + k. */
	struct ext_state {
		int holding;
		int64_t since;
		char *cause, *rule;     /* owned */
		char *evidence;         /* the last one given, owned */
	} ext[VGL_AVAIL_N_EXT];
};

static const char evidence_oom[] = "{\"error\":\"evidence unavailable: out of memory\"}";

static uint32_t cond_k(const struct vgl_conf_cond *c)
{
	return c->failures ? c->failures : 1;
}

static struct vgl_debounce_cfg cond_cfg(const struct vgl_conf_cond *c)
{
	if (c->kind == VGL_COND_UNREACHABLE)
		return (struct vgl_debounce_cfg){ .mode = VGL_DEB_COUNT, .n = cond_k(c) };
	return (struct vgl_debounce_cfg){ .mode = VGL_DEB_FOR, .n = c->for_ms };
}

static size_t cond_reads(const struct vgl_conf_cond *c, size_t idx[AVAIL_MAX_READS])
{
	size_t n;

	if (c->kind != VGL_COND_EXPR || !c->expr)
		return 0;
	n = vgl_expr_metrics(c->expr, idx, AVAIL_MAX_READS);
	return n > AVAIL_MAX_READS ? AVAIL_MAX_READS : n;
}

/* Allocates condition state for profile p, everything IDLE. */
static int states_alloc(const struct vgl_conf_profile *p, struct cond_state **cs_out,
			double **vals_out)
{
	size_t idx[AVAIL_MAX_READS];
	size_t n_vals = 0;
	struct cond_state *cs;
	double *vals = NULL;

	cs = calloc(p->n_conds ? p->n_conds : 1, sizeof(*cs));
	if (!cs)
		return -ENOMEM;
	for (size_t i = 0; i < p->n_conds; i++) {
		size_t n = cond_reads(&p->conds[i], idx);

		if (n_vals + n > UINT16_MAX)
			n = 0;  /* beyond any real profile: evidence goes without values */
		cs[i].vals_off = (uint16_t)n_vals;
		cs[i].n_vals = (uint8_t)n;
		n_vals += n;
	}
	if (n_vals) {
		vals = malloc(n_vals * sizeof(*vals));
		if (!vals) {
			free(cs);
			return -ENOMEM;
		}
	}
	*cs_out = cs;
	*vals_out = vals;
	return 0;
}

int vgl_avail_create(const struct vgl_conf_profile *profile, struct vgl_avail **out)
{
	struct vgl_avail *a;

	*out = NULL;
	if (!profile)
		return -EINVAL;
	a = calloc(1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	if (!(a->last = vgl_values_create(profile))) {
		free(a);
		return -ENOMEM;
	}
	if (states_alloc(profile, &a->cs, &a->vals) != 0) {
		vgl_values_free(a->last);
		free(a);
		return -ENOMEM;
	}
	a->p = profile;
	a->owner = -1;
	a->last_recovered = -1;
	a->last_event_ts = INT64_MIN;
	*out = a;
	return 0;
}

static void release_strings(struct vgl_avail *a)
{
	free(a->own);
	a->own = NULL;
	a->cause = NULL;
	a->rule = NULL;
}

static void ext_clear(struct ext_state *x)
{
	free(x->cause);
	free(x->rule);
	free(x->evidence);
	memset(x, 0, sizeof(*x));
}

void vgl_avail_free(struct vgl_avail *a)
{
	if (!a)
		return;
	for (int k = 0; k < VGL_AVAIL_N_EXT; k++)
		ext_clear(&a->ext[k]);
	release_strings(a);
	vgl_values_free(a->last);
	free(a->vals);
	free(a->cs);
	free(a);
}

static int find_cond(const struct vgl_conf_profile *p, const char *name)
{
	if (!name)
		return -1;
	for (size_t i = 0; i < p->n_conds; i++)
		if (p->conds[i].name && strcmp(p->conds[i].name, name) == 0)
			return (int)i;
	return -1;
}

static int is_ext(const struct vgl_avail *a, int ci)
{
	return ci >= (int)a->p->n_conds;
}

static const struct ext_state *ext_of(const struct vgl_avail *a, int ci)
{
	return &a->ext[ci - (int)a->p->n_conds];
}

static const char *cond_name(const struct vgl_avail *a, int ci)
{
	if (is_ext(a, ci))
		return ext_of(a, ci)->rule ? ext_of(a, ci)->rule : "";
	return a->p->conds[ci].name ? a->p->conds[ci].name : "";
}

static const char *cond_cause(const struct vgl_avail *a, int ci)
{
	if (is_ext(a, ci))
		return ext_of(a, ci)->cause ? ext_of(a, ci)->cause : "unknown";
	return a->p->conds[ci].cause ? a->p->conds[ci].cause : "unknown";
}

/* One allocation for both strings: "cause\0rule\0". */
static char *copy_pair(const char *cause, const char *rule, const char **c_out,
		       const char **r_out)
{
	size_t lc = strlen(cause), lr = strlen(rule);
	char *s = malloc(lc + lr + 2);

	if (!s)
		return NULL;
	memcpy(s, cause, lc + 1);
	memcpy(s + lc + 1, rule, lr + 1);
	*c_out = s;
	*r_out = s + lc + 1;
	return s;
}

/* Marks condition i as holding since start_ms, for an interval that was
 * opened before this object knew about it (restart, reload). */
static void assume_holding(struct vgl_avail *a, int i, int64_t start_ms)
{
	struct cond_state *s = &a->cs[i];

	if (s->d.state == VGL_DEB_FIRED)
		return;
	vgl_debounce_adopt(&s->d, start_ms, cond_k(&a->p->conds[i]));
	s->last_ts = start_ms;
	s->first_q = VGL_Q_OK;
	s->vals_valid = 0;
}

void vgl_avail_restore_open(struct vgl_avail *a, const char *cause, const char *rule,
			    int64_t start_ms)
{
	int i;

	release_strings(a);
	if (!cause)
		cause = "unknown";
	if (!rule)
		rule = "";
	a->own = copy_pair(cause, rule, &a->cause, &a->rule);
	if (!a->own) {
		/* The database row keeps the true cause and rule; these only
		 * label the CLOSE event, so a placeholder is an acceptable loss. */
		a->cause = "unknown";
		a->rule = "(restored)";
	}
	a->open = 1;
	a->start_ms = start_ms;
	if (a->last_event_ts < start_ms)
		a->last_event_ts = start_ms;
	a->last_recovered = -1;
	i = find_cond(a->p, rule);
	a->owner = i;
	if (i >= 0) {
		assume_holding(a, i, start_ms);
		return;
	}
	/* an interval the topology opened stays its until it says otherwise */
	int k = strcmp(rule, VGL_AVAIL_RULE_POWER) == 0 ? VGL_AVAIL_EXT_POWER
		: strncmp(rule, VGL_AVAIL_RULE_SITE_PREFIX, strlen(VGL_AVAIL_RULE_SITE_PREFIX)) == 0
		? VGL_AVAIL_EXT_FACILITY : -1;
	if (k >= 0) {
		struct ext_state *x = &a->ext[k];
		char *c2 = strdup(cause), *r2 = strdup(rule);
		if (c2 && r2) {
			ext_clear(x);
			x->holding = 1;
			x->since = start_ms;
			x->cause = c2;
			x->rule = r2;
			a->owner = (int)a->p->n_conds + k;
		} else {
			free(c2);
			free(r2);
		}
	}
}

/* ---- evidence --------------------------------------------------------- */

static int add_ts(cJSON *o, const char *key, int64_t ms)
{
	char buf[VGL_ISO_LEN];

	return cJSON_AddStringToObject(o, key, vgl_format_iso(ms, buf)) ? 0 : -1;
}

static int add_value(cJSON *m, const char *name, int ok, double v)
{
	if (!ok || !isfinite(v))
		return cJSON_AddNullToObject(m, name) ? 0 : -1;
	return cJSON_AddNumberToObject(m, name, v) ? 0 : -1;
}

/* {"ts":..., "metrics":{name: value|null}} of the current observation. */
static int add_current_obs(cJSON *arr, const struct vgl_avail *a, int ci,
			   const struct vgl_poll_result *r)
{
	size_t idx[AVAIL_MAX_READS];
	size_t n = cond_reads(&a->p->conds[ci], idx);
	const struct vgl_value *vals = vgl_values_all(a->last);
	cJSON *o = cJSON_CreateObject(), *m;

	if (!o || !cJSON_AddItemToArray(arr, o))
		goto out_free_obj;
	if (add_ts(o, "ts", r->ts_ms) < 0 || !(m = cJSON_AddObjectToObject(o, "metrics")))
		return -1;
	for (size_t k = 0; k < n; k++) {
		const struct vgl_value *v = &vals[idx[k]];

		if (add_value(m, a->p->metrics[idx[k]].name, v->q == VGL_Q_OK, v->v) < 0)
			return -1;
	}
	return 0;

out_free_obj:
	cJSON_Delete(o);
	return -1;
}

static int add_first_obs(cJSON *arr, const struct vgl_avail *a, int ci)
{
	const struct cond_state *s = &a->cs[ci];
	size_t idx[AVAIL_MAX_READS];
	size_t n = cond_reads(&a->p->conds[ci], idx);
	cJSON *o = cJSON_CreateObject(), *m;

	if (!o || !cJSON_AddItemToArray(arr, o)) {
		cJSON_Delete(o);
		return -1;
	}
	if (add_ts(o, "ts", s->d.since_ms) < 0 || !(m = cJSON_AddObjectToObject(o, "metrics")))
		return -1;
	for (size_t k = 0; k < n && k < s->n_vals; k++) {
		double v = a->vals[s->vals_off + k];

		if (add_value(m, a->p->metrics[idx[k]].name, !isnan(v), v) < 0)
			return -1;
	}
	return 0;
}

static char *finish(cJSON *o, int failed)
{
	char *s = failed ? NULL : cJSON_PrintUnformatted(o);

	cJSON_Delete(o);
	return s;
}

static char *open_evidence(const struct vgl_avail *a, int ci, const struct vgl_poll_result *r,
			   int split)
{
	const struct vgl_conf_cond *c = &a->p->conds[ci];
	const struct cond_state *s = &a->cs[ci];
	cJSON *o = cJSON_CreateObject(), *arr;
	int bad = !o;

	if (bad)
		return NULL;
	bad |= !cJSON_AddStringToObject(o, "rule", c->name ? c->name : "");
	bad |= !cJSON_AddStringToObject(o, "cause", c->cause ? c->cause : "unknown");
	if (c->kind == VGL_COND_UNREACHABLE) {
		bad |= !cJSON_AddStringToObject(o, "kind", "unreachable");
		bad |= !cJSON_AddStringToObject(o, "source", c->source < a->p->n_sources
								  ? a->p->sources[c->source].name : "");
		bad |= !cJSON_AddNumberToObject(o, "failures", cond_k(c));
		bad |= add_ts(o, "first_ts", s->d.since_ms) < 0;
		bad |= add_ts(o, "last_ts", s->last_ts) < 0;
		bad |= !cJSON_AddNumberToObject(o, "count", s->d.count);
		bad |= !cJSON_AddStringToObject(o, "first_quality",
						vgl_quality_name((enum vgl_quality)s->first_q));
		bad |= !cJSON_AddStringToObject(o, "last_quality", vgl_quality_name(r->quality));
		if (r->detail)
			bad |= !cJSON_AddStringToObject(o, "detail", r->detail);
	} else {
		bad |= !cJSON_AddStringToObject(o, "kind", "expr");
		bad |= !cJSON_AddStringToObject(o, "when", c->expr_text ? c->expr_text : "");
		bad |= !cJSON_AddNumberToObject(o, "for_ms", c->for_ms);
		bad |= add_ts(o, "first_ts", s->d.since_ms) < 0;
		bad |= add_ts(o, "holding_ts", s->last_ts) < 0;
		bad |= !(arr = cJSON_AddArrayToObject(o, "observations"));
		if (!bad && s->vals_valid && s->d.since_ms != r->ts_ms)
			bad |= add_first_obs(arr, a, ci) < 0;
		if (!bad)
			bad |= add_current_obs(arr, a, ci, r) < 0;
	}
	if (split)
		bad |= !cJSON_AddStringToObject(o, "split_from", a->rule ? a->rule : "");
	return finish(o, bad);
}

static char *close_evidence(const struct vgl_avail *a, int ci, const struct vgl_poll_result *r,
			    const char *reason)
{
	cJSON *o = cJSON_CreateObject(), *arr;
	int bad = !o;

	if (bad)
		return NULL;
	bad |= !cJSON_AddStringToObject(o, "rule", ci >= 0 ? a->p->conds[ci].name : a->rule);
	bad |= !cJSON_AddStringToObject(o, "reason", reason);
	bad |= !cJSON_AddStringToObject(o, "opened_by", a->rule ? a->rule : "");
	bad |= add_ts(o, "ts", r->ts_ms) < 0;
	bad |= !cJSON_AddStringToObject(o, "quality", vgl_quality_name(r->quality));
	if (ci >= 0 && a->p->conds[ci].kind == VGL_COND_EXPR) {
		bad |= !cJSON_AddStringToObject(o, "when", a->p->conds[ci].expr_text
							   ? a->p->conds[ci].expr_text : "");
		bad |= !(arr = cJSON_AddArrayToObject(o, "observations"));
		if (!bad)
			bad |= add_current_obs(arr, a, ci, r) < 0;
	}
	return finish(o, bad);
}

/* ---- transitions ------------------------------------------------------ */

static void emit(vgl_avail_fn *fn, void *ctx, enum vgl_avail_event_kind kind, int64_t ts,
		 const char *cause, const char *rule, char *evidence)
{
	struct vgl_avail_event ev = {
		.kind = kind, .ts_ms = ts, .cause = cause, .rule = rule,
		.evidence = evidence ? evidence : evidence_oom,
	};

	if (fn)
		fn(ctx, &ev);
	cJSON_free(evidence);
}

/* ev: the OPEN's evidence, built by the caller while the previous
 * interval's labels (for a split) were still valid; owned from here on. */
static void do_open(struct vgl_avail *a, int ci, int64_t start, char *ev,
		    vgl_avail_fn *fn, void *ctx)
{
	if (start < a->last_event_ts)
		start = a->last_event_ts;
	release_strings(a);
	if (is_ext(a, ci)) {
		/* the external's strings change under it: the interval keeps copies */
		a->own = copy_pair(cond_cause(a, ci), cond_name(a, ci), &a->cause, &a->rule);
		if (!a->own) {
			a->cause = "unknown";
			a->rule = "(out of memory)";
		}
	} else {
		a->cause = cond_cause(a, ci);
		a->rule = cond_name(a, ci);
	}
	a->open = 1;
	a->owner = ci;
	a->last_recovered = -1;
	a->start_ms = start;
	a->last_event_ts = start;
	emit(fn, ctx, VGL_AVAIL_OPEN, start, a->cause, a->rule, ev);
}

static void do_close_ev(struct vgl_avail *a, int ci, int64_t ts, char *ev, vgl_avail_fn *fn,
			void *ctx)
{
	char rule[160];

	if (ts < a->last_event_ts)
		ts = a->last_event_ts;
	a->last_event_ts = ts;
	snprintf(rule, sizeof(rule), "%s", ci >= 0 ? cond_name(a, ci) : a->rule ? a->rule : "");
	emit(fn, ctx, VGL_AVAIL_CLOSE, ts, a->cause, rule, ev);
	release_strings(a);
	a->open = 0;
	a->owner = -1;
	a->last_recovered = -1;
}

static char *ext_evidence(const struct vgl_avail *a, int ci, const char *reason,
			  const char *split_from);

static void do_close(struct vgl_avail *a, int ci, int64_t ts, const struct vgl_poll_result *r,
		     const char *reason, vgl_avail_fn *fn, void *ctx)
{
	char *ev = ci >= 0 && is_ext(a, ci) ? ext_evidence(a, ci, reason, NULL)
					    : close_evidence(a, ci, r, reason);

	do_close_ev(a, ci, ts, ev, fn, ctx);
}

static void record_first_values(struct vgl_avail *a, int ci)
{
	struct cond_state *s = &a->cs[ci];
	size_t idx[AVAIL_MAX_READS];
	size_t n = cond_reads(&a->p->conds[ci], idx);
	const struct vgl_value *vals = vgl_values_all(a->last);

	for (size_t k = 0; k < n && k < s->n_vals; k++) {
		const struct vgl_value *v = &vals[idx[k]];

		a->vals[s->vals_off + k] = v->q == VGL_Q_OK ? v->v : NAN;
	}
	s->vals_valid = 1;
}

/* Whether result r is an observation of condition c: a poll of the source
 * it counts, or of a source of a metric it reads (c->reads, worked out by
 * the loader; an expression reading no metric is observed with the first
 * source). */
static int observes(const struct vgl_conf_cond *c, const struct vgl_poll_result *r)
{
	if (c->kind == VGL_COND_UNREACHABLE)
		return c->source == r->source;
	return r->source < 64 && ((c->reads >> r->source) & 1);
}

/* Moves condition ci by one observation; returns 1 if it left PENDING or
 * HOLDING for IDLE (it recovered). */
static int step(struct vgl_avail *a, int ci, const struct vgl_poll_result *r)
{
	const struct vgl_conf_cond *c = &a->p->conds[ci];
	struct cond_state *s = &a->cs[ci];
	struct vgl_debounce_cfg cfg = cond_cfg(c);
	int was_idle = s->d.state == VGL_DEB_IDLE;
	enum vgl_debounce_transition tr;
	enum vgl_tri t;

	if (c->kind == VGL_COND_UNREACHABLE) {
		/* An authentication failure is an answer: the host is
		 * reachable, but monitoring is misconfigured. That is no
		 * customer downtime, and no proof of recovery either. */
		if (r->quality == VGL_Q_AUTH)
			t = VGL_UNKNOWN;
		else
			t = r->quality == VGL_Q_OK ? VGL_FALSE : VGL_TRUE;
	} else {
		t = c->expr ? vgl_expr_eval(c->expr, vgl_values_all(a->last)) : VGL_UNKNOWN;
	}
	tr = vgl_debounce_observe(&s->d, &cfg, t, r->ts_ms);
	if (t != VGL_TRUE)
		return !was_idle && s->d.state == VGL_DEB_IDLE;
	if (c->kind == VGL_COND_UNREACHABLE) {
		if (was_idle)
			s->first_q = (uint8_t)r->quality;
		s->last_ts = r->ts_ms;
	} else {
		if (was_idle)
			record_first_values(a, ci);
		if (tr == VGL_DEB_FIRE)
			s->last_ts = r->ts_ms;
	}
	return 0;
}

static int64_t holding_since(const struct vgl_avail *a, int ci)
{
	return is_ext(a, ci) ? ext_of(a, ci)->since : a->cs[ci].d.since_ms;
}

/* The holding condition that started first (config order breaks ties;
 * the external ones come last). */
static int pick_holding(const struct vgl_avail *a)
{
	int best = -1, n = (int)a->p->n_conds;

	for (int i = 0; i < n + VGL_AVAIL_N_EXT; i++) {
		if (i < n ? a->cs[i].d.state != VGL_DEB_FIRED : !a->ext[i - n].holding)
			continue;
		if (best < 0 || holding_since(a, i) < holding_since(a, best))
			best = i;
	}
	return best;
}

/* An external's evidence: what the topology gave, with the reason and
 * the interval it split from when there is one. */
static char *ext_evidence(const struct vgl_avail *a, int ci, const char *reason,
			  const char *split_from)
{
	const struct ext_state *x = ext_of(a, ci);
	cJSON *o = x->evidence ? cJSON_Parse(x->evidence) : NULL;
	int bad = 0;

	if (!o || !cJSON_IsObject(o)) {
		cJSON_Delete(o);
		if (!(o = cJSON_CreateObject()))
			return NULL;
		bad |= !cJSON_AddStringToObject(o, "rule", cond_name(a, ci));
	}
	if (reason)
		bad |= !cJSON_AddStringToObject(o, "reason", reason);
	if (reason && a->rule)
		bad |= !cJSON_AddStringToObject(o, "opened_by", a->rule);
	if (split_from)
		bad |= !cJSON_AddStringToObject(o, "split_from", split_from);
	return finish(o, bad);
}

/* A split's OPEN evidence where no poll result is at hand (an external
 * recovered while a condition of the host's own still holds). */
static char *split_evidence(const struct vgl_avail *a, int ci, int64_t ts)
{
	cJSON *o = cJSON_CreateObject();
	int bad = !o;

	if (bad)
		return NULL;
	bad |= !cJSON_AddStringToObject(o, "rule", cond_name(a, ci));
	bad |= !cJSON_AddStringToObject(o, "cause", cond_cause(a, ci));
	bad |= add_ts(o, "first_ts", holding_since(a, ci)) < 0;
	bad |= add_ts(o, "ts", ts) < 0;
	bad |= !cJSON_AddStringToObject(o, "split_from", a->rule ? a->rule : "");
	return finish(o, bad);
}

static char *open_ev(const struct vgl_avail *a, int ci, const struct vgl_poll_result *r,
		     int split)
{
	if (is_ext(a, ci))
		return ext_evidence(a, ci, NULL, split ? (a->rule ? a->rule : "") : NULL);
	return open_evidence(a, ci, r, split);
}

int vgl_avail_observe(struct vgl_avail *a, const struct vgl_poll_result *r,
		      vgl_avail_fn *fn, void *ctx)
{
	int recovered = -1, owner_recovered = 0, pending = 0, h;

	if (vgl_values_update(a->last, r) != 0)
		return -1;
	for (size_t i = 0; i < a->p->n_conds; i++) {
		if (observes(&a->p->conds[i], r) && step(a, (int)i, r)) {
			if ((int)i == a->owner)
				owner_recovered = 1;
			else if (recovered < 0)
				recovered = (int)i;
		}
		pending |= a->cs[i].d.state == VGL_DEB_PENDING;
	}

	if (!a->open) {
		h = pick_holding(a);
		if (h >= 0)
			do_open(a, h, holding_since(a, h), open_ev(a, h, r, 0), fn, ctx);
		return 0;
	}
	if (a->owner >= 0 && !owner_recovered)
		return 0;
	if (owner_recovered) {
		a->last_recovered = a->owner;
		a->owner = -1;
	} else if (recovered >= 0) {
		a->last_recovered = recovered;
	}

	h = pick_holding(a);
	if (h >= 0) {
		/* Another condition holds: split, so each stretch has its cause. */
		char *ev = open_ev(a, h, r, 1);

		do_close(a, a->last_recovered, r->ts_ms, r, "cause_changed", fn, ctx);
		do_open(a, h, r->ts_ms, ev, fn, ctx);
		return 0;
	}
	if (pending || r->quality != VGL_Q_OK)
		return 0;
	do_close(a, a->last_recovered, r->ts_ms, r, "recovered", fn, ctx);
	return 0;
}

int vgl_avail_rebind(struct vgl_avail *a, const struct vgl_conf_profile *profile)
{
	const struct vgl_conf_profile *old = a->p;
	struct cond_state *cs;
	double *vals;
	char *own = NULL;
	const char *cause = a->cause, *rule = a->rule;
	int owner = -1, last_rec = -1;

	struct vgl_values *last;

	if (!profile)
		return -EINVAL;
	if (!(last = vgl_values_create(profile)))
		return -ENOMEM;
	if (states_alloc(profile, &cs, &vals) != 0) {
		vgl_values_free(last);
		return -ENOMEM;
	}
	/* The interval's labels must outlive the old profile. */
	if (a->open && !a->own) {
		own = copy_pair(a->cause ? a->cause : "unknown", a->rule ? a->rule : "",
				&cause, &rule);
		if (!own) {
			vgl_values_free(last);
			free(vals);
			free(cs);
			return -ENOMEM;
		}
	}

	/* Holding conditions keep holding under the same name and kind;
	 * pending debounce starts over. */
	for (size_t j = 0; j < profile->n_conds; j++) {
		const struct vgl_conf_cond *nc = &profile->conds[j];
		int i = find_cond(old, nc->name);

		if (i < 0 || old->conds[i].kind != nc->kind || a->cs[i].d.state != VGL_DEB_FIRED)
			continue;
		/* The run goes on under the new K or for_ms (rules/debounce.h,
		 * vgl_debounce_adopt). */
		vgl_debounce_adopt(&cs[j].d, a->cs[i].d.since_ms, a->cs[i].d.count);
		cs[j].last_ts = a->cs[i].last_ts;
		cs[j].first_q = a->cs[i].first_q;
		/* Recorded values follow the old expression's metric list. */
		if (a->cs[i].vals_valid && nc->kind == VGL_COND_EXPR && cs[j].n_vals &&
		    cs[j].n_vals == a->cs[i].n_vals && nc->expr_text &&
		    old->conds[i].expr_text && strcmp(nc->expr_text, old->conds[i].expr_text) == 0) {
			memcpy(vals + cs[j].vals_off, a->vals + a->cs[i].vals_off,
			       cs[j].n_vals * sizeof(*vals));
			cs[j].vals_valid = 1;
		}
	}
	/* externals keep their state; only their index moves */
	if (a->open && a->owner >= 0)
		owner = is_ext(a, a->owner) ? (int)profile->n_conds + a->owner - (int)old->n_conds
					    : find_cond(profile, old->conds[a->owner].name);
	if (a->open && a->last_recovered >= 0)
		last_rec = is_ext(a, a->last_recovered)
			   ? (int)profile->n_conds + a->last_recovered - (int)old->n_conds
			   : find_cond(profile, old->conds[a->last_recovered].name);

	/* The metrics may be others now: values start over, unknown until
	 * their sources poll again. */
	vgl_values_free(a->last);
	a->last = last;
	free(a->vals);
	free(a->cs);
	a->cs = cs;
	a->vals = vals;
	a->p = profile;
	if (own) {
		a->own = own;
		a->cause = cause;
		a->rule = rule;
	}
	a->owner = owner;
	a->last_recovered = last_rec;
	if (owner >= 0 && owner < (int)profile->n_conds)
		assume_holding(a, owner, a->start_ms);
	return 0;
}

int vgl_avail_is_open(const struct vgl_avail *a)
{
	return a && a->open;
}

const struct vgl_values *vgl_avail_values(const struct vgl_avail *a)
{
	return a->last;
}

/* ---- external conditions -------------------------------------------------- */

static int set_str(char **dst, const char *src)
{
	char *d = src ? strdup(src) : NULL;

	if (src && !d)
		return -ENOMEM;
	free(*dst);
	*dst = d;
	return 0;
}

int vgl_avail_external(struct vgl_avail *a, enum vgl_avail_ext k, int holding, int64_t ts,
		       const char *cause, const char *rule, const char *evidence,
		       vgl_avail_fn *fn, void *ctx)
{
	struct ext_state *x;
	int ci, h, pending = 0;

	if ((unsigned)k >= VGL_AVAIL_N_EXT)
		return -EINVAL;
	x = &a->ext[k];
	ci = (int)a->p->n_conds + (int)k;
	holding = holding != 0;
	if (holding == x->holding)
		return 0;
	if (set_str(&x->evidence, evidence) != 0)
		return -ENOMEM;
	if (holding) {
		if (set_str(&x->cause, cause ? cause : "unknown") != 0 ||
		    set_str(&x->rule, rule ? rule : "") != 0)
			return -ENOMEM;
		x->holding = 1;
		x->since = ts;
		/* already Unavailable for another reason: that interval
		 * goes on, this one takes over if it recovers first */
		if (!a->open)
			do_open(a, ci, ts, ext_evidence(a, ci, NULL, NULL), fn, ctx);
		return 0;
	}
	x->holding = 0;
	if (!a->open || a->owner != ci)
		return 0;
	a->last_recovered = ci;
	a->owner = -1;
	h = pick_holding(a);
	if (h >= 0) {
		char *ev = is_ext(a, h) ? ext_evidence(a, h, NULL, a->rule) : split_evidence(a, h, ts);

		do_close(a, ci, ts, NULL, "cause_changed", fn, ctx);
		do_open(a, h, ts, ev, fn, ctx);
		return 0;
	}
	for (size_t i = 0; i < a->p->n_conds; i++)
		pending |= a->cs[i].d.state == VGL_DEB_PENDING;
	if (!pending)
		do_close(a, ci, ts, NULL, "recovered", fn, ctx);
	return 0;
}

int vgl_avail_external_holding(const struct vgl_avail *a, enum vgl_avail_ext k)
{
	return (unsigned)k < VGL_AVAIL_N_EXT && a->ext[k].holding;
}

int vgl_avail_site_wide(const struct vgl_avail *a)
{
	int best = -1;

	for (size_t i = 0; i < a->p->n_conds; i++) {
		if (!a->p->conds[i].site_wide || a->cs[i].d.state != VGL_DEB_FIRED)
			continue;
		if (best < 0 || a->cs[i].d.since_ms < a->cs[best].d.since_ms)
			best = (int)i;
	}
	return best;
}
