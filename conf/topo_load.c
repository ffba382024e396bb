/* The power and cooling topology of the config: a host's "feeds" (what
 * powers it, "DEVICE.METRIC", one to four for A+B redundancy) and
 * "depends_on" (devices whose site-wide conditions take it down: a cooling
 * unit, a room sensor). Names refer to hosts anywhere in the config, so
 * they are noted while hosts load and resolved after the last one; then
 * the graph (host -> device) must have no cycle, since a fault is
 * propagated down it (rules/topo.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/conf.h"
#include "conf/json.h"
#include "conf/ld.h"

struct topo_note {
	size_t host;
	const struct vgl__doc *d;
	long hidx;                      /* hosts[hidx] in its file */
	int feeds, depends, uplink;     /* tokens, -1 absent */
	int feed_tok[VGL_CONF_MAX_FEEDS];
	int dep_tok[VGL_CONF_MAX_DEPENDS];
};

void vgl__topo_note(struct ld *l, size_t idx, const struct vgl__doc *d, long hidx, int feeds,
		    int depends, int uplink)
{
	if (l->n_topo == l->cap_topo) {
		size_t cap = l->cap_topo ? l->cap_topo * 2 : 32;
		struct topo_note *n = realloc(l->topo, cap * sizeof(*n));
		if (!n) {
			vgl__oom(l);
			return;
		}
		l->topo = n;
		l->cap_topo = cap;
	}
	l->topo[l->n_topo++] = (struct topo_note){ .host = idx, .d = d, .hidx = hidx,
						   .feeds = feeds, .depends = depends,
						   .uplink = uplink };
}

void vgl__topo_free_notes(struct ld *l)
{
	free(l->topo);
	l->topo = NULL;
	l->n_topo = l->cap_topo = 0;
}

static long metric_index(const struct vgl_conf_profile *p, const char *name)
{
	for (size_t i = 0; p && i < p->n_metrics; i++)
		if (strcmp(p->metrics[i].name, name) == 0)
			return (long)i;
	return -1;
}

/* "pdu-a1.outlet3": host and metric names may both hold dots, so every
 * split is tried; exactly one must name a host and one of its metrics. */
static int resolve_feed(struct ld *l, const struct vgl__doc *d, int tok, const struct kp *kp,
			size_t self, const char *s, const char *what, struct vgl_conf_feed *out)
{
	long found_host = -1, found_metric = -1, some_host = -1;
	int matches = 0;
	char *buf = strdup(s);

	if (!buf) {
		vgl__oom(l);
		return -1;
	}
	for (char *dot = strchr(buf, '.'); dot; dot = strchr(dot + 1, '.')) {
		long h, m;

		*dot = 0;
		h = vgl__host_find(l, buf);
		*dot = '.';
		if (h < 0)
			continue;
		some_host = h;
		m = metric_index(l->c->hosts[h].profile, dot + 1);
		if (m < 0)
			continue;
		matches++;
		found_host = h;
		found_metric = m;
	}
	free(buf);
	if (matches == 1 && (size_t)found_host == self) {
		vgl__errk(l, d, vgl__tok_pos(d, tok), kp, "a host cannot be its own %s", what);
		return -1;
	}
	if (matches == 1) {
		out->host = (uint32_t)found_host;
		out->metric = (uint32_t)found_metric;
		if (!(out->text = strdup(s))) {
			vgl__oom(l);
			return -1;
		}
		return 0;
	}
	if (matches > 1)
		vgl__errk(l, d, vgl__tok_pos(d, tok), kp, "'%s' is ambiguous: more than one "
			  "host.metric split of it names a host and its metric", s);
	else if (some_host >= 0 && !l->c->hosts[some_host].profile)
		return -1;      /* that host has errors of its own */
	else if (some_host >= 0)
		vgl__errk(l, d, vgl__tok_pos(d, tok), kp, "host '%s' has no metric '%s'",
			  l->c->hosts[some_host].name, s + strlen(l->c->hosts[some_host].name) + 1);
	else
		vgl__errk(l, d, vgl__tok_pos(d, tok), kp, "no host named in '%s' (%s is "
			  "HOST.METRIC, e.g. \"%s\")", s,
			  strcmp(what, "feed") == 0 ? "a feed" : "an uplink",
			  strcmp(what, "feed") == 0 ? "pdu-a1.outlet3" : "sw1.port12");
	return -1;
}

