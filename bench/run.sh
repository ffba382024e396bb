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
window=${BENCH_WINDOW:-90}
warmup=${BENCH_WARMUP:-40}
agents=${BENCH_AGENTS:-1}
pollers=${BENCH_POLLERS:-vigild,collectd,collectd-1pdu}
vigild=${VIGILD:-$top/build/vigild}
interval_s=30
oids=20

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

out=${BENCH_OUT:-$(mktemp -d "${TMPDIR:-/tmp}/vigil-bench-XXXXXX")}
mkdir -p "$out"
out=$(cd "$out" && pwd)
summary=$out/summary.md
hz=$(getconf CLK_TCK)

log() { printf '%s %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

# --- what it needs ---------------------------------------------------------
install_missing() {
	local need=() p
	command -v snmpd >/dev/null || need+=(snmpd)
	command -v snmpget >/dev/null || need+=(snmp)
	command -v sqlite3 >/dev/null || need+=(sqlite3)
	[ -x /usr/bin/python3 ] || need+=(python3)
	# Debian ships collectd's snmp plugin in collectd-core (collectd only
	# adds the default config and dependencies).
	[ -e /usr/lib/collectd/snmp.so ] || need+=(collectd-core)
	[ ${#need[@]} -eq 0 ] && return 0
	log "installing: ${need[*]}"
	local sudo=""
	[ "$(id -u)" -eq 0 ] || sudo=sudo
	export DEBIAN_FRONTEND=noninteractive
	$sudo apt-get update -qq
	for p in "${need[@]}"; do
		$sudo apt-get install -y -qq --no-install-recommends "$p"
	done
}
install_missing

# --- process bookkeeping ----------------------------------------------------
pids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do
		kill "$p" 2>/dev/null || true
	done
	for p in "${pids[@]}"; do
		for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
		kill -9 "$p" 2>/dev/null || true
	done
	pids=()
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# stop PID [GRACE_S]: TERM, bounded wait, then KILL.
stop() {
	local p=$1 grace=${2:-20} i
	kill "$p" 2>/dev/null || return 0
	for ((i = 0; i < grace * 10; i++)); do
		kill -0 "$p" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$p" 2>/dev/null; then
		log "pid $p ignored TERM for ${grace}s: KILL"
		kill -9 "$p" 2>/dev/null || true
	fi
	wait "$p" 2>/dev/null || true
	local q keep=()
	for q in "${pids[@]}"; do [ "$q" = "$p" ] || keep+=("$q"); done
	pids=("${keep[@]+"${keep[@]}"}")
}

free_udp_port() {
	/usr/bin/python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# --- /proc sampling ----------------------------------------------------------
# CPU time from the scheduler (/proc/PID/task/TID/schedstat, first field:
# ns on a CPU, user and kernel), not utime+stime: those count 10 ms clock
# ticks, and a poller at 1,000 hosts spends only 10-30 ticks in a window,
# so one tick more or less moved the ratio by 5-10%.
cpu_ns() { # ns on CPU of every live thread of PID
	local t v sum=0
	for t in /proc/"$1"/task/*; do
		read -r v _ < "$t/schedstat" 2>/dev/null || continue
		sum=$((sum + v))
	done
	echo "$sum"
}
status_kb() { # PID FIELD (VmRSS, VmHWM) -> kB
	awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0
}
fd_count() { ls "/proc/$1/fd" 2>/dev/null | wc -l; }
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
# "TID:NS ..." for every thread of PID: the daemon's loop thread and its
# storage writer thread show up separately.
thread_ns() {
	local t v out=""
	for t in /proc/"$1"/task/*; do
		read -r v _ < "$t/schedstat" 2>/dev/null || continue
		out="$out ${t##*/}:$v"
	done
	echo "$out"
}
# Busy clock ticks of the whole machine (all CPUs), from /proc/stat: to
# see how much of the machine something other than the benchmark used.
machine_busy() { awk '$1 == "cpu" { print $2 + $3 + $4 + $7 + $8 }' /proc/stat; }
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
		grep 'stats: ' "$3/vigild.log" 2>/dev/null | tail -n 1 | grep -o 'values=[0-9]*' | cut -d= -f2 || true ;;
	esac
}
poller_timeouts() {
	case $1 in
	collectd*)
		grep -c 'snmp_sess_synch_response failed' "$3/collectd.log" 2>/dev/null || true ;;
	vigild)
		grep 'stats: ' "$3/vigild.log" 2>/dev/null | tail -n 1 | grep -o 'timeouts=[0-9]*' | cut -d= -f2 || true ;;
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

# stats_lines WORKDIR: how many "stats:" lines vigild has logged so far.
# Reads only what was appended since the last call: the log can grow to
# tens of MB and grepping all of it every second would steal the CPU
# being measured.
stats_seen=0 stats_off=0
stats_lines() {
	local f=$1/vigild.log size n
	size=$(stat -c %s "$f" 2>/dev/null || echo 0)
	if ((size > stats_off)); then
		n=$(tail -c +$((stats_off + 1)) "$f" | head -c $((size - stats_off)) | grep -c 'stats: ' || true)
		stats_seen=$((stats_seen + n))
		stats_off=$size
	fi
	echo "$stats_seen"
}

# wait_for PID WORKDIR BOUND_S [STATS_N]: waits BOUND_S seconds or, with
# STATS_N, until vigild's log holds STATS_N stats lines (BOUND_S is then the
# bound); samples RSS and fds of PID every 5 s into rss_max/fd_max and
# WORKDIR/samples.txt. 1 if PID is gone.
wait_for() {
	local p=$1 w=$2 bound=$3 want=${4:-} start now next=0 rss fd
	start=$(date +%s)
	while kill -0 "$p" 2>/dev/null; do
		now=$(date +%s)
		((now - start >= bound)) && return 0
		if [ -n "$want" ]; then
			stats_lines "$w" > /dev/null
			((stats_seen >= want)) && return 0
		fi
		if ((now >= next)); then
			rss=$(status_kb "$p" VmRSS)
			fd=$(fd_count "$p")
			((rss > rss_max)) && rss_max=$rss
			((fd > fd_max)) && fd_max=$fd
			echo "$((now - start)) $(cpu_ns "$p") $rss $fd $(agents_cpu)" >> "$w/samples.txt"
			next=$((now + 5))
		fi
		sleep 0.5
	done
	return 1
}

start_poller() { # KIND WORKDIR: sets poller_pid (and sink_pid for collectd)
	local kind=$1 w=$2 p
	case $kind in
	collectd*)
		/usr/bin/python3 "$bench/sink.py" "$sink_port" "$w/sink.status" $((interval_s + 5)) \
			</dev/null >"$w/sink.out" 2>&1 &
		sink_pid=$!
		# collectd does not raise RLIMIT_NOFILE itself and opens one
		# socket per host: it gets this shell's soft limit.
		collectd -f -C "$w/collectd.conf" </dev/null >"$w/collectd.out" 2>&1 &
		p=$! ;;
	vigild)
		# A default systemd service starts with a soft limit of 1024 open
		# files: the daemon has to raise its own (it says it does).
		( ulimit -Sn 1024; exec "$vigild" -c "$w/vigil.json" ) \
			</dev/null >"$w/vigild.out" 2>"$w/vigild.log" &
		p=$! ;;
	esac
	poller_pid=$p
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
		port=$(free_udp_port)
		pid=$("$bench/agent.sh" "$port" "$w/agent$i") || die "agent $i did not start"
		pids+=("$pid")
		agent_pids+=("$pid") agent_ports+=("$port")
	done
	sink_port=$(free_udp_port)
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
	pids+=("$ppid")
	[ -n "$sink_pid" ] && pids+=("$sink_pid")
	# vigild logs its counters every 60 s ("stats: ... values=N
	# timeouts=N"): its window runs from one such line to a later one, so
	# its own counts and the CPU cover exactly the same span.
	local stats_n=0
	rss_max=0 fd_max=0 stats_seen=0 stats_off=0
	echo "t_s cpu_ns rss_kb fds agent_cpu_ns" > "$w/samples.txt"
	if [ "$kind" = vigild ]; then
		stats_n=$(($(stats_lines "$w") + 1))
		wait_for "$ppid" "$w" $((warmup + 90)) "$stats_n" || true
	else
		wait_for "$ppid" "$w" "$warmup" || true
	fi
	if ! kill -0 "$ppid" 2>/dev/null; then
		log "$kind M=$m: exited during warm-up; tail of its log:"
		tail -n 20 "$w/$kind.log" "$w/$kind.out" 2>/dev/null | sed 's/^/    /' >&2
		echo "| $kind | $m | $(((m * oids + interval_s / 2) / interval_s)) | exited during start-up | | | | | | | | | |" >> "$rows_file"
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
	if [ "$kind" = vigild ]; then
		local k=$(((window + 59) / 60))
		wait_for "$ppid" "$w" $((k * 60 + 30)) $((stats_n + k)) ||
			log "$kind M=$m: died during the window"
	else
		wait_for "$ppid" "$w" "$window" || log "$kind M=$m: died during the window"
	fi
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
		-v ad0="$ad0" -v ad1="$ad1" -v pd0="$pd0" -v pd1="$pd1" -v details="$out/details.txt" '
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
		# Per-thread CPU over the window, busiest first (threads >= 0.2%).
		n = split(th0, a, " ")
		for (i = 1; i <= n; i++) { split(a[i], kv, ":"); start[kv[1]] = kv[2] }
		n = split(th1, a, " ")
		nt = 0
		for (i = 1; i <= n; i++) {
			split(a[i], kv, ":")
			d = kv[2] - ((kv[1] in start) ? start[kv[1]] : 0)
			if (d / 1e9 >= 0.002 * secs) { nt++; tid[nt] = kv[1]; tt[nt] = d }
		}
		for (i = 1; i <= nt; i++) for (j = i + 1; j <= nt; j++)
			if (tt[j] > tt[i]) { x = tt[i]; tt[i] = tt[j]; tt[j] = x; x = tid[i]; tid[i] = tid[j]; tid[j] = x }
		th = ""
		for (i = 1; i <= nt; i++) th = th sprintf("%s tid %s %.1f%%", (i == 1 ? "" : ","), tid[i], 100 * tt[i] / 1e9 / secs)
		if (nt > 0) line = line sprintf("; poller threads >= 0.2%% of a CPU:%s", th)
		print line > "/dev/stderr"
		print "- " line >> details
	}' >> "$rows_file"
}

