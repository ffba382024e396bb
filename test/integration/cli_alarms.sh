#!/usr/bin/env bash
# vigil alarms, alarm show, ack, comment, silence and report response end
# to end, without a daemon: the database made by `vigil interval add`,
# alarms, their log and outbox written with sqlite3 as vigild writes
# them; then listings, acknowledgements (once; never of a cleared alarm),
# comments, silences (add, refusals, list, expiry, remove once), the
# month's response report in the table, --json and --csv, and every bad
# argument (exit 2) and unknown id (exit 1).
# Env: VIGIL (the built CLI), WORK (scratch dir), TOP (repo root).
#
# June 2025 (UTC), ack within 15 min, clear within 4 h, as of
# 2025-07-01T00:05Z:
#   1 h1 hall-1 critical  acked +10m, cleared +1h   met, met
#   2 h2 hall-2 major     acked +30m, cleared +5h   missed, missed
#   3 h1        minor     suppressed by 1           left out
#   4 h2        warning   muted silence:9           left out
#   5 h1 hall-1 critical  raised 06-30T23:55, open  running, running
# Alarm 6 (raised now) and 7 (May, cleared) are outside the month.
set -u
. "$TOP/test/lib.sh"

conf=$WORK/vigil.json
db=$WORK/vigil.db
cat > "$conf" <<'EOF'
{
  // hosts for the alarm CLI test; nothing polls them
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
      "site": "hall-2", "service": "vserver", "customer": "acme" }
  ]
}
EOF

export USER=tester
unset SUDO_USER VIGIL_CONFIG
# --db alone: the alarm commands need no configuration
D() { "$VIGIL" --db "$db" "$@"; }
ms() { echo "$(( $(date -u -d "$1" +%s) * 1000 ))"; }

# ---------------------------------------------------------------- help
check "vigil --help lists the alarm commands" \
	eval '"$VIGIL" --help | grep -q "^  alarms " && "$VIGIL" --help | grep -q "^  ack " &&
	      "$VIGIL" --help | grep -q "^  silence add|list|remove" &&
	      "$VIGIL" --help | grep -q "^  report response"'
check "vigil report --help says UTC and where the commitments come from" \
	eval '"$VIGIL" report response --help | grep -q "UTC month" &&
	      "$VIGIL" report --help | grep -q "alarms.response.ack_s, else 15m"'
check "vigil silence --help shows add's usage" \
	eval '"$VIGIL" silence --help | grep -q -- "--for DURATION | --until T"'

# ----------------------------------------------------------------- data
V interval add --host h1 --cause network --start 2025-05-01T00:00:00Z \
	--end 2025-05-01T00:10:00Z --note "makes the database" > /dev/null ||
	not_ok "setup: interval add"
