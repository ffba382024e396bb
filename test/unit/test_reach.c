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

static int write_file(const char *path, const char *text)
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
static int private_netns(void)
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
static void ns_sysctl(const char *name, const char *value)
{
	char path[200];

	snprintf(path, sizeof(path), "/proc/sys/net/ipv4/%s", name);
	ASSERT_EQ(write_file(path, value), 0);
}

static int have_raw(void)
{
	int fd = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ICMP);

	if (fd < 0)
		return 0;
	close(fd);
	return 1;
}

/* Whether ICMP works here at all (AUTO would open something). */
static int have_icmp(void)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, IPPROTO_ICMP);

	if (fd < 0)
		return have_raw();
	close(fd);
	return 1;
}

/* TCP tests need no ICMP privilege. */
static const struct vgl_reach_opts tcp_only = { .icmp = VGL_REACH_ICMP_NONE };

static void drop_cap_net_raw(void)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2];

	ASSERT_EQ(syscall(SYS_capget, &h, d), 0);
	d[CAP_NET_RAW / 32].effective &= ~(1u << (CAP_NET_RAW % 32));
	d[CAP_NET_RAW / 32].permitted &= ~(1u << (CAP_NET_RAW % 32));
	ASSERT_EQ(syscall(SYS_capset, &h, d), 0);
}

/* ---- TCP peers ------------------------------------------------------------ */

static int listen_on(const char *addr, uint16_t port, int backlog, uint16_t *bound)
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
static int closed_port(uint16_t *port)
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
static void fill_backlog(uint16_t port, int fds[2])
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
static int client_sockets(uint16_t port)
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

static int listen6_on_loopback(uint16_t *bound)
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

static void on_done(void *ctx)
{
	struct run *run = ctx;

	run->done_calls++;
	uv_close((uv_handle_t *)&run->guard, NULL);
	uv_close((uv_handle_t *)&run->drain, NULL);
}

static void run_close(struct run *run)
{
	if (run->closed)
		return;
	run->closed = 1;
	vgl_reach_close(run->r, on_done, run);
}

static void on_result(void *ctx, const struct vgl_poll_result *res)
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

static void on_guard(uv_timer_t *t)
{
	struct run *run = t->data;

	fprintf(stderr, "test guard expired after %d results\n", run->results);
	vgl_test_fail();
}

/* Accepts and closes what the test's listeners queued: the collector
 * resets each connection, and the queue must not fill over a long test. */
static void on_drain(uv_timer_t *t)
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

