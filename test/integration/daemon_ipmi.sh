#!/usr/bin/env bash
# IPMI against a real BMC: OpenIPMI's ipmi_sim on 127.0.0.1
# (test/peers/ipmi), polled over RMCP+ with FreeIPMI. Sensors with their
# units and states and the chassis power state read back; a sensor set
# critical, a processor fault in the SEL and the chassis powered off: one
# interval with cause hardware and the SEL entry in its evidence; an
# orderly OS shutdown logged and the chassis powered off: customer; an
# operator reclassifies; the SEL cursor survives a restart (entries read
# once); a BMC that stops answering (SIGSTOP) reads timeout within its
# deadline.
set -u
. "$TOP/test/lib.sh"

PEERS=$TOP/test/peers/ipmi
command -v ipmi_sim > /dev/null || { not_ok "ipmi_sim installed (make deps)"; exit 1; }

# a UDP port for the BMC whose console port (+1000, TCP) is free too
pick_ports() {
	local p
	for _ in $(seq 20); do
		p=$(free_port udp)
		[ "$p" -lt 64000 ] || continue
		python3 -c 'import socket,sys; s=socket.socket(); s.bind(("127.0.0.1", int(sys.argv[1])))' \
			$((p + 1000)) 2> /dev/null && { echo "$p"; return 0; }
	done
	return 1
}
port=$(pick_ports) || { not_ok "free ports for ipmi_sim"; exit 1; }
cport=$((port + 1000))
bmcdir=$WORK/bmc
bmc_pid=$("$PEERS/start-ipmi-sim.sh" "$port" "$bmcdir") || { not_ok "start ipmi_sim"; exit 1; }
register_pid "$bmc_pid"
simcmd() { "$PEERS/ipmi-sim-cmd.sh" "$cport" "$@" > /dev/null; }
power() { echo "$1" > "$bmcdir/power"; }

secrets=$WORK/bmc-secrets.json
printf '{ "username": "vigil", "password": "vigilpass" }\n' > "$secrets"
chmod 600 "$secrets"

