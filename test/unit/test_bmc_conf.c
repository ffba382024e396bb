/* BMC sources in the config (collectors/bmc_conf.c): the defaults and
 * every key of "ipmi" and "redfish", credentials from a 0600 secrets file,
 * the metric vocabulary with its enums, "uplink", and the errors with
 * FILE:LINE:COL. */
#include <sys/stat.h>

#include "collectors/bmc_conf.h"
#include "conf/conf.h"
#include "test/test.h"
#include "test/unit/conf_util.h"

static const struct vgl_conf_metric *metric(const struct vgl_conf_profile *p, const char *name)
{
	for (size_t i = 0; i < p->n_metrics; i++)
		if (strcmp(p->metrics[i].name, name) == 0)
			return &p->metrics[i];
	fprintf(stderr, "no metric %s\n", name);
	ASSERT(0);
	return NULL;
}

TEST(bmc_conf_sources_and_metrics)
{
	struct vgl_conf *c;
	const struct vgl_conf_profile *p;
	const struct vgl_bmc_source *ip, *rf;
	const struct vgl_bmc_metric *m;

	write_file("bmc.secrets", "{ \"username\": \"mon\", \"password\": \"s3cret\" }", 0600);
	write_file("ca.pem", "not checked here\n", 0644);
	c = load_ok(
		"{ \"hosts\": [ { \"name\": \"sw1\", \"address\": \"127.0.0.9\", \"snmp\": { \"community\": \"public\" },\n"
		"  \"metrics\": { \"port12\": \"IF-MIB::ifOperStatus.12\" } },\n"
		" { \"name\": \"bm-1\", \"address\": \"127.0.0.1\", \"uplink\": \"sw1.port12\",\n"
		"  \"sources\": {\n"
		"    \"bmc\": { \"type\": \"ipmi\", \"secrets\": \"bmc.secrets\", \"cipher_suite\": 17,\n"
		"             \"privilege\": \"operator\" },\n"
		"    \"rf\": { \"type\": \"redfish\", \"address\": \"127.0.1.1\", \"port\": 8443,\n"
		"            \"secrets\": \"bmc.secrets\", \"auth\": \"basic\", \"ca_file\": \"ca.pem\" } },\n"
		"  \"metrics\": {\n"
		"    \"power\": { \"source\": \"bmc\", \"read\": \"power\" },\n"
		"    \"t\": { \"source\": \"bmc\", \"read\": \"sensor:CPU Temp\" },\n"
		"    \"ts\": { \"source\": \"rf\", \"read\": \"sensor_state\", \"sensor\": \"Inlet Temp\" },\n"
		"    \"h\": { \"source\": \"rf\", \"read\": \"health\" },\n"
		"    \"n\": { \"source\": \"rf\", \"read\": \"sel_entries\" } },\n"
		"  \"availability\": [ { \"name\": \"off\", \"when\": \"power == off\", \"cause\": \"unknown\" },\n"
		"                      { \"name\": \"hot\", \"when\": \"ts == critical\", \"cause\": \"hardware\" } ] } ] }");
	p = c->hosts[1].profile;
	ASSERT_EQ(p->n_sources, 2);
	ip = p->sources[0].spec;
	rf = p->sources[1].spec;
	ASSERT_STREQ(p->sources[0].be->type, "ipmi");
	ASSERT(p->sources[0].be->is_bmc);
	ASSERT_EQ(p->sources[0].interval_ms, 60000);
	ASSERT_EQ(p->sources[0].timeout_ms, 5000);
	ASSERT(ip->address == NULL);
	ASSERT_EQ(ip->port, 623);
	ASSERT_EQ(ip->cipher_suite, 17);
	ASSERT_EQ(ip->privilege, VGL_BMC_PRIV_OPERATOR);
	ASSERT_STREQ(ip->username, "mon");
	ASSERT_STREQ(ip->password, "s3cret");
	ASSERT_STREQ(rf->address, "127.0.1.1");
	ASSERT_EQ(rf->port, 8443);
	ASSERT_EQ(rf->auth, VGL_BMC_AUTH_BASIC);
	ASSERT(rf->tls_verify);
	ASSERT_CONTAINS(rf->ca_file, "/ca.pem");
	m = metric(p, "t")->spec;
	ASSERT_EQ(m->read, VGL_BMC_READ_SENSOR);
	ASSERT_STREQ(m->sensor, "CPU Temp");
	ASSERT_STREQ(metric(p, "t")->text, "sensor:CPU Temp");
	m = metric(p, "ts")->spec;
	ASSERT_EQ(m->read, VGL_BMC_READ_SENSOR_STATE);
	ASSERT_STREQ(m->sensor, "Inlet Temp");
	ASSERT_EQ(metric(p, "ts")->n_enums, 3);
	ASSERT_EQ(metric(p, "power")->n_enums, 2);
	ASSERT_EQ(((const struct vgl_bmc_metric *)metric(p, "n")->spec)->read,
		  VGL_BMC_READ_SEL_ENTRIES);
	ASSERT(c->hosts[1].has_uplink);
	ASSERT_EQ(c->hosts[1].uplink.host, 0);
	ASSERT_STREQ(c->hosts[1].uplink.text, "sw1.port12");
	vgl_conf_free(c);

	/* redfish defaults; TLS verification off said explicitly */
	c = load_ok("{ \"hosts\": [ { \"name\": \"b\", \"address\": \"127.0.0.1\",\n"
		    "  \"sources\": { \"rf\": { \"type\": \"redfish\", \"secrets\": \"bmc.secrets\",\n"
		    "    \"tls_verify\": false } } } ] }");
	rf = c->hosts[0].profile->sources[0].spec;
	ASSERT_EQ(rf->port, 443);
	ASSERT_EQ(rf->auth, VGL_BMC_AUTH_SESSION);
	ASSERT_EQ(rf->tls_verify, 0);
	ASSERT_EQ(c->hosts[0].profile->sources[0].timeout_ms, 10000);
	vgl_conf_free(c);
}

