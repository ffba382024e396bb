/* SNMP collector on the libuv loop.
 *
 * Channels are shared. One channel (one UDP socket, unbound or bound to
 * the profile's source_address, a uv_poll on it and a uv_timer for its
 * retransmissions) serves up to CHAN_HOSTS hosts with the same version,
 * timeout, retries and source_address; each request names its own
 * destination and carries its own community or USM user. A socket per
 * host would cost a descriptor, two uv handles and a session per host:
 * 100,000 hosts would need 100,000 descriptors (more than many hard limits)
 * and far more than 2 KiB each. See docs/snmp.md.
 *
 * Two engines drive channels:
 *  - v3 channels are net-snmp sessions (snmp_sess_* API): USM, engineID
 *    discovery, keys and crypto are net-snmp's. Each PDU carries its host's
 *    address in pdu->transport_data, which net-snmp's UDP transports use as
 *    the destination.
 *  - v2c channels are vigil's own: GETs are encoded and answers decoded
 *    by collectors/ber.c in place, requests are matched by request-id in a
 *    ring (struct chan.ring), retransmitted from a deadline-ordered FIFO,
 *    and sent a slot's worth at a time with sendmmsg(). net-snmp's PDU
 *    objects cost about 2.2 KiB of calloc per OID per poll; this path
 *    allocates nothing per request.
 *
 * Answers are checked on both engines, since neighbours on a channel see
 * its port: a random request-id (collectors/reqid.c) of a request in
 * flight, the request's host address and port, the request's community
 * (v2c; net-snmp checks none of these but the id), else the datagram is
 * dropped and the request keeps waiting; then the request's OIDs in order,
 * else the request fails. What that does and does not stop: docs/snmp.md,
 * "What SNMPv2c can and cannot protect against".
 *
 * Nothing here blocks the loop:
 *  - sockets are non-blocking, read (with recvmmsg, through our own
 *    transport f_recv) only after uv_poll said so;
 *  - net-snmp would probe a v3 agent's engineID synchronously when a v3
 *    session opens or sends without one. Channels keep SNMP_FLAGS_DONT_PROBE
 *    set and no engineID of their own; a host's first poll sends the probe
 *    (a noAuth GET with an empty user) asynchronously, learns the engineID
 *    from the Report and registers the localized USM user for it;
 *  - DNS names are resolved with uv_getaddrinfo.
 *
 * Re-entrancy: net-snmp calls on_pdu() from inside snmp_sess_read2() and
 * snmp_sess_timeout(), and a result callback may call vgl_snmp_close(). So
 * on_pdu() and the v2c answer handler only record outcomes and queue
 * follow-up work; drain() runs it (sends, then results) after they have
 * returned, and results reach fn only from drain().
 *
 * Scheduling: collectors/sched.c, shared with every back end: hosts of one
 * interval share one sorted list and one timer; first polls are spread
 * evenly over the interval in host_idx order. host_due() decides, for a
 * host whose poll is due, whether it starts, waits for an in-flight slot
 * or is skipped.
 *
 * Lifetimes: a poll (one per running host poll) owns its values; a req
 * (one per PDU; a poll's first lives inside the poll) points at its poll.
 * On a v3 channel net-snmp holds it between a successful send and its
 * final callback (received, timed out, send failed or security error),
 * after which on_pdu() frees it; on a v2c channel its channel's ring and
 * FIFO hold it from its first send until it is answered, times out or
 * fails to send.
 */
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

/* usmStats counters, the varbind of a USM Report (RFC 3414): .1.3.6.1.6.3.15.1.1.N.0 */
static const oid usm_stats_prefix[] = { 1, 3, 6, 1, 6, 3, 15, 1, 1 };
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
 * the channel transport's f_recv (chan_recv). One per collector: channels
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
	/* A Report reaches on_pdu twice, OP_SEC_ERROR and OP_RECEIVED_MESSAGE,
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

	struct req *sendq, *sendq_tail;         /* PDUs to send from drain() */
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

static void drain(struct vgl_snmp *s);
static void handle_closed(struct vgl_snmp *s);
static int resolve(struct vgl_snmp *s, struct host *h);

/* ---- net-snmp library setup --------------------------------------------- */

static int netsnmp_log_cb(int major, int minor, void *serverarg, void *clientarg)
{
	const struct snmp_log_message *m = serverarg;
	char line[512];
	size_t n;

	(void)major; (void)minor; (void)clientarg;
	if (!m || !m->msg)
		return 0;
	n = strlen(m->msg);
	while (n > 0 && (m->msg[n - 1] == '\n' || m->msg[n - 1] == '\r'))
		n--;
	if (n >= sizeof(line))
		n = sizeof(line) - 1;
	memcpy(line, m->msg, n);
	line[n] = '\0';
	/* net-snmp's library errors are rare and about our own use of it;
	 * its chatter (MIB lookups, debug) is not worth an operator's time. */
	if (m->priority <= LOG_ERR)
		vgl_warn("net-snmp: %s", line);
	else
		vgl_debug("net-snmp: %s", line);
	return 0;
}

static pthread_once_t lib_once = PTHREAD_ONCE_INIT;
static int lib_ok;

static void lib_init_once(void)
{
	netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DONT_READ_CONFIGS, 1);
	netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DONT_PERSIST_STATE, 1);
	netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DISABLE_PERSISTENT_LOAD, 1);
	netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DISABLE_PERSISTENT_SAVE, 1);
	netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DONT_LOAD_HOST_FILES, 1);
	netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_MIB_ERRORS, 0);
	netsnmp_ds_set_int(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_MIB_WARNINGS, 0);
	/* No SIGALRM: the library's alarms are never run here. */
	netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_ALARM_DONT_USE_SIG, 1);
	/* Should anything still be written, it goes to a private temp dir,
	 * never to /var/lib/snmp. The path is only ever created by net-snmp. */
	if (!netsnmp_ds_get_string(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_PERSISTENT_DIR)) {
		char dir[256];
		const char *t = getenv("TMPDIR");
		snprintf(dir, sizeof(dir), "%s/vigil-snmp-%ld", t && *t ? t : "/tmp",
			 (long)getpid());
		netsnmp_ds_set_string(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_PERSISTENT_DIR, dir);
	}
	snmp_disable_log();
	if (!netsnmp_register_loghandler(NETSNMP_LOGHANDLER_CALLBACK, LOG_DEBUG) ||
	    snmp_register_callback(SNMP_CALLBACK_LIBRARY, SNMP_CALLBACK_LOGGING,
				   netsnmp_log_cb, NULL) != SNMPERR_SUCCESS) {
		vgl_err("snmp: cannot route net-snmp's log");
		return;
	}
	/* An empty MIBS keeps init_snmp from reading net-snmp's default
	 * module list; conf/mib.c sets the same before its own MIB init,
	 * whichever runs first. Only numeric OIDs are used here. */
	if (!getenv("MIBS") && setenv("MIBS", "", 1) != 0) {
		vgl_log_errno(VGL_LOG_ERR, "snmp: setenv MIBS");
		return;
	}
	init_snmp("vigil");
	{
		/* init_snmp creates the persistent dir (and cert_indexes in
		 * it) even with persistence off; nothing is ever written
		 * there, so remove the empty dirs rather than leave one per
		 * process behind in /tmp. */
		const char *pd = netsnmp_ds_get_string(NETSNMP_DS_LIBRARY_ID,
						       NETSNMP_DS_LIB_PERSISTENT_DIR);
		char sub[300];
		if (pd && strstr(pd, "/vigil-snmp-")) {
			snprintf(sub, sizeof(sub), "%s/cert_indexes", pd);
			(void)rmdir(sub);
			(void)rmdir(pd);
		}
	}
	lib_ok = 1;
}

static int lib_init(void)
{
	if (pthread_once(&lib_once, lib_init_once) != 0 || !lib_ok)
		return -EIO;
	return 0;
}

/* ---- small helpers -------------------------------------------------------- */

/* Monotonic ms, fresher than uv_now() inside a long loop iteration. */
static uint64_t mono_ms(void)
{
	return uv_hrtime() / 1000000u;
}

static int64_t wall_ms(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
		return 0;
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static const char *addr_text(const union sockaddr_u *sa, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN] = "?";

	if (sa->sa.sa_family == AF_INET6) {
		inet_ntop(AF_INET6, &sa->in6.sin6_addr, a, sizeof(a));
		snprintf(buf, len, "[%s]:%u", a, (unsigned)ntohs(sa->in6.sin6_port));
	} else {
		inet_ntop(AF_INET, &sa->in.sin_addr, a, sizeof(a));
		snprintf(buf, len, "%s:%u", a, (unsigned)ntohs(sa->in.sin_port));
	}
	return buf;
}

/* Metric i of the host's source (its i-th), as the profile has it. */
static const struct vgl_conf_metric *hmetric(const struct host *h, uint32_t i)
{
	return &h->conf->profile->metrics[h->src->metrics[i]];
}

static const char *host_source(const struct host *h, char *buf, size_t len)
{
	if (!h->addr_ok) {
		snprintf(buf, len, "%s:%u", h->conf->address, (unsigned)h->snmp->port);
		return buf;
	}
	return addr_text(&h->addr, buf, len);
}

