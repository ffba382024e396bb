/*
 * GET /metrics: the Prometheus text exposition of vigild (docs/metrics.md
 * lists every family). Loop thread only.
 *
 *   vgl__on_poll --latency, errors--> struct vgl_metrics (per source type)
 *   on_avail_event, revise (daemon/poll.c) --cause--> the cause map
 *   the API (api/) --render_new, render_next ... , render_free--> text
 *
 * A scrape has two parts:
 *  - the daemon-wide families (build, collectors, polls, alarms, store): a
 *    few kilobytes, formatted whole at render_new from one snapshot, so
 *    every number of them is of one moment and the lines of a family
 *    cannot change between two calls;
 *  - the per-host families (vigil_host_up, vigil_host_unavailable,
 *    vigil_value, vigil_value_not_ok), written from the live hosts by a
 *    cursor (family, host, metric) about 200 hosts per call. A host's
 *    values may move between two calls; a line is never written twice,
 *    since the cursor names the metric, not a count of lines.
 * The text format wants the lines of a family together, so each per-host
 * family is one pass over the hosts: four passes, each cheap.
 *
 * A reload swaps v->conf and v->hosts together: the renderer remembers the
 * conf it started with and answers -1 once it changed.
 */
#include "core/version.h"
#include "daemon/metrics.h"
#include "daemon/vigil_int.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alarms/alarm.h"
#include "alarms/alarm_row.h"
#include "conf/backend.h"
#include "core/cause.h"
#include "core/log.h"
#include "core/quality.h"
#include "core/vtime.h"
#include "rules/avail.h"
#include "rules/values.h"
#include "storage/store.h"

/* daemon/main.c prints the same with -V. */

#define HOSTS_PER_CALL 200
#define SCAN_PER_CALL 4000      /* hosts looked at by a call with nothing to write */
#define N_QUALITY (VGL_Q_MB_EXCEPTION + 1)
#define MAX_KINDS 16

/* Poll latency buckets, ms: 5 ms .. 10 s (SNMP on a LAN answers in a few
 * ms; a BMC over Redfish takes seconds). */
static const uint32_t poll_bounds_ms[] = { 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000,
					   10000 };
#define N_POLL_BOUNDS (sizeof(poll_bounds_ms) / sizeof(poll_bounds_ms[0]))

struct kind_stats {
	uint64_t buckets[N_POLL_BOUNDS + 1];    /* not cumulative; last: over every bound */
	uint64_t sum_ms;
	uint64_t count;
	uint64_t errors[N_QUALITY];
};

/* db_id -> cause of its open interval (enum vgl_cause), open addressing
 * with linear probing; deletions shift back, so no tombstones. Holds the
 * hosts with an open interval only. */
struct cause_map {
	int64_t *id;            /* 0: empty (database ids start at 1) */
	uint8_t *cause;
	size_t cap, n;
};

struct vgl_metrics {
	int64_t start_ms;
	size_t n_kinds;
	const char *kind[MAX_KINDS];    /* the source types, conf/backend.h order */
	struct kind_stats ks[MAX_KINDS];
	struct cause_map causes;
	int oom_logged;
};

/* ---- counters ------------------------------------------------------------ */

int vgl__metrics_new(struct vgl_metrics **out)
{
	struct vgl_metrics *m = calloc(1, sizeof(*m));

	*out = NULL;
	if (!m)
		return -ENOMEM;
	m->start_ms = vgl_now_ms();
	for (size_t i = 0; i < vgl_conf_backend_count() && m->n_kinds < MAX_KINDS; i++)
		m->kind[m->n_kinds++] = vgl_conf_backend_at(i)->type;
	*out = m;
	return 0;
}

void vgl__metrics_free(struct vgl_metrics *m)
{
	if (!m)
		return;
	free(m->causes.id);
	free(m->causes.cause);
	free(m);
}

static long kind_index(const struct vgl_metrics *m, const char *kind)
{
	if (!kind)
		return -1;
	for (size_t k = 0; k < m->n_kinds; k++)
		if (m->kind[k] == kind || strcmp(m->kind[k], kind) == 0)
			return (long)k;
	return -1;
}

