/* Power and cooling topology at run time (rules/topo.h).
 *
 * Per host: the state of each feed as its metric last said (unknown, live,
 * off), whether a site-wide condition of its own holds, and what was last
 * reported for it (power down, degraded, facility down). An observation of
 * device D re-reads D's feed metrics, then walks down from D: every host
 * fed by a device whose deadness changed is re-judged, and so on; hosts
 * that depend_on a device whose site-wide state changed are re-judged for
 * FACILITY. Each host is re-judged at most once per kind and observation
 * in a DAG walk that visits it after everything above it (a host is queued
 * only when a device above changed, and the graph has no cycle), so the
 * cost is that of the part of the graph behind D.
 */
#include "rules/topo.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "core/vtime.h"
#include "rules/expr.h"

enum feed_state { F_UNKNOWN, F_LIVE, F_OFF };

struct edge {
	uint32_t host;          /* the host fed or depending */
	uint32_t k;             /* its feed index (fed_by only) */
};

struct node {
	uint8_t *feed;                  /* enum feed_state per feed (metric's word) */
	struct edge *fed_by;            /* hosts this one feeds */
	uint32_t n_fed_by;
	uint32_t *dependents;           /* hosts that depend_on this one */
	uint32_t n_dependents;
	int site_cond;                  /* own site-wide condition holding, -1 */
	uint8_t observed;               /* a poll of it was seen */
	/* judged */
	uint8_t power_known, power_down, degraded, dead;
	uint8_t facility_known, facility_down;
	/* why it is dead: for hosts behind it */
	char dead_cause[32];
	char dead_by[240];              /* "ups-1 (rule on-battery-exhausted)" */
};

struct vgl_topo {
	const struct vgl_conf *c;
	struct node *n;
	uint32_t *queue;
	uint8_t *queued;
};

static int push_edge(struct edge **arr, uint32_t *n, struct edge e)
{
	struct edge *g = realloc(*arr, (*n + 1) * sizeof(**arr));

	if (!g)
		return -1;
	g[(*n)++] = e;
	*arr = g;
	return 0;
}

static int push_u32(uint32_t **arr, uint32_t *n, uint32_t v)
{
	uint32_t *g = realloc(*arr, (*n + 1) * sizeof(**arr));

	if (!g)
		return -1;
	g[(*n)++] = v;
	*arr = g;
	return 0;
}

void vgl_topo_free(struct vgl_topo *t)
{
	if (!t)
		return;
	for (size_t i = 0; t->n && i < t->c->n_hosts; i++) {
		free(t->n[i].feed);
		free(t->n[i].fed_by);
		free(t->n[i].dependents);
	}
	free(t->n);
	free(t->queue);
	free(t->queued);
	free(t);
}

int vgl_topo_new(const struct vgl_conf *c, struct vgl_topo **out)
{
	struct vgl_topo *t;
	int any = 0;

	*out = NULL;
	for (size_t i = 0; i < c->n_hosts && !any; i++)
		any = c->hosts[i].n_feeds || c->hosts[i].n_depends;
	if (!any)
		return 0;
	if (!(t = calloc(1, sizeof(*t))))
		return -ENOMEM;
	t->c = c;
	if (!(t->n = calloc(c->n_hosts, sizeof(*t->n))) ||
	    !(t->queue = malloc(c->n_hosts * sizeof(*t->queue))) ||
	    !(t->queued = calloc(c->n_hosts, 1)))
		goto oom;
	for (size_t i = 0; i < c->n_hosts; i++)
		t->n[i].site_cond = -1;
	for (uint32_t i = 0; i < c->n_hosts; i++) {
		const struct vgl_conf_host *h = &c->hosts[i];

		if (h->n_feeds && !(t->n[i].feed = calloc(h->n_feeds, 1)))
			goto oom;
		for (uint32_t k = 0; k < h->n_feeds; k++)
			if (push_edge(&t->n[h->feeds[k].host].fed_by, &t->n[h->feeds[k].host].n_fed_by,
				      (struct edge){ i, k }) != 0)
				goto oom;
		for (uint32_t k = 0; k < h->n_depends; k++)
			if (push_u32(&t->n[h->depends_on[k]].dependents,
				     &t->n[h->depends_on[k]].n_dependents, i) != 0)
				goto oom;
	}
	*out = t;
	return 0;
oom:
	vgl_topo_free(t);
	return -ENOMEM;
}

