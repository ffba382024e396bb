/* Availability over several sources (rules/avail.c, rules/values.c): an
 * "unreachable" counts only the polls of its source, an expression is
 * observed only when a source of a metric it reads polls, and the host's
 * table of last values keeps every metric with its quality and age. */
#include <math.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "rules/avail.h"
#include "rules/expr.h"
#include "rules/values.h"
#include "test/test.h"

#define T0 1793872800000LL

enum { S_SNMP, S_PING, N_S };
enum { M_TEMP, M_RTT, N_M };

static uint32_t snmp_metrics[] = { M_TEMP };
static uint32_t ping_metrics[] = { M_RTT };

struct fx {
	struct vgl_conf_source src[N_S];
	struct vgl_conf_metric metrics[N_M];
	struct vgl_conf_cond conds[2];
	struct vgl_conf_profile p;
};

/* Two sources: snmp (temp) and ping (rtt); "down" counts K failed pings,
 * "hot" is temp > 90 for for_ms. */
static void fx_init(struct fx *f, uint32_t k, uint32_t for_ms)
{
	struct vgl_expr_error err;

	memset(f, 0, sizeof(*f));
	f->src[S_SNMP] = (struct vgl_conf_source){ .name = "snmp", .interval_ms = 5000,
						   .metrics = snmp_metrics, .n_metrics = 1 };
	f->src[S_PING] = (struct vgl_conf_source){ .name = "ping", .interval_ms = 1000,
						   .metrics = ping_metrics, .n_metrics = 1 };
	f->metrics[M_TEMP] = (struct vgl_conf_metric){ .name = "temp", .source = S_SNMP };
	f->metrics[M_RTT] = (struct vgl_conf_metric){ .name = "rtt", .source = S_PING };
	f->conds[0] = (struct vgl_conf_cond){ .name = "down", .cause = "network",
					      .kind = VGL_COND_UNREACHABLE, .failures = k,
					      .source = S_PING };
	f->conds[1] = (struct vgl_conf_cond){ .name = "hot", .cause = "hardware",
					      .kind = VGL_COND_EXPR, .expr_text = "temp > 90",
					      .for_ms = for_ms, .reads = 1u << S_SNMP };
	ASSERT_EQ(vgl_expr_parse("temp > 90", f->metrics, N_M, &f->conds[1].expr, &err), 0);
	f->p = (struct vgl_conf_profile){ .sources = f->src, .n_sources = N_S,
					  .metrics = f->metrics, .n_metrics = N_M,
					  .conds = f->conds, .n_conds = 2 };
}

static void fx_free(struct fx *f)
{
	vgl_expr_free(f->conds[1].expr);
}

struct events {
	int n_open, n_close;
	int64_t open_ts;
	char rule[32], evidence[1024];
};

static void on_event(void *ctx, const struct vgl_avail_event *e)
{
	struct events *ev = ctx;

	if (e->kind == VGL_AVAIL_OPEN) {
		ev->n_open++;
		ev->open_ts = e->ts_ms;
		snprintf(ev->rule, sizeof(ev->rule), "%s", e->rule);
		snprintf(ev->evidence, sizeof(ev->evidence), "%s", e->evidence);
	} else {
		ev->n_close++;
	}
}

static int feed(struct vgl_avail *a, uint32_t source, int64_t t, enum vgl_quality q, double v,
		struct events *ev)
{
	struct vgl_value val = { v, q == VGL_Q_OK ? VGL_Q_OK : q };
	uint32_t m = source == S_SNMP ? M_TEMP : M_RTT;
	struct vgl_poll_result r = { .host = 0, .source = source, .ts_ms = T0 + t, .quality = q,
				     .n_values = 1, .values = &val, .metrics = &m,
				     .interval_ms = source == S_SNMP ? 5000 : 1000 };

	return vgl_avail_observe(a, &r, on_event, ev);
}

TEST(avail_sources_unreachable_counts_its_source)
{
	struct fx f;
	struct vgl_avail *a;
	struct events ev = { 0 };
	cJSON *j;

	fx_init(&f, 2, 0);
	ASSERT_EQ(vgl_avail_create(&f.p, &a), 0);
	/* the agent times out, again and again: ping still answers */
	for (int i = 0; i < 6; i++) {
		ASSERT_EQ(feed(a, S_SNMP, i * 5000, VGL_Q_TIMEOUT, 0, &ev), 0);
		ASSERT_EQ(feed(a, S_PING, i * 5000 + 100, VGL_Q_OK, 0.4, &ev), 0);
	}
	ASSERT_EQ(ev.n_open, 0);
	/* now ping fails twice: open at the first failed ping */
	ASSERT_EQ(feed(a, S_PING, 40000, VGL_Q_TIMEOUT, 0, &ev), 0);
	ASSERT_EQ(feed(a, S_SNMP, 40500, VGL_Q_OK, 20, &ev), 0);    /* no ping news */
	ASSERT_EQ(ev.n_open, 0);
	ASSERT_EQ(feed(a, S_PING, 41000, VGL_Q_TIMEOUT, 0, &ev), 0);
	ASSERT_EQ(ev.n_open, 1);
	ASSERT_EQ(ev.open_ts, T0 + 40000);
	ASSERT_STREQ(ev.rule, "down");
	j = cJSON_Parse(ev.evidence);
	ASSERT(j != NULL);
	ASSERT_STREQ(cJSON_GetStringValue(cJSON_GetObjectItem(j, "source")), "ping");
	ASSERT_EQ((int)cJSON_GetNumberValue(cJSON_GetObjectItem(j, "count")), 2);
	cJSON_Delete(j);
	/* an answered SNMP poll is no proof the pings came back */
	ASSERT_EQ(feed(a, S_SNMP, 45000, VGL_Q_OK, 20, &ev), 0);
	ASSERT_EQ(ev.n_close, 0);
	ASSERT_EQ(feed(a, S_PING, 46000, VGL_Q_OK, 0.3, &ev), 0);
	ASSERT_EQ(ev.n_close, 1);
	vgl_avail_free(a);
	fx_free(&f);
}

