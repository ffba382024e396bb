/* Redfish collector, the loop side. This file: the collector interface
 * (collectors/collector.h), scheduling, results and their logs. Each BMC's
 * poll as a sequence of HTTPS requests: collectors/redfish_poll.c; the
 * discovery it keeps: collectors/redfish_discover.c. The requests go
 * through libcurl's multi-socket API on the loop: collectors/redfish_http.c.
 * What a resource means: collectors/redfish_parse.c, the event log
 * collectors/redfish_log.c (no I/O, unit-tested). Shared:
 * collectors/redfish_int.h.
 *
 * A poll, when the shared scheduler (collectors/sched.h) says the source is
 * due, walks these steps in order; each either needs nothing (its result is
 * kept from an earlier poll) or sends one request and continues when the
 * answer is in:
 *
 *   discovery (once, redone when a known path answers 404 or the service
 *   root's UUID changes):
 *     ROOT       GET /redfish/v1/: Systems, Chassis, Managers, sessions,
 *                ProtocolFeaturesSupported ($expand, $skip)
 *     SESSSVC    the Sessions URL (Links.Sessions, else SessionService.Sessions)
 *     LOGIN      session auth: POST {"UserName","Password"} -> X-Auth-Token
 *     SYSTEMS    the Systems collection's first member
 *   every poll:
 *     SYSTEM     GET the System: PowerState, Status (the poll is OK once
 *                this answered)
 *   discovery, continued (a failure here leaves the poll OK):
 *     LOGSVCS    the System's LogServices, candidates ranked by name
 *     LOGSVC     GET candidates until a SEL (or the best) -> Entries
 *     MANAGER    no log under the System: the Manager's LogServices
 *     CHASSIS_COLL, CHASSIS   Links.Chassis[0], else the first member:
 *                Thermal, Power, ThermalSubsystem, PowerSubsystem, Sensors
 *     TSUB, PSUB ThermalMetrics and Fans; PowerSupplies (new model only)
 *   every poll:
 *     LOG        the Entries pages after the cursor (redfish_log.h)
 *     LOG_FETCH  new entries that were only links
 *     THERMAL, POWER, TMETRICS   the primary sensor resources
 *     SENSORS    the Sensors collection expanded, when the service offers
 *                $expand and there is no legacy Thermal/Power
 *     WANT       a named sensor found earlier as a member resource: GET it
 *     SCAN       names still unknown: Sensors, Fans, PowerSupplies members
 *                read one by one until found (kept across polls)
 * A query the BMC refuses ($expand, $skip: HTTP 400, 404 or 501) is not
 * used with it again: some services claim in ProtocolFeaturesSupported
 * what they do not do. $skip is also used when the service's own
 * nextLinks use it.
 *
 * Deadline: a poll must end within the source's timeout_ms. Its deadline is
 * fixed when it starts; each request gets CURLOPT_TIMEOUT_MS (and
 * CONNECTTIMEOUT_MS) = what is left, and no request starts after it. A BMC
 * that answers late or never only ever holds its own poll: every transfer
 * is in the one multi handle, nothing waits on it.
 *
 * Quality: OK when the System answered; else the failure's (TIMEOUT,
 * REFUSED, AUTH for 401 after a fresh login or 403, ERROR with curl's
 * reason or "not JSON at byte N"); the detail names the request's path.
 * An optional resource that failed after that leaves the poll OK: values
 * it would have given carry that failure's quality, and the detail says it.
 *
 * Close: results stop at once; transfers are removed from the multi; each
 * BMC with a session gets a best-effort DELETE of it (at most RF_LOGOUT_MS,
 * all at once: a BMC has few session slots and a reload must not leak
 * one); then the easy handles, the multi and every uv handle go, and done
 * runs once the last one is closed.
 */
#include "collectors/redfish_int.h"

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/log.h"

