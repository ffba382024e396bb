/* Power and cooling topology (conf/topo_load.c, rules/topo.c, the
 * external conditions of rules/avail.c): a PDU outlet off takes down
 * exactly the hosts it alone feeds, with cause power and the outlet in the
 * evidence, and marks an A+B host degraded only; a UPS's site-wide
 * condition reaches the hosts behind its PDUs with its own cause; a room's
 * reaches the hosts that depend on it; recovery closes all at the first
 * recovering observation; a restart's restored interval is closed by the
 * topology's first judgement; cycles and unknown names are config errors
 * with FILE:LINE:COL. */
#include <cjson/cJSON.h>

#include "conf/conf.h"
#include "rules/avail.h"
#include "rules/topo.h"
#include "rules/values.h"
#include "test/test.h"
#include "test/unit/conf_util.h"

#define T0 1793872800000LL

struct ev {
	uint32_t host;
	int kind;               /* VGL_AVAIL_OPEN / CLOSE */
	int64_t ts;
	char cause[32], rule[64], evidence[512];
};

struct site {
	struct vgl_conf *c;
	struct vgl_topo *t;
	struct vgl_avail **a;
	struct ev ev[64];
	size_t n_ev;
	char degraded[16][128];
	uint32_t cur;           /* host of the event being recorded */
};

static void on_event(void *ctx, const struct vgl_avail_event *e)
{
	struct site *s = ctx;
	struct ev *v = &s->ev[s->n_ev++];

	ASSERT(s->n_ev < 64);
	v->host = s->cur;
	v->kind = e->kind;
	v->ts = e->ts_ms;
	snprintf(v->cause, sizeof(v->cause), "%s", e->cause ? e->cause : "");
	snprintf(v->rule, sizeof(v->rule), "%s", e->rule ? e->rule : "");
	snprintf(v->evidence, sizeof(v->evidence), "%s", e->evidence ? e->evidence : "");
}

static int64_t g_ts;

static void on_change(void *ctx, const struct vgl_topo_change *ch)
{
	struct site *s = ctx;

	s->cur = ch->host;
	ASSERT_EQ(vgl_avail_external(s->a[ch->host], ch->kind, ch->holding, g_ts, ch->cause,
				     ch->rule, ch->evidence, on_event, s), 0);
}

static void on_degraded(void *ctx, uint32_t host, const char *text)
{
	struct site *s = ctx;

	snprintf(s->degraded[host], sizeof(s->degraded[0]), "%s", text ? text : "");
}

static long host(const struct site *s, const char *name)
{
	const struct vgl_conf_host *h = vgl_conf_find_host(s->c, name);

	ASSERT(h != NULL);
	return h - s->c->hosts;
}

static void site_load(struct site *s, const char *text)
{
	memset(s, 0, sizeof(*s));
	s->c = load_ok(text);
	ASSERT(s->c->n_hosts <= 16);
	ASSERT_EQ(vgl_topo_new(s->c, &s->t), 0);
	ASSERT(s->t != NULL);
	s->a = calloc(s->c->n_hosts, sizeof(*s->a));
	for (size_t i = 0; i < s->c->n_hosts; i++)
		ASSERT_EQ(vgl_avail_create(s->c->hosts[i].profile, &s->a[i]), 0);
}

static void site_free(struct site *s)
{
	for (size_t i = 0; i < s->c->n_hosts; i++)
		vgl_avail_free(s->a[i]);
	free(s->a);
	vgl_topo_free(s->t);
	vgl_conf_free(s->c);
}

/* A poll of device `name` (source 0) with its metrics' values, then the
 * topology, as the daemon's on_poll does. */
static void poll(struct site *s, const char *name, int64_t ts, const double *vals)
{
	long h = host(s, name);
	const struct vgl_conf_profile *p = s->c->hosts[h].profile;
	struct vgl_value v[16];
	struct vgl_poll_result r = { .host = (uint32_t)h, .source = 0, .ts_ms = ts,
				     .quality = VGL_Q_OK, .n_values = p->sources[0].n_metrics,
				     .values = v, .metrics = p->sources[0].metrics,
				     .interval_ms = 1000 };

	for (size_t i = 0; i < r.n_values; i++)
		v[i] = (struct vgl_value){ vals[i], VGL_Q_OK };
	s->cur = (uint32_t)h;
	ASSERT_EQ(vgl_avail_observe(s->a[h], &r, on_event, s), 0);
	g_ts = ts;
	vgl_topo_observe(s->t, (uint32_t)h, ts, vgl_values_all(vgl_avail_values(s->a[h])),
			 vgl_avail_site_wide(s->a[h]), on_change, on_degraded, s);
}

