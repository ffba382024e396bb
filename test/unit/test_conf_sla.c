/* Config: SLA policies ("sla", "policies", host "service") and counter
 * pairs ("sla_counters"): every error kind at its file:line:col and key
 * path, exact percentages, the preset zone default and policy lookup. */
#include "conf/conf.h"
#include "test/test.h"
#include "test/unit/conf_util.h"

#include <sys/stat.h>
#include <time.h>

static void write_conf(const char *text)
{
	write_file("vigil.json", text, 0644);
}

/* One host polling two counters, so each policy text below is complete. */
#define HOST(service) \
	"  \"hosts\": [ { \"name\": \"h1\", \"address\": \"127.0.0.1\", \"service\": \"" service "\",\n" \
	"    \"snmp\": { \"community\": \"public\" },\n" \
	"    \"metrics\": { \"req\": \".1.3.6.1.4.1.99999.2.0\", \"err\": \".1.3.6.1.4.1.99999.4.0\" } } ]\n"

/* A policy object on line 2, wrapped in a config whose host uses it. */
#define POLICY(body) "{ \"policies\": {\n  \"gold\": { " body " } },\n" HOST("gold") "}\n"
#define GOOD_BANDS "\"bands\": [ { \"from\": 99, \"to\": 99.9, \"credit\": 10 } ]"

TEST(conf_sla_policy_loaded_exactly)
{
	struct vgl_conf *c = load_ok(
		"{ \"sla\": { \"tz\": \"Asia/Ho_Chi_Minh\" },\n"
		"  \"policies\": {\n"
		"    \"gold\": { \"commitment\": \"99.95\",\n"
		"      \"bands\": [ { \"from\": 99.9, \"to\": \"99.95\", \"credit\": 10 },\n"
		"                 { \"from\": \"0\", \"to\": 99.9, \"credit\": 25 } ],\n"
		"      \"counted_causes\": [ \"hardware\", \"network\", \"unknown\" ],\n"
		"      \"notice_planned_h\": 48, \"notice_emergency_min\": 15,\n"
		"      \"maintenance_cap_min\": 90, \"tz\": \"Europe/Berlin\", \"kind\": \"availability\" },\n"
		"    \"callcenter\": { \"base\": \"vcs\", \"commitment\": 99.9999 },\n"
		"    \"cdn-eu\": { \"base\": \"vcdn\", \"credit_unit\": \"percent\", \"tz\": \"UTC\" }\n"
		"  },\n" HOST("gold") "}\n");
	const struct vgl_sla_policy *g = vgl_conf_policy(c, "gold");
	const struct vgl_sla_policy *cc = vgl_conf_policy(c, "callcenter");
	const struct vgl_sla_policy *vs = vgl_conf_policy(c, "vserver");
	const struct vgl_sla_policy *cdn = vgl_conf_policy(c, "cdn-eu");

	ASSERT_EQ(c->n_policies, 3);
	ASSERT(g != NULL && cc != NULL && vs != NULL && cdn != NULL);
	ASSERT(c->hosts[0].policy == g);
	ASSERT(vgl_conf_policy(c, "platinum") == NULL);
	ASSERT(vgl_conf_policy(c, NULL) == NULL);

	ASSERT_STREQ(g->name, "gold");
	ASSERT_EQ(g->kind, VGL_SLA_AVAILABILITY);
	ASSERT_EQ(g->commitment_e4, 999500);
	ASSERT_EQ(g->n_bands, 2);
	ASSERT_EQ(g->bands[0].from_e4, 999000);
	ASSERT_EQ(g->bands[0].to_e4, 999500);
	ASSERT_EQ(g->bands[0].credit, 10);
	ASSERT_EQ(g->bands[1].from_e4, 0);
	ASSERT_EQ(g->bands[1].to_e4, 999000);
	ASSERT_EQ(g->bands[1].credit, 25);
	ASSERT_EQ(g->unit, VGL_CREDIT_PERCENT);
	ASSERT_EQ(g->counted, (1u << VGL_CAUSE_HARDWARE) | (1u << VGL_CAUSE_NETWORK) |
				      (1u << VGL_CAUSE_UNKNOWN));
	ASSERT_EQ(g->notice_ms[VGL_MAINT_PLANNED], 48LL * 3600 * 1000);
	ASSERT_EQ(g->notice_ms[VGL_MAINT_EMERGENCY], 15LL * 60 * 1000);
	ASSERT_EQ(g->maint_cap_ms, 90LL * 60 * 1000);
	ASSERT_STREQ(g->tz, "Europe/Berlin");
	ASSERT_EQ(vgl_sla_policy_check(g, NULL, 0), 0);

	/* From a base: everything of vcs (days, bands) but the commitment,
	 * and the config's zone, which the base took from "sla". */
	ASSERT_STREQ(cc->name, "callcenter");
	ASSERT_EQ(cc->commitment_e4, 999999);
	ASSERT_EQ(cc->unit, VGL_CREDIT_DAYS);
	ASSERT_EQ(cc->n_bands, 3);
	ASSERT_EQ(cc->bands[2].credit, 15);
	ASSERT_STREQ(cc->tz, "Asia/Ho_Chi_Minh");
	ASSERT_EQ(cdn->kind, VGL_SLA_CYCLE_ERRORS);
	ASSERT_STREQ(cdn->tz, "UTC");

	/* Presets: as sla/ has them, with the default zone applied. */
	ASSERT_STREQ(vs->name, "vserver");
	ASSERT_EQ(vs->commitment_e4, vgl_sla_preset("vserver")->commitment_e4);
	ASSERT_STREQ(vs->tz, "Asia/Ho_Chi_Minh");
	ASSERT_STREQ(vgl_sla_preset("vserver")->tz, "UTC");
	ASSERT_STREQ(c->sla_tz, "Asia/Ho_Chi_Minh");
	for (size_t i = 0; vgl_sla_preset_name(i); i++)
		ASSERT(vgl_conf_policy(c, vgl_sla_preset_name(i)) != NULL);
	vgl_conf_free(c);
}

