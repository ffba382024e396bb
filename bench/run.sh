#!/usr/bin/env bash
# bench/run.sh [-w WINDOW_S] [-u WARMUP_S] [-a AGENTS] [-p POLLERS] [M ...]
#
# The polling benchmark: M simulated hosts x 20 OIDs every 30 s, polled
# first by vigild, then by collectd 5.12's snmp plugin, against the same
# snmpd agent(s) bound to 0.0.0.0 and reached at one 127.a.b.c address per
# host. Per poller and M it measures, over WINDOW_S after WARMUP_S:
# values/s (the poller's own count, and what the agent answered), timeouts,
# CPU (ns on a CPU of all threads, /proc/PID/task/*/schedstat) per 1000 values, RSS,
# open fds and the agent's CPU. Results: a Markdown summary on stdout and
# in $BENCH_OUT/summary.md, raw samples beside it.
#
# Defaults: M = 1000 10000 100000, WINDOW_S 90 (three 30 s rounds),
# WARMUP_S 40 (first polls are spread over one interval), one agent.
# POLLERS, comma-separated, default vigild,collectd,collectd-1pdu:
#   collectd       the usual config, one Data block per OID (one GET each)
#   collectd-1pdu  one Data block of all 20 OIDs (one GET per host)
# vigild's window is aligned to its 60 s "stats:" log lines (its own
# counters), so it lasts WINDOW_S rounded up to a minute.
# Environment: BENCH_WINDOW, BENCH_WARMUP, BENCH_AGENTS, BENCH_POLLERS,
# BENCH_OUT (kept; default a fresh /tmp dir), VIGILD (default build/vigild).
# Only 127.0.0.0/8 is used. Every process started here is stopped by PID.
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bench=$top/bench
# shellcheck source=bench/lib.sh
. "$bench/lib.sh"
window=${BENCH_WINDOW:-90}
warmup=${BENCH_WARMUP:-40}
agents=${BENCH_AGENTS:-1}
pollers=${BENCH_POLLERS:-vigild,collectd,collectd-1pdu}
vigild=${VIGILD:-$top/build/vigild}
interval_s=30
oids=20
table_cols=13

while getopts "w:u:a:p:h" opt; do
	case $opt in
	w) window=$OPTARG ;;
	u) warmup=$OPTARG ;;
	a) agents=$OPTARG ;;
	p) pollers=$OPTARG ;;
	*) sed -n '2,23p' "${BASH_SOURCE[0]}"; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
