/* The daemon's writer: a queue filled by the loop thread, drained by one
 * writer thread in one transaction per batch window.
 *
 * Threads and locks
 *  - q_mu guards the queue s->q, the flags and the stats. The loop thread
 *    holds it only to append one entry; the writer only to swap s->q with
 *    its own empty s->work. Neither does I/O under it.
 *  - db_mu guards the connection: held by the writer for a whole batch and
 *    by the synchronous calls (sync_hosts, each_open_interval), so their
 *    transactions never interleave.
 *
 * Invariants
 *  - A transition is logged "committed" only after the COMMIT that wrote it
 *    returned VGL_SQL_OK, and (synchronous=FULL for such batches) the WAL
 *    was fsynced: a logged transition survives kill -9 and power loss.
 *  - A batch that fails (busy, I/O, disk full) is rolled back and kept in
 *    s->work, whole and in order, and retried; nothing newer is written
 *    before it. Only samples, host_polled and counter entries are ever
 *    dropped, at enqueue time when the queue is over max_queued: never
 *    transitions, cause revisions or BMC cursors.
 *  - A cause revision applies to the host's interval open when the batch
 *    writes it (entries are written in queue order, so after an open
 *    queued before it), and never overrides an operator's
 *    reclassification (interval_causes by 'operator:...'): that is final.
 *  - One entry that the database refuses by itself (a second open interval
 *    for a host, an unknown host id, a close before the start) is logged
 *    and skipped; it does not block the batch.
 *  - Strings are copied into the queue's arena at enqueue: the caller's
 *    buffers may be gone by the time the writer runs.
 *  - ev_mu guards the committed events on their way back to the loop. The
 *    writer appends a batch's events only after its COMMIT returned, in
 *    the order written, then wakes the loop; the loop takes the whole list
 *    at once and hands each event out once. So an event never reaches the
 *    loop before its transaction is durable, nor twice.
 *
 * Where: this file has the writer thread, its statements and batches,
 * and open and close. The loop thread's side (the queue and what goes
 * into it) is store_queue.c, the writes of cause revisions and BMC
 * cursors store_cause.c, the hand-back of committed events
 * store_committed.c, the run rows store_run.c, the synchronous calls
 * store_sync.c; what they share, store_int.h.
 */
#include "storage/store_int.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "core/vtime.h"

#define DEFAULT_MAX_QUEUED 1000000
#define RETRY_MS 1000           /* after a failed batch */
#define STOP_TRIES 3            /* failed attempts at close before giving up */

const uint32_t vgl_store_commit_bounds_us[VGL_STORE_COMMIT_BOUNDS] = {
	1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000,
	1000000, 2500000, 5000000, 10000000,
};

