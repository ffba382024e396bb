/* The alarm-rule side of the condition language (rules/expr.h):
 * arithmetic, window functions, nodata, references to other devices, SLA
 * functions, their parse errors and their unknowns. */
#include <math.h>

#include "rules/expr.h"
#include "rules/window.h"
#include "test/test.h"

static struct vgl_conf_enum if_states[] = { { "up", 1 }, { "down", 2 }, { "testing", 3 } };
static struct vgl_conf_metric metrics[] = {
	{ .name = "ifOperStatus", .enums = if_states, .n_enums = 3 },
	{ .name = "temp" },
	{ .name = "psu.state" },
	{ .name = "fan_rpm" },
	{ .name = "octets" },
};
#define N_METRICS (sizeof(metrics) / sizeof(metrics[0]))
enum { M_IF, M_TEMP, M_PSU, M_FAN, M_OCTETS };

static const struct vgl_expr_opts all = { 1, 1, 1 };
static const struct vgl_expr_opts none = { 0, 0, 0 };
static const struct vgl_expr_opts no_sla = { 1, 1, 0 };
static const struct vgl_expr_opts no_win = { 0, 1, 1 };
static const struct vgl_expr_opts no_ext = { 1, 0, 1 };

static struct vgl_expr *parse_with(const char *text, const struct vgl_expr_opts *o)
{
	struct vgl_expr *e = NULL;
	struct vgl_expr_error err;

	if (vgl_expr_parse_opts(text, metrics, N_METRICS, o, &e, &err) != 0) {
		fprintf(stderr, "parse '%s' failed at %zu: %s\n", text, err.offset, err.msg);
		ASSERT(0);
	}
	ASSERT(e != NULL);
	return e;
}

static enum vgl_tri eval_text(const char *text, const struct vgl_expr_ctx *c)
{
	struct vgl_expr *e = parse_with(text, &all);
	enum vgl_tri r = vgl_expr_eval_ctx(e, c);

	vgl_expr_free(e);
	return r;
}

/* The number text computes (through vgl_expr_value): 1 and *out, or 0. */
static int num_text(const char *text, const struct vgl_expr_ctx *c, double *out)
{
	char buf[256];
	struct vgl_expr *e;
	int rc;

	snprintf(buf, sizeof(buf), "%s == 0", text);
	e = parse_with(buf, &all);
	rc = vgl_expr_value(e, c, out);
	vgl_expr_free(e);
	return rc == 0;
}

#define ASSERT_NUM(text, ctx, want)                                               \
	do {                                                                      \
		double got_ = -1e300, want_ = (want);                             \
		if (!num_text(text, ctx, &got_) ||                                \
		    fabs(got_ - want_) > 1e-9 * (1 + fabs(want_))) {              \
			fprintf(stderr, "%s = %.17g, want %.17g\n", text, got_,   \
				want_);                                           \
			ASSERT(0);                                                \
		}                                                                 \
	} while (0)
#define ASSERT_NUM_UNKNOWN(text, ctx)                                             \
	do {                                                                      \
		double got_;                                                      \
		if (num_text(text, ctx, &got_)) {                                 \
			fprintf(stderr, "%s = %.17g, want unknown\n", text, got_); \
			ASSERT(0);                                                \
		}                                                                 \
	} while (0)

struct fixture {
	struct vgl_value v[N_METRICS];
	struct vgl_window *w[N_METRICS];
	struct vgl_expr_ctx c;
};

static void fixture_init(struct fixture *f, int64_t now)
{
	memset(f, 0, sizeof(*f));
	for (size_t i = 0; i < N_METRICS; i++)
		f->v[i] = (struct vgl_value){ 0, VGL_Q_OK };
	f->c.values = f->v;
	f->c.windows = (const struct vgl_window *const *)f->w;
	f->c.now_ms = now;
	f->c.start_ms = now - 3600000;
}

static void fixture_free(struct fixture *f)
{
	for (size_t i = 0; i < N_METRICS; i++)
		vgl_window_free(f->w[i]);
}

