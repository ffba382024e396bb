/* vigil alarms, alarm show, ack, comment and silence add|list|remove: the
 * operator's side of the alarms vigild raises (docs/cli.md). The storage
 * is storage/alarm_db.c; vigild writes the same tables meanwhile.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/vtime.h"
#include "storage/alarm_db.h"
#include "storage/alarm_view.h"

#define EXIT_FAIL VGL_CLI_EXIT_FAIL
#define EXIT_USAGE VGL_CLI_EXIT_USAGE
#define errorf vgl_cli_errorf

static const char usage_alarms[] =
	"usage: vigil [GLOBAL OPTIONS] alarms [--active] [--host H] [--json]\n"
	"\n"
	"Lists the alarms vigild raised, newest first: id, host, site, severity, state,\n"
	"kind, rule, when raised, acknowledged (and by whom) and cleared, the alarm that\n"
	"suppressed it (a root or flapping alarm paged instead) and what muted it (a\n"
	"silence or maintenance: recorded, nobody paged), and the summary. The state\n"
	"is cleared once cleared, else acknowledged once acknowledged, else raised.\n"
	"\n"
	"  --active   only alarms not cleared\n"
	"  --host H   only host H's (a host in the database; unknown: exit 1)\n"
	"\n"
	"With --db FILE no configuration is needed.\n";

static const char usage_alarm[] =
	"usage: vigil [GLOBAL OPTIONS] alarm show ID [--json]\n"
	"\n"
	"Shows alarm ID (the ID of 'vigil alarms') with every column, its log (raised,\n"
	"acknowledged, comments, suppressed, muted, notified, cleared: oldest first)\n"
	"and its notifications in the outbox (channel, event, escalation step, repeat,\n"
	"dedup key, attempts, when delivered, last error). No such alarm: exit 1.\n";

static const char usage_ack[] =
	"usage: vigil [GLOBAL OPTIONS] ack ID --by NAME [--comment TEXT]\n"
	"\n"
	"Acknowledges alarm ID: records that NAME has taken it (acked_ms = now,\n"
	"acked_by = NAME) and appends an 'acknowledged' row to its log with the\n"
	"comment, in one transaction. --by is required: an acknowledgement says who\n"
	"answers for the alarm, which the login of a shared console does not.\n"
	"Refused (exit 1, nothing written) when there is no such alarm, it is\n"
	"already acknowledged (the message says by whom and when) or it is cleared.\n";

static const char usage_comment[] =
	"usage: vigil [GLOBAL OPTIONS] comment ID TEXT [--by NAME]\n"
	"\n"
	"Appends a comment to alarm ID's log (cleared alarms too). --by: who, by\n"
	"default SUDO_USER, else USER, else the password database's name.\n"
	"No such alarm or an empty TEXT: exit 1.\n";

static const char usage_silence[] =
	"usage: vigil [GLOBAL OPTIONS] silence add (--host H | --site S | --label KEY=VALUE)...\n"
	"                                          (--for DURATION | --until T) [--from T]\n"
	"                                          --reason TEXT [--by NAME]\n"
	"       vigil [GLOBAL OPTIONS] silence list [--all] [--json]\n"
	"       vigil [GLOBAL OPTIONS] silence remove ID [--by NAME]\n"
	"\n"
	"A silence mutes the alarms it matches while from <= now < until: vigild still\n"
	"records them (muted 'silence:ID') but pages nobody.\n"
	"\n"
	"add     matchers: at least one; given together, an alarm must match all\n"
	"          --host H          a host in the database (unknown: exit 1)\n"
	"          --site S          a site\n"
	"          --label KEY=VALUE an alarm label\n"
	"        --for DURATION      e.g. 90s, 30m, 2h, 1d; or\n"
	"        --until T           the end (after --from and after now)\n"
	"        --from T            the start (default: now)\n"
	"        --reason TEXT       why (required)\n"
	"        --by NAME           who (default SUDO_USER, else USER)\n"
	"        prints the new silence's id\n"
	"list    silences not removed and not expired (pending ones too), by start;\n"
	"        --all: every silence, with its status\n"
	"remove  ID: ends silence ID now (removed_by, removed_ms; kept for the\n"
	"        record). Already removed or no such silence: exit 1\n";

/* ---- shared ---- */

