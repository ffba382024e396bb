/* Delivery (notify/notify*.c) against real peers on 127.0.0.1: webhook
 * posts to test/hookrecv.py (vigil and PagerDuty formats, 503, refused,
 * a hung receiver beside a healthy one, the in-flight cap), a real
 * Alertmanager, exec children (environment, stdin, exit status, the kill
 * at the limit), email through a fake sendmail, and close with attempts
 * in flight. Every wait is bounded. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <uv.h>

#include "alarms/alarm_row.h"
#include "core/vtime.h"
#include "notify/notify.h"
#include "test/test.h"

/* ---- peers ------------------------------------------------------------------ */

struct peer {
	pid_t pid;
	int port;
	char dir[400], log[450], ctl[450];
};

static pid_t peer_pids[8];

static void peers_kill_atexit(void)
{
	for (int i = 0; i < 8; i++)
		if (peer_pids[i] > 0)
			kill(peer_pids[i], SIGKILL);
}

static void remember(pid_t pid)
{
	static int registered;

	for (int i = 0; i < 8; i++) {
		if (peer_pids[i] <= 0) {
			peer_pids[i] = pid;
			break;
		}
	}
	if (!registered++)
		atexit(peers_kill_atexit);
}

/* A process that kills pid once the test process is gone, however it
 * ended (a failed ASSERT, a sanitizer abort): its pipe reads EOF then. */
static void guard(pid_t pid)
{
	int fds[2];
	pid_t g;

	ASSERT_EQ(pipe2(fds, O_CLOEXEC), 0);
	ASSERT((g = fork()) >= 0);
	if (g == 0) {
		char c;
		close(fds[1]);
		while (read(fds[0], &c, 1) < 0 && errno == EINTR)
			;
		kill(pid, SIGKILL);
		_exit(0);
	}
	close(fds[0]);
}

static void write_text(const char *path, const char *text, mode_t mode)
{
	FILE *f = fopen(path, "w");

	ASSERT(f != NULL);
	ASSERT(fputs(text, f) >= 0);
	ASSERT_EQ(fclose(f), 0);
	ASSERT_EQ(chmod(path, mode), 0);
}

static char *read_text(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t cap = 0, n = 0, r;

	if (!f)
		return NULL;
	do {
		if (n + 4096 + 1 > cap) {
			cap = cap ? cap * 2 : 8192;
			ASSERT((buf = realloc(buf, cap)) != NULL);
		}
		r = fread(buf + n, 1, cap - n - 1, f);
		n += r;
	} while (r > 0);
	fclose(f);
	buf[n] = 0;
	return buf;
}

static void hook_start(struct peer *p, const char *name, const char *mode)
{
	char port_file[450];
	char *s;
	int i;

	snprintf(p->dir, sizeof(p->dir), "%s/%s", vgl_test_tmpdir(), name);
	ASSERT_EQ(mkdir(p->dir, 0700), 0);
	snprintf(p->log, sizeof(p->log), "%s/log", p->dir);
	snprintf(p->ctl, sizeof(p->ctl), "%s/ctl", p->dir);
	snprintf(port_file, sizeof(port_file), "%s/port", p->dir);
	write_text(p->ctl, mode, 0600);
	ASSERT((p->pid = fork()) >= 0);
	if (p->pid == 0) {
		execlp("python3", "python3", "test/hookrecv.py", "--port-file", port_file, "--log",
		       p->log, "--ctl", p->ctl, (char *)NULL);
		_exit(127);
	}
	remember(p->pid);
	guard(p->pid);
	for (i = 0; i < 1000 && access(port_file, F_OK) != 0; i++)
		usleep(10000);
	ASSERT_LT(i, 1000);
	ASSERT((s = read_text(port_file)) != NULL);
	p->port = atoi(s);
	free(s);
	ASSERT_GT(p->port, 0);
}

static void peer_stop(struct peer *p)
{
	int i;

	ASSERT_EQ(kill(p->pid, SIGTERM), 0);
	if (waitpid(p->pid, NULL, 0) != p->pid) {
		/* not our child (a script started it): gone within 3 s */
		ASSERT_EQ(errno, ECHILD);
		for (i = 0; i < 300 && kill(p->pid, 0) == 0; i++)
			usleep(10000);
		ASSERT_LT(i, 300);
	}
	for (int i = 0; i < 8; i++)
		if (peer_pids[i] == p->pid)
			peer_pids[i] = 0;
}

