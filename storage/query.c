/* Read and edit queries over the schema; see query.h for the contract.
 *
 * Invariants this file relies on (the schema and the daemon keep them):
 *  - per host, intervals never overlap and at most one is open
 *    (intervals_one_open);
 *  - intervals_host_cover(host_id, start_ms, ...) serves "host H from T on".
 * vgl_query_interval_add must not break the first one, which is why its
 * overlap check and insert share one write-locked transaction.
 */
#include "storage/query.h"
#include "storage/store.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "core/vtime.h"

#define INTERVAL_COLUMNS                                                      \
	"SELECT i.id, i.host_id, h.name, i.cause, i.start_ms, i.end_ms, "     \
	"i.opened_by, i.closed_by, i.evidence, i.note, i.poll_interval_ms, "  \
	"i.unobserved_ms, i.origin, i.created_by, i.created_ms "             \
	"FROM intervals i JOIN hosts h ON h.id = i.host_id "

/* ?1 from, ?2 to, ?3 open_only, ?4 host name (host statements only). The
 * host variants compare host_id with a scalar subquery so the planner uses
 * intervals_host_cover instead of scanning every interval. */
#define WHERE_ALL                                                             \
	"WHERE i.start_ms < ?2 AND (i.end_ms IS NULL OR i.end_ms > ?1) "      \
	"AND (?3 = 0 OR i.end_ms IS NULL) "
#define WHERE_HOST                                                            \
	"WHERE i.host_id = (SELECT id FROM hosts WHERE name = ?4) "           \
	"AND i.start_ms < ?2 AND (i.end_ms IS NULL OR i.end_ms > ?1) "        \
	"AND (?3 = 0 OR i.end_ms IS NULL) "
#define ORDER_DESC "ORDER BY i.start_ms DESC, i.id DESC"
#define ORDER_ASC "ORDER BY i.start_ms ASC, i.id ASC"

enum stmt_id {
	ST_ALL_DESC,
	ST_ALL_ASC,
	ST_HOST_DESC,
	ST_HOST_ASC,
	ST_HOST_STATE,
	ST_BEGIN,
	ST_COMMIT,
	ST_ROLLBACK,
	ST_HOST_ENSURE,
	ST_HOST_ID,
	ST_OVERLAP,
	ST_INSERT_INTERVAL,
	ST_INSERT_EVENT,
	ST_LAST_RUN,
	ST_HISTORY,
	ST_RECLASSIFY_GET,
	ST_RECLASSIFY_HISTORY,
	ST_RECLASSIFY_SET,
	ST_RECLASSIFY_EVENT,
	ST_COUNT
};

