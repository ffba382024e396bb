/* What the reachability collector's unit tests share: network namespaces
 * and privileges, TCP peers on loopback, and a loop harness recording one
 * result per target. Static: each test file gets its own copy. */
#ifndef VGL_TEST_REACH_UTIL_H
#define VGL_TEST_REACH_UTIL_H

/* Reachability collector against real peers on 127.0.0.0/8: the kernel
 * answers ICMP echo on loopback, and TCP listeners are opened here on
 * ephemeral ports.
 *
 * Peers that must not answer, or must answer with an ICMP error, live in a
 * private network namespace the test process makes for itself with
 * unshare(CLONE_NEWNET) (the runner forks each test, so the namespace dies
 * with it): there icmp_echo_ignore_all and ping_group_range are that
 * namespace's own sysctls, and nothing of the machine's network or
 * firewall is touched. Without the privilege for that (CAP_SYS_ADMIN) or
 * for raw sockets, such a test says SKIP on stderr and passes. */
#include "test/test.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <uv.h>

#include "collectors/reach.h"
#include "conf/conf.h"

#define SKIP(...)                                                             \
	do {                                                                  \
		fprintf(stderr, "SKIP: " __VA_ARGS__);                        \
		fprintf(stderr, "\n");                                        \
		return;                                                       \
	} while (0)

/* ---- namespaces, sysctls, privileges --------------------------------------- */

static __attribute__((unused)) int write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	int ok;

	if (!f)
		return -1;
	ok = fputs(text, f) >= 0;
	return fclose(f) == 0 && ok ? 0 : -1;
}

/* A network namespace of this test's own, with lo up (127.0.0.0/8, ::1).
 * 0, or -1 when the process may not make one. */
static __attribute__((unused)) int private_netns(void)
{
	struct ifreq ifr;
	int fd;

	if (unshare(CLONE_NEWNET) != 0)
		return -1;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	ASSERT(fd >= 0);
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
	ASSERT_EQ(ioctl(fd, SIOCGIFFLAGS, &ifr), 0);
	ifr.ifr_flags |= IFF_UP;
	ASSERT_EQ(ioctl(fd, SIOCSIFFLAGS, &ifr), 0);
	close(fd);
	return 0;
}

/* In the private namespace only: these sysctls are per namespace. */
static __attribute__((unused)) void ns_sysctl(const char *name, const char *value)
{
	char path[200];

	snprintf(path, sizeof(path), "/proc/sys/net/ipv4/%s", name);
	ASSERT_EQ(write_file(path, value), 0);
}

static __attribute__((unused)) int have_raw(void)
{
	int fd = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ICMP);

	if (fd < 0)
		return 0;
	close(fd);
	return 1;
}

/* Whether ICMP works here at all (AUTO would open something). */
static __attribute__((unused)) int have_icmp(void)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, IPPROTO_ICMP);

	if (fd < 0)
		return have_raw();
	close(fd);
	return 1;
}

/* TCP tests need no ICMP privilege. */
static const struct vgl_reach_opts tcp_only = { .icmp = VGL_REACH_ICMP_NONE };

static __attribute__((unused)) void drop_cap_net_raw(void)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2];

	ASSERT_EQ(syscall(SYS_capget, &h, d), 0);
	d[CAP_NET_RAW / 32].effective &= ~(1u << (CAP_NET_RAW % 32));
	d[CAP_NET_RAW / 32].permitted &= ~(1u << (CAP_NET_RAW % 32));
	ASSERT_EQ(syscall(SYS_capset, &h, d), 0);
}

/* ---- TCP peers ------------------------------------------------------------ */

