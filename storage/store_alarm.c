/* The daemon's writer: alarms, their log and the notification outbox
 * (migration 8), and the synchronous reads a restart and the operators'
 * changes need. Apart from store.c because these rows have their own
 * rules: an alarm's lifecycle columns are shared with `vigil ack` (the
 * daemon never writes acked_ms/acked_by), the log is append-only, and an
 * outbox row goes back to the loop only once its COMMIT returned, so
 * nothing is ever sent that a kill -9 could forget having owed.
 *
 * Each write arrives as one JSON document (vgl_store_alarm): the
 * statements take their values out of it with json_extract, so the queue
 * entry stays the same small struct op and the SQL stays prepared.
 * Threads, locks and invariants: the top of store.c.
 */
#include "storage/store_int.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "core/log.h"

/* Each statement reads the fields of one JSON document, ?1, and is written
 * once for both dialects: T(key) reads a text field, B(key) an integer,
 * T2/B2(key, subkey) one level down. SQLite's json_extract answers
 * either; PostgreSQL's json operators answer text, cast where the column
 * wants a bigint. */
#define SQ_J(k) "json_extract(?1, '$." k "')"
#define SQ_J2(k, sub) "json_extract(?1, '$." k "." sub "')"
#define PG_T(k) "(?1::json ->> '" k "')"
#define PG_B(k) "(?1::json ->> '" k "')::bigint"
#define PG_T2(k, sub) "(?1::json #>> '{" k "," sub "}')"
#define PG_B2(k, sub) "(?1::json #>> '{" k "," sub "}')::bigint"

#define RAISE_SQL(T, B)                                                                     \
	"INSERT INTO alarms (id, host_id, kind, rule, severity, summary, labels, details, "    \
	"site, policy, raised_ms, suppressed_by, muted) VALUES (" B("alarm_id") ", "          \
	B("host_id") ", " T("kind") ", " T("rule") ", " T("severity") ", " T("summary")        \
	", coalesce(" T("labels") ", '{}'), coalesce(" T("details") ", '{}'), " T("site")     \
	", " T("policy") ", " B("raised_ms") ", " B("suppressed_by") ", " T("muted") ")"
#define UPDATE_SQL(T, B)                                                                    \
	"UPDATE alarms SET details = coalesce(" T("details") ", details), suppressed_by = "    \
	B("suppressed_by") ", muted = " T("muted") " WHERE id = " B("alarm_id")
#define CLEAR_SQL(T, B)                                                                     \
	"UPDATE alarms SET cleared_ms = " B("cleared_ms") " WHERE id = " B("alarm_id")         \
	" AND cleared_ms IS NULL"
#define LOG_SQL(T2, B, B2)                                                                  \
	"INSERT INTO alarm_log (alarm_id, ts_ms, action, \"by\", text) SELECT " B("alarm_id")  \
	", " B2("log", "ts_ms") ", " T2("log", "action") ", coalesce(" T2("log", "by")         \
	", 'vigild'), " T2("log", "text") " WHERE " T2("log", "action") " IS NOT NULL"
/* A row already there for the same (channel, dedup_key) is the same
 * notification: kept as it is, and not handed back twice. */
#define OUTBOX_ADD_SQL(T, B)                                                                \
	"INSERT INTO outbox (id, alarm_id, channel, event, step, repeat, dedup_key, payload, " \
	"created_ms, next_ms) VALUES (" B("id") ", " B("alarm_id") ", " T("channel") ", "     \
	T("event") ", " B("step") ", " B("repeat") ", " T("dedup_key") ", " T("payload")      \
	", " B("created_ms") ", " B("next_ms") ") ON CONFLICT (channel, dedup_key) DO NOTHING " \
	"RETURNING id"
#define OUTBOX_TRY_SQL(T, B)                                                                \
	"UPDATE outbox SET attempts = " B("attempts") ", delivered_ms = " B("delivered_ms")    \
	", last_error = " T("last_error") ", next_ms = " B("next_ms") " WHERE id = " B("id")

