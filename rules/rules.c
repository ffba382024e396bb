/* One host's alarm rules (rules/rules.h).
 *
 * Invariants: windows[m] is non-NULL exactly for the metrics some rule
 * reads through a window (or nodata(M, D)); a rule is pending only while
 * not firing; a CLEAR is emitted only for a rule that fired.
 */
#include "rules/rules.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alarms/alarm_row.h"
#include "rules/window.h"

struct rule_state {
	int64_t pending_since;          /* valid while pending */
	int pending, firing;
};

struct vgl_rules {
	const struct vgl_conf_rule *const *rules;
	size_t n;
	const struct vgl_conf_profile *p;
	struct rule_state *st;
	struct vgl_window **windows;    /* by metric index */
	int64_t start_ms, last_good_ms;
};

static void want_windows(const struct vgl_expr *e, const struct vgl_conf_profile *p,
			 uint32_t *cap)
{
	struct vgl_expr_window w[64];
	size_t n = e ? vgl_expr_windows(e, w, 64) : 0;

	for (size_t i = 0; i < n && i < 64; i++) {
		const struct vgl_conf_metric *m;
		uint32_t iv, c;

		if (w[i].metric >= p->n_metrics)
			continue;
		m = &p->metrics[w[i].metric];
		iv = m->source < p->n_sources ? p->sources[m->source].interval_ms : 1000;
		c = vgl_window_cap_for(w[i].span_ms, iv ? iv : 1000);
		if (c > cap[w[i].metric])
			cap[w[i].metric] = c;
	}
}

struct vgl_rules *vgl_rules_create(const struct vgl_conf_rule *const *rules, size_t n,
				   const struct vgl_conf_profile *profile, int64_t now_ms)
{
	struct vgl_rules *r = calloc(1, sizeof(*r));
	uint32_t *cap = NULL;

	if (!r)
		return NULL;
	r->rules = rules;
	r->n = n;
	r->p = profile;
	r->start_ms = now_ms;
	if ((n && !(r->st = calloc(n, sizeof(*r->st)))) ||
	    (profile->n_metrics && (!(r->windows = calloc(profile->n_metrics, sizeof(*r->windows))) ||
				    !(cap = calloc(profile->n_metrics, sizeof(*cap))))))
		goto fail;
	for (size_t i = 0; i < n; i++) {
		want_windows(rules[i]->when, profile, cap);
		want_windows(rules[i]->clear, profile, cap);
	}
	for (size_t m = 0; m < profile->n_metrics; m++)
		if (cap[m] && !(r->windows[m] = vgl_window_new(cap[m])))
			goto fail;
	free(cap);
	return r;
fail:
	free(cap);
	vgl_rules_free(r);
	return NULL;
}

void vgl_rules_free(struct vgl_rules *r)
{
	if (!r)
		return;
	for (size_t m = 0; r->windows && m < r->p->n_metrics; m++)
		vgl_window_free(r->windows[m]);
	free(r->windows);
	free(r->st);
	free(r);
}

void vgl_rules_carry(struct vgl_rules *r, const struct vgl_rules *old)
{
	if (!old)
		return;
	r->start_ms = old->start_ms;
	r->last_good_ms = old->last_good_ms;
	for (size_t i = 0; i < r->n; i++)
		for (size_t j = 0; j < old->n; j++)
			if (vgl_conf_rule_same(r->rules[i], old->rules[j])) {
				r->st[i] = old->st[j];
				break;
			}
	for (size_t m = 0; r->windows && m < r->p->n_metrics; m++) {
		if (!r->windows[m])
			continue;
		for (size_t k = 0; old->windows && k < old->p->n_metrics; k++)
			if (old->windows[k] &&
			    strcmp(old->p->metrics[k].name, r->p->metrics[m].name) == 0) {
				vgl_window_copy(r->windows[m], old->windows[k]);
				break;
			}
	}
}

size_t vgl_rules_count(const struct vgl_rules *r)
{
	return r->n;
}

int vgl_rules_firing(const struct vgl_rules *r, size_t rule)
{
	return rule < r->n && r->st[rule].firing;
}

void vgl_rules_set_firing(struct vgl_rules *r, size_t rule)
{
	if (rule < r->n) {
		r->st[rule].firing = 1;
		r->st[rule].pending = 0;
	}
}

