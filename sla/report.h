/* One host-month as JSON, the same object for the database report
 * (`vigil sla --month`) and for a self-contained case document
 * (`vigil sla --input`); fields in docs/sla.md. Also the cJSON policy
 * parser, for anything that holds a policy as a cJSON object. */
#ifndef VGL_SLA_REPORT_H
#define VGL_SLA_REPORT_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "sla/sla.h"

struct vgl_jw;

/* After vgl_sla_calc_finish(c, r): the report's fields, in their
 * documented order, into the object w has open (the caller writes the
 * braces and may add fields of its own). Errors stay in w. */
void vgl_sla_report_fields(struct vgl_jw *w, const char *host, const char *month,
			   const struct vgl_sla_calc *c, const struct vgl_sla_result *r,
			   int with_coverage);

/* The same object as a cJSON tree (the text of vgl_sla_report_fields
 * parsed back). host may be NULL (JSON null); month is "YYYY-MM".
 * with_coverage = 0 writes coverage_pct and observed_ms as null (no
 * observed spans were known, as in a case document without them). NULL on
 * allocation failure. */
cJSON *vgl_sla_report_json(const char *host, const char *month, const struct vgl_sla_calc *c,
			   const struct vgl_sla_result *r, int with_coverage);

/* A policy object: {"base"|"preset"?: "vserver", "name"?, "kind"?:
 * "availability"|"block_errors"|"cycle_errors", "commitment": "99.94" or
 * 99.94, "bands": [{"from", "to", "credit"}], "unit"|"credit_unit"?:
 * "percent"|"days", "counted"|"counted_causes"?: [causes],
 * "notice_planned_s"|"notice_planned_h"?, "notice_emergency_s"|
 * "notice_emergency_min"?, "maint_cap_s"|"maintenance_cap_min"?, "tz"?}.
 * Without a base, commitment and bands are required and the rest takes the
 * presets' defaults. Percentages: a string of decimal text, or a number
 * that is the double of a decimal with at most 4 decimals; both exact.
 * 0, or -EINVAL with "key.path: reason" in err (paths relative to obj). */
int vgl_sla_policy_from_json(const cJSON *obj, struct vgl_sla_policy *out, char *err,
			     size_t errlen);

/* A case document (docs/sla.md) to the report object. real_now_ms is
 * used when the document has no "now". 0 and *out (caller frees with
 * cJSON_Delete), or -EINVAL with "field: reason" in err, or -ENOMEM. */
int vgl_sla_case_run(const char *json_text, int64_t real_now_ms, cJSON **out, char *err,
		     size_t errlen);

#endif
