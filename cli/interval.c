/* vigil intervals, vigil interval add and vigil interval reclassify: the
 * Unavailable intervals, an outage the monitoring missed, and an
 * operator's correction of an interval's cause (docs/cli.md). The queries
 * are storage/query.c's; the JSON object of an interval storage/view.c's.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/jput.h"
#include "core/vtime.h"
#include "storage/query.h"
#include "storage/view.h"

#define EXIT_FAIL VGL_CLI_EXIT_FAIL
#define EXIT_USAGE VGL_CLI_EXIT_USAGE
#define errorf vgl_cli_errorf

static const char usage_intervals[] =
	"usage: vigil [GLOBAL OPTIONS] intervals [--host H] [--from T] [--to T] [--open] [--history]\n"
	"                                        [--json]\n"
	"\n"
	"Lists Unavailable intervals overlapping [--from, --to), newest start first.\n"
	"An open interval reaches to +infinity, so it overlaps every later window.\n"
	"  --host H   only host H (a configured host or one the database knows)\n"
	"  --from T   only intervals ending after T (default: no bound)\n"
	"  --to T     only intervals starting before T (default: no bound)\n"
	"  --open     only intervals still open\n"
	"  --history  each interval followed by the changes of its cause, oldest first:\n"
	"             when, old -> new, by whom (vigild or operator:USER), the note\n"
	"             (--json: a \"history\" array in each interval)\n";

static const char usage_interval[] =
	"usage: vigil [GLOBAL OPTIONS] interval add --host H --cause C --start T --end T --note TEXT\n"
	"       vigil [GLOBAL OPTIONS] interval reclassify ID --cause C --note TEXT [--by NAME]\n"
	"\n"
	"add: records an outage the monitoring missed (e.g. from a customer claim), kept\n"
	"with who added it and when (origin 'operator', opened/closed by\n"
	"'operator:USER', USER from SUDO_USER, USER or the password database) and\n"
	"an 'interval_add' event. Refused (exit 1) when the host is not configured,\n"
	"the cause is unknown, --end is not after --start, --end is in the future,\n"
	"or [start, end) overlaps any interval of the host (an open one reaches to\n"
	"+infinity).\n"
	"  --host H      configured host name\n"
	"  --cause C     network hardware power facility maintenance customer\n"
	"                force_majeure unknown\n"
	"  --start T     first moment of the outage\n"
	"  --end T       first moment of recovery (the interval is [start, end))\n"
	"  --note TEXT   why: the claim, ticket or evidence (required)\n"
	"\n"
	"reclassify: sets the cause of interval ID (open or closed; IDs as 'vigil\n"
	"intervals' lists them), e.g. hardware that was the customer's own doing. The\n"
	"SLA report counts the new cause. Kept in the interval's cause history (see\n"
	"'vigil intervals --history') with who, when and the note, plus an\n"
	"'interval_reclassify' event. Final: vigild never revises that interval's\n"
	"cause again. Refused (exit 1) for an unknown ID or cause, or the cause the\n"
	"interval already has.\n"
	"  --cause C     the new cause (one of those above)\n"
	"  --note TEXT   why: the ticket, the finding (required)\n"
	"  --by NAME     who, recorded as 'operator:NAME' (default: SUDO_USER, USER,\n"
	"                else the password database)\n";

/* ---- intervals ---- */

/* One change of a cause under its interval's table row. */
struct hist_line {
	size_t row;             /* table row it follows, 0 = first interval */
	char *text;
};

struct list_ctx {
	struct vgl_table *t;
	cJSON *arr;
	int64_t now_ms;
	struct vgl_query *q;
	int history;
	struct hist_line *lines;
	size_t n_lines, cap_lines;
	cJSON *cur;             /* --json: the interval whose history is read */
	char err[512];          /* a database error inside the walk */
};

/* Returned by a callback: out of memory (1) or a database error described
 * in l->err (2); never negative, which the walk keeps for its own errors. */
