/* The SLA's inputs in the database; see sla_db.h for the contract.
 *
 * Invariants this file relies on:
 *  - per host, intervals never overlap (the daemon and vgl_query_interval_add
 *    keep it), so the intervals touching a month are those starting in it
 *    plus at most the one that started last before it;
 *  - maint_windows rows change only from not cancelled to cancelled (the
 *    schema's triggers), so a report computed twice from the same rows and
 *    the same "now" gives the same numbers.
 */
#include "storage/sla_db.h"
#include "storage/store.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#define MAINT_COLUMNS                                                         \
	"SELECT m.id, h.name, m.site, m.kind, m.start_ms, m.end_ms, "         \
	"m.announced_ms, m.note, m.created_by, m.created_ms, m.cancelled_by, " \
	"m.cancelled_ms, m.cancel_note "                                      \
	"FROM maint_windows m LEFT JOIN hosts h ON h.id = m.host_id "

/* What the report shows of an interval, and no more: intervals_host_cover
 * holds exactly these, so each extra column would widen the index. */
#define INTERVAL_COLUMNS "id, cause, start_ms, end_ms, note, opened_by"

enum stmt_id {
	ST_HOST_ID,
	ST_HOST_ENSURE,
	ST_BEGIN,
	ST_COMMIT,
	ST_ROLLBACK,
	ST_READ_BEGIN,
	ST_EVENT,
	ST_MAINT_INSERT,
	ST_MAINT_GET,
	ST_MAINT_CANCEL,
	ST_MAINT_LIST,
	ST_MAINT_HOST,
	ST_MAINT_MAX_LEN,
	ST_INTERVAL_BEFORE,
	ST_INTERVALS,
	ST_RUNS,
	ST_COUNTERS,
	ST_COUNTER_UPSERT,
	ST_COUNT
};

static const char *const stmt_sql[ST_COUNT] = {
	[ST_HOST_ID] = "SELECT id FROM hosts WHERE name = ?1",
	/* The same upsert by name as the daemon's host sync, so a row made
	 * here is the row it later refreshes. */
	[ST_HOST_ENSURE] =
		"INSERT INTO hosts (name, address, site, service, customer) "
		"VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT(name) DO NOTHING",
	[ST_BEGIN] = "BEGIN IMMEDIATE",
	[ST_COMMIT] = "COMMIT",
	[ST_ROLLBACK] = "ROLLBACK",
	[ST_READ_BEGIN] = "BEGIN DEFERRED",
	[ST_EVENT] = "INSERT INTO events (ts_ms, host_id, interval_id, kind, detail) "
		     "VALUES (?1, ?2, NULL, ?3, ?4)",
	[ST_MAINT_INSERT] =
		"INSERT INTO maint_windows (host_id, site, kind, start_ms, end_ms, "
		"announced_ms, note, created_by, created_ms) "
		"VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
	[ST_MAINT_GET] = "SELECT host_id, cancelled_ms, cancelled_by FROM maint_windows "
			 "WHERE id = ?1",
	[ST_MAINT_CANCEL] =
		"UPDATE maint_windows SET cancelled_by = ?2, cancelled_ms = ?3, "
		"cancel_note = ?4 WHERE id = ?1 AND cancelled_ms IS NULL",
	/* ?1 from ?2 to ?3 include cancelled ?4 host name ?5 site ?6 site hosts */
	[ST_MAINT_LIST] =
		MAINT_COLUMNS
		"WHERE m.start_ms < ?2 AND m.end_ms > ?1 AND (?3 OR m.cancelled_ms IS NULL) "
		"AND ((?4 IS NULL AND ?5 IS NULL) OR h.name = ?4 OR m.site = ?5 "
		"OR (?6 AND h.site = ?5)) "
		"ORDER BY m.start_ms, m.id",
	/* Two arms rather than one OR, so each uses its partial index. ?5 is
	 * the longest window's length: a window ending after ?3 started after
	 * ?3 - ?5, which bounds each index range on both sides (without it,
	 * every report walks each host's and site's whole history). */
	[ST_MAINT_HOST] =
		MAINT_COLUMNS
		"WHERE m.host_id = ?1 AND m.start_ms < ?4 AND m.start_ms >= ?3 - ?5 "
		"AND m.end_ms > ?3 AND m.cancelled_ms IS NULL "
		"UNION ALL "
		MAINT_COLUMNS
		"WHERE m.site = ?2 AND m.start_ms < ?4 AND m.start_ms >= ?3 - ?5 "
		"AND m.end_ms > ?3 AND m.cancelled_ms IS NULL "
		"ORDER BY 5, 1",
	/* One pass over the windows per report (or per call outside one). */
	[ST_MAINT_MAX_LEN] =
		"SELECT coalesce(max(end_ms - start_ms), 0) FROM maint_windows",
	/* Two statements rather than one UNION, so that neither needs a
	 * sorter, and both only read intervals_host_cover, which holds every
	 * column they return (no table look-ups). The one before ?2 is
	 * dropped by the caller unless it reaches into the range. */
	[ST_INTERVAL_BEFORE] =
		"SELECT " INTERVAL_COLUMNS " FROM intervals "
		"WHERE host_id = ?1 AND start_ms < ?2 ORDER BY start_ms DESC, id DESC LIMIT 1",
	[ST_INTERVALS] =
		"SELECT " INTERVAL_COLUMNS " FROM intervals "
		"WHERE host_id = ?1 AND start_ms >= ?2 AND start_ms < ?3 "
		"ORDER BY start_ms, id",
	[ST_RUNS] =
		"SELECT started_ms, max(heartbeat_ms, coalesce(stopped_ms, heartbeat_ms)) AS e "
		"FROM runs WHERE started_ms < ?2 AND e > ?1 ORDER BY started_ms, id",
	[ST_COUNTERS] =
		"SELECT ts_ms, total, failed, source FROM ("
		" SELECT * FROM (SELECT ts_ms, total, failed, source FROM counter_samples"
		"  WHERE host_id = ?1 AND ts_ms < ?2 ORDER BY ts_ms DESC LIMIT 1)"
		" UNION ALL"
		" SELECT ts_ms, total, failed, source FROM counter_samples"
		"  WHERE host_id = ?1 AND ts_ms >= ?2 AND ts_ms < ?3"
		") ORDER BY ts_ms",
	/* The WHERE makes an identical row a no-op, so changes() tells new or
	 * changed rows from repeats. */
	[ST_COUNTER_UPSERT] =
		"INSERT INTO counter_samples (host_id, ts_ms, total, failed, source) "
		"VALUES (?1, ?2, ?3, ?4, 'import') "
		"ON CONFLICT(host_id, ts_ms) DO UPDATE SET total = excluded.total, "
		"failed = excluded.failed, source = excluded.source "
		"WHERE total IS NOT excluded.total OR failed IS NOT excluded.failed "
		"OR source IS NOT excluded.source",
};

