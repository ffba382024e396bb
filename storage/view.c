/* Host and interval views (storage/view.h). The JSON objects are the ones
 * `vigil hosts --json` and `vigil intervals --json` have always printed,
 * key for key in the same order: scripts parse them. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/jput.h"
#include "storage/view.h"

struct vgl_view {
	const struct vgl_conf *conf;
	struct vgl_query *q;
	struct vgl_query_daemon d;
	int stale;
};

int vgl_view_is_stale(const struct vgl_conf *conf, const struct vgl_query_daemon *d,
		      int64_t now_ms)
{
	int64_t grace = 3 * (int64_t)conf->heartbeat_ms + (int64_t)conf->batch_ms;

	return d->ever_ran && (d->stopped || now_ms - d->last_heartbeat_ms > grace);
}

int vgl_view_new(const struct vgl_conf *conf, struct vgl_query *q, int64_t now_ms,
		 struct vgl_view **out, char *err, size_t errlen)
{
	struct vgl_view *v = calloc(1, sizeof(*v));

	*out = NULL;
	if (!v) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	v->conf = conf;
	v->q = q;
	if (vgl_query_daemon_state(q, &v->d, err, errlen) != 0) {
		free(v);
		return -1;
	}
	v->stale = vgl_view_is_stale(conf, &v->d, now_ms);
	*out = v;
	return 0;
}

void vgl_view_free(struct vgl_view *v)
{
	free(v);
}

void vgl_view_daemon(const struct vgl_view *v, struct vgl_view_daemon *out)
{
	out->ever_ran = v->d.ever_ran;
	out->stopped = v->d.stopped;
	out->stale = v->stale;
	out->last_heartbeat_ms = v->d.last_heartbeat_ms;
}

int vgl_view_host(struct vgl_view *v, const struct vgl_conf_host *h, struct vgl_view_host *out,
		  char *err, size_t errlen)
{
	struct vgl_query_host_state st;

	if (vgl_query_host_state(v->q, h->name, &st, err, errlen) != 0)
		return -1;
	memset(out, 0, sizeof(*out));
	out->host = h;
	out->state = st.state;
	out->down = st.has_open;
	if (out->down) {
		snprintf(out->cause, sizeof(out->cause), "%s", st.cause);
		out->since_ms = st.down_since_ms;
	}
	out->last_poll_ms = st.last_poll_ms;
	out->degraded = st.degraded;
	snprintf(out->power, sizeof(out->power), "%s", st.power);
	out->stale = v->stale;
	out->has_heartbeat = v->d.ever_ran;
	out->last_heartbeat_ms = v->d.last_heartbeat_ms;
	return 0;
}

cJSON *vgl_view_host_json(const struct vgl_view_host *hs)
{
	const struct vgl_conf_host *h = hs->host;
	cJSON *o = cJSON_CreateObject();

	if (!o)
		return NULL;
	if (vgl_jput_str(o, "name", h->name) || vgl_jput_str(o, "address", h->address) ||
	    vgl_jput_str(o, "site", h->site) || vgl_jput_str(o, "policy", h->service) ||
	    vgl_jput_str(o, "customer", h->customer) || vgl_jput_str(o, "state", hs->state) ||
	    vgl_jput_str(o, "cause", hs->down ? hs->cause : NULL) ||
	    vgl_jput_time(o, "since", hs->since_ms, hs->down) ||
	    vgl_jput_time(o, "last_poll", hs->last_poll_ms, hs->last_poll_ms != 0) ||
	    vgl_jput_bool(o, "stale", hs->stale) ||
	    vgl_jput_time(o, "last_heartbeat", hs->last_heartbeat_ms, hs->has_heartbeat) ||
	    (hs->degraded && (vgl_jput_bool(o, "degraded", 1) ||
			      vgl_jput_str(o, "power", hs->power)))) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

int vgl_view_host_known(const struct vgl_conf *conf, struct vgl_query *q, const char *name,
			char *err, size_t errlen)
{
	struct vgl_query_host_state st;

	if (vgl_conf_find_host(conf, name))
		return 1;
	if (vgl_query_host_state(q, name, &st, err, errlen) != 0)
		return -1;
	return st.in_db ? 1 : 0;
}

/* Evidence is JSON the daemon wrote; it is handed on as a value. Text that
 * does not parse is kept apart rather than dropped. 0, or -1 (memory). */
static int put_evidence(cJSON *o, const char *text)
{
	cJSON *ev = NULL;

	if (text) {
		ev = cJSON_Parse(text);
		if (!ev && vgl_jput_str(o, "evidence_raw", text))
			return -1;
	}
	if (ev ? !cJSON_AddItemToObject(o, "evidence", ev) : !cJSON_AddNullToObject(o, "evidence")) {
		cJSON_Delete(ev);
		return -1;
	}
	return 0;
}

cJSON *vgl_view_interval_json(const struct vgl_query_interval *iv)
{
	cJSON *o = cJSON_CreateObject();

	if (!o)
		return NULL;
	if (vgl_jput_num(o, "id", iv->id) || vgl_jput_str(o, "host", iv->host) ||
	    vgl_jput_str(o, "cause", iv->cause) || vgl_jput_time(o, "start", iv->start_ms, 1) ||
	    vgl_jput_time(o, "end", iv->end_ms, !iv->is_open) ||
	    vgl_jput_str(o, "rule", iv->opened_by) || put_evidence(o, iv->evidence) ||
	    vgl_jput_str(o, "note", iv->note) || vgl_jput_str(o, "closed_by", iv->closed_by) ||
	    vgl_jput_str(o, "origin", iv->origin) ||
	    vgl_jput_num(o, "unobserved_ms", iv->unobserved_ms) ||
	    /* operator rows have no poll interval: null, not 0 */
	    (iv->poll_interval_ms ? vgl_jput_num(o, "poll_interval_ms", iv->poll_interval_ms)
				  : vgl_jput_str(o, "poll_interval_ms", NULL)) ||
	    vgl_jput_str(o, "created_by", iv->created_by) ||
	    vgl_jput_time(o, "created", iv->created_ms, 1)) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}