/* The receiver's log, one parsed request per line. */
static int log_lines(const struct peer *p, cJSON **out, int max)
{
	char *text = read_text(p->log), *line, *save = NULL;
	int n = 0;

	if (!text)
		return 0;
	for (line = strtok_r(text, "\n", &save); line && n < max; line = strtok_r(NULL, "\n", &save)) {
		ASSERT((out[n] = cJSON_Parse(line)) != NULL);
		n++;
	}
	free(text);
	return n;
}

static void free_lines(cJSON **l, int n)
{
	for (int i = 0; i < n; i++)
		cJSON_Delete(l[i]);
}

static const char *jstr(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	ASSERT(cJSON_IsString(v));
	return v->valuestring;
}

/* ---- snapshots -------------------------------------------------------------- */

static char *snapshot(int64_t id, enum vgl_notice_event ev, const char *summary)
{
	int64_t now = vgl_now_ms();
	struct vgl_alarm_row a = {
		.id = id, .host_id = 3, .host = "web-01", .site = "dc1", .rule = "link-down",
		.kind = VGL_AK_RULE, .severity = VGL_SEV_CRITICAL,
		.state = ev == VGL_NOTICE_RESOLVE ? VGL_ALARM_CLEARED : VGL_ALARM_RAISED,
		.summary = summary, .labels_json = "{\"team\":\"net\"}", .details_json = "{}",
		.raised_ms = now - 60000, .cleared_ms = ev == VGL_NOTICE_RESOLVE ? now - 1000 : 0,
	};
	char dk[64];
	struct vgl_outbox_row n = { .alarm_id = id, .event = ev,
				    .step = ev == VGL_NOTICE_RESOLVE ? -1 : 0, .dedup_key = dk };
	char *s;

	ASSERT(vgl_dedup_key(dk, sizeof(dk), id, ev, n.step, 0) > 0);
	ASSERT((s = vgl_alarm_json(&a, &n)) != NULL);
	return s;
}

/* ---- the loop --------------------------------------------------------------- */

struct rec {
	int64_t token;
	int ok;
	char err[256];
	int64_t at_ms;          /* since the harness started */
};

struct h {
	uv_loop_t loop;
	struct vgl_notify *n;
	struct rec r[128];
	int nr;
	int closing, closed;
	int64_t t0;
	uv_timer_t deadline;
	int expired;
};

static int64_t mono_ms(void)
{
	return (int64_t)(uv_hrtime() / 1000000u);
}

static void done_cb(void *ctx, int64_t token, int ok, const char *err)
{
	struct h *h = ctx;
	struct rec *r;

	/* after close nothing is reported */
	ASSERT(!h->closing);
	ASSERT_LT(h->nr, 128);
	r = &h->r[h->nr++];
	r->token = token;
	r->ok = ok;
	ASSERT(ok ? err == NULL : err != NULL);
	snprintf(r->err, sizeof(r->err), "%s", err ? err : "");
	r->at_ms = mono_ms() - h->t0;
}

static void h_init(struct h *h, const struct vgl_channel_conf *ch, size_t n)
{
	memset(h, 0, sizeof(*h));
	ASSERT_EQ(uv_loop_init(&h->loop), 0);
	ASSERT_EQ(vgl_notify_new(&h->loop, ch, n, done_cb, h, &h->n), 0);
	h->t0 = mono_ms();
}

static void on_deadline(uv_timer_t *t)
{
	struct h *h = t->data;

	h->expired = 1;
}

/* Runs the loop until want reports came or timeout_ms passed. */
static void h_run(struct h *h, int want, int timeout_ms)
{
	ASSERT_EQ(uv_timer_init(&h->loop, &h->deadline), 0);
	h->deadline.data = h;
	h->expired = 0;
	ASSERT_EQ(uv_timer_start(&h->deadline, on_deadline, (uint64_t)timeout_ms, 0), 0);
	while (h->nr < want && !h->expired)
		uv_run(&h->loop, UV_RUN_ONCE);
	uv_close((uv_handle_t *)&h->deadline, NULL);
	uv_run(&h->loop, UV_RUN_NOWAIT);
}

/* The same, and they must have come. */
static void h_wait(struct h *h, int want, int timeout_ms)
{
	h_run(h, want, timeout_ms);
	if (h->nr < want)
		fprintf(stderr, "only %d of %d reports within %d ms\n", h->nr, want, timeout_ms);
	ASSERT_GE(h->nr, want);
}

/* Just the loop, for ms. */
static void h_spin(struct h *h, int ms)
{
	h_run(h, 1 << 20, ms);
}

