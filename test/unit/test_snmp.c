/* The SNMP collector against a real snmpd: v2c and v3 values, timeouts,
 * value changes, close with polls in flight, overlapping polls and the
 * schedule (test/unit/snmp_util.h has the agent and the harness). */
#include "test/unit/snmp_util.h"

/* ---- tests -------------------------------------------------------------------- */

TEST(snmp_v2c_values_split_over_pdus)
{
	struct agent a;
	struct fixture fx;
	struct run r;
	struct vgl_snmp_stats st;

	agent_start(&a);
	run_init(&r, 100, 10000);
	fx_init(&fx, &a, VGL_SNMP_V2C);
	fx_metric(&fx, "gauge", BASE "1.0");
	fx_metric(&fx, "counter", BASE "2.0");
	fx_metric(&fx, "integer", BASE "3.0");
	fx_metric(&fx, "counter64", BASE "4.0");
	fx_metric(&fx, "uptime", ".1.3.6.1.2.1.1.3.0");
	fx.snmp.max_oids_per_pdu = 2;   /* 3 PDUs: 2 + 2 + 1 */
	r.stop_after = 1;
	ASSERT_EQ(vgl_snmp_add_source(r.s, 7, &fx.hosts[0], 0), 0);
	run_finish(&r);

	ASSERT_EQ(r.results, 1);
	ASSERT_EQ(r.last.host, 7);
	ASSERT_EQ(r.last.quality, VGL_Q_OK);
	ASSERT_EQ(r.last.n_values, 5);
	for (int i = 0; i < 5; i++)
		ASSERT_EQ(r.last_values[i].q, VGL_Q_OK);
	ASSERT(r.last_values[0].v == 42);
	ASSERT(r.last_values[1].v == 1000);
	ASSERT(r.last_values[2].v == 1);
	ASSERT(r.last_values[3].v == 5000000000.0);
	ASSERT(r.last_values[4].v > 0);
	{
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		int64_t now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
		ASSERT_LE(r.last.ts_ms, now);
		ASSERT_GT(r.last.ts_ms, now - 5000);
	}
	(void)st;
	agent_stop(&a);
}

TEST(snmp_v2c_nosuch_and_string)
{
	struct agent a;
	struct fixture fx;
	struct run r;

	agent_start(&a);
	run_init(&r, 100, 10000);
	fx_init(&fx, &a, VGL_SNMP_V2C);
	fx_metric(&fx, "gauge", BASE "1.0");
	fx_metric(&fx, "missing", BASE "77.0");
	fx_metric(&fx, "text", BASE "5.0");
	r.stop_after = 1;
	ASSERT_EQ(vgl_snmp_add_source(r.s, 0, &fx.hosts[0], 0), 0);
	run_finish(&r);

	ASSERT_EQ(r.last.quality, VGL_Q_OK);     /* the agent answered */
	ASSERT_EQ(r.last_values[0].q, VGL_Q_OK);
	ASSERT(r.last_values[0].v == 42);
	ASSERT_EQ(r.last_values[1].q, VGL_Q_ABSENT);
	ASSERT_EQ(r.last_values[2].q, VGL_Q_ERROR);
	ASSERT_CONTAINS(r.last_detail, "OCTET STRING");
	agent_stop(&a);
}

TEST(snmp_v2c_wrong_community_times_out)
{
	struct agent a;
	struct fixture fx;
	struct run r;

	agent_start(&a);
	run_init(&r, 100, 10000);
	fx_init(&fx, &a, VGL_SNMP_V2C);
	fx_metric(&fx, "gauge", BASE "1.0");
	fx.snmp.community = "private";
	fx.src.timeout_ms = 200;
	fx.snmp.retries = 0;
	r.stop_after = 1;
	ASSERT_EQ(vgl_snmp_add_source(r.s, 0, &fx.hosts[0], 0), 0);
	run_finish(&r);
	ASSERT_EQ(r.last.quality, VGL_Q_TIMEOUT);
	ASSERT_EQ(r.last_values[0].q, VGL_Q_TIMEOUT);
	agent_stop(&a);
}

