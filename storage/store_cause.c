/* The daemon's writer: cause revisions and BMC event log cursors, the
 * writes the batch makes for vgl_store_interval_cause and
 * vgl_store_bmc_cursor. Apart from store.c because they are the writes
 * that touch interval_causes and bmc_cursors (migration 7), with rules of
 * their own: a revision applies to the host's open interval only, never
 * overrides an operator's reclassification, and leaves a history row and
 * an event whenever the cause changes. Writer thread, inside the batch's
 * transaction. Threads, locks and invariants: the top of store.c.
 */
#include "storage/store_int.h"

#include <stdio.h>
#include <string.h>

#include "core/log.h"
#include "core/vtime.h"

/* The host's open interval, read under the batch's write lock so that
 * what is compared is what is updated. 1 found, 0 none, or -(SQLite
 * error). by: the last operator who reclassified it, "" if none. */
static int open_interval(struct vgl_store *s, int64_t host_id, int64_t *id, char *cause,
			 size_t cause_len, char *by, size_t by_len)
{
	struct vgl_sql_stmt *st = s->st[ST_CAUSE_GET];
	int rc, found = 0;

	if (vgl_sql_bind_int64(st, 1, host_id))
		return -vgl_sql_errcode(s->db);
	rc = vgl_sql_step(st);
	if (rc == VGL_SQL_ROW) {
		const unsigned char *c = vgl_sql_column_text(st, 1);
		const unsigned char *b = vgl_sql_column_text(st, 3);

		found = 1;
		*id = vgl_sql_column_int64(st, 0);
		snprintf(cause, cause_len, "%s", c ? (const char *)c : "");
		snprintf(by, by_len, "%s", b ? (const char *)b : "");
	}
	if (rc == VGL_SQL_ROW || rc == VGL_SQL_DONE) {
		rc = vgl__store_step_done(st);
	} else {
		vgl__store_stmt_reset(st);
	}
	return rc == VGL_SQL_OK ? found : -rc;
}

/* The history row and the event of a change made by the daemon. */
static int record_change(struct vgl_store *s, const struct op *op, int64_t id,
			 const char *old_cause, const char *new_cause, const char *attribution)
{
	struct vgl_sql_stmt *st = s->st[ST_CAUSE_HISTORY];
	int rc;

	if (vgl_sql_bind_int64(st, 1, id) || vgl_sql_bind_int64(st, 2, op->ts_ms) ||
	    vgl__store_bind_str(st, 3, old_cause) || vgl__store_bind_str(st, 4, new_cause) ||
	    vgl__store_bind_str(st, 5, attribution))
		return vgl_sql_errcode(s->db);
	rc = vgl__store_step_done(st);
	if (rc != VGL_SQL_OK)
		return rc;
	st = s->st[ST_CAUSE_EVENT];
	if (vgl_sql_bind_int64(st, 1, op->ts_ms) || vgl_sql_bind_int64(st, 2, op->host_id) ||
	    vgl_sql_bind_int64(st, 3, id) || vgl__store_bind_str(st, 4, old_cause) ||
	    vgl__store_bind_str(st, 5, new_cause))
		return vgl_sql_errcode(s->db);
	return vgl__store_step_done(st);
}

