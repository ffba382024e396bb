/* Config loader: every error kind with its exact file:line:col and key
 * path, a complete config with templates, overrides, includes, secrets and
 * MIB names, the shipped example, and 100,000 hosts sharing one profile. */
#include "conf/conf.h"
#include "test/test.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "rules/expr.h"

#include "test/unit/conf_util.h"

static struct vgl_conf *expect_ok(const char *path)
{
	struct vgl_conf *c = NULL;
	struct vgl_conf_errors e;
	int r = vgl_conf_load(path, &c, &e);

	if (r != 0)
		dump_errors(&e);
	ASSERT_EQ(r, 0);
	ASSERT_EQ(e.n, 0);
	vgl_conf_errors_free(&e);
	ASSERT(c != NULL);
	return c;
}

#define HOST_OK "\"name\": \"h1\", \"address\": \"127.0.0.1\""
#define SNMP_OK "\"snmp\": { \"community\": \"public\" }"
#define METRIC_OK "\"metrics\": { \"m\": \".1.3.6.1.4.1.99999.1.0\" }"

TEST(conf_syntax_errors)
{
	/* Missing comma between members: at the second key. */
	expect_error("{\n  \"hosts\": [\n    { \"name\": \"h1\" \"address\": \"x\" }\n  ]\n}\n",
		     "3:20: syntax error: unexpected '\"', expected ',' or '}'");
	/* Trailing garbage after the top-level object. */
	expect_error("{ \"hosts\": [] }\n  x\n", "2:3: syntax error");
	/* Bad literal. */
	expect_error("{\n  \"snmp\": { \"max_in_flight\": tru }\n}\n",
		     "2:30: syntax error: invalid literal 'tru'");
	/* Missing colon. */
	expect_error("{\n  \"storage\" { }\n}\n", "2:13: syntax error");
	/* Trailing comma. */
	expect_error("{ \"hosts\": [ 1, ] }", "1:15: syntax error: trailing ',' before ']'");
	/* Unterminated block comment, and comments elsewhere are fine. */
	expect_error("{ // fine\n  /* fine */ \"hosts\": []\n  /* never closed\n}\n",
		     "3:3: syntax error: unterminated /* comment");
	/* Unclosed object. */
	expect_error("{\n  \"hosts\": [\n", "3:1: syntax error: unexpected end of file");
	/* Not an object at the top. */
	expect_error("  [1]\n", "1:3: syntax error: the file must hold one JSON object");
	/* Control character in a string. */
	expect_error("{ \"include\": \"a\tb\" }", "1:16: syntax error: control character");
}

TEST(conf_comments_keep_positions)
{
	/* A block comment spanning lines before the error: line:col as seen. */
	expect_error("{ /* one\n two\n three */ \"storage\": { \"batch_ms\": 5 } // x\n}\n",
		     "3:36: storage.batch_ms: expected an integer 10-60000, got 5");
	/* "//" inside a string is not a comment. */
	expect_error("{ \"include\": \"//no\" } // trailing\n",
		     "1:14: include: include directory");
}

TEST(conf_unknown_key)
{
	expect_error("{\n  \"hosts\": [ { " HOST_OK ", " SNMP_OK ", " METRIC_OK
		     ",\n    \"colour\": \"red\" } ]\n}\n",
		     "3:5: hosts[0].colour: unknown key (expected one of: name, address");
	expect_error("{\n  \"storage\": { \"pth\": \"x.db\" }\n}\n",
		     "2:16: storage.pth: unknown key");
}

TEST(conf_wrong_type)
{
	expect_error("{\n  \"hosts\": [ { \"name\": 7, \"address\": \"127.0.0.1\" } ]\n}\n",
		     "2:24: hosts[0].name: expected a string, got a number");
	expect_error("{\n  \"hosts\": { }\n}\n", "2:12: hosts: expected an array, got an object");
	expect_error("{ \"hosts\": [ { " HOST_OK ", \"snmp\": { \"community\": \"c\", "
		     "\"port\": \"161\" }, " METRIC_OK " } ] }",
		     "1:90: hosts[0].snmp.port: expected an integer 1-65535, got a string");
}

TEST(conf_missing_required)
{
	expect_error("{\n  \"hosts\": [\n    { \"name\": \"h1\", " SNMP_OK ", " METRIC_OK " }\n  ]\n}\n",
		     "3:5: hosts[0]: missing required key 'address'");
	expect_error("{ \"hosts\": [ { " HOST_OK ", " SNMP_OK ", " METRIC_OK ",\n"
		     "  \"availability\": [ { \"name\": \"u\", \"unreachable\": 3 } ] } ] }",
		     "2:21: hosts[0].availability[0]: missing required key 'cause'");
	expect_error("{ \"hosts\": [ { " HOST_OK ", " SNMP_OK ",\n"
		     "  \"metrics\": { \"psu\": { \"enum\": { \"ok\": 1 } } } } ] }",
		     "2:23: hosts[0].metrics.psu: missing required key 'oid'");
}

TEST(conf_duplicate_key)
{
	expect_error("{\n  \"storage\": { \"batch_ms\": 100,\n               \"batch_ms\": 200 }\n}\n",
		     "3:16: storage.batch_ms: duplicate key (first given at line 2:16)");
	expect_error("{ \"hosts\": [ { " HOST_OK ", " SNMP_OK ",\n"
		     "  \"metrics\": { \"m\": \".1.3.6.1\", \"m\": \".1.3.6.2\" } } ] }",
		     "2:33: hosts[0].metrics.m: duplicate key");
}