const char *const vgl__store_alarm_sql[ST_COUNT] = {
	[ST_ALARM_RAISE] = RAISE_SQL(SQ_J, SQ_J),
	[ST_ALARM_UPDATE] = UPDATE_SQL(SQ_J, SQ_J),
	[ST_ALARM_CLEAR] = CLEAR_SQL(SQ_J, SQ_J),
	[ST_ALARM_LOG] = LOG_SQL(SQ_J2, SQ_J, SQ_J2),
	[ST_OUTBOX_ADD] = OUTBOX_ADD_SQL(SQ_J, SQ_J),
	[ST_OUTBOX_TRY] = OUTBOX_TRY_SQL(SQ_J, SQ_J),
};

const char *const vgl__store_alarm_sql_pg[ST_COUNT] = {
	[ST_ALARM_RAISE] = RAISE_SQL(PG_T, PG_B),
	[ST_ALARM_UPDATE] = UPDATE_SQL(PG_T, PG_B),
	[ST_ALARM_CLEAR] = CLEAR_SQL(PG_T, PG_B),
	[ST_ALARM_LOG] = LOG_SQL(PG_T2, PG_B, PG_B2),
	[ST_OUTBOX_ADD] = OUTBOX_ADD_SQL(PG_T, PG_B),
	[ST_OUTBOX_TRY] = OUTBOX_TRY_SQL(PG_T, PG_B),
};

static const char *op_name(int op)
{
	static const char *const names[] = { "raise", "update", "clear", "log", "outbox",
					     "outbox attempt" };
	return op >= 0 && op < (int)(sizeof(names) / sizeof(names[0])) ? names[op] : "?";
}

static int step_doc(struct vgl_store *s, int st_id, const char *doc, int64_t *returned)
{
	struct vgl_sql_stmt *st = s->st[st_id];
	int rc;

	if (vgl_sql_bind_text(st, 1, doc, -1, VGL_SQL_STATIC))
		return vgl_sql_errcode(s->db);
	rc = vgl_sql_step(st);
	if (rc == VGL_SQL_ROW) {
		if (returned)
			*returned = vgl_sql_column_int64(st, 0);
		return vgl__store_step_done(st);
	}
	/* done: only reset (another step would run the statement again) */
	vgl__store_stmt_reset(st);
	return rc == VGL_SQL_DONE ? VGL_SQL_OK : rc;
}

int vgl__store_write_alarm(struct vgl_store *s, const struct op *op, size_t idx)
{
	const char *doc = vgl__store_queue_str(&s->work, op->str[S_EVIDENCE]);
	int64_t id = 0;
	int rc = VGL_SQL_OK, main_st = -1;

	if (!doc)
		return VGL_SQL_OK;
	switch ((enum vgl_store_alarm_op)op->q) {
	case VGL_SA_RAISE: main_st = ST_ALARM_RAISE; break;
	case VGL_SA_UPDATE: main_st = ST_ALARM_UPDATE; break;
	case VGL_SA_CLEAR: main_st = ST_ALARM_CLEAR; break;
	case VGL_SA_LOG: break;
	case VGL_SA_OUTBOX: main_st = ST_OUTBOX_ADD; break;
	case VGL_SA_OUTBOX_TRY: main_st = ST_OUTBOX_TRY; break;
	}
	if (main_st >= 0)
		rc = step_doc(s, main_st, doc, main_st == ST_OUTBOX_ADD ? &id : NULL);
	if (rc == VGL_SQL_OK && op->q != VGL_SA_OUTBOX && op->q != VGL_SA_OUTBOX_TRY)
		rc = step_doc(s, ST_ALARM_LOG, doc, NULL);
	if (rc != VGL_SQL_OK) {
		if (vgl__store_transient(rc))
			return rc;
		vgl_err("host id %lld: alarm %s refused by the database: %s (%.200s)",
			(long long)op->host_id, op_name(op->q), vgl_sql_errmsg(s->db), doc);
		return VGL_SQL_OK;
	}
	if (op->q == VGL_SA_OUTBOX && id > 0)
		return vgl__store_done_push(s, idx, id, 0, NULL);
	return VGL_SQL_OK;
}

/* ---- synchronous reads ---------------------------------------------------- */

static const char *col_text(struct vgl_sql_stmt *st, int i)
{
	return (const char *)vgl_sql_column_text(st, i);
}

