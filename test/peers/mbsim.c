/*
 * mbsim - Modbus TCP/RTU device simulator for vigil's integration tests and
 * for the 2,000-device collector benchmark. One process, one epoll loop, so
 * a benchmark host can fake a whole data hall on loopback.
 *
 *   mbsim [options] ENDPOINT...     (TCP)
 *   mbsim [options] --rtu TTY       (RTU on a serial line or pty)
 *
 * ENDPOINT is ADDR:PORT or ADDR-ADDR:PORT (every IPv4 address of the range,
 * same port). Only 127.0.0.0/8 is accepted: tests must never reach a real
 * network. Endpoints are numbered from 0 in command-line order, ranges
 * expanded in order; in RTU mode the line is endpoint 0. Every
 * (endpoint, unit) has its own four tables of --regs entries, seeded with
 * holding[i] = u*1000+i, input[i] = u*2000+i, coil[i] = i%2,
 * discrete[i] = (i+1)%2 (16-bit wrap), so a test can tell units apart.
 * TCP requests for units not in --units get exception 0x0B, as a gateway
 * would; on RTU they are ignored, as other devices on a bus would be.
 *
 * --ready PATH receives one line per endpoint, "ADDR:PORT" (RTU: the TTY),
 * written to PATH.tmp and renamed, once everything listens: that is how a
 * test using port 0 learns its ports, and how it knows mbsim is up.
 *
 * --ctl PATH is a FIFO; one command per line, words separated by blanks.
 * Failures are reported on stderr and the line is ignored; success is quiet.
 * E is an endpoint index, a list such as 0,3,10-19, or *; U likewise a
 * served unit id or *.
 *   set E U hr|ir|co|di ADDR V...  store V... at ADDR, ADDR+1, ...
 *                                  (hr/ir 0..65535, decimal or 0x hex; co/di 0|1)
 *   silent E 0|1                   stop (1) or resume (0) answering; requests
 *                                  are still read, like a hung device
 *   down E                         close the listener and its connections,
 *                                  so connects are refused (RTU: goes quiet)
 *   up E                           listen again on the same ADDR:PORT
 *   exit                           clean exit, as on SIGTERM/SIGINT
 * The FIFO and the ready file are removed at exit.
 *
 * libmodbus is used to format replies (modbus_reply/modbus_reply_exception),
 * to hold the tables and to set up the serial line, but not to receive:
 * in 3.1.6 modbus_receive waits in select() for the rest of a partial frame
 * (stalling every other endpoint, then dropping the bytes read so far and
 * desynchronising the stream), and in RTU its CRC check silently drops every
 * frame whose unit id differs from ctx->slave, so one context cannot serve
 * several units. We frame requests ourselves (MBAP length; RTU function-code
 * length + CRC) in non-blocking per-connection buffers.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <modbus.h>

#define MBAP_MAX 260        /* MODBUS_TCP_MAX_ADU_LENGTH */
#define CTL_LINE 16384
#define CTL_MAXTOK (CTL_LINE / 2)
#define MAX_ENDPOINTS 100000

/* epoll hands back a pointer; the first member says what it points to. */
enum kind { K_LISTEN, K_CONN, K_CTL, K_SIG };

struct conn;

struct ep {
	enum kind kind;
	int idx;
	struct sockaddr_in sa;      /* port filled in after the first bind */
	int lfd;                    /* -1 while down, and in RTU mode */
	bool silent, down;
	modbus_mapping_t **maps;    /* one per served unit, g.units order */
	struct conn *conns;
};

struct conn {
	enum kind kind;
	int fd;
	bool rtu, pending, gap;
	struct ep *ep;
	struct conn *next, *prev;   /* the endpoint's connections */
	struct conn *qnext, *qprev; /* delayed replies, oldest first */
	int64_t deadline;           /* when the pending reply is due */
	int64_t last_rx;            /* RTU: when the last byte arrived */
	size_t flen;                /* length of the pending frame at buf[0] */
	size_t len;
	uint8_t buf[1024];          /* > 2 frames: a pipelined one can wait */
};

static struct {
	struct ep *eps;
	int neps, regs, delay_ms, nunits;
	int units[256], unit_idx[256];
	int epfd, sigfd, ctlfd, sparefd;
	const char *ctl_path, *ready_path, *tty;
	char *ready_tmp;
	bool ctl_made, ready_made, quit;
	modbus_t *tcp, *rtu;
	struct conn *link;          /* RTU line */
	int64_t gap_ms;             /* RTU inter-frame silence */
	struct conn *qhead, *qtail;
	bool *esel, usel[256];
	size_t clen;
	bool cskip;
	char cbuf[CTL_LINE];
	char *tok[CTL_MAXTOK];
	uint16_t vals[CTL_MAXTOK];
} g = { .epfd = -1, .sigfd = -1, .ctlfd = -1, .sparefd = -1 };

static enum kind k_ctl = K_CTL, k_sig = K_SIG;

