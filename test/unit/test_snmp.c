/* SNMP collector against a real private snmpd (test/peers/snmpd), started
 * on a free port per test and killed by PID at exit, on failure too: a
 * guard process waits on a pipe and kills the agent when the test process
 * goes away, however it ends. */
#include "test/test.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <uv.h>

#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>

#include "collectors/snmp.h"

#define BASE ".1.3.6.1.4.1.99999."

/* ---- agent ---------------------------------------------------------------- */

struct agent {
	int port;
	pid_t pid;
	char dir[300];
};

static pid_t agent_pid;

static void agent_kill_atexit(void)
{
	if (agent_pid > 0)
		kill(agent_pid, SIGTERM);
}

static int free_udp_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_DGRAM, 0), port;

	ASSERT(fd >= 0);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ASSERT_EQ(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	ASSERT_EQ(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	port = ntohs(a.sin_port);
	close(fd);
	return port;
}

static void guard_agent(pid_t pid)
{
	int fds[2];
	pid_t g;

	ASSERT_EQ(pipe2(fds, O_CLOEXEC), 0);
	g = fork();
	ASSERT(g >= 0);
	if (g == 0) {
		char c;
		close(fds[1]);
		/* EOF when the test process is gone, whatever killed it. */
		while (read(fds[0], &c, 1) < 0 && errno == EINTR)
			;
		kill(pid, SIGTERM);
		_exit(0);
	}
	close(fds[0]);
	/* fds[1] stays open (close-on-exec) for the life of the test. */
}

static void agent_start(struct agent *a)
{
	char cmd[600];
	FILE *f;
	long pid = 0;

	a->port = free_udp_port();
	snprintf(a->dir, sizeof(a->dir), "%s/snmpd", vgl_test_tmpdir());
	snprintf(cmd, sizeof(cmd), "test/peers/snmpd/start-snmpd.sh %d %s", a->port, a->dir);
	f = popen(cmd, "r");
	ASSERT(f != NULL);
	ASSERT_EQ(fscanf(f, "%ld", &pid), 1);
	ASSERT_EQ(pclose(f), 0);
	ASSERT_GT(pid, 1);
	a->pid = (pid_t)pid;
	agent_pid = a->pid;
	atexit(agent_kill_atexit);
	guard_agent(a->pid);
}

static void agent_stop(struct agent *a)
{
	int i;

	ASSERT_EQ(kill(a->pid, SIGTERM), 0);
	/* Bounded: gone within 3 s. */
	for (i = 0; i < 300 && kill(a->pid, 0) == 0; i++)
		usleep(10000);
	ASSERT_LT(i, 300);
	agent_pid = 0;
}

static void agent_set(struct agent *a, const char *suffix, const char *text)
{
	char tmp[400], path[400];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s/values/%s.tmp", a->dir, suffix);
	snprintf(path, sizeof(path), "%s/values/%s", a->dir, suffix);
	f = fopen(tmp, "w");
	ASSERT(f != NULL);
	ASSERT(fprintf(f, "%s\n", text) > 0);
	ASSERT_EQ(fclose(f), 0);
	ASSERT_EQ(rename(tmp, path), 0);
}

/* ---- config by hand --------------------------------------------------------- */

struct fixture {
	struct vgl_conf_metric metrics[16];
	struct vgl_snmp_metric oids[16];
	uint32_t src_metrics[16];
	struct vgl_snmp_source snmp;
	struct vgl_conf_source src;     /* the profile's one source, "snmp" */
	struct vgl_conf_profile profile;
	struct vgl_conf_host hosts[64];
	char names[64][16];
};

static void fx_init(struct fixture *fx, const struct agent *a, int version)
{
	memset(fx, 0, sizeof(*fx));
	fx->src.name = "snmp";
	fx->src.be = &vgl_snmp_conf_backend;
	fx->src.spec = &fx->snmp;
	fx->src.metrics = fx->src_metrics;
	fx->profile.sources = &fx->src;
	fx->profile.n_sources = 1;
	fx->profile.metrics = fx->metrics;
	fx->snmp.version = version;
	fx->snmp.port = (uint16_t)(a ? a->port : 9);
	fx->src.interval_ms = 1000;
	fx->src.timeout_ms = 500;
	fx->snmp.retries = 1;
	fx->snmp.max_oids_per_pdu = 20;
	fx->snmp.community = "public";
	fx->snmp.user = "vigilv3";
	fx->snmp.auth_protocol = "SHA";
	fx->snmp.auth_key = "vigil-auth-pass";
	fx->snmp.priv_protocol = "AES";
	fx->snmp.priv_key = "vigil-priv-pass";
	for (int i = 0; i < 64; i++) {
		snprintf(fx->names[i], sizeof(fx->names[i]), "web-%02d", i);
		fx->hosts[i].name = fx->names[i];
		fx->hosts[i].address = "127.0.0.1";
		fx->hosts[i].profile = &fx->profile;
	}
}

/* Needs net-snmp initialised: call after vgl_snmp_create. */
static void fx_metric(struct fixture *fx, const char *name, const char *oid_text)
{
	uint32_t i = (uint32_t)fx->profile.n_metrics++;
	struct vgl_conf_metric *m = &fx->metrics[i];
	struct vgl_snmp_metric *o = &fx->oids[i];

	m->name = (char *)name;
	m->text = (char *)oid_text;
	m->spec = o;
	o->oid_len = MAX_OID_LEN;
	ASSERT(read_objid(oid_text, o->oid, &o->oid_len) != 0);
	fx->src_metrics[fx->src.n_metrics++] = i;
}

/* ---- loop harness ------------------------------------------------------------- */

struct run {
	uv_loop_t loop;
	struct vgl_snmp *s;
	uv_timer_t guard;
	uv_prepare_t watch;
	int stop_after;                 /* close after this many results */
	int results;
	int after_close;                /* results delivered after close: must stay 0 */
	int closed, done_calls;
	struct vgl_poll_result last;
	struct vgl_value last_values[16];
	char last_detail[200];
	uint64_t started_ms[64];        /* loop time when a poll began (watch) */
	int n_started;
	uint64_t result_ms[64];
	uint32_t max_in_flight_seen;
	uint32_t expect_in_flight;      /* checked by on_close_timer */
	int stall_at;                   /* block the loop 250 ms after this result (1-based) */
	uv_check_t check;
	uv_timer_t nudge;               /* a bare timer: ends an I/O wait early */
	int check_stall_at;             /* block 250 ms in the check phase (after I/O) once
					 * this many results are in */
	struct vgl_snmp_stats st;       /* as of the last result */
};

static void on_done(void *ctx)
{
	struct run *r = ctx;
	r->done_calls++;
	uv_close((uv_handle_t *)&r->guard, NULL);
	uv_close((uv_handle_t *)&r->watch, NULL);
	uv_close((uv_handle_t *)&r->check, NULL);
	uv_close((uv_handle_t *)&r->nudge, NULL);
}

static void run_close(struct run *r)
{
	if (r->closed)
		return;
	r->closed = 1;
	vgl_snmp_close(r->s, on_done, r);
}

static void on_result(void *ctx, const struct vgl_poll_result *res)
{
	struct run *r = ctx;

	if (r->closed) {
		r->after_close++;
		return;
	}
	if (r->results < 64)
		r->result_ms[r->results] = uv_now(&r->loop);
	r->results++;
	vgl_snmp_get_stats(r->s, &r->st);
	r->last = *res;
	ASSERT_LE(res->n_values, 16);
	memcpy(r->last_values, res->values, res->n_values * sizeof(res->values[0]));
	r->last.values = r->last_values;
	snprintf(r->last_detail, sizeof(r->last_detail), "%s", res->detail ? res->detail : "");
	if (r->stall_at && r->results == r->stall_at)
		usleep(250 * 1000);     /* a stalled loop: later polls must stay on the grid */
	if (r->stop_after && r->results >= r->stop_after)
		run_close(r);   /* from inside the callback, on purpose */
}

static void on_guard(uv_timer_t *t)
{
	struct run *r = t->data;
	fprintf(stderr, "test guard expired after %d results\n", r->results);
	vgl_test_fail();
}

/* Notes when polls start: a prepare handle runs in the same loop iteration
 * as the host timers, and finished + running polls only grow by starts. */
static void on_watch(uv_prepare_t *p)
{
	struct run *r = p->data;
	struct vgl_snmp_stats st;
	uint64_t started;

	if (r->closed)
		return;
	vgl_snmp_get_stats(r->s, &st);
	started = st.polls + st.in_flight;
	while (r->n_started < (int)started && r->n_started < 64)
		r->started_ms[r->n_started++] = uv_now(&r->loop);
	if (st.in_flight > r->max_in_flight_seen)
		r->max_in_flight_seen = st.in_flight;
}

/* A stall where a reload's config load would block: after the I/O phase,
 * so the next iteration runs its timers before it polls the sockets. */
static void on_check(uv_check_t *c)
{
	struct run *r = c->data;

	if (r->check_stall_at && r->results >= r->check_stall_at) {
		r->check_stall_at = 0;
		usleep(250 * 1000);
	}
}

/* The harness's own handles around a collector: the guard timer, the
 * start watcher and the check-phase staller; none keeps the loop alive. */
static void run_handles(struct run *r, uint64_t guard_ms)
{
	ASSERT_EQ(uv_timer_init(&r->loop, &r->guard), 0);
	r->guard.data = r;
	ASSERT_EQ(uv_timer_start(&r->guard, on_guard, guard_ms, 0), 0);
	uv_unref((uv_handle_t *)&r->guard);
	ASSERT_EQ(uv_prepare_init(&r->loop, &r->watch), 0);
	r->watch.data = r;
	ASSERT_EQ(uv_prepare_start(&r->watch, on_watch), 0);
	uv_unref((uv_handle_t *)&r->watch);
	ASSERT_EQ(uv_check_init(&r->loop, &r->check), 0);
	r->check.data = r;
	ASSERT_EQ(uv_check_start(&r->check, on_check), 0);
	uv_unref((uv_handle_t *)&r->check);
	ASSERT_EQ(uv_timer_init(&r->loop, &r->nudge), 0);
	uv_unref((uv_handle_t *)&r->nudge);
}

static void on_nudge(uv_timer_t *t)
{
	(void)t;
}

static void run_init(struct run *r, uint32_t max_in_flight, uint64_t guard_ms)
{
	memset(r, 0, sizeof(*r));
	ASSERT_EQ(uv_loop_init(&r->loop), 0);
	ASSERT_EQ(vgl_snmp_create(&r->loop, max_in_flight, on_result, r, &r->s), 0);
	run_handles(r, guard_ms);
}

/* Runs until the collector closed and every handle is gone. */
static void run_finish(struct run *r)
{
	ASSERT_EQ(uv_run(&r->loop, UV_RUN_DEFAULT), 0);
	ASSERT_EQ(r->done_calls, 1);
	ASSERT_EQ(r->after_close, 0);
	ASSERT_EQ(uv_loop_close(&r->loop), 0);
}

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

/* ---- schedule: per-host poll start times (results carry ts_ms) ------------- */

struct sched {
	struct run r;
	int64_t ts[64][8];              /* wall-clock start of each host's polls */
	int n[64];
	int64_t stall_end;              /* wall time the stall ended, or 0 */
	int stall_host;                 /* stall 700 ms at this host's first result */
};

static int64_t now_wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void on_sched_result(void *ctx, const struct vgl_poll_result *res)
{
	struct sched *c = ctx;

	if (!c->r.closed && res->host < 64 && c->n[res->host] < 8)
		c->ts[res->host][c->n[res->host]++] = res->ts_ms;
	if (!c->r.closed && c->stall_host >= 0 && (int)res->host == c->stall_host &&
	    !c->stall_end) {
		usleep(700 * 1000);
		c->stall_end = now_wall_ms();
	}
	on_result(&c->r, res);
}

static void sched_init(struct sched *c, uint32_t max_in_flight, uint64_t guard_ms)
{
	memset(c, 0, sizeof(*c));
	c->stall_host = -1;
	ASSERT_EQ(uv_loop_init(&c->r.loop), 0);
	ASSERT_EQ(vgl_snmp_create(&c->r.loop, max_in_flight, on_sched_result, c, &c->r.s), 0);
	run_handles(&c->r, guard_ms);
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

/* ---- receive path: a relay between the collector and the agent --------------- */

/* Forwards requests to the agent at once and holds the answers until
 * `hold` of them are in, then sends them to the collector in one burst,
 * each after a malformed datagram if `garbage` is set. Runs on the test's
 * loop. */
struct relay {
	int fd, up, port;
	struct sockaddr_in agent, client;
	int hold, garbage;
	char held[64][1500];
	size_t held_len[64];
	int n_held;
	uv_poll_t pfd, pup;
};

static void relay_on_fd(uv_poll_t *p, int status, int events)
{
	struct relay *rl = p->data;
	char buf[1500];
	socklen_t len = sizeof(rl->client);
	ssize_t n;

	(void)status; (void)events;
	while ((n = recvfrom(rl->fd, buf, sizeof(buf), MSG_DONTWAIT,
			     (struct sockaddr *)&rl->client, &len)) > 0) {
		ASSERT_EQ(sendto(rl->up, buf, (size_t)n, 0, (struct sockaddr *)&rl->agent,
				 sizeof(rl->agent)), n);
		len = sizeof(rl->client);
	}
}

static void relay_on_up(uv_poll_t *p, int status, int events)
{
	/* SEQUENCE of 16 bytes, of which 4 follow: not a message */
	static const char junk[] = { 0x30, 0x10, 0x02, 0x01, 0x01, 0x04 };
	struct relay *rl = p->data;
	ssize_t n;

	(void)status; (void)events;
	while (rl->n_held < 64 &&
	       (n = recv(rl->up, rl->held[rl->n_held], sizeof(rl->held[0]), MSG_DONTWAIT)) > 0) {
		rl->held_len[rl->n_held++] = (size_t)n;
		if (rl->n_held < rl->hold)
			continue;
		for (int i = 0; i < rl->n_held; i++) {
			if (rl->garbage)
				ASSERT_EQ(sendto(rl->fd, junk, sizeof(junk), 0,
						 (struct sockaddr *)&rl->client, sizeof(rl->client)),
					  (ssize_t)sizeof(junk));
			ASSERT_EQ(sendto(rl->fd, rl->held[i], rl->held_len[i], 0,
					 (struct sockaddr *)&rl->client, sizeof(rl->client)),
				  (ssize_t)rl->held_len[i]);
		}
		rl->n_held = 0;
	}
}

static void relay_start(struct relay *rl, uv_loop_t *loop, int agent_port, int hold, int garbage)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);

	memset(rl, 0, sizeof(*rl));
	rl->hold = hold;
	rl->garbage = garbage;
	rl->agent.sin_family = AF_INET;
	rl->agent.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	rl->agent.sin_port = htons((uint16_t)agent_port);
	rl->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	rl->up = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	ASSERT(rl->fd >= 0 && rl->up >= 0);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ASSERT_EQ(bind(rl->fd, (struct sockaddr *)&a, sizeof(a)), 0);
	ASSERT_EQ(getsockname(rl->fd, (struct sockaddr *)&a, &len), 0);
	rl->port = ntohs(a.sin_port);
	ASSERT_EQ(uv_poll_init(loop, &rl->pfd, rl->fd), 0);
	ASSERT_EQ(uv_poll_init(loop, &rl->pup, rl->up), 0);
	rl->pfd.data = rl->pup.data = rl;
	ASSERT_EQ(uv_poll_start(&rl->pfd, UV_READABLE, relay_on_fd), 0);
	ASSERT_EQ(uv_poll_start(&rl->pup, UV_READABLE, relay_on_up), 0);
	/* the collector's close ends the run; the relay does not hold it */
	uv_unref((uv_handle_t *)&rl->pfd);
	uv_unref((uv_handle_t *)&rl->pup);
}

