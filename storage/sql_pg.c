/* storage/sql.h over PostgreSQL (libpq).
 *
 * Statements are PQprepare'd once under a name of their own and run with
 * PQsendQueryPrepared in single-row mode, so that a year of intervals is
 * read a row at a time as SQLite's step reads it, never held whole in
 * memory. Parameters travel as text (an int64 in decimal), as libpq's text
 * protocol carries them; columns come back as text and are typed from
 * PQftype: int2/int4/int8, bool and integral numerics read as integers,
 * as SQLite's would.
 *
 * A statement is IDLE (bound, not sent) -> RUNNING (sent, rows being read)
 * -> IDLE again at DONE, an error or a reset. libpq allows one query in
 * flight per connection while SQLite lets statements interleave (the
 * intervals listing steps each interval's cause history inside its own
 * loop): a statement that must run while another is RUNNING first moves
 * the other's remaining rows into memory (BUFFERED), and the other's later
 * steps read them from there. Only such an outer statement is held whole,
 * and only from the moment it was interleaved.
 *
 * An INSERT whose SQLite text has no RETURNING but whose PostgreSQL text
 * ends in RETURNING id gives that id to vgl_sql_last_insert_rowid and
 * steps to DONE, as the SQLite statement does.
 *
 * Errors map onto SQLite's codes (sql.h): a lost connection is IOERR,
 * which the writer treats as transient and retries. The next call after a
 * loss reconnects (PQreset, at most once a second) and prepares every
 * statement of the connection again, under the same names, before it
 * runs: prepared statements live in the server's session, which died with
 * the connection. */
#include "storage/sql_int.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <time.h>
#include <stdlib.h>
#include <string.h>

#define OID_BOOL 16
#define OID_INT8 20
#define OID_INT2 21
#define OID_INT4 23
#define OID_FLOAT4 700
#define OID_FLOAT8 701
#define OID_NUMERIC 1700

struct pg_stmt;

struct pg {
	struct vgl_sql base;
	PGconn *conn;
	unsigned next_name;
	int errcode;
	int64_t changes;
	int64_t last_id;
	struct pg_stmt *running; /* the one statement with a query in flight */
	struct pg_stmt *stmts;	 /* every prepared statement, to prepare again */
	int64_t next_reset_ms;	 /* no reconnect attempt before (monotonic) */
	int writer;		 /* holds (or must hold) the writer lock */
	int fenced;		 /* lost it across a reconnect: refuses everything */
	char errmsg[512];
};

struct pg_stmt {
	struct vgl_sql_stmt base;
	char name[24];
	int nparams;
	int returns_id; /* swallow the RETURNING row into last_id */
	char *text;	/* as prepared, in PostgreSQL's dialect */
	struct pg_stmt *prev, *next;
	int running;
	int buffered;	/* rows read off into buf, served by step */
	int buf_rc;	/* what step answers after the last buffered row */
	PGresult **buf;
	size_t nbuf, ibuf, capbuf;
	char **vals;	/* what is bound, as text; NULL is SQL NULL */
	PGresult *row;	/* the current row, in single-row mode */
};

#define PG(d) ((struct pg *)(d))
#define PS(s) ((struct pg_stmt *)(s))

static void set_err(struct pg *db, int code, const char *msg)
{
	size_t n;

	db->errcode = code;
	snprintf(db->errmsg, sizeof(db->errmsg), "%s", msg && *msg ? msg : "unknown error");
	n = strlen(db->errmsg);
	while (n > 0 && (db->errmsg[n - 1] == '\n' || db->errmsg[n - 1] == ' '))
		db->errmsg[--n] = '\0';
}

/* SQLSTATE to SQLite's codes: what the storage code decides on is
 * "transient, retry" (BUSY, IOERR) versus "this statement was refused"
 * (CONSTRAINT) versus a bug (ERROR). */
