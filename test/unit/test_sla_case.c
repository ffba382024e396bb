/* Case documents through vgl_sla_case_run: the report object end to end,
 * the inline policy parser and the error messages. */
#include <errno.h>
#include <math.h>

#include <cjson/cJSON.h>

#include "core/vtime.h"
#include "sla/report.h"
#include "test/test.h"

static cJSON *run_ok(const char *doc, int64_t real_now)
{
	char err[256] = "";
	cJSON *out = NULL;
	int rc = vgl_sla_case_run(doc, real_now, &out, err, sizeof(err));

	if (rc != 0)
		fprintf(stderr, "case_run: %d %s\n", rc, err);
	ASSERT_EQ(rc, 0);
	ASSERT(out != NULL);
	return out;
}

static double num(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	if (!cJSON_IsNumber(v)) {
		fprintf(stderr, "%s: not a number\n", key);
		vgl_test_fail();
	}
	return v->valuedouble;
}

static const char *str(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static int is_null(const cJSON *o, const char *key)
{
	return cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(o, key));
}

static int is_true(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	ASSERT(cJSON_IsBool(v));
	return cJSON_IsTrue(v);
}

TEST(sla_case_vserver_far_zone)
{
	/* November in +07 runs 2026-10-31T17:00Z .. 2026-11-30T17:00Z (30 d).
	 * Counted: hardware 40 min of which 30 fall in November in +07,
	 * network 10 min overlapping it by 5: 35 min. Customer 1 h is
	 * excluded. Maintenance 20 min inside a window announced 4 days
	 * ahead: excluded. An emergency window announced 10 min ahead does
	 * not qualify: its 15 min count. Counted 70, excluded 20, downtime
	 * 50 min = 3,000,000 ms > 1,555,200: breached; uptime 1 - 1/864 =
	 * 99.8842...%: band [95, 99.90): 30%. */
	const char *doc =
		"{\"policy\": \"vserver\", \"tz\": \"Asia/Ho_Chi_Minh\", \"month\": \"2026-11\","
		" \"host\": \"web-1\", \"now\": \"2026-12-05T00:00:00Z\","
		" \"intervals\": ["
		"  {\"cause\": \"hardware\", \"start\": \"2026-10-31T16:50:00Z\","
		"   \"end\": \"2026-10-31T17:30:00Z\", \"note\": \"PSU\", \"id\": 11},"
		"  {\"cause\": \"network\", \"start\": \"2026-10-31T17:25:00+00:00\","
		"   \"end\": \"2026-11-01T00:35:00+07:00\"},"
		"  {\"cause\": \"customer\", \"start\": \"2026-11-03T00:00:00Z\","
		"   \"end\": \"2026-11-03T01:00:00Z\"},"
		"  {\"cause\": \"maintenance\", \"start\": \"2026-11-10T02:00:00Z\","
		"   \"end\": \"2026-11-10T02:20:00Z\"},"
		"  {\"cause\": \"maintenance\", \"start\": \"2026-11-12T02:00:00Z\","
		"   \"end\": \"2026-11-12T02:15:00Z\", \"rule\": \"ping\"}],"
		" \"maintenance\": ["
		"  {\"kind\": \"planned\", \"start\": \"2026-11-10T01:00:00Z\","
		"   \"end\": \"2026-11-10T03:00:00Z\", \"announced\": \"2026-11-06T01:00:00Z\","
		"   \"note\": \"kernel\"},"
		"  {\"kind\": \"emergency\", \"start\": \"2026-11-12T02:00:00Z\","
		"   \"end\": \"2026-11-12T03:00:00Z\", \"announced\": \"2026-11-12T01:50:00Z\"}]}";
	cJSON *o = run_ok(doc, 0);
	const cJSON *ivs, *iv, *ex, *mts;

	ASSERT_STREQ(str(o, "host"), "web-1");
	ASSERT_STREQ(str(o, "month"), "2026-11");
	ASSERT_STREQ(str(o, "policy"), "vserver");
	ASSERT_STREQ(str(o, "tz"), "Asia/Ho_Chi_Minh");
	ASSERT_STREQ(str(o, "month_start"), "2026-10-31T17:00:00.000Z");
	ASSERT_EQ(num(o, "month_ms"), 2592000000.0);
	ASSERT_EQ(num(o, "period_ms"), 2592000000.0);
	ASSERT(!is_true(o, "partial"));
	ASSERT(!is_true(o, "in_progress"));
	ASSERT_EQ(num(o, "allowance_ms"), 1555200);
	ASSERT_EQ(num(o, "counted_ms"), 70 * 60000);
	ASSERT_EQ(num(o, "maint_excluded_ms"), 20 * 60000);
	ASSERT_EQ(num(o, "downtime_ms"), 50 * 60000);
	ex = cJSON_GetObjectItemCaseSensitive(o, "excluded_ms");
	ASSERT_EQ(num(ex, "customer"), 3600000);
	ASSERT_EQ(num(ex, "force_majeure"), 0);
	ASSERT(cJSON_GetObjectItemCaseSensitive(ex, "hardware") == NULL);
	/* 863/864 = 99.88425925925...%, shown floored to 10 decimals */
	ASSERT(num(o, "uptime_pct") == 99.8842592592);
	ASSERT_STREQ(str(o, "uptime_fraction"), "863/864");
	ASSERT(is_true(o, "breached"));
	ASSERT_EQ(num(o, "band"), 1);
	ASSERT_EQ(num(o, "band_from_pct") * 10000, 950000);
	ASSERT_EQ(num(o, "credit"), 30);
	ASSERT_STREQ(str(o, "credit_unit"), "percent");
	ASSERT(is_null(o, "coverage_pct"));
	ivs = cJSON_GetObjectItemCaseSensitive(o, "intervals");
	ASSERT_EQ(cJSON_GetArraySize(ivs), 5);
	iv = cJSON_GetArrayItem(ivs, 0);
	ASSERT_EQ(num(iv, "id"), 11);
	ASSERT_STREQ(str(iv, "cause"), "hardware");
	ASSERT_STREQ(str(iv, "start"), "2026-10-31T16:50:00.000Z");
	ASSERT_STREQ(str(iv, "in_period_start"), "2026-10-31T17:00:00.000Z");
	ASSERT_EQ(num(iv, "in_period_ms"), 30 * 60000);
	ASSERT_STREQ(str(iv, "note"), "PSU");
	ASSERT(is_null(iv, "rule"));
	ASSERT(is_true(iv, "counted"));
	iv = cJSON_GetArrayItem(ivs, 2);
	ASSERT_STREQ(str(iv, "cause"), "customer");
	ASSERT(!is_true(iv, "counted"));
	iv = cJSON_GetArrayItem(ivs, 3);
	ASSERT_EQ(num(iv, "maint_excluded_ms"), 20 * 60000);
	mts = cJSON_GetObjectItemCaseSensitive(o, "maintenance");
	ASSERT_EQ(cJSON_GetArraySize(mts), 2);
	ASSERT(is_true(cJSON_GetArrayItem(mts, 0), "qualifies"));
	ASSERT_EQ(num(cJSON_GetArrayItem(mts, 0), "notice_ms"), 96 * 3600000.0);
	ASSERT(!is_true(cJSON_GetArrayItem(mts, 1), "qualifies"));
	ASSERT_EQ(num(cJSON_GetArrayItem(mts, 1), "excluded_ms"), 0);
	cJSON_Delete(o);
}

