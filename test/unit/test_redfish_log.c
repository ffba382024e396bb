/* The Redfish event log (collectors/redfish_log.h): the cursor, entry Ids
 * and times, the classification table row by row, an entry's text, and
 * the log read after a cursor: cleared, paged and capped, and what a
 * broken or hostile BMC may send in it. */
#include <cjson/cJSON.h>

#include "collectors/redfish_log.h"
#include "core/utf8.h"
#include "test/test.h"
#include "test/unit/redfish_util.h"

/* ---- the event log ------------------------------------------------------------- */

TEST(redfish_parse_cursor_text)
{
	struct vgl_rf_cursor c = { 0 };
	char buf[64];

	ASSERT_EQ(vgl_rf_cursor_parse("rf1:120:37", &c), 0);
	ASSERT_EQ(c.valid, 1);
	ASSERT_EQ(c.last_id, 120);
	ASSERT_EQ(c.count, 37);
	vgl_rf_cursor_format(&c, buf, sizeof(buf));
	ASSERT_STREQ(buf, "rf1:120:37");
	ASSERT_EQ(vgl_rf_cursor_parse("rf1:0:0", &c), 0);
	ASSERT_EQ(c.last_id, 0);
	c.last_id = 99;
	ASSERT_EQ(vgl_rf_cursor_parse("rf1:", &c), -1);
	ASSERT_EQ(vgl_rf_cursor_parse("rf1:5", &c), -1);
	ASSERT_EQ(vgl_rf_cursor_parse("rf1:5:", &c), -1);
	ASSERT_EQ(vgl_rf_cursor_parse("rf1:5:6x", &c), -1);
	ASSERT_EQ(vgl_rf_cursor_parse("rf1:-5:6", &c), -1);
	ASSERT_EQ(vgl_rf_cursor_parse("rf2:5:6", &c), -1);
	ASSERT_EQ(vgl_rf_cursor_parse("ipmi:5:6", &c), -1);
	ASSERT_EQ(vgl_rf_cursor_parse("rf1:99999999999999999999:1", &c), -1);
	ASSERT_EQ(vgl_rf_cursor_parse(NULL, &c), -1);
	ASSERT_EQ(c.last_id, 99);       /* untouched by a bad one */
}

TEST(redfish_parse_entry_ids_and_times)
{
	ASSERT_EQ(vgl_rf_entry_id("17"), 17);
	ASSERT_EQ(vgl_rf_entry_id("Sel-7"), 7);
	ASSERT_EQ(vgl_rf_entry_id("1609459200_1"), 1609459200000001ull);
	ASSERT_EQ(vgl_rf_entry_id("1609459200_2"), 1609459200000002ull);
	ASSERT(vgl_rf_entry_id("1609459200_2") > vgl_rf_entry_id("1609459200_1"));
	ASSERT(vgl_rf_entry_id("1609459201") < vgl_rf_entry_id("1609459200_1"));  /* as it is */
	ASSERT_EQ(vgl_rf_entry_id("abc"), 0);
	ASSERT_EQ(vgl_rf_entry_id(""), 0);
	ASSERT_EQ(vgl_rf_entry_id(NULL), 0);
	ASSERT_EQ(vgl_rf_entry_id("99999999999999999999"), 0);
	ASSERT_EQ(vgl_rf_entry_id("18446744073709_1"), 18446744073709000001ull);
	ASSERT_EQ(vgl_rf_entry_id("18446744073710_1"), 0);      /* overflows when appended */

	/* 2024-01-15T10:20:30Z = 1705314030 */
	ASSERT_EQ(vgl_rf_iso8601_ms("2024-01-15T10:20:30Z"), 1705314030000ll);
	ASSERT_EQ(vgl_rf_iso8601_ms("2024-01-15T11:20:30+01:00"), 1705314030000ll);
	ASSERT_EQ(vgl_rf_iso8601_ms("2024-01-15T05:20:30-0500"), 1705314030000ll);
	ASSERT_EQ(vgl_rf_iso8601_ms("2024-01-15T10:20:30.250+00:00"), 1705314030250ll);
	ASSERT_EQ(vgl_rf_iso8601_ms("2024-02-29T00:00:00Z"), 1709164800000ll);
	ASSERT_EQ(vgl_rf_iso8601_ms("2024-01-15T10:20:30"), 1705314030000ll);   /* no offset: UTC */
	ASSERT_EQ(vgl_rf_iso8601_ms("1970-01-01T00:00:05+00:00"), 0);   /* BMC clock unset */
	ASSERT_EQ(vgl_rf_iso8601_ms("2024-13-15T10:20:30Z"), 0);
	ASSERT_EQ(vgl_rf_iso8601_ms("2024-01-15 garbage"), 0);
	ASSERT_EQ(vgl_rf_iso8601_ms("2024-01-15T10:20:30+01:00 trailing"), 0);
	ASSERT_EQ(vgl_rf_iso8601_ms(NULL), 0);
}