TEST(conf_duplicate_host)
{
	ASSERT_EQ(mkdir(tpath("hosts.d"), 0755), 0);
	write_file("hosts.d/b.json",
		   "{ \"hosts\": [\n  { \"name\": \"h1\", \"address\": \"127.0.0.2\", \"template\": \"t\" }\n] }\n",
		   0644);
	expect_error_in("{ \"include\": \"hosts.d\",\n"
			"  \"templates\": { \"t\": { " SNMP_OK ", " METRIC_OK " } },\n"
			"  \"hosts\": [ { " HOST_OK ", \"template\": \"t\" } ] }\n",
			"hosts.d/b.json", "2:13: hosts[0].name: duplicate host name 'h1' (first declared at ");
}

TEST(conf_duplicate_template)
{
	ASSERT_EQ(mkdir(tpath("inc"), 0755), 0);
	write_file("inc/a.json", "{ \"templates\": {\n    \"t\": { " SNMP_OK ", " METRIC_OK " } } }\n",
		   0644);
	expect_error_in("{ \"include\": \"inc\",\n"
			"  \"templates\": { \"t\": { " SNMP_OK ", " METRIC_OK " } },\n"
			"  \"hosts\": [ { " HOST_OK ", \"template\": \"t\" } ] }\n",
			"inc/a.json", "2:5: templates.t: duplicate template name (first defined at ");
}

TEST(conf_unresolvable_oid)
{
	expect_error("{ \"hosts\": [ { " HOST_OK ", " SNMP_OK ",\n"
		     "  \"metrics\": { \"x\": \"IF-MIB::ifOperStatuz.1\" } } ] }",
		     "2:21: hosts[0].metrics.x: cannot resolve 'IF-MIB::ifOperStatuz.1': no such object");
	expect_error("{ \"hosts\": [ { " HOST_OK ", " SNMP_OK ",\n"
		     "  \"metrics\": { \"x\": { \"oid\": \"NO-SUCH-MIB::foo.0\" } } } ] }",
		     "2:30: hosts[0].metrics.x.oid: cannot resolve 'NO-SUCH-MIB::foo.0': MIB module "
		     "'NO-SUCH-MIB' not found");
	expect_error("{ \"hosts\": [ { " HOST_OK ", " SNMP_OK ",\n"
		     "  \"metrics\": { \"x\": \"ifOperStatus.1\" } } ] }",
		     "2:21: hosts[0].metrics.x: 'ifOperStatus.1' is neither");
	expect_error("{ \"hosts\": [ { " HOST_OK ", " SNMP_OK ",\n"
		     "  \"metrics\": { \"x\": \".1.3..6\" } } ] }",
		     "2:21: hosts[0].metrics.x: malformed numeric OID");
	expect_error("{ \"mibs\": { \"modules\": [ \"IF-MIB\",\n  \"NOPE-MIB\" ] } }",
		     "2:3: mibs.modules[1]: MIB module 'NOPE-MIB' not found");
}

TEST(conf_out_of_range)
{
	/* Every range error of one file comes back from one load. */
	const char *text =
		"{\n"
		"  \"templates\": { \"t\": {\n"
		"    \"snmp\": { \"community\": \"c\", \"port\": 0, \"interval_s\": 86401,\n"
		"              \"timeout_ms\": 9, \"retries\": 11, \"max_oids_per_pdu\": 129 },\n"
		"    \"metrics\": { \"m\": \".1.3.6.1.4.1.99999.1.0\" },\n"
		"    \"availability\": [\n"
		"      { \"name\": \"u\", \"unreachable\": 0, \"cause\": \"network\" },\n"
		"      { \"name\": \"w\", \"when\": \"m > 1\", \"for_s\": -1, \"cause\": \"network\" } ] } },\n"
		"  \"hosts\": [ { \"name\": \"h\", \"address\": \"127.0.0.1\", \"template\": \"t\" } ]\n"
		"}\n";
	const char *want[] = {
		"3:41: templates.t.snmp.port: expected an integer 1-65535, got 0",
		"3:58: templates.t.snmp.interval_s: expected an integer 1-86400, got 86401",
		"4:29: templates.t.snmp.timeout_ms: expected an integer 10-60000, got 9",
		"4:43: templates.t.snmp.retries: expected an integer 0-10, got 11",
		"4:67: templates.t.snmp.max_oids_per_pdu: expected an integer 1-128, got 129",
		"7:37: templates.t.availability[0].unreachable: expected an integer 1-1000, got 0",
		"8:48: templates.t.availability[1].for_s: expected an integer 0-86400, got -1",
	};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		expect_error(text, want[i]);
}

TEST(conf_unknown_template_and_cause)
{
	expect_error("{ \"hosts\": [\n  { " HOST_OK ", \"template\": \"nope\" } ] }",
		     "2:55: hosts[0].template: unknown template 'nope'");
	expect_error("{ \"hosts\": [ { " HOST_OK ", " SNMP_OK ", " METRIC_OK ",\n"
		     "  \"availability\": [ { \"name\": \"u\", \"unreachable\": 3,\n"
		     "     \"cause\": \"aliens\" } ] } ] }",
		     "3:15: hosts[0].availability[0].cause: unknown cause 'aliens'");
	expect_error("{ \"hosts\": [ { " HOST_OK ", " SNMP_OK ", " METRIC_OK ",\n"
		     "  \"availability\": [ { \"name\": \"u\", \"cause\": \"network\" } ] } ] }",
		     "2:21: hosts[0].availability[0]: give exactly one of 'unreachable' and 'when'");
	expect_error("{ \"hosts\": [ { " HOST_OK ", " SNMP_OK ", " METRIC_OK ",\n"
		     "  \"availability\": [ { \"name\": \"u\", \"cause\": \"network\", \"unreachable\": 1 },\n"
		     "                    { \"name\": \"u\", \"cause\": \"network\", \"unreachable\": 2 } ] } ] }",
		     "3:31: hosts[0].availability[1].name: duplicate condition name 'u'");
	ASSERT(vgl_cause_valid("force_majeure"));
	ASSERT(!vgl_cause_valid("Network"));
	ASSERT(!vgl_cause_valid(NULL));
}

