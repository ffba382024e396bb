/*
 * The daemon's wiring. Everything here runs on the loop thread, except the
 * two blocking steps of a reload, which run in libuv's threadpool.
 *
 *   each back end of collectors/registry.c (SNMP today) --poll result-->
 *   vgl__on_poll (daemon/poll.c)
 *       -> store: host polled with its values, the SLA counter pair of
 *                 every good poll (queued, never blocking)
 *       -> avail: per-host state machine --event--> on_avail_event
 *              -> store: interval open/close (logged once committed)
 *       -> topo (a device others are fed by or depend on): the hosts
 *              behind it --external condition--> their avail, as above;
 *              redundancy lost or back --> store: hosts.power
 *   store writer --committed transition (uv_async)--> on_committed
 *
 * Lifecycle of struct vigil:
 *   start:  conf (owned) -> store open (gap recorded) -> hosts synced ->
 *           open intervals restored -> every back end that polls a host
 *           created, its hosts added
 *   reload: (worker) new conf loaded -> (loop) validated ->
 *           (worker) hosts synced, open intervals read; the old
 *           collectors poll meanwhile -> (loop) old collectors closed ->
 *           (last closed) hosts matched by name, state carried over, in
 *           memory only -> new collectors. A failure in either worker step
 *           leaves the running configuration in place.
 *   stop:   collectors closed -> committed wake-up off, signals and timers
 *           closed -> loop ends -> vgl_vigil_free flushes and closes the
 *           store
 */
#include "vigil.h"
#include "daemon/vigil_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collectors/collector.h"
#include "core/log.h"
#include "core/vtime.h"
#include "daemon/metrics.h"
#include "daemon/sdnotify.h"
#include "rules/avail.h"
#include "rules/topo.h"
#include "rules/values.h"
#include "storage/store.h"

#define STATS_PERIOD_MS 60000

static void start_collectors(struct vigil *v);

/* ---- hosts ---------------------------------------------------------- */

static void host_rt_clear(struct host_rt *h)
{
	if (h->avail)
		vgl_avail_free(h->avail);
	vgl__host_rt_bmc_clear(h);
	vgl__host_rules_clear(h);
	memset(h, 0, sizeof(*h));
}

static int host_rt_init(struct host_rt *h, const struct vgl_conf_host *ch, int64_t db_id)
{
	memset(h, 0, sizeof(*h));
	h->db_id = db_id;
	if (vgl__host_rt_bmc_init(h, ch) != 0)
		return -ENOMEM;
	return vgl_avail_create(ch->profile, &h->avail);
}

/* Open-addressing index name -> position, for matching hosts across a
 * reload without a quadratic scan of 100,000 names. */
struct name_index {
	size_t *slot;   /* position + 1; 0 = empty */
	size_t mask;
};

static uint64_t hash_name(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 1099511628211ULL;
	return h;
}

static int name_index_build(struct name_index *ix, const struct vgl_conf *c)
{
	size_t cap = 16;

	while (cap < c->n_hosts * 2)
		cap <<= 1;
	ix->slot = calloc(cap, sizeof(*ix->slot));
	if (!ix->slot)
		return -1;
	ix->mask = cap - 1;
	for (size_t i = 0; i < c->n_hosts; i++) {
		size_t k = hash_name(c->hosts[i].name) & ix->mask;
		while (ix->slot[k])
			k = (k + 1) & ix->mask;
		ix->slot[k] = i + 1;
	}
	return 0;
}

static long name_index_find(const struct name_index *ix, const struct vgl_conf *c,
			    const char *name)
{
	size_t k = hash_name(name) & ix->mask;

	while (ix->slot[k]) {
		size_t i = ix->slot[k] - 1;
		if (strcmp(c->hosts[i].name, name) == 0)
			return (long)i;
		k = (k + 1) & ix->mask;
	}
	return -1;
}

/* ---- restart recovery ------------------------------------------------- */

/* An interval the database holds open. Read where blocking is allowed
 * (before the loop runs, or in a worker at reload) and applied to the
 * state machines on the loop thread, in memory. */