static void closed_cb(void *arg)
{
	struct h *h = arg;

	h->closed++;
}

/* Close, and every handle must be gone: uv_loop_close says so. */
static void h_close(struct h *h)
{
	h->closing = 1;
	vgl_notify_close(h->n, closed_cb, h);
	ASSERT_EQ(h->closed, 0);        /* from the loop, not from close */
	for (int i = 0; i < 500 && !h->closed; i++)
		uv_run(&h->loop, UV_RUN_ONCE);
	ASSERT_EQ(h->closed, 1);
	ASSERT_EQ(uv_run(&h->loop, UV_RUN_NOWAIT), 0);
	ASSERT_EQ(uv_loop_close(&h->loop), 0);
}

static const struct rec *rec_of(const struct h *h, int64_t token)
{
	for (int i = 0; i < h->nr; i++)
		if (h->r[i].token == token)
			return &h->r[i];
	fprintf(stderr, "no report for token %" PRId64 "\n", token);
	ASSERT(0);
	return NULL;
}

static struct vgl_channel_conf webhook(const char *name, char *url, uint32_t timeout_ms)
{
	return (struct vgl_channel_conf){ .name = (char *)name, .type = VGL_CH_WEBHOOK, .url = url,
					  .timeout_ms = timeout_ms };
}

/* ---- webhook ------------------------------------------------------------------ */

TEST(notify_webhook_delivers_the_snapshot)
{
	struct peer p;
	struct h h;
	char url[100], *s = snapshot(42, VGL_NOTICE_TRIGGER, "Link down");
	struct vgl_channel_conf ch;
	cJSON *l[4], *body, *orig, *hd;

	hook_start(&p, "hook", "up");
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/hook", p.port);
	ch = webhook("hook", url, 5000);
	h_init(&h, &ch, 1);
	ASSERT_EQ(vgl_notify_send(h.n, "hook", 7001, s), 0);
	/* never from inside send */
	ASSERT_EQ(h.nr, 0);
	ASSERT_EQ(vgl_notify_in_flight(h.n), 1);
	h_wait(&h, 1, 5000);
	ASSERT_EQ(h.r[0].token, 7001);
	ASSERT_EQ(h.r[0].ok, 1);
	ASSERT_EQ(vgl_notify_in_flight(h.n), 0);

	ASSERT_EQ(log_lines(&p, l, 4), 1);
	ASSERT_STREQ(jstr(l[0], "method"), "POST");
	ASSERT_STREQ(jstr(l[0], "path"), "/hook");
	body = cJSON_GetObjectItemCaseSensitive(l[0], "body");
	ASSERT((orig = cJSON_Parse(s)) != NULL);
	ASSERT(cJSON_Compare(body, orig, 1));
	hd = cJSON_GetObjectItemCaseSensitive(l[0], "headers");
	ASSERT_STREQ(jstr(hd, "X-Vigil-Dedup-Key"), "vigil:42:0:0");
	ASSERT_STREQ(jstr(hd, "Content-Type"), "application/json");
	cJSON_Delete(orig);
	free_lines(l, 1);

	ASSERT_EQ(vgl_notify_send(h.n, "nope", 1, s), -ENOENT);
	ASSERT_EQ(vgl_notify_send(h.n, "hook", 1, "not json"), -EINVAL);
	ASSERT_EQ(vgl_notify_send(h.n, "hook", 1, "[1]"), -EINVAL);
	ASSERT_EQ(vgl_notify_in_flight(h.n), 0);
	h_close(&h);
	peer_stop(&p);
	free(s);
}

