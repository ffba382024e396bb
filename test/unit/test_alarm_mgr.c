/* The alarm manager (alarms/alarm.h) over a hand-built config and a fake
 * io: the store callback records every row (parsed), the send callback
 * every attempt. Outbox, retries, escalation, clear, dependency
 * suppression, flapping, silences, restore. */
#include <cjson/cJSON.h>

#include "alarms/alarm.h"
#include "alarms/alarm_conf.h"
#include "rules/rule_conf.h"
#include "storage/store.h"
#include "test/test.h"

/* 2026-11-05T10:00:00.000Z */
#define T0 1793872800000LL
#define S(x) ((int64_t)(x) * 1000)
#define MIN(x) ((int64_t)(x) * 60000)

#define N_HOSTS 21      /* sw0, h1 .. h20 */
#define HOST_ID(i) (1000 + (int64_t)(i))

/* ---- the fake io ------------------------------------------------------------ */

struct row {
	enum vgl_store_alarm_op op;
	int64_t host_id;
	cJSON *doc;
};

struct sent {
	int64_t outbox_id;
	char channel[32];
	char *payload;
	cJSON *doc;
	int answered;
};

struct rec {
	struct row *rows;
	size_t n_rows, cap_rows;
	struct sent *sent;
	size_t n_sent, cap_sent;
	size_t committed_upto;          /* rows[0..) already handed to vgl_alarms_committed */
};

static void fake_store(void *ctx, enum vgl_store_alarm_op op, int64_t host_id, const char *doc)
{
	struct rec *r = ctx;
	cJSON *j = cJSON_Parse(doc);

	ASSERT(j != NULL && cJSON_IsObject(j));
	if (r->n_rows == r->cap_rows) {
		r->cap_rows = r->cap_rows ? r->cap_rows * 2 : 64;
		ASSERT((r->rows = realloc(r->rows, r->cap_rows * sizeof(*r->rows))) != NULL);
	}
	r->rows[r->n_rows++] = (struct row){ op, host_id, j };
}

static int fake_send(void *ctx, int64_t outbox_id, const char *channel, const char *payload)
{
	struct rec *r = ctx;
	struct sent *s;

	if (r->n_sent == r->cap_sent) {
		r->cap_sent = r->cap_sent ? r->cap_sent * 2 : 64;
		ASSERT((r->sent = realloc(r->sent, r->cap_sent * sizeof(*r->sent))) != NULL);
	}
	s = &r->sent[r->n_sent++];
	memset(s, 0, sizeof(*s));
	s->outbox_id = outbox_id;
	snprintf(s->channel, sizeof(s->channel), "%s", channel);
	ASSERT((s->payload = strdup(payload)) != NULL);
	s->doc = cJSON_Parse(payload);
	ASSERT(s->doc != NULL && cJSON_IsObject(s->doc));
	return 0;
}

static void rec_free(struct rec *r)
{
	for (size_t i = 0; i < r->n_rows; i++)
		cJSON_Delete(r->rows[i].doc);
	for (size_t i = 0; i < r->n_sent; i++) {
		free(r->sent[i].payload);
		cJSON_Delete(r->sent[i].doc);
	}
	free(r->rows);
	free(r->sent);
}

static double num(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	return cJSON_IsNumber(v) ? v->valuedouble : -1;
}

static const char *str(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static int is_null(const cJSON *o, const char *k)
{
	return cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(o, k));
}

static size_t n_op(const struct rec *r, enum vgl_store_alarm_op op)
{
	size_t n = 0;

	for (size_t i = 0; i < r->n_rows; i++)
		n += r->rows[i].op == op;
	return n;
}

/* The k-th row of op about alarm id (id < 0: any alarm). */
static const cJSON *nth_row(const struct rec *r, enum vgl_store_alarm_op op, int64_t id, size_t k)
{
	for (size_t i = 0; i < r->n_rows; i++) {
		const cJSON *d = r->rows[i].doc;

		if (r->rows[i].op != op)
			continue;
		if (id >= 0 && (int64_t)num(d, op == VGL_SA_OUTBOX_TRY ? "id" : "alarm_id") != id)
			continue;
		if (k-- == 0)
			return d;
	}
	return NULL;
}

static size_t n_rows_of(const struct rec *r, enum vgl_store_alarm_op op, int64_t id)
{
	size_t n = 0;

	while (nth_row(r, op, id, n))
		n++;
	return n;
}

/* Every OUTBOX row written so far is durable now. */
static void commit_all(struct rec *r, struct vgl_alarms *a)
{
	for (; r->committed_upto < r->n_rows; r->committed_upto++)
		if (r->rows[r->committed_upto].op == VGL_SA_OUTBOX)
			vgl_alarms_committed(a, (int64_t)num(r->rows[r->committed_upto].doc, "id"));
}

/* Every attempt not yet answered succeeded. */
static void deliver_all(struct rec *r, struct vgl_alarms *a, int64_t now)
{
	for (size_t i = 0; i < r->n_sent; i++)
		if (!r->sent[i].answered) {
			r->sent[i].answered = 1;
			vgl_alarms_delivered(a, r->sent[i].outbox_id, 1, NULL, now);
		}
}