/* The classification table of redfish_log.h, row by row. */
TEST(redfish_parse_classification_table)
{
	/* row 1: an OS crash, whatever the severity */
	ASSERT_EQ(vgl_rf_classify("OK", "OS Stop / Shutdown", "IPMI.1.0.OSStop",
				  "Run-time critical stop, asserted", "Assert"), VGL_BMC_EV_FAULT);
	ASSERT_EQ(vgl_rf_classify("Critical", "OS Stop / Shutdown", NULL, "OS crash", NULL),
		  VGL_BMC_EV_FAULT);
	/* row 2: Critical hardware, by SensorType */
	ASSERT_EQ(vgl_rf_classify("Critical", "Temperature", "Event.1.0.TempCritical",
				  "CPU Temp: Upper Critical going high, reading 91", "Assert"),
		  VGL_BMC_EV_FAULT);
	ASSERT_EQ(vgl_rf_classify("Critical", "Processor", NULL, "CPU1 IERR", NULL),
		  VGL_BMC_EV_FAULT);
	ASSERT_EQ(vgl_rf_classify("Critical", "Memory", NULL, "Uncorrectable ECC", NULL),
		  VGL_BMC_EV_FAULT);
	ASSERT_EQ(vgl_rf_classify("Critical", "Power Supply / Converter", NULL, "PSU1 failure",
				  NULL), VGL_BMC_EV_FAULT);
	ASSERT_EQ(vgl_rf_classify("Critical", "Fan", NULL, "Fan 1 lower critical", NULL),
		  VGL_BMC_EV_FAULT);
	ASSERT_EQ(vgl_rf_classify("Critical", "Voltage", NULL, "12V low", NULL), VGL_BMC_EV_FAULT);
	/* row 2: by MessageId */
	ASSERT_EQ(vgl_rf_classify("Critical", NULL, "OpenBMC.0.1.CPUThermalTrip",
				  "CPU 1 thermal trip", NULL), VGL_BMC_EV_FAULT);
	ASSERT_EQ(vgl_rf_classify("Critical", "", "Memory.1.0.MemoryECCUncorrectable", NULL, NULL),
		  VGL_BMC_EV_FAULT);
	ASSERT_EQ(vgl_rf_classify("Critical", NULL, "OpenBMC.0.1.PowerSupplyFailed", NULL, NULL),
		  VGL_BMC_EV_FAULT);
	/* a Warning about hardware is not a fault */
	ASSERT_EQ(vgl_rf_classify("Warning", "Temperature", "Event.1.0.TempWarning", "warm", NULL),
		  VGL_BMC_EV_INFO);
	/* row 3: commands */
	ASSERT_EQ(vgl_rf_classify("OK", "Power Unit", "Event.1.0.PowerOff",
				  "Power command ResetType=ForceOff: system powered off", NULL),
		  VGL_BMC_EV_COMMAND);
	ASSERT_EQ(vgl_rf_classify("OK", NULL, "OpenBMC.0.1.PowerButtonPressed", NULL, NULL),
		  VGL_BMC_EV_COMMAND);
	ASSERT_EQ(vgl_rf_classify("OK", NULL, "Base.1.0.ComputerSystem.Reset", NULL, NULL),
		  VGL_BMC_EV_COMMAND);
	ASSERT_EQ(vgl_rf_classify("OK", NULL, "Event.1.0.PowerCycle", NULL, NULL),
		  VGL_BMC_EV_COMMAND);
	ASSERT_EQ(vgl_rf_classify("OK", NULL, "Event.1.0.PowerOn", NULL, NULL), VGL_BMC_EV_COMMAND);
	/* a critical power unit event is a fault first */
	ASSERT_EQ(vgl_rf_classify("Critical", "Power Unit", "Event.1.0.PowerOff", "AC lost", NULL),
		  VGL_BMC_EV_FAULT);
	/* row 4: orderly */
	ASSERT_EQ(vgl_rf_classify("OK", "OS Stop / Shutdown", "OpenBMC.0.1.OSGracefulShutdown",
				  "OS graceful shutdown (ResetType=GracefulShutdown): soft-off S5",
				  "Assert"), VGL_BMC_EV_ORDERLY);
	ASSERT_EQ(vgl_rf_classify("OK", "System Event", NULL, "Host requested graceful shutdown",
				  NULL), VGL_BMC_EV_ORDERLY);
	ASSERT_EQ(vgl_rf_classify("OK", "System ACPI Power State", NULL,
				  "System ACPI Power State: S5/G2 soft-off, asserted", NULL),
		  VGL_BMC_EV_ORDERLY);
	ASSERT_EQ(vgl_rf_classify("OK", "System ACPI Power State", NULL,
				  "System ACPI Power State: S5 entered", NULL), VGL_BMC_EV_ORDERLY);
	/* row 5: the rest */
	ASSERT_EQ(vgl_rf_classify("OK", "System ACPI Power State", NULL,
				  "System ACPI Power State: S0/G0 working, asserted", NULL),
		  VGL_BMC_EV_INFO);
	ASSERT_EQ(vgl_rf_classify("Critical", "Physical Chassis Security", NULL,
				  "Chassis intrusion", NULL), VGL_BMC_EV_INFO);
	ASSERT_EQ(vgl_rf_classify("OK", "Event Logging Disabled", NULL, "Log area reset/cleared",
				  NULL), VGL_BMC_EV_INFO);
	ASSERT_EQ(vgl_rf_classify(NULL, NULL, NULL, NULL, NULL), VGL_BMC_EV_INFO);
	/* "Temp" must be CamelCase in a MessageId: "LoginAttempt..." is no temperature */
	ASSERT_EQ(vgl_rf_classify("Critical", NULL, "Security.1.0.LoginattemptFailed", NULL, NULL),
		  VGL_BMC_EV_INFO);
}

