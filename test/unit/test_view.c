/* storage/view: stale by heartbeat age (the bound exactly, a clean stop, no
 * run at all), a host's state view and its JSON, the JSON of an open and a
 * closed interval byte for byte, and which hosts intervals may be asked
 * of. Each test builds its own database in its tmpdir. */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <sqlite3.h>

#include "storage/query.h"
#include "storage/store.h"
#include "storage/view.h"
#include "test/test.h"
#include "test/unit/sql_util.h"

#define T0 1792152000000LL      /* 2026-10-16T12:00:00.000Z */

struct fixture {
	sqlite3 *db;
	struct vgl_query *q;
	struct vgl_conf conf;
	struct vgl_conf_host hosts[2];
};

static void fx_open(struct fixture *fx)
{
	char err[512], path[512];

	memset(fx, 0, sizeof(*fx));
	snprintf(path, sizeof(path), "%s/vigil.db", vgl_test_tmpdir());
	if (vgl_db_open(path, &fx->db, err, sizeof(err)) != 0 ||
	    vgl_query_new(sqw(fx->db), &fx->q, err, sizeof(err)) != 0) {
		fprintf(stderr, "open: %s\n", err);
		ASSERT(0);
	}
	fx->hosts[0] = (struct vgl_conf_host){ .name = "a", .address = "127.0.0.1",
					       .site = "hall-1", .service = "vserver",
					       .customer = "acme" };
	fx->hosts[1] = (struct vgl_conf_host){ .name = "b", .address = "127.0.0.2" };
	fx->conf.hosts = fx->hosts;
	fx->conf.n_hosts = 2;
	fx->conf.heartbeat_ms = 10000;
	fx->conf.batch_ms = 1000;
}

static void fx_close(struct fixture *fx)
{
	vgl_query_free(fx->q);
	ASSERT_EQ(sqlite3_close(fx->db), SQLITE_OK);
}

static void sql(sqlite3 *db, const char *text)
{
	char *msg = NULL;

	if (sqlite3_exec(db, text, NULL, NULL, &msg) != SQLITE_OK) {
		fprintf(stderr, "%s: %s\n", text, msg ? msg : "?");
		sqlite3_free(msg);
		ASSERT(0);
	}
}

/* The compact text of a cJSON object, then the object freed. */
static char *text_of(cJSON *o)
{
	char *t;

	ASSERT(o);
	t = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	ASSERT(t);
	return t;
}

TEST(view_stale_by_heartbeat_age)
{
	struct vgl_conf conf = { .heartbeat_ms = 10000, .batch_ms = 1000 };
	struct vgl_query_daemon d = { .ever_ran = 1, .last_heartbeat_ms = T0 };

	/* grace: 3 heartbeats plus a batch = 31 s */
	ASSERT_EQ(vgl_view_is_stale(&conf, &d, T0), 0);
	ASSERT_EQ(vgl_view_is_stale(&conf, &d, T0 + 31000), 0);
	ASSERT_EQ(vgl_view_is_stale(&conf, &d, T0 + 31001), 1);
	conf.batch_ms = 5000;
	ASSERT_EQ(vgl_view_is_stale(&conf, &d, T0 + 31001), 0);
	ASSERT_EQ(vgl_view_is_stale(&conf, &d, T0 + 35001), 1);
	d.stopped = 1;
	ASSERT_EQ(vgl_view_is_stale(&conf, &d, T0), 1);
	d = (struct vgl_query_daemon){ 0 };
	ASSERT_EQ(vgl_view_is_stale(&conf, &d, T0 + 86400000), 0);
}

