#!/usr/bin/env bash
# The HTTP API against a running vigild (docs/api.md): every endpoint's
# answer against the CLI's --json on the same database, tokens (none,
# unknown, read-only, operator, reads that need one after a reload), bad
# requests answered 4xx with nothing changed, the event stream, TLS with a
# certificate made here, and polling on time while 50 clients read a year
# of intervals (and one reads slowly). Peers: a TCP port we open and close
# (the host's source), snmpd for a second host; all on 127.0.0.1.
set -u
. "$TOP/test/lib.sh"
trap 'rc=$?; tail_on_failure 40 "$WORK/vigild.log"; (exit $rc); cleanup' EXIT

OPT=op-token-0123456789abcdef
RDT=rd-token-0123456789abcdef
port=$(free_port tcp)
tport=$(free_port tcp)
sport=$(free_port udp)
conf=$WORK/vigil.json
db=$WORK/vigil.db
base=http://127.0.0.1:$port/api/v1
code() { curl -s -o "$WORK/body" -w '%{http_code}' "$@"; }
# for wait_until, which runs a command again and again (a $(...) in its
# arguments would be expanded once)
n_up() { [ "$(V --json hosts 2>/dev/null | grep -c '"state":"up"')" -ge "$1" ]; }
web_up() { V --json hosts 2>/dev/null | grep '"name":"web"' | grep -q '"state":"up"'; }
web_open() { [ "$(V --json intervals --host web --open 2>/dev/null | grep -c '"id"')" = 1 ]; }
reloads() { [ "$(grep -c "reloaded" "$WORK/vigild.log")" -ge "$1" ]; }

agent=$WORK/agent
start_snmpd "$sport" "$agent" 127.0.0.1 > /dev/null || { not_ok "start snmpd"; exit 1; }
set_snmp_value "$agent" 1.0 "gauge 21"

# The TCP port of host "web": open = up. Every accepted connection's time
# goes to a file: the daemon's polls, as seen from outside.
start_listener() {
	python3 -u -c '
import socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(64)
log = open(sys.argv[2], "a")
while True:
    c, _ = s.accept()
    log.write("%.3f\n" % time.time())
    log.flush()
    c.close()
' "$tport" "$WORK/accepts" &
	lpid=$!
	register_pid "$lpid"
}

cat > "$WORK/tokens.json" <<JSON
{ "tokens": [ { "name": "alice", "role": "operator", "token": "$OPT" },
              { "name": "wall", "role": "read", "token": "$RDT" } ] }
JSON
chmod 600 "$WORK/tokens.json"

write_conf() { # EXTRA_API_KEYS
	cat > "$conf" <<JSON
{
  "storage": { "path": "vigil.db", "batch_ms": 100, "heartbeat_s": 1 },
  "api": { "listen": "127.0.0.1:$port", "tokens_file": "tokens.json", "max_body": 4096 $1 },
  "hosts": [
    { "name": "web", "address": "127.0.0.1", "site": "hcm1", "service": "vserver",
      "customer": "acme",
      "sources": { "https": { "type": "tcp", "port": $tport, "interval_s": 1, "timeout_ms": 300 } },
      "metrics": { "up": { "source": "https", "value": "up" },
                   "connect": { "source": "https", "value": "connect_ms" } },
      "availability": [ { "name": "port-closed", "when": "up == 0", "cause": "network",
                          "alarm": { "severity": "critical" } } ] },
    { "name": "sw", "address": "127.0.0.1", "site": "hcm1",
      "snmp": { "community": "public", "port": $sport, "interval_s": 1, "timeout_ms": 300,
                "retries": 0 },
      "metrics": { "temp": ".1.3.6.1.4.1.99999.1.0" } },
    { "name": "old", "address": "127.0.0.9", "site": "hcm2", "service": "vserver",
      "customer": "acme",
      "sources": { "https": { "type": "tcp", "port": $tport, "interval_s": 3600 } },
      "metrics": { "up": { "source": "https", "value": "up" } } }
  ]
}
JSON
	chmod 600 "$conf"
}

