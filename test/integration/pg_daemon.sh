#!/usr/bin/env bash
# vigild writing PostgreSQL (docs/scale-out.md) with a real snmpd agent:
# intervals open and close, an alarm is raised, paged to a webhook through
# the outbox and cleared, the API answers from PostgreSQL as the CLI does, the connection killed under it is re-made
# with nothing lost, a second vigild on the same database is refused
# naming the first, a restart keeps the open interval and records the gap,
# and a daemon paused (SIGSTOP) while its session was killed and another
# took the database over writes nothing once it runs again (SIGCONT).
set -u
. "$TOP/test/lib.sh"
need_postgres

p1=$(free_port udp)
start_snmpd "$p1" "$WORK/a1" 127.0.0.1 > "$WORK/a1.pid" || { not_ok "start snmpd"; exit 1; }
a1pid=$(cat "$WORK/a1.pid")
out=$(start_hookrecv "$WORK/hook") || { not_ok "start the webhook receiver"; exit 1; }
hport=$(cat "$WORK/hook/port")
aport=$(free_port tcp)
conf=$WORK/vigil.json
cat > "$conf" <<JSON
{
  "storage": { "url": "$pg_url", "batch_ms": 100, "heartbeat_s": 1 },
  "alarms": { "dependency_wait_s": 0 },
  "api": { "listen": "127.0.0.1:$aport" },
  "channels": { "noc": { "type": "webhook", "url": "http://127.0.0.1:$hport/noc", "timeout_s": 3 } },
  "escalation": [ { "name": "page", "steps": [ { "after_s": 0, "notify": ["noc"] } ] } ],
  "hosts": [
    { "name": "h1", "address": "127.0.0.1", "site": "t", "service": "vserver", "customer": "acme",
      "snmp": { "version": "2c", "community": "public", "port": $p1, "interval_s": 1,
                "timeout_ms": 200, "retries": 0 },
      "metrics": {
        "link": { "oid": ".1.3.6.1.4.1.99999.3.0", "enum": { "up": 1, "down": 2 } }
      },
      "availability": [
        { "name": "unreachable", "unreachable": 2, "cause": "network" },
        { "name": "link-down", "when": "link == down", "cause": "hardware",
          "alarm": { "severity": "major", "summary": "{host}: link down" } }
      ] }
  ]
}
JSON
chmod 600 "$conf"
check "vigild -t accepts storage.url" "$VIGILD" -t -c "$conf"
start_vigild -c "$conf" -v
a=$dpid
check "h1 comes up" wait_until 15 state_is h1 up
kill "$a1pid"
check "h1 goes down when its agent stops" wait_until 10 state_is h1 down
check "one open network interval" eval '[ "$(n_intervals h1 --open)" = 1 ]'
start_snmpd "$p1" "$WORK/a1" 127.0.0.1 > "$WORK/a1.pid" || not_ok "restart snmpd"
check "h1 comes back" wait_until 10 state_is h1 up
check "the interval is closed, one in all" eval '[ "$(n_intervals h1 --open)" = 0 ] && [ "$(n_intervals h1)" = 1 ]'

