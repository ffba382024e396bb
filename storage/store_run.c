/* The daemon's writer: the run rows. A run is one daemon lifetime: its
 * row, started at open and stopped at close, is how the next start tells
 * a clean stop from a crash and how long nobody was watching, which the
 * open intervals are then charged as unobserved. Apart from the writer
 * because none of it runs on the writer thread: open runs before the
 * thread starts and close after it is joined, so these hold no lock.
 * Threads, locks and invariants: the top of store.c.
 */
#include "core/version.h"
#include "storage/store_int.h"

#include <unistd.h>

#include "core/log.h"
#include "core/vtime.h"


/* In one transaction: the previous run, the unobserved gap on every open
 * interval, the new run row, and the events saying so. */
int vgl__store_start_run(struct vgl_store *s, int64_t now_ms)
{
	struct vgl_sql *db = s->db;
	struct vgl_sql_stmt *st = NULL;
	int64_t prev_id = 0, last_seen = 0, gap = 0;
	int have_prev = 0, clean = 0, rc, n_gaps = 0;
	char ts[VGL_ISO_LEN];

	rc = vgl__store_step_done(s->st[ST_BEGIN]);
	if (rc != VGL_SQL_OK)
		goto out_err;
	rc = vgl_sql_prepare(db, "SELECT id, heartbeat_ms, stopped_ms FROM runs "
				"ORDER BY id DESC LIMIT 1", NULL, &st);
	if (rc != VGL_SQL_OK)
		goto out_rollback;
	rc = vgl_sql_step(st);
	if (rc == VGL_SQL_ROW) {
		have_prev = 1;
		prev_id = vgl_sql_column_int64(st, 0);
		clean = vgl_sql_column_type(st, 2) != VGL_SQL_NULL;
		last_seen = clean ? vgl_sql_column_int64(st, 2) : vgl_sql_column_int64(st, 1);
		rc = VGL_SQL_DONE;
	}
	vgl_sql_finalize(st);
	st = NULL;
	if (rc != VGL_SQL_DONE)
		goto out_rollback;
	if (have_prev) {
		gap = now_ms - last_seen;
		if (gap < 0) {
			vgl_warn("store %s: previous run was last seen at %s, after this start; "
				 "clock stepped back? no unobserved gap recorded", s->path,
				 vgl_format_iso(last_seen, ts));
			gap = 0;
		}
	}
	if (gap > 0) {
		/* An interval that opened after the last heartbeat was seen
		 * open at its start: count from there. */
		rc = vgl_sql_prepare(db,
			"INSERT INTO events (ts_ms, host_id, interval_id, kind, detail) "
			"SELECT ?1, host_id, id, 'unobserved_gap', json_object("
			"'from_ms', MAX(?2, start_ms), 'to_ms', ?1, 'gap_ms', ?1 - MAX(?2, start_ms), "
			"'previous_run', ?3, 'previous_run_stopped', json(CASE WHEN ?4 THEN 'true' "
			"ELSE 'false' END)) FROM intervals WHERE end_ms IS NULL AND start_ms < ?1",
			"INSERT INTO events (ts_ms, host_id, interval_id, kind, detail) "
			"SELECT ?1, host_id, id, 'unobserved_gap', json_build_object("
			"'from_ms', GREATEST(?2::bigint, start_ms), 'to_ms', ?1::bigint, "
			"'gap_ms', ?1::bigint - GREATEST(?2::bigint, start_ms), "
			"'previous_run', ?3::bigint, 'previous_run_stopped', ?4::bigint <> 0)::text "
			"FROM intervals WHERE end_ms IS NULL AND start_ms < ?1", &st);
		if (rc != VGL_SQL_OK)
			goto out_rollback;
		if (vgl_sql_bind_int64(st, 1, now_ms) || vgl_sql_bind_int64(st, 2, last_seen) ||
		    vgl_sql_bind_int64(st, 3, prev_id) || vgl_sql_bind_int(st, 4, clean)) {
			rc = vgl_sql_errcode(db);
			goto out_rollback;
		}
		rc = vgl__store_step_done(st);
		vgl_sql_finalize(st);
		st = NULL;
		if (rc != VGL_SQL_OK)
			goto out_rollback;
		rc = vgl_sql_prepare(db,
					"UPDATE intervals SET unobserved_ms = unobserved_ms + "
					"(?1 - MAX(?2, start_ms)) WHERE end_ms IS NULL AND start_ms < ?1",
					"UPDATE intervals SET unobserved_ms = unobserved_ms + "
					"(?1::bigint - GREATEST(?2::bigint, start_ms)) "
					"WHERE end_ms IS NULL AND start_ms < ?1", &st);
		if (rc != VGL_SQL_OK)
			goto out_rollback;
		if (vgl_sql_bind_int64(st, 1, now_ms) || vgl_sql_bind_int64(st, 2, last_seen)) {
			rc = vgl_sql_errcode(db);
			goto out_rollback;
		}
		rc = vgl__store_step_done(st);
		n_gaps = vgl_sql_changes(db);
		vgl_sql_finalize(st);
		st = NULL;
		if (rc != VGL_SQL_OK)
			goto out_rollback;
	}
	rc = vgl_sql_prepare(db, "INSERT INTO runs (started_ms, heartbeat_ms, pid, version) "
				"VALUES (?1, ?1, ?2, ?3)",
			     "INSERT INTO runs (started_ms, heartbeat_ms, pid, version) "
			     "VALUES (?1, ?1, ?2, ?3) RETURNING id", &st);
	if (rc != VGL_SQL_OK)
		goto out_rollback;
	if (vgl_sql_bind_int64(st, 1, now_ms) || vgl_sql_bind_int64(st, 2, (int64_t)getpid()) ||
	    vgl_sql_bind_text(st, 3, VGL_VERSION, -1, VGL_SQL_STATIC)) {
		rc = vgl_sql_errcode(db);
		goto out_rollback;
	}
	rc = vgl__store_step_done(st);
	vgl_sql_finalize(st);
	st = NULL;
	if (rc != VGL_SQL_OK)
		goto out_rollback;
	s->run_id = vgl_sql_last_insert_rowid(db);
	rc = vgl_sql_prepare(db,
		"INSERT INTO events (ts_ms, kind, detail) VALUES (?1, 'daemon_start', json_object("
		"'run_id', ?2, 'pid', ?3, 'version', ?4, 'previous_run', ?5, "
		"'previous_run_stopped', json(CASE WHEN ?5 IS NULL THEN 'null' WHEN ?6 THEN 'true' "
		"ELSE 'false' END), 'unobserved_ms', ?7, 'open_intervals_affected', ?8))",
		"INSERT INTO events (ts_ms, kind, detail) VALUES (?1, 'daemon_start', json_build_object("
		"'run_id', ?2::bigint, 'pid', ?3::bigint, 'version', ?4::text, "
		"'previous_run', ?5::bigint, 'previous_run_stopped', "
		"CASE WHEN ?5::bigint IS NULL THEN NULL ELSE ?6::bigint <> 0 END, "
		"'unobserved_ms', ?7::bigint, 'open_intervals_affected', ?8::bigint)::text)", &st);
	if (rc != VGL_SQL_OK)
		goto out_rollback;
	if (vgl_sql_bind_int64(st, 1, now_ms) || vgl_sql_bind_int64(st, 2, s->run_id) ||
	    vgl_sql_bind_int64(st, 3, (int64_t)getpid()) ||
	    vgl_sql_bind_text(st, 4, VGL_VERSION, -1, VGL_SQL_STATIC) ||
	    (have_prev ? vgl_sql_bind_int64(st, 5, prev_id) : vgl_sql_bind_null(st, 5)) ||
	    vgl_sql_bind_int(st, 6, clean) || vgl_sql_bind_int64(st, 7, gap) ||
	    vgl_sql_bind_int(st, 8, n_gaps)) {
		rc = vgl_sql_errcode(db);
		goto out_rollback;
	}
	rc = vgl__store_step_done(st);
	vgl_sql_finalize(st);
	st = NULL;
	if (rc != VGL_SQL_OK)
		goto out_rollback;
	rc = vgl__store_step_done(s->st[ST_COMMIT]);
	if (rc != VGL_SQL_OK)
		goto out_rollback;
	if (have_prev)
		vgl_notice("store %s: run %lld started; previous run %lld %s at %s; %d open "
			   "interval(s) get %lld.%03lld s unobserved", s->path,
			   (long long)s->run_id, (long long)prev_id,
			   clean ? "stopped" : "was last seen (no clean stop)",
			   vgl_format_iso(last_seen, ts), n_gaps, (long long)(gap / 1000),
			   (long long)(gap % 1000));
	else
		vgl_notice("store %s: run %lld started (first run)", s->path, (long long)s->run_id);
	return 0;

out_rollback:
	vgl_sql_finalize(st);
	if (!vgl_sql_get_autocommit(db))
		vgl__store_step_done(s->st[ST_ROLLBACK]);
out_err:
	vgl_err("store %s: cannot start the run: %s", s->path, vgl_sql_errmsg(db));
	return -1;
}

