/* Redfish resources (collectors/redfish_parse.h): fixtures shaped as DMTF's
 * schemas have them, in the legacy Thermal/Power model and the
 * ThermalSubsystem/PowerSubsystem/Sensors one; the LogService choice,
 * error bodies, and what a broken or hostile BMC may send. The event log:
 * test_redfish_log.c. */
#include <math.h>

#include <cjson/cJSON.h>

#include "collectors/redfish_parse.h"
#include "test/test.h"
#include "test/unit/redfish_util.h"

#define ASSERT_NEAR(a, b) ASSERT(fabs((double)(a) - (double)(b)) < 1e-9)

/* ---- parsing, paths, links ---------------------------------------------- */

TEST(redfish_parse_malformed_json_says_where)
{
	char err[128];

	ASSERT(!vgl_rf_parse("{\"a\": 1,, }", 11, err, sizeof(err)));
	ASSERT_CONTAINS(err, "not JSON at byte ");
	/* where cJSON stopped: at the second comma or just after it */
	ASSERT_GE(atoi(err + strlen("not JSON at byte ")), 8);
	ASSERT_LE(atoi(err + strlen("not JSON at byte ")), 9);
	ASSERT(!vgl_rf_parse("", 0, err, sizeof(err)));
	ASSERT_STREQ(err, "empty body");
	ASSERT(!vgl_rf_parse("[1, 2]", 6, err, sizeof(err)));
	ASSERT_STREQ(err, "not a JSON object");
	ASSERT(!vgl_rf_parse("{\"a\": 1} x", 10, err, sizeof(err)));
	ASSERT_CONTAINS(err, "not JSON at byte 9");
	ASSERT(!vgl_rf_parse("<html>Forbidden</html>", 22, err, sizeof(err)));
	ASSERT_STREQ(err, "not JSON at byte 0");
	/* a body cut off by the size limit */
	ASSERT(!vgl_rf_parse("{\"Members\": [{\"Id\": \"1\"", 23, err, sizeof(err)));
	ASSERT_CONTAINS(err, "not JSON at byte");
	/* trailing whitespace is fine */
	cJSON *j = vgl_rf_parse("{\"a\": 1}\r\n ", 11, err, sizeof(err));
	ASSERT(j);
	cJSON_Delete(j);
}

TEST(redfish_parse_path_clean)
{
	char p[VGL_RF_PATH];
	char longp[400];

	ASSERT(vgl_rf_path_clean("/redfish/v1/Systems/1", p));
	ASSERT_STREQ(p, "/redfish/v1/Systems/1");
	ASSERT(vgl_rf_path_clean("https://10.0.0.5:443/redfish/v1/Chassis/1", p));
	ASSERT_STREQ(p, "/redfish/v1/Chassis/1");
	ASSERT(vgl_rf_path_clean("/redfish/v1/Chassis/1/Thermal#/Temperatures/0", p));
	ASSERT_STREQ(p, "/redfish/v1/Chassis/1/Thermal");
	ASSERT(vgl_rf_path_clean("/redfish/v1/Systems/1/LogServices/SEL/Entries?$skip=50", p));
	ASSERT_STREQ(p, "/redfish/v1/Systems/1/LogServices/SEL/Entries?$skip=50");
	ASSERT(!vgl_rf_path_clean("redfish/v1", p));
	ASSERT_STREQ(p, "");
	ASSERT(!vgl_rf_path_clean("/redfish/v1/../../etc/passwd", p));
	ASSERT(!vgl_rf_path_clean("/redfish/v1/a b", p));
	ASSERT(!vgl_rf_path_clean("/redfish/v1/\xc3\xa9", p));
	ASSERT(!vgl_rf_path_clean("https://evil.example", p));
	ASSERT(!vgl_rf_path_clean(NULL, p));
	memset(longp, 'a', sizeof(longp));
	longp[0] = '/';
	longp[sizeof(longp) - 1] = 0;
	ASSERT(!vgl_rf_path_clean(longp, p));
}

static const char *const root_json =
	"{\"@odata.id\": \"/redfish/v1/\", \"@odata.type\": \"#ServiceRoot.v1_15_0.ServiceRoot\","
	" \"Id\": \"RootService\", \"RedfishVersion\": \"1.15.0\","
	" \"UUID\": \"92384634-2938-2342-8820-489239905423\","
	" \"Systems\": {\"@odata.id\": \"/redfish/v1/Systems\"},"
	" \"Chassis\": {\"@odata.id\": \"/redfish/v1/Chassis\"},"
	" \"Managers\": {\"@odata.id\": \"/redfish/v1/Managers\"},"
	" \"SessionService\": {\"@odata.id\": \"/redfish/v1/SessionService\"},"
	" \"Links\": {\"Sessions\": {\"@odata.id\": \"/redfish/v1/SessionService/Sessions\"}},"
	" \"ProtocolFeaturesSupported\": {\"ExpandQuery\": {\"ExpandAll\": true, \"Levels\": true,"
	"   \"Links\": true, \"NoLinks\": true, \"MaxLevels\": 3}, \"TopSkipQuery\": true,"
	"   \"SelectQuery\": false}}";