TEST(notify_webhook_failures)
{
	struct peer p;
	struct h h;
	char url[100], url2[100], *s = snapshot(5, VGL_NOTICE_TRIGGER, "x");
	struct vgl_channel_conf ch[2];
	int dead;

	hook_start(&p, "hook", "down");
	/* a port that was free a moment ago: nobody listens */
	{
		struct peer q;
		hook_start(&q, "gone", "up");
		dead = q.port;
		peer_stop(&q);
	}
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/", p.port);
	snprintf(url2, sizeof(url2), "http://127.0.0.1:%d/", dead);
	ch[0] = webhook("down", url, 5000);
	ch[1] = webhook("dead", url2, 5000);
	h_init(&h, ch, 2);
	ASSERT_EQ(vgl_notify_send(h.n, "down", 1, s), 0);
	ASSERT_EQ(vgl_notify_send(h.n, "dead", 2, s), 0);
	h_wait(&h, 2, 5000);
	ASSERT_EQ(rec_of(&h, 1)->ok, 0);
	ASSERT_STREQ(rec_of(&h, 1)->err, "HTTP 503");
	ASSERT_EQ(rec_of(&h, 2)->ok, 0);
	ASSERT_STREQ(rec_of(&h, 2)->err, "connect: refused");

	/* a status that carries a body has its first line in the error */
	write_text(p.ctl, "status 400", 0600);
	ASSERT_EQ(vgl_notify_send(h.n, "down", 3, s), 0);
	h_wait(&h, 3, 5000);
	ASSERT_STREQ(rec_of(&h, 3)->err, "HTTP 400: {}");
	write_text(p.ctl, "status 204", 0600);
	ASSERT_EQ(vgl_notify_send(h.n, "down", 4, s), 0);
	h_wait(&h, 4, 5000);
	ASSERT_EQ(rec_of(&h, 4)->ok, 1);
	h_close(&h);
	peer_stop(&p);
	free(s);
}

TEST(notify_hung_receiver_holds_only_its_own)
{
	struct peer hang, good;
	struct h h;
	char u1[100], u2[100], *s = snapshot(8, VGL_NOTICE_TRIGGER, "x");
	struct vgl_channel_conf ch[2];
	const struct rec *rs, *rf;
	cJSON *l[4];

	hook_start(&hang, "hang", "hang");
	hook_start(&good, "good", "up");
	snprintf(u1, sizeof(u1), "http://127.0.0.1:%d/", hang.port);
	snprintf(u2, sizeof(u2), "http://127.0.0.1:%d/", good.port);
	ch[0] = webhook("slow", u1, 1000);
	ch[1] = webhook("fast", u2, 5000);
	h_init(&h, ch, 2);
	ASSERT_EQ(vgl_notify_send(h.n, "slow", 1, s), 0);
	ASSERT_EQ(vgl_notify_send(h.n, "fast", 2, s), 0);
	h_wait(&h, 2, 5000);
	rs = rec_of(&h, 1);
	rf = rec_of(&h, 2);
	ASSERT_EQ(rf->ok, 1);
	ASSERT_EQ(rs->ok, 0);
	ASSERT_STREQ(rs->err, "timeout after 1 s");
	/* the good one did not wait for the hung one's second */
	ASSERT_LT(rf->at_ms, 500);
	ASSERT_GE(rs->at_ms, 900);
	ASSERT_LT(rs->at_ms, 3000);
	/* the hung receiver did get the request */
	ASSERT_EQ(log_lines(&hang, l, 4), 1);
	free_lines(l, 1);
	h_close(&h);
	peer_stop(&hang);
	peer_stop(&good);
	free(s);
}

TEST(notify_cap_per_channel_and_close_in_flight)
{
	struct peer hang, good;
	struct h h;
	char u1[100], u2[100], *s = snapshot(9, VGL_NOTICE_TRIGGER, "x");
	struct vgl_channel_conf ch[2];
	cJSON *l[64];
	int n;

	hook_start(&hang, "hang", "hang");
	hook_start(&good, "good", "up");
	snprintf(u1, sizeof(u1), "http://127.0.0.1:%d/", hang.port);
	snprintf(u2, sizeof(u2), "http://127.0.0.1:%d/", good.port);
	ch[0] = webhook("slow", u1, 10000);
	ch[1] = webhook("fast", u2, 5000);
	h_init(&h, ch, 2);
	for (int i = 0; i < 40; i++)
		ASSERT_EQ(vgl_notify_send(h.n, "slow", 100 + i, s), 0);
	ASSERT_EQ(vgl_notify_in_flight(h.n), 40);
	/* the queue of a hung channel does not hold another channel's */
	ASSERT_EQ(vgl_notify_send(h.n, "fast", 1, s), 0);
	h_wait(&h, 1, 5000);
	ASSERT_EQ(h.r[0].token, 1);
	ASSERT_EQ(h.r[0].ok, 1);
	h_spin(&h, 700);
	/* 16 posts reached the hung receiver, the rest wait in memory */
	n = log_lines(&hang, l, 64);
	free_lines(l, n);
	ASSERT_EQ(n, VGL_NOTIFY_MAX_RUNNING);
	ASSERT_EQ(h.nr, 1);
	ASSERT_EQ(vgl_notify_in_flight(h.n), 40);
	/* close abandons all 40 without a report, and leaks nothing */
	h_close(&h);
	peer_stop(&hang);
	peer_stop(&good);
	free(s);
}

