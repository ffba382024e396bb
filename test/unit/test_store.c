/* storage/: migrations, the writer's durability and the restart gap. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/vtime.h"
#include "storage/store.h"
#include "test/test.h"

#include "test/unit/store_util.h"

/* ---- migrations ------------------------------------------------------ */

TEST(store_migrate_fresh_and_reopen)
{
	const char *path = db_path("m.db");
	char err[256] = "";
	sqlite3 *db = NULL;

	ASSERT_EQ(vgl_db_open(path, &db, err, sizeof(err)), 0);
	ASSERT_EQ(q_int(db, "PRAGMA user_version"), VGL_SCHEMA_VERSION_LATEST);
	ASSERT_EQ(q_int(db, "PRAGMA foreign_keys"), 1);
	ASSERT_EQ(q_int(db, "PRAGMA busy_timeout"), 5000);
	char *mode = q_text(db, "PRAGMA journal_mode");
	ASSERT_STREQ(mode, "wal");
	free(mode);
	ASSERT_EQ(q_int(db, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN "
			"('hosts', 'intervals', 'events', 'runs')"), 4);
	ASSERT_EQ(q_int(db, "SELECT count(*) FROM sqlite_master WHERE type = 'view' AND "
			"name = 'samples'"), 1);
	ASSERT_EQ(q_exec(db, "INSERT INTO hosts (name) VALUES ('keep-me')"), SQLITE_OK);
	raw_close(db);

	/* A second open migrates nothing and loses nothing. */
	ASSERT_EQ(vgl_db_open(path, &db, err, sizeof(err)), 0);
	ASSERT_EQ(q_int(db, "PRAGMA user_version"), VGL_SCHEMA_VERSION_LATEST);
	ASSERT_EQ(q_int(db, "SELECT count(*) FROM hosts WHERE name = 'keep-me'"), 1);
	raw_close(db);

	/* WAL is a property of the file: a plain connection sees it too. */
	db = raw_open(path);
	mode = q_text(db, "PRAGMA journal_mode");
	ASSERT_STREQ(mode, "wal");
	free(mode);
	raw_close(db);
}

/* The daemon creates the file and a CLI opens it at once: every opener of
 * a fresh file must come out with it in WAL and migrated, none with
 * "database is locked". Raced from forked processes released together;
 * before the retry in journal_mode_wal about a third of rounds failed. */
TEST(store_migrate_racing_openers_of_a_fresh_file)
{
	enum { ROUNDS = 40, OPENERS = 3 };

	for (int round = 0; round < ROUNDS; round++) {
		char name[32];
		const char *path;
		int go[2], fd;
		pid_t pid[OPENERS];

		snprintf(name, sizeof(name), "race%d.db", round);
		path = db_path(name);
		fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0640);
		ASSERT(fd >= 0);
		close(fd);
		ASSERT_EQ(pipe(go), 0);
		fflush(stderr);
		for (int i = 0; i < OPENERS; i++) {
			pid[i] = fork();
			ASSERT(pid[i] >= 0);
			if (pid[i] == 0) {
				char err[256] = "", c;
				sqlite3 *db = NULL;

				close(go[1]);
				if (read(go[0], &c, 1) != 0)
					_exit(3);
				if (vgl_db_open(path, &db, err, sizeof(err)) != 0) {
					fprintf(stderr, "opener %d: %s\n", i, err);
					_exit(1);
				}
				_exit(sqlite3_close(db) == SQLITE_OK ? 0 : 2);
			}
		}
		close(go[0]);
		close(go[1]); /* EOF releases them together */
		for (int i = 0; i < OPENERS; i++) {
			int status;

			ASSERT_EQ(waitpid(pid[i], &status, 0), pid[i]);
			ASSERT(WIFEXITED(status));
			ASSERT_EQ(WEXITSTATUS(status), 0);
		}
	}
}

TEST(store_migrate_refuses_newer_db)
{
	const char *path = db_path("new.db");
	char err[256] = "";
	sqlite3 *db = raw_open(path);

	ASSERT_EQ(q_exec(db, "CREATE TABLE future (x)"), SQLITE_OK);
	ASSERT_EQ(q_exec(db, "PRAGMA user_version = 99"), SQLITE_OK);
	raw_close(db);
	db = (sqlite3 *)1;
	ASSERT_EQ(vgl_db_open(path, &db, err, sizeof(err)), -1);
	ASSERT(db == NULL);
	ASSERT_CONTAINS(err, path);
	ASSERT_CONTAINS(err, "99");
	ASSERT_CONTAINS(err, "newer");
	/* Refused means untouched. */
	db = raw_open(path);
	ASSERT_EQ(q_int(db, "PRAGMA user_version"), 99);
	ASSERT_EQ(q_int(db, "SELECT count(*) FROM sqlite_master WHERE name = 'hosts'"), 0);
	raw_close(db);
}

TEST(store_migrate_bad_path)
{
	char err[256] = "";
	sqlite3 *db = NULL;

	ASSERT_EQ(vgl_db_open("/nonexistent-dir/x/y.db", &db, err, sizeof(err)), -1);
	ASSERT_CONTAINS(err, "/nonexistent-dir/x/y.db");
	ASSERT(db == NULL);
}

