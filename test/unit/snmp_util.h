/* What the SNMP collector's unit tests share: a private snmpd (test/peers/
 * snmpd), a host config built by hand, a loop harness that records results
 * and checks that nothing comes after close, the schedule recorder and the
 * odd agent (test/peers/snmpd/fake-agent.py). Static: each test file gets
 * its own copy. */
#ifndef VGL_TEST_SNMP_UTIL_H
#define VGL_TEST_SNMP_UTIL_H

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

static __attribute__((unused)) void agent_kill_atexit(void)
{
	if (agent_pid > 0)
		kill(agent_pid, SIGTERM);
}

static __attribute__((unused)) int free_udp_port(void)
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

static __attribute__((unused)) void guard_agent(pid_t pid)
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

static __attribute__((unused)) void agent_start(struct agent *a)
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

static __attribute__((unused)) void agent_stop(struct agent *a)
{
	int i;

	ASSERT_EQ(kill(a->pid, SIGTERM), 0);
	/* Bounded: gone within 3 s. */
	for (i = 0; i < 300 && kill(a->pid, 0) == 0; i++)
		usleep(10000);
	ASSERT_LT(i, 300);
	agent_pid = 0;
}

static __attribute__((unused)) void agent_set(struct agent *a, const char *suffix, const char *text)
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

static __attribute__((unused)) void fx_init(struct fixture *fx, const struct agent *a, int version)
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
static __attribute__((unused)) void fx_metric(struct fixture *fx, const char *name, const char *oid_text)
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

static __attribute__((unused)) void on_done(void *ctx)
{
	struct run *r = ctx;
	r->done_calls++;
	uv_close((uv_handle_t *)&r->guard, NULL);
	uv_close((uv_handle_t *)&r->watch, NULL);
	uv_close((uv_handle_t *)&r->check, NULL);
	uv_close((uv_handle_t *)&r->nudge, NULL);
}

static __attribute__((unused)) void run_close(struct run *r)
{
	if (r->closed)
		return;
	r->closed = 1;
	vgl_snmp_close(r->s, on_done, r);
}

static __attribute__((unused)) void on_result(void *ctx, const struct vgl_poll_result *res)
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

static __attribute__((unused)) void on_guard(uv_timer_t *t)
{
	struct run *r = t->data;
	fprintf(stderr, "test guard expired after %d results\n", r->results);
	vgl_test_fail();
}

/* Notes when polls start: a prepare handle runs in the same loop iteration
 * as the host timers, and finished + running polls only grow by starts. */
static __attribute__((unused)) void on_watch(uv_prepare_t *p)
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
static __attribute__((unused)) void on_check(uv_check_t *c)
{
	struct run *r = c->data;

	if (r->check_stall_at && r->results >= r->check_stall_at) {
		r->check_stall_at = 0;
		usleep(250 * 1000);
	}
}

/* The harness's own handles around a collector: the guard timer, the
 * start watcher and the check-phase staller; none keeps the loop alive. */
static __attribute__((unused)) void run_handles(struct run *r, uint64_t guard_ms)
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

static __attribute__((unused)) void on_nudge(uv_timer_t *t)
{
	(void)t;
}

static __attribute__((unused)) void run_init(struct run *r, uint32_t max_in_flight, uint64_t guard_ms)
{
	memset(r, 0, sizeof(*r));
	ASSERT_EQ(uv_loop_init(&r->loop), 0);
	ASSERT_EQ(vgl_snmp_create(&r->loop, max_in_flight, on_result, r, &r->s), 0);
	run_handles(r, guard_ms);
}

/* Runs until the collector closed and every handle is gone. */
static __attribute__((unused)) void run_finish(struct run *r)
{
	ASSERT_EQ(uv_run(&r->loop, UV_RUN_DEFAULT), 0);
	ASSERT_EQ(r->done_calls, 1);
	ASSERT_EQ(r->after_close, 0);
	ASSERT_EQ(uv_loop_close(&r->loop), 0);
}

/* ---- schedule: per-host poll start times (results carry ts_ms) ------------- */

struct sched {
	struct run r;
	int64_t ts[64][8];              /* wall-clock start of each host's polls */
	int n[64];
	int64_t stall_end;              /* wall time the stall ended, or 0 */
	int stall_host;                 /* stall 700 ms at this host's first result */
};

static __attribute__((unused)) int64_t now_wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static __attribute__((unused)) void on_sched_result(void *ctx, const struct vgl_poll_result *res)
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

static __attribute__((unused)) void sched_init(struct sched *c, uint32_t max_in_flight, uint64_t guard_ms)
{
	memset(c, 0, sizeof(*c));
	c->stall_host = -1;
	ASSERT_EQ(uv_loop_init(&c->r.loop), 0);
	ASSERT_EQ(vgl_snmp_create(&c->r.loop, max_in_flight, on_sched_result, c, &c->r.s), 0);
	run_handles(&c->r, guard_ms);
}

/* ---- a deliberately odd agent (test/peers/snmpd/fake-agent.py) ------------- */

/* log: a file the agent appends "REQUEST-ID ADDR PORT" to per request,
 * or NULL. */
static __attribute__((unused)) pid_t fake_start_log(const char *mode, const char *log, int *port)
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

static __attribute__((unused)) pid_t fake_start(const char *mode, int *port)
{
	return fake_start_log(mode, NULL, port);
}

static __attribute__((unused)) void fake_stop(pid_t pid)
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
static __attribute__((unused)) void fake_run_with(const char *mode, const struct fake_opts *o, struct run *r)
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

static __attribute__((unused)) void fake_run(const char *mode, uint32_t max_oids, uint32_t retries, int stop_after,
		     struct run *r)
{
	struct fake_opts o = { .max_oids = max_oids, .retries = retries,
			       .stop_after = stop_after };

	fake_run_with(mode, &o, r);
}

static __attribute__((unused)) void fake_poll(const char *mode, uint32_t max_oids, struct run *r)
{
	fake_run(mode, max_oids, 0, 1, r);
}

static __attribute__((unused)) void assert_fake_values(const struct run *r)
{
	ASSERT_EQ(r->last.quality, VGL_Q_OK);
	for (int i = 0; i < 5; i++) {
		ASSERT_EQ(r->last_values[i].q, VGL_Q_OK);
		ASSERT(r->last_values[i].v == 11 + i);
	}
}

#endif
