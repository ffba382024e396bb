#!/usr/bin/env bash
# The read commands' output, byte for byte, against files in test/golden/cli/
# made by the CLI before its host, interval and SLA views moved into the
# library (storage/view.h, sla/host_month.h): a refactoring must not change
# one byte of `hosts`, `intervals`, `sla` or `sla --input`, table, --json
# or --csv, nor of their notes on stderr and their exit status.
#
# One fixed scenario: a config of eight hosts (every SLA kind, a custom zone,
# a customer whose name needs CSV quoting, a host without a customer, one
# without a service, a partial month), outages recorded with `interval add`,
# maintenance windows with `maint add` (one cancelled), counters with
# `counters import` and, with sqlite3, what the monitor writes: host states,
# intervals with evidence (one open since 1990, one with a cause no writer
# accepts, one note that is not UTF-8), 32-bit SNMP counter samples that
# wrap, a host dropped from the config, and one daemon run whose heartbeat
# lies in 2026-10, so `stale` is true whenever this runs.
#
# What still depends on the real now is normalised here, and only that:
#  - `created` of the rows `interval add` wrote is their real creation
#    time (the CLI stamps it; the command has no way to set it); in
#    --json output it becomes "(now)" on the lines of those rows (the only
#    ones with "created_by":"tester"). Rows inserted with sqlite3 carry a
#    fixed created_ms and are compared as they are.
#  - the table's DURATION of the interval open since 1990 runs to now; it
#    is replaced by a placeholder of the same length (5 digits of days
#    until the year 2263), so every other byte, alignment included, is
#    compared.
#  - the scratch directory's path (in messages naming the config) becomes
#    WORK.
# VGL_GOLDEN_UPDATE=1 writes the files instead of comparing (run it with
# the CLI of the tree before a change, never to make a failing run pass).
# Env: VIGIL (the built CLI), WORK (scratch dir), TOP (repo root).
set -u
. "$TOP/test/lib.sh"

golden=$TOP/test/golden/cli
update=${VGL_GOLDEN_UPDATE:-0}
conf=$WORK/vigil.json
db=$WORK/vigil.db
mkdir -p "$WORK/got"
[ "$update" = 1 ] && mkdir -p "$golden"

cat > "$conf" <<'EOF'
{
  // hosts for the golden CLI test; nothing polls them
  "storage": { "path": "vigil.db" },
  "policies": { "vserver-hcm": { "base": "vserver", "tz": "Asia/Ho_Chi_Minh" } },
  "templates": {
    "srv": {
      "snmp": { "version": "2c", "community": "public", "port": 9, "interval_s": 10 },
      "metrics": { "temp": ".1.3.6.1.4.1.99999.1.0" },
      "availability": [ { "name": "unreachable", "unreachable": 2, "cause": "network" } ]
    },
    "ctr": {
      "snmp": { "version": "2c", "community": "public", "port": 9, "interval_s": 10 },
      "metrics": { "requests": ".1.3.6.1.4.1.99999.4.0", "errors": ".1.3.6.1.4.1.99999.2.0" },
      "sla_counters": { "total": "requests", "failed": "errors", "bits": 32 },
      "availability": [ { "name": "unreachable", "unreachable": 2, "cause": "network" } ]
    }
  },
  "hosts": [
    { "name": "h1", "address": "127.0.0.1", "template": "srv",
      "site": "hall-1", "service": "vserver", "customer": "acme" },
    { "name": "h2", "address": "127.0.0.2", "template": "srv",
      "site": "hall-1", "service": "vbaremetal", "customer": "acme" },
    { "name": "h3", "address": "127.0.0.3", "template": "srv",
      "site": "hall-2", "service": "vcdn", "customer": "globex" },
    { "name": "h4", "address": "127.0.0.4", "template": "srv",
      "site": "hall-2", "customer": "globex" },
    { "name": "h5", "address": "127.0.0.5", "template": "srv",
      "site": "hall-3", "service": "vserver-hcm", "customer": "initech" },
    { "name": "h6", "address": "127.0.0.6", "template": "ctr",
      "site": "hall-3", "service": "vstorage", "customer": "Foo, \"Bar\" Ltd" },
    { "name": "h7", "address": "127.0.0.7", "template": "srv",
      "site": "hall-1", "service": "vcs", "service_start": "2026-10-15T00:00:00Z" },
    { "name": "h8", "address": "127.0.0.8", "template": "srv",
      "site": "hall-2", "service": "vserver", "customer": "acme" }
  ]
}
EOF