/* tick, commit, tick (so a row written at now goes out at now), deliver */
static void step(struct rec *r, struct vgl_alarms *a, int64_t now)
{
	vgl_alarms_tick(a, now);
	commit_all(r, a);
	vgl_alarms_tick(a, now);
	deliver_all(r, a, now);
}

static size_t n_sent_for(const struct rec *r, int64_t alarm_id, const char *event)
{
	size_t n = 0;

	for (size_t i = 0; i < r->n_sent; i++)
		if ((int64_t)num(r->sent[i].doc, "id") == alarm_id &&
		    (!event || strcmp(str(r->sent[i].doc, "event"), event) == 0))
			n++;
	return n;
}

static const struct sent *sent_key(const struct rec *r, const char *key)
{
	for (size_t i = 0; i < r->n_sent; i++)
		if (str(r->sent[i].doc, "dedup_key") && strcmp(str(r->sent[i].doc, "dedup_key"), key) == 0)
			return &r->sent[i];
	return NULL;
}

/* ---- the config --------------------------------------------------------------- */

struct fx {
	struct vgl_conf c;
	struct vgl_conf_host hosts[N_HOSTS];
	char names[N_HOSTS][16];
	int64_t ids[N_HOSTS];
	struct vgl_alarm_conf ac;
	struct vgl_esc_policy pol;
	struct vgl_esc_step steps[3];
	char *ch_oncall[1], *ch_secondary[1], *ch_lead[1];
	struct rec rec;
	struct vgl_alarm_io io;
	struct vgl_alarms *a;
};

/* hosts: sw0 (a switch), h1 .. h20 behind it when uplinks is set */
static void fx_conf(struct fx *f, int uplinks)
{
	memset(f, 0, sizeof(*f));
	for (size_t i = 0; i < N_HOSTS; i++) {
		snprintf(f->names[i], sizeof(f->names[i]), i ? "h%zu" : "sw0", i);
		f->hosts[i].name = f->names[i];
		f->hosts[i].site = "dc1";
		if (i && uplinks) {
			f->hosts[i].has_uplink = 1;
			f->hosts[i].uplink.host = 0;
		}
		f->ids[i] = HOST_ID(i);
	}
	f->c.hosts = f->hosts;
	f->c.n_hosts = N_HOSTS;
	f->c.alarm_conf = &f->ac;
	f->ac.dependency_wait_ms = 60000;
	f->ac.flap_changes = 6;
	f->ac.flap_window_ms = 600000;
	f->ac.retry_max_ms = 30000;
	f->ch_oncall[0] = "oncall";
	f->ch_secondary[0] = "secondary";
	f->ch_lead[0] = "lead";
	f->steps[0] = (struct vgl_esc_step){ .after_ms = 0, .repeat_ms = 60000,
					     .notify = f->ch_oncall, .n_notify = 1 };
	f->steps[1] = (struct vgl_esc_step){ .after_ms = 900000, .notify = f->ch_secondary,
					     .n_notify = 1 };
	f->steps[2] = (struct vgl_esc_step){ .after_ms = 14400000, .until_clear = 1,
					     .notify = f->ch_lead, .n_notify = 1 };
	f->pol = (struct vgl_esc_policy){ .name = "default", .steps = f->steps, .n_steps = 3 };
	f->ac.policies = &f->pol;
	f->ac.n_policies = 1;
	f->io = (struct vgl_alarm_io){ .store = fake_store, .send = fake_send, .ctx = &f->rec };
}

static void fx_start(struct fx *f, const struct vgl_store_alarm_state *st)
{
	ASSERT_EQ(vgl_alarms_new(&f->c, f->ids, st, &f->io, &f->a), 0);
}

static void fx_free(struct fx *f)
{
	vgl_alarms_free(f->a);
	rec_free(&f->rec);
}

static int64_t raise_(struct fx *f, uint32_t host, enum vgl_alarm_kind kind, const char *rule,
		      int64_t ts)
{
	struct vgl_alarm_raise r = { .host = host, .kind = kind, .rule = rule, .ts_ms = ts };

	return vgl_alarms_raise(f->a, &r);
}

/* ---- the outbox --------------------------------------------------------------- */