TEST(expr_arithmetic_precedence)
{
	struct vgl_value v[N_METRICS] = { { 1, VGL_Q_OK }, { 30, VGL_Q_OK }, { 0, VGL_Q_OK },
					  { 7, VGL_Q_OK }, { 0, VGL_Q_OK } };
	struct vgl_expr_ctx c = { .values = v };
	static const struct {
		const char *text;
		enum vgl_tri want;
	} cases[] = {
		{ "1 + 2 * 3 == 7", VGL_TRUE },
		{ "1 + 2 * 3 == 9", VGL_FALSE },
		{ "(1 + 2) * 3 == 9", VGL_TRUE },
		{ "10 - 4 - 3 == 3", VGL_TRUE },        /* left associative */
		{ "12 / 3 / 2 == 2", VGL_TRUE },
		{ "2 * 3 - 4 / 2 == 4", VGL_TRUE },
		{ "-2 * 3 == -6", VGL_TRUE },
		{ "- -2 == 2", VGL_TRUE },
		{ "2 - -3 == 5", VGL_TRUE },
		{ "2--3 == 5", VGL_TRUE },
		{ "temp * 2 > 50", VGL_TRUE },
		{ "temp - 5 == 25", VGL_TRUE },
		{ "temp>-3", VGL_TRUE },
		{ "(temp + fan_rpm) / 2 == 18.5", VGL_TRUE },
		{ "1e12 > 0.9", VGL_TRUE },
		{ "1e3 == 1000 and 2.5e-1 == 0.25 and 1E+2 == 100", VGL_TRUE },
		{ "30s == 30000 and 5m == 300000 and 1h == 3600000 and 500ms == 500", VGL_TRUE },
		{ "temp / (fan_rpm - 7) > 1", VGL_UNKNOWN },  /* division by zero */
		{ "temp / 0 > 1 or temp > 1", VGL_TRUE },
		{ "temp / 0 > 1 and temp > 100", VGL_FALSE },
		{ "not (temp / 0 > 1)", VGL_UNKNOWN },
		{ "1e308 * 10 > 0", VGL_UNKNOWN },             /* overflow */
		{ "ifOperStatus + 1 == 2", VGL_TRUE },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		enum vgl_tri r = eval_text(cases[i].text, &c);

		if (r != cases[i].want) {
			fprintf(stderr, "'%s' = %d, want %d\n", cases[i].text, r, cases[i].want);
			ASSERT(0);
		}
	}
	/* arithmetic is not an alarm-only feature: availability conditions
	 * (vgl_expr_parse) have it too */
	struct vgl_expr *e = NULL;
	struct vgl_expr_error err;
	ASSERT_EQ(vgl_expr_parse("temp * 2 + 1 > 60", metrics, N_METRICS, &e, &err), 0);
	ASSERT_EQ(vgl_expr_eval(e, v), VGL_TRUE);
	vgl_expr_free(e);
	/* an unknown operand anywhere makes the number unknown */
	v[M_FAN].q = VGL_Q_TIMEOUT;
	ASSERT_EQ(eval_text("temp + fan_rpm * 0 > 1", &c), VGL_UNKNOWN);
	ASSERT_EQ(eval_text("-fan_rpm < 1", &c), VGL_UNKNOWN);
	ASSERT_NUM_UNKNOWN("temp + fan_rpm", &c);
	ASSERT_NUM("temp * 3 - 1", &c, 89);
}

TEST(expr_window_functions_by_hand)
{
	struct fixture f;
	const int64_t now = 10000000;

	fixture_init(&f, now);
	f.w[M_TEMP] = vgl_window_new(32);
	ASSERT(f.w[M_TEMP] != NULL);
	vgl_window_push(f.w[M_TEMP], now - 60000, 10);
	vgl_window_push(f.w[M_TEMP], now - 30001, 70);  /* just outside 30 s */
	vgl_window_push(f.w[M_TEMP], now - 30000, 20);  /* exactly at now - 30 s: inside */
	vgl_window_push(f.w[M_TEMP], now - 20000, 40);
	vgl_window_push(f.w[M_TEMP], now - 10000, 30);
	vgl_window_push(f.w[M_TEMP], now, 50);
	/* 30 s: 20 40 30 50 */
	ASSERT_NUM("avg(temp, 30s)", &f.c, 35);
	ASSERT_NUM("min(temp, 30s)", &f.c, 20);
	ASSERT_NUM("max(temp, 30s)", &f.c, 50);
	ASSERT_NUM("last(temp, 30s)", &f.c, 50);
	ASSERT_NUM("delta(temp, 30s)", &f.c, 30);
	ASSERT_NUM("changes(temp, 30s)", &f.c, 3);
	/* increases 20, 30 (a fall: a counter reset, counting the 30), 20: 70 over 30 s */
	ASSERT_NUM("rate(temp, 30s)", &f.c, 70.0 / 30);
	/* 30001 ms reaches the 70; 1 min all */
	ASSERT_NUM("max(temp, 30001ms)", &f.c, 70);
	ASSERT_NUM("avg(temp, 1m)", &f.c, 220.0 / 6);
	ASSERT_NUM("min(temp, 1m)", &f.c, 10);
	ASSERT_NUM("delta(temp, 1m)", &f.c, 40);
	ASSERT_NUM("max(temp, 29s)", &f.c, 50);
	ASSERT_NUM("min(temp, 29s)", &f.c, 30);
	/* in expressions */
	ASSERT_EQ(eval_text("avg(temp, 30s) > 30 and max(temp, 30s) - min(temp, 30s) == 30",
			    &f.c), VGL_TRUE);
	ASSERT_EQ(eval_text("avg(temp, 30s) / 0 > 1", &f.c), VGL_UNKNOWN);
	/* one sample: avg/min/max/last/changes known, delta/rate not */
	ASSERT_NUM("avg(temp, 5s)", &f.c, 50);
	ASSERT_NUM("changes(temp, 5s)", &f.c, 0);
	ASSERT_NUM_UNKNOWN("delta(temp, 5s)", &f.c);
	ASSERT_NUM_UNKNOWN("rate(temp, 5s)", &f.c);
	/* none: all unknown */
	f.c.now_ms = now + 100000;
	ASSERT_NUM_UNKNOWN("avg(temp, 30s)", &f.c);
	ASSERT_NUM_UNKNOWN("changes(temp, 30s)", &f.c);
	ASSERT_EQ(eval_text("avg(temp, 30s) > 1", &f.c), VGL_UNKNOWN);
	ASSERT_EQ(eval_text("avg(temp, 30s) > 1 or temp == 0", &f.c), VGL_TRUE);
	ASSERT_EQ(eval_text("avg(temp, 30s) > 1 and temp == 1", &f.c), VGL_FALSE);
	f.c.now_ms = now;
	/* no window kept for the metric, or none at all */
	ASSERT_NUM_UNKNOWN("avg(fan_rpm, 30s)", &f.c);
	f.c.windows = NULL;
	ASSERT_NUM_UNKNOWN("last(temp, 30s)", &f.c);
	fixture_free(&f);
}

