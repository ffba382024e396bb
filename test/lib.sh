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

VGL_TOP=${TOP:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
# PIDs live in a file, not a variable: start_snmpd usually runs inside
# $(...), a subshell whose variables are lost.
_vgl_pids=$(mktemp "${TMPDIR:-/tmp}/vgl-pids-XXXXXX")
_vgl_failed=0

register_pid() { echo "$1" >> "$_vgl_pids"; }

cleanup() {
	local rc=$? pid
	trap - EXIT
	if [ -f "$_vgl_pids" ]; then
		while read -r pid; do
			[ -n "$pid" ] && kill "$pid" 2>/dev/null
		done < "$_vgl_pids"
		# Bounded wait for them to go, then no more mercy.
		for _ in $(seq 30); do
			local alive=0
			while read -r pid; do
				[ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && alive=1
			done < "$_vgl_pids"
			[ "$alive" = 0 ] && break
			sleep 0.1
		done
		while read -r pid; do
			[ -n "$pid" ] && kill -9 "$pid" 2>/dev/null
		done < "$_vgl_pids"
		rm -f "$_vgl_pids"
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

host_field() { # CONF HOST FIELD: that field of `vigil hosts --json`
	"$VIGIL" -c "$1" hosts --json 2>/dev/null | python3 -c '
import json, sys
for h in json.load(sys.stdin):
    if h["name"] == sys.argv[1]: print(h.get(sys.argv[2]))' "$2" "$3"
}
