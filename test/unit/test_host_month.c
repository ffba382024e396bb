/* sla/host_month: one host's month from a small database written with
 * sqlite3 (intervals with an unknown cause, host and site windows, a
 * cancelled one, runs, 32-bit SNMP and 64-bit imported counters), the
 * observed spans read once per month bounds, errors as codes with their
 * message, and the customer totals: counts, order of first appearance,
 * a thousand customers through the hash, the JSON object byte for byte. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "sla/host_month.h"
#include "sla/jw.h"
#include "storage/sla_db.h"
#include "storage/store.h"
#include "test/test.h"
#include "test/unit/sql_util.h"

#define OCT 1790812800000LL     /* 2026-10-01T00:00:00Z */
#define HOUR 3600000LL
#define DAY (24 * HOUR)
#define NOW (OCT + 50 * DAY)    /* 2026-11-20: October is over */

struct fixture {
	sqlite3 *db;
	struct vgl_sla_db *sdb;
	struct vgl_sla_source *src;
	struct vgl_sla_policy hcm, nowhere;
	struct vgl_conf_profile ctr32;
	struct vgl_conf_host a, b, c, d, e;
};

static void sql(sqlite3 *db, const char *text)
{
	char *msg = NULL;

	if (sqlite3_exec(db, text, NULL, NULL, &msg) != SQLITE_OK) {
		fprintf(stderr, "%s: %s\n", text, msg ? msg : "?");
		sqlite3_free(msg);
		ASSERT(0);
	}
}

static void fx_open(struct fixture *fx)
{
	char err[512], path[512];

	memset(fx, 0, sizeof(*fx));
	snprintf(path, sizeof(path), "%s/vigil.db", vgl_test_tmpdir());
	if (vgl_db_open(path, &fx->db, err, sizeof(err)) != 0 ||
	    vgl_sla_db_new(sqw(fx->db), &fx->sdb, err, sizeof(err)) != 0) {
		fprintf(stderr, "open: %s\n", err);
		ASSERT(0);
	}
	fx->src = vgl_sla_source_new(fx->sdb);
	ASSERT(fx->src);
	fx->hcm = *vgl_sla_preset("vserver");
	snprintf(fx->hcm.tz, sizeof(fx->hcm.tz), "Asia/Ho_Chi_Minh");
	fx->nowhere = *vgl_sla_preset("vserver");
	snprintf(fx->nowhere.tz, sizeof(fx->nowhere.tz), "Nowhere/Atlantis");
	fx->ctr32.has_counters = 1;
	fx->ctr32.counters.bits = 32;
	fx->a = (struct vgl_conf_host){ .name = "a", .site = "hall-1", .customer = "acme",
					.policy = vgl_sla_preset("vserver") };
	fx->b = (struct vgl_conf_host){ .name = "b", .site = "hall-2", .customer = "acme",
					.policy = vgl_sla_preset("vcdn"), .profile = &fx->ctr32 };
	fx->c = (struct vgl_conf_host){ .name = "c", .site = "hall-1", .policy = &fx->hcm };
	fx->d = (struct vgl_conf_host){ .name = "d", .site = "hall-1", .customer = "globex" };
	fx->e = (struct vgl_conf_host){ .name = "e", .site = "hall-2", .customer = "globex",
					.policy = vgl_sla_preset("vcdn"), .profile = &fx->ctr32 };

	sql(fx->db, "INSERT INTO hosts (id, name, site) VALUES (1, 'a', 'hall-1'), "
		    "(2, 'b', 'hall-2'), (5, 'e', 'hall-2')");
	/* a: 1 h network, 1 h maintenance in a window announced 4 days ahead
	 * (excluded), 2 h customer (not counted), 30 min of a cause no writer
	 * accepts (counted as unknown) */
	sql(fx->db, "INSERT INTO intervals (host_id, cause, start_ms, end_ms, opened_by, "
		    "closed_by, note, created_ms) VALUES "
		    "(1, 'network', 1791021600000, 1791025200000, 'r', 'r', 'ticket 1', 0), "
		    "(1, 'maintenance', 1791597600000, 1791601200000, 'r', 'r', NULL, 0), "
		    "(1, 'customer', 1791763200000, 1791770400000, 'r', 'r', NULL, 0), "
		    "(1, 'gremlins', 1792454400000, 1792456200000, 'r', 'r', NULL, 0)");
	sql(fx->db, "INSERT INTO maint_windows (host_id, site, kind, start_ms, end_ms, "
		    "announced_ms, note, created_by, created_ms, cancelled_by, cancelled_ms) VALUES "
		    "(1, NULL, 'planned', 1791595800000, 1791604800000, 1791244800000, 'fw', "
		    "'operator:t', 0, NULL, NULL), "
		    "(NULL, 'hall-1', 'emergency', 1792890000000, 1792891800000, 1792886400000, "
		    "'ups', 'operator:t', 0, NULL, NULL), "
		    "(1, NULL, 'planned', 1792000000000, 1792003600000, 1791000000000, 'gone', "
		    "'operator:t', 0, 'operator:t', 1791500000000)");
	/* 10-01 00:00 .. 10-16 12:00: half of October observed */
	sql(fx->db, "INSERT INTO runs (started_ms, heartbeat_ms, pid) VALUES "
		    "(1790812800000, 1792152000000, 1)");
	/* b, SNMP: 4294967000 -> 704 wraps at 32 bits (1000 requests); e, the
	 * same numbers imported: 64-bit, so the drop is a reset (704) */
	sql(fx->db, "INSERT INTO counter_samples (host_id, ts_ms, total, failed, source) VALUES "
		    "(2, 1790809200000, 4294967000, 0, 'poll'), "
		    "(2, 1791158400000, 704, 10, 'poll'), "
		    "(2, 1792454400000, 20704, 60, 'poll'), "
		    "(5, 1790809200000, 4294967000, 0, 'import'), "
		    "(5, 1791158400000, 704, 10, 'import'), "
		    "(5, 1792454400000, 20704, 60, 'import')");
}

