/* rules/sla_ledger: the daemon's month so far equals what vgl_sla_calc
 * (and so `vigil sla`) gives on the same data at the same now: random
 * timelines, rollover, the load from the database. */
#include <errno.h>
#include <sqlite3.h>

#include "rules/sla_ledger.h"
#include "sla/budget.h"
#include "sla/host_month.h"
#include "sla/sla.h"
#include "storage/sla_db.h"
#include "storage/store.h"
#include "test/test.h"
#include "test/unit/sql_util.h"
#include "test/unit/sla_util.h"

#define MAX_IV 256
#define MAX_MT 64

/* The reference: everything ever told, fed to a fresh calc for the month
 * holding now. */
struct ref {
	struct vgl_sla_policy p;
	int64_t svc0, svc1;
	struct vgl_sla_interval iv[MAX_IV];
	size_t n_iv;
	struct vgl_sla_maint mt[MAX_MT];
	int mt_live[MAX_MT];
	size_t n_mt;
};

static uint64_t rng = 88172645463325252ull;

static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static int64_t rnd_in(int64_t lo, int64_t hi)      /* [lo, hi] */
{
	return lo + (int64_t)(rnd() % (uint64_t)(hi - lo + 1));
}

static void month_at(const char *tz, int64_t now, int64_t *m0, int64_t *m1)
{
	char iso[VGL_ISO_LEN];
	int y, m;

	vgl_format_iso(now, iso);
	iso[7] = '\0';
	ASSERT_EQ(vgl_sla_month_parse(iso, &y, &m), 0);
	ASSERT_EQ(vgl_sla_month_bounds(tz, y, m, m0, m1), 0);
	if (now < *m0) {
		ASSERT_EQ(vgl_sla_month_bounds(tz, m == 1 ? y - 1 : y, m == 1 ? 12 : m - 1, m0, m1), 0);
	} else if (now >= *m1) {
		ASSERT_EQ(vgl_sla_month_bounds(tz, m == 12 ? y + 1 : y, m == 12 ? 1 : m + 1, m0, m1), 0);
	}
	ASSERT(*m0 <= now && now < *m1);
}

static void ref_figures(const struct ref *r, int64_t now, struct vgl_expr_sla *out)
{
	int64_t m0, m1;
	struct vgl_sla_calc *c;
	struct vgl_sla_result res;

	month_at(r->p.tz, now, &m0, &m1);
	c = vgl_sla_calc_new(&r->p, m0, m1, now, r->svc0, r->svc1);
	ASSERT(c != NULL);
	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < r->n_iv; i++) {
		ASSERT_EQ(vgl_sla_calc_add_interval(c, &r->iv[i]), 0);
		out->unavailable |= r->iv[i].end_ms == VGL_SLA_OPEN;
	}
	for (size_t i = 0; i < r->n_mt; i++)
		if (r->mt_live[i])
			ASSERT_EQ(vgl_sla_calc_add_maint(c, &r->mt[i]), 0);
	ASSERT_EQ(vgl_sla_calc_finish(c, &res), 0);
	vgl_sla_calc_free(c);
	out->known = 1;
	out->allowance_ms = res.allowance_ms;
	out->allowance_left_ms = res.allowance_left_ms;
	out->downtime_ms = res.downtime_ms;
	out->next_band_ms = vgl_sla_next_band_ms(&r->p, &res);
}

static void same(const struct vgl_expr_sla *a, const struct vgl_expr_sla *b, int64_t now)
{
	if (a->known != b->known || a->allowance_ms != b->allowance_ms ||
	    a->allowance_left_ms != b->allowance_left_ms || a->downtime_ms != b->downtime_ms ||
	    a->next_band_ms != b->next_band_ms || a->unavailable != b->unavailable) {
		fprintf(stderr, "at %lld: ledger known %d allow %lld left %lld down %lld next %lld "
			"unav %d; calc known %d allow %lld left %lld down %lld next %lld unav %d\n",
			(long long)now, a->known, (long long)a->allowance_ms,
			(long long)a->allowance_left_ms, (long long)a->downtime_ms,
			(long long)a->next_band_ms, a->unavailable, b->known,
			(long long)b->allowance_ms, (long long)b->allowance_left_ms,
			(long long)b->downtime_ms, (long long)b->next_band_ms, b->unavailable);
		ASSERT(0);
	}
}