#define PDU_T "\"pdu\": { \"sources\": { \"mb\": { \"type\": \"modbus\" } },\n" \
	"  \"metrics\": { \"outlet3\": { \"source\": \"mb\", \"table\": \"coil\", \"register\": 3 },\n" \
	"               \"outlet4\": { \"source\": \"mb\", \"table\": \"coil\", \"register\": 4 } } }"

static const char pdu_site[] =
	"{ \"templates\": { " PDU_T " },\n"
	"  \"hosts\": [\n"
	"    { \"name\": \"pdu-a1\", \"address\": \"127.0.0.1\", \"template\": \"pdu\" },\n"
	"    { \"name\": \"pdu-b1\", \"address\": \"127.0.0.2\", \"template\": \"pdu\" },\n"
	"    { \"name\": \"srv-1\", \"address\": \"127.0.0.3\", \"feeds\": [\"pdu-a1.outlet3\"] },\n"
	"    { \"name\": \"srv-2\", \"address\": \"127.0.0.4\", \"feeds\": [\"pdu-a1.outlet3\"] },\n"
	"    { \"name\": \"srv-3\", \"address\": \"127.0.0.5\", \"feeds\": [\"pdu-a1.outlet3\"] },\n"
	"    { \"name\": \"srv-ab\", \"address\": \"127.0.0.6\",\n"
	"      \"feeds\": [\"pdu-a1.outlet3\", \"pdu-b1.outlet3\"] } ] }";

TEST(topo_outlet_off_takes_down_the_hosts_it_alone_feeds)
{
	struct site s;
	long ab;

	site_load(&s, pdu_site);
	ab = host(&s, "srv-ab");
	poll(&s, "pdu-a1", T0, (double[]){ 1, 1 });
	poll(&s, "pdu-b1", T0, (double[]){ 1, 1 });
	ASSERT_EQ(s.n_ev, 0);
	ASSERT_STREQ(s.degraded[ab], "");
	/* outlet 4 means nothing to anyone */
	poll(&s, "pdu-a1", T0 + 1000, (double[]){ 1, 0 });
	ASSERT_EQ(s.n_ev, 0);

	poll(&s, "pdu-a1", T0 + 2000, (double[]){ 0, 0 });
	ASSERT_EQ(s.n_ev, 3);
	for (int i = 0; i < 3; i++) {
		ASSERT_EQ(s.ev[i].kind, VGL_AVAIL_OPEN);
		ASSERT_EQ(s.ev[i].ts, T0 + 2000);
		ASSERT_STREQ(s.ev[i].cause, "power");
		ASSERT_STREQ(s.ev[i].rule, VGL_AVAIL_RULE_POWER);
		ASSERT_CONTAINS(s.ev[i].evidence, "\"decided_by\":\"pdu-a1.outlet3 = 0\"");
		ASSERT_CONTAINS(s.ev[i].evidence, "{\"feed\":\"pdu-a1.outlet3\",\"state\":\"off\"}");
		ASSERT(s.ev[i].host != (uint32_t)ab);
	}
	ASSERT_STREQ(s.degraded[ab], "feeds off: pdu-a1.outlet3");
	ASSERT(vgl_topo_degraded(s.t, (uint32_t)ab));
	ASSERT(!vgl_avail_is_open(s.a[ab]));

	/* still off: nothing new */
	poll(&s, "pdu-a1", T0 + 3000, (double[]){ 0, 0 });
	ASSERT_EQ(s.n_ev, 3);
	/* the other feed of srv-ab too: now it is down, not degraded */
	poll(&s, "pdu-b1", T0 + 3500, (double[]){ 0, 1 });
	ASSERT_EQ(s.n_ev, 4);
	ASSERT_EQ(s.ev[3].host, ab);
	ASSERT_EQ(s.ev[3].kind, VGL_AVAIL_OPEN);
	ASSERT_STREQ(s.degraded[ab], "");

	/* a1 back: closes all four at that observation; srv-ab degraded */
	poll(&s, "pdu-a1", T0 + 4000, (double[]){ 1, 0 });
	ASSERT_EQ(s.n_ev, 8);
	for (int i = 4; i < 8; i++) {
		ASSERT_EQ(s.ev[i].kind, VGL_AVAIL_CLOSE);
		ASSERT_EQ(s.ev[i].ts, T0 + 4000);
		ASSERT_CONTAINS(s.ev[i].evidence, "\"reason\":\"recovered\"");
	}
	ASSERT_STREQ(s.degraded[ab], "feeds off: pdu-b1.outlet3");
	poll(&s, "pdu-b1", T0 + 5000, (double[]){ 1, 1 });
	ASSERT_EQ(s.n_ev, 8);
	ASSERT_STREQ(s.degraded[ab], "");
	site_free(&s);
}

