/* The SLA's inputs in the database (docs/schema.md, migration 2): the
 * operator's maintenance windows and counter imports, and the per-host
 * reads `vigil sla` streams into the SLA core (sla/sla.h).
 *
 * Like struct vgl_query, a struct vgl_sla_db holds prepared statements over
 * one connection it does not own. Every read streams rows through a
 * callback, one host at a time, so a report over 10,000 hosts never holds
 * more than one host's month in memory. Strings handed to a callback are
 * valid only during the call.
 *
 * Edits run in one BEGIN IMMEDIATE transaction each and write an events
 * row with what was done and by whom; maintenance windows are never
 * changed except to be cancelled once (the schema's triggers enforce it).
 */
#ifndef VGL_SLA_DB_H
#define VGL_SLA_DB_H

#include <stddef.h>
#include <stdint.h>

#include "storage/sql.h"

#include "conf/conf.h"

struct vgl_sla_db;

/* 0, or -1 with err filled. db must outlive the returned struct. */
int vgl_sla_db_new(struct vgl_sql *db, struct vgl_sla_db **out, char *err, size_t errlen);
void vgl_sla_db_free(struct vgl_sla_db *s);

enum vgl_sla_db_result {
	VGL_SLA_DB_OK = 0,
	VGL_SLA_DB_REFUSED = 1,         /* err: why, one line, for the operator */
	VGL_SLA_DB_ERROR = -1,          /* err: SQLite's reason */
};

/* The database id of host name: 0 with *id set, 0 with *id = 0 when the
 * database has never seen the host, -1 with err filled. */
int vgl_sla_db_host_id(struct vgl_sla_db *s, const char *name, int64_t *id, char *err,
		       size_t errlen);

/* A report's reads as one snapshot: every host computed from the same
 * committed state while the daemon goes on writing (WAL), and one shared
 * lock instead of one per statement. Also reads the longest maintenance
 * window once (see vgl_sla_db_host_maints). 0, or -1 with err filled. */
int vgl_sla_db_snapshot_begin(struct vgl_sla_db *s, char *err, size_t errlen);
void vgl_sla_db_snapshot_end(struct vgl_sla_db *s);

/* ---- maintenance windows ---- */

enum vgl_sla_db_maint_kind { VGL_SLA_DB_PLANNED, VGL_SLA_DB_EMERGENCY };
/* "planned" / "emergency"; -1 for anything else. */
int vgl_sla_db_maint_kind_parse(const char *s);

struct vgl_sla_db_maint_add {
	const struct vgl_conf_host *host;  /* exactly one of host and site */
	const char *site;                  /* the caller checked it is configured */
	int kind;                          /* enum vgl_sla_db_maint_kind */
	int64_t start_ms, end_ms;          /* end > start */
	int64_t announced_ms;              /* <= now_ms: a notice lies in the past */
	const char *note;                  /* required, non-empty */
	const char *user;                  /* stored as "operator:<user>" */
	int64_t now_ms;
};

/* Validates, creates the host's row if needed, inserts the window and a
 * 'maint_add' event. *id_out (may be NULL) gets the window's id. */
enum vgl_sla_db_result vgl_sla_db_maint_add(struct vgl_sla_db *s,
					    const struct vgl_sla_db_maint_add *a,
					    int64_t *id_out, char *err, size_t errlen);

/* Marks window id cancelled (by "operator:<user>", at now_ms, with note,
 * which may be NULL) and writes a 'maint_cancel' event. Refused when there
 * is no such window or it is already cancelled. */
enum vgl_sla_db_result vgl_sla_db_maint_cancel(struct vgl_sla_db *s, int64_t id,
					       const char *note, const char *user,
					       int64_t now_ms, char *err, size_t errlen);

struct vgl_sla_db_maint {
	int64_t id;
	const char *host;               /* NULL for a site window */
	const char *site;               /* NULL for a host window */
	int kind;                       /* enum vgl_sla_db_maint_kind */
	int64_t start_ms, end_ms, announced_ms;
	const char *note;
	const char *created_by;
	int64_t created_ms;
	int cancelled;
	const char *cancelled_by;       /* NULL unless cancelled */
	int64_t cancelled_ms;
	const char *cancel_note;
};

/* Return 0 to go on; anything else stops the walk and is returned. */
typedef int vgl_sla_db_maint_fn(void *ctx, const struct vgl_sla_db_maint *m);

