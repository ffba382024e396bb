/* Reachability collector on the libuv loop: ICMP echo and TCP connect.
 * This file: the public API (create, targets, stats, close, the collector
 * ops table), polls and their results, the deadline heap. ICMP sockets and
 * echoes: collectors/reach_icmp.c; TCP connects: collectors/reach_tcp.c;
 * what they share: collectors/reach_int.h.
 *
 * Timers. Targets are scheduled by collectors/sched.c, shared with every
 * back end (one timer per interval, first polls spread evenly in host_idx
 * order, fixed grid, missed periods counted as skipped); a poll still
 * running when the next is due makes that one skipped and counted here.
 * Every poll in flight has at most one pending deadline (its next echo, or
 * the end of its wait): they sit in one binary heap with one timer for the
 * collector, instead of a uv_timer per poll.
 *
 * Re-entrancy: a result callback may call vgl_reach_close or add a target.
 * Code that reads sockets or fires deadlines only queues finished polls;
 * drain() delivers them after, from the end of each libuv callback, and
 * stops as soon as the collector is closing.
 */
#include "collectors/reach.h"
#include "collectors/reach_conf.h"
#include "collectors/reach_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "collectors/reqid.h"
#include "collectors/sched.h"
#include "core/log.h"

#define MAX_COUNT 64
#define DEFAULT_TCP_IN_FLIGHT 512

/* ---- small helpers ------------------------------------------------------- */

