#include <math.h>

#include <cjson/cJSON.h>

#include "rules/avail.h"
#include "rules/expr.h"
#include "test/test.h"

/* 2026-11-05T10:00:00.000Z: observation times below are offsets from it. */
#define T0 1793872800000LL

/* ---- fixtures: a hand-built profile ------------------------------------ */

static struct vgl_conf_enum if_states[] = { { "up", 1 }, { "down", 2 } };

enum { M_IF, M_TEMP, N_M };

/* One source delivering both metrics, as a plain SNMP host has. */
static uint32_t all_metrics[N_M] = { M_IF, M_TEMP };

struct fixture {
	struct vgl_conf_source src;
	struct vgl_conf_metric metrics[N_M];
	struct vgl_conf_cond conds[4];
	struct vgl_conf_profile p;
};

static void fx_init(struct fixture *f)
{
	memset(f, 0, sizeof(*f));
	f->metrics[M_IF] = (struct vgl_conf_metric){ .name = "ifOperStatus", .enums = if_states,
						     .n_enums = 2 };
	f->metrics[M_TEMP] = (struct vgl_conf_metric){ .name = "temp" };
	f->p.metrics = f->metrics;
	f->p.n_metrics = N_M;
	f->p.conds = f->conds;
	f->src = (struct vgl_conf_source){ .name = "snmp", .metrics = all_metrics,
					   .n_metrics = N_M };
	f->p.sources = &f->src;
	f->p.n_sources = 1;
}

static void fx_unreach(struct fixture *f, const char *name, const char *cause, uint32_t k)
{
	f->conds[f->p.n_conds++] = (struct vgl_conf_cond){
		.name = (char *)name, .cause = (char *)cause, .kind = VGL_COND_UNREACHABLE,
		.failures = k,
	};
}

static void fx_expr(struct fixture *f, const char *name, const char *cause, const char *text,
		    uint32_t for_ms)
{
	struct vgl_conf_cond *c = &f->conds[f->p.n_conds++];
	struct vgl_expr_error err;

	*c = (struct vgl_conf_cond){ .name = (char *)name, .cause = (char *)cause,
				     .kind = VGL_COND_EXPR, .expr_text = (char *)text,
				     .for_ms = for_ms, .reads = 1 /* the one source */ };
	if (vgl_expr_parse(text, f->metrics, N_M, &c->expr, &err) != 0) {
		fprintf(stderr, "fixture expr '%s': %s\n", text, err.msg);
		ASSERT(0);
	}
}

static void fx_free(struct fixture *f)
{
	for (size_t i = 0; i < f->p.n_conds; i++)
		vgl_expr_free(f->conds[i].expr);
}

/* ---- recording events ---------------------------------------------------- */

struct rec_event {
	enum vgl_avail_event_kind kind;
	int64_t ts;
	char cause[32], rule[32];
	char evidence[1024];
};

struct recorder {
	struct rec_event ev[64];
	size_t n;
};

static void on_event(void *ctx, const struct vgl_avail_event *e)
{
	struct recorder *r = ctx;
	struct rec_event *x;
	cJSON *j;

	ASSERT(r->n < sizeof(r->ev) / sizeof(r->ev[0]));
	ASSERT(e->cause && e->rule && e->evidence);
	j = cJSON_Parse(e->evidence);   /* evidence is always valid JSON */
	ASSERT(j != NULL);
	cJSON_Delete(j);
	x = &r->ev[r->n++];
	x->kind = e->kind;
	x->ts = e->ts_ms;
	snprintf(x->cause, sizeof(x->cause), "%s", e->cause);
	snprintf(x->rule, sizeof(x->rule), "%s", e->rule);
	snprintf(x->evidence, sizeof(x->evidence), "%s", e->evidence);
}

/* One observation: poll quality, then ifOperStatus and temp (NAN = absent). */
struct obs {
	int64_t t;              /* offset from T0 */
	enum vgl_quality q;
	double ifs, temp;
};

#define UP 1
#define DOWN 2
#define NS NAN              /* metric missing (absent) */
#define OK_(t, i, tp) { (t), VGL_Q_OK, (i), (tp) }
#define FAIL(t) { (t), VGL_Q_TIMEOUT, NS, NS }

