#!/usr/bin/env bash
# Modbus against a real Modbus server (test/peers/mbsim.c, libmodbus's
# server side) on 127.0.0.0/8: every data type in every order read back,
# an enum in an expression, an exception answer and a gateway's, the
# server's endpoint switched off and on (reconnect, one interval), a PDU
# outlet off and on (one power interval on each of the three hosts it
# alone feeds, none but "degraded" on the A+B host), 50 devices that never
# answer beside 10 that do (4 threadpool threads: the 10 stay on time),
# and RTU over a socat pty pair with two units on the line.
set -u
. "$TOP/test/lib.sh"

MBSIM=${MBSIM:-$(dirname "$VIGILD")/test/mbsim}
[ -x "$MBSIM" ] || { not_ok "mbsim built at $MBSIM"; exit 1; }

# mbsim ARGS...: started in the background, its endpoints' ports in
# $WORK/NAME.ready; PID registered. Prints the PID.
start_mbsim() { # NAME ARGS...
	local name=$1 pid
	shift
	rm -f "$WORK/$name.ready"
	"$MBSIM" --ctl "$WORK/$name.ctl" --ready "$WORK/$name.ready" "$@" \
		>> "$WORK/$name.log" 2>&1 &
	pid=$!
	register_pid "$pid"
	wait_until 10 test -s "$WORK/$name.ready" || { echo "mbsim $name did not start" >&2; cat "$WORK/$name.log" >&2; return 1; }
	echo "$pid"
}
ctl() { echo "$2" > "$WORK/$1.ctl"; }
ep_port() { sed -n "$(( $2 + 1 ))p" "$WORK/$1.ready" | sed 's/.*://'; }

value_of() { # HOST METRIC: value or quality, from the samples view
	sqlite3 -cmd '.timeout 2000' "$db" "SELECT coalesce(s.value, s.quality) FROM samples s
		JOIN hosts h ON h.id = s.host_id WHERE h.name = '$1' AND s.metric = '$2'"
}
value_is() { [ "$(value_of "$1" "$2")" = "$3" ]; }

# ---- part 1: one server, three endpoints: types, restart, PDUs ---------
start_mbsim dev --units 1,2 --regs 1000 127.0.0.1:0 127.0.0.1:0 127.0.0.1:0 127.0.0.1:0 \
	> "$WORK/dev.pid" || { not_ok "start mbsim"; exit 1; }
p_types=$(ep_port dev 0) p_ups=$(ep_port dev 1) p_pa=$(ep_port dev 2) p_pb=$(ep_port dev 3)

# Every type in every order, as the unit test's patterns: holding 100.. for
# ABCD, 120.. CDAB, 140.. BADC, 160.. DCBA; per order int16, uint16,
# int32, uint32, int64, uint64, float32, float64 (20 registers).
ctl dev "set 0 1 hr 100 0xff38 0xff38 0xfffe 0x7960 0xfffe 0x7960 0xffff 0xffff 0xffff 0xfffe 0x0102 0x0304 0x0506 0x0708 0x42f6 0xe979 0xc093 0x4a45 0x6d5c 0xfaad"
ctl dev "set 0 1 hr 120 0xff38 0xff38 0x7960 0xfffe 0x7960 0xfffe 0xfffe 0xffff 0xffff 0xffff 0x0708 0x0506 0x0304 0x0102 0xe979 0x42f6 0xfaad 0x6d5c 0x4a45 0xc093"
ctl dev "set 0 1 hr 140 0x38ff 0x38ff 0xfeff 0x6079 0xfeff 0x6079 0xffff 0xffff 0xffff 0xfeff 0x0201 0x0403 0x0605 0x0807 0xf642 0x79e9 0x93c0 0x454a 0x5c6d 0xadfa"
ctl dev "set 0 1 hr 160 0x38ff 0x38ff 0x6079 0xfeff 0x6079 0xfeff 0xfeff 0xffff 0xffff 0xffff 0x0807 0x0605 0x0403 0x0201 0x79e9 0xf642 0xadfa 0x5c6d 0x454a 0x93c0"
# an alarm word (bits 0, 2, 15), a scaled value, a mode enum, input
# registers and bits as served (ir[i] = 2000 + i, coil i % 2, di (i+1) % 2)
ctl dev "set 0 1 hr 200 0x8005 1234 2"

