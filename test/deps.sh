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
# /metrics.
pkgs="build-essential pkg-config libuv1-dev libsnmp-dev libsqlite3-dev libcjson-dev
libjsmn-dev snmpd snmp sqlite3 python3 procps tzdata iproute2 clang libclang-rt-14-dev
libmodbus-dev socat collectd-core libfreeipmi-dev libcurl4-openssl-dev openipmi ipmitool
freeipmi-tools openssl redfishtool prometheus-ipmi-exporter prometheus-alertmanager
libmicrohttpd-dev libsystemd-dev prometheus"
missing=""
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "installing:$missing"
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
# snmpd's package starts a system agent on udp/161; vigil's tests never use
# it (they run private agents on ephemeral ports), so it may run or not.
$sudo apt-get install -y -qq --no-install-recommends $missing
