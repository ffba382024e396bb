/* The operator's side of alarms; see alarm_db.h for the contract.
 *
 * Invariants this file relies on:
 *  - vigild never writes acked_ms or acked_by, and this file never writes
 *    any other column of alarms: the two processes cannot undo each
 *    other's changes whatever the interleaving;
 *  - a silence changes only from not removed to removed, once.
 */
#include "storage/alarm_db.h"
#include "storage/store.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/vtime.h"

#define ALARM_COLUMNS                                                          \
	"SELECT a.id, h.name, a.site, a.kind, a.rule, a.severity, a.summary, " \
	"a.labels, a.details, a.policy, a.raised_ms, a.acked_ms, a.acked_by, " \
	"a.cleared_ms, a.suppressed_by, a.muted "                              \
	"FROM alarms a LEFT JOIN hosts h ON h.id = a.host_id "

/* ?1 active only ?2 host name ?3 from ?4 to */
#define ALARM_WHERE                                                            \
	"WHERE (?1 = 0 OR a.cleared_ms IS NULL) AND (?2 IS NULL OR h.name = ?2) " \
	"AND a.raised_ms >= ?3 AND a.raised_ms < ?4 "

#define SILENCE_COLUMNS                                                        \
	"SELECT id, host, site, label, start_ms, end_ms, reason, created_by, "  \
	"created_ms, removed_by, removed_ms FROM silences "

enum stmt_id {
	ST_BEGIN,
	ST_COMMIT,
	ST_ROLLBACK,
	ST_READ_BEGIN,
	ST_ALARMS_NEW,
	ST_ALARMS_OLD,
	ST_ALARM,
	ST_ALARM_STATE,
	ST_ACK,
	ST_LOG_ADD,
	ST_LOG,
	ST_OUTBOX,
	ST_HOST_KNOWN,
	ST_SILENCE_ADD,
	ST_SILENCE_GET,
	ST_SILENCE_REMOVE,
	ST_SILENCES_ALL,
	ST_SILENCES_LIVE,
	ST_RESPONSE,
	ST_COUNT
};

static const char *const stmt_sql[ST_COUNT] = {
	[ST_BEGIN] = "BEGIN IMMEDIATE",
	[ST_COMMIT] = "COMMIT",
	[ST_ROLLBACK] = "ROLLBACK",
	[ST_READ_BEGIN] = "BEGIN DEFERRED",
	[ST_ALARMS_NEW] = ALARM_COLUMNS ALARM_WHERE "ORDER BY a.raised_ms DESC, a.id DESC",
	[ST_ALARMS_OLD] = ALARM_COLUMNS ALARM_WHERE "ORDER BY a.raised_ms, a.id",
	[ST_ALARM] = ALARM_COLUMNS "WHERE a.id = ?1",
	[ST_ALARM_STATE] = "SELECT acked_ms, acked_by, cleared_ms FROM alarms WHERE id = ?1",
	/* The WHERE repeats what the caller checked inside the same
	 * transaction: should anything ever write without one, the second
	 * acknowledgement still cannot replace the first. */
	[ST_ACK] = "UPDATE alarms SET acked_ms = ?2, acked_by = ?3 "
		   "WHERE id = ?1 AND acked_ms IS NULL AND cleared_ms IS NULL",
	[ST_LOG_ADD] = "INSERT INTO alarm_log (alarm_id, ts_ms, action, \"by\", text) "
		       "VALUES (?1, ?2, ?3, ?4, ?5)",
	[ST_LOG] = "SELECT id, ts_ms, action, \"by\", text FROM alarm_log WHERE alarm_id = ?1 "
		   "ORDER BY id",
	[ST_OUTBOX] = "SELECT id, channel, event, step, repeat, dedup_key, attempts, "
		      "created_ms, next_ms, delivered_ms, last_error FROM outbox "
		      "WHERE alarm_id = ?1 ORDER BY id",
	[ST_HOST_KNOWN] = "SELECT 1 FROM hosts WHERE name = ?1",
	[ST_SILENCE_ADD] = "INSERT INTO silences (host, site, label, start_ms, end_ms, reason, "
			   "created_by, created_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
	[ST_SILENCE_GET] = "SELECT removed_by, removed_ms FROM silences WHERE id = ?1",
	[ST_SILENCE_REMOVE] = "UPDATE silences SET removed_by = ?2, removed_ms = ?3 "
			      "WHERE id = ?1 AND removed_ms IS NULL",
	[ST_SILENCES_ALL] = SILENCE_COLUMNS "ORDER BY start_ms, id",
	[ST_SILENCES_LIVE] = SILENCE_COLUMNS "WHERE removed_ms IS NULL AND end_ms > ?1 "
					     "ORDER BY start_ms, id",
	/* The report's own columns, suppression and muting included: it
	 * counts what it leaves out. */
	[ST_RESPONSE] = ALARM_COLUMNS "WHERE a.raised_ms >= ?1 AND a.raised_ms < ?2 "
				      "ORDER BY a.raised_ms, a.id",
};

