/* The daemon's writer, the loop thread's side: the queue with its string
 * arena, and the calls that fill it. Apart from the writer so that what
 * the loop thread runs is in one place and plainly never touches the
 * database: it only takes q_mu for a moment, which is what keeps the loop
 * from blocking on the disk. A poll's values are formatted here, on the
 * loop thread, so the writer's batch only binds finished strings.
 * Threads, locks and invariants: the top of store.c.
 */
#include "storage/store_int.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/vtime.h"

/* ---- the queue ------------------------------------------------------- */

static int queue_reserve(struct queue *q, size_t bytes)
{
	if (q->n == q->cap) {
		size_t cap = q->cap ? q->cap * 2 : 1024;
		struct op *ops = realloc(q->ops, cap * sizeof(*ops));
		if (!ops)
			return -1;
		q->ops = ops;
		q->cap = cap;
	}
	if (bytes > UINT32_MAX - 1 - q->used)
		return -1;
	if (q->acap - q->used < bytes) {
		size_t cap = q->acap ? q->acap : 16384;
		char *a;
		while (cap - q->used < bytes)
			cap *= 2;
		a = realloc(q->arena, cap);
		if (!a)
			return -1;
		q->arena = a;
		q->acap = cap;
	}
	return 0;
}

void vgl__store_queue_clear(struct queue *q)
{
	q->n = 0;
	q->used = 0;
	q->n_droppable = 0;
	q->n_transitions = 0;
	q->n_causes = 0;
	q->n_alarms = 0;
	q->first_ms = 0;
}

void vgl__store_queue_free(struct queue *q)
{
	free(q->ops);
	free(q->arena);
	memset(q, 0, sizeof(*q));
}

const char *vgl__store_queue_str(const struct queue *q, uint32_t off)
{
	return off == NO_STR ? NULL : q->arena + off;
}

static const char *op_what(uint8_t kind)
{
	switch ((enum op_kind)kind) {
	case OP_OPEN: return "an interval open";
	case OP_CLOSE: return "an interval close";
	case OP_CAUSE: return "a cause revision";
	case OP_CURSOR: return "a BMC cursor";
	case OP_ALARM: return "an alarm or outbox write";
	default: return "a write";
	}
}

/* Appends op with its strings. Transitions, cause revisions and cursors
 * are never refused for being over the bound, only for want of memory:
 * the SLA bills on the first two, and a lost cursor means reading a BMC's
 * event log again from the start. */
static void enqueue(struct vgl_store *s, struct op *op, const char *const strs[S_COUNT])
{
	int transition = op->kind == OP_OPEN || op->kind == OP_CLOSE;
	int kept = transition || op->kind == OP_CAUSE || op->kind == OP_CURSOR ||
		   op->kind == OP_ALARM;
	size_t len[S_COUNT], bytes = 0;
	int oom = 0;

	for (int i = 0; i < S_COUNT; i++) {
		len[i] = strs[i] ? strlen(strs[i]) + 1 : 0;
		bytes += len[i];
	}
	pthread_mutex_lock(&s->q_mu);
	if (!kept && s->q.n_droppable >= s->max_queued) {
		s->dropped_pending++;
		s->stats.samples_dropped++;
		goto out_unlock;
	}
	if (queue_reserve(&s->q, bytes) != 0) {
		oom = 1;
		if (!kept) {
			s->dropped_pending++;
			s->stats.samples_dropped++;
		}
		goto out_unlock;
	}
	for (int i = 0; i < S_COUNT; i++) {
		if (!strs[i]) {
			op->str[i] = NO_STR;
			continue;
		}
		op->str[i] = (uint32_t)s->q.used;
		memcpy(s->q.arena + s->q.used, strs[i], len[i]);
		s->q.used += len[i];
	}
	s->q.ops[s->q.n++] = *op;
	if (s->q.n == 1)
		s->q.first_ms = vgl_mono_ms();  /* the writer swaps it out with the entries */
	if (transition) {
		s->q.n_transitions++;
		s->urgent = 1;
		pthread_cond_signal(&s->q_cond);
	} else if (op->kind == OP_ALARM) {
		/* a page waits for its commit: do not add the batch window,
		 * except to the bookkeeping of an attempt */
		s->q.n_alarms++;
		if (op->q != VGL_SA_OUTBOX_TRY) {
			s->urgent = 1;
			pthread_cond_signal(&s->q_cond);
		}
	} else if (op->kind == OP_CAUSE) {
		/* not urgent: the batch window is soon enough for a revision */
		s->q.n_causes++;
	} else if (!kept) {
		s->q.n_droppable++;
	}
out_unlock:
	pthread_mutex_unlock(&s->q_mu);
	if (oom && kept)
		vgl_err("host %s (id %lld): out of memory queueing %s (time %lld); it is lost",
			op->kind != OP_CURSOR && op->kind != OP_ALARM && strs[S_NAME] ? strs[S_NAME]
											 : "?",
			(long long)op->host_id, op_what(op->kind), (long long)op->ts_ms);
}

