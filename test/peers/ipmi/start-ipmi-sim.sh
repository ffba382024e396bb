#!/usr/bin/env bash
# start-ipmi-sim.sh PORT WORKDIR [ADDR]
#
# Starts an OpenIPMI ipmi_sim BMC for vigil's tests on udp ADDR:PORT (IPMI
# 1.5 and 2.0/RMCP+; ADDR defaults to 127.0.0.1; give 127.x.y.z to run many
# BMCs on one port, one per address). Nothing is written outside WORKDIR
# (no spaces in it). Waits until the BMC is up, then prints its PID (also in
# WORKDIR/ipmi_sim.pid). Stop it with: kill "$(cat WORKDIR/ipmi_sim.pid)"
#
#   users        vigil / vigilpass (admin), viewer / viewerpass (user)
#   console      ipmi_sim_cmd(5) language on tcp ADDR:PORT+1000, through
#                ipmi-sim-cmd.sh [ADDR:]PORT+1000 'sensor_set_value 0x20 0 1 90 1'
#                (never send "quit": it stops ipmi_sim)
#   sensors      vigil-bmc.emu / vigil-bmc.sdrs: CPU Temp (45 C, upper
#                75/85/95), Fan 1 (3000 RPM, lower 1000/500), Inlet Temp (read
#                each second from WORKDIR/inlet_temp, 0 before the first
#                read), PSU1 Status (discrete power supply, type 0x08,
#                sensor 4: presence bit 0 set, failure = bit 1)
#   power        chassis-control.sh keeps it in WORKDIR/power (1 on, 0 off);
#                `echo 0 > WORKDIR/power` powers the chassis off behind the
#                BMC's back, ipmitool "chassis power off" writes it too
#   state        SEL and users persist in WORKDIR/state across restarts;
#                delete WORKDIR for a clean BMC
#
# What to know about ipmi_sim 2.0.33 here:
#  - FreeIPMI over LAN_2_0 needs the "open session privilege" workaround
#    (ipmi-sensors -W opensesspriv; without it: "privilege level cannot be
#    obtained for this user"). ipmitool wants -C 3; cipher 17 is refused.
#  - SEL timestamps are pre-init values (a monotonic clock in seconds,
#    below 0x20000000); SDR repository timestamps stay 0, so only the
#    record count shows an SDR change (main_sdr_add on the console).
#  - Get SDR of a whole record (FFh bytes) is refused (CAh) past the first
#    record: readers must fall back to partial reads.
#  - Chassis control never sets the "last power event" bits and logs
#    nothing in the SEL; add entries with sel_add to test that.
#  - sdrcomp packs an ID string without lower case ("PSU1") as 6-bit
#    ASCII, which ipmitool and FreeIPMI's tools print as garbage: hence
#    "PSU1 Status".
#  - A console client that goes away before ipmi_sim writes its prompt
#    kills ipmi_sim with SIGPIPE unless SIGPIPE is ignored (done below).
set -euo pipefail
usage="usage: start-ipmi-sim.sh PORT WORKDIR [ADDR]"
port=${1:?$usage}
work=${2:?$usage}
addr=${3:-127.0.0.1}
cport=$((port + 1000))
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
name=vigilbmc

case $work in *' '*) echo "start-ipmi-sim.sh: WORKDIR must not contain spaces" >&2; exit 2 ;; esac
mkdir -p "$work/state/ipmi_sim/$name"
work=$(cd "$work" && pwd)

# The main SDR repository (names, units, thresholds), compiled at each start
# so an edit of the .sdrs shows at the next start; persist_sdr in the .emu
# makes ipmi_sim read it from there.
sdrcomp -o "$work/state/ipmi_sim/$name/sdr.20.main" "$here/vigil-bmc.sdrs"
cp "$here/vigil-bmc.emu" "$work/vigil-bmc.emu"
[ -e "$work/inlet_temp" ] || echo 22 > "$work/inlet_temp"
[ -e "$work/power" ] || echo 1 > "$work/power"

cat > "$work/lan.conf" <<CONF
name "$name"
set_working_mc 0x20
  startlan 1
    addr $addr $port
    priv_limit admin
    allowed_auths_callback none md2 md5 straight
    allowed_auths_user none md2 md5 straight
    allowed_auths_operator none md2 md5 straight
    allowed_auths_admin none md2 md5 straight
    guid a123456789abcdefa123456789abcdef
  endlan
  chassis_control "/bin/sh $here/chassis-control.sh $work/power"
  #    num valid name     passw        priv  max-sess auths
  user 1 true  ""       "test"       user  10       none md2 md5 straight
  user 2 true  "vigil"  "vigilpass"  admin 10       none md2 md5 straight
  user 3 true  "viewer" "viewerpass" user  10       none md2 md5 straight
console $addr $cport
CONF

rm -f "$work/ipmi_sim.pid"
# -n: no console on stdin/stdout (required in the background); cwd WORKDIR
# because the .emu names inlet_temp relative to it. SIGPIPE ignored (kept
# across exec): ipmi_sim dies of it when a console client goes away before
# its prompt is written. ipmi_sim logs to syslog, so ipmi_sim.log stays
# empty unless it fails to start.
(cd "$work" && trap '' PIPE && exec ipmi_sim -n -c lan.conf -f vigil-bmc.emu -s state) \
	</dev/null >"$work/ipmi_sim.log" 2>&1 &
pid=$!
echo "$pid" > "$work/ipmi_sim.pid"

# Up when the LAN port is bound and the console listens (it is opened
# after the LAN ports). Read from /proc, not by connecting: a console
# connection closed at once is what used to kill ipmi_sim.
udp_hex=$(printf ':%04X' "$port")
tcp_hex=$(printf ':%04X' "$cport")
bound() {
	awk -v p="$udp_hex" 'FNR > 1 && substr($2, length($2) - 4) == p { f = 1 } END { exit !f }' \
		/proc/net/udp /proc/net/udp6 2>/dev/null &&
	awk -v p="$tcp_hex" 'FNR > 1 && $4 == "0A" && substr($2, length($2) - 4) == p { f = 1 }
		END { exit !f }' /proc/net/tcp /proc/net/tcp6 2>/dev/null
}
for _ in $(seq 100); do # 100 x 0.1 s: bounded
	if ! kill -0 "$pid" 2>/dev/null; then
		echo "start-ipmi-sim.sh: ipmi_sim exited; log:" >&2
		cat "$work/ipmi_sim.log" >&2
		exit 1
	fi
	if bound; then
		echo "$pid"
		exit 0
	fi
	sleep 0.1
done
echo "start-ipmi-sim.sh: ipmi_sim (pid $pid) not up on $addr:$port; log:" >&2
cat "$work/ipmi_sim.log" >&2
kill "$pid" 2>/dev/null || true
exit 1
