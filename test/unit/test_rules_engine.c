/* The per-host rules engine (rules/rules.h): for, clear (hysteresis),
 * UNKNOWN, window rules, carrying state across a reload, summaries. */
#include <math.h>

#include "rules/expr.h"
#include "rules/rule_conf.h"
#include "rules/rules.h"
#include "test/test.h"

/* 2026-11-05T10:00:00.000Z: observation times below are offsets from it. */
#define T0 1793872800000LL
#define S(x) ((int64_t)(x) * 1000)

/* ---- fixtures: a hand-built profile, one source every 10 s ---------------- */

static struct vgl_conf_enum st_labels[] = { { "ok", 1 }, { "alarm", 2 } };

enum { M_TEMP, M_OCT, M_STATE, N_M };

#define MAX_RULES 8

struct fixture {
	struct vgl_conf_source src;
	uint32_t src_metrics[N_M];
	struct vgl_conf_metric metrics[N_M];
	struct vgl_conf_profile p;
	struct vgl_conf_rule rules[MAX_RULES];
	const struct vgl_conf_rule *rp[MAX_RULES];
	size_t n_rules;
};

static void fx_init(struct fixture *f)
{
	memset(f, 0, sizeof(*f));
	for (uint32_t i = 0; i < N_M; i++)
		f->src_metrics[i] = i;
	f->metrics[M_TEMP] = (struct vgl_conf_metric){ .name = "temp" };
	f->metrics[M_OCT] = (struct vgl_conf_metric){ .name = "octets" };
	f->metrics[M_STATE] = (struct vgl_conf_metric){ .name = "state", .enums = st_labels,
							.n_enums = 2 };
	f->src = (struct vgl_conf_source){ .name = "snmp", .interval_ms = 10000,
					   .metrics = f->src_metrics, .n_metrics = N_M };
	f->p.sources = &f->src;
	f->p.n_sources = 1;
	f->p.metrics = f->metrics;
	f->p.n_metrics = N_M;
}

static struct vgl_expr *parse(struct fixture *f, const char *text)
{
	static const struct vgl_expr_opts opts = { 1, 1, 1 };
	struct vgl_expr_error err;
	struct vgl_expr *e = NULL;

	if (vgl_expr_parse_opts(text, f->metrics, N_M, &opts, &e, &err) != 0) {
		fprintf(stderr, "fixture expr '%s': %s (at %zu)\n", text, err.msg, err.offset);
		ASSERT(0);
	}
	return e;
}

/* Adds a rule; returns its index. clear NULL: "not when". */
static size_t fx_rule(struct fixture *f, const char *name, const char *when, const char *clear,
		      uint32_t for_ms)
{
	struct vgl_conf_rule *r;

	ASSERT(f->n_rules < MAX_RULES);
	r = &f->rules[f->n_rules];
	*r = (struct vgl_conf_rule){ .name = (char *)name, .when_text = (char *)when,
				     .clear_text = (char *)clear, .for_ms = for_ms,
				     .alarm = { .severity = VGL_SEV_MAJOR } };
	r->when = parse(f, when);
	r->clear = clear ? parse(f, clear) : NULL;
	f->rp[f->n_rules] = r;
	return f->n_rules++;
}

static void fx_free(struct fixture *f)
{
	for (size_t i = 0; i < f->n_rules; i++) {
		vgl_expr_free(f->rules[i].when);
		vgl_expr_free(f->rules[i].clear);
	}
}

/* ---- recording events ------------------------------------------------------ */

struct recorder {
	struct vgl_rule_event ev[128];
	size_t n;
};

static void on_event(void *ctx, const struct vgl_rule_event *e)
{
	struct recorder *r = ctx;

	ASSERT(r->n < sizeof(r->ev) / sizeof(r->ev[0]));
	r->ev[r->n++] = *e;
}

static size_t count(const struct recorder *r, size_t rule, int fire)
{
	size_t n = 0;

	for (size_t i = 0; i < r->n; i++)
		n += r->ev[i].rule == rule && r->ev[i].fire == fire;
	return n;
}

/* One poll at T0 + t: temp and octets (NAN: absent), state. q != OK: a
 * failed poll (every value takes that quality). */