/* ---- a poll's values as JSON ------------------------------------------- */

static int fmt_reserve(struct vgl_store *s, size_t used, size_t more)
{
	size_t cap;
	char *b;

	if (s->fmt_cap - used >= more)
		return 0;
	cap = s->fmt_cap ? s->fmt_cap : 1024;
	while (cap - used < more)
		cap *= 2;
	b = realloc(s->fmt, cap);
	if (!b)
		return -1;
	s->fmt = b;
	s->fmt_cap = cap;
	return 0;
}

/* Writes v with the fewest characters that read back as the same double:
 * most SNMP values are integers, which skip printf. */
static size_t fmt_number(char *out, double v)
{
	char tmp[24];
	size_t n = 0, len = 0;
	uint64_t u;

	if (!isfinite(v))
		return (size_t)sprintf(out, "null");
	if (v >= -9007199254740992.0 && v <= 9007199254740992.0 && v == (double)(int64_t)v) {
		int64_t i = (int64_t)v;
		if (i < 0)
			out[len++] = '-';
		u = i < 0 ? (uint64_t)0 - (uint64_t)i : (uint64_t)i;
		do {
			tmp[n++] = (char)('0' + u % 10);
			u /= 10;
		} while (u);
		while (n)
			out[len++] = tmp[--n];
		out[len] = 0;
		return len;
	}
	return (size_t)sprintf(out, "%.17g", v);
}

/* The poll's values as one JSON object, metric name -> number, or the
 * quality's name for a value that did not come back ok. NULL when out of
 * memory (the caller then records the poll without values). */
static const char *values_json(struct vgl_store *s, const struct vgl_value *values,
			       const struct vgl_conf_metric *metrics, size_t n)
{
	size_t used = 0;

	for (size_t i = 0; i < n; i++) {
		const char *name = metrics[i].name;
		const struct vgl_value *v = &values[i];
		/* name escaped (at most 6 bytes per byte), quotes, colon,
		 * comma, a number or a quality name, the closing brace */
		if (fmt_reserve(s, used, strlen(name) * 6 + 40) != 0)
			return NULL;
		s->fmt[used++] = i ? ',' : '{';
		s->fmt[used++] = '"';
		for (const unsigned char *c = (const unsigned char *)name; *c; c++) {
			if (*c == '"' || *c == '\\') {
				s->fmt[used++] = '\\';
				s->fmt[used++] = (char)*c;
			} else if (*c < 0x20) {
				used += (size_t)sprintf(s->fmt + used, "\\u%04x", *c);
			} else {
				s->fmt[used++] = (char)*c;
			}
		}
		s->fmt[used++] = '"';
		s->fmt[used++] = ':';
		if (v->q == VGL_Q_OK)
			used += fmt_number(s->fmt + used, v->v);
		else
			used += (size_t)sprintf(s->fmt + used, "\"%s\"", vgl_quality_name(v->q));
	}
	if (fmt_reserve(s, used, 3) != 0)
		return NULL;
	if (!n)
		s->fmt[used++] = '{';
	s->fmt[used++] = '}';
	s->fmt[used] = 0;
	return s->fmt;
}