TEST(alarm_mgr_raise_commit_send_once)
{
	struct fx f;
	const cJSON *d;
	char key[64];
	int64_t id, ob;

	fx_conf(&f, 1);       /* h1 behind sw0: it waits for sw0 to explain it */
	fx_start(&f, NULL);
	id = raise_(&f, 1, VGL_AK_RULE, "hot", T0);
	ASSERT_GT(id, 0);
	ASSERT_EQ(raise_(&f, 1, VGL_AK_RULE, "hot", T0 + 1), 0);        /* active already */
	ASSERT(vgl_alarms_is_active(f.a, 1, VGL_AK_RULE, "hot"));
	ASSERT_EQ(n_op(&f.rec, VGL_SA_RAISE), 1);
	d = nth_row(&f.rec, VGL_SA_RAISE, id, 0);
	ASSERT(d != NULL);
	ASSERT_EQ((int64_t)num(d, "host_id"), HOST_ID(1));
	ASSERT_STREQ(str(d, "kind"), "rule");
	ASSERT_STREQ(str(d, "rule"), "hot");
	ASSERT_STREQ(str(d, "summary"), "hot on h1");
	ASSERT_STREQ(str(d, "site"), "dc1");
	ASSERT_STREQ(str(d, "policy"), "default");
	ASSERT_EQ((int64_t)num(d, "raised_ms"), T0);

	/* within the dependency wait: no outbox row, nothing sent */
	vgl_alarms_tick(f.a, T0 + S(30));
	commit_all(&f.rec, f.a);
	vgl_alarms_tick(f.a, T0 + S(59));
	ASSERT_EQ(n_op(&f.rec, VGL_SA_OUTBOX), 0);
	ASSERT_EQ(f.rec.n_sent, 0);
	/* the wait is over: the row, but not sent before it is committed */
	vgl_alarms_tick(f.a, T0 + S(60));
	ASSERT_EQ(n_op(&f.rec, VGL_SA_OUTBOX), 1);
	d = nth_row(&f.rec, VGL_SA_OUTBOX, id, 0);
	snprintf(key, sizeof(key), "vigil:%lld:0:0", (long long)id);
	ASSERT_STREQ(str(d, "dedup_key"), key);
	ASSERT_STREQ(str(d, "channel"), "oncall");
	ASSERT_STREQ(str(d, "event"), "trigger");
	ob = (int64_t)num(d, "id");
	vgl_alarms_tick(f.a, T0 + S(61));
	ASSERT_EQ(f.rec.n_sent, 0);
	commit_all(&f.rec, f.a);
	vgl_alarms_tick(f.a, T0 + S(62));
	ASSERT_EQ(f.rec.n_sent, 1);
	ASSERT_EQ(f.rec.sent[0].outbox_id, ob);
	ASSERT_STREQ(f.rec.sent[0].channel, "oncall");
	ASSERT_CONTAINS(f.rec.sent[0].payload, key);
	ASSERT_STREQ(str(f.rec.sent[0].doc, "dedup_key"), key);
	ASSERT_STREQ(f.rec.sent[0].payload, str(d, "payload"));
	/* in flight: not sent again */
	vgl_alarms_tick(f.a, T0 + S(63));
	ASSERT_EQ(f.rec.n_sent, 1);
	vgl_alarms_delivered(f.a, ob, 1, NULL, T0 + S(64));
	ASSERT_EQ(n_op(&f.rec, VGL_SA_OUTBOX_TRY), 1);
	d = nth_row(&f.rec, VGL_SA_OUTBOX_TRY, ob, 0);
	ASSERT_EQ((int64_t)num(d, "delivered_ms"), T0 + S(64));
	ASSERT_EQ((int64_t)num(d, "attempts"), 1);
	ASSERT(is_null(d, "last_error"));
	/* delivered: never again */
	for (int s = 65; s < 110; s += 5)
		vgl_alarms_tick(f.a, T0 + S(s));
	ASSERT_EQ(f.rec.n_sent, 1);
	fx_free(&f);
}

TEST(alarm_mgr_retry_backoff)
{
	static const int64_t backoff[] = { 1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000 };
	struct fx f;
	int64_t id, ob, now;
	char *payload;

	fx_conf(&f, 0);
	fx_start(&f, NULL);
	id = raise_(&f, 1, VGL_AK_RULE, "hot", T0);
	now = T0 + S(60);
	vgl_alarms_tick(f.a, now);
	commit_all(&f.rec, f.a);
	vgl_alarms_acked(f.a, id, now, "ops");  /* no repeats to muddle the count */
	vgl_alarms_tick(f.a, now);
	ASSERT_EQ(f.rec.n_sent, 1);
	ob = f.rec.sent[0].outbox_id;
	ASSERT((payload = strdup(f.rec.sent[0].payload)) != NULL);
	for (size_t k = 0; k < sizeof(backoff) / sizeof(backoff[0]); k++) {
		const cJSON *d;

		vgl_alarms_delivered(f.a, ob, 0, "HTTP 503", now);
		d = nth_row(&f.rec, VGL_SA_OUTBOX_TRY, ob, k);
		ASSERT(d != NULL);
		ASSERT_EQ((int64_t)num(d, "attempts"), (int64_t)k + 1);
		ASSERT(is_null(d, "delivered_ms"));
		ASSERT_STREQ(str(d, "last_error"), "HTTP 503");
		if ((int64_t)num(d, "next_ms") != now + backoff[k])
			fprintf(stderr, "attempt %zu: next in %lld ms, expected %lld\n", k + 1,
				(long long)((int64_t)num(d, "next_ms") - now),
				(long long)backoff[k]);
		ASSERT_EQ((int64_t)num(d, "next_ms"), now + backoff[k]);
		/* not before its time */
		vgl_alarms_tick(f.a, now + backoff[k] - 1);
		ASSERT_EQ(f.rec.n_sent, k + 1);
		now += backoff[k];
		vgl_alarms_tick(f.a, now);
		ASSERT_EQ(f.rec.n_sent, k + 2);
		ASSERT_EQ(f.rec.sent[k + 1].outbox_id, ob);
		ASSERT_STREQ(f.rec.sent[k + 1].channel, "oncall");
		ASSERT_STREQ(f.rec.sent[k + 1].payload, payload);
	}
	vgl_alarms_delivered(f.a, ob, 1, NULL, now);
	vgl_alarms_tick(f.a, now + S(60));
	ASSERT_EQ(f.rec.n_sent, sizeof(backoff) / sizeof(backoff[0]) + 1);
	ASSERT_EQ(n_op(&f.rec, VGL_SA_OUTBOX), 1);
	free(payload);
	fx_free(&f);
}

