/* The SNMP collector's private parts, shared by its files (and by no one
 * else): the channel, host, request and poll records, the collector's own
 * state, and the functions one file calls in another. The design is in
 * collectors/snmp.c's header comment; which file owns what:
 *   snmp.c         net-snmp setup, small helpers, hosts and scheduling,
 *                  create/stats/close, the collector interface
 *   snmp_chan.c    v3 credentials, receiving (recvmmsg, the transport
 *                  net-snmp reads through), channels (sockets, sessions)
 *   snmp_answer.c  answers: status, values, what is refused and why
 *   snmp_v2c.c     vigil's own v2c engine, sending, polls
 */
#ifndef VGL_SNMP_INT_H
#define VGL_SNMP_INT_H

#include "collectors/snmp.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <pthread.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>
#include <net-snmp/library/large_fd_set.h>

#include "collectors/ber.h"
#include "collectors/reqid.h"
#include "collectors/sched.h"
#include "collectors/snmp_conf.h"
#include "core/log.h"

/* Hosts per shared session: enough to keep descriptors few (100,000 hosts
 * = 196 sockets), few enough that net-snmp's linear request list stays
 * short even when every host of a channel times out at once. */
#define CHAN_HOSTS 512
/* Datagrams taken by one recvmmsg(), and batches read per readiness
 * callback before yielding to the loop. A slot holds the largest UDP
 * payload, so no answer is ever truncated; only the pages a datagram
 * touches become resident. */
#define RECV_BATCH 32
#define RECV_ROUNDS 4
#define RECV_SLOT 65536
/* A readable socket is read this long after it became readable, not at
 * once: answers to a slot's polls arrive over tens of milliseconds, one
 * every few dozen microseconds, and a loop that wakes for each spends more
 * on the wakeup (epoll_wait, context switch) than on the datagram. Waiting
 * gathers them into a few recvmmsg() batches. It only delays delivery;
 * results carry the poll's start time. */
#define READ_DELAY_MS 5
#define DEFAULT_IN_FLIGHT 10000
/* v2c requests encoded before one sendmmsg(), and the bytes they may take.
 * A 20-OID GET is about 400 bytes. */
#define TX_BATCH 64
#define TX_ARENA 65536
/* Initial request-id ring of a v2c channel; it doubles when half full. */
#define RING_MIN 1024
/* First-poll offsets are whole multiples of a slot: hosts due in the same
 * slot start in one loop iteration and their answers share wakeups. A
 * wakeup (epoll, context switch) costs more than handling a datagram, so
 * at low poll rates it is most of the CPU per value: the slot is 1/30 of
 * the interval (1 s at 30 s), between 10 ms and 1 s, which still spreads
 * the load over the interval. */
#define DETAIL_LEN 160

#define USM_STATS_UNKNOWN_ENGINE_IDS 4

struct vgl_snmp;

struct chan {
	struct vgl_snmp *s;
	void *sessp;
	int fd;
	int family;
	int version;
	uint32_t timeout_ms;
	uint32_t retries;
	uint32_t n_hosts;
	uint32_t outstanding;           /* PDUs net-snmp holds for us */
	int open_handles;               /* poll + timer, until both close_cb */
	unsigned paused : 1;            /* readable, waiting for the read tick */
	unsigned ticking : 1;           /* in the list the read tick is reading */
	unsigned pause_again : 1;       /* sent on while ticking: pause after the read */
	unsigned own : 1;               /* v2c: vigil's engine, sessp is NULL */
	unsigned live : 1;              /* open; cleared by vgl_snmp_close */
	unsigned bound : 1;             /* bound to src_addr (source_address) */
	uint32_t src_addr;              /* IPv4, network order, when bound */
	struct chan *next_paused;
	struct host **members;          /* its hosts, to name a datagram's sender */
	uint32_t cap_members;
	uv_poll_t poll;
	uv_timer_t timer;
	struct chan *next;
	/* Requests in flight by request-id (slot id & ring_mask): the v2c
	 * engine finds answers here; on a net-snmp channel it only keeps the
	 * random ids of a session's requests distinct (net-snmp matches
	 * answers by id in its own list). */
	struct req **ring;
	uint32_t ring_mask;
	uint32_t ring_used;
	/* v2c: requests in flight in send order, which is deadline order:
	 * every attempt waits the channel's one timeout. */
	struct req *fifo, *fifo_tail;
};