TEST(snmp_v3_authpriv_ok)
{
	struct agent a;
	struct fixture fx;
	struct run r;

	agent_start(&a);
	run_init(&r, 100, 10000);
	fx_init(&fx, &a, VGL_SNMP_V3);
	fx.src.interval_ms = 300;
	fx_metric(&fx, "gauge", BASE "1.0");
	fx_metric(&fx, "counter64", BASE "4.0");
	fx_metric(&fx, "missing", BASE "77.0");
	r.stop_after = 2;       /* the second poll reuses the learnt engineID */
	ASSERT_EQ(vgl_snmp_add_source(r.s, 3, &fx.hosts[0], 0), 0);
	run_finish(&r);
	ASSERT_EQ(r.results, 2);
	ASSERT_EQ(r.last.host, 3);
	ASSERT_EQ(r.last.quality, VGL_Q_OK);
	ASSERT_EQ(r.last_values[0].q, VGL_Q_OK);
	ASSERT(r.last_values[0].v == 42);
	ASSERT_EQ(r.last_values[1].q, VGL_Q_OK);
	ASSERT(r.last_values[1].v == 5000000000.0);
	ASSERT_EQ(r.last_values[2].q, VGL_Q_ABSENT);
	agent_stop(&a);
}

TEST(snmp_v3_wrong_auth_key_is_auth)
{
	struct agent a;
	struct fixture fx;
	struct run r;

	agent_start(&a);
	run_init(&r, 100, 10000);
	fx_init(&fx, &a, VGL_SNMP_V3);
	fx.snmp.auth_key = "not-the-auth-pass";
	fx.src.interval_ms = 300;
	fx_metric(&fx, "gauge", BASE "1.0");
	fx_metric(&fx, "counter", BASE "2.0");
	r.stop_after = 2;
	ASSERT_EQ(vgl_snmp_add_source(r.s, 0, &fx.hosts[0], 0), 0);
	run_finish(&r);
	ASSERT_EQ(r.results, 2);
	ASSERT_EQ(r.last.quality, VGL_Q_AUTH);
	ASSERT_EQ(r.last_values[0].q, VGL_Q_AUTH);
	ASSERT_EQ(r.last_values[1].q, VGL_Q_AUTH);
	ASSERT(r.last.detail != NULL);
	agent_stop(&a);
}

TEST(snmp_agent_stopped_times_out_after_retries)
{
	struct agent a;
	struct fixture fx;
	struct run r;
	struct vgl_snmp_stats st;
	uint64_t took;

	agent_start(&a);
	agent_stop(&a);
	run_init(&r, 100, 10000);
	fx_init(&fx, &a, VGL_SNMP_V2C);
	fx.src.timeout_ms = 200;
	fx.snmp.retries = 2;
	fx.src.interval_ms = 2000;
	fx_metric(&fx, "gauge", BASE "1.0");
	fx_metric(&fx, "counter", BASE "2.0");
	fx_metric(&fx, "integer", BASE "3.0");
	fx.snmp.max_oids_per_pdu = 2;
	r.stop_after = 1;
	ASSERT_EQ(vgl_snmp_add_source(r.s, 0, &fx.hosts[0], 0), 0);
	ASSERT_EQ(uv_run(&r.loop, UV_RUN_DEFAULT), 0);
	ASSERT_EQ(r.results, 1);
	ASSERT_EQ(r.st.timeouts, 1);
	ASSERT_EQ(r.st.polls, 1);
	ASSERT_EQ(r.last.quality, VGL_Q_TIMEOUT);
	for (int i = 0; i < 3; i++)
		ASSERT_EQ(r.last_values[i].q, VGL_Q_TIMEOUT);
	ASSERT_EQ(r.n_started, 1);
	took = r.result_ms[0] - r.started_ms[0];
	/* (retries + 1) x timeout = 600 ms */
	ASSERT_GE(took, 600);
	ASSERT_LE(took, 900);   /* generous: the test machine may be loaded */
	{
		/* The result is stamped when the poll began, not when the
		 * last retry gave up: the host was silent as of then. */
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		int64_t now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
		ASSERT_GE(now - r.last.ts_ms, 600);
	}
	(void)st;
	ASSERT_EQ(r.done_calls, 1);
	ASSERT_EQ(uv_loop_close(&r.loop), 0);
}