/* The columns and indexes of a schema as one comparable string. */
static char *schema_signature(sqlite3 *db)
{
	const char *sql =
		"SELECT m.type || ' ' || m.name || '(' || coalesce(("
		"  SELECT group_concat(p.name || ':' || p.type || ':' || p.\"notnull\" || ':' ||"
		"   coalesce(p.dflt_value, '-') || ':' || p.pk, ',') FROM pragma_table_info(m.name) p"
		"  WHERE m.type IN ('table', 'view')), '') || coalesce(("
		"  SELECT group_concat(x.name, ',') FROM pragma_index_info(m.name) x"
		"  WHERE m.type = 'index'), '') || ')' || "
		" CASE WHEN m.type = 'index' AND m.sql LIKE '%WHERE%' THEN ' partial' ELSE '' END "
		"FROM sqlite_master m WHERE m.name NOT LIKE 'sqlite_%' ORDER BY m.name";
	sqlite3_stmt *st = NULL;
	size_t len = 0;
	char *out = calloc(1, 1);

	ASSERT(out);
	ASSERT_EQ(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *row = (const char *)sqlite3_column_text(st, 0);
		size_t n = strlen(row);
		char *p = realloc(out, len + n + 2);
		ASSERT(p);
		out = p;
		memcpy(out + len, row, n);
		out[len + n] = '\n';
		len += n + 1;
		out[len] = 0;
	}
	sqlite3_finalize(st);
	return out;
}

/* docs/schema.md is what the CLI and SLA engineers read: its SQL must build
 * the very schema migration 1 builds. */
TEST(store_schema_doc_matches_migration)
{
	FILE *f = fopen("docs/schema.md", "r");
	char line[1024], *sql = NULL, *a, *b, err[256];
	size_t len = 0;
	int in_sql = 0;
	sqlite3 *doc, *mig;

	if (!f) {
		fprintf(stderr, "run from the repository root: docs/schema.md: %s\n",
			strerror(errno));
		ASSERT(0);
	}
	while (fgets(line, sizeof(line), f)) {
		if (!in_sql) {
			in_sql = strncmp(line, "```sql", 6) == 0;
			continue;
		}
		if (strncmp(line, "```", 3) == 0)
			break;
		size_t n = strlen(line);
		char *p = realloc(sql, len + n + 1);
		ASSERT(p);
		sql = p;
		memcpy(sql + len, line, n + 1);
		len += n;
	}
	fclose(f);
	ASSERT(sql);
	doc = raw_open(db_path("doc.db"));
	ASSERT_EQ(sqlite3_exec(doc, sql, NULL, NULL, NULL), SQLITE_OK);
	free(sql);
	ASSERT_EQ(vgl_db_open(db_path("mig.db"), &mig, err, sizeof(err)), 0);
	a = schema_signature(doc);
	b = schema_signature(mig);
	ASSERT(strlen(a) > 100);
	ASSERT_STREQ(a, b);
	free(a);
	free(b);
	raw_close(doc);
	raw_close(mig);
}

TEST(store_one_open_interval_per_host)
{
	char err[256];
	sqlite3 *db;

	ASSERT_EQ(vgl_db_open(db_path("one.db"), &db, err, sizeof(err)), 0);
	ASSERT_EQ(q_exec(db, "INSERT INTO hosts (id, name) VALUES (1, 'a'), (2, 'b')"), SQLITE_OK);
	ASSERT_EQ(q_exec(db, "INSERT INTO intervals (host_id, cause, start_ms, opened_by, "
			 "created_ms) VALUES (1, 'network', 1000, 'r', 1000)"), SQLITE_OK);
	/* A second open one for the same host: refused. */
	ASSERT_EQ(q_exec(db, "INSERT INTO intervals (host_id, cause, start_ms, opened_by, "
			 "created_ms) VALUES (1, 'power', 2000, 'r', 2000)"),
		  SQLITE_CONSTRAINT_UNIQUE);
	/* Closed ones and other hosts' open ones are fine. */
	ASSERT_EQ(q_exec(db, "INSERT INTO intervals (host_id, cause, start_ms, end_ms, opened_by, "
			 "created_ms) VALUES (1, 'power', 100, 200, 'r', 2000)"), SQLITE_OK);
	ASSERT_EQ(q_exec(db, "INSERT INTO intervals (host_id, cause, start_ms, opened_by, "
			 "created_ms) VALUES (2, 'power', 2000, 'r', 2000)"), SQLITE_OK);
	/* End before start, and an unknown host. */
	ASSERT_EQ(q_exec(db, "INSERT INTO intervals (host_id, cause, start_ms, end_ms, opened_by, "
			 "created_ms) VALUES (2, 'power', 500, 400, 'r', 2000)"),
		  SQLITE_CONSTRAINT_CHECK);
	ASSERT_EQ(q_exec(db, "INSERT INTO intervals (host_id, cause, start_ms, opened_by, "
			 "created_ms) VALUES (9, 'power', 2000, 'r', 2000)"),
		  SQLITE_CONSTRAINT_FOREIGNKEY);
	raw_close(db);
}

/* Migration 3 folds the per-metric samples rows of a version-2 database
 * into the hosts rows; the samples view reads them back the same.
 * Migration 5 restamps its polled counter samples. */