int vgl_cli_open_alarm_db(struct vgl_cli *c)
{
	char err[512];

	if (c->a.db_path && !*c->a.db_path) {
		errorf("--db: empty path");
		return EXIT_USAGE;
	}
	/* The alarm tables hold everything these commands show (hosts by
	 * name included): with --db, a config is read only when named. */
	if ((!c->a.db_path || c->a.conf_path) && vgl_cli_load_conf(c) != 0)
		return EXIT_FAIL;
	if (vgl_cli_open_db(c, 0) != 0)
		return EXIT_FAIL;
	if (vgl_alarm_db_new(c->db, &c->adb, err, sizeof(err)) != 0) {
		errorf("%s: %s", c->db_path, err);
		return EXIT_FAIL;
	}
	return 0;
}

int vgl_cli_parse_duration(const char *opt, const char *s, int64_t *out_ms)
{
	int64_t v = 0, unit;
	const char *p = s;

	/* Nine digits bound the value well inside int64 for any unit. */
	for (; *p >= '0' && *p <= '9' && p - s < 9; p++)
		v = v * 10 + (*p - '0');
	switch (p > s ? *p : '\0') {
	case 's': unit = 1000; break;
	case 'm': unit = 60 * 1000; break;
	case 'h': unit = 3600 * 1000; break;
	case 'd': unit = 86400 * 1000; break;
	default: unit = 0; break;
	}
	if (!unit || p[1] != '\0' || v <= 0) {
		errorf("%s: bad duration '%s' (expected a positive number and a unit s, m, h "
		       "or d, e.g. 30m, 2h, 1d)", opt, s);
		return -1;
	}
	*out_ms = v * unit;
	return 0;
}

static int parse_id(const char *where, const char *what, const struct vgl_cli_args *a,
		    size_t npos, int64_t *out)
{
	const char *s = a->npos ? a->pos[0] : NULL;
	char *end;
	long long v;

	if (a->npos != npos) {
		errorf("%s: give one %s ID%s", where, what, npos == 2 ? " and the text" : "");
		return -1;
	}
	errno = 0;
	v = *s >= '0' && *s <= '9' ? strtoll(s, &end, 10) : 0;
	if (*s < '0' || *s > '9' || errno || *end || v <= 0) {
		errorf("%s: bad %s ID '%s' (expected a positive integer)", where, what, s);
		return -1;
	}
	*out = v;
	return 0;
}

static const char *iso_or_dash(int present, int64_t ms, char buf[VGL_ISO_LEN])
{
	return present ? vgl_format_iso(ms, buf) : "-";
}

/* The `alarms --json` object of a; NULL when out of memory. */
static cJSON *alarm_json(const struct vgl_alarm_db_alarm *a)
{
	return vgl_view_alarm_json(a);
}

static int add_to_array(cJSON *arr, cJSON *o)
{
	if (!o || !cJSON_AddItemToArray(arr, o)) {
		cJSON_Delete(o);
		return -1;
	}
	return 0;
}

/* The database's answer to a walk: 0, or EXIT_FAIL with one message. */
static int walk_status(const struct vgl_cli *c, int r, const char *err)
{
	if (r < 0)
		errorf("%s: %s", c->db_path, err);
	else if (r > 0)
		errorf("out of memory");
	return r ? EXIT_FAIL : 0;
}

/* ---- alarms ---- */

struct alarm_list {
	struct vgl_table *t;
	cJSON *arr;
};

static int on_alarm(void *ctx, const struct vgl_alarm_db_alarm *a)
{
	struct alarm_list *l = ctx;
	char id[24], sup[24], b1[VGL_ISO_LEN], b2[VGL_ISO_LEN], b3[VGL_ISO_LEN];

	if (!l->t)
		return add_to_array(l->arr, alarm_json(a)) ? 1 : 0;
	snprintf(id, sizeof(id), "%lld", (long long)a->id);
	snprintf(sup, sizeof(sup), "%lld", (long long)a->suppressed_by);
	const char *row[] = { id, a->host, a->site, a->severity, vgl_alarm_state_name(a->state),
			      a->kind, a->rule, vgl_format_iso(a->raised_ms, b1),
			      iso_or_dash(a->acked, a->acked_ms, b2), a->acked_by,
			      iso_or_dash(a->cleared, a->cleared_ms, b3),
			      a->suppressed_by ? sup : NULL, a->muted, a->summary };
	return vgl_table_add(l->t, row) ? 1 : 0;
}

