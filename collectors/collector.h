/* What every collector back end hands to the daemon: one result per poll of
 * one host's source, with a value and a quality per configured metric. */
#ifndef VGL_COLLECTOR_H
#define VGL_COLLECTOR_H

#include <stddef.h>
#include <stdint.h>

enum vgl_quality {
	VGL_Q_OK = 0,
	VGL_Q_TIMEOUT,  /* no answer within timeout x (retries + 1) */
	VGL_Q_AUTH,     /* SNMPv3 authentication / authorization failure */
	VGL_Q_NOSUCH,   /* noSuchObject / noSuchInstance / endOfMibView */
	VGL_Q_ERROR,    /* anything else: error-status, wrong type, send failure */
};

/* "ok", "timeout", "auth", "nosuch", "error" */
const char *vgl_quality_name(enum vgl_quality q);

struct vgl_value {
	double v;               /* meaningful only when q == VGL_Q_OK */
	enum vgl_quality q;
};

struct vgl_poll_result {
	uint32_t host;          /* index into vgl_conf.hosts */
	/* Wall clock, ms since epoch, when the poll began (its first request
	 * was due): the state observed is the state as of then, so an outage
	 * starting or ending is placed within one poll interval of the truth
	 * whatever the timeout and retries. */
	int64_t ts_ms;
	/* The poll as a whole: VGL_Q_OK when the agent answered at all, even if
	 * some values are VGL_Q_NOSUCH. A failed poll (timeout, auth, error)
	 * is what the "unreachable" availability condition counts. */
	enum vgl_quality quality;
	size_t n_values;        /* == the host profile's n_metrics, same order */
	const struct vgl_value *values;
	const char *detail;     /* human text for logs when quality != OK; may be NULL */
};

typedef void vgl_poll_fn(void *ctx, const struct vgl_poll_result *r);

#endif
