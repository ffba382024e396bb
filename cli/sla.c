/* vigil sla: each host's monthly uptime and SLA credit, computed by the
 * SLA core (sla/sla.h) from what the database holds, and customer totals
 * (docs/cli.md, docs/sla.md).
 *
 * One host at a time: its month's intervals, maintenance windows and
 * counter samples are streamed from the database into one calc, the
 * host's report is printed and everything is freed before the next host.
 * So memory stays at one host-month plus one small record per customer,
 * whatever the number of hosts or the years of history. --json streams
 * the array too, one object at a time.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/vtime.h"
#include "sla/jw.h"
#include "sla/report.h"
#include "sla/sla.h"
#include "storage/sla_db.h"

#define EXIT_FAIL VGL_CLI_EXIT_FAIL
#define EXIT_USAGE VGL_CLI_EXIT_USAGE
#define errorf vgl_cli_errorf

#define MAX_CASE_BYTES (16 << 20)

static const char usage_sla[] =
	"usage: vigil [GLOBAL OPTIONS] sla --month YYYY-MM [--host H | --customer C | --all]\n"
	"                                  [--json | --csv] [--now T]\n"
	"       vigil sla --input CASE.json [--json] [--now T]\n"
	"\n"
	"Monthly uptime and SLA credit of each configured host, by its service's\n"
	"policy (a preset or a custom policy of the config), over the calendar month\n"
	"in the policy's time zone: month length, allowance at the commitment,\n"
	"counted downtime (union of counted intervals), time excluded by cause and by\n"
	"notified maintenance, uptime % (truncated to 4 decimals, never rounded up),\n"
	"breached or not, band and credit, monitoring coverage, and the intervals and\n"
	"windows behind it; then one total per customer. Hosts without a service are\n"
	"skipped with a note on stderr.\n"
	"  --month M       the month, e.g. 2026-11\n"
	"  --host H        one configured host\n"
	"  --customer C    the hosts of customer C\n"
	"  --all           every configured host (the default)\n"
	"  --json          a JSON array: one object per host, then one per customer\n"
	"  --csv           one CSV row per host with the main numbers\n"
	"  --now T         compute as if now were T. A month not over is measured over\n"
	"                  the whole month with the downtime counted up to now (open\n"
	"                  intervals count up to now): the credit already owed\n"
	"  --input CASE    one host from a self-contained case document instead of\n"
	"                  the config and database (docs/sla.md)\n";

enum out_mode { OUT_HUMAN, OUT_JSON, OUT_CSV };

struct cust_total {
	const char *name;               /* the config's string; NULL: no customer */
	int64_t hosts, skipped, breached;
	int64_t credit_percent_hosts, credit_percent_sum, credit_days;
	int64_t downtime_ms;
	cJSON *breached_hosts;          /* names, for the JSON total */
};

struct span {
	int64_t s, e;
};

struct sla_run {
	struct vgl_cli *c;
	const char *month;
	int64_t now;
	enum out_mode mode;
	int n_json;                     /* objects printed so far */
	struct vgl_jw *jw;              /* --json: the writer on stdout */
	struct cust_total *cust;        /* in order of first appearance */
	size_t n_cust, cap_cust;
	/* open addressing over cust by name: index + 1, 0 = empty; at most
	 * half full. 500 customers x 10,000 hosts made a scan show in perf. */
	size_t *cust_slot;
	size_t n_slot;
	/* runs are per database, not per host: read once per month bounds */
	int64_t obs_m0, obs_m1;
	int have_obs;
	struct span *obs;
	size_t n_obs, cap_obs;
	int out_failed;                 /* a write to stdout failed (reported once) */
};

/* ---- output helpers ---- */

static void pct_e4(int64_t e4, char *buf, size_t len)
{
	snprintf(buf, len, "%s%" PRId64 ".%04" PRId64, e4 < 0 ? "-" : "",
		 (e4 < 0 ? -e4 : e4) / 10000, (e4 < 0 ? -e4 : e4) % 10000);
}

static void dur(int64_t ms, char *buf, size_t len)
{
	vgl_cli_format_duration(ms, buf, len);
}

/* An allowance left can be spent past zero: "-1h00m00s". */
static void signed_dur(int64_t ms, char *buf, size_t len)
{
	if (ms >= 0 || len < 2) {
		dur(ms, buf, len);
		return;
	}
	buf[0] = '-';
	dur(-ms, buf + 1, len - 1);
}