struct vgl_sla_db_maint_filter {
	const char *host;               /* windows of this host (by name) ... */
	const char *site;               /* ... or of this site, ... */
	int site_hosts;                 /* ... or of any host whose hosts.site is site */
	int64_t from_ms, to_ms;         /* overlapping [from, to); INT64_MIN/MAX: open */
	int include_cancelled;
};
/* No host or site: every window; all times; cancelled ones left out. */
void vgl_sla_db_maint_filter_init(struct vgl_sla_db_maint_filter *f);

/* Windows matching f, by start then id. 0 when the walk ended, fn's value
 * if it stopped it, -1 with err filled on a database error. */
int vgl_sla_db_maints(struct vgl_sla_db *s, const struct vgl_sla_db_maint_filter *f,
		      vgl_sla_db_maint_fn *fn, void *ctx, char *err, size_t errlen);

/* What the SLA needs of one host: its windows not cancelled (host_id > 0)
 * and those of its site (site non-NULL) overlapping [from, to). Uses the
 * windows' indexes over the starts from (from - the longest window) to
 * to, so it costs per window near the range, not per window in the
 * host's or site's history. The longest window is read once per
 * snapshot (outside one: once per call, a pass over the table). */
int vgl_sla_db_host_maints(struct vgl_sla_db *s, int64_t host_id, const char *site,
			   int64_t from_ms, int64_t to_ms, vgl_sla_db_maint_fn *fn, void *ctx,
			   char *err, size_t errlen);

/* ---- intervals of one host, for the SLA ---- */

struct vgl_sla_db_interval {
	int64_t id;
	const char *cause;
	int64_t start_ms;
	int64_t end_ms;                 /* 0 when open */
	int is_open;
	const char *note;
	const char *opened_by;          /* the rule (or operator) that opened it */
};
typedef int vgl_sla_db_interval_fn(void *ctx, const struct vgl_sla_db_interval *iv);

/* The intervals of host_id that may overlap [from, to): those starting in
 * it and the last one starting before it (a host's intervals never
 * overlap, so no earlier one can reach in), oldest first. Served by
 * intervals_host_cover alone, without table look-ups (migration 4).
 * Return values as vgl_sla_db_maints. */
int vgl_sla_db_host_intervals(struct vgl_sla_db *s, int64_t host_id, int64_t from_ms,
			      int64_t to_ms, vgl_sla_db_interval_fn *fn, void *ctx, char *err,
			      size_t errlen);

/* ---- daemon runs (monitoring coverage) ---- */

/* Each run overlapping [from, to) as the span it observed: started_ms ..
 * max(heartbeat_ms, stopped_ms). Not per host: every configured host is
 * polled while the daemon runs. */
typedef int vgl_sla_db_span_fn(void *ctx, int64_t start_ms, int64_t end_ms);
int vgl_sla_db_observed(struct vgl_sla_db *s, int64_t from_ms, int64_t to_ms,
			vgl_sla_db_span_fn *fn, void *ctx, char *err, size_t errlen);

/* ---- counter samples ---- */

struct vgl_sla_db_counter {
	int64_t ts_ms;
	uint64_t total, failed;         /* raw counter values */
	int from_poll;                  /* source 'poll': vigild's (else 'import') */
};
typedef int vgl_sla_db_counter_fn(void *ctx, const struct vgl_sla_db_counter *c);

/* The samples of host_id in [from, to) and the last one before from (the
 * first delta needs it), oldest first. */
int vgl_sla_db_host_counters(struct vgl_sla_db *s, int64_t host_id, int64_t from_ms,
			     int64_t to_ms, vgl_sla_db_counter_fn *fn, void *ctx, char *err,
			     size_t errlen);

struct vgl_sla_db_import {
	const struct vgl_conf_host *host;
	const struct vgl_sla_db_counter *rows;  /* from_poll ignored: source 'import' */
	size_t n;
	const char *file;               /* for the event */
	const char *user;
	int64_t now_ms;
};

/* Upserts every row by (host, ts) and writes one 'counters_import' event,
 * all in one transaction. *changed (may be NULL) = rows that were new or
 * carried different values, so a repeated import reports 0. */
enum vgl_sla_db_result vgl_sla_db_counters_import(struct vgl_sla_db *s,
						  const struct vgl_sla_db_import *im,
						  size_t *changed, char *err, size_t errlen);

#endif