TEST(expr_rate_wraps_and_resets)
{
	struct fixture f;
	const int64_t now = 10000000;

	fixture_init(&f, now);
	f.w[M_OCTETS] = vgl_window_new(8);
	ASSERT(f.w[M_OCTETS] != NULL);
	/* 32-bit wrap: 296 to the top, 200 after it, over 30 s */
	vgl_window_push(f.w[M_OCTETS], now - 30000, 4294967000.0);
	vgl_window_push(f.w[M_OCTETS], now, 200);
	ASSERT_NUM("rate(octets, 30s)", &f.c, 496.0 / 30);
	ASSERT_EQ(eval_text("rate(octets, 30s) * 8 > 132", &f.c), VGL_TRUE);
	ASSERT_EQ(eval_text("rate(octets, 30s) * 8 > 133", &f.c), VGL_FALSE);
	/* 64-bit wrap: 2^64 - 4096 -> 1000 over 10 s */
	vgl_window_copy(f.w[M_OCTETS], NULL);
	vgl_window_push(f.w[M_OCTETS], now - 10000, 18446744073709547520.0);
	vgl_window_push(f.w[M_OCTETS], now, 1000);
	ASSERT_NUM("rate(octets, 10s)", &f.c, 509.6);
	/* reset: 1e9 -> 5 counts 5 */
	vgl_window_copy(f.w[M_OCTETS], NULL);
	vgl_window_push(f.w[M_OCTETS], now - 10000, 1e9);
	vgl_window_push(f.w[M_OCTETS], now, 5);
	ASSERT_NUM("rate(octets, 10s)", &f.c, 0.5);
	fixture_free(&f);
}

TEST(expr_nodata_both_forms)
{
	struct fixture f;
	const int64_t now = 10000000;
	int64_t good[N_METRICS] = { 0 };

	fixture_init(&f, now);
	/* host form: never polled, measured from start */
	f.c.start_ms = now - 29999;
	ASSERT_EQ(eval_text("nodata(30s)", &f.c), VGL_FALSE);
	f.c.start_ms = now - 30000;
	ASSERT_EQ(eval_text("nodata(30s)", &f.c), VGL_TRUE);
	/* from the last good poll: at least D ago */
	f.c.start_ms = now - 3600000;
	f.c.last_good_ms = now - 30000;
	ASSERT_EQ(eval_text("nodata(30s)", &f.c), VGL_TRUE);
	f.c.last_good_ms = now - 29999;
	ASSERT_EQ(eval_text("nodata(30s)", &f.c), VGL_FALSE);
	ASSERT_EQ(eval_text("not nodata(30s) and temp == 0", &f.c), VGL_TRUE);

	/* metric form from metric_good_ms: a sample at now - D is inside */
	f.c.metric_good_ms = good;
	good[M_TEMP] = now - 30000;
	ASSERT_EQ(eval_text("nodata(temp, 30s)", &f.c), VGL_FALSE);
	good[M_TEMP] = now - 30001;
	ASSERT_EQ(eval_text("nodata(temp, 30s)", &f.c), VGL_TRUE);
	good[M_TEMP] = 0;                       /* never: from start */
	f.c.start_ms = now - 30000;
	ASSERT_EQ(eval_text("nodata(temp, 30s)", &f.c), VGL_FALSE);
	f.c.start_ms = now - 30001;
	ASSERT_EQ(eval_text("nodata(temp, 30s)", &f.c), VGL_TRUE);

	/* metric form from the window's newest sample */
	f.c.metric_good_ms = NULL;
	ASSERT_EQ(eval_text("nodata(temp, 30s)", &f.c), VGL_UNKNOWN);   /* no window */
	f.w[M_TEMP] = vgl_window_new(4);
	ASSERT(f.w[M_TEMP] != NULL);
	ASSERT_EQ(eval_text("nodata(temp, 30s)", &f.c), VGL_TRUE);      /* empty, start long ago */
	vgl_window_push(f.w[M_TEMP], now - 10000, 1);
	ASSERT_EQ(eval_text("nodata(temp, 30s)", &f.c), VGL_FALSE);
	ASSERT_EQ(eval_text("nodata(temp, 5s)", &f.c), VGL_TRUE);
	ASSERT_EQ(eval_text("nodata(temp, 5s) or nodata(fan_rpm, 5s)", &f.c), VGL_TRUE);
	ASSERT_EQ(eval_text("nodata(temp, 30s) or nodata(fan_rpm, 5s)", &f.c), VGL_UNKNOWN);
	fixture_free(&f);
}

