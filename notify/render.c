/* The payload formats (notify/render.h, docs/alarms.md "Payloads"). */
#include "notify/render.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "core/jput.h"
#include "core/vtime.h"

/* ---- reading the snapshot ------------------------------------------------------ */

static cJSON *parse_snapshot(const char *snapshot)
{
	cJSON *o = snapshot ? cJSON_Parse(snapshot) : NULL;

	if (o && !cJSON_IsObject(o)) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

/* A string field; NULL when absent, null or not a string. */
static const char *sget(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	return cJSON_IsString(v) && v->valuestring ? v->valuestring : NULL;
}

static const char *sget_or(const cJSON *o, const char *k, const char *dflt)
{
	const char *s = sget(o, k);

	return s ? s : dflt;
}

/* The snapshot names its times "raised"/"acked"/"cleared"; "*_at" is
 * taken too so either spelling of the row renders. */
static const char *tget(const cJSON *o, const char *k)
{
	char at[32];
	const char *s;

	snprintf(at, sizeof(at), "%s_at", k);
	s = sget(o, at);
	return s ? s : sget(o, k);
}

/* A number or string field as text ("" when absent or null). */
static const char *nget(const cJSON *o, const char *k, char *buf, size_t len)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	buf[0] = 0;
	if (cJSON_IsNumber(v))
		snprintf(buf, len, "%" PRId64, (int64_t)v->valuedouble);
	else if (cJSON_IsString(v) && v->valuestring)
		snprintf(buf, len, "%s", v->valuestring);
	return buf;
}

static int is_resolve(const cJSON *o)
{
	const char *e = sget(o, "event");

	return e && strcmp(e, "resolve") == 0;
}

const char *vgl_render_pd_severity(const char *s)
{
	if (!s)
		return "error";
	if (strcmp(s, "critical") == 0)
		return "critical";
	if (strcmp(s, "major") == 0)
		return "error";
	if (strcmp(s, "minor") == 0 || strcmp(s, "warning") == 0)
		return "warning";
	if (strcmp(s, "info") == 0)
		return "info";
	/* an unknown severity is still worth someone's look */
	return "error";
}

char *vgl_render_dedup_key(const char *snapshot)
{
	cJSON *o = parse_snapshot(snapshot);
	char *k;

	if (!o)
		return NULL;
	k = strdup(sget_or(o, "dedup_key", ""));
	cJSON_Delete(o);
	return k;
}

/* At most max bytes of s, cut on a UTF-8 character boundary. */
static char *utf8_cut(const char *s, size_t max)
{
	size_t n = strlen(s);
	char *d;

	if (n > max) {
		n = max;
		while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;
	}
	if (!(d = malloc(n + 1)))
		return NULL;
	memcpy(d, s, n);
	d[n] = 0;
	return d;
}

/* ---- PagerDuty Events v2 ---------------------------------------------------------- */

/* PagerDuty refuses a summary longer than 1024 characters. */
#define PD_SUMMARY_MAX 1024

char *vgl_render_pagerduty(const char *snapshot, const char *routing_key)
{
	cJSON *o = parse_snapshot(snapshot), *r = NULL, *p = NULL, *cd = NULL;
	char id[32], dk[48], *summary = NULL, *out = NULL;
	const char *host, *site;
	int bad;

	if (!o)
		return NULL;
	nget(o, "id", id, sizeof(id));
	snprintf(dk, sizeof(dk), "vigil:%s", id);
	host = sget(o, "host");
	site = sget(o, "site");
	summary = utf8_cut(sget_or(o, "summary", sget_or(o, "rule", "vigil alarm")), PD_SUMMARY_MAX);
	r = cJSON_CreateObject();
	p = cJSON_CreateObject();
	cd = cJSON_Duplicate(o, 1);
	bad = !summary || !r || !p || !cd;
	if (!bad) {
		bad |= vgl_jput_str(r, "routing_key", routing_key ? routing_key : "");
		bad |= vgl_jput_str(r, "event_action", is_resolve(o) ? "resolve" : "trigger");
		bad |= vgl_jput_str(r, "dedup_key", dk);
		bad |= vgl_jput_str(r, "client", "vigil");
		bad |= vgl_jput_str(p, "summary", summary);
		bad |= vgl_jput_str(p, "source", host && *host ? host : "vigil");
		bad |= vgl_jput_str(p, "severity", vgl_render_pd_severity(sget(o, "severity")));
		if (tget(o, "raised"))
			bad |= vgl_jput_str(p, "timestamp", tget(o, "raised"));
		if (sget(o, "rule"))
			bad |= vgl_jput_str(p, "component", sget(o, "rule"));
		if (site)
			bad |= vgl_jput_str(p, "group", site);
		if (sget(o, "kind"))
			bad |= vgl_jput_str(p, "class", sget(o, "kind"));
		bad |= !cJSON_AddItemToObject(p, "custom_details", cd);
		cd = NULL;
		bad |= !cJSON_AddItemToObject(r, "payload", p);
		p = NULL;
	}
	if (!bad)
		out = cJSON_PrintUnformatted(r);
	cJSON_Delete(cd);
	cJSON_Delete(p);
	cJSON_Delete(r);
	cJSON_Delete(o);
	free(summary);
	return out;
}

