/* vigil: the operator's tool over vigild's database (docs/cli.md).
 *
 * Exit status: 0 done; 1 refused or failed (config, database, an edit the
 * rules forbid); 2 bad arguments. Every failure is one line on stderr,
 * except config errors, which list every problem found.
 */
#include <errno.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include "storage/sql.h"

#include "cli/cli.h"
#include "cli/table.h"
#include "conf/conf.h"
#include "core/jput.h"
#include "core/utf8.h"
#include "core/vtime.h"
#include "storage/alarm_db.h"
#include "storage/query.h"
#include "storage/sla_db.h"
#include "storage/store.h"
#include "storage/view.h"

#define EXIT_FAIL VGL_CLI_EXIT_FAIL
#define EXIT_USAGE VGL_CLI_EXIT_USAGE
#define DEFAULT_CONF "/etc/vigil/vigil.json"

static const char usage_main[] =
	"usage: vigil [-c FILE] [--db FILE] [--json] COMMAND [OPTIONS]\n"
	"\n"
	"The operator's tool over vigild's database; works whether vigild runs or not.\n"
	"\n"
	"Global options (also accepted after the command):\n"
	"  -c, --config FILE  configuration, as vigild reads it (default: $VIGIL_CONFIG,\n"
	"                     else " DEFAULT_CONF ")\n"
	"      --db FILE      database to use instead of the configuration's storage.path\n"
	"      --json         print a JSON array instead of a table\n"
	"  -h, --help         this help; 'vigil COMMAND --help' for one command\n"
	"\n"
	"Commands:\n"
	"  hosts              configured hosts and their current state\n"
	"  intervals          Unavailable intervals, newest first (--history: with the\n"
	"                     changes of their causes)\n"
	"  interval add       record an outage the monitoring missed\n"
	"  interval reclassify  correct an interval's cause (final: vigild keeps it)\n"
	"  maint add|list|cancel  maintenance windows (what the SLA may exclude)\n"
	"  counters import    request/error counters from a CSV (vstorage, vcdn)\n"
	"  sla                monthly uptime and SLA credit per host and customer\n"
	"                     (--html FILE: the same as a page to print to PDF)\n"
	"  alarms             alarms, newest first (--active: not cleared)\n"
	"  alarm show         one alarm with its log and its notifications\n"
	"  ack                acknowledge an alarm\n"
	"  comment            add a comment to an alarm's log\n"
	"  silence add|list|remove  silences (mute matching alarms for a while)\n"
	"  report response    a month's time to acknowledge and to clear against the\n"
	"                     commitments, per alarm, severity and site\n"
	"\n"
	"Times are ISO-8601, UTC or with an offset: 2026-11-05T10:00:00.000Z,\n"
	"2026-11-05T17:00:00+07:00, or a date 2026-11-05 (midnight UTC).\n"
	"Exit status: 0 done, 1 refused or failed, 2 bad arguments.\n";

static const char usage_hosts[] =
	"usage: vigil [GLOBAL OPTIONS] hosts [--json]\n"
	"\n"
	"Lists the configured hosts in configuration order with address, site,\n"
	"service (the SLA policy), customer and state: 'down' while an interval is\n"
	"open (with its cause and since when), else the state of the last poll,\n"
	"'unknown' if the host was never polled; 'degraded' while it is up on only\n"
	"part of its power feeds (CAUSE then names the feeds off). When vigild has\n"
	"stopped, or its last heartbeat is older than three heartbeat periods\n"
	"(storage.heartbeat_s) plus a batch window, every state shows as\n"
	"'stale (last up|down)' since that heartbeat (--json: \"stale\": true and\n"
	"\"last_heartbeat\").\n";

#define errorf vgl_cli_errorf