TEST(notify_pagerduty_format_received)
{
	struct peer p;
	struct h h;
	char url[100], *s = snapshot(77, VGL_NOTICE_TRIGGER, "Disk full");
	struct vgl_channel_conf ch;
	cJSON *l[4], *b;

	hook_start(&p, "pd", "status 202");
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/v2/enqueue", p.port);
	ch = webhook("pd", url, 5000);
	ch.format = VGL_WH_PAGERDUTY;
	ch.routing_key = "ROUTE-77";
	h_init(&h, &ch, 1);
	ASSERT_EQ(vgl_notify_send(h.n, "pd", 1, s), 0);
	h_wait(&h, 1, 5000);
	ASSERT_EQ(h.r[0].ok, 1);
	ASSERT_EQ(log_lines(&p, l, 4), 1);
	ASSERT_STREQ(jstr(l[0], "path"), "/v2/enqueue");
	b = cJSON_GetObjectItemCaseSensitive(l[0], "body");
	ASSERT_STREQ(jstr(b, "routing_key"), "ROUTE-77");
	ASSERT_STREQ(jstr(b, "event_action"), "trigger");
	ASSERT_STREQ(jstr(b, "dedup_key"), "vigil:77");
	ASSERT_STREQ(jstr(cJSON_GetObjectItemCaseSensitive(b, "payload"), "severity"), "critical");
	ASSERT_STREQ(jstr(cJSON_GetObjectItemCaseSensitive(b, "payload"), "summary"), "Disk full");
	free_lines(l, 1);
	h_close(&h);
	peer_stop(&p);
	free(s);
}

/* ---- Alertmanager ---------------------------------------------------------------- */

struct buf {
	char *p;
	size_t n;
};

static size_t buf_write(char *p, size_t size, size_t nmemb, void *ud)
{
	struct buf *b = ud;
	size_t len = size * nmemb;

	ASSERT((b->p = realloc(b->p, b->n + len + 1)) != NULL);
	memcpy(b->p + b->n, p, len);
	b->n += len;
	b->p[b->n] = 0;
	return len;
}

/* GET, blocking (the test's own view, not the engine's). */
static cJSON *get_json(const char *url)
{
	CURL *e = curl_easy_init();
	struct buf b = { 0 };
	long code = 0;
	cJSON *o;

	ASSERT(e != NULL);
	ASSERT_EQ(curl_easy_setopt(e, CURLOPT_URL, url), CURLE_OK);
	ASSERT_EQ(curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, buf_write), CURLE_OK);
	ASSERT_EQ(curl_easy_setopt(e, CURLOPT_WRITEDATA, &b), CURLE_OK);
	ASSERT_EQ(curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, 3000L), CURLE_OK);
	ASSERT_EQ(curl_easy_perform(e), CURLE_OK);
	ASSERT_EQ(curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &code), CURLE_OK);
	ASSERT_EQ(code, 200);
	curl_easy_cleanup(e);
	ASSERT((o = cJSON_Parse(b.p)) != NULL);
	free(b.p);
	return o;
}

/* The alert of alarm id in Alertmanager's list at url, or NULL. */
static cJSON *find_alert(cJSON *list, const char *id)
{
	cJSON *a;

	cJSON_ArrayForEach(a, list)
	{
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(
			cJSON_GetObjectItemCaseSensitive(a, "labels"), "vigil_alarm");
		if (cJSON_IsString(v) && strcmp(v->valuestring, id) == 0)
			return a;
	}
	return NULL;
}