void vgl_store_host_polled(struct vgl_store *s, int64_t host_id,
			   const struct vgl_poll_result *r, const struct vgl_value *values,
			   const struct vgl_conf_metric *metrics, size_t n_metrics)
{
	struct op op = { .host_id = host_id, .ts_ms = r->ts_ms, .kind = OP_POLLED,
			 .q = (uint8_t)r->quality };
	const char *strs[S_COUNT] = { NULL, NULL, NULL, NULL };

	/* A failed poll that measured nothing carries no news about the
	 * values: the row keeps the last ones and says the poll failed. One
	 * that did measure (a refused connect: up = 0) is news. */
	int news = r->quality == VGL_Q_OK;

	for (size_t i = 0; !news && i < r->n_values; i++)
		news = r->values[i].q == VGL_Q_OK;
	if (news)
		strs[S_NAME] = values_json(s, values, metrics, n_metrics);
	enqueue(s, &op, strs);
}
void vgl_store_counter(struct vgl_store *s, int64_t host_id, int64_t ts_ms, uint64_t total,
		       uint64_t failed)
{
	struct op op = { .host_id = host_id, .ts_ms = ts_ms, .total = total, .failed = failed,
			 .kind = OP_COUNTER };
	const char *strs[S_COUNT] = { NULL, NULL, NULL, NULL };

	enqueue(s, &op, strs);
}

void vgl_store_host_power(struct vgl_store *s, int64_t host_id, const char *text,
			  int unpolled)
{
	struct op op = { .host_id = host_id, .kind = OP_POWER, .q = (uint8_t)(unpolled != 0) };
	const char *strs[S_COUNT] = { text, NULL, NULL, NULL };

	enqueue(s, &op, strs);
}

void vgl_store_interval_open(struct vgl_store *s, int64_t host_id, const char *host_name,
			     const char *cause, const char *rule, int64_t start_ms,
			     const char *evidence_json, uint32_t poll_interval_ms)
{
	struct op op = { .host_id = host_id, .ts_ms = start_ms, .kind = OP_OPEN,
			 .poll_interval_ms = poll_interval_ms };
	const char *strs[S_COUNT] = { host_name, cause ? cause : "unknown",
				      rule ? rule : "unknown", evidence_json };

	enqueue(s, &op, strs);
}

void vgl_store_interval_close(struct vgl_store *s, int64_t host_id, const char *host_name,
			      int64_t end_ms, const char *rule, const char *evidence_json)
{
	struct op op = { .host_id = host_id, .ts_ms = end_ms, .kind = OP_CLOSE };
	const char *strs[S_COUNT] = { host_name, NULL, rule ? rule : "unknown", evidence_json };

	enqueue(s, &op, strs);
}

void vgl_store_interval_cause(struct vgl_store *s, int64_t host_id, const char *host_name,
			      const char *cause, const char *attribution_json)
{
	/* Stamped here: when the daemon revised it, not when the batch ran. */
	struct op op = { .host_id = host_id, .ts_ms = vgl_now_ms(), .kind = OP_CAUSE };
	const char *strs[S_COUNT] = { host_name, cause ? cause : "unknown", NULL,
				      attribution_json };

	enqueue(s, &op, strs);
}

void vgl_store_bmc_cursor(struct vgl_store *s, int64_t host_id, const char *source,
			  const char *cursor)
{
	struct op op = { .host_id = host_id, .kind = OP_CURSOR };
	const char *strs[S_COUNT] = { source ? source : "", NULL, NULL, cursor ? cursor : "" };

	enqueue(s, &op, strs);
}

void vgl_store_alarm(struct vgl_store *s, enum vgl_store_alarm_op aop, int64_t host_id,
		     const char *doc)
{
	struct op op = { .host_id = host_id, .kind = OP_ALARM, .q = (uint8_t)aop };
	const char *strs[S_COUNT] = { NULL, NULL, NULL, doc };

	enqueue(s, &op, strs);
}

void vgl_store_set_max_queued(struct vgl_store *s, size_t max_queued)
{
	pthread_mutex_lock(&s->q_mu);
	s->max_queued = max_queued;
	pthread_mutex_unlock(&s->q_mu);
}

void vgl_store_get_stats(struct vgl_store *s, struct vgl_store_stats *out)
{
	int64_t first;

	pthread_mutex_lock(&s->q_mu);
	*out = s->stats;
	out->queued = s->q.n + s->work.n;
	/* s->work, when not empty, was queued before anything in s->q (a
	 * failed batch is kept and retried whole) */
	first = s->work.n ? s->work.first_ms : s->q.n ? s->q.first_ms : 0;
	pthread_mutex_unlock(&s->q_mu);
	out->oldest_queued_ms = 0;
	if (first) {
		int64_t age = vgl_mono_ms() - first;
		out->oldest_queued_ms = age > 0 ? (uint64_t)age : 0;
	}
	pthread_mutex_lock(&s->ev_mu);
	out->committed_lost = s->committed_lost;
	pthread_mutex_unlock(&s->ev_mu);
}
