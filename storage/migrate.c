/* Opening a database and bringing its schema up to date.
 *
 * Migrations are numbered from 1; migrations[n - 1] takes a database from
 * user_version n - 1 to n. Each runs in its own BEGIN IMMEDIATE transaction
 * that also sets user_version, so a crash leaves the file at a whole
 * version, and two processes migrating the same fresh file at once (daemon
 * and CLI) serialize on the write lock and the second finds the work done.
 * docs/schema.md shows the same SQL; test_store_schema_doc keeps them equal.
 */
#include "storage/store.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const char *const migrations[] = {
	/* 1: the initial schema (docs/schema.md, "Migration 1"). */
	"CREATE TABLE hosts (\n"
	"  id           INTEGER PRIMARY KEY,\n"
	"  name         TEXT NOT NULL UNIQUE,\n"
	"  address      TEXT,\n"
	"  site         TEXT,\n"
	"  service      TEXT,\n"
	"  customer     TEXT,\n"
	"  active       INTEGER NOT NULL DEFAULT 1,\n"
	"  state        TEXT NOT NULL DEFAULT 'unknown',\n"
	"  last_poll_ms INTEGER,\n"
	"  last_quality TEXT\n"
	");\n"
	"CREATE TABLE samples (\n"
	"  host_id  INTEGER NOT NULL REFERENCES hosts(id),\n"
	"  metric   TEXT NOT NULL,\n"
	"  value    REAL,\n"
	"  quality  TEXT NOT NULL,\n"
	"  ts_ms    INTEGER NOT NULL,\n"
	"  PRIMARY KEY (host_id, metric)\n"
	") WITHOUT ROWID;\n"
	"CREATE TABLE intervals (\n"
	"  id               INTEGER PRIMARY KEY,\n"
	"  host_id          INTEGER NOT NULL REFERENCES hosts(id),\n"
	"  cause            TEXT NOT NULL,\n"
	"  start_ms         INTEGER NOT NULL,\n"
	"  end_ms           INTEGER,\n"
	"  opened_by        TEXT NOT NULL,\n"
	"  closed_by        TEXT,\n"
	"  evidence         TEXT,\n"
	"  note             TEXT,\n"
	"  poll_interval_ms INTEGER,\n"
	"  unobserved_ms    INTEGER NOT NULL DEFAULT 0,\n"
	"  origin           TEXT NOT NULL DEFAULT 'monitor',\n"
	"  created_by       TEXT,\n"
	"  created_ms       INTEGER NOT NULL,\n"
	"  CHECK (end_ms IS NULL OR end_ms >= start_ms)\n"
	");\n"
	"CREATE UNIQUE INDEX intervals_one_open ON intervals(host_id) WHERE end_ms IS NULL;\n"
	"CREATE INDEX intervals_host_start ON intervals(host_id, start_ms);\n"
	"CREATE TABLE events (\n"
	"  id          INTEGER PRIMARY KEY,\n"
	"  ts_ms       INTEGER NOT NULL,\n"
	"  host_id     INTEGER REFERENCES hosts(id),\n"
	"  interval_id INTEGER REFERENCES intervals(id),\n"
	"  kind        TEXT NOT NULL,\n"
	"  detail      TEXT\n"
	");\n"
	"CREATE TABLE runs (\n"
	"  id           INTEGER PRIMARY KEY,\n"
	"  started_ms   INTEGER NOT NULL,\n"
	"  heartbeat_ms INTEGER NOT NULL,\n"
	"  stopped_ms   INTEGER,\n"
	"  pid          INTEGER,\n"
	"  version      TEXT\n"
	");\n",
	/* 2: SLA inputs (docs/schema.md, "Migration 2"): maintenance windows,
	 * which are only ever added or cancelled (the triggers refuse any other
	 * change), and raw request/error counter samples. */
	"CREATE TABLE maint_windows (\n"
	"  id           INTEGER PRIMARY KEY,\n"
	"  host_id      INTEGER REFERENCES hosts(id),\n"
	"  site         TEXT,\n"
	"  kind         TEXT NOT NULL CHECK (kind IN ('planned', 'emergency')),\n"
	"  start_ms     INTEGER NOT NULL,\n"
	"  end_ms       INTEGER NOT NULL,\n"
	"  announced_ms INTEGER NOT NULL,\n"
	"  note         TEXT NOT NULL,\n"
	"  created_by   TEXT NOT NULL,\n"
	"  created_ms   INTEGER NOT NULL,\n"
	"  cancelled_by TEXT,\n"
	"  cancelled_ms INTEGER,\n"
	"  cancel_note  TEXT,\n"
	"  CHECK ((host_id IS NULL) <> (site IS NULL)),\n"
	"  CHECK (end_ms > start_ms),\n"
	"  CHECK ((cancelled_ms IS NULL) = (cancelled_by IS NULL))\n"
	");\n"
	"CREATE INDEX maint_windows_host ON maint_windows(host_id, start_ms) WHERE host_id IS NOT NULL;\n"
	"CREATE INDEX maint_windows_site ON maint_windows(site, start_ms) WHERE site IS NOT NULL;\n"
	"CREATE TRIGGER maint_windows_no_delete BEFORE DELETE ON maint_windows\n"
	"BEGIN\n"
	"  SELECT RAISE(ABORT, 'maintenance windows are never deleted: cancel them');\n"
	"END;\n"
	"CREATE TRIGGER maint_windows_cancel_only BEFORE UPDATE ON maint_windows\n"
	"WHEN OLD.cancelled_ms IS NOT NULL OR NEW.cancelled_ms IS NULL\n"
	"  OR NEW.id IS NOT OLD.id OR NEW.host_id IS NOT OLD.host_id\n"
	"  OR NEW.site IS NOT OLD.site OR NEW.kind IS NOT OLD.kind\n"
	"  OR NEW.start_ms IS NOT OLD.start_ms OR NEW.end_ms IS NOT OLD.end_ms\n"
	"  OR NEW.announced_ms IS NOT OLD.announced_ms OR NEW.note IS NOT OLD.note\n"
	"  OR NEW.created_by IS NOT OLD.created_by OR NEW.created_ms IS NOT OLD.created_ms\n"
	"BEGIN\n"
	"  SELECT RAISE(ABORT, 'maintenance windows are only ever cancelled, once');\n"
	"END;\n"
	"CREATE TABLE counter_samples (\n"
	"  host_id  INTEGER NOT NULL REFERENCES hosts(id),\n"
	"  ts_ms    INTEGER NOT NULL,\n"
	"  total    INTEGER NOT NULL,\n"
	"  failed   INTEGER NOT NULL,\n"
	"  source   TEXT NOT NULL CHECK (source IN ('snmp', 'import')),\n"
	"  PRIMARY KEY (host_id, ts_ms)\n"
	") WITHOUT ROWID;\n",
	/* 3: the latest values of a host move into its hosts row, one JSON
	 * object written with the poll mark (docs/schema.md, "Migration 3").
	 * One row per poll instead of one per changed metric: the writer's
	 * cost per poll was the upserts and the pages they dirtied. The
	 * samples view keeps the per-metric shape for readers. */
	"ALTER TABLE hosts ADD COLUMN last_values TEXT;\n"
	"ALTER TABLE hosts ADD COLUMN last_values_ms INTEGER;\n"
	"UPDATE hosts SET\n"
	"  last_values = (SELECT json_group_object(metric,\n"
	"      CASE WHEN quality = 'ok' THEN value ELSE quality END)\n"
	"    FROM samples WHERE samples.host_id = hosts.id),\n"
	"  last_values_ms = (SELECT max(ts_ms) FROM samples WHERE samples.host_id = hosts.id)\n"
	"WHERE EXISTS (SELECT 1 FROM samples WHERE samples.host_id = hosts.id);\n"
	"DROP TABLE samples;\n"
	"CREATE VIEW samples (host_id, metric, value, quality, ts_ms) AS\n"
	"  SELECT h.id, j.key,\n"
	"         CASE WHEN j.type IN ('integer', 'real') THEN j.value END,\n"
	"         CASE WHEN j.type = 'text' THEN j.value ELSE 'ok' END,\n"
	"         h.last_values_ms\n"
	"  FROM hosts h, json_each(h.last_values) j\n"
	"  WHERE h.last_values IS NOT NULL;\n",
	/* 4: the SLA report's reads (docs/schema.md, "Migration 4"). The
	 * daemon writes intervals in time order across hosts, so one host's
	 * month lies on ~50 table pages; an index that also carries every
	 * column the report reads keeps it on one or two index pages. It
	 * begins with (host_id, start_ms), so it serves every query the index
	 * it replaces served. */
	"CREATE INDEX intervals_host_cover ON intervals(host_id, start_ms, id, end_ms, cause,\n"
	"  note, opened_by);\n"
	"DROP INDEX intervals_host_start;\n",
	/* 5: a polled counter sample is stamped 'poll', not with the one back
	 * end that could poll it then (docs/schema.md, "Migration 5"): any
	 * source's pair may feed the error-rate SLA kinds. SQLite cannot
	 * change a CHECK in place, so the table is rebuilt, rows kept. */
	"CREATE TABLE counter_samples_v5 (\n"
	"  host_id  INTEGER NOT NULL REFERENCES hosts(id),\n"
	"  ts_ms    INTEGER NOT NULL,\n"
	"  total    INTEGER NOT NULL,\n"
	"  failed   INTEGER NOT NULL,\n"
	"  source   TEXT NOT NULL CHECK (source IN ('poll', 'import')),\n"
	"  PRIMARY KEY (host_id, ts_ms)\n"
	") WITHOUT ROWID;\n"
	"INSERT INTO counter_samples_v5 (host_id, ts_ms, total, failed, source)\n"
	"  SELECT host_id, ts_ms, total, failed,\n"
	"         CASE source WHEN 'snmp' THEN 'poll' ELSE source END\n"
	"  FROM counter_samples;\n"
	"DROP TABLE counter_samples;\n"
	"ALTER TABLE counter_samples_v5 RENAME TO counter_samples;\n",
	/* 6: a host's power redundancy as the topology last judged it
	 * (docs/schema.md, "Migration 6"): NULL while every feed is live or
	 * the host has none, else which feeds are off; `vigil hosts` shows
	 * such a host as degraded. */
	"ALTER TABLE hosts ADD COLUMN power TEXT;\n",
	/* 7: cause attribution and BMC event logs (docs/schema.md, "Migration
	 * 7"). The history of an interval's cause, append-only like the
	 * maintenance windows (the triggers refuse any change): who changed
	 * it when, from what to what, so a reclassification is on record and
	 * an operator's is known to be final. And where each BMC source has
	 * read its event log up to, so a restart does not read it again. */
	"CREATE TABLE interval_causes (\n"
	"  id          INTEGER PRIMARY KEY,\n"
	"  interval_id INTEGER NOT NULL REFERENCES intervals(id),\n"
	"  ts_ms       INTEGER NOT NULL,\n"
	"  old_cause   TEXT NOT NULL,\n"
	"  new_cause   TEXT NOT NULL,\n"
	"  by          TEXT NOT NULL,\n"
	"  note        TEXT,\n"
	"  evidence    TEXT\n"
	");\n"
	"CREATE INDEX interval_causes_interval ON interval_causes(interval_id, id);\n"
	"CREATE TRIGGER interval_causes_no_update BEFORE UPDATE ON interval_causes\n"
	"BEGIN\n"
	"  SELECT RAISE(ABORT, 'interval cause history is append-only: rows are never changed');\n"
	"END;\n"
	"CREATE TRIGGER interval_causes_no_delete BEFORE DELETE ON interval_causes\n"
	"BEGIN\n"
	"  SELECT RAISE(ABORT, 'interval cause history is append-only: rows are never deleted');\n"
	"END;\n"
	"CREATE TABLE bmc_cursors (\n"
	"  host_id    INTEGER NOT NULL REFERENCES hosts(id),\n"
	"  source     TEXT NOT NULL,\n"
	"  cursor     TEXT NOT NULL,\n"
	"  updated_ms INTEGER NOT NULL,\n"
	"  PRIMARY KEY (host_id, source)\n"
	") WITHOUT ROWID;\n",
	/* 8: alarms, alarm_log, silences, outbox (docs/schema.md, "Migration 8"). */
	"CREATE TABLE alarms (\n"
	"  id            INTEGER PRIMARY KEY,\n"
	"  host_id       INTEGER NOT NULL REFERENCES hosts(id),\n"
	"  kind          TEXT NOT NULL,\n"
	"  rule          TEXT NOT NULL,\n"
	"  severity      TEXT NOT NULL,\n"
	"  summary       TEXT NOT NULL,\n"
	"  labels        TEXT NOT NULL,\n"
	"  details       TEXT NOT NULL,\n"
	"  site          TEXT,\n"
	"  policy        TEXT,\n"
	"  raised_ms     INTEGER NOT NULL,\n"
	"  acked_ms      INTEGER,\n"
	"  acked_by      TEXT,\n"
	"  cleared_ms    INTEGER,\n"
	"  suppressed_by INTEGER REFERENCES alarms(id),\n"
	"  muted         TEXT\n"
	");\n"
	"CREATE UNIQUE INDEX alarms_one_active ON alarms(host_id, kind, rule) WHERE cleared_ms IS NULL;\n"
	"CREATE INDEX alarms_raised ON alarms(raised_ms);\n"
	"CREATE TABLE alarm_log (\n"
	"  id       INTEGER PRIMARY KEY,\n"
	"  alarm_id INTEGER NOT NULL REFERENCES alarms(id),\n"
	"  ts_ms    INTEGER NOT NULL,\n"
	"  action   TEXT NOT NULL,\n"
	"  by       TEXT NOT NULL,\n"
	"  text     TEXT\n"
	");\n"
	"CREATE INDEX alarm_log_alarm ON alarm_log(alarm_id, id);\n"
	"CREATE TRIGGER alarm_log_no_update BEFORE UPDATE ON alarm_log\n"
	"BEGIN\n"
	"  SELECT RAISE(ABORT, 'the alarm log is append-only: rows are never changed');\n"
	"END;\n"
	"CREATE TRIGGER alarm_log_no_delete BEFORE DELETE ON alarm_log\n"
	"BEGIN\n"
	"  SELECT RAISE(ABORT, 'the alarm log is append-only: rows are never deleted');\n"
	"END;\n"
	"CREATE TABLE silences (\n"
	"  id         INTEGER PRIMARY KEY,\n"
	"  host       TEXT,\n"
	"  site       TEXT,\n"
	"  label      TEXT,\n"
	"  start_ms   INTEGER NOT NULL,\n"
	"  end_ms     INTEGER NOT NULL,\n"
	"  reason     TEXT NOT NULL,\n"
	"  created_by TEXT NOT NULL,\n"
	"  created_ms INTEGER NOT NULL,\n"
	"  removed_by TEXT,\n"
	"  removed_ms INTEGER\n"
	");\n"
	"CREATE TABLE outbox (\n"
	"  id           INTEGER PRIMARY KEY,\n"
	"  alarm_id     INTEGER NOT NULL REFERENCES alarms(id),\n"
	"  channel      TEXT NOT NULL,\n"
	"  event        TEXT NOT NULL,\n"
	"  step         INTEGER NOT NULL,\n"
	"  repeat       INTEGER NOT NULL,\n"
	"  dedup_key    TEXT NOT NULL,\n"
	"  payload      TEXT NOT NULL,\n"
	"  created_ms   INTEGER NOT NULL,\n"
	"  attempts     INTEGER NOT NULL DEFAULT 0,\n"
	"  next_ms      INTEGER NOT NULL,\n"
	"  delivered_ms INTEGER,\n"
	"  last_error   TEXT,\n"
	"  UNIQUE (channel, dedup_key)\n"
	");\n"
	"CREATE INDEX outbox_owed ON outbox(next_ms) WHERE delivered_ms IS NULL;\n",
};

