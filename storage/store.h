/* The durable record: SQLite in WAL mode, numbered migrations, prepared
 * statements only.
 *
 * Two ways in:
 *  - vgl_db_open(): a plain connection with the schema migrated, for the
 *    CLI and tests (busy timeout set, so it works beside a running daemon).
 *  - struct vgl_store: the daemon's writer. The loop thread queues writes
 *    (never blocks on the disk); a writer thread commits them in one
 *    transaction per batch window. Interval transitions are logged only
 *    once their transaction has committed, so a logged transition is never
 *    lost; kill -9 loses at most the samples of the last batch window.
 */
#ifndef VGL_STORE_H
#define VGL_STORE_H

#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "conf/conf.h"
#include "core/sample.h"

#define VGL_SCHEMA_VERSION_LATEST 8

/* Opens (creating if needed) and migrates. 0 or -1 with a message in
 * err[errlen] naming the path and SQLite's reason. */
int vgl_db_open(const char *path, sqlite3 **out, char *err, size_t errlen);

struct vgl_store;

struct vgl_store_opts {
	const char *path;
	uint32_t batch_ms;              /* commit window */
	uint32_t heartbeat_ms;          /* how often the run's heartbeat is refreshed */
	int64_t now_ms;                 /* daemon start, wall clock */
};

/* Opens the database, migrates, starts a run row and records the gap since
 * the previous run's last heartbeat on every open interval (unobserved_ms),
 * then starts the writer thread. Blocking: call before the loop runs. */
int vgl_store_open(const struct vgl_store_opts *o, struct vgl_store **out);

/* Upserts the configured hosts (name, address, site, service, customer;
 * hosts no longer configured are kept, marked inactive) and writes each
 * host's database id to ids[i] for conf->hosts[i]. Synchronous: at start
 * and on reload. 0 or -1 (logged). */
int vgl_store_sync_hosts(struct vgl_store *s, const struct vgl_conf *c, int64_t *ids);

/* Calls fn for every open interval (restart recovery). Synchronous. */
typedef void vgl_store_open_fn(void *ctx, int64_t host_id, const char *cause,
			       const char *rule, int64_t start_ms);
int vgl_store_each_open_interval(struct vgl_store *s, vgl_store_open_fn *fn, void *ctx);

/* Calls fn for every BMC event log cursor (bmc_cursors: where each BMC
 * source's event log was read up to, kept across restarts), by host id
 * then source. Synchronous: at start, like vgl_store_each_open_interval.
 * 0 or -1 (logged). */
typedef void vgl_store_cursor_fn(void *ctx, int64_t host_id, const char *source,
				 const char *cursor);
int vgl_store_each_cursor(struct vgl_store *s, vgl_store_cursor_fn *fn, void *ctx);

/* Queued writes (loop thread; never block on the disk; copy their strings). */
/* A finished poll of one of the host's sources: the host row's
 * last_poll_ms/last_quality and, for a good poll, the host's last values
 * (every metric, whatever its source: rules/values.h) as one JSON object
 * (metric name -> number, or the quality name of a value that is not ok)
 * in last_values, with last_values_ms = r->ts_ms. A failed poll that
 * delivered no good value leaves the last values alone. metrics[i] names
 * values[i], n_metrics of them. */
void vgl_store_host_polled(struct vgl_store *s, int64_t host_id,
			   const struct vgl_poll_result *r, const struct vgl_value *values,
			   const struct vgl_conf_metric *metrics, size_t n_metrics);
/* A raw request-counter pair (conf sla_counters) as polled, for the
 * error-rate SLA kinds: one row of counter_samples (source 'poll'; a
 * second sample of the same host and ts_ms replaces the first). Dropped
 * like samples when the queue is full: the next sample still carries the
 * running totals. Refused rows (no such host id, the table missing) are
 * counted and logged once per batch; they never fail the batch. */
void vgl_store_counter(struct vgl_store *s, int64_t host_id, int64_t ts_ms, uint64_t total,
		       uint64_t failed);
/* The host's power redundancy (hosts.power): text names the feeds off
 * while some but not all are, NULL when all are live again. unpolled: the
 * host has no source of its own, so this judgement moves its state off
 * 'unknown' as a first poll would. */
void vgl_store_host_power(struct vgl_store *s, int64_t host_id, const char *text,
			  int unpolled);
void vgl_store_interval_open(struct vgl_store *s, int64_t host_id, const char *host_name,
			     const char *cause, const char *rule, int64_t start_ms,
			     const char *evidence_json, uint32_t poll_interval_ms);
void vgl_store_interval_close(struct vgl_store *s, int64_t host_id, const char *host_name,
			      int64_t end_ms, const char *rule, const char *evidence_json);
