/* mbsim: Modbus devices for vigil's tests, demo and benchmark, on
 * libmodbus's server side (modbus_reply builds every answer, so what the
 * collector meets is libmodbus's reading of the protocol, not ours).
 *
 *   mbsim [--units 1,2] [--regs N] [--silent LIST] [--ctl FIFO] [--ready FILE]
 *         ADDR:PORT | ADDR-ADDR:PORT ...            Modbus TCP endpoints
 *   mbsim --rtu TTY [--baud 9600] [--parity N|E|O] [--units ..] ...   RTU
 *
 * Every endpoint (one listening socket, numbered from 0 in the order
 * given; a range of IPv4 addresses is one endpoint per address) serves
 * each unit id of --units from its own register map of --regs entries per
 * table: holding[i] = unit*1000 + i, input[i] = unit*2000 + i, coil[i] =
 * i % 2, discrete[i] = (i + 1) % 2. A read past a table is answered
 * "illegal data address" (modbus_reply's own check); a unit not served is
 * answered "gateway target failed" on TCP, as a gateway would, and ignored
 * on RTU, as a bus would. Only 127.0.0.0/8 is accepted.
 *
 * The FIFO takes one command per line, applied in order:
 *   set E U TABLE ADDR V...   TABLE hr|ir|co|di; E, U: a number or *
 *   silent E 0|1              read requests and never answer (E: n, a-b, *)
 *   down E / up E             close the endpoint and its connections / listen again
 *   exit
 * --ready FILE gets "ADDR:PORT" per endpoint once all listen (port 0
 * binds an ephemeral port), written whole (rename).
 *
 * One epoll loop, no threads: 2,000 endpoints and their connections cost
 * a few descriptors each and nothing between requests. TCP requests are
 * framed here (the MBAP length), so a partial frame never blocks the loop
 * in libmodbus's receive; RTU read requests are 8 bytes.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <modbus/modbus.h>

#define MAX_UNITS 16
#define BUF 1024

struct endpoint {
	struct in_addr addr;
	uint16_t port;
	int lfd;                        /* -1 while down */
	int silent;
	modbus_mapping_t *map[MAX_UNITS];
};

struct conn {
	int fd;
	int ep;
	size_t n;
	uint8_t buf[BUF];
};

static struct endpoint *eps;
static int n_eps;
static int units[MAX_UNITS] = { 1 }, n_units = 1;
static int regs = 200;
static int efd;
static modbus_t *tcp_ctx;               /* framing of every TCP answer */
static modbus_t *rtu_ctx;
static int rtu_fd = -1;
static struct conn rtu_in;
static int ctl_fd = -1;
static char ctl_buf[4096];
static size_t ctl_n;
static volatile sig_atomic_t stop;
static const char *ctl_path, *ready_path;

/* epoll data: endpoint listeners are tagged, connections are pointers */
#define TAG_LISTEN 1ULL
#define TAG_CTL 2ULL
#define TAG_RTU 3ULL

static void die(const char *fmt, const char *arg)
{
	fprintf(stderr, "mbsim: ");
	fprintf(stderr, fmt, arg);
	fputc('\n', stderr);
	exit(1);
}

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int unit_index(int u)
{
	for (int i = 0; i < n_units; i++)
		if (units[i] == u)
			return i;
	return -1;
}

static modbus_mapping_t *new_map(int unit)
{
	modbus_mapping_t *m = modbus_mapping_new(regs, regs, regs, regs);

	if (!m)
		die("out of memory for %s registers", "the");
	for (int i = 0; i < regs; i++) {
		m->tab_registers[i] = (uint16_t)(unit * 1000 + i);
		m->tab_input_registers[i] = (uint16_t)(unit * 2000 + i);
		m->tab_bits[i] = (uint8_t)(i % 2);
		m->tab_input_bits[i] = (uint8_t)((i + 1) % 2);
	}
	return m;
}