TEST(expr_windows_listed_for_the_engine)
{
	struct vgl_expr *e = parse_with("avg(temp, 30s) > 1 and rate(octets, 5m) > 0 and "
					"max(temp, 1m) < 9 and nodata(fan_rpm, 10s) and "
					"nodata(2m) and ifOperStatus == up", &all);
	struct vgl_expr_window w[4];
	size_t idx[8];

	ASSERT_EQ(vgl_expr_windows(e, w, 4), 3);
	ASSERT_EQ(w[0].metric, M_TEMP);
	ASSERT_EQ(w[0].span_ms, 60000);
	ASSERT_EQ(w[1].metric, M_FAN);
	ASSERT_EQ(w[1].span_ms, 10000);
	ASSERT_EQ(w[2].metric, M_OCTETS);
	ASSERT_EQ(w[2].span_ms, 300000);
	w[1].metric = 99;
	ASSERT_EQ(vgl_expr_windows(e, w, 1), 3);
	ASSERT_EQ(w[1].metric, 99);
	/* metrics read through functions are read */
	ASSERT_EQ(vgl_expr_metrics(e, idx, 8), 4);
	ASSERT_EQ(idx[0], M_IF);
	ASSERT_EQ(idx[1], M_TEMP);
	ASSERT_EQ(idx[2], M_FAN);
	ASSERT_EQ(idx[3], M_OCTETS);
	vgl_expr_free(e);
	e = parse_with("temp > 1", &all);
	ASSERT_EQ(vgl_expr_windows(e, w, 4), 0);
	vgl_expr_free(e);
}

TEST(expr_value_is_the_first_left_operand)
{
	struct fixture f;
	struct vgl_expr *e;
	double x = 0;

	fixture_init(&f, 1000000);
	f.v[M_TEMP].v = 30;
	f.v[M_FAN].v = 2;
	e = parse_with("temp * 2 > 50", &all);
	ASSERT_EQ(vgl_expr_value(e, &f.c, &x), 0);
	ASSERT_EQ(x, 60);
	vgl_expr_free(e);
	e = parse_with("nodata(30s) or (fan_rpm + 1 < 3 and temp > 1)", &all);
	ASSERT_EQ(vgl_expr_value(e, &f.c, &x), 0);
	ASSERT_EQ(x, 3);
	vgl_expr_free(e);
	e = parse_with("nodata(30s)", &all);
	ASSERT_EQ(vgl_expr_value(e, &f.c, &x), -1);
	vgl_expr_free(e);
	e = parse_with("temp > 1", &all);
	f.v[M_TEMP].q = VGL_Q_TIMEOUT;
	ASSERT_EQ(vgl_expr_value(e, &f.c, &x), -1);
	vgl_expr_free(e);
	fixture_free(&f);
}

