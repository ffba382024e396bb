/* A metric's recent samples (rules/window.h).
 *
 * Invariants: len <= cap; the samples held are s[(head + i) % cap] for
 * i in [0, len), oldest first, with non-decreasing ts.
 */
#include "rules/window.h"

#include <stdlib.h>

struct sample {
	int64_t ts_ms;
	double v;
};

/* The memory bound documented in the header counts on this. */
_Static_assert(sizeof(struct sample) == 16, "a window sample is 16 bytes");

struct vgl_window {
	uint32_t cap, len, head;
	struct sample s[];
};

struct vgl_window *vgl_window_new(uint32_t cap)
{
	struct vgl_window *w;

	if (cap == 0)
		return NULL;
	if (cap > VGL_WINDOW_MAX_SAMPLES)
		cap = VGL_WINDOW_MAX_SAMPLES;
	w = malloc(sizeof(*w) + (size_t)cap * sizeof(w->s[0]));
	if (!w)
		return NULL;
	w->cap = cap;
	w->len = 0;
	w->head = 0;
	return w;
}

void vgl_window_free(struct vgl_window *w)
{
	free(w);
}

uint32_t vgl_window_cap(const struct vgl_window *w)
{
	return w ? w->cap : 0;
}

uint32_t vgl_window_len(const struct vgl_window *w)
{
	return w ? w->len : 0;
}

static const struct sample *at(const struct vgl_window *w, uint32_t i)
{
	return &w->s[(w->head + i) % w->cap];
}

void vgl_window_push(struct vgl_window *w, int64_t ts_ms, double v)
{
	if (!w)
		return;
	if (w->len && ts_ms < at(w, w->len - 1)->ts_ms)
		return;
	if (w->len == w->cap) {
		w->s[w->head] = (struct sample){ ts_ms, v };
		w->head = (w->head + 1) % w->cap;
		return;
	}
	w->s[(w->head + w->len) % w->cap] = (struct sample){ ts_ms, v };
	w->len++;
}

void vgl_window_copy(struct vgl_window *dst, const struct vgl_window *src)
{
	uint32_t n;

	if (!dst || dst == src)
		return;
	dst->len = 0;
	dst->head = 0;
	if (!src)
		return;
	n = src->len < dst->cap ? src->len : dst->cap;
	for (uint32_t i = src->len - n; i < src->len; i++)
		dst->s[dst->len++] = *at(src, i);
}

int vgl_window_at(const struct vgl_window *w, uint32_t i, int64_t *ts_ms, double *v)
{
	if (!w || i >= w->len)
		return -1;
	if (ts_ms)
		*ts_ms = at(w, i)->ts_ms;
	if (v)
		*v = at(w, i)->v;
	return 0;
}

int vgl_window_newest(const struct vgl_window *w, int64_t *ts_ms, double *v)
{
	return w && w->len ? vgl_window_at(w, w->len - 1, ts_ms, v) : -1;
}

uint32_t vgl_window_cap_for(uint32_t span_ms, uint32_t interval_ms)
{
	/* A span of D holds at most D / interval + 1 samples on a perfect
	 * schedule; one more absorbs a poll that ran a little early. */
	uint64_t n = (interval_ms ? span_ms / interval_ms : (uint64_t)VGL_WINDOW_MAX_SAMPLES) + 2;

	return n > VGL_WINDOW_MAX_SAMPLES ? VGL_WINDOW_MAX_SAMPLES : (uint32_t)n;
}

#define TWO32 4294967296.0
#define TWO31 2147483648.0
#define TWO64 18446744073709551616.0
#define TWO63 9223372036854775808.0

double vgl_window_counter_increase(double prev, double cur)
{
	if (cur >= prev)
		return cur - prev;
	if (prev < TWO32 && TWO32 - prev + cur < TWO31)
		return TWO32 - prev + cur;
	if (prev >= TWO32 && TWO64 - prev + cur < TWO63)
		return TWO64 - prev + cur;
	return cur;
}

int vgl_window_eval(const struct vgl_window *w, enum vgl_window_fn fn, int64_t now_ms,
		    uint32_t span_ms, double *out)
{
	int64_t from = now_ms - (int64_t)span_ms;
	uint32_t hi, lo, n;
	const struct sample *a, *b;
	double r;

	if (!w || w->len == 0)
		return -1;
	/* [lo, hi) are the samples inside the span: walk back from the newest,
	 * which costs only what the span holds (plus any future samples). */
	hi = w->len;
	while (hi > 0 && at(w, hi - 1)->ts_ms > now_ms)
		hi--;
	lo = hi;
	while (lo > 0 && at(w, lo - 1)->ts_ms >= from)
		lo--;
	n = hi - lo;
	if (n == 0)
		return -1;
	a = at(w, lo);
	b = at(w, hi - 1);
	switch (fn) {
	case VGL_WINDOW_AVG:
		r = 0;
		for (uint32_t i = lo; i < hi; i++)
			r += at(w, i)->v;
		r /= n;
		break;
	case VGL_WINDOW_MIN:
	case VGL_WINDOW_MAX:
		r = a->v;
		for (uint32_t i = lo + 1; i < hi; i++) {
			double v = at(w, i)->v;

			if (fn == VGL_WINDOW_MIN ? v < r : v > r)
				r = v;
		}
		break;
	case VGL_WINDOW_LAST:
		r = b->v;
		break;
	case VGL_WINDOW_DELTA:
		if (n < 2)
			return -1;
		r = b->v - a->v;
		break;
	case VGL_WINDOW_RATE:
		if (n < 2 || b->ts_ms <= a->ts_ms)
			return -1;
		r = 0;
		for (uint32_t i = lo + 1; i < hi; i++)
			r += vgl_window_counter_increase(at(w, i - 1)->v, at(w, i)->v);
		r /= (double)(b->ts_ms - a->ts_ms) / 1000.0;
		break;
	case VGL_WINDOW_CHANGES:
		r = 0;
		for (uint32_t i = lo + 1; i < hi; i++)
			if (at(w, i)->v != at(w, i - 1)->v)
				r++;
		break;
	default:
		return -1;
	}
	*out = r;
	return 0;
}