void vgl_rules_observe(struct vgl_rules *r, const struct vgl_poll_result *pr,
		       const struct vgl_value *values, const struct vgl_value *ext,
		       const struct vgl_expr_sla *sla, vgl_rule_fn *fn, void *ctx)
{
	struct vgl_expr_ctx c = {
		.values = values, .windows = (const struct vgl_window *const *)r->windows,
		.sla = sla, .now_ms = pr->ts_ms, .start_ms = r->start_ms,
	};

	if (pr->quality == VGL_Q_OK)
		r->last_good_ms = pr->ts_ms;
	for (size_t i = 0; r->windows && i < pr->n_values; i++) {
		uint32_t m = pr->metrics[i];

		if (m < r->p->n_metrics && r->windows[m] && pr->values[i].q == VGL_Q_OK)
			vgl_window_push(r->windows[m], pr->ts_ms, pr->values[i].v);
	}
	c.last_good_ms = r->last_good_ms;
	for (size_t i = 0; i < r->n; i++) {
		const struct vgl_conf_rule *rule = r->rules[i];
		struct rule_state *s = &r->st[i];
		size_t n_when_ext = rule->when ? vgl_expr_n_ext(rule->when) : 0;
		enum vgl_tri t;

		if (!rule->when)
			continue;
		c.ext = ext ? ext + rule->ext_base : NULL;
		if (s->firing) {
			if (rule->clear) {
				c.ext = ext ? ext + rule->ext_base + n_when_ext : NULL;
				t = vgl_expr_eval_ctx(rule->clear, &c);
			} else {
				t = vgl_expr_eval_ctx(rule->when, &c);
				t = t == VGL_UNKNOWN ? t : t == VGL_TRUE ? VGL_FALSE : VGL_TRUE;
			}
			if (t == VGL_TRUE) {
				struct vgl_rule_event ev = { 0, i, pr->ts_ms, 0, 0, 0 };

				s->firing = 0;
				if (fn)
					fn(ctx, &ev);
			}
			continue;
		}
		t = vgl_expr_eval_ctx(rule->when, &c);
		if (t == VGL_FALSE) {
			s->pending = 0;
		} else if (t == VGL_TRUE) {
			if (!s->pending) {
				s->pending = 1;
				s->pending_since = pr->ts_ms;
			}
			if (pr->ts_ms - s->pending_since >= (int64_t)rule->for_ms) {
				struct vgl_rule_event ev = { 1, i, pr->ts_ms, s->pending_since, 0, 0 };

				ev.has_value = vgl_expr_value(rule->when, &c, &ev.value) == 0;
				s->firing = 1;
				s->pending = 0;
				if (fn)
					fn(ctx, &ev);
			}
		}
	}
}

/* ---- summaries -------------------------------------------------------------- */

struct buf {
	char *s;
	size_t n, cap;
	int oom;
};

static void put(struct buf *b, const char *s, size_t n)
{
	if (b->oom)
		return;
	if (b->n + n + 1 > b->cap) {
		size_t cap = (b->n + n + 1) * 2;
		char *x = realloc(b->s, cap);
		if (!x) {
			b->oom = 1;
			return;
		}
		b->s = x;
		b->cap = cap;
	}
	memcpy(b->s + b->n, s, n);
	b->n += n;
	b->s[b->n] = '\0';
}

static void put_num(struct buf *b, double v)
{
	char t[64];

	/* whole numbers as integers, others with what they need */
	if (fabs(v) < 1e15 && v == (double)(long long)v)
		snprintf(t, sizeof(t), "%lld", (long long)v);
	else
		snprintf(t, sizeof(t), "%.4g", v);
	put(b, t, strlen(t));
}

static void put_metric(struct buf *b, const struct vgl_conf_metric *m, const struct vgl_value *v)
{
	if (!v || v->q != VGL_Q_OK) {
		put(b, "?", 1);
		return;
	}
	for (size_t i = 0; i < m->n_enums; i++)
		if ((double)m->enums[i].value == v->v) {
			put(b, m->enums[i].label, strlen(m->enums[i].label));
			return;
		}
	put_num(b, v->v);
}

char *vgl_rules_summary(const struct vgl_conf_alarm_spec *spec, const char *rule,
			const struct vgl_conf_host *h, const struct vgl_value *values,
			int has_value, double value)
{
	const char *t = spec && spec->summary ? spec->summary : "{rule} on {host}";
	struct buf b = { 0 };

	put(&b, "", 0);
	while (*t) {
		const char *o = strchr(t, '{'), *e = o ? strchr(o, '}') : NULL;
		size_t n;

		if (!o || !e) {
			put(&b, t, strlen(t));
			break;
		}
		put(&b, t, (size_t)(o - t));
		n = (size_t)(e - o - 1);
#define IS(w) (n == strlen(w) && memcmp(o + 1, w, n) == 0)
		if (IS("host")) {
			put(&b, h->name, strlen(h->name));
		} else if (IS("site")) {
			put(&b, h->site ? h->site : "-", strlen(h->site ? h->site : "-"));
		} else if (IS("rule")) {
			put(&b, rule, strlen(rule));
		} else if (IS("severity")) {
			const char *s = vgl_severity_name(spec ? spec->severity : VGL_SEV_WARNING);
			put(&b, s, strlen(s));
		} else if (IS("value")) {
			if (has_value)
				put_num(&b, value);
			else
				put(&b, "?", 1);
		} else {
			size_t m = 0;
			const struct vgl_conf_profile *p = h->profile;

			for (; p && m < p->n_metrics; m++)
				if (strlen(p->metrics[m].name) == n &&
				    memcmp(p->metrics[m].name, o + 1, n) == 0)
					break;
			if (p && m < p->n_metrics)
				put_metric(&b, &p->metrics[m], values ? &values[m] : NULL);
			else
				put(&b, o, (size_t)(e - o + 1));
		}
#undef IS
		t = e + 1;
	}
	if (b.oom) {
		free(b.s);
		return NULL;
	}
	return b.s;
}
