/* /metrics (daemon/metrics.h): the text helpers, and the renderer over a
 * real struct vigil (vgl_vigil_start on a config of 450 SNMP hosts that
 * never poll: results are handed to vgl__on_poll by hand, the loop never
 * runs until the stop). Chunks hold whole lines within max, a small buffer
 * gives the same text as a large one, a call looks at ~200 hosts, a
 * reload's swap ends the scrape, causes survive a restart, and the
 * store's commit histogram and lag. */
#include <uv.h>

#include "conf/conf.h"
#include "daemon/metrics.h"
#include "daemon/vigil.h"
#include "daemon/vigil_int.h"
#include "test/unit/conf_util.h"
#include "test/unit/store_util.h"

#define N_FILL 448

/* ---- helpers ---------------------------------------------------------------- */

TEST(metrics_escape_label_values)
{
	char out[64];

	ASSERT_EQ(vgl__metrics_escape(out, sizeof(out), "plain"), 5);
	ASSERT_STREQ(out, "plain");
	ASSERT_EQ(vgl__metrics_escape(out, sizeof(out), "a\"b\\c\nd"), 10);
	ASSERT_STREQ(out, "a\\\"b\\\\c\\nd");
	/* too small: truncated, NUL-terminated, the length it needs */
	memset(out, 'x', sizeof(out));
	ASSERT_EQ(vgl__metrics_escape(out, 4, "\"\"\""), 6);
	ASSERT_STREQ(out, "\\\"");
	ASSERT_EQ(vgl__metrics_escape(out, 4, "ab\"c"), 5);
	ASSERT_STREQ(out, "ab");
	ASSERT_EQ(vgl__metrics_escape(out, sizeof(out), NULL), 0);
	ASSERT_STREQ(out, "");
}

TEST(metrics_number_shortest)
{
	char out[40];

	vgl__metrics_number(out, 21.5);
	ASSERT_STREQ(out, "21.5");
	vgl__metrics_number(out, 0.1);
	ASSERT_STREQ(out, "0.1");
	vgl__metrics_number(out, -3);
	ASSERT_STREQ(out, "-3");
	vgl__metrics_number(out, 18446744073709551615.0);
	ASSERT_STREQ(out, "1.8446744073709552e+19");
	vgl__metrics_number(out, 1.0 / 3);
	ASSERT(strtod(out, NULL) == 1.0 / 3);
	vgl__metrics_number(out, 0.0 / 0.0);
	ASSERT_STREQ(out, "NaN");
	vgl__metrics_number(out, -1.0 / 0.0);
	ASSERT_STREQ(out, "-Inf");
}

/* ---- a daemon ------------------------------------------------------------------ */

static char *conf_text(int n_fill)
{
	size_t cap = 64 * 1024 + (size_t)n_fill * 160, len = 0;
	char *s = malloc(cap);

	ASSERT(s);
	len += (size_t)snprintf(s + len, cap - len,
		"{ \"storage\": { \"path\": \"vigil.db\", \"batch_ms\": 50, \"heartbeat_s\": 1 },\n"
		"  \"templates\": { \"srv\": {\n"
		"    \"snmp\": { \"version\": \"2c\", \"community\": \"public\", \"interval_s\": 60,\n"
		"              \"timeout_ms\": 200, \"retries\": 0 },\n"
		"    \"metrics\": { \"temp\": \".1.3.6.1.4.1.99999.1.0\",\n"
		"                 \"link\": { \"oid\": \".1.3.6.1.4.1.99999.3.0\", \"enum\": { \"up\": 1, \"down\": 2 } } },\n"
		"    \"availability\": [ { \"name\": \"unreachable\", \"unreachable\": 1, \"cause\": \"network\" } ] } },\n"
		"  \"hosts\": [\n"
		"    { \"name\": \"h1\", \"address\": \"127.0.0.1\", \"template\": \"srv\", \"site\": \"dc \\\"1\\\" \\\\ a\",\n"
		"      \"snmp\": { \"port\": 9 } },\n"
		"    { \"name\": \"h2\", \"address\": \"127.0.0.1\", \"template\": \"srv\", \"snmp\": { \"port\": 9 } }");
	for (int i = 0; i < n_fill; i++)
		len += (size_t)snprintf(s + len, cap - len,
					",\n    { \"name\": \"n-%04d\", \"address\": \"127.0.0.1\", "
					"\"template\": \"srv\", \"snmp\": { \"port\": 9 } }", i);
	snprintf(s + len, cap - len, "\n  ]\n}\n");
	return s;
}

