/* Redfish resources into what the Redfish collector (collectors/redfish.c)
 * needs: links found through the service root, a System's power and
 * health, the LogService that is its event log, and sensor readings in
 * both of DMTF's models; the event log itself, read incrementally after a
 * cursor: collectors/redfish_log.h. Pure functions over cJSON trees: no I/O,
 * no clock, no logging; every function takes what a BMC sent, whatever its
 * shape (a missing key or a key of the wrong type is "absent", never a
 * crash), and says what was wrong in an err buffer where that matters.
 *
 * Paths. Every link kept is an @odata.id value made a plain path: a
 * "https://host" prefix and a "#fragment" are dropped, and the result must
 * start with '/' and hold only printable ASCII without spaces, quotes, '<',
 * '>', '\\' or "..": the collector prepends its own https://ADDR:PORT, so a
 * BMC cannot send it elsewhere. At most VGL_RF_PATH - 1 bytes, else absent.
 *
 * Power (vgl_rf_power_state), PowerState as Redfish defines it:
 *   "On", "PoweringOff", "Paused"  -> VGL_BMC_POWER_ON  (the host still runs)
 *   "Off", "PoweringOn"            -> VGL_BMC_POWER_OFF (it does not yet)
 *   anything else, or none         -> VGL_BMC_POWER_UNKNOWN
 * Health (vgl_rf_health), Status.Health (a System falls back to
 * Status.HealthRollup): "OK" 0, "Warning" 1, "Critical" 2, else unknown.
 *
 * Sensors. Readings by name, from (first match wins, in this order of
 * resources as the collector reads them):
 *   legacy Thermal   Temperatures[]  Name, ReadingCelsius
 *                    Fans[]          Name (or FanName), Reading
 *   legacy Power     PowerControl[]  Name, PowerConsumedWatts
 *                    PowerSupplies[] Name, PowerInputWatts, else LastPowerOutputWatts
 *                    Voltages[]      Name, ReadingVolts
 *   ThermalMetrics   TemperatureReadingsCelsius[]  DeviceName, else the last
 *                    segment of DataSourceUri; Reading (no state)
 *   Sensor           Name, Reading (ReadingUnits kept as the unit)
 *   Fan (new model)  Name, SpeedPercent.SpeedRPM, else SpeedPercent.Reading
 *   PowerSupply      Name, state only (PowerInputWatts if a BMC adds it);
 *   (new model)      its Metrics resource gives InputPowerWatts.Reading
 * Name lookup is exact, then ASCII case-insensitive. A reading's state is
 * its Status.Health when given, else from its thresholds: at or beyond a
 * critical or fatal one CRITICAL, at or beyond a non-critical (caution) one
 * WARNING, else OK (legacy UpperThresholdNonCritical/Critical/Fatal and
 * Lower*, new-model Thresholds.UpperCaution/UpperCritical/UpperFatal and
 * Lower*.Reading); with neither, unknown. A member whose Status.State is
 * "Absent" has an unknown state (an empty slot is not a fault).
 */
#ifndef VGL_REDFISH_PARSE_H
#define VGL_REDFISH_PARSE_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "core/bmc.h"

#define VGL_RF_PATH 256
#define VGL_RF_NAME 96

/* A body into a tree: NULL and err "not JSON at byte N" (or "not a JSON
 * object", "empty body"). The caller deletes the tree. */
cJSON *vgl_rf_parse(const char *body, size_t len, char *err, size_t errlen);

/* s made a plain path as above into out[VGL_RF_PATH]: 1, or 0 (out ""). */
int vgl_rf_path_clean(const char *s, char *out);
/* obj[key]["@odata.id"] as a clean path: 1, or 0 (out ""). */
int vgl_rf_link(const cJSON *obj, const char *key, char *out);
/* The string obj[key], or NULL when absent or not a string. */
const char *vgl_rf_str(const cJSON *obj, const char *key);

enum vgl_rf_expand { VGL_RF_EXPAND_NONE, VGL_RF_EXPAND_DOT, VGL_RF_EXPAND_ALL };

struct vgl_rf_root {
	char systems[VGL_RF_PATH];
	char chassis[VGL_RF_PATH];
	char managers[VGL_RF_PATH];
	char sessions[VGL_RF_PATH];     /* Links.Sessions; "" when not given */
	char session_service[VGL_RF_PATH];
	char uuid[64];
	int expand;                     /* enum vgl_rf_expand, from ProtocolFeaturesSupported */
	int expand_levels;              /* ExpandQuery.Levels */
	int top_skip;                   /* TopSkipQuery */
};

/* 0, or -1 with err ("service root: no Systems link"). */
int vgl_rf_root_parse(const cJSON *j, struct vgl_rf_root *r, char *err, size_t errlen);
/* The query that expands a collection's members one level ("$expand=.($levels=1)",
 * "$expand=*", ...), or NULL when the service offers none. */