static const char *const stmt_sql[ST_COUNT] = {
	[ST_BEGIN] = "BEGIN IMMEDIATE",
	[ST_COMMIT] = "COMMIT",
	[ST_ROLLBACK] = "ROLLBACK",
	/* state is set by opens and closes; a first poll moves it off
	 * 'unknown' to what the intervals say. */
	[ST_POLLED] = "UPDATE hosts SET last_poll_ms = ?2, last_quality = ?3, "
		      "last_values = coalesce(?4, last_values), "
		      "last_values_ms = CASE WHEN ?4 IS NULL THEN last_values_ms ELSE ?2 END, "
		      "state = CASE WHEN state <> 'unknown' THEN state "
		      "WHEN EXISTS (SELECT 1 FROM intervals WHERE host_id = ?1 AND end_ms IS NULL) "
		      "THEN 'down' ELSE 'up' END WHERE id = ?1",
	/* Observed downtime is never moved for an operator's record: an
	 * interval added with vigil interval add may overlap the daemon's
	 * (e.g. one added inside a rule's for_s wait) and the SLA takes the
	 * union, so no-overlap holds per origin (docs/storage.md). Against
	 * its own origin the start is held after the monitor's last close,
	 * which only a wall clock stepped back can reach; the row's start is
	 * returned so the committed log line says what the row holds. The
	 * close likewise never ends before the start (the schema's CHECK would
	 * refuse it and leave the interval open). */
	[ST_OPEN] = "INSERT INTO intervals (host_id, cause, start_ms, opened_by, evidence, "
		    "poll_interval_ms, created_ms) VALUES (?1, ?2, "
		    "MAX(?3, COALESCE((SELECT MAX(end_ms) FROM intervals WHERE host_id = ?1 "
		    "AND origin = 'monitor' AND end_ms IS NOT NULL), ?3)), ?4, ?5, ?6, ?7) "
		    "RETURNING id, start_ms",
	[ST_OPEN_EVENT] = "INSERT INTO events (ts_ms, host_id, interval_id, kind, detail) "
			  "VALUES (?1, ?2, ?3, 'interval_open', "
			  "json_object('cause', ?4, 'rule', ?5, 'start_ms', ?1))",
	[ST_CLOSE] = "UPDATE intervals SET end_ms = MAX(?2, start_ms), closed_by = ?3 "
		     "WHERE host_id = ?1 AND end_ms IS NULL RETURNING id, cause, start_ms",
	/* The interval row keeps the opening evidence; the closing evidence
	 * goes with the close event. */
	[ST_CLOSE_EVENT] = "INSERT INTO events (ts_ms, host_id, interval_id, kind, detail) "
			   "VALUES (?1, ?2, ?3, 'interval_close', "
			   "json_object('rule', ?4, 'end_ms', ?1, 'evidence', "
			   "CASE WHEN json_valid(?5) THEN json(?5) ELSE ?5 END))",
	[ST_STATE] = "UPDATE hosts SET state = ?2 WHERE id = ?1",
	/* ?3: the host polls nothing of its own, so the topology's judgement
	 * is its first observation too */
	[ST_POWER] = "UPDATE hosts SET power = ?2, "
		     "state = CASE WHEN state <> 'unknown' OR ?3 = 0 THEN state "
		     "WHEN EXISTS (SELECT 1 FROM intervals WHERE host_id = ?1 AND end_ms IS NULL) "
		     "THEN 'down' ELSE 'up' END WHERE id = ?1",
	[ST_HEARTBEAT] = "UPDATE runs SET heartbeat_ms = ?2 WHERE id = ?1",
	/* Read first: a reload of 100,000 unchanged hosts then writes
	 * nothing (?2..?5 bound by the caller, compared here). */
	[ST_HOST_GET] = "SELECT id, address IS ?2 AND site IS ?3 AND service IS ?4 AND "
			"customer IS ?5 AND active = 1 FROM hosts WHERE name = ?1",
	[ST_HOST_INSERT] = "INSERT INTO hosts (name, address, site, service, customer, active) "
			   "VALUES (?1, ?2, ?3, ?4, ?5, 1)",
	[ST_HOST_UPDATE] = "UPDATE hosts SET address = ?2, site = ?3, service = ?4, "
			   "customer = ?5, active = 1 WHERE id = ?1",
	[ST_HOSTS_ACTIVE] = "SELECT id FROM hosts WHERE active <> 0 ORDER BY id",
	[ST_HOST_DEACTIVATE] = "UPDATE hosts SET active = 0 WHERE id = ?1",
	[ST_EACH_OPEN] = "SELECT host_id, cause, opened_by, start_ms FROM intervals "
			 "WHERE end_ms IS NULL ORDER BY host_id",
	/* The host's open interval and the operator who reclassified it,
	 * if one did (store_cause.c). */
	[ST_CAUSE_GET] = "SELECT i.id, i.cause, i.start_ms, (SELECT c.\"by\" FROM interval_causes c "
			 "WHERE c.interval_id = i.id AND c.\"by\" LIKE 'operator:%' "
			 "ORDER BY c.id DESC LIMIT 1) FROM intervals i "
			 "WHERE i.host_id = ?1 AND i.end_ms IS NULL",
	/* A revision's writes as one group inside the batch (store_cause.c). */
	[ST_CAUSE_SAVEPOINT] = "SAVEPOINT vgl_cause",
	[ST_CAUSE_RELEASE] = "RELEASE vgl_cause",
	[ST_CAUSE_UNDO] = "ROLLBACK TO vgl_cause",
	/* evidence.attribution = ?3, as JSON when it parses. Evidence that
	 * is not a JSON object (NULL, text, an array) is kept under
	 * "opened" so nothing the interval opened with is lost. */
	[ST_CAUSE_SET] = "UPDATE intervals SET cause = ?2, evidence = json_set(CASE "
			 "WHEN evidence IS NULL THEN '{}' "
			 "WHEN NOT json_valid(evidence) THEN json_object('opened', evidence) "
			 "WHEN json_type(evidence) = 'object' THEN evidence "
			 "ELSE json_object('opened', json(evidence)) END, '$.attribution', "
			 "CASE WHEN json_valid(?3) THEN json(?3) ELSE ?3 END) WHERE id = ?1",
	[ST_CAUSE_HISTORY] = "INSERT INTO interval_causes (interval_id, ts_ms, old_cause, "
			     "new_cause, \"by\", note, evidence) "
			     "VALUES (?1, ?2, ?3, ?4, 'vigild', NULL, ?5)",
	[ST_CAUSE_EVENT] = "INSERT INTO events (ts_ms, host_id, interval_id, kind, detail) "
			   "VALUES (?1, ?2, ?3, 'interval_cause', "
			   "json_object('old_cause', ?4, 'new_cause', ?5, 'by', 'vigild'))",
	[ST_CURSOR_PUT] = "INSERT INTO bmc_cursors (host_id, source, cursor, updated_ms) "
			  "VALUES (?1, ?2, ?3, ?4) ON CONFLICT (host_id, source) DO UPDATE SET "
			  "cursor = excluded.cursor, updated_ms = excluded.updated_ms",
	[ST_EACH_CURSOR] = "SELECT host_id, source, cursor FROM bmc_cursors "
			   "ORDER BY host_id, source",
	/* ST_ALARM_RAISE .. ST_OUTBOX_TRY: store_alarm.c, copied in at open */
};

/* PostgreSQL's texts where its dialect differs (storage/sql.h,
 * docs/scale-out.md): GREATEST for the two-argument MAX, IS NOT DISTINCT
 * FROM for IS, json_build_object with typed arguments, vigil_json (the
 * schema's) for "JSON when it parses, else the text", RETURNING id for
 * last_insert_rowid. */
