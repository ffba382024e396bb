/* vigil maint add|list|cancel and vigil counters import: the operator's
 * SLA inputs (docs/cli.md). The rules they feed are in sla/ and
 * ../shared/SLA.md; the storage in storage/sla_db.c.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "daemon/vtime.h"
#include "sla/sla.h"
#include "storage/sla_db.h"

#define EXIT_FAIL VGL_CLI_EXIT_FAIL
#define EXIT_USAGE VGL_CLI_EXIT_USAGE
#define errorf vgl_cli_errorf

static const char usage_maint[] =
	"usage: vigil [GLOBAL OPTIONS] maint add (--host H | --site S) --kind K --start T --end T\n"
	"                                        --announced T --note TEXT\n"
	"       vigil [GLOBAL OPTIONS] maint list [--host H | --site S] [--from T] [--to T] [--all]\n"
	"       vigil [GLOBAL OPTIONS] maint cancel ID [--note TEXT]\n"
	"\n"
	"Maintenance windows: counted downtime inside a window whose notice met its\n"
	"policy's rule (by default 72 h for planned, 30 min for emergency) is excluded\n"
	"from the SLA, up to the policy's monthly cap (default 120 min); the rest counts.\n"
	"Windows are kept with who added them and when; they are never edited or\n"
	"deleted, only cancelled (a cancelled window excludes nothing).\n"
	"\n"
	"add     --host H        one configured host, or\n"
	"        --site S        every host of site S (a site of some configured host)\n"
	"        --kind K        planned | emergency\n"
	"        --start T --end T   the window [start, end); end after start\n"
	"        --announced T   when customers were told (not in the future)\n"
	"        --note TEXT     what is done, ticket (required)\n"
	"list    windows overlapping [--from, --to), by start; --host H: H's and its\n"
	"        site's; --site S: the site's and its hosts'; --all: cancelled too\n"
	"cancel  ID: marks window ID cancelled (by you, now, with --note)\n";

static const char usage_counters[] =
	"usage: vigil [GLOBAL OPTIONS] counters import --host H FILE.csv\n"
	"\n"
	"Imports request and error counter samples of host H for the error-rate SLAs\n"
	"(vstorage: 5-minute blocks; vcdn: the whole month). FILE is CSV with the\n"
	"header 'time,total,failed', then one sample a line: an ISO-8601 time and the\n"
	"raw values of the two counters (unsigned 64-bit integers; the SLA takes their\n"
	"deltas and treats a decrease as a counter reset). Errors name FILE:LINE and\n"
	"nothing is imported. All rows go in one transaction; a sample of the same\n"
	"host and time replaces the stored one, so importing a file again is harmless.\n";

/* ---- maint add ---- */

static const char *kind_str(int k)
{
	return k == VGL_SLA_DB_EMERGENCY ? "emergency" : "planned";
}

static int site_configured(const struct vgl_conf *conf, const char *site)
{
	for (size_t i = 0; i < conf->n_hosts; i++)
		if (conf->hosts[i].site && strcmp(conf->hosts[i].site, site) == 0)
			return 1;
	return 0;
}

/* Tells the operator at once when a host window's notice will not meet
 * its policy's rule: otherwise they learn it from the month's report. */
static void note_short_notice(const struct vgl_conf_host *h, const struct vgl_sla_db_maint_add *a)
{
	const struct vgl_sla_policy *p = h->policy;
	int64_t need, notice = a->start_ms - a->announced_ms;
	char have_s[48], need_s[48];

	if (!p)
		return;
	need = p->notice_ms[a->kind == VGL_SLA_DB_EMERGENCY ? VGL_MAINT_EMERGENCY : VGL_MAINT_PLANNED];
	if (notice >= need)
		return;
	vgl_cli_format_duration(notice > 0 ? notice : 0, have_s, sizeof(have_s));
	vgl_cli_format_duration(need, need_s, sizeof(need_s));
	fprintf(stderr, "vigil: note: notice %s%s is less than the %s policy %s requires for "
		"%s maintenance: this window will exclude no downtime\n",
		notice < 0 ? "-" : "", have_s, need_s, p->name, kind_str(a->kind));
}

