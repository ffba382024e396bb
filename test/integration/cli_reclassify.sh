#!/usr/bin/env bash
# vigil interval reclassify and vigil intervals --history end to end,
# without a daemon: outages recorded with `vigil interval add`, an open
# interval as the monitor writes it (sqlite3, with evidence), then
# reclassifications by USER, SUDO_USER and --by, every refusal (exit 1,
# nothing written) and bad argument (exit 2), the history in the table
# and in --json, the output without --history as before, the events, the
# history's triggers, a reclassification waiting for another writer, and
# `vigil sla` following the new cause: hardware (counted by vserver)
# reclassified to customer (not counted) leaves the month's downtime.
# Env: VIGIL (the built CLI), WORK (scratch dir), TOP (repo root).
#
# Month 2025-06 (30 days, UTC), h1 vserver: hardware 06-03 10:00-12:00
# (2 h) and network 06-10 00:00-00:30 (30 min): downtime 9,000,000 ms.
# Interval 1 reclassified to customer: downtime 1,800,000 ms, customer
# 7,200,000 ms not counted.
set -u
. "$TOP/test/lib.sh"

conf=$WORK/vigil.json
db=$WORK/vigil.db
cat > "$conf" <<'EOF'
{
  // hosts for the reclassification test; nothing polls them
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
      "site": "hall-1", "service": "vbaremetal", "customer": "globex" }
  ]
}
EOF

export USER=tester
unset SUDO_USER
ISO='^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z$'

# ---------------------------------------------------------------- help
check "vigil --help lists interval reclassify" \
	eval '"$VIGIL" --help | grep -q "^  interval reclassify"'
check "vigil interval --help shows reclassify's usage" \
	eval '"$VIGIL" interval --help | grep -q "interval reclassify ID --cause C --note TEXT \[--by NAME\]"'
check "vigil interval reclassify --help exits 0 with the usage" \
	eval '"$VIGIL" interval reclassify --help | grep -q "^usage: vigil .*interval"'
check "vigil intervals --help shows --history" \
	eval '"$VIGIL" intervals --help | grep -q -- "--history"'

# ----------------------------------------------------------------- data
must() { "$@" > /dev/null || not_ok "setup: $*"; }
must V interval add --host h1 --cause hardware --start 2025-06-03T10:00:00Z \
	--end 2025-06-03T12:00:00Z --note "psu alarm"
must V interval add --host h1 --cause network --start 2025-06-10T00:00:00Z \
	--end 2025-06-10T00:30:00Z --note "uplink"
h2=$(sqlite3 -cmd '.timeout 2000' "$db" "INSERT INTO hosts (name, address) VALUES ('h2', '127.0.0.2'); SELECT last_insert_rowid()")
sql "INSERT INTO intervals (id, host_id, cause, start_ms, opened_by, evidence, poll_interval_ms, created_ms)
     VALUES (10, $h2, 'hardware', 1750000000000, 'overheat', '{\"temp\":91}', 10000, 1750000000000)"
V intervals > "$WORK/plain_before.txt"
V intervals --json > "$WORK/plain_before.json"

check "sla before: hardware counts (downtime 9,000,000 ms)" py '
r = [x for x in rows if x.get("host") == "h1"][0]
assert r["downtime_ms"] == 9000000, r
assert r["excluded_ms"]["customer"] == 0 and r["intervals"][0]["counted"] is True, r
' V sla --month 2025-06 --host h1 --json

# ---------------------------------------------------------- bad arguments
check "reclassify without ID -> 2" run_ex 2 "give one interval ID" \
	V interval reclassify --cause customer --note x
check "reclassify bad ID -> 2" run_ex 2 "bad interval ID 'one'" \
	V interval reclassify one --cause customer --note x
check "reclassify ID 0 -> 2" run_ex 2 "bad interval ID '0'" \
	V interval reclassify 0 --cause customer --note x
check "reclassify two IDs -> 2" run_ex 2 "unexpected argument '2'" \
	V interval reclassify 1 2 --cause customer --note x
