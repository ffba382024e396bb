/* The v2c engine's own request tracking against snmpd: retransmits,
 * duplicate and late answers, random request ids, source_address, many
 * requests in flight on one channel, a stalled loop. */
#include "test/unit/snmp_util.h"

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
