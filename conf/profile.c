/* A profile: what a template or host polls (its sources), the values it
 * names (metrics), what makes it Unavailable (conditions) and its SLA
 * counters. The protocol keys of a source or metric are its back end's
 * (conf/backend.h): this file only finds the back end, takes the keys every
 * source has (type, interval_s, timeout_ms), and binds names to indexes.
 *
 * Merging: a host that overrides anything gets a profile of its own, its
 * template's copied first (sources in the template's order, so source
 * indexes carry over), then the host's keys: a source of an existing name
 * is laid over key by key, a new name is added after; a metric of an
 * existing name is replaced, a new one added. Conditions are the host's
 * own, or the template's with their expressions parsed again against the
 * host's metrics.
 */
#include "conf/ld.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/backend.h"
#include "conf/parse.h"
#include "rules/expr.h"
#include "rules/rule_conf.h"

#define MAX_KEYS 48

/* ---- life ---------------------------------------------------------------- */

static void metric_free(struct vgl_conf_metric *m, const struct vgl_conf_backend *be)
{
	free(m->name);
	free(m->text);
	if (m->spec && be && be->metric_free)
		be->metric_free(m->spec);
	vgl_cp_free_enums(m->enums, m->n_enums);
	memset(m, 0, sizeof(*m));
}

static void source_free(struct vgl_conf_source *s)
{
	free(s->name);
	if (s->spec && s->be)
		s->be->source_free(s->spec);
	free(s->metrics);
	memset(s, 0, sizeof(*s));
}

static void cond_free(struct vgl_conf_cond *c)
{
	free(c->name);
	free(c->cause);
	free(c->expr_text);
	if (c->expr)
		vgl_expr_free(c->expr);
	if (c->alarm) {
		vgl_conf_alarm_spec_free(c->alarm);
		free(c->alarm);
	}
	memset(c, 0, sizeof(*c));
}

static const struct vgl_conf_backend *metric_be(const struct vgl_conf_profile *p,
						const struct vgl_conf_metric *m)
{
	return m->source < p->n_sources ? p->sources[m->source].be : NULL;
}

void vgl__profile_free(struct vgl_conf_profile *p)
{
	if (!p)
		return;
	free(p->template_name);
	for (size_t i = 0; i < p->n_metrics; i++)
		metric_free(&p->metrics[i], metric_be(p, &p->metrics[i]));
	free(p->metrics);
	for (size_t i = 0; i < p->n_sources; i++)
		source_free(&p->sources[i]);
	free(p->sources);
	for (size_t i = 0; i < p->n_conds; i++)
		cond_free(&p->conds[i]);
	free(p->conds);
	vgl_conf_rules_free(p->rules, p->n_rules);
	free(p->counters.total_name);
	free(p->counters.failed_name);
	free(p);
}

struct vgl_conf_profile *vgl__profile_new(void)
{
	return calloc(1, sizeof(struct vgl_conf_profile));
}

long vgl_conf_source_index(const struct vgl_conf_profile *p, const char *name)
{
	for (size_t i = 0; p && name && i < p->n_sources; i++)
		if (strcmp(p->sources[i].name, name) == 0)
			return (long)i;
	return -1;
}

static int enums_copy(struct vgl_conf_metric *dst, const struct vgl_conf_metric *src)
{
	dst->enums = NULL;
	dst->n_enums = 0;
	if (!src->n_enums)
		return 0;
	if (!(dst->enums = calloc(src->n_enums, sizeof(*dst->enums))))
		return -1;
	for (size_t i = 0; i < src->n_enums; i++, dst->n_enums++) {
		dst->enums[i].value = src->enums[i].value;
		if (!(dst->enums[i].label = strdup(src->enums[i].label)))
			return -1;
	}
	return 0;
}

static int metric_copy(struct vgl_conf_metric *dst, const struct vgl_conf_metric *src,
		       const struct vgl_conf_backend *be)
{
	*dst = *src;
	dst->name = strdup(src->name);
	dst->text = src->text ? strdup(src->text) : NULL;
	dst->spec = NULL;
	if (!dst->name || (src->text && !dst->text) || enums_copy(dst, src) != 0)
		goto free_dst;
	if (src->spec && !(dst->spec = be->metric_copy(src->spec)))
		goto free_dst;
	return 0;
free_dst:
	metric_free(dst, be);
	return -1;
}

static int source_copy(struct vgl_conf_source *dst, const struct vgl_conf_source *src)
{
	*dst = *src;
	dst->metrics = NULL;
	dst->n_metrics = 0;
	dst->spec = NULL;
	if (!(dst->name = strdup(src->name)) || !(dst->spec = src->be->source_new(src->spec))) {
		source_free(dst);
		return -1;
	}
	return 0;
}

/* ---- where a source was last given, for its completeness check ---------- */

/* A source's settings are complete only once every object laid over them
 * is applied; what is missing is reported at the last of those objects. */
