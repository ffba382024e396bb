#!/usr/bin/env bash
# GET /metrics of a running vigild (docs/metrics.md): the exposition passes
# `promtool check metrics` (no error, no lint warning), holds the lines
# expected of a host polled over SNMP and of one whose TCP port is closed,
# and a real Prometheus scraping it every second sees sw-01 up (1), then
# down (0) once its snmpd is stopped. Peers: snmpd, Prometheus, all on
# 127.0.0.1, stopped by PID.
set -u
. "$TOP/test/lib.sh"
trap 'rc=$?; tail_on_failure 40 "$WORK/vigild.log";
      [ "$_vgl_failed" = 0 ] || tail -n 20 "$WORK/prometheus.log" >&2 2>/dev/null;
      (exit $rc); cleanup' EXIT

port=$(free_port tcp)
sport=$(free_port udp)
closed=$(free_port tcp)         # nothing listens: host "web" is refused
conf=$WORK/vigil.json
db=$WORK/vigil.db
url=http://127.0.0.1:$port/metrics

agent=$WORK/agent
apid=$(start_snmpd "$sport" "$agent" 127.0.0.1) || { not_ok "start snmpd"; exit 1; }
set_snmp_value "$agent" 1.0 "gauge 42"

cat > "$conf" <<JSON
{
  "storage": { "path": "vigil.db", "batch_ms": 100, "heartbeat_s": 1 },
  "api": { "listen": "127.0.0.1:$port" },
  "hosts": [
    { "name": "sw-01", "address": "127.0.0.1", "site": "hcm \"1\"",
      "snmp": { "community": "public", "port": $sport, "interval_s": 1, "timeout_ms": 200,
                "retries": 0 },
      "metrics": { "temp": ".1.3.6.1.4.1.99999.1.0",
                   "link": { "oid": ".1.3.6.1.4.1.99999.3.0", "enum": { "up": 1, "down": 2 } } },
      "availability": [ { "name": "unreachable", "unreachable": 2, "cause": "network" } ] },
    { "name": "web", "address": "127.0.0.1", "site": "hcm2",
      "sources": { "https": { "type": "tcp", "port": $closed, "interval_s": 1, "timeout_ms": 300 } },
      "metrics": { "up": { "source": "https", "value": "up" } },
      "availability": [ { "name": "port-closed", "when": "up == 0", "cause": "network" } ] }
  ]
}
JSON
chmod 600 "$conf"

start_vigild -c "$conf"
wait_until 10 grep -q "api: listening on http://127.0.0.1:$port/" "$WORK/vigild.log" ||
	{ not_ok "vigild listens on 127.0.0.1:$port"; exit 1; }

scrape() { curl -sf -o "$WORK/metrics.txt" "$url"; }
has() { grep -qxF -- "$1" "$WORK/metrics.txt"; }
# for wait_until: a scrape holding LINE
scrape_has() { scrape && has "$1"; }

check "sw-01 is up in /metrics" \
	wait_until 15 scrape_has 'vigil_host_up{host="sw-01",site="hcm \"1\""} 1'
check "web is down with its cause" \
	wait_until 15 scrape_has 'vigil_host_unavailable{host="web",site="hcm2",cause="network"} 1'
scrape
check "the answer is text/plain 0.0.4" \
	eval 'curl -s -o /dev/null -w "%{content_type}" "$url" | grep -q "^text/plain; version=0.0.4"'
promtool check metrics < "$WORK/metrics.txt" > "$WORK/promtool.out" 2>&1
prc=$?
check "promtool check metrics: exit 0" [ "$prc" = 0 ]
check "promtool check metrics: prints nothing (no error, no lint warning)" \
	[ ! -s "$WORK/promtool.out" ]
[ -s "$WORK/promtool.out" ] && sed 's/^/#   /' "$WORK/promtool.out" >&2
check "sw-01's value, by metric and source" \
	has 'vigil_value{host="sw-01",metric="temp",source="snmp"} 42'
check "web's up metric measured 0 (a refused connect is a measurement)" \
	has 'vigil_value{host="web",metric="up",source="https"} 0'
check "sw-01 has no open interval" \
	has 'vigil_host_unavailable{host="sw-01",site="hcm \"1\""} 0'
