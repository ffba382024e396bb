/* Internals shared by the reachability collector's files (not an API):
 * collectors/reach.c (targets, polls, the deadline heap, results, close),
 * collectors/reach_icmp.c (ICMP sockets, echoes, answers, errors) and
 * collectors/reach_tcp.c (connect probes). The design: the top of each. */
#ifndef VGL_REACH_INT_H
#define VGL_REACH_INT_H

#include <netinet/in.h>
#include <stdint.h>
#include <sys/socket.h>

#include <uv.h>

#include "collectors/reach.h"
#include "collectors/sched.h"
#include "core/log.h"
#include "core/sample.h"

#define DETAIL_LEN 160
#define WHY_LEN 96
/* Echoes per sendmmsg(). On loopback the kernel answers inside the send,
 * so the socket is read after every READ_EVERY echoes sent: a slot of
 * thousands would otherwise overflow the receive buffer before we read. */
#define TX_BATCH 64
#define READ_EVERY 256
/* An echo: 8 bytes of ICMP header and the 8-byte nonce. */
#define ECHO_LEN 16
#define RX_BATCH 32
/* Our answers are small; an ICMP error quotes at most 576 bytes. Longer
 * datagrams (other pingers', on a raw socket) come truncated and are not
 * ours. */
#define RX_SLOT 1024
#define RX_CTL 256

union sa {
	struct sockaddr sa;
	struct sockaddr_in in;
	struct sockaddr_in6 in6;
};

struct vgl_reach;
struct poll;

enum echo_state { E_NONE, E_QUEUED, E_FLIGHT, E_ANSWERED, E_REFUSED, E_ERROR, E_LOST };

struct echo {
	struct poll *p;
	struct echo *hnext;             /* hash chain */
	struct echo *qnext, *qprev;     /* its socket's send queue */
	int64_t tx_ns;                  /* CLOCK_REALTIME when sent */
	uint64_t nonce;
	uint16_t seq;
	uint8_t state;
};

/* One shared ICMP socket. */
struct isock {
	struct vgl_reach *r;
	int fd;
	int family;
	enum vgl_reach_icmp mode;       /* PING or RAW */
	uint16_t id;                    /* RAW: ours; PING: the kernel's */
	int events;                     /* what the uv_poll watches now */
	unsigned paused : 1;            /* readable, waiting for the read tick */
	unsigned err_pending : 1;       /* POLLERR seen: error queue, SO_ERROR */
	unsigned blocked : 1;           /* send buffer full: wait for writable */
	struct echo *sq, *sq_tail;      /* echoes to send, in order */
	uv_poll_t poll;
};

struct target {
	struct vgl_reach *r;
	const char *name;
	union sa addr;
	socklen_t alen;
	uint32_t host_idx;
	uint32_t source;
	const uint32_t *metrics;
	uint8_t kind;
	uint16_t count, port;
	uint32_t gap_ms, interval_ms, timeout_ms, n_values;
	uint32_t idx_a, idx_b;          /* loss_pct/rtt_ms or up/connect_ms */
	struct isock *sock;             /* ICMP */
	struct vgl_sched_entry sched;   /* its place in the shared scheduler */
	struct target *next_wait;       /* TCP: waiting for a connect slot */
	struct poll *poll;              /* running, or NULL */
	unsigned queued : 1;
	unsigned failing : 1;           /* complained about; log recovery once */
};

struct probe {
	uv_tcp_t h;
	uv_connect_t c;
	struct vgl_reach *r;
	struct poll *p;                 /* NULL once the poll has finished */
	uint64_t t0_ns;                 /* uv_hrtime at connect() */
};

