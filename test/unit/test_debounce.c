#include "rules/debounce.h"
#include "test/test.h"

#define T VGL_TRUE
#define F VGL_FALSE
#define U VGL_UNKNOWN

static const struct vgl_debounce_cfg count3 = { VGL_DEB_COUNT, 3 };
static const struct vgl_debounce_cfg for3s = { VGL_DEB_FOR, 3000 };

/* Feeds one observation and checks the transition it returns. */
#define OBS(d, cfg, in, t, want) ASSERT_EQ(vgl_debounce_observe((d), (cfg), (in), (t)), (want))

/* ---- by hand --------------------------------------------------------------- */

TEST(debounce_zeroed_is_idle)
{
	struct vgl_debounce d;

	memset(&d, 0xa5, sizeof(d));
	vgl_debounce_init(&d);
	ASSERT_EQ(d.state, VGL_DEB_IDLE);
	ASSERT_EQ(d.count, 0);
	/* the size availability pays per condition per host */
	ASSERT_EQ(sizeof(struct vgl_debounce), 16);
}

TEST(debounce_count_fires_at_exactly_k)
{
	struct vgl_debounce d = { 0 };

	OBS(&d, &count3, T, 1000, VGL_DEB_NONE);
	OBS(&d, &count3, T, 2000, VGL_DEB_NONE);
	/* K - 1 TRUEs: still pending */
	ASSERT_EQ(d.state, VGL_DEB_PENDING);
	ASSERT_EQ(d.count, 2);
	OBS(&d, &count3, T, 3000, VGL_DEB_FIRE);
	ASSERT_EQ(d.state, VGL_DEB_FIRED);
	ASSERT_EQ(d.since_ms, 1000);        /* the first failing observation */
	ASSERT_EQ(d.count, 3);
	/* more TRUEs: no second FIRE, the count goes on */
	OBS(&d, &count3, T, 4000, VGL_DEB_NONE);
	ASSERT_EQ(d.count, 4);
	ASSERT_EQ(d.since_ms, 1000);
	OBS(&d, &count3, F, 5000, VGL_DEB_CLEAR);
	ASSERT_EQ(d.state, VGL_DEB_IDLE);
	ASSERT_EQ(d.count, 0);
}

TEST(debounce_count_false_breaks_the_run)
{
	struct vgl_debounce d = { 0 };

	OBS(&d, &count3, T, 1000, VGL_DEB_NONE);
	OBS(&d, &count3, T, 2000, VGL_DEB_NONE);
	/* a run that never fired ends without a CLEAR */
	OBS(&d, &count3, F, 3000, VGL_DEB_NONE);
	ASSERT_EQ(d.state, VGL_DEB_IDLE);
	OBS(&d, &count3, T, 4000, VGL_DEB_NONE);
	OBS(&d, &count3, T, 5000, VGL_DEB_NONE);
	OBS(&d, &count3, T, 6000, VGL_DEB_FIRE);
	ASSERT_EQ(d.since_ms, 4000);
}

TEST(debounce_count_k1_and_k0_fire_at_once)
{
	static const struct vgl_debounce_cfg k1 = { VGL_DEB_COUNT, 1 }, k0 = { VGL_DEB_COUNT, 0 };
	struct vgl_debounce d = { 0 }, e = { 0 };

	OBS(&d, &k1, T, 7, VGL_DEB_FIRE);
	OBS(&e, &k0, T, 7, VGL_DEB_FIRE);
	ASSERT_EQ(d.since_ms, 7);
	ASSERT_EQ(e.count, 1);
}

