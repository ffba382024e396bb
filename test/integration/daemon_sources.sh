#!/usr/bin/env bash
# Several sources per host: SNMP (a real snmpd), ICMP echo and TCP connect,
# each with its own interval, metrics named by source, and "unreachable"
# counting the source it names. The agent stopped: SNMP times out while
# ping still answers, and only the host whose condition counts SNMP goes
# Unavailable. A TCP port closed, then opened again: its host's interval
# opens and closes. Everything on 127.0.0.1.
set -u
. "$TOP/test/lib.sh"

port=$(free_port udp)
agent=$WORK/agent
start_snmpd "$port" "$agent" 127.0.0.1 > "$WORK/agent.pid" || { not_ok "start snmpd"; exit 1; }
apid=$(cat "$WORK/agent.pid")
set_snmp_value "$agent" 1.0 "integer 42"
tport=$(free_port tcp)

# A TCP listener we can close and open again on the same port.
start_listener() {
	python3 -c '
import socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(64)
s.settimeout(0.2)
while True:
    try:
        c, _ = s.accept()
        c.close()
    except socket.timeout:
        pass
' "$tport" &
	lpid=$!
	register_pid "$lpid"
}
start_listener

# ICMP needs a ping socket (net.ipv4.ping_group_range) or CAP_NET_RAW.
icmp=0
python3 -c '
import socket
try:
    socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_ICMP)
except OSError:
    socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
' 2>/dev/null && icmp=1

conf=$WORK/vigil.json
db=$WORK/vigil.db
snmp_src="\"snmp\": { \"community\": \"public\", \"port\": $port, \"interval_s\": 1, \"timeout_ms\": 200, \"retries\": 0 }"
cat > "$conf" <<JSON
{
  "storage": { "path": "vigil.db", "batch_ms": 100, "heartbeat_s": 1 },
  "templates": {
    "server": {
      $snmp_src,
      "sources": { "ping": { "type": "ping", "interval_s": 1, "timeout_ms": 300, "count": 2 } },
      "metrics": { "temp": ".1.3.6.1.4.1.99999.1.0",
                   "rtt": { "source": "ping", "value": "rtt_ms" },
                   "loss": { "source": "ping", "value": "loss_pct" } }
    }
  },
  "hosts": [
    { "name": "by-ping", "address": "127.0.0.1", "template": "server",
      "availability": [ { "name": "down", "unreachable": 2, "source": "ping", "cause": "network" } ] },
    { "name": "by-snmp", "address": "127.0.0.1", "template": "server",
      "availability": [ { "name": "agent-down", "unreachable": 2, "cause": "hardware" } ] },
    { "name": "web", "address": "127.0.0.1",
      "sources": { "https": { "type": "tcp", "port": $tport, "interval_s": 1, "timeout_ms": 300 } },
      "metrics": { "up": { "source": "https", "value": "up" },
                   "connect": { "source": "https", "value": "connect_ms" } },
      "availability": [ { "name": "port-closed", "when": "up == 0", "cause": "network" } ] }
  ]
}
JSON
if [ "$icmp" = 0 ]; then
	echo "# no ICMP socket here: the ping source is checked by -t only" >&2
fi

"$VIGILD" -t -c "$conf" > "$WORK/t.out" 2>&1
check "vigild -t accepts snmp, ping and tcp sources" [ $? = 0 ]
tail_on_failure 20 "$WORK/t.out"

start_vigild -c "$conf" -v
started() { grep -q 'polling 3 of 3 hosts (5 sources)' "$WORK/vigild.log"; }
check "three hosts, five sources polled" wait_until 10 started
tail_on_failure 30 "$WORK/vigild.log"

# The hosts row's last values hold every metric, whatever its source.
lastv() { sqlite3 -cmd ".timeout 2000" "$db" "SELECT last_values FROM hosts WHERE name = '$1'" 2>/dev/null; }
has_vals() { # HOST PYTHON-CONDITION over v (the last_values object)
	lastv "$1" | python3 -c 'import json,sys; v=json.loads(sys.stdin.read().strip() or "{}"); sys.exit(0 if ('"$2"') else 1)'
}
check "SNMP value in last_values" wait_until 10 has_vals by-snmp 'v.get("temp") == 42'
check "TCP up=1 while the port listens" wait_until 10 has_vals web 'v.get("up") == 1 and isinstance(v.get("connect"), (int, float))'
if [ "$icmp" = 1 ]; then
	check "ping rtt and loss in the same row" \
		wait_until 10 has_vals by-ping 'isinstance(v.get("rtt"), (int, float)) and v.get("loss") == 0 and v.get("temp") == 42'
fi
check "no interval while everything answers" [ "$(n_intervals by-ping)$(n_intervals by-snmp)$(n_intervals web)" = 000 ]

# The agent stops: SNMP times out on both template hosts.
kill "$apid"
wait_open() { [ "$(n_intervals "$1" --open)" = 1 ]; }
check "by-snmp: SNMP unreachable opens an interval" wait_until 15 wait_open by-snmp
rule_of() { V intervals --json --host "$1" | python3 -c 'import json,sys; r=json.load(sys.stdin); print(r[-1]["rule"] if r else "")'; }
check "its rule is the SNMP condition" [ "$(rule_of by-snmp)" = agent-down ]
check "the evidence names the source counted" \
	[ "$(sqlite3 "$db" "SELECT json_extract(i.evidence, '$.source') FROM intervals i JOIN hosts h ON h.id = i.host_id WHERE h.name = 'by-snmp'" 2>/dev/null | tail -n 1)" = snmp ]
if [ "$icmp" = 1 ]; then
	sleep 3
	check "by-ping: SNMP timing out opens nothing while ping answers" [ "$(n_intervals by-ping)" = 0 ]
	check "by-ping: its SNMP value is marked timed out, rtt still fresh" \
		has_vals by-ping 'v.get("temp") == "timeout" and isinstance(v.get("rtt"), (int, float))'
fi

# The TCP port closes, then opens again.
kill "$lpid"
wait "$lpid" 2>/dev/null
check "web: port closed opens an interval" wait_until 15 wait_open web
check "web: up is measured 0" has_vals web 'v.get("up") == 0'
start_listener
closed() { [ "$(n_intervals web --open)" = 0 ] && [ "$(n_intervals web)" = 1 ]; }
check "web: port open again closes it" wait_until 15 closed

stop_vigild
check "SIGTERM stops vigild with status 0" [ $? = 0 ]
check "no error lines from vigild" eval '! grep -E "^<3>" "$WORK/vigild.log" | grep -q .'
tail_on_failure 40 "$WORK/vigild.log"
