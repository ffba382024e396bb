/* storage/query: overlap rules, filters, host state, operator adds. Each
 * test builds its own database with vgl_db_open in the test's tmpdir. */
#include <cjson/cJSON.h>
#include <sqlite3.h>

#include "core/vtime.h"
#include "storage/query.h"
#include "storage/store.h"
#include "test/test.h"
#include "test/unit/sql_util.h"

#define MAX_SEEN 16

struct fixture {
	sqlite3 *db;
	struct vgl_query *q;
	char path[512];
};

static void fx_open(struct fixture *fx)
{
	char err[512];

	snprintf(fx->path, sizeof(fx->path), "%s/vigil.db", vgl_test_tmpdir());
	if (vgl_db_open(fx->path, &fx->db, err, sizeof(err)) != 0) {
		fprintf(stderr, "vgl_db_open: %s\n", err);
		ASSERT(0);
	}
	if (vgl_query_new(sqw(fx->db), &fx->q, err, sizeof(err)) != 0) {
		fprintf(stderr, "vgl_query_new: %s\n", err);
		ASSERT(0);
	}
}

static void fx_close(struct fixture *fx)
{
	vgl_query_free(fx->q);
	ASSERT_EQ(sqlite3_close(fx->db), SQLITE_OK);
}

/* One statement, through prepare like everything else. */
static void sql(sqlite3 *db, const char *text)
{
	sqlite3_stmt *s;

	if (sqlite3_prepare_v2(db, text, -1, &s, NULL) != SQLITE_OK) {
		fprintf(stderr, "%s: %s\n", text, sqlite3_errmsg(db));
		ASSERT(0);
	}
	if (sqlite3_step(s) != SQLITE_DONE) {
		fprintf(stderr, "%s: %s\n", text, sqlite3_errmsg(db));
		sqlite3_finalize(s);
		ASSERT(0);
	}
	sqlite3_finalize(s);
}

static int64_t sql_int(sqlite3 *db, const char *text)
{
	sqlite3_stmt *s;
	int64_t v;

	ASSERT_EQ(sqlite3_prepare_v2(db, text, -1, &s, NULL), SQLITE_OK);
	ASSERT_EQ(sqlite3_step(s), SQLITE_ROW);
	v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return v;
}

/* h1: [1000,2000) #1, [3000,4000) #2, [5000,open) #3; h2: [1500,2500) #4. */
static void seed(sqlite3 *db)
{
	sql(db, "INSERT INTO hosts (id, name, state, last_poll_ms) VALUES (1, 'h1', 'up', 900)");
	sql(db, "INSERT INTO hosts (id, name) VALUES (2, 'h2')");
	sql(db, "INSERT INTO intervals (id, host_id, cause, start_ms, end_ms, opened_by, "
		"closed_by, evidence, note, poll_interval_ms, created_ms) VALUES "
		"(1, 1, 'network', 1000, 2000, 'ping', 'ping', '{\"k\":1}', NULL, 10000, 1)");
	sql(db, "INSERT INTO intervals (id, host_id, cause, start_ms, end_ms, opened_by, "
		"created_ms) VALUES (2, 1, 'power', 3000, 4000, 'psu', 1)");
	sql(db, "INSERT INTO intervals (id, host_id, cause, start_ms, end_ms, opened_by, "
		"created_ms) VALUES (3, 1, 'hardware', 5000, NULL, 'fan', 1)");
	sql(db, "INSERT INTO intervals (id, host_id, cause, start_ms, end_ms, opened_by, "
		"created_ms) VALUES (4, 2, 'unknown', 1500, 2500, 'ping', 1)");
}

struct seen {
	int64_t ids[MAX_SEEN];
	int n;
	int stop_after;         /* 0: never */
};

static int collect(void *ctx, const struct vgl_query_interval *iv)
{
	struct seen *s = ctx;

	ASSERT_LT(s->n, MAX_SEEN);
	s->ids[s->n++] = iv->id;
	if (s->stop_after && s->n == s->stop_after)
		return 7;
	return 0;
}

