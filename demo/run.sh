#!/usr/bin/env bash
# make demo: vigild on a simulated local site (conf/demo.json).
#   - one private snmpd per device on 127.0.1.1-4, udp port 16161
#   - a UPS and two PDUs over Modbus/TCP: test/peers/mbsim on
#     127.0.1.10-12 port 15020 (profiles conf/profiles/*.json)
#   - a chaos loop: web-02's uplink goes down for 30 s every 2 minutes,
#     db-01's agent disappears for 25 s every 2 minutes (offset by 1 min),
#     and PDU A's outlets 2 and 3 go off for 15 s (web-02 down with cause
#     power; db-01, fed by PDU B too, only degraded), and bm-01's CPU
#     overheats (critical), its BMC logs a processor IERR and the chassis
#     powers off for 20 s: one interval, attributed to hardware
#   - bm-01's BMC: OpenIPMI's ipmi_sim on udp 127.0.1.20:16623
#   - alarms: each outage raises one, paged to two webhook channels served
#     by demo/hookrecv.py on 127.0.0.1:16180, which prints every
#     notification (event, host, severity, summary, dedup key); web-01's
#     CPU temperature hovers around the cpu-hot rule's threshold (one
#     alarm, thanks to its clear condition), and db-01's alarm is
#     acknowledged (vigil ack) before its second escalation step
#   - vigild in the foreground, writing demo/run/vigil.db
# Stop with Ctrl-C (or DEMO_SECONDS=N to stop by itself). Watch from another
# terminal:  build/vigil -c conf/demo.json hosts
#            build/vigil -c conf/demo.json intervals
set -u
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$top"
TOP=$top
. test/lib.sh
run=$top/demo/run
# the binaries: make's $(BUILD) (make demo passes it), else build/
b=${BUILD:-build}
mkdir -p "$run"
port=16161
names=(web-01 web-02 db-01 lb-01)

for i in 0 1 2 3; do
	addr=127.0.1.$((i + 1))
	dir=$run/agents/${names[$i]}
	mkdir -p "$dir"
	if ! start_snmpd "$port" "$dir" "$addr" > "$dir.pid" 2> "$run/agent-$i.err"; then
		echo "demo: cannot start the simulated agent on $addr:$port:" >&2
		cat "$run/agent-$i.err" >&2
		echo "(is another demo running? udp port $port must be free)" >&2
		exit 1
	fi
	set_snmp_value "$dir" 1.0 "gauge $((40 + i * 5))"
	set_snmp_value "$dir" 3.0 "integer 1"
done

# The plant. Endpoint 0 is the UPS (input registers), 1 and 2 the PDUs
# (holding registers): values as the profiles read them.
mbsim=$b/test/mbsim
"$mbsim" --regs 200 --ctl "$run/plant.ctl" --ready "$run/plant.ready" \
	127.0.1.10-127.0.1.12:15020 > "$run/plant.log" 2>&1 &
register_pid $!
if ! wait_until 10 test -s "$run/plant.ready"; then
	echo "demo: cannot start the simulated UPS and PDUs (tcp port 15020 on 127.0.1.10-12):" >&2
	cat "$run/plant.log" >&2
	exit 1
fi
plant() { echo "$*" > "$run/plant.ctl"; }

# The bare-metal server's BMC, from a clean state each run.
rm -rf "$run/bmc"
if ! bmc_pid=$(test/peers/ipmi/start-ipmi-sim.sh 16623 "$run/bmc" 127.0.1.20 2> "$run/bmc.err"); then
	echo "demo: cannot start the simulated BMC (ipmi_sim, udp 127.0.1.20:16623):" >&2
	cat "$run/bmc.err" >&2
	exit 1
fi
register_pid "$bmc_pid"
bmc() { test/peers/ipmi/ipmi-sim-cmd.sh 127.0.1.20:17623 "$@" > /dev/null; }
# UPS: 230.0 V in and out, 50.0 Hz, 35 % load, 100 % charge, 42 min, 25.0 C,
# online, output on, no alarm, 3.5 kW (float32 CDAB), 12345.6 kWh
plant "set 0 1 ir 0 2300 2300 500 35 100 42 250 2 1 0 0x0000 0x4060 0 123456"
# PDUs: 230.1 V, 4.20 A, 966 W, outlets 1-8 on, 0.5 A and 115 W each
for e in 1 2; do
	plant "set $e 1 hr 0 2301 420 966 0x00ff 50 50 50 50 50 50 50 50 115 115 115 115 115 115 115 115"
done