/* A source's metrics as GET varbinds (OID, NULL) back to back in metric
 * order, so the request for metrics [a, a+n) is the bytes from vb[a].at to
 * vb[a+n].at, and an answer's names compare to oid bytes with memcmp. */
struct penc {
	const struct vgl_conf_source *src;
	uint8_t *blob;
	struct penc_vb {
		uint32_t at;            /* varbind offset in blob */
		uint32_t oid_at;        /* its OID contents */
		uint32_t oid_len;
	} *vb;                          /* n_metrics + 1; the last is the end */
	struct penc *next;
};

/* v2c requests encoded and waiting for one sendmmsg() on chan. */
struct txbatch {
	struct chan *chan;
	unsigned n;
	size_t used;
	struct mmsghdr msgs[TX_BATCH];
	struct iovec iov[TX_BATCH];
	struct req *req[TX_BATCH];
	uint8_t buf[TX_ARENA];
};

/* USM credentials of one source's settings, with Ku computed once. tmpl is never
 * opened: it only feeds usm_create_user_from_session() per engineID. */
struct v3cred {
	const struct vgl_snmp_source *snmp;
	netsnmp_session tmpl;
	struct v3cred *next;
};

union sockaddr_u {
	struct sockaddr sa;
	struct sockaddr_in in;
	struct sockaddr_in6 in6;
};

struct poll;
struct host;

/* The datagrams of one recvmmsg(), served one by one to net-snmp through
 * the channel transport's f_recv (vgl__snmp_chan_recv). One per collector: channels
 * are read one at a time. */
struct rxbatch {
	struct chan *chan;              /* whose socket they came from */
	int n, next;                    /* received, handed to net-snmp */
	struct mmsghdr msgs[RECV_BATCH];
	struct iovec iov[RECV_BATCH];
	union sockaddr_u from[RECV_BATCH];
	unsigned char *buf;             /* RECV_BATCH x RECV_SLOT */
};

/* A uv_getaddrinfo in flight; outlives its host if the collector closes. */
struct resolve_req {
	uv_getaddrinfo_t req;
	struct vgl_snmp *s;
	struct host *h;
};

struct host {
	struct vgl_snmp *s;
	const struct vgl_conf_host *conf;
	/* The source polled (interval, timeout, its metrics), and its SNMP
	 * settings. One struct host per SNMP source of a configured host. */
	const struct vgl_conf_source *src;
	const struct vgl_snmp_source *snmp;
	uint32_t src_idx;
	uint32_t idx;
	struct chan *chan;
	struct v3cred *cred;
	const struct penc *enc;         /* v2c: the source's varbinds */
	const char *comm;               /* v2c: the community every request carries */
	size_t comm_len;
	uint32_t src_addr;              /* source_address (IPv4, network order), if bound */
	union sockaddr_u addr;
	u_char *engine_id;              /* v3: learnt by the probe; NULL = probe first */
	size_t engine_id_len;
	struct vgl_sched_entry sched;   /* its place in the shared scheduler */
	struct poll *poll;              /* running, or NULL */
	struct host *next_wait;         /* FIFO of hosts waiting for an in-flight slot */
	struct resolve_req *resolving;  /* DNS name being resolved, or NULL */
	unsigned addr_ok : 1;
	unsigned queued : 1;
	unsigned failing : 1;           /* complained about; log recovery once */
	unsigned warned_bad : 1;        /* malformed answers logged once per host */
	unsigned warned_rejected : 1;   /* rejected answers likewise */
	unsigned bound : 1;             /* src_addr given: its channel binds to it */
};

