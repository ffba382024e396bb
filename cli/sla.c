/* vigil sla: each host's monthly uptime and SLA credit and customer
 * totals (docs/cli.md, docs/sla.md). The computation is the library's
 * (sla/host_month.h: one host-month from the database, the totals); this
 * file picks the hosts, and prints.
 *
 * One host at a time: its month is computed, printed and freed before the
 * next host, so memory stays at one host-month plus one small record per
 * customer, whatever the number of hosts or the years of history. --json
 * streams the array too, one object at a time, and --html its page
 * (sla/html.h) into a temporary file renamed over FILE at the end, so FILE
 * is the old one or the whole new one, never half a report.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/vtime.h"
#include "sla/host_month.h"
#include "sla/html.h"
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
	"                                  [--json | --csv | --html FILE] [--now T]\n"
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
	"  --html FILE     the report as one self-contained HTML page for A4 (figures,\n"
	"                  a timeline and the intervals of each host, then the totals),\n"
	"                  written atomically to FILE; print it to PDF with chromium\n"
	"                  (docs/sla.md \"HTML report\")\n"
	"  --now T         compute as if now were T. A month not over is measured over\n"
	"                  the whole month with the downtime counted up to now (open\n"
	"                  intervals count up to now): the credit already owed\n"
	"  --input CASE    one host from a self-contained case document instead of\n"
	"                  the config and database (docs/sla.md)\n";

enum out_mode { OUT_HUMAN, OUT_JSON, OUT_CSV, OUT_HTML };

struct sla_run {
	struct vgl_cli *c;
	const char *month;
	int64_t now;
	enum out_mode mode;
	int n_json;                     /* objects printed so far */
	struct vgl_jw *jw;              /* --json: the writer on stdout */
	const char *html_path;          /* --html FILE */
	char *html_tmp;                 /* the temporary file beside it, while open */
	FILE *html_f;
	struct vgl_html *html;
	struct vgl_sla_source *src;
	struct vgl_sla_totals *totals;
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

static void print_customers(struct sla_run *r)
{
	if (r->mode == OUT_HTML) {
		size_t n = vgl_sla_totals_count(r->totals);
		const struct vgl_sla_total **t = calloc(n ? n : 1, sizeof(*t));

		if (!t) {
			r->out_failed = 1;
			return;
		}
		for (size_t i = 0; i < n; i++)
			t[i] = vgl_sla_totals_at(r->totals, i);
		vgl_html_end(r->html, t, n);
		free(t);
		return;
	}
	for (size_t i = 0; i < vgl_sla_totals_count(r->totals); i++) {
		const struct vgl_sla_total *t = vgl_sla_totals_at(r->totals, i);

		if (r->mode == OUT_JSON) {
			json_next(r);
			vgl_sla_total_json(r->jw, t, r->month);
			json_done(r);
		} else if (r->mode == OUT_HUMAN) {
			char d[48];

			dur(t->downtime_ms, d, sizeof(d));
			out(r, "customer %s %s: %" PRId64 " host(s), %" PRId64 " breached, "
			    "credit: %" PRId64 " host(s) owed a %% of their fee (sum %" PRId64
			    "%%), %" PRId64 " day(s) of service; downtime %s",
			    t->customer ? t->customer : "(none)", r->month, t->hosts, t->breached,
			    t->credit_percent_hosts, t->credit_percent_sum, t->credit_days, d);
			if (t->skipped)
				out(r, "; %" PRId64 " skipped (no service)", t->skipped);
			out(r, "\n");
		}
	}
}

/* ---- one host ---- */

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