static void obs(struct vgl_rules *r, int64_t t, enum vgl_quality q, double temp, double oct,
		double state, struct recorder *rec)
{
	struct vgl_value v[N_M] = {
		{ temp, temp == temp ? VGL_Q_OK : VGL_Q_ABSENT },
		{ oct, oct == oct ? VGL_Q_OK : VGL_Q_ABSENT },
		{ state, state == state ? VGL_Q_OK : VGL_Q_ABSENT },
	};
	static const uint32_t ms[N_M] = { M_TEMP, M_OCT, M_STATE };
	struct vgl_poll_result pr = {
		.ts_ms = T0 + t, .quality = q, .n_values = N_M, .values = v, .metrics = ms,
		.interval_ms = 10000,
	};

	if (q != VGL_Q_OK)
		for (size_t i = 0; i < N_M; i++)
			v[i].q = q;
	vgl_rules_observe(r, &pr, v, NULL, NULL, on_event, rec);
}

static void temp_at(struct vgl_rules *r, int64_t t, double temp, struct recorder *rec)
{
	obs(r, t, VGL_Q_OK, temp, 0, 1, rec);
}

/* ---- for ---------------------------------------------------------------------- */

TEST(rules_engine_for)
{
	struct fixture f;
	struct recorder rec = { .n = 0 };
	struct vgl_rules *r;
	size_t hot;

	fx_init(&f);
	hot = fx_rule(&f, "hot", "temp > 30", NULL, 30000);
	ASSERT((r = vgl_rules_create(f.rp, f.n_rules, &f.p, T0)) != NULL);
	ASSERT_EQ(vgl_rules_count(r), 1);

	/* true at 0, 10, 20: held 20 s only */
	temp_at(r, S(0), 35, &rec);
	temp_at(r, S(10), 35, &rec);
	temp_at(r, S(20), 35, &rec);
	ASSERT_EQ(rec.n, 0);
	ASSERT_EQ(vgl_rules_firing(r, hot), 0);
	/* held 30 s: fires, since the first true observation */
	temp_at(r, S(30), 36, &rec);
	ASSERT_EQ(rec.n, 1);
	ASSERT_EQ(rec.ev[0].fire, 1);
	ASSERT_EQ(rec.ev[0].rule, hot);
	ASSERT_EQ(rec.ev[0].ts_ms - T0, S(30));
	ASSERT_EQ(rec.ev[0].since_ms - T0, 0);
	ASSERT(rec.ev[0].has_value);
	ASSERT(fabs(rec.ev[0].value - 36) < 1e-9);
	ASSERT(vgl_rules_firing(r, hot));
	/* still true: no second FIRE; false: CLEAR (no clear given) */
	temp_at(r, S(40), 37, &rec);
	ASSERT_EQ(rec.n, 1);
	temp_at(r, S(50), 20, &rec);
	ASSERT_EQ(rec.n, 2);
	ASSERT_EQ(rec.ev[1].fire, 0);
	ASSERT_EQ(rec.ev[1].ts_ms - T0, S(50));
	ASSERT_EQ(vgl_rules_firing(r, hot), 0);

	/* true 60, 70, false at 80 (before 30 s): pending resets */
	temp_at(r, S(60), 35, &rec);
	temp_at(r, S(70), 35, &rec);
	temp_at(r, S(80), 25, &rec);
	temp_at(r, S(90), 35, &rec);
	temp_at(r, S(100), 35, &rec);
	temp_at(r, S(110), 35, &rec);
	/* 60 + 30 = 90 would have fired without the reset */
	ASSERT_EQ(rec.n, 2);
	temp_at(r, S(120), 35, &rec);
	ASSERT_EQ(rec.n, 3);
	ASSERT_EQ(rec.ev[2].fire, 1);
	ASSERT_EQ(rec.ev[2].ts_ms - T0, S(120));
	ASSERT_EQ(rec.ev[2].since_ms - T0, S(90));
	vgl_rules_free(r);
	fx_free(&f);
}

/* ---- clear: hysteresis ------------------------------------------------------- */

