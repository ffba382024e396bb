/* Cause attribution and reclassification (migration 7): the daemon's
 * revisions of an open interval's cause through the writer, an
 * operator's reclassification (storage/query.h) that the daemon never
 * overrides, the append-only history, the BMC event log cursors, and a
 * version-6 database migrated with its data. */
#include <fcntl.h>

#include "storage/query.h"
#include "test/unit/sql_util.h"
#include "test/unit/store_util.h"


/* Queues an entry after the others and waits until the writer has written
 * it: the cursor of a throwaway source is the marker. */
static void flush(struct vgl_store *s, sqlite3 *db, int64_t host_id)
{
	static int n;
	char cur[32], sql[160];

	snprintf(cur, sizeof(cur), "%d", ++n);
	vgl_store_bmc_cursor(s, host_id, "flush-marker", cur);
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM bmc_cursors WHERE source = "
		 "'flush-marker' AND cursor = '%d'", n);
	ASSERT_EQ(wait_int(db, sql, 1, 3000), 1);
}

static struct vgl_query *query_on(sqlite3 *db)
{
	struct vgl_query *q = NULL;
	char err[256];

	ASSERT_EQ(vgl_query_new(sqw(db), &q, err, sizeof(err)), 0);
	return q;
}

TEST(store_cause_revision_sets_cause_evidence_history)
{
	const char *path = db_path("c.db"), *logp = capture_log();
	struct vgl_conf *c = make_conf(3, "web");
	int64_t ids[3];
	struct vgl_store *s = store_open(path, 50, T0);
	sqlite3 *db;
	char *t;

	ASSERT_EQ(vgl_store_sync_hosts(s, c, ids), 0);
	db = raw_open(path);
	vgl_store_interval_open(s, ids[0], "web-00000", "network", "unreachable", T0,
				"{\"polls\":3,\"attribution\":{\"guess\":\"network\"}}", 1000);
	vgl_store_interval_open(s, ids[1], "web-00001", "unknown", "unreachable", T0, "not json",
				1000);
	vgl_store_interval_open(s, ids[2], "web-00002", "unknown", "unreachable", T0, NULL, 1000);
	ASSERT_EQ(wait_int(db, "SELECT count(*) FROM intervals WHERE end_ms IS NULL", 3, 3000), 3);
	vgl_store_interval_cause(s, ids[0], "web-00000", "power",
				 "{\"feed\":\"pdu-a.outlet3\",\"state\":\"off\"}");
	vgl_store_interval_cause(s, ids[1], "web-00001", "hardware", "{\"sel\":\"psu 2 failed\"}");
	vgl_store_interval_cause(s, ids[2], "web-00002", "hardware", "[1,2]");
	flush(s, db, ids[0]);

	/* the cause, and the evidence with the attribution set, the rest kept */
	ASSERT_EQ(q_int(db, "SELECT cause = 'power' FROM intervals WHERE host_id = 1"), 1);
	t = q_text(db, "SELECT json_extract(evidence, '$.attribution.feed') FROM intervals "
		   "WHERE host_id = 1");
	ASSERT_STREQ(t, "pdu-a.outlet3");
	free(t);
	ASSERT_EQ(q_int(db, "SELECT json_extract(evidence, '$.polls') FROM intervals "
			"WHERE host_id = 1"), 3);
	ASSERT_EQ(q_int(db, "SELECT json_extract(evidence, '$.attribution.guess') IS NULL "
			"FROM intervals WHERE host_id = 1"), 1);
	/* evidence that was not a JSON object is kept under "opened" */
	t = q_text(db, "SELECT evidence FROM intervals WHERE host_id = 2");
	ASSERT_STREQ(t, "{\"opened\":\"not json\",\"attribution\":{\"sel\":\"psu 2 failed\"}}");
	free(t);
	t = q_text(db, "SELECT evidence FROM intervals WHERE host_id = 3");
	ASSERT_STREQ(t, "{\"attribution\":[1,2]}");
	free(t);

	/* one history row per change, by the daemon, with its attribution */
	ASSERT_EQ(q_int(db, "SELECT count(*) FROM interval_causes"), 3);
	ASSERT_EQ(q_int(db, "SELECT count(*) FROM interval_causes c JOIN intervals i ON "
			"i.id = c.interval_id WHERE i.host_id = 1 AND c.old_cause = 'network' AND "
			"c.new_cause = 'power' AND c.by = 'vigild' AND c.note IS NULL AND "
			"json_extract(c.evidence, '$.state') = 'off'"), 1);
	ASSERT_GE(q_int(db, "SELECT min(ts_ms) FROM interval_causes"), vgl_now_ms() - 60000);
	/* and an event saying so */
	t = q_text(db, "SELECT detail FROM events WHERE kind = 'interval_cause' AND host_id = 1");
	ASSERT_STREQ(t, "{\"old_cause\":\"network\",\"new_cause\":\"power\",\"by\":\"vigild\"}");
	free(t);
	ASSERT_EQ(q_int(db, "SELECT count(*) FROM events WHERE kind = 'interval_cause' AND "
			"interval_id = (SELECT id FROM intervals WHERE host_id = 1)"), 1);

	/* a second revision: history grows, oldest first by id */
	vgl_store_interval_cause(s, ids[0], "web-00000", "facility", "{\"ups\":\"on battery\"}");
	flush(s, db, ids[0]);
	ASSERT_EQ(q_int(db, "SELECT cause = 'facility' FROM intervals WHERE host_id = 1"), 1);
	t = q_text(db, "SELECT group_concat(old_cause || '>' || new_cause, ',') FROM (SELECT "
		   "c.old_cause, c.new_cause FROM interval_causes c JOIN intervals i ON "
		   "i.id = c.interval_id WHERE i.host_id = 1 ORDER BY c.id)");
	ASSERT_STREQ(t, "network>power,power>facility");
	free(t);
	/* the close keeps the revised cause; the committed line says it */
	vgl_store_interval_close(s, ids[0], "web-00000", T0 + 9000, "unreachable", "{}");
	vgl_store_close(s, T0 + 10000);
	ASSERT_EQ(q_int(db, "SELECT cause = 'facility' AND end_ms = 1800000009000 FROM intervals "
			"WHERE host_id = 1"), 1);
	ASSERT_CONTAINS(read_log(logp), "host web-00000: interval 1 cause network -> power "
			"(by vigild): committed");
	ASSERT_CONTAINS(read_log(logp), "interval 1 closed (cause facility,");
	raw_close(db);
	free_conf(c);
}

