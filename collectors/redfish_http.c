/* libcurl's multi-socket API on the libuv loop, for the Redfish collector
 * (collectors/redfish_int.h). No thread per BMC: every transfer of the
 * collector is in one CURLM that the loop drives.
 *
 *   curl -> sock_cb(fd, IN/OUT/INOUT)  a uv_poll_t for fd (made on first
 *                                      use, curl_multi_assign'ed to it),
 *                                      started for those events
 *   curl -> sock_cb(fd, REMOVE)        that poll closed (uv_close; its
 *                                      memory goes in the close callback)
 *   curl -> timer_cb(ms)               the one uv_timer_t (re)armed, or
 *                                      stopped for -1
 *   uv poll/timer fires                curl_multi_socket_action, then every
 *                                      CURLMSG_DONE is taken out of the
 *                                      multi and handed to redfish.c, then
 *                                      results are delivered (settle)
 *
 * The uv_poll lifecycle. curl says REMOVE before it closes a socket, and
 * uv_close stops the watcher at once (the fd leaves epoll then, even though
 * the handle's memory lives until the close callback), so a descriptor
 * number curl reuses right away gets a fresh uv_poll_t without clashing.
 * Should a watcher outlive its socket anyway (libuv answers UV_EEXIST for
 * the number), the stale one is found in our list and closed first. A
 * socket the loop cannot watch fails that transfer alone (never -1 to curl,
 * which would abort every transfer of the multi).
 */
#include "collectors/redfish_int.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/log.h"

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_rc = CURLE_FAILED_INIT;

static void global_init(void)
{
	global_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

uint64_t vgl__rf_now_ms(void)
{
	return uv_hrtime() / 1000000u;
}

/* ---- sockets ---------------------------------------------------------------- */

static void sock_close_cb(uv_handle_t *h)
{
	struct rf_sock *k = h->data;
	struct vgl_redfish *rf = k->rf;

	free(k);
	vgl__rf_handle_closed(rf);
}

static void sock_close(struct vgl_redfish *rf, struct rf_sock *k)
{
	if (k->prev)
		k->prev->next = k->next;
	else
		rf->socks = k->next;
	if (k->next)
		k->next->prev = k->prev;
	k->prev = k->next = NULL;
	uv_close((uv_handle_t *)&k->poll, sock_close_cb);
}

/* The transfer on easy cannot go on: failed after the current curl call. */
static void fail_easy(struct vgl_redfish *rf, CURL *easy, const char *what, int uverr)
{
	struct rf_bmc *b = NULL;

	if (curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&b) != CURLE_OK || !b ||
	    b->in_failq)
		return;
	snprintf(b->local_err, sizeof(b->local_err), "%s: %s", what,
		 uverr ? uv_strerror(uverr) : "out of memory");
	b->in_failq = 1;
	b->next_fail = rf->failq;
	rf->failq = b;
}

static void on_poll(uv_poll_t *h, int status, int events);

static int sock_cb(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp)
{
	struct vgl_redfish *rf = userp;
	struct rf_sock *k = socketp;
	int ev = 0, rc;

	if (what == CURL_POLL_REMOVE) {
		/* curl forgets its pointer for s itself */
		if (k)
			sock_close(rf, k);
		return 0;
	}
	if (!k) {
		if (!(k = calloc(1, sizeof(*k)))) {
			fail_easy(rf, easy, "socket watch", 0);
			return 0;
		}
		rc = uv_poll_init_socket(rf->loop, &k->poll, s);
		if (rc == UV_EEXIST) {
			/* a watcher left on a number curl closed and reused */
			for (struct rf_sock *o = rf->socks; o; o = o->next) {
				if (o->fd == s) {
					vgl_debug("redfish: stale watcher on fd %d closed", (int)s);
					sock_close(rf, o);
					break;
				}
			}
			rc = uv_poll_init_socket(rf->loop, &k->poll, s);
		}
		if (rc != 0) {
			free(k);
			fail_easy(rf, easy, "uv_poll_init_socket", rc);
			return 0;
		}
		k->rf = rf;
		k->fd = s;
		k->poll.data = k;
		k->next = rf->socks;
		if (rf->socks)
			rf->socks->prev = k;
		rf->socks = k;
		rf->open++;
		if (curl_multi_assign(rf->multi, s, k) != CURLM_OK) {
			sock_close(rf, k);
			fail_easy(rf, easy, "curl_multi_assign", UV_EINVAL);
			return 0;
		}
	}
	if (what & CURL_POLL_IN)
		ev |= UV_READABLE;
	if (what & CURL_POLL_OUT)
		ev |= UV_WRITABLE;
	rc = uv_poll_start(&k->poll, ev, on_poll);
	if (rc != 0)
		fail_easy(rf, easy, "uv_poll_start", rc);
	return 0;
}

