#!/bin/sh
# ipmi_sim's chassis_control program (lan.conf): keeps the power state in a
# file, so a test can power the chassis off behind the BMC's back.
#   chassis-control.sh STATEFILE get power        -> prints "power:0|1"
#   chassis-control.sh STATEFILE set power 0|1 [reset 1] [boot X] ...
# A missing STATEFILE reads as on.
set -eu
state=$1 op=$2
shift 2
case "$op" in
get)
	for p in "$@"; do
		case "$p" in
		power) echo "power:$(cat "$state" 2>/dev/null || echo 1)" ;;
		boot) echo "boot:default" ;;
		*) echo "Invalid parameter: $p"; exit 1 ;;
		esac
	done ;;
set)
	while [ $# -ge 2 ]; do
		[ "$1" = power ] && echo "$2" > "$state"
		shift 2
	done ;;
*) exit 1 ;;
esac
