#!/usr/bin/env bash
# make demo: vigild on a small simulated site (conf/demo.json), everything
# on 127.0.0.0/8:
#   - hall 1's access switch sw-01: a private snmpd on 127.0.1.5, udp port
#     16161, its ports' status (simulated ifOperStatus) at
#     .1.3.6.1.4.1.99999.10.1-4; web-01, web-02 and db-01 hang off ports
#     1-3 ("uplink")
#   - four servers web-01, web-02, db-01, lb-01: one private snmpd each on
#     127.0.1.1-4, udp port 16161
#   - the plant over Modbus/TCP, test/peers/mbsim on port 15020: the UPS
#     (127.0.1.10), PDUs A and B (127.0.1.11-12), the CRAC crac-1
#     (127.0.1.13; the hall 1 servers "depend_on" it)
#   - bm-01's BMC: OpenIPMI's ipmi_sim on udp 127.0.1.20:16623
#   - bm-02's BMC: Redfish over HTTPS, test/peers/rfsim.py on
#     127.0.1.21:16443, with a certificate made here by openssl
#   - alarms: each outage raises one, paged to two webhook channels served
#     by demo/hookrecv.py on 127.0.0.1:16180, which prints every
#     notification (event, host, severity, summary, dedup key)
#   - the HTTP API and the dashboard on http://127.0.0.1:8765/, with a
#     fresh operator token (demo/run/api-tokens.json, written before vigild
#     starts)
#   - a chaos loop (DEMO_CHAOS=0: none), every two minutes: web-01's CPU
#     temperature hovers around the cpu-hot rule's threshold (one alarm,
#     thanks to its clear condition); web-02's uplink goes down for 40 s;
#     PDU A's outlets 2 and 3 go off for 25 s (web-02 down with cause power;
#     db-01, fed by PDU B too, only degraded); bm-01's CPU overheats
#     (critical), its BMC logs a processor IERR and the chassis powers off
#     for 30 s (one interval, attributed to hardware); db-01's agent
#     disappears for 25 s, and its alarm is acknowledged (vigil ack) before
#     its second escalation step
#   - demo/fail DEVICE [up] breaks a device by hand (and mends it): the
#     request goes to the loop below (demo/run/fail.ctl), which runs it
#     with the chaos loop's own means
#   - vigild in the foreground, writing demo/run/vigil.db
# Stop with Ctrl-C (or DEMO_SECONDS=N to stop by itself).
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
api=127.0.0.1:8765

# Every fixed port first: a demo already running (or anything else on
# them) is named here, before anything starts.
busy=$(python3 - <<'PY'
import socket
for kind, addr, port in (("udp", "127.0.1.1", 16161), ("udp", "127.0.1.5", 16161),
                         ("tcp", "127.0.1.10", 15020), ("udp", "127.0.1.20", 16623),
                         ("tcp", "127.0.1.21", 16443), ("tcp", "127.0.0.1", 16180),
                         ("tcp", "127.0.0.1", 8765)):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM if kind == "udp" else socket.SOCK_STREAM)
    try:
        s.bind((addr, port))
    except OSError:
        print("%s %s:%d" % (kind, addr, port))
        break
    finally:
        s.close()
PY
)
if [ -n "$busy" ]; then
	echo "demo: $busy is in use: is another demo running?" >&2
	exit 1
fi
echo $$ > "$run/demo.pid"

# ---- the switch and the servers: one private snmpd each -----------------------
declare -A addr=([web-01]=127.0.1.1 [web-02]=127.0.1.2 [db-01]=127.0.1.3
	[lb-01]=127.0.1.4 [sw-01]=127.0.1.5)
