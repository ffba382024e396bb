#!/usr/bin/env bash
# vigild reloads while another process holds the database's write lock.
# The reload's database work runs off the loop thread, so the loop still
# answers signals at once (a second SIGHUP is refused within 1 s, not after
# the lock is released), a reload that outlasts the busy timeout fails
# without stopping the daemon (the old configuration keeps polling), and a
# SIGTERM in the middle of a reload still stops cleanly.
set -u
. "$TOP/test/lib.sh"
p1=$(free_port udp)
start_snmpd "$p1" "$WORK/a1" 127.0.0.1 > /dev/null || { not_ok "start snmpd"; exit 1; }
conf=$WORK/vigil.json
db=$WORK/vigil.db
log=$WORK/vigild.log
host() { echo ', { "name": "'"$1"'", "address": "127.0.0.1", "template": "srv", "snmp": { "port": '"$p1"' } }'; }
write_conf() { write_reload_conf "$conf" "$p1" "$1"; }
has_host() { V hosts --json 2>/dev/null | python3 -c '
import json, sys
sys.exit(0 if any(h["name"] == sys.argv[1] for h in json.load(sys.stdin)) else 1)' "$1"; }
n_lines() { grep -c -- "$1" "$log"; }
more_lines() { [ "$(n_lines "$1")" -gt "$2" ]; }

# Holds the write lock for $1 s from a separate process; returns once the
# lock is held (the flag file appears), or 1 after 10 s.
lock_db() {
	rm -f "$WORK/locked"
	python3 - "$db" "$1" "$WORK/locked" <<'PY' &
import sqlite3, sys, time
c = sqlite3.connect(sys.argv[1], timeout=10, isolation_level=None)
c.execute("BEGIN IMMEDIATE")
open(sys.argv[3], "w").close()
time.sleep(float(sys.argv[2]))
c.execute("COMMIT")
c.close()
PY
	lock_pid=$!
	register_pid $lock_pid
	wait_until 10 test -e "$WORK/locked"
}

write_conf "$(host h2)"
start_vigild -c "$conf" -v # its log is $log
check "h2 up" wait_until 10 state_is h2 up

# 1. Lock held 4 s, inside SQLite's 5 s busy timeout: the reload waits in
# a worker; a second SIGHUP is answered at once; the reload then completes.
write_conf "$(host h2)$(host h3)"
check "lock held (4 s)" lock_db 4
kill -HUP $dpid
sleep 0.5
ign=$(n_lines "SIGHUP ignored")
t0=$(now_ms)
kill -HUP $dpid
check "second SIGHUP refused within 1 s while the DB is locked" \
	wait_until 1 more_lines "SIGHUP ignored" "$ign"
t1=$(now_ms)
echo "# second SIGHUP answered after $((t1 - t0)) ms"
check "refused before the lock was released" kill -0 "$lock_pid"
check "lock released" wait_until 8 pid_gone "$lock_pid"
check "reload completes after the lock" wait_until 10 grep -q "reloaded: 3 hosts" "$log"
check "added h3 polled (state up)" wait_until 10 state_is h3 up
lp=$(host_field "$conf" keep last_poll)
check "keep still polled" wait_until 5 eval '[ "$(host_field "$conf" keep last_poll)" != "$lp" ]'

# 2. Lock held past the busy timeout. The store's writer thread may hold
# the connection through its own busy wait (up to 5 s) before the reload
# gets it and waits another 5 s: 12 s makes the failure certain.
write_conf "$(host h2)$(host h3)$(host h4)"
check "lock held (12 s)" lock_db 12
kill -HUP $dpid
check "reload fails with the database locked" \
	wait_until 12 grep -q "reload of .* failed: .*; the running configuration stays" "$log"
check "daemon still running" kill -0 $dpid
check "lock released" wait_until 10 pid_gone "$lock_pid"
# vigil hosts lists the config file's hosts: h4 is there, never polled.
check "vigil hosts answers, h4 not polled" eval 'has_host h4 && [ "$(host_field "$conf" h4 last_poll)" = None ]'
lp=$(host_field "$conf" keep last_poll)
check "old config still polled" wait_until 5 eval '[ "$(host_field "$conf" keep last_poll)" != "$lp" ]'
kill -HUP $dpid
check "a later SIGHUP succeeds" wait_until 10 grep -q "reloaded: 4 hosts" "$log"
check "added h4 polled (state up)" wait_until 10 state_is h4 up

# 3. SIGTERM while the reload waits for the lock: the stop proceeds once the
# worker returns; nothing half-reloaded is left behind.
write_conf "$(host h2)"
check "lock held (3 s)" lock_db 3
kill -HUP $dpid
sleep 0.3
kill -TERM $dpid
check "daemon stops" wait_until 15 pid_gone "$dpid"
wait $dpid
check "stop 0" [ $? = 0 ]
check "no reload after the stop" eval '! grep -q "reloaded: 1 hosts" "$log"'
tail_on_failure 60 "$log"