TEST(conf_expression_error_column)
{
	/* The string starts at col 48 (its quote); "ifOperStatu" is at
	 * offset 0 and "sideways" at offset 15 of the text. */
	const char *pre = "{ \"hosts\": [ { " HOST_OK ", " SNMP_OK ",\n"
			  "  \"metrics\": { \"ifOperStatus\": \"IF-MIB::ifOperStatus.1\" },\n"
			  "  \"availability\": [ { \"name\": \"d\", \"cause\": \"network\",\n";
	char text[1024];

	snprintf(text, sizeof(text), "%s%s", pre,
		 "                      \"when\": \"ifOperStatu == down\" } ] } ] }");
	expect_error(text, "4:32: hosts[0].availability[0].when: ");
	snprintf(text, sizeof(text), "%s%s", pre,
		 "                      \"when\": \"ifOperStatus == sideways\" } ] } ] }");
	expect_error(text, "4:48: hosts[0].availability[0].when: ");
}

TEST(conf_template_expr_with_host_metrics)
{
	/* The template's expression is fine with its own metrics, but a host
	 * replaces the metric with one that has no state 'down'. */
	expect_error("{ \"templates\": { \"t\": { " SNMP_OK ",\n"
		     "  \"metrics\": { \"s\": \"IF-MIB::ifOperStatus.1\" },\n"
		     "  \"availability\": [ { \"name\": \"d\", \"cause\": \"network\", \"when\": \"s == down\" } ] } },\n"
		     "  \"hosts\": [ { " HOST_OK ", \"template\": \"t\", \"metrics\": { \"s\": \".1.3.6.1.4.1.1.0\" } } ] }",
		     "3:70: templates.t.availability[0].when: unknown metric 'down' (with the metrics of host 'h1')");
}

TEST(conf_secrets)
{
	const char *text =
		"{ \"hosts\": [ { " HOST_OK ", " METRIC_OK ",\n"
		"  \"snmp\": { \"version\": \"3\", \"user\": \"vigilv3\", \"auth_protocol\": \"SHA\",\n"
		"            \"priv_protocol\": \"AES\", \"secrets\": \"sec/v3.json\" } } ] }\n";
	struct vgl_conf *c;
	const struct vgl_snmp_source *s;

	/* Missing. */
	expect_error(text, "3:48: hosts[0].snmp.secrets: secret file '");
	/* Readable by others. */
	ASSERT_EQ(mkdir(tpath("sec"), 0700), 0);
	write_file("sec/v3.json", "{ \"auth_key\": \"vigil-auth-pass\", // comments too\n"
		   "  \"priv_key\": \"vigil-priv-pass\" }\n", 0644);
	expect_error(text, "3:48: hosts[0].snmp.secrets: secret file '");
	expect_error(text, "3:48: hosts[0].snmp.secrets: secret file '"); /* still */
	{
		struct vgl_conf_errors e;
		ASSERT_EQ(vgl_conf_load(tpath("vigil.json"), &c, &e), -1);
		ASSERT_CONTAINS(e.msgs[0], "accessible by group or others (mode 0644)");
		vgl_conf_errors_free(&e);
	}
	ASSERT_EQ(chmod(tpath("sec/v3.json"), 0640), 0);
	expect_error(text, "3:48: hosts[0].snmp.secrets: secret file '");
	/* 0600: loads, keys from the file. */
	ASSERT_EQ(chmod(tpath("sec/v3.json"), 0600), 0);
	c = expect_ok(tpath("vigil.json"));
	s = snmp_of(c->hosts[0].profile);
	ASSERT_EQ(s->version, VGL_SNMP_V3);
	ASSERT_STREQ(s->user, "vigilv3");
	ASSERT_STREQ(s->auth_key, "vigil-auth-pass");
	ASSERT_STREQ(s->priv_key, "vigil-priv-pass");
	ASSERT_STREQ(s->auth_protocol, "SHA");
	ASSERT_STREQ(s->priv_protocol, "AES");
	vgl_conf_free(c);
	/* A key both inline and in the file. */
	expect_error("{ \"hosts\": [ { " HOST_OK ", " METRIC_OK ",\n"
		     "  \"snmp\": { \"version\": \"3\", \"user\": \"vigilv3\", \"auth_protocol\": \"SHA\",\n"
		     "            \"priv_protocol\": \"AES\", \"secrets\": \"sec/v3.json\",\n"
		     "            \"priv_key\": \"inline-priv-key\" } } ] }\n",
		     "4:13: hosts[0].snmp.priv_key: given both here and in secret file '");
	/* An unknown key inside the secret file is reported in that file. */
	write_file("sec/v3.json", "{ \"auth_key\": \"vigil-auth-pass\",\n  \"pass\": \"x\" }\n", 0600);
	expect_error_in(text, "sec/v3.json", "2:3: pass: unknown key");
}