int vgl_topo_is_device(const struct vgl_topo *t, uint32_t host)
{
	return t && host < t->c->n_hosts && (t->n[host].n_fed_by || t->n[host].n_dependents);
}

int vgl_topo_degraded(const struct vgl_topo *t, uint32_t host)
{
	return t && host < t->c->n_hosts && t->n[host].degraded;
}

/* ---- evidence ------------------------------------------------------------ */

static const char *feed_word(const struct vgl_topo *t, const struct vgl_conf_feed *f, int st)
{
	if (st == F_OFF)
		return "off";
	if (t->n[f->host].dead)
		return "dead upstream";
	return st == F_LIVE ? "live" : "unknown";
}

static char *power_evidence(const struct vgl_topo *t, uint32_t host, const char *cause,
			    const char *decided_by, int64_t ts)
{
	const struct vgl_conf_host *h = &t->c->hosts[host];
	cJSON *o = cJSON_CreateObject(), *arr;
	char iso[VGL_ISO_LEN];
	int bad = !o;

	if (bad)
		return NULL;
	bad |= !cJSON_AddStringToObject(o, "rule", VGL_AVAIL_RULE_POWER);
	bad |= !cJSON_AddStringToObject(o, "kind", "feeds");
	bad |= !cJSON_AddStringToObject(o, "cause", cause);
	bad |= !cJSON_AddStringToObject(o, "decided_by", decided_by);
	bad |= !cJSON_AddStringToObject(o, "ts", vgl_format_iso(ts, iso));
	bad |= !(arr = cJSON_AddArrayToObject(o, "feeds"));
	for (uint32_t k = 0; !bad && k < h->n_feeds; k++) {
		cJSON *f = cJSON_CreateObject();
		if (!f || !cJSON_AddItemToArray(arr, f)) {
			cJSON_Delete(f);
			bad = 1;
			break;
		}
		bad |= !cJSON_AddStringToObject(f, "feed", h->feeds[k].text);
		bad |= !cJSON_AddStringToObject(f, "state",
						feed_word(t, &h->feeds[k], t->n[host].feed[k]));
	}
	char *s = bad ? NULL : cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return s;
}

static char *site_evidence(const struct vgl_topo *t, uint32_t dev, const char *rule,
			   const struct vgl_value *vals, int64_t ts)
{
	const struct vgl_conf_profile *p = t->c->hosts[dev].profile;
	const struct vgl_conf_cond *cd = &p->conds[t->n[dev].site_cond];
	cJSON *o = cJSON_CreateObject(), *m;
	char iso[VGL_ISO_LEN];
	int bad = !o;
	size_t idx[16], n;

	if (bad)
		return NULL;
	bad |= !cJSON_AddStringToObject(o, "rule", rule);
	bad |= !cJSON_AddStringToObject(o, "kind", "site_wide");
	bad |= !cJSON_AddStringToObject(o, "cause", cd->cause ? cd->cause : "unknown");
	bad |= !cJSON_AddStringToObject(o, "device", t->c->hosts[dev].name);
	bad |= !cJSON_AddStringToObject(o, "device_rule", cd->name ? cd->name : "");
	if (cd->expr_text)
		bad |= !cJSON_AddStringToObject(o, "when", cd->expr_text);
	bad |= !cJSON_AddStringToObject(o, "ts", vgl_format_iso(ts, iso));
	n = cd->expr && vals ? vgl_expr_metrics(cd->expr, idx, 16) : 0;
	if (n > 16)
		n = 16;
	if (n && !bad && (m = cJSON_AddObjectToObject(o, "metrics"))) {
		for (size_t k = 0; k < n; k++) {
			const struct vgl_value *v = &vals[idx[k]];
			bad |= v->q == VGL_Q_OK
				? !cJSON_AddNumberToObject(m, p->metrics[idx[k]].name, v->v)
				: !cJSON_AddStringToObject(m, p->metrics[idx[k]].name,
							   vgl_quality_name(v->q));
		}
	}
	char *s = bad ? NULL : cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return s;
}

