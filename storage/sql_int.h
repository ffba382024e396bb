/* Internals of storage/sql.h (not an API): each back end fills a table of
 * operations and puts struct vgl_sql / struct vgl_sql_stmt first in its own
 * structs; storage/sql.c dispatches through the table. */
#ifndef VGL_SQL_INT_H
#define VGL_SQL_INT_H

#include "storage/sql.h"

struct vgl_sql_ops {
	enum vgl_sql_kind kind;
	int (*close)(struct vgl_sql *db);
	const char *(*errmsg)(struct vgl_sql *db);
	int (*errcode)(struct vgl_sql *db);
	int64_t (*changes)(struct vgl_sql *db);
	int64_t (*last_insert_rowid)(struct vgl_sql *db);
	int (*get_autocommit)(struct vgl_sql *db);
	int (*exec)(struct vgl_sql *db, const char *sql);
	int (*writer_lock)(struct vgl_sql *db);
	int (*prepare)(struct vgl_sql *db, const char *sql, const char *sql_pg,
		       struct vgl_sql_stmt **st);
	int (*finalize)(struct vgl_sql_stmt *st);
	int (*bind_int64)(struct vgl_sql_stmt *st, int idx, int64_t v);
	int (*bind_text)(struct vgl_sql_stmt *st, int idx, const char *s, int n,
			 enum vgl_sql_life life);
	int (*bind_null)(struct vgl_sql_stmt *st, int idx);
	int (*clear_bindings)(struct vgl_sql_stmt *st);
	int (*step)(struct vgl_sql_stmt *st);
	int (*reset)(struct vgl_sql_stmt *st);
	int (*column_type)(struct vgl_sql_stmt *st, int col);
	int64_t (*column_int64)(struct vgl_sql_stmt *st, int col);
	const unsigned char *(*column_text)(struct vgl_sql_stmt *st, int col);
};

struct vgl_sql {
	const struct vgl_sql_ops *ops;
};

struct vgl_sql_stmt {
	struct vgl_sql *db;
};

/* storage/sql_pg.c: connects and migrates. */
int vgl__sql_pg_open(const char *conninfo, struct vgl_sql **out, char *err, size_t errlen);
/* storage/migrate_pg.c: brings the schema to VGL_SCHEMA_VERSION_LATEST;
 * who names the server in errors. */
int vgl__pg_migrate(struct vgl_sql *db, const char *who, char *err, size_t errlen);

#endif
