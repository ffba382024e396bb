/* The reachability collector's probes: ICMP echo on ping and raw sockets
 * (answers, silence, unreachable routes and messages, forged replies) and
 * TCP connects (open, closed, reopened, a full backlog, overlapping polls). */
#include "test/unit/reach_util.h"

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