export USER=tester
unset SUDO_USER
NOW=2026-11-20T00:00:00Z
setup_failed=0
must() { "$@" > /dev/null || { echo "# setup failed: $*" >&2; setup_failed=1; }; }

# ------------------------------------------------------------- scenario
must V interval add --host h1 --cause network --start 2026-10-03T10:00:00Z \
	--end 2026-10-03T11:00:00Z --note "ticket 1"
must V interval add --host h1 --cause maintenance --start 2026-10-10T02:00:00Z \
	--end 2026-10-10T03:00:00Z --note "firmware"
must V interval add --host h1 --cause customer --start 2026-10-12T00:00:00Z \
	--end 2026-10-12T02:00:00Z --note "customer shut it down, said so"
must V interval add --host h2 --cause maintenance --start 2026-10-20T01:00:00Z \
	--end 2026-10-20T02:00:00Z --note "disk swap"
must V interval add --host h5 --cause network --start 2026-09-30T18:00:00Z \
	--end 2026-09-30T19:00:00Z --note "local Oct 1st"
must V interval add --host h5 --cause network --start 2026-10-31T16:30:00Z \
	--end 2026-10-31T17:30:00Z --note "local Nov 1st 00:30"
must V interval add --host h7 --cause power --start 2026-10-14T23:00:00Z \
	--end 2026-10-15T01:00:00Z --note "across service start"

must V maint add --host h1 --kind planned --start 2026-10-10T01:30:00Z \
	--end 2026-10-10T04:00:00Z --announced 2026-10-06T00:00:00Z --note "fw upgrade"
V maint add --host h2 --kind planned --start 2026-10-20T01:00:00Z \
	--end 2026-10-20T02:00:00Z --announced 2026-10-20T00:00:00Z --note "late" > /dev/null 2>&1 ||
	setup_failed=1
must V maint add --host h2 --kind planned --start 2026-10-20T01:00:00Z \
	--end 2026-10-20T02:00:00Z --announced 2026-10-15T00:00:00Z --note "planned early"
must V maint add --site hall-2 --kind emergency --start 2026-10-25T01:00:00Z \
	--end 2026-10-25T01:30:00Z --announced 2026-10-25T00:00:00Z --note "hall-2 UPS"
must V maint cancel 3 --note "superseded"

printf 'time,total,failed\n2026-09-30T23:00:00Z,1000,0\n2026-10-05T00:00:00Z,11000,10\n2026-10-20T00:00:00Z,21000,60\n' \
	> "$WORK/c.csv"
must V counters import --host h3 "$WORK/c.csv"

# What the monitor writes. States: h1 up, h2 last polled down (no interval
# open), h8 down since 1990 (open), h3 imported only, the others unknown.
sql "UPDATE hosts SET state = 'up', last_poll_ms = 1792152000000 WHERE name = 'h1'"
sql "UPDATE hosts SET state = 'down', last_poll_ms = 1792151990000 WHERE name = 'h2'"
sql "INSERT INTO hosts (name, address, state, last_poll_ms) VALUES
	('h6', '127.0.0.6', 'up', 1792152000000),
	('h8', '127.0.0.8', 'down', 1792152000000),
	('old-1', '10.0.0.1', 'up', 1767225600000)"