static int cmd_alarms(struct vgl_cli *c)
{
	static const char *const head[] = { "ID", "HOST", "SITE", "SEVERITY", "STATE",
					    "KIND", "RULE", "RAISED", "ACKED", "BY",
					    "CLEARED", "SUPPRESSED_BY", "MUTED", "SUMMARY" };
	struct vgl_alarm_db_filter f;
	struct alarm_list l = { 0 };
	char err[512];
	int rc;

	if ((rc = vgl_cli_open_alarm_db(c)) != 0)
		return rc;
	vgl_alarm_db_filter_init(&f);
	f.active_only = c->a.active;
	f.host = c->a.host;
	if (f.host) {
		int known;

		if (vgl_alarm_db_host_known(c->adb, f.host, &known, err, sizeof(err)) != 0) {
			errorf("%s: %s", c->db_path, err);
			return EXIT_FAIL;
		}
		if (!known) {
			errorf("alarms: unknown host '%s' (not in the hosts table)", f.host);
			return EXIT_FAIL;
		}
	}
	if (c->a.json ? !(l.arr = cJSON_CreateArray()) : !(l.t = vgl_table_new(14, head))) {
		errorf("out of memory");
		return EXIT_FAIL;
	}
	rc = walk_status(c, vgl_alarm_db_alarms(c->adb, &f, on_alarm, &l, err, sizeof(err)), err);
	if (rc == 0 && vgl_cli_emit(l.t, l.arr) != 0)
		rc = EXIT_FAIL;
	vgl_table_free(l.t);
	cJSON_Delete(l.arr);
	return rc;
}

/* ---- alarm show ---- */

static int on_show_alarm(void *ctx, const struct vgl_alarm_db_alarm *a)
{
	cJSON **o = ctx;

	*o = alarm_json(a);
	/* 2: 1 is vgl_alarm_db_alarm's "no such alarm" */
	return *o ? 0 : 2;
}

struct show {
	cJSON *arr;
	struct vgl_table *t;
};

static int on_log(void *ctx, const struct vgl_alarm_db_log *lg)
{
	struct show *s = ctx;
	char b[VGL_ISO_LEN];

	if (s->t) {
		const char *row[] = { vgl_format_iso(lg->ts_ms, b), lg->action, lg->by, lg->text };
		return vgl_table_add(s->t, row) ? 1 : 0;
	}
	return add_to_array(s->arr, vgl_view_alarm_log_json(lg)) ? 1 : 0;
}

static int on_notice(void *ctx, const struct vgl_alarm_db_notice *n)
{
	struct show *s = ctx;
	char step[24], rep[24], att[24], b[VGL_ISO_LEN];

	if (s->t) {
		snprintf(step, sizeof(step), "%lld", (long long)n->step);
		snprintf(rep, sizeof(rep), "%lld", (long long)n->repeat);
		snprintf(att, sizeof(att), "%lld", (long long)n->attempts);
		const char *row[] = { n->channel, n->event, step, rep, n->dedup_key, att,
				      n->delivered ? vgl_format_iso(n->delivered_ms, b) : "owed",
				      n->last_error };
		return vgl_table_add(s->t, row) ? 1 : 0;
	}
	return add_to_array(s->arr, vgl_view_notice_json(n)) ? 1 : 0;
}

/* One "  key  value" line; control characters become spaces, as in the
 * tables, so a summary cannot forge lines of its own. 0 or -1. */
static int print_kv(const char *k, const char *v)
{
	if (printf("  %-14s ", k) < 0)
		return -1;
	for (; *v; v++)
		if (putchar((unsigned char)*v < 0x20 || *v == 0x7f ? ' ' : *v) == EOF)
			return -1;
	return putchar('\n') == EOF ? -1 : 0;
}

