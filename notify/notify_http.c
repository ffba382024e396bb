/* Webhook and Alertmanager posts: libcurl's multi-socket API on the loop,
 * one CURLM for every channel of the engine and one easy handle per
 * attempt (connections are the multi's and are reused across attempts).
 *
 *   curl -> sock_cb(fd, IN/OUT)   a uv_poll_t for fd, started for those
 *   curl -> sock_cb(fd, REMOVE)   that poll closed (memory freed in its
 *                                 close callback: the fd leaves epoll at
 *                                 uv_close, so curl may reuse the number)
 *   curl -> timer_cb(ms)          the one uv_timer_t rearmed or stopped
 *   poll / timer fires            curl_multi_socket_action, then each
 *                                 CURLMSG_DONE finishes its attempt
 *
 * A transfer whose socket the loop cannot watch fails alone (never -1 to
 * curl, which would fail every transfer of the multi). The timeout is
 * curl's own (CURLOPT_TIMEOUT_MS), so a receiver that accepts and never
 * answers costs one socket until then and nothing else. */
#include "notify/notify_int.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "notify/render.h"

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_rc = CURLE_FAILED_INIT;

static void global_init(void)
{
	global_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* ---- sockets ------------------------------------------------------------------ */

static void sock_close_cb(uv_handle_t *h)
{
	struct nsock *k = h->data;
	struct vgl_notify *n = k->n;

	free(k);
	vgl__nt_handle_closed(n);
}

static void sock_close(struct vgl_notify *n, struct nsock *k)
{
	if (k->prev)
		k->prev->next = k->next;
	else
		n->socks = k->next;
	if (k->next)
		k->next->prev = k->prev;
	k->prev = k->next = NULL;
	uv_close((uv_handle_t *)&k->poll, sock_close_cb);
}

static void fail_easy(struct vgl_notify *n, CURL *easy, const char *what, int uverr)
{
	struct nattempt *a = NULL;

	if (curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&a) != CURLE_OK || !a ||
	    a->in_failq)
		return;
	snprintf(a->local_err, sizeof(a->local_err), "%s: %s", what,
		 uverr ? uv_strerror(uverr) : "out of memory");
	a->in_failq = 1;
	a->next_fail = n->failq;
	n->failq = a;
}

static void on_poll(uv_poll_t *h, int status, int events);

static int sock_cb(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp)
{
	struct vgl_notify *n = userp;
	struct nsock *k = socketp;
	int ev = 0, rc;

	if (what == CURL_POLL_REMOVE) {
		if (k)
			sock_close(n, k);
		return 0;
	}
	if (!k) {
		if (!(k = calloc(1, sizeof(*k)))) {
			fail_easy(n, easy, "socket watch", 0);
			return 0;
		}
		rc = uv_poll_init_socket(n->loop, &k->poll, s);
		if (rc == UV_EEXIST) {
			/* a watcher left on a number curl closed and reused */
			for (struct nsock *o = n->socks; o; o = o->next) {
				if (o->fd == s) {
					sock_close(n, o);
					break;
				}
			}
			rc = uv_poll_init_socket(n->loop, &k->poll, s);
		}
		if (rc != 0) {
			free(k);
			fail_easy(n, easy, "uv_poll_init_socket", rc);
			return 0;
		}
		k->n = n;
		k->fd = s;
		k->poll.data = k;
		k->next = n->socks;
		if (n->socks)
			n->socks->prev = k;
		n->socks = k;
		n->open++;
		if (curl_multi_assign(n->multi, s, k) != CURLM_OK) {
			sock_close(n, k);
			fail_easy(n, easy, "curl_multi_assign", UV_EINVAL);
			return 0;
		}
	}
	if (what & CURL_POLL_IN)
		ev |= UV_READABLE;
	if (what & CURL_POLL_OUT)
		ev |= UV_WRITABLE;
	if ((rc = uv_poll_start(&k->poll, ev, on_poll)) != 0)
		fail_easy(n, easy, "uv_poll_start", rc);
	return 0;
}

/* ---- results ------------------------------------------------------------------ */