/* Walks with the filter and returns the ids as "1,2,3" for easy asserts. */
static const char *walk(struct fixture *fx, const struct vgl_query_filter *f)
{
	static char buf[256];
	struct seen s = { .n = 0 };
	char err[256];
	size_t off = 0;

	ASSERT_EQ(vgl_query_intervals(fx->q, f, collect, &s, err, sizeof(err)), 0);
	buf[0] = '\0';
	for (int i = 0; i < s.n; i++)
		off += (size_t)snprintf(buf + off, sizeof(buf) - off, "%s%lld", i ? "," : "",
					(long long)s.ids[i]);
	return buf;
}

static const char *window(struct fixture *fx, const char *host, int64_t from, int64_t to)
{
	struct vgl_query_filter f;

	vgl_query_filter_init(&f);
	f.host = host;
	f.from_ms = from;
	f.to_ms = to;
	f.order = VGL_QUERY_OLDEST_FIRST;
	return walk(fx, &f);
}

TEST(query_overlap_rules)
{
	struct fixture fx;

	fx_open(&fx);
	seed(fx.db);
	/* Half-open: touching ends do not overlap. */
	ASSERT_STREQ(window(&fx, "h1", 2000, 3000), "");
	ASSERT_STREQ(window(&fx, "h1", 0, 1000), "");
	ASSERT_STREQ(window(&fx, "h1", 0, 1001), "1");
	ASSERT_STREQ(window(&fx, "h1", 1999, 3001), "1,2");
	ASSERT_STREQ(window(&fx, "h1", 1200, 1300), "1");     /* inside */
	ASSERT_STREQ(window(&fx, "h1", 4000, 5000), "");
	/* An open interval reaches +infinity. */
	ASSERT_STREQ(window(&fx, "h1", 4000, 5001), "3");
	ASSERT_STREQ(window(&fx, "h1", 900000000000LL, 900000000001LL), "3");
	ASSERT_STREQ(window(&fx, "h1", VGL_QUERY_TIME_MIN, VGL_QUERY_TIME_MAX), "1,2,3");
	ASSERT_STREQ(window(&fx, NULL, 1900, 2100), "1,4");
	fx_close(&fx);
}

TEST(query_filters_and_order)
{
	struct vgl_query_filter f;
	struct fixture fx;
	struct seen s = { .n = 0, .stop_after = 2 };
	char err[256];

	fx_open(&fx);
	seed(fx.db);
	vgl_query_filter_init(&f);
	ASSERT_STREQ(walk(&fx, &f), "3,2,4,1");               /* newest start first */
	f.order = VGL_QUERY_OLDEST_FIRST;
	ASSERT_STREQ(walk(&fx, &f), "1,4,2,3");
	f.open_only = 1;
	ASSERT_STREQ(walk(&fx, &f), "3");
	f.host = "h2";
	ASSERT_STREQ(walk(&fx, &f), "");
	f.open_only = 0;
	ASSERT_STREQ(walk(&fx, &f), "4");
	f.host = "nosuch";
	ASSERT_STREQ(walk(&fx, &f), "");
	/* The callback can stop the walk; its value comes back, and the
	 * statement is left reusable. */
	f.host = NULL;
	ASSERT_EQ(vgl_query_intervals(fx.q, &f, collect, &s, err, sizeof(err)), 7);
	ASSERT_EQ(s.n, 2);
	ASSERT_STREQ(walk(&fx, &f), "1,4,2,3");
	fx_close(&fx);
}

static int check_row(void *ctx, const struct vgl_query_interval *iv)
{
	(void)ctx;
	if (iv->id == 1) {
		ASSERT_STREQ(iv->host, "h1");
		ASSERT_STREQ(iv->cause, "network");
		ASSERT_EQ(iv->start_ms, 1000);
		ASSERT_EQ(iv->end_ms, 2000);
		ASSERT_EQ(iv->is_open, 0);
		ASSERT_STREQ(iv->opened_by, "ping");
		ASSERT_STREQ(iv->evidence, "{\"k\":1}");
		ASSERT(iv->note == NULL);
		ASSERT_EQ(iv->poll_interval_ms, 10000);
		ASSERT_STREQ(iv->origin, "monitor");
	} else if (iv->id == 3) {
		ASSERT_EQ(iv->is_open, 1);
		ASSERT(iv->closed_by == NULL);
		ASSERT(iv->evidence == NULL);
	}
	return 0;
}

