/* The "rules" of templates and hosts, and the "alarm" of an availability
 * condition (rules/rule_conf.h, docs/rules.md). Like the conditions, a
 * template's rules are parsed against the template's metrics and again
 * against each host's (a host may add or replace metrics), and their
 * references to other devices (feed.M, uplink.M) are resolved per host
 * once every host is known.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/ld.h"
#include "rules/expr.h"
#include "rules/rule_conf.h"
#include "rules/window.h"

void vgl_conf_alarm_spec_free(struct vgl_conf_alarm_spec *a)
{
	if (!a)
		return;
	free(a->summary);
	for (size_t i = 0; i < a->n_labels; i++) {
		free(a->label_keys[i]);
		free(a->label_values[i]);
	}
	free(a->label_keys);
	free(a->label_values);
	memset(a, 0, sizeof(*a));
}

void vgl_conf_rules_free(struct vgl_conf_rule *r, size_t n)
{
	for (size_t i = 0; r && i < n; i++) {
		free(r[i].name);
		free(r[i].when_text);
		free(r[i].clear_text);
		vgl_expr_free(r[i].when);
		vgl_expr_free(r[i].clear);
		vgl_conf_alarm_spec_free(&r[i].alarm);
	}
	free(r);
}

static int streq(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

int vgl_conf_rule_same(const struct vgl_conf_rule *a, const struct vgl_conf_rule *b)
{
	if (!streq(a->name, b->name) || !streq(a->when_text, b->when_text) ||
	    !streq(a->clear_text, b->clear_text) || a->for_ms != b->for_ms ||
	    a->alarm.severity != b->alarm.severity || !streq(a->alarm.summary, b->alarm.summary) ||
	    a->alarm.n_labels != b->alarm.n_labels)
		return 0;
	for (size_t i = 0; i < a->alarm.n_labels; i++)
		if (!streq(a->alarm.label_keys[i], b->alarm.label_keys[i]) ||
		    !streq(a->alarm.label_values[i], b->alarm.label_values[i]))
			return 0;
	return 1;
}

static const struct vgl_expr_opts rule_opts = { 1, 1, 1 };

static int is_placeholder_ok(const char *name, size_t len, const struct vgl_conf_metric *ms,
			     size_t n)
{
	static const char *const fixed[] = { "host", "site", "rule", "severity", "value", NULL };

	for (const char *const *f = fixed; *f; f++)
		if (strlen(*f) == len && memcmp(*f, name, len) == 0)
			return 1;
	for (size_t i = 0; i < n; i++)
		if (strlen(ms[i].name) == len && memcmp(ms[i].name, name, len) == 0)
			return 1;
	return 0;
}

/* A summary's placeholders name what a raise can fill in. */
static void check_summary(struct ld *l, const struct vgl__doc *d, int v, const struct kp *kp,
			  const char *s, const struct vgl_conf_metric *ms, size_t n)
{
	for (const char *p = s; (p = strchr(p, '{')); p++) {
		const char *e = strchr(p, '}');

		if (!e) {
			vgl__errk(l, d, vgl__tok_pos(d, v) + 1 + (size_t)(p - s), kp,
				  "'{' without a closing '}'");
			return;
		}
		if (!is_placeholder_ok(p + 1, (size_t)(e - p - 1), ms, n)) {
			vgl__errk(l, d, vgl__tok_pos(d, v) + 1 + (size_t)(p - s), kp,
				  "unknown placeholder '%.*s': expected host, site, rule, severity, "
				  "value or a metric of the profile", (int)(e - p - 1), p + 1);
			return;
		}
		p = e;
	}
}

int vgl__alarm_spec_parse(struct ld *l, const struct vgl__doc *d, int v, const struct kp *kp,
			  const struct vgl_conf_metric *ms, size_t n_ms,
			  enum vgl_severity dflt, struct vgl_conf_alarm_spec *out)
{
	static const char *const keys[] = { "severity", "summary", "labels", NULL };
	int f[3];

	memset(out, 0, sizeof(*out));
	out->severity = dflt;
	if (d->tok[v].type == VGL_J_PRIMITIVE && d->text[d->tok[v].start] == 't')
		return 0;
	if (vgl__want_type(l, d, v, kp, VGL_J_OBJECT, "true or an object") != 0)
		return -1;
	vgl__obj_fields(l, d, v, kp, keys, f);
	return vgl__alarm_fields(l, d, f[0], f[1], f[2], kp, ms, n_ms, out);
}

int vgl__alarm_fields(struct ld *l, const struct vgl__doc *d, int sev, int sum, int labels,
		      const struct kp *kp, const struct vgl_conf_metric *ms, size_t n_ms,
		      struct vgl_conf_alarm_spec *out)
{
	struct kp sk = { kp, "severity", -1, 0 }, mk = { kp, "summary", -1, 0 };
	struct kp lk = { kp, "labels", -1, 0 };
	char *s;
	int bad = 0;

