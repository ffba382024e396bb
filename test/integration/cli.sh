#!/usr/bin/env bash
# The operator CLI end to end, without a daemon: a config, a database made
# by `vigil interval add` and rows the monitor would have written (via
# sqlite3), then every command, its --json output parsed by python3, every
# refusal's message and exit code, exit 2 on bad arguments, and an add
# while another writer holds the database.
# Env: VIGIL (the built CLI), WORK (scratch dir), TOP (repo root).
set -u
. "$TOP/test/lib.sh"

conf=$WORK/vigil.json
db=$WORK/vigil.db
cat > "$conf" <<'EOF'
{
  // hosts for the CLI test; nothing polls them
  "storage": { "path": "vigil.db" },
  "templates": {
    "srv": {
      "snmp": { "version": "2c", "community": "public", "port": 9, "interval_s": 10 },
      "metrics": { "temp": ".1.3.6.1.4.1.99999.1.0" },
      "availability": [ { "name": "unreachable", "unreachable": 2, "cause": "network" } ]
    }
  },
  "hosts": [
    { "name": "h1", "address": "127.0.0.1", "template": "srv",
      "site": "hall-1", "service": "vserver", "customer": "acme" },
    { "name": "h2", "address": "127.0.0.2", "template": "srv",
      "site": "hall-1", "service": "vbaremetal", "customer": "globex" },
    { "name": "h3", "address": "127.0.0.3", "template": "srv",
      "site": "hall-2", "service": "vlb", "customer": "initech" }
  ]
}
EOF

export USER=tester
unset SUDO_USER

# ---------------------------------------------------------------- help
check "vigil --help exits 0 and lists the commands" \
	eval '"$VIGIL" --help | grep -q "interval add"'
for c in hosts intervals interval "interval add"; do
	# shellcheck disable=SC2086
	check "vigil $c --help exits 0 and shows its usage" \
		eval '"$VIGIL" '"$c"' --help | grep -q "^usage: vigil .*'"${c%% *}"'"'
done
check "help needs no config" eval '"$VIGIL" -c /nonexistent intervals --help > /dev/null'

# ---------------------------------------------------------- bad arguments
check "no command -> 2" run_ex 2 "no command" V
check "unknown command -> 2" run_ex 2 "unknown command 'frob'" V frob
check "unknown global option -> 2" run_ex 2 "unknown option '--frob'" V --frob hosts
check "unknown command option -> 2" run_ex 2 "unknown option '--host'" V hosts --host h1
check "option missing its value -> 2" run_ex 2 "--host needs a value" V intervals --host
check "global option missing its value -> 2" run_ex 2 "--db needs a value" "$VIGIL" --db
check "flag given a value -> 2" run_ex 2 "takes no value" V intervals --open=yes
check "stray argument -> 2" run_ex 2 "unexpected argument 'h1'" V hosts h1
check "bad --from time -> 2" run_ex 2 "bad time 'yesterday'" V intervals --from yesterday
check "bad --end time -> 2" run_ex 2 "--end: bad time '2026-13-01'" \
	V interval add --host h1 --cause network --start 2026-01-01 --end 2026-13-01 --note x
check "--from not before --to -> 2" run_ex 2 "--from must be before --to" \
	V intervals --from 2026-02-01 --to 2026-01-01
check "interval without subcommand -> 2" run_ex 2 "missing subcommand" V interval
check "interval unknown subcommand -> 2" run_ex 2 "unknown subcommand 'del'" V interval del
check "interval add without --note -> 2" run_ex 2 "missing --note" \
	V interval add --host h1 --cause network --start 2026-01-01 --end 2026-01-02

# ------------------------------------------------------ config and db errors
check "missing config -> 1 naming it" run_ex 1 "configuration $WORK/nope.json (from -c): No such file" \
	"$VIGIL" -c "$WORK/nope.json" hosts
check "VIGIL_CONFIG names the config" eval 'VIGIL_CONFIG="$conf" "$VIGIL" hosts --help > /dev/null &&
	VIGIL_CONFIG="$conf" "$VIGIL" intervals 2>&1 | grep -q "cannot open database"'
check "missing VIGIL_CONFIG file -> 1 naming it" run_ex 1 \
	"vigil: configuration $WORK/nope.json (from VIGIL_CONFIG): No such file" \
	env VIGIL_CONFIG="$WORK/nope.json" "$VIGIL" hosts
