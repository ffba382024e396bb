#!/usr/bin/env bash
# Crash consistency: vigild killed with SIGKILL at random moments while the
# site it watches misbehaves, restarted each time on the same config and
# database. Three private snmpd agents on 127.0.0.1 (ephemeral ports) serve
# six hosts, each with its own link and temperature OIDs, polled every 1 s
# with three availability rules (unreachable, link == down, temp > 80 for
# 2 s). A chaos loop flips the values and stops and starts the agents the
# whole time, so intervals open, close and split around the kills.
#
# Each round starts vigild, kills it (-9) at one of four kinds of moment
# (a random delay, the instant a "committed" line appears, the instant a
# transition is queued, or during startup), and checks the database after
# the restart and after the kill, with python3's sqlite3 (read-only):
#   - PRAGMA integrity_check is ok
#   - no two intervals of one host and one origin overlap
#   - at most one open interval per host
#   - every interval has its interval_open event, and its interval_close
#     event once closed (a transition and its event are one transaction)
#   - every transition any run logged as committed is in the database with
#     the same id, host, cause, rule and start (and, once closed, the end)
# and that the killed run logged no error (<3> or worse: say a close the
# database had no open interval for). At the end a last run is stopped
# with SIGTERM and checked the same way.
#
# Environment: SOAK_KILLS (kills, default 5: 15-20 s), KILL9_SEED (the
# random seed, printed: repeats the choices, not the timing), KILL9_KEEP (a dir:
# on failure the database and every run's log are copied there).
set -u
. "$TOP/test/lib.sh"

KILLS=${SOAK_KILLS:-5}
WORK=$(cd "$WORK" && pwd) # as start-snmpd.sh spells it (kill_ours below)
SEED=${KILL9_SEED:-$(( $(date +%s%N) % 32768 ))}
NHOSTS=6 NAGENTS=3
RUN_MAX_MS=4000         # longest random delay before a kill
# The whole script's budget (run.sh's own bound is 600 s): rounds stop
# starting once it is spent, reported as a failure.
BUDGET_S=$(( 60 + KILLS * 12 ))
RANDOM=$SEED
echo "# daemon_kill9: $KILLS kills, seed $SEED"
t_begin=$(date +%s)

conf=$WORK/vigil.json
db=$WORK/vigil.db
logs=$WORK/logs
mkdir -p "$logs" "$WORK/tmp"

# --- the checker -----------------------------------------------------------
cat > "$WORK/k9check.py" <<'PY'
"""k9check.py DB LOGDIR LABEL: the crash-consistency checks, one TAP line
each; details of a failure on stderr. Read-only: the daemon's next start,
not this, recovers the WAL."""
import calendar, glob, re, sqlite3, sys

db, logdir, label = sys.argv[1:4]
OPEN = re.compile(r"^<\d>host (.+?): interval (\d+) opened \(cause ([^,]+), rule (.+?), "
                  r"start (\S+)\): committed$")
CLOSE = re.compile(r"^<\d>host (.+?): interval (\d+) closed \(cause ([^,]+), rule (.+?), "
                   r"start (\S+), end (\S+), duration (\d+)\.(\d{3}) s\): committed$")
failed = False

def ok(msg): print("ok - %s: %s" % (label, msg))

def not_ok(msg, details=()):
    global failed
    failed = True
    print("not ok - %s: %s" % (label, msg))
    for d in list(details)[:20]:
        print("#   " + d, file=sys.stderr)

def ms(iso):  # 2026-11-23T10:00:00.000Z
    m = re.fullmatch(r"(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)\.(\d{3})Z", iso)
    if not m:
        return None
    y, mo, d, h, mi, s, f = map(int, m.groups())
    return calendar.timegm((y, mo, d, h, mi, s)) * 1000 + f