ms=("$@")
[ ${#ms[@]} -gt 0 ] || ms=(1000 10000 100000)

bench_out vigil-bench

# --- what it needs ---------------------------------------------------------
install_missing() {
	local need=()
	command -v snmpd >/dev/null || need+=(snmpd)
	command -v snmpget >/dev/null || need+=(snmp)
	command -v sqlite3 >/dev/null || need+=(sqlite3)
	[ -x /usr/bin/python3 ] || need+=(python3)
	# Debian ships collectd's snmp plugin in collectd-core (collectd only
	# adds the default config and dependencies).
	[ -e /usr/lib/collectd/snmp.so ] || need+=(collectd-core)
	apt_install "${need[@]+"${need[@]}"}"
}
install_missing

# --- /proc sampling ----------------------------------------------------------
udp_stat() { # /proc/net/snmp Udp field by name
	awk -v f="$1" '$1 == "Udp:" { if (!h) { for (i = 2; i <= NF; i++) col[$i] = i; h = 1 }
		else print $(col[f]) }' /proc/net/snmp
}
# Datagrams dropped on full receive queues (/proc/net/udp "drops"), summed
# over the sockets bound to the given ports (the agents) ...
udp_drops_ports() {
	local hex="" port
	for port in "$@"; do hex="$hex $(printf '%04X' "$port")"; done
	awk -v ports="$hex" 'BEGIN { n = split(ports, p, " "); for (i = 1; i <= n; i++) want[p[i]] = 1 }
		NR > 1 { split($2, a, ":"); if (a[2] in want) d += $NF } END { print d + 0 }' /proc/net/udp
}
# ... or over the UDP sockets a process holds.
udp_drops_pid() {
	local inodes
	inodes=$(ls -l "/proc/$1/fd" 2>/dev/null | sed -n 's/.*socket:\[\([0-9]*\)\]$/\1/p' | tr '\n' ' ')
	awk -v ino="$inodes" 'BEGIN { n = split(ino, p, " "); for (i = 1; i <= n; i++) want[p[i]] = 1 }
		NR > 1 && ($10 in want) { d += $NF } END { print d + 0 }' /proc/net/udp
}
conntrack_count() { cat /proc/sys/net/netfilter/nf_conntrack_count 2>/dev/null || echo n/a; }

# agent_counter OID: the sum over the agents of one of their snmp group
# counters (snmpInTotalReqVars = values answered, snmpInGetRequests = PDUs).
agent_counter() {
	local sum=0 port v
	for port in "${agent_ports[@]}"; do
		v=$(snmpget -Oqv -v2c -c public -t 2 -r 2 "127.0.0.1:$port" "$1" 2>/dev/null) || v=0
		sum=$((sum + v))
	done
	echo "$sum"
}
agents_cpu() {
	local sum=0 p
	for p in "${agent_pids[@]}"; do sum=$((sum + $(cpu_ns "$p"))); done
	echo "$sum"
}

# --- the poller-specific parts -------------------------------------------------
# poller_values KIND PID WORKDIR: values the poller itself counted so far,
# or "" if it cannot tell.
poller_values() {
	case $1 in
	collectd*)
		sed -n 's/.*values=\([0-9]*\).*/\1/p' "$3/sink.status" 2>/dev/null || true ;;
	vigild)
		# The daemon's own stats line, if it logs one ("... values=N ...").
		stat_field "$3" values ;;
	esac
}
poller_timeouts() {
	case $1 in
	collectd*)
		grep -c 'snmp_sess_synch_response failed' "$3/collectd.log" 2>/dev/null || true ;;
	vigild)
		stat_field "$3" timeouts ;;
	esac
}
# Hosts whose last poll ended within the last interval + 5 s.
poller_on_time() {
	case $1 in
	collectd*)
		sed -n 's/.*recent=\([0-9]*\).*/\1/p' "$3/sink.status" 2>/dev/null || true ;;
	vigild)
		local now
		now=$(($(date +%s%3N) - (interval_s + 5) * 1000))
		sqlite3 -cmd '.timeout 5000' "$3/vigil.db" \
			"SELECT count(*) FROM hosts WHERE active = 1 AND last_poll_ms >= $now;" 2>/dev/null || true ;;
	esac
}

# For wait_for: time since this wait began, then the poller's and the
# agents' CPU.
sample_row() { # PID START_S NOW_S RSS_KB FDS
	echo "$(($3 - $2)) $(cpu_ns "$1") $4 $5 $(agents_cpu)"
}

start_poller() { # KIND WORKDIR: sets poller_pid (and sink_pid for collectd)
	local kind=$1 w=$2
	case $kind in
	collectd*)
		spawn_sink "$w" $((interval_s + 5))
		# collectd does not raise RLIMIT_NOFILE itself and opens one
		# socket per host: it gets this shell's soft limit.
		collectd -f -C "$w/collectd.conf" </dev/null >"$w/collectd.out" 2>&1 &
		poller_pid=$!
		pids+=("$poller_pid") ;;
	vigild)
		# A default systemd service starts with a soft limit of 1024 open
		# files: the daemon has to raise its own (it says it does).
		spawn_vigild "$w" 1024 ;;
	esac
}

fmt() { # printf-ish that tolerates empty values
	local v=$1
	[ -n "$v" ] && echo "$v" || echo "n/a"
}