TEST(rules_engine_hysteresis)
{
	static const double hover[] = { 29.5, 30.5, 29.8, 30.2, 30.9, 29.1, 30.4, 29.9, 30.1, 29.7 };
	struct fixture f;
	struct recorder rec = { .n = 0 };
	struct vgl_rules *r;
	size_t hyst, plain;
	int64_t t = 0;

	fx_init(&f);
	hyst = fx_rule(&f, "hot-hyst", "temp > 30", "temp < 28", 0);
	plain = fx_rule(&f, "hot-plain", "temp > 30", NULL, 0);
	ASSERT((r = vgl_rules_create(f.rp, f.n_rules, &f.p, T0)) != NULL);
	for (size_t i = 0; i < sizeof(hover) / sizeof(hover[0]); i++, t += S(10))
		temp_at(r, t, hover[i], &rec);
	/* with clear: one FIRE (at 30.5), no CLEAR */
	ASSERT_EQ(count(&rec, hyst, 1), 1);
	ASSERT_EQ(count(&rec, hyst, 0), 0);
	ASSERT(vgl_rules_firing(r, hyst));
	for (size_t i = 0; i < rec.n; i++)
		if (rec.ev[i].rule == hyst)
			ASSERT_EQ(rec.ev[i].ts_ms - T0, S(10));
	/* without: a stream, one FIRE per crossing up and one CLEAR per
	 * crossing down: 30.5 / 29.8, 30.2 (30.9) / 29.1, 30.4 / 29.9,
	 * 30.1 / 29.7 */
	ASSERT_EQ(count(&rec, plain, 1), 4);
	ASSERT_EQ(count(&rec, plain, 0), 4);
	/* 27 < 28: the one CLEAR */
	temp_at(r, t, 27, &rec);
	t += S(10);
	ASSERT_EQ(count(&rec, hyst, 0), 1);
	ASSERT_EQ(vgl_rules_firing(r, hyst), 0);
	ASSERT_EQ(rec.ev[rec.n - 1].rule, hyst);
	ASSERT_EQ(rec.ev[rec.n - 1].fire, 0);
	/* 29 is neither: nothing */
	temp_at(r, t, 29, &rec);
	ASSERT_EQ(count(&rec, hyst, 1), 1);
	ASSERT_EQ(count(&rec, hyst, 0), 1);
	vgl_rules_free(r);
	fx_free(&f);
}

/* ---- UNKNOWN keeps state ----------------------------------------------------- */

TEST(rules_engine_unknown_keeps_state)
{
	struct fixture f;
	struct recorder rec = { .n = 0 };
	struct vgl_rules *r;
	size_t hot;

	fx_init(&f);
	hot = fx_rule(&f, "hot", "temp > 30", NULL, 30000);
	ASSERT((r = vgl_rules_create(f.rp, f.n_rules, &f.p, T0)) != NULL);
	temp_at(r, S(0), 35, &rec);                     /* pending since 0 */
	obs(r, S(10), VGL_Q_TIMEOUT, NAN, NAN, NAN, &rec);      /* failed poll: unknown */
	obs(r, S(20), VGL_Q_OK, NAN, 5, 1, &rec);       /* temp absent: unknown */
	ASSERT_EQ(rec.n, 0);
	temp_at(r, S(30), 35, &rec);                    /* still pending since 0: fires */
	ASSERT_EQ(rec.n, 1);
	ASSERT_EQ(rec.ev[0].fire, 1);
	ASSERT_EQ(rec.ev[0].since_ms - T0, 0);
	/* firing: unknown does not clear it */
	obs(r, S(40), VGL_Q_TIMEOUT, NAN, NAN, NAN, &rec);
	obs(r, S(50), VGL_Q_OK, NAN, 5, 1, &rec);
	ASSERT_EQ(rec.n, 1);
	ASSERT(vgl_rules_firing(r, hot));
	temp_at(r, S(60), 10, &rec);
	ASSERT_EQ(rec.n, 2);
	ASSERT_EQ(rec.ev[1].fire, 0);
	ASSERT_EQ(rec.ev[1].ts_ms - T0, S(60));
	vgl_rules_free(r);
	fx_free(&f);
}

/* ---- windows ------------------------------------------------------------------ */

