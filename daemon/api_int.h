/* What daemon/api.c (the server, routes, tokens, the event stream, on the
 * loop) and daemon/api_db.c (the database side of each endpoint, in the
 * threadpool) share. docs/api.md is the contract. */
#ifndef VGL_API_INT_H
#define VGL_API_INT_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>
#include "storage/sql.h"
#include <uv.h>

#include "api/http.h"
#include "conf/conf.h"

struct vigil;

enum api_kind {
	AK_HOSTS, AK_HOST, AK_ALARMS, AK_ALARM, AK_INTERVALS, AK_SLA, AK_MAINT, AK_SILENCES,
	AK_ACK, AK_COMMENT, AK_SILENCE_ADD, AK_SILENCE_REMOVE, AK_MAINT_ADD, AK_MAINT_CANCEL,
	AK_INTERVAL_ADD, AK_RECLASSIFY,
};

/* One connection's statements, used by one job at a time. */
struct api_db;

/* One request's trip to the threadpool. Everything the work needs is
 * copied here on the loop (libmicrohttpd and the daemon's state are the
 * loop's); the config is held by a reference (api.c) so a reload cannot
 * free it under the work. */
struct api_job {
	uv_work_t w;
	struct dapi *a;
	struct vgl_http_req *req;
	enum api_kind kind;
	const struct vgl_conf *conf;
	struct api_db *db;
	int64_t now_ms;
	/* parameters */
	char *host, *customer, *site;
	int year, month;
	int64_t from_ms, to_ms, id;
	int open_only, active_only, all;
	long limit;
	cJSON *body;                    /* a POST's parsed body */
	char user[72];                  /* the token's name */
	/* the answer */
	unsigned status;
	cJSON *result;                  /* api.c adds the loop's part, then prints it */
	char err[512];
	int truncated;                  /* the list stopped at limit */
};

/* api_db.c */
struct api_db *vgl__api_db_new(void);
void vgl__api_db_free(struct api_db *d);
/* The work of j (threadpool): j->status and j->result or j->err. */
void vgl__api_db_run(struct api_job *j, const char *db_path);

#endif
