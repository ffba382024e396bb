/* Reachability collector, ICMP: the shared sockets (opened ping or raw),
 * echoes sent, answers and errors read and matched to their echo.
 *
 * ICMP. One socket per address family serves every ICMP target: a ping
 * socket (SOCK_DGRAM, IPPROTO_ICMP: no privilege, where
 * net.ipv4.ping_group_range lets one of our groups in) or else a raw one
 * (CAP_NET_RAW). A socket per target would cost a descriptor and a uv_poll
 * per target; one socket costs one of each for the whole site. Echoes are
 * told apart by (destination address, sequence): the kernel rewrites the
 * id of a ping socket's echoes, so the id cannot carry the match, and a
 * raw socket sees every ICMP message of the host, so there our random id
 * first sorts ours from other pingers'. Sequence numbers and a 64-bit nonce
 * in the payload are random (collectors/reqid.c): an off-path forger must
 * guess both to make a dead host look alive. Echoes in flight sit in a hash
 * table keyed by (address, sequence).
 *
 * Errors. A raw socket receives ICMP errors as ordinary messages (the
 * quoted header names our echo). A ping socket only reports them through
 * its error queue (IP_RECVERR), which raises POLLERR; libuv's uv_poll then
 * stops the handle and calls back with UV_EBADF, so that status means
 * "read the error queue" here, after which the handle is started again.
 * The kernel also keeps the last such error in sk_err, where it would fail
 * the next recvmsg and keep POLLERR raised: SO_ERROR clears it.
 *
 * Reads. A readable socket is read READ_DELAY_MS later in recvmmsg batches,
 * so a slot's answers share a few wakeups; RTTs come from the kernel's
 * receive timestamps (SO_TIMESTAMPNS), so the delay does not lengthen them.
 */
#include "collectors/reach_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/errqueue.h>
#include <linux/icmp.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "collectors/reqid.h"
#include "collectors/sched.h"
#include "core/log.h"

#define READ_EVERY 256
#define RX_ROUNDS 16
#define READ_DELAY_MS 2
/* Requested; the kernel caps them at net.core.rmem_max / wmem_max. */
#define SOCK_BUF (4 << 20)
#define HASH_MIN 256
#define SEQ_TRIES 64

static void sock_read(struct isock *s);

/* ---- small helpers ------------------------------------------------------- */

static void put16(uint8_t *b, uint16_t v)
{
	b[0] = (uint8_t)(v >> 8);
	b[1] = (uint8_t)v;
}

static uint16_t get16(const uint8_t *b)
{
	return (uint16_t)(b[0] << 8 | b[1]);
}

static void put64(uint8_t *b, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		b[i] = (uint8_t)v;
}

static uint64_t get64(const uint8_t *b)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | b[i];
	return v;
}

/* RFC 1071; 0 over a message that carries its own correct checksum. */
static uint16_t inet_csum(const uint8_t *b, size_t n)
{
	uint32_t sum = 0;

	for (; n > 1; b += 2, n -= 2)
		sum += (uint32_t)(b[0] << 8 | b[1]);
	if (n)
		sum += (uint32_t)b[0] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}


static int same_addr(const union sa *a, const union sa *b)
{
	if (a->sa.sa_family != b->sa.sa_family)
		return 0;
	if (a->sa.sa_family == AF_INET)
		return a->in.sin_addr.s_addr == b->in.sin_addr.s_addr;
	return memcmp(&a->in6.sin6_addr, &b->in6.sin6_addr, 16) == 0;
}

/* ---- the echo table ------------------------------------------------------ */

static uint32_t ehash(const struct vgl_reach *r, const union sa *a, uint16_t seq)
{
	uint64_t k = seq;

	if (a->sa.sa_family == AF_INET) {
		k ^= (uint64_t)a->in.sin_addr.s_addr << 16;
	} else {
		uint32_t w[4];
		memcpy(w, &a->in6.sin6_addr, 16);
		k ^= ((uint64_t)(w[0] ^ w[2]) << 32 | (w[1] ^ w[3])) << 1;
	}
	/* Fibonacci hashing of a salted key: the high bits are well mixed. */
	k = (k ^ r->salt) * 0x9e3779b97f4a7c15ull;
	return (uint32_t)(k >> 32) & r->tab_mask;
}

