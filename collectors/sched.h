/* One scheduler for every collector back end: sources come due on a fixed
 * grid of their interval, on the loop's monotonic clock, with no timer per
 * source.
 *
 * Sources of one interval form a group: a list sorted by next_due and one
 * uv_timer armed at its head, so a poll costs a pop and an append, not two
 * heap operations (100,000 hosts: one timer per interval in use). A source
 * added joins its group's pending list; at the group's next tick (armed at
 * 0 by the add) the pending ones are spread evenly over one interval in
 * `order` (the host index), in whole slots of interval/30 (10 ms to 1 s):
 * neighbours in the config are polled in the same slot, so the storage
 * writer's batches touch few pages, and the load is even over the interval.
 *
 * Invariants:
 *  - each entry is in exactly one list of its group (pending or scheduled);
 *    the scheduled list is sorted by next_due after every tick;
 *  - next_due advances by whole intervals: late ticks do not drift the
 *    grid, and a period missed entirely (a stalled loop) is counted in
 *    missed instead of being run late;
 *  - no due callback runs after vgl_sched_close.
 *
 * Whether a due source is polled, queued or skipped (its previous poll
 * still running) is the back end's call in due(); after each tick's batch
 * of due entries, tick(ctx) runs once (SNMP sends its queued requests
 * then, one sendmmsg per channel).
 */
#ifndef VGL_SCHED_H
#define VGL_SCHED_H

#include <stddef.h>
#include <stdint.h>

#include <uv.h>

struct vgl_sched_group;

/* Embedded in the back end's per-source struct (container_of to get it). */
struct vgl_sched_entry {
	uint64_t next_due;              /* loop time (ms) of the next poll */
	uint32_t order;                 /* spread order within the group */
	struct vgl_sched_entry *next;   /* in its group's list */
	struct vgl_sched_group *grp;
};

typedef void vgl_sched_due_fn(void *ctx, struct vgl_sched_entry *e);
typedef void vgl_sched_tick_fn(void *ctx);

struct vgl_sched;

/* 0 and *out, or -ENOMEM. tick may be NULL. */
int vgl_sched_new(uv_loop_t *loop, vgl_sched_due_fn *due, vgl_sched_tick_fn *tick, void *ctx,
		  struct vgl_sched **out);
/* e joins the group of interval_ms (created on first use); its first due
 * time is placed at that group's next tick. e must stay valid until close.
 * 0, -ENOMEM or a UV_E* code. */
int vgl_sched_add(struct vgl_sched *s, struct vgl_sched_entry *e, uint32_t interval_ms,
		  uint32_t order);
/* The threads of libuv's pool (UV_THREADPOOL_SIZE as libuv reads it:
 * default 4, at most 1024), which the back ends that block (Modbus,
 * IPMI) share and bound their jobs by. */
uint32_t vgl_sched_pool_size(void);
/* Periods missed entirely since creation (each a skipped poll). */
uint64_t vgl_sched_missed(const struct vgl_sched *s);
/* Stops every group; done(ctx) runs once the last timer is closed, after
 * which s is freed. No due or tick callback after this call. */
void vgl_sched_close(struct vgl_sched *s, void (*done)(void *ctx), void *ctx);

#endif
