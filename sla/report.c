/* The report object of one host-month, and the case document that feeds
 * the same computation without a database (docs/sla.md). */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/utf8.h"
#include "core/vtime.h"
#include "sla/jw.h"
#include "sla/report.h"

static const char *const kind_names[] = { "availability", "block_errors", "cycle_errors" };

/* ---- writing the report ---- */

static double pct_of_e4(int64_t e4)
{
	return (double)e4 / 10000;
}

static void key_int(struct vgl_jw *w, struct vgl_jw_key k, int64_t v)
{
	vgl_jw_key_lit(w, k);
	vgl_jw_int(w, v);
}

static void key_num(struct vgl_jw *w, struct vgl_jw_key k, double v)
{
	vgl_jw_key_lit(w, k);
	vgl_jw_num(w, v);
}

static void key_str(struct vgl_jw *w, struct vgl_jw_key k, const char *v)
{
	vgl_jw_key_lit(w, k);
	vgl_jw_str(w, v);
}

static void key_bool(struct vgl_jw *w, struct vgl_jw_key k, int v)
{
	vgl_jw_key_lit(w, k);
	vgl_jw_bool(w, v);
}

static void key_time(struct vgl_jw *w, struct vgl_jw_key k, int64_t ms)
{
	vgl_jw_key_lit(w, k);
	vgl_jw_time(w, ms);
}

static void key_null(struct vgl_jw *w, struct vgl_jw_key k)
{
	vgl_jw_key_lit(w, k);
	vgl_jw_null(w);
}

static void part_json(void *ctx, const struct vgl_sla_part *p)
{
	struct vgl_jw *w = ctx;

	vgl_jw_obj(w);
	if (p->iv->id)
		key_int(w, VGL_JW_KEY("id"), p->iv->id);
	else
		key_null(w, VGL_JW_KEY("id"));
	key_str(w, VGL_JW_KEY("cause"), vgl_cause_str(p->iv->cause));
	key_time(w, VGL_JW_KEY("start"), p->iv->start_ms);
	if (p->iv->end_ms == VGL_SLA_OPEN)
		key_null(w, VGL_JW_KEY("end"));
	else
		key_time(w, VGL_JW_KEY("end"), p->iv->end_ms);
	key_time(w, VGL_JW_KEY("in_period_start"), p->start_ms);
	key_time(w, VGL_JW_KEY("in_period_end"), p->end_ms);
	key_int(w, VGL_JW_KEY("in_period_ms"), p->end_ms - p->start_ms);
	key_bool(w, VGL_JW_KEY("counted"), p->counted);
	key_int(w, VGL_JW_KEY("maint_excluded_ms"), p->maint_excluded_ms);
	key_str(w, VGL_JW_KEY("note"), p->iv->note);
	key_str(w, VGL_JW_KEY("rule"), p->iv->rule);
	vgl_jw_obj_end(w);
}

static void maint_json(void *ctx, const struct vgl_sla_maint_part *mp)
{
	struct vgl_jw *w = ctx;

	vgl_jw_obj(w);
	if (mp->m->id)
		key_int(w, VGL_JW_KEY("id"), mp->m->id);
	else
		key_null(w, VGL_JW_KEY("id"));
	key_str(w, VGL_JW_KEY("kind"), mp->m->kind == VGL_MAINT_PLANNED ? "planned" : "emergency");
	key_time(w, VGL_JW_KEY("start"), mp->m->start_ms);
	key_time(w, VGL_JW_KEY("end"), mp->m->end_ms);
	key_time(w, VGL_JW_KEY("announced"), mp->m->announced_ms);
	key_int(w, VGL_JW_KEY("notice_ms"), mp->notice_ms);
	key_bool(w, VGL_JW_KEY("qualifies"), mp->qualifies);
	key_int(w, VGL_JW_KEY("excluded_ms"), mp->excluded_ms);
	key_str(w, VGL_JW_KEY("note"), mp->m->note);
	vgl_jw_obj_end(w);
}

