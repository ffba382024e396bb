/* A host's last values: one per metric of its profile, whatever source
 * delivered it, with the quality it came with and when its source last
 * polled. Conditions read any metric of the host from here, and a value's
 * age is known (the later nodata()). No libuv, no clock: time comes in with
 * each poll result.
 *
 * A poll that failed (quality != ok) marks every metric of its source it
 * does not deliver with that quality: the old number is kept but no longer
 * counts as current, so an expression over it is UNKNOWN rather than
 * judged on stale data. What it delivers stands as delivered (a refused TCP
 * connect still measures up = 0, an unanswered ping loss = 100).
 */
#ifndef VGL_RULES_VALUES_H
#define VGL_RULES_VALUES_H

#include <stddef.h>
#include <stdint.h>

#include "conf/conf.h"
#include "core/sample.h"

struct vgl_values;

/* Every metric VGL_Q_ABSENT, never polled. NULL when out of memory. */
struct vgl_values *vgl_values_create(const struct vgl_conf_profile *p);
void vgl_values_free(struct vgl_values *t);

/* Takes r (of a source of t's profile). 0, or -1 when r does not fit the
 * profile (an unknown source, a metric index out of range): nothing taken. */
int vgl_values_update(struct vgl_values *t, const struct vgl_poll_result *r);

/* All of them, indexed like the profile's metrics. */
const struct vgl_value *vgl_values_all(const struct vgl_values *t);
/* When metric i's source last delivered a poll (any quality); 0 = never. */
int64_t vgl_values_ts(const struct vgl_values *t, size_t i);

#endif
