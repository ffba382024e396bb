#!/usr/bin/env bash
# Escalation and the outbox against real receivers: two test/hookrecv.py
# instances (one for the on-call and second level, one for the site lead)
# and a private Alertmanager, all on 127.0.0.1. A TCP service goes down:
#  - step 0 pages the on-call (and Alertmanager) at once and repeats every
#    4 s until acknowledged; `vigil ack` stops the repeats and step 1;
#  - step 2 (until clear) reaches the site lead at 16 s, whose receiver is
#    down: retried with backoff, nothing lost, every attempt under the same
#    dedup key, one delivery once it is up;
#  - the service comes back: resolves to exactly the channels paged, and
#    Alertmanager shows the alert resolved.
# Then a second service goes down while the on-call's receiver is down,
# and vigild is killed with -9 before the page is delivered: after the
# restart it is delivered, under the same dedup key.
set -u
. "$TOP/test/lib.sh"

out=$(start_hookrecv "$WORK/noc") || { not_ok "start the on-call receiver"; exit 1; }
nport=${out#* }
echo down > "$WORK/lead/ctl" 2>/dev/null || { mkdir -p "$WORK/lead"; echo down > "$WORK/lead/ctl"; }
out=$(start_hookrecv "$WORK/lead") || { not_ok "start the lead's receiver"; exit 1; }
lport=${out#* }
am=0
if [ -x /usr/bin/prometheus-alertmanager ]; then
	out=$(start_alertmanager "$WORK/am") && am=1
	amport=${out#* }
fi
check "a private Alertmanager runs (make deps installs prometheus-alertmanager)" test "$am" = 1

wport=$(free_port tcp)
dport=$(free_port tcp)
listen() { # PORT: a TCP listener, its PID in $lpid
	python3 -c '
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(64)
while True:
    c, _ = s.accept()
    c.close()
' "$1" &
	lpid=$!
	register_pid "$lpid"
}
listen "$wport"; web_pid=$lpid
listen "$dport"; db_pid=$lpid
accepts() { python3 -c 'import socket,sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1).close()' "$1" 2>/dev/null; }
wait_until 10 accepts "$wport" && wait_until 10 accepts "$dport" || { not_ok "listeners up"; exit 1; }

am_channel=""
am_notify=""
if [ "$am" = 1 ]; then
	am_channel=", \"am\": { \"type\": \"alertmanager\", \"url\": \"http://127.0.0.1:$amport\" }"
	am_notify=', "am"'
fi
svc_host() { # NAME PORT
	cat <<H
{ "name": "$1", "address": "127.0.0.1",
      "sources": { "tcp": { "type": "tcp", "port": $2, "interval_s": 1, "timeout_ms": 300 } },
      "metrics": { "up": { "source": "tcp", "value": "up" } },
      "availability": [ { "name": "port-closed", "when": "up == 0", "cause": "network",
                          "alarm": { "severity": "major", "summary": "{host}: service port closed",
                                     "labels": { "team": "web" } } } ] }
H
}
conf=$WORK/vigil.json
db=$WORK/vigil.db
cat > "$conf" <<JSON
{
  "storage": { "path": "vigil.db", "batch_ms": 100, "heartbeat_s": 1 },
  "alarms": { "dependency_wait_s": 0, "retry_max_s": 4 },
  "channels": {
    "oncall": { "type": "webhook", "url": "http://127.0.0.1:$nport/oncall", "timeout_s": 3 },
    "secondary": { "type": "webhook", "url": "http://127.0.0.1:$nport/secondary", "timeout_s": 3 },
    "lead": { "type": "webhook", "url": "http://127.0.0.1:$lport/lead", "timeout_s": 3 }
    $am_channel
  },
  "escalation": [ { "name": "pager", "match": { "severity": ["critical", "major"] }, "steps": [
      { "after_s": 0, "notify": ["oncall"$am_notify], "repeat_s": 4, "until": "ack" },
      { "after_s": 12, "notify": ["secondary"], "until": "ack" },
      { "after_s": 16, "notify": ["lead"], "until": "clear" } ] } ],
  "hosts": [
    $(svc_host web "$wport"),
    $(svc_host db "$dport")
  ]
}
JSON
"$VIGILD" -t -c "$conf" > "$WORK/t.out" 2>&1
check "the config with channels and a policy is valid" test $? = 0
tail_on_failure 20 "$WORK/t.out"
start_vigild -c "$conf" -v
trap 'rc=$?; tail_on_failure 60 "$WORK/vigild.log"; (exit $rc); cleanup' EXIT
both_up() { state_is web up && state_is db up; }
check "both services up" wait_until 20 both_up

# posts FILE PATH EVENT [STATUS]: "dedup_key status ts" per request
posts() {
	python3 - "$@" <<'PY'
import json, sys
f, path, ev = sys.argv[1:4]
st = sys.argv[4] if len(sys.argv) > 4 else None
try:
    lines = open(f).read().splitlines()
except FileNotFoundError:
    lines = []
for l in lines:
    r = json.loads(l)
    b = r.get("body") or {}
    if r["path"] != path or not isinstance(b, dict) or b.get("event") != ev:
        continue
    if st is not None and str(r["status"]) != st:
        continue
    print(b.get("dedup_key"), r["status"], r["ts"])
PY
}
count() { posts "$@" | wc -l; }

kill "$web_pid"
wait "$web_pid" 2>/dev/null
aid() { sqlite3 -cmd '.timeout 2000' "$db" "SELECT a.id FROM alarms a JOIN hosts h ON h.id = a.host_id WHERE h.name = '$1' AND a.cleared_ms IS NULL"; }
raised() { [ -n "$(aid web)" ]; }
check "web's availability alarm is raised" wait_until 15 raised
id=$(aid web)
raised_ms=$(sqlite3 "$db" "SELECT raised_ms FROM alarms WHERE id = $id")
paged() { [ "$(count "$WORK/noc/log" /oncall trigger 200)" -ge "$1" ]; }
check "the on-call is paged" wait_until 10 paged 1
check "the first page carries vigil:$id:0:0" \
	test "$(posts "$WORK/noc/log" /oncall trigger | head -n 1 | cut -d' ' -f1)" = "vigil:$id:0:0"
check "step 0 repeats while unacknowledged" wait_until 10 paged 2
V ack "$id" --by alice --comment "looking" > "$WORK/ack.out" 2>&1
check "vigil ack" test $? = 0
tail_on_failure 5 "$WORK/ack.out"
second=$(posts "$WORK/noc/log" /oncall trigger | sed -n 2p)
check "the repeat is vigil:$id:0:1, about 4 s after the raise" python3 -c '
import sys
key, st, ts = sys.argv[1].split()
d = float(ts) * 1000 - int(sys.argv[3])
sys.exit(0 if key == sys.argv[2] and 2500 <= d <= 8000 else 1)' "$second" "vigil:$id:0:1" "$raised_ms"

lead_any() { [ "$(count "$WORK/lead/log" /lead trigger)" -ge 3 ]; }
check "step 2 reaches the lead's receiver (down: retried)" wait_until 40 lead_any
first_lead=$(posts "$WORK/lead/log" /lead trigger | head -n 1)
check "step 2 fires about 16 s after the raise, acknowledged or not" python3 -c '
import sys
key, st, ts = sys.argv[1].split()
d = float(ts) * 1000 - int(sys.argv[2])
sys.exit(0 if 15000 <= d <= 22000 else 1)' "$first_lead" "$raised_ms"
echo up > "$WORK/lead/ctl"
lead_ok() { [ "$(count "$WORK/lead/log" /lead trigger 200)" = 1 ]; }
check "delivered once the lead's receiver is up" wait_until 20 lead_ok
check "every attempt carried the same dedup key vigil:$id:2:0" \
	test "$(posts "$WORK/lead/log" /lead trigger | cut -d' ' -f1 | sort -u)" = "vigil:$id:2:0"
sleep 5
check "the ack stopped the repeats: 2 on-call pages, nothing after" \
	test "$(count "$WORK/noc/log" /oncall trigger)" = 2
check "the ack stopped step 1: the second level was never paged" \
	test "$(count "$WORK/noc/log" /secondary trigger)" = 0
check "the lead got one page" test "$(count "$WORK/lead/log" /lead trigger 200)" = 1
if [ "$am" = 1 ]; then
	am_alert() { # STATE: the web alarm's alert in Alertmanager's API, in that state
		python3 - "$amport" "$id" "$1" <<'PY'
import json, sys, urllib.request
port, aid, want = sys.argv[1:4]
alerts = json.load(urllib.request.urlopen("http://127.0.0.1:%s/api/v2/alerts" % port, timeout=2))
mine = [a for a in alerts if a["labels"].get("vigil_alarm") == aid and a["labels"].get("host") == "web"]
if want == "active":
    sys.exit(0 if mine and mine[0]["status"]["state"] == "active" else 1)
sys.exit(0 if not mine or mine[0]["status"]["state"] != "active" else 1)
PY
	}
	check "Alertmanager shows the alert, active" wait_until 10 am_alert active
fi

# web comes back
listen "$wport"; web_pid=$lpid
cleared() { [ -z "$(aid web)" ]; }
check "the alarm clears when the service is back" wait_until 15 cleared
resolved() { [ "$(count "$WORK/noc/log" /oncall resolve 200)" = 1 ] &&
	     [ "$(count "$WORK/lead/log" /lead resolve 200)" = 1 ]; }
check "resolves to the on-call and the lead" wait_until 15 resolved
check "the resolve's key is vigil:$id:resolve" \
	test "$(posts "$WORK/noc/log" /oncall resolve | cut -d' ' -f1)" = "vigil:$id:resolve"
check "no resolve to the second level, never paged" \
	test "$(count "$WORK/noc/log" /secondary resolve)" = 0
[ "$am" = 1 ] && check "Alertmanager shows it resolved" wait_until 15 am_alert resolved
check "the alarm log has raised, acknowledged (by alice), escalated, cleared" python3 -c '
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
rows = db.execute("SELECT action, by FROM alarm_log WHERE alarm_id = ? ORDER BY id", (int(sys.argv[2]),)).fetchall()
acts = [a for a, _ in rows]
ok = acts[0] == "raised" and ("acknowledged", "alice") in rows and "escalated" in acts and acts[-1] == "cleared"
sys.exit(0 if ok else 1)' "$db" "$id"

# kill -9 between the raise and the delivery
echo down > "$WORK/noc/ctl"
kill "$db_pid"
wait "$db_pid" 2>/dev/null
dbr() { [ -n "$(aid db)" ]; }
check "db's alarm is raised" wait_until 15 dbr
id2=$(aid db)
tried() { [ "$(count "$WORK/noc/log" /oncall trigger 503)" -ge 3 ]; }
check "its page fails while the on-call's receiver is down" wait_until 15 tried
kill -9 "$dpid"
wait "$dpid" 2>/dev/null
check "owed in the outbox after kill -9" \
	test "$(sqlite3 "$db" "SELECT count(*) FROM outbox WHERE alarm_id = $id2 AND channel = 'oncall' AND step = 0 AND repeat = 0 AND delivered_ms IS NULL")" = 1
echo up > "$WORK/noc/ctl"
start_vigild -c "$conf" -v
del2() { [ "$(posts "$WORK/noc/log" /oncall trigger 200 | grep -c "^vigil:$id2:0:0 ")" = 1 ]; }
check "delivered after the restart, under the same key vigil:$id2:0:0" wait_until 20 del2
check "each of its keys delivered once: no duplicate" \
	test -z "$(posts "$WORK/noc/log" /oncall trigger 200 | awk -v k="vigil:$id2:" 'index($1, k) == 1 { print $1 }' | sort | uniq -d)"
check "the outbox has nothing owed for it" \
	test "$(sqlite3 -cmd '.timeout 2000' "$db" "SELECT count(*) FROM outbox WHERE alarm_id = $id2 AND delivered_ms IS NULL AND event = 'trigger' AND step = 0 AND repeat = 0")" = 0
py "assert any(r['id'] == $id2 and r['state'] == 'raised' for r in rows), rows" V alarms --active --json &&
	ok "vigil alarms --active lists db's alarm after the restart" ||
	not_ok "vigil alarms --active lists db's alarm after the restart"
stop_vigild
check "vigild stops cleanly" test $? = 0