/* ---- driving ----------------------------------------------------------------- */

static void check_done(struct vgl_redfish *rf)
{
	CURLMsg *msg;
	int left;

	while (rf->multi && (msg = curl_multi_info_read(rf->multi, &left))) {
		CURL *easy = msg->easy_handle;
		CURLcode rc = msg->data.result;
		struct rf_bmc *b = NULL;
		long connects = 0;

		if (msg->msg != CURLMSG_DONE)
			continue;
		/* msg is gone once the handle is removed: copied first */
		if (curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&b) != CURLE_OK || !b) {
			curl_multi_remove_handle(rf->multi, easy);
			continue;
		}
		if (curl_multi_remove_handle(rf->multi, easy) != CURLM_OK)
			vgl_err("redfish: curl_multi_remove_handle failed for host %s", b->host);
		b->in_multi = 0;
		/* a transfer that connected may have retried (see vgl__rf_send) */
		if (rc != CURLE_OK ||
		    curl_easy_getinfo(easy, CURLINFO_NUM_CONNECTS, &connects) != CURLE_OK ||
		    connects > 0)
			b->need_reset = 1;
		vgl__rf_done(b, rc);
	}
	/* transfers whose socket the loop refused */
	if (!rf->multi)
		rf->failq = NULL;
	while (rf->failq) {
		struct rf_bmc *b = rf->failq;

		rf->failq = b->next_fail;
		b->in_failq = 0;
		if (!b->in_multi)
			continue;
		curl_multi_remove_handle(rf->multi, b->easy);
		b->in_multi = 0;
		vgl__rf_done(b, CURLE_ABORTED_BY_CALLBACK);
	}
}

static void action(struct vgl_redfish *rf, curl_socket_t fd, int flags)
{
	int running = 0;
	CURLMcode mc;

	if (!rf->multi)
		return;
	mc = curl_multi_socket_action(rf->multi, fd, flags, &running);
	if (mc != CURLM_OK)
		vgl_err("redfish: curl_multi_socket_action: %s", curl_multi_strerror(mc));
	check_done(rf);
	vgl__rf_settle(rf);
}

static void on_poll(uv_poll_t *h, int status, int events)
{
	struct rf_sock *k = h->data;
	int flags = 0;

	if (status < 0) {
		flags = CURL_CSELECT_ERR;
	} else {
		if (events & (UV_READABLE | UV_DISCONNECT))
			flags |= CURL_CSELECT_IN;
		if (events & UV_WRITABLE)
			flags |= CURL_CSELECT_OUT;
	}
	action(k->rf, k->fd, flags);
}

static void on_timer(uv_timer_t *t)
{
	action(t->data, CURL_SOCKET_TIMEOUT, 0);
}

static int timer_cb(CURLM *multi, long ms, void *userp)
{
	struct vgl_redfish *rf = userp;
	int rc;

	(void)multi;
	if (!rf->timer_open)
		return 0;
	if (ms < 0) {
		uv_timer_stop(&rf->timer);
		return 0;
	}
	/* never curl_multi_socket_action from in here: the timer runs it */
	rc = uv_timer_start(&rf->timer, on_timer, (uint64_t)ms, 0);
	if (rc != 0) {
		vgl_err("redfish: uv_timer_start: %s", uv_strerror(rc));
		return -1;
	}
	return 0;
}

