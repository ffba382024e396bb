/* vigil report response: a month's time to acknowledge and to clear per
 * alarm against the response commitments, and the share that met them per
 * severity and per site (docs/cli.md). The figures come from
 * vgl_alarm_db_response() (storage/alarm_db.h); this file only prints.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alarms/alarm_conf.h"
#include "cli/cli.h"
#include "core/vtime.h"
#include "sla/sla.h"
#include "storage/alarm_db.h"

#define EXIT_FAIL VGL_CLI_EXIT_FAIL
#define EXIT_USAGE VGL_CLI_EXIT_USAGE
#define errorf vgl_cli_errorf

#define DEFAULT_ACK_MS (15 * 60 * 1000LL)
#define DEFAULT_CLEAR_MS (4 * 3600 * 1000LL)

static const char usage_report[] =
	"usage: vigil [GLOBAL OPTIONS] report response --month YYYY-MM [--json | --csv]\n"
	"                                  [--ack-within DURATION] [--clear-within DURATION]\n"
	"                                  [--now T]\n"
	"\n"
	"How fast alarms were answered: per alarm raised in the month (UTC month\n"
	"bounds: YYYY-MM-01T00:00:00Z up to the next month's), the time to acknowledge\n"
	"(acked - raised) and the time to clear (cleared - raised), each against its\n"
	"commitment: met (at most the commitment), missed (later, or not done and the\n"
	"commitment has passed) or running (not done, not due yet). An alarm cleared\n"
	"within the ack commitment without an ack owed none (not_needed). Then per\n"
	"severity and per site: alarms, acked in time n/N and %, cleared in time n/N\n"
	"and %, where N counts met and missed only; then the alarms that missed.\n"
	"Suppressed alarms (a root or flapping alarm paged instead) and muted ones\n"
	"(silence, maintenance) paged nobody: left out, and counted.\n"
	"\n"
	"  --month M                the month, e.g. 2026-11 (UTC)\n"
	"  --ack-within DURATION    ack commitment (default: the configuration's\n"
	"                           alarms.response.ack_s, else 15m)\n"
	"  --clear-within DURATION  clear commitment (default: alarms.response.clear_s,\n"
	"                           else 4h); DURATION e.g. 90s, 30m, 2h, 1d. With --db\n"
	"                           and no -c, no configuration is read\n"
	"  --json                   one object: month, commitments, alarms, total,\n"
	"                           by_severity, by_site, missed\n"
	"  --csv                    one CSV row per alarm\n"
	"  --now T                  judge what is still running as of T (default: now)\n"
	"\n"
	"Shares are exact: per-mille of n/N rounded half up in integer arithmetic,\n"
	"printed with one decimal (2/3 = 66.7%); JSON gives n, N and the per-mille.\n";

struct report {
	const struct vgl_alarm_response *r;
	const char *month;
	int out_failed;
};

static void say(struct report *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void say(struct report *p, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (vprintf(fmt, ap) < 0)
		p->out_failed = 1;
	va_end(ap);
}

static void pct(int permille, char *buf, size_t len)
{
	if (permille < 0)
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, "%d.%d%%", permille / 10, permille % 10);
}

static void dur_or_dash(int present, int64_t ms, char *buf, size_t len)
{
	if (!present) {
		snprintf(buf, len, "-");
	} else if (ms < 0) {
		/* an ack stamped before the raise: clocks of two machines */
		buf[0] = '-';
		vgl_cli_format_duration(-ms, buf + 1, len - 1);
	} else {
		vgl_cli_format_duration(ms, buf, len);
	}
}

static int missed(const struct vgl_resp_alarm *a)
{
	return a->ack == VGL_RESP_MISSED || a->clear == VGL_RESP_MISSED;
}

/* ---- table ---- */

static int alarm_rows(struct vgl_table *t, const struct vgl_alarm_response *r, int only_missed)
{
	for (size_t i = 0; i < r->n; i++) {
		const struct vgl_resp_alarm *a = &r->alarms[i];
		char id[24], tta[48], ttc[48], b1[VGL_ISO_LEN];

		if (only_missed && !missed(a))
			continue;
		snprintf(id, sizeof(id), "%lld", (long long)a->id);
		dur_or_dash(a->acked, a->ack_ms, tta, sizeof(tta));
		dur_or_dash(a->cleared, a->clear_ms, ttc, sizeof(ttc));
		const char *row[] = { id, a->host, a->site, a->severity, a->rule,
				      vgl_format_iso(a->raised_ms, b1), a->acked_by, tta,
				      vgl_resp_verdict_name(a->ack), ttc,
				      vgl_resp_verdict_name(a->clear) };
		if (vgl_table_add(t, row) != 0)
			return -1;
	}
	return 0;
}

