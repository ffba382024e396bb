/* Read-side views of alarms, silences and maintenance windows: the JSON
 * objects `vigil alarms`, `alarm show`, `silence list` and `maint list`
 * print with --json (docs/cli.md), for the CLI and vigild's HTTP API alike,
 * so the two cannot drift apart in a key or a time format. Each returns a
 * new object, or NULL when out of memory. */
#ifndef VGL_ALARM_VIEW_H
#define VGL_ALARM_VIEW_H

#include <stdint.h>

#include <cjson/cJSON.h>

#include "storage/alarm_db.h"
#include "storage/sla_db.h"

cJSON *vgl_view_alarm_json(const struct vgl_alarm_db_alarm *a);
/* One row of an alarm's log, and of its notifications (alarm show). */
cJSON *vgl_view_alarm_log_json(const struct vgl_alarm_db_log *l);
cJSON *vgl_view_notice_json(const struct vgl_alarm_db_notice *n);
/* status is judged at now_ms (active, expired, removed). */
cJSON *vgl_view_silence_json(const struct vgl_alarm_db_silence *si, int64_t now_ms);
cJSON *vgl_view_maint_json(const struct vgl_sla_db_maint *m);
/* "planned" or "emergency". */
const char *vgl_view_maint_kind(int kind);

#endif