static int maint_json(cJSON *arr, const struct vgl_sla_db_maint *m)
{
	cJSON *o = cJSON_CreateObject();

	if (!o || !cJSON_AddItemToArray(arr, o)) {
		cJSON_Delete(o);
		return -1;
	}
	if (vgl_cli_j_num(o, "id", m->id) || vgl_cli_j_str(o, "host", m->host) ||
	    vgl_cli_j_str(o, "site", m->site) || vgl_cli_j_str(o, "kind", kind_str(m->kind)) ||
	    vgl_cli_j_time(o, "start", m->start_ms, 1) || vgl_cli_j_time(o, "end", m->end_ms, 1) ||
	    vgl_cli_j_time(o, "announced", m->announced_ms, 1) ||
	    vgl_cli_j_num(o, "notice_ms", m->start_ms - m->announced_ms) ||
	    vgl_cli_j_str(o, "note", m->note) || vgl_cli_j_str(o, "created_by", m->created_by) ||
	    vgl_cli_j_time(o, "created", m->created_ms, 1) ||
	    vgl_cli_j_bool(o, "cancelled", m->cancelled) ||
	    vgl_cli_j_str(o, "cancelled_by", m->cancelled_by) ||
	    vgl_cli_j_time(o, "cancelled_at", m->cancelled_ms, m->cancelled) ||
	    vgl_cli_j_str(o, "cancel_note", m->cancel_note))
		return -1;
	return 0;
}

static int cmd_maint_add(struct vgl_cli *c)
{
	const char *w = "maint add";
	struct vgl_sla_db_maint_add add = { 0 };
	char err[512], by[256];
	int64_t id = 0;

	if (vgl_cli_require(w, "--kind", c->a.kind) || vgl_cli_require(w, "--start", c->a.start) ||
	    vgl_cli_require(w, "--end", c->a.end) ||
	    vgl_cli_require(w, "--announced", c->a.announced) ||
	    vgl_cli_require(w, "--note", c->a.note) ||
	    vgl_cli_parse_time("maint add: --start", c->a.start, &add.start_ms) ||
	    vgl_cli_parse_time("maint add: --end", c->a.end, &add.end_ms) ||
	    vgl_cli_parse_time("maint add: --announced", c->a.announced, &add.announced_ms))
		return EXIT_USAGE;
	if (!c->a.host == !c->a.site) {
		errorf("maint add: give exactly one of --host and --site");
		return EXIT_USAGE;
	}
	add.kind = vgl_sla_db_maint_kind_parse(c->a.kind);
	if (add.kind < 0) {
		errorf("maint add: refused: unknown kind '%s' (expected planned or emergency)",
		       c->a.kind);
		return EXIT_FAIL;
	}
	if (add.end_ms <= add.start_ms) {
		errorf("maint add: refused: --end must be after --start");
		return EXIT_FAIL;
	}
	add.note = c->a.note;
	add.now_ms = vgl_now_ms();
	add.user = vgl_cli_current_user();
	if (!add.user) {
		errorf("maint add: cannot tell who you are (set USER)");
		return EXIT_FAIL;
	}
	if (vgl_cli_load_conf(c) != 0)
		return EXIT_FAIL;
	if (c->a.host) {
		add.host = vgl_conf_find_host(c->conf, c->a.host);
		if (!add.host) {
			errorf("maint add: refused: unknown host '%s' (not in %s)", c->a.host,
			       c->conf->path);
			return EXIT_FAIL;
		}
	} else {
		add.site = c->a.site;
		if (!site_configured(c->conf, add.site)) {
			errorf("maint add: refused: unknown site '%s' (no host of %s has it)",
			       add.site, c->conf->path);
			return EXIT_FAIL;
		}
	}
	if (vgl_cli_open_db(c, 1) != 0)
		return EXIT_FAIL;
	switch (vgl_sla_db_maint_add(c->sdb, &add, &id, err, sizeof(err))) {
	case VGL_SLA_DB_OK:
		break;
	case VGL_SLA_DB_REFUSED:
		errorf("maint add: refused: %s", err);
		return EXIT_FAIL;
	case VGL_SLA_DB_ERROR:
	default:
		errorf("%s: %s", c->db_path, err);
		return EXIT_FAIL;
	}
	if (add.host)
		note_short_notice(add.host, &add);
	snprintf(by, sizeof(by), "operator:%s", add.user);
	if (c->a.json) {
		struct vgl_sla_db_maint m = {
			.id = id, .host = add.host ? add.host->name : NULL, .site = add.site,
			.kind = add.kind, .start_ms = add.start_ms, .end_ms = add.end_ms,
			.announced_ms = add.announced_ms, .note = add.note, .created_by = by,
			.created_ms = add.now_ms,
		};
		cJSON *arr = cJSON_CreateArray();
		int rc;

		if (!arr || maint_json(arr, &m) != 0) {
			cJSON_Delete(arr);
			errorf("out of memory");
			return EXIT_FAIL;
		}
		rc = vgl_cli_emit(NULL, arr);
		cJSON_Delete(arr);
		return rc ? EXIT_FAIL : 0;
	} else {
		char b1[VGL_ISO_LEN], b2[VGL_ISO_LEN], b3[VGL_ISO_LEN];

		printf("added maintenance window %lld: %s %s %s %s - %s announced %s by %s\n",
		       (long long)id, add.host ? "host" : "site",
		       add.host ? add.host->name : add.site, kind_str(add.kind),
		       vgl_format_iso(add.start_ms, b1), vgl_format_iso(add.end_ms, b2),
		       vgl_format_iso(add.announced_ms, b3), add.user);
		return vgl_cli_finish_output() ? EXIT_FAIL : 0;
	}
}