# The server ends vigild's session; the next write reconnects, prepares
# its statements again and retries the batch.
kill_sessions() { q -c "select count(pg_terminate_backend(pid)) from pg_stat_activity
	where backend_type = 'client backend' and pid <> pg_backend_pid() and usename = 'vigil'" > /dev/null; }
kill_sessions
set_snmp_value "$WORK/a1" 3.0 "integer 2"
check "after its session was killed: h1 down on link == down" wait_until 10 state_is h1 down
check "that transition was stored: a hardware interval open" \
	eval '[ "$(q -c "select cause from intervals where end_ms is null")" = hardware ]'
check "the retry was logged" grep -q "terminating connection due to administrator command" "$WORK/vigild.log"
posted() { # EVENT: the receiver got it, answered 2xx
	python3 - "$WORK/hook/log" "$1" <<'PY'
import json, sys
ok = [json.loads(l) for l in open(sys.argv[1]).read().splitlines()]
ok = [r for r in ok if isinstance(r.get("body"), dict) and r["body"].get("event") == sys.argv[2]
      and str(r.get("status", "")).startswith("2")]
sys.exit(0 if ok else 1)
PY
}
active() { q -c "select count(*) from alarms where cleared_ms is null"; }
check "the link-down alarm is raised in PostgreSQL" wait_until 10 eval '[ "$(active)" = 1 ]'
check "and paged: the webhook got its trigger" wait_until 15 posted trigger
check "the outbox row is delivered" \
	wait_until 10 eval '[ "$(q -c "select count(*) from outbox where delivered_ms is not null")" = 1 ]'
# The API reads PostgreSQL through its own connections, off the loop.
api_same() { # PATH CLI-ARGS...: the API's JSON is the CLI's
	local path=$1
	shift
	curl -sf "http://127.0.0.1:$aport/api/v1/$path" > "$WORK/api.json" &&
	V --json "$@" > "$WORK/cli.json" &&
	python3 -c 'import json, sys; a, c = (json.load(open(f)) for f in sys.argv[1:]); sys.exit(a != c or not a)' \
		"$WORK/api.json" "$WORK/cli.json"
}
check "GET /api/v1/intervals?host=h1 equals vigil intervals --json" api_same "intervals?host=h1" intervals --host h1
check "GET /api/v1/alarms?active=1 equals vigil alarms --active --json" api_same "alarms?active=1" alarms --active

"$VIGILD" -c "$conf" -v > "$WORK/second.log" 2>&1
rc=$?
check "a second vigild on the same database exits 1 ($rc)" [ "$rc" = 1 ]
check "... naming the first (pid $a)" \
	grep -q "another vigild writes this database (its run: pid $a," "$WORK/second.log"
check "the first runs on" kill -0 "$a"

stop_vigild
check "SIGTERM stops vigild with status 0" [ $? = 0 ]
sleep 2
start_vigild -c "$conf" -v
a=$dpid
check "restarted, h1 is still down" wait_until 10 state_is h1 down
check "the same interval is open" eval '[ "$(n_intervals h1 --open)" = 1 ] && [ "$(n_intervals h1)" = 2 ]'
unobs=$(q -c "select unobserved_ms from intervals where end_ms is null")
check "the restart gap is unobserved time (${unobs} ms)" [ "${unobs:-0}" -ge 1500 ]

# Fencing: A paused, its session killed, B takes the database; A resumed
# reconnects, finds the writer lock taken and writes nothing more.
check "A has a run row" wait_until 5 eval '[ -n "$(q -c "select id from runs where pid = $a")" ]'
kill -STOP "$a"
kill_sessions
# B beside A on this machine: its own API port (A still holds its own)
sed "s/127.0.0.1:$aport/127.0.0.1:$(free_port tcp)/" "$conf" > "$WORK/b.json"
chmod 600 "$WORK/b.json"
start_vigild -c "$WORK/b.json" -v
b=$dpid
check "B takes the database while A is paused" \
	wait_until 10 eval '[ -n "$(q -c "select id from runs where pid = $b")" ]'
kill -CONT "$a"
hb() { q -c "select heartbeat_ms from runs where pid = $1"; }
check "A logs that it writes nothing more" \
	wait_until 10 grep -q "writing nothing more" "$WORK/vigild.log"
ha=$(hb "$a") hbb=$(hb "$b")
sleep 3
check "A's heartbeat stands still ($ha), B's goes on ($hbb -> $(hb "$b"))" \
	eval '[ "$(hb "$a")" = "$ha" ] && [ "$(hb "$b")" -gt "$hbb" ]'
set_snmp_value "$WORK/a1" 3.0 "integer 1"
check "B records h1's recovery" wait_until 10 state_is h1 up
check "B clears the alarm A raised (restored from PostgreSQL)" wait_until 10 eval '[ "$(active)" = 0 ]'
check "and pages its resolve" wait_until 15 posted resolve
check "one interval closed by it, none twice" \
	eval '[ "$(q -c "select count(*) from intervals where end_ms is null")" = 0 ] &&
	      [ "$(q -c "select count(*) from intervals")" = 2 ]'
kill -TERM "$a" "$b"
wait "$a" 2>/dev/null
wait "$b"
check "B stops with status 0" [ $? = 0 ]
[ "$_vgl_failed" = 0 ] || { echo "--- vigild.log (tail)" >&2; tail -n 60 "$WORK/vigild.log" >&2; }
[ "$_vgl_failed" = 0 ]
