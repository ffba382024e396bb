/* storage/sql.h's calls, dispatched to the back end that owns the
 * connection (sql_int.h), and the choice of back end by target. */
#include "storage/sql.h"

#include <stdio.h>
#include <string.h>

#include <sqlite3.h>

#include "storage/sql_int.h"
#include "storage/sql_sqlite.h"
#include "storage/store.h"

int vgl_sql_target_is_pg(const char *target)
{
	return strncmp(target, "postgresql://", 13) == 0 || strncmp(target, "postgres://", 11) == 0;
}

int vgl_sql_open(const char *target, struct vgl_sql **out, char *err, size_t errlen)
{
	sqlite3 *db;

	*out = NULL;
	if (vgl_sql_target_is_pg(target))
		return vgl__sql_pg_open(target, out, err, errlen);
	if (vgl_db_open(target, &db, err, errlen) != 0)
		return -1;
	*out = vgl_sql_sqlite_wrap(db, 1);
	if (!*out) {
		sqlite3_close(db);
		snprintf(err, errlen, "%s: out of memory", target);
		return -1;
	}
	return 0;
}

int vgl_sql_close(struct vgl_sql *db)
{
	return db ? db->ops->close(db) : VGL_SQL_OK;
}

enum vgl_sql_kind vgl_sql_kind(const struct vgl_sql *db)
{
	return db->ops->kind;
}

const char *vgl_sql_errmsg(struct vgl_sql *db)
{
	return db->ops->errmsg(db);
}

int vgl_sql_errcode(struct vgl_sql *db)
{
	return db->ops->errcode(db);
}

const char *vgl_sql_errstr(int rc)
{
	return sqlite3_errstr(rc);
}

int64_t vgl_sql_changes(struct vgl_sql *db)
{
	return db->ops->changes(db);
}

int64_t vgl_sql_last_insert_rowid(struct vgl_sql *db)
{
	return db->ops->last_insert_rowid(db);
}

int vgl_sql_get_autocommit(struct vgl_sql *db)
{
	return db->ops->get_autocommit(db);
}

int vgl_sql_exec(struct vgl_sql *db, const char *sql)
{
	return db->ops->exec(db, sql);
}

int vgl_sql_writer_lock(struct vgl_sql *db)
{
	return db->ops->writer_lock(db);
}

int vgl_sql_prepare(struct vgl_sql *db, const char *sql, const char *sql_pg,
		    struct vgl_sql_stmt **st)
{
	*st = NULL;
	return db->ops->prepare(db, sql, sql_pg, st);
}

int vgl_sql_prepare_all(struct vgl_sql *db, const char *const *sql, const char *const *sql_pg,
			int n, struct vgl_sql_stmt **st)
{
	for (int i = 0; i < n; i++)
		st[i] = NULL;
	for (int i = 0; i < n; i++)
		if (vgl_sql_prepare(db, sql[i], sql_pg ? sql_pg[i] : NULL, &st[i]) != VGL_SQL_OK)
			return i;
	return -1;
}

int vgl_sql_finalize(struct vgl_sql_stmt *st)
{
	return st ? st->db->ops->finalize(st) : VGL_SQL_OK;
}

int vgl_sql_bind_int64(struct vgl_sql_stmt *st, int idx, int64_t v)
{
	return st->db->ops->bind_int64(st, idx, v);
}

int vgl_sql_bind_int(struct vgl_sql_stmt *st, int idx, int v)
{
	return st->db->ops->bind_int64(st, idx, v);
}

int vgl_sql_bind_text(struct vgl_sql_stmt *st, int idx, const char *s, int n,
		      enum vgl_sql_life life)
{
	return st->db->ops->bind_text(st, idx, s, n, life);
}

int vgl_sql_bind_null(struct vgl_sql_stmt *st, int idx)
{
	return st->db->ops->bind_null(st, idx);
}

int vgl_sql_clear_bindings(struct vgl_sql_stmt *st)
{
	return st->db->ops->clear_bindings(st);
}

int vgl_sql_step(struct vgl_sql_stmt *st)
{
	return st->db->ops->step(st);
}

int vgl_sql_reset(struct vgl_sql_stmt *st)
{
	return st->db->ops->reset(st);
}

int vgl_sql_column_type(struct vgl_sql_stmt *st, int col)
{
	return st->db->ops->column_type(st, col);
}

int64_t vgl_sql_column_int64(struct vgl_sql_stmt *st, int col)
{
	return st->db->ops->column_int64(st, col);
}

int vgl_sql_column_int(struct vgl_sql_stmt *st, int col)
{
	return (int)st->db->ops->column_int64(st, col);
}

const unsigned char *vgl_sql_column_text(struct vgl_sql_stmt *st, int col)
{
	return st->db->ops->column_text(st, col);
}
