/* The database side of the HTTP API (daemon/api_int.h), in libuv's
 * threadpool: the same read-side library and operator edits the CLI uses
 * (storage/view.h, storage/alarm_view.h, storage/query.h,
 * storage/alarm_db.h, storage/sla_db.h, sla/host_month.h), on connections
 * of the API's own, so the answers are the CLI's --json objects and an
 * edit is checked exactly as `vigil` checks it.
 *
 * Threads: a struct api_db belongs to one job at a time (api.c hands them
 * out on the loop); SQLite connections are not shared between threads at
 * once. The connection is opened by the first job that needs it, never on
 * the loop: an open can wait on a lock.
 *
 * Nothing here touches libmicrohttpd or the daemon's state; what a job
 * needs of the config it reads through j->conf, which api.c keeps alive
 * until the job's after-work ran. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/cause.h"
#include "core/jput.h"
#include "core/vtime.h"
#include "daemon/api_int.h"
#include "sla/host_month.h"
#include "sla/jw.h"
#include "storage/alarm_db.h"
#include "storage/alarm_view.h"
#include "storage/query.h"
#include "storage/sla_db.h"
#include "storage/view.h"

/* A connection waits this long for the daemon's writer before a read or
 * an edit gives up (503): the writer commits a batch in milliseconds. */

struct api_db {
	struct vgl_sql *db;
	struct vgl_query *q;
	struct vgl_alarm_db *adb;
	struct vgl_sla_db *sdb;
};

struct api_db *vgl__api_db_new(void)
{
	return calloc(1, sizeof(struct api_db));
}

static void db_close(struct api_db *d)
{
	vgl_query_free(d->q);
	vgl_alarm_db_free(d->adb);
	vgl_sla_db_free(d->sdb);
	if (d->db)
		vgl_sql_close(d->db);
	d->q = NULL;
	d->adb = NULL;
	d->sdb = NULL;
	d->db = NULL;
}

void vgl__api_db_free(struct api_db *d)
{
	if (!d)
		return;
	db_close(d);
	free(d);
}

static int db_open(struct api_db *d, const char *path, char *err, size_t n)
{
	if (d->db)
		return 0;
	/* The daemon made it (and migrated it) at start: this open finds the
	 * schema up to date and only sets up the connection. */
	if (vgl_sql_open(path, &d->db, err, n) != 0) {
		db_close(d);
		return -1;
	}
	if (vgl_query_new(d->db, &d->q, err, n) != 0 ||
	    vgl_alarm_db_new(d->db, &d->adb, err, n) != 0 ||
	    vgl_sla_db_new(d->db, &d->sdb, err, n) != 0) {
		db_close(d);
		return -1;
	}
	return 0;
}

static void fail(struct api_job *j, unsigned status, const char *fmt, const char *a)
{
	j->status = status;
	snprintf(j->err, sizeof(j->err), fmt, a);
	cJSON_Delete(j->result);
	j->result = NULL;
}

static int add(struct api_job *j, cJSON *arr, cJSON *o)
{
	(void)j;
	if (!o || !cJSON_AddItemToArray(arr, o)) {
		cJSON_Delete(o);
		return -1;
	}
	return 0;
}

/* ---- reads ---- */

static void hosts(struct api_job *j)
{
	const struct vgl_conf *c = j->conf;
	struct vgl_view *v = NULL;

	if (vgl_view_new(c, j->db->q, j->now_ms, &v, j->err, sizeof(j->err)) != 0) {
		j->status = 500;
		return;
	}
	for (size_t i = 0; i < c->n_hosts; i++) {
		const struct vgl_conf_host *h = &c->hosts[i];
		struct vgl_view_host hs;

		if (j->site && (!h->site || strcmp(h->site, j->site) != 0))
			continue;
		if (vgl_view_host(v, h, &hs, j->err, sizeof(j->err)) != 0) {
			j->status = 500;
			break;
		}
		if (add(j, j->result, vgl_view_host_json(&hs)) != 0) {
			fail(j, 500, "%s", "out of memory");
			break;
		}
	}
	vgl_view_free(v);
}