/* PostgreSQL's texts where its dialect differs (storage/sql.h); the rest
 * are the same. */
static const char *const stmt_sql_pg[ST_COUNT] = {
	[ST_MAINT_INSERT] =
		"INSERT INTO maint_windows (host_id, site, kind, start_ms, end_ms, "
		"announced_ms, note, created_by, created_ms) "
		"VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) RETURNING id",
	[ST_MAINT_LIST] =
		MAINT_COLUMNS
		"WHERE m.start_ms < ?2 AND m.end_ms > ?1 AND (?3::boolean OR m.cancelled_ms IS NULL) "
		"AND ((?4::text IS NULL AND ?5::text IS NULL) OR h.name = ?4 OR m.site = ?5 "
		"OR (?6::boolean AND h.site = ?5)) "
		"ORDER BY m.start_ms, m.id",
	[ST_MAINT_HOST] =
		MAINT_COLUMNS
		"WHERE m.host_id = ?1 AND m.start_ms < ?4 AND m.start_ms >= ?3::bigint - ?5::bigint "
		"AND m.end_ms > ?3 AND m.cancelled_ms IS NULL "
		"UNION ALL "
		MAINT_COLUMNS
		"WHERE m.site = ?2 AND m.start_ms < ?4 AND m.start_ms >= ?3::bigint - ?5::bigint "
		"AND m.end_ms > ?3 AND m.cancelled_ms IS NULL "
		"ORDER BY 5, 1",
	[ST_RUNS] =
		"SELECT started_ms, e FROM (SELECT started_ms, id, "
		"GREATEST(heartbeat_ms, coalesce(stopped_ms, heartbeat_ms)) AS e FROM runs) r "
		"WHERE started_ms < ?2 AND e > ?1 ORDER BY started_ms, id",
	[ST_COUNTERS] =
		"SELECT ts_ms, total, failed, source FROM ("
		" SELECT * FROM (SELECT ts_ms, total, failed, source FROM counter_samples"
		"  WHERE host_id = ?1 AND ts_ms < ?2 ORDER BY ts_ms DESC LIMIT 1) b"
		" UNION ALL"
		" SELECT ts_ms, total, failed, source FROM counter_samples"
		"  WHERE host_id = ?1 AND ts_ms >= ?2 AND ts_ms < ?3"
		") c ORDER BY ts_ms",
	[ST_COUNTER_UPSERT] =
		"INSERT INTO counter_samples (host_id, ts_ms, total, failed, source) "
		"VALUES (?1, ?2, ?3, ?4, 'import') "
		"ON CONFLICT(host_id, ts_ms) DO UPDATE SET total = excluded.total, "
		"failed = excluded.failed, source = excluded.source "
		"WHERE counter_samples.total IS DISTINCT FROM excluded.total "
		"OR counter_samples.failed IS DISTINCT FROM excluded.failed "
		"OR counter_samples.source IS DISTINCT FROM excluded.source",
};

