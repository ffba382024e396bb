/* The store's alarm writes (storage/store_alarm.c): each write exactly
 * once with its log row, the outbox row handed back only once committed,
 * a duplicate notification kept as the first, and the reads a restart and
 * the operators' changes need. */
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "storage/store.h"
#include "test/test.h"
#include "test/unit/store_util.h"

struct got {
	int n_outbox;
	int64_t outbox_id;
	int n_active, n_owed;
	int64_t active_id, owed_id;
	int last_step, last_repeat;
	char owed_key[64];
};

static void on_ev(void *ctx, const struct vgl_store_committed *ev)
{
	struct got *g = ctx;

	if (ev->kind == VGL_COMMITTED_OUTBOX) {
		g->n_outbox++;
		g->outbox_id = ev->outbox_id;
	}
}

static void on_active(void *ctx, const struct vgl_store_active_alarm *a)
{
	struct got *g = ctx;

	g->n_active++;
	g->active_id = a->id;
	g->last_step = a->last_step;
	g->last_repeat = a->last_repeat;
}

static void on_owed(void *ctx, const struct vgl_store_owed *o)
{
	struct got *g = ctx;

	g->n_owed++;
	g->owed_id = o->id;
	snprintf(g->owed_key, sizeof(g->owed_key), "%s", o->dedup_key);
}

static void wait_events(struct vgl_store *s, struct got *g, int want)
{
	for (int i = 0; i < 300 && g->n_outbox < want; i++) {
		vgl_store_drain_committed(s, on_ev, g);
		if (g->n_outbox < want)
			sleep_ms(10);
	}
}

#define RAISE(id) "{\"alarm_id\":" #id ",\"host_id\":1,\"kind\":\"avail\",\"rule\":\"down\"," \
	"\"severity\":\"major\",\"summary\":\"web down\",\"labels\":{\"team\":\"web\"}," \
	"\"details\":{\"cause\":\"network\"},\"site\":\"dc1\",\"raised_ms\":1000," \
	"\"log\":{\"ts_ms\":1000,\"action\":\"raised\",\"text\":\"web down\"}}"
#define OUTBOX(id, alarm, step, rep) "{\"id\":" #id ",\"alarm_id\":" #alarm ",\"channel\":\"oncall\"," \
	"\"event\":\"trigger\",\"step\":" #step ",\"repeat\":" #rep ",\"dedup_key\":\"vigil:" #alarm \
	":" #step ":" #rep "\",\"payload\":\"{}\",\"created_ms\":1000,\"next_ms\":1000}"

TEST(store_alarm_rows_written_once_outbox_handed_back)
{
	const char *path = db_path("a.db"), *logp = capture_log();
	struct vgl_conf *c = make_conf(1, "web");
	int64_t ids[1];
	struct vgl_store *s = store_open(path, 50, T0);
	struct vgl_store_alarm_state st;
	struct got g = { 0 };
	sqlite3 *db;

	ASSERT_EQ(vgl_store_sync_hosts(s, c, ids), 0);
	ASSERT_EQ(ids[0], 1);
	vgl_store_on_committed(s, NULL, NULL);
	vgl_store_alarm(s, VGL_SA_RAISE, 1, RAISE(7));
	vgl_store_alarm(s, VGL_SA_OUTBOX, 1, OUTBOX(3, 7, 0, 0));
	/* the same notification again (a restart re-queueing it): kept once */
	vgl_store_alarm(s, VGL_SA_OUTBOX, 1, OUTBOX(4, 7, 0, 0));
	vgl_store_alarm(s, VGL_SA_OUTBOX, 1, OUTBOX(5, 7, 0, 1));
	wait_events(s, &g, 2);
	ASSERT_EQ(g.n_outbox, 2);
	db = raw_open(path);
	ASSERT_EQ(q_int(db, "SELECT count(*) FROM alarms"), 1);
	ASSERT_EQ(q_int(db, "SELECT count(*) FROM alarm_log WHERE alarm_id = 7 AND action = 'raised'"), 1);
	ASSERT_EQ(q_int(db, "SELECT count(*) FROM alarm_log"), 1);
	ASSERT_EQ(q_int(db, "SELECT json_extract(labels, '$.team') = 'web' FROM alarms WHERE id = 7"), 1);
	ASSERT_EQ(q_int(db, "SELECT count(*) FROM outbox"), 2);
	ASSERT_EQ(q_int(db, "SELECT count(*) FROM outbox WHERE id = 4"), 0);

	/* an attempt's result, a suppression by another alarm, the clear,
	 * each with its log */
	vgl_store_alarm(s, VGL_SA_RAISE, 1, "{\"alarm_id\":9,\"host_id\":1,\"kind\":\"rule\","
			"\"rule\":\"hot\",\"severity\":\"minor\",\"summary\":\"s\",\"raised_ms\":1050}");
	vgl_store_alarm(s, VGL_SA_OUTBOX_TRY, 1, "{\"id\":3,\"attempts\":1,\"delivered_ms\":1500,"
			"\"last_error\":null,\"next_ms\":1000}");
	vgl_store_alarm(s, VGL_SA_UPDATE, 1, "{\"alarm_id\":7,\"suppressed_by\":9,"
			"\"details\":{\"affected_count\":2},\"log\":{\"ts_ms\":1100,"
			"\"action\":\"suppressed\",\"text\":\"x\"}}");
	ASSERT_EQ(wait_int(db, "SELECT count(*) FROM alarm_log WHERE action = 'suppressed'", 1, 3000), 1);
	ASSERT_EQ(wait_int(db, "SELECT count(*) FROM outbox WHERE delivered_ms = 1500", 1, 3000), 1);
	ASSERT_EQ(q_int(db, "SELECT suppressed_by FROM alarms WHERE id = 7"), 9);
	ASSERT_EQ(q_int(db, "SELECT json_extract(details, '$.affected_count') FROM alarms"), 2);

	ASSERT_EQ(vgl_store_alarm_restore(s, &st, on_active, on_owed, &g), 0);
	ASSERT_EQ(st.max_alarm_id, 9);
	ASSERT_EQ(st.max_outbox_id, 5);
	ASSERT_EQ(g.n_active, 2);       /* 7 then 9, in id order */
	ASSERT_EQ(g.active_id, 9);
	ASSERT_EQ(g.last_step, -1);     /* 9 never notified */
	ASSERT_EQ(g.n_owed, 1);
	ASSERT_EQ(g.owed_id, 5);
	ASSERT_STREQ(g.owed_key, "vigil:7:0:1");

	vgl_store_alarm(s, VGL_SA_CLEAR, 1, "{\"alarm_id\":7,\"cleared_ms\":2000,"
			"\"log\":{\"ts_ms\":2000,\"action\":\"cleared\"}}");
	ASSERT_EQ(wait_int(db, "SELECT count(*) FROM alarms WHERE cleared_ms = 2000", 1, 3000), 1);
	ASSERT_EQ(q_int(db, "SELECT count(*) FROM alarm_log WHERE alarm_id = 7"), 3);
	raw_close(db);
	vgl_store_close(s, T0 + 1);
	free_conf(c);
	ASSERT(strstr(read_log(logp), "refused") == NULL);
}

