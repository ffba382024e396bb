/* Which requests read a device's metrics: adjacent addresses of one table
 * joined into as few reads as the protocol allows (125 registers, 2000
 * bits), or as the device's limits allow (max_registers, max_bits), read
 * through holes of at most max_gap unused addresses. Pure: built once per
 * device when its source is added, then only read. */
#ifndef VGL_MODBUS_PLAN_H
#define VGL_MODBUS_PLAN_H

#include <stddef.h>
#include <stdint.h>

#include "collectors/modbus_conf.h"

struct vgl_mb_request {
	uint8_t table;          /* enum vgl_mb_table: the function code follows */
	uint16_t start;         /* first address */
	uint16_t count;         /* registers or bits */
	uint32_t first;         /* this request's metrics: plan->order[first ..] */
	uint32_t n;
};

struct vgl_mb_plan {
	struct vgl_mb_request *req;
	size_t n_req;
	/* The metrics' indexes (into the list given) sorted by table and
	 * address: request i reads order[req[i].first .. + req[i].n). */
	uint32_t *order;
	size_t n;
	uint16_t max_words;     /* the largest request's registers (bits: /16 rounded up) */
};

/* Plans the reads of metrics m[0..n) (NULL-free) under the limits of src.
 * A metric longer than max_registers gets a request of its own length.
 * 0, or -ENOMEM. */
int vgl_mb_plan_build(const struct vgl_modbus_source *src,
		      const struct vgl_modbus_metric *const *m, size_t n, struct vgl_mb_plan *out);
void vgl_mb_plan_free(struct vgl_mb_plan *p);

#endif
