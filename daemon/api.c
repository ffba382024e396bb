/* vigild's HTTP API, /metrics, the dashboard's files and its event stream
 * (docs/api.md), on the loop thread.
 *
 * Threads and time: everything here runs on the loop. Database work goes
 * to libuv's threadpool (daemon/api_db.c), at most API_DB_SLOTS jobs at
 * once, each on a connection of its own; the rest wait here in arrival
 * order (at most API_QUEUE_MAX, then 503). The pool is shared with the
 * collectors that run blocking libraries there (FreeIPMI, libmodbus): two
 * slots leave the others to polling however many clients read, and a
 * year-long /intervals query holds one slot, not the loop. What is in
 * memory (latest values, sources, /metrics, the event stream) is read on
 * the loop in bounded steps.
 *
 * The config: a job reads the config that was current when it was queued.
 * A reload swaps in a new one while jobs may still read the old; the old
 * is retired here (vgl__api_conf_retire) and freed when its last job is
 * done, on the loop.
 *
 * Tokens: every write needs an operator token, reads need a read or
 * operator token when api.read_requires_token; compared in constant time.
 * The token's name is the author of every write (acked_by, created_by,
 * "operator:NAME"); a body cannot claim another.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alarms/alarm_row.h"
#include "api/assets.h"
#include "api/http.h"
#include "conf/backend.h"
#include "core/jput.h"
#include "core/log.h"
#include "core/quality.h"
#include "core/version.h"
#include "core/vtime.h"
#include "daemon/api_int.h"
#include "daemon/metrics.h"
#include "daemon/vigil_int.h"
#include "rules/avail.h"
#include "rules/values.h"
#include "storage/alarm_view.h"

#define API_DB_SLOTS 2
#define API_QUEUE_MAX 512
#define LIMIT_DEFAULT 10000
#define LIMIT_MAX 1000000
/* An event stream that cannot keep up is dropped (the browser reconnects
 * and reloads what it shows) rather than held in memory without end. */
#define SSE_MAX_BUF (1024 * 1024)
#define SSE_PING_MS 15000
#define STATIC_MAX (4 * 1024 * 1024)

struct conf_ref {
	const struct vgl_conf *conf;
	unsigned refs;
	int retired;                    /* replaced: free it at refs 0 */
};

struct sse {
	struct dapi *a;
	struct vgl_http_stream *s;
	char *buf;
	size_t len, off, cap;
	int dead;
	struct sse *next;
};

struct metrics_stream {
	struct vigil *v;
	struct vgl_metrics_render *r;
};

struct dapi {
	struct vigil *v;
	struct vgl_http *http;
	char *db_path;
	struct api_db *slot[API_DB_SLOTS];
	int slot_busy[API_DB_SLOTS];
	struct api_job **queue;         /* waiting for a slot, oldest first */
	size_t q_head, q_len, q_cap;
	struct conf_ref *refs;
	size_t n_refs, cap_refs;
	struct sse *sse;
	uv_timer_t ping;
	unsigned jobs;                  /* in the threadpool */
	int stopping;
	unsigned closing;               /* handles whose close has not finished */
};

static void on_work(uv_work_t *w);
static void after_work(uv_work_t *w, int status);

/* ---- the config's references ---- */

static struct conf_ref *ref_find(struct dapi *a, const struct vgl_conf *c)
{
	for (size_t i = 0; i < a->n_refs; i++)
		if (a->refs[i].conf == c)
			return &a->refs[i];
	return NULL;
}

static int conf_ref(struct dapi *a, const struct vgl_conf *c)
{
	struct conf_ref *r = ref_find(a, c);

	if (r) {
		r->refs++;
		return 0;
	}
	if (a->n_refs == a->cap_refs) {
		size_t cap = a->cap_refs ? a->cap_refs * 2 : 4;
		struct conf_ref *n = realloc(a->refs, cap * sizeof(*n));
		if (!n)
			return -1;
		a->refs = n;
		a->cap_refs = cap;
	}
	a->refs[a->n_refs++] = (struct conf_ref){ c, 1, 0 };
	return 0;
}

static void conf_unref(struct dapi *a, const struct vgl_conf *c)
{
	struct conf_ref *r = ref_find(a, c);

	if (!r || --r->refs)
		return;
	if (r->retired)
		vgl_conf_free((struct vgl_conf *)r->conf);
	*r = a->refs[--a->n_refs];
}

int vgl__api_conf_retire(struct vigil *v, struct vgl_conf *old)
{
	struct conf_ref *r = v->api ? ref_find(v->api, old) : NULL;

	if (!r)
		return 0;
	r->retired = 1;
	return 1;
}

/* ---- answers ---- */

static const char *const json_headers[] = { "Cache-Control: no-store", NULL };