void vgl__metrics_on_poll(struct vgl_metrics *m, const char *kind,
			  const struct vgl_poll_result *r, int64_t now_ms)
{
	long k = m ? kind_index(m, kind) : -1;
	struct kind_stats *ks;
	int64_t lat;
	size_t b = 0;

	if (k < 0)
		return;
	ks = &m->ks[k];
	/* a wall clock stepped back between the start and now: count it
	 * in the first bucket rather than as a huge unsigned latency */
	lat = now_ms - r->ts_ms;
	if (lat < 0)
		lat = 0;
	while (b < N_POLL_BOUNDS && (uint64_t)lat > poll_bounds_ms[b])
		b++;
	ks->buckets[b]++;
	ks->sum_ms += (uint64_t)lat;
	ks->count++;
	if (r->quality != VGL_Q_OK && (unsigned)r->quality < N_QUALITY)
		ks->errors[r->quality]++;
}

static size_t cause_slot(const struct cause_map *c, int64_t id)
{
	uint64_t h = (uint64_t)id * 0x9E3779B97F4A7C15ULL;

	return (size_t)(h >> 20) & (c->cap - 1);
}

static int cause_grow(struct cause_map *c)
{
	size_t cap = c->cap ? c->cap * 2 : 64;
	struct cause_map g = { calloc(cap, sizeof(*g.id)), calloc(cap, 1), cap, 0 };

	if (!g.id || !g.cause) {
		free(g.id);
		free(g.cause);
		return -1;
	}
	for (size_t i = 0; i < c->cap; i++) {
		size_t k;

		if (!c->id[i])
			continue;
		k = cause_slot(&g, c->id[i]);
		while (g.id[k])
			k = (k + 1) & (cap - 1);
		g.id[k] = c->id[i];
		g.cause[k] = c->cause[i];
		g.n++;
	}
	free(c->id);
	free(c->cause);
	*c = g;
	return 0;
}

static void cause_del(struct cause_map *c, int64_t id)
{
	size_t k, j;

	if (!c->cap)
		return;
	for (k = cause_slot(c, id); c->id[k] != id; k = (k + 1) & (c->cap - 1))
		if (!c->id[k])
			return;
	/* backward shift: move up every later entry of the run that may
	 * sit at k, so lookups never stop at a hole before their entry */
	for (j = (k + 1) & (c->cap - 1); c->id[j]; j = (j + 1) & (c->cap - 1)) {
		size_t home = cause_slot(c, c->id[j]);

		if (((j - home) & (c->cap - 1)) >= ((j - k) & (c->cap - 1))) {
			c->id[k] = c->id[j];
			c->cause[k] = c->cause[j];
			k = j;
		}
	}
	c->id[k] = 0;
	c->n--;
}

static int cause_set(struct cause_map *c, int64_t id, int cause)
{
	size_t k;

	if ((c->n + 1) * 2 > c->cap && cause_grow(c) != 0)
		return -1;
	for (k = cause_slot(c, id); c->id[k] && c->id[k] != id; k = (k + 1) & (c->cap - 1))
		;
	if (!c->id[k]) {
		c->id[k] = id;
		c->n++;
	}
	c->cause[k] = (uint8_t)cause;
	return 0;
}

/* The cause recorded for db_id, or NULL. */
static const char *cause_get(const struct cause_map *c, int64_t id)
{
	if (!c->cap)
		return NULL;
	for (size_t k = cause_slot(c, id); c->id[k]; k = (k + 1) & (c->cap - 1))
		if (c->id[k] == id)
			return vgl_cause_str(c->cause[k]);
	return NULL;
}

void vgl__metrics_cause(struct vgl_metrics *m, int64_t db_id, const char *cause)
{
	int idx;

	if (!m || db_id <= 0)
		return;
	if (!cause) {
		cause_del(&m->causes, db_id);
		return;
	}
	idx = vgl_cause_index(cause);
	if (cause_set(&m->causes, db_id, idx >= 0 ? idx : VGL_CAUSE_UNKNOWN) != 0 &&
	    !m->oom_logged) {
		m->oom_logged = 1;
		vgl_warn("metrics: out of memory recording the cause of an open interval; "
			 "vigil_host_unavailable says cause \"unknown\" for it");
	}
}