TEST(view_daemon_from_the_database)
{
	struct fixture fx;
	struct vgl_view *v;
	struct vgl_view_daemon d;
	char err[512];

	fx_open(&fx);
	ASSERT_EQ(vgl_view_new(&fx.conf, fx.q, T0, &v, err, sizeof(err)), 0);
	vgl_view_daemon(v, &d);
	ASSERT_EQ(d.ever_ran, 0);
	ASSERT_EQ(d.stale, 0);
	vgl_view_free(v);

	sql(fx.db, "INSERT INTO runs (id, started_ms, heartbeat_ms, pid) VALUES "
		   "(1, 1790812800000, 1792152000000, 1)");
	ASSERT_EQ(vgl_view_new(&fx.conf, fx.q, T0 + 5000, &v, err, sizeof(err)), 0);
	vgl_view_daemon(v, &d);
	ASSERT_EQ(d.ever_ran, 1);
	ASSERT_EQ(d.stale, 0);
	ASSERT_EQ(d.last_heartbeat_ms, T0);
	vgl_view_free(v);
	ASSERT_EQ(vgl_view_new(&fx.conf, fx.q, T0 + 31001, &v, err, sizeof(err)), 0);
	vgl_view_daemon(v, &d);
	ASSERT_EQ(d.stale, 1);
	ASSERT_EQ(d.stopped, 0);
	vgl_view_free(v);
	sql(fx.db, "UPDATE runs SET stopped_ms = 1792152001000");
	ASSERT_EQ(vgl_view_new(&fx.conf, fx.q, T0 + 2000, &v, err, sizeof(err)), 0);
	vgl_view_daemon(v, &d);
	ASSERT_EQ(d.stale, 1);
	ASSERT_EQ(d.stopped, 1);
	vgl_view_free(v);
	fx_close(&fx);
}

TEST(view_host_state_and_json)
{
	struct fixture fx;
	struct vgl_view *v;
	struct vgl_view_host hs;
	char err[512], *t;

	fx_open(&fx);
	sql(fx.db, "INSERT INTO hosts (id, name, address, state, last_poll_ms) VALUES "
		   "(1, 'a', '127.0.0.1', 'up', 1792151990000)");
	sql(fx.db, "INSERT INTO intervals (host_id, cause, start_ms, opened_by, created_ms) "
		   "VALUES (1, 'power', 1792150000000, 'ups', 1792150000000)");
	sql(fx.db, "INSERT INTO runs (id, started_ms, heartbeat_ms, pid) VALUES "
		   "(1, 1790812800000, 1792152000000, 1)");

	ASSERT_EQ(vgl_view_new(&fx.conf, fx.q, T0 + 1000, &v, err, sizeof(err)), 0);
	ASSERT_EQ(vgl_view_host(v, &fx.hosts[0], &hs, err, sizeof(err)), 0);
	ASSERT_STREQ(hs.state, "down");
	ASSERT_EQ(hs.down, 1);
	ASSERT_STREQ(hs.cause, "power");
	ASSERT_EQ(hs.since_ms, 1792150000000LL);
	ASSERT_EQ(hs.stale, 0);
	t = text_of(vgl_view_host_json(&hs));
	ASSERT_STREQ(t, "{\"name\":\"a\",\"address\":\"127.0.0.1\",\"site\":\"hall-1\","
			"\"policy\":\"vserver\",\"customer\":\"acme\",\"state\":\"down\","
			"\"cause\":\"power\",\"since\":\"2026-10-16T11:26:40.000Z\","
			"\"last_poll\":\"2026-10-16T11:59:50.000Z\",\"stale\":false,"
			"\"last_heartbeat\":\"2026-10-16T12:00:00.000Z\"}");
	cJSON_free(t);

	/* never polled, not in the database: unknown, nulls */
	ASSERT_EQ(vgl_view_host(v, &fx.hosts[1], &hs, err, sizeof(err)), 0);
	ASSERT_STREQ(hs.state, "unknown");
	ASSERT_EQ(hs.down, 0);
	ASSERT_STREQ(hs.cause, "");
	t = text_of(vgl_view_host_json(&hs));
	ASSERT_STREQ(t, "{\"name\":\"b\",\"address\":\"127.0.0.2\",\"site\":null,"
			"\"policy\":null,\"customer\":null,\"state\":\"unknown\",\"cause\":null,"
			"\"since\":null,\"last_poll\":null,\"stale\":false,"
			"\"last_heartbeat\":\"2026-10-16T12:00:00.000Z\"}");
	cJSON_free(t);
	vgl_view_free(v);

	/* the same host a minute later: stale, the last state kept */
	ASSERT_EQ(vgl_view_new(&fx.conf, fx.q, T0 + 60000, &v, err, sizeof(err)), 0);
	ASSERT_EQ(vgl_view_host(v, &fx.hosts[0], &hs, err, sizeof(err)), 0);
	ASSERT_EQ(hs.stale, 1);
	ASSERT_STREQ(hs.state, "down");
	t = text_of(vgl_view_host_json(&hs));
	ASSERT_CONTAINS(t, "\"state\":\"down\",\"cause\":\"power\"");
	ASSERT_CONTAINS(t, "\"stale\":true");
	cJSON_free(t);
	vgl_view_free(v);
	fx_close(&fx);
}