TEST(redfish_parse_entry_text)
{
	struct vgl_rf_entry e;
	cJSON *j = P("{\"@odata.id\": \"/redfish/v1/Systems/1/LogServices/SEL/Entries/12\","
		     " \"Id\": \"12\", \"Created\": \"2024-01-15T11:20:30+01:00\","
		     " \"EntryType\": \"SEL\", \"Severity\": \"Critical\", \"SensorType\": "
		     "\"Temperature\","
		     " \"Message\": \"CPU Temp: Upper Critical going high,\\nreading 91\","
		     " \"MessageId\": \"Event.1.0.TempCritical\", \"EntryCode\": \"Assert\"}");
	char buf[1200];

	ASSERT_EQ(vgl_rf_entry_parse(j, &e), 0);
	ASSERT_EQ(e.id, 12);
	ASSERT_EQ(e.ts_ms, 1705314030000ll);
	ASSERT_EQ(e.cls, VGL_BMC_EV_FAULT);
	ASSERT_EQ(e.link_only, 0);
	ASSERT_STREQ(e.text,
		     "CPU Temp: Upper Critical going high, reading 91 (Critical, Temperature)");
	cJSON_Delete(j);
	/* no SensorType, no Message: the MessageId */
	j = P("{\"Id\": \"3\", \"Severity\": \"OK\", \"MessageId\": \"OpenBMC.0.1.DCPowerOn\"}");
	ASSERT_EQ(vgl_rf_entry_parse(j, &e), 0);
	ASSERT_STREQ(e.text, "OpenBMC.0.1.DCPowerOn (OK)");
	ASSERT_EQ(e.ts_ms, 0);
	cJSON_Delete(j);
	/* control characters and bad UTF-8 replaced; a long message cut whole */
	j = P("{\"Id\": \"4\", \"Message\": \"a\\u0001b\\u00e9\"}");
	ASSERT_EQ(vgl_rf_entry_parse(j, &e), 0);
	ASSERT_STREQ(e.text, "a?b\xc3\xa9 (?)");
	cJSON_Delete(j);
	{
		char *p = buf + snprintf(buf, sizeof(buf), "{\"Id\": \"5\", \"Message\": \"");
		for (int i = 0; i < 300; i++) {
			memcpy(p, "\xc3\xa9", 2);     /* é: 2 bytes */
			p += 2;
		}
		snprintf(p, sizeof(buf) - (size_t)(p - buf), "\", \"Severity\": \"OK\"}");
		j = vgl_rf_parse(buf, strlen(buf), NULL, 0);
		ASSERT(j);
		ASSERT_EQ(vgl_rf_entry_parse(j, &e), 0);
		ASSERT(strlen(e.text) < VGL_RF_TEXT);
		ASSERT(strlen(e.text) >= VGL_RF_TEXT - 4);
		/* no half character */
		ASSERT_EQ(vgl_utf8_check(e.text, strlen(e.text)), strlen(e.text));
		cJSON_Delete(j);
	}
	/* a link only: its Id from the path */
	j = P("{\"@odata.id\": \"/redfish/v1/Systems/1/LogServices/SEL/Entries/77\"}");
	ASSERT_EQ(vgl_rf_entry_parse(j, &e), 0);
	ASSERT_EQ(e.link_only, 1);
	ASSERT_EQ(e.id, 77);
	ASSERT_STREQ(e.path, "/redfish/v1/Systems/1/LogServices/SEL/Entries/77");
	cJSON_Delete(j);
	/* nothing to go by */
	j = P("{\"Message\": \"no id\"}");
	ASSERT_EQ(vgl_rf_entry_parse(j, &e), -1);
	cJSON_Delete(j);
	ASSERT_EQ(vgl_rf_entry_parse(NULL, &e), -1);
	/* a numeric Id (against the schema, seen in the wild) */
	j = P("{\"Id\": 41, \"Message\": \"m\"}");
	ASSERT_EQ(vgl_rf_entry_parse(j, &e), 0);
	ASSERT_EQ(e.id, 41);
	cJSON_Delete(j);
}

