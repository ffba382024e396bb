/* The alarm manager's rows for the store and the notifications it owes
 * (alarms/alarm.h "The outbox"): an outbox row is written before
 * anything is sent, sent only once committed, retried with backoff from
 * 1 s doubling to retry_max until delivered. */
#include "alarms/alarm_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "rules/rule_conf.h"

/* ---- rows ------------------------------------------------------------------- */

int vgl__al_emit(struct vgl_alarms *a, enum vgl_store_alarm_op op, int64_t host_id, cJSON *doc)
{
	char *text = doc ? cJSON_PrintUnformatted(doc) : NULL;

	cJSON_Delete(doc);
	if (!text) {
		vgl_err("alarms: out of memory writing an alarm row (host id %lld)",
			(long long)host_id);
		return -ENOMEM;
	}
	if (a->io.store)
		a->io.store(a->io.ctx, op, host_id, text);
	free(text);
	return 0;
}

cJSON *vgl__al_doc_for(const struct alarm *al, int64_t ts, const char *action, const char *text)
{
	cJSON *o = cJSON_CreateObject(), *log = cJSON_CreateObject();

	if (!o || !log || !cJSON_AddNumberToObject(o, "alarm_id", (double)al->id) ||
	    !cJSON_AddItemToObject(o, "log", log)) {
		cJSON_Delete(o);
		if (!o || !cJSON_GetObjectItem(o, "log"))
			cJSON_Delete(log);
		return NULL;
	}
	if (!cJSON_AddNumberToObject(log, "ts_ms", (double)ts) ||
	    !cJSON_AddStringToObject(log, "action", action) ||
	    (text && !cJSON_AddStringToObject(log, "text", text))) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

/* details with a root's affected hosts in them */
char *vgl__al_details_now(const struct alarm *al)
{
	cJSON *d = al->details ? cJSON_Parse(al->details) : cJSON_CreateObject(), *arr;
	char *out;

	if (!d || !cJSON_IsObject(d)) {
		cJSON_Delete(d);
		d = cJSON_CreateObject();
	}
	if (!d)
		return NULL;
	if (al->n_affected) {
		cJSON_DeleteItemFromObject(d, "affected");
		cJSON_DeleteItemFromObject(d, "affected_count");
		arr = cJSON_AddArrayToObject(d, "affected");
		for (size_t i = 0; arr && i < al->n_affected; i++)
			cJSON_AddItemToArray(arr, cJSON_CreateString(al->affected[i]));
		cJSON_AddNumberToObject(d, "affected_count", (double)al->n_affected);
	}
	out = cJSON_PrintUnformatted(d);
	cJSON_Delete(d);
	return out;
}

void vgl__al_write_update(struct vgl_alarms *a, struct alarm *al, int64_t ts, const char *action,
			 const char *text)
{
	cJSON *o = vgl__al_doc_for(al, ts, action, text);
	char *det = vgl__al_details_now(al);
	cJSON *dj = det ? cJSON_Parse(det) : NULL;

	free(det);
	if (!o || !dj || !cJSON_AddItemToObject(o, "details", dj)) {
		cJSON_Delete(dj);
		cJSON_Delete(o);
		vgl_err("alarms: out of memory updating alarm %lld", (long long)al->id);
		return;
	}
	if (al->suppressed_by)
		cJSON_AddNumberToObject(o, "suppressed_by", (double)al->suppressed_by);
	if (al->muted[0])
		cJSON_AddStringToObject(o, "muted", al->muted);
	vgl__al_emit(a, VGL_SA_UPDATE, al->host_id, o);
	vgl__al_changed(a, al, 0);
}

void vgl__al_log_only(struct vgl_alarms *a, struct alarm *al, int64_t ts, const char *action,
		     const char *text)
{
	cJSON *o = vgl__al_doc_for(al, ts, action, text);

	if (o)
		vgl__al_emit(a, VGL_SA_LOG, al->host_id, o);
}

void vgl__al_row_of(const struct vgl_alarms *a, const struct alarm *al, int64_t cleared_ms,
		   const char *details, struct vgl_alarm_row *r)
{
	*r = (struct vgl_alarm_row){
		.id = al->id, .host_id = al->host_id, .host = vgl__al_host_name(a, al),
		.site = vgl__al_host_site(a, al), .rule = al->rule, .kind = al->kind, .severity = al->sev,
		.state = cleared_ms ? VGL_ALARM_CLEARED
			 : al->acked_ms ? VGL_ALARM_ACKED : VGL_ALARM_RAISED,
		.summary = al->summary, .labels_json = al->labels, .details_json = details,
		.policy = al->policy, .raised_ms = al->raised_ms, .acked_ms = al->acked_ms,
		.acked_by = al->acked_by, .cleared_ms = cleared_ms,
		.suppressed_by = al->suppressed_by, .muted = al->muted[0] ? al->muted : NULL,
	};
}

void vgl__al_changed(struct vgl_alarms *a, const struct alarm *al, int64_t cleared_ms)
{
	struct vgl_alarm_row r;
	char *det;

	if (!a->io.changed)
		return;
	/* Without memory for the details the view still hears of the change. */
	det = vgl__al_details_now(al);
	vgl__al_row_of(a, al, cleared_ms, det, &r);
	a->io.changed(a->io.ctx, &r);
	free(det);
}

/* ---- the outbox ----------------------------------------------------------- */

static struct owed *owed_find(struct vgl_alarms *a, int64_t id)
{
	for (size_t i = 0; i < a->n_owed; i++)
		if (a->owed[i].id == id)
			return &a->owed[i];
	return NULL;
}

struct owed *vgl__al_owed_add(struct vgl_alarms *a)
{
	if (a->n_owed == a->cap_owed) {
		size_t cap = a->cap_owed ? a->cap_owed * 2 : 16;
		struct owed *n = realloc(a->owed, cap * sizeof(*n));
		if (!n)
			return NULL;
		a->owed = n;
		a->cap_owed = cap;
	}
	memset(&a->owed[a->n_owed], 0, sizeof(struct owed));
	return &a->owed[a->n_owed++];
}

void vgl__al_owed_remove(struct vgl_alarms *a, struct owed *o)
{
	free(o->channel);
	free(o->payload);
	*o = a->owed[--a->n_owed];
}

/* One notification: the snapshot as it is now, under its dedup key. */
int vgl__al_enqueue(struct vgl_alarms *a, struct alarm *al, const char *channel,
		   enum vgl_notice_event ev, int step, int repeat, int64_t now, int64_t cleared_ms)
{
	char key[96], *det = vgl__al_details_now(al), *payload;
	struct vgl_alarm_row row;
	struct vgl_outbox_row ob;
	struct owed *o;
	cJSON *doc;

	if (vgl_dedup_key(key, sizeof(key), al->id, ev, step, repeat) < 0 || !det) {
		free(det);
		return -ENOMEM;
	}
	vgl__al_row_of(a, al, cleared_ms, det, &row);
	ob = (struct vgl_outbox_row){
		.id = a->next_outbox_id, .alarm_id = al->id, .channel = channel, .event = ev,
		.step = step, .repeat = repeat, .dedup_key = key, .created_ms = now,
		.next_attempt_ms = now,
	};
	payload = vgl_alarm_json(&row, &ob);
	free(det);
	if (!payload || !(o = vgl__al_owed_add(a))) {
		free(payload);
		return -ENOMEM;
	}
	o->id = a->next_outbox_id++;
	o->alarm_id = al->id;
	o->host_id = al->host_id;
	o->next_ms = now;
	o->created_ms = now;
	o->payload = payload;
	if (!(o->channel = strdup(channel))) {
		vgl__al_owed_remove(a, o);
		return -ENOMEM;
	}
	doc = cJSON_CreateObject();
	if (!doc || !cJSON_AddNumberToObject(doc, "id", (double)o->id) ||
	    !cJSON_AddNumberToObject(doc, "alarm_id", (double)al->id) ||
	    !cJSON_AddStringToObject(doc, "channel", channel) ||
	    !cJSON_AddStringToObject(doc, "event", ev == VGL_NOTICE_TRIGGER ? "trigger" : "resolve") ||
	    !cJSON_AddNumberToObject(doc, "step", step) ||
	    !cJSON_AddNumberToObject(doc, "repeat", repeat) ||
	    !cJSON_AddStringToObject(doc, "dedup_key", key) ||
	    !cJSON_AddStringToObject(doc, "payload", payload) ||
	    !cJSON_AddNumberToObject(doc, "created_ms", (double)now) ||
	    !cJSON_AddNumberToObject(doc, "next_ms", (double)now)) {
		cJSON_Delete(doc);
		vgl__al_owed_remove(a, o);
		return -ENOMEM;
	}
	return vgl__al_emit(a, VGL_SA_OUTBOX, al->host_id, doc);
}

void vgl_alarms_committed(struct vgl_alarms *a, int64_t outbox_id)
{
	struct owed *o = owed_find(a, outbox_id);

	if (o)
		o->committed = 1;
}

static void write_try(struct vgl_alarms *a, const struct owed *o, int64_t delivered_ms,
		      const char *error)
{
	cJSON *doc = cJSON_CreateObject();

	if (!doc || !cJSON_AddNumberToObject(doc, "id", (double)o->id) ||
	    !cJSON_AddNumberToObject(doc, "attempts", (double)o->attempts) ||
	    !(delivered_ms ? cJSON_AddNumberToObject(doc, "delivered_ms", (double)delivered_ms)
			   : cJSON_AddNullToObject(doc, "delivered_ms")) ||
	    !(error ? cJSON_AddStringToObject(doc, "last_error", error)
		    : cJSON_AddNullToObject(doc, "last_error")) ||
	    !cJSON_AddNumberToObject(doc, "next_ms", (double)o->next_ms)) {
		cJSON_Delete(doc);
		return;
	}
	vgl__al_emit(a, VGL_SA_OUTBOX_TRY, o->host_id, doc);
}

void vgl_alarms_delivered(struct vgl_alarms *a, int64_t outbox_id, int ok, const char *error,
			  int64_t now_ms)
{
	struct owed *o = owed_find(a, outbox_id);
	int64_t backoff = RETRY_FIRST_MS;

	if (!o)
		return;
	o->in_flight = 0;
	o->attempts++;
	if (ok) {
		a->delivered++;
		vgl_info("alarm %lld: notification %lld delivered to %s (attempt %lld)",
			 (long long)o->alarm_id, (long long)o->id, o->channel,
			 (long long)o->attempts);
		write_try(a, o, now_ms, NULL);
		vgl__al_owed_remove(a, o);
		return;
	}
	a->failed++;
	for (int64_t i = 1; i < o->attempts && backoff < (int64_t)a->ac->retry_max_ms; i++)
		backoff *= 2;
	if (backoff > (int64_t)a->ac->retry_max_ms)
		backoff = a->ac->retry_max_ms;
	o->next_ms = now_ms + backoff;
	vgl_warn("alarm %lld: notification %lld to %s failed (attempt %lld: %s); retrying in "
		 "%lld ms", (long long)o->alarm_id, (long long)o->id, o->channel,
		 (long long)o->attempts, error ? error : "?", (long long)backoff);
	write_try(a, o, 0, error ? error : "failed");
}

void vgl__al_send_due(struct vgl_alarms *a, int64_t now)
{
	for (size_t i = 0; i < a->n_owed; i++) {
		struct owed *o = &a->owed[i];

		if (!o->committed || o->in_flight || o->next_ms > now)
			continue;
		o->in_flight = 1;
		/* a failure keeps the row (only a delivery removes one) */
		if (!a->io.send || a->io.send(a->io.ctx, o->id, o->channel, o->payload) != 0)
			vgl_alarms_delivered(a, o->id, 0, "the channel is not configured", now);
	}
}
