/* libmicrohttpd on the libuv loop (api/http.h).
 *
 * How the two loops meet: libmicrohttpd runs with MHD_USE_EPOLL and no
 * thread of its own, so all of its sockets sit in one epoll descriptor of
 * its own. libuv watches that descriptor (an epoll fd is readable while
 * any socket inside it is ready) and calls MHD_run, after which
 * MHD_get_timeout says when libmicrohttpd next needs a call even without
 * I/O (idle timeouts, work it left for later). MHD_ALLOW_SUSPEND_RESUME
 * adds an inter-thread channel to that descriptor, so a resume (from the
 * loop, after the threadpool answered) also wakes the poll.
 *
 * Request state machine, per connection (on_access is libmicrohttpd's
 * access handler, called several times per request):
 *   NEW --first call--> READING --body chunks--> (end of body)
 *     -> too big: 413 queued at once
 *     -> DISPATCHED: the handler runs; it answered now -> queued at once;
 *        else the connection is suspended until vgl_http_respond resumes
 *        it, and the next on_access call queues the answer.
 * A stream's reader suspends its connection when its producer has nothing
 * and vgl_http_stream_wake resumes it.
 *
 * Invariants: a suspended connection always has someone who will resume
 * it (the owner of its pending answer, or a stream's waker); close waits
 * for every pending answer and ends every stream before MHD_stop_daemon,
 * which must never see a suspended connection. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <microhttpd.h>

#include "api/http.h"
#include "core/log.h"

/* Idle keep-alive connections are closed after this. */
#define IDLE_TIMEOUT_S 60
/* What a stream's producer is offered per call. */
#define STREAM_BLOCK (32 * 1024)

struct vgl_http_stream {
	struct vgl_http *h;
	struct MHD_Connection *c;
	vgl_http_stream_fn *fn;
	void *sctx;
	void (*free_fn)(void *);
	int asleep;                     /* connection suspended by the reader */
	int ended;
	struct vgl_http_stream *prev, *next;
};

struct vgl_http {
	uv_loop_t *loop;
	struct MHD_Daemon *d;
	uv_poll_t poll;
	uv_timer_t timer;
	vgl_http_handler *fn;
	void *ctx;
	uint32_t max_body;
	uint16_t port;
	unsigned pending;               /* dispatched, not answered */
	struct vgl_http_stream *streams;
	int closing;
	unsigned open_handles;
	void (*done)(void *);
	void *done_ctx;
};

struct vgl_http_req {
	struct vgl_http *h;
	struct MHD_Connection *c;
	char *method, *path;
	char *body;
	size_t len, cap;
	int too_big;
	int dispatched;
	int suspended;
	struct MHD_Response *resp;      /* the answer, until queued */
	unsigned status;
	char peer[64];
};

static void kick(struct vgl_http *h);

/* ---- requests ---- */

const char *vgl_http_method(const struct vgl_http_req *r) { return r->method; }
const char *vgl_http_path(const struct vgl_http_req *r) { return r->path; }
const char *vgl_http_peer(const struct vgl_http_req *r) { return r->peer; }

const char *vgl_http_query(const struct vgl_http_req *r, const char *key)
{
	return MHD_lookup_connection_value(r->c, MHD_GET_ARGUMENT_KIND, key);
}

const char *vgl_http_header(const struct vgl_http_req *r, const char *name)
{
	return MHD_lookup_connection_value(r->c, MHD_HEADER_KIND, name);
}

const char *vgl_http_body(const struct vgl_http_req *r, size_t *len)
{
	*len = r->len;
	return r->body ? r->body : "";
}

static void add_headers(struct MHD_Response *resp, const char *content_type,
			const char *const *headers)
{
	if (content_type)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
	/* Answers are never for a shared cache, and never sniffed into
	 * something else by a browser. */
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	for (; headers && *headers; headers++) {
		char name[64];
		const char *colon = strchr(*headers, ':');
		size_t n = colon ? (size_t)(colon - *headers) : 0;

		if (!colon || n == 0 || n >= sizeof(name))
			continue;
		memcpy(name, *headers, n);
		name[n] = 0;
		colon++;
		while (*colon == ' ')
			colon++;
		MHD_add_response_header(resp, name, colon);
	}
}

/* The answer is set: queued by on_access now (the handler's own call) or
 * after the resume. */
static void answered(struct vgl_http_req *r)
{
	struct vgl_http *h = r->h;

	if (r->dispatched) {
		r->dispatched = 0;
		h->pending--;
	}
	if (r->suspended) {
		r->suspended = 0;
		MHD_resume_connection(r->c);
		kick(h);
	}
}

