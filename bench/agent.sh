#!/usr/bin/env bash
# bench/agent.sh PORT WORKDIR
#   Starts one net-snmp snmpd on udp 0.0.0.0:PORT for the benchmark, so every
#   127.x.y.z:PORT reaches it; prints its PID (also WORKDIR/snmpd.pid).
#   Unlike test/peers/snmpd/start-snmpd.sh it has no pass_persist child (the
#   benchmark polls only objects the agent serves natively) and asks for a
#   4 MiB socket receive buffer: at 100,000 hosts the default ~200 KiB
#   holds only a few hundred queued requests, and a burst overflowing it
#   would show up as timeouts that are the agent's, not the poller's.
set -euo pipefail
usage="usage: agent.sh PORT WORKDIR"
port=${1:?$usage}
work=${2:?$usage}
mkdir -p "$work/persist"
work=$(cd "$work" && pwd)

cat > "$work/snmpd.conf" <<CONF
agentaddress udp:0.0.0.0:$port
sysName vigil-bench-$port
sysLocation loopback
dontLogTCPWrappersConnects yes
rocommunity public 127.0.0.0/8
[snmp] serverRecvBuf 4194304
[snmp] serverSendBuf 4194304
CONF

rm -f "$work/snmpd.pid"
# -f no fork; -C no system config; -I -smux no tcp/199 listener; -Lf log to a file
SNMP_PERSISTENT_DIR="$work/persist" MIBS='' \
	snmpd -f -C -I -smux -c "$work/snmpd.conf" -Lf "$work/snmpd.log" -p "$work/snmpd.pid" \
	</dev/null >>"$work/snmpd.out" 2>&1 &
pid=$!

for _ in $(seq 50); do
	if ! kill -0 "$pid" 2>/dev/null; then
		echo "snmpd exited; log:" >&2
		cat "$work/snmpd.log" "$work/snmpd.out" >&2
		exit 1
	fi
	if snmpget -v2c -c public -t 0.2 -r 0 "127.0.0.1:$port" .1.3.6.1.2.1.1.3.0 >/dev/null 2>&1; then
		echo "$pid"
		exit 0
	fi
	sleep 0.1
done
echo "snmpd (pid $pid) did not answer on 127.0.0.1:$port; log:" >&2
cat "$work/snmpd.log" >&2
kill "$pid" 2>/dev/null || true
exit 1