struct daemon {
	uv_loop_t loop;
	struct vigil *v;
};

static void daemon_start_n(struct daemon *d, int n_fill)
{
	char *text = conf_text(n_fill);
	struct vgl_conf *c = load_ok(text);

	free(text);
	ASSERT_EQ(uv_loop_init(&d->loop), 0);
	ASSERT_EQ(vgl_vigil_start(&d->loop, c, &d->v), 0);
	ASSERT(d->v->metrics);
}

static void daemon_start(struct daemon *d)
{
	daemon_start_n(d, N_FILL);
}

static void daemon_stop(struct daemon *d)
{
	vgl_vigil_stop(d->v);
	ASSERT_EQ(uv_run(&d->loop, UV_RUN_DEFAULT), 0);
	vgl_vigil_free(d->v);
	ASSERT_EQ(uv_loop_close(&d->loop), 0);
}

/* A poll of host's SNMP source: temp, link with quality q (the poll's). */
static void do_poll(struct vigil *v, uint32_t host, int64_t ts, enum vgl_quality q, double temp,
		 double link)
{
	static const uint32_t metrics[2] = { 0, 1 };
	struct vgl_value vals[2] = { { temp, q }, { link, q } };
	struct vgl_poll_result r = { .host = host, .source = 0, .ts_ms = ts, .quality = q,
				     .n_values = 2, .values = vals, .metrics = metrics,
				     .interval_ms = 60000 };

	vgl__on_poll(v, &r);
}

/* The whole exposition in chunks of at most max; each chunk whole lines.
 * *calls: how many calls gave text; *max_unavail: the most
 * vigil_host_unavailable lines one call gave. */
static char *render_all(struct vigil *v, size_t max, int *calls, int *max_unavail)
{
	struct vgl_metrics_render *r;
	size_t cap = 1 << 20, len = 0;
	char *all = malloc(cap), *buf = malloc(max);
	long n;

	ASSERT(all && buf);
	ASSERT_EQ(vgl__metrics_render_new(v, &r), 0);
	*calls = 0;
	*max_unavail = 0;
	while ((n = vgl__metrics_render_next(r, v, buf, max)) > 0) {
		int unavail = 0;

		ASSERT_LE(n, (long)max);
		ASSERT_EQ(buf[n - 1], '\n');
		ASSERT_LT(len + (size_t)n, cap);
		memcpy(all + len, buf, (size_t)n);
		for (char *p = all + len; (p = memchr(p, 'v', (size_t)(all + len + n - p)));
		     p++)
			unavail += strncmp(p, "vigil_host_unavailable{", 23) == 0 &&
				   (p == all + len || p[-1] == '\n');
		len += (size_t)n;
		(*calls)++;
		if (unavail > *max_unavail)
			*max_unavail = unavail;
	}
	ASSERT_EQ(n, 0);
	/* the end stays the end */
	ASSERT_EQ(vgl__metrics_render_next(r, v, buf, max), 0);
	all[len] = 0;
	vgl__metrics_render_free(r);
	free(buf);
	return all;
}

/* line is in text, as a whole line */
static int has_line(const char *text, const char *line)
{
	size_t n = strlen(line);

	for (const char *p = text; (p = strstr(p, line)); p++)
		if ((p == text || p[-1] == '\n') && p[n] == '\n')
			return 1;
	return 0;
}

#define ASSERT_LINE(text, line)                                                        \
	do {                                                                           \
		if (!has_line((text), (line))) {                                       \
			fprintf(stderr, "%s:%d: no line \"%s\" in:\n%.6000s\n", __FILE__,  \
				__LINE__, (line), (text));                             \
			vgl_test_fail();                                               \
		}                                                                      \
	} while (0)

/* The value of the sample line starting with prefix (name and labels). */
static double sample_of(const char *text, const char *prefix)
{
	size_t n = strlen(prefix);

	for (const char *p = text; (p = strstr(p, prefix)); p++)
		if ((p == text || p[-1] == '\n') && p[n] == ' ')
			return strtod(p + n + 1, NULL);
	fprintf(stderr, "no sample %s\n", prefix);
	vgl_test_fail();
}