_Static_assert(sizeof(migrations) / sizeof(migrations[0]) == VGL_SCHEMA_VERSION_LATEST,
	       "one migration per schema version");

/* Runs every statement of sql, one prepared statement at a time. */
static int exec_script(sqlite3 *db, const char *sql)
{
	const char *tail = sql;

	while (tail && *tail) {
		sqlite3_stmt *st = NULL;
		int rc = sqlite3_prepare_v2(db, tail, -1, &st, &tail);

		if (rc != SQLITE_OK)
			return rc;
		if (!st) /* trailing whitespace or comment */
			continue;
		while ((rc = sqlite3_step(st)) == SQLITE_ROW)
			;
		sqlite3_finalize(st);
		if (rc != SQLITE_DONE)
			return rc;
	}
	return SQLITE_OK;
}

/* Runs a one-row statement and returns its first column as an integer. */
static int query_int(sqlite3 *db, const char *sql, int64_t *out)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);

	if (rc != SQLITE_OK)
		return rc;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*out = sqlite3_column_int64(st, 0);
		rc = SQLITE_OK;
	}
	sqlite3_finalize(st);
	return rc;
}

/* Switching a fresh file to WAL takes an exclusive lock, and SQLite answers
 * BUSY at once, without its busy handler, when another process switches the
 * same file at the same moment: the daemon starting while a CLI opens the
 * database it has just created (a CI flake of test/integration/daemon_snmp).
 * So the retry is here, bounded like the busy timeout. */
