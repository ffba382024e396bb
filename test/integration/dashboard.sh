#!/usr/bin/env bash
# The NOC dashboard (web/) in a real browser against a real vigild: three
# private snmpd agents (a switch and two servers), vigild with its HTTP API
# on an ephemeral loopback port and an operator token, and
# test/browser/dashboard.mjs driving Debian's chromium through
# playwright-core. Before the page loads two alarms are active (web-01's
# link down, db-01's inlet rule); once it has loaded the browser test asks
# this script (a request file in $ctl) to stop the switch's agent, and its
# alarm must appear without a reload; it is acknowledged from the page
# with the token, which this script then finds in the database, as the
# comment posted from the page. Then web-01's link comes back while the
# hosts grid is shown. Screenshots: $WORK/screens/*.png and
# /tmp/dash_*.png. Skipped (one "ok ... # SKIP") only without node or
# chromium.
set -u
. "$TOP/test/lib.sh"

browser_dir=$TOP/test/browser
if ! command -v node > /dev/null 2>&1 || [ ! -x /usr/bin/chromium ]; then
	ok "dashboard in a browser # SKIP needs node and /usr/bin/chromium (test/deps.sh installs them)"
	exit 0
fi
# A fresh clone has no node_modules: install exactly the locked versions.
if [ ! -d "$browser_dir/node_modules/playwright-core" ]; then
	if ! (cd "$browser_dir" && timeout 300 npm ci --no-audit --no-fund) > "$WORK/npm.log" 2>&1; then
		not_ok "npm ci in test/browser"
		sed 's/^/#   /' "$WORK/npm.log" >&2
		exit 1
	fi
fi

p_sw=$(free_port udp)
p_web=$(free_port udp)
p_db=$(free_port udp)
start_snmpd "$p_sw" "$WORK/sw" > "$WORK/sw.pid" || { not_ok "start the switch's snmpd"; exit 1; }
start_snmpd "$p_web" "$WORK/web" > /dev/null || { not_ok "start web-01's snmpd"; exit 1; }
start_snmpd "$p_db" "$WORK/db" > /dev/null || { not_ok "start db-01's snmpd"; exit 1; }
# inlet temperatures: only db-01's is above its rule's 40
set_snmp_value "$WORK/sw" 1.0 "gauge 25"
set_snmp_value "$WORK/web" 1.0 "gauge 27"
set_snmp_value "$WORK/db" 1.0 "gauge 42"

port=$(free_port tcp)
token=$(python3 -c 'import secrets; print(secrets.token_hex(24))')
tokens=$WORK/api-tokens.json
# Created private: vigild refuses a tokens file others may read.
(umask 077 && printf '{ "tokens": [\n  { "name": "noc", "role": "operator", "token": "%s" },\n  { "name": "wall", "role": "read", "token": "%s" }\n] }\n' \
	"$token" "$(python3 -c 'import secrets; print(secrets.token_hex(24))')" > "$tokens")
chmod 600 "$tokens"

conf=$WORK/vigil.json
db=$WORK/vigil.db
cat > "$conf" <<JSON
{
  "storage": { "path": "vigil.db", "batch_ms": 100, "heartbeat_s": 1 },
  "api": { "listen": "127.0.0.1:$port", "tokens_file": "$tokens" },
  "templates": {
    "dev": {
      "snmp": { "version": "2c", "community": "public", "interval_s": 1, "timeout_ms": 300, "retries": 0 },
      "metrics": {
        "temp": ".1.3.6.1.4.1.99999.1.0",
        "link": { "oid": ".1.3.6.1.4.1.99999.3.0", "enum": { "up": 1, "down": 2 } }
      },
      "availability": [
        { "name": "unreachable", "unreachable": 2, "cause": "network", "alarm": { "severity": "critical" } },
        { "name": "link-down", "when": "link == down", "cause": "hardware", "alarm": { "severity": "major" } }
      ],
      "rules": [
        { "name": "inlet-hot", "when": "temp > 40", "severity": "warning",
          "summary": "{host}: inlet {value} C above 40 C" }
      ]
    }
  },
  "hosts": [
    { "name": "sw-01", "address": "127.0.0.1", "template": "dev", "snmp": { "port": $p_sw }, "site": "hall-1" },
    { "name": "web-01", "address": "127.0.0.1", "template": "dev", "snmp": { "port": $p_web }, "site": "hall-1",
      "service": "vserver", "customer": "acme" },
    { "name": "db-01", "address": "127.0.0.1", "template": "dev", "snmp": { "port": $p_db }, "site": "hall-2",
      "service": "vserver", "customer": "globex" }
  ]
}
JSON

