/* The JSON objects of alarms, silences and maintenance (storage/alarm_view.h). */
#include "storage/alarm_view.h"

#include "alarms/alarm_row.h"
#include "core/jput.h"

/* NULL ids as JSON null. */
static int j_id(cJSON *o, const char *k, int64_t v)
{
	if (v)
		return vgl_jput_num(o, k, v);
	return cJSON_AddNullToObject(o, k) ? 0 : -1;
}

/* A stored JSON object as an object; text that does not parse stays a
 * string, so a damaged row still shows what it holds. */
static int j_raw(cJSON *o, const char *k, const char *json)
{
	cJSON *v = json ? cJSON_Parse(json) : NULL;

	if (!v)
		return vgl_jput_str(o, k, json);
	if (!cJSON_AddItemToObject(o, k, v)) {
		cJSON_Delete(v);
		return -1;
	}
	return 0;
}

static cJSON *done(cJSON *o, int failed)
{
	if (failed) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

cJSON *vgl_view_alarm_json(const struct vgl_alarm_db_alarm *a)
{
	cJSON *o = cJSON_CreateObject();

	if (!o)
		return NULL;
	return done(o, vgl_jput_num(o, "id", a->id) || vgl_jput_str(o, "host", a->host) ||
			       vgl_jput_str(o, "site", a->site) ||
			       vgl_jput_str(o, "severity", a->severity) ||
			       vgl_jput_str(o, "state", vgl_alarm_state_name(a->state)) ||
			       vgl_jput_str(o, "kind", a->kind) || vgl_jput_str(o, "rule", a->rule) ||
			       vgl_jput_str(o, "summary", a->summary) ||
			       vgl_jput_time(o, "raised", a->raised_ms, 1) ||
			       vgl_jput_time(o, "acked", a->acked_ms, a->acked) ||
			       vgl_jput_str(o, "acked_by", a->acked_by) ||
			       vgl_jput_time(o, "cleared", a->cleared_ms, a->cleared) ||
			       j_id(o, "suppressed_by", a->suppressed_by) ||
			       vgl_jput_str(o, "muted", a->muted) ||
			       vgl_jput_str(o, "policy", a->policy) || j_raw(o, "labels", a->labels) ||
			       j_raw(o, "details", a->details));
}

cJSON *vgl_view_alarm_log_json(const struct vgl_alarm_db_log *l)
{
	cJSON *o = cJSON_CreateObject();

	if (!o)
		return NULL;
	return done(o, vgl_jput_num(o, "id", l->id) || vgl_jput_time(o, "ts", l->ts_ms, 1) ||
			       vgl_jput_str(o, "action", l->action) || vgl_jput_str(o, "by", l->by) ||
			       vgl_jput_str(o, "text", l->text));
}

cJSON *vgl_view_notice_json(const struct vgl_alarm_db_notice *n)
{
	cJSON *o = cJSON_CreateObject();

	if (!o)
		return NULL;
	return done(o, vgl_jput_num(o, "id", n->id) || vgl_jput_str(o, "channel", n->channel) ||
			       vgl_jput_str(o, "event", n->event) || vgl_jput_num(o, "step", n->step) ||
			       vgl_jput_num(o, "repeat", n->repeat) ||
			       vgl_jput_str(o, "dedup_key", n->dedup_key) ||
			       vgl_jput_num(o, "attempts", n->attempts) ||
			       vgl_jput_time(o, "created", n->created_ms, 1) ||
			       vgl_jput_time(o, "next", n->next_ms, !n->delivered) ||
			       vgl_jput_time(o, "delivered", n->delivered_ms, n->delivered) ||
			       vgl_jput_str(o, "last_error", n->last_error));
}

cJSON *vgl_view_silence_json(const struct vgl_alarm_db_silence *si, int64_t now_ms)
{
	cJSON *o = cJSON_CreateObject();

	if (!o)
		return NULL;
	return done(o, vgl_jput_num(o, "id", si->id) || vgl_jput_str(o, "host", si->host) ||
			       vgl_jput_str(o, "site", si->site) ||
			       vgl_jput_str(o, "label", si->label) ||
			       vgl_jput_time(o, "start", si->start_ms, 1) ||
			       vgl_jput_time(o, "end", si->end_ms, 1) ||
			       vgl_jput_str(o, "status", vgl_alarm_db_silence_status(si, now_ms)) ||
			       vgl_jput_str(o, "reason", si->reason) ||
			       vgl_jput_str(o, "created_by", si->created_by) ||
			       vgl_jput_time(o, "created", si->created_ms, 1) ||
			       vgl_jput_str(o, "removed_by", si->removed_by) ||
			       vgl_jput_time(o, "removed", si->removed_ms, si->removed));
}

const char *vgl_view_maint_kind(int kind)
{
	return kind == VGL_SLA_DB_EMERGENCY ? "emergency" : "planned";
}

cJSON *vgl_view_maint_json(const struct vgl_sla_db_maint *m)
{
	cJSON *o = cJSON_CreateObject();

	if (!o)
		return NULL;
	return done(o, vgl_jput_num(o, "id", m->id) || vgl_jput_str(o, "host", m->host) ||
			       vgl_jput_str(o, "site", m->site) ||
			       vgl_jput_str(o, "kind", vgl_view_maint_kind(m->kind)) ||
			       vgl_jput_time(o, "start", m->start_ms, 1) ||
			       vgl_jput_time(o, "end", m->end_ms, 1) ||
			       vgl_jput_time(o, "announced", m->announced_ms, 1) ||
			       vgl_jput_num(o, "notice_ms", m->start_ms - m->announced_ms) ||
			       vgl_jput_str(o, "note", m->note) ||
			       vgl_jput_str(o, "created_by", m->created_by) ||
			       vgl_jput_time(o, "created", m->created_ms, 1) ||
			       vgl_jput_bool(o, "cancelled", m->cancelled) ||
			       vgl_jput_str(o, "cancelled_by", m->cancelled_by) ||
			       vgl_jput_time(o, "cancelled_at", m->cancelled_ms, m->cancelled) ||
			       vgl_jput_str(o, "cancel_note", m->cancel_note));
}
