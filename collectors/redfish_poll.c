/* The Redfish collector's polls (collectors/redfish.c has the overview):
 * each BMC's poll as a sequence of steps, one request at a time: what each
 * step sends, how its answer, an HTTP error or a failed transfer moves the
 * poll on, the login. What discovery keeps between polls and where the
 * sensors are: collectors/redfish_discover.c. Answers are read through
 * collectors/redfish_parse.h and collectors/redfish_log.h, requests go out
 * through collectors/redfish_http.c. Results are made in
 * collectors/redfish.c (vgl__rf_finish, vgl__rf_fail). */
#include "collectors/redfish_int.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/log.h"

#define ESSENTIAL(st) ((st) <= ST_SYSTEM)

#define MAX_LOG_PAGES 200
#define DEFAULT_SESSIONS "/redfish/v1/SessionService/Sessions"

static const char *method_str(enum rf_method m)
{
	return m == RF_POST ? "POST" : m == RF_DELETE ? "DELETE" : "GET";
}

/* The poll cannot go on: OK with what it has once the System answered. */
static void stop(struct rf_bmc *b, enum vgl_quality q, const char *detail)
{
	if (b->sys_ok) {
		vgl__rf_part_fail(b, q, "%s", detail);
		if (b->step <= ST_LOG_FETCH && !b->log_done && b->log_q == VGL_Q_OK)
			b->log_q = q;
		vgl__rf_finish(b);
	} else {
		vgl__rf_fail(b, q, "%s", detail);
	}
}

/* ---- requests ---------------------------------------------------------------- */

/* 1: the request is out; -1: the poll ended (deadline, or it could not be sent). */
static int issue(struct rf_bmc *b, enum rf_method m, const char *path, const char *body)
{
	uint64_t now = vgl__rf_now_ms();
	char why[VGL_RF_PATH + 160];

	if (now >= b->deadline_ms) {
		snprintf(why, sizeof(why), "%s %s: not sent, the poll's %u ms were used up",
			 method_str(m), path, (unsigned)b->timeout_ms);
		stop(b, VGL_Q_TIMEOUT, why);
		return -1;
	}
	if (vgl__rf_send(b, m, path, body, (long)(b->deadline_ms - now)) != 0) {
		snprintf(why, sizeof(why), "%s %s: %s", method_str(m), path, b->local_err);
		stop(b, VGL_Q_ERROR, why);
		return -1;
	}
	return 1;
}

static int login_start(struct rf_bmc *b)
{
	const char *user = b->spec->username ? b->spec->username : "";
	const char *pass = b->spec->password ? b->spec->password : "";
	cJSON *o = cJSON_CreateObject();
	cJSON *u = o ? cJSON_AddStringToObject(o, "UserName", user) : NULL;
	cJSON *p = u ? cJSON_AddStringToObject(o, "Password", pass) : NULL;

	if (b->post) {
		explicit_bzero(b->post, strlen(b->post));
		cJSON_free(b->post);
		b->post = NULL;
	}
	if (p)
		b->post = cJSON_PrintUnformatted(o);
	if (p && p->valuestring)
		explicit_bzero(p->valuestring, strlen(p->valuestring));
	cJSON_Delete(o);
	if (!b->post) {
		stop(b, VGL_Q_ERROR, "POST: out of memory building the login");
		return -1;
	}
	return issue(b, RF_POST, b->sessions, b->post);
}

