/* Helpers the storage unit tests share: scratch paths, a synthetic config,
 * a raw second connection and polling queries. Static: each test file gets
 * its own copy. */
#ifndef VGL_TEST_STORE_UTIL_H
#define VGL_TEST_STORE_UTIL_H

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <time.h>
#include <unistd.h>

#include "core/vtime.h"
#include "storage/store.h"
#include "test/test.h"

#if defined(__SANITIZE_ADDRESS__)
#define SANITIZED 1
#else
#define SANITIZED 0
#endif

#define T0 1800000000000LL /* 2027-01-15T08:00:00.000Z, a synthetic start */

static __attribute__((unused)) char *db_path(const char *name)
{
	static char buf[512];

	snprintf(buf, sizeof(buf), "%s/%s", vgl_test_tmpdir(), name);
	return buf;
}

/* A config with n hosts named "<prefix>-00000".. (only what the store reads). */
static __attribute__((unused)) struct vgl_conf *make_conf(size_t n, const char *prefix)
{
	struct vgl_conf *c = calloc(1, sizeof(*c));

	ASSERT(c);
	c->hosts = calloc(n ? n : 1, sizeof(*c->hosts));
	ASSERT(c->hosts);
	c->n_hosts = n;
	for (size_t i = 0; i < n; i++) {
		struct vgl_conf_host *h = &c->hosts[i];
		ASSERT(asprintf(&h->name, "%s-%05zu", prefix, i) > 0);
		ASSERT(asprintf(&h->address, "10.%zu.%zu.%zu", i >> 16, (i >> 8) & 255, i & 255) > 0);
		h->site = "dc1";
		h->service = "vserver";
		h->customer = "acme";
	}
	return c;
}

/* Queues one poll of host id at ts: metric names[i] = vals[i], each with
 * quality qs[i] (all ok when qs is NULL); quality q for the poll. */
#define MAX_TEST_METRICS 16
static __attribute__((unused)) void polled(struct vgl_store *s, int64_t id, int64_t ts, enum vgl_quality q,
		   size_t n, const char *const *names, const double *vals,
		   const enum vgl_quality *qs)
{
	static struct vgl_conf_metric metrics[MAX_TEST_METRICS];
	struct vgl_value values[MAX_TEST_METRICS];
	struct vgl_poll_result r = { .ts_ms = ts, .quality = q, .n_values = n,
				     .values = values };

	ASSERT(n <= MAX_TEST_METRICS);
	for (size_t i = 0; i < n; i++) {
		metrics[i].name = (char *)names[i];
		values[i].v = vals[i];
		values[i].q = qs ? qs[i] : VGL_Q_OK;
	}
	vgl_store_host_polled(s, id, &r, values, metrics, n);
}

static __attribute__((unused)) void polled1(struct vgl_store *s, int64_t id, int64_t ts, const char *name, double v)
{
	polled(s, id, ts, VGL_Q_OK, 1, &name, &v, NULL);
}

static __attribute__((unused)) void free_conf(struct vgl_conf *c)
{
	for (size_t i = 0; i < c->n_hosts; i++) {
		free(c->hosts[i].name);
		free(c->hosts[i].address);
	}
	free(c->hosts);
	free(c);
}

static __attribute__((unused)) sqlite3 *raw_open(const char *path)
{
	sqlite3 *db = NULL;

	ASSERT_EQ(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL),
		  SQLITE_OK);
	ASSERT_EQ(sqlite3_busy_timeout(db, 5000), SQLITE_OK);
	return db;
}

static __attribute__((unused)) void raw_close(sqlite3 *db)
{
	ASSERT_EQ(sqlite3_close(db), SQLITE_OK);
}

/* First column of the first row as an integer; -1 for no row, -2 for NULL. */
static __attribute__((unused)) int64_t q_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st = NULL;
	int64_t v = -1;
	int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);

	if (rc != SQLITE_OK) {
		fprintf(stderr, "prepare %s: %s\n", sql, sqlite3_errmsg(db));
		ASSERT(0);
	}
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		v = sqlite3_column_type(st, 0) == SQLITE_NULL ? -2 : sqlite3_column_int64(st, 0);
	else
		ASSERT_EQ(rc, SQLITE_DONE);
	sqlite3_finalize(st);
	return v;
}

static __attribute__((unused)) char *q_text(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st = NULL;
	char *v = NULL;

	ASSERT_EQ(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
		v = strdup((const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	return v;
}

static __attribute__((unused)) int q_exec(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);

	if (rc != SQLITE_OK)
		return rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		;
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

static __attribute__((unused)) void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* Polls until sql yields want, at most timeout_ms; returns the last value. */
static __attribute__((unused)) int64_t wait_int(sqlite3 *db, const char *sql, int64_t want, int timeout_ms)
{
	int64_t deadline = vgl_mono_ms() + timeout_ms, v;

	while ((v = q_int(db, sql)) != want && vgl_mono_ms() < deadline)
		sleep_ms(20);
	return v;
}

static __attribute__((unused)) struct vgl_store *store_open(const char *path, uint32_t batch_ms, int64_t now_ms)
{
	struct vgl_store_opts o = { .path = path, .batch_ms = batch_ms, .heartbeat_ms = 60000,
				    .now_ms = now_ms };
	struct vgl_store *s = NULL;

	ASSERT_EQ(vgl_store_open(&o, &s), 0);
	ASSERT(s);
	return s;
}

/* Sends this test's log (stderr) to a file; returns its path. */
static __attribute__((unused)) const char *capture_log(void)
{
	static char path[512];
	int fd;

	snprintf(path, sizeof(path), "%s/log", vgl_test_tmpdir());
	fd = open(path, O_CREAT | O_WRONLY | O_TRUNC | O_CLOEXEC, 0600);
	ASSERT(fd >= 0);
	fflush(stderr);
	ASSERT(dup2(fd, 2) == 2);
	close(fd);
	return path;
}

static __attribute__((unused)) char *read_log(const char *path)
{
	static char buf[1 << 16];
	FILE *f;
	size_t n;

	fflush(stderr);
	f = fopen(path, "r");
	ASSERT(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	return buf;
}

#endif