struct open_iv {
	int64_t host_id;
	int64_t start_ms;
	char *cause;
	char *rule;
};

struct open_list {
	struct open_iv *iv;
	size_t n, cap;
	int oom;
};

static void open_list_free(struct open_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->iv[i].cause);
		free(l->iv[i].rule);
	}
	free(l->iv);
	memset(l, 0, sizeof(*l));
}

static void on_open_interval(void *arg, int64_t host_id, const char *cause, const char *rule,
			     int64_t start_ms)
{
	struct open_list *l = arg;
	struct open_iv *iv;

	if (l->oom)
		return;
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;
		struct open_iv *grown = realloc(l->iv, cap * sizeof(*grown));
		if (!grown) {
			l->oom = 1;
			return;
		}
		l->iv = grown;
		l->cap = cap;
	}
	iv = &l->iv[l->n];
	iv->cause = strdup(cause);
	iv->rule = strdup(rule);
	if (!iv->cause || !iv->rule) {
		free(iv->cause);
		free(iv->rule);
		l->oom = 1;
		return;
	}
	iv->host_id = host_id;
	iv->start_ms = start_ms;
	l->n++;
}

/* Blocking (db_mu, SQLite): never on the loop thread once it runs. On
 * failure *why says what failed and l is empty. */
static int read_open_intervals(struct vgl_store *store, struct open_list *l, const char **why)
{
	if (vgl_store_each_open_interval(store, on_open_interval, l) != 0) {
		*why = "cannot list the open intervals in the database";
		open_list_free(l);
		return -1;
	}
	if (l->oom) {
		*why = "out of memory listing the open intervals";
		open_list_free(l);
		return -1;
	}
	return 0;
}

struct id_pos {
	int64_t id;
	size_t pos;
};

static int cmp_id_pos(const void *a, const void *b)
{
	const struct id_pos *x = a, *y = b;
	return (x->id > y->id) - (x->id < y->id);
}

/* Hands each fresh host the interval the database holds open for it. In
 * memory only: safe on the loop thread. */
static int restore_open_intervals(struct vigil *v, const struct open_list *l)
{
	size_t n = v->conf->n_hosts;
	struct id_pos *by_id = malloc((n ? n : 1) * sizeof(*by_id));
	unsigned restored = 0;
	char ts[VGL_ISO_LEN];

	if (by_id) {
		for (size_t i = 0; i < n; i++)
			by_id[i] = (struct id_pos){ v->hosts[i].db_id, i };
		qsort(by_id, n, sizeof(*by_id), cmp_id_pos);
		for (size_t k = 0; k < l->n; k++) {
			const struct open_iv *iv = &l->iv[k];
			struct id_pos key = { iv->host_id, 0 };
			struct id_pos *hit = bsearch(&key, by_id, n, sizeof(key), cmp_id_pos);

			if (!hit) {
				vgl_warn("open interval of host id %lld (no longer configured) stays "
					 "open", (long long)iv->host_id);
				continue;
			}
			/* A host kept across a reload has its state already. */
			if (!v->hosts[hit->pos].fresh)
				continue;
			vgl_avail_restore_open(v->hosts[hit->pos].avail, iv->cause, iv->rule,
					       iv->start_ms);
			vgl__restore_attrib(&v->hosts[hit->pos], iv->cause, iv->start_ms);
			vgl_info("host %s: interval open since %s (cause %s) carried over",
				 v->conf->hosts[hit->pos].name, vgl_format_iso(iv->start_ms, ts),
				 iv->cause);
			restored++;
		}
	}
	free(by_id);
	for (size_t i = 0; i < n; i++)
		v->hosts[i].fresh = 0;
	if (!by_id)
		return -1;
	if (restored)
		vgl_notice("%u open interval(s) carried over from the database", restored);
	return 0;
}

/* ---- hosts from a config ---------------------------------------------- */

