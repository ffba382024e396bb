#!/usr/bin/env bash
# bench/sla_run.sh [-r RUNS] [-m YYYY-MM] [HOSTS[xK] ...]
#
# The SLA report benchmark (issue 4, item 7): for each HOSTS (default
# 10000 1000) bench/sla_gen.py writes a config and a database of HOSTS
# hosts x K intervals a month (default 50) x 12 months ending with the
# month M (default 2026-10), then
#
#   vigil -c vigil.json sla --month M --all --json --now M+1-15T00:00:00Z
#
# runs RUNS times (default 3) under /usr/bin/time -v; the median of the wall
# time and of the max RSS are reported, with the output checked (one object
# per host, the customer totals, the intervals it lists). The database is
# in the page cache (just written; warm runs), as on a host whose DB is in
# use. --now is fixed so the figures do not depend on the date.
#
# Environment: VIGIL (default build/vigil; `make all` builds it),
# SLA_KEEP=1 keeps the temp dir. Nothing is installed beyond test/deps.sh.
# Results: a Markdown table on stdout.
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
vigil=${VIGIL:-$top/build/vigil}
runs=3
month=2026-10

while getopts "r:m:h" opt; do
	case $opt in
	r) runs=$OPTARG ;;
	m) month=$OPTARG ;;
	*) sed -n '2,20p' "$0"; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(10000 1000)

"$top/test/deps.sh"
if [ ! -x "$vigil" ]; then
	echo "sla_run: $vigil not found: run 'make all' first (or set VIGIL)" >&2
	exit 1
fi
[ -x /usr/bin/time ] || { echo "sla_run: needs /usr/bin/time (GNU time)" >&2; exit 1; }

tmp=$(mktemp -d /tmp/vigil-slabench.XXXXXX)
cleanup() { [ "${SLA_KEEP:-0}" = 1 ] && echo "kept $tmp" >&2 || rm -rf "$tmp"; }
trap cleanup EXIT

y=${month%-*}; m=${month#*-}
next=$(python3 -c "y,m=$((10#$y)),$((10#$m)); print('%04d-%02d' % (y + m // 12, m % 12 + 1))")
now="$next-15T00:00:00Z"

rows=()
for spec in "${sizes[@]}"; do
	n=${spec%x*}
	k=50
	[ "$spec" = "$n" ] || k=${spec#*x}
	d=$tmp/h$spec
	t0=$(date +%s.%N)
	python3 "$top/bench/sla_gen.py" --dir "$d" --vigil "$vigil" --hosts "$n" \
		--per-month "$k" --end-month "$month" >&2
	gen_s=$(python3 -c "print('%.0f' % ($(date +%s.%N) - $t0))")
	db_mb=$(du -m "$d/vigil.db" | cut -f1)
	for i in $(seq "$runs"); do
		/usr/bin/time -v -o "$d/time.$i" "$vigil" -c "$d/vigil.json" sla --month "$month" \
			--all --json --now "$now" >"$d/out.json" 2>"$d/err.$i"
	done
	# Checks the last output and takes the medians.
	read -r wall cpu rss objs ivs out_mb < <(python3 - "$d" "$runs" "$n" <<'EOF'
import json, os, re, statistics, sys
d, runs, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
walls, cpus, rsss = [], [], []
for i in range(1, runs + 1):
    t = open(os.path.join(d, "time.%d" % i)).read()
    if "Exit status: 0" not in t:
        sys.exit("sla_run: run %d failed:\n%s" % (i, open(os.path.join(d, "err.%d" % i)).read()))
    h, mi, s = (["0", "0"] + re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (\S+)",
                                      t).group(1).split(":"))[-3:]
    walls.append(int(h) * 3600 + int(mi) * 60 + float(s))
    cpus.append(sum(float(re.search(r"%s time \(seconds\): (\S+)" % w, t).group(1))
                    for w in ("User", "System")))
    rsss.append(int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", t).group(1)))
out = json.load(open(os.path.join(d, "out.json")))
hosts = [o for o in out if "host" in o]
if len(hosts) != n or not all("customer" in o for o in out[n:]):
    sys.exit("sla_run: expected %d host objects then customer totals, got %d objects"
             % (n, len(out)))
ivs = sum(len(o["intervals"]) for o in hosts)
print("%.2f %.2f %.1f %d %d %.0f" % (statistics.median(walls), statistics.median(cpus), statistics.median(rsss) / 1024, len(out), ivs,
                              os.path.getsize(os.path.join(d, "out.json")) / 1e6))
EOF
	)
	rows+=("| $n | $k | $((n * k * 12)) | $db_mb | $gen_s | $wall | $cpu | $rss | $ivs | $out_mb |")
done

echo "$vigil (tree $(git -C "$top" describe --always --dirty 2>/dev/null || echo "?")) -c DIR/vigil.json sla --month $month --all --json --now $now; median of $runs warm runs (/usr/bin/time -v)"
echo
echo "| hosts | intervals/host/month | intervals in DB | DB MB | generate s | wall s | CPU s (user+sys) | max RSS MiB | intervals in report | JSON MB |"
echo "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
printf '%s\n' "${rows[@]}"