agents="sw-01 web-01 web-02 db-01 lb-01"
behind_switch="web-01 web-02 db-01"
agent_up() { # NAME: start its snmpd unless it runs
	local dir=$run/agents/$1 pid
	pid=$(cat "$dir.pid" 2> /dev/null)
	[ -n "$pid" ] && kill -0 "$pid" 2> /dev/null && return 0
	mkdir -p "$dir"
	start_snmpd "$port" "$dir" "${addr[$1]}" > "$dir.pid" 2> "$run/agent-$1.err"
}
agent_down() { # NAME
	local pid
	pid=$(cat "$run/agents/$1.pid" 2> /dev/null)
	[ -n "$pid" ] && kill "$pid" 2> /dev/null
	[ -n "$pid" ] && wait_until 3 pid_gone "$pid"
	: > "$run/agents/$1.pid"
}
i=0
for n in web-01 web-02 db-01 lb-01; do
	mkdir -p "$run/agents/$n"
	set_snmp_value "$run/agents/$n" 1.0 "gauge $((40 + i * 5))"
	set_snmp_value "$run/agents/$n" 3.0 "integer 1"
	i=$((i + 1))
done
for p in 1 2 3 4; do
	mkdir -p "$run/agents/sw-01"
	set_snmp_value "$run/agents/sw-01" "10.$p" "integer 1"
done
for n in $agents; do
	: > "$run/agents/$n.pid"
	if ! agent_up "$n"; then
		echo "demo: cannot start $n's simulated agent on ${addr[$n]}:$port:" >&2
		cat "$run/agent-$n.err" >&2
		exit 1
	fi
done

# ---- the plant ----------------------------------------------------------------
# Endpoint 0 is the UPS (input registers), 1 and 2 the PDUs (holding
# registers), 3 the CRAC (input, discrete and holding): values as the
# profiles read them.
mbsim=$b/test/mbsim
rm -f "$run/plant.ready"
"$mbsim" --regs 200 --ctl "$run/plant.ctl" --ready "$run/plant.ready" \
	127.0.1.10-127.0.1.13:15020 > "$run/plant.log" 2>&1 &
register_pid $!
if ! wait_until 10 test -s "$run/plant.ready"; then
	echo "demo: cannot start the simulated UPS, PDUs and CRAC (tcp port 15020 on 127.0.1.10-13):" >&2
	cat "$run/plant.log" >&2
	exit 1
fi
plant() { echo "$*" > "$run/plant.ctl"; }
# UPS: 230.0 V in and out, 50.0 Hz, 35 % load, 100 % charge, 42 min, 25.0 C,
# online, output on, no alarm, 3.5 kW (float32 CDAB), 12345.6 kWh
plant "set 0 1 ir 0 2300 2300 500 35 100 42 250 2 1 0 0x0000 0x4060 0 123456"
# PDUs: 230.1 V, 4.20 A, 966 W, outlets 1-8 on, 0.5 A and 115 W each
for e in 1 2; do
	plant "set $e 1 hr 0 2301 420 966 0x00ff 50 50 50 50 50 50 50 50 115 115 115 115 115 115 115 115"
done
# the outlet status words (bit N-1: outlet N), as demo/fail and the chaos
# loop change them
outlets=(0 255 255)
outlet_set() { # PDU(1 A, 2 B) N 0|1
	local bit=$((1 << ($2 - 1)))
	if [ "$3" = 1 ]; then outlets[$1]=$((outlets[$1] | bit)); else outlets[$1]=$((outlets[$1] & ~bit)); fi
	plant "set $1 1 hr 3 ${outlets[$1]}"
}
# CRAC: supply air 18.5 C, return 26.0 C, 45.0 %RH, cooling, no alarm; fan
# and compressor running; setpoint 24.0 C
crac_ok() {
	plant "set 3 1 ir 0 185 260 450 2 0x0000"
	plant "set 3 1 di 0 1 1"
	plant "set 3 1 hr 0 240"
}
crac_ok

# ---- bm-01's BMC: ipmi_sim, from a clean state each run --------------------------
rm -rf "$run/bmc"
if ! bmc_pid=$(test/peers/ipmi/start-ipmi-sim.sh 16623 "$run/bmc" 127.0.1.20 2> "$run/bmc.err"); then
	echo "demo: cannot start the simulated BMC (ipmi_sim, udp 127.0.1.20:16623):" >&2
	cat "$run/bmc.err" >&2
	exit 1
