/* What the vigil CLI's command files share: the parsed arguments, the
 * session (config, database, queries) and the helpers for options, errors
 * and output. main.c owns the session and dispatches; each command file
 * (interval.c, maint.c, sla.c) parses its own options with
 * vgl_cli_parse_opts.
 */
#ifndef VGL_CLI_H
#define VGL_CLI_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>
#include "storage/sql.h"

#include "cli/table.h"
#include "conf/conf.h"

#define VGL_CLI_EXIT_FAIL 1
#define VGL_CLI_EXIT_USAGE 2

struct vgl_query;
struct vgl_sla_db;
struct vgl_alarm_db;

struct vgl_cli_opt {
	const char *name;       /* "--host" */
	const char *alias;      /* "-c" or NULL */
	const char **value;     /* option takes a value, stored here */
	int *flag;              /* or is a flag, set to 1 */
};

struct vgl_cli_args {
	const char *conf_path;
	const char *db_path;
	int json;
	int help;
	const char *host, *from, *to, *cause, *start, *end, *note;
	int open;
	/* intervals --history, interval reclassify --by */
	int history;
	const char *by;
	/* maint, counters, sla */
	const char *site, *kind, *announced, *month, *customer, *input, *now;
	int all, csv;
	/* alarms, ack, comment, silence, report response */
	int active;
	const char *comment, *label, *for_, *until, *reason, *ack_within, *clear_within;
	const char *pos[2];     /* positional words (maint cancel ID, import FILE,
				 * interval reclassify ID) */
	size_t npos;
};

struct vgl_cli {
	struct vgl_cli_args a;
	struct vgl_conf *conf;
	const char *db_path;
	struct vgl_sql *db;
	struct vgl_query *q;
	struct vgl_sla_db *sdb;
	struct vgl_alarm_db *adb;       /* opened by vgl_cli_open_alarm_db */
};

#define VGL_CLI_GLOBAL_OPTS(a)                                                \
	{ "--config", "-c", &(a)->conf_path, NULL },                          \
	{ "--db", NULL, &(a)->db_path, NULL },                                \
	{ "--json", NULL, NULL, &(a)->json },                                 \
	{ "--help", "-h", NULL, &(a)->help }
#define VGL_CLI_OPTS_END { NULL, NULL, NULL, NULL }

void vgl_cli_errorf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Consumes options from argv[*i]. A word (not an option) stops the parse
 * when stop_at_word; else it is stored in a->pos when pos_max allows (up
 * to pos_max words), else refused. 0 or -1 (message printed). */
int vgl_cli_parse_opts(int argc, char **argv, int *i, const struct vgl_cli_opt *opts,
		       const char *where, int stop_at_word, struct vgl_cli_args *a,
		       size_t pos_max);
/* Prints usage text to stdout: 0, or VGL_CLI_EXIT_FAIL if writing failed. */
int vgl_cli_help(const char *text);
/* ISO-8601 time of option opt; -1 with a message. */
int vgl_cli_parse_time(const char *opt, const char *s, int64_t *out);
/* -1 with "where: missing opt" when value is NULL. */
int vgl_cli_require(const char *where, const char *opt, const char *value);

int vgl_cli_load_conf(struct vgl_cli *c);
/* Opens the database (creating it only when create) with both query sets.
 * 0 or -1 (message printed). */
int vgl_cli_open_db(struct vgl_cli *c, int create);
/* The person behind sudo, else USER, else the password database; NULL if
 * none of them says. */
const char *vgl_cli_current_user(void);

/* JSON helpers, core/jput.h under the CLI's names: 0, or -1 when out of
 * memory. */
int vgl_cli_j_str(cJSON *o, const char *k, const char *v);
int vgl_cli_j_num(cJSON *o, const char *k, int64_t v);
int vgl_cli_j_time(cJSON *o, const char *k, int64_t ms, int present);
int vgl_cli_j_bool(cJSON *o, const char *k, int v);

/* Flushes stdout: 0, or -1 with one message. */
int vgl_cli_finish_output(void);
/* Prints the table, or the JSON if t is NULL: 0, or -1 with one message. */
int vgl_cli_emit(const struct vgl_table *t, cJSON *json);
void vgl_cli_format_duration(int64_t ms, char *buf, size_t len);

/* Commands in their own files; i indexes the first word after the command
 * name. Each returns the exit status. */
int vgl_cli_cmd_intervals(struct vgl_cli *c, int argc, char **argv, int i);
int vgl_cli_cmd_interval(struct vgl_cli *c, int argc, char **argv, int i);
int vgl_cli_cmd_maint(struct vgl_cli *c, int argc, char **argv, int i);
int vgl_cli_cmd_counters(struct vgl_cli *c, int argc, char **argv, int i);
int vgl_cli_cmd_sla(struct vgl_cli *c, int argc, char **argv, int i);
int vgl_cli_cmd_alarms(struct vgl_cli *c, int argc, char **argv, int i);
int vgl_cli_cmd_alarm(struct vgl_cli *c, int argc, char **argv, int i);
int vgl_cli_cmd_ack(struct vgl_cli *c, int argc, char **argv, int i);
int vgl_cli_cmd_comment(struct vgl_cli *c, int argc, char **argv, int i);
int vgl_cli_cmd_silence(struct vgl_cli *c, int argc, char **argv, int i);
int vgl_cli_cmd_report(struct vgl_cli *c, int argc, char **argv, int i);

/* cli/alarms.c, for the alarm commands and the response report: the
 * configuration only when no --db names the database (the alarm commands
 * need nothing else of it), then the database and c->adb. 0, or
 * VGL_CLI_EXIT_FAIL / VGL_CLI_EXIT_USAGE with the message printed. */
int vgl_cli_open_alarm_db(struct vgl_cli *c);
/* "90s", "30m", "2h", "1d": a positive count of one unit, in ms. 0, or -1
 * with "opt: bad duration" printed. */
int vgl_cli_parse_duration(const char *opt, const char *s, int64_t *out_ms);

#endif