/* ---- escalation and clear ------------------------------------------------------ */

TEST(alarm_mgr_escalation_ack)
{
	struct fx f;
	int64_t id;
	char key[64];

	fx_conf(&f, 0);
	f.ac.dependency_wait_ms = 0;
	fx_start(&f, NULL);
	id = raise_(&f, 1, VGL_AK_RULE, "hot", T0);
	for (int64_t t = 0; t <= MIN(5 * 60); t += S(10)) {
		if (t == MIN(10))
			vgl_alarms_acked(f.a, id, T0 + t, "alice");
		step(&f.rec, f.a, T0 + t);
	}
	/* step 0 at 0, repeated every minute until the ack at 10 min */
	for (int k = 0; k < 10; k++) {
		const struct sent *s;

		snprintf(key, sizeof(key), "vigil:%lld:0:%d", (long long)id, k);
		s = sent_key(&f.rec, key);
		if (!s)
			fprintf(stderr, "missing %s\n", key);
		ASSERT(s != NULL);
		ASSERT_STREQ(s->channel, "oncall");
		ASSERT_EQ((int64_t)num(s->doc, "repeat"), k);
	}
	snprintf(key, sizeof(key), "vigil:%lld:0:10", (long long)id);
	ASSERT(sent_key(&f.rec, key) == NULL);
	/* step 1 (until ack) never came */
	snprintf(key, sizeof(key), "vigil:%lld:1:0", (long long)id);
	ASSERT(sent_key(&f.rec, key) == NULL);
	/* step 2 (until clear) at 4 h all the same, once */
	snprintf(key, sizeof(key), "vigil:%lld:2:0", (long long)id);
	ASSERT(sent_key(&f.rec, key) != NULL);
	ASSERT_STREQ(sent_key(&f.rec, key)->channel, "lead");
	ASSERT_STREQ(str(sent_key(&f.rec, key)->doc, "state"), "acknowledged");
	ASSERT_EQ(n_sent_for(&f.rec, id, "trigger"), 11);
	ASSERT_EQ(n_op(&f.rec, VGL_SA_OUTBOX), 11);
	/* when it went out: the 4 h step's row was written at exactly 4 h */
	for (size_t k = 0; nth_row(&f.rec, VGL_SA_OUTBOX, id, k); k++) {
		const cJSON *d = nth_row(&f.rec, VGL_SA_OUTBOX, id, k);

		if ((int)num(d, "step") == 2)
			ASSERT_EQ((int64_t)num(d, "created_ms"), T0 + MIN(240));
		else
			ASSERT_EQ((int64_t)num(d, "created_ms"), T0 + MIN((int64_t)num(d, "repeat")));
	}
	fx_free(&f);
}