static int classify(struct pg *db, const PGresult *r)
{
	const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;

	if (PQstatus(db->conn) != CONNECTION_OK)
		return VGL_SQL_IOERR;
	if (!state)
		return VGL_SQL_ERROR;
	/* class 23: integrity constraints; P0001: a trigger's RAISE, the
	 * PostgreSQL form of the SQLite triggers' RAISE(ABORT, ...). */
	if (strncmp(state, "23", 2) == 0 || strcmp(state, "P0001") == 0)
		return VGL_SQL_CONSTRAINT;
	/* serialization failure, deadlock, lock not available */
	if (strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0 ||
	    strcmp(state, "55P03") == 0)
		return VGL_SQL_BUSY;
	/* class 08: connection exception; 57P0x: the server shutting down */
	if (strncmp(state, "08", 2) == 0 || strncmp(state, "57P0", 4) == 0)
		return VGL_SQL_IOERR;
	if (strcmp(state, "57014") == 0)
		return VGL_SQL_INTERRUPT;
	if (strcmp(state, "53100") == 0) /* disk full */
		return VGL_SQL_FULL;
	return VGL_SQL_ERROR;
}

/* The primary message alone ("maintenance windows are never deleted:
 * cancel them"), as SQLite words a trigger's refusal; libpq's whole text
 * when there is no server message (a lost connection). */
static int fail_result(struct pg *db, PGresult *r)
{
	int rc = classify(db, r);
	const char *primary = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;

	set_err(db, rc, primary ? primary : PQerrorMessage(db->conn));
	return rc;
}

static void clear_buffer(struct pg_stmt *st)
{
	for (size_t i = st->ibuf; i < st->nbuf; i++)
		PQclear(st->buf[i]);
	free(st->buf);
	st->buf = NULL;
	st->nbuf = st->ibuf = st->capbuf = 0;
	st->buffered = 0;
}

static void drain(struct pg_stmt *st)
{
	struct pg *db = PG(st->base.db);
	PGresult *r;

	PQclear(st->row);
	st->row = NULL;
	clear_buffer(st);
	if (st->running) {
		while ((r = PQgetResult(db->conn)) != NULL)
			PQclear(r);
		st->running = 0;
		if (db->running == st)
			db->running = NULL;
	}
}

/* Makes room for another statement's query: the RUNNING one's remaining
 * results move into its buffer, in order, with its outcome. */
static void set_aside(struct pg *db)
{
	struct pg_stmt *st = db->running;
	PGresult *r;

	if (!st)
		return;
	st->buf_rc = VGL_SQL_DONE;
	while ((r = PQgetResult(db->conn)) != NULL) {
		ExecStatusType t = PQresultStatus(r);

		if (t == PGRES_SINGLE_TUPLE && st->buf_rc == VGL_SQL_DONE) {
			if (st->nbuf == st->capbuf) {
				size_t cap = st->capbuf ? st->capbuf * 2 : 64;
				PGresult **nb = realloc(st->buf, cap * sizeof(*nb));

				if (!nb) {
					PQclear(r);
					set_err(db, VGL_SQL_NOMEM, "out of memory");
					st->buf_rc = VGL_SQL_NOMEM;
					continue;
				}
				st->buf = nb;
				st->capbuf = cap;
			}
			st->buf[st->nbuf++] = r;
			continue;
		}
		if (t != PGRES_SINGLE_TUPLE && t != PGRES_TUPLES_OK && t != PGRES_COMMAND_OK &&
		    st->buf_rc == VGL_SQL_DONE)
			st->buf_rc = fail_result(db, r);
		PQclear(r);
	}
	st->running = 0;
	st->buffered = 1;
	db->running = NULL;
}

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* UTC and UTF-8, so that times and text read as in SQLite; the schema's
 * COLLATE "C" gives byte order to ORDER BY. */
static int session_setup(PGconn *c)
{
	PGresult *r = PQexec(c, "SET TIME ZONE 'UTC'; SET client_encoding = 'UTF8'; "
				"SET client_min_messages = warning");
	int ok = PQresultStatus(r) == PGRES_COMMAND_OK;

	PQclear(r);
	return ok ? 0 : -1;
}

/* Any constant of our own (docs/scale-out.md): the session-level advisory
 * lock of the database's one writer. */
#define WRITER_LOCK_SQL "SELECT pg_try_advisory_lock(7669676901)"