TEST(query_interval_columns)
{
	struct vgl_query_filter f;
	struct fixture fx;
	char err[256];

	fx_open(&fx);
	seed(fx.db);
	vgl_query_filter_init(&f);
	ASSERT_EQ(vgl_query_intervals(fx.q, &f, check_row, NULL, err, sizeof(err)), 0);
	fx_close(&fx);
}

TEST(query_host_state)
{
	struct vgl_query_host_state st;
	struct fixture fx;
	char err[256];

	fx_open(&fx);
	seed(fx.db);
	sql(fx.db, "INSERT INTO hosts (id, name, state, last_poll_ms) VALUES (3, 'h3', 'up', 77)");
	sql(fx.db, "INSERT INTO hosts (id, name, state, last_poll_ms) VALUES (4, 'h4', 'down', 78)");

	ASSERT_EQ(vgl_query_host_state(fx.q, "nosuch", &st, err, sizeof(err)), 0);
	ASSERT_EQ(st.in_db, 0);
	ASSERT_STREQ(st.state, "unknown");

	ASSERT_EQ(vgl_query_host_state(fx.q, "h1", &st, err, sizeof(err)), 0);
	ASSERT_EQ(st.in_db, 1);
	ASSERT_STREQ(st.state, "down");     /* open interval beats hosts.state 'up' */
	ASSERT_EQ(st.has_open, 1);
	ASSERT_EQ(st.down_since_ms, 5000);
	ASSERT_STREQ(st.cause, "hardware");

	ASSERT_EQ(vgl_query_host_state(fx.q, "h2", &st, err, sizeof(err)), 0);
	ASSERT_EQ(st.in_db, 1);
	ASSERT_STREQ(st.state, "unknown");  /* never polled */
	ASSERT_EQ(st.has_open, 0);

	ASSERT_EQ(vgl_query_host_state(fx.q, "h3", &st, err, sizeof(err)), 0);
	ASSERT_STREQ(st.state, "up");
	ASSERT_EQ(st.last_poll_ms, 77);

	ASSERT_EQ(vgl_query_host_state(fx.q, "h4", &st, err, sizeof(err)), 0);
	ASSERT_STREQ(st.state, "down");
	ASSERT_EQ(st.has_open, 0);
	fx_close(&fx);
}

static struct vgl_conf_host host_h1 = {
	.name = "h1", .address = "127.0.0.1", .site = "hn1", .service = "vserver",
	.customer = "acme",
};
static struct vgl_conf_host host_new = {
	.name = "fresh", .address = "127.0.0.9", .site = "hcm", .service = "vbaremetal",
	.customer = "globex",
};

static struct vgl_query_add add_req(const struct vgl_conf_host *h, int64_t start, int64_t end)
{
	return (struct vgl_query_add){ .host = h, .cause = "power", .start_ms = start,
				       .end_ms = end, .note = "ticket 42", .user = "alice",
				       .now_ms = 100000 };
}