static int64_t wall_ms(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
		return 0;
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void vgl__rf_log(const struct rf_bmc *b, enum vgl_log_level lvl, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (lvl == VGL_LOG_DEBUG && !vgl_log_debug_enabled())
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	vgl_log(lvl, "host %s source %s: %s", b->host, b->src, msg);
}

/* ---- results ---------------------------------------------------------------- */

static void queue_done(struct rf_bmc *b)
{
	struct vgl_redfish *rf = b->rf;

	b->busy = 0;
	b->next_done = NULL;
	if (rf->doneq_tail)
		rf->doneq_tail->next_done = b;
	else
		rf->doneq = b;
	rf->doneq_tail = b;
}

/* The poll failed as a whole: every value with its quality. */
void vgl__rf_fail(struct rf_bmc *b, enum vgl_quality q, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(b->detail, sizeof(b->detail), fmt, ap);
	va_end(ap);
	b->q = q;
	b->sys_ok = 0;
	for (uint32_t i = 0; i < b->n_values; i++)
		b->values[i] = (struct vgl_value){ 0, q };
	queue_done(b);
}

/* A resource after the System failed: the first such failure is kept. */
void vgl__rf_part_fail(struct rf_bmc *b, enum vgl_quality q, const char *fmt, ...)
{
	va_list ap;

	if (b->part_q != VGL_Q_OK)
		return;
	va_start(ap, fmt);
	vsnprintf(b->part_detail, sizeof(b->part_detail), fmt, ap);
	va_end(ap);
	b->part_q = q;
}

static double want_value(const struct rf_bmc *b, const struct vgl_bmc_metric *m,
			 enum vgl_quality *q)
{
	const struct vgl_rf_reading *r;
	enum vgl_quality missing = b->part_q != VGL_Q_OK ? b->part_q : VGL_Q_ABSENT;

	*q = VGL_Q_OK;
	switch (m->read) {
	case VGL_BMC_READ_POWER:
		if (b->sys.power == VGL_BMC_POWER_UNKNOWN)
			break;
		return b->sys.power == VGL_BMC_POWER_ON;
	case VGL_BMC_READ_HEALTH:
		if (b->status.health == VGL_BMC_UNKNOWN)
			break;
		return b->status.health;
	case VGL_BMC_READ_SENSOR:
		r = vgl_rf_readings_find(&b->rd, m->sensor, VGL_RF_NEED_VALUE);
		if (r && r->has_value)
			return r->value;
		*q = missing;
		return 0;
	case VGL_BMC_READ_SENSOR_STATE:
		r = vgl_rf_readings_find(&b->rd, m->sensor, VGL_RF_NEED_STATE);
		if (r && r->state != VGL_BMC_UNKNOWN)
			return r->state;
		*q = missing;
		return 0;
	case VGL_BMC_READ_SEL_ENTRIES:
		if (b->log_done)
			return (double)b->n_new;
		*q = b->log_state == LOG_NONE ? VGL_Q_ABSENT : b->log_q != VGL_Q_OK ? b->log_q
											 : missing;
		return 0;
	}
	*q = VGL_Q_ABSENT;
	return 0;
}

void vgl__rf_finish(struct rf_bmc *b)
{
	struct vgl_bmc_status *st = &b->status;
	const char *worst = NULL;
	int sensors = vgl_rf_readings_worst(&b->rd, &worst);
	size_t n = 0;

	memset(st, 0, sizeof(*st));
	b->q = VGL_Q_OK;
	st->power = b->sys.power;
	st->health = b->sys.health > sensors ? b->sys.health : sensors;
	st->worst_sensor = sensors == st->health && sensors > VGL_BMC_OK ? worst : NULL;
	if (b->log_done) {
		const struct vgl_rf_logresult *lr = &b->lr;

		if (b->emit_cleared || lr->cleared) {
			if (b->emit_cleared)
				snprintf(b->cleared_text, sizeof(b->cleared_text),
					 "BMC replaced (service root UUID changed): its event log "
					 "is read afresh");
			else
				snprintf(b->cleared_text, sizeof(b->cleared_text),
					 "event log cleared or wrapped: %lld entries now, %llu "
					 "read before (up to Id %llu)", (long long)b->scan->total,
					 (unsigned long long)b->scan->from.count,
					 (unsigned long long)b->scan->from.last_id);
			b->ev[n++] = (struct vgl_bmc_event){ 0, 0, VGL_BMC_EV_CLEARED,
							     b->cleared_text };
		}
		b->n_new = 0;
		for (size_t i = 0; i < lr->n; i++) {
			if (lr->e[i].link_only)
				continue;       /* could not be read */
			b->ev[n++] = (struct vgl_bmc_event){ lr->e[i].id, lr->e[i].ts_ms,
							     lr->e[i].cls, lr->e[i].text };
			b->n_new++;
		}
		st->n_events = n;
		st->events = n ? b->ev : NULL;
		if (lr->changed) {
			b->cur = lr->cursor;
			vgl_rf_cursor_format(&b->cur, b->cursor_text, sizeof(b->cursor_text));
			st->cursor = b->cursor_text;
		}
		if (lr->left)
			vgl__rf_log(b, VGL_LOG_DEBUG, "%llu new log entries left for the next poll",
				(unsigned long long)lr->left);
	}
	for (uint32_t i = 0; i < b->n_values; i++) {
		enum vgl_quality q = VGL_Q_ABSENT;
		double v = b->mm[i] ? want_value(b, b->mm[i], &q) : 0;
		b->values[i] = (struct vgl_value){ q == VGL_Q_OK ? v : 0, q };
	}
	snprintf(b->detail, sizeof(b->detail), "%s", b->part_q != VGL_Q_OK ? b->part_detail : "");
	queue_done(b);
}

static void cleanup_poll(struct rf_bmc *b)
{
	free(b->scan);
	b->scan = NULL;
	vgl_rf_readings_clear(&b->rd);
	if (b->body_cap > (256u << 10)) {
		free(b->body);
		b->body = NULL;
		b->body_cap = b->body_len = 0;
	}
}

static void deliver(struct vgl_redfish *rf, struct rf_bmc *b)
{
	struct vgl_poll_result res = {
		.host = b->host_idx, .source = b->source, .ts_ms = b->start_ms, .quality = b->q,
		.n_values = b->n_values, .values = b->values, .metrics = b->metrics,
		.detail = b->detail[0] ? b->detail : NULL, .interval_ms = b->interval_ms,
		.bmc = b->q == VGL_Q_OK ? &b->status : NULL,
	};

	rf->st.polls++;
	rf->st.timeouts += b->q == VGL_Q_TIMEOUT;
	for (uint32_t i = 0; i < b->n_values; i++)
		rf->st.values += b->values[i].q == VGL_Q_OK;
	/* as every back end: once when it starts failing, once when it is back */
	if (b->q != VGL_Q_OK) {
		vgl__rf_log(b, b->failing ? VGL_LOG_DEBUG : VGL_LOG_WARNING, "poll failed (%s): %s",
			vgl_quality_name(b->q), b->detail);
		b->failing = 1;
	} else if (b->failing) {
		vgl__rf_log(b, VGL_LOG_NOTICE, "answers again");
		b->failing = 0;
	}
	if (b->q == VGL_Q_OK && b->log_done)
		b->emit_cleared = 0;
	rf->fn(rf->ctx, &res);
	cleanup_poll(b);
}

void vgl__rf_settle(struct vgl_redfish *rf)
{
	if (rf->draining)
		return;
	rf->draining = 1;
	while (!rf->closing && rf->doneq) {
		struct rf_bmc *b = rf->doneq;

		rf->doneq = b->next_done;
		if (!rf->doneq)
			rf->doneq_tail = NULL;
		deliver(rf, b);
	}
	rf->draining = 0;
}

/* ---- scheduling ----------------------------------------------------------------- */

static void on_due(void *ctx, struct vgl_sched_entry *e)
{
	struct rf_bmc *b = (struct rf_bmc *)((char *)e - offsetof(struct rf_bmc, se));
	struct vgl_redfish *rf = ctx;

	if (rf->closing)
		return;
	if (b->busy) {
		rf->st.skipped++;
		vgl__rf_log(b, VGL_LOG_DEBUG, "previous poll still running; skipped");
		return;
	}
	b->start_ms = wall_ms();
	vgl__rf_poll_begin(b);
}

static void on_tick(void *ctx)
{
	vgl__rf_settle(ctx);
}

/* ---- the collector interface ------------------------------------------------------- */

static int be_create(uv_loop_t *loop, const struct vgl_conf *conf, vgl_poll_fn *fn, void *ctx,
		     void **out)
{
	struct vgl_redfish *rf;
	int rc;

	(void)conf;
	*out = NULL;
	if (!loop || !fn)
		return -EINVAL;
	if (!(rf = calloc(1, sizeof(*rf))))
		return -ENOMEM;
	rf->loop = loop;
	rf->fn = fn;
	rf->ctx = ctx;
	if ((rc = vgl_sched_new(loop, on_due, on_tick, rf, &rf->sched)) != 0) {
		free(rf);
		return rc;
	}
	rf->open = 1;           /* the scheduler */
	if ((rc = vgl__rf_http_open(rf)) != 0) {
		vgl_sched_close(rf->sched, NULL, NULL);  /* no group yet: at once */
		free(rf);
		return rc;
	}
	*out = rf;
	return 0;
}

static void bmc_free(struct rf_bmc *b)
{
	if (!b)
		return;
	if (b->token)
		explicit_bzero(b->token, strlen(b->token));
	free(b->token);
	if (b->post) {
		explicit_bzero(b->post, strlen(b->post));
		cJSON_free(b->post);
	}
	vgl__rf_scan_list_free(b);
	free(b->scan);
	vgl_rf_readings_free(&b->rd);
	free(b->body);
	free(b->values);
	free(b->mm);
	free(b->wants);
	free(b);
}

static int make_base(struct rf_bmc *b, const char *addr, unsigned port)
{
	char host[96];
	size_t n = 0;

	if (strchr(addr, ':') && addr[0] != '[') {
		/* an IPv6 literal, its zone's '%' escaped */
		host[n++] = '[';
		for (const char *p = addr; *p && n + 4 < sizeof(host); p++) {
			if (*p == '%') {
				memcpy(host + n, "%25", 3);
				n += 3;
			} else {
				host[n++] = *p;
			}
		}
		host[n++] = ']';
		host[n] = 0;
	} else if (strlen(addr) < sizeof(host)) {
		snprintf(host, sizeof(host), "%s", addr);
	} else {
		return -1;
	}
	return snprintf(b->base, sizeof(b->base), "https://%s:%u", host, port) <
	       (int)sizeof(b->base) ? 0 : -1;
}

static int be_add_source(void *be, uint32_t host_idx, const struct vgl_conf_host *host,
			 uint32_t source)
{
	struct vgl_redfish *rf = be;
	const struct vgl_conf_profile *pr = host->profile;
	const struct vgl_conf_source *src;
	const struct vgl_bmc_source *spec;
	struct rf_bmc *b;
	int rc;

	if (rf->closing || source >= pr->n_sources ||
	    pr->sources[source].be != &vgl_redfish_conf_backend) {
		vgl_err("host %s: source %u is not a redfish source", host->name, (unsigned)source);
		return -EINVAL;
	}
	src = &pr->sources[source];
	spec = src->spec;
	if (!spec || !(spec->address || host->address)) {
		vgl_err("host %s source %s: no BMC address", host->name, src->name);
		return -EINVAL;
	}
	if (rf->n_bmcs == rf->cap_bmcs) {
		size_t cap = rf->cap_bmcs ? rf->cap_bmcs * 2 : 32;
		struct rf_bmc **nb = realloc(rf->bmcs, cap * sizeof(*nb));
		if (!nb)
			return -ENOMEM;
		rf->bmcs = nb;
		rf->cap_bmcs = cap;
	}
	if (!(b = calloc(1, sizeof(*b))))
		return -ENOMEM;
	b->rf = rf;
	b->host = host->name;
	b->src = src->name;
	b->host_idx = host_idx;
	b->source = source;
	b->interval_ms = src->interval_ms;
	b->timeout_ms = src->timeout_ms ? src->timeout_ms : 10000;
	b->spec = spec;
	b->n_values = (uint32_t)src->n_metrics;
	b->metrics = src->metrics;
	b->resume_step = -1;
	rc = -ENOMEM;
	if (!(b->values = calloc(b->n_values ? b->n_values : 1, sizeof(*b->values))) ||
	    !(b->mm = calloc(b->n_values ? b->n_values : 1, sizeof(*b->mm))) ||
	    !(b->wants = calloc(b->n_values ? b->n_values : 1, sizeof(*b->wants))))
		goto fail;
	for (uint32_t i = 0; i < b->n_values; i++) {
		const struct vgl_bmc_metric *m = pr->metrics[b->metrics[i]].spec;
		int need;
		size_t k;

		b->mm[i] = m;
		if (!m || !m->sensor || (m->read != VGL_BMC_READ_SENSOR &&
					 m->read != VGL_BMC_READ_SENSOR_STATE))
			continue;
		need = m->read == VGL_BMC_READ_SENSOR ? VGL_RF_NEED_VALUE : VGL_RF_NEED_STATE;
		for (k = 0; k < b->n_wants && strcmp(b->wants[k].name, m->sensor) != 0; k++)
			;
		if (k == b->n_wants)
			b->wants[b->n_wants++].name = m->sensor;
		b->wants[k].need |= need;
	}
	if (make_base(b, spec->address ? spec->address : host->address,
		      spec->port ? spec->port : 443) != 0) {
		vgl_err("host %s source %s: address too long", host->name, src->name);
		rc = -EINVAL;
		goto fail;
	}
	if ((rc = vgl__rf_easy_new(b)) != 0)
		goto fail;
	if (!spec->tls_verify)
		vgl_warn("host %s source %s: TLS verification OFF (tls_verify false)", host->name,
			 src->name);
	if ((rc = vgl_sched_add(rf->sched, &b->se, b->interval_ms, host_idx)) != 0) {
		vgl_err("host %s source %s: cannot be scheduled: %s", host->name, src->name,
			uv_strerror(rc));
		goto fail;
	}
	rf->bmcs[rf->n_bmcs++] = b;
	/* the multi's cache keeps one idle connection per BMC between polls */
	if (curl_multi_setopt(rf->multi, CURLMOPT_MAXCONNECTS, (long)rf->n_bmcs + 16) != CURLM_OK)
		vgl_warn("redfish: CURLMOPT_MAXCONNECTS refused; connections may be reopened");
	return 0;
fail:
	if (b->easy)
		curl_easy_cleanup(b->easy);
	bmc_free(b);
	return rc;
}

static void be_set_cursor(void *be, uint32_t host_idx, uint32_t source, const char *cursor)
{
	struct vgl_redfish *rf = be;
	struct vgl_rf_cursor c;

	for (size_t i = 0; i < rf->n_bmcs; i++) {
		struct rf_bmc *b = rf->bmcs[i];
		if (b->host_idx != host_idx || b->source != source)
			continue;
		if (vgl_rf_cursor_parse(cursor, &c) != 0) {
			vgl__rf_log(b, VGL_LOG_DEBUG, "stored cursor \"%s\" ignored (not "
				    "rf1:ID:COUNT): the log is read afresh", cursor ? cursor : "");
			return;
		}
		b->cur = c;
		return;
	}
}

static void be_stats(const void *be, struct vgl_collector_stats *out)
{
	const struct vgl_redfish *rf = be;

	*out = rf->st;
	out->in_flight = 0;
	for (size_t i = 0; i < rf->n_bmcs; i++)
		out->in_flight += rf->bmcs[i]->busy != 0;
	out->hosts = (uint32_t)rf->n_bmcs;
	if (rf->sched)
		out->skipped += vgl_sched_missed(rf->sched);
}

static void maybe_finish(struct vgl_redfish *rf)
{
	void (*done)(void *) = rf->done;
	void *ctx = rf->done_ctx;

	if (!rf->torn_down || rf->open)
		return;
	vgl_debug("redfish: closed after %llu requests, %llu logins",
		  (unsigned long long)rf->requests, (unsigned long long)rf->logins);
	for (size_t i = 0; i < rf->n_bmcs; i++)
		bmc_free(rf->bmcs[i]);
	free(rf->bmcs);
	free(rf);
	if (done)
		done(ctx);
}

void vgl__rf_handle_closed(struct vgl_redfish *rf)
{
	rf->open--;
	maybe_finish(rf);
}

static void sched_closed(void *ctx)
{
	vgl__rf_handle_closed(ctx);
}

static void be_close(void *be, void (*done)(void *ctx), void *ctx)
{
	struct vgl_redfish *rf = be;

	if (!rf || rf->closing)
		return;
	rf->closing = 1;
	rf->done = done;
	rf->done_ctx = ctx;
	rf->doneq = rf->doneq_tail = NULL;
	vgl_sched_close(rf->sched, sched_closed, rf);
	rf->sched = NULL;
	for (size_t i = 0; i < rf->n_bmcs; i++) {
		struct rf_bmc *b = rf->bmcs[i];

		vgl__rf_cancel(b);
		b->busy = 0;
		if (!b->token || !b->session[0] || !b->easy)
			continue;
		/* best effort, bounded: the BMC's session slot back */
		if (vgl__rf_send(b, RF_DELETE, b->session, NULL, RF_LOGOUT_MS) == 0) {
			b->logout = 1;
			rf->logouts++;
		}
	}
	if (!rf->logouts) {
		rf->torn_down = 1;
		vgl__rf_http_close(rf);
	}
	maybe_finish(rf);
}

const struct vgl_collector_ops vgl_redfish_collector = {
	.name = "redfish",
	.create = be_create,
	.add_source = be_add_source,
	.set_cursor = be_set_cursor,
	.stats = be_stats,
	.close = be_close,
};
