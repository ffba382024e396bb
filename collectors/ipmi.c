/* IPMI collector, the loop side: BMC sources, their jobs in libuv's
 * threadpool, results. One poll of one BMC is one job (collectors/
 * ipmi_io.c with ipmi_sdr.c and ipmi_sel.c: FreeIPMI, blocking, bounded
 * by the source's timeout).
 *
 * A BMC's poll, when due (collectors/sched.c):
 *
 *   IDLE --due--> QUEUED (in a lane) --a job slot frees--> RUNNING
 *     ^                                                       |
 *     +------------------ after_work: result delivered -------+
 *
 * A poll due while the previous one is not back is skipped and counted,
 * as in every back end: one session per BMC at a time.
 *
 * Lanes, as in the Modbus collector: jobs start from the answering lane
 * first; BMCs that have not answered since they were added or last failed
 * go to the suspect lane, which may hold at most max_jobs - 1 jobs. A BMC
 * that stops answering holds one thread for at most its timeout, and
 * never all of them, so the answering BMCs keep their schedule. The
 * collector as a whole takes at most half the threadpool (at least two
 * threads), leaving the rest to the other back ends that block (Modbus)
 * and to a reload's workers.
 *
 * Re-entrancy: results reach fn from after_work; fn may close the
 * collector, and nothing touches it after that but the close's own
 * bookkeeping.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <uv.h>

#include "collectors/bmc_conf.h"
#include "collectors/collector.h"
#include "collectors/ipmi_io.h"
#include "collectors/sched.h"
#include "core/bmc.h"
#include "core/log.h"

enum bmc_state { B_IDLE, B_QUEUED, B_RUNNING };

struct ipmi_src {
	struct vgl_sched_entry se;
	struct ipmi_col *owner;
	struct ipmi_src *next;          /* in a lane */
	uv_work_t work;
	enum bmc_state state;
	int suspect;                    /* not answered since added or since it failed */
	int failing;                    /* the last poll failed (logged once per run) */
	uint32_t host_idx, source;
	const char *host_name;
	struct vgl_ipmi_target t;
	struct vgl_ipmi_bmc *io;
	struct vgl_ipmi_reading *rd;
	int64_t start_ms;
	uint32_t interval_ms;
	uint32_t n_values;
	const uint32_t *metrics;        /* profile metric indexes */
	const struct vgl_conf_metric *pm;
	struct vgl_value *values;
	char *cursor;                   /* as last delivered (or restored) */
};

struct lane {
	struct ipmi_src *head, *tail;
};

struct ipmi_col {
	uv_loop_t *loop;
	vgl_poll_fn *fn;
	void *ctx;
	struct vgl_sched *sched;
	struct ipmi_src **srcs;
	size_t n_srcs, cap_srcs;
	struct lane ok, suspect;
	uint32_t max_jobs, max_suspect, running, running_suspect;
	struct vgl_collector_stats st;
	int closing, sched_closed;
	void (*done)(void *);
	void *done_ctx;
};

static int64_t wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void lane_push(struct lane *l, struct ipmi_src *s)
{
	s->next = NULL;
	if (l->tail)
		l->tail->next = s;
	else
		l->head = s;
	l->tail = s;
}

static struct ipmi_src *lane_pop(struct lane *l)
{
	struct ipmi_src *s = l->head;

	if (s) {
		l->head = s->next;
		if (!l->head)
			l->tail = NULL;
		s->next = NULL;
	}
	return s;
}

static void src_free(struct ipmi_src *s)
{
	if (!s)
		return;
	vgl_ipmi_bmc_free(s->io);
	free(s->rd);
	free(s->values);
	free(s->cursor);
	free(s);
}

static void maybe_done(struct ipmi_col *c)
{
	if (!c->closing || !c->sched_closed || c->running)
		return;
	for (size_t i = 0; i < c->n_srcs; i++)
		src_free(c->srcs[i]);
	free(c->srcs);
	if (c->done)
		c->done(c->done_ctx);
	free(c);
}

/* ---- results ---------------------------------------------------------------- */

static const struct vgl_ipmi_sensor *find_sensor(const struct vgl_ipmi_reading *rd,
						 const char *name)
{
	for (size_t i = 0; i < rd->n_sensors; i++)
		if (strcmp(rd->sensors[i].name, name) == 0)
			return &rd->sensors[i];
	return NULL;
}