void vgl_sla_report_fields(struct vgl_jw *w, const char *host, const char *month,
			   const struct vgl_sla_calc *c, const struct vgl_sla_result *r,
			   int with_coverage)
{
	const struct vgl_sla_policy *p = vgl_sla_calc_policy(c);
	char frac[48];

	key_str(w, VGL_JW_KEY("host"), host);
	key_str(w, VGL_JW_KEY("month"), month);
	key_str(w, VGL_JW_KEY("policy"), p->name);
	key_str(w, VGL_JW_KEY("kind"), kind_names[p->kind]);
	key_str(w, VGL_JW_KEY("tz"), p->tz);
	key_num(w, VGL_JW_KEY("commitment_pct"), pct_of_e4(p->commitment_e4));
	key_time(w, VGL_JW_KEY("month_start"), r->month_start_ms);
	key_time(w, VGL_JW_KEY("month_end"), r->month_end_ms);
	key_time(w, VGL_JW_KEY("period_start"), r->period_start_ms);
	key_time(w, VGL_JW_KEY("period_end"), r->period_end_ms);
	key_int(w, VGL_JW_KEY("month_ms"), r->month_ms);
	key_int(w, VGL_JW_KEY("period_ms"), r->period_ms);
	key_bool(w, VGL_JW_KEY("partial"), r->partial);
	key_bool(w, VGL_JW_KEY("in_progress"), r->in_progress);
	key_bool(w, VGL_JW_KEY("begun"), r->begun);
	key_time(w, VGL_JW_KEY("as_of"), r->as_of_ms);
	key_int(w, VGL_JW_KEY("allowance_ms"), r->allowance_ms);
	key_int(w, VGL_JW_KEY("allowance_left_ms"), r->allowance_left_ms);
	key_int(w, VGL_JW_KEY("downtime_ms"), r->downtime_ms);
	key_int(w, VGL_JW_KEY("counted_ms"), r->counted_ms);
	key_int(w, VGL_JW_KEY("maint_excluded_ms"), r->maint_excluded_ms);
	vgl_jw_key_lit(w, VGL_JW_KEY("excluded_ms"));
	vgl_jw_obj(w);
	for (int i = 0; i < VGL_CAUSE_COUNT; i++) {
		if (p->counted & (1u << i))
			continue;
		vgl_jw_key(w, vgl_cause_str(i));
		vgl_jw_int(w, r->excluded_ms[i]);
	}
	vgl_jw_obj_end(w);
	key_num(w, VGL_JW_KEY("uptime_pct"), r->uptime_pct);
	if (r->up_exact) {
		snprintf(frac, sizeof(frac), "%" PRId64 "/%" PRId64, r->up_num, r->up_den);
		key_str(w, VGL_JW_KEY("uptime_fraction"), frac);
	} else {
		key_null(w, VGL_JW_KEY("uptime_fraction"));
	}
	key_bool(w, VGL_JW_KEY("breached"), r->breached);
	if (r->band >= 0) {
		key_int(w, VGL_JW_KEY("band"), r->band);
		key_num(w, VGL_JW_KEY("band_from_pct"), pct_of_e4(p->bands[r->band].from_e4));
		key_num(w, VGL_JW_KEY("band_to_pct"), pct_of_e4(p->bands[r->band].to_e4));
	} else {
		key_null(w, VGL_JW_KEY("band"));
		key_null(w, VGL_JW_KEY("band_from_pct"));
		key_null(w, VGL_JW_KEY("band_to_pct"));
	}
	key_int(w, VGL_JW_KEY("credit"), r->credit);
	key_str(w, VGL_JW_KEY("credit_unit"), p->unit == VGL_CREDIT_DAYS ? "days" : "percent");
	if (with_coverage) {
		key_num(w, VGL_JW_KEY("coverage_pct"), r->coverage_pct);
		key_int(w, VGL_JW_KEY("observed_ms"), r->observed_ms);
	} else {
		key_null(w, VGL_JW_KEY("coverage_pct"));
		key_null(w, VGL_JW_KEY("observed_ms"));
	}
	if (p->kind != VGL_SLA_AVAILABILITY) {
		/* Counters above 2^53 lose their last digits as JSON numbers
		 * (as the doubles they were printed from before); the decision
		 * itself was made on the integers. */
		key_num(w, VGL_JW_KEY("requests"), (double)r->requests);
		key_num(w, VGL_JW_KEY("failures"), (double)r->failures);
		if (p->kind == VGL_SLA_BLOCK_ERRORS) {
			key_int(w, VGL_JW_KEY("blocks"), r->blocks);
			key_num(w, VGL_JW_KEY("avg_block_error_pct"), r->blocks_failed_rate_pct);
		} else {
			key_num(w, VGL_JW_KEY("error_pct"), r->requests ? (double)r->failures * 100 /
								      (double)r->requests
							    : 0.0);
		}
	}
	vgl_jw_key_lit(w, VGL_JW_KEY("intervals"));
	vgl_jw_arr(w);
	vgl_sla_calc_each_part(c, part_json, w);
	vgl_jw_arr_end(w);
	vgl_jw_key_lit(w, VGL_JW_KEY("maintenance"));
	vgl_jw_arr(w);
	vgl_sla_calc_each_maint(c, maint_json, w);
	vgl_jw_arr_end(w);
}

