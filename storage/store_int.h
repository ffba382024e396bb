/* Internals shared by the daemon's writer files (not an API):
 * storage/store.c (the writer thread, its statements and batches, open and
 * close), storage/store_queue.c (the loop thread's side: the queue and
 * what it enqueues), storage/store_cause.c (the writes of cause revisions
 * and BMC cursors), storage/store_committed.c (committed events back to
 * the loop), storage/store_run.c (the run rows) and storage/store_sync.c
 * (the synchronous calls). Threads, locks and invariants: the top of
 * store.c.
 */
#ifndef VGL_STORE_INT_H
#define VGL_STORE_INT_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "storage/sql.h"

#include "storage/store.h"

#define NO_STR UINT32_MAX

enum op_kind { OP_POLLED, OP_OPEN, OP_CLOSE, OP_COUNTER, OP_POWER, OP_CAUSE, OP_CURSOR, OP_ALARM };

/* String slots; OP_POLLED uses S_NAME for the values JSON (NULL: the poll
 * failed and the last values stand); OP_POWER S_NAME for hosts.power;
 * OP_CAUSE S_NAME, S_CAUSE and S_EVIDENCE for the host, the new cause and
 * the attribution JSON; OP_CURSOR S_NAME for the source's name and
 * S_EVIDENCE for the cursor; OP_ALARM S_EVIDENCE for the JSON document of
 * the write (store_alarm.c) and q for its enum vgl_store_alarm_op. */
enum { S_NAME, S_CAUSE, S_RULE, S_EVIDENCE, S_COUNT };

struct op {
	int64_t host_id;
	int64_t ts_ms;
	uint64_t total;                 /* OP_COUNTER: raw, exact */
	uint64_t failed;                /* OP_COUNTER */
	uint32_t str[S_COUNT];  /* offsets into the arena, NO_STR for NULL */
	uint32_t poll_interval_ms;
	uint8_t kind;
	uint8_t q;
};

struct queue {
	struct op *ops;
	size_t n, cap;
	char *arena;
	size_t used, acap;
	size_t n_droppable;     /* samples + polled + counters */
	size_t n_transitions;   /* interval opens and closes */
	size_t n_causes;        /* cause revisions: billed on like transitions */
	size_t n_alarms;        /* alarm and outbox writes: paged on, kept like transitions */
	int64_t first_ms;       /* vgl_mono_ms when its first entry was queued; 0 empty */
};

/* A committed transition waiting for the loop; strings owned. */
struct ev {
	struct vgl_store_committed c;
	char *host, *cause, *rule;
};

/* A transition or cause revision written in the current batch, logged
 * after COMMIT (only transitions go back to the loop). cause: the
 * interval's cause (a revision: the old one). */
struct done {
	size_t op;
	int64_t interval_id;
	int64_t start_ms;
	char cause[32];
};

enum stmt_id {
	ST_BEGIN,
	ST_COMMIT,
	ST_ROLLBACK,
	ST_POLLED,
	ST_OPEN,
	ST_OPEN_EVENT,
	ST_CLOSE,
	ST_CLOSE_EVENT,
	ST_STATE,
	ST_POWER,
	ST_HEARTBEAT,
	ST_HOST_GET,
	ST_HOST_INSERT,
	ST_HOST_UPDATE,
	ST_HOSTS_ACTIVE,
	ST_HOST_DEACTIVATE,
	ST_EACH_OPEN,
	ST_CAUSE_GET,
	ST_CAUSE_SAVEPOINT,
	ST_CAUSE_RELEASE,
	ST_CAUSE_UNDO,
	ST_CAUSE_SET,
	ST_CAUSE_HISTORY,
	ST_CAUSE_EVENT,
	ST_CURSOR_PUT,
	ST_EACH_CURSOR,
	ST_ALARM_RAISE,
	ST_ALARM_UPDATE,
	ST_ALARM_CLEAR,
	ST_ALARM_LOG,
	ST_OUTBOX_ADD,
	ST_OUTBOX_TRY,
	ST_COUNT
};

struct vgl_store {
	char *path;
	struct vgl_sql *db;
	struct vgl_sql_stmt *st[ST_COUNT];
	int64_t run_id;
	uint32_t batch_ms;
	uint32_t heartbeat_ms;
	pthread_t thread;
	int thread_started;
	pthread_mutex_t db_mu;