static void resolve_note(struct ld *l, struct topo_note *n)
{
	struct vgl_conf_host *h = &l->c->hosts[n->host];
	const struct vgl__doc *d = n->d;
	struct kp root = { NULL, "hosts", -1, 0 }, hk = { &root, NULL, 0, n->hidx };
	struct kp fk = { &hk, "feeds", -1, 0 }, dk = { &hk, "depends_on", -1, 0 };
	struct kp uk = { &hk, "uplink", -1, 0 };
	char *up;

	if (n->uplink >= 0 && vgl__get_str(l, d, n->uplink, &uk, &up) == 0) {
		if (resolve_feed(l, d, n->uplink, &uk, n->host, up, "uplink", &h->uplink) == 0)
			h->has_uplink = 1;
		free(up);
	}

	for (int pass = 0; pass < 2; pass++) {
		int arr = pass ? n->depends : n->feeds;
		const struct kp *ak = pass ? &dk : &fk;
		unsigned max = pass ? VGL_CONF_MAX_DEPENDS : VGL_CONF_MAX_FEEDS;
		int e, cnt;

		if (arr < 0)
			continue;
		if (vgl__want_type(l, d, arr, ak, VGL_J_ARRAY, "an array of names") != 0)
			continue;
		cnt = d->tok[arr].size;
		if (cnt < 1 || (unsigned)cnt > max) {
			vgl__errk(l, d, vgl__tok_pos(d, arr), ak, "expected 1 to %u names, got %d",
				  max, cnt);
			continue;
		}
		if (pass == 0 && !(h->feeds = calloc((size_t)cnt, sizeof(*h->feeds)))) {
			vgl__oom(l);
			return;
		}
		if (pass == 1 && !(h->depends_on = calloc((size_t)cnt, sizeof(*h->depends_on)))) {
			vgl__oom(l);
			return;
		}
		e = arr + 1;
		for (int i = 0; i < cnt; i++, e = d->tok[e].next) {
			struct kp ik = { ak, NULL, 0, i };
			char *s;
			long dev;

			if (vgl__get_str(l, d, e, &ik, &s) != 0)
				continue;
			if (pass == 0) {
				n->feed_tok[h->n_feeds] = e;
				if (resolve_feed(l, d, e, &ik, n->host, s, "feed",
						 &h->feeds[h->n_feeds]) == 0)
					h->n_feeds++;
			} else if ((dev = vgl__host_find(l, s)) < 0) {
				vgl__errk(l, d, vgl__tok_pos(d, e), &ik, "no host named '%s'", s);
			} else if ((size_t)dev == n->host) {
				vgl__errk(l, d, vgl__tok_pos(d, e), &ik, "a host cannot depend on itself");
			} else {
				n->dep_tok[h->n_depends] = e;
				h->depends_on[h->n_depends++] = (uint32_t)dev;
			}
			free(s);
		}
	}
}

/* ---- cycles -------------------------------------------------------------- */

static uint32_t edge_count(const struct vgl_conf_host *h)
{
	return h->n_feeds + h->n_depends;
}

static uint32_t edge_to(const struct vgl_conf_host *h, uint32_t e)
{
	return e < h->n_feeds ? h->feeds[e].host : h->depends_on[e - h->n_feeds];
}

/* Depth-first from every noted host, iteratively (a long chain must not
 * exhaust the stack); a grey node reached again closes a cycle, reported
 * once at the edge that closed it, with the whole loop spelled out. */
static void find_cycles(struct ld *l, const long *note_of)
{
	struct vgl_conf *c = l->c;
	uint8_t *color = calloc(c->n_hosts, 1);         /* 0 white, 1 grey, 2 black */
	uint32_t *stack = malloc(c->n_hosts * sizeof(*stack));
	uint32_t *next_edge = calloc(c->n_hosts, sizeof(*next_edge));

	if (!color || !stack || !next_edge) {
		vgl__oom(l);
		goto out;
	}
	for (size_t r = 0; r < l->n_topo; r++) {
		size_t sp = 0;

		if (color[l->topo[r].host])
			continue;
		stack[sp++] = (uint32_t)l->topo[r].host;
		color[l->topo[r].host] = 1;
		while (sp) {
			uint32_t u = stack[sp - 1];
			const struct vgl_conf_host *h = &c->hosts[u];
			uint32_t e, w;

			if (next_edge[u] == edge_count(h)) {
				color[u] = 2;
				sp--;
				continue;
			}
			e = next_edge[u]++;
			w = edge_to(h, e);
			if (color[w] == 0) {
				color[w] = 1;
				stack[sp++] = w;
			} else if (color[w] == 1) {
				const struct topo_note *n = &l->topo[note_of[u]];
				struct kp root = { NULL, "hosts", -1, 0 }, hk = { &root, NULL, 0, n->hidx };
				struct kp ak = { &hk, e < h->n_feeds ? "feeds" : "depends_on", -1, 0 };
				struct kp ik = { &ak, NULL, 0, e < h->n_feeds ? e : e - h->n_feeds };
				int tok = e < h->n_feeds ? n->feed_tok[e] : n->dep_tok[e - h->n_feeds];
				char path[512];
				size_t used = 0, from = 0;

				while (stack[from] != w)
					from++;
				path[0] = 0;
				for (size_t k = from; k < sp && used < sizeof(path) - 1; k++)
					used += (size_t)snprintf(path + used, sizeof(path) - used, "%s -> ",
								 c->hosts[stack[k]].name);
				if (used < sizeof(path) - 1)
					snprintf(path + used, sizeof(path) - used, "%s", c->hosts[w].name);
				vgl__errk(l, n->d, vgl__tok_pos(n->d, tok), &ik,
					  "makes a cycle of feeds and dependencies: %s", path);
			}
		}
	}
out:
	free(color);
	free(stack);
	free(next_edge);
}

void vgl__topo_resolve(struct ld *l)
{
	long *note_of;

	if (!l->n_topo)
		return;
	if (!(note_of = malloc(l->c->n_hosts * sizeof(*note_of)))) {
		vgl__oom(l);
		return;
	}
	for (size_t i = 0; i < l->c->n_hosts; i++)
		note_of[i] = -1;
	for (size_t i = 0; i < l->n_topo; i++) {
		note_of[l->topo[i].host] = (long)i;
		resolve_note(l, &l->topo[i]);
	}
	find_cycles(l, note_of);
	free(note_of);
}