/* Builds the runtime array for conf c, ids[i] being the database id of
 * c->hosts[i]. With old/old_conf (a reload), hosts that remain keep their
 * availability state. In memory only (no database): safe on the loop. */
static struct host_rt *build_hosts(const struct vgl_conf *c, const int64_t *ids,
				   struct host_rt *old, const struct vgl_conf *old_conf, long *match)
{
	struct host_rt *hs = calloc(c->n_hosts ? c->n_hosts : 1, sizeof(*hs));
	struct name_index ix = { 0 };

	if (!hs)
		goto out_fail;
	if (old && name_index_build(&ix, old_conf) != 0)
		goto out_fail;
	for (size_t i = 0; i < c->n_hosts; i++) {
		long j = old ? name_index_find(&ix, old_conf, c->hosts[i].name) : -1;
		if (match)
			match[i] = j >= 0 && old[j].avail ? j : -1;
		if (j >= 0 && old[j].avail) {
			/* Carry the state machine over, rebound to the new
			 * metric list. */
			if (vgl_avail_rebind(old[j].avail, c->hosts[i].profile) != 0)
				goto out_fail;
			hs[i].avail = old[j].avail;
			old[j].avail = NULL;
			hs[i].db_id = ids[i];
			if (vgl__host_rt_bmc_init(&hs[i], &c->hosts[i]) != 0)
				goto out_fail;
			vgl__host_rt_bmc_carry(&hs[i], &c->hosts[i], &old[j], &old_conf->hosts[j]);
		} else if (host_rt_init(&hs[i], &c->hosts[i], ids[i]) != 0) {
			goto out_fail;
		} else {
			hs[i].fresh = 1;
		}
	}
	free(ix.slot);
	return hs;

out_fail:
	vgl_err("cannot set up %zu hosts: out of memory", c->n_hosts);
	if (hs)
		for (size_t i = 0; i < c->n_hosts; i++)
			host_rt_clear(&hs[i]);
	free(hs);
	free(ix.slot);
	return NULL;
}

static void free_hosts(struct host_rt *hs, size_t n)
{
	if (!hs)
		return;
	for (size_t i = 0; i < n; i++)
		host_rt_clear(&hs[i]);
	free(hs);
}

/* ---- collector lifecycle ---------------------------------------------- */

/* Every back end with at least one source to poll runs; a host counts as
 * polled once one of its sources is taken, whatever number it has. */
static void start_collectors(struct vigil *v)
{
	size_t n = vgl_collector_count(), polled = 0, sources = 0;
	unsigned char *seen = calloc(v->conf->n_hosts ? v->conf->n_hosts : 1, 1);

	if (!seen) {
		vgl_err("out of memory starting the collectors");
		return;
	}
	v->n_be = 0;
	for (size_t k = 0; k < n && v->n_be < VGL_MAX_BACKENDS; k++) {
		const struct vgl_collector_ops *ops = vgl_collector_at(k);
		size_t mine = 0;
		void *be = NULL;
		int rv;

		for (size_t i = 0; i < v->conf->n_hosts && !mine; i++)
			for (size_t j = 0; j < v->conf->hosts[i].profile->n_sources; j++)
				mine += vgl_collector_of(&v->conf->hosts[i], j) == ops;
		if (!mine)
			continue;
		rv = ops->create(v->loop, v->conf, vgl__on_poll, v, &be);
		if (rv != 0) {
			vgl_err("cannot start the %s collector: %s", ops->name, uv_strerror(rv));
			continue;
		}
		v->be[v->n_be++] = (struct backend){ ops, be };
		for (size_t i = 0; i < v->conf->n_hosts; i++) {
			const struct vgl_conf_host *ch = &v->conf->hosts[i];

			for (size_t j = 0; j < ch->profile->n_sources; j++) {
				if (vgl_collector_of(ch, j) != ops ||
				    ops->add_source(be, (uint32_t)i, ch, (uint32_t)j) != 0)
					continue;
				if (ops->set_cursor && v->hosts[i].cursors && v->hosts[i].cursors[j])
					ops->set_cursor(be, (uint32_t)i, (uint32_t)j,
							v->hosts[i].cursors[j]);
				sources++;
				if (!seen[i]) {
					seen[i] = 1;
					polled++;
				}
			}
		}
	}
	free(seen);
	v->n_polled = polled;
	vgl_notice("polling %zu of %zu hosts (%zu sources)", polled, v->conf->n_hosts, sources);
}

