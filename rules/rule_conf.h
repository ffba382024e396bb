/* Alarm rules as the config gives them (docs/rules.md): a profile's
 * "rules" array, and the "alarm" of an availability condition. Loaded by
 * conf/rules_load.c; evaluated by rules/rules.c.
 *
 *   {"name": "inlet-hot", "when": "inlet_c > 30", "clear": "inlet_c < 28",
 *    "for_s": 60, "severity": "major", "labels": {"team": "facilities"},
 *    "summary": "{host}: inlet {inlet_c} C (rule {rule})"}
 *
 * "clear" defaults to "not when": without it the alarm clears at the
 * first observation the condition is false. With it, the alarm stays
 * raised until "clear" is true (hysteresis: a value hovering at the
 * threshold raises one alarm, not a stream).
 */
#ifndef VGL_RULE_CONF_H
#define VGL_RULE_CONF_H

#include <stddef.h>
#include <stdint.h>

#include "alarms/alarm_row.h"

struct vgl_expr;

struct vgl_conf_alarm_spec {
	enum vgl_severity severity;
	/* "{host}", "{site}", "{rule}", "{severity}", "{value}" (the left
	 * side of the rule's first comparison), "{METRIC}" (its current
	 * value, or its label): filled at raise. NULL: "{rule} on {host}". */
	char *summary;
	char **label_keys, **label_values;
	size_t n_labels;
};

struct vgl_conf_rule {
	char *name;                     /* unique in the profile */
	char *when_text, *clear_text;   /* clear_text NULL: not when */
	struct vgl_expr *when, *clear;
	uint32_t for_ms;                /* how long when must hold before it fires */
	struct vgl_conf_alarm_spec alarm;
	/* This rule's external references start at this index of the host's
	 * vgl_conf_host.rule_refs (set per host at load). */
	size_t ext_base;
};

void vgl_conf_alarm_spec_free(struct vgl_conf_alarm_spec *a);
void vgl_conf_rules_free(struct vgl_conf_rule *r, size_t n);
/* Same rule text (name, when, clear, for, severity, labels, summary):
 * its state survives a reload. */
int vgl_conf_rule_same(const struct vgl_conf_rule *a, const struct vgl_conf_rule *b);

#endif