struct iv_walk {
	struct api_job *j;
	cJSON *arr;
	long n;
};

static int on_interval(void *ctx, const struct vgl_query_interval *iv)
{
	struct iv_walk *w = ctx;

	if (w->j->limit > 0 && w->n >= w->j->limit) {
		w->j->truncated = 1;
		return 2;
	}
	w->n++;
	return add(w->j, w->arr, vgl_view_interval_json(iv)) ? 1 : 0;
}

static int walk_intervals(struct api_job *j, const char *host, int64_t from, int64_t to,
			  int open_only, int oldest_first, cJSON *arr)
{
	struct vgl_query_filter f;
	struct iv_walk w = { j, arr, 0 };
	int rc;

	vgl_query_filter_init(&f);
	f.host = host;
	f.from_ms = from;
	f.to_ms = to;
	f.open_only = open_only;
	f.order = oldest_first ? VGL_QUERY_OLDEST_FIRST : VGL_QUERY_NEWEST_FIRST;
	rc = vgl_query_intervals(j->db->q, &f, on_interval, &w, j->err, sizeof(j->err));
	if (rc == 1 || rc < 0) {
		if (rc == 1)
			snprintf(j->err, sizeof(j->err), "out of memory");
		return -1;
	}
	return 0;
}

static void intervals(struct api_job *j)
{
	if (j->host) {
		int known = vgl_view_host_known(j->conf, j->db->q, j->host, j->err, sizeof(j->err));
		if (known < 0) {
			j->status = 500;
			return;
		}
		if (!known) {
			fail(j, 404, "unknown host '%s'", j->host);
			return;
		}
	}
	if (walk_intervals(j, j->host, j->from_ms, j->to_ms, j->open_only, 0, j->result) != 0)
		j->status = 500;
}

/* The host's current month as `vigil sla --json` reports it, or null. */
static cJSON *month_json(struct api_job *j, const struct vgl_conf_host *h)
{
	struct vgl_sla_source *src;
	struct vgl_host_month *m = NULL;
	struct vgl_jw *w;
	cJSON *o = NULL;
	const char *text;
	size_t len;

	if (!h->policy)
		return cJSON_CreateNull();
	if (!(src = vgl_sla_source_new(j->db->sdb)))
		return NULL;
	if (vgl_host_month(src, h, j->year, j->month, j->now_ms, &m, j->err, sizeof(j->err)) != 0) {
		vgl_sla_source_free(src);
		/* a zone whose month has not begun, a refused policy: no numbers */
		return cJSON_CreateNull();
	}
	if ((w = vgl_jw_new(NULL))) {
		vgl_jw_obj(w);
		vgl_host_month_json(w, m);
		vgl_jw_obj_end(w);
		if ((text = vgl_jw_text(w, &len)))
			o = cJSON_ParseWithLength(text, len);
		vgl_jw_free(w);
	}
	vgl_host_month_free(m);
	vgl_sla_source_free(src);
	return o;
}