static void sum_stats(const struct vigil *v, struct vgl_collector_stats *sum)
{
	memset(sum, 0, sizeof(*sum));
	for (size_t k = 0; k < v->n_be; k++) {
		struct vgl_collector_stats st;

		v->be[k].ops->stats(v->be[k].be, &st);
		sum->polls += st.polls;
		sum->timeouts += st.timeouts;
		sum->skipped += st.skipped;
		sum->values += st.values;
		sum->rejected += st.rejected;
		sum->in_flight += st.in_flight;
		sum->hosts += st.hosts;
	}
}

static void accumulate_stats(struct vigil *v)
{
	struct vgl_collector_stats s;

	sum_stats(v, &s);
	v->past.polls += s.polls;
	v->past.timeouts += s.timeouts;
	v->past.skipped += s.skipped;
	v->past.values += s.values;
	v->past.rejected += s.rejected;
}

/* systemd's STATUS= line (daemon/sdnotify.h), what `systemctl status`
 * shows: the stats line, shorter. Unavailable hosts are those with an
 * open interval in memory: one pass over the hosts, under a millisecond
 * at 100,000, once a minute. */
static void notify_status_line(const struct vigil *v, char *buf, size_t len)
{
	struct vgl_collector_stats s;
	size_t down = 0;

	sum_stats(v, &s);
	for (size_t i = 0; i < v->conf->n_hosts; i++)
		down += (size_t)vgl_avail_is_open(v->hosts[i].avail);
	snprintf(buf, len, "polling %zu of %zu hosts, %zu unavailable; polls=%llu timeouts=%llu "
		 "committed=%llu", v->n_polled, v->conf->n_hosts, down,
		 (unsigned long long)(v->past.polls + s.polls),
		 (unsigned long long)(v->past.timeouts + s.timeouts),
		 (unsigned long long)v->n_committed);
}

/* READY=1: polling has started, or a reload is over (done or dropped). */
static void notify_ready(const struct vigil *v)
{
	char st[256];

	notify_status_line(v, st, sizeof(st));
	vgl_sd_ready(st);
}

static void on_backend_closed(void *arg)
{
	struct vigil *v = arg;

	if (--v->be_closing == 0)
		v->be_closed(v);
}

/* Closes every running back end; then(v) runs once the last one is done
 * (at once when none runs). */
static void close_collectors(struct vigil *v, void (*then)(void *v))
{
	size_t n = v->n_be;
	struct backend be[VGL_MAX_BACKENDS];

	if (!n) {
		then(v);
		return;
	}
	memcpy(be, v->be, n * sizeof(be[0]));
	v->n_be = 0;
	v->be_closed = then;
	v->be_closing = (unsigned)n;
	for (size_t k = 0; k < n; k++)
		be[k].ops->close(be[k].be, on_backend_closed, v);
}

/* ---- reload ------------------------------------------------------------ */

/* A reload in flight. Its blocking steps run in libuv's threadpool; the
 * loop thread keeps polling with the old config until the in-memory swap.
 * Owned by whichever step runs: the worker touches only the fields of its
 * step (and the store, which lives until vgl_vigil_free, i.e. after uv_run
 * has run every after-callback). */
struct reload {
	uv_work_t work;
	struct vigil *v;
	char *path;
	/* a: load */
	struct vgl_conf *nc;
	struct vgl_conf_errors errs;
	int load_rc;
	/* b: database */
	int64_t *ids;                   /* ids[i] for nc->hosts[i] */
	struct open_list open;
	const char *why;                /* static text; set on a failure */
};