#define WALK_OOM 1
#define WALK_DB 2

static int interval_row(struct vgl_table *t, const struct vgl_query_interval *iv, int64_t now_ms)
{
	char id[24], start[VGL_ISO_LEN], end[VGL_ISO_LEN], dur[48];
	int64_t stop = iv->is_open ? now_ms : iv->end_ms;

	snprintf(id, sizeof(id), "%lld", (long long)iv->id);
	vgl_format_iso(iv->start_ms, start);
	if (iv->is_open)
		snprintf(end, sizeof(end), "open");
	else
		vgl_format_iso(iv->end_ms, end);
	vgl_cli_format_duration(stop > iv->start_ms ? stop - iv->start_ms : 0, dur, sizeof(dur) - 1);
	if (iv->is_open) /* still growing */
		strcat(dur, "+");
	const char *row[] = { id, iv->host, iv->cause, start, end, dur, iv->opened_by, iv->note };
	return vgl_table_add(t, row);
}

/* Control characters become spaces, as in the table's cells, so a note
 * cannot break the layout. */
static void clean_text(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = ' ';
}

static int on_cause_line(void *ctx, const struct vgl_query_cause *c)
{
	struct list_ctx *l = ctx;
	char ts[VGL_ISO_LEN], *text;

	if (l->n_lines == l->cap_lines) {
		size_t cap = l->cap_lines ? l->cap_lines * 2 : 16;
		struct hist_line *n = realloc(l->lines, cap * sizeof(*n));

		if (!n)
			return WALK_OOM;
		l->lines = n;
		l->cap_lines = cap;
	}
	if (asprintf(&text, "    %s  %s -> %s  by %s%s%s", vgl_format_iso(c->ts_ms, ts),
		     c->old_cause, c->new_cause, c->by, c->note ? "  " : "",
		     c->note ? c->note : "") < 0)
		return WALK_OOM;
	clean_text(text);
	l->lines[l->n_lines].row = vgl_table_rows(l->t) - 1;
	l->lines[l->n_lines++].text = text;
	return 0;
}

static int on_cause_json(void *ctx, const struct vgl_query_cause *c)
{
	struct list_ctx *l = ctx;
	cJSON *h = cJSON_GetObjectItemCaseSensitive(l->cur, "history");
	cJSON *o = cJSON_CreateObject();

	if (!o || !cJSON_AddItemToArray(h, o)) {
		cJSON_Delete(o);
		return WALK_OOM;
	}
	if (vgl_jput_time(o, "ts", c->ts_ms, 1) || vgl_jput_str(o, "old_cause", c->old_cause) ||
	    vgl_jput_str(o, "new_cause", c->new_cause) || vgl_jput_str(o, "by", c->by) ||
	    vgl_jput_str(o, "note", c->note))
		return WALK_OOM;
	return 0;
}

/* The interval's cause history after its row or into its object. */
static int add_history(struct list_ctx *l, int64_t id, cJSON *o)
{
	int r;

	if (o) {
		l->cur = o;
		if (!cJSON_AddArrayToObject(o, "history"))
			return WALK_OOM;
	}
	r = vgl_query_interval_history(l->q, id, o ? on_cause_json : on_cause_line, l, l->err,
				       sizeof(l->err));
	return r < 0 ? WALK_DB : r;
}

static int on_interval(void *ctx, const struct vgl_query_interval *iv)
{
	struct list_ctx *l = ctx;
	cJSON *o;

	/* 1, not -1: vgl_query_intervals hands a callback's value back, and
	 * the caller takes a negative one for a database error. */
	if (l->t) {
		if (interval_row(l->t, iv, l->now_ms))
			return WALK_OOM;
		return l->history ? add_history(l, iv->id, NULL) : 0;
	}
	o = vgl_view_interval_json(iv);
	if (!o || !cJSON_AddItemToArray(l->arr, o)) {
		cJSON_Delete(o);
		return WALK_OOM;
	}
	return l->history ? add_history(l, iv->id, o) : 0;
}