TEST(conf_v3_keys)
{
	expect_error("{ \"hosts\": [ { " HOST_OK ", " METRIC_OK ",\n"
		     "  \"snmp\": { \"version\": \"3\", \"user\": \"u\" } } ] }",
		     "2:11: hosts[0].snmp: missing required key 'auth_key'");
	expect_error("{ \"hosts\": [ { " HOST_OK ", " METRIC_OK ",\n"
		     "  \"snmp\": { \"version\": \"3\", \"user\": \"u\" } } ] }",
		     "2:11: hosts[0].snmp: missing required key 'priv_protocol'");
	expect_error("{ \"hosts\": [ { " HOST_OK ", " METRIC_OK ",\n"
		     "  \"snmp\": { \"version\": \"3\", \"user\": \"u\", \"auth_key\": \"short\" } } ] }",
		     "2:54: hosts[0].snmp.auth_key: SNMPv3 keys must be at least 8 characters");
	expect_error("{ \"hosts\": [ { " HOST_OK ", " METRIC_OK ",\n"
		     "  \"snmp\": { \"version\": \"3\", \"auth_protocol\": \"MD5\" } } ] }",
		     "2:46: hosts[0].snmp.auth_protocol: expected \"SHA\"");
	expect_error("{ \"hosts\": [ { " HOST_OK ", " METRIC_OK ",\n"
		     "  \"snmp\": { \"version\": \"1\" } } ] }",
		     "2:24: hosts[0].snmp.version: expected \"2c\" or \"3\"");
	expect_error("{ \"hosts\": [ { " HOST_OK ", " METRIC_OK ",\n"
		     "  \"snmp\": { \"port\": 16161 } } ] }",
		     "2:11: hosts[0].snmp: missing required key 'community'");
}

TEST(conf_snmp_engine)
{
	struct vgl_conf *c;

	expect_error("{ \"hosts\": [ { " HOST_OK ", " METRIC_OK ",\n"
		     "  \"snmp\": { \"community\": \"c\", \"engine\": \"fast\" } } ] }",
		     "2:41: hosts[0].snmp.engine: expected \"vigil\" or \"net-snmp\", got \"fast\"");
	expect_error("{ \"hosts\": [ { " HOST_OK ", " METRIC_OK ",\n"
		     "  \"snmp\": { \"version\": \"3\", \"user\": \"u\", \"auth_protocol\": \"SHA\",\n"
		     "    \"auth_key\": \"12345678\", \"priv_protocol\": \"AES\", \"priv_key\": \"12345678\",\n"
		     "    \"engine\": \"vigil\" } } ] }",
		     "2:11: hosts[0].snmp: engine \"vigil\" polls SNMP version 2c only");
	write_file("vigil.json",
		   "{ \"hosts\": [\n"
		   "  { \"name\": \"a\", \"address\": \"127.0.0.1\", " METRIC_OK ",\n"
		   "    \"snmp\": { \"community\": \"c\", \"engine\": \"net-snmp\" } },\n"
		   "  { \"name\": \"b\", \"address\": \"127.0.0.2\", " METRIC_OK ", " SNMP_OK " } ] }\n",
		   0644);
	c = expect_ok(tpath("vigil.json"));
	ASSERT_EQ(snmp_of(c->hosts[0].profile)->engine, VGL_SNMP_ENGINE_NETSNMP);
	ASSERT_EQ(snmp_of(c->hosts[1].profile)->engine, VGL_SNMP_ENGINE_DEFAULT);
	vgl_conf_free(c);
}

TEST(conf_snmp_source_address)
{
	struct vgl_conf *c;

	expect_error("{ \"hosts\": [ { " HOST_OK ", " METRIC_OK ",\n"
		     "  \"snmp\": { \"community\": \"c\", \"source_address\": \"10.0.0\" } } ] }",
		     "2:49: hosts[0].snmp.source_address: expected an IPv4 address such as "
		     "\"10.0.0.5\", got \"10.0.0\"");
	expect_error("{ \"hosts\": [ { " HOST_OK ", " METRIC_OK ",\n"
		     "  \"snmp\": { \"community\": \"c\", \"source_address\": \"::1\" } } ] }",
		     "2:49: hosts[0].snmp.source_address: expected an IPv4 address");
	expect_error("{ \"hosts\": [ { " HOST_OK ", " METRIC_OK ",\n"
		     "  \"snmp\": { \"community\": \"c\", \"source_address\": 10 } } ] }",
		     "2:49: hosts[0].snmp.source_address: expected a string");
	/* an IPv4 source cannot reach an IPv6 agent; said at the address */
	expect_error("{ \"templates\": { \"t\": { " METRIC_OK ",\n"
		     "    \"snmp\": { \"community\": \"c\", \"source_address\": \"10.0.0.5\" } } },\n"
		     "  \"hosts\": [ { \"name\": \"a\", \"address\": \"2001:db8::5\", "
		     "\"template\": \"t\" } ] }",
		     "3:40: hosts[0].address: IPv6 address '2001:db8::5' cannot be polled from "
		     "snmp.source_address \"10.0.0.5\" (IPv4)");
	/* from the template, overridden by a host, 0.0.0.0 (the default,
	 * explicit) with IPv6, and none */
	write_file("vigil.json",
		   "{ \"templates\": { \"t\": { " METRIC_OK ",\n"
		   "    \"snmp\": { \"community\": \"c\", \"source_address\": \"10.0.0.5\" } } },\n"
		   "  \"hosts\": [\n"
		   "  { \"name\": \"a\", \"address\": \"127.0.0.1\", \"template\": \"t\" },\n"
		   "  { \"name\": \"b\", \"address\": \"127.0.0.2\", \"template\": \"t\",\n"
		   "    \"snmp\": { \"source_address\": \"127.0.0.1\" } },\n"
		   "  { \"name\": \"c\", \"address\": \"::1\", \"template\": \"t\",\n"
		   "    \"snmp\": { \"source_address\": \"0.0.0.0\" } },\n"
		   "  { \"name\": \"d\", \"address\": \"::1\", " METRIC_OK ", " SNMP_OK " } ] }\n",
		   0644);
	c = expect_ok(tpath("vigil.json"));
	ASSERT_STREQ(snmp_of(c->hosts[0].profile)->source_address, "10.0.0.5");
	ASSERT_STREQ(snmp_of(c->hosts[1].profile)->source_address, "127.0.0.1");
	ASSERT_STREQ(snmp_of(c->hosts[2].profile)->source_address, "0.0.0.0");
	ASSERT(snmp_of(c->hosts[3].profile)->source_address == NULL);
	vgl_conf_free(c);
}