static void on_restored(void *ctx, int64_t host_id, const char *cause, const char *rule,
			int64_t start_ms)
{
	(void)rule;
	(void)start_ms;
	vgl__metrics_cause(ctx, host_id, cause);
}

int vgl__metrics_restore(struct vgl_metrics *m, struct vgl_store *s)
{
	if (vgl_store_each_open_interval(s, on_restored, m) != 0) {
		vgl_warn("metrics: cannot read the open intervals; those carried over show "
			 "cause \"unknown\" in vigil_host_unavailable");
		return -1;
	}
	return 0;
}

/* ---- text helpers ---------------------------------------------------------- */

size_t vgl__metrics_escape(char *out, size_t cap, const char *s)
{
	size_t n = 0, w = 0;     /* needed, written: an escape is never cut */

	for (; s && *s; s++) {
		const char *e = *s == '\\' ? "\\\\" : *s == '"' ? "\\\"" : *s == '\n' ? "\\n" : NULL;
		size_t l = e ? 2 : 1;

		if (w == n && n + l < cap) {
			memcpy(out + n, e ? e : s, l);
			w += l;
		}
		n += l;
	}
	if (cap)
		out[w] = 0;
	return n;
}

size_t vgl__metrics_number(char *out, double d)
{
	if (isnan(d))
		return (size_t)sprintf(out, "NaN");
	if (isinf(d))
		return (size_t)sprintf(out, d > 0 ? "+Inf" : "-Inf");
	if (d >= -9007199254740992.0 && d <= 9007199254740992.0 && d == (double)(int64_t)d)
		return (size_t)sprintf(out, "%lld", (long long)d);
	/* the shortest of %.15g .. %.17g that reads back as d */
	for (int p = 15; p < 17; p++) {
		int n = sprintf(out, "%.*g", p, d);
		if (strtod(out, NULL) == d)
			return (size_t)n;
	}
	return (size_t)sprintf(out, "%.17g", d);
}

/* Where lines go: a bounded buffer that takes whole lines only. */
struct out {
	char *buf;
	size_t max, len;
	size_t start;           /* of the line being written */
	int over;               /* the line being written did not fit */
	int full;               /* a line did not fit: the call ends */
};

static void put(struct out *o, const char *s, size_t n)
{
	if (o->over)
		return;
	if (n > o->max - o->len) {
		o->over = 1;
		return;
	}
	memcpy(o->buf + o->len, s, n);
	o->len += n;
}

static void put_str(struct out *o, const char *s)
{
	put(o, s, strlen(s));
}

static void put_escaped(struct out *o, const char *s)
{
	const char *run = s;

	for (; s && *s; s++) {
		if (*s != '\\' && *s != '"' && *s != '\n')
			continue;
		put(o, run, (size_t)(s - run));
		put(o, *s == '\\' ? "\\\\" : *s == '"' ? "\\\"" : "\\n", 2);
		run = s + 1;
	}
	if (run)
		put_str(o, run);
}

static void line_begin(struct out *o)
{
	o->start = o->len;
	o->over = 0;
}

/* 1: the line is written, or left out for being longer than a whole
 * buffer; 0: it did not fit, o is full and the line is for the next call. */
static int line_end(struct out *o, int *dropped_logged)
{
	put(o, "\n", 1);
	if (!o->over)
		return 1;
	o->len = o->start;
	o->over = 0;
	if (o->start == 0) {
		if (!*dropped_logged) {
			*dropped_logged = 1;
			vgl_warn("metrics: a line longer than the %zu-byte buffer left out (a "
				 "very long host or metric name?)", o->max);
		}
		return 1;
	}
	o->full = 1;
	return 0;
}

struct label {
	const char *k, *v;
};

static void put_labels(struct out *o, const struct label *ls, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		put(o, i ? "," : "{", 1);
		put_str(o, ls[i].k);
		put(o, "=\"", 2);
		put_escaped(o, ls[i].v ? ls[i].v : "");
		put(o, "\"", 1);
	}
	if (n)
		put(o, "}", 1);
}