TEST(store_migration_3_keeps_samples)
{
	const char *path = db_path("v2.db");
	char err[256];
	sqlite3 *db = raw_open(path);

	/* Only what migrations 3 and 4 read: the version-2 hosts and samples,
	 * and the intervals columns and index migration 4 re-indexes. */
	ASSERT_EQ(q_exec(db, "CREATE TABLE hosts (id INTEGER PRIMARY KEY, name TEXT NOT NULL "
			 "UNIQUE, last_poll_ms INTEGER, last_quality TEXT)"), SQLITE_OK);
	ASSERT_EQ(q_exec(db, "CREATE TABLE intervals (id INTEGER PRIMARY KEY, host_id INTEGER, "
			 "cause TEXT, start_ms INTEGER, end_ms INTEGER, note TEXT, opened_by TEXT)"),
		  SQLITE_OK);
	ASSERT_EQ(q_exec(db, "CREATE INDEX intervals_host_start ON intervals(host_id, start_ms)"),
		  SQLITE_OK);
	ASSERT_EQ(q_exec(db, "CREATE TABLE samples (host_id INTEGER NOT NULL REFERENCES "
			 "hosts(id), metric TEXT NOT NULL, value REAL, quality TEXT NOT NULL, "
			 "ts_ms INTEGER NOT NULL, PRIMARY KEY (host_id, metric)) WITHOUT ROWID"),
		  SQLITE_OK);
	/* and the version-2 counter_samples migration 5 rebuilds */
	ASSERT_EQ(q_exec(db, "CREATE TABLE counter_samples (host_id INTEGER NOT NULL, ts_ms "
			 "INTEGER NOT NULL, total INTEGER NOT NULL, failed INTEGER NOT NULL, "
			 "source TEXT NOT NULL CHECK (source IN ('snmp', 'import')), "
			 "PRIMARY KEY (host_id, ts_ms)) WITHOUT ROWID"), SQLITE_OK);
	ASSERT_EQ(q_exec(db, "INSERT INTO counter_samples VALUES (1, 100, 5000000000, 7, 'snmp'), "
			 "(1, 200, -1, 0, 'import')"), SQLITE_OK);
	ASSERT_EQ(q_exec(db, "INSERT INTO hosts (id, name) VALUES (1, 'a'), (2, 'b')"), SQLITE_OK);
	ASSERT_EQ(q_exec(db, "INSERT INTO samples VALUES (1, 'up', 1, 'ok', 100), "
			 "(1, 'temp', 21.5, 'ok', 200), (1, 'fan', NULL, 'absent', 150)"),
		  SQLITE_OK);
	ASSERT_EQ(q_exec(db, "PRAGMA user_version = 2"), SQLITE_OK);
	raw_close(db);

	ASSERT_EQ(vgl_db_open(path, &db, err, sizeof(err)), 0);
	ASSERT_EQ(q_int(db, "PRAGMA user_version"), VGL_SCHEMA_VERSION_LATEST);
	ASSERT_EQ(q_int(db, "SELECT count(*) FROM samples"), 3);
	ASSERT_EQ(q_int(db, "SELECT count(*) FROM samples WHERE host_id = 1 AND metric = 'up' AND "
			"value = 1 AND quality = 'ok' AND ts_ms = 200"), 1);
	ASSERT_EQ(q_int(db, "SELECT value = 21.5 FROM samples WHERE metric = 'temp'"), 1);
	ASSERT_EQ(q_int(db, "SELECT value IS NULL AND quality = 'absent' FROM samples "
			"WHERE metric = 'fan'"), 1);
	ASSERT_EQ(q_int(db, "SELECT last_values IS NULL FROM hosts WHERE id = 2"), 1);
	/* migration 5: rows kept, exact, 'snmp' now 'poll' */
	ASSERT_EQ(q_int(db, "SELECT count(*) FROM counter_samples"), 2);
	ASSERT_EQ(q_int(db, "SELECT total FROM counter_samples WHERE ts_ms = 100 AND source = 'poll' "
			"AND failed = 7"), 5000000000LL);
	ASSERT_EQ(q_int(db, "SELECT total FROM counter_samples WHERE ts_ms = 200 AND "
			"source = 'import'"), -1);
	ASSERT(q_exec(db, "INSERT INTO counter_samples VALUES (1, 300, 1, 1, 'snmp')") ==
	       SQLITE_CONSTRAINT_CHECK);
	raw_close(db);
}

/* ---- the writer ------------------------------------------------------ */

