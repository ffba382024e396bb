/* The daemon-wide alarm settings (docs/alarms.md): the top-level
 * "alarms" (flapping, dependency wait, retries, response commitments, the
 * built-in SLA budget rules), "channels" (notify/channel.h) and
 * "escalation" (policies of ordered steps). Loaded by conf/alarm_load.c;
 * vgl_conf.alarm_conf is never NULL once a config is loaded.
 */
#ifndef VGL_ALARM_CONF_H
#define VGL_ALARM_CONF_H

#include <stddef.h>
#include <stdint.h>

#include "alarms/alarm_row.h"

struct vgl_channel_conf;

/* A policy has at most this many steps. */
#define VGL_ESC_MAX_STEPS 8

/* One step: after_ms from the raise, to every channel in notify; again
 * every repeat_ms (0: once) while the alarm is not acknowledged
 * (until_clear 0) or not cleared (until_clear 1). A step whose time comes
 * after its stop condition is skipped. */
struct vgl_esc_step {
	uint32_t after_ms, repeat_ms;
	int until_clear;
	char **notify;
	size_t n_notify;
};

/* The first policy that matches an alarm takes it: its severity is one of
 * severities (bit per enum vgl_severity; 0 = any) and every label matcher
 * equals the alarm's label. */
struct vgl_esc_policy {
	char *name;
	uint32_t severities;
	char **match_keys, **match_values;
	size_t n_match;
	struct vgl_esc_step *steps;
	size_t n_steps;
};

struct vgl_alarm_conf {
	uint32_t flap_changes;          /* more raises+clears than this in flap_window_ms: flapping */
	uint32_t flap_window_ms;
	uint32_t dependency_wait_ms;    /* a new alarm waits this long for a parent to explain it */
	uint32_t retry_max_ms;          /* the cap of the outbox's backoff */
	uint32_t ack_ms, clear_ms;      /* response commitments (vigil report response) */
	int sla_rules;                  /* the built-in SLA budget rules for hosts with a policy */
	struct vgl_channel_conf *channels;
	size_t n_channels;
	struct vgl_esc_policy *policies;
	size_t n_policies;
	int policies_default;           /* no "escalation" given: the built-in one */
};

/* The policy for an alarm of severity sev with labels keys[i]=values[i],
 * or NULL (nobody is paged; the alarm is still recorded). */
const struct vgl_esc_policy *vgl_alarm_conf_policy(const struct vgl_alarm_conf *c,
						   enum vgl_severity sev,
						   const char *const *keys,
						   const char *const *values, size_t n);

#endif