__attribute__((format(printf, 1, 2)))
static void msg(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("mbsim: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

static void cleanup_files(void)
{
	if (g.ctl_made && unlink(g.ctl_path) < 0)
		msg("unlink %s: %s", g.ctl_path, strerror(errno));
	if (g.ready_made && unlink(g.ready_path) < 0)
		msg("unlink %s: %s", g.ready_path, strerror(errno));
	g.ctl_made = g.ready_made = false;
}

__attribute__((format(printf, 1, 2), noreturn))
static void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("mbsim: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	cleanup_files();
	exit(1);
}

static int64_t now_ms(void)
{
	struct timespec ts;
	if (clock_gettime(CLOCK_MONOTONIC, &ts) < 0)
		die("clock_gettime: %s", strerror(errno));
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static const char *ep_name(const struct ep *e, char *buf, size_t n)
{
	char a[INET_ADDRSTRLEN];
	if (!inet_ntop(AF_INET, &e->sa.sin_addr, a, sizeof a))
		snprintf(a, sizeof a, "?");
	snprintf(buf, n, "%s:%u", a, (unsigned)ntohs(e->sa.sin_port));
	return buf;
}

/* Decimal, or hex with 0x; no sign, no blanks, no octal surprises. */
static bool parse_num(const char *s, unsigned long max, unsigned long *out)
{
	int base = 10;
	char *end;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
	}
	if (!(base == 16 ? isxdigit((unsigned char)*s) : isdigit((unsigned char)*s)))
		return false;
	errno = 0;
	unsigned long v = strtoul(s, &end, base);
	if (errno || *end || v > max)
		return false;
	*out = v;
	return true;
}

/* "*" or a comma list of N and A-B, each in [0, n). */
static bool parse_sel(const char *s, int n, bool *sel)
{
	memset(sel, 0, (size_t)n * sizeof *sel);
	if (!strcmp(s, "*")) {
		for (int i = 0; i < n; i++)
			sel[i] = true;
		return true;
	}
	for (const char *p = s;;) {
		char *end;
		if (!isdigit((unsigned char)*p))
			return false;
		errno = 0;
		unsigned long a = strtoul(p, &end, 10), b = a;
		p = end;
		if (*p == '-') {
			if (!isdigit((unsigned char)*++p))
				return false;
			b = strtoul(p, &end, 10);
			p = end;
		}
		if (errno || a > b || b >= (unsigned long)n)
			return false;
		for (unsigned long i = a; i <= b; i++)
			sel[i] = true;
		if (!*p)
			return true;
		if (*p++ != ',')
			return false;
	}
}

static void q_push(struct conn *c)
{
	c->qnext = NULL;
	c->qprev = g.qtail;
	if (g.qtail)
		g.qtail->qnext = c;
	else
		g.qhead = c;
	g.qtail = c;
}

static void q_remove(struct conn *c)
{
	if (c->qprev)
		c->qprev->qnext = c->qnext;
	else
		g.qhead = c->qnext;
	if (c->qnext)
		c->qnext->qprev = c->qprev;
	else
		g.qtail = c->qprev;
	c->qnext = c->qprev = NULL;
}

static void conn_close(struct conn *c)
{
	if (c->rtu)
		die("%s: serial line failed", g.tty);
	if (c->pending)
		q_remove(c);
	if (c->prev)
		c->prev->next = c->next;
	else
		c->ep->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	if (close(c->fd) < 0)
		msg("endpoint %d: close: %s", c->ep->idx, strerror(errno));
	free(c);
}

/* Reading stops while a reply is delayed: level-triggered epoll would
 * otherwise report the unread data forever. */
static bool set_in(struct conn *c, bool on)
{
	struct epoll_event ev = { .events = on ? EPOLLIN | EPOLLRDHUP : 0,
				  .data.ptr = c };
	if (epoll_ctl(g.epfd, EPOLL_CTL_MOD, c->fd, &ev) == 0)
		return true;
	msg("epoll_ctl(MOD): %s", strerror(errno));
	conn_close(c);
	return false;
}

static void consume(struct conn *c, size_t n)
{
	c->len -= n;
	memmove(c->buf, c->buf + n, c->len);
}

static uint16_t crc16(const uint8_t *p, size_t n)
{
	uint16_t crc = 0xFFFF;
	while (n--) {
		crc ^= *p++;
		for (int i = 0; i < 8; i++)
			crc = (crc & 1) ? (uint16_t)((crc >> 1) ^ 0xA001) : (uint16_t)(crc >> 1);
	}
	return crc;
}

static bool crc_ok(const uint8_t *f, size_t n)
{
	uint16_t c = crc16(f, n - 2);
	return f[n - 2] == (c & 0xFF) && f[n - 1] == (c >> 8);
}

/* Full RTU request length from its first bytes: 0 = need more,
 * -1 = function we cannot size (the silence after it ends it). */
static long rtu_need(const uint8_t *b, size_t n)
{
	switch (b[1]) {
	case 0x01: case 0x02: case 0x03: case 0x04: case 0x05: case 0x06:
		return 8;
	case 0x07: case 0x0B: case 0x0C: case 0x11:
		return 4;
	case 0x0F: case 0x10:
		return n < 7 ? 0 : 9 + b[6];
	case 0x16:
		return 10;
	case 0x17:
		return n < 11 ? 0 : 13 + b[10];
	default:
		return -1;
	}
}

static long rtu_frame(struct conn *c)
{
	while (c->len >= 4) {
		long need = rtu_need(c->buf, c->len);
		if (need < 0) {
			if (!c->gap)
				return 0;
			if (crc_ok(c->buf, c->len))
				return (long)c->len;
			c->len = 0;
			return 0;
		}
		if (need == 0 || (size_t)need > c->len)
			return 0;
		if (crc_ok(c->buf, (size_t)need))
			return need;
		consume(c, 1);  /* noise or another device's reply: resync */
	}
	return 0;
}

/* -1 = corrupt stream (close), 0 = incomplete, else the frame length. */
static long tcp_frame(struct conn *c)
{
	if (c->len < 7)
		return 0;
	unsigned proto = (unsigned)c->buf[2] << 8 | c->buf[3];
	unsigned len = (unsigned)c->buf[4] << 8 | c->buf[5];
	if (proto != 0 || len < 2 || len > MBAP_MAX - 6) {
		msg("endpoint %d: bad MBAP header (protocol %u, length %u), closing",
		    c->ep->idx, proto, len);
		return -1;
	}
	return c->len < 6 + len ? 0 : (long)(6 + len);
}

/* Reject what modbus_reply 3.1.6 would answer via its "flush" path: that
 * sleeps the response timeout and discards whatever else is queued on the
 * socket or tty (pipelined requests, other units' traffic). Also catch
 * 0x07, which it leaves unanswered, and PDUs whose length is inconsistent,
 * which it would read past. Returns the exception code, 0 if fine. */
static int precheck(const uint8_t *p, size_t n)
{
#define W(i) ((unsigned)p[i] << 8 | p[(i) + 1])
#define IN(v, lo, hi) ((v) >= (lo) && (v) <= (hi))
	bool ok;
	switch (p[0]) {
	case 0x01: case 0x02:
		ok = n == 5 && IN(W(3), 1u, (unsigned)MODBUS_MAX_READ_BITS);
		break;
	case 0x03: case 0x04:
		ok = n == 5 && IN(W(3), 1u, (unsigned)MODBUS_MAX_READ_REGISTERS);
		break;
	case 0x05: case 0x06:
		ok = n == 5;
		break;
	case 0x0F:
		ok = n >= 6 && n == 6u + p[5] && IN(W(3), 1u, (unsigned)MODBUS_MAX_WRITE_BITS) &&
		     p[5] == (W(3) + 7) / 8;
		break;
	case 0x10:
		ok = n >= 6 && n == 6u + p[5] && IN(W(3), 1u, (unsigned)MODBUS_MAX_WRITE_REGISTERS) &&
		     p[5] == 2 * W(3);
		break;
	case 0x11:
		ok = n == 1;
		break;
	case 0x16:
		ok = n == 7;
		break;
	case 0x17:
		ok = n >= 10 && n == 10u + p[9] && IN(W(3), 1u, (unsigned)MODBUS_MAX_WR_READ_REGISTERS) &&
		     IN(W(7), 1u, (unsigned)MODBUS_MAX_WR_WRITE_REGISTERS) && p[9] == 2 * W(7);
		break;
	default:
		return MODBUS_EXCEPTION_ILLEGAL_FUNCTION;
	}
	return ok ? 0 : MODBUS_EXCEPTION_ILLEGAL_DATA_VALUE;
#undef W
#undef IN
}

/* Answer the frame at c->buf. False if that cost the connection. */
static bool answer(struct conn *c, size_t fl)
{
	const uint8_t *f = c->buf;
	modbus_t *ctx = c->rtu ? g.rtu : g.tcp;
	size_t hl = c->rtu ? 1 : 7;     /* bytes before the function code */
	int unit = f[hl - 1], rc, ex = precheck(f + hl, fl - hl - (c->rtu ? 2 : 0));

	if (c->rtu && unit == MODBUS_BROADCAST_ADDRESS) {
		/* writes reach every unit; modbus_reply sends nothing for it */
		for (int u = 0; u < g.nunits && !ex; u++)
			if (modbus_reply(ctx, f, (int)fl, c->ep->maps[u]) < 0)
				msg("%s: broadcast: %s", g.tty, modbus_strerror(errno));
		return true;
	}
	/* one TCP context for all connections: we only format replies with
	 * it, and switching its socket is a field store */
	if (!c->rtu && modbus_set_socket(ctx, c->fd) < 0) {
		msg("modbus_set_socket: %s", modbus_strerror(errno));
		conn_close(c);
		return false;
	}
	int ui = g.unit_idx[unit];
	if (ui < 0) {
		if (c->rtu)
			return true;
		rc = modbus_reply_exception(ctx, f, MODBUS_EXCEPTION_GATEWAY_TARGET);
	} else if (ex) {
		rc = modbus_reply_exception(ctx, f, (unsigned)ex);
	} else {
		rc = modbus_reply(ctx, f, (int)fl, c->ep->maps[ui]);
	}
	if (rc >= 0)
		return true;
	if (c->rtu) {
		msg("%s: reply: %s", g.tty, modbus_strerror(errno));
		return true;
	}
	if (errno != EPIPE && errno != ECONNRESET)
		msg("endpoint %d: reply: %s, closing connection", c->ep->idx,
		    errno == EAGAIN || errno == EMBBADDATA ? "client not reading"
							   : modbus_strerror(errno));
	conn_close(c);
	return false;
}

static bool conn_process(struct conn *c)
{
	while (!c->pending && c->len > 0) {
		long fl = c->rtu ? rtu_frame(c) : tcp_frame(c);
		if (fl < 0) {
			conn_close(c);
			return false;
		}
		if (fl == 0)
			break;
		bool mute = c->ep->silent || c->ep->down;
		if (!mute && g.delay_ms > 0) {
			c->pending = true;
			c->flen = (size_t)fl;
			c->deadline = now_ms() + g.delay_ms;
			q_push(c);
			return set_in(c, false);
		}
		if (!mute && !answer(c, (size_t)fl))
			return false;
		consume(c, (size_t)fl);
	}
	return true;
}

static void on_conn(struct conn *c, uint32_t events)
{
	if (c->rtu && (events & (EPOLLHUP | EPOLLERR)))
		die("%s: serial line hung up", g.tty);
	if (!(events & EPOLLIN)) {
		if (events & (EPOLLHUP | EPOLLERR))
			conn_close(c);
		return;
	}
	bool got = false;
	while (c->len < sizeof c->buf) {
		size_t room = sizeof c->buf - c->len;
		ssize_t n = read(c->fd, c->buf + c->len, room);
		if (n > 0) {
			c->len += (size_t)n;
			got = true;
			if ((size_t)n < room)
				break;
			continue;
		}
		if (n == 0) {   /* a tty with VMIN=0 says "nothing" this way */
			if (c->rtu)
				break;
			conn_close(c);
			return;
		}
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			break;
		if (c->rtu)
			die("%s: read: %s", g.tty, strerror(errno));
		if (errno != ECONNRESET)
			msg("endpoint %d: read: %s", c->ep->idx, strerror(errno));
		conn_close(c);
		return;
	}
	if (c->rtu && got) {
		c->last_rx = now_ms();
		c->gap = false;
	}
	conn_process(c);
}

static struct conn *conn_new(struct ep *e, int fd, bool rtu)
{
	struct conn *c = calloc(1, sizeof *c);
	if (!c) {
		msg("endpoint %d: out of memory for a connection", e->idx);
		return NULL;
	}
	c->kind = K_CONN;
	c->fd = fd;
	c->ep = e;
	c->rtu = rtu;
	struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP, .data.ptr = c };
	if (epoll_ctl(g.epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		msg("epoll_ctl(ADD): %s", strerror(errno));
		free(c);
		return NULL;
	}
	if (!rtu) {
		c->next = e->conns;
		if (e->conns)
			e->conns->prev = c;
		e->conns = c;
	}
	return c;
}

static void on_accept(struct ep *e)
{
	for (int i = 0; i < 64; i++) {
		int fd = accept4(e->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			msg("endpoint %d: accept: %s", e->idx, strerror(errno));
			/* out of fds: drop the connection via a reserved fd,
			 * or level-triggered epoll would spin on it */
			if ((errno == EMFILE || errno == ENFILE) && g.sparefd >= 0) {
				close(g.sparefd);
				fd = accept(e->lfd, NULL, NULL);
				if (fd >= 0)
					close(fd);
				g.sparefd = open("/dev/null", O_RDONLY | O_CLOEXEC);
			}
			return;
		}
		int one = 1;
		/* replies are single writes; Nagle would only add latency */
		if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) < 0)
			msg("endpoint %d: TCP_NODELAY: %s", e->idx, strerror(errno));
		if (!conn_new(e, fd, false))
			close(fd);
	}
}