/* ---- the daemon-wide part, at render_new ------------------------------------ */

/* A growing text, for the snapshot. */
struct text {
	char *s;
	size_t len, cap;
	int oom;
};

static void t_put(struct text *t, const char *s, size_t n)
{
	if (t->oom)
		return;
	if (t->cap - t->len < n + 1) {
		size_t cap = t->cap ? t->cap : 8192;
		char *g;

		while (cap - t->len < n + 1)
			cap *= 2;
		if (!(g = realloc(t->s, cap))) {
			t->oom = 1;
			return;
		}
		t->s = g;
		t->cap = cap;
	}
	memcpy(t->s + t->len, s, n);
	t->len += n;
	t->s[t->len] = 0;
}

static void t_str(struct text *t, const char *s)
{
	t_put(t, s, strlen(s));
}

static void t_header(struct text *t, const char *name, const char *type, const char *help)
{
	t_str(t, "# HELP ");
	t_str(t, name);
	t_str(t, " ");
	t_str(t, help);
	t_str(t, "\n# TYPE ");
	t_str(t, name);
	t_str(t, " ");
	t_str(t, type);
	t_str(t, "\n");
}

static void t_escaped(struct text *t, const char *s)
{
	for (const char *run = s; s; s++) {
		if (*s && *s != '\\' && *s != '"' && *s != '\n')
			continue;
		t_put(t, run, (size_t)(s - run));
		if (!*s)
			break;
		t_str(t, *s == '\\' ? "\\\\" : *s == '"' ? "\\\"" : "\\n");
		run = s + 1;
	}
}

static void t_sample(struct text *t, const char *name, const char *suffix,
		     const struct label *ls, size_t n, double value)
{
	char num[40];

	t_str(t, name);
	t_str(t, suffix);
	for (size_t i = 0; i < n; i++) {
		t_str(t, i ? "," : "{");
		t_str(t, ls[i].k);
		t_str(t, "=\"");
		t_escaped(t, ls[i].v);
		t_str(t, "\"");
	}
	if (n)
		t_str(t, "}");
	t_str(t, " ");
	vgl__metrics_number(num, value);
	t_str(t, num);
	t_str(t, "\n");
}

static void t_one(struct text *t, const char *name, const char *type, const char *help,
		  double value)
{
	t_header(t, name, type, help);
	t_sample(t, name, "", NULL, 0, value);
}

/* A histogram from non-cumulative bucket counts; bounds in units of
 * 1/scale seconds. */
static void t_histogram(struct text *t, const char *name, const struct label *ls, size_t n,
			const uint64_t *buckets, const uint32_t *bounds, size_t n_bounds,
			double scale, double sum_s, uint64_t count)
{
	struct label l[4];
	char le[40];
	uint64_t cum = 0;

	for (size_t i = 0; i < n; i++)
		l[i] = ls[i];
	l[n].k = "le";
	l[n].v = le;
	for (size_t b = 0; b < n_bounds; b++) {
		cum += buckets[b];
		vgl__metrics_number(le, bounds[b] / scale);
		t_sample(t, name, "_bucket", l, n + 1, (double)cum);
	}
	snprintf(le, sizeof(le), "+Inf");
	t_sample(t, name, "_bucket", l, n + 1, (double)count);
	t_sample(t, name, "_sum", ls, n, sum_s);
	t_sample(t, name, "_count", ls, n, (double)count);
}

static void fixed_head(struct text *t, const struct vigil *v)
{
	struct label ver = { "version", VGL_VERSION };

	t_header(t, "vigil_build_info", "gauge", "Always 1; the version of vigild.");
	t_sample(t, "vigil_build_info", "", &ver, 1, 1);
	t_one(t, "vigil_start_time_seconds", "gauge",
	      "When vigild started, seconds since the epoch.", v->metrics->start_ms / 1000.0);
	t_one(t, "vigil_hosts_configured", "gauge", "Hosts in the configuration.",
	      (double)v->conf->n_hosts);
	t_one(t, "vigil_hosts_polled", "gauge",
	      "Hosts with at least one source handed to a collector.", (double)v->n_polled);
	t_one(t, "vigil_config_reloads_total", "counter",
	      "Configurations a SIGHUP swapped in since start (refused ones not counted).",
	      (double)v->n_reloads);
}

