#!/usr/bin/env bash
# vigild and systemd's notification protocol (daemon/sdnotify.h,
# docs/operations.md "systemd"), against test/sdnotify_recv.py bound where
# NOTIFY_SOCKET points: READY=1 with STATUS= once polling runs, WATCHDOG=1
# every half WATCHDOG_USEC, RELOADING=1 (MONOTONIC_USEC) then READY=1 for
# a reload taken and for one rejected, STOPPING=1 and a clean exit at
# SIGTERM. Then the cases where nothing may be sent: no NOTIFY_SOCKET
# (behaves as before), WATCHDOG_PID of another process (no pings), and a
# socket nobody listens on (one warning, the daemon runs on).
set -u
. "$TOP/test/lib.sh"

sock=$WORK/notify.sock
nlog=$WORK/notify.log
: > "$nlog"
python3 "$TOP/test/sdnotify_recv.py" --socket "$sock" --log "$nlog" \
	> "$WORK/recv.err" 2>&1 < /dev/null &
register_pid $!
wait_until 10 test -S "$sock" || { not_ok "sdnotify_recv.py bound $sock"; cat "$WORK/recv.err" >&2; exit 1; }

# One host, one tcp source on a port nothing listens on: polled every
# second, refused, so its "closed" condition opens an interval.
tport=$(free_port tcp)
conf=$WORK/vigil.json
db=$WORK/vigil.db
cat > "$conf" <<JSON
{
  "storage": { "path": "vigil.db", "batch_ms": 100, "heartbeat_s": 1 },
  "hosts": [
    { "name": "web", "address": "127.0.0.1",
      "sources": { "http": { "type": "tcp", "port": $tport, "interval_s": 1, "timeout_ms": 300 } },
      "metrics": { "up": { "source": "http", "value": "up" } },
      "availability": [ { "name": "closed", "when": "up == 0", "cause": "network" } ] }
  ]
}
JSON
cp "$conf" "$WORK/good.json"

# start_with LOG VAR=VALUE...: vigild on $conf in the background, in a
# clean environment plus the VARs, its PID in $dpid. env and bash exec
# into vigild, so $! is vigild's PID; WATCHDOG_PID=self becomes that PID,
# as systemd sets it (sd_watchdog_enabled ignores a WATCHDOG_PID of
# another process).
start_with() {
	local log=$1
	shift
	env -u NOTIFY_SOCKET -u WATCHDOG_USEC -u WATCHDOG_PID "$@" bash -c \
		'[ "${WATCHDOG_PID-}" = self ] && export WATCHDOG_PID=$$; exec "$0" -c "$1"' \
		"$VIGILD" "$conf" >> "$log" 2>&1 < /dev/null &
	dpid=$!
	register_pid "$dpid"
}

# notes PID EXPR: EXPR (python) over the datagrams PID sent, in order, as
# rows (sdnotify_recv.py's entries); true or false is the exit status.
#   at(KEY, VAL=None, after=-1)  index of the first row after `after` with
#                                KEY (= VAL), else None
#   st(i)                        row i's STATUS= or ""
#   pings(s)                     WATCHDOG=1 rows of the last s seconds
notes() {
	python3 - "$nlog" "$1" "$2" <<'PY'
import json, sys, time
pid = int(sys.argv[2])
rows = [r for r in map(json.loads, open(sys.argv[1])) if r["pid"] == pid]
def at(key, val=None, after=-1):
    for i in range(after + 1, len(rows)):
        f = rows[i]["fields"]
        if key in f and (val is None or f[key] == val):
            return i
    return None
def st(i):
    return rows[i]["fields"].get("STATUS", "") if i is not None else ""
def pings(s):
    now = time.monotonic()
    return [r for r in rows if r["fields"].get("WATCHDOG") == "1" and r["mono"] > now - s]
sys.exit(0 if eval(sys.argv[3]) else 1)
PY
}
n_rows() { notes "$1" 'print(len(rows)) or True'; }

# ---- A: under "systemd", watchdog 2 s ------------------------------------
log=$WORK/vigild-a.log
start_with "$log" NOTIFY_SOCKET="$sock" WATCHDOG_USEC=2000000 WATCHDOG_PID=self
a=$dpid
check "READY=1 once polling has started" wait_until 10 notes "$a" 'at("READY", "1") is not None'
check "READY=1 comes with STATUS= polling 1 of 1 hosts" \
	notes "$a" '"polling 1 of 1 hosts, 0 unavailable" in st(at("READY", "1"))'
check "polling was logged before READY=1 was sent" grep -q 'polling 1 of 1 hosts' "$log"
check "every datagram so far is from vigild's own PID (NotifyAccess=main)" \
	python3 -c 'import json,sys; r=[json.loads(l)["pid"] for l in open(sys.argv[1])]; sys.exit(0 if r and set(r) == {int(sys.argv[2])} else 1)' "$nlog" "$a"
check "watchdog logged: 2000 ms, a ping every 1000 ms" \
	grep -q 'systemd: watchdog of 2000 ms, WATCHDOG=1 every 1000 ms' "$log"