/* The table with each interval's history lines under its row: the table
 * is laid out whole (its columns as wide as all rows need), then printed
 * line by line with the history in between. 0, or -1 with one message. */
static int print_with_history(const struct list_ctx *l)
{
	char *buf = NULL, *p, *nl;
	size_t len = 0, k = 0, row = 0;
	FILE *m = open_memstream(&buf, &len);
	int bad;

	if (!m || vgl_table_print(l->t, m) != 0) {
		if (m)
			fclose(m);
		free(buf);
		errorf("out of memory");
		return -1;
	}
	if (fclose(m) != 0) {
		free(buf);
		errorf("out of memory");
		return -1;
	}
	/* line 0 is the header, line r + 1 the row r */
	for (p = buf; *p; p = nl + 1) {
		nl = strchr(p, '\n');
		if (!nl)
			break;
		fwrite(p, 1, (size_t)(nl - p) + 1, stdout);
		if (p != buf) {
			for (; k < l->n_lines && l->lines[k].row == row; k++)
				printf("%s\n", l->lines[k].text);
			row++;
		}
	}
	free(buf);
	bad = vgl_cli_finish_output();
	return bad ? -1 : 0;
}

static int cmd_intervals(struct vgl_cli *c)
{
	static const char *const head[] = { "ID", "HOST", "CAUSE", "START", "END",
					    "DURATION", "BY", "NOTE" };
	struct list_ctx l = { .now_ms = vgl_now_ms(), .history = c->a.history };
	struct vgl_query_filter f;
	char err[512];
	int rc = EXIT_FAIL, r;

	vgl_query_filter_init(&f);
	f.host = c->a.host;
	f.open_only = c->a.open;
	if ((c->a.from && vgl_cli_parse_time("intervals: --from", c->a.from, &f.from_ms)) ||
	    (c->a.to && vgl_cli_parse_time("intervals: --to", c->a.to, &f.to_ms)))
		return EXIT_USAGE;
	if (f.from_ms >= f.to_ms) {
		errorf("intervals: --from must be before --to");
		return EXIT_USAGE;
	}
	if (vgl_cli_load_conf(c) != 0 || vgl_cli_open_db(c, 0) != 0)
		return EXIT_FAIL;
	l.q = c->q;
	if (f.host) {
		int known = vgl_view_host_known(c->conf, c->q, f.host, err, sizeof(err));

		if (known < 0) {
			errorf("%s: %s", c->db_path, err);
			return EXIT_FAIL;
		}
		if (!known) {
			errorf("intervals: unknown host '%s'", f.host);
			return EXIT_FAIL;
		}
	}
	if (c->a.json ? !(l.arr = cJSON_CreateArray()) : !(l.t = vgl_table_new(8, head)))
		goto out_oom;
	r = vgl_query_intervals(c->q, &f, on_interval, &l, err, sizeof(err));
	if (r < 0) {
		errorf("%s: %s", c->db_path, err);
		goto out_free;
	}
	if (r == WALK_DB) {
		errorf("%s: %s", c->db_path, l.err);
		goto out_free;
	}
	if (r > 0)
		goto out_oom;
	if (l.t && l.history ? print_with_history(&l) != 0 : vgl_cli_emit(l.t, l.arr) != 0)
		goto out_free;
	rc = 0;
	goto out_free;
out_oom:
	errorf("out of memory");
out_free:
	for (size_t k = 0; k < l.n_lines; k++)
		free(l.lines[k].text);
	free(l.lines);
	vgl_table_free(l.t);
	cJSON_Delete(l.arr);
	return rc;
}

/* ---- interval add ---- */