/* 1 a request is out, 0 nothing to do in this step, -1 the poll is over. */
static int step_start(struct rf_bmc *b)
{
	char path[VGL_RF_PATH + 40];
	const char *ex, *p;

	switch (b->step) {
	case ST_ROOT:
		return b->have_root ? 0 : issue(b, RF_GET, "/redfish/v1/", NULL);
	case ST_SESSSVC:
		if (b->spec->auth != VGL_BMC_AUTH_SESSION || b->sessions[0])
			return 0;
		if (b->root.sessions[0]) {
			memcpy(b->sessions, b->root.sessions, sizeof(b->sessions));
			return 0;
		}
		if (b->root.session_service[0])
			return issue(b, RF_GET, b->root.session_service, NULL);
		snprintf(b->sessions, sizeof(b->sessions), DEFAULT_SESSIONS);
		return 0;
	case ST_LOGIN:
		if (b->spec->auth != VGL_BMC_AUTH_SESSION || b->token)
			return 0;
		return login_start(b);
	case ST_SYSTEMS:
		return b->system[0] ? 0 : issue(b, RF_GET, b->root.systems, NULL);
	case ST_SYSTEM:
		return issue(b, RF_GET, b->system, NULL);
	case ST_LOGSVCS:
		if (b->log_state != LOG_UNKNOWN || b->ls_listed || !b->ls_coll[0])
			return 0;
		return issue(b, RF_GET, b->ls_coll, NULL);
	case ST_LOGSVC:
		if (b->log_state != LOG_UNKNOWN)
			return 0;
		if (b->ls_i < b->n_ls_cand && b->ls_best_score < 3)
			return issue(b, RF_GET, b->ls_cand[b->ls_i], NULL);
		if (b->ls_best_score > b->log_fb_score) {
			b->log_fb_score = b->ls_best_score;
			memcpy(b->log_fb, b->ls_best, sizeof(b->log_fb));
		}
		/* a SEL or an event log; some other log only once the
		 * Manager's were seen too (a System's lifecycle log must not
		 * hide the Manager's SEL) */
		if (b->log_fb_score >= 2 ||
		    (b->log_fb_score > 0 && (b->manager_tried || !b->manager[0]))) {
			b->log_state = LOG_FOUND;
			memcpy(b->entries, b->log_fb, sizeof(b->entries));
		}
		return 0;
	case ST_MANAGER:
		if (b->log_state != LOG_UNKNOWN)
			return 0;
		if (!b->manager_tried && b->manager[0])
			return issue(b, RF_GET, b->manager, NULL);
		if (b->log_fb_score > 0) {
			b->log_state = LOG_FOUND;
			memcpy(b->entries, b->log_fb, sizeof(b->entries));
		} else {
			b->log_state = LOG_NONE;
		}
		return 0;
	case ST_CHASSIS_COLL:
		if (b->chassis[0] || b->chassis_done)
			return 0;
		if (!b->root.chassis[0]) {
			b->chassis_done = 1;
			return 0;
		}
		return issue(b, RF_GET, b->root.chassis, NULL);
	case ST_CHASSIS:
		return b->chassis_done || !b->chassis[0] ? 0 : issue(b, RF_GET, b->chassis, NULL);
	case ST_TSUB:
		if (b->tsub_done || !b->ch.thermal_sub[0] || b->ch.thermal[0])
			return 0;
		return issue(b, RF_GET, b->ch.thermal_sub, NULL);
	case ST_PSUB:
		if (b->psub_done || !b->ch.power_sub[0] || b->ch.power[0])
			return 0;
		return issue(b, RF_GET, b->ch.power_sub, NULL);
	case ST_LOG:
		if (!b->disc_logged && b->log_state != LOG_UNKNOWN && b->chassis_done)
			vgl__rf_log_discovery(b);
		if (b->log_state != LOG_FOUND)
			return 0;
		if (!b->scan) {
			uint64_t skip = 0;
			if (!(b->scan = malloc(sizeof(*b->scan)))) {
				b->log_q = VGL_Q_ERROR;
				vgl__rf_part_fail(b, VGL_Q_ERROR, "GET %s: out of memory",
						  b->entries);
				return 0;
			}
			if (b->cur.valid && b->cur.count > 0 && vgl__rf_skip_usable(b))
				skip = b->cur.count - 1;
			if (skip && snprintf(b->log_next, sizeof(b->log_next), "%s?$skip=%llu",
					     b->entries, (unsigned long long)skip) >=
					    (int)sizeof(b->log_next))
				skip = 0;       /* no room for the query: from the start */
			if (!skip)
				memcpy(b->log_next, b->entries, sizeof(b->log_next));
			vgl_rf_logscan_init(b->scan, &b->cur, skip);
		}
		return issue(b, RF_GET, b->log_next, NULL);
	case ST_LOG_FETCH:
		if (!b->scan)
			return 0;
		while (b->fetch_i < b->lr.n && !b->lr.e[b->fetch_i].link_only)
			b->fetch_i++;
		if (b->fetch_i < b->lr.n)
			return issue(b, RF_GET, b->lr.e[b->fetch_i].path, NULL);
		b->log_done = 1;
		return 0;
	case ST_THERMAL:
		return b->ch.thermal[0] ? issue(b, RF_GET, b->ch.thermal, NULL) : 0;
	case ST_POWER:
		return b->ch.power[0] ? issue(b, RF_GET, b->ch.power, NULL) : 0;
	case ST_TMETRICS:
		if (!b->tmetrics[0] || b->ch.thermal[0])
			return 0;
		return issue(b, RF_GET, b->tmetrics, NULL);
	case ST_SENSORS:
		ex = vgl__rf_expand_q(b);
		if (!b->ch.sensors[0] || !ex || b->ch.thermal[0] || b->ch.power[0])
			return 0;
		snprintf(path, sizeof(path), "%s?%s", b->ch.sensors, ex);
		return issue(b, RF_GET, path, NULL);
	case ST_WANT:
		if (b->want_i == 0 && !b->want_sub)
			vgl__rf_resolve_primary(b);
		while (b->want_i < b->n_wants && b->wants[b->want_i].where != W_MEMBER)
			b->want_i++;
		if (b->want_i >= b->n_wants)
			return 0;
		return issue(b, RF_GET, b->want_sub ? b->wants[b->want_i].metrics
						    : b->wants[b->want_i].member, NULL);
	case ST_SCAN:
		p = vgl__rf_scan_next(b, path, sizeof(path));
		return p ? issue(b, RF_GET, p, NULL) : 0;
	default:
		vgl__rf_finish(b);
		return -1;
	}
}