static void run_init_opts(struct run *run, const struct vgl_reach_opts *o, size_t n_rec,
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

static void run_init(struct run *run, size_t n_rec, uint64_t guard_ms)
{
	run_init_opts(run, NULL, n_rec, guard_ms);
}

/* Runs until the collector closed and every handle is gone. */
static void run_finish(struct run *run)
{
	ASSERT_EQ(uv_run(&run->loop, UV_RUN_DEFAULT), 0);
	ASSERT_EQ(run->done_calls, 1);
	ASSERT_EQ(run->after_close, 0);
	ASSERT_EQ(uv_loop_close(&run->loop), 0);
}

static struct vgl_reach_target icmp_target(const char *addr, uint16_t count)
{
	return (struct vgl_reach_target){
		.address = addr, .kind = VGL_REACH_ICMP, .count = count,
		.interval_ms = 1000, .timeout_ms = 500, .n_values = 4,
		.loss_pct_idx = 1, .rtt_ms_idx = 2,
		.up_idx = VGL_REACH_NO_METRIC, .connect_ms_idx = VGL_REACH_NO_METRIC,
	};
}

static struct vgl_reach_target tcp_target(const char *addr, uint16_t port)
{
	return (struct vgl_reach_target){
		.address = addr, .kind = VGL_REACH_TCP, .port = port,
		.interval_ms = 200, .timeout_ms = 500, .n_values = 3,
		.up_idx = 0, .connect_ms_idx = 2,
		.loss_pct_idx = VGL_REACH_NO_METRIC, .rtt_ms_idx = VGL_REACH_NO_METRIC,
	};
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void assert_echo_ok(const struct rec *c, unsigned count)
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

/* ---- ICMP ---------------------------------------------------------------- */

static void echo_loopback(const struct vgl_reach_opts *o, enum vgl_reach_icmp want_mode,
			  uint32_t gap_ms)
{
	struct run run;
	struct vgl_reach_target t4 = icmp_target("127.0.0.1", 3), t6 = icmp_target("::1", 2);
	int64_t before = now_ms();

	t4.gap_ms = t6.gap_ms = gap_ms;
	run_init_opts(&run, o, 2, 10000);
	ASSERT_EQ(vgl_reach_add_target(run.r, 0, &t4), 0);
	ASSERT_EQ(vgl_reach_add_target(run.r, 1, &t6), 0);
	vgl_reach_get_stats(run.r, &run.st);
	fprintf(stderr, "ICMP through %s sockets (IPv4), %s (IPv6)\n",
		vgl_reach_icmp_name(run.st.icmp4), vgl_reach_icmp_name(run.st.icmp6));
	if (want_mode != VGL_REACH_ICMP_AUTO) {
		ASSERT_EQ(run.st.icmp4, want_mode);
		ASSERT_EQ(run.st.icmp6, want_mode);
	}
	run.stop_after = 2;
	run_finish(&run);

	assert_echo_ok(&run.rec[0], 3);
	assert_echo_ok(&run.rec[1], 2);
	ASSERT_EQ(run.rec[0].last.host, 0);
	ASSERT_EQ(run.rec[1].last.host, 1);
	for (int i = 0; i < 2; i++) {
		ASSERT_GE(run.rec[i].last.ts_ms, before);
		ASSERT_LE(run.rec[i].last.ts_ms, now_ms());
	}
	ASSERT_EQ(run.st.echoes_sent, 5);
	ASSERT_EQ(run.st.echoes_answered, 5);
	ASSERT_EQ(run.st.timeouts, 0);
	free(run.rec);
}

/* Whatever this machine allows (AUTO): here, as root with
 * ping_group_range "1 0", a raw socket. */
TEST(reach_icmp_loopback_answers_with_rtt)
{
	if (!have_icmp())
		SKIP("no ICMP socket of either kind");
	echo_loopback(NULL, VGL_REACH_ICMP_AUTO, 0);
}

TEST(reach_icmp_ping_socket_path)
{
	if (private_netns() != 0)
		SKIP("cannot make a network namespace (needs CAP_SYS_ADMIN)");
	/* this namespace's own setting: any group may open ping sockets */
	ns_sysctl("ping_group_range", "0 2147483647");
	echo_loopback(NULL, VGL_REACH_ICMP_PING, 20);
}

TEST(reach_icmp_raw_socket_forced)
{
	struct vgl_reach_opts o = { .icmp = VGL_REACH_ICMP_RAW };

	if (!have_raw())
		SKIP("no CAP_NET_RAW");
	/* where ping sockets would be allowed too, RAW still takes raw */
	if (private_netns() == 0)
		ns_sysctl("ping_group_range", "0 2147483647");
	echo_loopback(&o, VGL_REACH_ICMP_RAW, 0);
}

TEST(reach_icmp_without_privilege_fails_saying_how_to_fix)
{
	char err[800];
	struct vgl_reach_opts o = { .err = err, .err_len = sizeof(err) };
	struct vgl_reach *r = (struct vgl_reach *)&o;    /* must stay untouched */
	char range[64], want[100];
	unsigned long lo, hi;
	uv_loop_t loop;
	FILE *f;
	int rv;

	if (private_netns() == 0) {
		ns_sysctl("ping_group_range", "1 0");   /* no group may */
		drop_cap_net_raw();
	} else if (have_icmp()) {
		SKIP("ICMP works here and no namespace can take it away");
	}       /* else: this process has neither already */
	ASSERT(!have_icmp());
	f = fopen("/proc/sys/net/ipv4/ping_group_range", "r");
	ASSERT(f != NULL);
	ASSERT_EQ(fscanf(f, "%lu %lu", &lo, &hi), 2);
	ASSERT_EQ(fclose(f), 0);
	snprintf(range, sizeof(range), "%lu %lu", lo, hi);
	ASSERT_EQ(uv_loop_init(&loop), 0);

	rv = vgl_reach_create_opts(&loop, &o, on_result, NULL, &r);
	ASSERT(rv == -EPERM || rv == -EACCES);
	ASSERT(r == (struct vgl_reach *)&o);
	fprintf(stderr, "%s\n", err);
	snprintf(want, sizeof(want), "net.ipv4.ping_group_range is \"%s\"", range);
	ASSERT_CONTAINS(err, want);
	ASSERT_CONTAINS(err, "sysctl -w net.ipv4.ping_group_range=");
	ASSERT_CONTAINS(err, "CAP_NET_RAW");
	ASSERT_CONTAINS(err, "setcap cap_net_raw+ep");
	ASSERT_CONTAINS(err, "AmbientCapabilities=CAP_NET_RAW");

	o.icmp = VGL_REACH_ICMP_PING;
	ASSERT(vgl_reach_create_opts(&loop, &o, on_result, NULL, &r) < 0);
	ASSERT_CONTAINS(err, "ping_group_range");
	ASSERT(!strstr(err, "setcap"));
	o.icmp = VGL_REACH_ICMP_RAW;
	ASSERT(vgl_reach_create_opts(&loop, &o, on_result, NULL, &r) < 0);
	ASSERT_CONTAINS(err, "setcap");
	ASSERT(!strstr(err, "ping_group_range"));

	/* nothing is left on the loop once it ran */
	ASSERT_EQ(uv_run(&loop, UV_RUN_DEFAULT), 0);
	ASSERT_EQ(uv_loop_close(&loop), 0);

	/* TCP only needs nothing */
	{
		struct run run;
		struct vgl_reach_opts none = { .icmp = VGL_REACH_ICMP_NONE };
		struct vgl_reach_target t = icmp_target("127.0.0.1", 1);
		uint16_t port;
		int lfd = listen_on("127.0.0.1", 0, 16, &port);
		struct vgl_reach_target tt = tcp_target("127.0.0.1", port);

		run_init_opts(&run, &none, 1, 10000);
		ASSERT_EQ(vgl_reach_add_target(run.r, 0, &t), -EPROTONOSUPPORT);
		ASSERT_EQ(vgl_reach_add_target(run.r, 0, &tt), 0);
		run.stop_after = 1;
		run_finish(&run);
		ASSERT_EQ(run.rec[0].last.quality, VGL_Q_OK);
		free(run.rec);
		close(lfd);
	}
}

/* A host that does not answer: a private namespace whose kernel ignores
 * echo requests. */
static void silent_host(const struct vgl_reach_opts *o)
{
	struct run run;
	struct vgl_reach_target t = icmp_target("127.0.0.7", 2);
	const struct rec *c;

	t.timeout_ms = 300;
	run_init_opts(&run, o, 1, 10000);
	ASSERT_EQ(vgl_reach_add_target(run.r, 0, &t), 0);
	run.stop_after = 2;
	run_finish(&run);
	c = &run.rec[0];
	ASSERT_EQ(c->last.quality, VGL_Q_TIMEOUT);
	ASSERT_EQ(c->first.quality, VGL_Q_TIMEOUT);
	ASSERT_EQ(c->v[1].q, VGL_Q_OK);         /* the loss was measured */
	ASSERT(c->v[1].v == 100);
	ASSERT_EQ(c->v[2].q, VGL_Q_TIMEOUT);
	ASSERT_CONTAINS(c->detail, "0/2 echoes answered within 300 ms");
	ASSERT_EQ(run.st.timeouts, 2);
	/* one interval apart: the second poll began a grid step later
	 * (slack for a loaded machine) */
	ASSERT_GE(c->last.ts_ms - c->first.ts_ms, 800);
	ASSERT_LE(c->last.ts_ms - c->first.ts_ms, 1600);
	free(run.rec);
}

TEST(reach_icmp_silent_host_times_out_ping)
{
	if (private_netns() != 0)
		SKIP("cannot make a network namespace (needs CAP_SYS_ADMIN)");
	ns_sysctl("ping_group_range", "0 2147483647");
	ns_sysctl("icmp_echo_ignore_all", "1");
	silent_host(NULL);
}

TEST(reach_icmp_silent_host_times_out_raw)
{
	struct vgl_reach_opts o = { .icmp = VGL_REACH_ICMP_RAW };

	if (!have_raw() || private_netns() != 0)
		SKIP("needs CAP_NET_RAW and a network namespace");
	ns_sysctl("icmp_echo_ignore_all", "1");
	silent_host(&o);
}

/* A route the kernel refuses at once: sendto fails with EHOSTUNREACH. */
static void unreachable_route(const struct vgl_reach_opts *o)
{
	struct run run;
	struct vgl_reach_target t = icmp_target("127.0.0.9", 2);

	if (system("ip route add unreachable 127.0.0.9/32 table local 2>/dev/null") != 0)
		SKIP("no ip(8) to add a route in the test's namespace");
	run_init_opts(&run, o, 1, 10000);
	ASSERT_EQ(vgl_reach_add_target(run.r, 0, &t), 0);
	run.stop_after = 1;
	run_finish(&run);
	ASSERT_EQ(run.rec[0].last.quality, VGL_Q_REFUSED);
	ASSERT_CONTAINS(run.rec[0].detail, "send: No route to host");
	ASSERT(run.rec[0].v[1].v == 100);
	ASSERT_EQ(run.rec[0].v[2].q, VGL_Q_REFUSED);
	ASSERT_EQ(run.st.refused, 1);
	free(run.rec);
}

TEST(reach_icmp_unreachable_route_is_refused_ping)
{
	if (private_netns() != 0)
		SKIP("cannot make a network namespace (needs CAP_SYS_ADMIN)");
	ns_sysctl("ping_group_range", "0 2147483647");
	unreachable_route(NULL);
}

TEST(reach_icmp_unreachable_route_is_refused_raw)
{
	struct vgl_reach_opts o = { .icmp = VGL_REACH_ICMP_RAW };

	if (!have_raw() || private_netns() != 0)
		SKIP("needs CAP_NET_RAW and a network namespace");
	unreachable_route(&o);
}

/* A peer on the wire, played by a raw socket of the test in the private
 * namespace (whose kernel ignores echo requests): it sees each echo to
 * 127.0.0.7 and answers it the way a router or a forger would. */
enum forge_kind { FORGE_UNREACH, FORGE_BAD_NONCE };

struct forger {
	int fd;                 /* raw, unbound: sees every ICMP message */
	int fd_as_target;       /* raw, bound to 127.0.0.7: forged replies */
	enum forge_kind kind;
	int forged;
	uv_poll_t poll;
};

static void forger_send(int fd, uint8_t *icmp, size_t len, const char *to)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	uint32_t sum = 0;

	icmp[2] = icmp[3] = 0;
	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(icmp[i] << 8 | icmp[i + 1]);
	if (len & 1)
		sum += (uint32_t)icmp[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	icmp[2] = (uint8_t)(~sum >> 8);
	icmp[3] = (uint8_t)~sum;
	ASSERT_EQ(inet_pton(AF_INET, to, &a.sin_addr), 1);
	ASSERT_EQ(sendto(fd, icmp, len, 0, (struct sockaddr *)&a, sizeof(a)), (ssize_t)len);
}

static void on_forger(uv_poll_t *h, int status, int events)
{
	struct forger *f = h->data;
	uint8_t b[1500], out[1500];
	ssize_t n;

	(void)events;
	ASSERT_EQ(status, 0);
	while ((n = recv(f->fd, b, sizeof(b), MSG_DONTWAIT)) > 0) {
		size_t ihl = (size_t)(b[0] & 15) * 4;
		uint8_t *icmp = b + ihl;
		struct in_addr dst;

		memcpy(&dst, b + 16, 4);
		if ((size_t)n < ihl + 16 || icmp[0] != 8 || dst.s_addr != inet_addr("127.0.0.7"))
			continue;
		if (f->kind == FORGE_UNREACH) {
			/* ICMP 3/1 quoting the echo's IP header and its ICMP
			 * bytes, from 127.0.0.1 as a router would */
			size_t q = (size_t)n;
			memset(out, 0, 8);
			out[0] = 3;
			out[1] = 1;
			memcpy(out + 8, b, q);
			forger_send(f->fd, out, 8 + q, "127.0.0.1");
		} else {
			/* the right id and sequence from the right address,
			 * but not the nonce the echo carried */
			memcpy(out, icmp, (size_t)n - ihl);
			out[0] = 0;
			out[15] ^= 1;
			forger_send(f->fd_as_target, out, (size_t)n - ihl, "127.0.0.1");
		}
		f->forged++;
	}
}

static void forged(const struct vgl_reach_opts *o, enum forge_kind kind)
{
	struct run run;
	struct forger f = { .kind = kind };
	struct vgl_reach_target t = icmp_target("127.0.0.7", 1);
	struct sockaddr_in a = { .sin_family = AF_INET };

	f.fd = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, IPPROTO_ICMP);
	ASSERT(f.fd >= 0);
	f.fd_as_target = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ICMP);
	ASSERT(f.fd_as_target >= 0);
	a.sin_addr.s_addr = inet_addr("127.0.0.7");
	ASSERT_EQ(bind(f.fd_as_target, (struct sockaddr *)&a, sizeof(a)), 0);

	t.timeout_ms = 400;
	run_init_opts(&run, o, 1, 10000);
	ASSERT_EQ(uv_poll_init(&run.loop, &f.poll, f.fd), 0);
	f.poll.data = &f;
	ASSERT_EQ(uv_poll_start(&f.poll, UV_READABLE, on_forger), 0);
	uv_unref((uv_handle_t *)&f.poll);
	ASSERT_EQ(vgl_reach_add_target(run.r, 0, &t), 0);
	run.stop_after = 2;
	ASSERT_EQ(uv_run(&run.loop, UV_RUN_DEFAULT), 0);
	ASSERT_EQ(run.done_calls, 1);
	uv_close((uv_handle_t *)&f.poll, NULL);
	run_finish(&run);
	ASSERT_EQ(f.forged, 2);
	if (kind == FORGE_UNREACH) {
		ASSERT_EQ(run.rec[0].last.quality, VGL_Q_REFUSED);
		ASSERT_CONTAINS(run.rec[0].detail, "host unreachable (ICMP 3/1 from 127.0.0.1)");
		ASSERT_EQ(run.rec[0].v[2].q, VGL_Q_REFUSED);
		ASSERT_EQ(run.st.refused, 2);
		ASSERT_EQ(run.st.rejected, 0);
	} else {
		ASSERT_EQ(run.rec[0].last.quality, VGL_Q_TIMEOUT);
		ASSERT_EQ(run.st.rejected, 2);
		ASSERT_EQ(run.st.echoes_answered, 0);
	}
	close(f.fd);
	close(f.fd_as_target);
	free(run.rec);
}