static void respond_json(struct vgl_http_req *req, unsigned status, const cJSON *o,
			 int truncated)
{
	static const char *const trunc_headers[] = { "Cache-Control: no-store",
						     "X-Vigil-Truncated: true", NULL };
	char *text = cJSON_PrintUnformatted(o);
	size_t n;
	char *body;

	if (!text) {
		vgl_http_error(req, 500, "out of memory");
		return;
	}
	n = strlen(text);
	/* cJSON allocates with malloc unless told otherwise; copy anyway so the
	 * body's ownership is plain (http.c frees it with free). */
	if (!(body = malloc(n + 2))) {
		cJSON_free(text);
		vgl_http_error(req, 500, "out of memory");
		return;
	}
	memcpy(body, text, n);
	body[n] = '\n';
	body[n + 1] = 0;
	cJSON_free(text);
	vgl_http_respond(req, status, "application/json", body, n + 1,
			 truncated ? trunc_headers : json_headers);
}

/* ---- tokens ---- */

/* Equal strings, in time that depends only on the given token's length. */
static int same_secret(const char *given, const char *want)
{
	size_t gl = strlen(given), wl = strlen(want);
	unsigned char d = gl != wl;

	for (size_t i = 0; i < gl; i++)
		d |= (unsigned char)given[i] ^ (unsigned char)want[i < wl ? i : 0];
	return d == 0;
}

/* The caller's token, NULL when none was given or it is unknown (*bad set
 * then). */
static const struct vgl_api_token *caller(const struct vgl_conf_api *c, struct vgl_http_req *req,
					  int *bad)
{
	const char *h = vgl_http_header(req, "Authorization");
	const struct vgl_api_token *found = NULL;

	*bad = 0;
	/* A browser's EventSource cannot send a header: the event stream,
	 * and only it, takes the token as ?access_token= (never logged). */
	if (!h && !strcmp(vgl_http_path(req), "/api/v1/events") &&
	    (h = vgl_http_query(req, "access_token"))) {
		for (size_t i = 0; i < c->n_tokens; i++)
			if (same_secret(h, c->tokens[i].token))
				found = &c->tokens[i];
		*bad = !found;
		return found;
	}
	if (!h)
		return NULL;
	if (strncasecmp(h, "Bearer ", 7) != 0) {
		*bad = 1;
		return NULL;
	}
	h += 7;
	while (*h == ' ')
		h++;
	/* Every token is compared, so the time does not tell which matched. */
	for (size_t i = 0; i < c->n_tokens; i++)
		if (same_secret(h, c->tokens[i].token))
			found = &c->tokens[i];
	if (!found)
		*bad = 1;
	return found;
}

static const char *const auth_headers[] = { "WWW-Authenticate: Bearer realm=\"vigil\"",
					    "Cache-Control: no-store", NULL };

static void auth_error(struct vgl_http_req *req, unsigned status, const char *msg)
{
	char *body = NULL;
	cJSON *o = cJSON_CreateObject();
	char *t;

	if (o && cJSON_AddStringToObject(o, "error", msg) && (t = cJSON_PrintUnformatted(o))) {
		body = strdup(t);
		cJSON_free(t);
	}
	cJSON_Delete(o);
	vgl_http_respond(req, status, "application/json", body, body ? strlen(body) : 0,
			 auth_headers);
}

/* ---- jobs ---- */

static void dispatch(struct dapi *a, struct api_job *j, int slot)
{
	int rv;

	a->slot_busy[slot] = 1;
	j->db = a->slot[slot];
	j->w.data = j;
	a->jobs++;
	if ((rv = uv_queue_work(a->v->loop, &j->w, on_work, after_work)) != 0) {
		a->jobs--;
		j->status = 503;
		snprintf(j->err, sizeof(j->err), "cannot queue the work: %s", uv_strerror(rv));
		after_work(&j->w, 0);
	}
}

static void job_free(struct dapi *a, struct api_job *j)
{
	conf_unref(a, j->conf);
	cJSON_Delete(j->body);
	cJSON_Delete(j->result);
	free(j->host);
	free(j->customer);
	free(j->site);
	free(j);
}

/* Queues j (taken): to a free slot now, else in line. */
static void submit(struct dapi *a, struct api_job *j)
{
	if (conf_ref(a, a->v->conf) != 0) {
		vgl_http_error(j->req, 500, "out of memory");
		j->conf = NULL;
		job_free(a, j);
		return;
	}
	j->conf = a->v->conf;
	j->a = a;
	j->now_ms = vgl_now_ms();
	for (int i = 0; i < API_DB_SLOTS; i++)
		if (!a->slot_busy[i]) {
			dispatch(a, j, i);
			return;
		}
	if (a->q_len == API_QUEUE_MAX) {
		vgl_http_error(j->req, 503, "busy: %d requests are waiting for the database",
			       API_QUEUE_MAX);
		job_free(a, j);
		return;
	}
	if (a->q_len == a->q_cap || a->q_cap == 0) {
		size_t cap = a->q_cap ? a->q_cap * 2 : 16;
		struct api_job **n = malloc(cap * sizeof(*n));
		if (!n) {
			vgl_http_error(j->req, 500, "out of memory");
			job_free(a, j);
			return;
		}
		for (size_t i = 0; i < a->q_len; i++)
			n[i] = a->queue[(a->q_head + i) % (a->q_cap ? a->q_cap : 1)];
		free(a->queue);
		a->queue = n;
		a->q_cap = cap;
		a->q_head = 0;
	}
	a->queue[(a->q_head + a->q_len++) % a->q_cap] = j;
}