const char *vgl_rf_expand_query(const struct vgl_rf_root *r);

/* A collection's Members[i]["@odata.id"]: members count, and 1/0. */
size_t vgl_rf_members(const cJSON *coll);
int vgl_rf_member(const cJSON *coll, size_t i, char *out);

int vgl_rf_power_state(const char *s);
int vgl_rf_health(const char *s);

struct vgl_rf_system {
	int power;                      /* enum vgl_bmc_power */
	int health;                     /* enum vgl_bmc_state */
	char state[32];                 /* Status.State, "" when absent */
	char log_services[VGL_RF_PATH];
	char chassis[VGL_RF_PATH];      /* Links.Chassis[0] */
	char manager[VGL_RF_PATH];      /* Links.ManagedBy[0] */
};

/* 0, or -1 with err when j is not a ComputerSystem at all (no PowerState,
 * no Status, no Id). */
int vgl_rf_system_parse(const cJSON *j, struct vgl_rf_system *s, char *err, size_t errlen);

/* A LogService's fitness as the event log: 3 SEL, 2 an event log, 1 some
 * other log with Entries, 0 none (no Entries link) or not wanted (dumps,
 * post codes); entries gets its Entries path. */
int vgl_rf_logservice_score(const cJSON *j, char *entries);
/* The same guess from a member path's last segment alone, before any GET:
 * 3 "SEL", 2 "Log"/"EventLog"/"IPMI...", 1 unknown, 0 not wanted. */
int vgl_rf_logservice_path_score(const char *path);

struct vgl_rf_chassis {
	char thermal[VGL_RF_PATH], power[VGL_RF_PATH];          /* legacy */
	char thermal_sub[VGL_RF_PATH], power_sub[VGL_RF_PATH];  /* new model */
	char sensors[VGL_RF_PATH];
};
void vgl_rf_chassis_parse(const cJSON *j, struct vgl_rf_chassis *c);
/* ThermalSubsystem: ThermalMetrics and Fans; PowerSubsystem: PowerSupplies. */
void vgl_rf_thermal_sub_parse(const cJSON *j, char *metrics, char *fans);
void vgl_rf_power_sub_parse(const cJSON *j, char *supplies);

enum vgl_rf_kind {
	VGL_RF_THERMAL,         /* legacy Thermal */
	VGL_RF_POWER,           /* legacy Power */
	VGL_RF_THERMAL_METRICS,
	VGL_RF_SENSOR,          /* one Sensor */
	VGL_RF_FAN,             /* one Fan of ThermalSubsystem */
	VGL_RF_PSU,             /* one PowerSupply of PowerSubsystem */
};

struct vgl_rf_reading {
	char name[VGL_RF_NAME];
	char unit[16];
	double value;
	int has_value;
	int state;              /* enum vgl_bmc_state */
	char metrics[VGL_RF_PATH];      /* PSU: its Metrics link, else "" */
	char self[VGL_RF_PATH];         /* its @odata.id when it is a resource */
};

struct vgl_rf_readings {
	struct vgl_rf_reading *r;
	size_t n, cap;
};

/* Appends the readings of resource j of that kind (a collection with
 * inline Members of kind SENSOR/FAN/PSU is taken member by member):
 * how many, or -1 when out of memory. */
int vgl_rf_readings_add(struct vgl_rf_readings *rs, const cJSON *j, enum vgl_rf_kind kind);
/* What a lookup needs of a reading. */
#define VGL_RF_NEED_VALUE 1
#define VGL_RF_NEED_STATE 2
/* The first reading named name (exact, then case-insensitive) that has
 * what need asks; else the first of that name at all; else NULL. */
struct vgl_rf_reading *vgl_rf_readings_find(const struct vgl_rf_readings *rs, const char *name,
					    int need);
/* The worst known state, and the first reading in it (NULL when none is
 * worse than OK). VGL_BMC_UNKNOWN when no reading has a state. */
int vgl_rf_readings_worst(const struct vgl_rf_readings *rs, const char **name);
void vgl_rf_readings_clear(struct vgl_rf_readings *rs);
void vgl_rf_readings_free(struct vgl_rf_readings *rs);
/* A PowerSupplyMetrics resource's InputPowerWatts.Reading: 1 and *w, or 0. */
int vgl_rf_psu_metrics_watts(const cJSON *j, double *w);

/* The state from a reading and its thresholds alone (j: the object that
 * holds them, either model). */
int vgl_rf_threshold_state(const cJSON *j, double reading);

/* A Redfish error body's first message ("error".@Message.ExtendedInfo[0]
 * .Message, else "error".message) into out, or "". */
void vgl_rf_error_message(const cJSON *j, char *out, size_t n);

#endif
