/* The Redfish collector's discovery (collectors/redfish.c has the overview
 * of a poll's steps): what each BMC keeps between polls, filled from the
 * answers of collectors/redfish_poll.c's steps: the service root (a BMC
 * replaced forgets its session and cursor), the LogServices candidates
 * ranked, and where each sensor name of the source's metrics is found (a
 * primary resource, a member resource, or nowhere), with the member scan
 * that looks for the names still unknown. It sends nothing: the step
 * machine asks it what to read next. */
#include "collectors/redfish_int.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/log.h"

#define MAX_SCAN_MEMBERS 512

/* ---- query features ----------------------------------------------------------- */

/* The query features, unless the BMC refused them once (a service may
 * claim in ProtocolFeaturesSupported what it does not do). */
const char *vgl__rf_expand_q(const struct rf_bmc *b)
{
	return b->no_expand ? NULL : vgl_rf_expand_query(&b->root);
}

int vgl__rf_skip_usable(const struct rf_bmc *b)
{
	return !b->no_skip && (b->root.top_skip || b->skip_ok);
}

/* ---- discovery state ---------------------------------------------------------- */

void vgl__rf_scan_list_free(struct rf_bmc *b)
{
	for (size_t i = 0; i < b->n_scan; i++)
		free(b->scan_paths[i]);
	free(b->scan_paths);
	b->scan_paths = NULL;
	b->n_scan = b->scan_i = 0;
	b->scan_sub = 0;
}

void vgl__rf_reset_discovery(struct rf_bmc *b)
{
	b->have_root = b->rediscover = 0;
	b->sessions[0] = b->system[0] = b->ls_coll[0] = b->manager[0] = 0;
	b->manager_tried = b->ls_listed = b->n_ls_cand = b->ls_i = b->ls_best_score = 0;
	b->ls_best[0] = b->entries[0] = b->log_fb[0] = 0;
	b->log_fb_score = 0;
	b->log_state = LOG_UNKNOWN;
	b->skip_ok = 0;
	b->chassis[0] = 0;
	b->chassis_done = b->tsub_done = b->psub_done = b->disc_logged = 0;
	memset(&b->ch, 0, sizeof(b->ch));
	b->tmetrics[0] = b->fans[0] = b->psus[0] = 0;
	vgl__rf_scan_list_free(b);
	b->scan_coll = b->scan_fails = 0;
	for (size_t i = 0; i < b->n_wants; i++) {
		b->wants[i].where = W_UNKNOWN;
		b->wants[i].member[0] = b->wants[i].metrics[0] = 0;
	}
}

void vgl__rf_log_discovery(struct rf_bmc *b)
{
	const char *thermal = b->ch.thermal[0] || b->ch.power[0] ? "legacy"
			      : b->ch.thermal_sub[0] || b->ch.power_sub[0] ? "subsystem" : "none";
	const char *exq = vgl__rf_expand_q(b);

	b->disc_logged = 1;
	vgl__rf_log(b, VGL_LOG_INFO, "redfish System %s, thermal %s, log %s%s%s%s, %s auth",
		b->system, thermal, b->log_state == LOG_FOUND ? b->entries : "none",
		b->ch.sensors[0] ? ", sensors " : "", b->ch.sensors[0] ? b->ch.sensors : "",
		b->ch.sensors[0] ? (exq ? " (expanded)" : " (by name)") : "",
		b->spec->auth == VGL_BMC_AUTH_BASIC ? "basic" : "session");
}

/* ---- the service root, the log service ---------------------------------------- */

void vgl__rf_root_answer(struct rf_bmc *b, const cJSON *j)
{
	char err[128];

	if (vgl_rf_root_parse(j, &b->root, err, sizeof(err)) != 0) {
		vgl__rf_fail(b, VGL_Q_ERROR, "GET /redfish/v1/: %s", err);
		return;
	}
	if (b->prev_uuid[0] && b->root.uuid[0] && strcmp(b->prev_uuid, b->root.uuid) != 0) {
		vgl__rf_log(b, VGL_LOG_NOTICE, "BMC replaced (service root UUID %s, was %s): "
			"rediscovered, its event log read afresh", b->root.uuid, b->prev_uuid);
		b->cur.valid = 0;
		b->emit_cleared = 1;
		b->no_expand = b->no_skip = 0;
		if (b->token)
			explicit_bzero(b->token, strlen(b->token));
		free(b->token);
		b->token = NULL;
		b->session[0] = 0;
	}
	if (b->root.uuid[0])
		memcpy(b->prev_uuid, b->root.uuid, sizeof(b->prev_uuid));
	b->have_root = 1;
	b->step = ST_SESSSVC;
}