static void feed(struct vgl_avail *a, const struct obs *o, struct recorder *rec)
{
	struct vgl_value v[N_M] = {
		{ o->ifs, o->ifs == o->ifs ? VGL_Q_OK : VGL_Q_ABSENT },
		{ o->temp, o->temp == o->temp ? VGL_Q_OK : VGL_Q_ABSENT },
	};
	struct vgl_poll_result r = {
		.ts_ms = T0 + o->t, .quality = o->q, .n_values = N_M, .values = v,
		.detail = o->q == VGL_Q_OK ? NULL : "no response from 127.0.0.1:16161",
	};

	if (o->q != VGL_Q_OK)
		v[0].q = v[1].q = o->q;
	vgl_avail_observe(a, &r, on_event, rec);
}

static void feed_all(struct vgl_avail *a, const struct obs *o, size_t n, struct recorder *rec)
{
	for (size_t i = 0; i < n; i++)
		feed(a, &o[i], rec);
}

#define FEED(a, rec, ...)                                                     \
	do {                                                                  \
		const struct obs o_[] = { __VA_ARGS__ };                      \
		feed_all((a), o_, sizeof(o_) / sizeof(o_[0]), (rec));          \
	} while (0)

static void expect(const struct recorder *r, size_t i, enum vgl_avail_event_kind kind,
		   int64_t t, const char *cause, const char *rule)
{
	if (i >= r->n) {
		fprintf(stderr, "event %zu missing (only %zu)\n", i, r->n);
		ASSERT(0);
	}
	ASSERT_EQ(r->ev[i].kind, kind);
	ASSERT_EQ(r->ev[i].ts - T0, t);
	ASSERT_STREQ(r->ev[i].cause, cause);
	ASSERT_STREQ(r->ev[i].rule, rule);
}

/* ---- tests --------------------------------------------------------------- */

TEST(avail_unreachable_debounce)
{
	struct fixture f;
	struct vgl_avail *a;
	struct recorder rec = { .n = 0 };

	fx_init(&f);
	fx_unreach(&f, "unreachable", "network", 3);
	ASSERT_EQ(vgl_avail_create(&f.p, &a), 0);
	/* two failures, a success resets the count */
	FEED(a, &rec, FAIL(1000), FAIL(2000), OK_(3000, UP, 20), FAIL(4000), FAIL(5000));
	ASSERT_EQ(rec.n, 0);
	ASSERT_EQ(vgl_avail_is_open(a), 0);
	/* third consecutive: opens, starting at the first of the three */
	FEED(a, &rec, FAIL(6000));
	ASSERT_EQ(rec.n, 1);
	expect(&rec, 0, VGL_AVAIL_OPEN, 4000, "network", "unreachable");
	ASSERT(vgl_avail_is_open(a));
	ASSERT_CONTAINS(rec.ev[0].evidence, "\"first_ts\":\"2026-11-05T10:00:04.000Z\"");
	ASSERT_CONTAINS(rec.ev[0].evidence, "\"last_ts\":\"2026-11-05T10:00:06.000Z\"");
	ASSERT_CONTAINS(rec.ev[0].evidence, "\"count\":3");
	ASSERT_CONTAINS(rec.ev[0].evidence, "\"last_quality\":\"timeout\"");
	ASSERT_CONTAINS(rec.ev[0].evidence, "\"detail\":\"no response from 127.0.0.1:16161\"");
	/* still failing: no second open */
	FEED(a, &rec, FAIL(7000), FAIL(8000));
	ASSERT_EQ(rec.n, 1);
	/* first success closes, at its own ts */
	FEED(a, &rec, OK_(9000, UP, 20), OK_(10000, UP, 20));
	ASSERT_EQ(rec.n, 2);
	expect(&rec, 1, VGL_AVAIL_CLOSE, 9000, "network", "unreachable");
	ASSERT_CONTAINS(rec.ev[1].evidence, "\"ts\":\"2026-11-05T10:00:09.000Z\"");
	ASSERT_CONTAINS(rec.ev[1].evidence, "\"quality\":\"ok\"");
	ASSERT_EQ(vgl_avail_is_open(a), 0);
	vgl_avail_free(a);
	fx_free(&f);
}

#define AUTH(t) { (t), VGL_Q_AUTH, NS, NS }