/* The alarm's fields as "name  value" lines, from its JSON object so the
 * two outputs cannot disagree. */
static int print_alarm_text(const cJSON *o)
{
	static const char *const keys[] = { "host", "site", "severity", "state", "kind", "rule",
					     "summary", "raised", "acked", "acked_by", "cleared",
					     "suppressed_by", "muted", "policy", "labels",
					     "details" };
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(o, "id");

	if (printf("alarm %lld\n", cJSON_IsNumber(id) ? (long long)id->valuedouble : 0LL) < 0)
		return -1;
	for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, keys[k]);
		char *text = NULL;
		int n;

		if (cJSON_IsString(v))
			n = print_kv(keys[k], v->valuestring);
		else if (cJSON_IsNumber(v))
			n = printf("  %-14s %lld\n", keys[k], (long long)v->valuedouble);
		else if (cJSON_IsObject(v) && (text = cJSON_PrintUnformatted(v)))
			n = print_kv(keys[k], text);
		else if (cJSON_IsObject(v))
			return -1;
		else
			n = printf("  %-14s -\n", keys[k]);
		cJSON_free(text);
		if (n < 0)
			return -1;
	}
	return 0;
}

static int cmd_alarm_show(struct vgl_cli *c)
{
	static const char *const log_head[] = { "TS", "ACTION", "BY", "TEXT" };
	static const char *const out_head[] = { "CHANNEL", "EVENT", "STEP", "REPEAT",
						"DEDUP_KEY", "ATTEMPTS", "DELIVERED",
						"LAST_ERROR" };
	struct show lg = { 0 }, ob = { 0 };
	cJSON *o = NULL;
	char err[512];
	int64_t id;
	int rc, r;

	if (parse_id("alarm show", "alarm", &c->a, 1, &id) != 0)
		return EXIT_USAGE;
	if ((rc = vgl_cli_open_alarm_db(c)) != 0)
		return rc;
	r = vgl_alarm_db_alarm(c->adb, id, on_show_alarm, &o, err, sizeof(err));
	if (r == 1 && !o) {
		errorf("alarm show: alarm %lld: no such alarm", (long long)id);
		return EXIT_FAIL;
	}
	if ((rc = walk_status(c, r, err)) != 0)
		goto out;
	rc = EXIT_FAIL;
	if (c->a.json ? !(lg.arr = cJSON_AddArrayToObject(o, "log")) ||
				!(ob.arr = cJSON_AddArrayToObject(o, "outbox"))
		      : !(lg.t = vgl_table_new(4, log_head)) || !(ob.t = vgl_table_new(8, out_head))) {
		errorf("out of memory");
		goto out;
	}
	if (walk_status(c, vgl_alarm_db_log(c->adb, id, on_log, &lg, err, sizeof(err)), err) ||
	    walk_status(c, vgl_alarm_db_outbox(c->adb, id, on_notice, &ob, err, sizeof(err)), err))
		goto out;
	if (c->a.json) {
		if (vgl_cli_emit(NULL, o) != 0)
			goto out;
	} else {
		if (print_alarm_text(o) != 0 || printf("\nlog:\n") < 0 ||
		    vgl_table_print(lg.t, stdout) != 0 || printf("\noutbox:\n") < 0) {
			errorf("writing output: %s", errno ? strerror(errno) : "failed");
			goto out;
		}
		if (vgl_cli_emit(ob.t, NULL) != 0)
			goto out;
	}
	rc = 0;
out:
	vgl_table_free(lg.t);
	vgl_table_free(ob.t);
	cJSON_Delete(o);
	return rc;
}

/* ---- ack, comment ---- */

/* The database's answer to an edit: 0, or EXIT_FAIL with one message. */
static int edit_status(const struct vgl_cli *c, const char *where, enum vgl_alarm_db_result r,
		       const char *err)
{
	switch (r) {
	case VGL_ALARM_DB_OK:
		return 0;
	case VGL_ALARM_DB_REFUSED:
		errorf("%s: refused: %s", where, err);
		return EXIT_FAIL;
	case VGL_ALARM_DB_ERROR:
	default:
		errorf("%s: %s", c->db_path, err);
		return EXIT_FAIL;
	}
}

