#!/usr/bin/env bash
# The demo as `make demo` runs it (demo/run.sh, conf/demo.json, the chaos
# loop on), for DEMO_SECONDS=45 with the build under test: the API answers
# with every host of the demo, the switch, the CRAC and the Redfish BMC
# have values, the dashboard's page loads, demo/fail takes the switch down
# (its alarm stands for the hosts behind it, whose intervals say network),
# the alarm is acknowledged through the API with the operator token the
# demo wrote, and everything stops by itself. It writes demo/run/ as make
# demo does, and uses the demo's fixed ports (16161, 15020, 8765, ...):
# with a demo already running it is skipped.
set -u
. "$TOP/test/lib.sh"

b=$(cd "$(dirname "$VIGILD")" && pwd)
api=http://127.0.0.1:8765
run=$TOP/demo/run
t0=$(date -u +%Y-%m-%dT%H:%M:%S.000Z)
(cd "$TOP" && DEMO_SECONDS=45 BUILD=$b exec bash demo/run.sh) > "$WORK/demo.out" 2> "$WORK/demo.err" &
demo=$!
register_pid "$demo"
trap 'rc=$?; tail_on_failure 60 "$WORK/demo.err"; (exit $rc); cleanup' EXIT

started() { pid_gone "$demo" || grep -q '^demo: the site is up' "$WORK/demo.err"; }
if ! wait_until 60 started; then
	not_ok "the demo is up within 60 s"
	exit 1
fi
if pid_gone "$demo"; then
	if grep -q 'is in use: is another demo running' "$WORK/demo.err"; then
		ok "demo # SKIP port in use: $(sed -n 's/^demo: \(.*\) is in use: .*/\1/p' "$WORK/demo.err")"
		exit 0
	fi
	not_ok "the demo is up (it exited)"
	exit 1
fi
ok "the demo is up, the banner printed"

token=$(sed -n 's/^demo:   token: *//p' "$WORK/demo.err")
check "the banner names the dashboard" grep -q "dashboard:  $api/" "$WORK/demo.err"
check "the tokens file is private (0600) and holds the banner's token" \
	eval '[ "$(stat -c %a "$run/api-tokens.json")" = 600 ] && [ ${#token} = 32 ] && grep -q "\"$token\"" "$run/api-tokens.json"'

# Every host of the config, in the API as in the CLI
cli_hosts=$("$VIGIL" -c "$TOP/conf/demo.json" hosts --json | python3 -c 'import json,sys; print(" ".join(h["name"] for h in json.load(sys.stdin)))')
api_hosts=$(curl -sf "$api/api/v1/hosts" | python3 -c 'import json,sys; print(" ".join(h["name"] for h in json.load(sys.stdin)))')
check "GET /api/v1/hosts: every demo host ($api_hosts)" test -n "$api_hosts" -a "$api_hosts" = "$cli_hosts"
for h in sw-01 crac-1 bm-02 bm-01 ups-1; do
	case " $api_hosts " in *" $h "*) ;; *) not_ok "the demo has $h" ;; esac
done

values() { # HOST 'python condition over v (metric: value of quality ok)'
	curl -sf "$api/api/v1/hosts/$1" | python3 -c '
import json, sys
d = json.load(sys.stdin)
v = {x["metric"]: x["value"] for x in d["values"] if x["quality"] == "ok"}
sys.exit(0 if eval(sys.argv[1]) else 1)' "$2"
}
check "sw-01: its ports up (SNMP)" \
	wait_until 20 values sw-01 'all(v.get("port%d" % p) == 1 for p in (1, 2, 3, 4))'
check "crac-1: supply 18.5 C, return 26.0 C, cooling (Modbus)" \
	wait_until 20 values crac-1 'v.get("supply_temp") == 18.5 and v.get("return_temp") == 26 and v.get("unit_mode") == 2'
check "bm-02: powered on, CPU 45 C, 180 W (Redfish over HTTPS)" \
	wait_until 20 values bm-02 'v.get("power") == 1 and v.get("cpu_temp") == 45 and v.get("watts") == 180'
