/*
 * mbsim - Modbus TCP/RTU device simulator for vigil's integration tests, the
 * demo and the 2,000-device benchmark: one process, one epoll loop, so one
 * core can fake a whole data hall on loopback. Options: usage[] below.
 *
 * ENDPOINT is ADDR:PORT or ADDR-ADDR:PORT (every IPv4 address of the range,
 * same port), only in 127.0.0.0/8 so tests never reach a real network;
 * numbered from 0 in command-line order, ranges expanded in order. With
 * --rtu TTY there are none and the line is endpoint 0. Each (endpoint,
 * unit) has its own four tables, seeded holding[i] = u*1000+i, input[i] =
 * u*2000+i, coil[i] = i%2, discrete[i] = (i+1)%2 (16-bit wrap) so tests can
 * tell units apart. A TCP request for a unit not served gets exception 0x0B
 * as from a gateway; on RTU nothing, as on a bus without that device.
 *
 * --ready PATH: "ADDR:PORT" (RTU: the TTY) per endpoint, one a line,
 * written to PATH.tmp and renamed once all listen and --ctl is open: how a
 * test using port 0 learns its ports and knows it may send commands.
 *
 * --ctl PATH: a FIFO of commands, one a line; a bad one is reported on
 * stderr and ignored, success is silent. E: an endpoint index, a list such
 * as 0,3,10-19, or *; U: a served unit id, list or *.
 *   set E U hr|ir|co|di ADDR V...  V... at ADDR, ADDR+1... (hr/ir 0..65535,
 *                                  decimal or 0x hex; co/di 0|1)
 *   silent E 0|1                   1: read requests, never answer (hung)
 *   down E                         close listener and connections: connects
 *                                  are refused (RTU: the device goes quiet)
 *   up E                           listen again on the same ADDR:PORT
 *   exit                           exit, as on SIGTERM/SIGINT
 * Both files are removed at exit.
 *
 * libmodbus formats replies, holds the tables and sets up the serial line
 * but does not receive: 3.1.6's modbus_receive waits in select() for the
 * rest of a partial frame (stalling all endpoints, then losing the bytes
 * and the stream's framing), and in RTU drops frames whose unit is not
 * ctx->slave, so one context cannot serve several units. Requests are
 * framed here instead, in non-blocking per-connection buffers.
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

#define MBAP_MAX 260            /* MODBUS_TCP_MAX_ADU_LENGTH */
#define CTL_LINE 16384
#define CTL_MAXTOK (CTL_LINE / 2)
#define MAX_ENDPOINTS 100000

static const char usage[] =
	"usage: mbsim [options] ADDR:PORT|ADDR-ADDR:PORT...   (127.0.0.0/8 only)\n"
	"       mbsim [options] --rtu TTY [--baud 9600 --parity N|E|O\n"
	"                                  --data-bits 8 --stop-bits 1]\n"
	"  --units LIST    unit ids served on every endpoint (default 1)\n"
	"  --regs N        entries in each of the 4 tables, 1..10000 (default 200)\n"
	"  --ctl PATH      command FIFO    --ready PATH   endpoints written once up\n"
	"  --silent LIST   endpoints that never answer, e.g. 0,3,10-19\n"
	"  --delay-ms N    answer every request N ms late (default 0)\n";

/* epoll hands back a pointer; its first member says what it points to */
enum kind { K_LISTEN, K_CONN, K_CTL, K_SIG };

struct ep {
	enum kind kind;
	int idx, lfd;               /* lfd -1 while down, and in RTU mode */
	struct sockaddr_in sa;      /* port 0 replaced by the bound one */
	bool silent, down;
	modbus_mapping_t **maps;    /* one per served unit, g.units order */
	struct conn *conns;
};

struct conn {
	enum kind kind;
	int fd;
	bool rtu, pending;
	struct ep *ep;
	struct conn *next, *prev;   /* the endpoint's connections */
	struct conn *qnext, *qprev; /* delayed replies, oldest first */
	int64_t deadline, last_rx;  /* reply due; RTU: last byte seen */
	size_t flen, len;           /* flen: the pending frame at buf[0] */
	uint8_t buf[1024];          /* room for pipelined frames behind one */
};

static struct {
	struct ep *eps;
	int neps, regs, delay_ms, nunits, units[256], unit_idx[256];
	int epfd, ctlfd, sparefd;
	const char *ctl_path, *ready_path, *tty;
	bool ctl_made, ready_made, quit, cskip, *esel, usel[256];
	modbus_t *tcp, *rtu;
	struct conn *link, *qhead, *qtail;  /* link: the RTU line */
	int64_t gap_ms;                     /* RTU: silence that ends a frame */
	size_t clen;
	char cbuf[CTL_LINE], *tok[CTL_MAXTOK];
	uint16_t vals[CTL_MAXTOK];
} g = { .epfd = -1, .ctlfd = -1, .sparefd = -1, .regs = 200 };

