# bench/lib.sh: what the benchmark drivers (run.sh, modbus_run.sh) share.
# Source it once $top is set:
#   . "$top/bench/lib.sh"
# It installs an EXIT trap that stops every PID in $pids (TERM, then KILL
# after a bounded wait); INT and TERM exit through it.
#
#   log MSG... / die MSG...        a timestamped line on stderr / and exit 1
#   apt_install PKG...             apt-get install (sudo unless root); none: nothing
#   stop PID [GRACE_S]             TERM, bounded wait, then KILL; forgets PID
#   forget PID                     drop PID from $pids: no longer ours to stop
#   free_port tcp|udp              a port free on every address (0.0.0.0)
#   bench_out PREFIX               $out: $BENCH_OUT or a fresh /tmp/PREFIX-*
#                                  dir, absolute; $summary and an empty
#                                  $rows_file in it
#   spawn_sink WORKDIR RECENT_S    bench/sink.py on $sink_port ($sink_pid)
#   spawn_vigild WORKDIR NOFILE    $vigild on WORKDIR/vigil.json with that
#                                  soft open-file limit ($poller_pid)
#   cpu_ns PID                     ns on a CPU of PID's live threads
#   thread_ns PID                  " TID:NS:NAME" per thread of PID
#   status_kb PID FIELD            a /proc/PID/status field (VmRSS, VmHWM), kB
#   fd_count PID                   PID's open fds
#   machine_busy                   busy clock ticks of all CPUs
#   stat_field WORKDIR FIELD       FIELD=N of vigild's last "stats:" line
#   stats_lines WORKDIR            "stats:" lines vigild has logged so far
#   wait_for PID WORKDIR BOUND_S [STATS_N]   wait, sampling RSS and fds
#   warm_up KIND PID WORKDIR       the warm-up before a window; sets stats_n
#   in_window KIND PID WORKDIR M   the measured window
#   pollers_of KIND...             $pollers split into $kinds; dies unless
#                                  each is one of KIND...
#   note_row CELL...               a summary row of CELL... then empty cells,
#                                  $table_cols in all
#   vigild_unbuilt KIND M EXPECTED   KIND is vigild and $vigild is not built:
#                                  says so, in the log and a row
#   machine_header                 the "date:" and "machine:" lines
#   $bench_awk                     awk functions for the figures:
#                                  thread_shares(), the per-thread CPU, and
#                                  detail(LINE), to stderr and details
#   $hz                            clock ticks per second
#
# These use the script's own $bench, $vigild, $pollers, $warmup, $window,
# $sink_port, $t_start (the poller's start) and $table_cols. The script
# defines sample_row PID START_S NOW_S RSS_KB FDS, the line wait_for
# appends to WORKDIR/samples.txt, and may set sample_fast_s: samples every
# second, not 5, for that long after $t_start.

hz=$(getconf CLK_TCK)
sample_fast_s=0