void vgl_http_respond(struct vgl_http_req *r, unsigned status, const char *content_type,
		      char *body, size_t len, const char *const *headers)
{
	struct MHD_Response *resp;

	if (r->resp) {
		free(body);
		return;
	}
	resp = MHD_create_response_from_buffer(len, body ? body : (char *)"",
					       body ? MHD_RESPMEM_MUST_FREE
						    : MHD_RESPMEM_PERSISTENT);
	if (!resp) {
		free(body);
		/* libmicrohttpd answers 500 itself when on_access says no. */
		vgl_err("api: %s %s from %s: out of memory for the answer", r->method, r->path,
			r->peer);
	} else {
		add_headers(resp, content_type, headers);
		r->resp = resp;
		r->status = status;
	}
	answered(r);
}

void vgl_http_error(struct vgl_http_req *r, unsigned status, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	cJSON *o;
	char *text = NULL;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if ((o = cJSON_CreateObject()) && cJSON_AddStringToObject(o, "error", msg))
		text = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	if (text) {
		/* cJSON's allocator is malloc: respond frees it with free(). */
		size_t n = strlen(text);
		char *body = malloc(n + 2);
		if (body) {
			memcpy(body, text, n);
			body[n] = '\n';
			body[n + 1] = 0;
		}
		cJSON_free(text);
		vgl_http_respond(r, status, "application/json", body, body ? n + 1 : 0, NULL);
	} else {
		vgl_http_respond(r, status, "application/json", NULL, 0, NULL);
	}
}

/* ---- streams ---- */

static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct vgl_http_stream *s = cls;
	long n;

	(void)pos;
	if (s->ended)
		return MHD_CONTENT_READER_END_OF_STREAM;
	n = s->fn(s->sctx, buf, max);
	if (n > 0)
		return (ssize_t)n;
	if (n < 0 || s->h->closing) {
		s->ended = 1;
		return MHD_CONTENT_READER_END_OF_STREAM;
	}
	/* Nothing now: sleep rather than be asked again at once. */
	s->asleep = 1;
	MHD_suspend_connection(s->c);
	return 0;
}

static void stream_free(void *cls)
{
	struct vgl_http_stream *s = cls;
	struct vgl_http *h = s->h;

	if (s->prev)
		s->prev->next = s->next;
	else
		h->streams = s->next;
	if (s->next)
		s->next->prev = s->prev;
	if (s->free_fn)
		s->free_fn(s->sctx);
	free(s);
	if (h->closing)
		kick(h);
}

struct vgl_http_stream *vgl_http_stream(struct vgl_http_req *r, const char *content_type,
					vgl_http_stream_fn *fn, void *sctx,
					void (*free_fn)(void *sctx), const char *const *headers)
{
	struct vgl_http *h = r->h;
	struct vgl_http_stream *s = calloc(1, sizeof(*s));
	struct MHD_Response *resp = NULL;

	if (s)
		resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, STREAM_BLOCK, stream_read,
							 s, stream_free);
	if (!resp) {
		free(s);
		if (free_fn)
			free_fn(sctx);
		vgl_http_error(r, 500, "out of memory");
		return NULL;
	}
	*s = (struct vgl_http_stream){ h, r->c, fn, sctx, free_fn, 0, 0, NULL, h->streams };
	if (h->streams)
		h->streams->prev = s;
	h->streams = s;
	add_headers(resp, content_type, headers);
	r->resp = resp;
	r->status = 200;
	answered(r);
	return s;
}

void vgl_http_stream_wake(struct vgl_http_stream *s)
{
	if (s && s->asleep) {
		s->asleep = 0;
		MHD_resume_connection(s->c);
		kick(s->h);
	}
}

/* ---- libmicrohttpd's callbacks ---- */

static enum MHD_Result queue(struct vgl_http_req *r)
{
	enum MHD_Result rc = MHD_queue_response(r->c, r->status, r->resp);

	MHD_destroy_response(r->resp);
	r->resp = NULL;
	return rc;
}

