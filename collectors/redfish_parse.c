/* What collectors/redfish_parse.h declares: bodies, paths and links, the
 * service root, collections, the System, the LogService choice, the
 * chassis and its subsystems, sensor readings and error bodies. The event
 * log is collectors/redfish_log.c's. */
#include "collectors/redfish_parse.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "collectors/redfish_parse_int.h"

/* ---- small helpers -------------------------------------------------------- */

const char *vgl_rf_str(const cJSON *obj, const char *key)
{
	const cJSON *v = obj_get(obj, key);

	return cJSON_IsString(v) && v->valuestring ? v->valuestring : NULL;
}

static int ci_eq(const char *a, const char *b)
{
	return a && b && strcasecmp(a, b) == 0;
}

static void copy_str(char *dst, size_t n, const char *s)
{
	snprintf(dst, n, "%s", s ? s : "");
}

/* ---- parsing and paths ---------------------------------------------------- */

cJSON *vgl_rf_parse(const char *body, size_t len, char *err, size_t errlen)
{
	const char *end = NULL;
	cJSON *j;
	size_t at;

	if (!body || len == 0) {
		seterr(err, errlen, "empty body");
		return NULL;
	}
	j = cJSON_ParseWithLengthOpts(body, len, &end, 0);
	if (!j) {
		at = end && end >= body && end <= body + len ? (size_t)(end - body) : 0;
		seterr(err, errlen, "not JSON at byte %zu", at);
		return NULL;
	}
	at = end && end >= body && end <= body + len ? (size_t)(end - body) : len;
	while (at < len && (body[at] == ' ' || body[at] == '\t' || body[at] == '\r' ||
			    body[at] == '\n'))
		at++;
	if (at < len && body[at] != 0) {
		cJSON_Delete(j);
		seterr(err, errlen, "not JSON at byte %zu (data after the value)", at);
		return NULL;
	}
	if (!cJSON_IsObject(j)) {
		cJSON_Delete(j);
		seterr(err, errlen, "not a JSON object");
		return NULL;
	}
	return j;
}

int vgl_rf_path_clean(const char *s, char *out)
{
	size_t n = 0;

	out[0] = 0;
	if (!s)
		return 0;
	if (strncasecmp(s, "https://", 8) == 0 || strncasecmp(s, "http://", 7) == 0) {
		s = strchr(s + (s[4] == 's' || s[4] == 'S' ? 8 : 7), '/');
		if (!s)
			return 0;
	}
	if (s[0] != '/')
		return 0;
	for (; s[n] && s[n] != '#'; n++) {
		unsigned char c = (unsigned char)s[n];
		if (c <= 0x20 || c >= 0x7f || c == '"' || c == '<' || c == '>' || c == '\\' ||
		    c == '`' || c == '{' || c == '}' || c == '|' || c == '^')
			return 0;
		if (c == '.' && s[n + 1] == '.')
			return 0;
		if (n + 1 >= VGL_RF_PATH)
			return 0;
	}
	memcpy(out, s, n);
	out[n] = 0;
	return n > 0;
}

int vgl_rf_link(const cJSON *obj, const char *key, char *out)
{
	out[0] = 0;
	return vgl_rf_path_clean(vgl_rf_str(obj_get(obj, key), "@odata.id"), out);
}

/* arr (an array of links) [0]["@odata.id"]. */
static int first_link(const cJSON *arr, char *out)
{
	out[0] = 0;
	if (!cJSON_IsArray(arr))
		return 0;
	return vgl_rf_path_clean(vgl_rf_str(cJSON_GetArrayItem(arr, 0), "@odata.id"), out);
}

/* ---- service root, collections, system ----------------------------------- */

int vgl_rf_root_parse(const cJSON *j, struct vgl_rf_root *r, char *err, size_t errlen)
{
	const cJSON *pf, *ex, *v;

	memset(r, 0, sizeof(*r));
	if (!cJSON_IsObject(j)) {
		seterr(err, errlen, "service root: not an object");
		return -1;
	}
	vgl_rf_link(j, "Chassis", r->chassis);
	vgl_rf_link(j, "Managers", r->managers);
	vgl_rf_link(j, "SessionService", r->session_service);
	vgl_rf_link(obj_get(j, "Links"), "Sessions", r->sessions);
	copy_str(r->uuid, sizeof(r->uuid), vgl_rf_str(j, "UUID"));
	pf = obj_get(j, "ProtocolFeaturesSupported");
	ex = obj_get(pf, "ExpandQuery");
	if (cJSON_IsTrue(obj_get(ex, "NoLinks")))
		r->expand = VGL_RF_EXPAND_DOT;
	else if (cJSON_IsTrue(obj_get(ex, "ExpandAll")))
		r->expand = VGL_RF_EXPAND_ALL;
	r->expand_levels = cJSON_IsTrue(obj_get(ex, "Levels"));
	v = obj_get(pf, "TopSkipQuery");
	r->top_skip = cJSON_IsTrue(v);
	if (!vgl_rf_link(j, "Systems", r->systems)) {
		seterr(err, errlen, "service root: no Systems link");
		return -1;
	}
	return 0;
}

