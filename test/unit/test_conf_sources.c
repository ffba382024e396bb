/* Sources in the config (conf/profile.c, conf/backend.h): several per host
 * or template, each of a back end's type with its own interval and timeout,
 * metrics bound to a source by name (a plain OID string to the SNMP one),
 * "unreachable" naming the source it counts, template + host merging by
 * source name, and the errors of each with FILE:LINE:COL. */
#include <stdlib.h>
#include <unistd.h>

#include "collectors/reach_conf.h"
#include "collectors/snmp_conf.h"
#include "conf/backend.h"
#include "conf/conf.h"
#include "test/test.h"
#include "test/unit/conf_util.h"

#define H "\"name\": \"h1\", \"address\": \"127.0.0.1\""
#define SNMP_FIELD "\"snmp\": { \"community\": \"public\" }"

TEST(conf_sources_several_per_host)
{
	struct vgl_conf *c = load_ok(
		"{ \"hosts\": [ { " H ",\n"
		"  \"snmp\": { \"community\": \"public\", \"interval_s\": 30 },\n"
		"  \"sources\": { \"ping\": { \"type\": \"ping\", \"interval_s\": 5, \"timeout_ms\": 800, \"count\": 4 },\n"
		"               \"web\": { \"type\": \"tcp\", \"port\": 443 } },\n"
		"  \"metrics\": { \"temp\": \".1.3.6.1.4.1.99999.1.0\",\n"
		"               \"rtt\": { \"source\": \"ping\", \"value\": \"rtt_ms\" },\n"
		"               \"web_up\": { \"source\": \"web\", \"value\": \"up\" },\n"
		"               \"loss\": { \"source\": \"ping\", \"value\": \"loss_pct\" } },\n"
		"  \"availability\": [ { \"name\": \"down\", \"unreachable\": 3, \"source\": \"ping\", \"cause\": \"network\" },\n"
		"                      { \"name\": \"agent\", \"unreachable\": 2, \"cause\": \"hardware\" },\n"
		"                      { \"name\": \"hot\", \"when\": \"temp > 90 and rtt < 50\", \"cause\": \"hardware\" } ] } ] }\n");
	const struct vgl_conf_profile *p = c->hosts[0].profile;
	const struct vgl_reach_source *ping, *web;

	ASSERT_EQ(p->n_sources, 3);
	ASSERT_STREQ(p->sources[0].name, "snmp");      /* the "snmp" key comes first */
	ASSERT(p->sources[0].be == &vgl_snmp_conf_backend);
	ASSERT_EQ(p->sources[0].interval_ms, 30000);
	ASSERT_EQ(p->sources[0].timeout_ms, 1000);
	ASSERT_STREQ(p->sources[1].name, "ping");
	ASSERT(p->sources[1].be == &vgl_ping_conf_backend);
	ASSERT_EQ(p->sources[1].interval_ms, 5000);
	ASSERT_EQ(p->sources[1].timeout_ms, 800);
	ping = p->sources[1].spec;
	ASSERT_EQ(ping->count, 4);
	ASSERT_STREQ(p->sources[2].name, "web");
	web = p->sources[2].spec;
	ASSERT_EQ(web->port, 443);
	ASSERT_EQ(p->sources[2].interval_ms, 30000);   /* the tcp default */
	/* metrics bound to their sources, and each source's list of them */
	ASSERT_EQ(p->n_metrics, 4);
	ASSERT_EQ(p->metrics[0].source, 0);
	ASSERT_EQ(p->metrics[1].source, 1);
	ASSERT_EQ(p->metrics[2].source, 2);
	ASSERT_EQ(p->metrics[3].source, 1);
	ASSERT_EQ(p->sources[0].n_metrics, 1);
	ASSERT_EQ(p->sources[1].n_metrics, 2);
	ASSERT_EQ(p->sources[1].metrics[0], 1);
	ASSERT_EQ(p->sources[1].metrics[1], 3);
	ASSERT_EQ(p->sources[2].n_metrics, 1);
	ASSERT_EQ(((const struct vgl_reach_metric *)p->metrics[3].spec)->value, VGL_REACH_LOSS_PCT);
	/* unreachable counts the source named, the first by default */
	ASSERT_EQ(p->conds[0].source, 1);
	ASSERT_EQ(p->conds[1].source, 0);
	ASSERT_EQ(p->conds[2].kind, VGL_COND_EXPR);
	ASSERT_EQ(p->conds[2].reads, 3);        /* temp (snmp) and rtt (ping) */
	vgl_conf_free(c);
}