# run_one KIND M: one measured phase; appends a row to $rows_file.
run_one() {
	local kind=$1 m=$2 w i
	w=$out/$kind-$m
	rm -rf "$w"
	mkdir -p "$w"
	agent_pids=() agent_ports=()
	for ((i = 0; i < agents; i++)); do
		local port pid
		port=$(free_port udp)
		pid=$("$bench/agent.sh" "$port" "$w/agent$i") || die "agent $i did not start"
		pids+=("$pid")
		agent_pids+=("$pid") agent_ports+=("$port")
	done
	sink_port=$(free_port udp)
	sink_pid=""
	local ports
	ports=$(IFS=,; echo "${agent_ports[*]}")
	local mode=per-oid
	[ "$kind" = collectd-1pdu ] && mode=one-pdu
	/usr/bin/python3 "$bench/gen.py" "$m" "$ports" "$sink_port" "$w" "$mode" || die "gen.py failed"

	log "$kind M=$m: starting (agents on ${ports}), warm-up ${warmup}s, window ${window}s"
	local ppid t_start
	t_start=$(date +%s)
	start_poller "$kind" "$w"
	ppid=$poller_pid
	echo "t_s cpu_ns rss_kb fds agent_cpu_ns" > "$w/samples.txt"
	warm_up "$kind" "$ppid" "$w"
	if ! kill -0 "$ppid" 2>/dev/null; then
		log "$kind M=$m: exited during warm-up; tail of its log:"
		tail -n 20 "$w/$kind.log" "$w/$kind.out" 2>/dev/null | sed 's/^/    /' >&2
		note_row "$kind" "$m" $(((m * oids + interval_s / 2) / interval_s)) "exited during start-up" >> "$rows_file"
		[ -n "$sink_pid" ] && stop "$sink_pid" 5
		for i in "${agent_pids[@]}"; do stop "$i" 5; done
		return 0
	fi

	# Start of the window.
	local c0 a0 v0 r0 q0 t0 to0 ub0 ctk0
	t0=$(date +%s%N)
	c0=$(cpu_ns "$ppid")
	a0=$(agents_cpu)
	v0=$(poller_values "$kind" "$ppid" "$w")
	to0=$(poller_timeouts "$kind" "$ppid" "$w")
	r0=$(agent_counter .1.3.6.1.2.1.11.13.0)
	q0=$(agent_counter .1.3.6.1.2.1.11.15.0)
	ub0=$(udp_stat RcvbufErrors)
	ctk0=$(conntrack_count)
	local ad0 pd0 mb0 th0
	mb0=$(machine_busy)
	th0=$(thread_ns "$ppid")
	ad0=$(udp_drops_ports "${agent_ports[@]}")
	pd0=$(udp_drops_pid "$ppid")
	local rss fd
	in_window "$kind" "$ppid" "$w" "$m"
	if ! kill -0 "$ppid" 2>/dev/null; then
		tail -n 20 "$w/$kind.log" "$w/$kind.out" 2>/dev/null | sed 's/^/    /' >&2
	fi
	# End of the window.
	local c1 a1 v1 r1 q1 t1 to1 ub1 ctk1 hwm ontime
	c1=$(cpu_ns "$ppid")
	a1=$(agents_cpu)
	v1=$(poller_values "$kind" "$ppid" "$w")
	to1=$(poller_timeouts "$kind" "$ppid" "$w")
	r1=$(agent_counter .1.3.6.1.2.1.11.13.0)
	q1=$(agent_counter .1.3.6.1.2.1.11.15.0)
	t1=$(date +%s%N)
	ub1=$(udp_stat RcvbufErrors)
	ctk1=$(conntrack_count)
	local ad1 pd1 mb1 th1
	mb1=$(machine_busy)
	th1=$(thread_ns "$ppid")
	ad1=$(udp_drops_ports "${agent_ports[@]}")
	pd1=$(udp_drops_pid "$ppid")
	rss=$(status_kb "$ppid" VmRSS)
	hwm=$(status_kb "$ppid" VmHWM)
	fd=$(fd_count "$ppid")
	((rss > rss_max)) && rss_max=$rss
	((fd > fd_max)) && fd_max=$fd
	ontime=$(poller_on_time "$kind" "$ppid" "$w")

	stop "$ppid" 30
	[ -n "$sink_pid" ] && stop "$sink_pid" 5
	for i in "${agent_pids[@]}"; do stop "$i" 5; done

	# Figures. awk does the floating point.
	awk -v kind="$kind" -v m="$m" -v oids="$oids" -v iv="$interval_s" -v hz="$hz" \
		-v t0="$t0" -v t1="$t1" -v c0="$c0" -v c1="$c1" -v a0="$a0" -v a1="$a1" \
		-v v0="$v0" -v v1="$v1" -v r0="$r0" -v r1="$r1" -v q0="$q0" -v q1="$q1" \
		-v to0="$to0" -v to1="$to1" -v ub0="$ub0" -v ub1="$ub1" \
		-v rss="$rss_max" -v hwm="$hwm" -v fd="$fd_max" -v ontime="$ontime" \
		-v ctk0="$ctk0" -v ctk1="$ctk1" -v startup="$t_start" \
		-v mb0="$mb0" -v mb1="$mb1" -v th0="$th0" -v th1="$th1" -v ncpu="$(nproc)" \
		-v ad0="$ad0" -v ad1="$ad1" -v pd0="$pd0" -v pd1="$pd1" -v details="$out/details.txt" "$bench_awk"'
	BEGIN {
		secs = (t1 - t0) / 1e9
		expect = m * oids / iv
		cpu_s = (c1 - c0) / 1e9
		agent_s = (a1 - a0) / 1e9
		answered = r1 - r0
		own = (v0 != "" && v1 != "") ? v1 - v0 : -1
		counted = own >= 0 ? own : answered
		src = own >= 0 ? "own" : "agent"
		vps = counted / secs
		ms_per_k = counted > 0 ? cpu_s * 1000 / (counted / 1000) : -1
		timeouts = (to0 != "" && to1 != "") ? to1 - to0 : "n/a"
		printf "| %s | %d | %.0f | %.0f (%s) | %.0f | %s | %s | %.2f | %.1f | %.0f | %.2f | %d | %.0f%% |\n",
			kind, m, expect, vps, src, answered / secs, timeouts,
			(ontime == "" ? "n/a" : ontime " / " m),
			ms_per_k, rss / 1024, hwm / 1024, rss / m, fd, 100 * agent_s / secs
		busy_s = (mb1 - mb0) / hz
		line = sprintf("%s M=%d: %.1f s window, poller CPU %.2f s, agent CPU %.2f s, %d PDUs answered, UDP drops: agent sockets +%d, poller sockets +%d (system RcvbufErrors +%d), conntrack entries %s -> %s, machine busy %.0f%% of %d CPUs (%.1f CPU-s not poller or agent)",
			kind, m, secs, cpu_s, agent_s, q1 - q0, ad1 - ad0, pd1 - pd0, ub1 - ub0, ctk0, ctk1,
			100 * busy_s / (secs * ncpu), ncpu, busy_s - cpu_s - agent_s)
		th = thread_shares(th0, th1, secs, 0.002, 1, 0)
		if (th != "") line = line sprintf("; poller threads >= 0.2%% of a CPU:%s", th)
		detail(line)
	}' >> "$rows_file"
}