static enum MHD_Result on_access(void *cls, struct MHD_Connection *c, const char *url,
				 const char *method, const char *version, const char *upload,
				 size_t *upload_size, void **con_cls)
{
	struct vgl_http *h = cls;
	struct vgl_http_req *r = *con_cls;

	(void)version;
	if (!r) {
		const union MHD_ConnectionInfo *ci =
			MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
		const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
							     MHD_HTTP_HEADER_CONTENT_LENGTH);

		if (!(r = calloc(1, sizeof(*r))) || !(r->method = strdup(method)) ||
		    !(r->path = strdup(url))) {
			if (r) {
				free(r->method);
				free(r);
			}
			return MHD_NO;
		}
		r->h = h;
		r->c = c;
		if (ci && ci->client_addr) {
			char a[INET6_ADDRSTRLEN] = "?";
			const struct sockaddr *sa = ci->client_addr;
			unsigned port = 0;
			if (sa->sa_family == AF_INET) {
				const struct sockaddr_in *s4 = (const void *)sa;
				inet_ntop(AF_INET, &s4->sin_addr, a, sizeof(a));
				port = ntohs(s4->sin_port);
				snprintf(r->peer, sizeof(r->peer), "%s:%u", a, port);
			} else if (sa->sa_family == AF_INET6) {
				const struct sockaddr_in6 *s6 = (const void *)sa;
				inet_ntop(AF_INET6, &s6->sin6_addr, a, sizeof(a));
				port = ntohs(s6->sin6_port);
				snprintf(r->peer, sizeof(r->peer), "[%s]:%u", a, port);
			}
		}
		/* Refused before a byte of it is read. */
		if (cl && strtoull(cl, NULL, 10) > h->max_body)
			r->too_big = 1;
		*con_cls = r;
		return MHD_YES;
	}
	if (*upload_size) {
		size_t n = *upload_size;
		*upload_size = 0;
		if (r->too_big)
			return MHD_YES;
		if (r->len + n > h->max_body) {
			r->too_big = 1;
			free(r->body);
			r->body = NULL;
			r->len = r->cap = 0;
			return MHD_YES;
		}
		if (r->len + n + 1 > r->cap) {
			size_t cap = r->cap ? r->cap : 1024;
			char *nb;
			while (cap < r->len + n + 1)
				cap *= 2;
			if (!(nb = realloc(r->body, cap)))
				return MHD_NO;
			r->body = nb;
			r->cap = cap;
		}
		memcpy(r->body + r->len, upload, n);
		r->len += n;
		r->body[r->len] = 0;
		return MHD_YES;
	}
	if (r->resp)
		return queue(r);
	if (r->dispatched)
		return MHD_YES;         /* a spurious call while waiting: keep waiting */
	if (h->closing)
		vgl_http_error(r, 503, "vigild is stopping");
	else if (r->too_big)
		vgl_http_error(r, 413, "request body larger than api.max_body (%u bytes)",
			       (unsigned)h->max_body);
	else {
		r->dispatched = 1;
		h->pending++;
		h->fn(h->ctx, r);
	}
	if (r->resp)
		return queue(r);
	if (r->dispatched) {
		r->suspended = 1;
		MHD_suspend_connection(c);
	}
	return MHD_YES;
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
			 enum MHD_RequestTerminationCode why)
{
	struct vgl_http_req *r = *con_cls;

	(void)cls;
	(void)c;
	(void)why;
	if (!r)
		return;
	if (r->resp)
		MHD_destroy_response(r->resp);
	free(r->method);
	free(r->path);
	free(r->body);
	free(r);
	*con_cls = NULL;
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[512];
	size_t n;

	(void)cls;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	n = strlen(msg);
	while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
		msg[--n] = 0;
	/* A client going away mid-answer (a browser closing the event stream)
	 * is the normal end of a stream, not a fault of vigild's. */
	if (strstr(msg, "no longer available") || strstr(msg, "Connection reset") ||
	    strstr(msg, "Broken pipe"))
		vgl_debug("api: %s", msg);
	else
		vgl_warn("api: %s", msg);
}

/* ---- the loop side ---- */

static void finish_close(struct vgl_http *h);
static void on_timer(uv_timer_t *t);

static void run(struct vgl_http *h)
{
	MHD_UNSIGNED_LONG_LONG to;

	if (!h->d)
		return;
	MHD_run(h->d);
	if (h->closing && h->pending == 0 && !h->streams) {
		finish_close(h);
		return;
	}
	if (MHD_get_timeout(h->d, &to) != MHD_YES)
		to = 1000;              /* a slow tick; nothing should be waiting */
	if (h->closing && to > 50)
		to = 50;
	uv_timer_start(&h->timer, on_timer, to, 0);
}

static void on_timer(uv_timer_t *t) { run(t->data); }

static void on_poll(uv_poll_t *p, int status, int events)
{
	(void)status;
	(void)events;
	run(p->data);
}

/* After a resume or a new answer from outside libmicrohttpd's callbacks:
 * run it on the next loop iteration. */
static void kick(struct vgl_http *h)
{
	if (h->d)
		uv_timer_start(&h->timer, on_timer, 0, 0);
}