TEST(rules_engine_window_avg)
{
	struct fixture f;
	struct recorder rec = { .n = 0 };
	struct vgl_rules *r;
	size_t avg;

	fx_init(&f);
	avg = fx_rule(&f, "avg-hot", "avg(temp, 30s) > 30", NULL, 0);
	ASSERT((r = vgl_rules_create(f.rp, f.n_rules, &f.p, T0)) != NULL);
	temp_at(r, S(0), 20, &rec);
	temp_at(r, S(10), 20, &rec);
	temp_at(r, S(20), 20, &rec);
	/* temp itself is 50 now, the window's average (20,20,20,50) 27.5 */
	temp_at(r, S(30), 50, &rec);
	ASSERT_EQ(rec.n, 0);
	/* [10 s, 40 s]: 20, 20, 50, 50: 35 */
	temp_at(r, S(40), 50, &rec);
	ASSERT_EQ(rec.n, 1);
	ASSERT_EQ(rec.ev[0].rule, avg);
	ASSERT_EQ(rec.ev[0].fire, 1);
	ASSERT_EQ(rec.ev[0].ts_ms - T0, S(40));
	ASSERT(rec.ev[0].has_value);
	ASSERT(fabs(rec.ev[0].value - 35) < 1e-9);
	/* a failed poll pushes nothing: [20, 50] still 20, 50, 50 = 40 */
	obs(r, S(50), VGL_Q_TIMEOUT, NAN, NAN, NAN, &rec);
	ASSERT_EQ(rec.n, 1);
	/* [30, 60]: 50, 50, 0 = 33.3: still firing */
	temp_at(r, S(60), 0, &rec);
	ASSERT_EQ(rec.n, 1);
	/* [40, 70]: 50, 0, 0 = 16.7: clears */
	temp_at(r, S(70), 0, &rec);
	ASSERT_EQ(rec.n, 2);
	ASSERT_EQ(rec.ev[1].fire, 0);
	vgl_rules_free(r);
	fx_free(&f);
}

TEST(rules_engine_window_rate_wrap32)
{
	struct fixture f;
	struct recorder rec = { .n = 0 };
	struct vgl_rules *r;
	const double wrap = 4294967296.0;
	/* 1000 octets/s, wrapping between t = 0 and t = 10 s */
	const double base = wrap - 5000;

	fx_init(&f);
	/* a reset reading of the wrap (increase = cur = 5000 in 10 s) gives
	 * 500/s, below the threshold; the right reading 1000/s */
	fx_rule(&f, "busy", "rate(octets, 1m) > 900", NULL, 0);
	ASSERT((r = vgl_rules_create(f.rp, f.n_rules, &f.p, T0)) != NULL);
	obs(r, S(0), VGL_Q_OK, 20, base, 1, &rec);
	ASSERT_EQ(rec.n, 0);                            /* one sample: unknown */
	obs(r, S(10), VGL_Q_OK, 20, fmod(base + 10000, wrap), 1, &rec);
	ASSERT_EQ(rec.n, 1);
	ASSERT_EQ(rec.ev[0].fire, 1);
	ASSERT(rec.ev[0].has_value);
	if (fabs(rec.ev[0].value - 1000) > 1e-6)
		fprintf(stderr, "rate across the wrap: %.6f, expected 1000\n", rec.ev[0].value);
	ASSERT(fabs(rec.ev[0].value - 1000) < 1e-6);
	/* it keeps counting: still 1000/s over the minute, no CLEAR */
	for (int s = 20; s <= 70; s += 10)
		obs(r, S(s), VGL_Q_OK, 20, fmod(base + 1000.0 * s, wrap), 1, &rec);
	ASSERT_EQ(rec.n, 1);
	vgl_rules_free(r);
	fx_free(&f);
}

/* ---- reload ------------------------------------------------------------------- */