enum req_kind { REQ_GET, REQ_PROBE };

struct req {
	struct poll *p;
	enum req_kind kind;
	uint32_t first, count;          /* metric range of a GET */
	unsigned in_send : 1;           /* inside snmp_sess_async_send */
	/* A Report reaches vgl__snmp_on_pdu twice, OP_SEC_ERROR and OP_RECEIVED_MESSAGE,
	 * in an order that differs between net-snmp 5.9 builds (Debian's has
	 * upstream's later fix: SEC_ERROR first); the second call is final. */
	unsigned report_seen : 1;
	unsigned nit_seen : 1;          /* notInTimeWindow seen, resent */
	unsigned in_flight : 1;         /* v2c: in its channel's ring and FIFO */
	unsigned unsent : 1;            /* v2c: its last attempt found the socket full */
	unsigned in_ring : 1;           /* id holds a slot of its channel's ring */
	struct req *next;               /* in the send queue */
	int32_t id;                     /* request-id of every attempt (random) */
	/* v2c */
	uint32_t tries;                 /* attempts sent */
	uint64_t deadline;              /* loop ms when the attempt times out */
	struct req *fnext, *fprev;      /* channel FIFO */
};

struct poll {
	struct host *h;
	/* When the poll began: what it observed is the state as of then (a
	 * timeout says the host did not answer at that moment, not when we
	 * gave up waiting), so results carry this time. */
	int64_t start_ms;
	uint32_t pending;               /* reqs queued or in flight */
	/* Most polls are one PDU: its req lives here, not on the heap. */
	struct req req0;
	unsigned req0_used : 1;
	unsigned answered : 1;
	unsigned any_auth : 1;
	unsigned any_error : 1;
	struct poll *next_done;
	char detail[DETAIL_LEN];
	struct vgl_value values[];      /* the source's metric order */
};

struct vgl_snmp {
	uv_loop_t *loop;
	vgl_poll_fn *fn;
	void *ctx;
	uint32_t max_in_flight;
	struct vgl_snmp_stats st;

	struct host **hosts;
	size_t n_hosts, cap_hosts;
	struct vgl_sched *sched;        /* when each host's poll is due */
	struct chan *chans;
	struct rxbatch *rx;             /* allocated with the first channel */
	struct txbatch *tx;             /* with the first v2c channel */
	struct penc *pencs;
	struct chan *paused;            /* readable channels for the read tick */
	uv_timer_t rtick;               /* reads them READ_DELAY_MS later */
	struct v3cred *creds;

	struct req *sendq, *sendq_tail;         /* PDUs to send from vgl__snmp_drain() */
	struct poll *doneq, *doneq_tail;        /* finished polls to deliver */
	struct host *waitq, *waitq_tail;        /* due, waiting for in-flight room */

	netsnmp_large_fd_set fds;               /* scratch for read2/select_info2 */
	uv_timer_t anchor;                      /* keeps done() asynchronous */
	int open_handles;
	unsigned closing : 1;
	unsigned draining : 1;
	void (*done)(void *ctx);
	void *done_ctx;
};


/* ---- across the collector's files ---------------------------------------- */