TEST(alarm_mgr_escalation_unacked_and_clear)
{
	struct fx f;
	int64_t id;
	char key[64];
	size_t n_trig;
	const cJSON *d;

	fx_conf(&f, 0);
	f.ac.dependency_wait_ms = 0;
	fx_start(&f, NULL);
	id = raise_(&f, 1, VGL_AK_RULE, "hot", T0);
	for (int64_t t = 0; t <= MIN(16); t += S(10))
		step(&f.rec, f.a, T0 + t);
	/* not acked: step 1 at 15 min */
	snprintf(key, sizeof(key), "vigil:%lld:1:0", (long long)id);
	ASSERT(sent_key(&f.rec, key) != NULL);
	ASSERT_STREQ(sent_key(&f.rec, key)->channel, "secondary");
	for (size_t k = 0; (d = nth_row(&f.rec, VGL_SA_OUTBOX, id, k)); k++)
		if ((int)num(d, "step") == 1)
			ASSERT_EQ((int64_t)num(d, "created_ms"), T0 + MIN(15));
	snprintf(key, sizeof(key), "vigil:%lld:0:16", (long long)id);
	ASSERT(sent_key(&f.rec, key) != NULL);
	n_trig = n_sent_for(&f.rec, id, "trigger");
	ASSERT_EQ(n_trig, 17 + 1);              /* step 0 x17 (0..16 min), step 1 once */

	/* clear: a CLEAR row, a resolve to oncall and secondary, not lead */
	ASSERT_EQ(vgl_alarms_clear(f.a, 1, VGL_AK_RULE, "hot", T0 + MIN(17)), 1);
	ASSERT_EQ(vgl_alarms_is_active(f.a, 1, VGL_AK_RULE, "hot"), 0);
	ASSERT_EQ(vgl_alarms_clear(f.a, 1, VGL_AK_RULE, "hot", T0 + MIN(17)), 0);
	d = nth_row(&f.rec, VGL_SA_CLEAR, id, 0);
	ASSERT(d != NULL);
	ASSERT_EQ((int64_t)num(d, "cleared_ms"), T0 + MIN(17));
	step(&f.rec, f.a, T0 + MIN(17));
	step(&f.rec, f.a, T0 + MIN(18));
	ASSERT_EQ(n_sent_for(&f.rec, id, "trigger"), n_trig);
	ASSERT_EQ(n_sent_for(&f.rec, id, "resolve"), 2);
	snprintf(key, sizeof(key), "vigil:%lld:resolve", (long long)id);
	{
		int oncall = 0, secondary = 0;

		for (size_t i = 0; i < f.rec.n_sent; i++) {
			const cJSON *p = f.rec.sent[i].doc;

			if (strcmp(str(p, "event"), "resolve") != 0)
				continue;
			ASSERT_STREQ(str(p, "dedup_key"), key);
			ASSERT_STREQ(str(p, "state"), "cleared");
			oncall += strcmp(f.rec.sent[i].channel, "oncall") == 0;
			secondary += strcmp(f.rec.sent[i].channel, "secondary") == 0;
		}
		ASSERT_EQ(oncall, 1);
		ASSERT_EQ(secondary, 1);
	}
	/* and nothing more for it, ever */
	for (int64_t t = MIN(19); t <= MIN(300); t += MIN(1))
		step(&f.rec, f.a, T0 + t);
	ASSERT_EQ(n_sent_for(&f.rec, id, NULL), n_trig + 2);
	fx_free(&f);
}

/* ---- dependency suppression ----------------------------------------------------- */

TEST(alarm_mgr_dependency_suppression)
{
	struct fx f;
	int64_t sw, ids[N_HOSTS] = { 0 };
	struct vgl_alarms_stats st;
	const cJSON *d, *det;
	const struct sent *s = NULL;

	fx_conf(&f, 1);
	fx_start(&f, NULL);
	/* h1..h10 first, the switch at 10 s, h11..h20 after: all within 60 s */
	for (uint32_t h = 1; h <= 10; h++)
		ASSERT_GT(ids[h] = raise_(&f, h, VGL_AK_AVAIL, "unreachable", T0 + S(h - 1)), 0);
	ASSERT_GT(sw = raise_(&f, 0, VGL_AK_AVAIL, "unreachable", T0 + S(10)), 0);
	for (uint32_t h = 11; h <= 20; h++)
		ASSERT_GT(ids[h] = raise_(&f, h, VGL_AK_AVAIL, "unreachable", T0 + S(h)), 0);
	for (int64_t t = 0; t <= S(125); t += S(1))
		step(&f.rec, f.a, T0 + t);
	/* one page: the switch's, once (its repeat is due at 130 s) */
	if (f.rec.n_sent != 1)
		for (size_t i = 0; i < f.rec.n_sent; i++)
			fprintf(stderr, "sent: %s %s\n", f.rec.sent[i].channel,
				str(f.rec.sent[i].doc, "dedup_key"));
	ASSERT_EQ(f.rec.n_sent, 1);
	s = &f.rec.sent[0];
	ASSERT_EQ((int64_t)num(s->doc, "id"), sw);
	ASSERT_EQ((int64_t)num(nth_row(&f.rec, VGL_SA_OUTBOX, sw, 0), "created_ms"), T0 + S(70));
	det = cJSON_GetObjectItemCaseSensitive(s->doc, "details");
	ASSERT(cJSON_IsObject(det));
	ASSERT_EQ((int64_t)num(det, "affected_count"), 20);
	ASSERT_EQ(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(det, "affected")), 20);
	/* the 20: suppressed by the switch's alarm, each recorded so */
	for (uint32_t h = 1; h <= 20; h++) {
		int found = 0;

		d = nth_row(&f.rec, VGL_SA_RAISE, ids[h], 0);
		ASSERT(d != NULL);
		if (h > 10) {
			/* the switch was down already when it was raised */
			ASSERT_EQ((int64_t)num(d, "suppressed_by"), sw);
			found = 1;
		} else {
			ASSERT_EQ((int64_t)num(d, "suppressed_by"), -1);
			for (size_t k = 0; (d = nth_row(&f.rec, VGL_SA_UPDATE, ids[h], k)); k++)
				if ((int64_t)num(d, "suppressed_by") == sw) {
					found = 1;
					ASSERT_EQ((int64_t)num(cJSON_GetObjectItemCaseSensitive(d, "log"),
							       "ts_ms"),
						  T0 + S(h - 1) + S(60));
				}
		}
		ASSERT(found);
		ASSERT_EQ(n_rows_of(&f.rec, VGL_SA_OUTBOX, ids[h]), 0);
	}
	vgl_alarms_get_stats(f.a, &st);
	ASSERT_EQ(st.active, 21);
	ASSERT_EQ(st.suppressed, 20);
	fx_free(&f);
}

