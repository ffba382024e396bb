#!/bin/sh
# pass-values.sh VALDIR BASE: snmpd "pass_persist" handler for vigil's tests.
#
# Serves BASE.<suffix> from the file VALDIR/<suffix>, whose one line is
# "TYPE VALUE" (TYPE: integer unsigned gauge counter counter64 timeticks
# ipaddress objectid string). The file is read again on every request, so a
# test changes a value by replacing the file atomically (write + mv) and the
# next GET sees it. pass_persist rather than plain pass because snmpd caches
# the output of an identical pass command for 30 s, which made values stale.
set -u
dir=$1 base=$2

answer() { # $1 = suffix: the three answer lines, or NONE
	t='' v=''
	[ -f "$dir/$1" ] && { IFS=' ' read -r t v < "$dir/$1" || true; }
	if [ -n "$t" ]; then
		printf '%s\n%s\n%s\n' "$base.$1" "$t" "$v"
	else
		echo NONE
	fi
}

after() { # $1 = full OID: the first served suffix sorting after it
	ls "$dir" | grep -E '^[0-9]+(\.[0-9]+)*$' | sort -V |
	awk -v want="$1" -v base="$base" '
	function later(a, b,   x, y, n, m, i) {
		n = split(a, x, "."); m = split(b, y, ".")
		for (i = 2; i <= n && i <= m; i++)
			if (x[i] + 0 != y[i] + 0)
				return x[i] + 0 > y[i] + 0
		return n > m
	}
	later(base "." $0, want) { print; exit }'
}

while IFS= read -r cmd; do
	case $cmd in
	PING) echo PONG ;;
	get)
		IFS= read -r oid || exit 0
		case $oid in
		"$base".*) answer "${oid#"$base".}" ;;
		*) echo NONE ;;
		esac ;;
	getnext)
		IFS= read -r oid || exit 0
		s=$(after "$oid")
		if [ -n "$s" ]; then answer "$s"; else echo NONE; fi ;;
	set)
		IFS= read -r _oid || exit 0
		IFS= read -r _val || exit 0
		echo not-writable ;;
	'') exit 0 ;;
	*) echo NONE ;;
	esac
done
exit 0