static int print_added(const struct vgl_cli *c, const struct vgl_query_add *add, int64_t id)
{
	char b1[VGL_ISO_LEN], b2[VGL_ISO_LEN], by[256];
	cJSON *arr, *o;
	int rc = -1;

	vgl_format_iso(add->start_ms, b1);
	vgl_format_iso(add->end_ms, b2);
	if (!c->a.json) {
		printf("added interval %lld: %s %s %s - %s by %s\n", (long long)id,
		       add->host->name, add->cause, b1, b2, add->user);
		return vgl_cli_finish_output();
	}
	snprintf(by, sizeof(by), "operator:%s", add->user);
	arr = cJSON_CreateArray();
	o = cJSON_CreateObject();
	if (!arr || !o || !cJSON_AddItemToArray(arr, o)) {
		cJSON_Delete(o);
		goto out_delete;
	}
	if (vgl_cli_j_num(o, "id", id) || vgl_cli_j_str(o, "host", add->host->name) ||
	    vgl_cli_j_str(o, "cause", add->cause) || vgl_cli_j_str(o, "start", b1) ||
	    vgl_cli_j_str(o, "end", b2) ||
	    vgl_cli_j_str(o, "rule", by) || !cJSON_AddNullToObject(o, "evidence") ||
	    vgl_cli_j_str(o, "note", add->note) || vgl_cli_j_str(o, "closed_by", by) ||
	    vgl_cli_j_str(o, "origin", "operator") || vgl_cli_j_str(o, "created_by", add->user) ||
	    vgl_cli_j_time(o, "created", add->now_ms, 1))
		goto out_delete;
	rc = vgl_cli_emit(NULL, arr);
	cJSON_Delete(arr);
	return rc;
out_delete:
	cJSON_Delete(arr);
	errorf("out of memory");
	return -1;
}

static int cmd_interval_add(struct vgl_cli *c)
{
	const char *w = "interval add";
	struct vgl_query_add add = { 0 };
	char err[512];
	int64_t id = 0;

	if (vgl_cli_require(w, "--host", c->a.host) || vgl_cli_require(w, "--cause", c->a.cause) ||
	    vgl_cli_require(w, "--start", c->a.start) || vgl_cli_require(w, "--end", c->a.end) ||
	    vgl_cli_require(w, "--note", c->a.note) ||
	    vgl_cli_parse_time("interval add: --start", c->a.start, &add.start_ms) ||
	    vgl_cli_parse_time("interval add: --end", c->a.end, &add.end_ms))
		return EXIT_USAGE;
	add.cause = c->a.cause;
	add.note = c->a.note;
	add.now_ms = vgl_now_ms();
	add.user = vgl_cli_current_user();
	if (!add.user) {
		errorf("interval add: cannot tell who you are (set USER)");
		return EXIT_FAIL;
	}
	if (vgl_cli_load_conf(c) != 0)
		return EXIT_FAIL;
	add.host = vgl_conf_find_host(c->conf, c->a.host);
	if (!add.host) {
		errorf("interval add: refused: unknown host '%s' (not in %s)", c->a.host,
		       c->conf->path);
		return EXIT_FAIL;
	}
	/* Checked before opening the database so a refused add leaves no
	 * trace; vgl_query_interval_add checks again, authoritatively. */
	if (!vgl_cause_valid(add.cause)) {
		errorf("interval add: refused: unknown cause '%s' (expected one of: " VGL_CAUSE_LIST ")",
		       add.cause);
		return EXIT_FAIL;
	}
	if (vgl_cli_open_db(c, 1) != 0)
		return EXIT_FAIL;
	switch (vgl_query_interval_add(c->q, &add, &id, err, sizeof(err))) {
	case VGL_QUERY_ADD_OK:
		break;
	case VGL_QUERY_ADD_REFUSED:
		errorf("interval add: refused: %s", err);
		return EXIT_FAIL;
	case VGL_QUERY_ADD_DB_ERROR:
	default:
		errorf("%s: %s", c->db_path, err);
		return EXIT_FAIL;
	}
	return print_added(c, &add, id) == 0 ? 0 : EXIT_FAIL;
}