TEST(sla_case_open_interval_and_real_now)
{
	/* no "now": the real now (2026-11-10T00:00Z) cuts the period */
	const char *doc = "{\"policy\": \"vbaremetal\", \"month\": \"2026-11\", \"intervals\": ["
			  "{\"cause\": \"power\", \"start\": \"2026-11-09T23:00:00Z\", \"end\": null}],"
			  " \"observed\": [{\"start\": \"2026-11-01T00:00:00Z\","
			  " \"end\": \"2026-11-05T12:00:00Z\"}]}";
	int64_t now;
	cJSON *o;
	const cJSON *iv;

	ASSERT_EQ(vgl_parse_iso("2026-11-10T00:00:00Z", &now), 0);
	o = run_ok(doc, now);
	ASSERT(is_null(o, "host"));
	ASSERT(is_true(o, "in_progress"));
	ASSERT(is_true(o, "begun"));
	ASSERT_STREQ(str(o, "as_of"), "2026-11-10T00:00:00.000Z");
	/* the whole month is measured; the open hour counts up to now */
	ASSERT_EQ(num(o, "period_ms"), 30 * 86400000.0);
	ASSERT_STREQ(str(o, "period_end"), "2026-12-01T00:00:00.000Z");
	ASSERT_EQ(num(o, "downtime_ms"), 3600000);
	/* coverage: 4.5 of the 9 days that have passed */
	ASSERT_EQ(num(o, "observed_ms"), 4.5 * 86400000);
	ASSERT(num(o, "coverage_pct") == 50.0);
	iv = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(o, "intervals"), 0);
	ASSERT(is_null(iv, "end"));
	ASSERT_STREQ(str(iv, "in_period_end"), "2026-11-10T00:00:00.000Z");
	/* 1 h of 720: 99.8611%, [99, 99.90); the allowance at 99.90%,
	 * 2,592,000 ms, is overspent by 1,008,000 ms */
	ASSERT_EQ(num(o, "allowance_ms"), 2592000);
	ASSERT_EQ(num(o, "allowance_left_ms"), -1008000);
	ASSERT(is_true(o, "breached"));
	ASSERT_EQ(num(o, "band"), 0);
	ASSERT_EQ(num(o, "credit"), 10);
	cJSON_Delete(o);
}