TEST(redfish_parse_service_root_links)
{
	struct vgl_rf_root r;
	char err[128];
	cJSON *j = P(root_json);

	ASSERT_EQ(vgl_rf_root_parse(j, &r, err, sizeof(err)), 0);
	ASSERT_STREQ(r.systems, "/redfish/v1/Systems");
	ASSERT_STREQ(r.chassis, "/redfish/v1/Chassis");
	ASSERT_STREQ(r.managers, "/redfish/v1/Managers");
	ASSERT_STREQ(r.sessions, "/redfish/v1/SessionService/Sessions");
	ASSERT_STREQ(r.session_service, "/redfish/v1/SessionService");
	ASSERT_STREQ(r.uuid, "92384634-2938-2342-8820-489239905423");
	ASSERT_EQ(r.expand, VGL_RF_EXPAND_DOT);
	ASSERT_EQ(r.top_skip, 1);
	ASSERT_STREQ(vgl_rf_expand_query(&r), "$expand=.($levels=1)");
	cJSON_Delete(j);

	/* no features, no Links.Sessions: nothing assumed */
	j = P("{\"Systems\": {\"@odata.id\": \"/redfish/v1/Systems\"},"
	      " \"SessionService\": {\"@odata.id\": \"/redfish/v1/SessionService\"}}");
	ASSERT_EQ(vgl_rf_root_parse(j, &r, err, sizeof(err)), 0);
	ASSERT_STREQ(r.sessions, "");
	ASSERT_EQ(r.expand, VGL_RF_EXPAND_NONE);
	ASSERT_EQ(r.top_skip, 0);
	ASSERT(vgl_rf_expand_query(&r) == NULL);
	cJSON_Delete(j);

	/* ExpandAll only, no levels */
	j = P("{\"Systems\": {\"@odata.id\": \"/redfish/v1/Systems\"}, "
	      "\"ProtocolFeaturesSupported\":"
	      " {\"ExpandQuery\": {\"ExpandAll\": true}, \"TopSkipQuery\": \"yes\"}}");
	ASSERT_EQ(vgl_rf_root_parse(j, &r, err, sizeof(err)), 0);
	ASSERT_STREQ(vgl_rf_expand_query(&r), "$expand=*");
	ASSERT_EQ(r.top_skip, 0);       /* a string is not true */
	cJSON_Delete(j);

	/* wrong types: a link that is a string, Systems missing */
	j = P("{\"Systems\": \"/redfish/v1/Systems\", \"Chassis\": {\"@odata.id\": 5},"
	      " \"Links\": [1, 2], \"UUID\": 17}");
	ASSERT_EQ(vgl_rf_root_parse(j, &r, err, sizeof(err)), -1);
	ASSERT_STREQ(err, "service root: no Systems link");
	ASSERT_STREQ(r.chassis, "");
	ASSERT_STREQ(r.uuid, "");
	cJSON_Delete(j);
}

TEST(redfish_parse_collection_members)
{
	char p[VGL_RF_PATH];
	cJSON *j = P("{\"@odata.id\": \"/redfish/v1/Systems\", \"Members@odata.count\": 3,"
		     " \"Members\": [{\"@odata.id\": \"/redfish/v1/Systems/1\"}, {\"Id\": 2},"
		     " \"/redfish/v1/Systems/3\"]}");

	ASSERT_EQ(vgl_rf_members(j), 3);
	ASSERT(vgl_rf_member(j, 0, p));
	ASSERT_STREQ(p, "/redfish/v1/Systems/1");
	ASSERT(!vgl_rf_member(j, 1, p));
	ASSERT(!vgl_rf_member(j, 2, p));
	ASSERT(!vgl_rf_member(j, 3, p));
	cJSON_Delete(j);
	j = P("{\"Members\": {\"@odata.id\": \"/x\"}}");
	ASSERT_EQ(vgl_rf_members(j), 0);
	ASSERT(!vgl_rf_member(j, 0, p));
	cJSON_Delete(j);
}

/* ---- the System -------------------------------------------------------------- */

TEST(redfish_parse_power_state_mapping)
{
	ASSERT_EQ(vgl_rf_power_state("On"), VGL_BMC_POWER_ON);
	ASSERT_EQ(vgl_rf_power_state("PoweringOff"), VGL_BMC_POWER_ON);
	ASSERT_EQ(vgl_rf_power_state("Paused"), VGL_BMC_POWER_ON);
	ASSERT_EQ(vgl_rf_power_state("Off"), VGL_BMC_POWER_OFF);
	ASSERT_EQ(vgl_rf_power_state("PoweringOn"), VGL_BMC_POWER_OFF);
	ASSERT_EQ(vgl_rf_power_state("on"), VGL_BMC_POWER_UNKNOWN);
	ASSERT_EQ(vgl_rf_power_state(""), VGL_BMC_POWER_UNKNOWN);
	ASSERT_EQ(vgl_rf_power_state(NULL), VGL_BMC_POWER_UNKNOWN);
	ASSERT_EQ(vgl_rf_health("OK"), VGL_BMC_OK);
	ASSERT_EQ(vgl_rf_health("Warning"), VGL_BMC_WARNING);
	ASSERT_EQ(vgl_rf_health("Critical"), VGL_BMC_CRITICAL);
	ASSERT_EQ(vgl_rf_health("Degraded"), VGL_BMC_UNKNOWN);
	ASSERT_EQ(vgl_rf_health(NULL), VGL_BMC_UNKNOWN);
}