struct ctl { int acks, sil, win; const char *by; };
static void c_ack(void *ctx, const struct vgl_store_ack *a)
{
	struct ctl *c = ctx;
	c->acks++;
	c->by = a->alarm_id == 7 && a->by && strcmp(a->by, "alice") == 0 ? "alice" : "?";
}
static void c_sil(void *ctx, const struct vgl_store_silence *s)
{
	((struct ctl *)ctx)->sil += s->host && strcmp(s->host, "web-00000") == 0;
}
static void c_win(void *ctx, const struct vgl_store_window *w)
{
	((struct ctl *)ctx)->win += w->cancelled ? 100 : 1;
}

TEST(store_alarm_control_reads_acks_silences_windows)
{
	const char *path = db_path("c.db");
	struct vgl_conf *c = make_conf(1, "web");
	int64_t ids[1];
	struct vgl_store *s = store_open(path, 50, T0);
	struct vgl_store_control_fns fns = { c_ack, c_sil, c_win };
	struct ctl got = { 0 };
	sqlite3 *db;

	ASSERT_EQ(vgl_store_sync_hosts(s, c, ids), 0);
	vgl_store_alarm(s, VGL_SA_RAISE, 1, RAISE(7));
	db = raw_open(path);
	ASSERT_EQ(wait_int(db, "SELECT count(*) FROM alarms", 1, 3000), 1);
	ASSERT_EQ(q_exec(db, "UPDATE alarms SET acked_ms = 1200, acked_by = 'alice' WHERE id = 7"), SQLITE_OK);
	ASSERT_EQ(q_exec(db, "INSERT INTO silences (host, start_ms, end_ms, reason, created_by, created_ms) "
			 "VALUES ('web-00000', 0, 5000, 'r', 'x', 0), ('web-00000', 0, 10, 'expired', 'x', 0)"),
		  SQLITE_OK);
	ASSERT_EQ(q_exec(db, "INSERT INTO maint_windows (host_id, kind, start_ms, end_ms, announced_ms, "
			 "note, created_by, created_ms) VALUES (1, 'planned', 100, 9000, 0, 'n', 'x', 0), "
			 "(1, 'planned', 10, 20, 0, 'old', 'x', 0)"), SQLITE_OK);
	ASSERT_EQ(vgl_store_read_control(s, 1000, 50, &fns, &got), 0);
	ASSERT_EQ(got.acks, 1);
	ASSERT_STREQ(got.by, "alice");
	ASSERT_EQ(got.sil, 1);          /* the expired one is not read */
	ASSERT_EQ(got.win, 1);          /* nor the window that ended before since */
	raw_close(db);
	vgl_store_close(s, T0 + 1);
	free_conf(c);
}