/* 1 taken, 0 held by another session, -1 error. */
static int try_writer_lock(struct pg *db)
{
	PGresult *r = PQexec(db->conn, WRITER_LOCK_SQL);
	int got = -1;

	if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1)
		got = PQgetvalue(r, 0, 0)[0] == 't';
	else
		fail_result(db, r);
	PQclear(r);
	return got;
}

/* A live connection with every statement prepared, or IOERR; BUSY for a
 * writer that found its lock taken when it came back. */
static int ensure_conn(struct pg *db)
{
	PGresult *r;

	if (db->fenced) {
		set_err(db, VGL_SQL_BUSY, "another writer took this database's writer lock "
			"while the connection was lost; writing nothing more");
		return VGL_SQL_BUSY;
	}
	if (PQstatus(db->conn) == CONNECTION_OK)
		return VGL_SQL_OK;
	/* What was in flight died with the session. */
	for (struct pg_stmt *st = db->stmts; st; st = st->next) {
		PQclear(st->row);
		st->row = NULL;
		clear_buffer(st);
		st->running = 0;
	}
	db->running = NULL;
	if (mono_ms() < db->next_reset_ms) {
		set_err(db, VGL_SQL_IOERR, "connection to the server lost; reconnecting");
		return VGL_SQL_IOERR;
	}
	db->next_reset_ms = mono_ms() + 1000;
	PQreset(db->conn);
	if (PQstatus(db->conn) != CONNECTION_OK || session_setup(db->conn) != 0) {
		set_err(db, VGL_SQL_IOERR, PQerrorMessage(db->conn));
		return VGL_SQL_IOERR;
	}
	if (db->writer) {
		int got = try_writer_lock(db);

		if (got < 0)
			return db->errcode;
		if (!got) {
			db->fenced = 1;
			return ensure_conn(db);
		}
	}
	for (struct pg_stmt *st = db->stmts; st; st = st->next) {
		r = PQprepare(db->conn, st->name, st->text, 0, NULL);
		if (PQresultStatus(r) != PGRES_COMMAND_OK) {
			int rc = fail_result(db, r);

			PQclear(r);
			return rc;
		}
		PQclear(r);
	}
	return VGL_SQL_OK;
}

static int pg_writer_lock(struct vgl_sql *d)
{
	struct pg *db = PG(d);
	int rc = ensure_conn(db), got;

	if (rc != VGL_SQL_OK)
		return rc;
	if (db->writer)
		return VGL_SQL_OK;
	set_aside(db);
	got = try_writer_lock(db);
	if (got < 0)
		return db->errcode;
	if (!got) {
		set_err(db, VGL_SQL_BUSY, "another vigild holds this database's writer lock");
		return VGL_SQL_BUSY;
	}
	db->writer = 1;
	return VGL_SQL_OK;
}

static int pg_close(struct vgl_sql *d)
{
	PQfinish(PG(d)->conn);
	free(d);
	return VGL_SQL_OK;
}

static const char *pg_errmsg(struct vgl_sql *d)
{
	return PG(d)->errmsg;
}

static int pg_errcode(struct vgl_sql *d)
{
	return PG(d)->errcode;
}

static int64_t pg_changes(struct vgl_sql *d)
{
	return PG(d)->changes;
}

static int64_t pg_last_insert_rowid(struct vgl_sql *d)
{
	return PG(d)->last_id;
}

static int pg_get_autocommit(struct vgl_sql *d)
{
	return PQtransactionStatus(PG(d)->conn) == PQTRANS_IDLE;
}

/* SQLite's transaction openers, said PostgreSQL's way: IMMEDIATE takes the
 * write lock up front, and PostgreSQL's rows lock as they are written;
 * DEFERRED gives a reader one snapshot, which READ COMMITTED would not. */
static const char *pg_same_intent(const char *sql)
{
	if (strcmp(sql, "BEGIN IMMEDIATE") == 0)
		return "BEGIN";
	if (strcmp(sql, "BEGIN DEFERRED") == 0)
		return "BEGIN ISOLATION LEVEL REPEATABLE READ";
	return sql;
}