TEST(rules_engine_carry)
{
	struct fixture f1, f2;
	struct recorder rec = { .n = 0 };
	struct vgl_rules *r1, *r2;
	size_t hot1, avg1, warm1, hot2, avg2, warm2;

	fx_init(&f1);
	hot1 = fx_rule(&f1, "hot", "temp > 30", NULL, 0);
	avg1 = fx_rule(&f1, "avg-high", "avg(temp, 1m) > 100", NULL, 0);
	warm1 = fx_rule(&f1, "warm", "temp > 25", NULL, 0);
	ASSERT((r1 = vgl_rules_create(f1.rp, f1.n_rules, &f1.p, T0)) != NULL);
	temp_at(r1, S(0), 40, &rec);
	temp_at(r1, S(10), 40, &rec);
	ASSERT(vgl_rules_firing(r1, hot1));
	ASSERT(vgl_rules_firing(r1, warm1));
	ASSERT_EQ(vgl_rules_firing(r1, avg1), 0);
	ASSERT_EQ(rec.n, 2);

	/* the reload: a new profile (same metric names), the rules parsed
	 * again, in another order; "warm" changed its condition */
	fx_init(&f2);
	warm2 = fx_rule(&f2, "warm", "temp > 26", NULL, 0);
	avg2 = fx_rule(&f2, "avg-high", "avg(temp, 1m) > 100", NULL, 0);
	hot2 = fx_rule(&f2, "hot", "temp > 30", NULL, 0);
	ASSERT((r2 = vgl_rules_create(f2.rp, f2.n_rules, &f2.p, T0 + S(15))) != NULL);
	vgl_rules_carry(r2, r1);
	vgl_rules_free(r1);
	fx_free(&f1);
	ASSERT(vgl_rules_firing(r2, hot2));             /* carried */
	ASSERT_EQ(vgl_rules_firing(r2, warm2), 0);      /* changed: starts over */
	ASSERT_EQ(vgl_rules_firing(r2, avg2), 0);

	rec.n = 0;
	temp_at(r2, S(20), 400, &rec);
	/* hot: firing already, no FIRE; warm: fires anew; avg-high: the
	 * window carried 40, 40, so (40 + 40 + 400) / 3 = 160 (400 without) */
	ASSERT_EQ(count(&rec, hot2, 1), 0);
	ASSERT_EQ(count(&rec, warm2, 1), 1);
	ASSERT_EQ(count(&rec, avg2, 1), 1);
	for (size_t i = 0; i < rec.n; i++)
		if (rec.ev[i].rule == avg2) {
			ASSERT(rec.ev[i].has_value);
			if (fabs(rec.ev[i].value - 160) > 1e-9)
				fprintf(stderr, "avg after carry: %g, expected 160\n",
					rec.ev[i].value);
			ASSERT(fabs(rec.ev[i].value - 160) < 1e-9);
		}
	/* the carried firing state clears as usual */
	temp_at(r2, S(30), 10, &rec);
	ASSERT_EQ(count(&rec, hot2, 0), 1);
	vgl_rules_free(r2);
	fx_free(&f2);
}

/* ---- summaries ---------------------------------------------------------------- */

TEST(rules_engine_summary)
{
	struct fixture f;
	struct vgl_conf_host h = { .name = "rack1-pdu", .site = "dc-east" };
	struct vgl_conf_alarm_spec spec = {
		.severity = VGL_SEV_MAJOR,
		.summary = "{host}@{site}: {rule} {value} temp={temp} state={state} "
			   "sev={severity} {nosuch}",
	};
	struct vgl_value v[N_M] = { { 31.5, VGL_Q_OK }, { 7, VGL_Q_OK }, { 2, VGL_Q_OK } };
	char *s;

	fx_init(&f);
	h.profile = &f.p;
	s = vgl_rules_summary(&spec, "inlet-hot", &h, v, 1, 31.5);
	ASSERT_STREQ(s, "rack1-pdu@dc-east: inlet-hot 31.5 temp=31.5 state=alarm sev=major {nosuch}");
	free(s);
	/* no value, a metric not good now, a state without a label */
	v[M_TEMP].q = VGL_Q_TIMEOUT;
	v[M_STATE].v = 7;
	s = vgl_rules_summary(&spec, "inlet-hot", &h, v, 0, 0);
	ASSERT_STREQ(s, "rack1-pdu@dc-east: inlet-hot ? temp=? state=7 sev=major {nosuch}");
	free(s);
	/* no template; no site */
	h.site = NULL;
	s = vgl_rules_summary(NULL, "inlet-hot", &h, v, 0, 0);
	ASSERT_STREQ(s, "inlet-hot on rack1-pdu");
	free(s);
	spec.summary = "{site} {value}";
	s = vgl_rules_summary(&spec, "r", &h, NULL, 1, 2.0);
	ASSERT_STREQ(s, "- 2");
	free(s);
}