# ---- the config's checks ----
write_conf ""
chmod 644 "$WORK/tokens.json"
out=$("$VIGILD" -t -c "$conf" 2>&1)
check "a tokens file others can read is refused, naming it and the fix" \
	grep -q "vigil.json:3:.*api.tokens_file: secret file .*tokens.json' is accessible by group or others (mode 0644): chmod 600 it" <<< "$out"
chmod 600 "$WORK/tokens.json"
sed 's/"127.0.0.1:'"$port"'"/"localhost:80"/' "$conf" > "$WORK/bad.json"
out=$("$VIGILD" -t -c "$WORK/bad.json" 2>&1)
check "a listen address that is a name is refused at its position" \
	grep -q "bad.json:3:.*api.listen: 'localhost:80': 'localhost' is not a numeric IP address" <<< "$out"
valid() { "$VIGILD" -t -c "$conf" > /dev/null; }
check "the config is valid" valid

# A year of closed intervals for host "old" (polled hourly, never down
# now): what the 50 readers below ask for.
start_vigild -c "$conf"
wait_until 10 grep -q "api: listening on http://127.0.0.1:$port/" "$WORK/vigild.log" ||
	not_ok "vigild listens"
stop_vigild
python3 - "$db" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
hid = db.execute("select id from hosts where name='old'").fetchone()[0]
t0 = 1735689600000  # 2025-01-01
rows = [(hid, "hardware", t0 + i * 3000000, t0 + i * 3000000 + 60000, "cond", "cond",
         '{"n":%d}' % i, t0) for i in range(10000)]
db.executemany("insert into intervals (host_id, cause, start_ms, end_ms, opened_by, "
               "closed_by, evidence, created_ms) values (?,?,?,?,?,?,?,?)", rows)
db.commit()
PY

start_listener
start_vigild -c "$conf"
wait_until 10 grep -q "api: listening" "$WORK/vigild.log" || not_ok "vigild listens again"
wait_until 10 n_up 2 ||
	not_ok "web and sw are up"

jq_py() { python3 -c "import json,sys; d=json.load(open('$WORK/body')); print($1)"; }

# ---- reads, against the CLI ----
check "GET /hosts answers 200" test "$(code "$base/hosts")" = 200
api_keys=$(jq_py "sorted(d[0].keys())")
cli_keys=$(V --json hosts | python3 -c "import json,sys; print(sorted(json.load(sys.stdin)[0].keys()))")
check "GET /hosts has the keys of vigil hosts --json" test "$api_keys" = "$cli_keys"
check "GET /hosts lists the three hosts in config order" \
	test "$(jq_py "[h['name'] for h in d]")" = "['web', 'sw', 'old']"
check "GET /hosts/sw answers 200" test "$(code "$base/hosts/sw")" = 200
check "the host page has the latest value with its quality and source" \
	test "$(jq_py "[(x['metric'], x['source'], x['value'], x['quality']) for x in d['values']]")" = "[('temp', 'snmp', 21, 'ok')]"
check "... and its sources" \
	test "$(jq_py "[(s['name'], s['type'], s['quality']) for s in d['sources']]")" = "[('snmp', 'snmp', 'ok')]"
check "GET /hosts/nope is 404 naming it" \
	test "$(code "$base/hosts/nope")/$(jq_py "d['error']")" = "404/unknown host 'nope'"

# web goes down: an interval and an alarm; the event stream tells
curl -s -N "$base/events" > "$WORK/events" &
cpid=$!
register_pid "$cpid"
sleep 0.5
kill "$lpid"
wait_until 10 web_open ||
	not_ok "web's interval opens"
wait_until 10 grep -q '"state":"raised"' "$WORK/events"
check "the event stream carries the raised alarm" grep -q '^data: {"id":[0-9]*,"host":"web".*"state":"raised"' "$WORK/events"
check "... and the host going down with its cause" \
	grep -q '^data: {"host":"web","site":"hcm1","state":"down","cause":"network"' "$WORK/events"
