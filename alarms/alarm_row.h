/* An alarm and a notification as the database holds them (migration 8,
 * docs/alarms.md): the types the alarm manager (alarms/alarm.h), the store
 * (storage/store.h) and the CLI share, and the alarm snapshot JSON that the
 * outbox keeps and every channel renders. No I/O.
 */
#ifndef VGL_ALARM_ROW_H
#define VGL_ALARM_ROW_H

#include <stddef.h>
#include <stdint.h>

enum vgl_severity {
	VGL_SEV_CRITICAL = 0, VGL_SEV_MAJOR, VGL_SEV_MINOR, VGL_SEV_WARNING, VGL_SEV_INFO,
	VGL_SEV_COUNT
};

enum vgl_alarm_state { VGL_ALARM_RAISED = 0, VGL_ALARM_ACKED, VGL_ALARM_CLEARED };

enum vgl_alarm_kind {
	VGL_AK_RULE = 0,        /* a rule of the host's profile */
	VGL_AK_AVAIL,           /* an availability condition with "alarm": the host is unavailable;
				 * a parent's also names the hosts behind it (details.affected) */
	VGL_AK_FLAPPING,        /* one (host, rule) changing too often */
	VGL_AK_SLA,             /* an SLA budget rule */
	VGL_AK_COUNT
};

/* "critical" ... "info"; NULL past the end. */
const char *vgl_severity_name(enum vgl_severity s);
/* 0 and *out, or -1 for anything but the five names (exact, lowercase). */
int vgl_severity_parse(const char *s, enum vgl_severity *out);
const char *vgl_alarm_state_name(enum vgl_alarm_state s);
int vgl_alarm_state_parse(const char *s, enum vgl_alarm_state *out);
const char *vgl_alarm_kind_name(enum vgl_alarm_kind k);
int vgl_alarm_kind_parse(const char *s, enum vgl_alarm_kind *out);

/* One row of alarms. Strings are borrowed (the writer copies them). */
struct vgl_alarm_row {
	int64_t id;                     /* allocated by vigild */
	int64_t host_id;
	const char *host, *site;        /* site may be NULL */
	const char *rule;
	enum vgl_alarm_kind kind;
	enum vgl_severity severity;
	enum vgl_alarm_state state;
	const char *summary;
	const char *labels_json;        /* a JSON object of strings; NULL = {} */
	const char *details_json;       /* a JSON object; NULL = {} */
	const char *policy;             /* escalation policy, NULL = none */
	int64_t raised_ms;
	int64_t acked_ms;               /* 0 = not acknowledged */
	const char *acked_by;
	int64_t cleared_ms;             /* 0 = not cleared */
	int64_t suppressed_by;          /* 0 = not suppressed */
	const char *muted;              /* NULL, "silence:ID" or "maintenance:ID" */
};

enum vgl_notice_event { VGL_NOTICE_TRIGGER = 0, VGL_NOTICE_RESOLVE };

/* One row of outbox: a notification owed to one channel. */
struct vgl_outbox_row {
	int64_t id;                     /* allocated by vigild */
	int64_t alarm_id;
	const char *channel;
	enum vgl_notice_event event;
	int step, repeat;               /* resolve: step -1, repeat 0 */
	const char *dedup_key;          /* vgl_dedup_key() */
	const char *payload;            /* vgl_alarm_json() of the alarm at enqueue */
	int64_t created_ms;
	int64_t attempts;
	int64_t next_attempt_ms;
	int64_t delivered_ms;           /* 0 = still owed */
	const char *last_error;         /* NULL = none */
};

/* "vigil:<alarm>:<step>:<repeat>" for a trigger, "vigil:<alarm>:resolve"
 * for a resolve, into buf; the length written, or -1 if it does not fit. */
int vgl_dedup_key(char *buf, size_t len, int64_t alarm_id, enum vgl_notice_event ev, int step,
		  int repeat);

/* The alarm snapshot JSON (docs/alarms.md "Payloads"): every field of the
 * row, times as ISO-8601 UTC with milliseconds (null when not set), with
 * labels and details as objects; when n is not NULL, also "event",
 * "step", "repeat" and "dedup_key" of that notification. malloc'd, NULL
 * when out of memory or when labels/details are not JSON objects. */
char *vgl_alarm_json(const struct vgl_alarm_row *a, const struct vgl_outbox_row *n);

#endif