TEST(query_add_records_who_and_why)
{
	struct vgl_query_add a = add_req(&host_new, 10000, 20000);
	struct fixture fx;
	sqlite3_stmt *s;
	cJSON *detail;
	char err[256];
	int64_t id = 0;

	fx_open(&fx);
	seed(fx.db);
	ASSERT_EQ(vgl_query_interval_add(fx.q, &a, &id, err, sizeof(err)), VGL_QUERY_ADD_OK);
	ASSERT_GT(id, 4);

	ASSERT_EQ(sqlite3_prepare_v2(fx.db,
				     "SELECT h.name, h.address, h.site, h.service, h.customer, "
				     "i.cause, i.start_ms, i.end_ms, i.opened_by, i.closed_by, "
				     "i.note, i.origin, i.created_by, i.created_ms, i.evidence "
				     "FROM intervals i JOIN hosts h ON h.id = i.host_id WHERE i.id = ?1",
				     -1, &s, NULL), SQLITE_OK);
	ASSERT_EQ(sqlite3_bind_int64(s, 1, id), SQLITE_OK);
	ASSERT_EQ(sqlite3_step(s), SQLITE_ROW);
	ASSERT_STREQ((const char *)sqlite3_column_text(s, 0), "fresh");
	ASSERT_STREQ((const char *)sqlite3_column_text(s, 1), "127.0.0.9");
	ASSERT_STREQ((const char *)sqlite3_column_text(s, 2), "hcm");
	ASSERT_STREQ((const char *)sqlite3_column_text(s, 3), "vbaremetal");
	ASSERT_STREQ((const char *)sqlite3_column_text(s, 4), "globex");
	ASSERT_STREQ((const char *)sqlite3_column_text(s, 5), "power");
	ASSERT_EQ(sqlite3_column_int64(s, 6), 10000);
	ASSERT_EQ(sqlite3_column_int64(s, 7), 20000);
	ASSERT_STREQ((const char *)sqlite3_column_text(s, 8), "operator:alice");
	ASSERT_STREQ((const char *)sqlite3_column_text(s, 9), "operator:alice");
	ASSERT_STREQ((const char *)sqlite3_column_text(s, 10), "ticket 42");
	ASSERT_STREQ((const char *)sqlite3_column_text(s, 11), "operator");
	ASSERT_STREQ((const char *)sqlite3_column_text(s, 12), "alice");
	ASSERT_EQ(sqlite3_column_int64(s, 13), 100000);
	ASSERT_EQ(sqlite3_column_type(s, 14), SQLITE_NULL);
	sqlite3_finalize(s);

	ASSERT_EQ(sqlite3_prepare_v2(fx.db,
				     "SELECT kind, ts_ms, interval_id, host_id = (SELECT id FROM "
				     "hosts WHERE name = 'fresh'), detail FROM events", -1, &s, NULL),
		  SQLITE_OK);
	ASSERT_EQ(sqlite3_step(s), SQLITE_ROW);
	ASSERT_STREQ((const char *)sqlite3_column_text(s, 0), "interval_add");
	ASSERT_EQ(sqlite3_column_int64(s, 1), 100000);
	ASSERT_EQ(sqlite3_column_int64(s, 2), id);
	ASSERT_EQ(sqlite3_column_int64(s, 3), 1);
	detail = cJSON_Parse((const char *)sqlite3_column_text(s, 4));
	ASSERT(detail != NULL);
	ASSERT_STREQ(cJSON_GetStringValue(cJSON_GetObjectItem(detail, "by")), "operator:alice");
	ASSERT_STREQ(cJSON_GetStringValue(cJSON_GetObjectItem(detail, "note")), "ticket 42");
	ASSERT_EQ((int64_t)cJSON_GetNumberValue(cJSON_GetObjectItem(detail, "start_ms")), 10000);
	cJSON_Delete(detail);
	ASSERT_EQ(sqlite3_step(s), SQLITE_DONE);       /* exactly one event */
	sqlite3_finalize(s);

	/* A second add on the same host reuses its row. */
	a = add_req(&host_new, 20000, 30000);
	ASSERT_EQ(vgl_query_interval_add(fx.q, &a, NULL, err, sizeof(err)), VGL_QUERY_ADD_OK);
	ASSERT_EQ(sql_int(fx.db, "SELECT count(*) FROM hosts WHERE name = 'fresh'"), 1);
	fx_close(&fx);
}

