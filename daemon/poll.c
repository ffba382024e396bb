/*
 * Poll results and the transitions they cause, on the loop thread
 * (daemon/vigil.c wires the collectors to vgl__on_poll):
 *
 *   poll result --> attribution signals (a BMC's status and log entries,
 *                   the host's own answer, its uplink and switch)
 *               --> store: host polled, SLA counters, a BMC's cursor
 *               --> avail --event--> on_avail_event
 *                      OPEN:  attribution decides the cause --> store
 *                      CLOSE: --> store
 *               --> attribution revised while open --> store
 *               --> topo (a device): the hosts behind it
 *
 * Attribution runs only for hosts with a BMC source or an uplink; the
 * others keep their conditions' causes, at no cost.
 */
#include "daemon/vigil_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "conf/backend.h"
#include "core/bmc.h"
#include "core/log.h"
#include "core/vtime.h"
#include "daemon/metrics.h"
#include "rules/values.h"

/* ---- attribution ------------------------------------------------------- */

static int source_is_bmc(const struct vgl_conf_host *ch, uint32_t source)
{
	return source < ch->profile->n_sources && ch->profile->sources[source].be->is_bmc;
}

int vgl__host_attributed(const struct vgl_conf_host *ch)
{
	if (ch->has_uplink)
		return 1;
	for (size_t i = 0; ch->profile && i < ch->profile->n_sources; i++)
		if (ch->profile->sources[i].be->is_bmc)
			return 1;
	return 0;
}

int vgl__host_rt_bmc_init(struct host_rt *h, const struct vgl_conf_host *ch)
{
	int bmc = 0;

	for (size_t i = 0; ch->profile && i < ch->profile->n_sources; i++)
		bmc |= ch->profile->sources[i].be->is_bmc;
	if (bmc) {
		if (!(h->cursors = calloc(ch->profile->n_sources, sizeof(*h->cursors))))
			return -ENOMEM;
		h->n_cursors = ch->profile->n_sources;
	}
	if (vgl__host_attributed(ch) && vgl_attrib_create(&h->attrib) != 0)
		return -ENOMEM;
	return 0;
}

void vgl__host_rt_bmc_clear(struct host_rt *h)
{
	for (size_t i = 0; h->cursors && i < h->n_cursors; i++)
		free(h->cursors[i]);
	h->n_cursors = 0;
	free(h->cursors);
	h->cursors = NULL;
	vgl_attrib_free(h->attrib);
	h->attrib = NULL;
}

void vgl__host_rt_bmc_carry(struct host_rt *h, const struct vgl_conf_host *nch,
			    struct host_rt *old, const struct vgl_conf_host *och)
{
	if (h->attrib && old->attrib) {
		vgl_attrib_free(h->attrib);
		h->attrib = old->attrib;
		old->attrib = NULL;
	}
	if (!h->cursors || !old->cursors)
		return;
	for (size_t i = 0; i < nch->profile->n_sources; i++) {
		long j = vgl_conf_source_index(och->profile, nch->profile->sources[i].name);

		if (j >= 0 && old->cursors[j] && nch->profile->sources[i].be->is_bmc &&
		    nch->profile->sources[i].be == och->profile->sources[j].be) {
			h->cursors[i] = old->cursors[j];
			old->cursors[j] = NULL;
		}
	}
}

struct cursor_ctx {
	struct vigil *v;
	unsigned restored;
};

static void on_cursor(void *arg, int64_t host_id, const char *source, const char *cursor)
{
	struct cursor_ctx *cc = arg;
	struct vigil *v = cc->v;

	/* a handful of BMC hosts per daemon: a scan is fine at start */
	for (size_t i = 0; i < v->conf->n_hosts; i++) {
		const struct vgl_conf_host *ch = &v->conf->hosts[i];
		long s;

		if (v->hosts[i].db_id != host_id || !v->hosts[i].cursors)
			continue;
		s = vgl_conf_source_index(ch->profile, source);
		if (s < 0 || !ch->profile->sources[s].be->is_bmc)
			return;
		free(v->hosts[i].cursors[s]);
		if ((v->hosts[i].cursors[s] = strdup(cursor)))
			cc->restored++;
		return;
	}
}