TEST(store_cause_same_cause_updates_attribution_only)
{
	const char *path = db_path("c.db");
	struct vgl_conf *c = make_conf(1, "web");
	int64_t ids[1];
	struct vgl_store *s = store_open(path, 50, T0);
	sqlite3 *db;
	char *t;

	ASSERT_EQ(vgl_store_sync_hosts(s, c, ids), 0);
	db = raw_open(path);
	vgl_store_interval_open(s, ids[0], "web-00000", "hardware", "psu", T0,
				"{\"psu\":2,\"attribution\":{\"n\":1}}", 1000);
	vgl_store_interval_cause(s, ids[0], "web-00000", "hardware", "{\"n\":2}");
	flush(s, db, ids[0]);
	t = q_text(db, "SELECT evidence FROM intervals");
	ASSERT_STREQ(t, "{\"psu\":2,\"attribution\":{\"n\":2}}");
	free(t);
	ASSERT_EQ(q_int(db, "SELECT count(*) FROM interval_causes"), 0);
	ASSERT_EQ(q_int(db, "SELECT count(*) FROM events WHERE kind = 'interval_cause'"), 0);
	ASSERT_EQ(q_int(db, "SELECT cause = 'hardware' FROM intervals"), 1);
	vgl_store_close(s, T0 + 10000);
	raw_close(db);
	free_conf(c);
}

/* An operator's reclassification is final: later revisions by the daemon
 * leave the cause, the evidence and the history alone. */