check "... after its hello" grep -q '^event: hello' "$WORK/events"
code "$base/alarms?active=1" > /dev/null
aid=$(jq_py "d[0]['id']")
check "GET /alarms?active=1 lists web's alarm" test "$(jq_py "d[0]['host']")" = web
api_alarms=$(python3 -c "import json; print(json.load(open('$WORK/body')))")
cli_alarms=$(V --json alarms --active | python3 -c "import json,sys; print(json.load(sys.stdin))")
check "GET /alarms?active=1 equals vigil alarms --active --json" test "$api_alarms" = "$cli_alarms"
code "$base/hosts/web" > /dev/null
check "the host page shows the open interval and the month's numbers" \
	test "$(jq_py "(d['state'], d['open_interval']['cause'], d['month']['policy'], d['month']['allowance_ms'] > 0)")" = "('down', 'network', 'vserver', True)"
code "$base/intervals?host=web&open=1" > /dev/null
api_iv=$(python3 -c "import json; print(json.load(open('$WORK/body')))")
cli_iv=$(V --json intervals --host web --open | python3 -c "import json,sys; print(json.load(sys.stdin))")
check "GET /intervals?host=web&open=1 equals vigil intervals --json" test "$api_iv" = "$cli_iv"
check "GET /intervals over 2025 of host old has its 10000 intervals" \
	test "$(code "$base/intervals?host=old&from=2025-01-01&to=2026-01-01&limit=20000")/$(jq_py "len(d)")" = 200/10000
check "GET /intervals stops at limit and says so" \
	test "$(curl -s -D - -o /dev/null "$base/intervals?host=old&limit=5" | grep -ci '^X-Vigil-Truncated: true')" = 1
check "GET /alarms/ID has the log and the outbox" \
	test "$(code "$base/alarms/$aid")/$(jq_py "(d['id'], d['log'][0]['action'], type(d['outbox']).__name__)")" = "200/($aid, 'raised', 'list')"

# ---- tokens ----
check "a write without a token is 401" test "$(code -X POST "$base/alarms/$aid/ack")" = 401
check "... with a WWW-Authenticate challenge" \
	grep -qi '^WWW-Authenticate: Bearer' <(curl -s -D - -o /dev/null -X POST "$base/alarms/$aid/ack")
check "an unknown token is 401" \
	test "$(code -H "Authorization: Bearer nope-nope-nope-nope" "$base/hosts")" = 401
check "a read token may not write (403)" \
	test "$(code -H "Authorization: Bearer $RDT" -X POST "$base/alarms/$aid/ack")" = 403
check "nothing was acknowledged by those" test -z "$(sqlite3 "$db" "select acked_by from alarms where id=$aid")"

# ---- bad requests change nothing ----
snap() { sqlite3 "$db" "select (select count(*) from alarm_log), (select count(*) from silences), (select count(*) from maint_windows), (select count(*) from intervals), (select count(*) from interval_causes)"; }
before=$(snap)
A=(-H "Authorization: Bearer $OPT" -H 'Content-Type: application/json')
check "an unknown alarm is 404" test "$(code "${A[@]}" -X POST "$base/alarms/999999/ack")" = 404
check "a body that is not JSON is 400" test "$(code "${A[@]}" -X POST -d '{oops' "$base/silences")" = 400
check "a silence on an unknown host is 400 naming it" \
	test "$(code "${A[@]}" -X POST -d '{"host":"nope","for_s":60,"reason":"x"}' "$base/silences")/$(jq_py "'nope' in d['error']")" = 400/True
check "a bad time is 400 naming the field" \
	test "$(code "${A[@]}" -X POST -d '{"host":"web","start":"soon","end":"2026-12-01","note":"x"}' "$base/maintenance")/$(jq_py "d['error'].startswith('start')")" = 400/True
check "an oversized body is 413" \
	test "$(head -c 10000 /dev/zero | tr '\0' ' ' | code "${A[@]}" -X POST --data-binary @- "$base/silences")" = 413
check "an unknown cause is 400" \
	test "$(code "${A[@]}" -X POST -d '{"host":"web","cause":"gremlins","start":"2026-11-01","end":"2026-11-02","note":"x"}' "$base/intervals")" = 400
check "an overlapping interval is refused (409)" \
	test "$(code "${A[@]}" -X POST -d "{\"host\":\"old\",\"cause\":\"power\",\"start\":\"2025-01-01T00:00:30Z\",\"end\":\"2025-01-01T00:00:40Z\",\"note\":\"x\"}" "$base/intervals")" = 409