fi
register_pid "$bmc_pid"
bmc() { test/peers/ipmi/ipmi-sim-cmd.sh 127.0.1.20:17623 "$@" > /dev/null; }

# ---- bm-02's BMC: Redfish over HTTPS, a certificate made for this run ------------
rf=$run/rf
rm -rf "$rf"
mkdir -p "$rf"
if ! openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj /CN=demo-bm-02 \
	-addext "subjectAltName=IP:127.0.1.21" -keyout "$rf/key.pem" -out "$rf/cert.pem" \
	> "$rf/openssl.log" 2>&1; then
	echo "demo: cannot make bm-02's certificate:" >&2
	cat "$rf/openssl.log" >&2
	exit 1
fi
chmod 600 "$rf/key.pem"
/usr/bin/python3 test/peers/rfsim.py --cert "$rf/cert.pem" --key "$rf/key.pem" \
	--ctl "$rf/ctl" --ready "$rf/ready" --bmc bm-02=127.0.1.21:16443 > "$rf/log" 2>&1 &
register_pid $!
if ! wait_until 15 test -s "$rf/ready"; then
	echo "demo: cannot start the simulated Redfish BMC (https 127.0.1.21:16443):" >&2
	cat "$rf/log" >&2
	exit 1
fi
redfish() { echo "$*" > "$rf/ctl"; }

# ---- the notification receiver the channels of conf/demo.json post to -----------
rm -f "$run/notifications.log"
python3 demo/hookrecv.py --addr 127.0.0.1 --port 16180 --log "$run/notifications.log" &
register_pid $!
if ! wait_until 10 bash -c 'exec 3<> /dev/tcp/127.0.0.1/16180' 2> /dev/null; then
	echo "demo: cannot start the notification receiver on 127.0.0.1:16180" >&2
	exit 1
fi

# ---- the API's tokens: a fresh operator token each run, private from the start ---
token=$(openssl rand -hex 16) || exit 1
tokens=$run/api-tokens.json
rm -f "$tokens" "$tokens.tmp"
(umask 077 && printf '{ "tokens": [ { "name": "demo", "role": "operator", "token": "%s" } ] }\n' \
	"$token" > "$tokens.tmp") && chmod 600 "$tokens.tmp" && mv -f "$tokens.tmp" "$tokens" || exit 1

V() { "$b/vigil" -c conf/demo.json "$@"; }
ack_db01() {
	local id
	id=$(V alarms --active --host db-01 --json 2> /dev/null | python3 -c '
import json, sys
rows = [r for r in json.load(sys.stdin) if r["state"] == "raised"]
print(rows[0]["id"] if rows else "")')
	[ -n "$id" ] && V ack "$id" --by demo --comment "the demo took it" >&2
}

# ---- the devices' states, and how each one fails ----------------------------------
# What should run: an agent behind a dead switch is stopped too (nothing
# answers through it), and comes back with the switch unless it failed by
# itself.
declare -A wanted=([sw-01]=1 [web-01]=1 [web-02]=1 [db-01]=1 [lb-01]=1)
sync_agents() {
	local n want
	for n in $agents; do
		want=${wanted[$n]}
		case " $behind_switch " in *" $n "*) [ "${wanted[sw-01]}" = 1 ] || want=0 ;; esac
		if [ "$want" = 1 ]; then agent_up "$n"; else agent_down "$n"; fi
	done
}