static int prepare(struct vgl_store *s, const char *sql, struct vgl_sql_stmt **st)
{
	int rc = vgl_sql_prepare(s->db, sql, NULL, st);

	if (rc != VGL_SQL_OK)
		vgl_err("store %s: cannot prepare \"%s\": %s", s->path, sql, vgl_sql_errmsg(s->db));
	return rc;
}

static int max_id(struct vgl_store *s, const char *sql, int64_t *out)
{
	struct vgl_sql_stmt *st;
	int rc = prepare(s, sql, &st);

	if (rc != VGL_SQL_OK)
		return rc;
	rc = vgl_sql_step(st);
	if (rc == VGL_SQL_ROW) {
		*out = vgl_sql_column_int64(st, 0);
		rc = VGL_SQL_OK;
	}
	vgl_sql_finalize(st);
	return rc;
}

int vgl_store_alarm_restore(struct vgl_store *s, struct vgl_store_alarm_state *state,
			    vgl_store_active_fn *active, vgl_store_owed_fn *owed, void *ctx)
{
	/* The latest trigger of each alarm as step * 2^20 + repeat: where
	 * its escalation had got to. */
	static const char active_sql[] =
		"SELECT a.id, a.host_id, a.kind, a.rule, a.severity, a.summary, a.labels, "
		"a.details, a.site, a.policy, a.muted, a.acked_by, a.raised_ms, a.acked_ms, "
		"a.suppressed_by, (SELECT max(o.step * 1048576 + o.repeat) FROM outbox o "
		"WHERE o.alarm_id = a.id AND o.event = 'trigger') "
		"FROM alarms a WHERE a.cleared_ms IS NULL ORDER BY a.id";
	static const char owed_sql[] =
		"SELECT o.id, o.alarm_id, a.host_id, o.channel, o.event, o.dedup_key, o.payload, "
		"o.step, o.repeat, o.attempts, o.next_ms FROM outbox o JOIN alarms a ON "
		"a.id = o.alarm_id WHERE o.delivered_ms IS NULL ORDER BY o.id";
	struct vgl_sql_stmt *st = NULL;
	int rc;

	memset(state, 0, sizeof(*state));
	pthread_mutex_lock(&s->db_mu);
	rc = max_id(s, "SELECT coalesce(max(id), 0) FROM alarms", &state->max_alarm_id);
	if (rc == VGL_SQL_OK)
		rc = max_id(s, "SELECT coalesce(max(id), 0) FROM outbox", &state->max_outbox_id);
	if (rc == VGL_SQL_OK && (rc = prepare(s, active_sql, &st)) == VGL_SQL_OK) {
		while ((rc = vgl_sql_step(st)) == VGL_SQL_ROW) {
			struct vgl_store_active_alarm a = {
				.id = vgl_sql_column_int64(st, 0),
				.host_id = vgl_sql_column_int64(st, 1),
				.kind = col_text(st, 2), .rule = col_text(st, 3),
				.severity = col_text(st, 4), .summary = col_text(st, 5),
				.labels = col_text(st, 6), .details = col_text(st, 7),
				.site = col_text(st, 8), .policy = col_text(st, 9),
				.muted = col_text(st, 10), .acked_by = col_text(st, 11),
				.raised_ms = vgl_sql_column_int64(st, 12),
				.acked_ms = vgl_sql_column_int64(st, 13),
				.suppressed_by = vgl_sql_column_int64(st, 14),
				.last_step = -1,
			};
			if (vgl_sql_column_type(st, 15) != VGL_SQL_NULL) {
				int64_t k = vgl_sql_column_int64(st, 15);
				a.last_step = (int)(k / 1048576);
				a.last_repeat = (int)(k % 1048576);
			}
			if (active)
				active(ctx, &a);
		}
		rc = rc == VGL_SQL_DONE ? VGL_SQL_OK : rc;
		vgl_sql_finalize(st);
		st = NULL;
	}
	if (rc == VGL_SQL_OK && (rc = prepare(s, owed_sql, &st)) == VGL_SQL_OK) {
		while ((rc = vgl_sql_step(st)) == VGL_SQL_ROW) {
			struct vgl_store_owed o = {
				.id = vgl_sql_column_int64(st, 0),
				.alarm_id = vgl_sql_column_int64(st, 1),
				.host_id = vgl_sql_column_int64(st, 2),
				.channel = col_text(st, 3), .event = col_text(st, 4),
				.dedup_key = col_text(st, 5), .payload = col_text(st, 6),
				.step = vgl_sql_column_int(st, 7), .repeat = vgl_sql_column_int(st, 8),
				.attempts = vgl_sql_column_int64(st, 9),
				.next_ms = vgl_sql_column_int64(st, 10),
			};
			if (owed && o.channel && o.payload && o.dedup_key && o.event)
				owed(ctx, &o);
		}
		rc = rc == VGL_SQL_DONE ? VGL_SQL_OK : rc;
		vgl_sql_finalize(st);
	}
	if (rc != VGL_SQL_OK)
		vgl_err("store %s: reading the alarms to restore: %s", s->path,
			vgl_sql_errmsg(s->db));
	pthread_mutex_unlock(&s->db_mu);
	return rc == VGL_SQL_OK ? 0 : -1;
}

