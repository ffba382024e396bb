/* The daemon's writer: the synchronous calls, which the loop makes at
 * start and on reload and which block until done (the hosts' rows and
 * ids, the open intervals for restart recovery, the BMC event log
 * cursors). Apart from the writer
 * because they bypass the queue: they run on the caller's thread on the
 * writer's connection, held under db_mu for the whole transaction so that
 * they never interleave with a batch. Threads, locks and invariants: the
 * top of store.c.
 */
#include "storage/store_int.h"

#include <pthread.h>
#include <stdlib.h>

#include "core/log.h"

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

static int bind_host(struct vgl_sql_stmt *st, const struct vgl_conf_host *h, int with_name)
{
	return (with_name && vgl__store_bind_str(st, 1, h->name)) ||
	       vgl__store_bind_str(st, 2, h->address) || vgl__store_bind_str(st, 3, h->site) ||
	       vgl__store_bind_str(st, 4, h->service) || vgl__store_bind_str(st, 5, h->customer);
}

/* One host: its id, inserting or updating the row only if needed. */
static int sync_one_host(struct vgl_store *s, const struct vgl_conf_host *h, int64_t *id)
{
	struct vgl_sql_stmt *get = s->st[ST_HOST_GET], *st;
	int rc, same = 0, found = 0;

	if (bind_host(get, h, 1))
		return vgl_sql_errcode(s->db);
	rc = vgl_sql_step(get);
	if (rc == VGL_SQL_ROW) {
		found = 1;
		*id = vgl_sql_column_int64(get, 0);
		same = vgl_sql_column_int(get, 1);
		rc = vgl__store_step_done(get);
	} else {
		rc = rc == VGL_SQL_DONE ? vgl__store_step_done(get)
				       : (vgl__store_step_done(get), rc);
	}
	if (rc != VGL_SQL_OK || same)
		return rc;
	if (found) {
		st = s->st[ST_HOST_UPDATE];
		if (vgl_sql_bind_int64(st, 1, *id) || bind_host(st, h, 0))
			return vgl_sql_errcode(s->db);
		return vgl__store_step_done(st);
	}
	st = s->st[ST_HOST_INSERT];
	if (bind_host(st, h, 1))
		return vgl_sql_errcode(s->db);
	rc = vgl__store_step_done(st);
	if (rc == VGL_SQL_OK)
		*id = vgl_sql_last_insert_rowid(s->db);
	return rc;
}

/* Marks inactive every active host whose id is not in sorted[n]. */
static int deactivate_others(struct vgl_store *s, const int64_t *sorted, size_t n,
			     size_t *n_deactivated)
{
	struct vgl_sql_stmt *act = s->st[ST_HOSTS_ACTIVE], *off = s->st[ST_HOST_DEACTIVATE];
	int64_t *gone = NULL, *p;
	size_t n_gone = 0, cap = 0;
	int rc;

	/* Collected first, updated after: no writes to the table under an
	 * open scan of it. */
	while ((rc = vgl_sql_step(act)) == VGL_SQL_ROW) {
		int64_t id = vgl_sql_column_int64(act, 0);
		if (bsearch(&id, sorted, n, sizeof(*sorted), cmp_i64))
			continue;
		if (n_gone == cap) {
			cap = cap ? cap * 2 : 64;
			p = realloc(gone, cap * sizeof(*gone));
			if (!p) {
				rc = VGL_SQL_NOMEM;
				break;
			}
			gone = p;
		}
		gone[n_gone++] = id;
	}
	vgl_sql_reset(act);
	if (rc != VGL_SQL_DONE)
		goto out_free;
	rc = VGL_SQL_OK;
	for (size_t i = 0; i < n_gone && rc == VGL_SQL_OK; i++) {
		if (vgl_sql_bind_int64(off, 1, gone[i]))
			rc = vgl_sql_errcode(s->db);
		else
			rc = vgl__store_step_done(off);
	}
	*n_deactivated = n_gone;
out_free:
	free(gone);
	return rc;
}