TEST(avail_auth_failure_is_not_unreachable)
{
	struct fixture f;
	struct vgl_avail *a;
	struct recorder rec = { .n = 0 };

	fx_init(&f);
	fx_unreach(&f, "unreachable", "network", 2);
	ASSERT_EQ(vgl_avail_create(&f.p, &a), 0);
	/* auth failures neither open ... */
	FEED(a, &rec, AUTH(1000), AUTH(2000), AUTH(3000));
	ASSERT_EQ(rec.n, 0);
	/* ... nor break a run of timeouts, nor close an open interval */
	FEED(a, &rec, FAIL(4000), AUTH(5000), FAIL(6000));
	ASSERT_EQ(rec.n, 1);
	expect(&rec, 0, VGL_AVAIL_OPEN, 4000, "network", "unreachable");
	FEED(a, &rec, AUTH(7000));
	ASSERT_EQ(rec.n, 1);
	FEED(a, &rec, OK_(8000, UP, 20));
	ASSERT_EQ(rec.n, 2);
	expect(&rec, 1, VGL_AVAIL_CLOSE, 8000, "network", "unreachable");
	vgl_avail_free(a);
	fx_free(&f);
}

TEST(avail_unreachable_k1_opens_at_once)
{
	struct fixture f;
	struct vgl_avail *a;
	struct recorder rec = { .n = 0 };

	fx_init(&f);
	fx_unreach(&f, "unreachable", "network", 1);
	ASSERT_EQ(vgl_avail_create(&f.p, &a), 0);
	FEED(a, &rec, OK_(0, UP, 20), FAIL(1000), OK_(2000, UP, 20));
	ASSERT_EQ(rec.n, 2);
	expect(&rec, 0, VGL_AVAIL_OPEN, 1000, "network", "unreachable");
	expect(&rec, 1, VGL_AVAIL_CLOSE, 2000, "network", "unreachable");
	vgl_avail_free(a);
	fx_free(&f);
}

TEST(avail_expr_for_with_false_blip)
{
	struct fixture f;
	struct vgl_avail *a;
	struct recorder rec = { .n = 0 };

	fx_init(&f);
	fx_expr(&f, "hot", "facility", "temp > 50", 3000);
	ASSERT_EQ(vgl_avail_create(&f.p, &a), 0);
	/* TRUE at 0 and 1000, FALSE at 2000 resets; TRUE again from 3000 */
	FEED(a, &rec, OK_(0, UP, 60), OK_(1000, UP, 61), OK_(2000, UP, 40), OK_(3000, UP, 70),
	     OK_(5000, UP, 71));
	ASSERT_EQ(rec.n, 0);
	/* 6000 - 3000 >= for_ms: opens, starting at 3000 */
	FEED(a, &rec, OK_(6000, UP, 72));
	ASSERT_EQ(rec.n, 1);
	expect(&rec, 0, VGL_AVAIL_OPEN, 3000, "facility", "hot");
	ASSERT_CONTAINS(rec.ev[0].evidence, "\"when\":\"temp > 50\"");
	ASSERT_CONTAINS(rec.ev[0].evidence, "\"first_ts\":\"2026-11-05T10:00:03.000Z\"");
	/* both the first failing observation and the one satisfying for_ms */
	ASSERT_CONTAINS(rec.ev[0].evidence,
			"\"observations\":[{\"ts\":\"2026-11-05T10:00:03.000Z\","
			"\"metrics\":{\"temp\":70}},{\"ts\":\"2026-11-05T10:00:06.000Z\","
			"\"metrics\":{\"temp\":72}}]");
	FEED(a, &rec, OK_(7000, UP, 51), OK_(8000, UP, 50));
	ASSERT_EQ(rec.n, 2);
	expect(&rec, 1, VGL_AVAIL_CLOSE, 8000, "facility", "hot");
	ASSERT_CONTAINS(rec.ev[1].evidence, "\"metrics\":{\"temp\":50}");
	vgl_avail_free(a);
	fx_free(&f);
}

TEST(avail_expr_for0_opens_at_first_true)
{
	struct fixture f;
	struct vgl_avail *a;
	struct recorder rec = { .n = 0 };

	fx_init(&f);
	fx_expr(&f, "uplink-down", "network", "ifOperStatus != up", 0);
	ASSERT_EQ(vgl_avail_create(&f.p, &a), 0);
	FEED(a, &rec, OK_(0, UP, 20), OK_(1000, DOWN, 20));
	ASSERT_EQ(rec.n, 1);
	expect(&rec, 0, VGL_AVAIL_OPEN, 1000, "network", "uplink-down");
	ASSERT_CONTAINS(rec.ev[0].evidence,
			"\"observations\":[{\"ts\":\"2026-11-05T10:00:01.000Z\","
			"\"metrics\":{\"ifOperStatus\":2}}]");
	vgl_avail_free(a);
	fx_free(&f);
}

