/* See collectors/sched.h. */
#include "collectors/sched.h"

#include <errno.h>
#include <stdlib.h>

#define SPREAD_SLOT_MIN_MS 10
#define SPREAD_SLOT_MAX_MS 1000
#define SPREAD_SLOTS 30

struct vgl_sched_group {
	struct vgl_sched *s;
	uint32_t iv;
	struct vgl_sched_entry *head, *tail;            /* scheduled, by next_due */
	struct vgl_sched_entry *pend, *pend_tail;       /* added, no offset yet */
	size_t n_sched, n_pend;
	uv_timer_t timer;
	struct vgl_sched_group *next;
};

struct vgl_sched {
	uv_loop_t *loop;
	vgl_sched_due_fn *due;
	vgl_sched_tick_fn *tick;
	void *ctx;
	struct vgl_sched_group *groups;
	uint64_t missed;
	unsigned open_timers;
	int closing;
	void (*done)(void *ctx);
	void *done_ctx;
};

int vgl_sched_new(uv_loop_t *loop, vgl_sched_due_fn *due, vgl_sched_tick_fn *tick, void *ctx,
		  struct vgl_sched **out)
{
	struct vgl_sched *s = calloc(1, sizeof(*s));

	*out = NULL;
	if (!s)
		return -ENOMEM;
	s->loop = loop;
	s->due = due;
	s->tick = tick;
	s->ctx = ctx;
	*out = s;
	return 0;
}

static int due_before(const struct vgl_sched_entry *a, const struct vgl_sched_entry *b)
{
	return a->next_due < b->next_due;
}

static int order_before(const struct vgl_sched_entry *a, const struct vgl_sched_entry *b)
{
	return a->order < b->order;
}

/* Merges two lists sorted by before(); on ties a's entries come first. */
static struct vgl_sched_entry *merge(struct vgl_sched_entry *a, struct vgl_sched_entry *b,
				     int (*before)(const struct vgl_sched_entry *,
						   const struct vgl_sched_entry *))
{
	struct vgl_sched_entry *out = NULL, **tail = &out;

	while (a && b) {
		if (before(b, a)) {
			*tail = b;
			b = b->next;
		} else {
			*tail = a;
			a = a->next;
		}
		tail = &(*tail)->next;
	}
	*tail = a ? a : b;
	return out;
}

/* Stable merge sort of a list of exactly n entries. */
static struct vgl_sched_entry *sort(struct vgl_sched_entry *l, size_t n,
				    int (*before)(const struct vgl_sched_entry *,
						  const struct vgl_sched_entry *))
{
	struct vgl_sched_entry *mid = l, *b;

	if (n < 2)
		return l;
	for (size_t i = 1; i < n / 2; i++)
		mid = mid->next;
	b = mid->next;
	mid->next = NULL;
	return merge(sort(l, n / 2, before), sort(b, n - n / 2, before), before);
}

static void set_tail(struct vgl_sched_group *g)
{
	struct vgl_sched_entry *e = g->head;

	while (e && e->next)
		e = e->next;
	g->tail = e;
}

/* The entries added since the last tick, evenly over one interval in
 * order, in whole slots; then merged into the schedule. */
static void place_pending(struct vgl_sched_group *g, uint64_t now)
{
	uint64_t slot = g->iv / SPREAD_SLOTS, nslots;
	struct vgl_sched_entry *l;
	size_t i = 0, n = g->n_pend;

	if (slot < SPREAD_SLOT_MIN_MS)
		slot = SPREAD_SLOT_MIN_MS;
	if (slot > SPREAD_SLOT_MAX_MS)
		slot = SPREAD_SLOT_MAX_MS;
	if (g->iv < 2 * slot)
		slot = 1;
	nslots = g->iv / slot;
	l = sort(g->pend, n, order_before);
	for (struct vgl_sched_entry *e = l; e; e = e->next, i++)
		e->next_due = now + (uint64_t)i * nslots / n * slot;
	g->head = merge(g->head, l, due_before);
	g->n_sched += n;
	g->pend = g->pend_tail = NULL;
	g->n_pend = 0;
	set_tail(g);
}

static void on_group_timer(uv_timer_t *t);

