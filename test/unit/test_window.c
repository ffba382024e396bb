#include <math.h>

#include "rules/window.h"
#include "test/test.h"

static double eval(const struct vgl_window *w, enum vgl_window_fn fn, int64_t now, uint32_t span,
		   int *known)
{
	double v = -12345;

	*known = vgl_window_eval(w, fn, now, span, &v) == 0;
	return v;
}

#define ASSERT_NEAR(a, b) ASSERT(fabs((a) - (b)) < 1e-9 * (1 + fabs(b)))

TEST(window_ring_drops_oldest_and_ignores_the_past)
{
	struct vgl_window *w = vgl_window_new(3);
	int64_t ts;
	double v;

	ASSERT(w != NULL);
	ASSERT_EQ(vgl_window_cap(w), 3);
	ASSERT_EQ(vgl_window_len(w), 0);
	ASSERT_EQ(vgl_window_newest(w, &ts, &v), -1);
	vgl_window_push(w, 1000, 1);
	vgl_window_push(w, 2000, 2);
	vgl_window_push(w, 1999, 99);   /* older than the newest: ignored */
	ASSERT_EQ(vgl_window_len(w), 2);
	vgl_window_push(w, 2000, 3);    /* same ts: kept */
	vgl_window_push(w, 4000, 4);    /* full: 1 is dropped */
	ASSERT_EQ(vgl_window_len(w), 3);
	ASSERT_EQ(vgl_window_at(w, 0, &ts, &v), 0);
	ASSERT_EQ(ts, 2000);
	ASSERT_EQ(v, 2);
	ASSERT_EQ(vgl_window_at(w, 1, &ts, &v), 0);
	ASSERT_EQ(v, 3);
	ASSERT_EQ(vgl_window_at(w, 2, &ts, &v), 0);
	ASSERT_EQ(ts, 4000);
	ASSERT_EQ(v, 4);
	ASSERT_EQ(vgl_window_at(w, 3, &ts, &v), -1);
	ASSERT_EQ(vgl_window_newest(w, &ts, &v), 0);
	ASSERT_EQ(ts, 4000);
	/* many laps around the ring keep order */
	for (int i = 0; i < 10; i++)
		vgl_window_push(w, 5000 + i * 1000, i);
	for (uint32_t i = 0; i < 3; i++) {
		ASSERT_EQ(vgl_window_at(w, i, &ts, &v), 0);
		ASSERT_EQ(v, 7 + i);
		ASSERT_EQ(ts, 12000 + (int64_t)i * 1000);
	}
	vgl_window_free(w);
	vgl_window_free(NULL);
}

TEST(window_new_bounds)
{
	struct vgl_window *w;

	ASSERT(vgl_window_new(0) == NULL);
	w = vgl_window_new(1000000);
	ASSERT(w != NULL);
	ASSERT_EQ(vgl_window_cap(w), VGL_WINDOW_MAX_SAMPLES);
	for (int i = 0; i < 3000; i++)
		vgl_window_push(w, i, i);
	ASSERT_EQ(vgl_window_len(w), VGL_WINDOW_MAX_SAMPLES);
	vgl_window_free(w);
	/* 5 min at 10 s: 31 samples on schedule, one spare */
	ASSERT_EQ(vgl_window_cap_for(300000, 10000), 32);
	ASSERT_EQ(vgl_window_cap_for(86400000, 1000), VGL_WINDOW_MAX_SAMPLES);
	ASSERT_EQ(vgl_window_cap_for(30000, 0), VGL_WINDOW_MAX_SAMPLES);
}