static struct echo *echo_find(const struct vgl_reach *r, const union sa *a, uint16_t seq)
{
	if (!r->tab)
		return NULL;
	for (struct echo *e = r->tab[ehash(r, a, seq)]; e; e = e->hnext)
		if (e->seq == seq && same_addr(&e->p->t->addr, a))
			return e;
	return NULL;
}

static int tab_grow(struct vgl_reach *r)
{
	uint32_t n = r->tab ? (r->tab_mask + 1) * 2 : HASH_MIN;
	struct echo **nt = calloc(n, sizeof(*nt)), **old = r->tab;
	uint32_t old_n = r->tab ? r->tab_mask + 1 : 0;

	if (!nt)
		return -ENOMEM;
	r->tab = nt;
	r->tab_mask = n - 1;
	for (uint32_t i = 0; i < old_n; i++) {
		for (struct echo *e = old[i], *next; e; e = next) {
			uint32_t h = ehash(r, &e->p->t->addr, e->seq);
			next = e->hnext;
			e->hnext = nt[h];
			nt[h] = e;
		}
	}
	free(old);
	return 0;
}

void vgl__reach_tab_remove(struct vgl_reach *r, struct echo *e)
{
	struct echo **pp = &r->tab[ehash(r, &e->p->t->addr, e->seq)];

	while (*pp && *pp != e)
		pp = &(*pp)->hnext;
	if (*pp) {
		*pp = e->hnext;
		r->tab_n--;
	}
	e->hnext = NULL;
}


void vgl__reach_sq_unlink(struct isock *s, struct echo *e)
{
	if (e->qprev)
		e->qprev->qnext = e->qnext;
	else
		s->sq = e->qnext;
	if (e->qnext)
		e->qnext->qprev = e->qprev;
	else
		s->sq_tail = e->qprev;
	e->qnext = e->qprev = NULL;
}

/* ---- ICMP: echoes --------------------------------------------------------- */

static void echo_end(struct vgl_reach *r, struct echo *e, enum echo_state st)
{
	struct poll *p = e->p;

	if (e->state == E_QUEUED)
		vgl__reach_sq_unlink(p->t->sock, e);
	if (e->state == E_QUEUED || e->state == E_FLIGHT)
		vgl__reach_tab_remove(r, e);
	e->state = (uint8_t)st;
	p->done++;
	p->answered += st == E_ANSWERED;
	p->refused += st == E_REFUSED;
	p->errors += st == E_ERROR;
	if (p->done == p->t->count)
		vgl__reach_poll_finish(r, p);
}

static int refusing_errno(int e)
{
	return e == EHOSTUNREACH || e == ENETUNREACH || e == ECONNREFUSED || e == EHOSTDOWN;
}

/* Gives echo i of p a sequence number no echo in flight to the same address
 * has, and queues it on the target's socket. */
void vgl__reach_echo_queue(struct vgl_reach *r, struct poll *p, uint16_t i)
{
	struct target *t = p->t;
	struct isock *s = t->sock;
	struct echo *e = &p->echo[i];
	int tries;

	e->p = p;
	if (r->tab_n >= (r->tab ? r->tab_mask + 1 : 0) && tab_grow(r) < 0 && !r->tab) {
		vgl__reach_poll_why(p, "out of memory");
		e->state = E_NONE;
		echo_end(r, e, E_ERROR);
		return;
	}
	for (tries = 0; tries < SEQ_TRIES; tries++) {
		e->nonce = (uint64_t)vgl_reqid_next() << 32 | vgl_reqid_next();
		e->seq = (uint16_t)e->nonce;
		if (!echo_find(r, &t->addr, e->seq))
			break;
	}
	if (tries == SEQ_TRIES) {
		vgl__reach_poll_why(p, "no free sequence number (too many echoes in flight to one address)");
		echo_end(r, e, E_ERROR);
		return;
	}
	{
		uint32_t h = ehash(r, &t->addr, e->seq);
		e->hnext = r->tab[h];
		r->tab[h] = e;
		r->tab_n++;
	}
	e->state = E_QUEUED;
	e->qnext = NULL;
	e->qprev = s->sq_tail;
	if (s->sq_tail)
		s->sq_tail->qnext = e;
	else
		s->sq = e;
	s->sq_tail = e;
}