log() { printf '%s %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

apt_install() { # PKG...
	[ $# -eq 0 ] && return 0
	log "installing: $*"
	local sudo="" p
	[ "$(id -u)" -eq 0 ] || sudo=sudo
	export DEBIAN_FRONTEND=noninteractive
	$sudo apt-get update -qq
	for p in "$@"; do
		$sudo apt-get install -y -qq --no-install-recommends "$p"
	done
}

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

forget() { # PID
	local q keep=()
	for q in "${pids[@]}"; do [ "$q" = "$1" ] || keep+=("$q"); done
	pids=("${keep[@]+"${keep[@]}"}")
}
stop() { # PID [GRACE_S]
	local p=$1 grace=${2:-20} i
	if kill "$p" 2>/dev/null; then
		for ((i = 0; i < grace * 10; i++)); do
			kill -0 "$p" 2>/dev/null || break
			sleep 0.1
		done
		if kill -0 "$p" 2>/dev/null; then
			log "pid $p ignored TERM for ${grace}s: KILL"
			kill -9 "$p" 2>/dev/null || true
		fi
	fi
	# Reaped and forgotten even if it was gone already: its PID may be
	# reused by the time the EXIT trap runs.
	wait "$p" 2>/dev/null || true
	forget "$p"
}

# The agents and mbsim bind 0.0.0.0: a port merely free on 127.0.0.1
# could still be taken there.
free_port() { # tcp|udp
	/usr/bin/python3 -c 'import socket, sys
t = socket.SOCK_STREAM if sys.argv[1] == "tcp" else socket.SOCK_DGRAM
s = socket.socket(socket.AF_INET, t); s.bind(("0.0.0.0", 0)); print(s.getsockname()[1])' "$1"
}

bench_out() { # PREFIX
	out=${BENCH_OUT:-$(mktemp -d "${TMPDIR:-/tmp}/$1-XXXXXX")}
	mkdir -p "$out"
	out=$(cd "$out" && pwd)
	summary=$out/summary.md
	rows_file=$out/rows.md
	: > "$rows_file"
}

# collectd's values are counted by bench/sink.py, the cheapest honest write
# path found (no disk); RECENT_S is its "recent=" window.
spawn_sink() { # WORKDIR RECENT_S
	/usr/bin/python3 "$bench/sink.py" "$sink_port" "$1/sink.status" "$2" \
		</dev/null >"$1/sink.out" 2>&1 &
	sink_pid=$!
	pids+=("$sink_pid")
}
spawn_vigild() { # WORKDIR NOFILE
	( ulimit -Sn "$2"; exec "$vigild" -c "$1/vigil.json" ) \
		</dev/null >"$1/vigild.out" 2>"$1/vigild.log" &
	poller_pid=$!
	pids+=("$poller_pid")
}

# --- /proc sampling ----------------------------------------------------------
# CPU time from the scheduler (/proc/PID/task/TID/schedstat, first field:
# ns on a CPU, user and kernel), not utime+stime: those count 10 ms clock
# ticks, and a poller at 1,000 hosts spends only 10-30 ticks in a window,
# so one tick more or less moved the ratio by 5-10%.
cpu_ns() { # PID
	local t v sum=0
	for t in /proc/"$1"/task/*; do
		read -r v _ < "$t/schedstat" 2>/dev/null || continue
		sum=$((sum + v))
	done
	echo "$sum"
}
# Per thread, as the daemon's loop thread and its storage writer thread
# (or collectd's read threads) are not the same cost.
thread_ns() { # PID
	local t v c out=""
	for t in /proc/"$1"/task/*; do
		read -r v _ < "$t/schedstat" 2>/dev/null || continue
		c=$(tr -c 'A-Za-z0-9#_.\n-' _ < "$t/comm" 2>/dev/null || echo '?')
		out="$out ${t##*/}:$v:$c"
	done
	echo "$out"
}
status_kb() { # PID FIELD
	awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0
}
fd_count() { ls "/proc/$1/fd" 2>/dev/null | wc -l; }
# From /proc/stat: to see how much of the machine something other than the
# benchmark used.
machine_busy() { awk '$1 == "cpu" { print $2 + $3 + $4 + $7 + $8 }' /proc/stat; }

# --- vigild's own counters ---------------------------------------------------
stat_field() { # WORKDIR FIELD
	grep 'stats: ' "$1/vigild.log" 2>/dev/null | tail -n 1 | grep -o " $2=[0-9]*" | cut -d= -f2 || true
}

# Reads only what was appended since the last call: the log can grow to
# tens of MB and grepping all of it every second would steal the CPU
# being measured.
stats_seen=0 stats_off=0
stats_lines() { # WORKDIR
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
# bound); samples RSS and fds of PID every 5 s (every second for the first
# sample_fast_s s after $t_start) into rss_max/fd_max and, by sample_row,
# WORKDIR/samples.txt. 1 if PID is gone.
wait_for() {
	local p=$1 w=$2 bound=$3 want=${4:-} start now next=0 rss fd
	start=$EPOCHSECONDS
	while kill -0 "$p" 2>/dev/null; do
		now=$EPOCHSECONDS     # no fork: the loop runs twice a second
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
			sample_row "$p" "$start" "$now" "$rss" "$fd" >> "$w/samples.txt"
			if ((now - t_start < sample_fast_s)); then next=$((now + 1)); else next=$((now + 5)); fi
		fi
		sleep 0.5
	done
	return 1
}

# vigild logs its counters every 60 s ("stats: ... values=N timeouts=N"):
# its window runs from one such line to a later one, so its own counts and
# the CPU cover exactly the same span. Its warm-up therefore ends at its
# next stats line (bounded by WARMUP_S + 90 s), or with BENCH_WARMUP_LINES=N
# at its N-th (give WARMUP_S >= 60 N then: the rules' 10 min windows are
# full after BENCH_WARMUP_LINES=11 -u 660), any other poller's after
# WARMUP_S.
warm_up() { # KIND PID WORKDIR
	rss_max=0 fd_max=0 stats_seen=0 stats_off=0 stats_n=0
	if [ "$1" = vigild ]; then
		stats_n=$(($(stats_lines "$3") + ${BENCH_WARMUP_LINES:-1}))
		wait_for "$2" "$3" $((warmup + 90)) "$stats_n" || true
	else
		wait_for "$2" "$3" "$warmup" || true
	fi
}
# vigild's window: WINDOW_S rounded up to whole minutes of stats lines.
in_window() { # KIND PID WORKDIR M
	if [ "$1" = vigild ]; then
		local k=$(((window + 59) / 60))
		wait_for "$2" "$3" $((k * 60 + 30)) $((stats_n + k)) ||
			log "$1 M=$4: died during the window"
	else
		wait_for "$2" "$3" "$window" || log "$1 M=$4: died during the window"
	fi
}

pollers_of() { # KIND...
	local k known
	known=$(printf '%s, ' "$@")
	IFS=', ' read -r -a kinds <<< "$pollers"
	for k in "${kinds[@]}"; do
		case " $* " in
		*" $k "*) ;;
		*) die "unknown poller '$k' (${known%, })" ;;
		esac
	done
}