static void fill_values(struct ipmi_src *s, int health, size_t n_new)
{
	const struct vgl_ipmi_reading *rd = s->rd;

	for (uint32_t i = 0; i < s->n_values; i++) {
		const struct vgl_bmc_metric *m = s->pm[s->metrics[i]].spec;
		const struct vgl_ipmi_sensor *sn;
		struct vgl_value *v = &s->values[i];

		*v = (struct vgl_value){ 0, VGL_Q_ABSENT };
		switch (m->read) {
		case VGL_BMC_READ_POWER:
			if (rd->power != VGL_BMC_POWER_UNKNOWN)
				*v = (struct vgl_value){ rd->power == VGL_BMC_POWER_ON, VGL_Q_OK };
			break;
		case VGL_BMC_READ_HEALTH:
			if (health != VGL_BMC_UNKNOWN)
				*v = (struct vgl_value){ health, VGL_Q_OK };
			break;
		case VGL_BMC_READ_SENSOR:
			if ((sn = find_sensor(rd, m->sensor)) && sn->have_value)
				*v = (struct vgl_value){ sn->value, VGL_Q_OK };
			break;
		case VGL_BMC_READ_SENSOR_STATE:
			if ((sn = find_sensor(rd, m->sensor)) && sn->state != VGL_BMC_UNKNOWN)
				*v = (struct vgl_value){ sn->state, VGL_Q_OK };
			break;
		case VGL_BMC_READ_SEL_ENTRIES:
			*v = (struct vgl_value){ (double)n_new, VGL_Q_OK };
			break;
		}
	}
}

static void deliver(struct ipmi_col *c, struct ipmi_src *s)
{
	struct vgl_ipmi_reading *rd = s->rd;
	struct vgl_bmc_status bs = { 0 };
	struct vgl_poll_result r = { 0 };
	const char *cursor = NULL;
	size_t n_new = 0;

	r.host = s->host_idx;
	r.source = s->source;
	r.ts_ms = s->start_ms;
	r.quality = rd->quality;
	r.n_values = s->n_values;
	r.values = s->values;
	r.metrics = s->metrics;
	r.interval_ms = s->interval_ms;
	c->st.polls++;
	if (rd->quality == VGL_Q_TIMEOUT)
		c->st.timeouts++;
	if (rd->quality != VGL_Q_OK) {
		r.detail = rd->detail;
		for (uint32_t i = 0; i < s->n_values; i++)
			s->values[i] = (struct vgl_value){ 0, rd->quality };
		if (!s->failing)
			vgl_warn("host %s: IPMI BMC %s:%u: %s (%s)", s->host_name, s->t.host,
				 (unsigned)s->t.port, rd->detail, vgl_quality_name(rd->quality));
		s->failing = 1;
		s->suspect = 1;
		c->fn(c->ctx, &r);
		return;
	}
	if (s->failing)
		vgl_info("host %s: IPMI BMC %s:%u answers again", s->host_name, s->t.host,
			 (unsigned)s->t.port);
	s->failing = 0;
	s->suspect = 0;
	bs.power = rd->power;
	bs.last_power_event = rd->last_power_event;
	bs.health = VGL_BMC_UNKNOWN;
	for (size_t i = 0; i < rd->n_sensors; i++) {
		if (rd->sensors[i].state == VGL_BMC_UNKNOWN)
			continue;
		if (bs.health == VGL_BMC_UNKNOWN || rd->sensors[i].state > bs.health) {
			bs.health = rd->sensors[i].state;
			bs.worst_sensor = rd->sensors[i].state > VGL_BMC_OK ? rd->sensors[i].name
									     : NULL;
		}
	}
	/* a power fault latched by the chassis is the BMC's own verdict */
	if (rd->last_power_event & (VGL_BMC_LPE_FAULT | VGL_BMC_LPE_OVERLOAD))
		bs.health = VGL_BMC_CRITICAL;
	bs.events = rd->events;
	bs.n_events = rd->n_events;
	for (size_t i = 0; i < rd->n_events; i++)
		n_new += rd->events[i].cls != VGL_BMC_EV_CLEARED;
	if (rd->sel_cleared)
		vgl_warn("host %s: IPMI BMC %s:%u: the SEL was cleared or wrapped since it was "
			 "last read; entries in between may be lost", s->host_name, s->t.host,
			 (unsigned)s->t.port);
	if (rd->cursor[0] && (!s->cursor || strcmp(s->cursor, rd->cursor) != 0)) {
		char *nc = strdup(rd->cursor);

		if (nc) {
			free(s->cursor);
			s->cursor = nc;
			cursor = s->cursor;
		}
	}
	bs.cursor = cursor;
	fill_values(s, bs.health, n_new);
	for (uint32_t i = 0; i < s->n_values; i++)
		c->st.values += s->values[i].q == VGL_Q_OK;
	r.bmc = &bs;
	c->fn(c->ctx, &r);
}