static const char *const stmt_sql_pg[ST_COUNT] = {
	[ST_POLLED] = "UPDATE hosts SET last_poll_ms = ?2, last_quality = ?3, "
		      "last_values = coalesce(?4::text, last_values), "
		      "last_values_ms = CASE WHEN ?4::text IS NULL THEN last_values_ms ELSE ?2 END, "
		      "state = CASE WHEN state <> 'unknown' THEN state "
		      "WHEN EXISTS (SELECT 1 FROM intervals WHERE host_id = ?1 AND end_ms IS NULL) "
		      "THEN 'down' ELSE 'up' END WHERE id = ?1",
	[ST_OPEN] = "INSERT INTO intervals (host_id, cause, start_ms, opened_by, evidence, "
		    "poll_interval_ms, created_ms) VALUES (?1, ?2, "
		    "GREATEST(?3::bigint, COALESCE((SELECT MAX(end_ms) FROM intervals WHERE host_id = ?1 "
		    "AND origin = 'monitor' AND end_ms IS NOT NULL), ?3::bigint)), ?4, ?5, ?6, ?7) "
		    "RETURNING id, start_ms",
	[ST_OPEN_EVENT] = "INSERT INTO events (ts_ms, host_id, interval_id, kind, detail) "
			  "VALUES (?1, ?2, ?3, 'interval_open', "
			  "json_build_object('cause', ?4::text, 'rule', ?5::text, "
			  "'start_ms', ?1::bigint)::text)",
	[ST_CLOSE] = "UPDATE intervals SET end_ms = GREATEST(?2::bigint, start_ms), closed_by = ?3 "
		     "WHERE host_id = ?1 AND end_ms IS NULL RETURNING id, cause, start_ms",
	[ST_CLOSE_EVENT] = "INSERT INTO events (ts_ms, host_id, interval_id, kind, detail) "
			   "VALUES (?1, ?2, ?3, 'interval_close', "
			   "json_build_object('rule', ?4::text, 'end_ms', ?1::bigint, "
			   "'evidence', vigil_json(?5::text))::text)",
	[ST_POWER] = "UPDATE hosts SET power = ?2, "
		     "state = CASE WHEN state <> 'unknown' OR ?3::bigint = 0 THEN state "
		     "WHEN EXISTS (SELECT 1 FROM intervals WHERE host_id = ?1 AND end_ms IS NULL) "
		     "THEN 'down' ELSE 'up' END WHERE id = ?1",
	[ST_HOST_GET] = "SELECT id, address IS NOT DISTINCT FROM ?2::text AND "
			"site IS NOT DISTINCT FROM ?3::text AND service IS NOT DISTINCT FROM ?4::text "
			"AND customer IS NOT DISTINCT FROM ?5::text AND active = 1 "
			"FROM hosts WHERE name = ?1",
	[ST_HOST_INSERT] = "INSERT INTO hosts (name, address, site, service, customer, active) "
			   "VALUES (?1, ?2, ?3, ?4, ?5, 1) RETURNING id",
	/* jsonb's || puts attribution beside what the evidence held; its
	 * text orders keys as jsonb does, not as SQLite's json_set. */
	[ST_CAUSE_SET] = "UPDATE intervals SET cause = ?2, evidence = (CASE "
			 "WHEN evidence IS NULL THEN '{}'::jsonb "
			 "WHEN json_typeof(vigil_json(evidence)) = 'object' THEN evidence::jsonb "
			 "ELSE jsonb_build_object('opened', vigil_json(evidence)) END "
			 "|| jsonb_build_object('attribution', vigil_json(?3::text)))::text WHERE id = ?1",
	[ST_CAUSE_EVENT] = "INSERT INTO events (ts_ms, host_id, interval_id, kind, detail) "
			   "VALUES (?1, ?2, ?3, 'interval_cause', "
			   "json_build_object('old_cause', ?4::text, 'new_cause', ?5::text, "
			   "'by', 'vigild')::text)",
	/* ST_ALARM_RAISE .. ST_OUTBOX_TRY: store_alarm.c, copied in at open */
};

/* ---- statements ------------------------------------------------------ */

/* Steps a cached statement to the end and leaves it reset and unbound for
 * its next use. Returns VGL_SQL_OK or the error. */
int vgl__store_step_done(struct vgl_sql_stmt *st)
{
	int rc;

	while ((rc = vgl_sql_step(st)) == VGL_SQL_ROW)
		;
	vgl_sql_reset(st);
	vgl_sql_clear_bindings(st);
	return rc == VGL_SQL_DONE ? VGL_SQL_OK : rc;
}

/* After an error: a second vgl_sql_step would run the statement again
 * (SQLite resets it by itself), so only reset it. */
void vgl__store_stmt_reset(struct vgl_sql_stmt *st)
{
	vgl_sql_reset(st);
	vgl_sql_clear_bindings(st);
}

int vgl__store_bind_str(struct vgl_sql_stmt *st, int i, const char *v)
{
	return v ? vgl_sql_bind_text(st, i, v, -1, VGL_SQL_STATIC) : vgl_sql_bind_null(st, i);
}

/* Two daemons writing one PostgreSQL database would take each other's
 * runs for their own restarts; the second is refused, naming the first as
 * its last run row does. */
static void writer_lock_refused(struct vgl_store *s)
{
	struct vgl_sql_stmt *st = NULL;
	char ts[VGL_ISO_LEN];

	if (vgl_sql_errcode(s->db) != VGL_SQL_BUSY) {
		vgl_err("store %s: cannot take the writer lock: %s", s->path, vgl_sql_errmsg(s->db));
		return;
	}
	if (vgl_sql_prepare(s->db, "SELECT pid, version, heartbeat_ms FROM runs "
			    "ORDER BY id DESC LIMIT 1", NULL, &st) == VGL_SQL_OK &&
	    vgl_sql_step(st) == VGL_SQL_ROW)
		vgl_err("store %s: another vigild writes this database (its run: pid %lld, "
			"vigil %s, heartbeat %s); one vigild per PostgreSQL database in this "
			"version (docs/scale-out.md)", s->path,
			(long long)vgl_sql_column_int64(st, 0),
			vgl_sql_column_text(st, 1) ? (const char *)vgl_sql_column_text(st, 1) : "?",
			vgl_format_iso(vgl_sql_column_int64(st, 2), ts));
	else
		vgl_err("store %s: another vigild writes this database; one vigild per "
			"PostgreSQL database in this version (docs/scale-out.md)", s->path);
	vgl_sql_finalize(st);
}