TEST(expr_ext_refs_and_bind)
{
	struct vgl_conf_enum sw_a[] = { { "up", 1 }, { "down", 2 } };
	struct vgl_conf_enum sw_b[] = { { "down", 2 }, { "up", 1 }, { "dormant", 5 } };
	struct vgl_conf_enum sw_c[] = { { "up", 1 }, { "down", 7 } };
	struct vgl_conf_metric port_a = { .name = "ifOperStatus", .enums = sw_a, .n_enums = 2 };
	struct vgl_conf_metric port_b = { .name = "ifOperStatus", .enums = sw_b, .n_enums = 3 };
	struct vgl_conf_metric port_c = { .name = "ifOperStatus", .enums = sw_c, .n_enums = 2 };
	struct vgl_conf_metric port_d = { .name = "ifOperStatus" };
	const char *text = "uplink.ifOperStatus == down and feed.outlet_state == 0 or "
			   "uplink.ifOperStatus != up and feed.outlet_state < 0";
	struct vgl_expr *e = parse_with(text, &all);
	struct vgl_value ext[2] = { { 2, VGL_Q_OK }, { 0, VGL_Q_OK } };
	struct vgl_value v[N_METRICS] = { { 0 } };
	struct vgl_expr_ctx c = { .values = v, .ext = ext };
	struct vgl_expr_error err;
	const struct vgl_expr_ext *x;

	ASSERT_EQ(vgl_expr_n_ext(e), 2);
	x = vgl_expr_ext_at(e, 0);
	ASSERT(x != NULL);
	ASSERT_EQ(x->kind, VGL_EXPR_EXT_UPLINK);
	ASSERT_STREQ(x->metric, "ifOperStatus");
	ASSERT_EQ(x->offset, 0);
	x = vgl_expr_ext_at(e, 1);
	ASSERT_EQ(x->kind, VGL_EXPR_EXT_FEED);
	ASSERT_STREQ(x->metric, "outlet_state");
	ASSERT_EQ(x->offset, 32);
	ASSERT(vgl_expr_ext_at(e, 2) == NULL);
	/* ext refs are not metrics of the host */
	ASSERT_EQ(vgl_expr_metrics(e, NULL, 0), 0);

	/* before the bind the label comparisons are unknown */
	ASSERT_EQ(vgl_expr_eval_ctx(e, &c), VGL_UNKNOWN);
	/* no label compared with feed.outlet_state: any bind succeeds */
	ASSERT_EQ(vgl_expr_bind_ext(e, 1, NULL, &err), 0);
	/* a label missing on the device */
	ASSERT_EQ(vgl_expr_bind_ext(e, 0, &port_d, &err), -1);
	ASSERT_EQ(err.offset, 23);
	ASSERT_STREQ(err.msg, "'down' is not a state of uplink.ifOperStatus");
	ASSERT_EQ(vgl_expr_eval_ctx(e, &c), VGL_UNKNOWN);
	ASSERT_EQ(vgl_expr_bind_ext(e, 0, &port_a, &err), 0);
	ASSERT_EQ(vgl_expr_eval_ctx(e, &c), VGL_TRUE);
	ext[0].v = 1;
	ASSERT_EQ(vgl_expr_eval_ctx(e, &c), VGL_FALSE);
	/* the same mapping on another host's switch, in another order: fine */
	ASSERT_EQ(vgl_expr_bind_ext(e, 0, &port_b, &err), 0);
	/* down is 7 there: one rule cannot mean two values */
	ASSERT_EQ(vgl_expr_bind_ext(e, 0, &port_c, &err), -1);
	ASSERT_EQ(err.offset, 23);
	ASSERT_STREQ(err.msg, "state 'down' of uplink.ifOperStatus is 7 on this device but 2 "
			      "on another");
	/* nothing changed by the refused bind */
	ext[0].v = 2;
	ASSERT_EQ(vgl_expr_eval_ctx(e, &c), VGL_TRUE);
	ASSERT_EQ(vgl_expr_bind_ext(e, 2, &port_a, &err), -1);
	/* missing ext values are unknown */
	ext[0].q = VGL_Q_TIMEOUT;
	ASSERT_EQ(vgl_expr_eval_ctx(e, &c), VGL_UNKNOWN);
	c.ext = NULL;
	ASSERT_EQ(vgl_expr_eval_ctx(e, &c), VGL_UNKNOWN);
	vgl_expr_free(e);

	/* unique (kind, name) pairs in order of first appearance */
	e = parse_with("feed.x > 1 or uplink.x > 1 or feed.x < 0 or feed.y.z == 1", &all);
	ASSERT_EQ(vgl_expr_n_ext(e), 3);
	ASSERT_STREQ(vgl_expr_ext_at(e, 0)->metric, "x");
	ASSERT_EQ(vgl_expr_ext_at(e, 1)->kind, VGL_EXPR_EXT_UPLINK);
	ASSERT_STREQ(vgl_expr_ext_at(e, 2)->metric, "y.z");
	ASSERT_EQ(vgl_expr_ext_at(e, 2)->offset, 44);
	vgl_expr_free(e);
	/* a metric of the profile wins over the prefix */
	{
		struct vgl_conf_metric m[] = { { .name = "feed.x" } };
		struct vgl_value mv[] = { { 3, VGL_Q_OK } };

		ASSERT_EQ(vgl_expr_parse("feed.x == 3", m, 1, &e, &err), 0);
		ASSERT_EQ(vgl_expr_eval(e, mv), VGL_TRUE);
		ASSERT_EQ(vgl_expr_n_ext(e), 0);
		vgl_expr_free(e);
	}
}

TEST(expr_sla_functions)
{
	struct vgl_expr_sla s = { .known = 1, .allowance_ms = 1000, .allowance_left_ms = 600,
				  .downtime_ms = 400, .next_band_ms = 250, .unavailable = 1 };
	struct vgl_value v[N_METRICS] = { { 0 } };
	struct vgl_expr_ctx c = { .values = v, .sla = &s };

	ASSERT_NUM("sla_allowance_ms()", &c, 1000);
	ASSERT_NUM("sla_allowance_left_ms()", &c, 600);
	ASSERT_NUM("sla_downtime_ms()", &c, 400);
	ASSERT_NUM("sla_next_band_ms()", &c, 250);
	ASSERT_NUM("unavailable()", &c, 1);
	ASSERT_EQ(eval_text("sla_downtime_ms() / sla_allowance_ms() >= 0.4 and unavailable() == 1",
			    &c), VGL_TRUE);
	s.allowance_left_ms = 29 * 60000;
	ASSERT_EQ(eval_text("sla_allowance_left_ms() < 30m", &c), VGL_TRUE);
	s.unavailable = 0;
	ASSERT_NUM("unavailable()", &c, 0);
	s.next_band_ms = -1;
	ASSERT_NUM_UNKNOWN("sla_next_band_ms()", &c);
	ASSERT_NUM("sla_downtime_ms()", &c, 400);
	s.known = 0;
	ASSERT_NUM_UNKNOWN("sla_allowance_ms()", &c);
	ASSERT_NUM_UNKNOWN("unavailable()", &c);
	c.sla = NULL;
	s.known = 1;
	ASSERT_NUM_UNKNOWN("sla_downtime_ms()", &c);
	ASSERT_EQ(eval_text("unavailable() == 1", &c), VGL_UNKNOWN);
}

