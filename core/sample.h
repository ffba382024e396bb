/* What a poll of one host's source produces, whatever the back end: a value
 * and a quality per metric of that source, and a quality for the poll as a
 * whole. */
#ifndef VGL_SAMPLE_H
#define VGL_SAMPLE_H

#include <stddef.h>
#include <stdint.h>

#include "core/quality.h"

struct vgl_bmc_status;

struct vgl_value {
	double v;               /* meaningful only when q == VGL_Q_OK */
	enum vgl_quality q;
};

struct vgl_poll_result {
	uint32_t host;          /* index into vgl_conf.hosts */
	uint32_t source;        /* index into the host profile's sources */
	/* Wall clock, ms since epoch, when the poll began (its first request
	 * was due): the state observed is the state as of then, so an outage
	 * starting or ending is placed within one poll interval of the truth
	 * whatever the timeout and retries. */
	int64_t ts_ms;
	/* The poll as a whole: VGL_Q_OK when the device answered at all, even
	 * if some values are VGL_Q_ABSENT. A failed poll (timeout, refused,
	 * auth, error) is what the "unreachable" availability condition of
	 * this source counts, except auth (a wrong key is a monitoring fault). */
	enum vgl_quality quality;
	/* The source's metrics: values[i] is for the profile's metric
	 * metrics[i] (the source's vgl_conf_source.metrics, in that order). */
	size_t n_values;
	const struct vgl_value *values;
	const uint32_t *metrics;
	const char *detail;     /* human text for logs when quality != OK; may be NULL */
	/* The source's poll interval: the error bar of a start or end placed
	 * on this poll, stored with the interval. */
	uint32_t interval_ms;
	/* A BMC source's chassis state and new log entries (core/bmc.h);
	 * NULL for every other back end, and for a BMC poll that failed. */
	const struct vgl_bmc_status *bmc;
};

typedef void vgl_poll_fn(void *ctx, const struct vgl_poll_result *r);

#endif
