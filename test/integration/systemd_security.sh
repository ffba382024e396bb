#!/usr/bin/env bash
# systemd/vigild.service (docs/operations.md "systemd"): what
# `systemd-analyze security --offline=yes` rates it (2.0 or lower, "OK"),
# `systemd-analyze verify` on it, and the lines the daemon's notify
# protocol and its system calls depend on. Offline: no systemd needs to run.
set -u
. "$TOP/test/lib.sh"

# UNIT: another file to rate (to see this script fail on a weaker one).
unit=${UNIT:-$TOP/systemd/vigild.service}
if ! command -v systemd-analyze > /dev/null 2>&1; then
	ok "systemd-analyze security # SKIP systemd-analyze not installed (package systemd)"
	exit 0
fi

# ---- the exposure score -------------------------------------------------
systemd-analyze security --offline=yes --no-pager "$unit" > "$WORK/sec.out" 2> "$WORK/sec.err"
rc=$?
score=$(sed -n 's/.*Overall exposure level for vigild\.service: \([0-9][0-9.]*\).*/\1/p' "$WORK/sec.out")
check "systemd-analyze security --offline=yes ran and gave a score" test "$rc" = 0 -a -n "$score"
if [ -n "$score" ] && awk -v s="$score" 'BEGIN { exit !(s + 0 <= 2.0) }'; then
	ok "exposure level $score <= 2.0 ($(sed -n 's/.*Overall exposure level for vigild\.service: [0-9.]* \([A-Z]*\).*/\1/p' "$WORK/sec.out"))"
else
	not_ok "exposure level '$score' <= 2.0"
	grep '✗' "$WORK/sec.out" >&2
fi
check "the unit parses without a warning" [ ! -s "$WORK/sec.err" ]
[ -s "$WORK/sec.err" ] && sed 's/^/#   /' "$WORK/sec.err" >&2

# ---- systemd-analyze verify ----------------------------------------------
# verify wants every command to exist, and /usr/local/bin/vigild need not
# here: a copy of the unit with the path make install rewrites pointed at
# the binary under test.
if [ -x "${VIGILD:-}" ]; then
	sed "s#/usr/local/bin/vigild#$VIGILD#g" "$unit" > "$WORK/vigild.service"
	systemd-analyze verify "$WORK/vigild.service" > "$WORK/verify.out" 2>&1
	rc=$?
	check "systemd-analyze verify: exit 0, nothing to say" test "$rc" = 0 -a ! -s "$WORK/verify.out"
	[ -s "$WORK/verify.out" ] && sed 's/^/#   /' "$WORK/verify.out" >&2
else
	ok "systemd-analyze verify # SKIP no VIGILD binary to point ExecStart at"
fi

# ---- what the daemon relies on -------------------------------------------
# last assignment of KEY in [Service]
val() { sed -n "s/^$1=//p" "$unit" | tail -n 1; }
check "Type=notify (vigild sends READY=1)" [ "$(val Type)" = notify ]
check "NotifyAccess=main" [ "$(val NotifyAccess)" = main ]
check "WatchdogSec=30s" [ "$(val WatchdogSec)" = 30s ]
check "ExecStart as make install expects it" \
	[ "$(val ExecStart)" = "/usr/local/bin/vigild -c /etc/vigil/vigil.json" ]
check "ExecStartPre checks the config first" \
	[ "$(val ExecStartPre)" = "/usr/local/bin/vigild -t -c /etc/vigil/vigil.json" ]
check "ExecReload sends SIGHUP" [ "$(val ExecReload)" = '/bin/kill -HUP $MAINPID' ]
check "StateDirectory=vigil (the database's /var/lib/vigil)" [ "$(val StateDirectory)" = vigil ]
check "CAP_NET_RAW is the only capability" \
	test "$(val CapabilityBoundingSet)" = CAP_NET_RAW -a "$(val AmbientCapabilities)" = CAP_NET_RAW
# sd_notify is an AF_UNIX datagram: without it READY=1 never arrives and
# the start times out.
check "RestrictAddressFamilies keeps AF_UNIX for \$NOTIFY_SOCKET" \
	bash -c 'grep -q "^RestrictAddressFamilies=.*AF_UNIX" "$1"' _ "$unit"
# vigild raises RLIMIT_NOFILE with glibc's setrlimit(), which is the
# prlimit64 call: the unit's filter must keep it.
# syscalls_of GROUP: its system calls, the groups it names expanded.
syscalls_of() {
	local line
	systemd-analyze syscall-filter "$1" 2>/dev/null | tail -n +2 |
		while read -r line; do
			case $line in
			'' | '#'*) ;;
			@*) syscalls_of "$line" ;;
			*) echo "$line" ;;
			esac
		done
}
in_group() { syscalls_of "$2" | grep -qx "$1"; }
check "prlimit64 (glibc's setrlimit) is in @system-service" in_group prlimit64 @system-service
dropped() { in_group "$1" @resources || in_group "$1" @privileged; }
check "prlimit64 is in neither @resources nor @privileged, which the unit drops" \
	eval '! dropped prlimit64'
check "the setrlimit call itself is dropped (@resources): glibc does not make it" dropped setrlimit

echo "# exposure level: ${score:-none}"