TEST(sla_case_inline_policy_days)
{
	/* a vCS-like contract in days, percentages as strings and numbers;
	 * February 2026 (28 d): 99.8% allows 4,838,400 ms */
	const char *doc =
		"{\"policy\": {\"name\": \"cs-gold\", \"commitment\": \"99.8\","
		"  \"bands\": [{\"from\": 99.5, \"to\": \"99.8\", \"credit\": 7},"
		"             {\"from\": \"99\", \"to\": 99.5, \"credit\": 10},"
		"             {\"from\": 0, \"to\": 99, \"credit\": 15}],"
		"  \"unit\": \"days\", \"counted\": [\"network\", \"hardware\"],"
		"  \"notice_planned_h\": 24, \"maint_cap_s\": 600},"
		" \"month\": \"2026-02\", \"now\": \"2026-03-02T00:00:00Z\", \"intervals\": ["
		"  {\"cause\": \"network\", \"start\": \"2026-02-10T00:00:00Z\", \"end\": 1770687238401},"
		"  {\"cause\": \"power\", \"start\": \"2026-02-11T00:00:00Z\", \"end\": \"2026-02-12T00:00:00Z\"}]}";
	cJSON *o = run_ok(doc, 0);
	const cJSON *ex;

	/* 1770681600000 = 2026-02-10T00:00Z; end - start = 5,638,401 ms */
	ASSERT_STREQ(str(o, "policy"), "cs-gold");
	ASSERT_STREQ(str(o, "tz"), "UTC");
	ASSERT_EQ(num(o, "month_ms"), 28 * 86400000.0);
	ASSERT_EQ(num(o, "downtime_ms"), 5638401);
	ex = cJSON_GetObjectItemCaseSensitive(o, "excluded_ms");
	ASSERT_EQ(num(ex, "power"), 86400000);
	ASSERT_EQ(num(o, "band"), 0);
	ASSERT_EQ(num(o, "credit"), 7);
	ASSERT_STREQ(str(o, "credit_unit"), "days");
	ASSERT_EQ(num(o, "commitment_pct") * 10, 998);
	cJSON_Delete(o);
}

TEST(sla_case_base_policy_and_maint_rules)
{
	/* base vserver with a 24 h planned notice and a 10-minute cap: the
	 * window announced 30 h ahead qualifies, but only 10 of the 20 min go */
	const char *doc =
		"{\"policy\": {\"base\": \"vserver\", \"notice_planned_h\": 24, \"maint_cap_s\": 600,"
		"  \"tz\": \"Europe/Berlin\"},"
		" \"month\": \"2026-03\", \"now\": \"2026-04-02T00:00:00Z\","
		" \"intervals\": [{\"cause\": \"maintenance\", \"start\": \"2026-03-10T02:00:00Z\","
		"   \"end\": \"2026-03-10T02:20:00Z\"}],"
		" \"maintenance\": [{\"kind\": \"planned\", \"start\": \"2026-03-10T01:00:00Z\","
		"   \"end\": \"2026-03-10T03:00:00Z\", \"announced\": \"2026-03-08T19:00:00Z\"}]}";
	cJSON *o = run_ok(doc, 0);

	ASSERT_STREQ(str(o, "policy"), "vserver");
	ASSERT_STREQ(str(o, "tz"), "Europe/Berlin");
	ASSERT_EQ(num(o, "month_ms"), 31 * 86400000.0 - 3600000);
	ASSERT_EQ(num(o, "maint_excluded_ms"), 600000);
	ASSERT_EQ(num(o, "downtime_ms"), 600000);
	ASSERT(!is_true(o, "breached"));
	cJSON_Delete(o);
}

