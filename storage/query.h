/* Read and edit queries over the schema (docs/schema.md), for the operator
 * CLI and the SLA core. Works beside a running daemon: readers see the last
 * committed state (WAL), and each edit (vgl_query_interval_add,
 * vgl_query_interval_reclassify) runs its checks and writes in a single
 * IMMEDIATE transaction so a daemon writing at the same moment cannot slip
 * a change in between.
 *
 * A struct vgl_query holds the prepared statements over one connection it
 * does not own; create it once and ask it many times (a site lists
 * thousands of hosts). Intervals stream through a callback, one row at a
 * time, so a reader of years of history never holds it all in memory.
 *
 * Intervals are half-open, [start_ms, end_ms); an open one (end_ms NULL)
 * extends to +infinity. Two intervals overlap when each starts before the
 * other ends, so touching ends (a.end == b.start) do not overlap.
 */
#ifndef VGL_QUERY_H
#define VGL_QUERY_H

#include <stddef.h>
#include <stdint.h>

#include "storage/sql.h"

#include "conf/conf.h"

struct vgl_query;

/* Prepares every statement. 0, or -1 with err[errlen] filled. db stays the
 * caller's and must outlive the query. */
int vgl_query_new(struct vgl_sql *db, struct vgl_query **out, char *err, size_t errlen);
void vgl_query_free(struct vgl_query *q);

/* ---- hosts ---- */

struct vgl_query_host_state {
	int in_db;                      /* the daemon (or an add) has seen the host */
	int has_open;                   /* an interval is open: down_since_ms, cause */
	const char *state;              /* "down" | "up" | "unknown" (static string) */
	int64_t down_since_ms;          /* start of the open interval; 0 if none */
	char cause[32];                 /* cause of the open interval; "" if none */
	int64_t last_poll_ms;           /* 0 if never polled */
	int degraded;                   /* some of its feeds are off: power */
	char power[160];                /* hosts.power: "feeds off: ..." */
};

/* State of one host by name: "down" while an open interval exists, else
 * hosts.state, "unknown" if the host was never polled or is not in the
 * database. 0, or -1 with err filled. */
int vgl_query_host_state(struct vgl_query *q, const char *name,
			 struct vgl_query_host_state *out, char *err, size_t errlen);

/* The daemon's latest run (the runs table): its last heartbeat, and
 * whether it stopped cleanly. Nothing set when no daemon ever ran. */
struct vgl_query_daemon {
	int ever_ran;
	int64_t last_heartbeat_ms;
	int stopped;                    /* the run ended with a clean stop */
	int64_t stopped_ms;
};

/* 0, or -1 with err filled. */
int vgl_query_daemon_state(struct vgl_query *q, struct vgl_query_daemon *out, char *err,
			   size_t errlen);

/* ---- intervals ---- */

#define VGL_QUERY_TIME_MIN INT64_MIN
#define VGL_QUERY_TIME_MAX INT64_MAX

enum vgl_query_order {
	VGL_QUERY_NEWEST_FIRST = 0,     /* start_ms descending (the CLI's order) */
	VGL_QUERY_OLDEST_FIRST,         /* start_ms ascending (what the SLA core sums) */
};

struct vgl_query_filter {
	const char *host;               /* NULL: every host */
	int64_t from_ms;                /* VGL_QUERY_TIME_MIN: no lower bound */
	int64_t to_ms;                  /* VGL_QUERY_TIME_MAX: no upper bound */
	int open_only;
	enum vgl_query_order order;
};

/* Every bound open, every host, newest first. */
void vgl_query_filter_init(struct vgl_query_filter *f);

/* One row; strings are valid only during the callback. NULL columns are
 * NULL pointers (end_ms: is_open set, end_ms 0; poll_interval_ms: 0). */
struct vgl_query_interval {
	int64_t id;
	int64_t host_id;
	const char *host;
	const char *cause;
	int64_t start_ms;
	int64_t end_ms;
	int is_open;
	const char *opened_by;
	const char *closed_by;
	const char *evidence;           /* JSON text or NULL */
	const char *note;
	int64_t poll_interval_ms;
	int64_t unobserved_ms;
	const char *origin;             /* "monitor" | "operator" */
	const char *created_by;
	int64_t created_ms;
};

/* Return 0 to go on; anything else stops the walk and is returned by
 * vgl_query_intervals. */
typedef int vgl_query_interval_fn(void *ctx, const struct vgl_query_interval *iv);