TEST(store_cause_operator_reclassification_is_final)
{
	const char *path = db_path("c.db"), *logp = capture_log();
	struct vgl_conf *c = make_conf(1, "web");
	struct vgl_query_reclassify r = { 0 };
	struct vgl_query_reclassified out;
	int64_t ids[1];
	struct vgl_store *s = store_open(path, 50, T0);
	struct vgl_query *q;
	sqlite3 *db;
	char err[256], *ev, *t;

	ASSERT_EQ(vgl_store_sync_hosts(s, c, ids), 0);
	db = raw_open(path);
	q = query_on(db);
	vgl_store_interval_open(s, ids[0], "web-00000", "hardware", "psu", T0, "{\"psu\":2}", 1000);
	ASSERT_EQ(wait_int(db, "SELECT count(*) FROM intervals WHERE end_ms IS NULL", 1, 3000), 1);

	r.interval_id = q_int(db, "SELECT id FROM intervals");
	r.cause = "customer";
	r.note = "ticket 88: the customer powered it off";
	r.by = "operator:alice";
	r.now_ms = T0 + 2000;
	ASSERT_EQ(vgl_query_interval_reclassify(q, &r, &out, err, sizeof(err)), VGL_QUERY_ADD_OK);
	ASSERT_STREQ(out.old_cause, "hardware");
	ASSERT_STREQ(out.host, "web-00000");
	ASSERT_EQ(out.host_id, ids[0]);
	vgl_query_reclassified_clear(&out);
	ev = q_text(db, "SELECT evidence FROM intervals");

	vgl_store_interval_cause(s, ids[0], "web-00000", "power", "{\"feed\":\"a\"}");
	flush(s, db, ids[0]);
	ASSERT_EQ(q_int(db, "SELECT cause = 'customer' FROM intervals"), 1);
	t = q_text(db, "SELECT evidence FROM intervals");
	ASSERT_STREQ(t, ev);
	free(t);
	ASSERT_EQ(q_int(db, "SELECT count(*) FROM interval_causes"), 1);
	ASSERT_EQ(q_int(db, "SELECT count(*) FROM interval_causes WHERE by = 'operator:alice' AND "
			"old_cause = 'hardware' AND new_cause = 'customer' AND ts_ms = 1800000002000 "
			"AND note LIKE 'ticket 88:%' AND evidence IS NULL"), 1);
	ASSERT_EQ(q_int(db, "SELECT count(*) FROM events WHERE kind = 'interval_cause'"), 0);
	ASSERT_CONTAINS(read_log(logp), "keeps cause customer (reclassified by operator:alice)");

	/* the daemon agreeing with the operator changes nothing either: the
	 * evidence the operator judged on stays */
	vgl_store_interval_cause(s, ids[0], "web-00000", "customer", "{\"seen\":\"power button\"}");
	flush(s, db, ids[0]);
	t = q_text(db, "SELECT json_extract(evidence, '$.attribution.seen') FROM intervals");
	ASSERT(!t || strcmp(t, "power button") != 0);
	free(t);
	ASSERT_EQ(q_int(db, "SELECT count(*) FROM interval_causes"), 1);

	/* the event of the reclassification */
	t = q_text(db, "SELECT detail FROM events WHERE kind = 'interval_reclassify'");
	ASSERT_STREQ(t, "{\"old_cause\":\"hardware\",\"new_cause\":\"customer\","
		     "\"by\":\"operator:alice\",\"note\":\"ticket 88: the customer powered it off\"}");
	free(t);
	ASSERT_EQ(q_int(db, "SELECT count(*) FROM events WHERE kind = 'interval_reclassify' AND "
			"ts_ms = 1800000002000 AND host_id = 1 AND interval_id = 1"), 1);
	free(ev);
	vgl_store_close(s, T0 + 10000);
	vgl_query_free(q);
	raw_close(db);
	free_conf(c);
}

/* A revision with no open interval changes nothing: none ever, one
 * already closed (the close queued first), an unknown host. */