TEST(avail_sources_expression_observed_by_its_sources)
{
	struct fx f;
	struct vgl_avail *a;
	struct events ev = { 0 };

	fx_init(&f, 3, 10000);
	ASSERT_EQ(vgl_avail_create(&f.p, &a), 0);
	ASSERT_EQ(feed(a, S_SNMP, 0, VGL_Q_OK, 95, &ev), 0);        /* TRUE: pending */
	/* pings every second for 11 s: they say nothing about temp, so the
	 * 10 s are not proven by them */
	for (int t = 1000; t <= 11000; t += 1000)
		ASSERT_EQ(feed(a, S_PING, t, VGL_Q_OK, 0.5, &ev), 0);
	ASSERT_EQ(ev.n_open, 0);
	ASSERT_EQ(feed(a, S_SNMP, 12000, VGL_Q_OK, 96, &ev), 0);    /* held 12 s */
	ASSERT_EQ(ev.n_open, 1);
	ASSERT_EQ(ev.open_ts, T0);
	ASSERT_STREQ(ev.rule, "hot");
	vgl_avail_free(a);
	fx_free(&f);
}

TEST(avail_sources_failed_poll_is_unknown_not_stale)
{
	struct fx f;
	struct vgl_avail *a;
	struct events ev = { 0 };
	const struct vgl_values *t;

	fx_init(&f, 3, 10000);
	ASSERT_EQ(vgl_avail_create(&f.p, &a), 0);
	t = vgl_avail_values(a);
	ASSERT_EQ(vgl_values_all(t)[M_TEMP].q, VGL_Q_ABSENT);
	ASSERT_EQ(vgl_values_ts(t, M_TEMP), 0);
	ASSERT_EQ(feed(a, S_SNMP, 0, VGL_Q_OK, 95, &ev), 0);
	ASSERT_EQ(feed(a, S_PING, 500, VGL_Q_OK, 0.5, &ev), 0);
	/* the agent stops answering: temp is no longer current, rtt is */
	ASSERT_EQ(feed(a, S_SNMP, 5000, VGL_Q_TIMEOUT, 0, &ev), 0);
	ASSERT_EQ(vgl_values_all(t)[M_TEMP].q, VGL_Q_TIMEOUT);
	ASSERT(vgl_values_all(t)[M_TEMP].v == 95);     /* the number is kept */
	ASSERT_EQ(vgl_values_ts(t, M_TEMP), T0 + 5000);
	ASSERT_EQ(vgl_values_all(t)[M_RTT].q, VGL_Q_OK);
	ASSERT_EQ(vgl_values_ts(t, M_RTT), T0 + 500);
	/* the stale 95 is UNKNOWN, not TRUE: no 10 s proven through it */
	ASSERT_EQ(feed(a, S_SNMP, 10000, VGL_Q_TIMEOUT, 0, &ev), 0);
	ASSERT_EQ(feed(a, S_SNMP, 15000, VGL_Q_TIMEOUT, 0, &ev), 0);
	ASSERT_EQ(ev.n_open, 0);
	vgl_avail_free(a);
	fx_free(&f);
}

TEST(avail_sources_result_that_does_not_fit)
{
	struct fx f;
	struct vgl_avail *a;
	struct events ev = { 0 };
	struct vgl_value val = { 1, VGL_Q_OK };
	uint32_t wrong = M_TEMP;        /* temp is snmp's, not ping's */
	struct vgl_poll_result r = { .source = S_PING, .ts_ms = T0, .quality = VGL_Q_OK,
				     .n_values = 1, .values = &val, .metrics = &wrong };

	fx_init(&f, 1, 0);
	ASSERT_EQ(vgl_avail_create(&f.p, &a), 0);
	ASSERT_EQ(vgl_avail_observe(a, &r, on_event, &ev), -1);
	r.source = 7;
	ASSERT_EQ(vgl_avail_observe(a, &r, on_event, &ev), -1);
	ASSERT_EQ(vgl_values_all(vgl_avail_values(a))[M_TEMP].q, VGL_Q_ABSENT);
	vgl_avail_free(a);
	fx_free(&f);
}
