/* Reachability collector, TCP: connect probes and their cap.
 *
 * A poll is one uv_tcp_t connect, alive only while it runs; it is
 * closed with uv_tcp_close_reset (SO_LINGER 0: an RST, no TIME_WAIT) right
 * after it connects. A FIN close would leave one TIME_WAIT socket per poll
 * for 60 s on our side (100,000 targets at 30 s: 200,000 of them, near
 * tcp_max_tw_buckets); the price of the RST is a "connection reset" in the
 * peer's log where a FIN would have given an EOF. Open connects are capped
 * (max_tcp_in_flight, descriptors); more wait in due order.
 */
#include "collectors/reach_int.h"

#include <stdio.h>
#include <stdlib.h>

/* ---- TCP ---------------------------------------------------------------- */

void vgl__reach_probe_close_cb(uv_handle_t *h)
{
	struct probe *pr = h->data;
	struct vgl_reach *r = pr->r;

	free(pr);
	r->st.tcp_open--;
	/* a connect slot is free: settle starts the next waiting poll */
	vgl__reach_settle(r);
	vgl__reach_handle_closed(r);
}

static enum vgl_quality tcp_quality(int status)
{
	switch (status) {
	case UV_ECONNREFUSED: case UV_EHOSTUNREACH: case UV_ENETUNREACH: case UV_ECONNRESET:
	case UV_EHOSTDOWN:
		return VGL_Q_REFUSED;
	case UV_ETIMEDOUT:
		return VGL_Q_TIMEOUT;
	default:
		return VGL_Q_ERROR;
	}
}

static void tcp_fail(struct vgl_reach *r, struct poll *p, int status)
{
	p->q = tcp_quality(status);
	if (status == UV_ECONNREFUSED)
		snprintf(p->why, sizeof(p->why), "connection refused");
	else
		snprintf(p->why, sizeof(p->why), "connect: %s", uv_strerror(status));
	vgl__reach_poll_finish(r, p);
}

static void on_connect(uv_connect_t *c, int status)
{
	struct probe *pr = c->data;
	struct vgl_reach *r = pr->r;
	struct poll *p = pr->p;

	/* Timed out or cancelled: the handle is closing, nothing to say. */
	if (!p || r->closing || status == UV_ECANCELED)
		return;
	if (status == 0) {
		p->q = VGL_Q_OK;
		p->connect_ms = (double)(uv_hrtime() - pr->t0_ns) / 1e6;
		vgl__reach_poll_finish(r, p);
		/* An RST, not a FIN: no TIME_WAIT left behind (see the top). */
		if (uv_tcp_close_reset(&pr->h, vgl__reach_probe_close_cb) != 0)
			uv_close((uv_handle_t *)&pr->h, vgl__reach_probe_close_cb);
	} else {
		tcp_fail(r, p, status);
		uv_close((uv_handle_t *)&pr->h, vgl__reach_probe_close_cb);
	}
	vgl__reach_settle(r);
}

static void tcp_start(struct vgl_reach *r, struct poll *p)
{
	struct target *t = p->t;
	struct probe *pr = calloc(1, sizeof(*pr));
	int rv;

	if (!pr) {
		snprintf(p->why, sizeof(p->why), "out of memory");
		p->q = VGL_Q_ERROR;
		vgl__reach_poll_finish(r, p);
		return;
	}
	rv = uv_tcp_init(r->loop, &pr->h);
	if (rv < 0) {
		free(pr);
		tcp_fail(r, p, rv);
		return;
	}
	pr->r = r;
	pr->p = p;
	pr->h.data = pr;
	pr->c.data = pr;
	p->probe = pr;
	r->open_handles++;
	r->st.tcp_open++;
	pr->t0_ns = uv_hrtime();
	rv = uv_tcp_connect(&pr->c, &pr->h, &t->addr.sa, on_connect);
	if (rv < 0) {
		tcp_fail(r, p, rv);
		uv_close((uv_handle_t *)&pr->h, vgl__reach_probe_close_cb);
		return;
	}
	p->ev_ms = p->start_loop + t->timeout_ms;
	if (vgl__reach_heap_push(r, p) < 0) {
		tcp_fail(r, p, UV_ENOMEM);
		uv_close((uv_handle_t *)&pr->h, vgl__reach_probe_close_cb);
	}
}

void vgl__reach_tcp_due(struct vgl_reach *r, struct target *t)
{
	struct poll *p;

	if (r->waitq || r->st.tcp_open >= r->max_tcp) {
		t->queued = 1;
		t->next_wait = NULL;
		if (r->waitq_tail)
			r->waitq_tail->next_wait = t;
		else
			r->waitq = t;
		r->waitq_tail = t;
		r->st.tcp_waiting++;
		return;
	}
	p = vgl__reach_poll_new(r, t);
	if (p)
		tcp_start(r, p);
}

void vgl__reach_tcp_kick(struct vgl_reach *r)
{
	while (r->waitq && r->st.tcp_open < r->max_tcp && !r->closing) {
		struct target *t = r->waitq;
		struct poll *p;

		r->waitq = t->next_wait;
		if (!r->waitq)
			r->waitq_tail = NULL;
		t->next_wait = NULL;
		t->queued = 0;
		r->st.tcp_waiting--;
		p = vgl__reach_poll_new(r, t);
		if (p)
			tcp_start(r, p);
	}
}