void vgl__restore_cursors(struct vigil *v)
{
	struct cursor_ctx cc = { v, 0 };

	if (vgl_store_each_cursor(v->store, on_cursor, &cc) != 0)
		vgl_warn("cannot read the BMC event-log cursors: every BMC's log is read afresh "
			 "(entries logged while vigild was down are not seen)");
	else if (cc.restored)
		vgl_info("%u BMC event-log cursor(s) carried over from the database",
			 cc.restored);
}

void vgl__restore_attrib(struct host_rt *h, const char *cause, int64_t start_ms)
{
	if (h->attrib)
		vgl_attrib_opened(h->attrib, start_ms, cause);
}

/* What the host's neighbours say now: every feed off, the uplink port
 * down, the switch of the uplink unavailable. */
static void attrib_neighbours(struct vigil *v, uint32_t host, int64_t ts)
{
	const struct vgl_conf_host *ch = &v->conf->hosts[host];
	struct host_rt *h = &v->hosts[host];
	char up[160], sw[160];
	const char *feeds = NULL, *upd = NULL, *swd = NULL;

	if (vgl_avail_external_holding(h->avail, VGL_AVAIL_EXT_POWER))
		feeds = "every power feed of the host off (topology)";
	if (ch->has_uplink) {
		const struct vgl_conf_feed *u = &ch->uplink;
		struct host_rt *dev = &v->hosts[u->host];
		const struct vgl_value *val = &vgl_values_all(vgl_avail_values(dev->avail))[u->metric];

		/* ifOperStatus: 1 up; anything else it answered is not up */
		if (val->q == VGL_Q_OK && val->v != 1) {
			snprintf(up, sizeof(up), "uplink %s = %g (not up)", u->text, val->v);
			upd = up;
		}
		if (vgl_avail_is_open(dev->avail)) {
			snprintf(sw, sizeof(sw), "switch %s unavailable (open interval)",
				 v->conf->hosts[u->host].name);
			swd = sw;
		}
	}
	for (uint32_t i = 0; !swd && i < ch->n_depends; i++)
		if (vgl_avail_is_open(v->hosts[ch->depends_on[i]].avail)) {
			snprintf(sw, sizeof(sw), "%s unavailable (open interval)",
				 v->conf->hosts[ch->depends_on[i]].name);
			swd = sw;
		}
	if (feeds || upd || swd)
		vgl_attrib_neighbours(h->attrib, ts, feeds, upd, swd);
}

/* The opening evidence with the attribution's under "attribution". NULL
 * when either does not parse or memory runs out (then the caller keeps
 * the opening evidence alone). */
static char *merge_evidence(const char *opened, const char *attribution)
{
	cJSON *o = cJSON_Parse(opened ? opened : "{}"), *a = cJSON_Parse(attribution);
	char *out = NULL;

	if (o && a && cJSON_IsObject(o) && cJSON_AddItemToObject(o, "attribution", a)) {
		a = NULL;
		out = cJSON_PrintUnformatted(o);
	}
	cJSON_Delete(o);
	cJSON_Delete(a);
	return out;
}

static void revise(struct vigil *v, uint32_t host, int64_t now)
{
	struct host_rt *h = &v->hosts[host];
	const char *cause;
	char *evj;
	int changed;

	if (!h->attrib || !vgl_avail_is_open(h->avail))
		return;
	cause = vgl_attrib_decide(h->attrib, now, &changed, &evj);
	if (changed && cause) {
		if (changed == 1)
			vgl_notice("host %s: cause of the open interval revised to %s",
				   v->conf->hosts[host].name, cause);
		vgl_store_interval_cause(v->store, h->db_id, v->conf->hosts[host].name, cause,
					 evj ? evj : "{}");
		vgl__metrics_cause(v->metrics, h->db_id, cause);
	}
	free(evj);
}


