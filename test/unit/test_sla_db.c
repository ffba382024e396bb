/* storage/sla_db: maintenance windows (add, refuse, cancel, list, never
 * deleted), the per-host month reads the SLA report streams, and counter
 * imports. Each test builds its own database in its tmpdir. */
#include <string.h>

#include <sqlite3.h>

#include "storage/sla_db.h"
#include "storage/store.h"
#include "test/test.h"
#include "test/unit/sql_util.h"

#define T0 1793491200000LL      /* 2026-11-01T00:00:00Z */
#define HOUR 3600000LL
#define DAY (24 * HOUR)

struct fixture {
	sqlite3 *db;
	struct vgl_sla_db *s;
};

static struct vgl_conf_host host_a = { .name = "a", .address = "127.0.0.1", .site = "hall-1",
				       .service = "vserver", .customer = "acme" };
static struct vgl_conf_host host_b = { .name = "b", .address = "127.0.0.2", .site = "hall-2",
				       .service = "vcdn", .customer = "acme" };

static void fx_open(struct fixture *fx)
{
	char err[512], path[512];

	snprintf(path, sizeof(path), "%s/vigil.db", vgl_test_tmpdir());
	if (vgl_db_open(path, &fx->db, err, sizeof(err)) != 0 ||
	    vgl_sla_db_new(sqw(fx->db), &fx->s, err, sizeof(err)) != 0) {
		fprintf(stderr, "open: %s\n", err);
		ASSERT(0);
	}
}

static void fx_close(struct fixture *fx)
{
	vgl_sla_db_free(fx->s);
	ASSERT_EQ(sqlite3_close(fx->db), SQLITE_OK);
}

/* SQLite's result code of one statement. */
static int sql_rc(sqlite3 *db, const char *text)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(db, text, -1, &st, NULL);

	if (rc != SQLITE_OK)
		return rc;
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc;
}