TEST(avail_unknown_changes_nothing)
{
	struct fixture f;
	struct vgl_avail *a;
	struct recorder rec = { .n = 0 };

	fx_init(&f);
	fx_expr(&f, "hot", "facility", "temp > 50", 2000);
	ASSERT_EQ(vgl_avail_create(&f.p, &a), 0);
	/* UNKNOWN before any TRUE: stays idle */
	FEED(a, &rec, OK_(0, UP, NS), FAIL(1000));
	ASSERT_EQ(rec.n, 0);
	/* pending from 2000; UNKNOWN (missing value, failed poll) neither
	 * resets it nor counts as TRUE */
	FEED(a, &rec, OK_(2000, UP, 60), OK_(3000, UP, NS), FAIL(4000), FAIL(5000));
	ASSERT_EQ(rec.n, 0);
	/* TRUE at 6000 >= 2000 + for: opens with the original start */
	FEED(a, &rec, OK_(6000, UP, 60));
	ASSERT_EQ(rec.n, 1);
	expect(&rec, 0, VGL_AVAIL_OPEN, 2000, "facility", "hot");
	/* UNKNOWN while open does not close */
	FEED(a, &rec, OK_(7000, UP, NS), FAIL(8000), OK_(9000, UP, NS));
	ASSERT_EQ(rec.n, 1);
	ASSERT(vgl_avail_is_open(a));
	FEED(a, &rec, OK_(10000, UP, 20));
	ASSERT_EQ(rec.n, 2);
	expect(&rec, 1, VGL_AVAIL_CLOSE, 10000, "facility", "hot");
	vgl_avail_free(a);
	fx_free(&f);
}

TEST(avail_split_on_cause_change)
{
	struct fixture f;
	struct vgl_avail *a;
	struct recorder rec = { .n = 0 };

	fx_init(&f);
	fx_expr(&f, "uplink-down", "network", "ifOperStatus == down", 0);
	fx_expr(&f, "hot", "facility", "temp > 80", 0);
	ASSERT_EQ(vgl_avail_create(&f.p, &a), 0);
	FEED(a, &rec, OK_(1000, DOWN, 20));
	expect(&rec, 0, VGL_AVAIL_OPEN, 1000, "network", "uplink-down");
	/* both hold: the opener keeps the interval */
	FEED(a, &rec, OK_(2000, DOWN, 90));
	ASSERT_EQ(rec.n, 1);
	/* the opener recovers while hot holds: contiguous split */
	FEED(a, &rec, OK_(3000, UP, 90));
	ASSERT_EQ(rec.n, 3);
	expect(&rec, 1, VGL_AVAIL_CLOSE, 3000, "network", "uplink-down");
	ASSERT_CONTAINS(rec.ev[1].evidence, "\"reason\":\"cause_changed\"");
	expect(&rec, 2, VGL_AVAIL_OPEN, 3000, "facility", "hot");
	ASSERT_CONTAINS(rec.ev[2].evidence, "\"split_from\":\"uplink-down\"");
	/* first_ts of hot is its own first TRUE, even though the OPEN is at 3000 */
	ASSERT_CONTAINS(rec.ev[2].evidence, "\"first_ts\":\"2026-11-05T10:00:02.000Z\"");
	FEED(a, &rec, OK_(4000, UP, 20));
	ASSERT_EQ(rec.n, 4);
	expect(&rec, 3, VGL_AVAIL_CLOSE, 4000, "facility", "hot");
	vgl_avail_free(a);
	fx_free(&f);
}

