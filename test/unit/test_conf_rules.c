/* The config of alarms (conf/rules_load.c, conf/alarm_load.c): rules of
 * templates and hosts parsed with FILE:LINE:COL errors, an availability
 * condition's alarm, references to other devices resolved per host, and
 * the top-level alarms, channels and escalation with their defaults. */
#include <stdio.h>
#include <string.h>

#include "alarms/alarm_conf.h"
#include "conf/conf.h"
#include "notify/channel.h"
#include "rules/expr.h"
#include "rules/rule_conf.h"
#include "test/test.h"
#include "test/unit/conf_util.h"

/* A switch and a server behind it; RULES goes into the server template,
 * TOP at the top level. */
static void conf_text(char *buf, size_t n, const char *rules, const char *top)
{
	snprintf(buf, n,
		 "{\n"
		 "  %s\n"
		 "  \"templates\": {\n"
		 "    \"sw\": { \"sources\": { \"t\": { \"type\": \"tcp\", \"port\": 9 } },\n"
		 "      \"metrics\": { \"port1\": { \"source\": \"t\", \"value\": \"up\" } } },\n"
		 "    \"srv\": { \"sources\": { \"t\": { \"type\": \"tcp\", \"port\": 9, \"interval_s\": 10 } },\n"
		 "      \"metrics\": { \"up\": { \"source\": \"t\", \"value\": \"up\" },\n"
		 "                     \"ms\": { \"source\": \"t\", \"value\": \"connect_ms\" } },\n"
		 "      \"rules\": [\n"
		 "        %s\n"
		 "      ] }\n"
		 "  },\n"
		 "  \"hosts\": [\n"
		 "    { \"name\": \"sw1\", \"address\": \"127.0.0.1\", \"template\": \"sw\" },\n"
		 "    { \"name\": \"h1\", \"address\": \"127.0.0.2\", \"template\": \"srv\", \"uplink\": \"sw1.port1\" },\n"
		 "    { \"name\": \"h2\", \"address\": \"127.0.0.3\", \"template\": \"srv\" }\n"
		 "  ]\n"
		 "}\n", top ? top : "", rules);
}

TEST(conf_rules_loaded_with_defaults)
{
	char t[4096];
	struct vgl_conf *c;
	const struct vgl_conf_host *h1, *h2;
	const struct vgl_conf_rule *r;

	conf_text(t, sizeof(t),
		  "{ \"name\": \"slow\", \"when\": \"avg(ms, 1m) > 200\", \"clear\": \"avg(ms, 1m) < 150\",\n"
		  "          \"for_s\": 30, \"severity\": \"minor\", \"labels\": { \"team\": \"web\" },\n"
		  "          \"summary\": \"{host}: {value} ms\" },\n"
		  "        { \"name\": \"uplink\", \"when\": \"uplink.port1 == 0\" }", NULL);
	c = load_ok(t);
	h1 = vgl_conf_find_host(c, "h1");
	h2 = vgl_conf_find_host(c, "h2");
	ASSERT_EQ(h1->profile->n_rules, 2);
	r = &h1->profile->rules[0];
	ASSERT_STREQ(r->name, "slow");
	ASSERT_EQ(r->for_ms, 30000);
	ASSERT_EQ(r->alarm.severity, VGL_SEV_MINOR);
	ASSERT_EQ(r->alarm.n_labels, 1);
	ASSERT_STREQ(r->alarm.label_values[0], "web");
	ASSERT(r->clear != NULL);
	ASSERT_EQ(h1->profile->rules[1].alarm.severity, VGL_SEV_WARNING);
	/* uplink.port1 resolved per host: h1 to sw1's metric, h2 (none) unknown */
	ASSERT_EQ(h1->n_rule_refs, 1);
	ASSERT_EQ(h1->rule_refs[0].host, 0);
	ASSERT_EQ(h1->rule_refs[0].metric, 0);
	ASSERT_EQ(h2->n_rule_refs, 1);
	ASSERT_EQ(h2->rule_refs[0].host, UINT32_MAX);
	/* no "alarms", "channels" or "escalation": the defaults */
	ASSERT(c->alarm_conf != NULL);
	ASSERT_EQ(c->alarm_conf->dependency_wait_ms, 30000);
	ASSERT_EQ(c->alarm_conf->flap_changes, 6);
	ASSERT_EQ(c->alarm_conf->ack_ms, 900000);
	ASSERT_EQ(c->alarm_conf->clear_ms, 14400000);
	ASSERT_EQ(c->alarm_conf->n_policies, 0);        /* no channel: nobody to page */
	vgl_conf_free(c);
}