static void host_log(const struct host *h, enum vgl_log_level lvl, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void host_log(const struct host *h, enum vgl_log_level lvl, const char *fmt, ...)
{
	char src[80], msg[512];
	va_list ap;

	if (lvl == VGL_LOG_DEBUG && !vgl_log_debug_enabled())
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	vgl_log(lvl, "host %s snmp %s: %s", h->conf->name,
		host_source(h, src, sizeof(src)), msg);
}

/* A malformed answer is logged once per host at warning, then at debug:
 * it usually means a config that will not fix itself between polls. */
static void host_bad_answer(struct host *h, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void host_bad_answer(struct host *h, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	host_log(h, h->warned_bad ? VGL_LOG_DEBUG : VGL_LOG_WARNING, "%s", msg);
	h->warned_bad = 1;
}

/* A datagram that names one of h's requests in flight but is not its
 * answer (from another address, with another community): dropped like a
 * foreign datagram, and the request keeps waiting for the real one.
 * Counted; logged once per host at warning (a forgery attempt or a
 * misconfigured agent, either worth a line), then at debug, so a flood of
 * them cannot flood the log. The community itself is never logged. */
static void host_rejected(struct host *h, const union sockaddr_u *from, const char *why)
{
	char src[80];

	h->s->st.rejected++;
	if (h->warned_rejected && !vgl_log_debug_enabled())
		return;
	host_log(h, h->warned_rejected ? VGL_LOG_DEBUG : VGL_LOG_WARNING,
		 "answer from %s ignored: %s", from ? addr_text(from, src, sizeof(src)) : "?",
		 why);
	h->warned_rejected = 1;
}

static void poll_note(struct poll *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void poll_note(struct poll *p, const char *fmt, ...)
{
	va_list ap;

	if (p->detail[0])
		return;
	va_start(ap, fmt);
	vsnprintf(p->detail, sizeof(p->detail), fmt, ap);
	va_end(ap);
}

static void set_range(struct poll *p, uint32_t first, uint32_t count, enum vgl_quality q)
{
	for (uint32_t i = first; i < first + count; i++) {
		p->values[i].q = q;
		p->values[i].v = 0;
	}
	if (q == VGL_Q_AUTH)
		p->any_auth = 1;
	else if (q == VGL_Q_ERROR)
		p->any_error = 1;
}

static void sendq_push(struct vgl_snmp *s, struct req *r)
{
	r->next = NULL;
	if (s->sendq_tail)
		s->sendq_tail->next = r;
	else
		s->sendq = r;
	s->sendq_tail = r;
}

static struct req *req_new(struct poll *p, enum req_kind kind, uint32_t first, uint32_t count)
{
	struct req *r;

	if (!p->req0_used) {
		r = &p->req0;
		memset(r, 0, sizeof(*r));
		p->req0_used = 1;
	} else if (!(r = calloc(1, sizeof(*r)))) {
		return NULL;
	}
	r->p = p;
	r->kind = kind;
	r->first = first;
	r->count = count;
	p->pending++;
	return r;
}

static void poll_done_one(struct vgl_snmp *s, struct poll *p)
{
	if (--p->pending > 0)
		return;
	p->next_done = NULL;
	if (s->doneq_tail)
		s->doneq_tail->next_done = p;
	else
		s->doneq = p;
	s->doneq_tail = p;
}

static void req_free(struct req *r)
{
	if (r == &r->p->req0)
		r->p->req0_used = 0;
	else
		free(r);
}

/* Ends a req: frees it and, when it was the poll's last, queues the poll. */
static void req_end(struct vgl_snmp *s, struct req *r)
{
	struct poll *p = r->p;

	req_free(r);
	poll_done_one(s, p);
}

/* Queues GETs for metrics [first, first+count) in PDUs of at most max_oids. */
static void queue_gets(struct vgl_snmp *s, struct poll *p, uint32_t first, uint32_t count)
{
	uint32_t max = p->h->snmp->max_oids_per_pdu ? p->h->snmp->max_oids_per_pdu : 20;

	while (count > 0) {
		uint32_t n = count < max ? count : max;
		struct req *r = req_new(p, REQ_GET, first, n);
		if (!r) {
			set_range(p, first, count, VGL_Q_ERROR);
			poll_note(p, "out of memory");
			return;
		}
		sendq_push(s, r);
		first += n;
		count -= n;
	}
}

/* ---- v3 --------------------------------------------------------------------- */

static int auth_proto(const char *name, const oid **o, size_t *len)
{
	if (!name || !strcasecmp(name, "SHA") || !strcasecmp(name, "SHA1") ||
	    !strcasecmp(name, "SHA-1")) {
		*o = usmHMACSHA1AuthProtocol;
		*len = OID_LENGTH(usmHMACSHA1AuthProtocol);
	} else if (!strcasecmp(name, "MD5")) {
		*o = usmHMACMD5AuthProtocol;
		*len = OID_LENGTH(usmHMACMD5AuthProtocol);
	} else {
		return -1;
	}
	return 0;
}

static int priv_proto(const char *name, const oid **o, size_t *len)
{
	if (!name || !strcasecmp(name, "AES") || !strcasecmp(name, "AES128") ||
	    !strcasecmp(name, "AES-128")) {
		*o = usmAESPrivProtocol;
		*len = OID_LENGTH(usmAESPrivProtocol);
	} else if (!strcasecmp(name, "DES")) {
		*o = usmDESPrivProtocol;
		*len = OID_LENGTH(usmDESPrivProtocol);
	} else {
		return -1;
	}
	return 0;
}

static void cred_free(struct v3cred *c)
{
	free(c->tmpl.securityName);
	free(c);
}

/* Ku (RFC 3414 password-to-key: a megabyte of hashing) once per source's
 * settings (a template's, shared by its hosts), not per host. */
static int cred_get(struct vgl_snmp *s, const struct host *h, struct v3cred **out)
{
	const struct vgl_snmp_source *c = h->snmp;
	const oid *ap, *pp;
	size_t aplen, pplen;
	struct v3cred *cr;

	for (cr = s->creds; cr; cr = cr->next) {
		if (cr->snmp == h->snmp) {
			*out = cr;
			return 0;
		}
	}
	if (!c->user || !*c->user || !c->auth_key || !c->priv_key) {
		host_log(h, VGL_LOG_ERR, "v3 needs user, auth_key and priv_key");
		return -EINVAL;
	}
	if (auth_proto(c->auth_protocol, &ap, &aplen) != 0) {
		host_log(h, VGL_LOG_ERR, "unsupported auth_protocol \"%s\"", c->auth_protocol);
		return -EINVAL;
	}
	if (priv_proto(c->priv_protocol, &pp, &pplen) != 0) {
		host_log(h, VGL_LOG_ERR, "unsupported priv_protocol \"%s\"", c->priv_protocol);
		return -EINVAL;
	}
	cr = calloc(1, sizeof(*cr));
	if (!cr)
		return -ENOMEM;
	snmp_sess_init(&cr->tmpl);
	cr->snmp = h->snmp;
	cr->tmpl.version = SNMP_VERSION_3;
	cr->tmpl.securityModel = SNMP_SEC_MODEL_USM;
	cr->tmpl.securityLevel = SNMP_SEC_LEVEL_AUTHPRIV;
	cr->tmpl.securityName = strdup(c->user);
	if (!cr->tmpl.securityName) {
		free(cr);
		return -ENOMEM;
	}
	cr->tmpl.securityNameLen = strlen(c->user);
	/* usm_create_user_from_session copies these protocol OIDs. */
	cr->tmpl.securityAuthProto = (oid *)ap;
	cr->tmpl.securityAuthProtoLen = aplen;
	cr->tmpl.securityPrivProto = (oid *)pp;
	cr->tmpl.securityPrivProtoLen = pplen;
	cr->tmpl.securityAuthKeyLen = USM_AUTH_KU_LEN;
	cr->tmpl.securityPrivKeyLen = USM_PRIV_KU_LEN;
	if (generate_Ku(ap, (u_int)aplen, (const u_char *)c->auth_key, strlen(c->auth_key),
			cr->tmpl.securityAuthKey, &cr->tmpl.securityAuthKeyLen) != SNMPERR_SUCCESS ||
	    generate_Ku(ap, (u_int)aplen, (const u_char *)c->priv_key, strlen(c->priv_key),
			cr->tmpl.securityPrivKey, &cr->tmpl.securityPrivKeyLen) != SNMPERR_SUCCESS) {
		host_log(h, VGL_LOG_ERR, "cannot derive v3 keys (passphrases need 8+ characters)");
		cred_free(cr);
		return -EINVAL;
	}
	cr->next = s->creds;
	s->creds = cr;
	*out = cr;
	return 0;
}

/* Registers the USM user localized for the host's engineID (once per
 * engineID and user name: agents sharing an engineID share the entry). */
static int cred_localize(struct v3cred *cr, const u_char *eid, size_t eid_len)
{
	int rc;

	cr->tmpl.securityEngineID = (u_char *)eid;
	cr->tmpl.securityEngineIDLen = eid_len;
	cr->tmpl.flags &= ~SNMP_FLAGS_USER_CREATED;
	rc = usm_create_user_from_session(&cr->tmpl);
	cr->tmpl.securityEngineID = NULL;
	cr->tmpl.securityEngineIDLen = 0;
	return rc == SNMPERR_SUCCESS ? 0 : -1;
}

static int report_counter(const netsnmp_pdu *pdu)
{
	const netsnmp_variable_list *v = pdu->variables;
	size_t n = OID_LENGTH(usm_stats_prefix);

	if (!v || v->name_length < n + 1 ||
	    snmp_oid_compare(v->name, n, usm_stats_prefix, n) != 0)
		return 0;
	return (int)v->name[n];
}

/* ---- receiving ---------------------------------------------------------------- */

/* The batch chan_read is handing to net-snmp, for chan_recv: net-snmp
 * gives f_recv nothing but the transport. Set only around snmp_sess_read2
 * on the loop's thread. */
static _Thread_local struct rxbatch *rx_current;

/* The channel transports' f_recv, in place of net-snmp's UDP recv (a
 * recvmsg with IP_PKTINFO plus a getsockname per datagram): serves the
 * next datagram of the batch chan_read took with one recvmmsg(). The
 * source address is returned as net-snmp's own recv does (udpbase:
 * a malloc'd netsnmp_indexed_addr_pair; udp6: a malloc'd sockaddr_in6);
 * net-snmp owns it from here and frees it with the PDU or on error. */
static int chan_recv(netsnmp_transport *t, void *buf, int size, void **opaque, int *olength)
{
	struct rxbatch *b = rx_current;
	const union sockaddr_u *from;
	size_t len;
	int i;

	*opaque = NULL;
	*olength = 0;
	if (!b || !t || b->chan->fd != t->sock || b->next >= b->n || size <= 0) {
		errno = EAGAIN;
		return -1;
	}
	i = b->next++;
	from = &b->from[i];
	len = b->msgs[i].msg_len;
	if (len > (size_t)size)
		len = (size_t)size;
	if (from->sa.sa_family == AF_INET6) {
		struct sockaddr_in6 *a = malloc(sizeof(*a));
		if (!a) {
			errno = ENOMEM;
			return -1;
		}
		*a = from->in6;
		*opaque = a;
		*olength = (int)sizeof(*a);
	} else {
		netsnmp_indexed_addr_pair *ap = calloc(1, sizeof(*ap));
		if (!ap) {
			errno = ENOMEM;
			return -1;
		}
		ap->remote_addr.sin = from->in;
		*opaque = ap;
		*olength = (int)sizeof(*ap);
	}
	memcpy(buf, b->buf + (size_t)i * RECV_SLOT, len);
	return (int)len;
}

static int rx_alloc(struct vgl_snmp *s)
{
	struct rxbatch *b;

	if (s->rx)
		return 0;
	b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	b->buf = malloc((size_t)RECV_BATCH * RECV_SLOT);
	if (!b->buf) {
		free(b);
		return -ENOMEM;
	}
	for (int i = 0; i < RECV_BATCH; i++) {
		b->iov[i].iov_base = b->buf + (size_t)i * RECV_SLOT;
		b->iov[i].iov_len = RECV_SLOT;
		b->msgs[i].msg_hdr.msg_iov = &b->iov[i];
		b->msgs[i].msg_hdr.msg_iovlen = 1;
		b->msgs[i].msg_hdr.msg_name = &b->from[i];
	}
	s->rx = b;
	return 0;
}

static int same_addr(const union sockaddr_u *a, const union sockaddr_u *b)
{
	if (a->sa.sa_family != b->sa.sa_family)
		return 0;
	if (a->sa.sa_family == AF_INET6)
		return !memcmp(&a->in6.sin6_addr, &b->in6.sin6_addr, sizeof(a->in6.sin6_addr)) &&
		       a->in6.sin6_port == b->in6.sin6_port;
	return a->in.sin_addr.s_addr == b->in.sin_addr.s_addr &&
	       a->in.sin_port == b->in.sin_port;
}

/* The host of channel c at address from, if any: a search of the
 * channel's hosts (at most CHAN_HOSTS), for the rare datagrams that cannot
 * be matched by request-id. */
static struct host *host_at(struct chan *c, const union sockaddr_u *from)
{
	for (uint32_t i = 0; i < c->n_hosts; i++) {
		struct host *h = c->members[i];
		if (h->addr_ok && same_addr(&h->addr, from))
			return h;
	}
	return NULL;
}

/* A datagram net-snmp could not decode: logged against the host it came
 * from (a linear search, but only on this rare path). Security errors of
 * v3 answers are not malformed; net-snmp reports those to on_pdu. */
static void bad_datagram(struct chan *c, const union sockaddr_u *from, size_t len, int err)
{
	int malformed = err == SNMPERR_BAD_PARSE || err == SNMPERR_ASN_PARSE_ERR ||
			err == SNMPERR_UNKNOWN_PDU || err == SNMPERR_BAD_VERSION ||
			err == SNMPERR_TOO_LONG || err == SNMPERR_USM_PARSEERROR;
	struct host *h;

	if (!malformed && !vgl_log_debug_enabled())
		return;
	h = host_at(c, from);
	if (h && malformed)
		host_bad_answer(h, "undecodable answer (%zu bytes): %s", len,
				snmp_api_errstring(err));
	else if (h)
		host_log(h, VGL_LOG_DEBUG, "answer not processed: %s", snmp_api_errstring(err));
	else
		vgl_debug("snmp: datagram from an unknown address not processed: %s",
			  snmp_api_errstring(err));
}

/* ---- channels ---------------------------------------------------------------- */

static void chan_close_cb(uv_handle_t *hd);
static void on_readable(uv_poll_t *hd, int status, int events);
static void on_read_tick(uv_timer_t *t);
static void chan_read(struct chan *c);
static void on_chan_timer(uv_timer_t *t);
static int tx_alloc(struct vgl_snmp *s);

static int ring_grow(struct chan *c);
static int ring_claim(struct chan *c, struct req *r);
static void ring_release(struct chan *c, struct req *r);

/* The address c's socket is bound to matches source_address. net-snmp
 * binds to the session's localname, but falls back to 0.0.0.0 without a
 * word should it fail to parse it, so this is checked, not assumed. */
static int chan_check_bound(struct chan *c, const char *src)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);

	if (getsockname(c->fd, (struct sockaddr *)&a, &len) != 0) {
		vgl_log_errno(VGL_LOG_ERR, "snmp: getsockname");
		return -EIO;
	}
	if (a.sin_family != AF_INET || a.sin_addr.s_addr != c->src_addr) {
		vgl_err("snmp: net-snmp did not bind its socket to source_address %s", src);
		return -EIO;
	}
	return 0;
}

/* v3, or v2c with engine "net-snmp": a net-snmp session whose socket
 * chan_read feeds through chan_recv. */
static int chan_open_session(struct chan *c)
{
	netsnmp_session sess;
	netsnmp_transport *t;
	char src[INET_ADDRSTRLEN];
	int fl, rv;

	/* Not to find answers (net-snmp does), but to keep the random ids
	 * of the session's requests distinct: see send_req. */
	rv = ring_grow(c);
	if (rv < 0)
		return rv;
	snmp_sess_init(&sess);
	/* A placeholder peer: every PDU names its own destination. */
	sess.peername = c->family == AF_INET6 ? "udp6:[::1]:9" : "udp:127.0.0.1:9";
	if (c->bound) {
		/* the transport binds to it ("clientaddr"), port 0 */
		if (!inet_ntop(AF_INET, &c->src_addr, src, sizeof(src)))
			return -EINVAL;
		sess.localname = src;
	}
	sess.timeout = (long)c->timeout_ms * 1000L;
	sess.retries = (int)c->retries;
	if (c->version == VGL_SNMP_V3) {
		sess.version = SNMP_VERSION_3;
		sess.securityModel = SNMP_SEC_MODEL_USM;
		sess.flags |= SNMP_FLAGS_DONT_PROBE;
	} else {
		/* a placeholder too: every PDU carries its own */
		sess.version = SNMP_VERSION_2c;
		sess.community = (u_char *)"public";
		sess.community_len = 6;
	}
	c->sessp = snmp_sess_open(&sess);
	if (!c->sessp) {
		/* a failed bind reads "Unknown host" in net-snmp's words */
		vgl_err("snmp: cannot open a session%s%s: %s%s", c->bound ? " from " : "",
			c->bound ? src : "", snmp_api_errstring(snmp_errno),
			c->bound ? " (is source_address an address of this machine?)" : "");
		return -EIO;
	}
	/* snmp_sess_open clears the flag when it returns; without it the
	 * first v3 send with no session engineID probes synchronously. */
	snmp_sess_session(c->sessp)->flags |= SNMP_FLAGS_DONT_PROBE;
	t = snmp_sess_transport(c->sessp);
	if (!t || t->sock < 0)
		goto out_close;
	c->fd = t->sock;
	if (c->bound && chan_check_bound(c, src) < 0)
		goto out_close;
	t->f_recv = chan_recv;
	fl = fcntl(c->fd, F_GETFL);
	if (fl < 0 || fcntl(c->fd, F_SETFL, fl | O_NONBLOCK) < 0) {
		vgl_log_errno(VGL_LOG_ERR, "snmp: fcntl O_NONBLOCK");
		goto out_close;
	}
	return 0;

out_close:
	snmp_sess_close(c->sessp);
	c->sessp = NULL;
	return -EIO;
}

/* v2c: a socket of vigil's own engine, bound to source_address port 0
 * when one is given, else unbound (the kernel picks the port at the first
 * send, and the source address per destination). */
static int chan_open_socket(struct chan *c)
{
	int rv;

	c->fd = socket(c->family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0) {
		rv = -errno;
		vgl_log_errno(VGL_LOG_ERR, "snmp: socket");
		return rv;
	}
	if (c->bound) {
		struct sockaddr_in a = { .sin_family = AF_INET };
		char src[INET_ADDRSTRLEN] = "?";

		a.sin_addr.s_addr = c->src_addr;
		if (bind(c->fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
			rv = -errno;
			inet_ntop(AF_INET, &c->src_addr, src, sizeof(src));
			vgl_log_errno(VGL_LOG_ERR, "snmp: bind to source_address %s", src);
			close(c->fd);
			return rv;
		}
	}
	rv = ring_grow(c);
	if (rv < 0) {
		close(c->fd);
		return rv;
	}
	c->own = 1;
	return 0;
}

static int chan_open(struct vgl_snmp *s, int family, int version, int own,
		     uint32_t timeout_ms, uint32_t retries, const struct host *h,
		     struct chan **out)
{
	struct chan *c;
	int rv, rcvbuf = 1 << 20;

	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	rv = rx_alloc(s);
	if (rv < 0)
		goto out_free;
	c->s = s;
	c->family = family;
	c->version = version;
	c->timeout_ms = timeout_ms;
	c->retries = retries;
	c->bound = h->bound;
	c->src_addr = h->src_addr;
	c->fd = -1;
	if (own && (rv = tx_alloc(s)) < 0)
		goto out_free;
	rv = own ? chan_open_socket(c) : chan_open_session(c);
	if (rv < 0) {
		free(c->ring);
		goto out_free;
	}
	/* Room for a burst of answers from hundreds of hosts; the kernel caps
	 * it at net.core.rmem_max, which is fine. */
	(void)setsockopt(c->fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	rv = uv_poll_init(s->loop, &c->poll, c->fd);
	if (rv < 0) {
		vgl_err("snmp: uv_poll_init: %s", uv_strerror(rv));
		goto out_close;
	}
	c->poll.data = c;
	c->open_handles++;
	s->open_handles++;
	rv = uv_timer_init(s->loop, &c->timer);
	if (rv == 0) {
		c->timer.data = c;
		c->open_handles++;
		s->open_handles++;
		rv = uv_poll_start(&c->poll, UV_READABLE, on_readable);
	}
	/* From here vgl_snmp_close releases it, even when not live. */
	c->next = s->chans;
	s->chans = c;
	if (rv < 0) {
		vgl_err("snmp: uv_poll_start: %s", uv_strerror(rv));
		return rv;
	}
	c->live = 1;
	*out = c;
	return 0;

out_close:
	if (c->sessp)
		snmp_sess_close(c->sessp);
	else
		close(c->fd);
	free(c->ring);
out_free:
	free(c);
	return rv;
}

/* Makes h one of c's hosts. */
static int chan_add_host(struct chan *c, struct host *h)
{
	if (c->n_hosts == c->cap_members) {
		uint32_t cap = c->cap_members ? c->cap_members * 2 : 16;
		struct host **m = realloc(c->members, cap * sizeof(*m));
		if (!m)
			return -ENOMEM;
		c->members = m;
		c->cap_members = cap;
	}
	c->members[c->n_hosts++] = h;
	return 0;
}

/* Whether a host's requests go through vigil's v2c engine. */
static int host_own(const struct host *h)
{
	return h->snmp->version == VGL_SNMP_V2C && h->snmp->engine != VGL_SNMP_ENGINE_NETSNMP;
}

static int chan_for(struct vgl_snmp *s, const struct host *h, struct chan **out)
{
	const struct vgl_snmp_source *c = h->snmp;
	int family = h->addr_ok ? h->addr.sa.sa_family : AF_INET;
	uint32_t timeout = h->src->timeout_ms ? h->src->timeout_ms : 1000;
	int own = host_own(h);

	for (struct chan *ch = s->chans; ch; ch = ch->next) {
		if (ch->family == family && ch->version == (int)c->version &&
		    (int)ch->own == own && ch->timeout_ms == timeout &&
		    ch->retries == c->retries && ch->n_hosts < CHAN_HOSTS && ch->live &&
		    ch->bound == h->bound && ch->src_addr == h->src_addr) {
			*out = ch;
			return 0;
		}
	}
	return chan_open(s, family, (int)c->version, own, timeout, c->retries, h, out);
}

/* Arms the channel's timer for net-snmp's earliest retransmission or
 * timeout; nothing outstanding, no timer. */
static void chan_rearm(struct chan *c)
{
	struct vgl_snmp *s = c->s;
	struct timeval tv = { 0, 0 };
	int numfds = 0, block = 1;
	uint64_t ms;

	if (s->closing || !c->live)
		return;
	if (c->outstanding == 0) {
		uv_timer_stop(&c->timer);
		return;
	}
	if (c->own) {
		/* The FIFO's head is the earliest deadline; one still being
		 * sent (UINT64_MAX) waits for tx_flush to re-arm. */
		uint64_t now = mono_ms();
		if (!c->fifo || c->fifo->deadline == UINT64_MAX)
			return;
		ms = c->fifo->deadline > now ? c->fifo->deadline - now + 1 : 0;
		uv_timer_start(&c->timer, on_chan_timer, ms, 0);
		return;
	}
	snmp_sess_select_info2_flags(c->sessp, &numfds, &s->fds, &tv, &block,
				     NETSNMP_SELECT_NOALARMS);
	NETSNMP_LARGE_FD_CLR(c->fd, &s->fds);
	if (block) {
		uv_timer_stop(&c->timer);
		return;
	}
	/* Rounded up, plus one: firing a hair early would find nothing due. */
	ms = (uint64_t)tv.tv_sec * 1000 + ((uint64_t)tv.tv_usec + 999) / 1000 + 1;
	uv_timer_start(&c->timer, on_chan_timer, ms, 0);
}

static void own_timeouts(struct chan *c);

static void on_chan_timer(uv_timer_t *t)
{
	struct chan *c = t->data;
	struct vgl_snmp *s = c->s;

	if (s->closing || !c->live)
		return;
	/* Answers that arrived in time may be waiting, for the read tick or
	 * behind a loop that stalled (libuv runs timers before it polls the
	 * sockets): take them before their requests time out. A v2c
	 * channel's timer also fires early for a head answered since; then
	 * nothing is due and the socket is left to its poll. */
	if (c->paused || !c->own || (c->fifo && c->fifo->deadline <= mono_ms())) {
		chan_read(c);
		if (s->closing || !c->live)
			return;
	}
	if (c->own)
		own_timeouts(c);
	else
		snmp_sess_timeout(c->sessp);
	drain(s);
	if (!s->closing)
		chan_rearm(c);
}

/* Stops watching the socket for READ_DELAY_MS: answers are coming (a
 * batch was just sent, or the first answer is in), and reading them in
 * one go later costs one wakeup instead of one per answer. The read tick
 * reads the socket and watches it again. */
static void chan_pause(struct chan *c)
{
	struct vgl_snmp *s = c->s;

	if (c->paused) {
		/* still to be read by the tick running now: too early for
		 * what was just sent, so it pauses again after that read */
		if (c->ticking)
			c->pause_again = 1;
		return;
	}
	uv_poll_stop(&c->poll);
	c->paused = 1;
	c->next_paused = s->paused;
	s->paused = c;
	if (!uv_is_active((uv_handle_t *)&s->rtick))
		uv_timer_start(&s->rtick, on_read_tick, READ_DELAY_MS, 0);
}

/* ---- responses ------------------------------------------------------------ */

static int same_source(const struct host *h, const netsnmp_pdu *pdu)
{
	if (!pdu->transport_data)
		return 1;
	if (h->addr.sa.sa_family == AF_INET &&
	    pdu->transport_data_length == (int)sizeof(netsnmp_indexed_addr_pair)) {
		const netsnmp_indexed_addr_pair *ap = pdu->transport_data;
		return ap->remote_addr.sin.sin_family == AF_INET &&
		       ap->remote_addr.sin.sin_addr.s_addr == h->addr.in.sin_addr.s_addr &&
		       ap->remote_addr.sin.sin_port == h->addr.in.sin_port;
	}
	if (h->addr.sa.sa_family == AF_INET6 &&
	    pdu->transport_data_length == (int)sizeof(struct sockaddr_in6)) {
		const struct sockaddr_in6 *a = pdu->transport_data;
		return !memcmp(&a->sin6_addr, &h->addr.in6.sin6_addr, sizeof(a->sin6_addr)) &&
		       a->sin6_port == h->addr.in6.sin6_port;
	}
	return 1;
}

/* The source address of a datagram net-snmp read (chan_recv's forms), for
 * logs; NULL when it has none. */
static const union sockaddr_u *pdu_source(const netsnmp_pdu *pdu, union sockaddr_u *out)
{
	memset(out, 0, sizeof(*out));
	if (pdu->transport_data &&
	    pdu->transport_data_length == (int)sizeof(netsnmp_indexed_addr_pair)) {
		out->in = ((const netsnmp_indexed_addr_pair *)pdu->transport_data)->remote_addr.sin;
		return out;
	}
	if (pdu->transport_data && pdu->transport_data_length == (int)sizeof(struct sockaddr_in6)) {
		out->in6 = *(const struct sockaddr_in6 *)pdu->transport_data;
		return out;
	}
	return NULL;
}

static int value_of(const netsnmp_variable_list *v, double *out)
{
	switch (v->type) {
	case ASN_INTEGER:
		*out = (double)*v->val.integer;
		return 0;
	case ASN_COUNTER:
	case ASN_GAUGE:         /* also Unsigned32 */
	case ASN_TIMETICKS:
	case ASN_UINTEGER:
		*out = (double)(uint32_t)*v->val.integer;
		return 0;
	case ASN_COUNTER64:
		*out = (double)(((uint64_t)v->val.counter64->high << 32) |
				(uint64_t)(uint32_t)v->val.counter64->low);
		return 0;
	default:
		return -1;
	}
}

int vgl_snmp_var_number(const netsnmp_variable_list *v, double *out)
{
	return value_of(v, out);
}

static const char *type_name(u_char t)
{
	switch (t) {
	case ASN_OCTET_STR: return "OCTET STRING";
	case ASN_OBJECT_ID: return "OBJECT IDENTIFIER";
	case ASN_IPADDRESS: return "IpAddress";
	case ASN_NULL: return "NULL";
	case ASN_OPAQUE: return "Opaque";
	case ASN_BIT_STR: return "BITS";
	default: return "unexpected type";
	}
}

/* The error-status of a GET's answer. 1 when it settles the request (values
 * set, or the request split and queued again), 0 when the varbinds hold the
 * values. */
static int got_status(struct vgl_snmp *s, struct req *r, long errstat, long errindex)
{
	struct poll *p = r->p;
	struct host *h = p->h;

	if (errstat == SNMP_ERR_TOOBIG && r->count > 1) {
		uint32_t half = r->count / 2;
		host_log(h, VGL_LOG_DEBUG, "tooBig for %u OIDs, splitting", (unsigned)r->count);
		p->answered = 1;
		queue_gets(s, p, r->first, half);
		queue_gets(s, p, r->first + half, r->count - half);
		return 1;
	}
	if (errstat == SNMP_ERR_AUTHORIZATIONERROR) {
		set_range(p, r->first, r->count, VGL_Q_AUTH);
		poll_note(p, "authorizationError");
		return 1;
	}
	p->answered = 1;
	if (errstat != SNMP_ERR_NOERROR) {
		const char *e = errstat > 0 && errstat <= SNMP_ERR_INCONSISTENTNAME
					? snmp_errstring((int)errstat) : "(unknown)";
		set_range(p, r->first, r->count, VGL_Q_ERROR);
		poll_note(p, "error-status %s (index %ld)", e, errindex);
		host_log(h, VGL_LOG_DEBUG, "error-status %s (index %ld)", e, errindex);
		return 1;
	}
	return 0;
}

/* r's answer does not name what r asked (other OIDs, in another order,
 * more or fewer): it is not this request's answer, whoever sent it. It
 * got this far with the request's id, host address and community, so it
 * is most likely the agent's own malformed answer, and waiting longer
 * would not bring a better one: the request fails now, with the reason,
 * and none of the answer's values are taken (nor does it count as the
 * host answering). */
static void got_unasked(struct req *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void got_unasked(struct req *r, const char *fmt, ...)
{
	struct poll *p = r->p;
	char msg[DETAIL_LEN];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	host_bad_answer(p->h, "%s; answer not taken", msg);
	set_range(p, r->first, r->count, VGL_Q_ERROR);
	poll_note(p, "%s", msg);
}

/* Answer varbind i of request r named another OID than asked. */
static void got_wrong_oid(struct req *r, uint32_t i, const char *got)
{
	const struct vgl_conf_metric *mi = hmetric(r->p->h, r->first + i);

	got_unasked(r, "OID mismatch in answer: varbind %u is %s, asked %s", (unsigned)i, got,
		    mi->text ? mi->text : mi->name);
}

/* Answer varbind i of request r is not a number: why says what is wrong
 * with a numeric type, NULL for another type. */
static void got_not_number(struct req *r, uint32_t i, unsigned type, const char *why)
{
	struct poll *p = r->p;
	const char *name = hmetric(p->h, r->first + i)->name;

	if (why) {
		host_bad_answer(p->h, "%s: %s", name, why);
		poll_note(p, "%s: %s", name, why);
	} else {
		host_bad_answer(p->h, "%s: %s is not a number", name, type_name((u_char)type));
		poll_note(p, "%s: %s is not a number", name, type_name((u_char)type));
	}
	p->values[r->first + i].q = VGL_Q_ERROR;
	p->values[r->first + i].v = 0;
	p->any_error = 1;
}

/* The value of answer varbind i of request r: type is its tag (net-snmp's
 * ASN_ and SNMP_ type codes are the BER tags), numeric says whether v holds
 * its number. */
static void got_value(struct req *r, uint32_t i, unsigned type, int numeric, double v)
{
	struct vgl_value *out = &r->p->values[r->first + i];

	switch (type) {
	case SNMP_NOSUCHOBJECT:
	case SNMP_NOSUCHINSTANCE:
	case SNMP_ENDOFMIBVIEW:
		out->q = VGL_Q_ABSENT;
		return;
	}
	if (numeric) {
		out->q = VGL_Q_OK;
		out->v = v;
		return;
	}
	got_not_number(r, i, type, NULL);
}

/* "1.3.6.1.2.1.1.3.0" from the arcs, by hand rather than snprint_objid:
 * net-snmp's MIB tree is global and not thread-safe, and a SIGHUP reload
 * loads MIB modules into it from a worker thread while this loop thread
 * polls, so the loop never reads the tree. Truncated to fit buf. */
static void oid_text(const oid *name, size_t len, char *buf, size_t cap)
{
	size_t used = 0;

	if (cap == 0)
		return;
	buf[0] = '\0';
	for (size_t i = 0; i < len; i++) {
		int n = snprintf(buf + used, cap - used, "%s%lu", i ? "." : "",
				 (unsigned long)name[i]);
		if (n < 0 || (size_t)n >= cap - used)
			return;
		used += (size_t)n;
	}
}

/* A GET's answer through net-snmp (v3, or v2c with engine "net-snmp"):
 * values in, or the reason they are missing. The names are checked first,
 * as in own_response (a GET's answer echoes them, a tooBig one may carry
 * none): an answer naming anything else is not this request's. */
static void got_response(struct vgl_snmp *s, struct req *r, netsnmp_pdu *pdu)
{
	netsnmp_variable_list *v;
	uint32_t i;

	for (i = 0, v = pdu->variables; v; i++, v = v->next_variable) {
		const struct vgl_snmp_metric *mi;

		if (i == r->count) {
			got_unasked(r, "varbind count mismatch in answer: more than the %u asked",
				    (unsigned)r->count);
			return;
		}
		mi = vgl_snmp_metric_of(hmetric(r->p->h, r->first + i));
		if (v->name_length != mi->oid_len ||
		    snmp_oid_compare(v->name, v->name_length, mi->oid, mi->oid_len) != 0) {
			char got[96];
			oid_text(v->name, v->name_length, got, sizeof(got));
			got_wrong_oid(r, i, got);
			return;
		}
	}
	if (i < r->count && !(i == 0 && pdu->errstat == SNMP_ERR_TOOBIG)) {
		got_unasked(r, "varbind count mismatch in answer: %u of the %u asked", (unsigned)i,
			    (unsigned)r->count);
		return;
	}
	if (got_status(s, r, pdu->errstat, pdu->errindex))
		return;
	for (i = 0, v = pdu->variables; v; i++, v = v->next_variable) {
		double x = 0;
		int numeric = value_of(v, &x) == 0;     /* before x is read */
		got_value(r, i, v->type, numeric, x);
	}
}

static void got_probe_report(struct vgl_snmp *s, struct req *r, netsnmp_pdu *pdu)
{
	struct poll *p = r->p;
	struct host *h = p->h;
	uint32_t n = (uint32_t)h->src->n_metrics;
	u_char *eid;

	if (pdu->securityEngineIDLen == 0 || pdu->securityEngineIDLen > SNMP_MAX_ENG_SIZE) {
		host_bad_answer(h, "engineID discovery: report without a usable engineID");
		set_range(p, 0, n, VGL_Q_ERROR);
		poll_note(p, "engineID discovery failed");
		return;
	}
	eid = malloc(pdu->securityEngineIDLen);
	if (!eid) {
		set_range(p, 0, n, VGL_Q_ERROR);
		poll_note(p, "out of memory");
		return;
	}
	memcpy(eid, pdu->securityEngineID, pdu->securityEngineIDLen);
	if (cred_localize(h->cred, eid, pdu->securityEngineIDLen) != 0) {
		free(eid);
		set_range(p, 0, n, VGL_Q_ERROR);
		poll_note(p, "cannot localize v3 keys");
		host_log(h, VGL_LOG_WARNING, "cannot localize v3 keys for the agent's engineID");
		return;
	}
	free(h->engine_id);
	h->engine_id = eid;
	h->engine_id_len = pdu->securityEngineIDLen;
	host_log(h, VGL_LOG_DEBUG, "engineID learnt (%zu bytes)", h->engine_id_len);
	queue_gets(s, p, 0, n);
}

static void got_sec_error(struct req *r, netsnmp_pdu *pdu)
{
	struct poll *p = r->p;
	struct host *h = p->h;
	int ctr = pdu ? report_counter(pdu) : 0;

	if (ctr == USM_STATS_UNKNOWN_ENGINE_IDS) {
		/* The agent's engineID changed (a new agent on the address):
		 * forget it, the next poll discovers it again. */
		free(h->engine_id);
		h->engine_id = NULL;
		h->engine_id_len = 0;
		set_range(p, r->first, r->count, VGL_Q_ERROR);
		poll_note(p, "agent engineID changed");
		return;
	}
	set_range(p, r->first, r->count, VGL_Q_AUTH);
	switch (ctr) {
	case 1: poll_note(p, "v3: unsupported security level"); break;
	case 2: poll_note(p, "v3: not in time window"); break;
	case 3: poll_note(p, "v3: unknown user name"); break;
	case 5: poll_note(p, "v3: authentication failure (wrong digest)"); break;
	case 6: poll_note(p, "v3: decryption error"); break;
	default: poll_note(p, "v3: security error"); break;
	}
}

static void got_report(struct vgl_snmp *s, struct req *r, netsnmp_pdu *pdu)
{
	struct poll *p = r->p;

	if (r->kind == REQ_PROBE && pdu->command == SNMP_MSG_REPORT) {
		got_probe_report(s, r, pdu);
	} else if (r->kind == REQ_PROBE) {
		set_range(p, 0, (uint32_t)p->h->src->n_metrics, VGL_Q_AUTH);
		poll_note(p, "engineID discovery: security error");
	} else {
		got_sec_error(r, pdu);
	}
}

static int on_pdu(int op, netsnmp_session *sess, int reqid, netsnmp_pdu *pdu, void *magic)
{
	struct req *r = magic;
	struct poll *p;
	struct vgl_snmp *s;
	struct host *h;

	(void)sess; (void)reqid;
	if (!r)
		return 1;
	if (r->in_send)         /* failure inside snmp_sess_async_send: send_req handles it */
		return 1;
	p = r->p;
	h = p->h;
	s = h->s;
	if (s->closing) {
		/* snmp_sess_close reports each outstanding request as timed
		 * out; the poll is freed by vgl_snmp_close. */
		if (op == NETSNMP_CALLBACK_OP_TIMED_OUT || op == NETSNMP_CALLBACK_OP_SEND_FAILED) {
			ring_release(h->chan, r);
			req_free(r);
		}
		return 1;
	}
	switch (op) {
	case NETSNMP_CALLBACK_OP_RECEIVED_MESSAGE:
		if (pdu->command == SNMP_MSG_REPORT) {
			if (r->report_seen)
				break;          /* after OP_SEC_ERROR: final */
			if (snmpv3_get_report_type(pdu) == SNMPERR_NOT_IN_TIME_WINDOW) {
				/* net-snmp resends with the time it just learnt */
				r->nit_seen = 1;
				return 1;
			}
			got_report(s, r, pdu);
			r->report_seen = 1;
			return 1;               /* OP_SEC_ERROR follows: final */
		}
		/* As in own_answer: from the host's address and with the
		 * request's community, or not the answer (net-snmp itself
		 * checks neither for v1/v2c). 0 leaves the request in
		 * net-snmp's list, waiting for the real one. */
		if (!same_source(h, pdu)) {
			union sockaddr_u from;
			host_rejected(h, pdu_source(pdu, &from), "not the host's address");
			return 0;
		}
		if (h->snmp->version == VGL_SNMP_V2C &&
		    (pdu->community_len != h->comm_len ||
		     (h->comm_len && memcmp(pdu->community, h->comm, h->comm_len) != 0))) {
			union sockaddr_u from;
			host_rejected(h, pdu_source(pdu, &from), "community differs from the request's");
			return 0;
		}
		if (h->snmp->version == VGL_SNMP_V2C && pdu->version != SNMP_VERSION_2c) {
			host_bad_answer(h, "answer in SNMP version %ld, not v2c", pdu->version);
			set_range(p, r->first, r->count, VGL_Q_ERROR);
			poll_note(p, "unexpected answer");
		} else if (pdu->command != SNMP_MSG_RESPONSE) {
			host_bad_answer(h, "unexpected PDU type 0x%02x", (unsigned)pdu->command);
			set_range(p, r->first, r->count, VGL_Q_ERROR);
			poll_note(p, "unexpected PDU type");
		} else if (r->kind == REQ_PROBE) {
			host_bad_answer(h, "engineID discovery: response instead of a report");
			set_range(p, 0, (uint32_t)h->src->n_metrics, VGL_Q_ERROR);
			poll_note(p, "engineID discovery failed");
		} else {
			got_response(s, r, pdu);
		}
		break;
	case NETSNMP_CALLBACK_OP_SEC_ERROR:
		if (!r->report_seen && pdu)
			got_report(s, r, pdu);
		if (!r->report_seen && !r->nit_seen) {
			r->report_seen = 1;
			return 1;               /* OP_RECEIVED_MESSAGE follows: final */
		}
		break;
	case NETSNMP_CALLBACK_OP_TIMED_OUT:
		if (r->kind == REQ_PROBE)
			set_range(p, 0, (uint32_t)h->src->n_metrics, VGL_Q_TIMEOUT);
		else
			set_range(p, r->first, r->count, VGL_Q_TIMEOUT);
		poll_note(p, "no answer after %u x %u ms", (unsigned)h->snmp->retries + 1,
			  (unsigned)h->chan->timeout_ms);
		break;
	case NETSNMP_CALLBACK_OP_SEND_FAILED:
		set_range(p, r->first, r->count, VGL_Q_ERROR);
		poll_note(p, "send failed: %s", strerror(sess && sess->s_errno ? sess->s_errno : EIO));
		break;
	default:                /* OP_RESEND and the like: not final */
		return 1;
	}
	if (h->chan->outstanding > 0)
		h->chan->outstanding--;
	ring_release(h->chan, r);
	req_end(s, r);
	return 1;
}

/* ---- v2c engine ------------------------------------------------------------- */

static int tx_alloc(struct vgl_snmp *s)
{
	if (!s->tx && !(s->tx = calloc(1, sizeof(*s->tx))))
		return -ENOMEM;
	return 0;
}

/* The varbinds of a source's metrics, built once per source (a template's
 * is shared by its hosts). */
static int penc_for(struct vgl_snmp *s, const struct vgl_conf_profile *pr,
		    const struct vgl_conf_source *src, const struct penc **out)
{
	size_t n = src->n_metrics, cap = n * (VGL_BER_OID_MAX + 16), used = 0;
	uint8_t oid[VGL_BER_OID_MAX];
	struct penc *e;
	uint8_t *shrunk;
	int rv = -ENOMEM;

	for (e = s->pencs; e; e = e->next) {
		if (e->src == src) {
			*out = e;
			return 0;
		}
	}
	e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	e->vb = calloc(n + 1, sizeof(*e->vb));
	e->blob = malloc(cap);
	if (!e->vb || !e->blob)
		goto out_free;
	for (size_t i = 0; i < n; i++) {
		const struct vgl_conf_metric *m = &pr->metrics[src->metrics[i]];
		const struct vgl_snmp_metric *sm = vgl_snmp_metric_of(m);
		int ol = vgl_ber_oid_encode(sm->oid, sm->oid_len, oid, sizeof(oid));
		int vl = ol < 0 ? -1 : vgl_ber_vb_null(oid, (size_t)ol, e->blob + used, cap - used);

		if (vl < 0) {
			vgl_err("snmp: metric %s: OID %s cannot be encoded", m->name,
				m->text ? m->text : "?");
			rv = -EINVAL;
			goto out_free;
		}
		e->vb[i].at = (uint32_t)used;
		/* the varbind ends with the OID's contents and a NULL (05 00) */
		e->vb[i].oid_at = (uint32_t)(used + (size_t)vl - 2 - (size_t)ol);
		e->vb[i].oid_len = (uint32_t)ol;
		used += (size_t)vl;
	}
	e->vb[n].at = (uint32_t)used;
	shrunk = realloc(e->blob, used ? used : 1);
	if (shrunk)
		e->blob = shrunk;
	e->src = src;
	e->next = s->pencs;
	s->pencs = e;
	*out = e;
	return 0;

out_free:
	free(e->blob);
	free(e->vb);
	free(e);
	return rv;
}

/* Doubles the request-id ring (or makes the first). Ids in flight are
 * distinct modulo the old size, so they are modulo the new one too. */
static int ring_grow(struct chan *c)
{
	uint32_t size = c->ring ? (c->ring_mask + 1) * 2 : RING_MIN;
	struct req **nr = calloc(size, sizeof(*nr));

	if (!nr)
		return -ENOMEM;
	if (c->ring) {
		for (uint32_t i = 0; i <= c->ring_mask; i++)
			if (c->ring[i])
				nr[(uint32_t)c->ring[i]->id & (size - 1)] = c->ring[i];
	}
	free(c->ring);
	c->ring = nr;
	c->ring_mask = size - 1;
	return 0;
}

/* Gives r a random request-id whose ring slot is free and takes the slot.
 *
 * Ids come from collectors/reqid.c, so consecutive requests on a socket
 * carry unrelated ids and no agent can tell its neighbours' from its own.
 * The slot is the id's low bits; an id whose slot is taken is drawn again.
 * The ring is kept at most half full, so that takes two draws at most on
 * average; after 32 misses (odds under 2^-32) the nearest free slot is
 * taken with the last draw's high bits, which keeps this O(1) in practice
 * and bounded always.
 *
 * What an agent on the channel still learns from an id: nothing about the
 * next ones (a PRF's outputs), and only that its slot was free at the time
 * (a few bits about which requests were in flight then, of no use for
 * guessing a later id). Blind forgery of a neighbour's answer needs a
 * 31-bit guess per datagram, spoofed from the neighbour's address and
 * port, while the request is in flight. */
static int ring_claim(struct chan *c, struct req *r)
{
	uint32_t id = 0, slot;

	if ((c->ring_used + 1) * 2 > c->ring_mask + 1 && ring_grow(c) < 0)
		return -ENOMEM;
	for (int tries = 0; tries < 32; tries++) {
		id = vgl_reqid_next();
		if (!c->ring[id & c->ring_mask])
			goto found;
	}
	slot = id & c->ring_mask;
	while (c->ring[slot])
		slot = (slot + 1) & c->ring_mask;
	id = (id & ~c->ring_mask) | slot;
	if (id == 0)            /* slot 0 with no high bits: any other will do */
		id = c->ring_mask + 1;
found:
	r->id = (int32_t)id;
	c->ring[id & c->ring_mask] = r;
	r->in_ring = 1;
	c->ring_used++;
	return 0;
}

static void ring_release(struct chan *c, struct req *r)
{
	if (!r->in_ring)
		return;
	c->ring[(uint32_t)r->id & c->ring_mask] = NULL;
	r->in_ring = 0;
	c->ring_used--;
}

/* Gives r its request-id and puts it in flight. */
static int own_track(struct chan *c, struct req *r)
{
	if (ring_claim(c, r) < 0)
		return -ENOMEM;
	r->in_flight = 1;
	r->tries = 0;
	r->fprev = c->fifo_tail;
	r->fnext = NULL;
	if (c->fifo_tail)
		c->fifo_tail->fnext = r;
	else
		c->fifo = r;
	c->fifo_tail = r;
	c->outstanding++;
	return 0;
}

static void fifo_unlink(struct chan *c, struct req *r)
{
	if (r->fprev)
		r->fprev->fnext = r->fnext;
	else
		c->fifo = r->fnext;
	if (r->fnext)
		r->fnext->fprev = r->fprev;
	else
		c->fifo_tail = r->fprev;
	r->fnext = r->fprev = NULL;
}

/* Takes r out of flight: no answer or timeout reaches it any more. */
static void own_forget(struct chan *c, struct req *r)
{
	if (!r->in_flight)
		return;
	ring_release(c, r);
	fifo_unlink(c, r);
	r->in_flight = 0;
	c->outstanding--;
}

/* Ends a request that will not be answered, with quality q. */
static void own_fail(struct chan *c, struct req *r, enum vgl_quality q)
{
	own_forget(c, r);
	set_range(r->p, r->first, r->count, q);
	req_end(c->s, r);
}

/* Sends the batch with as few sendmmsg() calls as the kernel allows. A
 * full socket buffer leaves the rest in flight for their retransmission;
 * a message the kernel refuses (no route, ...) fails its request. Then the
 * channel is read READ_DELAY_MS later: the answers are on their way. */
static void tx_flush(struct vgl_snmp *s)
{
	struct txbatch *t = s->tx;
	struct chan *c = t->chan;
	uint64_t deadline = mono_ms() + c->timeout_ms;
	unsigned k = 0, n = t->n;

	t->n = 0;
	t->used = 0;
	t->chan = NULL;
	/* Deadlines from the time of sending: the loop's clock may be old. */
	for (unsigned i = 0; i < n; i++) {
		t->req[i]->deadline = deadline;
		t->req[i]->unsent = 0;
	}
	while (k < n) {
		int sent = sendmmsg(c->fd, t->msgs + k, n - k, 0);

		if (sent > 0) {
			k += (unsigned)sent;
			continue;
		}
		if (sent < 0 && errno == EINTR)
			continue;
		if (sent < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS)) {
			host_log(t->req[k]->p->h, VGL_LOG_DEBUG,
				 "socket buffer full: %u request(s) left to retransmission", n - k);
			/* a last attempt never sent is a send failure, not a timeout */
			for (unsigned i = k; i < n; i++)
				t->req[i]->unsent = 1;
			break;
		} else {
			struct req *r = t->req[k++];
			int e = sent < 0 ? errno : EIO;

			poll_note(r->p, "send: %s", strerror(e));
			host_log(r->p->h, VGL_LOG_DEBUG, "send failed: %s", strerror(e));
			own_fail(c, r, VGL_Q_ERROR);
		}
	}
	if (!s->closing && c->live) {
		if (!uv_is_active((uv_handle_t *)&c->timer))
			chan_rearm(c);
		chan_pause(c);
	}
}

/* Encodes the next attempt of r (in flight on c) into the send batch. */
static int tx_add(struct vgl_snmp *s, struct chan *c, struct req *r)
{
	struct txbatch *t = s->tx;
	struct host *h = r->p->h;
	const struct penc *e = h->enc;
	const uint8_t *vbs = e->blob + e->vb[r->first].at;
	size_t vbs_len = e->vb[r->first + r->count].at - e->vb[r->first].at;
	unsigned i;
	int len;

	if (t->n && (t->chan != c || t->n == TX_BATCH))
		tx_flush(s);
	for (;;) {
		len = vgl_ber_get_request((const uint8_t *)h->comm, h->comm_len, r->id, vbs,
					  vbs_len, t->buf + t->used, TX_ARENA - t->used);
		if (len >= 0 || t->n == 0)
			break;
		tx_flush(s);
	}
	if (len < 0)
		return -1;
	i = t->n++;
	t->chan = c;
	t->iov[i].iov_base = t->buf + t->used;
	t->iov[i].iov_len = (size_t)len;
	memset(&t->msgs[i], 0, sizeof(t->msgs[i]));
	t->msgs[i].msg_hdr.msg_name = &h->addr;
	t->msgs[i].msg_hdr.msg_namelen = h->addr.sa.sa_family == AF_INET6
						 ? sizeof(h->addr.in6) : sizeof(h->addr.in);
	t->msgs[i].msg_hdr.msg_iov = &t->iov[i];
	t->msgs[i].msg_hdr.msg_iovlen = 1;
	t->req[i] = r;
	t->used += (size_t)len;
	r->tries++;
	/* set when sent: until then no timeout can take it */
	r->deadline = UINT64_MAX;
	return 0;
}

/* First attempt of a v2c GET. */
static void own_send(struct vgl_snmp *s, struct req *r)
{
	struct chan *c = r->p->h->chan;

	if (own_track(c, r) < 0) {
		poll_note(r->p, "out of memory");
		set_range(r->p, r->first, r->count, VGL_Q_ERROR);
		req_end(s, r);
		return;
	}
	if (tx_add(s, c, r) < 0) {
		poll_note(r->p, "request for %u OIDs does not fit in %d bytes",
			  (unsigned)r->count, TX_ARENA);
		own_fail(c, r, VGL_Q_ERROR);
	}
}

/* Requests whose attempt is overdue: sent again, or timed out after their
 * last. The FIFO is in deadline order, so only its head is looked at. */
static void own_timeouts(struct chan *c)
{
	struct vgl_snmp *s = c->s;
	uint64_t now = mono_ms();
	struct req *r;

	while ((r = c->fifo) && r->deadline <= now) {
		if (r->tries <= c->retries) {
			fifo_unlink(c, r);
			r->fprev = c->fifo_tail;
			if (c->fifo_tail)
				c->fifo_tail->fnext = r;
			else
				c->fifo = r;
			c->fifo_tail = r;
			if (tx_add(s, c, r) < 0)        /* it fitted before */
				own_fail(c, r, VGL_Q_ERROR);
			continue;
		}
		if (r->unsent) {
			poll_note(r->p, "send: socket buffer full");
			own_fail(c, r, VGL_Q_ERROR);
			continue;
		}
		poll_note(r->p, "no answer after %u x %u ms", (unsigned)r->tries,
			  (unsigned)c->timeout_ms);
		own_fail(c, r, VGL_Q_TIMEOUT);
	}
}


static int numeric_tag(unsigned t)
{
	return t == VGL_BER_INTEGER || t == VGL_BER_COUNTER32 || t == VGL_BER_GAUGE32 ||
	       t == VGL_BER_TIMETICKS || t == VGL_BER_COUNTER64 || t == VGL_BER_UINTEGER32;
}

/* The varbinds of a v2c answer to r, against what r asked.
 *
 * One pass, no allocation: each name is checked against the request's as
 * its value is read. An answer whose names are not the request's, in
 * order and number (a GET's answer echoes them; a tooBig one may carry
 * none, RFC 3416 4.2.1), is not this request's answer, whoever sent it:
 * values read so far are overwritten and the request fails (got_unasked).
 * So a value that is not a number is only reported once the whole list
 * has passed, and only the first of an answer (the rest are errors too,
 * unlogged): a complaint about an answer then rejected would mislead. */
static void own_response(struct vgl_snmp *s, struct req *r, const struct vgl_ber_msg *m)
{
	struct poll *p = r->p;
	struct host *h = p->h;
	const struct penc *e = h->enc;
	const uint8_t *pos = m->vbs, *end = m->vbs + m->vbs_len;
	/* values are read from a noError answer only */
	int take = m->error_status == SNMP_ERR_NOERROR;
	uint32_t bad = UINT32_MAX;
	unsigned bad_type = 0;
	const char *bad_why = NULL;
	struct vgl_ber_vb vb;
	const char *why;
	uint32_t i;

	if (m->error_status == SNMP_ERR_TOOBIG && m->vbs_len == 0) {
		(void)got_status(s, r, (long)m->error_status, (long)m->error_index);
		return;
	}
	for (i = 0;; i++) {
		const struct penc_vb *want;
		double x = 0;
		int rc = vgl_ber_vb_next(&pos, end, &vb, &why);

		if (rc == 0)
			break;
		if (rc < 0) {
			got_unasked(r, "malformed varbind %u in answer: %s", (unsigned)i, why);
			return;
		}
		if (i == r->count) {
			got_unasked(r, "varbind count mismatch in answer: more than the %u asked",
				    (unsigned)r->count);
			return;
		}
		want = &e->vb[r->first + i];
		if (vb.oid_len != want->oid_len ||
		    memcmp(vb.oid, e->blob + want->oid_at, vb.oid_len) != 0) {
			char got[96];
			vgl_ber_oid_text(vb.oid, vb.oid_len, got, sizeof(got));
			got_wrong_oid(r, i, got);
			return;
		}
		if (!take)
			continue;
		if (vgl_ber_vb_number(&vb, &x, &why) == 0) {
			got_value(r, i, vb.type, 1, x);
		} else if (vb.type == VGL_BER_NOSUCHOBJECT || vb.type == VGL_BER_NOSUCHINSTANCE ||
			   vb.type == VGL_BER_ENDOFMIBVIEW) {
			got_value(r, i, vb.type, 0, 0);
		} else {
			p->values[r->first + i].q = VGL_Q_ERROR;
			p->values[r->first + i].v = 0;
			if (bad == UINT32_MAX) {
				bad = i;
				bad_type = vb.type;
				bad_why = numeric_tag(vb.type) ? why : NULL;
			}
		}
	}
	if (i < r->count) {
		got_unasked(r, "varbind count mismatch in answer: %u of the %u asked", (unsigned)i,
			    (unsigned)r->count);
		return;
	}
	if (got_status(s, r, (long)m->error_status, (long)m->error_index))
		return;
	if (bad != UINT32_MAX)
		got_not_number(r, bad, bad_type, bad_why);
}

/* One datagram on a v2c channel. In order: it must decode, name a
 * request in flight (by its random id), come from that request's host
 * (address and port) and carry that request's community; failing any of
 * these it is not the answer and the request keeps waiting. Then it must
 * be a v2c Response naming the request's OIDs (own_response); failing
 * that it is the answer, malformed, and the request fails. */
static void own_answer(struct chan *c, const uint8_t *buf, size_t len,
		       const union sockaddr_u *from)
{
	struct vgl_ber_msg m;
	const char *why;
	struct req *r;
	struct host *h;

	if (vgl_ber_msg_parse(buf, len, &m, &why) != 0) {
		h = host_at(c, from);
		if (h)
			host_bad_answer(h, "undecodable answer (%zu bytes): %s", len, why);
		else
			vgl_debug("snmp: undecodable datagram (%zu bytes) from an unknown address: %s",
				  len, why);
		return;
	}
	r = c->ring[(uint32_t)m.request_id & c->ring_mask];
	if (!r || r->id != m.request_id) {
		/* An answer after its request timed out, a duplicate (an agent
		 * answering both attempts), or not ours: nothing waits for it.
		 * Common under load, so only named at debug level. */
		if (!vgl_log_debug_enabled())
			return;
		h = host_at(c, from);
		if (h)
			host_log(h, VGL_LOG_DEBUG, "answer to no request in flight (id %ld) ignored",
				 (long)m.request_id);
		return;
	}
	h = r->p->h;
	if (!same_addr(&h->addr, from)) {
		host_rejected(h, from, "not the host's address");
		return;
	}
	/* An agent answers with the community it was asked with; another
	 * one means the datagram was made by someone else (or by an agent
	 * that should not be trusted with this host's polls). */
	if (m.community_len != h->comm_len || memcmp(m.community, h->comm, h->comm_len) != 0) {
		host_rejected(h, from, "community differs from the request's");
		return;
	}
	own_forget(c, r);
	if (m.version != VGL_BER_VERSION_2C || m.pdu_type != VGL_BER_RESPONSE) {
		if (m.version != VGL_BER_VERSION_2C)
			host_bad_answer(h, "answer in SNMP version field %lld, not v2c (1)",
					(long long)m.version);
		else
			host_bad_answer(h, "unexpected PDU type 0x%02x", (unsigned)m.pdu_type);
		set_range(r->p, r->first, r->count, VGL_Q_ERROR);
		poll_note(r->p, "unexpected answer");
	} else {
		own_response(c->s, r, &m);
	}
	req_end(c->s, r);
}

/* ---- sending --------------------------------------------------------------- */

static netsnmp_pdu *build_pdu(struct host *h, const struct req *r)
{
	const struct vgl_snmp_source *c = h->snmp;
	netsnmp_pdu *pdu = snmp_pdu_create(SNMP_MSG_GET);

	if (!pdu)
		return NULL;
	if (h->addr.sa.sa_family == AF_INET6) {
		pdu->transport_data = malloc(sizeof(struct sockaddr_in6));
		if (!pdu->transport_data)
			goto out_free_pdu;
		memcpy(pdu->transport_data, &h->addr.in6, sizeof(struct sockaddr_in6));
		pdu->transport_data_length = sizeof(struct sockaddr_in6);
	} else {
		netsnmp_indexed_addr_pair *ap = calloc(1, sizeof(*ap));
		if (!ap)
			goto out_free_pdu;
		ap->remote_addr.sin = h->addr.in;
		pdu->transport_data = ap;
		pdu->transport_data_length = sizeof(*ap);
	}
	if (c->version == VGL_SNMP_V3) {
		const char *name = r->kind == REQ_PROBE ? "" : c->user;
		pdu->version = SNMP_VERSION_3;
		pdu->securityModel = SNMP_SEC_MODEL_USM;
		pdu->securityLevel = r->kind == REQ_PROBE ? SNMP_SEC_LEVEL_NOAUTH
							  : SNMP_SEC_LEVEL_AUTHPRIV;
		pdu->securityName = strdup(name);
		pdu->contextName = strdup("");
		if (!pdu->securityName || !pdu->contextName)
			goto out_free_pdu;
		pdu->securityNameLen = strlen(name);
		pdu->contextNameLen = 0;
		if (r->kind == REQ_GET) {
			pdu->securityEngineID = netsnmp_memdup(h->engine_id, h->engine_id_len);
			pdu->contextEngineID = netsnmp_memdup(h->engine_id, h->engine_id_len);
			if (!pdu->securityEngineID || !pdu->contextEngineID)
				goto out_free_pdu;
			pdu->securityEngineIDLen = h->engine_id_len;
			pdu->contextEngineIDLen = h->engine_id_len;
		}
	} else {
		const char *comm = c->community ? c->community : "public";
		pdu->version = SNMP_VERSION_2c;
		pdu->community = (u_char *)strdup(comm);
		if (!pdu->community)
			goto out_free_pdu;
		pdu->community_len = strlen(comm);
	}
	for (uint32_t i = r->first; i < r->first + r->count; i++) {
		const struct vgl_snmp_metric *m = vgl_snmp_metric_of(hmetric(h, i));
		if (!snmp_add_null_var(pdu, m->oid, m->oid_len))
			goto out_free_pdu;
	}
	return pdu;

out_free_pdu:
	snmp_free_pdu(pdu);
	return NULL;
}

static void send_req(struct vgl_snmp *s, struct req *r)
{
	struct poll *p = r->p;
	struct host *h = p->h;
	struct chan *c = h->chan;
	netsnmp_session *ss;
	netsnmp_pdu *pdu;
	int rc;

	if (c->own) {
		own_send(s, r);
		return;
	}
	pdu = build_pdu(h, r);
	if (!pdu) {
		set_range(p, r->first, r->count, VGL_Q_ERROR);
		poll_note(p, "cannot build a PDU");
		req_end(s, r);
		return;
	}
	/* net-snmp's own request-ids run on by one from a start seeded with
	 * the time of day (snmp_pdu_create -> snmp_get_next_reqid), and it
	 * keeps the PDU's id for every retransmission: ours replace them, as
	 * in the v2c engine, distinct among the session's requests in flight
	 * (the ring), since net-snmp hands an answer to the first request
	 * with its id. A v3 message also carries a msgID in clear, by which
	 * net-snmp matches v3 answers; ours replaces the first attempt's, but
	 * net-snmp draws each resend's from its own counter
	 * (snmp_resend_request -> snmp_get_next_msgid), which the API offers
	 * no way to change. v3 answers are authenticated, so a guessed msgID
	 * alone forges nothing but an unauthenticated Report (docs/snmp.md). */
	if (ring_claim(c, r) < 0) {
		snmp_free_pdu(pdu);
		set_range(p, r->first, r->count, VGL_Q_ERROR);
		poll_note(p, "out of memory");
		req_end(s, r);
		return;
	}
	pdu->reqid = r->id;
	if (c->version == VGL_SNMP_V3)
		pdu->msgid = vgl_reqid_next();
	ss = snmp_sess_session(c->sessp);
	if (c->version == VGL_SNMP_V3 && ss->securityEngineIDLen) {
		/* net-snmp adopts the first Report's engineID as the session's
		 * and would stamp it on our probes; each PDU names its own. */
		SNMP_FREE(ss->securityEngineID);
		ss->securityEngineIDLen = 0;
		SNMP_FREE(ss->contextEngineID);
		ss->contextEngineIDLen = 0;
	}
	ss->flags |= SNMP_FLAGS_DONT_PROBE;
	r->in_send = 1;
	rc = snmp_sess_async_send(c->sessp, pdu, on_pdu, r);
	r->in_send = 0;
	if (rc == 0) {
		int e = ss->s_snmp_errno;
		ring_release(c, r);
		snmp_free_pdu(pdu);
		set_range(p, r->first, r->count,
			  e == SNMPERR_USM_UNKNOWNSECURITYNAME || e == SNMPERR_UNKNOWN_USER_NAME
				  ? VGL_Q_AUTH : VGL_Q_ERROR);
		poll_note(p, "send: %s", e == SNMPERR_BAD_SENDTO && ss->s_errno
					   ? strerror(ss->s_errno) : snmp_api_errstring(e));
		host_log(h, VGL_LOG_DEBUG, "send failed: %s", snmp_api_errstring(e));
		req_end(s, r);
		return;
	}
	c->outstanding++;
	if (!uv_is_active((uv_handle_t *)&c->timer))
		uv_timer_start(&c->timer, on_chan_timer, (uint64_t)c->timeout_ms + 1, 0);
	chan_pause(c);
}

/* ---- polls ----------------------------------------------------------------- */

static void start_poll(struct vgl_snmp *s, struct host *h)
{
	size_t n = h->src->n_metrics;
	/* Allocated per poll, not kept per host: a record per host would cost
	 * ~0.6 KiB per host for a malloc that tcache serves in nanoseconds. */
	struct poll *p = calloc(1, sizeof(*p) + n * sizeof(p->values[0]));

	if (!p) {
		host_log(h, VGL_LOG_ERR, "out of memory starting a poll");
		return;
	}
	p->h = h;
	p->start_ms = wall_ms();
	h->poll = p;
	s->st.in_flight++;
	for (size_t i = 0; i < n; i++)
		p->values[i].q = VGL_Q_ERROR;
	/* pending counts the setup itself so the poll cannot finish while
	 * its first PDUs are being queued. */
	p->pending = 1;
	if (!h->addr_ok) {
		set_range(p, 0, (uint32_t)n, VGL_Q_ERROR);
		poll_note(p, h->resolving ? "address not resolved yet" : "cannot resolve address");
	} else if (h->snmp->version == VGL_SNMP_V3 && !h->engine_id) {
		struct req *r = req_new(p, REQ_PROBE, 0, 0);
		if (r) {
			sendq_push(s, r);
		} else {
			set_range(p, 0, (uint32_t)n, VGL_Q_ERROR);
			poll_note(p, "out of memory");
		}
	} else {
		queue_gets(s, p, 0, (uint32_t)n);
	}
	poll_done_one(s, p);
}

static void finish_poll(struct vgl_snmp *s, struct poll *p)
{
	struct host *h = p->h;
	struct vgl_poll_result res;
	size_t n = h->src->n_metrics, ok = 0;

	res.host = h->idx;
	res.source = h->src_idx;
	res.metrics = h->src->metrics;
	res.ts_ms = p->start_ms;
	res.n_values = n;
	res.values = p->values;
	for (size_t i = 0; i < n; i++)
		ok += p->values[i].q == VGL_Q_OK;
	if (p->answered)
		res.quality = VGL_Q_OK;
	else if (p->any_auth)
		res.quality = VGL_Q_AUTH;
	else if (p->any_error)
		res.quality = VGL_Q_ERROR;
	else
		res.quality = VGL_Q_TIMEOUT;
	res.detail = p->detail[0] ? p->detail : NULL;
	res.interval_ms = h->src->interval_ms;

	/* collectd's c_complain: once when a host starts failing, once when
	 * it recovers, debug in between. */
	if (res.quality != VGL_Q_OK) {
		host_log(h, h->failing ? VGL_LOG_DEBUG : VGL_LOG_WARNING, "poll failed (%s): %s",
			 vgl_quality_name(res.quality), res.detail ? res.detail : "no detail");
		h->failing = 1;
	} else if (h->failing) {
		host_log(h, VGL_LOG_NOTICE, "answers again");
		h->failing = 0;
	}

	s->st.polls++;
	s->st.values += ok;
	if (res.quality == VGL_Q_TIMEOUT)
		s->st.timeouts++;
	s->st.in_flight--;
	h->poll = NULL;
	s->fn(s->ctx, &res);
	free(p);
}

/* Runs what net-snmp callbacks queued, delivers finished polls and starts
 * waiting ones, until nothing is left or the collector is being closed. */
static void drain(struct vgl_snmp *s)
{
	if (s->draining)
		return;
	s->draining = 1;
	while (!s->closing) {
		if (s->sendq) {
			struct req *r = s->sendq;
			s->sendq = r->next;
			if (!s->sendq)
				s->sendq_tail = NULL;
			send_req(s, r);
		} else if (s->tx && s->tx->n) {
			/* a slot's GETs go out together, before any result */
			tx_flush(s);
		} else if (s->doneq) {
			struct poll *p = s->doneq;
			s->doneq = p->next_done;
			if (!s->doneq)
				s->doneq_tail = NULL;
			finish_poll(s, p);
		} else if (s->waitq && s->st.in_flight < s->max_in_flight) {
			struct host *h = s->waitq;
			s->waitq = h->next_wait;
			if (!s->waitq)
				s->waitq_tail = NULL;
			h->queued = 0;
			h->next_wait = NULL;
			start_poll(s, h);
		} else {
			break;
		}
	}
	s->draining = 0;
}

/* Reads what the channel's socket holds, up to RECV_ROUNDS batches, and
 * hands each datagram to the v2c engine or to net-snmp. */
static void chan_read(struct chan *c)
{
	struct vgl_snmp *s = c->s;
	struct rxbatch *b = s->rx;
	netsnmp_session *ss = NULL;

	if (s->closing || !c->live)
		return;
	if (!c->own)
		ss = snmp_sess_session(c->sessp);
	/* One recvmmsg() per batch instead of a recvmsg, a getsockname and
	 * an ioctl(FIONREAD) per datagram; a short batch means the socket
	 * is drained. */
	for (int round = 0; round < RECV_ROUNDS; round++) {
		int n;

		for (int i = 0; i < RECV_BATCH; i++)
			b->msgs[i].msg_hdr.msg_namelen = sizeof(b->from[i]);
		n = recvmmsg(c->fd, b->msgs, RECV_BATCH, MSG_DONTWAIT, NULL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				vgl_log_errno(VGL_LOG_DEBUG, "snmp: recvmmsg");
			break;
		}
		b->chan = c;
		b->n = n;
		b->next = 0;
		for (int i = 0; i < n; i++) {
			int rc;

			if (c->own) {
				own_answer(c, b->buf + (size_t)i * RECV_SLOT, b->msgs[i].msg_len,
					   &b->from[i]);
				drain(s);
				if (s->closing)
					return;
				continue;
			}
			NETSNMP_LARGE_FD_SET(c->fd, &s->fds);
			ss->s_snmp_errno = 0;
			rx_current = b;
			rc = snmp_sess_read2(c->sessp, &s->fds);
			rx_current = NULL;
			NETSNMP_LARGE_FD_CLR(c->fd, &s->fds);
			/* read2 took datagram i (or failed before: skip it) */
			b->next = i + 1;
			if (rc != 0 && ss->s_snmp_errno != 0 &&
			    ss->s_snmp_errno != SNMPERR_BAD_RECVFROM)
				bad_datagram(c, &b->from[i], b->msgs[i].msg_len, ss->s_snmp_errno);
			drain(s);
			if (s->closing)
				return;
		}
		b->n = 0;
		if (n < RECV_BATCH)
			break;
	}
	/* A timer armed for a request answered since fires early and re-arms
	 * from the requests left; only an idle channel needs it stopped now. */
	if (c->outstanding == 0)
		uv_timer_stop(&c->timer);
}

static void on_read_tick(uv_timer_t *t)
{
	struct vgl_snmp *s = t->data;
	/* Taken whole: reading may send (a split request), which pauses its
	 * channel again for the next tick. */
	struct chan *list = s->paused;

	s->paused = NULL;
	for (struct chan *c = list; c; c = c->next_paused)
		c->ticking = 1;
	while (list && !s->closing) {
		struct chan *c = list;
		list = c->next_paused;
		c->next_paused = NULL;
		c->paused = 0;
		c->ticking = 0;
		chan_read(c);
		if (s->closing || !c->live)
			continue;
		if (c->pause_again) {
			c->pause_again = 0;
			chan_pause(c);
		} else if (!c->paused) {
			/* Level-triggered: still readable means readable again at once. */
			uv_poll_start(&c->poll, UV_READABLE, on_readable);
		}
	}
}

static void on_readable(uv_poll_t *hd, int status, int events)
{
	struct chan *c = hd->data;
	struct vgl_snmp *s = c->s;

	(void)events;
	if (s->closing || !c->live)
		return;
	if (status < 0) {
		vgl_warn("snmp: socket poll: %s", uv_strerror(status));
		return;
	}
	chan_pause(c);
}

/* ---- hosts and scheduling --------------------------------------------------- */

/* A host's poll is due: start it, queue it for an in-flight slot, or skip
 * it when its previous poll still runs. */
static void host_due(struct vgl_snmp *s, struct host *h)
{
	if (!h->addr_ok && !h->resolving)
		(void)resolve(s, h);    /* again; this poll reports the failure */
	if (h->poll || h->queued) {
		s->st.skipped++;
		host_log(h, VGL_LOG_DEBUG, "previous poll still running; skipped");
	} else if (s->st.in_flight < s->max_in_flight && !s->waitq) {
		start_poll(s, h);
	} else {
		h->queued = 1;
		h->next_wait = NULL;
		if (s->waitq_tail)
			s->waitq_tail->next_wait = h;
		else
			s->waitq = h;
		s->waitq_tail = h;
	}
}

/* The scheduler's view of a host (collectors/sched.h). */
static void on_host_due(void *ctx, struct vgl_sched_entry *e)
{
	host_due(ctx, (struct host *)((char *)e - offsetof(struct host, sched)));
}

/* After a tick's due hosts: their requests leave, one sendmmsg a channel. */
static void on_sched_tick(void *ctx)
{
	drain(ctx);
}

static void sched_closed(void *ctx)
{
	handle_closed(ctx);
}

static void on_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
	struct resolve_req *w = req->data;
	struct vgl_snmp *s = w->s;
	struct host *h = w->h;          /* NULL once the collector closed */

	if (h)
		h->resolving = NULL;
	if (h && !s->closing) {
		uint16_t port = h->snmp->port ? h->snmp->port : 161;
		struct chan *c;

		if (status == 0 && res && res->ai_addrlen <= sizeof(h->addr)) {
			memcpy(&h->addr, res->ai_addr, res->ai_addrlen);
			if (h->addr.sa.sa_family == AF_INET6)
				h->addr.in6.sin6_port = htons(port);
			else
				h->addr.in.sin_port = htons(port);
			if (chan_for(s, h, &c) == 0 && chan_add_host(c, h) == 0) {
				h->chan = c;
				h->addr_ok = 1;
				host_log(h, VGL_LOG_DEBUG, "resolved");
			} else {
				host_log(h, VGL_LOG_ERR, "resolved, but no channel to poll it on "
					 "(out of memory or descriptors)");
			}
		} else {
			host_log(h, h->failing ? VGL_LOG_DEBUG : VGL_LOG_WARNING,
				 "cannot resolve: %s", status ? uv_strerror(status) : "no address");
		}
	}
	if (res)
		uv_freeaddrinfo(res);
	free(w);
	handle_closed(s);       /* last: may free s */
}

static int resolve(struct vgl_snmp *s, struct host *h)
{
	struct addrinfo hints;
	struct resolve_req *w = calloc(1, sizeof(*w));
	int rv;

	if (!w)
		return -ENOMEM;
	memset(&hints, 0, sizeof(hints));
	/* an IPv4 source_address can only reach IPv4 addresses */
	hints.ai_family = h->bound ? AF_INET : AF_UNSPEC;
	hints.ai_socktype = SOCK_DGRAM;
	w->s = s;
	w->h = h;
	w->req.data = w;
	rv = uv_getaddrinfo(s->loop, &w->req, on_resolved, h->conf->address, NULL, &hints);
	if (rv < 0) {
		free(w);
		return rv;
	}
	h->resolving = w;
	s->open_handles++;
	return 0;
}

int vgl_snmp_add_source(struct vgl_snmp *s, uint32_t host_idx, const struct vgl_conf_host *host,
			uint32_t source)
{
	const struct vgl_conf_profile *pr;
	const struct vgl_conf_source *src;
	const struct vgl_snmp_source *sn;
	struct host *h;
	uint16_t port;
	int rv;

	if (!s || !host || !host->profile || s->closing)
		return -EINVAL;
	pr = host->profile;
	if (source >= pr->n_sources || pr->sources[source].be != &vgl_snmp_conf_backend) {
		vgl_err("host %s: source %u is not an SNMP source", host->name, (unsigned)source);
		return -EINVAL;
	}
	src = &pr->sources[source];
	sn = vgl_snmp_source_of(src);
	if (src->n_metrics == 0) {
		vgl_err("host %s: no snmp metrics to poll for source %s", host->name, src->name);
		return -EINVAL;
	}
	if (sn->version != VGL_SNMP_V2C && sn->version != VGL_SNMP_V3) {
		vgl_err("host %s: unsupported snmp version %d", host->name, (int)sn->version);
		return -EINVAL;
	}
	if (s->n_hosts == s->cap_hosts) {
		size_t cap = s->cap_hosts ? s->cap_hosts * 2 : 64;
		struct host **nh = realloc(s->hosts, cap * sizeof(*nh));
		if (!nh)
			return -ENOMEM;
		s->hosts = nh;
		s->cap_hosts = cap;
	}
	h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	h->s = s;
	h->conf = host;
	h->src = src;
	h->src_idx = source;
	h->snmp = sn;
	h->idx = host_idx;
	h->comm = sn->community ? sn->community : "public";
	h->comm_len = strlen(h->comm);
	if (sn->source_address) {
		struct in_addr src;
		if (inet_pton(AF_INET, sn->source_address, &src) != 1) {
			vgl_err("host %s: source_address \"%s\" is not an IPv4 address", host->name,
				sn->source_address);
			rv = -EINVAL;
			goto out_free_host;
		}
		/* 0.0.0.0 is the default: no bind, channels shared with
		 * hosts that do not give it */
		h->src_addr = src.s_addr;
		h->bound = src.s_addr != htonl(INADDR_ANY);
	}
	port = sn->port ? sn->port : 161;
	if (inet_pton(AF_INET, host->address, &h->addr.in.sin_addr) == 1) {
		h->addr.in.sin_family = AF_INET;
		h->addr.in.sin_port = htons(port);
		h->addr_ok = 1;
	} else if (inet_pton(AF_INET6, host->address, &h->addr.in6.sin6_addr) == 1) {
		h->addr.in6.sin6_family = AF_INET6;
		h->addr.in6.sin6_port = htons(port);
		h->addr_ok = 1;
		if (h->bound) {
			vgl_err("host %s: IPv6 address %s cannot be polled from the IPv4 "
				"source_address %s", host->name, host->address,
				sn->source_address);
			rv = -EINVAL;
			goto out_free_host;
		}
	}
	if (sn->version == VGL_SNMP_V3) {
		rv = cred_get(s, h, &h->cred);
		if (rv < 0)
			goto out_free_host;
	} else if (host_own(h)) {
		rv = penc_for(s, pr, src, &h->enc);
		if (rv < 0)
			goto out_free_host;
	}
	if (h->addr_ok) {
		rv = chan_for(s, h, &h->chan);
		if (rv < 0) {
			host_log(h, VGL_LOG_ERR, "no snmp session: %s", uv_strerror(rv));
			goto out_free_host;
		}
	}
	if (h->chan && (rv = chan_add_host(h->chan, h)) < 0)
		goto out_free_host;
	s->hosts[s->n_hosts++] = h;
	s->st.hosts++;
	if (!h->chan && (rv = resolve(s, h)) < 0)
		host_log(h, VGL_LOG_WARNING, "cannot resolve: %s", uv_strerror(rv));

	/* Last, as it cannot be undone: the host is the collector's now (its
	 * memory goes at close), and a scheduler that cannot take it leaves
	 * it configured but never polled, said once. */
	rv = vgl_sched_add(s->sched, &h->sched, src->interval_ms, h->idx);
	if (rv < 0)
		host_log(h, VGL_LOG_ERR, "cannot be scheduled: %s; not polled", uv_strerror(rv));
	return rv;

out_free_host:
	free(h);
	return rv;
}

/* ---- create / stats / close ----------------------------------------------- */

static void free_on_close(uv_handle_t *hd)
{
	free(hd->data);
}

int vgl_snmp_create(uv_loop_t *loop, uint32_t max_in_flight, vgl_poll_fn *fn, void *ctx,
		    struct vgl_snmp **out)
{
	struct vgl_snmp *s;
	int rv;

	if (!loop || !fn || !out)
		return -EINVAL;
	rv = lib_init();
	if (rv < 0)
		return rv;
	rv = vgl_reqid_init();
	if (rv < 0) {
		vgl_err("snmp: cannot seed request-ids from getrandom: %s", strerror(-rv));
		return rv;
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->loop = loop;
	s->fn = fn;
	s->ctx = ctx;
	s->max_in_flight = max_in_flight ? max_in_flight : DEFAULT_IN_FLIGHT;
	rv = vgl_sched_new(loop, on_host_due, on_sched_tick, s, &s->sched);
	if (rv < 0) {
		free(s);
		return rv;
	}
	rv = uv_timer_init(loop, &s->rtick);
	if (rv < 0) {
		vgl_sched_close(s->sched, NULL, NULL);  /* no group yet: freed at once */
		free(s);
		return rv;
	}
	s->rtick.data = s;
	rv = uv_timer_init(loop, &s->anchor);
	if (rv < 0) {
		/* the loop knows rtick now: s goes when it is closed */
		vgl_sched_close(s->sched, NULL, NULL);
		uv_close((uv_handle_t *)&s->rtick, free_on_close);
		return rv;
	}
	s->anchor.data = s;
	s->open_handles = 2;
	s->open_handles = 3;            /* the scheduler counts as one */
	netsnmp_large_fd_set_init(&s->fds, FD_SETSIZE);
	*out = s;
	return 0;
}

void vgl_snmp_get_stats(const struct vgl_snmp *s, struct vgl_snmp_stats *out)
{
	*out = s->st;
	/* periods a stalled loop missed entirely are skipped polls too */
	if (s->sched)
		out->skipped += vgl_sched_missed(s->sched);
}

static void finish_close(struct vgl_snmp *s)
{
	void (*done)(void *) = s->done;
	void *ctx = s->done_ctx;

	while (s->creds) {
		struct v3cred *c = s->creds;
		s->creds = c->next;
		cred_free(c);
	}
	for (size_t i = 0; i < s->n_hosts; i++) {
		free(s->hosts[i]->engine_id);
		free(s->hosts[i]);
	}
	while (s->pencs) {
		struct penc *e = s->pencs;
		s->pencs = e->next;
		free(e->blob);
		free(e->vb);
		free(e);
	}
	free(s->tx);
	netsnmp_large_fd_set_cleanup(&s->fds);
	if (s->rx) {
		free(s->rx->buf);
		free(s->rx);
	}
	free(s->hosts);
	free(s);
	if (done)
		done(ctx);
}

static void handle_closed(struct vgl_snmp *s)
{
	if (--s->open_handles == 0)
		finish_close(s);
}

static void anchor_close_cb(uv_handle_t *hd)
{
	handle_closed(hd->data);
}

static void chan_close_cb(uv_handle_t *hd)
{
	struct chan *c = hd->data;
	struct vgl_snmp *s = c->s;

	/* A v2c socket is ours to close, once nothing polls it. */
	if (hd == (uv_handle_t *)&c->poll && c->own && c->fd >= 0) {
		close(c->fd);
		c->fd = -1;
	}
	if (--c->open_handles == 0) {
		free(c->ring);
		free(c->members);
		free(c);
	}
	handle_closed(s);
}

void vgl_snmp_close(struct vgl_snmp *s, void (*done)(void *ctx), void *ctx)
{
	if (!s || s->closing)
		return;
	s->closing = 1;
	s->done = done;
	s->done_ctx = ctx;

	/* Requests first: snmp_sess_close reports each outstanding request
	 * to on_pdu as timed out, which (closing) only frees the req; a v2c
	 * channel's are freed here. Polls go below. */
	if (s->tx) {
		s->tx->n = 0;
		s->tx->used = 0;
		s->tx->chan = NULL;
	}
	for (struct chan *c = s->chans; c; c = c->next) {
		c->live = 0;
		if (c->sessp) {
			snmp_sess_close(c->sessp);
			c->sessp = NULL;
		}
		while (c->fifo) {
			struct req *r = c->fifo;
			own_forget(c, r);
			req_free(r);
		}
	}
	while (s->sendq) {
		struct req *r = s->sendq;
		s->sendq = r->next;
		req_free(r);
	}
	s->sendq_tail = NULL;
	s->doneq = s->doneq_tail = NULL;
	s->waitq = s->waitq_tail = NULL;
	for (size_t i = 0; i < s->n_hosts; i++) {
		struct host *h = s->hosts[i];
		free(h->poll);
		h->poll = NULL;
		/* The getaddrinfo callback still runs (UV_ECANCELED, or the
		 * answer if it was already under way) and drops its count in
		 * open_handles then; it must not touch the host. */
		if (h->resolving) {
			h->resolving->h = NULL;
			(void)uv_cancel((uv_req_t *)&h->resolving->req);
			h->resolving = NULL;
		}
	}
	vgl_sched_close(s->sched, sched_closed, s);
	s->sched = NULL;
	for (struct chan *c = s->chans, *next; c; c = next) {
		next = c->next;
		/* chan_open may have failed between the two inits. */
		int n = c->open_handles;
		uv_close((uv_handle_t *)&c->poll, chan_close_cb);
		if (n == 2)
			uv_close((uv_handle_t *)&c->timer, chan_close_cb);
	}
	s->chans = NULL;
	s->paused = NULL;
	uv_close((uv_handle_t *)&s->rtick, anchor_close_cb);
	uv_close((uv_handle_t *)&s->anchor, anchor_close_cb);
}

/* ---- the collector interface (collectors/collector.h) ------------------ */

static int be_create(uv_loop_t *loop, const struct vgl_conf *conf, vgl_poll_fn *fn, void *ctx,
		       void **out)
{
	struct vgl_snmp *s = NULL;
	int rv = vgl_snmp_create(loop, vgl_snmp_max_in_flight(conf), fn, ctx, &s);

	*out = rv == 0 ? s : NULL;
	return rv;
}

static int be_add_source(void *be, uint32_t host_idx, const struct vgl_conf_host *host,
			 uint32_t source)
{
	return vgl_snmp_add_source(be, host_idx, host, source);
}

static void be_stats(const void *be, struct vgl_collector_stats *out)
{
	struct vgl_snmp_stats st;

	vgl_snmp_get_stats(be, &st);
	*out = (struct vgl_collector_stats){
		.polls = st.polls, .timeouts = st.timeouts, .skipped = st.skipped,
		.values = st.values, .rejected = st.rejected, .in_flight = st.in_flight,
		.hosts = st.hosts,
	};
}

static void be_close(void *be, void (*done)(void *ctx), void *ctx)
{
	vgl_snmp_close(be, done, ctx);
}

const struct vgl_collector_ops vgl_snmp_collector = {
	.name = "snmp",
	.create = be_create,
	.add_source = be_add_source,
	.stats = be_stats,
	.close = be_close,
};