/* ---- maint list ---- */

struct maint_list {
	struct vgl_table *t;
	cJSON *arr;
};

static int on_maint(void *ctx, const struct vgl_sla_db_maint *m)
{
	struct maint_list *l = ctx;
	char id[24], target[256], b1[VGL_ISO_LEN], b2[VGL_ISO_LEN], b3[VGL_ISO_LEN];
	char dur[48], notice[48];
	int64_t n = m->start_ms - m->announced_ms;

	if (!l->t)
		return maint_json(l->arr, m) ? 1 : 0;
	snprintf(id, sizeof(id), "%lld", (long long)m->id);
	snprintf(target, sizeof(target), "%s:%s", m->host ? "host" : "site",
		 m->host ? m->host : m->site ? m->site : "?");
	vgl_cli_format_duration(m->end_ms - m->start_ms, dur, sizeof(dur));
	notice[0] = n < 0 ? '-' : '\0';
	vgl_cli_format_duration(n < 0 ? -n : n, notice + (n < 0), sizeof(notice) - 1);
	const char *row[] = { id, target, kind_str(m->kind), vgl_format_iso(m->start_ms, b1),
			      vgl_format_iso(m->end_ms, b2), dur, vgl_format_iso(m->announced_ms, b3),
			      notice, m->created_by, m->cancelled ? "cancelled" : "active", m->note };
	return vgl_table_add(l->t, row) ? 1 : 0;
}