/* ---- flapping --------------------------------------------------------------------- */

TEST(alarm_mgr_flapping)
{
	struct fx f;
	int64_t fl = 0, last = 0, id;
	size_t n_flapping = 0;
	const cJSON *d;

	fx_conf(&f, 1);
	fx_start(&f, NULL);
	/* raise at 0, 20, 40, 60, 80, 100; clear at 10, 30, ... 90 */
	for (int k = 0; k < 6; k++) {
		int64_t t = T0 + S(20 * k);

		ASSERT_GT(id = raise_(&f, 1, VGL_AK_RULE, "hot", t), 0);
		last = id;
		d = nth_row(&f.rec, VGL_SA_RAISE, id, 0);
		if (k < 3) {
			/* 1..3 raises and their clears: 6 changes, not more than 6 */
			ASSERT_EQ(vgl_alarms_is_active(f.a, 1, VGL_AK_FLAPPING, "hot"), 0);
			ASSERT_EQ((int64_t)num(d, "suppressed_by"), -1);
		} else {
			ASSERT(vgl_alarms_is_active(f.a, 1, VGL_AK_FLAPPING, "hot"));
			if (!fl)
				for (size_t i = 0; (d = nth_row(&f.rec, VGL_SA_RAISE, -1, i)); i++)
					if (str(d, "kind") && strcmp(str(d, "kind"), "flapping") == 0)
						fl = (int64_t)num(d, "alarm_id");
			ASSERT_GT(fl, 0);
			ASSERT_EQ((int64_t)num(nth_row(&f.rec, VGL_SA_RAISE, id, 0), "suppressed_by"),
				  fl);
		}
		step(&f.rec, f.a, t);
		if (k < 5) {
			ASSERT_EQ(vgl_alarms_clear(f.a, 1, VGL_AK_RULE, "hot", t + S(10)), 1);
			step(&f.rec, f.a, t + S(10));
		}
	}
	for (size_t i = 0; (d = nth_row(&f.rec, VGL_SA_RAISE, -1, i)); i++)
		if (str(d, "kind") && strcmp(str(d, "kind"), "flapping") == 0) {
			n_flapping++;
			ASSERT_STREQ(str(d, "rule"), "hot");
			ASSERT_EQ((int64_t)num(d, "host_id"), HOST_ID(1));
		}
	ASSERT_EQ(n_flapping, 1);
	/* the flapping alarm pages (after its dependency wait), not the raises */
	for (int64_t t = S(110); t < S(100) + 600000; t += S(10))
		step(&f.rec, f.a, T0 + t);
	ASSERT_GT(n_sent_for(&f.rec, fl, "trigger"), 0);
	for (size_t i = 0; i < f.rec.n_sent; i++)
		ASSERT_EQ((int64_t)num(f.rec.sent[i].doc, "id"), fl);
	ASSERT(vgl_alarms_is_active(f.a, 1, VGL_AK_FLAPPING, "hot"));
	ASSERT(nth_row(&f.rec, VGL_SA_CLEAR, fl, 0) == NULL);
	/* quiet for a whole window since the last raise (100 s): cleared */
	step(&f.rec, f.a, T0 + S(100) + 600000);
	d = nth_row(&f.rec, VGL_SA_CLEAR, fl, 0);
	ASSERT(d != NULL);
	ASSERT_EQ((int64_t)num(d, "cleared_ms"), T0 + S(100) + 600000);
	ASSERT_EQ(vgl_alarms_is_active(f.a, 1, VGL_AK_FLAPPING, "hot"), 0);
	ASSERT_EQ(n_sent_for(&f.rec, fl, "resolve"), 1);
	/* the raise still active stands on its own again */
	ASSERT(vgl_alarms_is_active(f.a, 1, VGL_AK_RULE, "hot"));
	d = NULL;
	for (size_t k = 0; nth_row(&f.rec, VGL_SA_UPDATE, last, k); k++)
		d = nth_row(&f.rec, VGL_SA_UPDATE, last, k);
	ASSERT(d != NULL);
	ASSERT_EQ((int64_t)num(d, "suppressed_by"), -1);
	step(&f.rec, f.a, T0 + S(100) + 600000 + S(1));
	ASSERT_GT(n_sent_for(&f.rec, last, "trigger"), 0);
	fx_free(&f);
}

/* ---- silences ----------------------------------------------------------------------- */

