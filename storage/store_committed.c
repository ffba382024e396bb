/* The daemon's writer: committed transitions handed back to the loop.
 * A file of its own because alarms, the outbox and live updates rely on
 * exactly this: an event is queued only after its COMMIT returned, in
 * commit order, and taken by the loop once. It has its own lock, ev_mu,
 * never taken with q_mu or db_mu held, so the loop draining events never
 * waits on a batch. Threads, locks and invariants: the top of store.c.
 */
#include "storage/store_int.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"

static void ev_free(struct ev *e)
{
	free(e->host);
	free(e->cause);
	free(e->rule);
}

/* After COMMIT: this batch's transitions, in the order they were written,
 * queued for the loop; then one wake-up for all of them. */
void vgl__store_queue_committed(struct vgl_store *s)
{
	size_t transitions = 0;

	if (!s->n_done)
		return;
	pthread_mutex_lock(&s->ev_mu);
	for (size_t i = 0; i < s->n_done; i++) {
		const struct done *d = &s->done[i];
		const struct op *op = &s->work.ops[d->op];
		const char *name = vgl__store_queue_str(&s->work, op->str[S_NAME]);
		const char *rule = vgl__store_queue_str(&s->work, op->str[S_RULE]);
		struct ev *e;

		/* Cause revisions are logged, not handed back: nothing reacts
		 * to them yet. */
		if (op->kind != OP_OPEN && op->kind != OP_CLOSE && op->kind != OP_ALARM)
			continue;
		transitions++;
		if (s->n_evs == s->cap_evs) {
			size_t cap = s->cap_evs ? s->cap_evs * 2 : 64;
			struct ev *n = realloc(s->evs, cap * sizeof(*n));

			if (!n)
				goto out_lost;
			s->evs = n;
			s->cap_evs = cap;
		}
		e = &s->evs[s->n_evs];
		memset(e, 0, sizeof(*e));
		e->host = strdup(name ? name : "?");
		e->cause = strdup(op->kind == OP_ALARM ? "" : d->cause);
		e->rule = strdup(rule ? rule : "");
		if (!e->host || !e->cause || !e->rule) {
			ev_free(e);
			goto out_lost;
		}
		if (op->kind == OP_ALARM) {
			e->c = (struct vgl_store_committed){
				.kind = VGL_COMMITTED_OUTBOX, .host_id = op->host_id,
				.outbox_id = d->interval_id, .seq = ++s->ev_seq,
			};
			s->n_evs++;
			continue;
		}
		e->c = (struct vgl_store_committed){
			.kind = op->kind == OP_OPEN ? VGL_COMMITTED_OPEN : VGL_COMMITTED_CLOSE,
			.host_id = op->host_id, .interval_id = d->interval_id,
			.start_ms = d->start_ms, .end_ms = op->kind == OP_OPEN ? 0 : op->ts_ms,
			.seq = ++s->ev_seq,
		};
		s->n_evs++;
		continue;
out_lost:
		/* The row is durable and logged; only the loop will not hear of it. */
		s->committed_lost++;
		vgl_err("store: out of memory: committed transition of interval %lld not handed "
			"to the loop", (long long)d->interval_id);
	}
	if (s->wake && transitions)
		s->wake(s->wake_ctx);
	pthread_mutex_unlock(&s->ev_mu);
}

void vgl_store_on_committed(struct vgl_store *s, vgl_store_wake_fn *wake, void *ctx)
{
	pthread_mutex_lock(&s->ev_mu);
	s->wake = wake;
	s->wake_ctx = ctx;
	pthread_mutex_unlock(&s->ev_mu);
}

size_t vgl_store_drain_committed(struct vgl_store *s, vgl_store_committed_fn *fn, void *ctx)
{
	struct ev *evs;
	size_t n;

	/* Taken whole, so fn runs without the lock and the writer can go on
	 * queueing the next batch's events meanwhile. */
	pthread_mutex_lock(&s->ev_mu);
	evs = s->evs;
	n = s->n_evs;
	s->evs = NULL;
	s->n_evs = s->cap_evs = 0;
	pthread_mutex_unlock(&s->ev_mu);
	for (size_t i = 0; i < n; i++) {
		struct ev *e = &evs[i];

		e->c.host = e->host;
		e->c.cause = e->cause;
		e->c.rule = e->rule;
		if (fn)
			fn(ctx, &e->c);
		ev_free(e);
	}
	free(evs);
	return n;
}
