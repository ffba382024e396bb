/* Modbus collector, the loop side (collectors/modbus.h): devices,
 * connections, the two lanes into the threadpool, backoff, results and
 * logs. One poll of one device is one threadpool job
 * (collectors/modbus_io.c).
 *
 * A device's poll, when due (collectors/sched.c):
 *
 *   IDLE --due--> WAITING (its connection busy: in the connection's queue)
 *     |              | the connection frees
 *     |              v
 *     +--due-----> QUEUED (in a lane) --a job slot frees--> RUNNING
 *                                                             |
 *   IDLE <-------------------- after_work: result delivered --+
 *
 * and a device in backoff (it failed, its retry is not due yet) is
 * answered at once from IDLE, with no I/O. A poll due while the previous
 * is not back is skipped and counted, as in every back end.
 *
 * Lanes. Jobs start from the answering lane first; devices that have not
 * answered since they were added or last failed go to the suspect lane,
 * which may hold at most max_jobs - 1 jobs at once. A site with 50 dead
 * devices, each holding a thread for its whole timeout, thus still leaves
 * a thread to the devices that answer in milliseconds.
 *
 * Re-entrancy: results reach fn from after_work and from the scheduler's
 * tick (backoff answers, queued in done); fn may close the collector, and
 * nothing touches it after that but the close's own bookkeeping.
 */
#include "collectors/modbus.h"
#include "collectors/modbus_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"

#define BACKOFF_MAX_MS 60000u
#define MAX_JOBS 256

struct lane {
	struct mb_dev *head, *tail;
};

struct vgl_modbus {
	uv_loop_t *loop;
	vgl_poll_fn *fn;
	void *ctx;
	struct vgl_sched *sched;
	struct mb_conn *conns;
	struct mb_dev **devs;
	size_t n_devs, cap_devs;
	struct lane ok, suspect, done;
	uint32_t max_jobs, max_suspect, running, running_suspect;
	int slots[MAX_JOBS];            /* reserved descriptors below FD_SETSIZE */
	int free_slots[MAX_JOBS];
	uint32_t n_free_slots;
	int devnull;
	int closing, draining;
	uint32_t pending;               /* at close: jobs not back + the scheduler */
	void (*done_cb)(void *);
	void *done_ctx;
	struct vgl_modbus_stats st;
};

static void lane_push(struct lane *l, struct mb_dev *d)
{
	d->next = NULL;
	if (l->tail)
		l->tail->next = d;
	else
		l->head = d;
	l->tail = d;
}

static struct mb_dev *lane_pop(struct lane *l)
{
	struct mb_dev *d = l->head;

	if (d) {
		l->head = d->next;
		if (!l->head)
			l->tail = NULL;
		d->next = NULL;
	}
	return d;
}