int vgl__rf_http_open(struct vgl_redfish *rf)
{
	CURLMcode mc;
	int rc;

	pthread_once(&global_once, global_init);
	if (global_rc != CURLE_OK) {
		vgl_err("redfish: curl_global_init: %s", curl_easy_strerror(global_rc));
		return -EIO;
	}
	if (!(rf->multi = curl_multi_init())) {
		vgl_err("redfish: curl_multi_init failed");
		return -ENOMEM;
	}
	if ((mc = curl_multi_setopt(rf->multi, CURLMOPT_SOCKETFUNCTION, sock_cb)) != CURLM_OK ||
	    (mc = curl_multi_setopt(rf->multi, CURLMOPT_SOCKETDATA, rf)) != CURLM_OK ||
	    (mc = curl_multi_setopt(rf->multi, CURLMOPT_TIMERFUNCTION, timer_cb)) != CURLM_OK ||
	    (mc = curl_multi_setopt(rf->multi, CURLMOPT_TIMERDATA, rf)) != CURLM_OK ||
	    /* each BMC is its own host and asks one thing at a time: a second
	     * connection only while a dead one is being replaced */
	    (mc = curl_multi_setopt(rf->multi, CURLMOPT_MAX_HOST_CONNECTIONS, 2L)) != CURLM_OK ||
	    (mc = curl_multi_setopt(rf->multi, CURLMOPT_MAXCONNECTS, 16L)) != CURLM_OK) {
		vgl_err("redfish: curl_multi_setopt: %s", curl_multi_strerror(mc));
		curl_multi_cleanup(rf->multi);
		rf->multi = NULL;
		return -EINVAL;
	}
	rc = uv_timer_init(rf->loop, &rf->timer);
	if (rc != 0) {
		curl_multi_cleanup(rf->multi);
		rf->multi = NULL;
		return rc;
	}
	rf->timer.data = rf;
	rf->timer_open = 1;
	rf->open++;
	return 0;
}

/* ---- one BMC's handle ----------------------------------------------------------- */

static size_t write_cb(char *p, size_t size, size_t nmemb, void *ud)
{
	struct rf_bmc *b = ud;
	size_t n = size * nmemb;

	if (b->body_len + n + 1 > RF_MAX_BODY) {
		b->too_big = 1;
		return 0;       /* CURLE_WRITE_ERROR: the transfer stops */
	}
	if (b->body_len + n + 1 > b->body_cap) {
		size_t cap = b->body_cap ? b->body_cap : 16384;
		char *nb;
		while (cap < b->body_len + n + 1)
			cap *= 2;
		if (cap > RF_MAX_BODY)
			cap = RF_MAX_BODY;
		if (!(nb = realloc(b->body, cap)))
			return 0;
		b->body = nb;
		b->body_cap = cap;
	}
	memcpy(b->body + b->body_len, p, n);
	b->body_len += n;
	b->body[b->body_len] = 0;
	return n;
}

static void header_value(const char *p, size_t n, char *out, size_t cap)
{
	while (n && (*p == ' ' || *p == '\t')) {
		p++;
		n--;
	}
	while (n && (p[n - 1] == '\r' || p[n - 1] == '\n' || p[n - 1] == ' ' || p[n - 1] == '\t'))
		n--;
	if (n >= cap) {
		out[0] = 0;     /* cut would be wrong: none */
		return;
	}
	memcpy(out, p, n);
	out[n] = 0;
}

static size_t header_cb(char *p, size_t size, size_t nmemb, void *ud)
{
	struct rf_bmc *b = ud;
	size_t n = size * nmemb;

	if (!b->want_hdrs)
		return n;
	if (n >= 5 && strncmp(p, "HTTP/", 5) == 0) {
		/* a new response (after a 100 Continue): its headers only */
		b->hdr_token[0] = b->hdr_location[0] = 0;
	} else if (n > 13 && strncasecmp(p, "X-Auth-Token:", 13) == 0) {
		header_value(p + 13, n - 13, b->hdr_token, sizeof(b->hdr_token));
	} else if (n > 9 && strncasecmp(p, "Location:", 9) == 0) {
		header_value(p + 9, n - 9, b->hdr_location, sizeof(b->hdr_location));
	}
	return n;
}

/* The options that stay between requests: 0, or -1 with the one refused
 * named in b->local_err. Again after curl_easy_reset (vgl__rf_send). */
#define SETOPT(opt, val)                                                           \
	do {                                                                       \
		CURLcode rc_ = curl_easy_setopt(b->easy, opt, val);                \
		if (rc_ != CURLE_OK) {                                             \
			snprintf(b->local_err, sizeof(b->local_err),               \
				 "curl_easy_setopt(%s): %s", #opt,                 \
				 curl_easy_strerror(rc_));                         \
			return -1;                                                 \
		}                                                                  \
	} while (0)

