/* One host's alarm rules (rules/rule_conf.h) over its polls: the windows
 * the rules read, each rule's for/clear state, and the fire and clear
 * events that become alarms (alarms/alarm.h). No libuv, no clock: time
 * comes in with each poll result.
 *
 * A rule, evaluated at every poll of the host (any source: windows and
 * nodata() move with time, not only with the metrics they read):
 *
 *   idle --when TRUE--> pending(since) --held for_ms--> firing: FIRE
 *   pending --when FALSE--> idle          (UNKNOWN: stays where it is)
 *   firing --clear TRUE (or, without clear, when FALSE)--> idle: CLEAR
 *
 * Memory (docs/rules.md "Bounds"): per host, one ring per metric that a
 * window function or nodata(M, D) reads, sized for the longest window
 * over it at its source's poll interval (vgl_window_cap_for: span /
 * interval + 2, at most VGL_WINDOW_MAX_SAMPLES, 16 bytes a sample; the
 * loader refuses longer), plus 24 bytes per rule.
 */
#ifndef VGL_RULES_H
#define VGL_RULES_H

#include <stddef.h>
#include <stdint.h>

#include "conf/conf.h"
#include "core/sample.h"
#include "rules/expr.h"
#include "rules/rule_conf.h"

struct vgl_rules;

/* rules[0..n): the host's (its profile's, then any built in); they and
 * profile must outlive the object. NULL when out of memory. */
struct vgl_rules *vgl_rules_create(const struct vgl_conf_rule *const *rules, size_t n,
				   const struct vgl_conf_profile *profile, int64_t now_ms);
void vgl_rules_free(struct vgl_rules *r);

/* A reload: the state of every rule of old that is the same as one of r
 * (vgl_conf_rule_same) moves to it, and the samples of every window over
 * a metric of the same name. */
void vgl_rules_carry(struct vgl_rules *r, const struct vgl_rules *old);

struct vgl_rule_event {
	int fire;                       /* 1 FIRE, 0 CLEAR */
	size_t rule;                    /* index into the rules given at create */
	int64_t ts_ms;                  /* the observation that fired or cleared it */
	int64_t since_ms;               /* FIRE: when "when" started holding */
	int has_value;
	double value;                   /* FIRE: vgl_expr_value of "when" */
};
typedef void vgl_rule_fn(void *ctx, const struct vgl_rule_event *ev);

/* pr was taken into the host's values (values: all of them, by profile
 * metric); ext: the host's vgl_conf_host.rule_refs values (NULL: none);
 * sla: the host's month (NULL: unknown). Calls fn for each transition. */
void vgl_rules_observe(struct vgl_rules *r, const struct vgl_poll_result *pr,
		       const struct vgl_value *values, const struct vgl_value *ext,
		       const struct vgl_expr_sla *sla, vgl_rule_fn *fn, void *ctx);

size_t vgl_rules_count(const struct vgl_rules *r);
int vgl_rules_firing(const struct vgl_rules *r, size_t rule);
/* After a restart: the database holds rule's alarm active. */
void vgl_rules_set_firing(struct vgl_rules *r, size_t rule);

/* The summary of an alarm: spec's template ("{rule} on {host}" when it
 * has none) filled with host, site, rule, severity, value (when has_value)
 * and the current values of the profile's metrics (a label for an
 * enumerated one, "?" for one not good now). malloc'd, NULL out of memory. */
char *vgl_rules_summary(const struct vgl_conf_alarm_spec *spec, const char *rule,
			const struct vgl_conf_host *h, const struct vgl_value *values,
			int has_value, double value);

#endif