TEST(avail_pending_condition_keeps_host_down)
{
	struct fixture f;
	struct vgl_avail *a;
	struct recorder rec = { .n = 0 };

	fx_init(&f);
	fx_expr(&f, "uplink-down", "network", "ifOperStatus == down", 0);
	fx_expr(&f, "hot", "facility", "temp > 80", 5000);
	ASSERT_EQ(vgl_avail_create(&f.p, &a), 0);
	FEED(a, &rec, OK_(1000, DOWN, 20), OK_(2000, DOWN, 90));
	ASSERT_EQ(rec.n, 1);
	/* opener recovers; hot is TRUE but pending: still down, no event */
	FEED(a, &rec, OK_(3000, UP, 90));
	ASSERT_EQ(rec.n, 1);
	ASSERT(vgl_avail_is_open(a));
	/* hot goes FALSE before for_ms: closes, by hot's recovery */
	FEED(a, &rec, OK_(4000, UP, 20));
	ASSERT_EQ(rec.n, 2);
	expect(&rec, 1, VGL_AVAIL_CLOSE, 4000, "network", "hot");

	/* Same again, but hot completes its for_ms: split at that observation,
	 * closed by the opener's recovery. */
	FEED(a, &rec, OK_(11000, DOWN, 20), OK_(12000, DOWN, 90), OK_(13000, UP, 90),
	     OK_(17000, UP, 90));
	ASSERT_EQ(rec.n, 5);
	expect(&rec, 2, VGL_AVAIL_OPEN, 11000, "network", "uplink-down");
	expect(&rec, 3, VGL_AVAIL_CLOSE, 17000, "network", "uplink-down");
	expect(&rec, 4, VGL_AVAIL_OPEN, 17000, "facility", "hot");
	vgl_avail_free(a);
	fx_free(&f);
}

TEST(avail_second_condition_while_open_no_double_open)
{
	struct fixture f;
	struct vgl_avail *a;
	struct recorder rec = { .n = 0 };

	fx_init(&f);
	fx_unreach(&f, "unreachable", "network", 2);
	fx_expr(&f, "hot", "facility", "temp > 80", 0);
	ASSERT_EQ(vgl_avail_create(&f.p, &a), 0);
	/* hot opens; then the host stops answering: hot is UNKNOWN (keeps
	 * holding) and unreachable starts holding too: no new event */
	FEED(a, &rec, OK_(1000, UP, 90), FAIL(2000), FAIL(3000), FAIL(4000));
	ASSERT_EQ(rec.n, 1);
	expect(&rec, 0, VGL_AVAIL_OPEN, 1000, "facility", "hot");
	/* answers again, cool: both recovered at once, one close by the opener */
	FEED(a, &rec, OK_(5000, UP, 20));
	ASSERT_EQ(rec.n, 2);
	expect(&rec, 1, VGL_AVAIL_CLOSE, 5000, "facility", "hot");
	vgl_avail_free(a);
	fx_free(&f);
}

TEST(avail_restore_open_then_recovery)
{
	struct fixture f;
	struct vgl_avail *a;
	struct recorder rec = { .n = 0 };

	fx_init(&f);
	fx_unreach(&f, "unreachable", "network", 3);
	fx_expr(&f, "hot", "facility", "temp > 80", 0);
	ASSERT_EQ(vgl_avail_create(&f.p, &a), 0);
	vgl_avail_restore_open(a, "hardware", "unreachable", -5000);
	ASSERT(vgl_avail_is_open(a));
	/* still failing after the restart: no duplicate open */
	FEED(a, &rec, FAIL(1000), FAIL(2000), FAIL(3000), FAIL(4000));
	ASSERT_EQ(rec.n, 0);
	/* the first answer closes it; hot's data being missing does not block */
	FEED(a, &rec, OK_(5000, UP, NS));
	ASSERT_EQ(rec.n, 1);
	/* the interval's cause is the restored one, not the rule's config cause */
	expect(&rec, 0, VGL_AVAIL_CLOSE, 5000, "hardware", "unreachable");
	ASSERT_EQ(vgl_avail_is_open(a), 0);
	vgl_avail_free(a);
	fx_free(&f);
}

TEST(avail_restore_open_expr_needs_false)
{
	struct fixture f;
	struct vgl_avail *a;
	struct recorder rec = { .n = 0 };

	fx_init(&f);
	fx_expr(&f, "uplink-down", "network", "ifOperStatus == down", 30000);
	ASSERT_EQ(vgl_avail_create(&f.p, &a), 0);
	vgl_avail_restore_open(a, "network", "uplink-down", 0);
	/* the restored rule's data missing or still TRUE: stays open, and no
	 * fresh for_ms wait is needed for it to keep holding */
	FEED(a, &rec, OK_(1000, NS, 20), FAIL(2000), OK_(3000, DOWN, 20));
	ASSERT_EQ(rec.n, 0);
	ASSERT(vgl_avail_is_open(a));
	FEED(a, &rec, OK_(4000, UP, 20));
	ASSERT_EQ(rec.n, 1);
	expect(&rec, 0, VGL_AVAIL_CLOSE, 4000, "network", "uplink-down");
	vgl_avail_free(a);
	fx_free(&f);
}