TEST(conf_rules_default_policy_from_channel_names)
{
	char t[4096];
	struct vgl_conf *c;
	const struct vgl_esc_policy *p;

	conf_text(t, sizeof(t), "{ \"name\": \"x\", \"when\": \"up == 0\" }",
		  "\"channels\": { \"oncall\": { \"type\": \"webhook\", \"url\": \"http://127.0.0.1:1/\" },\n"
		  "    \"site-lead\": { \"type\": \"webhook\", \"url\": \"http://127.0.0.1:1/l\" } },\n"
		  "  \"alarms\": { \"dependency_wait_s\": 5, \"response\": { \"ack_s\": 600 } },");
	c = load_ok(t);
	ASSERT_EQ(c->alarm_conf->dependency_wait_ms, 5000);
	ASSERT_EQ(c->alarm_conf->ack_ms, 600000);
	ASSERT_EQ(c->alarm_conf->n_policies, 1);
	p = &c->alarm_conf->policies[0];
	ASSERT_EQ(p->n_steps, 2);               /* no "secondary" channel: that step left out */
	ASSERT_STREQ(p->steps[0].notify[0], "oncall");
	ASSERT_EQ(p->steps[1].after_ms, 14400000);
	ASSERT(p->steps[1].until_clear);
	ASSERT(vgl_alarm_conf_policy(c->alarm_conf, VGL_SEV_INFO, NULL, NULL, 0) == NULL);
	ASSERT(vgl_alarm_conf_policy(c->alarm_conf, VGL_SEV_CRITICAL, NULL, NULL, 0) == p);
	vgl_conf_free(c);
}

TEST(conf_rules_errors_name_file_line_col)
{
	char t[4096];

	conf_text(t, sizeof(t), "{ \"name\": \"x\", \"when\": \"avg(up) > 1\" }", NULL);
	expect_error(t, "10:33: templates.srv.rules[0].when: avg() takes 2 arguments");
	conf_text(t, sizeof(t), "{ \"name\": \"x\", \"when\": \"up == 0\", \"severity\": \"loud\" }", NULL);
	expect_error(t, "10:55: templates.srv.rules[0].severity: unknown severity 'loud'");
	conf_text(t, sizeof(t), "{ \"name\": \"x\", \"when\": \"up == 0\", \"summary\": \"{host} {temp}\" }",
		  NULL);
	expect_error(t, "10:62: templates.srv.rules[0].summary: unknown placeholder 'temp'");
	conf_text(t, sizeof(t), "{ \"name\": \"x\" }", NULL);
	expect_error(t, "10:9: templates.srv.rules[0]: missing required key 'when'");
	conf_text(t, sizeof(t), "{ \"name\": \"x\", \"when\": \"up == 0\" }, { \"name\": \"x\", \"when\": \"up == 1\" }",
		  NULL);
	expect_error(t, "10:55: templates.srv.rules[1].name: duplicate rule name 'x'");
	/* 2 h of samples every 10 s: 722 fit; 4 h do not */
	conf_text(t, sizeof(t), "{ \"name\": \"x\", \"when\": \"avg(ms, 4h) > 1\" }", NULL);
	expect_error(t, "10:32: templates.srv.rules[0].when: a window of 14400 s over 'ms'");
	conf_text(t, sizeof(t), "{ \"name\": \"x\", \"when\": \"uplink.nosuch == 1\" }", NULL);
	expect_error(t, " host 'h1': rule 'x' (when) reads uplink.nosuch, but uplink 'sw1' has no metric 'nosuch'");
	conf_text(t, sizeof(t), "{ \"name\": \"x\", \"when\": \"up == 0\" }",
		  "\"escalation\": [ { \"name\": \"p\", \"steps\": [ { \"notify\": [\"nobody\"] } ] } ],");
	expect_error(t, "2:58: escalation[0].steps[0].notify[0]: no channel named 'nobody'");
	conf_text(t, sizeof(t), "{ \"name\": \"x\", \"when\": \"up == 0\" }",
		  "\"alarms\": { \"flap_window_s\": 1 },");
	expect_error(t, "2:32: alarms.flap_window_s:");
}

TEST(conf_rules_condition_alarm)
{
	char t[4096];
	struct vgl_conf *c;
	const struct vgl_conf_profile *p;

	snprintf(t, sizeof(t),
		 "{ \"hosts\": [ { \"name\": \"h\", \"address\": \"127.0.0.1\",\n"
		 "  \"sources\": { \"t\": { \"type\": \"tcp\", \"port\": 9 } },\n"
		 "  \"metrics\": { \"up\": { \"source\": \"t\", \"value\": \"up\" } },\n"
		 "  \"availability\": [ { \"name\": \"a\", \"when\": \"up == 0\", \"cause\": \"network\", \"alarm\": true },\n"
		 "    { \"name\": \"b\", \"unreachable\": 3, \"cause\": \"network\",\n"
		 "      \"alarm\": { \"severity\": \"major\", \"summary\": \"{host} gone\" } },\n"
		 "    { \"name\": \"c\", \"unreachable\": 9, \"cause\": \"network\", \"alarm\": false } ] } ] }\n");
	c = load_ok(t);
	p = c->hosts[0].profile;
	ASSERT(p->conds[0].alarm != NULL);
	ASSERT_EQ(p->conds[0].alarm->severity, VGL_SEV_CRITICAL);
	ASSERT_EQ(p->conds[1].alarm->severity, VGL_SEV_MAJOR);
	ASSERT_STREQ(p->conds[1].alarm->summary, "{host} gone");
	ASSERT(p->conds[2].alarm == NULL);
	vgl_conf_free(c);
}
