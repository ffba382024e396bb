/* How much SLA budget a host-month has left, for alarm rules
 * (sla_next_band_ms(), sla_allowance_left_ms(): docs/sla.md "Budget
 * alarms"). Pure functions over a finished result, no I/O.
 *
 * Exactness: a band is decided in sla/calc.c by integer comparisons of the
 * uptime (period - downtime) / period with bounds in 10^-4 percent. The
 * figures here solve those same comparisons for the downtime, so adding
 * exactly the returned downtime through vgl_sla_calc lands in the new band
 * and one millisecond less does not.
 */
#ifndef VGL_SLA_BUDGET_H
#define VGL_SLA_BUDGET_H

#include <stdint.h>

#include "sla/sla.h"

/* Availability kind: the extra counted downtime (ms, from the result's
 * downtime on) after which the month's uptime falls into a band with a
 * higher credit than the current one (the first credited band below the
 * commitment while none applies yet), >= 1. The month's end is not
 * considered: the figure may exceed the time left in the period.
 * < 0 (-1) when no band with a higher credit can be reached (the lowest
 * band already applies, or the period is empty) or the kind is not
 * time-based (vstorage, vcdn). */
int64_t vgl_sla_next_band_ms(const struct vgl_sla_policy *p, const struct vgl_sla_result *r);

/* The same for a bare availability month: period_ms long, downtime_ms
 * counted so far (the ledger's fast path). */
int64_t vgl_sla_next_band_at(const struct vgl_sla_policy *p, int64_t period_ms,
			     int64_t downtime_ms);

/* The extra downtime after which pct percent (0..100, integer) of the
 * month's allowance is used: the least D with D * 100 >= allowance * pct,
 * minus the downtime so far. <= 0 when the mark is already reached. */
int64_t vgl_sla_allowance_used_mark_ms(const struct vgl_sla_result *r, int pct);

#endif
