/* The recent samples of one metric of one host, for the window functions
 * of alarm rules (avg, min, max, last, delta, rate, changes: rules/expr.h,
 * docs/rules.md).
 *
 * A bounded ring of (ts_ms, value) pairs in time order. Only good values
 * are pushed (a poll that failed or left the metric absent pushes
 * nothing), so a window holds what was actually measured and a gap in the
 * data is a gap in the window.
 *
 * Memory bound: 16 bytes per sample plus a 16-byte header, one allocation;
 * cap is at most VGL_WINDOW_MAX_SAMPLES (16 KiB a window). The rules engine
 * keeps one window per (host, metric read by a window function) with the
 * cap vgl_window_cap_for gives for the longest span over it, so the whole
 * cost is known at config load. A span longer than cap * interval sees only
 * the newest cap samples: the oldest are dropped, never the newest.
 *
 * Nothing here allocates except vgl_window_new; evaluation is O(samples in
 * the span) and reads no clock: now comes in as an argument. Not
 * thread-safe: one owner.
 */
#ifndef VGL_RULES_WINDOW_H
#define VGL_RULES_WINDOW_H

#include <stdint.h>

#define VGL_WINDOW_MAX_SAMPLES 1024

struct vgl_window;

/* An empty window of cap samples (cap above VGL_WINDOW_MAX_SAMPLES is
 * taken as that). NULL when cap is 0 or out of memory. */
struct vgl_window *vgl_window_new(uint32_t cap);
void vgl_window_free(struct vgl_window *w);

uint32_t vgl_window_cap(const struct vgl_window *w);
uint32_t vgl_window_len(const struct vgl_window *w);

/* Appends a good sample. Time must not go back: a sample older than the
 * newest held is ignored (a late or replayed result must not reorder the
 * window); one with the same ts is kept. When full, the oldest is dropped. */
void vgl_window_push(struct vgl_window *w, int64_t ts_ms, double v);

/* Makes dst hold the newest min(len(src), cap(dst)) samples of src, and
 * nothing else: carries a metric's history across a config reload that
 * changes the cap. */
void vgl_window_copy(struct vgl_window *dst, const struct vgl_window *src);

/* The i-th sample held, 0 = oldest. 0, or -1 when i >= len. */
int vgl_window_at(const struct vgl_window *w, uint32_t i, int64_t *ts_ms, double *v);
/* The newest sample. 0, or -1 when empty. */
int vgl_window_newest(const struct vgl_window *w, int64_t *ts_ms, double *v);

/* A cap that holds every sample of a span polled every interval_ms, with
 * room for jitter in the poll times; at most VGL_WINDOW_MAX_SAMPLES. */
uint32_t vgl_window_cap_for(uint32_t span_ms, uint32_t interval_ms);

/* The window functions, over the samples with ts in [now_ms - span_ms,
 * now_ms] (both ends included; samples after now_ms, left by a clock that
 * stepped back, are not in it):
 *   AVG, MIN, MAX   of the values; needs 1 sample
 *   LAST            the newest value; needs 1
 *   DELTA           newest - oldest (a gauge's change); needs 2
 *   RATE            a counter's increase per second: the sum of the
 *                   increases between consecutive samples
 *                   (vgl_window_counter_increase) over
 *                   (t_newest - t_oldest) / 1000; needs 2 and t_newest >
 *                   t_oldest
 *   CHANGES         how many consecutive pairs differ; needs 1 (1 sample:
 *                   0 changes)
 * 0 and *out, or -1 (unknown) with fewer samples than needed. */
enum vgl_window_fn {
	VGL_WINDOW_AVG,
	VGL_WINDOW_MIN,
	VGL_WINDOW_MAX,
	VGL_WINDOW_LAST,
	VGL_WINDOW_DELTA,
	VGL_WINDOW_RATE,
	VGL_WINDOW_CHANGES,
};

int vgl_window_eval(const struct vgl_window *w, enum vgl_window_fn fn, int64_t now_ms,
		    uint32_t span_ms, double *out);

/* How much a counter grew from prev to cur. A decrease is read as:
 *  - a 32-bit wrap when prev < 2^32 and 2^32 - prev + cur < 2^31;
 *  - a 64-bit wrap when prev >= 2^32 and 2^64 - prev + cur < 2^63;
 *  - otherwise a reset (agent restart, counter cleared), whose increase is
 *    cur: everything counted since the reset.
 * The half-range limits keep a reset to a small value from being taken for
 * a wrap that would claim billions of events. Values are doubles, so above
 * 2^53 an increase is exact only to the spacing of doubles there. */
double vgl_window_counter_increase(double prev, double cur);

#endif
