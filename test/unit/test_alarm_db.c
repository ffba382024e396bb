/* storage/alarm_db: reading alarms with their log and outbox, ack (once,
 * never on a cleared alarm, only its own columns), comments, silences
 * (add, refusals, list, expiry, remove once), and the response report's
 * figures for a small hand-computed month. Each test builds its own
 * database in its tmpdir, rows inserted as vigild would write them. */
#include <string.h>

#include <sqlite3.h>

#include "storage/alarm_db.h"
#include "storage/store.h"
#include "test/test.h"
#include "test/unit/sql_util.h"

#define T0 1793491200000LL      /* 2026-11-01T00:00:00Z */
#define T1 1796083200000LL      /* 2026-12-01T00:00:00Z */
#define MIN 60000LL
#define HOUR 3600000LL
#define DAY (24 * HOUR)

struct fixture {
	sqlite3 *db;
	struct vgl_alarm_db *s;
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

/* The text of a one-row query, copied into buf ("(null)" for NULL). */
static const char *sql_text(sqlite3 *db, const char *text, char *buf, size_t len)
{
	sqlite3_stmt *st;
	const unsigned char *v;

	ASSERT_EQ(sqlite3_prepare_v2(db, text, -1, &st, NULL), SQLITE_OK);
	ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
	v = sqlite3_column_text(st, 0);
	snprintf(buf, len, "%s", v ? (const char *)v : "(null)");
	sqlite3_finalize(st);
	return buf;
}

static void fx_open(struct fixture *fx)
{
	char err[512], path[512];

	snprintf(path, sizeof(path), "%s/vigil.db", vgl_test_tmpdir());
	if (vgl_db_open(path, &fx->db, err, sizeof(err)) != 0 ||
	    vgl_alarm_db_new(sqw(fx->db), &fx->s, err, sizeof(err)) != 0) {
		fprintf(stderr, "open: %s\n", err);
		ASSERT(0);
	}
	sql(fx->db, "INSERT INTO hosts (id, name, site) VALUES (1, 'a', 'hall-1'), "
		    "(2, 'b', 'hall-2'), (3, 'c', NULL)");
}

static void fx_close(struct fixture *fx)
{
	vgl_alarm_db_free(fx->s);
	ASSERT_EQ(sqlite3_close(fx->db), SQLITE_OK);
}

/* One alarm as vigild writes it; acked/cleared < 0: NULL. */
static void alarm(struct fixture *fx, int64_t id, int host, const char *rule, const char *sev,
		  int64_t raised, int64_t acked, int64_t cleared, int64_t suppressed_by,
		  const char *muted)
{
	static const char *const sites[] = { NULL, "hall-1", "hall-2", NULL };
	sqlite3_stmt *st;

	ASSERT_EQ(sqlite3_prepare_v2(fx->db,
				     "INSERT INTO alarms (id, host_id, kind, rule, severity, summary, "
				     "labels, details, site, raised_ms, acked_ms, acked_by, "
				     "cleared_ms, suppressed_by, muted) VALUES (?1, ?2, 'rule', ?3, "
				     "?4, 'summary of ' || ?3, '{\"team\":\"dc\"}', '{}', ?5, ?6, "
				     "?7, CASE WHEN ?7 IS NULL THEN NULL ELSE 'olga' END, ?8, ?9, ?10)",
				     -1, &st, NULL),
		  SQLITE_OK);
	ASSERT_EQ(sqlite3_bind_int64(st, 1, id), SQLITE_OK);
	ASSERT_EQ(sqlite3_bind_int(st, 2, host), SQLITE_OK);
	ASSERT_EQ(sqlite3_bind_text(st, 3, rule, -1, SQLITE_STATIC), SQLITE_OK);
	ASSERT_EQ(sqlite3_bind_text(st, 4, sev, -1, SQLITE_STATIC), SQLITE_OK);
	ASSERT_EQ(sites[host] ? sqlite3_bind_text(st, 5, sites[host], -1, SQLITE_STATIC)
			      : sqlite3_bind_null(st, 5), SQLITE_OK);
	ASSERT_EQ(sqlite3_bind_int64(st, 6, raised), SQLITE_OK);
	ASSERT_EQ(acked >= 0 ? sqlite3_bind_int64(st, 7, acked) : sqlite3_bind_null(st, 7),
		  SQLITE_OK);
	ASSERT_EQ(cleared >= 0 ? sqlite3_bind_int64(st, 8, cleared) : sqlite3_bind_null(st, 8),
		  SQLITE_OK);
	ASSERT_EQ(suppressed_by ? sqlite3_bind_int64(st, 9, suppressed_by)
				: sqlite3_bind_null(st, 9), SQLITE_OK);
	ASSERT_EQ(muted ? sqlite3_bind_text(st, 10, muted, -1, SQLITE_STATIC)
			: sqlite3_bind_null(st, 10), SQLITE_OK);
	ASSERT_EQ(sqlite3_step(st), SQLITE_DONE);
	sqlite3_finalize(st);
}

/* ---- reading ---- */

struct seen {
	int64_t ids[16];
	enum vgl_alarm_state states[16];
	char host[16][8];
	size_t n;
};

static int on_alarm(void *ctx, const struct vgl_alarm_db_alarm *a)
{
	struct seen *s = ctx;

	ASSERT(s->n < 16);
	s->ids[s->n] = a->id;
	s->states[s->n] = a->state;
	snprintf(s->host[s->n], sizeof(s->host[0]), "%s", a->host);
	s->n++;
	return 0;
}

static int stop_at_first(void *ctx, const struct vgl_alarm_db_alarm *a)
{
	(void)a;
	(*(int *)ctx)++;
	return 7;
}

TEST(alarm_db_list_filters_and_derives_state)
{
	struct fixture fx;
	struct vgl_alarm_db_filter f;
	struct seen s = { 0 };
	char err[256];
	int calls = 0;

	fx_open(&fx);
	alarm(&fx, 1, 1, "r1", "critical", T0 + HOUR, -1, -1, 0, NULL);
	alarm(&fx, 2, 2, "r2", "major", T0 + 2 * HOUR, T0 + 3 * HOUR, -1, 0, NULL);
	alarm(&fx, 3, 1, "r3", "minor", T0 + 3 * HOUR, T0 + 4 * HOUR, T0 + 5 * HOUR, 0, NULL);
	alarm(&fx, 4, 2, "r4", "info", T0 + 3 * HOUR, -1, T0 + 5 * HOUR, 0, NULL);

	vgl_alarm_db_filter_init(&f);
	ASSERT_EQ(vgl_alarm_db_alarms(fx.s, &f, on_alarm, &s, err, sizeof(err)), 0);
	/* newest first; equal raise times by id, newest id first */
	ASSERT_EQ(s.n, 4);
	ASSERT_EQ(s.ids[0], 4);
	ASSERT_EQ(s.ids[1], 3);
	ASSERT_EQ(s.ids[2], 2);
	ASSERT_EQ(s.ids[3], 1);
	ASSERT_EQ(s.states[0], VGL_ALARM_CLEARED);     /* cleared, never acked */
	ASSERT_EQ(s.states[1], VGL_ALARM_CLEARED);     /* cleared wins over acked */
	ASSERT_EQ(s.states[2], VGL_ALARM_ACKED);
	ASSERT_EQ(s.states[3], VGL_ALARM_RAISED);
	ASSERT_STREQ(s.host[3], "a");

	memset(&s, 0, sizeof(s));
	f.active_only = 1;
	ASSERT_EQ(vgl_alarm_db_alarms(fx.s, &f, on_alarm, &s, err, sizeof(err)), 0);
	ASSERT_EQ(s.n, 2);
	ASSERT_EQ(s.ids[0], 2);
	ASSERT_EQ(s.ids[1], 1);

	memset(&s, 0, sizeof(s));
	f.host = "b";
	ASSERT_EQ(vgl_alarm_db_alarms(fx.s, &f, on_alarm, &s, err, sizeof(err)), 0);
	ASSERT_EQ(s.n, 1);
	ASSERT_EQ(s.ids[0], 2);

	/* the callback's value stops the walk and comes back */
	vgl_alarm_db_filter_init(&f);
	ASSERT_EQ(vgl_alarm_db_alarms(fx.s, &f, stop_at_first, &calls, err, sizeof(err)), 7);
	ASSERT_EQ(calls, 1);

	memset(&s, 0, sizeof(s));
	ASSERT_EQ(vgl_alarm_db_alarm(fx.s, 3, on_alarm, &s, err, sizeof(err)), 0);
	ASSERT_EQ(s.n, 1);
	ASSERT_EQ(s.ids[0], 3);
	ASSERT_EQ(vgl_alarm_db_alarm(fx.s, 99, on_alarm, &s, err, sizeof(err)), 1);
	ASSERT_EQ(s.n, 1);
	fx_close(&fx);
}

struct texts {
	char v[8][64];
	size_t n;
};

static int on_log(void *ctx, const struct vgl_alarm_db_log *l)
{
	struct texts *t = ctx;

	ASSERT(t->n < 8);
	snprintf(t->v[t->n++], sizeof(t->v[0]), "%s|%s|%s", l->action, l->by,
		 l->text ? l->text : "-");
	return 0;
}

static int on_notice(void *ctx, const struct vgl_alarm_db_notice *n)
{
	struct texts *t = ctx;

	ASSERT(t->n < 8);
	snprintf(t->v[t->n++], sizeof(t->v[0]), "%s|%s|%lld|%lld|%s|%lld|%s|%s", n->channel,
		 n->event, (long long)n->step, (long long)n->repeat, n->dedup_key,
		 (long long)n->attempts, n->delivered ? "delivered" : "owed",
		 n->last_error ? n->last_error : "-");
	return 0;
}

/* ---- ack, comment ---- */

TEST(alarm_db_ack_once_then_refused)
{
	struct fixture fx;
	struct texts t = { 0 };
	char err[256], buf[128];

	fx_open(&fx);
	alarm(&fx, 1, 1, "r1", "critical", T0, -1, -1, 0, "silence:4");
	ASSERT_EQ(vgl_alarm_db_ack(fx.s, 1, "alice", "on it", T0 + 5 * MIN, err, sizeof(err)),
		  VGL_ALARM_DB_OK);
	ASSERT_EQ(sql_int(fx.db, "SELECT acked_ms FROM alarms WHERE id = 1"), T0 + 5 * MIN);
	ASSERT_STREQ(sql_text(fx.db, "SELECT acked_by FROM alarms WHERE id = 1", buf,
			      sizeof(buf)), "alice");
	/* the daemon's columns stay as it wrote them */
	ASSERT_STREQ(sql_text(fx.db, "SELECT muted FROM alarms WHERE id = 1", buf, sizeof(buf)),
		     "silence:4");

	ASSERT_EQ(vgl_alarm_db_ack(fx.s, 1, "bob", NULL, T0 + 6 * MIN, err, sizeof(err)),
		  VGL_ALARM_DB_REFUSED);
	ASSERT_CONTAINS(err, "already acknowledged by alice at 2026-11-01T00:05:00.000Z");
	ASSERT_STREQ(sql_text(fx.db, "SELECT acked_by FROM alarms WHERE id = 1", buf,
			      sizeof(buf)), "alice");
	ASSERT_EQ(sql_int(fx.db, "SELECT acked_ms FROM alarms WHERE id = 1"), T0 + 5 * MIN);

	ASSERT_EQ(vgl_alarm_db_ack(fx.s, 42, "bob", NULL, T0, err, sizeof(err)),
		  VGL_ALARM_DB_REFUSED);
	ASSERT_CONTAINS(err, "alarm 42: no such alarm");

	/* one row, from the first: refusals write nothing */
	ASSERT_EQ(vgl_alarm_db_log(fx.s, 1, on_log, &t, err, sizeof(err)), 0);
	ASSERT_EQ(t.n, 1);
	ASSERT_STREQ(t.v[0], "acknowledged|alice|on it");
	ASSERT_EQ(sql_int(fx.db, "SELECT count(*) FROM alarm_log"), 1);
	/* nothing left open: the next writer is not blocked */
	ASSERT(sqlite3_get_autocommit(fx.db));
	fx_close(&fx);
}

TEST(alarm_db_ack_of_cleared_refused)
{
	struct fixture fx;
	char err[256];

	fx_open(&fx);
	alarm(&fx, 1, 1, "r1", "major", T0, -1, T0 + HOUR, 0, NULL);
	ASSERT_EQ(vgl_alarm_db_ack(fx.s, 1, "alice", NULL, T0 + 2 * HOUR, err, sizeof(err)),
		  VGL_ALARM_DB_REFUSED);
	ASSERT_CONTAINS(err, "cleared at 2026-11-01T01:00:00.000Z");
	ASSERT_EQ(sql_int(fx.db, "SELECT acked_ms IS NULL AND acked_by IS NULL FROM alarms"), 1);
	ASSERT_EQ(sql_int(fx.db, "SELECT count(*) FROM alarm_log"), 0);
	ASSERT(sqlite3_get_autocommit(fx.db));
	fx_close(&fx);
}

TEST(alarm_db_comment_on_any_alarm)
{
	struct fixture fx;
	struct texts t = { 0 };
	char err[256];

	fx_open(&fx);
	alarm(&fx, 1, 1, "r1", "major", T0, -1, T0 + HOUR, 0, NULL);
	sql(fx.db, "INSERT INTO alarm_log (alarm_id, ts_ms, action, by) VALUES "
		   "(1, 1793491200000, 'raised', 'vigild')");
	ASSERT_EQ(vgl_alarm_db_comment(fx.s, 1, "carol", "PSU swapped", T0 + 2 * HOUR, err,
				       sizeof(err)), VGL_ALARM_DB_OK);
	ASSERT_EQ(vgl_alarm_db_comment(fx.s, 1, "carol", "", T0, err, sizeof(err)),
		  VGL_ALARM_DB_REFUSED);
	ASSERT_EQ(vgl_alarm_db_comment(fx.s, 5, "carol", "x", T0, err, sizeof(err)),
		  VGL_ALARM_DB_REFUSED);
	ASSERT_CONTAINS(err, "alarm 5: no such alarm");
	ASSERT_EQ(vgl_alarm_db_log(fx.s, 1, on_log, &t, err, sizeof(err)), 0);
	ASSERT_EQ(t.n, 2);
	ASSERT_STREQ(t.v[0], "raised|vigild|-");
	ASSERT_STREQ(t.v[1], "comment|carol|PSU swapped");
	ASSERT_EQ(sql_int(fx.db, "SELECT ts_ms FROM alarm_log WHERE action = 'comment'"),
		  T0 + 2 * HOUR);
	fx_close(&fx);
}

TEST(alarm_db_outbox_rows)
{
	struct fixture fx;
	struct texts t = { 0 };
	char err[256];

	fx_open(&fx);
	alarm(&fx, 1, 1, "r1", "major", T0, -1, -1, 0, NULL);
	alarm(&fx, 2, 2, "r1", "major", T0, -1, -1, 0, NULL);
	sql(fx.db, "INSERT INTO outbox (alarm_id, channel, event, step, repeat, dedup_key, "
		   "payload, created_ms, attempts, next_ms, delivered_ms, last_error) VALUES "
		   "(1, 'pager', 'trigger', 0, 0, 'vigil:1:0:0', '{}', 1, 2, 5, 9, NULL), "
		   "(1, 'mail', 'trigger', 1, 2, 'vigil:1:1:2', '{}', 1, 3, 5, NULL, 'HTTP 503'), "
		   "(2, 'pager', 'trigger', 0, 0, 'vigil:2:0:0', '{}', 1, 0, 5, NULL, NULL)");
	ASSERT_EQ(vgl_alarm_db_outbox(fx.s, 1, on_notice, &t, err, sizeof(err)), 0);
	ASSERT_EQ(t.n, 2);
	ASSERT_STREQ(t.v[0], "pager|trigger|0|0|vigil:1:0:0|2|delivered|-");
	ASSERT_STREQ(t.v[1], "mail|trigger|1|2|vigil:1:1:2|3|owed|HTTP 503");
	fx_close(&fx);
}

/* ---- silences ---- */

struct sil {
	int64_t ids[8];
	char status[8][16];
	size_t n;
	int64_t now;
};

static int on_silence(void *ctx, const struct vgl_alarm_db_silence *si)
{
	struct sil *s = ctx;

	ASSERT(s->n < 8);
	s->ids[s->n] = si->id;
	snprintf(s->status[s->n], sizeof(s->status[0]), "%s",
		 vgl_alarm_db_silence_status(si, s->now));
	s->n++;
	return 0;
}

static struct vgl_alarm_db_silence_add sil_add(const char *host, const char *site,
					       const char *label, int64_t start, int64_t end)
{
	struct vgl_alarm_db_silence_add a = {
		.host = host, .site = site, .label = label, .start_ms = start, .end_ms = end,
		.reason = "CHG-1 rewiring", .by = "dave", .now_ms = T0,
	};
	return a;
}

TEST(alarm_db_silence_add_refusals)
{
	struct fixture fx;
	struct vgl_alarm_db_silence_add a;
	char err[256];
	int64_t id = 0;

	fx_open(&fx);
	a = sil_add("zz-9", NULL, NULL, T0, T0 + HOUR);
	ASSERT_EQ(vgl_alarm_db_silence_add(fx.s, &a, &id, err, sizeof(err)), VGL_ALARM_DB_REFUSED);
	ASSERT_CONTAINS(err, "unknown host 'zz-9'");
	a = sil_add(NULL, NULL, NULL, T0, T0 + HOUR);
	ASSERT_EQ(vgl_alarm_db_silence_add(fx.s, &a, &id, err, sizeof(err)), VGL_ALARM_DB_REFUSED);
	ASSERT_CONTAINS(err, "at least one");
	a = sil_add("a", NULL, NULL, T0 + HOUR, T0 + HOUR);
	ASSERT_EQ(vgl_alarm_db_silence_add(fx.s, &a, &id, err, sizeof(err)), VGL_ALARM_DB_REFUSED);
	ASSERT_CONTAINS(err, "end after it starts");
	a = sil_add(NULL, NULL, "=x", T0, T0 + HOUR);
	ASSERT_EQ(vgl_alarm_db_silence_add(fx.s, &a, &id, err, sizeof(err)), VGL_ALARM_DB_REFUSED);
	ASSERT_CONTAINS(err, "KEY=VALUE");
	a = sil_add(NULL, "hall-1", NULL, T0, T0 + HOUR);
	a.reason = "";
	ASSERT_EQ(vgl_alarm_db_silence_add(fx.s, &a, &id, err, sizeof(err)), VGL_ALARM_DB_REFUSED);
	ASSERT_EQ(sql_int(fx.db, "SELECT count(*) FROM silences"), 0);
	ASSERT(sqlite3_get_autocommit(fx.db));
	fx_close(&fx);
}

TEST(alarm_db_silence_list_expiry_remove)
{
	struct fixture fx;
	struct vgl_alarm_db_silence_add a;
	struct sil s = { .now = T0 + 2 * HOUR };
	char err[256], buf[64];
	int64_t id1 = 0, id2 = 0, id3 = 0;

	fx_open(&fx);
	a = sil_add("a", NULL, "team=dc", T0, T0 + HOUR);  /* expired at T0 + 2 h */
	ASSERT_EQ(vgl_alarm_db_silence_add(fx.s, &a, &id1, err, sizeof(err)), VGL_ALARM_DB_OK);
	a = sil_add(NULL, "hall-2", NULL, T0, T0 + DAY);   /* active */
	ASSERT_EQ(vgl_alarm_db_silence_add(fx.s, &a, &id2, err, sizeof(err)), VGL_ALARM_DB_OK);
	a = sil_add("b", NULL, NULL, T0 + 3 * HOUR, T0 + DAY);   /* pending */
	ASSERT_EQ(vgl_alarm_db_silence_add(fx.s, &a, &id3, err, sizeof(err)), VGL_ALARM_DB_OK);
	ASSERT(id1 > 0 && id2 > id1 && id3 > id2);
	ASSERT_STREQ(sql_text(fx.db, "SELECT host || ' ' || label || ' ' || created_by || ' ' || "
				     "reason FROM silences WHERE id = 1", buf, sizeof(buf)),
		     "a team=dc dave CHG-1 rewiring");

	ASSERT_EQ(vgl_alarm_db_silences(fx.s, 0, s.now, on_silence, &s, err, sizeof(err)), 0);
	ASSERT_EQ(s.n, 2);
	ASSERT_EQ(s.ids[0], id2);
	ASSERT_STREQ(s.status[0], "active");
	ASSERT_EQ(s.ids[1], id3);
	ASSERT_STREQ(s.status[1], "pending");

	ASSERT_EQ(vgl_alarm_db_silence_remove(fx.s, id2, "erin", T0 + 2 * HOUR, err, sizeof(err)),
		  VGL_ALARM_DB_OK);
	ASSERT_EQ(vgl_alarm_db_silence_remove(fx.s, id2, "frank", T0 + 3 * HOUR, err,
					      sizeof(err)), VGL_ALARM_DB_REFUSED);
	ASSERT_CONTAINS(err, "already removed by erin at 2026-11-01T02:00:00.000Z");
	ASSERT_EQ(vgl_alarm_db_silence_remove(fx.s, 77, "frank", T0, err, sizeof(err)),
		  VGL_ALARM_DB_REFUSED);
	ASSERT_CONTAINS(err, "silence 77: no such silence");
	ASSERT_STREQ(sql_text(fx.db, "SELECT removed_by FROM silences WHERE id = 2", buf,
			      sizeof(buf)), "erin");

	memset(s.ids, 0, sizeof(s.ids));
	s.n = 0;
	ASSERT_EQ(vgl_alarm_db_silences(fx.s, 0, s.now, on_silence, &s, err, sizeof(err)), 0);
	ASSERT_EQ(s.n, 1);
	ASSERT_EQ(s.ids[0], id3);
	s.n = 0;
	ASSERT_EQ(vgl_alarm_db_silences(fx.s, 1, s.now, on_silence, &s, err, sizeof(err)), 0);
	ASSERT_EQ(s.n, 3);
	ASSERT_STREQ(s.status[0], "expired");
	ASSERT_STREQ(s.status[1], "removed");
	ASSERT_STREQ(s.status[2], "pending");
	fx_close(&fx);
}

/* ---- the response report ---- */

TEST(alarm_db_response_permille_rounding)
{
	ASSERT_EQ(vgl_resp_permille(2, 3), 667);
	ASSERT_EQ(vgl_resp_permille(1, 3), 333);
	ASSERT_EQ(vgl_resp_permille(1, 6), 167);
	ASSERT_EQ(vgl_resp_permille(1, 16), 63);   /* 62.5 rounds up */
	ASSERT_EQ(vgl_resp_permille(0, 4), 0);
	ASSERT_EQ(vgl_resp_permille(4, 4), 1000);
	ASSERT_EQ(vgl_resp_permille(0, 0), -1);
}

static const struct vgl_resp_alarm *find(const struct vgl_alarm_response *r, int64_t id)
{
	for (size_t i = 0; i < r->n; i++)
		if (r->alarms[i].id == id)
			return &r->alarms[i];
	return NULL;
}

#define ASSERT_GROUP(g, name_, n_, am, ad, ar, cm, cd, cr)                     \
	do {                                                                  \
		if (name_)                                                    \
			ASSERT_STREQ((g)->name, (const char *)(name_));       \
		else                                                          \
			ASSERT((g)->name == NULL);                            \
		ASSERT_EQ((g)->alarms, n_);                                   \
		ASSERT_EQ((g)->ack_met, am);                                  \
		ASSERT_EQ((g)->ack_due, ad);                                  \
		ASSERT_EQ((g)->ack_running, ar);                              \
		ASSERT_EQ((g)->clear_met, cm);                                \
		ASSERT_EQ((g)->clear_due, cd);                                \
		ASSERT_EQ((g)->clear_running, cr);                            \
	} while (0)

/* November 2026, ack within 15 min, clear within 4 h, as of Nov 11:
 *   1 a critical  acked +10m  cleared +2h     ack met     clear met
 *   2 a critical  acked +20m  cleared +5h     ack missed  clear missed
 *   3 b major     never acked, never cleared  missed      missed
 *   4 b major     raised 5 min before now     running     running
 *   5 a minor     suppressed by 1             left out (suppressed)
 *   6 b warning   muted silence:1             left out (muted)
 *   7 a minor     cleared +5m, never acked    not needed  clear met
 *   8 a critical  raised in October           not in the month
 *   9 b critical  acked +15m, cleared +4h exactly: both met
 *  10 c info      no site, acked +1m cleared +1m: met, met
 *  11 b minor     raised Dec 1 00:00 exactly: not in the month */
TEST(alarm_db_response_month_figures)
{
	const int64_t now = T0 + 10 * DAY;
	struct vgl_alarm_response *r = NULL;
	const struct vgl_resp_alarm *a;
	struct fixture fx;
	char err[256];

	fx_open(&fx);
	alarm(&fx, 1, 1, "r1", "critical", T0 + HOUR, T0 + HOUR + 10 * MIN, T0 + 3 * HOUR, 0, NULL);
	alarm(&fx, 2, 1, "r2", "critical", T0 + 2 * HOUR, T0 + 2 * HOUR + 20 * MIN,
	      T0 + 7 * HOUR, 0, NULL);
	alarm(&fx, 3, 2, "r3", "major", T0 + 3 * HOUR, -1, -1, 0, NULL);
	alarm(&fx, 4, 2, "r4", "major", now - 5 * MIN, -1, -1, 0, NULL);
	alarm(&fx, 5, 1, "r5", "minor", T0 + 4 * HOUR, -1, -1, 1, NULL);
	alarm(&fx, 6, 2, "r6", "warning", T0 + 5 * HOUR, -1, -1, 0, "silence:1");
	alarm(&fx, 7, 1, "r7", "minor", T0 + 6 * HOUR, -1, T0 + 6 * HOUR + 5 * MIN, 0, NULL);
	alarm(&fx, 8, 1, "r8", "critical", T0 - HOUR, T0 - HOUR + MIN, T0, 0, NULL);
	alarm(&fx, 9, 2, "r9", "critical", T0 + 7 * HOUR, T0 + 7 * HOUR + 15 * MIN,
	      T0 + 11 * HOUR, 0, NULL);
	alarm(&fx, 10, 3, "r10", "info", T0 + 8 * HOUR, T0 + 8 * HOUR + MIN, T0 + 8 * HOUR + MIN,
	      0, NULL);
	alarm(&fx, 11, 2, "r11", "minor", T1, -1, -1, 0, NULL);

	ASSERT_EQ(vgl_alarm_db_response(fx.s, T0, T1, now, 15 * MIN, 4 * HOUR, &r, err,
					sizeof(err)), 0);
	ASSERT_EQ(r->n, 7);
	ASSERT_EQ(r->suppressed, 1);
	ASSERT_EQ(r->muted, 1);
	ASSERT(!find(r, 5) && !find(r, 6) && !find(r, 8) && !find(r, 11));
	/* oldest first */
	ASSERT_EQ(r->alarms[0].id, 1);
	ASSERT_EQ(r->alarms[6].id, 4);

	ASSERT((a = find(r, 1)));
	ASSERT_EQ(a->ack_ms, 10 * MIN);
	ASSERT_EQ(a->clear_ms, 2 * HOUR);
	ASSERT_EQ(a->ack, VGL_RESP_MET);
	ASSERT_EQ(a->clear, VGL_RESP_MET);
	ASSERT((a = find(r, 2)));
	ASSERT_EQ(a->ack_ms, 20 * MIN);
	ASSERT_EQ(a->clear_ms, 5 * HOUR);
	ASSERT_EQ(a->ack, VGL_RESP_MISSED);
	ASSERT_EQ(a->clear, VGL_RESP_MISSED);
	ASSERT((a = find(r, 3)));
	ASSERT(!a->acked && !a->cleared);
	ASSERT_EQ(a->ack, VGL_RESP_MISSED);
	ASSERT_EQ(a->clear, VGL_RESP_MISSED);
	ASSERT((a = find(r, 4)));
	ASSERT_EQ(a->ack, VGL_RESP_RUNNING);
	ASSERT_EQ(a->clear, VGL_RESP_RUNNING);
	ASSERT((a = find(r, 7)));
	ASSERT_EQ(a->ack, VGL_RESP_NOT_NEEDED);
	ASSERT_EQ(a->clear, VGL_RESP_MET);
	ASSERT((a = find(r, 9)));
	ASSERT_EQ(a->ack, VGL_RESP_MET);
	ASSERT_EQ(a->clear, VGL_RESP_MET);
	ASSERT_STREQ(a->site, "hall-2");
	ASSERT_STREQ(a->acked_by, "olga");
	ASSERT((a = find(r, 10)));
	ASSERT(a->site == NULL);

	/* severities in rank order, then sites by name with the NULL site last */
	ASSERT_EQ(r->n_severity, 4);
	ASSERT_GROUP(&r->by_severity[0], "critical", 3, 2, 3, 0, 2, 3, 0);
	ASSERT_GROUP(&r->by_severity[1], "major", 2, 0, 1, 1, 0, 1, 1);
	ASSERT_GROUP(&r->by_severity[2], "minor", 1, 0, 0, 0, 1, 1, 0);
	ASSERT_GROUP(&r->by_severity[3], "info", 1, 1, 1, 0, 1, 1, 0);
	ASSERT_EQ(r->n_site, 3);
	ASSERT_GROUP(&r->by_site[0], "hall-1", 3, 1, 2, 0, 2, 3, 0);
	ASSERT_GROUP(&r->by_site[1], "hall-2", 3, 1, 2, 1, 1, 2, 1);
	ASSERT_GROUP(&r->by_site[2], NULL, 1, 1, 1, 0, 1, 1, 0);
	ASSERT_GROUP(&r->total, NULL, 7, 3, 5, 1, 4, 6, 1);
	ASSERT_EQ(vgl_resp_permille(r->by_severity[0].ack_met, r->by_severity[0].ack_due), 667);
	ASSERT_EQ(vgl_resp_permille(r->total.ack_met, r->total.ack_due), 600);
	ASSERT_EQ(vgl_resp_permille(r->total.clear_met, r->total.clear_due), 667);
	vgl_alarm_response_free(r);

	/* Once alarm 4 is 16 minutes old, its ack is missed; its clear still runs. */
	ASSERT_EQ(vgl_alarm_db_response(fx.s, T0, T1, now + 11 * MIN, 15 * MIN, 4 * HOUR, &r, err,
					sizeof(err)), 0);
	ASSERT((a = find(r, 4)));
	ASSERT_EQ(a->ack, VGL_RESP_MISSED);
	ASSERT_EQ(a->clear, VGL_RESP_RUNNING);
	ASSERT_GROUP(&r->total, NULL, 7, 3, 6, 0, 4, 6, 1);
	vgl_alarm_response_free(r);

	/* Looser commitments turn alarm 2 into met on both. */
	ASSERT_EQ(vgl_alarm_db_response(fx.s, T0, T1, now, 30 * MIN, 6 * HOUR, &r, err,
					sizeof(err)), 0);
	ASSERT((a = find(r, 2)));
	ASSERT_EQ(a->ack, VGL_RESP_MET);
	ASSERT_EQ(a->clear, VGL_RESP_MET);
	vgl_alarm_response_free(r);

	ASSERT_EQ(vgl_alarm_db_response(fx.s, T0, T1, now, 0, 4 * HOUR, &r, err, sizeof(err)), -1);
	ASSERT(r == NULL);
	fx_close(&fx);
}