static int print_edit_json(int64_t id, const char *idk, const char *k1, const char *v1,
			   const char *k2, const char *v2, const char *tk, int64_t ts)
{
	cJSON *arr = cJSON_CreateArray(), *o = cJSON_CreateObject();
	int rc;

	if (!arr || add_to_array(arr, o) || vgl_cli_j_num(o, idk, id) ||
	    (k1 && vgl_cli_j_str(o, k1, v1)) || (k2 && vgl_cli_j_str(o, k2, v2)) ||
	    vgl_cli_j_time(o, tk, ts, 1)) {
		if (!arr)
			cJSON_Delete(o);
		cJSON_Delete(arr);
		errorf("out of memory");
		return EXIT_FAIL;
	}
	rc = vgl_cli_emit(NULL, arr);
	cJSON_Delete(arr);
	return rc ? EXIT_FAIL : 0;
}

static int cmd_ack(struct vgl_cli *c)
{
	int64_t id, now = vgl_now_ms();
	char err[512], b[VGL_ISO_LEN];
	int rc;

	if (parse_id("ack", "alarm", &c->a, 1, &id) != 0 || vgl_cli_require("ack", "--by", c->a.by))
		return EXIT_USAGE;
	if (!*c->a.by) {
		errorf("ack: --by: empty name");
		return EXIT_USAGE;
	}
	if ((rc = vgl_cli_open_alarm_db(c)) != 0)
		return rc;
	rc = edit_status(c, "ack", vgl_alarm_db_ack(c->adb, id, c->a.by, c->a.comment, now, err,
						     sizeof(err)), err);
	if (rc)
		return rc;
	if (c->a.json)
		return print_edit_json(id, "id", "acked_by", c->a.by, "comment", c->a.comment,
				       "acked", now);
	printf("alarm %lld: acknowledged by %s at %s\n", (long long)id, c->a.by,
	       vgl_format_iso(now, b));
	return vgl_cli_finish_output() ? EXIT_FAIL : 0;
}

/* --by, else the login; NULL with the message printed. */
static const char *who(const char *where, const char *by)
{
	const char *u = by ? by : vgl_cli_current_user();

	if (!u)
		errorf("%s: cannot tell who you are (set USER or give --by NAME)", where);
	else if (!*u)
		errorf("%s: --by: empty name", where);
	return u && *u ? u : NULL;
}

static int cmd_comment(struct vgl_cli *c)
{
	int64_t id, now = vgl_now_ms();
	const char *by, *text;
	char err[512];
	int rc;

	if (parse_id("comment", "alarm", &c->a, 2, &id) != 0)
		return EXIT_USAGE;
	text = c->a.pos[1];
	if (!(by = who("comment", c->a.by)))
		return c->a.by ? EXIT_USAGE : EXIT_FAIL;
	if ((rc = vgl_cli_open_alarm_db(c)) != 0)
		return rc;
	rc = edit_status(c, "comment",
			 vgl_alarm_db_comment(c->adb, id, by, text, now, err, sizeof(err)), err);
	if (rc)
		return rc;
	if (c->a.json)
		return print_edit_json(id, "alarm_id", "by", by, "text", text, "ts", now);
	printf("alarm %lld: comment added by %s\n", (long long)id, by);
	return vgl_cli_finish_output() ? EXIT_FAIL : 0;
}

/* ---- silence ---- */

static int silence_json(cJSON *arr, const struct vgl_alarm_db_silence *si, int64_t now)
{
	return add_to_array(arr, vgl_view_silence_json(si, now));
}