TEST(conf_include_missing)
{
	expect_error("{\n  \"include\": \"hosts.d\"\n}\n", "2:14: include: include directory '");
}

TEST(conf_nothing_to_poll)
{
	expect_error("{ \"hosts\": [\n  { " HOST_OK " } ] }",
		     "2:3: hosts[0]: host has nothing to poll");
	expect_error("{ \"hosts\": [\n  { " HOST_OK ", " SNMP_OK " } ] }",
		     "2:3: hosts[0]: host has no metrics to poll");
	expect_error("{ \"hosts\": [\n  { " HOST_OK ", \"service\": \"vpizza\", " SNMP_OK ", "
		     METRIC_OK " } ] }", "2:54: hosts[0].service: unknown service 'vpizza'");
	expect_error("{ \"hosts\": [\n  { \"name\": \"a b\", \"address\": \"127.0.0.1\" } ] }",
		     "2:13: hosts[0].name: host name must be");
	expect_error("{ \"hosts\": [\n  { " HOST_OK ", " SNMP_OK ", " METRIC_OK ",\n"
		     "    \"service_start\": \"yesterday\" } ] }",
		     "3:22: hosts[0].service_start: expected an ISO-8601 time");
	expect_error("{ }", "");
}

TEST(conf_full)
{
	struct vgl_conf *c;
	const struct vgl_conf_host *h1, *h2, *h3, *h4;
	const struct vgl_conf_profile *p;
	const struct vgl_conf_metric *m;

	ASSERT_EQ(mkdir(tpath("hosts.d"), 0755), 0);
	write_file("hosts.d/20-b.json",
		   "{ \"hosts\": [ { \"name\": \"web-04\", \"address\": \"127.0.0.4\", \"template\": \"srv\" } ] }",
		   0644);
	write_file("hosts.d/10-a.json",
		   "{ \"templates\": { \"bare\": { \"snmp\": { \"community\": \"x\" },\n"
		   "    \"metrics\": { \"t\": \".1.3.6.1.4.1.99999.1.0\" } } },\n"
		   "  \"hosts\": [ { \"name\": \"web-03\", \"address\": \"::1\", \"template\": \"bare\" } ] }",
		   0644);
	write_file("hosts.d/ignored.txt", "not json", 0644);
	write_file("vigil.json",
		   "// a comment first\n"
		   "{ \"storage\": { \"path\": \"data/v.db\", \"batch_ms\": 250, \"heartbeat_s\": 5 },\n"
		   "  \"snmp\": { \"max_in_flight\": 500 },\n"
		   "  \"mibs\": { \"modules\": [ \"IF-MIB\" ] },\n"
		   "  \"include\": \"hosts.d\",\n"
		   "  \"templates\": { \"srv\": {\n"
		   "    \"snmp\": { \"version\": \"2c\", \"community\": \"public\", \"interval_s\": 30 },\n"
		   "    \"metrics\": { \"ifOperStatus\": \"IF-MIB::ifOperStatus.1\",\n"
		   "                 \"ifAdminStatus\": \"IF-MIB::ifAdminStatus.1\",\n"
		   "                 \"uptime\": \"SNMPv2-MIB::sysUpTime.0\",\n"
		   "                 \"psu\": { \"oid\": \".1.3.6.1.4.1.99999.3.0\", \"enum\": { \"ok\": 1, \"failed\": 2 } } },\n"
		   "    \"availability\": [\n"
		   "      { \"name\": \"unreachable\", \"unreachable\": 3, \"cause\": \"network\" },\n"
		   "      { \"name\": \"uplink-down\", \"when\": \"ifOperStatus != up and ifAdminStatus == up\",\n"
		   "        \"for_s\": 30, \"cause\": \"network\" } ] } },\n"
		   "  \"hosts\": [\n"
		   "    { \"name\": \"web-01\", \"address\": \"127.0.0.1\", \"template\": \"srv\", \"site\": \"hcm1\",\n"
		   "      \"service\": \"vserver\", \"customer\": \"acme\",\n"
		   "      \"service_start\": \"2026-01-01T00:00:00.000Z\", \"service_end\": null },\n"
		   "    { \"name\": \"web-02\", \"address\": \"127.0.0.2\", \"template\": \"srv\", \"site\": \"hcm1\",\n"
		   "      \"snmp\": { \"port\": 16161 }, \"metrics\": { \"load\": \".1.3.6.1.4.1.99999.1.0\",\n"
		   "      \"psu\": \".1.3.6.1.4.1.99999.9.0\" } }\n"
		   "  ] }\n", 0644);
	c = expect_ok(tpath("vigil.json"));

	ASSERT_STREQ(c->db_path, tpath("data/v.db"));
	ASSERT_EQ(c->batch_ms, 250);
	ASSERT_EQ(c->heartbeat_ms, 5000);
	ASSERT_EQ(vgl_snmp_max_in_flight(c), 500);
	ASSERT_EQ(c->n_hosts, 4);
	/* Main file first, then includes in name order. */
	ASSERT_STREQ(c->hosts[2].name, "web-03");
	ASSERT_STREQ(c->hosts[3].name, "web-04");
	h1 = vgl_conf_find_host(c, "web-01");
	h2 = vgl_conf_find_host(c, "web-02");
	h3 = vgl_conf_find_host(c, "web-03");
	h4 = vgl_conf_find_host(c, "web-04");
	ASSERT(h1 && h2 && h3 && h4);
	ASSERT(vgl_conf_find_host(c, "web-05") == NULL);
	ASSERT_STREQ(h1->site, "hcm1");
	ASSERT(h1->site == h2->site);           /* interned */
	ASSERT_STREQ(h1->service, "vserver");
	ASSERT_STREQ(h1->customer, "acme");
	ASSERT_EQ(h1->service_start_ms, 1767225600000LL);
	ASSERT_EQ(h1->service_end_ms, 0);
	ASSERT_STREQ(h1->file, tpath("vigil.json"));
	ASSERT_EQ(h1->line, 17);
	ASSERT_STREQ(h3->file, tpath("hosts.d/10-a.json"));
	ASSERT_EQ(h3->line, 3);
	ASSERT(h2->service == NULL);

	/* web-01 and web-04 use the template as is: one profile. */
	ASSERT(h1->profile == h4->profile);
	ASSERT(h2->profile != h1->profile);
	ASSERT_EQ(h1->profile->refs, 2);
	ASSERT_EQ(c->n_profiles, 3);    /* srv, web-02's, bare ("bare" used once) */
	p = h1->profile;
	ASSERT_STREQ(p->template_name, "srv");
	ASSERT(vgl_conf_source_index(p, "snmp") >= 0);
	ASSERT_EQ(snmp_of(p)->version, VGL_SNMP_V2C);
	ASSERT_STREQ(snmp_of(p)->community, "public");
	ASSERT_EQ(snmp_of(p)->port, 161);
	ASSERT_EQ(snmp_src(p)->interval_ms, 30000);
	ASSERT_EQ(snmp_src(p)->timeout_ms, 1000);
	ASSERT_EQ(snmp_of(p)->retries, 1);
	ASSERT_EQ(snmp_of(p)->max_oids_per_pdu, 20);
	ASSERT_EQ(p->n_metrics, 4);
	m = &p->metrics[0];
	ASSERT_STREQ(m->name, "ifOperStatus");
	ASSERT_STREQ(m->text, "IF-MIB::ifOperStatus.1");
	ASSERT_EQ(oid_of(m)->oid_len, 11);
	ASSERT_EQ(oid_of(m)->oid[9], 8);
	ASSERT_EQ(oid_of(m)->oid[10], 1);
	ASSERT_EQ(m->n_enums, 7);
	{
		int up = 0, lld = 0;
		for (size_t i = 0; i < m->n_enums; i++) {
			up |= strcmp(m->enums[i].label, "up") == 0 && m->enums[i].value == 1;
			lld |= strcmp(m->enums[i].label, "lowerLayerDown") == 0 && m->enums[i].value == 7;
		}
		ASSERT(up && lld);
	}
	ASSERT_EQ(oid_of(&p->metrics[2])->oid_len, 9);    /* sysUpTime.0 */
	ASSERT_EQ(oid_of(&p->metrics[2])->oid[7], 3);
	ASSERT_EQ(p->metrics[2].n_enums, 0);
	ASSERT_EQ(p->metrics[3].n_enums, 2);
	ASSERT_STREQ(p->metrics[3].enums[1].label, "failed");
	ASSERT_EQ(p->metrics[3].enums[1].value, 2);
	ASSERT_EQ(p->n_conds, 2);
	ASSERT_EQ(p->conds[0].kind, VGL_COND_UNREACHABLE);
	ASSERT_EQ(p->conds[0].failures, 3);
	ASSERT_STREQ(p->conds[0].cause, "network");
	ASSERT_EQ(p->conds[1].kind, VGL_COND_EXPR);
	ASSERT_EQ(p->conds[1].for_ms, 30000);
	ASSERT(p->conds[1].expr != NULL);
	{
		/* The compiled expression reads both status metrics. */
		struct vgl_value v[4] = { { 2, VGL_Q_OK }, { 1, VGL_Q_OK }, { 0, VGL_Q_OK },
					  { 1, VGL_Q_OK } };
		ASSERT_EQ(vgl_expr_eval(p->conds[1].expr, v), VGL_TRUE);
		v[0].v = 1;
		ASSERT_EQ(vgl_expr_eval(p->conds[1].expr, v), VGL_FALSE);
	}

	/* web-02: template merged with its overrides. */
	p = h2->profile;
	ASSERT_STREQ(p->template_name, "srv");
	ASSERT_EQ(p->refs, 1);
	ASSERT_EQ(snmp_of(p)->port, 16161);
	ASSERT_STREQ(snmp_of(p)->community, "public");
	ASSERT_EQ(snmp_src(p)->interval_ms, 30000);
	ASSERT_EQ(p->n_metrics, 5);
	ASSERT_STREQ(p->metrics[3].name, "psu");        /* replaced in place */
	ASSERT_EQ(p->metrics[3].n_enums, 0);
	ASSERT_EQ(oid_of(&p->metrics[3])->oid[7], 9);
	ASSERT_STREQ(p->metrics[4].name, "load");
	ASSERT_EQ(p->n_conds, 2);                       /* the template's */
	ASSERT(p->conds[1].expr != NULL);
	ASSERT(p->conds[1].expr != h1->profile->conds[1].expr);

	p = h3->profile;
	ASSERT_STREQ(p->template_name, "bare");
	ASSERT_EQ(p->n_conds, 0);
	ASSERT_STREQ(h3->address, "::1");
	vgl_conf_free(c);
}