static void report(vgl_topo_fn *fn, void *ctx, uint32_t host, enum vgl_avail_ext kind,
		   int holding, const char *cause, const char *rule, char *ev)
{
	struct vgl_topo_change ch = {
		.host = host, .kind = kind, .holding = holding, .cause = cause, .rule = rule,
		.evidence = ev ? ev : "{\"error\":\"evidence unavailable: out of memory\"}",
	};

	fn(ctx, &ch);
	cJSON_free(ev);
}

/* ---- judging ------------------------------------------------------------- */

static int dead_now(const struct node *n)
{
	return n->site_cond >= 0 || (n->power_known && n->power_down);
}

static void set_dead_reason(struct vgl_topo *t, uint32_t host)
{
	struct node *n = &t->n[host];
	const struct vgl_conf_host *h = &t->c->hosts[host];

	if (n->site_cond >= 0) {
		const struct vgl_conf_cond *cd = &h->profile->conds[n->site_cond];
		snprintf(n->dead_cause, sizeof(n->dead_cause), "%s", cd->cause ? cd->cause : "unknown");
		snprintf(n->dead_by, sizeof(n->dead_by), "%s (rule %s)", h->name,
			 cd->name ? cd->name : "");
	}
	/* power_down keeps the reason judge_power set */
}

/* Re-judges host's feeds; returns 1 when its deadness changed. `by` is
 * the feed metric just observed ("pdu-a1.outlet3 = 0"), NULL when the
 * change came from upstream. */
static int judge_power(struct vgl_topo *t, uint32_t host, const char *by, int64_t ts,
		       vgl_topo_fn *fn, vgl_topo_degraded_fn *dfn, void *ctx)
{
	const struct vgl_conf_host *h = &t->c->hosts[host];
	struct node *n = &t->n[host];
	uint32_t live = 0, off = 0, off_metric = 0;
	int was_dead = n->dead, down, degraded;
	char offs[256] = "";
	size_t used = 0;
	const struct node *up = NULL;

	if (!h->n_feeds)
		goto deadness;
	for (uint32_t k = 0; k < h->n_feeds; k++) {
		const struct node *d = &t->n[h->feeds[k].host];
		if (n->feed[k] == F_OFF || d->dead) {
			off++;
			off_metric += n->feed[k] == F_OFF;
			if (d->dead && n->feed[k] != F_OFF)
				up = d;
			if (used < sizeof(offs) - 1)
				used += (size_t)snprintf(offs + used, sizeof(offs) - used, "%s%s",
							 used ? ", " : "", h->feeds[k].text);
		} else if (n->feed[k] == F_LIVE) {
			live++;
		}
	}
	if (live)
		down = 0;
	else if (off == h->n_feeds)
		down = 1;
	else
		goto deadness;          /* some unknown, none live: not known yet */
	degraded = live && off;
	/* the first judgement is reported either way: the database may hold
	 * a degraded state from before a restart */
	if (degraded != n->degraded || !n->power_known) {
		char text[300];
		snprintf(text, sizeof(text), "feeds off: %s", offs);
		if (dfn)
			dfn(ctx, host, degraded ? text : NULL);
	}
	n->degraded = (uint8_t)degraded;
	if (down != n->power_down || !n->power_known) {
		const char *cause = off_metric || !up ? "power" : up->dead_cause;
		char decided[240];

		if (down && !off_metric && up)
			snprintf(decided, sizeof(decided), "%s", up->dead_by);
		else
			snprintf(decided, sizeof(decided), "%s", by ? by : "upstream recovery");
		n->power_known = 1;
		n->power_down = (uint8_t)down;
		if (down) {
			snprintf(n->dead_cause, sizeof(n->dead_cause), "%s", cause);
			snprintf(n->dead_by, sizeof(n->dead_by), "%s", decided);
		}
		report(fn, ctx, host, VGL_AVAIL_EXT_POWER, down, cause, VGL_AVAIL_RULE_POWER,
		       power_evidence(t, host, cause, decided, ts));
	}
deadness:
	n->dead = (uint8_t)dead_now(n);
	if (n->dead && n->site_cond >= 0)
		set_dead_reason(t, host);
	return n->dead != was_dead;
}