static void advance(struct rf_bmc *b)
{
	while (b->busy && !b->rf->closing) {
		if (step_start(b) != 0)
			return;
		b->step++;
	}
}

/* ---- answers ------------------------------------------------------------------ */

/* The entries taken stop before n (entry n could not be read): the cursor
 * moves only past those before it. */
static void log_truncate(struct rf_bmc *b, size_t n)
{
	struct vgl_rf_logresult *lr = &b->lr;
	int gone = b->scan->from.last_id != 0 && !b->scan->seen_last;

	if (n >= lr->n)
		return;
	lr->left += lr->n - n;
	lr->n = n;
	if (n)
		lr->cursor.last_id = lr->e[n - 1].id;
	else
		lr->cursor.last_id = gone ? 0 : b->scan->from.last_id;
	lr->cursor.count = gone ? n : b->scan->le_last + n;
	lr->changed = lr->cursor.last_id != b->scan->from.last_id ||
		      lr->cursor.count != b->scan->from.count;
}

static void login_answer(struct rf_bmc *b, long code)
{
	cJSON *j;

	if (b->post) {
		explicit_bzero(b->post, strlen(b->post));
		cJSON_free(b->post);
		b->post = NULL;
	}
	if (code != 200 && code != 201) {
		char msg[160] = "";
		if ((j = vgl_rf_parse(b->body, b->body_len, NULL, 0))) {
			vgl_rf_error_message(j, msg, sizeof(msg));
			cJSON_Delete(j);
		}
		vgl__rf_fail(b, code == 401 || code == 403 ? VGL_Q_AUTH : VGL_Q_ERROR,
		     "POST %s: HTTP %ld%s%s", b->sessions, code, msg[0] ? ": " : "", msg);
		return;
	}
	if (!b->hdr_token[0]) {
		vgl__rf_fail(b, VGL_Q_ERROR, "POST %s: HTTP %ld without an X-Auth-Token",
			     b->sessions, code);
		return;
	}
	if (!(b->token = strdup(b->hdr_token))) {
		vgl__rf_fail(b, VGL_Q_ERROR, "POST %s: out of memory", b->sessions);
		return;
	}
	explicit_bzero(b->hdr_token, sizeof(b->hdr_token));
	if (!vgl_rf_path_clean(b->hdr_location, b->session) &&
	    (j = vgl_rf_parse(b->body, b->body_len, NULL, 0))) {
		vgl_rf_path_clean(vgl_rf_str(j, "@odata.id"), b->session);
		cJSON_Delete(j);
	}
	b->rf->logins++;
	vgl__rf_log(b, VGL_LOG_DEBUG, "logged in, session %s", b->session[0] ? b->session : "?");
	b->step = b->resume_step >= 0 ? b->resume_step : ST_LOGIN + 1;
	b->resume_step = -1;
}