/* Calls fn for each interval overlapping [from_ms, to_ms) that matches the
 * filter. Returns 0 when the walk ended, fn's non-zero value if fn stopped
 * it, or -1 with err filled on a database error. Only one walk at a time
 * per struct vgl_query (fn must not start another on the same query). */
int vgl_query_intervals(struct vgl_query *q, const struct vgl_query_filter *f,
			vgl_query_interval_fn *fn, void *ctx, char *err, size_t errlen);

/* ---- operator edits ---- */

/* An outage the monitoring missed, e.g. from a customer claim. */
struct vgl_query_add {
	const struct vgl_conf_host *host;  /* a configured host: the caller looked it up */
	const char *cause;                 /* a cause name (core/cause.h) */
	int64_t start_ms;
	int64_t end_ms;                    /* > start_ms and <= now_ms */
	const char *note;                  /* why; required, non-empty */
	const char *user;                  /* who; stored as created_by, "operator:<user>" */
	int64_t now_ms;                    /* stamps created_ms and the event */
};

enum vgl_query_add_result {
	VGL_QUERY_ADD_OK = 0,
	VGL_QUERY_ADD_REFUSED = 1,      /* err: why, one line, for the operator */
	VGL_QUERY_ADD_DB_ERROR = -1,    /* err: SQLite's reason */
};

/* Validates, then in one BEGIN IMMEDIATE transaction: creates the host's
 * row if the daemon never ran with it, refuses an overlap with any interval
 * of the host (open ones reach +infinity), inserts the interval
 * (origin 'operator', opened_by = closed_by = "operator:<user>") and an
 * 'interval_add' event. *id_out gets the new interval's id (may be NULL). */
enum vgl_query_add_result vgl_query_interval_add(struct vgl_query *q,
						 const struct vgl_query_add *a,
						 int64_t *id_out, char *err, size_t errlen);

/* ---- cause history ---- */

/* One change of an interval's cause (interval_causes). Strings are valid
 * only during the callback; note and evidence may be NULL. */
struct vgl_query_cause {
	int64_t id;
	int64_t interval_id;
	int64_t ts_ms;                  /* when the cause changed */
	const char *old_cause;
	const char *new_cause;
	const char *by;                 /* "vigild" | "operator:<user>" */
	const char *note;               /* the operator's why; NULL for the daemon */
	const char *evidence;           /* the daemon's attribution (JSON text) */
};

/* Return 0 to go on; anything else stops the walk and is returned. */
typedef int vgl_query_cause_fn(void *ctx, const struct vgl_query_cause *c);

/* Calls fn for each change of interval_id's cause, oldest first. Returns
 * as vgl_query_intervals does. It has a statement of its own, so fn of a
 * vgl_query_intervals walk may call it (same connection, same read
 * snapshot while the walk's statement runs). */
int vgl_query_interval_history(struct vgl_query *q, int64_t interval_id,
			       vgl_query_cause_fn *fn, void *ctx, char *err, size_t errlen);

/* An operator's reclassification of an interval's cause, open or closed. */
struct vgl_query_reclassify {
	int64_t interval_id;
	const char *cause;              /* a cause name (core/cause.h) */
	const char *note;               /* why; required, non-empty */
	const char *by;                 /* who, as stored: "operator:<user>" */
	int64_t now_ms;                 /* stamps the history row and the event */
};

/* What the reclassification changed: malloc'd strings, freed with
 * vgl_query_reclassified_clear (also after a refusal: NULL then). */
struct vgl_query_reclassified {
	int64_t host_id;
	char *host;                     /* the interval's host name */
	char *old_cause;
};
void vgl_query_reclassified_clear(struct vgl_query_reclassified *r);

/* Validates, then in one BEGIN IMMEDIATE transaction: reads the
 * interval's cause; refuses an unknown interval ("interval ID: no such
 * interval") and the cause it already has ("interval ID already has
 * cause C"), writing nothing; else appends the interval_causes row
 * (old, new, by, note, no evidence), sets intervals.cause and adds an
 * 'interval_reclassify' event. The daemon never revises the cause of an
 * interval an operator reclassified (storage/store.h). Result codes as
 * vgl_query_interval_add's; out filled on success. */
enum vgl_query_add_result vgl_query_interval_reclassify(struct vgl_query *q,
							const struct vgl_query_reclassify *r,
							struct vgl_query_reclassified *out,
							char *err, size_t errlen);

#endif