TEST(debounce_for_exactly_d_and_1ms_below)
{
	struct vgl_debounce d = { 0 };

	OBS(&d, &for3s, T, 10000, VGL_DEB_NONE);
	OBS(&d, &for3s, T, 12999, VGL_DEB_NONE);    /* D - 1 ms */
	ASSERT_EQ(d.state, VGL_DEB_PENDING);
	OBS(&d, &for3s, T, 13000, VGL_DEB_FIRE);    /* exactly D */
	ASSERT_EQ(d.since_ms, 10000);
	ASSERT_EQ(d.count, 3);
	OBS(&d, &for3s, T, 14000, VGL_DEB_NONE);
	ASSERT_EQ(d.state, VGL_DEB_FIRED);
	OBS(&d, &for3s, F, 15000, VGL_DEB_CLEAR);

	/* the elapsed time is measured from the first TRUE, not the previous */
	OBS(&d, &for3s, T, 20000, VGL_DEB_NONE);
	OBS(&d, &for3s, T, 22999, VGL_DEB_NONE);
	OBS(&d, &for3s, F, 23000, VGL_DEB_NONE);
	OBS(&d, &for3s, T, 23001, VGL_DEB_NONE);
	OBS(&d, &for3s, T, 26000, VGL_DEB_NONE);
	OBS(&d, &for3s, T, 26001, VGL_DEB_FIRE);
	ASSERT_EQ(d.since_ms, 23001);
}

TEST(debounce_for0_fires_at_first_true)
{
	static const struct vgl_debounce_cfg for0 = { VGL_DEB_FOR, 0 };
	struct vgl_debounce d = { 0 };

	OBS(&d, &for0, F, 0, VGL_DEB_NONE);
	OBS(&d, &for0, T, 1000, VGL_DEB_FIRE);
	ASSERT_EQ(d.since_ms, 1000);
}

TEST(debounce_unknown_in_the_middle_of_a_run)
{
	struct vgl_debounce d = { 0 };

	/* IDLE: UNKNOWN does not start a run */
	OBS(&d, &count3, U, 0, VGL_DEB_NONE);
	ASSERT_EQ(d.state, VGL_DEB_IDLE);
	/* PENDING: neither resets nor counts */
	OBS(&d, &count3, T, 1000, VGL_DEB_NONE);
	OBS(&d, &count3, U, 2000, VGL_DEB_NONE);
	OBS(&d, &count3, T, 3000, VGL_DEB_NONE);
	OBS(&d, &count3, U, 4000, VGL_DEB_NONE);
	OBS(&d, &count3, U, 5000, VGL_DEB_NONE);
	ASSERT_EQ(d.count, 2);
	ASSERT_EQ(d.state, VGL_DEB_PENDING);
	OBS(&d, &count3, T, 6000, VGL_DEB_FIRE);
	ASSERT_EQ(d.since_ms, 1000);
	/* FIRED: UNKNOWN does not clear */
	OBS(&d, &count3, U, 7000, VGL_DEB_NONE);
	ASSERT_EQ(d.state, VGL_DEB_FIRED);
	ASSERT_EQ(d.count, 3);

	/* Duration: missing data past D does not confirm; the next TRUE
	 * does, with the original start. */
	vgl_debounce_init(&d);
	OBS(&d, &for3s, T, 1000, VGL_DEB_NONE);
	OBS(&d, &for3s, U, 5000, VGL_DEB_NONE);
	ASSERT_EQ(d.state, VGL_DEB_PENDING);
	OBS(&d, &for3s, T, 6000, VGL_DEB_FIRE);
	ASSERT_EQ(d.since_ms, 1000);
}

TEST(debounce_for_clock_stepping_back)
{
	struct vgl_debounce d = { 0 };

	OBS(&d, &for3s, T, 10000, VGL_DEB_NONE);
	OBS(&d, &for3s, T, 5000, VGL_DEB_NONE);     /* before since: not elapsed */
	OBS(&d, &for3s, T, 13000, VGL_DEB_FIRE);
	/* once FIRED, an earlier TRUE does not take it back */
	OBS(&d, &for3s, T, 9000, VGL_DEB_NONE);
	ASSERT_EQ(d.state, VGL_DEB_FIRED);
	ASSERT_EQ(d.since_ms, 10000);
}