	pthread_mutex_t q_mu;   /* guards everything down to the writer-only part */
	pthread_cond_t q_cond;
	struct queue q;
	size_t max_queued;
	int urgent;             /* a transition is queued: do not wait for the window */
	int stopping;
	uint64_t dropped_pending; /* dropped since the writer last looked */
	struct vgl_store_stats stats;

	/* Writer thread only (and close, after the join). */
	struct queue work;
	struct done *done;
	size_t n_done, cap_done;
	int sync_full;
	/* Prepared at the first counter sample rather than at open: a
	 * database whose schema predates counter_samples still opens, and
	 * only the counters are refused (logged once). */
	struct vgl_sql_stmt *counter_st;
	int counter_unavailable;
	uint64_t refused_counters;
	char counter_err[160];  /* SQLite's reason for the first refusal of a batch */
	int in_drop_burst;
	uint64_t burst_dropped;

	/* Committed events for the loop (ev_mu). */
	pthread_mutex_t ev_mu;
	struct ev *evs;
	size_t n_evs, cap_evs;
	uint64_t ev_seq;
	uint64_t committed_lost;
	vgl_store_wake_fn *wake;
	void *wake_ctx;

	/* Loop thread only: where a poll's values are formatted. */
	char *fmt;
	size_t fmt_cap;
};

/* store_queue.c: emptied for reuse (memory kept), freed, and a string
 * slot's text (NULL for NO_STR). */
void vgl__store_queue_clear(struct queue *q);
void vgl__store_queue_free(struct queue *q);
const char *vgl__store_queue_str(const struct queue *q, uint32_t off);

/* store.c: a cached statement stepped to the end, reset and unbound
 * (VGL_SQL_OK or the error); one only reset and unbound after an error;
 * a string or NULL bound; synchronous=FULL or NORMAL, set only when it
 * changes; whether an error says the database cannot take writes now
 * (fails the batch) rather than refusing one entry; a written transition
 * or revision recorded for the log after COMMIT. */
int vgl__store_step_done(struct vgl_sql_stmt *st);
void vgl__store_stmt_reset(struct vgl_sql_stmt *st);
int vgl__store_bind_str(struct vgl_sql_stmt *st, int i, const char *v);
int vgl__store_set_sync(struct vgl_store *s, int full);
int vgl__store_transient(int rc);
int vgl__store_done_push(struct vgl_store *s, size_t op, int64_t id, int64_t start_ms,
			 const char *cause);

/* store_cause.c: the writer's side of vgl_store_interval_cause and
 * vgl_store_bmc_cursor, inside the batch's transaction: VGL_SQL_OK (also
 * for an entry refused by itself, logged) or an error failing the batch;
 * and the committed log line of a revision. Writer thread. */
int vgl__store_write_cause(struct vgl_store *s, const struct op *op, size_t idx);
int vgl__store_write_cursor(struct vgl_store *s, const struct op *op);
void vgl__store_log_cause(struct vgl_store *s, const struct done *d);

/* store_alarm.c: the statements' SQL (indexed by ST_ALARM_RAISE ..
 * ST_OUTBOX_TRY), and the writer's side of vgl_store_alarm: VGL_SQL_OK (also
 * for an entry refused by itself, logged) or an error failing the batch.
 * An outbox row written is pushed on s->done (interval_id = its id) for
 * the committed hand-back. Writer thread. */
extern const char *const vgl__store_alarm_sql[ST_COUNT];
extern const char *const vgl__store_alarm_sql_pg[ST_COUNT];
int vgl__store_write_alarm(struct vgl_store *s, const struct op *op, size_t idx);

/* store_committed.c: after a COMMIT, the batch's transitions (s->done)
 * queued for the loop, then one wake-up. Writer thread. */
void vgl__store_queue_committed(struct vgl_store *s);

/* store_run.c: the run's row, started in vgl_store_open before the writer
 * starts, stopped in vgl_store_close after it is joined. start: 0 or -1
 * (logged); stop: VGL_SQL_OK or the error. */
int vgl__store_start_run(struct vgl_store *s, int64_t now_ms);
int vgl__store_stop_run(struct vgl_store *s, int64_t now_ms);

#endif