static enum kind k_ctl = K_CTL, k_sig = K_SIG;

/* false, so that "return msg(...)" reports and fails in one go */
__attribute__((format(printf, 1, 2))) static bool msg(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("mbsim: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	return false;
}

static void cleanup_files(void)
{
	if (g.ctl_made && unlink(g.ctl_path) < 0) msg("unlink %s: %s", g.ctl_path, strerror(errno));
	if (g.ready_made && unlink(g.ready_path) < 0)
		msg("unlink %s: %s", g.ready_path, strerror(errno));
	g.ctl_made = g.ready_made = false;
}

#define die(...) (msg(__VA_ARGS__), cleanup_files(), exit(1))

static int64_t now_ms(void)
{
	struct timespec ts;
	if (clock_gettime(CLOCK_MONOTONIC, &ts) < 0) die("clock_gettime: %s", strerror(errno));
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static const char *ep_name(const struct ep *e, char *buf, size_t n)
{
	char a[INET_ADDRSTRLEN] = "?";
	inet_ntop(AF_INET, &e->sa.sin_addr, a, sizeof a);  /* AF_INET, room: cannot fail */
	snprintf(buf, n, "%s:%u", a, (unsigned)ntohs(e->sa.sin_port));
	return buf;
}

/* Decimal, or hex with 0x; no sign, no blanks, no octal surprises. */
static bool parse_num(const char *s, unsigned long max, unsigned long *out)
{
	int base = (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) ? 16 : 10;
	char *end;
	s += base == 16 ? 2 : 0;
	if (!(base == 16 ? isxdigit((unsigned char)*s) : isdigit((unsigned char)*s)))
		return false;
	errno = 0;
	*out = strtoul(s, &end, base);
	return !errno && !*end && *out <= max;
}

/* "*" or a comma list of N and A-B, each in [0, n). */
static bool parse_sel(const char *s, int n, bool *sel)
{
	bool all = !strcmp(s, "*");
	for (int i = 0; i < n; i++) sel[i] = all;
	for (const char *p = s; !all;) {
		char *end;
		unsigned long a, b;
		if (!isdigit((unsigned char)*p)) return false;
		errno = 0;
		a = b = strtoul(p, &end, 10);
		if (*(p = end) == '-') {
			if (!isdigit((unsigned char)*++p)) return false;
			b = strtoul(p, &end, 10);
			p = end;
		}
		if (errno || a > b || b >= (unsigned long)n) return false;
		while (a <= b) sel[a++] = true;
		if (!*p) break;
		if (*p++ != ',') return false;
	}
	return true;
}

static void q_remove(struct conn *c)
{
	*(c->qprev ? &c->qprev->qnext : &g.qhead) = c->qnext;
	*(c->qnext ? &c->qnext->qprev : &g.qtail) = c->qprev;
	c->qnext = c->qprev = NULL;
}

static void conn_close(struct conn *c)
{
	if (c->rtu) die("%s: serial line failed", g.tty);
	if (c->pending) q_remove(c);
	*(c->prev ? &c->prev->next : &c->ep->conns) = c->next;
	if (c->next) c->next->prev = c->prev;
	if (close(c->fd) < 0) msg("endpoint %d: close: %s", c->ep->idx, strerror(errno));
	free(c);
}

/* Reading pauses while a reply is delayed: level-triggered epoll would
 * otherwise report the unread bytes in a tight loop. */
static bool set_in(struct conn *c, bool on)
{
	struct epoll_event ev = { .events = on ? EPOLLIN | EPOLLRDHUP : 0, .data.ptr = c };
	if (epoll_ctl(g.epfd, EPOLL_CTL_MOD, c->fd, &ev) == 0) return true;
	msg("epoll_ctl(MOD): %s", strerror(errno));
	conn_close(c);
	return false;
}

static void consume(struct conn *c, size_t n)
{
	c->len -= n;
	memmove(c->buf, c->buf + n, c->len);
}

static bool crc_ok(const uint8_t *f, size_t n)
{
	unsigned crc = 0xFFFF;
	for (size_t i = 0; i < n - 2; i++) {
		crc ^= f[i];
		for (int b = 0; b < 8; b++) crc = (crc & 1) ? (crc >> 1) ^ 0xA001 : crc >> 1;
	}
	return f[n - 2] == (crc & 0xFF) && f[n - 1] == crc >> 8;
}

/* RTU request length from its first bytes: 0 = need more bytes,
 * -1 = not a request we know (so not a frame start: resync). */
static long rtu_need(const uint8_t *b, size_t n)
{
	switch (b[1]) {
	case 0x01: case 0x02: case 0x03: case 0x04: case 0x05: case 0x06: return 8;
	case 0x07: case 0x0B: case 0x0C: case 0x11: return 4;
	case 0x0F: case 0x10: return n < 7 ? 0 : 9 + b[6];
	case 0x16: return 10;
	case 0x17: return n < 11 ? 0 : 13 + b[10];
	default: return -1;
	}
}

/* Length of the frame at buf[0], sliding past junk (noise, a lost byte,
 * another device's reply) until a known request with a good CRC. */
static long rtu_frame(struct conn *c)
{
	while (c->len >= 4) {
		long need = rtu_need(c->buf, c->len);
		if (need == 0 || (need > 0 && (size_t)need > c->len)) return 0;
		if (need > 0 && crc_ok(c->buf, (size_t)need)) return need;
		consume(c, 1);
	}
	return 0;
}

/* -1 = corrupt stream (close it), 0 = incomplete, else the frame length */
static long tcp_frame(struct conn *c)
{
	if (c->len < 7) return 0;
	unsigned proto = (unsigned)c->buf[2] << 8 | c->buf[3];
	unsigned len = (unsigned)c->buf[4] << 8 | c->buf[5];
	if (proto == 0 && len >= 2 && len <= MBAP_MAX - 6)
		return c->len < 6 + len ? 0 : (long)(6 + len);
	msg("endpoint %d: bad MBAP header (protocol %u, length %u), closing", c->ep->idx,
	    proto, len);
	return -1;
}

/* The exception for what modbus_reply 3.1.6 would answer through its
 * "flush" path, which sleeps the response timeout and then discards all
 * input queued on the socket or tty (pipelined requests, other units'
 * traffic); also for 0x07, which it leaves unanswered, and for PDUs whose
 * length does not match, which it would read past. 0 = let it reply. */
static int precheck(const uint8_t *p, size_t n)
{
#define W(i) ((unsigned)p[i] << 8 | p[(i) + 1])
#define IN(v, hi) ((v) >= 1u && (v) <= (unsigned)(hi))
	bool ok;
	switch (p[0]) {
	case 0x01: case 0x02: ok = n == 5 && IN(W(3), MODBUS_MAX_READ_BITS); break;
	case 0x03: case 0x04: ok = n == 5 && IN(W(3), MODBUS_MAX_READ_REGISTERS); break;
	case 0x05: case 0x06: ok = n == 5; break;
	case 0x0F: ok = n >= 6 && n == 6u + p[5] && IN(W(3), MODBUS_MAX_WRITE_BITS) &&
			p[5] == (W(3) + 7) / 8; break;
	case 0x10: ok = n >= 6 && n == 6u + p[5] && IN(W(3), MODBUS_MAX_WRITE_REGISTERS) &&
			p[5] == 2 * W(3); break;
	case 0x11: ok = n == 1; break;
	case 0x16: ok = n == 7; break;
	case 0x17: ok = n >= 10 && n == 10u + p[9] && IN(W(3), MODBUS_MAX_WR_READ_REGISTERS) &&
			IN(W(7), MODBUS_MAX_WR_WRITE_REGISTERS) && p[9] == 2 * W(7); break;
	default: return MODBUS_EXCEPTION_ILLEGAL_FUNCTION;
	}
	return ok ? 0 : MODBUS_EXCEPTION_ILLEGAL_DATA_VALUE;
#undef W
#undef IN
}

/* Answer the frame at c->buf; false if that cost the connection. */
static bool answer(struct conn *c, size_t fl)
{
	const uint8_t *f = c->buf;
	modbus_t *ctx = c->rtu ? g.rtu : g.tcp;
	size_t hl = c->rtu ? 1 : 7;     /* bytes before the function code */
	int unit = f[hl - 1], ui = g.unit_idx[unit], rc;
	int ex = precheck(f + hl, fl - hl - (c->rtu ? 2 : 0));

	if (c->rtu && ui < 0) return true;    /* includes broadcasts (unit 0) */
	/* One TCP context serves every connection: it only formats and sends
	 * replies, and modbus_set_socket is a field store (3 ns, against 34 ns
	 * for a modbus_new_tcp + modbus_free per connection). */
	if (!c->rtu && modbus_set_socket(ctx, c->fd) < 0) rc = -1;
	else if (ui < 0) rc = modbus_reply_exception(ctx, f, MODBUS_EXCEPTION_GATEWAY_TARGET);
	else if (ex) rc = modbus_reply_exception(ctx, f, (unsigned)ex);
	else rc = modbus_reply(ctx, f, (int)fl, c->ep->maps[ui]);
	if (rc >= 0 || (c->rtu && !msg("%s: reply: %s", g.tty, modbus_strerror(errno))))
		return true;
	if (errno != EPIPE && errno != ECONNRESET)
		msg("endpoint %d: reply: %s, closing the connection", c->ep->idx,
		    errno == EAGAIN || errno == EMBBADDATA ? "client not reading"
							   : modbus_strerror(errno));
	conn_close(c);
	return false;
}

/* Answer (or queue) the complete frames in c->buf; false if c is gone. */
static bool conn_process(struct conn *c)
{
	while (!c->pending && c->len > 0) {
		long fl = c->rtu ? rtu_frame(c) : tcp_frame(c);
		if (fl < 0) conn_close(c);
		if (fl <= 0) return fl == 0;
		bool mute = c->ep->silent || c->ep->down;
		if (!mute && g.delay_ms > 0) {
			c->pending = true;
			c->flen = (size_t)fl;
			c->deadline = now_ms() + g.delay_ms;
			/* one delay for all: appending keeps the queue in deadline order */
			c->qnext = NULL;
			c->qprev = g.qtail;
			*(g.qtail ? &g.qtail->qnext : &g.qhead) = c;
			g.qtail = c;
			return set_in(c, false);
		}
		if (!mute && !answer(c, (size_t)fl)) return false;
		consume(c, (size_t)fl);
	}
	return true;
}

static void on_conn(struct conn *c, uint32_t events)
{
	size_t had = c->len;
	if (c->rtu && (events & (EPOLLHUP | EPOLLERR))) die("%s: serial line hung up", g.tty);
	if (!(events & EPOLLIN)) {
		if (events & (EPOLLHUP | EPOLLERR)) conn_close(c);
		return;
	}
	while (c->len < sizeof c->buf) {
		size_t room = sizeof c->buf - c->len;
		ssize_t n = read(c->fd, c->buf + c->len, room);
		if (n > 0 && (c->len += (size_t)n, (size_t)n < room)) break;
		if (n > 0 || (n < 0 && errno == EINTR)) continue;
		if ((n < 0 && errno == EAGAIN) || (c->rtu && n == 0))
			break;  /* a tty with VMIN=0 says "nothing" with 0 */
		if (c->rtu) die("%s: read: %s", g.tty, strerror(errno));
		if (n < 0 && errno != ECONNRESET)
			msg("endpoint %d: read: %s", c->ep->idx, strerror(errno));
		conn_close(c);  /* EOF or error */
		return;
	}
	if (c->rtu && c->len > had) c->last_rx = now_ms();
	conn_process(c);
}

static struct conn *conn_new(struct ep *e, int fd, bool rtu)
{
	struct conn *c = calloc(1, sizeof *c);
	struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP, .data.ptr = c };
	if (!c) return msg("endpoint %d: out of memory for a connection", e->idx), NULL;
	*c = (struct conn){ .kind = K_CONN, .fd = fd, .ep = e, .rtu = rtu };
	if (epoll_ctl(g.epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		free(c);
		return msg("epoll_ctl(ADD): %s", strerror(errno)), NULL;
	}
	if (!rtu && (c->next = e->conns)) c->next->prev = c;
	if (!rtu) e->conns = c;
	return c;
}

static void on_accept(struct ep *e)
{
	for (int i = 0; i < 64; i++) {
		int one = 1, fd = accept4(e->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC), err = errno;
		if (fd < 0 && (err == EINTR || err == ECONNABORTED)) continue;
		if (fd < 0 && err != EAGAIN) msg("endpoint %d: accept: %s", e->idx, strerror(err));
		if (fd < 0 && (err == EMFILE || err == ENFILE) && g.sparefd >= 0) {
			/* refuse it via a reserved fd, or epoll would spin on it */
			close(g.sparefd);
			if ((fd = accept(e->lfd, NULL, NULL)) >= 0) close(fd);
			g.sparefd = open("/dev/null", O_RDONLY | O_CLOEXEC);
			return;
		}
		if (fd < 0) return;
		/* replies are single writes; Nagle would only add latency */
		if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) < 0)
			msg("endpoint %d: TCP_NODELAY: %s", e->idx, strerror(errno));
		if (!conn_new(e, fd, false)) close(fd);
	}
}