	if (sev >= 0 && vgl__get_str(l, d, sev, &sk, &s) == 0) {
		if (vgl_severity_parse(s, &out->severity) != 0) {
			vgl__errk(l, d, vgl__tok_pos(d, sev), &sk, "unknown severity '%s': expected "
				  "critical, major, minor, warning or info", s);
			bad = 1;
		}
		free(s);
	}
	if (sum >= 0 && vgl__get_str(l, d, sum, &mk, &out->summary) == 0)
		check_summary(l, d, sum, &mk, out->summary, ms, n_ms);
	if (labels >= 0 && vgl__want_type(l, d, labels, &lk, VGL_J_OBJECT, "an object") == 0) {
		int n = d->tok[labels].size, k = labels + 1;

		if (n > 0 && (!(out->label_keys = calloc((size_t)n, sizeof(char *))) ||
			      !(out->label_values = calloc((size_t)n, sizeof(char *))))) {
			vgl__oom(l);
			return -1;
		}
		for (int i = 0; i < n; i++, k = d->tok[k + 1].next) {
			char *key = vgl__tok_str(d, k), *val = NULL;
			struct kp ek = { &lk, key, -1, 0 };

			if (!key) {
				vgl__oom(l);
				return -1;
			}
			if (vgl__get_str(l, d, k + 1, &ek, &val) != 0) {
				free(key);
				bad = 1;
				continue;
			}
			out->label_keys[out->n_labels] = key;
			out->label_values[out->n_labels++] = val;
		}
	}
	return bad ? -1 : 0;
}

static int parse_rule_expr(struct ld *l, const struct vgl__doc *d, int v, const struct kp *kp,
			   const struct vgl_conf_metric *ms, size_t n, const char *text,
			   const char *suffix, struct vgl_expr **out)
{
	struct vgl_expr_error ee = { 0 };

	if (vgl_expr_parse_opts(text, ms, n, &rule_opts, out, &ee) == 0)
		return 0;
	*out = NULL;
	vgl__errk(l, d, vgl__tok_pos(d, v) + 1 + ee.offset, kp, "%s%s", ee.msg, suffix);
	return -1;
}

/* Every window a rule reads must fit its ring at the metric's poll rate:
 * the bound of docs/rules.md, checked here rather than truncated later. */
static void check_windows(struct ld *l, const struct vgl__doc *d, int v, const struct kp *kp,
			  const struct vgl_conf_profile *p, const struct vgl_expr *e)
{
	struct vgl_expr_window w[64];
	size_t n = e ? vgl_expr_windows(e, w, 64) : 0;

	for (size_t i = 0; i < n && i < 64; i++) {
		const struct vgl_conf_metric *m = &p->metrics[w[i].metric];
		uint32_t iv = m->source < p->n_sources ? p->sources[m->source].interval_ms : 0;

		if (iv && w[i].span_ms / iv + 2 > VGL_WINDOW_MAX_SAMPLES)
			vgl__errk(l, d, vgl__tok_pos(d, v), kp, "a window of %u s over '%s' "
				  "(polled every %u s) would hold %u samples, more than %d",
				  w[i].span_ms / 1000, m->name, iv / 1000, w[i].span_ms / iv + 2,
				  VGL_WINDOW_MAX_SAMPLES);
	}
}

enum { R_NAME, R_WHEN, R_CLEAR, R_FOR, R_SEV, R_SUMMARY, R_LABELS, R_N };
static const char *const rule_keys[] = { "name", "when", "clear", "for_s", "severity",
					 "summary", "labels", NULL };

void vgl__rules_compile(struct ld *l, const struct vgl__doc *d, int arr, const struct kp *kp,
			struct vgl_conf_profile *p, int **toks)
{
	int e = arr + 1, n = d->tok[arr].size;
	struct vgl_conf_rule *rs;