# fail DEVICE down|up: prints what it did, or "error: ..." (status 1)
fail() {
	local dev=$1 st=$2 e n
	case $st in down | up) ;; *) echo "error: state '$st': down or up"; return 1 ;; esac
	case $dev in
	sw-01)
		wanted[sw-01]=$([ "$st" = up ] && echo 1 || echo 0)
		sync_agents
		if [ "$st" = down ]; then
			echo "sw-01 dead: web-01, web-02 and db-01 unreachable behind it"
		else echo "sw-01 back, and the hosts behind it"; fi ;;
	web-01 | web-02 | db-01 | lb-01)
		wanted[$dev]=$([ "$st" = up ] && echo 1 || echo 0)
		sync_agents
		if [ "$st" = down ]; then echo "$dev's agent stopped"; else echo "$dev's agent running"; fi ;;
	pdu-a1.outlet[1-8] | pdu-b1.outlet[1-8])
		e=1
		[ "${dev%%.*}" = pdu-b1 ] && e=2
		n=${dev##*outlet}
		outlet_set "$e" "$n" "$([ "$st" = up ] && echo 1 || echo 0)"
		echo "$dev $([ "$st" = up ] && echo on || echo off)" ;;
	crac-1)
		if [ "$st" = down ]; then
			# the compressor stops: supply air 30.5 C, return 38.0 C,
			# alarm bits high_temp and compressor_fault
			plant "set 3 1 ir 0 305 380 450 2 0x0081"
			plant "set 3 1 di 0 1 0"
			echo "crac-1's compressor stopped: supply air 30.5 C, return 38.0 C"
		else
			crac_ok
			echo "crac-1 cooling: supply air 18.5 C, return 26.0 C"
		fi ;;
	bm-01)
		if [ "$st" = down ]; then
			bmc 'sensor_set_value 0x20 0 1 97 1' \
				'sel_add 0x20 0x02 0 0 0 0 0x20 0x00 0x04 0x07 0x01 0x6f 0x00 0xff 0xff'
			sleep 2
			echo 0 > "$run/bmc/power"
			echo "bm-01: CPU at 97 C, a processor IERR in its SEL, chassis off"
		else
			bmc 'sensor_set_value 0x20 0 1 45 1'
			echo 1 > "$run/bmc/power"
			echo "bm-01 repaired and powered on"
		fi ;;
	bm-02)
		if [ "$st" = down ]; then
			redfish 'bm-02 sensor "CPU Temp" 96'
			redfish 'bm-02 log Critical Processor "CPU 1 internal error (IERR)"'
			sleep 2
			redfish 'bm-02 power Off'
			echo "bm-02: CPU at 96 C, a processor IERR in its log, power off"
		else
			redfish 'bm-02 sensor "CPU Temp" 45'
			redfish 'bm-02 power On'
			echo "bm-02 repaired and powered on"
		fi ;;
	*) echo "error: no device '$dev' (demo/fail -h lists them)"; return 1 ;;
	esac
}

chaos() { # T: the chaos loop's step at T seconds into its two-minute cycle
	local w1=$run/agents/web-01
	case $1 in
	5) echo "demo: web-01 CPU 75 C" >&2
	    set_snmp_value "$w1" 1.0 "gauge 75" ;;
	25) echo "demo: web-01 CPU 68 C (between clear and raise: cpu-hot stays raised)" >&2
	    set_snmp_value "$w1" 1.0 "gauge 68" ;;
	30) echo "demo: web-02 uplink down" >&2
	    set_snmp_value "$run/agents/web-02" 3.0 "integer 2"
	    set_snmp_value "$run/agents/sw-01" 10.2 "integer 2"
	    echo "demo: web-01 CPU 72 C" >&2
	    set_snmp_value "$w1" 1.0 "gauge 72" ;;
	35) echo "demo: web-01 CPU 67 C" >&2
	    set_snmp_value "$w1" 1.0 "gauge 67" ;;
	45) echo "demo: web-01 CPU 40 C (below 65: cpu-hot clears)" >&2
	    set_snmp_value "$w1" 1.0 "gauge 40" ;;
	70) echo "demo: web-02 uplink up" >&2
	    set_snmp_value "$run/agents/web-02" 3.0 "integer 1"
	    set_snmp_value "$run/agents/sw-01" 10.2 "integer 1" ;;
	80) echo "demo: PDU A outlets 2 and 3 off" >&2
	    outlet_set 1 2 0; outlet_set 1 3 0 ;;
	85) echo "demo: bm-01 CPU overheats, processor IERR, chassis off" >&2
	    fail bm-01 down > /dev/null ;;
	90) echo "demo: db-01 agent stopped" >&2
	    wanted[db-01]=0; sync_agents ;;
	105) echo "demo: PDU A outlets 2 and 3 on" >&2
	    outlet_set 1 2 1; outlet_set 1 3 1 ;;
	115) echo "demo: acknowledging db-01's alarm (no second step for it)" >&2
	    ack_db01
	    echo "demo: db-01 agent restarted" >&2
	    wanted[db-01]=1; sync_agents
	    echo "demo: bm-01 repaired and powered on" >&2
	    fail bm-01 up > /dev/null ;;
	esac
}