int vgl_store_sync_hosts(struct vgl_store *s, const struct vgl_conf *c, int64_t *ids)
{
	int64_t *sorted = malloc((c->n_hosts ? c->n_hosts : 1) * sizeof(*sorted));
	size_t i = 0, n_off = 0;
	int rc;

	if (!sorted) {
		vgl_err("store %s: cannot sync hosts: out of memory", s->path);
		return -1;
	}
	pthread_mutex_lock(&s->db_mu);
	rc = vgl__store_step_done(s->st[ST_BEGIN]);
	if (rc != VGL_SQL_OK)
		goto out_unlock;
	for (i = 0; i < c->n_hosts; i++) {
		rc = sync_one_host(s, &c->hosts[i], &ids[i]);
		if (rc != VGL_SQL_OK)
			goto out_rollback;
		sorted[i] = ids[i];
	}
	qsort(sorted, c->n_hosts, sizeof(*sorted), cmp_i64);
	rc = deactivate_others(s, sorted, c->n_hosts, &n_off);
	if (rc != VGL_SQL_OK)
		goto out_rollback;
	rc = vgl__store_step_done(s->st[ST_COMMIT]);
	if (rc != VGL_SQL_OK)
		goto out_rollback;
	pthread_mutex_unlock(&s->db_mu);
	free(sorted);
	vgl_info("store %s: %zu configured host(s) synced, %zu no longer configured marked "
		 "inactive", s->path, c->n_hosts, n_off);
	return 0;

out_rollback:
	if (!vgl_sql_get_autocommit(s->db))
		vgl__store_step_done(s->st[ST_ROLLBACK]);
out_unlock:
	vgl_err("store %s: cannot sync hosts (at host %zu of %zu%s%s): %s (%s)", s->path, i,
		c->n_hosts, i < c->n_hosts ? ", " : "",
		i < c->n_hosts && c->hosts[i].name ? c->hosts[i].name : "", vgl_sql_errstr(rc),
		vgl_sql_errmsg(s->db));
	pthread_mutex_unlock(&s->db_mu);
	free(sorted);
	return -1;
}

int vgl_store_each_open_interval(struct vgl_store *s, vgl_store_open_fn *fn, void *ctx)
{
	struct vgl_sql_stmt *st = s->st[ST_EACH_OPEN];
	int rc;

	pthread_mutex_lock(&s->db_mu);
	while ((rc = vgl_sql_step(st)) == VGL_SQL_ROW) {
		const unsigned char *cause = vgl_sql_column_text(st, 1);
		const unsigned char *rule = vgl_sql_column_text(st, 2);
		fn(ctx, vgl_sql_column_int64(st, 0), cause ? (const char *)cause : "unknown",
		   rule ? (const char *)rule : "unknown", vgl_sql_column_int64(st, 3));
	}
	vgl_sql_reset(st);
	if (rc != VGL_SQL_DONE) {
		vgl_err("store %s: cannot list open intervals: %s", s->path,
			vgl_sql_errmsg(s->db));
		pthread_mutex_unlock(&s->db_mu);
		return -1;
	}
	pthread_mutex_unlock(&s->db_mu);
	return 0;
}

int vgl_store_each_cursor(struct vgl_store *s, vgl_store_cursor_fn *fn, void *ctx)
{
	struct vgl_sql_stmt *st = s->st[ST_EACH_CURSOR];
	int rc;

	pthread_mutex_lock(&s->db_mu);
	while ((rc = vgl_sql_step(st)) == VGL_SQL_ROW) {
		const unsigned char *source = vgl_sql_column_text(st, 1);
		const unsigned char *cursor = vgl_sql_column_text(st, 2);
		/* NOT NULL columns: NULL only when out of memory */
		if (!source || !cursor) {
			rc = VGL_SQL_NOMEM;
			break;
		}
		fn(ctx, vgl_sql_column_int64(st, 0), (const char *)source, (const char *)cursor);
	}
	vgl_sql_reset(st);
	pthread_mutex_unlock(&s->db_mu);
	if (rc != VGL_SQL_DONE) {
		vgl_err("store %s: cannot read the BMC event log cursors: %s", s->path,
			rc == VGL_SQL_NOMEM ? "out of memory" : vgl_sql_errmsg(s->db));
		return -1;
	}
	return 0;
}
