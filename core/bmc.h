/* What a server's BMC tells beside its metric values, whatever the
 * protocol (IPMI, Redfish): the chassis power state, the overall health,
 * the worst sensor, and the event-log entries new since the last poll.
 * Attribution (rules/attrib.h) decides an interval's cause from it.
 *
 * A poll result of a BMC source carries one (vgl_poll_result.bmc); every
 * pointer in it is valid only during the poll callback. */
#ifndef VGL_BMC_H
#define VGL_BMC_H

#include <stddef.h>
#include <stdint.h>

enum vgl_bmc_power { VGL_BMC_POWER_UNKNOWN = -1, VGL_BMC_POWER_OFF = 0, VGL_BMC_POWER_ON = 1 };

/* Overall health and a sensor's state share one scale; a metric reading
 * a state gives these numbers. */
enum vgl_bmc_state {
	VGL_BMC_UNKNOWN = -1, VGL_BMC_OK = 0, VGL_BMC_WARNING = 1, VGL_BMC_CRITICAL = 2
};

/* What an event-log entry means for attribution. */
enum vgl_bmc_event_class {
	VGL_BMC_EV_INFO,        /* nothing about availability */
	VGL_BMC_EV_FAULT,       /* hardware, firmware or driver fault: a critical
				 * threshold crossed, a processor/memory/PSU error,
				 * an OS crash (run-time critical stop) */
	VGL_BMC_EV_ORDERLY,     /* an orderly OS shutdown or soft-off (S5) */
	VGL_BMC_EV_COMMAND,     /* a power or reset command through the BMC */
	VGL_BMC_EV_CLEARED,     /* the log was cleared or wrapped: entries may be lost */
	VGL_BMC_EV_N
};

/* Chassis "last power event" bits (IPMI Get Chassis Status, byte 2);
 * 0 from Redfish. */
#define VGL_BMC_LPE_AC_FAILED    0x01
#define VGL_BMC_LPE_OVERLOAD     0x02
#define VGL_BMC_LPE_INTERLOCK    0x04
#define VGL_BMC_LPE_FAULT        0x08
#define VGL_BMC_LPE_IPMI_COMMAND 0x10

struct vgl_bmc_event {
	uint64_t id;            /* SEL record id / LogEntry Id (numeric part) */
	int64_t bmc_ts_ms;      /* as the BMC stamped it; 0 when unknown (pre-init) */
	enum vgl_bmc_event_class cls;
	const char *text;       /* "CPU Temp: Upper Critical going high, reading 90" */
};

struct vgl_bmc_status {
	int power;              /* enum vgl_bmc_power */
	int health;             /* enum vgl_bmc_state: the worst of the system's
				 * health and every sensor's state */
	unsigned last_power_event;      /* VGL_BMC_LPE_* */
	const char *worst_sensor;       /* a sensor in state health, or NULL */
	size_t n_events;
	const struct vgl_bmc_event *events;     /* new since the last poll, oldest first */
	/* Where the event log was read up to, to persist and hand back to
	 * the collector after a restart (vgl_collector_ops.set_cursor); NULL
	 * when unchanged. Opaque to everyone but the back end. */
	const char *cursor;
};

const char *vgl_bmc_event_class_str(int cls);   /* "fault", ...; "?" out of range */
const char *vgl_bmc_state_str(int state);       /* "ok" "warning" "critical" "unknown" */
const char *vgl_bmc_power_str(int power);       /* "on" "off" "unknown" */

#endif