TEST(topo_unanswered_feed_is_no_outlet_off)
{
	struct site s;
	long h;
	struct vgl_value v[2] = { { 0, VGL_Q_TIMEOUT }, { 0, VGL_Q_TIMEOUT } };
	struct vgl_poll_result r = { .source = 0, .quality = VGL_Q_TIMEOUT, .n_values = 2,
				     .values = v, .interval_ms = 1000 };

	site_load(&s, pdu_site);
	h = host(&s, "pdu-a1");
	r.host = (uint32_t)h;
	r.metrics = s.c->hosts[h].profile->sources[0].metrics;
	poll(&s, "pdu-a1", T0, (double[]){ 1, 1 });
	r.ts_ms = T0 + 1000;
	ASSERT_EQ(vgl_avail_observe(s.a[h], &r, on_event, &s), 0);
	g_ts = r.ts_ms;
	vgl_topo_observe(s.t, (uint32_t)h, r.ts_ms, vgl_values_all(vgl_avail_values(s.a[h])),
			 -1, on_change, on_degraded, &s);
	ASSERT_EQ(s.n_ev, 0);
	site_free(&s);
}

static const char ups_site[] =
	"{ \"templates\": { " PDU_T ",\n"
	"    \"ups\": { \"sources\": { \"mb\": { \"type\": \"modbus\" } },\n"
	"      \"metrics\": { \"output_on\": { \"source\": \"mb\", \"register\": 1, \"bit\": 0 },\n"
	"                   \"runtime_min\": { \"source\": \"mb\", \"register\": 2 } },\n"
	"      \"availability\": [ { \"name\": \"battery-exhausted\", \"when\": \"runtime_min < 5\",\n"
	"                            \"cause\": \"facility\", \"site_wide\": true } ] },\n"
	"    \"crac\": { \"sources\": { \"mb\": { \"type\": \"modbus\" } },\n"
	"      \"metrics\": { \"return_c\": { \"source\": \"mb\", \"register\": 0 } },\n"
	"      \"availability\": [ { \"name\": \"room-hot\", \"when\": \"return_c > 35\",\n"
	"                            \"cause\": \"facility\", \"site_wide\": true } ] } },\n"
	"  \"hosts\": [\n"
	"    { \"name\": \"ups-1\", \"address\": \"127.0.0.9\", \"template\": \"ups\" },\n"
	"    { \"name\": \"crac-1\", \"address\": \"127.0.0.10\", \"template\": \"crac\" },\n"
	"    { \"name\": \"pdu-a1\", \"address\": \"127.0.0.1\", \"template\": \"pdu\",\n"
	"      \"feeds\": [\"ups-1.output_on\"] },\n"
	"    { \"name\": \"srv-1\", \"address\": \"127.0.0.3\", \"feeds\": [\"pdu-a1.outlet3\"] },\n"
	"    { \"name\": \"srv-2\", \"address\": \"127.0.0.4\", \"feeds\": [\"pdu-a1.outlet4\"],\n"
	"      \"depends_on\": [\"crac-1\"] } ] }";