check "reclassify without --cause -> 2" run_ex 2 "missing --cause" \
	V interval reclassify 1 --note x
check "reclassify without --note -> 2" run_ex 2 "missing --note" \
	V interval reclassify 1 --cause customer
check "reclassify --by empty -> 2" run_ex 2 "--by needs a name" \
	V interval reclassify 1 --cause customer --note x --by ""
check "reclassify unknown option -> 2" run_ex 2 "unknown option '--host'" \
	V interval reclassify 1 --cause customer --note x --host h1
check "reclassify --note not UTF-8 -> 2" run_ex 2 "is not valid UTF-8" \
	V interval reclassify 1 --cause customer --note "$(printf 'bad \xff')"

# ------------------------------------------------------------- refusals
check "refused: no such interval -> 1" run_ex 1 "interval 99: no such interval" \
	V interval reclassify 99 --cause customer --note x
check "refused: unknown cause -> 1, listing the causes" \
	run_ex 1 "unknown cause 'gremlins' (expected one of: network hardware power facility maintenance customer force_majeure unknown)" \
	V interval reclassify 1 --cause gremlins --note x
check "refused: empty note -> 1" run_ex 1 "a note saying why is required" \
	V interval reclassify 1 --cause customer --note ""
check "refused: a database that does not exist -> 1, not created" \
	eval 'run_ex 1 "$WORK/nope.db" V --db "$WORK/nope.db" interval reclassify 1 --cause customer --note x &&
		[ ! -e "$WORK/nope.db" ]'
