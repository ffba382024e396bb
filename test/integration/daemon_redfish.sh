#!/usr/bin/env bash
# Redfish against a local HTTPS service (test/peers/rfsim.py, DMTF-shaped
# fixtures, a certificate made here): the fixtures are a Redfish service
# Debian's redfishtool reads; PowerState, Health and sensors read back in
# both the Thermal/Power and the ThermalSubsystem/Sensors styles, through
# session and basic auth; a critical log entry and power off: hardware; a
# graceful shutdown through the Reset action: customer; an expired session
# logs in again; a certificate not trusted is refused, tls_verify false is
# logged; one BMC answering after 20 s and one never answering do not
# delay the others (their polls stay on time, from the database).
set -u
. "$TOP/test/lib.sh"

RFSIM=$TOP/test/peers/rfsim.py
PY=/usr/bin/python3

check "the fixtures are a Redfish service redfishtool reads" \
	bash "$TOP/test/peers/rfsim-check.sh" "$WORK/rfcheck"

port=$(free_port tcp)
addrs="127.0.5.1 127.0.5.2 127.0.5.3 127.0.5.4 127.0.5.5 127.0.5.6"
san=$(for a in $addrs; do printf 'IP:%s,' "$a"; done)
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=rfsim \
	-addext "subjectAltName=${san%,}" -keyout "$WORK/key.pem" -out "$WORK/cert.pem" \
	> "$WORK/openssl.log" 2>&1 || { not_ok "make a certificate"; cat "$WORK/openssl.log"; exit 1; }

rm -f "$WORK/rf.ready"
"$PY" "$RFSIM" --cert "$WORK/cert.pem" --key "$WORK/key.pem" --ctl "$WORK/rf.ctl" \
	--ready "$WORK/rf.ready" --stats "$WORK/rf.stats" \
	--bmc a=127.0.5.1:$port --bmc b=127.0.5.2:$port:subsystem \
	--bmc slow=127.0.5.3:$port:delay=20 --bmc dead=127.0.5.4:$port:hang \
	--bmc basic=127.0.5.5:$port --bmc self=127.0.5.6:$port \
	> "$WORK/rfsim.log" 2>&1 &
rf_pid=$!
register_pid "$rf_pid"
wait_until 15 test -s "$WORK/rf.ready" || { not_ok "rfsim started"; cat "$WORK/rfsim.log"; exit 1; }
ctl() { echo "$*" > "$WORK/rf.ctl"; }

secrets=$WORK/rf-secrets.json
printf '{ "username": "vigil", "password": "vigilpass" }\n' > "$secrets"
chmod 600 "$secrets"

conf=$WORK/vigil.json
db=$WORK/vigil.db
ca=$WORK/cert.pem
cat > "$conf" <<JSON
{
  "storage": { "path": "vigil.db", "batch_ms": 100, "heartbeat_s": 1 },
  "templates": { "rf": {
      "sources": { "bmc": { "type": "redfish", "port": $port, "secrets": "$secrets",
                            "interval_s": 1, "timeout_ms": 3000 } },
      "metrics": {
        "power": { "source": "bmc", "read": "power" },
        "health": { "source": "bmc", "read": "health" },
        "cpu": { "source": "bmc", "read": "sensor:CPU Temp" },
        "fan": { "source": "bmc", "read": "sensor:Fan 1" },
        "watts": { "source": "bmc", "read": "sensor:Power Consumed" },
        "cpu_state": { "source": "bmc", "read": "sensor_state:CPU Temp" } },
      "availability": [ { "name": "powered-off", "when": "power == off", "cause": "unknown" } ] } },
  "hosts": [
    { "name": "rf-a", "address": "127.0.5.1", "template": "rf",
      "sources": { "bmc": { "ca_file": "$ca" } } },
    { "name": "rf-b", "address": "127.0.5.2", "template": "rf",
      "sources": { "bmc": { "ca_file": "$ca" } } },
    { "name": "rf-slow", "address": "127.0.5.3", "template": "rf",
      "sources": { "bmc": { "ca_file": "$ca", "interval_s": 30, "timeout_ms": 30000 } } },
    { "name": "rf-dead", "address": "127.0.5.4", "template": "rf",
      "sources": { "bmc": { "ca_file": "$ca", "timeout_ms": 5000 } } },
    { "name": "rf-basic", "address": "127.0.5.5", "template": "rf",
      "sources": { "bmc": { "ca_file": "$ca", "auth": "basic" } } },
    { "name": "rf-untrusted", "address": "127.0.5.6", "template": "rf" },
    { "name": "rf-noverify", "address": "127.0.5.6", "template": "rf",
      "sources": { "bmc": { "tls_verify": false } } }
  ]
}
JSON
chmod 600 "$conf"

value_of() { # HOST METRIC: value or quality, from the samples view
	sqlite3 -cmd '.timeout 2000' "$db" "SELECT coalesce(s.value, s.quality) FROM samples s
		JOIN hosts h ON h.id = s.host_id WHERE h.name = '$1' AND s.metric = '$2'" 2> /dev/null
}
quality_is() { # HOST QUALITY: of the host's last poll
	[ "$(sqlite3 -cmd '.timeout 2000' "$db" "SELECT last_quality FROM hosts WHERE name = '$1'" 2> /dev/null)" = "$2" ]
}
value_is() { [ "$(value_of "$1" "$2")" = "$3" ]; }