uint64_t vgl__snmp_mono_ms(void);
int64_t vgl__snmp_wall_ms(void);
const struct vgl_conf_metric *vgl__snmp_hmetric(const struct host *h, uint32_t i);
void vgl__snmp_host_log(const struct host *h, enum vgl_log_level lvl, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void vgl__snmp_host_bad_answer(struct host *h, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void vgl__snmp_host_rejected(struct host *h, const union sockaddr_u *from, const char *why);
void vgl__snmp_poll_note(struct poll *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void vgl__snmp_set_range(struct poll *p, uint32_t first, uint32_t count, enum vgl_quality q);
void vgl__snmp_sendq_push(struct vgl_snmp *s, struct req *r);
struct req *vgl__snmp_req_new(struct poll *p, enum req_kind kind, uint32_t first, uint32_t count);
void vgl__snmp_poll_done_one(struct vgl_snmp *s, struct poll *p);
void vgl__snmp_req_free(struct req *r);
void vgl__snmp_req_end(struct vgl_snmp *s, struct req *r);
void vgl__snmp_queue_gets(struct vgl_snmp *s, struct poll *p, uint32_t first, uint32_t count);
int vgl__snmp_resolve(struct vgl_snmp *s, struct host *h);
void vgl__snmp_chan_close_cb(uv_handle_t *hd);
void vgl__snmp_cred_free(struct v3cred *c);
int vgl__snmp_cred_get(struct vgl_snmp *s, const struct host *h, struct v3cred **out);
int vgl__snmp_cred_localize(struct v3cred *cr, const u_char *eid, size_t eid_len);
int vgl__snmp_report_counter(const netsnmp_pdu *pdu);
extern _Thread_local struct rxbatch *vgl__snmp_rx_current;
int vgl__snmp_chan_recv(netsnmp_transport *t, void *buf, int size, void **opaque, int *olength);
int vgl__snmp_same_addr(const union sockaddr_u *a, const union sockaddr_u *b);
struct host *vgl__snmp_host_at(struct chan *c, const union sockaddr_u *from);
void vgl__snmp_bad_datagram(struct chan *c, const union sockaddr_u *from, size_t len, int err);
void vgl__snmp_on_readable(uv_poll_t *hd, int status, int events);
void vgl__snmp_on_read_tick(uv_timer_t *t);
void vgl__snmp_chan_read(struct chan *c);
void vgl__snmp_on_chan_timer(uv_timer_t *t);
int vgl__snmp_tx_alloc(struct vgl_snmp *s);
int vgl__snmp_ring_grow(struct chan *c);
int vgl__snmp_ring_claim(struct chan *c, struct req *r);
void vgl__snmp_ring_release(struct chan *c, struct req *r);
int vgl__snmp_chan_open(struct vgl_snmp *s, int family, int version, int own,
		     uint32_t timeout_ms, uint32_t retries, const struct host *h,
		     struct chan **out);
int vgl__snmp_chan_add_host(struct chan *c, struct host *h);
int vgl__snmp_host_own(const struct host *h);
int vgl__snmp_chan_for(struct vgl_snmp *s, const struct host *h, struct chan **out);
void vgl__snmp_chan_rearm(struct chan *c);
void vgl__snmp_own_timeouts(struct chan *c);
void vgl__snmp_chan_pause(struct chan *c);
int vgl__snmp_got_status(struct vgl_snmp *s, struct req *r, long errstat, long errindex);
void vgl__snmp_got_unasked(struct req *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void vgl__snmp_got_wrong_oid(struct req *r, uint32_t i, const char *got);
void vgl__snmp_got_not_number(struct req *r, uint32_t i, unsigned type, const char *why);
void vgl__snmp_got_value(struct req *r, uint32_t i, unsigned type, int numeric, double v);
int vgl__snmp_on_pdu(int op, netsnmp_session *sess, int reqid, netsnmp_pdu *pdu, void *magic);
int vgl__snmp_penc_for(struct vgl_snmp *s, const struct vgl_conf_profile *pr,
		    const struct vgl_conf_source *src, const struct penc **out);
void vgl__snmp_own_forget(struct chan *c, struct req *r);
void vgl__snmp_tx_flush(struct vgl_snmp *s);
void vgl__snmp_own_response(struct vgl_snmp *s, struct req *r, const struct vgl_ber_msg *m);
void vgl__snmp_own_answer(struct chan *c, const uint8_t *buf, size_t len,
		       const union sockaddr_u *from);
void vgl__snmp_send_req(struct vgl_snmp *s, struct req *r);
void vgl__snmp_start_poll(struct vgl_snmp *s, struct host *h);
void vgl__snmp_drain(struct vgl_snmp *s);

#endif