static int cmd_maint_list(struct vgl_cli *c)
{
	static const char *const head[] = { "ID", "FOR", "KIND", "START", "END", "DURATION",
					    "ANNOUNCED", "NOTICE", "BY", "STATUS", "NOTE" };
	struct vgl_sla_db_maint_filter f;
	struct maint_list l = { 0 };
	char err[512];
	int rc = EXIT_FAIL, r;

	vgl_sla_db_maint_filter_init(&f);
	f.include_cancelled = c->a.all;
	if ((c->a.from && vgl_cli_parse_time("maint list: --from", c->a.from, &f.from_ms)) ||
	    (c->a.to && vgl_cli_parse_time("maint list: --to", c->a.to, &f.to_ms)))
		return EXIT_USAGE;
	if (f.from_ms >= f.to_ms) {
		errorf("maint list: --from must be before --to");
		return EXIT_USAGE;
	}
	if (c->a.host && c->a.site) {
		errorf("maint list: give at most one of --host and --site");
		return EXIT_USAGE;
	}
	if (vgl_cli_load_conf(c) != 0 || vgl_cli_open_db(c, 0) != 0)
		return EXIT_FAIL;
	if (c->a.host) {
		const struct vgl_conf_host *h = vgl_conf_find_host(c->conf, c->a.host);
		int64_t hid = 0;

		/* A host dropped from the config keeps its windows. */
		if (!h && vgl_sla_db_host_id(c->sdb, c->a.host, &hid, err, sizeof(err)) != 0) {
			errorf("%s: %s", c->db_path, err);
			return EXIT_FAIL;
		}
		if (!h && !hid) {
			errorf("maint list: unknown host '%s'", c->a.host);
			return EXIT_FAIL;
		}
		f.host = c->a.host;
		f.site = h ? h->site : NULL;
	} else if (c->a.site) {
		f.site = c->a.site;
		f.site_hosts = 1;
	}
	if (c->a.json ? !(l.arr = cJSON_CreateArray()) : !(l.t = vgl_table_new(11, head)))
		goto out_oom;
	r = vgl_sla_db_maints(c->sdb, &f, on_maint, &l, err, sizeof(err));
	if (r < 0) {
		errorf("%s: %s", c->db_path, err);
		goto out_free;
	}
	if (r > 0)
		goto out_oom;
	if (vgl_cli_emit(l.t, l.arr) != 0)
		goto out_free;
	rc = 0;
	goto out_free;
out_oom:
	errorf("out of memory");
out_free:
	vgl_table_free(l.t);
	cJSON_Delete(l.arr);
	return rc;
}

/* ---- maint cancel ---- */

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

static int print_cancelled_json(int64_t id, const char *user, int64_t now, const char *note)
{
	cJSON *arr = cJSON_CreateArray(), *o = cJSON_CreateObject();
	char by[256];
	int rc;

	snprintf(by, sizeof(by), "operator:%s", user);
	if (!arr || !o || !cJSON_AddItemToArray(arr, o)) {
		cJSON_Delete(o);
		goto out_oom;
	}
	if (vgl_cli_j_num(o, "id", id) || vgl_cli_j_bool(o, "cancelled", 1) ||
	    vgl_cli_j_str(o, "cancelled_by", by) || vgl_cli_j_time(o, "cancelled_at", now, 1) ||
	    vgl_cli_j_str(o, "cancel_note", note))
		goto out_oom;
	rc = vgl_cli_emit(NULL, arr);
	cJSON_Delete(arr);
	return rc;
out_oom:
	cJSON_Delete(arr);
	errorf("out of memory");
	return -1;
}

static int cmd_maint_cancel(struct vgl_cli *c)
{
	const char *user = vgl_cli_current_user();
	int64_t id, now = vgl_now_ms();
	char err[512];

	if (c->a.npos != 1) {
		errorf("maint cancel: give one window ID");
		return EXIT_USAGE;
	}
	if (parse_id(c->a.pos[0], &id) != 0) {
		errorf("maint cancel: bad window ID '%s' (expected a positive integer)",
		       c->a.pos[0]);
		return EXIT_USAGE;
	}
	if (!user) {
		errorf("maint cancel: cannot tell who you are (set USER)");
		return EXIT_FAIL;
	}
	if (vgl_cli_load_conf(c) != 0 || vgl_cli_open_db(c, 0) != 0)
		return EXIT_FAIL;
	switch (vgl_sla_db_maint_cancel(c->sdb, id, c->a.note, user, now, err, sizeof(err))) {
	case VGL_SLA_DB_OK:
		break;
	case VGL_SLA_DB_REFUSED:
		errorf("maint cancel: refused: %s", err);
		return EXIT_FAIL;
	case VGL_SLA_DB_ERROR:
	default:
		errorf("%s: %s", c->db_path, err);
		return EXIT_FAIL;
	}
	if (c->a.json)
		return print_cancelled_json(id, user, now, c->a.note) ? EXIT_FAIL : 0;
	printf("cancelled maintenance window %lld by %s\n", (long long)id, user);
	return vgl_cli_finish_output() ? EXIT_FAIL : 0;
}