#define WAL_SWITCH_WAIT_MS 5000
#define WAL_SWITCH_RETRY_MS 10

static int journal_mode_wal(sqlite3 *db, char *err, size_t errlen, const char *path)
{
	sqlite3_stmt *st = NULL;
	const unsigned char *mode;
	int rc = sqlite3_prepare_v2(db, "PRAGMA journal_mode=WAL", -1, &st, NULL);

	if (rc != SQLITE_OK)
		goto out_sqlite;
	for (int waited = 0;; waited += WAL_SWITCH_RETRY_MS) {
		rc = sqlite3_step(st);
		if ((rc & 0xff) != SQLITE_BUSY || waited >= WAL_SWITCH_WAIT_MS)
			break;
		sqlite3_reset(st);
		sqlite3_sleep(WAL_SWITCH_RETRY_MS);
	}
	if (rc != SQLITE_ROW)
		goto out_sqlite;
	/* The pragma answers with the mode now in force; a file system or
	 * build without WAL support answers something else, and the whole
	 * reader-beside-writer design depends on WAL. */
	mode = sqlite3_column_text(st, 0);
	if (!mode || strcmp((const char *)mode, "wal") != 0) {
		snprintf(err, errlen, "%s: journal_mode is %s, not wal", path,
			 mode ? (const char *)mode : "(null)");
		sqlite3_finalize(st);
		return -1;
	}
	sqlite3_finalize(st);
	return 0;

out_sqlite:
	snprintf(err, errlen, "%s: cannot enable WAL: %s", path, sqlite3_errmsg(db));
	sqlite3_finalize(st);
	return -1;
}