sql "INSERT INTO intervals (id, host_id, cause, start_ms, end_ms, opened_by, closed_by, evidence,
	note, poll_interval_ms, unobserved_ms, created_ms) VALUES
	(100, (SELECT id FROM hosts WHERE name = 'h2'), 'network', 1791194400000, 1791198000000,
	 'unreachable', 'unreachable', '{\"polls\":[{\"q\":\"timeout\"},{\"q\":\"refused\"}]}',
	 NULL, 10000, 5000, 1791198000000),
	(101, (SELECT id FROM hosts WHERE name = 'h2'), 'gremlins', 1792886400000, 1792890000000,
	 'rule-x', 'rule-x', NULL, 'a cause nobody accepts', 10000, 0, 1792890000000),
	(102, (SELECT id FROM hosts WHERE name = 'h8'), 'hardware', 631152000000, NULL,
	 'overheat', NULL, 'not json', NULL, 10000, 0, 631152000000),
	(103, (SELECT id FROM hosts WHERE name = 'old-1'), 'power', 1767225600000, 1767229200000,
	 'unreachable', 'unreachable', '[]', CAST(X'6261642dff2d6e6f7465' AS TEXT), 10000, 0,
	 1767229200000)"
sql "INSERT INTO intervals (id, host_id, cause, start_ms, end_ms, opened_by, closed_by, note,
	origin, created_by, created_ms) VALUES
	(104, (SELECT id FROM hosts WHERE name = 'h3'), 'facility', 1792065600000, 1792069200000,
	 'operator:alice', 'operator:alice', 'cooling', 'operator', 'alice', 1792070000000)"
# h6 (vstorage): 32-bit polled counters, one wrap on 10-02 (4294967000 ->
# 500), an error burst in one block on 10-03.
sql "INSERT INTO counter_samples (host_id, ts_ms, total, failed, source)
	SELECT id, ts, total, failed, 'poll' FROM hosts, (
	  SELECT 1790812500000 AS ts, 4294960000 AS total, 100 AS failed UNION ALL
	  SELECT 1790899200000, 4294967000, 100 UNION ALL
	  SELECT 1790899500000, 500, 104 UNION ALL
	  SELECT 1790985600000, 90500, 104 UNION ALL
	  SELECT 1790985900000, 100500, 2104 UNION ALL
	  SELECT 1791072000000, 200500, 2104)
	WHERE name = 'h6'"

# ------------------------------------------------------------- the cases
esc_work=$(printf '%s' "$WORK" | sed 's/[][\.*^$|]/\\&/g')
# case NAME CMD...: stdout, stderr and exit status of CMD in one file,
# normalised as said above, compared with (or written to) the golden one.
case_() {
	local name=$1 rc got=$WORK/got/$1
	shift
	"$@" > "$WORK/out" 2> "$WORK/err"
	rc=$?
	{
		cat "$WORK/out"
		printf -- '--- stderr\n'
		cat "$WORK/err"
		printf -- '--- exit %d\n' "$rc"
	} | sed -E -e "s|$esc_work|WORK|g" \
		-e '/"created_by":"tester"/s/"created":"[^"]*"/"created":"(now)"/' \
		-e 's/ [0-9]{5}d[0-9]{2}h[0-9]{2}m\+/ NNNNNdNNhNNm+/' > "$got"
	if [ "$update" = 1 ]; then
		cp "$got" "$golden/$name"
		ok "golden $name written"
		return
	fi
	if cmp -s "$got" "$golden/$name"; then
		ok "golden $name: $*"
	else
		not_ok "golden $name: $*"
		diff -u "$golden/$name" "$got" | head -n 40 | sed 's/^/#   /' >&2
	fi
}

check "the scenario was set up" [ "$setup_failed" = 0 ]

# hosts: never a daemon run (not stale), then an old heartbeat (stale),
# then (on a copy) a run that stopped cleanly.
case_ hosts_norun V hosts
case_ hosts_norun_json V hosts --json
sql "INSERT INTO runs (id, started_ms, heartbeat_ms, stopped_ms, pid) VALUES
	(1, 1790812800000, 1792152000000, NULL, 1)"
case_ hosts V hosts
case_ hosts_json V hosts --json
cp "$db" "$WORK/stopped.db"
sqlite3 "$WORK/stopped.db" "UPDATE runs SET stopped_ms = 1792152005000 WHERE id = 1"
case_ hosts_stopped V --db "$WORK/stopped.db" hosts
case_ hosts_stopped_json V --db "$WORK/stopped.db" hosts --json