static int easy_setup(struct rf_bmc *b)
{
	const struct vgl_bmc_source *s = b->spec;
	long maxage = (long)(b->interval_ms / 1000) + 60;

	SETOPT(CURLOPT_PRIVATE, (void *)b);
	SETOPT(CURLOPT_NOSIGNAL, 1L);
	SETOPT(CURLOPT_PROTOCOLS_STR, "https");
	SETOPT(CURLOPT_REDIR_PROTOCOLS_STR, "https");
	SETOPT(CURLOPT_FOLLOWLOCATION, 0L);
	SETOPT(CURLOPT_ERRORBUFFER, b->errbuf);
	SETOPT(CURLOPT_WRITEFUNCTION, write_cb);
	SETOPT(CURLOPT_WRITEDATA, (void *)b);
	SETOPT(CURLOPT_HEADERFUNCTION, header_cb);
	SETOPT(CURLOPT_HEADERDATA, (void *)b);
	SETOPT(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)RF_MAX_BODY);
	SETOPT(CURLOPT_USERAGENT, "vigil-redfish/1");
	SETOPT(CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
	SETOPT(CURLOPT_ACCEPT_ENCODING, "");
	SETOPT(CURLOPT_TCP_KEEPALIVE, 1L);
	/* the connection outlives the gap between two polls */
	SETOPT(CURLOPT_MAXAGE_CONN, maxage > 3600 ? 3600L : maxage);
	SETOPT(CURLOPT_DNS_CACHE_TIMEOUT, 600L);
	SETOPT(CURLOPT_SSL_VERIFYPEER, s->tls_verify ? 1L : 0L);
	SETOPT(CURLOPT_SSL_VERIFYHOST, s->tls_verify ? 2L : 0L);
	if (s->ca_file)
		SETOPT(CURLOPT_CAINFO, s->ca_file);
	if (s->auth == VGL_BMC_AUTH_BASIC) {
		SETOPT(CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
		SETOPT(CURLOPT_USERNAME, s->username ? s->username : "");
		SETOPT(CURLOPT_PASSWORD, s->password ? s->password : "");
	}
	return 0;
}

int vgl__rf_easy_new(struct rf_bmc *b)
{
	if (!(b->easy = curl_easy_init())) {
		vgl_err("host %s source %s: curl_easy_init failed", b->host, b->src);
		return -ENOMEM;
	}
	if (easy_setup(b) != 0) {
		vgl_err("host %s source %s: %s", b->host, b->src, b->local_err);
		return -EINVAL;
	}
	return 0;
}


static struct curl_slist *add_hdr(struct curl_slist *l, const char *h, int *bad)
{
	struct curl_slist *n;

	if (*bad)
		return l;
	if (!(n = curl_slist_append(l, h))) {
		*bad = 1;
		return l;
	}
	return n;
}

int vgl__rf_send(struct rf_bmc *b, enum rf_method m, const char *path, const char *body,
		 long timeout_ms)
{
	char url[sizeof(b->base) + sizeof(b->req_path)];
	struct curl_slist *h = NULL;
	int bad = 0;
	CURLMcode mc;

	b->local_err[0] = 0;
	if (b->in_multi) {
		snprintf(b->local_err, sizeof(b->local_err), "a request is already out");
		return -1;
	}
	if (b->need_reset) {
		/* libcurl before 8.17 never zeroes a handle's count of retries on
		 * dead reused connections between requests: after five over its
		 * life a request fails with "Connection died, tried 5 times".
		 * curl_easy_reset zeroes it and keeps the connections and the
		 * TLS session cache; the options go back on. */
		curl_easy_reset(b->easy);
		b->need_reset = 0;
		if (easy_setup(b) != 0)
			return -1;
	}
	b->method = m;
	snprintf(b->req_path, sizeof(b->req_path), "%s", path);
	snprintf(url, sizeof(url), "%s%s", b->base, path);
	b->body_len = 0;
	if (b->body)
		b->body[0] = 0;
	b->too_big = 0;
	b->errbuf[0] = 0;
	b->hdr_token[0] = b->hdr_location[0] = 0;
	b->want_hdrs = m == RF_POST;
	curl_slist_free_all(b->hdrs);
	b->hdrs = NULL;
	h = add_hdr(h, "Accept: application/json", &bad);
	h = add_hdr(h, "OData-Version: 4.0", &bad);
	if (m == RF_POST) {
		h = add_hdr(h, "Content-Type: application/json", &bad);
		h = add_hdr(h, "Expect:", &bad);
	} else if (b->token) {
		char th[sizeof("X-Auth-Token: ") + 256];
		snprintf(th, sizeof(th), "X-Auth-Token: %s", b->token);
		h = add_hdr(h, th, &bad);
		explicit_bzero(th, sizeof(th));
	}
	b->hdrs = h;
	if (bad) {
		snprintf(b->local_err, sizeof(b->local_err), "out of memory (headers)");
		return -1;
	}
	if (timeout_ms < 1)
		timeout_ms = 1;
	SETOPT(CURLOPT_URL, url);
	SETOPT(CURLOPT_HTTPHEADER, b->hdrs);
	SETOPT(CURLOPT_TIMEOUT_MS, timeout_ms);
	SETOPT(CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
	if (m == RF_POST) {
		SETOPT(CURLOPT_CUSTOMREQUEST, (char *)NULL);
		SETOPT(CURLOPT_POSTFIELDSIZE, (long)strlen(body ? body : ""));
		SETOPT(CURLOPT_POSTFIELDS, body ? body : "");
	} else {
		SETOPT(CURLOPT_HTTPGET, 1L);
		SETOPT(CURLOPT_CUSTOMREQUEST, m == RF_DELETE ? "DELETE" : (char *)NULL);
	}
	mc = curl_multi_add_handle(b->rf->multi, b->easy);
	if (mc != CURLM_OK) {
		snprintf(b->local_err, sizeof(b->local_err), "curl_multi_add_handle: %s",
			 curl_multi_strerror(mc));
		return -1;
	}
	b->in_multi = 1;
	b->rf->requests++;
	return 0;
}

void vgl__rf_cancel(struct rf_bmc *b)
{
	if (!b->in_multi)
		return;
	if (curl_multi_remove_handle(b->rf->multi, b->easy) != CURLM_OK)
		vgl_err("host %s source %s: curl_multi_remove_handle failed", b->host, b->src);
	b->in_multi = 0;
}

long vgl__rf_status(struct rf_bmc *b)
{
	long code = 0;

	if (curl_easy_getinfo(b->easy, CURLINFO_RESPONSE_CODE, &code) != CURLE_OK)
		return 0;
	return code;
}

enum vgl_quality vgl__rf_curl_quality(struct rf_bmc *b, CURLcode rc, char *out, size_t n)
{
	const char *why = b->errbuf[0] ? b->errbuf : curl_easy_strerror(rc);
	long oserr = 0;

	if (rc == CURLE_ABORTED_BY_CALLBACK && b->local_err[0]) {
		snprintf(out, n, "%s", b->local_err);
		return VGL_Q_ERROR;
	}
	if (b->too_big || rc == CURLE_FILESIZE_EXCEEDED) {
		snprintf(out, n, "answer larger than %u MiB", RF_MAX_BODY >> 20);
		return VGL_Q_ERROR;
	}
	snprintf(out, n, "%s", why);
	switch (rc) {
	case CURLE_OPERATION_TIMEDOUT:
		return VGL_Q_TIMEOUT;
	case CURLE_COULDNT_CONNECT:
		if (curl_easy_getinfo(b->easy, CURLINFO_OS_ERRNO, &oserr) != CURLE_OK)
			oserr = 0;
		if (oserr == ETIMEDOUT)
			return VGL_Q_TIMEOUT;
		if (oserr == ECONNREFUSED || oserr == EHOSTUNREACH || oserr == ENETUNREACH ||
		    oserr == 0)
			return VGL_Q_REFUSED;
		return VGL_Q_ERROR;
	default:
		return VGL_Q_ERROR;
	}
}

/* ---- close ---------------------------------------------------------------------- */

static void timer_close_cb(uv_handle_t *h)
{
	vgl__rf_handle_closed(h->data);
}

void vgl__rf_http_close(struct vgl_redfish *rf)
{
	for (size_t i = 0; i < rf->n_bmcs; i++) {
		struct rf_bmc *b = rf->bmcs[i];

		vgl__rf_cancel(b);
		if (b->easy)
			curl_easy_cleanup(b->easy);
		b->easy = NULL;
		curl_slist_free_all(b->hdrs);
		b->hdrs = NULL;
	}
	/* closes the cached connections: curl says REMOVE for their sockets */
	if (rf->multi)
		curl_multi_cleanup(rf->multi);
	rf->multi = NULL;
	while (rf->socks)
		sock_close(rf, rf->socks);
	if (rf->timer_open) {
		rf->timer_open = 0;
		uv_close((uv_handle_t *)&rf->timer, timer_close_cb);
	}
}