static void expect_refused(struct fixture *fx, struct vgl_query_add a, const char *why)
{
	char err[256] = "";
	int64_t id = -5;

	ASSERT_EQ(vgl_query_interval_add(fx->q, &a, &id, err, sizeof(err)), VGL_QUERY_ADD_REFUSED);
	ASSERT_CONTAINS(err, why);
	ASSERT_EQ(id, -5);
	ASSERT_EQ(sql_int(fx->db, "SELECT count(*) FROM intervals"), 4);
	ASSERT_EQ(sql_int(fx->db, "SELECT count(*) FROM events"), 0);
	ASSERT_EQ(sqlite3_get_autocommit(fx->db), 1);  /* no transaction left open */
}

TEST(query_add_refused)
{
	struct vgl_query_add a;
	struct fixture fx;
	char err[256];

	fx_open(&fx);
	seed(fx.db);
	a = add_req(&host_h1, 1100, 1200);
	a.cause = "gremlins";
	expect_refused(&fx, a, "unknown cause 'gremlins'");
	expect_refused(&fx, add_req(&host_h1, 2500, 2500), "not after start");
	expect_refused(&fx, add_req(&host_h1, 2600, 2500), "not after start");
	expect_refused(&fx, add_req(&host_h1, 2000, 100001), "in the future");
	a = add_req(&host_h1, 2100, 2200);
	a.note = "";
	expect_refused(&fx, a, "note");
	/* Overlaps: partial on either side, inside, around, and the open one. */
	expect_refused(&fx, add_req(&host_h1, 500, 1001), "overlaps interval 1 of h1");
	expect_refused(&fx, add_req(&host_h1, 1999, 2500), "overlaps interval 1");
	expect_refused(&fx, add_req(&host_h1, 1200, 1300), "overlaps interval 1");
	expect_refused(&fx, add_req(&host_h1, 2500, 4500), "overlaps interval 2");
	expect_refused(&fx, add_req(&host_h1, 4500, 5001), "overlaps interval 3");
	expect_refused(&fx, add_req(&host_h1, 60000, 70000), "open)");
	/* Touching both neighbours exactly is not an overlap; the other
	 * host's interval in the same span does not matter. */
	a = add_req(&host_h1, 2000, 3000);
	ASSERT_EQ(vgl_query_interval_add(fx.q, &a, NULL, err, sizeof(err)), VGL_QUERY_ADD_OK);
	a = add_req(&host_h1, 4000, 5000);
	ASSERT_EQ(vgl_query_interval_add(fx.q, &a, NULL, err, sizeof(err)), VGL_QUERY_ADD_OK);
	ASSERT_EQ(sql_int(fx.db, "SELECT count(*) FROM intervals"), 6);
	ASSERT_EQ(sql_int(fx.db, "SELECT count(*) FROM events WHERE kind = 'interval_add'"), 2);
	fx_close(&fx);
}

/* Another writer holds the lock: the add waits, then fails cleanly rather
 * than checking overlap against a state that may change under it. */
TEST(query_add_waits_for_writer)
{
	struct vgl_query_add a = add_req(&host_new, 10000, 20000);
	struct fixture fx;
	sqlite3 *other;
	char err[256], oerr[256];

	fx_open(&fx);
	seed(fx.db);
	ASSERT_EQ(vgl_db_open(fx.path, &other, oerr, sizeof(oerr)), 0);
	sql(other, "BEGIN IMMEDIATE");
	sql(other, "UPDATE hosts SET state = 'down' WHERE name = 'h2'");
	ASSERT_EQ(sqlite3_busy_timeout(fx.db, 50), SQLITE_OK);
	ASSERT_EQ(vgl_query_interval_add(fx.q, &a, NULL, err, sizeof(err)),
		  VGL_QUERY_ADD_DB_ERROR);
	ASSERT_CONTAINS(err, "locked");
	ASSERT_EQ(sqlite3_get_autocommit(fx.db), 1);
	/* Readers are not blocked by the writer (WAL). */
	ASSERT_STREQ(window(&fx, "h1", 0, 1001), "1");
	sql(other, "COMMIT");
	ASSERT_EQ(vgl_query_interval_add(fx.q, &a, NULL, err, sizeof(err)), VGL_QUERY_ADD_OK);
	ASSERT_EQ(sqlite3_close(other), SQLITE_OK);
	fx_close(&fx);
}