TEST(conf_sla_presets_default_utc)
{
	struct vgl_conf *c = load_ok("{\n" HOST("vbaremetal") "}\n");
	const struct vgl_sla_policy *p = vgl_conf_policy(c, "vbaremetal");

	ASSERT(p != NULL);
	ASSERT(c->hosts[0].policy == p);
	ASSERT_STREQ(p->tz, "UTC");
	ASSERT_EQ(p->counted, vgl_sla_preset("vbaremetal")->counted);
	ASSERT_EQ(c->n_policies, 0);
	vgl_conf_free(c);

	/* Without a base: SLA.md's cloud defaults besides what is given, and
	 * the config's zone. */
	c = load_ok("{ \"sla\": { \"tz\": \"Asia/Tokyo\" }, \"policies\": {\n"
		    "  \"gold\": { \"commitment\": 99.95, " GOOD_BANDS " } },\n" HOST("gold") "}\n");
	p = vgl_conf_policy(c, "gold");
	ASSERT_EQ(p->counted, vgl_sla_preset("vserver")->counted);
	ASSERT_EQ(p->notice_ms[VGL_MAINT_PLANNED], 72LL * 3600 * 1000);
	ASSERT_EQ(p->notice_ms[VGL_MAINT_EMERGENCY], 30LL * 60 * 1000);
	ASSERT_EQ(p->maint_cap_ms, 120LL * 60 * 1000);
	ASSERT_EQ(p->unit, VGL_CREDIT_PERCENT);
	ASSERT_EQ(p->kind, VGL_SLA_AVAILABILITY);
	ASSERT_STREQ(p->tz, "Asia/Tokyo");
	vgl_conf_free(c);
}