sql "INSERT INTO hosts (name, address, site) VALUES ('h2', '127.0.0.2', 'hall-2')"
h1=$(sqlite3 "$db" "SELECT id FROM hosts WHERE name = 'h1'")
h2=$(sqlite3 "$db" "SELECT id FROM hosts WHERE name = 'h2'")
r1=$(ms 2025-06-02T10:00:00Z); r2=$(ms 2025-06-03T10:00:00Z); r3=$(ms 2025-06-04T10:00:00Z)
r4=$(ms 2025-06-05T10:00:00Z); r5=$(ms 2025-06-30T23:55:00Z); r7=$(ms 2025-05-20T10:00:00Z)
now=$(now_ms)
M=60000
ins() { # ID HOST RULE SEVERITY SITE RAISED ACKED CLEARED SUPPRESSED MUTED
	sql "INSERT INTO alarms (id, host_id, kind, rule, severity, summary, labels, details,
	     site, raised_ms, acked_ms, acked_by, cleared_ms, suppressed_by, muted)
	     VALUES ($1, $2, 'rule', '$3', '$4', '$3 on host', '{\"team\":\"dc\"}', '{}', $5, $6,
	     $7, CASE WHEN $7 IS NULL THEN NULL ELSE 'olga' END, $8, $9, ${10})"
}
ins 1 "$h1" temp critical "'hall-1'" "$r1" $((r1 + 10 * M)) $((r1 + 60 * M)) NULL NULL
ins 2 "$h2" temp major "'hall-2'" "$r2" $((r2 + 30 * M)) $((r2 + 300 * M)) NULL NULL
ins 3 "$h1" fan minor "'hall-1'" "$r3" NULL $((r3 + M)) 1 NULL
ins 4 "$h2" fan warning "'hall-2'" "$r4" NULL $((r4 + M)) NULL "'silence:9'"
ins 5 "$h1" psu critical "'hall-1'" "$r5" NULL NULL NULL NULL
ins 6 "$h1" temp major "'hall-1'" "$now" NULL NULL NULL NULL
ins 7 "$h2" disk minor "'hall-2'" "$r7" NULL $((r7 + M)) NULL NULL
sql "INSERT INTO alarm_log (alarm_id, ts_ms, action, by, text) VALUES (6, $now, 'raised', 'vigild', NULL)"
sql "INSERT INTO outbox (alarm_id, channel, event, step, repeat, dedup_key, payload, created_ms,
     attempts, next_ms, last_error) VALUES (6, 'pager', 'trigger', 0, 0, 'vigil:6:0:0', '{}',
     $now, 2, $now, 'HTTP 503')"

# -------------------------------------------------------------- listing
check "alarms: a table, newest first, state derived" \
	eval 'D alarms > "$WORK/t" && head -1 "$WORK/t" | grep -q "^ID  *HOST  *SITE  *SEVERITY  *STATE" &&
	      sed -n 2p "$WORK/t" | grep -q "^6  *h1  *hall-1  *major  *raised"'
check "alarms --json: every alarm, states, suppressed_by, muted, labels" py '
assert [r["id"] for r in rows] == [6, 5, 4, 3, 2, 1, 7], [r["id"] for r in rows]
by = {r["id"]: r for r in rows}
assert by[6]["state"] == "raised" and by[6]["acked"] is None, by[6]
assert by[1]["state"] == "cleared" and by[1]["acked_by"] == "olga", by[1]
assert by[1]["raised"] == "2025-06-02T10:00:00.000Z", by[1]
assert by[3]["suppressed_by"] == 1 and by[4]["muted"] == "silence:9", (by[3], by[4])
assert by[2]["suppressed_by"] is None and by[2]["labels"] == {"team": "dc"}, by[2]
' D alarms --json
check "alarms --active: only the ones not cleared" py '
assert [r["id"] for r in rows] == [6, 5], rows
' D alarms --active --json
check "alarms --host h2 (with the config)" py '
assert [r["id"] for r in rows] == [4, 2, 7], rows
' V alarms --host h2 --json
check "alarms --host unknown -> 1" run_ex 1 "unknown host 'nope'" D alarms --host nope
check "alarms on a missing database -> 1" run_ex 1 "cannot open database" \
	"$VIGIL" --db "$WORK/none.db" alarms
check "alarms --bogus -> 2" run_ex 2 "unknown option '--bogus'" D alarms --bogus

check "alarm show --json: the alarm, its log and its outbox" py '
assert rows["id"] == 6 and rows["state"] == "raised", rows
assert [l["action"] for l in rows["log"]] == ["raised"], rows["log"]
o = rows["outbox"]
assert len(o) == 1 and o[0]["channel"] == "pager" and o[0]["dedup_key"] == "vigil:6:0:0", o
assert o[0]["attempts"] == 2 and o[0]["delivered"] is None and o[0]["last_error"] == "HTTP 503", o
' D alarm show 6 --json
check "alarm show: the table form" \
	eval 'D alarm show 6 > "$WORK/t" && grep -q "^alarm 6$" "$WORK/t" &&
	      grep -q "^  state  *raised" "$WORK/t" && grep -q "vigil:6:0:0" "$WORK/t" &&
	      grep -q "^outbox:" "$WORK/t"'