/* PostgreSQL's texts where its dialect differs (storage/sql.h): a
 * parameter first met in "IS NULL" needs its type said. */
#define ALARM_WHERE_PG                                                         \
	"WHERE (?1 = 0 OR a.cleared_ms IS NULL) AND (?2::text IS NULL OR h.name = ?2) " \
	"AND a.raised_ms >= ?3 AND a.raised_ms < ?4 "

static const char *const stmt_sql_pg[ST_COUNT] = {
	[ST_ALARMS_NEW] = ALARM_COLUMNS ALARM_WHERE_PG "ORDER BY a.raised_ms DESC, a.id DESC",
	[ST_ALARMS_OLD] = ALARM_COLUMNS ALARM_WHERE_PG "ORDER BY a.raised_ms, a.id",
	[ST_SILENCE_ADD] = "INSERT INTO silences (host, site, label, start_ms, end_ms, reason, "
			   "created_by, created_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) "
			   "RETURNING id",
};

struct vgl_alarm_db {
	struct vgl_sql *db;
	struct vgl_sql_stmt *st[ST_COUNT];
};

static void set_err(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static void db_err(struct vgl_alarm_db *s, char *err, size_t errlen, const char *what)
{
	set_err(err, errlen, "%s: %s", what, vgl_sql_errmsg(s->db));
}

/* A statement ready for new bindings. */
static struct vgl_sql_stmt *stmt(struct vgl_alarm_db *s, enum stmt_id id)
{
	vgl_sql_reset(s->st[id]);
	vgl_sql_clear_bindings(s->st[id]);
	return s->st[id];
}

static const char *col_text(struct vgl_sql_stmt *st, int i)
{
	return (const char *)vgl_sql_column_text(st, i);
}

static int col_null(struct vgl_sql_stmt *st, int i)
{
	return vgl_sql_column_type(st, i) == VGL_SQL_NULL;
}

/* Binds text or, for NULL, SQL NULL. */
static int bind_text(struct vgl_sql_stmt *st, int i, const char *v)
{
	return v ? vgl_sql_bind_text(st, i, v, -1, VGL_SQL_STATIC) : vgl_sql_bind_null(st, i);
}

/* Runs a statement that returns no rows. VGL_SQL_DONE or the error code. */
static int run_done(struct vgl_sql_stmt *st)
{
	int rc = vgl_sql_step(st);

	vgl_sql_reset(st);
	return rc;
}

int vgl_alarm_db_new(struct vgl_sql *db, struct vgl_alarm_db **out, char *err, size_t errlen)
{
	struct vgl_alarm_db *s;

	*out = NULL;
	s = calloc(1, sizeof(*s));
	if (!s) {
		set_err(err, errlen, "out of memory");
		return -1;
	}
	s->db = db;
	if (vgl_sql_prepare_all(db, stmt_sql, stmt_sql_pg, ST_COUNT, s->st) >= 0) {
		db_err(s, err, errlen, "preparing alarm queries");
		vgl_alarm_db_free(s);
		return -1;
	}
	*out = s;
	return 0;
}

void vgl_alarm_db_free(struct vgl_alarm_db *s)
{
	if (!s)
		return;
	for (int i = 0; i < ST_COUNT; i++)
		vgl_sql_finalize(s->st[i]);
	free(s);
}

static int begin(struct vgl_alarm_db *s, char *err, size_t errlen)
{
	if (run_done(stmt(s, ST_BEGIN)) != VGL_SQL_DONE) {
		db_err(s, err, errlen, "BEGIN");
		return -1;
	}
	return 0;
}

static int commit(struct vgl_alarm_db *s, char *err, size_t errlen)
{
	if (run_done(stmt(s, ST_COMMIT)) != VGL_SQL_DONE) {
		db_err(s, err, errlen, "COMMIT");
		return -1;
	}
	return 0;
}

/* Keeps err: the rollback's own failure is less telling than the cause. */
static void rollback(struct vgl_alarm_db *s)
{
	if (!vgl_sql_get_autocommit(s->db))
		run_done(stmt(s, ST_ROLLBACK));
}

/* ---- alarms ---- */

void vgl_alarm_db_filter_init(struct vgl_alarm_db_filter *f)
{
	memset(f, 0, sizeof(*f));
	f->from_ms = INT64_MIN;
	f->to_ms = INT64_MAX;
}

static void read_alarm(struct vgl_sql_stmt *st, struct vgl_alarm_db_alarm *a)
{
	memset(a, 0, sizeof(*a));
	a->id = vgl_sql_column_int64(st, 0);
	a->host = col_text(st, 1);
	a->site = col_text(st, 2);
	a->kind = col_text(st, 3);
	a->rule = col_text(st, 4);
	a->severity = col_text(st, 5);
	a->summary = col_text(st, 6);
	a->labels = col_text(st, 7);
	a->details = col_text(st, 8);
	a->policy = col_text(st, 9);
	a->raised_ms = vgl_sql_column_int64(st, 10);
	a->acked = !col_null(st, 11);
	a->acked_ms = vgl_sql_column_int64(st, 11);
	a->acked_by = col_text(st, 12);
	a->cleared = !col_null(st, 13);
	a->cleared_ms = vgl_sql_column_int64(st, 13);
	a->suppressed_by = vgl_sql_column_int64(st, 14);
	a->muted = col_text(st, 15);
	a->state = a->cleared ? VGL_ALARM_CLEARED : a->acked ? VGL_ALARM_ACKED : VGL_ALARM_RAISED;
	/* A host row is never deleted, but a NULL from the join must not
	 * reach a printf. */
	if (!a->host)
		a->host = "?";
}

/* Steps st to the end, calling fn per row. 0, fn's value, or -1. */
static int walk_alarms(struct vgl_alarm_db *s, struct vgl_sql_stmt *st, vgl_alarm_db_alarm_fn *fn,
		       void *ctx, char *err, size_t errlen)
{
	int rc, r = 0;

	while ((rc = vgl_sql_step(st)) == VGL_SQL_ROW) {
		struct vgl_alarm_db_alarm a;

		read_alarm(st, &a);
		if ((r = fn(ctx, &a)) != 0)
			break;
	}
	if (r == 0 && rc != VGL_SQL_DONE) {
		db_err(s, err, errlen, "reading alarms");
		r = -1;
	}
	vgl_sql_reset(st);
	return r;
}

int vgl_alarm_db_alarms(struct vgl_alarm_db *s, const struct vgl_alarm_db_filter *f,
			vgl_alarm_db_alarm_fn *fn, void *ctx, char *err, size_t errlen)
{
	struct vgl_sql_stmt *st = stmt(s, f->oldest_first ? ST_ALARMS_OLD : ST_ALARMS_NEW);

	if (vgl_sql_bind_int(st, 1, f->active_only ? 1 : 0) != VGL_SQL_OK ||
	    bind_text(st, 2, f->host) != VGL_SQL_OK ||
	    vgl_sql_bind_int64(st, 3, f->from_ms) != VGL_SQL_OK ||
	    vgl_sql_bind_int64(st, 4, f->to_ms) != VGL_SQL_OK) {
		db_err(s, err, errlen, "reading alarms");
		return -1;
	}
	return walk_alarms(s, st, fn, ctx, err, errlen);
}

struct found {
	vgl_alarm_db_alarm_fn *fn;
	void *ctx;
	int seen;
};

static int on_found(void *ctx, const struct vgl_alarm_db_alarm *a)
{
	struct found *f = ctx;

	f->seen = 1;
	return f->fn(f->ctx, a);
}

int vgl_alarm_db_alarm(struct vgl_alarm_db *s, int64_t id, vgl_alarm_db_alarm_fn *fn, void *ctx,
		       char *err, size_t errlen)
{
	struct vgl_sql_stmt *st = stmt(s, ST_ALARM);
	struct found f = { fn, ctx, 0 };
	int r;

	if (vgl_sql_bind_int64(st, 1, id) != VGL_SQL_OK) {
		db_err(s, err, errlen, "reading alarm");
		return -1;
	}
	r = walk_alarms(s, st, on_found, &f, err, errlen);
	return r == 0 && !f.seen ? 1 : r;
}

int vgl_alarm_db_log(struct vgl_alarm_db *s, int64_t alarm_id, vgl_alarm_db_log_fn *fn,
		     void *ctx, char *err, size_t errlen)
{
	struct vgl_sql_stmt *st = stmt(s, ST_LOG);
	int rc, r = 0;

	if (vgl_sql_bind_int64(st, 1, alarm_id) != VGL_SQL_OK) {
		db_err(s, err, errlen, "reading the alarm log");
		return -1;
	}
	while ((rc = vgl_sql_step(st)) == VGL_SQL_ROW) {
		struct vgl_alarm_db_log l = {
			.id = vgl_sql_column_int64(st, 0), .ts_ms = vgl_sql_column_int64(st, 1),
			.action = col_text(st, 2), .by = col_text(st, 3), .text = col_text(st, 4),
		};

		if ((r = fn(ctx, &l)) != 0)
			break;
	}
	if (r == 0 && rc != VGL_SQL_DONE) {
		db_err(s, err, errlen, "reading the alarm log");
		r = -1;
	}
	vgl_sql_reset(st);
	return r;
}

int vgl_alarm_db_outbox(struct vgl_alarm_db *s, int64_t alarm_id, vgl_alarm_db_notice_fn *fn,
			void *ctx, char *err, size_t errlen)
{
	struct vgl_sql_stmt *st = stmt(s, ST_OUTBOX);
	int rc, r = 0;

	if (vgl_sql_bind_int64(st, 1, alarm_id) != VGL_SQL_OK) {
		db_err(s, err, errlen, "reading the outbox");
		return -1;
	}
	while ((rc = vgl_sql_step(st)) == VGL_SQL_ROW) {
		struct vgl_alarm_db_notice n = {
			.id = vgl_sql_column_int64(st, 0), .channel = col_text(st, 1),
			.event = col_text(st, 2), .step = vgl_sql_column_int64(st, 3),
			.repeat = vgl_sql_column_int64(st, 4), .dedup_key = col_text(st, 5),
			.attempts = vgl_sql_column_int64(st, 6),
			.created_ms = vgl_sql_column_int64(st, 7),
			.next_ms = vgl_sql_column_int64(st, 8), .delivered = !col_null(st, 9),
			.delivered_ms = vgl_sql_column_int64(st, 9), .last_error = col_text(st, 10),
		};

		if ((r = fn(ctx, &n)) != 0)
			break;
	}
	if (r == 0 && rc != VGL_SQL_DONE) {
		db_err(s, err, errlen, "reading the outbox");
		r = -1;
	}
	vgl_sql_reset(st);
	return r;
}

static int log_add(struct vgl_alarm_db *s, int64_t id, int64_t ts, const char *action,
		   const char *by, const char *text, char *err, size_t errlen)
{
	struct vgl_sql_stmt *st = stmt(s, ST_LOG_ADD);

	if (vgl_sql_bind_int64(st, 1, id) != VGL_SQL_OK ||
	    vgl_sql_bind_int64(st, 2, ts) != VGL_SQL_OK ||
	    vgl_sql_bind_text(st, 3, action, -1, VGL_SQL_STATIC) != VGL_SQL_OK ||
	    vgl_sql_bind_text(st, 4, by, -1, VGL_SQL_STATIC) != VGL_SQL_OK ||
	    bind_text(st, 5, text) != VGL_SQL_OK || run_done(st) != VGL_SQL_DONE) {
		db_err(s, err, errlen, "writing the alarm log");
		return -1;
	}
	return 0;
}

/* Inside the transaction: whether alarm id may be acknowledged (OK), or
 * why not (REFUSED, err filled). want_ack 0: only that it exists. */
static enum vgl_alarm_db_result alarm_check(struct vgl_alarm_db *s, int64_t id, int want_ack,
					    char *err, size_t errlen)
{
	struct vgl_sql_stmt *st = stmt(s, ST_ALARM_STATE);
	enum vgl_alarm_db_result r = VGL_ALARM_DB_OK;
	char b[VGL_ISO_LEN];
	int rc;

	if (vgl_sql_bind_int64(st, 1, id) != VGL_SQL_OK)
		goto out_db;
	rc = vgl_sql_step(st);
	if (rc == VGL_SQL_DONE) {
		set_err(err, errlen, "alarm %lld: no such alarm", (long long)id);
		r = VGL_ALARM_DB_REFUSED;
	} else if (rc != VGL_SQL_ROW) {
		goto out_db;
	} else if (want_ack && !col_null(st, 0)) {
		const char *who = col_text(st, 1);

		set_err(err, errlen, "alarm %lld: already acknowledged by %s at %s", (long long)id,
			who ? who : "?", vgl_format_iso(vgl_sql_column_int64(st, 0), b));
		r = VGL_ALARM_DB_REFUSED;
	} else if (want_ack && !col_null(st, 2)) {
		set_err(err, errlen, "alarm %lld: cleared at %s: nothing to acknowledge",
			(long long)id, vgl_format_iso(vgl_sql_column_int64(st, 2), b));
		r = VGL_ALARM_DB_REFUSED;
	}
	vgl_sql_reset(st);
	return r;

out_db:
	db_err(s, err, errlen, "reading alarm");
	vgl_sql_reset(st);
	return VGL_ALARM_DB_ERROR;
}

enum vgl_alarm_db_result vgl_alarm_db_ack(struct vgl_alarm_db *s, int64_t id, const char *by,
					  const char *comment, int64_t now_ms, char *err,
					  size_t errlen)
{
	enum vgl_alarm_db_result r;
	struct vgl_sql_stmt *st;

	if (!by || !*by) {
		set_err(err, errlen, "no name to record the acknowledgement under");
		return VGL_ALARM_DB_REFUSED;
	}
	if (begin(s, err, errlen) != 0)
		return VGL_ALARM_DB_ERROR;
	r = alarm_check(s, id, 1, err, errlen);
	if (r != VGL_ALARM_DB_OK)
		goto out_rollback;
	st = stmt(s, ST_ACK);
	if (vgl_sql_bind_int64(st, 1, id) != VGL_SQL_OK ||
	    vgl_sql_bind_int64(st, 2, now_ms) != VGL_SQL_OK ||
	    vgl_sql_bind_text(st, 3, by, -1, VGL_SQL_STATIC) != VGL_SQL_OK ||
	    run_done(st) != VGL_SQL_DONE) {
		db_err(s, err, errlen, "acknowledging alarm");
		r = VGL_ALARM_DB_ERROR;
		goto out_rollback;
	}
	if (vgl_sql_changes(s->db) != 1) {
		set_err(err, errlen, "alarm %lld: changed while acknowledging it; try again",
			(long long)id);
		r = VGL_ALARM_DB_REFUSED;
		goto out_rollback;
	}
	if (log_add(s, id, now_ms, "acknowledged", by, comment && *comment ? comment : NULL, err,
		    errlen) != 0 ||
	    commit(s, err, errlen) != 0) {
		r = VGL_ALARM_DB_ERROR;
		goto out_rollback;
	}
	return VGL_ALARM_DB_OK;

out_rollback:
	rollback(s);
	return r;
}

enum vgl_alarm_db_result vgl_alarm_db_comment(struct vgl_alarm_db *s, int64_t id, const char *by,
					      const char *text, int64_t now_ms, char *err,
					      size_t errlen)
{
	enum vgl_alarm_db_result r;

	if (!text || !*text) {
		set_err(err, errlen, "an empty comment says nothing");
		return VGL_ALARM_DB_REFUSED;
	}
	if (!by || !*by) {
		set_err(err, errlen, "no name to record the comment under");
		return VGL_ALARM_DB_REFUSED;
	}
	/* One transaction, so the alarm checked is the alarm written to. */
	if (begin(s, err, errlen) != 0)
		return VGL_ALARM_DB_ERROR;
	r = alarm_check(s, id, 0, err, errlen);
	if (r != VGL_ALARM_DB_OK)
		goto out_rollback;
	if (log_add(s, id, now_ms, "comment", by, text, err, errlen) != 0 ||
	    commit(s, err, errlen) != 0) {
		r = VGL_ALARM_DB_ERROR;
		goto out_rollback;
	}
	return VGL_ALARM_DB_OK;

out_rollback:
	rollback(s);
	return r;
}

/* ---- silences ---- */

int vgl_alarm_db_host_known(struct vgl_alarm_db *s, const char *name, int *known, char *err,
			    size_t errlen)
{
	struct vgl_sql_stmt *st = stmt(s, ST_HOST_KNOWN);
	int rc;

	*known = 0;
	if (vgl_sql_bind_text(st, 1, name, -1, VGL_SQL_STATIC) != VGL_SQL_OK)
		goto out_db;
	rc = vgl_sql_step(st);
	if (rc == VGL_SQL_ROW)
		*known = 1;
	else if (rc != VGL_SQL_DONE)
		goto out_db;
	vgl_sql_reset(st);
	return 0;

out_db:
	db_err(s, err, errlen, "looking up host");
	vgl_sql_reset(st);
	return -1;
}

static enum vgl_alarm_db_result check_silence(const struct vgl_alarm_db_silence_add *a,
					      char *err, size_t errlen)
{
	const char *eq = a->label ? strchr(a->label, '=') : NULL;

	if (!a->host && !a->site && !a->label) {
		/* A silence of everything would hide an outage of the whole
		 * fleet: the operator must say what it is for. */
		set_err(err, errlen, "a silence needs at least one of a host, a site and a label");
		return VGL_ALARM_DB_REFUSED;
	}
	if ((a->host && !*a->host) || (a->site && !*a->site)) {
		set_err(err, errlen, "empty host or site name");
		return VGL_ALARM_DB_REFUSED;
	}
	if (a->label && (!eq || eq == a->label)) {
		set_err(err, errlen, "label '%s' is not KEY=VALUE", a->label);
		return VGL_ALARM_DB_REFUSED;
	}
	if (a->end_ms <= a->start_ms) {
		set_err(err, errlen, "the silence must end after it starts");
		return VGL_ALARM_DB_REFUSED;
	}
	if (!a->reason || !*a->reason) {
		set_err(err, errlen, "a reason is required");
		return VGL_ALARM_DB_REFUSED;
	}
	if (!a->by || !*a->by) {
		set_err(err, errlen, "no name to record the silence under");
		return VGL_ALARM_DB_REFUSED;
	}
	return VGL_ALARM_DB_OK;
}

enum vgl_alarm_db_result vgl_alarm_db_silence_add(struct vgl_alarm_db *s,
						  const struct vgl_alarm_db_silence_add *a,
						  int64_t *id_out, char *err, size_t errlen)
{
	enum vgl_alarm_db_result r = check_silence(a, err, errlen);
	struct vgl_sql_stmt *st;
	int known = 0;

	if (r != VGL_ALARM_DB_OK)
		return r;
	if (begin(s, err, errlen) != 0)
		return VGL_ALARM_DB_ERROR;
	if (a->host) {
		if (vgl_alarm_db_host_known(s, a->host, &known, err, errlen) != 0) {
			r = VGL_ALARM_DB_ERROR;
			goto out_rollback;
		}
		if (!known) {
			/* A mistyped name would silence nothing, and say so
			 * only when the page nobody expected arrives. */
			set_err(err, errlen, "unknown host '%s' (not in the hosts table)", a->host);
			r = VGL_ALARM_DB_REFUSED;
			goto out_rollback;
		}
	}
	st = stmt(s, ST_SILENCE_ADD);
	if (bind_text(st, 1, a->host) != VGL_SQL_OK || bind_text(st, 2, a->site) != VGL_SQL_OK ||
	    bind_text(st, 3, a->label) != VGL_SQL_OK ||
	    vgl_sql_bind_int64(st, 4, a->start_ms) != VGL_SQL_OK ||
	    vgl_sql_bind_int64(st, 5, a->end_ms) != VGL_SQL_OK ||
	    vgl_sql_bind_text(st, 6, a->reason, -1, VGL_SQL_STATIC) != VGL_SQL_OK ||
	    vgl_sql_bind_text(st, 7, a->by, -1, VGL_SQL_STATIC) != VGL_SQL_OK ||
	    vgl_sql_bind_int64(st, 8, a->now_ms) != VGL_SQL_OK || run_done(st) != VGL_SQL_DONE) {
		db_err(s, err, errlen, "adding silence");
		r = VGL_ALARM_DB_ERROR;
		goto out_rollback;
	}
	if (id_out)
		*id_out = vgl_sql_last_insert_rowid(s->db);
	if (commit(s, err, errlen) != 0) {
		r = VGL_ALARM_DB_ERROR;
		goto out_rollback;
	}
	return VGL_ALARM_DB_OK;

out_rollback:
	rollback(s);
	return r;
}

enum vgl_alarm_db_result vgl_alarm_db_silence_remove(struct vgl_alarm_db *s, int64_t id,
						     const char *by, int64_t now_ms, char *err,
						     size_t errlen)
{
	enum vgl_alarm_db_result r = VGL_ALARM_DB_OK;
	struct vgl_sql_stmt *st;
	char b[VGL_ISO_LEN];
	int rc;

	if (!by || !*by) {
		set_err(err, errlen, "no name to record the removal under");
		return VGL_ALARM_DB_REFUSED;
	}
	if (begin(s, err, errlen) != 0)
		return VGL_ALARM_DB_ERROR;
	st = stmt(s, ST_SILENCE_GET);
	if (vgl_sql_bind_int64(st, 1, id) != VGL_SQL_OK) {
		rc = VGL_SQL_ERROR;
	} else {
		rc = vgl_sql_step(st);
		if (rc == VGL_SQL_DONE) {
			set_err(err, errlen, "silence %lld: no such silence", (long long)id);
			r = VGL_ALARM_DB_REFUSED;
		} else if (rc == VGL_SQL_ROW && !col_null(st, 1)) {
			const char *who = col_text(st, 0);

			set_err(err, errlen, "silence %lld: already removed by %s at %s",
				(long long)id, who ? who : "?",
				vgl_format_iso(vgl_sql_column_int64(st, 1), b));
			r = VGL_ALARM_DB_REFUSED;
		}
	}
	if (rc != VGL_SQL_ROW && rc != VGL_SQL_DONE) {
		db_err(s, err, errlen, "reading silence");
		r = VGL_ALARM_DB_ERROR;
	}
	vgl_sql_reset(st);
	if (r != VGL_ALARM_DB_OK)
		goto out_rollback;
	st = stmt(s, ST_SILENCE_REMOVE);
	if (vgl_sql_bind_int64(st, 1, id) != VGL_SQL_OK ||
	    vgl_sql_bind_text(st, 2, by, -1, VGL_SQL_STATIC) != VGL_SQL_OK ||
	    vgl_sql_bind_int64(st, 3, now_ms) != VGL_SQL_OK || run_done(st) != VGL_SQL_DONE ||
	    vgl_sql_changes(s->db) != 1 || commit(s, err, errlen) != 0) {
		db_err(s, err, errlen, "removing silence");
		r = VGL_ALARM_DB_ERROR;
		goto out_rollback;
	}
	return VGL_ALARM_DB_OK;

out_rollback:
	rollback(s);
	return r;
}

int vgl_alarm_db_silences(struct vgl_alarm_db *s, int all, int64_t now_ms,
			  vgl_alarm_db_silence_fn *fn, void *ctx, char *err, size_t errlen)
{
	struct vgl_sql_stmt *st = stmt(s, all ? ST_SILENCES_ALL : ST_SILENCES_LIVE);
	int rc, r = 0;

	if (!all && vgl_sql_bind_int64(st, 1, now_ms) != VGL_SQL_OK) {
		db_err(s, err, errlen, "reading silences");
		return -1;
	}
	while ((rc = vgl_sql_step(st)) == VGL_SQL_ROW) {
		struct vgl_alarm_db_silence si = {
			.id = vgl_sql_column_int64(st, 0), .host = col_text(st, 1),
			.site = col_text(st, 2), .label = col_text(st, 3),
			.start_ms = vgl_sql_column_int64(st, 4),
			.end_ms = vgl_sql_column_int64(st, 5), .reason = col_text(st, 6),
			.created_by = col_text(st, 7), .created_ms = vgl_sql_column_int64(st, 8),
			.removed = !col_null(st, 10), .removed_by = col_text(st, 9),
			.removed_ms = vgl_sql_column_int64(st, 10),
		};

		if ((r = fn(ctx, &si)) != 0)
			break;
	}
	if (r == 0 && rc != VGL_SQL_DONE) {
		db_err(s, err, errlen, "reading silences");
		r = -1;
	}
	vgl_sql_reset(st);
	return r;
}

const char *vgl_alarm_db_silence_status(const struct vgl_alarm_db_silence *si, int64_t now_ms)
{
	if (si->removed)
		return "removed";
	if (now_ms >= si->end_ms)
		return "expired";
	return now_ms < si->start_ms ? "pending" : "active";
}

/* ---- the response report ---- */

const char *vgl_resp_verdict_name(enum vgl_resp_verdict v)
{
	switch (v) {
	case VGL_RESP_MET: return "met";
	case VGL_RESP_MISSED: return "missed";
	case VGL_RESP_RUNNING: return "running";
	case VGL_RESP_NOT_NEEDED: return "not_needed";
	}
	return "?";
}

int vgl_resp_permille(size_t met, size_t due)
{
	if (due == 0)
		return -1;
	/* Counts of alarms in a month: far below where 2000 * met overflows. */
	return (int)((2000u * (unsigned long long)met + due) / (2u * (unsigned long long)due));
}

/* Done at done_ms (when done) against commitment within_ms for an alarm
 * raised at raised_ms, as of now_ms. Exactly at the commitment is met. */
static enum vgl_resp_verdict verdict(int done, int64_t raised_ms, int64_t done_ms,
				     int64_t within_ms, int64_t now_ms)
{
	if (done)
		return done_ms - raised_ms <= within_ms ? VGL_RESP_MET : VGL_RESP_MISSED;
	return now_ms - raised_ms > within_ms ? VGL_RESP_MISSED : VGL_RESP_RUNNING;
}

static void group_add(struct vgl_resp_group *g, const struct vgl_resp_alarm *a)
{
	g->alarms++;
	g->ack_met += a->ack == VGL_RESP_MET;
	g->ack_due += a->ack == VGL_RESP_MET || a->ack == VGL_RESP_MISSED;
	g->ack_running += a->ack == VGL_RESP_RUNNING;
	g->clear_met += a->clear == VGL_RESP_MET;
	g->clear_due += a->clear == VGL_RESP_MET || a->clear == VGL_RESP_MISSED;
	g->clear_running += a->clear == VGL_RESP_RUNNING;
}

static int str_eq(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

/* The group named name in *gs (appended if new). NULL when out of memory. */
static struct vgl_resp_group *group_of(struct vgl_resp_group **gs, size_t *n, const char *name)
{
	struct vgl_resp_group *g, *ng;

	for (size_t i = 0; i < *n; i++)
		if (str_eq((*gs)[i].name, name))
			return &(*gs)[i];
	ng = realloc(*gs, (*n + 1) * sizeof(**gs));
	if (!ng)
		return NULL;
	*gs = ng;
	g = &ng[(*n)++];
	memset(g, 0, sizeof(*g));
	if (name && !(g->name = strdup(name))) {
		(*n)--;
		return NULL;
	}
	return g;
}

static int sev_rank(const char *name)
{
	enum vgl_severity s;

	return name && vgl_severity_parse(name, &s) == 0 ? (int)s : VGL_SEV_COUNT;
}

static int cmp_severity(const void *x, const void *y)
{
	const struct vgl_resp_group *a = x, *b = y;
	int ra = sev_rank(a->name), rb = sev_rank(b->name);

	if (ra != rb)
		return ra < rb ? -1 : 1;
	return a->name && b->name ? strcmp(a->name, b->name) : !a->name - !b->name;
}

static int cmp_site(const void *x, const void *y)
{
	const struct vgl_resp_group *a = x, *b = y;

	if (!a->name || !b->name)
		return !a->name - !b->name;
	return strcmp(a->name, b->name);
}

struct resp_build {
	struct vgl_alarm_response *r;
	size_t cap;
};

static int dup_or_null(char **out, const char *s)
{
	*out = NULL;
	return s && !(*out = strdup(s)) ? -1 : 0;
}

/* 1 when out of memory. */
static int on_resp(void *ctx, const struct vgl_alarm_db_alarm *a)
{
	struct resp_build *b = ctx;
	struct vgl_alarm_response *r = b->r;
	struct vgl_resp_alarm *x;

	/* Suppressed first: a suppressed alarm's page went out under its
	 * root, whatever else muted it. */
	if (a->suppressed_by) {
		r->suppressed++;
		return 0;
	}
	if (a->muted) {
		r->muted++;
		return 0;
	}
	if (r->n == b->cap) {
		size_t ncap = b->cap ? b->cap * 2 : 64;
		struct vgl_resp_alarm *na = realloc(r->alarms, ncap * sizeof(*na));

		if (!na)
			return 1;
		r->alarms = na;
		b->cap = ncap;
	}
	x = &r->alarms[r->n];
	memset(x, 0, sizeof(*x));
	x->id = a->id;
	x->raised_ms = a->raised_ms;
	x->acked = a->acked;
	x->acked_ms = a->acked_ms;
	x->ack_ms = a->acked ? a->acked_ms - a->raised_ms : 0;
	x->cleared = a->cleared;
	x->cleared_ms = a->cleared_ms;
	x->clear_ms = a->cleared ? a->cleared_ms - a->raised_ms : 0;
	/* An alarm that went away before anyone had to answer it owed no
	 * acknowledgement: counting it as a miss would punish the team for
	 * every self-healing blip. */
	if (!a->acked && a->cleared && a->cleared_ms - a->raised_ms <= r->ack_commit_ms)
		x->ack = VGL_RESP_NOT_NEEDED;
	else
		x->ack = verdict(a->acked, a->raised_ms, a->acked_ms, r->ack_commit_ms, r->now_ms);
	x->clear = verdict(a->cleared, a->raised_ms, a->cleared_ms, r->clear_commit_ms, r->now_ms);
	r->n++;     /* counted now, so a failed strdup below is freed with the rest */
	if (dup_or_null(&x->host, a->host) || dup_or_null(&x->site, a->site) ||
	    dup_or_null(&x->severity, a->severity) || dup_or_null(&x->kind, a->kind) ||
	    dup_or_null(&x->rule, a->rule) || dup_or_null(&x->summary, a->summary) ||
	    dup_or_null(&x->acked_by, a->acked_by))
		return 1;
	return 0;
}

static int build_groups(struct vgl_alarm_response *r)
{
	for (size_t i = 0; i < r->n; i++) {
		const struct vgl_resp_alarm *a = &r->alarms[i];
		struct vgl_resp_group *gs = group_of(&r->by_severity, &r->n_severity, a->severity);
		struct vgl_resp_group *gt;

		if (!gs)
			return -1;
		group_add(gs, a);
		gt = group_of(&r->by_site, &r->n_site, a->site);
		if (!gt)
			return -1;
		group_add(gt, a);
		group_add(&r->total, a);
	}
	if (r->n_severity)
		qsort(r->by_severity, r->n_severity, sizeof(*r->by_severity), cmp_severity);
	if (r->n_site)
		qsort(r->by_site, r->n_site, sizeof(*r->by_site), cmp_site);
	return 0;
}

int vgl_alarm_db_response(struct vgl_alarm_db *s, int64_t from_ms, int64_t to_ms,
			  int64_t now_ms, int64_t ack_commit_ms, int64_t clear_commit_ms,
			  struct vgl_alarm_response **out, char *err, size_t errlen)
{
	struct vgl_alarm_response *r;
	struct resp_build b = { 0 };
	struct vgl_sql_stmt *st;
	int rc;

	*out = NULL;
	if (ack_commit_ms <= 0 || clear_commit_ms <= 0) {
		set_err(err, errlen, "commitments must be positive");
		return -1;
	}
	r = calloc(1, sizeof(*r));
	if (!r) {
		set_err(err, errlen, "out of memory");
		return -1;
	}
	r->from_ms = from_ms;
	r->to_ms = to_ms;
	r->now_ms = now_ms;
	r->ack_commit_ms = ack_commit_ms;
	r->clear_commit_ms = clear_commit_ms;
	b.r = r;
	/* One statement is one snapshot already; the explicit one keeps it
	 * so should the report ever read more than one. */
	if (run_done(stmt(s, ST_READ_BEGIN)) != VGL_SQL_DONE) {
		db_err(s, err, errlen, "BEGIN");
		goto out_free;
	}
	st = stmt(s, ST_RESPONSE);
	if (vgl_sql_bind_int64(st, 1, from_ms) != VGL_SQL_OK ||
	    vgl_sql_bind_int64(st, 2, to_ms) != VGL_SQL_OK) {
		db_err(s, err, errlen, "reading alarms");
		rollback(s);
		goto out_free;
	}
	rc = walk_alarms(s, st, on_resp, &b, err, errlen);
	rollback(s);
	if (rc > 0) {
		set_err(err, errlen, "out of memory");
		goto out_free;
	}
	if (rc < 0)
		goto out_free;
	if (build_groups(r) != 0) {
		set_err(err, errlen, "out of memory");
		goto out_free;
	}
	*out = r;
	return 0;

out_free:
	vgl_alarm_response_free(r);
	return -1;
}

void vgl_alarm_response_free(struct vgl_alarm_response *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n; i++) {
		struct vgl_resp_alarm *a = &r->alarms[i];

		free(a->host);
		free(a->site);
		free(a->severity);
		free(a->kind);
		free(a->rule);
		free(a->summary);
		free(a->acked_by);
	}
	for (size_t i = 0; i < r->n_severity; i++)
		free(r->by_severity[i].name);
	for (size_t i = 0; i < r->n_site; i++)
		free(r->by_site[i].name);
	free(r->alarms);
	free(r->by_severity);
	free(r->by_site);
	free(r);
}
