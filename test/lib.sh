# test/lib.sh: helpers for vigil's shell integration tests. Source it:
#   . "$TOP/test/lib.sh"
# It installs an EXIT trap that stops every peer registered here (by PID)
# and makes the script exit 1 if any not_ok was printed.
#
#   free_port udp|tcp            a port free on 127.0.0.1 right now
#   start_snmpd PORT DIR [ADDR]  private snmpd; prints its PID, stopped at exit
#   set_snmp_value DIR SUFFIX "TYPE VALUE"   atomic change of a served value
#   wait_until TIMEOUT_S CMD...  run CMD every 0.1 s until it succeeds (0)
#                                or TIMEOUT_S elapses (1)
#   register_pid PID             stop PID at exit too
#   ok DESC / not_ok DESC        TAP lines "ok - DESC" / "not ok - DESC"
#   check DESC CMD...            ok or not_ok after CMD's status
#   tail_on_failure N FILE       after a not_ok, FILE's last N lines on stderr
#   now_ms                       the wall clock in ms
#   pid_gone PID                 PID is no longer running
#   start_vigild ARGS... / stop_vigild   vigild in the background ($dpid)
#   need_postgres: start it in $WORK/pg or SKIP; q: psql on it
#   start_postgres DIR / stop_postgres   private PostgreSQL ($pg_pid,
#                                $pg_port, $pg_url, PGPASSFILE); returns 2
#                                when the server binaries are missing
#
# These use the script's own $conf, $db and $WORK:
#   V ARGS...                    the CLI on $conf
#   sql SQL...                   sqlite3 on $db, output dropped
#   run_ex CODE NEEDLE CMD...    exit CODE, one stderr line with NEEDLE
#   py CODE CMD...               python CODE over CMD's JSON stdout (rows)
#   host_field CONF HOST FIELD / state_is HOST STATE / n_intervals HOST [--open]

