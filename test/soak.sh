#!/usr/bin/env bash
# test/soak.sh BUILD_DIR: `make soak`, the crash-consistency soak.
# test/integration/daemon_kill9.sh with SOAK_KILLS kill -9s (default 200,
# about 6 minutes on a 2-core machine) against BUILD_DIR's vigild. Prints
# its ok / not ok lines as test/run.sh does, then "N passed, N failed". On
# a failure the database and every run's log are kept and their directory
# is named.
set -u
build=${1:-build}
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$top"
build=$(cd "$build" && pwd)
kills=${SOAK_KILLS:-200}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/vgl-soak-XXXXXX")
mkdir -p "$tmp/work"
echo "# soak: daemon_kill9 with $kills kills ($build)"
# The script bounds itself (60 s + 12 s a kill); this is the backstop.
VIGILD="$build/vigild" VIGIL="$build/vigil" TOP="$top" WORK="$tmp/work" \
	SOAK_KILLS="$kills" KILL9_KEEP="$tmp/kept" \
	timeout -k 10 $(( 300 + kills * 15 )) bash test/integration/daemon_kill9.sh 2> "$tmp/err" |
	sed -uE 's/^(ok|not ok) /\1 daemon_kill9: /' | tee "$tmp/out" | grep -E '^(ok|not ok|#) '
rc=${PIPESTATUS[0]}
passed=$(grep -c '^ok ' "$tmp/out")
failed=$(grep -c '^not ok ' "$tmp/out")
if [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then
	echo "not ok daemon_kill9 (exit $rc with no failing test named)"
	failed=1
fi
if [ "$rc" -ne 0 ]; then
	sed 's/^/#   /' "$tmp/err" | grep -v ' Killed ' | tail -n 60
	echo "# kept: $tmp"
else
	rm -rf "$tmp"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
