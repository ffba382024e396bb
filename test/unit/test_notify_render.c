/* The payload formats (notify/render.c) from real snapshots
 * (vgl_alarm_json): PagerDuty Events v2, Alertmanager, email, the exec
 * environment; exact fields, the severity map, the resolve forms. */
#include <cjson/cJSON.h>

#include "alarms/alarm_row.h"
#include "core/vtime.h"
#include "notify/render.h"
#include "test/test.h"

#define RAISED_MS 1796256000000LL       /* 2026-12-03T00:00:00.000Z */
#define CLEARED_MS (RAISED_MS + 90000)

static char *snap_full(enum vgl_severity sev, enum vgl_notice_event ev, int64_t cleared,
		       const char *summary, const char *site)
{
	struct vgl_alarm_row a = {
		.id = 42, .host_id = 7, .host = "web-01", .site = site, .rule = "link-down",
		.kind = VGL_AK_RULE, .severity = sev,
		.state = cleared ? VGL_ALARM_CLEARED : VGL_ALARM_RAISED, .summary = summary,
		.labels_json = "{\"team\":\"net\",\"bad-name.x\":\"v\"}",
		.details_json = "{\"value\":2}", .raised_ms = RAISED_MS, .cleared_ms = cleared,
	};
	char dk[64];
	struct vgl_outbox_row n = { .id = 9, .alarm_id = 42, .channel = "pd", .event = ev,
				    .step = ev == VGL_NOTICE_RESOLVE ? -1 : 1,
				    .repeat = ev == VGL_NOTICE_RESOLVE ? 0 : 2, .dedup_key = dk };
	char *s;

	ASSERT(vgl_dedup_key(dk, sizeof(dk), 42, ev, n.step, n.repeat) > 0);
	s = vgl_alarm_json(&a, &n);
	ASSERT(s != NULL);
	return s;
}

static char *snap(enum vgl_severity sev, enum vgl_notice_event ev, int64_t cleared)
{
	return snap_full(sev, ev, cleared, "Link down on eth0", "dc1");
}

static const char *str_at(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	ASSERT(cJSON_IsString(v));
	return v->valuestring;
}

TEST(notify_render_pagerduty_trigger)
{
	char *s = snap(VGL_SEV_CRITICAL, VGL_NOTICE_TRIGGER, 0);
	char *out = vgl_render_pagerduty(s, "RK1");
	cJSON *o = cJSON_Parse(out), *p, *cd, *orig = cJSON_Parse(s);

	ASSERT(o != NULL && orig != NULL);
	ASSERT_STREQ(str_at(o, "routing_key"), "RK1");
	ASSERT_STREQ(str_at(o, "event_action"), "trigger");
	/* the incident is the alarm, not the notification */
	ASSERT_STREQ(str_at(o, "dedup_key"), "vigil:42");
	p = cJSON_GetObjectItemCaseSensitive(o, "payload");
	ASSERT(cJSON_IsObject(p));
	ASSERT_STREQ(str_at(p, "summary"), "Link down on eth0");
	ASSERT_STREQ(str_at(p, "source"), "web-01");
	ASSERT_STREQ(str_at(p, "severity"), "critical");
	ASSERT_STREQ(str_at(p, "timestamp"), "2026-12-03T00:00:00.000Z");
	ASSERT_STREQ(str_at(p, "component"), "link-down");
	ASSERT_STREQ(str_at(p, "group"), "dc1");
	ASSERT_STREQ(str_at(p, "class"), "rule");
	cd = cJSON_GetObjectItemCaseSensitive(p, "custom_details");
	ASSERT(cJSON_Compare(cd, orig, 1));
	cJSON_Delete(o);
	cJSON_Delete(orig);
	free(out);
	free(s);
}

TEST(notify_render_pagerduty_severity_and_resolve)
{
	static const char *const want[VGL_SEV_COUNT] = {
		[VGL_SEV_CRITICAL] = "critical", [VGL_SEV_MAJOR] = "error",
		[VGL_SEV_MINOR] = "warning", [VGL_SEV_WARNING] = "warning", [VGL_SEV_INFO] = "info",
	};
	char *s, *out, *big;
	cJSON *o;

	for (int i = 0; i < VGL_SEV_COUNT; i++) {
		s = snap((enum vgl_severity)i, VGL_NOTICE_TRIGGER, 0);
		out = vgl_render_pagerduty(s, "k");
		ASSERT((o = cJSON_Parse(out)) != NULL);
		ASSERT_STREQ(str_at(cJSON_GetObjectItemCaseSensitive(o, "payload"), "severity"),
			     want[i]);
		cJSON_Delete(o);
		free(out);
		free(s);
	}
	s = snap(VGL_SEV_MAJOR, VGL_NOTICE_RESOLVE, CLEARED_MS);
	out = vgl_render_pagerduty(s, "k");
	ASSERT((o = cJSON_Parse(out)) != NULL);
	ASSERT_STREQ(str_at(o, "event_action"), "resolve");
	ASSERT_STREQ(str_at(o, "dedup_key"), "vigil:42");
	cJSON_Delete(o);
	free(out);
	free(s);

	/* no site: no group; a summary past PagerDuty's 1024 is cut */
	ASSERT((big = malloc(3001)) != NULL);
	memset(big, 'x', 3000);
	big[3000] = 0;
	s = snap_full(VGL_SEV_INFO, VGL_NOTICE_TRIGGER, 0, big, NULL);
	out = vgl_render_pagerduty(s, "k");
	ASSERT((o = cJSON_Parse(out)) != NULL);
	ASSERT(cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(o, "payload"),
						"group") == NULL);
	ASSERT_EQ(strlen(str_at(cJSON_GetObjectItemCaseSensitive(o, "payload"), "summary")), 1024);
	cJSON_Delete(o);
	free(out);
	free(s);
	free(big);

	ASSERT(vgl_render_pagerduty("[1]", "k") == NULL);
	ASSERT(vgl_render_pagerduty("not json", "k") == NULL);
}