/* The writer's text parsed back: one formatting of the object for both
 * the streamed report and this tree, so they cannot drift apart. */
cJSON *vgl_sla_report_json(const char *host, const char *month, const struct vgl_sla_calc *c,
			   const struct vgl_sla_result *r, int with_coverage)
{
	struct vgl_jw *w = vgl_jw_new(NULL);
	const char *text;
	cJSON *o = NULL;

	if (!w)
		return NULL;
	vgl_jw_obj(w);
	vgl_sla_report_fields(w, host, month, c, r, with_coverage);
	vgl_jw_obj_end(w);
	text = vgl_jw_text(w, NULL);
	if (text)
		o = cJSON_Parse(text);
	vgl_jw_free(w);
	return o;
}

/* ---- reading documents ---- */

static int errf(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int errf(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

/* Only keys in the NULL-terminated list: a misspelt key would otherwise
 * be ignored and silently change the numbers. */
static int check_keys(const cJSON *o, const char *const *keys, const char *path, char *err,
		      size_t errlen)
{
	const cJSON *it;

	cJSON_ArrayForEach(it, o) {
		size_t i;

		for (i = 0; keys[i]; i++)
			if (strcmp(keys[i], it->string) == 0)
				break;
		if (!keys[i])
			return errf(err, errlen, "%s%sunknown key \"%s\"", path, *path ? ": " : "",
				    it->string);
	}
	return 0;
}

static int get_pct(const cJSON *v, int64_t *out)
{
	if (cJSON_IsString(v))
		return vgl_sla_pct_parse(v->valuestring, strlen(v->valuestring), out);
	if (cJSON_IsNumber(v)) {
		double x = v->valuedouble;
		long long e4;
		char txt[32];

		if (!(x >= 0 && x <= 100))
			return -1;
		e4 = llround(x * 10000);
		/* The number is accepted when it is the very double of a
		 * decimal with at most 4 decimals: the same JSON number. */
		snprintf(txt, sizeof(txt), "%lld.%04lld", e4 / 10000, e4 % 10000);
		if (strtod(txt, NULL) != x)
			return -1;
		*out = e4;
		return 0;
	}
	return -1;
}

/* An integer JSON number in [lo, hi]. */
static int get_int(const cJSON *v, int64_t lo, int64_t hi, int64_t *out)
{
	double x;

	if (!cJSON_IsNumber(v))
		return -1;
	x = v->valuedouble;
	if (!(x >= -9007199254740992.0 && x <= 9007199254740992.0) || x != floor(x))
		return -1;
	if ((int64_t)x < lo || (int64_t)x > hi)
		return -1;
	*out = (int64_t)x;
	return 0;
}

/* A counter value: a JSON integer, or a string of digits for values past
 * 2^53 that a double cannot hold. */
static int get_u64(const cJSON *v, uint64_t *out)
{
	int64_t i;

	if (cJSON_IsString(v)) {
		const char *s = v->valuestring;
		uint64_t x = 0;

		if (!*s)
			return -1;
		for (; *s; s++) {
			if (*s < '0' || *s > '9' || x > (UINT64_MAX - (uint64_t)(*s - '0')) / 10)
				return -1;
			x = x * 10 + (uint64_t)(*s - '0');
		}
		*out = x;
		return 0;
	}
	if (get_int(v, 0, INT64_MAX, &i))
		return -1;
	*out = (uint64_t)i;
	return 0;
}

/* ISO-8601 text or integer milliseconds, within the one range of times
 * (daemon/vtime.h): 1970-01-01 to the end of 9998. */
static int get_time(const cJSON *v, int64_t *out)
{
	/* 9999-01-01T00:00:00Z */
	const int64_t max_ms = 253370764800000LL;

	if (cJSON_IsString(v))
		return vgl_parse_iso(v->valuestring, out);
	return get_int(v, 0, max_ms - 1, out);
}

static int cause_mask(const cJSON *arr, uint32_t *mask, const char *key, char *err, size_t errlen)
{
	const cJSON *it;
	int i = 0;

	if (!cJSON_IsArray(arr))
		return errf(err, errlen, "%s: expected an array of causes", key);
	*mask = 0;
	cJSON_ArrayForEach(it, arr) {
		int c = cJSON_IsString(it) ? vgl_cause_index(it->valuestring) : -1;

		if (c < 0)
			return errf(err, errlen, "%s[%d]: expected one of " VGL_CAUSE_LIST, key, i);
		*mask |= 1u << c;
		i++;
	}
	return 0;
}

/* A duration given in one of two units under two names; absent: keep. */
static int get_dur(const cJSON *o, const char *k1, int64_t u1, const char *k2, int64_t u2,
		   int64_t *out, char *err, size_t errlen)
{
	const cJSON *a = cJSON_GetObjectItemCaseSensitive(o, k1);
	const cJSON *b = cJSON_GetObjectItemCaseSensitive(o, k2);
	int64_t v;

	if (a && b)
		return errf(err, errlen, "%s: give either %s or %s", k1, k1, k2);
	if (!a && !b)
		return 0;
	if (get_int(a ? a : b, 0, INT64_MAX / 1000 / 3600, &v))
		return errf(err, errlen, "%s: expected a non-negative integer", a ? k1 : k2);
	*out = v * (a ? u1 : u2);
	return 0;
}

static const cJSON *either(const cJSON *o, const char *k1, const char *k2, const char **which,
			   char *err, size_t errlen, int *rc)
{
	const cJSON *a = cJSON_GetObjectItemCaseSensitive(o, k1);
	const cJSON *b = cJSON_GetObjectItemCaseSensitive(o, k2);

	*rc = 0;
	if (a && b)
		*rc = errf(err, errlen, "%s: give either %s or %s", k1, k1, k2);
	*which = a ? k1 : k2;
	return a ? a : b;
}

int vgl_sla_policy_from_json(const cJSON *obj, struct vgl_sla_policy *out, char *err, size_t errlen)
{
	static const char *const keys[] = {
		"base", "preset", "name", "kind", "commitment", "bands", "unit", "credit_unit",
		"counted", "counted_causes", "notice_planned_s", "notice_planned_h",
		"notice_emergency_s", "notice_emergency_min", "maint_cap_s", "maintenance_cap_min",
		"tz", NULL,
	};
	struct vgl_sla_policy p;
	const cJSON *v;
	const char *which;
	int rc;

	if (!cJSON_IsObject(obj))
		return errf(err, errlen, "expected a preset name or a policy object");
	if ((rc = check_keys(obj, keys, "", err, errlen)))
		return rc;
	v = either(obj, "base", "preset", &which, err, errlen, &rc);
	if (rc)
		return rc;
	if (v) {
		const struct vgl_sla_policy *b = cJSON_IsString(v) ? vgl_sla_preset(v->valuestring) : NULL;

		if (!b)
			return errf(err, errlen, "%s: expected a preset: vserver vlb vdb vbaremetal "
				    "vstorage vcdn vcs", which);
		p = *b;
	} else {
		/* The presets' defaults for what a contract rarely changes. */
		p = *vgl_sla_preset("vserver");
		snprintf(p.name, sizeof(p.name), "custom");
		p.n_bands = 0;
		p.commitment_e4 = 0;
		if (!cJSON_GetObjectItemCaseSensitive(obj, "commitment"))
			return errf(err, errlen, "commitment: required without a base");
		if (!cJSON_GetObjectItemCaseSensitive(obj, "bands"))
			return errf(err, errlen, "bands: required without a base");
	}
	if ((v = cJSON_GetObjectItemCaseSensitive(obj, "name"))) {
		if (!cJSON_IsString(v) || !*v->valuestring || strlen(v->valuestring) >= sizeof(p.name))
			return errf(err, errlen, "name: expected a string of 1-%zu characters",
				    sizeof(p.name) - 1);
		snprintf(p.name, sizeof(p.name), "%s", v->valuestring);
	}
	if ((v = cJSON_GetObjectItemCaseSensitive(obj, "kind"))) {
		size_t k;

		for (k = 0; k < 3; k++)
			if (cJSON_IsString(v) && strcmp(v->valuestring, kind_names[k]) == 0)
				break;
		if (k == 3)
			return errf(err, errlen, "kind: expected availability, block_errors or cycle_errors");
		p.kind = (enum vgl_sla_kind)k;
	}
	if ((v = cJSON_GetObjectItemCaseSensitive(obj, "commitment")) && get_pct(v, &p.commitment_e4))
		return errf(err, errlen, "commitment: expected a percentage 0-100 with at most 4 decimals");
	if ((v = cJSON_GetObjectItemCaseSensitive(obj, "bands"))) {
		static const char *const bkeys[] = { "from", "to", "credit", NULL };
		const cJSON *b;
		int i = 0;
		char path[32];

		if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) > VGL_SLA_MAX_BANDS)
			return errf(err, errlen, "bands: expected an array of at most %d bands",
				    VGL_SLA_MAX_BANDS);
		cJSON_ArrayForEach(b, v) {
			struct vgl_sla_band *band = &p.bands[i];

			snprintf(path, sizeof(path), "bands[%d]", i);
			if (!cJSON_IsObject(b))
				return errf(err, errlen, "%s: expected an object {from, to, credit}", path);
			if ((rc = check_keys(b, bkeys, path, err, errlen)))
				return rc;
			if (get_pct(cJSON_GetObjectItemCaseSensitive(b, "from"), &band->from_e4))
				return errf(err, errlen, "%s.from: expected a percentage 0-100 with at "
					    "most 4 decimals", path);
			if (get_pct(cJSON_GetObjectItemCaseSensitive(b, "to"), &band->to_e4))
				return errf(err, errlen, "%s.to: expected a percentage 0-100 with at "
					    "most 4 decimals", path);
			if (get_int(cJSON_GetObjectItemCaseSensitive(b, "credit"), 0, 1000000,
				    &band->credit))
				return errf(err, errlen, "%s.credit: expected an integer 0-1000000", path);
			i++;
		}
		p.n_bands = (size_t)i;
	}
	v = either(obj, "unit", "credit_unit", &which, err, errlen, &rc);
	if (rc)
		return rc;
	if (v) {
		if (cJSON_IsString(v) && strcmp(v->valuestring, "percent") == 0)
			p.unit = VGL_CREDIT_PERCENT;
		else if (cJSON_IsString(v) && strcmp(v->valuestring, "days") == 0)
			p.unit = VGL_CREDIT_DAYS;
		else
			return errf(err, errlen, "%s: expected \"percent\" or \"days\"", which);
	}
	v = either(obj, "counted", "counted_causes", &which, err, errlen, &rc);
	if (rc)
		return rc;
	if (v && (rc = cause_mask(v, &p.counted, which, err, errlen)))
		return rc;
	if ((rc = get_dur(obj, "notice_planned_s", 1000, "notice_planned_h", 3600000,
			  &p.notice_ms[VGL_MAINT_PLANNED], err, errlen)) ||
	    (rc = get_dur(obj, "notice_emergency_s", 1000, "notice_emergency_min", 60000,
			  &p.notice_ms[VGL_MAINT_EMERGENCY], err, errlen)) ||
	    (rc = get_dur(obj, "maint_cap_s", 1000, "maintenance_cap_min", 60000, &p.maint_cap_ms,
			  err, errlen)))
		return rc;
	if ((v = cJSON_GetObjectItemCaseSensitive(obj, "tz"))) {
		if (!cJSON_IsString(v) || !vgl_sla_tz_valid(v->valuestring))
			return errf(err, errlen, "tz: expected a zone under /usr/share/zoneinfo "
				    "(\"UTC\", \"Asia/Ho_Chi_Minh\")");
		snprintf(p.tz, sizeof(p.tz), "%s", v->valuestring);
	}
	if ((rc = vgl_sla_policy_check(&p, err, errlen)))
		return rc;
	*out = p;
	return 0;
}

