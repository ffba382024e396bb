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
	/* A Modbus exception answer, by its name: the device (or gateway)
	 * answered and refused this read. Per value; the poll is VGL_Q_OK. */
	VGL_Q_MB_ILLEGAL_FUNCTION,      /* 01 */
	VGL_Q_MB_ILLEGAL_ADDRESS,       /* 02 illegal data address */
	VGL_Q_MB_ILLEGAL_VALUE,         /* 03 illegal data value */
	VGL_Q_MB_DEVICE_FAILURE,        /* 04 server device failure */
	VGL_Q_MB_BUSY,                  /* 05 acknowledge, 06 server device busy */
	VGL_Q_MB_GATEWAY_PATH,          /* 0A gateway path unavailable */
	VGL_Q_MB_GATEWAY_TARGET,        /* 0B gateway target device failed to respond */
	VGL_Q_MB_EXCEPTION,             /* any other exception code */
};

/* "ok", "timeout", "refused", "auth", "absent", "error", then the Modbus
 * exceptions ("illegal_data_address", ...): as stored and printed; at most
 * 24 characters (storage/store_queue.c reserves room for that). */
const char *vgl_quality_name(enum vgl_quality q);

#endif