static void arm(struct vgl_sched_group *g, uint64_t now)
{
	if (!g->head) {
		uv_timer_stop(&g->timer);
		return;
	}
	uv_timer_start(&g->timer, on_group_timer,
		       g->head->next_due > now ? g->head->next_due - now : 0, 0);
}

static void on_group_timer(uv_timer_t *t)
{
	struct vgl_sched_group *g = t->data;
	struct vgl_sched *s = g->s;
	uint64_t now = uv_now(s->loop);
	int unsorted = 0;

	if (s->closing)
		return;
	if (g->pend)
		place_pending(g, now);
	while (g->head && g->head->next_due <= now) {
		struct vgl_sched_entry *e = g->head;

		g->head = e->next;
		e->next = NULL;
		s->due(s->ctx, e);
		/* A due callback may close the scheduler (a result callback
		 * that closes its collector): stop touching the lists then. */
		if (s->closing)
			return;
		e->next_due += g->iv;
		while (e->next_due <= now) {
			e->next_due += g->iv;
			s->missed++;
		}
		/* Without misses, next_due = old + iv is at least the tail's
		 * (every due time lies within one interval of the head's), so
		 * the list stays sorted. After a stall of a whole interval the
		 * misses wrap some phases around: sort once, below. */
		if (!g->head) {
			g->head = e;
		} else {
			unsorted |= e->next_due < g->tail->next_due;
			g->tail->next = e;
		}
		g->tail = e;
	}
	if (unsorted) {
		g->head = sort(g->head, g->n_sched, due_before);
		set_tail(g);
	}
	arm(g, now);
	if (s->tick)
		s->tick(s->ctx);
}

static int group_for(struct vgl_sched *s, uint32_t iv, struct vgl_sched_group **out)
{
	struct vgl_sched_group *g;
	int rv;

	for (g = s->groups; g; g = g->next) {
		if (g->iv == iv) {
			*out = g;
			return 0;
		}
	}
	g = calloc(1, sizeof(*g));
	if (!g)
		return -ENOMEM;
	rv = uv_timer_init(s->loop, &g->timer);
	if (rv < 0) {
		free(g);
		return rv;
	}
	g->s = s;
	g->iv = iv;
	g->timer.data = g;
	g->next = s->groups;
	s->groups = g;
	s->open_timers++;
	*out = g;
	return 0;
}

int vgl_sched_add(struct vgl_sched *s, struct vgl_sched_entry *e, uint32_t interval_ms,
		  uint32_t order)
{
	struct vgl_sched_group *g;
	int rv;

	if (s->closing)
		return -ECANCELED;
	rv = group_for(s, interval_ms ? interval_ms : 60000, &g);
	if (rv < 0)
		return rv;
	e->grp = g;
	e->order = order;
	e->next = NULL;
	/* The first poll's offset is given at the group's next tick, once
	 * every source added in this go is known (they arrive one by one). */
	if (g->pend_tail)
		g->pend_tail->next = e;
	else
		g->pend = e;
	g->pend_tail = e;
	if (g->n_pend++ == 0)
		uv_timer_start(&g->timer, on_group_timer, 0, 0);
	return 0;
}

uint64_t vgl_sched_missed(const struct vgl_sched *s)
{
	return s->missed;
}

static void group_closed(uv_handle_t *hd)
{
	struct vgl_sched_group *g = hd->data;
	struct vgl_sched *s = g->s;

	free(g);
	if (--s->open_timers == 0) {
		if (s->done)
			s->done(s->done_ctx);
		free(s);
	}
}

void vgl_sched_close(struct vgl_sched *s, void (*done)(void *ctx), void *ctx)
{
	if (!s || s->closing)
		return;
	s->closing = 1;
	s->done = done;
	s->done_ctx = ctx;
	if (!s->groups) {
		if (done)
			done(ctx);
		free(s);
		return;
	}
	for (struct vgl_sched_group *g = s->groups, *next; g; g = next) {
		next = g->next;
		uv_close((uv_handle_t *)&g->timer, group_closed);
	}
	s->groups = NULL;
}

uint32_t vgl_sched_pool_size(void)
{
	const char *e = getenv("UV_THREADPOOL_SIZE");
	long n = e ? strtol(e, NULL, 10) : 4;

	return n < 1 ? 4 : n > 1024 ? 1024 : (uint32_t)n;
}