static int out(struct sla_run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int out(struct sla_run *r, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vprintf(fmt, ap);
	va_end(ap);
	if (n < 0)
		r->out_failed = 1;
	return n < 0 ? -1 : 0;
}

/* RFC 4180: quoted only when it must be. */
static void csv_field(struct sla_run *r, const char *s, int last)
{
	if (!s)
		s = "";
	if (strpbrk(s, ",\"\r\n")) {
		out(r, "\"");
		for (; *s; s++)
			out(r, *s == '"' ? "\"\"" : "%c", *s);
		out(r, "\"");
	} else {
		out(r, "%s", s);
	}
	out(r, last ? "\n" : ",");
}

/* Opens the next top-level object: one a line, valid JSON as a whole, and
 * greppable. */
static void json_next(struct sla_run *r)
{
	if (r->n_json++)
		vgl_jw_raw(r->jw, ",\n", 2);
	else
		vgl_jw_raw(r->jw, "[\n", 2);
	vgl_jw_obj(r->jw);
}

static void json_done(struct sla_run *r)
{
	vgl_jw_obj_end(r->jw);
	if (vgl_jw_failed(r->jw))
		r->out_failed = 1;
}

/* ---- customers ---- */

/* FNV-1a; NULL (no customer) hashes as the empty name. */
static size_t name_hash(const char *s)
{
	uint64_t h = 14695981039346656037ull;

	for (; s && *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return (size_t)h;
}

static int same_name(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

/* Rebuilds cust_slot with n slots (a power of two). 0, or -1. */
static int cust_rehash(struct sla_run *r, size_t n)
{
	size_t *slot = calloc(n, sizeof(*slot));

	if (!slot)
		return -1;
	for (size_t i = 0; i < r->n_cust; i++) {
		size_t k = name_hash(r->cust[i].name) & (n - 1);

		while (slot[k])
			k = (k + 1) & (n - 1);
		slot[k] = i + 1;
	}
	free(r->cust_slot);
	r->cust_slot = slot;
	r->n_slot = n;
	return 0;
}

static struct cust_total *customer(struct sla_run *r, const char *name)
{
	size_t k;

	if (2 * (r->n_cust + 1) > r->n_slot &&
	    cust_rehash(r, r->n_slot ? 2 * r->n_slot : 64) != 0)
		return NULL;
	for (k = name_hash(name) & (r->n_slot - 1); r->cust_slot[k];
	     k = (k + 1) & (r->n_slot - 1))
		if (same_name(r->cust[r->cust_slot[k] - 1].name, name))
			return &r->cust[r->cust_slot[k] - 1];
	if (r->n_cust == r->cap_cust) {
		size_t cap = r->cap_cust ? r->cap_cust * 2 : 16;
		struct cust_total *nc = realloc(r->cust, cap * sizeof(*nc));

		if (!nc)
			return NULL;
		r->cust = nc;
		r->cap_cust = cap;
	}
	memset(&r->cust[r->n_cust], 0, sizeof(r->cust[0]));
	r->cust[r->n_cust].name = name;
	r->cust[r->n_cust].breached_hosts = cJSON_CreateArray();
	if (!r->cust[r->n_cust].breached_hosts)
		return NULL;
	r->cust_slot[k] = r->n_cust + 1;
	return &r->cust[r->n_cust++];
}

static int customer_add(struct sla_run *r, const struct vgl_conf_host *h,
			const struct vgl_sla_policy *p, const struct vgl_sla_result *res)
{
	struct cust_total *t = customer(r, h->customer);

	if (!t)
		return -1;
	if (!p) {
		t->skipped++;
		return 0;
	}
	t->hosts++;
	t->downtime_ms += res->downtime_ms;
	if (res->breached) {
		cJSON *n = cJSON_CreateString(h->name);

		t->breached++;
		if (!n || !cJSON_AddItemToArray(t->breached_hosts, n)) {
			cJSON_Delete(n);
			return -1;
		}
	}
	if (p->unit == VGL_CREDIT_DAYS) {
		t->credit_days += res->credit;
	} else if (res->credit > 0) {
		t->credit_percent_hosts++;
		t->credit_percent_sum += res->credit;
	}
	return 0;
}

static int print_customers(struct sla_run *r)
{
	for (size_t i = 0; i < r->n_cust; i++) {
		struct cust_total *t = &r->cust[i];

		if (r->mode == OUT_JSON) {
			struct vgl_jw *w = r->jw;
			const cJSON *n;

			json_next(r);
			vgl_jw_key(w, "customer");
			vgl_jw_str(w, t->name);
			vgl_jw_key(w, "month");
			vgl_jw_str(w, r->month);
			vgl_jw_key(w, "hosts");
			vgl_jw_int(w, t->hosts);
			vgl_jw_key(w, "skipped");
			vgl_jw_int(w, t->skipped);
			vgl_jw_key(w, "breached");
			vgl_jw_int(w, t->breached);
			vgl_jw_key(w, "breached_hosts");
			vgl_jw_arr(w);
			cJSON_ArrayForEach(n, t->breached_hosts)
				vgl_jw_str(w, n->valuestring);
			vgl_jw_arr_end(w);
			vgl_jw_key(w, "credit_percent_hosts");
			vgl_jw_int(w, t->credit_percent_hosts);
			vgl_jw_key(w, "credit_percent_sum");
			vgl_jw_int(w, t->credit_percent_sum);
			vgl_jw_key(w, "credit_days");
			vgl_jw_int(w, t->credit_days);
			vgl_jw_key(w, "downtime_ms");
			vgl_jw_int(w, t->downtime_ms);
			json_done(r);
		} else if (r->mode == OUT_HUMAN) {
			char d[48];

			dur(t->downtime_ms, d, sizeof(d));
			out(r, "customer %s %s: %" PRId64 " host(s), %" PRId64 " breached, "
			    "credit: %" PRId64 " host(s) owed a %% of their fee (sum %" PRId64
			    "%%), %" PRId64 " day(s) of service; downtime %s",
			    t->name ? t->name : "(none)", r->month, t->hosts, t->breached,
			    t->credit_percent_hosts, t->credit_percent_sum, t->credit_days, d);
			if (t->skipped)
				out(r, "; %" PRId64 " skipped (no service)", t->skipped);
			out(r, "\n");
		}
	}
	return 0;
}

/* ---- one host ---- */

static int on_span(void *ctx, int64_t s, int64_t e)
{
	struct sla_run *r = ctx;

	if (r->n_obs == r->cap_obs) {
		size_t cap = r->cap_obs ? r->cap_obs * 2 : 16;
		struct span *n = realloc(r->obs, cap * sizeof(*n));

		if (!n)
			return 1;
		r->obs = n;
		r->cap_obs = cap;
	}
	r->obs[r->n_obs++] = (struct span){ s, e };
	return 0;
}

static int load_observed(struct sla_run *r, int64_t m0, int64_t m1)
{
	char err[512];
	int rc;

	if (r->have_obs && r->obs_m0 == m0 && r->obs_m1 == m1)
		return 0;
	r->n_obs = 0;
	rc = vgl_sla_db_observed(r->c->sdb, m0, m1, on_span, r, err, sizeof(err));
	if (rc < 0) {
		errorf("%s: %s", r->c->db_path, err);
		return -1;
	}
	if (rc > 0) {
		errorf("out of memory");
		return -1;
	}
	r->have_obs = 1;
	r->obs_m0 = m0;
	r->obs_m1 = m1;
	return 0;
}

struct feed {
	struct vgl_sla_calc *calc;
	int wrap_bits;                  /* of the host's SNMP counters */
	int unknown_causes;
};

static int on_interval(void *ctx, const struct vgl_sla_db_interval *iv)
{
	struct feed *f = ctx;
	int cause = vgl_cause_index(iv->cause);
	struct vgl_sla_interval si = {
		.id = iv->id, .start_ms = iv->start_ms,
		.end_ms = iv->is_open ? VGL_SLA_OPEN : iv->end_ms,
		.note = iv->note, .rule = iv->opened_by,
	};

	/* Every writer checks causes; should one slip through, it counts, as
	 * unattributed downtime does (SLA.md: the customer must not lose). */
	if (cause < 0) {
		cause = VGL_CAUSE_UNKNOWN;
		f->unknown_causes++;
	}
	si.cause = cause;
	return vgl_sla_calc_add_interval(f->calc, &si) ? 1 : 0;
}

static int on_maint(void *ctx, const struct vgl_sla_db_maint *m)
{
	struct feed *f = ctx;
	struct vgl_sla_maint sm = {
		.id = m->id,
		.kind = m->kind == VGL_SLA_DB_EMERGENCY ? VGL_MAINT_EMERGENCY : VGL_MAINT_PLANNED,
		.start_ms = m->start_ms, .end_ms = m->end_ms, .announced_ms = m->announced_ms,
		.note = m->note,
	};

	return vgl_sla_calc_add_maint(f->calc, &sm) ? 1 : 0;
}

static int on_counter(void *ctx, const struct vgl_sla_db_counter *c)
{
	struct feed *f = ctx;
	struct vgl_sla_counter s = { .ts_ms = c->ts_ms, .total = c->total, .failed = c->failed };

	return vgl_sla_calc_add_counter(f->calc, &s, c->from_snmp ? f->wrap_bits : 64) ? 1 : 0;
}

/* Feeds one host's month. 0, or -1 with one message printed. */
static int feed_host(struct sla_run *r, const struct vgl_conf_host *h,
		     const struct vgl_sla_policy *p, int64_t m0, int64_t m1, struct feed *f)
{
	struct vgl_sla_db *sdb = r->c->sdb;
	int64_t host_id;
	char err[512];
	int rc;

	if (vgl_sla_db_host_id(sdb, h->name, &host_id, err, sizeof(err)) != 0)
		goto out_db;
	if (host_id) {
		rc = vgl_sla_db_host_intervals(sdb, host_id, m0, m1, on_interval, f, err,
					       sizeof(err));
		if (rc < 0)
			goto out_db;
		if (rc > 0)
			goto out_oom;
	}
	rc = vgl_sla_db_host_maints(sdb, host_id, h->site, m0, m1, on_maint, f, err, sizeof(err));
	if (rc < 0)
		goto out_db;
	if (rc > 0)
		goto out_oom;
	if (load_observed(r, m0, m1) != 0)
		return -1;
	for (size_t i = 0; i < r->n_obs; i++)
		if (vgl_sla_calc_add_observed(f->calc, r->obs[i].s, r->obs[i].e) != 0)
			goto out_oom;
	if (p->kind != VGL_SLA_AVAILABILITY && host_id) {
		rc = vgl_sla_db_host_counters(sdb, host_id, m0, m1, on_counter, f, err,
					      sizeof(err));
		if (rc < 0)
			goto out_db;
		if (rc > 0)
			goto out_oom;
	}
	if (f->unknown_causes)
		fprintf(stderr, "vigil: note: %s: %d interval(s) with an unknown cause counted "
			"as 'unknown'\n", h->name, f->unknown_causes);
	return 0;

out_db:
	errorf("%s: %s", r->c->db_path, err);
	return -1;
out_oom:
	errorf("out of memory");
	return -1;
}

struct human_ctx {
	struct sla_run *r;
	struct vgl_table *t;
	int failed;
};

static void human_part(void *ctx, const struct vgl_sla_part *p)
{
	struct human_ctx *h = ctx;
	char b1[VGL_ISO_LEN], b2[VGL_ISO_LEN], d[48], mx[48];

	if (h->failed)
		return;
	dur(p->end_ms - p->start_ms, d, sizeof(d));
	dur(p->maint_excluded_ms, mx, sizeof(mx));
	const char *row[] = { vgl_format_iso(p->iv->start_ms, b1),
			      p->iv->end_ms == VGL_SLA_OPEN ? "open"
							    : vgl_format_iso(p->iv->end_ms, b2),
			      vgl_cause_str(p->iv->cause), p->counted ? "yes" : "no", d,
			      p->maint_excluded_ms ? mx : "", p->iv->note };
	if (vgl_table_add(h->t, row) != 0)
		h->failed = 1;
}

static void human_maint(void *ctx, const struct vgl_sla_maint_part *mp)
{
	struct human_ctx *h = ctx;
	char id[24], b1[VGL_ISO_LEN], b2[VGL_ISO_LEN], n[48], ex[48];
	int64_t notice = mp->notice_ms;

	if (h->failed)
		return;
	snprintf(id, sizeof(id), "%" PRId64, mp->m->id);
	n[0] = notice < 0 ? '-' : '\0';
	dur(notice < 0 ? -notice : notice, n + (notice < 0), sizeof(n) - 1);
	dur(mp->excluded_ms, ex, sizeof(ex));
	const char *row[] = { id, mp->m->kind == VGL_MAINT_EMERGENCY ? "emergency" : "planned",
			      vgl_format_iso(mp->m->start_ms, b1), vgl_format_iso(mp->m->end_ms, b2),
			      n, mp->qualifies ? "yes" : "no", ex, mp->m->note };
	if (vgl_table_add(h->t, row) != 0)
		h->failed = 1;
}

/* A table with rows besides its header, or "none". */
static void print_table(struct sla_run *r, const char *title, struct vgl_table *t)
{
	if (!vgl_table_rows(t)) {
		out(r, "  %-14s none\n", title);
		return;
	}
	out(r, "  %s:\n", title);
	if (vgl_table_print(t, stdout) != 0)
		r->out_failed = 1;
}

static int print_human(struct sla_run *r, const struct vgl_conf_host *h, int64_t m0, int64_t m1,
		       const struct vgl_sla_calc *calc, const struct vgl_sla_result *res)
{
	static const char *const iv_head[] = { "START", "END", "CAUSE", "COUNTED", "IN PERIOD",
					       "MAINT EXCLUDED", "NOTE" };
	static const char *const mt_head[] = { "ID", "KIND", "START", "END", "NOTICE",
					       "QUALIFIES", "EXCLUDED", "NOTE" };
	const struct vgl_sla_policy *p = vgl_sla_calc_policy(calc);
	char b1[VGL_ISO_LEN], b2[VGL_ISO_LEN], d1[48], d2[48], d3[48], pc[32], pc2[32];
	struct human_ctx hc = { .r = r };
	int any = 0;

	out(r, "%s  %s  customer %s  policy %s  tz %s\n", h->name, r->month,
	    h->customer ? h->customer : "-", p->name, p->tz);
	dur(res->month_ms, d1, sizeof(d1));
	out(r, "  month          %s .. %s  (%s, %" PRId64 " ms)\n", vgl_format_iso(m0, b1),
	    vgl_format_iso(m1, b2), d1, res->month_ms);
	dur(res->period_ms, d1, sizeof(d1));
	out(r, "  measured       %s .. %s  (%s)%s\n", vgl_format_iso(res->period_start_ms, b1),
	    vgl_format_iso(res->period_end_ms, b2), d1,
	    res->partial ? "  partial: in service for part of the month" : "");
	if (!res->begun)
		out(r, "  not begun      as of %s: nothing counted yet\n",
		    vgl_format_iso(res->as_of_ms, b1));
	else if (res->in_progress)
		out(r, "  in progress    downtime counted up to %s; the figures below are "
		    "the month's, owed so far\n", vgl_format_iso(res->as_of_ms, b1));
	pct_e4(p->commitment_e4, pc, sizeof(pc));
	dur(res->allowance_ms, d1, sizeof(d1));
	signed_dur(res->allowance_left_ms, d2, sizeof(d2));
	out(r, "  allowance      %s (%" PRId64 " ms) at the %s%% commitment; left %s (%" PRId64
	    " ms)\n", d1, res->allowance_ms, pc, d2, res->allowance_left_ms);
	dur(res->counted_ms, d1, sizeof(d1));
	dur(res->maint_excluded_ms, d2, sizeof(d2));
	dur(res->downtime_ms, d3, sizeof(d3));
	out(r, "  downtime       %s (%" PRId64 " ms): counted %s, minus %s in notified "
	    "maintenance\n", d3, res->downtime_ms, d1, d2);
	out(r, "  not counted   ");
	for (int i = 0; i < VGL_CAUSE_COUNT; i++) {
		if (!res->excluded_ms[i])
			continue;
		dur(res->excluded_ms[i], d1, sizeof(d1));
		out(r, " %s %s", vgl_cause_str(i), d1);
		any = 1;
	}
	out(r, "%s\n", any ? "" : " none");
	if (p->kind != VGL_SLA_AVAILABILITY) {
		out(r, "  requests       %" PRIu64 ", failed %" PRIu64, res->requests, res->failures);
		if (p->kind == VGL_SLA_BLOCK_ERRORS)
			out(r, " in %d 5-minute blocks (average block error rate %.6f%%)",
			    res->blocks, res->blocks_failed_rate_pct);
		out(r, "\n");
	}
	pct_e4(res->uptime_e4, pc, sizeof(pc));
	out(r, "  uptime         %s%%  %s", pc,
	    res->breached ? "BREACHED" : !res->begun ? "not begun" : res->in_progress ? "met so far" : "met");
	if (res->band >= 0) {
		pct_e4(p->bands[res->band].from_e4, pc, sizeof(pc));
		pct_e4(p->bands[res->band].to_e4, pc2, sizeof(pc2));
		out(r, "  band [%s%%, %s%%)", pc, pc2);
	}
	out(r, "  credit %" PRId64 " %s\n", res->credit,
	    p->unit == VGL_CREDIT_DAYS ? "day(s) of service" : "% of the month's fee");
	dur(res->observed_ms, d1, sizeof(d1));
	out(r, "  coverage       %.2f%% (daemon observing %s of the %s)\n", res->coverage_pct, d1,
	    res->in_progress ? "period so far" : "measured period");
	hc.t = vgl_table_new(7, iv_head);
	if (!hc.t)
		goto out_oom;
	vgl_sla_calc_each_part(calc, human_part, &hc);
	if (hc.failed)
		goto out_oom;
	print_table(r, "intervals", hc.t);
	vgl_table_free(hc.t);
	hc.t = vgl_table_new(8, mt_head);
	if (!hc.t)
		goto out_oom;
	vgl_sla_calc_each_maint(calc, human_maint, &hc);
	if (hc.failed)
		goto out_oom;
	print_table(r, "maintenance windows", hc.t);
	vgl_table_free(hc.t);
	out(r, "\n");
	return 0;

out_oom:
	vgl_table_free(hc.t);
	errorf("out of memory");
	return -1;
}

static void print_csv_header(struct sla_run *r)
{
	out(r, "host,customer,policy,month,month_ms,period_ms,partial,in_progress,allowance_ms,"
	    "allowance_left_ms,counted_ms,maint_excluded_ms,not_counted_ms,downtime_ms,uptime_pct,breached,band,"
	    "credit,credit_unit,coverage_pct\n");
}

static void print_csv(struct sla_run *r, const struct vgl_conf_host *h,
		      const struct vgl_sla_policy *p, const struct vgl_sla_result *res)
{
	char n[16][48];
	char left[48];
	int64_t not_counted = 0;

	for (int i = 0; i < VGL_CAUSE_COUNT; i++)
		not_counted += res->excluded_ms[i];
	snprintf(n[0], 48, "%" PRId64, res->month_ms);
	snprintf(n[1], 48, "%" PRId64, res->period_ms);
	snprintf(n[2], 48, "%d", res->partial ? 1 : 0);
	snprintf(n[3], 48, "%d", res->in_progress ? 1 : 0);
	snprintf(n[4], 48, "%" PRId64, res->allowance_ms);
	snprintf(n[5], 48, "%" PRId64, res->counted_ms);
	snprintf(n[6], 48, "%" PRId64, res->maint_excluded_ms);
	snprintf(n[7], 48, "%" PRId64, not_counted);
	snprintf(n[8], 48, "%" PRId64, res->downtime_ms);
	pct_e4(res->uptime_e4, n[9], 48);
	snprintf(n[10], 48, "%d", res->breached ? 1 : 0);
	if (res->band >= 0)
		snprintf(n[11], 48, "%d", res->band);
	else
		n[11][0] = '\0';
	snprintf(n[12], 48, "%" PRId64, res->credit);
	snprintf(n[13], 48, "%.4f", res->coverage_pct);
	snprintf(left, sizeof(left), "%" PRId64, res->allowance_left_ms);
	csv_field(r, h->name, 0);
	csv_field(r, h->customer, 0);
	csv_field(r, p->name, 0);
	csv_field(r, r->month, 0);
	for (int i = 0; i <= 12; i++) {
		csv_field(r, n[i], 0);
		if (i == 4)
			csv_field(r, left, 0);
	}
	csv_field(r, p->unit == VGL_CREDIT_DAYS ? "days" : "percent", 0);
	csv_field(r, n[13], 1);
}

/* One host: computed and printed, or skipped with a note. 0, or -1 with a
 * message printed. */
static int run_host(struct sla_run *r, const struct vgl_conf_host *h, int year, int month)
{
	const struct vgl_sla_policy *p = h->policy;
	struct vgl_sla_result res;
	struct feed f = { .wrap_bits = 64 };
	int64_t m0, m1;
	int rc = -1;

	if (!p) {
		fprintf(stderr, "vigil: note: %s has no service (SLA policy): skipped\n", h->name);
		return customer_add(r, h, NULL, NULL) ? (errorf("out of memory"), -1) : 0;
	}
	if (vgl_sla_month_bounds(p->tz, year, month, &m0, &m1) != 0) {
		errorf("%s: cannot compute the month %s in zone '%s'", h->name, r->month, p->tz);
		return -1;
	}
	if (h->profile && h->profile->has_counters)
		f.wrap_bits = h->profile->counters.bits == 32 ? 32 : 64;
	f.calc = vgl_sla_calc_new(p, m0, m1, r->now, h->service_start_ms, h->service_end_ms);
	if (!f.calc) {
		errorf("%s: cannot set up the computation (policy %s)", h->name, p->name);
		return -1;
	}
	if (feed_host(r, h, p, m0, m1, &f) != 0)
		goto out_free_calc;
	if (vgl_sla_calc_finish(f.calc, &res) != 0) {
		errorf("%s: computing %s failed (out of memory?)", h->name, r->month);
		goto out_free_calc;
	}
	if (customer_add(r, h, p, &res) != 0) {
		errorf("out of memory");
		goto out_free_calc;
	}
	if (r->mode == OUT_JSON) {
		json_next(r);
		vgl_sla_report_fields(r->jw, h->name, r->month, f.calc, &res, 1);
		vgl_jw_key(r->jw, "customer");
		vgl_jw_str(r->jw, h->customer);
		vgl_jw_key(r->jw, "site");
		vgl_jw_str(r->jw, h->site);
		json_done(r);
		rc = 0;
	} else if (r->mode == OUT_CSV) {
		print_csv(r, h, p, &res);
		rc = 0;
	} else {
		rc = print_human(r, h, m0, m1, f.calc, &res);
	}
out_free_calc:
	vgl_sla_calc_free(f.calc);
	return rc;
}

/* ---- --input ---- */

static char *read_file(const char *path)
{
	FILE *f = fopen(path, "r");
	size_t n = 0, cap = 0;
	char *buf = NULL;

	if (!f) {
		errorf("%s: %s", path, strerror(errno));
		return NULL;
	}
	for (;;) {
		if (cap - n < 4096) {
			char *nb;

			cap = cap ? cap * 2 : 65536;
			if (cap > MAX_CASE_BYTES + 1) {
				errorf("%s: larger than %d MiB", path, MAX_CASE_BYTES >> 20);
				goto out_free;
			}
			nb = realloc(buf, cap);
			if (!nb) {
				errorf("out of memory");
				goto out_free;
			}
			buf = nb;
		}
		size_t got = fread(buf + n, 1, cap - n - 1, f);

		n += got;
		if (got == 0)
			break;
	}
	if (ferror(f)) {
		errorf("%s: read error", path);
		goto out_free;
	}
	buf[n] = '\0';
	fclose(f);
	return buf;

out_free:
	free(buf);
	fclose(f);
	return NULL;
}

/* Human form of a report object: its scalars one a line, lists as rows. */
static void print_object_human(struct sla_run *r, const cJSON *o, int indent)
{
	for (const cJSON *k = o->child; k; k = k->next) {
		if (cJSON_IsArray(k) || cJSON_IsObject(k)) {
			char *t = cJSON_PrintUnformatted(k);

			if (cJSON_IsArray(k) && cJSON_GetArraySize(k) > 0) {
				out(r, "%*s%s:\n", indent, "", k->string);
				for (const cJSON *e = k->child; e; e = e->next) {
					char *et = cJSON_PrintUnformatted(e);

					out(r, "%*s  %s\n", indent, "", et ? et : "?");
					cJSON_free(et);
				}
			} else {
				out(r, "%*s%-18s %s\n", indent, "", k->string, t ? t : "?");
			}
			cJSON_free(t);
		} else if (cJSON_IsString(k)) {
			out(r, "%*s%-18s %s\n", indent, "", k->string, k->valuestring);
		} else {
			char *t = cJSON_PrintUnformatted(k);

			out(r, "%*s%-18s %s\n", indent, "", k->string, t ? t : "?");
			cJSON_free(t);
		}
	}
}

static int cmd_sla_input(struct sla_run *r)
{
	char err[512], *text = read_file(r->c->a.input);
	cJSON *o = NULL;
	int rc;

	if (!text)
		return EXIT_FAIL;
	rc = vgl_sla_case_run(text, r->now, &o, err, sizeof(err));
	free(text);
	if (rc == -ENOMEM) {
		errorf("out of memory");
		return EXIT_FAIL;
	}
	if (rc != 0) {
		errorf("%s: %s", r->c->a.input, err);
		return EXIT_FAIL;
	}
	if (r->mode == OUT_JSON) {
		rc = vgl_cli_emit(NULL, o);
		cJSON_Delete(o);
		return rc ? EXIT_FAIL : 0;
	}
	print_object_human(r, o, 0);
	cJSON_Delete(o);
	if (r->out_failed) {
		errorf("writing output: failed");
		return EXIT_FAIL;
	}
	return vgl_cli_finish_output() ? EXIT_FAIL : 0;
}

/* ---- the command ---- */

static int sla_hosts_each(struct sla_run *r, const struct vgl_conf_host *only, int year,
			  int month);

static int selected(const struct vgl_cli *c, const struct vgl_conf_host *only,
		    const struct vgl_conf_host *h)
{
	if (only && h != only)
		return 0;
	return !c->a.customer || (h->customer && strcmp(h->customer, c->a.customer) == 0);
}

/* A month that has begun in none of the selected hosts' zones has nothing
 * to report: refused, rather than shown as a 100% "met" month. 0, or
 * EXIT_USAGE with the message printed. A month begun in some zones only
 * is reported, its other hosts as not begun. */
static int check_begun(struct sla_run *r, const struct vgl_conf_host *only, int year, int month)
{
	const struct vgl_cli *c = r->c;
	int64_t first = INT64_MAX, m0, m1;
	const char *tz = NULL;
	char b1[VGL_ISO_LEN], b2[VGL_ISO_LEN];

	for (size_t i = 0; i < c->conf->n_hosts; i++) {
		const struct vgl_conf_host *h = &c->conf->hosts[i];

		if (!selected(c, only, h) || !h->policy)
			continue;
		if (vgl_sla_month_bounds(h->policy->tz, year, month, &m0, &m1) != 0)
			continue;       /* run_host names the zone */
		if (m0 <= r->now)
			return 0;
		if (m0 < first) {
			first = m0;
			tz = h->policy->tz;
		}
	}
	if (!tz)
		return 0;
	errorf("sla: the month %s has not begun (it begins %s in %s; now is %s): nothing to "
	       "report yet", r->month, vgl_format_iso(first, b1), tz, vgl_format_iso(r->now, b2));
	return EXIT_USAGE;
}

static int sla_hosts(struct sla_run *r, int year, int month)
{
	struct vgl_cli *c = r->c;
	const struct vgl_conf_host *only = NULL;
	size_t matched = 0;
	char err[512];
	int rc;

	if (c->a.host) {
		only = vgl_conf_find_host(c->conf, c->a.host);
		if (!only) {
			errorf("sla: unknown host '%s' (not in %s)", c->a.host, c->conf->path);
			return EXIT_FAIL;
		}
	}
	if (c->a.customer) {
		for (size_t i = 0; i < c->conf->n_hosts; i++)
			if (c->conf->hosts[i].customer &&
			    strcmp(c->conf->hosts[i].customer, c->a.customer) == 0)
				matched++;
		if (!matched) {
			errorf("sla: no host of customer '%s' in %s", c->a.customer, c->conf->path);
			return EXIT_FAIL;
		}
	}
	if ((rc = check_begun(r, only, year, month)) != 0)
		return rc;
	if (vgl_cli_open_db(c, 0) != 0)
		return EXIT_FAIL;
	if (vgl_sla_db_snapshot_begin(c->sdb, err, sizeof(err)) != 0) {
		errorf("%s: %s", c->db_path, err);
		return EXIT_FAIL;
	}
	rc = sla_hosts_each(r, only, year, month);
	vgl_sla_db_snapshot_end(c->sdb);
	return rc;
}

static int sla_hosts_each(struct sla_run *r, const struct vgl_conf_host *only, int year,
			  int month)
{
	struct vgl_cli *c = r->c;

	if (r->mode == OUT_CSV)
		print_csv_header(r);
	for (size_t i = 0; i < c->conf->n_hosts; i++) {
		const struct vgl_conf_host *h = &c->conf->hosts[i];

		if (!selected(c, only, h))
			continue;
		if (run_host(r, h, year, month) != 0)
			return EXIT_FAIL;
		if (r->out_failed)
			break;
	}
	if (r->mode != OUT_CSV && print_customers(r) != 0)
		return EXIT_FAIL;
	if (r->mode == OUT_JSON) {
		if (r->n_json)
			vgl_jw_raw(r->jw, "\n]\n", 3);
		else
			vgl_jw_raw(r->jw, "[]\n", 3);
		if (vgl_jw_flush(r->jw) != 0)
			r->out_failed = 1;
	}
	if (r->out_failed) {
		errorf("writing output: failed");
		return EXIT_FAIL;
	}
	return vgl_cli_finish_output() ? EXIT_FAIL : 0;
}

static void run_free(struct sla_run *r)
{
	for (size_t i = 0; i < r->n_cust; i++)
		cJSON_Delete(r->cust[i].breached_hosts);
	free(r->cust);
	free(r->cust_slot);
	free(r->obs);
	vgl_jw_free(r->jw);
}

int vgl_cli_cmd_sla(struct vgl_cli *c, int argc, char **argv, int i)
{
	struct vgl_cli_args *a = &c->a;
	const struct vgl_cli_opt opts[] = {
		VGL_CLI_GLOBAL_OPTS(a),
		{ "--month", NULL, &a->month, NULL },
		{ "--host", NULL, &a->host, NULL },
		{ "--customer", NULL, &a->customer, NULL },
		{ "--all", NULL, NULL, &a->all },
		{ "--csv", NULL, NULL, &a->csv },
		{ "--now", NULL, &a->now, NULL },
		{ "--input", NULL, &a->input, NULL },
		VGL_CLI_OPTS_END,
	};
	struct sla_run r = { .c = c };
	int year, month, rc;

	if (vgl_cli_parse_opts(argc, argv, &i, opts, "sla", 0, NULL, 0) != 0)
		return EXIT_USAGE;
	if (a->help)
		return vgl_cli_help(usage_sla);
	if (a->json && a->csv) {
		errorf("sla: give at most one of --json and --csv");
		return EXIT_USAGE;
	}
	r.mode = a->json ? OUT_JSON : a->csv ? OUT_CSV : OUT_HUMAN;
	r.now = vgl_now_ms();
	if (a->now && vgl_cli_parse_time("sla: --now", a->now, &r.now))
		return EXIT_USAGE;
	if (a->input) {
		if (a->month || a->host || a->customer || a->all || a->csv) {
			errorf("sla: --input takes only --json and --now (the document says the rest)");
			return EXIT_USAGE;
		}
		return cmd_sla_input(&r);
	}
	if (!a->month) {
		errorf("sla: missing --month (or --input)");
		return EXIT_USAGE;
	}
	if (vgl_sla_month_parse(a->month, &year, &month) != 0) {
		errorf("sla: --month: bad month '%s' (expected e.g. 2026-11; %d-01 to %d-12)",
		       a->month, VGL_YEAR_MIN, VGL_YEAR_MAX);
		return EXIT_USAGE;
	}
	if (!!a->host + !!a->customer + !!a->all > 1) {
		errorf("sla: give at most one of --host, --customer and --all");
		return EXIT_USAGE;
	}
	r.month = a->month;
	/* A report of every host is megabytes: fewer, larger writes. */
	setvbuf(stdout, NULL, _IOFBF, 1 << 16);
	if (vgl_cli_load_conf(c) != 0)
		return EXIT_FAIL;
	if (r.mode == OUT_JSON && !(r.jw = vgl_jw_new(stdout))) {
		errorf("out of memory");
		return EXIT_FAIL;
	}
	rc = sla_hosts(&r, year, month);
	run_free(&r);
	return rc;
}