static void sock_watch(struct isock *s);

/* Sends what the socket's queue holds, TX_BATCH echoes per sendmmsg(),
 * until it is empty or the send buffer is full (then the socket is watched
 * for writable). */
void vgl__reach_sock_flush(struct isock *s)
{
	struct vgl_reach *r = s->r;
	struct txbuf *b = r->tx;
	unsigned since_read = 0;

	while (s->sq && !s->blocked && !r->closing) {
		unsigned n = 0, off = 0;
		int64_t now;

		for (struct echo *e = s->sq; e && n < TX_BATCH; e = e->qnext, n++) {
			uint8_t *pkt = b->pkt[n];
			struct msghdr *m = &b->msgs[n].msg_hdr;

			pkt[0] = s->family == AF_INET ? ICMP_ECHO : ICMP6_ECHO_REQUEST;
			pkt[1] = 0;
			put16(pkt + 2, 0);
			put16(pkt + 4, s->id);
			put16(pkt + 6, e->seq);
			put64(pkt + 8, e->nonce);
			/* A raw IPv4 socket sends our checksum; ping sockets
			 * and ICMPv6 compute their own over what we give. */
			if (s->family == AF_INET)
				put16(pkt + 2, inet_csum(pkt, ECHO_LEN));
			b->iov[n].iov_base = pkt;
			b->iov[n].iov_len = ECHO_LEN;
			memset(m, 0, sizeof(*m));
			m->msg_name = &e->p->t->addr;
			m->msg_namelen = e->p->t->alen;
			m->msg_iov = &b->iov[n];
			m->msg_iovlen = 1;
			b->e[n] = e;
		}
		now = vgl__reach_wall_ns();
		while (off < n) {
			int k = sendmmsg(s->fd, b->msgs + off, n - off, MSG_DONTWAIT);

			if (k < 0 && errno == EINTR)
				continue;
			if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
				s->blocked = 1;
				break;
			}
			if (k < 0) {
				/* The error is message off's; the rest go on. */
				struct echo *e = b->e[off++];
				int err = errno;
				vgl__reach_poll_why(e->p, "send: %s", strerror(err));
				echo_end(r, e, refusing_errno(err) ? E_REFUSED : E_ERROR);
				continue;
			}
			for (int j = 0; j < k; j++) {
				struct echo *e = b->e[off + (unsigned)j];
				vgl__reach_sq_unlink(s, e);
				e->state = E_FLIGHT;
				e->tx_ns = now;
			}
			r->st.echoes_sent += (uint64_t)k;
			since_read += (unsigned)k;
			off += (unsigned)k;
		}
		if (since_read >= READ_EVERY) {
			since_read = 0;
			sock_read(s);
		}
	}
	sock_watch(s);
}

/* ---- ICMP: answers ------------------------------------------------------ */

static const char *icmp_error_text(int family, uint8_t type, uint8_t code)
{
	if (family == AF_INET && type == ICMP_DEST_UNREACH) {
		switch (code) {
		case ICMP_NET_UNREACH: return "network unreachable";
		case ICMP_HOST_UNREACH: return "host unreachable";
		case ICMP_PROT_UNREACH: return "protocol unreachable";
		case ICMP_PORT_UNREACH: return "port unreachable";
		case ICMP_FRAG_NEEDED: return "fragmentation needed";
		case ICMP_NET_ANO: case ICMP_HOST_ANO: case ICMP_PKT_FILTERED:
			return "administratively prohibited";
		default: return "destination unreachable";
		}
	}
	if (family == AF_INET6 && type == ICMP6_DST_UNREACH) {
		switch (code) {
		case ICMP6_DST_UNREACH_NOROUTE: return "no route to destination";
		case ICMP6_DST_UNREACH_ADMIN: return "administratively prohibited";
		case ICMP6_DST_UNREACH_ADDR: return "address unreachable";
		case ICMP6_DST_UNREACH_NOPORT: return "port unreachable";
		default: return "destination unreachable";
		}
	}
	if ((family == AF_INET && type == ICMP_TIME_EXCEEDED) ||
	    (family == AF_INET6 && type == ICMP6_TIME_EXCEEDED))
		return "time exceeded (a routing loop or a path too long)";
	return "ICMP error";
}

