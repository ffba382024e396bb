#!/bin/sh
# Installs the Debian packages vigil needs to build, test and run its demo,
# only those missing, so a second run costs a dpkg query.
set -eu
# clang and libclang-rt-14-dev (libFuzzer's runtime, libclang_rt.fuzzer,
# only recommended by clang-14) build the fuzz targets of test/fuzz/.
# libmodbus-dev: the Modbus collector and test/peers/mbsim; socat: the RTU
# test's pty pair; collectd-core: the benchmarks' reference poller.
# libfreeipmi-dev, libcurl4-openssl-dev: the IPMI and Redfish collectors;
# openipmi (ipmi_sim, sdrcomp), ipmitool and freeipmi-tools: the IPMI peer
# and its checks; openssl: the Redfish peer's test certificates;
# redfishtool: checks the Redfish fixtures are a service it can read;
# prometheus-ipmi-exporter: the IPMI benchmark's reference poller;
# prometheus-alertmanager: the real receiver of the Alertmanager channel
# (test/start_alertmanager.sh).
# libmicrohttpd-dev: vigild's HTTP API and dashboard (docs/api.md);
# libsystemd-dev: sd_notify; prometheus: promtool and the real scraper of
# /metrics; chromium: the dashboard's browser test and the SLA report's
# PDF; poppler-utils: pdftotext; debhelper, lintian, fakeroot: the Debian
# package and its check; man-db, groff-base: man --warnings on the pages;
# nodejs and npm (below, only when no node is on PATH) run playwright-core,
# which drives chromium in test/browser/.
# postgresql, libpq-dev: the PostgreSQL store (issue 16) and its private
# test server (test/start_postgres.sh).
pkgs="build-essential pkg-config libuv1-dev libsnmp-dev libsqlite3-dev libcjson-dev
libjsmn-dev snmpd snmp sqlite3 python3 procps tzdata iproute2 clang libclang-rt-14-dev
libmodbus-dev socat collectd-core libfreeipmi-dev libcurl4-openssl-dev openipmi ipmitool
freeipmi-tools openssl redfishtool prometheus-ipmi-exporter prometheus-alertmanager
libmicrohttpd-dev libsystemd-dev prometheus chromium poppler-utils debhelper lintian fakeroot
man-db groff-base postgresql libpq-dev"
missing=""
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing="$missing $p"
done
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
updated=0
if [ -n "$missing" ]; then
	echo "installing:$missing"
	$sudo apt-get update -qq
	updated=1
	# snmpd's package starts a system agent on udp/161; vigil's tests never use
	# it (they run private agents on ephemeral ports), so it may run or not.
	$sudo apt-get install -y -qq --no-install-recommends $missing
fi

# Node.js and npm run test/browser/ (playwright-core driving the chromium
# above). Not in the list: they come from apt only when no node is on
# PATH at all, since a machine may carry a newer Node than Debian's (the
# pinned playwright-core wants >= 20; bookworm's nodejs is 18), and
# Debian's npm would pull Debian's nodejs in over it.
if ! command -v node > /dev/null 2>&1; then
	echo "installing: nodejs npm"
	[ "$updated" = 1 ] || $sudo apt-get update -qq
	$sudo apt-get install -y -qq --no-install-recommends nodejs npm
fi
# The locked playwright-core (it downloads no browser: the test uses
# /usr/bin/chromium), installed when node_modules is missing or older than
# package-lock.json (a pull changed the pin); a second run costs a stat.
browser=$(cd "$(dirname "$0")" && pwd)/browser
if [ -f "$browser/package-lock.json" ] &&
	{ [ ! -d "$browser/node_modules" ] || [ "$browser/package-lock.json" -nt "$browser/node_modules" ]; }; then
	echo "npm ci in $browser"
	(cd "$browser" && npm ci --no-audit --no-fund)
	touch "$browser/node_modules"
fi