/* Errors that say the database cannot take writes right now, as opposed
 * to a refusal of one statement's content. */
int vgl__store_transient(int rc)
{
	switch (rc & 0xff) {
	case VGL_SQL_BUSY:
	case VGL_SQL_LOCKED:
	case VGL_SQL_IOERR:
	case VGL_SQL_FULL:
	case VGL_SQL_NOMEM:
	case VGL_SQL_CANTOPEN:
	case VGL_SQL_READONLY:
	case VGL_SQL_INTERRUPT:
	case VGL_SQL_PROTOCOL:
	case VGL_SQL_CORRUPT:
	case VGL_SQL_NOTADB:
		return 1;
	}
	return 0;
}

int vgl__store_set_sync(struct vgl_store *s, int full)
{
	int rc;

	if (s->sync_full == full)
		return VGL_SQL_OK;
	/* The pragma takes effect when prepared, so it is not cached. */
	rc = vgl_sql_exec(s->db, full ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL");
	if (rc == VGL_SQL_OK)
		s->sync_full = full;
	return rc;
}

/* ---- the writer ------------------------------------------------------ */

int vgl__store_done_push(struct vgl_store *s, size_t op, int64_t id, int64_t start_ms,
			 const char *cause)
{
	struct done *d;

	if (s->n_done == s->cap_done) {
		size_t cap = s->cap_done ? s->cap_done * 2 : 64;
		d = realloc(s->done, cap * sizeof(*d));
		if (!d)
			return VGL_SQL_NOMEM;
		s->done = d;
		s->cap_done = cap;
	}
	d = &s->done[s->n_done++];
	d->op = op;
	d->interval_id = id;
	d->start_ms = start_ms;
	snprintf(d->cause, sizeof(d->cause), "%s", cause ? cause : "?");
	return VGL_SQL_OK;
}

static int write_polled(struct vgl_store *s, const struct op *op)
{
	struct vgl_sql_stmt *st = s->st[ST_POLLED];

	if (vgl_sql_bind_int64(st, 1, op->host_id) || vgl_sql_bind_int64(st, 2, op->ts_ms) ||
	    vgl_sql_bind_text(st, 3, vgl_quality_name((enum vgl_quality)op->q), -1,
			      VGL_SQL_STATIC) ||
	    vgl__store_bind_str(st, 4, vgl__store_queue_str(&s->work, op->str[S_NAME])))
		return vgl_sql_errcode(s->db);
	return vgl__store_step_done(st);
}

/* Raw counters go in as SQLite's signed 64-bit integers: a Counter64 past
 * 2^63 reads back negative and a reader casts it to uint64_t again, so
 * no value is lost or clamped. */
static int write_counter(struct vgl_store *s, const struct op *op)
{
	struct vgl_sql_stmt *st;
	int rc;

	if (s->counter_unavailable) {
		s->refused_counters++;
		return VGL_SQL_OK;
	}
	if (!s->counter_st) {
		rc = vgl_sql_prepare(s->db, "INSERT OR REPLACE INTO counter_samples "
				     "(host_id, ts_ms, total, failed, source) "
				     "VALUES (?1, ?2, ?3, ?4, 'poll')",
				     "INSERT INTO counter_samples (host_id, ts_ms, total, failed, source) "
				     "VALUES (?1, ?2, ?3, ?4, 'poll') ON CONFLICT (host_id, ts_ms) "
				     "DO UPDATE SET total = excluded.total, failed = excluded.failed, "
				     "source = excluded.source", &s->counter_st);
		if (rc != VGL_SQL_OK) {
			if (vgl__store_transient(rc))
				return rc;
			vgl_err("store %s: counter samples cannot be written (%s); they are "
				"dropped until the daemon is restarted on an up-to-date schema",
				s->path, vgl_sql_errmsg(s->db));
			s->counter_st = NULL;
			s->counter_unavailable = 1;
			s->refused_counters++;
			return VGL_SQL_OK;
		}
	}
	st = s->counter_st;
	if (vgl_sql_bind_int64(st, 1, op->host_id) || vgl_sql_bind_int64(st, 2, op->ts_ms) ||
	    vgl_sql_bind_int64(st, 3, (int64_t)op->total) ||
	    vgl_sql_bind_int64(st, 4, (int64_t)op->failed))
		return vgl_sql_errcode(s->db);
	rc = vgl__store_step_done(st);
	if (rc != VGL_SQL_OK && !vgl__store_transient(rc)) {
		if (!s->refused_counters++)
			snprintf(s->counter_err, sizeof(s->counter_err), "%s",
				 vgl_sql_errmsg(s->db));
		return VGL_SQL_OK;
	}
	return rc;
}

static int write_state(struct vgl_store *s, int64_t host_id, const char *state)
{
	struct vgl_sql_stmt *st = s->st[ST_STATE];

	if (vgl_sql_bind_int64(st, 1, host_id) ||
	    vgl_sql_bind_text(st, 2, state, -1, VGL_SQL_STATIC))
		return vgl_sql_errcode(s->db);
	return vgl__store_step_done(st);
}

static int write_open(struct vgl_store *s, const struct op *op, size_t idx)
{
	const struct queue *w = &s->work;
	const char *name = vgl__store_queue_str(w, op->str[S_NAME]);
	const char *cause = vgl__store_queue_str(w, op->str[S_CAUSE]);
	const char *rule = vgl__store_queue_str(w, op->str[S_RULE]);
	struct vgl_sql_stmt *st = s->st[ST_OPEN];
	char ts[VGL_ISO_LEN];
	int64_t id = 0, start = op->ts_ms;
	int rc;

	if (vgl_sql_bind_int64(st, 1, op->host_id) || vgl__store_bind_str(st, 2, cause) ||
	    vgl_sql_bind_int64(st, 3, op->ts_ms) || vgl__store_bind_str(st, 4, rule) ||
	    vgl__store_bind_str(st, 5, vgl__store_queue_str(w, op->str[S_EVIDENCE])) ||
	    (op->poll_interval_ms ? vgl_sql_bind_int64(st, 6, op->poll_interval_ms)
				  : vgl_sql_bind_null(st, 6)) ||
	    vgl_sql_bind_int64(st, 7, vgl_now_ms()))
		return vgl_sql_errcode(s->db);
	rc = vgl_sql_step(st);
	if (rc == VGL_SQL_ROW) {
		id = vgl_sql_column_int64(st, 0);
		start = vgl_sql_column_int64(st, 1);
		rc = vgl__store_step_done(st);
	} else {
		if (rc == VGL_SQL_DONE)
			rc = VGL_SQL_INTERNAL;   /* RETURNING always yields the row */
		vgl__store_stmt_reset(st);
	}
	if (rc != VGL_SQL_OK) {
		if (vgl__store_transient(rc))
			return rc;
		/* At most one open interval per host (intervals_one_open); the
		 * rules engine should never ask for a second, so this is a bug
		 * upstream: keep the one we have. */
		vgl_err("host %s: interval open (cause %s, rule %s, start %s) refused by the "
			"database: %s", name ? name : "?", cause, rule,
			vgl_format_iso(op->ts_ms, ts), vgl_sql_errmsg(s->db));
		return VGL_SQL_OK;
	}
	if (start != op->ts_ms) {
		char ts2[VGL_ISO_LEN];

		vgl_warn("host %s: interval %lld observed from %s starts at %s, where the host's "
			 "previous interval ended (has the wall clock gone back?)", name ? name : "?",
			 (long long)id, vgl_format_iso(op->ts_ms, ts), vgl_format_iso(start, ts2));
	}
	st = s->st[ST_OPEN_EVENT];
	if (vgl_sql_bind_int64(st, 1, start) || vgl_sql_bind_int64(st, 2, op->host_id) ||
	    vgl_sql_bind_int64(st, 3, id) || vgl__store_bind_str(st, 4, cause) ||
	    vgl__store_bind_str(st, 5, rule))
		return vgl_sql_errcode(s->db);
	rc = vgl__store_step_done(st);
	if (rc == VGL_SQL_OK)
		rc = write_state(s, op->host_id, "down");
	if (rc != VGL_SQL_OK)
		return rc;
	return vgl__store_done_push(s, idx, id, start, cause);
}

static int write_close(struct vgl_store *s, const struct op *op, size_t idx)
{
	const struct queue *w = &s->work;
	const char *name = vgl__store_queue_str(w, op->str[S_NAME]);
	const char *rule = vgl__store_queue_str(w, op->str[S_RULE]);
	struct vgl_sql_stmt *st = s->st[ST_CLOSE];
	char ts[VGL_ISO_LEN], cause[32] = "";
	int64_t id = 0, start_ms = 0;
	int rc, found = 0;

	if (vgl_sql_bind_int64(st, 1, op->host_id) || vgl_sql_bind_int64(st, 2, op->ts_ms) ||
	    vgl__store_bind_str(st, 3, rule))
		return vgl_sql_errcode(s->db);
	rc = vgl_sql_step(st);
	if (rc == VGL_SQL_ROW) {
		const unsigned char *c = vgl_sql_column_text(st, 1);
		found = 1;
		id = vgl_sql_column_int64(st, 0);
		snprintf(cause, sizeof(cause), "%s", c ? (const char *)c : "?");
		start_ms = vgl_sql_column_int64(st, 2);
	}
	if (rc == VGL_SQL_ROW || rc == VGL_SQL_DONE)
		rc = vgl__store_step_done(st);
	else
		vgl__store_stmt_reset(st);
	if (rc != VGL_SQL_OK) {
		if (vgl__store_transient(rc))
			return rc;
		vgl_err("host %s: interval close at %s refused by the database: %s",
			name ? name : "?", vgl_format_iso(op->ts_ms, ts), vgl_sql_errmsg(s->db));
		return VGL_SQL_OK;
	}
	if (!found) {
		vgl_err("host %s: interval close at %s but no interval is open in the database; "
			"nothing to close", name ? name : "?", vgl_format_iso(op->ts_ms, ts));
		return write_state(s, op->host_id, "up");
	}
	st = s->st[ST_CLOSE_EVENT];
	if (vgl_sql_bind_int64(st, 1, op->ts_ms) || vgl_sql_bind_int64(st, 2, op->host_id) ||
	    vgl_sql_bind_int64(st, 3, id) || vgl__store_bind_str(st, 4, rule) ||
	    vgl__store_bind_str(st, 5, vgl__store_queue_str(w, op->str[S_EVIDENCE])))
		return vgl_sql_errcode(s->db);
	rc = vgl__store_step_done(st);
	if (rc == VGL_SQL_OK)
		rc = write_state(s, op->host_id, "up");
	if (rc != VGL_SQL_OK)
		return rc;
	return vgl__store_done_push(s, idx, id, start_ms, cause);
}

static int write_power(struct vgl_store *s, const struct op *op)
{
	struct vgl_sql_stmt *st = s->st[ST_POWER];

	if (vgl_sql_bind_int64(st, 1, op->host_id) ||
	    vgl__store_bind_str(st, 2, vgl__store_queue_str(&s->work, op->str[S_NAME])) ||
	    vgl_sql_bind_int(st, 3, op->q))
		return vgl_sql_errcode(s->db);
	return vgl__store_step_done(st);
}

static int write_op(struct vgl_store *s, const struct op *op, size_t idx)
{
	int rc = VGL_SQL_OK;

	switch ((enum op_kind)op->kind) {
	case OP_POLLED: rc = write_polled(s, op); break;
	case OP_OPEN: rc = write_open(s, op, idx); break;
	case OP_CLOSE: rc = write_close(s, op, idx); break;
	case OP_COUNTER: rc = write_counter(s, op); break;
	case OP_POWER: rc = write_power(s, op); break;
	case OP_CAUSE: rc = vgl__store_write_cause(s, op, idx); break;
	case OP_CURSOR: rc = vgl__store_write_cursor(s, op); break;
	case OP_ALARM: rc = vgl__store_write_alarm(s, op, idx); break;
	}
	/* A statement error that left the transaction open refused that
	 * entry only; one that ended it (SQLite rolls back on I/O errors
	 * and the like) fails the batch. */
	if (rc != VGL_SQL_OK && !vgl__store_transient(rc) && !vgl_sql_get_autocommit(s->db)) {
		vgl_err("store: write of a queued entry (kind %d, host id %lld) refused: %s",
			(int)op->kind, (long long)op->host_id, vgl_sql_errstr(rc));
		rc = VGL_SQL_OK;
	}
	return rc;
}

static void log_done(struct vgl_store *s)
{
	char t1[VGL_ISO_LEN], t2[VGL_ISO_LEN];

	for (size_t i = 0; i < s->n_done; i++) {
		const struct done *d = &s->done[i];
		const struct op *op = &s->work.ops[d->op];
		const char *name = vgl__store_queue_str(&s->work, op->str[S_NAME]);
		const char *rule = vgl__store_queue_str(&s->work, op->str[S_RULE]);

		if (op->kind == OP_ALARM) {
			continue;       /* the outbox logs its deliveries itself */
		} else if (op->kind == OP_CAUSE) {
			vgl__store_log_cause(s, d);
		} else if (op->kind == OP_OPEN) {
			vgl_notice("host %s: interval %lld opened (cause %s, rule %s, start %s): "
				   "committed", name ? name : "?", (long long)d->interval_id,
				   d->cause, rule, vgl_format_iso(d->start_ms, t1));
		} else {
			int64_t dur = op->ts_ms - d->start_ms;
			vgl_notice("host %s: interval %lld closed (cause %s, rule %s, start %s, "
				   "end %s, duration %lld.%03lld s): committed",
				   name ? name : "?", (long long)d->interval_id, d->cause, rule,
				   vgl_format_iso(d->start_ms, t1), vgl_format_iso(op->ts_ms, t2),
				   (long long)(dur / 1000), (long long)(dur % 1000));
		}
	}
}

/* Writes s->work (and the heartbeat) in one transaction. 0 when committed,
 * -1 when rolled back (logged; the caller keeps s->work for a retry). */
static int write_batch(struct vgl_store *s, int heartbeat, uint64_t *us)
{
	struct timespec a, b;
	size_t i = 0;
	int rc;

	clock_gettime(CLOCK_MONOTONIC, &a);
	s->n_done = 0;
	s->refused_counters = 0;
	pthread_mutex_lock(&s->db_mu);
	/* Transitions and causes are what the SLA bills on: make their
	 * commit durable against power loss too. Samples alone ride on
	 * NORMAL, which in WAL mode survives a process crash and loses at most
	 * the last commits on power loss. */
	rc = vgl__store_set_sync(s, s->work.n_transitions + s->work.n_causes + s->work.n_alarms > 0);
	if (rc != VGL_SQL_OK)
		goto out_unlock;
	rc = vgl__store_step_done(s->st[ST_BEGIN]);
	if (rc != VGL_SQL_OK)
		goto out_unlock;
	for (i = 0; i < s->work.n; i++) {
		rc = write_op(s, &s->work.ops[i], i);
		if (rc != VGL_SQL_OK)
			goto out_rollback;
	}
	if (heartbeat) {
		struct vgl_sql_stmt *st = s->st[ST_HEARTBEAT];
		if (vgl_sql_bind_int64(st, 1, s->run_id) ||
		    vgl_sql_bind_int64(st, 2, vgl_now_ms())) {
			rc = vgl_sql_errcode(s->db);
			goto out_rollback;
		}
		rc = vgl__store_step_done(st);
		if (rc != VGL_SQL_OK)
			goto out_rollback;
	}
	rc = vgl__store_step_done(s->st[ST_COMMIT]);
	if (rc != VGL_SQL_OK)
		goto out_rollback;
	pthread_mutex_unlock(&s->db_mu);
	clock_gettime(CLOCK_MONOTONIC, &b);
	*us = (uint64_t)((b.tv_sec - a.tv_sec) * 1000000 + (b.tv_nsec - a.tv_nsec) / 1000);
	/* Once unavailable, said once at that point, not every batch. */
	if (s->refused_counters && !s->counter_unavailable)
		vgl_err("store: %llu counter sample(s) refused by the database: %s",
			(unsigned long long)s->refused_counters, s->counter_err);
	log_done(s);
	vgl__store_queue_committed(s);
	return 0;

out_rollback:
	if (!vgl_sql_get_autocommit(s->db))
		vgl__store_step_done(s->st[ST_ROLLBACK]);
out_unlock:
	vgl_err("store %s: batch of %zu write(s) (%zu interval transition(s)) failed at entry "
		"%zu: %s (%s); rolled back, retrying in %d ms", s->path, s->work.n,
		s->work.n_transitions, i, vgl_sql_errstr(rc), vgl_sql_errmsg(s->db), RETRY_MS);
	pthread_mutex_unlock(&s->db_mu);
	return -1;
}

static void note_drops(struct vgl_store *s, uint64_t dropped, size_t max_queued)
{
	if (dropped) {
		if (!s->in_drop_burst)
			vgl_warn("store: write queue full (%zu entries): dropping samples until "
				 "the writer catches up", max_queued);
		s->in_drop_burst = 1;
		s->burst_dropped += dropped;
	} else if (s->in_drop_burst) {
		vgl_warn("store: write queue has room again; %llu sample(s) dropped meanwhile",
			 (unsigned long long)s->burst_dropped);
		s->in_drop_burst = 0;
		s->burst_dropped = 0;
	}
}

static void wait_until(struct vgl_store *s, int64_t deadline_ms)
{
	struct timespec ts = { .tv_sec = deadline_ms / 1000,
			       .tv_nsec = (deadline_ms % 1000) * 1000000 };

	pthread_cond_timedwait(&s->q_cond, &s->q_mu, &ts);
}

static void sleep_ms(int ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* Under q_mu: one committed batch's BEGIN..COMMIT into the histogram. */
static void count_commit(struct vgl_store_stats *st, uint64_t us)
{
	size_t b = 0;

	while (b < VGL_STORE_COMMIT_BOUNDS && us > vgl_store_commit_bounds_us[b])
		b++;
	st->commit_buckets[b]++;
	st->commit_us_sum += us;
}

static void *writer_main(void *arg)
{
	struct vgl_store *s = arg;
	int64_t now = vgl_mono_ms();
	int64_t next_flush = now + s->batch_ms, next_hb = now + s->heartbeat_ms;
	int failing = 0, stop_failures = 0;

	pthread_mutex_lock(&s->q_mu);
	for (;;) {
		int stopping = s->stopping, heartbeat, rc = 0;
		uint64_t dropped, us = 0;
		size_t max_queued;

		now = vgl_mono_ms();
		if (!stopping) {
			int64_t deadline = next_flush;
			if (!failing && next_hb < deadline)
				deadline = next_hb;
			/* A failing database is retried on its own schedule,
			 * not on every new transition. */
			if (now < deadline && (failing || !s->urgent)) {
				wait_until(s, deadline);
				continue;
			}
		} else if (s->q.n == 0 && s->work.n == 0) {
			break;
		}
		if (s->work.n == 0) {
			struct queue t = s->work;
			s->work = s->q;
			s->q = t;
			s->urgent = 0;
		}
		dropped = s->dropped_pending;
		s->dropped_pending = 0;
		max_queued = s->max_queued;
		pthread_mutex_unlock(&s->q_mu);

		note_drops(s, dropped, max_queued);
		heartbeat = !stopping && now >= next_hb;
		if (s->work.n || heartbeat)
			rc = write_batch(s, heartbeat, &us);
		now = vgl_mono_ms();
		if (rc == 0) {
			failing = 0;
			if (heartbeat)
				next_hb = now + s->heartbeat_ms;
			next_flush = now + s->batch_ms;
		} else {
			failing = 1;
			next_flush = now + RETRY_MS;
		}

		pthread_mutex_lock(&s->q_mu);
		if (rc == 0) {
			if (s->work.n) {
				s->stats.batches_committed++;
				s->stats.transitions_committed += s->work.n_transitions;
				s->stats.last_batch_ops = s->work.n;
				s->stats.last_batch_us = us;
				count_commit(&s->stats, us);
			}
			vgl__store_queue_clear(&s->work);
		} else {
			s->stats.batches_failed++;
		}
		if (stopping && rc != 0) {
			if (++stop_failures >= STOP_TRIES) {
				vgl_err("store %s: giving up at close: %zu queued write(s) lost, "
					"%zu of them interval transitions", s->path,
					s->work.n + s->q.n, s->work.n_transitions + s->q.n_transitions);
				break;
			}
			pthread_mutex_unlock(&s->q_mu);
			sleep_ms(RETRY_MS);
			pthread_mutex_lock(&s->q_mu);
		}
	}
	pthread_mutex_unlock(&s->q_mu);
	return NULL;
}

/* ---- open and close -------------------------------------------------- */

static void finalize_all(struct vgl_store *s)
{
	vgl_sql_finalize(s->counter_st);
	s->counter_st = NULL;
	for (int i = 0; i < ST_COUNT; i++) {
		vgl_sql_finalize(s->st[i]);
		s->st[i] = NULL;
	}
}

int vgl_store_open(const struct vgl_store_opts *o, struct vgl_store **out)
{
	struct vgl_store *s = calloc(1, sizeof(*s));
	pthread_condattr_t ca;
	char err[512];
	int rc;

	*out = NULL;
	if (!s) {
		vgl_err("store: out of memory");
		return -1;
	}
	s->path = strdup(o->path ? o->path : "");
	if (!s->path) {
		vgl_err("store: out of memory");
		goto out_free;
	}
	s->batch_ms = o->batch_ms ? o->batch_ms : 1000;
	s->heartbeat_ms = o->heartbeat_ms ? o->heartbeat_ms : 10000;
	s->max_queued = DEFAULT_MAX_QUEUED;
	s->sync_full = -1;
	if (pthread_mutex_init(&s->q_mu, NULL) != 0)
		goto out_free;
	if (pthread_mutex_init(&s->db_mu, NULL) != 0)
		goto out_q_mu;
	if (pthread_mutex_init(&s->ev_mu, NULL) != 0)
		goto out_db_mu;
	/* Monotonic waits: a wall clock step must not stall the writer. */
	if (pthread_condattr_init(&ca) != 0)
		goto out_ev_mu;
	rc = pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	if (rc == 0)
		rc = pthread_cond_init(&s->q_cond, &ca);
	pthread_condattr_destroy(&ca);
	if (rc != 0) {
		vgl_err("store: cannot create a condition variable: %s", strerror(rc));
		goto out_ev_mu;
	}
	if (vgl_sql_open(s->path, &s->db, err, sizeof(err)) != 0) {
		vgl_err("%s", err);
		goto out_cond;
	}
	if (vgl_sql_writer_lock(s->db) != VGL_SQL_OK) {
		writer_lock_refused(s);
		goto out_db;
	}
	if (vgl__store_set_sync(s, 0) != VGL_SQL_OK) {
		vgl_err("store %s: synchronous=NORMAL: %s", s->path, vgl_sql_errmsg(s->db));
		goto out_db;
	}
	{
		const char *sql[ST_COUNT], *sql_pg[ST_COUNT];

		for (int i = 0; i < ST_COUNT; i++) {
			sql[i] = stmt_sql[i] ? stmt_sql[i] : vgl__store_alarm_sql[i];
			sql_pg[i] = stmt_sql[i] ? stmt_sql_pg[i] : vgl__store_alarm_sql_pg[i];
		}
		if ((rc = vgl_sql_prepare_all(s->db, sql, sql_pg, ST_COUNT, s->st)) >= 0) {
			vgl_err("store %s: cannot prepare \"%s\": %s", s->path, sql[rc],
				vgl_sql_errmsg(s->db));
			goto out_stmts;
		}
	}
	if (vgl__store_start_run(s, o->now_ms) != 0)
		goto out_stmts;
	rc = pthread_create(&s->thread, NULL, writer_main, s);
	if (rc != 0) {
		vgl_err("store: cannot start the writer thread: %s", strerror(rc));
		goto out_stmts;
	}
	s->thread_started = 1;
	*out = s;
	return 0;

out_stmts:
	finalize_all(s);
out_db:
	vgl_sql_close(s->db);
out_cond:
	pthread_cond_destroy(&s->q_cond);
out_ev_mu:
	pthread_mutex_destroy(&s->ev_mu);
out_db_mu:
	pthread_mutex_destroy(&s->db_mu);
out_q_mu:
	pthread_mutex_destroy(&s->q_mu);
out_free:
	free(s->path);
	free(s);
	return -1;
}

void vgl_store_close(struct vgl_store *s, int64_t now_ms)
{
	int rc;

	if (!s)
		return;
	pthread_mutex_lock(&s->q_mu);
	s->stopping = 1;
	pthread_cond_signal(&s->q_cond);
	pthread_mutex_unlock(&s->q_mu);
	if (s->thread_started) {
		rc = pthread_join(s->thread, NULL);
		if (rc != 0)
			vgl_err("store: cannot join the writer thread: %s", strerror(rc));
	}
	note_drops(s, 0, s->max_queued);
	rc = vgl__store_stop_run(s, now_ms);
	if (rc != VGL_SQL_OK)
		vgl_err("store %s: cannot record the stop of run %lld: %s", s->path,
			(long long)s->run_id, vgl_sql_errmsg(s->db));
	else
		vgl_info("store %s: run %lld stopped", s->path, (long long)s->run_id);
	finalize_all(s);
	rc = vgl_sql_close(s->db);
	if (rc != VGL_SQL_OK)
		vgl_err("store %s: close: %s", s->path, vgl_sql_errstr(rc));
	pthread_cond_destroy(&s->q_cond);
	/* Events of the last flush, after the loop stopped listening: logged
	 * as committed, nobody left to hand them to. */
	(void)vgl_store_drain_committed(s, NULL, NULL);
	pthread_mutex_destroy(&s->ev_mu);
	pthread_mutex_destroy(&s->db_mu);
	pthread_mutex_destroy(&s->q_mu);
	vgl__store_queue_free(&s->q);
	vgl__store_queue_free(&s->work);
	free(s->done);
	free(s->fmt);
	free(s->path);
	free(s);
}