TEST(avail_restore_open_unknown_rule)
{
	struct fixture f;
	struct vgl_avail *a;
	struct recorder rec = { .n = 0 };

	fx_init(&f);
	fx_unreach(&f, "unreachable", "network", 2);
	ASSERT_EQ(vgl_avail_create(&f.p, &a), 0);
	/* opened by an operator, or by a rule since renamed */
	vgl_avail_restore_open(a, "maintenance", "operator:alice", 0);
	/* a failed poll is pending unreachable: keeps it open */
	FEED(a, &rec, FAIL(1000));
	ASSERT_EQ(rec.n, 0);
	/* the host answers and nothing holds or is pending: closes */
	FEED(a, &rec, OK_(2000, UP, 20));
	ASSERT_EQ(rec.n, 1);
	expect(&rec, 0, VGL_AVAIL_CLOSE, 2000, "maintenance", "unreachable");
	vgl_avail_free(a);

	/* ... and a condition that holds takes over with a split */
	rec.n = 0;
	ASSERT_EQ(vgl_avail_create(&f.p, &a), 0);
	vgl_avail_restore_open(a, "maintenance", "operator:alice", 0);
	FEED(a, &rec, FAIL(1000), FAIL(2000));
	ASSERT_EQ(rec.n, 2);
	expect(&rec, 0, VGL_AVAIL_CLOSE, 2000, "maintenance", "operator:alice");
	expect(&rec, 1, VGL_AVAIL_OPEN, 2000, "network", "unreachable");
	vgl_avail_free(a);
	fx_free(&f);
}

/* A profile whose strings live on the heap, so ASan catches any use of
 * them after a reload freed them. */
struct heap_profile {
	struct vgl_conf_cond conds[2];
	struct vgl_conf_profile p;
};

static void heap_profile_init(struct heap_profile *h, struct fixture *f, uint32_t k)
{
	memset(h, 0, sizeof(*h));
	h->conds[0] = (struct vgl_conf_cond){ .name = strdup("unreachable"),
					      .cause = strdup("network"),
					      .kind = VGL_COND_UNREACHABLE, .failures = k };
	ASSERT(h->conds[0].name && h->conds[0].cause);
	h->p.metrics = f->metrics;
	h->p.n_metrics = N_M;
	h->p.sources = f->p.sources;
	h->p.n_sources = f->p.n_sources;
	h->p.conds = h->conds;
	h->p.n_conds = 1;
}

static void heap_profile_free(struct heap_profile *h)
{
	free(h->conds[0].name);
	free(h->conds[0].cause);
	memset(h, 0, sizeof(*h));
}

TEST(avail_rebind_keeps_open_interval)
{
	struct fixture f;
	struct heap_profile p1, p2;
	struct vgl_avail *a;
	struct recorder rec = { .n = 0 };

	fx_init(&f);
	heap_profile_init(&p1, &f, 2);
	ASSERT_EQ(vgl_avail_create(&p1.p, &a), 0);
	FEED(a, &rec, FAIL(1000), FAIL(2000));
	expect(&rec, 0, VGL_AVAIL_OPEN, 1000, "network", "unreachable");
	/* reload: a new profile, the old one freed */
	heap_profile_init(&p2, &f, 5);
	ASSERT_EQ(vgl_avail_rebind(a, &p2.p), 0);
	heap_profile_free(&p1);
	ASSERT(vgl_avail_is_open(a));
	FEED(a, &rec, FAIL(3000), FAIL(4000));
	ASSERT_EQ(rec.n, 1);
	FEED(a, &rec, OK_(5000, UP, 20));
	ASSERT_EQ(rec.n, 2);
	expect(&rec, 1, VGL_AVAIL_CLOSE, 5000, "network", "unreachable");
	vgl_avail_free(a);
	heap_profile_free(&p2);
	fx_free(&f);
}