/* An echo reply (icmp: its ICMP message) from `from`. */
static void on_reply(struct isock *s, const union sa *from, const uint8_t *icmp, size_t len,
		     int64_t rx_ns)
{
	struct vgl_reach *r = s->r;
	struct echo *e;
	double rtt;

	if (len < ECHO_LEN)
		return;
	if (s->mode == VGL_REACH_ICMP_RAW && get16(icmp + 4) != s->id)
		return;         /* another pinger's */
	e = echo_find(r, from, get16(icmp + 6));
	if (!e || e->state != E_FLIGHT || e->nonce != get64(icmp + 8)) {
		r->st.rejected++;
		return;
	}
	rtt = (double)(rx_ns - e->tx_ns) / 1e6;
	e->p->rtt_sum_ms += rtt > 0 ? rtt : 0;
	r->st.echoes_answered++;
	echo_end(r, e, E_ANSWERED);
}

/* An ICMP error about our echo to `dst` whose first bytes are `orig` (at
 * least its 8-byte header); `from` sent the error (NULL if unknown). */
static void on_icmp_error(struct isock *s, const union sa *dst, const uint8_t *orig, size_t len,
			  uint8_t type, uint8_t code, const union sa *from)
{
	struct vgl_reach *r = s->r;
	uint8_t want = s->family == AF_INET ? ICMP_ECHO : ICMP6_ECHO_REQUEST;
	char a[INET6_ADDRSTRLEN] = "";
	struct echo *e;

	if (len < 8 || orig[0] != want)
		return;
	if (s->mode == VGL_REACH_ICMP_RAW && get16(orig + 4) != s->id)
		return;
	e = echo_find(r, dst, get16(orig + 6));
	/* RFC 792 promises only 8 quoted bytes; where the nonce is quoted
	 * (Linux quotes up to 576 bytes) it must match. */
	if (!e || e->state != E_FLIGHT || (len >= ECHO_LEN && e->nonce != get64(orig + 8))) {
		r->st.rejected++;
		return;
	}
	if (from)
		vgl__reach_addr_text(from, a, sizeof(a));
	vgl__reach_poll_why(e->p, "%s (ICMP%s %u/%u%s%s)", icmp_error_text(s->family, type, code),
		 s->family == AF_INET6 ? "v6" : "", type, code, a[0] ? " from " : "", a);
	echo_end(r, e, E_REFUSED);
}

static void on_raw4(struct isock *s, const union sa *from, const uint8_t *b, size_t n,
		    int64_t rx_ns)
{
	size_t ihl, ilen;
	const uint8_t *icmp;

	if (n < 20 || (b[0] >> 4) != 4)
		return;
	ihl = (size_t)(b[0] & 15) * 4;
	if (ihl < 20 || n < ihl + 8)
		return;
	icmp = b + ihl;
	ilen = n - ihl;
	if (inet_csum(icmp, ilen) != 0) {
		/* a raw socket gets messages the kernel has not checked */
		if (icmp[0] == ICMP_ECHOREPLY && get16(icmp + 4) == s->id)
			s->r->st.rejected++;
		return;
	}
	if (icmp[0] == ICMP_ECHOREPLY) {
		on_reply(s, from, icmp, ilen, rx_ns);
	} else if (icmp[0] == ICMP_DEST_UNREACH || icmp[0] == ICMP_TIME_EXCEEDED) {
		const uint8_t *ip = icmp + 8;
		size_t qlen = ilen - 8, qihl;
		union sa dst;

		if (qlen < 20 || (ip[0] >> 4) != 4 || ip[9] != IPPROTO_ICMP)
			return;
		qihl = (size_t)(ip[0] & 15) * 4;
		if (qihl < 20 || qlen < qihl + 8)
			return;
		memset(&dst, 0, sizeof(dst));
		dst.in.sin_family = AF_INET;
		memcpy(&dst.in.sin_addr, ip + 16, 4);
		on_icmp_error(s, &dst, ip + qihl, qlen - qihl, icmp[0], icmp[1], from);
	}
}