check "a bad month is 400" test "$(code "$base/sla?month=2026-13")" = 400
check "an unknown endpoint is 404" test "$(code "$base/nope")" = 404
check "DELETE is 405" test "$(code -X DELETE "$base/hosts")" = 405
check "the bad requests changed nothing" test "$(snap)" = "$before"

# ---- writes ----
check "an operator acknowledges (200)" \
	test "$(code "${A[@]}" -X POST -d '{"comment":"on it"}' "$base/alarms/$aid/ack")" = 200
check "the database has the token's name as who acknowledged" \
	test "$(sqlite3 "$db" "select acked_by from alarms where id=$aid")" = alice
check "a second ack is 409 saying by whom" \
	test "$(code "${A[@]}" -X POST "$base/alarms/$aid/ack")/$(jq_py "'already acknowledged by alice' in d['error']")" = 409/True
wait_until 5 grep -q '"state":"acknowledged"' "$WORK/events"
check "the stream tells of the acknowledgement (the daemon's control read)" grep -q '"state":"acknowledged","kind":"avail"' "$WORK/events"
check "a comment (200)" test "$(code "${A[@]}" -X POST -d '{"text":"cable swapped"}' "$base/alarms/$aid/comment")" = 200
check "a silence (201) for 10 minutes" \
	test "$(code "${A[@]}" -X POST -d '{"host":"web","for_s":600,"reason":"work"}' "$base/silences")/$(jq_py "(d['created_by'], d['status'])")" = "201/('alice', 'active')"
sid=$(jq_py "d['id']")
check "GET /silences equals vigil silence list --json" \
	test "$(code "$base/silences")/$(python3 -c "import json; print(json.load(open('$WORK/body')))")" = "200/$(V --json silence list | python3 -c "import json,sys; print(json.load(sys.stdin))")"
check "the silence is removed (200)" test "$(code "${A[@]}" -X POST "$base/silences/$sid/remove")" = 200
check "a maintenance window (201)" \
	test "$(code "${A[@]}" -X POST -d '{"host":"web","start":"2026-12-20T00:00:00Z","end":"2026-12-20T02:00:00Z","note":"firmware"}' "$base/maintenance")/$(jq_py "d['created_by']")" = "201/operator:alice"
mid=$(jq_py "d['id']")
check "GET /maintenance equals vigil maint list --json" \
	test "$(code "$base/maintenance")/$(python3 -c "import json; print(json.load(open('$WORK/body')))")" = "200/$(V --json maint list | python3 -c "import json,sys; print(json.load(sys.stdin))")"
check "it is cancelled (200)" test "$(code "${A[@]}" -X POST -d '{"note":"moved"}' "$base/maintenance/$mid/cancel")" = 200
check "an interval a customer claims (201)" \
	test "$(code "${A[@]}" -X POST -d '{"host":"web","cause":"power","start":"2026-11-02T00:00:00Z","end":"2026-11-02T00:30:00Z","note":"claim 4711"}' "$base/intervals")/$(jq_py "(d['origin'], d['cause'])")" = "201/('operator', 'power')"
iid=$(jq_py "d['id']")
check "it is reclassified (200)" \
	test "$(code "${A[@]}" -X POST -d '{"cause":"customer","note":"their breaker"}' "$base/intervals/$iid/reclassify")/$(jq_py "(d['old_cause'], d['new_cause'], d['by'])")" = "200/('power', 'customer', 'operator:alice')"
check "the CLI sees the new cause" test "$(V --json intervals --host web --from 2026-11-01 --to 2026-11-03 | grep -c '"cause":"customer"')" = 1

# The SLA of a closed month, equal to the CLI's (no open interval in it).
code "$base/sla?month=2026-11&customer=acme" > /dev/null
strip='import json,sys; d=json.load(sys.stdin); [o.pop("as_of", None) for o in d]; print(d)'
check "GET /sla?month=2026-11&customer=acme equals vigil sla --json" \
	test "$(python3 -c "$strip" < "$WORK/body")" = "$(V sla --month 2026-11 --customer acme --json 2>/dev/null | python3 -c "$strip")"