TEST(debounce_for_extreme_times_do_not_overflow)
{
	struct vgl_debounce d = { 0 };

	OBS(&d, &for3s, T, INT64_MIN, VGL_DEB_NONE);
	OBS(&d, &for3s, T, INT64_MAX, VGL_DEB_FIRE);
	vgl_debounce_init(&d);
	OBS(&d, &for3s, T, INT64_MAX, VGL_DEB_NONE);
	OBS(&d, &for3s, T, INT64_MIN, VGL_DEB_NONE);
	ASSERT_EQ(d.state, VGL_DEB_PENDING);
}

TEST(debounce_count_saturates)
{
	struct vgl_debounce d = { 0 };

	vgl_debounce_adopt(&d, 0, UINT32_MAX - 1);
	OBS(&d, &count3, T, 1, VGL_DEB_NONE);
	OBS(&d, &count3, T, 2, VGL_DEB_NONE);
	ASSERT_EQ(d.count, UINT32_MAX);
	ASSERT_EQ(d.state, VGL_DEB_FIRED);
}

TEST(debounce_adopt)
{
	static const struct vgl_debounce_cfg k5 = { VGL_DEB_COUNT, 5 };
	struct vgl_debounce d = { 0 };

	vgl_debounce_adopt(&d, 0, 0);
	ASSERT_EQ(d.count, 1);              /* 0 is taken as 1 */

	/* a restart: FIRED at once, no K wait, and FALSE clears it */
	vgl_debounce_adopt(&d, -5000, 3);
	ASSERT_EQ(d.state, VGL_DEB_FIRED);
	OBS(&d, &count3, U, 1000, VGL_DEB_NONE);
	OBS(&d, &count3, T, 2000, VGL_DEB_NONE);
	ASSERT_EQ(d.state, VGL_DEB_FIRED);
	ASSERT_EQ(d.since_ms, -5000);
	OBS(&d, &count3, F, 3000, VGL_DEB_CLEAR);

	/* a reload that raised K from 2 to 5 during a run of 2: the next TRUE
	 * takes it back to PENDING (no event), and it fires again at the
	 * fifth failure of the same run */
	vgl_debounce_adopt(&d, 1000, 2);
	OBS(&d, &k5, U, 2500, VGL_DEB_NONE);
	ASSERT_EQ(d.state, VGL_DEB_FIRED);
	OBS(&d, &k5, T, 3000, VGL_DEB_NONE);
	ASSERT_EQ(d.state, VGL_DEB_PENDING);
	OBS(&d, &k5, T, 4000, VGL_DEB_NONE);
	OBS(&d, &k5, T, 5000, VGL_DEB_FIRE);
	ASSERT_EQ(d.since_ms, 1000);
	ASSERT_EQ(d.count, 5);

	/* duration: an adopted run stays FIRED on TRUE whatever D says */
	vgl_debounce_adopt(&d, 1000, 1);
	OBS(&d, &for3s, T, 1500, VGL_DEB_NONE);
	ASSERT_EQ(d.state, VGL_DEB_FIRED);
}

/* ---- hysteresis -------------------------------------------------------------- */

#define HOBS(h, cfg, in, clr, t, want)                                        \
	ASSERT_EQ(vgl_debounce_hyst_observe((h), (cfg), (in), (clr), (t)), (want))

