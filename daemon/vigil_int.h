/* What the daemon's files share (daemon/vigil.c: lifecycle, reload,
 * restart recovery; daemon/poll.c: poll results, transitions, attribution).
 * Everything here lives on the loop thread. */
#ifndef VGL_VIGIL_INT_H
#define VGL_VIGIL_INT_H

#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "collectors/collector.h"
#include "conf/conf.h"
#include "rules/attrib.h"
#include "rules/avail.h"
#include "rules/topo.h"
#include "storage/store.h"

/* Back ends a daemon can run at once: the registry's, with room to grow. */
#define VGL_MAX_BACKENDS 8

struct host_rt {
	int64_t db_id;
	struct vgl_avail *avail;
	/* Hosts with a BMC source or an uplink: the cause of their intervals
	 * (rules/attrib.h); NULL for the others. */
	struct vgl_attrib *attrib;
	/* Per source of the profile: where a BMC source's event log was read
	 * up to (collectors/collector.h set_cursor); NULL without BMC sources. */
	char **cursors;
	size_t n_cursors;
	uint32_t interval_ms;           /* of the source whose poll came last */
	/* Alarm rules (rules/rules.h): the profile's and the built-in SLA
	 * budget rules, their state, and the values of the other devices
	 * they read (vgl_conf_host.rule_refs); NULL without rules. */
	struct vgl_rules *rules;
	const struct vgl_conf_rule **rule_list;
	struct vgl_value *ext;
	/* The host's SLA month so far (rules/sla_ledger.h), for the budget
	 * rules; NULL without a policy or with sla_rules off. */
	struct vgl_sla_ledger *ledger;
	/* Built without carried-over state (start, or added by a reload):
	 * an interval the database holds open for it must be restored. */
	int fresh;
};

struct vigil {
	uv_loop_t *loop;
	struct vgl_conf *conf;
	struct vgl_store *store;
	/* The collector back ends running now, in registry order; the
	 * daemon names none of them (collectors/collector.h). */
	struct backend {
		const struct vgl_collector_ops *ops;
		void *be;
	} be[VGL_MAX_BACKENDS];
	size_t n_be;
	unsigned be_closing;            /* closes whose done has not run yet */
	void (*be_closed)(void *v);     /* then this runs */
	struct host_rt *hosts;          /* parallel to conf->hosts */
	struct vgl_topo *topo;          /* of conf; NULL when it has no feeds or depends_on */

	struct reload *reload;          /* a reload waiting for the old collector to close */
	int stopping;
	int reloading;                  /* from SIGHUP until the reload is done or dropped */
	uint64_t n_reloads;             /* configurations swapped in since start */

	uv_signal_t sig_term, sig_int, sig_hup;
	uv_timer_t stats_timer;
	uv_async_t committed;           /* the writer's wake-up: transitions are durable */
	uint64_t n_committed;           /* handed back by the store since start */
	unsigned open_handles;
	size_t n_polled;                /* hosts handed to the collector */

	/* daemon/alarm.c: the alarm manager, the channels, their timers */
	struct dalarms *al;
	/* daemon/api.c: the HTTP API and dashboard; NULL without "api" */
	struct dapi *api;

	/* Totals of collectors closed by reloads, so stats stay cumulative. */
	struct vgl_collector_stats past;

	/* daemon/metrics.c: what /metrics counts that no other module keeps */
	struct vgl_metrics *metrics;
};


/* poll.c */
/* The vgl_poll_fn every collector delivers to (ctx: the struct vigil). */
void vgl__on_poll(void *arg, const struct vgl_poll_result *r);
/* Whether host ch needs attribution: a BMC source or an uplink. */
int vgl__host_attributed(const struct vgl_conf_host *ch);
/* Allocates h->attrib and h->cursors as ch needs them. 0 or -ENOMEM. */
int vgl__host_rt_bmc_init(struct host_rt *h, const struct vgl_conf_host *ch);
void vgl__host_rt_bmc_clear(struct host_rt *h);
/* A reload: old's attribution and the cursors of same-named BMC sources
 * move to h (built for nch). */
void vgl__host_rt_bmc_carry(struct host_rt *h, const struct vgl_conf_host *nch,
			    struct host_rt *old, const struct vgl_conf_host *och);
/* Start: the cursors the database holds (synchronous, before the loop). */
void vgl__restore_cursors(struct vigil *v);
/* A restored open interval, for attribution. */
void vgl__restore_attrib(struct host_rt *h, const char *cause, int64_t start_ms);

/* alarm.c: alarms, rules, escalation and the outbox on the loop.
 * start: after the hosts are built and their open intervals restored
 * (reads the alarms to restore, loads the SLA ledgers: blocking, before
 * the loop runs); 0 or -1 (logged). */
struct vgl_sla_ledger;
struct vgl_rules;
struct vgl_conf_rule;
int vgl__alarms_start(struct vigil *v);
/* A host's rules and ledger (at start, and for hosts a reload adds or
 * keeps: old/och the host's previous state, or NULL). 0 or -ENOMEM. */
int vgl__host_rules_init(struct vigil *v, struct host_rt *h, const struct vgl_conf_host *ch,
			 struct host_rt *old, const struct vgl_conf_host *och);
void vgl__host_rules_clear(struct host_rt *h);
/* A poll result was taken into host's values. */
void vgl__alarms_on_poll(struct vigil *v, uint32_t host, const struct vgl_poll_result *r);
/* A transition or outbox row is durable. */
void vgl__alarms_committed(struct vigil *v, const struct vgl_store_committed *ev);
/* After a reload swapped in the new config and hosts. */
void vgl__alarms_reloaded(struct vigil *v);
/* Stop: timers and channels closed; open_handles counts them. */
void vgl__alarms_stop(struct vigil *v);
void vgl__alarms_free(struct vigil *v);
/* /metrics: the alarm manager's counts (all zero and -1 before it exists). */
struct vgl_alarms_stats;
int vgl__alarms_stats(struct vigil *v, struct vgl_alarms_stats *out);

/* api.c: the HTTP API (docs/api.md). start: listens (0, or -1 logged);
 * stop: closes, open_handles counting it. conf_retire: a reload replaced
 * old; 1 when jobs still read it (the API frees it after them), else 0
 * (the caller frees it). alarm_changed, host_changed: what the event
 * stream tells the dashboards. */
struct vgl_alarm_row;
int vgl__api_start(struct vigil *v);
void vgl__api_stop(struct vigil *v);
void vgl__api_reloaded(struct vigil *v);
uint16_t vgl__api_port(const struct vigil *v);
int vgl__api_conf_retire(struct vigil *v, struct vgl_conf *old);
void vgl__api_alarm_changed(struct vigil *v, const struct vgl_alarm_row *r);
/* cause: of the interval that opened; NULL: it closed */
void vgl__api_host_changed(struct vigil *v, uint32_t host, const char *cause, int64_t ts_ms);

#endif