static const char *const ENTRIES = "/redfish/v1/Systems/1/LogServices/SEL/Entries";

/* An Entries page with members of these Ids, in this order. */
static cJSON *page(const int *ids, size_t n, long count, const char *next)
{
	cJSON *p = cJSON_CreateObject(), *m = cJSON_AddArrayToObject(p, "Members");
	char buf[160];

	cJSON_AddStringToObject(p, "@odata.id", ENTRIES);
	if (count >= 0)
		cJSON_AddNumberToObject(p, "Members@odata.count", (double)count);
	if (next)
		cJSON_AddStringToObject(p, "Members@odata.nextLink", next);
	for (size_t i = 0; i < n; i++) {
		cJSON *e = cJSON_CreateObject();
		snprintf(buf, sizeof(buf), "%s/%d", ENTRIES, ids[i]);
		cJSON_AddStringToObject(e, "@odata.id", buf);
		snprintf(buf, sizeof(buf), "%d", ids[i]);
		cJSON_AddStringToObject(e, "Id", buf);
		cJSON_AddStringToObject(e, "Severity", "OK");
		cJSON_AddStringToObject(e, "SensorType", "System Event");
		snprintf(buf, sizeof(buf), "entry %d", ids[i]);
		cJSON_AddStringToObject(e, "Message", buf);
		cJSON_AddStringToObject(e, "Created", "2024-01-15T10:20:30Z");
		cJSON_AddItemToArray(m, e);
	}
	return p;
}

