/* Read-side views of hosts and intervals: what `vigil hosts` and `vigil
 * intervals` show, as data and as the JSON objects they print (docs/cli.md),
 * for the CLI today and an HTTP API tomorrow. Nothing here prints or exits:
 * errors are a return code and a message in err.
 *
 * A struct vgl_view is one listing's judgement of the daemon: its latest
 * run is read once, when the view is made, so every host of one listing is
 * stale or not by the same heartbeat and the same now. conf and q stay the
 * caller's and must outlive the view.
 */
#ifndef VGL_VIEW_H
#define VGL_VIEW_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "conf/conf.h"
#include "storage/query.h"

struct vgl_view;

/* Reads the daemon's latest run. 0, -1 with err filled (SQLite's reason),
 * or -ENOMEM. */
int vgl_view_new(const struct vgl_conf *conf, struct vgl_query *q, int64_t now_ms,
		 struct vgl_view **out, char *err, size_t errlen);
void vgl_view_free(struct vgl_view *v);

/* Whether the states in the database are still being observed at now_ms:
 * stale once the daemon's latest run stopped, or its heartbeat is older
 * than three heartbeat periods plus one batch window (the writer commits
 * the heartbeat with the batch it falls in). A database no daemon ever
 * ran on is not stale: nothing was observed, every host is 'unknown'. */
int vgl_view_is_stale(const struct vgl_conf *conf, const struct vgl_query_daemon *d,
		      int64_t now_ms);

/* The daemon as the view judged it. */
struct vgl_view_daemon {
	int ever_ran;
	int stopped;                    /* the latest run ended with a clean stop */
	int stale;                      /* vgl_view_is_stale at the view's now */
	int64_t last_heartbeat_ms;      /* valid when ever_ran */
};
void vgl_view_daemon(const struct vgl_view *v, struct vgl_view_daemon *out);

/* One configured host's state. */
struct vgl_view_host {
	const struct vgl_conf_host *host;
	const char *state;              /* "down" | "up" | "unknown" (static) */
	int down;                       /* an interval is open: cause, since_ms */
	char cause[32];                 /* of the open interval; "" if none */
	int64_t since_ms;               /* start of the open interval; 0 if none */
	int64_t last_poll_ms;           /* 0 if never polled */
	int degraded;                   /* some feeds off, redundancy lost: power */
	char power[160];
	int stale;                      /* the view's: same for every host */
	int has_heartbeat;              /* the daemon ever ran: last_heartbeat_ms */
	int64_t last_heartbeat_ms;
};

/* 0, or -1 with err filled (SQLite's reason). */
int vgl_view_host(struct vgl_view *v, const struct vgl_conf_host *h, struct vgl_view_host *out,
		  char *err, size_t errlen);

/* The `vigil hosts --json` object of one host: name, address, site,
 * policy, customer, state, cause, since, last_poll, stale,
 * last_heartbeat, and degraded and power ("feeds off: ...") when some of
 * its feeds are off. NULL when out of memory. */
cJSON *vgl_view_host_json(const struct vgl_view_host *hs);

/* Whether name is a host to list intervals of: a configured one, or one
 * the database still knows (hosts dropped from the config keep their
 * history). 1 or 0, or -1 with err filled (SQLite's reason). */
int vgl_view_host_known(const struct vgl_conf *conf, struct vgl_query *q, const char *name,
			char *err, size_t errlen);

/* The `vigil intervals --json` object of one interval (a row of
 * vgl_query_intervals): id, host, cause, start, end (null while open),
 * rule, evidence (the stored JSON as a value; evidence_raw as well when it
 * does not parse), note, closed_by, origin, unobserved_ms,
 * poll_interval_ms, created_by, created. NULL when out of memory. */
cJSON *vgl_view_interval_json(const struct vgl_query_interval *iv);

#endif
