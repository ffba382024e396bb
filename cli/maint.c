/* vigil maint add|list|cancel and vigil counters import: the operator's
 * SLA inputs (docs/cli.md). The rules they feed are in sla/ and
 * ../shared/SLA.md; the storage in storage/sla_db.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/vtime.h"
#include "sla/counters_csv.h"
#include "sla/sla.h"
#include "storage/sla_db.h"
#include "storage/alarm_view.h"

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
	"host and time replaces the stored one, so importing a file again is harmless.\n"
	"FILE must be a regular file of at most 16 MiB, lines at most 4096 bytes.\n";

/* ---- maint add ---- */

static const char *kind_str(int k)
{
	return vgl_view_maint_kind(k);
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
	cJSON *o = vgl_view_maint_json(m);

	if (!o || !cJSON_AddItemToArray(arr, o)) {
		cJSON_Delete(o);
		return -1;
	}
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

/* A month of 5-minute samples is about 9,000 lines (under 1 MiB); the bound
 * keeps /dev/zero or a runaway export from taking the machine's memory, as
 * `vigil sla --input` does. */
#define MAX_CSV_BYTES (16 << 20)

/* The whole of FILE, a regular file of at most MAX_CSV_BYTES: a FIFO,
 * socket or device is refused before any read, since reading one could
 * block (a FIFO without a writer) or never end (/dev/zero). O_NONBLOCK
 * makes the open itself return at once for a FIFO. NULL with one message
 * printed. */
static char *read_csv_file(const char *path, size_t *len_out)
{
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	struct stat st;
	size_t n = 0, cap;
	char *buf = NULL;

	if (fd < 0) {
		errorf("%s: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) != 0) {
		errorf("%s: %s", path, strerror(errno));
		goto out_fail;
	}
	if (!S_ISREG(st.st_mode)) {
		errorf("%s: not a regular file (counters import reads a file; to stream, "
		       "save it to a file first)", path);
		goto out_fail;
	}
	if (st.st_size > MAX_CSV_BYTES) {
		errorf("%s: larger than %d MiB", path, MAX_CSV_BYTES >> 20);
		goto out_fail;
	}
	/* One byte past the size fstat gave: reading it tells whether the
	 * file grew meanwhile, and the loop keeps the bound either way. */
	cap = (size_t)st.st_size + 1;
	buf = malloc(cap);
	if (!buf) {
		errorf("out of memory");
		goto out_fail;
	}
	for (;;) {
		ssize_t got;

		if (n == cap) {
			size_t ncap = cap * 2 > MAX_CSV_BYTES + 1 ? MAX_CSV_BYTES + 1 : cap * 2;
			char *nb;

			if (cap > MAX_CSV_BYTES) {
				errorf("%s: larger than %d MiB", path, MAX_CSV_BYTES >> 20);
				goto out_fail;
			}
			nb = realloc(buf, ncap);
			if (!nb) {
				errorf("out of memory");
				goto out_fail;
			}
			buf = nb;
			cap = ncap;
		}
		got = read(fd, buf + n, cap - n);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			errorf("%s: read error: %s", path, strerror(errno));
			goto out_fail;
		}
		if (got == 0)
			break;
		n += (size_t)got;
	}
	close(fd);
	*len_out = n;
	return buf;

out_fail:
	free(buf);
	close(fd);
	return NULL;
}

/* Reads and checks the whole file before anything is written, so a bad
 * line leaves the database as it was. 0, or -1 with one "FILE:LINE:
 * reason" (or "FILE: reason") printed. */
static int read_csv(const char *path, int64_t now_ms, struct vgl_counters_row **rows_out,
		    size_t *n_out)
{
	char err[VGL_COUNTERS_CSV_LINE_MAX + 256];
	size_t len = 0;
	char *text = read_csv_file(path, &len);
	int rc;

	if (!text)
		return -1;
	rc = vgl_counters_csv_parse(text, len, now_ms, rows_out, n_out, err, sizeof(err));
	free(text);
	if (rc == -ENOMEM) {
		errorf("out of memory");
		return -1;
	}
	if (rc != 0) {
		errorf("%s:%s", path, err);
		return -1;
	}
	return 0;
}

static int cmd_counters_import(struct vgl_cli *c)
{
	struct vgl_sla_db_import im = { 0 };
	struct vgl_sla_db_counter *flat = NULL;
	struct vgl_counters_row *rows = NULL;
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
	for (size_t k = 0; k < n; k++) {
		flat[k].ts_ms = rows[k].ts_ms;
		flat[k].total = rows[k].total;
		flat[k].failed = rows[k].failed;
	}
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