TEST(metrics_render_daemon)
{
	struct daemon d;
	struct vgl_store_stats st;
	char *a, *b;
	int calls, most, calls_b, most_b;
	int64_t now;

	daemon_start(&d);
	now = vgl_now_ms();
	do_poll(d.v, 0, now - 30, VGL_Q_OK, 21.5, 1);
	do_poll(d.v, 1, now - 40, VGL_Q_TIMEOUT, 0, 0);
	/* the histogram's edges, straight in */
	{
		struct vgl_poll_result r = { .ts_ms = now, .quality = VGL_Q_OK };

		vgl__metrics_on_poll(d.v->metrics, "ping", &r, now + 5);       /* le 0.005 */
		vgl__metrics_on_poll(d.v->metrics, "ping", &r, now - 5);       /* clock back: 0 */
		vgl__metrics_on_poll(d.v->metrics, "ping", &r, now + 6);       /* le 0.01 */
		r.quality = VGL_Q_REFUSED;
		vgl__metrics_on_poll(d.v->metrics, "ping", &r, now + 10001);   /* +Inf */
		vgl__metrics_on_poll(d.v->metrics, "nosuch", &r, now);         /* not counted */
		vgl__metrics_on_poll(NULL, "ping", &r, now);
	}
	/* a batch committed, for the store's histogram */
	for (int64_t end = vgl_mono_ms() + 5000; vgl_mono_ms() < end; sleep_ms(10)) {
		vgl_store_get_stats(d.v->store, &st);
		if (st.batches_committed && !st.queued)
			break;
	}
	ASSERT_GE(st.batches_committed, 1);

	a = render_all(d.v, 1 << 16, &calls, &most);
	b = render_all(d.v, 200, &calls_b, &most_b);  /* longer than the longest line */
	ASSERT_STREQ(a, b);
	ASSERT_GT(calls_b, calls);
	/* 450 hosts: three calls of at most 200 hosts for that family */
	ASSERT_LE(most, 200);
	ASSERT_GE(most, 50);

	ASSERT_LINE(a, "# TYPE vigil_host_up gauge");
	ASSERT_LINE(a, "vigil_host_up{host=\"h1\",site=\"dc \\\"1\\\" \\\\ a\"} 1");
	ASSERT_LINE(a, "vigil_host_up{host=\"h2\",site=\"\"} 0");
	ASSERT(!strstr(a, "vigil_host_up{host=\"n-0000\""));    /* never polled: unknown */
	ASSERT_LINE(a, "vigil_host_unavailable{host=\"h1\",site=\"dc \\\"1\\\" \\\\ a\"} 0");
	ASSERT_LINE(a, "vigil_host_unavailable{host=\"h2\",site=\"\",cause=\"network\"} 1");
	ASSERT_LINE(a, "vigil_host_unavailable{host=\"n-0447\",site=\"\"} 0");
	ASSERT_LINE(a, "vigil_value{host=\"h1\",metric=\"temp\",source=\"snmp\"} 21.5");
	ASSERT_LINE(a, "vigil_value{host=\"h1\",metric=\"link\",source=\"snmp\"} 1");
	ASSERT(!strstr(a, "vigil_value{host=\"h2\""));
	ASSERT_LINE(a, "vigil_value_not_ok{host=\"h2\",metric=\"temp\",source=\"snmp\","
		       "quality=\"timeout\"} 1");
	ASSERT(!strstr(a, "vigil_value_not_ok{host=\"h1\""));

	ASSERT_LINE(a, "vigil_polls_total{kind=\"snmp\"} 2");
	ASSERT_LINE(a, "vigil_poll_errors_total{kind=\"snmp\",quality=\"timeout\"} 1");
	ASSERT_LINE(a, "vigil_poll_errors_total{kind=\"snmp\",quality=\"refused\"} 0");
	ASSERT_LINE(a, "vigil_poll_duration_seconds_bucket{kind=\"snmp\",le=\"0.025\"} 0");
	ASSERT_LINE(a, "vigil_poll_duration_seconds_bucket{kind=\"snmp\",le=\"0.05\"} 2");
	ASSERT_LINE(a, "vigil_poll_duration_seconds_bucket{kind=\"snmp\",le=\"+Inf\"} 2");
	ASSERT_LINE(a, "vigil_poll_duration_seconds_bucket{kind=\"ping\",le=\"0.005\"} 2");
	ASSERT_LINE(a, "vigil_poll_duration_seconds_bucket{kind=\"ping\",le=\"0.01\"} 3");
	ASSERT_LINE(a, "vigil_poll_duration_seconds_bucket{kind=\"ping\",le=\"10\"} 3");
	ASSERT_LINE(a, "vigil_poll_duration_seconds_bucket{kind=\"ping\",le=\"+Inf\"} 4");
	ASSERT_LINE(a, "vigil_poll_duration_seconds_sum{kind=\"ping\"} 10.012");
	ASSERT_LINE(a, "vigil_poll_duration_seconds_count{kind=\"ping\"} 4");
	ASSERT_LINE(a, "vigil_poll_errors_total{kind=\"ping\",quality=\"refused\"} 1");
	ASSERT(!strstr(a, "kind=\"modbus\""));                 /* no such collector runs */

	ASSERT_LINE(a, "vigil_build_info{version=\"0.15.0\"} 1");
	ASSERT_LINE(a, "vigil_hosts_configured 450");
	ASSERT_LINE(a, "vigil_hosts_polled 450");
	ASSERT_LINE(a, "vigil_collector_hosts{collector=\"snmp\"} 450");
	ASSERT_LINE(a, "vigil_alarms_active{severity=\"critical\"} 0");
	ASSERT_LINE(a, "vigil_outbox_oldest_age_seconds 0");
	ASSERT_LINE(a, "# TYPE vigil_store_commit_duration_seconds histogram");
	ASSERT(sample_of(a, "vigil_store_commit_duration_seconds_count") ==
	       sample_of(a, "vigil_store_batches_committed_total"));
	ASSERT(sample_of(a, "vigil_store_commit_duration_seconds_bucket{le=\"+Inf\"}") ==
	       sample_of(a, "vigil_store_batches_committed_total"));
	ASSERT(sample_of(a, "vigil_store_commit_duration_seconds_bucket{le=\"0.001\"}") <=
	       sample_of(a, "vigil_store_commit_duration_seconds_bucket{le=\"10\"}"));
	ASSERT(sample_of(a, "vigil_store_transitions_committed_total") >= 1);
	ASSERT(sample_of(a, "vigil_start_time_seconds") <= now / 1000.0 + 1);
	free(a);
	free(b);

	/* recovery: the cause label goes with the interval */
	do_poll(d.v, 1, now, VGL_Q_OK, 20, 1);
	a = render_all(d.v, 4096, &calls, &most);
	ASSERT_LINE(a, "vigil_host_up{host=\"h2\",site=\"\"} 1");
	ASSERT_LINE(a, "vigil_host_unavailable{host=\"h2\",site=\"\"} 0");
	ASSERT_LINE(a, "vigil_value{host=\"h2\",metric=\"temp\",source=\"snmp\"} 20");
	free(a);
	/* and down again, for the restart below */
	do_poll(d.v, 1, now + 1000, VGL_Q_TIMEOUT, 0, 0);
	daemon_stop(&d);

	/* A restart: the open interval comes back with its cause. */
	daemon_start(&d);
	a = render_all(d.v, 4096, &calls, &most);
	ASSERT_LINE(a, "vigil_host_up{host=\"h2\",site=\"\"} 0");
	ASSERT_LINE(a, "vigil_host_unavailable{host=\"h2\",site=\"\",cause=\"network\"} 1");
	ASSERT(!strstr(a, "vigil_host_up{host=\"h1\""));        /* not polled in this run */
	ASSERT_LINE(a, "vigil_polls_total{kind=\"snmp\"} 0");
	free(a);
	daemon_stop(&d);
}