TEST(alarm_mgr_silence)
{
	struct fx f;
	struct vgl_store_silence s = { .id = 7, .start_ms = T0 - S(1), .end_ms = T0 + S(300),
				       .host = "h1", .reason = "swap PSU" };
	int64_t id, other;
	const cJSON *d;
	char key[64];

	fx_conf(&f, 0);
	fx_start(&f, NULL);
	vgl_alarms_control_begin(f.a);
	ASSERT_EQ(vgl_alarms_silence(f.a, &s), 0);
	vgl_alarms_control_end(f.a);
	id = raise_(&f, 1, VGL_AK_RULE, "hot", T0);
	other = raise_(&f, 2, VGL_AK_RULE, "hot", T0);         /* h2: not covered */
	d = nth_row(&f.rec, VGL_SA_RAISE, id, 0);
	ASSERT_STREQ(str(d, "muted"), "silence:7");
	ASSERT(str(nth_row(&f.rec, VGL_SA_RAISE, other, 0), "muted") == NULL);
	for (int64_t t = 0; t < S(300); t += S(10))
		step(&f.rec, f.a, T0 + t);
	ASSERT_EQ(n_rows_of(&f.rec, VGL_SA_OUTBOX, id), 0);
	ASSERT_EQ(n_sent_for(&f.rec, id, NULL), 0);
	ASSERT_GT(n_sent_for(&f.rec, other, "trigger"), 0);
	/* the silence is over: unmuted, and it escalates from step 0 */
	step(&f.rec, f.a, T0 + S(300));
	d = NULL;
	for (size_t k = 0; nth_row(&f.rec, VGL_SA_UPDATE, id, k); k++)
		d = nth_row(&f.rec, VGL_SA_UPDATE, id, k);
	ASSERT(d != NULL);
	ASSERT(str(d, "muted") == NULL);
	snprintf(key, sizeof(key), "vigil:%lld:0:0", (long long)id);
	ASSERT(sent_key(&f.rec, key) != NULL);
	ASSERT(is_null(sent_key(&f.rec, key)->doc, "muted"));
	fx_free(&f);
}

TEST(alarm_mgr_silence_withdrawn)
{
	struct fx f;
	struct vgl_store_silence s = { .id = 9, .start_ms = T0 - S(1), .end_ms = T0 + MIN(60),
				       .site = "dc1" };
	int64_t id;
	char key[64];

	fx_conf(&f, 0);
	fx_start(&f, NULL);
	vgl_alarms_control_begin(f.a);
	vgl_alarms_silence(f.a, &s);
	vgl_alarms_control_end(f.a);
	id = raise_(&f, 3, VGL_AK_RULE, "hot", T0);
	for (int64_t t = 0; t <= S(120); t += S(10))
		step(&f.rec, f.a, T0 + t);
	ASSERT_EQ(n_sent_for(&f.rec, id, NULL), 0);
	/* the operators' set no longer has it: the next tick pages */
	vgl_alarms_control_begin(f.a);
	vgl_alarms_control_end(f.a);
	step(&f.rec, f.a, T0 + S(130));
	snprintf(key, sizeof(key), "vigil:%lld:0:0", (long long)id);
	ASSERT(sent_key(&f.rec, key) != NULL);
	fx_free(&f);
}

/* ---- restore ------------------------------------------------------------------------ */

TEST(alarm_mgr_restore)
{
	struct fx f;
	struct vgl_store_alarm_state st = { .max_alarm_id = 41, .max_outbox_id = 99 };
	const int64_t now = T0 + MIN(60);
	struct vgl_store_active_alarm row = {
		.id = 40, .host_id = HOST_ID(1), .kind = "rule", .rule = "hot",
		.severity = "major", .summary = "hot on h1", .labels = "{}", .details = "{}",
		.site = "dc1", .policy = "default", .raised_ms = now - MIN(5),
		.last_step = 0, .last_repeat = 0,
	};
	const char *payload = "{\"id\":40,\"dedup_key\":\"vigil:40:0:0\",\"event\":\"trigger\"}";
	struct vgl_store_owed owed = {
		.id = 99, .alarm_id = 40, .host_id = HOST_ID(1), .channel = "oncall",
		.event = "trigger", .dedup_key = "vigil:40:0:0", .payload = payload,
		.step = 0, .repeat = 0, .attempts = 2, .next_ms = now,
	};
	int64_t id;
	const cJSON *d;

	fx_conf(&f, 0);
	fx_start(&f, &st);
	ASSERT_EQ(vgl_alarms_restore(f.a, &row, now), 0);
	ASSERT_EQ(vgl_alarms_restore_owed(f.a, &owed), 0);
	ASSERT(vgl_alarms_is_active(f.a, 1, VGL_AK_RULE, "hot"));
	/* owed and committed already: sent at the next tick, no new row */
	vgl_alarms_tick(f.a, now);
	ASSERT_EQ(f.rec.n_sent, 1);
	ASSERT_EQ(f.rec.sent[0].outbox_id, 99);
	ASSERT_STREQ(f.rec.sent[0].channel, "oncall");
	ASSERT_STREQ(f.rec.sent[0].payload, payload);
	ASSERT_EQ(n_op(&f.rec, VGL_SA_OUTBOX), 0);
	ASSERT_EQ(n_op(&f.rec, VGL_SA_RAISE), 0);
	vgl_alarms_delivered(f.a, 99, 1, NULL, now);
	d = nth_row(&f.rec, VGL_SA_OUTBOX_TRY, 99, 0);
	ASSERT(d != NULL);
	ASSERT_EQ((int64_t)num(d, "attempts"), 3);
	/* step 0 was fired before the restart: its repeat goes on from now */
	step(&f.rec, f.a, now + S(30));
	ASSERT_EQ(f.rec.n_sent, 1);
	step(&f.rec, f.a, now + S(60));
	ASSERT(sent_key(&f.rec, "vigil:40:0:1") != NULL);
	ASSERT_EQ((int64_t)num(nth_row(&f.rec, VGL_SA_OUTBOX, 40, 0), "id"), 100);
	/* the restored one is active: no duplicate raise; a new alarm's id
	 * comes after the database's largest */
	ASSERT_EQ(raise_(&f, 1, VGL_AK_RULE, "hot", now + S(61)), 0);
	id = raise_(&f, 2, VGL_AK_RULE, "hot", now + S(61));
	ASSERT_EQ(id, 42);
	/* a clear resolves to the channel the restored step had */
	ASSERT_EQ(vgl_alarms_clear(f.a, 1, VGL_AK_RULE, "hot", now + S(62)), 1);
	step(&f.rec, f.a, now + S(62));
	ASSERT(sent_key(&f.rec, "vigil:40:resolve") != NULL);
	ASSERT_STREQ(sent_key(&f.rec, "vigil:40:resolve")->channel, "oncall");
	fx_free(&f);
}