TEST(store_transitions_visible_after_commit)
{
	const char *path = db_path("t.db");
	struct vgl_conf *c = make_conf(3, "web");
	int64_t ids[3];
	struct vgl_store *s = store_open(path, 100, T0);
	sqlite3 *db;
	char *detail;

	ASSERT_EQ(vgl_store_sync_hosts(s, c, ids), 0);
	db = raw_open(path);
	ASSERT_EQ(q_int(db, "SELECT state = 'unknown' FROM hosts WHERE name = 'web-00001'"), 1);

	{
		const char *names[] = { "ifOperStatus", "temp", "say \"hi\"\n" };
		const double vals[] = { 1, 0, 0.1 };
		const enum vgl_quality qs[] = { VGL_Q_OK, VGL_Q_TIMEOUT, VGL_Q_OK };
		polled(s, ids[1], T0 + 500, VGL_Q_OK, 3, names, vals, qs);
	}
	vgl_store_interval_open(s, ids[1], "web-00001", "network", "unreachable", T0 + 1000,
				"{\"polls\":3}", 10000);
	ASSERT_EQ(wait_int(db, "SELECT count(*) FROM intervals WHERE end_ms IS NULL", 1, 3000), 1);
	ASSERT_EQ(q_int(db, "SELECT start_ms FROM intervals"), T0 + 1000);
	ASSERT_EQ(q_int(db, "SELECT poll_interval_ms FROM intervals"), 10000);
	ASSERT_EQ(q_int(db, "SELECT host_id FROM intervals"), ids[1]);
	ASSERT_EQ(q_int(db, "SELECT count(*) FROM intervals WHERE cause = 'network' AND "
			"opened_by = 'unreachable' AND evidence = '{\"polls\":3}' AND "
			"origin = 'monitor' AND unobserved_ms = 0"), 1);
	ASSERT_EQ(q_int(db, "SELECT count(*) FROM events WHERE kind = 'interval_open' AND "
			"interval_id = (SELECT id FROM intervals) AND ts_ms = " "1800000001000"), 1);
	ASSERT_EQ(q_int(db, "SELECT state = 'down' FROM hosts WHERE id = (SELECT host_id FROM "
			"intervals)"), 1);
	ASSERT_EQ(q_int(db, "SELECT last_poll_ms FROM hosts WHERE name = 'web-00001'"), T0 + 500);
	ASSERT_EQ(q_int(db, "SELECT value FROM samples WHERE metric = 'ifOperStatus'"), 1);
	ASSERT_EQ(q_int(db, "SELECT value FROM samples WHERE metric = 'temp'"), -2);
	ASSERT_EQ(q_int(db, "SELECT quality = 'timeout' FROM samples WHERE metric = 'temp'"), 1);
	ASSERT_EQ(q_int(db, "SELECT ts_ms FROM samples WHERE metric = 'temp'"), T0 + 500);
	/* A name that needs escaping, and a value that is not an integer,
	 * read back exactly. */
	ASSERT_EQ(q_int(db, "SELECT value = 0.1 AND quality = 'ok' FROM samples "
			"WHERE metric = 'say \"hi\"' || char(10)"), 1);
	ASSERT_EQ(q_int(db, "SELECT count(*) FROM samples WHERE host_id = (SELECT id FROM hosts "
			"WHERE name = 'web-00001')"), 3);

	vgl_store_interval_close(s, ids[1], "web-00001", T0 + 61000, "unreachable",
				 "{\"answered\":true}");
	ASSERT_EQ(wait_int(db, "SELECT count(*) FROM intervals WHERE end_ms IS NOT NULL", 1, 3000),
		  1);
	ASSERT_EQ(q_int(db, "SELECT end_ms FROM intervals"), T0 + 61000);
	ASSERT_EQ(q_int(db, "SELECT closed_by = 'unreachable' FROM intervals"), 1);
	ASSERT_EQ(q_int(db, "SELECT state = 'up' FROM hosts WHERE name = 'web-00001'"), 1);
	detail = q_text(db, "SELECT detail FROM events WHERE kind = 'interval_close'");
	ASSERT_CONTAINS(detail, "\"evidence\":{\"answered\":true}");
	ASSERT_CONTAINS(detail, "\"rule\":\"unreachable\"");
	free(detail);

	/* A good poll replaces the values; a failed one leaves them with the
	 * time of the poll that read them, and marks the host row. */
	polled1(s, ids[1], T0 + 70000, "ifOperStatus", 1);
	polled1(s, ids[1], T0 + 80000, "ifOperStatus", 2);
	polled(s, ids[1], T0 + 90000, VGL_Q_TIMEOUT, 0, NULL, NULL, NULL);
	vgl_store_close(s, T0 + 100000);
	ASSERT_EQ(q_int(db, "SELECT value FROM samples WHERE metric = 'ifOperStatus'"), 2);
	ASSERT_EQ(q_int(db, "SELECT ts_ms FROM samples WHERE metric = 'ifOperStatus'"), T0 + 80000);
	ASSERT_EQ(q_int(db, "SELECT count(*) FROM samples WHERE metric = 'temp'"), 0);
	ASSERT_EQ(q_int(db, "SELECT last_poll_ms FROM hosts WHERE name = 'web-00001'"),
		  T0 + 90000);
	ASSERT_EQ(q_int(db, "SELECT last_quality = 'timeout' FROM hosts WHERE name = 'web-00001'"),
		  1);
	ASSERT_EQ(q_int(db, "SELECT stopped_ms FROM runs"), T0 + 100000);
	ASSERT_EQ(q_int(db, "SELECT count(*) FROM events WHERE kind IN ('daemon_start', "
			"'daemon_stop')"), 2);
	raw_close(db);
	free_conf(c);
}

TEST(store_second_open_logged_not_fatal)
{
	const char *path = db_path("two.db");
	struct vgl_conf *c = make_conf(2, "db");
	int64_t ids[2];
	struct vgl_store *s = store_open(path, 50, T0);
	struct vgl_store_stats st;
	sqlite3 *db;

	ASSERT_EQ(vgl_store_sync_hosts(s, c, ids), 0);
	vgl_store_interval_open(s, ids[0], "db-00000", "network", "unreachable", T0 + 1, NULL, 0);
	vgl_store_interval_open(s, ids[0], "db-00000", "power", "psu", T0 + 2, NULL, 0);
	vgl_store_interval_open(s, 999999, "ghost", "power", "psu", T0 + 2, NULL, 0);
	vgl_store_interval_close(s, ids[1], "db-00001", T0 + 3, "x", NULL); /* nothing open */
	vgl_store_interval_open(s, ids[1], "db-00001", "hardware", "fan", T0 + 4, "not json", 0);
	polled1(s, 999999, T0, "m", 1);
	vgl_store_close(s, T0 + 10);
	db = raw_open(path);
	/* The batch went through; the bad entries alone were skipped. */
	ASSERT_EQ(q_int(db, "SELECT count(*) FROM intervals"), 2);
	ASSERT_EQ(q_int(db, "SELECT cause = 'network' FROM intervals WHERE host_id = 1"), 1);
	ASSERT_EQ(q_int(db, "SELECT count(*) FROM events WHERE kind = 'interval_open'"), 2);
	ASSERT_EQ(q_int(db, "SELECT count(*) FROM samples"), 0);
	raw_close(db);

	/* Reopen: the stats of a fresh store start at zero, and a close of
	 * what is open works. */
	s = store_open(path, 50, T0 + 20);
	vgl_store_interval_close(s, ids[0], "db-00000", T0 + 30, "unreachable", "[1,2]");
	vgl_store_get_stats(s, &st);
	ASSERT_EQ(st.samples_dropped, 0);
	vgl_store_close(s, T0 + 40);
	db = raw_open(path);
	ASSERT_EQ(q_int(db, "SELECT end_ms FROM intervals WHERE host_id = 1"), T0 + 30);
	ASSERT_EQ(q_int(db, "SELECT count(*) FROM intervals WHERE end_ms IS NULL"), 1);
	raw_close(db);
	free_conf(c);
}