const char *vgl_rf_expand_query(const struct vgl_rf_root *r)
{
	switch (r->expand) {
	case VGL_RF_EXPAND_DOT: return r->expand_levels ? "$expand=.($levels=1)" : "$expand=.";
	case VGL_RF_EXPAND_ALL: return r->expand_levels ? "$expand=*($levels=1)" : "$expand=*";
	default: return NULL;
	}
}

size_t vgl_rf_members(const cJSON *coll)
{
	const cJSON *m = obj_get(coll, "Members");

	return cJSON_IsArray(m) ? (size_t)cJSON_GetArraySize(m) : 0;
}

int vgl_rf_member(const cJSON *coll, size_t i, char *out)
{
	const cJSON *m = obj_get(coll, "Members");

	out[0] = 0;
	if (!cJSON_IsArray(m) || i > 1u << 30)
		return 0;
	return vgl_rf_path_clean(vgl_rf_str(cJSON_GetArrayItem(m, (int)i), "@odata.id"), out);
}

int vgl_rf_power_state(const char *s)
{
	if (!s)
		return VGL_BMC_POWER_UNKNOWN;
	if (strcmp(s, "On") == 0 || strcmp(s, "PoweringOff") == 0 || strcmp(s, "Paused") == 0)
		return VGL_BMC_POWER_ON;
	if (strcmp(s, "Off") == 0 || strcmp(s, "PoweringOn") == 0)
		return VGL_BMC_POWER_OFF;
	return VGL_BMC_POWER_UNKNOWN;
}

int vgl_rf_health(const char *s)
{
	if (!s)
		return VGL_BMC_UNKNOWN;
	if (strcmp(s, "OK") == 0)
		return VGL_BMC_OK;
	if (strcmp(s, "Warning") == 0)
		return VGL_BMC_WARNING;
	if (strcmp(s, "Critical") == 0)
		return VGL_BMC_CRITICAL;
	return VGL_BMC_UNKNOWN;
}

int vgl_rf_system_parse(const cJSON *j, struct vgl_rf_system *s, char *err, size_t errlen)
{
	const cJSON *st, *links;

	memset(s, 0, sizeof(*s));
	s->power = VGL_BMC_POWER_UNKNOWN;
	s->health = VGL_BMC_UNKNOWN;
	if (!cJSON_IsObject(j)) {
		seterr(err, errlen, "not an object");
		return -1;
	}
	st = obj_get(j, "Status");
	if (!obj_get(j, "PowerState") && !cJSON_IsObject(st) && !vgl_rf_str(j, "Id")) {
		seterr(err, errlen, "not a ComputerSystem (no PowerState, Status or Id)");
		return -1;
	}
	s->power = vgl_rf_power_state(vgl_rf_str(j, "PowerState"));
	s->health = vgl_rf_health(vgl_rf_str(st, "Health"));
	if (s->health == VGL_BMC_UNKNOWN)
		s->health = vgl_rf_health(vgl_rf_str(st, "HealthRollup"));
	copy_str(s->state, sizeof(s->state), vgl_rf_str(st, "State"));
	vgl_rf_link(j, "LogServices", s->log_services);
	links = obj_get(j, "Links");
	first_link(obj_get(links, "Chassis"), s->chassis);
	first_link(obj_get(links, "ManagedBy"), s->manager);
	return 0;
}

static int unwanted_log(const char *s)
{
	static const char *const no[] = { "dump", "postcode", "post code", "crash", "journal",
					  "hostlogger", "audit", "diagnostic", NULL };

	for (int i = 0; no[i]; i++)
		if (ci_has(s, no[i]))
			return 1;
	return 0;
}