static bool ep_listen(struct ep *e)
{
	char nm[40];
	const char *what = NULL;
	int one = 1, fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	socklen_t sl = sizeof e->sa;
	if (fd < 0)
		what = "socket";
	else if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0)
		what = "setsockopt(SO_REUSEADDR)";
	else if (bind(fd, (struct sockaddr *)&e->sa, sizeof e->sa) < 0)
		what = "bind";
	else if (listen(fd, SOMAXCONN) < 0)
		what = "listen";
	else if (getsockname(fd, (struct sockaddr *)&e->sa, &sl) < 0)
		what = "getsockname";
	else {
		struct epoll_event ev = { .events = EPOLLIN, .data.ptr = e };
		if (epoll_ctl(g.epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
			what = "epoll_ctl(ADD)";
	}
	if (what) {
		msg("endpoint %d (%s): %s: %s", e->idx, ep_name(e, nm, sizeof nm), what,
		    strerror(errno));
		if (fd >= 0)
			close(fd);
		return false;
	}
	e->lfd = fd;
	e->down = false;
	return true;
}

static void ep_down(struct ep *e)
{
	e->down = true;
	if (e->lfd >= 0) {
		if (close(e->lfd) < 0)
			msg("endpoint %d: close: %s", e->idx, strerror(errno));
		e->lfd = -1;
	}
	while (e->conns)
		conn_close(e->conns);
}

static void ep_up(struct ep *e)
{
	if (!e->down)
		return;
	if (g.rtu)
		e->down = false;
	else
		ep_listen(e);   /* on failure it says why and stays down */
}

/* "*" = every served unit; otherwise each listed id must be served. */
static bool unit_sel(const char *s)
{
	if (!strcmp(s, "*")) {
		for (int u = 0; u < 256; u++)
			g.usel[u] = g.unit_idx[u] >= 0;
		return true;
	}
	if (!parse_sel(s, 256, g.usel)) {
		msg("ctl: bad unit '%s' (a unit id, list or *)", s);
		return false;
	}
	for (int u = 0; u < 256; u++)
		if (g.usel[u] && g.unit_idx[u] < 0) {
			msg("ctl: unit %d is not served", u);
			return false;
		}
	return true;
}

static bool ep_sel(const char *cmd, const char *s)
{
	if (parse_sel(s, g.neps, g.esel))
		return true;
	msg("ctl: %s: bad endpoint '%s' (0-%d, list, range or *)", cmd, s, g.neps - 1);
	return false;
}

static void ctl_set(int n, char **t)
{
	static const char *tabs[] = { "hr", "ir", "co", "di" };
	unsigned long addr, v;
	int tab;
	if (n < 6) {
		msg("ctl: usage: set E U hr|ir|co|di ADDR V [V...]");
		return;
	}
	if (!ep_sel("set", t[1]) || !unit_sel(t[2]))
		return;
	for (tab = 0; tab < 4 && strcmp(t[3], tabs[tab]); tab++)
		;
	if (tab == 4) {
		msg("ctl: set: bad table '%s' (hr, ir, co or di)", t[3]);
		return;
	}
	size_t nv = (size_t)n - 5;
	if (!parse_num(t[4], (unsigned long)g.regs - 1, &addr) || addr + nv > (size_t)g.regs) {
		msg("ctl: set: address %s with %zu values does not fit in %d registers",
		    t[4], nv, g.regs);
		return;
	}
	for (size_t i = 0; i < nv; i++) {
		if (!parse_num(t[5 + i], tab < 2 ? 65535 : 1, &v)) {
			msg("ctl: set: bad value '%s' for %s", t[5 + i], t[3]);
			return;
		}
		g.vals[i] = (uint16_t)v;
	}
	for (int e = 0; e < g.neps; e++)
		for (int k = 0; g.esel[e] && k < g.nunits; k++) {
			if (!g.usel[g.units[k]])
				continue;
			modbus_mapping_t *m = g.eps[e].maps[k];
			for (size_t i = 0; i < nv; i++) {
				if (tab == 0)
					m->tab_registers[addr + i] = g.vals[i];
				else if (tab == 1)
					m->tab_input_registers[addr + i] = g.vals[i];
				else if (tab == 2)
					m->tab_bits[addr + i] = (uint8_t)g.vals[i];
				else
					m->tab_input_bits[addr + i] = (uint8_t)g.vals[i];
			}
		}
}

static void ctl_line(char *line)
{
	int n = 0;
	char *save;
	for (char *t = strtok_r(line, " \t\r", &save); t; t = strtok_r(NULL, " \t\r", &save)) {
		if (n == CTL_MAXTOK) {
			msg("ctl: too many words, line ignored");
			return;
		}
		g.tok[n++] = t;
	}
	if (n == 0)
		return;
	const char *cmd = g.tok[0];
	if (!strcmp(cmd, "set")) {
		ctl_set(n, g.tok);
	} else if (!strcmp(cmd, "exit") && n == 1) {
		g.quit = true;
	} else if (!strcmp(cmd, "silent") && n == 3) {
		if (strcmp(g.tok[2], "0") && strcmp(g.tok[2], "1")) {
			msg("ctl: usage: silent E 0|1");
			return;
		}
		if (ep_sel(cmd, g.tok[1]))
			for (int e = 0; e < g.neps; e++)
				if (g.esel[e])
					g.eps[e].silent = g.tok[2][0] == '1';
	} else if ((!strcmp(cmd, "down") || !strcmp(cmd, "up")) && n == 2) {
		if (ep_sel(cmd, g.tok[1]))
			for (int e = 0; e < g.neps; e++)
				if (g.esel[e])
					(cmd[0] == 'd' ? ep_down : ep_up)(&g.eps[e]);
	} else {
		msg("ctl: unknown or malformed command '%s' (set, silent, down, up, exit)", cmd);
	}
}

static void on_ctl(void)
{
	while (!g.quit) {
		ssize_t n = read(g.ctlfd, g.cbuf + g.clen, sizeof g.cbuf - g.clen);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
			msg("ctl: read: %s", strerror(errno));
		if (n <= 0)
			return;
		g.clen += (size_t)n;
		char *p = g.cbuf, *nl, *end = g.cbuf + g.clen;
		while (!g.quit && (nl = memchr(p, '\n', (size_t)(end - p)))) {
			*nl = '\0';
			if (!g.cskip)
				ctl_line(p);
			g.cskip = false;
			p = nl + 1;
		}
		g.clen = g.quit ? 0 : (size_t)(end - p);
		memmove(g.cbuf, p, g.clen);
		if (g.clen == sizeof g.cbuf) {
			msg("ctl: line longer than %zu bytes ignored", sizeof g.cbuf - 1);
			g.clen = 0;
			g.cskip = true;
		}
	}
}

static void open_ctl(void)
{
	struct stat st;
	if (mkfifo(g.ctl_path, 0600) < 0 &&
	    !(errno == EEXIST && stat(g.ctl_path, &st) == 0 && S_ISFIFO(st.st_mode)))
		die("--ctl %s: mkfifo: %s", g.ctl_path,
		    errno == EEXIST ? "exists and is not a FIFO" : strerror(errno));
	g.ctl_made = true;
	/* O_RDWR: we are a writer too, so no EOF when test writers close,
	 * and their open() never blocks waiting for a reader */
	g.ctlfd = open(g.ctl_path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (g.ctlfd < 0)
		die("--ctl %s: open: %s", g.ctl_path, strerror(errno));
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &k_ctl };
	if (epoll_ctl(g.epfd, EPOLL_CTL_ADD, g.ctlfd, &ev) < 0)
		die("epoll_ctl(ADD ctl): %s", strerror(errno));
}

static void write_ready(void)
{
	size_t n = strlen(g.ready_path) + 5;
	char nm[40];
	if (!(g.ready_tmp = malloc(n)))
		die("out of memory");
	snprintf(g.ready_tmp, n, "%s.tmp", g.ready_path);
	FILE *f = fopen(g.ready_tmp, "w");
	if (!f)
		die("--ready %s: %s", g.ready_tmp, strerror(errno));
	for (int e = 0; e < g.neps; e++)
		fprintf(f, "%s\n", g.rtu ? g.tty : ep_name(&g.eps[e], nm, sizeof nm));
	int bad = ferror(f);
	if (fclose(f) != 0 || bad || rename(g.ready_tmp, g.ready_path) < 0) {
		int err = errno;
		unlink(g.ready_tmp);
		die("--ready %s: write: %s", g.ready_path, strerror(err));
	}
	g.ready_made = true;
}

/* ADDR:PORT or ADDR-ADDR:PORT, host-order range [*lo, *hi], loopback only. */
static bool parse_endpoint(const char *s, uint32_t *lo, uint32_t *hi, uint16_t *port)
{
	char buf[2 * INET_ADDRSTRLEN + 8];
	unsigned long p;
	struct in_addr a;
	if (strlen(s) >= sizeof buf)
		return false;
	strcpy(buf, s);
	char *colon = strrchr(buf, ':');
	if (!colon || !parse_num(colon + 1, 65535, &p))
		return false;
	*colon = '\0';
	*port = (uint16_t)p;
	char *dash = strchr(buf, '-');
	if (dash)
		*dash = '\0';
	if (inet_pton(AF_INET, buf, &a) != 1)
		return false;
	*lo = *hi = ntohl(a.s_addr);
	if (dash) {
		if (inet_pton(AF_INET, dash + 1, &a) != 1)
			return false;
		*hi = ntohl(a.s_addr);
	}
	return true;
}

static void setup_endpoints(int argc, char **argv, const char *silent)
{
	uint32_t (*r)[3] = calloc((size_t)argc + 1, sizeof *r);
	if (!r)
		die("out of memory");
	long total = 0;
	for (int i = 0; i < argc; i++) {
		uint16_t port;
		if (!parse_endpoint(argv[i], &r[i][0], &r[i][1], &port))
			die("bad endpoint '%s' (ADDR:PORT or ADDR-ADDR:PORT)", argv[i]);
		if (r[i][0] >> 24 != 127 || r[i][1] >> 24 != 127)
			die("endpoint '%s': only 127.0.0.0/8 is allowed", argv[i]);
		if (r[i][0] > r[i][1])
			die("endpoint '%s': range runs backwards", argv[i]);
		r[i][2] = port;
		total += (long)(r[i][1] - r[i][0]) + 1;
		if (total > MAX_ENDPOINTS)
			die("more than %d endpoints requested", MAX_ENDPOINTS);
	}
	g.neps = g.rtu ? 1 : (int)total;

	/* one fd per listener plus one per connection, the benchmark's shape */
	struct rlimit rl;
	rlim_t need = g.rtu ? 32 : 2 * (rlim_t)g.neps + 32;
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		die("getrlimit(RLIMIT_NOFILE): %s", strerror(errno));
	if (rl.rlim_cur < rl.rlim_max) {
		rlim_t cur = rl.rlim_cur;
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0) {
			msg("setrlimit(RLIMIT_NOFILE, %llu): %s", (unsigned long long)rl.rlim_max,
			    strerror(errno));
			rl.rlim_cur = cur;
		}
	}
	if (rl.rlim_cur < need)
		die("RLIMIT_NOFILE is %llu (hard limit %llu): too low for %d endpoints with one "
		    "connection each, need %llu; raise the hard limit (ulimit -Hn, LimitNOFILE=)",
		    (unsigned long long)rl.rlim_cur, (unsigned long long)rl.rlim_max, g.neps,
		    (unsigned long long)need);

	if (!(g.eps = calloc((size_t)g.neps, sizeof *g.eps)) ||
	    !(g.esel = calloc((size_t)g.neps, sizeof *g.esel)))
		die("out of memory for %d endpoints", g.neps);
	for (int i = 0, e = 0; i < argc; i++)
		for (uint64_t a = r[i][0]; a <= r[i][1]; a++, e++) {
			g.eps[e].sa.sin_family = AF_INET;
			g.eps[e].sa.sin_addr.s_addr = htonl((uint32_t)a);
			g.eps[e].sa.sin_port = htons((uint16_t)r[i][2]);
		}
	free(r);
	if (silent && !parse_sel(silent, g.neps, g.esel))
		die("--silent '%s': want indexes or ranges within 0-%d", silent, g.neps - 1);
	for (int e = 0; e < g.neps; e++) {
		struct ep *ep = &g.eps[e];
		ep->kind = K_LISTEN;
		ep->idx = e;
		ep->lfd = -1;
		ep->silent = silent && g.esel[e];
		if (!(ep->maps = calloc((size_t)g.nunits, sizeof *ep->maps)))
			die("out of memory");
		for (int k = 0; k < g.nunits; k++) {
			modbus_mapping_t *m = modbus_mapping_new(g.regs, g.regs, g.regs, g.regs);
			if (!m)
				die("modbus_mapping_new(%d): %s", g.regs, modbus_strerror(errno));
			unsigned u = (unsigned)g.units[k];
			for (int i = 0; i < g.regs; i++) {
				m->tab_registers[i] = (uint16_t)(u * 1000 + (unsigned)i);
				m->tab_input_registers[i] = (uint16_t)(u * 2000 + (unsigned)i);
				m->tab_bits[i] = (uint8_t)(i % 2);
				m->tab_input_bits[i] = (uint8_t)((i + 1) % 2);
			}
			ep->maps[k] = m;
		}
	}
}