/* ---- jobs ------------------------------------------------------------------- */

static void work_poll(uv_work_t *w)
{
	struct ipmi_src *s = w->data;

	vgl_ipmi_poll(s->io, &s->t, s->rd);
}

static void dispatch(struct ipmi_col *c);

static void after_poll(uv_work_t *w, int status)
{
	struct ipmi_src *s = w->data;
	struct ipmi_col *c = s->owner;

	c->running--;
	if (s->suspect)
		c->running_suspect--;
	c->st.in_flight = c->running;
	s->state = B_IDLE;
	if (c->closing) {
		maybe_done(c);
		return;
	}
	if (status == UV_ECANCELED) {
		s->rd->quality = VGL_Q_ERROR;
		snprintf(s->rd->detail, sizeof(s->rd->detail), "poll cancelled");
	}
	deliver(c, s);
	/* fn may have closed the collector */
	if (c->closing) {
		maybe_done(c);
		return;
	}
	dispatch(c);
}

static void start_job(struct ipmi_col *c, struct ipmi_src *s)
{
	int rc;

	s->state = B_RUNNING;
	s->work.data = s;
	c->running++;
	if (s->suspect)
		c->running_suspect++;
	c->st.in_flight = c->running;
	rc = uv_queue_work(c->loop, &s->work, work_poll, after_poll);
	if (rc != 0) {
		c->running--;
		if (s->suspect)
			c->running_suspect--;
		s->state = B_IDLE;
		s->rd->quality = VGL_Q_ERROR;
		snprintf(s->rd->detail, sizeof(s->rd->detail), "uv_queue_work: %s",
			 uv_strerror(rc));
		deliver(c, s);
	}
}

static void dispatch(struct ipmi_col *c)
{
	while (!c->closing && c->running < c->max_jobs) {
		struct ipmi_src *s = lane_pop(&c->ok);

		if (!s && c->running_suspect < c->max_suspect)
			s = lane_pop(&c->suspect);
		if (!s)
			break;
		start_job(c, s);
	}
}

static void on_due(void *ctx, struct vgl_sched_entry *e)
{
	struct ipmi_src *s = (struct ipmi_src *)((char *)e - offsetof(struct ipmi_src, se));
	struct ipmi_col *c = ctx;

	if (c->closing)
		return;
	if (s->state != B_IDLE) {
		c->st.skipped++;
		return;
	}
	s->start_ms = wall_ms();
	s->state = B_QUEUED;
	lane_push(s->suspect ? &c->suspect : &c->ok, s);
}

static void on_tick(void *ctx)
{
	dispatch(ctx);
}

/* ---- the collector interface ------------------------------------------------ */

static int be_create(uv_loop_t *loop, const struct vgl_conf *conf, vgl_poll_fn *fn, void *ctx,
		     void **out)
{
	struct ipmi_col *c = calloc(1, sizeof(*c));
	int rc;

	(void)conf;
	if (!c)
		return -ENOMEM;
	c->loop = loop;
	c->fn = fn;
	c->ctx = ctx;
	/* two at least, so that failing BMCs (at most max_jobs - 1 of them)
	 * always leave one to the answering ones */
	c->max_jobs = vgl_sched_pool_size() / 2;
	if (c->max_jobs < 2)
		c->max_jobs = 2;
	c->max_suspect = c->max_jobs > 1 ? c->max_jobs - 1 : 1;
	rc = vgl_sched_new(loop, on_due, on_tick, c, &c->sched);
	if (rc != 0) {
		free(c);
		return rc;
	}
	*out = c;
	return 0;
}