TEST(reach_icmp_unreachable_message_is_refused_ping)
{
	if (!have_raw() || private_netns() != 0)
		SKIP("needs CAP_NET_RAW (the forger) and a network namespace");
	ns_sysctl("ping_group_range", "0 2147483647");
	ns_sysctl("icmp_echo_ignore_all", "1");
	forged(NULL, FORGE_UNREACH);
}

TEST(reach_icmp_unreachable_message_is_refused_raw)
{
	struct vgl_reach_opts o = { .icmp = VGL_REACH_ICMP_RAW };

	if (!have_raw() || private_netns() != 0)
		SKIP("needs CAP_NET_RAW and a network namespace");
	ns_sysctl("icmp_echo_ignore_all", "1");
	forged(&o, FORGE_UNREACH);
}

TEST(reach_icmp_forged_reply_is_rejected_ping)
{
	if (!have_raw() || private_netns() != 0)
		SKIP("needs CAP_NET_RAW (the forger) and a network namespace");
	ns_sysctl("ping_group_range", "0 2147483647");
	ns_sysctl("icmp_echo_ignore_all", "1");
	forged(NULL, FORGE_BAD_NONCE);
}

TEST(reach_icmp_forged_reply_is_rejected_raw)
{
	struct vgl_reach_opts o = { .icmp = VGL_REACH_ICMP_RAW };

	if (!have_raw() || private_netns() != 0)
		SKIP("needs CAP_NET_RAW and a network namespace");
	ns_sysctl("icmp_echo_ignore_all", "1");
	forged(&o, FORGE_BAD_NONCE);
}

