/* The alarm manager: every alarm of the daemon from raise to clear, its
 * escalation, and the notifications it owes (docs/alarms.md). No libuv,
 * no clock and no I/O of its own: time comes in with each call, rows go
 * out through io->store (the daemon's vgl_store_alarm), and a delivery
 * attempt through io->send, whose result comes back via
 * vgl_alarms_delivered. Loop thread only.
 *
 * Lifecycle of an alarm (one per host, kind and rule at a time):
 *
 *   raise --> waiting (dependency_wait: may a parent explain it?)
 *               | a parent (uplink, feed, depends_on) has an availability
 *               | alarm: suppressed_by that alarm (the root), which lists
 *               | this host among its affected; nobody is paged for it
 *               | a silence or a maintenance window covers it: muted
 *               v
 *             escalating: each step of its policy at raised + after_s,
 *             repeated every repeat_s, until acknowledged (or cleared)
 *               |
 *   clear  --> a resolve to every channel a trigger went to
 *
 * A (host, kind, rule) with more than flap_changes state changes (raises
 * and clears) within flap_window raises one flapping alarm, which pages
 * instead; its raises meanwhile are recorded, suppressed by it. The
 * flapping alarm clears once the rule has been quiet for a whole window,
 * and what it stood for that is still raised escalates on its own. So
 * does what a parent's alarm stood for when the parent's clears, after a
 * dependency wait of its own.
 *
 * The outbox: every notification is first a row written through
 * io->store (VGL_SA_OUTBOX); it is sent only after the daemon reports it
 * committed (vgl_alarms_committed), then retried with backoff from 1 s
 * doubling to retry_max until a channel takes it. Rows restored at start
 * (vgl_alarms_restore_owed) are committed already.
 *
 * Bounds: memory is proportional to the active alarms, the owed
 * notifications and the (host, kind, rule) keys that changed within the
 * last flap window (flap_changes + 1 times each).
 */
#ifndef VGL_ALARM_H
#define VGL_ALARM_H

#include <stddef.h>
#include <stdint.h>

#include "alarms/alarm_row.h"
#include "conf/conf.h"
#include "storage/store.h"

struct vgl_alarms;
struct vgl_conf_alarm_spec;

struct vgl_alarm_io {
	void (*store)(void *ctx, enum vgl_store_alarm_op op, int64_t host_id, const char *doc);
	/* 0 when the attempt started, else it counts as failed at once */
	int (*send)(void *ctx, int64_t outbox_id, const char *channel, const char *payload);
	/* May be NULL. An alarm as it is now, after each raise, update,
	 * acknowledgement and clear (the row's strings live until it
	 * returns): what a live view (the dashboard's event stream) shows. */
	void (*changed)(void *ctx, const struct vgl_alarm_row *row);
	void *ctx;
};

/* c and db_ids (parallel to c->hosts) must outlive it or be replaced by
 * vgl_alarms_rebind. Ids continue after the largest the database holds. */
int vgl_alarms_new(const struct vgl_conf *c, const int64_t *db_ids,
		   const struct vgl_store_alarm_state *st, const struct vgl_alarm_io *io,
		   struct vgl_alarms **out);
void vgl_alarms_free(struct vgl_alarms *a);
/* A reload: hosts found again by database id; the alarms of hosts no
 * longer configured are cleared at now_ms (nothing watches them any
 * more). Policies are chosen again by name. 0 or -ENOMEM. */
int vgl_alarms_rebind(struct vgl_alarms *a, const struct vgl_conf *c, const int64_t *db_ids,
		      int64_t now_ms);

/* Restart: an alarm the database holds active, and a notification still
 * owed. 0, or -ENOMEM. An alarm of a host no longer configured is
 * cleared at now_ms. */
int vgl_alarms_restore(struct vgl_alarms *a, const struct vgl_store_active_alarm *row,
		       int64_t now_ms);
int vgl_alarms_restore_owed(struct vgl_alarms *a, const struct vgl_store_owed *o);

struct vgl_alarm_raise {
	uint32_t host;                  /* index into c->hosts */
	enum vgl_alarm_kind kind;
	const char *rule;
	const struct vgl_conf_alarm_spec *spec;
	const char *summary;            /* filled template; NULL: "<rule> on <host>" */
	const char *details_json;       /* an object, NULL = {} */
	int64_t ts_ms;
};
/* The alarm's id; 0 when one is active for (host, kind, rule) already;
 * -ENOMEM. */
int64_t vgl_alarms_raise(struct vgl_alarms *a, const struct vgl_alarm_raise *r);
/* 1 when an active alarm was cleared, 0 when none was. rule NULL: any
 * rule of that kind (a host's availability alarm). */
int vgl_alarms_clear(struct vgl_alarms *a, uint32_t host, enum vgl_alarm_kind kind,
		     const char *rule, int64_t ts_ms);
/* The same, by the host's database id (a reload clearing the alarms of
 * rules it removed, before the manager is rebound). */
int vgl_alarms_clear_key(struct vgl_alarms *a, int64_t host_id, enum vgl_alarm_kind kind,
			 const char *rule, int64_t ts_ms);
int vgl_alarms_is_active(const struct vgl_alarms *a, uint32_t host, enum vgl_alarm_kind kind,
			 const char *rule);

/* What operators changed (vgl_store_read_control, read off the loop):
 * acknowledgements, and the whole set of silences and of maintenance
 * windows in force or to come, between begin and end. */
void vgl_alarms_acked(struct vgl_alarms *a, int64_t id, int64_t ts_ms, const char *by);
void vgl_alarms_control_begin(struct vgl_alarms *a);
int vgl_alarms_silence(struct vgl_alarms *a, const struct vgl_store_silence *s);
int vgl_alarms_window(struct vgl_alarms *a, const struct vgl_store_window *w);
void vgl_alarms_control_end(struct vgl_alarms *a);

/* The outbox row is durable: it may be sent. */
void vgl_alarms_committed(struct vgl_alarms *a, int64_t outbox_id);
/* The result of the attempt io->send started. */
void vgl_alarms_delivered(struct vgl_alarms *a, int64_t outbox_id, int ok, const char *error,
			  int64_t now_ms);

/* Every channel a trigger of an active alarm reached, with the alarm's
 * snapshot as it is now (event trigger, step 0, repeat 0): for channels
 * that forget what is not posted again (Alertmanager's resolve_timeout).
 * Suppressed and muted alarms are left out. Nothing is written. */
typedef void vgl_alarms_paged_fn(void *ctx, const char *channel, const char *snapshot);
void vgl_alarms_each_paged(struct vgl_alarms *a, vgl_alarms_paged_fn *fn, void *ctx);

/* The channels were replaced (a reload): attempts in flight will never
 * report; they count as not made and are sent again. */
void vgl_alarms_abandon_in_flight(struct vgl_alarms *a);

/* Does what is due at now_ms: dependency waits ending, escalation steps
 * and repeats, flapping alarms to clear, notifications to (re)send. */
void vgl_alarms_tick(struct vgl_alarms *a, int64_t now_ms);

struct vgl_alarms_stats {
	size_t active, suppressed, muted;
	size_t owed, in_flight;
	int64_t oldest_owed_ms;         /* created_ms of the oldest owed; 0 none */
	uint64_t delivered, attempts_failed;
	size_t by_severity[VGL_SEV_COUNT];
};
void vgl_alarms_get_stats(const struct vgl_alarms *a, struct vgl_alarms_stats *out);

#endif
