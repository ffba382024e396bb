#!/usr/bin/env bash
# test/run.sh BUILD_DIR: the unit tests and every integration script of one
# build. Prints each result as "ok ..." / "not ok ..." and returns the
# counts on the last line as "N passed, N failed".
set -u
build=${1:-build}
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$top"
build=$(cd "$build" && pwd)
passed=0 failed=0
log=$(mktemp -d "${TMPDIR:-/tmp}/vgl-run-XXXXXX")
trap 'rm -rf "$log"' EXIT

count() { # $1 = output file, $2 = exit status, $3 = name
	local p f
	p=$(grep -c '^ok ' "$1")
	f=$(grep -c '^not ok ' "$1")
	if [ "$2" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "not ok $3 (exit $2 with no failing test named)"
		f=1
	fi
	if [ "$p" -eq 0 ] && [ "$f" -eq 0 ] && [ "$2" -eq 0 ] &&
		grep -q '^# SKIP ' "$1"; then
		# A script may skip itself, saying why, only for a missing peer
		# binary (make deps installs them all): reported, never counted.
		sed -n 's/^# SKIP /# skipped '"$3"': /p' "$1"
		return
	fi
	if [ "$p" -eq 0 ] && [ "$f" -eq 0 ]; then
		echo "not ok $3 (ran no test)"
		f=1
	fi
	passed=$((passed + p)) failed=$((failed + f))
}

echo "# unit tests ($build)"
"$build/test/unit" > "$log/unit.out" 2> "$log/unit.err"
rc=$?
grep -E '^(ok|not ok) ' "$log/unit.out"
[ "$rc" -ne 0 ] && sed 's/^/#   /' "$log/unit.err" | tail -n 60
count "$log/unit.out" "$rc" unit

for t in test/integration/*.sh; do
	[ -e "$t" ] || continue
	name=$(basename "$t" .sh)
	echo "# integration: $name"
	work=$(mktemp -d "${TMPDIR:-/tmp}/vgl-it-XXXXXX")
	# Each script is bounded; its peers are stopped by its own trap.
	VIGILD="$build/vigild" VIGIL="$build/vigil" TOP="$top" WORK="$work" \
		timeout -k 10 600 bash "$t" > "$log/$name.out" 2> "$log/$name.err"
	rc=$?
	sed -E 's/^(ok|not ok) /\1 '"$name"': /' "$log/$name.out" | grep -E '^(ok|not ok) '
	if [ "$rc" -ne 0 ]; then
		sed 's/^/#   /' "$log/$name.err" | tail -n 60
		sed -E 's/^(ok|not ok) /\1 '"$name"': /' "$log/$name.out" > "$log/$name.named"
	else
		cp "$log/$name.out" "$log/$name.named"
	fi
	count "$log/$name.named" "$rc" "$name"
	rm -rf "$work"
done

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