/* ---- TCP ------------------------------------------------------------------- */

/* up, then the listener closes (RST: refused), then it listens again. */
static int tcp_phases(struct run *run, const struct vgl_poll_result *res)
{
	enum vgl_quality want[] = { VGL_Q_OK, VGL_Q_REFUSED, VGL_Q_OK };

	ASSERT_EQ(res->quality, want[run->phase]);
	ASSERT_EQ(res->n_values, 3);
	ASSERT_EQ(res->values[0].q, VGL_Q_OK);
	ASSERT(res->values[0].v == (res->quality == VGL_Q_OK));
	ASSERT_EQ(res->values[1].q, VGL_Q_ABSENT);
	ASSERT_EQ(res->values[2].q, res->quality);
	if (res->quality == VGL_Q_OK) {
		ASSERT(res->values[2].v > 0 && res->values[2].v < 100);
		ASSERT_CONTAINS(res->detail, "connected in");
	} else {
		ASSERT_CONTAINS(res->detail, "connection refused");
	}
	if (run->phase == 0) {
		close(run->lfd[0]);
		run->lfd[0] = -1;
	} else if (run->phase == 1) {
		run->lfd[0] = listen_on("127.0.0.1", run->port, 16, NULL);
	}
	return ++run->phase == 3;
}