static void on_work(uv_work_t *w)
{
	struct api_job *j = w->data;

	vgl__api_db_run(j, j->a->db_path);
}

static void add_memory_part(struct vigil *v, struct api_job *j);

static void after_work(uv_work_t *w, int status)
{
	struct api_job *j = w->data;
	struct dapi *a = j->a;

	(void)status;
	a->jobs--;
	for (int i = 0; i < API_DB_SLOTS; i++)
		if (a->slot[i] == j->db)
			a->slot_busy[i] = 0;
	if (j->status >= 400 || !j->result) {
		if (j->status < 400)
			j->status = 500;
		if (!j->err[0])
			snprintf(j->err, sizeof(j->err), "out of memory");
		if (j->status >= 500)
			vgl_warn("api: %s %s: %s", vgl_http_method(j->req), vgl_http_path(j->req),
				 j->err);
		vgl_http_error(j->req, j->status, "%s", j->err);
	} else {
		if (j->kind == AK_HOST)
			add_memory_part(a->v, j);
		if (j->kind >= AK_ACK)
			vgl_notice("api: %s %s by %s: %u", vgl_http_method(j->req),
				   vgl_http_path(j->req), j->user, j->status);
		respond_json(j->req, j->status, j->result, j->truncated);
	}
	job_free(a, j);
	/* the slot is free: the next in line */
	for (int i = 0; i < API_DB_SLOTS && a->q_len; i++)
		if (!a->slot_busy[i]) {
			struct api_job *n = a->queue[a->q_head];
			a->q_head = (a->q_head + 1) % a->q_cap;
			a->q_len--;
			dispatch(a, n, i);
		}
}

/* ---- what only the loop knows: a host's latest values ---- */

static void add_memory_part(struct vigil *v, struct api_job *j)
{
	const struct vgl_conf_host *ch = vgl_conf_find_host(v->conf, j->host);
	const struct vgl_conf_profile *p;
	const struct host_rt *h;
	const struct vgl_values *vals;
	cJSON *arr, *srcs;

	/* gone with a reload while the database was read: the stored part
	 * stands, the live part is empty */
	if (!(arr = cJSON_AddArrayToObject(j->result, "values")) ||
	    !(srcs = cJSON_AddArrayToObject(j->result, "sources")) || !ch)
		return;
	h = &v->hosts[ch - v->conf->hosts];
	p = ch->profile;
	vals = h->avail ? vgl_avail_values(h->avail) : NULL;
	for (size_t i = 0; vals && i < p->n_metrics; i++) {
		const struct vgl_value *x = &vgl_values_all(vals)[i];
		int64_t ts = vgl_values_ts(vals, i);
		cJSON *o = cJSON_CreateObject();

		if (!o || !cJSON_AddItemToArray(arr, o) ||
		    vgl_jput_str(o, "metric", p->metrics[i].name) ||
		    vgl_jput_str(o, "source", p->sources[p->metrics[i].source].name) ||
		    (x->q == VGL_Q_OK && ts ? !cJSON_AddNumberToObject(o, "value", x->v)
					    : !cJSON_AddNullToObject(o, "value")) ||
		    vgl_jput_str(o, "quality", ts ? vgl_quality_name(x->q) : "none") ||
		    vgl_jput_time(o, "ts", ts, ts != 0))
			return;
	}
	for (size_t s = 0; s < p->n_sources; s++) {
		const struct vgl_conf_source *src = &p->sources[s];
		enum vgl_quality q = VGL_Q_OK;
		int64_t ts = 0;
		cJSON *o = cJSON_CreateObject();

		/* a source's state is its latest poll's: the newest of its
		 * metrics, and the worst quality among those of that poll */
		for (size_t k = 0; vals && k < src->n_metrics; k++) {
			int64_t t = vgl_values_ts(vals, src->metrics[k]);
			enum vgl_quality mq = vgl_values_all(vals)[src->metrics[k]].q;
			if (t > ts) {
				ts = t;
				q = mq;
			} else if (t == ts && mq != VGL_Q_OK && q == VGL_Q_OK) {
				q = mq;
			}
		}
		if (!o || !cJSON_AddItemToArray(srcs, o) || vgl_jput_str(o, "name", src->name) ||
		    vgl_jput_str(o, "type", src->be ? src->be->type : "?") ||
		    vgl_jput_num(o, "interval_ms", src->interval_ms) ||
		    vgl_jput_str(o, "quality", ts ? vgl_quality_name(q) : "none") ||
		    vgl_jput_time(o, "last_poll", ts, ts != 0))
			return;
	}
}