int vgl_rf_logservice_score(const cJSON *j, char *entries)
{
	const char *id = vgl_rf_str(j, "Id"), *name = vgl_rf_str(j, "Name");
	const char *type = vgl_rf_str(j, "LogEntryType");

	if (!vgl_rf_link(j, "Entries", entries))
		return 0;
	if (ci_eq(id, "SEL") || ci_eq(name, "SEL") || ci_eq(type, "SEL") ||
	    ci_has(name, "system event log"))
		return 3;
	if (unwanted_log(id) || unwanted_log(name))
		return 0;
	if (ci_eq(id, "Log") || ci_eq(name, "Log") || ci_eq(id, "EventLog") ||
	    ci_eq(type, "Event") || ci_has(name, "event log"))
		return 2;
	return 1;
}

int vgl_rf_logservice_path_score(const char *path)
{
	char seg[64];

	last_segment(path, seg, sizeof(seg));
	if (!seg[0])
		return 0;
	if (ci_eq(seg, "SEL") || ci_eq(seg, "IPMISEL"))
		return 3;
	if (unwanted_log(seg))
		return 0;
	if (ci_eq(seg, "Log") || ci_eq(seg, "EventLog") || ci_has(seg, "event"))
		return 2;
	return 1;
}

void vgl_rf_chassis_parse(const cJSON *j, struct vgl_rf_chassis *c)
{
	memset(c, 0, sizeof(*c));
	vgl_rf_link(j, "Thermal", c->thermal);
	vgl_rf_link(j, "Power", c->power);
	vgl_rf_link(j, "ThermalSubsystem", c->thermal_sub);
	vgl_rf_link(j, "PowerSubsystem", c->power_sub);
	vgl_rf_link(j, "Sensors", c->sensors);
}

void vgl_rf_thermal_sub_parse(const cJSON *j, char *metrics, char *fans)
{
	vgl_rf_link(j, "ThermalMetrics", metrics);
	vgl_rf_link(j, "Fans", fans);
}

void vgl_rf_power_sub_parse(const cJSON *j, char *supplies)
{
	vgl_rf_link(j, "PowerSupplies", supplies);
}

/* ---- readings ------------------------------------------------------------- */

static int worse(int a, int b)
{
	return a > b ? a : b;
}

int vgl_rf_threshold_state(const cJSON *j, double v)
{
	static const char *const crit_hi[] = { "UpperThresholdCritical", "UpperThresholdFatal" };
	static const char *const crit_lo[] = { "LowerThresholdCritical", "LowerThresholdFatal" };
	static const char *const new_crit_hi[] = { "UpperCritical", "UpperFatal",
						   "UpperCriticalUser" };
	static const char *const new_crit_lo[] = { "LowerCritical", "LowerFatal",
						   "LowerCriticalUser" };
	static const char *const new_warn_hi[] = { "UpperCaution", "UpperCautionUser" };
	static const char *const new_warn_lo[] = { "LowerCaution", "LowerCautionUser" };
	const cJSON *th = obj_get(j, "Thresholds");
	int any = 0, st = VGL_BMC_OK;
	double t;

	for (int i = 0; i < 2; i++) {
		if (num_get(j, crit_hi[i], &t)) {
			any = 1;
			if (v >= t)
				st = worse(st, VGL_BMC_CRITICAL);
		}
		if (num_get(j, crit_lo[i], &t)) {
			any = 1;
			if (v <= t)
				st = worse(st, VGL_BMC_CRITICAL);
		}
	}
	if (num_get(j, "UpperThresholdNonCritical", &t)) {
		any = 1;
		if (v >= t)
			st = worse(st, VGL_BMC_WARNING);
	}
	if (num_get(j, "LowerThresholdNonCritical", &t)) {
		any = 1;
		if (v <= t)
			st = worse(st, VGL_BMC_WARNING);
	}
	for (int i = 0; cJSON_IsObject(th) && i < 3; i++) {
		if (num_get(obj_get(th, new_crit_hi[i]), "Reading", &t)) {
			any = 1;
			if (v >= t)
				st = worse(st, VGL_BMC_CRITICAL);
		}
		if (num_get(obj_get(th, new_crit_lo[i]), "Reading", &t)) {
			any = 1;
			if (v <= t)
				st = worse(st, VGL_BMC_CRITICAL);
		}
		if (i < 2 && num_get(obj_get(th, new_warn_hi[i]), "Reading", &t)) {
			any = 1;
			if (v >= t)
				st = worse(st, VGL_BMC_WARNING);
		}
		if (i < 2 && num_get(obj_get(th, new_warn_lo[i]), "Reading", &t)) {
			any = 1;
			if (v <= t)
				st = worse(st, VGL_BMC_WARNING);
		}
	}
	return any ? st : VGL_BMC_UNKNOWN;
}

