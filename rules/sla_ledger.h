/* One host's SLA month so far, kept by the daemon for the sla_ functions
 * of alarm rules (sla_allowance_ms(), sla_allowance_left_ms(),
 * sla_downtime_ms(), sla_next_band_ms(), unavailable(): docs/rules.md,
 * docs/sla.md "Budget alarms").
 *
 * The figures are those `vigil sla --month` prints for the month holding
 * now, in the policy's zone, at now: the same policy, month bounds and
 * service window, the same maintenance rules, through the same core
 * (sla/calc.c); next_band_ms through sla/budget.h. The ledger loads
 * nothing itself: vgl_sla_ledger_load fills it at start (the host's
 * intervals and maintenance windows, host and site, not cancelled), then
 * the daemon tells it each committed open/close and each window it learns
 * of or sees cancelled.
 *
 * Month rollover: the first vgl_sla_ledger_get at or past the month's end
 * starts the month holding now; intervals and windows that ended before it
 * are dropped, the open interval and anything reaching into it kept.
 *
 * Bound: one host-month of intervals (a host's intervals never overlap, so
 * at most the number opened this month plus one reaching in) and the
 * windows added that touch the month or later ones. ~48 bytes per interval
 * and window, no strings kept.
 *
 * Cost of vgl_sla_ledger_get:
 *  - after any change (add, close, window, rollover): one full computation,
 *    vgl_sla_calc over the month, O((n + w) log(n + w)) and a few
 *    allocations;
 *  - nothing open (or only intervals whose cause does not count): O(1), the
 *    cached figures (they do not depend on now);
 *  - a counted interval open: O(w) without recomputing, exactly: the
 *    counted downtime grows 1:1 with time, less the part of the time since
 *    the last computation inside qualifying maintenance windows, capped by
 *    what is left of the month's maintenance cap (calc.c takes exclusions
 *    in time order, so all of the new time comes after what was taken);
 *  - otherwise (the clock went back, or an interval reaches past the last
 *    computation: not provable): a full computation at most once per second;
 *    in between the last figures are returned, at most 1 s old.
 * Not thread-safe: one owner (the daemon's loop).
 */
#ifndef VGL_SLA_LEDGER_H
#define VGL_SLA_LEDGER_H

#include <stddef.h>
#include <stdint.h>

#include "storage/sql.h"

#include "rules/expr.h"
#include "sla/sla.h"

struct vgl_sla_db;
struct vgl_sla_ledger;

/* A ledger for policy p (copied) and the host's service window
 * [svc_start_ms, svc_end_ms) (0 = not set, as in the config), on the month
 * holding now_ms in p->tz. NULL when out of memory, the policy is refused
 * by the core or its zone has no such month. */
struct vgl_sla_ledger *vgl_sla_ledger_new(const struct vgl_sla_policy *p, int64_t svc_start_ms,
					  int64_t svc_end_ms, int64_t now_ms);
void vgl_sla_ledger_free(struct vgl_sla_ledger *l);

/* [start, end) of the month the ledger holds, UTC ms. */
void vgl_sla_ledger_month(const struct vgl_sla_ledger *l, int64_t *start_ms, int64_t *end_ms);

/* An interval (cause: enum vgl_cause; an unknown one counts as 'unknown',
 * as `vigil sla` does), end_ms VGL_SLA_OPEN while open. An id > 0 already
 * held replaces that interval (a reclassification, a close reported by
 * id); id 0 is always added. Intervals that ended before the month are
 * ignored. 0, -EINVAL (end < start) or -ENOMEM. */
int vgl_sla_ledger_add_interval(struct vgl_sla_ledger *l, int64_t id, int cause,
				int64_t start_ms, int64_t end_ms);
/* Closes every open interval at end_ms (at its start if end_ms is before
 * it). Returns how many were closed. */
int vgl_sla_ledger_close(struct vgl_sla_ledger *l, int64_t end_ms);
/* A maintenance window of the host or its site, not cancelled; an id > 0
 * already held is replaced. Windows may be given in any order, at any
 * time (before, while or after they run). 0, -EINVAL or -ENOMEM. */
int vgl_sla_ledger_add_maint(struct vgl_sla_ledger *l, const struct vgl_sla_maint *m);
/* Window id was cancelled: it no longer excludes anything. */
void vgl_sla_ledger_remove_maint(struct vgl_sla_ledger *l, int64_t id);

/* The month's figures at now_ms into *out (known = 1). On failure (out of
 * memory) -ENOMEM with out->known = 0, so the rules see "unknown". */
int vgl_sla_ledger_get(struct vgl_sla_ledger *l, int64_t now_ms, struct vgl_expr_sla *out);

/* Fills l for database host host_id (0: a host the database never saw; its
 * site's windows still apply) and site (NULL: none) with the intervals and
 * windows `vigil sla` would read for the ledger's month (storage/sla_db.h).
 * 0, or -1 with err filled. The _sdb form reuses prepared statements over
 * many hosts; the other prepares its own. */
int vgl_sla_ledger_load_sdb(struct vgl_sla_db *sdb, int64_t host_id, const char *site,
			    struct vgl_sla_ledger *l, char *err, size_t errlen);
int vgl_sla_ledger_load(struct vgl_sql *db, int64_t host_id, const char *site, struct vgl_sla_ledger *l,
			char *err, size_t errlen);

#endif