static void setup_rtu(long baud, char parity, int bits, int stop)
{
	if (!(g.rtu = modbus_new_rtu(g.tty, (int)baud, parity, bits, stop)))
		die("modbus_new_rtu(%s): %s", g.tty, modbus_strerror(errno));
	if (modbus_set_response_timeout(g.rtu, 0, 1) < 0)
		die("modbus_set_response_timeout: %s", modbus_strerror(errno));
	if (modbus_connect(g.rtu) < 0)
		die("%s: cannot open/configure: %s", g.tty, modbus_strerror(errno));
	int fd = modbus_get_socket(g.rtu);  /* opened O_NDELAY by libmodbus */
	if (fd < 0)
		die("modbus_get_socket: %s", modbus_strerror(errno));
	if (!(g.link = conn_new(&g.eps[0], fd, true)))
		die("%s: cannot watch the line", g.tty);
	/* 3.5 characters, but a pty or USB adapter delivers in bursts */
	int64_t bits_per_char = 1 + bits + (parity != 'N') + stop;
	g.gap_ms = 35 * bits_per_char * 1000 / (10 * baud) + 1;
	if (g.gap_ms < 50)
		g.gap_ms = 50;
}

static void usage(FILE *f)
{
	fputs("usage: mbsim [options] ADDR:PORT|ADDR-ADDR:PORT...  (127.0.0.0/8 only)\n"
	      "       mbsim [options] --rtu TTY\n"
	      "  --units LIST     unit ids served on every endpoint (default 1)\n"
	      "  --regs N         entries in each of the 4 tables, 1..10000 (default 200)\n"
	      "  --rtu TTY        serve Modbus RTU on TTY; --baud N --parity N|E|O\n"
	      "                   --data-bits N --stop-bits N (default 9600 N 8 1)\n"
	      "  --ctl PATH       command FIFO: set E U hr|ir|co|di ADDR V..., silent E 0|1,\n"
	      "                   down E, up E, exit\n"
	      "  --ready PATH     write each endpoint's ADDR:PORT (or TTY) once listening\n"
	      "  --silent LIST    endpoints that never answer, e.g. 0,3,10-19\n"
	      "  --delay-ms N     answer every request after N ms (default 0)\n"
	      "  -h, --help       this text\n", f);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "units", 1, 0, 'u' }, { "regs", 1, 0, 'r' }, { "rtu", 1, 0, 'R' },
		{ "baud", 1, 0, 'b' }, { "parity", 1, 0, 'p' }, { "data-bits", 1, 0, 'd' },
		{ "stop-bits", 1, 0, 's' }, { "ctl", 1, 0, 'c' }, { "ready", 1, 0, 'y' },
		{ "silent", 1, 0, 'S' }, { "delay-ms", 1, 0, 'D' }, { "help", 0, 0, 'h' },
		{ 0, 0, 0, 0 }
	};
	static const long bauds[] = { 1200, 2400, 4800, 9600, 19200, 38400, 57600,
				      115200, 230400, 460800, 921600 };
	const char *units = "1", *silent = NULL;
	unsigned long v, baud = 9600, bits = 8, stop = 1, regs = 200, delay = 0;
	char parity = 'N';
	int o;
	while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (o) {
		case 'u': units = optarg; break;
		case 'R': g.tty = optarg; break;
		case 'c': g.ctl_path = optarg; break;
		case 'y': g.ready_path = optarg; break;
		case 'S': silent = optarg; break;
		case 'r':
			if (!parse_num(optarg, 10000, &regs) || regs < 1)
				die("--regs: want 1..10000, got '%s'", optarg);
			break;
		case 'D':
			if (!parse_num(optarg, 3600000, &delay))
				die("--delay-ms: want 0..3600000, got '%s'", optarg);
			break;
		case 'b':
			v = 0;
			for (size_t i = 0; parse_num(optarg, 921600, &baud) &&
					   i < sizeof bauds / sizeof *bauds; i++)
				v |= (long)baud == bauds[i];
			if (!v)
				die("--baud: unsupported rate '%s'", optarg);
			break;
		case 'p':
			if (strlen(optarg) != 1 || !strchr("NEO", optarg[0]))
				die("--parity: want N, E or O");
			parity = optarg[0];
			break;
		case 'd':
			if (!parse_num(optarg, 8, &bits) || bits < 5)
				die("--data-bits: want 5..8");
			break;
		case 's':
			if (!parse_num(optarg, 2, &stop) || stop < 1)
				die("--stop-bits: want 1 or 2");
			break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	g.regs = (int)regs;
	g.delay_ms = (int)delay;
	if (g.tty ? optind != argc : optind == argc) {
		msg(g.tty ? "--rtu takes no ENDPOINT arguments" : "no ENDPOINT given");
		usage(stderr);
		return 2;
	}
	bool us[256];
	if (!parse_sel(units, 256, us) || !strcmp(units, "*"))
		die("--units '%s': want a list of unit ids 0..255", units);
	for (int u = 0; u < 256; u++) {
		g.unit_idx[u] = -1;
		if (!us[u])
			continue;
		if (g.tty && (u < 1 || u > 247))
			die("--units: RTU unit ids are 1..247, not %d", u);
		g.unit_idx[u] = g.nunits;
		g.units[g.nunits++] = u;
	}

	/* signals arrive as fd events, so cleanup runs in the loop */
	sigset_t ss;
	if (sigemptyset(&ss) < 0 || sigaddset(&ss, SIGTERM) < 0 || sigaddset(&ss, SIGINT) < 0 ||
	    sigprocmask(SIG_BLOCK, &ss, NULL) < 0)
		die("sigprocmask: %s", strerror(errno));
	if (signal(SIGPIPE, SIG_IGN) == SIG_ERR)
		die("signal(SIGPIPE): %s", strerror(errno));
	if ((g.sigfd = signalfd(-1, &ss, SFD_NONBLOCK | SFD_CLOEXEC)) < 0)
		die("signalfd: %s", strerror(errno));
	if ((g.epfd = epoll_create1(EPOLL_CLOEXEC)) < 0)
		die("epoll_create1: %s", strerror(errno));
	struct epoll_event sev = { .events = EPOLLIN, .data.ptr = &k_sig };
	if (epoll_ctl(g.epfd, EPOLL_CTL_ADD, g.sigfd, &sev) < 0)
		die("epoll_ctl(ADD signalfd): %s", strerror(errno));

	setup_endpoints(argc - optind, argv + optind, silent);
	if ((g.sparefd = open("/dev/null", O_RDONLY | O_CLOEXEC)) < 0)
		die("/dev/null: %s", strerror(errno));
	if (g.tty) {
		setup_rtu((long)baud, parity, (int)bits, (int)stop);
	} else {
		if (!(g.tcp = modbus_new_tcp("127.0.0.1", 0)))
			die("modbus_new_tcp: %s", modbus_strerror(errno));
		/* bounds the sleep in modbus_reply's flush path should
		 * precheck() ever miss a case */
		if (modbus_set_response_timeout(g.tcp, 0, 1) < 0)
			die("modbus_set_response_timeout: %s", modbus_strerror(errno));
		for (int e = 0; e < g.neps; e++)
			if (!ep_listen(&g.eps[e]))
				die("cannot listen on endpoint %d", e);
	}
	if (g.ctl_path)
		open_ctl();
	if (g.ready_path)
		write_ready();

	struct epoll_event evs[256];
	while (!g.quit) {
		int64_t now = now_ms(), due = -1;
		if (g.qhead)
			due = g.qhead->deadline;
		if (g.link && g.link->len && !g.link->pending &&
		    (due < 0 || g.link->last_rx + g.gap_ms < due))
			due = g.link->last_rx + g.gap_ms;
		int timeout = due < 0 ? -1 : due <= now ? 0 : (int)(due - now > INT_MAX ? INT_MAX : due - now);
		int n = epoll_wait(g.epfd, evs, (int)(sizeof evs / sizeof *evs), timeout);
		if (n < 0 && errno != EINTR)
			die("epoll_wait: %s", strerror(errno));
		for (int i = 0; i < n && !g.quit; i++) {
			enum kind k = *(enum kind *)evs[i].data.ptr;
			if (k == K_LISTEN)
				on_accept(evs[i].data.ptr);
			else if (k == K_CONN)
				on_conn(evs[i].data.ptr, evs[i].events);
			else if (k == K_CTL)
				on_ctl();
			else
				g.quit = true;  /* SIGTERM or SIGINT */
			/* ctl "down" may free a conn reported later in evs */
			if (k == K_CTL)
				break;
		}
		now = now_ms();
		while (!g.quit && g.qhead && g.qhead->deadline <= now) {
			struct conn *c = g.qhead;
			q_remove(c);
			c->pending = false;
			if (!c->ep->silent && !c->ep->down && !answer(c, c->flen))
				continue;
			consume(c, c->flen);
			c->last_rx = now;
			if (set_in(c, true))
				conn_process(c);
		}
		if (g.link && g.link->len && !g.link->pending &&
		    g.link->last_rx + g.gap_ms <= now) {
			g.link->gap = true;     /* silence ends a frame */
			conn_process(g.link);
			g.link->gap = false;
			if (!g.link->pending)
				g.link->len = 0;
		}
	}

	for (int e = 0; e < g.neps; e++) {
		ep_down(&g.eps[e]);
		for (int k = 0; k < g.nunits; k++)
			modbus_mapping_free(g.eps[e].maps[k]);
		free(g.eps[e].maps);
	}
	if (g.rtu) {
		free(g.link);
		modbus_close(g.rtu);    /* restores the line's termios */
		modbus_free(g.rtu);
	}
	if (g.tcp) {
		modbus_set_socket(g.tcp, -1);
		modbus_free(g.tcp);
	}
	cleanup_files();
	free(g.eps);
	free(g.esel);
	free(g.ready_tmp);
	close(g.ctlfd);
	close(g.sparefd);
	close(g.sigfd);
	close(g.epfd);
	return 0;
}
