/* Debouncing a three-valued condition: "K consecutive failures" and "holds
 * for D ms", shared by availability conditions and (later) alarm rules.
 * No clock and no allocation: the caller embeds the state, keeps the
 * configuration (the same for every host, so it is stored once, not per
 * host) and passes the observation's time in. Loop thread only.
 *
 * States of one struct vgl_debounce (a zeroed struct is IDLE):
 *
 *   IDLE ----(TRUE)----> PENDING ----(K TRUEs / D ms)----> FIRED
 *     ^                     |                                |
 *     +-------(FALSE)-------+-------------(FALSE)------------+
 *
 *  - TRUE while IDLE starts a run: since_ms = this observation, count = 1.
 *    Every TRUE adds one to count (saturating).
 *  - VGL_DEB_COUNT, K = n (0 is taken as 1): after each TRUE the state is
 *    FIRED exactly when count >= K, else PENDING. K == 1 fires at the
 *    first TRUE.
 *  - VGL_DEB_FOR, D = n ms: a TRUE with now_ms - since_ms >= D fires;
 *    FIRED then stays FIRED on TRUE (even if the clock stepped back).
 *    D == 0 fires at the first TRUE. UNKNOWN observations between do not
 *    count: D must be reached by a TRUE one.
 *  - FALSE: IDLE from any state, count = 0.
 *  - UNKNOWN (missing data): nothing changes, in any state.
 *
 * vgl_debounce_observe returns VGL_DEB_FIRE on entering FIRED and
 * VGL_DEB_CLEAR on leaving it for IDLE; a run that ends before firing, or
 * an adopted one that drops back (below), returns VGL_DEB_NONE.
 *
 * Invariants: outside IDLE, count >= 1 and since_ms is the first TRUE of the
 * current run (so an interval opened on FIRED starts at the first failing
 * observation); in IDLE, count == 0 and since_ms means nothing. A run
 * observed from its start that is FIRED in COUNT mode has count >= K.
 *
 * vgl_debounce_adopt makes the state FIRED without observing the run: a
 * restart or a reload that knows the condition held. In COUNT mode the next
 * TRUE checks count against K again, so a reload that raised K takes an
 * adopted run with fewer failures back to PENDING until it has K (the run
 * goes on, since_ms kept). That is how availability has always treated a
 * reload; an observed run never drops back, since count only grows.
 *
 * Hysteresis (struct vgl_debounce_hyst): a FIRED state that is left only
 * when a clear condition holds, itself debounced (K clear observations in a
 * row, or clear for D ms), so a value hovering at a threshold does not
 * flap:
 *
 *   IDLE <--> PENDING ----(fire rule)----> FIRED ----(clear rule)----> IDLE
 *
 *  - Not FIRED: `in` drives h->fire exactly as above; clear_in is ignored.
 *  - FIRED: `in` TRUE still adds to h->fire.count; `in` FALSE does not
 *    clear. clear_in drives h->clear as its own debouncer (a clear run
 *    starts at a TRUE clear_in, is broken by a FALSE one, unchanged by
 *    UNKNOWN); when h->clear fires, both go IDLE: VGL_DEB_CLEAR. The
 *    observation that clears does not start a new run.
 *  - clear_in is a separate condition (fire at temp > 50, clear at
 *    temp < 45), or vgl_debounce_not(in) to clear after K FALSE
 *    observations / D ms of FALSE on the same condition. A clear rule of
 *    {VGL_DEB_COUNT, 1} over vgl_debounce_not(in) behaves as the plain
 *    debouncer.
 *  - Invariants: h->clear is IDLE whenever h->fire is not FIRED, and never
 *    FIRED between calls; h->fire.since_ms stays the first TRUE of the run
 *    that fired until it clears.
 */
#ifndef VGL_DEBOUNCE_H
#define VGL_DEBOUNCE_H

#include <stdint.h>

#include "rules/expr.h"

enum vgl_debounce_mode {
	VGL_DEB_COUNT = 0,      /* n consecutive TRUE observations */
	VGL_DEB_FOR = 1,        /* TRUE at every observation for at least n ms */
};

enum vgl_debounce_state { VGL_DEB_IDLE = 0, VGL_DEB_PENDING, VGL_DEB_FIRED };

enum vgl_debounce_transition { VGL_DEB_NONE = 0, VGL_DEB_FIRE, VGL_DEB_CLEAR };

/* Per rule, shared by every host that uses it. */
struct vgl_debounce_cfg {
	uint32_t mode;          /* enum vgl_debounce_mode */
	uint32_t n;             /* COUNT: K (0 = 1); FOR: D in ms */
};

/* Per host and rule: 16 bytes. */
struct vgl_debounce {
	int64_t since_ms;       /* first TRUE observation of the current run */
	uint32_t count;         /* TRUE observations in the run, saturating */
	uint8_t state;          /* enum vgl_debounce_state */
};

struct vgl_debounce_hyst_cfg {
	struct vgl_debounce_cfg fire, clear;
};

struct vgl_debounce_hyst {
	struct vgl_debounce fire;   /* the condition's run; FIRED = latched */
	struct vgl_debounce clear;  /* the clear condition's run, while FIRED */
};

static inline enum vgl_tri vgl_debounce_not(enum vgl_tri t)
{
	return t == VGL_UNKNOWN ? VGL_UNKNOWN : (t == VGL_TRUE ? VGL_FALSE : VGL_TRUE);
}

void vgl_debounce_init(struct vgl_debounce *d);

enum vgl_debounce_transition vgl_debounce_observe(struct vgl_debounce *d,
						  const struct vgl_debounce_cfg *cfg,
						  enum vgl_tri in, int64_t now_ms);

/* FIRED since since_ms with count TRUE observations (0 is taken as 1). */
void vgl_debounce_adopt(struct vgl_debounce *d, int64_t since_ms, uint32_t count);

void vgl_debounce_hyst_init(struct vgl_debounce_hyst *h);

enum vgl_debounce_transition vgl_debounce_hyst_observe(struct vgl_debounce_hyst *h,
						       const struct vgl_debounce_hyst_cfg *cfg,
						       enum vgl_tri in, enum vgl_tri clear_in,
						       int64_t now_ms);

/* FIRED as vgl_debounce_adopt, with no clear run in progress. */
void vgl_debounce_hyst_adopt(struct vgl_debounce_hyst *h, int64_t since_ms, uint32_t count);

#endif