TEST(conf_sla_percent_errors)
{
	/* Column 27 of line 2 is the value of "commitment". */
	expect_error(POLICY("\"commitment\": 99.95001, " GOOD_BANDS),
		     "2:27: policies.gold.commitment: expected a percentage 0-100 with at most 4 "
		     "decimals (99.95 or \"99.95\"), got 99.95001");
	expect_error(POLICY("\"commitment\": \"100.5\", " GOOD_BANDS),
		     "2:27: policies.gold.commitment: expected a percentage 0-100 with at most 4 "
		     "decimals (99.95 or \"99.95\"), got \"100.5\"");
	expect_error(POLICY("\"commitment\": 9.995e1, " GOOD_BANDS),
		     "2:27: policies.gold.commitment: expected a percentage");
	expect_error(POLICY("\"commitment\": -1, " GOOD_BANDS),
		     "2:27: policies.gold.commitment: expected a percentage");
	expect_error(POLICY("\"commitment\": true, " GOOD_BANDS),
		     "2:27: policies.gold.commitment: expected a percentage 0-100 with at most 4 "
		     "decimals (99.95 or \"99.95\"), got a boolean");
	expect_error(POLICY("\"commitment\": 0, \"bands\": []"),
		     "2:27: policies.gold.commitment: must be above 0");
}

TEST(conf_sla_band_errors)
{
	/* from not below to: at from. */
	expect_error(POLICY("\"commitment\": 99.9, \"bands\": [ { \"from\": 99.5, \"to\": 99.5, "
			    "\"credit\": 10 } ]"),
		     "2:54: policies.gold.bands[0].from: from (99.5) must be below to (99.5)");
	/* Above the commitment: at to. */
	expect_error(POLICY("\"commitment\": 99.9, \"bands\": [ { \"from\": 99, \"to\": 99.95, "
			    "\"credit\": 10 } ]"),
		     "2:64: policies.gold.bands[0].to: 99.95 is above the commitment 99.9");
	/* Not highest first / overlapping: at the later band's to. */
	expect_error(POLICY("\"commitment\": 99.9, \"bands\": [ { \"from\": 99, \"to\": 99.9, "
			    "\"credit\": 10 },\n    { \"from\": 95, \"to\": 99.5, \"credit\": 30 } ]"),
		     "3:25: policies.gold.bands[1].to: 99.5 is above bands[0].from (99): bands go "
		     "highest first and must not overlap");
	expect_error(POLICY("\"commitment\": 99.9, \"bands\": [ { \"from\": 95, \"to\": 99, "
			    "\"credit\": 30 },\n    { \"from\": 99, \"to\": 99.9, \"credit\": 10 } ]"),
		     "3:25: policies.gold.bands[1].to: 99.9 is above bands[0].from (95)");
	/* Shapes. */
	expect_error(POLICY("\"commitment\": 99.9, \"bands\": [ { \"from\": 99, \"credit\": 10 } ]"),
		     "2:44: policies.gold.bands[0]: missing required key 'to'");
	expect_error(POLICY("\"commitment\": 99.9, \"bands\": [ 99 ]"),
		     "2:44: policies.gold.bands[0]: expected an object {from, to, credit}, got a number");
	expect_error(POLICY("\"commitment\": 99.9, \"bands\": { }"),
		     "2:42: policies.gold.bands: expected an array of {from, to, credit}, got an object");
	expect_error(POLICY("\"commitment\": 99.9, \"bands\": [ { \"from\": 99, \"to\": 99.9, "
			    "\"credit\": 10, \"cap\": 1 } ]"),
		     "2:84: policies.gold.bands[0].cap: unknown key (expected one of: from, to, credit)");
	expect_error(POLICY("\"commitment\": 99.9, \"bands\": [ {\"from\":1,\"to\":2,\"credit\":1},"
			    "{\"from\":1,\"to\":2,\"credit\":1},{\"from\":1,\"to\":2,\"credit\":1},"
			    "{\"from\":1,\"to\":2,\"credit\":1},{\"from\":1,\"to\":2,\"credit\":1},"
			    "{\"from\":1,\"to\":2,\"credit\":1},{\"from\":1,\"to\":2,\"credit\":1},"
			    "{\"from\":1,\"to\":2,\"credit\":1},{\"from\":1,\"to\":2,\"credit\":1} ]"),
		     "2:42: policies.gold.bands: at most 8 bands, got 9");
	/* Credit: a percentage of the fee is at most 100; days at most 366. */
	expect_error(POLICY("\"commitment\": 99.9, \"bands\": [ { \"from\": 99, \"to\": 99.9, "
			    "\"credit\": 150 } ]"),
		     "2:80: policies.gold.bands[0].credit: expected an integer 0-100, got 150");
	expect_error(POLICY("\"credit_unit\": \"days\", \"commitment\": 99.9, \"bands\": [ { \"from\": "
			    "99, \"to\": 99.9, \"credit\": 400 } ]"),
		     "2:103: policies.gold.bands[0].credit: expected an integer 0-366, got 400");
	/* A base's bands against a lower commitment: at the commitment. */
	expect_error(POLICY("\"base\": \"vserver\", \"commitment\": 99.5"),
		     "2:46: policies.gold.commitment: the policy is inconsistent: bands[0].to: above "
		     "the commitment (give \"bands\" to replace the base's)");
	/* A base's percent credits turned into days is fine; days into
	 * percent above 100 is not. */
	expect_error("{ \"policies\": {\n  \"gold\": { \"base\": \"vcs\", \"credit_unit\": \"percent\", "
		     "\"bands\": [ { \"from\": 99, \"to\": 99.8, \"credit\": 150 } ] } },\n" HOST("gold") "}\n",
		     "2:101: policies.gold.bands[0].credit: expected an integer 0-100, got 150");
}

