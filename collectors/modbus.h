/* Modbus collector: TCP devices and RTU serial lines through libmodbus,
 * whose calls block, so they run only in libuv's threadpool. Design,
 * qualities and limits: docs/modbus.md.
 *
 * A connection is one TCP endpoint (address and port: a device, or a
 * gateway with several unit ids behind it) or one serial line (a bus of
 * unit ids); devices (one host's modbus source each) share it, and it
 * carries one request at a time, as the bus requires. Connections stay
 * open between polls and are re-established on the next poll after a
 * failure, with backoff.
 *
 * A dead device must not slow the others: at most max_jobs polls run in
 * the threadpool at once, and devices that have not answered yet (never,
 * or not since their last failure) may hold at most max_jobs - 1 of them,
 * so one thread is always left to devices that answer. A device that
 * keeps failing is retried at growing intervals (1, 2, 4 ... polls, at
 * most 60 s apart); in between its polls return at once, every value
 * `timeout` (or the last failure's quality), without touching the network.
 */
#ifndef VGL_MODBUS_H
#define VGL_MODBUS_H

#include <stdint.h>

#include <uv.h>

#include "collectors/collector.h"
#include "collectors/modbus_conf.h"
#include "core/sample.h"

struct vgl_modbus;

struct vgl_modbus_opts {
	/* Polls in the threadpool at once; 0 = the pool's size
	 * (UV_THREADPOOL_SIZE, default 4) less one, at least 1. */
	uint32_t max_jobs;
};

struct vgl_modbus_device {
	const char *name;               /* the host's: logs */
	const char *address;            /* TCP: the host's address (src->address overrides) */
	const struct vgl_modbus_source *src;
	uint32_t interval_ms, timeout_ms;
	uint32_t source;                /* what results carry */
	/* The source's metrics: indexes into profile_metrics (what results
	 * carry as metrics), n_values of them; each spec a vgl_modbus_metric.
	 * Not copied: valid until close's done. */
	const struct vgl_conf_metric *profile_metrics;
	const uint32_t *metrics;
	uint32_t n_values;
};

struct vgl_modbus_stats {
	uint64_t polls, timeouts, skipped, values, rejected;
	uint64_t requests;              /* read requests sent */
	uint64_t exceptions;            /* answered with a Modbus exception */
	uint64_t connects;              /* connections (re)established */
	uint64_t backoff;               /* polls answered from backoff, no I/O */
	uint32_t in_flight, devices, connections;
	uint32_t max_jobs;
};

/* 0 and *out, or a negative errno. */
int vgl_modbus_create(uv_loop_t *loop, const struct vgl_modbus_opts *o, vgl_poll_fn *fn,
		      void *ctx, struct vgl_modbus **out);
/* 0, -EINVAL (bad device, logged) or -ENOMEM. */
int vgl_modbus_add_device(struct vgl_modbus *mb, uint32_t host_idx,
			  const struct vgl_modbus_device *d);
void vgl_modbus_get_stats(const struct vgl_modbus *mb, struct vgl_modbus_stats *out);
/* No result after this call; done(ctx) once every job has come back from
 * the threadpool and every handle is closed. */
void vgl_modbus_close(struct vgl_modbus *mb, void (*done)(void *ctx), void *ctx);

extern const struct vgl_collector_ops vgl_modbus_collector;

#endif
