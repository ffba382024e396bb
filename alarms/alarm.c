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
 */
#include "alarms/alarm.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "alarms/alarm_conf.h"
#include "core/log.h"
#include "rules/rule_conf.h"

#define MAX_STEPS VGL_ESC_MAX_STEPS
#define RETRY_FIRST_MS 1000

struct alarm {
	int64_t id, host_id;
	uint32_t host;                  /* conf index, UINT32_MAX: gone */
	enum vgl_alarm_kind kind;
	enum vgl_severity sev;
	char *rule, *summary, *labels, *details, *policy, *acked_by;
	const struct vgl_esc_policy *pol;
	int64_t raised_ms, acked_ms, notify_at;
	int64_t suppressed_by;
	char muted[48];
	int fired[MAX_STEPS];           /* triggers written for step i (1 + repeats) */
	int64_t last[MAX_STEPS];        /* when step i last fired */
	char **notified;                /* channels a trigger went to */
	size_t n_notified;
	char **affected;                /* a root's: the hosts it stands for */
	size_t n_affected;
	size_t slot;                    /* index in a->act */
};

struct owed {
	int64_t id, alarm_id, host_id;
	char *channel, *payload;
	int64_t attempts, next_ms, created_ms;
	int committed, in_flight;
};

struct flap {
	char *key;
	int64_t *t;                     /* raise times within the window, oldest first */
	size_t n;
	int64_t flapping_id;            /* its flapping alarm, 0 none */
	uint32_t host;
	enum vgl_severity sev;
	char *rule;
};

struct silence {
	int64_t id, start_ms, end_ms;
	char *host, *site, *label;
};

struct window {
	int64_t id, host_id, start_ms, end_ms;
	char *site;
};

/* A small open-addressing map from a string to a pointer. */
struct map {
	char **keys;
	void **vals;
	size_t cap, n;
};

struct vgl_alarms {
	const struct vgl_conf *c;
	const struct vgl_alarm_conf *ac;
	const int64_t *db_ids;
	struct vgl_alarm_io io;
	int64_t next_alarm_id, next_outbox_id;

	struct alarm **act;
	size_t n_act, cap_act;
	struct map by_key, by_id;
	struct alarm **avail_of;        /* per host index */
	uint32_t **parents;             /* per host: its parents' indexes */
	size_t *n_parents;
	unsigned char *is_parent;       /* per host: some host hangs off it */
	size_t n_hosts;

	struct owed *owed;
	size_t n_owed, cap_owed;
	uint64_t delivered, failed;

	struct map flaps;

	struct silence *sil, *sil_new;
	size_t n_sil, n_sil_new;
	struct window *win, *win_new;
	size_t n_win, n_win_new;
	int in_control, control_oom;
};

/* ---- map -------------------------------------------------------------------- */

static uint64_t hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ull;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

static size_t map_find(const struct map *m, const char *k)
{
	size_t i;

	if (!m->cap)
		return SIZE_MAX;
	for (i = hash_str(k) & (m->cap - 1); m->keys[i]; i = (i + 1) & (m->cap - 1))
		if (m->keys[i] != (char *)1 && strcmp(m->keys[i], k) == 0)
			return i;
	return SIZE_MAX;
}

static void *map_get(const struct map *m, const char *k)
{
	size_t i = map_find(m, k);

	return i == SIZE_MAX ? NULL : m->vals[i];
}

static int map_put(struct map *m, const char *k, void *v);

static int map_grow(struct map *m)
{
	struct map n = { 0 };

	n.cap = m->cap ? m->cap * 2 : 64;
	if (!(n.keys = calloc(n.cap, sizeof(*n.keys))) || !(n.vals = calloc(n.cap, sizeof(*n.vals)))) {
		free(n.keys);
		return -ENOMEM;
	}
	for (size_t i = 0; i < m->cap; i++) {
		if (m->keys[i] && m->keys[i] != (char *)1) {
			size_t j = hash_str(m->keys[i]) & (n.cap - 1);
			while (n.keys[j])
				j = (j + 1) & (n.cap - 1);
			n.keys[j] = m->keys[i];
			n.vals[j] = m->vals[i];
			n.n++;
		}
	}
	free(m->keys);
	free(m->vals);
	*m = n;
	return 0;
}