TEST(debounce_hyst_hovering_input_does_not_flap)
{
	/* fire at once, clear only after 3 FALSE in a row */
	static const struct vgl_debounce_hyst_cfg cfg = {
		{ VGL_DEB_COUNT, 1 }, { VGL_DEB_COUNT, 3 },
	};
	static const struct vgl_debounce_cfg plain = { VGL_DEB_COUNT, 1 };
	static const enum vgl_tri hover[] = { T, F, T, F, F, T, F, U, F, T, F, F, T };
	struct vgl_debounce_hyst h;
	struct vgl_debounce d = { 0 };
	unsigned fires = 0, clears = 0, plain_flips = 0;
	int64_t t = 0;

	vgl_debounce_hyst_init(&h);
	for (size_t i = 0; i < sizeof(hover) / sizeof(hover[0]); i++, t += 1000) {
		enum vgl_debounce_transition x =
			vgl_debounce_hyst_observe(&h, &cfg, hover[i], vgl_debounce_not(hover[i]), t);

		fires += x == VGL_DEB_FIRE;
		clears += x == VGL_DEB_CLEAR;
		plain_flips += vgl_debounce_observe(&d, &plain, hover[i], t) != VGL_DEB_NONE;
	}
	ASSERT_EQ(fires, 1);
	ASSERT_EQ(clears, 0);
	ASSERT_GT(plain_flips, 8);          /* what the hysteresis is for */
	ASSERT_EQ(h.fire.state, VGL_DEB_FIRED);
	ASSERT_EQ(h.fire.since_ms, 0);
	ASSERT_EQ(h.fire.count, 5);         /* every TRUE of the run */
	/* three FALSE in a row (an UNKNOWN between does not break them) */
	HOBS(&h, &cfg, F, T, t, VGL_DEB_NONE);
	HOBS(&h, &cfg, U, U, t + 1000, VGL_DEB_NONE);
	HOBS(&h, &cfg, F, T, t + 2000, VGL_DEB_NONE);
	HOBS(&h, &cfg, F, T, t + 3000, VGL_DEB_CLEAR);
	ASSERT_EQ(h.fire.state, VGL_DEB_IDLE);
	ASSERT_EQ(h.clear.state, VGL_DEB_IDLE);
}

TEST(debounce_hyst_separate_clear_input)
{
	/* fire: temp > 50 for 2 s; clear: temp < 45 for 2 s */
	static const struct vgl_debounce_hyst_cfg cfg = {
		{ VGL_DEB_FOR, 2000 }, { VGL_DEB_FOR, 2000 },
	};
	struct vgl_debounce_hyst h;

	vgl_debounce_hyst_init(&h);
	/* not FIRED: the clear input is ignored, FALSE breaks the run */
	HOBS(&h, &cfg, T, T, 0, VGL_DEB_NONE);
	HOBS(&h, &cfg, F, T, 1000, VGL_DEB_NONE);
	ASSERT_EQ(h.fire.state, VGL_DEB_IDLE);
	ASSERT_EQ(h.clear.state, VGL_DEB_IDLE);
	HOBS(&h, &cfg, T, F, 2000, VGL_DEB_NONE);
	HOBS(&h, &cfg, T, F, 4000, VGL_DEB_FIRE);
	ASSERT_EQ(h.fire.since_ms, 2000);
	/* 48: neither above 50 nor below 45: stays FIRED */
	HOBS(&h, &cfg, F, F, 5000, VGL_DEB_NONE);
	/* 44 from 6000, broken by 46 at 7000 */
	HOBS(&h, &cfg, F, T, 6000, VGL_DEB_NONE);
	HOBS(&h, &cfg, F, F, 7000, VGL_DEB_NONE);
	HOBS(&h, &cfg, F, T, 8000, VGL_DEB_NONE);
	HOBS(&h, &cfg, U, U, 9500, VGL_DEB_NONE);
	HOBS(&h, &cfg, F, T, 9999, VGL_DEB_NONE);
	ASSERT_EQ(h.fire.state, VGL_DEB_FIRED);
	ASSERT_EQ(h.fire.since_ms, 2000);
	/* exactly 2 s of clear: CLEAR; the clearing observation starts no run
	 * even though the fire input is TRUE */
	HOBS(&h, &cfg, T, T, 10000, VGL_DEB_CLEAR);
	ASSERT_EQ(h.fire.state, VGL_DEB_IDLE);
	HOBS(&h, &cfg, T, F, 11000, VGL_DEB_NONE);
	ASSERT_EQ(h.fire.since_ms, 11000);
}