static void reload_free(struct reload *r)
{
	if (!r)
		return;
	vgl_conf_free(r->nc);
	vgl_conf_errors_free(&r->errs);
	free(r->ids);
	open_list_free(&r->open);
	free(r->path);
	free(r);
}

/* The reload is over, done or not; a SIGHUP is accepted again. */
static void reload_end(struct reload *r)
{
	struct vigil *v = r->v;

	v->reloading = 0;
	reload_free(r);
	/* systemd: back to running with the configuration that stays */
	if (!v->stopping)
		notify_ready(v);
}

static void on_reload_collector_closed(void *arg)
{
	struct vigil *v = arg;
	struct reload *r = v->reload;
	struct vgl_conf *nc = r->nc;
	struct host_rt *hs;
	struct vgl_topo *topo = NULL;
	long *match;

	v->reload = NULL;
	v->reloading = 0;
	if (v->stopping) {
		reload_free(r);
		return;
	}
	match = malloc((nc->n_hosts ? nc->n_hosts : 1) * sizeof(*match));
	hs = match ? build_hosts(nc, r->ids, v->hosts, v->conf, match) : NULL;
	if (hs && vgl_topo_new(nc, &topo) != 0) {
		free_hosts(hs, nc->n_hosts);
		hs = NULL;
	}
	/* rules and their windows carried for rules that did not change */
	for (size_t i = 0; hs && v->al && i < nc->n_hosts; i++) {
		long j = match[i];

		if (vgl__host_rules_init(v, &hs[i], &nc->hosts[i], j >= 0 ? &v->hosts[j] : NULL,
					 j >= 0 ? &v->conf->hosts[j] : NULL) != 0) {
			vgl_topo_free(topo);
			free_hosts(hs, nc->n_hosts);
			hs = NULL;
		}
	}
	free(match);
	if (!hs) {
		/* Out of memory half-way through moving host state: no
		 * consistent state is left to poll with. Stop cleanly
		 * (storage flushed, open intervals kept) and let the service
		 * manager restart the daemon. */
		vgl_err("reload of %s failed: out of memory; stopping", r->path);
		reload_free(r);
		vgl_vigil_stop(v);
		return;
	}
	for (size_t i = 0; i < v->conf->n_hosts; i++)
		if (v->hosts[i].avail && vgl_avail_is_open(v->hosts[i].avail))
			vgl_warn("host %s left the configuration with an open interval; it "
				 "stays open until an operator closes it",
				 v->conf->hosts[i].name);
	free_hosts(v->hosts, v->conf->n_hosts);
	/* judged afresh: every host behind a device is reported again at the
	 * device's first poll, which closes what no longer holds */
	vgl_topo_free(v->topo);
	v->topo = topo;
	/* the API's jobs in the threadpool may still read the old one */
	if (!vgl__api_conf_retire(v, v->conf))
		vgl_conf_free(v->conf);
	v->conf = nc;
	r->nc = NULL;
	v->hosts = hs;
	/* A host added back (removed by an earlier reload while down) finds
	 * its interval still open in the database: it closes on recovery. */
	if (restore_open_intervals(v, &r->open) != 0)
		vgl_warn("open intervals of hosts added by the reload not restored; they stay "
			 "open until an operator closes them");
	vgl__alarms_reloaded(v);
	vgl__api_reloaded(v);
	v->n_reloads++;
	vgl_notice("configuration %s reloaded: %zu hosts", nc->path, nc->n_hosts);
	reload_free(r);
	start_collectors(v);
	notify_ready(v);
}

/* Worker, step b: the host rows and the open intervals, under db_mu; may
 * wait out SQLite's busy timeout while another process writes. */
static void reload_work_db(uv_work_t *w)
{
	struct reload *r = w->data;

	if (vgl_store_sync_hosts(r->v->store, r->nc, r->ids) != 0) {
		r->why = "cannot sync the configured hosts with the database";
		return;
	}
	(void)read_open_intervals(r->v->store, &r->open, &r->why);
}