static void on_icmp6(struct isock *s, const union sa *from, const uint8_t *b, size_t n,
		     int64_t rx_ns)
{
	if (n < 8)
		return;
	if (b[0] == ICMP6_ECHO_REPLY) {
		on_reply(s, from, b, n, rx_ns);
	} else if (s->mode == VGL_REACH_ICMP_RAW &&
		   (b[0] == ICMP6_DST_UNREACH || b[0] == ICMP6_TIME_EXCEEDED)) {
		/* The quoted IPv6 header, then (no extension headers: we send
		 * none) our echo. */
		const uint8_t *ip = b + 8;
		union sa dst;

		if (n < 8 + 40 + 8 || (ip[0] >> 4) != 6 || ip[6] != IPPROTO_ICMPV6)
			return;
		memset(&dst, 0, sizeof(dst));
		dst.in6.sin6_family = AF_INET6;
		memcpy(&dst.in6.sin6_addr, ip + 24, 16);
		on_icmp_error(s, &dst, ip + 40, n - 48, b[0], b[1], from);
	}
}

/* A message of a ping socket's error queue: our echo as sent, msg_name its
 * destination, the error in an IP_RECVERR / IPV6_RECVERR control message. */
static void on_errqueue(struct isock *s, struct msghdr *m, const uint8_t *b, size_t n)
{
	union sa *dst = m->msg_name;

	if (m->msg_namelen < sizeof(struct sockaddr_in) || dst->sa.sa_family != s->family)
		return;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(m); c; c = CMSG_NXTHDR(m, c)) {
		const struct sock_extended_err *ee;
		union sa off;

		if (!((c->cmsg_level == SOL_IP && c->cmsg_type == IP_RECVERR) ||
		      (c->cmsg_level == SOL_IPV6 && c->cmsg_type == IPV6_RECVERR)))
			continue;
		ee = (const struct sock_extended_err *)CMSG_DATA(c);
		if (c->cmsg_len < CMSG_LEN(sizeof(*ee)))
			continue;
		if (ee->ee_origin == SO_EE_ORIGIN_ICMP || ee->ee_origin == SO_EE_ORIGIN_ICMP6) {
			/* the router that reported it, when the kernel says */
			const struct sockaddr *o = SO_EE_OFFENDER(ee);
			size_t room = c->cmsg_len - CMSG_LEN(sizeof(*ee));
			int have = room >= sizeof(off.in) &&
				   (o->sa_family == AF_INET ||
				    (o->sa_family == AF_INET6 && room >= sizeof(off.in6)));

			memset(&off, 0, sizeof(off));
			if (have)
				memcpy(&off, o, o->sa_family == AF_INET ? sizeof(off.in)
									: sizeof(off.in6));
			on_icmp_error(s, dst, b, n, ee->ee_type, ee->ee_code, have ? &off : NULL);
		} else if (n >= 8) {
			/* a local error about an echo (e.g. EMSGSIZE) */
			struct echo *e = echo_find(s->r, dst, get16(b + 6));
			if (e && e->state == E_FLIGHT) {
				vgl__reach_poll_why(e->p, "send: %s", strerror((int)ee->ee_errno));
				echo_end(s->r, e, refusing_errno((int)ee->ee_errno) ? E_REFUSED
										: E_ERROR);
			}
		}
	}
}

static int64_t rx_stamp(struct msghdr *m)
{
	for (struct cmsghdr *c = CMSG_FIRSTHDR(m); c; c = CMSG_NXTHDR(m, c)) {
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
			struct timespec ts;
			memcpy(&ts, CMSG_DATA(c), sizeof(ts));
			return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
		}
	}
	return vgl__reach_wall_ns();
}

/* Reads one queue (the normal one, or with MSG_ERRQUEUE the error queue)
 * in recvmmsg() batches until it is empty or RX_ROUNDS batches were read. */