/* ---- interval reclassify ---- */

static int parse_id(const char *s, int64_t *out)
{
	char *end;
	long long v;

	if (!s || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || *end || v <= 0)
		return -1;
	*out = v;
	return 0;
}

static int print_reclassified(const struct vgl_cli *c, const struct vgl_query_reclassify *r,
			      const struct vgl_query_reclassified *out)
{
	cJSON *arr, *o;
	int rc;

	if (!c->a.json) {
		if (strcmp(out->old_cause, r->cause) == 0)
			printf("interval %lld: cause %s confirmed (by %s); final\n",
			       (long long)r->interval_id, r->cause, r->by);
		else
			printf("interval %lld: cause %s -> %s (by %s)\n", (long long)r->interval_id,
			       out->old_cause, r->cause, r->by);
		return vgl_cli_finish_output();
	}
	arr = cJSON_CreateArray();
	o = cJSON_CreateObject();
	if (!arr || !o || !cJSON_AddItemToArray(arr, o)) {
		cJSON_Delete(o);
		goto out_oom;
	}
	if (vgl_cli_j_num(o, "id", r->interval_id) || vgl_cli_j_str(o, "host", out->host) ||
	    vgl_cli_j_str(o, "old_cause", out->old_cause) ||
	    vgl_cli_j_str(o, "new_cause", r->cause) || vgl_cli_j_str(o, "by", r->by) ||
	    vgl_cli_j_str(o, "note", r->note) || vgl_cli_j_time(o, "ts", r->now_ms, 1))
		goto out_oom;
	rc = vgl_cli_emit(NULL, arr);
	cJSON_Delete(arr);
	return rc;
out_oom:
	cJSON_Delete(arr);
	errorf("out of memory");
	return -1;
}

static int cmd_interval_reclassify(struct vgl_cli *c)
{
	const char *w = "interval reclassify", *user;
	struct vgl_query_reclassify r = { 0 };
	struct vgl_query_reclassified out = { 0 };
	char err[512], *by = NULL;
	int rc = EXIT_FAIL;

	if (c->a.npos != 1) {
		errorf("interval reclassify: give one interval ID");
		return EXIT_USAGE;
	}
	if (parse_id(c->a.pos[0], &r.interval_id) != 0) {
		errorf("interval reclassify: bad interval ID '%s' (expected a positive integer)",
		       c->a.pos[0]);
		return EXIT_USAGE;
	}
	if (vgl_cli_require(w, "--cause", c->a.cause) || vgl_cli_require(w, "--note", c->a.note))
		return EXIT_USAGE;
	if (c->a.by && !c->a.by[0]) {
		errorf("interval reclassify: --by needs a name");
		return EXIT_USAGE;
	}
	/* Checked before the database is opened, as interval add does;
	 * vgl_query_interval_reclassify checks again. */
	if (!vgl_cause_valid(c->a.cause)) {
		errorf("interval reclassify: refused: unknown cause '%s' (expected one of: "
		       VGL_CAUSE_LIST ")", c->a.cause);
		return EXIT_FAIL;
	}
	if (!c->a.note[0]) {
		errorf("interval reclassify: refused: a note saying why is required");
		return EXIT_FAIL;
	}
	user = c->a.by ? c->a.by : vgl_cli_current_user();
	if (!user) {
		errorf("interval reclassify: cannot tell who you are (set USER or give --by)");
		return EXIT_FAIL;
	}
	if (asprintf(&by, "operator:%s", user) < 0) {
		errorf("out of memory");
		return EXIT_FAIL;
	}
	r.cause = c->a.cause;
	r.note = c->a.note;
	r.by = by;
	r.now_ms = vgl_now_ms();
	/* The interval must exist, so the database must too: a mistyped
	 * --db is an error naming it, not a new empty file. */
	if (vgl_cli_load_conf(c) != 0 || vgl_cli_open_db(c, 0) != 0)
		goto out_free;
	switch (vgl_query_interval_reclassify(c->q, &r, &out, err, sizeof(err))) {
	case VGL_QUERY_ADD_OK:
		break;
	case VGL_QUERY_ADD_REFUSED:
		errorf("interval reclassify: refused: %s", err);
		goto out_free;
	case VGL_QUERY_ADD_DB_ERROR:
	default:
		errorf("%s: %s", c->db_path, err);
		goto out_free;
	}
	rc = print_reclassified(c, &r, &out) == 0 ? 0 : EXIT_FAIL;
out_free:
	vgl_query_reclassified_clear(&out);
	free(by);
	return rc;
}