static bool ep_listen(struct ep *e)
{
	char nm[40];
	const char *what = NULL;
	int one = 1, fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	socklen_t sl = sizeof e->sa;
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = e };
	if (fd < 0) what = "socket";
	else if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0)
		what = "SO_REUSEADDR";
	else if (bind(fd, (struct sockaddr *)&e->sa, sizeof e->sa) < 0) what = "bind";
	else if (listen(fd, SOMAXCONN) < 0) what = "listen";
	else if (getsockname(fd, (struct sockaddr *)&e->sa, &sl) < 0) what = "getsockname";
	else if (epoll_ctl(g.epfd, EPOLL_CTL_ADD, fd, &ev) < 0) what = "epoll_ctl(ADD)";
	if (what) {
		const char *why = strerror(errno);
		msg("endpoint %d (%s): %s: %s", e->idx, ep_name(e, nm, sizeof nm), what, why);
		if (fd >= 0) close(fd);
		return false;
	}
	e->lfd = fd;
	e->down = false;
	return true;
}

static void ep_down(struct ep *e)
{
	e->down = true;
	if (e->lfd >= 0 && close(e->lfd) < 0)
		msg("endpoint %d: close: %s", e->idx, strerror(errno));
	e->lfd = -1;
	while (e->conns) conn_close(e->conns);
}