/* ---- case documents ---- */

struct doc {
	struct vgl_sla_policy policy;
	char month[8];
	int year, mon;
	int64_t now;
	int64_t svc_start, svc_end;
	const char *host;
	int bits;
};

static int doc_head(const cJSON *root, int64_t real_now, struct doc *d, char *err, size_t errlen)
{
	static const char *const keys[] = {
		"policy", "tz", "month", "now", "intervals", "maintenance", "counters",
		"counter_bits", "observed", "service_start", "service_end", "host", NULL,
	};
	const cJSON *v;
	int64_t bits;
	int rc;

	if (!cJSON_IsObject(root))
		return errf(err, errlen, "expected a JSON object");
	if ((rc = check_keys(root, keys, "", err, errlen)))
		return rc;
	v = cJSON_GetObjectItemCaseSensitive(root, "policy");
	if (!v)
		return errf(err, errlen, "policy: required (a preset name or a policy object)");
	if (cJSON_IsString(v)) {
		const struct vgl_sla_policy *p = vgl_sla_preset(v->valuestring);

		if (!p)
			return errf(err, errlen, "policy: unknown preset \"%s\" (vserver vlb vdb "
				    "vbaremetal vstorage vcdn vcs, or an inline policy object)",
				    v->valuestring);
		d->policy = *p;
	} else {
		char sub[200];

		if ((rc = vgl_sla_policy_from_json(v, &d->policy, sub, sizeof(sub))))
			return errf(err, errlen, "policy.%s", sub);
	}
	if ((v = cJSON_GetObjectItemCaseSensitive(root, "tz"))) {
		if (!cJSON_IsString(v) || !vgl_sla_tz_valid(v->valuestring))
			return errf(err, errlen, "tz: expected a zone under /usr/share/zoneinfo "
				    "(\"UTC\", \"Asia/Ho_Chi_Minh\")");
		snprintf(d->policy.tz, sizeof(d->policy.tz), "%s", v->valuestring);
	}
	v = cJSON_GetObjectItemCaseSensitive(root, "month");
	if (!cJSON_IsString(v) || vgl_sla_month_parse(v->valuestring, &d->year, &d->mon))
		return errf(err, errlen, "month: required, \"YYYY-MM\"");
	snprintf(d->month, sizeof(d->month), "%s", v->valuestring);
	d->now = real_now;
	if ((v = cJSON_GetObjectItemCaseSensitive(root, "now")) && get_time(v, &d->now))
		return errf(err, errlen, "now: expected an ISO-8601 time");
	if ((v = cJSON_GetObjectItemCaseSensitive(root, "service_start")) && !cJSON_IsNull(v) &&
	    get_time(v, &d->svc_start))
		return errf(err, errlen, "service_start: expected an ISO-8601 time or null");
	if ((v = cJSON_GetObjectItemCaseSensitive(root, "service_end")) && !cJSON_IsNull(v) &&
	    get_time(v, &d->svc_end))
		return errf(err, errlen, "service_end: expected an ISO-8601 time or null");
	if (d->svc_start && d->svc_end && d->svc_end <= d->svc_start)
		return errf(err, errlen, "service_end: not after service_start");
	if ((v = cJSON_GetObjectItemCaseSensitive(root, "host")) && !cJSON_IsNull(v)) {
		if (!cJSON_IsString(v))
			return errf(err, errlen, "host: expected a string");
		d->host = v->valuestring;
	}
	d->bits = 64;
	if ((v = cJSON_GetObjectItemCaseSensitive(root, "counter_bits"))) {
		if (get_int(v, 32, 64, &bits) || (bits != 32 && bits != 64))
			return errf(err, errlen, "counter_bits: expected 32 or 64");
		d->bits = (int)bits;
	}
	return 0;
}

