/* The alarm manager (alarms/alarm.h).
 *
 * Invariants:
 *  - at most one active alarm per (host id, kind, rule): a.by_key;
 *  - avail_of[h] is host h's active availability alarm or NULL;
 *  - an alarm with suppressed_by or muted set has no step fired while so;
 *    a trigger row is written once per (alarm, step, repeat), and only a
 *    channel that got a trigger gets the resolve;
 *  - an owed notification is sent only once committed and never while an
 *    attempt of it is in flight.
 *
 * Where: this file has the hosts, raise and clear, restart and lifetime;
 * the steps and the tick are alarm_escalate.c, the rows and the outbox
 * alarm_outbox.c, silences and windows alarm_mute.c, the string map
 * alarm_map.c; what they share, alarm_int.h.
 */
#include "alarms/alarm_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "alarms/alarm_conf.h"
#include "core/log.h"
#include "rules/rule_conf.h"

/* ---- hosts ------------------------------------------------------------------ */

static void free_topology(struct vgl_alarms *a)
{
	for (size_t i = 0; i < a->n_hosts; i++)
		free(a->parents ? a->parents[i] : NULL);
	free(a->parents);
	free(a->n_parents);
	free(a->is_parent);
	free(a->avail_of);
	a->is_parent = NULL;
	a->parents = NULL;
	a->n_parents = NULL;
	a->avail_of = NULL;
	a->n_hosts = 0;
}

/* The devices a host hangs off: its uplink switch, its feeds, what it
 * depends on. An alarm of one of them stands for the host's. */
static int build_topology(struct vgl_alarms *a, const struct vgl_conf *c)
{
	size_t n = c->n_hosts;

	if (!(a->parents = calloc(n ? n : 1, sizeof(*a->parents))) ||
	    !(a->n_parents = calloc(n ? n : 1, sizeof(*a->n_parents))) ||
	    !(a->avail_of = calloc(n ? n : 1, sizeof(*a->avail_of))) ||
	    !(a->is_parent = calloc(n ? n : 1, 1)))
		return -ENOMEM;
	a->n_hosts = n;
	for (size_t i = 0; i < n; i++) {
		const struct vgl_conf_host *h = &c->hosts[i];
		size_t cap = (size_t)h->has_uplink + h->n_feeds + h->n_depends, k = 0;

		if (!cap)
			continue;
		if (!(a->parents[i] = malloc(cap * sizeof(uint32_t))))
			return -ENOMEM;
		if (h->has_uplink)
			a->parents[i][k++] = h->uplink.host;
		for (uint32_t f = 0; f < h->n_feeds; f++)
			a->parents[i][k++] = h->feeds[f].host;
		for (uint32_t d = 0; d < h->n_depends; d++)
			a->parents[i][k++] = h->depends_on[d];
		a->n_parents[i] = k;
		for (size_t j = 0; j < k; j++)
			if (a->parents[i][j] < n)
				a->is_parent[a->parents[i][j]] = 1;
	}
	return 0;
}

const char *vgl__al_host_name(const struct vgl_alarms *a, const struct alarm *al)
{
	return al->host < a->c->n_hosts ? a->c->hosts[al->host].name : "?";
}

const char *vgl__al_host_site(const struct vgl_alarms *a, const struct alarm *al)
{
	return al->host < a->c->n_hosts ? a->c->hosts[al->host].site : NULL;
}

/* ---- alarms --------------------------------------------------------------- */

static void alarm_free(struct alarm *al)
{
	if (!al)
		return;
	free(al->rule);
	free(al->summary);
	free(al->labels);
	free(al->details);
	free(al->policy);
	free(al->acked_by);
	for (size_t i = 0; i < al->n_notified; i++)
		free(al->notified[i]);
	free(al->notified);
	for (size_t i = 0; i < al->n_affected; i++)
		free(al->affected[i]);
	free(al->affected);
	free(al);
}

int vgl__al_add_str(char ***arr, size_t *n, const char *s)
{
	char **x;

	for (size_t i = 0; i < *n; i++)
		if (strcmp((*arr)[i], s) == 0)
			return 0;
	if (!(x = realloc(*arr, (*n + 1) * sizeof(*x))))
		return -ENOMEM;
	*arr = x;
	if (!(x[*n] = strdup(s)))
		return -ENOMEM;
	(*n)++;
	return 0;
}

