/* Coalescing a device's reads (collectors/modbus_plan.h). Sorted by table
 * then address, each metric either extends the request being built (same
 * table, starting at most max_gap addresses past its end, the whole still
 * within the limit) or starts the next one: one pass, optimal for sorted
 * intervals under a length limit (greedy covering). */
#include "collectors/modbus_plan.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct key {
	uint32_t idx;
	uint8_t table;
	uint16_t reg;
	uint16_t len;
};

static int key_cmp(const void *a, const void *b)
{
	const struct key *x = a, *y = b;

	if (x->table != y->table)
		return x->table < y->table ? -1 : 1;
	if (x->reg != y->reg)
		return x->reg < y->reg ? -1 : 1;
	/* longer first, so a bool bit and the word it is in share a start */
	if (x->len != y->len)
		return x->len > y->len ? -1 : 1;
	return x->idx < y->idx ? -1 : (x->idx > y->idx);
}

int vgl_mb_plan_build(const struct vgl_modbus_source *src,
		      const struct vgl_modbus_metric *const *m, size_t n, struct vgl_mb_plan *out)
{
	struct key *k = NULL;
	struct vgl_mb_request *req = NULL;
	uint32_t *order = NULL;
	size_t nr = 0;

	memset(out, 0, sizeof(*out));
	if (n == 0)
		return 0;
	k = malloc(n * sizeof(*k));
	req = calloc(n, sizeof(*req));  /* at most one request per metric */
	order = malloc(n * sizeof(*order));
	if (!k || !req || !order) {
		free(k);
		free(req);
		free(order);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++)
		k[i] = (struct key){ .idx = (uint32_t)i, .table = m[i]->table, .reg = m[i]->reg,
				     .len = (uint16_t)vgl_modbus_metric_len(m[i]) };
	qsort(k, n, sizeof(*k), key_cmp);
	for (size_t i = 0; i < n; i++) {
		unsigned limit = vgl_mb_table_is_bits(k[i].table) ? src->max_bits
								  : src->max_registers;
		uint32_t end = (uint32_t)k[i].reg + k[i].len;
		struct vgl_mb_request *r = nr ? &req[nr - 1] : NULL;

		order[i] = k[i].idx;
		if (r && r->table == k[i].table &&
		    k[i].reg <= (uint32_t)r->start + r->count + src->max_gap) {
			uint32_t new_end = (uint32_t)r->start + r->count;
			if (end > new_end)
				new_end = end;
			if (new_end - r->start <= limit) {
				r->count = (uint16_t)(new_end - r->start);
				r->n++;
				continue;
			}
		}
		req[nr++] = (struct vgl_mb_request){ .table = k[i].table, .start = k[i].reg,
						     .count = k[i].len, .first = (uint32_t)i, .n = 1 };
	}
	free(k);
	out->req = req;
	out->n_req = nr;
	out->order = order;
	out->n = n;
	for (size_t i = 0; i < nr; i++) {
		unsigned w = vgl_mb_table_is_bits(req[i].table) ? (req[i].count + 15u) / 16u
								 : req[i].count;
		if (w > out->max_words)
			out->max_words = (uint16_t)w;
	}
	return 0;
}

void vgl_mb_plan_free(struct vgl_mb_plan *p)
{
	if (!p)
		return;
	free(p->req);
	free(p->order);
	memset(p, 0, sizeof(*p));
}