static int print_human(struct sla_run *r, const struct vgl_conf_host *h,
		       const struct vgl_sla_calc *calc, const struct vgl_sla_result *res)
{
	static const char *const iv_head[] = { "START", "END", "CAUSE", "COUNTED", "IN PERIOD",
					       "MAINT EXCLUDED", "NOTE" };
	static const char *const mt_head[] = { "ID", "KIND", "START", "END", "NOTICE",
					       "QUALIFIES", "EXCLUDED", "NOTE" };
	const struct vgl_sla_policy *p = vgl_sla_calc_policy(calc);
	int64_t m0 = res->month_start_ms, m1 = res->month_end_ms;
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
	const struct vgl_sla_result *res;
	struct vgl_host_month *m;
	char err[512];
	int rc;

	if (!h->policy) {
		fprintf(stderr, "vigil: note: %s has no service (SLA policy): skipped\n", h->name);
		return vgl_sla_totals_add(r->totals, h, NULL) ? (errorf("out of memory"), -1) : 0;
	}
	rc = vgl_host_month(r->src, h, year, month, r->now, &m, err, sizeof(err));
	if (rc != 0) {
		if (rc == VGL_HOST_MONTH_DB)
			errorf("%s: %s", r->c->db_path, err);
		else
			errorf("%s", err);
		return -1;
	}
	if (vgl_host_month_unknown_causes(m))
		fprintf(stderr, "vigil: note: %s: %d interval(s) with an unknown cause counted "
			"as 'unknown'\n", h->name, vgl_host_month_unknown_causes(m));
	rc = -1;
	if (vgl_sla_totals_add(r->totals, h, m) != 0) {
		errorf("out of memory");
		goto out_free;
	}
	res = vgl_host_month_result(m);
	if (r->mode == OUT_JSON) {
		json_next(r);
		vgl_host_month_json(r->jw, m);
		json_done(r);
		rc = 0;
	} else if (r->mode == OUT_CSV) {
		print_csv(r, h, h->policy, res);
		rc = 0;
	} else if (r->mode == OUT_HTML) {
		vgl_html_host(r->html, h->name, h->customer, h->site, vgl_host_month_calc(m), res);
		rc = 0;
	} else {
		rc = print_human(r, h, vgl_host_month_calc(m), res);
	}
out_free:
	vgl_host_month_free(m);
	return rc;
}

/* ---- --html ---- */

static int selected(const struct vgl_cli *c, const struct vgl_conf_host *only,
		    const struct vgl_conf_host *h);

/* The temporary file beside FILE (same directory, so the rename cannot
 * cross file systems), with the mode a plain create would give, and the
 * writer on it. 0, or -1 with a message naming FILE. */