static void fx_close(struct fixture *fx)
{
	vgl_sla_source_free(fx->src);
	vgl_sla_db_free(fx->sdb);
	ASSERT_EQ(sqlite3_close(fx->db), SQLITE_OK);
}

static struct vgl_host_month *month_of(struct fixture *fx, const struct vgl_conf_host *h,
				       int year, int month)
{
	struct vgl_host_month *m = NULL;
	char err[512] = "";
	int rc = vgl_host_month(fx->src, h, year, month, NOW, &m, err, sizeof(err));

	if (rc != 0)
		fprintf(stderr, "vgl_host_month %s: %d %s\n", h->name, rc, err);
	ASSERT_EQ(rc, 0);
	ASSERT(m);
	return m;
}

struct count {
	int parts, maints;
};

static void count_part(void *ctx, const struct vgl_sla_part *p)
{
	(void)p;
	((struct count *)ctx)->parts++;
}

static void count_maint(void *ctx, const struct vgl_sla_maint_part *mp)
{
	(void)mp;
	((struct count *)ctx)->maints++;
}

TEST(host_month_from_the_database)
{
	struct fixture fx;
	struct vgl_host_month *m;
	const struct vgl_sla_result *r;
	struct count n = { 0 };

	fx_open(&fx);
	m = month_of(&fx, &fx.a, 2026, 10);
	r = vgl_host_month_result(m);
	ASSERT(vgl_host_month_host(m) == &fx.a);
	ASSERT_STREQ(vgl_host_month_text(m), "2026-10");
	ASSERT_EQ(r->month_start_ms, OCT);
	ASSERT_EQ(r->month_ms, 31 * DAY);
	ASSERT_EQ(r->counted_ms, 2 * HOUR + HOUR / 2);
	ASSERT_EQ(r->maint_excluded_ms, HOUR);
	ASSERT_EQ(r->downtime_ms, HOUR + HOUR / 2);
	ASSERT_EQ(r->excluded_ms[VGL_CAUSE_CUSTOMER], 2 * HOUR);
	ASSERT_EQ(r->observed_ms, 15 * DAY + 12 * HOUR);
	ASSERT_EQ(vgl_host_month_unknown_causes(m), 1);
	vgl_sla_calc_each_part(vgl_host_month_calc(m), count_part, &n);
	vgl_sla_calc_each_maint(vgl_host_month_calc(m), count_maint, &n);
	ASSERT_EQ(n.parts, 4);
	ASSERT_EQ(n.maints, 2);         /* its window and its site's; not the cancelled one */
	vgl_host_month_free(m);
	fx_close(&fx);
}

TEST(host_month_counters_wrap_by_source)
{
	struct fixture fx;
	struct vgl_host_month *m;

	fx_open(&fx);
	m = month_of(&fx, &fx.b, 2026, 10);
	ASSERT_EQ(vgl_host_month_result(m)->requests, 21000);
	ASSERT_EQ(vgl_host_month_result(m)->failures, 60);
	vgl_host_month_free(m);
	m = month_of(&fx, &fx.e, 2026, 10);
	ASSERT_EQ(vgl_host_month_result(m)->requests, 20704);
	vgl_host_month_free(m);
	fx_close(&fx);
}