start_vigild -c "$conf"
check "legacy Thermal/Power: CPU Temp 45" wait_until 20 value_is rf-a cpu 45
check "legacy: Fan 1 3000 RPM, Power Consumed 180 W" \
	eval 'value_is rf-a fan 3000 && value_is rf-a watts 180'
check "PowerState On, Health OK" eval 'value_is rf-a power 1 && value_is rf-a health 0'
check "ThermalSubsystem/Sensors style: CPU Temp 45, Fan 1 3000" \
	wait_until 10 eval 'value_is rf-b cpu 45 && value_is rf-b fan 3000'
check "basic auth" wait_until 10 value_is rf-basic cpu 45
check "a certificate not trusted: error, the reason logged" \
	wait_until 10 eval 'quality_is rf-untrusted error && grep -q "rf-untrusted.*SSL certificate problem\|rf-untrusted.*certificate" "$WORK/vigild.log"'
check "tls_verify false: polled, and logged at start" \
	wait_until 10 eval 'value_is rf-noverify power 1 && grep -q "rf-noverify.*TLS verification OFF" "$WORK/vigild.log"'

# health and a sensor changed at run time
ctl 'a health Critical'
check "Health Critical read as 2" wait_until 10 value_is rf-a health 2
ctl 'a health OK'
ctl 'a sensor "CPU Temp" 90'
check "CPU Temp 90: its state critical" wait_until 10 eval 'value_is rf-a cpu 90 && value_is rf-a cpu_state 2'
ctl 'a sensor "CPU Temp" 45'
wait_until 10 value_is rf-a cpu_state 0

# a hardware fault: a critical log entry, then power off
ctl 'a log Critical Processor "CPU 1 internal error (IERR)"'
sleep 1.5
ctl 'a power Off'
check "PowerState Off: down" wait_until 10 state_is rf-a down
hardware() {
	py 'assert len(rows) == 1, rows
a = rows[0]["evidence"]["attribution"]
assert rows[0]["cause"] == "hardware" and a["row"] == 3, rows[0]
assert any(s["signal"] == "fault" and "IERR" in s["text"] for s in a["signals"]), a' \
	V intervals --json --host rf-a
}
check "cause hardware, the log entry in the evidence" wait_until 10 hardware
ctl 'a power On'
check "PowerState On: up" wait_until 10 state_is rf-a up

# a graceful shutdown through the Reset action, as the customer would
reset_rc=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$WORK/cert.pem" -u vigil:vigilpass \
	-H 'Content-Type: application/json' -d '{"ResetType": "GracefulShutdown"}' \
	"https://127.0.5.2:$port/redfish/v1/Systems/1/Actions/ComputerSystem.Reset")
check "Reset GracefulShutdown accepted ($reset_rc)" test "$reset_rc" = 204
check "graceful shutdown: down" wait_until 10 state_is rf-b down
customer() {
	py 'iv = rows[0]
assert iv["cause"] == "customer" and iv["evidence"]["attribution"]["row"] == 4, iv' \
	V intervals --json --host rf-b
}
check "cause customer" wait_until 10 customer
ctl 'b power On'

# the session expires: vigild logs in again and keeps reading
logins() { kill -USR1 "$rf_pid"; sleep 0.3; "$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]]["logins"])' "$WORK/rf.stats" "$1"; }
before=$(logins a)
ctl 'a expire'
relogged() { [ "$(logins a)" -gt "$before" ]; }
check "an expired session: logged in again" wait_until 10 relogged
ctl 'a sensor "CPU Temp" 50'
check "values after the new login" wait_until 10 value_is rf-a cpu 50

# the slow and the hung BMC never delay the others: every fast host's
# last poll stays fresh (polled every 1 s: never older than 1.6 s)
late=0 looks=0
for _ in $(seq 30); do
	now=$(now_ms)
	oldest=$(sqlite3 -cmd '.timeout 2000' "$db" "SELECT min(last_poll_ms) FROM hosts WHERE name IN ('rf-a', 'rf-b', 'rf-basic', 'rf-noverify')")
	looks=$((looks + 1))
	[ -n "$oldest" ] && [ $(( now - oldest )) -le 1600 ] || { late=$((late + 1)); echo "# fast polls $(( now - ${oldest:-0} )) ms old" >&2; }
	sleep 0.5
done
check "4 BMCs on time beside one answering after 20 s and one never ($late of $looks looks late)" \
	test "$late" = 0
# every request of the slow one takes 20 s, so its poll (a login, then the
# System and the rest) cannot end within its 30 s: it must end at it,
# as a timeout, without holding anything else up
check "the slow BMC's poll ends at its deadline, as a timeout" wait_until 40 quality_is rf-slow timeout
check "the hung BMC reads timeout" wait_until 10 quality_is rf-dead timeout
check "vigild stops cleanly" stop_vigild
tail_on_failure 60 "$WORK/vigild.log"
