#!/usr/bin/env bash
# SLA budget alarms during an outage (docs/alarms.md "SLA budget alarms"):
# a host under a policy committing 99.9999 % (an allowance of a few
# seconds a month) goes down; the built-in rule sla-allowance-80 fires at
# the first poll at or past 80 % of the month's allowance, computed here
# by hand from the month's length, and sla-next-band at once (the next
# credit band is well within 10 minutes of downtime). Both clear when the
# host is back. A TCP port on 127.0.0.1.
set -u
. "$TOP/test/lib.sh"

port=$(free_port tcp)
listen() {
	python3 -c '
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(64)
while True:
    c, _ = s.accept()
    c.close()
' "$port" &
	lpid=$!
	register_pid "$lpid"
}
listen
accepts() { python3 -c 'import socket,sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1).close()' "$port" 2>/dev/null; }
wait_until 10 accepts || { not_ok "listener up"; exit 1; }
conf=$WORK/vigil.json
db=$WORK/vigil.db
cat > "$conf" <<JSON
{
  "storage": { "path": "vigil.db", "batch_ms": 50, "heartbeat_s": 1 },
  "policies": { "tiny": { "commitment": "99.9999", "tz": "UTC", "bands": [
      { "from": "99.999", "to": "99.9999", "credit": 10 }, { "from": 0, "to": "99.999", "credit": 50 } ] } },
  "hosts": [
    { "name": "web", "address": "127.0.0.1", "service": "tiny",
      "sources": { "tcp": { "type": "tcp", "port": $port, "interval_s": 1, "timeout_ms": 300 } },
      "metrics": { "up": { "source": "tcp", "value": "up" } },
      "availability": [ { "name": "port-closed", "when": "up == 0", "cause": "network" } ] }
  ]
}
JSON
"$VIGILD" -t -c "$conf" > "$WORK/t.out" 2>&1
check "config valid" test $? = 0
tail_on_failure 10 "$WORK/t.out"
start_vigild -c "$conf" -v
trap 'rc=$?; tail_on_failure 40 "$WORK/vigild.log"; (exit $rc); cleanup' EXIT
check "web up" wait_until 15 state_is web up
sleep 2
q() { sqlite3 -cmd '.timeout 2000' "$db" "$1"; }
check "no budget alarm while up" test "$(q "SELECT count(*) FROM alarms")" = 0

kill "$lpid"
wait "$lpid" 2>/dev/null
both() { [ "$(q "SELECT count(*) FROM alarms WHERE kind = 'sla' AND cleared_ms IS NULL")" = 2 ]; }
check "both budget alarms raised during the outage" wait_until 20 both
start=$(q "SELECT start_ms FROM intervals WHERE end_ms IS NULL")
# downtime the month holds already (none, unless the host flapped)
before=$(q "SELECT coalesce(sum(end_ms - start_ms), 0) FROM intervals WHERE end_ms IS NOT NULL")
a80=$(q "SELECT raised_ms FROM alarms WHERE rule = 'sla-allowance-80'")
nb=$(q "SELECT raised_ms FROM alarms WHERE rule = 'sla-next-band'")
# By hand: the month holding the outage, its allowance (1e-6 of it, whole
# ms, as vigil sla prints it) and the least downtime leaving at most 20 %.
mark=$(python3 -c '
import calendar, datetime, sys
t = datetime.datetime.fromtimestamp(int(sys.argv[1]) / 1000, datetime.timezone.utc)
period = calendar.monthrange(t.year, t.month)[1] * 86400000
allowance = period // 1000000
mark = -(-allowance * 8 // 10)      # downtime >= 0.8 allowance
print(allowance, mark)' "$start")
allowance=${mark% *}
mark=$(( ${mark#* } - before ))
echo "# month allowance $allowance ms, 80 % mark at $mark ms into this outage ($before ms before it); raised after $((a80 - start)) ms" >&2
py "assert rows[0]['allowance_ms'] == $allowance, rows[0]" V sla --month "$(date -u -d @$((start / 1000)) +%Y-%m)" --json &&
	ok "vigil sla gives the same allowance ($allowance ms)" || not_ok "vigil sla gives the same allowance"
check "sla-allowance-80 at the first poll past the mark (1 s polls)" \
	test $((a80 - start)) -ge "$mark" -a $((a80 - start)) -le $((mark + 1300))
check "not before the mark: one poll earlier was under it" test $((a80 - start - 1000)) -lt "$mark"
check "sla-next-band while down, before the 80 % one" test "$nb" -le "$a80" -a "$nb" -ge "$start"
check "their severities: major and critical" \
	test "$(q "SELECT group_concat(rule || '=' || severity, ',') FROM (SELECT * FROM alarms ORDER BY rule)")" = \
	"sla-allowance-80=major,sla-next-band=critical"

listen
cleared() { [ "$(q "SELECT count(*) FROM alarms WHERE cleared_ms IS NULL")" = 0 ]; }
check "both clear when the host is back (unavailable() is 0)" wait_until 15 cleared
stop_vigild
check "vigild stops cleanly" test $? = 0