/* ---- Alertmanager ------------------------------------------------------------------- */

/* Alertmanager refuses the whole post for one label name outside
 * [a-zA-Z_][a-zA-Z0-9_]*: others' characters become '_'. */
static void label_name(const char *in, char *out, size_t len)
{
	size_t i = 0;

	for (; in[i] && i + 1 < len; i++) {
		char c = in[i];
		int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
			 (i > 0 && c >= '0' && c <= '9');
		out[i] = ok ? c : '_';
	}
	out[i] = 0;
}

static int set_label(cJSON *labels, const char *name, const char *value)
{
	cJSON_DeleteItemFromObjectCaseSensitive(labels, name);
	/* an empty value means no label to Alertmanager */
	if (!value || !*value)
		return 0;
	return vgl_jput_str(labels, name, value);
}

char *vgl_render_alertmanager(const char *snapshot)
{
	cJSON *o = parse_snapshot(snapshot), *arr = NULL, *a = NULL, *labels = NULL, *ann = NULL;
	const cJSON *al, *it;
	char id[32], now[VGL_ISO_LEN], *out = NULL;
	int bad;

	if (!o)
		return NULL;
	nget(o, "id", id, sizeof(id));
	arr = cJSON_CreateArray();
	a = cJSON_CreateObject();
	labels = cJSON_CreateObject();
	ann = cJSON_CreateObject();
	bad = !arr || !a || !labels || !ann;
	/* the alarm's own labels first: ours say which alarm it is and win */
	al = cJSON_GetObjectItemCaseSensitive(o, "labels");
	if (!cJSON_IsObject(al))
		al = NULL;
	cJSON_ArrayForEach(it, al)
	{
		char name[128], num[32];
		const char *v = NULL;

		if (bad || !it->string)
			break;
		label_name(it->string, name, sizeof(name));
		if (cJSON_IsString(it))
			v = it->valuestring;
		else if (cJSON_IsNumber(it))
			v = nget(al, it->string, num, sizeof(num));
		else if (cJSON_IsBool(it))
			v = cJSON_IsTrue(it) ? "true" : "false";
		if (v && *name)
			bad |= set_label(labels, name, v);
	}
	if (!bad) {
		bad |= set_label(labels, "alertname", sget_or(o, "rule", "vigil"));
		bad |= set_label(labels, "host", sget(o, "host"));
		bad |= set_label(labels, "site", sget(o, "site"));
		bad |= set_label(labels, "severity", sget(o, "severity"));
		bad |= set_label(labels, "vigil_alarm", id);
		bad |= vgl_jput_str(ann, "summary", sget_or(o, "summary", ""));
		bad |= vgl_jput_str(ann, "dedup_key", sget_or(o, "dedup_key", ""));
		if (tget(o, "raised"))
			bad |= vgl_jput_str(a, "startsAt", tget(o, "raised"));
		if (is_resolve(o))
			bad |= vgl_jput_str(a, "endsAt", tget(o, "cleared") ? tget(o, "cleared")
					    : vgl_format_iso(vgl_now_ms(), now));
		bad |= !cJSON_AddItemToObject(a, "labels", labels);
		labels = NULL;
		bad |= !cJSON_AddItemToObject(a, "annotations", ann);
		ann = NULL;
		bad |= !cJSON_AddItemToArray(arr, a);
		a = NULL;
	}
	if (!bad)
		out = cJSON_PrintUnformatted(arr);
	cJSON_Delete(labels);
	cJSON_Delete(ann);
	cJSON_Delete(a);
	cJSON_Delete(arr);
	cJSON_Delete(o);
	return out;
}

/* ---- email ---------------------------------------------------------------------------- */

/* A header or one-line value: control characters (a CR/LF would start a
 * header of the sender's choosing, say Bcc:) become spaces. */
static void put_clean(FILE *f, const char *s)
{
	for (; s && *s; s++)
		fputc((unsigned char)*s < 0x20 || *s == 0x7f ? ' ' : *s, f);
}

static int is_ascii(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s >= 0x80)
			return 0;
	return 1;
}