TEST(notify_alertmanager_real)
{
	const char *am = "/usr/bin/prometheus-alertmanager";
	char cmd[600], base[100], q[200], *trig, *res;
	struct vgl_channel_conf ch;
	struct peer p = { 0 };
	cJSON *list, *a, *l;
	struct h h;
	long pid = 0;
	FILE *f;
	int i;

	if (access(am, X_OK) != 0) {
		fprintf(stderr, "SKIP notify_alertmanager_real: %s is missing "
			"(apt-get install prometheus-alertmanager)\n", am);
		return;
	}
	snprintf(p.dir, sizeof(p.dir), "%s/am", vgl_test_tmpdir());
	snprintf(cmd, sizeof(cmd), "test/start_alertmanager.sh %s", p.dir);
	ASSERT((f = popen(cmd, "r")) != NULL);
	ASSERT_EQ(fscanf(f, "%ld %d", &pid, &p.port), 2);
	ASSERT_EQ(pclose(f), 0);
	p.pid = (pid_t)pid;
	remember(p.pid);
	guard(p.pid);

	snprintf(base, sizeof(base), "http://127.0.0.1:%d/", p.port);
	ch = (struct vgl_channel_conf){ .name = "am", .type = VGL_CH_ALERTMANAGER, .url = base,
					.timeout_ms = 5000 };
	h_init(&h, &ch, 1);
	trig = snapshot(4242, VGL_NOTICE_TRIGGER, "Link down on eth0");
	ASSERT_EQ(vgl_notify_send(h.n, "am", 1, trig), 0);
	h_wait(&h, 1, 10000);
	if (!h.r[0].ok)
		fprintf(stderr, "alertmanager said: %s\n", h.r[0].err);
	ASSERT_EQ(h.r[0].ok, 1);

	snprintf(q, sizeof(q), "http://127.0.0.1:%d/api/v2/alerts", p.port);
	for (i = 0, a = NULL, list = NULL; i < 100; i++) {
		list = get_json(q);
		if ((a = find_alert(list, "4242")))
			break;
		cJSON_Delete(list);
		usleep(100000);
	}
	ASSERT(a != NULL);
	l = cJSON_GetObjectItemCaseSensitive(a, "labels");
	ASSERT_STREQ(jstr(l, "alertname"), "link-down");
	ASSERT_STREQ(jstr(l, "host"), "web-01");
	ASSERT_STREQ(jstr(l, "site"), "dc1");
	ASSERT_STREQ(jstr(l, "severity"), "critical");
	ASSERT_STREQ(jstr(l, "team"), "net");
	ASSERT_STREQ(jstr(cJSON_GetObjectItemCaseSensitive(a, "annotations"), "summary"),
		     "Link down on eth0");
	ASSERT_STREQ(jstr(cJSON_GetObjectItemCaseSensitive(a, "status"), "state"), "active");
	cJSON_Delete(list);

	res = snapshot(4242, VGL_NOTICE_RESOLVE, "Link down on eth0");
	ASSERT_EQ(vgl_notify_send(h.n, "am", 2, res), 0);
	h_wait(&h, 2, 10000);
	ASSERT_EQ(h.r[1].ok, 1);
	snprintf(q, sizeof(q), "http://127.0.0.1:%d/api/v2/alerts?active=true", p.port);
	for (i = 0; i < 100; i++) {
		int gone;

		list = get_json(q);
		gone = find_alert(list, "4242") == NULL;
		cJSON_Delete(list);
		if (gone)
			break;
		usleep(100000);
	}
	ASSERT_LT(i, 100);
	h_close(&h);
	peer_stop(&p);
	free(trig);
	free(res);
}

/* ---- exec and email ---------------------------------------------------------------- */

static void script(const char *path, const char *body)
{
	char text[4096];

	snprintf(text, sizeof(text), "#!/bin/sh\n%s", body);
	write_text(path, text, 0700);
}

static struct vgl_channel_conf exec_ch(const char *name, char **argv, size_t argc,
				       uint32_t timeout_ms)
{
	return (struct vgl_channel_conf){ .name = (char *)name, .type = VGL_CH_EXEC,
					  .argv = argv, .argc = argc, .timeout_ms = timeout_ms };
}

