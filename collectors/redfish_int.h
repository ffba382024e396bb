/* What the Redfish collector's parts share: collectors/redfish.c (the
 * collector interface, scheduling, results), collectors/redfish_poll.c
 * (each BMC's poll as a sequence of requests), collectors/redfish_discover.c
 * (what its discovery keeps between polls) and collectors/redfish_http.c
 * (libcurl's multi-socket API driven by the libuv loop: one CURLM, a
 * uv_poll_t per socket curl names, one uv_timer_t).
 *
 * Everything runs on the loop thread. A BMC owns one easy handle, reused
 * for each of its requests (the multi's connection cache keeps its TLS
 * connection alive between them), and has at most one request in the
 * multi at a time (in_multi).
 */
#ifndef VGL_REDFISH_INT_H
#define VGL_REDFISH_INT_H

#include <stdint.h>

#include <curl/curl.h>
#include <uv.h>

#include "collectors/bmc_conf.h"
#include "collectors/collector.h"
#include "collectors/redfish_log.h"
#include "collectors/redfish_parse.h"
#include "collectors/sched.h"
#include "core/log.h"

#define RF_MAX_BODY (4u << 20)          /* a bigger answer is cut and refused */
#define RF_LOGOUT_MS 1500               /* the session DELETE at close */

enum rf_method { RF_GET, RF_POST, RF_DELETE };

struct vgl_redfish;

/* A socket curl asked us to watch. Freed in uv_close's callback. */
struct rf_sock {
	uv_poll_t poll;
	struct vgl_redfish *rf;
	curl_socket_t fd;
	struct rf_sock *prev, *next;    /* rf->socks: open, not closing */
};

/* A sensor name the source's metrics read, and where it was last found. */
enum rf_where { W_UNKNOWN, W_PRIMARY, W_MEMBER, W_NOWHERE };

struct rf_want {
	const char *name;               /* the metric spec's */
	int need;                       /* VGL_RF_NEED_* */
	enum rf_where where;
	enum vgl_rf_kind kind;          /* W_MEMBER: of that resource */
	char member[VGL_RF_PATH];
	char metrics[VGL_RF_PATH];      /* a PSU's Metrics, for its watts */
};

enum rf_log_state { LOG_UNKNOWN, LOG_FOUND, LOG_NONE };

/* A poll's steps, in order (collectors/redfish.c says what each does). */
enum rf_step {
	ST_ROOT, ST_SESSSVC, ST_LOGIN, ST_SYSTEMS, ST_SYSTEM,
	ST_LOGSVCS, ST_LOGSVC, ST_MANAGER, ST_CHASSIS_COLL, ST_CHASSIS, ST_TSUB, ST_PSUB,
	ST_LOG, ST_LOG_FETCH, ST_THERMAL, ST_POWER, ST_TMETRICS, ST_SENSORS, ST_WANT, ST_SCAN,
	ST_DONE,
};

#define RF_LS_CAND 6

struct rf_bmc {
	struct vgl_sched_entry se;
	struct vgl_redfish *rf;
	const char *host, *src;         /* names, for logs */
	uint32_t host_idx, source, interval_ms, timeout_ms;
	const struct vgl_bmc_source *spec;
	uint32_t n_values;
	const uint32_t *metrics;
	const struct vgl_bmc_metric **mm;
	struct rf_want *wants;
	size_t n_wants;
	char base[128];                 /* "https://ADDR:PORT" */

	/* http (redfish_http.c) */
	CURL *easy;
	int in_multi;
	int need_reset;                 /* curl_easy_reset before the next request */
	enum rf_method method;
	char req_path[VGL_RF_PATH + 64];
	struct curl_slist *hdrs;
	char *post;                     /* a login body: wiped once sent */
	char *body;
	size_t body_len, body_cap;
	int too_big;
	int want_hdrs;                  /* capture X-Auth-Token and Location */
	char hdr_token[256];
	char hdr_location[VGL_RF_PATH];
	char errbuf[CURL_ERROR_SIZE];
	char local_err[96];             /* the loop refused a socket */
	struct rf_bmc *next_fail;
	int in_failq;

	/* auth */
	char *token;
	char session[VGL_RF_PATH];      /* to DELETE at close */
	int logout;                     /* its DELETE is in flight (closing) */

	/* discovery, kept between polls */
	int have_root, rediscover;
	struct vgl_rf_root root;
	char sessions[VGL_RF_PATH];
	char system[VGL_RF_PATH];
	char ls_coll[VGL_RF_PATH];      /* the LogServices collection being tried */
	char manager[VGL_RF_PATH];
	int manager_tried, ls_listed;
	char ls_cand[RF_LS_CAND][VGL_RF_PATH];
	int n_ls_cand, ls_i, ls_best_score;
	char ls_best[VGL_RF_PATH];
	char log_fb[VGL_RF_PATH];       /* the best Entries seen so far, any collection */
	int log_fb_score;
	enum rf_log_state log_state;
	char entries[VGL_RF_PATH];
	int skip_ok;                    /* $skip usable on Entries (a nextLink used it) */
	int no_expand, no_skip;         /* the BMC refused that query once */
	char chassis[VGL_RF_PATH];
	int chassis_done, tsub_done, psub_done, disc_logged;
	struct vgl_rf_chassis ch;
	char tmetrics[VGL_RF_PATH], fans[VGL_RF_PATH], psus[VGL_RF_PATH];
	int scan_coll;                  /* member scan for unresolved names */
	int scan_fails;                 /* polls whose listing failed, in a row */
	char **scan_paths;
	size_t n_scan, scan_i;
	int scan_sub;                   /* a PSU's Metrics GET follows */
	char scan_sub_path[VGL_RF_PATH];
	size_t scan_sub_reading;