TEST(debounce_hyst_adopt)
{
	static const struct vgl_debounce_hyst_cfg cfg = {
		{ VGL_DEB_COUNT, 5 }, { VGL_DEB_COUNT, 2 },
	};
	struct vgl_debounce_hyst h;

	vgl_debounce_hyst_init(&h);
	HOBS(&h, &cfg, T, F, 0, VGL_DEB_NONE);
	vgl_debounce_hyst_adopt(&h, -1000, 1);
	ASSERT_EQ(h.fire.state, VGL_DEB_FIRED);
	/* latched: a run shorter than K does not drop back */
	HOBS(&h, &cfg, T, F, 1000, VGL_DEB_NONE);
	ASSERT_EQ(h.fire.state, VGL_DEB_FIRED);
	HOBS(&h, &cfg, F, T, 2000, VGL_DEB_NONE);
	HOBS(&h, &cfg, F, T, 3000, VGL_DEB_CLEAR);
}

/* ---- randomized, against a reference model ---------------------------------- */

struct obs {
	int64_t t;
	enum vgl_tri in, clr;
};

struct ref {
	enum vgl_debounce_state state;
	int64_t since;
	uint32_t count;
};

/* The plain debouncer as a function of its whole history o[from..to): the
 * run is the TRUE observations after the last FALSE; COUNT fires on K of
 * them, FOR on any of them D after the first. */
static struct ref ref_plain(const struct obs *o, size_t from, size_t to,
			    const struct vgl_debounce_cfg *c, int use_clr)
{
	struct ref r = { VGL_DEB_IDLE, 0, 0 };
	size_t start = from;
	int fired = 0;

	for (size_t i = from; i < to; i++)
		if ((use_clr ? o[i].clr : o[i].in) == VGL_FALSE)
			start = i + 1;
	for (size_t i = start; i < to; i++) {
		if ((use_clr ? o[i].clr : o[i].in) != VGL_TRUE)
			continue;
		if (r.count++ == 0)
			r.since = o[i].t;
		if (c->mode == VGL_DEB_FOR && o[i].t - r.since >= (int64_t)c->n)
			fired = 1;
	}
	if (c->mode == VGL_DEB_COUNT)
		fired = r.count >= (c->n ? c->n : 1);
	if (r.count)
		r.state = fired ? VGL_DEB_FIRED : VGL_DEB_PENDING;
	return r;
}

/* The hysteresis as epochs: from pos, it fires at the first prefix the
 * plain model calls FIRED; from the next observation on, it clears at the
 * first prefix of the clear input the clear rule calls FIRED; the next
 * epoch starts after that. Fills r[k], the state after o[0..k]. */
static void ref_hyst(const struct obs *o, size_t n, const struct vgl_debounce_hyst_cfg *c,
		     struct ref *r)
{
	size_t pos = 0, k = 0;

	while (k < n) {
		size_t f = pos, cl;
		struct ref at;

		for (; f < n; f++)
			if (ref_plain(o, pos, f + 1, &c->fire, 0).state == VGL_DEB_FIRED)
				break;
		for (; k < f && k < n; k++)
			r[k] = ref_plain(o, pos, k + 1, &c->fire, 0);
		if (f >= n)
			return;
		at = ref_plain(o, pos, f + 1, &c->fire, 0);
		for (cl = f + 1; cl < n; cl++)
			if (ref_plain(o, f + 1, cl + 1, &c->clear, 1).state == VGL_DEB_FIRED)
				break;
		for (; k < cl && k < n; k++) {
			/* latched: every TRUE lengthens the run */
			if (k > f && o[k].in == VGL_TRUE)
				at.count++;
			r[k] = at;
		}
		if (cl < n)
			r[k++] = (struct ref){ VGL_DEB_IDLE, 0, 0 };
		pos = cl + 1;
	}
}

static uint64_t rng = 0x2545f4914f6cdd1dULL;

static uint32_t rnd(uint32_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng % n);
}

static struct vgl_debounce_cfg rnd_cfg(void)
{
	static const uint32_t ds[] = { 0, 1, 999, 1000, 2500 };

	if (rnd(2))
		return (struct vgl_debounce_cfg){ VGL_DEB_COUNT, rnd(5) };
	return (struct vgl_debounce_cfg){ VGL_DEB_FOR, ds[rnd(5)] };
}