TEST(expr_last_keeps_states)
{
	struct fixture f;
	struct vgl_expr_error err;
	struct vgl_expr *e;

	fixture_init(&f, 1000000);
	f.w[M_IF] = vgl_window_new(4);
	ASSERT(f.w[M_IF] != NULL);
	vgl_window_push(f.w[M_IF], 990000, 2);
	ASSERT_EQ(eval_text("last(ifOperStatus, 1m) == down", &f.c), VGL_TRUE);
	ASSERT_EQ(eval_text("up != last(ifOperStatus, 1m)", &f.c), VGL_TRUE);
	ASSERT_EQ(vgl_expr_parse_opts("avg(ifOperStatus, 1m) == down", metrics, N_METRICS, &all,
				      &e, &err), -1);
	ASSERT_EQ(err.offset, 25);
	ASSERT_STREQ(err.msg, "unknown metric 'down'");
	fixture_free(&f);
}

TEST(expr_rule_errors_exact)
{
	static const struct {
		const char *text;
		const struct vgl_expr_opts *opts;
		size_t offset;
		const char *msg;
	} cases[] = {
		{ "foo(temp) > 1", &all, 0, "unknown function 'foo'" },
		{ "temp > 1 and avg(temp) > 1", &all, 13,
		  "avg() takes 2 arguments: avg(METRIC, DURATION)" },
		{ "avg(temp, 30s, 5m) > 1", &all, 0,
		  "avg() takes 2 arguments: avg(METRIC, DURATION)" },
		{ "rate() > 1", &all, 0, "rate() takes 2 arguments: rate(METRIC, DURATION)" },
		{ "nodata()", &all, 0,
		  "nodata() takes 1 or 2 arguments: nodata(DURATION) or nodata(METRIC, DURATION)" },
		{ "nodata(temp, 1m, 1m)", &all, 0,
		  "nodata() takes 1 or 2 arguments: nodata(DURATION) or nodata(METRIC, DURATION)" },
		{ "unavailable(temp) == 1", &all, 0, "unavailable() takes no arguments" },
		{ "avg(temp, 30x) > 1", &all, 10,
		  "bad duration '30x': a whole number followed by ms, s, m or h (500ms, 30s, 5m, 1h)" },
		{ "avg(temp, 1.5s) > 1", &all, 10,
		  "bad duration '1.5s': a whole number followed by ms, s, m or h (500ms, 30s, 5m, 1h)" },
		{ "avg(temp, 30) > 1", &all, 10,
		  "expected a duration (30s, 5m, 1h) as the last argument of avg()" },
		{ "nodata(temp)", &all, 7,
		  "expected a duration (30s, 5m, 1h) as the last argument of nodata()" },
		{ "avg(temp, 500ms) > 1", &all, 10, "duration '500ms' is out of range: 1s to 24h" },
		{ "max(temp, 25h) > 1", &all, 10, "duration '25h' is out of range: 1s to 24h" },
		{ "nodata(86400001ms)", &all, 7,
		  "duration '86400001ms' is out of range: 1s to 24h" },
		{ "avg(feed.power, 30s) > 1", &all, 4,
		  "avg() reads a metric of this host, not of another device ('feed.power')" },
		{ "nodata(uplink.x, 30s)", &all, 7,
		  "nodata() reads a metric of this host, not of another device ('uplink.x')" },
		{ "avg(tmep, 30s) > 1", &all, 4, "unknown metric 'tmep'" },
		{ "avg(5, 30s) > 1", &all, 4, "the first argument of avg() must be a metric of the host" },
		{ "avg(temp 30s) > 1", &all, 0, "avg() takes 2 arguments: avg(METRIC, DURATION)" },
		{ "avg(temp, 30s > 1", &all, 14, "expected ')'" },
		{ "(temp > 1) + 1 > 2", &all, 11, "'+' takes numbers, not a condition" },
		{ "temp > 1 * (fan_rpm < 2)", &all, 9, "'*' takes numbers, not a condition" },
		{ "-(temp > 1)", &all, 0, "'-' takes numbers, not a condition" },
		{ "nodata(30s) / 2 > 1", &all, 12, "'/' takes numbers, not a condition" },
		{ "nodata(30s) > 1", &all, 12,
		  "'>' cannot compare conditions: combine them with and/or/not" },
		{ "temp + 1 == down", &all, 12, "unknown metric 'down'" },
		{ "3 == down", &all, 5, "unknown metric 'down'" },
		{ "ifOperStatus == down + 1", &all, 16,
		  "state 'down' can only be compared (== or !=) with a metric that has it" },
		{ "last(ifOperStatus, 1m) < down", &all, 23, "'<' cannot compare states: use == or !=" },
		{ "uplink.ifOperStatus >= down", &all, 20, "'>=' cannot compare states: use == or !=" },
		{ "avg(temp, 30s)", &all, 0, "a number alone is not a condition: compare it" },
		{ "temp * 2", &all, 0, "a number alone is not a condition: compare it" },
		{ "uplink.ifOperStatus", &all, 0, "a metric alone is not a condition: compare it" },
		{ "feed. == 1", &all, 0, "expected a metric name after 'feed.'" },
		{ "1 +", &all, 3, "unexpected end of expression" },
		{ "5e > 1", &all, 0, "malformed number '5e'" },
		{ "temp-5 > 1", &none, 0, "unknown metric 'temp-5' (put blanks around '-' to subtract)" },
		{ "temp - 5 > x-1", &none, 11, "unknown metric 'x-1'" },
		{ "temp > 1 and not", &all, 16, "unexpected end of expression" },
		/* features not allowed */
		{ "avg(temp, 30s) > 1", &none, 0, "window functions are allowed in alarm rules only" },
		{ "temp > 1 or nodata(30s)", &none, 12,
		  "window functions are allowed in alarm rules only" },
		{ "uplink.ifOperStatus == down", &none, 0,
		  "references to other devices (feed.NAME, uplink.NAME) are allowed in alarm "
		  "rules only" },
		{ "sla_downtime_ms() > 0", &none, 0, "SLA functions are allowed in alarm rules only" },
		{ "unavailable() == 1", &no_sla, 0,
		  "SLA functions are allowed in alarm rules only" },
		{ "last(temp, 1m) > 0", &no_win, 0,
		  "window functions are allowed in alarm rules only" },
		{ "feed.x > 0", &no_ext, 0,
		  "references to other devices (feed.NAME, uplink.NAME) are allowed in alarm "
		  "rules only" },
		{ "foo(1) > 0", &none, 0, "unknown function 'foo'" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct vgl_expr *e = (struct vgl_expr *)1;
		struct vgl_expr_error err;
		int rc = vgl_expr_parse_opts(cases[i].text, metrics, N_METRICS, cases[i].opts, &e,
					     &err);

		if (rc != -1 || e != NULL || err.offset != cases[i].offset ||
		    strcmp(err.msg, cases[i].msg) != 0) {
			fprintf(stderr, "'%s': rc %d, offset %zu, msg \"%s\"; want %zu \"%s\"\n",
				cases[i].text, rc, err.offset, err.msg, cases[i].offset,
				cases[i].msg);
			ASSERT(0);
		}
	}
	/* each option alone admits its feature; the span limits are inclusive */
	static const char *ok[] = {
		"min(temp, 1000ms) > 1 and max(temp, 24h) < 2 and nodata(1s)",
		"feed.outlet_state == 0",
		"sla_next_band_ms() < 1h",
	};
	for (int i = 0; i < 3; i++) {
		struct vgl_expr_opts o = { i == 0, i == 1, i == 2 };

		vgl_expr_free(parse_with(ok[i], &o));
	}
	/* NULL options are all off */
	{
		struct vgl_expr *e = NULL;
		struct vgl_expr_error err;

		ASSERT_EQ(vgl_expr_parse_opts("nodata(30s)", metrics, N_METRICS, NULL, &e, &err), -1);
		ASSERT_STREQ(err.msg, "window functions are allowed in alarm rules only");
	}
}

TEST(expr_stack_bound_checked_at_parse)
{
	char text[2048];
	size_t n = 0;
	struct vgl_expr *e = NULL;
	struct vgl_expr_error err;
	struct vgl_value v[N_METRICS] = { { 0 } };

	/* each level keeps one number pending: 40 fit ... */
	for (int i = 0; i < 40; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "1 + (");
	n += (size_t)snprintf(text + n, sizeof(text) - n, "1");
	for (int i = 0; i < 40; i++)
		text[n++] = ')';
	snprintf(text + n, sizeof(text) - n, " == 41");
	ASSERT_EQ(vgl_expr_parse(text, metrics, N_METRICS, &e, &err), 0);
	ASSERT_EQ(vgl_expr_eval(e, v), VGL_TRUE);
	vgl_expr_free(e);
	/* ... 64 levels nest legally but need 65 pending values */
	n = 0;
	for (int i = 0; i < 64; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "1 + (");
	n += (size_t)snprintf(text + n, sizeof(text) - n, "1");
	for (int i = 0; i < 64; i++)
		text[n++] = ')';
	snprintf(text + n, sizeof(text) - n, " == 65");
	ASSERT_EQ(vgl_expr_parse(text, metrics, N_METRICS, &e, &err), -1);
	ASSERT_CONTAINS(err.msg, "expression too complex");
	/* unary minus is nesting too */
	memset(text, '-', 1000);
	strcpy(text + 1000, "1 > 0");
	ASSERT_EQ(vgl_expr_parse(text, metrics, N_METRICS, &e, &err), -1);
	ASSERT_CONTAINS(err.msg, "nests deeper");
}

/* A deterministic generator: the same strings every run. */
static uint32_t lcg(uint32_t *s)
{
	*s = *s * 1103515245u + 12345u;
	return *s >> 8;
}

TEST(expr_fuzzish_parse_never_crashes)
{
	static const char *frag[] = {
		"avg(", "min(", "max(", "last(", "delta(", "rate(", "changes(", "nodata(",
		"temp", "octets", "ifOperStatus", "fan_rpm", "psu.state", "feed.outlet", "uplink.x",
		"feed.", "down", "up", "x", ",", ")", "(", "+", "-", "*", "/", "==", "!=", "<", ">=",
		"and", "or", "not", "1", "0", "2.5", "1e3", "1e", "30s", "5m", "500ms", "25h",
		"30x", "sla_downtime_ms()", "unavailable()", "sla_next_band_ms(", " ", "  ", "=",
		"!", "#", "\x80", "1.", ".",
	};
	static const char *valid[] = {
		"avg(temp, 30s) > 1 and rate(octets, 5m) * 8 > 1e6 or nodata(2m)",
		"uplink.ifOperStatus == down and feed.outlet_state == 0 and not nodata(temp, 1m)",
		"(sla_allowance_left_ms() - 30m) / 1h < -0.5 or unavailable() == 1",
		"last(ifOperStatus, 1m) != up and changes(ifOperStatus, 10m) >= 3",
	};
	struct fixture f;
	struct vgl_value ext[8] = { { 1, VGL_Q_OK }, { 2, VGL_Q_OK }, { 3, VGL_Q_OK } };
	struct vgl_expr_sla s = { .known = 1, .allowance_ms = 100, .next_band_ms = -1 };
	struct vgl_conf_metric dev = { .name = "ifOperStatus", .enums = if_states, .n_enums = 3 };
	uint32_t seed = 20261204;
	char text[512];
	int parsed = 0;

	fixture_init(&f, 10000000);
	f.c.sla = &s;
	for (size_t i = 0; i < N_METRICS; i++) {
		f.w[i] = vgl_window_new(8);
		ASSERT(f.w[i] != NULL);
		for (int k = 0; k < 6; k++)
			vgl_window_push(f.w[i], 10000000 - 50000 + k * 10000, (double)(k * k));
	}
	for (int iter = 0; iter < 6000; iter++) {
		size_t n = 0;

		if (iter < 4 * 200) {
			/* every prefix-ish truncation of the valid ones */
			const char *v = valid[iter % 4];
			size_t cut = (size_t)(iter / 4) % (strlen(v) + 1);

			memcpy(text, v, cut);
			n = cut;
		} else {
			int parts = 1 + (int)(lcg(&seed) % 12);

			for (int k = 0; k < parts; k++) {
				const char *p = frag[lcg(&seed) % (sizeof(frag) / sizeof(frag[0]))];
				size_t l = strlen(p);

				if (n + l + 2 >= sizeof(text))
					break;
				memcpy(text + n, p, l);
				n += l;
				if (lcg(&seed) % 3)
					text[n++] = ' ';
			}
		}
		text[n] = '\0';
		for (int o = 0; o < 2; o++) {
			struct vgl_expr *e = NULL;
			struct vgl_expr_error err;
			double x;

			memset(&err, 0, sizeof(err));
			if (vgl_expr_parse_opts(text, metrics, N_METRICS, o ? &all : &none, &e, &err)) {
				ASSERT(e == NULL);
				ASSERT(err.offset <= n);
				ASSERT(err.msg[0] != '\0');
				continue;
			}
			parsed++;
			ASSERT(vgl_expr_n_ext(e) <= 8);
			for (size_t k = 0; k < vgl_expr_n_ext(e); k++)
				vgl_expr_bind_ext(e, k, &dev, &err);
			enum vgl_tri t = vgl_expr_eval_ctx(e, &f.c);
			ASSERT(t == VGL_TRUE || t == VGL_FALSE || t == VGL_UNKNOWN);
			f.c.ext = ext;
			t = vgl_expr_eval_ctx(e, &f.c);
			ASSERT(t == VGL_TRUE || t == VGL_FALSE || t == VGL_UNKNOWN);
			f.c.ext = NULL;
			vgl_expr_value(e, &f.c, &x);
			ASSERT(vgl_expr_windows(e, NULL, 0) <= N_METRICS);
			vgl_expr_free(e);
		}
	}
	/* the full valid texts parsed, and some random ones */
	ASSERT_GT(parsed, 8);
	fixture_free(&f);
}