static int track(struct vgl_alarms *a, struct alarm *al)
{
	char k[256], ik[32];

	if (a->n_act == a->cap_act) {
		size_t cap = a->cap_act ? a->cap_act * 2 : 64;
		struct alarm **n = realloc(a->act, cap * sizeof(*n));
		if (!n)
			return -ENOMEM;
		a->act = n;
		a->cap_act = cap;
	}
	vgl__al_key_of(k, sizeof(k), al->host_id, al->kind, al->rule);
	vgl__al_id_key(ik, sizeof(ik), al->id);
	if (vgl__al_map_put(&a->by_key, k, al) != 0 || vgl__al_map_put(&a->by_id, ik, al) != 0) {
		vgl__al_map_del(&a->by_key, k);
		return -ENOMEM;
	}
	al->slot = a->n_act;
	a->act[a->n_act++] = al;
	if (al->kind == VGL_AK_AVAIL && al->host < a->n_hosts)
		a->avail_of[al->host] = al;
	return 0;
}

static void untrack(struct vgl_alarms *a, struct alarm *al)
{
	char k[256], ik[32];

	vgl__al_key_of(k, sizeof(k), al->host_id, al->kind, al->rule);
	vgl__al_id_key(ik, sizeof(ik), al->id);
	vgl__al_map_del(&a->by_key, k);
	vgl__al_map_del(&a->by_id, ik);
	a->act[al->slot] = a->act[--a->n_act];
	a->act[al->slot]->slot = al->slot;
	if (al->host < a->n_hosts && a->avail_of[al->host] == al)
		a->avail_of[al->host] = NULL;
}

struct alarm *vgl__al_by_id(const struct vgl_alarms *a, int64_t id)
{
	char ik[32];

	vgl__al_id_key(ik, sizeof(ik), id);
	return vgl__al_map_get(&a->by_id, ik);
}

/* The availability alarm that stands for al: a parent's, followed up to
 * the alarm that is not itself suppressed. */
struct alarm *vgl__al_root_for(const struct vgl_alarms *a, const struct alarm *al)
{
	if (al->host >= a->n_hosts)
		return NULL;
	for (size_t i = 0; i < a->n_parents[al->host]; i++) {
		struct alarm *p = a->avail_of[a->parents[al->host][i]];

		for (int hops = 0; p && p->suppressed_by && hops < 16; hops++) {
			struct alarm *up = vgl__al_by_id(a, p->suppressed_by);
			if (!up)
				break;
			p = up;
		}
		if (p && p != al)
			return p;
	}
	return NULL;
}

/* al is explained by root: recorded as suppressed, and the root names it. */
void vgl__al_suppress(struct vgl_alarms *a, struct alarm *al, struct alarm *root, int64_t now)
{
	char text[160];

	al->suppressed_by = root->id;
	snprintf(text, sizeof(text), "suppressed: %s is down (alarm %lld)", vgl__al_host_name(a, root),
		 (long long)root->id);
	vgl__al_write_update(a, al, now, "suppressed", text);
	if (root != al && vgl__al_add_str(&root->affected, &root->n_affected, vgl__al_host_name(a, al)) == 0) {
		snprintf(text, sizeof(text), "%s affected (%zu in all)", vgl__al_host_name(a, al),
			 root->n_affected);
		vgl__al_write_update(a, root, now, "affected", text);
	}
}

static const struct vgl_esc_policy *policy_for(const struct vgl_alarms *a, const struct alarm *al)
{
	const char *keys[32], *vals[32];
	size_t n = 0;
	cJSON *l = al->labels ? cJSON_Parse(al->labels) : NULL, *it;
	const struct vgl_esc_policy *p;

	cJSON_ArrayForEach(it, l)
		if (cJSON_IsString(it) && n < 32) {
			keys[n] = it->string;
			vals[n++] = it->valuestring;
		}
	p = vgl_alarm_conf_policy(a->ac, al->sev, keys, vals, n);
	cJSON_Delete(l);
	return p;
}