static const char *const stmt_sql[ST_COUNT] = {
	[ST_ALL_DESC] = INTERVAL_COLUMNS WHERE_ALL ORDER_DESC,
	[ST_ALL_ASC] = INTERVAL_COLUMNS WHERE_ALL ORDER_ASC,
	[ST_HOST_DESC] = INTERVAL_COLUMNS WHERE_HOST ORDER_DESC,
	[ST_HOST_ASC] = INTERVAL_COLUMNS WHERE_HOST ORDER_ASC,
	[ST_HOST_STATE] =
		"SELECT h.state, h.last_poll_ms, i.start_ms, i.cause, h.power FROM hosts h "
		"LEFT JOIN intervals i ON i.host_id = h.id AND i.end_ms IS NULL "
		"WHERE h.name = ?1",
	/* IMMEDIATE: take the write lock before reading, so the overlap
	 * check still holds when the insert runs. */
	[ST_BEGIN] = "BEGIN IMMEDIATE",
	[ST_COMMIT] = "COMMIT",
	[ST_ROLLBACK] = "ROLLBACK",
	/* The daemon upserts by name too (vgl_store_sync_hosts), so a row made
	 * here is the same row it later refreshes. */
	[ST_HOST_ENSURE] =
		"INSERT INTO hosts (name, address, site, service, customer) "
		"VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT(name) DO NOTHING",
	[ST_HOST_ID] = "SELECT id FROM hosts WHERE name = ?1",
	[ST_OVERLAP] =
		"SELECT id, cause, start_ms, end_ms FROM intervals "
		"WHERE host_id = ?1 AND start_ms < ?3 AND (end_ms IS NULL OR end_ms > ?2) "
		"ORDER BY start_ms LIMIT 1",
	[ST_INSERT_INTERVAL] =
		"INSERT INTO intervals (host_id, cause, start_ms, end_ms, opened_by, "
		"closed_by, evidence, note, poll_interval_ms, unobserved_ms, origin, "
		"created_by, created_ms) "
		"VALUES (?1, ?2, ?3, ?4, ?5, ?5, NULL, ?6, NULL, 0, 'operator', ?7, ?8)",
	[ST_INSERT_EVENT] =
		"INSERT INTO events (ts_ms, host_id, interval_id, kind, detail) "
		"VALUES (?1, ?2, ?3, 'interval_add', ?4)",
	[ST_LAST_RUN] = "SELECT heartbeat_ms, stopped_ms FROM runs ORDER BY id DESC LIMIT 1",
	/* interval_causes_interval(interval_id, id): one index range */
	[ST_HISTORY] =
		"SELECT id, interval_id, ts_ms, old_cause, new_cause, \"by\", note, evidence "
		"FROM interval_causes WHERE interval_id = ?1 ORDER BY id",
	[ST_RECLASSIFY_GET] =
		"SELECT i.cause, i.host_id, h.name FROM intervals i "
		"JOIN hosts h ON h.id = i.host_id WHERE i.id = ?1",
	[ST_RECLASSIFY_HISTORY] =
		"INSERT INTO interval_causes (interval_id, ts_ms, old_cause, new_cause, \"by\", "
		"note, evidence) VALUES (?1, ?2, ?3, ?4, ?5, ?6, NULL)",
	[ST_RECLASSIFY_SET] = "UPDATE intervals SET cause = ?2 WHERE id = ?1",
	[ST_RECLASSIFY_EVENT] =
		"INSERT INTO events (ts_ms, host_id, interval_id, kind, detail) "
		"VALUES (?1, ?2, ?3, 'interval_reclassify', json_object('old_cause', ?4, "
		"'new_cause', ?5, 'by', ?6, 'note', ?7))",
};

/* PostgreSQL's texts where its dialect differs (storage/sql.h). */
static const char *const stmt_sql_pg[ST_COUNT] = {
	[ST_INSERT_INTERVAL] =
		"INSERT INTO intervals (host_id, cause, start_ms, end_ms, opened_by, "
		"closed_by, evidence, note, poll_interval_ms, unobserved_ms, origin, "
		"created_by, created_ms) "
		"VALUES (?1, ?2, ?3, ?4, ?5, ?5, NULL, ?6, NULL, 0, 'operator', ?7, ?8) RETURNING id",
	/* json_build_object needs its arguments' types; ::text keeps SQLite's
	 * text for the detail column. */
	[ST_RECLASSIFY_EVENT] =
		"INSERT INTO events (ts_ms, host_id, interval_id, kind, detail) "
		"VALUES (?1, ?2, ?3, 'interval_reclassify', json_build_object('old_cause', ?4::text, "
		"'new_cause', ?5::text, 'by', ?6::text, 'note', ?7::text)::text)",
};

struct vgl_query {
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

static void db_err(struct vgl_query *q, char *err, size_t errlen, const char *what)
{
	set_err(err, errlen, "%s: %s", what, vgl_sql_errmsg(q->db));
}

int vgl_query_new(struct vgl_sql *db, struct vgl_query **out, char *err, size_t errlen)
{
	struct vgl_query *q;

	*out = NULL;
	q = calloc(1, sizeof(*q));
	if (!q) {
		set_err(err, errlen, "out of memory");
		return -1;
	}
	q->db = db;
	if (vgl_sql_prepare_all(db, stmt_sql, stmt_sql_pg, ST_COUNT, q->st) >= 0) {
		db_err(q, err, errlen, "preparing queries");
		goto out_free_query;
	}
	*out = q;
	return 0;

out_free_query:
	vgl_query_free(q);
	return -1;
}

void vgl_query_free(struct vgl_query *q)
{
	if (!q)
		return;
	for (int i = 0; i < ST_COUNT; i++)
		vgl_sql_finalize(q->st[i]);
	free(q);
}

/* Leaves a statement ready for the next use, whatever happened in this one. */
static void done(struct vgl_sql_stmt *s)
{
	vgl_sql_reset(s);
	vgl_sql_clear_bindings(s);
}

static int bind_text(struct vgl_sql_stmt *s, int idx, const char *v)
{
	if (!v)
		return vgl_sql_bind_null(s, idx);
	return vgl_sql_bind_text(s, idx, v, -1, VGL_SQL_STATIC);
}

static const char *col_text(struct vgl_sql_stmt *s, int col)
{
	return (const char *)vgl_sql_column_text(s, col);
}

/* ---- hosts ---- */

static const char *known_state(const char *s)
{
	if (s && strcmp(s, "up") == 0)
		return "up";
	if (s && strcmp(s, "down") == 0)
		return "down";
	return "unknown";
}

int vgl_query_host_state(struct vgl_query *q, const char *name,
			 struct vgl_query_host_state *out, char *err, size_t errlen)
{
	struct vgl_sql_stmt *s = q->st[ST_HOST_STATE];
	int rc;