TEST(window_copy_keeps_the_newest)
{
	struct vgl_window *a = vgl_window_new(8), *b = vgl_window_new(3), *c = vgl_window_new(16);
	int64_t ts;
	double v;

	ASSERT(a && b && c);
	for (int i = 0; i < 11; i++)        /* a holds 3..10 */
		vgl_window_push(a, i * 1000, i);
	vgl_window_push(b, 99, 99);
	vgl_window_copy(b, a);
	ASSERT_EQ(vgl_window_len(b), 3);
	ASSERT_EQ(vgl_window_at(b, 0, &ts, &v), 0);
	ASSERT_EQ(v, 8);
	ASSERT_EQ(vgl_window_newest(b, &ts, &v), 0);
	ASSERT_EQ(v, 10);
	ASSERT_EQ(ts, 10000);
	vgl_window_copy(c, a);
	ASSERT_EQ(vgl_window_len(c), 8);
	ASSERT_EQ(vgl_window_at(c, 0, &ts, &v), 0);
	ASSERT_EQ(v, 3);
	/* the copy goes on as a window of its own cap */
	for (int i = 11; i < 30; i++)
		vgl_window_push(c, i * 1000, i);
	ASSERT_EQ(vgl_window_len(c), 16);
	ASSERT_EQ(vgl_window_at(c, 0, &ts, &v), 0);
	ASSERT_EQ(v, 14);
	vgl_window_copy(c, NULL);
	ASSERT_EQ(vgl_window_len(c), 0);
	vgl_window_free(a);
	vgl_window_free(b);
	vgl_window_free(c);
}

TEST(window_functions_by_hand)
{
	struct vgl_window *w = vgl_window_new(16);
	const int64_t now = 1000000;
	int k;

	ASSERT(w != NULL);
	/* empty: everything unknown */
	for (int fn = VGL_WINDOW_AVG; fn <= VGL_WINDOW_CHANGES; fn++) {
		eval(w, (enum vgl_window_fn)fn, now, 30000, &k);
		ASSERT_EQ(k, 0);
	}
	vgl_window_push(w, now - 60000, 10);
	vgl_window_push(w, now - 30001, 70);    /* one ms before a 30 s span */
	vgl_window_push(w, now - 30000, 20);    /* exactly at its start: counts */
	vgl_window_push(w, now - 20000, 40);
	vgl_window_push(w, now - 10000, 40);
	vgl_window_push(w, now, 50);            /* exactly now: counts */
	/* 30 s: 20 40 40 50 */
	ASSERT_NEAR(eval(w, VGL_WINDOW_AVG, now, 30000, &k), 37.5);
	ASSERT_EQ(k, 1);
	ASSERT_EQ(eval(w, VGL_WINDOW_MIN, now, 30000, &k), 20);
	ASSERT_EQ(eval(w, VGL_WINDOW_MAX, now, 30000, &k), 50);
	ASSERT_EQ(eval(w, VGL_WINDOW_LAST, now, 30000, &k), 50);
	ASSERT_EQ(eval(w, VGL_WINDOW_DELTA, now, 30000, &k), 30);
	ASSERT_EQ(eval(w, VGL_WINDOW_CHANGES, now, 30000, &k), 2);
	/* (20 + 0 + 10) over 30 s */
	ASSERT_NEAR(eval(w, VGL_WINDOW_RATE, now, 30000, &k), 1.0);
	ASSERT_EQ(k, 1);
	/* one ms more reaches the 70 */
	ASSERT_EQ(eval(w, VGL_WINDOW_MAX, now, 30001, &k), 70);
	ASSERT_EQ(eval(w, VGL_WINDOW_CHANGES, now, 30001, &k), 3);
	/* 1 min: all six */
	ASSERT_NEAR(eval(w, VGL_WINDOW_AVG, now, 60000, &k), 230.0 / 6);
	ASSERT_EQ(eval(w, VGL_WINDOW_MIN, now, 60000, &k), 10);
	ASSERT_EQ(eval(w, VGL_WINDOW_DELTA, now, 60000, &k), 40);
	/* at now - 5 s the newest sample is in the future: not in the span */
	ASSERT_EQ(eval(w, VGL_WINDOW_LAST, now - 5000, 10000, &k), 40);
	ASSERT_EQ(k, 1);
	/* a span holding one sample: delta and rate need two */
	ASSERT_EQ(eval(w, VGL_WINDOW_LAST, now, 5000, &k), 50);
	ASSERT_EQ(eval(w, VGL_WINDOW_CHANGES, now, 5000, &k), 0);
	ASSERT_EQ(k, 1);
	eval(w, VGL_WINDOW_DELTA, now, 5000, &k);
	ASSERT_EQ(k, 0);
	eval(w, VGL_WINDOW_RATE, now, 5000, &k);
	ASSERT_EQ(k, 0);
	/* a span holding none */
	eval(w, VGL_WINDOW_AVG, now + 100000, 30000, &k);
	ASSERT_EQ(k, 0);
	eval(w, VGL_WINDOW_CHANGES, now + 100000, 30000, &k);
	ASSERT_EQ(k, 0);
	eval(NULL, VGL_WINDOW_AVG, now, 30000, &k);
	ASSERT_EQ(k, 0);
	vgl_window_free(w);
}