/* ---- the event stream ---- */

static void sse_drop(struct sse *e)
{
	e->dead = 1;
	vgl_http_stream_wake(e->s);
}

/* Appends one event (or a comment line when event is NULL). */
static void sse_put(struct sse *e, const char *event, const char *data)
{
	size_t need = (event ? strlen(event) + 8 : 0) + strlen(data) + 10;
	int n;

	if (e->dead)
		return;
	if (e->len - e->off + need > SSE_MAX_BUF) {
		vgl_warn("api: an event stream fell %d KiB behind; dropped (the page reconnects)",
			 SSE_MAX_BUF / 1024);
		sse_drop(e);
		return;
	}
	if (e->off && e->off == e->len)
		e->off = e->len = 0;
	if (e->len + need + 1 > e->cap) {
		size_t cap = e->cap ? e->cap : 4096;
		char *nb;
		if (e->off) {
			memmove(e->buf, e->buf + e->off, e->len - e->off);
			e->len -= e->off;
			e->off = 0;
		}
		while (cap < e->len + need + 1)
			cap *= 2;
		if (cap > e->cap) {
			if (!(nb = realloc(e->buf, cap))) {
				sse_drop(e);
				return;
			}
			e->buf = nb;
			e->cap = cap;
		}
	}
	n = event ? snprintf(e->buf + e->len, e->cap - e->len, "event: %s\ndata: %s\n\n", event,
			     data)
		  : snprintf(e->buf + e->len, e->cap - e->len, ": %s\n\n", data);
	if (n > 0)
		e->len += (size_t)n;
	vgl_http_stream_wake(e->s);
}

static long sse_read(void *ctx, char *buf, size_t max)
{
	struct sse *e = ctx;
	size_t n = e->len - e->off;

	if (e->dead)
		return -1;
	if (n == 0)
		return 0;
	if (n > max)
		n = max;
	memcpy(buf, e->buf + e->off, n);
	e->off += n;
	return (long)n;
}

static void sse_free(void *ctx)
{
	struct sse *e = ctx;
	struct dapi *a = e->a;

	for (struct sse **p = &a->sse; *p; p = &(*p)->next)
		if (*p == e) {
			*p = e->next;
			break;
		}
	free(e->buf);
	free(e);
}

static void sse_broadcast(struct dapi *a, const char *event, const cJSON *o)
{
	char *text;

	if (!a || !a->sse)
		return;
	if (!(text = cJSON_PrintUnformatted(o))) {
		vgl_err("api: out of memory for an event");
		return;
	}
	for (struct sse *e = a->sse; e; e = e->next)
		sse_put(e, event, text);
	cJSON_free(text);
}

void vgl__api_alarm_changed(struct vigil *v, const struct vgl_alarm_row *r)
{
	struct vgl_alarm_db_alarm row;
	cJSON *o;

	if (!v->api || !v->api->sse)
		return;
	/* The in-memory row in the stored shape: the same object as
	 * GET /api/v1/alarms gives for it. */
	row = (struct vgl_alarm_db_alarm){
		.id = r->id, .host = r->host, .site = r->site,
		.kind = vgl_alarm_kind_name(r->kind), .rule = r->rule,
		.severity = vgl_severity_name(r->severity), .summary = r->summary,
		.labels = r->labels_json ? r->labels_json : "{}",
		.details = r->details_json ? r->details_json : "{}", .policy = r->policy,
		.state = r->state, .raised_ms = r->raised_ms, .acked = r->acked_ms != 0,
		.acked_ms = r->acked_ms, .acked_by = r->acked_by, .cleared = r->cleared_ms != 0,
		.cleared_ms = r->cleared_ms, .suppressed_by = r->suppressed_by, .muted = r->muted,
	};
	if ((o = vgl_view_alarm_json(&row)))
		sse_broadcast(v->api, "alarm", o);
	cJSON_Delete(o);
}

void vgl__api_host_changed(struct vigil *v, uint32_t host, const char *cause, int64_t ts_ms)
{
	int down = cause != NULL;
	const struct vgl_conf_host *ch = &v->conf->hosts[host];
	cJSON *o;

	if (!v->api || !v->api->sse)
		return;
	if ((o = cJSON_CreateObject()) && !vgl_jput_str(o, "host", ch->name) &&
	    !vgl_jput_str(o, "site", ch->site) && !vgl_jput_str(o, "state", down ? "down" : "up") && !vgl_jput_str(o, "cause", cause) &&
	    !vgl_jput_time(o, "since", ts_ms, down) && !vgl_jput_time(o, "ts", ts_ms, 1))
		sse_broadcast(v->api, "host", o);
	cJSON_Delete(o);
}