static int64_t sql_int(sqlite3 *db, const char *text)
{
	sqlite3_stmt *st;
	int64_t v;

	ASSERT_EQ(sqlite3_prepare_v2(db, text, -1, &st, NULL), SQLITE_OK);
	ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
	v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

static void sql(sqlite3 *db, const char *text)
{
	if (sql_rc(db, text) != SQLITE_DONE) {
		fprintf(stderr, "%s: %s\n", text, sqlite3_errmsg(db));
		ASSERT(0);
	}
}

static struct vgl_sla_db_maint_add maint(const struct vgl_conf_host *h, const char *site,
					 int64_t start, int64_t end, int64_t announced)
{
	struct vgl_sla_db_maint_add a = {
		.host = h, .site = site, .kind = VGL_SLA_DB_PLANNED, .start_ms = start,
		.end_ms = end, .announced_ms = announced, .note = "firmware", .user = "ann",
		.now_ms = T0,
	};
	return a;
}

/* Collects window ids (and the last row's details) from a walk. */
struct seen {
	int64_t ids[16];
	size_t n;
	struct vgl_sla_db_maint last;
	char last_host[32], last_site[32], last_by[64], last_cancel_note[64];
};

static int on_maint(void *ctx, const struct vgl_sla_db_maint *m)
{
	struct seen *s = ctx;

	ASSERT_LT(s->n, 16);
	s->ids[s->n++] = m->id;
	s->last = *m;
	snprintf(s->last_host, sizeof(s->last_host), "%s", m->host ? m->host : "(null)");
	snprintf(s->last_site, sizeof(s->last_site), "%s", m->site ? m->site : "(null)");
	snprintf(s->last_by, sizeof(s->last_by), "%s", m->cancelled_by ? m->cancelled_by : "");
	snprintf(s->last_cancel_note, sizeof(s->last_cancel_note), "%s",
		 m->cancel_note ? m->cancel_note : "");
	return 0;
}

static struct seen list(struct fixture *fx, const char *host, const char *site, int site_hosts,
			int64_t from, int64_t to, int all)
{
	struct vgl_sla_db_maint_filter f;
	struct seen s = { 0 };
	char err[256];

	vgl_sla_db_maint_filter_init(&f);
	f.host = host;
	f.site = site;
	f.site_hosts = site_hosts;
	f.from_ms = from;
	f.to_ms = to;
	f.include_cancelled = all;
	ASSERT_EQ(vgl_sla_db_maints(fx->s, &f, on_maint, &s, err, sizeof(err)), 0);
	return s;
}

TEST(sla_db_maint_add_list_filters)
{
	struct fixture fx;
	struct vgl_sla_db_maint_add a;
	int64_t id1 = 0, id2 = 0, id3 = 0;
	char err[256];
	struct seen s;

	fx_open(&fx);
	a = maint(&host_a, NULL, T0 + DAY, T0 + DAY + HOUR, T0 - 3 * DAY);
	ASSERT_EQ(vgl_sla_db_maint_add(fx.s, &a, &id1, err, sizeof(err)), VGL_SLA_DB_OK);
	a = maint(NULL, "hall-1", T0 + 2 * DAY, T0 + 2 * DAY + HOUR, T0 - HOUR);
	a.kind = VGL_SLA_DB_EMERGENCY;
	ASSERT_EQ(vgl_sla_db_maint_add(fx.s, &a, &id2, err, sizeof(err)), VGL_SLA_DB_OK);
	a = maint(&host_b, NULL, T0 + 3 * DAY, T0 + 3 * DAY + HOUR, T0);
	ASSERT_EQ(vgl_sla_db_maint_add(fx.s, &a, &id3, err, sizeof(err)), VGL_SLA_DB_OK);
	ASSERT(id1 > 0 && id2 > id1 && id3 > id2);
	/* The host rows were made on the way, as the daemon would. */
	ASSERT_EQ(sql_int(fx.db, "SELECT count(*) FROM hosts WHERE name IN ('a', 'b') "
			  "AND site IS NOT NULL AND service IS NOT NULL"), 2);
	ASSERT_EQ(sql_int(fx.db, "SELECT count(*) FROM events WHERE kind = 'maint_add'"), 3);
	ASSERT_EQ(sql_int(fx.db, "SELECT count(*) FROM events WHERE kind = 'maint_add' AND "
			  "host_id IS NULL AND json_extract(detail, '$.site') = 'hall-1' AND "
			  "json_extract(detail, '$.kind') = 'emergency' AND "
			  "json_extract(detail, '$.by') = 'operator:ann'"), 1);

	s = list(&fx, NULL, NULL, 0, INT64_MIN, INT64_MAX, 0);
	ASSERT_EQ(s.n, 3);
	ASSERT_EQ(s.ids[0], id1);
	ASSERT_EQ(s.ids[2], id3);
	ASSERT_STREQ(s.last_host, "b");
	ASSERT_STREQ(s.last_site, "(null)");
	ASSERT_EQ(s.last.kind, VGL_SLA_DB_PLANNED);
	ASSERT_EQ(s.last.start_ms, T0 + 3 * DAY);
	ASSERT_EQ(s.last.announced_ms, T0);
	ASSERT_EQ(s.last.created_ms, T0);
	ASSERT_EQ(s.last.cancelled, 0);
	/* host a: its own window only; with its site: the site's too */
	s = list(&fx, "a", NULL, 0, INT64_MIN, INT64_MAX, 0);
	ASSERT_EQ(s.n, 1);
	ASSERT_EQ(s.ids[0], id1);
	s = list(&fx, "a", "hall-1", 0, INT64_MIN, INT64_MAX, 0);
	ASSERT_EQ(s.n, 2);
	ASSERT_EQ(s.ids[1], id2);
	ASSERT_EQ(s.last.kind, VGL_SLA_DB_EMERGENCY);
	/* site hall-1: the site window; with site_hosts, host a's as well */
	s = list(&fx, NULL, "hall-1", 0, INT64_MIN, INT64_MAX, 0);
	ASSERT_EQ(s.n, 1);
	ASSERT_EQ(s.ids[0], id2);
	s = list(&fx, NULL, "hall-1", 1, INT64_MIN, INT64_MAX, 0);
	ASSERT_EQ(s.n, 2);
	/* time: [from, to) overlap, touching ends do not overlap */
	s = list(&fx, NULL, NULL, 0, T0 + DAY + HOUR, T0 + 3 * DAY, 0);
	ASSERT_EQ(s.n, 1);
	ASSERT_EQ(s.ids[0], id2);
	s = list(&fx, NULL, NULL, 0, T0 + DAY + HOUR - 1, T0 + 3 * DAY + 1, 0);
	ASSERT_EQ(s.n, 3);
	fx_close(&fx);
}

TEST(sla_db_maint_refusals_write_nothing)
{
	struct fixture fx;
	struct vgl_sla_db_maint_add a;
	char err[256];

	fx_open(&fx);
	a = maint(&host_a, NULL, T0, T0, T0 - DAY);
	ASSERT_EQ(vgl_sla_db_maint_add(fx.s, &a, NULL, err, sizeof(err)), VGL_SLA_DB_REFUSED);
	ASSERT_CONTAINS(err, "end must be after start");
	a = maint(&host_a, NULL, T0 + DAY, T0 + 2 * DAY, T0 + 1);
	ASSERT_EQ(vgl_sla_db_maint_add(fx.s, &a, NULL, err, sizeof(err)), VGL_SLA_DB_REFUSED);
	ASSERT_CONTAINS(err, "announced is in the future");
	a = maint(&host_a, "hall-1", T0 + DAY, T0 + 2 * DAY, T0);
	ASSERT_EQ(vgl_sla_db_maint_add(fx.s, &a, NULL, err, sizeof(err)), VGL_SLA_DB_REFUSED);
	ASSERT_CONTAINS(err, "exactly one");
	a = maint(NULL, NULL, T0 + DAY, T0 + 2 * DAY, T0);
	ASSERT_EQ(vgl_sla_db_maint_add(fx.s, &a, NULL, err, sizeof(err)), VGL_SLA_DB_REFUSED);
	a = maint(&host_a, NULL, T0 + DAY, T0 + 2 * DAY, T0);
	a.note = "";
	ASSERT_EQ(vgl_sla_db_maint_add(fx.s, &a, NULL, err, sizeof(err)), VGL_SLA_DB_REFUSED);
	ASSERT_CONTAINS(err, "note");
	a = maint(&host_a, NULL, T0 + DAY, T0 + 2 * DAY, T0);
	a.kind = 7;
	ASSERT_EQ(vgl_sla_db_maint_add(fx.s, &a, NULL, err, sizeof(err)), VGL_SLA_DB_REFUSED);
	ASSERT_EQ(vgl_sla_db_maint_kind_parse("planned"), VGL_SLA_DB_PLANNED);
	ASSERT_EQ(vgl_sla_db_maint_kind_parse("emergency"), VGL_SLA_DB_EMERGENCY);
	ASSERT_EQ(vgl_sla_db_maint_kind_parse("Planned"), -1);
	ASSERT_EQ(vgl_sla_db_maint_kind_parse(NULL), -1);
	ASSERT_EQ(sql_int(fx.db, "SELECT count(*) FROM maint_windows"), 0);
	ASSERT_EQ(sql_int(fx.db, "SELECT count(*) FROM events"), 0);
	ASSERT_EQ(sql_int(fx.db, "SELECT count(*) FROM hosts"), 0);
	/* announced == now is a notice given just now: fine */
	a = maint(&host_a, NULL, T0 + DAY, T0 + 2 * DAY, T0);
	ASSERT_EQ(vgl_sla_db_maint_add(fx.s, &a, NULL, err, sizeof(err)), VGL_SLA_DB_OK);
	fx_close(&fx);
}

TEST(sla_db_maint_cancel_once_never_deleted)
{
	struct fixture fx;
	struct vgl_sla_db_maint_add a;
	int64_t id = 0, site_id = 0;
	char err[256];
	struct seen s;

	fx_open(&fx);
	a = maint(&host_a, NULL, T0 + DAY, T0 + DAY + HOUR, T0 - 3 * DAY);
	ASSERT_EQ(vgl_sla_db_maint_add(fx.s, &a, &id, err, sizeof(err)), VGL_SLA_DB_OK);
	a = maint(NULL, "hall-1", T0 + DAY, T0 + DAY + HOUR, T0 - 3 * DAY);
	ASSERT_EQ(vgl_sla_db_maint_add(fx.s, &a, &site_id, err, sizeof(err)), VGL_SLA_DB_OK);

	ASSERT_EQ(vgl_sla_db_maint_cancel(fx.s, id, "postponed", "bob", T0 + 5, err, sizeof(err)),
		  VGL_SLA_DB_OK);
	ASSERT_EQ(vgl_sla_db_maint_cancel(fx.s, id, NULL, "bob", T0 + 6, err, sizeof(err)),
		  VGL_SLA_DB_REFUSED);
	ASSERT_CONTAINS(err, "already cancelled");
	ASSERT_CONTAINS(err, "operator:bob");
	ASSERT_EQ(vgl_sla_db_maint_cancel(fx.s, 999, NULL, "bob", T0, err, sizeof(err)),
		  VGL_SLA_DB_REFUSED);
	ASSERT_CONTAINS(err, "no maintenance window 999");
	/* a site window's cancel: no host on the event */
	ASSERT_EQ(vgl_sla_db_maint_cancel(fx.s, site_id, NULL, "bob", T0 + 7, err, sizeof(err)),
		  VGL_SLA_DB_OK);
	ASSERT_EQ(sql_int(fx.db, "SELECT count(*) FROM events WHERE kind = 'maint_cancel'"), 2);
	ASSERT_EQ(sql_int(fx.db, "SELECT count(*) FROM events WHERE kind = 'maint_cancel' "
			  "AND host_id IS NOT NULL AND json_extract(detail, '$.note') = 'postponed'"),
		  1);
	ASSERT_EQ(sql_int(fx.db, "SELECT count(*) FROM events WHERE kind = 'maint_cancel' "
			  "AND host_id IS NULL AND json_type(detail, '$.note') = 'null'"), 1);

	s = list(&fx, NULL, NULL, 0, INT64_MIN, INT64_MAX, 0);
	ASSERT_EQ(s.n, 0);
	s = list(&fx, "a", NULL, 0, INT64_MIN, INT64_MAX, 1);
	ASSERT_EQ(s.n, 1);
	ASSERT_EQ(s.last.cancelled, 1);
	ASSERT_EQ(s.last.cancelled_ms, T0 + 5);
	ASSERT_STREQ(s.last_by, "operator:bob");
	ASSERT_STREQ(s.last_cancel_note, "postponed");

	/* The record is append-only, whatever writes to it. */
	ASSERT_EQ(sql_rc(fx.db, "DELETE FROM maint_windows"), SQLITE_CONSTRAINT_TRIGGER);
	ASSERT_EQ(sql_rc(fx.db, "UPDATE maint_windows SET start_ms = 0"),
		  SQLITE_CONSTRAINT_TRIGGER);
	ASSERT_EQ(sql_rc(fx.db, "UPDATE maint_windows SET cancelled_ms = NULL, "
			 "cancelled_by = NULL"), SQLITE_CONSTRAINT_TRIGGER);
	ASSERT_EQ(sql_int(fx.db, "SELECT count(*) FROM maint_windows WHERE start_ms = "
			  "1793577600000"), 2);
	/* and a window is for a host or a site, never both or neither */
	ASSERT_EQ(sql_rc(fx.db, "INSERT INTO maint_windows (host_id, site, kind, start_ms, "
			 "end_ms, announced_ms, note, created_by, created_ms) "
			 "VALUES (NULL, NULL, 'planned', 1, 2, 0, 'x', 'y', 0)"),
		  SQLITE_CONSTRAINT_CHECK);
	fx_close(&fx);
}

TEST(sla_db_host_maints_host_and_site_not_cancelled)
{
	struct fixture fx;
	struct vgl_sla_db_maint_add a;
	int64_t ids[5], host_a_id;
	char err[256];
	struct seen s = { 0 };

	fx_open(&fx);
	a = maint(&host_a, NULL, T0 + DAY, T0 + DAY + HOUR, T0 - 3 * DAY);
	ASSERT_EQ(vgl_sla_db_maint_add(fx.s, &a, &ids[0], err, sizeof(err)), VGL_SLA_DB_OK);
	a = maint(NULL, "hall-1", T0 + HOUR, T0 + 2 * HOUR, T0 - 3 * DAY);
	ASSERT_EQ(vgl_sla_db_maint_add(fx.s, &a, &ids[1], err, sizeof(err)), VGL_SLA_DB_OK);
	a = maint(&host_b, NULL, T0 + DAY, T0 + DAY + HOUR, T0 - 3 * DAY);   /* other host */
	ASSERT_EQ(vgl_sla_db_maint_add(fx.s, &a, &ids[2], err, sizeof(err)), VGL_SLA_DB_OK);
	a = maint(NULL, "hall-2", T0 + DAY, T0 + DAY + HOUR, T0 - 3 * DAY);  /* other site */
	ASSERT_EQ(vgl_sla_db_maint_add(fx.s, &a, &ids[3], err, sizeof(err)), VGL_SLA_DB_OK);
	a = maint(&host_a, NULL, T0 + 4 * DAY, T0 + 4 * DAY + HOUR, T0 - 3 * DAY);
	ASSERT_EQ(vgl_sla_db_maint_add(fx.s, &a, &ids[4], err, sizeof(err)), VGL_SLA_DB_OK);
	ASSERT_EQ(vgl_sla_db_maint_cancel(fx.s, ids[4], NULL, "bob", T0, err, sizeof(err)),
		  VGL_SLA_DB_OK);
	ASSERT_EQ(vgl_sla_db_host_id(fx.s, "a", &host_a_id, err, sizeof(err)), 0);
	ASSERT_GT(host_a_id, 0);

	ASSERT_EQ(vgl_sla_db_host_maints(fx.s, host_a_id, "hall-1", T0, T0 + 30 * DAY, on_maint,
					 &s, err, sizeof(err)), 0);
	ASSERT_EQ(s.n, 2);
	ASSERT_EQ(s.ids[0], ids[1]);    /* by start */
	ASSERT_EQ(s.ids[1], ids[0]);
	/* a host the database never saw still gets its site's windows */
	s.n = 0;
	ASSERT_EQ(vgl_sla_db_host_maints(fx.s, 0, "hall-1", T0, T0 + 30 * DAY, on_maint, &s, err,
					 sizeof(err)), 0);
	ASSERT_EQ(s.n, 1);
	ASSERT_EQ(s.ids[0], ids[1]);
	/* the month cut: [T0 + 2h, ...) misses the site window ending there */
	s.n = 0;
	ASSERT_EQ(vgl_sla_db_host_maints(fx.s, host_a_id, "hall-1", T0 + 2 * HOUR, T0 + 30 * DAY,
					 on_maint, &s, err, sizeof(err)), 0);
	ASSERT_EQ(s.n, 1);
	ASSERT_EQ(s.ids[0], ids[0]);
	fx_close(&fx);
}

/* The index range is bounded by the longest window: one starting 100
 * days before the month still reaches in, in a snapshot or not, and one
 * added after a snapshot began is not seen by it. */
TEST(sla_db_host_maints_long_window_reaches_in)
{
	struct fixture fx;
	struct vgl_sla_db_maint_add a;
	int64_t long_id, short_id, late_id, host_a_id;
	char err[256];
	struct seen s = { 0 };

	fx_open(&fx);
	a = maint(&host_a, NULL, T0 - 100 * DAY, T0 + HOUR, T0 - 104 * DAY);
	ASSERT_EQ(vgl_sla_db_maint_add(fx.s, &a, &long_id, err, sizeof(err)), VGL_SLA_DB_OK);
	a = maint(NULL, "hall-1", T0 - 50 * DAY, T0 - 50 * DAY + HOUR, T0 - 54 * DAY);
	ASSERT_EQ(vgl_sla_db_maint_add(fx.s, &a, &short_id, err, sizeof(err)), VGL_SLA_DB_OK);
	ASSERT_EQ(vgl_sla_db_host_id(fx.s, "a", &host_a_id, err, sizeof(err)), 0);

	ASSERT_EQ(vgl_sla_db_host_maints(fx.s, host_a_id, "hall-1", T0, T0 + 30 * DAY, on_maint,
					 &s, err, sizeof(err)), 0);
	ASSERT_EQ(s.n, 1);
	ASSERT_EQ(s.ids[0], long_id);
	/* the month of the short one: both */
	s.n = 0;
	ASSERT_EQ(vgl_sla_db_host_maints(fx.s, host_a_id, "hall-1", T0 - 60 * DAY, T0 - 30 * DAY,
					 on_maint, &s, err, sizeof(err)), 0);
	ASSERT_EQ(s.n, 2);
	ASSERT_EQ(s.ids[0], long_id);
	ASSERT_EQ(s.ids[1], short_id);

	ASSERT_EQ(vgl_sla_db_snapshot_begin(fx.s, err, sizeof(err)), 0);
	s.n = 0;
	ASSERT_EQ(vgl_sla_db_host_maints(fx.s, host_a_id, "hall-1", T0, T0 + 30 * DAY, on_maint,
					 &s, err, sizeof(err)), 0);
	ASSERT_EQ(s.n, 1);
	ASSERT_EQ(s.ids[0], long_id);
	vgl_sla_db_snapshot_end(fx.s);

	/* a longer one added later is found: the bound is read again */
	a = maint(NULL, "hall-1", T0 - 400 * DAY, T0 + 2 * HOUR, T0 - 404 * DAY);
	ASSERT_EQ(vgl_sla_db_maint_add(fx.s, &a, &late_id, err, sizeof(err)), VGL_SLA_DB_OK);
	for (int snap = 0; snap < 2; snap++) {
		if (snap)
			ASSERT_EQ(vgl_sla_db_snapshot_begin(fx.s, err, sizeof(err)), 0);
		s.n = 0;
		ASSERT_EQ(vgl_sla_db_host_maints(fx.s, host_a_id, "hall-1", T0, T0 + 30 * DAY,
						 on_maint, &s, err, sizeof(err)), 0);
		ASSERT_EQ(s.n, 2);
		ASSERT_EQ(s.ids[0], late_id);
		ASSERT_EQ(s.ids[1], long_id);
		if (snap)
			vgl_sla_db_snapshot_end(fx.s);
	}
	fx_close(&fx);
}

/* Every statement of sla_db that reads intervals is answered from
 * intervals_host_cover alone: a host-month costs one or two index pages,
 * not a table page per interval (migration 4). */
TEST(sla_db_interval_reads_use_the_covering_index)
{
	struct fixture fx;
	int checked = 0;

	fx_open(&fx);
	for (sqlite3_stmt *st = sqlite3_next_stmt(fx.db, NULL); st;
	     st = sqlite3_next_stmt(fx.db, st)) {
		const char *text = sqlite3_sql(st);
		char plan[2048] = "";
		sqlite3_stmt *q;
		char *eqp;

		if (!strstr(text, "FROM intervals") || strncmp(text, "SELECT", 6) != 0)
			continue;
		eqp = sqlite3_mprintf("EXPLAIN QUERY PLAN %s", text);
		ASSERT(eqp != NULL);
		ASSERT_EQ(sqlite3_prepare_v2(fx.db, eqp, -1, &q, NULL), SQLITE_OK);
		sqlite3_free(eqp);
		while (sqlite3_step(q) == SQLITE_ROW) {
			size_t n = strlen(plan);

			snprintf(plan + n, sizeof(plan) - n, "%s\n",
				 (const char *)sqlite3_column_text(q, 3));
		}
		sqlite3_finalize(q);
		if (!strstr(plan, "USING COVERING INDEX intervals_host_cover") ||
		    strstr(plan, "PRIMARY KEY") || strstr(plan, "TEMP B-TREE"))
			fprintf(stderr, "%s\n-> %s", text, plan);
		ASSERT(strstr(plan, "USING COVERING INDEX intervals_host_cover") != NULL);
		ASSERT(strstr(plan, "PRIMARY KEY") == NULL);
		ASSERT(strstr(plan, "TEMP B-TREE") == NULL);
		checked++;
	}
	ASSERT_EQ(checked, 2);
	fx_close(&fx);
}

struct iv_seen {
	int64_t ids[16];
	int open[16];
	size_t n;
};

static int on_interval(void *ctx, const struct vgl_sla_db_interval *iv)
{
	struct iv_seen *s = ctx;

	ASSERT_LT(s->n, 16);
	s->open[s->n] = iv->is_open;
	s->ids[s->n++] = iv->id;
	return 0;
}

TEST(sla_db_host_intervals_of_a_month)
{
	struct fixture fx;
	struct iv_seen s = { 0 };
	char err[256];
	int64_t m1 = T0 + 30 * DAY;

	fx_open(&fx);
	sql(fx.db, "INSERT INTO hosts (id, name) VALUES (1, 'a'), (2, 'b')");
	/* host 1: one long gone, one crossing the month start, two inside,
	 * one starting at the month end (not in it), and the open one after */
	sql(fx.db, "INSERT INTO intervals (id, host_id, cause, start_ms, end_ms, opened_by, "
		   "created_ms) VALUES "
		   "(1, 1, 'network', 1793491200000 - 10 * 86400000, 1793491200000 - 9 * 86400000, 'r', 0),"
		   "(2, 1, 'power', 1793491200000 - 3600000, 1793491200000 + 3600000, 'r', 0),"
		   "(3, 1, 'hardware', 1793491200000 + 86400000, 1793491200000 + 90000000, 'r', 0),"
		   "(4, 2, 'hardware', 1793491200000 + 86400000, 1793491200000 + 90000000, 'r', 0),"
		   "(5, 1, 'unknown', 1793491200000 + 2 * 86400000, 1793491200000 + 3 * 86400000, 'r', 0),"
		   "(6, 1, 'network', 1793491200000 + 30 * 86400000, 1793491200000 + 31 * 86400000, 'r', 0)");
	sql(fx.db, "INSERT INTO intervals (id, host_id, cause, start_ms, end_ms, opened_by, "
		   "created_ms) VALUES (7, 1, 'network', 1793491200000 + 32 * 86400000, NULL, 'r', 0)");
	ASSERT_EQ(vgl_sla_db_host_intervals(fx.s, 1, T0, m1, on_interval, &s, err, sizeof(err)), 0);
	ASSERT_EQ(s.n, 3);
	ASSERT_EQ(s.ids[0], 2);
	ASSERT_EQ(s.ids[1], 3);
	ASSERT_EQ(s.ids[2], 5);
	/* the next month: the open interval, and 6 ending inside it */
	s.n = 0;
	ASSERT_EQ(vgl_sla_db_host_intervals(fx.s, 1, m1 + DAY / 2, m1 + 31 * DAY, on_interval, &s,
					    err, sizeof(err)), 0);
	ASSERT_EQ(s.n, 2);
	ASSERT_EQ(s.ids[0], 6);
	ASSERT_EQ(s.ids[1], 7);
	ASSERT_EQ(s.open[1], 1);
	/* a month after everything: the open one, which started before it */
	s.n = 0;
	ASSERT_EQ(vgl_sla_db_host_intervals(fx.s, 1, m1 + 100 * DAY, m1 + 130 * DAY, on_interval,
					    &s, err, sizeof(err)), 0);
	ASSERT_EQ(s.n, 1);
	ASSERT_EQ(s.ids[0], 7);
	/* a month before the last closed one: nothing reaches in */
	s.n = 0;
	ASSERT_EQ(vgl_sla_db_host_intervals(fx.s, 1, T0 - 5 * DAY, T0 - 2 * DAY, on_interval, &s,
					    err, sizeof(err)), 0);
	ASSERT_EQ(s.n, 0);
	fx_close(&fx);
}

struct spans {
	int64_t s[8], e[8];
	size_t n;
};

static int on_span(void *ctx, int64_t s, int64_t e)
{
	struct spans *sp = ctx;

	ASSERT_LT(sp->n, 8);
	sp->s[sp->n] = s;
	sp->e[sp->n++] = e;
	return 0;
}

TEST(sla_db_observed_spans_from_runs)
{
	struct fixture fx;
	struct spans sp = { 0 };
	char err[256];

	fx_open(&fx);
	/* a clean stop (stopped after the last heartbeat), a crash (no stop),
	 * one over before the window, one starting after it */
	sql(fx.db, "INSERT INTO runs (started_ms, heartbeat_ms, stopped_ms) VALUES "
		   "(1793491200000 - 3600000, 1793491200000 + 3600000, 1793491200000 + 3700000),"
		   "(1793491200000 + 86400000, 1793491200000 + 90000000, NULL),"
		   "(1793491200000 - 7200000, 1793491200000 - 3600000, 1793491200000 - 3600000),"
		   "(1793491200000 + 40 * 86400000, 1793491200000 + 41 * 86400000, NULL)");
	ASSERT_EQ(vgl_sla_db_observed(fx.s, T0, T0 + 30 * DAY, on_span, &sp, err, sizeof(err)), 0);
	ASSERT_EQ(sp.n, 2);
	ASSERT_EQ(sp.s[0], T0 - HOUR);
	ASSERT_EQ(sp.e[0], T0 + 3700000);
	ASSERT_EQ(sp.s[1], T0 + DAY);
	ASSERT_EQ(sp.e[1], T0 + 90000000);
	fx_close(&fx);
}

struct ctr_seen {
	struct vgl_sla_db_counter c[8];
	size_t n;
};

static int on_counter(void *ctx, const struct vgl_sla_db_counter *c)
{
	struct ctr_seen *s = ctx;

	ASSERT_LT(s->n, 8);
	s->c[s->n++] = *c;
	return 0;
}

TEST(sla_db_counters_import_idempotent)
{
	struct fixture fx;
	struct vgl_sla_db_counter rows[] = {
		{ .ts_ms = T0 - 60000, .total = 100, .failed = 1 },
		{ .ts_ms = T0 + 60000, .total = 200, .failed = 2 },
		{ .ts_ms = T0 + 120000, .total = UINT64_MAX - 5, .failed = 3 },
		{ .ts_ms = T0 + 30 * DAY, .total = 400, .failed = 4 },
	};
	struct vgl_sla_db_import im = { .host = &host_b, .rows = rows, .n = 4, .file = "c.csv",
					.user = "ann", .now_ms = T0 };
	struct ctr_seen s = { 0 };
	size_t changed = 99;
	int64_t id;
	char err[256];

	fx_open(&fx);
	ASSERT_EQ(vgl_sla_db_counters_import(fx.s, &im, &changed, err, sizeof(err)), VGL_SLA_DB_OK);
	ASSERT_EQ(changed, 4);
	ASSERT_EQ(vgl_sla_db_counters_import(fx.s, &im, &changed, err, sizeof(err)), VGL_SLA_DB_OK);
	ASSERT_EQ(changed, 0);
	rows[1].failed = 20;
	ASSERT_EQ(vgl_sla_db_counters_import(fx.s, &im, &changed, err, sizeof(err)), VGL_SLA_DB_OK);
	ASSERT_EQ(changed, 1);
	ASSERT_EQ(sql_int(fx.db, "SELECT count(*) FROM counter_samples"), 4);
	ASSERT_EQ(sql_int(fx.db, "SELECT count(*) FROM events WHERE kind = 'counters_import'"), 3);
	ASSERT_EQ(sql_int(fx.db, "SELECT json_extract(detail, '$.changed') FROM events WHERE "
			  "kind = 'counters_import' ORDER BY id DESC LIMIT 1"), 1);

	ASSERT_EQ(vgl_sla_db_host_id(fx.s, "b", &id, err, sizeof(err)), 0);
	ASSERT_GT(id, 0);
	ASSERT_EQ(vgl_sla_db_host_counters(fx.s, id, T0, T0 + 30 * DAY, on_counter, &s, err,
					   sizeof(err)), 0);
	ASSERT_EQ(s.n, 3);      /* the one before the month, then the two inside */
	ASSERT_EQ(s.c[0].ts_ms, T0 - 60000);
	ASSERT_EQ(s.c[1].failed, 20);
	ASSERT(s.c[2].total == UINT64_MAX - 5);
	ASSERT_EQ(s.c[2].from_poll, 0);
	/* a sample the daemon wrote reads as such */
	sql(fx.db, "UPDATE counter_samples SET source = 'poll' WHERE ts_ms = 1793491320000");
	s.n = 0;
	ASSERT_EQ(vgl_sla_db_host_counters(fx.s, id, T0 + 100000, T0 + 30 * DAY, on_counter, &s,
					   err, sizeof(err)), 0);
	ASSERT_EQ(s.n, 2);
	ASSERT_EQ(s.c[1].from_poll, 1);
	/* an unknown host has no id and no samples */
	ASSERT_EQ(vgl_sla_db_host_id(fx.s, "nope", &id, err, sizeof(err)), 0);
	ASSERT_EQ(id, 0);
	fx_close(&fx);
}