static void fixed_collectors(struct text *t, const struct vigil *v)
{
	static const struct {
		const char *name, *type, *help;
	} fam[] = {
		{ "vigil_collector_polls_total", "counter",
		  "Polls finished by the collector since it started (a reload restarts it)." },
		{ "vigil_collector_timeouts_total", "counter",
		  "Polls finished without an answer." },
		{ "vigil_collector_skipped_total", "counter",
		  "Polls due while the previous poll of the source still ran." },
		{ "vigil_collector_values_total", "counter", "Values delivered with quality ok." },
		{ "vigil_collector_rejected_total", "counter",
		  "Answers not taken (forged, foreign, malformed)." },
		{ "vigil_collector_in_flight", "gauge", "Polls running now." },
		{ "vigil_collector_hosts", "gauge", "Hosts the collector polls." },
	};
	struct vgl_collector_stats st[VGL_MAX_BACKENDS];

	for (size_t k = 0; k < v->n_be; k++)
		v->be[k].ops->stats(v->be[k].be, &st[k]);
	for (size_t f = 0; f < sizeof(fam) / sizeof(fam[0]); f++) {
		t_header(t, fam[f].name, fam[f].type, fam[f].help);
		for (size_t k = 0; k < v->n_be; k++) {
			const struct vgl_collector_stats *s = &st[k];
			struct label l = { "collector", v->be[k].ops->name };
			uint64_t x = f == 0 ? s->polls : f == 1 ? s->timeouts : f == 2 ? s->skipped :
				     f == 3 ? s->values : f == 4 ? s->rejected :
				     f == 5 ? s->in_flight : s->hosts;

			t_sample(t, fam[f].name, "", &l, 1, (double)x);
		}
	}
}

/* A source type is shown once its collector runs or it has polled. */
static int kind_shown(const struct vigil *v, const struct vgl_metrics *m, size_t k)
{
	const char *coll = vgl_conf_backend_at(k)->collector;

	if (m->ks[k].count)
		return 1;
	for (size_t i = 0; i < v->n_be; i++)
		if (strcmp(v->be[i].ops->name, coll) == 0)
			return 1;
	return 0;
}

static void fixed_polls(struct text *t, const struct vigil *v)
{
	const struct vgl_metrics *m = v->metrics;

	t_header(t, "vigil_poll_duration_seconds", "histogram",
		 "From the start of a poll of a source to its result reaching the daemon, "
		 "by source type.");
	for (size_t k = 0; k < m->n_kinds; k++) {
		struct label l = { "kind", m->kind[k] };

		if (kind_shown(v, m, k))
			t_histogram(t, "vigil_poll_duration_seconds", &l, 1, m->ks[k].buckets,
				    poll_bounds_ms, N_POLL_BOUNDS, 1000.0,
				    m->ks[k].sum_ms / 1000.0, m->ks[k].count);
	}
	t_header(t, "vigil_polls_total", "counter", "Poll results received, by source type.");
	for (size_t k = 0; k < m->n_kinds; k++) {
		struct label l = { "kind", m->kind[k] };

		if (kind_shown(v, m, k))
			t_sample(t, "vigil_polls_total", "", &l, 1, (double)m->ks[k].count);
	}
	t_header(t, "vigil_poll_errors_total", "counter",
		 "Poll results that failed, by source type and quality.");
	for (size_t k = 0; k < m->n_kinds; k++) {
		if (!kind_shown(v, m, k))
			continue;
		for (int q = 1; q < N_QUALITY; q++) {
			struct label l[2] = { { "kind", m->kind[k] },
					      { "quality", vgl_quality_name(q) } };
			/* the failures every back end can have, always; the
			 * others once seen */
			int always = q == VGL_Q_TIMEOUT || q == VGL_Q_REFUSED || q == VGL_Q_AUTH ||
				     q == VGL_Q_ERROR;

			if (always || m->ks[k].errors[q])
				t_sample(t, "vigil_poll_errors_total", "", l, 2,
					 (double)m->ks[k].errors[q]);
		}
	}
}