check "bm-01: powered on (IPMI)" wait_until 20 values bm-01 'v.get("power") == 1'

code=$(curl -s -o "$WORK/index.html" -w '%{http_code}' "$api/")
check "GET /: the dashboard's page ($code)" eval '[ "$code" = 200 ] && grep -qi "<html" "$WORK/index.html"'

# The switch dies: its alarm stands for the hosts behind it
check "demo/fail sw-01" eval '"$TOP/demo/fail" sw-01 > "$WORK/fail.out"'
alarms() {
	curl -sf "$api/api/v1/alarms?active=1" | python3 -c '
import json, sys
rows = json.load(sys.stdin)
root = [a for a in rows if a["host"] == "sw-01" and a["kind"] == "avail"]
if len(root) != 1:
    sys.exit(1)
behind = {a["host"] for a in rows if a["kind"] == "avail" and a["suppressed_by"] == root[0]["id"]}
if behind != {"web-01", "web-02", "db-01"}:
    sys.exit(1)
print(root[0]["id"])' > "$WORK/root"
}
check "one alarm for sw-01; web-01, web-02 and db-01's suppressed by it" wait_until 30 alarms
root=$(cat "$WORK/root")
network() {
	curl -sf "$api/api/v1/intervals?open=1&from=$t0" | python3 -c '
import json, sys
rows = json.load(sys.stdin)
c = {r["host"]: r["cause"] for r in rows}
sys.exit(0 if all(c.get(h) == "network" for h in ("sw-01", "web-01", "web-02", "db-01")) else 1)'
}
check "open intervals since the start: sw-01 and the hosts behind it, cause network" wait_until 15 network

code=$(curl -s -o "$WORK/ack" -w '%{http_code}' -X POST -d '{}' "$api/api/v1/alarms/$root/ack")
check "an ack without a token: 401 ($code)" test "$code" = 401
code=$(curl -s -o "$WORK/ack" -w '%{http_code}' -X POST -H "Authorization: Bearer $token" \
	-d '{"comment": "demo test"}' "$api/api/v1/alarms/$root/ack")
check "an ack with the demo's token: 200, by demo ($code $(cat "$WORK/ack"))" \
	eval '[ "$code" = 200 ] && grep -q "\"by\":\"demo\"" "$WORK/ack"'

check "demo/fail sw-01 up" eval '"$TOP/demo/fail" sw-01 up > "$WORK/fail.out"'
state_up() { curl -sf "$api/api/v1/hosts" | python3 -c '
import json, sys
sys.exit(0 if [h["state"] for h in json.load(sys.stdin) if h["name"] == "sw-01"] == ["up"] else 1)'; }
check "sw-01 up again" wait_until 15 state_up
run_ex 1 "no device 'nope'" "$TOP/demo/fail" nope && ok "demo/fail refuses an unknown device" ||
	not_ok "demo/fail refuses an unknown device"

# DEMO_SECONDS: it stops by itself, and takes its peers with it
check "the demo stops by itself" wait_until 60 pid_gone "$demo"
wait "$demo"
check "the demo exits 0" test $? = 0
check "it printed the intervals recorded" grep -q 'sw-01 *network' "$WORK/demo.out"
check "demo/fail: no demo running" run_ex 1 "no demo running" "$TOP/demo/fail" sw-01
left=$(python3 - <<'PY'
import socket
for kind, addr, port in (("udp", "127.0.1.5", 16161), ("tcp", "127.0.1.10", 15020),
                         ("tcp", "127.0.1.21", 16443), ("tcp", "127.0.0.1", 8765)):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM if kind == "udp" else socket.SOCK_STREAM)
    try:
        s.bind((addr, port))
    except OSError:
        print("%s %s:%d" % (kind, addr, port))
    s.close()
PY
)
check "nothing left listening on the demo's ports ($left)" test -z "$left"