static void judge_facility(struct vgl_topo *t, uint32_t host, const struct vgl_value *vals,
			   uint32_t observed_dev, int64_t ts, vgl_topo_fn *fn, void *ctx)
{
	const struct vgl_conf_host *h = &t->c->hosts[host];
	struct node *n = &t->n[host];
	long by = -1;
	int known = 1;

	for (uint32_t k = 0; k < h->n_depends; k++) {
		const struct node *d = &t->n[h->depends_on[k]];
		if (d->site_cond >= 0 && by < 0)
			by = h->depends_on[k];
		known &= d->observed;
	}
	if (by < 0 && !known)
		return;
	if (n->facility_known && n->facility_down == (by >= 0))
		return;
	n->facility_known = 1;
	n->facility_down = by >= 0;
	if (by >= 0) {
		const struct vgl_conf_host *dh = &t->c->hosts[by];
		const struct vgl_conf_cond *cd = &dh->profile->conds[t->n[by].site_cond];
		char rule[200];
		snprintf(rule, sizeof(rule), "%s%s/%s", VGL_AVAIL_RULE_SITE_PREFIX, dh->name,
			 cd->name ? cd->name : "");
		report(fn, ctx, host, VGL_AVAIL_EXT_FACILITY, 1, cd->cause ? cd->cause : "unknown",
		       rule, site_evidence(t, (uint32_t)by, rule,
					   (uint32_t)by == observed_dev ? vals : NULL, ts));
	} else {
		cJSON *o = cJSON_CreateObject();
		char iso[VGL_ISO_LEN], *ev = NULL;
		if (o && cJSON_AddStringToObject(o, "kind", "site_wide") &&
		    cJSON_AddStringToObject(o, "decided_by", t->c->hosts[observed_dev].name) &&
		    cJSON_AddStringToObject(o, "ts", vgl_format_iso(ts, iso)))
			ev = cJSON_PrintUnformatted(o);
		cJSON_Delete(o);
		report(fn, ctx, host, VGL_AVAIL_EXT_FACILITY, 0, "facility", "", ev);
	}
}

void vgl_topo_observe(struct vgl_topo *t, uint32_t dev, int64_t ts, const struct vgl_value *vals,
		      int site_cond, vgl_topo_fn *fn, vgl_topo_degraded_fn *dfn, void *ctx)
{
	struct node *d;
	size_t head = 0, tail = 0;
	int sw_changed;

	if (!t || dev >= t->c->n_hosts)
		return;
	d = &t->n[dev];
	sw_changed = !d->observed || (d->site_cond >= 0) != (site_cond >= 0);
	d->observed = 1;
	d->site_cond = site_cond;
	if (sw_changed) {
		d->dead = (uint8_t)dead_now(d);
		if (d->dead && d->site_cond >= 0)
			set_dead_reason(t, dev);
	}
	/* a ring: at most every host queued at once (queued[]), though a
	 * host reached by two paths may come round again */
	t->queue[tail++ % t->c->n_hosts] = dev;
	t->queued[dev] = 1;
	while (head < tail) {
		uint32_t x = t->queue[head++ % t->c->n_hosts];
		struct node *xn = &t->n[x];

		t->queued[x] = 0;
		for (uint32_t e = 0; e < xn->n_fed_by; e++) {
			uint32_t hh = xn->fed_by[e].host, k = xn->fed_by[e].k;
			const struct vgl_conf_feed *f = &t->c->hosts[hh].feeds[k];
			char by[240];

			by[0] = 0;
			if (x == dev && vals) {
				const struct vgl_value *v = &vals[f->metric];
				if (v->q == VGL_Q_OK) {
					t->n[hh].feed[k] = v->v != 0 ? F_LIVE : F_OFF;
					snprintf(by, sizeof(by), "%s = %g", f->text, v->v);
				}
			}
			if (judge_power(t, hh, by[0] ? by : NULL, ts, fn, dfn, ctx) && !t->queued[hh]) {
				t->queue[tail++ % t->c->n_hosts] = hh;
				t->queued[hh] = 1;
			}
		}
		if (x == dev && sw_changed)
			for (uint32_t e = 0; e < xn->n_dependents; e++)
				judge_facility(t, xn->dependents[e], vals, dev, ts, fn, ctx);
	}
}
