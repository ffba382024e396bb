/* storage/: counter samples (sla_counters) from the queue into
 * counter_samples, exact past 2^53 and 2^63, replace on the same
 * timestamp, dropped under the queue bound, refused without blocking
 * transitions when the table is missing. */
#include <errno.h>
#include <time.h>

#include "core/vtime.h"
#include "storage/store.h"
#include "test/test.h"

#define T0 1800000000000LL

static const char *db_path(void)
{
	static char buf[512];

	snprintf(buf, sizeof(buf), "%s/c.db", vgl_test_tmpdir());
	return buf;
}

static struct vgl_store *open_store(uint32_t batch_ms)
{
	struct vgl_store_opts o = { .path = db_path(), .batch_ms = batch_ms,
				    .heartbeat_ms = 60000, .now_ms = T0 };
	struct vgl_store *s = NULL;

	ASSERT_EQ(vgl_store_open(&o, &s), 0);
	ASSERT(s != NULL);
	return s;
}

/* Two hosts synced; their ids in ids[]. */
static void sync_two(struct vgl_store *s, int64_t ids[2])
{
	struct vgl_conf c = { 0 };
	struct vgl_conf_host h[2] = {
		{ .name = "cdn-1", .address = "127.0.0.1", .service = "vcdn" },
		{ .name = "st-1", .address = "127.0.0.2", .service = "vstorage" },
	};

	c.hosts = h;
	c.n_hosts = 2;
	ASSERT_EQ(vgl_store_sync_hosts(s, &c, ids), 0);
}

static sqlite3 *raw_open(void)
{
	sqlite3 *db = NULL;

	ASSERT_EQ(sqlite3_open_v2(db_path(), &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
	ASSERT_EQ(sqlite3_busy_timeout(db, 5000), SQLITE_OK);
	return db;
}

static int64_t q_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st = NULL;
	int64_t v = -1;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		fprintf(stderr, "prepare %s: %s\n", sql, sqlite3_errmsg(db));
		ASSERT(0);
	}
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

TEST(store_counter_rows_exact)
{
	struct vgl_store *s = open_store(20);
	int64_t ids[2];
	sqlite3 *db;
	sqlite3_stmt *st;
	char sql[256];
	int rows = 0;
	/* 2^53 + 1 is not a double; 2^64 - 1 is not an int64. */
	const uint64_t big = (1ULL << 53) + 1, top = UINT64_MAX;

	sync_two(s, ids);
	vgl_store_counter(s, ids[0], T0 + 1000, 1000, 3);
	vgl_store_counter(s, ids[0], T0 + 2000, 1500, 4);
	vgl_store_counter(s, ids[1], T0 + 1000, big, 1);
	vgl_store_counter(s, ids[1], T0 + 2000, top, top - 1);
	/* Same host and time again: the later one stands. */
	vgl_store_counter(s, ids[0], T0 + 2000, 1600, 5);
	vgl_store_close(s, T0 + 5000);

	db = raw_open();
	ASSERT_EQ(q_int(db, "SELECT count(*) FROM counter_samples"), 4);
	ASSERT_EQ(q_int(db, "SELECT count(*) FROM counter_samples WHERE source <> 'poll'"), 0);
	ASSERT_EQ(sqlite3_prepare_v2(db, "SELECT host_id, ts_ms, total, failed FROM counter_samples "
				     "ORDER BY host_id, ts_ms", -1, &st, NULL), SQLITE_OK);
	while (sqlite3_step(st) == SQLITE_ROW) {
		int64_t host = sqlite3_column_int64(st, 0), ts = sqlite3_column_int64(st, 1);
		uint64_t total = (uint64_t)sqlite3_column_int64(st, 2);
		uint64_t failed = (uint64_t)sqlite3_column_int64(st, 3);

		if (host == ids[0] && ts == T0 + 1000) {
			ASSERT_EQ(total, 1000);
			ASSERT_EQ(failed, 3);
		} else if (host == ids[0] && ts == T0 + 2000) {
			ASSERT_EQ(total, 1600);
			ASSERT_EQ(failed, 5);
		} else if (host == ids[1] && ts == T0 + 1000) {
			ASSERT(total == big);
			ASSERT_EQ(failed, 1);
		} else {
			ASSERT_EQ(host, ids[1]);
			ASSERT_EQ(ts, T0 + 2000);
			ASSERT(total == top);
			ASSERT(failed == top - 1);
		}
		rows++;
	}
	sqlite3_finalize(st);
	ASSERT_EQ(rows, 4);
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM counter_samples WHERE host_id = %lld",
		 (long long)ids[1]);
	ASSERT_EQ(q_int(db, sql), 2);
	ASSERT_EQ(sqlite3_close(db), SQLITE_OK);
}

/* Counters are droppable like samples; transitions still go through. */
TEST(store_counter_dropped_over_bound)
{
	struct vgl_store *s = open_store(60000);
	struct vgl_store_stats stats;
	int64_t ids[2];
	sqlite3 *db;

	sync_two(s, ids);
	vgl_store_set_max_queued(s, 3);
	for (int i = 0; i < 10; i++)
		vgl_store_counter(s, ids[0], T0 + i * 1000, (uint64_t)i * 10, 0);
	vgl_store_get_stats(s, &stats);
	ASSERT_EQ(stats.samples_dropped, 7);
	vgl_store_interval_open(s, ids[0], "cdn-1", "network", "unreachable", T0 + 500, NULL, 1000);
	vgl_store_close(s, T0 + 20000);

	db = raw_open();
	ASSERT_EQ(q_int(db, "SELECT count(*) FROM counter_samples"), 3);
	ASSERT_EQ(q_int(db, "SELECT max(total) FROM counter_samples"), 20);
	ASSERT_EQ(q_int(db, "SELECT count(*) FROM intervals"), 1);
	ASSERT_EQ(sqlite3_close(db), SQLITE_OK);
}

/* A database without the table (dropped behind the daemon's back, or a
 * schema the writer does not expect): counters are refused, the batch is
 * not, and the transition in it is committed. */
TEST(store_counter_missing_table_not_fatal)
{
	struct vgl_store *s = open_store(20);
	int64_t ids[2];
	sqlite3 *db;
	char *err = NULL;

	sync_two(s, ids);
	db = raw_open();
	ASSERT_EQ(sqlite3_exec(db, "DROP TABLE counter_samples", NULL, NULL, &err), SQLITE_OK);
	ASSERT_EQ(sqlite3_close(db), SQLITE_OK);
	vgl_store_counter(s, ids[0], T0 + 1000, 1, 0);
	vgl_store_interval_open(s, ids[0], "cdn-1", "network", "unreachable", T0 + 1000, NULL, 1000);
	vgl_store_counter(s, ids[0], T0 + 2000, 2, 0);
	vgl_store_interval_close(s, ids[0], "cdn-1", T0 + 3000, "unreachable", NULL);
	vgl_store_close(s, T0 + 5000);

	db = raw_open();
	ASSERT_EQ(q_int(db, "SELECT count(*) FROM intervals WHERE end_ms = " "1800000003000"), 1);
	ASSERT_EQ(q_int(db, "SELECT count(*) FROM sqlite_master WHERE name = 'counter_samples'"), 0);
	ASSERT_EQ(sqlite3_close(db), SQLITE_OK);
}