/* One random timeline of about two months: opens and closes (by id or by
 * _close), windows added and cancelled at any time (some qualifying, some
 * not, some long enough to exhaust the cap), gets at random moments,
 * several in a row while an interval is open (the fast path). */
static void one_scenario(const char *preset, const char *tz, int seed, int64_t *gets)
{
	struct ref r;
	struct vgl_sla_ledger *l;
	int64_t m0, m1, t, open_id = 0;
	size_t open_k = 0;
	int64_t next_id = 1;

	memset(&r, 0, sizeof(r));
	rng = 0x9e3779b97f4a7c15ull * (uint64_t)(seed + 1);
	r.p = policy_tz(preset, tz);
	ASSERT_EQ(vgl_sla_month_bounds(tz, 2026, 10, &m0, &m1), 0);
	t = rnd_in(m0, m1 - 1);
	if (rnd() % 3 == 0)
		r.svc0 = rnd_in(m0, m1 + 20 * D);
	if (rnd() % 4 == 0)
		r.svc1 = rnd_in(m1, m1 + 40 * D);
	l = vgl_sla_ledger_new(&r.p, r.svc0, r.svc1, t);
	ASSERT(l != NULL);
	for (int step = 0; step < 300; step++) {
		int what = (int)(rnd() % 10);
		struct vgl_expr_sla got, want;

		/* moments: mostly seconds to hours apart, sometimes days */
		t += rnd() % 5 == 0 ? rnd_in(1, 3 * D) : rnd_in(1, 2 * H);
		if (what <= 2 && !open_id && r.n_iv < MAX_IV) {
			int cause = (int)(rnd() % VGL_CAUSE_COUNT);

			open_id = next_id++;
			open_k = r.n_iv;
			r.iv[r.n_iv++] = (struct vgl_sla_interval){ open_id, cause, t, VGL_SLA_OPEN,
								    NULL, NULL };
			ASSERT_EQ(vgl_sla_ledger_add_interval(l, open_id, cause, t, VGL_SLA_OPEN), 0);
		} else if (what <= 4 && open_id) {
			r.iv[open_k].end_ms = t;
			if (rnd() % 2)
				ASSERT_EQ(vgl_sla_ledger_close(l, t), 1);
			else
				ASSERT_EQ(vgl_sla_ledger_add_interval(l, open_id, r.iv[open_k].cause,
								      r.iv[open_k].start_ms, t), 0);
			open_id = 0;
		} else if (what == 5 && r.n_mt < MAX_MT) {
			struct vgl_sla_maint m;
			int64_t s = t + rnd_in(-2 * D, 3 * D);

			m.id = next_id++;
			m.kind = rnd() % 2 ? VGL_MAINT_PLANNED : VGL_MAINT_EMERGENCY;
			m.start_ms = s;
			m.end_ms = s + rnd_in(1, 4 * H);
			m.announced_ms = s - rnd_in(0, 100 * H);
			m.note = NULL;
			r.mt[r.n_mt] = m;
			r.mt_live[r.n_mt++] = 1;
			ASSERT_EQ(vgl_sla_ledger_add_maint(l, &m), 0);
		} else if (what == 6 && r.n_mt) {
			size_t k = (size_t)(rnd() % r.n_mt);

			if (r.mt_live[k]) {
				r.mt_live[k] = 0;
				vgl_sla_ledger_remove_maint(l, r.mt[k].id);
			}
		}
		/* a burst of gets a little apart */
		for (int g = 0, n = (int)(rnd() % 4); g < n; g++) {
			ASSERT_EQ(vgl_sla_ledger_get(l, t, &got), 0);
			ref_figures(&r, t, &want);
			same(&got, &want, t);
			(*gets)++;
			t += rnd_in(1, 20 * MIN);
		}
	}
	vgl_sla_ledger_free(l);
}

TEST(sla_ledger_random_equals_calc)
{
	int64_t gets = 0;

	for (int seed = 0; seed < 40; seed++)
		one_scenario(seed % 3 ? "vserver" : "vcs", seed % 2 ? "UTC" : "Asia/Ho_Chi_Minh",
			     seed, &gets);
	ASSERT_GT(gets, 5000);
}