TEST(redfish_parse_system)
{
	struct vgl_rf_system s;
	char err[128];
	cJSON *j = P("{\"@odata.id\": \"/redfish/v1/Systems/1\", \"Id\": \"1\","
		     " \"@odata.type\": \"#ComputerSystem.v1_20_0.ComputerSystem\","
		     " \"PowerState\": \"On\", \"Status\": {\"State\": \"Enabled\","
		     " \"Health\": \"Warning\", \"HealthRollup\": \"Critical\"},"
		     " \"LogServices\": {\"@odata.id\": \"/redfish/v1/Systems/1/LogServices\"},"
		     " \"Links\": {\"Chassis\": [{\"@odata.id\": \"/redfish/v1/Chassis/1U\"}],"
		     " \"ManagedBy\": [{\"@odata.id\": \"/redfish/v1/Managers/bmc\"}]}}");

	ASSERT_EQ(vgl_rf_system_parse(j, &s, err, sizeof(err)), 0);
	ASSERT_EQ(s.power, VGL_BMC_POWER_ON);
	ASSERT_EQ(s.health, VGL_BMC_WARNING);      /* Health, not the rollup */
	ASSERT_STREQ(s.state, "Enabled");
	ASSERT_STREQ(s.log_services, "/redfish/v1/Systems/1/LogServices");
	ASSERT_STREQ(s.chassis, "/redfish/v1/Chassis/1U");
	ASSERT_STREQ(s.manager, "/redfish/v1/Managers/bmc");
	cJSON_Delete(j);

	/* rollup when Health is missing; Off */
	j = P("{\"Id\": \"1\", \"PowerState\": \"Off\", \"Status\": {\"HealthRollup\": "
	      "\"Critical\"}}");
	ASSERT_EQ(vgl_rf_system_parse(j, &s, err, sizeof(err)), 0);
	ASSERT_EQ(s.power, VGL_BMC_POWER_OFF);
	ASSERT_EQ(s.health, VGL_BMC_CRITICAL);
	ASSERT_STREQ(s.chassis, "");
	cJSON_Delete(j);

	/* wrong types: all unknown, no crash */
	j = P("{\"Id\": 1, \"PowerState\": 1, \"Status\": {\"Health\": [\"OK\"]},"
	      " \"Links\": {\"Chassis\": {\"@odata.id\": \"/x\"}}, \"LogServices\": \"/y\"}");
	ASSERT_EQ(vgl_rf_system_parse(j, &s, err, sizeof(err)), 0);
	ASSERT_EQ(s.power, VGL_BMC_POWER_UNKNOWN);
	ASSERT_EQ(s.health, VGL_BMC_UNKNOWN);
	ASSERT_STREQ(s.chassis, "");
	ASSERT_STREQ(s.log_services, "");
	cJSON_Delete(j);

	/* not a system at all */
	j = P("{\"error\": {\"code\": \"Base.1.8.GeneralError\"}}");
	ASSERT_EQ(vgl_rf_system_parse(j, &s, err, sizeof(err)), -1);
	ASSERT_CONTAINS(err, "not a ComputerSystem");
	cJSON_Delete(j);
}