static int pg_exec(struct vgl_sql *d, const char *sql)
{
	struct pg *db = PG(d);
	PGresult *r;
	int rc = VGL_SQL_OK;

	if ((rc = ensure_conn(db)) != VGL_SQL_OK)
		return rc;
	set_aside(db);
	/* synchronous=NORMAL in WAL mode may lose the last commits to
	 * an OS crash but never consistency: synchronous_commit=off is that
	 * promise on PostgreSQL. */
	sql = pg_same_intent(sql);
	if (strcmp(sql, "PRAGMA synchronous=FULL") == 0)
		sql = "SET synchronous_commit = on";
	else if (strcmp(sql, "PRAGMA synchronous=NORMAL") == 0)
		sql = "SET synchronous_commit = off";
	r = PQexec(db->conn, sql);
	if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK)
		rc = fail_result(db, r);
	PQclear(r);
	return rc;
}

/* ?N -> $N outside string literals, quoted names and comments; returns the
 * highest N, or -1 for a bare ? (the storage code always numbers them) or
 * an output too small. */
static int translate(const char *in, char *out, size_t outlen)
{
	size_t o = 0;
	int maxn = 0;
	char quote = 0;

	for (const char *p = in; *p; p++) {
		if (o + 2 >= outlen)
			return -1;
		if (quote) {
			if (*p == quote)
				quote = 0;
		} else if (*p == '\'' || *p == '"') {
			quote = *p;
		} else if (p[0] == '-' && p[1] == '-') {
			while (p[1] && p[1] != '\n')
				p++;
			continue;
		} else if (*p == '?') {
			char *end;
			long n = strtol(p + 1, &end, 10);

			if (end == p + 1 || n <= 0 || n > 999)
				return -1;
			if (n > maxn)
				maxn = (int)n;
			out[o++] = '$';
			continue;
		}
		out[o++] = *p;
	}
	out[o] = '\0';
	return maxn;
}

static int pg_prepare(struct vgl_sql *d, const char *sql, const char *sql_pg,
		      struct vgl_sql_stmt **out)
{
	struct pg *db = PG(d);
	const char *text = sql_pg ? sql_pg : pg_same_intent(sql);
	size_t len = strlen(text) + 16;
	char *pg = malloc(len);
	struct pg_stmt *st = calloc(1, sizeof(*st));
	PGresult *r = NULL;
	int n, rc;

	if (!pg || !st) {
		set_err(db, VGL_SQL_NOMEM, "out of memory");
		rc = VGL_SQL_NOMEM;
		goto fail;
	}
	if ((rc = ensure_conn(db)) != VGL_SQL_OK)
		goto fail;
	set_aside(db);
	n = translate(text, pg, len);
	if (n < 0) {
		set_err(db, VGL_SQL_MISUSE, "parameters must be written ?1, ?2, ...");
		rc = VGL_SQL_MISUSE;
		goto fail;
	}
	st->base.db = d;
	st->nparams = n;
	st->returns_id = sql_pg && !strstr(sql, "RETURNING") && strstr(sql_pg, "RETURNING id");
	if (n > 0 && !(st->vals = calloc((size_t)n, sizeof(*st->vals)))) {
		set_err(db, VGL_SQL_NOMEM, "out of memory");
		rc = VGL_SQL_NOMEM;
		goto fail;
	}
	snprintf(st->name, sizeof(st->name), "vgl%u", db->next_name++);
	r = PQprepare(db->conn, st->name, pg, 0, NULL);
	if (PQresultStatus(r) != PGRES_COMMAND_OK) {
		rc = fail_result(db, r);
		goto fail;
	}
	PQclear(r);
	st->text = pg;
	st->next = db->stmts;
	if (db->stmts)
		db->stmts->prev = st;
	db->stmts = st;
	*out = &st->base;
	return VGL_SQL_OK;
fail:
	PQclear(r);
	free(pg);
	if (st)
		free(st->vals);
	free(st);
	return rc;
}

