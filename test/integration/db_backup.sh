#!/usr/bin/env bash
# The backup docs/operations.md prescribes: sqlite3's online ".backup"
# while vigild writes (a TCP port flapping every second, so transitions
# and alarms are committed throughout), then the copy checked whole and
# read by the CLI like the live database; and the live one unharmed.
set -u
. "$TOP/test/lib.sh"
trap 'rc=$?; tail_on_failure 30 "$WORK/vigild.log"; (exit $rc); cleanup' EXIT

tport=$(free_port tcp)
conf=$WORK/vigil.json
db=$WORK/vigil.db
cat > "$conf" <<JSON
{
  "storage": { "path": "vigil.db", "batch_ms": 50, "heartbeat_s": 1 },
  "hosts": [
    { "name": "web", "address": "127.0.0.1", "service": "vserver",
      "sources": { "t": { "type": "tcp", "port": $tport, "interval_s": 1, "timeout_ms": 200 } },
      "metrics": { "up": { "source": "t", "value": "up" } },
      "availability": [ { "name": "closed", "when": "up == 0", "cause": "network",
                          "alarm": true } ] }
  ]
}
JSON

# open for a second, closed for a second, ...: a transition every second
python3 -c '
import socket, sys, time
while True:
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", int(sys.argv[1])))
    s.listen(8)
    s.settimeout(0.1)
    end = time.time() + 1.0
    while time.time() < end:
        try:
            c, _ = s.accept()
            c.close()
        except socket.timeout:
            pass
    s.close()
    time.sleep(1.0)
' "$tport" &
register_pid $!

start_vigild -c "$conf"
n_iv() { [ "$(sqlite3 -cmd ".timeout 2000" "$db" "select count(*) from intervals" 2>/dev/null)" -ge "${1}" ] 2>/dev/null; }
wait_until 20 n_iv 3 || not_ok "intervals are being written"

for i in 1 2 3; do
	sqlite3 -cmd '.timeout 5000' "$db" ".backup '$WORK/copy$i.db'" || not_ok "backup $i"
	sleep 2.5
done
check "the daemon is still running after three backups" kill -0 "$dpid"
check "each copy is whole" \
	test "$(for i in 1 2 3; do sqlite3 "$WORK/copy$i.db" 'PRAGMA integrity_check'; done | sort -u)" = ok
n1=$(sqlite3 "$WORK/copy1.db" "select count(*) from intervals")
n3=$(sqlite3 "$WORK/copy3.db" "select count(*) from intervals")
check "later copies hold more of the record ($n1 then $n3 intervals)" test "$n3" -gt "$n1"
check "the copy has the schema version of the live database" \
	test "$(sqlite3 "$WORK/copy3.db" 'PRAGMA user_version')" = "$(sqlite3 "$db" 'PRAGMA user_version')"
check "the CLI reads the copy's intervals" \
	test "$("$VIGIL" -c "$conf" --db "$WORK/copy3.db" --json intervals --host web | grep -c '"host":"web"')" = "$n3"
check "and its SLA month" \
	grep -q '"host":"web"' <("$VIGIL" -c "$conf" --db "$WORK/copy3.db" sla --month "$(date -u +%Y-%m)" --host web --json 2>/dev/null)
check "vigild stops cleanly" stop_vigild
check "the live database is whole" test "$(sqlite3 "$db" 'PRAGMA integrity_check')" = ok