TEST(redfish_parse_logservice_choice)
{
	char e[VGL_RF_PATH];
	cJSON *j;

	ASSERT_EQ(vgl_rf_logservice_path_score("/redfish/v1/Systems/1/LogServices/SEL"), 3);
	ASSERT_EQ(vgl_rf_logservice_path_score("/redfish/v1/Systems/1/LogServices/Sel/"), 3);
	ASSERT_EQ(vgl_rf_logservice_path_score("/redfish/v1/Systems/1/LogServices/EventLog"), 2);
	ASSERT_EQ(vgl_rf_logservice_path_score("/redfish/v1/Systems/1/LogServices/Log"), 2);
	ASSERT_EQ(vgl_rf_logservice_path_score("/redfish/v1/Systems/1/LogServices/Lclog"), 1);
	ASSERT_EQ(vgl_rf_logservice_path_score("/redfish/v1/Systems/1/LogServices/Dump"), 0);
	ASSERT_EQ(vgl_rf_logservice_path_score("/redfish/v1/Systems/1/LogServices/PostCodes"), 0);
	ASSERT_EQ(vgl_rf_logservice_path_score("/redfish/v1/Managers/1/LogServices/AuditLog"), 0);

	j = P("{\"Id\": \"IML\", \"Name\": \"Integrated Management Log\", \"LogEntryType\": "
	      "\"SEL\","
	      " \"Entries\": {\"@odata.id\": \"/redfish/v1/Systems/1/LogServices/IML/Entries\"}}");
	ASSERT_EQ(vgl_rf_logservice_score(j, e), 3);
	ASSERT_STREQ(e, "/redfish/v1/Systems/1/LogServices/IML/Entries");
	cJSON_Delete(j);
	j = P("{\"Id\": \"EventLog\", \"Name\": \"System Event Log Service\","
	      " \"Entries\": {\"@odata.id\": "
	      "\"/redfish/v1/Systems/system/LogServices/EventLog/Entries\"}}");
	ASSERT_EQ(vgl_rf_logservice_score(j, e), 3);    /* "system event log" in the name */
	cJSON_Delete(j);
	j = P("{\"Id\": \"Journal\", \"LogEntryType\": \"Event\","
	      " \"Entries\": {\"@odata.id\": "
	      "\"/redfish/v1/Managers/bmc/LogServices/Journal/Entries\"}}");
	ASSERT_EQ(vgl_rf_logservice_score(j, e), 0);
	cJSON_Delete(j);
	j = P("{\"Id\": \"Log1\", \"LogEntryType\": \"Event\","
	      " \"Entries\": {\"@odata.id\": \"/redfish/v1/Systems/1/LogServices/Log1/Entries\"}}");
	ASSERT_EQ(vgl_rf_logservice_score(j, e), 2);
	cJSON_Delete(j);
	j = P("{\"Id\": \"SEL\"}");
	ASSERT_EQ(vgl_rf_logservice_score(j, e), 0);    /* no Entries */
	cJSON_Delete(j);
}

/* ---- sensors: the legacy model ---------------------------------------------- */

static const char *const thermal_json =
	"{\"@odata.id\": \"/redfish/v1/Chassis/1/Thermal\", \"@odata.type\": "
	"\"#Thermal.v1_7_0.Thermal\","
	" \"Temperatures\": ["
	"  {\"@odata.id\": \"/redfish/v1/Chassis/1/Thermal#/Temperatures/0\", \"MemberId\": \"0\","
	"   \"Name\": \"CPU Temp\", \"ReadingCelsius\": 45, \"UpperThresholdNonCritical\": 75,"
	"   \"UpperThresholdCritical\": 85, \"UpperThresholdFatal\": 95,"
	"   \"Status\": {\"State\": \"Enabled\", \"Health\": \"OK\"}},"
	"  {\"MemberId\": \"1\", \"Name\": \"Inlet Temp\", \"ReadingCelsius\": 44.5,"
	"   \"UpperThresholdNonCritical\": 40, \"UpperThresholdCritical\": 45},"
	"  {\"MemberId\": \"2\", \"Name\": \"DIMM Temp\", \"ReadingCelsius\": null,"
	"   \"Status\": {\"State\": \"Absent\", \"Health\": \"Critical\"}}],"
	" \"Fans\": ["
	"  {\"MemberId\": \"0\", \"Name\": \"Fan 1\", \"Reading\": 3000, \"ReadingUnits\": \"RPM\","
	"   \"LowerThresholdNonCritical\": 1000, \"LowerThresholdCritical\": 500,"
	"   \"Status\": {\"State\": \"Enabled\", \"Health\": \"OK\"}},"
	"  {\"MemberId\": \"1\", \"FanName\": \"Fan 2\", \"Reading\": 40, \"ReadingUnits\": "
	"\"Percent\"}]}";

static const char *const power_json =
	"{\"@odata.id\": \"/redfish/v1/Chassis/1/Power\", \"@odata.type\": \"#Power.v1_7_1.Power\","
	" \"PowerControl\": [{\"MemberId\": \"0\", \"Name\": \"System Power Control\","
	"   \"PowerConsumedWatts\": 180, \"Status\": {\"State\": \"Enabled\", \"Health\": "
	"\"OK\"}}],"
	" \"PowerSupplies\": ["
	"  {\"MemberId\": \"0\", \"Name\": \"PSU1\", \"PowerInputWatts\": 200,"
	"   \"LastPowerOutputWatts\": 180, \"Status\": {\"State\": \"Enabled\", \"Health\": "
	"\"OK\"}},"
	"  {\"MemberId\": \"1\", \"Name\": \"PSU2\", \"LastPowerOutputWatts\": 175,"
	"   \"Status\": {\"State\": \"Enabled\", \"Health\": \"Critical\"}}],"
	" \"Voltages\": [{\"MemberId\": \"0\", \"Name\": \"12V Rail\", \"ReadingVolts\": 11.2,"
	"   \"UpperThresholdNonCritical\": 12.6, \"UpperThresholdCritical\": 13.2,"
	"   \"LowerThresholdNonCritical\": 11.4, \"LowerThresholdCritical\": 10.8}]}";