TEST(conf_sources_ping_only_host)
{
	/* No metrics at all: a ping source still polls and feeds unreachable. */
	struct vgl_conf *c = load_ok(
		"{ \"hosts\": [ { " H ",\n"
		"  \"sources\": { \"icmp\": { \"type\": \"ping\" } },\n"
		"  \"availability\": [ { \"name\": \"down\", \"unreachable\": 3, \"cause\": \"network\" } ] } ] }\n");

	ASSERT_EQ(c->hosts[0].profile->n_sources, 1);
	ASSERT_EQ(c->hosts[0].profile->n_metrics, 0);
	ASSERT_EQ(c->hosts[0].profile->conds[0].source, 0);
	ASSERT_EQ(c->hosts[0].profile->sources[0].interval_ms, 30000);
	vgl_conf_free(c);
}

TEST(conf_sources_template_merge)
{
	struct vgl_conf *c = load_ok(
		"{ \"templates\": { \"srv\": {\n"
		"    \"snmp\": { \"community\": \"public\" },\n"
		"    \"sources\": { \"ping\": { \"type\": \"ping\", \"interval_s\": 10 } },\n"
		"    \"metrics\": { \"temp\": \".1.3.6.1.4.1.99999.1.0\", \"rtt\": { \"source\": \"ping\", \"value\": \"rtt_ms\" } },\n"
		"    \"availability\": [ { \"name\": \"down\", \"unreachable\": 2, \"source\": \"ping\", \"cause\": \"network\" } ] } },\n"
		"  \"hosts\": [ { \"name\": \"a\", \"address\": \"127.0.0.1\", \"template\": \"srv\" },\n"
		"    { \"name\": \"b\", \"address\": \"127.0.0.2\", \"template\": \"srv\",\n"
		"      \"sources\": { \"ping\": { \"count\": 5 }, \"ssh\": { \"type\": \"tcp\", \"port\": 22 } },\n"
		"      \"metrics\": { \"ssh_up\": { \"source\": \"ssh\", \"value\": \"up\" } } } ] }\n");
	const struct vgl_conf_profile *a = c->hosts[0].profile, *b = c->hosts[1].profile;
	const struct vgl_reach_source *pa = a->sources[1].spec, *pb = b->sources[1].spec;

	ASSERT_EQ(a->n_sources, 2);
	ASSERT_EQ(b->n_sources, 3);
	/* the host's ping keeps the template's interval, adds its count */
	ASSERT_EQ(b->sources[1].interval_ms, 10000);
	ASSERT_EQ(pa->count, 3);
	ASSERT_EQ(pb->count, 5);
	ASSERT_STREQ(b->sources[2].name, "ssh");
	ASSERT_EQ(b->n_metrics, 3);
	ASSERT_EQ(b->metrics[2].source, 2);
	/* the template's condition still counts ping, on the host's profile */
	ASSERT_EQ(b->conds[0].source, 1);
	vgl_conf_free(c);
}