TEST(sla_ledger_open_in_window_exact)
{
	/* An open counted interval running through a qualifying window and
	 * past the cap, asked every minute: the fast path against the calc. */
	struct ref r;
	struct vgl_sla_ledger *l;
	int64_t m0, m1;
	struct vgl_sla_maint m = { 7, VGL_MAINT_PLANNED, 0, 0, 0, NULL };
	struct vgl_expr_sla got, want;

	memset(&r, 0, sizeof(r));
	r.p = policy_tz("vserver", "UTC");
	ASSERT_EQ(vgl_sla_month_bounds("UTC", 2026, 11, &m0, &m1), 0);
	l = vgl_sla_ledger_new(&r.p, 0, 0, m0 + D);
	ASSERT(l != NULL);
	m.start_ms = m0 + D + H;
	m.end_ms = m.start_ms + 3 * H;          /* longer than the 120 min cap */
	m.announced_ms = m.start_ms - 80 * H;
	r.mt[0] = m;
	r.mt_live[0] = 1;
	r.n_mt = 1;
	ASSERT_EQ(vgl_sla_ledger_add_maint(l, &m), 0);
	r.iv[0] = (struct vgl_sla_interval){ 3, VGL_CAUSE_HARDWARE, m0 + D + 30 * MIN,
					     VGL_SLA_OPEN, NULL, NULL };
	r.n_iv = 1;
	ASSERT_EQ(vgl_sla_ledger_add_interval(l, 3, VGL_CAUSE_HARDWARE, r.iv[0].start_ms,
					      VGL_SLA_OPEN), 0);
	for (int64_t t = m0 + D + 30 * MIN; t < m0 + D + 6 * H; t += MIN + 7) {
		ASSERT_EQ(vgl_sla_ledger_get(l, t, &got), 0);
		ref_figures(&r, t, &want);
		same(&got, &want, t);
	}
	/* 30 min before the window, 120 min excluded of its 180, 2 h after */
	ASSERT_EQ(got.downtime_ms, want.downtime_ms);
	ASSERT(got.unavailable);
	vgl_sla_ledger_free(l);
}

TEST(sla_ledger_rollover)
{
	struct vgl_sla_policy p = policy_tz("vserver", "Asia/Ho_Chi_Minh");
	struct vgl_sla_ledger *l;
	struct vgl_expr_sla s;
	int64_t nov0, nov1, dec0, dec1, a, b;

	ASSERT_EQ(vgl_sla_month_bounds(p.tz, 2026, 11, &nov0, &nov1), 0);
	ASSERT_EQ(vgl_sla_month_bounds(p.tz, 2026, 12, &dec0, &dec1), 0);
	ASSERT_EQ(nov1, dec0);
	ASSERT_EQ(nov1, T("2026-11-30T17:00:00Z"));     /* local midnight, UTC+7 */
	/* created at 20:00Z on Nov 30: already December in the zone */
	l = vgl_sla_ledger_new(&p, 0, 0, T("2026-11-30T20:00:00Z"));
	ASSERT(l != NULL);
	vgl_sla_ledger_month(l, &a, &b);
	ASSERT_EQ(a, dec0);
	vgl_sla_ledger_free(l);

	l = vgl_sla_ledger_new(&p, 0, 0, T("2026-11-30T10:00:00Z"));
	ASSERT(l != NULL);
	vgl_sla_ledger_month(l, &a, &b);
	ASSERT_EQ(a, nov0);
	ASSERT_EQ(b, nov1);
	/* one closed in November, one open across the month end */
	ASSERT_EQ(vgl_sla_ledger_add_interval(l, 1, VGL_CAUSE_POWER, nov0 + D, nov0 + D + H), 0);
	ASSERT_EQ(vgl_sla_ledger_add_interval(l, 2, VGL_CAUSE_NETWORK, nov1 - 10 * MIN,
					      VGL_SLA_OPEN), 0);
	ASSERT_EQ(vgl_sla_ledger_get(l, nov1 - 1, &s), 0);
	ASSERT_EQ(s.downtime_ms, H + 10 * MIN - 1);
	ASSERT_EQ(s.allowance_ms, 1555200);
	ASSERT(s.unavailable);
	ASSERT_EQ(vgl_sla_ledger_get(l, nov1, &s), 0);
	vgl_sla_ledger_month(l, &a, &b);
	ASSERT_EQ(a, dec0);
	ASSERT_EQ(b, dec1);
	/* December: 31 days, 99.94% allows floor(2678400000 x 600 / 10^6) */
	ASSERT_EQ(s.allowance_ms, 1607040);
	ASSERT_EQ(s.downtime_ms, 0);
	ASSERT(s.unavailable);
	ASSERT_EQ(vgl_sla_ledger_get(l, dec0 + 5 * MIN, &s), 0);
	ASSERT_EQ(s.downtime_ms, 5 * MIN);
	ASSERT_EQ(s.allowance_left_ms, 1607040 - 5 * MIN);
	ASSERT_EQ(s.next_band_ms, 1607041 - 5 * MIN);
	ASSERT_EQ(vgl_sla_ledger_close(l, dec0 + 6 * MIN), 1);
	ASSERT_EQ(vgl_sla_ledger_get(l, dec0 + D, &s), 0);
	ASSERT_EQ(s.downtime_ms, 6 * MIN);
	ASSERT(!s.unavailable);
	/* an interval of November told late is ignored */
	ASSERT_EQ(vgl_sla_ledger_add_interval(l, 9, VGL_CAUSE_POWER, nov0, nov0 + H), 0);
	ASSERT_EQ(vgl_sla_ledger_get(l, dec0 + D, &s), 0);
	ASSERT_EQ(s.downtime_ms, 6 * MIN);
	vgl_sla_ledger_free(l);
}