int64_t vgl__reach_wall_ns(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
		return 0;
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

const char *vgl__reach_addr_text(const union sa *a, char *buf, size_t len)
{
	const void *p = a->sa.sa_family == AF_INET6 ? (const void *)&a->in6.sin6_addr
						     : (const void *)&a->in.sin_addr;

	if (!inet_ntop(a->sa.sa_family, p, buf, (socklen_t)len))
		snprintf(buf, len, "?");
	return buf;
}

static void target_log(const struct target *t, enum vgl_log_level lvl, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void target_log(const struct target *t, enum vgl_log_level lvl, const char *fmt, ...)
{
	char msg[256], a[INET6_ADDRSTRLEN], kind[16];
	va_list ap;

	if (lvl == VGL_LOG_DEBUG && !vgl_log_debug_enabled())
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (t->kind == VGL_REACH_TCP)
		snprintf(kind, sizeof(kind), "tcp/%u", (unsigned)t->port);
	else
		snprintf(kind, sizeof(kind), "icmp");
	vgl__reach_addr_text(&t->addr, a, sizeof(a));
	vgl_log(lvl, "reach %s (%s %s): %s", t->name ? t->name : a, a, kind, msg);
}

const char *vgl_reach_icmp_name(enum vgl_reach_icmp m)
{
	switch (m) {
	case VGL_REACH_ICMP_PING: return "ping";
	case VGL_REACH_ICMP_RAW: return "raw";
	case VGL_REACH_ICMP_NONE: return "none";
	default: return "auto";
	}
}

/* ---- the deadline heap -------------------------------------------------- */

static void heap_set(struct vgl_reach *r, uint32_t i, struct poll *p)
{
	r->heap[i] = p;
	p->heap_i = i + 1;
}

static void heap_up(struct vgl_reach *r, uint32_t i)
{
	struct poll *p = r->heap[i];

	while (i > 0) {
		uint32_t up = (i - 1) / 2;
		if (r->heap[up]->ev_ms <= p->ev_ms)
			break;
		heap_set(r, i, r->heap[up]);
		i = up;
	}
	heap_set(r, i, p);
}

static void heap_down(struct vgl_reach *r, uint32_t i)
{
	struct poll *p = r->heap[i];

	for (;;) {
		uint32_t c = 2 * i + 1;
		if (c >= r->n_heap)
			break;
		if (c + 1 < r->n_heap && r->heap[c + 1]->ev_ms < r->heap[c]->ev_ms)
			c++;
		if (p->ev_ms <= r->heap[c]->ev_ms)
			break;
		heap_set(r, i, r->heap[c]);
		i = c;
	}
	heap_set(r, i, p);
}

int vgl__reach_heap_push(struct vgl_reach *r, struct poll *p)
{
	if (r->n_heap == r->cap_heap) {
		uint32_t cap = r->cap_heap ? r->cap_heap * 2 : 256;
		struct poll **nh = realloc(r->heap, cap * sizeof(*nh));
		if (!nh)
			return -ENOMEM;
		r->heap = nh;
		r->cap_heap = cap;
	}
	heap_set(r, r->n_heap++, p);
	heap_up(r, r->n_heap - 1);
	return 0;
}

static void heap_remove(struct vgl_reach *r, struct poll *p)
{
	struct poll *last;
	uint32_t i;

	if (!p->heap_i)
		return;
	i = p->heap_i - 1;
	p->heap_i = 0;
	if (i == --r->n_heap)
		return;
	last = r->heap[r->n_heap];
	heap_set(r, i, last);
	heap_up(r, i);
	heap_down(r, last->heap_i - 1);
}

/* After p->ev_ms changed. */
static void heap_fix(struct vgl_reach *r, struct poll *p)
{
	heap_up(r, p->heap_i - 1);
	heap_down(r, p->heap_i - 1);
}

static void on_htimer(uv_timer_t *t);

static void heap_arm(struct vgl_reach *r)
{
	uint64_t now, due;

	if (!r->n_heap) {
		if (r->armed_at != UINT64_MAX)
			uv_timer_stop(&r->htimer);
		r->armed_at = UINT64_MAX;
		return;
	}
	due = r->heap[0]->ev_ms;
	if (due == r->armed_at)
		return;
	now = uv_now(r->loop);
	r->armed_at = due;
	uv_timer_start(&r->htimer, on_htimer, due > now ? due - now : 0, 0);
}

/* ---- finishing polls ------------------------------------------------------ */

void vgl__reach_poll_why(struct poll *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

void vgl__reach_poll_why(struct poll *p, const char *fmt, ...)
{
	va_list ap;

	if (p->why[0])
		return;         /* the first cause says most */
	va_start(ap, fmt);
	vsnprintf(p->why, sizeof(p->why), fmt, ap);
	va_end(ap);
}

static void set_value(struct poll *p, uint32_t idx, double v, enum vgl_quality q)
{
	if (idx == VGL_REACH_NO_METRIC)
		return;
	p->values[idx].v = v;
	p->values[idx].q = q;
}

/* Takes p out of every index and queues its result for drain(). */
void vgl__reach_poll_finish(struct vgl_reach *r, struct poll *p)
{
	struct target *t = p->t;
	enum vgl_quality q;

	if (p->finished)
		return;
	p->finished = 1;
	heap_remove(r, p);
	if (t->kind == VGL_REACH_ICMP) {
		for (uint16_t i = 0; i < t->count; i++) {
			struct echo *e = &p->echo[i];
			if (e->state == E_QUEUED)
				vgl__reach_sq_unlink(t->sock, e);
			if (e->state == E_QUEUED || e->state == E_FLIGHT) {
				vgl__reach_tab_remove(r, e);
				e->state = E_LOST;
			}
		}
		if (p->answered)
			q = VGL_Q_OK;
		else if (p->refused)
			q = VGL_Q_REFUSED;
		else if (p->errors)
			q = VGL_Q_ERROR;
		else
			q = VGL_Q_TIMEOUT;
		set_value(p, t->idx_a, 100.0 * (t->count - p->answered) / t->count, VGL_Q_OK);
		set_value(p, t->idx_b, p->answered ? p->rtt_sum_ms / p->answered : 0, q);
		if (q == VGL_Q_OK)
			snprintf(p->detail, sizeof(p->detail), "%u/%u echoes answered, rtt %.3f ms",
				 p->answered, t->count, p->rtt_sum_ms / p->answered);
		else if (q == VGL_Q_TIMEOUT)
			snprintf(p->detail, sizeof(p->detail), "0/%u echoes answered within %u ms",
				 t->count, t->timeout_ms);
		else
			snprintf(p->detail, sizeof(p->detail), "0/%u echoes answered: %s", t->count,
				 p->why);
	} else {
		q = p->q;
		set_value(p, t->idx_a, q == VGL_Q_OK, VGL_Q_OK);
		set_value(p, t->idx_b, q == VGL_Q_OK ? p->connect_ms : 0, q);
		if (q == VGL_Q_OK)
			snprintf(p->detail, sizeof(p->detail), "connected in %.3f ms", p->connect_ms);
		else if (q == VGL_Q_TIMEOUT)
			snprintf(p->detail, sizeof(p->detail), "no answer within %u ms", t->timeout_ms);
		else
			snprintf(p->detail, sizeof(p->detail), "%s", p->why);
		if (p->probe) {
			p->probe->p = NULL;
			p->probe = NULL;
		}
	}
	p->q = q;
	t->poll = NULL;
	p->next_done = NULL;
	if (r->doneq_tail)
		r->doneq_tail->next_done = p;
	else
		r->doneq = p;
	r->doneq_tail = p;
}

static void deliver(struct vgl_reach *r, struct poll *p)
{
	struct target *t = p->t;
	struct vgl_poll_result res = {
		.host = t->host_idx, .source = t->source, .ts_ms = p->start_ms, .quality = p->q,
		.n_values = t->n_values, .values = p->values, .metrics = t->metrics,
		.detail = p->detail,
		.interval_ms = t->interval_ms,
	};

	for (uint32_t i = 0; i < t->n_values; i++)
		r->st.values += p->values[i].q == VGL_Q_OK;
	r->st.polls++;
	r->st.timeouts += p->q == VGL_Q_TIMEOUT;
	r->st.refused += p->q == VGL_Q_REFUSED;
	r->st.in_flight--;
	/* collectd's c_complain, as the SNMP collector: once when a target
	 * starts failing, once when it recovers, debug in between. */
	if (p->q != VGL_Q_OK) {
		target_log(t, t->failing ? VGL_LOG_DEBUG : VGL_LOG_WARNING, "poll failed (%s): %s",
			   vgl_quality_name(p->q), p->detail);
		t->failing = 1;
	} else if (t->failing) {
		target_log(t, VGL_LOG_NOTICE, "answers again");
		t->failing = 0;
	}
	r->fn(r->ctx, &res);
}

static void drain(struct vgl_reach *r)
{
	if (r->draining)
		return;
	r->draining = 1;
	while (!r->closing && r->doneq) {
		struct poll *p = r->doneq;
		r->doneq = p->next_done;
		if (!r->doneq)
			r->doneq_tail = NULL;
		deliver(r, p);
		free(p);
	}
	r->draining = 0;
}

/* ---- polls ---------------------------------------------------------------- */

struct poll *vgl__reach_poll_new(struct vgl_reach *r, struct target *t)
{
	size_t ne = t->kind == VGL_REACH_ICMP ? t->count : 0;
	/* Per poll, not per target: a target costs ~150 bytes between polls. */
	struct poll *p = calloc(1, sizeof(*p) + t->n_values * sizeof(p->values[0]) +
				       ne * sizeof(struct echo));

	if (!p) {
		target_log(t, VGL_LOG_ERR, "out of memory starting a poll");
		return NULL;
	}
	p->t = t;
	p->echo = (struct echo *)(void *)(p->values + t->n_values);
	for (uint32_t i = 0; i < t->n_values; i++)
		p->values[i].q = VGL_Q_ABSENT;
	p->start_ms = vgl__reach_wall_ns() / 1000000;
	p->start_loop = uv_now(r->loop);
	t->poll = p;
	r->st.in_flight++;
	return p;
}

static void target_due(struct vgl_reach *r, struct target *t)
{
	if (t->poll || t->queued) {
		r->st.skipped++;
		target_log(t, VGL_LOG_DEBUG, "previous poll still running; skipped");
	} else if (t->kind == VGL_REACH_ICMP) {
		vgl__reach_icmp_start(r, t);
	} else {
		vgl__reach_tcp_due(r, t);
	}
}

static void on_htimer(uv_timer_t *tm)
{
	struct vgl_reach *r = tm->data;
	uint64_t now = uv_now(r->loop);

	r->armed_at = UINT64_MAX;
	while (!r->closing && r->n_heap && r->heap[0]->ev_ms <= now) {
		struct poll *p = r->heap[0];
		struct target *t = p->t;

		if (t->kind == VGL_REACH_TCP) {
			struct probe *pr = p->probe;
			p->q = VGL_Q_TIMEOUT;
			vgl__reach_poll_finish(r, p);
			uv_close((uv_handle_t *)&pr->h, vgl__reach_probe_close_cb);
		} else if (p->queued < t->count) {
			vgl__reach_echo_queue(r, p, p->queued++);
			if (p->finished)
				continue;
			p->ev_ms = p->queued < t->count
					   ? p->start_loop + (uint64_t)p->queued * t->gap_ms
					   : p->start_loop + (uint64_t)(t->count - 1) * t->gap_ms +
						     t->timeout_ms;
			heap_fix(r, p);
		} else {
			vgl__reach_poll_finish(r, p);      /* the rest are lost */
		}
	}
	vgl__reach_settle(r);
}

/* The end of every libuv callback: waiting connects start, queued echoes
 * go out, finished polls are delivered, the deadline timer follows the
 * heap. */
void vgl__reach_settle(struct vgl_reach *r)
{
	if (r->closing)
		return;
	vgl__reach_tcp_kick(r);
	if (r->s4 && r->s4->sq)
		vgl__reach_sock_flush(r->s4);
	if (r->s6 && r->s6->sq)
		vgl__reach_sock_flush(r->s6);
	drain(r);
	if (!r->closing)
		heap_arm(r);
}

/* ---- scheduling (collectors/sched.h) ------------------------------------ */

static void on_target_due(void *ctx, struct vgl_sched_entry *e)
{
	target_due(ctx, (struct target *)((char *)e - offsetof(struct target, sched)));
}

/* After a tick's due targets: their echoes leave, connects start. */
static void on_sched_tick(void *ctx)
{
	vgl__reach_settle(ctx);
}

static void sched_closed(void *ctx)
{
	vgl__reach_handle_closed(ctx);
}

/* ---- targets -------------------------------------------------------------- */

static int bad_target(const struct vgl_reach_target *t, const char *what)
{
	vgl_err("reach %s (%s): %s", t->name ? t->name : t->address ? t->address : "?",
		t->address ? t->address : "no address", what);
	return -EINVAL;
}

static int check_idx(uint32_t a, uint32_t b, uint32_t n)
{
	if ((a != VGL_REACH_NO_METRIC && a >= n) || (b != VGL_REACH_NO_METRIC && b >= n))
		return 0;
	return a == VGL_REACH_NO_METRIC || a != b;
}

int vgl_reach_add_target(struct vgl_reach *r, uint32_t host_idx, const struct vgl_reach_target *tt)
{
	struct target *t;
	int rv;

	if (!r || !tt || r->closing)
		return -EINVAL;
	if (!tt->address)
		return bad_target(tt, "no address");
	if (tt->kind != VGL_REACH_ICMP && tt->kind != VGL_REACH_TCP)
		return bad_target(tt, "kind is neither icmp nor tcp");
	if (tt->interval_ms == 0 || tt->timeout_ms == 0)
		return bad_target(tt, "interval_ms and timeout_ms must be > 0");
	if (tt->kind == VGL_REACH_TCP && tt->port == 0)
		return bad_target(tt, "tcp needs a port 1-65535");
	if (tt->kind == VGL_REACH_ICMP && tt->count > MAX_COUNT)
		return bad_target(tt, "count must be 1-64");
	if (tt->kind == VGL_REACH_ICMP ? !check_idx(tt->loss_pct_idx, tt->rtt_ms_idx, tt->n_values)
				       : !check_idx(tt->up_idx, tt->connect_ms_idx, tt->n_values))
		return bad_target(tt, "metric indexes must be distinct and below n_values "
				      "(or VGL_REACH_NO_METRIC)");
	if (r->n_targets == r->cap_targets) {
		size_t cap = r->cap_targets ? r->cap_targets * 2 : 64;
		struct target **nt = realloc(r->targets, cap * sizeof(*nt));
		if (!nt)
			return -ENOMEM;
		r->targets = nt;
		r->cap_targets = cap;
	}
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->r = r;
	t->name = tt->name;
	t->host_idx = host_idx;
	t->source = tt->source;
	t->metrics = tt->metrics;
	t->kind = (uint8_t)tt->kind;
	/* a raw IPv6 socket reads a port as a protocol number */
	t->port = tt->kind == VGL_REACH_TCP ? tt->port : 0;
	t->count = tt->kind == VGL_REACH_ICMP ? (tt->count ? tt->count : 1) : 0;
	t->gap_ms = tt->gap_ms;
	t->interval_ms = tt->interval_ms;
	t->timeout_ms = tt->timeout_ms;
	t->n_values = tt->n_values;
	t->idx_a = tt->kind == VGL_REACH_ICMP ? tt->loss_pct_idx : tt->up_idx;
	t->idx_b = tt->kind == VGL_REACH_ICMP ? tt->rtt_ms_idx : tt->connect_ms_idx;
	if (inet_pton(AF_INET, tt->address, &t->addr.in.sin_addr) == 1) {
		t->addr.in.sin_family = AF_INET;
		t->addr.in.sin_port = htons(t->port);
		t->alen = sizeof(t->addr.in);
	} else if (inet_pton(AF_INET6, tt->address, &t->addr.in6.sin6_addr) == 1) {
		t->addr.in6.sin6_family = AF_INET6;
		t->addr.in6.sin6_port = htons(t->port);
		t->alen = sizeof(t->addr.in6);
	} else {
		free(t);
		return bad_target(tt, "address is not an IPv4 or IPv6 literal");
	}
	if (t->kind == VGL_REACH_ICMP) {
		if (t->addr.sa.sa_family == AF_INET6 && !r->s6 && r->want != VGL_REACH_ICMP_NONE) {
			char why[600];

			/* IPv6 opens on first use, with the choice IPv4 had */
			rv = vgl__reach_icmp_open(r, AF_INET6, r->want, &r->s6, why, sizeof(why));
			if (rv < 0) {
				vgl_err("%s", why);
				free(t);
				return rv;
			}
			r->st.icmp6 = r->s6->mode;
		}
		t->sock = t->addr.sa.sa_family == AF_INET ? r->s4 : r->s6;
		if (!t->sock) {
			free(t);
			bad_target(tt, "ICMP is off in this collector (VGL_REACH_ICMP_NONE)");
			return -EPROTONOSUPPORT;
		}
	}
	/* The first poll's offset is given at the interval's next tick, once
	 * every target added in this go is known. */
	rv = vgl_sched_add(r->sched, &t->sched, t->interval_ms, host_idx);
	if (rv < 0) {
		target_log(t, VGL_LOG_ERR, "cannot be scheduled: %s", uv_strerror(rv));
		free(t);
		return rv;
	}
	r->targets[r->n_targets++] = t;
	r->st.targets++;
	return 0;
}

/* ---- create / stats / close ------------------------------------------- */

static void free_on_close(uv_handle_t *h)
{
	struct vgl_reach *r = h->data;

	free(r->rx);
	free(r->tx);
	free(r);
}

static void anchor_close_cb(uv_handle_t *h)
{
	vgl__reach_handle_closed(h->data);
}

int vgl_reach_create_opts(uv_loop_t *loop, const struct vgl_reach_opts *o, vgl_poll_fn *fn,
			  void *ctx, struct vgl_reach **out)
{
	struct vgl_reach_opts def = { 0 };
	struct vgl_reach *r;
	int rv;

	if (!o)
		o = &def;
	if (o->err && o->err_len)
		o->err[0] = 0;
	if (!loop || !fn || !out || o->icmp > VGL_REACH_ICMP_NONE)
		return -EINVAL;
	rv = vgl_reqid_init();
	if (rv < 0) {
		vgl_err("reach: cannot seed sequence numbers from getrandom: %s", strerror(-rv));
		return rv;
	}
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->rx = malloc(sizeof(*r->rx));
	r->tx = malloc(sizeof(*r->tx));
	if (!r->rx || !r->tx) {
		free(r->rx);
		free(r->tx);
		free(r);
		return -ENOMEM;
	}
	r->loop = loop;
	r->fn = fn;
	r->ctx = ctx;
	r->want = o->icmp;
	r->max_tcp = o->max_tcp_in_flight ? o->max_tcp_in_flight : DEFAULT_TCP_IN_FLIGHT;
	r->armed_at = UINT64_MAX;
	r->salt = (uint64_t)vgl_reqid_next() << 32 | vgl_reqid_next();
	r->st.icmp4 = r->st.icmp6 = VGL_REACH_ICMP_NONE;
	rv = vgl_sched_new(loop, on_target_due, on_sched_tick, r, &r->sched);
	if (rv < 0) {
		free(r->rx);
		free(r->tx);
		free(r);
		return rv;
	}
	rv = uv_timer_init(loop, &r->htimer);
	if (rv < 0) {
		vgl_sched_close(r->sched, NULL, NULL);  /* no group yet: freed at once */
		free(r->rx);
		free(r->tx);
		free(r);
		return rv;
	}
	r->htimer.data = r;
	rv = uv_timer_init(loop, &r->rtimer);
	if (rv < 0) {
		/* the loop knows htimer now: r goes when it is closed */
		vgl_sched_close(r->sched, NULL, NULL);
		uv_close((uv_handle_t *)&r->htimer, free_on_close);
		return rv;
	}
	r->rtimer.data = r;
	r->open_handles = 3;            /* the two timers; the scheduler counts as one */
	if (o->icmp != VGL_REACH_ICMP_NONE) {
		char why[600];

		rv = vgl__reach_icmp_open(r, AF_INET, o->icmp, &r->s4, why, sizeof(why));
		if (rv < 0) {
			vgl_err("%s", why);
			if (o->err && o->err_len)
				snprintf(o->err, o->err_len, "%s", why);
			/* the loop frees r as the two timers close (the
			 * scheduler, with no group yet, closes at once) */
			r->closing = 1;
			vgl_sched_close(r->sched, sched_closed, r);
			r->sched = NULL;
			uv_close((uv_handle_t *)&r->rtimer, anchor_close_cb);
			uv_close((uv_handle_t *)&r->htimer, anchor_close_cb);
			return rv;
		}
		r->st.icmp4 = r->s4->mode;
		vgl_debug("reach: ICMP through a %s socket", vgl_reach_icmp_name(r->s4->mode));
	}
	*out = r;
	return 0;
}

int vgl_reach_create(uv_loop_t *loop, vgl_poll_fn *fn, void *ctx, struct vgl_reach **out)
{
	return vgl_reach_create_opts(loop, NULL, fn, ctx, out);
}

void vgl_reach_get_stats(const struct vgl_reach *r, struct vgl_reach_stats *out)
{
	*out = r->st;
	/* periods a stalled loop missed entirely are skipped polls too */
	if (r->sched)
		out->skipped += vgl_sched_missed(r->sched);
}

static void finish_close(struct vgl_reach *r)
{
	void (*done)(void *) = r->done;
	void *ctx = r->done_ctx;

	for (size_t i = 0; i < r->n_targets; i++)
		free(r->targets[i]);
	free(r->targets);
	free(r->heap);
	free(r->tab);
	free(r->rx);
	free(r->tx);
	free(r);
	if (done)
		done(ctx);
}

void vgl__reach_handle_closed(struct vgl_reach *r)
{
	if (--r->open_handles == 0)
		finish_close(r);
}

void vgl_reach_close(struct vgl_reach *r, void (*done)(void *ctx), void *ctx)
{
	if (!r || r->closing)
		return;
	r->closing = 1;
	r->done = done;
	r->done_ctx = ctx;

	/* Polls in flight and finished ones not yet delivered: freed, never
	 * reported. A connect's handle closes below and takes its probe. */
	for (size_t i = 0; i < r->n_targets; i++) {
		struct target *t = r->targets[i];
		struct poll *p = t->poll;

		t->poll = NULL;
		t->queued = 0;
		if (!p)
			continue;
		if (p->probe) {
			p->probe->p = NULL;
			uv_close((uv_handle_t *)&p->probe->h, vgl__reach_probe_close_cb);
		}
		free(p);
	}
	while (r->doneq) {
		struct poll *p = r->doneq;
		r->doneq = p->next_done;
		free(p);
	}
	r->doneq_tail = NULL;
	r->waitq = r->waitq_tail = NULL;
	r->n_heap = 0;
	r->tab_n = 0;
	if (r->tab)
		memset(r->tab, 0, (r->tab_mask + 1) * sizeof(*r->tab));
	vgl_sched_close(r->sched, sched_closed, r);
	r->sched = NULL;
	if (r->s4) {
		r->s4->sq = r->s4->sq_tail = NULL;
		uv_close((uv_handle_t *)&r->s4->poll, vgl__reach_sock_close_cb);
		r->s4 = NULL;
	}
	if (r->s6) {
		r->s6->sq = r->s6->sq_tail = NULL;
		uv_close((uv_handle_t *)&r->s6->poll, vgl__reach_sock_close_cb);
		r->s6 = NULL;
	}
	uv_close((uv_handle_t *)&r->htimer, anchor_close_cb);
	uv_close((uv_handle_t *)&r->rtimer, anchor_close_cb);
}

/* ---- the collector interface (collectors/collector.h) ------------------ */

static int be_create(uv_loop_t *loop, const struct vgl_conf *conf, vgl_poll_fn *fn, void *ctx,
		     void **out)
{
	struct vgl_reach_opts o = { .icmp = VGL_REACH_ICMP_NONE };
	struct vgl_reach *r = NULL;
	int rv;

	for (size_t i = 0; conf && i < conf->n_hosts && o.icmp == VGL_REACH_ICMP_NONE; i++)
		for (size_t j = 0; j < conf->hosts[i].profile->n_sources; j++)
			if (conf->hosts[i].profile->sources[j].be == &vgl_ping_conf_backend)
				o.icmp = VGL_REACH_ICMP_AUTO;
	rv = vgl_reach_create_opts(loop, &o, fn, ctx, &r);
	*out = rv == 0 ? r : NULL;
	return rv;
}

/* A source's metrics into the target's value slots: their positions in
 * the source's list (what results carry), by what each measures. */
static int be_add_source(void *be, uint32_t host_idx, const struct vgl_conf_host *host,
			 uint32_t source)
{
	const struct vgl_conf_profile *pr = host->profile;
	const struct vgl_conf_source *src;
	const struct vgl_reach_source *rs;
	struct vgl_reach_target t = { 0 };
	uint32_t *slot[4];

	if (source >= pr->n_sources || (pr->sources[source].be != &vgl_ping_conf_backend &&
					pr->sources[source].be != &vgl_tcp_conf_backend)) {
		vgl_err("host %s: source %u is not a ping or tcp source", host->name,
			(unsigned)source);
		return -EINVAL;
	}
	src = &pr->sources[source];
	rs = src->spec;
	t.address = host->address;
	t.name = host->name;
	t.kind = rs->kind;
	t.port = rs->port;
	t.count = rs->count;
	t.gap_ms = rs->gap_ms;
	t.interval_ms = src->interval_ms;
	t.timeout_ms = src->timeout_ms;
	t.source = source;
	t.metrics = src->metrics;
	t.n_values = (uint32_t)src->n_metrics;
	t.loss_pct_idx = t.rtt_ms_idx = t.up_idx = t.connect_ms_idx = VGL_REACH_NO_METRIC;
	slot[VGL_REACH_LOSS_PCT] = &t.loss_pct_idx;
	slot[VGL_REACH_RTT_MS] = &t.rtt_ms_idx;
	slot[VGL_REACH_UP] = &t.up_idx;
	slot[VGL_REACH_CONNECT_MS] = &t.connect_ms_idx;
	for (uint32_t i = 0; i < t.n_values; i++) {
		const struct vgl_reach_metric *m = pr->metrics[src->metrics[i]].spec;
		/* two metrics of one measure: the first gets it, the other
		 * stays absent (the loader lets it through; it is harmless) */
		if (*slot[m->value] == VGL_REACH_NO_METRIC)
			*slot[m->value] = i;
	}
	return vgl_reach_add_target(be, host_idx, &t);
}

static void be_stats(const void *be, struct vgl_collector_stats *out)
{
	struct vgl_reach_stats st;

	vgl_reach_get_stats(be, &st);
	*out = (struct vgl_collector_stats){
		.polls = st.polls, .timeouts = st.timeouts, .skipped = st.skipped,
		.values = st.values, .rejected = st.rejected, .in_flight = st.in_flight,
		.hosts = st.targets,
	};
}

static void be_close(void *be, void (*done)(void *ctx), void *ctx)
{
	vgl_reach_close(be, done, ctx);
}

const struct vgl_collector_ops vgl_reach_collector = {
	.name = "reach",
	.create = be_create,
	.add_source = be_add_source,
	.stats = be_stats,
	.close = be_close,
};