struct src_at {
	const struct vgl__doc *d;
	int tok;
	int legacy;             /* the "snmp" key, not "sources" */
	int in_host;            /* a host's object (else the template's) */
};

static void src_kp(const struct src_at *a, const struct kp *owner, const char *name,
		   struct kp *sources, struct kp *out)
{
	if (a->legacy) {
		*out = (struct kp){ owner, "snmp", -1, 0 };
	} else {
		*sources = (struct kp){ owner, "sources", -1, 0 };
		*out = (struct kp){ sources, name, -1, 0 };
	}
}

/* ---- sources ------------------------------------------------------------- */

enum { SK_TYPE, SK_INTERVAL, SK_TIMEOUT, SK_COMMON };

static void type_list(char *buf, size_t n)
{
	size_t len = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < vgl_conf_backend_count() && len < n; i++) {
		int w = snprintf(buf + len, n - len, "%s%s", i ? ", " : "",
				 vgl_conf_backend_at(i)->type);
		if (w < 0)
			break;
		len += (size_t)w;
	}
}

/* The value token of key in object obj, or -1 (the full check of the
 * object's keys comes after, once its back end, and so its keys, are known). */
static int peek_key(const struct vgl__doc *d, int obj, const char *key)
{
	int k = obj + 1;

	for (int m = 0; m < d->tok[obj].size; m++, k = d->tok[k + 1].next)
		if (vgl__tok_is(d, k, key))
			return k + 1;
	return -1;
}

static int grow_sources(struct ld *l, struct vgl_conf_profile *p, struct src_at **at)
{
	struct vgl_conf_source *ns = realloc(p->sources, (p->n_sources + 1) * sizeof(*ns));
	struct src_at *na;

	if (!ns) {
		vgl__oom(l);
		return -1;
	}
	p->sources = ns;
	na = realloc(*at, (p->n_sources + 1) * sizeof(*na));
	if (!na) {
		vgl__oom(l);
		return -1;
	}
	*at = na;
	return 0;
}

/* Lays source object obj, named name, over p's source of that name or
 * adds it. legacy: the "snmp" key (type snmp, no "type" key). */
static void apply_source(struct ld *l, const struct vgl__doc *d, int obj, const struct kp *kp,
			 const char *name, int legacy, int in_host, struct vgl_conf_profile *p,
			 struct src_at **at)
{
	static const char *const common[] = { "type", "interval_s", "timeout_ms" };
	const struct vgl_conf_backend *be = NULL;
	const char *keys[MAX_KEYS + 1];
	int vals[MAX_KEYS + 1], type_tok, nk = 0, off;
	long existing = vgl_conf_source_index(p, name), x;
	struct vgl_conf_source *s;
	char *type = NULL;
	struct vgl_cparse cp = { l, d, kp, obj, 0 };

	if (vgl__want_type(l, d, obj, kp, VGL_J_OBJECT, "an object") != 0)
		return;
	type_tok = legacy ? -1 : peek_key(d, obj, "type");
	if (legacy) {
		be = vgl_conf_backend_find("snmp");
	} else if (type_tok >= 0) {
		struct kp tk = { kp, "type", -1, 0 };
		if (vgl__get_str(l, d, type_tok, &tk, &type) != 0)
			return;
		if (!(be = vgl_conf_backend_find(type))) {
			char list[128];
			type_list(list, sizeof(list));
			vgl__errk(l, d, vgl__tok_pos(d, type_tok), &tk,
				  "unknown source type '%s' (expected one of: %s)", type, list);
			free(type);
			return;
		}
		free(type);
	}
	if (existing >= 0 && be && be != p->sources[existing].be) {
		vgl__errk(l, d, vgl__tok_pos(d, type_tok >= 0 ? type_tok : obj), kp,
			  "source '%s' is of type %s in the template: a host may change its "
			  "settings, not its type", name, p->sources[existing].be->type);
		return;
	}
	if (existing >= 0)
		be = p->sources[existing].be;
	if (!be) {
		char list[128];
		type_list(list, sizeof(list));
		vgl__errk(l, d, vgl__tok_pos(d, obj), kp, "missing required key 'type' (one of: %s)",
			  list);
		return;
	}
	off = legacy ? 1 : 0;
	for (int i = off; i < SK_COMMON; i++)
		keys[nk++] = common[i];
	for (const char *const *k = be->source_keys; k && *k && nk < MAX_KEYS; k++)
		keys[nk++] = *k;
	keys[nk] = NULL;
	vgl__obj_fields(l, d, obj, kp, keys, vals);
	if (existing < 0) {
		if (p->n_sources >= VGL_CONF_MAX_SOURCES) {
			vgl__errk(l, d, vgl__tok_pos(d, obj), kp, "at most %d sources per host",
				  VGL_CONF_MAX_SOURCES);
			return;
		}
		if (grow_sources(l, p, at) != 0)
			return;
		s = &p->sources[p->n_sources];
		memset(s, 0, sizeof(*s));
		s->be = be;
		s->interval_ms = be->interval_ms;
		s->timeout_ms = be->timeout_ms;
		if (!(s->name = strdup(name)) || !(s->spec = be->source_new(NULL))) {
			source_free(s);
			vgl__oom(l);
			return;
		}
		existing = (long)p->n_sources++;
	}
	s = &p->sources[existing];
	(*at)[existing] = (struct src_at){ d, obj, legacy, in_host };
	if (vals[SK_INTERVAL - off] >= 0 &&
	    vgl__get_int(l, d, vals[SK_INTERVAL - off], &(struct kp){ kp, "interval_s", -1, 0 },
			 1, 86400, &x) == 0)
		s->interval_ms = (uint32_t)x * 1000;
	if (vals[SK_TIMEOUT - off] >= 0 &&
	    vgl__get_int(l, d, vals[SK_TIMEOUT - off], &(struct kp){ kp, "timeout_ms", -1, 0 },
			 10, be->max_timeout_ms, &x) == 0)
		s->timeout_ms = (uint32_t)x;
	be->source_apply(&cp, vals + (SK_COMMON - off), s->spec);
}