static void on_change_result(void *ctx, const struct vgl_poll_result *res);

struct change_ctx {
	struct run r;
	struct agent *a;
};

static void on_change_result(void *ctx, const struct vgl_poll_result *res)
{
	struct change_ctx *c = ctx;

	on_result(&c->r, res);
	if (c->r.results == 1) {
		ASSERT_EQ(res->values[0].q, VGL_Q_OK);
		ASSERT(res->values[0].v == 42);
		agent_set(c->a, "1.0", "gauge 77");
	}
}

TEST(snmp_value_change_seen_next_poll)
{
	struct agent a;
	struct fixture fx;
	struct change_ctx c;

	agent_start(&a);
	memset(&c, 0, sizeof(c));
	c.a = &a;
	ASSERT_EQ(uv_loop_init(&c.r.loop), 0);
	ASSERT_EQ(vgl_snmp_create(&c.r.loop, 10, on_change_result, &c, &c.r.s), 0);
	run_handles(&c.r, 10000);
	fx_init(&fx, &a, VGL_SNMP_V2C);
	fx.src.interval_ms = 400;
	fx_metric(&fx, "gauge", BASE "1.0");
	c.r.stop_after = 2;
	ASSERT_EQ(vgl_snmp_add_source(c.r.s, 0, &fx.hosts[0], 0), 0);
	run_finish(&c.r);
	ASSERT_EQ(c.r.results, 2);
	ASSERT_EQ(c.r.last_values[0].q, VGL_Q_OK);
	ASSERT(c.r.last_values[0].v == 77);
	/* fixed period: the two polls began one interval apart */
	ASSERT_EQ(c.r.n_started, 2);
	ASSERT_GE(c.r.started_ms[1] - c.r.started_ms[0], 390);
	ASSERT_LE(c.r.started_ms[1] - c.r.started_ms[0], 430);
	agent_stop(&a);
}

static void on_close_timer(uv_timer_t *t)
{
	struct run *r = t->data;
	struct vgl_snmp_stats st;

	vgl_snmp_get_stats(r->s, &st);
	/* every host has a poll outstanding */
	ASSERT_EQ(st.in_flight, r->expect_in_flight);
	ASSERT_EQ(st.hosts, r->expect_in_flight);
	ASSERT_EQ(r->results, 0);
	run_close(r);
	uv_close((uv_handle_t *)t, NULL);
}

/* Closes the collector 400 ms in, with r->expect_in_flight polls still
 * outstanding, and checks that none of them reports after the close. */
static void close_while_in_flight(struct run *r)
{
	uv_timer_t closer;

	ASSERT_EQ(uv_timer_init(&r->loop, &closer), 0);
	closer.data = r;
	ASSERT_EQ(uv_timer_start(&closer, on_close_timer, 400, 0), 0);
	run_finish(r);
	ASSERT_EQ(r->results, 0);
}

TEST(snmp_close_with_polls_in_flight)
{
	struct agent a;
	struct fixture fx;
	struct run r;

	agent_start(&a);
	agent_stop(&a);         /* nothing answers: polls stay in flight */
	run_init(&r, 1000, 10000);
	fx_init(&fx, &a, VGL_SNMP_V2C);
	fx.src.interval_ms = 200;
	fx.src.timeout_ms = 3000;
	fx_metric(&fx, "gauge", BASE "1.0");
	fx_metric(&fx, "counter", BASE "2.0");
	fx.snmp.max_oids_per_pdu = 1;
	for (int i = 0; i < 40; i++)
		ASSERT_EQ(vgl_snmp_add_source(r.s, (uint32_t)i, &fx.hosts[i], 0), 0);
	r.expect_in_flight = 40;
	close_while_in_flight(&r);
}