static int64_t wall_ms(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
		return 0;
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void dev_log(const struct mb_dev *d, enum vgl_log_level lvl, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void dev_log(const struct mb_dev *d, enum vgl_log_level lvl, const char *fmt, ...)
{
	char msg[320];
	va_list ap;

	if (lvl == VGL_LOG_DEBUG && !vgl_log_debug_enabled())
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (d->c->transport == VGL_MB_TCP)
		vgl_log(lvl, "modbus %s (%s port %s unit %u): %s", d->name, d->c->node,
			d->c->service, (unsigned)d->unit, msg);
	else
		vgl_log(lvl, "modbus %s (%s unit %u): %s", d->name, d->c->node, (unsigned)d->unit,
			msg);
}

/* ---- results -------------------------------------------------------------- */

static void deliver(struct vgl_modbus *mb, struct mb_dev *d, const char *detail)
{
	struct vgl_poll_result res = {
		.host = d->host_idx, .source = d->source, .ts_ms = d->start_ms, .quality = d->q,
		.n_values = d->n_values, .values = d->values, .metrics = d->metrics,
		.detail = d->q == VGL_Q_OK ? NULL : detail, .interval_ms = d->interval_ms,
	};

	d->state = D_IDLE;
	mb->st.polls++;
	mb->st.timeouts += d->q == VGL_Q_TIMEOUT;
	for (uint32_t i = 0; i < d->n_values; i++)
		mb->st.values += d->values[i].q == VGL_Q_OK;
	/* collectd's c_complain: once when a device starts failing, once when
	 * it answers again, debug in between */
	if (d->q != VGL_Q_OK) {
		dev_log(d, d->failing ? VGL_LOG_DEBUG : VGL_LOG_WARNING, "poll failed (%s): %s",
			vgl_quality_name(d->q), detail);
		d->failing = 1;
	} else if (d->failing) {
		dev_log(d, VGL_LOG_NOTICE, "answers again");
		d->failing = 0;
	}
	mb->fn(mb->ctx, &res);
}

static void drain(struct vgl_modbus *mb)
{
	struct mb_dev *d;

	if (mb->draining)
		return;
	mb->draining = 1;
	while (!mb->closing && (d = lane_pop(&mb->done)))
		deliver(mb, d, d->detail[0] ? d->detail : "backing off");
	mb->draining = 0;
}

/* Exceptions are logged per metric, when a request starts answering one
 * and when it stops. */
static void log_requests(struct mb_dev *d)
{
	for (size_t ri = 0; ri < d->plan.n_req; ri++) {
		const struct vgl_mb_request *r = &d->plan.req[ri];
		enum vgl_quality q = d->req_q[ri], was = d->req_logged[ri];
		int exc = q >= VGL_Q_MB_ILLEGAL_FUNCTION;

		if (q == VGL_Q_TIMEOUT || q == VGL_Q_REFUSED || q == VGL_Q_ERROR || q == was)
			continue;       /* failures are the poll's, logged as such */
		for (uint32_t k = 0; k < r->n; k++) {
			uint32_t vi = d->plan.order[r->first + k];
			const struct vgl_conf_metric *m = &d->pm[d->metrics[vi]];
			if (exc)
				dev_log(d, VGL_LOG_WARNING, "metric %s (%s): exception %s", m->name,
					m->text ? m->text : "?", vgl_quality_name(q));
			else if (was >= VGL_Q_MB_ILLEGAL_FUNCTION)
				dev_log(d, VGL_LOG_NOTICE, "metric %s (%s): answers again", m->name,
					m->text ? m->text : "?");
		}
		d->req_logged[ri] = (uint8_t)q;
	}
}

/* ---- jobs ------------------------------------------------------------------ */

static void dispatch(struct vgl_modbus *mb);
static void maybe_finish(struct vgl_modbus *mb);

static void work_cb(uv_work_t *w)
{
	struct mb_dev *d = (struct mb_dev *)((char *)w - offsetof(struct mb_dev, work));

	vgl__mb_run_poll(d, d->owner->slots[d->slot], d->owner->devnull);
}

static void conn_next(struct vgl_modbus *mb, struct mb_conn *c)
{
	struct mb_dev *n = c->waitq;

	c->busy = 0;
	if (!n)
		return;
	c->waitq = n->next;
	if (!c->waitq)
		c->waitq_tail = NULL;
	c->busy = 1;
	n->state = D_QUEUED;
	lane_push(n->suspect ? &mb->suspect : &mb->ok, n);
}

static uint64_t backoff_ms(const struct mb_dev *d)
{
	uint64_t periods = d->fails >= 8 ? 128 : 1u << (d->fails - 1);
	uint64_t cap = BACKOFF_MAX_MS > d->interval_ms ? BACKOFF_MAX_MS : d->interval_ms;

	if (periods * d->interval_ms > cap)
		periods = cap / d->interval_ms;
	/* half a period early, so the retry lands on the poll due then */
	return periods * d->interval_ms - d->interval_ms / 2;
}

static void after_work_cb(uv_work_t *w, int status)
{
	struct mb_dev *d = (struct mb_dev *)((char *)w - offsetof(struct mb_dev, work));
	struct vgl_modbus *mb = d->owner;

	mb->running--;
	if (d->suspect)
		mb->running_suspect--;
	mb->free_slots[mb->n_free_slots++] = d->slot;
	d->slot = -1;
	if (mb->closing) {
		d->state = D_IDLE;
		mb->pending--;
		maybe_finish(mb);
		return;
	}
	if (status != 0) {
		d->q = VGL_Q_ERROR;
		snprintf(d->detail, sizeof(d->detail), "threadpool: %s", uv_strerror(status));
	}
	if (d->local_fail) {
		/* vigild's own shortage, not the device's: skipped, not failed,
		 * so no interval opens for it; said once per device */
		if (!d->local_logged)
			dev_log(d, VGL_LOG_ERR, "not polled: %s (raise LimitNOFILE)", d->detail);
		d->local_logged = 1;
		d->state = D_IDLE;
		mb->st.skipped++;
		conn_next(mb, d->c);
		dispatch(mb);
		return;
	}
	d->local_logged = 0;
	mb->st.requests += d->requests;
	mb->st.exceptions += d->exceptions;
	mb->st.connects += d->connects;
	if (d->connects && d->failing)
		dev_log(d, VGL_LOG_INFO, "connected");
	if (d->q == VGL_Q_OK) {
		d->fails = 0;
		d->suspect = 0;
		log_requests(d);
	} else {
		if (d->fails < UINT32_MAX)
			d->fails++;
		d->suspect = 1;
		d->retry_due = d->due_ms + backoff_ms(d);
	}
	conn_next(mb, d->c);
	deliver(mb, d, d->detail);
	if (mb->closing)
		return;
	dispatch(mb);
}

static void start_job(struct vgl_modbus *mb, struct mb_dev *d)
{
	int rc;

	d->state = D_RUNNING;
	/* what the device says is as of now, however long the poll waited
	 * for its connection or a lane */
	d->start_ms = wall_ms();
	d->slot = mb->free_slots[--mb->n_free_slots];
	mb->running++;
	if (d->suspect)
		mb->running_suspect++;
	rc = uv_queue_work(mb->loop, &d->work, work_cb, after_work_cb);
	if (rc != 0) {
		/* libuv refuses only bad arguments; answer rather than hang */
		mb->running--;
		if (d->suspect)
			mb->running_suspect--;
		mb->free_slots[mb->n_free_slots++] = d->slot;
		d->q = VGL_Q_ERROR;
		snprintf(d->detail, sizeof(d->detail), "uv_queue_work: %s", uv_strerror(rc));
		conn_next(mb, d->c);
		lane_push(&mb->done, d);
	}
}

static void dispatch(struct vgl_modbus *mb)
{
	while (!mb->closing && mb->running < mb->max_jobs && mb->n_free_slots) {
		struct mb_dev *d = lane_pop(&mb->ok);

		if (!d && mb->running_suspect < mb->max_suspect)
			d = lane_pop(&mb->suspect);
		if (!d)
			break;
		start_job(mb, d);
	}
}

static void on_due(void *ctx, struct vgl_sched_entry *e)
{
	struct mb_dev *d = (struct mb_dev *)((char *)e - offsetof(struct mb_dev, se));
	struct vgl_modbus *mb = ctx;
	uint64_t now = uv_now(mb->loop);

	if (mb->closing)
		return;
	if (d->state != D_IDLE) {
		mb->st.skipped++;
		return;
	}
	d->start_ms = wall_ms();
	d->due_ms = now;
	if (d->fails && now < d->retry_due) {
		/* the last failure stands until its retry: every value keeps
		 * its quality, and the detail says so */
		char keep[sizeof(d->detail)];
		enum vgl_quality q = d->q;

		snprintf(keep, sizeof(keep), "%s", d->detail);
		if (strncmp(keep, "backing off", 11) != 0)
			snprintf(d->detail, sizeof(d->detail), "backing off after %u failed polls, "
				 "last: %.150s", (unsigned)d->fails, keep);
		for (uint32_t i = 0; i < d->n_values; i++)
			d->values[i] = (struct vgl_value){ 0, q };
		mb->st.backoff++;
		d->state = D_QUEUED;    /* until drained */
		lane_push(&mb->done, d);
		return;
	}
	if (d->c->busy) {
		d->state = D_WAITING;
		d->next = NULL;
		if (d->c->waitq_tail)
			d->c->waitq_tail->next = d;
		else
			d->c->waitq = d;
		d->c->waitq_tail = d;
		return;
	}
	d->c->busy = 1;
	d->state = D_QUEUED;
	lane_push(d->suspect ? &mb->suspect : &mb->ok, d);
}

static void on_tick(void *ctx)
{
	struct vgl_modbus *mb = ctx;

	dispatch(mb);
	drain(mb);
}

/* ---- devices and connections ----------------------------------------------- */

static struct mb_conn *conn_find(struct vgl_modbus *mb, enum vgl_mb_transport t,
				 const char *node, const char *service)
{
	for (struct mb_conn *c = mb->conns; c; c = c->next)
		if (c->transport == t && strcmp(c->node, node) == 0 &&
		    (t == VGL_MB_RTU || strcmp(c->service, service) == 0))
			return c;
	return NULL;
}

static struct mb_conn *conn_get(struct vgl_modbus *mb, const struct vgl_modbus_device *dv)
{
	const struct vgl_modbus_source *s = dv->src;
	const char *node = s->transport == VGL_MB_RTU ? s->device
			   : s->address ? s->address : dv->address;
	char service[8];
	struct mb_conn *c;

	snprintf(service, sizeof(service), "%u", (unsigned)s->port);
	if ((c = conn_find(mb, s->transport, node, service))) {
		if (c->transport == VGL_MB_RTU &&
		    (c->baud != s->baud || c->parity != s->parity || c->data_bits != s->data_bits ||
		     c->stop_bits != s->stop_bits))
			vgl_warn("modbus %s: %s is already opened with other line settings "
				 "(%u %c%u%u); one bus has one setting, those apply", dv->name,
				 node, (unsigned)c->baud, c->parity, (unsigned)c->data_bits,
				 (unsigned)c->stop_bits);
		return c;
	}
	if (!(c = calloc(1, sizeof(*c))) || !(c->node = strdup(node))) {
		free(c);
		return NULL;
	}
	c->transport = s->transport;
	memcpy(c->service, service, sizeof(service));
	c->baud = s->baud;
	c->parity = s->parity;
	c->data_bits = s->data_bits;
	c->stop_bits = s->stop_bits;
	c->fd = -1;
	/* TCP: libmodbus frames and waits; the socket is ours (modbus_io.c) */
	c->mb = c->transport == VGL_MB_TCP
		? modbus_new_tcp_pi(node, service)
		: modbus_new_rtu(node, (int)s->baud, s->parity, s->data_bits, s->stop_bits);
	if (!c->mb) {
		vgl_err("modbus %s: libmodbus refused %s: %s", dv->name, node,
			modbus_strerror(errno));
		free(c->node);
		free(c);
		errno = EINVAL;
		return NULL;
	}
	/* the collector's own error handling: no sleeping, no reconnecting
	 * behind its back */
	modbus_set_error_recovery(c->mb, MODBUS_ERROR_RECOVERY_NONE);
	c->next = mb->conns;
	mb->conns = c;
	mb->st.connections++;
	return c;
}

static void dev_free(struct mb_dev *d)
{
	if (!d)
		return;
	vgl_mb_plan_free(&d->plan);
	free(d->mm);
	free(d->req_q);
	free(d->req_logged);
	free(d->values);
	free(d->regs);
	free(d->bits);
	free(d);
}

int vgl_modbus_add_device(struct vgl_modbus *mb, uint32_t host_idx,
			  const struct vgl_modbus_device *dv)
{
	struct mb_dev *d;
	int rc;

	if (mb->closing || !dv->src || !dv->name || (dv->src->transport == VGL_MB_TCP &&
	    !dv->address && !dv->src->address) || !dv->interval_ms || !dv->timeout_ms ||
	    !dv->n_values || !dv->metrics || !dv->profile_metrics) {
		vgl_err("modbus %s: incomplete device", dv->name ? dv->name : "?");
		return -EINVAL;
	}
	if (mb->n_devs == mb->cap_devs) {
		size_t cap = mb->cap_devs ? mb->cap_devs * 2 : 64;
		struct mb_dev **nd = realloc(mb->devs, cap * sizeof(*nd));
		if (!nd)
			return -ENOMEM;
		mb->devs = nd;
		mb->cap_devs = cap;
	}
	if (!(d = calloc(1, sizeof(*d))))
		return -ENOMEM;
	d->owner = mb;
	d->name = dv->name;
	d->host_idx = host_idx;
	d->source = dv->source;
	d->interval_ms = dv->interval_ms;
	d->timeout_ms = dv->timeout_ms;
	d->unit = dv->src->unit;
	d->n_values = dv->n_values;
	d->metrics = dv->metrics;
	d->pm = dv->profile_metrics;
	d->suspect = 1;
	d->slot = -1;
	rc = -ENOMEM;
	if (!(d->mm = calloc(d->n_values, sizeof(*d->mm))) ||
	    !(d->values = calloc(d->n_values, sizeof(*d->values))))
		goto fail;
	for (uint32_t i = 0; i < d->n_values; i++)
		d->mm[i] = d->pm[d->metrics[i]].spec;
	if (vgl_mb_plan_build(dv->src, d->mm, d->n_values, &d->plan) != 0 ||
	    !(d->req_q = calloc(d->plan.n_req, 1)) || !(d->req_logged = calloc(d->plan.n_req, 1)) ||
	    !(d->regs = calloc(d->plan.max_words ? d->plan.max_words : 1, sizeof(uint16_t))) ||
	    !(d->bits = calloc(d->plan.max_words ? (size_t)d->plan.max_words * 16 : 1, 1)))
		goto fail;
	if (!(d->c = conn_get(mb, dv))) {
		rc = errno == EINVAL ? -EINVAL : -ENOMEM;
		goto fail;
	}
	rc = vgl_sched_add(mb->sched, &d->se, d->interval_ms, host_idx);
	if (rc != 0)
		goto fail;
	mb->devs[mb->n_devs++] = d;
	mb->st.devices++;
	return 0;
fail:
	dev_free(d);
	return rc;
}

/* ---- life ----------------------------------------------------------------- */

int vgl_modbus_create(uv_loop_t *loop, const struct vgl_modbus_opts *o, vgl_poll_fn *fn,
		      void *ctx, struct vgl_modbus **out)
{
	struct vgl_modbus *mb;
	uint32_t jobs = o && o->max_jobs ? o->max_jobs : vgl_sched_pool_size() - 1;
	int rc;

	*out = NULL;
	if (!fn)
		return -EINVAL;
	if (!(mb = calloc(1, sizeof(*mb))))
		return -ENOMEM;
	mb->loop = loop;
	mb->fn = fn;
	mb->ctx = ctx;
	mb->max_jobs = jobs < 1 ? 1 : jobs > MAX_JOBS ? MAX_JOBS : jobs;
	mb->max_suspect = mb->max_jobs > 1 ? mb->max_jobs - 1 : 1;
	mb->st.max_jobs = mb->max_jobs;
	mb->devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (mb->devnull < 0) {
		rc = -errno;
		free(mb);
		return rc;
	}
	/* one descriptor per job, reserved now, below select()'s limit */
	for (uint32_t i = 0; i < mb->max_jobs; i++) {
		int fd = fcntl(mb->devnull, F_DUPFD_CLOEXEC, 0);
		if (fd < 0 || fd >= FD_SETSIZE) {
			if (fd >= 0)
				close(fd);
			if (i == 0) {
				vgl_err("modbus: no descriptor free below %d for libmodbus", FD_SETSIZE);
				rc = fd < 0 ? -errno : -EMFILE;
				close(mb->devnull);
				free(mb);
				return rc;
			}
			mb->max_jobs = i;       /* fewer jobs, still working */
			break;
		}
		mb->slots[i] = fd;
		mb->free_slots[mb->n_free_slots++] = (int)i;
	}
	if (mb->max_jobs < mb->st.max_jobs) {
		mb->st.max_jobs = mb->max_jobs;
		mb->max_suspect = mb->max_jobs > 1 ? mb->max_jobs - 1 : 1;
	}
	rc = vgl_sched_new(loop, on_due, on_tick, mb, &mb->sched);
	if (rc != 0) {
		for (uint32_t i = 0; i < mb->max_jobs; i++)
			close(mb->slots[i]);
		close(mb->devnull);
		free(mb);
		return rc;
	}
	*out = mb;
	return 0;
}

void vgl_modbus_get_stats(const struct vgl_modbus *mb, struct vgl_modbus_stats *out)
{
	*out = mb->st;
	out->in_flight = 0;
	for (size_t i = 0; i < mb->n_devs; i++)
		out->in_flight += mb->devs[i]->state != D_IDLE;
	if (mb->sched)
		out->skipped += vgl_sched_missed(mb->sched);
}

static void maybe_finish(struct vgl_modbus *mb)
{
	void (*done)(void *) = mb->done_cb;
	void *ctx = mb->done_ctx;

	if (mb->pending)
		return;
	for (size_t i = 0; i < mb->n_devs; i++)
		dev_free(mb->devs[i]);
	free(mb->devs);
	while (mb->conns) {
		struct mb_conn *c = mb->conns;
		mb->conns = c->next;
		vgl__mb_conn_drop(c);
		modbus_free(c->mb);
		free(c->node);
		free(c);
	}
	for (uint32_t i = 0; i < mb->max_jobs; i++)
		close(mb->slots[i]);
	close(mb->devnull);
	free(mb);
	if (done)
		done(ctx);
}

static void sched_closed(void *ctx)
{
	struct vgl_modbus *mb = ctx;

	mb->pending--;
	maybe_finish(mb);
}

void vgl_modbus_close(struct vgl_modbus *mb, void (*done)(void *ctx), void *ctx)
{
	if (!mb || mb->closing)
		return;
	mb->closing = 1;
	mb->done_cb = done;
	mb->done_ctx = ctx;
	mb->ok = mb->suspect = mb->done = (struct lane){ 0 };
	mb->pending = 1;                /* the scheduler */
	for (size_t i = 0; i < mb->n_devs; i++) {
		struct mb_dev *d = mb->devs[i];
		if (d->state == D_RUNNING) {
			mb->pending++;
			/* a job not started yet comes back as cancelled; one
			 * running finishes its timeout first */
			(void)uv_cancel((uv_req_t *)&d->work);
		}
	}
	vgl_sched_close(mb->sched, sched_closed, mb);
	mb->sched = NULL;
}

/* ---- the collector interface (collectors/collector.h) ------------------ */

static int be_create(uv_loop_t *loop, const struct vgl_conf *conf, vgl_poll_fn *fn, void *ctx,
		     void **out)
{
	struct vgl_modbus *mb = NULL;
	int rc;

	(void)conf;
	rc = vgl_modbus_create(loop, NULL, fn, ctx, &mb);
	*out = mb;
	return rc;
}

static int be_add_source(void *be, uint32_t host_idx, const struct vgl_conf_host *host,
			 uint32_t source)
{
	const struct vgl_conf_profile *pr = host->profile;
	const struct vgl_conf_source *src;

	if (source >= pr->n_sources || pr->sources[source].be != &vgl_modbus_conf_backend) {
		vgl_err("host %s: source %u is not a modbus source", host->name, (unsigned)source);
		return -EINVAL;
	}
	src = &pr->sources[source];
	return vgl_modbus_add_device(be, host_idx, &(struct vgl_modbus_device){
		.name = host->name, .address = host->address, .src = src->spec,
		.interval_ms = src->interval_ms, .timeout_ms = src->timeout_ms, .source = source,
		.profile_metrics = pr->metrics, .metrics = src->metrics,
		.n_values = (uint32_t)src->n_metrics,
	});
}

static void be_stats(const void *be, struct vgl_collector_stats *out)
{
	struct vgl_modbus_stats st;

	vgl_modbus_get_stats(be, &st);
	*out = (struct vgl_collector_stats){
		.polls = st.polls, .timeouts = st.timeouts, .skipped = st.skipped,
		.values = st.values, .rejected = st.rejected, .in_flight = st.in_flight,
		.hosts = st.devices,
	};
}

static void be_close(void *be, void (*done)(void *ctx), void *ctx)
{
	vgl_modbus_close(be, done, ctx);
}

const struct vgl_collector_ops vgl_modbus_collector = {
	.name = "modbus",
	.create = be_create,
	.add_source = be_add_source,
	.stats = be_stats,
	.close = be_close,
};