if [ ! -e /etc/vigil/vigil.json ]; then
	check "missing default config -> 1 saying how to name one" run_ex 1 \
		"vigil: no configuration: /etc/vigil/vigil.json (the default) does not exist; give one with -c FILE or VIGIL_CONFIG=FILE" \
		env -u VIGIL_CONFIG "$VIGIL" sla --month 2026-12
fi
printf '{\n  "storage": { "path": 5 },\n  "hosts": 7\n}\n' > "$WORK/bad.json"
"$VIGIL" -c "$WORK/bad.json" hosts > /dev/null 2> "$WORK/err"
rc=$?
check "bad config -> 1" [ "$rc" = 1 ]
check "bad config errors name file:line:col" grep -qE 'bad.json:[0-9]+:[0-9]+: ' "$WORK/err"
check "bad config prints every error ($(wc -l < "$WORK/err") lines)" \
	[ "$(grep -cE 'bad.json:[0-9]+:[0-9]+: ' "$WORK/err")" -ge 2 ]
check "read without a database -> 1 naming the path" run_ex 1 "$db" V intervals
check "a read did not create the database" [ ! -e "$db" ]
check "unwritable database path -> 1 naming it" \
	run_ex 1 "$WORK/no/such/dir/x.db" V --db "$WORK/no/such/dir/x.db" \
	interval add --host h1 --cause network --start 2026-01-01 --end 2026-01-02 --note x

# ------------------------------------------------------------ interval add
add() { V interval add "$@"; }
check "add creates the database and the interval" \
	eval 'add --host h1 --cause power --start 2026-01-10T10:00:00Z \
		--end 2026-01-10T11:30:00.250Z --note "claim #1" | grep -q "^added interval 1: h1 power"'
check "the database is created 0640 (vigil group reads, others nothing)" eval \
	'[ "$(stat -c %a "$db")" = 640 ]'
check "add --note not UTF-8 -> 2" run_ex 2 "is not valid UTF-8 (byte 0xff" \
	add --host h1 --cause power --start 2026-01-12 --end 2026-01-12T01:00:00Z --note "$(printf 'bad \xff note')"
check "add --start year 0000 -> 2 (one range of years for every time)" run_ex 2 "years 1970-9998" \
	add --host h1 --cause power --start 0000-01-01 --end 2026-01-12T01:00:00Z --note x
check "add --start with 4 decimals -> 2, not cut to milliseconds" run_ex 2 "at most 3 decimals" \
	add --host h1 --cause power --start 2026-01-12T00:00:00.0001Z --end 2026-01-12T01:00:00Z --note x
check "add as sudo records SUDO_USER" eval 'SUDO_USER=alice "$VIGIL" -c "$conf" --json \
	interval add --host h1 --cause customer --start 2026-01-11 --end 2026-01-11T01:00:00Z \
	--note "customer shut it down" > "$WORK/add.json"'
check "add --json prints the new interval" python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))[0]
assert r["id"] == 2 and r["host"] == "h1" and r["cause"] == "customer", r
assert r["start"] == "2026-01-11T00:00:00.000Z" and r["end"] == "2026-01-11T01:00:00.000Z", r
assert r["rule"] == "operator:alice" and r["created_by"] == "alice", r' "$WORK/add.json"

check "refused: unknown host -> 1" run_ex 1 "unknown host 'nosuch'" \
	add --host nosuch --cause power --start 2026-01-01 --end 2026-01-02 --note x
check "refused: unknown cause -> 1" run_ex 1 "unknown cause 'gremlins'" \
	add --host h1 --cause gremlins --start 2026-01-01 --end 2026-01-02 --note x
check "refused: end == start -> 1" run_ex 1 "is not after start" \
	add --host h1 --cause power --start 2026-01-01 --end 2026-01-01T00:00:00.000Z --note x
check "refused: end before start -> 1" run_ex 1 "is not after start" \
	add --host h1 --cause power --start 2026-01-02 --end 2026-01-01 --note x
check "refused: end in the future -> 1" run_ex 1 "is in the future" \
	add --host h1 --cause power --start 2026-01-01 --end 2999-01-01 --note x
check "refused: overlap with an interval -> 1" run_ex 1 "overlaps interval 1 of h1" \
	add --host h1 --cause power --start 2026-01-10T11:30:00.249Z --end 2026-01-10T12:00:00Z --note x