static const cJSON *arr_of(const cJSON *root, const char *key, int *rc, char *err, size_t errlen)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, key);

	*rc = 0;
	if (v && !cJSON_IsArray(v))
		*rc = errf(err, errlen, "%s: expected an array", key);
	return v;
}

static int feed_intervals(struct vgl_sla_calc *c, const cJSON *a, char *err, size_t errlen)
{
	static const char *const keys[] = { "id", "cause", "start", "end", "note", "rule", NULL };
	const cJSON *it;
	int i = 0, rc;
	char path[32];

	cJSON_ArrayForEach(it, a) {
		struct vgl_sla_interval iv = { 0 };
		const cJSON *v;

		snprintf(path, sizeof(path), "intervals[%d]", i);
		if (!cJSON_IsObject(it))
			return errf(err, errlen, "%s: expected an object", path);
		if ((rc = check_keys(it, keys, path, err, errlen)))
			return rc;
		v = cJSON_GetObjectItemCaseSensitive(it, "cause");
		iv.cause = cJSON_IsString(v) ? vgl_cause_index(v->valuestring) : -1;
		if (iv.cause < 0)
			return errf(err, errlen, "%s.cause: expected one of " VGL_CAUSE_LIST, path);
		if (get_time(cJSON_GetObjectItemCaseSensitive(it, "start"), &iv.start_ms))
			return errf(err, errlen, "%s.start: expected an ISO-8601 time", path);
		v = cJSON_GetObjectItemCaseSensitive(it, "end");
		if (!v || cJSON_IsNull(v))
			iv.end_ms = VGL_SLA_OPEN;
		else if (get_time(v, &iv.end_ms))
			return errf(err, errlen, "%s.end: expected an ISO-8601 time or null", path);
		else if (iv.end_ms < iv.start_ms)
			return errf(err, errlen, "%s.end: before start", path);
		if ((v = cJSON_GetObjectItemCaseSensitive(it, "id")) && get_int(v, 1, INT64_MAX, &iv.id))
			return errf(err, errlen, "%s.id: expected a positive integer", path);
		if ((v = cJSON_GetObjectItemCaseSensitive(it, "note")) && !cJSON_IsNull(v)) {
			if (!cJSON_IsString(v))
				return errf(err, errlen, "%s.note: expected a string", path);
			iv.note = v->valuestring;
		}
		if ((v = cJSON_GetObjectItemCaseSensitive(it, "rule")) && !cJSON_IsNull(v)) {
			if (!cJSON_IsString(v))
				return errf(err, errlen, "%s.rule: expected a string", path);
			iv.rule = v->valuestring;
		}
		if ((rc = vgl_sla_calc_add_interval(c, &iv)))
			return rc == -ENOMEM ? rc : errf(err, errlen, "%s: refused", path);
		i++;
	}
	return 0;
}