struct vgl_sla_db {
	struct vgl_sql *db;
	struct vgl_sql_stmt *st[ST_COUNT];
	int in_snapshot;                /* maint_max_len holds for the snapshot */
	int64_t maint_max_len;
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

static void db_err(struct vgl_sla_db *s, char *err, size_t errlen, const char *what)
{
	set_err(err, errlen, "%s: %s", what, vgl_sql_errmsg(s->db));
}

/* A statement ready for new bindings. */
static struct vgl_sql_stmt *stmt(struct vgl_sla_db *s, enum stmt_id id)
{
	vgl_sql_reset(s->st[id]);
	vgl_sql_clear_bindings(s->st[id]);
	return s->st[id];
}

static const char *col_text(struct vgl_sql_stmt *st, int i)
{
	return (const char *)vgl_sql_column_text(st, i);
}

int vgl_sla_db_new(struct vgl_sql *db, struct vgl_sla_db **out, char *err, size_t errlen)
{
	struct vgl_sla_db *s;

	*out = NULL;
	s = calloc(1, sizeof(*s));
	if (!s) {
		set_err(err, errlen, "out of memory");
		return -1;
	}
	s->db = db;
	if (vgl_sql_prepare_all(db, stmt_sql, stmt_sql_pg, ST_COUNT, s->st) >= 0) {
		db_err(s, err, errlen, "preparing SLA queries");
		goto out_free_db;
	}
	*out = s;
	return 0;

out_free_db:
	vgl_sla_db_free(s);
	return -1;
}

void vgl_sla_db_free(struct vgl_sla_db *s)
{
	if (!s)
		return;
	for (int i = 0; i < ST_COUNT; i++)
		vgl_sql_finalize(s->st[i]);
	free(s);
}

/* Runs a statement that returns no rows. VGL_SQL_DONE or the error code. */
static int run_done(struct vgl_sql_stmt *st)
{
	int rc = vgl_sql_step(st);

	vgl_sql_reset(st);
	return rc;
}

int vgl_sla_db_host_id(struct vgl_sla_db *s, const char *name, int64_t *id, char *err,
		       size_t errlen)
{
	struct vgl_sql_stmt *st = stmt(s, ST_HOST_ID);
	int rc;

	*id = 0;
	if (vgl_sql_bind_text(st, 1, name, -1, VGL_SQL_STATIC) != VGL_SQL_OK)
		goto out_db;
	rc = vgl_sql_step(st);
	if (rc == VGL_SQL_ROW)
		*id = vgl_sql_column_int64(st, 0);
	else if (rc != VGL_SQL_DONE)
		goto out_db;
	vgl_sql_reset(st);
	return 0;

out_db:
	db_err(s, err, errlen, "looking up host");
	vgl_sql_reset(st);
	return -1;
}

/* Inside a transaction: the host's id, creating its row if the daemon
 * never ran with it. 0 or -1 (err filled). */
static int host_ensure(struct vgl_sla_db *s, const struct vgl_conf_host *h, int64_t *id,
		       char *err, size_t errlen)
{
	struct vgl_sql_stmt *st = stmt(s, ST_HOST_ENSURE);

	if (vgl_sql_bind_text(st, 1, h->name, -1, VGL_SQL_STATIC) != VGL_SQL_OK ||
	    vgl_sql_bind_text(st, 2, h->address, -1, VGL_SQL_STATIC) != VGL_SQL_OK ||
	    vgl_sql_bind_text(st, 3, h->site, -1, VGL_SQL_STATIC) != VGL_SQL_OK ||
	    vgl_sql_bind_text(st, 4, h->service, -1, VGL_SQL_STATIC) != VGL_SQL_OK ||
	    vgl_sql_bind_text(st, 5, h->customer, -1, VGL_SQL_STATIC) != VGL_SQL_OK ||
	    run_done(st) != VGL_SQL_DONE) {
		db_err(s, err, errlen, "adding host");
		return -1;
	}
	if (vgl_sla_db_host_id(s, h->name, id, err, errlen) != 0)
		return -1;
	if (*id == 0) {
		set_err(err, errlen, "host '%s' vanished while adding it", h->name);
		return -1;
	}
	return 0;
}

static int begin(struct vgl_sla_db *s, char *err, size_t errlen)
{
	if (run_done(stmt(s, ST_BEGIN)) != VGL_SQL_DONE) {
		db_err(s, err, errlen, "BEGIN");
		return -1;
	}
	return 0;
}

static int commit(struct vgl_sla_db *s, char *err, size_t errlen)
{
	if (run_done(stmt(s, ST_COMMIT)) != VGL_SQL_DONE) {
		db_err(s, err, errlen, "COMMIT");
		return -1;
	}
	return 0;
}

/* The longest maintenance window, cancelled or not (a bound, so more
 * windows than needed only make it looser). 0, or -1 with err filled. */
static int maint_max_len(struct vgl_sla_db *s, int64_t *out, char *err, size_t errlen)
{
	struct vgl_sql_stmt *st = stmt(s, ST_MAINT_MAX_LEN);

	if (vgl_sql_step(st) != VGL_SQL_ROW) {
		db_err(s, err, errlen, "reading maintenance windows");
		vgl_sql_reset(st);
		return -1;
	}
	/* An overflowing difference is a REAL; reading it saturates, which
	 * stays a bound (SQLite turns ?3 - ?5 into a REAL as well). */
	*out = vgl_sql_column_int64(st, 0);
	vgl_sql_reset(st);
	return 0;
}

int vgl_sla_db_snapshot_begin(struct vgl_sla_db *s, char *err, size_t errlen)
{
	if (run_done(stmt(s, ST_READ_BEGIN)) != VGL_SQL_DONE) {
		db_err(s, err, errlen, "BEGIN");
		return -1;
	}
	/* The windows cannot change under the snapshot: one pass for all
	 * hosts. */
	if (maint_max_len(s, &s->maint_max_len, err, errlen) != 0) {
		run_done(stmt(s, ST_ROLLBACK));
		return -1;
	}
	s->in_snapshot = 1;
	return 0;
}

void vgl_sla_db_snapshot_end(struct vgl_sla_db *s)
{
	s->in_snapshot = 0;
	/* Nothing was written: ending it can only release the lock. */
	if (!vgl_sql_get_autocommit(s->db))
		run_done(stmt(s, ST_ROLLBACK));
}

/* Keeps err: the rollback's own failure is less telling than the cause. */
static void rollback(struct vgl_sla_db *s)
{
	if (!vgl_sql_get_autocommit(s->db))
		run_done(stmt(s, ST_ROLLBACK));
}

/* Takes detail (cJSON) and frees it. host_id 0 = NULL. */
static int add_event(struct vgl_sla_db *s, int64_t ts, int64_t host_id, const char *kind,
		     cJSON *detail, char *err, size_t errlen)
{
	struct vgl_sql_stmt *st = stmt(s, ST_EVENT);
	char *text = detail ? cJSON_PrintUnformatted(detail) : NULL;
	int ok;

	cJSON_Delete(detail);
	if (!text) {
		set_err(err, errlen, "out of memory");
		return -1;
	}
	ok = vgl_sql_bind_int64(st, 1, ts) == VGL_SQL_OK &&
	     (host_id ? vgl_sql_bind_int64(st, 2, host_id) : vgl_sql_bind_null(st, 2)) == VGL_SQL_OK &&
	     vgl_sql_bind_text(st, 3, kind, -1, VGL_SQL_STATIC) == VGL_SQL_OK &&
	     vgl_sql_bind_text(st, 4, text, -1, VGL_SQL_TRANSIENT) == VGL_SQL_OK &&
	     run_done(st) == VGL_SQL_DONE;
	cJSON_free(text);
	if (!ok) {
		db_err(s, err, errlen, "writing event");
		return -1;
	}
	return 0;
}

/* cJSON helpers for event details: 0, or -1 out of memory. */
static int j_str(cJSON *o, const char *k, const char *v)
{
	return (v ? cJSON_AddStringToObject(o, k, v) : cJSON_AddNullToObject(o, k)) ? 0 : -1;
}

static int j_num(cJSON *o, const char *k, int64_t v)
{
	/* ms times and ids stay below 2^53: exact as doubles */
	return cJSON_AddNumberToObject(o, k, (double)v) ? 0 : -1;
}

/* ---- maintenance windows ---- */

static const char *const kind_names[] = { "planned", "emergency" };

int vgl_sla_db_maint_kind_parse(const char *s)
{
	for (int i = 0; i < 2; i++)
		if (s && strcmp(s, kind_names[i]) == 0)
			return i;
	return -1;
}

static enum vgl_sla_db_result check_add(const struct vgl_sla_db_maint_add *a, char *err,
					size_t errlen)
{
	if (!a->host == !a->site) {
		set_err(err, errlen, "give exactly one of a host and a site");
		return VGL_SLA_DB_REFUSED;
	}
	if (a->site && !*a->site) {
		set_err(err, errlen, "empty site name");
		return VGL_SLA_DB_REFUSED;
	}
	if (a->kind != VGL_SLA_DB_PLANNED && a->kind != VGL_SLA_DB_EMERGENCY) {
		set_err(err, errlen, "unknown kind (expected planned or emergency)");
		return VGL_SLA_DB_REFUSED;
	}
	if (a->end_ms <= a->start_ms) {
		set_err(err, errlen, "end must be after start");
		return VGL_SLA_DB_REFUSED;
	}
	if (a->announced_ms > a->now_ms) {
		/* A notice is a fact of the past; a future one would let a
		 * window qualify for a notice nobody has given yet. */
		set_err(err, errlen, "announced is in the future: record a notice once given");
		return VGL_SLA_DB_REFUSED;
	}
	if (!a->note || !*a->note) {
		set_err(err, errlen, "a note is required (what is done, ticket)");
		return VGL_SLA_DB_REFUSED;
	}
	if (!a->user || !*a->user) {
		set_err(err, errlen, "no user to record the window under");
		return VGL_SLA_DB_REFUSED;
	}
	return VGL_SLA_DB_OK;
}

enum vgl_sla_db_result vgl_sla_db_maint_add(struct vgl_sla_db *s,
					    const struct vgl_sla_db_maint_add *a,
					    int64_t *id_out, char *err, size_t errlen)
{
	enum vgl_sla_db_result r = check_add(a, err, errlen);
	char by[256];
	int64_t host_id = 0, id;
	struct vgl_sql_stmt *st;
	cJSON *d;

	if (r != VGL_SLA_DB_OK)
		return r;
	snprintf(by, sizeof(by), "operator:%s", a->user);
	if (begin(s, err, errlen) != 0)
		return VGL_SLA_DB_ERROR;
	if (a->host && host_ensure(s, a->host, &host_id, err, errlen) != 0)
		goto out_rollback;
	st = stmt(s, ST_MAINT_INSERT);
	if ((host_id ? vgl_sql_bind_int64(st, 1, host_id) : vgl_sql_bind_null(st, 1)) != VGL_SQL_OK ||
	    (a->site ? vgl_sql_bind_text(st, 2, a->site, -1, VGL_SQL_STATIC)
		     : vgl_sql_bind_null(st, 2)) != VGL_SQL_OK ||
	    vgl_sql_bind_text(st, 3, kind_names[a->kind], -1, VGL_SQL_STATIC) != VGL_SQL_OK ||
	    vgl_sql_bind_int64(st, 4, a->start_ms) != VGL_SQL_OK ||
	    vgl_sql_bind_int64(st, 5, a->end_ms) != VGL_SQL_OK ||
	    vgl_sql_bind_int64(st, 6, a->announced_ms) != VGL_SQL_OK ||
	    vgl_sql_bind_text(st, 7, a->note, -1, VGL_SQL_STATIC) != VGL_SQL_OK ||
	    vgl_sql_bind_text(st, 8, by, -1, VGL_SQL_STATIC) != VGL_SQL_OK ||
	    vgl_sql_bind_int64(st, 9, a->now_ms) != VGL_SQL_OK || run_done(st) != VGL_SQL_DONE) {
		db_err(s, err, errlen, "adding maintenance window");
		goto out_rollback;
	}
	id = vgl_sql_last_insert_rowid(s->db);
	d = cJSON_CreateObject();
	if (!d || j_num(d, "maint_id", id) || j_str(d, "host", a->host ? a->host->name : NULL) ||
	    j_str(d, "site", a->site) || j_str(d, "kind", kind_names[a->kind]) ||
	    j_num(d, "start_ms", a->start_ms) || j_num(d, "end_ms", a->end_ms) ||
	    j_num(d, "announced_ms", a->announced_ms) || j_str(d, "note", a->note) ||
	    j_str(d, "by", by)) {
		cJSON_Delete(d);
		set_err(err, errlen, "out of memory");
		goto out_rollback;
	}
	if (add_event(s, a->now_ms, host_id, "maint_add", d, err, errlen) != 0 ||
	    commit(s, err, errlen) != 0)
		goto out_rollback;
	if (id_out)
		*id_out = id;
	return VGL_SLA_DB_OK;

out_rollback:
	rollback(s);
	return VGL_SLA_DB_ERROR;
}

enum vgl_sla_db_result vgl_sla_db_maint_cancel(struct vgl_sla_db *s, int64_t id,
					       const char *note, const char *user,
					       int64_t now_ms, char *err, size_t errlen)
{
	enum vgl_sla_db_result r = VGL_SLA_DB_ERROR;
	struct vgl_sql_stmt *st;
	int64_t host_id;
	char by[256];
	cJSON *d;
	int rc;

	if (!user || !*user) {
		set_err(err, errlen, "no user to record the cancellation under");
		return VGL_SLA_DB_REFUSED;
	}
	snprintf(by, sizeof(by), "operator:%s", user);
	if (begin(s, err, errlen) != 0)
		return VGL_SLA_DB_ERROR;
	st = stmt(s, ST_MAINT_GET);
	if (vgl_sql_bind_int64(st, 1, id) != VGL_SQL_OK)
		goto out_db;
	rc = vgl_sql_step(st);
	if (rc == VGL_SQL_DONE) {
		set_err(err, errlen, "no maintenance window %lld", (long long)id);
		r = VGL_SLA_DB_REFUSED;
		goto out_rollback;
	}
	if (rc != VGL_SQL_ROW)
		goto out_db;
	host_id = vgl_sql_column_int64(st, 0);  /* NULL reads 0: a site window */
	if (vgl_sql_column_type(st, 1) != VGL_SQL_NULL) {
		set_err(err, errlen, "maintenance window %lld is already cancelled (by %s)",
			(long long)id, col_text(st, 2) ? col_text(st, 2) : "?");
		r = VGL_SLA_DB_REFUSED;
		goto out_rollback;
	}
	vgl_sql_reset(st);
	st = stmt(s, ST_MAINT_CANCEL);
	if (vgl_sql_bind_int64(st, 1, id) != VGL_SQL_OK ||
	    vgl_sql_bind_text(st, 2, by, -1, VGL_SQL_STATIC) != VGL_SQL_OK ||
	    vgl_sql_bind_int64(st, 3, now_ms) != VGL_SQL_OK ||
	    (note ? vgl_sql_bind_text(st, 4, note, -1, VGL_SQL_STATIC)
		  : vgl_sql_bind_null(st, 4)) != VGL_SQL_OK ||
	    run_done(st) != VGL_SQL_DONE)
		goto out_db;
	d = cJSON_CreateObject();
	if (!d || j_num(d, "maint_id", id) || j_str(d, "note", note) || j_str(d, "by", by)) {
		cJSON_Delete(d);
		set_err(err, errlen, "out of memory");
		goto out_rollback;
	}
	if (add_event(s, now_ms, host_id, "maint_cancel", d, err, errlen) != 0 ||
	    commit(s, err, errlen) != 0)
		goto out_rollback;
	return VGL_SLA_DB_OK;

out_db:
	db_err(s, err, errlen, "cancelling maintenance window");
out_rollback:
	vgl_sql_reset(s->st[ST_MAINT_GET]);
	rollback(s);
	return r;
}

void vgl_sla_db_maint_filter_init(struct vgl_sla_db_maint_filter *f)
{
	memset(f, 0, sizeof(*f));
	f->from_ms = INT64_MIN;
	f->to_ms = INT64_MAX;
}

/* Steps st, handing each window to fn. */
static int walk_maints(struct vgl_sla_db *s, struct vgl_sql_stmt *st, vgl_sla_db_maint_fn *fn,
		       void *ctx, char *err, size_t errlen)
{
	int rc, r = 0;

	while ((rc = vgl_sql_step(st)) == VGL_SQL_ROW) {
		struct vgl_sla_db_maint m = {
			.id = vgl_sql_column_int64(st, 0),
			.host = col_text(st, 1),
			.site = col_text(st, 2),
			.kind = vgl_sla_db_maint_kind_parse(col_text(st, 3)),
			.start_ms = vgl_sql_column_int64(st, 4),
			.end_ms = vgl_sql_column_int64(st, 5),
			.announced_ms = vgl_sql_column_int64(st, 6),
			.note = col_text(st, 7),
			.created_by = col_text(st, 8),
			.created_ms = vgl_sql_column_int64(st, 9),
			.cancelled = vgl_sql_column_type(st, 11) != VGL_SQL_NULL,
			.cancelled_by = col_text(st, 10),
			.cancelled_ms = vgl_sql_column_int64(st, 11),
			.cancel_note = col_text(st, 12),
		};

		/* The CHECK constraint admits only the two kinds; a NULL
		 * from column_text here means out of memory. */
		if (m.kind < 0) {
			set_err(err, errlen, "reading maintenance window %lld: %s",
				(long long)m.id, vgl_sql_errmsg(s->db));
			vgl_sql_reset(st);
			return -1;
		}
		r = fn(ctx, &m);
		if (r != 0)
			break;
	}
	if (r == 0 && rc != VGL_SQL_DONE) {
		db_err(s, err, errlen, "reading maintenance windows");
		r = -1;
	}
	vgl_sql_reset(st);
	return r;
}

int vgl_sla_db_maints(struct vgl_sla_db *s, const struct vgl_sla_db_maint_filter *f,
		      vgl_sla_db_maint_fn *fn, void *ctx, char *err, size_t errlen)
{
	struct vgl_sql_stmt *st = stmt(s, ST_MAINT_LIST);

	if (vgl_sql_bind_int64(st, 1, f->from_ms) != VGL_SQL_OK ||
	    vgl_sql_bind_int64(st, 2, f->to_ms) != VGL_SQL_OK ||
	    vgl_sql_bind_int(st, 3, f->include_cancelled != 0) != VGL_SQL_OK ||
	    (f->host ? vgl_sql_bind_text(st, 4, f->host, -1, VGL_SQL_STATIC)
		     : vgl_sql_bind_null(st, 4)) != VGL_SQL_OK ||
	    (f->site ? vgl_sql_bind_text(st, 5, f->site, -1, VGL_SQL_STATIC)
		     : vgl_sql_bind_null(st, 5)) != VGL_SQL_OK ||
	    vgl_sql_bind_int(st, 6, f->site_hosts != 0) != VGL_SQL_OK) {
		db_err(s, err, errlen, "listing maintenance windows");
		return -1;
	}
	return walk_maints(s, st, fn, ctx, err, errlen);
}

int vgl_sla_db_host_maints(struct vgl_sla_db *s, int64_t host_id, const char *site,
			   int64_t from_ms, int64_t to_ms, vgl_sla_db_maint_fn *fn, void *ctx,
			   char *err, size_t errlen)
{
	struct vgl_sql_stmt *st;
	int64_t max_len = s->maint_max_len;

	if (!s->in_snapshot && maint_max_len(s, &max_len, err, errlen) != 0)
		return -1;
	st = stmt(s, ST_MAINT_HOST);
	/* NULL matches nothing in "=": an absent host or site drops its arm. */
	if ((host_id > 0 ? vgl_sql_bind_int64(st, 1, host_id) : vgl_sql_bind_null(st, 1)) !=
		    VGL_SQL_OK ||
	    (site ? vgl_sql_bind_text(st, 2, site, -1, VGL_SQL_STATIC) : vgl_sql_bind_null(st, 2)) !=
		    VGL_SQL_OK ||
	    vgl_sql_bind_int64(st, 3, from_ms) != VGL_SQL_OK ||
	    vgl_sql_bind_int64(st, 4, to_ms) != VGL_SQL_OK ||
	    vgl_sql_bind_int64(st, 5, max_len) != VGL_SQL_OK) {
		db_err(s, err, errlen, "reading maintenance windows");
		return -1;
	}
	return walk_maints(s, st, fn, ctx, err, errlen);
}

/* ---- intervals ---- */

/* Steps st, handing fn each interval that is open or ends after reach. */
static int walk_intervals(struct vgl_sla_db *s, struct vgl_sql_stmt *st, int64_t reach,
			  vgl_sla_db_interval_fn *fn, void *ctx, char *err, size_t errlen)
{
	int rc, r = 0;

	while ((rc = vgl_sql_step(st)) == VGL_SQL_ROW) {
		struct vgl_sla_db_interval iv = {
			.id = vgl_sql_column_int64(st, 0),
			.cause = col_text(st, 1),
			.start_ms = vgl_sql_column_int64(st, 2),
			.is_open = vgl_sql_column_type(st, 3) == VGL_SQL_NULL,
			.end_ms = vgl_sql_column_int64(st, 3),
			.note = col_text(st, 4),
			.opened_by = col_text(st, 5),
		};

		if (!iv.cause) { /* NOT NULL column: only out of memory gets here */
			db_err(s, err, errlen, "reading intervals");
			r = -1;
			break;
		}
		if (!iv.is_open && iv.end_ms <= reach)
			continue;
		r = fn(ctx, &iv);
		if (r != 0)
			break;
	}
	if (r == 0 && rc != VGL_SQL_DONE) {
		db_err(s, err, errlen, "reading intervals");
		r = -1;
	}
	vgl_sql_reset(st);
	return r;
}

int vgl_sla_db_host_intervals(struct vgl_sla_db *s, int64_t host_id, int64_t from_ms,
			      int64_t to_ms, vgl_sla_db_interval_fn *fn, void *ctx, char *err,
			      size_t errlen)
{
	struct vgl_sql_stmt *st = stmt(s, ST_INTERVAL_BEFORE);
	int r;

	if (vgl_sql_bind_int64(st, 1, host_id) != VGL_SQL_OK ||
	    vgl_sql_bind_int64(st, 2, from_ms) != VGL_SQL_OK) {
		db_err(s, err, errlen, "reading intervals");
		return -1;
	}
	r = walk_intervals(s, st, from_ms, fn, ctx, err, errlen);
	if (r != 0)
		return r;
	st = stmt(s, ST_INTERVALS);
	if (vgl_sql_bind_int64(st, 1, host_id) != VGL_SQL_OK ||
	    vgl_sql_bind_int64(st, 2, from_ms) != VGL_SQL_OK ||
	    vgl_sql_bind_int64(st, 3, to_ms) != VGL_SQL_OK) {
		db_err(s, err, errlen, "reading intervals");
		return -1;
	}
	return walk_intervals(s, st, INT64_MIN, fn, ctx, err, errlen);
}

/* ---- runs ---- */

int vgl_sla_db_observed(struct vgl_sla_db *s, int64_t from_ms, int64_t to_ms,
			vgl_sla_db_span_fn *fn, void *ctx, char *err, size_t errlen)
{
	struct vgl_sql_stmt *st = stmt(s, ST_RUNS);
	int rc, r = 0;

	if (vgl_sql_bind_int64(st, 1, from_ms) != VGL_SQL_OK ||
	    vgl_sql_bind_int64(st, 2, to_ms) != VGL_SQL_OK) {
		db_err(s, err, errlen, "reading runs");
		return -1;
	}
	while ((rc = vgl_sql_step(st)) == VGL_SQL_ROW) {
		r = fn(ctx, vgl_sql_column_int64(st, 0), vgl_sql_column_int64(st, 1));
		if (r != 0)
			break;
	}
	if (r == 0 && rc != VGL_SQL_DONE) {
		db_err(s, err, errlen, "reading runs");
		r = -1;
	}
	vgl_sql_reset(st);
	return r;
}

/* ---- counters ---- */

int vgl_sla_db_host_counters(struct vgl_sla_db *s, int64_t host_id, int64_t from_ms,
			     int64_t to_ms, vgl_sla_db_counter_fn *fn, void *ctx, char *err,
			     size_t errlen)
{
	struct vgl_sql_stmt *st = stmt(s, ST_COUNTERS);
	int rc, r = 0;

	if (vgl_sql_bind_int64(st, 1, host_id) != VGL_SQL_OK ||
	    vgl_sql_bind_int64(st, 2, from_ms) != VGL_SQL_OK ||
	    vgl_sql_bind_int64(st, 3, to_ms) != VGL_SQL_OK) {
		db_err(s, err, errlen, "reading counter samples");
		return -1;
	}
	while ((rc = vgl_sql_step(st)) == VGL_SQL_ROW) {
		const char *src = col_text(st, 3);
		struct vgl_sla_db_counter c = {
			.ts_ms = vgl_sql_column_int64(st, 0),
			/* stored as the signed reinterpretation (docs/schema.md) */
			.total = (uint64_t)vgl_sql_column_int64(st, 1),
			.failed = (uint64_t)vgl_sql_column_int64(st, 2),
			.from_poll = src && strcmp(src, "poll") == 0,
		};

		r = fn(ctx, &c);
		if (r != 0)
			break;
	}
	if (r == 0 && rc != VGL_SQL_DONE) {
		db_err(s, err, errlen, "reading counter samples");
		r = -1;
	}
	vgl_sql_reset(st);
	return r;
}

enum vgl_sla_db_result vgl_sla_db_counters_import(struct vgl_sla_db *s,
						  const struct vgl_sla_db_import *im,
						  size_t *changed, char *err, size_t errlen)
{
	int64_t host_id, first = INT64_MAX, last = INT64_MIN;
	size_t n_changed = 0;
	char by[256];
	cJSON *d;

	if (!im->user || !*im->user) {
		set_err(err, errlen, "no user to record the import under");
		return VGL_SLA_DB_REFUSED;
	}
	snprintf(by, sizeof(by), "operator:%s", im->user);
	if (begin(s, err, errlen) != 0)
		return VGL_SLA_DB_ERROR;
	if (host_ensure(s, im->host, &host_id, err, errlen) != 0)
		goto out_rollback;
	for (size_t i = 0; i < im->n; i++) {
		const struct vgl_sla_db_counter *c = &im->rows[i];
		struct vgl_sql_stmt *st = stmt(s, ST_COUNTER_UPSERT);

		if (vgl_sql_bind_int64(st, 1, host_id) != VGL_SQL_OK ||
		    vgl_sql_bind_int64(st, 2, c->ts_ms) != VGL_SQL_OK ||
		    vgl_sql_bind_int64(st, 3, (int64_t)c->total) != VGL_SQL_OK ||
		    vgl_sql_bind_int64(st, 4, (int64_t)c->failed) != VGL_SQL_OK ||
		    run_done(st) != VGL_SQL_DONE) {
			db_err(s, err, errlen, "importing counter samples");
			goto out_rollback;
		}
		n_changed += (size_t)vgl_sql_changes(s->db);
		if (c->ts_ms < first)
			first = c->ts_ms;
		if (c->ts_ms > last)
			last = c->ts_ms;
	}
	d = cJSON_CreateObject();
	if (!d || j_str(d, "file", im->file) || j_num(d, "rows", (int64_t)im->n) ||
	    j_num(d, "changed", (int64_t)n_changed) ||
	    (im->n ? j_num(d, "first_ms", first) : j_str(d, "first_ms", NULL)) ||
	    (im->n ? j_num(d, "last_ms", last) : j_str(d, "last_ms", NULL)) ||
	    j_str(d, "by", by)) {
		cJSON_Delete(d);
		set_err(err, errlen, "out of memory");
		goto out_rollback;
	}
	if (add_event(s, im->now_ms, host_id, "counters_import", d, err, errlen) != 0 ||
	    commit(s, err, errlen) != 0)
		goto out_rollback;
	if (changed)
		*changed = n_changed;
	return VGL_SLA_DB_OK;

out_rollback:
	rollback(s);
	return VGL_SLA_DB_ERROR;
}