int vgl__store_write_cause(struct vgl_store *s, const struct op *op, size_t idx)
{
	const struct queue *w = &s->work;
	const char *name = vgl__store_queue_str(w, op->str[S_NAME]);
	const char *cause = vgl__store_queue_str(w, op->str[S_CAUSE]);
	const char *attribution = vgl__store_queue_str(w, op->str[S_EVIDENCE]);
	char old[32], by[160];
	struct vgl_sql_stmt *st;
	int64_t id = 0;
	int rc, same;

	rc = open_interval(s, op->host_id, &id, old, sizeof(old), by, sizeof(by));
	if (rc < 0) {
		rc = -rc;
		if (vgl__store_transient(rc))
			return rc;
		vgl_err("host %s: cause revision to %s refused by the database: %s",
			name ? name : "?", cause, vgl_sql_errmsg(s->db));
		return VGL_SQL_OK;
	}
	if (rc == 0) {
		/* Closed meanwhile (the close was queued first): the revision
		 * was about a stretch that is over. */
		vgl_debug("host %s: cause revision to %s: no open interval; nothing revised",
			  name ? name : "?", cause);
		return VGL_SQL_OK;
	}
	same = strcmp(old, cause) == 0;
	if (by[0]) {
		/* An operator's reclassification is final: not its cause, nor
		 * the evidence it was judged on, is the daemon's to change. */
		vgl_info("host %s: interval %lld keeps cause %s (reclassified by %s); the "
			 "daemon's attribution %s is not applied", name ? name : "?",
			 (long long)id, old, by, cause);
		return VGL_SQL_OK;
	}
	/* One group: the cause, the evidence, the history row and the event
	 * stand or fall together, never a cause changed without its record. */
	rc = vgl__store_step_done(s->st[ST_CAUSE_SAVEPOINT]);
	if (rc != VGL_SQL_OK)
		return rc;
	st = s->st[ST_CAUSE_SET];
	if (vgl_sql_bind_int64(st, 1, id) || vgl__store_bind_str(st, 2, same ? old : cause) ||
	    vgl__store_bind_str(st, 3, attribution))
		rc = vgl_sql_errcode(s->db);
	else
		rc = vgl__store_step_done(st);
	if (rc == VGL_SQL_OK && !same)
		rc = record_change(s, op, id, old, cause, attribution);
	if (rc == VGL_SQL_OK)
		rc = vgl__store_step_done(s->st[ST_CAUSE_RELEASE]);
	if (rc == VGL_SQL_OK)
		return same ? VGL_SQL_OK : vgl__store_done_push(s, idx, id, 0, old);
	if (vgl__store_transient(rc) || vgl_sql_get_autocommit(s->db))
		return rc;      /* the batch fails and is retried whole */
	vgl_err("host %s: cause revision of interval %lld (%s -> %s) refused by the database: "
		"%s; nothing of it written", name ? name : "?", (long long)id, old, cause,
		vgl_sql_errmsg(s->db));
	if (vgl__store_step_done(s->st[ST_CAUSE_UNDO]) != VGL_SQL_OK)
		return rc;
	return vgl__store_step_done(s->st[ST_CAUSE_RELEASE]);
}

void vgl__store_log_cause(struct vgl_store *s, const struct done *d)
{
	const struct op *op = &s->work.ops[d->op];
	const char *name = vgl__store_queue_str(&s->work, op->str[S_NAME]);
	const char *cause = vgl__store_queue_str(&s->work, op->str[S_CAUSE]);

	vgl_notice("host %s: interval %lld cause %s -> %s (by vigild): committed",
		   name ? name : "?", (long long)d->interval_id, d->cause, cause);
}

int vgl__store_write_cursor(struct vgl_store *s, const struct op *op)
{
	struct vgl_sql_stmt *st = s->st[ST_CURSOR_PUT];
	const char *source = vgl__store_queue_str(&s->work, op->str[S_NAME]);
	int rc;

	if (vgl_sql_bind_int64(st, 1, op->host_id) || vgl__store_bind_str(st, 2, source) ||
	    vgl__store_bind_str(st, 3, vgl__store_queue_str(&s->work, op->str[S_EVIDENCE])) ||
	    vgl_sql_bind_int64(st, 4, vgl_now_ms()))
		return vgl_sql_errcode(s->db);
	rc = vgl__store_step_done(st);
	if (rc != VGL_SQL_OK && !vgl__store_transient(rc)) {
		/* an unknown host id: a bug upstream; the next read of the
		 * event log writes the cursor again */
		vgl_err("host id %lld: cursor of source %s refused by the database: %s",
			(long long)op->host_id, source ? source : "?", vgl_sql_errmsg(s->db));
		return VGL_SQL_OK;
	}
	return rc;
}