static int migrate(sqlite3 *db, const char *path, char *err, size_t errlen)
{
	int64_t version;
	int rc;

	rc = query_int(db, "PRAGMA user_version", &version);
	if (rc != SQLITE_OK) {
		snprintf(err, errlen, "%s: cannot read schema version: %s", path,
			 sqlite3_errmsg(db));
		return -1;
	}
	if (version > VGL_SCHEMA_VERSION_LATEST) {
		snprintf(err, errlen,
			 "%s: schema version %lld is newer than this vigil supports (%d); "
			 "refusing to touch it: use a newer vigil",
			 path, (long long)version, VGL_SCHEMA_VERSION_LATEST);
		return -1;
	}
	for (int n = (int)version + 1; n <= VGL_SCHEMA_VERSION_LATEST; n++) {
		char set_version[64];

		rc = exec_script(db, "BEGIN IMMEDIATE");
		if (rc != SQLITE_OK)
			goto out_fail;
		/* Someone else may have migrated while we waited for the lock. */
		rc = query_int(db, "PRAGMA user_version", &version);
		if (rc != SQLITE_OK)
			goto out_rollback;
		if (version >= n) {
			exec_script(db, "ROLLBACK");
			if (version > VGL_SCHEMA_VERSION_LATEST) {
				snprintf(err, errlen, "%s: schema version %lld is newer than "
					 "this vigil supports (%d)", path, (long long)version,
					 VGL_SCHEMA_VERSION_LATEST);
				return -1;
			}
			n = (int)version;
			continue;
		}
		rc = exec_script(db, migrations[n - 1]);
		if (rc != SQLITE_OK)
			goto out_rollback;
		/* PRAGMA takes no parameters; n is our own constant. */
		snprintf(set_version, sizeof(set_version), "PRAGMA user_version=%d", n);
		rc = exec_script(db, set_version);
		if (rc != SQLITE_OK)
			goto out_rollback;
		rc = exec_script(db, "COMMIT");
		if (rc != SQLITE_OK)
			goto out_rollback;
		continue;

out_rollback:
		snprintf(err, errlen, "%s: migration %d failed: %s", path, n, sqlite3_errmsg(db));
		if (!sqlite3_get_autocommit(db))
			exec_script(db, "ROLLBACK");
		return -1;
out_fail:
		snprintf(err, errlen, "%s: migration %d failed: %s", path, n, sqlite3_errmsg(db));
		return -1;
	}
	return 0;
}

