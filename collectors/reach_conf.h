/* The reachability back end's part of the config (conf/backend.h): sources
 * of type "ping" (ICMP echo) and "tcp" (a connect to a port), and their
 * metrics {"source": NAME, "value": "loss_pct" | "rtt_ms" | "up" |
 * "connect_ms"}. Both are polled by the "reach" collector
 * (collectors/reach.h). */
#ifndef VGL_REACH_CONF_H
#define VGL_REACH_CONF_H

#include <stdint.h>

#include "collectors/reach.h"
#include "conf/backend.h"

struct vgl_reach_source {
	enum vgl_reach_kind kind;
	uint16_t port;                  /* tcp: required */
	uint16_t count;                 /* ping: echoes per poll, default 3 */
	uint32_t gap_ms;                /* ping: between echoes, default 0 */
};

enum vgl_reach_value { VGL_REACH_LOSS_PCT, VGL_REACH_RTT_MS, VGL_REACH_UP,
		       VGL_REACH_CONNECT_MS };

struct vgl_reach_metric {
	enum vgl_reach_value value;
};

extern const struct vgl_conf_backend vgl_ping_conf_backend;
extern const struct vgl_conf_backend vgl_tcp_conf_backend;

#endif