/* A whole one-page read of ids with cursor from. */
static void scan_one(struct vgl_rf_logscan *s, const struct vgl_rf_cursor *from, const int *ids,
		     size_t n, long count, struct vgl_rf_logresult *out)
{
	char next[VGL_RF_PATH], err[128];
	cJSON *p = page(ids, n, count, NULL);

	vgl_rf_logscan_init(s, from, 0);
	ASSERT_EQ(vgl_rf_logscan_page(s, p, ENTRIES, 0, next, err, sizeof(err)), 0);
	ASSERT_STREQ(next, "");
	ASSERT_EQ(s->restart, 0);
	vgl_rf_logscan_finish(s, out);
	cJSON_Delete(p);
}

TEST(redfish_parse_log_first_poll_reads_none)
{
	static struct vgl_rf_logscan s;
	struct vgl_rf_logresult r;
	const int ids[] = { 1, 2, 3, 4, 5 };
	char buf[64];

	scan_one(&s, NULL, ids, 5, 5, &r);
	ASSERT_EQ(r.n, 0);
	ASSERT_EQ(r.cleared, 0);
	ASSERT_EQ(r.changed, 1);
	vgl_rf_cursor_format(&r.cursor, buf, sizeof(buf));
	ASSERT_STREQ(buf, "rf1:5:5");
	/* an empty log: a cursor all the same */
	scan_one(&s, NULL, NULL, 0, 0, &r);
	vgl_rf_cursor_format(&r.cursor, buf, sizeof(buf));
	ASSERT_STREQ(buf, "rf1:0:0");
	ASSERT_EQ(r.changed, 1);
}

TEST(redfish_parse_log_entries_after_cursor)
{
	static struct vgl_rf_logscan s;
	struct vgl_rf_logresult r;
	struct vgl_rf_cursor c = { 1, 5, 5 };
	const int asc[] = { 1, 2, 3, 4, 5, 6, 7 };
	const int desc[] = { 7, 6, 5, 4, 3, 2, 1 };
	char buf[64];

	scan_one(&s, &c, asc, 7, 7, &r);
	ASSERT_EQ(r.cleared, 0);
	ASSERT_EQ(r.n, 2);
	ASSERT_EQ(r.e[0].id, 6);
	ASSERT_EQ(r.e[1].id, 7);
	ASSERT_STREQ(r.e[0].text, "entry 6 (OK, System Event)");
	ASSERT_EQ(r.changed, 1);
	vgl_rf_cursor_format(&r.cursor, buf, sizeof(buf));
	ASSERT_STREQ(buf, "rf1:7:7");
	/* newest first (some BMCs): the same, oldest first */
	scan_one(&s, &c, desc, 7, 7, &r);
	ASSERT_EQ(r.n, 2);
	ASSERT_EQ(r.e[0].id, 6);
	ASSERT_EQ(r.e[1].id, 7);
	/* nothing new: unchanged */
	scan_one(&s, &c, asc, 5, 5, &r);
	ASSERT_EQ(r.n, 0);
	ASSERT_EQ(r.changed, 0);
	/* an empty log seen empty again */
	c = (struct vgl_rf_cursor){ 1, 0, 0 };
	scan_one(&s, &c, NULL, 0, 0, &r);
	ASSERT_EQ(r.n, 0);
	ASSERT_EQ(r.cleared, 0);
	ASSERT_EQ(r.changed, 0);
	/* ... and its first entries */
	scan_one(&s, &c, asc, 2, 2, &r);
	ASSERT_EQ(r.n, 2);
	vgl_rf_cursor_format(&r.cursor, buf, sizeof(buf));
	ASSERT_STREQ(buf, "rf1:2:2");
}