static void sock_read_queue(struct isock *s, int flags)
{
	struct vgl_reach *r = s->r;
	struct rxbuf *b = r->rx;
	int soft = 0;

	for (int round = 0; round < RX_ROUNDS && !r->closing; round++) {
		int n;

		for (int i = 0; i < RX_BATCH; i++) {
			struct msghdr *m = &b->msgs[i].msg_hdr;
			b->iov[i].iov_base = b->buf[i];
			b->iov[i].iov_len = RX_SLOT;
			m->msg_name = &b->from[i];
			m->msg_namelen = sizeof(b->from[i]);
			m->msg_iov = &b->iov[i];
			m->msg_iovlen = 1;
			m->msg_control = b->ctl[i];
			m->msg_controllen = RX_CTL;
			m->msg_flags = 0;
		}
		n = recvmmsg(s->fd, b->msgs, RX_BATCH, flags | MSG_DONTWAIT, NULL);
		if (n < 0 && errno == EINTR) {
			round--;
			continue;
		}
		/* A ping socket's pending ICMP error (sk_err) fails one read
		 * and is cleared by it; the datagrams are still there. */
		if (n < 0 && refusing_errno(errno) && soft++ < 4) {
			round--;
			continue;
		}
		if (n < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				vgl_log_errno(VGL_LOG_DEBUG, "reach: recvmmsg");
			return;
		}
		for (int i = 0; i < n && !r->closing; i++) {
			struct msghdr *m = &b->msgs[i].msg_hdr;
			size_t len = b->msgs[i].msg_len;

			if (len > RX_SLOT)
				len = RX_SLOT;
			if (flags & MSG_ERRQUEUE)
				on_errqueue(s, m, b->buf[i], len);
			else if (m->msg_namelen < sizeof(struct sockaddr_in) ||
				 b->from[i].sa.sa_family != s->family)
				continue;
			else if (s->family == AF_INET6)
				on_icmp6(s, &b->from[i], b->buf[i], len, rx_stamp(m));
			else if (s->mode == VGL_REACH_ICMP_RAW)
				on_raw4(s, &b->from[i], b->buf[i], len, rx_stamp(m));
			else if (b->buf[i][0] == ICMP_ECHOREPLY)
				on_reply(s, &b->from[i], b->buf[i], len, rx_stamp(m));
		}
		if (n < RX_BATCH)
			return;
	}
}

static void sock_read(struct isock *s)
{
	if (s->err_pending) {
		int err = 0;
		socklen_t len = sizeof(err);

		s->err_pending = 0;
		/* clears sk_err, which would keep POLLERR raised */
		if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
			vgl_log_errno(VGL_LOG_DEBUG, "reach: SO_ERROR");
	}
	if (s->mode == VGL_REACH_ICMP_PING)
		sock_read_queue(s, MSG_ERRQUEUE);
	sock_read_queue(s, 0);
}

static void on_sock_event(uv_poll_t *h, int status, int events);
static void on_read_tick(uv_timer_t *t);

/* Watches readable unless paused for the read tick, writable while sends
 * wait for buffer space. */
static void sock_watch(struct isock *s)
{
	int want = (s->paused ? 0 : UV_READABLE) | (s->blocked ? UV_WRITABLE : 0);
	int rv;

	if (s->r->closing || want == s->events)
		return;
	rv = want ? uv_poll_start(&s->poll, want, on_sock_event) : uv_poll_stop(&s->poll);
	if (rv < 0)
		vgl_err("reach: watching the ICMP socket: %s", uv_strerror(rv));
	else
		s->events = want;
}

static void on_sock_event(uv_poll_t *h, int status, int events)
{
	struct isock *s = h->data;
	struct vgl_reach *r = s->r;

	if (r->closing)
		return;
	if (status < 0) {
		/* POLLERR: libuv has stopped the handle (see the top). */
		s->events = 0;
		s->err_pending = 1;
		events = UV_READABLE;
	}
	if (events & UV_WRITABLE)
		s->blocked = 0;
	if (events & UV_READABLE) {
		s->paused = 1;
		if (!uv_is_active((uv_handle_t *)&r->rtimer))
			uv_timer_start(&r->rtimer, on_read_tick, READ_DELAY_MS, 0);
	}
	sock_watch(s);
	vgl__reach_settle(r);
}

