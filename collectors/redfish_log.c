/* What collectors/redfish_log.h declares: the cursor, entry Ids and
 * times, the classification table, one entry's text, and the scan of the
 * Entries pages with its cleared and wrapped detection. */
#include "collectors/redfish_log.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "collectors/redfish_parse_int.h"

/* ---- small helpers -------------------------------------------------------- */

static int cs_has(const char *hay, const char *needle)
{
	return hay && strstr(hay, needle) != NULL;
}

/* ---- the cursor, entry Ids and times -------------------------------------- */

static int parse_u64(const char *s, const char **end, uint64_t *out)
{
	uint64_t v = 0;
	const char *p = s;

	if (!isdigit((unsigned char)*p))
		return -1;
	for (; isdigit((unsigned char)*p); p++) {
		unsigned d = (unsigned)(*p - '0');
		if (v > (UINT64_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	*out = v;
	*end = p;
	return 0;
}

int vgl_rf_cursor_parse(const char *s, struct vgl_rf_cursor *c)
{
	struct vgl_rf_cursor t = { .valid = 1 };
	const char *p;

	if (!s || strncmp(s, "rf1:", 4) != 0 || parse_u64(s + 4, &p, &t.last_id) != 0 ||
	    *p != ':' || parse_u64(p + 1, &p, &t.count) != 0 || *p)
		return -1;
	*c = t;
	return 0;
}

void vgl_rf_cursor_format(const struct vgl_rf_cursor *c, char *buf, size_t n)
{
	snprintf(buf, n, "rf1:%llu:%llu", (unsigned long long)c->last_id,
		 (unsigned long long)c->count);
}

uint64_t vgl_rf_entry_id(const char *id)
{
	uint64_t v = 0, r;
	int runs = 0;
	const char *p = id, *e;

	if (!id)
		return 0;
	while (*p) {
		if (!isdigit((unsigned char)*p)) {
			p++;
			continue;
		}
		if (parse_u64(p, &e, &r) != 0)
			return 0;
		if (runs++ && (v > (UINT64_MAX - r) / 1000000u))
			return 0;
		v = runs > 1 ? v * 1000000u + r : r;
		p = e;
	}
	return v;
}

static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static int digits(const char *s, int n, int *out)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

int64_t vgl_rf_iso8601_ms(const char *s)
{
	int y, mo, d, h, mi, sec, ms = 0, oh = 0, om = 0, sign = 0;
	const char *p;
	int64_t t;

	if (!s || strlen(s) < 19 || digits(s, 4, &y) || s[4] != '-' || digits(s + 5, 2, &mo) ||
	    s[7] != '-' || digits(s + 8, 2, &d) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
	    digits(s + 11, 2, &h) || s[13] != ':' || digits(s + 14, 2, &mi) || s[16] != ':' ||
	    digits(s + 17, 2, &sec))
		return 0;
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60 || y < 2000)
		return 0;
	p = s + 19;
	if (*p == '.' || *p == ',') {
		int scale = 100;
		for (p++; isdigit((unsigned char)*p); p++) {
			ms += (*p - '0') * scale;
			scale /= 10;
		}
	}
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		sign = *p == '-' ? -1 : 1;
		if (digits(p + 1, 2, &oh))
			return 0;
		p += 3;
		if (*p == ':')
			p++;
		if (digits(p, 2, &om))
			return 0;
		p += 2;
		if (oh > 23 || om > 59)
			return 0;
	}
	if (*p)
		return 0;
	t = days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 + mi * 60 + sec;
	t -= sign * (oh * 3600 + om * 60);
	return t * 1000 + ms;
}

/* ---- classification ------------------------------------------------------- */

enum vgl_bmc_event_class vgl_rf_classify(const char *severity, const char *sensor_type,
					 const char *message_id, const char *message,
					 const char *entry_code)
{
	static const char *const hw_types[] = {
		"temperature", "voltage", "current", "fan", "cooling", "processor", "memory",
		"power supply", "power unit", "drive", "critical interrupt", "chip set",
		"add-in card", "module/board", "microcontroller", "cable", "battery", "watchdog",
		"system firmware", NULL,
	};
	static const char *const hw_ids[] = {
		"Temp", "Thermal", "CPU", "Processor", "Memory", "DIMM", "ECC", "PowerSupply",
		"PSU", "Fan", "Voltage", "Current", "MachineCheck", "IERR", "Drive", "Battery",
		NULL,
	};
	static const char *const cmd_ids[] = {
		"PowerOff", "PowerOn", "PowerCycle", "PowerButton", "ResetType",
		"ComputerSystem.Reset", "ForceOff", "ForceRestart", NULL,
	};
	int os_stop = ci_has(sensor_type, "OS Stop") || cs_has(message_id, "OSStop") ||
		      cs_has(message_id, "CriticalStop");

	/* 1: an OS crash */
	if (os_stop && (ci_has(message, "critical stop") || ci_has(message, "crash") ||
			ci_has(message_id, "CriticalStop") || ci_has(message_id, "crash") ||
			ci_has(entry_code, "critical stop")))
		return VGL_BMC_EV_FAULT;
	/* 2: hardware at Critical */
	if (severity && strcmp(severity, "Critical") == 0) {
		for (int i = 0; hw_types[i]; i++)
			if (ci_has(sensor_type, hw_types[i]))
				return VGL_BMC_EV_FAULT;
		for (int i = 0; hw_ids[i]; i++)
			if (cs_has(message_id, hw_ids[i]))
				return VGL_BMC_EV_FAULT;
	}
	/* 3: a power or reset command */
	for (int i = 0; cmd_ids[i]; i++)
		if (cs_has(message_id, cmd_ids[i]))
			return VGL_BMC_EV_COMMAND;
	/* 4: an orderly shutdown */
	if (ci_has(sensor_type, "OS Stop / Shutdown") || ci_has(message_id, "GracefulShutdown") ||
	    ci_has(message, "graceful shutdown") || ci_has(message, "GracefulShutdown") ||
	    ci_has(message, "soft-off") || ci_has(message, "soft off") ||
	    ci_has(message_id, "SoftOff") ||
	    (ci_has(sensor_type, "System ACPI Power State") && cs_has(message, "S5")))
		return VGL_BMC_EV_ORDERLY;
	return VGL_BMC_EV_INFO;
}

/* ---- entries and the scan ------------------------------------------------- */

int vgl_rf_entry_parse(const cJSON *m, struct vgl_rf_entry *e)
{
	const char *id, *msg, *mid, *sev, *type;
	const cJSON *idv;
	char idbuf[32], seg[64];
	size_t len = 0;

	memset(e, 0, sizeof(*e));
	if (!cJSON_IsObject(m))
		return -1;
	vgl_rf_path_clean(vgl_rf_str(m, "@odata.id"), e->path);
	idv = obj_get(m, "Id");
	id = cJSON_IsString(idv) ? idv->valuestring : NULL;
	if (!id && cJSON_IsNumber(idv) && idv->valuedouble >= 0 && idv->valuedouble < 1e18) {
		snprintf(idbuf, sizeof(idbuf), "%.0f", idv->valuedouble);
		id = idbuf;
	}
	msg = vgl_rf_str(m, "Message");
	mid = vgl_rf_str(m, "MessageId");
	sev = vgl_rf_str(m, "Severity");
	type = vgl_rf_str(m, "SensorType");
	if (!id) {
		if (!e->path[0])
			return -1;
		last_segment(e->path, seg, sizeof(seg));
		id = seg;
	}
	e->id = vgl_rf_entry_id(id);
	e->link_only = !idv && !msg && !mid && !sev && e->path[0];
	if (e->link_only)
		return 0;
	e->ts_ms = vgl_rf_iso8601_ms(vgl_rf_str(m, "Created"));
	e->cls = vgl_rf_classify(sev, type, mid, msg, vgl_rf_str(m, "EntryCode"));
	text_add(e->text, sizeof(e->text), &len, msg && *msg ? msg : mid && *mid ? mid
									: "(no message)");
	text_add(e->text, sizeof(e->text), &len, " (");
	text_add(e->text, sizeof(e->text), &len, sev && *sev ? sev : "?");
	if (type && *type) {
		text_add(e->text, sizeof(e->text), &len, ", ");
		text_add(e->text, sizeof(e->text), &len, type);
	}
	text_add(e->text, sizeof(e->text), &len, ")");
	return 0;
}

void vgl_rf_logscan_init(struct vgl_rf_logscan *s, const struct vgl_rf_cursor *from,
			 uint64_t skip)
{
	memset(s, 0, offsetof(struct vgl_rf_logscan, newer));
	if (from)
		s->from = *from;
	s->skip = s->from.valid ? skip : 0;
	s->le_last = s->skip;
	s->total = -1;
}

/* Keeps the VGL_RF_MAX_EVENTS lowest Ids, ascending, without duplicates:
 * 1 kept or already there, 0 not kept. */
static int keep_lowest(struct vgl_rf_entry *arr, size_t *n, const struct vgl_rf_entry *e,
		       int *dup)
{
	size_t i = *n;

	*dup = 0;
	while (i > 0 && arr[i - 1].id > e->id)
		i--;
	if (i > 0 && arr[i - 1].id == e->id) {
		*dup = 1;
		return 1;
	}
	if (i == VGL_RF_MAX_EVENTS)
		return 0;
	if (*n == VGL_RF_MAX_EVENTS)
		(*n)--;
	memmove(&arr[i + 1], &arr[i], (*n - i) * sizeof(arr[0]));
	arr[i] = *e;
	(*n)++;
	return 1;
}

int vgl_rf_logscan_page(struct vgl_rf_logscan *s, const cJSON *page, const char *entries,
			int top_skip, char *next, char *err, size_t errlen)
{
	const cJSON *mem = obj_get(page, "Members"), *m;
	struct vgl_rf_entry e;
	double cnt;
	size_t on_page = 0;
	int first = s->pages == 0;

	next[0] = 0;
	if (!cJSON_IsArray(mem)) {
		seterr(err, errlen, "no Members array");
		return -1;
	}
	if (first && num_get(page, "Members@odata.count", &cnt) && cnt >= 0 && cnt < 1e15)
		s->total = (int64_t)cnt;
	cJSON_ArrayForEach(m, mem) {
		int ok = vgl_rf_entry_parse(m, &e) == 0, d1 = 0, d2 = 0, is_new;

		if (first && s->skip && on_page == 0 && (!ok || e.id != s->from.last_id)) {
			s->restart = 1;
			return 0;
		}
		on_page++;
		if (!ok || !e.id) {
			/* no usable Id: it takes a place, and is never new */
			s->seen++;
			s->le_last++;
			continue;
		}
		is_new = s->from.valid && e.id > s->from.last_id;
		keep_lowest(s->oldest, &s->n_oldest, &e, &d1);
		if (is_new)
			keep_lowest(s->newer, &s->n_newer, &e, &d2);
		if (d1 || d2)
			continue;       /* read on an earlier page: the log moved */
		s->seen++;
		s->n_ids++;
		if (e.id > s->max_id)
			s->max_id = e.id;
		if (s->from.valid && e.id == s->from.last_id)
			s->seen_last = 1;
		if (is_new)
			s->n_newer_all++;
		else
			s->le_last++;
	}
	if (first && s->skip && on_page == 0) {
		s->restart = 1;
		return 0;
	}
	s->pages++;
	if (vgl_rf_path_clean(vgl_rf_str(page, "Members@odata.nextLink"), next))
		return 0;
	if (top_skip && on_page && s->total >= 0 && s->skip + s->seen < (uint64_t)s->total &&
	    entries && snprintf(next, VGL_RF_PATH, "%s?$skip=%llu", entries,
				(unsigned long long)(s->skip + s->seen)) >= VGL_RF_PATH) {
		next[0] = 0;
		seterr(err, errlen, "no room for a $skip query after the Entries path");
		return -1;      /* an unread rest would look like a cleared log */
	}
	return 0;
}

void vgl_rf_logscan_finish(struct vgl_rf_logscan *s, struct vgl_rf_logresult *out)
{
	int gone, shrunk;

	memset(out, 0, sizeof(*out));
	if (!s->from.valid) {
		out->cursor = (struct vgl_rf_cursor){ 1, s->max_id, s->le_last };
		out->changed = 1;
		return;
	}
	gone = s->from.last_id != 0 && !s->seen_last;
	shrunk = s->total >= 0 && (uint64_t)s->total < s->from.count;
	out->cleared = gone || shrunk;
	out->cursor.valid = 1;
	if (gone) {
		out->e = s->oldest;
		out->n = s->n_oldest;
		out->left = s->n_ids - s->n_oldest;
		out->cursor.last_id = out->n ? out->e[out->n - 1].id : 0;
		out->cursor.count = out->n;
	} else {
		out->e = s->newer;
		out->n = s->n_newer;
		out->left = s->n_newer_all - s->n_newer;
		out->cursor.last_id = out->n ? out->e[out->n - 1].id : s->from.last_id;
		out->cursor.count = s->le_last + out->n;
	}
	out->changed = out->cursor.last_id != s->from.last_id ||
		       out->cursor.count != s->from.count;
}