TEST(redfish_parse_legacy_sensors_by_name)
{
	struct vgl_rf_readings rs = { 0 };
	struct vgl_rf_reading *r;
	cJSON *t = P(thermal_json), *p = P(power_json);
	const char *worst;

	ASSERT_EQ(vgl_rf_readings_add(&rs, t, VGL_RF_THERMAL), 5);
	ASSERT_EQ(vgl_rf_readings_add(&rs, p, VGL_RF_POWER), 4);
	ASSERT((r = vgl_rf_readings_find(&rs, "CPU Temp", VGL_RF_NEED_VALUE)));
	ASSERT_NEAR(r->value, 45);
	ASSERT_EQ(r->state, VGL_BMC_OK);
	ASSERT_STREQ(r->unit, "Cel");
	/* no Status: the thresholds say it (44.5 >= 40 non-critical) */
	ASSERT((r = vgl_rf_readings_find(&rs, "Inlet Temp", 0)));
	ASSERT_NEAR(r->value, 44.5);
	ASSERT_EQ(r->state, VGL_BMC_WARNING);
	/* absent: no value, no state, whatever its Health says */
	ASSERT((r = vgl_rf_readings_find(&rs, "DIMM Temp", 0)));
	ASSERT_EQ(r->has_value, 0);
	ASSERT_EQ(r->state, VGL_BMC_UNKNOWN);
	ASSERT((r = vgl_rf_readings_find(&rs, "Fan 1", 0)));
	ASSERT_NEAR(r->value, 3000);
	ASSERT_STREQ(r->unit, "RPM");
	ASSERT((r = vgl_rf_readings_find(&rs, "Fan 2", 0)));  /* FanName, older schemas */
	ASSERT_NEAR(r->value, 40);
	ASSERT_STREQ(r->unit, "Percent");
	ASSERT((r = vgl_rf_readings_find(&rs, "System Power Control", 0)));
	ASSERT_NEAR(r->value, 180);
	ASSERT((r = vgl_rf_readings_find(&rs, "PSU1", 0)));
	ASSERT_NEAR(r->value, 200);                  /* PowerInputWatts first */
	ASSERT((r = vgl_rf_readings_find(&rs, "PSU2", 0)));
	ASSERT_NEAR(r->value, 175);                  /* else LastPowerOutputWatts */
	ASSERT_EQ(r->state, VGL_BMC_CRITICAL);
	ASSERT((r = vgl_rf_readings_find(&rs, "12V Rail", 0)));
	ASSERT_NEAR(r->value, 11.2);
	ASSERT_EQ(r->state, VGL_BMC_WARNING);        /* 11.2 <= 11.4 */
	/* case-insensitive only after exact; unknown names */
	ASSERT((r = vgl_rf_readings_find(&rs, "cpu temp", 0)));
	ASSERT_STREQ(r->name, "CPU Temp");
	ASSERT(!vgl_rf_readings_find(&rs, "GPU Temp", 0));
	ASSERT(!vgl_rf_readings_find(&rs, NULL, 0));
	ASSERT_EQ(vgl_rf_readings_worst(&rs, &worst), VGL_BMC_CRITICAL);
	ASSERT_STREQ(worst, "PSU2");
	vgl_rf_readings_free(&rs);
	cJSON_Delete(t);
	cJSON_Delete(p);
}

/* ---- sensors: the new model ---------------------------------------------------- */

static const char *const metrics_json =
	"{\"@odata.id\": \"/redfish/v1/Chassis/1U/ThermalSubsystem/ThermalMetrics\","
	" \"@odata.type\": \"#ThermalMetrics.v1_0_0.ThermalMetrics\","
	" \"TemperatureReadingsCelsius\": ["
	"  {\"DataSourceUri\": \"/redfish/v1/Chassis/1U/Sensors/temperature_CPU_Temp\","
	"   \"DeviceName\": \"CPU Temp\", \"Reading\": 47},"
	"  {\"DataSourceUri\": \"/redfish/v1/Chassis/1U/Sensors/Inlet\", \"Reading\": 21.5},"
	"  {\"Reading\": 30}, 7]}";