static int listen_on(struct endpoint *e)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(e->port), .sin_addr = e->addr };
	socklen_t sl = sizeof(sa);
	int one = 1, fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	struct epoll_event ev = { .events = EPOLLIN };

	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(fd, 128) != 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &sl) != 0) {
		close(fd);
		return -1;
	}
	e->port = ntohs(sa.sin_port);
	e->lfd = fd;
	ev.data.u64 = TAG_LISTEN | ((uint64_t)(e - eps) << 8);
	if (epoll_ctl(efd, EPOLL_CTL_ADD, fd, &ev) != 0) {
		close(fd);
		e->lfd = -1;
		return -1;
	}
	return 0;
}

/* Connections of an endpoint, for "down": a linear list is plenty. */
static struct conn **conns;
static size_t n_conns, cap_conns;

static void conn_close(struct conn *c)
{
	for (size_t i = 0; i < n_conns; i++)
		if (conns[i] == c) {
			conns[i] = conns[--n_conns];
			break;
		}
	close(c->fd);
	free(c);
}

static void add_endpoints(const char *spec)
{
	char buf[128], *colon, *dash;
	struct in_addr a, b;
	long port;

	snprintf(buf, sizeof(buf), "%s", spec);
	if (!(colon = strrchr(buf, ':')))
		die("endpoint '%s': expected ADDR:PORT or ADDR-ADDR:PORT", spec);
	*colon = 0;
	port = strtol(colon + 1, NULL, 10);
	if (port < 0 || port > 65535)
		die("endpoint '%s': bad port", spec);
	dash = strchr(buf, '-');
	if (dash)
		*dash = 0;
	if (inet_pton(AF_INET, buf, &a) != 1 || (dash && inet_pton(AF_INET, dash + 1, &b) != 1))
		die("endpoint '%s': not an IPv4 address", spec);
	if (!dash)
		b = a;
	if ((ntohl(a.s_addr) >> 24) != 127 || (ntohl(b.s_addr) >> 24) != 127 ||
	    ntohl(b.s_addr) < ntohl(a.s_addr))
		die("endpoint '%s': only 127.0.0.0/8, low to high", spec);
	for (uint32_t x = ntohl(a.s_addr); x <= ntohl(b.s_addr); x++) {
		struct endpoint *e;
		if (!(eps = realloc(eps, (size_t)(n_eps + 1) * sizeof(*eps))))
			die("out of memory for %s", "endpoints");
		e = &eps[n_eps++];
		memset(e, 0, sizeof(*e));
		e->addr.s_addr = htonl(x);
		e->port = (uint16_t)port;
		e->lfd = -1;
	}
}

/* "3", "0-49", "*" -> [lo, hi]; 0 or -1. */
static int parse_range(const char *s, int *lo, int *hi)
{
	char *end;

	if (strcmp(s, "*") == 0) {
		*lo = 0;
		*hi = n_eps - 1;
		return 0;
	}
	*lo = (int)strtol(s, &end, 10);
	*hi = *end == '-' ? (int)strtol(end + 1, &end, 10) : *lo;
	return *end || *lo < 0 || *hi >= n_eps || *lo > *hi ? -1 : 0;
}

static void write_ready(void)
{
	char tmp[4096];
	FILE *f;

	if (!ready_path)
		return;
	snprintf(tmp, sizeof(tmp), "%s.tmp", ready_path);
	if (!(f = fopen(tmp, "w")))
		die("cannot write %s", tmp);
	for (int i = 0; i < n_eps; i++) {
		char a[INET_ADDRSTRLEN];
		inet_ntop(AF_INET, &eps[i].addr, a, sizeof(a));
		fprintf(f, "%s:%u\n", a, (unsigned)eps[i].port);
	}
	if (rtu_ctx)
		fprintf(f, "rtu\n");
	if (fclose(f) != 0 || rename(tmp, ready_path) != 0)
		die("cannot write %s", ready_path);
}

