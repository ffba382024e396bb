/* Intervals of two origins: the daemon's observations and an operator's
 * records. Observed downtime is never moved or cut to make room for an
 * operator's interval; the two may overlap and the SLA takes their union.
 * Within one origin intervals never overlap, and the "committed" log line
 * always says what the row holds (docs/storage.md "Origins"). */
#include <fcntl.h>

#include "sla/sla.h"
#include "storage/query.h"
#include "test/unit/sql_util.h"
#include "test/unit/store_util.h"


/* The SLA's downtime over the host's rows (every origin), November-style:
 * a synthetic month around T0, vserver, everything counted. */
static int64_t sla_downtime(sqlite3 *db, int64_t host_id)
{
	const struct vgl_sla_policy *p = vgl_sla_preset("vserver");
	struct vgl_sla_calc *c = vgl_sla_calc_new(p, T0 - 86400000, T0 + 86400000, T0 + 86400000,
						  0, 0);
	struct vgl_sla_result r;
	sqlite3_stmt *st;

	ASSERT(c);
	ASSERT_EQ(sqlite3_prepare_v2(db, "SELECT start_ms, coalesce(end_ms, -1) FROM intervals "
				     "WHERE host_id = ?1", -1, &st, NULL), SQLITE_OK);
	ASSERT_EQ(sqlite3_bind_int64(st, 1, host_id), SQLITE_OK);
	while (sqlite3_step(st) == SQLITE_ROW) {
		int64_t e = sqlite3_column_int64(st, 1);
		struct vgl_sla_interval iv = { 0, VGL_CAUSE_NETWORK, sqlite3_column_int64(st, 0),
					       e < 0 ? VGL_SLA_OPEN : e, NULL, NULL };

		ASSERT_EQ(vgl_sla_calc_add_interval(c, &iv), 0);
	}
	sqlite3_finalize(st);
	ASSERT_EQ(vgl_sla_calc_finish(c, &r), 0);
	vgl_sla_calc_free(c);
	return r.downtime_ms;
}

/* The race that used to lose observed downtime: a rule with for_s 10 sees
 * the link down at T0; at T0+7 s, inside the for_s wait, an operator adds
 * [T0+5 s, T0+6 s); at T0+10 s the daemon opens its interval from T0, and
 * recovery is seen at T0+14 s. The row must start at T0 (it used to start
 * at T0+6 s: 9 s held of the 14 observed) and the log line must agree. */
TEST(store_operator_add_inside_for_wait_loses_nothing)
{
	const char *path = db_path("t.db"), *logp = capture_log();
	struct vgl_conf *c = make_conf(1, "web");
	struct vgl_query *q;
	struct vgl_query_add add = { 0 };
	int64_t ids[1], opid = 0;
	struct vgl_store *s = store_open(path, 50, T0);
	char err[256], want[256], ts[VGL_ISO_LEN];
	sqlite3 *db;

	ASSERT_EQ(vgl_store_sync_hosts(s, c, ids), 0);
	db = raw_open(path);
	ASSERT_EQ(vgl_query_new(sqw(db), &q, err, sizeof(err)), 0);
	add.host = &c->hosts[0];
	add.cause = "network";
	add.start_ms = T0 + 5000;
	add.end_ms = T0 + 6000;
	add.note = "ticket 1: customer saw it";
	add.user = "tester";
	add.now_ms = T0 + 7000;
	ASSERT_EQ(vgl_query_interval_add(q, &add, &opid, err, sizeof(err)), VGL_QUERY_ADD_OK);

	vgl_store_interval_open(s, ids[0], "web-00000", "network", "link-down", T0, "{}", 1000);
	ASSERT_EQ(wait_int(db, "SELECT count(*) FROM intervals WHERE end_ms IS NULL", 1, 3000), 1);
	ASSERT_EQ(q_int(db, "SELECT start_ms FROM intervals WHERE origin = 'monitor'"), T0);
	vgl_store_interval_close(s, ids[0], "web-00000", T0 + 14000, "link-down", "{}");
	ASSERT_EQ(wait_int(db, "SELECT count(*) FROM intervals WHERE end_ms IS NULL", 0, 3000), 0);
	ASSERT_EQ(q_int(db, "SELECT end_ms FROM intervals WHERE origin = 'monitor'"), T0 + 14000);
	/* the operator's record is kept as it was added */
	ASSERT_EQ(q_int(db, "SELECT count(*) FROM intervals WHERE origin = 'operator' AND "
			    "start_ms = 1800000005000 AND end_ms = 1800000006000"), 1);
	/* the SLA's union is the observed span, 14 s */
	ASSERT_EQ(sla_downtime(db, ids[0]), 14000);
	vgl_store_close(s, T0 + 20000);
	snprintf(want, sizeof(want), "opened (cause network, rule link-down, start %s): committed",
		 vgl_format_iso(T0, ts));
	ASSERT_CONTAINS(read_log(logp), want);
	vgl_query_free(q);
	raw_close(db);
	free_conf(c);
}