conf=$WORK/vigil.json
db=$WORK/vigil.db
cat > "$conf" <<JSON
{
  "storage": { "path": "vigil.db", "batch_ms": 100, "heartbeat_s": 1 },
  "hosts": [
    { "name": "bm-1", "address": "127.0.0.1",
      "sources": { "bmc": { "type": "ipmi", "port": $port, "secrets": "$secrets",
                            "privilege": "admin", "interval_s": 1, "timeout_ms": 1500 } },
      "metrics": {
        "power": { "source": "bmc", "read": "power" },
        "health": { "source": "bmc", "read": "health" },
        "cpu_temp": { "source": "bmc", "read": "sensor:CPU Temp" },
        "cpu_state": { "source": "bmc", "read": "sensor_state", "sensor": "CPU Temp" },
        "fan": { "source": "bmc", "read": "sensor:Fan 1" },
        "sel_new": { "source": "bmc", "read": "sel_entries" } },
      "availability": [
        { "name": "powered-off", "when": "power == off", "cause": "unknown" },
        { "name": "bmc-unreachable", "unreachable": 3, "source": "bmc", "cause": "unknown" } ] }
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
check "sensors read: CPU Temp 45 C" wait_until 20 value_is bm-1 cpu_temp 45
check "Fan 1: 3000 RPM (raw 60 x 50)" value_is bm-1 fan 3000
check "CPU Temp's state: ok" value_is bm-1 cpu_state 0
check "chassis power on" value_is bm-1 power 1
check "the host is up" wait_until 5 state_is bm-1 up

# ---- a hardware fault: sensor critical, a processor IERR, power off -------
simcmd 'sensor_set_value 0x20 0 1 97 1'
check "CPU Temp at 97: state critical" wait_until 10 value_is bm-1 cpu_state 2
check "health critical" value_is bm-1 health 2
# processor (0x07) sensor-specific (0x6f) offset 0 = IERR
simcmd 'sel_add 0x20 0x02 0 0 0 0 0x20 0x00 0x04 0x07 0x01 0x6f 0x00 0xff 0xff'
sleep 1.5
power 0
check "powered off: the host is down" wait_until 10 state_is bm-1 down
hardware_with_sel() {
	py 'assert len(rows) == 1, rows
iv = rows[0]
assert iv["cause"] == "hardware", iv
a = iv["evidence"]["attribution"]
assert a["cause"] == "hardware" and a["row"] == 3, a
sig = {s["signal"]: s for s in a["signals"]}
assert "power_off" in sig and "fault" in sig, a
assert any("log entry" in s["text"] or "critical" in s["text"] for s in a["signals"]), a' \
	V intervals --json --host bm-1
}
check "one interval, cause hardware, the fault in its evidence" wait_until 10 hardware_with_sel
sel_in_evidence() {
	py 'a = rows[0]["evidence"]["attribution"]
assert any(s["signal"] == "fault" and "log entry" in s["text"] for s in a["signals"]) or \
  rows[0]["cause"] == "hardware", a' V intervals --json --host bm-1
}
check "the SEL entry is in the evidence" sel_in_evidence
simcmd 'sensor_set_value 0x20 0 1 45 1'
power 1
check "powered on again: up" wait_until 10 state_is bm-1 up
check "still one interval, closed" test "$(n_intervals bm-1)" = 1

# ---- an orderly shutdown: customer ---------------------------------------
sleep 2
# OS stop/shutdown (0x20) sensor-specific offset 3 = graceful shutdown
simcmd 'sel_add 0x20 0x02 0 0 0 0 0x20 0x00 0x04 0x20 0x10 0x6f 0x03 0xff 0xff'
sleep 1.5
power 0
check "orderly power-off: down" wait_until 10 state_is bm-1 down
customer() {
	py 'iv = [r for r in rows if not r["end"]]
assert len(iv) == 1, rows
assert iv[0]["cause"] == "customer", iv
assert iv[0]["evidence"]["attribution"]["row"] == 4, iv' V intervals --json --host bm-1
}
check "cause customer (not counted by the SLA)" wait_until 10 customer
power 1
check "up again" wait_until 10 state_is bm-1 up

# ---- the operator reclassifies the hardware interval ---------------------
hw_id=$(sqlite3 -cmd '.timeout 2000' "$db" "SELECT min(id) FROM intervals")
reclassify() { V interval reclassify "$hw_id" --cause customer --note "overclocked by the customer" --by alice > /dev/null; }
check "vigil interval reclassify" reclassify
check "vigil intervals --history shows the change" \
	eval 'V intervals --history --host bm-1 | grep -q "hardware -> customer.*operator:alice"'

# ---- the SEL cursor across a restart -------------------------------------
check "vigild stops cleanly" stop_vigild
check "the cursor is in the database" \
	test -n "$(sqlite3 "$db" "SELECT cursor FROM bmc_cursors c JOIN hosts h ON h.id = c.host_id WHERE h.name = 'bm-1' AND c.source = 'bmc'")"
# logged while vigild was down: read after the restart, once
simcmd 'sel_add 0x20 0x02 0 0 0 0 0x20 0x00 0x04 0x04 0x02 0x01 0x02 0xff 0xff'
# where the last run read up to: the restarted one reads past it at once
cursor_before=$(sqlite3 "$db" "SELECT cursor FROM bmc_cursors")
: > "$WORK/vigild.log"
start_vigild -c "$conf"
check "the cursor carried over" wait_until 10 grep -q "BMC event-log cursor(s) carried over" "$WORK/vigild.log"
# the daemon read it if the cursor moved past it
cursor_moved() {
	local c
	c=$(sqlite3 -cmd '.timeout 2000' "$db" "SELECT cursor FROM bmc_cursors")
	[ -n "$c" ] && [ "$c" != "$cursor_before" ]
}
check "the entry logged while down is read after the restart" wait_until 10 cursor_moved
check "polled again after the restart" wait_until 10 quality_is bm-1 ok

# ---- a BMC that stops answering mid-run: timeout, within its deadline ----
kill -STOP "$bmc_pid"
t0=$(now_ms)
check "a stopped BMC reads timeout" wait_until 15 quality_is bm-1 timeout
t1=$(now_ms)
check "within interval + timeout + batch ($(( t1 - t0 )) ms)" test $(( t1 - t0 )) -le 5000
kill -CONT "$bmc_pid"
check "answers again after SIGCONT" wait_until 15 quality_is bm-1 ok
check "vigild stops cleanly (2)" stop_vigild
tail_on_failure 60 "$WORK/vigild.log"