static void apply_sources(struct ld *l, const struct vgl__doc *d, int obj, const struct kp *kp,
			  int in_host, int legacy_tok, struct vgl_conf_profile *p,
			  struct src_at **at)
{
	int k = obj + 1;

	if (vgl__want_type(l, d, obj, kp, VGL_J_OBJECT, "an object") != 0)
		return;
	for (int i = 0; i < d->tok[obj].size; i++) {
		int v = k + 1;
		struct kp ck = { kp, d->text + d->tok[k].start, d->tok[k].end - d->tok[k].start, 0 };
		char *name = vgl__tok_str(d, k);

		k = d->tok[v].next;
		if (!name) {
			vgl__oom(l);
			return;
		}
		if (!vgl__is_ident(name)) {
			vgl__errk(l, d, vgl__tok_pos(d, v - 1), &ck, "source name must match "
				  "[A-Za-z_][A-Za-z0-9_.-]* and not be and/or/not");
		} else if (vgl__earlier_key(d, obj, v - 1) >= 0) {
			vgl__errk(l, d, vgl__tok_pos(d, v - 1), &ck, "duplicate key");
		} else if (legacy_tok >= 0 && strcmp(name, "snmp") == 0) {
			int line, col;
			vgl__doc_linecol(d, vgl__tok_pos(d, legacy_tok), &line, &col);
			vgl__errk(l, d, vgl__tok_pos(d, v - 1), &ck, "source 'snmp' is also given "
				  "as the \"snmp\" key (line %d:%d): give it once", line, col);
		} else {
			apply_source(l, d, v, &ck, name, 0, in_host, p, at);
		}
		free(name);
	}
}

/* ---- metrics ------------------------------------------------------------- */

/* The source a metric without "source" belongs to: the first whose back
 * end takes plain string metrics (a plain OID string means SNMP). */
static long default_metric_source(const struct vgl_conf_profile *p)
{
	for (size_t i = 0; i < p->n_sources; i++)
		if (p->sources[i].be->metric_string_key)
			return (long)i;
	return -1;
}

static void source_names(const struct vgl_conf_profile *p, char *buf, size_t n)
{
	size_t len = 0;

	snprintf(buf, n, "none");
	for (size_t i = 0; i < p->n_sources && len < n; i++) {
		int w = snprintf(buf + len, n - len, "%s%s", i ? ", " : "", p->sources[i].name);
		if (w < 0)
			break;
		len += (size_t)w;
	}
}

/* One metric from its value token v: a string (the default source's
 * string key) or {"source", "enum", ...the back end's keys}. */
static int parse_metric(struct ld *l, const struct vgl__doc *d, int v, const struct kp *kp,
			const char *owner, const struct vgl_conf_profile *p,
			struct vgl_conf_metric *m)
{
	const struct vgl_conf_backend *be;
	const char *keys[MAX_KEYS + 1];
	int vals[MAX_KEYS + 1], nk = 0;
	long src;
	struct vgl_cparse cp = { l, d, kp, v, 0 };