int vgl_cli_cmd_maint(struct vgl_cli *c, int argc, char **argv, int i)
{
	struct vgl_cli_args *a = &c->a;
	const struct vgl_cli_opt globals[] = { VGL_CLI_GLOBAL_OPTS(a), VGL_CLI_OPTS_END };
	const struct vgl_cli_opt o_add[] = {
		VGL_CLI_GLOBAL_OPTS(a),
		{ "--host", NULL, &a->host, NULL },
		{ "--site", NULL, &a->site, NULL },
		{ "--kind", NULL, &a->kind, NULL },
		{ "--start", NULL, &a->start, NULL },
		{ "--end", NULL, &a->end, NULL },
		{ "--announced", NULL, &a->announced, NULL },
		{ "--note", NULL, &a->note, NULL },
		VGL_CLI_OPTS_END,
	};
	const struct vgl_cli_opt o_list[] = {
		VGL_CLI_GLOBAL_OPTS(a),
		{ "--host", NULL, &a->host, NULL },
		{ "--site", NULL, &a->site, NULL },
		{ "--from", NULL, &a->from, NULL },
		{ "--to", NULL, &a->to, NULL },
		{ "--all", NULL, NULL, &a->all },
		VGL_CLI_OPTS_END,
	};
	const struct vgl_cli_opt o_cancel[] = {
		VGL_CLI_GLOBAL_OPTS(a),
		{ "--note", NULL, &a->note, NULL },
		VGL_CLI_OPTS_END,
	};
	const char *sub;

	if (vgl_cli_parse_opts(argc, argv, &i, globals, "maint", 1, NULL, 0) != 0)
		return EXIT_USAGE;
	if (i >= argc) {
		if (a->help)
			return vgl_cli_help(usage_maint);
		errorf("maint: missing subcommand (expected add, list or cancel)");
		return EXIT_USAGE;
	}
	sub = argv[i++];
	if (strcmp(sub, "add") == 0) {
		if (vgl_cli_parse_opts(argc, argv, &i, o_add, "maint add", 0, NULL, 0) != 0)
			return EXIT_USAGE;
		return a->help ? vgl_cli_help(usage_maint) : cmd_maint_add(c);
	}
	if (strcmp(sub, "list") == 0) {
		if (vgl_cli_parse_opts(argc, argv, &i, o_list, "maint list", 0, NULL, 0) != 0)
			return EXIT_USAGE;
		return a->help ? vgl_cli_help(usage_maint) : cmd_maint_list(c);
	}
	if (strcmp(sub, "cancel") == 0) {
		if (vgl_cli_parse_opts(argc, argv, &i, o_cancel, "maint cancel", 0, a, 1) != 0)
			return EXIT_USAGE;
		return a->help ? vgl_cli_help(usage_maint) : cmd_maint_cancel(c);
	}
	errorf("maint: unknown subcommand '%s' (expected add, list or cancel)", sub);
	return EXIT_USAGE;
}

/* ---- counters import ---- */

struct csv_row {
	struct vgl_sla_db_counter c;
	size_t line;
};

/* Trims blanks and a CR (files from Windows) around a field in place. */
static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' || e[-1] == '\n'))
		*--e = '\0';
	return s;
}

static int parse_u64(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	/* strtoull would take "-1" as 2^64-1 and " 1" with its blank. */
	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end)
		return -1;
	*out = v;
	return 0;
}

static int cmp_row(const void *a, const void *b)
{
	const struct csv_row *x = a, *y = b;

	if (x->c.ts_ms != y->c.ts_ms)
		return x->c.ts_ms < y->c.ts_ms ? -1 : 1;
	return x->line < y->line ? -1 : x->line > y->line;
}

/* Reads the whole file before anything is written, so a bad line leaves
 * the database as it was. 0, or -1 with one "FILE:LINE: reason" printed. */