TEST(reach_tcp_open_closed_reopened)
{
	struct run run;
	struct vgl_reach_target t;

	run_init_opts(&run, &tcp_only, 1, 10000);
	run.lfd[0] = listen_on("127.0.0.1", 0, 16, &run.port);
	t = tcp_target("127.0.0.1", run.port);
	ASSERT_EQ(vgl_reach_add_target(run.r, 0, &t), 0);
	run.hook = tcp_phases;
	run_finish(&run);
	ASSERT_EQ(run.phase, 3);
	ASSERT_EQ(run.st.refused, 1);
	ASSERT_EQ(run.st.polls, 3);
	ASSERT_EQ(client_sockets(run.port), 0);
	close(run.lfd[0]);
	free(run.rec);
}

TEST(reach_tcp_ipv6_loopback_is_up)
{
	struct run run;
	uint16_t port;
	int lfd = listen6_on_loopback(&port);
	struct vgl_reach_target t = tcp_target("::1", port);

	run_init_opts(&run, &tcp_only, 1, 10000);
	run.lfd[0] = lfd;
	ASSERT_EQ(vgl_reach_add_target(run.r, 0, &t), 0);
	run.stop_after = 2;
	run_finish(&run);
	ASSERT_EQ(run.rec[0].last.quality, VGL_Q_OK);
	ASSERT(run.rec[0].v[0].v == 1);
	ASSERT_EQ(client_sockets(port), 0);
	close(lfd);
	free(run.rec);
}

TEST(reach_tcp_closed_port_is_refused)
{
	struct run run;
	uint16_t port;
	int fd = closed_port(&port);
	struct vgl_reach_target t = tcp_target("127.0.0.1", port);

	run_init_opts(&run, &tcp_only, 1, 10000);
	ASSERT_EQ(vgl_reach_add_target(run.r, 0, &t), 0);
	run.stop_after = 1;
	run_finish(&run);
	ASSERT_EQ(run.rec[0].last.quality, VGL_Q_REFUSED);
	ASSERT(run.rec[0].v[0].v == 0);
	ASSERT_EQ(run.rec[0].v[2].q, VGL_Q_REFUSED);
	close(fd);
	free(run.rec);
}

TEST(reach_tcp_full_backlog_times_out)
{
	struct run run;
	uint16_t port;
	int lfd = listen_on("127.0.0.1", 0, 0, &port), fill[2];
	struct vgl_reach_target t = tcp_target("127.0.0.1", port);

	fill_backlog(port, fill);
	t.timeout_ms = 300;
	t.interval_ms = 1000;
	run_init_opts(&run, &tcp_only, 1, 10000);
	ASSERT_EQ(vgl_reach_add_target(run.r, 0, &t), 0);
	run.stop_after = 1;
	run_finish(&run);
	ASSERT_EQ(run.rec[0].last.quality, VGL_Q_TIMEOUT);
	ASSERT(run.rec[0].v[0].v == 0);
	ASSERT_EQ(run.rec[0].v[0].q, VGL_Q_OK);
	ASSERT_EQ(run.rec[0].v[2].q, VGL_Q_TIMEOUT);
	ASSERT_CONTAINS(run.rec[0].detail, "no answer within 300 ms");
	ASSERT_GE(run.rec[0].loop_ms, 300);
	ASSERT_EQ(run.st.timeouts, 1);
	close(fill[0]);
	close(fill[1]);
	close(lfd);
	free(run.rec);
}

static int watch_tcp_open(struct run *run, const struct vgl_poll_result *res)
{
	(void)res;
	ASSERT_LE(run->st.tcp_open, 2);
	return 0;
}

TEST(reach_tcp_skips_overlapping_polls_and_caps_connects)
{
	struct run run;
	struct vgl_reach_opts o = { .icmp = VGL_REACH_ICMP_NONE, .max_tcp_in_flight = 2 };
	uint16_t port;
	int lfd = listen_on("127.0.0.1", 0, 0, &port), fill[2];

	fill_backlog(port, fill);
	run_init_opts(&run, &o, 5, 10000);
	for (uint32_t i = 0; i < 5; i++) {
		struct vgl_reach_target t = tcp_target("127.0.0.1", port);
		t.interval_ms = 150;
		t.timeout_ms = 400;     /* every poll outlives the interval */
		ASSERT_EQ(vgl_reach_add_target(run.r, i, &t), 0);
	}
	run.hook = watch_tcp_open;
	run.stop_after = 6;
	run_finish(&run);
	ASSERT_EQ(run.st.polls, 6);
	ASSERT_EQ(run.st.timeouts, 6);
	ASSERT_GT(run.st.skipped, 0);
	close(fill[0]);
	close(fill[1]);
	close(lfd);
	free(run.rec);
}

/* ---- lifecycle ----------------------------------------------------------- */

static void on_close_timer(uv_timer_t *t)
{
	struct run *run = t->data;
	struct vgl_reach_stats st;

	vgl_reach_get_stats(run->r, &st);
	ASSERT_EQ(st.in_flight, 21);
	ASSERT_EQ(st.tcp_open, 20);
	ASSERT_EQ(st.polls, 0);
	run_close(run);
	uv_close((uv_handle_t *)t, NULL);
}

