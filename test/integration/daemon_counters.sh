#!/usr/bin/env bash
# vigild feeding counter_samples from an snmpd counter pair (sla_counters):
# a row per good poll with the raw values (a Counter64 above 2^32 kept
# whole), new values seen, no row while a counter is missing or the agent
# is down, and a custom policy host next to it. Checked with sqlite3.
set -u
. "$TOP/test/lib.sh"

port=$(free_port udp)
agent=$WORK/agent
start_snmpd "$port" "$agent" 127.0.0.1 > "$WORK/agent.pid" || { not_ok "start snmpd"; exit 1; }
apid=$(cat "$WORK/agent.pid")
set_snmp_value "$agent" 4.0 "counter64 5000000000"
set_snmp_value "$agent" 2.0 "counter 1000"

conf=$WORK/vigil.json
cat > "$conf" <<JSON
{
  "storage": { "path": "vigil.db", "batch_ms": 100, "heartbeat_s": 1 },
  "sla": { "tz": "Asia/Ho_Chi_Minh" },
  "policies": { "cdn-gold": { "base": "vcdn", "commitment": "99.95",
    "bands": [ { "from": 99, "to": "99.95", "credit": 10 }, { "from": 0, "to": 99, "credit": 50 } ] } },
  "hosts": [
    { "name": "cdn", "address": "127.0.0.1", "service": "cdn-gold",
      "snmp": { "community": "public", "port": $port, "interval_s": 1, "timeout_ms": 200, "retries": 0 },
      "metrics": { "requests": ".1.3.6.1.4.1.99999.4.0", "errors": ".1.3.6.1.4.1.99999.2.0",
                   "temp": ".1.3.6.1.4.1.99999.1.0" },
      "sla_counters": { "total": "requests", "failed": "errors", "bits": 64 },
      "availability": [ { "name": "unreachable", "unreachable": 2, "cause": "network" } ] },
    { "name": "plain", "address": "127.0.0.1", "service": "vserver",
      "snmp": { "community": "public", "port": $port, "interval_s": 1, "timeout_ms": 200, "retries": 0 },
      "metrics": { "temp": ".1.3.6.1.4.1.99999.1.0" } }
  ]
}
JSON

"$VIGILD" -t -c "$conf" > "$WORK/t.out" 2>&1
check "vigild -t accepts policies and sla_counters" [ $? = 0 ]

start_vigild -c "$conf" -v

# .timeout, not PRAGMA busy_timeout: the pragma prints its value, which a
# failed query would leave as the last line of output.
Q() { [ -f "$WORK/vigil.db" ] && sqlite3 -cmd ".timeout 2000" "$WORK/vigil.db" "$1" 2>/dev/null; }
rows() { Q "SELECT count(*) FROM counter_samples"; }
rows_ge() { [ "$(rows)" -ge "$1" ] 2>/dev/null; }
has_row() { # total failed
	[ "$(Q "SELECT count(*) FROM counter_samples c JOIN hosts h ON h.id = c.host_id
	       WHERE h.name = 'cdn' AND total = $1 AND failed = $2 AND source = 'poll'")" -ge 1 ] 2>/dev/null
}

check "a counter row per good poll" wait_until 10 rows_ge 3
check "raw Counter64 above 2^32 and Counter32 stored whole" has_row 5000000000 1000
check "only the host with sla_counters has rows" \
	[ "$(Q "SELECT count(DISTINCT host_id) FROM counter_samples")" = 1 ]
check "one row per poll time (1 s apart, distinct)" \
	[ "$(Q "SELECT count(*) = count(DISTINCT ts_ms) AND min(d) >= 500 FROM (SELECT ts_ms,
	      ts_ms - lag(ts_ms) OVER (ORDER BY ts_ms) AS d FROM counter_samples)")" = 1 ]

set_snmp_value "$agent" 4.0 "counter64 5000000500"
set_snmp_value "$agent" 2.0 "counter 1007"
check "new counter values reach counter_samples" wait_until 10 has_row 5000000500 1007

# A missing counter (noSuchInstance) while the agent answers: no row.
rm -f "$agent/values/2.0"
sleep 1.5
n=$(rows)
sleep 3
m=$(rows)
check "no row while a counter is missing ($n -> $m)" [ "$m" -le $((n + 1)) ]
set_snmp_value "$agent" 2.0 "counter 1010"
check "rows again once it is back" wait_until 10 has_row 5000000500 1010

# Agent down: polls time out, no rows.
kill "$apid"
sleep 1
n=$(rows)
sleep 3
m=$(rows)
check "no row while the agent is down ($n -> $m)" [ "$m" -le $((n + 1)) ]

stop_vigild
check "SIGTERM stops vigild with status 0" [ $? = 0 ]
check "no error lines from vigild" eval '! grep -E "^<3>" "$WORK/vigild.log" | grep -q .'