TEST(store_cause_without_open_interval_does_nothing)
{
	const char *path = db_path("c.db");
	struct vgl_conf *c = make_conf(2, "web");
	int64_t ids[2];
	struct vgl_store *s = store_open(path, 50, T0);
	sqlite3 *db;

	ASSERT_EQ(vgl_store_sync_hosts(s, c, ids), 0);
	db = raw_open(path);
	vgl_store_interval_open(s, ids[1], "web-00001", "network", "ping", T0, "{}", 1000);
	vgl_store_interval_close(s, ids[1], "web-00001", T0 + 1000, "ping", "{}");
	vgl_store_interval_cause(s, ids[1], "web-00001", "power", "{}");
	vgl_store_interval_cause(s, ids[0], "web-00000", "power", "{}");
	vgl_store_interval_cause(s, 999999, "ghost", "power", "{}");
	flush(s, db, ids[0]);
	ASSERT_EQ(q_int(db, "SELECT count(*) FROM intervals"), 1);
	ASSERT_EQ(q_int(db, "SELECT cause = 'network' AND evidence = '{}' FROM intervals"), 1);
	ASSERT_EQ(q_int(db, "SELECT count(*) FROM interval_causes"), 0);
	ASSERT_EQ(q_int(db, "SELECT count(*) FROM events WHERE kind = 'interval_cause'"), 0);

	/* queued after an open in the same batch: applies to that interval;
	 * the open alone goes back to the loop, the revision does not */
	vgl_store_interval_open(s, ids[0], "web-00000", "unknown", "ping", T0 + 2000, "{}", 1000);
	vgl_store_interval_cause(s, ids[0], "web-00000", "network", "{\"uplink\":\"down\"}");
	flush(s, db, ids[0]);
	ASSERT_EQ(q_int(db, "SELECT cause = 'network' FROM intervals WHERE end_ms IS NULL"), 1);
	ASSERT_EQ(q_int(db, "SELECT count(*) FROM interval_causes"), 1);
	{
		/* the events follow their COMMIT by a moment */
		size_t n = 0;

		for (int i = 0; i < 300 && n < 3; i++) {
			n += vgl_store_drain_committed(s, NULL, NULL);
			if (n < 3)
				sleep_ms(10);
		}
		ASSERT_EQ(n, 3);
		sleep_ms(100);
		ASSERT_EQ(vgl_store_drain_committed(s, NULL, NULL), 0);
	}
	vgl_store_close(s, T0 + 10000);
	raw_close(db);
	free_conf(c);
}

/* Revisions and cursors are kept when the queue is full; samples are not. */
TEST(store_cause_and_cursor_never_dropped)
{
	const char *path = db_path("c.db");
	struct vgl_conf *c = make_conf(1, "web");
	int64_t ids[1];
	struct vgl_store *s = store_open(path, 60000, T0);
	struct vgl_store_stats st;
	sqlite3 *db;

	ASSERT_EQ(vgl_store_sync_hosts(s, c, ids), 0);
	/* Opened behind the store's back: a queued open would wake the
	 * writer (transitions do not wait for the window) and race the
	 * count below. */
	db = raw_open(path);
	ASSERT_EQ(q_exec(db, "INSERT INTO intervals (host_id, cause, start_ms, opened_by, "
			 "created_ms) VALUES (1, 'unknown', 1000, 'ping', 1000)"), SQLITE_OK);
	raw_close(db);
	vgl_store_set_max_queued(s, 2);
	for (int i = 0; i < 10; i++)
		polled1(s, ids[0], T0 + i, "m", i);
	vgl_store_interval_cause(s, ids[0], "web-00000", "hardware", "{}");
	vgl_store_bmc_cursor(s, ids[0], "bmc", "4711");
	vgl_store_get_stats(s, &st);
	ASSERT_EQ(st.samples_dropped, 8);
	ASSERT_EQ(st.queued, 4);
	vgl_store_close(s, T0 + 10000);
	db = raw_open(path);
	ASSERT_EQ(q_int(db, "SELECT cause = 'hardware' FROM intervals"), 1);
	ASSERT_EQ(q_int(db, "SELECT cursor FROM bmc_cursors WHERE source = 'bmc'"), 4711);
	raw_close(db);
	free_conf(c);
}

struct cursors_seen {
	int n;
	char text[512];
};

static void on_cursor(void *ctx, int64_t host_id, const char *source, const char *cursor)
{
	struct cursors_seen *cs = ctx;
	size_t len = strlen(cs->text);

	cs->n++;
	snprintf(cs->text + len, sizeof(cs->text) - len, "%s%lld/%s=%s", len ? "," : "",
		 (long long)host_id, source, cursor);
}