static void on_read_tick(uv_timer_t *t)
{
	struct vgl_reach *r = t->data;
	struct isock *socks[2] = { r->s4, r->s6 };

	for (int i = 0; i < 2 && !r->closing; i++) {
		struct isock *s = socks[i];
		if (!s || !s->paused)
			continue;
		s->paused = 0;
		sock_read(s);
		sock_watch(s);
	}
	vgl__reach_settle(r);
}

/* ---- ICMP: sockets ----------------------------------------------------- */

static void read_ping_range(char *buf, size_t len)
{
	FILE *f = fopen("/proc/sys/net/ipv4/ping_group_range", "r");
	unsigned long lo, hi;

	snprintf(buf, len, "unknown");
	if (!f)
		return;
	if (fscanf(f, "%lu %lu", &lo, &hi) == 2)
		snprintf(buf, len, "%lu %lu", lo, hi);
	if (fclose(f) != 0)
		snprintf(buf, len, "unknown");
}

static void sock_tune(struct isock *s)
{
	int one = 1, size = SOCK_BUF;

	/* Bursts: a slot's answers arrive together. */
	if (setsockopt(s->fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size)) != 0)
		vgl_log_errno(VGL_LOG_DEBUG, "reach: SO_RCVBUF");
	if (setsockopt(s->fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size)) != 0)
		vgl_log_errno(VGL_LOG_DEBUG, "reach: SO_SNDBUF");
	/* RTT from the kernel's arrival time, not from when we read. */
	if (setsockopt(s->fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one)) != 0)
		vgl_log_errno(VGL_LOG_WARNING, "reach: SO_TIMESTAMPNS (RTTs include read delay)");
	if (s->mode == VGL_REACH_ICMP_PING) {
		int lvl = s->family == AF_INET ? SOL_IP : SOL_IPV6;
		int opt = s->family == AF_INET ? IP_RECVERR : IPV6_RECVERR;
		/* the only way a ping socket reports ICMP errors */
		if (setsockopt(s->fd, lvl, opt, &one, sizeof(one)) != 0)
			vgl_log_errno(VGL_LOG_WARNING, "reach: IP_RECVERR (unreachable reads as timeout)");
	} else if (s->family == AF_INET) {
		/* A raw socket gets every ICMP message of the host: let the
		 * kernel drop all but replies and the errors about echoes. */
		struct icmp_filter f = { .data = ~(uint32_t)((1u << ICMP_ECHOREPLY) |
							   (1u << ICMP_DEST_UNREACH) |
							   (1u << ICMP_TIME_EXCEEDED)) };
		if (setsockopt(s->fd, SOL_RAW, ICMP_FILTER, &f, sizeof(f)) != 0)
			vgl_log_errno(VGL_LOG_DEBUG, "reach: ICMP_FILTER");
	} else {
		struct icmp6_filter f;
		ICMP6_FILTER_SETBLOCKALL(&f);
		ICMP6_FILTER_SETPASS(ICMP6_ECHO_REPLY, &f);
		ICMP6_FILTER_SETPASS(ICMP6_DST_UNREACH, &f);
		ICMP6_FILTER_SETPASS(ICMP6_TIME_EXCEEDED, &f);
		if (setsockopt(s->fd, IPPROTO_ICMPV6, ICMP6_FILTER, &f, sizeof(f)) != 0)
			vgl_log_errno(VGL_LOG_DEBUG, "reach: ICMP6_FILTER");
	}
}

void vgl__reach_sock_close_cb(uv_handle_t *h)
{
	struct isock *s = h->data;
	struct vgl_reach *r = s->r;

	if (close(s->fd) != 0)
		vgl_log_errno(VGL_LOG_DEBUG, "reach: close");
	free(s);
	vgl__reach_handle_closed(r);
}

/* Opens the ICMP socket of one family: ping, else raw (AUTO), or the one
 * asked for. 0, or a negative errno with the reason in why. */