TEST(conf_sla_policy_key_errors)
{
	expect_error(POLICY(GOOD_BANDS),
		     "2:11: policies.gold: missing required key 'commitment' (or a \"base\" preset "
		     "to start from)");
	expect_error(POLICY("\"commitment\": 99.9"),
		     "2:11: policies.gold: missing required key 'bands'");
	expect_error(POLICY("\"base\": \"vgold\""),
		     "2:21: policies.gold.base: unknown preset 'vgold': expected one of vserver, vlb, "
		     "vdb, vbaremetal, vstorage, vcdn, vcs");
	expect_error(POLICY("\"base\": \"vserver\", \"kind\": \"latency\""),
		     "2:40: policies.gold.kind: expected \"availability\", \"block_errors\" or "
		     "\"cycle_errors\", got \"latency\"");
	expect_error(POLICY("\"base\": \"vserver\", \"credit_unit\": \"euros\""),
		     "2:47: policies.gold.credit_unit: expected \"percent\" or \"days\", got \"euros\"");
	expect_error(POLICY("\"base\": \"vserver\", \"counted_causes\": [ \"hardware\", \"aliens\" ]"),
		     "2:64: policies.gold.counted_causes[1]: unknown cause 'aliens'");
	expect_error(POLICY("\"base\": \"vserver\", \"counted_causes\": [ \"power\", \"power\" ]"),
		     "2:61: policies.gold.counted_causes[1]: cause 'power' listed twice");
	expect_error(POLICY("\"base\": \"vserver\", \"counted_causes\": \"power\""),
		     "2:50: policies.gold.counted_causes: expected an array of causes, got a string");
	expect_error(POLICY("\"base\": \"vserver\", \"tz\": \"Mars/Olympus_Mons\""),
		     "2:38: policies.gold.tz: unknown time zone 'Mars/Olympus_Mons': expected a zone "
		     "name under /usr/share/zoneinfo");
	/* A POSIX rule string is not a zone file. */
	expect_error(POLICY("\"base\": \"vserver\", \"tz\": \"UTC+7\""),
		     "2:38: policies.gold.tz: unknown time zone 'UTC+7'");
	expect_error(POLICY("\"base\": \"vserver\", \"notice_planned_h\": 9000"),
		     "2:52: policies.gold.notice_planned_h: expected an integer 0-8760, got 9000");
	expect_error(POLICY("\"base\": \"vserver\", \"notice_emergency_min\": -5"),
		     "2:56: policies.gold.notice_emergency_min: expected an integer 0-10080, got -5");
	expect_error(POLICY("\"base\": \"vserver\", \"maintenance_cap_min\": 50000"),
		     "2:55: policies.gold.maintenance_cap_min: expected an integer 0-44640, got 50000");
	expect_error(POLICY("\"base\": \"vserver\", \"colour\": 1"),
		     "2:32: policies.gold.colour: unknown key (expected one of: base, kind, commitment");
	expect_error("{ \"policies\": {\n  \"gold\": 5 },\n" HOST("gold") "}\n",
		     "2:11: policies.gold: expected an object, got a number");
	expect_error("{ \"policies\": [],\n" HOST("vserver") "}\n",
		     "1:15: policies: expected an object, got an array");
}