static __attribute__((unused)) int listen_on(const char *addr, uint16_t port, int backlog, uint16_t *bound)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0), one = 1;

	ASSERT(fd >= 0);
	ASSERT_EQ(setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)), 0);
	ASSERT_EQ(inet_pton(AF_INET, addr, &a.sin_addr), 1);
	ASSERT_EQ(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	ASSERT_EQ(listen(fd, backlog), 0);
	ASSERT_EQ(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	if (bound)
		*bound = ntohs(a.sin_port);
	return fd;
}

/* A port nobody listens on: bound (so no one else takes it) but never
 * listening, which the kernel answers with an RST. */
static __attribute__((unused)) int closed_port(uint16_t *port)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	ASSERT(fd >= 0);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ASSERT_EQ(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	ASSERT_EQ(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	*port = ntohs(a.sin_port);
	return fd;
}

/* Fills a listen(fd, 0) listener's accept queue, so the next SYN is
 * dropped and a connect to it times out. */
static __attribute__((unused)) void fill_backlog(uint16_t port, int fds[2])
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	for (int i = 0; i < 2; i++) {
		fds[i] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		ASSERT(fds[i] >= 0);
		ASSERT(connect(fds[i], (struct sockaddr *)&a, sizeof(a)) == 0 ||
		       errno == EINPROGRESS);
	}
	usleep(50 * 1000);      /* the first handshake completes, the queue is full */
}

/* Our side's sockets to `port`, in any state, in this namespace: a reset
 * leaves none, where a FIN close would leave each in FIN_WAIT2 or
 * TIME_WAIT for up to a minute. */
static __attribute__((unused)) int client_sockets(uint16_t port)
{
	const char *files[] = { "/proc/net/tcp", "/proc/net/tcp6" };
	char line[512];
	int n = 0;

	for (int i = 0; i < 2; i++) {
		FILE *f = fopen(files[i], "r");

		ASSERT(f != NULL);
		while (fgets(line, sizeof(line), f)) {
			unsigned rport;
			if (sscanf(line, " %*d: %*x:%*x %*x:%x", &rport) == 1 && rport == port)
				n++;
		}
		ASSERT_EQ(fclose(f), 0);
	}
	return n;
}

static __attribute__((unused)) int listen6_on_loopback(uint16_t *bound)
{
	struct sockaddr_in6 a = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

	ASSERT(fd >= 0);
	ASSERT_EQ(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	ASSERT_EQ(listen(fd, 16), 0);
	ASSERT_EQ(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	*bound = ntohs(a.sin6_port);
	return fd;
}

/* ---- loop harness ------------------------------------------------------------ */

struct rec {
	int n;
	struct vgl_poll_result first, last;
	struct vgl_value v[8];
	char detail[200];
	uint64_t loop_ms;       /* when the last result came */
};

struct run {
	uv_loop_t loop;
	struct vgl_reach *r;
	uv_timer_t guard, drain;
	int closed, done_calls, after_close, results;
	int stop_after;                 /* close after this many results */
	int (*hook)(struct run *run, const struct vgl_poll_result *res);
	struct rec *rec;                /* by host_idx */
	size_t n_rec;
	int lfd[4];                     /* listeners whose queues drain() empties */
	int phase;
	uint16_t port;
	struct vgl_reach_stats st;      /* as of the last result */
};

static __attribute__((unused)) void on_done(void *ctx)
{
	struct run *run = ctx;

	run->done_calls++;
	uv_close((uv_handle_t *)&run->guard, NULL);
	uv_close((uv_handle_t *)&run->drain, NULL);
}

static __attribute__((unused)) void run_close(struct run *run)
{
	if (run->closed)
		return;
	run->closed = 1;
	vgl_reach_close(run->r, on_done, run);
}

static __attribute__((unused)) void on_result(void *ctx, const struct vgl_poll_result *res)
{
	struct run *run = ctx;
	struct rec *c;

	if (run->closed) {
		run->after_close++;
		return;
	}
	ASSERT_LT(res->host, run->n_rec);
	ASSERT_LE(res->n_values, 8);
	c = &run->rec[res->host];
	if (c->n++ == 0)
		c->first = *res;
	c->last = *res;
	memcpy(c->v, res->values, res->n_values * sizeof(res->values[0]));
	c->last.values = c->v;
	c->first.values = NULL;
	snprintf(c->detail, sizeof(c->detail), "%s", res->detail ? res->detail : "");
	c->last.detail = c->detail;
	c->loop_ms = uv_now(&run->loop);
	run->results++;
	vgl_reach_get_stats(run->r, &run->st);
	if (run->hook && run->hook(run, res))
		run_close(run);         /* from inside the callback, on purpose */
	else if (run->stop_after && run->results >= run->stop_after)
		run_close(run);
}

static __attribute__((unused)) void on_guard(uv_timer_t *t)
{
	struct run *run = t->data;

	fprintf(stderr, "test guard expired after %d results\n", run->results);
	vgl_test_fail();
}

/* Accepts and closes what the test's listeners queued: the collector
 * resets each connection, and the queue must not fill over a long test. */
static __attribute__((unused)) void on_drain(uv_timer_t *t)
{
	struct run *run = t->data;

	for (int i = 0; i < 4; i++) {
		int c;
		if (run->lfd[i] < 0)
			continue;
		while ((c = accept4(run->lfd[i], NULL, NULL, SOCK_CLOEXEC)) >= 0)
			close(c);
	}
}

static __attribute__((unused)) void run_init_opts(struct run *run, const struct vgl_reach_opts *o, size_t n_rec,
			  uint64_t guard_ms)
{
	memset(run, 0, sizeof(*run));
	for (int i = 0; i < 4; i++)
		run->lfd[i] = -1;
	run->rec = calloc(n_rec, sizeof(*run->rec));
	ASSERT(run->rec != NULL);
	run->n_rec = n_rec;
	ASSERT_EQ(uv_loop_init(&run->loop), 0);
	ASSERT_EQ(vgl_reach_create_opts(&run->loop, o, on_result, run, &run->r), 0);
	ASSERT_EQ(uv_timer_init(&run->loop, &run->guard), 0);
	run->guard.data = run;
	ASSERT_EQ(uv_timer_start(&run->guard, on_guard, guard_ms, 0), 0);
	uv_unref((uv_handle_t *)&run->guard);
	ASSERT_EQ(uv_timer_init(&run->loop, &run->drain), 0);
	run->drain.data = run;
	ASSERT_EQ(uv_timer_start(&run->drain, on_drain, 20, 20), 0);
	uv_unref((uv_handle_t *)&run->drain);
}

static __attribute__((unused)) void run_init(struct run *run, size_t n_rec, uint64_t guard_ms)
{
	run_init_opts(run, NULL, n_rec, guard_ms);
}

/* Runs until the collector closed and every handle is gone. */
static __attribute__((unused)) void run_finish(struct run *run)
{
	ASSERT_EQ(uv_run(&run->loop, UV_RUN_DEFAULT), 0);
	ASSERT_EQ(run->done_calls, 1);
	ASSERT_EQ(run->after_close, 0);
	ASSERT_EQ(uv_loop_close(&run->loop), 0);
}

static __attribute__((unused)) struct vgl_reach_target icmp_target(const char *addr, uint16_t count)
{
	return (struct vgl_reach_target){
		.address = addr, .kind = VGL_REACH_ICMP, .count = count,
		.interval_ms = 1000, .timeout_ms = 500, .n_values = 4,
		.loss_pct_idx = 1, .rtt_ms_idx = 2,
		.up_idx = VGL_REACH_NO_METRIC, .connect_ms_idx = VGL_REACH_NO_METRIC,
	};
}

static __attribute__((unused)) struct vgl_reach_target tcp_target(const char *addr, uint16_t port)
{
	return (struct vgl_reach_target){
		.address = addr, .kind = VGL_REACH_TCP, .port = port,
		.interval_ms = 200, .timeout_ms = 500, .n_values = 3,
		.up_idx = 0, .connect_ms_idx = 2,
		.loss_pct_idx = VGL_REACH_NO_METRIC, .rtt_ms_idx = VGL_REACH_NO_METRIC,
	};
}

static __attribute__((unused)) int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static __attribute__((unused)) void assert_echo_ok(const struct rec *c, unsigned count)
{
	char want[64];

	ASSERT_GE(c->n, 1);
	ASSERT_EQ(c->last.quality, VGL_Q_OK);
	ASSERT_EQ(c->last.n_values, 4);
	ASSERT_EQ(c->v[0].q, VGL_Q_ABSENT);
	ASSERT_EQ(c->v[3].q, VGL_Q_ABSENT);
	ASSERT_EQ(c->v[1].q, VGL_Q_OK);
	ASSERT(c->v[1].v == 0);                 /* no loss */
	ASSERT_EQ(c->v[2].q, VGL_Q_OK);
	ASSERT(c->v[2].v > 0 && c->v[2].v < 100);
	ASSERT_EQ(c->last.interval_ms, 1000);
	snprintf(want, sizeof(want), "%u/%u echoes answered", count, count);
	ASSERT_CONTAINS(c->detail, want);
}

#endif