TEST(notify_exec_env_stdin_argv)
{
	char prog[400], body[1400], envf[400], inf[400], argf[400], *s, *env, *in, *args;
	char *argv[] = { prog, "one arg", "$HOME;*", NULL };
	struct vgl_channel_conf ch;
	struct h h;

	snprintf(prog, sizeof(prog), "%s/page.sh", vgl_test_tmpdir());
	snprintf(envf, sizeof(envf), "%s/env", vgl_test_tmpdir());
	snprintf(inf, sizeof(inf), "%s/stdin", vgl_test_tmpdir());
	snprintf(argf, sizeof(argf), "%s/args", vgl_test_tmpdir());
	snprintf(body, sizeof(body),
		 "env | sort > '%s'\ncat > '%s'\nfor a in \"$@\"; do echo \"[$a]\"; done > '%s'\n",
		 envf, inf, argf);
	script(prog, body);
	ch = exec_ch("run", argv, 3, 5000);
	h_init(&h, &ch, 1);
	s = snapshot(31, VGL_NOTICE_TRIGGER, "Fan failed");
	ASSERT_EQ(vgl_notify_send(h.n, "run", 5, s), 0);
	h_wait(&h, 1, 5000);
	if (!h.r[0].ok)
		fprintf(stderr, "exec: %s\n", h.r[0].err);
	ASSERT_EQ(h.r[0].ok, 1);
	ASSERT((env = read_text(envf)) != NULL);
	ASSERT_CONTAINS(env, "VIGIL_ALARM_ID=31\n");
	ASSERT_CONTAINS(env, "VIGIL_HOST=web-01\n");
	ASSERT_CONTAINS(env, "VIGIL_SEVERITY=critical\n");
	ASSERT_CONTAINS(env, "VIGIL_SUMMARY=Fan failed\n");
	ASSERT_CONTAINS(env, "VIGIL_EVENT=trigger\n");
	ASSERT_CONTAINS(env, "VIGIL_DEDUP_KEY=vigil:31:0:0\n");
	ASSERT_CONTAINS(env, "PATH=/usr/bin:/bin\n");
	/* nothing of the daemon's own environment */
	ASSERT(strstr(env, "\nHOME=") == NULL && strncmp(env, "HOME=", 5) != 0);
	ASSERT((in = read_text(inf)) != NULL);
	ASSERT_STREQ(in, s);
	/* no shell: arguments arrive as given */
	ASSERT((args = read_text(argf)) != NULL);
	ASSERT_STREQ(args, "[one arg]\n[$HOME;*]\n");
	free(env);
	free(in);
	free(args);
	h_close(&h);
	free(s);
}

TEST(notify_exec_status_kill_and_spawn_error)
{
	char p3[400], ps[400], pq[400], pidf[400], body[800], *s, *pgs;
	char *a3[] = { p3, NULL }, *as[] = { ps, NULL }, *aq[] = { pq, NULL };
	char *an[] = { "/nonexistent/vigil-page", NULL };
	struct vgl_channel_conf ch[4];
	struct h h;
	pid_t pg;
	int i;

	snprintf(p3, sizeof(p3), "%s/three.sh", vgl_test_tmpdir());
	snprintf(ps, sizeof(ps), "%s/sleep.sh", vgl_test_tmpdir());
	snprintf(pq, sizeof(pq), "%s/quiet.sh", vgl_test_tmpdir());
	snprintf(pidf, sizeof(pidf), "%s/sleep.pid", vgl_test_tmpdir());
	script(p3, "echo 'pager gateway said no' >&2\necho more >&2\nexit 3\n");
	snprintf(body, sizeof(body), "echo $$ > '%s'\nsleep 30\n", pidf);
	script(ps, body);
	/* never reads its stdin, and the payload is far larger than a pipe */
	script(pq, "exit 0\n");
	ch[0] = exec_ch("three", a3, 1, 5000);
	ch[1] = exec_ch("sleep", as, 1, 1000);
	ch[2] = exec_ch("missing", an, 1, 5000);
	ch[3] = exec_ch("quiet", aq, 1, 5000);
	h_init(&h, ch, 4);
	{
		char *big = malloc(1 << 20);
		ASSERT(big != NULL);
		memset(big, 'z', (1 << 20) - 1);
		big[(1 << 20) - 1] = 0;
		s = snapshot(3, VGL_NOTICE_TRIGGER, big);
		free(big);
	}
	ASSERT_EQ(vgl_notify_send(h.n, "sleep", 2, s), 0);
	ASSERT_EQ(vgl_notify_send(h.n, "three", 1, s), 0);
	ASSERT_EQ(vgl_notify_send(h.n, "missing", 3, s), 0);
	/* a failure known at once is still reported later, from the loop */
	ASSERT_EQ(h.nr, 0);
	ASSERT_EQ(vgl_notify_send(h.n, "quiet", 4, s), 0);
	h_wait(&h, 4, 5000);
	ASSERT_STREQ(rec_of(&h, 1)->err, "exit 3: pager gateway said no");
	ASSERT_EQ(rec_of(&h, 3)->ok, 0);
	ASSERT_CONTAINS(rec_of(&h, 3)->err, "spawn /nonexistent/vigil-page: ");
	ASSERT_EQ(rec_of(&h, 4)->ok, 1);
	ASSERT_EQ(rec_of(&h, 2)->ok, 0);
	ASSERT_STREQ(rec_of(&h, 2)->err, "killed after 1 s");
	ASSERT_GE(rec_of(&h, 2)->at_ms, 900);
	ASSERT_LT(rec_of(&h, 2)->at_ms, 3000);
	/* the script's sleep went with it: its whole group is gone */
	ASSERT((pgs = read_text(pidf)) != NULL);
	pg = (pid_t)atoi(pgs);
	free(pgs);
	ASSERT_GT(pg, 1);
	for (i = 0; i < 200 && kill(-pg, 0) == 0; i++)
		usleep(10000);
	ASSERT_LT(i, 200);
	h_close(&h);
	free(s);
}