TEST(snmp_v3_close_during_discovery)
{
	struct agent a;
	struct fixture fx;
	struct run r;

	agent_start(&a);
	agent_stop(&a);
	run_init(&r, 1000, 10000);
	fx_init(&fx, &a, VGL_SNMP_V3);
	fx.src.interval_ms = 200;
	fx.src.timeout_ms = 3000;
	fx_metric(&fx, "gauge", BASE "1.0");
	for (int i = 0; i < 5; i++)
		ASSERT_EQ(vgl_snmp_add_source(r.s, (uint32_t)i, &fx.hosts[i], 0), 0);
	/* v3 polls begin with the engineID probe, outstanding at close */
	r.expect_in_flight = 5;
	close_while_in_flight(&r);
}

TEST(snmp_skips_overlapping_polls_and_bounds_in_flight)
{
	struct agent a;
	struct fixture fx;
	struct run r;
	struct vgl_snmp_stats st;

	agent_start(&a);
	agent_stop(&a);
	run_init(&r, 2, 10000);         /* at most 2 polls in flight */
	fx_init(&fx, &a, VGL_SNMP_V2C);
	fx.src.interval_ms = 150;
	fx.src.timeout_ms = 400;       /* each poll outlives the interval */
	fx.snmp.retries = 0;
	fx_metric(&fx, "gauge", BASE "1.0");
	for (int i = 0; i < 5; i++)
		ASSERT_EQ(vgl_snmp_add_source(r.s, (uint32_t)i, &fx.hosts[i], 0), 0);
	r.stop_after = 6;
	ASSERT_EQ(uv_run(&r.loop, UV_RUN_DEFAULT), 0);
	ASSERT_EQ(r.done_calls, 1);
	ASSERT_EQ(r.after_close, 0);
	ASSERT_EQ(r.max_in_flight_seen, 2);
	ASSERT_GT(r.st.skipped, 0);
	ASSERT_EQ(r.st.timeouts, 6);
	ASSERT_EQ(r.st.polls, 6);
	ASSERT_EQ(uv_loop_close(&r.loop), 0);
	(void)st;
}