	if (d->tok[v].type == VGL_J_STRING) {
		src = default_metric_source(p);
		if (src < 0) {
			vgl__errk(l, d, vgl__tok_pos(d, v), kp, "a plain string metric is an SNMP "
				  "OID, but this %s has no SNMP source: give an object with "
				  "\"source\"", owner);
			return -1;
		}
		be = p->sources[src].be;
		m->source = (uint32_t)src;
		for (const char *const *k = be->metric_keys; k && *k && nk < MAX_KEYS; k++)
			vals[nk++] = strcmp(*k, be->metric_string_key) == 0 ? v : -1;
		/* The string stands for the whole metric: its messages name the
		 * metric, not a key under it. */
		cp.bare = 1;
		return be->metric_parse(&cp, vals, p->sources[src].spec, m);
	}
	if (d->tok[v].type != VGL_J_OBJECT) {
		vgl__errk(l, d, vgl__tok_pos(d, v), kp,
			  "expected an OID string or an object {\"oid\", \"enum\"} or "
			  "{\"source\", ...}, got %s", vgl__tok_kind(d, v));
		return -1;
	}
	{
		int st = peek_key(d, v, "source");
		char *name = NULL, list[160];
		struct kp sk = { kp, "source", -1, 0 };

		if (st >= 0) {
			if (vgl__get_str(l, d, st, &sk, &name) != 0)
				return -1;
			src = vgl_conf_source_index(p, name);
			if (src < 0) {
				source_names(p, list, sizeof(list));
				vgl__errk(l, d, vgl__tok_pos(d, st), &sk, "no source named '%s' in this "
					  "%s (its sources: %s)", name, owner, list);
				free(name);
				return -1;
			}
			free(name);
		} else if ((src = default_metric_source(p)) < 0) {
			vgl__errk(l, d, vgl__tok_pos(d, v), kp, "missing required key 'source'");
			return -1;
		}
	}
	be = p->sources[src].be;
	m->source = (uint32_t)src;
	keys[nk++] = "source";
	keys[nk++] = "enum";
	for (const char *const *k = be->metric_keys; k && *k && nk < MAX_KEYS; k++)
		keys[nk++] = *k;
	keys[nk] = NULL;
	vgl__obj_fields(l, d, v, kp, keys, vals);
	if (be->metric_parse(&cp, vals + 2, p->sources[src].spec, m) != 0)
		return -1;
	/* The config's states replace the back end's (a MIB's). */
	if (vals[1] >= 0 && vgl_cp_enum(&cp, vals[1], "enum", &m->enums, &m->n_enums) != 0)
		return -1;
	return 0;
}

/* Adds the metrics of object obj to p, replacing same-named ones. */
static void apply_metrics(struct ld *l, const struct vgl__doc *d, int obj, const struct kp *kp,
			  const char *owner, struct vgl_conf_profile *p)
{
	int k = obj + 1;
	struct vgl_conf_metric *grown;

	if (vgl__want_type(l, d, obj, kp, VGL_J_OBJECT, "an object") != 0)
		return;
	grown = realloc(p->metrics, (p->n_metrics + (size_t)d->tok[obj].size + 1) *
			sizeof(*p->metrics));
	if (!grown) {
		vgl__oom(l);
		return;
	}
	p->metrics = grown;
	for (int i = 0; i < d->tok[obj].size; i++) {
		int v = k + 1;
		struct kp ck = { kp, d->text + d->tok[k].start, d->tok[k].end - d->tok[k].start, 0 };
		struct vgl_conf_metric m = { 0 };
		size_t at = p->n_metrics;

		k = d->tok[v].next;
		if (!(m.name = vgl__tok_str(d, v - 1))) {
			vgl__oom(l);
			return;
		}
		if (!vgl__is_ident(m.name)) {
			vgl__errk(l, d, vgl__tok_pos(d, v - 1), &ck, "metric name must match "
				  "[A-Za-z_][A-Za-z0-9_.-]* and not be and/or/not");
			metric_free(&m, NULL);
			continue;
		}
		if (vgl__earlier_key(d, obj, v - 1) >= 0) {
			vgl__errk(l, d, vgl__tok_pos(d, v - 1), &ck, "duplicate key");
			metric_free(&m, NULL);
			continue;
		}
		if (parse_metric(l, d, v, &ck, owner, p, &m) != 0) {
			metric_free(&m, metric_be(p, &m));
			continue;
		}
		for (size_t j = 0; j < p->n_metrics; j++)
			if (strcmp(p->metrics[j].name, m.name) == 0)
				at = j;
		if (at < p->n_metrics)
			metric_free(&p->metrics[at], metric_be(p, &p->metrics[at]));
		else
			p->n_metrics++;
		p->metrics[at] = m;
	}
}

/* Each source's list of the metrics it delivers. */
static int bind_source_metrics(struct vgl_conf_profile *p)
{
	for (size_t s = 0; s < p->n_sources; s++) {
		struct vgl_conf_source *src = &p->sources[s];

		free(src->metrics);
		src->metrics = NULL;
		src->n_metrics = 0;
		for (size_t i = 0; i < p->n_metrics; i++)
			if (p->metrics[i].source == s)
				src->n_metrics++;
		if (!src->n_metrics)
			continue;
		if (!(src->metrics = malloc(src->n_metrics * sizeof(*src->metrics))))
			return -1;
		src->n_metrics = 0;
		for (size_t i = 0; i < p->n_metrics; i++)
			if (p->metrics[i].source == s)
				src->metrics[src->n_metrics++] = (uint32_t)i;
	}
	return 0;
}

/* ---- availability conditions -------------------------------------------- */

enum { C_NAME, C_CAUSE, C_UNREACH, C_WHEN, C_FOR, C_SOURCE, C_SITE_WIDE, C_ALARM, C_N };
static const char *const cond_keys[] = { "name", "cause", "unreachable", "when", "for_s",
					 "source", "site_wide", "alarm", NULL };