static void fixed_alarms(struct text *t, struct vigil *v, int64_t now)
{
	struct vgl_alarms_stats a;

	(void)vgl__alarms_stats(v, &a);
	t_header(t, "vigil_alarms_active", "gauge", "Alarms raised and not cleared, by severity.");
	for (int s = 0; s < VGL_SEV_COUNT; s++) {
		struct label l = { "severity", vgl_severity_name(s) };

		t_sample(t, "vigil_alarms_active", "", &l, 1, (double)a.by_severity[s]);
	}
	t_one(t, "vigil_alarms_suppressed", "gauge",
	      "Active alarms suppressed by another (the root cause pages).", (double)a.suppressed);
	t_one(t, "vigil_alarms_muted", "gauge",
	      "Active alarms muted by a silence or a maintenance window.", (double)a.muted);
	t_one(t, "vigil_outbox_owed", "gauge", "Notifications committed and not delivered yet.",
	      (double)a.owed);
	t_one(t, "vigil_outbox_in_flight", "gauge", "Notification attempts running now.",
	      (double)a.in_flight);
	t_one(t, "vigil_outbox_oldest_age_seconds", "gauge",
	      "Age of the oldest notification not delivered yet; 0 when none is owed.",
	      a.oldest_owed_ms && now > a.oldest_owed_ms ? (now - a.oldest_owed_ms) / 1000.0 : 0);
	t_one(t, "vigil_notifications_delivered_total", "counter",
	      "Notifications delivered since start.", (double)a.delivered);
	t_one(t, "vigil_notification_attempts_failed_total", "counter",
	      "Notification attempts that failed (each is retried) since start.",
	      (double)a.attempts_failed);
}

static void fixed_store(struct text *t, const struct vigil *v)
{
	struct vgl_store_stats s;

	vgl_store_get_stats(v->store, &s);
	t_one(t, "vigil_store_queue_length", "gauge", "Writes queued for the database writer.",
	      (double)s.queued);
	t_one(t, "vigil_store_samples_dropped_total", "counter",
	      "Poll and counter writes dropped because the queue was full.",
	      (double)s.samples_dropped);
	t_one(t, "vigil_store_batches_committed_total", "counter",
	      "Write batches committed.", (double)s.batches_committed);
	t_one(t, "vigil_store_batches_failed_total", "counter",
	      "Write batches rolled back (each is retried).", (double)s.batches_failed);
	t_one(t, "vigil_store_transitions_committed_total", "counter",
	      "Interval opens and closes committed.", (double)s.transitions_committed);
	t_header(t, "vigil_store_commit_duration_seconds", "histogram",
		 "BEGIN to COMMIT of each committed batch.");
	t_histogram(t, "vigil_store_commit_duration_seconds", NULL, 0, s.commit_buckets,
		    vgl_store_commit_bounds_us, VGL_STORE_COMMIT_BOUNDS, 1e6,
		    s.commit_us_sum / 1e6, s.batches_committed);
	t_one(t, "vigil_store_batch_lag_seconds", "gauge",
	      "Age of the oldest write queued and not committed yet; 0 when none waits.",
	      s.oldest_queued_ms / 1000.0);
}

/* ---- the per-host part ---------------------------------------------------------- */

enum sec { SEC_FIXED, SEC_HOST_UP, SEC_UNAVAILABLE, SEC_VALUE, SEC_NOT_OK, SEC_END };

static const struct {
	const char *name, *type, *help;
} host_fam[] = {
	[SEC_HOST_UP] = { "vigil_host_up", "gauge",
			  "1 while the host has no open Unavailable interval, 0 while it has; "
			  "absent until its first poll." },
	[SEC_UNAVAILABLE] = { "vigil_host_unavailable", "gauge",
			      "1 while the host has an open Unavailable interval (cause: as "
			      "vigild recorded it), else 0." },
	[SEC_VALUE] = { "vigil_value", "gauge",
			"The latest value of each metric whose quality is ok." },
	[SEC_NOT_OK] = { "vigil_value_not_ok", "gauge",
			 "1 for each polled metric whose latest quality is not ok (no "
			 "vigil_value line then)." },
};