static enum vgl_tri rnd_tri(void)
{
	uint32_t x = rnd(10);

	return x < 5 ? VGL_TRUE : (x < 8 ? VGL_FALSE : VGL_UNKNOWN);
}

static enum vgl_debounce_transition expect_transition(const struct ref *before,
						      const struct ref *after)
{
	if (before->state != VGL_DEB_FIRED && after->state == VGL_DEB_FIRED)
		return VGL_DEB_FIRE;
	if (before->state == VGL_DEB_FIRED && after->state == VGL_DEB_IDLE)
		return VGL_DEB_CLEAR;
	return VGL_DEB_NONE;
}

static void check_state(const struct vgl_debounce *d, const struct ref *r)
{
	ASSERT_EQ(d->state, r->state);
	if (r->state == VGL_DEB_IDLE) {
		ASSERT_EQ(d->count, 0);
		return;
	}
	ASSERT_EQ(d->since_ms, r->since);
	ASSERT_EQ(d->count, r->count);
}

#define N_OBS 120

TEST(debounce_random_against_reference)
{
	unsigned fires = 0, clears = 0, hfires = 0, hclears = 0;

	for (int run = 0; run < 300; run++) {
		struct obs o[N_OBS];
		struct ref want[N_OBS], prev = { VGL_DEB_IDLE, 0, 0 }, hprev = prev;
		struct vgl_debounce_cfg cfg = rnd_cfg();
		struct vgl_debounce_hyst_cfg hcfg = { rnd_cfg(), rnd_cfg() };
		/* the plain debouncer is the hysteresis that clears at one FALSE */
		struct vgl_debounce_hyst_cfg as_plain = { cfg, { VGL_DEB_COUNT, 1 } };
		struct vgl_debounce d = { 0 };
		struct vgl_debounce_hyst h, hp;
		int64_t t = 0;
		int separate = rnd(2);

		vgl_debounce_hyst_init(&h);
		vgl_debounce_hyst_init(&hp);
		for (size_t i = 0; i < N_OBS; i++) {
			uint32_t x = rnd(20);

			/* mostly forward, sometimes a repeat or a step back */
			t += x == 0 ? -700 : (x == 1 ? 0 : (int64_t)rnd(1200));
			o[i].t = t;
			o[i].in = rnd_tri();
			o[i].clr = separate ? rnd_tri() : vgl_debounce_not(o[i].in);
		}
		ref_hyst(o, N_OBS, &hcfg, want);
		for (size_t i = 0; i < N_OBS; i++) {
			struct ref r = ref_plain(o, 0, i + 1, &cfg, 0);
			enum vgl_debounce_transition x;

			x = vgl_debounce_observe(&d, &cfg, o[i].in, o[i].t);
			ASSERT_EQ(x, expect_transition(&prev, &r));
			check_state(&d, &r);
			fires += x == VGL_DEB_FIRE;
			clears += x == VGL_DEB_CLEAR;
			ASSERT_EQ(vgl_debounce_hyst_observe(&hp, &as_plain, o[i].in,
							    vgl_debounce_not(o[i].in), o[i].t), x);
			check_state(&hp.fire, &r);
			prev = r;

			x = vgl_debounce_hyst_observe(&h, &hcfg, o[i].in, o[i].clr, o[i].t);
			ASSERT_EQ(x, expect_transition(&hprev, &want[i]));
			check_state(&h.fire, &want[i]);
			ASSERT(h.clear.state != VGL_DEB_FIRED);
			if (h.fire.state != VGL_DEB_FIRED)
				ASSERT_EQ(h.clear.state, VGL_DEB_IDLE);
			hfires += x == VGL_DEB_FIRE;
			hclears += x == VGL_DEB_CLEAR;
			hprev = want[i];
		}
	}
	/* the sequences do exercise both machines */
	ASSERT_GT(fires, 1000);
	ASSERT_GT(clears, 1000);
	ASSERT_GT(hfires, 500);
	ASSERT_GT(hclears, 500);
}