TEST(conf_sla_policy_names)
{
	expect_error("{ \"policies\": {\n  \"vserver\": { \"base\": \"vserver\" } },\n" HOST("vserver") "}\n",
		     "2:3: policies.vserver: 'vserver' is a built-in preset: give the custom policy "
		     "another name (with \"base\": \"vserver\" to start from the preset)");
	expect_error("{ \"policies\": {\n  \"gold\": { \"base\": \"vserver\" },\n"
		     "  \"gold\": { \"base\": \"vlb\" } },\n" HOST("gold") "}\n",
		     "3:3: policies.gold: duplicate key");
	expect_error("{ \"policies\": {\n  \"go ld\": { \"base\": \"vserver\" } },\n" HOST("vserver") "}\n",
		     "2:3: policies.go ld: policy name must be 1-63 of [A-Za-z0-9._-]");
	/* Hosts name a preset or a custom policy. */
	expect_error("{ \"policies\": {\n  \"gold\": { \"base\": \"vserver\" } },\n" HOST("silver") "}\n",
		     "3:65: hosts[0].service: unknown service 'silver': expected a preset (vserver, "
		     "vlb, vdb, vbaremetal, vstorage, vcdn, vcs) or a policy defined under "
		     "\"policies\"");
	/* A host naming a policy that had errors is not told it is unknown. */
	{
		struct vgl_conf *c = NULL;
		struct vgl_conf_errors e;

		write_conf(POLICY("\"commitment\": 99.9"));
		ASSERT_EQ(vgl_conf_load(tpath("vigil.json"), &c, &e), -1);
		for (size_t i = 0; i < e.n; i++)
			ASSERT(strstr(e.msgs[i], "unknown service") == NULL);
		ASSERT_GE(e.n, 1);
		vgl_conf_errors_free(&e);
	}
}

TEST(conf_sla_default_tz)
{
	expect_error("{ \"sla\": { \"tz\": \"Asia/Ho_Chi_Minhh\" },\n" HOST("vserver") "}\n",
		     "1:18: sla.tz: unknown time zone 'Asia/Ho_Chi_Minhh'");
	expect_error("{ \"sla\": { \"zone\": \"UTC\" },\n" HOST("vserver") "}\n",
		     "1:12: sla.zone: unknown key (expected one of: tz)");
	expect_error("{ \"sla\": \"UTC\",\n" HOST("vserver") "}\n",
		     "1:10: sla: expected an object, got a string");
}

/* ---- counters ---------------------------------------------------------------- */

#define TMPL_METRICS "\"metrics\": { \"req\": \".1.3.6.1.4.1.99999.2.0\", \"err\": \".1.3.6.1.4.1.99999.4.0\" }"