# --- main ---------------------------------------------------------------------
rows_file=$out/rows.md
: > "$rows_file"
IFS=', ' read -r -a kinds <<< "$pollers"
for kind in "${kinds[@]}"; do
	case $kind in
	vigild | collectd | collectd-1pdu) ;;
	*) die "unknown poller '$kind' (vigild, collectd, collectd-1pdu)" ;;
	esac
done
nofile_soft=$(ulimit -Sn)
nofile_hard=$(ulimit -Hn)
read -r port_lo port_hi < /proc/sys/net/ipv4/ip_local_port_range
eph_ports=$((port_hi - port_lo + 1))

{
	echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
	echo "machine: $(nproc) cores, $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo), $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo), kernel $(uname -r)"
	echo "command: bench/run.sh -w $window -u $warmup -a $agents -p $pollers ${ms[*]}"
	echo "vigild: $vigild, $("$vigild" -V 2>/dev/null || echo "not built"), tree $(cd "$top" && git describe --always --dirty 2>/dev/null || echo unknown)"
	echo "collectd: $(collectd -h 2>/dev/null | sed -n 's/^collectd \([0-9.]*[0-9]\).*/\1/p' | head -n 1)"
	echo "snmpd: $(snmpd -v 2>/dev/null | sed -n 's/^NET-SNMP version: *//p')"
	echo "limits: RLIMIT_NOFILE soft $nofile_soft hard $nofile_hard; ephemeral ports $port_lo-$port_hi ($eph_ports)"
} > "$out/header.txt"
cat "$out/header.txt" >&2

for m in "${ms[@]}"; do
	for kind in "${kinds[@]}"; do
		if [ "$kind" = vigild ] && [ ! -x "$vigild" ]; then
			log "no daemon at $vigild (make first): vigild side skipped"
			echo "| vigild | $m | $(((m * oids + interval_s / 2) / interval_s)) | not built | | | | | | | | | |" >> "$rows_file"
			continue
		fi
		# collectd keeps one UDP socket per host open: past the fd limit
		# or the ephemeral port range it cannot even open its sessions.
		if [ "$kind" != vigild ] && ((m + 64 > nofile_soft || m > eph_ports)); then
			log "$kind M=$m: skipped (needs $m sockets; soft fd limit $nofile_soft, $eph_ports ephemeral ports)"
			echo "| $kind | $m | $(((m * oids + interval_s / 2) / interval_s)) | skipped: needs one socket per host (fd limit $nofile_soft, $eph_ports ephemeral ports) | | | | | | | | | |" >> "$rows_file"
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