TEST(host_month_unknown_to_the_database_and_other_zone)
{
	struct fixture fx;
	struct vgl_host_month *m;
	struct count n = { 0 };

	fx_open(&fx);
	/* c was never in the database: no intervals, but its site's window
	 * and the daemon's coverage still apply, over its own zone's month */
	m = month_of(&fx, &fx.c, 2026, 10);
	ASSERT_EQ(vgl_host_month_result(m)->month_start_ms, OCT - 7 * HOUR);
	ASSERT_EQ(vgl_host_month_result(m)->downtime_ms, 0);
	ASSERT_EQ(vgl_host_month_result(m)->observed_ms, 15 * DAY + 12 * HOUR);
	vgl_sla_calc_each_maint(vgl_host_month_calc(m), count_maint, &n);
	ASSERT_EQ(n.maints, 1);
	vgl_host_month_free(m);
	fx_close(&fx);
}

TEST(host_month_observed_read_once_per_bounds)
{
	struct fixture fx;
	struct vgl_host_month *m;

	fx_open(&fx);
	m = month_of(&fx, &fx.a, 2026, 10);
	vgl_host_month_free(m);
	/* A run the report did not read: hosts of the same bounds share the
	 * spans read for the first (one read per zone, not per host)... */
	sql(fx.db, "INSERT INTO runs (started_ms, heartbeat_ms, pid) VALUES "
		   "(1792454400000, 1792540800000, 2)");
	m = month_of(&fx, &fx.b, 2026, 10);
	ASSERT_EQ(vgl_host_month_result(m)->observed_ms, 15 * DAY + 12 * HOUR);
	vgl_host_month_free(m);
	/* ... and other bounds are read afresh */
	m = month_of(&fx, &fx.c, 2026, 10);
	ASSERT_EQ(vgl_host_month_result(m)->observed_ms, 16 * DAY + 12 * HOUR);
	vgl_host_month_free(m);
	m = month_of(&fx, &fx.a, 2026, 10);
	ASSERT_EQ(vgl_host_month_result(m)->observed_ms, 16 * DAY + 12 * HOUR);
	vgl_host_month_free(m);
	fx_close(&fx);
}

TEST(host_month_errors_are_codes_with_a_message)
{
	struct fixture fx;
	struct vgl_host_month *m = (struct vgl_host_month *)&fx;
	struct vgl_conf_host x;
	char err[512];

	fx_open(&fx);
	ASSERT_EQ(vgl_host_month(fx.src, &fx.d, 2026, 10, NOW, &m, err, sizeof(err)),
		  VGL_HOST_MONTH_HOST);
	ASSERT(m == NULL);
	ASSERT_STREQ(err, "d has no service (SLA policy)");
	x = fx.a;
	x.policy = &fx.nowhere;
	ASSERT_EQ(vgl_host_month(fx.src, &x, 2026, 10, NOW, &m, err, sizeof(err)),
		  VGL_HOST_MONTH_HOST);
	ASSERT_STREQ(err, "a: cannot compute the month 2026-10 in zone 'Nowhere/Atlantis'");
	/* the database's reason, for the caller to name the database */
	sql(fx.db, "DROP TABLE runs");
	err[0] = '\0';
	ASSERT_EQ(vgl_host_month(fx.src, &fx.a, 2026, 10, NOW, &m, err, sizeof(err)),
		  VGL_HOST_MONTH_DB);
	ASSERT(m == NULL);
	ASSERT_CONTAINS(err, "runs");
	fx_close(&fx);
}

static char *total_json(const struct vgl_sla_total *t, const char *month)
{
	struct vgl_jw *w = vgl_jw_new(NULL);
	char *s;

	ASSERT(w);
	vgl_jw_obj(w);
	vgl_sla_total_json(w, t, month);
	vgl_jw_obj_end(w);
	ASSERT(vgl_jw_text(w, NULL));
	s = strdup(vgl_jw_text(w, NULL));
	ASSERT(s);
	vgl_jw_free(w);
	return s;
}