static void host_detail(struct api_job *j)
{
	const struct vgl_conf_host *h = vgl_conf_find_host(j->conf, j->host);
	struct vgl_view *v = NULL;
	struct vgl_view_host hs;
	cJSON *o, *open, *ivs, *month;
	int64_t m0, m1;
	char b[40];

	if (!h) {
		fail(j, 404, "unknown host '%s'", j->host);
		return;
	}
	if (vgl_view_new(j->conf, j->db->q, j->now_ms, &v, j->err, sizeof(j->err)) != 0 ||
	    vgl_view_host(v, h, &hs, j->err, sizeof(j->err)) != 0) {
		vgl_view_free(v);
		j->status = 500;
		return;
	}
	cJSON_Delete(j->result);
	j->result = o = vgl_view_host_json(&hs);
	vgl_view_free(v);
	if (!o) {
		fail(j, 500, "%s", "out of memory");
		return;
	}
	/* The UTC month of now: its intervals, for the timeline. */
	snprintf(b, sizeof(b), "%04d-%02d-01", j->year, j->month);
	vgl_parse_iso(b, &m0);
	snprintf(b, sizeof(b), "%04d-%02d-01", j->month == 12 ? j->year + 1 : j->year,
		 j->month == 12 ? 1 : j->month + 1);
	vgl_parse_iso(b, &m1);
	if (!(open = cJSON_CreateArray()) || !cJSON_AddItemToObject(o, "open_intervals", open) ||
	    !(ivs = cJSON_CreateArray()) || !cJSON_AddItemToObject(o, "intervals", ivs)) {
		cJSON_Delete(open);
		fail(j, 500, "%s", "out of memory");
		return;
	}
	j->limit = 0;
	if (walk_intervals(j, h->name, VGL_QUERY_TIME_MIN, VGL_QUERY_TIME_MAX, 1, 1, open) != 0 ||
	    walk_intervals(j, h->name, m0, m1, 0, 1, ivs) != 0) {
		j->status = 500;
		return;
	}
	/* One open interval at most per host; the array's first, else null. */
	cJSON_AddItemToObject(o, "open_interval", cJSON_GetArraySize(open)
							  ? cJSON_Duplicate(cJSON_GetArrayItem(open, 0), 1)
							  : cJSON_CreateNull());
	cJSON_DeleteItemFromObject(o, "open_intervals");
	if (!(month = month_json(j, h)) || !cJSON_AddItemToObject(o, "month", month)) {
		cJSON_Delete(month);
		fail(j, 500, "%s", "out of memory");
	}
}

static int on_alarm(void *ctx, const struct vgl_alarm_db_alarm *a)
{
	struct api_job *j = ctx;

	if (j->limit > 0 && cJSON_GetArraySize(j->result) >= j->limit) {
		j->truncated = 1;
		return 2;
	}
	return add(j, j->result, vgl_view_alarm_json(a)) ? 1 : 0;
}

static void alarms(struct api_job *j)
{
	struct vgl_alarm_db_filter f;
	int rc;

	if (j->host) {
		int known = 0;
		if (vgl_alarm_db_host_known(j->db->adb, j->host, &known, j->err, sizeof(j->err)) != 0) {
			j->status = 500;
			return;
		}
		if (!known) {
			fail(j, 404, "unknown host '%s'", j->host);
			return;
		}
	}
	vgl_alarm_db_filter_init(&f);
	f.active_only = j->active_only;
	f.host = j->host;
	rc = vgl_alarm_db_alarms(j->db->adb, &f, on_alarm, j, j->err, sizeof(j->err));
	if (rc < 0 || rc == 1)
		fail(j, 500, "%s", rc == 1 ? "out of memory" : j->err);
}

static int on_one_alarm(void *ctx, const struct vgl_alarm_db_alarm *a)
{
	struct api_job *j = ctx;

	cJSON_Delete(j->result);
	j->result = vgl_view_alarm_json(a);
	return j->result ? 0 : 2;
}

static int on_log(void *ctx, const struct vgl_alarm_db_log *l)
{
	return add(ctx, cJSON_GetObjectItemCaseSensitive(((struct api_job *)ctx)->result, "log"),
		   vgl_view_alarm_log_json(l)) ? 1 : 0;
}

static int on_notice(void *ctx, const struct vgl_alarm_db_notice *n)
{
	return add(ctx, cJSON_GetObjectItemCaseSensitive(((struct api_job *)ctx)->result, "outbox"),
		   vgl_view_notice_json(n)) ? 1 : 0;
}