static const char *const sensors_expanded_json =
	"{\"@odata.id\": \"/redfish/v1/Chassis/1U/Sensors\", \"Members@odata.count\": 3,"
	" \"Members\": ["
	"  {\"@odata.id\": \"/redfish/v1/Chassis/1U/Sensors/temperature_CPU_Temp\","
	"   \"Id\": \"temperature_CPU_Temp\", \"Name\": \"CPU Temp\", \"Reading\": 88,"
	"   \"ReadingType\": \"Temperature\", \"ReadingUnits\": \"Cel\","
	"   \"Thresholds\": {\"UpperCaution\": {\"Reading\": 75}, \"UpperCritical\": "
	"{\"Reading\": 85},"
	"   \"UpperFatal\": {\"Reading\": 95}}},"
	"  {\"@odata.id\": \"/redfish/v1/Chassis/1U/Sensors/fan_Fan_1\", \"Name\": \"Fan 1\","
	"   \"Reading\": 900, \"ReadingUnits\": \"RPM\", \"ReadingType\": \"Rotational\","
	"   \"Status\": {\"State\": \"Enabled\", \"Health\": \"Warning\"},"
	"   \"Thresholds\": {\"LowerCaution\": {\"Reading\": 1000}, \"LowerCritical\": "
	"{\"Reading\": 500}}},"
	"  {\"@odata.id\": \"/redfish/v1/Chassis/1U/Sensors/power_Power_Consumed\","
	"   \"Name\": \"Power Consumed\", \"Reading\": 181.5, \"ReadingUnits\": \"W\","
	"   \"Status\": {\"State\": \"Enabled\", \"Health\": \"OK\"}}]}";

TEST(redfish_parse_subsystem_sensors_by_name)
{
	struct vgl_rf_readings rs = { 0 };
	struct vgl_rf_reading *r;
	cJSON *m = P(metrics_json), *s = P(sensors_expanded_json);
	double w;

	ASSERT_EQ(vgl_rf_readings_add(&rs, m, VGL_RF_THERMAL_METRICS), 2);
	ASSERT((r = vgl_rf_readings_find(&rs, "CPU Temp", 0)));
	ASSERT_NEAR(r->value, 47);
	ASSERT_EQ(r->state, VGL_BMC_UNKNOWN);        /* an excerpt has no state */
	ASSERT_STREQ(r->self, "/redfish/v1/Chassis/1U/Sensors/temperature_CPU_Temp");
	ASSERT((r = vgl_rf_readings_find(&rs, "Inlet", 0)));      /* DataSourceUri's last segment */
	ASSERT_NEAR(r->value, 21.5);

	ASSERT_EQ(vgl_rf_readings_add(&rs, s, VGL_RF_SENSOR), 3);
	/* the value from the first resource, the state from the one that has it */
	ASSERT((r = vgl_rf_readings_find(&rs, "CPU Temp", VGL_RF_NEED_VALUE)));
	ASSERT_NEAR(r->value, 47);
	ASSERT((r = vgl_rf_readings_find(&rs, "CPU Temp", VGL_RF_NEED_STATE)));
	ASSERT_NEAR(r->value, 88);
	ASSERT_EQ(r->state, VGL_BMC_CRITICAL);       /* thresholds: 88 >= 85 */
	ASSERT_STREQ(r->unit, "Cel");
	ASSERT((r = vgl_rf_readings_find(&rs, "Fan 1", VGL_RF_NEED_STATE)));
	ASSERT_EQ(r->state, VGL_BMC_WARNING);        /* Status.Health wins over thresholds */
	ASSERT_STREQ(r->self, "/redfish/v1/Chassis/1U/Sensors/fan_Fan_1");
	ASSERT((r = vgl_rf_readings_find(&rs, "Power Consumed", 0)));
	ASSERT_NEAR(r->value, 181.5);
	vgl_rf_readings_free(&rs);
	cJSON_Delete(m);
	cJSON_Delete(s);

	/* a Fan and a PowerSupply of the new model, and the PSU's Metrics */
	m = P("{\"@odata.id\": \"/redfish/v1/Chassis/1U/ThermalSubsystem/Fans/Fan1\", \"Id\": "
	      "\"Fan1\","
	      " \"Name\": \"Fan 1\", \"Status\": {\"State\": \"Enabled\", \"Health\": \"OK\"},"
	      " \"SpeedPercent\": {\"DataSourceUri\": \"/redfish/v1/Chassis/1U/Sensors/fan_Fan_1\","
	      " \"Reading\": 25, \"SpeedRPM\": 3000}}");
	ASSERT_EQ(vgl_rf_readings_add(&rs, m, VGL_RF_FAN), 1);
	ASSERT_NEAR(rs.r[0].value, 3000);
	ASSERT_STREQ(rs.r[0].unit, "RPM");
	cJSON_Delete(m);
	m = P("{\"Name\": \"Fan 2\", \"SpeedPercent\": {\"Reading\": 31}}");
	ASSERT_EQ(vgl_rf_readings_add(&rs, m, VGL_RF_FAN), 1);
	ASSERT_NEAR(rs.r[1].value, 31);
	ASSERT_STREQ(rs.r[1].unit, "%");
	cJSON_Delete(m);
	m = P("{\"@odata.id\": \"/redfish/v1/Chassis/1U/PowerSubsystem/PowerSupplies/PSU1\","
	      " \"Id\": \"PSU1\", \"Name\": \"PSU1\", \"Status\": {\"State\": \"Enabled\", "
	      "\"Health\": \"OK\"},"
	      " \"Metrics\": {\"@odata.id\": "
	      "\"/redfish/v1/Chassis/1U/PowerSubsystem/PowerSupplies/PSU1/Metrics\"}}");
	ASSERT_EQ(vgl_rf_readings_add(&rs, m, VGL_RF_PSU), 1);
	ASSERT_EQ(rs.r[2].has_value, 0);
	ASSERT_EQ(rs.r[2].state, VGL_BMC_OK);
	ASSERT_STREQ(rs.r[2].metrics,
		     "/redfish/v1/Chassis/1U/PowerSubsystem/PowerSupplies/PSU1/Metrics");
	cJSON_Delete(m);
	m = P("{\"Id\": \"Metrics\", \"InputPowerWatts\": {\"Reading\": 203}, "
	      "\"OutputPowerWatts\": {\"Reading\": 180}}");
	ASSERT(vgl_rf_psu_metrics_watts(m, &w));
	ASSERT_NEAR(w, 203);
	cJSON_Delete(m);
	m = P("{\"InputPowerWatts\": 203}");
	ASSERT(!vgl_rf_psu_metrics_watts(m, &w));
	cJSON_Delete(m);
	vgl_rf_readings_free(&rs);
}

