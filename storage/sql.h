/* storage/sql.h: the one interface the storage code talks to, over SQLite
 * (storage/sql_sqlite.c, the embedded default) or PostgreSQL
 * (storage/sql_pg.c, the shared store of docs/scale-out.md).
 *
 * The calls are sqlite3's, renamed: prepare once, bind, step, read
 * columns, reset; the result codes are SQLite's numbers, so the storage
 * code keeps one error path (vgl__store_transient and the like) whichever
 * back end answers. Parameters are written ?1, ?2, ... in both dialects;
 * the PostgreSQL back end rewrites them to $1, $2, .... A statement may
 * carry a second text for PostgreSQL where the dialects differ
 * (json_object, MAX(a, b), IS ?N, RETURNING for the inserted id); NULL
 * means the same text serves both.
 *
 * Threads: a connection and its statements belong to one thread at a time,
 * as SQLite's connections did before this layer (the storage files say
 * which thread). Nothing here is shared between connections. */
#ifndef VGL_SQL_H
#define VGL_SQL_H

#include <stddef.h>
#include <stdint.h>

struct vgl_sql;
struct vgl_sql_stmt;

/* SQLite's primary result codes (sql_sqlite.c asserts they are equal).
 * The PostgreSQL back end maps SQLSTATE onto them: class 23 and a
 * trigger's RAISE are CONSTRAINT, a serialization failure or deadlock is
 * BUSY, a lost connection IOERR (transient: the writer retries). */
enum {
	VGL_SQL_OK = 0,
	VGL_SQL_ERROR = 1,
	VGL_SQL_INTERNAL = 2,
	VGL_SQL_BUSY = 5,
	VGL_SQL_LOCKED = 6,
	VGL_SQL_NOMEM = 7,
	VGL_SQL_READONLY = 8,
	VGL_SQL_INTERRUPT = 9,
	VGL_SQL_IOERR = 10,
	VGL_SQL_CORRUPT = 11,
	VGL_SQL_FULL = 13,
	VGL_SQL_CANTOPEN = 14,
	VGL_SQL_PROTOCOL = 15,
	VGL_SQL_CONSTRAINT = 19,
	VGL_SQL_MISUSE = 21,
	VGL_SQL_RANGE = 25,
	VGL_SQL_NOTADB = 26,
	VGL_SQL_ROW = 100,
	VGL_SQL_DONE = 101,
};

/* Column types, SQLite's numbers. */
enum { VGL_SQL_INTEGER = 1, VGL_SQL_FLOAT = 2, VGL_SQL_TEXT = 3, VGL_SQL_NULL = 5 };

/* bind_text lifetimes: STATIC text stays valid and unchanged until the
 * statement is reset or rebound; TRANSIENT text is copied at bind. */
enum vgl_sql_life { VGL_SQL_STATIC, VGL_SQL_TRANSIENT };

enum vgl_sql_kind { VGL_SQL_SQLITE, VGL_SQL_PG };

/* The store's target: a postgresql:// (or postgres://) URL, or else a path
 * to an SQLite file. Opens and migrates (storage/migrate.c and
 * storage/migrate_pg.c); on failure *out is NULL and err says why, naming
 * the file or the server (never the password). */
int vgl_sql_open(const char *target, struct vgl_sql **out, char *err, size_t errlen);
/* 1 when target names a PostgreSQL server rather than a file. */
int vgl_sql_target_is_pg(const char *target);
int vgl_sql_close(struct vgl_sql *db);
enum vgl_sql_kind vgl_sql_kind(const struct vgl_sql *db);

const char *vgl_sql_errmsg(struct vgl_sql *db);
int vgl_sql_errcode(struct vgl_sql *db);
const char *vgl_sql_errstr(int rc);
/* Rows changed by the last INSERT, UPDATE or DELETE on this connection. */
int64_t vgl_sql_changes(struct vgl_sql *db);
/* The id of the row the last INSERT made (on PostgreSQL: what its
 * RETURNING id answered). */
int64_t vgl_sql_last_insert_rowid(struct vgl_sql *db);
/* 1 outside a transaction. */
int vgl_sql_get_autocommit(struct vgl_sql *db);
/* A statement with neither parameters nor rows to read (BEGIN, COMMIT,
 * PRAGMA or SET, DDL). BEGIN IMMEDIATE is BEGIN on PostgreSQL, whose rows
 * lock as they are written. */
int vgl_sql_exec(struct vgl_sql *db, const char *sql);
/* The one-writer lock of a shared database, held for the connection's
 * life and taken again on a reconnect: VGL_SQL_OK, or VGL_SQL_BUSY while
 * another connection holds it (after a reconnect found it taken, every
 * call answers BUSY: a writer that lost the lock writes nothing more).
 * SQLite: always OK (one daemon owns its file). */
int vgl_sql_writer_lock(struct vgl_sql *db);

int vgl_sql_prepare(struct vgl_sql *db, const char *sql, const char *sql_pg,
		    struct vgl_sql_stmt **st);
/* Prepares sql[0..n) (with sql_pg[i] for PostgreSQL where sql_pg and
 * sql_pg[i] are not NULL); returns -1, or the index of the first that
 * failed (its error in vgl_sql_errmsg(db)) with every st[] either prepared
 * or NULL, so the caller finalizes them all either way. */
int vgl_sql_prepare_all(struct vgl_sql *db, const char *const *sql, const char *const *sql_pg,
			int n, struct vgl_sql_stmt **st);
int vgl_sql_finalize(struct vgl_sql_stmt *st);
int vgl_sql_bind_int64(struct vgl_sql_stmt *st, int idx, int64_t v);
int vgl_sql_bind_int(struct vgl_sql_stmt *st, int idx, int v);
/* n: bytes, or -1 up to the NUL. */
int vgl_sql_bind_text(struct vgl_sql_stmt *st, int idx, const char *s, int n,
		      enum vgl_sql_life life);
int vgl_sql_bind_null(struct vgl_sql_stmt *st, int idx);
int vgl_sql_clear_bindings(struct vgl_sql_stmt *st);
int vgl_sql_step(struct vgl_sql_stmt *st);
/* Ends the statement's current run (reading off rows left); binds stay.
 * Returns the error of the run it ends, as sqlite3_reset does. */
int vgl_sql_reset(struct vgl_sql_stmt *st);
int vgl_sql_column_type(struct vgl_sql_stmt *st, int col);
int64_t vgl_sql_column_int64(struct vgl_sql_stmt *st, int col);
int vgl_sql_column_int(struct vgl_sql_stmt *st, int col);
/* Valid until the next step, reset or finalize of st. */
const unsigned char *vgl_sql_column_text(struct vgl_sql_stmt *st, int col);

#endif