TEST(conf_sla_counters_template_and_host)
{
	struct vgl_conf *c = load_ok(
		"{ \"templates\": { \"cdn\": { \"snmp\": { \"community\": \"public\" },\n"
		"    " TMPL_METRICS ",\n"
		"    \"sla_counters\": { \"total\": \"req\", \"failed\": \"err\", \"bits\": 32 } } },\n"
		"  \"hosts\": [\n"
		"    { \"name\": \"a\", \"address\": \"127.0.0.1\", \"template\": \"cdn\", \"service\": \"vcdn\" },\n"
		"    { \"name\": \"b\", \"address\": \"127.0.0.2\", \"template\": \"cdn\" },\n"
		/* Metrics added in front by name do not move the pair. */
		"    { \"name\": \"c\", \"address\": \"127.0.0.3\", \"template\": \"cdn\",\n"
		"      \"metrics\": { \"temp\": \".1.3.6.1.4.1.99999.1.0\", \"req\": \".1.3.6.1.4.1.99999.5.0\" } },\n"
		/* The host's own pair replaces the template's. */
		"    { \"name\": \"d\", \"address\": \"127.0.0.4\", \"template\": \"cdn\",\n"
		"      \"sla_counters\": { \"total\": \"err\", \"failed\": \"req\", \"bits\": 64 } },\n"
		"    { \"name\": \"e\", \"address\": \"127.0.0.5\", \"snmp\": { \"community\": \"public\" },\n"
		"      \"metrics\": { \"x\": \".1.3.6.1.4.1.99999.1.0\" } } ] }\n");
	const struct vgl_conf_profile *a = vgl_conf_find_host(c, "a")->profile;
	const struct vgl_conf_profile *b = vgl_conf_find_host(c, "b")->profile;
	const struct vgl_conf_profile *pc = vgl_conf_find_host(c, "c")->profile;
	const struct vgl_conf_profile *d = vgl_conf_find_host(c, "d")->profile;
	const struct vgl_conf_profile *e = vgl_conf_find_host(c, "e")->profile;

	ASSERT(a == b);
	ASSERT(a->has_counters);
	ASSERT_EQ(a->counters.bits, 32);
	ASSERT_STREQ(a->metrics[a->counters.total].name, "req");
	ASSERT_STREQ(a->metrics[a->counters.failed].name, "err");
	ASSERT(pc != a && pc->has_counters);
	ASSERT_EQ(pc->n_metrics, 3);
	ASSERT_STREQ(pc->metrics[pc->counters.total].name, "req");
	ASSERT_EQ(oid_of(&pc->metrics[pc->counters.total])->oid[7], 5);
	ASSERT_STREQ(pc->metrics[pc->counters.failed].name, "err");
	ASSERT_EQ(pc->counters.bits, 32);
	ASSERT(d != a && d->has_counters);
	ASSERT_STREQ(d->metrics[d->counters.total].name, "err");
	ASSERT_STREQ(d->metrics[d->counters.failed].name, "req");
	ASSERT_EQ(d->counters.bits, 64);
	ASSERT(!e->has_counters);
	vgl_conf_free(c);
}

#define CHOST(counters) \
	"{ \"hosts\": [ { \"name\": \"h1\", \"address\": \"127.0.0.1\", \"snmp\": { \"community\": \"public\" },\n" \
	"    " TMPL_METRICS ",\n" \
	"    \"sla_counters\": " counters " } ] }\n"

