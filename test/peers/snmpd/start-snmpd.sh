#!/usr/bin/env bash
# start-snmpd.sh PORT WORKDIR [ADDR]
#
# Starts a private net-snmp snmpd for vigil's tests on udp ADDR:PORT
# (ADDR defaults to 127.0.0.1; 0.0.0.0 lets every 127.x.y.z:PORT reach the
# same agent, so one agent can stand for many hosts). No system config is
# read and nothing is written outside WORKDIR (no spaces in it). Waits until
# the agent answers, then prints its PID (also in WORKDIR/snmpd.pid).
# Stop it with: kill "$(cat WORKDIR/snmpd.pid)"
#
#   v2c community "public" (127/8 sources only)
#   v3 user vigilv3, authPriv SHA "vigil-auth-pass" / AES "vigil-priv-pass"
#   .1.3.6.1.4.1.99999.<suffix> served from WORKDIR/values/<suffix>
#   ("TYPE VALUE", see pass-values.sh), seeded below when absent.
set -euo pipefail
usage="usage: start-snmpd.sh PORT WORKDIR [ADDR]"
port=${1:?$usage}
work=${2:?$usage}
addr=${3:-127.0.0.1}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
base=.1.3.6.1.4.1.99999

mkdir -p "$work/persist" "$work/values"
work=$(cd "$work" && pwd)
case $work in *' '*) echo "start-snmpd.sh: WORKDIR must not contain spaces" >&2; exit 2 ;; esac

seed() { [ -e "$work/values/$1" ] || echo "$2" > "$work/values/$1"; }
seed 1.0 "gauge 42"
seed 2.0 "counter 1000"
seed 3.0 "integer 1"
seed 4.0 "counter64 5000000000"
seed 5.0 "string vigil-test-agent"

cat > "$work/snmpd.conf" <<CONF
agentaddress udp:$addr:$port
sysName vigil-peer-$port
sysLocation loopback
dontLogTCPWrappersConnects yes
rocommunity public 127.0.0.0/8
createUser vigilv3 SHA "vigil-auth-pass" AES "vigil-priv-pass"
rouser vigilv3 priv
pass_persist $base /bin/sh $here/pass-values.sh $work/values $base
CONF

rm -f "$work/snmpd.pid"
# -f stay in the foreground (so $! is the agent), -C no system config,
# -I -smux no tcp/199 listener. stdio detached so $(start-snmpd.sh) returns.
SNMP_PERSISTENT_DIR="$work/persist" MIBS='' \
	snmpd -f -C -I -smux -c "$work/snmpd.conf" -Lf "$work/snmpd.log" \
	-p "$work/snmpd.pid" </dev/null >>"$work/snmpd.out" 2>&1 &
pid=$!

ask=$addr
[ "$addr" = 0.0.0.0 ] && ask=127.0.0.1
for _ in $(seq 50); do # 50 x (0.2 s query or 0.1 s sleep): bounded
	if ! kill -0 "$pid" 2>/dev/null; then
		echo "start-snmpd.sh: snmpd exited:" >&2
		cat "$work/snmpd.log" "$work/snmpd.out" >&2 2>/dev/null || true
		exit 1
	fi
	if snmpget -v2c -c public -t 0.2 -r 0 "$ask:$port" .1.3.6.1.2.1.1.3.0 >/dev/null 2>&1; then
		echo "$pid"
		exit 0
	fi
	sleep 0.1
done
echo "start-snmpd.sh: snmpd (pid $pid) did not answer on $ask:$port" >&2
cat "$work/snmpd.log" >&2 2>/dev/null || true
kill "$pid" 2>/dev/null || true
exit 1