/* ---- dispatch ---- */

int vgl_cli_cmd_intervals(struct vgl_cli *c, int argc, char **argv, int i)
{
	struct vgl_cli_args *a = &c->a;
	const struct vgl_cli_opt o_intervals[] = {
		VGL_CLI_GLOBAL_OPTS(a),
		{ "--host", NULL, &a->host, NULL },
		{ "--from", NULL, &a->from, NULL },
		{ "--to", NULL, &a->to, NULL },
		{ "--open", NULL, NULL, &a->open },
		{ "--history", NULL, NULL, &a->history },
		VGL_CLI_OPTS_END,
	};

	if (vgl_cli_parse_opts(argc, argv, &i, o_intervals, "intervals", 0, NULL, 0) != 0)
		return EXIT_USAGE;
	return a->help ? vgl_cli_help(usage_intervals) : cmd_intervals(c);
}

int vgl_cli_cmd_interval(struct vgl_cli *c, int argc, char **argv, int i)
{
	struct vgl_cli_args *a = &c->a;
	const struct vgl_cli_opt globals[] = { VGL_CLI_GLOBAL_OPTS(a), VGL_CLI_OPTS_END };
	const struct vgl_cli_opt o_add[] = {
		VGL_CLI_GLOBAL_OPTS(a),
		{ "--host", NULL, &a->host, NULL },
		{ "--cause", NULL, &a->cause, NULL },
		{ "--start", NULL, &a->start, NULL },
		{ "--end", NULL, &a->end, NULL },
		{ "--note", NULL, &a->note, NULL },
		VGL_CLI_OPTS_END,
	};
	const struct vgl_cli_opt o_reclassify[] = {
		VGL_CLI_GLOBAL_OPTS(a),
		{ "--cause", NULL, &a->cause, NULL },
		{ "--note", NULL, &a->note, NULL },
		{ "--by", NULL, &a->by, NULL },
		VGL_CLI_OPTS_END,
	};
	const char *sub;

	/* "vigil interval --help" as well as "vigil interval add --help" */
	if (vgl_cli_parse_opts(argc, argv, &i, globals, "interval", 1, NULL, 0) != 0)
		return EXIT_USAGE;
	if (i >= argc) {
		if (a->help)
			return vgl_cli_help(usage_interval);
		errorf("interval: missing subcommand (expected 'add' or 'reclassify')");
		return EXIT_USAGE;
	}
	sub = argv[i++];
	if (strcmp(sub, "add") == 0) {
		if (vgl_cli_parse_opts(argc, argv, &i, o_add, "interval add", 0, NULL, 0) != 0)
			return EXIT_USAGE;
		return a->help ? vgl_cli_help(usage_interval) : cmd_interval_add(c);
	}
	if (strcmp(sub, "reclassify") == 0) {
		if (vgl_cli_parse_opts(argc, argv, &i, o_reclassify, "interval reclassify", 0, a,
				       1) != 0)
			return EXIT_USAGE;
		return a->help ? vgl_cli_help(usage_interval) : cmd_interval_reclassify(c);
	}
	if (a->help)
		return vgl_cli_help(usage_interval);
	errorf("interval: unknown subcommand '%s' (expected 'add' or 'reclassify')", sub);
	return EXIT_USAGE;
}