/* Loop, after step b: only now is the old collector stopped. */
static void reload_after_db(uv_work_t *w, int status)
{
	struct reload *r = w->data;
	struct vigil *v = r->v;

	if (status != 0 || v->stopping) {
		reload_end(r);
		return;
	}
	if (r->why) {
		vgl_err("reload of %s failed: %s; the running configuration stays", r->path,
			r->why);
		reload_end(r);
		return;
	}
	v->reload = r;
	accumulate_stats(v);
	close_collectors(v, on_reload_collector_closed);
}

/* Worker, step a: file I/O and MIB resolution. Only this thread touches
 * net-snmp's MIB tree meanwhile: the loop's collector formats OIDs itself. */
static void reload_work_load(uv_work_t *w)
{
	struct reload *r = w->data;

	r->load_rc = vgl_conf_load(r->path, &r->nc, &r->errs);
}

static void reload_after_load(uv_work_t *w, int status)
{
	struct reload *r = w->data;
	struct vigil *v = r->v;
	int rv;

	if (status != 0 || v->stopping) {
		reload_end(r);
		return;
	}
	if (r->load_rc != 0) {
		for (size_t i = 0; i < r->errs.n; i++)
			vgl_err("%s", r->errs.msgs[i]);
		vgl_err("reload rejected: %zu error(s); the running configuration stays",
			r->errs.n);
		reload_end(r);
		return;
	}
	for (size_t i = 0; i < r->nc->n_warnings; i++)
		vgl_warn("%s", r->nc->warnings[i]);
	if (strcmp(r->nc->db_path, v->conf->db_path) != 0) {
		vgl_err("reload rejected: storage.path changed (%s -> %s); restart to move the "
			"database", v->conf->db_path, r->nc->db_path);
		reload_end(r);
		return;
	}
	r->ids = malloc((r->nc->n_hosts ? r->nc->n_hosts : 1) * sizeof(*r->ids));
	if (!r->ids) {
		vgl_err("reload of %s failed: out of memory; the running configuration stays",
			r->path);
		reload_end(r);
		return;
	}
	/* Reusing the request is allowed: libuv is done with it by now. */
	rv = uv_queue_work(v->loop, &r->work, reload_work_db, reload_after_db);
	if (rv != 0) {
		vgl_err("reload of %s failed: %s; the running configuration stays", r->path,
			uv_strerror(rv));
		reload_end(r);
	}
}

void vgl_vigil_reload(struct vigil *v)
{
	struct reload *r;
	int rv;

	if (v->stopping)
		return;
	if (v->reloading) {
		vgl_warn("reload already in progress; SIGHUP ignored");
		return;
	}
	vgl_notice("reloading %s", v->conf->path);
	r = calloc(1, sizeof(*r));
	if (!r || !(r->path = strdup(v->conf->path))) {
		vgl_err("reload of %s failed: out of memory; the running configuration stays",
			v->conf->path);
		free(r);
		return;
	}
	r->v = v;
	r->work.data = r;
	rv = uv_queue_work(v->loop, &r->work, reload_work_load, reload_after_load);
	if (rv != 0) {
		vgl_err("reload of %s failed: %s; the running configuration stays", r->path,
			uv_strerror(rv));
		reload_free(r);
		return;
	}
	v->reloading = 1;
	vgl_sd_reloading("reloading the configuration");
}

/* ---- signals, stats, stop --------------------------------------------- */

static void on_handle_closed(uv_handle_t *h)
{
	struct vigil *v = h->data;
	v->open_handles--;
}

static void on_stop_collector_closed(void *arg)
{
	struct vigil *v = arg;

	/* No wake-up may reach the handle once it is closing; what the last
	 * flush commits is logged by the writer and freed by the store. */
	vgl_store_on_committed(v->store, NULL, NULL);
	vgl__alarms_stop(v);
	uv_close((uv_handle_t *)&v->committed, on_handle_closed);
	uv_close((uv_handle_t *)&v->sig_term, on_handle_closed);
	uv_close((uv_handle_t *)&v->sig_int, on_handle_closed);
	uv_close((uv_handle_t *)&v->sig_hup, on_handle_closed);
	uv_close((uv_handle_t *)&v->stats_timer, on_handle_closed);
}

