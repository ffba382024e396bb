#!/usr/bin/env bash
# Dependency suppression against real peers: a switch (a private snmpd on
# 127.0.2.1) and 20 hosts behind it (TCP ports on 127.0.2.11-30, one
# listener) whose "uplink" is the switch's port. The switch dies and the
# hosts with it: one page (the switch's root alarm naming the 20 hosts),
# 20 alarms suppressed by it, 20 intervals with cause network. Everything
# comes back: every alarm clears, and only the paged channel gets a
# resolve. The receiver is test/hookrecv.py on 127.0.0.1.
set -u
. "$TOP/test/lib.sh"

n=20
sport=$(free_port udp)
agent=$WORK/switch
start_snmpd "$sport" "$agent" 127.0.2.1 > "$WORK/agent.pid" || { not_ok "start snmpd"; exit 1; }
set_snmp_value "$agent" 3.0 "integer 1"
tport=$(free_port tcp)

start_listener() {
	python3 -c '
import socket, sys, select
port, n = int(sys.argv[1]), int(sys.argv[2])
socks = []
for i in range(n):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.2.%d" % (11 + i), port))
    s.listen(16)
    socks.append(s)
while True:
    r, _, _ = select.select(socks, [], [], 0.5)
    for s in r:
        c, _ = s.accept()
        c.close()
' "$tport" "$n" &
	lpid=$!
	register_pid "$lpid"
}
start_listener

hook=$WORK/hook
out=$(start_hookrecv "$hook") || { not_ok "start the receiver"; exit 1; }
hport=${out#* }

conf=$WORK/vigil.json
db=$WORK/vigil.db
{
cat <<JSON
{
  "storage": { "path": "vigil.db", "batch_ms": 100, "heartbeat_s": 1 },
  "alarms": { "dependency_wait_s": 6 },
  "channels": { "noc": { "type": "webhook", "url": "http://127.0.0.1:$hport/noc", "timeout_s": 5 } },
  "escalation": [ { "name": "all", "steps": [ { "after_s": 0, "notify": ["noc"] } ] } ],
  "templates": {
    "switch": {
      "snmp": { "community": "public", "port": $sport, "interval_s": 1, "timeout_ms": 300, "retries": 0 },
      "metrics": { "port1": { "oid": ".1.3.6.1.4.1.99999.3.0", "enum": { "up": 1, "down": 2 } } },
      "availability": [ { "name": "switch-down", "unreachable": 2, "cause": "network",
                          "alarm": { "severity": "critical" } } ] },
    "server": {
      "sources": { "svc": { "type": "tcp", "port": $tport, "interval_s": 1, "timeout_ms": 300 } },
      "metrics": { "up": { "source": "svc", "value": "up" } },
      "availability": [ { "name": "svc-down", "unreachable": 2, "source": "svc", "cause": "unknown",
                          "alarm": { "severity": "major" } } ] }
  },
  "hosts": [
    { "name": "sw-01", "address": "127.0.2.1", "template": "switch" }
JSON
for i in $(seq 1 $n); do
	printf '    ,{ "name": "h%02d", "address": "127.0.2.%d", "template": "server", "uplink": "sw-01.port1" }\n' \
		"$i" $((10 + i))
done
echo '  ]'
echo '}'
} > "$conf"

"$VIGILD" -t -c "$conf" > "$WORK/t.out" 2>&1 || { not_ok "config valid"; cat "$WORK/t.out" >&2; exit 1; }
start_vigild -c "$conf" -v
trap 'rc=$?; tail_on_failure 80 "$WORK/vigild.log"; (exit $rc); cleanup' EXIT

all_up() { [ "$(V hosts --json 2>/dev/null | python3 -c 'import json,sys; print(sum(h["state"]=="up" for h in json.load(sys.stdin)))')" = $((n + 1)) ]; }
check "every host up before the fault" wait_until 20 all_up

# The switch and everything behind it die at once.
kill "$(cat "$WORK/agent.pid")"
kill "$lpid"
t0=$(now_ms)

A="alarms a JOIN hosts h ON h.id = a.host_id"
n_alarms() { [ "$(sqlite3 -cmd '.timeout 2000' "$db" "SELECT count(*) FROM $A WHERE a.cleared_ms IS NULL $1")" = "$2" ]; }
check "the switch's availability alarm" wait_until 30 n_alarms "AND h.name = 'sw-01' AND a.kind = 'avail'" 1
check "20 host alarms, each suppressed by the switch's" \
	wait_until 30 n_alarms "AND h.name != 'sw-01' AND a.suppressed_by = (SELECT a.id FROM $A WHERE h.name = 'sw-01' AND a.cleared_ms IS NULL)" $n
root=$(sqlite3 -cmd '.timeout 2000' "$db" "SELECT a.id FROM $A WHERE h.name = 'sw-01' AND a.cleared_ms IS NULL")
count_root() { [ "$(sqlite3 -cmd '.timeout 2000' "$db" "SELECT json_extract(details, '\$.affected_count') FROM alarms WHERE id = $root")" = "$n" ]; }
check "the root names the 20 hosts behind it" wait_until 15 count_root
# past the dependency wait, nothing else may be paged
sleep 8
triggers=$(python3 -c '
import json, sys
n = 0
for l in open(sys.argv[1]):
    b = json.loads(l).get("body") or {}
    if isinstance(b, dict) and b.get("event") == "trigger": n += 1
print(n)' "$hook/log")
check "exactly one page: the root's (got $triggers)" test "$triggers" = 1
paged=$(python3 -c '
import json, sys
for l in open(sys.argv[1]):
    b = json.loads(l).get("body") or {}
    if isinstance(b, dict) and b.get("event") == "trigger": print(b["host"], b["kind"], b["details"].get("affected_count"))' "$hook/log")
check "the page is the switch's, with the count ($paged)" test "$paged" = "sw-01 avail $n"
cause_net() { [ "$(sqlite3 -cmd '.timeout 2000' "$db" "SELECT count(*) FROM intervals i JOIN hosts h ON h.id = i.host_id WHERE i.end_ms IS NULL AND h.name LIKE 'h%' AND i.cause = 'network'")" = "$n" ]; }
check "20 open intervals with cause network" wait_until 20 cause_net
py "assert sum(1 for r in rows if r['suppressed_by']) == $n, rows" V alarms --active --json &&
	ok "vigil alarms shows the 20 suppressed alarms" || not_ok "vigil alarms shows the 20 suppressed alarms"

# Everything back.
start_snmpd "$sport" "$agent" 127.0.2.1 > "$WORK/agent.pid" || not_ok "restart snmpd"
start_listener
check "every alarm cleared" wait_until 30 n_alarms "" 0
resolved() { python3 -c '
import json, sys
n = [(json.loads(l).get("body") or {}).get("event") for l in open(sys.argv[1])]
sys.exit(0 if n.count("resolve") == 1 else 1)' "$hook/log"; }
check "one resolve, for the root" wait_until 15 resolved
check "vigild still running" kill -0 "$dpid"
stop_vigild
check "vigild stops cleanly" test $? = 0