struct seen {
	char *json[4];
	size_t n;
};

static int on_iv(void *ctx, const struct vgl_query_interval *iv)
{
	struct seen *s = ctx;

	ASSERT(s->n < 4);
	s->json[s->n++] = text_of(vgl_view_interval_json(iv));
	return 0;
}

TEST(view_interval_json_open_and_closed)
{
	struct fixture fx;
	struct vgl_query_filter f;
	struct seen s = { 0 };
	char err[512];

	fx_open(&fx);
	sql(fx.db, "INSERT INTO hosts (id, name) VALUES (1, 'a')");
	sql(fx.db, "INSERT INTO intervals (id, host_id, cause, start_ms, end_ms, opened_by, "
		   "closed_by, evidence, poll_interval_ms, unobserved_ms, created_ms) VALUES "
		   "(7, 1, 'network', 1791194400000, 1791198000000, 'unreachable', 'unreachable', "
		   "'{\"polls\":[{\"q\":\"timeout\"}]}', 10000, 5000, 1791198000000)");
	sql(fx.db, "INSERT INTO intervals (id, host_id, cause, start_ms, opened_by, evidence, "
		   "note, origin, created_by, created_ms) VALUES "
		   "(8, 1, 'hardware', 1792150000000, 'operator:alice', 'not json', 'fan', "
		   "'operator', 'alice', 1792150000000)");
	vgl_query_filter_init(&f);
	ASSERT_EQ(vgl_query_intervals(fx.q, &f, on_iv, &s, err, sizeof(err)), 0);
	ASSERT_EQ(s.n, 2);
	/* newest first: the open one; end null, evidence kept raw beside a
	 * null evidence, no poll interval (operator row) as null */
	ASSERT_STREQ(s.json[0], "{\"id\":8,\"host\":\"a\",\"cause\":\"hardware\","
				"\"start\":\"2026-10-16T11:26:40.000Z\",\"end\":null,"
				"\"rule\":\"operator:alice\",\"evidence_raw\":\"not json\","
				"\"evidence\":null,\"note\":\"fan\",\"closed_by\":null,"
				"\"origin\":\"operator\",\"unobserved_ms\":0,"
				"\"poll_interval_ms\":null,\"created_by\":\"alice\","
				"\"created\":\"2026-10-16T11:26:40.000Z\"}");
	ASSERT_STREQ(s.json[1], "{\"id\":7,\"host\":\"a\",\"cause\":\"network\","
				"\"start\":\"2026-10-05T10:00:00.000Z\","
				"\"end\":\"2026-10-05T11:00:00.000Z\",\"rule\":\"unreachable\","
				"\"evidence\":{\"polls\":[{\"q\":\"timeout\"}]},\"note\":null,"
				"\"closed_by\":\"unreachable\",\"origin\":\"monitor\","
				"\"unobserved_ms\":5000,\"poll_interval_ms\":10000,"
				"\"created_by\":null,\"created\":\"2026-10-05T11:00:00.000Z\"}");
	for (size_t i = 0; i < s.n; i++)
		cJSON_free(s.json[i]);
	fx_close(&fx);
}

TEST(view_host_known)
{
	struct fixture fx;
	char err[512];

	fx_open(&fx);
	sql(fx.db, "INSERT INTO hosts (id, name) VALUES (9, 'dropped')");
	/* configured, even before the database ever saw it */
	ASSERT_EQ(vgl_view_host_known(&fx.conf, fx.q, "b", err, sizeof(err)), 1);
	/* dropped from the config: its history is still there */
	ASSERT_EQ(vgl_view_host_known(&fx.conf, fx.q, "dropped", err, sizeof(err)), 1);
	ASSERT_EQ(vgl_view_host_known(&fx.conf, fx.q, "nosuch", err, sizeof(err)), 0);
	fx_close(&fx);
}

TEST(view_database_error_comes_back)
{
	struct fixture fx;
	struct vgl_view *v = (struct vgl_view *)&fx;
	char err[512] = "";

	fx_open(&fx);
	sql(fx.db, "DROP TABLE runs");
	ASSERT_EQ(vgl_view_new(&fx.conf, fx.q, T0, &v, err, sizeof(err)), -1);
	ASSERT(v == NULL);
	ASSERT(err[0] != '\0');
	fx_close(&fx);
}