TEST(sla_ledger_cached_and_unknown_cause)
{
	struct vgl_sla_policy p = policy_tz("vbaremetal", "UTC");
	struct vgl_sla_ledger *l;
	struct vgl_expr_sla s;
	int64_t m0, m1;

	ASSERT_EQ(vgl_sla_month_bounds("UTC", 2026, 11, &m0, &m1), 0);
	l = vgl_sla_ledger_new(&p, 0, 0, m0 + D);
	ASSERT(l != NULL);
	/* facility does not count for vbaremetal; a cause out of range
	 * counts as unknown */
	ASSERT_EQ(vgl_sla_ledger_add_interval(l, 0, VGL_CAUSE_FACILITY, m0, m0 + H), 0);
	ASSERT_EQ(vgl_sla_ledger_add_interval(l, 0, 99, m0 + 2 * H, m0 + 3 * H), 0);
	ASSERT_EQ(vgl_sla_ledger_add_interval(l, 0, VGL_CAUSE_FACILITY, m0 + 4 * H, VGL_SLA_OPEN), 0);
	ASSERT_EQ(vgl_sla_ledger_get(l, m0 + 5 * H, &s), 0);
	ASSERT_EQ(s.downtime_ms, H);
	ASSERT(s.unavailable);
	ASSERT_EQ(vgl_sla_ledger_get(l, m0 + 9 * H, &s), 0);
	ASSERT_EQ(s.downtime_ms, H);
	ASSERT_EQ(s.allowance_ms, 2592000);
	/* an hour is past the 99.9 % allowance: the next band is below 99 %,
	 * 1 % of the 30-day month (25,920,000 ms) plus 1 ms */
	ASSERT_EQ(s.next_band_ms, 25920001 - H);
	ASSERT_EQ(vgl_sla_ledger_add_interval(l, 0, 0, 5, 4), -EINVAL);
	vgl_sla_ledger_free(l);
}

/* ---- from the database, against vgl_host_month (`vigil sla`) ---- */

static void exec_sql(sqlite3 *db, const char *text)
{
	char *msg = NULL;

	if (sqlite3_exec(db, text, NULL, NULL, &msg) != SQLITE_OK) {
		fprintf(stderr, "%s: %s\n", text, msg ? msg : "?");
		ASSERT(0);
	}
}