static int read_csv(const char *path, int64_t now_ms, struct csv_row **rows_out, size_t *n_out)
{
	FILE *f = fopen(path, "r");
	struct csv_row *rows = NULL;
	size_t n = 0, cap = 0, lineno = 0, linecap = 0;
	char *line = NULL;
	int have_header = 0;
	ssize_t len;

	if (!f) {
		errorf("%s: %s", path, strerror(errno));
		return -1;
	}
	errno = 0;
	while ((len = getline(&line, &linecap, f)) >= 0) {
		char *fields[4], *p = line, *t;
		size_t nf = 0;

		lineno++;
		if ((size_t)len != strlen(line)) {
			errorf("%s:%zu: NUL byte in line", path, lineno);
			goto out_free;
		}
		if (*trim(line) == '\0')
			continue;
		while (nf < 4 && (fields[nf++] = strsep(&p, ",")) != NULL)
			;
		if (fields[nf - 1] == NULL)
			nf--;
		for (size_t k = 0; k < nf; k++)
			fields[k] = trim(fields[k]);
		if (!have_header) {
			if (nf != 3 || strcmp(fields[0], "time") || strcmp(fields[1], "total") ||
			    strcmp(fields[2], "failed")) {
				errorf("%s:%zu: expected the header 'time,total,failed'", path, lineno);
				goto out_free;
			}
			have_header = 1;
			continue;
		}
		if (nf != 3) {
			errorf("%s:%zu: expected 3 fields (time,total,failed), found %s", path,
			       lineno, nf > 3 ? "more" : nf == 2 ? "2" : "1");
			goto out_free;
		}
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 256;
			struct csv_row *r = realloc(rows, ncap * sizeof(*r));

			if (!r) {
				errorf("out of memory");
				goto out_free;
			}
			rows = r;
			cap = ncap;
		}
		memset(&rows[n], 0, sizeof(rows[n]));
		rows[n].line = lineno;
		t = fields[0];
		if (vgl_parse_iso(t, &rows[n].c.ts_ms) != 0) {
			errorf("%s:%zu: bad time '%s' (expected e.g. 2026-11-05T10:00:00Z)", path,
			       lineno, t);
			goto out_free;
		}
		if (rows[n].c.ts_ms > now_ms) {
			errorf("%s:%zu: time %s is in the future", path, lineno, t);
			goto out_free;
		}
		if (parse_u64(fields[1], &rows[n].c.total) != 0) {
			errorf("%s:%zu: bad total '%s' (expected an integer 0..2^64-1)", path,
			       lineno, fields[1]);
			goto out_free;
		}
		if (parse_u64(fields[2], &rows[n].c.failed) != 0) {
			errorf("%s:%zu: bad failed '%s' (expected an integer 0..2^64-1)", path,
			       lineno, fields[2]);
			goto out_free;
		}
		n++;
		errno = 0;
	}
	if (errno || ferror(f)) {
		errorf("%s:%zu: read error: %s", path, lineno + 1,
		       errno ? strerror(errno) : "failed");
		goto out_free;
	}
	if (!have_header) {
		errorf("%s:1: empty file (expected the header 'time,total,failed')", path);
		goto out_free;
	}
	/* One time, one sample: a repeat would make the stored value depend
	 * on line order. */
	qsort(rows, n, sizeof(*rows), cmp_row);
	for (size_t k = 1; k < n; k++) {
		if (rows[k].c.ts_ms == rows[k - 1].c.ts_ms) {
			char b[VGL_ISO_LEN];

			errorf("%s:%zu: time %s repeats line %zu", path, rows[k].line,
			       vgl_format_iso(rows[k].c.ts_ms, b), rows[k - 1].line);
			goto out_free;
		}
	}
	free(line);
	fclose(f);
	*rows_out = rows;
	*n_out = n;
	return 0;

out_free:
	free(rows);
	free(line);
	fclose(f);
	return -1;
}