void vgl_vigil_stop(struct vigil *v)
{
	if (v->stopping)
		return;
	v->stopping = 1;
	vgl__api_stop(v);
	vgl_sd_stopping();
	vgl_notice("stopping: cancelling polls, flushing storage");
	accumulate_stats(v);
	if (v->n_be) {
		close_collectors(v, on_stop_collector_closed);
	} else {
		/* Nothing runs, or a reload's closes are pending: their callback
		 * sees stopping and drops the reload. */
		v->reloading = 0;
		on_stop_collector_closed(v);
	}
}

static void on_signal(uv_signal_t *h, int signum)
{
	struct vigil *v = h->data;

	if (signum == SIGHUP)
		vgl_vigil_reload(v);
	else
		vgl_vigil_stop(v);
}

static void log_stats(struct vigil *v)
{
	struct vgl_collector_stats s;

	sum_stats(v, &s);
	vgl_info("stats: hosts=%u polls=%llu values=%llu timeouts=%llu skipped=%llu "
		 "rejected=%llu in_flight=%u committed=%llu",
		 (unsigned)v->n_polled, (unsigned long long)(v->past.polls + s.polls),
		 (unsigned long long)(v->past.values + s.values),
		 (unsigned long long)(v->past.timeouts + s.timeouts),
		 (unsigned long long)(v->past.skipped + s.skipped),
		 (unsigned long long)(v->past.rejected + s.rejected), (unsigned)s.in_flight,
		 (unsigned long long)v->n_committed);
}

static void on_stats_timer(uv_timer_t *t)
{
	char st[256];

	log_stats(t->data);
	notify_status_line(t->data, st, sizeof(st));
	vgl_sd_status("%s", st);
}

static int init_handle_signal(struct vigil *v, uv_signal_t *h, int signum)
{
	int rv = uv_signal_init(v->loop, h);

	if (rv != 0)
		return rv;
	h->data = v;
	v->open_handles++;
	return uv_signal_start(h, on_signal, signum);
}

/* ---- committed transitions ------------------------------------------- */

/* Loop thread, each transition and outbox row once, in commit order,
 * after its COMMIT: availability alarms, the SLA ledgers, and the
 * notifications that may leave now (daemon/alarm.c). */
static void on_committed(void *ctx, const struct vgl_store_committed *ev)
{
	struct vigil *v = ctx;
	char t[VGL_ISO_LEN];

	vgl__alarms_committed(v, ev);
	if (ev->kind == VGL_COMMITTED_OUTBOX)
		return;
	v->n_committed++;
	vgl_debug("loop: committed #%llu: host %s interval %lld %s (cause %s, rule %s, %s %s)",
		  (unsigned long long)ev->seq, ev->host, (long long)ev->interval_id,
		  ev->kind == VGL_COMMITTED_OPEN ? "opened" : "closed", ev->cause, ev->rule,
		  ev->kind == VGL_COMMITTED_OPEN ? "start" : "end",
		  vgl_format_iso(ev->kind == VGL_COMMITTED_OPEN ? ev->start_ms : ev->end_ms, t));
}

static void on_committed_async(uv_async_t *a)
{
	struct vigil *v = a->data;

	(void)vgl_store_drain_committed(v->store, on_committed, v);
}

/* The writer thread's wake-up; uv_async_send is safe from any thread. */
static void wake_loop(void *ctx)
{
	struct vigil *v = ctx;

	(void)uv_async_send(&v->committed);
}