	if (vgl__want_type(l, d, arr, kp, VGL_J_ARRAY, "an array") != 0 || n == 0)
		return;
	rs = calloc((size_t)n, sizeof(*rs));
	if (!rs || (toks && !(*toks = malloc((size_t)n * 2 * sizeof(int))))) {
		free(rs);
		vgl__oom(l);
		return;
	}
	p->rules = rs;
	for (int i = 0; i < n; i++, e = d->tok[e].next) {
		struct kp ik = { kp, NULL, 0, i };
		struct vgl_conf_rule *r = &rs[p->n_rules++];
		int v[R_N];
		long x;
#define KP(j) (&(struct kp){ &ik, rule_keys[j], -1, 0 })
		if (toks)
			(*toks)[2 * i] = (*toks)[2 * i + 1] = -1;
		if (vgl__want_type(l, d, e, &ik, VGL_J_OBJECT, "an object") != 0)
			continue;
		vgl__obj_fields(l, d, e, &ik, rule_keys, v);
		if (v[R_NAME] < 0) {
			vgl__errk(l, d, vgl__tok_pos(d, e), &ik, "missing required key 'name'");
		} else if (vgl__get_str(l, d, v[R_NAME], KP(R_NAME), &r->name) == 0) {
			if (!*r->name)
				vgl__errk(l, d, vgl__tok_pos(d, v[R_NAME]), KP(R_NAME),
					  "must not be empty");
			for (int j = 0; j < i; j++)
				if (rs[j].name && strcmp(rs[j].name, r->name) == 0) {
					vgl__errk(l, d, vgl__tok_pos(d, v[R_NAME]), KP(R_NAME),
						  "duplicate rule name '%s' (also rules[%d])",
						  r->name, j);
					break;
				}
		}
		if (v[R_FOR] >= 0 && vgl__get_int(l, d, v[R_FOR], KP(R_FOR), 0, 86400, &x) == 0)
			r->for_ms = (uint32_t)x * 1000;
		r->alarm.severity = VGL_SEV_WARNING;
		vgl__alarm_fields(l, d, v[R_SEV], v[R_SUMMARY], v[R_LABELS], &ik, p->metrics,
				  p->n_metrics, &r->alarm);
		if (v[R_WHEN] < 0) {
			vgl__errk(l, d, vgl__tok_pos(d, e), &ik, "missing required key 'when'");
			continue;
		}
		if (vgl__get_str(l, d, v[R_WHEN], KP(R_WHEN), &r->when_text) == 0 &&
		    parse_rule_expr(l, d, v[R_WHEN], KP(R_WHEN), p->metrics, p->n_metrics,
				    r->when_text, "", &r->when) == 0)
			check_windows(l, d, v[R_WHEN], KP(R_WHEN), p, r->when);
		if (v[R_CLEAR] >= 0 &&
		    vgl__get_str(l, d, v[R_CLEAR], KP(R_CLEAR), &r->clear_text) == 0 &&
		    parse_rule_expr(l, d, v[R_CLEAR], KP(R_CLEAR), p->metrics, p->n_metrics,
				    r->clear_text, "", &r->clear) == 0)
			check_windows(l, d, v[R_CLEAR], KP(R_CLEAR), p, r->clear);
		if (toks) {
			(*toks)[2 * i] = v[R_WHEN];
			(*toks)[2 * i + 1] = v[R_CLEAR];
		}
#undef KP
	}
}

static int spec_copy(struct vgl_conf_alarm_spec *dst, const struct vgl_conf_alarm_spec *src)
{
	memset(dst, 0, sizeof(*dst));
	dst->severity = src->severity;
	if (vgl__dup_opt(&dst->summary, src->summary))
		return -1;
	if (src->n_labels && (!(dst->label_keys = calloc(src->n_labels, sizeof(char *))) ||
			      !(dst->label_values = calloc(src->n_labels, sizeof(char *)))))
		return -1;
	for (size_t i = 0; i < src->n_labels; i++, dst->n_labels++)
		if (vgl__dup_opt(&dst->label_keys[i], src->label_keys[i]) ||
		    vgl__dup_opt(&dst->label_values[i], src->label_values[i]))
			return -1;
	return 0;
}

struct vgl_conf_alarm_spec *vgl__alarm_spec_dup(const struct vgl_conf_alarm_spec *src)
{
	struct vgl_conf_alarm_spec *a = src ? calloc(1, sizeof(*a)) : NULL;

	if (a && spec_copy(a, src) != 0) {
		vgl_conf_alarm_spec_free(a);
		free(a);
		return NULL;
	}
	return a;
}

int vgl__rules_copy(struct ld *l, struct vgl_conf_profile *p, const struct vgl_conf_profile *base,
		    const struct vgl__doc *d, const int *toks, const struct kp *rk,
		    const char *host_name)
{
	char suffix[200];

	if (!base->n_rules)
		return 0;
	snprintf(suffix, sizeof(suffix), " (with the metrics of host '%s')", host_name);
	if (!(p->rules = calloc(base->n_rules, sizeof(*p->rules))))
		return -1;
	for (size_t i = 0; i < base->n_rules; i++, p->n_rules++) {
		const struct vgl_conf_rule *b = &base->rules[i];
		struct vgl_conf_rule *r = &p->rules[i];
		struct kp ik = { rk, NULL, 0, (long)i };

		r->for_ms = b->for_ms;
		if (vgl__dup_opt(&r->name, b->name) || vgl__dup_opt(&r->when_text, b->when_text) ||
		    vgl__dup_opt(&r->clear_text, b->clear_text) || spec_copy(&r->alarm, &b->alarm))
			return -1;
		if (b->when && toks && toks[2 * i] >= 0)
			parse_rule_expr(l, d, toks[2 * i], &(struct kp){ &ik, "when", -1, 0 },
					p->metrics, p->n_metrics, r->when_text, suffix, &r->when);
		if (b->clear && toks && toks[2 * i + 1] >= 0)
			parse_rule_expr(l, d, toks[2 * i + 1], &(struct kp){ &ik, "clear", -1, 0 },
					p->metrics, p->n_metrics, r->clear_text, suffix, &r->clear);
	}
	return 0;
}

