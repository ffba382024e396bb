/* The reachability collector's life: close with polls in flight, bad
 * targets, the collector interface from a real config, 1,000 targets in
 * one interval, and the CPU a poll costs. */
#include "test/unit/reach_util.h"

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