check "refused: containing an interval -> 1" run_ex 1 "overlaps interval" \
	add --host h1 --cause power --start 2026-01-09 --end 2026-01-12 --note x
check "touching the end of an interval is accepted" \
	eval 'add --host h1 --cause network --start 2026-01-10T11:30:00.250Z \
		--end 2026-01-10T12:00:00Z --note adjacent > /dev/null'
n=$(sqlite3 "$db" "SELECT count(*) FROM intervals")
check "refusals wrote nothing (3 intervals, $n found)" [ "$n" = 3 ]
ev=$(sqlite3 "$db" "SELECT count(*) FROM events WHERE kind = 'interval_add'")
check "one interval_add event per add ($ev)" [ "$ev" = 3 ]
row=$(sqlite3 "$db" "SELECT origin, opened_by, closed_by, created_by, created_ms > 0 FROM intervals WHERE id = 1")
check "add stores origin/opened_by/closed_by/created_by ($row)" \
	[ "$row" = "operator|operator:tester|operator:tester|tester|1" ]

# --- rows as the monitor writes them: h1 polled up, h2 down (open), h3 never polled
sql "UPDATE hosts SET state = 'up', last_poll_ms = 1767225600000 WHERE name = 'h1'"
sql "INSERT INTO hosts (name, address, state, last_poll_ms) VALUES ('h2', '127.0.0.2', 'up', 1767225600000)"
h2=$(sqlite3 "$db" "SELECT id FROM hosts WHERE name = 'h2'")
sql "INSERT INTO intervals (id, host_id, cause, start_ms, end_ms, opened_by, closed_by, evidence, poll_interval_ms, created_ms)
     VALUES (10, $h2, 'network', 1767571200000, 1767574800000, 'unreachable', 'unreachable',
             '{\"polls\":[{\"q\":\"timeout\"}]}', 10000, 1767571200000)"
sql "INSERT INTO intervals (id, host_id, cause, start_ms, opened_by, evidence, poll_interval_ms, created_ms)
     VALUES (11, $h2, 'hardware', 1768003200000, 'overheat', 'not json', 10000, 1768003200000)"

check "refused: overlap with an open interval (reaches +infinity) -> 1" \
	run_ex 1 "overlaps interval 11 of h2 (hardware, 2026-01-10T00:00:00.000Z - open)" \
	add --host h2 --cause power --start 2026-01-20 --end 2026-01-21 --note x

# ------------------------------------------------------------------ hosts
check "hosts --json: every configured host with its fields" py '
by = {r["name"]: r for r in rows}
assert [r["name"] for r in rows] == ["h1", "h2", "h3"], rows
assert by["h1"]["state"] == "up" and by["h1"]["since"] is None, by["h1"]
assert by["h2"]["state"] == "down", by["h2"]
assert by["h2"]["since"] == "2026-01-10T00:00:00.000Z" and by["h2"]["cause"] == "hardware", by["h2"]
assert by["h3"]["state"] == "unknown", by["h3"]
h = by["h1"]
assert (h["address"], h["site"], h["policy"], h["customer"]) == ("127.0.0.1", "hall-1", "vserver", "acme"), h
' V hosts --json

V hosts > "$WORK/hosts.txt" 2> "$WORK/err"
check "hosts table exits 0" [ $? = 0 ]
check "hosts table has a header and one line per host" \
	[ "$(head -n 1 "$WORK/hosts.txt" | awk '{print $1, $6}')" = "HOST STATE" -a "$(wc -l < "$WORK/hosts.txt")" = 4 ]
# Aligned: every column starts at the same offset on every line.
aligned() { # file
	python3 -c '
import re, sys
lines = open(sys.argv[1]).read().splitlines()
starts = [m.start() for m in re.finditer(r"\S+", lines[0])]
for l in lines[1:]:
    for s in starts[1:]:
        assert l[s - 1] == " " and l[s] != " ", (l, s)
' "$1"
}
check "hosts table columns are aligned" aligned "$WORK/hosts.txt"
check "hosts table shows h2 down since its open interval" \
	grep -qE '^h2 .* down +hardware +2026-01-10T00:00:00.000Z$' "$WORK/hosts.txt"