case_ intervals V intervals
case_ intervals_json V intervals --json
case_ intervals_open V intervals --open
case_ intervals_open_json V --json intervals --open
case_ intervals_host V intervals --host h2
case_ intervals_host_json V intervals --host h2 --json
case_ intervals_dropped_host_json V intervals --host old-1 --json
case_ intervals_window V intervals --from 2026-10-10T02:30:00Z --to 2026-10-20T01:00:00Z
case_ intervals_window_json V intervals --json --from 2026-10-10T02:30:00Z --to 2026-10-20T01:00:00Z
case_ intervals_empty_json V intervals --json --from 2026-09-01 --to 2026-09-02
case_ intervals_unknown_host V intervals --host nosuch

case_ sla V sla --month 2026-10 --now "$NOW"
case_ sla_json V sla --month 2026-10 --json --now "$NOW"
case_ sla_csv V sla --month 2026-10 --csv --now "$NOW"
case_ sla_customer V sla --month 2026-10 --customer acme --now "$NOW"
case_ sla_customer_json V sla --month 2026-10 --customer acme --json --now "$NOW"
case_ sla_host_progress V sla --month 2026-10 --host h1 --now 2026-10-10T00:00:00Z
case_ sla_host_progress_json V sla --month 2026-10 --host h1 --json --now 2026-10-10T00:00:00Z
case_ sla_host_before V sla --month 2026-10 --host h1 --now 2026-10-02T00:00:00Z
case_ sla_one_zone V sla --month 2026-12 --now 2026-11-30T20:00:00Z
case_ sla_one_zone_json V sla --month 2026-12 --json --now 2026-11-30T20:00:00Z
case_ sla_one_zone_csv V sla --month 2026-12 --csv --now 2026-11-30T20:00:00Z
case_ sla_empty_month_json V sla --month 2026-08 --json --now "$NOW"
case_ sla_not_begun V sla --month 2026-12 --now "$NOW"
case_ sla_unknown_host V sla --month 2026-10 --host h9 --now "$NOW"
case_ sla_unknown_customer V sla --month 2026-10 --customer umbrella --now "$NOW"
case_ sla_skipped_only V sla --month 2026-10 --host h4 --json --now "$NOW"

cat > "$WORK/case.json" <<'EOF'
{"policy": "vserver", "tz": "UTC", "month": "2026-10", "now": "2026-11-20T00:00:00Z",
 "host": "h1",
 "intervals": [
   {"cause": "network", "start": "2026-10-03T10:00:00Z", "end": "2026-10-03T11:00:00Z",
    "note": "ticket 1"},
   {"cause": "maintenance", "start": "2026-10-10T02:00:00Z", "end": "2026-10-10T03:00:00Z"},
   {"cause": "customer", "start": "2026-10-12T00:00:00Z", "end": "2026-10-12T02:00:00Z"}],
 "maintenance": [{"kind": "planned", "start": "2026-10-10T01:30:00Z",
   "end": "2026-10-10T04:00:00Z", "announced": "2026-10-06T00:00:00Z"}],
 "observed": [{"start": "2026-10-01T00:00:00Z", "end": "2026-10-16T12:00:00Z"}]}
EOF
cat > "$WORK/case2.json" <<'EOF'
{"policy": {"base": "vcs", "tz": "Asia/Ho_Chi_Minh"}, "month": "2026-10",
 "intervals": [{"cause": "power", "start": "2026-10-05T00:00:00Z", "end": null}]}
EOF
case_ sla_input "$VIGIL" -c /nonexistent sla --input "$WORK/case.json"
case_ sla_input_json "$VIGIL" -c /nonexistent sla --input "$WORK/case.json" --json
case_ sla_input_now "$VIGIL" sla --input "$WORK/case2.json" --now 2026-10-06T12:00:00Z
case_ sla_input_now_json "$VIGIL" sla --input "$WORK/case2.json" --json --now 2026-10-06T12:00:00Z
exit 0