TEST(sla_ledger_load_equals_vigil_sla)
{
	char path[512], err[512], q[1024];
	sqlite3 *db;
	struct vgl_sla_db *sdb;
	struct vgl_sla_source *src;
	struct vgl_host_month *hm;
	const struct vgl_sla_result *res;
	struct vgl_sla_ledger *l;
	struct vgl_expr_sla s;
	struct vgl_sla_policy p = policy_tz("vserver", "UTC");
	struct vgl_conf_host h = { .name = "a", .address = "127.0.0.1", .site = "hall-1",
				   .service = "vserver", .customer = "acme" };
	int64_t m0, m1, now;

	h.policy = &p;
	ASSERT_EQ(vgl_sla_month_bounds("UTC", 2026, 11, &m0, &m1), 0);
	now = m0 + 20 * D + 5 * H;
	snprintf(path, sizeof(path), "%s/vigil.db", vgl_test_tmpdir());
	if (vgl_db_open(path, &db, err, sizeof(err)) != 0) {
		fprintf(stderr, "open: %s\n", err);
		ASSERT(0);
	}
	exec_sql(db, "INSERT INTO hosts (id, name, site) VALUES (1, 'a', 'hall-1'), (2, 'b', 'hall-2')");
	/* crossing the month start, inside (one a cause no writer knows),
	 * another host's, and the open one */
	snprintf(q, sizeof(q),
		 "INSERT INTO intervals (id, host_id, cause, start_ms, end_ms, opened_by, created_ms) VALUES "
		 "(1, 1, 'power', %lld, %lld, 'r', 0), (2, 1, 'hardware', %lld, %lld, 'r', 0),"
		 "(3, 1, 'bogus', %lld, %lld, 'r', 0), (4, 2, 'hardware', %lld, %lld, 'r', 0),"
		 "(5, 1, 'network', %lld, NULL, 'r', 0)",
		 (long long)(m0 - H), (long long)(m0 + H), (long long)(m0 + 2 * D),
		 (long long)(m0 + 2 * D + 3 * H), (long long)(m0 + 3 * D), (long long)(m0 + 3 * D + MIN),
		 (long long)(m0 + 4 * D), (long long)(m0 + 5 * D), (long long)(now - 2 * H));
	exec_sql(db, q);
	/* a qualifying host window over the second, a site window over the
	 * open one, a cancelled one, another site's */
	snprintf(q, sizeof(q),
		 "INSERT INTO maint_windows (id, host_id, site, kind, start_ms, end_ms, announced_ms, "
		 "note, created_by, created_ms, cancelled_by, cancelled_ms) VALUES "
		 "(1, 1, NULL, 'planned', %lld, %lld, %lld, 'n', 'x', 0, NULL, NULL),"
		 "(2, NULL, 'hall-1', 'emergency', %lld, %lld, %lld, 'n', 'x', 0, NULL, NULL),"
		 "(3, 1, NULL, 'planned', %lld, %lld, %lld, 'n', 'x', 0, 'y', 1),"
		 "(4, NULL, 'hall-2', 'planned', %lld, %lld, %lld, 'n', 'x', 0, NULL, NULL)",
		 (long long)(m0 + 2 * D + H), (long long)(m0 + 2 * D + 2 * H), (long long)(m0 - 5 * D),
		 (long long)(now - H), (long long)(now + H), (long long)(now - 2 * H),
		 (long long)(m0 + 2 * D), (long long)(m0 + 2 * D + 3 * H), (long long)(m0 - 5 * D),
		 (long long)(now - 3 * H), (long long)(now + H), (long long)(m0 - 5 * D));
	exec_sql(db, q);

	ASSERT_EQ(vgl_sla_db_new(sqw(db), &sdb, err, sizeof(err)), 0);
	src = vgl_sla_source_new(sdb);
	ASSERT(src != NULL);
	ASSERT_EQ(vgl_host_month(src, &h, 2026, 11, now, &hm, err, sizeof(err)), 0);
	res = vgl_host_month_result(hm);

	l = vgl_sla_ledger_new(&p, 0, 0, now);
	ASSERT(l != NULL);
	ASSERT_EQ(vgl_sla_ledger_load(sqw(db), 1, "hall-1", l, err, sizeof(err)), 0);
	ASSERT_EQ(vgl_sla_ledger_get(l, now, &s), 0);
	ASSERT(s.known);
	ASSERT(s.unavailable);
	ASSERT_EQ(s.downtime_ms, res->downtime_ms);
	ASSERT_EQ(s.allowance_ms, res->allowance_ms);
	ASSERT_EQ(s.allowance_left_ms, res->allowance_left_ms);
	ASSERT_EQ(s.next_band_ms, vgl_sla_next_band_ms(&p, res));
	vgl_host_month_free(hm);

	/* an hour later, on the fast path: still what vigil sla says */
	ASSERT_EQ(vgl_sla_ledger_get(l, now + H - 1, &s), 0);
	ASSERT_EQ(vgl_host_month(src, &h, 2026, 11, now + H - 1, &hm, err, sizeof(err)), 0);
	ASSERT_EQ(s.downtime_ms, vgl_host_month_result(hm)->downtime_ms);
	vgl_host_month_free(hm);

	vgl_sla_ledger_free(l);
	vgl_sla_source_free(src);
	vgl_sla_db_free(sdb);
	ASSERT_EQ(sqlite3_close(db), SQLITE_OK);
}