TEST(store_bmc_cursor_upsert_kept_across_reopen)
{
	const char *path = db_path("cur.db");
	struct vgl_conf *c = make_conf(2, "bmc");
	struct cursors_seen cs = { 0 };
	int64_t ids[2], before = vgl_now_ms();
	struct vgl_store *s = store_open(path, 50, T0);
	sqlite3 *db;

	ASSERT_EQ(vgl_store_sync_hosts(s, c, ids), 0);
	ASSERT_EQ(vgl_store_each_cursor(s, on_cursor, &cs), 0);
	ASSERT_EQ(cs.n, 0);
	vgl_store_bmc_cursor(s, ids[1], "ipmi", "17");
	vgl_store_bmc_cursor(s, ids[0], "redfish", "abc");
	vgl_store_bmc_cursor(s, ids[1], "ipmi", "42");
	vgl_store_bmc_cursor(s, ids[1], "redfish", "7");
	vgl_store_bmc_cursor(s, 999999, "ipmi", "1"); /* no such host: refused alone */
	vgl_store_close(s, T0 + 1000);

	db = raw_open(path);
	ASSERT_EQ(q_int(db, "SELECT count(*) FROM bmc_cursors"), 3);
	ASSERT_GE(q_int(db, "SELECT min(updated_ms) FROM bmc_cursors"), before);
	raw_close(db);

	s = store_open(path, 50, T0 + 2000);
	ASSERT_EQ(vgl_store_each_cursor(s, on_cursor, &cs), 0);
	ASSERT_EQ(cs.n, 3);
	ASSERT_STREQ(cs.text, "1/redfish=abc,2/ipmi=42,2/redfish=7");
	vgl_store_bmc_cursor(s, ids[0], "redfish", "abd");
	vgl_store_close(s, T0 + 3000);
	db = raw_open(path);
	ASSERT_EQ(q_int(db, "SELECT count(*) FROM bmc_cursors WHERE host_id = 1 AND "
			"source = 'redfish' AND cursor = 'abd'"), 1);
	raw_close(db);
	free_conf(c);
}

TEST(store_cause_history_refuses_update_and_delete)
{
	char err[256], *msg;
	sqlite3 *db;

	ASSERT_EQ(vgl_db_open(db_path("h.db"), &db, err, sizeof(err)), 0);
	ASSERT_EQ(q_exec(db, "INSERT INTO hosts (id, name) VALUES (1, 'a')"), SQLITE_OK);
	ASSERT_EQ(q_exec(db, "INSERT INTO intervals (id, host_id, cause, start_ms, opened_by, "
			 "created_ms) VALUES (1, 1, 'network', 1000, 'r', 1000)"), SQLITE_OK);
	ASSERT_EQ(q_exec(db, "INSERT INTO interval_causes (interval_id, ts_ms, old_cause, "
			 "new_cause, by) VALUES (1, 2000, 'network', 'power', 'vigild')"), SQLITE_OK);
	ASSERT_EQ(q_exec(db, "UPDATE interval_causes SET note = 'x'"), SQLITE_CONSTRAINT_TRIGGER);
	msg = strdup(sqlite3_errmsg(db));
	ASSERT_CONTAINS(msg, "append-only");
	free(msg);
	ASSERT_EQ(q_exec(db, "DELETE FROM interval_causes"), SQLITE_CONSTRAINT_TRIGGER);
	ASSERT_CONTAINS(sqlite3_errmsg(db), "never deleted");
	ASSERT_EQ(q_int(db, "SELECT count(*) FROM interval_causes WHERE note IS NULL"), 1);
	/* required columns, and an interval that exists */
	ASSERT_EQ(q_exec(db, "INSERT INTO interval_causes (interval_id, ts_ms, old_cause, "
			 "new_cause) VALUES (1, 2000, 'network', 'power')"), SQLITE_CONSTRAINT_NOTNULL);
	ASSERT_EQ(q_exec(db, "INSERT INTO interval_causes (interval_id, ts_ms, old_cause, "
			 "new_cause, by) VALUES (9, 2000, 'a', 'b', 'vigild')"),
		  SQLITE_CONSTRAINT_FOREIGNKEY);
	/* bmc_cursors: one row per host and source */
	ASSERT_EQ(q_exec(db, "INSERT INTO bmc_cursors VALUES (1, 'ipmi', '5', 1)"), SQLITE_OK);
	ASSERT_EQ(q_exec(db, "INSERT INTO bmc_cursors VALUES (1, 'ipmi', '6', 2)"),
		  SQLITE_CONSTRAINT_PRIMARYKEY);
	raw_close(db);
}

/* The CLI's side: refusals write nothing; open and closed intervals both
 * take a reclassification; the history reads back oldest first. */