# private: it holds the agents' community
chmod 600 "$conf"
"$VIGILD" -t -c "$conf" > "$WORK/t.out" 2>&1 || { not_ok "config valid"; cat "$WORK/t.out" >&2; exit 1; }
start_vigild -c "$conf" -v
trap 'rc=$?; tail_on_failure 80 "$WORK/vigild.log"; (exit $rc); cleanup' EXIT

api_up() { curl -sf -o /dev/null "http://127.0.0.1:$port/api/v1/hosts"; }
check "the API answers on 127.0.0.1:$port" wait_until 10 api_up || exit 1
check "the dashboard is served at /" \
	eval 'curl -sf "http://127.0.0.1:$port/" | grep -q "<title>vigil NOC</title>"'
check "every host up first" wait_until 20 eval 'state_is sw-01 up && state_is web-01 up && state_is db-01 up'

# The seeded alarms, before the page loads.
set_snmp_value "$WORK/web" 3.0 "integer 2"
active() { # HOST RULE: an active alarm of HOST raised by RULE
	[ "$(sqlite3 -cmd '.timeout 2000' "$db" "SELECT count(*) FROM alarms a JOIN hosts h ON h.id = a.host_id
		WHERE a.cleared_ms IS NULL AND h.name = '$1' AND a.rule = '$2'")" = 1 ]
}
check "seeded: web-01's link-down alarm" wait_until 20 active web-01 link-down
check "seeded: db-01's inlet-hot alarm" wait_until 20 active db-01 inlet-hot

ctl=$WORK/ctl
mkdir -p "$ctl" "$WORK/screens"
DASH_URL="http://127.0.0.1:$port/" DASH_TOKEN=$token DASH_TOKEN_NAME=noc DASH_CTL=$ctl \
	DASH_SCREENS=$WORK/screens DASH_LIVE_S=30 \
	timeout -k 5 300 node "$browser_dir/dashboard.mjs" > "$WORK/browser.out" 2> "$WORK/browser.err" &
npid=$!
register_pid "$npid"

# Serve the browser test's requests until it ends (bounded by its timeout).
n=1
while kill -0 "$npid" 2>/dev/null; do
	if [ -f "$ctl/req-$n" ]; then
		case $(cat "$ctl/req-$n") in
		fail-switch) kill "$(cat "$WORK/sw.pid")" && echo done > "$ctl/done-$n" ;;
		recover-web) set_snmp_value "$WORK/web" 3.0 "integer 1" && echo done > "$ctl/done-$n" ;;
		*) echo "unknown request" > "$ctl/done-$n" ;;
		esac
		n=$((n + 1))
	fi
	sleep 0.1
done
wait "$npid"
brc=$?
cat "$WORK/browser.out"
if [ "$brc" != 0 ]; then
	grep -q '^not ok ' "$WORK/browser.out" || not_ok "the browser test ended with status $brc"
	_vgl_failed=1
	sed 's/^/#   /' "$WORK/browser.err" | tail -n 40 >&2
fi

id=$(cat "$ctl/acked" 2>/dev/null)
case $id in
'' | *[!0-9]*) not_ok "the page acknowledged an alarm (no id from the browser test)" ;;
*)
	by=$(sqlite3 -cmd '.timeout 2000' "$db" "SELECT acked_by FROM alarms WHERE id = $id")
	rule=$(sqlite3 -cmd '.timeout 2000' "$db" "SELECT h.name || ' ' || a.rule FROM alarms a
		JOIN hosts h ON h.id = a.host_id WHERE a.id = $id")
	check "alarm $id ($rule) acknowledged in the database by the token's name (got '$by')" \
		test "$by" = noc
	check "the page's comment is in alarm $id's log" test "$(sqlite3 -cmd '.timeout 2000' "$db" \
		"SELECT count(*) FROM alarm_log WHERE alarm_id = $id AND action = 'comment'
		 AND by = 'noc' AND text = 'browser test: on it'")" = 1
	;;
esac
check "vigild still running" kill -0 "$dpid"
stop_vigild
check "vigild stops cleanly" test $? = 0