static int parse_expr(struct ld *l, const struct vgl__doc *d, int v, const struct kp *kp,
		      const struct vgl_conf_metric *ms, size_t n, const char *text,
		      const char *suffix, struct vgl_expr **out)
{
	struct vgl_expr_error ee = { 0 };

	if (vgl_expr_parse(text, ms, n, out, &ee) == 0)
		return 0;
	*out = NULL;
	/* The column of the offending token inside the string: right after
	 * the opening quote, assuming no escapes before it. */
	vgl__errk(l, d, vgl__tok_pos(d, v) + 1 + ee.offset, kp, "%s%s", ee.msg, suffix);
	return -1;
}

/* Compiles the condition array arr against p's metrics and sources.
 * *when_tok (if asked for) gets each condition's "when" token. */
static void compile_conds(struct ld *l, const struct vgl__doc *d, int arr, const struct kp *kp,
			  const char *owner, struct vgl_conf_profile *p, int **when_tok)
{
	int e = arr + 1, n = d->tok[arr].size;
	struct vgl_conf_cond *cs;

	p->conds = NULL;
	p->n_conds = 0;
	if (vgl__want_type(l, d, arr, kp, VGL_J_ARRAY, "an array") != 0)
		return;
	if (n == 0)
		return;
	cs = calloc((size_t)n, sizeof(*cs));
	if (!cs || (when_tok && !(*when_tok = malloc((size_t)n * sizeof(int))))) {
		free(cs);
		vgl__oom(l);
		return;
	}
	p->conds = cs;
	for (int i = 0; i < n; i++, e = d->tok[e].next) {
		struct kp ik = { kp, NULL, 0, i };
		struct vgl_conf_cond *c = &cs[p->n_conds++];
		int v[C_N];
		long x;
#define KP(j) (&(struct kp){ &ik, cond_keys[j], -1, 0 })
		if (when_tok)
			(*when_tok)[i] = -1;
		if (vgl__want_type(l, d, e, &ik, VGL_J_OBJECT, "an object") != 0)
			continue;
		vgl__obj_fields(l, d, e, &ik, cond_keys, v);
		if (v[C_NAME] < 0) {
			vgl__errk(l, d, vgl__tok_pos(d, e), &ik, "missing required key 'name'");
		} else if (vgl__get_str(l, d, v[C_NAME], KP(C_NAME), &c->name) == 0) {
			for (int j = 0; j < i; j++) {
				if (cs[j].name && strcmp(cs[j].name, c->name) == 0) {
					vgl__errk(l, d, vgl__tok_pos(d, v[C_NAME]), KP(C_NAME),
						  "duplicate condition name '%s' (also %s[%d])",
						  c->name, "availability", j);
					break;
				}
			}
			if (!*c->name)
				vgl__errk(l, d, vgl__tok_pos(d, v[C_NAME]), KP(C_NAME),
					  "must not be empty");
		}
		if (v[C_CAUSE] < 0) {
			vgl__errk(l, d, vgl__tok_pos(d, e), &ik, "missing required key 'cause'");
		} else if (vgl__get_str(l, d, v[C_CAUSE], KP(C_CAUSE), &c->cause) == 0 &&
			   !vgl_cause_valid(c->cause)) {
			vgl__errk(l, d, vgl__tok_pos(d, v[C_CAUSE]), KP(C_CAUSE),
				  "unknown cause '%s': expected one of network, hardware, power, "
				  "facility, maintenance, customer, force_majeure, unknown",
				  c->cause);
		}
		if (v[C_SITE_WIDE] >= 0) {
			const char *b = d->text + d->tok[v[C_SITE_WIDE]].start;
			int prim = d->tok[v[C_SITE_WIDE]].type == VGL_J_PRIMITIVE;

			if (prim && b[0] == 't')
				c->site_wide = 1;
			else if (!prim || b[0] != 'f')
				vgl__errk(l, d, vgl__tok_pos(d, v[C_SITE_WIDE]), KP(C_SITE_WIDE),
					  "expected true or false, got %s",
					  vgl__tok_kind(d, v[C_SITE_WIDE]));
		}
		if (v[C_ALARM] >= 0 && !vgl__is_null(d, v[C_ALARM]) &&
		    !(d->tok[v[C_ALARM]].type == VGL_J_PRIMITIVE &&
		      d->text[d->tok[v[C_ALARM]].start] == 'f')) {
			if (!(c->alarm = calloc(1, sizeof(*c->alarm))))
				vgl__oom(l);
			else
				vgl__alarm_spec_parse(l, d, v[C_ALARM], KP(C_ALARM), p->metrics,
						      p->n_metrics, VGL_SEV_CRITICAL, c->alarm);
		}
		if ((v[C_UNREACH] >= 0) == (v[C_WHEN] >= 0)) {
			vgl__errk(l, d, vgl__tok_pos(d, e), &ik,
				  "give exactly one of 'unreachable' and 'when'");
			continue;
		}
		if (v[C_UNREACH] >= 0) {
			char *sname = NULL;
			c->kind = VGL_COND_UNREACHABLE;
			if (vgl__get_int(l, d, v[C_UNREACH], KP(C_UNREACH), 1, 1000, &x) == 0)
				c->failures = (uint32_t)x;
			if (v[C_FOR] >= 0)
				vgl__errk(l, d, vgl__tok_pos(d, v[C_FOR] - 1), KP(C_FOR),
					  "'for_s' goes only with 'when'");
			c->source = 0;
			if (v[C_SOURCE] >= 0 &&
			    vgl__get_str(l, d, v[C_SOURCE], KP(C_SOURCE), &sname) == 0) {
				long s = vgl_conf_source_index(p, sname);
				if (s < 0) {
					char list[160];
					source_names(p, list, sizeof(list));
					vgl__errk(l, d, vgl__tok_pos(d, v[C_SOURCE]), KP(C_SOURCE),
						  "no source named '%s' in this %s (its sources: %s)",
						  sname, owner, list);
				} else {
					c->source = (uint32_t)s;
				}
				free(sname);
			}
			continue;
		}
		c->kind = VGL_COND_EXPR;
		if (v[C_SOURCE] >= 0)
			vgl__errk(l, d, vgl__tok_pos(d, v[C_SOURCE] - 1), KP(C_SOURCE),
				  "'source' goes only with 'unreachable' (an expression reads "
				  "metrics of any source)");
		if (v[C_FOR] >= 0 && vgl__get_int(l, d, v[C_FOR], KP(C_FOR), 0, 86400, &x) == 0)
			c->for_ms = (uint32_t)x * 1000;
		if (vgl__get_str(l, d, v[C_WHEN], KP(C_WHEN), &c->expr_text) != 0)
			continue;
		if (when_tok)
			(*when_tok)[i] = v[C_WHEN];
		parse_expr(l, d, v[C_WHEN], KP(C_WHEN), p->metrics, p->n_metrics, c->expr_text, "",
			   &c->expr);
#undef KP
	}
}