check "alarm show unknown id -> 1" run_ex 1 "alarm 99: no such alarm" D alarm show 99
check "alarm show bad id -> 2" run_ex 2 "bad alarm ID 'x'" D alarm show x
check "alarm without show -> 2" run_ex 2 "unknown subcommand 'list'" D alarm list

# -------------------------------------------------------------- ack
check "ack without --by -> 2" run_ex 2 "missing --by" D ack 6
check "ack without ID -> 2" run_ex 2 "give one alarm ID" D ack --by alice
check "ack ID 0 -> 2" run_ex 2 "bad alarm ID '0'" D ack 0 --by alice
check "ack 6 by alice" \
	eval 'D ack 6 --by alice --comment "on it" | grep -q "^alarm 6: acknowledged by alice at "'
check "ack wrote acked_by and the log row" \
	eval '[ "$(sqlite3 "$db" "SELECT acked_by FROM alarms WHERE id = 6")" = alice ] &&
	      [ "$(sqlite3 "$db" "SELECT action || \"|\" || by || \"|\" || text FROM alarm_log WHERE alarm_id = 6 ORDER BY id DESC LIMIT 1")" = "acknowledged|alice|on it" ]'
check "ack again -> 1, says by whom" run_ex 1 "already acknowledged by alice at " \
	D ack 6 --by bob
check "ack of a cleared alarm -> 1" run_ex 1 "alarm 7: cleared at 2025-05-20T10:01:00.000Z" \
	D ack 7 --by bob
check "ack unknown id -> 1" run_ex 1 "alarm 99: no such alarm" D ack 99 --by bob
check "refusals wrote nothing" \
	eval '[ "$(sqlite3 "$db" "SELECT acked_by FROM alarms WHERE id = 6")" = alice ] &&
	      [ "$(sqlite3 "$db" "SELECT count(*) FROM alarm_log")" = 2 ] &&
	      [ "$(sqlite3 "$db" "SELECT count(*) FROM alarms WHERE acked_by = '"'bob'"'")" = 0 ]'
check "alarms shows 6 acknowledged" py '
r = [x for x in rows if x["id"] == 6][0]
assert r["state"] == "acknowledged" and r["acked_by"] == "alice", r
' D alarms --active --json

# -------------------------------------------------------------- comment
check "comment on a cleared alarm, by the login" \
	eval 'D comment 7 "disk replaced" | grep -q "^alarm 7: comment added by tester"'
check "comment --by carol, --json" py '
assert rows[0]["alarm_id"] == 6 and rows[0]["by"] == "carol" and rows[0]["text"] == "x", rows
' D comment 6 x --by carol --json
check "the comments are in the log" \
	eval '[ "$(sqlite3 "$db" "SELECT group_concat(alarm_id || by || text, \",\") FROM alarm_log WHERE action = '"'comment'"'")" = "7testerdisk replaced,6carolx" ]'
check "comment without text -> 2" run_ex 2 "give one alarm ID and the text" D comment 6
check "comment with empty text -> 1" run_ex 1 "empty comment" D comment 6 ""
check "comment unknown id -> 1" run_ex 1 "alarm 99: no such alarm" D comment 99 x

# -------------------------------------------------------------- silences
check "silence add --host h1 --for 2h prints the id" \
	eval 'D silence add --host h1 --for 2h --reason "CHG-7 rewiring" | grep -q "^added silence 1: host h1 "'
check "silence add --label pending, --json" py '
assert rows[0]["id"] == 2 and rows[0]["status"] == "pending" and rows[0]["label"] == "team=dc", rows
assert rows[0]["start"] == "2030-01-01T00:00:00.000Z" and rows[0]["created_by"] == "tester", rows
' D silence add --label team=dc --site hall-1 --from 2030-01-01 --until 2030-01-02 --reason maint --json
check "silence add unknown host -> 1" run_ex 1 "unknown host 'nope'" \
	D silence add --host nope --for 1h --reason x
check "silence add without a matcher -> 2" run_ex 2 "at least one of --host, --site and --label" \
	D silence add --for 1h --reason x