/* A 2xx JSON answer for b->step; sets the step to go on with. */
static void step_answer(struct rf_bmc *b, const cJSON *j)
{
	char err[128];
	int n;

	switch (b->step) {
	case ST_ROOT:
		vgl__rf_root_answer(b, j);
		return;
	case ST_SESSSVC:
		if (!vgl_rf_link(j, "Sessions", b->sessions))
			snprintf(b->sessions, sizeof(b->sessions), "%s", DEFAULT_SESSIONS);
		b->step++;
		return;
	case ST_SYSTEMS:
		if (!vgl_rf_member(j, 0, b->system)) {
			vgl__rf_fail(b, VGL_Q_ERROR, "GET %s: no ComputerSystem member",
				     b->req_path);
			return;
		}
		b->step++;
		return;
	case ST_SYSTEM:
		if (vgl_rf_system_parse(j, &b->sys, err, sizeof(err)) != 0) {
			b->rf->st.rejected++;
			vgl__rf_fail(b, VGL_Q_ERROR, "GET %s: %s", b->req_path, err);
			return;
		}
		b->sys_ok = 1;
		if (b->log_state == LOG_UNKNOWN && !b->ls_listed && !b->manager_tried)
			memcpy(b->ls_coll, b->sys.log_services, sizeof(b->ls_coll));
		if (!b->manager[0])
			memcpy(b->manager, b->sys.manager, sizeof(b->manager));
		if (!b->chassis[0] && !b->chassis_done)
			memcpy(b->chassis, b->sys.chassis, sizeof(b->chassis));
		b->step++;
		return;
	case ST_LOGSVCS:
		vgl__rf_logsvcs_answer(b, j);
		return;
	case ST_LOGSVC: {
		char entries[VGL_RF_PATH];
		if ((n = vgl_rf_logservice_score(j, entries)) > b->ls_best_score) {
			b->ls_best_score = n;
			memcpy(b->ls_best, entries, sizeof(b->ls_best));
		}
		b->ls_i++;
		return;
	}
	case ST_MANAGER:
		b->manager_tried = 1;
		b->ls_listed = b->n_ls_cand = b->ls_i = b->ls_best_score = 0;
		vgl_rf_link(j, "LogServices", b->ls_coll);
		b->step = b->ls_coll[0] ? ST_LOGSVCS : ST_MANAGER;
		return;
	case ST_CHASSIS_COLL:
		if (!vgl_rf_member(j, 0, b->chassis))
			b->chassis_done = 1;
		b->step++;
		return;
	case ST_CHASSIS:
		vgl_rf_chassis_parse(j, &b->ch);
		b->chassis_done = 1;
		b->step++;
		return;
	case ST_TSUB:
		vgl_rf_thermal_sub_parse(j, b->tmetrics, b->fans);
		b->tsub_done = 1;
		b->step++;
		return;
	case ST_PSUB:
		vgl_rf_power_sub_parse(j, b->psus);
		b->psub_done = 1;
		b->step++;
		return;
	case ST_LOG: {
		char next[VGL_RF_PATH];
		if (vgl_rf_logscan_page(b->scan, j, b->entries, vgl__rf_skip_usable(b),
					next, err, sizeof(err)) != 0) {
			b->rf->st.rejected++;
			b->log_q = VGL_Q_ERROR;
			vgl__rf_part_fail(b, VGL_Q_ERROR, "GET %s: %s", b->req_path, err);
			b->step = ST_THERMAL;
			return;
		}
		if (strstr(next, "$skip="))
			b->skip_ok = 1;
		if (b->scan->restart) {
			vgl__rf_log(b, VGL_LOG_DEBUG, "entry %llu is not where the cursor says: "
				"reading the log from the start",
				(unsigned long long)b->cur.last_id);
			vgl_rf_logscan_init(b->scan, &b->cur, 0);
			memcpy(b->log_next, b->entries, sizeof(b->log_next));
			return;
		}
		if (next[0]) {
			if (b->scan->pages >= MAX_LOG_PAGES) {
				b->log_q = VGL_Q_ERROR;
				vgl__rf_part_fail(b, VGL_Q_ERROR, "GET %s: more than %d pages "
						  "of entries", b->entries, MAX_LOG_PAGES);
				b->step = ST_THERMAL;
				return;
			}
			memcpy(b->log_next, next, sizeof(b->log_next));
			return;
		}
		vgl_rf_logscan_finish(b->scan, &b->lr);
		b->fetch_i = 0;
		b->step = ST_LOG_FETCH;
		return;
	}
	case ST_LOG_FETCH: {
		struct vgl_rf_entry e, *t = &b->lr.e[b->fetch_i];
		if (vgl_rf_entry_parse(j, &e) == 0 && !e.link_only) {
			e.id = t->id;   /* the Id its place was judged by */
			*t = e;
		} else {
			t->link_only = 2;       /* unreadable: not reported */
		}
		b->fetch_i++;
		return;
	}
	case ST_THERMAL:
	case ST_POWER:
	case ST_TMETRICS:
	case ST_SENSORS:
		n = vgl_rf_readings_add(&b->rd, j, b->step == ST_THERMAL ? VGL_RF_THERMAL
						   : b->step == ST_POWER ? VGL_RF_POWER
						   : b->step == ST_TMETRICS ? VGL_RF_THERMAL_METRICS
						   : VGL_RF_SENSOR);
		if (n < 0)
			vgl__rf_part_fail(b, VGL_Q_ERROR, "GET %s: out of memory", b->req_path);
		b->step++;
		return;
	case ST_WANT:
		vgl__rf_want_answer(b, j);
		return;
	case ST_SCAN:
		vgl__rf_scan_answer(b, j);
		return;
	default:
		b->step++;
		return;
	}
}

