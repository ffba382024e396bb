/* Power and cooling topology at run time: which hosts a device's state
 * takes down. No libuv and no clock, like rules/avail.h: time comes in
 * with each observation.
 *
 * From the config (conf.h: feeds, depends_on, site_wide):
 *  - a feed of host H is live while its metric on the feeding device is
 *    nonzero and the device itself is not dead; off while the metric is 0
 *    or the device is dead; unknown before either is known (a device that
 *    does not answer changes nothing: a PDU that is unreachable is not a
 *    PDU that is off);
 *  - a device is dead while all of its own feeds are off, or while one of
 *    its site-wide conditions holds (a UPS past its battery runtime);
 *  - H is POWER-down while every feed of it is off: cause "power" when
 *    some feed went off by its own metric, else the cause of the upstream
 *    site-wide condition that killed them (facility); degraded while some
 *    but not all are off (redundancy lost, no interval);
 *  - H is FACILITY-down while a device it depends_on has a site-wide
 *    condition holding, with that condition's cause.
 * A device's observation is pushed down the graph (acyclic, the loader
 * checks) breadth-first, so one fault reaches every host behind it in the
 * same observation, stamped with its time and the device and metric (or
 * rule) that decided it; recovery likewise.
 *
 * Changes go to fn as external conditions (rules/avail.h,
 * vgl_avail_external): one call per host and kind whose state changed, or
 * became known for the first time (so an interval restored after a
 * restart is closed when the topology first finds the host powered).
 */
#ifndef VGL_TOPO_H
#define VGL_TOPO_H

#include <stdint.h>

#include "conf/conf.h"
#include "core/sample.h"
#include "rules/avail.h"

struct vgl_topo;

struct vgl_topo_change {
	uint32_t host;
	enum vgl_avail_ext kind;
	int holding;
	const char *cause;
	const char *rule;
	const char *evidence;           /* JSON; valid during the call */
};

typedef void vgl_topo_fn(void *ctx, const struct vgl_topo_change *ch);
/* The host's feeds went partly off (text names those off) or all back
 * (text NULL). */
typedef void vgl_topo_degraded_fn(void *ctx, uint32_t host, const char *text);

/* 0 and *out (NULL when no host has feeds or depends_on), or -ENOMEM.
 * c must outlive it. */
int vgl_topo_new(const struct vgl_conf *c, struct vgl_topo **out);
void vgl_topo_free(struct vgl_topo *t);

/* Whether host feeds or is depended on by any other (its observations
 * matter here). */
int vgl_topo_is_device(const struct vgl_topo *t, uint32_t host);

/* Device host observed at ts with its last values vals (one per profile
 * metric) and site_cond its holding site-wide condition
 * (vgl_avail_site_wide, -1 for none). */
void vgl_topo_observe(struct vgl_topo *t, uint32_t host, int64_t ts, const struct vgl_value *vals,
		      int site_cond, vgl_topo_fn *fn, vgl_topo_degraded_fn *dfn, void *ctx);

int vgl_topo_degraded(const struct vgl_topo *t, uint32_t host);

#endif