TEST(notify_exec_close_kills_running_child)
{
	char ps[400], pidf[400], body[1400], *s, *pgs;
	char *as[] = { ps, NULL };
	struct vgl_channel_conf ch;
	struct h h;
	pid_t pg = 0;
	int i;

	snprintf(ps, sizeof(ps), "%s/sleep.sh", vgl_test_tmpdir());
	snprintf(pidf, sizeof(pidf), "%s/sleep.pid", vgl_test_tmpdir());
	snprintf(body, sizeof(body), "echo $$ > '%s.tmp' && mv '%s.tmp' '%s'\nsleep 30\n", pidf,
		 pidf, pidf);
	script(ps, body);
	ch = exec_ch("sleep", as, 1, 60000);
	h_init(&h, &ch, 1);
	s = snapshot(1, VGL_NOTICE_TRIGGER, "x");
	ASSERT_EQ(vgl_notify_send(h.n, "sleep", 1, s), 0);
	for (i = 0; i < 500 && access(pidf, F_OK) != 0; i++)
		h_spin(&h, 10);
	ASSERT((pgs = read_text(pidf)) != NULL);
	pg = (pid_t)atoi(pgs);
	free(pgs);
	ASSERT_GT(pg, 1);
	h_close(&h);
	ASSERT_EQ(h.nr, 0);
	for (i = 0; i < 200 && kill(-pg, 0) == 0; i++)
		usleep(10000);
	ASSERT_LT(i, 200);
	free(s);
}

TEST(notify_email_through_sendmail)
{
	char sm[400], argf[400], msgf[400], body[1000], *s, *args, *msg;
	char *to[] = { "ops@example.com", "oncall@example.com", NULL };
	struct vgl_channel_conf ch = { .name = "mail", .type = VGL_CH_EMAIL, .to = to, .n_to = 2,
				       .from = "vigil@dc1.example", .timeout_ms = 5000 };
	struct h h;

	snprintf(sm, sizeof(sm), "%s/sendmail", vgl_test_tmpdir());
	snprintf(argf, sizeof(argf), "%s/sendmail.args", vgl_test_tmpdir());
	snprintf(msgf, sizeof(msgf), "%s/sendmail.msg", vgl_test_tmpdir());
	snprintf(body, sizeof(body), "echo \"$*\" > '%s'\ncat > '%s'\n", argf, msgf);
	script(sm, body);
	ch.sendmail = sm;
	h_init(&h, &ch, 1);
	s = snapshot(12, VGL_NOTICE_RESOLVE, "PSU 2 lost input");
	ASSERT_EQ(vgl_notify_send(h.n, "mail", 1, s), 0);
	h_wait(&h, 1, 5000);
	ASSERT_EQ(h.r[0].ok, 1);
	ASSERT((args = read_text(argf)) != NULL);
	ASSERT_STREQ(args, "-t -oi\n");
	ASSERT((msg = read_text(msgf)) != NULL);
	ASSERT_EQ(strncmp(msg, "From: vigil@dc1.example\nTo: ops@example.com, oncall@example.com\n"
			  "Subject: [vigil] RESOLVED web-01 link-down: PSU 2 lost input\nDate: ",
			  strlen("From: vigil@dc1.example\nTo: ops@example.com, oncall@example.com\n"
				 "Subject: [vigil] RESOLVED web-01 link-down: PSU 2 lost input\nDate: ")),
		  0);
	ASSERT_CONTAINS(msg, "\nX-Vigil-Dedup-Key: vigil:12:resolve\n");
	ASSERT_CONTAINS(msg, "\n\nvigil alarm 12: RESOLVED\n");
	free(args);
	free(msg);

	/* sendmail failing is the attempt failing */
	script(sm, "cat > /dev/null\necho 'sendmail: fatal: no route' >&2\nexit 75\n");
	ASSERT_EQ(vgl_notify_send(h.n, "mail", 2, s), 0);
	h_wait(&h, 2, 5000);
	ASSERT_STREQ(h.r[1].err, "exit 75: sendmail: fatal: no route");
	h_close(&h);
	free(s);
}