TEST(metrics_render_ends_at_reload)
{
	struct daemon d;
	struct vgl_metrics_render *r;
	struct vgl_conf *c, other;
	char buf[512];

	daemon_start(&d);
	ASSERT_EQ(vgl__metrics_render_new(d.v, &r), 0);
	ASSERT_GT(vgl__metrics_render_next(r, d.v, buf, sizeof(buf)), 0);
	/* what a reload's swap does to v->conf, for one call */
	c = d.v->conf;
	memcpy(&other, c, sizeof(other));
	d.v->conf = &other;
	ASSERT_EQ(vgl__metrics_render_next(r, d.v, buf, sizeof(buf)), -1);
	d.v->conf = c;
	vgl__metrics_render_free(r);
	vgl__metrics_render_free(NULL);
	/* a line longer than the whole buffer is left out, the rest goes on */
	ASSERT_EQ(vgl__metrics_render_new(d.v, &r), 0);
	{
		long n, total = 0;

		while ((n = vgl__metrics_render_next(r, d.v, buf, 40)) > 0) {
			ASSERT_LE(n, 40);
			ASSERT_EQ(buf[n - 1], '\n');
			total += n;
		}
		ASSERT_EQ(n, 0);
		ASSERT_GT(total, 0);
	}
	vgl__metrics_render_free(r);
	daemon_stop(&d);
}