TEST(store_sync_hosts_ids_stable_and_inactive)
{
	const char *path = db_path("sync.db");
	struct vgl_conf *c = make_conf(5, "h");
	int64_t ids[5], ids2[5], ids3[3];
	struct vgl_store *s = store_open(path, 100, T0);
	sqlite3 *db;

	ASSERT_EQ(vgl_store_sync_hosts(s, c, ids), 0);
	for (int i = 0; i < 5; i++)
		for (int j = 0; j < i; j++)
			ASSERT_NE(ids[i], ids[j]);
	/* Same config again: same ids, same rows. */
	ASSERT_EQ(vgl_store_sync_hosts(s, c, ids2), 0);
	for (int i = 0; i < 5; i++)
		ASSERT_EQ(ids[i], ids2[i]);

	/* A reload with hosts 1 and 3 gone, host 4 readdressed, and a new one
	 * listed first. */
	struct vgl_conf *c2 = make_conf(3, "h");
	free(c2->hosts[0].name);
	ASSERT(asprintf(&c2->hosts[0].name, "h-new") > 0);
	free(c2->hosts[1].name);
	ASSERT(asprintf(&c2->hosts[1].name, "h-00004") > 0);
	free(c2->hosts[1].address);
	c2->hosts[1].address = strdup("192.0.2.4");
	free(c2->hosts[2].name);
	ASSERT(asprintf(&c2->hosts[2].name, "h-00000") > 0);
	ASSERT_EQ(vgl_store_sync_hosts(s, c2, ids3), 0);
	ASSERT_EQ(ids3[1], ids[4]);
	ASSERT_EQ(ids3[2], ids[0]);
	for (int i = 0; i < 5; i++)
		ASSERT_NE(ids3[0], ids[i]);
	vgl_store_close(s, T0 + 1);

	db = raw_open(path);
	ASSERT_EQ(q_int(db, "SELECT count(*) FROM hosts"), 6);
	ASSERT_EQ(q_int(db, "SELECT count(*) FROM hosts WHERE active = 1"), 3);
	ASSERT_EQ(q_int(db, "SELECT count(*) FROM hosts WHERE active = 0 AND name IN "
			"('h-00001', 'h-00002', 'h-00003')"), 3);
	ASSERT_EQ(q_int(db, "SELECT address = '192.0.2.4' FROM hosts WHERE name = 'h-00004'"), 1);
	ASSERT_EQ(q_int(db, "SELECT service = 'vserver' AND customer = 'acme' AND site = 'dc1' "
			"FROM hosts WHERE name = 'h-new'"), 1);
	raw_close(db);

	/* Back in the config: active again, same id. */
	s = store_open(path, 100, T0 + 2);
	ASSERT_EQ(vgl_store_sync_hosts(s, c, ids2), 0);
	for (int i = 0; i < 5; i++)
		ASSERT_EQ(ids[i], ids2[i]);
	vgl_store_close(s, T0 + 3);
	db = raw_open(path);
	ASSERT_EQ(q_int(db, "SELECT count(*) FROM hosts WHERE active = 1"), 5);
	ASSERT_EQ(q_int(db, "SELECT active FROM hosts WHERE name = 'h-new'"), 0);
	raw_close(db);
	free_conf(c);
	free_conf(c2);
}

struct open_seen {
	int n;
	int64_t host_id, start_ms;
	char cause[32], rule[32];
};

static void on_open(void *ctx, int64_t host_id, const char *cause, const char *rule,
		    int64_t start_ms)
{
	struct open_seen *o = ctx;

	o->n++;
	o->host_id = host_id;
	o->start_ms = start_ms;
	snprintf(o->cause, sizeof(o->cause), "%s", cause);
	snprintf(o->rule, sizeof(o->rule), "%s", rule);
}

TEST(store_restart_gap_grows_unobserved)
{
	const char *path = db_path("gap.db");
	struct vgl_conf *c = make_conf(2, "g");
	int64_t ids[2];
	struct open_seen seen = { 0 };
	struct vgl_store *s = store_open(path, 50, T0);
	sqlite3 *db;
	char *detail;

	ASSERT_EQ(vgl_store_sync_hosts(s, c, ids), 0);
	vgl_store_interval_open(s, ids[0], "g-00000", "power", "pdu", T0 + 1000, NULL, 5000);
	/* Closed before the stop: no gap for it. */
	vgl_store_interval_open(s, ids[1], "g-00001", "network", "ping", T0 + 1000, NULL, 5000);
	vgl_store_interval_close(s, ids[1], "g-00001", T0 + 2000, "ping", NULL);
	vgl_store_close(s, T0 + 5000);

	/* Clean stop at +5 s, start at +65 s: 60 s nobody watched. */
	s = store_open(path, 50, T0 + 65000);
	ASSERT_EQ(vgl_store_each_open_interval(s, on_open, &seen), 0);
	ASSERT_EQ(seen.n, 1);
	ASSERT_EQ(seen.host_id, ids[0]);
	ASSERT_EQ(seen.start_ms, T0 + 1000);
	ASSERT_STREQ(seen.cause, "power");
	ASSERT_STREQ(seen.rule, "pdu");
	db = raw_open(path);
	ASSERT_EQ(q_int(db, "SELECT unobserved_ms FROM intervals WHERE end_ms IS NULL"), 60000);
	ASSERT_EQ(q_int(db, "SELECT unobserved_ms FROM intervals WHERE end_ms IS NOT NULL"), 0);
	ASSERT_EQ(q_int(db, "SELECT count(*) FROM events WHERE kind = 'unobserved_gap'"), 1);
	detail = q_text(db, "SELECT detail FROM events WHERE kind = 'unobserved_gap'");
	ASSERT_CONTAINS(detail, "\"gap_ms\":60000");
	ASSERT_CONTAINS(detail, "\"previous_run_stopped\":true");
	free(detail);
	vgl_store_close(s, T0 + 70000);

	/* Now a crash: run 2 never wrote its stop, its last heartbeat was
	 * at +68 s; run 3 starts at +100 s. */
	ASSERT_EQ(q_exec(db, "UPDATE runs SET stopped_ms = NULL, heartbeat_ms = 1800000068000 "
			 "WHERE id = 2"), SQLITE_OK);
	s = store_open(path, 50, T0 + 100000);
	ASSERT_EQ(q_int(db, "SELECT unobserved_ms FROM intervals WHERE end_ms IS NULL"),
		  60000 + 32000);
	ASSERT_EQ(q_int(db, "SELECT count(*) FROM events WHERE kind = 'unobserved_gap'"), 2);
	detail = q_text(db, "SELECT detail FROM events WHERE kind = 'unobserved_gap' "
			"ORDER BY id DESC LIMIT 1");
	ASSERT_CONTAINS(detail, "\"gap_ms\":32000");
	ASSERT_CONTAINS(detail, "\"previous_run_stopped\":false");
	free(detail);
	detail = q_text(db, "SELECT detail FROM events WHERE kind = 'daemon_start' "
			"ORDER BY id DESC LIMIT 1");
	ASSERT_CONTAINS(detail, "\"previous_run\":2");
	ASSERT_CONTAINS(detail, "\"unobserved_ms\":32000");
	free(detail);
	ASSERT_EQ(q_int(db, "SELECT count(*) FROM runs"), 3);
	ASSERT_EQ(q_int(db, "SELECT count(*) FROM events WHERE kind = 'daemon_start'"), 3);
	ASSERT_EQ(q_int(db, "SELECT count(*) FROM events WHERE kind = 'daemon_stop'"), 2);

	/* Recovery observed: the interval closes with its unobserved time. */
	vgl_store_interval_close(s, ids[0], "g-00000", T0 + 101000, "pdu", NULL);
	vgl_store_close(s, T0 + 102000);
	ASSERT_EQ(q_int(db, "SELECT count(*) FROM intervals WHERE end_ms = 1800000101000 AND "
			"unobserved_ms = 92000"), 1);
	raw_close(db);
	free_conf(c);
}