int vgl_store_read_control(struct vgl_store *s, int64_t now_ms, int64_t since_ms,
			   const struct vgl_store_control_fns *fns, void *ctx)
{
	static const char *const sql[] = {
		"SELECT id, acked_ms, acked_by FROM alarms WHERE cleared_ms IS NULL AND "
		"acked_ms IS NOT NULL",
		"SELECT id, start_ms, end_ms, host, site, label, reason FROM silences WHERE "
		"removed_ms IS NULL AND end_ms > ?1",
		"SELECT id, coalesce(host_id, 0), site, kind, start_ms, end_ms, announced_ms, "
		"cancelled_ms IS NOT NULL FROM maint_windows WHERE end_ms > ?1",
	};
	int rc = VGL_SQL_OK;

	pthread_mutex_lock(&s->db_mu);
	for (int q = 0; q < 3 && rc == VGL_SQL_OK; q++) {
		struct vgl_sql_stmt *st;

		if ((rc = prepare(s, sql[q], &st)) != VGL_SQL_OK)
			break;
		if (q == 1)
			rc = vgl_sql_bind_int64(st, 1, now_ms);
		else if (q == 2)
			rc = vgl_sql_bind_int64(st, 1, since_ms);
		while (rc == VGL_SQL_OK && (rc = vgl_sql_step(st)) == VGL_SQL_ROW) {
			rc = VGL_SQL_OK;
			if (q == 0 && fns->ack) {
				struct vgl_store_ack a = { vgl_sql_column_int64(st, 0),
							   vgl_sql_column_int64(st, 1),
							   col_text(st, 2) };
				fns->ack(ctx, &a);
			} else if (q == 1 && fns->silence) {
				struct vgl_store_silence si = {
					.id = vgl_sql_column_int64(st, 0),
					.start_ms = vgl_sql_column_int64(st, 1),
					.end_ms = vgl_sql_column_int64(st, 2),
					.host = col_text(st, 3), .site = col_text(st, 4),
					.label = col_text(st, 5), .reason = col_text(st, 6),
				};
				fns->silence(ctx, &si);
			} else if (q == 2 && fns->window) {
				struct vgl_store_window w = {
					.id = vgl_sql_column_int64(st, 0),
					.host_id = vgl_sql_column_int64(st, 1),
					.site = col_text(st, 2), .kind = col_text(st, 3),
					.start_ms = vgl_sql_column_int64(st, 4),
					.end_ms = vgl_sql_column_int64(st, 5),
					.announced_ms = vgl_sql_column_int64(st, 6),
					.cancelled = vgl_sql_column_int(st, 7),
				};
				fns->window(ctx, &w);
			}
		}
		if (rc == VGL_SQL_DONE)
			rc = VGL_SQL_OK;
		vgl_sql_finalize(st);
	}
	if (rc != VGL_SQL_OK)
		vgl_err("store %s: reading acknowledgements, silences and maintenance: %s",
			s->path, vgl_sql_errmsg(s->db));
	pthread_mutex_unlock(&s->db_mu);
	return rc == VGL_SQL_OK ? 0 : -1;
}