# A daemon's run in the database: states are current while its heartbeat
# is fresh (default heartbeat 10 s, batch 1 s: stale past 31 s), stale
# once it is older or the run stopped.
check "hosts --json: never a daemon run: not stale, no heartbeat" py '
assert all(r["stale"] is False and r["last_heartbeat"] is None for r in rows), rows
' V hosts --json
now_ms=$(now_ms)
sql "INSERT INTO runs (id, started_ms, heartbeat_ms, pid) VALUES (1, $((now_ms - 600000)), $now_ms, 1)"
check "hosts --json: fresh heartbeat: not stale" py '
assert all(r["stale"] is False for r in rows), rows
assert rows[0]["last_heartbeat"] is not None, rows[0]
' V hosts --json
sql "UPDATE runs SET heartbeat_ms = 1768003500000 WHERE id = 1"
check "hosts --json: old heartbeat: stale, last state kept" py '
by = {r["name"]: r for r in rows}
assert all(r["stale"] is True and r["last_heartbeat"] == "2026-01-10T00:05:00.000Z" for r in rows), rows
assert by["h1"]["state"] == "up" and by["h2"]["state"] == "down", rows
assert by["h2"]["since"] == "2026-01-10T00:00:00.000Z", by["h2"]
' V hosts --json
V hosts > "$WORK/stale.txt" 2> "$WORK/stale.err"
check "hosts table: stale since the last heartbeat, with a note" eval '
	grep -qE "^h1 .* stale \(last up\) +- +2026-01-10T00:05:00.000Z$" "$WORK/stale.txt" &&
	grep -qE "^h2 .* stale \(last down\) +hardware +2026-01-10T00:05:00.000Z$" "$WORK/stale.txt" &&
	grep -q "vigild has not written a heartbeat since 2026-01-10T00:05:00.000Z" "$WORK/stale.err"'
sql "UPDATE runs SET heartbeat_ms = $now_ms, stopped_ms = $now_ms WHERE id = 1"
check "hosts --json: a clean stop: stale at once" py '
assert all(r["stale"] is True for r in rows), rows
' V hosts --json
sql "DELETE FROM runs"
check "--json: one compact object a line inside the array" eval '
	V hosts --json > "$WORK/j.txt" &&
	[ "$(head -n 1 "$WORK/j.txt")" = "[" ] && [ "$(tail -n 1 "$WORK/j.txt")" = "]" ] &&
	[ "$(wc -l < "$WORK/j.txt")" = 5 ] &&
	sed -n "2,4p" "$WORK/j.txt" | grep -cE "^\{\"name\":.*\}\,?$" | grep -qx 3'

# A note written by another tool with bytes that are not UTF-8: every
# --json output must still be strict UTF-8 (python decodes strictly).
sql "INSERT INTO intervals (id, host_id, cause, start_ms, end_ms, opened_by, closed_by, origin, note, created_ms)
     VALUES (99, $h2, 'power', 1767225600000, 1767229200000, 'operator:x', 'operator:x', 'operator',
             CAST(X'6261642dff2d6e6f7465' AS TEXT), 1767229200000)"