# One loop runs the chaos steps and demo/fail's requests in turn, so that
# the two never race over an agent: requests "ID DEVICE down|up" on the
# FIFO, each answered in fail.reply/ID.
site() {
	local ctl=$run/fail.ctl start=$SECONDS next=5 id dev st out
	exec 3<> "$ctl"
	while :; do
		while [ $((SECONDS - start)) -ge "$next" ]; do
			[ "${DEMO_CHAOS:-1}" = 0 ] || chaos $((next % 120))
			next=$((next + 5))
		done
		read -r -t 1 id dev st <&3 || continue
		case $id in *[!0-9a-z-]* | '') continue ;; esac
		# not in $(...): fail changes this shell's state
		out=$run/fail.reply/$id.tmp
		if fail "$dev" "${st:-down}" > "$out"; then
			echo "demo: fail: $(cat "$out")" >&2
			sed -i 's/^/ok: /' "$out"
		fi
		mv -f "$out" "$run/fail.reply/$id"
	done
}
rm -rf "$run/fail.ctl" "$run/fail.reply"
mkdir -p "$run/fail.reply"
mkfifo -m 600 "$run/fail.ctl" || exit 1
site &
register_pid $!

echo "demo: starting vigild (Ctrl-C to stop)." >&2
"$b/vigild" -c conf/demo.json &
vpid=$!
register_pid "$vpid"
if [ -n "${DEMO_SECONDS:-}" ]; then
	( sleep "$DEMO_SECONDS"; kill -TERM "$vpid" 2>/dev/null ) &
	register_pid $!
fi
trap 'kill -TERM "$vpid" 2>/dev/null' INT TERM

api_up() { pid_gone "$vpid" || curl -sf -o /dev/null "http://$api/api/v1/hosts"; }
if wait_until 20 api_up && ! pid_gone "$vpid"; then
	cat >&2 <<MSG
demo: ---------------------------------------------------------------------------
demo: the site is up: switch sw-01, servers web-01 web-02 db-01 lb-01, UPS ups-1,
demo: PDUs pdu-a1 pdu-b1, CRAC crac-1, bare metal bm-01 (IPMI) and bm-02 (Redfish)
demo:   dashboard:  http://$api/
demo:   token:      $token
demo:               (operator "demo": paste it into the dashboard's settings)
demo: in another terminal:
        $b/vigil -c conf/demo.json hosts
        $b/vigil -c conf/demo.json alarms
        $b/vigil -c conf/demo.json intervals --json --host bm-01
        $b/vigil -c conf/demo.json sla --month \$(date -u +%Y-%m) --all
        curl -s http://$api/api/v1/hosts
        curl -s -X POST -H 'Authorization: Bearer $token' \\
             -d '{"comment": "on it"}' http://$api/api/v1/alarms/ID/ack
demo: break a device by hand, mend it with "up" (demo/fail -h lists them all):
        demo/fail sw-01            the switch dies: its page names the hosts behind it
        demo/fail crac-1           cooling lost: an alarm, then hall 1 down (cause facility) after 60 s
        demo/fail pdu-a1.outlet2   an outlet off: web-02 down, cause power
        demo/fail bm-02            a hardware fault seen through Redfish
        demo/fail sw-01 up
demo: ---------------------------------------------------------------------------
MSG
else
	echo "demo: the API does not answer on http://$api/ (see vigild's messages above)" >&2
fi
wait "$vpid"
wait "$vpid" 2>/dev/null
rm -f "$run/demo.pid"
echo "demo: intervals recorded so far:" >&2
V intervals
echo "demo: alarms (vigil -c conf/demo.json alarms):" >&2
V alarms