static int pg_finalize(struct vgl_sql_stmt *s)
{
	struct pg_stmt *st = PS(s);
	struct pg *db = PG(s->db);
	char sql[64];

	drain(st);
	if (PQstatus(db->conn) == CONNECTION_OK) {
		snprintf(sql, sizeof(sql), "DEALLOCATE %s", st->name);
		PQclear(PQexec(db->conn, sql));
	}
	if (st->prev)
		st->prev->next = st->next;
	else
		db->stmts = st->next;
	if (st->next)
		st->next->prev = st->prev;
	for (int i = 0; i < st->nparams; i++)
		free(st->vals[i]);
	free(st->vals);
	free(st->text);
	free(st);
	return VGL_SQL_OK;
}

static int bind(struct pg_stmt *st, int idx, char *v)
{
	if (idx < 1 || idx > st->nparams) {
		free(v);
		set_err(PG(st->base.db), VGL_SQL_RANGE, "bind: no such parameter");
		return VGL_SQL_RANGE;
	}
	free(st->vals[idx - 1]);
	st->vals[idx - 1] = v;
	return VGL_SQL_OK;
}

static int pg_bind_int64(struct vgl_sql_stmt *s, int idx, int64_t v)
{
	char *t = malloc(24);

	if (!t)
		return VGL_SQL_NOMEM;
	snprintf(t, 24, "%lld", (long long)v);
	return bind(PS(s), idx, t);
}

/* Always copied: the text travels when the statement is stepped, and a
 * copy costs nothing next to the round trip. */
static int pg_bind_text(struct vgl_sql_stmt *s, int idx, const char *v, int n,
			enum vgl_sql_life life)
{
	char *c;

	(void)life;
	if (!v)
		return bind(PS(s), idx, NULL);
	c = n < 0 ? strdup(v) : strndup(v, (size_t)n);
	if (!c)
		return VGL_SQL_NOMEM;
	return bind(PS(s), idx, c);
}

static int pg_bind_null(struct vgl_sql_stmt *s, int idx)
{
	return bind(PS(s), idx, NULL);
}

static int pg_clear_bindings(struct vgl_sql_stmt *s)
{
	struct pg_stmt *st = PS(s);

	for (int i = 0; i < st->nparams; i++) {
		free(st->vals[i]);
		st->vals[i] = NULL;
	}
	return VGL_SQL_OK;
}

static int pg_step(struct vgl_sql_stmt *s)
{
	struct pg_stmt *st = PS(s);
	struct pg *db = PG(s->db);
	PGconn *c = db->conn;
	PGresult *r;
	int rc;

	PQclear(st->row);
	st->row = NULL;
	if (st->buffered) {
		if (st->ibuf < st->nbuf) {
			st->row = st->buf[st->ibuf++];
			return VGL_SQL_ROW;
		}
		clear_buffer(st);
		return st->buf_rc;
	}
	if (!st->running) {
		if ((rc = ensure_conn(db)) != VGL_SQL_OK)
			return rc;
		set_aside(db);
		if (!PQsendQueryPrepared(c, st->name, st->nparams, (const char *const *)st->vals,
					 NULL, NULL, 0))
			return fail_result(db, NULL);
		st->running = 1;
		db->running = st;
		if (!PQsetSingleRowMode(c)) {
			drain(st);
			set_err(db, VGL_SQL_ERROR, "single-row mode refused");
			return VGL_SQL_ERROR;
		}
	}
	while ((r = PQgetResult(c)) != NULL) {
		switch (PQresultStatus(r)) {
		case PGRES_SINGLE_TUPLE:
			if (st->returns_id) {
				db->last_id = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
				PQclear(r);
				break;
			}
			st->row = r;
			return VGL_SQL_ROW;
		case PGRES_TUPLES_OK:
		case PGRES_COMMAND_OK:
			if (*PQcmdTuples(r))
				db->changes = strtoll(PQcmdTuples(r), NULL, 10);
			PQclear(r);
			break;
		default:
			rc = fail_result(db, r);
			PQclear(r);
			drain(st);
			return rc;
		}
	}
	st->running = 0;
	db->running = NULL;
	if (PQstatus(c) != CONNECTION_OK)
		return fail_result(db, NULL);
	return VGL_SQL_DONE;
}

static int pg_reset(struct vgl_sql_stmt *s)
{
	drain(PS(s));
	return VGL_SQL_OK;
}