static void on_ping(uv_timer_t *t)
{
	struct dapi *a = t->data;

	/* Keeps proxies from closing an idle stream, and finds clients gone. */
	for (struct sse *e = a->sse; e; e = e->next)
		sse_put(e, NULL, "ping");
}

static void events(struct dapi *a, struct vgl_http_req *req)
{
	static const char *const h[] = { "Cache-Control: no-store", "X-Accel-Buffering: no", NULL };
	struct sse *e = calloc(1, sizeof(*e));
	cJSON *o = cJSON_CreateObject();
	char *text = NULL;

	if (!e || !o || vgl_jput_str(o, "version", VGL_VERSION) ||
	    vgl_jput_time(o, "now", vgl_now_ms(), 1) || !(text = cJSON_PrintUnformatted(o))) {
		free(e);
		cJSON_Delete(o);
		vgl_http_error(req, 500, "out of memory");
		return;
	}
	cJSON_Delete(o);
	e->a = a;
	if (!(e->s = vgl_http_stream(req, "text/event-stream", sse_read, e, sse_free, h))) {
		cJSON_free(text);
		return;
	}
	e->next = a->sse;
	a->sse = e;
	/* a reconnecting page re-reads its lists; it retries after 3 s */
	sse_put(e, NULL, "vigil events\nretry: 3000");
	sse_put(e, "hello", text);
	cJSON_free(text);
}

/* ---- /metrics ---- */

static long metrics_read(void *ctx, char *buf, size_t max)
{
	struct metrics_stream *m = ctx;
	long n = vgl__metrics_render_next(m->r, m->v, buf, max);

	/* 0 is the end here; the stream's 0 would mean "later" */
	return n > 0 ? n : -1;
}

static void metrics_free(void *ctx)
{
	struct metrics_stream *m = ctx;

	vgl__metrics_render_free(m->r);
	free(m);
}

static void metrics(struct dapi *a, struct vgl_http_req *req)
{
	static const char *const h[] = { "Cache-Control: no-store", NULL };
	struct metrics_stream *m = calloc(1, sizeof(*m));

	if (!m || vgl__metrics_render_new(a->v, &m->r) != 0) {
		free(m);
		vgl_http_error(req, 500, "out of memory");
		return;
	}
	m->v = a->v;
	vgl_http_stream(req, "text/plain; version=0.0.4; charset=utf-8", metrics_read, m,
			metrics_free, h);
}

/* ---- the dashboard's files ---- */