struct vgl_metrics_render {
	const struct vgl_conf *conf;
	char *fixed;            /* the daemon-wide part */
	size_t fixed_len, fixed_off;
	enum sec sec;
	size_t unit;            /* 0: the family's HELP and TYPE; i + 1: host i */
	size_t sub;             /* lines of the header, or the metric, written */
	int dropped_logged;
};

int vgl__metrics_render_new(struct vigil *v, struct vgl_metrics_render **out)
{
	struct vgl_metrics_render *r = calloc(1, sizeof(*r));
	struct text t = { 0 };

	*out = NULL;
	if (!r)
		return -ENOMEM;
	fixed_head(&t, v);
	fixed_collectors(&t, v);
	fixed_polls(&t, v);
	fixed_alarms(&t, v, vgl_now_ms());
	fixed_store(&t, v);
	if (t.oom) {
		free(t.s);
		free(r);
		return -ENOMEM;
	}
	r->conf = v->conf;
	r->fixed = t.s;
	r->fixed_len = t.len;
	*out = r;
	return 0;
}

void vgl__metrics_render_free(struct vgl_metrics_render *r)
{
	if (!r)
		return;
	free(r->fixed);
	free(r);
}

/* Whole lines of the snapshot, as many as fit. */
static void copy_fixed(struct vgl_metrics_render *r, struct out *o)
{
	while (r->fixed_off < r->fixed_len && !o->full) {
		const char *s = r->fixed + r->fixed_off;
		const char *nl = memchr(s, '\n', r->fixed_len - r->fixed_off);
		size_t n = (size_t)(nl - s) + 1;

		line_begin(o);
		put(o, s, n - 1);
		if (line_end(o, &r->dropped_logged))
			r->fixed_off += n;
	}
}

/* A host's own sources have polled, or, for a host without any (judged by
 * the topology alone), a device feeding it or that it depends on has. */
static int values_polled(const struct host_rt *h, const struct vgl_conf_host *ch)
{
	const struct vgl_values *t = vgl_avail_values(h->avail);

	for (size_t j = 0; j < ch->profile->n_metrics; j++)
		if (vgl_values_ts(t, j))
			return 1;
	return 0;
}

static int host_known(const struct vigil *v, size_t i)
{
	const struct vgl_conf_host *ch = &v->conf->hosts[i];

	if (values_polled(&v->hosts[i], ch))
		return 1;
	if (ch->profile->n_sources)
		return 0;
	for (uint32_t f = 0; f < ch->n_feeds; f++)
		if (values_polled(&v->hosts[ch->feeds[f].host], &v->conf->hosts[ch->feeds[f].host]))
			return 1;
	for (uint32_t d = 0; d < ch->n_depends; d++)
		if (values_polled(&v->hosts[ch->depends_on[d]], &v->conf->hosts[ch->depends_on[d]]))
			return 1;
	return 0;
}

static void host_line(struct vgl_metrics_render *r, struct out *o, const char *name,
		      const struct label *ls, size_t n, const char *value)
{
	line_begin(o);
	put_str(o, name);
	put_labels(o, ls, n);
	put(o, " ", 1);
	put_str(o, value);
	if (line_end(o, &r->dropped_logged))
		r->sub++;
}

/* The lines of host i in family r->sec from r->sub on (a metric index
 * for the value families); r->sub moves past each line written. */