/* Which sources observe each expression condition (vgl_conf_cond.reads):
 * worked out once here, not at every poll of every host. */
static void bind_cond_sources(struct vgl_conf_profile *p)
{
	for (size_t i = 0; i < p->n_conds; i++) {
		struct vgl_conf_cond *c = &p->conds[i];
		size_t n = c->expr ? vgl_expr_metrics(c->expr, NULL, 0) : 0;

		c->reads = 0;
		if (c->kind != VGL_COND_EXPR || !c->expr)
			continue;
		for (size_t k = 0; k < n; k++) {
			size_t m;
			vgl_expr_metric_at(c->expr, k, &m);
			if (m < p->n_metrics)
				c->reads |= UINT64_C(1) << p->metrics[m].source;
		}
		if (!c->reads)
			c->reads = 1;
	}
}

/* ---- whole profiles ------------------------------------------------------ */

/* Completeness: every source's settings (at the object given last), a
 * source that needs metrics has some, and there is something to poll. */
static void check_sources(struct ld *l, const struct vgl_conf_profile *p, const struct src_at *at,
			  const struct kp *owner_tmpl, const struct kp *owner_host)
{
	for (size_t i = 0; i < p->n_sources; i++) {
		const struct vgl_conf_source *s = &p->sources[i];
		struct kp sources, skp;
		struct vgl_cparse cp;

		src_kp(&at[i], at[i].in_host ? owner_host : owner_tmpl, s->name, &sources, &skp);
		cp = (struct vgl_cparse){ l, at[i].d, &skp, at[i].tok, 0 };
		s->be->source_check(&cp, s->spec);
	}
}

static const struct kp *tmpl_kp(const struct tmpl *t, struct kp *root, struct kp *tk)
{
	if (!t)
		return NULL;
	*root = (struct kp){ NULL, "templates", -1, 0 };
	*tk = (struct kp){ root, t->name, -1, 0 };
	return tk;
}

/* The "snmp", "sources" and "metrics" of one object (owner: the template's
 * or the host's, at kp) laid over p, and each source's metric list. 0, or
 * -1 when out of memory. */
static int apply_own(struct ld *l, const struct vgl__doc *d, const struct kp *kp,
		     const struct prof_toks *t, int in_host, struct vgl_conf_profile *p,
		     struct src_at **at)
{
	if (t->snmp >= 0)
		apply_source(l, d, t->snmp, &(struct kp){ kp, "snmp", -1, 0 }, "snmp", 1, in_host, p,
			     at);
	if (t->sources >= 0)
		apply_sources(l, d, t->sources, &(struct kp){ kp, "sources", -1, 0 }, in_host,
			      t->snmp, p, at);
	if (t->metrics >= 0)
		apply_metrics(l, d, t->metrics, &(struct kp){ kp, "metrics", -1, 0 },
			      in_host ? "host" : "template", p);
	return bind_source_metrics(p);
}

