#!/usr/bin/env bash
# make demo: vigild on a simulated local site (conf/demo.json).
#   - one private snmpd per device on 127.0.1.1-4, udp port 16161
#   - a chaos loop: web-02's uplink goes down for 30 s every 2 minutes,
#     db-01's agent disappears for 25 s every 2 minutes (offset by 1 min)
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

chaos() {
	local t=0 db=$run/agents/db-01
	while sleep 5; do
		t=$((t + 5))
		case $((t % 120)) in
		30) echo "demo: web-02 uplink down" >&2
		    set_snmp_value "$run/agents/web-02" 3.0 "integer 2" ;;
		60) echo "demo: web-02 uplink up" >&2
		    set_snmp_value "$run/agents/web-02" 3.0 "integer 1" ;;
		90) echo "demo: db-01 agent stopped" >&2
		    kill "$(cat "$db.pid")" 2>/dev/null ;;
		115) echo "demo: db-01 agent restarted" >&2
		    start_snmpd "$port" "$db" 127.0.1.3 > "$db.pid" ;;
		esac
	done
}
chaos &
register_pid $!

cat >&2 <<MSG
demo: 4 simulated devices up; starting vigild (Ctrl-C to stop).
demo: in another terminal:
        build/vigil -c conf/demo.json hosts
        build/vigil -c conf/demo.json intervals
        build/vigil -c conf/demo.json intervals --json
MSG
build/vigild -c conf/demo.json &
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
build/vigil -c conf/demo.json intervals