static int on_cause(void *ctx, const struct vgl_query_cause *cz)
{
	char *buf = ctx;
	size_t len = strlen(buf);

	snprintf(buf + len, 512 - len, "%s%s>%s@%lld:%s:%s", len ? "," : "", cz->old_cause,
		 cz->new_cause, (long long)cz->ts_ms, cz->by, cz->note ? cz->note : "-");
	return 0;
}

TEST(store_query_reclassify_refusals_and_history)
{
	struct vgl_query_reclassify r = { 0 };
	struct vgl_query_reclassified out;
	struct vgl_query *q;
	char err[256], hist[512] = "";
	sqlite3 *db;

	ASSERT_EQ(vgl_db_open(db_path("q.db"), &db, err, sizeof(err)), 0);
	q = query_on(db);
	ASSERT_EQ(q_exec(db, "INSERT INTO hosts (id, name) VALUES (1, 'a')"), SQLITE_OK);
	ASSERT_EQ(q_exec(db, "INSERT INTO intervals (id, host_id, cause, start_ms, end_ms, "
			 "opened_by, created_ms) VALUES (5, 1, 'hardware', 1000, 2000, 'r', 1000), "
			 "(6, 1, 'network', 3000, NULL, 'r', 3000)"), SQLITE_OK);
	r.cause = "customer";
	r.note = "n1";
	r.by = "operator:bob";
	r.now_ms = 10000;

	r.interval_id = 7;
	ASSERT_EQ(vgl_query_interval_reclassify(q, &r, &out, err, sizeof(err)),
		  VGL_QUERY_ADD_REFUSED);
	ASSERT_STREQ(err, "interval 7: no such interval");
	ASSERT(out.host == NULL && out.old_cause == NULL);
	r.interval_id = 5;
	r.cause = "gremlins";
	ASSERT_EQ(vgl_query_interval_reclassify(q, &r, &out, err, sizeof(err)),
		  VGL_QUERY_ADD_REFUSED);
	ASSERT_CONTAINS(err, "unknown cause 'gremlins' (expected one of: network hardware");
	r.cause = "customer";
	r.note = "";
	ASSERT_EQ(vgl_query_interval_reclassify(q, &r, &out, err, sizeof(err)),
		  VGL_QUERY_ADD_REFUSED);
	ASSERT_CONTAINS(err, "note");
	r.note = "n1";
	r.by = "bob";
	ASSERT_EQ(vgl_query_interval_reclassify(q, &r, &out, err, sizeof(err)),
		  VGL_QUERY_ADD_REFUSED);
	ASSERT_EQ(q_int(db, "SELECT count(*) FROM interval_causes"), 0);
	ASSERT_EQ(q_int(db, "SELECT count(*) FROM events"), 0);
	ASSERT_EQ(q_int(db, "SELECT cause = 'hardware' FROM intervals WHERE id = 5"), 1);

	/* closed, then again, and the open one */
	r.by = "operator:bob";
	ASSERT_EQ(vgl_query_interval_reclassify(q, &r, &out, err, sizeof(err)), VGL_QUERY_ADD_OK);
	vgl_query_reclassified_clear(&out);
	r.cause = "facility";
	r.note = "n2";
	r.now_ms = 11000;
	ASSERT_EQ(vgl_query_interval_reclassify(q, &r, &out, err, sizeof(err)), VGL_QUERY_ADD_OK);
	ASSERT_STREQ(out.old_cause, "customer");
	vgl_query_reclassified_clear(&out);
	r.interval_id = 6;
	ASSERT_EQ(vgl_query_interval_reclassify(q, &r, &out, err, sizeof(err)), VGL_QUERY_ADD_OK);
	vgl_query_reclassified_clear(&out);
	ASSERT_EQ(q_int(db, "SELECT cause = 'facility' FROM intervals WHERE id = 5"), 1);
	ASSERT_EQ(q_int(db, "SELECT cause = 'facility' AND end_ms IS NULL FROM intervals "
			"WHERE id = 6"), 1);
	ASSERT_EQ(q_int(db, "SELECT count(*) FROM events WHERE kind = 'interval_reclassify'"), 3);

	ASSERT_EQ(vgl_query_interval_history(q, 5, on_cause, hist, err, sizeof(err)), 0);
	ASSERT_STREQ(hist, "hardware>customer@10000:operator:bob:n1,"
		     "customer>facility@11000:operator:bob:n2");
	hist[0] = '\0';
	ASSERT_EQ(vgl_query_interval_history(q, 99, on_cause, hist, err, sizeof(err)), 0);
	ASSERT_STREQ(hist, "");
	vgl_query_free(q);
	raw_close(db);
}

