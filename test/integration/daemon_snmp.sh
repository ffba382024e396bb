#!/usr/bin/env bash
# vigild against real snmpd agents on loopback: an agent stopped and
# restarted, a served value changed, v3 authPriv with a right and a wrong
# key, SIGHUP with a valid and an invalid config, SIGTERM and a restart with
# an interval still open. Everything is checked through `vigil --json` (and
# sqlite3 for per-poll quality).
set -u
. "$TOP/test/lib.sh"

INTERVAL_MS=1000

p1=$(free_port udp)
start_snmpd "$p1" "$WORK/a1" 127.0.0.1 > /dev/null || { not_ok "start snmpd 1"; exit 1; }
p2=$(free_port udp)
start_snmpd "$p2" "$WORK/a2" 127.0.0.1 > "$WORK/a2.pid" || { not_ok "start snmpd 2"; exit 1; }
a2pid=$(cat "$WORK/a2.pid")

conf=$WORK/vigil.json
write_conf() { # $1 = extra host line (or empty)
	cat > "$conf" <<EOF
{
  // integration test site
  "storage": { "path": "vigil.db", "batch_ms": 100, "heartbeat_s": 1 },
  "templates": {
    "srv": {
      "snmp": { "version": "2c", "community": "public", "interval_s": 1,
                "timeout_ms": 200, "retries": 0 },
      "metrics": {
        "temp": ".1.3.6.1.4.1.99999.1.0",
        "link": { "oid": ".1.3.6.1.4.1.99999.3.0", "enum": { "up": 1, "down": 2 } }
      },
      "availability": [
        { "name": "unreachable", "unreachable": 2, "cause": "network" },
        { "name": "link-down", "when": "link == down", "cause": "hardware" }
      ]
    }
  },
  "hosts": [
    { "name": "h1", "address": "127.0.0.1", "template": "srv", "snmp": { "port": $p1 },
      "site": "t", "service": "vserver", "customer": "acme" },
    { "name": "h2", "address": "127.0.0.1", "template": "srv", "snmp": { "port": $p2 } },
    { "name": "v3ok", "address": "127.0.0.1", "template": "srv",
      "snmp": { "port": $p1, "version": "3", "user": "vigilv3",
                "auth_protocol": "SHA", "auth_key": "vigil-auth-pass",
                "priv_protocol": "AES", "priv_key": "vigil-priv-pass" } },
    { "name": "v3bad", "address": "127.0.0.1", "template": "srv",
      "snmp": { "port": $p2, "version": "3", "user": "vigilv3",
                "auth_protocol": "SHA", "auth_key": "wrong-auth-pass",
                "priv_protocol": "AES", "priv_key": "vigil-priv-pass" },
      "availability": [] }
    $1
  ]
}
EOF
}
write_conf ""

"$VIGILD" -t -c "$conf" > "$WORK/t.out" 2>&1
check "vigild -t accepts the test config" [ $? = 0 ]

start_vigild -c "$conf" -v

quality_of() {
	sqlite3 -cmd ".timeout 2000" "$WORK/vigil.db" "SELECT last_quality FROM hosts WHERE name='$1'" | tail -n 1
}

check "h1 comes up" wait_until 10 state_is h1 up
check "h2 comes up" wait_until 10 state_is h2 up
check "v3 authPriv host polls ok" wait_until 10 state_is v3ok up
check "v3 wrong key gives the auth quality" wait_until 10 eval '[ "$(quality_of v3bad)" = auth ]'
check "daemon alive after auth errors" kill -0 "$dpid"

# --- a: the agent of h2 stops, then comes back --------------------------
t0=$(now_ms)
kill "$a2pid"
check "h2 goes down when its agent stops" wait_until 10 state_is h2 down
sleep 1
t1=$(now_ms)
start_snmpd "$p2" "$WORK/a2" 127.0.0.1 > "$WORK/a2.pid" || not_ok "restart snmpd 2"
# The agent is back when it answers, which start_snmpd waits for.
t1_answering=$(now_ms)
check "h2 comes back" wait_until 10 state_is h2 up
sleep 0.5

# Exactly one interval, closed, cause network, start and end within one
# poll interval of the injected changes (100 ms slack for this script's own
# clock reading around kill/start).
check_one_interval() { # host cause t_fail t_recover [t_recover_latest]
	V intervals --json --host "$1" | python3 -c '
import json, sys, datetime
rows = json.load(sys.stdin)
cause, tf, tr, iv, trl = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
def ms(s):
    return int(datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%fZ").replace(
        tzinfo=datetime.timezone.utc).timestamp() * 1000 + 0.5)
if len(rows) != 1:
    sys.exit("expected 1 interval, got %d: %s" % (len(rows), rows))