static int feed_maint(struct vgl_sla_calc *c, const cJSON *a, char *err, size_t errlen)
{
	static const char *const keys[] = { "id", "kind", "start", "end", "announced", "note", NULL };
	const cJSON *it;
	int i = 0, rc;
	char path[32];

	cJSON_ArrayForEach(it, a) {
		struct vgl_sla_maint m = { 0 };
		const cJSON *v;

		snprintf(path, sizeof(path), "maintenance[%d]", i);
		if (!cJSON_IsObject(it))
			return errf(err, errlen, "%s: expected an object", path);
		if ((rc = check_keys(it, keys, path, err, errlen)))
			return rc;
		v = cJSON_GetObjectItemCaseSensitive(it, "kind");
		if (cJSON_IsString(v) && strcmp(v->valuestring, "planned") == 0)
			m.kind = VGL_MAINT_PLANNED;
		else if (cJSON_IsString(v) && strcmp(v->valuestring, "emergency") == 0)
			m.kind = VGL_MAINT_EMERGENCY;
		else
			return errf(err, errlen, "%s.kind: expected \"planned\" or \"emergency\"", path);
		if (get_time(cJSON_GetObjectItemCaseSensitive(it, "start"), &m.start_ms))
			return errf(err, errlen, "%s.start: expected an ISO-8601 time", path);
		if (get_time(cJSON_GetObjectItemCaseSensitive(it, "end"), &m.end_ms))
			return errf(err, errlen, "%s.end: expected an ISO-8601 time", path);
		if (m.end_ms <= m.start_ms)
			return errf(err, errlen, "%s.end: not after start", path);
		if (get_time(cJSON_GetObjectItemCaseSensitive(it, "announced"), &m.announced_ms))
			return errf(err, errlen, "%s.announced: expected an ISO-8601 time", path);
		if ((v = cJSON_GetObjectItemCaseSensitive(it, "id")) && get_int(v, 1, INT64_MAX, &m.id))
			return errf(err, errlen, "%s.id: expected a positive integer", path);
		if ((v = cJSON_GetObjectItemCaseSensitive(it, "note")) && !cJSON_IsNull(v)) {
			if (!cJSON_IsString(v))
				return errf(err, errlen, "%s.note: expected a string", path);
			m.note = v->valuestring;
		}
		if ((rc = vgl_sla_calc_add_maint(c, &m)))
			return rc == -ENOMEM ? rc : errf(err, errlen, "%s: refused", path);
		i++;
	}
	return 0;
}