void vgl__rf_logsvcs_answer(struct rf_bmc *b, const cJSON *j)
{
	size_t n = vgl_rf_members(j);
	int score[RF_LS_CAND];

	b->ls_listed = 1;
	b->n_ls_cand = b->ls_i = 0;
	for (size_t i = 0; i < n && i < 32; i++) {
		char p[VGL_RF_PATH];
		int s, k;

		if (!vgl_rf_member(j, i, p) || (s = vgl_rf_logservice_path_score(p)) == 0)
			continue;
		/* ranked by score, stable; the lowest falls off when full */
		for (k = b->n_ls_cand; k > 0 && score[k - 1] < s; k--)
			;
		if (k >= RF_LS_CAND)
			continue;
		if (b->n_ls_cand == RF_LS_CAND)
			b->n_ls_cand--;
		memmove(&b->ls_cand[k + 1], &b->ls_cand[k],
			(size_t)(b->n_ls_cand - k) * VGL_RF_PATH);
		memmove(&score[k + 1], &score[k], (size_t)(b->n_ls_cand - k) * sizeof(int));
		memcpy(b->ls_cand[k], p, VGL_RF_PATH);
		score[k] = s;
		b->n_ls_cand++;
	}
	b->step = ST_LOGSVC;
}

/* ---- sensors by name ---------------------------------------------------------- */

static int any_unknown(const struct rf_bmc *b)
{
	for (size_t i = 0; i < b->n_wants; i++)
		if (b->wants[i].where == W_UNKNOWN)
			return 1;
	return 0;
}

static int satisfies(const struct vgl_rf_reading *r, int need)
{
	return r && (!(need & VGL_RF_NEED_VALUE) || r->has_value) &&
	       (!(need & VGL_RF_NEED_STATE) || r->state != VGL_BMC_UNKNOWN);
}

/* After the primary resources: which names they gave, and which point at
 * a Sensor of their own (an excerpt's DataSourceUri). */
void vgl__rf_resolve_primary(struct rf_bmc *b)
{
	for (size_t i = 0; i < b->n_wants; i++) {
		struct rf_want *w = &b->wants[i];
		struct vgl_rf_reading *r = vgl_rf_readings_find(&b->rd, w->name, w->need);

		if (satisfies(r, w->need)) {
			w->where = W_PRIMARY;
		} else if (w->where == W_MEMBER) {
			continue;
		} else if (r && r->self[0]) {
			w->where = W_MEMBER;
			w->kind = VGL_RF_SENSOR;
			snprintf(w->member, sizeof(w->member), "%s", r->self);
		} else if (w->where == W_PRIMARY) {
			w->where = W_UNKNOWN;   /* gone from them: look again */
		}
	}
}

/* A reading just read from member path (kind): the unknown names it is
 * (how many). */
static int match_wants(struct rf_bmc *b, const struct vgl_rf_reading *r, const char *path,
		       enum vgl_rf_kind kind)
{
	int n = 0;

	for (size_t i = 0; i < b->n_wants; i++) {
		struct rf_want *w = &b->wants[i];

		if (w->where != W_UNKNOWN || strcasecmp(w->name, r->name) != 0)
			continue;
		w->where = W_MEMBER;
		w->kind = kind;
		snprintf(w->member, sizeof(w->member), "%s", path);
		snprintf(w->metrics, sizeof(w->metrics), "%s", r->metrics);
		vgl__rf_log(b, VGL_LOG_DEBUG, "sensor \"%s\" is %s", w->name, path);
		n++;
	}
	return n;
}

static const char *scan_coll_path(const struct rf_bmc *b, enum vgl_rf_kind *kind)
{
	switch (b->scan_coll) {
	case 0: *kind = VGL_RF_SENSOR; return b->ch.sensors;
	case 1: *kind = VGL_RF_FAN; return b->fans;
	case 2: *kind = VGL_RF_PSU; return b->psus;
	default: return NULL;
	}
}

const char *vgl__rf_scan_next(struct rf_bmc *b, char *path, size_t n)
{
	enum vgl_rf_kind kind;
	const char *coll;

	if (b->scan_sub)        /* the watts of a PSU just found */
		return b->scan_sub_path;
	if (!any_unknown(b)) {
		vgl__rf_scan_list_free(b);
		return NULL;
	}
	while ((coll = scan_coll_path(b, &kind))) {
		if (!coll[0]) {
			b->scan_coll++;
			continue;
		}
		if (!b->scan_paths) {
			const char *ex = vgl__rf_expand_q(b);
			snprintf(path, n, "%s%s%s", coll, ex ? "?" : "", ex ? ex : "");
			return path;
		}
		if (b->scan_i < b->n_scan)
			return b->scan_paths[b->scan_i];
		vgl__rf_scan_list_free(b);
		b->scan_coll++;
	}
	for (size_t i = 0; i < b->n_wants; i++) {
		if (b->wants[i].where != W_UNKNOWN)
			continue;
		b->wants[i].where = W_NOWHERE;
		vgl__rf_log(b, VGL_LOG_INFO, "no sensor named \"%s\" (its metrics stay absent "
			"until the BMC is rediscovered)", b->wants[i].name);
	}
	return NULL;
}