static void host_lines(struct vgl_metrics_render *r, struct vigil *v, size_t i, struct out *o)
{
	const struct vgl_conf_host *ch = &v->conf->hosts[i];
	const struct host_rt *h = &v->hosts[i];
	const char *name = host_fam[r->sec].name;
	int open = h->avail && vgl_avail_is_open(h->avail);

	if (!h->avail)
		return;
	if (r->sec == SEC_HOST_UP || r->sec == SEC_UNAVAILABLE) {
		struct label l[3] = { { "host", ch->name }, { "site", ch->site }, { "cause", NULL } };
		const char *cause;

		if (r->sub)
			return;
		if (r->sec == SEC_HOST_UP) {
			if (open || host_known(v, i))
				host_line(r, o, name, l, 2, open ? "0" : "1");
			return;
		}
		if (!open) {
			host_line(r, o, name, l, 2, "0");
			return;
		}
		cause = cause_get(&v->metrics->causes, h->db_id);
		l[2].v = cause ? cause : "unknown";
		host_line(r, o, name, l, 3, "1");
		return;
	}
	{
		const struct vgl_conf_profile *p = ch->profile;
		const struct vgl_values *t = vgl_avail_values(h->avail);
		const struct vgl_value *val = vgl_values_all(t);

		for (; r->sub < p->n_metrics && !o->full;) {
			size_t j = r->sub;
			const struct vgl_conf_metric *cm = &p->metrics[j];
			struct label l[4] = { { "host", ch->name }, { "metric", cm->name },
					      { "source", p->sources[cm->source].name },
					      { "quality", vgl_quality_name(val[j].q) } };
			char num[40];

			if (!vgl_values_ts(t, j) || (val[j].q == VGL_Q_OK) != (r->sec == SEC_VALUE)) {
				r->sub++;
				continue;
			}
			if (r->sec == SEC_VALUE) {
				vgl__metrics_number(num, val[j].v);
				host_line(r, o, name, l, 3, num);
			} else {
				host_line(r, o, name, l, 4, "1");
			}
		}
	}
}

static void header_lines(struct vgl_metrics_render *r, struct out *o)
{
	const char *name = host_fam[r->sec].name;

	if (r->sub == 0) {
		line_begin(o);
		put_str(o, "# HELP ");
		put_str(o, name);
		put(o, " ", 1);
		put_str(o, host_fam[r->sec].help);
		if (line_end(o, &r->dropped_logged))
			r->sub++;
	}
	if (r->sub == 1 && !o->full) {
		line_begin(o);
		put_str(o, "# TYPE ");
		put_str(o, name);
		put(o, " ", 1);
		put_str(o, host_fam[r->sec].type);
		if (line_end(o, &r->dropped_logged))
			r->sub++;
	}
}

/* A comment line (the text format ignores it) standing for hosts that
 * had no line of the family; 0 when even that does not fit. */
static int yield_comment(struct vgl_metrics_render *r, struct out *o, size_t scanned)
{
	char c[96];
	int n = snprintf(c, sizeof(c), "# %zu hosts without a %s line\n", scanned,
			 host_fam[r->sec].name);

	if (n <= 0 || (size_t)n > o->max)
		return 0;
	put(o, c, (size_t)n);
	return 1;
}

long vgl__metrics_render_next(struct vgl_metrics_render *r, struct vigil *v, char *buf,
			      size_t max)
{
	struct out o = { .buf = buf, .max = max };
	size_t visited = 0;

	if (v->conf != r->conf)
		return -1;
	if (r->sec == SEC_FIXED) {
		copy_fixed(r, &o);
		if (o.full)
			return (long)o.len;
		r->sec = SEC_HOST_UP;
	}
	while (r->sec < SEC_END && !o.full) {
		size_t n = v->conf->n_hosts;

		for (; r->unit <= n; r->unit++, r->sub = 0) {
			/* the bound; a call that found nothing to write yet
			 * goes on, since 0 would mean the end, up to a
			 * larger bound and then says so in a comment (a
			 * family most hosts have no line of) */
			if (visited >= HOSTS_PER_CALL && o.len)
				return (long)o.len;
			if (visited >= SCAN_PER_CALL && !o.len && yield_comment(r, &o, visited))
				return (long)o.len;
			if (r->unit == 0) {
				header_lines(r, &o);
				if (o.full)
					return (long)o.len;
				continue;
			}
			host_lines(r, v, r->unit - 1, &o);
			if (o.full)
				return (long)o.len;
			visited++;
		}
		r->sec++;
		r->unit = 0;
		r->sub = 0;
	}
	return (long)o.len;
}