check "silence add without --for/--until -> 2" run_ex 2 "exactly one of --for and --until" \
	D silence add --host h1 --reason x
check "silence add with both -> 2" run_ex 2 "exactly one of --for and --until" \
	D silence add --host h1 --for 1h --until 2030-01-01 --reason x
check "silence add bad duration -> 2" run_ex 2 "bad duration '10x'" \
	D silence add --host h1 --for 10x --reason x
check "silence add until before from -> 2" run_ex 2 "--until must be after --from" \
	D silence add --site hall-1 --from 2030-01-02 --until 2030-01-01 --reason x
check "silence add ending in the past -> 2" run_ex 2 "would end in the past" \
	D silence add --site hall-1 --from 2019-01-01 --until 2020-01-01 --reason x
check "silence add bad label -> 2" run_ex 2 "is not KEY=VALUE" \
	D silence add --label team --for 1h --reason x
check "silence add with two --host -> 2" run_ex 2 "--host given twice" \
	D silence add --host h1 --host=h2 --for 1h --reason x
check "silence add without --reason -> 2" run_ex 2 "missing --reason" \
	D silence add --host h1 --for 1h
check "refused silences wrote nothing" eval '[ "$(sqlite3 "$db" "SELECT count(*) FROM silences")" = 2 ]'
sql "INSERT INTO silences (id, site, start_ms, end_ms, reason, created_by, created_ms)
     VALUES (3, 'hall-2', 1000, 2000, 'old', 'x', 1000)"
check "silence list: live ones only, by start" py '
assert [(r["id"], r["status"]) for r in rows] == [(1, "active"), (2, "pending")], rows
' D silence list --json
check "silence list --all: the expired one too" py '
assert [(r["id"], r["status"]) for r in rows] == [(3, "expired"), (1, "active"), (2, "pending")], rows
' D silence list --all --json
check "silence remove 1 --by erin" eval 'D silence remove 1 --by erin | grep -q "^removed silence 1 by erin"'
check "silence remove again -> 1" run_ex 1 "silence 1: already removed by erin at " \
	D silence remove 1
check "silence remove unknown -> 1" run_ex 1 "silence 99: no such silence" D silence remove 99
check "silence remove without ID -> 2" run_ex 2 "give one silence ID" D silence remove
check "silence list after remove; table" \
	eval 'D silence list > "$WORK/t" && head -1 "$WORK/t" | grep -q "^ID  *HOST  *SITE  *LABEL" &&
	      [ "$(wc -l < "$WORK/t")" = 2 ] && grep -q "^2 .*pending" "$WORK/t"'
check "silence frob -> 2" run_ex 2 "unknown subcommand 'frob'" D silence frob

# -------------------------------------------------------------- report
AS_OF=2025-07-01T00:05:00Z
check "report response --json: the month's figures" py '
assert rows["month"] == "2025-06" and rows["commitments"] == {"ack_s": 900, "clear_s": 14400}, rows
assert rows["from"] == "2025-06-01T00:00:00.000Z" and rows["to"] == "2025-07-01T00:00:00.000Z", rows
assert rows["suppressed"] == 1 and rows["muted"] == 1, rows
a = {x["id"]: x for x in rows["alarms"]}
assert sorted(a) == [1, 2, 5], a
assert a[1]["time_to_ack_ms"] == 600000 and a[1]["ack"] == "met" and a[1]["clear"] == "met", a[1]
assert a[2]["time_to_ack_ms"] == 1800000 and a[2]["ack"] == "missed", a[2]
assert a[2]["time_to_clear_ms"] == 18000000 and a[2]["clear"] == "missed", a[2]
assert a[5]["time_to_ack_ms"] is None and a[5]["ack"] == "running" and a[5]["clear"] == "running", a[5]
t = rows["total"]
assert (t["alarms"], t["ack_met"], t["ack_due"], t["ack_running"], t["ack_permille"]) == (3, 1, 2, 1, 500), t
assert (t["clear_met"], t["clear_due"], t["clear_permille"]) == (1, 2, 500), t
s = {g["severity"]: g for g in rows["by_severity"]}
assert [g["severity"] for g in rows["by_severity"]] == ["critical", "major"], rows["by_severity"]
assert s["critical"]["ack_permille"] == 1000 and s["major"]["ack_permille"] == 0, s
assert [(g["site"], g["alarms"]) for g in rows["by_site"]] == [("hall-1", 2), ("hall-2", 1)], rows["by_site"]
assert [m["id"] for m in rows["missed"]] == [2], rows["missed"]
' D report response --month 2025-06 --now "$AS_OF" --json
check "report response --ack-within 45m: alarm 2 acked in time" py '
t = rows["total"]
assert rows["commitments"]["ack_s"] == 2700 and t["ack_met"] == 2 and t["ack_due"] == 2, rows
assert [m["id"] for m in rows["missed"]] == [2], rows["missed"]
' D report response --month 2025-06 --now "$AS_OF" --ack-within 45m --json
sed 's/"storage": { "path": "vigil.db" },/"storage": { "path": "vigil.db" }, "alarms": { "response": { "ack_s": 2700, "clear_s": 7200 } },/' \
	"$conf" > "$WORK/resp.json"