static void relay_finish(struct relay *rl, struct run *r)
{
	ASSERT_EQ(uv_run(&r->loop, UV_RUN_DEFAULT), 0);
	ASSERT_EQ(r->done_calls, 1);
	ASSERT_EQ(r->after_close, 0);
	uv_close((uv_handle_t *)&rl->pfd, NULL);
	uv_close((uv_handle_t *)&rl->pup, NULL);
	ASSERT_EQ(uv_run(&r->loop, UV_RUN_DEFAULT), 0);
	close(rl->fd);
	close(rl->up);
	ASSERT_EQ(uv_loop_close(&r->loop), 0);
}

TEST(snmp_recv_many_datagrams_in_one_read)
{
	struct agent a;
	struct fixture fx;
	struct sched c;
	struct relay rl;

	agent_start(&a);
	sched_init(&c, 1000, 20000);
	relay_start(&rl, &c.r.loop, a.port, 40, 0);
	fx_init(&fx, &a, VGL_SNMP_V2C);
	fx.snmp.port = (uint16_t)rl.port;
	fx.src.interval_ms = 2000;
	fx.src.timeout_ms = 4000;      /* answers are held up to ~2 s */
	fx.snmp.retries = 0;
	fx_metric(&fx, "gauge", BASE "1.0");
	fx_metric(&fx, "counter64", BASE "4.0");
	for (uint32_t i = 0; i < 40; i++)
		ASSERT_EQ(vgl_snmp_add_source(c.r.s, i, &fx.hosts[i], 0), 0);
	c.r.stop_after = 40;
	relay_finish(&rl, &c.r);
	ASSERT_EQ(c.r.results, 40);
	ASSERT_EQ(c.r.st.timeouts, 0);
	for (int j = 0; j < 40; j++) {
		ASSERT_EQ(c.n[j], 1);           /* each host exactly once */
		/* the burst of 40 (more than one recvmmsg) in one callback */
		ASSERT_EQ(c.r.result_ms[j], c.r.result_ms[0]);
	}
	ASSERT_EQ(c.r.last.quality, VGL_Q_OK);
	ASSERT(c.r.last_values[0].v == 42);
	ASSERT(c.r.last_values[1].v == 5000000000.0);
	agent_stop(&a);
}