static void put_b64(FILE *f, const unsigned char *p, size_t n)
{
	static const char t[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

	for (size_t i = 0; i < n; i += 3) {
		unsigned v = (unsigned)p[i] << 16 | (i + 1 < n ? (unsigned)p[i + 1] << 8 : 0) |
			     (i + 2 < n ? p[i + 2] : 0);
		fputc(t[v >> 18 & 63], f);
		fputc(t[v >> 12 & 63], f);
		fputc(i + 1 < n ? t[v >> 6 & 63] : '=', f);
		fputc(i + 2 < n ? t[v & 63] : '=', f);
	}
}

/* RFC 2047 encoded words of at most 75 characters, whole UTF-8
 * characters in each, folded onto continuation lines. */
static void put_subject(FILE *f, const char *subj)
{
	size_t n = strlen(subj), i = 0;

	if (is_ascii(subj)) {
		fputs(subj, f);
		return;
	}
	while (i < n) {
		size_t k = n - i > 45 ? 45 : n - i;
		while (i + k < n && k > 1 && ((unsigned char)subj[i + k] & 0xc0) == 0x80)
			k--;
		fputs(i ? "\n =?UTF-8?B?" : "=?UTF-8?B?", f);
		put_b64(f, (const unsigned char *)subj + i, k);
		fputs("?=", f);
		i += k;
	}
}

static void put_date(FILE *f, time_t t)
{
	static const char *const wd[] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
	static const char *const mo[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
					  "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	struct tm tm;

	/* by hand: strftime's names follow the locale, RFC 5322's do not */
	if (!gmtime_r(&t, &tm))
		memset(&tm, 0, sizeof(tm));
	fprintf(f, "%s, %02d %s %04d %02d:%02d:%02d +0000", wd[tm.tm_wday % 7], tm.tm_mday,
		mo[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

static void upper(char *dst, const char *s, size_t len)
{
	size_t i = 0;

	for (; s && s[i] && i + 1 < len; i++)
		dst[i] = s[i] >= 'a' && s[i] <= 'z' ? (char)(s[i] - 'a' + 'A') : s[i];
	dst[i] = 0;
}

static void body_line(FILE *f, const char *label, const char *v)
{
	if (!v || !*v)
		return;
	fprintf(f, "%-11s", label);
	put_clean(f, v);
	fputc('\n', f);
}

char *vgl_render_email(const char *snapshot, const struct vgl_channel_conf *c)
{
	cJSON *o = parse_snapshot(snapshot);
	const char *host, *rule, *summary;
	char sev[32], id[32], num[32], *subj = NULL, *pretty = NULL, *buf = NULL;
	const cJSON *labels, *it;
	size_t len = 0, slen;
	int resolve, bad = 0;
	FILE *f;

	if (!o)
		return NULL;
	resolve = is_resolve(o);
	host = sget_or(o, "host", "?");
	rule = sget_or(o, "rule", "?");
	summary = sget_or(o, "summary", "");
	upper(sev, resolve ? "resolved" : sget_or(o, "severity", "alarm"), sizeof(sev));
	nget(o, "id", id, sizeof(id));
	slen = strlen(sev) + strlen(host) + strlen(rule) + strlen(summary) + 32;
	if (!(subj = malloc(slen)) || !(pretty = cJSON_Print(o)) ||
	    !(f = open_memstream(&buf, &len))) {
		free(subj);
		free(pretty);
		cJSON_Delete(o);
		return NULL;
	}
	snprintf(subj, slen, "[vigil] %s %s %s: %s", sev, host, rule, summary);
	for (char *s = subj; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = ' ';

	fputs("From: ", f);
	put_clean(f, c && c->from ? c->from : "vigil");
	fputs("\nTo: ", f);
	for (size_t i = 0; c && i < c->n_to; i++) {
		fputs(i ? ", " : "", f);
		put_clean(f, c->to[i]);
	}
	fputs("\nSubject: ", f);
	put_subject(f, subj);
	fputs("\nDate: ", f);
	put_date(f, time(NULL));
	fputs("\nX-Vigil-Dedup-Key: ", f);
	put_clean(f, sget_or(o, "dedup_key", ""));
	fputs("\nX-Vigil-Alarm: ", f);
	put_clean(f, id);
	fputs("\nMIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n"
	      "Content-Transfer-Encoding: 8bit\nAuto-Submitted: auto-generated\n\n", f);

	fprintf(f, "vigil alarm %s: %s\n\n", id, resolve ? "RESOLVED" : "TRIGGERED");
	body_line(f, "Host:", host);
	body_line(f, "Site:", sget(o, "site"));
	body_line(f, "Rule:", rule);
	body_line(f, "Kind:", sget(o, "kind"));
	body_line(f, "Severity:", sget(o, "severity"));
	body_line(f, "State:", sget(o, "state"));
	body_line(f, "Summary:", summary);
	body_line(f, "Raised:", tget(o, "raised"));
	body_line(f, "Acked:", tget(o, "acked"));
	body_line(f, "Acked by:", sget(o, "acked_by"));
	body_line(f, "Cleared:", tget(o, "cleared"));
	body_line(f, "Event:", sget(o, "event"));
	body_line(f, "Step:", nget(o, "step", num, sizeof(num)));
	body_line(f, "Repeat:", nget(o, "repeat", num, sizeof(num)));
	labels = cJSON_GetObjectItemCaseSensitive(o, "labels");
	if (cJSON_IsObject(labels) && labels->child) {
		fprintf(f, "%-11s", "Labels:");
		cJSON_ArrayForEach(it, labels)
		{
			fputs(it != labels->child ? ", " : "", f);
			put_clean(f, it->string);
			fputc('=', f);
			if (cJSON_IsString(it))
				put_clean(f, it->valuestring);
			else
				put_clean(f, nget(labels, it->string, num, sizeof(num)));
		}
		fputc('\n', f);
	}
	body_line(f, "Dedup key:", sget(o, "dedup_key"));
	fputs("\nThe alarm snapshot (JSON):\n", f);
	fputs(pretty, f);
	fputc('\n', f);
	bad |= ferror(f);
	bad |= fclose(f) != 0;
	free(subj);
	free(pretty);
	cJSON_Delete(o);
	if (bad) {
		free(buf);
		return NULL;
	}
	return buf;
}

/* ---- exec environment ------------------------------------------------------------------ */

/* Linux caps one argument or environment string at 128 KiB
 * (MAX_ARG_STRLEN), and all of them together at a quarter of the stack
 * limit: well under both. */
#define ENV_VALUE_MAX 4096
#define ENV_PAYLOAD_MAX (64 * 1024)

void vgl_render_free_env(char **env)
{
	for (size_t i = 0; env && env[i]; i++)
		free(env[i]);
	free(env);
}

char **vgl_render_exec_env(const char *snapshot)
{
	static const struct {
		const char *var, *key;
		int num;
	} map[] = {
		{ "VIGIL_ALARM_ID", "id", 1 },   { "VIGIL_HOST", "host", 0 },
		{ "VIGIL_SITE", "site", 0 },     { "VIGIL_RULE", "rule", 0 },
		{ "VIGIL_KIND", "kind", 0 },     { "VIGIL_SEVERITY", "severity", 0 },
		{ "VIGIL_STATE", "state", 0 },   { "VIGIL_SUMMARY", "summary", 0 },
		{ "VIGIL_EVENT", "event", 0 },   { "VIGIL_STEP", "step", 1 },
		{ "VIGIL_REPEAT", "repeat", 1 }, { "VIGIL_DEDUP_KEY", "dedup_key", 0 },
		{ "VIGIL_RAISED_AT", "raised", 2 }, { "VIGIL_CLEARED_AT", "cleared", 2 },
	};
	enum { N = sizeof(map) / sizeof(map[0]) };
	cJSON *o = parse_snapshot(snapshot);
	char **env;
	size_t k = 0;
	int bad = 0;

	if (!o)
		return NULL;
	/* the variables, VIGIL_PAYLOAD, PATH and the NULL */
	if (!(env = calloc(N + 3, sizeof(*env)))) {
		cJSON_Delete(o);
		return NULL;
	}
	for (size_t i = 0; i < N && !bad; i++) {
		char num[32], *cut;
		const char *v = map[i].num == 1 ? nget(o, map[i].key, num, sizeof(num))
				: map[i].num == 2 ? tget(o, map[i].key)
						  : sget(o, map[i].key);
		if (!(cut = utf8_cut(v ? v : "", ENV_VALUE_MAX))) {
			bad = 1;
			break;
		}
		bad |= asprintf(&env[k], "%s=%s", map[i].var, cut) < 0;
		free(cut);
		if (bad)
			env[k] = NULL;
		else
			k++;
	}
	/* past the kernel's limit on one string the spawn would fail with
	 * E2BIG: a snapshot that large is on stdin only */
	if (!bad && strlen(snapshot) <= ENV_PAYLOAD_MAX) {
		if (asprintf(&env[k], "VIGIL_PAYLOAD=%s", snapshot) < 0) {
			env[k] = NULL;
			bad = 1;
		} else {
			k++;
		}
	}
	if (!bad && !(env[k] = strdup("PATH=/usr/bin:/bin")))
		bad = 1;
	cJSON_Delete(o);
	if (bad) {
		vgl_render_free_env(env);
		return NULL;
	}
	return env;
}