TEST(topo_site_wide_conditions_reach_the_hosts_behind)
{
	struct site s;
	long s1, s2, pdu;

	site_load(&s, ups_site);
	s1 = host(&s, "srv-1");
	s2 = host(&s, "srv-2");
	pdu = host(&s, "pdu-a1");
	poll(&s, "ups-1", T0, (double[]){ 1, 30 });
	poll(&s, "crac-1", T0, (double[]){ 22 });
	poll(&s, "pdu-a1", T0, (double[]){ 1, 1 });
	ASSERT_EQ(s.n_ev, 0);

	/* the UPS's battery runs out: the UPS itself (its own condition),
	 * the PDU it feeds and both servers behind the PDU, once each, with
	 * the UPS's cause and rule in the evidence */
	poll(&s, "ups-1", T0 + 1000, (double[]){ 1, 3 });
	ASSERT_EQ(s.n_ev, 4);
	ASSERT_STREQ(s.ev[0].rule, "battery-exhausted");
	for (int i = 1; i < 4; i++) {
		ASSERT_EQ(s.ev[i].kind, VGL_AVAIL_OPEN);
		ASSERT_EQ(s.ev[i].ts, T0 + 1000);
		ASSERT_STREQ(s.ev[i].cause, "facility");
		ASSERT_CONTAINS(s.ev[i].evidence, "ups-1 (rule battery-exhausted)");
	}
	ASSERT(vgl_avail_is_open(s.a[pdu]) && vgl_avail_is_open(s.a[s1]) &&
	       vgl_avail_is_open(s.a[s2]));
	/* a PDU poll meanwhile changes nothing */
	poll(&s, "pdu-a1", T0 + 1500, (double[]){ 1, 1 });
	ASSERT_EQ(s.n_ev, 4);
	poll(&s, "ups-1", T0 + 2000, (double[]){ 1, 25 });
	ASSERT_EQ(s.n_ev, 8);
	for (int i = 4; i < 8; i++) {
		ASSERT_EQ(s.ev[i].kind, VGL_AVAIL_CLOSE);
		ASSERT_EQ(s.ev[i].ts, T0 + 2000);
	}

	/* the room: only srv-2 depends on it */
	poll(&s, "crac-1", T0 + 3000, (double[]){ 38 });
	ASSERT_EQ(s.n_ev, 10);
	ASSERT_EQ(s.ev[9].host, s2);
	ASSERT_STREQ(s.ev[9].cause, "facility");
	ASSERT_STREQ(s.ev[9].rule, "site:crac-1/room-hot");
	ASSERT_CONTAINS(s.ev[9].evidence, "\"metrics\":{\"return_c\":38}");
	poll(&s, "crac-1", T0 + 4000, (double[]){ 30 });
	ASSERT_EQ(s.n_ev, 12);
	ASSERT_EQ(s.ev[11].host, s2);
	ASSERT_EQ(s.ev[11].kind, VGL_AVAIL_CLOSE);
	ASSERT_EQ(s.ev[11].ts, T0 + 4000);
	site_free(&s);
}

TEST(topo_restored_power_interval_closed_by_first_judgement)
{
	struct site s;
	long s1;

	site_load(&s, pdu_site);
	s1 = host(&s, "srv-1");
	vgl_avail_restore_open(s.a[s1], "power", VGL_AVAIL_RULE_POWER, T0 - 60000);
	ASSERT(vgl_avail_external_holding(s.a[s1], VGL_AVAIL_EXT_POWER));
	poll(&s, "pdu-a1", T0, (double[]){ 1, 1 });
	ASSERT_EQ(s.n_ev, 1);
	ASSERT_EQ(s.ev[0].host, s1);
	ASSERT_EQ(s.ev[0].kind, VGL_AVAIL_CLOSE);
	ASSERT_EQ(s.ev[0].ts, T0);
	site_free(&s);
}

TEST(topo_config_errors)
{
	expect_error("{ \"templates\": { " PDU_T " },\n"
		     "  \"hosts\": [ { \"name\": \"pdu-a1\", \"address\": \"a\", \"template\": \"pdu\" },\n"
		     "  { \"name\": \"s\", \"address\": \"b\", \"feeds\": [\"pdu-a1.outlet9\"] } ] }",
		     "5:44: hosts[1].feeds[0]: host 'pdu-a1' has no metric 'outlet9'");
	expect_error("{ \"hosts\": [ { \"name\": \"s\", \"address\": \"b\", \"feeds\": [\"pdu-x.outlet9\"] } ] }",
		     "1:55: hosts[0].feeds[0]: no host named in 'pdu-x.outlet9'");
	expect_error("{ \"hosts\": [ { \"name\": \"s\", \"address\": \"b\", \"depends_on\": [\"crac\"] } ] }",
		     "1:60: hosts[0].depends_on[0]: no host named 'crac'");
	expect_error("{ \"hosts\": [ { \"name\": \"s\", \"address\": \"b\", \"feeds\": [] } ] }",
		     "1:54: hosts[0].feeds: expected 1 to 4 names, got 0");
	/* a cycle: reported at the edge that closes it, the loop spelled out */
	expect_error("{ \"templates\": { " PDU_T " },\n"
		     "  \"hosts\": [\n"
		     "  { \"name\": \"pdu-a1\", \"address\": \"a\", \"template\": \"pdu\", \"feeds\": [\"pdu-b1.outlet3\"] },\n"
		     "  { \"name\": \"pdu-b1\", \"address\": \"b\", \"template\": \"pdu\", \"feeds\": [\"pdu-a1.outlet4\"] } ] }",
		     "6:68: hosts[1].feeds[0]: makes a cycle of feeds and dependencies: pdu-a1 -> "
		     "pdu-b1 -> pdu-a1");
	expect_error("{ \"templates\": { " PDU_T " },\n"
		     "  \"hosts\": [\n"
		     "  { \"name\": \"pdu-a1\", \"address\": \"a\", \"template\": \"pdu\", \"feeds\": [\"pdu-a1.outlet3\"] } ] }",
		     "5:68: hosts[0].feeds[0]: a host cannot be its own feed");
}