TEST(snmp_recv_malformed_datagram_logged_against_host)
{
	struct agent a;
	struct fixture fx;
	struct sched c;
	struct relay rl;
	char path[400], log[4096];
	int saved, fd;
	ssize_t n;

	agent_start(&a);
	snprintf(path, sizeof(path), "%s/stderr.log", vgl_test_tmpdir());
	fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0600);
	ASSERT(fd >= 0);
	fflush(stderr);
	saved = dup(2);
	ASSERT(saved >= 0);
	ASSERT_EQ(dup2(fd, 2), 2);
	close(fd);

	sched_init(&c, 1000, 20000);
	relay_start(&rl, &c.r.loop, a.port, 1, 1);
	fx_init(&fx, &a, VGL_SNMP_V2C);
	fx.snmp.port = (uint16_t)rl.port;
	fx.src.interval_ms = 300;
	fx.src.timeout_ms = 1000;
	fx_metric(&fx, "gauge", BASE "1.0");
	ASSERT_EQ(vgl_snmp_add_source(c.r.s, 0, &fx.hosts[5], 0), 0);
	c.r.stop_after = 2;
	relay_finish(&rl, &c.r);

	fflush(stderr);
	ASSERT_EQ(dup2(saved, 2), 2);
	close(saved);
	fd = open(path, O_RDONLY);
	ASSERT(fd >= 0);
	n = read(fd, log, sizeof(log) - 1);
	close(fd);
	ASSERT_GT(n, 0);
	log[n] = '\0';
	/* the junk before each answer: logged once at warning, against the
	 * host it came from; the answers behind it still count */
	ASSERT_CONTAINS(log, "<4>host web-05 snmp 127.0.0.1:");
	ASSERT_CONTAINS(log, "undecodable answer (6 bytes)");
	ASSERT(strstr(strstr(log, "undecodable") + 1, "undecodable") == NULL);
	ASSERT_EQ(c.r.results, 2);
	ASSERT_EQ(c.r.last.quality, VGL_Q_OK);
	ASSERT(c.r.last_values[0].v == 42);
	agent_stop(&a);
}