TEST(redfish_parse_log_cleared_detection)
{
	static struct vgl_rf_logscan s;
	struct vgl_rf_logresult r;
	struct vgl_rf_cursor c = { 1, 40, 40 };
	const int restarted[] = { 1, 2, 3 };
	const int marker[] = { 1 };
	const int dropped_old[] = { 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41 };
	char buf[64];

	/* cleared, Ids restart: count below the cursor's and Id 40 gone */
	scan_one(&s, &c, restarted, 3, 3, &r);
	ASSERT_EQ(r.cleared, 1);
	ASSERT_EQ(r.n, 3);                      /* every current entry */
	ASSERT_EQ(r.e[0].id, 1);
	vgl_rf_cursor_format(&r.cursor, buf, sizeof(buf));
	ASSERT_STREQ(buf, "rf1:3:3");
	/* cleared to a marker entry */
	scan_one(&s, &c, marker, 1, 1, &r);
	ASSERT_EQ(r.cleared, 1);
	ASSERT_EQ(r.n, 1);
	/* cleared to nothing */
	scan_one(&s, &c, NULL, 0, 0, &r);
	ASSERT_EQ(r.cleared, 1);
	ASSERT_EQ(r.n, 0);
	vgl_rf_cursor_format(&r.cursor, buf, sizeof(buf));
	ASSERT_STREQ(buf, "rf1:0:0");
	ASSERT_EQ(r.changed, 1);
	/* the last Id gone though the count grew: cleared and refilled */
	{
		int many[45];
		for (int i = 0; i < 45; i++)
			many[i] = 100 + i;
		scan_one(&s, &c, many, 45, 45, &r);
		ASSERT_EQ(r.cleared, 1);
		ASSERT_EQ(r.n, 45);
	}
	/* old entries dropped (wrapped), Id 40 still there: flagged, but no
	 * entry reported twice */
	scan_one(&s, &c, dropped_old, 12, 12, &r);
	ASSERT_EQ(r.cleared, 1);
	ASSERT_EQ(r.n, 1);
	ASSERT_EQ(r.e[0].id, 41);
	vgl_rf_cursor_format(&r.cursor, buf, sizeof(buf));
	ASSERT_STREQ(buf, "rf1:41:12");
	/* a log without Members@odata.count: only the Id tells */
	{
		const int same[] = { 39, 40, 41 };
		scan_one(&s, &c, same, 3, -1, &r);
		ASSERT_EQ(r.cleared, 0);
		ASSERT_EQ(r.n, 1);
	}
}