TEST(conf_sources_errors)
{
	expect_error("{ \"hosts\": [ { " H ",\n"
		     "  \"sources\": { \"x\": { \"type\": \"smoke-signal\" } } } ] }",
		     "2:31: hosts[0].sources.x.type: unknown source type 'smoke-signal' "
		     "(expected one of: snmp, ping, tcp, modbus, ipmi, redfish)");
	expect_error("{ \"hosts\": [ { " H ",\n"
		     "  \"sources\": { \"x\": { \"port\": 22 } } } ] }",
		     "2:21: hosts[0].sources.x: missing required key 'type' (one of: snmp, ping, tcp, modbus, ipmi, redfish)");
	expect_error("{ \"hosts\": [ { " H ",\n"
		     "  \"sources\": { \"x\": { \"type\": \"tcp\" } } } ] }",
		     "2:21: hosts[0].sources.x: missing required key 'port' for a tcp source");
	expect_error("{ \"hosts\": [ { " H ",\n"
		     "  \"sources\": { \"x\": { \"type\": \"tcp\", \"port\": 22, \"community\": \"c\" } } } ] }",
		     "2:50: hosts[0].sources.x.community: unknown key (expected one of: type, "
		     "interval_s, timeout_ms, port)");
	expect_error("{ \"hosts\": [ { " H ",\n"
		     "  \"sources\": { \"p\": { \"type\": \"ping\", \"timeout_ms\": 5 } } } ] }",
		     "2:53: hosts[0].sources.p.timeout_ms: expected an integer 10-60000, got 5");
	expect_error("{ \"hosts\": [ { " H ",\n"
		     "  \"sources\": { \"p q\": { \"type\": \"ping\" } } } ] }",
		     "2:16: hosts[0].sources.p q: source name must match");
	/* a metric naming a source that is not there */
	expect_error("{ \"hosts\": [ { " H ", \"sources\": { \"p\": { \"type\": \"ping\" } },\n"
		     "  \"metrics\": { \"rtt\": { \"source\": \"icmp\", \"value\": \"rtt_ms\" } } } ] }",
		     "2:35: hosts[0].metrics.rtt.source: no source named 'icmp' in this host "
		     "(its sources: p)");
	/* a plain OID with no SNMP source */
	expect_error("{ \"hosts\": [ { " H ", \"sources\": { \"p\": { \"type\": \"ping\" } },\n"
		     "  \"metrics\": { \"t\": \".1.3.6.1.4.1.99999.1.0\" } } ] }",
		     "2:21: hosts[0].metrics.t: a plain string metric is an SNMP OID, but this host "
		     "has no SNMP source");
	/* a ping source measures loss and rtt only */
	expect_error("{ \"hosts\": [ { " H ", \"sources\": { \"p\": { \"type\": \"ping\" } },\n"
		     "  \"metrics\": { \"u\": { \"source\": \"p\", \"value\": \"up\" } } } ] }",
		     "2:47: hosts[0].metrics.u.value: a ping source measures \"loss_pct\" or "
		     "\"rtt_ms\", not \"up\"");
	/* unreachable on an unknown source; source with an expression */
	expect_error("{ \"hosts\": [ { " H ", " SNMP_FIELD ", \"metrics\": { \"t\": \".1.3.6.1.4.1.99999.1.0\" },\n"
		     "  \"availability\": [ { \"name\": \"d\", \"unreachable\": 2, \"source\": \"ping\", \"cause\": \"network\" } ] } ] }",
		     "2:64: hosts[0].availability[0].source: no source named 'ping' in this host "
		     "(its sources: snmp)");
	expect_error("{ \"hosts\": [ { " H ", " SNMP_FIELD ", \"metrics\": { \"t\": \".1.3.6.1.4.1.99999.1.0\" },\n"
		     "  \"availability\": [ { \"name\": \"d\", \"when\": \"t > 1\", \"source\": \"snmp\", \"cause\": \"network\" } ] } ] }",
		     "2:53: hosts[0].availability[0].source: 'source' goes only with 'unreachable'");
	/* the "snmp" key and a source named snmp */
	expect_error("{ \"hosts\": [ { " H ", " SNMP_FIELD ",\n"
		     "  \"sources\": { \"snmp\": { \"type\": \"snmp\" } } } ] }",
		     "2:16: hosts[0].sources.snmp: source 'snmp' is also given as the \"snmp\" key");
	/* a host may not change the type of its template's source */
	expect_error("{ \"templates\": { \"t\": { \"sources\": { \"p\": { \"type\": \"ping\" } } } },\n"
		     "  \"hosts\": [ { " H ", \"template\": \"t\",\n"
		     "  \"sources\": { \"p\": { \"type\": \"tcp\", \"port\": 1 } } } ] }",
		     "3:31: hosts[0].sources.p: source 'p' is of type ping in the template");
	/* ping and tcp poll IP addresses only */
	expect_error("{ \"hosts\": [ { \"name\": \"h1\", \"address\": \"db.example.net\",\n"
		     "  \"sources\": { \"p\": { \"type\": \"ping\" } } } ] }",
		     "1:41: hosts[0].address: 'db.example.net' is not an IP address: ping sources");
	/* SLA counters from two sources are no pair */
	expect_error("{ \"hosts\": [ { " H ", " SNMP_FIELD ", \"sources\": { \"w\": { \"type\": \"tcp\", \"port\": 1 } },\n"
		     "  \"metrics\": { \"req\": \".1.3.6.1.4.1.99999.1.0\", \"up\": { \"source\": \"w\", \"value\": \"up\" } },\n"
		     "  \"sla_counters\": { \"total\": \"req\", \"failed\": \"up\", \"bits\": 64 } } ] }",
		     "3:47: hosts[0].sla_counters.failed: must come from the same source as 'total' "
		     "(snmp, not w)");
}