TEST(avail_rebind_resets_pending)
{
	struct fixture f;
	struct heap_profile p1, p2;
	struct vgl_avail *a;
	struct recorder rec = { .n = 0 };

	fx_init(&f);
	heap_profile_init(&p1, &f, 3);
	heap_profile_init(&p2, &f, 3);
	ASSERT_EQ(vgl_avail_create(&p1.p, &a), 0);
	FEED(a, &rec, FAIL(1000), FAIL(2000));
	ASSERT_EQ(vgl_avail_rebind(a, &p2.p), 0);
	heap_profile_free(&p1);
	/* the count starts over: the third failure overall does not open */
	FEED(a, &rec, FAIL(3000), FAIL(4000));
	ASSERT_EQ(rec.n, 0);
	FEED(a, &rec, FAIL(5000));
	ASSERT_EQ(rec.n, 1);
	expect(&rec, 0, VGL_AVAIL_OPEN, 3000, "network", "unreachable");
	vgl_avail_free(a);
	heap_profile_free(&p2);
	fx_free(&f);
}

TEST(avail_rebind_after_restore_outlives_caller_strings)
{
	struct fixture f;
	struct vgl_avail *a;
	struct recorder rec = { .n = 0 };
	char *cause = strdup("power"), *rule = strdup("hot");

	fx_init(&f);
	fx_expr(&f, "hot", "facility", "temp > 80", 0);
	ASSERT(cause && rule);
	ASSERT_EQ(vgl_avail_create(&f.p, &a), 0);
	vgl_avail_restore_open(a, cause, rule, 0);
	free(cause);
	free(rule);
	ASSERT_EQ(vgl_avail_rebind(a, &f.p), 0);
	FEED(a, &rec, OK_(1000, UP, 90), OK_(2000, UP, 20));
	ASSERT_EQ(rec.n, 1);
	expect(&rec, 0, VGL_AVAIL_CLOSE, 2000, "power", "hot");
	vgl_avail_free(a);
	fx_free(&f);
}

/* A reload that raises K while a non-owner unreachable condition holds
 * with fewer failures: its run goes on under the new K (back to pending,
 * since_ms kept), so it takes over only at the K-th failure of that run,
 * not at the first observation after the reload. */
TEST(avail_rebind_raised_k_run_goes_on)
{
	struct fixture f, g;
	struct vgl_avail *a;
	struct recorder rec = { .n = 0 };

	fx_init(&f);
	fx_expr(&f, "uplink-down", "network", "ifOperStatus == down", 0);
	fx_unreach(&f, "unreachable", "power", 1);
	fx_init(&g);
	fx_unreach(&g, "unreachable", "power", 3);
	ASSERT_EQ(vgl_avail_create(&f.p, &a), 0);
	/* uplink-down opens; unreachable holds from 2000, not the owner */
	FEED(a, &rec, OK_(1000, DOWN, 20), FAIL(2000));
	ASSERT_EQ(rec.n, 1);
	/* the reload drops the owner; unreachable holds with 1 failure of 3 */
	ASSERT_EQ(vgl_avail_rebind(a, &g.p), 0);
	FEED(a, &rec, FAIL(3000));
	ASSERT_EQ(rec.n, 1);
	ASSERT(vgl_avail_is_open(a));
	FEED(a, &rec, FAIL(4000));
	ASSERT_EQ(rec.n, 3);
	expect(&rec, 1, VGL_AVAIL_CLOSE, 4000, "network", "uplink-down");
	expect(&rec, 2, VGL_AVAIL_OPEN, 4000, "power", "unreachable");
	ASSERT_CONTAINS(rec.ev[2].evidence, "\"first_ts\":\"2026-11-05T10:00:02.000Z\"");
	ASSERT_CONTAINS(rec.ev[2].evidence, "\"count\":3");
	vgl_avail_free(a);
	fx_free(&f);
	fx_free(&g);
}

TEST(avail_clock_stepping_back_keeps_order)
{
	struct fixture f;
	struct vgl_avail *a;
	struct recorder rec = { .n = 0 };

	fx_init(&f);
	fx_unreach(&f, "unreachable", "network", 1);
	ASSERT_EQ(vgl_avail_create(&f.p, &a), 0);
	FEED(a, &rec, FAIL(10000), OK_(5000, UP, 20), FAIL(4000));
	ASSERT_EQ(rec.n, 3);
	ASSERT_GE(rec.ev[1].ts, rec.ev[0].ts);
	ASSERT_GE(rec.ev[2].ts, rec.ev[1].ts);
	vgl_avail_free(a);
	fx_free(&f);
}