/* Process-wide settings, before SQLite initializes. Memory statistics take
 * a global mutex on every allocation and nothing here reads them. A
 * failure (SQLite already initialized by someone else) only costs speed. */
static void sqlite_config_once(void)
{
	(void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

int vgl_db_open(const char *path, sqlite3 **out, char *err, size_t errlen)
{
	static pthread_once_t config_once = PTHREAD_ONCE_INIT;

	sqlite3 *db = NULL;
	int rc;

	*out = NULL;
	(void)pthread_once(&config_once, sqlite_config_once);
	/* SQLite creates a new database 0644 less the umask, and gives its
	 * -wal and -shm the database's mode: made here 0640 first, the record
	 * of every outage is readable by the vigil group (the operators'
	 * read-only CLI), not by everyone (docs/storage.md, "Files"). */
	{
		int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0640);

		if (fd >= 0)
			close(fd);
		else if (errno != EEXIST) {
			snprintf(err, errlen, "%s: cannot create: %s", path, strerror(errno));
			return -1;
		}
	}
	/* NOMUTEX: a connection is used by one thread at a time (the store
	 * serializes its threads on db_mu), so SQLite's own locking per call
	 * is pure cost. */
	rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
			     SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		snprintf(err, errlen, "%s: cannot open: %s", path,
			 db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
		goto out_close;
	}
	sqlite3_extended_result_codes(db, 1);
	/* Before anything that takes a lock: switching to WAL and migrating
	 * both write, and a daemon may be writing beside us. */
	rc = sqlite3_busy_timeout(db, 5000);
	if (rc != SQLITE_OK) {
		snprintf(err, errlen, "%s: busy_timeout: %s", path, sqlite3_errmsg(db));
		goto out_close;
	}
	if (journal_mode_wal(db, err, errlen, path) != 0)
		goto out_close;
	rc = exec_script(db, "PRAGMA foreign_keys=ON");
	if (rc != SQLITE_OK) {
		snprintf(err, errlen, "%s: foreign_keys: %s", path, sqlite3_errmsg(db));
		goto out_close;
	}
	if (migrate(db, path, err, errlen) != 0)
		goto out_close;
	*out = db;
	return 0;

out_close:
	sqlite3_close(db);
	return -1;
}