static struct vgl_rf_reading *push(struct vgl_rf_readings *rs)
{
	if (rs->n == rs->cap) {
		size_t cap = rs->cap ? rs->cap * 2 : 16;
		struct vgl_rf_reading *nr = realloc(rs->r, cap * sizeof(*nr));
		if (!nr)
			return NULL;
		rs->r = nr;
		rs->cap = cap;
	}
	memset(&rs->r[rs->n], 0, sizeof(rs->r[0]));
	return &rs->r[rs->n++];
}

/* The member's state: Status.Health, else thresholds, else unknown; an
 * absent member has none. */
static int member_state(const cJSON *m, const struct vgl_rf_reading *r)
{
	const cJSON *st = obj_get(m, "Status");
	int h;

	if (ci_eq(vgl_rf_str(st, "State"), "Absent"))
		return VGL_BMC_UNKNOWN;
	h = vgl_rf_health(vgl_rf_str(st, "Health"));
	if (h != VGL_BMC_UNKNOWN)
		return h;
	return r->has_value ? vgl_rf_threshold_state(m, r->value) : VGL_BMC_UNKNOWN;
}

/* One member of kind: 1 added, 0 skipped (no name), -1 out of memory. */
static int add_member(struct vgl_rf_readings *rs, const cJSON *m, enum vgl_rf_kind kind,
		      const char *vkey, const char *vkey2, const char *unit)
{
	const char *name = vgl_rf_str(m, "Name");
	struct vgl_rf_reading *r;
	const cJSON *sp;

	if (!name && kind == VGL_RF_THERMAL)
		name = vgl_rf_str(m, "FanName");
	if (!cJSON_IsObject(m) || !name || !*name)
		return 0;
	if (!(r = push(rs)))
		return -1;
	copy_str(r->name, sizeof(r->name), name);
	copy_str(r->unit, sizeof(r->unit), unit);
	switch (kind) {
	case VGL_RF_SENSOR:
		r->has_value = num_get(m, "Reading", &r->value);
		copy_str(r->unit, sizeof(r->unit), vgl_rf_str(m, "ReadingUnits"));
		vgl_rf_path_clean(vgl_rf_str(m, "@odata.id"), r->self);
		break;
	case VGL_RF_FAN:
		sp = obj_get(m, "SpeedPercent");
		if ((r->has_value = num_get(sp, "SpeedRPM", &r->value)))
			copy_str(r->unit, sizeof(r->unit), "RPM");
		else if ((r->has_value = num_get(sp, "Reading", &r->value)))
			copy_str(r->unit, sizeof(r->unit), "%");
		vgl_rf_path_clean(vgl_rf_str(m, "@odata.id"), r->self);
		break;
	case VGL_RF_PSU:
		r->has_value = num_get(m, "PowerInputWatts", &r->value);
		copy_str(r->unit, sizeof(r->unit), "W");
		vgl_rf_link(m, "Metrics", r->metrics);
		vgl_rf_path_clean(vgl_rf_str(m, "@odata.id"), r->self);
		break;
	default:
		r->has_value = num_get(m, vkey, &r->value) ||
			       (vkey2 && num_get(m, vkey2, &r->value));
		if (!strcmp(unit, "RPM") && vgl_rf_str(m, "ReadingUnits"))
			copy_str(r->unit, sizeof(r->unit), vgl_rf_str(m, "ReadingUnits"));
		break;
	}
	r->state = member_state(m, r);
	return 1;
}

static int add_array(struct vgl_rf_readings *rs, const cJSON *j, const char *key,
		     enum vgl_rf_kind kind, const char *vkey, const char *vkey2, const char *unit)
{
	const cJSON *arr = obj_get(j, key), *m;
	int n = 0, rc;

	if (!cJSON_IsArray(arr))
		return 0;
	cJSON_ArrayForEach(m, arr) {
		if ((rc = add_member(rs, m, kind, vkey, vkey2, unit)) < 0)
			return -1;
		n += rc;
	}
	return n;
}