/* The root (the switch) recovers while a host behind it stays down: the
 * host's alarm is no longer explained by anything and must page as any
 * alarm (as flaps_expire does for the alarms a flapping alarm stood for),
 * after a dependency wait of its own. */
TEST(alarm_mgr_root_clear_releases_children)
{
	struct fx f;
	int64_t sw, h1;

	fx_conf(&f, 1);
	fx_start(&f, NULL);
	sw = raise_(&f, 0, VGL_AK_AVAIL, "unreachable", T0);
	h1 = raise_(&f, 1, VGL_AK_AVAIL, "unreachable", T0 + S(1));
	for (int64_t t = 0; t <= S(90); t += S(10))
		step(&f.rec, f.a, T0 + t);
	ASSERT_EQ(n_sent_for(&f.rec, h1, "trigger"), 0);       /* explained by sw */
	ASSERT_EQ(vgl_alarms_clear(f.a, 0, VGL_AK_AVAIL, NULL, T0 + S(95)), 1);
	for (int64_t t = S(100); t <= MIN(30); t += S(10))
		step(&f.rec, f.a, T0 + t);
	ASSERT_EQ(n_sent_for(&f.rec, sw, "resolve"), 1);
	ASSERT(vgl_alarms_is_active(f.a, 1, VGL_AK_AVAIL, NULL));
	ASSERT_GT(n_sent_for(&f.rec, h1, "trigger"), 0);       /* on its own now */
	fx_free(&f);
}

/* A host with nothing above or below it has nothing to wait for: its
 * alarm pages at the first tick. */
TEST(alarm_mgr_standalone_host_pages_at_once)
{
	struct fx f;
	int64_t id;

	fx_conf(&f, 0);
	fx_start(&f, NULL);
	id = raise_(&f, 1, VGL_AK_RULE, "hot", T0);
	ASSERT_GT(id, 0);
	step(&f.rec, f.a, T0);
	ASSERT_EQ(n_sent_for(&f.rec, id, "trigger"), 1);
	fx_free(&f);
}

static void count_paged(void *ctx, const char *channel, const char *snapshot)
{
	int *n = ctx;

	if (strcmp(channel, "oncall") == 0 && strstr(snapshot, "\"event\":\"trigger\""))
		(*n)++;
}

/* What Alertmanager must hear again: the channels an active alarm's
 * triggers reached, and nothing once it cleared. */
TEST(alarm_mgr_each_paged_for_refresh)
{
	struct fx f;
	int64_t id;
	int n = 0;

	fx_conf(&f, 0);
	fx_start(&f, NULL);
	id = raise_(&f, 1, VGL_AK_RULE, "hot", T0);
	vgl_alarms_each_paged(f.a, count_paged, &n);
	ASSERT_EQ(n, 0);                /* not paged yet */
	step(&f.rec, f.a, T0);
	vgl_alarms_each_paged(f.a, count_paged, &n);
	ASSERT_EQ(n, 1);
	ASSERT_EQ(vgl_alarms_clear(f.a, 1, VGL_AK_RULE, "hot", T0 + S(5)), 1);
	n = 0;
	vgl_alarms_each_paged(f.a, count_paged, &n);
	ASSERT_EQ(n, 0);
	ASSERT_GT(id, 0);
	fx_free(&f);
}