TEST(reach_close_with_polls_in_flight)
{
	struct run run;
	uv_timer_t closer;
	uint16_t port;
	int lfd = listen_on("127.0.0.1", 0, 0, &port), fill[2];
	struct vgl_reach_target ti = icmp_target("127.0.0.1", 5);

	if (!have_icmp())
		SKIP("no ICMP socket of either kind");
	fill_backlog(port, fill);
	run_init(&run, 21, 10000);
	for (uint32_t i = 0; i < 20; i++) {
		struct vgl_reach_target t = tcp_target("127.0.0.1", port);
		t.timeout_ms = 5000;
		t.interval_ms = 600;    /* all have started by 600 ms */
		ASSERT_EQ(vgl_reach_add_target(run.r, i, &t), 0);
	}
	/* echoes a second apart: the poll runs for 4.5 s */
	ti.gap_ms = 1000;
	ti.interval_ms = 600;
	ASSERT_EQ(vgl_reach_add_target(run.r, 20, &ti), 0);
	ASSERT_EQ(uv_timer_init(&run.loop, &closer), 0);
	closer.data = &run;
	ASSERT_EQ(uv_timer_start(&closer, on_close_timer, 700, 0), 0);
	run_finish(&run);
	ASSERT_EQ(run.results, 0);
	close(fill[0]);
	close(fill[1]);
	close(lfd);
	free(run.rec);
}

TEST(reach_rejects_bad_targets)
{
	struct run run;
	struct vgl_reach_target t;

	run_init_opts(&run, &tcp_only, 1, 10000);
	t = icmp_target(NULL, 1);
	ASSERT_EQ(vgl_reach_add_target(run.r, 0, &t), -EINVAL);
	t = icmp_target("localhost", 1);        /* literals only */
	ASSERT_EQ(vgl_reach_add_target(run.r, 0, &t), -EINVAL);
	t = icmp_target("127.0.0.1", 65);
	ASSERT_EQ(vgl_reach_add_target(run.r, 0, &t), -EINVAL);
	t = icmp_target("127.0.0.1", 1);
	t.rtt_ms_idx = t.loss_pct_idx;
	ASSERT_EQ(vgl_reach_add_target(run.r, 0, &t), -EINVAL);
	t = icmp_target("127.0.0.1", 1);
	t.rtt_ms_idx = 4;                       /* n_values is 4 */
	ASSERT_EQ(vgl_reach_add_target(run.r, 0, &t), -EINVAL);
	t = icmp_target("127.0.0.1", 1);
	t.interval_ms = 0;
	ASSERT_EQ(vgl_reach_add_target(run.r, 0, &t), -EINVAL);
	t = tcp_target("127.0.0.1", 0);
	ASSERT_EQ(vgl_reach_add_target(run.r, 0, &t), -EINVAL);
	t = tcp_target("127.0.0.1", 80);
	t.kind = (enum vgl_reach_kind)7;
	ASSERT_EQ(vgl_reach_add_target(run.r, 0, &t), -EINVAL);
	/* no values at all is fine: the poll's quality is the point */
	t = tcp_target("127.0.0.1", 9);
	t.n_values = 0;
	t.up_idx = t.connect_ms_idx = VGL_REACH_NO_METRIC;
	ASSERT_EQ(vgl_reach_add_target(run.r, 0, &t), 0);
	vgl_reach_get_stats(run.r, &run.st);
	ASSERT_EQ(run.st.targets, 1);
	run_close(&run);
	run_finish(&run);
	free(run.rec);
}

/* The collector interface from a real config: two TCP sources of one host
 * (a listening port, a closed one), their metrics named in the config, and
 * each result carrying its source and the profile's metric indexes. */
static struct vgl_poll_result ops_seen[2];
static struct vgl_value ops_vals[2][2];
static uint32_t ops_idx[2][2];
static int ops_n[2];

static int ops_hook(struct run *run, const struct vgl_poll_result *res)
{
	(void)run;
	ASSERT_LT(res->source, 2);
	ASSERT_LE(res->n_values, 2);
	if (ops_n[res->source]++ == 0) {
		ops_seen[res->source] = *res;
		memcpy(ops_vals[res->source], res->values, res->n_values * sizeof(*res->values));
		memcpy(ops_idx[res->source], res->metrics, res->n_values * sizeof(*res->metrics));
	}
	return ops_n[0] && ops_n[1];
}