static void alarm_one(struct api_job *j)
{
	char id[24];
	int rc = vgl_alarm_db_alarm(j->db->adb, j->id, on_one_alarm, j, j->err, sizeof(j->err));

	snprintf(id, sizeof(id), "%lld", (long long)j->id);
	if (rc == 1) {
		fail(j, 404, "no alarm %s", id);
		return;
	}
	if (rc != 0 || !j->result || !cJSON_AddArrayToObject(j->result, "log") ||
	    !cJSON_AddArrayToObject(j->result, "outbox") ||
	    vgl_alarm_db_log(j->db->adb, j->id, on_log, j, j->err, sizeof(j->err)) != 0 ||
	    vgl_alarm_db_outbox(j->db->adb, j->id, on_notice, j, j->err, sizeof(j->err)) != 0)
		fail(j, 500, "%s", j->err[0] ? j->err : "out of memory");
}

static int on_maint(void *ctx, const struct vgl_sla_db_maint *m)
{
	struct api_job *j = ctx;
	return add(j, j->result, vgl_view_maint_json(m)) ? 1 : 0;
}

static void maints(struct api_job *j)
{
	struct vgl_sla_db_maint_filter f;

	vgl_sla_db_maint_filter_init(&f);
	f.host = j->host;
	f.include_cancelled = j->all;
	f.from_ms = j->from_ms;
	f.to_ms = j->to_ms;
	if (vgl_sla_db_maints(j->db->sdb, &f, on_maint, j, j->err, sizeof(j->err)) != 0)
		fail(j, 500, "%s", j->err[0] ? j->err : "out of memory");
}

static int on_silence(void *ctx, const struct vgl_alarm_db_silence *si)
{
	struct api_job *j = ctx;
	return add(j, j->result, vgl_view_silence_json(si, j->now_ms)) ? 1 : 0;
}

static void silences(struct api_job *j)
{
	if (vgl_alarm_db_silences(j->db->adb, j->all, j->now_ms, on_silence, j, j->err,
				  sizeof(j->err)) != 0)
		fail(j, 500, "%s", j->err[0] ? j->err : "out of memory");
}

/* The report of `vigil sla --month M [--customer C | --host H] --json`:
 * host reports, then customer totals. */
static void sla(struct api_job *j)
{
	const struct vgl_conf *c = j->conf;
	struct vgl_sla_source *src = vgl_sla_source_new(j->db->sdb);
	struct vgl_sla_totals *tot = vgl_sla_totals_new();
	struct vgl_jw *w = vgl_jw_new(NULL);
	char month[8];
	size_t n = 0, matched = 0;
	const char *text;
	size_t len;

	snprintf(month, sizeof(month), "%04d-%02d", j->year, j->month);
	if (!src || !tot || !w) {
		fail(j, 500, "%s", "out of memory");
		goto out;
	}
	if (vgl_sla_db_snapshot_begin(j->db->sdb, j->err, sizeof(j->err)) != 0) {
		j->status = 500;
		goto out;
	}
	vgl_jw_raw(w, "[", 1);
	for (size_t i = 0; i < c->n_hosts && !j->status; i++) {
		const struct vgl_conf_host *h = &c->hosts[i];
		struct vgl_host_month *m = NULL;
		int rc;

		if ((j->host && strcmp(h->name, j->host) != 0) ||
		    (j->customer && (!h->customer || strcmp(h->customer, j->customer) != 0)))
			continue;
		matched++;
		if (!h->policy) {
			if (vgl_sla_totals_add(tot, h, NULL) != 0)
				fail(j, 500, "%s", "out of memory");
			continue;
		}
		rc = vgl_host_month(src, h, j->year, j->month, j->now_ms, &m, j->err, sizeof(j->err));
		if (rc != 0) {
			j->status = rc == VGL_HOST_MONTH_HOST ? 400 : 500;
			break;
		}
		if (vgl_sla_totals_add(tot, h, m) != 0)
			fail(j, 500, "%s", "out of memory");
		if (n++)
			vgl_jw_raw(w, ",", 1);
		vgl_jw_obj(w);
		vgl_host_month_json(w, m);
		vgl_jw_obj_end(w);
		vgl_host_month_free(m);
	}
	vgl_sla_db_snapshot_end(j->db->sdb);
	if (j->status)
		goto out;
	if (!matched) {
		fail(j, 404, j->host ? "unknown host '%s'" : "no host of customer '%s'",
		     j->host ? j->host : j->customer);
		goto out;
	}
	for (size_t i = 0; i < vgl_sla_totals_count(tot); i++) {
		if (n++)
			vgl_jw_raw(w, ",", 1);
		vgl_jw_obj(w);
		vgl_sla_total_json(w, vgl_sla_totals_at(tot, i), month);
		vgl_jw_obj_end(w);
	}
	vgl_jw_raw(w, "]", 1);
	cJSON_Delete(j->result);
	if (!(text = vgl_jw_text(w, &len)) || !(j->result = cJSON_ParseWithLength(text, len)))
		fail(j, 500, "%s", "out of memory");
out:
	vgl_jw_free(w);
	vgl_sla_totals_free(tot);
	vgl_sla_source_free(src);
}

