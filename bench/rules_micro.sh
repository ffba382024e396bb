#!/usr/bin/env bash
# bench/rules_micro.sh [HOSTS POLLS] ...
#
# The alarm rules' CPU per poll without SNMP (bench/rules_micro.c): builds
# the micro-benchmark with the Makefile's release flags (-O2 -g) against
# $BUILD/libvigil.a (BUILD default build; `make all BUILD=...` first),
# writes a one-host config with bench/gen.py and VIGIL_BENCH_RULES=1 (the
# benchmark's 20 OIDs and ten rules) and runs it for each HOSTS POLLS pair
# (default: 1 host 10,000,000 polls, the rules' state hot in cache; and
# 100,000 hosts 10,000,000 polls, the state of 100,000 hosts, about as
# cold as in the daemon).
set -euo pipefail
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${BUILD:-$top/build}
[ -f "$build/libvigil.a" ] || { echo "rules_micro: no $build/libvigil.a (make all BUILD=$build)" >&2; exit 1; }
# the build and its one-host config, in a scratch directory of its own
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pkgs="libuv sqlite3 libcjson libmodbus libfreeipmi libcurl"
cflags="-std=c17 -D_GNU_SOURCE -Wall -Wextra -Werror -I$top -O2 -g $(pkg-config --cflags $pkgs)"
libs="$(net-snmp-config --netsnmp-libs) $(pkg-config --libs $pkgs) -lm -lpthread"
# shellcheck disable=SC2086
cc $cflags -o "$tmp/rules_micro" "$top/bench/rules_micro.c" "$build/libvigil.a" $libs
VIGIL_BENCH_RULES=1 /usr/bin/python3 "$top/bench/gen.py" 1 161 162 "$tmp" one-pdu
[ $# -gt 0 ] || set -- 1 10000000 100000 10000000
while [ $# -ge 2 ]; do
	"$tmp/rules_micro" "$tmp/vigil.json" "$1" "$2"
	shift 2
done
