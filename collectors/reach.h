/* Reachability collector: ICMP echo and TCP connect, driven by the libuv
 * loop and never blocking it. Design, quality mapping, privileges and cost:
 * docs/reach.md.
 *
 * One ICMP socket per address family is shared by every ICMP target
 * (echoes are told apart by sequence number, destination address and a
 * nonce in the payload), watched with uv_poll. A TCP poll is one
 * non-blocking connect through a uv_tcp_t that lives only while the
 * connect does; it is reset (SO_LINGER 0) as soon as it connects, so a
 * site of many thousands of targets leaves no TIME_WAIT behind.
 *
 * Each target is polled every interval_ms. The first polls of the targets
 * of one interval are spread evenly over it in host_idx order (neighbours
 * in the config share a slot); collectors/sched.c, shared with every back
 * end, starts polls with one timer per interval group, and one timer for
 * the whole collector drives the deadlines (echo gaps and timeouts) of every poll in flight.
 * A poll still running when the next is due is not overlapped (the next
 * is skipped and counted). One vgl_poll_result per finished poll reaches
 * fn.
 */
#ifndef VGL_REACH_H
#define VGL_REACH_H

#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "collectors/collector.h"
#include "core/sample.h"

struct vgl_reach;

enum vgl_reach_kind {
	VGL_REACH_ICMP = 1,     /* ICMP (or ICMPv6) echo, `count` echoes per poll */
	VGL_REACH_TCP,          /* TCP connect to `port` */
};

/* A metric index that receives nothing. Indexes are into the result's
 * values (n_values); a value no target fills is VGL_Q_ABSENT in it. */
#define VGL_REACH_NO_METRIC UINT32_MAX

struct vgl_reach_target {
	const char *address;    /* IPv4 or IPv6 literal (no DNS names, no %scope) */
	/* For log lines; NULL = the address. Must stay valid until
	 * vgl_reach_close's done callback (like snmp's host). */
	const char *name;
	enum vgl_reach_kind kind;
	uint16_t port;          /* TCP: 1-65535 */
	uint16_t count;         /* ICMP: echoes per poll, 1-64 (0 = 1) */
	/* ICMP: ms between the echoes of one poll; 0 sends them back to
	 * back. Answers are taken until timeout_ms after the last echo. */
	uint32_t gap_ms;
	uint32_t interval_ms;   /* > 0 */
	uint32_t timeout_ms;    /* > 0 */
	uint32_t source;        /* what results carry in vgl_poll_result.source */
	/* What results carry in vgl_poll_result.metrics (n_values of them);
	 * not copied, must stay valid until close's done. NULL: the values'
	 * own order (0 .. n_values-1). */
	const uint32_t *metrics;
	uint32_t n_values;      /* values per result: vgl_poll_result.n_values */
	/* ICMP: loss_pct (0-100 over `count` echoes) and rtt_ms (mean of the
	 * answered echoes). TCP: up (1 connected, 0 not) and connect_ms.
	 * Each < n_values or VGL_REACH_NO_METRIC; the other kind's two are
	 * ignored. loss_pct and up are measurements even when the poll
	 * failed (100 and 0, VGL_Q_OK); rtt_ms and connect_ms then carry the
	 * poll's quality. */
	uint32_t loss_pct_idx, rtt_ms_idx;
	uint32_t up_idx, connect_ms_idx;
};

/* How ICMP is sent. AUTO: an unprivileged ping socket where
 * net.ipv4.ping_group_range allows one of the process's groups, else a raw
 * socket (CAP_NET_RAW); create fails, saying how to fix it, when neither
 * opens. NONE: TCP only (ICMP targets are refused). */
enum vgl_reach_icmp {
	VGL_REACH_ICMP_AUTO = 0,
	VGL_REACH_ICMP_PING,
	VGL_REACH_ICMP_RAW,
	VGL_REACH_ICMP_NONE,
};

struct vgl_reach_opts {
	enum vgl_reach_icmp icmp;
	/* TCP connects open at once (each holds a descriptor); more wait
	 * their turn in due order. 0 = 512. */
	uint32_t max_tcp_in_flight;
	/* When create fails: the reason, as logged (may be NULL). */
	char *err;
	size_t err_len;
};

struct vgl_reach_stats {
	uint64_t polls;         /* finished */
	uint64_t timeouts;      /* finished with VGL_Q_TIMEOUT */
	uint64_t refused;       /* finished with VGL_Q_REFUSED */
	uint64_t skipped;       /* due while the previous poll still ran */
	uint64_t values;        /* values delivered with VGL_Q_OK */
	/* ICMP messages naming our echoes (our id on a raw socket, any on a
	 * ping socket) not taken: no such echo in flight (late, duplicated),
	 * a wrong nonce or checksum. */
	uint64_t rejected;
	uint64_t echoes_sent, echoes_answered;
	uint32_t in_flight;     /* polls running */
	uint32_t tcp_open;      /* uv_tcp_t handles open (descriptors) */
	uint32_t tcp_waiting;   /* TCP polls due, waiting for max_tcp_in_flight */
	uint32_t targets;
	enum vgl_reach_icmp icmp4, icmp6;   /* PING, RAW or NONE: what opened */
};

/* vgl_reach_create_opts with the defaults (AUTO, 512). 0 and *out, or a
 * negative errno / UV_E* after logging why. */
int vgl_reach_create(uv_loop_t *loop, vgl_poll_fn *fn, void *ctx, struct vgl_reach **out);
int vgl_reach_create_opts(uv_loop_t *loop, const struct vgl_reach_opts *opts, vgl_poll_fn *fn,
			  void *ctx, struct vgl_reach **out);

/* Copies *t (not t->name). host_idx is what results carry. The target's
 * first poll is placed at the next loop iteration, among all targets added
 * until then. A host may have several targets; each delivers its own
 * results. 0, or a negative errno after logging why. */
int vgl_reach_add_target(struct vgl_reach *r, uint32_t host_idx, const struct vgl_reach_target *t);

void vgl_reach_get_stats(const struct vgl_reach *r, struct vgl_reach_stats *out);

/* "ping", "raw" or "none". */
const char *vgl_reach_icmp_name(enum vgl_reach_icmp m);

/* Cancels in-flight polls (no result is delivered after this call), closes
 * every handle and socket; done(ctx) runs once the last handle is closed,
 * after which r is freed. */
void vgl_reach_close(struct vgl_reach *r, void (*done)(void *ctx), void *ctx);

/* The collector interface over this API, for sources of type "ping" and
 * "tcp" (collectors/reach_conf.h). create opens ICMP sockets (AUTO) only
 * when some host has a ping source, else none (NONE): a site polling only
 * TCP ports needs no privilege. */
extern const struct vgl_collector_ops vgl_reach_collector;

#endif