static void release_easy(struct nattempt *a)
{
	if (a->in_multi && a->n->multi &&
	    curl_multi_remove_handle(a->n->multi, a->easy) != CURLM_OK)
		vgl_err("notify: channel %s: curl_multi_remove_handle failed", a->ch->conf.name);
	a->in_multi = 0;
	if (a->easy)
		curl_easy_cleanup(a->easy);
	a->easy = NULL;
	curl_slist_free_all(a->hdrs);
	a->hdrs = NULL;
}

/* The first line of what the receiver answered, for the error. */
static void resp_line(const struct nattempt *a, char *out, size_t len)
{
	size_t i = 0;

	for (; i < a->resp_len && i + 1 < len; i++) {
		unsigned char ch = (unsigned char)a->resp[i];
		if (ch == '\n' || ch == '\r')
			break;
		out[i] = ch < 0x20 || ch == 0x7f ? ' ' : (char)ch;
	}
	out[i] = 0;
}

static void report(struct nattempt *a, CURLcode rc)
{
	uint32_t s = a->ch->conf.timeout_ms / 1000;
	long code = 0, oserr = 0;

	a->ok = 0;
	if (rc == CURLE_OK) {
		char line[100];

		if (curl_easy_getinfo(a->easy, CURLINFO_RESPONSE_CODE, &code) != CURLE_OK)
			code = 0;
		if (code >= 200 && code < 300) {
			a->ok = 1;
			return;
		}
		resp_line(a, line, sizeof(line));
		snprintf(a->error, sizeof(a->error), "HTTP %ld%s%s", code, line[0] ? ": " : "",
			 line);
		return;
	}
	switch (rc) {
	case CURLE_OPERATION_TIMEDOUT:
		snprintf(a->error, sizeof(a->error), "timeout after %u s", (unsigned)s);
		return;
	case CURLE_COULDNT_CONNECT:
		if (curl_easy_getinfo(a->easy, CURLINFO_OS_ERRNO, &oserr) != CURLE_OK)
			oserr = 0;
		if (oserr == ECONNREFUSED)
			snprintf(a->error, sizeof(a->error), "connect: refused");
		else if (oserr)
			snprintf(a->error, sizeof(a->error), "connect: %s", strerror((int)oserr));
		else
			snprintf(a->error, sizeof(a->error), "connect: %.200s",
				 a->errbuf[0] ? a->errbuf : curl_easy_strerror(rc));
		return;
	case CURLE_ABORTED_BY_CALLBACK:
		if (a->local_err[0]) {
			snprintf(a->error, sizeof(a->error), "%s", a->local_err);
			return;
		}
		break;
	default:
		break;
	}
	snprintf(a->error, sizeof(a->error), "%.200s", a->errbuf[0] ? a->errbuf
							    : curl_easy_strerror(rc));
}

static void check_done(struct vgl_notify *n)
{
	CURLMsg *msg;
	int left;

	while (n->multi && (msg = curl_multi_info_read(n->multi, &left))) {
		CURL *easy = msg->easy_handle;
		CURLcode rc = msg->data.result;
		struct nattempt *a = NULL;

		if (msg->msg != CURLMSG_DONE)
			continue;
		if (curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&a) != CURLE_OK || !a) {
			curl_multi_remove_handle(n->multi, easy);
			continue;
		}
		/* msg is gone once the handle leaves the multi: rc copied above */
		if (curl_multi_remove_handle(n->multi, easy) != CURLM_OK)
			vgl_err("notify: curl_multi_remove_handle failed");
		a->in_multi = 0;
		if (a->in_failq)
			continue;       /* reported below with its own reason */
		report(a, rc);
		release_easy(a);
		vgl__nt_finish(a);
	}
	while (n->failq) {
		struct nattempt *a = n->failq;

		n->failq = a->next_fail;
		a->in_failq = 0;
		a->ok = 0;
		snprintf(a->error, sizeof(a->error), "%s", a->local_err);
		release_easy(a);
		vgl__nt_finish(a);
	}
}

static void action(struct vgl_notify *n, curl_socket_t fd, int flags)
{
	int running = 0;
	CURLMcode mc;

	if (!n->multi)
		return;
	mc = curl_multi_socket_action(n->multi, fd, flags, &running);
	if (mc != CURLM_OK)
		vgl_err("notify: curl_multi_socket_action: %s", curl_multi_strerror(mc));
	check_done(n);
}