def iso(v):
    if v is None:
        return "open"
    return "%s.%03dZ" % (__import__("time").strftime("%Y-%m-%dT%H:%M:%S",
                         __import__("time").gmtime(v // 1000)), v % 1000)

def connect():
    return sqlite3.connect("file:%s?mode=ro" % db, uri=True, timeout=10)

try:
    con = connect()
    ic = [r[0] for r in con.execute("PRAGMA integrity_check")]
    con.close()
except sqlite3.Error as e:
    ic = ["integrity_check itself failed: %s" % e]
if ic == ["ok"]:
    ok("PRAGMA integrity_check is ok")
else:
    not_ok("PRAGMA integrity_check: %s" % "; ".join(ic[:3]), ic)

try:
    con = connect()
    rows = con.execute(
        "SELECT i.id, h.name, i.cause, i.start_ms, i.end_ms, i.opened_by, i.closed_by, "
        "i.origin, i.host_id FROM intervals i JOIN hosts h ON h.id = i.host_id").fetchall()
    events = con.execute(
        "SELECT interval_id, kind, count(*) FROM events WHERE interval_id IS NOT NULL "
        "GROUP BY interval_id, kind").fetchall()
    con.close()
except sqlite3.Error as e:
    for what in ("no overlap", "one open", "events", "committed lines"):
        not_ok("%s: the intervals cannot be read: %s" % (what, e))
    sys.exit(0)

# No two intervals of one host and one origin overlap (touching is fine: a
# split closes and opens at the same observation).
by = {}
for r in rows:
    by.setdefault((r[1], r[7]), []).append(r)
bad = []
for (host, origin), ivs in sorted(by.items()):
    ivs.sort(key=lambda r: (r[3], r[0]))
    for a, b in zip(ivs, ivs[1:]):
        if a[4] is None or a[4] > b[3]:
            bad.append("host %s origin %s: interval %d [%s, %s) overlaps interval %d [%s, %s)"
                       % (host, origin, a[0], iso(a[3]), iso(a[4]), b[0], iso(b[3]), iso(b[4])))
if bad:
    not_ok("%d overlapping pair(s) of intervals, first: %s" % (len(bad), bad[0]), bad)
else:
    ok("no two intervals of a host and origin overlap (%d intervals, %d hosts)"
       % (len(rows), len({r[1] for r in rows})))

opens = {}
for r in rows:
    if r[4] is None:
        opens.setdefault(r[1], []).append(r[0])
bad = ["host %s: open intervals %s" % (h, ids) for h, ids in sorted(opens.items()) if len(ids) > 1]
if bad:
    not_ok("%d host(s) with more than one open interval: %s" % (len(bad), bad[0]), bad)
else:
    ok("at most one open interval per host (%d open)" % len(opens))

# A transition and its event are one transaction: every interval of the
# daemon has one interval_open event, and one interval_close once closed;
# no event names an interval that is not there.
ev = {}
for iid, kind, n in events:
    ev[(iid, kind)] = n
bad = []
for r in rows:
    if r[7] != "monitor":
        continue
    want = {"interval_open": 1, "interval_close": 0 if r[4] is None else 1}
    for kind, n in sorted(want.items()):
        if ev.get((r[0], kind), 0) != n:
            bad.append("interval %d (host %s, %s): %d %s event(s), expected %d"
                       % (r[0], r[1], "open" if r[4] is None else "closed",
                          ev.get((r[0], kind), 0), kind, n))
ids = {r[0] for r in rows}
bad += ["%d %s event(s) for interval %d, which is not in the table" % (n, kind, iid)
        for iid, kind, n in events if iid not in ids]
if bad:
    not_ok("%d mismatch(es) of intervals and their open/close events, first: %s"
           % (len(bad), bad[0]), bad)
else:
    ok("every interval has its open event and, once closed, its close event")

# Every transition logged as committed, by any run so far, is in the
# database as logged. Opened: id, host, cause, rule (opened_by), start (the
# row may have been closed since, by a later run). Closed: the same plus
# the end and the closing rule.
byid = {r[0]: r for r in rows}
n_open = n_close = 0
bad = []
for path in sorted(glob.glob(logdir + "/run-*.log")):
    run = path.rsplit("/", 1)[-1][:-4]
    with open(path, errors="replace") as f:
        for line in f:
            if not line.endswith("\n"):
                continue  # a line cut by the kill says nothing
            line = line.rstrip("\n")
            m = OPEN.match(line)
            c = None if m else CLOSE.match(line)
            if not m and not c:
                continue
            g = (m or c).groups()
            host, iid, cause, rule, start = g[0], int(g[1]), g[2], g[3], ms(g[4])
            r = byid.get(iid)
            want = "%s: %s" % (run, line[3:])
            if m:
                n_open += 1
            else:
                n_close += 1
            if r is None:
                bad.append("%s -- no interval %d in the database" % (want, iid))
                continue
            have = ("row: id %d host %s cause %s start %s end %s opened_by %s closed_by %s"
                    % (r[0], r[1], r[2], iso(r[3]), iso(r[4]), r[5], r[6]))
            diff = []
            if r[1] != host: diff.append("host")
            if r[2] != cause: diff.append("cause")
            if r[3] != start: diff.append("start")
            if m and r[5] != rule: diff.append("opened_by")
            if c:
                end, dur = ms(g[5]), int(g[6]) * 1000 + int(g[7])
                if r[4] != end: diff.append("end")
                if r[6] != rule: diff.append("closed_by")
                if end is None or start is None or end - start != dur:
                    diff.append("duration in the line itself")
            if diff:
                bad.append("%s -- %s differ(s); %s" % (want, ", ".join(diff), have))
if bad:
    not_ok("%d of %d committed transition line(s) not in the database as logged, first: %s"
           % (len(bad), n_open + n_close, bad[0]), bad)
else:
    ok("all %d committed transition lines (%d opened, %d closed) match the database"
       % (n_open + n_close, n_open, n_close))
print("# transitions %d %d" % (n_open, n_close))
PY
k9check() { # LABEL: the checks over the database and every run's log so far
	local out rc l
	out=$(timeout 60 python3 "$WORK/k9check.py" "$db" "$logs" "$1" 2> "$WORK/check.err")
	rc=$?
	while IFS= read -r l; do
		case $l in
		'ok - '*) echo "$l" ;;
		'not ok - '*) not_ok "${l#not ok - }" ;;
		'# transitions '*) last_transitions=${l#\# transitions } ;;
		esac
	done <<< "$out"
	[ "$rc" = 0 ] || not_ok "$1: the checker itself failed (exit $rc)"
	[ -s "$WORK/check.err" ] && { echo "# $1:" >&2; cat "$WORK/check.err" >&2; }
}
last_transitions="0 0"

# --- the site --------------------------------------------------------------
# Host i is served by agent i % NAGENTS, from its own OIDs: link 3.i
# (1 up, 2 down) and temp 1.i.
agent_of() { echo $(( $1 % NAGENTS )); }
for i in $(seq 0 $((NHOSTS - 1))); do
	a=$WORK/agent$(agent_of "$i")
	mkdir -p "$a/values"
	set_snmp_value "$a" "3.$i" "integer 1"
	set_snmp_value "$a" "1.$i" "gauge 40"
done
# Agents and vigild come and go hundreds of times in a soak, so their PIDs
# are not left in lib.sh's list (it would signal every one at exit, by then
# maybe another process's): the live ones are in WORK/agentN.pid and $dpid,
# and k9_exit stops each after checking /proc that it is still that process.
kill_ours() { # PID WORD [SIGNAL]: kill PID if its command line has WORD
	[ -n "$1" ] && tr '\0' ' ' 2>/dev/null < "/proc/$1/cmdline" | grep -qF -- "$2" &&
		kill "-${3:-TERM}" "$1" 2>/dev/null
}
agent_start() { # N: (re)start agent N on its port; its PID in WORK/agentN.pid
	local pid
	if pid=$("$TOP/test/peers/snmpd/start-snmpd.sh" "$(cat "$WORK/agent$1.port")" \
		"$WORK/agent$1" 127.0.0.1); then
		echo "$pid" > "$WORK/agent$1.pid"
	else
		: > "$WORK/agent$1.pid"
		return 1
	fi
}
agent_stop() { # N
	local pid
	pid=$(cat "$WORK/agent$1.pid" 2>/dev/null)
	[ -n "$pid" ] || return 0
	kill_ours "$pid" "$WORK/agent$1/" &&
		{ wait_until 10 pid_gone "$pid" || kill_ours "$pid" "$WORK/agent$1/" KILL; }
	: > "$WORK/agent$1.pid"
}
chaos_pid= dpid=
k9_exit() {
	local rc=$? a
	touch "$WORK/stop-chaos"
	# The chaos loop finishes its step (an agent restart is bounded by
	# start-snmpd.sh), so no agent it starts is left unrecorded.
	[ -n "$chaos_pid" ] && { wait_until 20 pid_gone "$chaos_pid" ||
		kill -9 "$chaos_pid" 2>/dev/null; }
	kill_ours "$dpid" "$conf" KILL
	for a in $(seq 0 $((NAGENTS - 1))); do
		agent_stop "$a"
		# One the chaos loop was killed while starting (snmpd's own file).
		kill_ours "$(cat "$WORK/agent$a/snmpd.pid" 2>/dev/null)" "$WORK/agent$a/"
	done
	if [ "$_vgl_failed" != 0 ] && [ -n "${KILL9_KEEP:-}" ]; then
		mkdir -p "$KILL9_KEEP" && cp -r "$WORK"/vigil.* "$logs" "$KILL9_KEEP"/ 2>/dev/null &&
			echo "# kept the database and the logs in $KILL9_KEEP" >&2
	fi
	(exit "$rc")
	cleanup
}
trap k9_exit EXIT

for a in $(seq 0 $((NAGENTS - 1))); do
	free_port udp > "$WORK/agent$a.port"
	agent_start "$a" || { not_ok "start snmpd $a"; exit 1; }
done

{
	cat <<EOF
{
  "storage": { "path": "vigil.db", "batch_ms": 200, "heartbeat_s": 1 },
  "templates": {
    "srv": {
      "snmp": { "version": "2c", "community": "public", "interval_s": 1,
                "timeout_ms": 200, "retries": 0 },
      "metrics": {
        "temp": ".1.3.6.1.4.1.99999.1.0",
        "link": { "oid": ".1.3.6.1.4.1.99999.3.0", "enum": { "up": 1, "down": 2 } }
      },
      "availability": [
        { "name": "unreachable", "unreachable": 2, "cause": "network" },
        { "name": "link-down", "when": "link == down", "cause": "hardware" },
        { "name": "hot", "when": "temp > 80", "for_s": 2, "cause": "facility" }
      ]
    }
  },
  "hosts": [
EOF
	for i in $(seq 0 $((NHOSTS - 1))); do
		sep=,; [ "$i" = $((NHOSTS - 1)) ] && sep=
		cat <<EOF
    { "name": "k9-$i", "address": "127.0.0.1", "template": "srv",
      "snmp": { "port": $(cat "$WORK/agent$(agent_of "$i").port") },
      "metrics": { "temp": ".1.3.6.1.4.1.99999.1.$i",
                   "link": { "oid": ".1.3.6.1.4.1.99999.3.$i", "enum": { "up": 1, "down": 2 } } } }$sep
EOF
	done
	echo '  ]'
	echo '}'
} > "$conf"
"$VIGILD" -t -c "$conf" > "$WORK/t.out" 2>&1
check "vigild -t accepts the kill -9 site" [ $? = 0 ] || { cat "$WORK/t.out" >&2; exit 1; }

# --- chaos: values flip, agents stop and start ----------------------------
chaos() {
	RANDOM=$(( (SEED + 7919) % 32768 ))
	local r h a d
	while [ ! -e "$WORK/stop-chaos" ]; do
		r=$(( RANDOM % 12 )) h=$(( RANDOM % NHOSTS )) d=$WORK/agent$(agent_of "$h")
		if [ "$r" -lt 6 ]; then # toggle the link
			if grep -q 'integer 1' "$d/values/3.$h"; then
				set_snmp_value "$d" "3.$h" "integer 2"
			else
				set_snmp_value "$d" "3.$h" "integer 1"
			fi
		elif [ "$r" -lt 11 ]; then # toggle the temperature
			if grep -q 'gauge 40' "$d/values/1.$h"; then
				set_snmp_value "$d" "1.$h" "gauge 95"
			else
				set_snmp_value "$d" "1.$h" "gauge 40"
			fi
		else # stop an agent for 0.5-2.4 s
			a=$(( RANDOM % NAGENTS ))
			agent_stop "$a"
			sleep "$(( RANDOM % 2 )).$(( 5 + RANDOM % 5 ))"
			[ -e "$WORK/stop-chaos" ] && break
			agent_start "$a" || echo "# chaos: agent $a did not come back" >&2
		fi
		sleep "0.$(( 1 + RANDOM % 4 ))"
	done
}
chaos &
chaos_pid=$!


# --- the rounds --------------------------------------------------------------
# kill_on_line PID LOG REGEX TIMEOUT_S: SIGKILL PID the moment LOG gets one
# more line matching REGEX than it has now (polled every 2 ms), or when
# TIMEOUT_S is up. Prints "line" or "timeout".
kill_on_line() {
	timeout $(( $4 + 10 )) python3 - "$@" <<'PY'
import os, re, signal, sys, time
pid, path, rx, limit = int(sys.argv[1]), sys.argv[2], re.compile(sys.argv[3]), float(sys.argv[4])
def count():
    with open(path, errors="replace") as f:
        return sum(1 for l in f if rx.search(l))
base, end, why = count(), time.monotonic() + limit, "timeout"
while time.monotonic() < end:
    if count() > base:
        why = "line"
        break
    time.sleep(0.002)
try:
    os.kill(pid, signal.SIGKILL)
except ProcessLookupError:
    why = "gone before the kill"
print(why)
PY
}
rand_ms() { echo $(( (RANDOM * 32768 + RANDOM) % ($1 + 1) )); }
sleep_ms() { sleep "$(awk -v m="$1" 'BEGIN { printf "%.3f", m / 1000 }')"; }

run=0
start_daemon() {
	run=$((run + 1))
	log=$(printf '%s/run-%03d.log' "$logs" "$run")
	TMPDIR=$WORK/tmp "$VIGILD" -c "$conf" -v > "$log" 2>&1 &
	dpid=$!
}
started() { grep -q 'polling [0-9]* of [0-9]* hosts' "$log"; }

kills=0 by_line=0 timeouts=0
for k in $(seq 1 "$KILLS"); do
	if [ $(( $(date +%s) - t_begin )) -ge "$BUDGET_S" ]; then
		not_ok "time budget of $BUDGET_S s spent after $((k - 1)) of $KILLS kills"
		break
	fi
	# The first four rounds take each kind of moment once, then at random.
	mode=$(( k <= 4 ? k - 1 : RANDOM % 4 ))
	start_daemon
	if [ "$mode" != 3 ]; then
		if wait_until 20 started; then
			k9check "run $run started"
		else
			not_ok "run $run: vigild started polling within 20 s"
		fi
	fi
	case $mode in
	0) d=$(rand_ms "$RUN_MAX_MS"); what="after $d ms"; sleep_ms "$d"; kill -KILL "$dpid" 2>/dev/null ;;
	1) what="at a committed line: $(kill_on_line "$dpid" "$log" ': committed$' 8)" ;;
	2) what="at a queued transition: $(kill_on_line "$dpid" "$log" '; recording$' 8)" ;;
	3) d=$(rand_ms 400); what="during startup, after $d ms"; sleep_ms "$d"; kill -KILL "$dpid" 2>/dev/null ;;
	esac
	kill -KILL "$dpid" 2>/dev/null # in case a helper above timed out
	wait "$dpid" 2>/dev/null
	rc=$?
	kills=$((kills + 1))
	case $what in *': line') by_line=$((by_line + 1)) ;; *': timeout') timeouts=$((timeouts + 1)) ;; esac
	if [ "$rc" = 137 ]; then
		ok "run $run: vigild ran until SIGKILL ($what)"
	else
		not_ok "run $run: vigild ran until SIGKILL ($what), but it exited with status $rc"
		tail -n 20 "$log" >&2
	fi
	check "run $run logged no error line" eval '! grep -q "^<[0-3]>" "$log"'
	k9check "after kill $k"
done

# --- a last run, stopped cleanly -------------------------------------------
start_daemon
check "last run $run starts polling" wait_until 20 started
sleep 3
kill -TERM "$dpid"
wait_until 30 pid_gone "$dpid" ||
	{ not_ok "last run stops within 30 s of SIGTERM"; kill -KILL "$dpid"; }
wait "$dpid"
check "last run stops on SIGTERM with status 0" [ $? = 0 ]
check "last run logged no error line" eval '! grep -q "^<[0-3]>" "$log"'
k9check "end"
read -r n_open n_close <<< "$last_transitions"
check "the chaos made transitions to check ($n_open opened, $n_close closed lines over $run runs)" \
	[ $(( n_open + n_close )) -gt 0 ]
echo "# daemon_kill9: $kills kills ($by_line at a log line, $timeouts waited in vain), $run runs," \
	"$n_open opened + $n_close closed committed lines checked, $(( $(date +%s) - t_begin )) s"
if [ "$_vgl_failed" != 0 ]; then
	echo "--- error lines of every run" >&2
	grep -H '^<[0-3]>' "$logs"/run-*.log | tail -n 40 >&2
	echo "--- last run's log (tail)" >&2
	tail -n 40 "$log" >&2
fi
