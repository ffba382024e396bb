/* SNMP collector: v2c through our own engine (collectors/ber.c), v3 through
 * net-snmp's single-session API (snmp_sess_*), both driven by the
 * libuv loop. Hosts share channels (up to 512 hosts per socket, each PDU
 * addressed to its host; see docs/snmp.md); each channel's socket is watched
 * with uv_poll and its retransmissions are driven by a uv_timer, so nothing
 * here blocks the loop. GETs carry up to max_oids_per_pdu OIDs each.
 *
 * Each SNMP source of a host is polled every interval_ms of the source. The first polls of the hosts
 * of one interval are spread evenly over it in host_idx order (neighbours
 * in the config share a slot: even load, and storage writes to contiguous
 * rows); a poll still running when the next is due is not overlapped (the
 * next is skipped and counted). One vgl_poll_result per finished poll
 * reaches fn.
 */
#ifndef VGL_SNMP_H
#define VGL_SNMP_H

#include <stdint.h>

#include <uv.h>

#include "collectors/collector.h"
#include "collectors/snmp_conf.h"
#include "conf/conf.h"

struct vgl_snmp;

struct vgl_snmp_stats {
	uint64_t polls;         /* finished */
	uint64_t timeouts;      /* finished with VGL_Q_TIMEOUT */
	uint64_t skipped;       /* due while the previous poll still ran */
	uint64_t values;        /* values delivered with VGL_Q_OK */
	/* Datagrams naming a request in flight but not taken as its answer:
	 * from another address, or with another community than the
	 * request's. Forgery attempts, or agents that answer oddly. */
	uint64_t rejected;
	uint32_t in_flight;
	uint32_t hosts;
};

int vgl_snmp_create(uv_loop_t *loop, uint32_t max_in_flight, vgl_poll_fn *fn, void *ctx,
		    struct vgl_snmp **out);

/* Source `source` of host (an SNMP source: collectors/snmp_conf.h). host
 * must stay valid until vgl_snmp_close's done callback. host_idx and
 * source are what results carry. The first poll is placed at the next loop
 * iteration, among all sources added until then. 0 or a negative
 * errno/UV_E* (logged with the host's name). */
int vgl_snmp_add_source(struct vgl_snmp *s, uint32_t host_idx, const struct vgl_conf_host *host,
			uint32_t source);

void vgl_snmp_get_stats(const struct vgl_snmp *s, struct vgl_snmp_stats *out);

/* The number in a varbind net-snmp decoded (a v3 answer): INTEGER as
 * signed, Counter32/Gauge32/TimeTicks/UInteger32 as unsigned 32 bits,
 * Counter64 as unsigned 64 bits. 0, or -1 for any other type. Exported
 * for the fuzz target of that answer path (test/fuzz/fuzz_netsnmp.c). */
int vgl_snmp_var_number(const netsnmp_variable_list *v, double *out);

/* Cancels in-flight polls (no result is delivered after this call), closes
 * every handle and session; done(ctx) runs once the last handle is closed,
 * after which s is freed. */
void vgl_snmp_close(struct vgl_snmp *s, void (*done)(void *ctx), void *ctx);

#endif