	/* the event log */
	struct vgl_rf_cursor cur;
	int emit_cleared;               /* the BMC was replaced: CLEARED once */
	char prev_uuid[64];

	/* the poll in progress */
	int busy;
	int step, resume_step, restarted, relogin_done;
	int64_t start_ms;
	uint64_t deadline_ms;           /* uv_hrtime in ms */
	int sys_ok;
	struct vgl_rf_system sys;
	enum vgl_quality q, part_q, log_q;
	char detail[300], part_detail[300];
	struct vgl_rf_readings rd;
	struct vgl_rf_logscan *scan;
	struct vgl_rf_logresult lr;
	int log_done;
	char log_next[VGL_RF_PATH];
	size_t fetch_i;
	size_t want_i;
	int want_sub;
	size_t want_reading;
	int failing;

	/* the result */
	struct vgl_value *values;
	struct vgl_bmc_event ev[VGL_RF_MAX_EVENTS + 1];
	char cleared_text[160];
	struct vgl_bmc_status status;
	size_t n_new;                   /* new entries in events (no CLEARED) */
	char cursor_text[64];
	struct rf_bmc *next_done;
};

struct vgl_redfish {
	uv_loop_t *loop;
	vgl_poll_fn *fn;
	void *ctx;
	struct vgl_sched *sched;
	CURLM *multi;
	uv_timer_t timer;
	int timer_open;
	struct rf_sock *socks;
	struct rf_bmc **bmcs;
	size_t n_bmcs, cap_bmcs;
	struct rf_bmc *doneq, *doneq_tail;
	struct rf_bmc *failq;
	int closing, draining, torn_down;
	unsigned open;                  /* uv handles and the scheduler not closed yet */
	unsigned logouts;               /* session DELETEs in flight at close */
	void (*done)(void *ctx);
	void *done_ctx;
	struct vgl_collector_stats st;
	uint64_t requests, logins;
};

/* ---- redfish_http.c --------------------------------------------------- */

/* The multi handle and the timer: 0, or a negative errno (logged). */
int vgl__rf_http_open(struct vgl_redfish *rf);
/* b's easy handle with every option that stays between requests: 0 or
 * -EINVAL/-ENOMEM (logged). */
int vgl__rf_easy_new(struct rf_bmc *b);
/* One request: in the multi, or -1 with b->detail-ready text in
 * b->local_err. timeout_ms bounds it whole (connect included). */
int vgl__rf_send(struct rf_bmc *b, enum rf_method m, const char *path, const char *body,
		 long timeout_ms);
/* Takes b's request out of the multi, unanswered. */
void vgl__rf_cancel(struct rf_bmc *b);
/* The quality of a finished transfer that failed, and why, into out. */
enum vgl_quality vgl__rf_curl_quality(struct rf_bmc *b, CURLcode rc, char *out, size_t n);
long vgl__rf_status(struct rf_bmc *b);
/* At close, every request out: easy handles, the multi, then every uv
 * handle; vgl__rf_handle_closed runs as each goes. */
void vgl__rf_http_close(struct vgl_redfish *rf);
uint64_t vgl__rf_now_ms(void);

/* ---- redfish.c --------------------------------------------------------- */

void vgl__rf_log(const struct rf_bmc *b, enum vgl_log_level lvl, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* The poll failed as a whole: every value with quality q; queued. */
void vgl__rf_fail(struct rf_bmc *b, enum vgl_quality q, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* A resource after the System failed: the first such failure is kept. */
void vgl__rf_part_fail(struct rf_bmc *b, enum vgl_quality q, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* The poll is over and answered: values, events and cursor; queued. */
void vgl__rf_finish(struct rf_bmc *b);

/* ---- redfish_poll.c ----------------------------------------------------- */

/* b is due and idle: its poll starts (b->start_ms set). */
void vgl__rf_poll_begin(struct rf_bmc *b);
/* b's request finished (rc CURLE_OK: an HTTP answer, any status). */
void vgl__rf_done(struct rf_bmc *b, CURLcode rc);

/* ---- redfish_discover.c ------------------------------------------------- */

/* $expand's query, or NULL; $skip usable on Entries: as the root says,
 * unless the BMC refused them once. */
const char *vgl__rf_expand_q(const struct rf_bmc *b);
int vgl__rf_skip_usable(const struct rf_bmc *b);
void vgl__rf_scan_list_free(struct rf_bmc *b);
void vgl__rf_reset_discovery(struct rf_bmc *b);
void vgl__rf_log_discovery(struct rf_bmc *b);
void vgl__rf_resolve_primary(struct rf_bmc *b);
/* The member scan's next GET (path: a buffer of n bytes it may use), or
 * NULL when it has nothing left to read in this poll. */
const char *vgl__rf_scan_next(struct rf_bmc *b, char *path, size_t n);
/* The 2xx answers of ROOT, LOGSVCS, WANT and SCAN, b->step set to go on
 * with (WANT and SCAN stay until their start finds nothing left). */
void vgl__rf_root_answer(struct rf_bmc *b, const cJSON *j);
void vgl__rf_logsvcs_answer(struct rf_bmc *b, const cJSON *j);
void vgl__rf_want_answer(struct rf_bmc *b, const cJSON *j);
void vgl__rf_scan_answer(struct rf_bmc *b, const cJSON *j);

/* ---- redfish.c, for the others ------------------------------------------ */

/* The end of every libuv callback that ran curl: results are delivered. */
void vgl__rf_settle(struct vgl_redfish *rf);
void vgl__rf_handle_closed(struct vgl_redfish *rf);

#endif