int vgl_vigil_start(uv_loop_t *loop, struct vgl_conf *conf, struct vigil **out)
{
	struct vgl_store_opts so;
	struct vigil *v = calloc(1, sizeof(*v));
	struct open_list open = { 0 };
	const char *why = NULL;
	int64_t *ids = NULL;
	int rv;

	if (!v) {
		vgl_err("out of memory");
		vgl_conf_free(conf);
		return -1;
	}
	v->loop = loop;
	v->conf = conf;
	so.path = conf->db_path;
	so.batch_ms = conf->batch_ms;
	so.heartbeat_ms = conf->heartbeat_ms;
	so.now_ms = vgl_now_ms();
	if (vgl_store_open(&so, &v->store) != 0)
		goto out_free;
	/* Blocking database reads are fine here: the loop is not running. */
	ids = malloc((conf->n_hosts ? conf->n_hosts : 1) * sizeof(*ids));
	if (!ids) {
		vgl_err("out of memory");
		goto out_store;
	}
	if (vgl_store_sync_hosts(v->store, conf, ids) != 0)
		goto out_ids;
	v->hosts = build_hosts(conf, ids, NULL, NULL, NULL);
	if (!v->hosts)
		goto out_ids;
	if (vgl_topo_new(conf, &v->topo) != 0) {
		vgl_err("out of memory building the power and cooling topology");
		goto out_hosts;
	}
	if (read_open_intervals(v->store, &open, &why) != 0) {
		vgl_err("%s", why);
		goto out_hosts;
	}
	rv = restore_open_intervals(v, &open);
	open_list_free(&open);
	free(ids);
	ids = NULL;
	vgl__restore_cursors(v);
	if (rv != 0) {
		vgl_err("out of memory restoring the open intervals");
		goto out_hosts;
	}

	/* Before the alarms: a port in use is the likeliest failure, and
	 * nothing else has started yet. */
	if (vgl__api_start(v) != 0)
		goto out_hosts;
	if (vgl__alarms_start(v) != 0) {
		vgl_err("cannot set up the alarms");
		goto out_alarms;
	}
	/* /metrics' counters, and the causes of the intervals carried over
	 * (a failed read is logged: they show cause "unknown") */
	if (vgl__metrics_new(&v->metrics) != 0) {
		vgl_err("out of memory setting up the metrics");
		goto out_alarms;
	}
	(void)vgl__metrics_restore(v->metrics, v->store);

	/* Signals and timers cannot fail on a working loop; if they do, the
	 * process is in no state to monitor anything. */
	if ((rv = init_handle_signal(v, &v->sig_term, SIGTERM)) != 0 ||
	    (rv = init_handle_signal(v, &v->sig_int, SIGINT)) != 0 ||
	    (rv = init_handle_signal(v, &v->sig_hup, SIGHUP)) != 0 ||
	    (rv = uv_timer_init(loop, &v->stats_timer)) != 0 ||
	    (rv = uv_async_init(loop, &v->committed, on_committed_async)) != 0) {
		vgl_err("cannot install signal handlers or timers: %s", uv_strerror(rv));
		abort();
	}
	v->committed.data = v;
	v->open_handles++;
	vgl_store_on_committed(v->store, wake_loop, v);
	v->stats_timer.data = v;
	v->open_handles++;
	uv_timer_start(&v->stats_timer, on_stats_timer, STATS_PERIOD_MS, STATS_PERIOD_MS);
	start_collectors(v);
	notify_ready(v);
	*out = v;
	return 0;

out_alarms:
	vgl__alarms_free(v);
out_hosts:
	vgl_topo_free(v->topo);
	free_hosts(v->hosts, conf->n_hosts);
out_ids:
	free(ids);
out_store:
	vgl_store_close(v->store, vgl_now_ms());
out_free:
	vgl_conf_free(conf);
	free(v);
	return -1;
}

void vgl_vigil_free(struct vigil *v)
{
	if (!v)
		return;
	log_stats(v);
	if (v->open_handles)
		vgl_err("%u handle(s) still open at exit", v->open_handles);
	vgl_store_close(v->store, vgl_now_ms());
	vgl__alarms_free(v);
	free_hosts(v->hosts, v->conf->n_hosts);
	vgl_topo_free(v->topo);
	vgl_conf_free(v->conf);
	reload_free(v->reload);
	vgl__metrics_free(v->metrics);
	free(v);
}