TEST(redfish_parse_threshold_state)
{
	cJSON *legacy = P("{\"UpperThresholdNonCritical\": 75, \"UpperThresholdCritical\": 85,"
			  " \"UpperThresholdFatal\": 95, \"LowerThresholdNonCritical\": 10,"
			  " \"LowerThresholdCritical\": 5, \"LowerThresholdFatal\": null}");
	cJSON *nm = P("{\"Thresholds\": {\"UpperCaution\": {\"Reading\": 12.6},"
		      " \"UpperCritical\": {\"Reading\": 13.2}, \"LowerCaution\": {\"Reading\": "
		      "11.4},"
		      " \"LowerCritical\": {\"Reading\": 10.8}, \"LowerFatal\": {\"Reading\": "
		      "null}}}");
	cJSON *fatal_only = P("{\"UpperThresholdFatal\": 100}");
	cJSON *none = P("{\"Thresholds\": {}, \"UpperThresholdCritical\": \"85\"}");

	ASSERT_EQ(vgl_rf_threshold_state(legacy, 50), VGL_BMC_OK);
	ASSERT_EQ(vgl_rf_threshold_state(legacy, 74.9), VGL_BMC_OK);
	ASSERT_EQ(vgl_rf_threshold_state(legacy, 75), VGL_BMC_WARNING);    /* at: crossed */
	ASSERT_EQ(vgl_rf_threshold_state(legacy, 85), VGL_BMC_CRITICAL);
	ASSERT_EQ(vgl_rf_threshold_state(legacy, 120), VGL_BMC_CRITICAL);
	ASSERT_EQ(vgl_rf_threshold_state(legacy, 10), VGL_BMC_WARNING);
	ASSERT_EQ(vgl_rf_threshold_state(legacy, 4), VGL_BMC_CRITICAL);
	ASSERT_EQ(vgl_rf_threshold_state(nm, 12.0), VGL_BMC_OK);
	ASSERT_EQ(vgl_rf_threshold_state(nm, 12.7), VGL_BMC_WARNING);
	ASSERT_EQ(vgl_rf_threshold_state(nm, 13.2), VGL_BMC_CRITICAL);
	ASSERT_EQ(vgl_rf_threshold_state(nm, 11.0), VGL_BMC_WARNING);
	ASSERT_EQ(vgl_rf_threshold_state(nm, 10.8), VGL_BMC_CRITICAL);
	ASSERT_EQ(vgl_rf_threshold_state(fatal_only, 99), VGL_BMC_OK);
	ASSERT_EQ(vgl_rf_threshold_state(fatal_only, 100), VGL_BMC_CRITICAL);
	ASSERT_EQ(vgl_rf_threshold_state(none, 1000), VGL_BMC_UNKNOWN);
	cJSON_Delete(legacy);
	cJSON_Delete(nm);
	cJSON_Delete(fatal_only);
	cJSON_Delete(none);
}

TEST(redfish_parse_sensors_wrong_types)
{
	struct vgl_rf_readings rs = { 0 };
	const char *worst = "x";
	cJSON *j = P("{\"Temperatures\": {\"Name\": \"CPU Temp\"}, \"Fans\": [1, \"x\", null,"
		     " {\"Name\": 5, \"Reading\": 1}, {\"Name\": \"\", \"Reading\": 1},"
		     " {\"Name\": \"Fan 9\", \"Reading\": \"3000\", \"Status\": \"OK\"}]}");

	ASSERT_EQ(vgl_rf_readings_add(&rs, j, VGL_RF_THERMAL), 1);
	ASSERT_STREQ(rs.r[0].name, "Fan 9");
	ASSERT_EQ(rs.r[0].has_value, 0);
	ASSERT_EQ(rs.r[0].state, VGL_BMC_UNKNOWN);
	ASSERT_EQ(vgl_rf_readings_worst(&rs, &worst), VGL_BMC_UNKNOWN);
	ASSERT(worst == NULL);
	cJSON_Delete(j);
	j = P("{\"TemperatureReadingsCelsius\": \"none\", \"Members\": 3}");
	ASSERT_EQ(vgl_rf_readings_add(&rs, j, VGL_RF_THERMAL_METRICS), 0);
	ASSERT_EQ(vgl_rf_readings_add(&rs, j, VGL_RF_SENSOR), 0);     /* no Name */
	ASSERT_EQ(vgl_rf_readings_add(&rs, NULL, VGL_RF_POWER), 0);
	cJSON_Delete(j);
	/* a very long name is cut, not overrun */
	{
		char buf[600];
		snprintf(buf, sizeof(buf), "{\"Name\": \"%0300d\", \"Reading\": 1}", 7);
		j = P(buf);
		ASSERT_EQ(vgl_rf_readings_add(&rs, j, VGL_RF_SENSOR), 1);
		ASSERT_EQ(strlen(rs.r[1].name), VGL_RF_NAME - 1);
		cJSON_Delete(j);
	}
	vgl_rf_readings_free(&rs);
}