TEST(reach_collector_from_config)
{
	const struct vgl_collector_ops *ops = vgl_collector_find("reach");
	struct vgl_conf *c = NULL;
	struct vgl_conf_errors errs;
	struct vgl_collector_stats st;
	uint16_t open_port, shut_port;
	int lfd = listen_on("127.0.0.1", 0, 16, &open_port), cfd = closed_port(&shut_port);
	char text[1024], path[600];
	struct run run;
	void *be = NULL;
	FILE *f;

	ASSERT(ops != NULL);
	ASSERT_STREQ(ops->name, "reach");
	snprintf(text, sizeof(text),
		 "{ \"hosts\": [ { \"name\": \"web-01\", \"address\": \"127.0.0.1\",\n"
		 "  \"sources\": {\n"
		 "    \"web\": { \"type\": \"tcp\", \"port\": %u, \"interval_s\": 1, \"timeout_ms\": 500 },\n"
		 "    \"admin\": { \"type\": \"tcp\", \"port\": %u, \"interval_s\": 1 } },\n"
		 "  \"metrics\": { \"admin_up\": { \"source\": \"admin\", \"value\": \"up\" },\n"
		 "    \"web_ms\": { \"source\": \"web\", \"value\": \"connect_ms\" },\n"
		 "    \"web_up\": { \"source\": \"web\", \"value\": \"up\" } },\n"
		 "  \"availability\": [ { \"name\": \"down\", \"unreachable\": 2, \"source\": \"web\",\n"
		 "    \"cause\": \"network\" } ] } ] }\n", (unsigned)open_port, (unsigned)shut_port);
	snprintf(path, sizeof(path), "%s/reach.json", vgl_test_tmpdir());
	ASSERT((f = fopen(path, "w")) != NULL);
	ASSERT(fputs(text, f) >= 0);
	ASSERT_EQ(fclose(f), 0);
	if (vgl_conf_load(path, &c, &errs) != 0) {
		for (size_t i = 0; i < errs.n; i++)
			fprintf(stderr, "  error: %s\n", errs.msgs[i]);
		ASSERT(0);
	}
	vgl_conf_errors_free(&errs);
	ASSERT_EQ(c->hosts[0].profile->n_sources, 2);
	ASSERT_EQ(c->hosts[0].profile->conds[0].source, 0);     /* "web" */
	ASSERT(vgl_collector_of(&c->hosts[0], 0) == ops);

	memset(&run, 0, sizeof(run));
	for (int i = 0; i < 4; i++)
		run.lfd[i] = -1;
	run.lfd[0] = lfd;
	run.rec = calloc(1, sizeof(*run.rec));
	ASSERT(run.rec != NULL);
	run.n_rec = 1;
	run.hook = ops_hook;
	ASSERT_EQ(uv_loop_init(&run.loop), 0);
	/* Only TCP sources: no ICMP socket is asked for, so this needs no
	 * privilege. */
	ASSERT_EQ(ops->create(&run.loop, c, on_result, &run, &be), 0);
	run.r = be;
	ASSERT_EQ(ops->add_source(be, 0, &c->hosts[0], 0), 0);
	ASSERT_EQ(ops->add_source(be, 0, &c->hosts[0], 1), 0);
	ASSERT_EQ(uv_timer_init(&run.loop, &run.guard), 0);
	run.guard.data = &run;
	ASSERT_EQ(uv_timer_start(&run.guard, on_guard, 10000, 0), 0);
	uv_unref((uv_handle_t *)&run.guard);
	ASSERT_EQ(uv_timer_init(&run.loop, &run.drain), 0);
	run.drain.data = &run;
	ASSERT_EQ(uv_timer_start(&run.drain, on_drain, 20, 20), 0);
	uv_unref((uv_handle_t *)&run.drain);
	run_finish(&run);

	/* web: metrics web_ms (1) and web_up (2), in the source's order */
	ASSERT_EQ(ops_seen[0].quality, VGL_Q_OK);
	ASSERT_EQ(ops_seen[0].n_values, 2);
	ASSERT_EQ(ops_idx[0][0], 1);
	ASSERT_EQ(ops_idx[0][1], 2);
	ASSERT_EQ(ops_vals[0][1].q, VGL_Q_OK);
	ASSERT(ops_vals[0][1].v == 1.0);
	ASSERT_EQ(ops_vals[0][0].q, VGL_Q_OK);
	/* admin: refused, up = 0 measured */
	ASSERT_EQ(ops_seen[1].quality, VGL_Q_REFUSED);
	ASSERT_EQ(ops_seen[1].n_values, 1);
	ASSERT_EQ(ops_idx[1][0], 0);
	ASSERT_EQ(ops_vals[1][0].q, VGL_Q_OK);
	ASSERT(ops_vals[1][0].v == 0.0);
	(void)st;
	free(run.rec);
	close(lfd);
	close(cfd);
	vgl_conf_free(c);
}

/* ---- scale ----------------------------------------------------------------- */

#define N_SCALE 1000

/* 127.0.0.1 .. 127.0.3.232 */
static void scale_addr(uint32_t i, char *buf, size_t len)
{
	snprintf(buf, len, "127.0.%u.%u", (i + 1) / 256, (i + 1) % 256);
}

static int all_seen(struct run *run, const struct vgl_poll_result *res)
{
	(void)res;
	if (run->rec[res->host].n != 1)
		return 0;
	return ++run->phase == N_SCALE;
}