TEST(sla_case_vcdn_and_vstorage_counters)
{
	const char *cdn =
		"{\"policy\": \"vcdn\", \"month\": \"2026-11\", \"now\": \"2026-12-01T00:00:00Z\","
		" \"counter_bits\": 32, \"counters\": ["
		"  {\"ts\": \"2026-10-31T23:59:00Z\", \"total\": 4294867296, \"failed\": 0},"
		"  {\"ts\": \"2026-11-15T00:00:00Z\", \"total\": 900000, \"failed\": \"1001\"}]}";
	const char *sto =
		"{\"policy\": \"vstorage\", \"month\": \"2026-11\", \"now\": \"2026-12-01T00:00:00Z\","
		" \"counters\": ["
		"  {\"ts\": \"2026-10-31T23:59:00Z\", \"total\": 0, \"failed\": 0},"
		"  {\"ts\": \"2026-11-01T00:01:00Z\", \"total\": 100, \"failed\": 100}]}";
	cJSON *o = run_ok(cdn, 0);

	/* wrap: 100,000 + 900,000 = 1,000,000 requests, 1001 failed: 99.8999%
	 * -> [99, 99.90): 5% */
	ASSERT_EQ(num(o, "requests"), 1000000);
	ASSERT_EQ(num(o, "failures"), 1001);
	ASSERT(is_true(o, "breached"));
	ASSERT_EQ(num(o, "credit"), 5);
	ASSERT_STREQ(str(o, "kind"), "cycle_errors");
	cJSON_Delete(o);
	/* one block of 8,640 fully failed: 1 - 1/8640 = 99.98842...%: below
	 * 99.99, above 99.90: breached without credit */
	o = run_ok(sto, 0);
	ASSERT_EQ(num(o, "blocks"), 8640);
	ASSERT(is_true(o, "breached"));
	ASSERT(is_null(o, "band"));
	ASSERT_EQ(num(o, "credit"), 0);
	ASSERT_STREQ(str(o, "uptime_fraction"), "8639/8640");
	cJSON_Delete(o);
}