r = rows[0]
if r["end"] is None: sys.exit("interval still open")
if r["cause"] != cause: sys.exit("cause %s != %s" % (r["cause"], cause))
ds, de = ms(r["start"]) - tf, ms(r["end"]) - tr
print("start %+d ms, end %+d ms after the injected changes" % (ds, de), file=sys.stderr)
if not (-100 <= ds <= iv + 100): sys.exit("start off by %d ms" % ds)
if not (-100 <= de <= (trl - tr) + iv + 100): sys.exit("end off by %d ms" % de)
if not r["evidence"]: sys.exit("no evidence")
' "$2" "$3" "$4" "$INTERVAL_MS" "${5:-$4}"
}
check "agent stop/restart gives one closed network interval within one poll" \
	check_one_interval h2 network "$t0" "$t1" "$t1_answering"

# --- b: a served value changes ------------------------------------------
t2=$(now_ms)
set_snmp_value "$WORK/a1" 3.0 "integer 2"
check "h1 goes down when link == down" wait_until 10 state_is h1 down

# A valid reload while the interval is open keeps it open.
write_conf ', { "name": "h3", "address": "127.0.0.1", "template": "srv", "snmp": { "port": '"$p1"' } }'
kill -HUP "$dpid"
check "reload adds h3 (polled, link down like h1)" wait_until 10 state_is h3 down
check "h1 interval still open after reload" [ "$(n_intervals h1 --open)" = 1 ]

# An invalid reload is rejected and the old config keeps running.
cp "$conf" "$WORK/good.json"
echo '{ "hosts": [ { "name": 7 } ] }' > "$conf"
kill -HUP "$dpid"
check "invalid reload logged with file:line:col" \
	wait_until 5 grep -qE 'vigil.json:[0-9]+:[0-9]+: ' "$WORK/vigild.log"
check "daemon survives an invalid reload" kill -0 "$dpid"
cp "$WORK/good.json" "$conf"

t3=$(now_ms)
set_snmp_value "$WORK/a1" 3.0 "integer 1"
check "h1 comes back when link == up" wait_until 10 state_is h1 up
sleep 0.5
check "value change gives one closed hardware interval within one poll" \
	check_one_interval h1 hardware "$t2" "$t3"

# --- restart with an open interval --------------------------------------
set_snmp_value "$WORK/a1" 3.0 "integer 2"
check "h1 down again" wait_until 10 state_is h1 down
stop_vigild
check "SIGTERM stops vigild with status 0" [ $? = 0 ]
check "open interval survives SIGTERM" [ "$(n_intervals h1 --open)" = 1 ]
sleep 2
start_vigild -c "$conf" -v
check "restarted daemon keeps h1 down" wait_until 5 state_is h1 down
set_snmp_value "$WORK/a1" 3.0 "integer 1"
check "h1 recovers after restart" wait_until 10 state_is h1 up
check "the interval across the restart is one interval" [ "$(n_intervals h1)" = 2 ]
unobs=$(sqlite3 -cmd ".timeout 2000" "$WORK/vigil.db" "SELECT unobserved_ms FROM intervals WHERE host_id=(SELECT id FROM hosts WHERE name='h1') ORDER BY id DESC LIMIT 1" | tail -n 1)
check "the restart gap is recorded as unobserved (${unobs} ms)" [ "${unobs:-0}" -ge 1500 ]
# Every transition the writer logged as committed reached the loop after
# its COMMIT, once: the loop's lines name the same intervals, in order.
loop_saw_commits() { python3 - "$WORK/vigild.log" <<'EOF'
import re, sys
log = open(sys.argv[1]).read().splitlines()
W = re.compile(r"interval (\d+) (opened|closed) \(.*\): committed$")
L = re.compile(r"loop: committed #\d+: host \S+ interval (\d+) (opened|closed)")
runs, cur = [], None
for l in log:
    if "starting:" in l:
        cur = {"writer": [], "late": [], "loop": [], "stopping": False}
        runs.append(cur)
    elif cur is None:
        continue
    elif "stopping:" in l:
        cur["stopping"] = True
    elif (m := W.search(l)):
        # what the last flush at a stop commits is logged, not handed over
        cur["late" if cur["stopping"] else "writer"].append(m.groups())
    elif (m := L.search(l)):
        # the loop's line for a transition comes after the writer's
        assert m.groups() in cur["writer"], ("loop before writer", m.groups())
        cur["loop"].append(m.groups())
total = 0
for r in runs:
    assert r["loop"] == r["writer"], r
    total += len(r["loop"])
assert total > 0, runs
EOF
}
check "committed transitions reached the loop once each, after their commit" loop_saw_commits
check "no error lines from vigild" eval '! grep -E "^<3>" "$WORK/vigild.log" | grep -v "reload\|vigil.json:" | grep -q .'
stop_vigild
check "second SIGTERM stops cleanly" [ $? = 0 ]
[ "$_vgl_failed" = 0 ] || { echo "--- vigild.log (tail)" >&2; tail -n 80 "$WORK/vigild.log" >&2; }