TEST(conf_defaults)
{
	struct vgl_conf *c;

	write_file("vigil.json", "{ \"hosts\": [ { " HOST_OK ", " SNMP_OK ", " METRIC_OK " } ] }", 0644);
	c = expect_ok(tpath("vigil.json"));
	ASSERT_STREQ(c->db_path, tpath("vigil.db"));
	ASSERT_EQ(c->batch_ms, 1000);
	ASSERT_EQ(c->heartbeat_ms, 10000);
	ASSERT_EQ(vgl_snmp_max_in_flight(c), 10000);
	ASSERT_EQ(c->n_profiles, 1);
	ASSERT(c->hosts[0].profile->template_name == NULL);
	ASSERT_EQ(snmp_src(c->hosts[0].profile)->interval_ms, 60000);
	ASSERT_EQ(snmp_of(c->hosts[0].profile)->port, 161);
	ASSERT_EQ(oid_of(&c->hosts[0].profile->metrics[0])->oid_len, 9);
	vgl_conf_free(c);
}

/* Reload in one process (SIGHUP), and net-snmp says nothing on stderr
 * even when a module or object is missing. */
TEST(conf_reload_quiet)
{
	struct vgl_conf *c;
	struct vgl_conf_errors e;
	int saved = dup(2), fd;
	struct stat st;

	write_file("vigil.json", "{ \"hosts\": [ { " HOST_OK ", " SNMP_OK ",\n"
		   "  \"metrics\": { \"a\": \"IF-MIB::ifInOctets.2\", \"b\": \"SNMPv2-MIB::sysName.0\" } } ] }",
		   0644);
	write_file("bad.json", "{ \"mibs\": { \"modules\": [ \"UCD-SNMP-MIB\", \"NOPE-MIB\" ] },\n"
		   " \"hosts\": [ { " HOST_OK ", " SNMP_OK ",\n"
		   "  \"metrics\": { \"a\": \"NOPE2-MIB::x.0\", \"b\": \"IF-MIB::nope.0\" } } ] }", 0644);
	fd = open(tpath("stderr.txt"), O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ASSERT(fd >= 0 && saved >= 0);
	ASSERT(dup2(fd, 2) == 2);
	for (int i = 0; i < 3; i++) {
		int r1 = vgl_conf_load(tpath("vigil.json"), &c, &e);
		vgl_conf_errors_free(&e);
		vgl_conf_free(c);
		int r2 = vgl_conf_load(tpath("bad.json"), &c, &e);
		size_t n = e.n;
		vgl_conf_errors_free(&e);
		if (r1 != 0 || r2 != -1 || n != 3) {
			dup2(saved, 2);
			fprintf(stderr, "round %d: %d %d %zu\n", i, r1, r2, n);
			ASSERT(0);
		}
	}
	fflush(stderr);
	ASSERT(dup2(saved, 2) == 2);
	close(fd);
	close(saved);
	ASSERT_EQ(stat(tpath("stderr.txt"), &st), 0);
	if (st.st_size != 0) {
		char cmd[600];
		snprintf(cmd, sizeof(cmd), "cat %s >&2", tpath("stderr.txt"));
		ASSERT(system(cmd) == 0);
	}
	ASSERT_EQ(st.st_size, 0);
}

/* mibs.dirs win over the shipped modules. */
TEST(conf_mib_dirs_precedence)
{
	struct vgl_conf *c;
	const struct vgl_conf_metric *m;

	ASSERT_EQ(mkdir(tpath("mymibs"), 0755), 0);
	write_file("mymibs/VIGIL-TEST-MIB.txt",
		   "VIGIL-TEST-MIB DEFINITIONS ::= BEGIN\n"
		   "IMPORTS OBJECT-TYPE, enterprises FROM SNMPv2-SMI;\n"
		   "vigilTest OBJECT IDENTIFIER ::= { enterprises 99999 }\n"
		   "vtPower OBJECT-TYPE\n"
		   "  SYNTAX INTEGER { on(1), off(2), cycling(3) }\n"
		   "  MAX-ACCESS read-only\n  STATUS current\n  DESCRIPTION \"power\"\n"
		   "  ::= { vigilTest 3 }\n"
		   "END\n", 0644);
	write_file("vigil.json", "{ \"mibs\": { \"dirs\": [ \"mymibs\" ], \"modules\": [ \"VIGIL-TEST-MIB\" ] },\n"
		   "  \"hosts\": [ { " HOST_OK ", " SNMP_OK ",\n"
		   "  \"metrics\": { \"p\": \"VIGIL-TEST-MIB::vtPower.0\" },\n"
		   "  \"availability\": [ { \"name\": \"off\", \"cause\": \"power\", \"when\": \"p == off\" } ] } ] }",
		   0644);
	c = expect_ok(tpath("vigil.json"));
	m = &c->hosts[0].profile->metrics[0];
	ASSERT_EQ(oid_of(m)->oid_len, 9);
	ASSERT_EQ(oid_of(m)->oid[6], 99999);
	ASSERT_EQ(oid_of(m)->oid[7], 3);
	ASSERT_EQ(m->n_enums, 3);
	vgl_conf_free(c);
	expect_error("{ \"mibs\": { \"dirs\": [\n \"nodir\" ] } }", "2:2: mibs.dirs[0]: MIB directory '");
}

TEST(conf_error_cap)
{
	size_t cap = 1 << 16, len = 0;
	char *text = malloc(cap);
	struct vgl_conf *c;
	struct vgl_conf_errors e;

	ASSERT(text != NULL);
	len += (size_t)snprintf(text + len, cap - len, "{ \"hosts\": [\n");
	for (int i = 0; i < 150; i++)
		len += (size_t)snprintf(text + len, cap - len, "%s{ \"name\": \"h%d\" }\n",
					i ? "," : "", i);
	snprintf(text + len, cap - len, "] }\n");
	write_file("vigil.json", text, 0644);
	free(text);
	ASSERT_EQ(vgl_conf_load(tpath("vigil.json"), &c, &e), -1);
	ASSERT_EQ(e.n, 101);
	ASSERT_CONTAINS(e.msgs[0], "vigil.json:2:1: hosts[0]: missing required key 'address'");
	ASSERT_CONTAINS(e.msgs[99], "vigil.json:101:2: hosts[99]: missing required key 'address'");
	ASSERT_CONTAINS(e.msgs[100], "50 more errors not shown");
	vgl_conf_errors_free(&e);
}

static void copy_file(const char *from, const char *to, const char *uncomment)
{
	FILE *f = fopen(from, "r"), *g;
	char line[4096];

	ASSERT(f != NULL);
	g = fopen(to, "w");
	ASSERT(g != NULL);
	while (fgets(line, sizeof(line), f)) {
		char *p = uncomment ? strstr(line, uncomment) : NULL;
		if (p)
			memset(p, ' ', 2);      /* the "//" before it */
		ASSERT(fputs(line, g) >= 0);
	}
	ASSERT(!ferror(f));
	fclose(f);
	ASSERT_EQ(fclose(g), 0);
}

TEST(conf_example_loads)
{
	struct vgl_conf *c;
	const struct vgl_conf_host *v3;

	/* As shipped, in place. */
	c = expect_ok("conf/vigil.json");
	ASSERT_GE(c->n_hosts, 3);
	vgl_conf_free(c);

	/* A copy with the secrets line enabled and its file at 0600. */
	ASSERT_EQ(mkdir(tpath("hosts.d"), 0755), 0);
	ASSERT_EQ(mkdir(tpath("profiles"), 0755), 0);
	copy_file("conf/vigil.json", tpath("vigil.json"), "// , \"secrets\"");
	copy_file("conf/hosts.d/example.json", tpath("hosts.d/example.json"), NULL);
	copy_file("conf/profiles/pdu-metered.json", tpath("profiles/pdu-metered.json"), NULL);
	copy_file("conf/profiles/ups-generic.json", tpath("profiles/ups-generic.json"), NULL);
	copy_file("conf/profiles/crac-generic.json", tpath("profiles/crac-generic.json"), NULL);
	write_file("secrets.example.json", "{ \"auth_key\": \"vigil-auth-pass\",\n"
		   "  \"priv_key\": \"vigil-priv-pass\" }\n", 0600);
	c = expect_ok(tpath("vigil.json"));
	v3 = vgl_conf_find_host(c, "db-01");
	ASSERT(v3 != NULL);
	ASSERT_STREQ(snmp_of(v3->profile)->priv_key, "vigil-priv-pass");
	vgl_conf_free(c);
}

static long rss_kib(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long kib = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld", &kib) == 1)
			break;
	fclose(f);
	return kib;
}

TEST(conf_scale_100k_hosts)
{
	const int n = 100000;
	FILE *f = fopen(tpath("vigil.json"), "w");
	struct vgl_conf *c;
	struct timespec t0, t1;
	long rss0, rss1;
	double secs;

	ASSERT(f != NULL);
	fprintf(f, "{ \"templates\": { \"srv\": {\n"
		"  \"snmp\": { \"community\": \"public\" },\n"
		"  \"metrics\": { \"ifOperStatus\": \"IF-MIB::ifOperStatus.1\", \"t\": \".1.3.6.1.4.1.99999.1.0\" },\n"
		"  \"availability\": [ { \"name\": \"u\", \"unreachable\": 3, \"cause\": \"network\" },\n"
		"    { \"name\": \"d\", \"when\": \"ifOperStatus == down\", \"cause\": \"network\" } ] } },\n"
		"  \"hosts\": [\n");
	for (int i = 0; i < n; i++)
		fprintf(f, "%s{ \"name\": \"host-%06d\", \"address\": \"127.%d.%d.%d\", \"template\": \"srv\", "
			"\"site\": \"site%d\" }\n", i ? "," : " ", i, i >> 16 & 255, i >> 8 & 255,
			i & 255, i % 4);
	fprintf(f, "] }\n");
	ASSERT_EQ(fclose(f), 0);

	rss0 = rss_kib();
	clock_gettime(CLOCK_MONOTONIC, &t0);
	c = expect_ok(tpath("vigil.json"));
	clock_gettime(CLOCK_MONOTONIC, &t1);
	rss1 = rss_kib();
	secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	fprintf(stderr, "conf: %d hosts loaded in %.3f s, RSS +%ld KiB (%.0f B/host)\n", n, secs,
		rss1 - rss0, (double)(rss1 - rss0) * 1024.0 / n);
	ASSERT_EQ(c->n_hosts, (size_t)n);
	ASSERT_EQ(c->n_profiles, 1);
	ASSERT_EQ(c->profiles[0]->refs, (unsigned)n);
	ASSERT(c->hosts[0].profile == c->hosts[n - 1].profile);
	ASSERT_STREQ(c->hosts[n - 1].name, "host-099999");
	ASSERT(c->hosts[0].site == c->hosts[4].site);
	ASSERT_LT(secs, 5.0);
#ifndef __SANITIZE_ADDRESS__
	/* Well under 1 KiB per host, strings included (ASan's redzones and
	 * quarantine make the figure meaningless there). */
	ASSERT_LT((rss1 - rss0) * 1024, (long)n * 512);
#endif
	vgl_conf_free(c);
}
