#!/usr/bin/env bash
# make check: the whole suite on the plain build, then on the ASan/UBSan
# build, then the fuzz targets' corpus replays, then make install and the
# Debian package (test/package.sh, once); the last line totals all.
set -u
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$top"
jobs=$(nproc 2>/dev/null || echo 2)
total_p=0 total_f=0
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
# add_totals CMD...: runs one suite, its lines shown as they come, and adds
# its last line "N passed, N failed" to the totals; a suite that does not
# end with that line counts as one failure.
add_totals() {
	local out line p f
	out=$(mktemp)
	"$@" | tee "$out"
	line=$(tail -n 1 "$out")
	rm -f "$out"
	p=$(echo "$line" | sed -nE 's/^([0-9]+) passed, ([0-9]+) failed$/\1/p')
	f=$(echo "$line" | sed -nE 's/^([0-9]+) passed, ([0-9]+) failed$/\2/p')
	total_p=$((total_p + ${p:-0})) total_f=$((total_f + ${f:-1}))
}
for san in 0 1; do
	dir=build; [ "$san" = 1 ] && dir=build-san
	echo "# building $dir"
	if ! make -s -j"$jobs" SAN=$san all >/tmp/vgl-make-$san.log 2>&1; then
		cat /tmp/vgl-make-$san.log
		echo "not ok build $dir"
		total_f=$((total_f + 1))
		continue
	fi
	add_totals bash test/run.sh "$dir"
done
# The libFuzzer targets (docs/fuzzing.md), built once with clang: each
# replays its committed corpus, then fuzzes FUZZ_CHECK_SECONDS (10 s).
fuzz_dir=${FUZZ_BUILD:-build-fuzz}
echo "# building $fuzz_dir"
if ! make -s -j"$jobs" FUZZ_BUILD="$fuzz_dir" fuzz-build >/tmp/vgl-make-fuzz.log 2>&1; then
	cat /tmp/vgl-make-fuzz.log
	echo "not ok build $fuzz_dir"
	total_f=$((total_f + 1))
else
	add_totals env FUZZ_BUILD="$fuzz_dir" bash test/fuzz/run.sh check
fi
add_totals bash test/package.sh
echo "$total_p passed, $total_f failed"
[ "$total_f" -eq 0 ] && [ "$total_p" -gt 0 ]