static void command(char *line)
{
	char *tok[300];
	int n = 0, lo, hi;

	for (char *p = strtok(line, " \t"); p && n < 300; p = strtok(NULL, " \t"))
		tok[n++] = p;
	if (n == 0)
		return;
	if (strcmp(tok[0], "exit") == 0) {
		stop = 1;
	} else if (strcmp(tok[0], "set") == 0 && n >= 6) {
		int ulo, uhi, addr = (int)strtol(tok[4], NULL, 0);
		if (parse_range(tok[1], &lo, &hi) != 0 && !(rtu_ctx && strcmp(tok[1], "0") == 0)) {
			fprintf(stderr, "mbsim: set: no endpoint %s\n", tok[1]);
			return;
		}
		if (rtu_ctx)
			lo = hi = 0;
		if (strcmp(tok[2], "*") == 0) {
			ulo = 0;
			uhi = n_units - 1;
		} else if ((ulo = uhi = unit_index(atoi(tok[2]))) < 0) {
			fprintf(stderr, "mbsim: set: unit %s not served\n", tok[2]);
			return;
		}
		for (int e = lo; e <= hi; e++)
			for (int u = ulo; u <= uhi; u++)
				for (int k = 5; k < n && addr + k - 5 < regs; k++) {
					modbus_mapping_t *m = eps[e].map[u];
					long v = strtol(tok[k], NULL, 0);
					int a = addr + k - 5;
					if (strcmp(tok[3], "hr") == 0)
						m->tab_registers[a] = (uint16_t)v;
					else if (strcmp(tok[3], "ir") == 0)
						m->tab_input_registers[a] = (uint16_t)v;
					else if (strcmp(tok[3], "co") == 0)
						m->tab_bits[a] = v != 0;
					else if (strcmp(tok[3], "di") == 0)
						m->tab_input_bits[a] = v != 0;
					else
						fprintf(stderr, "mbsim: set: table %s?\n", tok[3]);
				}
	} else if (strcmp(tok[0], "silent") == 0 && n == 3 && parse_range(tok[1], &lo, &hi) == 0) {
		for (int e = lo; e <= hi; e++)
			eps[e].silent = atoi(tok[2]) != 0;
	} else if (strcmp(tok[0], "down") == 0 && n == 2 && parse_range(tok[1], &lo, &hi) == 0) {
		for (int e = lo; e <= hi; e++) {
			if (eps[e].lfd >= 0) {
				close(eps[e].lfd);
				eps[e].lfd = -1;
			}
			for (size_t i = 0; i < n_conns;)
				if (conns[i]->ep == e)
					conn_close(conns[i]);
				else
					i++;
		}
	} else if (strcmp(tok[0], "up") == 0 && n == 2 && parse_range(tok[1], &lo, &hi) == 0) {
		for (int e = lo; e <= hi; e++)
			if (eps[e].lfd < 0 && listen_on(&eps[e]) != 0)
				fprintf(stderr, "mbsim: up %d: %s\n", e, strerror(errno));
	} else {
		fprintf(stderr, "mbsim: unknown or malformed command: %s\n", tok[0]);
	}
}

static void read_ctl(void)
{
	ssize_t r;

	while ((r = read(ctl_fd, ctl_buf + ctl_n, sizeof(ctl_buf) - 1 - ctl_n)) > 0) {
		char *nl;
		ctl_n += (size_t)r;
		ctl_buf[ctl_n] = 0;
		while ((nl = memchr(ctl_buf, '\n', ctl_n))) {
			*nl = 0;
			command(ctl_buf);
			ctl_n -= (size_t)(nl + 1 - ctl_buf);
			memmove(ctl_buf, nl + 1, ctl_n);
		}
		if (ctl_n == sizeof(ctl_buf) - 1)
			ctl_n = 0;      /* a line that long is no command */
	}
}

