/* "sla_counters": two metrics of a profile named as the request counters
 * of the error-rate SLA kinds, checked (names, one source, bits given) and
 * bound to their indexes; a template's pair bound again for a host built
 * from it. Apart from profile.c: the SLA's view of the metrics, not the
 * polling's. */
#include "conf/ld.h"

#include <stdlib.h>
#include <string.h>

/* ---- SLA counters ------------------------------------------------------- */

enum { K_TOTAL, K_FAILED, K_BITS, K_N };
static const char *const counter_keys[] = { "total", "failed", "bits", NULL };

static long metric_index(const struct vgl_conf_metric *ms, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(ms[i].name, name) == 0)
			return (long)i;
	return -1;
}

static void counters_free(struct vgl_conf_counters *k)
{
	free(k->total_name);
	free(k->failed_name);
	memset(k, 0, sizeof(*k));
}

/* The "sla_counters" object obj, its metric names resolved against p's
 * metrics (of the owner: "template" or "host", for messages).
 * 0 and *out filled (it owns the names), or -1 after reporting. */
int vgl__parse_counters(struct ld *l, const struct vgl__doc *d, int obj, const struct kp *kp,
			  const struct vgl_conf_profile *p, const char *owner,
			  struct vgl_conf_counters *out)
{
	struct kp bk = { kp, "bits", -1, 0 };
	char *names[2] = { NULL, NULL };
	long idx[2] = { -1, -1 };
	size_t before = l->n_errs;
	int v[K_N];

	memset(out, 0, sizeof(*out));
	if (vgl__want_type(l, d, obj, kp, VGL_J_OBJECT, "an object") != 0)
		return -1;
	vgl__obj_fields(l, d, obj, kp, counter_keys, v);
	for (int i = K_TOTAL; i <= K_FAILED; i++) {
		struct kp ck = { kp, counter_keys[i], -1, 0 };

		if (v[i] < 0) {
			vgl__errk(l, d, vgl__tok_pos(d, obj), kp, "missing required key '%s'",
				  counter_keys[i]);
			continue;
		}
		if (vgl__get_str(l, d, v[i], &ck, &names[i]) != 0)
			continue;
		idx[i] = metric_index(p->metrics, p->n_metrics, names[i]);
		if (idx[i] < 0)
			vgl__errk(l, d, vgl__tok_pos(d, v[i]), &ck,
				  "no metric named '%s' here: name one of this %s's metrics",
				  names[i], owner);
	}
	if (idx[K_TOTAL] >= 0 && idx[K_TOTAL] == idx[K_FAILED])
		vgl__errk(l, d, vgl__tok_pos(d, v[K_FAILED]), &(struct kp){ kp, "failed", -1, 0 },
			  "must name another metric than 'total'");
	else if (idx[K_TOTAL] >= 0 && idx[K_FAILED] >= 0 &&
		 p->metrics[idx[K_TOTAL]].source != p->metrics[idx[K_FAILED]].source)
		/* A pair read in two polls at two moments is no ratio. */
		vgl__errk(l, d, vgl__tok_pos(d, v[K_FAILED]), &(struct kp){ kp, "failed", -1, 0 },
			  "must come from the same source as 'total' (%s, not %s)",
			  p->sources[p->metrics[idx[K_TOTAL]].source].name,
			  p->sources[p->metrics[idx[K_FAILED]].source].name);
	/* No default: a Counter32 taken for 64 bits would read each wrap as a
	 * reset, and the SLA would lose that interval's requests. */
	if (v[K_BITS] < 0) {
		vgl__errk(l, d, vgl__tok_pos(d, obj), kp,
			  "missing required key 'bits' (32 for Counter32, 64 for Counter64)");
	} else if (!vgl__is_integer_tok(d, v[K_BITS]) ||
		   (strtol(d->text + d->tok[v[K_BITS]].start, NULL, 10) != 32 &&
		    strtol(d->text + d->tok[v[K_BITS]].start, NULL, 10) != 64)) {
		const char *s = d->text + d->tok[v[K_BITS]].start;
		int n = d->tok[v[K_BITS]].end - d->tok[v[K_BITS]].start;

		if (d->tok[v[K_BITS]].type == VGL_J_PRIMITIVE && !strchr("tfn", s[0]))
			vgl__errk(l, d, vgl__tok_pos(d, v[K_BITS]), &bk,
				  "expected 32 or 64, got %.*s", n > 24 ? 24 : n, s);
		else
			vgl__errk(l, d, vgl__tok_pos(d, v[K_BITS]), &bk, "expected 32 or 64, got %s",
				  vgl__tok_kind(d, v[K_BITS]));
	} else {
		out->bits = (int)strtol(d->text + d->tok[v[K_BITS]].start, NULL, 10);
	}
	if (l->n_errs != before) {
		free(names[0]);
		free(names[1]);
		memset(out, 0, sizeof(*out));
		return -1;
	}
	out->total_name = names[K_TOTAL];
	out->failed_name = names[K_FAILED];
	out->total = (uint32_t)idx[K_TOTAL];
	out->failed = (uint32_t)idx[K_FAILED];
	return 0;
}

/* A template's pair for a host profile built from it: same names, indexes
 * looked up again in the host's metric list. 0, -1 (out of memory) or -2
 * (a name is no longer there, or the two now come from two sources). */
int vgl__counters_rebind(struct vgl_conf_counters *dst, const struct vgl_conf_counters *src,
			   const struct vgl_conf_profile *p)
{
	long t = metric_index(p->metrics, p->n_metrics, src->total_name);
	long f = metric_index(p->metrics, p->n_metrics, src->failed_name);

	memset(dst, 0, sizeof(*dst));
	if (t < 0 || f < 0 || p->metrics[t].source != p->metrics[f].source)
		return -2;
	if (vgl__dup_opt(&dst->total_name, src->total_name) ||
	    vgl__dup_opt(&dst->failed_name, src->failed_name)) {
		counters_free(dst);
		return -1;
	}
	dst->total = (uint32_t)t;
	dst->failed = (uint32_t)f;
	dst->bits = src->bits;
	return 0;
}