static char *labels_json(const struct vgl_conf_alarm_spec *spec)
{
	cJSON *o = cJSON_CreateObject();
	char *s;

	for (size_t i = 0; o && spec && i < spec->n_labels; i++)
		if (!cJSON_AddStringToObject(o, spec->label_keys[i], spec->label_values[i])) {
			cJSON_Delete(o);
			return NULL;
		}
	s = o ? cJSON_PrintUnformatted(o) : NULL;
	cJSON_Delete(o);
	return s;
}

static struct alarm *new_alarm(struct vgl_alarms *a, uint32_t host, enum vgl_alarm_kind kind,
			       const char *rule, enum vgl_severity sev, const char *summary,
			       const char *labels, const char *details, int64_t ts)
{
	struct alarm *al = calloc(1, sizeof(*al));

	if (!al)
		return NULL;
	al->id = a->next_alarm_id;
	al->host = host;
	al->host_id = a->db_ids[host];
	al->kind = kind;
	al->sev = sev;
	al->raised_ms = ts;
	/* A host with something above it waits for that to explain it, one
	 * with hosts below it for them to be named on its page; a host on
	 * its own pages at once. */
	al->notify_at = ts + (host < a->n_hosts && (a->n_parents[host] || a->is_parent[host])
				      ? a->ac->dependency_wait_ms : 0);
	if (!(al->rule = strdup(rule)) || !(al->summary = strdup(summary)) ||
	    !(al->labels = strdup(labels ? labels : "{}")) ||
	    !(al->details = strdup(details ? details : "{}"))) {
		alarm_free(al);
		return NULL;
	}
	al->pol = policy_for(a, al);
	if (al->pol && !(al->policy = strdup(al->pol->name))) {
		alarm_free(al);
		return NULL;
	}
	if (track(a, al) != 0) {
		alarm_free(al);
		return NULL;
	}
	a->next_alarm_id++;
	return al;
}

static int write_raise(struct vgl_alarms *a, struct alarm *al)
{
	cJSON *o = vgl__al_doc_for(al, al->raised_ms, "raised", al->summary);
	cJSON *lj = cJSON_Parse(al->labels), *dj = cJSON_Parse(al->details);
	const char *site = vgl__al_host_site(a, al);

	if (!o || !lj || !dj || !cJSON_AddNumberToObject(o, "host_id", (double)al->host_id) ||
	    !cJSON_AddStringToObject(o, "kind", vgl_alarm_kind_name(al->kind)) ||
	    !cJSON_AddStringToObject(o, "rule", al->rule) ||
	    !cJSON_AddStringToObject(o, "severity", vgl_severity_name(al->sev)) ||
	    !cJSON_AddStringToObject(o, "summary", al->summary) ||
	    !cJSON_AddItemToObject(o, "labels", lj)) {
		cJSON_Delete(lj);
		cJSON_Delete(dj);
		cJSON_Delete(o);
		return -ENOMEM;
	}
	if (!cJSON_AddItemToObject(o, "details", dj)) {
		cJSON_Delete(dj);
		cJSON_Delete(o);
		return -ENOMEM;
	}
	if ((site && !cJSON_AddStringToObject(o, "site", site)) ||
	    (al->policy && !cJSON_AddStringToObject(o, "policy", al->policy)) ||
	    !cJSON_AddNumberToObject(o, "raised_ms", (double)al->raised_ms) ||
	    (al->suppressed_by &&
	     !cJSON_AddNumberToObject(o, "suppressed_by", (double)al->suppressed_by)) ||
	    (al->muted[0] && !cJSON_AddStringToObject(o, "muted", al->muted))) {
		cJSON_Delete(o);
		return -ENOMEM;
	}
	return vgl__al_emit(a, VGL_SA_RAISE, al->host_id, o);
}

/* Raises the flapping alarm of key f (or finds it active). */
static struct alarm *flapping(struct vgl_alarms *a, struct flap *f, int64_t ts)
{
	struct alarm *fl = f->flapping_id ? vgl__al_by_id(a, f->flapping_id) : NULL;
	char summary[320], details[128];

