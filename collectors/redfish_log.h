/* The event log of a Redfish service, read incrementally after a cursor:
 * the cursor, entry Ids and times, one LogEntry's class and text, and the
 * scan of the Entries collection that says what is new and whether the
 * log was cleared or wrapped. Pure functions over cJSON trees, as in
 * collectors/redfish_parse.h (whose paths, links and VGL_RF_PATH these
 * use); which LogService is the event log is chosen there.
 *
 * The cursor is text "rf1:<lastId>:<count>": the numeric part of the newest
 * LogEntry Id taken, and how many entries the log held up to and including
 * it (its position, for $skip). The numeric part of an Id: its runs of
 * digits, each later run appended as six more decimal digits
 * ("1609459200_1" -> 1609459200000001, "Sel-7" -> 7); an Id without digits
 * (or overflowing 64 bits) is 0 and such an entry is never new.
 *
 * A poll reads the Entries collection page by page (vgl_rf_logscan_page),
 * whatever the order of its members, and then (vgl_rf_logscan_finish):
 *   - no cursor (the first poll ever): takes no entry (history is not
 *     evidence) and sets the cursor to the newest entry;
 *   - the log cleared or wrapped: Members@odata.count below the cursor's
 *     count, or the cursor's last Id gone from a log read whole: a
 *     VGL_BMC_EV_CLEARED first, then, when the last Id is gone, every
 *     current entry (oldest first), else (the log only shrank: old entries
 *     dropped) the entries above the cursor, so none is reported twice;
 *   - else every entry with an Id above the cursor's, oldest first;
 * at most VGL_RF_MAX_EVENTS per poll, the rest at the next. When the
 * service pages with $skip and the cursor has a count, the read may start
 * at $skip = count - 1: its first member must then be the cursor's last
 * entry, else the scan asks to be read again from the start (restart).
 *
 * Classification of one LogEntry (vgl_rf_classify), first matching row:
 *  1 FAULT    SensorType "OS Stop / Shutdown" (or MessageId naming OSStop /
 *             CriticalStop) whose Message, MessageId or EntryCode says
 *             "critical stop" or "crash": an OS crash, whatever the Severity
 *  2 FAULT    Severity "Critical" and hardware named: SensorType containing
 *             temperature, voltage, current, fan, cooling, processor,
 *             memory, power supply, power unit, drive, critical interrupt,
 *             chip set, add-in card, module/board, microcontroller, cable,
 *             battery, watchdog or system firmware (case-insensitive); or
 *             MessageId containing Temp, Thermal, CPU, Processor, Memory,
 *             DIMM, ECC, PowerSupply, PSU, Fan, Voltage, Current,
 *             MachineCheck, IERR, Drive or Battery (as written, CamelCase:
 *             "CPUThermalTrip", "Event.1.0.TempCritical")
 *  3 COMMAND  MessageId containing PowerOff, PowerOn, PowerCycle,
 *             PowerButton, ResetType, ComputerSystem.Reset, ForceOff or
 *             ForceRestart: a power or reset command
 *  4 ORDERLY  SensorType "OS Stop / Shutdown"; or MessageId or Message
 *             saying graceful shutdown ("GracefulShutdown", "graceful
 *             shutdown", case-insensitive) or soft-off ("soft-off", "soft
 *             off", "S5" with SensorType "System ACPI Power State")
 *  5 INFO     everything else (a Critical entry naming no hardware too)
 * Text: "Message (Severity, SensorType)", MessageId when there is no
 * Message, "(Severity)" when there is no SensorType; valid UTF-8 (a bad
 * byte becomes '?'), line breaks and tabs as spaces, other control
 * characters as '?', cut at VGL_RF_TEXT - 1 bytes on a character
 * boundary. Created (ISO 8601 with its offset) gives bmc_ts_ms; none,
 * unparsable or before 2000: 0.
 */
#ifndef VGL_REDFISH_LOG_H
#define VGL_REDFISH_LOG_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "collectors/redfish_parse.h"
#include "core/bmc.h"

#define VGL_RF_TEXT 200
#define VGL_RF_MAX_EVENTS 64

struct vgl_rf_cursor {
	int valid;
	uint64_t last_id;
	uint64_t count;
};

/* 0, or -1 for anything but "rf1:<digits>:<digits>". */
int vgl_rf_cursor_parse(const char *s, struct vgl_rf_cursor *c);
void vgl_rf_cursor_format(const struct vgl_rf_cursor *c, char *buf, size_t n);

uint64_t vgl_rf_entry_id(const char *id);
/* ms since the epoch, or 0. */
int64_t vgl_rf_iso8601_ms(const char *s);
enum vgl_bmc_event_class vgl_rf_classify(const char *severity, const char *sensor_type,
					 const char *message_id, const char *message,
					 const char *entry_code);

struct vgl_rf_entry {
	uint64_t id;
	int64_t ts_ms;
	enum vgl_bmc_event_class cls;
	int link_only;          /* the member was only an @odata.id: GET path */
	char path[VGL_RF_PATH];
	char text[VGL_RF_TEXT];
};

/* One LogEntry object (or a link to one, link_only): 0, or -1 when it has
 * neither an Id nor a usable @odata.id. */
int vgl_rf_entry_parse(const cJSON *m, struct vgl_rf_entry *e);

struct vgl_rf_logscan {
	struct vgl_rf_cursor from;
	uint64_t skip;          /* $skip of the first page */
	int pages;
	int64_t total;          /* Members@odata.count, -1 unknown */
	uint64_t seen;          /* members read, every page */
	uint64_t le_last;       /* members at or before the cursor (skip counts) */
	uint64_t n_newer_all;   /* members with an Id above the cursor's */
	uint64_t n_ids;         /* members with a usable Id */
	uint64_t max_id;
	int seen_last;
	int restart;            /* the $skip guess failed: read from the start */
	size_t n_newer, n_oldest;
	struct vgl_rf_entry newer[VGL_RF_MAX_EVENTS];   /* lowest Ids above the cursor */
	struct vgl_rf_entry oldest[VGL_RF_MAX_EVENTS];  /* lowest Ids overall */
};

/* skip: the $skip the first page was read with (0 or from->count - 1). */
void vgl_rf_logscan_init(struct vgl_rf_logscan *s, const struct vgl_rf_cursor *from,
			 uint64_t skip);
/* One page of the Entries collection at entries (its path, for a $skip
 * link), read with $skip/$top allowed or not: 0 and next ("" when this
 * was the last page; a nextLink, else "<entries>?$skip=N" when top_skip
 * and the count says more), or -1 and err (no Members array). On return 0
 * check restart. */
int vgl_rf_logscan_page(struct vgl_rf_logscan *s, const cJSON *page, const char *entries,
			int top_skip, char *next, char *err, size_t errlen);

struct vgl_rf_logresult {
	int cleared;
	size_t n;                       /* entries taken, oldest first */
	struct vgl_rf_entry *e;         /* into the scan */
	struct vgl_rf_cursor cursor;    /* after them */
	int changed;                    /* cursor differs from the scan's from */
	uint64_t left;                  /* new entries left for the next poll */
};

/* The scan read the log whole (every page): what is new. */
void vgl_rf_logscan_finish(struct vgl_rf_logscan *s, struct vgl_rf_logresult *out);

#endif