TEST(conf_sla_counters_errors)
{
	expect_error(CHOST("{ \"total\": \"reqs\", \"failed\": \"err\", \"bits\": 32 }"),
		     "3:32: hosts[0].sla_counters.total: no metric named 'reqs' here: name one of "
		     "this host's metrics");
	expect_error(CHOST("{ \"total\": \"req\", \"failed\": \"req\", \"bits\": 32 }"),
		     "3:49: hosts[0].sla_counters.failed: must name another metric than 'total'");
	expect_error(CHOST("{ \"total\": \"req\", \"failed\": \"err\" }"),
		     "3:21: hosts[0].sla_counters: missing required key 'bits' (32 for Counter32, 64 "
		     "for Counter64)");
	expect_error(CHOST("{ \"total\": \"req\", \"failed\": \"err\", \"bits\": 16 }"),
		     "3:64: hosts[0].sla_counters.bits: expected 32 or 64, got 16");
	expect_error(CHOST("{ \"total\": \"req\", \"failed\": \"err\", \"bits\": \"64\" }"),
		     "3:64: hosts[0].sla_counters.bits: expected 32 or 64, got a string");
	expect_error(CHOST("{ \"failed\": \"err\", \"bits\": 64 }"),
		     "3:21: hosts[0].sla_counters: missing required key 'total'");
	expect_error(CHOST("{ \"total\": 1, \"failed\": \"err\", \"bits\": 64 }"),
		     "3:32: hosts[0].sla_counters.total: expected a string, got a number");
	expect_error(CHOST("[ \"req\", \"err\" ]"),
		     "3:21: hosts[0].sla_counters: expected an object, got an array");
	expect_error(CHOST("{ \"total\": \"req\", \"failed\": \"err\", \"bits\": 64, \"wrap\": 1 }"),
		     "3:68: hosts[0].sla_counters.wrap: unknown key (expected one of: total, failed, bits)");
	/* In a template: checked against the template's own metrics. */
	expect_error("{ \"templates\": { \"t\": { \"snmp\": { \"community\": \"public\" },\n"
		     "    " TMPL_METRICS ",\n"
		     "    \"sla_counters\": { \"total\": \"req\", \"failed\": \"drops\", \"bits\": 64 } } },\n"
		     "  \"hosts\": [ { \"name\": \"h1\", \"address\": \"127.0.0.1\", \"template\": \"t\" } ] }\n",
		     "3:49: templates.t.sla_counters.failed: no metric named 'drops' here: name one of "
		     "this template's metrics");
}

/* Host policy lookups stay cheap at the 100,000-host scale: every host
 * names one of 20 custom policies or a preset. */
TEST(conf_sla_scale_100k_policy_hosts)
{
	const int n = 100000;
	FILE *f = fopen(tpath("vigil.json"), "w");
	struct vgl_conf *c;
	struct vgl_conf_errors e;
	struct timespec t0, t1;
	double secs;

	ASSERT(f != NULL);
	fprintf(f, "{ \"policies\": {\n");
	for (int i = 0; i < 20; i++)
		fprintf(f, "%s\"p%02d\": { \"base\": \"vserver\", \"commitment\": \"99.95\", \"bands\": "
			"[ { \"from\": 99, \"to\": 99.95, \"credit\": %d } ] }\n", i ? "," : " ", i, i);
	fprintf(f, "},\n \"templates\": { \"srv\": { \"snmp\": { \"community\": \"public\" },\n"
		"  " TMPL_METRICS ",\n"
		"  \"sla_counters\": { \"total\": \"req\", \"failed\": \"err\", \"bits\": 64 } } },\n"
		"  \"hosts\": [\n");
	for (int i = 0; i < n; i++) {
		char svc[16];
		if (i % 21 == 20)
			snprintf(svc, sizeof(svc), "vcdn");
		else
			snprintf(svc, sizeof(svc), "p%02d", i % 21);
		fprintf(f, "%s{ \"name\": \"host-%06d\", \"address\": \"10.%d.%d.%d\", \"template\": "
			"\"srv\", \"service\": \"%s\" }\n", i ? "," : " ", i, i >> 16 & 255,
			i >> 8 & 255, i & 255, svc);
	}
	fprintf(f, "] }\n");
	ASSERT_EQ(fclose(f), 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ASSERT_EQ(vgl_conf_load(tpath("vigil.json"), &c, &e), 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	vgl_conf_errors_free(&e);
	secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	fprintf(stderr, "conf: %d hosts with policies loaded in %.3f s\n", n, secs);
	ASSERT_EQ(c->n_hosts, (size_t)n);
	ASSERT_EQ(c->n_profiles, 1);
	ASSERT(c->hosts[0].policy == &c->policies[0]);
	ASSERT_EQ(c->hosts[19].policy->bands[0].credit, 19);
	ASSERT_STREQ(c->hosts[20].policy->name, "vcdn");
	ASSERT_LT(secs, 5.0);
	vgl_conf_free(c);
}