static int cmd_silence_add(struct vgl_cli *c)
{
	const char *w = "silence add", *by;
	struct vgl_alarm_db_silence_add add = { 0 };
	char err[512], b1[VGL_ISO_LEN], b2[VGL_ISO_LEN];
	int64_t id = 0, dur = 0;
	int rc;

	add.now_ms = vgl_now_ms();
	add.start_ms = add.now_ms;
	if (!c->a.host && !c->a.site && !c->a.label) {
		errorf("%s: give at least one of --host, --site and --label", w);
		return EXIT_USAGE;
	}
	if (!c->a.for_ == !c->a.until) {
		errorf("%s: give exactly one of --for and --until", w);
		return EXIT_USAGE;
	}
	if (vgl_cli_require(w, "--reason", c->a.reason) ||
	    (c->a.from && vgl_cli_parse_time("silence add: --from", c->a.from, &add.start_ms)) ||
	    (c->a.until && vgl_cli_parse_time("silence add: --until", c->a.until, &add.end_ms)) ||
	    (c->a.for_ && vgl_cli_parse_duration("silence add: --for", c->a.for_, &dur)))
		return EXIT_USAGE;
	if (c->a.for_)
		add.end_ms = add.start_ms + dur;
	if (add.end_ms <= add.start_ms) {
		errorf("%s: --until must be after --from", w);
		return EXIT_USAGE;
	}
	if (add.end_ms <= add.now_ms) {
		errorf("%s: the silence would end in the past (%s): it would mute nothing", w,
		       vgl_format_iso(add.end_ms, b1));
		return EXIT_USAGE;
	}
	if (c->a.label && (!strchr(c->a.label, '=') || c->a.label[0] == '=')) {
		errorf("%s: --label: '%s' is not KEY=VALUE", w, c->a.label);
		return EXIT_USAGE;
	}
	if (!*c->a.reason) {
		errorf("%s: --reason: a reason is required", w);
		return EXIT_USAGE;
	}
	if (!(by = who(w, c->a.by)))
		return c->a.by ? EXIT_USAGE : EXIT_FAIL;
	add.host = c->a.host;
	add.site = c->a.site;
	add.label = c->a.label;
	add.reason = c->a.reason;
	add.by = by;
	if ((rc = vgl_cli_open_alarm_db(c)) != 0)
		return rc;
	rc = edit_status(c, w, vgl_alarm_db_silence_add(c->adb, &add, &id, err, sizeof(err)), err);
	if (rc)
		return rc;
	if (c->a.json) {
		struct vgl_alarm_db_silence si = {
			.id = id, .host = add.host, .site = add.site, .label = add.label,
			.start_ms = add.start_ms, .end_ms = add.end_ms, .reason = add.reason,
			.created_by = by, .created_ms = add.now_ms,
		};
		cJSON *arr = cJSON_CreateArray();

		if (!arr || silence_json(arr, &si, add.now_ms)) {
			cJSON_Delete(arr);
			errorf("out of memory");
			return EXIT_FAIL;
		}
		rc = vgl_cli_emit(NULL, arr);
		cJSON_Delete(arr);
		return rc ? EXIT_FAIL : 0;
	}
	printf("added silence %lld: host %s site %s label %s from %s until %s by %s\n",
	       (long long)id, add.host ? add.host : "*", add.site ? add.site : "*",
	       add.label ? add.label : "*", vgl_format_iso(add.start_ms, b1),
	       vgl_format_iso(add.end_ms, b2), by);
	return vgl_cli_finish_output() ? EXIT_FAIL : 0;
}

struct silence_list {
	struct vgl_table *t;
	cJSON *arr;
	int64_t now;
};

static int on_silence(void *ctx, const struct vgl_alarm_db_silence *si)
{
	struct silence_list *l = ctx;
	char id[24], b1[VGL_ISO_LEN], b2[VGL_ISO_LEN];

	if (!l->t)
		return silence_json(l->arr, si, l->now) ? 1 : 0;
	snprintf(id, sizeof(id), "%lld", (long long)si->id);
	const char *row[] = { id, si->host, si->site, si->label, vgl_format_iso(si->start_ms, b1),
			      vgl_format_iso(si->end_ms, b2),
			      vgl_alarm_db_silence_status(si, l->now), si->created_by,
			      si->reason };
	return vgl_table_add(l->t, row) ? 1 : 0;
}