static void scale_one_interval(enum vgl_reach_kind kind, uint16_t port)
{
	static char addrs[N_SCALE][20];
	struct run run;
	uint64_t t0, first_ms = UINT64_MAX, last_ms = 0;

	run_init_opts(&run, kind == VGL_REACH_TCP ? &tcp_only : NULL, N_SCALE, 20000);
	for (uint32_t i = 0; i < N_SCALE; i++) {
		struct vgl_reach_target t = kind == VGL_REACH_ICMP ? icmp_target(addrs[i], 1)
								    : tcp_target(addrs[i], port);
		scale_addr(i, addrs[i], sizeof(addrs[i]));
		t.interval_ms = 1000;
		t.timeout_ms = 900;
		ASSERT_EQ(vgl_reach_add_target(run.r, i, &t), 0);
	}
	ASSERT_STREQ(addrs[N_SCALE - 1], "127.0.3.232");
	run.hook = all_seen;
	t0 = uv_now(&run.loop);
	run_finish(&run);

	ASSERT_EQ(run.phase, N_SCALE);
	ASSERT_EQ(run.st.timeouts, 0);
	for (uint32_t i = 0; i < N_SCALE; i++) {
		const struct rec *c = &run.rec[i];
		ASSERT_EQ(c->first.quality, VGL_Q_OK);
		ASSERT_EQ(c->first.host, i);
		if (i)  /* spread in host order */
			ASSERT_GE(c->first.ts_ms, run.rec[i - 1].first.ts_ms);
		if (c->loop_ms < first_ms)
			first_ms = c->loop_ms;
		if (c->loop_ms > last_ms)
			last_ms = c->loop_ms;
	}
	/* evenly over the interval: the last first poll near its end, all
	 * of them within it (the schedule puts the last at 957 ms; slack
	 * for a loaded machine) */
	ASSERT_GE(run.rec[N_SCALE - 1].first.ts_ms - run.rec[0].first.ts_ms, 800);
	ASSERT_LT(run.rec[N_SCALE - 1].first.ts_ms - run.rec[0].first.ts_ms, 1200);
	fprintf(stderr, "%d %s targets: first results from %" PRIu64 " to %" PRIu64 " ms\n",
		N_SCALE, kind == VGL_REACH_ICMP ? "icmp" : "tcp", first_ms - t0, last_ms - t0);
	free(run.rec);
}

TEST(reach_icmp_1000_targets_in_one_interval)
{
	if (!have_icmp())
		SKIP("no ICMP socket of either kind");
	scale_one_interval(VGL_REACH_ICMP, 0);
}

TEST(reach_tcp_1000_targets_in_one_interval)
{
	uint16_t port;
	int lfd;

	/* one listener for all of 127.0.0.0/8 needs INADDR_ANY: only in a
	 * namespace of our own, with no interface but lo */
	if (private_netns() != 0)
		SKIP("cannot make a network namespace (needs CAP_SYS_ADMIN)");
	lfd = listen_on("0.0.0.0", 0, 4096, &port);
	scale_one_interval(VGL_REACH_TCP, port);
	/* 1,000 connects, reset, not closed: nothing left on our side */
	ASSERT_EQ(client_sockets(port), 0);
	close(lfd);
}

/* ---- cost ------------------------------------------------------------------- */

/* User and system CPU of the process so far, in us. Only their sum is
 * exact: Linux splits it between the two by sampling ticks. */
static void cpu_us(double *user, double *sys)
{
	struct rusage ru;

	ASSERT_EQ(getrusage(RUSAGE_SELF, &ru), 0);
	*user = (double)ru.ru_utime.tv_sec * 1e6 + (double)ru.ru_utime.tv_usec;
	*sys = (double)ru.ru_stime.tv_sec * 1e6 + (double)ru.ru_stime.tv_usec;
}

/* CPU per poll from getrusage over N polls; printed, not asserted (the
 * figures in docs/reach.md come from here). Loopback: the kernel's side of
 * each echo and connect runs on this process's CPU time too. */
static void cost(const char *what, const struct vgl_reach_opts *o, enum vgl_reach_kind kind,
		 uint32_t n, int intervals, int lfd, uint16_t port)
{
	static char addrs[N_SCALE][20];
	struct run run;
	double u0, s0, u1, s1;
	uint64_t t0, t1;

	run_init_opts(&run, o, n, 60000);
	run.lfd[0] = lfd;
	for (uint32_t i = 0; i < n; i++) {
		struct vgl_reach_target t = kind == VGL_REACH_ICMP ? icmp_target(addrs[i], 1)
								    : tcp_target(addrs[i], port);
		scale_addr(i, addrs[i], sizeof(addrs[i]));
		t.interval_ms = 500;
		t.timeout_ms = 400;
		ASSERT_EQ(vgl_reach_add_target(run.r, i, &t), 0);
	}
	run.stop_after = (int)n * intervals;
	cpu_us(&u0, &s0);
	t0 = uv_now(&run.loop);
	ASSERT_EQ(uv_run(&run.loop, UV_RUN_DEFAULT), 0);
	cpu_us(&u1, &s1);
	t1 = uv_now(&run.loop);
	ASSERT_EQ(run.done_calls, 1);
	ASSERT_EQ(uv_loop_close(&run.loop), 0);
	ASSERT_EQ(run.st.timeouts, 0);
	ASSERT_EQ(run.st.polls, (uint64_t)run.stop_after);
	fprintf(stderr, "reach cost %s: %d polls of %u targets in %" PRIu64 " ms, "
		"%.1f us CPU per poll\n", what,
		run.stop_after, n, t1 - t0, (u1 - u0 + s1 - s0) / run.stop_after);
	free(run.rec);
}

TEST(reach_cost_per_poll)
{
	uint16_t port;
	int lfd;

	struct vgl_reach_opts ping = { .icmp = VGL_REACH_ICMP_PING };

	if (have_icmp())
		cost("icmp (auto)", NULL, VGL_REACH_ICMP, N_SCALE, 5, -1, 0);
	if (private_netns() != 0)
		SKIP("ping and tcp parts: cannot make a network namespace (needs CAP_SYS_ADMIN)");
	ns_sysctl("ping_group_range", "0 2147483647");
	cost("icmp (ping socket)", &ping, VGL_REACH_ICMP, N_SCALE, 5, -1, 0);
	lfd = listen_on("0.0.0.0", 0, 4096, &port);
	cost("tcp", &tcp_only, VGL_REACH_TCP, N_SCALE, 5, lfd, port);
	close(lfd);
}
