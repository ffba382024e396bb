#!/usr/bin/env bash
# ipmi-sim-cmd.sh [ADDR:]CONSOLE_PORT 'command' ['command' ...]
#
# Runs ipmi_sim_cmd(5) commands on a running ipmi_sim through its console
# (start-ipmi-sim.sh puts it on ADDR:PORT+1000; ADDR defaults to 127.0.0.1)
# and returns once every command has run: ipmi_sim prints its "> " prompt
# after each. Prints ipmi_sim's replies; exits 1 when a reply looks like an
# error ("**Unknown command", "**Unable ..."), 2 when the console is silent
# for 5 s. NEVER send "quit": it stops ipmi_sim.
#   ipmi-sim-cmd.sh 20623 'sensor_set_value 0x20 0 1 90 1'   CPU Temp 90 C, with events
#   ipmi-sim-cmd.sh 20623 'sensor_set_bit 0x20 0 4 1 1 1'    PSU1 failure, with an event
#   ipmi-sim-cmd.sh 20623 'sel_add 0x20 0x02 0 0 0 0 0x20 0x00 0x04 0x20 0x01 0x6f 0x03 0xff 0xff'
#       a system event record (type 0x02; the 4 timestamp bytes are replaced
#       by the BMC): generator 0x0020, EvM rev 0x04, sensor type 0x20 (OS
#       stop/shutdown), sensor 0x01, event type 0x6f, offset 0x03 (OS
#       graceful shutdown)
set -euo pipefail
target=${1:?usage: ipmi-sim-cmd.sh [ADDR:]CONSOLE_PORT COMMAND...}
shift
case $target in
*:*) addr=${target%:*} cport=${target##*:} ;;
*) addr=127.0.0.1 cport=$target ;;
esac
exec 3<>"/dev/tcp/$addr/$cport"
printf 'noecho\n' >&3
for c in "$@"; do printf '%s\n' "$c" >&3; done
want=$(($# + 2))          # prompts: greeting + noecho + one per command
buf="" seen=0
while [ "$seen" -lt "$want" ]; do
	IFS= read -r -d '' -N 1 -t 5 ch <&3 || { echo "ipmi-sim-cmd: console timed out" >&2; exit 2; }
	buf+=$ch
	if [[ $buf == *"> " ]]; then seen=$((seen + 1)); buf+=$'\n'; fi
done
exec 3<&-
# drop telnet negotiation bytes, prompts and blank lines
out=$(printf '%s' "$buf" | LC_ALL=C tr -d '\r\001\003\373\375\376\377' |
	sed -e 's/^> //' -e '/^noecho$/d' -e '/^ *$/d')
[ -z "$out" ] || printf '%s\n' "$out"
if grep -qiE '^\*\*|invalid|unknown|error|unable' <<<"$out"; then exit 1; fi
exit 0