static void ep_up(struct ep *e)
{
	if (e->down && g.tty) e->down = false;
	else if (e->down) ep_listen(e);     /* on failure it says why and stays down */
}

/* "*" = every served unit; otherwise each listed id must be served. */
static bool unit_sel(const char *s)
{
	bool all = !strcmp(s, "*");
	if (!all && !parse_sel(s, 256, g.usel)) return msg("ctl: bad unit '%s' (id, list or *)", s);
	for (int u = 0; u < 256; u++) {
		g.usel[u] = all ? g.unit_idx[u] >= 0 : g.usel[u];
		if (g.usel[u] && g.unit_idx[u] < 0) return msg("ctl: unit %d is not served", u);
	}
	return true;
}

static bool ep_sel(const char *cmd, const char *s)
{
	return parse_sel(s, g.neps, g.esel) ||
	       msg("ctl: %s: bad endpoint '%s' (0-%d, list, range or *)", cmd, s, g.neps - 1);
}

static bool ctl_set(int n, char **t)
{
	static const char *tabs[] = { "hr", "ir", "co", "di" };
	unsigned long addr, v;
	size_t nv = n > 5 ? (size_t)n - 5 : 0;
	int tab = 0;
	if (n < 6) return msg("ctl: usage: set E U hr|ir|co|di ADDR V [V...]");
	if (!ep_sel("set", t[1]) || !unit_sel(t[2])) return false;
	while (tab < 4 && strcmp(t[3], tabs[tab])) tab++;
	if (tab == 4) return msg("ctl: set: bad table '%s' (hr, ir, co or di)", t[3]);
	if (!parse_num(t[4], (unsigned long)g.regs - 1, &addr) || addr + nv > (size_t)g.regs)
		return msg("ctl: set: address %s + %zu values beyond %d", t[4], nv, g.regs);
	for (size_t i = 0; i < nv; i++) {
		if (!parse_num(t[5 + i], tab < 2 ? 65535 : 1, &v))
			return msg("ctl: set: bad value '%s' for %s", t[5 + i], t[3]);
		g.vals[i] = (uint16_t)v;
	}
	for (int e = 0; e < g.neps; e++)
		for (int k = 0; g.esel[e] && k < g.nunits; k++) {
			modbus_mapping_t *m = g.eps[e].maps[k];
			uint16_t *reg = tab == 0 ? m->tab_registers : m->tab_input_registers;
			uint8_t *bit = tab == 2 ? m->tab_bits : m->tab_input_bits;
			for (size_t i = 0; g.usel[g.units[k]] && i < nv; i++) {
				if (tab < 2)
					reg[addr + i] = g.vals[i];
				else
					bit[addr + i] = (uint8_t)g.vals[i];
			}
		}
	return true;
}