sleep 4.2
check "WATCHDOG=1 at least 3 times in 4 s, at most 6" notes "$a" '3 <= len(pings(4)) <= 6'
check "WATCHDOG=1 about every second (0.6-1.5 s apart)" notes "$a" '
all(0.6 < b["mono"] - a["mono"] < 1.5 for a, b in zip(pings(4), pings(4)[1:]))'

# The port stays closed: the host's interval opens, and STATUS= counts it.
open_1() { [ "$(n_intervals web --open 2>/dev/null)" = 1 ]; }
check "host web unavailable (interval open)" wait_until 10 open_1

# Reload taken: RELOADING=1 with MONOTONIC_USEC (our CLOCK_MONOTONIC),
# then READY=1, whose status sees the open interval.
n=$(n_rows "$a")
kill -HUP "$a"
reloaded() { notes "$a" '(lambda r: r is not None and at("READY", "1", r) is not None)(at("RELOADING", "1", '"$((n - 1))"'))'; }
check "SIGHUP: RELOADING=1, then READY=1" wait_until 10 reloaded
check "RELOADING=1 carries MONOTONIC_USEC within 5 s of the receiver's clock" notes "$a" '
(lambda r: abs(int(rows[r]["fields"]["MONOTONIC_USEC"]) / 1e6 - rows[r]["mono"]) < 5)(at("RELOADING", "1", '"$((n - 1))"'))'
check "the reload was taken" grep -q 'configuration .* reloaded: 1 hosts' "$log"
check "READY=1 after the reload: STATUS= says 1 unavailable" \
	notes "$a" '"polling 1 of 1 hosts, 1 unavailable" in st(at("READY", "1", at("RELOADING", "1", '"$((n - 1))"')))'

# Reload rejected (a broken file): READY=1 all the same, still running.
printf '{ "hosts": [ \n' > "$conf"
n=$(n_rows "$a")
kill -HUP "$a"
check "rejected reload: RELOADING=1, then READY=1" wait_until 10 reloaded
check "the reload was rejected" grep -q 'reload rejected' "$log"
check "vigild still runs after the rejected reload" kill -0 "$a"
cp "$WORK/good.json" "$conf"
sleep 1.5
check "WATCHDOG=1 goes on after the reloads" notes "$a" 'len(pings(1.5)) >= 1'

kill -TERM "$a"
wait "$a"
rc=$?
check "SIGTERM: clean exit (0)" [ "$rc" = 0 ]
check "STOPPING=1 sent, and no READY=1 after it" \
	notes "$a" 'at("STOPPING", "1") is not None and at("READY", "1", at("STOPPING", "1")) is None'
check "no failed send logged" bash -c "! grep -q 'systemd: cannot send' '$log'"
tail_on_failure 40 "$log"

# ---- B: no NOTIFY_SOCKET: as before, silent --------------------------------
log=$WORK/vigild-b.log
start_with "$log" WATCHDOG_USEC=2000000
b=$dpid
check "without NOTIFY_SOCKET: polls" wait_until 10 grep -q 'polling 1 of 1 hosts' "$log"
kill -HUP "$b"
check "without NOTIFY_SOCKET: reloads" wait_until 10 grep -q 'reloaded: 1 hosts' "$log"
sleep 1.2
kill -TERM "$b"
wait "$b"
check "without NOTIFY_SOCKET: clean exit (0)" [ $? = 0 ]
check "without NOTIFY_SOCKET: nothing sent" notes "$b" 'len(rows) == 0'
check "without NOTIFY_SOCKET: no systemd line logged" bash -c "! grep -q 'systemd' '$log'"
tail_on_failure 30 "$log"

# ---- C: WATCHDOG_PID of another process: READY=1, but no pings -----------
log=$WORK/vigild-c.log
start_with "$log" NOTIFY_SOCKET="$sock" WATCHDOG_USEC=400000 WATCHDOG_PID=1
c=$dpid
check "WATCHDOG_PID=1: READY=1 all the same" wait_until 10 notes "$c" 'at("READY", "1") is not None'
sleep 1.5
check "WATCHDOG_PID=1: no WATCHDOG=1 (it is PID 1's watchdog)" notes "$c" 'at("WATCHDOG") is None'
kill -TERM "$c"
wait "$c"
check "WATCHDOG_PID=1: clean exit (0)" [ $? = 0 ]
tail_on_failure 30 "$log"

# ---- D: nobody on NOTIFY_SOCKET: one warning, not one per ping ------------
log=$WORK/vigild-d.log
start_with "$log" NOTIFY_SOCKET="$WORK/nobody.sock" WATCHDOG_USEC=200000 WATCHDOG_PID=self
d=$dpid
check "dead NOTIFY_SOCKET: polls" wait_until 10 grep -q 'polling 1 of 1 hosts' "$log"
sleep 1.5
check "dead NOTIFY_SOCKET: the failed send logged once (15 pings later)" \
	[ "$(grep -c 'systemd: cannot send' "$log")" = 1 ]
check "dead NOTIFY_SOCKET: vigild runs on" kill -0 "$d"
kill -TERM "$d"
wait "$d"
check "dead NOTIFY_SOCKET: clean exit (0)" [ $? = 0 ]
tail_on_failure 30 "$log"