	if (fl)
		return fl;
	snprintf(summary, sizeof(summary), "%s on %s is flapping: %zu raises within %u s",
		 f->rule, a->c->hosts[f->host].name, f->n, a->ac->flap_window_ms / 1000);
	snprintf(details, sizeof(details), "{\"raises\":%zu,\"window_s\":%u}", f->n,
		 a->ac->flap_window_ms / 1000);
	fl = new_alarm(a, f->host, VGL_AK_FLAPPING, f->rule, f->sev, summary, NULL, details, ts);
	if (!fl)
		return NULL;
	if (write_raise(a, fl) != 0)
		vgl_err("alarms: out of memory recording the flapping alarm of %s", f->rule);
	f->flapping_id = fl->id;
	vgl_warn("host %s: rule %s is flapping (%zu raises within %u s): alarm %lld pages "
		 "instead", a->c->hosts[f->host].name, f->rule, f->n,
		 a->ac->flap_window_ms / 1000, (long long)fl->id);
	return fl;
}

/* One more raise of a (host, kind, rule): the flapping alarm that stands
 * for it, if it flaps now. */
static struct alarm *note_raise(struct vgl_alarms *a, const struct vgl_alarm_raise *r,
				const char *key, enum vgl_severity sev)
{
	struct flap *f = vgl__al_map_get(&a->flaps, key);
	int64_t *t;

	if (!a->ac->flap_changes || r->kind == VGL_AK_FLAPPING)
		return NULL;
	if (!f) {
		if (!(f = calloc(1, sizeof(*f))) ||
		    !(f->t = calloc(a->ac->flap_changes + 1, sizeof(*f->t))) ||
		    !(f->rule = strdup(r->rule)) || vgl__al_map_put(&a->flaps, key, f) != 0) {
			if (f) {
				free(f->t);
				free(f->rule);
			}
			free(f);
			return NULL;
		}
		f->host = r->host;
	}
	f->sev = sev;
	f->host = r->host;
	/* drop what left the window; keep at most flap_changes + 1 */
	t = f->t;
	size_t keep = 0;
	for (size_t i = 0; i < f->n; i++)
		if (t[i] > r->ts_ms - (int64_t)a->ac->flap_window_ms)
			t[keep++] = t[i];
	f->n = keep;
	if (f->n == a->ac->flap_changes + 1) {
		memmove(t, t + 1, (f->n - 1) * sizeof(*t));
		f->n--;
	}
	t[f->n++] = r->ts_ms;
	/* n raises within the window are 2n - 1 state changes (each raise
	 * but this one has been cleared: one is active at a time) */
	if (2 * f->n - 1 > a->ac->flap_changes)
		return flapping(a, f, r->ts_ms);
	return f->flapping_id ? vgl__al_by_id(a, f->flapping_id) : NULL;
}

int64_t vgl_alarms_raise(struct vgl_alarms *a, const struct vgl_alarm_raise *r)
{
	char k[256], summary[512], *labels;
	enum vgl_severity sev = r->spec ? r->spec->severity : VGL_SEV_WARNING;
	struct alarm *al, *fl, *root;

	if (r->host >= a->c->n_hosts)
		return 0;
	vgl__al_key_of(k, sizeof(k), a->db_ids[r->host], r->kind, r->rule);
	if (vgl__al_map_get(&a->by_key, k))
		return 0;
	if (!r->summary)
		snprintf(summary, sizeof(summary), "%s on %s", r->rule, a->c->hosts[r->host].name);
	if (!(labels = labels_json(r->spec)))
		return -ENOMEM;
	al = new_alarm(a, r->host, r->kind, r->rule, sev, r->summary ? r->summary : summary, labels,
		       r->details_json, r->ts_ms);
	free(labels);
	if (!al)
		return -ENOMEM;
	fl = note_raise(a, r, k, sev);
	root = vgl__al_root_for(a, al);
	if (root)
		al->suppressed_by = root->id;
	else if (fl && fl != al)
		al->suppressed_by = fl->id;
	vgl__al_muted_now(a, al, r->ts_ms, al->muted, sizeof(al->muted));
	if (write_raise(a, al) != 0)
		vgl_err("alarms: out of memory recording alarm %lld", (long long)al->id);
	if (root && vgl__al_add_str(&root->affected, &root->n_affected, vgl__al_host_name(a, al)) == 0) {
		char text[200];

		snprintf(text, sizeof(text), "%s affected (%zu in all)", vgl__al_host_name(a, al),
			 root->n_affected);
		vgl__al_write_update(a, root, r->ts_ms, "affected", text);
	}
	vgl__al_changed(a, al, 0);
	vgl_notice("host %s: alarm %lld raised (%s %s, %s)%s%s: %s", vgl__al_host_name(a, al),
		   (long long)al->id, vgl_severity_name(sev), vgl_alarm_kind_name(r->kind), r->rule,
		   al->suppressed_by ? ", suppressed" : "", al->muted[0] ? ", muted" : "",
		   al->summary);
	return al->id;
}