static int cmd_counters_import(struct vgl_cli *c)
{
	struct vgl_sla_db_import im = { 0 };
	struct vgl_sla_db_counter *flat = NULL;
	struct csv_row *rows = NULL;
	size_t n = 0, changed = 0;
	int rc = EXIT_FAIL;
	char err[512];

	if (vgl_cli_require("counters import", "--host", c->a.host))
		return EXIT_USAGE;
	if (c->a.npos != 1) {
		errorf("counters import: give one CSV file");
		return EXIT_USAGE;
	}
	im.file = c->a.pos[0];
	im.now_ms = vgl_now_ms();
	im.user = vgl_cli_current_user();
	if (!im.user) {
		errorf("counters import: cannot tell who you are (set USER)");
		return EXIT_FAIL;
	}
	if (vgl_cli_load_conf(c) != 0)
		return EXIT_FAIL;
	im.host = vgl_conf_find_host(c->conf, c->a.host);
	if (!im.host) {
		errorf("counters import: refused: unknown host '%s' (not in %s)", c->a.host,
		       c->conf->path);
		return EXIT_FAIL;
	}
	if (read_csv(im.file, im.now_ms, &rows, &n) != 0)
		return EXIT_FAIL;
	flat = calloc(n ? n : 1, sizeof(*flat));
	if (!flat) {
		errorf("out of memory");
		goto out_free;
	}
	for (size_t k = 0; k < n; k++)
		flat[k] = rows[k].c;
	im.rows = flat;
	im.n = n;
	if (vgl_cli_open_db(c, 1) != 0)
		goto out_free;
	switch (vgl_sla_db_counters_import(c->sdb, &im, &changed, err, sizeof(err))) {
	case VGL_SLA_DB_OK:
		break;
	case VGL_SLA_DB_REFUSED:
		errorf("counters import: refused: %s", err);
		goto out_free;
	case VGL_SLA_DB_ERROR:
	default:
		errorf("%s: %s", c->db_path, err);
		goto out_free;
	}
	if (c->a.json) {
		cJSON *arr = cJSON_CreateArray(), *o = cJSON_CreateObject();
		int bad;

		if (!arr || !o || !cJSON_AddItemToArray(arr, o)) {
			cJSON_Delete(o);
			cJSON_Delete(arr);
			errorf("out of memory");
			goto out_free;
		}
		if (vgl_cli_j_str(o, "host", im.host->name) || vgl_cli_j_str(o, "file", im.file) ||
		    vgl_cli_j_num(o, "rows", (int64_t)n) ||
		    vgl_cli_j_num(o, "changed", (int64_t)changed)) {
			cJSON_Delete(arr);
			errorf("out of memory");
			goto out_free;
		}
		bad = vgl_cli_emit(NULL, arr);
		cJSON_Delete(arr);
		if (bad)
			goto out_free;
	} else {
		printf("imported %s: %zu sample(s) for host %s, %zu new or changed, %zu unchanged\n",
		       im.file, n, im.host->name, changed, n - changed);
		if (vgl_cli_finish_output())
			goto out_free;
	}
	rc = 0;
out_free:
	free(flat);
	free(rows);
	return rc;
}

int vgl_cli_cmd_counters(struct vgl_cli *c, int argc, char **argv, int i)
{
	struct vgl_cli_args *a = &c->a;
	const struct vgl_cli_opt globals[] = { VGL_CLI_GLOBAL_OPTS(a), VGL_CLI_OPTS_END };
	const struct vgl_cli_opt o_import[] = {
		VGL_CLI_GLOBAL_OPTS(a),
		{ "--host", NULL, &a->host, NULL },
		VGL_CLI_OPTS_END,
	};

	if (vgl_cli_parse_opts(argc, argv, &i, globals, "counters", 1, NULL, 0) != 0)
		return EXIT_USAGE;
	if (i < argc && strcmp(argv[i], "import") == 0) {
		i++;
		if (vgl_cli_parse_opts(argc, argv, &i, o_import, "counters import", 0, a, 1) != 0)
			return EXIT_USAGE;
	} else if (!a->help) {
		if (i < argc)
			errorf("counters: unknown subcommand '%s' (expected 'import')", argv[i]);
		else
			errorf("counters: missing subcommand (expected 'import')");
		return EXIT_USAGE;
	}
	return a->help ? vgl_cli_help(usage_counters) : cmd_counters_import(c);
}
