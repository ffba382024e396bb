/* The collector interface, in the shape of redis' aeApi: every back end
 * (SNMP today; reachability, Modbus, the BMCs next) is one ops table,
 * registered by name in collectors/registry.c. The daemon holds an array
 * of (ops, instance) pairs and names none of them, so adding a back end
 * touches no file of the daemon, the rules or storage.
 *
 * Which back end polls a source is the config's business: each source type
 * (conf/backend.h: "snmp", "ping", "tcp") names its collector. The daemon
 * creates a collector only when some host has a source of its types.
 *
 * Lifecycle, all on the loop thread:
 *   create(loop, conf, fn, ctx) -> add_source(...) for each such source ->
 *   results flow to fn(ctx, result), one per finished poll of a source ->
 *   close(done, done_ctx): in-flight polls cancelled, no result after the
 *   call; done(done_ctx) runs once every handle is closed, after which the
 *   instance is freed. A reload closes every instance and creates new ones.
 *
 * Each back end runs its blocking libraries in libuv's threadpool or drives
 * its sockets on the loop; none may block the loop.
 */
#ifndef VGL_COLLECTOR_H
#define VGL_COLLECTOR_H

#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "conf/conf.h"
#include "core/sample.h"

struct vgl_collector_stats {
	uint64_t polls;         /* finished */
	uint64_t timeouts;      /* finished with VGL_Q_TIMEOUT */
	uint64_t skipped;       /* due while the previous poll still ran */
	uint64_t values;        /* values delivered with VGL_Q_OK */
	uint64_t rejected;      /* answers not taken (forged, foreign, odd) */
	uint32_t in_flight;
	uint32_t hosts;
};

struct vgl_collector_ops {
	const char *name;       /* "snmp": in logs; what vgl_conf_backend.collector names */
	/* 0 and *out, or a negative errno / UV_E* (logged by the caller). */
	int (*create)(uv_loop_t *loop, const struct vgl_conf *conf, vgl_poll_fn *fn, void *ctx,
		      void **out);
	/* Source `source` of host (host->profile->sources[source], of one of
	 * this collector's types). host stays valid until close's done;
	 * host_idx and source are what results carry. 0, or a negative errno
	 * (logged with the host's name). */
	int (*add_source)(void *be, uint32_t host_idx, const struct vgl_conf_host *host,
			  uint32_t source);
	/* May be NULL. Before the first poll of a source (right after
	 * add_source): where its event log was read up to in an earlier run
	 * (vgl_bmc_status.cursor, as stored). A cursor the back end cannot
	 * parse is ignored (it reads the log afresh, as on a first start). */
	void (*set_cursor)(void *be, uint32_t host_idx, uint32_t source, const char *cursor);
	void (*stats)(const void *be, struct vgl_collector_stats *out);
	void (*close)(void *be, void (*done)(void *ctx), void *ctx);
};

/* The back ends compiled in, in a fixed order. */
size_t vgl_collector_count(void);
const struct vgl_collector_ops *vgl_collector_at(size_t i);
/* NULL if no back end has that name. */
const struct vgl_collector_ops *vgl_collector_find(const char *name);
/* The collector of host h's source i. */
const struct vgl_collector_ops *vgl_collector_of(const struct vgl_conf_host *h, size_t i);

#endif