/* The daemon's attribution revised the cause of the host's open interval
 * (an interval opened with vgl_store_interval_open carries its first
 * attribution in its evidence already). Written with the batch, to the
 * interval open at that point, unless an operator reclassified or
 * confirmed it (then nothing: the operator's cause and the evidence it
 * was judged on are final; logged at info). If its cause differs: the
 * evidence's "attribution" key (= attribution_json; evidence that is not
 * a JSON object is kept under "opened"), an interval_causes row by
 * 'vigild' and an 'interval_cause' event; if the cause is the same, only
 * the evidence's attribution. No open interval: nothing (debug log).
 * Stamped with the wall clock of this call. Never dropped, committed with
 * synchronous=FULL like transitions (the SLA bills on the cause); the
 * change is logged "committed" after its COMMIT, not handed back through
 * vgl_store_drain_committed. */
void vgl_store_interval_cause(struct vgl_store *s, int64_t host_id, const char *host_name,
			      const char *cause, const char *attribution_json);
/* Where a BMC source (its name in the config) has read the host's event
 * log up to (a SEL record id, as text): upserts bmc_cursors with
 * updated_ms = the writer's wall clock. Never dropped: it is tiny, and a
 * lost one means reading the event log again from the start. */
void vgl_store_bmc_cursor(struct vgl_store *s, int64_t host_id, const char *source,
			  const char *cursor);

/* Committed transitions, back to the loop. Whatever must happen only
 * after a transition is durable (alarms, the notification outbox, live
 * API updates) reacts to these, never to the request to write it.
 *
 * The writer thread, after each COMMIT that wrote transitions, queues one
 * event per transition in commit order and calls wake(ctx) (the daemon's
 * uv_async_send; it may run on any thread, under the store's event lock,
 * so it must not call back into the store). The loop then calls
 * vgl_store_drain_committed, which hands every queued event to fn once,
 * in commit order. wake NULL stops the calls (before the daemon closes its
 * async handle); events keep queueing and are freed at close. */
enum vgl_store_committed_kind { VGL_COMMITTED_OPEN, VGL_COMMITTED_CLOSE, VGL_COMMITTED_OUTBOX };

struct vgl_store_committed {
	enum vgl_store_committed_kind kind;
	int64_t host_id;
	int64_t interval_id;
	int64_t start_ms;               /* as the row holds it */
	int64_t end_ms;                 /* close: the row's end; open: 0 */
	const char *host;               /* name, as queued */
	const char *cause;
	const char *rule;               /* that opened (open) or closed (close) it */
	uint64_t seq;                   /* 1, 2, ... in commit order, per store */
	/* OUTBOX: the outbox row now durable (vgl_store_alarm VGL_SA_OUTBOX);
	 * host_id is the alarm's host, interval_id 0. */
	int64_t outbox_id;
};
typedef void vgl_store_wake_fn(void *ctx);
typedef void vgl_store_committed_fn(void *ctx, const struct vgl_store_committed *ev);

void vgl_store_on_committed(struct vgl_store *s, vgl_store_wake_fn *wake, void *ctx);
/* Loop thread. The event's strings live until fn returns. Returns how many
 * were handed over. */
size_t vgl_store_drain_committed(struct vgl_store *s, vgl_store_committed_fn *fn, void *ctx);

/* Alarms and the outbox (migration 8, docs/alarms.md). One write per
 * call, doc a JSON object with the fields of that write (store_alarm.c
 * names them); written with the batch in queue order, never dropped, with
 * synchronous=FULL like transitions, and urgent (no waiting for the batch
 * window) except VGL_SA_OUTBOX_TRY. Any of them may carry "log": {"ts_ms", "action",
 * "by", "text"} for one alarm_log row of the same alarm.
 *  RAISE: a new alarms row (alarm_id, host_id, kind, rule, severity, summary,
 *         labels {}, details {}, site, policy, raised_ms, suppressed_by,
 *         muted);
 *  UPDATE: alarm_id, details, suppressed_by, muted (as they are now);
 *  CLEAR: alarm_id, cleared_ms;
 *  LOG: only the log row (alarm_id);
 *  OUTBOX: a new outbox row (id, alarm_id, channel, event, step, repeat,
 *         dedup_key, payload (text), created_ms, next_ms); handed back as a
 *         VGL_COMMITTED_OUTBOX event once committed;
 *  OUTBOX_TRY: the result of one attempt (id, attempts, delivered_ms or
 *         null, last_error, next_ms).
 * host_id: the alarm's host, for logs. */
enum vgl_store_alarm_op {
	VGL_SA_RAISE, VGL_SA_UPDATE, VGL_SA_CLEAR, VGL_SA_LOG, VGL_SA_OUTBOX, VGL_SA_OUTBOX_TRY
};
void vgl_store_alarm(struct vgl_store *s, enum vgl_store_alarm_op op, int64_t host_id,
		     const char *doc);