VGL_TOP=${TOP:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
# PIDs live in a file, not a variable: start_snmpd usually runs inside
# $(...), a subshell whose variables are lost.
_vgl_pids=$(mktemp "${TMPDIR:-/tmp}/vgl-pids-XXXXXX")
_vgl_failed=0
_vgl_rmdirs=""

register_pid() { echo "$1" >> "$_vgl_pids"; }

cleanup() {
	local rc=$? pid
	trap - EXIT
	if [ -f "$_vgl_pids" ]; then
		# A line may carry its stop signal: "PID INT" for a postmaster.
		while read -r pid sig; do
			[ -n "$pid" ] && kill -"${sig:-TERM}" "$pid" 2>/dev/null
		done < "$_vgl_pids"
		# Bounded wait for them to go, then no more mercy.
		for _ in $(seq 30); do
			local alive=0
			while read -r pid _; do
				[ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && alive=1
			done < "$_vgl_pids"
			[ "$alive" = 0 ] && break
			sleep 0.1
		done
		while read -r pid _; do
			[ -n "$pid" ] && kill -9 "$pid" 2>/dev/null
		done < "$_vgl_pids"
		rm -f "$_vgl_pids"
		local d
		for d in $_vgl_rmdirs; do rm -rf "$d"; done
	fi
	[ "$_vgl_failed" != 0 ] && [ "$rc" = 0 ] && rc=1
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

ok() { echo "ok - $*"; }
not_ok() { echo "not ok - $*"; _vgl_failed=1; }
check() {
	local desc=$1
	shift
	if "$@"; then ok "$desc"; else not_ok "$desc"; fi
}

# The daemon scripts print the daemon's log only when something failed,
# so a green run stays quiet and a red one says why (run.sh shows stderr).
tail_on_failure() { # N FILE
	[ "$_vgl_failed" = 0 ] || tail -n "$1" "$2" >&2
}

# Timestamps to compare with the CLI's millisecond times and to time waits.
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

# For wait_until: a stopped peer or daemon, without kill's message when it
# is already gone.
pid_gone() { ! kill -0 "$1" 2>/dev/null; }

free_port() { # udp|tcp
	python3 - "${1:-udp}" <<'PY'
import socket, sys
kind = socket.SOCK_DGRAM if sys.argv[1] == "udp" else socket.SOCK_STREAM
s = socket.socket(socket.AF_INET, kind)
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
PY
}

start_snmpd() { # PORT DIR [ADDR]
	local pid
	pid=$("$VGL_TOP/test/peers/snmpd/start-snmpd.sh" "$@") || return 1
	register_pid "$pid"
	echo "$pid"
}

set_snmp_value() { # DIR SUFFIX "TYPE VALUE"
	mkdir -p "$1/values" &&
		printf '%s\n' "$3" > "$1/values/$2.tmp.$$" &&
		mv -f "$1/values/$2.tmp.$$" "$1/values/$2"
}

wait_until() { # TIMEOUT_S CMD...
	local end now
	end=$(( $(date +%s%N) / 1000000 + $(awk -v t="$1" 'BEGIN { printf "%d", t * 1000 }') ))
	shift
	while :; do
		"$@" && return 0
		now=$(( $(date +%s%N) / 1000000 ))
		[ "$now" -ge "$end" ] && return 1
		sleep 0.1
	done
}

# vigild in the background with ARGS, its log appended to
# $WORK/vigild.log (what the daemon scripts grep and show on failure), its
# PID in $dpid and stopped at exit. Call it in the script's shell, not in
# $(...), or $dpid is lost.
start_vigild() { # ARGS...
	"$VIGILD" "$@" >> "$WORK/vigild.log" 2>&1 &
	dpid=$!
	register_pid "$dpid"
}

# The clean stop: SIGTERM to $dpid; returns vigild's exit status.
stop_vigild() {
	kill -TERM "$dpid"
	wait "$dpid"
}

# The CLI on the script's config, $conf.
V() { "$VIGIL" -c "$conf" "$@"; }

# Rows written as the monitor would, in the script's $db; the busy timeout
# lets a write wait for the CLI's own.
sql() { sqlite3 -cmd '.timeout 2000' "$db" "$@" > /dev/null; }

# run_ex CODE NEEDLE CMD...: exit status CODE, exactly one stderr line
# containing NEEDLE, nothing on stdout: how every CLI refusal and bad
# argument must look. What differs is shown on stderr.
run_ex() {
	local want=$1 needle=$2 rc
	shift 2
	"$@" > "$WORK/out" 2> "$WORK/err"
	rc=$?
	if [ "$rc" != "$want" ]; then
		echo "# exit $rc, wanted $want: $*" >&2
		sed 's/^/#   /' "$WORK/err" >&2
		return 1
	fi
	if [ "$(wc -l < "$WORK/err")" != 1 ] || ! grep -qF -- "$needle" "$WORK/err"; then
		echo "# stderr of '$*' is not one line with '$needle':" >&2
		sed 's/^/#   /' "$WORK/err" >&2
		return 1
	fi
	[ ! -s "$WORK/out" ]
}

# py 'python code using rows' CMD...: CMD's stdout parsed as JSON into
# rows, then the code's asserts; CMD's stderr stays in $WORK/err. A script
# may set py_prelude to python defined before the code (its own lookups).
py() {
	local code=$1
	shift
	"$@" > "$WORK/json" 2> "$WORK/err" || { sed 's/^/#   /' "$WORK/err" >&2; return 1; }
	python3 -c "
import json, sys
rows = json.load(open(sys.argv[1]))
${py_prelude:-}$code" "$WORK/json"
}

# The reload scripts' site: host "keep" plus EXTRA (",{host}..." JSON),
# all polled every 1 s at 127.0.0.1:PORT, with a link-down condition.
write_reload_conf() { # FILE PORT EXTRA
cat > "$1" <<EOF
{
  "storage": { "path": "vigil.db", "batch_ms": 100, "heartbeat_s": 1 },
  "templates": { "srv": {
      "snmp": { "version": "2c", "community": "public", "interval_s": 1, "timeout_ms": 200, "retries": 0 },
      "metrics": { "link": { "oid": ".1.3.6.1.4.1.99999.3.0", "enum": { "up": 1, "down": 2 } } },
      "availability": [ { "name": "link-down", "when": "link == down", "cause": "hardware" } ] } },
  "hosts": [
    { "name": "keep", "address": "127.0.0.1", "template": "srv", "snmp": { "port": $2 } }
    $3
  ]
}
EOF
}

# A host as the operator sees it (`vigil hosts --json`), so the daemon
# scripts check what vigild wrote through the CLI.
host_field() { # CONF HOST FIELD: that field of `vigil hosts --json`
	"$VIGIL" -c "$1" hosts --json 2>/dev/null | python3 -c '
import json, sys
for h in json.load(sys.stdin):
    if h["name"] == sys.argv[1]: print(h.get(sys.argv[2]))' "$2" "$3"
}

# For wait_until: HOST's state in `vigil hosts` is STATE.
state_is() { # HOST STATE
	[ "$(host_field "$conf" "$1" state)" = "$2" ]
}

# How many intervals HOST has (with --open: open ones), by the CLI.
n_intervals() { # HOST [--open]
	V intervals --json --host "$@" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))'
}

# ---- notification receivers (docs/alarms.md "Channels") ----------------------
#   start_hookrecv DIR           test/hookrecv.py with its files in DIR
#                                (DIR/port, DIR/log, DIR/ctl: "up", "down",
#                                "hang", "status NNN"); prints "PID PORT"
#   start_alertmanager DIR       a private Alertmanager (test/
#                                start_alertmanager.sh); prints "PID PORT"
#   stop_peer PID                SIGTERM, then a bounded wait (SIGKILL at 3 s)
# Both register their PID, so they are stopped at exit anyway.

start_hookrecv() { # DIR
	local dir=$1 pid
	mkdir -p "$dir" && rm -f "$dir/port"
	[ -f "$dir/ctl" ] || echo up > "$dir/ctl"
	python3 "$VGL_TOP/test/hookrecv.py" --port-file "$dir/port" --log "$dir/log" \
		--ctl "$dir/ctl" > "$dir/stderr" 2>&1 < /dev/null &
	pid=$!
	register_pid "$pid"
	if ! wait_until 10 test -s "$dir/port"; then
		echo "start_hookrecv: no port after 10 s" >&2
		cat "$dir/stderr" >&2
		return 1
	fi
	echo "$pid $(cat "$dir/port")"
}

start_alertmanager() { # DIR
	local out
	out=$("$VGL_TOP/test/start_alertmanager.sh" "$1") || return 1
	register_pid "${out%% *}"
	echo "$out"
}

# A private PostgreSQL (test/start_postgres.sh). Not in $(...): it sets
# $pg_pid, $pg_port and $pg_url (a postgresql:// URL without password;
# PGPASSFILE is exported), or returns 2 when the server binaries are
# missing, for the caller to skip with a message.
start_postgres() { # DIR
	local out rc=0
	out=$("$VGL_TOP/test/start_postgres.sh" "$1") || rc=$?
	[ -f "$1/datadir" ] && _vgl_rmdirs="$_vgl_rmdirs $(cat "$1/datadir")"
	[ "$rc" = 0 ] || return "$rc"
	pg_pid=${out%% *} pg_port=${out##* }
	echo "$pg_pid INT" >> "$_vgl_pids"
	export PGPASSFILE=$1/pgpass
	pg_url="postgresql://vigil@127.0.0.1:$pg_port/postgres"
}

# The scripts' common start: the private server in $WORK/pg with its log
# shown on failure, "ok" once it answers, a SKIP line and exit 0 only when
# the binaries are missing, a failure otherwise; q runs psql on it.
need_postgres() {
	local rc=0
	trap 'rc=$?; tail_on_failure 20 "$WORK/pg/pg.log"; (exit $rc); cleanup' EXIT
	start_postgres "$WORK/pg" || rc=$?
	if [ "$rc" = 2 ]; then
		echo "# SKIP no PostgreSQL server binaries here (make deps installs them)"
		exit 0
	fi
	[ "$rc" = 0 ] || { not_ok "the private PostgreSQL starts"; exit 1; }
	ok "the private PostgreSQL starts (pid $pg_pid, 127.0.0.1:$pg_port)"
}
q() { psql -X -q -w -At -h 127.0.0.1 -p "$pg_port" -U vigil -d postgres "$@"; }

stop_postgres() { # fast shutdown of $pg_pid, bounded
	kill -INT "$pg_pid" 2>/dev/null || return 0
	wait_until 20 pid_gone "$pg_pid"
}

stop_peer() { # PID
	kill "$1" 2>/dev/null || return 0
	wait_until 3 pid_gone "$1" || kill -9 "$1" 2>/dev/null
	return 0
}