int vgl__reach_icmp_open(struct vgl_reach *r, int family, enum vgl_reach_icmp want,
		     struct isock **out, char *why, size_t why_len)
{
	int proto = family == AF_INET ? IPPROTO_ICMP : IPPROTO_ICMPV6;
	int fd = -1, e_ping = 0, e_raw = 0, rv;
	enum vgl_reach_icmp mode = VGL_REACH_ICMP_NONE;
	struct isock *s;

	if (want == VGL_REACH_ICMP_AUTO || want == VGL_REACH_ICMP_PING) {
		fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, proto);
		if (fd >= 0)
			mode = VGL_REACH_ICMP_PING;
		else
			e_ping = errno;
	}
	if (fd < 0 && (want == VGL_REACH_ICMP_AUTO || want == VGL_REACH_ICMP_RAW)) {
		fd = socket(family, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, proto);
		if (fd >= 0)
			mode = VGL_REACH_ICMP_RAW;
		else
			e_raw = errno;
	}
	if (fd < 0) {
		char range[64], ping[300] = "", raw[200] = "";
		const char *fam = family == AF_INET ? "ICMP" : "ICMPv6";

		read_ping_range(range, sizeof(range));
		if (e_ping)
			snprintf(ping, sizeof(ping),
				 "unprivileged ping sockets are not allowed (socket(SOCK_DGRAM): %s; "
				 "net.ipv4.ping_group_range is \"%s\" and gid %u is not in it: allow "
				 "it with sysctl -w net.ipv4.ping_group_range=\"%u %u\", kept in "
				 "/etc/sysctl.d/)", strerror(e_ping), range, (unsigned)getgid(),
				 (unsigned)getgid(), (unsigned)getgid());
		if (e_raw)
			snprintf(raw, sizeof(raw),
				 "raw sockets need CAP_NET_RAW (socket(SOCK_RAW): %s; grant it with "
				 "setcap cap_net_raw+ep on vigild, or AmbientCapabilities=CAP_NET_RAW "
				 "in its systemd unit)", strerror(e_raw));
		snprintf(why, why_len, "reach: cannot open an %s socket: %s%s%s", fam, ping,
			 e_ping && e_raw ? ", and " : "", raw);
		return -(e_raw ? e_raw : e_ping);
	}
	s = calloc(1, sizeof(*s));
	if (!s) {
		close(fd);
		snprintf(why, why_len, "reach: out of memory");
		return -ENOMEM;
	}
	s->r = r;
	s->fd = fd;
	s->family = family;
	s->mode = mode;
	/* The kernel sets a ping socket's id; ours marks our echoes among
	 * the host's on a raw socket. */
	s->id = (uint16_t)vgl_reqid_next();
	sock_tune(s);
	rv = uv_poll_init(r->loop, &s->poll, fd);
	if (rv < 0) {
		snprintf(why, why_len, "reach: uv_poll_init on the ICMP socket: %s", uv_strerror(rv));
		close(fd);
		free(s);
		return rv;
	}
	s->poll.data = s;
	r->open_handles++;
	sock_watch(s);
	*out = s;
	return 0;
}

void vgl__reach_icmp_start(struct vgl_reach *r, struct target *t)
{
	struct poll *p = vgl__reach_poll_new(r, t);

	if (!p)
		return;
	/* Back to back: all now. Spaced: one now, the next from the heap. */
	do
		vgl__reach_echo_queue(r, p, p->queued++);
	while (!p->finished && t->gap_ms == 0 && p->queued < t->count);
	if (p->finished)
		return;
	p->ev_ms = p->queued < t->count ? p->start_loop + t->gap_ms
					: p->start_loop + (uint64_t)(t->count - 1) * t->gap_ms +
					  t->timeout_ms;
	if (vgl__reach_heap_push(r, p) < 0) {
		vgl__reach_poll_why(p, "out of memory");
		for (uint16_t i = 0; i < t->count; i++)
			if (p->echo[i].state == E_QUEUED || p->echo[i].state == E_FLIGHT)
				p->errors++;
		vgl__reach_poll_finish(r, p);
	}
}