TEST(notify_render_alertmanager)
{
	char *s = snap(VGL_SEV_MINOR, VGL_NOTICE_TRIGGER, 0), *out = vgl_render_alertmanager(s);
	cJSON *arr = cJSON_Parse(out), *a, *l, *an;
	char iso[VGL_ISO_LEN];
	int64_t t;

	ASSERT(cJSON_IsArray(arr));
	ASSERT_EQ(cJSON_GetArraySize(arr), 1);
	a = cJSON_GetArrayItem(arr, 0);
	l = cJSON_GetObjectItemCaseSensitive(a, "labels");
	ASSERT_STREQ(str_at(l, "alertname"), "link-down");
	ASSERT_STREQ(str_at(l, "host"), "web-01");
	ASSERT_STREQ(str_at(l, "site"), "dc1");
	ASSERT_STREQ(str_at(l, "severity"), "minor");
	ASSERT_STREQ(str_at(l, "vigil_alarm"), "42");
	ASSERT_STREQ(str_at(l, "team"), "net");
	/* Alertmanager refuses the post for a name like this one */
	ASSERT_STREQ(str_at(l, "bad_name_x"), "v");
	ASSERT_EQ(cJSON_GetArraySize(l), 7);
	an = cJSON_GetObjectItemCaseSensitive(a, "annotations");
	ASSERT_STREQ(str_at(an, "summary"), "Link down on eth0");
	ASSERT_STREQ(str_at(an, "dedup_key"), "vigil:42:1:2");
	ASSERT_STREQ(str_at(a, "startsAt"), "2026-12-03T00:00:00.000Z");
	ASSERT(cJSON_GetObjectItemCaseSensitive(a, "endsAt") == NULL);
	cJSON_Delete(arr);
	free(out);
	free(s);

	s = snap(VGL_SEV_MINOR, VGL_NOTICE_RESOLVE, CLEARED_MS);
	out = vgl_render_alertmanager(s);
	ASSERT((arr = cJSON_Parse(out)) != NULL);
	a = cJSON_GetArrayItem(arr, 0);
	ASSERT_STREQ(str_at(a, "endsAt"), vgl_format_iso(CLEARED_MS, iso));
	ASSERT_STREQ(str_at(cJSON_GetObjectItemCaseSensitive(a, "annotations"), "dedup_key"),
		     "vigil:42:resolve");
	cJSON_Delete(arr);
	free(out);
	free(s);

	/* a resolve without a cleared time ends now */
	s = snap(VGL_SEV_MINOR, VGL_NOTICE_RESOLVE, 0);
	out = vgl_render_alertmanager(s);
	ASSERT((arr = cJSON_Parse(out)) != NULL);
	ASSERT_EQ(vgl_parse_iso(str_at(cJSON_GetArrayItem(arr, 0), "endsAt"), &t), 0);
	ASSERT_LT(llabs(t - vgl_now_ms()), 5000);
	cJSON_Delete(arr);
	free(out);
	free(s);
}

/* The line of msg that starts with prefix, up to its end (static). */
static const char *line_of(const char *msg, const char *prefix)
{
	static char buf[1024];
	size_t pl = strlen(prefix);

	for (const char *p = msg; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
		if (strncmp(p, prefix, pl) == 0) {
			size_t n = strcspn(p, "\n");
			ASSERT_LT(n, sizeof(buf));
			memcpy(buf, p, n);
			buf[n] = 0;
			return buf;
		}
		if (*p == '\n')
			break;  /* the headers end at the blank line */
	}
	return NULL;
}