TEST(redfish_parse_log_paging_links)
{
	static struct vgl_rf_logscan s;
	struct vgl_rf_logresult r;
	struct vgl_rf_cursor c = { 1, 3, 3 };
	const int p1[] = { 1, 2, 3 }, p2[] = { 4, 5, 6 }, p3[] = { 7 };
	char next[VGL_RF_PATH], err[128];
	cJSON *j;

	/* nextLink */
	vgl_rf_logscan_init(&s, &c, 0);
	j = page(p1, 3, 7, "/redfish/v1/Systems/1/LogServices/SEL/Entries?$skip=3");
	ASSERT_EQ(vgl_rf_logscan_page(&s, j, ENTRIES, 0, next, err, sizeof(err)), 0);
	ASSERT_STREQ(next, "/redfish/v1/Systems/1/LogServices/SEL/Entries?$skip=3");
	cJSON_Delete(j);
	j = page(p2, 3, 7, "https://10.1.1.1/redfish/v1/Systems/1/LogServices/SEL/Entries?$skip=6");
	ASSERT_EQ(vgl_rf_logscan_page(&s, j, ENTRIES, 0, next, err, sizeof(err)), 0);
	ASSERT_STREQ(next, "/redfish/v1/Systems/1/LogServices/SEL/Entries?$skip=6");
	cJSON_Delete(j);
	j = page(p3, 1, -1, NULL);              /* count on the first page only */
	ASSERT_EQ(vgl_rf_logscan_page(&s, j, ENTRIES, 0, next, err, sizeof(err)), 0);
	ASSERT_STREQ(next, "");
	cJSON_Delete(j);
	vgl_rf_logscan_finish(&s, &r);
	ASSERT_EQ(r.cleared, 0);
	ASSERT_EQ(r.n, 4);
	ASSERT_EQ(r.e[3].id, 7);
	ASSERT_EQ(r.cursor.count, 7);

	/* no nextLink, but $skip allowed and the count says more */
	vgl_rf_logscan_init(&s, &c, 0);
	j = page(p1, 3, 7, NULL);
	ASSERT_EQ(vgl_rf_logscan_page(&s, j, ENTRIES, 1, next, err, sizeof(err)), 0);
	ASSERT_STREQ(next, "/redfish/v1/Systems/1/LogServices/SEL/Entries?$skip=3");
	cJSON_Delete(j);
	/* without $skip: what there is */
	vgl_rf_logscan_init(&s, &c, 0);
	j = page(p1, 3, 7, NULL);
	ASSERT_EQ(vgl_rf_logscan_page(&s, j, ENTRIES, 0, next, err, sizeof(err)), 0);
	ASSERT_STREQ(next, "");
	cJSON_Delete(j);

	/* an entry seen twice (the log moved between pages) counts once */
	vgl_rf_logscan_init(&s, &c, 0);
	j = page(p1, 3, 5, "/next");
	ASSERT_EQ(vgl_rf_logscan_page(&s, j, ENTRIES, 0, next, err, sizeof(err)), 0);
	cJSON_Delete(j);
	{
		const int again[] = { 3, 4, 5 };
		j = page(again, 3, 5, NULL);
		ASSERT_EQ(vgl_rf_logscan_page(&s, j, ENTRIES, 0, next, err, sizeof(err)), 0);
		cJSON_Delete(j);
	}
	vgl_rf_logscan_finish(&s, &r);
	ASSERT_EQ(r.n, 2);
	ASSERT_EQ(r.cursor.count, 5);

	/* a page that is no collection */
	vgl_rf_logscan_init(&s, &c, 0);
	j = P("{\"Members\": {\"Id\": \"1\"}}");
	ASSERT_EQ(vgl_rf_logscan_page(&s, j, ENTRIES, 0, next, err, sizeof(err)), -1);
	ASSERT_STREQ(err, "no Members array");
	cJSON_Delete(j);
}