/* Tombstones count as used, so the table is rebuilt before it fills. */
static int map_put(struct map *m, const char *k, void *v)
{
	size_t i = map_find(m, k);
	char *dup;

	if (i != SIZE_MAX) {
		m->vals[i] = v;
		return 0;
	}
	if ((m->n + 1) * 2 > m->cap && map_grow(m) != 0)
		return -ENOMEM;
	if (!(dup = strdup(k)))
		return -ENOMEM;
	for (i = hash_str(k) & (m->cap - 1); m->keys[i] && m->keys[i] != (char *)1;
	     i = (i + 1) & (m->cap - 1))
		;
	m->keys[i] = dup;
	m->vals[i] = v;
	m->n++;
	return 0;
}

static void map_del(struct map *m, const char *k)
{
	size_t i = map_find(m, k);

	if (i == SIZE_MAX)
		return;
	free(m->keys[i]);
	m->keys[i] = (char *)1;
	m->vals[i] = NULL;
}

static void map_free(struct map *m)
{
	for (size_t i = 0; i < m->cap; i++)
		if (m->keys[i] != (char *)1)
			free(m->keys[i]);
	free(m->keys);
	free(m->vals);
	memset(m, 0, sizeof(*m));
}

static void key_of(char *buf, size_t n, int64_t host_id, enum vgl_alarm_kind k, const char *rule)
{
	snprintf(buf, n, "%lld/%d/%s", (long long)host_id, (int)k, rule ? rule : "");
}

static void id_key(char *buf, size_t n, int64_t id)
{
	snprintf(buf, n, "%lld", (long long)id);
}

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

static const char *host_name(const struct vgl_alarms *a, const struct alarm *al)
{
	return al->host < a->c->n_hosts ? a->c->hosts[al->host].name : "?";
}

static const char *host_site(const struct vgl_alarms *a, const struct alarm *al)
{
	return al->host < a->c->n_hosts ? a->c->hosts[al->host].site : NULL;
}

/* ---- rows ------------------------------------------------------------------- */

static int emit(struct vgl_alarms *a, enum vgl_store_alarm_op op, int64_t host_id, cJSON *doc)
{
	char *text = doc ? cJSON_PrintUnformatted(doc) : NULL;

	cJSON_Delete(doc);
	if (!text) {
		vgl_err("alarms: out of memory writing an alarm row (host id %lld)",
			(long long)host_id);
		return -ENOMEM;
	}
	if (a->io.store)
		a->io.store(a->io.ctx, op, host_id, text);
	free(text);
	return 0;
}