struct event_ctx {
	struct vigil *v;
	uint32_t host;
};

static void on_avail_event(void *arg, const struct vgl_avail_event *ev)
{
	struct event_ctx *ec = arg;
	struct vigil *v = ec->v;
	const struct vgl_conf_host *ch = &v->conf->hosts[ec->host];
	struct host_rt *h = &v->hosts[ec->host];
	char ts[VGL_ISO_LEN];

	if (ev->kind == VGL_AVAIL_OPEN) {
		const char *cause = ev->cause;
		char *evj = NULL, *merged = NULL;
		int changed;

		if (h->attrib) {
			vgl_attrib_opened(h->attrib, ev->ts_ms, ev->cause);
			attrib_neighbours(v, ec->host, ev->ts_ms);
			const char *decided = vgl_attrib_decide(h->attrib, ev->ts_ms, &changed,
								&evj);
			if (decided) {
				cause = decided;
				merged = evj ? merge_evidence(ev->evidence, evj) : NULL;
			}
		}
		vgl_info("host %s: unavailable since %s (cause %s, rule %s); recording", ch->name,
			 vgl_format_iso(ev->ts_ms, ts), cause, ev->rule);
		vgl_store_interval_open(v->store, h->db_id, ch->name, cause, ev->rule,
					ev->ts_ms, merged ? merged : ev->evidence, h->interval_ms);
		vgl__metrics_cause(v->metrics, h->db_id, cause);
		vgl__api_host_changed(v, ec->host, cause, ev->ts_ms);
		free(evj);
		free(merged);
	} else {
		if (h->attrib)
			vgl_attrib_closed(h->attrib);
		vgl_info("host %s: available again at %s (rule %s); recording", ch->name,
			 vgl_format_iso(ev->ts_ms, ts), ev->rule);
		vgl_store_interval_close(v->store, h->db_id, ch->name, ev->ts_ms, ev->rule,
					 ev->evidence);
		vgl__metrics_cause(v->metrics, h->db_id, NULL);
		vgl__api_host_changed(v, ec->host, NULL, ev->ts_ms);
	}
}

/* Counter values are whole and non-negative; anything else (a gauge named
 * by mistake) must not reach the SLA as a request count. */
static int counter_value(double d, uint64_t *out)
{
	if (!(d >= 0.0 && d < 18446744073709551616.0) || d != (double)(uint64_t)d)
		return -1;
	*out = (uint64_t)d;
	return 0;
}

/* Every good poll queues the raw pair, changed or not: the error-rate SLA
 * kinds need a sample per poll to place requests in 5-minute blocks. */
static void queue_counters(struct vigil *v, const struct vgl_conf_host *ch,
			   const struct host_rt *h, const struct vgl_poll_result *r)
{
	const struct vgl_conf_profile *p = ch->profile;
	const struct vgl_value *t, *f, *last;
	uint64_t total, failed;

	/* Both come from one source (the loader checks), so this poll
	 * delivered the pair just taken into the table. */
	if (!p->has_counters || p->metrics[p->counters.total].source != r->source)
		return;
	last = vgl_values_all(vgl_avail_values(h->avail));
	t = &last[p->counters.total];
	f = &last[p->counters.failed];
	if (t->q != VGL_Q_OK || f->q != VGL_Q_OK)
		return;
	if (counter_value(t->v, &total) != 0 || counter_value(f->v, &failed) != 0) {
		vgl_debug("host %s: sla_counters values %g, %g are not counters; not recorded",
			  ch->name, t->v, f->v);
		return;
	}
	vgl_store_counter(v->store, h->db_id, r->ts_ms, total, failed);
}

struct topo_ctx {
	struct vigil *v;
	const struct vgl_poll_result *r;        /* the device's poll */
};