void vgl_cli_errorf(const char *fmt, ...)
{
	va_list ap;

	fputs("vigil: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* ---- arguments ---- */

static const struct vgl_cli_opt *find_opt(const struct vgl_cli_opt *opts, const char *arg,
					  size_t len)
{
	for (; opts->name; opts++) {
		if (strlen(opts->name) == len && strncmp(opts->name, arg, len) == 0)
			return opts;
		if (opts->alias && strlen(opts->alias) == len && strncmp(opts->alias, arg, len) == 0)
			return opts;
	}
	return NULL;
}

/* A note or a name goes to the database and from there into JSON: refuse
 * what no JSON parser would take back. 1 if valid, else 0 (said). */
static int utf8_arg(const char *where, const char *arg, int idx)
{
	size_t n = strlen(arg), bad = vgl_utf8_check(arg, n);

	if (bad == n)
		return 1;
	errorf("%s: argument %d is not valid UTF-8 (byte 0x%02x at offset %zu)", where, idx,
	       (unsigned char)arg[bad], bad);
	return 0;
}

int vgl_cli_parse_opts(int argc, char **argv, int *i, const struct vgl_cli_opt *opts,
		       const char *where, int stop_at_word, struct vgl_cli_args *a,
		       size_t pos_max)
{
	for (; *i < argc; (*i)++) {
		const char *arg = argv[*i], *eq;
		const struct vgl_cli_opt *o;
		size_t len;

		if (!utf8_arg(where, arg, *i) || (*i + 1 < argc && !utf8_arg(where, argv[*i + 1], *i + 1)))
			return -1;

		if (arg[0] != '-' || arg[1] == '\0') {
			if (stop_at_word)
				return 0;
			if (a && a->npos < pos_max && a->npos < sizeof(a->pos) / sizeof(a->pos[0])) {
				a->pos[a->npos++] = arg;
				continue;
			}
			errorf("%s: unexpected argument '%s'", where, arg);
			return -1;
		}
		eq = strncmp(arg, "--", 2) == 0 ? strchr(arg, '=') : NULL;
		len = eq ? (size_t)(eq - arg) : strlen(arg);
		o = find_opt(opts, arg, len);
		if (!o) {
			errorf("%s: unknown option '%.*s' (try --help)", where, (int)len, arg);
			return -1;
		}
		if (o->flag) {
			if (eq) {
				errorf("%s: option %s takes no value", where, o->name);
				return -1;
			}
			*o->flag = 1;
			continue;
		}
		if (eq) {
			*o->value = eq + 1;
		} else if (*i + 1 < argc) {
			*o->value = argv[++(*i)];
		} else {
			errorf("%s: option %s needs a value", where, o->name);
			return -1;
		}
	}
	return 0;
}

#define GLOBAL_OPTS VGL_CLI_GLOBAL_OPTS

int vgl_cli_help(const char *text)
{
	fputs(text, stdout);
	return vgl_cli_finish_output() ? EXIT_FAIL : 0;
}

int vgl_cli_parse_time(const char *opt, const char *s, int64_t *out)
{
	if (vgl_parse_iso(s, out) != 0) {
		errorf("%s: bad time '%s' (expected e.g. 2026-11-05T10:00:00.000Z, "
		       "2026-11-05T17:00:00+07:00 or 2026-11-05; years %d-%d, at most 3 decimals)",
		       opt, s, VGL_YEAR_MIN, VGL_YEAR_MAX);
		return -1;
	}
	return 0;
}

int vgl_cli_require(const char *where, const char *opt, const char *value)
{
	if (!value) {
		errorf("%s: missing %s", where, opt);
		return -1;
	}
	return 0;
}

/* ---- setup ---- */

/* -c FILE, else VIGIL_CONFIG, else the default: the path and where it came
 * from, for an error that says how to point at another. */
static const char *conf_path(const struct vgl_cli *c, const char **from)
{
	const char *env = getenv("VIGIL_CONFIG");

	if (c->a.conf_path) {
		*from = "-c";
		return c->a.conf_path;
	}
	if (env && *env) {
		*from = "VIGIL_CONFIG";
		return env;
	}
	*from = NULL;
	return DEFAULT_CONF;
}

int vgl_cli_load_conf(struct vgl_cli *c)
{
	struct vgl_conf_errors errs = { 0 };
	const char *from, *path = conf_path(c, &from);
	int rc = 0;

	/* The loader's own message for a missing file is the bare errno; a new
	 * user needs to hear which file was looked for and how to name one. */
	if (access(path, F_OK) != 0) {
		int e = errno;

		if (!from)
			errorf("no configuration: %s (the default) %s; give one with -c FILE or "
			       "VIGIL_CONFIG=FILE", path, e == ENOENT ? "does not exist" : strerror(e));
		else
			errorf("configuration %s (from %s): %s", path, from, strerror(e));
		return -1;
	}
	if (vgl_conf_load(path, &c->conf, &errs) != 0) {
		for (size_t i = 0; i < errs.n; i++)
			fprintf(stderr, "%s\n", errs.msgs[i]);
		if (errs.n == 0)
			errorf("%s: configuration not loaded", path);
		c->conf = NULL;
		rc = -1;
	}
	vgl_conf_errors_free(&errs);
	return rc;
}

/* Reads never create a database: a mistyped --db would otherwise leave an
 * empty file behind and report "nothing there" instead of the mistake. */
int vgl_cli_open_db(struct vgl_cli *c, int create)
{
	char err[512];

	c->db_path = c->a.db_path ? c->a.db_path : c->conf->db_path;
	if (!c->db_path || !*c->db_path) {
		errorf("%s: no storage.path configured and no --db given", c->conf->path);
		return -1;
	}
	if (!create && !vgl_sql_target_is_pg(c->db_path) && access(c->db_path, F_OK) != 0) {
		errorf("%s: cannot open database: %s%s", c->db_path, strerror(errno),
		       errno == ENOENT ? " (has vigild run with this configuration?)" : "");
		return -1;
	}
	if (vgl_sql_open(c->db_path, &c->db, err, sizeof(err)) != 0) {
		c->db = NULL;
		errorf("%s", err);
		return -1;
	}
	if (vgl_query_new(c->db, &c->q, err, sizeof(err)) != 0 ||
	    vgl_sla_db_new(c->db, &c->sdb, err, sizeof(err)) != 0) {
		errorf("%s: %s", c->db_path, err);
		return -1;
	}
	return 0;
}

static void cli_close(struct vgl_cli *c)
{
	vgl_alarm_db_free(c->adb);
	vgl_sla_db_free(c->sdb);
	vgl_query_free(c->q);
	if (c->db)
		vgl_sql_close(c->db);
	if (c->conf)
		vgl_conf_free(c->conf);
}

/* ---- JSON helpers: the library's (core/jput.h), under the CLI's names ---- */

int vgl_cli_j_str(cJSON *o, const char *k, const char *v)
{
	return vgl_jput_str(o, k, v);
}

int vgl_cli_j_num(cJSON *o, const char *k, int64_t v)
{
	return vgl_jput_num(o, k, v);
}

int vgl_cli_j_time(cJSON *o, const char *k, int64_t ms, int present)
{
	return vgl_jput_time(o, k, ms, present);
}

int vgl_cli_j_bool(cJSON *o, const char *k, int v)
{
	return vgl_jput_bool(o, k, v);
}

int vgl_cli_finish_output(void)
{
	errno = 0;
	if (fflush(stdout) != 0 || ferror(stdout)) {
		errorf("writing output: %s", errno ? strerror(errno) : "failed");
		return -1;
	}
	return 0;
}

/* One style for every command's --json (docs/cli.md): an array prints one
 * compact object a line, so it is valid JSON as a whole, greppable line by
 * line, and the same shape `vigil sla` streams; an object prints on one
 * line. 0, or -1 (errno may say why; ENOMEM when out of memory). */
/* cJSON prints string bytes as they are: a database written before UTF-8
 * was checked at the door (or by another tool) could make the output
 * invalid. Structure is ASCII, so mending the printed text mends only
 * strings: each bad byte becomes U+FFFD. */
static int put_json(const cJSON *e, const char *before)
{
	char *text = cJSON_PrintUnformatted(e), *clean = NULL;
	const char *out;
	size_t n;
	int rc;

	if (!text)
		return errno = ENOMEM, -1;
	n = strlen(text);
	if (vgl_utf8_check(text, n) < n) {
		clean = vgl_utf8_clean(text, n);
		cJSON_free(text);
		text = NULL;
		if (!clean)
			return errno = ENOMEM, -1;
	}
	out = clean ? clean : text;
	rc = (before && fputs(before, stdout) == EOF) || fputs(out, stdout) == EOF ? -1 : 0;
	free(clean);
	cJSON_free(text);
	return rc;
}

static int print_json(cJSON *j)
{
	if (!cJSON_IsArray(j))
		return put_json(j, NULL) || putchar('\n') == EOF ? -1 : 0;
	if (!j->child)
		return fputs("[]\n", stdout) == EOF ? -1 : 0;
	for (const cJSON *e = j->child; e; e = e->next)
		if (put_json(e, e == j->child ? "[\n" : ",\n") != 0)
			return -1;
	return fputs("\n]\n", stdout) == EOF ? -1 : 0;
}

/* Prints the table or the JSON, whichever was built; exactly one message
 * on failure. */
int vgl_cli_emit(const struct vgl_table *t, cJSON *json)
{
	int bad;

	errno = 0;
	bad = t ? vgl_table_print(t, stdout) != 0 : print_json(json) != 0;
	if (!t && bad && errno == ENOMEM) {
		errorf("out of memory");
		return -1;
	}
	if (bad || fflush(stdout) != 0 || ferror(stdout)) {
		errorf("writing output: %s", errno ? strerror(errno) : "failed");
		return -1;
	}
	return 0;
}

void vgl_cli_format_duration(int64_t ms, char *buf, size_t len)
{
	int64_t s = ms / 1000, d = s / 86400, h = s / 3600 % 24, m = s / 60 % 60;

	s %= 60;
	if (d)
		snprintf(buf, len, "%lldd%02lldh%02lldm", (long long)d, (long long)h, (long long)m);
	else if (h)
		snprintf(buf, len, "%lldh%02lldm%02llds", (long long)h, (long long)m, (long long)s);
	else if (m)
		snprintf(buf, len, "%lldm%02llds", (long long)m, (long long)s);
	else
		snprintf(buf, len, "%lld.%03llds", (long long)s, (long long)(ms % 1000));
}

/* ---- hosts ---- */

static const char *stale_state(const char *state)
{
	if (strcmp(state, "up") == 0)
		return "stale (last up)";
	if (strcmp(state, "down") == 0)
		return "stale (last down)";
	return "stale";
}

/* One host as a table row: a stale state says so, and since when. */
static int host_row(struct vgl_table *t, const struct vgl_view_host *hs, const char *hb)
{
	const struct vgl_conf_host *h = hs->host;
	char since[VGL_ISO_LEN] = "";

	if (hs->down)
		vgl_format_iso(hs->since_ms, since);
	/* up on one feed of two: still up, but one fault from down */
	const char *state = !hs->stale && hs->degraded && !hs->down ? "degraded" : hs->state;
	const char *row[] = { h->name, h->address, h->site, h->service, h->customer,
			      hs->stale ? stale_state(hs->state) : state,
			      hs->degraded && !hs->down ? hs->power : hs->cause,
			      hs->stale ? hb : since };
	return vgl_table_add(t, row);
}

static int cmd_hosts(struct vgl_cli *c)
{
	static const char *const head[] = { "HOST", "ADDRESS", "SITE", "SERVICE",
					    "CUSTOMER", "STATE", "CAUSE", "SINCE" };
	struct vgl_table *t = NULL;
	struct vgl_view *v = NULL;
	struct vgl_view_daemon d;
	cJSON *arr = NULL;
	char err[512], hb[VGL_ISO_LEN] = "";
	int rc = EXIT_FAIL;

	switch (vgl_view_new(c->conf, c->q, vgl_now_ms(), &v, err, sizeof(err))) {
	case 0:
		break;
	case -ENOMEM:
		errorf("out of memory");
		return EXIT_FAIL;
	default:
		errorf("%s: %s", c->db_path, err);
		return EXIT_FAIL;
	}
	vgl_view_daemon(v, &d);
	if (d.ever_ran)
		vgl_format_iso(d.last_heartbeat_ms, hb);
	if (d.stale && !c->a.json)
		fprintf(stderr, "vigil: note: vigild %s %s: the states below are as last "
			"observed\n", d.stopped ? "stopped at" : "has not written a heartbeat since",
			hb);
	if (c->a.json ? !(arr = cJSON_CreateArray()) : !(t = vgl_table_new(8, head)))
		goto out_oom;
	for (size_t i = 0; i < c->conf->n_hosts; i++) {
		struct vgl_view_host hs;

		if (vgl_view_host(v, &c->conf->hosts[i], &hs, err, sizeof(err)) != 0) {
			errorf("%s: %s", c->db_path, err);
			goto out_free;
		}
		if (t) {
			if (host_row(t, &hs, hb) != 0)
				goto out_oom;
		} else {
			cJSON *o = vgl_view_host_json(&hs);

			if (!o || !cJSON_AddItemToArray(arr, o)) {
				cJSON_Delete(o);
				goto out_oom;
			}
		}
	}
	if (vgl_cli_emit(t, arr) != 0)
		goto out_free;
	rc = 0;
	goto out_free;
out_oom:
	errorf("out of memory");
out_free:
	vgl_view_free(v);
	vgl_table_free(t);
	cJSON_Delete(arr);
	return rc;
}

/* ---- who ---- */

/* The person behind sudo, not root, is who made the edit. */
const char *vgl_cli_current_user(void)
{
	const char *u = getenv("SUDO_USER");
	struct passwd *pw;

	if (u && *u)
		return u;
	u = getenv("USER");
	if (u && *u)
		return u;
	pw = getpwuid(getuid());
	return pw && pw->pw_name && *pw->pw_name ? pw->pw_name : NULL;
}

/* ---- dispatch ---- */

static int run(struct vgl_cli *c, int argc, char **argv)
{
	struct vgl_cli_args *a = &c->a;
	const struct vgl_cli_opt globals[] = { GLOBAL_OPTS(a), { NULL, NULL, NULL, NULL } };
	const struct vgl_cli_opt o_hosts[] = { GLOBAL_OPTS(a), { NULL, NULL, NULL, NULL } };
	const char *cmd;
	int i = 1;

	if (vgl_cli_parse_opts(argc, argv, &i, globals, "vigil", 1, NULL, 0) != 0)
		return EXIT_USAGE;
	if (i >= argc) {
		if (a->help) {
			fputs(usage_main, stdout);
			return vgl_cli_finish_output() ? EXIT_FAIL : 0;
		}
		errorf("no command given (try 'vigil --help')");
		return EXIT_USAGE;
	}
	cmd = argv[i++];
	if (strcmp(cmd, "hosts") == 0) {
		if (vgl_cli_parse_opts(argc, argv, &i, o_hosts, "hosts", 0, NULL, 0) != 0)
			return EXIT_USAGE;
		if (a->help) {
			fputs(usage_hosts, stdout);
			return vgl_cli_finish_output() ? EXIT_FAIL : 0;
		}
		if (vgl_cli_load_conf(c) != 0 || vgl_cli_open_db(c, 0) != 0)
			return EXIT_FAIL;
		return cmd_hosts(c);
	}
	if (strcmp(cmd, "intervals") == 0)
		return vgl_cli_cmd_intervals(c, argc, argv, i);
	if (strcmp(cmd, "interval") == 0)
		return vgl_cli_cmd_interval(c, argc, argv, i);
	if (strcmp(cmd, "maint") == 0)
		return vgl_cli_cmd_maint(c, argc, argv, i);
	if (strcmp(cmd, "counters") == 0)
		return vgl_cli_cmd_counters(c, argc, argv, i);
	if (strcmp(cmd, "sla") == 0)
		return vgl_cli_cmd_sla(c, argc, argv, i);
	if (strcmp(cmd, "alarms") == 0)
		return vgl_cli_cmd_alarms(c, argc, argv, i);
	if (strcmp(cmd, "alarm") == 0)
		return vgl_cli_cmd_alarm(c, argc, argv, i);
	if (strcmp(cmd, "ack") == 0)
		return vgl_cli_cmd_ack(c, argc, argv, i);
	if (strcmp(cmd, "comment") == 0)
		return vgl_cli_cmd_comment(c, argc, argv, i);
	if (strcmp(cmd, "silence") == 0)
		return vgl_cli_cmd_silence(c, argc, argv, i);
	if (strcmp(cmd, "report") == 0)
		return vgl_cli_cmd_report(c, argc, argv, i);
	errorf("unknown command '%s' (try 'vigil --help')", cmd);
	return EXIT_USAGE;
}

int main(int argc, char **argv)
{
	struct vgl_cli c;
	int rc;

	memset(&c, 0, sizeof(c));
	rc = run(&c, argc, argv);
	cli_close(&c);
	return rc;
}