static int html_open(struct sla_run *r)
{
	const char *path = r->html_path, *slash = strrchr(path, '/');
	size_t n = strlen(path) + 16;
	mode_t um;
	int fd;

	if (!(r->html_tmp = malloc(n))) {
		errorf("out of memory");
		return -1;
	}
	snprintf(r->html_tmp, n, "%.*s.%s.XXXXXX", slash ? (int)(slash - path) + 1 : 0, path,
		 slash ? slash + 1 : path);
	fd = mkostemp(r->html_tmp, O_CLOEXEC);
	if (fd < 0) {
		errorf("%s: %s", path, strerror(errno));
		free(r->html_tmp);
		r->html_tmp = NULL;
		return -1;
	}
	um = umask(0);
	umask(um);
	if (fchmod(fd, 0666 & ~um) != 0 || !(r->html_f = fdopen(fd, "w"))) {
		errorf("%s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	if (!(r->html = vgl_html_new(r->html_f))) {
		errorf("out of memory");
		return -1;
	}
	return 0;
}

/* Written, synced and renamed over FILE. 0, or -1 with a message. */
static int html_commit(struct sla_run *r)
{
	FILE *f = r->html_f;

	r->html_f = NULL;
	errno = 0;
	if (vgl_html_flush(r->html) != 0 || fsync(fileno(f)) != 0) {
		errorf("%s: writing failed: %s", r->html_path, strerror(errno ? errno : EIO));
		fclose(f);
		return -1;
	}
	if (fclose(f) != 0 || rename(r->html_tmp, r->html_path) != 0) {
		errorf("%s: %s", r->html_path, strerror(errno));
		return -1;
	}
	free(r->html_tmp);
	r->html_tmp = NULL;
	return 0;
}

/* A report that did not finish leaves FILE as it was. */
static void html_abort(struct sla_run *r)
{
	if (r->html_f)
		fclose(r->html_f);
	r->html_f = NULL;
	if (r->html_tmp)
		unlink(r->html_tmp);
	free(r->html_tmp);
	r->html_tmp = NULL;
}

/* The page's header: the customer asked for (or the one host's), and the
 * month's bounds when every selected host has them in the same zone. */
static void html_begin(struct sla_run *r, const struct vgl_conf_host *only, int year,
		       int month)
{
	const struct vgl_cli *c = r->c;
	struct vgl_html_head hd = { .month = r->month, .as_of_ms = r->now };
	char scope[256];
	int mixed = 0;

	hd.customer = only ? only->customer : c->a.customer;
	if (only)
		snprintf(scope, sizeof(scope), "host %s", only->name);
	else if (c->a.customer)
		snprintf(scope, sizeof(scope), "the hosts of customer %s", c->a.customer);
	else
		snprintf(scope, sizeof(scope), "every configured host");
	hd.scope = scope;
	for (size_t i = 0; i < c->conf->n_hosts && !mixed; i++) {
		const struct vgl_conf_host *h = &c->conf->hosts[i];
		int64_t m0, m1;

		if (!selected(c, only, h) || !h->policy ||
		    vgl_sla_month_bounds(h->policy->tz, year, month, &m0, &m1) != 0)
			continue;
		if (!hd.tz) {
			hd.tz = h->policy->tz;
			hd.month_start_ms = m0;
			hd.month_end_ms = m1;
		} else if (strcmp(hd.tz, h->policy->tz) != 0) {
			mixed = 1;
		}
	}
	if (mixed)
		hd.tz = NULL;
	vgl_html_begin(r->html, &hd);
}

/* ---- --input ---- */

static char *read_file(const char *path)
{
	/* Without O_NONBLOCK a FIFO would hold the open until a writer came;
	 * fstat then refuses anything but a regular file (/dev/zero, a
	 * directory) before a byte is read. */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	size_t n = 0, cap = 0;
	char *buf = NULL;
	struct stat st;
	FILE *f;

	if (fd < 0) {
		errorf("%s: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		errorf("%s: not a regular file (sla --input reads a file)", path);
		close(fd);
		return NULL;
	}
	f = fdopen(fd, "r");
	if (!f) {
		errorf("%s: %s", path, strerror(errno));
		close(fd);
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
	if (!(r->src = vgl_sla_source_new(c->sdb))) {
		errorf("out of memory");
		return EXIT_FAIL;
	}
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
	if (r->mode == OUT_HTML) {
		if (html_open(r) != 0)
			return EXIT_FAIL;
		html_begin(r, only, year, month);
	}
	for (size_t i = 0; i < c->conf->n_hosts; i++) {
		const struct vgl_conf_host *h = &c->conf->hosts[i];

		if (!selected(c, only, h))
			continue;
		if (run_host(r, h, year, month) != 0)
			return EXIT_FAIL;
		if (r->out_failed)
			break;
	}
	if (r->mode != OUT_CSV)
		print_customers(r);
	if (r->mode == OUT_JSON) {
		if (r->n_json)
			vgl_jw_raw(r->jw, "\n]\n", 3);
		else
			vgl_jw_raw(r->jw, "[]\n", 3);
		if (vgl_jw_flush(r->jw) != 0)
			r->out_failed = 1;
	}
	if (r->mode == OUT_HTML) {
		if (r->out_failed) {            /* the totals' array */
			errorf("out of memory");
			return EXIT_FAIL;
		}
		if (html_commit(r) != 0)
			return EXIT_FAIL;
		out(r, "wrote %s: %d host(s), %d page(s) on A4\n", r->html_path,
		    vgl_html_hosts(r->html), vgl_html_pages(r->html));
	}
	if (r->out_failed) {
		errorf("writing output: failed");
		return EXIT_FAIL;
	}
	return vgl_cli_finish_output() ? EXIT_FAIL : 0;
}

static void run_free(struct sla_run *r)
{
	html_abort(r);
	vgl_html_free(r->html);
	vgl_sla_totals_free(r->totals);
	vgl_sla_source_free(r->src);
	vgl_jw_free(r->jw);
}

int vgl_cli_cmd_sla(struct vgl_cli *c, int argc, char **argv, int i)
{
	struct vgl_cli_args *a = &c->a;
	const char *html = NULL;
	const struct vgl_cli_opt opts[] = {
		VGL_CLI_GLOBAL_OPTS(a),
		{ "--month", NULL, &a->month, NULL },
		{ "--host", NULL, &a->host, NULL },
		{ "--customer", NULL, &a->customer, NULL },
		{ "--all", NULL, NULL, &a->all },
		{ "--csv", NULL, NULL, &a->csv },
		{ "--now", NULL, &a->now, NULL },
		{ "--input", NULL, &a->input, NULL },
		{ "--html", NULL, &html, NULL },
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
	if (html && (a->json || a->csv)) {
		errorf("sla: --html writes a file: give it without --json and --csv");
		return EXIT_USAGE;
	}
	if (html && !*html) {
		errorf("sla: --html: give a file name");
		return EXIT_USAGE;
	}
	r.mode = a->json ? OUT_JSON : a->csv ? OUT_CSV : html ? OUT_HTML : OUT_HUMAN;
	r.html_path = html;
	r.now = vgl_now_ms();
	if (a->now && vgl_cli_parse_time("sla: --now", a->now, &r.now))
		return EXIT_USAGE;
	if (a->input) {
		if (a->month || a->host || a->customer || a->all || a->csv || html) {
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
	if (!(r.totals = vgl_sla_totals_new()) ||
	    (r.mode == OUT_JSON && !(r.jw = vgl_jw_new(stdout)))) {
		errorf("out of memory");
		run_free(&r);
		return EXIT_FAIL;
	}
	rc = sla_hosts(&r, year, month);
	run_free(&r);
	return rc;
}