TEST(notify_render_email)
{
	char *to[] = { "ops@example.com", "b@example.com", NULL };
	struct vgl_channel_conf c = { .name = "mail", .type = VGL_CH_EMAIL, .to = to, .n_to = 2,
				      .from = "vigil@dc1.example" };
	char *s = snap(VGL_SEV_CRITICAL, VGL_NOTICE_TRIGGER, 0), *m = vgl_render_email(s, &c);
	const char *body;

	ASSERT(m != NULL);
	ASSERT_STREQ(line_of(m, "From:"), "From: vigil@dc1.example");
	ASSERT_STREQ(line_of(m, "To:"), "To: ops@example.com, b@example.com");
	ASSERT_STREQ(line_of(m, "Subject:"), "Subject: [vigil] CRITICAL web-01 link-down: Link down on eth0");
	ASSERT_STREQ(line_of(m, "X-Vigil-Dedup-Key:"), "X-Vigil-Dedup-Key: vigil:42:1:2");
	ASSERT(line_of(m, "Date: ") != NULL);
	ASSERT_EQ(strlen(line_of(m, "Date: ")), strlen("Date: Thu, 03 Dec 2026 00:00:00 +0000"));
	ASSERT((body = strstr(m, "\n\n")) != NULL);
	ASSERT_CONTAINS(body, "Host:      web-01\n");
	ASSERT_CONTAINS(body, "Severity:  critical\n");
	ASSERT_CONTAINS(body, "Labels:    team=net, bad-name.x=v\n");
	ASSERT_CONTAINS(body, "\"dedup_key\":\t\"vigil:42:1:2\"");
	free(m);
	free(s);

	s = snap(VGL_SEV_CRITICAL, VGL_NOTICE_RESOLVE, CLEARED_MS);
	m = vgl_render_email(s, &c);
	ASSERT_STREQ(line_of(m, "Subject:"), "Subject: [vigil] RESOLVED web-01 link-down: Link down on eth0");
	free(m);
	free(s);

	/* a summary cannot add headers (Bcc:) or a body of its own */
	s = snap_full(VGL_SEV_MAJOR, VGL_NOTICE_TRIGGER, 0, "down\r\nBcc: evil@example.com\n\nhi", "dc1");
	m = vgl_render_email(s, &c);
	ASSERT(line_of(m, "Bcc:") == NULL);
	ASSERT_STREQ(line_of(m, "Subject:"),
		     "Subject: [vigil] MAJOR web-01 link-down: down  Bcc: evil@example.com  hi");
	free(m);
	free(s);

	/* non-ASCII subjects go as RFC 2047 words */
	s = snap_full(VGL_SEV_MAJOR, VGL_NOTICE_TRIGGER, 0, "Température élevée", "dc1");
	m = vgl_render_email(s, &c);
	ASSERT_CONTAINS(line_of(m, "Subject:"), "Subject: =?UTF-8?B?");
	free(m);
	free(s);
}

TEST(notify_render_exec_env)
{
	char *s = snap(VGL_SEV_WARNING, VGL_NOTICE_TRIGGER, 0);
	char **env = vgl_render_exec_env(s);
	static const char *const want[] = {
		"VIGIL_ALARM_ID=42", "VIGIL_HOST=web-01", "VIGIL_SITE=dc1",
		"VIGIL_RULE=link-down", "VIGIL_KIND=rule", "VIGIL_SEVERITY=warning",
		"VIGIL_STATE=raised", "VIGIL_SUMMARY=Link down on eth0", "VIGIL_EVENT=trigger",
		"VIGIL_STEP=1", "VIGIL_REPEAT=2", "VIGIL_DEDUP_KEY=vigil:42:1:2",
		"VIGIL_RAISED_AT=2026-12-03T00:00:00.000Z", "VIGIL_CLEARED_AT=",
	};
	size_t n = 0, nw = sizeof(want) / sizeof(want[0]);
	char *payload;

	ASSERT(env != NULL);
	while (env[n])
		n++;
	ASSERT_EQ(n, nw + 2);
	for (size_t i = 0; i < nw; i++)
		ASSERT_STREQ(env[i], want[i]);
	ASSERT(asprintf(&payload, "VIGIL_PAYLOAD=%s", s) > 0);
	ASSERT_STREQ(env[nw], payload);
	ASSERT_STREQ(env[nw + 1], "PATH=/usr/bin:/bin");
	free(payload);
	vgl_render_free_env(env);
	free(s);

	s = snap(VGL_SEV_WARNING, VGL_NOTICE_RESOLVE, CLEARED_MS);
	env = vgl_render_exec_env(s);
	ASSERT_STREQ(env[8], "VIGIL_EVENT=resolve");
	ASSERT_STREQ(env[9], "VIGIL_STEP=-1");
	ASSERT_STREQ(env[11], "VIGIL_DEDUP_KEY=vigil:42:resolve");
	ASSERT_STREQ(env[13], "VIGIL_CLEARED_AT=2026-12-03T00:01:30.000Z");
	vgl_render_free_env(env);
	free(s);
	ASSERT(vgl_render_exec_env("42") == NULL);

	/* exec's limits: fields cut, a huge snapshot on stdin only */
	{
		char *big = malloc(200001);
		ASSERT(big != NULL);
		memset(big, 'y', 200000);
		big[200000] = 0;
		s = snap_full(VGL_SEV_INFO, VGL_NOTICE_TRIGGER, 0, big, "dc1");
		free(big);
	}
	ASSERT((env = vgl_render_exec_env(s)) != NULL);
	n = 0;
	while (env[n])
		n++;
	ASSERT_EQ(n, nw + 1);
	ASSERT_EQ(strlen(env[7]), strlen("VIGIL_SUMMARY=") + 4096);
	ASSERT_STREQ(env[nw], "PATH=/usr/bin:/bin");
	vgl_render_free_env(env);
	free(s);
}
