/* What the alarm manager's files share (not an API): alarms/alarm.c (hosts,
 * raise and clear, restart, lifetime), alarms/alarm_escalate.c (steps,
 * flapping expiry, the tick), alarms/alarm_outbox.c (rows for the store,
 * the owed notifications), alarms/alarm_mute.c (silences, maintenance
 * windows, operators' changes), alarms/alarm_map.c (the string map).
 * Invariants: the top of alarms/alarm.c.
 */
#ifndef VGL_ALARM_INT_H
#define VGL_ALARM_INT_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "alarms/alarm.h"
#include "alarms/alarm_conf.h"

#define MAX_STEPS VGL_ESC_MAX_STEPS
#define RETRY_FIRST_MS 1000

struct alarm {
	int64_t id, host_id;
	uint32_t host;                  /* conf index, UINT32_MAX: gone */
	enum vgl_alarm_kind kind;
	enum vgl_severity sev;
	char *rule, *summary, *labels, *details, *policy, *acked_by;
	const struct vgl_esc_policy *pol;
	int64_t raised_ms, acked_ms, notify_at;
	int64_t suppressed_by;
	char muted[48];
	int fired[MAX_STEPS];           /* triggers written for step i (1 + repeats) */
	int64_t last[MAX_STEPS];        /* when step i last fired */
	char **notified;                /* channels a trigger went to */
	size_t n_notified;
	char **affected;                /* a root's: the hosts it stands for */
	size_t n_affected;
	size_t slot;                    /* index in a->act */
	/* What stood for it ended; the database keeps suppressed_by until it
	 * pages on its own (so an alarm that never paged stays recorded as
	 * suppressed). */
	int released;
};

struct owed {
	int64_t id, alarm_id, host_id;
	char *channel, *payload;
	int64_t attempts, next_ms, created_ms;
	int committed, in_flight;
};

struct flap {
	char *key;
	int64_t *t;                     /* raise times within the window, oldest first */
	size_t n;
	int64_t flapping_id;            /* its flapping alarm, 0 none */
	uint32_t host;
	enum vgl_severity sev;
	char *rule;
};

struct silence {
	int64_t id, start_ms, end_ms;
	char *host, *site, *label;
};

struct window {
	int64_t id, host_id, start_ms, end_ms;
	char *site;
};

/* A small open-addressing map from a string to a pointer. */
struct map {
	char **keys;
	void **vals;
	size_t cap, n;
};

struct vgl_alarms {
	const struct vgl_conf *c;
	const struct vgl_alarm_conf *ac;
	const int64_t *db_ids;
	struct vgl_alarm_io io;
	int64_t next_alarm_id, next_outbox_id;

	struct alarm **act;
	size_t n_act, cap_act;
	struct map by_key, by_id;
	struct alarm **avail_of;        /* per host index */
	uint32_t **parents;             /* per host: its parents' indexes */
	size_t *n_parents;
	unsigned char *is_parent;       /* per host: some host hangs off it */
	size_t n_hosts;

	struct owed *owed;
	size_t n_owed, cap_owed;
	uint64_t delivered, failed;

	struct map flaps;

	struct silence *sil, *sil_new;
	size_t n_sil, n_sil_new;
	struct window *win, *win_new;
	size_t n_win, n_win_new;
	int in_control, control_oom;
};

void *vgl__al_map_get(const struct map *m, const char *k);
int vgl__al_map_put(struct map *m, const char *k, void *v);
void vgl__al_map_del(struct map *m, const char *k);
void vgl__al_map_free(struct map *m);
void vgl__al_key_of(char *buf, size_t n, int64_t host_id, enum vgl_alarm_kind k, const char *rule);
void vgl__al_id_key(char *buf, size_t n, int64_t id);
const char *vgl__al_host_name(const struct vgl_alarms *a, const struct alarm *al);
const char *vgl__al_host_site(const struct vgl_alarms *a, const struct alarm *al);
int vgl__al_emit(struct vgl_alarms *a, enum vgl_store_alarm_op op, int64_t host_id, cJSON *doc);
cJSON *vgl__al_doc_for(const struct alarm *al, int64_t ts, const char *action, const char *text);
char *vgl__al_details_now(const struct alarm *al);
void vgl__al_write_update(struct vgl_alarms *a, struct alarm *al, int64_t ts, const char *action,
			 const char *text);
void vgl__al_log_only(struct vgl_alarms *a, struct alarm *al, int64_t ts, const char *action,
		     const char *text);
/* io.changed of al as it is now (cleared_ms: 0, or when it cleared). */
void vgl__al_changed(struct vgl_alarms *a, const struct alarm *al, int64_t cleared_ms);
void vgl__al_row_of(const struct vgl_alarms *a, const struct alarm *al, int64_t cleared_ms,
		   const char *details, struct vgl_alarm_row *r);
struct owed *vgl__al_owed_add(struct vgl_alarms *a);
void vgl__al_owed_remove(struct vgl_alarms *a, struct owed *o);
int vgl__al_enqueue(struct vgl_alarms *a, struct alarm *al, const char *channel,
		   enum vgl_notice_event ev, int step, int repeat, int64_t now, int64_t cleared_ms);
void vgl__al_send_due(struct vgl_alarms *a, int64_t now);
int vgl__al_muted_now(const struct vgl_alarms *a, const struct alarm *al, int64_t now, char *out,
		     size_t n);
int vgl__al_add_str(char ***arr, size_t *n, const char *s);
struct alarm *vgl__al_by_id(const struct vgl_alarms *a, int64_t id);
struct alarm *vgl__al_root_for(const struct vgl_alarms *a, const struct alarm *al);
void vgl__al_suppress(struct vgl_alarms *a, struct alarm *al, struct alarm *root, int64_t now);
void vgl__al_finish(struct vgl_alarms *a, struct alarm *al, int64_t ts, const char *why);
void vgl__al_free_silences(struct silence *s, size_t n);
void vgl__al_free_windows(struct window *w, size_t n);

#endif