TEST(window_counter_wrap_and_reset)
{
	/* up */
	ASSERT_EQ(vgl_window_counter_increase(100, 250), 150);
	/* 32-bit wrap: 2^32 - 4294967000 + 200 = 496 */
	ASSERT_EQ(vgl_window_counter_increase(4294967000.0, 200), 496);
	ASSERT_EQ(vgl_window_counter_increase(4294967295.0, 0), 1);
	/* just under half the range is still a wrap ... */
	ASSERT_EQ(vgl_window_counter_increase(2147483658.0, 5), 2147483643.0);
	/* ... 2^32 - 3e9 + 1e9 = 2294967296 >= 2^31 is a reset: counts cur */
	ASSERT_EQ(vgl_window_counter_increase(3e9, 1e9), 1e9);
	ASSERT_EQ(vgl_window_counter_increase(1e9, 5), 5);
	/* 64-bit wrap: prev = 2^64 - 4096 (exact in a double) */
	ASSERT_EQ(vgl_window_counter_increase(18446744073709547520.0, 1000), 5096);
	/* a 64-bit counter far from the top going down: reset */
	ASSERT_EQ(vgl_window_counter_increase(5e9, 10), 10);
}

TEST(window_rate_over_wraps_and_resets)
{
	struct vgl_window *w = vgl_window_new(8);
	const int64_t now = 5000000;
	int k;

	ASSERT(w != NULL);
	vgl_window_push(w, now - 30000, 4294967000.0);
	vgl_window_push(w, now, 200);
	ASSERT_NEAR(eval(w, VGL_WINDOW_RATE, now, 30000, &k), 496.0 / 30);
	ASSERT_EQ(k, 1);
	/* delta is a gauge's change: no wrap handling */
	ASSERT_EQ(eval(w, VGL_WINDOW_DELTA, now, 30000, &k), 200 - 4294967000.0);

	vgl_window_copy(w, NULL);
	vgl_window_push(w, now - 10000, 18446744073709547520.0);
	vgl_window_push(w, now, 1000);
	ASSERT_NEAR(eval(w, VGL_WINDOW_RATE, now, 10000, &k), 509.6);

	vgl_window_copy(w, NULL);
	vgl_window_push(w, now - 10000, 1e9);
	vgl_window_push(w, now, 5);
	ASSERT_NEAR(eval(w, VGL_WINDOW_RATE, now, 10000, &k), 0.5);

	/* up 100, reset to 50 (counted 50), up 100: 250 over 30 s */
	vgl_window_copy(w, NULL);
	vgl_window_push(w, now - 30000, 100);
	vgl_window_push(w, now - 20000, 200);
	vgl_window_push(w, now - 10000, 50);
	vgl_window_push(w, now, 150);
	ASSERT_NEAR(eval(w, VGL_WINDOW_RATE, now, 30000, &k), 250.0 / 30);

	/* two samples at one instant: no time elapsed, no rate */
	vgl_window_copy(w, NULL);
	vgl_window_push(w, now, 1);
	vgl_window_push(w, now, 2);
	eval(w, VGL_WINDOW_RATE, now, 30000, &k);
	ASSERT_EQ(k, 0);
	ASSERT_EQ(eval(w, VGL_WINDOW_CHANGES, now, 30000, &k), 1);
	vgl_window_free(w);
}
