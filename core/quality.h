/* How good a value or a poll is, in words every back end can use: SNMP,
 * Modbus, IPMI, Redfish and reachability each map their own failures onto
 * these, and put what they know beyond that in the detail text. */
#ifndef VGL_QUALITY_H
#define VGL_QUALITY_H

enum vgl_quality {
	VGL_Q_OK = 0,
	VGL_Q_TIMEOUT,  /* no answer within timeout x (retries + 1) */
	VGL_Q_REFUSED,  /* actively refused: ICMP unreachable, TCP RST, Modbus exception */
	VGL_Q_AUTH,     /* the device answered but refused our credentials (SNMPv3 USM, BMC login) */
	VGL_Q_ABSENT,   /* the device answered without this value (SNMP noSuchObject, ...) */
	VGL_Q_ERROR,    /* anything else: error status, wrong type, malformed, send failure */
};

/* "ok", "timeout", "refused", "auth", "absent", "error": as stored and
 * printed. */
const char *vgl_quality_name(enum vgl_quality q);

#endif