static int group_rows(struct vgl_table *t, const struct vgl_resp_group *gs, size_t n,
		      const char *none)
{
	for (size_t i = 0; i < n; i++) {
		const struct vgl_resp_group *g = &gs[i];
		char cnt[24], ack[48], ackp[16], clr[48], clrp[16], run[48];

		snprintf(cnt, sizeof(cnt), "%zu", g->alarms);
		snprintf(ack, sizeof(ack), "%zu/%zu", g->ack_met, g->ack_due);
		snprintf(clr, sizeof(clr), "%zu/%zu", g->clear_met, g->clear_due);
		pct(vgl_resp_permille(g->ack_met, g->ack_due), ackp, sizeof(ackp));
		pct(vgl_resp_permille(g->clear_met, g->clear_due), clrp, sizeof(clrp));
		snprintf(run, sizeof(run), "%zu/%zu", g->ack_running, g->clear_running);
		const char *row[] = { g->name ? g->name : none, cnt, ack, ackp, clr, clrp, run };
		if (vgl_table_add(t, row) != 0)
			return -1;
	}
	return 0;
}

static int print_table(struct report *p)
{
	static const char *const ahead[] = { "ID", "HOST", "SITE", "SEVERITY", "RULE", "RAISED",
					     "ACKED_BY", "TIME_TO_ACK", "ACK", "TIME_TO_CLEAR",
					     "CLEAR" };
	static const char *const shead[] = { "SEVERITY", "ALARMS", "ACKED_IN_TIME", "%",
					     "CLEARED_IN_TIME", "%", "RUNNING(ACK/CLEAR)" };
	static const char *const thead[] = { "SITE", "ALARMS", "ACKED_IN_TIME", "%",
					     "CLEARED_IN_TIME", "%", "RUNNING(ACK/CLEAR)" };
	const struct vgl_alarm_response *r = p->r;
	struct vgl_table *ta = vgl_table_new(11, ahead), *ts = vgl_table_new(7, shead);
	struct vgl_table *tt = vgl_table_new(7, thead), *tm = vgl_table_new(11, ahead);
	char b1[VGL_ISO_LEN], b2[VGL_ISO_LEN], b3[VGL_ISO_LEN], d1[48], d2[48];
	int rc = -1;

	/* The total closes the severity table: every alarm has exactly one
	 * severity, so the rows above it add up to it. */
	if (!ta || !ts || !tt || !tm || alarm_rows(ta, r, 0) ||
	    group_rows(ts, r->by_severity, r->n_severity, "(none)") ||
	    group_rows(ts, &r->total, 1, "all") ||
	    group_rows(tt, r->by_site, r->n_site, "(no site)") || alarm_rows(tm, r, 1)) {
		errorf("out of memory");
		goto out;
	}
	vgl_cli_format_duration(r->ack_commit_ms, d1, sizeof(d1));
	vgl_cli_format_duration(r->clear_commit_ms, d2, sizeof(d2));
	say(p, "response %s (UTC, %s .. %s) as of %s: acknowledge within %s, clear within %s\n",
	    p->month, vgl_format_iso(r->from_ms, b1), vgl_format_iso(r->to_ms, b2),
	    vgl_format_iso(r->now_ms, b3), d1, d2);
	say(p, "%zu alarm(s); left out, having paged nobody: %zu suppressed, %zu muted\n\n", r->n,
	    r->suppressed, r->muted);
	if (p->out_failed || vgl_table_print(ta, stdout) != 0)
		goto out_write;
	say(p, "\nby severity:\n");
	if (p->out_failed || vgl_table_print(ts, stdout) != 0)
		goto out_write;
	say(p, "\nby site:\n");
	if (p->out_failed || vgl_table_print(tt, stdout) != 0)
		goto out_write;
	say(p, "\nmissed:\n");
	if (p->out_failed)
		goto out_write;
	if (vgl_table_rows(tm) == 0)
		say(p, "none\n");
	else if (vgl_table_print(tm, stdout) != 0)
		goto out_write;
	if (p->out_failed || vgl_cli_finish_output() != 0)
		goto out_write;
	rc = 0;
	goto out;
out_write:
	errorf("writing output: %s", errno ? strerror(errno) : "failed");
out:
	vgl_table_free(ta);
	vgl_table_free(ts);
	vgl_table_free(tt);
	vgl_table_free(tm);
	return rc;
}