static void on_topo_change(void *arg, const struct vgl_topo_change *ch)
{
	struct topo_ctx *tc = arg;
	struct host_rt *h = &tc->v->hosts[ch->host];
	struct event_ctx ec = { tc->v, ch->host };

	/* placed on the device's poll: its interval is the error bar */
	h->interval_ms = tc->r->interval_ms;
	if (vgl_avail_external(h->avail, ch->kind, ch->holding, tc->r->ts_ms, ch->cause, ch->rule,
			       ch->evidence, on_avail_event, &ec) != 0)
		vgl_err("host %s: out of memory recording its %s state from %s",
			tc->v->conf->hosts[ch->host].name,
			ch->kind == VGL_AVAIL_EXT_POWER ? "power" : "facility",
			tc->v->conf->hosts[tc->r->host].name);
}

static void on_topo_degraded(void *arg, uint32_t host, const char *text)
{
	struct topo_ctx *tc = arg;

	if (text)
		vgl_warn("host %s: power redundancy lost, %s", tc->v->conf->hosts[host].name, text);
	vgl_store_host_power(tc->v->store, tc->v->hosts[host].db_id, text,
			     tc->v->conf->hosts[host].profile->n_sources == 0);
}

void vgl__on_poll(void *arg, const struct vgl_poll_result *r)
{
	struct vigil *v = arg;
	const struct vgl_conf_host *ch;
	struct host_rt *h;
	struct event_ctx ec;

	if (v->stopping || r->host >= v->conf->n_hosts) {
		vgl_warn("poll result for unknown host index %u ignored", (unsigned)r->host);
		return;
	}
	ch = &v->conf->hosts[r->host];
	h = &v->hosts[r->host];
	/* latency and errors per source type, before anything can refuse it */
	if (r->source < ch->profile->n_sources)
		vgl__metrics_on_poll(v->metrics, ch->profile->sources[r->source].be->type, r,
				     vgl_now_ms());
	ec.v = v;
	ec.host = r->host;
	/* The interval an event of this poll opens carries this source's
	 * error bar. */
	h->interval_ms = r->interval_ms;
	if (h->attrib) {
		if (source_is_bmc(ch, r->source))
			vgl_attrib_bmc(h->attrib, r->ts_ms, r->quality, r->bmc);
		else if (r->quality != VGL_Q_AUTH)      /* a wrong key says nothing of the host */
			vgl_attrib_host(h->attrib, r->ts_ms, r->quality == VGL_Q_OK);
		attrib_neighbours(v, r->host, r->ts_ms);
	}
	if (r->bmc && r->bmc->cursor && h->cursors && r->source < h->n_cursors) {
		char *c = strdup(r->bmc->cursor);

		if (c) {
			free(h->cursors[r->source]);
			h->cursors[r->source] = c;
		}
		vgl_store_bmc_cursor(v->store, h->db_id, ch->profile->sources[r->source].name,
				     r->bmc->cursor);
	}
	if (vgl_avail_observe(h->avail, r, on_avail_event, &ec) != 0) {
		vgl_err("host %s: poll result of source %u (%zu values) does not fit the host's "
			"%zu sources and %zu metrics; ignored", ch->name, (unsigned)r->source,
			r->n_values, ch->profile->n_sources, ch->profile->n_metrics);
		return;
	}
	vgl_store_host_polled(v->store, h->db_id, r, vgl_values_all(vgl_avail_values(h->avail)),
			      ch->profile->metrics, ch->profile->n_metrics);
	if (r->quality == VGL_Q_OK)
		queue_counters(v, ch, h, r);
	vgl__alarms_on_poll(v, r->host, r);
	revise(v, r->host, r->ts_ms);
	if (vgl_topo_is_device(v->topo, r->host)) {
		struct topo_ctx tc = { v, r };

		vgl_topo_observe(v->topo, r->host, r->ts_ms,
				 vgl_values_all(vgl_avail_values(h->avail)),
				 vgl_avail_site_wide(h->avail), on_topo_change, on_topo_degraded, &tc);
	}
}