/* A version-6 database (the schema before migration 7) with intervals,
 * events and hosts: migrated, nothing lost, the new tables there. */
TEST(store_migration_7_keeps_version_6_data)
{
	const char *path = db_path("v6.db");
	char err[256], *t;
	sqlite3 *db;

	/* The latest schema less migration 7's and later objects is version
	 * 6's: migrations only ever added. */
	ASSERT_EQ(vgl_db_open(path, &db, err, sizeof(err)), 0);
	ASSERT_EQ(q_exec(db, "DROP TABLE outbox"), SQLITE_OK);
	ASSERT_EQ(q_exec(db, "DROP TABLE silences"), SQLITE_OK);
	ASSERT_EQ(q_exec(db, "DROP TABLE alarm_log"), SQLITE_OK);
	ASSERT_EQ(q_exec(db, "DROP TABLE alarms"), SQLITE_OK);
	ASSERT_EQ(q_exec(db, "DROP TABLE interval_causes"), SQLITE_OK);
	ASSERT_EQ(q_exec(db, "DROP TABLE bmc_cursors"), SQLITE_OK);
	ASSERT_EQ(q_exec(db, "PRAGMA user_version = 6"), SQLITE_OK);
	ASSERT_EQ(q_int(db, "SELECT count(*) FROM sqlite_master WHERE name LIKE 'interval_causes%'"),
		  0);
	ASSERT_EQ(q_exec(db, "INSERT INTO hosts (id, name, power) VALUES (1, 'a', 'feeds off: b')"),
		  SQLITE_OK);
	ASSERT_EQ(q_exec(db, "INSERT INTO intervals (id, host_id, cause, start_ms, end_ms, "
			 "opened_by, evidence, created_ms) VALUES (1, 1, 'power', 1000, 2000, 'r', "
			 "'{\"x\":1}', 1000), (2, 1, 'network', 3000, NULL, 'r', NULL, 3000)"),
		  SQLITE_OK);
	ASSERT_EQ(q_exec(db, "INSERT INTO events (ts_ms, host_id, interval_id, kind) VALUES "
			 "(1000, 1, 1, 'interval_open')"), SQLITE_OK);
	raw_close(db);

	ASSERT_EQ(vgl_db_open(path, &db, err, sizeof(err)), 0);
	ASSERT_EQ(q_int(db, "PRAGMA user_version"), VGL_SCHEMA_VERSION_LATEST);
	ASSERT_EQ(q_int(db, "SELECT count(*) FROM intervals"), 2);
	t = q_text(db, "SELECT evidence FROM intervals WHERE id = 1");
	ASSERT_STREQ(t, "{\"x\":1}");
	free(t);
	ASSERT_EQ(q_int(db, "SELECT count(*) FROM intervals WHERE id = 2 AND end_ms IS NULL"), 1);
	ASSERT_EQ(q_int(db, "SELECT count(*) FROM events"), 1);
	ASSERT_EQ(q_int(db, "SELECT count(*) FROM hosts WHERE power = 'feeds off: b'"), 1);
	ASSERT_EQ(q_int(db, "SELECT count(*) FROM sqlite_master WHERE name IN ('interval_causes', "
			"'interval_causes_interval', 'interval_causes_no_update', "
			"'interval_causes_no_delete', 'bmc_cursors')"), 5);
	ASSERT_EQ(q_int(db, "SELECT count(*) FROM interval_causes"), 0);
	ASSERT_EQ(q_int(db, "SELECT count(*) FROM bmc_cursors"), 0);
	/* and the writer works on it */
	raw_close(db);
	{
		struct vgl_store *s = store_open(path, 50, T0);

		vgl_store_interval_cause(s, 1, "a", "hardware", "{\"y\":2}");
		vgl_store_close(s, T0 + 1);
	}
	db = raw_open(path);
	ASSERT_EQ(q_int(db, "SELECT cause = 'hardware' FROM intervals WHERE id = 2"), 1);
	ASSERT_EQ(q_int(db, "SELECT count(*) FROM interval_causes WHERE interval_id = 2"), 1);
	raw_close(db);
}