static int cmd_silence_list(struct vgl_cli *c)
{
	static const char *const head[] = { "ID", "HOST", "SITE", "LABEL", "FROM", "UNTIL",
					    "STATUS", "BY", "REASON" };
	struct silence_list l = { .now = vgl_now_ms() };
	char err[512];
	int rc;

	if ((rc = vgl_cli_open_alarm_db(c)) != 0)
		return rc;
	if (c->a.json ? !(l.arr = cJSON_CreateArray()) : !(l.t = vgl_table_new(9, head))) {
		errorf("out of memory");
		return EXIT_FAIL;
	}
	rc = walk_status(c, vgl_alarm_db_silences(c->adb, c->a.all, l.now, on_silence, &l, err,
						  sizeof(err)), err);
	if (rc == 0 && vgl_cli_emit(l.t, l.arr) != 0)
		rc = EXIT_FAIL;
	vgl_table_free(l.t);
	cJSON_Delete(l.arr);
	return rc;
}

static int cmd_silence_remove(struct vgl_cli *c)
{
	const char *w = "silence remove", *by;
	int64_t id, now = vgl_now_ms();
	char err[512];
	int rc;

	if (parse_id(w, "silence", &c->a, 1, &id) != 0)
		return EXIT_USAGE;
	if (!(by = who(w, c->a.by)))
		return c->a.by ? EXIT_USAGE : EXIT_FAIL;
	if ((rc = vgl_cli_open_alarm_db(c)) != 0)
		return rc;
	rc = edit_status(c, w, vgl_alarm_db_silence_remove(c->adb, id, by, now, err, sizeof(err)),
			 err);
	if (rc)
		return rc;
	if (c->a.json)
		return print_edit_json(id, "id", "removed_by", by, NULL, NULL, "removed", now);
	printf("removed silence %lld by %s\n", (long long)id, by);
	return vgl_cli_finish_output() ? EXIT_FAIL : 0;
}

/* ---- dispatch ---- */

/* The option parser keeps the last of a repeated option; a silence row
 * has one host, one site and one label, so a second --host would
 * silently drop the first. 0, or -1 with the message printed. */
static int once(int argc, char **argv, int i, const char *opt)
{
	size_t len = strlen(opt);
	int seen = 0;

	for (; i < argc; i++)
		if (strncmp(argv[i], opt, len) == 0 && (argv[i][len] == '\0' || argv[i][len] == '=') &&
		    seen++) {
			errorf("silence add: %s given twice (a silence has one of each matcher; add "
			       "one silence per %s)", opt, opt + 2);
			return -1;
		}
	return 0;
}

int vgl_cli_cmd_alarms(struct vgl_cli *c, int argc, char **argv, int i)
{
	struct vgl_cli_args *a = &c->a;
	const struct vgl_cli_opt o[] = {
		VGL_CLI_GLOBAL_OPTS(a),
		{ "--active", NULL, NULL, &a->active },
		{ "--host", NULL, &a->host, NULL },
		VGL_CLI_OPTS_END,
	};

	if (vgl_cli_parse_opts(argc, argv, &i, o, "alarms", 0, NULL, 0) != 0)
		return EXIT_USAGE;
	return a->help ? vgl_cli_help(usage_alarms) : cmd_alarms(c);
}

int vgl_cli_cmd_alarm(struct vgl_cli *c, int argc, char **argv, int i)
{
	struct vgl_cli_args *a = &c->a;
	const struct vgl_cli_opt globals[] = { VGL_CLI_GLOBAL_OPTS(a), VGL_CLI_OPTS_END };

	if (vgl_cli_parse_opts(argc, argv, &i, globals, "alarm", 1, NULL, 0) != 0)
		return EXIT_USAGE;
	if (i >= argc) {
		if (a->help)
			return vgl_cli_help(usage_alarm);
		errorf("alarm: missing subcommand (expected 'show')");
		return EXIT_USAGE;
	}
	if (strcmp(argv[i], "show") != 0) {
		errorf("alarm: unknown subcommand '%s' (expected 'show'; 'vigil alarms' lists "
		       "them)", argv[i]);
		return EXIT_USAGE;
	}
	i++;
	if (vgl_cli_parse_opts(argc, argv, &i, globals, "alarm show", 0, a, 1) != 0)
		return EXIT_USAGE;
	return a->help ? vgl_cli_help(usage_alarm) : cmd_alarm_show(c);
}