static bool ctl_line(char *line)
{
	int n = 0;
	char *save, *cmd;
	for (char *t = strtok_r(line, " \t\r", &save); t; t = strtok_r(NULL, " \t\r", &save)) {
		if (n == CTL_MAXTOK) return msg("ctl: too many words, line ignored");
		g.tok[n++] = t;
	}
	if (n == 0) return true;
	if (!strcmp(cmd = g.tok[0], "set")) return ctl_set(n, g.tok);
	if (!strcmp(cmd, "exit") && n == 1) return g.quit = true;
	const char *v = n == 3 ? g.tok[2] : "";
	if (!strcmp(cmd, "silent") && (!strcmp(v, "0") || !strcmp(v, "1"))) {
		for (int e = 0; ep_sel(cmd, g.tok[1]) && e < g.neps; e++)
			g.eps[e].silent = g.esel[e] ? g.tok[2][0] == '1' : g.eps[e].silent;
		return true;
	}
	if ((!strcmp(cmd, "down") || !strcmp(cmd, "up")) && n == 2) {
		for (int e = 0; ep_sel(cmd, g.tok[1]) && e < g.neps; e++)
			if (g.esel[e]) (cmd[0] == 'd' ? ep_down : ep_up)(&g.eps[e]);
		return true;
	}
	return msg("ctl: bad command '%s' (set E U hr|ir|co|di ADDR V..., silent E 0|1, "
		   "down E, up E, exit)", cmd);
}