struct poll {
	struct target *t;
	int64_t start_ms;               /* wall clock: what results carry */
	uint64_t start_loop;            /* loop ms: what deadlines count from */
	uint64_t ev_ms;                 /* heap key: next echo or end of wait */
	uint32_t heap_i;                /* index + 1 in the heap, 0 = not in it */
	uint16_t queued, done, answered, refused, errors;
	unsigned finished : 1;
	enum vgl_quality q;             /* TCP outcome */
	double rtt_sum_ms, connect_ms;
	struct probe *probe;
	struct echo *echo;              /* count of them, after values */
	struct poll *next_done;
	char why[WHY_LEN];              /* the first error, for the detail */
	char detail[DETAIL_LEN];
	struct vgl_value values[];
};

struct rxbuf {
	struct mmsghdr msgs[RX_BATCH];
	struct iovec iov[RX_BATCH];
	union sa from[RX_BATCH];
	_Alignas(struct cmsghdr) uint8_t ctl[RX_BATCH][RX_CTL];
	uint8_t buf[RX_BATCH][RX_SLOT];
};

struct txbuf {
	struct mmsghdr msgs[TX_BATCH];
	struct iovec iov[TX_BATCH];
	struct echo *e[TX_BATCH];
	uint8_t pkt[TX_BATCH][ECHO_LEN];
};

struct vgl_reach {
	uv_loop_t *loop;
	vgl_poll_fn *fn;
	void *ctx;
	enum vgl_reach_icmp want;       /* the mode asked for, for IPv6 later */
	uint32_t max_tcp;
	struct vgl_reach_stats st;
	struct isock *s4, *s6;
	struct target **targets;
	size_t n_targets, cap_targets;
	struct vgl_sched *sched;        /* when each target's poll is due */
	struct poll **heap;
	uint32_t n_heap, cap_heap;
	uint64_t armed_at;              /* heap timer due, UINT64_MAX = idle */
	uv_timer_t htimer;
	uv_timer_t rtimer;              /* the read tick */
	struct echo **tab;              /* echoes queued or in flight */
	uint32_t tab_mask, tab_n;
	uint64_t salt;
	struct poll *doneq, *doneq_tail;
	struct target *waitq, *waitq_tail;
	struct rxbuf *rx;
	struct txbuf *tx;
	int open_handles;
	unsigned closing : 1;
	unsigned draining : 1;
	void (*done)(void *ctx);
	void *done_ctx;
};

/* reach.c */
int64_t vgl__reach_wall_ns(void);
const char *vgl__reach_addr_text(const union sa *a, char *buf, size_t len);
void vgl__reach_poll_why(struct poll *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Takes p out of every index and queues its result for delivery. */
void vgl__reach_poll_finish(struct vgl_reach *r, struct poll *p);
/* A poll of t, counted in flight; NULL (logged) without memory. */
struct poll *vgl__reach_poll_new(struct vgl_reach *r, struct target *t);
int vgl__reach_heap_push(struct vgl_reach *r, struct poll *p);
/* The end of every libuv callback (see reach.c). */
void vgl__reach_settle(struct vgl_reach *r);
/* A handle of r's closed: the last one frees r. */
void vgl__reach_handle_closed(struct vgl_reach *r);

/* reach_icmp.c */
/* Opens the ICMP socket of one family: ping, else raw (AUTO), or the one
 * asked for. 0, or a negative errno with the reason in why. */
int vgl__reach_icmp_open(struct vgl_reach *r, int family, enum vgl_reach_icmp want,
			 struct isock **out, char *why, size_t why_len);
void vgl__reach_icmp_start(struct vgl_reach *r, struct target *t);
void vgl__reach_echo_queue(struct vgl_reach *r, struct poll *p, uint16_t i);
void vgl__reach_sock_flush(struct isock *s);
void vgl__reach_sq_unlink(struct isock *s, struct echo *e);
void vgl__reach_tab_remove(struct vgl_reach *r, struct echo *e);
void vgl__reach_sock_close_cb(uv_handle_t *h);

/* reach_tcp.c */
void vgl__reach_tcp_due(struct vgl_reach *r, struct target *t);
void vgl__reach_tcp_kick(struct vgl_reach *r);
void vgl__reach_probe_close_cb(uv_handle_t *h);

#endif
