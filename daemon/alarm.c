/*
 * Alarms on the loop thread (docs/alarms.md): what connects the rules,
 * the alarm manager, the channels and the store.
 *
 *   poll result --> rules (rules/rules.h) --FIRE/CLEAR--> manager
 *   committed OPEN/CLOSE --> the host's availability alarm (a condition
 *                            with "alarm"), its SLA ledger
 *   manager --rows--> store (queued, written with the batch)
 *   committed OUTBOX row --> manager: may be sent --> notify (curl multi
 *                            on the loop, uv_spawn) --result--> manager
 *   tick timer (1 s): escalation steps, dependency waits, retries
 *   refresh timer (60 s): active alarms posted again to the Alertmanager
 *                         channels they reached (its resolve_timeout)
 *   control timer (1 s): acknowledgements, silences and maintenance
 *                        windows read in the threadpool (the store's
 *                        connection under its lock), applied on the loop
 *
 * An alarm follows the durable record: the availability alarm is raised
 * when the interval's open is committed, and a notification leaves only
 * once its outbox row is. So nothing is ever paged that a kill -9 could
 * make the database forget, and what was owed is sent after a restart.
 */
#include "daemon/vigil_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "alarms/alarm.h"
#include "alarms/alarm_conf.h"
#include "core/log.h"
#include "core/vtime.h"
#include "daemon/vigil.h"
#include "notify/channel.h"
#include "notify/notify.h"
#include "rules/rule_conf.h"
#include "rules/rules.h"
#include "rules/sla_ledger.h"
#include "rules/values.h"
#include "storage/sla_db.h"

#define TICK_MS 1000
#define CONTROL_MS 1000
/* Alertmanager resolves by itself an alert not posted again within its
 * resolve_timeout (5 min by default): the active ones are posted again
 * this often. Not through the outbox: a state, not a notification. */
#define REFRESH_MS 60000
/* Maintenance windows ending before this long ago cannot touch the month. */
#define WINDOW_LOOKBACK_MS (40LL * 86400 * 1000)

/* The two budget rules every host with an SLA policy gets (docs/rules.md
 * "SLA budget rules"): 80 % of the month's allowance used while down, and
 * ten minutes of downtime from a higher credit band while down. */
static const struct {
	const char *name, *when;
	enum vgl_severity sev;
	const char *summary;
} builtin[] = {
	{ "sla-allowance-80", "unavailable() == 1 and sla_allowance_left_ms() <= 0.2 * "
	  "sla_allowance_ms()", VGL_SEV_MAJOR,
	  "{host}: 80% of the month's downtime allowance used, still down" },
	{ "sla-next-band", "unavailable() == 1 and sla_next_band_ms() <= 600000",
	  VGL_SEV_CRITICAL, "{host}: 10 minutes of downtime from a higher SLA credit band, still down" },
};
#define N_BUILTIN (sizeof(builtin) / sizeof(builtin[0]))

struct ctl_ack { int64_t id, ts; char *by; };

struct control {
	uv_work_t work;
	struct vigil *v;
	int64_t now;
	int failed;
	struct ctl_ack *acks;
	size_t n_acks;
	struct vgl_store_silence *sil;
	size_t n_sil;
	struct vgl_store_window *win;
	size_t n_win;
};

struct seen_window { int64_t id, start_ms, end_ms; int cancelled; };

struct dalarms {
	struct vgl_alarms *mgr;
	struct vgl_notify *notify;
	/* the channels notify was made from (a copy: the config they came
	 * from is freed by a reload) */
	struct vgl_channel_conf *chan;
	size_t n_chan;
	struct vgl_conf_rule sla_rules[N_BUILTIN];
	int sla_ok;
	int64_t *db_ids;
	struct { int64_t id; uint32_t idx; } *by_id;    /* sorted by id */
	uv_timer_t tick, ctl_timer, refresh;
	struct control *ctl;            /* in the threadpool now, or NULL */
	struct seen_window *seen;
	size_t n_seen;
	int stopping;
};

/* ---- host index by database id ------------------------------------------------ */