check "web is not up" has 'vigil_host_up{host="web",site="hcm2"} 0'
check "the collectors' own counts" has 'vigil_collector_hosts{collector="snmp"} 1'
check "... of reach too" has 'vigil_collector_hosts{collector="reach"} 1'
polls() { sed -n "s/^vigil_polls_total{kind=\"$1\"} //p" "$WORK/metrics.txt"; }
check "snmp polls counted" [ "$(polls snmp)" -ge 1 ]
check "tcp polls counted" [ "$(polls tcp)" -ge 1 ]
check "a poll latency histogram per kind" \
	grep -q '^vigil_poll_duration_seconds_bucket{kind="snmp",le="+Inf"} [1-9]' "$WORK/metrics.txt"
check "the store committed batches, with a commit histogram" \
	grep -q '^vigil_store_commit_duration_seconds_count [1-9]' "$WORK/metrics.txt"
check "build info" has 'vigil_build_info{version="0.15.0"} 1'
check "every family has HELP and TYPE" python3 - "$WORK/metrics.txt" <<'PY'
import re, sys
help, typ, seen = set(), {}, set()
def family(name):
    for suf in ("_bucket", "_sum", "_count"):
        if name.endswith(suf) and typ.get(name[:-len(suf)]) == "histogram":
            return name[:-len(suf)]
    return name
for line in open(sys.argv[1]):
    line = line.rstrip("\n")
    if line.startswith("# HELP "):
        help.add(line.split(" ")[2])
    elif line.startswith("# TYPE "):
        typ[line.split(" ")[2]] = line.split(" ")[3]
    elif line:
        seen.add(family(re.match(r"[a-zA-Z_:][a-zA-Z0-9_:]*", line).group(0)))
missing = [n for n in seen if n not in help or n not in typ]
sys.exit("families without HELP/TYPE: %s" % missing if missing else 0)
PY

# ---- a real Prometheus ----
pport=$(free_port tcp)
cat > "$WORK/prom.yml" <<YML
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: vigil
    static_configs:
      - targets: ["127.0.0.1:$port"]
YML
prometheus --config.file="$WORK/prom.yml" --storage.tsdb.path="$WORK/tsdb" \
	--web.listen-address="127.0.0.1:$pport" > "$WORK/prometheus.log" 2>&1 &
ppid_=$!
register_pid "$ppid_"

# The value Prometheus has now for vigil_host_up of sw-01 ("" when none).
up_now() {
	curl -s --max-time 2 -G "http://127.0.0.1:$pport/api/v1/query" \
		--data-urlencode 'query=vigil_host_up{host="sw-01"}' | python3 -c '
import json, sys
try:
    r = json.load(sys.stdin)["data"]["result"]
except Exception:
    r = []
print(r[0]["value"][1] if len(r) == 1 else "")'
}
up_is() { [ "$(up_now)" = "$1" ]; }
target_up() {
	curl -s --max-time 2 "http://127.0.0.1:$pport/api/v1/targets" | python3 -c '
import json, sys
t = json.load(sys.stdin)["data"]["activeTargets"]
sys.exit(0 if t and t[0]["health"] == "up" and not t[0]["lastError"] else 1)' 2>/dev/null
}

check "Prometheus sees vigil_host_up{host=\"sw-01\"} 1" wait_until 60 up_is 1
check "Prometheus's scrape of vigild is healthy (no parse error)" wait_until 10 target_up
kill "$apid"
check "after its snmpd stops, Prometheus sees sw-01 down (0)" wait_until 30 up_is 0
scrape
check "... with the cause of its interval" \
	has 'vigil_host_unavailable{host="sw-01",site="hcm \"1\"",cause="network"} 1'
check "... and its values not ok, by quality" \
	has 'vigil_value_not_ok{host="sw-01",metric="temp",source="snmp",quality="timeout"} 1'
check "timeouts counted by kind and quality" \
	grep -q '^vigil_poll_errors_total{kind="snmp",quality="timeout"} [1-9]' "$WORK/metrics.txt"
stop_peer "$ppid_"
check "Prometheus stopped" pid_gone "$ppid_"

check "vigild stops cleanly" stop_vigild