/* Where template t gave its source name, for a check of it. */
static struct src_at tmpl_src_at(const struct tmpl *t, const char *name)
{
	int legacy = t->snmp >= 0 && strcmp(name, "snmp") == 0;
	int tok = legacy ? t->snmp : t->sources >= 0 ? peek_key(t->d, t->sources, name) : -1;

	return (struct src_at){ t->d, tok >= 0 ? tok : t->obj, legacy, 0 };
}

void vgl__profile_compile(struct ld *l, const struct vgl__doc *d, const struct kp *tk,
			  const struct prof_toks *t, struct vgl_conf_profile *p, int **when_tok,
			  int **rule_toks)
{
	struct src_at *at = NULL;

	if (apply_own(l, d, tk, t, 0, p, &at) != 0)
		vgl__oom(l);
	if (t->avail >= 0)
		compile_conds(l, d, t->avail, &(struct kp){ tk, "availability", -1, 0 }, "template",
			      p, when_tok);
	bind_cond_sources(p);
	if (t->rules >= 0)
		vgl__rules_compile(l, d, t->rules, &(struct kp){ tk, "rules", -1, 0 }, p, rule_toks);
	if (t->counters >= 0 &&
	    vgl__parse_counters(l, d, t->counters, &(struct kp){ tk, "sla_counters", -1, 0 }, p,
			   "template", &p->counters) == 0)
		p->has_counters = 1;
	free(at);
}

/* A profile of only such sources has nothing to poll without metrics (a
 * ping source polls, and feeds "unreachable", with none). */
static int all_need_metrics(const struct vgl_conf_profile *p)
{
	for (size_t i = 0; i < p->n_sources; i++)
		if (!p->sources[i].be->needs_metrics)
			return 0;
	return 1;
}

/* What a profile hosts poll must have, beside each source's own checks. */
static void check_polled(struct ld *l, const struct vgl_conf_profile *p, const struct vgl__doc *d,
			 int at, const struct kp *kp, const char *what)
{
	for (size_t i = 0; i < p->n_sources; i++)
		if (p->sources[i].be->needs_metrics && p->sources[i].n_metrics == 0)
			vgl__errk(l, d, vgl__tok_pos(d, at), kp, "%s has no metrics for its %s "
				  "source '%s': nothing to poll there", what,
				  p->sources[i].be->type, p->sources[i].name);
}

void vgl__template_check(struct ld *l, struct tmpl *t)
{
	struct kp root, tk;
	size_t before = l->n_errs;
	struct src_at *at;

	if (t->checked || !t->prof)
		return;
	t->checked = 1;
	tmpl_kp(t, &root, &tk);
	if (t->prof->n_sources == 0) {
		vgl__errk(l, t->d, vgl__tok_pos(t->d, t->obj), &tk, "template has no \"snmp\" "
			  "object and no \"sources\": hosts using it have nothing to poll");
		t->ok = 0;
		return;
	}
	/* The template's own objects are the last applied for every source. */
	at = calloc(t->prof->n_sources, sizeof(*at));
	if (!at) {
		vgl__oom(l);
		return;
	}
	for (size_t i = 0; i < t->prof->n_sources; i++)
		at[i] = tmpl_src_at(t, t->prof->sources[i].name);
	check_sources(l, t->prof, at, &tk, NULL);
	free(at);
	if (t->prof->n_metrics == 0 && all_need_metrics(t->prof))
		vgl__errk(l, t->d, vgl__tok_pos(t->d, t->obj), &tk,
			  "template has no metrics: hosts using it have nothing to poll");
	else
		check_polled(l, t->prof, t->d, t->obj, &tk, "template");
	if (l->n_errs != before)
		t->ok = 0;
}

/* A template's conditions for a host profile built from it: sources keep
 * their indexes (the template's come first, in its order); expressions
 * are parsed again against the host's metrics. */
static int copy_conds(struct ld *l, struct vgl_conf_profile *p, const struct vgl_conf_profile *base,
		      struct tmpl *t, const char *host_name)
{
	struct kp root, tk;
	struct kp ak = { tmpl_kp(t, &root, &tk), "availability", -1, 0 };
	char suffix[200];

	snprintf(suffix, sizeof(suffix), " (with the metrics of host '%s')", host_name);
	if (!(p->conds = calloc(base->n_conds, sizeof(*p->conds))))
		return -1;
	for (size_t i = 0; i < base->n_conds; i++, p->n_conds++) {
		const struct vgl_conf_cond *b = &base->conds[i];
		struct vgl_conf_cond *c = &p->conds[i];
		struct kp ik = { &ak, NULL, 0, (long)i };
		struct kp wk = { &ik, "when", -1, 0 };

		*c = *b;
		c->expr = NULL;
		c->name = c->cause = c->expr_text = NULL;
		c->alarm = NULL;
		if (vgl__dup_opt(&c->name, b->name) || vgl__dup_opt(&c->cause, b->cause) ||
		    vgl__dup_opt(&c->expr_text, b->expr_text) ||
		    (b->alarm && !(c->alarm = vgl__alarm_spec_dup(b->alarm))))
			return -1;
		/* A template expression that failed on its own was reported
		 * already. */
		if (b->kind == VGL_COND_EXPR && b->expr)
			parse_expr(l, t->d, t->when_tok[i], &wk, p->metrics, p->n_metrics,
				   c->expr_text, suffix, &c->expr);
	}
	return 0;
}