	memset(out, 0, sizeof(*out));
	out->state = "unknown";
	if (bind_text(s, 1, name) != VGL_SQL_OK) {
		db_err(q, err, errlen, "host state");
		done(s);
		return -1;
	}
	rc = vgl_sql_step(s);
	if (rc == VGL_SQL_ROW) {
		out->in_db = 1;
		if (vgl_sql_column_type(s, 1) != VGL_SQL_NULL) {
			out->last_poll_ms = vgl_sql_column_int64(s, 1);
			out->state = known_state(col_text(s, 0));
		} else {
			/* a host that polls nothing of its own is judged by
			 * the topology alone, which sets its state */
			out->state = known_state(col_text(s, 0));
		}
		if (vgl_sql_column_type(s, 2) != VGL_SQL_NULL) {
			/* An open interval is the truth about being down, even
			 * before the first poll row is written. */
			out->state = "down";
			out->has_open = 1;
			out->down_since_ms = vgl_sql_column_int64(s, 2);
			snprintf(out->cause, sizeof(out->cause), "%s",
				 col_text(s, 3) ? col_text(s, 3) : "");
		}
		if (col_text(s, 4)) {
			out->degraded = 1;
			snprintf(out->power, sizeof(out->power), "%s", col_text(s, 4));
		}
		rc = vgl_sql_step(s);
	}
	if (rc != VGL_SQL_DONE) {
		db_err(q, err, errlen, "host state");
		done(s);
		return -1;
	}
	done(s);
	return 0;
}

int vgl_query_daemon_state(struct vgl_query *q, struct vgl_query_daemon *out, char *err,
			   size_t errlen)
{
	struct vgl_sql_stmt *s = q->st[ST_LAST_RUN];
	int rc;

	memset(out, 0, sizeof(*out));
	rc = vgl_sql_step(s);
	if (rc == VGL_SQL_ROW) {
		out->ever_ran = 1;
		out->last_heartbeat_ms = vgl_sql_column_int64(s, 0);
		if (vgl_sql_column_type(s, 1) != VGL_SQL_NULL) {
			out->stopped = 1;
			out->stopped_ms = vgl_sql_column_int64(s, 1);
		}
		rc = vgl_sql_step(s);
	}
	if (rc != VGL_SQL_DONE) {
		db_err(q, err, errlen, "daemon state");
		done(s);
		return -1;
	}
	done(s);
	return 0;
}

/* ---- intervals ---- */

void vgl_query_filter_init(struct vgl_query_filter *f)
{
	memset(f, 0, sizeof(*f));
	f->from_ms = VGL_QUERY_TIME_MIN;
	f->to_ms = VGL_QUERY_TIME_MAX;
	f->order = VGL_QUERY_NEWEST_FIRST;
}

static void row_to_interval(struct vgl_sql_stmt *s, struct vgl_query_interval *iv)
{
	iv->id = vgl_sql_column_int64(s, 0);
	iv->host_id = vgl_sql_column_int64(s, 1);
	iv->host = col_text(s, 2);
	iv->cause = col_text(s, 3);
	iv->start_ms = vgl_sql_column_int64(s, 4);
	iv->is_open = vgl_sql_column_type(s, 5) == VGL_SQL_NULL;
	iv->end_ms = iv->is_open ? 0 : vgl_sql_column_int64(s, 5);
	iv->opened_by = col_text(s, 6);
	iv->closed_by = col_text(s, 7);
	iv->evidence = col_text(s, 8);
	iv->note = col_text(s, 9);
	iv->poll_interval_ms = vgl_sql_column_int64(s, 10);
	iv->unobserved_ms = vgl_sql_column_int64(s, 11);
	iv->origin = col_text(s, 12);
	iv->created_by = col_text(s, 13);
	iv->created_ms = vgl_sql_column_int64(s, 14);
}

int vgl_query_intervals(struct vgl_query *q, const struct vgl_query_filter *f,
			vgl_query_interval_fn *fn, void *ctx, char *err, size_t errlen)
{
	int asc = f->order == VGL_QUERY_OLDEST_FIRST;
	struct vgl_sql_stmt *s;
	int rc, ret = 0;

	if (f->host)
		s = q->st[asc ? ST_HOST_ASC : ST_HOST_DESC];
	else
		s = q->st[asc ? ST_ALL_ASC : ST_ALL_DESC];
	if (vgl_sql_bind_int64(s, 1, f->from_ms) != VGL_SQL_OK ||
	    vgl_sql_bind_int64(s, 2, f->to_ms) != VGL_SQL_OK ||
	    vgl_sql_bind_int(s, 3, f->open_only ? 1 : 0) != VGL_SQL_OK ||
	    (f->host && bind_text(s, 4, f->host) != VGL_SQL_OK)) {
		db_err(q, err, errlen, "listing intervals");
		done(s);
		return -1;
	}
	while ((rc = vgl_sql_step(s)) == VGL_SQL_ROW) {
		struct vgl_query_interval iv;

		row_to_interval(s, &iv);
		ret = fn(ctx, &iv);
		if (ret != 0)
			break;
	}
	if (ret == 0 && rc != VGL_SQL_DONE) {
		db_err(q, err, errlen, "listing intervals");
		ret = -1;
	}
	done(s);
	return ret;
}

/* ---- operator edits ---- */

static char *add_event_detail(const struct vgl_query_add *a, const char *by)
{
	cJSON *o = cJSON_CreateObject();
	char *text = NULL;

	if (!o)
		return NULL;
	if (!cJSON_AddStringToObject(o, "host", a->host->name) ||
	    !cJSON_AddStringToObject(o, "cause", a->cause) ||
	    !cJSON_AddNumberToObject(o, "start_ms", (double)a->start_ms) ||
	    !cJSON_AddNumberToObject(o, "end_ms", (double)a->end_ms) ||
	    !cJSON_AddStringToObject(o, "by", by) ||
	    !cJSON_AddStringToObject(o, "note", a->note))
		goto out_delete;
	text = cJSON_PrintUnformatted(o);
out_delete:
	cJSON_Delete(o);
	return text;
}

static enum vgl_query_add_result refuse_invalid(const struct vgl_query_add *a,
						char *err, size_t errlen)
{
	char b1[VGL_ISO_LEN], b2[VGL_ISO_LEN];

	if (!a->host || !a->host->name) {
		set_err(err, errlen, "no host given");
		return VGL_QUERY_ADD_REFUSED;
	}
	if (!a->cause || !vgl_cause_valid(a->cause)) {
		set_err(err, errlen,
			"unknown cause '%s' (expected one of: " VGL_CAUSE_LIST ")",
			a->cause ? a->cause : "");
		return VGL_QUERY_ADD_REFUSED;
	}
	if (a->end_ms <= a->start_ms) {
		set_err(err, errlen, "end %s is not after start %s",
			vgl_format_iso(a->end_ms, b1), vgl_format_iso(a->start_ms, b2));
		return VGL_QUERY_ADD_REFUSED;
	}
	if (a->end_ms > a->now_ms) {
		set_err(err, errlen, "end %s is in the future (now %s)",
			vgl_format_iso(a->end_ms, b1), vgl_format_iso(a->now_ms, b2));
		return VGL_QUERY_ADD_REFUSED;
	}
	if (!a->note || !a->note[0]) {
		set_err(err, errlen, "a note saying why is required");
		return VGL_QUERY_ADD_REFUSED;
	}
	if (!a->user || !a->user[0]) {
		set_err(err, errlen, "cannot tell which user is adding the interval");
		return VGL_QUERY_ADD_REFUSED;
	}
	return VGL_QUERY_ADD_OK;
}

static int step_done(struct vgl_sql_stmt *s)
{
	int rc = vgl_sql_step(s);

	done(s);
	return rc == VGL_SQL_DONE ? 0 : -1;
}

/* Inside the transaction: host row, overlap check, both inserts. */
static enum vgl_query_add_result add_locked(struct vgl_query *q, const struct vgl_query_add *a,
					    const char *by, const char *detail,
					    int64_t *id_out, char *err, size_t errlen)
{
	const struct vgl_conf_host *h = a->host;
	struct vgl_sql_stmt *s;
	int64_t host_id, iv_id;
	int rc;

	s = q->st[ST_HOST_ENSURE];
	if (bind_text(s, 1, h->name) || bind_text(s, 2, h->address) ||
	    bind_text(s, 3, h->site) || bind_text(s, 4, h->service) ||
	    bind_text(s, 5, h->customer) || step_done(s)) {
		done(s);
		db_err(q, err, errlen, "adding host row");
		return VGL_QUERY_ADD_DB_ERROR;
	}

	s = q->st[ST_HOST_ID];
	if (bind_text(s, 1, h->name) || vgl_sql_step(s) != VGL_SQL_ROW) {
		db_err(q, err, errlen, "finding host row");
		done(s);
		return VGL_QUERY_ADD_DB_ERROR;
	}
	host_id = vgl_sql_column_int64(s, 0);
	done(s);

	s = q->st[ST_OVERLAP];
	if (vgl_sql_bind_int64(s, 1, host_id) || vgl_sql_bind_int64(s, 2, a->start_ms) ||
	    vgl_sql_bind_int64(s, 3, a->end_ms)) {
		db_err(q, err, errlen, "checking overlap");
		done(s);
		return VGL_QUERY_ADD_DB_ERROR;
	}
	rc = vgl_sql_step(s);
	if (rc == VGL_SQL_ROW) {
		char b1[VGL_ISO_LEN], b2[VGL_ISO_LEN];
		const char *cause = col_text(s, 1);
		int open = vgl_sql_column_type(s, 3) == VGL_SQL_NULL;

		vgl_format_iso(vgl_sql_column_int64(s, 2), b1);
		if (!open)
			vgl_format_iso(vgl_sql_column_int64(s, 3), b2);
		set_err(err, errlen, "overlaps interval %lld of %s (%s, %s - %s)",
			(long long)vgl_sql_column_int64(s, 0), h->name,
			cause ? cause : "?", b1, open ? "open" : b2);
		done(s);
		return VGL_QUERY_ADD_REFUSED;
	}
	if (rc != VGL_SQL_DONE) {
		db_err(q, err, errlen, "checking overlap");
		done(s);
		return VGL_QUERY_ADD_DB_ERROR;
	}
	done(s);

	s = q->st[ST_INSERT_INTERVAL];
	if (vgl_sql_bind_int64(s, 1, host_id) || bind_text(s, 2, a->cause) ||
	    vgl_sql_bind_int64(s, 3, a->start_ms) || vgl_sql_bind_int64(s, 4, a->end_ms) ||
	    bind_text(s, 5, by) || bind_text(s, 6, a->note) || bind_text(s, 7, a->user) ||
	    vgl_sql_bind_int64(s, 8, a->now_ms) || step_done(s)) {
		done(s);
		db_err(q, err, errlen, "inserting interval");
		return VGL_QUERY_ADD_DB_ERROR;
	}
	iv_id = vgl_sql_last_insert_rowid(q->db);

	s = q->st[ST_INSERT_EVENT];
	if (vgl_sql_bind_int64(s, 1, a->now_ms) || vgl_sql_bind_int64(s, 2, host_id) ||
	    vgl_sql_bind_int64(s, 3, iv_id) || bind_text(s, 4, detail) || step_done(s)) {
		done(s);
		db_err(q, err, errlen, "inserting event");
		return VGL_QUERY_ADD_DB_ERROR;
	}
	if (id_out)
		*id_out = iv_id;
	return VGL_QUERY_ADD_OK;
}

enum vgl_query_add_result vgl_query_interval_add(struct vgl_query *q,
						 const struct vgl_query_add *a,
						 int64_t *id_out, char *err, size_t errlen)
{
	enum vgl_query_add_result r;
	char *by, *detail;

	r = refuse_invalid(a, err, errlen);
	if (r != VGL_QUERY_ADD_OK)
		return r;
	if (asprintf(&by, "operator:%s", a->user) < 0) {
		set_err(err, errlen, "out of memory");
		return VGL_QUERY_ADD_DB_ERROR;
	}
	detail = add_event_detail(a, by);
	if (!detail) {
		set_err(err, errlen, "out of memory");
		r = VGL_QUERY_ADD_DB_ERROR;
		goto out_free_by;
	}
	if (step_done(q->st[ST_BEGIN])) {
		db_err(q, err, errlen, "starting transaction");
		r = VGL_QUERY_ADD_DB_ERROR;
		goto out_free_detail;
	}
	r = add_locked(q, a, by, detail, id_out, err, errlen);
	if (r == VGL_QUERY_ADD_OK && step_done(q->st[ST_COMMIT])) {
		db_err(q, err, errlen, "committing");
		r = VGL_QUERY_ADD_DB_ERROR;
	}
	/* SQLite may already have rolled back on its own (disk full, I/O
	 * error); a ROLLBACK then would only fail, so ask first. */
	if (r != VGL_QUERY_ADD_OK && !vgl_sql_get_autocommit(q->db))
		(void)step_done(q->st[ST_ROLLBACK]);
out_free_detail:
	cJSON_free(detail);
out_free_by:
	free(by);
	return r;
}

/* ---- cause history ---- */

int vgl_query_interval_history(struct vgl_query *q, int64_t interval_id,
			       vgl_query_cause_fn *fn, void *ctx, char *err, size_t errlen)
{
	struct vgl_sql_stmt *s = q->st[ST_HISTORY];
	int rc, ret = 0;

	if (vgl_sql_bind_int64(s, 1, interval_id) != VGL_SQL_OK) {
		db_err(q, err, errlen, "reading cause history");
		done(s);
		return -1;
	}
	while ((rc = vgl_sql_step(s)) == VGL_SQL_ROW) {
		struct vgl_query_cause c = {
			.id = vgl_sql_column_int64(s, 0),
			.interval_id = vgl_sql_column_int64(s, 1),
			.ts_ms = vgl_sql_column_int64(s, 2),
			.old_cause = col_text(s, 3),
			.new_cause = col_text(s, 4),
			.by = col_text(s, 5),
			.note = col_text(s, 6),
			.evidence = col_text(s, 7),
		};

		/* NOT NULL columns: NULL only when out of memory */
		if (!c.old_cause || !c.new_cause || !c.by) {
			set_err(err, errlen, "reading cause history: out of memory");
			done(s);
			return -1;
		}
		ret = fn(ctx, &c);
		if (ret != 0)
			break;
	}
	if (ret == 0 && rc != VGL_SQL_DONE) {
		db_err(q, err, errlen, "reading cause history");
		ret = -1;
	}
	done(s);
	return ret;
}

/* ---- reclassify ---- */

void vgl_query_reclassified_clear(struct vgl_query_reclassified *r)
{
	free(r->host);
	free(r->old_cause);
	memset(r, 0, sizeof(*r));
}

/* Inside the transaction: read, compare, then the three writes. */
static enum vgl_query_add_result reclassify_locked(struct vgl_query *q,
						   const struct vgl_query_reclassify *r,
						   struct vgl_query_reclassified *out,
						   char *err, size_t errlen)
{
	struct vgl_sql_stmt *s = q->st[ST_RECLASSIFY_GET];
	const char *old;
	int rc;

	if (vgl_sql_bind_int64(s, 1, r->interval_id)) {
		db_err(q, err, errlen, "reading interval");
		done(s);
		return VGL_QUERY_ADD_DB_ERROR;
	}
	rc = vgl_sql_step(s);
	if (rc == VGL_SQL_DONE) {
		set_err(err, errlen, "interval %lld: no such interval", (long long)r->interval_id);
		done(s);
		return VGL_QUERY_ADD_REFUSED;
	}
	if (rc != VGL_SQL_ROW) {
		db_err(q, err, errlen, "reading interval");
		done(s);
		return VGL_QUERY_ADD_DB_ERROR;
	}
	/* The cause it already has: a confirmation, recorded (old = new) so
	 * that it is final as any reclassification (the daemon keeps off). */
	old = col_text(s, 0);
	out->host_id = vgl_sql_column_int64(s, 1);
	out->old_cause = strdup(old ? old : "");
	out->host = strdup(col_text(s, 2) ? col_text(s, 2) : "");
	done(s);
	if (!out->old_cause || !out->host) {
		set_err(err, errlen, "out of memory");
		return VGL_QUERY_ADD_DB_ERROR;
	}

	s = q->st[ST_RECLASSIFY_HISTORY];
	if (vgl_sql_bind_int64(s, 1, r->interval_id) || vgl_sql_bind_int64(s, 2, r->now_ms) ||
	    bind_text(s, 3, out->old_cause) || bind_text(s, 4, r->cause) ||
	    bind_text(s, 5, r->by) || bind_text(s, 6, r->note) || step_done(s)) {
		done(s);
		db_err(q, err, errlen, "recording cause history");
		return VGL_QUERY_ADD_DB_ERROR;
	}
	s = q->st[ST_RECLASSIFY_SET];
	if (vgl_sql_bind_int64(s, 1, r->interval_id) || bind_text(s, 2, r->cause) ||
	    step_done(s)) {
		done(s);
		db_err(q, err, errlen, "updating interval");
		return VGL_QUERY_ADD_DB_ERROR;
	}
	s = q->st[ST_RECLASSIFY_EVENT];
	if (vgl_sql_bind_int64(s, 1, r->now_ms) || vgl_sql_bind_int64(s, 2, out->host_id) ||
	    vgl_sql_bind_int64(s, 3, r->interval_id) || bind_text(s, 4, out->old_cause) ||
	    bind_text(s, 5, r->cause) || bind_text(s, 6, r->by) || bind_text(s, 7, r->note) ||
	    step_done(s)) {
		done(s);
		db_err(q, err, errlen, "inserting event");
		return VGL_QUERY_ADD_DB_ERROR;
	}
	return VGL_QUERY_ADD_OK;
}

enum vgl_query_add_result vgl_query_interval_reclassify(struct vgl_query *q,
							const struct vgl_query_reclassify *r,
							struct vgl_query_reclassified *out,
							char *err, size_t errlen)
{
	enum vgl_query_add_result res;

	memset(out, 0, sizeof(*out));
	if (!r->cause || !vgl_cause_valid(r->cause)) {
		set_err(err, errlen, "unknown cause '%s' (expected one of: " VGL_CAUSE_LIST ")",
			r->cause ? r->cause : "");
		return VGL_QUERY_ADD_REFUSED;
	}
	if (!r->note || !r->note[0]) {
		set_err(err, errlen, "a note saying why is required");
		return VGL_QUERY_ADD_REFUSED;
	}
	if (!r->by || strncmp(r->by, "operator:", 9) != 0 || !r->by[9]) {
		set_err(err, errlen, "cannot tell which operator is reclassifying");
		return VGL_QUERY_ADD_REFUSED;
	}
	/* IMMEDIATE: the cause compared is the cause replaced, even with the
	 * daemon revising the same interval at the same moment. */
	if (step_done(q->st[ST_BEGIN])) {
		db_err(q, err, errlen, "starting transaction");
		return VGL_QUERY_ADD_DB_ERROR;
	}
	res = reclassify_locked(q, r, out, err, errlen);
	if (res == VGL_QUERY_ADD_OK && step_done(q->st[ST_COMMIT])) {
		db_err(q, err, errlen, "committing");
		res = VGL_QUERY_ADD_DB_ERROR;
	}
	if (res != VGL_QUERY_ADD_OK) {
		if (!vgl_sql_get_autocommit(q->db))
			(void)step_done(q->st[ST_ROLLBACK]);
		vgl_query_reclassified_clear(out);
	}
	return res;
}