/* The configs shipped keep loading, their SNMP hosts unchanged with their
 * one SNMP source; the Modbus devices and the hosts known only by their
 * feeds are the Modbus collector's (test_modbus_conf.c, test_topo.c), the
 * bare-metal hosts with a BMC the BMC tests' (test_bmc_conf.c). */
/* conf/demo.json names files demo/run.sh makes at each run (the API's
 * tokens, the Redfish peer's certificate): a copy of conf/ beside a
 * scratch demo/run/ holding stand-ins, so a fresh clone loads it too. */
static const char *demo_copy(void)
{
	static char path[600];
	char cwd[400], cmd[2048];

	ASSERT(getcwd(cwd, sizeof(cwd)) != NULL);
	snprintf(cmd, sizeof(cmd),
		 "d='%s' && mkdir -p \"$d/conf\" \"$d/demo/run/rf\" && "
		 "cp conf/demo.json \"$d/conf/\" && ln -s '%s/conf/profiles' \"$d/conf/profiles\" && "
		 "printf '{\"tokens\":[{\"name\":\"t\",\"role\":\"read\","
		 "\"token\":\"0123456789abcdef\"}]}' > \"$d/demo/run/api-tokens.json\" && "
		 "chmod 600 \"$d/demo/run/api-tokens.json\" && "
		 "echo cert > \"$d/demo/run/rf/cert.pem\"",
		 vgl_test_tmpdir(), cwd);
	ASSERT_EQ(system(cmd), 0);
	snprintf(path, sizeof(path), "%s/conf/demo.json", vgl_test_tmpdir());
	return path;
}

TEST(conf_sources_shipped_configs_unchanged)
{
	const char *files[] = { "conf/vigil.json", demo_copy() };

	for (size_t i = 0; i < 2; i++) {
		struct vgl_conf *c = NULL;
		struct vgl_conf_errors e;
		int r = vgl_conf_load(files[i], &c, &e);

		if (r != 0)
			dump_errors(&e);
		ASSERT_EQ(r, 0);
		vgl_conf_errors_free(&e);
		for (size_t h = 0; h < c->n_hosts; h++) {
			const struct vgl_conf_profile *p = c->hosts[h].profile;
			int bmc = 0;

			for (size_t k = 0; k < p->n_sources; k++)
				bmc |= p->sources[k].be->is_bmc;
			if (p->n_sources == 0 || p->sources[0].be->collector[0] == 'm' || bmc)
				continue;
			ASSERT_EQ(p->n_sources, 1);
			ASSERT(p->sources[0].be == &vgl_snmp_conf_backend);
			ASSERT_EQ(p->sources[0].n_metrics, p->n_metrics);
		}
		vgl_conf_free(c);
	}
}