struct vgl_conf_profile *vgl__profile_for_host(struct ld *l, const struct vgl__doc *d, int obj,
					       const struct kp *hk, const struct prof_toks *h,
					       struct tmpl *t, const char *host_name,
					       size_t errs_before)
{
	const struct vgl_conf_profile *base = t ? t->prof : NULL;
	struct vgl_conf_profile *p = vgl__profile_new();
	struct src_at *at = NULL;
	struct kp root, tk;
	const struct kp *tkp = tmpl_kp(t, &root, &tk);

	if (!p || (t && !(p->template_name = strdup(t->name))))
		goto out_of_memory;
	if (base && base->n_sources) {
		if (!(p->sources = calloc(base->n_sources, sizeof(*p->sources))) ||
		    !(at = calloc(base->n_sources, sizeof(*at))))
			goto out_of_memory;
		for (size_t i = 0; i < base->n_sources; i++, p->n_sources++) {
			if (source_copy(&p->sources[i], &base->sources[i]) != 0)
				goto out_of_memory;
			at[i] = tmpl_src_at(t, base->sources[i].name);
		}
	}
	if (base && base->n_metrics) {
		if (!(p->metrics = calloc(base->n_metrics, sizeof(*p->metrics))))
			goto out_of_memory;
		for (size_t i = 0; i < base->n_metrics; i++, p->n_metrics++)
			if (metric_copy(&p->metrics[i], &base->metrics[i],
					metric_be(base, &base->metrics[i])) != 0)
				goto out_of_memory;
	}
	if (apply_own(l, d, hk, h, 1, p, &at) != 0)
		goto out_of_memory;
	if (h->avail >= 0) {
		compile_conds(l, d, h->avail, &(struct kp){ hk, "availability", -1, 0 }, "host", p,
			      NULL);
	} else if (base && base->n_conds) {
		if (copy_conds(l, p, base, t, host_name) != 0)
			goto out_of_memory;
	}
	bind_cond_sources(p);
	if (h->rules >= 0) {
		vgl__rules_compile(l, d, h->rules, &(struct kp){ hk, "rules", -1, 0 }, p, NULL);
	} else if (base && base->n_rules) {
		struct kp rk = { tkp, "rules", -1, 0 };

		if (vgl__rules_copy(l, p, base, t->d, t->rule_toks, &rk, host_name) != 0)
			goto out_of_memory;
	}
	if (h->counters >= 0) {
		if (vgl__parse_counters(l, d, h->counters, &(struct kp){ hk, "sla_counters", -1, 0 }, p,
				   "host", &p->counters) == 0)
			p->has_counters = 1;
	} else if (base && base->has_counters) {
		/* Host metrics only add to or replace the template's by name,
		 * so the names are still there; their indexes may not be. */
		int r = vgl__counters_rebind(&p->counters, &base->counters, p);
		if (r == -1)
			goto out_of_memory;
		if (r == 0)
			p->has_counters = 1;
		else
			vgl__errk(l, d, vgl__tok_pos(d, obj), hk, "the template's sla_counters name "
				  "metrics this host does not have from one source");
	}
	/* A host with errors already (a metric that did not resolve, a
	 * missing name) is not also told it has nothing to poll. */
	if (p->n_sources == 0) {
		/* a server known only by what powers and cools it */
		if (l->n_errs == errs_before && !h->topo)
			vgl__errk(l, d, vgl__tok_pos(d, obj), hk, "host has nothing to poll: give it "
				  "a \"template\", an \"snmp\" object or \"sources\"");
	} else {
		check_sources(l, p, at, tkp, hk);
		if (p->n_metrics == 0 && all_need_metrics(p) && l->n_errs == errs_before)
			vgl__errk(l, d, vgl__tok_pos(d, obj), hk, "host has no metrics to poll");
		else if (l->n_errs == errs_before)
			check_polled(l, p, d, obj, hk, "host");
	}
	free(at);
	return p;
out_of_memory:
	vgl__oom(l);
	free(at);
	vgl__profile_free(p);
	return NULL;
}

void vgl__profile_host_check(struct ld *l, const struct vgl_conf_profile *p,
			     const struct vgl__doc *d, int addr_tok, const struct kp *akp,
			     const char *address)
{
	for (size_t i = 0; i < p->n_sources; i++) {
		const struct vgl_conf_source *s = &p->sources[i];
		struct vgl_cparse cp = { l, d, akp, addr_tok, 1 };

		if (s->be->host_check)
			s->be->host_check(&cp, s->spec, address);
	}
}