/* ---- references to other devices ------------------------------------------- */

static const struct vgl_conf_feed *ref_device(const struct vgl_conf_host *h,
					      enum vgl_expr_ext_kind k)
{
	if (k == VGL_EXPR_EXT_UPLINK)
		return h->has_uplink ? &h->uplink : NULL;
	return h->n_feeds ? &h->feeds[0] : NULL;
}

static long metric_of(const struct vgl_conf_profile *p, const char *name)
{
	for (size_t i = 0; p && i < p->n_metrics; i++)
		if (strcmp(p->metrics[i].name, name) == 0)
			return (long)i;
	return -1;
}

static void resolve_expr(struct ld *l, struct vgl_conf_host *h, const struct vgl_conf_rule *r,
			 struct vgl_expr *e, size_t base, const char *what)
{
	struct vgl_conf *c = l->c;
	size_t n = e ? vgl_expr_n_ext(e) : 0;

	for (size_t k = 0; k < n; k++) {
		const struct vgl_expr_ext *x = vgl_expr_ext_at(e, k);
		const struct vgl_conf_feed *dev = ref_device(h, x->kind);
		const char *kname = x->kind == VGL_EXPR_EXT_UPLINK ? "uplink" : "feed";
		struct vgl_conf_feed *ref = &h->rule_refs[base + k];
		struct vgl_expr_error ee = { 0 };
		long m;

		/* No such device for this host: the reference reads as unknown
		 * (a template's rule may apply to hosts with and without one). */
		ref->host = UINT32_MAX;
		ref->metric = 0;
		if (!dev)
			continue;
		m = metric_of(c->hosts[dev->host].profile, x->metric);
		if (m < 0) {
			vgl__err_add(&l->e, "%s: host '%s': rule '%s' (%s) reads %s.%s, but %s '%s' "
				     "has no metric '%s'", c->path, h->name, r->name, what, kname,
				     x->metric, kname, c->hosts[dev->host].name, x->metric);
			l->n_errs++;
			continue;
		}
		if (vgl_expr_bind_ext(e, k, &c->hosts[dev->host].profile->metrics[m], &ee) != 0) {
			vgl__err_add(&l->e, "%s: host '%s': rule '%s' (%s): %s", c->path, h->name,
				     r->name, what, ee.msg);
			l->n_errs++;
			continue;
		}
		ref->host = dev->host;
		ref->metric = (uint32_t)m;
	}
}

void vgl__rules_resolve_ext(struct ld *l)
{
	struct vgl_conf *c = l->c;

	for (size_t i = 0; i < c->n_hosts; i++) {
		struct vgl_conf_host *h = &c->hosts[i];
		/* the loader's own: binding records label values in the expressions */
		struct vgl_conf_profile *p = (struct vgl_conf_profile *)h->profile;
		size_t n = 0;

		if (!p || !p->n_rules)
			continue;
		for (size_t j = 0; j < p->n_rules; j++) {
			p->rules[j].ext_base = n;
			n += (p->rules[j].when ? vgl_expr_n_ext(p->rules[j].when) : 0) +
			     (p->rules[j].clear ? vgl_expr_n_ext(p->rules[j].clear) : 0);
		}
		if (!n)
			continue;
		/* A profile is shared by the hosts of a template only when it is
		 * used as is; those hosts have the same devices only by chance,
		 * so each host resolves its own. */
		if (!(h->rule_refs = calloc(n, sizeof(*h->rule_refs)))) {
			vgl__oom(l);
			return;
		}
		h->n_rule_refs = n;
		for (size_t j = 0; j < p->n_rules; j++) {
			const struct vgl_conf_rule *r = &p->rules[j];
			size_t nw = r->when ? vgl_expr_n_ext(r->when) : 0;

			resolve_expr(l, h, r, r->when, r->ext_base, "when");
			resolve_expr(l, h, r, r->clear, r->ext_base + nw, "clear");
		}
	}
}