void vgl__al_finish(struct vgl_alarms *a, struct alarm *al, int64_t ts, const char *why)
{
	cJSON *o = vgl__al_doc_for(al, ts, "cleared", why);

	if (o && cJSON_AddNumberToObject(o, "cleared_ms", (double)ts))
		vgl__al_emit(a, VGL_SA_CLEAR, al->host_id, o);
	else
		cJSON_Delete(o);
	vgl__al_changed(a, al, ts);
	/* only those a trigger reached hear of the end */
	for (size_t i = 0; i < al->n_notified; i++)
		if (vgl__al_enqueue(a, al, al->notified[i], VGL_NOTICE_RESOLVE, -1, 0, ts, ts) != 0)
			vgl_err("alarm %lld: out of memory queueing the resolve to %s",
				(long long)al->id, al->notified[i]);
	vgl_notice("host %s: alarm %lld cleared (%s %s)", vgl__al_host_name(a, al), (long long)al->id,
		   vgl_alarm_kind_name(al->kind), al->rule);
	/* What it stood for and is still raised is no longer explained: it
	 * waits a dependency wait again (hosts behind a switch come back a
	 * poll after it), then escalates on its own. */
	for (size_t k = 0; k < a->n_act; k++) {
		struct alarm *c = a->act[k];

		if (c == al || c->suppressed_by != al->id)
			continue;
		c->suppressed_by = 0;
		c->released = 1;
		c->notify_at = ts + a->ac->dependency_wait_ms;
		vgl__al_log_only(a, c, ts, "released", "the alarm that stood for it cleared");
	}
	untrack(a, al);
	alarm_free(al);
}

int vgl_alarms_clear(struct vgl_alarms *a, uint32_t host, enum vgl_alarm_kind kind,
		     const char *rule, int64_t ts_ms)
{
	struct alarm *al = NULL;
	char k[256];

	if (host >= a->c->n_hosts)
		return 0;
	if (!rule && kind == VGL_AK_AVAIL) {
		al = host < a->n_hosts ? a->avail_of[host] : NULL;
	} else {
		vgl__al_key_of(k, sizeof(k), a->db_ids[host], kind, rule);
		al = vgl__al_map_get(&a->by_key, k);
	}
	if (!al)
		return 0;
	vgl__al_finish(a, al, ts_ms, NULL);
	return 1;
}

int vgl_alarms_clear_key(struct vgl_alarms *a, int64_t host_id, enum vgl_alarm_kind kind,
			 const char *rule, int64_t ts_ms)
{
	char k[256];
	struct alarm *al;

	vgl__al_key_of(k, sizeof(k), host_id, kind, rule);
	if (!(al = vgl__al_map_get(&a->by_key, k)))
		return 0;
	vgl__al_finish(a, al, ts_ms, "its rule was removed from the configuration");
	return 1;
}

int vgl_alarms_is_active(const struct vgl_alarms *a, uint32_t host, enum vgl_alarm_kind kind,
			 const char *rule)
{
	char k[256];

	if (host >= a->c->n_hosts)
		return 0;
	if (!rule && kind == VGL_AK_AVAIL)
		return host < a->n_hosts && a->avail_of[host];
	vgl__al_key_of(k, sizeof(k), a->db_ids[host], kind, rule);
	return vgl__al_map_get(&a->by_key, k) != NULL;
}

void vgl_alarms_acked(struct vgl_alarms *a, int64_t id, int64_t ts_ms, const char *by)
{
	struct alarm *al = vgl__al_by_id(a, id);

	if (!al || al->acked_ms)
		return;
	al->acked_ms = ts_ms;
	free(al->acked_by);
	/* the ack stands without the name: only the snapshots would lack it */
	if (!(al->acked_by = by ? strdup(by) : NULL) && by)
		vgl_err("alarm %lld: out of memory keeping who acknowledged it", (long long)id);
	vgl_notice("host %s: alarm %lld acknowledged by %s", vgl__al_host_name(a, al), (long long)id,
		   by ? by : "?");
	vgl__al_changed(a, al, 0);
}

