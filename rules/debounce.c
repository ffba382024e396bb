/* The debouncer's state machine is documented in rules/debounce.h. */
#include "rules/debounce.h"

#include <string.h>

void vgl_debounce_init(struct vgl_debounce *d)
{
	memset(d, 0, sizeof(*d));
}

/* now - since >= d, without the overflow a stored start time far in the
 * past or future (a restored interval, a stepped clock) could cause. */
static int elapsed_at_least(int64_t now, int64_t since, uint32_t d)
{
	int64_t diff;

	if (__builtin_sub_overflow(now, since, &diff))
		return now > since;
	return diff >= (int64_t)d;
}

enum vgl_debounce_transition vgl_debounce_observe(struct vgl_debounce *d,
						  const struct vgl_debounce_cfg *cfg,
						  enum vgl_tri in, int64_t now_ms)
{
	enum vgl_debounce_state before = (enum vgl_debounce_state)d->state;

	switch (in) {
	case VGL_UNKNOWN:
		return VGL_DEB_NONE;
	case VGL_FALSE:
		d->state = VGL_DEB_IDLE;
		d->count = 0;
		return before == VGL_DEB_FIRED ? VGL_DEB_CLEAR : VGL_DEB_NONE;
	case VGL_TRUE:
		break;
	}
	if (before == VGL_DEB_IDLE) {
		d->since_ms = now_ms;
		d->count = 0;
		d->state = VGL_DEB_PENDING;
	}
	if (d->count < UINT32_MAX)
		d->count++;
	if (cfg->mode == VGL_DEB_COUNT)
		/* Recomputed rather than latched: see vgl_debounce_adopt in the
		 * header for the one case where that differs. */
		d->state = d->count >= (cfg->n ? cfg->n : 1) ? VGL_DEB_FIRED : VGL_DEB_PENDING;
	else if (d->state == VGL_DEB_PENDING && elapsed_at_least(now_ms, d->since_ms, cfg->n))
		d->state = VGL_DEB_FIRED;
	return before != VGL_DEB_FIRED && d->state == VGL_DEB_FIRED ? VGL_DEB_FIRE : VGL_DEB_NONE;
}

void vgl_debounce_adopt(struct vgl_debounce *d, int64_t since_ms, uint32_t count)
{
	d->since_ms = since_ms;
	d->count = count ? count : 1;
	d->state = VGL_DEB_FIRED;
}

void vgl_debounce_hyst_init(struct vgl_debounce_hyst *h)
{
	vgl_debounce_init(&h->fire);
	vgl_debounce_init(&h->clear);
}

enum vgl_debounce_transition vgl_debounce_hyst_observe(struct vgl_debounce_hyst *h,
						       const struct vgl_debounce_hyst_cfg *cfg,
						       enum vgl_tri in, enum vgl_tri clear_in,
						       int64_t now_ms)
{
	if (h->fire.state != VGL_DEB_FIRED)
		return vgl_debounce_observe(&h->fire, &cfg->fire, in, now_ms);
	/* Latched: the fire input only lengthens the run it reports. */
	if (in == VGL_TRUE && h->fire.count < UINT32_MAX)
		h->fire.count++;
	if (vgl_debounce_observe(&h->clear, &cfg->clear, clear_in, now_ms) != VGL_DEB_FIRE)
		return VGL_DEB_NONE;
	vgl_debounce_hyst_init(h);
	return VGL_DEB_CLEAR;
}

void vgl_debounce_hyst_adopt(struct vgl_debounce_hyst *h, int64_t since_ms, uint32_t count)
{
	vgl_debounce_adopt(&h->fire, since_ms, count);
	vgl_debounce_init(&h->clear);
}