/* An operator's interval that ends after the first failing observation:
 * the daemon's interval starts at its observation all the same, and a
 * close observed at T0+4 s closes it there. */
TEST(store_open_overlaps_operator_interval_as_observed)
{
	const char *path = db_path("t.db");
	struct vgl_conf *c = make_conf(1, "web");
	int64_t ids[1];
	struct vgl_store *s = store_open(path, 50, T0);
	sqlite3 *db;
	char sql[256];

	ASSERT_EQ(vgl_store_sync_hosts(s, c, ids), 0);
	db = raw_open(path);
	snprintf(sql, sizeof(sql),
		 "INSERT INTO intervals (host_id, cause, start_ms, end_ms, opened_by, closed_by, "
		 "origin, created_ms) VALUES (%lld, 'power', %lld, %lld, 'operator:t', "
		 "'operator:t', 'operator', %lld)",
		 (long long)ids[0], (long long)(T0 + 1000), (long long)(T0 + 5000),
		 (long long)(T0 + 6000));
	ASSERT_EQ(q_exec(db, sql), 0);
	vgl_store_interval_open(s, ids[0], "web-00000", "network", "unreachable", T0 + 3000,
				"{}", 1000);
	ASSERT_EQ(wait_int(db, "SELECT count(*) FROM intervals WHERE end_ms IS NULL", 1, 3000), 1);
	ASSERT_EQ(q_int(db, "SELECT start_ms FROM intervals WHERE end_ms IS NULL"), T0 + 3000);
	vgl_store_interval_close(s, ids[0], "web-00000", T0 + 4000, "unreachable", "{}");
	ASSERT_EQ(wait_int(db, "SELECT count(*) FROM intervals WHERE end_ms IS NULL", 0, 3000), 0);
	ASSERT_EQ(q_int(db, "SELECT end_ms FROM intervals WHERE origin = 'monitor'"), T0 + 4000);
	/* union of [1 s, 5 s) and [3 s, 4 s) */
	ASSERT_EQ(sla_downtime(db, ids[0]), 4000);
	vgl_store_close(s, T0 + 10000);
	raw_close(db);
	free_conf(c);
}

/* Within the monitor's own origin intervals never overlap: should the wall
 * clock go back so that an open is stamped before the host's last close,
 * the row starts at that close, a warning says why, and the committed
 * line carries the row's start, not the stamp. */
TEST(store_monitor_intervals_never_overlap_and_log_the_row)
{
	const char *path = db_path("t.db"), *logp = capture_log();
	struct vgl_conf *c = make_conf(1, "web");
	int64_t ids[1];
	struct vgl_store *s = store_open(path, 50, T0);
	char want[256], ts[VGL_ISO_LEN];
	const char *log;
	sqlite3 *db;

	ASSERT_EQ(vgl_store_sync_hosts(s, c, ids), 0);
	db = raw_open(path);
	vgl_store_interval_open(s, ids[0], "web-00000", "network", "unreachable", T0, "{}", 1000);
	vgl_store_interval_close(s, ids[0], "web-00000", T0 + 5000, "unreachable", "{}");
	ASSERT_EQ(wait_int(db, "SELECT count(*) FROM intervals WHERE end_ms IS NOT NULL", 1, 3000), 1);
	vgl_store_interval_open(s, ids[0], "web-00000", "hardware", "psu", T0 + 3000, "{}", 1000);
	ASSERT_EQ(wait_int(db, "SELECT count(*) FROM intervals WHERE end_ms IS NULL", 1, 3000), 1);
	ASSERT_EQ(q_int(db, "SELECT start_ms FROM intervals WHERE end_ms IS NULL"), T0 + 5000);
	vgl_store_close(s, T0 + 10000);
	log = read_log(logp);
	snprintf(want, sizeof(want), "opened (cause hardware, rule psu, start %s): committed",
		 vgl_format_iso(T0 + 5000, ts));
	ASSERT_CONTAINS(log, want);
	ASSERT_CONTAINS(log, "has the wall clock gone back?");
	raw_close(db);
	free_conf(c);
}
