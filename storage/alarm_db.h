/* The operator's side of alarms in the database (docs/schema.md, migration
 * 8): reading alarms with their log and outbox, acknowledging and
 * commenting, silences, and the monthly response report (time to
 * acknowledge and to clear against commitments).
 *
 * Like struct vgl_sla_db, a struct vgl_alarm_db holds prepared statements
 * over one connection it does not own. Reads stream rows through a
 * callback; strings handed to one are valid only during the call.
 *
 * vigild writes the other columns of alarms (cleared_ms, suppressed_by,
 * muted, ...) at the same time from its own connection: every edit here
 * runs in one BEGIN IMMEDIATE transaction (it waits for the daemon's
 * write lock under the connection's busy timeout) and UPDATEs only the
 * columns it owns: acked_ms and acked_by of alarms, removed_by and
 * removed_ms of silences. alarm_log is only appended to.
 */
#ifndef VGL_ALARM_DB_H
#define VGL_ALARM_DB_H

#include <stddef.h>
#include <stdint.h>

#include "storage/sql.h"

#include "alarms/alarm_row.h"

struct vgl_alarm_db;

/* 0, or -1 with err filled. db must outlive the returned struct. */
int vgl_alarm_db_new(struct vgl_sql *db, struct vgl_alarm_db **out, char *err, size_t errlen);
void vgl_alarm_db_free(struct vgl_alarm_db *s);

enum vgl_alarm_db_result {
	VGL_ALARM_DB_OK = 0,
	VGL_ALARM_DB_REFUSED = 1,       /* err: why, one line, for the operator */
	VGL_ALARM_DB_ERROR = -1,        /* err: SQLite's reason (or out of memory) */
};

/* ---- alarms ---- */

/* One row of alarms as stored. kind and severity are the stored text
 * (vgl_severity_parse() them); state is derived from the columns:
 * cleared if cleared, else acknowledged if acked, else raised. */
struct vgl_alarm_db_alarm {
	int64_t id;
	const char *host, *site;        /* site may be NULL */
	const char *kind, *rule, *severity, *summary;
	const char *labels, *details;   /* JSON text as stored */
	const char *policy;             /* NULL: none matched */
	enum vgl_alarm_state state;
	int64_t raised_ms;
	int acked;
	int64_t acked_ms;               /* when acked */
	const char *acked_by;
	int cleared;
	int64_t cleared_ms;             /* when cleared */
	int64_t suppressed_by;          /* 0: not suppressed */
	const char *muted;              /* NULL, "silence:ID" or "maintenance:ID" */
};

/* Return 0 to go on; anything else stops the walk and is returned. */
typedef int vgl_alarm_db_alarm_fn(void *ctx, const struct vgl_alarm_db_alarm *a);

struct vgl_alarm_db_filter {
	int active_only;                /* not cleared */
	const char *host;               /* NULL: every host */
	int64_t from_ms, to_ms;         /* raised in [from, to) */
	int oldest_first;               /* else newest first (raised, then id) */
};
/* Every alarm of every host and time, newest first. */
void vgl_alarm_db_filter_init(struct vgl_alarm_db_filter *f);

/* Alarms matching f. 0 when the walk ended, fn's value if it stopped it,
 * -1 with err filled on a database error. */
int vgl_alarm_db_alarms(struct vgl_alarm_db *s, const struct vgl_alarm_db_filter *f,
			vgl_alarm_db_alarm_fn *fn, void *ctx, char *err, size_t errlen);

/* Alarm id through fn: 1 when there is none (fn not called), else as
 * vgl_alarm_db_alarms. */
int vgl_alarm_db_alarm(struct vgl_alarm_db *s, int64_t id, vgl_alarm_db_alarm_fn *fn, void *ctx,
		       char *err, size_t errlen);

struct vgl_alarm_db_log {
	int64_t id, ts_ms;
	const char *action, *by;
	const char *text;               /* may be NULL */
};
typedef int vgl_alarm_db_log_fn(void *ctx, const struct vgl_alarm_db_log *l);
/* The alarm's log, oldest first. Return values as vgl_alarm_db_alarms. */
int vgl_alarm_db_log(struct vgl_alarm_db *s, int64_t alarm_id, vgl_alarm_db_log_fn *fn,
		     void *ctx, char *err, size_t errlen);

struct vgl_alarm_db_notice {
	int64_t id;
	const char *channel, *event, *dedup_key;
	int64_t step, repeat, attempts;
	int64_t created_ms, next_ms;
	int delivered;
	int64_t delivered_ms;
	const char *last_error;         /* NULL: none */
};
typedef int vgl_alarm_db_notice_fn(void *ctx, const struct vgl_alarm_db_notice *n);
/* The alarm's outbox rows, by id. Return values as vgl_alarm_db_alarms. */
int vgl_alarm_db_outbox(struct vgl_alarm_db *s, int64_t alarm_id, vgl_alarm_db_notice_fn *fn,
			void *ctx, char *err, size_t errlen);

/* Sets acked_ms = now_ms and acked_by = by, and appends an 'acknowledged'
 * log row (by, text = comment, which may be NULL), in one transaction.
 * Refused (nothing written) when there is no such alarm, it is already
 * acknowledged (err says by whom and when) or it is cleared. */
enum vgl_alarm_db_result vgl_alarm_db_ack(struct vgl_alarm_db *s, int64_t id, const char *by,
					  const char *comment, int64_t now_ms, char *err,
					  size_t errlen);

