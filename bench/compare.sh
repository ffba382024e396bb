#!/usr/bin/env bash
# bench/compare.sh [-r REPEATS] [-w WINDOW_S] BEFORE_VIGILD AFTER_VIGILD [M ...]
# bench/compare.sh -s DIR    only the table again, from DIR's summaries
#
# The polling benchmark (bench/run.sh) of two vigild builds side by side,
# for a change that must not cost CPU: for each repeat and each M, the
# "before" daemon, the "after" daemon and collectd-1pdu (the same-run
# reference) each run once, interleaved, so that a slow stretch of a
# shared machine falls on all three. Writes every run's summary under
# $BENCH_OUT (default a fresh /tmp dir) and, at the end, medians and
# ranges of CPU ms per 1000 values and of the after/before and
# vigild/collectd ratios (per repeat, then the median of those).
#
# Defaults: 3 repeats, WINDOW_S 180, M = 1000 10000. About 4.5 min per run:
# 3 x 2 x 3 runs take some 80 minutes.
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
repeats=3
window=180
summarize=""
while getopts "r:w:s:h" opt; do
	case $opt in
	r) repeats=$OPTARG ;;
	w) window=$OPTARG ;;
	s) summarize=$OPTARG ;;
	*) sed -n '2,17p' "${BASH_SOURCE[0]}"; exit 2 ;;
	esac
done
shift $((OPTIND - 1))

log() { printf '%s %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }

# cpu_per_k SUMMARY KIND M: the "CPU ms / 1000 values" cell (the 8th) of
# that row.
cpu_per_k() {
	awk -F'|' -v k="$2" -v m="$3" '
		{ gsub(/ /, "", $2); gsub(/ /, "", $3) }
		$2 == k && $3 == m { gsub(/ /, "", $9); print $9; exit }' "$1"
}

table() { # RESULTS_FILE
python3 - "$1" <<'PY'
import sys, statistics as st
rows = [l.split() for l in open(sys.argv[1]) if len(l.split()) == 4]
data = {}
for r, m, side, v in rows:
    data.setdefault(int(m), {}).setdefault(side, {})[int(r)] = float(v)
def fmt(xs):
    xs = [x for x in xs if x == x]
    if not xs:
        return "n/a"
    return "%.2f (%.2f-%.2f)" % (st.median(xs), min(xs), max(xs))
print("| hosts | before CPU ms/1000 values | after | collectd-1pdu | after/before | before/collectd | after/collectd |")
print("|---|---|---|---|---|---|---|")
for m in sorted(data):
    d = data[m]
    reps = sorted(set(d.get("before", {})) & set(d.get("after", {})) & set(d.get("collectd", {})))
    ab = [d["after"][r] / d["before"][r] for r in reps]
    bc = [d["before"][r] / d["collectd"][r] for r in reps]
    ac = [d["after"][r] / d["collectd"][r] for r in reps]
    print("| %d | %s | %s | %s | %s | %s | %s |" % (
        m, fmt(d.get("before", {}).values()), fmt(d.get("after", {}).values()),
        fmt(d.get("collectd", {}).values()), fmt(ab), fmt(bc), fmt(ac)))
print()
print("medians over %d repeats, (min-max) in brackets; ratios per repeat, then their median" % len({r for r, *_ in rows}))
PY
}

if [ -n "$summarize" ]; then
	results=$summarize/results.txt
	: > "$results"
	for d in "$summarize"/r*-m*-*/; do
		d=${d%/}
		[ -f "$d/summary.md" ] || continue
		b=$(basename "$d")
		r=${b%%-*} r=${r#r}
		m=${b#*-m} m=${m%%-*}
		side=${b##*-}
		kind=vigild
		[ "$side" = collectd ] && kind=collectd-1pdu
		echo "$r $m $side $(cpu_per_k "$d/summary.md" "$kind" "$m" || true)" >> "$results"
	done
	table "$results"
	exit 0
fi

[ $# -ge 2 ] || { sed -n '2,17p' "${BASH_SOURCE[0]}"; exit 2; }
before=$1 after=$2
shift 2
ms=("$@")
[ ${#ms[@]} -gt 0 ] || ms=(1000 10000)
out=${BENCH_OUT:-$(mktemp -d "${TMPDIR:-/tmp}/vigil-compare-XXXXXX")}
mkdir -p "$out"
results=$out/results.txt
: > "$results"
for ((r = 1; r <= repeats; r++)); do
	for m in "${ms[@]}"; do
		for side in before after collectd; do
			d=$out/r$r-m$m-$side
			case $side in
			before) VIGILD=$before BENCH_OUT=$d bash "$top/bench/run.sh" -w "$window" -p vigild "$m" > "$d.log" 2>&1 || true
				v=$(cpu_per_k "$d/summary.md" vigild "$m") ;;
			after) VIGILD=$after BENCH_OUT=$d bash "$top/bench/run.sh" -w "$window" -p vigild "$m" > "$d.log" 2>&1 || true
				v=$(cpu_per_k "$d/summary.md" vigild "$m") ;;
			collectd) BENCH_OUT=$d bash "$top/bench/run.sh" -w "$window" -p collectd-1pdu "$m" > "$d.log" 2>&1 || true
				v=$(cpu_per_k "$d/summary.md" collectd-1pdu "$m") ;;
			esac
			log "repeat $r M=$m $side: ${v:-?} CPU ms / 1000 values"
			echo "$r $m $side ${v:-nan}" >> "$results"
		done
	done
done

table "$results"