static void on_ctl(void)
{
	while (!g.quit) {
		ssize_t n = read(g.ctlfd, g.cbuf + g.clen, sizeof g.cbuf - g.clen);
		if (n < 0 && errno == EINTR) continue;
		if (n < 0 && errno != EAGAIN) msg("ctl: read: %s", strerror(errno));
		if (n <= 0) return;
		char *p = g.cbuf, *nl, *end = g.cbuf + (g.clen += (size_t)n);
		while (!g.quit && (nl = memchr(p, '\n', (size_t)(end - p)))) {
			*nl = '\0';
			if (!g.cskip) ctl_line(p);
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
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &k_ctl };
	if (mkfifo(g.ctl_path, 0600) < 0 &&
	    !(errno == EEXIST && stat(g.ctl_path, &st) == 0 && S_ISFIFO(st.st_mode)))
		die("--ctl %s: mkfifo: %s", g.ctl_path,
		    errno == EEXIST ? "exists and is not a FIFO" : strerror(errno));
	g.ctl_made = true;
	/* O_RDWR: as a writer ourselves we never see EOF when a test's echo
	 * closes, and that echo's open() never waits for a reader */
	if ((g.ctlfd = open(g.ctl_path, O_RDWR | O_NONBLOCK | O_CLOEXEC)) < 0)
		die("--ctl %s: open: %s", g.ctl_path, strerror(errno));
	if (epoll_ctl(g.epfd, EPOLL_CTL_ADD, g.ctlfd, &ev) < 0)
		die("epoll_ctl(ADD ctl): %s", strerror(errno));
}

static void write_ready(void)
{
	char nm[40], *tmp;
	FILE *f;
	if (asprintf(&tmp, "%s.tmp", g.ready_path) < 0) die("out of memory");
	if (!(f = fopen(tmp, "w"))) die("--ready %s: %s", tmp, strerror(errno));
	for (int e = 0; e < g.neps; e++)
		fprintf(f, "%s\n", g.tty ? g.tty : ep_name(&g.eps[e], nm, sizeof nm));
	int bad = ferror(f);
	if (fclose(f) != 0 || bad || rename(tmp, g.ready_path) < 0) {
		int err = bad ? EIO : errno;
		unlink(tmp);
		die("--ready %s: %s", g.ready_path, strerror(err));
	}
	free(tmp);
	g.ready_made = true;
}

/* ADDR:PORT or ADDR-ADDR:PORT: host-order range r[0]..r[1], port r[2] */
static bool parse_endpoint(const char *s, uint32_t r[3])
{
	char buf[2 * INET_ADDRSTRLEN + 8], *colon, *dash;
	unsigned long port;
	struct in_addr a, b;
	if (strlen(s) >= sizeof buf) return false;
	strcpy(buf, s);
	if (!(colon = strrchr(buf, ':')) || !parse_num(colon + 1, 65535, &port)) return false;
	*colon = '\0';
	if ((dash = strchr(buf, '-'))) *dash++ = '\0';
	if (inet_pton(AF_INET, buf, &a) != 1 || (dash && inet_pton(AF_INET, dash, &b) != 1))
		return false;
	r[0] = ntohl(a.s_addr);
	r[1] = dash ? ntohl(b.s_addr) : r[0];
	r[2] = (uint32_t)port;
	return true;
}

static void setup_endpoints(int argc, char **argv, const char *silent)
{
	uint32_t (*r)[3] = calloc((size_t)argc + 1, sizeof *r);
	long total = 0;
	if (!r) die("out of memory");
	for (int i = 0; i < argc; i++) {
		if (!parse_endpoint(argv[i], r[i]))
			die("bad endpoint '%s' (want ADDR:PORT or ADDR-ADDR:PORT)", argv[i]);
		if (r[i][0] >> 24 != 127 || r[i][1] >> 24 != 127)
			die("endpoint '%s': only 127.0.0.0/8 is allowed", argv[i]);
		if (r[i][0] > r[i][1]) die("endpoint '%s': the range runs backwards", argv[i]);
		if ((total += (long)(r[i][1] - r[i][0]) + 1) > MAX_ENDPOINTS)
			die("more than %d endpoints requested", MAX_ENDPOINTS);
	}
	g.neps = g.tty ? 1 : (int)total;

	/* a listener and a connection per endpoint: the benchmark's shape */
	struct rlimit rl;
	rlim_t need = 2 * (rlim_t)g.neps + 32, cur;
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0) die("getrlimit(RLIMIT_NOFILE): %s", strerror(errno));
	cur = rl.rlim_cur;
	rl.rlim_cur = rl.rlim_max;
	if (cur < rl.rlim_max && setrlimit(RLIMIT_NOFILE, &rl) < 0) {
		msg("setrlimit(RLIMIT_NOFILE, %llu): %s", (unsigned long long)rl.rlim_max,
		    strerror(errno));
		rl.rlim_cur = cur;
	}
	if (rl.rlim_cur < need)
		die("RLIMIT_NOFILE is %llu (hard limit %llu), too low for %d endpoints with a "
		    "connection each: need %llu; raise the hard limit (ulimit -Hn, LimitNOFILE=)",
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
		if (!(ep->maps = calloc((size_t)g.nunits, sizeof *ep->maps))) die("out of memory");
		for (int k = 0; k < g.nunits; k++) {
			modbus_mapping_t *m = modbus_mapping_new(g.regs, g.regs, g.regs, g.regs);
			unsigned u = (unsigned)g.units[k];
			if (!(ep->maps[k] = m))
				die("modbus_mapping_new(%d): %s", g.regs, modbus_strerror(errno));
			for (int i = 0; i < g.regs; i++) {
				m->tab_registers[i] = (uint16_t)(u * 1000 + (unsigned)i);
				m->tab_input_registers[i] = (uint16_t)(u * 2000 + (unsigned)i);
				m->tab_bits[i] = (uint8_t)(i % 2);
				m->tab_input_bits[i] = (uint8_t)((i + 1) % 2);
			}
		}
	}
}

