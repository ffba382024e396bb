/* The per-host table of last values (rules/values.h). One value (16 bytes)
 * per metric and one timestamp per source: the metrics of a source are
 * always delivered together, so they share their poll's time. */
#include "rules/values.h"

#include <stdlib.h>

/* One allocation: every poll touches its host's table, and at 10,000 hosts
 * and more those lines are rarely in cache (bench/RESULTS.md, run 5), so
 * the times sit right after the values rather than in a block of their own. */
struct vgl_values {
	const struct vgl_conf_profile *p;
	int64_t *src_ts;                /* p->n_sources, after v[] */
	struct vgl_value v[];           /* p->n_metrics */
};

struct vgl_values *vgl_values_create(const struct vgl_conf_profile *p)
{
	size_t n_src = p->n_sources ? p->n_sources : 1;
	struct vgl_values *t = calloc(1, sizeof(*t) + p->n_metrics * sizeof(t->v[0]) +
					  n_src * sizeof(int64_t));

	if (!t)
		return NULL;
	t->p = p;
	t->src_ts = (int64_t *)(void *)(t->v + p->n_metrics);
	for (size_t i = 0; i < p->n_metrics; i++)
		t->v[i].q = VGL_Q_ABSENT;
	return t;
}

void vgl_values_free(struct vgl_values *t)
{
	free(t);
}

int vgl_values_update(struct vgl_values *t, const struct vgl_poll_result *r)
{
	const struct vgl_conf_source *s;

	if (r->source >= t->p->n_sources)
		return -1;
	s = &t->p->sources[r->source];
	/* A back end hands back the source's own list (the usual case, checked
	 * by the loader once); any other list is checked index by index. */
	if (r->metrics != s->metrics || r->n_values > s->n_metrics) {
		for (size_t i = 0; i < r->n_values; i++) {
			uint32_t m = r->metrics ? r->metrics[i] : (uint32_t)i;
			if (m >= t->p->n_metrics || t->p->metrics[m].source != r->source)
				return -1;
		}
	}
	t->src_ts[r->source] = r->ts_ms;
	/* What a failed poll does not carry is not current any more; what it
	 * does carry stands as delivered (a refused connect measures up = 0). */
	if (r->quality != VGL_Q_OK)
		for (size_t i = 0; i < s->n_metrics; i++)
			t->v[s->metrics[i]].q = r->quality;
	for (size_t i = 0; i < r->n_values; i++) {
		struct vgl_value *v = &t->v[r->metrics ? r->metrics[i] : i];
		/* a value that did not come back keeps the last number seen */
		if (r->values[i].q == VGL_Q_OK)
			*v = r->values[i];
		else
			v->q = r->values[i].q;
	}
	return 0;
}

const struct vgl_value *vgl_values_all(const struct vgl_values *t)
{
	return t->v;
}

int64_t vgl_values_ts(const struct vgl_values *t, size_t i)
{
	if (i >= t->p->n_metrics)
		return 0;
	return t->src_ts[t->p->metrics[i].source];
}
