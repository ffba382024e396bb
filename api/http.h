/* An HTTP/1.1 server on the daemon's libuv loop: libmicrohttpd in its
 * external-event mode, its epoll descriptor watched by a uv_poll and its
 * timeouts by a uv_timer, so every callback runs on the loop thread and
 * nothing here starts a thread (docs/api.md says why this library).
 *
 * A request reaches the handler once, complete (body included, at most
 * max_body bytes: a bigger one is answered 413 by this module and never
 * reaches it). The handler answers exactly once, now or later, from the
 * loop: vgl_http_respond (a whole body) or vgl_http_stream (a body made
 * piece by piece: /metrics, Server-Sent Events). Answering later suspends
 * the connection in libmicrohttpd, so a request waiting on the threadpool
 * holds no busy loop and no thread.
 *
 * Lifetimes: a struct vgl_http_req and everything its accessors return is
 * valid from the handler's call until its answer is given (a stream's:
 * until the stream's free function runs). */
#ifndef VGL_HTTP_H
#define VGL_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include <uv.h>

struct vgl_http;
struct vgl_http_req;

typedef void vgl_http_handler(void *ctx, struct vgl_http_req *req);

struct vgl_http_opts {
	const char *host;               /* numeric IPv4 or IPv6 address */
	uint16_t port;                  /* 0: an ephemeral one (vgl_http_port) */
	const char *cert_pem, *key_pem; /* both: HTTPS; NULL: plain HTTP */
	uint32_t max_body;
	uint32_t max_clients;
};

/* Listens. 0 and *out, or -1 with err filled (the address, and why). */
int vgl_http_start(uv_loop_t *loop, const struct vgl_http_opts *o, vgl_http_handler *fn,
		   void *ctx, struct vgl_http **out, char *err, size_t errlen);
uint16_t vgl_http_port(const struct vgl_http *h);

/* Stops accepting; streams are ended, requests still waiting for their
 * answer get it (the handler's owner must still answer them), then every
 * handle closes and done(done_ctx) runs on the loop; h is then freed. */
void vgl_http_close(struct vgl_http *h, void (*done)(void *), void *done_ctx);

/* ---- one request ---- */

const char *vgl_http_method(const struct vgl_http_req *r);
/* The path without the query string, percent-decoded by libmicrohttpd. */
const char *vgl_http_path(const struct vgl_http_req *r);
/* The first value of query argument key; NULL when absent. */
const char *vgl_http_query(const struct vgl_http_req *r, const char *key);
const char *vgl_http_header(const struct vgl_http_req *r, const char *name);
/* The body (NUL-terminated for convenience; len excludes the NUL). */
const char *vgl_http_body(const struct vgl_http_req *r, size_t *len);
/* The client's address, for logs: "127.0.0.1:40312". */
const char *vgl_http_peer(const struct vgl_http_req *r);

/* The answer: body is taken (malloc'd, freed here; NULL with len 0 for
 * none). Extra headers: NULL, or "Name: value" strings ending in NULL. */
void vgl_http_respond(struct vgl_http_req *r, unsigned status, const char *content_type,
		      char *body, size_t len, const char *const *headers);
/* {"error": msg} with the status: every error answer of the API. */
void vgl_http_error(struct vgl_http_req *r, unsigned status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* A body made by fn, called on the loop whenever the client can take
 * more: it writes at most max bytes into buf and returns how many, 0 when
 * it has nothing now (the connection sleeps until vgl_http_stream_wake),
 * or -1 to end the body. free_fn(sctx) runs once, when the response is
 * done with (finished, client gone, or the server closing). */
typedef long vgl_http_stream_fn(void *sctx, char *buf, size_t max);
struct vgl_http_stream;
/* The request is answered; the returned stream is valid until free_fn
 * runs (NULL when out of memory: a 500 went out instead, and free_fn ran). */
struct vgl_http_stream *vgl_http_stream(struct vgl_http_req *r, const char *content_type,
					vgl_http_stream_fn *fn, void *sctx,
					void (*free_fn)(void *sctx), const char *const *headers);
/* fn has something again (or should end): call it soon. */
void vgl_http_stream_wake(struct vgl_http_stream *s);

#endif