/* ---- a deliberately odd agent (test/peers/snmpd/fake-agent.py) ------------- */

/* log: a file the agent appends "REQUEST-ID ADDR PORT" to per request,
 * or NULL. */
static pid_t fake_start_log(const char *mode, const char *log, int *port)
{
	int fds[2];
	pid_t pid;
	FILE *f;

	ASSERT_EQ(pipe(fds), 0);
	pid = fork();
	ASSERT(pid >= 0);
	if (pid == 0) {
		dup2(fds[1], 1);
		close(fds[0]);
		close(fds[1]);
		execlp("python3", "python3", "test/peers/snmpd/fake-agent.py", mode, log,
		       (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	agent_pid = pid;
	atexit(agent_kill_atexit);
	guard_agent(pid);
	f = fdopen(fds[0], "r");
	ASSERT(f != NULL);
	ASSERT_EQ(fscanf(f, "%d", port), 1);
	fclose(f);
	return pid;
}

static pid_t fake_start(const char *mode, int *port)
{
	return fake_start_log(mode, NULL, port);
}

static void fake_stop(pid_t pid)
{
	ASSERT_EQ(kill(pid, SIGTERM), 0);
	ASSERT_EQ(waitpid(pid, NULL, 0), pid);
	agent_pid = 0;
}

/* How fake_run_with polls the fake agent. */
struct fake_opts {
	uint32_t max_oids, retries;
	int stop_after;
	enum vgl_snmp_engine engine;
	const char *source;             /* snmp.source_address, or NULL */
	const char *log;                /* the agent's request log, or NULL */
	int hosts;                      /* hosts polling it, on one channel; 0 = 1 */
};

/* o->hosts hosts against the fake agent in mode: 5 metrics, timeout
 * 300 ms, interval 1 s; the run ends at the stop_after-th result. */
static void fake_run_with(const char *mode, const struct fake_opts *o, struct run *r)
{
	struct agent a = { 0 };
	struct fixture fx;
	pid_t pid = fake_start_log(mode, o->log, &a.port);
	int hosts = o->hosts ? o->hosts : 1;

	run_init(r, 100, 10000);
	fx_init(&fx, &a, VGL_SNMP_V2C);
	fx.src.timeout_ms = 300;
	fx.snmp.retries = o->retries;
	fx.snmp.max_oids_per_pdu = o->max_oids;
	fx.snmp.engine = o->engine;
	fx.snmp.source_address = (char *)o->source;
	fx_metric(&fx, "a", BASE "11");
	fx_metric(&fx, "b", BASE "12");
	fx_metric(&fx, "c", BASE "13");
	fx_metric(&fx, "d", BASE "14");
	fx_metric(&fx, "e", BASE "15");
	r->stop_after = o->stop_after;
	for (int i = 0; i < hosts; i++)
		ASSERT_EQ(vgl_snmp_add_source(r->s, (uint32_t)i, &fx.hosts[i], 0), 0);
	run_finish(r);
	fake_stop(pid);
	ASSERT_EQ(r->results, o->stop_after);
	ASSERT_EQ(r->after_close, 0);
}

static void fake_run(const char *mode, uint32_t max_oids, uint32_t retries, int stop_after,
		     struct run *r)
{
	struct fake_opts o = { .max_oids = max_oids, .retries = retries,
			       .stop_after = stop_after };

	fake_run_with(mode, &o, r);
}

static void fake_poll(const char *mode, uint32_t max_oids, struct run *r)
{
	fake_run(mode, max_oids, 0, 1, r);
}

static void assert_fake_values(const struct run *r)
{
	ASSERT_EQ(r->last.quality, VGL_Q_OK);
	for (int i = 0; i < 5; i++) {
		ASSERT_EQ(r->last_values[i].q, VGL_Q_OK);
		ASSERT(r->last_values[i].v == 11 + i);
	}
}

TEST(snmp_toobig_splits_the_pdu)
{
	struct run r;

	/* 5 OIDs in one PDU; the agent takes at most 2: 5 -> 2+3 -> 2+1+2 */
	fake_poll("toobig:2", 20, &r);
	ASSERT_EQ(r.last.quality, VGL_Q_OK);
	for (int i = 0; i < 5; i++) {
		ASSERT_EQ(r.last_values[i].q, VGL_Q_OK);
		ASSERT(r.last_values[i].v == 11 + i);
	}
}

TEST(snmp_toobig_single_oid_is_error)
{
	struct run r;

	fake_poll("toobig:0", 20, &r);
	ASSERT_EQ(r.last.quality, VGL_Q_OK);    /* it did answer */
	for (int i = 0; i < 5; i++)
		ASSERT_EQ(r.last_values[i].q, VGL_Q_ERROR);
}

/* An answer that does not name the request's OIDs, in order and number,
 * is not the request's answer: none of its values is taken, and it does
 * not count as the host answering (a failed poll, with the reason). Both
 * engines; each mode with one PDU of 5 OIDs and with PDUs of 3 + 2. */
TEST(snmp_answers_naming_other_oids_are_not_taken)
{
	static const struct {
		const char *mode, *detail;
	} cases[] = {
		{ "wrongoid", "OID mismatch in answer: varbind 0 is 1.3.6.1.4.1.99999.12" },
		{ "reorder", "OID mismatch in answer: varbind 0 is 1.3.6.1.4.1.99999.12" },
		{ "short", "varbind count mismatch in answer: " },
		{ "extra", "varbind count mismatch in answer: more than" },
	};
	static const enum vgl_snmp_engine engines[] = { VGL_SNMP_ENGINE_DEFAULT,
							VGL_SNMP_ENGINE_NETSNMP };
	struct run r;

	for (size_t e = 0; e < 2; e++) {
		for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
			for (uint32_t max_oids = 3; max_oids <= 20; max_oids += 17) {
				struct fake_opts o = { .max_oids = max_oids, .stop_after = 1,
						       .engine = engines[e] };

				fake_run_with(cases[k].mode, &o, &r);
				if (r.last.quality != VGL_Q_ERROR)
					fprintf(stderr, "mode %s, engine %d, %u OIDs a PDU\n",
						cases[k].mode, (int)engines[e], max_oids);
				ASSERT_EQ(r.last.quality, VGL_Q_ERROR);
				for (int i = 0; i < 5; i++)
					ASSERT_EQ(r.last_values[i].q, VGL_Q_ERROR);
				ASSERT_CONTAINS(r.last_detail, cases[k].detail);
			}
		}
	}
	/* the check is on names only: the same agent answering rightly */
	struct fake_opts o = { .max_oids = 3, .stop_after = 1,
			       .engine = VGL_SNMP_ENGINE_NETSNMP };
	fake_run_with("ok", &o, &r);
	assert_fake_values(&r);
}

/* An answer with another community than the request's (same id, from the
 * agent's own address and port) is not the answer: dropped, counted, and
 * the request keeps waiting. Both engines. */
TEST(snmp_v2c_wrong_community_answer_is_not_taken)
{
	static const enum vgl_snmp_engine engines[] = { VGL_SNMP_ENGINE_DEFAULT,
							VGL_SNMP_ENGINE_NETSNMP };
	struct run r;

	for (size_t e = 0; e < 2; e++) {
		struct fake_opts o = { .max_oids = 20, .stop_after = 1, .engine = engines[e] };

		/* only wrong-community answers (values + 1000): the poll
		 * times out, the host is not seen answering */
		fake_run_with("badcomm", &o, &r);
		ASSERT_EQ(r.last.quality, VGL_Q_TIMEOUT);
		for (int i = 0; i < 5; i++)
			ASSERT_EQ(r.last_values[i].q, VGL_Q_TIMEOUT);
		ASSERT_EQ(r.st.rejected, 1);
		/* a wrong one first, then the agent's: the agent's counts */
		fake_run_with("badcommfirst", &o, &r);
		assert_fake_values(&r);
		ASSERT_EQ(r.st.rejected, 1);
	}
}

/* ---- the v2c engine's own request tracking -------------------------------- */

/* engine "net-snmp": v2c through net-snmp's session API, the fallback */
TEST(snmp_v2c_through_net_snmp_engine)
{
	struct agent a;
	struct fixture fx;
	struct run r;

	agent_start(&a);
	run_init(&r, 100, 10000);
	fx_init(&fx, &a, VGL_SNMP_V2C);
	fx.snmp.engine = VGL_SNMP_ENGINE_NETSNMP;
	fx_metric(&fx, "gauge", BASE "1.0");
	fx_metric(&fx, "counter64", BASE "4.0");
	fx_metric(&fx, "missing", BASE "77.0");
	fx_metric(&fx, "uptime", ".1.3.6.1.2.1.1.3.0");
	fx.snmp.max_oids_per_pdu = 2;
	r.stop_after = 2;
	ASSERT_EQ(vgl_snmp_add_source(r.s, 0, &fx.hosts[0], 0), 0);
	run_finish(&r);
	ASSERT_EQ(r.last.quality, VGL_Q_OK);
	ASSERT(r.last_values[0].v == 42);
	ASSERT(r.last_values[1].v == 5000000000.0);
	ASSERT_EQ(r.last_values[2].q, VGL_Q_ABSENT);
	ASSERT_EQ(r.last_values[3].q, VGL_Q_OK);
	agent_stop(&a);
	/* and its timeouts: the same agent stopped */
	agent_start(&a);
	agent_stop(&a);
	run_init(&r, 100, 10000);
	fx_init(&fx, &a, VGL_SNMP_V2C);
	fx.snmp.engine = VGL_SNMP_ENGINE_NETSNMP;
	fx.src.timeout_ms = 200;
	fx_metric(&fx, "gauge", BASE "1.0");
	r.stop_after = 1;
	ASSERT_EQ(vgl_snmp_add_source(r.s, 0, &fx.hosts[0], 0), 0);
	run_finish(&r);
	ASSERT_EQ(r.last.quality, VGL_Q_TIMEOUT);
	ASSERT_CONTAINS(r.last_detail, "no answer after 2 x 200 ms");
}

TEST(snmp_v2c_retransmits_with_the_same_request_id)
{
	struct run r;

	/* the agent ignores each request-id's first datagram: the retry,
	 * which must carry the same id, is answered */
	fake_run("dropfirst", 3, 1, 1, &r);
	assert_fake_values(&r);
	ASSERT_EQ(r.st.timeouts, 0);
	/* without a retry the same agent never answers */
	fake_run("dropfirst", 3, 0, 1, &r);
	ASSERT_EQ(r.last.quality, VGL_Q_TIMEOUT);
	ASSERT_CONTAINS(r.last_detail, "no answer after 1 x 300 ms");
}

TEST(snmp_v2c_duplicate_and_late_answers_are_ignored)
{
	struct run r;

	/* every answer twice: one result per poll, values intact */
	fake_run("dup", 2, 0, 3, &r);
	assert_fake_values(&r);
	ASSERT_EQ(r.st.polls, 3);
	/* answers 500 ms after a 300 ms timeout: each poll times out, and
	 * the late answer (to an id no longer in flight) changes nothing */
	fake_run("late:500", 20, 0, 2, &r);
	ASSERT_EQ(r.last.quality, VGL_Q_TIMEOUT);
	ASSERT_EQ(r.st.timeouts, 2);
	ASSERT_EQ(r.st.polls, 2);
}

TEST(snmp_v2c_answer_from_another_port_is_ignored)
{
	struct run r;

	/* a wrong answer (same id, other values) comes first from another
	 * port of the agent's address; only the agent's own counts */
	fake_run("elsewhere", 20, 0, 1, &r);
	assert_fake_values(&r);
	ASSERT_EQ(r.st.rejected, 1);
}

/* The fake agent's request log: up to cap (request-id, sender address)
 * pairs in arrival order. Returns how many. */
static int read_agent_log(const char *path, long *ids, char (*addrs)[64], int cap)
{
	FILE *f = fopen(path, "r");
	int n = 0, port;
	long id;
	char addr[64];

	ASSERT(f != NULL);
	while (n < cap && fscanf(f, "%ld %63s %d", &id, addr, &port) == 3) {
		ids[n] = id;
		snprintf(addrs[n], sizeof(addrs[n]), "%s", addr);
		n++;
	}
	fclose(f);
	return n;
}

/* Request-ids of consecutive requests on one socket are unrelated: 4
 * hosts x 5 one-OID requests a poll on one channel, two polls each. Ids
 * that ran on (the old engine's, and net-snmp's own) differ by 1; random
 * 31-bit ids come within 1024 of the previous one with odds of 1 in a
 * million. Two runs share no id. Both engines. */
TEST(snmp_request_ids_are_not_sequential)
{
	static const enum vgl_snmp_engine engines[] = { VGL_SNMP_ENGINE_DEFAULT,
							VGL_SNMP_ENGINE_NETSNMP };
	static long ids[2][256];
	static char addrs[256][64];
	int n[2];
	char log[2][400];
	struct run r;

	for (size_t e = 0; e < 2; e++) {
		for (int run = 0; run < 2; run++) {
			struct fake_opts o = { .max_oids = 1, .stop_after = 8, .hosts = 4,
					       .engine = engines[e] };

			snprintf(log[run], sizeof(log[run]), "%s/ids-%zu-%d.log",
				 vgl_test_tmpdir(), e, run);
			o.log = log[run];
			fake_run_with("ok", &o, &r);
			assert_fake_values(&r);
			n[run] = read_agent_log(log[run], ids[run], addrs, 256);
			ASSERT_GE(n[run], 40);          /* 8 polls x 5 requests */
			for (int i = 0; i < n[run]; i++) {
				ASSERT_GE(ids[run][i], 1);
				ASSERT_LE(ids[run][i], 0x7fffffffL);
				if (i == 0)
					continue;
				long d = ids[run][i] - ids[run][i - 1];
				if (d > -1024 && d < 1024) {
					fprintf(stderr, "engine %d: ids %ld then %ld\n",
						(int)engines[e], ids[run][i - 1], ids[run][i]);
					ASSERT(0);
				}
			}
		}
		for (int i = 0; i < n[0]; i++)
			for (int j = 0; j < n[1]; j++)
				ASSERT_NE(ids[0][i], ids[1][j]);
	}
}

/* source_address: the channel's socket is bound to it, so the agent sees
 * the requests come from there (127.0.0.2 is a loopback address on Linux
 * like 127.0.0.1, and unlike it not what the kernel picks by itself);
 * 127.0.0.1 works too; an address that is not this machine's fails the
 * host at once, naming the address. Both engines. */
TEST(snmp_source_address_binds_both_engines)
{
	static const enum vgl_snmp_engine engines[] = { VGL_SNMP_ENGINE_DEFAULT,
							VGL_SNMP_ENGINE_NETSNMP };
	static const char *const sources[] = { "127.0.0.2", "127.0.0.1", NULL };
	static long ids[64];
	static char addrs[64][64];
	struct run r;

	for (size_t e = 0; e < 2; e++) {
		for (size_t k = 0; k < 3; k++) {
			struct fake_opts o = { .max_oids = 20, .stop_after = 2, .hosts = 2,
					       .engine = engines[e], .source = sources[k] };
			char log[400];
			int n;

			snprintf(log, sizeof(log), "%s/src-%zu-%zu.log", vgl_test_tmpdir(), e, k);
			o.log = log;
			fake_run_with("ok", &o, &r);
			assert_fake_values(&r);
			n = read_agent_log(log, ids, addrs, 64);
			ASSERT_GE(n, 2);
			for (int i = 0; i < n; i++)
				ASSERT_STREQ(addrs[i], sources[k] ? sources[k] : "127.0.0.1");
		}
		/* TEST-NET-1: no machine's own address */
		{
			struct fixture fx;
			struct agent a = { .port = 9 };

			run_init(&r, 100, 10000);
			fx_init(&fx, &a, VGL_SNMP_V2C);
			fx.snmp.engine = engines[e];
			fx.snmp.source_address = "192.0.2.1";
			fx_metric(&fx, "a", BASE "11");
			ASSERT_LT(vgl_snmp_add_source(r.s, 0, &fx.hosts[0], 0), 0);
			/* nor an IPv6 host from an IPv4 source */
			fx.hosts[1].address = "::1";
			fx.snmp.source_address = "127.0.0.1";
			ASSERT_EQ(vgl_snmp_add_source(r.s, 1, &fx.hosts[1], 0), -EINVAL);
			run_close(&r);
			run_finish(&r);
		}
	}
}

/* How many of this process's UDP sockets are bound to IPv4 address ip:
 * /proc/net/udp's local addresses of the socket inodes in /proc/self/fd. */
static int udp_sockets_bound_to(const char *ip)
{
	unsigned long inodes[256];
	int n_inodes = 0, found = 0;
	struct in_addr want;
	char line[512], path[300], link[64];
	struct dirent *de;
	DIR *d = opendir("/proc/self/fd");
	FILE *f;

	ASSERT_EQ(inet_pton(AF_INET, ip, &want), 1);
	ASSERT(d != NULL);
	while ((de = readdir(d)) && n_inodes < 256) {
		ssize_t k;
		snprintf(path, sizeof(path), "/proc/self/fd/%s", de->d_name);
		k = readlink(path, link, sizeof(link) - 1);
		if (k <= 0)
			continue;
		link[k] = '\0';
		if (sscanf(link, "socket:[%lu]", &inodes[n_inodes]) == 1)
			n_inodes++;
	}
	closedir(d);
	f = fopen("/proc/net/udp", "r");
	ASSERT(f != NULL);
	while (fgets(line, sizeof(line), f)) {
		unsigned addr, port;
		unsigned long inode;
		/* sl: local rem st tx:rx tr:when retrnsmt uid timeout inode */
		if (sscanf(line, " %*d: %x:%x %*x:%*x %*x %*x:%*x %*x:%*x %*x %*u %*u %lu", &addr,
			   &port, &inode) != 3)
			continue;
		/* the kernel prints the address as the u32 it holds, in
		 * network order: compare as such */
		for (int i = 0; i < n_inodes; i++)
			found += inode == inodes[i] && addr == want.s_addr;
	}
	fclose(f);
	return found;
}

/* v3 (net-snmp's session) from a source_address, against snmpd: the
 * session's socket is bound there, and authPriv polls still work. */
TEST(snmp_v3_from_source_address)
{
	struct agent a;
	struct fixture fx;
	struct run r;

	agent_start(&a);
	run_init(&r, 100, 10000);
	fx_init(&fx, &a, VGL_SNMP_V3);
	fx.src.interval_ms = 300;
	fx.snmp.source_address = "127.0.0.2";
	fx_metric(&fx, "gauge", BASE "1.0");
	r.stop_after = 2;
	ASSERT_EQ(udp_sockets_bound_to("127.0.0.2"), 0);
	ASSERT_EQ(vgl_snmp_add_source(r.s, 0, &fx.hosts[0], 0), 0);
	/* a literal address gets its channel at once */
	ASSERT_EQ(udp_sockets_bound_to("127.0.0.2"), 1);
	run_finish(&r);
	ASSERT_EQ(r.last.quality, VGL_Q_OK);
	ASSERT(r.last_values[0].v == 42);
	agent_stop(&a);
}

TEST(snmp_v2c_answer_in_another_version_is_error)
{
	struct run r;

	fake_run("v1", 20, 0, 1, &r);
	for (int i = 0; i < 5; i++)
		ASSERT_EQ(r.last_values[i].q, VGL_Q_ERROR);
	ASSERT_CONTAINS(r.last_detail, "unexpected answer");
}

/* native snmpd objects (system, IF-MIB): no pass_persist script in the way */
static const char *const native_oids[] = {
	".1.3.6.1.2.1.2.2.1.16.1",      /* ifOutOctets.1 */
	".1.3.6.1.2.1.2.1.0",           /* ifNumber */
	".1.3.6.1.2.1.2.2.1.1.1",       /* ifIndex.1 */
	".1.3.6.1.2.1.2.2.1.3.1",       /* ifType.1 */
	".1.3.6.1.2.1.2.2.1.4.1",       /* ifMtu.1 */
	".1.3.6.1.2.1.2.2.1.7.1",       /* ifAdminStatus.1 */
	".1.3.6.1.2.1.2.2.1.8.1",       /* ifOperStatus.1 */
	".1.3.6.1.2.1.2.2.1.5.1",       /* ifSpeed.1 */
	".1.3.6.1.2.1.2.2.1.10.1",      /* ifInOctets.1 */
	".1.3.6.1.2.1.1.3.0",           /* sysUpTime */
};

/* 64 hosts x 10 one-OID requests leave at once on one channel: 640 ids in
 * flight grow the request-id ring (1024 slots, kept half empty) while the
 * answers come in, and the sends span ten sendmmsg() batches. The agent's
 * socket may drop part of such a burst; retries recover it. */
TEST(snmp_v2c_many_requests_in_flight_on_one_channel)
{
	struct agent a;
	struct fixture fx;
	struct sched c;

	agent_start(&a);
	sched_init(&c, 1000, 20000);
	fx_init(&fx, &a, VGL_SNMP_V2C);
	fx.src.interval_ms = 5000;
	fx.src.timeout_ms = 400;
	fx.snmp.retries = 4;
	fx.snmp.max_oids_per_pdu = 1;
	for (size_t i = 0; i < sizeof(native_oids) / sizeof(native_oids[0]); i++)
		fx_metric(&fx, native_oids[i] + 1, native_oids[i]);
	for (uint32_t i = 0; i < 64; i++)
		ASSERT_EQ(vgl_snmp_add_source(c.r.s, i, &fx.hosts[i], 0), 0);
	c.r.stop_after = 64;
	run_finish(&c.r);
	ASSERT_EQ(c.r.results, 64);
	ASSERT_EQ(c.r.st.timeouts, 0);
	for (int j = 0; j < 64; j++)
		ASSERT_EQ(c.n[j], 1);
	ASSERT_EQ(c.r.last.quality, VGL_Q_OK);
	for (int i = 0; i < 10; i++)
		ASSERT_EQ(c.r.last_values[i].q, VGL_Q_OK);
	ASSERT(c.r.last_values[1].v >= 1);      /* ifNumber */
	ASSERT(c.r.last_values[2].v == 1);      /* ifIndex.1 */
	agent_stop(&a);
}

/* The same burst against no agent: 64 x 16 requests (two ring growths) all
 * time out, each poll once, through the deadline FIFO. */
TEST(snmp_v2c_many_requests_time_out_in_order)
{
	struct agent a;
	struct fixture fx;
	struct run r;

	agent_start(&a);
	agent_stop(&a);
	run_init(&r, 1000, 10000);
	fx_init(&fx, &a, VGL_SNMP_V2C);
	fx.src.interval_ms = 5000;
	fx.src.timeout_ms = 200;
	fx.snmp.retries = 1;
	fx.snmp.max_oids_per_pdu = 1;
	for (int i = 0; i < 16; i++)
		fx_metric(&fx, native_oids[i % 10] + 1, native_oids[i % 10]);
	for (uint32_t i = 0; i < 64; i++)
		ASSERT_EQ(vgl_snmp_add_source(r.s, i, &fx.hosts[i], 0), 0);
	r.stop_after = 64;
	run_finish(&r);
	ASSERT_EQ(r.results, 64);
	ASSERT_EQ(r.st.timeouts, 64);
	ASSERT_EQ(r.last.quality, VGL_Q_TIMEOUT);
	for (int i = 0; i < 16; i++)
		ASSERT_EQ(r.last_values[i].q, VGL_Q_TIMEOUT);
	ASSERT_CONTAINS(r.last_detail, "no answer after 2 x 200 ms");
}

/* The loop blocks 250 ms after an I/O phase (as a reload's config load
 * does, in a signal callback) while another host's answer, sent 100 ms
 * late by its agent, arrives and sits in the shared socket past its 150 ms
 * deadline. The next iteration runs the channel timer before it polls the
 * socket: the timer must read the socket before timing anything out, so
 * the answer counts. Two interval groups, so both hosts are polled at
 * once; a bare 40 ms timer ends the I/O wait before the late answer, so
 * the block starts before the loop has seen it. */
TEST(snmp_v2c_stalled_loop_reads_before_timing_out)
{
	struct agent a, b = { 0 };
	struct fixture fa, fb;
	struct run r;
	pid_t pid;

	agent_start(&a);
	pid = fake_start("late:100", &b.port);
	run_init(&r, 100, 10000);
	fx_init(&fa, &a, VGL_SNMP_V2C);
	fx_init(&fb, &b, VGL_SNMP_V2C);
	fa.src.interval_ms = 5000;
	fb.src.interval_ms = 5001;
	fa.src.timeout_ms = fb.src.timeout_ms = 150;
	fa.snmp.retries = fb.snmp.retries = 0;
	fx_metric(&fa, "gauge", BASE "1.0");
	fx_metric(&fb, "a", BASE "11");
	r.check_stall_at = 1;
	r.stop_after = 2;
	ASSERT_EQ(uv_timer_start(&r.nudge, on_nudge, 40, 0), 0);
	ASSERT_EQ(vgl_snmp_add_source(r.s, 0, &fa.hosts[0], 0), 0);
	ASSERT_EQ(vgl_snmp_add_source(r.s, 1, &fb.hosts[1], 0), 0);
	run_finish(&r);
	fake_stop(pid);
	ASSERT_EQ(r.results, 2);
	ASSERT_EQ(r.last.host, 1);
	ASSERT_EQ(r.last.quality, VGL_Q_OK);
	ASSERT(r.last_values[0].v == 11);
	ASSERT_EQ(r.st.timeouts, 0);
	agent_stop(&a);
}