static void on_poll(uv_poll_t *h, int status, int events)
{
	struct nsock *k = h->data;
	int flags = 0;

	if (status < 0) {
		flags = CURL_CSELECT_ERR;
	} else {
		if (events & (UV_READABLE | UV_DISCONNECT))
			flags |= CURL_CSELECT_IN;
		if (events & UV_WRITABLE)
			flags |= CURL_CSELECT_OUT;
	}
	action(k->n, k->fd, flags);
}

static void on_timer(uv_timer_t *t)
{
	action(t->data, CURL_SOCKET_TIMEOUT, 0);
}

static int timer_cb(CURLM *multi, long ms, void *userp)
{
	struct vgl_notify *n = userp;
	int rc;

	(void)multi;
	if (!n->curl_timer_open)
		return 0;
	if (ms < 0) {
		uv_timer_stop(&n->curl_timer);
		return 0;
	}
	/* never curl_multi_socket_action from in here: the timer runs it */
	if ((rc = uv_timer_start(&n->curl_timer, on_timer, (uint64_t)ms, 0)) != 0) {
		vgl_err("notify: uv_timer_start: %s", uv_strerror(rc));
		return -1;
	}
	return 0;
}

int vgl__nt_http_open(struct vgl_notify *n)
{
	CURLMcode mc;
	int rc;

	pthread_once(&global_once, global_init);
	if (global_rc != CURLE_OK) {
		vgl_err("notify: curl_global_init: %s", curl_easy_strerror(global_rc));
		return -EIO;
	}
	if (!(n->multi = curl_multi_init()))
		return -ENOMEM;
	if ((mc = curl_multi_setopt(n->multi, CURLMOPT_SOCKETFUNCTION, sock_cb)) != CURLM_OK ||
	    (mc = curl_multi_setopt(n->multi, CURLMOPT_SOCKETDATA, n)) != CURLM_OK ||
	    (mc = curl_multi_setopt(n->multi, CURLMOPT_TIMERFUNCTION, timer_cb)) != CURLM_OK ||
	    (mc = curl_multi_setopt(n->multi, CURLMOPT_TIMERDATA, n)) != CURLM_OK ||
	    /* idle connections kept for the next alarm: a few per receiver */
	    (mc = curl_multi_setopt(n->multi, CURLMOPT_MAXCONNECTS, 32L)) != CURLM_OK) {
		vgl_err("notify: curl_multi_setopt: %s", curl_multi_strerror(mc));
		curl_multi_cleanup(n->multi);
		n->multi = NULL;
		return -EINVAL;
	}
	if ((rc = uv_timer_init(n->loop, &n->curl_timer)) != 0) {
		curl_multi_cleanup(n->multi);
		n->multi = NULL;
		return rc;
	}
	n->curl_timer.data = n;
	n->curl_timer_open = 1;
	n->open++;
	return 0;
}

/* ---- one attempt ------------------------------------------------------------------- */

static size_t write_cb(char *p, size_t size, size_t nmemb, void *ud)
{
	struct nattempt *a = ud;
	size_t len = size * nmemb, room = sizeof(a->resp) - a->resp_len;

	/* the answer matters only as a hint in an error: the start is kept */
	if (room) {
		size_t k = len < room ? len : room;
		memcpy(a->resp + a->resp_len, p, k);
		a->resp_len += k;
	}
	return len;
}

static struct curl_slist *add_hdr(struct curl_slist *l, const char *h, int *bad)
{
	struct curl_slist *nl;

	if (*bad)
		return l;
	if (!(nl = curl_slist_append(l, h))) {
		*bad = 1;
		return l;
	}
	return nl;
}

static int clean_header_value(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 0;
	return 1;
}