metrics=""
base=100
for o in ABCD CDAB BADC DCBA; do
	r=$base
	for t in int16:1 uint16:1 int32:2 uint32:2 int64:4 uint64:4 float32:2 float64:4; do
		metrics="$metrics \"${t%%:*}_$o\": { \"source\": \"mb\", \"register\": $r, \"type\": \"${t%%:*}\", \"order\": \"$o\" },"
		r=$(( r + ${t##*:} ))
	done
	base=$(( base + 20 ))
done

conf=$WORK/vigil.json
db=$WORK/vigil.db
cat > "$conf" <<JSON
{
  "storage": { "path": "vigil.db", "batch_ms": 100, "heartbeat_s": 1 },
  "templates": {
    "pdu": { "sources": { "mb": { "type": "modbus", "interval_s": 1, "timeout_ms": 300 } },
             "metrics": { "outlet3": { "source": "mb", "table": "coil", "register": 3 } },
             "availability": [ { "name": "unreachable", "unreachable": 2, "cause": "hardware" } ] }
  },
  "hosts": [
    { "name": "types", "address": "127.0.0.1",
      "sources": { "mb": { "type": "modbus", "port": $p_types, "interval_s": 1, "timeout_ms": 300 } },
      "metrics": { $metrics
        "on_battery": { "source": "mb", "register": 200, "bit": 0 },
        "low_battery": { "source": "mb", "register": 200, "bit": 1 },
        "overload": { "source": "mb", "register": 200, "bit": 2 },
        "fault": { "source": "mb", "register": 200, "bit": 15 },
        "volts": { "source": "mb", "register": 201, "scale": 0.1, "offset": -3 },
        "mode": { "source": "mb", "register": 202, "enum": { "online": 2, "battery": 3 } },
        "ir5": { "source": "mb", "table": "input", "register": 5 },
        "co3": { "source": "mb", "table": "coil", "register": 3 },
        "di3": { "source": "mb", "table": "discrete", "register": 3 },
        "beyond": { "source": "mb", "register": 5000 } },
      "availability": [ { "name": "on-battery", "when": "mode == battery", "cause": "power" } ] },
    { "name": "behind-gw", "address": "127.0.0.1",
      "sources": { "mb": { "type": "modbus", "port": $p_types, "unit": 9, "interval_s": 1, "timeout_ms": 300 } },
      "metrics": { "x": { "source": "mb", "register": 0 } } },
    { "name": "unit2", "address": "127.0.0.1",
      "sources": { "mb": { "type": "modbus", "port": $p_types, "unit": 2, "interval_s": 1, "timeout_ms": 300 } },
      "metrics": { "hr7": { "source": "mb", "register": 7 } } },
    { "name": "ups-r", "address": "127.0.0.1",
      "sources": { "mb": { "type": "modbus", "port": $p_ups, "interval_s": 1, "timeout_ms": 300 } },
      "metrics": { "hr0": { "source": "mb", "register": 0 } },
      "availability": [ { "name": "unreachable", "unreachable": 2, "cause": "hardware" } ] },
    { "name": "pdu-a1", "address": "127.0.0.1", "template": "pdu", "sources": { "mb": { "port": $p_pa } } },
    { "name": "pdu-b1", "address": "127.0.0.1", "template": "pdu", "sources": { "mb": { "port": $p_pb } } },
    { "name": "srv-1", "address": "127.0.0.1", "feeds": ["pdu-a1.outlet3"] },
    { "name": "srv-2", "address": "127.0.0.1", "feeds": ["pdu-a1.outlet3"] },
    { "name": "srv-3", "address": "127.0.0.1", "feeds": ["pdu-a1.outlet3"] },
    { "name": "srv-ab", "address": "127.0.0.1", "feeds": ["pdu-a1.outlet3", "pdu-b1.outlet3"] }
  ]
}
JSON
start_vigild -c "$conf"
wait_until 15 value_is types int16_DCBA -200 || not_ok "types polled"

want_types() {
	local o bad=0
	for o in ABCD CDAB BADC DCBA; do
		value_is types int16_$o -200 || { echo "# int16_$o = $(value_of types int16_$o)" >&2; bad=1; }
		value_is types uint16_$o 65336 || { echo "# uint16_$o = $(value_of types uint16_$o)" >&2; bad=1; }
		value_is types int32_$o -100000 || { echo "# int32_$o = $(value_of types int32_$o)" >&2; bad=1; }
		value_is types uint32_$o 4294867296 || { echo "# uint32_$o = $(value_of types uint32_$o)" >&2; bad=1; }
		value_is types int64_$o -2 || { echo "# int64_$o = $(value_of types int64_$o)" >&2; bad=1; }
		# 0x0102030405060708 as the double it becomes (2^56 + ...: the
		# low bits go), printed exactly
		value_is types uint64_$o 72623859790382848 ||
			{ echo "# uint64_$o = $(value_of types uint64_$o)" >&2; bad=1; }
		value_is types float32_$o 123.456001281738 || { echo "# float32_$o = $(value_of types float32_$o)" >&2; bad=1; }
		value_is types float64_$o -1234.5678 || { echo "# float64_$o = $(value_of types float64_$o)" >&2; bad=1; }
	done
	return $bad
}
check "every type in every order reads back" want_types
check "bits of an alarm word as booleans (0, 2 and 15 set)" \
	eval 'value_is types on_battery 1 && value_is types low_battery 0 && value_is types overload 1 && value_is types fault 1'
check "scale and offset (1234 x 0.1 - 3)" value_is types volts 120.4
check "input register, coil and discrete input" \
	eval 'value_is types ir5 2005 && value_is types co3 1 && value_is types di3 0'
check "an address past the table: illegal_data_address" value_is types beyond illegal_data_address
check "the exception logged against the device and metric" \
	grep -q "modbus types (127.0.0.1 port $p_types unit 1): metric beyond (holding:5000:uint16:ABCD): exception illegal_data_address" "$WORK/vigild.log"
check "a unit the gateway cannot reach: timeout, logged as gateway_target_failed" \
	wait_until 10 grep -q "modbus behind-gw (127.0.0.1 port $p_types unit 9): poll failed (timeout): the gateway answered gateway_target_failed" "$WORK/vigild.log"
check "unit 2 on the same connection" wait_until 10 value_is unit2 hr7 2007

# an enum in an expression: mode 2 (online) -> 3 (battery) -> 2
ctl dev "set 0 1 hr 202 3"
check "mode == battery opens an interval" wait_until 10 state_is types down
ctl dev "set 0 1 hr 202 2"
check "mode == online closes it" wait_until 10 state_is types up

# the UPS's endpoint off: refused, one interval; on: reconnected, closed
wait_until 10 value_is ups-r hr0 1000
ctl dev "down 1"
check "device off: unreachable interval opens" wait_until 15 state_is ups-r down
ctl dev "set 1 1 hr 0 4242"
ctl dev "up 1"
check "device back: values again" wait_until 20 value_is ups-r hr0 4242
check "device back: the interval closed" wait_until 10 state_is ups-r up
check "one interval for the outage" test "$(n_intervals ups-r)" = 1
check "the reconnect logged" grep -q "modbus ups-r .*answers again" "$WORK/vigild.log"

# a PDU outlet off and on
wait_until 10 value_is pdu-a1 outlet3 1
wait_until 10 value_is pdu-b1 outlet3 1
ctl dev "set 2 1 co 3 0"
all_down() { state_is srv-1 down && state_is srv-2 down && state_is srv-3 down; }
check "outlet off: the three hosts it alone feeds are down" wait_until 10 all_down
check "the A+B host is degraded, not down" wait_until 5 state_is srv-ab up
check "vigil hosts says degraded" eval 'V hosts | grep -E "^srv-ab .* degraded .*feeds off: pdu-a1.outlet3"'
ctl dev "set 2 1 co 3 1"
all_up() { state_is srv-1 up && state_is srv-2 up && state_is srv-3 up; }
check "outlet on: all three up again" wait_until 10 all_up
one_power() {
	local h
	for h in srv-1 srv-2 srv-3; do
		py 'assert len(rows) == 1, rows
assert rows[0]["cause"] == "power" and rows[0]["end"], rows
assert rows[0]["evidence"]["decided_by"] == "pdu-a1.outlet3 = 0", rows' V intervals --json --host "$h" || return 1
	done
}
check "exactly one closed power interval each, decided by pdu-a1.outlet3" one_power
check "none on the host with a second live feed" test "$(n_intervals srv-ab)" = 0
check "not degraded once both are live" wait_until 5 eval '! V hosts | grep -q "^srv-ab .*degraded"'
check "vigild stops cleanly" stop_vigild
tail_on_failure 60 "$WORK/vigild.log"

# ---- part 2: 50 devices that never answer beside 10 that do ------------
mport=$(free_port tcp)
start_mbsim farm --silent 0-49 127.0.2.1-127.0.2.50:$mport 127.0.3.1-127.0.3.10:$mport \
	> "$WORK/farm.pid" || { not_ok "start the farm"; exit 1; }
conf=$WORK/farm.json
db=$WORK/farm.db
# The dead ones time out after 3 s, three polls of theirs: with all three
# jobs held by them, an answering device would wait up to 3 s.
{
	echo '{ "storage": { "path": "farm.db", "batch_ms": 100, "heartbeat_s": 1 },'
	echo '  "templates": { "d": { "sources": { "mb": { "type": "modbus", "port": '"$mport"', "interval_s": 1, "timeout_ms": 1000 } },'
	echo '    "metrics": { "hr0": { "source": "mb", "register": 0 } } } },'
	echo '  "hosts": ['
	for i in $(seq 1 10); do echo "    { \"name\": \"live-$i\", \"address\": \"127.0.3.$i\", \"template\": \"d\" },"; done
	for i in $(seq 1 50); do
		sep=,; [ "$i" = 50 ] && sep=
		echo "    { \"name\": \"dead-$i\", \"address\": \"127.0.2.$i\", \"template\": \"d\", \"sources\": { \"mb\": { \"timeout_ms\": 3000 } } }$sep"
	done
	echo '  ] }'
} > "$conf"
: > "$WORK/vigild.log"
UV_THREADPOOL_SIZE=4 start_vigild -c "$conf"
# The live ones come first in the config, so their first polls answer at
# once; then, for 8 s while the 50 dead ones' first round still holds the
# suspect lane (50 x 3 s over 2 jobs), every live device's last poll must
# be fresh at each look: polled every 1 s, never later than 1.6 s (the
# write batch is 0.1 s). Without the lanes a live poll would wait behind
# three dead ones for up to 3 s.
all_live_answered() {
	[ "$(sqlite3 -cmd '.timeout 2000' "$db" "SELECT count(*) FROM hosts WHERE name LIKE 'live-%' AND last_quality = 'ok'" 2>/dev/null)" = 10 ]
}
check "the 10 answering devices answered" wait_until 15 all_live_answered
sleep 2
late=0 looks=0
for _ in $(seq 16); do
	now=$(now_ms)
	oldest=$(sqlite3 -cmd '.timeout 2000' "$db" "SELECT min(last_poll_ms) FROM hosts WHERE name LIKE 'live-%'")
	looks=$((looks + 1))
	[ -n "$oldest" ] && [ $(( now - oldest )) -le 1600 ] || { late=$((late + 1)); echo "# live polls $(( now - ${oldest:-0} )) ms old" >&2; }
	sleep 0.5
done
check "10 answering devices on time beside 50 that never answer ($late of $looks looks late)" test "$late" = 0
# the first round of the dead takes 75 s; those it reached read timeout
some_dead_timeout() {
	[ "$(sqlite3 -cmd '.timeout 2000' "$db" "SELECT count(*) FROM hosts WHERE name LIKE 'dead-%' AND last_quality = 'timeout'")" -ge 4 ]
}
check "the dead ones polled read timeout" some_dead_timeout
# a reload while dead devices hold jobs: the old collector waits for them
# (cancelled where not started), the new one polls the live devices again
reloaded_and_polling() {
	grep -q "configuration .*farm.json reloaded" "$WORK/vigild.log" &&
		[ $(( $(now_ms) - $(sqlite3 -cmd '.timeout 2000' "$db" "SELECT min(last_poll_ms) FROM hosts WHERE name LIKE 'live-%'") )) -le 1600 ]
}
kill -HUP "$dpid"
check "reload with jobs in the threadpool: polling again" wait_until 15 reloaded_and_polling
check "vigild stops cleanly (farm)" stop_vigild
tail_on_failure 40 "$WORK/vigild.log"

# ---- part 3: RTU over a pty pair, two units on one line -----------------
socat -d -d pty,raw,echo=0,link="$WORK/tty-sim" pty,raw,echo=0,link="$WORK/tty-vigil" \
	> "$WORK/socat.log" 2>&1 &
register_pid $!
wait_until 10 test -e "$WORK/tty-vigil" || not_ok "socat made its ptys"
start_mbsim rtu --rtu "$WORK/tty-sim" --units 1,2 > "$WORK/rtu.pid" || not_ok "start mbsim on the pty"
ctl rtu "set 0 2 hr 10 0x42f6 0xe979"
conf=$WORK/rtu.json
db=$WORK/rtu.db
cat > "$conf" <<JSON
{ "storage": { "path": "rtu.db", "batch_ms": 100, "heartbeat_s": 1 },
  "templates": { "r": { "sources": { "mb": { "type": "modbus", "device": "$WORK/tty-vigil", "baud": 9600, "interval_s": 1, "timeout_ms": 500 } } } },
  "hosts": [
    { "name": "rtu-1", "address": "bus", "template": "r", "metrics": { "hr3": { "source": "mb", "register": 3 } } },
    { "name": "rtu-2", "address": "bus", "template": "r", "sources": { "mb": { "unit": 2 } },
      "metrics": { "f": { "source": "mb", "register": 10, "type": "float32" }, "co1": { "source": "mb", "table": "coil", "register": 1 } } }
  ] }
JSON
: > "$WORK/vigild.log"
start_vigild -c "$conf"
check "RTU unit 1 read" wait_until 15 value_is rtu-1 hr3 1003
check "RTU unit 2 on the same line" wait_until 10 value_is rtu-2 f 123.456001281738
check "RTU coil" value_is rtu-2 co1 1
check "vigild stops cleanly (RTU)" stop_vigild
tail_on_failure 40 "$WORK/vigild.log"
