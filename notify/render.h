/* What each channel sends, from the alarm snapshot JSON (vgl_alarm_json
 * with its notification: docs/alarms.md "Payloads"). Pure but for the
 * clock where a format needs "now" (Date:, an Alertmanager endsAt of a
 * resolve with no cleared time). Every result is malloc'd; NULL when the
 * snapshot is not a JSON object or memory ran out. */
#ifndef VGL_NOTIFY_RENDER_H
#define VGL_NOTIFY_RENDER_H

#include "notify/channel.h"

/* PagerDuty Events API v2: event_action trigger|resolve, dedup_key
 * "vigil:<alarm id>" (one incident per alarm), payload with the mapped
 * severity and the snapshot as custom_details. */
char *vgl_render_pagerduty(const char *snapshot, const char *routing_key);
/* Alertmanager API v2 (POST /api/v2/alerts): an array of one alert. */
char *vgl_render_alertmanager(const char *snapshot);
/* An RFC 5322 message for sendmail -t -oi (CRLF-free: sendmail converts). */
char *vgl_render_email(const char *snapshot, const struct vgl_channel_conf *c);
/* The exec environment "VIGIL_...=value", NULL-terminated, with
 * PATH=/usr/bin:/bin and nothing else of vigild's. Each field is cut at
 * 4 KiB; VIGIL_PAYLOAD (the snapshot) is left out past 64 KiB, where the
 * kernel's limits on exec come near: stdin always has it whole. */
char **vgl_render_exec_env(const char *snapshot);
void vgl_render_free_env(char **env);

/* The snapshot's "dedup_key" (or "" when it has none), malloc'd: the
 * webhook's X-Vigil-Dedup-Key. NULL when out of memory or not JSON. */
char *vgl_render_dedup_key(const char *snapshot);

/* PagerDuty's severity for ours: critical, error, warning, info. */
const char *vgl_render_pd_severity(const char *severity);

#endif