int vgl_http_start(uv_loop_t *loop, const struct vgl_http_opts *o, vgl_http_handler *fn,
		   void *ctx, struct vgl_http **out, char *err, size_t errlen)
{
	struct vgl_http *h = calloc(1, sizeof(*h));
	struct sockaddr_in s4 = { 0 };
	struct sockaddr_in6 s6 = { 0 };
	const struct sockaddr *sa;
	unsigned flags = MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
	const union MHD_DaemonInfo *di;
	int rv;

	*out = NULL;
	if (!h) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (inet_pton(AF_INET, o->host, &s4.sin_addr) == 1) {
		s4.sin_family = AF_INET;
		s4.sin_port = htons(o->port);
		sa = (const struct sockaddr *)&s4;
	} else if (inet_pton(AF_INET6, o->host, &s6.sin6_addr) == 1) {
		s6.sin6_family = AF_INET6;
		s6.sin6_port = htons(o->port);
		sa = (const struct sockaddr *)&s6;
		flags |= MHD_USE_IPv6;
	} else {
		snprintf(err, errlen, "'%s' is not a numeric address", o->host);
		free(h);
		return -1;
	}
	if (o->cert_pem) {
		if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
			snprintf(err, errlen, "this libmicrohttpd was built without TLS");
			free(h);
			return -1;
		}
		flags |= MHD_USE_TLS;
	}
	h->loop = loop;
	h->fn = fn;
	h->ctx = ctx;
	h->max_body = o->max_body;
	errno = 0;
	if (o->cert_pem)
		h->d = MHD_start_daemon(flags, o->port, NULL, NULL, on_access, h,
					MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, NULL,
					MHD_OPTION_SOCK_ADDR, sa, MHD_OPTION_NOTIFY_COMPLETED, on_completed,
					NULL, MHD_OPTION_CONNECTION_LIMIT, (unsigned)o->max_clients,
					MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)IDLE_TIMEOUT_S,
					MHD_OPTION_HTTPS_MEM_KEY, o->key_pem,
					MHD_OPTION_HTTPS_MEM_CERT, o->cert_pem, MHD_OPTION_END);
	else
		h->d = MHD_start_daemon(flags, o->port, NULL, NULL, on_access, h,
					MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, NULL,
					MHD_OPTION_SOCK_ADDR, sa, MHD_OPTION_NOTIFY_COMPLETED, on_completed,
					NULL, MHD_OPTION_CONNECTION_LIMIT, (unsigned)o->max_clients,
					MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)IDLE_TIMEOUT_S,
					MHD_OPTION_END);
	if (!h->d) {
		snprintf(err, errlen, "cannot listen on %s%s%s:%u: %s", strchr(o->host, ':') ? "[" : "",
			 o->host, strchr(o->host, ':') ? "]" : "", (unsigned)o->port,
			 errno ? strerror(errno) : o->cert_pem ? "bad certificate or key?"
							       : "libmicrohttpd refused");
		free(h);
		return -1;
	}
	di = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_BIND_PORT);
	h->port = di ? di->port : o->port;
	di = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_EPOLL_FD);
	if (!di || (rv = uv_poll_init(loop, &h->poll, di->epoll_fd)) != 0 ||
	    (rv = uv_timer_init(loop, &h->timer)) != 0) {
		snprintf(err, errlen, "cannot watch libmicrohttpd's epoll descriptor: %s",
			 di ? uv_strerror(rv) : "no descriptor");
		MHD_stop_daemon(h->d);
		free(h);
		return -1;
	}
	h->poll.data = h->timer.data = h;
	h->open_handles = 2;
	uv_poll_start(&h->poll, UV_READABLE, on_poll);
	kick(h);
	*out = h;
	return 0;
}

uint16_t vgl_http_port(const struct vgl_http *h) { return h->port; }

static void on_closed(uv_handle_t *hd)
{
	struct vgl_http *h = hd->data;

	if (--h->open_handles == 0) {
		void (*done)(void *) = h->done;
		void *dc = h->done_ctx;
		free(h);
		if (done)
			done(dc);
	}
}

static void finish_close(struct vgl_http *h)
{
	MHD_stop_daemon(h->d);
	h->d = NULL;
	uv_close((uv_handle_t *)&h->poll, on_closed);
	uv_close((uv_handle_t *)&h->timer, on_closed);
}

void vgl_http_close(struct vgl_http *h, void (*done)(void *), void *done_ctx)
{
	if (!h) {
		if (done)
			done(done_ctx);
		return;
	}
	h->closing = 1;
	h->done = done;
	h->done_ctx = done_ctx;
	for (struct vgl_http_stream *s = h->streams; s; s = s->next) {
		s->ended = 1;
		vgl_http_stream_wake(s);
	}
	kick(h);
}
