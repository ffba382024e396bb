/* The alarm manager's time: dependency waits ending, escalation steps
 * and their repeats, flapping alarms expiring, and the tick that also
 * sends what is owed (alarms/alarm.h). */
#include "alarms/alarm_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "rules/rule_conf.h"

/* ---- escalation ------------------------------------------------------------- */

static void fire_step(struct vgl_alarms *a, struct alarm *al, size_t s, int64_t now)
{
	const struct vgl_esc_step *st = &al->pol->steps[s];
	int repeat = al->fired[s];
	char text[200];

	if (al->released) {
		al->released = 0;
		vgl__al_write_update(a, al, now, "unsuppressed", "it pages on its own");
	}

	for (size_t i = 0; i < st->n_notify; i++) {
		if (vgl__al_enqueue(a, al, st->notify[i], VGL_NOTICE_TRIGGER, (int)s, repeat, now, 0) != 0 ||
		    vgl__al_add_str(&al->notified, &al->n_notified, st->notify[i]) != 0)
			vgl_err("alarm %lld: out of memory queueing step %zu to %s",
				(long long)al->id, s, st->notify[i]);
	}
	al->fired[s]++;
	al->last[s] = now;
	snprintf(text, sizeof(text), "policy %s step %zu%s", al->policy ? al->policy : "?", s,
		 repeat ? " (repeat)" : "");
	vgl__al_log_only(a, al, now, "escalated", text);
}

static void escalate(struct vgl_alarms *a, struct alarm *al, int64_t now)
{
	char m[48];

	if (now < al->notify_at)
		return;
	if (!al->suppressed_by) {
		struct alarm *root = vgl__al_root_for(a, al);

		if (root) {
			vgl__al_suppress(a, al, root, now);
			return;
		}
	}
	if (al->suppressed_by)
		return;
	vgl__al_muted_now(a, al, now, m, sizeof(m));
	if (strcmp(m, al->muted) != 0) {
		snprintf(al->muted, sizeof(al->muted), "%s", m);
		vgl__al_write_update(a, al, now, m[0] ? "muted" : "unmuted", m[0] ? m : NULL);
	}
	if (al->muted[0] || !al->pol)
		return;
	for (size_t s = 0; s < al->pol->n_steps && s < MAX_STEPS; s++) {
		const struct vgl_esc_step *st = &al->pol->steps[s];

		if (!st->until_clear && al->acked_ms)
			continue;
		if (!al->fired[s]) {
			if (now >= al->raised_ms + (int64_t)st->after_ms)
				fire_step(a, al, s, now);
		} else if (st->repeat_ms && now >= al->last[s] + (int64_t)st->repeat_ms) {
			fire_step(a, al, s, now);
		}
	}
}

static void flaps_expire(struct vgl_alarms *a, int64_t now)
{
	for (size_t i = 0; i < a->flaps.cap; i++) {
		struct flap *f;

		if (!a->flaps.keys[i] || a->flaps.keys[i] == (char *)1)
			continue;
		f = a->flaps.vals[i];
		if (f->n && f->t[f->n - 1] > now - (int64_t)a->ac->flap_window_ms)
			continue;
		if (f->flapping_id) {
			struct alarm *fl = vgl__al_by_id(a, f->flapping_id);

			/* what is still raised stands on its own again and
			 * escalates as any alarm */
			for (size_t k = 0; fl && k < a->n_act; k++)
				if (a->act[k]->suppressed_by == fl->id) {
					a->act[k]->suppressed_by = 0;
					a->act[k]->released = 1;
					vgl__al_log_only(a, a->act[k], now, "released",
						 "its rule stopped flapping");
				}
			if (fl)
				vgl__al_finish(a, fl, now, "quiet for a whole flap window");
		}
		free(f->t);
		free(f->rule);
		free(f);
		free(a->flaps.keys[i]);
		a->flaps.keys[i] = (char *)1;
		a->flaps.vals[i] = NULL;
	}
}

void vgl_alarms_each_paged(struct vgl_alarms *a, vgl_alarms_paged_fn *fn, void *ctx)
{
	for (size_t i = 0; i < a->n_act; i++) {
		struct alarm *al = a->act[i];
		struct vgl_alarm_row row;
		struct vgl_outbox_row ob;
		char key[96], *det, *snap;

		if (!al->n_notified || al->suppressed_by || al->muted[0])
			continue;
		if (vgl_dedup_key(key, sizeof(key), al->id, VGL_NOTICE_TRIGGER, 0, 0) < 0 ||
		    !(det = vgl__al_details_now(al)))
			continue;
		vgl__al_row_of(a, al, 0, det, &row);
		for (size_t c = 0; c < al->n_notified; c++) {
			ob = (struct vgl_outbox_row){ .alarm_id = al->id, .channel = al->notified[c],
						      .event = VGL_NOTICE_TRIGGER, .dedup_key = key };
			if ((snap = vgl_alarm_json(&row, &ob)))
				fn(ctx, al->notified[c], snap);
			free(snap);
		}
		free(det);
	}
}

void vgl_alarms_abandon_in_flight(struct vgl_alarms *a)
{
	for (size_t i = 0; i < a->n_owed; i++)
		a->owed[i].in_flight = 0;
}

void vgl_alarms_tick(struct vgl_alarms *a, int64_t now_ms)
{
	for (size_t i = 0; i < a->n_act; i++)
		escalate(a, a->act[i], now_ms);
	flaps_expire(a, now_ms);
	vgl__al_send_due(a, now_ms);
}