static void static_file(struct dapi *a, struct vgl_http_req *req, const char *path)
{
	static const char *const h[] = {
		"Cache-Control: no-cache",
		/* everything the page needs comes from here, nothing from outside */
		"Content-Security-Policy: default-src 'self'; img-src 'self' data:; "
		"style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'",
		"Referrer-Policy: no-referrer", NULL
	};
	const struct vgl_conf_api *c = a->v->conf->api;
	const struct vgl_asset *as;
	const char *name = strcmp(path, "/") == 0 ? "/index.html" : path;

	if (c->web_dir) {
		char full[4096];
		struct stat st;
		char *body;
		int fd;
		ssize_t got;

		/* one plain name: no directories, no dot files, nothing above */
		if (strchr(name + 1, '/') || name[1] == '.' || !name[1] ||
		    snprintf(full, sizeof(full), "%s%s", c->web_dir, name) >= (int)sizeof(full)) {
			vgl_http_error(req, 404, "no such page: %s", path);
			return;
		}
		/* small files, read at once: the loop waits on a page-cache read
		 * at most (STATIC_MAX bounds it) */
		if ((fd = open(full, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0 || fstat(fd, &st) != 0 ||
		    !S_ISREG(st.st_mode) || st.st_size > STATIC_MAX) {
			if (fd >= 0)
				close(fd);
			vgl_http_error(req, 404, "no such page: %s", path);
			return;
		}
		if (!(body = malloc((size_t)st.st_size + 1))) {
			close(fd);
			vgl_http_error(req, 500, "out of memory");
			return;
		}
		got = read(fd, body, (size_t)st.st_size);
		close(fd);
		if (got != st.st_size) {
			free(body);
			vgl_http_error(req, 500, "cannot read %s", full);
			return;
		}
		vgl_http_respond(req, 200, vgl_asset_type(name), body, (size_t)got, h);
		return;
	}
	if (!(as = vgl_asset_find(name))) {
		vgl_http_error(req, 404, "no such page: %s", path);
		return;
	}
	char *body = malloc(as->len ? as->len : 1);
	if (!body) {
		vgl_http_error(req, 500, "out of memory");
		return;
	}
	memcpy(body, as->data, as->len);
	vgl_http_respond(req, 200, as->content_type, body, as->len, h);
}

/* ---- routing ---- */

static int parse_id(const char *s, int64_t *out)
{
	char *end;
	long long x;

	errno = 0;
	x = strtoll(s, &end, 10);
	if (errno || end == s || *end || x <= 0)
		return -1;
	*out = x;
	return 0;
}

static int dup_param(struct vgl_http_req *req, const char *k, char **out)
{
	const char *s = vgl_http_query(req, k);

	*out = NULL;
	if (!s || !*s)
		return 0;
	return (*out = strdup(s)) ? 0 : -1;
}

/* A query time: 0 and *out (absent: dflt), or -1 (answered 400). */
static int query_time(struct vgl_http_req *req, const char *k, int64_t dflt, int64_t *out)
{
	const char *s = vgl_http_query(req, k);

	*out = dflt;
	if (!s)
		return 0;
	if (vgl_parse_iso(s, out) != 0) {
		vgl_http_error(req, 400, "bad time '%s' for %s: expected ISO-8601 UTC such as "
			       "2026-11-05T10:00:00.000Z, an offset, or a date", s, k);
		return -1;
	}
	return 0;
}

static int query_bool(struct vgl_http_req *req, const char *k, int *out)
{
	const char *s = vgl_http_query(req, k);

	*out = 0;
	if (!s)
		return 0;
	if (!strcmp(s, "1") || !strcmp(s, "true") || !*s)
		*out = 1;
	else if (strcmp(s, "0") && strcmp(s, "false")) {
		vgl_http_error(req, 400, "bad value '%s' for %s: expected 1, 0, true or false", s, k);
		return -1;
	}
	return 0;
}

static int query_month(struct vgl_http_req *req, struct api_job *j, int required)
{
	const char *s = vgl_http_query(req, "month");
	int64_t now = vgl_now_ms(), t;
	char b[VGL_ISO_LEN], d[16];

	if (!s) {
		if (required) {
			vgl_http_error(req, 400, "missing month=YYYY-MM");
			return -1;
		}
		vgl_format_iso(now, b);
		j->year = atoi(b);
		j->month = atoi(b + 5);
		return 0;
	}
	if (strlen(s) != 7 || s[4] != '-' || snprintf(d, sizeof(d), "%s-01", s) < 0 ||
	    vgl_parse_iso(d, &t) != 0) {
		vgl_http_error(req, 400, "bad month '%s': expected YYYY-MM", s);
		return -1;
	}
	j->year = atoi(s);
	j->month = atoi(s + 5);
	return 0;
}

static struct api_job *job_new(struct vgl_http_req *req, enum api_kind k)
{
	struct api_job *j = calloc(1, sizeof(*j));

	if (!j) {
		vgl_http_error(req, 500, "out of memory");
		return NULL;
	}
	j->req = req;
	j->kind = k;
	j->from_ms = INT64_MIN;
	j->to_ms = INT64_MAX;
	return j;
}

static void get_route(struct dapi *a, struct vgl_http_req *req, const char *p)
{
	struct api_job *j = NULL;
	const char *s;

	if (strcmp(p, "/hosts") == 0) {
		if (!(j = job_new(req, AK_HOSTS)) || dup_param(req, "site", &j->site))
			goto oom;
	} else if (strncmp(p, "/hosts/", 7) == 0 && p[7] && !strchr(p + 7, '/')) {
		if (!(j = job_new(req, AK_HOST)) || !(j->host = strdup(p + 7)))
			goto oom;
		query_month(req, j, 0);
	} else if (strcmp(p, "/alarms") == 0) {
		if (!(j = job_new(req, AK_ALARMS)) || dup_param(req, "host", &j->host))
			goto oom;
		if (query_bool(req, "active", &j->active_only))
			goto done;
		j->limit = LIMIT_DEFAULT;
	} else if (strncmp(p, "/alarms/", 8) == 0) {
		if (!(j = job_new(req, AK_ALARM)))
			goto oom;
		if (parse_id(p + 8, &j->id) != 0) {
			vgl_http_error(req, 400, "bad alarm id '%s'", p + 8);
			goto done;
		}
	} else if (strcmp(p, "/intervals") == 0) {
		if (!(j = job_new(req, AK_INTERVALS)) || dup_param(req, "host", &j->host))
			goto oom;
		if (query_time(req, "from", INT64_MIN, &j->from_ms) ||
		    query_time(req, "to", INT64_MAX, &j->to_ms) ||
		    query_bool(req, "open", &j->open_only))
			goto done;
		if (j->from_ms >= j->to_ms) {
			vgl_http_error(req, 400, "from must be before to");
			goto done;
		}
		j->limit = LIMIT_DEFAULT;
		if ((s = vgl_http_query(req, "limit"))) {
			int64_t l;
			if (parse_id(s, &l) != 0 || l > LIMIT_MAX) {
				vgl_http_error(req, 400, "bad limit '%s': 1 to %d", s, LIMIT_MAX);
				goto done;
			}
			j->limit = (long)l;
		}
	} else if (strcmp(p, "/sla") == 0) {
		if (!(j = job_new(req, AK_SLA)) || dup_param(req, "host", &j->host) ||
		    dup_param(req, "customer", &j->customer))
			goto oom;
		if (query_month(req, j, 1))
			goto done;
		if (j->host && j->customer) {
			vgl_http_error(req, 400, "give host or customer, not both");
			goto done;
		}
	} else if (strcmp(p, "/maintenance") == 0) {
		if (!(j = job_new(req, AK_MAINT)) || dup_param(req, "host", &j->host))
			goto oom;
		if (query_bool(req, "all", &j->all) || query_time(req, "from", INT64_MIN, &j->from_ms) ||
		    query_time(req, "to", INT64_MAX, &j->to_ms))
			goto done;
	} else if (strcmp(p, "/silences") == 0) {
		if (!(j = job_new(req, AK_SILENCES)))
			goto oom;
		if (query_bool(req, "all", &j->all))
			goto done;
	} else if (strcmp(p, "/events") == 0) {
		events(a, req);
		return;
	} else {
		vgl_http_error(req, 404, "no such endpoint: GET /api/v1%s", p);
		return;
	}
	submit(a, j);
	return;
oom:
	vgl_http_error(req, 500, "out of memory");
done:
	if (j) {
		cJSON_Delete(j->body);
		free(j->host);
		free(j->customer);
		free(j->site);
		free(j);
	}
}

static void post_route(struct dapi *a, struct vgl_http_req *req, const char *p,
		       const struct vgl_api_token *who)
{
	struct api_job *j = NULL;
	const char *body;
	size_t len;
	char tail[32] = "";
	int64_t id = 0;
	enum api_kind k;

	if (strcmp(p, "/silences") == 0)
		k = AK_SILENCE_ADD;
	else if (strcmp(p, "/maintenance") == 0)
		k = AK_MAINT_ADD;
	else if (strcmp(p, "/intervals") == 0)
		k = AK_INTERVAL_ADD;
	else {
		const char *base, *rest;
		if (!strncmp(p, "/alarms/", 8))
			base = "alarms";
		else if (!strncmp(p, "/silences/", 10))
			base = "silences";
		else if (!strncmp(p, "/maintenance/", 13))
			base = "maintenance";
		else if (!strncmp(p, "/intervals/", 11))
			base = "intervals";
		else
			goto unknown;
		rest = p + strlen(base) + 2;
		const char *slash = strchr(rest, '/');
		char idb[24];
		if (!slash || (size_t)(slash - rest) >= sizeof(idb) ||
		    strlen(slash + 1) >= sizeof(tail))
			goto unknown;
		memcpy(idb, rest, (size_t)(slash - rest));
		idb[slash - rest] = 0;
		snprintf(tail, sizeof(tail), "%s", slash + 1);
		if (parse_id(idb, &id) != 0) {
			vgl_http_error(req, 400, "bad id '%s'", idb);
			return;
		}
		if (!strcmp(base, "alarms") && !strcmp(tail, "ack"))
			k = AK_ACK;
		else if (!strcmp(base, "alarms") && !strcmp(tail, "comment"))
			k = AK_COMMENT;
		else if (!strcmp(base, "silences") && !strcmp(tail, "remove"))
			k = AK_SILENCE_REMOVE;
		else if (!strcmp(base, "maintenance") && !strcmp(tail, "cancel"))
			k = AK_MAINT_CANCEL;
		else if (!strcmp(base, "intervals") && !strcmp(tail, "reclassify"))
			k = AK_RECLASSIFY;
		else
			goto unknown;
	}
	body = vgl_http_body(req, &len);
	if (!(j = job_new(req, k)))
		return;
	j->id = id;
	snprintf(j->user, sizeof(j->user), "%s", who->name);
	/* An empty body is an empty object: ack and remove need nothing. */
	j->body = len ? cJSON_ParseWithLength(body, len) : cJSON_CreateObject();
	if (!cJSON_IsObject(j->body)) {
		vgl_http_error(req, 400, "the body must be a JSON object (Content-Type: "
			       "application/json)");
		cJSON_Delete(j->body);
		free(j);
		return;
	}
	submit(a, j);
	return;
unknown:
	vgl_http_error(req, 404, "no such endpoint: POST /api/v1%s", p);
}

static void on_request(void *ctx, struct vgl_http_req *req)
{
	struct dapi *a = ctx;
	const struct vgl_conf_api *c = a->v->conf->api;
	const char *m = vgl_http_method(req), *path = vgl_http_path(req);
	int is_get = !strcmp(m, "GET") || !strcmp(m, "HEAD"), bad;
	const struct vgl_api_token *who;
	int api = !strncmp(path, "/api/v1/", 8), is_metrics = !strcmp(path, "/metrics");

	/* a reload that dropped the section: nothing is served any more */
	if (!c) {
		vgl_http_error(req, 503, "the API is off in the running configuration");
		return;
	}
	if (!is_get && strcmp(m, "POST")) {
		static const char *const allow[] = { "Allow: GET, HEAD, POST", NULL };
		vgl_http_respond(req, 405, "application/json",
				 strdup("{\"error\":\"method not allowed\"}"),
				 strlen("{\"error\":\"method not allowed\"}"), allow);
		return;
	}
	if (!api && !is_metrics) {
		if (!is_get)
			vgl_http_error(req, 405, "%s takes GET", path);
		else
			static_file(a, req, path);
		return;
	}
	who = caller(c, req, &bad);
	if (bad) {
		auth_error(req, 401, "unknown bearer token");
		return;
	}
	if (is_get) {
		if (c->read_requires_token && !who) {
			auth_error(req, 401, "reads need a bearer token (api.read_requires_token)");
			return;
		}
		if (is_metrics)
			metrics(a, req);
		else
			get_route(a, req, path + 7);
		return;
	}
	if (is_metrics) {
		vgl_http_error(req, 405, "/metrics takes GET");
		return;
	}
	if (!who) {
		auth_error(req, 401, c->n_tokens ? "writes need an operator's bearer token"
						 : "writes need api.tokens_file with an operator "
						   "token");
		return;
	}
	if (who->role != VGL_API_OPERATOR) {
		vgl_http_error(req, 403, "token '%s' may only read", who->name);
		return;
	}
	post_route(a, req, path + 7, who);
}

/* ---- lifecycle ---- */

int vgl__api_start(struct vigil *v)
{
	const struct vgl_conf_api *c = v->conf->api;
	struct vgl_http_opts o;
	struct dapi *a;
	char err[256];
	int rv;

	if (!c)
		return 0;
	if (!(a = calloc(1, sizeof(*a))) || !(a->db_path = strdup(v->conf->db_path)))
		goto oom;
	a->v = v;
	for (int i = 0; i < API_DB_SLOTS; i++)
		if (!(a->slot[i] = vgl__api_db_new()))
			goto oom;
	o = (struct vgl_http_opts){ c->listen_host, c->port, c->tls_cert_pem, c->tls_key_pem,
				    c->max_body, c->max_clients };
	if (vgl_http_start(v->loop, &o, on_request, a, &a->http, err, sizeof(err)) != 0) {
		vgl_err("api: %s", err);
		goto fail;
	}
	if ((rv = uv_timer_init(v->loop, &a->ping)) != 0) {
		vgl_err("api: timer: %s", uv_strerror(rv));
		abort();
	}
	a->ping.data = a;
	uv_timer_start(&a->ping, on_ping, SSE_PING_MS, SSE_PING_MS);
	v->api = a;
	vgl_notice("api: listening on %s://%s%s%s:%u/ (dashboard at /, metrics at /metrics)",
		   c->tls_cert_pem ? "https" : "http", strchr(c->listen_host, ':') ? "[" : "",
		   c->listen_host, strchr(c->listen_host, ':') ? "]" : "",
		   (unsigned)vgl_http_port(a->http));
	return 0;
oom:
	vgl_err("api: out of memory");
fail:
	if (a) {
		for (int i = 0; i < API_DB_SLOTS; i++)
			vgl__api_db_free(a->slot[i]);
		free(a->db_path);
		free(a);
	}
	return -1;
}

uint16_t vgl__api_port(const struct vigil *v)
{
	return v->api ? vgl_http_port(v->api->http) : 0;
}

void vgl__api_reloaded(struct vigil *v)
{
	const struct vgl_conf_api *c = v->conf->api;

	if (!v->api)
		return;
	if (!c)
		vgl_warn("api: the new configuration has no \"api\": every request is refused "
			 "until a restart stops the server");
	else
		vgl_info("api: tokens and settings reread; a new listen address or certificate "
			 "takes a restart");
}

static void on_closed(void *arg)
{
	struct vigil *v = arg;
	struct dapi *a = v->api;

	if (--a->closing)
		return;
	v->open_handles--;
	for (int i = 0; i < API_DB_SLOTS; i++)
		vgl__api_db_free(a->slot[i]);
	v->api = NULL;
	free(a->queue);
	free(a->refs);
	free(a->db_path);
	free(a);
}

static void on_ping_closed(uv_handle_t *h)
{
	struct dapi *a = h->data;
	on_closed(a->v);
}

void vgl__api_stop(struct vigil *v)
{
	struct dapi *a = v->api;

	if (!a || a->stopping)
		return;
	a->stopping = 1;
	a->closing = 2;
	v->open_handles++;
	uv_close((uv_handle_t *)&a->ping, on_ping_closed);
	/* waits for the jobs in the threadpool and the queue: each answers */
	vgl_http_close(a->http, on_closed, v);
}
