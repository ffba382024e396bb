/* Per-host availability: turns poll results into Unavailable-State interval
 * transitions. No libuv and no clock: time comes in with each observation.
 *
 * A host is Unavailable while any of its profile's conditions holds:
 *  - VGL_COND_UNREACHABLE: `failures` consecutive failed polls of its
 *    source (quality of the poll != VGL_Q_OK). It starts holding at the
 *    first of them.
 *  - VGL_COND_EXPR: the expression, over the host's last values, is TRUE
 *    at every observation (a poll of a source of a metric it reads) for at
 *    least for_ms. It starts holding at the first TRUE observation.
 * The interval starts at the first failing observation of the condition that
 * opened it and ends at the first observation at which no condition holds or
 * is pending. UNKNOWN (missing data) keeps a condition where it was.
 *
 * Invariants: at most one interval open per host; intervals of a host never
 * overlap (a close is emitted before any later open, and an open's start is
 * never before the previous close's end).
 */
#ifndef VGL_AVAIL_H
#define VGL_AVAIL_H

#include <stdint.h>

#include "conf/conf.h"
#include "core/sample.h"

struct vgl_values;

struct vgl_avail;

enum vgl_avail_event_kind { VGL_AVAIL_OPEN, VGL_AVAIL_CLOSE };

struct vgl_avail_event {
	enum vgl_avail_event_kind kind;
	int64_t ts_ms;          /* OPEN: start_ms; CLOSE: end_ms */
	const char *cause;      /* OPEN: the opening condition's cause; CLOSE: the interval's */
	const char *rule;       /* OPEN: condition that opened; CLOSE: condition whose recovery closed it */
	const char *evidence;   /* JSON text; valid only during the callback */
};

typedef void vgl_avail_fn(void *ctx, const struct vgl_avail_event *ev);

/* profile must outlive the object (or be replaced with vgl_avail_rebind). */
int vgl_avail_create(const struct vgl_conf_profile *profile, struct vgl_avail **out);
void vgl_avail_free(struct vgl_avail *a);

/* After a restart: the database holds an open interval for this host. It
 * stays open until recovery is observed. */
void vgl_avail_restore_open(struct vgl_avail *a, const char *cause, const char *rule,
			    int64_t start_ms);

/* Feeds one poll result of one of the host's sources: its values go into
 * the host's table of last values, then every condition it observes moves;
 * calls fn for each transition, in order. 0, or -1 when r does not fit the
 * profile (unknown source, metric index out of range): nothing changed. */
int vgl_avail_observe(struct vgl_avail *a, const struct vgl_poll_result *r,
		      vgl_avail_fn *fn, void *ctx);

/* The host's last values (rules/values.h), one per profile metric. */
const struct vgl_values *vgl_avail_values(const struct vgl_avail *a);

/* SIGHUP: the host remains but its profile may have changed. Pending
 * debounce state is reset; an open interval stays open. 0 or -ENOMEM. */
int vgl_avail_rebind(struct vgl_avail *a, const struct vgl_conf_profile *profile);

int vgl_avail_is_open(const struct vgl_avail *a);

/* Conditions decided outside the host's own polls (rules/topo.h): every
 * feed of the host off (POWER), or a site-wide condition holding on a
 * device it depends on (FACILITY). They take part in the one-interval
 * rule like the profile's conditions, with no debounce: holding opens at
 * ts (when nothing else holds yet); recovery closes at ts, the first
 * recovering observation, unless another condition holds (split) or is
 * pending (stays open). Their rules are VGL_AVAIL_RULE_POWER and
 * "site:DEVICE/RULE", by which restore_open knows them after a restart. */
enum vgl_avail_ext { VGL_AVAIL_EXT_POWER, VGL_AVAIL_EXT_FACILITY, VGL_AVAIL_N_EXT };
#define VGL_AVAIL_RULE_POWER "power-feeds"
#define VGL_AVAIL_RULE_SITE_PREFIX "site:"

/* evidence: a JSON object (copied). 0, or -ENOMEM (nothing changed). */
int vgl_avail_external(struct vgl_avail *a, enum vgl_avail_ext k, int holding, int64_t ts,
		       const char *cause, const char *rule, const char *evidence,
		       vgl_avail_fn *fn, void *ctx);
int vgl_avail_external_holding(const struct vgl_avail *a, enum vgl_avail_ext k);

/* The profile's site-wide condition (vgl_conf_cond.site_wide) that holds
 * on this host and started first: its index, or -1. */
int vgl_avail_site_wide(const struct vgl_avail *a);

#endif