static int feed_counters(struct vgl_sla_calc *c, const cJSON *a, int bits, char *err, size_t errlen)
{
	static const char *const keys[] = { "ts", "total", "failed", NULL };
	const cJSON *it;
	int i = 0, rc;
	char path[32];

	cJSON_ArrayForEach(it, a) {
		struct vgl_sla_counter s;

		snprintf(path, sizeof(path), "counters[%d]", i);
		if (!cJSON_IsObject(it))
			return errf(err, errlen, "%s: expected an object {ts, total, failed}", path);
		if ((rc = check_keys(it, keys, path, err, errlen)))
			return rc;
		if (get_time(cJSON_GetObjectItemCaseSensitive(it, "ts"), &s.ts_ms))
			return errf(err, errlen, "%s.ts: expected an ISO-8601 time", path);
		if (get_u64(cJSON_GetObjectItemCaseSensitive(it, "total"), &s.total))
			return errf(err, errlen, "%s.total: expected a non-negative integer", path);
		if (get_u64(cJSON_GetObjectItemCaseSensitive(it, "failed"), &s.failed))
			return errf(err, errlen, "%s.failed: expected a non-negative integer", path);
		if (bits == 32 && (s.total >> 32 || s.failed >> 32))
			return errf(err, errlen, "%s: value above 2^32-1 with counter_bits 32", path);
		if ((rc = vgl_sla_calc_add_counter(c, &s, bits)))
			return rc;
		i++;
	}
	return 0;
}

static int feed_observed(struct vgl_sla_calc *c, const cJSON *a, char *err, size_t errlen)
{
	static const char *const keys[] = { "start", "end", NULL };
	const cJSON *it;
	int i = 0, rc;
	char path[32];

	cJSON_ArrayForEach(it, a) {
		int64_t s, e;

		snprintf(path, sizeof(path), "observed[%d]", i);
		if (!cJSON_IsObject(it))
			return errf(err, errlen, "%s: expected an object {start, end}", path);
		if ((rc = check_keys(it, keys, path, err, errlen)))
			return rc;
		if (get_time(cJSON_GetObjectItemCaseSensitive(it, "start"), &s))
			return errf(err, errlen, "%s.start: expected an ISO-8601 time", path);
		if (get_time(cJSON_GetObjectItemCaseSensitive(it, "end"), &e) || e < s)
			return errf(err, errlen, "%s.end: expected an ISO-8601 time not before start", path);
		if ((rc = vgl_sla_calc_add_observed(c, s, e)))
			return rc;
		i++;
	}
	return 0;
}