#define BH "{ \"hosts\": [ { \"name\": \"b\", \"address\": \"127.0.0.1\",\n"

TEST(bmc_conf_errors)
{
	write_file("bmc.secrets", "{ \"username\": \"mon\", \"password\": \"s3cret\" }", 0600);
	write_file("open.secrets", "{ \"username\": \"mon\", \"password\": \"s3cret\" }", 0644);
	expect_error(BH "  \"sources\": { \"bmc\": { \"type\": \"ipmi\" } } } ] }",
		     "2:23: hosts[0].sources.bmc: a BMC source needs a username and a password");
	expect_error(BH "  \"sources\": { \"bmc\": { \"type\": \"ipmi\", \"secrets\": \"bmc.secrets\",\n"
		     "    \"cipher_suite\": 18 } } } ] }",
		     "3:21: hosts[0].sources.bmc.cipher_suite: expected an integer 0-17, got 18");
	expect_error(BH "  \"sources\": { \"bmc\": { \"type\": \"ipmi\", \"secrets\": \"bmc.secrets\",\n"
		     "    \"privilege\": \"root\" } } } ] }",
		     "3:18: hosts[0].sources.bmc.privilege: expected \"user\", \"operator\" or \"admin\", got \"root\"");
	expect_error(BH "  \"sources\": { \"bmc\": { \"type\": \"ipmi\", \"secrets\": \"open.secrets\" } } } ] }",
		     "2:52: hosts[0].sources.bmc.secrets: secret file");
	expect_error(BH "  \"sources\": { \"rf\": { \"type\": \"redfish\", \"secrets\": \"bmc.secrets\",\n"
		     "    \"tls_verify\": \"no\" } } } ] }",
		     "3:19: hosts[0].sources.rf.tls_verify: expected true or false");
	expect_error(BH "  \"sources\": { \"rf\": { \"type\": \"redfish\", \"secrets\": \"bmc.secrets\",\n"
		     "    \"ca_file\": \"missing.pem\" } } } ] }",
		     "3:16: hosts[0].sources.rf.ca_file: cannot read ");
	expect_error(BH "  \"sources\": { \"rf\": { \"type\": \"redfish\", \"secrets\": \"bmc.secrets\",\n"
		     "    \"cipher_suite\": 3 } } } ] }",
		     "3:5: hosts[0].sources.rf.cipher_suite: unknown key (expected one of: type");
	expect_error(BH "  \"sources\": { \"bmc\": { \"type\": \"ipmi\", \"secrets\": \"bmc.secrets\" } },\n"
		     "  \"metrics\": { \"x\": { \"source\": \"bmc\", \"read\": \"temperature\" } } } ] }",
		     "3:48: hosts[0].metrics.x.read: expected one of \"power\"");
	expect_error(BH "  \"sources\": { \"bmc\": { \"type\": \"ipmi\", \"secrets\": \"bmc.secrets\" } },\n"
		     "  \"metrics\": { \"x\": { \"source\": \"bmc\", \"read\": \"sensor\" } } } ] }",
		     "3:48: hosts[0].metrics.x.read: \"sensor\" needs a sensor name");
	expect_error(BH "  \"sources\": { \"bmc\": { \"type\": \"ipmi\", \"secrets\": \"bmc.secrets\" } },\n"
		     "  \"metrics\": { \"x\": { \"source\": \"bmc\", \"read\": \"sensor:A\", \"sensor\": \"B\" } } } ] }",
		     "3:70: hosts[0].metrics.x.sensor: the sensor is named twice");
	expect_error(BH "  \"sources\": { \"bmc\": { \"type\": \"ipmi\", \"secrets\": \"bmc.secrets\" } },\n"
		     "  \"uplink\": \"nosuch.port1\" } ] }",
		     "3:13: hosts[0].uplink: no host named in 'nosuch.port1' (an uplink is HOST.METRIC");
}