void vgl__rf_want_answer(struct rf_bmc *b, const cJSON *j)
{
	struct rf_want *w = &b->wants[b->want_i];
	size_t before = b->rd.n;
	double watts;

	if (b->want_sub) {
		if (b->want_reading < b->rd.n && vgl_rf_psu_metrics_watts(j, &watts)) {
			b->rd.r[b->want_reading].value = watts;
			b->rd.r[b->want_reading].has_value = 1;
		}
		b->want_sub = 0;
		b->want_i++;
		return;
	}
	if (vgl_rf_readings_add(&b->rd, j, w->kind) < 0)
		vgl__rf_part_fail(b, VGL_Q_ERROR, "out of memory");
	if (b->rd.n == before || strcasecmp(b->rd.r[before].name, w->name) != 0) {
		/* the member is something else now: look for the name again */
		vgl__rf_log(b, VGL_LOG_DEBUG, "%s is no longer sensor \"%s\"", w->member, w->name);
		w->where = W_UNKNOWN;
		w->member[0] = 0;
	} else if (w->kind == VGL_RF_PSU && !b->rd.r[before].has_value &&
		   (b->rd.r[before].metrics[0] || w->metrics[0])) {
		if (b->rd.r[before].metrics[0])
			memcpy(w->metrics, b->rd.r[before].metrics, sizeof(w->metrics));
		b->want_sub = 1;
		b->want_reading = before;
		return;
	}
	b->want_i++;
}

void vgl__rf_scan_answer(struct rf_bmc *b, const cJSON *j)
{
	enum vgl_rf_kind kind;
	const char *coll = scan_coll_path(b, &kind);
	size_t before = b->rd.n;
	double w;

	if (!coll)
		return;
	if (b->scan_sub) {
		if (b->scan_sub_reading < b->rd.n && vgl_rf_psu_metrics_watts(j, &w)) {
			b->rd.r[b->scan_sub_reading].value = w;
			b->rd.r[b->scan_sub_reading].has_value = 1;
		}
		b->scan_sub = 0;
		return;
	}
	if (!b->scan_paths) {
		const cJSON *mem = cJSON_GetObjectItemCaseSensitive(j, "Members");
		const cJSON *m0 = cJSON_IsArray(mem) ? cJSON_GetArrayItem(mem, 0) : NULL;
		size_t n = vgl_rf_members(j);

		b->scan_fails = 0;
		if (vgl_rf_str(m0, "Name")) {
			/* expanded: every member is here */
			if (vgl_rf_readings_add(&b->rd, j, kind) < 0)
				vgl__rf_part_fail(b, VGL_Q_ERROR, "out of memory");
			for (size_t i = before; i < b->rd.n; i++)
				if (b->rd.r[i].self[0])
					match_wants(b, &b->rd.r[i], b->rd.r[i].self, kind);
			b->scan_coll++;
			return;
		}
		if (n > MAX_SCAN_MEMBERS)
			n = MAX_SCAN_MEMBERS;
		if (!(b->scan_paths = calloc(n ? n : 1, sizeof(char *)))) {
			vgl__rf_part_fail(b, VGL_Q_ERROR, "out of memory");
			b->step = ST_DONE;
			return;
		}
		for (size_t i = 0; i < n; i++) {
			char p[VGL_RF_PATH];
			if (vgl_rf_member(j, i, p) && (b->scan_paths[b->n_scan] = strdup(p)))
				b->n_scan++;
		}
		b->scan_i = 0;
		return;
	}
	if (vgl_rf_readings_add(&b->rd, j, kind) < 0)
		vgl__rf_part_fail(b, VGL_Q_ERROR, "out of memory");
	for (size_t i = before; i < b->rd.n; i++) {
		struct vgl_rf_reading *r = &b->rd.r[i];
		if (match_wants(b, r, b->scan_paths[b->scan_i], kind) && kind == VGL_RF_PSU &&
		    !r->has_value && r->metrics[0]) {
			b->scan_sub = 1;
			b->scan_sub_reading = i;
			memcpy(b->scan_sub_path, r->metrics, sizeof(b->scan_sub_path));
		}
	}
	b->scan_i++;
}