/* ---- JSON ---- */

static int j_ms_or_null(cJSON *o, const char *k, int present, int64_t ms)
{
	if (present)
		return vgl_cli_j_num(o, k, ms);
	return cJSON_AddNullToObject(o, k) ? 0 : -1;
}

static int j_permille(cJSON *o, const char *k, int pm)
{
	return pm < 0 ? (cJSON_AddNullToObject(o, k) ? 0 : -1) : vgl_cli_j_num(o, k, pm);
}

static cJSON *alarm_obj(const struct vgl_resp_alarm *a)
{
	cJSON *o = cJSON_CreateObject();

	if (!o || vgl_cli_j_num(o, "id", a->id) || vgl_cli_j_str(o, "host", a->host) ||
	    vgl_cli_j_str(o, "site", a->site) || vgl_cli_j_str(o, "severity", a->severity) ||
	    vgl_cli_j_str(o, "kind", a->kind) || vgl_cli_j_str(o, "rule", a->rule) ||
	    vgl_cli_j_str(o, "summary", a->summary) ||
	    vgl_cli_j_time(o, "raised", a->raised_ms, 1) ||
	    vgl_cli_j_time(o, "acked", a->acked_ms, a->acked) ||
	    vgl_cli_j_str(o, "acked_by", a->acked_by) ||
	    j_ms_or_null(o, "time_to_ack_ms", a->acked, a->ack_ms) ||
	    vgl_cli_j_str(o, "ack", vgl_resp_verdict_name(a->ack)) ||
	    vgl_cli_j_time(o, "cleared", a->cleared_ms, a->cleared) ||
	    j_ms_or_null(o, "time_to_clear_ms", a->cleared, a->clear_ms) ||
	    vgl_cli_j_str(o, "clear", vgl_resp_verdict_name(a->clear))) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

static cJSON *group_obj(const struct vgl_resp_group *g, const char *key)
{
	cJSON *o = cJSON_CreateObject();

	if (!o || (key && vgl_cli_j_str(o, key, g->name)) ||
	    vgl_cli_j_num(o, "alarms", (int64_t)g->alarms) ||
	    vgl_cli_j_num(o, "ack_met", (int64_t)g->ack_met) ||
	    vgl_cli_j_num(o, "ack_due", (int64_t)g->ack_due) ||
	    vgl_cli_j_num(o, "ack_running", (int64_t)g->ack_running) ||
	    j_permille(o, "ack_permille", vgl_resp_permille(g->ack_met, g->ack_due)) ||
	    vgl_cli_j_num(o, "clear_met", (int64_t)g->clear_met) ||
	    vgl_cli_j_num(o, "clear_due", (int64_t)g->clear_due) ||
	    vgl_cli_j_num(o, "clear_running", (int64_t)g->clear_running) ||
	    j_permille(o, "clear_permille", vgl_resp_permille(g->clear_met, g->clear_due))) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

/* Adds o to arr; frees o if that fails. 0 or -1. */
static int push(cJSON *arr, cJSON *o)
{
	if (!o || !arr || !cJSON_AddItemToArray(arr, o)) {
		cJSON_Delete(o);
		return -1;
	}
	return 0;
}

static int print_json(struct report *p)
{
	const struct vgl_alarm_response *r = p->r;
	cJSON *o = cJSON_CreateObject(), *cm, *al, *bs, *bt, *ms, *tot;
	int rc;

	if (!o || vgl_cli_j_str(o, "month", p->month) || vgl_cli_j_time(o, "from", r->from_ms, 1) ||
	    vgl_cli_j_time(o, "to", r->to_ms, 1) || vgl_cli_j_time(o, "as_of", r->now_ms, 1) ||
	    !(cm = cJSON_AddObjectToObject(o, "commitments")) ||
	    vgl_cli_j_num(cm, "ack_s", r->ack_commit_ms / 1000) ||
	    vgl_cli_j_num(cm, "clear_s", r->clear_commit_ms / 1000) ||
	    vgl_cli_j_num(o, "suppressed", (int64_t)r->suppressed) ||
	    vgl_cli_j_num(o, "muted", (int64_t)r->muted) ||
	    !(al = cJSON_AddArrayToObject(o, "alarms")))
		goto out_oom;
	if (!(tot = group_obj(&r->total, NULL)) || !cJSON_AddItemToObject(o, "total", tot)) {
		cJSON_Delete(tot);
		goto out_oom;
	}
	if (!(bs = cJSON_AddArrayToObject(o, "by_severity")) ||
	    !(bt = cJSON_AddArrayToObject(o, "by_site")) ||
	    !(ms = cJSON_AddArrayToObject(o, "missed")))
		goto out_oom;
	for (size_t i = 0; i < r->n; i++)
		if (push(al, alarm_obj(&r->alarms[i])) ||
		    (missed(&r->alarms[i]) && push(ms, alarm_obj(&r->alarms[i]))))
			goto out_oom;
	for (size_t i = 0; i < r->n_severity; i++)
		if (push(bs, group_obj(&r->by_severity[i], "severity")))
			goto out_oom;
	for (size_t i = 0; i < r->n_site; i++)
		if (push(bt, group_obj(&r->by_site[i], "site")))
			goto out_oom;
	rc = vgl_cli_emit(NULL, o);
	cJSON_Delete(o);
	return rc;
out_oom:
	cJSON_Delete(o);
	errorf("out of memory");
	return -1;
}

/* ---- CSV ---- */

/* RFC 4180: quoted only when it must be. */
static void csv_field(struct report *p, const char *s, int last)
{
	if (!s)
		s = "";
	if (strpbrk(s, ",\"\r\n")) {
		say(p, "\"");
		for (; *s; s++)
			say(p, *s == '"' ? "\"\"" : "%c", *s);
		say(p, "\"");
	} else {
		say(p, "%s", s);
	}
	say(p, last ? "\n" : ",");
}

static int print_csv(struct report *p)
{
	const struct vgl_alarm_response *r = p->r;

	say(p, "id,host,site,severity,kind,rule,raised,acked,acked_by,time_to_ack_ms,ack,"
	       "cleared,time_to_clear_ms,clear\n");
	for (size_t i = 0; i < r->n && !p->out_failed; i++) {
		const struct vgl_resp_alarm *a = &r->alarms[i];
		char id[24], tta[24] = "", ttc[24] = "";
		char b1[VGL_ISO_LEN], b2[VGL_ISO_LEN] = "", b3[VGL_ISO_LEN] = "";

		snprintf(id, sizeof(id), "%lld", (long long)a->id);
		if (a->acked) {
			snprintf(tta, sizeof(tta), "%lld", (long long)a->ack_ms);
			vgl_format_iso(a->acked_ms, b2);
		}
		if (a->cleared) {
			snprintf(ttc, sizeof(ttc), "%lld", (long long)a->clear_ms);
			vgl_format_iso(a->cleared_ms, b3);
		}
		csv_field(p, id, 0);
		csv_field(p, a->host, 0);
		csv_field(p, a->site, 0);
		csv_field(p, a->severity, 0);
		csv_field(p, a->kind, 0);
		csv_field(p, a->rule, 0);
		csv_field(p, vgl_format_iso(a->raised_ms, b1), 0);
		csv_field(p, b2, 0);
		csv_field(p, a->acked_by, 0);
		csv_field(p, tta, 0);
		csv_field(p, vgl_resp_verdict_name(a->ack), 0);
		csv_field(p, b3, 0);
		csv_field(p, ttc, 0);
		csv_field(p, vgl_resp_verdict_name(a->clear), 1);
	}
	if (p->out_failed) {
		errorf("writing output: %s", errno ? strerror(errno) : "failed");
		return -1;
	}
	return vgl_cli_finish_output();
}

/* ---- command ---- */

/* [from, to) of month M in UTC. 0, or -1 with the message printed. */
static int month_bounds(const char *m, int64_t *from, int64_t *to)
{
	int y, mo;
	char b[32];

	if (vgl_sla_month_parse(m, &y, &mo) != 0) {
		errorf("report response: --month: bad month '%s' (expected e.g. 2026-11; %d-01 to "
		       "%d-12)", m, VGL_YEAR_MIN, VGL_YEAR_MAX);
		return -1;
	}
	snprintf(b, sizeof(b), "%04d-%02d-01", y, mo);
	if (vgl_parse_iso(b, from) != 0)
		goto out_bad;
	/* The month after 9998-12 is outside the parser's range: its start
	 * is the same instant as 9999-01-01 by arithmetic on 9998-12-01. */
	if (mo == 12 && y == VGL_YEAR_MAX) {
		*to = *from + 31 * 86400000LL;
		return 0;
	}
	snprintf(b, sizeof(b), "%04d-%02d-01", mo == 12 ? y + 1 : y, mo == 12 ? 1 : mo + 1);
	if (vgl_parse_iso(b, to) != 0)
		goto out_bad;
	return 0;
out_bad:
	errorf("report response: --month: bad month '%s'", m);
	return -1;
}

static int cmd_response(struct vgl_cli *c)
{
	const struct vgl_cli_args *a = &c->a;
	struct vgl_alarm_response *r = NULL;
	struct report p = { .month = a->month };
	int64_t from, to, now = vgl_now_ms(), ack_ms = DEFAULT_ACK_MS, clear_ms = DEFAULT_CLEAR_MS;
	char err[512], b1[VGL_ISO_LEN], b2[VGL_ISO_LEN];
	int rc;

	if (a->json && a->csv) {
		errorf("report response: give at most one of --json and --csv");
		return EXIT_USAGE;
	}
	if (vgl_cli_require("report response", "--month", a->month) ||
	    month_bounds(a->month, &from, &to) ||
	    (a->ack_within &&
	     vgl_cli_parse_duration("report response: --ack-within", a->ack_within, &ack_ms)) ||
	    (a->clear_within &&
	     vgl_cli_parse_duration("report response: --clear-within", a->clear_within,
				    &clear_ms)) ||
	    (a->now && vgl_cli_parse_time("report response: --now", a->now, &now)))
		return EXIT_USAGE;
	if (now < from) {
		errorf("report response: the month %s has not begun (it begins %s; now is %s): "
		       "nothing to report yet", a->month, vgl_format_iso(from, b1),
		       vgl_format_iso(now, b2));
		return EXIT_USAGE;
	}
	if ((rc = vgl_cli_open_alarm_db(c)) != 0)
		return rc;
	/* flags first, then the configuration's commitments, then SLA.md's */
	if (c->conf && c->conf->alarm_conf) {
		if (!a->ack_within)
			ack_ms = c->conf->alarm_conf->ack_ms;
		if (!a->clear_within)
			clear_ms = c->conf->alarm_conf->clear_ms;
	}
	if (vgl_alarm_db_response(c->adb, from, to, now, ack_ms, clear_ms, &r, err,
				  sizeof(err)) != 0) {
		errorf("%s: %s", c->db_path, err);
		return EXIT_FAIL;
	}
	p.r = r;
	rc = a->json ? print_json(&p) : a->csv ? print_csv(&p) : print_table(&p);
	vgl_alarm_response_free(r);
	return rc ? EXIT_FAIL : 0;
}

int vgl_cli_cmd_report(struct vgl_cli *c, int argc, char **argv, int i)
{
	struct vgl_cli_args *a = &c->a;
	const struct vgl_cli_opt globals[] = { VGL_CLI_GLOBAL_OPTS(a), VGL_CLI_OPTS_END };
	const struct vgl_cli_opt o[] = {
		VGL_CLI_GLOBAL_OPTS(a),
		{ "--month", NULL, &a->month, NULL },
		{ "--csv", NULL, NULL, &a->csv },
		{ "--ack-within", NULL, &a->ack_within, NULL },
		{ "--clear-within", NULL, &a->clear_within, NULL },
		{ "--now", NULL, &a->now, NULL },
		VGL_CLI_OPTS_END,
	};

	if (vgl_cli_parse_opts(argc, argv, &i, globals, "report", 1, NULL, 0) != 0)
		return EXIT_USAGE;
	if (i >= argc) {
		if (a->help)
			return vgl_cli_help(usage_report);
		errorf("report: missing report name (expected 'response')");
		return EXIT_USAGE;
	}
	if (strcmp(argv[i], "response") != 0) {
		errorf("report: unknown report '%s' (expected 'response')", argv[i]);
		return EXIT_USAGE;
	}
	i++;
	if (vgl_cli_parse_opts(argc, argv, &i, o, "report response", 0, NULL, 0) != 0)
		return EXIT_USAGE;
	return a->help ? vgl_cli_help(usage_report) : cmd_response(c);
}