/* ---- lifetime ------------------------------------------------------------- */

int vgl_alarms_new(const struct vgl_conf *c, const int64_t *db_ids,
		   const struct vgl_store_alarm_state *st, const struct vgl_alarm_io *io,
		   struct vgl_alarms **out)
{
	struct vgl_alarms *a = calloc(1, sizeof(*a));

	*out = NULL;
	if (!a)
		return -ENOMEM;
	a->c = c;
	a->ac = c->alarm_conf;
	a->db_ids = db_ids;
	a->io = *io;
	a->next_alarm_id = (st ? st->max_alarm_id : 0) + 1;
	a->next_outbox_id = (st ? st->max_outbox_id : 0) + 1;
	if (build_topology(a, c) != 0) {
		vgl_alarms_free(a);
		return -ENOMEM;
	}
	*out = a;
	return 0;
}

static long host_by_id(const struct vgl_conf *c, const int64_t *db_ids, int64_t id)
{
	for (size_t i = 0; i < c->n_hosts; i++)
		if (db_ids[i] == id)
			return (long)i;
	return -1;
}

int vgl_alarms_rebind(struct vgl_alarms *a, const struct vgl_conf *c, const int64_t *db_ids,
		      int64_t now_ms)
{
	free_topology(a);
	a->c = c;
	a->ac = c->alarm_conf;
	a->db_ids = db_ids;
	if (build_topology(a, c) != 0)
		return -ENOMEM;
	for (size_t i = 0; i < a->n_act;) {
		struct alarm *al = a->act[i];
		long h = host_by_id(c, db_ids, al->host_id);

		al->pol = policy_for(a, al);
		free(al->policy);
		if (!(al->policy = al->pol ? strdup(al->pol->name) : NULL) && al->pol)
			return -ENOMEM;
		if (h < 0) {
			al->host = UINT32_MAX;
			vgl__al_finish(a, al, now_ms, "the host is no longer configured");
			continue;
		}
		al->host = (uint32_t)h;
		if (al->kind == VGL_AK_AVAIL)
			a->avail_of[h] = al;
		i++;
	}
	/* a flap's host index is refreshed at its next raise; drop stale ones */
	for (size_t i = 0; i < a->flaps.cap; i++) {
		struct flap *f;

		if (!a->flaps.keys[i] || a->flaps.keys[i] == (char *)1)
			continue;
		f = a->flaps.vals[i];
		if (f->host >= c->n_hosts)
			f->host = 0;
	}
	return 0;
}