/* ---- durability across kill -9 --------------------------------------- */

#define KILL_HOSTS 20

/* Child: opens the store, queues the transitions (opens, or closes when
 * closing), says "queued" on status_fd, then waits to be killed. */
static void __attribute__((noreturn)) kill_child(const char *path, int closing, int log_fd,
						 int status_fd)
{
	struct vgl_conf *c = make_conf(KILL_HOSTS, "k");
	int64_t ids[KILL_HOSTS];
	struct vgl_store *s;
	struct vgl_store_opts o = { .path = path, .batch_ms = 200, .heartbeat_ms = 60000,
				    .now_ms = T0 + (closing ? 50000 : 0) };

	if (dup2(log_fd, 2) < 0)
		_exit(3);
	if (vgl_store_open(&o, &s) != 0 || vgl_store_sync_hosts(s, c, ids) != 0)
		_exit(4);
	for (int i = 0; i < KILL_HOSTS; i++) {
		static const char *const names[] = { "m0", "m1", "m2", "m3", "m4" };
		double vals[5];
		for (int m = 0; m < 5; m++)
			vals[m] = closing * 100 + m;
		polled(s, ids[i], T0 + 10 * closing, VGL_Q_OK, 5, names, vals, NULL);
		if (closing)
			vgl_store_interval_close(s, ids[i], c->hosts[i].name, T0 + 60000 + i, "r",
						 NULL);
		else
			vgl_store_interval_open(s, ids[i], c->hosts[i].name, "network", "r",
						T0 + 1000 + i, NULL, 1000);
	}
	if (write(status_fd, "queued\n", 7) != 7)
		_exit(5);
	for (;;)
		pause();
}

/* Reads fd until `lines` lines containing needle were seen or timeout. */
static int read_until(int fd, const char *needle, int lines, int timeout_ms)
{
	static char buf[1 << 16];
	size_t len = 0;
	int64_t deadline = vgl_mono_ms() + timeout_ms;
	int seen = 0;

	while (seen < lines) {
		int64_t left = deadline - vgl_mono_ms();
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (left <= 0 || poll(&p, 1, (int)left) <= 0)
			break;
		n = read(fd, buf + len, sizeof(buf) - 1 - len);
		if (n <= 0)
			break;
		len += (size_t)n;
		buf[len] = 0;
		seen = 0;
		for (const char *q = buf; (q = strstr(q, needle)); q++)
			seen++;
		if (len == sizeof(buf) - 1)
			len = 0;
	}
	return seen;
}

static pid_t spawn_kill_child(const char *path, int closing, int *log_rd, int *status_rd)
{
	int lp[2], sp[2];
	pid_t pid;

	ASSERT_EQ(pipe(lp), 0);
	ASSERT_EQ(pipe(sp), 0);
	fflush(stderr);
	pid = fork();
	ASSERT(pid >= 0);
	if (pid == 0) {
		close(lp[0]);
		close(sp[0]);
		kill_child(path, closing, lp[1], sp[1]);
	}
	close(lp[1]);
	close(sp[1]);
	*log_rd = lp[0];
	*status_rd = sp[0];
	return pid;
}