/* Appends a 'comment' log row; cleared alarms take comments too. Refused
 * when there is no such alarm or text is empty. */
enum vgl_alarm_db_result vgl_alarm_db_comment(struct vgl_alarm_db *s, int64_t id, const char *by,
					      const char *text, int64_t now_ms, char *err,
					      size_t errlen);

/* ---- silences ---- */

struct vgl_alarm_db_silence_add {
	const char *host;               /* a name in the hosts table, or NULL */
	const char *site;               /* or NULL */
	const char *label;              /* "key=value", or NULL; at least one of the three */
	int64_t start_ms, end_ms;       /* end > start */
	const char *reason;             /* required, non-empty */
	const char *by;
	int64_t now_ms;
};

/* Inserts the silence; *id_out (may be NULL) gets its id. Refused when
 * no matcher is given, the host is not in the hosts table (err names it),
 * the label is not key=value, end <= start or the reason is empty. */
enum vgl_alarm_db_result vgl_alarm_db_silence_add(struct vgl_alarm_db *s,
						  const struct vgl_alarm_db_silence_add *a,
						  int64_t *id_out, char *err, size_t errlen);

/* Sets removed_by and removed_ms. Refused when there is no such silence
 * or it is already removed (err says by whom and when). */
enum vgl_alarm_db_result vgl_alarm_db_silence_remove(struct vgl_alarm_db *s, int64_t id,
						     const char *by, int64_t now_ms, char *err,
						     size_t errlen);

struct vgl_alarm_db_silence {
	int64_t id;
	const char *host, *site, *label;        /* NULL: any */
	int64_t start_ms, end_ms;
	const char *reason, *created_by;
	int64_t created_ms;
	int removed;
	const char *removed_by;
	int64_t removed_ms;
};
typedef int vgl_alarm_db_silence_fn(void *ctx, const struct vgl_alarm_db_silence *si);

/* Silences by start then id: all of them when all, else those neither
 * removed nor expired at now_ms (end_ms > now_ms; pending ones
 * included). Return values as vgl_alarm_db_alarms. */
int vgl_alarm_db_silences(struct vgl_alarm_db *s, int all, int64_t now_ms,
			  vgl_alarm_db_silence_fn *fn, void *ctx, char *err, size_t errlen);

/* "pending", "active", "expired" or "removed" at now_ms. */
const char *vgl_alarm_db_silence_status(const struct vgl_alarm_db_silence *si, int64_t now_ms);

/* 0 with *known 1 if name is in the hosts table (configured now or ever),
 * else 0; -1 with err filled. */
int vgl_alarm_db_host_known(struct vgl_alarm_db *s, const char *name, int *known, char *err,
			    size_t errlen);

/* ---- the response report ---- */

/* How one alarm did against one commitment. */
enum vgl_resp_verdict {
	VGL_RESP_MET = 0,       /* done within the commitment */
	VGL_RESP_MISSED,        /* done late, or not done and the commitment has passed */
	VGL_RESP_RUNNING,       /* not done, and now <= raised + commitment: not due yet */
	VGL_RESP_NOT_NEEDED,    /* ack only: cleared before the ack commitment, never acked */
};
/* "met", "missed", "running", "not_needed". */
const char *vgl_resp_verdict_name(enum vgl_resp_verdict v);

struct vgl_resp_alarm {
	int64_t id;
	char *host, *site, *severity, *kind, *rule, *summary;  /* site may be NULL */
	int64_t raised_ms;
	int acked;
	int64_t acked_ms, ack_ms;       /* when, and time to acknowledge */
	char *acked_by;
	int cleared;
	int64_t cleared_ms, clear_ms;   /* when, and time to clear */
	enum vgl_resp_verdict ack, clear;
};

/* Counts over a set of alarms. A share is met / due, where due = met +
 * missed: alarms still running (and ack not needed) are in neither. */
struct vgl_resp_group {
	char *name;                     /* severity or site; NULL: alarms without a site */
	size_t alarms;
	size_t ack_met, ack_due, ack_running;
	size_t clear_met, clear_due, clear_running;
};

struct vgl_alarm_response {
	int64_t from_ms, to_ms, now_ms;
	int64_t ack_commit_ms, clear_commit_ms;
	struct vgl_resp_alarm *alarms;  /* raised in [from, to), oldest first */
	size_t n;
	size_t suppressed, muted;       /* left out: they paged nobody */
	struct vgl_resp_group total;    /* name NULL */
	struct vgl_resp_group *by_severity;     /* critical .. info, then any other text */
	size_t n_severity;
	struct vgl_resp_group *by_site;         /* by name; the NULL site last */
	size_t n_site;
};

/* The report over alarms raised in [from_ms, to_ms), as of now_ms, with
 * the commitments ack_commit_ms and clear_commit_ms (> 0). A suppressed
 * alarm (suppressed_by set) counts as suppressed, else a muted one as
 * muted; neither is in alarms or any group. Read in one snapshot.
 * 0 and *out (vgl_alarm_response_free), or -1 with err filled. */
int vgl_alarm_db_response(struct vgl_alarm_db *s, int64_t from_ms, int64_t to_ms,
			  int64_t now_ms, int64_t ack_commit_ms, int64_t clear_commit_ms,
			  struct vgl_alarm_response **out, char *err, size_t errlen);
void vgl_alarm_response_free(struct vgl_alarm_response *r);

/* 1000 * met / due rounded half up, in exact integer arithmetic; -1 when
 * due is 0 (no share to give). */
int vgl_resp_permille(size_t met, size_t due);

#endif