check "report response: the configuration's commitments when no flag" py '
assert rows["commitments"] == {"ack_s": 2700, "clear_s": 7200}, rows["commitments"]
' "$VIGIL" -c "$WORK/resp.json" report response --month 2025-06 --now "$AS_OF" --json
check "report response: a flag beats the configuration" py '
assert rows["commitments"]["ack_s"] == 600 and rows["commitments"]["clear_s"] == 7200, rows
' "$VIGIL" -c "$WORK/resp.json" report response --month 2025-06 --now "$AS_OF" --ack-within 10m --json
check "report response: later, alarm 5 has missed its ack" py '
a = {x["id"]: x for x in rows["alarms"]}
assert a[5]["ack"] == "missed" and a[5]["clear"] == "running", a[5]
assert [m["id"] for m in rows["missed"]] == [2, 5], rows["missed"]
' D report response --month 2025-06 --now 2025-07-01T00:20:00Z --json
check "report response: the table" \
	eval 'D report response --month 2025-06 --now "$AS_OF" > "$WORK/t" &&
	      head -1 "$WORK/t" | grep -q "^response 2025-06 (UTC" &&
	      grep -q "1 suppressed, 1 muted" "$WORK/t" &&
	      grep -q "^critical  *2  *1/1  *100.0%  *1/1  *100.0%" "$WORK/t" &&
	      grep -q "^all  *3  *1/2  *50.0%  *1/2  *50.0%" "$WORK/t" &&
	      sed -n "/^missed:/,\$p" "$WORK/t" | grep -q "^2  *h2  *hall-2  *major"'
check "report response --csv: a header and one row per alarm" \
	eval 'D report response --month 2025-06 --now "$AS_OF" --csv > "$WORK/t" &&
	      head -1 "$WORK/t" | grep -q "^id,host,site,severity,kind,rule,raised,acked" &&
	      [ "$(wc -l < "$WORK/t")" = 4 ] &&
	      grep -q "^2,h2,hall-2,major,rule,temp,2025-06-03T10:00:00.000Z,2025-06-03T10:30:00.000Z,olga,1800000,missed,2025-06-03T15:00:00.000Z,18000000,missed$" "$WORK/t"'
check "report response without --month -> 2" run_ex 2 "missing --month" D report response
check "report response bad month -> 2" run_ex 2 "bad month '2025-13'" \
	D report response --month 2025-13
check "report response --json --csv -> 2" run_ex 2 "at most one of --json and --csv" \
	D report response --month 2025-06 --json --csv
check "report response --clear-within 0h -> 2" run_ex 2 "bad duration '0h'" \
	D report response --month 2025-06 --clear-within 0h
check "report response of a month not begun -> 2" run_ex 2 "has not begun" \
	D report response --month 2025-08 --now "$AS_OF"
check "report frob -> 2" run_ex 2 "unknown report 'frob'" D report frob