static int cmp_keyp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Every object of the tree, its keys sorted: n log n per object, so an
 * object of a million keys is no quadratic trap. 0, or an errf. */
static int no_dup_keys(const cJSON *node, const char *path, char *err, size_t errlen)
{
	const cJSON *c;
	size_t n = 0, i = 0;
	int rc = 0;

	for (c = node->child; c; c = c->next)
		n++;
	if (cJSON_IsObject(node) && n > 1) {
		const char **keys = malloc(n * sizeof(*keys));

		if (!keys)
			return -ENOMEM;
		for (c = node->child; c; c = c->next)
			keys[i++] = c->string ? c->string : "";
		qsort(keys, n, sizeof(*keys), cmp_keyp);
		for (i = 1; i < n && !rc; i++)
			if (strcmp(keys[i - 1], keys[i]) == 0)
				rc = errf(err, errlen, "%s%sduplicate key \"%s\"", path,
					  *path ? ": " : "", keys[i]);
		free(keys);
		if (rc)
			return rc;
	}
	i = 0;
	for (c = node->child; c && !rc; c = c->next, i++) {
		char sub[160];

		if (!cJSON_IsObject(c) && !cJSON_IsArray(c))
			continue;
		if (cJSON_IsArray(node))
			snprintf(sub, sizeof(sub), "%s[%zu]", path, i);
		else
			snprintf(sub, sizeof(sub), "%s%s%s", path, *path ? "." : "", c->string);
		rc = no_dup_keys(c, sub, err, errlen);
	}
	return rc;
}

int vgl_sla_case_run(const char *json_text, int64_t real_now_ms, cJSON **out, char *err,
		     size_t errlen)
{
	struct doc d = { 0 };
	struct vgl_sla_result r;
	struct vgl_sla_calc *c;
	const cJSON *iv, *mt = NULL, *ct = NULL, *ob = NULL;
	int64_t m0, m1;
	cJSON *root;
	int rc;

	*out = NULL;
	{
		size_t n = strlen(json_text), bad = vgl_utf8_check(json_text, n);

		if (bad < n)
			return errf(err, errlen, "not valid UTF-8 at byte offset %zu (0x%02x)", bad,
				    (unsigned char)json_text[bad]);
	}
	root = cJSON_Parse(json_text);
	if (!root)
		return errf(err, errlen, "not valid JSON near \"%.20s\"",
			    cJSON_GetErrorPtr() ? cJSON_GetErrorPtr() : "");
	/* cJSON keeps every member and answers with the first: a document
	 * naming "now" twice would silently be read one way. */
	if ((rc = no_dup_keys(root, "", err, errlen)))
		goto out_delete_root;
	if ((rc = doc_head(root, real_now_ms, &d, err, errlen)))
		goto out_delete_root;
	iv = arr_of(root, "intervals", &rc, err, errlen);
	if (!rc)
		mt = arr_of(root, "maintenance", &rc, err, errlen);
	if (!rc)
		ct = arr_of(root, "counters", &rc, err, errlen);
	if (!rc)
		ob = arr_of(root, "observed", &rc, err, errlen);
	if (rc)
		goto out_delete_root;
	if (vgl_sla_month_bounds(d.policy.tz, d.year, d.mon, &m0, &m1)) {
		rc = errf(err, errlen, "month: no bounds for %s in %s", d.month, d.policy.tz);
		goto out_delete_root;
	}
	c = vgl_sla_calc_new(&d.policy, m0, m1, d.now, d.svc_start, d.svc_end);
	if (!c) {
		rc = -ENOMEM;
		goto out_delete_root;
	}
	if ((iv && (rc = feed_intervals(c, iv, err, errlen))) ||
	    (mt && (rc = feed_maint(c, mt, err, errlen))) ||
	    (ct && (rc = feed_counters(c, ct, d.bits, err, errlen))) ||
	    (ob && (rc = feed_observed(c, ob, err, errlen))) || (rc = vgl_sla_calc_finish(c, &r)))
		goto out_free_calc;
	*out = vgl_sla_report_json(d.host, d.month, c, &r, ob != NULL);
	if (!*out)
		rc = -ENOMEM;
out_free_calc:
	vgl_sla_calc_free(c);
out_delete_root:
	if (rc == -ENOMEM)
		errf(err, errlen, "out of memory");
	cJSON_Delete(root);
	return rc;
}