/* ---- edits ---- */

static const char *body_str(const struct api_job *j, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(j->body, k);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* A time field of the body: 0 and *out, 1 when absent, -1 (answered 400). */
static int body_time(struct api_job *j, const char *k, int64_t *out)
{
	const char *s = body_str(j, k);

	if (!cJSON_GetObjectItemCaseSensitive(j->body, k))
		return 1;
	if (!s || vgl_parse_iso(s, out) != 0) {
		j->status = 400;
		snprintf(j->err, sizeof(j->err), "%s: expected an ISO-8601 time such as "
			 "2026-11-05T10:00:00.000Z", k);
		return -1;
	}
	return 0;
}

static void edit_result(struct api_job *j, enum vgl_alarm_db_result rc, unsigned ok)
{
	j->status = rc == VGL_ALARM_DB_OK ? ok : rc == VGL_ALARM_DB_REFUSED ? 409 : 500;
	if (rc != VGL_ALARM_DB_OK) {
		cJSON_Delete(j->result);
		j->result = NULL;
	}
}

/* {"id": id, k: v..., "by": user, "ts": now}: what an edit did. */
static cJSON *edit_obj(struct api_job *j, const char *idk, int64_t id)
{
	cJSON *o = cJSON_CreateObject();

	if (!o || vgl_jput_num(o, idk, id) || vgl_jput_str(o, "by", j->user) ||
	    vgl_jput_time(o, "ts", j->now_ms, 1)) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

static void ack(struct api_job *j)
{
	const char *comment = body_str(j, "comment");
	enum vgl_alarm_db_result rc = vgl_alarm_db_ack(j->db->adb, j->id, j->user, comment,
						       j->now_ms, j->err, sizeof(j->err));

	cJSON_Delete(j->result);
	j->result = edit_obj(j, "id", j->id);
	if (j->result && comment)
		vgl_jput_str(j->result, "comment", comment);
	edit_result(j, rc, 200);
	if (rc == VGL_ALARM_DB_REFUSED && strstr(j->err, "no such"))
		j->status = 404;
}

static void comment(struct api_job *j)
{
	const char *text = body_str(j, "text");
	enum vgl_alarm_db_result rc;

	if (!text) {
		fail(j, 400, "%s", "missing \"text\": the comment");
		return;
	}
	rc = vgl_alarm_db_comment(j->db->adb, j->id, j->user, text, j->now_ms, j->err,
				  sizeof(j->err));
	cJSON_Delete(j->result);
	j->result = edit_obj(j, "alarm_id", j->id);
	if (j->result)
		vgl_jput_str(j->result, "text", text);
	edit_result(j, rc, 200);
	if (rc == VGL_ALARM_DB_REFUSED && strstr(j->err, "no such"))
		j->status = 404;
}

static void silence_add(struct api_job *j)
{
	struct vgl_alarm_db_silence_add s = {
		.host = body_str(j, "host"), .site = body_str(j, "site"),
		.label = body_str(j, "label"), .reason = body_str(j, "reason"), .by = j->user,
		.now_ms = j->now_ms, .start_ms = j->now_ms,
	};
	const cJSON *for_s = cJSON_GetObjectItemCaseSensitive(j->body, "for_s");
	int64_t id = 0;
	enum vgl_alarm_db_result rc;
	struct vgl_alarm_db_silence si;

	if (body_time(j, "start", &s.start_ms) < 0)
		return;
	switch (body_time(j, "until", &s.end_ms)) {
	case -1:
		return;
	case 1:
		if (!cJSON_IsNumber(for_s) || for_s->valuedouble < 1 ||
		    for_s->valuedouble > 366.0 * 86400) {
			fail(j, 400, "%s", "give \"until\" (a time) or \"for_s\" (1 s to a year)");
			return;
		}
		s.end_ms = s.start_ms + (int64_t)for_s->valuedouble * 1000;
	}
	rc = vgl_alarm_db_silence_add(j->db->adb, &s, &id, j->err, sizeof(j->err));
	si = (struct vgl_alarm_db_silence){ .id = id, .host = s.host, .site = s.site,
					    .label = s.label, .start_ms = s.start_ms,
					    .end_ms = s.end_ms, .reason = s.reason,
					    .created_by = j->user, .created_ms = j->now_ms };
	cJSON_Delete(j->result);
	j->result = vgl_view_silence_json(&si, j->now_ms);
	edit_result(j, rc, 201);
	if (rc == VGL_ALARM_DB_REFUSED)
		j->status = 400;
}

static void silence_remove(struct api_job *j)
{
	enum vgl_alarm_db_result rc = vgl_alarm_db_silence_remove(j->db->adb, j->id, j->user,
								  j->now_ms, j->err,
								  sizeof(j->err));

	cJSON_Delete(j->result);
	j->result = edit_obj(j, "id", j->id);
	if (j->result)
		vgl_jput_bool(j->result, "removed", 1);
	edit_result(j, rc, 200);
	if (rc == VGL_ALARM_DB_REFUSED && strstr(j->err, "no such"))
		j->status = 404;
}

static int site_configured(const struct vgl_conf *c, const char *site)
{
	for (size_t i = 0; i < c->n_hosts; i++)
		if (c->hosts[i].site && strcmp(c->hosts[i].site, site) == 0)
			return 1;
	return 0;
}

static void sla_result(struct api_job *j, enum vgl_sla_db_result rc, unsigned ok)
{
	j->status = rc == VGL_SLA_DB_OK ? ok : rc == VGL_SLA_DB_REFUSED ? 409 : 500;
	if (rc != VGL_SLA_DB_OK) {
		cJSON_Delete(j->result);
		j->result = NULL;
	}
}

static void maint_add(struct api_job *j)
{
	const char *host = body_str(j, "host"), *kind = body_str(j, "kind");
	struct vgl_sla_db_maint_add a = { .site = body_str(j, "site"), .note = body_str(j, "note"),
					  .user = j->user, .now_ms = j->now_ms,
					  .announced_ms = j->now_ms };
	char by[96];
	int64_t id = 0;
	enum vgl_sla_db_result rc;

	if (body_time(j, "start", &a.start_ms) != 0 || body_time(j, "end", &a.end_ms) != 0 ||
	    body_time(j, "announced", &a.announced_ms) < 0) {
		if (!j->status)
			fail(j, 400, "%s", "missing \"start\" or \"end\"");
		return;
	}
	if (!host == !a.site) {
		fail(j, 400, "%s", "give exactly one of \"host\" and \"site\"");
		return;
	}
	if ((a.kind = vgl_sla_db_maint_kind_parse(kind ? kind : "planned")) < 0) {
		fail(j, 400, "unknown kind '%s' (expected planned or emergency)", kind);
		return;
	}
	if (!a.note || !*a.note) {
		fail(j, 400, "%s", "missing \"note\": why the window is needed");
		return;
	}
	if (a.end_ms <= a.start_ms) {
		fail(j, 400, "%s", "\"end\" must be after \"start\"");
		return;
	}
	if (host && !(a.host = vgl_conf_find_host(j->conf, host))) {
		fail(j, 404, "unknown host '%s'", host);
		return;
	}
	if (a.site && !site_configured(j->conf, a.site)) {
		fail(j, 404, "unknown site '%s'", a.site);
		return;
	}
	rc = vgl_sla_db_maint_add(j->db->sdb, &a, &id, j->err, sizeof(j->err));
	snprintf(by, sizeof(by), "operator:%s", j->user);
	struct vgl_sla_db_maint m = {
		.id = id, .host = host, .site = a.site, .kind = a.kind, .start_ms = a.start_ms,
		.end_ms = a.end_ms, .announced_ms = a.announced_ms, .note = a.note,
		.created_by = by, .created_ms = a.now_ms,
	};
	cJSON_Delete(j->result);
	j->result = vgl_view_maint_json(&m);
	sla_result(j, rc, 201);
}

static void maint_cancel(struct api_job *j)
{
	const char *note = body_str(j, "note");
	char by[96];
	enum vgl_sla_db_result rc = vgl_sla_db_maint_cancel(j->db->sdb, j->id, note, j->user,
							    j->now_ms, j->err, sizeof(j->err));

	snprintf(by, sizeof(by), "operator:%s", j->user);
	cJSON_Delete(j->result);
	j->result = cJSON_CreateObject();
	if (j->result && (vgl_jput_num(j->result, "id", j->id) ||
			  vgl_jput_bool(j->result, "cancelled", 1) ||
			  vgl_jput_str(j->result, "cancelled_by", by) ||
			  vgl_jput_time(j->result, "cancelled_at", j->now_ms, 1) ||
			  vgl_jput_str(j->result, "cancel_note", note))) {
		cJSON_Delete(j->result);
		j->result = NULL;
	}
	sla_result(j, rc, 200);
	if (rc == VGL_SLA_DB_REFUSED && strstr(j->err, "no such"))
		j->status = 404;
}

static int on_added(void *ctx, const struct vgl_query_interval *iv)
{
	struct api_job *j = ctx;

	cJSON_Delete(j->result);
	j->result = vgl_view_interval_json(iv);
	return 1;
}

static void interval_add(struct api_job *j)
{
	const char *host = body_str(j, "host");
	struct vgl_query_add a = { .cause = body_str(j, "cause"), .note = body_str(j, "note"),
				   .user = j->user, .now_ms = j->now_ms };
	struct vgl_query_filter f;
	int64_t id = 0;
	enum vgl_query_add_result rc;

	if (body_time(j, "start", &a.start_ms) != 0 || body_time(j, "end", &a.end_ms) != 0) {
		if (!j->status)
			fail(j, 400, "%s", "missing \"start\" or \"end\"");
		return;
	}
	if (!host || !(a.host = vgl_conf_find_host(j->conf, host))) {
		fail(j, host ? 404 : 400, host ? "unknown host '%s'" : "%s",
		     host ? host : "missing \"host\"");
		return;
	}
	if (!a.cause || !vgl_cause_valid(a.cause)) {
		fail(j, 400, "unknown cause '%s' (network hardware power facility maintenance "
		     "customer ...: docs/cli.md)", a.cause ? a.cause : "");
		return;
	}
	if (!a.note || !*a.note) {
		fail(j, 400, "%s", "missing \"note\": where the outage is known from");
		return;
	}
	rc = vgl_query_interval_add(j->db->q, &a, &id, j->err, sizeof(j->err));
	if (rc != VGL_QUERY_ADD_OK) {
		j->status = rc == VGL_QUERY_ADD_REFUSED ? 409 : 500;
		return;
	}
	/* Answer with the stored row, as `vigil intervals --json` shows it. */
	vgl_query_filter_init(&f);
	f.host = host;
	f.from_ms = a.start_ms;
	f.to_ms = a.end_ms;
	vgl_query_intervals(j->db->q, &f, on_added, j, j->err, sizeof(j->err));
	j->status = 201;
}

static void reclassify(struct api_job *j)
{
	char by[96];
	struct vgl_query_reclassify r = { .interval_id = j->id, .cause = body_str(j, "cause"),
					  .note = body_str(j, "note"), .by = by,
					  .now_ms = j->now_ms };
	struct vgl_query_reclassified out = { 0 };
	enum vgl_query_add_result rc;

	snprintf(by, sizeof(by), "operator:%s", j->user);
	if (!r.cause || !vgl_cause_valid(r.cause)) {
		fail(j, 400, "unknown cause '%s'", r.cause ? r.cause : "");
		return;
	}
	if (!r.note || !*r.note) {
		fail(j, 400, "%s", "missing \"note\": why the cause is changed");
		return;
	}
	rc = vgl_query_interval_reclassify(j->db->q, &r, &out, j->err, sizeof(j->err));
	if (rc != VGL_QUERY_ADD_OK) {
		j->status = rc == VGL_QUERY_ADD_REFUSED ? strstr(j->err, "no such") ? 404 : 409
							: 500;
		vgl_query_reclassified_clear(&out);
		return;
	}
	cJSON_Delete(j->result);
	if ((j->result = cJSON_CreateObject()) &&
	    (vgl_jput_num(j->result, "id", j->id) || vgl_jput_str(j->result, "host", out.host) ||
	     vgl_jput_str(j->result, "old_cause", out.old_cause) ||
	     vgl_jput_str(j->result, "new_cause", r.cause) || vgl_jput_str(j->result, "by", by) ||
	     vgl_jput_str(j->result, "note", r.note) ||
	     vgl_jput_time(j->result, "ts", j->now_ms, 1))) {
		cJSON_Delete(j->result);
		j->result = NULL;
	}
	vgl_query_reclassified_clear(&out);
	j->status = 200;
}

void vgl__api_db_run(struct api_job *j, const char *db_path)
{
	static void (*const fns[])(struct api_job *) = {
		[AK_HOSTS] = hosts, [AK_HOST] = host_detail, [AK_ALARMS] = alarms,
		[AK_ALARM] = alarm_one, [AK_INTERVALS] = intervals, [AK_SLA] = sla,
		[AK_MAINT] = maints, [AK_SILENCES] = silences, [AK_ACK] = ack,
		[AK_COMMENT] = comment, [AK_SILENCE_ADD] = silence_add,
		[AK_SILENCE_REMOVE] = silence_remove, [AK_MAINT_ADD] = maint_add,
		[AK_MAINT_CANCEL] = maint_cancel, [AK_INTERVAL_ADD] = interval_add,
		[AK_RECLASSIFY] = reclassify,
	};

	if (db_open(j->db, db_path, j->err, sizeof(j->err)) != 0) {
		j->status = 503;
		return;
	}
	if (!(j->result = cJSON_CreateArray())) {
		fail(j, 500, "%s", "out of memory");
		return;
	}
	fns[j->kind](j);
	if (!j->status)
		j->status = 200;
	/* A database that cannot be read now (locked past the timeout, I/O)
	 * is a server-side failure; a fresh connection next time. */
	if (j->status >= 500)
		db_close(j->db);
}