static int pg_column_type(struct vgl_sql_stmt *s, int col)
{
	struct pg_stmt *st = PS(s);
	Oid t;

	if (!st->row || col < 0 || col >= PQnfields(st->row) || PQgetisnull(st->row, 0, col))
		return VGL_SQL_NULL;
	t = PQftype(st->row, col);
	if (t == OID_INT8 || t == OID_INT4 || t == OID_INT2 || t == OID_BOOL)
		return VGL_SQL_INTEGER;
	if (t == OID_NUMERIC)
		return strchr(PQgetvalue(st->row, 0, col), '.') ? VGL_SQL_FLOAT : VGL_SQL_INTEGER;
	if (t == OID_FLOAT4 || t == OID_FLOAT8)
		return VGL_SQL_FLOAT;
	return VGL_SQL_TEXT;
}

static int64_t pg_column_int64(struct vgl_sql_stmt *s, int col)
{
	struct pg_stmt *st = PS(s);
	const char *v;

	if (pg_column_type(s, col) == VGL_SQL_NULL)
		return 0;
	v = PQgetvalue(st->row, 0, col);
	if (PQftype(st->row, col) == OID_BOOL)
		return v[0] == 't';
	return strtoll(v, NULL, 10);
}

static const unsigned char *pg_column_text(struct vgl_sql_stmt *s, int col)
{
	struct pg_stmt *st = PS(s);

	if (pg_column_type(s, col) == VGL_SQL_NULL)
		return NULL;
	if (PQftype(st->row, col) == OID_BOOL)
		return (const unsigned char *)(PQgetvalue(st->row, 0, col)[0] == 't' ? "1" : "0");
	return (const unsigned char *)PQgetvalue(st->row, 0, col);
}

static const struct vgl_sql_ops pg_ops = {
	.kind = VGL_SQL_PG,
	.close = pg_close,
	.errmsg = pg_errmsg,
	.errcode = pg_errcode,
	.changes = pg_changes,
	.last_insert_rowid = pg_last_insert_rowid,
	.get_autocommit = pg_get_autocommit,
	.exec = pg_exec,
	.writer_lock = pg_writer_lock,
	.prepare = pg_prepare,
	.finalize = pg_finalize,
	.bind_int64 = pg_bind_int64,
	.bind_text = pg_bind_text,
	.bind_null = pg_bind_null,
	.clear_bindings = pg_clear_bindings,
	.step = pg_step,
	.reset = pg_reset,
	.column_type = pg_column_type,
	.column_int64 = pg_column_int64,
	.column_text = pg_column_text,
};

/* The server as an error may name it: host and port and database, never
 * the URL, which may carry a password. */
static void server_name(PGconn *c, char *buf, size_t n)
{
	snprintf(buf, n, "postgresql %s:%s/%s", c && PQhost(c) ? PQhost(c) : "?",
		 c && PQport(c) ? PQport(c) : "?", c && PQdb(c) ? PQdb(c) : "?");
}

int vgl__sql_pg_open(const char *conninfo, struct vgl_sql **out, char *err, size_t errlen)
{
	struct pg *db = calloc(1, sizeof(*db));
	char who[256];

	*out = NULL;
	if (!db) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	db->base.ops = &pg_ops;
	db->conn = PQconnectdb(conninfo);
	server_name(db->conn, who, sizeof(who));
	if (!db->conn || PQstatus(db->conn) != CONNECTION_OK) {
		snprintf(err, errlen, "%s: cannot connect: %s", who,
			 db->conn ? PQerrorMessage(db->conn) : "out of memory");
		err[strcspn(err, "\n")] = '\0';
		goto fail;
	}
	if (session_setup(db->conn) != 0) {
		snprintf(err, errlen, "%s: %s", who, PQerrorMessage(db->conn));
		err[strcspn(err, "\n")] = '\0';
		goto fail;
	}
	if (vgl__pg_migrate(&db->base, who, err, errlen) != 0)
		goto fail;
	*out = &db->base;
	return 0;
fail:
	PQfinish(db->conn);
	free(db);
	return -1;
}