TEST(snmp_fixed_period_no_drift)
{
	struct agent a;
	struct fixture fx;
	struct run r;

	agent_start(&a);
	run_init(&r, 100, 10000);
	fx_init(&fx, &a, VGL_SNMP_V2C);
	fx.src.interval_ms = 100;
	fx_metric(&fx, "uptime", ".1.3.6.1.2.1.1.3.0");
	r.stop_after = 9;
	r.stall_at = 2;
	ASSERT_EQ(vgl_snmp_add_source(r.s, 0, &fx.hosts[0], 0), 0);
	run_finish(&r);
	ASSERT_GE(r.n_started, 8);
	/* After a 250 ms stall the missed periods are skipped and every later
	 * poll still starts on the grid first + k x 100 ms. A scheduler that
	 * re-armed "interval after now" would be off the grid by ~50 ms from
	 * the stall on. The +-25 ms tolerance absorbs a loaded machine. */
	ASSERT_GE(r.st.skipped, 1);
	/* The poll overdue when the stall ends may start at once, off the
	 * grid; the ones after it may not. */
	int after_stall = 0;
	for (int k = 1; k < r.n_started && k < 64; k++) {
		int64_t off = (int64_t)(r.started_ms[k] - r.started_ms[0]) % 100;
		if (r.started_ms[k] - r.started_ms[0] > 300 && !after_stall++)
			continue;
		if (off > 50)
			off -= 100;
		if (off < -25 || off > 25) {
			fprintf(stderr, "poll %d started %+lld ms off the grid\n", k, (long long)off);
			ASSERT(0);
		}
	}

	agent_stop(&a);
}
TEST(snmp_schedule_even_spread_in_host_order)
{
	struct agent a;
	struct fixture fx;
	struct sched c;

	agent_start(&a);
	sched_init(&c, 1000, 20000);
	fx_init(&fx, &a, VGL_SNMP_V2C);
	/* 1500 ms: slots of 50 ms, 30 of them; 60 hosts, two per slot */
	fx.src.interval_ms = 1500;
	fx_metric(&fx, "gauge", BASE "1.0");
	/* Added out of host_idx order: the spread follows host_idx. */
	for (int k = 0; k < 60; k++) {
		uint32_t idx = (uint32_t)(k * 37 % 60);
		ASSERT_EQ(vgl_snmp_add_source(c.r.s, idx, &fx.hosts[idx], 0), 0);
	}
	c.r.stop_after = 120;   /* two rounds */
	run_finish(&c.r);
	ASSERT_EQ(c.r.st.skipped, 0);
	for (int j = 0; j < 60; j++) {
		int64_t off = c.ts[j][0] - c.ts[0][0];
		ASSERT_GE(c.n[j], 1);
		/* host j in slot j/2: offset (j/2) x 50 ms */
		if (off < (j / 2) * 50 - 20 || off > (j / 2) * 50 + 20) {
			fprintf(stderr, "host %d first polled at +%lld ms, expected +%d\n", j,
				(long long)off, (j / 2) * 50);
			ASSERT(0);
		}
		/* neighbours in the config share a slot, one loop iteration */
		if (j % 2 == 1)
			ASSERT_LE(c.ts[j][0] - c.ts[j - 1][0], 5);
		/* fixed period: the second poll one interval after the first */
		if (c.n[j] >= 2) {
			ASSERT_GE(c.ts[j][1] - c.ts[j][0], 1500 - 20);
			ASSERT_LE(c.ts[j][1] - c.ts[j][0], 1500 + 20);
		}
	}
	agent_stop(&a);
}

TEST(snmp_schedule_stall_keeps_each_host_on_its_grid)
{
	struct agent a;
	struct fixture fx;
	struct sched c;

	agent_start(&a);
	sched_init(&c, 1000, 20000);
	fx_init(&fx, &a, VGL_SNMP_V2C);
	/* 300 ms: hosts at +0, +100, +200 */
	fx.src.interval_ms = 300;
	fx_metric(&fx, "gauge", BASE "1.0");
	for (uint32_t i = 0; i < 3; i++)
		ASSERT_EQ(vgl_snmp_add_source(c.r.s, i, &fx.hosts[i], 0), 0);
	/* A 700 ms stall at host 0's first result: every host misses whole
	 * periods (host 1 two, hosts 2 and 0 one each) and their phases wrap
	 * around, so the schedule must re-sort. One host kept waiting behind
	 * another's later due time would poll off its grid. */
	c.stall_host = 0;
	c.r.stop_after = 18;
	run_finish(&c.r);
	ASSERT_GE(c.r.st.skipped, 3);
	for (int j = 0; j < 3; j++) {
		int late_seen = 0;

		ASSERT_GE(c.n[j], 4);
		/* host j's grid: host 0's first poll + j x 100 ms + k x 300 ms */
		for (int k = j == 0; k < c.n[j]; k++) {
			int64_t off = (c.ts[j][k] - c.ts[0][0] - j * 100) % 300;
			/* the poll overdue when the stall ends starts at once */
			if (c.ts[j][k] >= c.stall_end - 5 && !late_seen++)
				continue;
			if (off > 150)
				off -= 300;
			if (off < -25 || off > 25) {
				fprintf(stderr, "host %d poll %d started %+lld ms off its grid\n", j, k,
					(long long)off);
				ASSERT(0);
			}
		}
	}
	agent_stop(&a);
}