# ---- reads that need a token, after a reload ----
write_conf ', "read_requires_token": true'
kill -HUP "$dpid"
wait_until 10 grep -q "reloaded" "$WORK/vigild.log"
check "after the reload a read without a token is 401" test "$(code "$base/hosts")" = 401
check "... and with the read token 200" test "$(code -H "Authorization: Bearer $RDT" "$base/hosts")" = 200
check "/metrics needs it too" test "$(code "http://127.0.0.1:$port/metrics")" = 401
check "the event stream takes the token as ?access_token= (EventSource sends no header)" \
	grep -q '^event: hello' <(curl -s -m 2 -N "$base/events?access_token=$RDT")
check "... a wrong one is 401" test "$(code -m 2 "$base/events?access_token=nope-nope-nope-nope")" = 401
check "... and no other endpoint takes it" test "$(code "$base/hosts?access_token=$RDT")" = 401
write_conf ""
kill -HUP "$dpid"
wait_until 10 reloads 2
check "/metrics counts the two reloads" \
	grep -q '^vigil_config_reloads_total 2$' <(curl -s "http://127.0.0.1:$port/metrics")

# ---- polling on time while 50 clients read and one reads slowly ----
start_listener
wait_until 20 web_up ||
	not_ok "web is up again"
: > "$WORK/accepts"
t0=$(date +%s.%N)
curl -s --limit-rate 20k -o /dev/null "$base/intervals?host=old&limit=20000" &
slow=$!
register_pid "$slow"
rpids=()
for i in $(seq 50); do
	( end=$(( $(date +%s) + 12 ))
	  while [ "$(date +%s)" -lt "$end" ]; do
		curl -s -o /dev/null -w '%{http_code}\n' "$base/intervals?host=old&from=2025-01-01&to=2026-01-01&limit=20000"
	  done ) >> "$WORK/readers.$i" &
	rpids+=($!)
	register_pid $!
done
wait "${rpids[@]}"
t1=$(date +%s.%N)
n_ok=$(cat "$WORK"/readers.* | grep -c '^200$')
n_bad=$(cat "$WORK"/readers.* | grep -vc '^200$')
gaps=$(python3 - "$WORK/accepts" "$t0" "$t1" <<'PY'
import sys
ts = [float(l) for l in open(sys.argv[1]) if l.strip()]
t0, t1 = float(sys.argv[2]), float(sys.argv[3])
g = [b - a for a, b in zip([t0] + ts, ts + [t1])]
print("%d %.2f" % (len(ts), max(g)))
PY
)
echo "# 50 readers: $n_ok answers of 10000 intervals ($n_bad other); polls of web: ${gaps% *}, longest gap ${gaps#* } s" >&2
check "the 50 readers were answered (at least 50, all 200)" test "$n_ok" -ge 50 -a "$n_bad" = 0
check "web was polled every second meanwhile (longest gap under 2 s)" \
	python3 -c "import sys; n, g = '$gaps'.split(); sys.exit(not (float(g) < 2.0 and int(n) >= 10))"
check "the slow reader is still being served or done, not blocking" kill -0 "$dpid"

# ---- TLS ----
stop_vigild
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$WORK/key.pem" -out "$WORK/cert.pem" \
	-days 2 -subj "/CN=127.0.0.1" -addext "subjectAltName=IP:127.0.0.1" 2> /dev/null
chmod 600 "$WORK/key.pem"
write_conf ', "tls_cert": "cert.pem", "tls_key": "key.pem"'
start_vigild -c "$conf"
wait_until 10 grep -q "api: listening on https://127.0.0.1:$port/" "$WORK/vigild.log" ||
	not_ok "vigild listens with TLS"
check "HTTPS with the certificate answers GET /hosts" \
	test "$(curl -s --cacert "$WORK/cert.pem" -o /dev/null -w '%{http_code}' "https://127.0.0.1:$port/api/v1/hosts")" = 200
check "plain HTTP to the TLS port gets no answer" \
	test "$(curl -s -m 3 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/api/v1/hosts")" != 200
chmod 644 "$WORK/key.pem"
check "a key others can read is refused" \
	grep -q "api.tls_key: secret file .*key.pem' is accessible by group or others" <("$VIGILD" -t -c "$conf" 2>&1)
check "vigild stops cleanly" stop_vigild