static int cmp_id(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

static int build_ids(struct vigil *v)
{
	struct dalarms *d = v->al;
	size_t n = v->conf->n_hosts;
	int64_t *ids = malloc((n ? n : 1) * sizeof(*ids));
	void *by = malloc((n ? n : 1) * sizeof(*d->by_id));

	if (!ids || !by) {
		free(ids);
		free(by);
		return -ENOMEM;
	}
	free(d->db_ids);
	free(d->by_id);
	d->db_ids = ids;
	d->by_id = by;
	for (size_t i = 0; i < n; i++) {
		ids[i] = v->hosts[i].db_id;
		d->by_id[i].id = ids[i];
		d->by_id[i].idx = (uint32_t)i;
	}
	qsort(d->by_id, n, sizeof(*d->by_id), cmp_id);
	return 0;
}

static long host_of_id(const struct vigil *v, int64_t id)
{
	size_t lo = 0, hi = v->conf->n_hosts;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (v->al->by_id[mid].id == id)
			return v->al->by_id[mid].idx;
		if (v->al->by_id[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

/* ---- io for the manager ------------------------------------------------------- */

static void io_store(void *ctx, enum vgl_store_alarm_op op, int64_t host_id, const char *doc)
{
	struct vigil *v = ctx;

	vgl_store_alarm(v->store, op, host_id, doc);
}

static int io_send(void *ctx, int64_t outbox_id, const char *channel, const char *payload)
{
	struct vigil *v = ctx;

	if (!v->al->notify)
		return -1;
	return vgl_notify_send(v->al->notify, channel, outbox_id, payload);
}

static void io_changed(void *ctx, const struct vgl_alarm_row *row)
{
	vgl__api_alarm_changed(ctx, row);
}

static void on_delivered(void *ctx, int64_t token, int ok, const char *error)
{
	struct vigil *v = ctx;

	if (v->al && v->al->mgr)
		vgl_alarms_delivered(v->al->mgr, token, ok, error, vgl_now_ms());
}

/* ---- rules --------------------------------------------------------------- */

static int sla_wanted(const struct vigil *v, const struct vgl_conf_host *ch)
{
	return v->al->sla_ok && v->conf->alarm_conf->sla_rules && ch->policy;
}

void vgl__host_rules_clear(struct host_rt *h)
{
	vgl_rules_free(h->rules);
	free(h->rule_list);
	free(h->ext);
	vgl_sla_ledger_free(h->ledger);
	h->rules = NULL;
	h->rule_list = NULL;
	h->ext = NULL;
	h->ledger = NULL;
}

/* A reload: a rule that fired keeps its alarm. Changed, it starts firing
 * (its new clear ends the alarm); removed, its alarm clears now, as
 * nothing would ever clear it. */
static void reload_firing(struct vigil *v, struct host_rt *h, const struct host_rt *old)
{
	for (size_t j = 0; j < vgl_rules_count(old->rules); j++) {
		const struct vgl_conf_rule *r = old->rule_list[j];
		int sla = r >= &v->al->sla_rules[0] && r < &v->al->sla_rules[N_BUILTIN];
		size_t i = 0, n = h->rules ? vgl_rules_count(h->rules) : 0;

		if (!vgl_rules_firing(old->rules, j))
			continue;
		for (; i < n; i++)
			if (strcmp(h->rule_list[i]->name, r->name) == 0)
				break;
		if (i < n) {
			vgl_rules_set_firing(h->rules, i);
		} else if (v->al->mgr) {
			vgl_alarms_clear_key(v->al->mgr, old->db_id, sla ? VGL_AK_SLA : VGL_AK_RULE,
					     r->name, vgl_now_ms());
		}
	}
}

int vgl__host_rules_init(struct vigil *v, struct host_rt *h, const struct vgl_conf_host *ch,
			 struct host_rt *old, const struct vgl_conf_host *och)
{
	const struct vgl_conf_profile *p = ch->profile;
	size_t n = (p ? p->n_rules : 0) + (sla_wanted(v, ch) ? N_BUILTIN : 0), k = 0;
	int64_t now = vgl_now_ms();

	(void)och;
	if (n) {
		if (!(h->rule_list = calloc(n, sizeof(*h->rule_list))))
			return -ENOMEM;
		for (size_t i = 0; p && i < p->n_rules; i++)
			h->rule_list[k++] = &p->rules[i];
		if (sla_wanted(v, ch))
			for (size_t i = 0; i < N_BUILTIN; i++)
				h->rule_list[k++] = &v->al->sla_rules[i];
		if (!(h->rules = vgl_rules_create(h->rule_list, n, p, now)))
			return -ENOMEM;
		if (old && old->rules)
			vgl_rules_carry(h->rules, old->rules);
	}
	if (old && old->rules)
		reload_firing(v, h, old);
	if (ch->n_rule_refs && !(h->ext = calloc(ch->n_rule_refs, sizeof(*h->ext))))
		return -ENOMEM;
	if (sla_wanted(v, ch)) {
		if (old && old->ledger) {
			/* same policy and service window: the month goes on */
			h->ledger = old->ledger;
			old->ledger = NULL;
		} else if (!(h->ledger = vgl_sla_ledger_new(ch->policy, ch->service_start_ms,
							    ch->service_end_ms, now))) {
			vgl_warn("host %s: its SLA month cannot be followed (policy refused); no "
				 "budget alarms", ch->name);
		}
	}
	return 0;
}

static void on_rule_event(void *ctx, const struct vgl_rule_event *ev);

struct rule_ctx {
	struct vigil *v;
	uint32_t host;
};

static void fill_ext(struct vigil *v, const struct vgl_conf_host *ch, struct host_rt *h)
{
	for (size_t k = 0; k < ch->n_rule_refs; k++) {
		const struct vgl_conf_feed *ref = &ch->rule_refs[k];

		h->ext[k].q = VGL_Q_ABSENT;
		if (ref->host < v->conf->n_hosts && v->hosts[ref->host].avail)
			h->ext[k] = vgl_values_all(vgl_avail_values(v->hosts[ref->host].avail))
					    [ref->metric];
	}
}

void vgl__alarms_on_poll(struct vigil *v, uint32_t host, const struct vgl_poll_result *r)
{
	struct host_rt *h = &v->hosts[host];
	const struct vgl_conf_host *ch = &v->conf->hosts[host];
	struct vgl_expr_sla sla = { 0 };
	struct rule_ctx rc = { v, host };

	if (!h->rules || !v->al || !v->al->mgr)
		return;
	if (h->ext)
		fill_ext(v, ch, h);
	if (h->ledger && vgl_sla_ledger_get(h->ledger, r->ts_ms, &sla) != 0)
		sla.known = 0;
	vgl_rules_observe(h->rules, r, vgl_values_all(vgl_avail_values(h->avail)), h->ext,
			  h->ledger ? &sla : NULL, on_rule_event, &rc);
}

static void on_rule_event(void *ctx, const struct vgl_rule_event *ev)
{
	struct rule_ctx *rc = ctx;
	struct vigil *v = rc->v;
	struct host_rt *h = &v->hosts[rc->host];
	const struct vgl_conf_host *ch = &v->conf->hosts[rc->host];
	const struct vgl_conf_rule *rule = h->rule_list[ev->rule];
	int sla = rule >= &v->al->sla_rules[0] && rule < &v->al->sla_rules[N_BUILTIN];
	enum vgl_alarm_kind kind = sla ? VGL_AK_SLA : VGL_AK_RULE;

	if (ev->fire) {
		const struct vgl_value *vals = vgl_values_all(vgl_avail_values(h->avail));
		char *summary = vgl_rules_summary(&rule->alarm, rule->name, ch, vals,
						  ev->has_value, ev->value);
		cJSON *d = cJSON_CreateObject();
		char *details = NULL;

		if (d) {
			if (ev->has_value)
				cJSON_AddNumberToObject(d, "value", ev->value);
			cJSON_AddStringToObject(d, "when", rule->when_text);
			if (rule->clear_text)
				cJSON_AddStringToObject(d, "clear", rule->clear_text);
			cJSON_AddNumberToObject(d, "holding_since_ms", (double)ev->since_ms);
			details = cJSON_PrintUnformatted(d);
			cJSON_Delete(d);
		}
		struct vgl_alarm_raise r = { rc->host, kind, rule->name, &rule->alarm, summary,
					     details, ev->ts_ms };
		if (vgl_alarms_raise(v->al->mgr, &r) < 0)
			vgl_err("host %s: out of memory raising the alarm of rule %s", ch->name,
				rule->name);
		free(summary);
		free(details);
	} else {
		vgl_alarms_clear(v->al->mgr, rc->host, kind, rule->name, ev->ts_ms);
	}
}

/* ---- availability alarms from committed transitions ------------------------------ */

static const struct vgl_conf_cond *cond_named(const struct vgl_conf_profile *p, const char *rule)
{
	for (size_t i = 0; p && rule && i < p->n_conds; i++)
		if (strcmp(p->conds[i].name, rule) == 0)
			return &p->conds[i];
	return NULL;
}

/* An interval opened by a condition of the profile raises that
 * condition's alarm; one opened from outside (its feeds off, a site-wide
 * condition) raises the first alarm the host's conditions declare. */
static const struct vgl_conf_alarm_spec *avail_spec(const struct vgl_conf_profile *p,
						    const char *rule)
{
	const struct vgl_conf_cond *c = cond_named(p, rule);

	if (c)
		return c->alarm;
	for (size_t i = 0; p && i < p->n_conds; i++)
		if (p->conds[i].alarm)
			return p->conds[i].alarm;
	return NULL;
}

void vgl__alarms_committed(struct vigil *v, const struct vgl_store_committed *ev)
{
	struct dalarms *d = v->al;
	long host;

	if (!d || !d->mgr)
		return;
	if (ev->kind == VGL_COMMITTED_OUTBOX) {
		vgl_alarms_committed(d->mgr, ev->outbox_id);
		return;
	}
	if ((host = host_of_id(v, ev->host_id)) < 0)
		return;
	const struct vgl_conf_host *ch = &v->conf->hosts[host];
	struct host_rt *h = &v->hosts[host];
	int cause = vgl_cause_index(ev->cause);

	if (cause < 0)
		cause = VGL_CAUSE_UNKNOWN;
	if (h->ledger) {
		if (ev->kind == VGL_COMMITTED_OPEN)
			vgl_sla_ledger_add_interval(h->ledger, ev->interval_id, cause,
						    ev->start_ms, VGL_SLA_OPEN);
		else
			vgl_sla_ledger_add_interval(h->ledger, ev->interval_id, cause,
						    ev->start_ms, ev->end_ms);
	}
	if (ev->kind == VGL_COMMITTED_OPEN) {
		const struct vgl_conf_alarm_spec *spec = avail_spec(ch->profile, ev->rule);
		char summary[400], *details = NULL;
		cJSON *dj;

		if (!spec)
			return;
		snprintf(summary, sizeof(summary), "%s is unavailable (cause %s, rule %s)", ch->name,
			 ev->cause, ev->rule);
		if (spec->summary) {
			char *s = vgl_rules_summary(spec, ev->rule, ch,
						    vgl_values_all(vgl_avail_values(h->avail)), 0, 0);
			if (s) {
				snprintf(summary, sizeof(summary), "%s", s);
				free(s);
			}
		}
		if ((dj = cJSON_CreateObject())) {
			cJSON_AddNumberToObject(dj, "interval_id", (double)ev->interval_id);
			cJSON_AddStringToObject(dj, "cause", ev->cause);
			cJSON_AddStringToObject(dj, "interval_rule", ev->rule);
			details = cJSON_PrintUnformatted(dj);
			cJSON_Delete(dj);
		}
		struct vgl_alarm_raise r = { (uint32_t)host, VGL_AK_AVAIL, ev->rule, spec, summary,
					     details, ev->start_ms };
		if (vgl_alarms_raise(d->mgr, &r) < 0)
			vgl_err("host %s: out of memory raising its availability alarm", ch->name);
		free(details);
	} else {
		vgl_alarms_clear(d->mgr, (uint32_t)host, VGL_AK_AVAIL, NULL, ev->end_ms);
	}
	/* a page that waited for this commit goes now, not at the next tick */
	vgl_alarms_tick(d->mgr, vgl_now_ms());
}

/* ---- timers ------------------------------------------------------------------- */

static void on_tick(uv_timer_t *t)
{
	struct vigil *v = t->data;

	if (v->al->mgr && !v->stopping)
		vgl_alarms_tick(v->al->mgr, vgl_now_ms());
}

static void refresh_one(void *ctx, const char *channel, const char *snapshot)
{
	struct vigil *v = ctx;

	for (size_t i = 0; i < v->al->n_chan; i++)
		if (v->al->chan[i].type == VGL_CH_ALERTMANAGER &&
		    strcmp(v->al->chan[i].name, channel) == 0) {
			/* token 0: no outbox row waits on it */
			if (vgl_notify_send(v->al->notify, channel, 0, snapshot) != 0)
				vgl_debug("alertmanager %s: refresh not sent", channel);
			return;
		}
}

static void on_refresh(uv_timer_t *t)
{
	struct vigil *v = t->data;

	if (v->al->mgr && v->al->notify && !v->stopping)
		vgl_alarms_each_paged(v->al->mgr, refresh_one, v);
}

static char *dup_opt(const char *s, int *failed)
{
	char *d = s ? strdup(s) : NULL;

	if (s && !d)
		*failed = 1;
	return d;
}

static void c_ack(void *ctx, const struct vgl_store_ack *a)
{
	struct control *c = ctx;
	struct ctl_ack *n = realloc(c->acks, (c->n_acks + 1) * sizeof(*n));

	if (!n) {
		c->failed = 1;
		return;
	}
	c->acks = n;
	n[c->n_acks] = (struct ctl_ack){ a->alarm_id, a->acked_ms, dup_opt(a->by, &c->failed) };
	c->n_acks++;
}

static void c_silence(void *ctx, const struct vgl_store_silence *s)
{
	struct control *c = ctx;
	struct vgl_store_silence *n = realloc(c->sil, (c->n_sil + 1) * sizeof(*n));

	if (!n) {
		c->failed = 1;
		return;
	}
	c->sil = n;
	n[c->n_sil] = *s;
	n[c->n_sil].host = dup_opt(s->host, &c->failed);
	n[c->n_sil].site = dup_opt(s->site, &c->failed);
	n[c->n_sil].label = dup_opt(s->label, &c->failed);
	n[c->n_sil].reason = NULL;
	c->n_sil++;
}

static void c_window(void *ctx, const struct vgl_store_window *w)
{
	struct control *c = ctx;
	struct vgl_store_window *n = realloc(c->win, (c->n_win + 1) * sizeof(*n));

	if (!n) {
		c->failed = 1;
		return;
	}
	c->win = n;
	n[c->n_win] = *w;
	n[c->n_win].site = dup_opt(w->site, &c->failed);
	n[c->n_win].kind = NULL;
	c->n_win++;
	/* the kind decides what the SLA may exclude */
	if (w->kind && strcmp(w->kind, "emergency") == 0)
		n[c->n_win - 1].kind = "emergency";
	else
		n[c->n_win - 1].kind = "planned";
}

static void control_free(struct control *c)
{
	for (size_t i = 0; i < c->n_acks; i++)
		free(c->acks[i].by);
	free(c->acks);
	for (size_t i = 0; i < c->n_sil; i++) {
		free((char *)c->sil[i].host);
		free((char *)c->sil[i].site);
		free((char *)c->sil[i].label);
	}
	free(c->sil);
	for (size_t i = 0; i < c->n_win; i++)
		free((char *)c->win[i].site);
	free(c->win);
	free(c);
}

static void control_work(uv_work_t *w)
{
	struct control *c = w->data;
	static const struct vgl_store_control_fns fns = { c_ack, c_silence, c_window };

	if (vgl_store_read_control(c->v->store, c->now, c->now - WINDOW_LOOKBACK_MS, &fns, c) != 0)
		c->failed = 1;
}

/* A window the ledgers have not seen as it is now. */
static int window_changed(struct dalarms *d, const struct vgl_store_window *w)
{
	for (size_t i = 0; i < d->n_seen; i++)
		if (d->seen[i].id == w->id) {
			int same = d->seen[i].start_ms == w->start_ms &&
				   d->seen[i].end_ms == w->end_ms &&
				   d->seen[i].cancelled == w->cancelled;
			d->seen[i] = (struct seen_window){ w->id, w->start_ms, w->end_ms, w->cancelled };
			return !same;
		}
	struct seen_window *n = realloc(d->seen, (d->n_seen + 1) * sizeof(*n));
	if (!n)
		return 1;
	d->seen = n;
	d->seen[d->n_seen++] = (struct seen_window){ w->id, w->start_ms, w->end_ms, w->cancelled };
	return 1;
}

static void apply_window(struct vigil *v, const struct vgl_store_window *w)
{
	struct vgl_sla_maint m = { w->id, strcmp(w->kind, "emergency") == 0 ? VGL_MAINT_EMERGENCY
									 : VGL_MAINT_PLANNED,
				   w->start_ms, w->end_ms, w->announced_ms, NULL };

	for (size_t i = 0; i < v->conf->n_hosts; i++) {
		struct host_rt *h = &v->hosts[i];
		const char *site = v->conf->hosts[i].site;

		if (!h->ledger || !((w->host_id && w->host_id == h->db_id) ||
				    (w->site && site && strcmp(w->site, site) == 0)))
			continue;
		if (w->cancelled)
			vgl_sla_ledger_remove_maint(h->ledger, w->id);
		else if (vgl_sla_ledger_add_maint(h->ledger, &m) != 0)
			vgl_warn("host %s: maintenance window %lld not taken into its SLA month",
				 v->conf->hosts[i].name, (long long)w->id);
	}
}

static void control_after(uv_work_t *w, int status)
{
	struct control *c = w->data;
	struct vigil *v = c->v;
	struct dalarms *d = v->al;

	d->ctl = NULL;
	if (status == 0 && !c->failed && d->mgr && !d->stopping) {
		for (size_t i = 0; i < c->n_acks; i++)
			vgl_alarms_acked(d->mgr, c->acks[i].id, c->acks[i].ts, c->acks[i].by);
		vgl_alarms_control_begin(d->mgr);
		for (size_t i = 0; i < c->n_sil; i++)
			vgl_alarms_silence(d->mgr, &c->sil[i]);
		for (size_t i = 0; i < c->n_win; i++) {
			vgl_alarms_window(d->mgr, &c->win[i]);
			if (window_changed(d, &c->win[i]))
				apply_window(v, &c->win[i]);
		}
		vgl_alarms_control_end(d->mgr);
	}
	control_free(c);
}

static void on_control_timer(uv_timer_t *t)
{
	struct vigil *v = t->data;
	struct dalarms *d = v->al;
	struct control *c;

	if (d->ctl || d->stopping || v->stopping)
		return;
	if (!(c = calloc(1, sizeof(*c))))
		return;
	c->v = v;
	c->now = vgl_now_ms();
	c->work.data = c;
	if (uv_queue_work(v->loop, &c->work, control_work, control_after) != 0) {
		control_free(c);
		return;
	}
	d->ctl = c;
}

/* ---- start, reload, stop -------------------------------------------------------- */

static void on_active(void *ctx, const struct vgl_store_active_alarm *row)
{
	struct vigil *v = ctx;

	if (vgl_alarms_restore(v->al->mgr, row, vgl_now_ms()) != 0)
		vgl_err("out of memory restoring alarm %lld", (long long)row->id);
	/* the rule that raised it is firing, so its recovery clears it */
	long host = host_of_id(v, row->host_id);
	if (host < 0 || !row->rule || !row->kind || !v->hosts[host].rules)
		return;
	if (strcmp(row->kind, "rule") != 0 && strcmp(row->kind, "sla") != 0)
		return;
	for (size_t i = 0; i < vgl_rules_count(v->hosts[host].rules); i++)
		if (strcmp(v->hosts[host].rule_list[i]->name, row->rule) == 0)
			vgl_rules_set_firing(v->hosts[host].rules, i);
}

static void on_owed(void *ctx, const struct vgl_store_owed *o)
{
	struct vigil *v = ctx;

	if (vgl_alarms_restore_owed(v->al->mgr, o) != 0)
		vgl_err("out of memory restoring notification %lld", (long long)o->id);
}

static int load_ledgers(struct vigil *v)
{
	struct vgl_sql *db;
	struct vgl_sla_db *sdb = NULL;
	char err[256];
	int rc = 0;

	for (size_t i = 0; i < v->conf->n_hosts && !rc; i++)
		rc = v->hosts[i].ledger != NULL;
	if (!rc)
		return 0;
	if (vgl_sql_open(v->conf->db_path, &db, err, sizeof(err)) != 0) {
		vgl_err("SLA budget alarms: %s", err);
		return -1;
	}
	if (vgl_sla_db_new(db, &sdb, err, sizeof(err)) != 0) {
		vgl_err("SLA budget alarms: %s", err);
		vgl_sql_close(db);
		return -1;
	}
	for (size_t i = 0; i < v->conf->n_hosts; i++) {
		struct host_rt *h = &v->hosts[i];

		if (h->ledger && vgl_sla_ledger_load_sdb(sdb, h->db_id, v->conf->hosts[i].site,
							 h->ledger, err, sizeof(err)) != 0)
			vgl_warn("host %s: SLA month not loaded (%s); its budget alarms count from "
				 "now", v->conf->hosts[i].name, err);
	}
	vgl_sla_db_free(sdb);
	vgl_sql_close(db);
	return 0;
}

static int make_sla_rules(struct dalarms *d)
{
	static const struct vgl_expr_opts opts = { 0, 0, 1 };

	for (size_t i = 0; i < N_BUILTIN; i++) {
		struct vgl_conf_rule *r = &d->sla_rules[i];
		struct vgl_expr_error ee;

		memset(r, 0, sizeof(*r));
		if (!(r->name = strdup(builtin[i].name)) ||
		    !(r->when_text = strdup(builtin[i].when)) ||
		    !(r->alarm.summary = strdup(builtin[i].summary)))
			return -ENOMEM;
		r->alarm.severity = builtin[i].sev;
		if (vgl_expr_parse_opts(r->when_text, NULL, 0, &opts, &r->when, &ee) != 0) {
			vgl_err("built-in rule %s: %s at %zu", r->name, ee.msg, ee.offset);
			return -EINVAL;
		}
	}
	d->sla_ok = 1;
	return 0;
}

static void free_chan(struct dalarms *d)
{
	for (size_t i = 0; i < d->n_chan; i++)
		vgl_channel_conf_clear(&d->chan[i]);
	free(d->chan);
	d->chan = NULL;
	d->n_chan = 0;
}

static int make_notify(struct vigil *v)
{
	const struct vgl_alarm_conf *ac = v->conf->alarm_conf;
	struct dalarms *d = v->al;

	free_chan(d);
	if (!ac->n_channels)
		return 0;
	if (!(d->chan = calloc(ac->n_channels, sizeof(*d->chan))))
		return -1;
	for (size_t i = 0; i < ac->n_channels; i++, d->n_chan++)
		if (vgl_channel_conf_copy(&d->chan[i], &ac->channels[i]) != 0)
			return -1;
	if (vgl_notify_new(v->loop, ac->channels, ac->n_channels, on_delivered, v,
			   &v->al->notify) != 0) {
		vgl_err("cannot set up the notification channels");
		return -1;
	}
	return 0;
}

int vgl__alarms_start(struct vigil *v)
{
	struct dalarms *d = calloc(1, sizeof(*d));
	struct vgl_store_alarm_state st;
	struct vgl_alarm_io io = { io_store, io_send, io_changed, v };
	int rv;

	if (!d)
		return -1;
	v->al = d;
	if (make_sla_rules(d) != 0 || build_ids(v) != 0)
		return -1;
	for (size_t i = 0; i < v->conf->n_hosts; i++)
		if (vgl__host_rules_init(v, &v->hosts[i], &v->conf->hosts[i], NULL, NULL) != 0) {
			vgl_err("out of memory setting up the alarm rules");
			return -1;
		}
	if (load_ledgers(v) != 0)
		return -1;
	/* ids continue after the largest the database holds: known before
	 * the manager exists, restored into it after */
	if (vgl_store_alarm_restore(v->store, &st, NULL, NULL, NULL) != 0 ||
	    vgl_alarms_new(v->conf, d->db_ids, &st, &io, &d->mgr) != 0 ||
	    vgl_store_alarm_restore(v->store, &st, on_active, on_owed, v) != 0)
		return -1;
	if (make_notify(v) != 0)
		return -1;
	if ((rv = uv_timer_init(v->loop, &d->tick)) != 0 ||
	    (rv = uv_timer_init(v->loop, &d->ctl_timer)) != 0 ||
	    (rv = uv_timer_init(v->loop, &d->refresh)) != 0) {
		vgl_err("cannot start the alarm timers: %s", uv_strerror(rv));
		abort();
	}
	d->tick.data = v;
	d->ctl_timer.data = v;
	d->refresh.data = v;
	v->open_handles += 3;
	uv_timer_start(&d->tick, on_tick, TICK_MS, TICK_MS);
	uv_timer_start(&d->refresh, on_refresh, REFRESH_MS, REFRESH_MS);
	uv_timer_start(&d->ctl_timer, on_control_timer, 0, CONTROL_MS);
	{
		struct vgl_alarms_stats s;

		vgl_alarms_get_stats(d->mgr, &s);
		vgl_info("alarms: %zu active, %zu notification(s) owed, %zu channel(s)", s.active,
			 s.owed, v->conf->alarm_conf->n_channels);
	}
	return 0;
}

static int channels_equal(const struct dalarms *d, const struct vgl_alarm_conf *b)
{
	if (d->n_chan != b->n_channels)
		return 0;
	for (size_t i = 0; i < d->n_chan; i++)
		if (!vgl_channel_conf_equal(&d->chan[i], &b->channels[i]))
			return 0;
	return 1;
}

static void on_old_notify_closed(void *arg)
{
	struct vigil *v = arg;

	v->open_handles--;
}

void vgl__alarms_reloaded(struct vigil *v)
{
	struct dalarms *d = v->al;

	if (!d || !d->mgr)
		return;
	if (build_ids(v) != 0 ||
	    vgl_alarms_rebind(d->mgr, v->conf, d->db_ids, vgl_now_ms()) != 0) {
		vgl_err("reload: out of memory rebinding the alarms; stopping");
		vgl_vigil_stop(v);
		return;
	}
	/* transfers in flight go on when nothing changed */
	if (channels_equal(d, v->conf->alarm_conf))
		return;
	if (d->notify) {
		v->open_handles++;
		vgl_notify_close(d->notify, on_old_notify_closed, v);
		d->notify = NULL;
		vgl_alarms_abandon_in_flight(d->mgr);
	}
	if (make_notify(v) != 0)
		vgl_err("reload: the notification channels could not be set up; notifications "
			"stay owed");
}

static void on_notify_closed(void *arg)
{
	struct vigil *v = arg;

	v->open_handles--;
}

static void on_timer_closed(uv_handle_t *h)
{
	struct vigil *v = h->data;

	v->open_handles--;
}

void vgl__alarms_stop(struct vigil *v)
{
	struct dalarms *d = v->al;

	if (!d || d->stopping)
		return;
	d->stopping = 1;
	if (d->tick.data) {
		uv_close((uv_handle_t *)&d->tick, on_timer_closed);
		uv_close((uv_handle_t *)&d->ctl_timer, on_timer_closed);
		uv_close((uv_handle_t *)&d->refresh, on_timer_closed);
	}
	if (d->notify) {
		v->open_handles++;
		vgl_notify_close(d->notify, on_notify_closed, v);
		d->notify = NULL;
	}
}

void vgl__alarms_free(struct vigil *v)
{
	struct dalarms *d = v->al;

	if (!d)
		return;
	vgl_alarms_free(d->mgr);
	for (size_t i = 0; i < N_BUILTIN; i++) {
		free(d->sla_rules[i].name);
		free(d->sla_rules[i].when_text);
		vgl_expr_free(d->sla_rules[i].when);
		vgl_conf_alarm_spec_free(&d->sla_rules[i].alarm);
	}
	free(d->db_ids);
	free(d->by_id);
	free(d->seen);
	free_chan(d);
	free(d);
	v->al = NULL;
}

/* /metrics (daemon/metrics.c): the manager's counts; -1 (all zero) before
 * the manager exists. */
int vgl__alarms_stats(struct vigil *v, struct vgl_alarms_stats *out)
{
	if (!v->al || !v->al->mgr) {
		memset(out, 0, sizeof(*out));
		return -1;
	}
	vgl_alarms_get_stats(v->al->mgr, out);
	return 0;
}