# The notification receiver the channels of conf/demo.json post to.
rm -f "$run/notifications.log"
python3 demo/hookrecv.py --addr 127.0.0.1 --port 16180 --log "$run/notifications.log" &
register_pid $!
if ! wait_until 10 bash -c 'exec 3<> /dev/tcp/127.0.0.1/16180' 2> /dev/null; then
	echo "demo: cannot start the notification receiver on 127.0.0.1:16180" >&2
	echo "(is another demo running? tcp port 16180 must be free)" >&2
	exit 1
fi

V() { "$b/vigil" -c conf/demo.json "$@"; }
ack_db01() {
	local id
	id=$(V alarms --active --host db-01 --json 2> /dev/null | python3 -c '
import json, sys
rows = [r for r in json.load(sys.stdin) if r["state"] == "raised"]
print(rows[0]["id"] if rows else "")')
	[ -n "$id" ] && V ack "$id" --by demo --comment "the demo took it" >&2
}

chaos() {
	local t=0 db=$run/agents/db-01 w1=$run/agents/web-01
	while sleep 5; do
		t=$((t + 5))
		case $((t % 120)) in
		5) echo "demo: web-01 CPU 75 C" >&2
		    set_snmp_value "$w1" 1.0 "gauge 75" ;;
		25) echo "demo: web-01 CPU 68 C (between clear and raise: cpu-hot stays raised)" >&2
		    set_snmp_value "$w1" 1.0 "gauge 68" ;;
		30) echo "demo: web-02 uplink down" >&2
		    set_snmp_value "$run/agents/web-02" 3.0 "integer 2"
		    echo "demo: web-01 CPU 72 C" >&2
		    set_snmp_value "$w1" 1.0 "gauge 72" ;;
		35) echo "demo: web-01 CPU 67 C" >&2
		    set_snmp_value "$w1" 1.0 "gauge 67" ;;
		45) echo "demo: web-01 CPU 40 C (below 65: cpu-hot clears)" >&2
		    set_snmp_value "$w1" 1.0 "gauge 40" ;;
		60) echo "demo: web-02 uplink up" >&2
		    set_snmp_value "$run/agents/web-02" 3.0 "integer 1" ;;
		75) echo "demo: PDU A outlets 2 and 3 off" >&2
		    plant "set 1 1 hr 3 0x00f9" ;;
		90) echo "demo: db-01 agent stopped" >&2
		    kill "$(cat "$db.pid")" 2>/dev/null
		    echo "demo: PDU A outlets 2 and 3 on" >&2
		    plant "set 1 1 hr 3 0x00ff" ;;
		100) echo "demo: bm-01 CPU overheats, processor IERR, chassis off" >&2
		    bmc 'sensor_set_value 0x20 0 1 97 1' \
		        'sel_add 0x20 0x02 0 0 0 0 0x20 0x00 0x04 0x07 0x01 0x6f 0x00 0xff 0xff'
		    sleep 2; echo 0 > "$run/bmc/power" ;;
		105) echo "demo: acknowledging db-01's alarm (no second step for it)" >&2
		    ack_db01 ;;
		115) echo "demo: db-01 agent restarted" >&2
		    start_snmpd "$port" "$db" 127.0.1.3 > "$db.pid"
		    echo "demo: bm-01 repaired and powered on" >&2
		    bmc 'sensor_set_value 0x20 0 1 45 1'
		    echo 1 > "$run/bmc/power" ;;
		esac
	done
}
chaos &
register_pid $!

cat >&2 <<MSG
demo: 4 simulated servers, a bare-metal server's BMC, a UPS and two PDUs up;
demo: starting vigild (Ctrl-C to stop).
demo: in another terminal:
        $b/vigil -c conf/demo.json hosts
        $b/vigil -c conf/demo.json intervals
        $b/vigil -c conf/demo.json intervals --json
        $b/vigil -c conf/demo.json intervals --json --host bm-01   # the cause, from its BMC
        $b/vigil -c conf/demo.json alarms
        $b/vigil -c conf/demo.json alarm show ID
MSG
"$b/vigild" -c conf/demo.json &
vpid=$!
register_pid "$vpid"
if [ -n "${DEMO_SECONDS:-}" ]; then
	( sleep "$DEMO_SECONDS"; kill -TERM "$vpid" 2>/dev/null ) &
	register_pid $!
fi
trap 'kill -TERM "$vpid" 2>/dev/null' INT TERM
wait "$vpid"
wait "$vpid" 2>/dev/null
echo "demo: intervals recorded so far:" >&2
V intervals
echo "demo: alarms (vigil -c conf/demo.json alarms):" >&2
V alarms
