/* Committed transitions back to the loop (storage/store.h): each one is
 * handed over after its COMMIT, never before, exactly once, in commit
 * order, with what the row holds. */
#include <pthread.h>
#include <stdatomic.h>

#include "test/unit/store_util.h"

struct seen {
	sqlite3 *db;                    /* a second connection: what is durable */
	int n;
	uint64_t seq[16];
	int kind[16];
	int64_t id[16], start[16], end[16];
	char cause[16][32];
	int not_in_db;                  /* an event whose row was not there yet */
};

static atomic_int wakes;

static void wake(void *ctx)
{
	(void)ctx;
	atomic_fetch_add(&wakes, 1);
}

static void on_ev(void *ctx, const struct vgl_store_committed *ev)
{
	struct seen *s = ctx;
	char sql[256];

	ASSERT(s->n < 16);
	s->seq[s->n] = ev->seq;
	s->kind[s->n] = ev->kind;
	s->id[s->n] = ev->interval_id;
	s->start[s->n] = ev->start_ms;
	s->end[s->n] = ev->end_ms;
	snprintf(s->cause[s->n], sizeof(s->cause[0]), "%s", ev->cause);
	/* the row, as another reader sees it, must already say this */
	if (ev->kind == VGL_COMMITTED_OPEN)
		snprintf(sql, sizeof(sql), "SELECT count(*) FROM intervals WHERE id = %lld AND "
			 "start_ms = %lld AND cause = '%s'", (long long)ev->interval_id,
			 (long long)ev->start_ms, ev->cause);
	else
		snprintf(sql, sizeof(sql), "SELECT count(*) FROM intervals WHERE id = %lld AND "
			 "end_ms = %lld", (long long)ev->interval_id, (long long)ev->end_ms);
	if (q_int(s->db, sql) != 1)
		s->not_in_db++;
	s->n++;
}

static int drain_until(struct vgl_store *st, struct seen *s, int want, int timeout_ms)
{
	for (int waited = 0; s->n < want && waited < timeout_ms; waited += 10) {
		if (atomic_load(&wakes))
			vgl_store_drain_committed(st, on_ev, s);
		if (s->n < want)
			sleep_ms(10);
	}
	return s->n;
}

TEST(store_committed_once_in_order_after_commit)
{
	const char *path = db_path("t.db");
	struct vgl_conf *c = make_conf(2, "web");
	int64_t ids[2];
	struct vgl_store *st = store_open(path, 50, T0);
	struct seen s = { 0 };

	ASSERT_EQ(vgl_store_sync_hosts(st, c, ids), 0);
	s.db = raw_open(path);
	vgl_store_on_committed(st, wake, NULL);
	vgl_store_interval_open(st, ids[0], "web-00000", "network", "unreachable", T0 + 1000, "{}",
				1000);
	vgl_store_interval_open(st, ids[1], "web-00001", "power", "psu", T0 + 1500, "{}", 1000);
	vgl_store_interval_close(st, ids[0], "web-00000", T0 + 4000, "unreachable", "{}");
	ASSERT_EQ(drain_until(st, &s, 3, 5000), 3);
	ASSERT_EQ(s.not_in_db, 0);
	for (int i = 0; i < 3; i++)
		ASSERT_EQ(s.seq[i], (uint64_t)i + 1);
	ASSERT_EQ(s.kind[0], VGL_COMMITTED_OPEN);
	ASSERT_EQ(s.start[0], T0 + 1000);
	ASSERT_STREQ(s.cause[0], "network");
	ASSERT_EQ(s.kind[1], VGL_COMMITTED_OPEN);
	ASSERT_STREQ(s.cause[1], "power");
	ASSERT_EQ(s.kind[2], VGL_COMMITTED_CLOSE);
	ASSERT_EQ(s.id[2], s.id[0]);
	ASSERT_EQ(s.start[2], T0 + 1000);
	ASSERT_EQ(s.end[2], T0 + 4000);
	/* exactly once: nothing more to hand over */
	ASSERT_EQ(vgl_store_drain_committed(st, on_ev, &s), 0);
	ASSERT_EQ(s.n, 3);
	vgl_store_close(st, T0 + 10000);
	raw_close(s.db);
	free_conf(c);
}

/* While another connection holds the write lock the batch cannot commit:
 * no event, no wake-up. Once the lock goes, the event follows the COMMIT. */
TEST(store_committed_never_before_commit)
{
	const char *path = db_path("t.db");
	struct vgl_conf *c = make_conf(1, "web");
	int64_t ids[1];
	struct vgl_store *st = store_open(path, 20, T0);
	struct seen s = { 0 };
	sqlite3 *locker;

	ASSERT_EQ(vgl_store_sync_hosts(st, c, ids), 0);
	s.db = raw_open(path);
	locker = raw_open(path);
	vgl_store_on_committed(st, wake, NULL);
	ASSERT_EQ(q_exec(locker, "BEGIN IMMEDIATE"), 0);
	vgl_store_interval_open(st, ids[0], "web-00000", "network", "unreachable", T0 + 1000, "{}",
				1000);
	sleep_ms(700);
	ASSERT_EQ(atomic_load(&wakes), 0);
	ASSERT_EQ(vgl_store_drain_committed(st, on_ev, &s), 0);
	ASSERT_EQ(q_int(s.db, "SELECT count(*) FROM intervals"), 0);
	ASSERT_EQ(q_exec(locker, "COMMIT"), 0);
	ASSERT_EQ(drain_until(st, &s, 1, 8000), 1);
	ASSERT_EQ(s.not_in_db, 0);
	ASSERT_EQ(s.kind[0], VGL_COMMITTED_OPEN);
	vgl_store_close(st, T0 + 10000);
	raw_close(locker);
	raw_close(s.db);
	free_conf(c);
}

/* wake NULL: no more calls (the daemon is closing its async handle), and
 * what is queued meanwhile is freed at close (ASan checks the leak). */
TEST(store_committed_wake_off_then_close)
{
	const char *path = db_path("t.db");
	struct vgl_conf *c = make_conf(1, "web");
	int64_t ids[1];
	struct vgl_store *st = store_open(path, 20, T0);
	sqlite3 *db;

	ASSERT_EQ(vgl_store_sync_hosts(st, c, ids), 0);
	db = raw_open(path);
	vgl_store_on_committed(st, wake, NULL);
	vgl_store_on_committed(st, NULL, NULL);
	vgl_store_interval_open(st, ids[0], "web-00000", "network", "unreachable", T0 + 1000, "{}",
				1000);
	ASSERT_EQ(wait_int(db, "SELECT count(*) FROM intervals", 1, 3000), 1);
	sleep_ms(50);
	ASSERT_EQ(atomic_load(&wakes), 0);
	vgl_store_close(st, T0 + 10000);
	raw_close(db);
	free_conf(c);
}