/* An optional step failed: go on without it (state kept for the next poll). */
static void skip_step(struct rf_bmc *b, enum vgl_quality q)
{
	switch (b->step) {
	case ST_LOGSVCS:
	case ST_MANAGER:
		b->step = ST_CHASSIS_COLL;
		return;
	case ST_LOGSVC:
		b->ls_i++;
		return;
	case ST_CHASSIS_COLL:
	case ST_CHASSIS:
		b->step = ST_LOG;
		return;
	case ST_LOG:
		b->log_q = q;
		free(b->scan);
		b->scan = NULL;
		b->step = ST_THERMAL;
		return;
	case ST_LOG_FETCH:
		log_truncate(b, b->fetch_i);
		b->log_done = 1;
		b->step = ST_THERMAL;
		return;
	case ST_WANT:
		b->want_sub = 0;
		b->want_i++;
		return;
	case ST_SCAN:
		if (b->scan_sub)
			b->scan_sub = 0;
		else if (b->scan_paths)
			b->scan_i++;
		else if (++b->scan_fails >= 3)
			b->scan_coll++;         /* a listing that keeps failing: the next */
		else
			b->step = ST_DONE;      /* the listing: again at the next poll */
		return;
	default:
		b->step++;
		return;
	}
}

static void http_error(struct rf_bmc *b, long code)
{
	const char *m = method_str(b->method);
	enum vgl_quality q = code == 401 || code == 403 ? VGL_Q_AUTH : VGL_Q_ERROR;
	char msg[160] = "";
	cJSON *j;

	if ((j = vgl_rf_parse(b->body, b->body_len, NULL, 0))) {
		vgl_rf_error_message(j, msg, sizeof(msg));
		cJSON_Delete(j);
	}
	if (b->step == ST_SESSSVC) {
		/* some services want a session to show the SessionService */
		snprintf(b->sessions, sizeof(b->sessions), DEFAULT_SESSIONS);
		b->step++;
		advance(b);
		return;
	}
	if ((code == 400 || code == 404 || code == 501) && strchr(b->req_path, '?')) {
		/* a query the service does not take: without it from now on */
		if (strstr(b->req_path, "$expand")) {
			vgl__rf_log(b, VGL_LOG_INFO, "%s: HTTP %ld: $expand not used with this BMC",
				    b->req_path, code);
			b->no_expand = 1;
			if (b->step == ST_SCAN) {
				vgl__rf_scan_list_free(b);      /* listed again, plainly */
			} else {
				b->step++;
			}
			advance(b);
			return;
		}
		if (strstr(b->req_path, "$skip") && b->step == ST_LOG && b->scan && !b->no_skip) {
			vgl__rf_log(b, VGL_LOG_INFO, "%s: HTTP %ld: $skip not used with this BMC",
				    b->req_path, code);
			b->no_skip = 1;
			vgl_rf_logscan_init(b->scan, &b->cur, 0);
			memcpy(b->log_next, b->entries, sizeof(b->log_next));
			advance(b);
			return;
		}
	}
	if (code == 404) {
		if (b->step == ST_ROOT) {
			vgl__rf_fail(b, VGL_Q_ERROR,
				     "GET /redfish/v1/: HTTP 404: no Redfish service");
			return;
		}
		if (ESSENTIAL(b->step) && !b->restarted) {
			vgl__rf_log(b, VGL_LOG_NOTICE, "%s %s: HTTP 404: rediscovering", m,
				    b->req_path);
			vgl__rf_reset_discovery(b);
			b->restarted = 1;
			b->step = ST_ROOT;
			advance(b);
			return;
		}
		if (b->step == ST_WANT && !b->want_sub) {
			b->wants[b->want_i].where = W_UNKNOWN;
			b->wants[b->want_i].member[0] = 0;
			b->want_i++;
			advance(b);
			return;
		}
		if (b->step == ST_LOG_FETCH) {
			b->lr.e[b->fetch_i++].link_only = 2;    /* gone since listed */
			advance(b);
			return;
		}
		if (b->step != ST_SCAN)
			b->rediscover = 1;
	}
	if (ESSENTIAL(b->step) || !b->sys_ok) {
		vgl__rf_fail(b, q, "%s %s: HTTP %ld%s%s", m, b->req_path, code,
			     msg[0] ? ": " : "", msg);
		return;
	}
	vgl__rf_part_fail(b, q, "%s %s: HTTP %ld%s%s%s", m, b->req_path, code,
			  msg[0] ? ": " : "", msg,
			  code == 404 ? " (rediscovered at the next poll)" : "");
	skip_step(b, q);
	advance(b);
}