# For a phase without figures (not built, skipped, died): its row still
# has every column, or the Markdown table breaks.
note_row() { # CELL...
	local i
	printf '| %s ' "$@"
	printf '|'
	for ((i = $#; i < table_cols; i++)); do printf ' |'; done
	echo
}
vigild_unbuilt() { # KIND M EXPECTED
	[ "$1" = vigild ] && [ ! -x "$vigild" ] || return 1
	log "no daemon at $vigild (make first): vigild side skipped"
	note_row vigild "$2" "$3" "not built" >> "$rows_file"
}

machine_header() {
	echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
	echo "machine: $(nproc) cores, $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo), $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo), kernel $(uname -r)"
}

# In awk, where each script makes its figures. detail(LINE): a phase's
# details line shows as the phase ends, and the summary keeps it (in the
# file named by the awk variable details). thread_shares(TH0, TH1, SECS,
# MIN, PREC, NAMED): from two thread_ns strings, the threads that used at
# least MIN of a CPU over SECS, busiest first, as ", tid TID[ NAME] P%"
# with PREC decimals ("" if none): which thread the CPU goes to is what a
# change to the daemon's threading moves.
bench_awk='
function detail(line) {
	print line > "/dev/stderr"
	print "- " line >> details
}
function thread_shares(th0, th1, secs, min, prec, named,    a, kv, n, i, j, nt, d, start, tid, tt, x, th) {
	n = split(th0, a, " ")
	for (i = 1; i <= n; i++) { split(a[i], kv, ":"); start[kv[1]] = kv[2] }
	n = split(th1, a, " ")
	nt = 0
	for (i = 1; i <= n; i++) {
		split(a[i], kv, ":")
		d = kv[2] - ((kv[1] in start) ? start[kv[1]] : 0)
		if (d / 1e9 >= min * secs) { nt++; tid[nt] = (named ? kv[1] " " kv[3] : kv[1]); tt[nt] = d }
	}
	for (i = 1; i <= nt; i++) for (j = i + 1; j <= nt; j++)
		if (tt[j] > tt[i]) { x = tt[i]; tt[i] = tt[j]; tt[j] = x; x = tid[i]; tid[i] = tid[j]; tid[j] = x }
	th = ""
	for (i = 1; i <= nt; i++) th = th sprintf("%s tid %s %." prec "f%%", (i == 1 ? "" : ","), tid[i], 100 * tt[i] / 1e9 / secs)
	return th
}'
