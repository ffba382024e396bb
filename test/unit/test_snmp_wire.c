/* The SNMP collector's receive path and odd agents: a relay between the
 * collector and snmpd (many datagrams in one read, malformed ones), and
 * test/peers/snmpd/fake-agent.py (tooBig, other OIDs, other communities). */
#include "test/unit/snmp_util.h"

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