/* ---- randomized invariants ------------------------------------------------ */

struct inv {
	int open;
	int64_t open_ts, last_close_ts;
	unsigned opens, closes, splits;
	int64_t prev_event_ts;
	int prev_was_close;
};

static void on_inv(void *ctx, const struct vgl_avail_event *e)
{
	struct inv *s = ctx;
	cJSON *j = cJSON_Parse(e->evidence);

	ASSERT(j != NULL);
	cJSON_Delete(j);
	ASSERT(e->cause && e->rule);
	if (e->kind == VGL_AVAIL_OPEN) {
		ASSERT_EQ(s->open, 0);              /* never two OPENs without a CLOSE */
		ASSERT_GE(e->ts_ms, s->last_close_ts);
		if (s->prev_was_close && e->ts_ms == s->last_close_ts)
			s->splits++;
		s->open = 1;
		s->open_ts = e->ts_ms;
		s->opens++;
	} else {
		ASSERT_EQ(s->open, 1);
		ASSERT_GE(e->ts_ms, s->open_ts);
		s->open = 0;
		s->last_close_ts = e->ts_ms;
		s->closes++;
	}
	s->prev_was_close = e->kind == VGL_AVAIL_CLOSE;
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint32_t rnd(uint32_t n)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state % n);
}

TEST(avail_random_invariants)
{
	static const uint32_t fors[] = { 0, 1000, 2500 };
	unsigned total_opens = 0, total_splits = 0;

	for (int run = 0; run < 400; run++) {
		struct fixture f, g;
		struct vgl_avail *a;
		struct inv s = { .last_close_ts = INT64_MIN };
		int64_t t = 0;

		fx_init(&f);
		fx_unreach(&f, "unreachable", "network", 1 + rnd(3));
		fx_expr(&f, "uplink-down", "network", "ifOperStatus == down", fors[rnd(3)]);
		fx_expr(&f, "hot", "facility", "temp > 80 and not ifOperStatus == down",
			fors[rnd(3)]);
		fx_init(&g);
		fx_unreach(&g, "unreachable", "network", 1 + rnd(3));
		fx_expr(&g, "hot", "power", "temp > 70", fors[rnd(3)]);
		ASSERT_EQ(vgl_avail_create(&f.p, &a), 0);
		if (rnd(4) == 0) {
			static const char *rules[] = { "unreachable", "uplink-down", "hot", "gone" };

			vgl_avail_restore_open(a, "unknown", rules[rnd(4)], -1000);
			s.open = 1;
			s.open_ts = -1000 + T0;
		}
		for (int i = 0; i < 150; i++) {
			struct obs o = { .t = t, .q = VGL_Q_OK };
			uint32_t x = rnd(10);

			if (x == 0)
				o.q = VGL_Q_TIMEOUT;
			else if (x == 1)
				o.q = VGL_Q_AUTH;
			o.ifs = rnd(8) == 0 ? NS : (rnd(3) == 0 ? DOWN : UP);
			o.temp = rnd(8) == 0 ? NS : (double)(60 + rnd(40));
			{
				struct vgl_value v[N_M] = {
					{ o.ifs, o.q != VGL_Q_OK || o.ifs != o.ifs ? VGL_Q_ABSENT
										 : VGL_Q_OK },
					{ o.temp, o.q != VGL_Q_OK || o.temp != o.temp ? VGL_Q_ABSENT
										  : VGL_Q_OK },
				};
				struct vgl_poll_result r = { .ts_ms = T0 + t, .quality = o.q,
							     .n_values = N_M, .values = v };

				vgl_avail_observe(a, &r, on_inv, &s);
			}
			ASSERT_EQ(vgl_avail_is_open(a), s.open);
			if (i == 75 && rnd(2) == 0)
				ASSERT_EQ(vgl_avail_rebind(a, &g.p), 0);
			/* mostly forward in time, sometimes a repeat or a step back */
			x = rnd(20);
			t += x == 0 ? -700 : (x == 1 ? 0 : 500 + (int64_t)rnd(1000));
		}
		total_opens += s.opens;
		total_splits += s.splits;
		vgl_avail_free(a);
		fx_free(&f);
		fx_free(&g);
	}
	/* the sequences do exercise the machine */
	ASSERT_GT(total_opens, 1000);
	ASSERT_GT(total_splits, 10);
}