int vgl_alarms_restore(struct vgl_alarms *a, const struct vgl_store_active_alarm *row,
		       int64_t now_ms)
{
	long h = host_by_id(a->c, a->db_ids, row->host_id);
	enum vgl_alarm_kind kind;
	enum vgl_severity sev;
	struct alarm *al;

	if (!row->kind || vgl_alarm_kind_parse(row->kind, &kind) != 0 || !row->severity ||
	    vgl_severity_parse(row->severity, &sev) != 0 || !row->rule)
		return 0;
	if (!(al = calloc(1, sizeof(*al))))
		return -ENOMEM;
	al->id = row->id;
	al->host_id = row->host_id;
	al->host = h < 0 ? UINT32_MAX : (uint32_t)h;
	al->kind = kind;
	al->sev = sev;
	al->raised_ms = row->raised_ms;
	al->acked_ms = row->acked_ms;
	al->suppressed_by = row->suppressed_by;
	al->notify_at = row->raised_ms;         /* its wait is over, whatever it was */
	snprintf(al->muted, sizeof(al->muted), "%s", row->muted ? row->muted : "");
	if (!(al->rule = strdup(row->rule)) || !(al->summary = strdup(row->summary ? row->summary : "")) ||
	    !(al->labels = strdup(row->labels ? row->labels : "{}")) ||
	    !(al->details = strdup(row->details ? row->details : "{}")) ||
	    (row->acked_by && !(al->acked_by = strdup(row->acked_by)))) {
		alarm_free(al);
		return -ENOMEM;
	}
	{
		cJSON *d = cJSON_Parse(al->details), *aff = cJSON_GetObjectItem(d, "affected"), *it;

		int bad = 0;

		cJSON_ArrayForEach(it, aff)
			if (cJSON_IsString(it))
				bad |= vgl__al_add_str(&al->affected, &al->n_affected,
						       it->valuestring) != 0;
		cJSON_Delete(d);
		if (bad) {
			alarm_free(al);
			return -ENOMEM;
		}
	}
	al->pol = policy_for(a, al);
	if (al->pol && !(al->policy = strdup(al->pol->name))) {
		alarm_free(al);
		return -ENOMEM;
	}
	/* Where its escalation got to: the steps up to the last trigger are
	 * done, their repeats go on from now; their channels get the resolve. */
	for (int s = 0; al->pol && s <= row->last_step && s < MAX_STEPS &&
			(size_t)s < al->pol->n_steps; s++) {
		al->fired[s] = s == row->last_step ? row->last_repeat + 1 : 1;
		al->last[s] = now_ms;
		for (size_t i = 0; i < al->pol->steps[s].n_notify; i++)
			if (vgl__al_add_str(&al->notified, &al->n_notified,
					    al->pol->steps[s].notify[i]) != 0) {
				alarm_free(al);
				return -ENOMEM;
			}
	}
	if (track(a, al) != 0) {
		alarm_free(al);
		return -ENOMEM;
	}
	if (al->id >= a->next_alarm_id)
		a->next_alarm_id = al->id + 1;
	if (h < 0)
		vgl__al_finish(a, al, now_ms, "the host is no longer configured");
	return 0;
}

int vgl_alarms_restore_owed(struct vgl_alarms *a, const struct vgl_store_owed *o)
{
	struct owed *w = vgl__al_owed_add(a);

	if (!w)
		return -ENOMEM;
	w->id = o->id;
	w->alarm_id = o->alarm_id;
	w->host_id = o->host_id;
	w->attempts = o->attempts;
	w->next_ms = o->next_ms;
	w->committed = 1;
	if (!(w->channel = strdup(o->channel)) || !(w->payload = strdup(o->payload))) {
		vgl__al_owed_remove(a, w);
		return -ENOMEM;
	}
	if (o->id >= a->next_outbox_id)
		a->next_outbox_id = o->id + 1;
	return 0;
}

void vgl_alarms_get_stats(const struct vgl_alarms *a, struct vgl_alarms_stats *out)
{
	memset(out, 0, sizeof(*out));
	out->active = a->n_act;
	for (size_t i = 0; i < a->n_act; i++) {
		out->suppressed += a->act[i]->suppressed_by != 0;
		out->muted += a->act[i]->muted[0] != 0;
		out->by_severity[a->act[i]->sev]++;
	}
	out->owed = a->n_owed;
	for (size_t i = 0; i < a->n_owed; i++) {
		out->in_flight += a->owed[i].in_flight;
		if (!out->oldest_owed_ms || a->owed[i].created_ms < out->oldest_owed_ms)
			out->oldest_owed_ms = a->owed[i].created_ms;
	}
	out->delivered = a->delivered;
	out->attempts_failed = a->failed;
}

void vgl_alarms_free(struct vgl_alarms *a)
{
	if (!a)
		return;
	for (size_t i = 0; i < a->n_act; i++)
		alarm_free(a->act[i]);
	free(a->act);
	vgl__al_map_free(&a->by_key);
	vgl__al_map_free(&a->by_id);
	for (size_t i = 0; i < a->n_owed; i++) {
		free(a->owed[i].channel);
		free(a->owed[i].payload);
	}
	free(a->owed);
	for (size_t i = 0; i < a->flaps.cap; i++) {
		if (a->flaps.keys[i] && a->flaps.keys[i] != (char *)1) {
			struct flap *f = a->flaps.vals[i];
			free(f->t);
			free(f->rule);
			free(f);
		}
	}
	vgl__al_map_free(&a->flaps);
	vgl__al_free_silences(a->sil, a->n_sil);
	vgl__al_free_silences(a->sil_new, a->n_sil_new);
	vgl__al_free_windows(a->win, a->n_win);
	vgl__al_free_windows(a->win_new, a->n_win_new);
	free_topology(a);
	free(a);
}