/* A family no host has a line of, over more hosts than a call looks at
 * (nobody polled: vigil_host_up has none): calls still give text, a
 * comment, never 0 before the end. */
TEST(metrics_render_sparse_family)
{
	struct daemon d;
	struct vgl_metrics_render *r;
	char *buf = malloc(65536);
	long n;
	int comments = 0, calls = 0;

	ASSERT(buf);
	daemon_start_n(&d, 9998);
	ASSERT_EQ(vgl__metrics_render_new(d.v, &r), 0);
	while ((n = vgl__metrics_render_next(r, d.v, buf, 65535)) > 0) {
		calls++;
		buf[n] = 0;
		if (n >= 2 && buf[0] == '#' && buf[1] == ' ' && !strchr(buf, 'H') &&
		    memchr(buf, '\n', (size_t)n) == buf + n - 1) {
			if (strcmp(buf, "# 4000 hosts without a vigil_host_up line\n") != 0 &&
			    strcmp(buf, "# 4000 hosts without a vigil_value line\n") != 0 &&
			    strcmp(buf, "# 4000 hosts without a vigil_value_not_ok line\n") != 0) {
				fprintf(stderr, "chunk: %s", buf);
				ASSERT(0);
			}
			comments++;
		}
	}
	ASSERT_EQ(n, 0);
	/* 10,000 hosts, three families without lines: after the header's
	 * call (200 hosts), two comment-only calls of 4,000 each */
	ASSERT_EQ(comments, 6);
	ASSERT_GT(calls, 50);
	vgl__metrics_render_free(r);
	free(buf);
	daemon_stop(&d);
}

/* The store's lag: a sample waiting for its batch window is as old as
 * the time since it was queued. */
TEST(metrics_store_lag)
{
	struct vgl_conf *c = make_conf(1, "lag");
	struct vgl_store_stats st;
	int64_t ids[1];
	struct vgl_store *s = store_open(db_path("lag.db"), 3000, T0);

	ASSERT_EQ(vgl_store_sync_hosts(s, c, ids), 0);
	vgl_store_get_stats(s, &st);
	ASSERT_EQ(st.oldest_queued_ms, 0);
	polled1(s, ids[0], T0, "load", 1);
	sleep_ms(300);
	vgl_store_get_stats(s, &st);
	ASSERT_EQ(st.queued, 1);
	ASSERT_GE(st.oldest_queued_ms, 290);
	ASSERT_LT(st.oldest_queued_ms, 3000);
	for (int64_t end = vgl_mono_ms() + 8000; vgl_mono_ms() < end; sleep_ms(20)) {
		vgl_store_get_stats(s, &st);
		if (st.batches_committed)
			break;
	}
	ASSERT_EQ(st.batches_committed, 1);
	ASSERT_EQ(st.oldest_queued_ms, 0);
	{
		uint64_t sum = 0;

		for (int b = 0; b < VGL_STORE_COMMIT_BUCKETS; b++)
			sum += st.commit_buckets[b];
		ASSERT_EQ(sum, 1);
		ASSERT_EQ(st.commit_us_sum >= st.last_batch_us, 1);
	}
	vgl_store_close(s, T0 + 1);
	free_conf(c);
}