# --- main ---------------------------------------------------------------------
pollers_of vigild collectd collectd-1pdu
nofile_soft=$(ulimit -Sn)
nofile_hard=$(ulimit -Hn)
read -r port_lo port_hi < /proc/sys/net/ipv4/ip_local_port_range
eph_ports=$((port_hi - port_lo + 1))

{
	machine_header
	echo "command:${VIGIL_BENCH_RULES:+ VIGIL_BENCH_RULES=$VIGIL_BENCH_RULES}${BENCH_WARMUP_LINES:+ BENCH_WARMUP_LINES=$BENCH_WARMUP_LINES} bench/run.sh -w $window -u $warmup -a $agents -p $pollers ${ms[*]}"
	echo "vigild: $vigild, $("$vigild" -V 2>/dev/null || echo "not built"), tree $(cd "$top" && git describe --always --dirty 2>/dev/null || echo unknown)"
	echo "collectd: $(collectd -h 2>/dev/null | sed -n 's/^collectd \([0-9.]*[0-9]\).*/\1/p' | head -n 1)"
	echo "snmpd: $(snmpd -v 2>/dev/null | sed -n 's/^NET-SNMP version: *//p')"
	echo "limits: RLIMIT_NOFILE soft $nofile_soft hard $nofile_hard; ephemeral ports $port_lo-$port_hi ($eph_ports)"
} > "$out/header.txt"
cat "$out/header.txt" >&2

for m in "${ms[@]}"; do
	for kind in "${kinds[@]}"; do
		vigild_unbuilt "$kind" "$m" $(((m * oids + interval_s / 2) / interval_s)) && continue
		# collectd keeps one UDP socket per host open: past the fd limit
		# or the ephemeral port range it cannot even open its sessions.
		if [ "$kind" != vigild ] && ((m + 64 > nofile_soft || m > eph_ports)); then
			log "$kind M=$m: skipped (needs $m sockets; soft fd limit $nofile_soft, $eph_ports ephemeral ports)"
			note_row "$kind" "$m" $(((m * oids + interval_s / 2) / interval_s)) \
				"skipped: needs one socket per host (fd limit $nofile_soft, $eph_ports ephemeral ports)" >> "$rows_file"
			continue
		fi
		run_one "$kind" "$m"
	done
done

{
	echo '```'
	cat "$out/header.txt"
	echo '```'
	echo
	echo "| poller | hosts | expected values/s | measured values/s (source) | agent-answered values/s | timeouts in window | hosts polled in last 35 s | CPU ms / 1000 values | RSS MiB | peak RSS MiB | RSS KiB / host | max fds | agent CPU |"
	echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|"
	cat "$rows_file"
	echo
	cat "$out/details.txt" 2>/dev/null || true
} > "$summary"
cat "$summary"
log "raw data in $out"