static int be_add_source(void *be, uint32_t host_idx, const struct vgl_conf_host *host,
			 uint32_t source)
{
	struct ipmi_col *c = be;
	const struct vgl_conf_source *cs = &host->profile->sources[source];
	const struct vgl_bmc_source *bs = cs->spec;
	struct ipmi_src *s;
	int rc = -ENOMEM;

	if (c->closing)
		return -EINVAL;
	if (!bs->address && !host->address)
		return -EINVAL;
	if (c->n_srcs == c->cap_srcs) {
		size_t cap = c->cap_srcs ? c->cap_srcs * 2 : 16;
		struct ipmi_src **ns = realloc(c->srcs, cap * sizeof(*ns));

		if (!ns)
			return -ENOMEM;
		c->srcs = ns;
		c->cap_srcs = cap;
	}
	if (!(s = calloc(1, sizeof(*s))))
		return -ENOMEM;
	s->owner = c;
	s->host_idx = host_idx;
	s->source = source;
	s->host_name = host->name;
	s->t.host = bs->address ? bs->address : host->address;
	s->t.port = bs->port;
	s->t.username = bs->username;
	s->t.password = bs->password;
	s->t.cipher_suite = bs->cipher_suite;
	s->t.privilege = (int)bs->privilege;
	s->t.timeout_ms = cs->timeout_ms;
	s->interval_ms = cs->interval_ms;
	s->n_values = (uint32_t)cs->n_metrics;
	s->metrics = cs->metrics;
	s->pm = host->profile->metrics;
	s->suspect = 1;
	if (!(s->rd = calloc(1, sizeof(*s->rd))) ||
	    !(s->values = calloc(s->n_values ? s->n_values : 1, sizeof(*s->values))) ||
	    !(s->io = vgl_ipmi_bmc_new(NULL)))
		goto fail;
	rc = vgl_sched_add(c->sched, &s->se, s->interval_ms, host_idx);
	if (rc != 0)
		goto fail;
	c->srcs[c->n_srcs++] = s;
	c->st.hosts++;
	return 0;
fail:
	src_free(s);
	return rc;
}

static void be_set_cursor(void *be, uint32_t host_idx, uint32_t source, const char *cursor)
{
	struct ipmi_col *c = be;

	for (size_t i = 0; i < c->n_srcs; i++) {
		struct ipmi_src *s = c->srcs[i];
		struct vgl_ipmi_bmc *io;
		char *dup;

		if (s->host_idx != host_idx || s->source != source)
			continue;
		/* only before the first poll: the collector owns it after */
		if (s->state != B_IDLE || !(io = vgl_ipmi_bmc_new(cursor)))
			return;
		if (!(dup = strdup(cursor))) {
			vgl_ipmi_bmc_free(io);
			return;
		}
		vgl_ipmi_bmc_free(s->io);
		s->io = io;
		free(s->cursor);
		s->cursor = dup;
		return;
	}
}

static void be_stats(const void *be, struct vgl_collector_stats *out)
{
	const struct ipmi_col *c = be;

	*out = c->st;
	out->skipped += vgl_sched_missed(c->sched);
}

static void sched_closed(void *ctx)
{
	struct ipmi_col *c = ctx;

	c->sched_closed = 1;
	maybe_done(c);
}

static void be_close(void *be, void (*done)(void *ctx), void *ctx)
{
	struct ipmi_col *c = be;
	struct ipmi_src *s;

	c->closing = 1;
	c->done = done;
	c->done_ctx = ctx;
	while ((s = lane_pop(&c->ok)))
		s->state = B_IDLE;
	while ((s = lane_pop(&c->suspect)))
		s->state = B_IDLE;
	/* a job not yet started by a worker never will be; one running
	 * ends within its timeout and after_poll counts it down */
	for (size_t i = 0; i < c->n_srcs; i++)
		if (c->srcs[i]->state == B_RUNNING)
			uv_cancel((uv_req_t *)&c->srcs[i]->work);
	vgl_sched_close(c->sched, sched_closed, c);
}

const struct vgl_collector_ops vgl_ipmi_collector = {
	.name = "ipmi",
	.create = be_create,
	.add_source = be_add_source,
	.set_cursor = be_set_cursor,
	.stats = be_stats,
	.close = be_close,
};