TEST(redfish_parse_chassis_and_subsystems)
{
	struct vgl_rf_chassis c;
	char a[VGL_RF_PATH], b[VGL_RF_PATH];
	cJSON *j = P("{\"@odata.id\": \"/redfish/v1/Chassis/1U\", \"Id\": \"1U\","
		     " \"ThermalSubsystem\": {\"@odata.id\": "
		     "\"/redfish/v1/Chassis/1U/ThermalSubsystem\"},"
		     " \"PowerSubsystem\": {\"@odata.id\": "
		     "\"/redfish/v1/Chassis/1U/PowerSubsystem\"},"
		     " \"Sensors\": {\"@odata.id\": \"/redfish/v1/Chassis/1U/Sensors\"}}");

	vgl_rf_chassis_parse(j, &c);
	ASSERT_STREQ(c.thermal, "");
	ASSERT_STREQ(c.power, "");
	ASSERT_STREQ(c.thermal_sub, "/redfish/v1/Chassis/1U/ThermalSubsystem");
	ASSERT_STREQ(c.power_sub, "/redfish/v1/Chassis/1U/PowerSubsystem");
	ASSERT_STREQ(c.sensors, "/redfish/v1/Chassis/1U/Sensors");
	cJSON_Delete(j);
	j = P("{\"ThermalMetrics\": {\"@odata.id\": "
	      "\"/redfish/v1/Chassis/1U/ThermalSubsystem/ThermalMetrics\"},"
	      " \"Fans\": {\"@odata.id\": \"/redfish/v1/Chassis/1U/ThermalSubsystem/Fans\"}}");
	vgl_rf_thermal_sub_parse(j, a, b);
	ASSERT_STREQ(a, "/redfish/v1/Chassis/1U/ThermalSubsystem/ThermalMetrics");
	ASSERT_STREQ(b, "/redfish/v1/Chassis/1U/ThermalSubsystem/Fans");
	cJSON_Delete(j);
	j = P("{\"PowerSupplies\": {\"@odata.id\": "
	      "\"/redfish/v1/Chassis/1U/PowerSubsystem/PowerSupplies\"}}");
	vgl_rf_power_sub_parse(j, a);
	ASSERT_STREQ(a, "/redfish/v1/Chassis/1U/PowerSubsystem/PowerSupplies");
	cJSON_Delete(j);
	j = P("{\"Thermal\": {\"@odata.id\": \"/redfish/v1/Chassis/1/Thermal\"},"
	      " \"Power\": {\"@odata.id\": \"/redfish/v1/Chassis/1/Power\"}}");
	vgl_rf_chassis_parse(j, &c);
	ASSERT_STREQ(c.thermal, "/redfish/v1/Chassis/1/Thermal");
	ASSERT_STREQ(c.power, "/redfish/v1/Chassis/1/Power");
	ASSERT_STREQ(c.sensors, "");
	cJSON_Delete(j);
}

TEST(redfish_parse_error_body_message)
{
	char m[160];
	cJSON *j = P("{\"error\": {\"code\": \"Base.1.8.GeneralError\", \"message\": \"general\","
		     " \"@Message.ExtendedInfo\": [{\"MessageId\": "
		     "\"Base.1.8.SessionLimitExceeded\","
		     " \"Message\": \"The session establishment failed due to the number of"
		     " simultaneous sessions exceeding the limit of the implementation.\"}]}}");

	vgl_rf_error_message(j, m, sizeof(m));
	ASSERT_CONTAINS(m, "number of simultaneous sessions");
	cJSON_Delete(j);
	j = P("{\"error\": {\"message\": \"general\"}}");
	vgl_rf_error_message(j, m, sizeof(m));
	ASSERT_STREQ(m, "general");
	cJSON_Delete(j);
	j = P("{\"error\": 5}");
	vgl_rf_error_message(j, m, sizeof(m));
	ASSERT_STREQ(m, "");
	cJSON_Delete(j);
}