static int add_metrics(struct vgl_rf_readings *rs, const cJSON *j)
{
	const cJSON *arr = obj_get(j, "TemperatureReadingsCelsius"), *m;
	int n = 0;

	if (!cJSON_IsArray(arr))
		return 0;
	cJSON_ArrayForEach(m, arr) {
		const char *dev = vgl_rf_str(m, "DeviceName");
		const char *uri = vgl_rf_str(m, "DataSourceUri");
		char self[VGL_RF_PATH] = "", seg[VGL_RF_NAME];
		struct vgl_rf_reading *r;

		if (!cJSON_IsObject(m))
			continue;
		vgl_rf_path_clean(uri, self);
		if (!dev || !*dev) {
			last_segment(self, seg, sizeof(seg));
			dev = seg;
		}
		if (!*dev)
			continue;
		if (!(r = push(rs)))
			return -1;
		copy_str(r->name, sizeof(r->name), dev);
		copy_str(r->unit, sizeof(r->unit), "Cel");
		memcpy(r->self, self, sizeof(self));
		r->has_value = num_get(m, "Reading", &r->value);
		r->state = VGL_BMC_UNKNOWN;
		n++;
	}
	return n;
}

int vgl_rf_readings_add(struct vgl_rf_readings *rs, const cJSON *j, enum vgl_rf_kind kind)
{
	int a, b, c;

	if (!cJSON_IsObject(j))
		return 0;
	switch (kind) {
	case VGL_RF_THERMAL:
		if ((a = add_array(rs, j, "Temperatures", kind, "ReadingCelsius", NULL,
				   "Cel")) < 0 ||
		    (b = add_array(rs, j, "Fans", kind, "Reading", NULL, "RPM")) < 0)
			return -1;
		return a + b;
	case VGL_RF_POWER:
		if ((a = add_array(rs, j, "PowerControl", kind, "PowerConsumedWatts", NULL,
				   "W")) < 0 ||
		    (b = add_array(rs, j, "PowerSupplies", kind, "PowerInputWatts",
				   "LastPowerOutputWatts", "W")) < 0 ||
		    (c = add_array(rs, j, "Voltages", kind, "ReadingVolts", NULL, "V")) < 0)
			return -1;
		return a + b + c;
	case VGL_RF_THERMAL_METRICS:
		return add_metrics(rs, j);
	default:
		if (cJSON_IsArray(obj_get(j, "Members")))
			return add_array(rs, j, "Members", kind, NULL, NULL, "");
		return add_member(rs, j, kind, NULL, NULL, "");
	}
}

struct vgl_rf_reading *vgl_rf_readings_find(const struct vgl_rf_readings *rs, const char *name,
					    int need)
{
	struct vgl_rf_reading *any = NULL;

	if (!name)
		return NULL;
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < rs->n; i++) {
			struct vgl_rf_reading *r = &rs->r[i];
			if (pass == 0 ? strcmp(r->name, name) != 0 : strcasecmp(r->name, name) != 0)
				continue;
			if ((!(need & VGL_RF_NEED_VALUE) || r->has_value) &&
			    (!(need & VGL_RF_NEED_STATE) || r->state != VGL_BMC_UNKNOWN))
				return r;
			if (!any)
				any = r;
		}
	}
	return any;
}

int vgl_rf_readings_worst(const struct vgl_rf_readings *rs, const char **name)
{
	int w = VGL_BMC_UNKNOWN;
	const char *who = NULL;

	for (size_t i = 0; i < rs->n; i++) {
		if (rs->r[i].state > w) {
			w = rs->r[i].state;
			who = w > VGL_BMC_OK ? rs->r[i].name : NULL;
		}
	}
	if (name)
		*name = who;
	return w;
}

void vgl_rf_readings_clear(struct vgl_rf_readings *rs)
{
	rs->n = 0;
}

void vgl_rf_readings_free(struct vgl_rf_readings *rs)
{
	free(rs->r);
	rs->r = NULL;
	rs->n = rs->cap = 0;
}

int vgl_rf_psu_metrics_watts(const cJSON *j, double *w)
{
	return num_get(obj_get(j, "InputPowerWatts"), "Reading", w);
}

/* ---- error bodies --------------------------------------------------------- */

void vgl_rf_error_message(const cJSON *j, char *out, size_t n)
{
	const cJSON *e = obj_get(j, "error"), *ext = obj_get(e, "@Message.ExtendedInfo");
	const char *msg = NULL;
	size_t len = 0;

	out[0] = 0;
	if (cJSON_IsArray(ext))
		msg = vgl_rf_str(cJSON_GetArrayItem(ext, 0), "Message");
	if (!msg)
		msg = vgl_rf_str(e, "message");
	if (msg && n)
		text_add(out, n, &len, msg);
}