static void serve_tcp(struct conn *c)
{
	ssize_t r = read(c->fd, c->buf + c->n, sizeof(c->buf) - c->n);

	if (r <= 0) {
		if (r < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		conn_close(c);
		return;
	}
	c->n += (size_t)r;
	for (;;) {
		size_t len;
		int u;

		if (c->n < 7)
			return;
		len = 6 + ((size_t)c->buf[4] << 8 | c->buf[5]);
		if (len > sizeof(c->buf) || len < 8) {
			conn_close(c);
			return;
		}
		if (c->n < len)
			return;
		if (!eps[c->ep].silent) {
			modbus_set_socket(tcp_ctx, c->fd);
			u = unit_index(c->buf[6]);
			if (u < 0) {
				modbus_set_slave(tcp_ctx, c->buf[6]);
				modbus_reply_exception(tcp_ctx, c->buf,
						       MODBUS_EXCEPTION_GATEWAY_TARGET);
			} else {
				modbus_set_slave(tcp_ctx, units[u]);
				modbus_reply(tcp_ctx, c->buf, (int)len, eps[c->ep].map[u]);
			}
		}
		c->n -= len;
		memmove(c->buf, c->buf + len, c->n);
	}
}

/* RTU: the collector only reads (functions 01-04): 8-byte requests. */
static void serve_rtu(void)
{
	ssize_t r = read(rtu_fd, rtu_in.buf + rtu_in.n, sizeof(rtu_in.buf) - rtu_in.n);

	if (r <= 0)
		return;
	rtu_in.n += (size_t)r;
	while (rtu_in.n >= 8) {
		uint8_t fc = rtu_in.buf[1];
		int u = unit_index(rtu_in.buf[0]);

		if (fc < 1 || fc > 4) {
			rtu_in.n = 0;   /* out of step: start again at the next frame */
			return;
		}
		if (u >= 0 && !eps[0].silent) {
			modbus_set_slave(rtu_ctx, units[u]);
			modbus_reply(rtu_ctx, rtu_in.buf, 8, eps[0].map[u]);
		}
		rtu_in.n -= 8;
		memmove(rtu_in.buf, rtu_in.buf + 8, rtu_in.n);
	}
}

static void accept_on(int ep)
{
	for (;;) {
		int fd = accept4(eps[ep].lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC), one = 1;
		struct conn *c;
		struct epoll_event ev = { .events = EPOLLIN };

		if (fd < 0)
			return;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		if (!(c = calloc(1, sizeof(*c)))) {
			close(fd);
			return;
		}
		c->fd = fd;
		c->ep = ep;
		ev.data.ptr = c;
		if (n_conns == cap_conns) {
			cap_conns = cap_conns ? cap_conns * 2 : 256;
			if (!(conns = realloc(conns, cap_conns * sizeof(*conns))))
				die("out of memory for %s", "connections");
		}
		conns[n_conns++] = c;
		if (epoll_ctl(efd, EPOLL_CTL_ADD, fd, &ev) != 0)
			conn_close(c);
	}
}

static void usage(void)
{
	fputs("usage: mbsim [--units 1,2] [--regs N] [--silent LIST] [--ctl FIFO] [--ready FILE]\n"
	      "             ADDR:PORT|ADDR-ADDR:PORT ...\n"
	      "       mbsim --rtu TTY [--baud B] [--parity N|E|O] [--units ..] [--ctl ..] [--ready ..]\n"
	      "(see the top of test/peers/mbsim.c)\n", stderr);
	exit(2);
}

int main(int argc, char **argv)
{
	const char *rtu = NULL, *silent = NULL;
	int baud = 9600;
	char parity = 'N';
	struct rlimit rl;
	struct epoll_event evs[256];

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0)
			usage();
		if (a[0] != '-') {
			add_endpoints(a);
			continue;
		}
		if (!v)
			usage();
		i++;
		if (strcmp(a, "--units") == 0) {
			char buf[128], *p;
			snprintf(buf, sizeof(buf), "%s", v);
			n_units = 0;
			for (p = strtok(buf, ","); p && n_units < MAX_UNITS; p = strtok(NULL, ","))
				units[n_units++] = atoi(p);
		} else if (strcmp(a, "--regs") == 0) {
			regs = atoi(v);
		} else if (strcmp(a, "--silent") == 0) {
			silent = v;
		} else if (strcmp(a, "--ctl") == 0) {
			ctl_path = v;
		} else if (strcmp(a, "--ready") == 0) {
			ready_path = v;
		} else if (strcmp(a, "--rtu") == 0) {
			rtu = v;
		} else if (strcmp(a, "--baud") == 0) {
			baud = atoi(v);
		} else if (strcmp(a, "--parity") == 0) {
			parity = v[0];
		} else {
			usage();
		}
	}
	if (n_units == 0)
		units[n_units++] = 1;
	if (regs < 1 || regs > 10000)
		die("--regs %s: 1..10000", "N");
	if (!rtu == !n_eps)
		usage();
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
		if (rl.rlim_cur < (rlim_t)n_eps * 2 + 64)
			fprintf(stderr, "mbsim: warning: RLIMIT_NOFILE %lu is low for %d endpoints\n",
				(unsigned long)rl.rlim_cur, n_eps);
	}
	signal(SIGPIPE, SIG_IGN);
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	if ((efd = epoll_create1(EPOLL_CLOEXEC)) < 0)
		die("epoll: %s", strerror(errno));
	if (rtu) {
		struct epoll_event ev = { .events = EPOLLIN, .data.u64 = TAG_RTU };
		if (!(eps = calloc(1, sizeof(*eps))))
			die("out of memory%s", "");
		n_eps = 1;
		eps[0].lfd = -1;
		if (!(rtu_ctx = modbus_new_rtu(rtu, baud, parity, 8, 1)) || modbus_connect(rtu_ctx) != 0)
			die("cannot open %s", rtu);
		rtu_fd = modbus_get_socket(rtu_ctx);
		if (epoll_ctl(efd, EPOLL_CTL_ADD, rtu_fd, &ev) != 0)
			die("epoll: %s", strerror(errno));
	} else if (!(tcp_ctx = modbus_new_tcp("127.0.0.1", 0))) {
		die("libmodbus: %s", modbus_strerror(errno));
	}
	for (int e = 0; e < n_eps; e++) {
		for (int u = 0; u < n_units; u++)
			eps[e].map[u] = new_map(units[u]);
		if (!rtu && listen_on(&eps[e]) != 0) {
			char a[INET_ADDRSTRLEN];
			inet_ntop(AF_INET, &eps[e].addr, a, sizeof(a));
			fprintf(stderr, "mbsim: cannot listen on %s:%u: %s\n", a, (unsigned)eps[e].port,
				strerror(errno));
			return 1;
		}
	}
	if (silent) {
		char buf[64];
		int lo, hi;
		snprintf(buf, sizeof(buf), "%s", silent);
		for (char *p = strtok(buf, ","); p; p = strtok(NULL, ","))
			if (parse_range(p, &lo, &hi) == 0)
				for (int e = lo; e <= hi; e++)
					eps[e].silent = 1;
	}
	if (ctl_path) {
		struct epoll_event ev = { .events = EPOLLIN, .data.u64 = TAG_CTL };
		unlink(ctl_path);
		/* read-write: never EOF when a writer closes, never blocks one */
		if (mkfifo(ctl_path, 0600) != 0 || (ctl_fd = open(ctl_path, O_RDWR | O_NONBLOCK)) < 0 ||
		    epoll_ctl(efd, EPOLL_CTL_ADD, ctl_fd, &ev) != 0)
			die("cannot make the FIFO %s", ctl_path);
	}
	write_ready();
	while (!stop) {
		int n = epoll_wait(efd, evs, 256, 500), ctl = 0;
		/* connections are allocated (16-byte aligned), so a low byte of
		 * 1 is a listener's tag; commands wait for the batch's end,
		 * since "down" frees connections later events may name */
		for (int i = 0; i < n && !stop; i++) {
			uint64_t d = evs[i].data.u64;
			if ((d & 0xff) == TAG_LISTEN)
				accept_on((int)(d >> 8));
			else if (d == TAG_CTL)
				ctl = 1;
			else if (d == TAG_RTU)
				serve_rtu();
			else
				serve_tcp(evs[i].data.ptr);
		}
		if (ctl)
			read_ctl();
	}
	if (ctl_path)
		unlink(ctl_path);
	if (ready_path)
		unlink(ready_path);
	return 0;
}
