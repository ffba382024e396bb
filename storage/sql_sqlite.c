/* storage/sql.h over SQLite: every call is the sqlite3 call of the same
 * name, so the embedded default pays one indirect call and nothing else.
 * The result codes are SQLite's own (asserted below), and the PostgreSQL
 * texts of statements are ignored here. */
#include "storage/sql_sqlite.h"

#include <stdlib.h>

#include "storage/sql_int.h"

_Static_assert(VGL_SQL_OK == SQLITE_OK && VGL_SQL_ERROR == SQLITE_ERROR &&
		       VGL_SQL_BUSY == SQLITE_BUSY && VGL_SQL_LOCKED == SQLITE_LOCKED &&
		       VGL_SQL_NOMEM == SQLITE_NOMEM && VGL_SQL_IOERR == SQLITE_IOERR &&
		       VGL_SQL_CONSTRAINT == SQLITE_CONSTRAINT && VGL_SQL_MISUSE == SQLITE_MISUSE &&
		       VGL_SQL_RANGE == SQLITE_RANGE && VGL_SQL_ROW == SQLITE_ROW &&
		       VGL_SQL_DONE == SQLITE_DONE && VGL_SQL_INTERNAL == SQLITE_INTERNAL &&
		       VGL_SQL_READONLY == SQLITE_READONLY && VGL_SQL_INTERRUPT == SQLITE_INTERRUPT &&
		       VGL_SQL_CORRUPT == SQLITE_CORRUPT && VGL_SQL_FULL == SQLITE_FULL &&
		       VGL_SQL_CANTOPEN == SQLITE_CANTOPEN && VGL_SQL_PROTOCOL == SQLITE_PROTOCOL &&
		       VGL_SQL_NOTADB == SQLITE_NOTADB,
	       "sql.h result codes are SQLite's");
_Static_assert(VGL_SQL_INTEGER == SQLITE_INTEGER && VGL_SQL_FLOAT == SQLITE_FLOAT &&
		       VGL_SQL_TEXT == SQLITE_TEXT && VGL_SQL_NULL == SQLITE_NULL,
	       "sql.h column types are SQLite's");

struct sq {
	struct vgl_sql base;
	sqlite3 *db;
	int owned;
};

struct sq_stmt {
	struct vgl_sql_stmt base;
	sqlite3_stmt *st;
};

#define SQ(d) (((struct sq *)(d))->db)
#define ST(s) (((struct sq_stmt *)(s))->st)

static int sq_close(struct vgl_sql *d)
{
	struct sq *q = (struct sq *)d;
	int rc = q->owned ? sqlite3_close(q->db) : SQLITE_OK;

	free(q);
	return rc;
}

static const char *sq_errmsg(struct vgl_sql *d)
{
	return sqlite3_errmsg(SQ(d));
}

static int sq_errcode(struct vgl_sql *d)
{
	return sqlite3_errcode(SQ(d));
}

static int64_t sq_changes(struct vgl_sql *d)
{
	return sqlite3_changes64(SQ(d));
}

static int64_t sq_last_insert_rowid(struct vgl_sql *d)
{
	return sqlite3_last_insert_rowid(SQ(d));
}

static int sq_get_autocommit(struct vgl_sql *d)
{
	return sqlite3_get_autocommit(SQ(d));
}

static int sq_exec(struct vgl_sql *d, const char *sql)
{
	return sqlite3_exec(SQ(d), sql, NULL, NULL, NULL);
}

static int sq_writer_lock(struct vgl_sql *d)
{
	(void)d;
	return SQLITE_OK;
}

static int sq_prepare(struct vgl_sql *d, const char *sql, const char *sql_pg,
		      struct vgl_sql_stmt **out)
{
	struct sq_stmt *s = malloc(sizeof(*s));
	int rc;

	(void)sql_pg;
	if (!s)
		return SQLITE_NOMEM;
	/* PERSISTENT: prepared once, stepped for the life of the daemon. */
	rc = sqlite3_prepare_v3(SQ(d), sql, -1, SQLITE_PREPARE_PERSISTENT, &s->st, NULL);
	if (rc != SQLITE_OK) {
		free(s);
		return rc;
	}
	s->base.db = d;
	*out = &s->base;
	return SQLITE_OK;
}

static int sq_finalize(struct vgl_sql_stmt *st)
{
	int rc = sqlite3_finalize(ST(st));

	free(st);
	return rc;
}

static int sq_bind_int64(struct vgl_sql_stmt *st, int idx, int64_t v)
{
	return sqlite3_bind_int64(ST(st), idx, v);
}

static int sq_bind_text(struct vgl_sql_stmt *st, int idx, const char *s, int n,
			enum vgl_sql_life life)
{
	return sqlite3_bind_text(ST(st), idx, s, n,
				 life == VGL_SQL_TRANSIENT ? SQLITE_TRANSIENT : SQLITE_STATIC);
}

static int sq_bind_null(struct vgl_sql_stmt *st, int idx)
{
	return sqlite3_bind_null(ST(st), idx);
}

static int sq_clear_bindings(struct vgl_sql_stmt *st)
{
	return sqlite3_clear_bindings(ST(st));
}

static int sq_step(struct vgl_sql_stmt *st)
{
	return sqlite3_step(ST(st));
}

static int sq_reset(struct vgl_sql_stmt *st)
{
	return sqlite3_reset(ST(st));
}

static int sq_column_type(struct vgl_sql_stmt *st, int col)
{
	return sqlite3_column_type(ST(st), col);
}

static int64_t sq_column_int64(struct vgl_sql_stmt *st, int col)
{
	return sqlite3_column_int64(ST(st), col);
}

static const unsigned char *sq_column_text(struct vgl_sql_stmt *st, int col)
{
	return sqlite3_column_text(ST(st), col);
}

static const struct vgl_sql_ops sq_ops = {
	.kind = VGL_SQL_SQLITE,
	.close = sq_close,
	.errmsg = sq_errmsg,
	.errcode = sq_errcode,
	.changes = sq_changes,
	.last_insert_rowid = sq_last_insert_rowid,
	.get_autocommit = sq_get_autocommit,
	.exec = sq_exec,
	.writer_lock = sq_writer_lock,
	.prepare = sq_prepare,
	.finalize = sq_finalize,
	.bind_int64 = sq_bind_int64,
	.bind_text = sq_bind_text,
	.bind_null = sq_bind_null,
	.clear_bindings = sq_clear_bindings,
	.step = sq_step,
	.reset = sq_reset,
	.column_type = sq_column_type,
	.column_int64 = sq_column_int64,
	.column_text = sq_column_text,
};

struct vgl_sql *vgl_sql_sqlite_wrap(sqlite3 *db, int owned)
{
	struct sq *q = malloc(sizeof(*q));

	if (!q)
		return NULL;
	q->base.ops = &sq_ops;
	q->db = db;
	q->owned = owned;
	return &q->base;
}

sqlite3 *vgl_sql_sqlite_db(struct vgl_sql *db)
{
	return db && db->ops == &sq_ops ? SQ(db) : NULL;
}
