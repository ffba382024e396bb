/* The causes an Unavailable interval can carry: one table for the config
 * loader, the rules, storage, the CLI and the SLA core. The SLA counts a
 * policy's set of them (docs/sla.md); the index order is part of the policy
 * bit masks, so new causes go at the end, before VGL_CAUSE_COUNT. */
#ifndef VGL_CAUSE_H
#define VGL_CAUSE_H

enum vgl_cause {
	VGL_CAUSE_NETWORK, VGL_CAUSE_HARDWARE, VGL_CAUSE_POWER, VGL_CAUSE_FACILITY,
	VGL_CAUSE_MAINTENANCE, VGL_CAUSE_CUSTOMER, VGL_CAUSE_FORCE_MAJEURE, VGL_CAUSE_UNKNOWN,
	VGL_CAUSE_COUNT
};

/* For messages that list them: "network hardware ... unknown". */
#define VGL_CAUSE_LIST "network hardware power facility maintenance customer force_majeure unknown"

int vgl_cause_index(const char *name);          /* -1 if unknown (or NULL) */
const char *vgl_cause_str(int idx);             /* "?" out of range */
int vgl_cause_valid(const char *name);          /* vgl_cause_index(name) >= 0 */

#endif