TEST(redfish_parse_log_skip_fast_path)
{
	static struct vgl_rf_logscan s;
	struct vgl_rf_logresult r;
	struct vgl_rf_cursor c = { 1, 5, 5 };
	const int tail[] = { 5, 6, 7 }, moved[] = { 6, 7, 8 };
	char next[VGL_RF_PATH], err[128];
	cJSON *j;

	/* read with $skip=4: the first member is the cursor's entry */
	vgl_rf_logscan_init(&s, &c, 4);
	j = page(tail, 3, 7, NULL);
	ASSERT_EQ(vgl_rf_logscan_page(&s, j, ENTRIES, 1, next, err, sizeof(err)), 0);
	ASSERT_EQ(s.restart, 0);
	cJSON_Delete(j);
	vgl_rf_logscan_finish(&s, &r);
	ASSERT_EQ(r.cleared, 0);
	ASSERT_EQ(r.n, 2);
	ASSERT_EQ(r.cursor.last_id, 7);
	ASSERT_EQ(r.cursor.count, 7);
	/* it is not: read from the start */
	vgl_rf_logscan_init(&s, &c, 4);
	j = page(moved, 3, 8, NULL);
	ASSERT_EQ(vgl_rf_logscan_page(&s, j, ENTRIES, 1, next, err, sizeof(err)), 0);
	ASSERT_EQ(s.restart, 1);
	cJSON_Delete(j);
	/* the log shrank below the skip: an empty page, read again */
	vgl_rf_logscan_init(&s, &c, 4);
	j = page(NULL, 0, 2, NULL);
	ASSERT_EQ(vgl_rf_logscan_page(&s, j, ENTRIES, 1, next, err, sizeof(err)), 0);
	ASSERT_EQ(s.restart, 1);
	cJSON_Delete(j);
}

TEST(redfish_parse_log_at_most_64_per_poll)
{
	static struct vgl_rf_logscan s;
	struct vgl_rf_logresult r;
	struct vgl_rf_cursor c = { 1, 10, 10 };
	int ids[110];

	for (int i = 0; i < 110; i++)
		ids[109 - i] = i + 1;          /* newest first, to make it work */
	scan_one(&s, &c, ids, 110, 110, &r);
	ASSERT_EQ(r.n, VGL_RF_MAX_EVENTS);
	ASSERT_EQ(r.e[0].id, 11);
	ASSERT_EQ(r.e[63].id, 74);
	ASSERT_EQ(r.left, 100 - 64);
	ASSERT_EQ(r.cursor.last_id, 74);
	ASSERT_EQ(r.cursor.count, 74);
	/* the next poll takes the rest */
	c = r.cursor;
	scan_one(&s, &c, ids, 110, 110, &r);
	ASSERT_EQ(r.n, 36);
	ASSERT_EQ(r.e[0].id, 75);
	ASSERT_EQ(r.left, 0);
	ASSERT_EQ(r.cursor.last_id, 110);
	ASSERT_EQ(r.cursor.count, 110);
}

TEST(redfish_parse_log_hostile_members)
{
	static struct vgl_rf_logscan s;
	struct vgl_rf_logresult r;
	struct vgl_rf_cursor c = { 1, 2, 2 };
	char next[VGL_RF_PATH], err[128];
	cJSON *j = P("{\"Members@odata.count\": \"many\", \"Members\": [1, null, \"x\","
		     " {\"Id\": \"1\"}, {\"Id\": \"2\"}, {\"Id\": \"noid\", \"Message\": \"m\"},"
		     " {\"@odata.id\": \"/redfish/v1/Systems/1/LogServices/SEL/Entries/9\"},"
		     " {\"Id\": {\"x\": 1}}, {\"Id\": \"3\", \"Severity\": 7, \"Message\": [1]}],"
		     " \"Members@odata.nextLink\": \"javascript:alert(1)\"}");

	vgl_rf_logscan_init(&s, &c, 0);
	ASSERT_EQ(vgl_rf_logscan_page(&s, j, ENTRIES, 1, next, err, sizeof(err)), 0);
	ASSERT_STREQ(next, "");                 /* a nextLink that is no path is none */
	vgl_rf_logscan_finish(&s, &r);
	ASSERT_EQ(r.cleared, 0);
	ASSERT_EQ(r.n, 2);
	ASSERT_EQ(r.e[0].id, 3);
	ASSERT_STREQ(r.e[0].text, "(no message) (?)");
	ASSERT_EQ(r.e[1].id, 9);
	ASSERT_EQ(r.e[1].link_only, 1);         /* to be fetched */
	cJSON_Delete(j);
}