TEST(sla_case_errors_name_the_field)
{
	static const struct {
		const char *doc, *msg;
	} cases[] = {
		{ "{", "not valid JSON" },
		{ "[]", "expected a JSON object" },
		{ "{\"month\": \"2026-11\"}", "policy: required" },
		{ "{\"policy\": \"vgold\", \"month\": \"2026-11\"}", "policy: unknown preset \"vgold\"" },
		{ "{\"policy\": \"vserver\"}", "month: required" },
		{ "{\"policy\": \"vserver\", \"month\": \"2026-13\"}", "month: required" },
		{ "{\"policy\": \"vserver\", \"month\": \"2026-11\", \"tz\": \"Mars/Base\"}", "tz:" },
		{ "{\"policy\": \"vserver\", \"month\": \"2026-11\", \"maintenence\": []}",
		  "unknown key \"maintenence\"" },
		{ "{\"policy\": \"vserver\", \"month\": \"2026-11\", \"intervals\": ["
		  "{\"cause\": \"hardware\", \"start\": \"2026-11-02T00:00:00Z\", \"end\": null},"
		  "{\"cause\": \"aliens\", \"start\": \"2026-11-02T00:00:00Z\"}]}",
		  "intervals[1].cause" },
		{ "{\"policy\": \"vserver\", \"month\": \"2026-11\", \"intervals\": ["
		  "{\"cause\": \"hardware\", \"start\": \"2026-11-02 00:00\"}]}",
		  "intervals[0].start" },
		{ "{\"policy\": \"vserver\", \"month\": \"2026-11\", \"intervals\": ["
		  "{\"cause\": \"hardware\", \"start\": \"2026-11-02T00:00:00Z\","
		  " \"end\": \"2026-11-01T00:00:00Z\"}]}",
		  "intervals[0].end: before start" },
		{ "{\"policy\": \"vserver\", \"month\": \"2026-11\", \"intervals\": {}}",
		  "intervals: expected an array" },
		{ "{\"policy\": \"vserver\", \"month\": \"2026-11\", \"maintenance\": ["
		  "{\"kind\": \"sometime\", \"start\": 1, \"end\": 2, \"announced\": 0}]}",
		  "maintenance[0].kind" },
		{ "{\"policy\": \"vserver\", \"month\": \"2026-11\", \"maintenance\": ["
		  "{\"kind\": \"planned\", \"start\": 1, \"end\": 2}]}",
		  "maintenance[0].announced" },
		{ "{\"policy\": \"vcdn\", \"month\": \"2026-11\", \"counters\": ["
		  "{\"ts\": 1, \"total\": -5, \"failed\": 0}]}",
		  "counters[0].total" },
		{ "{\"policy\": \"vcdn\", \"month\": \"2026-11\", \"counter_bits\": 32, \"counters\": ["
		  "{\"ts\": 1, \"total\": 4294967296, \"failed\": 0}]}",
		  "counters[0]: value above 2^32-1" },
		{ "{\"policy\": {\"commitment\": \"99.94\"}, \"month\": \"2026-11\"}",
		  "policy.bands: required" },
		{ "{\"policy\": {\"commitment\": \"99.94001\", \"bands\": []}, \"month\": \"2026-11\"}",
		  "policy.commitment" },
		{ "{\"policy\": {\"commitment\": 99.94001, \"bands\": []}, \"month\": \"2026-11\"}",
		  "policy.commitment" },
		{ "{\"policy\": {\"commitment\": \"99.9\", \"bands\": [{\"from\": \"99\", \"to\": \"99.9\","
		  " \"credit\": 10}, {\"from\": \"95\", \"to\": \"99.5\", \"credit\": 30}]},"
		  " \"month\": \"2026-11\"}",
		  "policy.bands[1]: bands must be ordered" },
		{ "{\"policy\": {\"commitment\": \"99.9\", \"bands\": [{\"from\": \"99\", \"to\": \"99.9\","
		  " \"credit\": 10, \"upto\": 1}]}, \"month\": \"2026-11\"}",
		  "policy.bands[0]: unknown key \"upto\"" },
		{ "{\"policy\": {\"base\": \"vserver\", \"counted\": [\"hardware\", \"gremlins\"]},"
		  " \"month\": \"2026-11\"}",
		  "policy.counted[1]" },
		{ "{\"policy\": {\"base\": \"vserver\", \"unit\": \"euros\"}, \"month\": \"2026-11\"}",
		  "policy.unit" },
		{ "{\"policy\": {\"base\": \"vserver\", \"unit\": \"days\", \"credit_unit\": \"days\"},"
		  " \"month\": \"2026-11\"}",
		  "give either" },
		{ "{\"policy\": \"vserver\", \"month\": \"2026-11\", \"now\": \"yesterday\"}", "now:" },
		{ "{\"policy\": \"vserver\", \"month\": \"2026-11\", \"observed\": ["
		  "{\"start\": \"2026-11-02T00:00:00Z\", \"end\": \"2026-11-01T00:00:00Z\"}]}",
		  "observed[0].end" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char err[256] = "";
		cJSON *out = (cJSON *)1;
		int rc = vgl_sla_case_run(cases[i].doc, 1793491200000LL, &out, err, sizeof(err));

		if (rc != -EINVAL || !strstr(err, cases[i].msg))
			fprintf(stderr, "case %zu: rc %d err \"%s\"\n", i, rc, err);
		ASSERT_EQ(rc, -EINVAL);
		ASSERT(out == NULL);
		ASSERT_CONTAINS(err, cases[i].msg);
	}
}

TEST(sla_policy_from_json_exact_percentages)
{
	static const struct {
		const char *json;
		int64_t e4;     /* -1: refused */
	} cases[] = {
		{ "99.94", 999400 },   { "\"99.94\"", 999400 }, { "99.9999", 999999 },
		{ "95", 950000 },      { "100", 1000000 },      { "99.99991", -1 },
		{ "\"99.99991\"", -1 }, { "1e2", 1000000 },     { "-0.5", -1 },
		{ "true", -1 },        { "0.1", 1000 },         { "33.3333", 333333 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char doc[256], err[128];
		struct vgl_sla_policy p;
		cJSON *o;
		int rc;

		snprintf(doc, sizeof(doc), "{\"base\": \"vserver\", \"commitment\": %s, \"bands\": []}",
			 cases[i].json);
		o = cJSON_Parse(doc);
		ASSERT(o != NULL);
		rc = vgl_sla_policy_from_json(o, &p, err, sizeof(err));
		cJSON_Delete(o);
		if (cases[i].e4 < 0) {
			ASSERT_EQ(rc, -EINVAL);
			ASSERT_CONTAINS(err, "commitment");
		} else {
			if (rc)
				fprintf(stderr, "%s: %s\n", cases[i].json, err);
			ASSERT_EQ(rc, 0);
			ASSERT_EQ(p.commitment_e4, cases[i].e4);
			ASSERT_EQ(p.n_bands, 0);
		}
	}
}

TEST(sla_case_times_match_vtime)
{
	/* the report's own ISO formatter against vgl_format_iso, on leap
	 * and century months and on day and year boundaries */
	static const char *const months[] = { "2024-02", "2000-02", "2100-02", "2026-12", "1970-01" };
	uint64_t seed = 88172645463325252ull;

	for (size_t k = 0; k < sizeof(months) / sizeof(months[0]); k++) {
		char *doc = malloc(64 * 1024), ref[VGL_ISO_LEN];
		int64_t m0, m1, t[101];
		int y, m;
		size_t n;
		cJSON *o;
		const cJSON *iv;
		int i = 0;

		ASSERT(doc != NULL);
		ASSERT_EQ(vgl_sla_month_parse(months[k], &y, &m), 0);
		ASSERT_EQ(vgl_sla_month_bounds("UTC", y, m, &m0, &m1), 0);
		n = (size_t)snprintf(doc, 64 * 1024, "{\"policy\": \"vserver\", \"month\": \"%s\", "
				     "\"now\": 253370764799999, \"intervals\": [", months[k]);
		for (int j = 0; j < 101; j++) {
			seed ^= seed << 13;
			seed ^= seed >> 7;
			seed ^= seed << 17;
			t[j] = j == 0 ? m0 : j == 100 ? m1 - 2 : m0 + (int64_t)(seed % (uint64_t)(m1 - m0 - 1));
			n += (size_t)snprintf(doc + n, 64 * 1024 - n,
					      "%s{\"cause\": \"customer\", \"start\": %" PRId64 ", \"end\": %" PRId64 "}",
					      j ? "," : "", t[j], t[j] + 1);
		}
		snprintf(doc + n, 64 * 1024 - n, "]}");
		o = run_ok(doc, 0);
		cJSON_ArrayForEach(iv, cJSON_GetObjectItemCaseSensitive(o, "intervals")) {
			char want[VGL_ISO_LEN];
			const char *got = str(iv, "start");
			int found = 0;

			/* sorted by start in the report: look the time up */
			for (int j = 0; j < 101 && !found; j++)
				found = strcmp(vgl_format_iso(t[j], want), got) == 0;
			if (!found)
				fprintf(stderr, "%s: %s not among the inputs\n", months[k], got);
			ASSERT(found);
			i++;
		}
		ASSERT_EQ(i, 101);
		ASSERT_STREQ(str(o, "month_start"), vgl_format_iso(m0, ref));
		ASSERT_STREQ(str(o, "month_end"), vgl_format_iso(m1, ref));
		cJSON_Delete(o);
		free(doc);
	}
}

TEST(sla_case_now_before_month)
{
	/* The document's now before the month: nothing has happened in it,
	 * so nothing is owed; the report says it has not begun. */
	const char *doc = "{\"policy\": \"vserver\", \"month\": \"2026-12\","
			  " \"now\": \"2026-11-20T00:00:00Z\", \"intervals\": ["
			  "{\"cause\": \"hardware\", \"start\": \"2026-11-19T00:00:00Z\", \"end\": null}]}";
	cJSON *o = run_ok(doc, 0);

	ASSERT(is_true(o, "in_progress"));
	ASSERT(!is_true(o, "begun"));
	ASSERT_STREQ(str(o, "as_of"), "2026-11-20T00:00:00.000Z");
	ASSERT_EQ(num(o, "period_ms"), 31 * 86400000.0);
	ASSERT_EQ(num(o, "downtime_ms"), 0);
	ASSERT_EQ(num(o, "allowance_left_ms"), 1607040);
	ASSERT(!is_true(o, "breached"));
	ASSERT_EQ(num(o, "credit"), 0);
	ASSERT_EQ(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(o, "intervals")), 0);
	cJSON_Delete(o);
}
