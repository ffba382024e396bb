/* Names, dedup keys and the snapshot JSON of alarms (alarms/alarm_row.h). */
#include "alarms/alarm_row.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "core/jput.h"

static const char *const sev_names[VGL_SEV_COUNT] = {
	"critical", "major", "minor", "warning", "info",
};
static const char *const state_names[] = { "raised", "acknowledged", "cleared" };
static const char *const kind_names[VGL_AK_COUNT] = { "rule", "avail", "flapping", "sla" };

static int find(const char *const *names, int n, const char *s)
{
	for (int i = 0; s && i < n; i++)
		if (strcmp(names[i], s) == 0)
			return i;
	return -1;
}

const char *vgl_severity_name(enum vgl_severity s)
{
	return (unsigned)s < VGL_SEV_COUNT ? sev_names[s] : NULL;
}

int vgl_severity_parse(const char *s, enum vgl_severity *out)
{
	int i = find(sev_names, VGL_SEV_COUNT, s);

	if (i < 0)
		return -1;
	*out = (enum vgl_severity)i;
	return 0;
}

const char *vgl_alarm_state_name(enum vgl_alarm_state s)
{
	return (unsigned)s <= VGL_ALARM_CLEARED ? state_names[s] : NULL;
}

int vgl_alarm_state_parse(const char *s, enum vgl_alarm_state *out)
{
	int i = find(state_names, 3, s);

	if (i < 0)
		return -1;
	*out = (enum vgl_alarm_state)i;
	return 0;
}

const char *vgl_alarm_kind_name(enum vgl_alarm_kind k)
{
	return (unsigned)k < VGL_AK_COUNT ? kind_names[k] : NULL;
}

int vgl_alarm_kind_parse(const char *s, enum vgl_alarm_kind *out)
{
	int i = find(kind_names, VGL_AK_COUNT, s);

	if (i < 0)
		return -1;
	*out = (enum vgl_alarm_kind)i;
	return 0;
}

int vgl_dedup_key(char *buf, size_t len, int64_t alarm_id, enum vgl_notice_event ev, int step,
		  int repeat)
{
	int n = ev == VGL_NOTICE_RESOLVE
			? snprintf(buf, len, "vigil:%" PRId64 ":resolve", alarm_id)
			: snprintf(buf, len, "vigil:%" PRId64 ":%d:%d", alarm_id, step, repeat);

	return n < 0 || (size_t)n >= len ? -1 : n;
}

/* A JSON object from text (NULL text: {}); NULL when it is not one. */
static cJSON *object_of(const char *text)
{
	cJSON *o = text ? cJSON_Parse(text) : cJSON_CreateObject();

	if (o && !cJSON_IsObject(o)) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

char *vgl_alarm_json(const struct vgl_alarm_row *a, const struct vgl_outbox_row *n)
{
	cJSON *o = cJSON_CreateObject(), *labels = object_of(a->labels_json),
	      *details = object_of(a->details_json);
	char *out = NULL;
	int bad = !o || !labels || !details;

	if (!bad) {
		bad |= vgl_jput_num(o, "id", a->id);
		bad |= vgl_jput_str(o, "host", a->host);
		bad |= vgl_jput_str(o, "site", a->site);
		bad |= vgl_jput_str(o, "rule", a->rule);
		bad |= vgl_jput_str(o, "kind", vgl_alarm_kind_name(a->kind));
		bad |= vgl_jput_str(o, "severity", vgl_severity_name(a->severity));
		bad |= vgl_jput_str(o, "state", vgl_alarm_state_name(a->state));
		bad |= vgl_jput_str(o, "summary", a->summary);
		bad |= !cJSON_AddItemToObject(o, "labels", labels);
		labels = NULL;
		bad |= !cJSON_AddItemToObject(o, "details", details);
		details = NULL;
		bad |= vgl_jput_str(o, "policy", a->policy);
		bad |= vgl_jput_time(o, "raised", a->raised_ms, 1);
		bad |= vgl_jput_time(o, "acked", a->acked_ms, a->acked_ms != 0);
		bad |= vgl_jput_str(o, "acked_by", a->acked_by);
		bad |= vgl_jput_time(o, "cleared", a->cleared_ms, a->cleared_ms != 0);
		bad |= a->suppressed_by ? vgl_jput_num(o, "suppressed_by", a->suppressed_by)
					: vgl_jput_str(o, "suppressed_by", NULL);
		bad |= vgl_jput_str(o, "muted", a->muted);
	}
	if (!bad && n) {
		bad |= vgl_jput_str(o, "event", n->event == VGL_NOTICE_RESOLVE ? "resolve" : "trigger");
		bad |= vgl_jput_num(o, "step", n->step);
		bad |= vgl_jput_num(o, "repeat", n->repeat);
		bad |= vgl_jput_str(o, "dedup_key", n->dedup_key);
	}
	if (!bad)
		out = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	cJSON_Delete(labels);
	cJSON_Delete(details);
	return out;
}