static cJSON *doc_for(const struct alarm *al, int64_t ts, const char *action, const char *text)
{
	cJSON *o = cJSON_CreateObject(), *log = cJSON_CreateObject();

	if (!o || !log || !cJSON_AddNumberToObject(o, "alarm_id", (double)al->id) ||
	    !cJSON_AddItemToObject(o, "log", log)) {
		cJSON_Delete(o);
		if (!o || !cJSON_GetObjectItem(o, "log"))
			cJSON_Delete(log);
		return NULL;
	}
	if (!cJSON_AddNumberToObject(log, "ts_ms", (double)ts) ||
	    !cJSON_AddStringToObject(log, "action", action) ||
	    (text && !cJSON_AddStringToObject(log, "text", text))) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

/* details with a root's affected hosts in them */
static char *details_now(const struct alarm *al)
{
	cJSON *d = al->details ? cJSON_Parse(al->details) : cJSON_CreateObject(), *arr;
	char *out;

	if (!d || !cJSON_IsObject(d)) {
		cJSON_Delete(d);
		d = cJSON_CreateObject();
	}
	if (!d)
		return NULL;
	if (al->n_affected) {
		cJSON_DeleteItemFromObject(d, "affected");
		cJSON_DeleteItemFromObject(d, "affected_count");
		arr = cJSON_AddArrayToObject(d, "affected");
		for (size_t i = 0; arr && i < al->n_affected; i++)
			cJSON_AddItemToArray(arr, cJSON_CreateString(al->affected[i]));
		cJSON_AddNumberToObject(d, "affected_count", (double)al->n_affected);
	}
	out = cJSON_PrintUnformatted(d);
	cJSON_Delete(d);
	return out;
}

static void write_update(struct vgl_alarms *a, struct alarm *al, int64_t ts, const char *action,
			 const char *text)
{
	cJSON *o = doc_for(al, ts, action, text);
	char *det = details_now(al);
	cJSON *dj = det ? cJSON_Parse(det) : NULL;

	free(det);
	if (!o || !dj || !cJSON_AddItemToObject(o, "details", dj)) {
		cJSON_Delete(dj);
		cJSON_Delete(o);
		vgl_err("alarms: out of memory updating alarm %lld", (long long)al->id);
		return;
	}
	if (al->suppressed_by)
		cJSON_AddNumberToObject(o, "suppressed_by", (double)al->suppressed_by);
	if (al->muted[0])
		cJSON_AddStringToObject(o, "muted", al->muted);
	emit(a, VGL_SA_UPDATE, al->host_id, o);
}

static void row_of(const struct vgl_alarms *a, const struct alarm *al, int64_t cleared_ms,
		   const char *details, struct vgl_alarm_row *r)
{
	*r = (struct vgl_alarm_row){
		.id = al->id, .host_id = al->host_id, .host = host_name(a, al),
		.site = host_site(a, al), .rule = al->rule, .kind = al->kind, .severity = al->sev,
		.state = cleared_ms ? VGL_ALARM_CLEARED
			 : al->acked_ms ? VGL_ALARM_ACKED : VGL_ALARM_RAISED,
		.summary = al->summary, .labels_json = al->labels, .details_json = details,
		.policy = al->policy, .raised_ms = al->raised_ms, .acked_ms = al->acked_ms,
		.acked_by = al->acked_by, .cleared_ms = cleared_ms,
		.suppressed_by = al->suppressed_by, .muted = al->muted[0] ? al->muted : NULL,
	};
}

/* ---- the outbox ----------------------------------------------------------- */

static struct owed *owed_find(struct vgl_alarms *a, int64_t id)
{
	for (size_t i = 0; i < a->n_owed; i++)
		if (a->owed[i].id == id)
			return &a->owed[i];
	return NULL;
}

static struct owed *owed_add(struct vgl_alarms *a)
{
	if (a->n_owed == a->cap_owed) {
		size_t cap = a->cap_owed ? a->cap_owed * 2 : 16;
		struct owed *n = realloc(a->owed, cap * sizeof(*n));
		if (!n)
			return NULL;
		a->owed = n;
		a->cap_owed = cap;
	}
	memset(&a->owed[a->n_owed], 0, sizeof(struct owed));
	return &a->owed[a->n_owed++];
}

static void owed_remove(struct vgl_alarms *a, struct owed *o)
{
	free(o->channel);
	free(o->payload);
	*o = a->owed[--a->n_owed];
}

/* One notification: the snapshot as it is now, under its dedup key. */
static int enqueue(struct vgl_alarms *a, struct alarm *al, const char *channel,
		   enum vgl_notice_event ev, int step, int repeat, int64_t now, int64_t cleared_ms)
{
	char key[96], *det = details_now(al), *payload;
	struct vgl_alarm_row row;
	struct vgl_outbox_row ob;
	struct owed *o;
	cJSON *doc;

	if (vgl_dedup_key(key, sizeof(key), al->id, ev, step, repeat) < 0 || !det) {
		free(det);
		return -ENOMEM;
	}
	row_of(a, al, cleared_ms, det, &row);
	ob = (struct vgl_outbox_row){
		.id = a->next_outbox_id, .alarm_id = al->id, .channel = channel, .event = ev,
		.step = step, .repeat = repeat, .dedup_key = key, .created_ms = now,
		.next_attempt_ms = now,
	};
	payload = vgl_alarm_json(&row, &ob);
	free(det);
	if (!payload || !(o = owed_add(a))) {
		free(payload);
		return -ENOMEM;
	}
	o->id = a->next_outbox_id++;
	o->alarm_id = al->id;
	o->host_id = al->host_id;
	o->next_ms = now;
	o->created_ms = now;
	o->payload = payload;
	if (!(o->channel = strdup(channel))) {
		owed_remove(a, o);
		return -ENOMEM;
	}
	doc = cJSON_CreateObject();
	if (!doc || !cJSON_AddNumberToObject(doc, "id", (double)o->id) ||
	    !cJSON_AddNumberToObject(doc, "alarm_id", (double)al->id) ||
	    !cJSON_AddStringToObject(doc, "channel", channel) ||
	    !cJSON_AddStringToObject(doc, "event", ev == VGL_NOTICE_TRIGGER ? "trigger" : "resolve") ||
	    !cJSON_AddNumberToObject(doc, "step", step) ||
	    !cJSON_AddNumberToObject(doc, "repeat", repeat) ||
	    !cJSON_AddStringToObject(doc, "dedup_key", key) ||
	    !cJSON_AddStringToObject(doc, "payload", payload) ||
	    !cJSON_AddNumberToObject(doc, "created_ms", (double)now) ||
	    !cJSON_AddNumberToObject(doc, "next_ms", (double)now)) {
		cJSON_Delete(doc);
		owed_remove(a, o);
		return -ENOMEM;
	}
	return emit(a, VGL_SA_OUTBOX, al->host_id, doc);
}

void vgl_alarms_committed(struct vgl_alarms *a, int64_t outbox_id)
{
	struct owed *o = owed_find(a, outbox_id);

	if (o)
		o->committed = 1;
}

static void write_try(struct vgl_alarms *a, const struct owed *o, int64_t delivered_ms,
		      const char *error)
{
	cJSON *doc = cJSON_CreateObject();

	if (!doc || !cJSON_AddNumberToObject(doc, "id", (double)o->id) ||
	    !cJSON_AddNumberToObject(doc, "attempts", (double)o->attempts) ||
	    !(delivered_ms ? cJSON_AddNumberToObject(doc, "delivered_ms", (double)delivered_ms)
			   : cJSON_AddNullToObject(doc, "delivered_ms")) ||
	    !(error ? cJSON_AddStringToObject(doc, "last_error", error)
		    : cJSON_AddNullToObject(doc, "last_error")) ||
	    !cJSON_AddNumberToObject(doc, "next_ms", (double)o->next_ms)) {
		cJSON_Delete(doc);
		return;
	}
	emit(a, VGL_SA_OUTBOX_TRY, o->host_id, doc);
}

void vgl_alarms_delivered(struct vgl_alarms *a, int64_t outbox_id, int ok, const char *error,
			  int64_t now_ms)
{
	struct owed *o = owed_find(a, outbox_id);
	int64_t backoff = RETRY_FIRST_MS;

	if (!o)
		return;
	o->in_flight = 0;
	o->attempts++;
	if (ok) {
		a->delivered++;
		vgl_info("alarm %lld: notification %lld delivered to %s (attempt %lld)",
			 (long long)o->alarm_id, (long long)o->id, o->channel,
			 (long long)o->attempts);
		write_try(a, o, now_ms, NULL);
		owed_remove(a, o);
		return;
	}
	a->failed++;
	for (int64_t i = 1; i < o->attempts && backoff < (int64_t)a->ac->retry_max_ms; i++)
		backoff *= 2;
	if (backoff > (int64_t)a->ac->retry_max_ms)
		backoff = a->ac->retry_max_ms;
	o->next_ms = now_ms + backoff;
	vgl_warn("alarm %lld: notification %lld to %s failed (attempt %lld: %s); retrying in "
		 "%lld ms", (long long)o->alarm_id, (long long)o->id, o->channel,
		 (long long)o->attempts, error ? error : "?", (long long)backoff);
	write_try(a, o, 0, error ? error : "failed");
}

static void send_due(struct vgl_alarms *a, int64_t now)
{
	for (size_t i = 0; i < a->n_owed; i++) {
		struct owed *o = &a->owed[i];

		if (!o->committed || o->in_flight || o->next_ms > now)
			continue;
		o->in_flight = 1;
		/* a failure keeps the row (only a delivery removes one) */
		if (!a->io.send || a->io.send(a->io.ctx, o->id, o->channel, o->payload) != 0)
			vgl_alarms_delivered(a, o->id, 0, "the channel is not configured", now);
	}
}

/* ---- muting ----------------------------------------------------------------- */

static int label_matches(const struct alarm *al, const char *kv)
{
	const char *eq = strchr(kv, '=');
	cJSON *l, *v;
	int ok;

	if (!eq || !al->labels || !(l = cJSON_Parse(al->labels)))
		return 0;
	char key[128];
	snprintf(key, sizeof(key), "%.*s", (int)(eq - kv), kv);
	v = cJSON_GetObjectItemCaseSensitive(l, key);
	ok = cJSON_IsString(v) && strcmp(v->valuestring, eq + 1) == 0;
	cJSON_Delete(l);
	return ok;
}

/* The silence or window in force now that covers al, into al->muted;
 * 1 when muted. */
static int muted_now(const struct vgl_alarms *a, const struct alarm *al, int64_t now, char *out,
		     size_t n)
{
	const char *host = host_name(a, al), *site = host_site(a, al);

	for (size_t i = 0; i < a->n_sil; i++) {
		const struct silence *s = &a->sil[i];

		if (now < s->start_ms || now >= s->end_ms)
			continue;
		if ((s->host && strcmp(s->host, host) != 0) ||
		    (s->site && (!site || strcmp(s->site, site) != 0)) ||
		    (s->label && !label_matches(al, s->label)))
			continue;
		snprintf(out, n, "silence:%lld", (long long)s->id);
		return 1;
	}
	for (size_t i = 0; i < a->n_win; i++) {
		const struct window *w = &a->win[i];

		if (now < w->start_ms || now >= w->end_ms)
			continue;
		if ((w->host_id && w->host_id == al->host_id) ||
		    (w->site && site && strcmp(w->site, site) == 0)) {
			snprintf(out, n, "maintenance:%lld", (long long)w->id);
			return 1;
		}
	}
	out[0] = '\0';
	return 0;
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

static int add_str(char ***arr, size_t *n, const char *s)
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
	key_of(k, sizeof(k), al->host_id, al->kind, al->rule);
	id_key(ik, sizeof(ik), al->id);
	if (map_put(&a->by_key, k, al) != 0 || map_put(&a->by_id, ik, al) != 0) {
		map_del(&a->by_key, k);
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

	key_of(k, sizeof(k), al->host_id, al->kind, al->rule);
	id_key(ik, sizeof(ik), al->id);
	map_del(&a->by_key, k);
	map_del(&a->by_id, ik);
	a->act[al->slot] = a->act[--a->n_act];
	a->act[al->slot]->slot = al->slot;
	if (al->host < a->n_hosts && a->avail_of[al->host] == al)
		a->avail_of[al->host] = NULL;
}

static struct alarm *by_id(const struct vgl_alarms *a, int64_t id)
{
	char ik[32];

	id_key(ik, sizeof(ik), id);
	return map_get(&a->by_id, ik);
}

/* The availability alarm that stands for al: a parent's, followed up to
 * the alarm that is not itself suppressed. */
static struct alarm *root_for(const struct vgl_alarms *a, const struct alarm *al)
{
	if (al->host >= a->n_hosts)
		return NULL;
	for (size_t i = 0; i < a->n_parents[al->host]; i++) {
		struct alarm *p = a->avail_of[a->parents[al->host][i]];

		for (int hops = 0; p && p->suppressed_by && hops < 16; hops++) {
			struct alarm *up = by_id(a, p->suppressed_by);
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
static void suppress(struct vgl_alarms *a, struct alarm *al, struct alarm *root, int64_t now)
{
	char text[160];

	al->suppressed_by = root->id;
	snprintf(text, sizeof(text), "suppressed: %s is down (alarm %lld)", host_name(a, root),
		 (long long)root->id);
	write_update(a, al, now, "suppressed", text);
	if (root != al && add_str(&root->affected, &root->n_affected, host_name(a, al)) == 0) {
		snprintf(text, sizeof(text), "%s affected (%zu in all)", host_name(a, al),
			 root->n_affected);
		write_update(a, root, now, "affected", text);
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
	cJSON *o = doc_for(al, al->raised_ms, "raised", al->summary);
	cJSON *lj = cJSON_Parse(al->labels), *dj = cJSON_Parse(al->details);
	const char *site = host_site(a, al);

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
	return emit(a, VGL_SA_RAISE, al->host_id, o);
}

/* Raises the flapping alarm of key f (or finds it active). */
static struct alarm *flapping(struct vgl_alarms *a, struct flap *f, int64_t ts)
{
	struct alarm *fl = f->flapping_id ? by_id(a, f->flapping_id) : NULL;
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
	struct flap *f = map_get(&a->flaps, key);
	int64_t *t;

	if (!a->ac->flap_changes || r->kind == VGL_AK_FLAPPING)
		return NULL;
	if (!f) {
		if (!(f = calloc(1, sizeof(*f))) ||
		    !(f->t = calloc(a->ac->flap_changes + 1, sizeof(*f->t))) ||
		    !(f->rule = strdup(r->rule)) || map_put(&a->flaps, key, f) != 0) {
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
	return f->flapping_id ? by_id(a, f->flapping_id) : NULL;
}

int64_t vgl_alarms_raise(struct vgl_alarms *a, const struct vgl_alarm_raise *r)
{
	char k[256], summary[512], *labels;
	enum vgl_severity sev = r->spec ? r->spec->severity : VGL_SEV_WARNING;
	struct alarm *al, *fl, *root;

	if (r->host >= a->c->n_hosts)
		return 0;
	key_of(k, sizeof(k), a->db_ids[r->host], r->kind, r->rule);
	if (map_get(&a->by_key, k))
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
	root = root_for(a, al);
	if (root)
		al->suppressed_by = root->id;
	else if (fl && fl != al)
		al->suppressed_by = fl->id;
	muted_now(a, al, r->ts_ms, al->muted, sizeof(al->muted));
	if (write_raise(a, al) != 0)
		vgl_err("alarms: out of memory recording alarm %lld", (long long)al->id);
	if (root && add_str(&root->affected, &root->n_affected, host_name(a, al)) == 0) {
		char text[200];

		snprintf(text, sizeof(text), "%s affected (%zu in all)", host_name(a, al),
			 root->n_affected);
		write_update(a, root, r->ts_ms, "affected", text);
	}
	vgl_notice("host %s: alarm %lld raised (%s %s, %s)%s%s: %s", host_name(a, al),
		   (long long)al->id, vgl_severity_name(sev), vgl_alarm_kind_name(r->kind), r->rule,
		   al->suppressed_by ? ", suppressed" : "", al->muted[0] ? ", muted" : "",
		   al->summary);
	return al->id;
}

static void finish(struct vgl_alarms *a, struct alarm *al, int64_t ts, const char *why)
{
	cJSON *o = doc_for(al, ts, "cleared", why);

	if (o && cJSON_AddNumberToObject(o, "cleared_ms", (double)ts))
		emit(a, VGL_SA_CLEAR, al->host_id, o);
	else
		cJSON_Delete(o);
	/* only those a trigger reached hear of the end */
	for (size_t i = 0; i < al->n_notified; i++)
		if (enqueue(a, al, al->notified[i], VGL_NOTICE_RESOLVE, -1, 0, ts, ts) != 0)
			vgl_err("alarm %lld: out of memory queueing the resolve to %s",
				(long long)al->id, al->notified[i]);
	vgl_notice("host %s: alarm %lld cleared (%s %s)", host_name(a, al), (long long)al->id,
		   vgl_alarm_kind_name(al->kind), al->rule);
	/* What it stood for and is still raised is no longer explained: it
	 * waits a dependency wait again (hosts behind a switch come back a
	 * poll after it), then escalates on its own. */
	for (size_t k = 0; k < a->n_act; k++) {
		struct alarm *c = a->act[k];

		if (c == al || c->suppressed_by != al->id)
			continue;
		c->suppressed_by = 0;
		c->notify_at = ts + a->ac->dependency_wait_ms;
		write_update(a, c, ts, "unsuppressed", "the alarm that stood for it cleared");
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
		key_of(k, sizeof(k), a->db_ids[host], kind, rule);
		al = map_get(&a->by_key, k);
	}
	if (!al)
		return 0;
	finish(a, al, ts_ms, NULL);
	return 1;
}

int vgl_alarms_clear_key(struct vgl_alarms *a, int64_t host_id, enum vgl_alarm_kind kind,
			 const char *rule, int64_t ts_ms)
{
	char k[256];
	struct alarm *al;

	key_of(k, sizeof(k), host_id, kind, rule);
	if (!(al = map_get(&a->by_key, k)))
		return 0;
	finish(a, al, ts_ms, "its rule was removed from the configuration");
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
	key_of(k, sizeof(k), a->db_ids[host], kind, rule);
	return map_get(&a->by_key, k) != NULL;
}

void vgl_alarms_acked(struct vgl_alarms *a, int64_t id, int64_t ts_ms, const char *by)
{
	struct alarm *al = by_id(a, id);

	if (!al || al->acked_ms)
		return;
	al->acked_ms = ts_ms;
	free(al->acked_by);
	al->acked_by = by ? strdup(by) : NULL;
	vgl_notice("host %s: alarm %lld acknowledged by %s", host_name(a, al), (long long)id,
		   by ? by : "?");
}

/* ---- escalation ------------------------------------------------------------- */

static void fire_step(struct vgl_alarms *a, struct alarm *al, size_t s, int64_t now)
{
	const struct vgl_esc_step *st = &al->pol->steps[s];
	int repeat = al->fired[s];
	char text[200];

	for (size_t i = 0; i < st->n_notify; i++) {
		if (enqueue(a, al, st->notify[i], VGL_NOTICE_TRIGGER, (int)s, repeat, now, 0) != 0 ||
		    add_str(&al->notified, &al->n_notified, st->notify[i]) != 0)
			vgl_err("alarm %lld: out of memory queueing step %zu to %s",
				(long long)al->id, s, st->notify[i]);
	}
	al->fired[s]++;
	al->last[s] = now;
	snprintf(text, sizeof(text), "policy %s step %zu%s", al->policy ? al->policy : "?", s,
		 repeat ? " (repeat)" : "");
	{
		cJSON *o = doc_for(al, now, "escalated", text);

		if (o)
			emit(a, VGL_SA_LOG, al->host_id, o);
	}
}

static void escalate(struct vgl_alarms *a, struct alarm *al, int64_t now)
{
	char m[48];

	if (now < al->notify_at)
		return;
	if (!al->suppressed_by) {
		struct alarm *root = root_for(a, al);

		if (root) {
			suppress(a, al, root, now);
			return;
		}
	}
	if (al->suppressed_by)
		return;
	muted_now(a, al, now, m, sizeof(m));
	if (strcmp(m, al->muted) != 0) {
		snprintf(al->muted, sizeof(al->muted), "%s", m);
		write_update(a, al, now, m[0] ? "muted" : "unmuted", m[0] ? m : NULL);
	}
	if (al->muted[0] || !al->pol)
		return;
	for (size_t s = 0; s < al->pol->n_steps && s < MAX_STEPS; s++) {
		const struct vgl_esc_step *st = &al->pol->steps[s];

		if (!st->until_clear && al->acked_ms)
			continue;
		if (!al->fired[s]) {
			if (now >= al->raised_ms + (int64_t)st->after_ms)
				fire_step(a, al, s, now);
		} else if (st->repeat_ms && now >= al->last[s] + (int64_t)st->repeat_ms) {
			fire_step(a, al, s, now);
		}
	}
}

static void flaps_expire(struct vgl_alarms *a, int64_t now)
{
	for (size_t i = 0; i < a->flaps.cap; i++) {
		struct flap *f;

		if (!a->flaps.keys[i] || a->flaps.keys[i] == (char *)1)
			continue;
		f = a->flaps.vals[i];
		if (f->n && f->t[f->n - 1] > now - (int64_t)a->ac->flap_window_ms)
			continue;
		if (f->flapping_id) {
			struct alarm *fl = by_id(a, f->flapping_id);

			/* what is still raised stands on its own again and
			 * escalates as any alarm */
			for (size_t k = 0; fl && k < a->n_act; k++)
				if (a->act[k]->suppressed_by == fl->id) {
					a->act[k]->suppressed_by = 0;
					write_update(a, a->act[k], now, "unsuppressed",
						     "its rule stopped flapping");
				}
			if (fl)
				finish(a, fl, now, "quiet for a whole flap window");
		}
		free(f->t);
		free(f->rule);
		free(f);
		free(a->flaps.keys[i]);
		a->flaps.keys[i] = (char *)1;
		a->flaps.vals[i] = NULL;
	}
}

void vgl_alarms_each_paged(struct vgl_alarms *a, vgl_alarms_paged_fn *fn, void *ctx)
{
	for (size_t i = 0; i < a->n_act; i++) {
		struct alarm *al = a->act[i];
		struct vgl_alarm_row row;
		struct vgl_outbox_row ob;
		char key[96], *det, *snap;

		if (!al->n_notified || al->suppressed_by || al->muted[0])
			continue;
		if (vgl_dedup_key(key, sizeof(key), al->id, VGL_NOTICE_TRIGGER, 0, 0) < 0 ||
		    !(det = details_now(al)))
			continue;
		row_of(a, al, 0, det, &row);
		for (size_t c = 0; c < al->n_notified; c++) {
			ob = (struct vgl_outbox_row){ .alarm_id = al->id, .channel = al->notified[c],
						      .event = VGL_NOTICE_TRIGGER, .dedup_key = key };
			if ((snap = vgl_alarm_json(&row, &ob)))
				fn(ctx, al->notified[c], snap);
			free(snap);
		}
		free(det);
	}
}

void vgl_alarms_abandon_in_flight(struct vgl_alarms *a)
{
	for (size_t i = 0; i < a->n_owed; i++)
		a->owed[i].in_flight = 0;
}

void vgl_alarms_tick(struct vgl_alarms *a, int64_t now_ms)
{
	for (size_t i = 0; i < a->n_act; i++)
		escalate(a, a->act[i], now_ms);
	flaps_expire(a, now_ms);
	send_due(a, now_ms);
}

/* ---- control (operators' changes) ------------------------------------------- */

static void free_silences(struct silence *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(s[i].host);
		free(s[i].site);
		free(s[i].label);
	}
	free(s);
}

static void free_windows(struct window *w, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(w[i].site);
	free(w);
}

void vgl_alarms_control_begin(struct vgl_alarms *a)
{
	free_silences(a->sil_new, a->n_sil_new);
	free_windows(a->win_new, a->n_win_new);
	a->sil_new = NULL;
	a->win_new = NULL;
	a->n_sil_new = a->n_win_new = 0;
	a->in_control = 1;
	a->control_oom = 0;
}

int vgl_alarms_silence(struct vgl_alarms *a, const struct vgl_store_silence *s)
{
	struct silence *n = realloc(a->sil_new, (a->n_sil_new + 1) * sizeof(*n)), *x;

	if (!n) {
		a->control_oom = 1;
		return -ENOMEM;
	}
	a->sil_new = n;
	x = &n[a->n_sil_new];
	memset(x, 0, sizeof(*x));
	x->id = s->id;
	x->start_ms = s->start_ms;
	x->end_ms = s->end_ms;
	if ((s->host && !(x->host = strdup(s->host))) || (s->site && !(x->site = strdup(s->site))) ||
	    (s->label && !(x->label = strdup(s->label)))) {
		free(x->host);
		free(x->site);
		a->control_oom = 1;
		return -ENOMEM;
	}
	a->n_sil_new++;
	return 0;
}

int vgl_alarms_window(struct vgl_alarms *a, const struct vgl_store_window *w)
{
	struct window *n, *x;

	if (w->cancelled)
		return 0;
	if (!(n = realloc(a->win_new, (a->n_win_new + 1) * sizeof(*n)))) {
		a->control_oom = 1;
		return -ENOMEM;
	}
	a->win_new = n;
	x = &n[a->n_win_new];
	memset(x, 0, sizeof(*x));
	x->id = w->id;
	x->host_id = w->host_id;
	x->start_ms = w->start_ms;
	x->end_ms = w->end_ms;
	if (w->site && !(x->site = strdup(w->site))) {
		a->control_oom = 1;
		return -ENOMEM;
	}
	a->n_win_new++;
	return 0;
}

void vgl_alarms_control_end(struct vgl_alarms *a)
{
	if (!a->in_control)
		return;
	a->in_control = 0;
	/* a partial read must not unmute what it did not see */
	if (a->control_oom)
		return;
	free_silences(a->sil, a->n_sil);
	free_windows(a->win, a->n_win);
	a->sil = a->sil_new;
	a->n_sil = a->n_sil_new;
	a->win = a->win_new;
	a->n_win = a->n_win_new;
	a->sil_new = NULL;
	a->win_new = NULL;
	a->n_sil_new = a->n_win_new = 0;
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
		al->policy = al->pol ? strdup(al->pol->name) : NULL;
		if (h < 0) {
			al->host = UINT32_MAX;
			finish(a, al, now_ms, "the host is no longer configured");
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

		cJSON_ArrayForEach(it, aff)
			if (cJSON_IsString(it))
				add_str(&al->affected, &al->n_affected, it->valuestring);
		cJSON_Delete(d);
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
			add_str(&al->notified, &al->n_notified, al->pol->steps[s].notify[i]);
	}
	if (track(a, al) != 0) {
		alarm_free(al);
		return -ENOMEM;
	}
	if (al->id >= a->next_alarm_id)
		a->next_alarm_id = al->id + 1;
	if (h < 0)
		finish(a, al, now_ms, "the host is no longer configured");
	return 0;
}

int vgl_alarms_restore_owed(struct vgl_alarms *a, const struct vgl_store_owed *o)
{
	struct owed *w = owed_add(a);

	if (!w)
		return -ENOMEM;
	w->id = o->id;
	w->alarm_id = o->alarm_id;
	w->host_id = o->host_id;
	w->attempts = o->attempts;
	w->next_ms = o->next_ms;
	w->committed = 1;
	if (!(w->channel = strdup(o->channel)) || !(w->payload = strdup(o->payload))) {
		owed_remove(a, w);
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
	map_free(&a->by_key);
	map_free(&a->by_id);
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
	map_free(&a->flaps);
	free_silences(a->sil, a->n_sil);
	free_silences(a->sil_new, a->n_sil_new);
	free_windows(a->win, a->n_win);
	free_windows(a->win_new, a->n_win_new);
	free_topology(a);
	free(a);
}