/* What a restart needs of the alarms (synchronous, before the loop): the
 * largest ids so far, every alarm not cleared, and every outbox row still
 * owed, in id order. The strings live until the callback returns. */
struct vgl_store_alarm_state {
	int64_t max_alarm_id, max_outbox_id;
};
struct vgl_store_active_alarm {
	int64_t id, host_id;
	const char *kind, *rule, *severity, *summary, *labels, *details, *site, *policy;
	const char *muted, *acked_by;
	int64_t raised_ms, acked_ms, suppressed_by;
	int last_step, last_repeat;     /* the latest trigger in its outbox; step -1: none */
};
struct vgl_store_owed {
	int64_t id, alarm_id, host_id;
	const char *channel, *event, *dedup_key, *payload;
	int step, repeat;
	int64_t attempts, next_ms;
};
typedef void vgl_store_active_fn(void *ctx, const struct vgl_store_active_alarm *a);
typedef void vgl_store_owed_fn(void *ctx, const struct vgl_store_owed *o);
int vgl_store_alarm_restore(struct vgl_store *s, struct vgl_store_alarm_state *st,
			    vgl_store_active_fn *active, vgl_store_owed_fn *owed, void *ctx);

/* What operators changed from outside (the CLI): acknowledgements of
 * alarms not cleared, silences in force or to come, maintenance windows
 * ending after since_ms. Runs on the caller's thread on the writer's
 * connection under its lock (the daemon calls it from the threadpool,
 * never from the loop). The callbacks' strings live until they return.
 * 0 or -1 (logged). */
struct vgl_store_ack { int64_t alarm_id, acked_ms; const char *by; };
struct vgl_store_silence {
	int64_t id, start_ms, end_ms;
	const char *host, *site, *label, *reason;
};
struct vgl_store_window {
	int64_t id, host_id, start_ms, end_ms, announced_ms;
	const char *site, *kind;
	int cancelled;
};
struct vgl_store_control_fns {
	void (*ack)(void *ctx, const struct vgl_store_ack *a);
	void (*silence)(void *ctx, const struct vgl_store_silence *s);
	void (*window)(void *ctx, const struct vgl_store_window *w);
};
int vgl_store_read_control(struct vgl_store *s, int64_t now_ms, int64_t since_ms,
			   const struct vgl_store_control_fns *fns, void *ctx);

/* Poll and counter writes queued beyond this many are dropped
 * (counted, logged once at the start and once at the end of a burst);
 * interval transitions, cause revisions and BMC cursors are never
 * dropped. Default 1,000,000. */
void vgl_store_set_max_queued(struct vgl_store *s, size_t max_queued);

/* The upper bounds of the commit duration buckets, in microseconds:
 * 1, 2.5, 5, 10, 25, 50, 100, 250, 500 ms, 1, 2.5, 5, 10 s. */
#define VGL_STORE_COMMIT_BOUNDS 13
#define VGL_STORE_COMMIT_BUCKETS (VGL_STORE_COMMIT_BOUNDS + 1)
extern const uint32_t vgl_store_commit_bounds_us[VGL_STORE_COMMIT_BOUNDS];

struct vgl_store_stats {
	size_t queued;                  /* writes waiting for the writer */
	uint64_t samples_dropped;       /* total, since open */
	uint64_t batches_committed;
	uint64_t batches_failed;        /* each was retried */
	uint64_t transitions_committed; /* interval opens and closes */
	uint64_t last_batch_ops;
	uint64_t last_batch_us;         /* BEGIN to COMMIT of the last good batch */
	uint64_t committed_lost;        /* events not queued for the loop (no memory) */
	/* BEGIN to COMMIT of every committed batch that had writes (those
	 * batches_committed counts), by duration: commit_buckets[i] counts
	 * those over bound i-1 and at most vgl_store_commit_bounds_us[i];
	 * the last one those over every bound. Not cumulative. */
	uint64_t commit_buckets[VGL_STORE_COMMIT_BUCKETS];
	uint64_t commit_us_sum;
	/* Age of the oldest write queued and not committed yet (its batch
	 * failing and retried counts too), by the monotonic clock at the
	 * snapshot; 0 when nothing waits. */
	uint64_t oldest_queued_ms;
};

/* A snapshot, for /metrics and the daemon's periodic stats line. */
void vgl_store_get_stats(struct vgl_store *s, struct vgl_store_stats *out);

/* Drains the queue, marks the run stopped, joins the writer, closes. */
void vgl_store_close(struct vgl_store *s, int64_t now_ms);

#endif
