#!/usr/bin/env bash
# test/fuzz/run.sh: the libFuzzer targets built by `make fuzz-build`
# (docs/fuzzing.md). FUZZ_BUILD names their directory (default build-fuzz).
#
#   run.sh check [SECONDS]       for make check: each target replays every
#                                file of its committed corpus, then fuzzes
#                                SECONDS (default 10, FUZZ_CHECK_SECONDS);
#                                "ok ..."/"not ok ..." lines, and
#                                "N passed, N failed" last
#   run.sh fuzz SECONDS [T...]   for make fuzz: each target (or those named)
#                                fuzzes SECONDS, starting from its corpus;
#                                new inputs and crashes go to FUZZ_WORK
#                                (default: a new dir under TMPDIR), which is
#                                kept and reported
set -u
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$top"
build=${FUZZ_BUILD:-build-fuzz}
mode=${1:-check}
shift || true
# Leaks are findings too; a slow input is reported after 10 s (the
# libFuzzer default of 20 minutes would hide one inside a short run).
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
common=(-timeout=10 -rss_limit_mb=2048 -print_final_stats=1)

targets=()
for f in test/fuzz/fuzz_*.c; do
	targets+=("$(basename "$f" .c)")
done

case $mode in
check)
	secs=${1:-${FUZZ_CHECK_SECONDS:-10}}
	passed=0 failed=0
	work=$(mktemp -d "${TMPDIR:-/tmp}/vgl-fuzz-check-XXXXXX")
	trap 'rm -rf "$work"' EXIT
	result() { # status description
		if [ "$1" -eq 0 ]; then
			echo "ok fuzz: $2"
			passed=$((passed + 1))
		else
			echo "not ok fuzz: $2"
			failed=$((failed + 1))
		fi
	}
	for t in "${targets[@]}"; do
		bin=$build/$t corpus=test/fuzz/corpus/$t
		if [ ! -x "$bin" ]; then
			result 1 "$t: not built ($bin)"
			continue
		fi
		mapfile -t files < <(find "$corpus" -type f 2>/dev/null | sort)
		if [ "${#files[@]}" -eq 0 ]; then
			result 1 "$t: no corpus in $corpus"
			continue
		fi
		# Files as arguments: libFuzzer runs each once and stops at the
		# first that fails (a corpus directory would be merged and
		# minimized instead, and could skip inputs over -max_len).
		"$bin" "${common[@]}" "${files[@]}" > "$work/$t.replay" 2>&1
		rc=$?
		[ "$rc" -ne 0 ] && sed 's/^/#   /' "$work/$t.replay" | tail -n 40
		result "$rc" "$t: replays its ${#files[@]} corpus files"
		# A short run from the corpus; what it finds is kept in the
		# scratch dir only, and printed on failure.
		mkdir -p "$work/$t.new" "$work/$t.art"
		"$bin" "${common[@]}" -max_total_time="$secs" -artifact_prefix="$work/$t.art/" \
			"$work/$t.new" "$corpus" > "$work/$t.run" 2>&1
		rc=$?
		if [ "$rc" -ne 0 ]; then
			sed 's/^/#   /' "$work/$t.run" | tail -n 40
			for a in "$work/$t.art"/*; do
				[ -f "$a" ] || continue
				echo "#   input $(basename "$a") (base64): $(base64 -w0 < "$a" | head -c 2000)"
			done
		fi
		execs=$(sed -nE 's/^stat::number_of_executed_units: *([0-9]+).*/\1/p' "$work/$t.run")
		result "$rc" "$t: fuzzes ${secs}s without a finding (${execs:-?} inputs)"
	done
	echo "$passed passed, $failed failed"
	[ "$failed" -eq 0 ]
	;;
fuzz)
	secs=${1:-60}
	shift || true
	[ "$#" -gt 0 ] && targets=("$@")
	work=${FUZZ_WORK:-$(mktemp -d "${TMPDIR:-/tmp}/vgl-fuzz-XXXXXX")}
	found=0
	echo "# fuzzing ${#targets[@]} target(s) for ${secs}s each; scratch dir $work"
	for t in "${targets[@]}"; do
		bin=$build/$t
		if [ ! -x "$bin" ]; then
			echo "$t: not built ($bin)"
			found=1
			continue
		fi
		mkdir -p "$work/corpus/$t" "$work/artifacts/$t"
		"$bin" "${common[@]}" -max_total_time="$secs" \
			-artifact_prefix="$work/artifacts/$t/" \
			"$work/corpus/$t" "test/fuzz/corpus/$t" > "$work/$t.log" 2>&1
		rc=$?
		execs=$(sed -nE 's/^stat::number_of_executed_units: *([0-9]+).*/\1/p' "$work/$t.log")
		cov=$(grep -oE 'cov: [0-9]+' "$work/$t.log" | tail -n 1)
		new=$(find "$work/corpus/$t" -type f | wc -l)
		arts=$(find "$work/artifacts/$t" -type f | wc -l)
		echo "$t: exit $rc, ${execs:-?} inputs, ${cov:-cov: ?}, $new new corpus inputs, $arts artifact(s)"
		if [ "$rc" -ne 0 ] || [ "$arts" -gt 0 ]; then
			found=1
			find "$work/artifacts/$t" -type f | sed 's/^/  artifact: /'
			grep -E '^(==[0-9]+==ERROR|SUMMARY|.*runtime error|.*broken promise)' \
				"$work/$t.log" | head -n 5 | sed 's/^/  /'
			echo "  log: $work/$t.log"
		fi
	done
	echo "# scratch dir kept: $work (corpus/ to merge by hand, artifacts/ to report)"
	exit "$found"
	;;
*)
	echo "usage: $0 check [SECONDS] | fuzz SECONDS [TARGET...]" >&2
	exit 2
	;;
esac