int vgl__store_stop_run(struct vgl_store *s, int64_t now_ms)
{
	struct vgl_sql_stmt *st = NULL;
	int rc;

	rc = vgl__store_set_sync(s, 1);
	if (rc == VGL_SQL_OK)
		rc = vgl__store_step_done(s->st[ST_BEGIN]);
	if (rc != VGL_SQL_OK)
		return rc;
	rc = vgl_sql_prepare(s->db, "UPDATE runs SET stopped_ms = ?2, heartbeat_ms = ?2 "
				"WHERE id = ?1", NULL, &st);
	if (rc != VGL_SQL_OK)
		goto out_rollback;
	if (vgl_sql_bind_int64(st, 1, s->run_id) || vgl_sql_bind_int64(st, 2, now_ms)) {
		rc = vgl_sql_errcode(s->db);
		goto out_rollback;
	}
	rc = vgl__store_step_done(st);
	vgl_sql_finalize(st);
	st = NULL;
	if (rc != VGL_SQL_OK)
		goto out_rollback;
	rc = vgl_sql_prepare(s->db, "INSERT INTO events (ts_ms, kind, detail) VALUES (?1, "
				"'daemon_stop', json_object('run_id', ?2, 'samples_dropped', ?3))",
			     "INSERT INTO events (ts_ms, kind, detail) VALUES (?1, 'daemon_stop', "
			     "json_build_object('run_id', ?2::bigint, 'samples_dropped', ?3::bigint)::text)",
			     &st);
	if (rc != VGL_SQL_OK)
		goto out_rollback;
	if (vgl_sql_bind_int64(st, 1, now_ms) || vgl_sql_bind_int64(st, 2, s->run_id) ||
	    vgl_sql_bind_int64(st, 3, (int64_t)s->stats.samples_dropped)) {
		rc = vgl_sql_errcode(s->db);
		goto out_rollback;
	}
	rc = vgl__store_step_done(st);
	vgl_sql_finalize(st);
	st = NULL;
	if (rc != VGL_SQL_OK)
		goto out_rollback;
	rc = vgl__store_step_done(s->st[ST_COMMIT]);
	if (rc != VGL_SQL_OK)
		goto out_rollback;
	return VGL_SQL_OK;

out_rollback:
	vgl_sql_finalize(st);
	if (!vgl_sql_get_autocommit(s->db))
		vgl__store_step_done(s->st[ST_ROLLBACK]);
	return rc;
}