int vgl_cli_cmd_ack(struct vgl_cli *c, int argc, char **argv, int i)
{
	struct vgl_cli_args *a = &c->a;
	const struct vgl_cli_opt o[] = {
		VGL_CLI_GLOBAL_OPTS(a),
		{ "--by", NULL, &a->by, NULL },
		{ "--comment", NULL, &a->comment, NULL },
		VGL_CLI_OPTS_END,
	};

	if (vgl_cli_parse_opts(argc, argv, &i, o, "ack", 0, a, 1) != 0)
		return EXIT_USAGE;
	return a->help ? vgl_cli_help(usage_ack) : cmd_ack(c);
}

int vgl_cli_cmd_comment(struct vgl_cli *c, int argc, char **argv, int i)
{
	struct vgl_cli_args *a = &c->a;
	const struct vgl_cli_opt o[] = {
		VGL_CLI_GLOBAL_OPTS(a),
		{ "--by", NULL, &a->by, NULL },
		VGL_CLI_OPTS_END,
	};

	if (vgl_cli_parse_opts(argc, argv, &i, o, "comment", 0, a, 2) != 0)
		return EXIT_USAGE;
	return a->help ? vgl_cli_help(usage_comment) : cmd_comment(c);
}

int vgl_cli_cmd_silence(struct vgl_cli *c, int argc, char **argv, int i)
{
	struct vgl_cli_args *a = &c->a;
	const struct vgl_cli_opt globals[] = { VGL_CLI_GLOBAL_OPTS(a), VGL_CLI_OPTS_END };
	const struct vgl_cli_opt o_add[] = {
		VGL_CLI_GLOBAL_OPTS(a),
		{ "--host", NULL, &a->host, NULL },
		{ "--site", NULL, &a->site, NULL },
		{ "--label", NULL, &a->label, NULL },
		{ "--for", NULL, &a->for_, NULL },
		{ "--until", NULL, &a->until, NULL },
		{ "--from", NULL, &a->from, NULL },
		{ "--reason", NULL, &a->reason, NULL },
		{ "--by", NULL, &a->by, NULL },
		VGL_CLI_OPTS_END,
	};
	const struct vgl_cli_opt o_list[] = {
		VGL_CLI_GLOBAL_OPTS(a),
		{ "--all", NULL, NULL, &a->all },
		VGL_CLI_OPTS_END,
	};
	const struct vgl_cli_opt o_remove[] = {
		VGL_CLI_GLOBAL_OPTS(a),
		{ "--by", NULL, &a->by, NULL },
		VGL_CLI_OPTS_END,
	};
	const char *sub;

	if (vgl_cli_parse_opts(argc, argv, &i, globals, "silence", 1, NULL, 0) != 0)
		return EXIT_USAGE;
	if (i >= argc) {
		if (a->help)
			return vgl_cli_help(usage_silence);
		errorf("silence: missing subcommand (expected add, list or remove)");
		return EXIT_USAGE;
	}
	sub = argv[i++];
	if (strcmp(sub, "add") == 0) {
		if (once(argc, argv, i, "--host") || once(argc, argv, i, "--site") ||
		    once(argc, argv, i, "--label") ||
		    vgl_cli_parse_opts(argc, argv, &i, o_add, "silence add", 0, NULL, 0) != 0)
			return EXIT_USAGE;
		return a->help ? vgl_cli_help(usage_silence) : cmd_silence_add(c);
	}
	if (strcmp(sub, "list") == 0) {
		if (vgl_cli_parse_opts(argc, argv, &i, o_list, "silence list", 0, NULL, 0) != 0)
			return EXIT_USAGE;
		return a->help ? vgl_cli_help(usage_silence) : cmd_silence_list(c);
	}
	if (strcmp(sub, "remove") == 0) {
		if (vgl_cli_parse_opts(argc, argv, &i, o_remove, "silence remove", 0, a, 1) != 0)
			return EXIT_USAGE;
		return a->help ? vgl_cli_help(usage_silence) : cmd_silence_remove(c);
	}
	errorf("silence: unknown subcommand '%s' (expected add, list or remove)", sub);
	return EXIT_USAGE;
}