utf8_json() { "$@" > "$WORK/u.json" && python3 -c '
import json, sys
rows = json.loads(open(sys.argv[1], "rb").read().decode("utf-8"))
n = [r for r in rows if r.get("id") == 99]
assert n and n[0]["note"] == "bad-\ufffd-note", n' "$WORK/u.json"; }
check "intervals --json: a stored invalid byte comes out as U+FFFD" utf8_json V intervals --json
sql "DELETE FROM intervals WHERE id = 99"

# -------------------------------------------------------------- intervals
check "intervals --json: all, newest start first, fields" py '
assert [r["id"] for r in rows] == [2, 3, 1, 11, 10], [r["id"] for r in rows]
r = {r["id"]: r for r in rows}
assert r[10]["evidence"] == {"polls": [{"q": "timeout"}]}, r[10]
assert r[10]["end"] == "2026-01-05T01:00:00.000Z" and r[10]["rule"] == "unreachable", r[10]
assert r[10]["poll_interval_ms"] == 10000 and r[10]["origin"] == "monitor", r[10]
assert r[11]["end"] is None and r[11]["evidence"] is None, r[11]
assert r[11]["evidence_raw"] == "not json", r[11]
assert r[1]["start"] == "2026-01-10T10:00:00.000Z" and r[1]["end"] == "2026-01-10T11:30:00.250Z", r[1]
assert r[1]["note"] == "claim #1" and r[1]["evidence"] is None and r[1]["host"] == "h1", r[1]
for k in ("id", "host", "cause", "start", "end", "rule", "evidence", "note"):
    assert all(k in x for x in rows), k
' V intervals --json
check "intervals --open" py 'assert [r["id"] for r in rows] == [11], rows' V intervals --open --json
check "intervals --host" py 'assert [r["id"] for r in rows] == [11, 10], rows' V --json intervals --host h2
check "intervals [from, to) overlap, half-open" py '
assert [r["id"] for r in rows] == [1], rows' \
	V intervals --json --host h1 --from 2026-01-10T11:00:00Z --to 2026-01-10T11:30:00.250Z
check "intervals [from, to) of every host includes the open one" py '
assert [r["id"] for r in rows] == [1, 11], rows' \
	V intervals --json --from 2026-01-10T11:00:00Z --to 2026-01-10T11:30:00.250Z
check "intervals window far in the future still shows the open one" py '
assert [r["id"] for r in rows] == [11], rows' V intervals --json --from 2030-01-01 --to 2030-02-01
check "intervals window with no interval gives []" py 'assert rows == [], rows' \
	V intervals --json --from 2026-01-05T01:00:00Z --to 2026-01-10
check "intervals --host of an unknown host -> 1" run_ex 1 "unknown host 'nosuch'" \
	V intervals --host nosuch
V intervals > "$WORK/iv.txt" 2> "$WORK/err"
check "intervals table exits 0 with a header and 5 rows" \
	[ $? = 0 -a "$(wc -l < "$WORK/iv.txt")" = 6 -a "$(head -c 2 "$WORK/iv.txt")" = ID ]
check "intervals table columns are aligned" aligned "$WORK/iv.txt"
check "intervals table shows open intervals as open" grep -qE '^11 +h2 +hardware +2026-01-10T00:00:00.000Z +open ' "$WORK/iv.txt"

if [ -w /dev/full ]; then
	V intervals > /dev/full 2> "$WORK/err"
	rc=$?
	check "a failed write of the output -> 1 ($(cat "$WORK/err"))" \
		[ "$rc" = 1 -a "$(grep -c 'writing output' "$WORK/err")" = 1 ]
	V --json hosts > /dev/full 2> "$WORK/err"
	check "a failed write of JSON output -> 1" [ $? = 1 -a "$(wc -l < "$WORK/err")" = 1 ]
fi

# ------------------------------------------------ option placement, --db
cp "$db" "$WORK/copy.db"
sql "DELETE FROM events"
sql "DELETE FROM intervals WHERE id = 3"
check "global options before the command, --db overrides the config" py '
assert [r["id"] for r in rows] == [11], rows' \
	"$VIGIL" -c "$conf" --db "$WORK/copy.db" --json intervals --open
check "--db with --option=value and --json after the command" py '
assert 3 in [r["id"] for r in rows], rows' \
	"$VIGIL" --config="$conf" intervals --db="$WORK/copy.db" --json
check "without --db the configured path is used" py '
assert 3 not in [r["id"] for r in rows], rows' V intervals --json

# ------------------------------------------- beside a writer (the daemon)
python3 - "$db" > "$WORK/lock.out" <<'PY' &
import sqlite3, sys, time
c = sqlite3.connect(sys.argv[1], isolation_level=None)
c.execute("BEGIN IMMEDIATE")
c.execute("UPDATE hosts SET last_poll_ms = last_poll_ms + 1")
print("locked", flush=True)
time.sleep(1.0)
c.execute("COMMIT")
PY
lockpid=$!
wait_until 5 grep -qs locked "$WORK/lock.out"
t_lock=$(now_ms)
check "reads work while another connection holds the write lock" \
	py 'assert len(rows) == 4, rows' V intervals --json
t0=$(now_ms)
add --host h3 --cause facility --start 2026-01-15 --end 2026-01-15T02:00:00Z --note "hall 2 cooling" \
	> /dev/null 2> "$WORK/err"
rc=$? t1=$(now_ms)
check "an add waits for the writer and then succeeds ($((t1 - t0)) ms)" [ "$rc" = 0 ]
# The writer commits 1000 ms after saying "locked", seen here at most
# ~100 ms later: an add done sooner than 800 ms after that did not wait.
check "the add did wait for the lock ($((t1 - t_lock)) ms after it was taken)" \
	[ $((t1 - t_lock)) -ge 800 ]
wait "$lockpid"
check "the add is there" py 'assert [r["cause"] for r in rows] == ["facility"], rows' \
	V intervals --json --host h3
exit 0
