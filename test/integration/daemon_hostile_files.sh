#!/usr/bin/env bash
# vigild against files that are not what they claim: a FIFO as the config,
# a FIFO dropped into the include directory before a SIGHUP (the reload is
# rejected and a SIGTERM still stops the daemon at once; it used to hang in
# open() for ever), storage.path on a device, and the warning for secrets
# written inline in a file others can read.
set -u
. "$TOP/test/lib.sh"
p1=$(free_port udp)
start_snmpd "$p1" "$WORK/a1" 127.0.0.1 > /dev/null || { not_ok "start snmpd"; exit 1; }
conf=$WORK/vigil.json
mkdir -p "$WORK/hosts.d"
cat > "$conf" <<EOF
{
  "storage": { "path": "vigil.db", "batch_ms": 100, "heartbeat_s": 1 },
  "include": "hosts.d",
  "templates": { "srv": {
      "snmp": { "version": "2c", "community": "public", "port": $p1, "interval_s": 1,
                "timeout_ms": 200, "retries": 0 },
      "metrics": { "link": { "oid": ".1.3.6.1.4.1.99999.3.0", "enum": { "up": 1, "down": 2 } } },
      "availability": [ { "name": "link-down", "when": "link == down", "cause": "hardware" } ] } },
  "hosts": [ { "name": "keep", "address": "127.0.0.1", "template": "srv" } ]
}
EOF
chmod 0644 "$conf"
echo '{ "hosts": [ { "name": "h2", "address": "127.0.0.1", "template": "srv" } ] }' \
	> "$WORK/hosts.d/h2.json"

mkfifo "$WORK/fifo.json"
timeout 10 "$VIGILD" -t -c "$WORK/fifo.json" > /dev/null 2> "$WORK/t1.err"
rc=$?
check "vigild -t -c FIFO: exit 1 at once, naming it (rc $rc)" eval \
	'[ $rc = 1 ] && grep -q "fifo.json: is a FIFO, not a regular file" "$WORK/t1.err"'

"$VIGILD" -t -c "$conf" > /dev/null 2> "$WORK/t2.err"
rc=$?
check "vigild -t warns of secrets inline in a file others can read" eval \
	'[ $rc = 0 ] && grep -q "^warning: $conf: holds SNMP secrets inline" "$WORK/t2.err"'

sed 's|"path": "vigil.db"|"path": "/dev/null"|' "$conf" > "$WORK/devnull.json"
"$VIGILD" -t -c "$WORK/devnull.json" > /dev/null 2> "$WORK/t3.err"
rc=$?
check "vigild -t refuses storage.path /dev/null" eval \
	'[ $rc = 1 ] && grep -q "storage.path: ./dev/null. is a device, not a database file" "$WORK/t3.err"'

start_vigild -c "$conf"
check "h2 polled" wait_until 10 state_is h2 up
mkfifo "$WORK/hosts.d/z.json"
kill -HUP $dpid
rejected() {
	grep -q "z.json: is a FIFO, not a regular file" "$WORK/vigild.log" &&
	grep -q "reload rejected" "$WORK/vigild.log"
}
check "reload with a FIFO in hosts.d: rejected, naming it" wait_until 5 rejected
# The CLI cannot read this config now (the FIFO is an error to it too):
# ask the database whether h2 is still being polled.
last_poll() { sqlite3 -cmd '.timeout 2000' "$WORK/vigil.db" "SELECT last_poll_ms FROM hosts WHERE name = 'h2'"; }
t0=$(last_poll)
newer_poll() { [ "$(last_poll)" -gt "$t0" ]; }
check "still polling after the rejected reload" wait_until 5 newer_poll
kill -HUP $dpid
kill -TERM $dpid
check "SIGTERM right after a SIGHUP with the FIFO there stops it within 5 s" wait_until 5 pid_gone "$dpid"
wait $dpid 2>/dev/null
tail_on_failure 40 "$WORK/vigild.log"