n=$(sqlite3 "$db" "SELECT (SELECT count(*) FROM interval_causes) || ',' ||
	(SELECT count(*) FROM events WHERE kind = 'interval_reclassify') || ',' ||
	(SELECT cause FROM intervals WHERE id = 1)")
check "refusals wrote nothing ($n)" [ "$n" = "0,0,hardware" ]

# -------------------------------------------------------- reclassify
out=$(V interval reclassify 1 --cause customer --note "ticket 12: the customer's own shutdown")
check "reclassify prints old -> new and who ($out)" \
	[ "$out" = "interval 1: cause hardware -> customer (by operator:tester)" ]
check "reclassify of an open interval as sudo records SUDO_USER, --json" py '
assert len(rows) == 1, rows
r = rows[0]
assert (r["id"], r["host"], r["old_cause"], r["new_cause"]) == (10, "h2", "hardware", "power"), r
assert r["by"] == "operator:alice" and r["note"] == "pdu-b tripped", r
import re
assert re.match(r"'"$ISO"'", r["ts"]), r
' env SUDO_USER=alice "$VIGIL" -c "$conf" --json interval reclassify 10 --cause power --note "pdu-b tripped"
out=$(V interval reclassify 10 --cause facility --note "UPS bypass, CHG-7" --by carol)
check "reclassify --by names who ($out)" \
	[ "$out" = "interval 10: cause power -> facility (by operator:carol)" ]
row=$(sqlite3 "$db" "SELECT cause, end_ms IS NULL, evidence FROM intervals WHERE id = 10")
check "the open interval stays open with its evidence ($row)" [ "$row" = 'facility|1|{"temp":91}' ]
ev=$(sqlite3 "$db" "SELECT detail FROM events WHERE kind = 'interval_reclassify' AND interval_id = 1")
check "an interval_reclassify event with old, new, by, note ($ev)" \
	[ "$ev" = '{"old_cause":"hardware","new_cause":"customer","by":"operator:tester","note":"ticket 12: the customer'"'"'s own shutdown"}' ]
n=$(sqlite3 "$db" "SELECT count(*) FROM events WHERE kind = 'interval_reclassify' AND host_id = $h2 AND interval_id = 10")
check "one event per reclassification ($n for interval 10)" [ "$n" = 2 ]

# -------------------------------------------------------------- history
check "intervals --history --json: each interval with its history, oldest first" py '
import re
by = {r["id"]: r for r in rows}
assert [r["id"] for r in rows] == [10, 2, 1], [r["id"] for r in rows]
assert by[2]["history"] == [], by[2]
h = by[1]["history"]
assert len(h) == 1 and set(h[0]) == {"ts", "old_cause", "new_cause", "by", "note"}, h
assert (h[0]["old_cause"], h[0]["new_cause"], h[0]["by"]) == ("hardware", "customer", "operator:tester"), h
assert h[0]["note"] == "ticket 12: the customer'"'"'s own shutdown", h
h = by[10]["history"]
assert [(x["old_cause"], x["new_cause"], x["by"]) for x in h] == [
    ("hardware", "power", "operator:alice"), ("power", "facility", "operator:carol")], h
assert all(re.match(r"'"$ISO"'", x["ts"]) for x in h), h
assert h[0]["ts"] <= h[1]["ts"], h
assert by[10]["cause"] == "facility" and by[1]["cause"] == "customer", rows
' V intervals --history --json
check "intervals --history with the filters: --host h2 --open" py '
assert [r["id"] for r in rows] == [10] and len(rows[0]["history"]) == 2, rows
' V intervals --json --history --host h2 --open
check "intervals --history: an interval without one has []" py '
assert [(r["id"], r["history"]) for r in rows] == [(2, [])], rows
' V intervals --json --history --from 2025-06-10 --to 2025-06-11

V intervals --history > "$WORK/hist.txt" 2> "$WORK/err"
check "intervals --history table exits 0" [ $? = 0 ]
check "the table: each interval's row followed by its history lines" python3 -c '
import re, sys
lines = open(sys.argv[1]).read().splitlines()
assert lines[0].split()[:3] == ["ID", "HOST", "CAUSE"], lines
ids = [l.split()[0] for l in lines[1:] if not l.startswith(" ")]
assert ids == ["10", "2", "1"], lines
i10 = next(i for i, l in enumerate(lines) if l.startswith("10 "))
assert re.match(r"^    \S+Z  hardware -> power  by operator:alice  pdu-b tripped$", lines[i10 + 1]), lines
assert re.match(r"^    \S+Z  power -> facility  by operator:carol  UPS bypass, CHG-7$", lines[i10 + 2]), lines
assert lines[i10 + 3].startswith("2 "), lines
i1 = next(i for i, l in enumerate(lines) if l.startswith("1 "))
assert re.match(r"^    \S+Z  hardware -> customer  by operator:tester  ticket 12: ", lines[i1 + 1]), lines
assert i1 + 2 == len(lines), lines
' "$WORK/hist.txt"

# Without --history: what it printed before, but for the new causes. The
# open interval's DURATION runs to now: masked (the same length) here.
V intervals > "$WORK/plain.txt"
V intervals --json > "$WORK/plain.json"
mask() { sed -E 's/^(10 +[^ ]+ +[^ ]+ +[^ ]+ +open +)[0-9dhm]+\+/\1DUR+/' "$@"; }
check "without --history the table is the --history table less its history lines" \
	eval 'grep -v "^    " "$WORK/hist.txt" | mask | cmp -s - <(mask "$WORK/plain.txt")'
check "without --history the table is as before but for the causes" \
	eval 'sed -e "s/ customer / hardware /" -e "s/^\(10 .*\)facility/\1hardware/" "$WORK/plain.txt" |
		mask | cmp -s - <(mask "$WORK/plain_before.txt")'
check "without --history --json has no history key and is as before but for the causes" python3 -c '
import json, sys
before, now = (json.load(open(f)) for f in sys.argv[1:3])
assert all("history" not in r for r in now), now
for r in now:
    if r["id"] in (1, 10):
        r["cause"] = "hardware"
assert before == now, (before, now)
assert open(sys.argv[2]).read().count("\n") == len(now) + 2
' "$WORK/plain_before.json" "$WORK/plain.json"

# --------------------------------------------------------- the history
row=$(sqlite3 "$db" "SELECT old_cause, new_cause, by, note, evidence IS NULL, ts_ms > 0 FROM interval_causes WHERE interval_id = 1")
check "history row: old, new, by, note, no evidence ($row)" \
	[ "$row" = "hardware|customer|operator:tester|ticket 12: the customer's own shutdown|1|1" ]
sqlite3 "$db" "UPDATE interval_causes SET note = 'rewritten'" 2> "$WORK/err"
rc=$?
check "the history refuses an UPDATE ($(cat "$WORK/err"))" \
	eval '[ "$rc" != 0 ] && grep -q "append-only" "$WORK/err"'
sqlite3 "$db" "DELETE FROM interval_causes WHERE interval_id = 1" 2> "$WORK/err"
rc=$?
check "the history refuses a DELETE ($(cat "$WORK/err"))" \
	eval '[ "$rc" != 0 ] && grep -q "append-only" "$WORK/err"'
n=$(sqlite3 "$db" "SELECT count(*) FROM interval_causes WHERE note <> 'rewritten'")
check "the history is intact ($n rows)" [ "$n" = 3 ]

# ------------------------------------------------------------------ sla
check "sla after: the reclassified 2 h are customer's, not counted" py '
r = [x for x in rows if x.get("host") == "h1"][0]
assert r["downtime_ms"] == 1800000, r
assert r["excluded_ms"]["customer"] == 7200000, r
iv = {(i["cause"], i["counted"]) for i in r["intervals"]}
assert ("customer", False) in iv and ("network", True) in iv, r["intervals"]
' V sla --month 2025-06 --host h1 --json
# and back: an operator may reclassify again (each step on record)
must V interval reclassify 1 --cause hardware --note "ticket 12 reopened: it was the PSU after all"
check "sla after a second reclassification: counted again" py '
r = [x for x in rows if x.get("host") == "h1"][0]
assert r["downtime_ms"] == 9000000, r
' V sla --month 2025-06 --host h1 --json
n=$(sqlite3 "$db" "SELECT group_concat(new_cause, ',') FROM (SELECT new_cause FROM interval_causes WHERE interval_id = 1 ORDER BY id)")
check "both steps in the history ($n)" [ "$n" = "customer,hardware" ]

# ------------------------------------------- beside a writer (the daemon)
python3 - "$db" > "$WORK/lock.out" <<'PY' &
import sqlite3, sys, time
c = sqlite3.connect(sys.argv[1], isolation_level=None)
c.execute("BEGIN IMMEDIATE")
c.execute("UPDATE hosts SET last_poll_ms = 1")
print("locked", flush=True)
time.sleep(1.0)
c.execute("COMMIT")
PY
lockpid=$!
wait_until 5 grep -qs locked "$WORK/lock.out"
t_lock=$(now_ms)
V interval reclassify 2 --cause power --note "it was the PDU" > /dev/null 2> "$WORK/err"
rc=$? t1=$(now_ms)
check "a reclassification waits for the writer and then succeeds ($(cat "$WORK/err"))" [ "$rc" = 0 ]
check "it did wait for the lock ($((t1 - t_lock)) ms after it was taken)" [ $((t1 - t_lock)) -ge 800 ]
wait "$lockpid"
check "the reclassification is there" py 'assert rows[0]["cause"] == "power", rows' \
	V intervals --json --host h1 --from 2025-06-10 --to 2025-06-11

# ------------------------------------------------------------ confirm
check "the cause it has: confirmed, final" \
	eval 'V interval reclassify 2 --cause power --note "checked: PDU ticket" --by carol | grep -qx "interval 2: cause power confirmed (by operator:carol); final"'
n=$(sqlite3 "$db" "SELECT old_cause || '>' || new_cause || ' ' || by FROM interval_causes WHERE interval_id = 2 ORDER BY id DESC LIMIT 1")
check "a confirmation is in the history ($n)" [ "$n" = "power>power operator:carol" ]
exit 0