static void setup_rtu(long baud, char parity, int bits, int stop)
{
	int fd;
	if (!(g.rtu = modbus_new_rtu(g.tty, (int)baud, parity, bits, stop)))
		die("modbus_new_rtu(%s): %s", g.tty, modbus_strerror(errno));
	if (modbus_set_response_timeout(g.rtu, 0, 1) < 0)  /* as for TCP, see main() */
		die("modbus_set_response_timeout: %s", modbus_strerror(errno));
	if (modbus_connect(g.rtu) < 0)
		die("%s: cannot open and configure: %s", g.tty, modbus_strerror(errno));
	if ((fd = modbus_get_socket(g.rtu)) < 0)   /* opened O_NDELAY */
		die("modbus_get_socket: %s", modbus_strerror(errno));
	if (!(g.link = conn_new(&g.eps[0], fd, true))) die("%s: cannot watch the line", g.tty);
	/* 3.5 characters, but ptys and USB adapters deliver in bursts */
	g.gap_ms = 35 * (1 + bits + (parity != 'N') + stop) * 1000 / (10 * baud) + 1;
	g.gap_ms = g.gap_ms < 50 ? 50 : g.gap_ms;
}

static unsigned long num_arg(const char *opt, unsigned long lo, unsigned long hi)
{
	unsigned long v;
	if (!parse_num(optarg, hi, &v) || v < lo)
		die("%s: want %lu..%lu, not '%s'", opt, lo, hi, optarg);
	return v;
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
	const char *units = "1", *silent = NULL;
	unsigned long baud = 9600, bits = 8, stop = 1;
	char parity = 'N', word[24];
	int o, sigfd;
	bool us[256];
	opterr = 0;
	while ((o = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (o) {
		case 'u': units = optarg; break;
		case 'R': g.tty = optarg; break;
		case 'c': g.ctl_path = optarg; break;
		case 'y': g.ready_path = optarg; break;
		case 'S': silent = optarg; break;
		case 'r': g.regs = (int)num_arg("--regs", 1, 10000); break;
		case 'D': g.delay_ms = (int)num_arg("--delay-ms", 0, 3600000); break;
		case 'd': bits = num_arg("--data-bits", 5, 8); break;
		case 's': stop = num_arg("--stop-bits", 1, 2); break;
		case 'b':   /* libmodbus would quietly use 9600 for a rate it lacks */
			baud = num_arg("--baud", 1, 921600);
			snprintf(word, sizeof word, " %s ", optarg);
			if (!strstr(" 1200 2400 4800 9600 19200 38400 57600 115200 230400 460800 "
				    "921600 ", word))
				die("--baud: unsupported rate '%s'", optarg);
			break;
		case 'p':
			if (strlen(optarg) != 1 || !strchr("NEO", optarg[0]))
				die("--parity: want N, E or O, not '%s'", optarg);
			parity = optarg[0];
			break;
		case 'h': fputs(usage, stdout); return 0;
		default:
			msg(o == ':' ? "%s needs an argument" : "unknown option %s",
			    argv[optind - 1]);
			fputs(usage, stderr);
			return 2;
		}
	}
	if (g.tty ? optind != argc : optind == argc) {
		msg(g.tty ? "--rtu takes no ENDPOINT arguments" : "no ENDPOINT given");
		fputs(usage, stderr);
		return 2;
	}
	if (!strcmp(units, "*") || !parse_sel(units, 256, us))
		die("--units '%s': want a list of unit ids 0..255", units);
	for (int u = 0; u < 256; u++) {
		g.unit_idx[u] = us[u] ? g.nunits : -1;
		if (us[u] && g.tty && (u < 1 || u > 247))
			die("--units: RTU unit ids are 1..247, not %d", u);
		if (us[u]) g.units[g.nunits++] = u;
	}

	/* signals become fd events, so cleanup runs in the loop, not a handler */
	sigset_t ss;
	struct epoll_event sev = { .events = EPOLLIN, .data.ptr = &k_sig };
	if (sigemptyset(&ss) < 0 || sigaddset(&ss, SIGTERM) < 0 || sigaddset(&ss, SIGINT) < 0 ||
	    sigprocmask(SIG_BLOCK, &ss, NULL) < 0)
		die("sigprocmask: %s", strerror(errno));
	if (signal(SIGPIPE, SIG_IGN) == SIG_ERR) die("signal(SIGPIPE): %s", strerror(errno));
	if ((sigfd = signalfd(-1, &ss, SFD_NONBLOCK | SFD_CLOEXEC)) < 0)
		die("signalfd: %s", strerror(errno));
	if ((g.epfd = epoll_create1(EPOLL_CLOEXEC)) < 0) die("epoll_create1: %s", strerror(errno));
	if (epoll_ctl(g.epfd, EPOLL_CTL_ADD, sigfd, &sev) < 0)
		die("epoll_ctl(ADD): %s", strerror(errno));

	setup_endpoints(argc - optind, argv + optind, silent);
	if ((g.sparefd = open("/dev/null", O_RDONLY | O_CLOEXEC)) < 0)
		die("/dev/null: %s", strerror(errno));
	if (g.tty) {
		setup_rtu((long)baud, parity, (int)bits, (int)stop);
	} else {
		if (!(g.tcp = modbus_new_tcp("127.0.0.1", 0)))
			die("modbus_new_tcp: %s", modbus_strerror(errno));
		/* bounds the sleep in modbus_reply's flush path, should
		 * precheck() ever let one through */
		if (modbus_set_response_timeout(g.tcp, 0, 1) < 0)
			die("modbus_set_response_timeout: %s", modbus_strerror(errno));
		for (int e = 0; e < g.neps; e++)
			if (!ep_listen(&g.eps[e])) die("cannot listen on endpoint %d", e);
	}
	if (g.ctl_path) open_ctl();
	if (g.ready_path) write_ready();

	struct epoll_event evs[256];
	struct conn *l = g.link;
	while (!g.quit) {
		int64_t now = now_ms(), due = g.qhead ? g.qhead->deadline : INT64_MAX;
		if (l && l->len && !l->pending && l->last_rx + g.gap_ms < due)
			due = l->last_rx + g.gap_ms;
		int wait = due == INT64_MAX ? -1
			   : (int)(due <= now ? 0 : due - now < INT_MAX ? due - now : INT_MAX);
		int n = epoll_wait(g.epfd, evs, (int)(sizeof evs / sizeof *evs), wait);
		if (n < 0 && errno != EINTR) die("epoll_wait: %s", strerror(errno));
		for (int i = 0; i < n && !g.quit; i++) {
			enum kind k = *(enum kind *)evs[i].data.ptr;
			if (k == K_LISTEN) on_accept(evs[i].data.ptr);
			else if (k == K_CONN) on_conn(evs[i].data.ptr, evs[i].events);
			else if (k == K_SIG) g.quit = true;
			else {
				on_ctl();
				break;  /* "down" may have freed a conn later in evs */
			}
		}
		now = now_ms();
		while (!g.quit && g.qhead && g.qhead->deadline <= now) {
			struct conn *c = g.qhead;
			q_remove(c);
			c->pending = false;
			if (!c->ep->silent && !c->ep->down && !answer(c, c->flen)) continue;
			consume(c, c->flen);
			c->last_rx = now;
			if (set_in(c, true)) conn_process(c);
		}
		/* a frame never spans a silence: a partial one is junk by now (it
		 * might claim 255 data bytes and hold up the requests behind it) */
		if (l && l->len && !l->pending && l->last_rx + g.gap_ms <= now) l->len = 0;
	}
	for (int e = 0; e < g.neps; e++) ep_down(&g.eps[e]);
	if (g.rtu) modbus_close(g.rtu);    /* restores the line's termios */
	cleanup_files();
	return 0;
}