#define SETOPT(opt, val)                                                              \
	do {                                                                          \
		CURLcode rc_ = curl_easy_setopt(a->easy, opt, val);                   \
		if (rc_ != CURLE_OK) {                                                \
			snprintf(a->error, sizeof(a->error), "curl_easy_setopt(%s): %s", \
				 #opt, curl_easy_strerror(rc_));                      \
			return -1;                                                    \
		}                                                                     \
	} while (0)

static int setup(struct nattempt *a)
{
	const struct vgl_channel_conf *c = &a->ch->conf;
	char *dk = NULL, hbuf[600];
	int bad = 0;

	if (!(a->easy = curl_easy_init())) {
		snprintf(a->error, sizeof(a->error), "curl_easy_init failed");
		return -1;
	}
	a->hdrs = add_hdr(a->hdrs, "Content-Type: application/json", &bad);
	a->hdrs = add_hdr(a->hdrs, "Accept: application/json", &bad);
	/* no 100-continue round trip: a receiver that ignores it would cost a
	 * second per post */
	a->hdrs = add_hdr(a->hdrs, "Expect:", &bad);
	if (!(dk = vgl_render_dedup_key(a->snapshot)))
		bad = 1;
	if (dk && *dk && clean_header_value(dk) && strlen(dk) < 500) {
		snprintf(hbuf, sizeof(hbuf), "X-Vigil-Dedup-Key: %s", dk);
		a->hdrs = add_hdr(a->hdrs, hbuf, &bad);
	}
	free(dk);
	if (c->bearer) {
		char *h;

		if (asprintf(&h, "Authorization: Bearer %s", c->bearer) < 0) {
			bad = 1;
		} else {
			a->hdrs = add_hdr(a->hdrs, h, &bad);
			explicit_bzero(h, strlen(h));
			free(h);
		}
	}
	if (bad) {
		snprintf(a->error, sizeof(a->error), "out of memory (headers)");
		return -1;
	}
	SETOPT(CURLOPT_PRIVATE, (void *)a);
	SETOPT(CURLOPT_NOSIGNAL, 1L);
	SETOPT(CURLOPT_PROTOCOLS_STR, "http,https");
	SETOPT(CURLOPT_FOLLOWLOCATION, 0L);
	SETOPT(CURLOPT_ERRORBUFFER, a->errbuf);
	SETOPT(CURLOPT_WRITEFUNCTION, write_cb);
	SETOPT(CURLOPT_WRITEDATA, (void *)a);
	SETOPT(CURLOPT_USERAGENT, "vigil-notify/1");
	SETOPT(CURLOPT_URL, a->ch->post_url);
	SETOPT(CURLOPT_HTTPHEADER, a->hdrs);
	SETOPT(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(a->body));
	SETOPT(CURLOPT_POSTFIELDS, a->body);
	SETOPT(CURLOPT_TIMEOUT_MS, (long)c->timeout_ms);
	SETOPT(CURLOPT_CONNECTTIMEOUT_MS, (long)c->timeout_ms);
	SETOPT(CURLOPT_SSL_VERIFYPEER, c->insecure_tls ? 0L : 1L);
	SETOPT(CURLOPT_SSL_VERIFYHOST, c->insecure_tls ? 0L : 2L);
	if (c->ca_file)
		SETOPT(CURLOPT_CAINFO, c->ca_file);
	return 0;
}

void vgl__nt_http_start(struct nattempt *a)
{
	CURLMcode mc;

	a->errbuf[0] = a->local_err[0] = 0;
	a->resp_len = 0;
	if (!a->n->multi) {
		snprintf(a->error, sizeof(a->error), "no curl multi handle");
		goto fail;
	}
	if (setup(a) != 0)
		goto fail;
	if ((mc = curl_multi_add_handle(a->n->multi, a->easy)) != CURLM_OK) {
		snprintf(a->error, sizeof(a->error), "curl_multi_add_handle: %s",
			 curl_multi_strerror(mc));
		goto fail;
	}
	a->in_multi = 1;
	return;
fail:
	a->ok = 0;
	release_easy(a);
	vgl__nt_finish(a);
}

void vgl__nt_http_abandon(struct nattempt *a)
{
	release_easy(a);
	vgl__nt_free(a);
}

/* ---- close --------------------------------------------------------------------------- */

static void timer_close_cb(uv_handle_t *h)
{
	vgl__nt_handle_closed(h->data);
}

void vgl__nt_http_close(struct vgl_notify *n)
{
	/* its attempts were abandoned (freed) already */
	n->failq = NULL;
	/* closes the cached connections: curl says REMOVE for their sockets */
	if (n->multi)
		curl_multi_cleanup(n->multi);
	n->multi = NULL;
	while (n->socks)
		sock_close(n, n->socks);
	if (n->curl_timer_open) {
		n->curl_timer_open = 0;
		uv_close((uv_handle_t *)&n->curl_timer, timer_close_cb);
	}
}