void vgl__rf_done(struct rf_bmc *b, CURLcode rc)
{
	struct vgl_redfish *rf = b->rf;
	char why[sizeof(b->req_path) + CURL_ERROR_SIZE + 16], err[CURL_ERROR_SIZE];
	enum vgl_quality q;
	long code;
	cJSON *j;

	if (rf->closing) {
		if (b->logout) {
			b->logout = 0;
			vgl__rf_log(b, VGL_LOG_DEBUG, "logout: %s",
				    rc == CURLE_OK ? "done" : "failed");
			if (--rf->logouts == 0 && !rf->torn_down) {
				rf->torn_down = 1;
				vgl__rf_http_close(rf);
			}
		}
		return;
	}
	if (!b->busy)
		return;
	if (rc != CURLE_OK) {
		q = vgl__rf_curl_quality(b, rc, err, sizeof(err));
		snprintf(why, sizeof(why), "%s %s: %s", method_str(b->method), b->req_path, err);
		if (b->method == RF_POST && b->post) {
			explicit_bzero(b->post, strlen(b->post));
			cJSON_free(b->post);
			b->post = NULL;
		}
		if (ESSENTIAL(b->step) || !b->sys_ok || q == VGL_Q_TIMEOUT) {
			stop(b, q, why);
		} else {
			vgl__rf_part_fail(b, q, "%s", why);
			skip_step(b, q);
			advance(b);
		}
		return;
	}
	code = vgl__rf_status(b);
	if (code == 401 && b->step != ST_LOGIN && b->token && !b->relogin_done &&
	    b->spec->auth == VGL_BMC_AUTH_SESSION) {
		/* the session expired or the BMC restarted: once more, fresh */
		vgl__rf_log(b, VGL_LOG_DEBUG, "%s %s: HTTP 401: logging in again",
			    method_str(b->method), b->req_path);
		explicit_bzero(b->token, strlen(b->token));
		free(b->token);
		b->token = NULL;
		b->session[0] = 0;
		b->relogin_done = 1;
		b->resume_step = b->step;
		b->step = ST_LOGIN;
		advance(b);
		return;
	}
	if (b->step == ST_LOGIN) {
		if (code == 404 && !b->restarted) {
			http_error(b, code);
			return;
		}
		login_answer(b, code);
		advance(b);
		return;
	}
	if (code < 200 || code >= 300) {
		http_error(b, code);
		return;
	}
	if (!(j = vgl_rf_parse(b->body, b->body_len, err, sizeof(err)))) {
		rf->st.rejected++;
		snprintf(why, sizeof(why), "%s %s: %s", method_str(b->method), b->req_path, err);
		if (ESSENTIAL(b->step) || !b->sys_ok) {
			vgl__rf_fail(b, VGL_Q_ERROR, "%s", why);
		} else {
			vgl__rf_part_fail(b, VGL_Q_ERROR, "%s", why);
			skip_step(b, VGL_Q_ERROR);
			advance(b);
		}
		return;
	}
	step_answer(b, j);
	cJSON_Delete(j);
	advance(b);
}

/* ---- a poll begins ------------------------------------------------------------ */

void vgl__rf_poll_begin(struct rf_bmc *b)
{
	b->busy = 1;
	b->deadline_ms = vgl__rf_now_ms() + b->timeout_ms;
	b->sys_ok = b->log_done = 0;
	b->q = b->part_q = b->log_q = VGL_Q_OK;
	b->detail[0] = b->part_detail[0] = 0;
	memset(&b->sys, 0, sizeof(b->sys));
	b->sys.power = VGL_BMC_POWER_UNKNOWN;
	b->sys.health = VGL_BMC_UNKNOWN;
	memset(&b->lr, 0, sizeof(b->lr));
	vgl_rf_readings_clear(&b->rd);
	b->restarted = b->relogin_done = 0;
	b->resume_step = -1;
	b->want_i = 0;
	b->want_sub = 0;
	b->fetch_i = 0;
	if (b->rediscover)
		vgl__rf_reset_discovery(b);
	b->step = ST_ROOT;
	advance(b);
}