static void kill9(pid_t pid)
{
	int status;

	ASSERT_EQ(kill(pid, SIGKILL), 0);
	ASSERT_EQ(waitpid(pid, &status, 0), pid);
	ASSERT(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
}

TEST(store_kill9_keeps_committed_transitions)
{
	const char *path = db_path("kill.db");
	int log_rd, status_rd;
	pid_t pid;
	sqlite3 *db;

	/* 1: kill as soon as the child has logged every open as committed. */
	pid = spawn_kill_child(path, 0, &log_rd, &status_rd);
	ASSERT_EQ(read_until(log_rd, "): committed", KILL_HOSTS, 10000), KILL_HOSTS);
	kill9(pid);
	close(log_rd);
	close(status_rd);
	db = raw_open(path);
	ASSERT_EQ(q_int(db, "SELECT count(*) FROM intervals WHERE end_ms IS NULL AND "
			"cause = 'network'"), KILL_HOSTS);
	ASSERT_EQ(q_int(db, "SELECT count(*) FROM events WHERE kind = 'interval_open'"),
		  KILL_HOSTS);
	ASSERT_EQ(q_int(db, "SELECT count(*) FROM runs WHERE stopped_ms IS NULL"), 1);
	raw_close(db);

	/* 2: kill 5 batch windows after queueing, without reading the log. */
	pid = spawn_kill_child(path, 1, &log_rd, &status_rd);
	ASSERT_EQ(read_until(status_rd, "queued", 1, 10000), 1);
	sleep_ms(5 * 200);
	kill9(pid);
	close(log_rd);
	close(status_rd);
	db = raw_open(path);
	ASSERT_EQ(q_int(db, "SELECT count(*) FROM intervals WHERE end_ms IS NULL"), 0);
	ASSERT_EQ(q_int(db, "SELECT count(*) FROM intervals WHERE end_ms - start_ms = 59000"),
		  KILL_HOSTS);
	ASSERT_EQ(q_int(db, "SELECT count(*) FROM events WHERE kind = 'interval_close'"),
		  KILL_HOSTS);
	ASSERT_EQ(q_int(db, "SELECT count(*) FROM samples WHERE value >= 100"), KILL_HOSTS * 5);
	ASSERT_EQ(q_int(db, "SELECT count(*) FROM hosts WHERE state = 'up' AND "
			"last_poll_ms = 1800000000010"), KILL_HOSTS);
	/* The second run saw the first one crash: every interval got a gap. */
	ASSERT_EQ(q_int(db, "SELECT count(*) FROM events WHERE kind = 'unobserved_gap'"),
		  KILL_HOSTS);
	ASSERT_EQ(q_int(db, "SELECT count(*) FROM runs WHERE stopped_ms IS NULL"), 2);
	raw_close(db);
}

/* ---- failure and overload -------------------------------------------- */

TEST(store_busy_batch_retried_not_lost)
{
	const char *path = db_path("busy.db");
	struct vgl_conf *c = make_conf(1, "b");
	int64_t ids[1];
	struct vgl_store *s = store_open(path, 50, T0);
	struct vgl_store_stats st;
	sqlite3 *lock;

	ASSERT_EQ(vgl_store_sync_hosts(s, c, ids), 0);
	lock = raw_open(path);
	/* Another writer holds the lock past the 5 s busy timeout. */
	ASSERT_EQ(q_exec(lock, "BEGIN IMMEDIATE"), SQLITE_OK);
	vgl_store_interval_open(s, ids[0], "b-00000", "power", "ups", T0 + 1, NULL, 0);
	polled1(s, ids[0], T0 + 1, "load", 3);
	/* The writer gives up after the busy timeout (5 s) and keeps the batch. */
	for (int64_t end = vgl_mono_ms() + 15000; vgl_mono_ms() < end; sleep_ms(50)) {
		vgl_store_get_stats(s, &st);
		if (st.batches_failed)
			break;
	}
	ASSERT_GE(st.batches_failed, 1);
	ASSERT_EQ(st.transitions_committed, 0);
	ASSERT_EQ(st.queued, 2);
	ASSERT_EQ(q_exec(lock, "ROLLBACK"), SQLITE_OK);
	ASSERT_EQ(wait_int(lock, "SELECT count(*) FROM intervals", 1, 5000), 1);
	/* The poll may have been queued after the open was swapped out:
	 * then it follows in the next batch. */
	ASSERT_EQ(wait_int(lock, "SELECT value FROM samples", 3, 5000), 3);
	/* The writer counts the batch just after its COMMIT is visible. */
	for (int64_t end = vgl_mono_ms() + 2000; vgl_mono_ms() < end; sleep_ms(10)) {
		vgl_store_get_stats(s, &st);
		if (st.transitions_committed && st.queued == 0)
			break;
	}
	ASSERT_EQ(st.transitions_committed, 1);
	ASSERT_EQ(st.queued, 0);
	vgl_store_close(s, T0 + 2);
	raw_close(lock);
	free_conf(c);
}

TEST(store_queue_bound_drops_samples_only)
{
	const char *path = db_path("drop.db");
	struct vgl_conf *c = make_conf(1, "d");
	int64_t ids[1];
	/* A long window: nothing is written until a transition or the close. */
	struct vgl_store *s = store_open(path, 60000, T0);
	struct vgl_store_stats st;
	sqlite3 *db;
	char metric[32];

	ASSERT_EQ(vgl_store_sync_hosts(s, c, ids), 0);
	vgl_store_set_max_queued(s, 100);
	for (int i = 0; i < 1000; i++) {
		snprintf(metric, sizeof(metric), "m%04d", i);
		polled1(s, ids[0], T0 + i, metric, i);
	}
	vgl_store_get_stats(s, &st);
	ASSERT_EQ(st.samples_dropped, 900);
	ASSERT_EQ(st.queued, 100);
	/* Over the bound, a transition still goes in. */
	vgl_store_interval_open(s, ids[0], "d-00000", "facility", "cooling", T0 + 5, NULL, 0);
	vgl_store_close(s, T0 + 6);
	db = raw_open(path);
	/* The 100 polls kept were written in order: the last one's values
	 * stand. */
	ASSERT_EQ(q_int(db, "SELECT count(*) FROM samples"), 1);
	ASSERT_EQ(q_int(db, "SELECT value FROM samples WHERE metric = 'm0099'"), 99);
	ASSERT_EQ(q_int(db, "SELECT last_poll_ms FROM hosts"), T0 + 99);
	ASSERT_EQ(q_int(db, "SELECT count(*) FROM intervals"), 1);
	char *detail = q_text(db, "SELECT detail FROM events WHERE kind = 'daemon_stop'");
	ASSERT_CONTAINS(detail, "\"samples_dropped\":900");
	free(detail);
	raw_close(db);
	free_conf(c);
}

/* ---- cost ------------------------------------------------------------- */

static double cpu_s(int who)
{
	struct rusage ru;

	ASSERT_EQ(getrusage(who, &ru), 0);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_stime.tv_sec +
	       ((double)ru.ru_utime.tv_usec + (double)ru.ru_stime.tv_usec) / 1e6;
}

static double thread_cpu_s(void)
{
	struct timespec ts;

	ASSERT_EQ(clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts), 0);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Prints, does not assert, the cost: 100,000 hosts synced, then 100,000
 * polls of 10 values each (1,000,000 values) queued and written. */
TEST(store_cost_sync_100k_and_1m_samples)
{
	const size_t n_hosts = 100000, per_host = 10;
	const size_t n_samples = SANITIZED ? 200000 : 1000000;
	const char *path = db_path("cost.db");
	struct vgl_conf *c = make_conf(n_hosts, "site1-rack");
	int64_t *ids = malloc(n_hosts * sizeof(*ids));
	struct vgl_store *s = store_open(path, 500, T0);
	char metrics[10][16];
	double cpu0, t0, tq0, tq, sync_s, total_cpu, wall;
	sqlite3 *db;

	ASSERT(ids);
	for (size_t m = 0; m < per_host; m++)
		snprintf(metrics[m], sizeof(metrics[m]), "metric%zu", m);
	vgl_store_set_max_queued(s, 2 * n_samples);

	t0 = (double)vgl_mono_ms();
	ASSERT_EQ(vgl_store_sync_hosts(s, c, ids), 0);
	sync_s = ((double)vgl_mono_ms() - t0) / 1000;
	t0 = (double)vgl_mono_ms();
	ASSERT_EQ(vgl_store_sync_hosts(s, c, ids), 0);
	fprintf(stderr, "store cost: sync_hosts %zu hosts: %.3f s first, %.3f s again\n",
		n_hosts, sync_s, ((double)vgl_mono_ms() - t0) / 1000);

	cpu0 = cpu_s(RUSAGE_SELF);
	t0 = (double)vgl_mono_ms();
	tq0 = thread_cpu_s();
	for (size_t i = 0; i < n_samples / per_host; i++) {
		const char *names[10];
		double vals[10];
		for (size_t m = 0; m < per_host; m++) {
			names[m] = metrics[m];
			vals[m] = (double)(i * per_host + m);
		}
		polled(s, ids[i % n_hosts], T0 + (int64_t)i, VGL_Q_OK, per_host, names, vals,
		       NULL);
	}
	tq = thread_cpu_s() - tq0;
	vgl_store_close(s, T0 + 1000000);
	total_cpu = cpu_s(RUSAGE_SELF) - cpu0;
	wall = ((double)vgl_mono_ms() - t0) / 1000;
	fprintf(stderr, "store cost: %zu values in %zu polls: enqueue %.3f us/value (loop "
		"thread, JSON included), end to end %.3f us CPU/value (all threads, incl. "
		"commit), wall %.2f s (%.0f values/s)%s\n",
		n_samples, n_samples / per_host, tq * 1e6 / (double)n_samples,
		total_cpu * 1e6 / (double)n_samples, wall, (double)n_samples / wall,
		SANITIZED ? " [sanitizer build]" : "");

	db = raw_open(path);
	ASSERT_EQ(q_int(db, "SELECT count(*) FROM samples"), (int64_t)n_samples);
	ASSERT_EQ(q_int(db, "SELECT count(*) FROM hosts WHERE last_poll_ms IS NOT NULL"),
		  (int64_t)(n_samples / per_host < n_hosts ? n_samples / per_host : n_hosts));
	raw_close(db);
	free(ids);
	free_conf(c);
}

/* A transition does not wait for the batch window; samples do. */
TEST(store_transition_wakes_writer)
{
	const char *path = db_path("wake.db");
	struct vgl_conf *c = make_conf(1, "w");
	int64_t ids[1];
	struct vgl_store *s = store_open(path, 60000, T0);
	sqlite3 *db;

	ASSERT_EQ(vgl_store_sync_hosts(s, c, ids), 0);
	db = raw_open(path);
	polled1(s, ids[0], T0, "m", 1);
	sleep_ms(300);
	ASSERT_EQ(q_int(db, "SELECT count(*) FROM samples"), 0);
	vgl_store_interval_open(s, ids[0], "w-00000", "power", "ups", T0 + 1, NULL, 0);
	ASSERT_EQ(wait_int(db, "SELECT count(*) FROM intervals", 1, 2000), 1);
	/* Written in order, in the same transaction as the transition. */
	ASSERT_EQ(q_int(db, "SELECT count(*) FROM samples"), 1);
	vgl_store_close(s, T0 + 2);
	raw_close(db);
	free_conf(c);
}

/* The heartbeat moves while the daemon runs, even with nothing queued, so
 * a crash's unobserved gap starts near the crash and not at the start. */
TEST(store_heartbeat_refreshed)
{
	const char *path = db_path("hb.db");
	int64_t start = vgl_now_ms() - 60000;
	struct vgl_store_opts o = { .path = path, .batch_ms = 50, .heartbeat_ms = 100,
				    .now_ms = start };
	struct vgl_store *s = NULL;
	char sql[128];
	sqlite3 *db;

	ASSERT_EQ(vgl_store_open(&o, &s), 0);
	db = raw_open(path);
	ASSERT_EQ(q_int(db, "SELECT heartbeat_ms FROM runs"), start);
	snprintf(sql, sizeof(sql), "SELECT heartbeat_ms > %lld FROM runs",
		 (long long)(start + 59000));
	ASSERT_EQ(wait_int(db, sql, 1, 2000), 1);
	vgl_store_close(s, start + 61000);
	ASSERT_EQ(q_int(db, "SELECT heartbeat_ms FROM runs"), start + 61000);
	raw_close(db);
}