TEST(host_month_totals_per_customer)
{
	struct fixture fx;
	struct vgl_sla_totals *t = vgl_sla_totals_new();
	struct vgl_host_month *ma, *mb, *mc;
	const struct vgl_sla_total *acme, *globex, *none;
	char *s;

	ASSERT(t);
	fx_open(&fx);
	ma = month_of(&fx, &fx.a, 2026, 10);   /* breached: 1.5 h > 26m47s */
	mb = month_of(&fx, &fx.b, 2026, 10);   /* 60 / 21000 failed: breached */
	mc = month_of(&fx, &fx.c, 2026, 10);   /* no downtime, no customer */
	ASSERT_EQ(vgl_sla_totals_add(t, &fx.a, ma), 0);
	ASSERT_EQ(vgl_sla_totals_add(t, &fx.d, NULL), 0);
	ASSERT_EQ(vgl_sla_totals_add(t, &fx.b, mb), 0);
	ASSERT_EQ(vgl_sla_totals_add(t, &fx.c, mc), 0);
	ASSERT_EQ(vgl_sla_totals_count(t), 3);
	acme = vgl_sla_totals_at(t, 0);
	ASSERT_STREQ(acme->customer, "acme");
	ASSERT_EQ(acme->hosts, 2);
	ASSERT_EQ(acme->breached, 2);
	ASSERT_EQ(acme->n_breached, 2);
	ASSERT_STREQ(acme->breached_hosts[0], "a");
	ASSERT_STREQ(acme->breached_hosts[1], "b");
	ASSERT_EQ(acme->downtime_ms, 3 * HOUR / 2 + vgl_host_month_result(mb)->downtime_ms);
	ASSERT_EQ(acme->credit_percent_hosts, 2);
	ASSERT_EQ(acme->credit_percent_sum,
		  vgl_host_month_result(ma)->credit + vgl_host_month_result(mb)->credit);
	globex = vgl_sla_totals_at(t, 1);
	ASSERT_STREQ(globex->customer, "globex");
	ASSERT_EQ(globex->hosts, 0);
	ASSERT_EQ(globex->skipped, 1);
	none = vgl_sla_totals_at(t, 2);
	ASSERT(none->customer == NULL);
	ASSERT_EQ(none->hosts, 1);
	ASSERT_EQ(none->breached, 0);

	s = total_json(globex, "2026-10");
	ASSERT_STREQ(s, "{\"customer\":\"globex\",\"month\":\"2026-10\",\"hosts\":0,\"skipped\":1,"
			"\"breached\":0,\"breached_hosts\":[],\"credit_percent_hosts\":0,"
			"\"credit_percent_sum\":0,\"credit_days\":0,\"downtime_ms\":0}");
	free(s);
	s = total_json(acme, "2026-10");
	ASSERT_CONTAINS(s, "\"breached\":2,\"breached_hosts\":[\"a\",\"b\"],");
	free(s);
	s = total_json(none, "2026-10");
	ASSERT_CONTAINS(s, "{\"customer\":null,\"month\":\"2026-10\",\"hosts\":1,");
	free(s);

	vgl_host_month_free(ma);
	vgl_host_month_free(mb);
	vgl_host_month_free(mc);
	vgl_sla_totals_free(t);
	fx_close(&fx);
}

/* Past the first table (64 slots) and several rehashes: every customer
 * found again, in order of first appearance, NULL apart from "". */
TEST(host_month_totals_many_customers)
{
	enum { N = 1000 };
	struct fixture fx;
	struct vgl_sla_totals *t = vgl_sla_totals_new();
	static struct vgl_conf_host hosts[2 * N + 2];
	static char names[N][24];
	struct vgl_host_month *m;

	ASSERT(t);
	fx_open(&fx);
	m = month_of(&fx, &fx.c, 2026, 10);
	for (int i = 0; i < N; i++) {
		snprintf(names[i], sizeof(names[i]), "cust-%d", i);
		hosts[2 * i] = (struct vgl_conf_host){ .name = "x", .customer = names[i] };
		hosts[2 * i + 1] = hosts[2 * i];
	}
	hosts[2 * N] = (struct vgl_conf_host){ .name = "y", .customer = NULL };
	hosts[2 * N + 1] = (struct vgl_conf_host){ .name = "z", .customer = "" };
	for (int i = 0; i < N; i++)
		ASSERT_EQ(vgl_sla_totals_add(t, &hosts[2 * i], m), 0);
	ASSERT_EQ(vgl_sla_totals_add(t, &hosts[2 * N], m), 0);
	ASSERT_EQ(vgl_sla_totals_add(t, &hosts[2 * N + 1], NULL), 0);
	/* the second host of each customer, by another string of equal text */
	for (int i = N - 1; i >= 0; i--) {
		char *copy = strdup(names[i]);

		ASSERT(copy);
		hosts[2 * i + 1].customer = copy;
		ASSERT_EQ(vgl_sla_totals_add(t, &hosts[2 * i + 1], NULL), 0);
		free(copy);
		hosts[2 * i + 1].customer = names[i];
	}
	ASSERT_EQ(vgl_sla_totals_count(t), N + 2);
	for (int i = 0; i < N; i++) {
		const struct vgl_sla_total *c = vgl_sla_totals_at(t, (size_t)i);

		ASSERT_STREQ(c->customer, names[i]);
		ASSERT_EQ(c->hosts, 1);
		ASSERT_EQ(c->skipped, 1);
	}
	ASSERT(vgl_sla_totals_at(t, N)->customer == NULL);
	ASSERT_EQ(vgl_sla_totals_at(t, N)->hosts, 1);
	ASSERT_STREQ(vgl_sla_totals_at(t, N + 1)->customer, "");
	ASSERT_EQ(vgl_sla_totals_at(t, N + 1)->skipped, 1);
	vgl_host_month_free(m);
	vgl_sla_totals_free(t);
	fx_close(&fx);
}
