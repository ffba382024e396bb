#!/usr/bin/env bash
# bench/modbus_run.sh [-w WINDOW_S] [-u WARMUP_S] [-p POLLERS] [-t READ_THREADS] [-n NOFILE] [M ...]
#
# The Modbus benchmark: M simulated Modbus TCP devices x 40 registers (two
# blocks of 20: holding 0..19, input 100..119) every 10 s, polled first by
# vigild, then by collectd 5.12's modbus plugin, against one mbsim process
# (test/peers/mbsim.c) serving 127.1.0.1 .. 127.1.x.y, one address per
# device, started once for the whole run. Per poller and M it measures,
# over WINDOW_S after WARMUP_S: values/s (the poller's own count), timeouts
# and failures, CPU (ns on a CPU of all threads, /proc/PID/task/*/schedstat)
# per 1000 values, RSS and peak RSS, open fds, and mbsim's CPU in the same
# window. Results: a Markdown summary on stdout and in $BENCH_OUT/summary.md,
# raw samples and logs beside it.
#
# Defaults: M = 2000 1000, WINDOW_S 120 (twelve 10 s rounds), WARMUP_S 30,
# POLLERS vigild,collectd (comma-separated), READ_THREADS 5 (collectd's
# ReadThreads), NOFILE 1024: the soft open-file limit vigild starts with,
# as a default systemd service gets (collectd gets the hard limit).
# vigild's window is aligned to its 60 s "stats:" log lines (its own
# counters), so it lasts WINDOW_S rounded up to a minute and starts at the
# first such line after WARMUP_S (60 s after its start).
# Environment: BENCH_WINDOW, BENCH_WARMUP, BENCH_POLLERS, BENCH_OUT (kept;
# default a fresh /tmp dir), VIGILD (default build/vigild), MBSIM (default
# test/mbsim beside VIGILD's directory).
# Only 127.0.0.0/8 is used. Every process started here is stopped by PID.
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bench=$top/bench
# shellcheck source=bench/lib.sh
. "$bench/lib.sh"
window=${BENCH_WINDOW:-120}
warmup=${BENCH_WARMUP:-30}
pollers=${BENCH_POLLERS:-vigild,collectd}
vigild=${VIGILD:-$top/build/vigild}
read_threads=5
vigild_nofile=1024
interval_s=10
regs=40          # values per device per poll
table_cols=12
recent_s=15      # "polled on time": a good poll within interval + 5 s

while getopts "w:u:p:t:n:h" opt; do
	case $opt in
	w) window=$OPTARG ;;
	u) warmup=$OPTARG ;;
	p) pollers=$OPTARG ;;
	t) read_threads=$OPTARG ;;
	n) vigild_nofile=$OPTARG ;;
	*) sed -n '2,25p' "${BASH_SOURCE[0]}"; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
ms=("$@")
[ ${#ms[@]} -gt 0 ] || ms=(2000 1000)
mbsim=${MBSIM:-$(dirname "$vigild")/test/mbsim}
cmdline="bench/modbus_run.sh -w $window -u $warmup -p $pollers -t $read_threads -n $vigild_nofile ${ms[*]}"

bench_out vigil-mbbench

# --- what it needs ---------------------------------------------------------
install_missing() {
	local need=()
	command -v sqlite3 >/dev/null || need+=(sqlite3)
	[ -x /usr/bin/python3 ] || need+=(python3)
	# Debian ships collectd's modbus plugin in collectd-core.
	[ -e /usr/lib/collectd/modbus.so ] || need+=(collectd-core)
	apt_install "${need[@]+"${need[@]}"}"
}
install_missing
[ -x "$mbsim" ] || die "no simulator at $mbsim (make all, or set MBSIM)"

addr_of() { # device i (1-based) -> 127.1.x.y, as bench/modbus_gen.py
	echo "127.1.$(($1 >> 8)).$(($1 & 255))"
}

# --- /proc sampling ----------------------------------------------------------
# CPU comes from the scheduler (cpu_ns, bench/lib.sh); utime+stime (10 ms
# ticks, and it includes threads that have exited) is kept beside it as a
# check.
ticks() { # utime+stime of PID, clock ticks
	awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat" 2>/dev/null || echo 0
}
fd_high() { # "highest fd, fds >= 1024"
	ls "/proc/$1/fd" 2>/dev/null | sort -n | awk '$1 >= 1024 { n++ } { m = $1 } END { print m + 0, n + 0 }'
}
nofile_of() { awk '/^Max open files/ { print $4 "/" $5 }' "/proc/$1/limits" 2>/dev/null || echo n/a; }
# Established TCP connections to mbsim's port (both directions are listed
# on loopback; count the server side: local port = PORT).
mb_conns() {
	local hex
	hex=$(printf '%04X' "$port")
	awk -v p=":$hex" 'NR > 1 && $4 == "01" && substr($2, length($2) - 4) == p { n++ } END { print n + 0 }' /proc/net/tcp
}

# --- the poller-specific parts -------------------------------------------------
# Counters the poller itself keeps: "values timeouts skipped polls failures"
poller_counts() {
	case $1 in
	collectd)
		local v f
		v=$(sed -n 's/.*values=\([0-9]*\).*/\1/p' "$2/sink.status" 2>/dev/null || true)
		# collectd logs every failed read ("modbus read function ...
		# failed", "mb_init_connection ... failed", modbus_connect):
		# timeouts and refusals alike.
		f=$(grep -c 'Modbus plugin: .*failed' "$2/collectd.log" 2>/dev/null || true)
		echo "${v:-0} ${f:-0} 0 0 0" ;;
	vigild)
		echo "$(stat_field "$2" values) $(stat_field "$2" timeouts) $(stat_field "$2" skipped)" \
			"$(stat_field "$2" polls) $(grep -c 'poll failed' "$2/vigild.log" 2>/dev/null || true)" ;;
	esac
}
# Devices with a good poll in the last recent_s seconds.
poller_on_time() {
	case $1 in
	collectd)
		sed -n 's/.*recent=\([0-9]*\).*/\1/p' "$2/sink.status" 2>/dev/null || true ;;
	vigild)
		local since
		since=$(($(date +%s%3N) - recent_s * 1000))
		sqlite3 -cmd '.timeout 5000' "$2/vigil.db" \
			"SELECT count(*) FROM hosts WHERE active = 1 AND last_values_ms >= $since;" 2>/dev/null || true ;;
	esac
}

# For wait_for: time since the poller's start, its CPU, then mbsim's CPU
# and connections. The first 10 s are sampled every second, to see the
# start-up (how fast the connections open).
sample_fast_s=10
sample_row() { # PID START_S NOW_S RSS_KB FDS
	echo "$(($3 - t_start)) $(cpu_ns "$1") $4 $5 $(cpu_ns "$mbsim_pid") $(mb_conns)"
}

start_poller() { # KIND M WORKDIR: sets poller_pid (and sink_pid for collectd)
	local kind=$1 m=$2 w=$3
	case $kind in
	collectd)
		spawn_sink "$w" "$recent_s"
		# collectd does not raise RLIMIT_NOFILE itself and keeps one TCP
		# connection per device: give it the hard limit.
		( ulimit -Sn "$(ulimit -Hn)"; exec collectd -f -C "$w/collectd.conf" ) \
			</dev/null >"$w/collectd.out" 2>&1 &
		poller_pid=$!
		pids+=("$poller_pid") ;;
	vigild)
		# A default systemd service starts with a soft limit of 1024 open
		# files: the daemon has to raise its own (docs/modbus.md says it does).
		spawn_vigild "$w" "$vigild_nofile" ;;
	esac
}

# run_one KIND M: one measured phase; appends a row to $rows_file.
run_one() {
	local kind=$1 m=$2 w
	w=$out/$kind-$m
	rm -rf "$w"
	mkdir -p "$w"
	kill -0 "$mbsim_pid" 2>/dev/null || die "mbsim (pid $mbsim_pid) is gone"
	sink_port=$(free_port udp)
	sink_pid=""
	/usr/bin/python3 "$bench/modbus_gen.py" "$m" "$port" "$sink_port" "$w" "$read_threads" ||
		die "modbus_gen.py failed"
	if [ "$kind" = vigild ]; then
		"$vigild" -t -c "$w/vigil.json" > "$w/check.txt" 2>&1 || die "vigild -t: $(cat "$w/check.txt")"
	fi
	local expect=$((m * regs / interval_s))

	log "$kind M=$m: starting, warm-up ${warmup}s, window ${window}s"
	local ppid
	t_start=$(date +%s)
	start_poller "$kind" "$m" "$w"
	ppid=$poller_pid
	echo "t_s cpu_ns rss_kb fds mbsim_cpu_ns mbsim_conns" > "$w/samples.txt"
	warm_up "$kind" "$ppid" "$w"
	if ! kill -0 "$ppid" 2>/dev/null; then
		# Gone before its window: say exactly how.
		local rc=0 died_s sig="" msg seen
		wait "$ppid" 2>/dev/null || rc=$?
		forget "$ppid"
		died_s=$(($(date +%s) - t_start))
		((rc > 128)) && sig=" = SIG$(kill -l $((rc - 128)) 2>/dev/null || echo "$((rc - 128))")"
		sleep 1.5       # the sink writes its status once a second
		seen=$(sed -n 's/.*values=\([0-9]*\).*hosts=\([0-9]*\).*/\1 values from \2 devices/p' "$w/sink.status" 2>/dev/null || true)
		msg=$(grep -v '^\[' "$w/$kind.out" 2>/dev/null | sort | uniq -c |
			awk '{ n = $1; sub(/^ *[0-9]+ /, ""); printf "%s\"%s\" (%d line%s)", (NR > 1 ? "; " : ""), $0, n, (n > 1 ? "s" : "") }' || true)
		log "$kind M=$m: exited during warm-up after ${died_s}s, status $rc$sig; ${msg:-no message}"
		tail -n 5 "$w/$kind.log" "$w/$kind.out" 2>/dev/null | sed 's/^/    /' >&2
		note_row "$kind" "$m" "$expect" "exited after ${died_s} s (status $rc$sig)" "${seen:-n/a} before it died" >> "$rows_file"
		echo "- $kind M=$m: exited ${died_s} s after start, exit status $rc$sig; sink had ${seen:-nothing}; its stderr: ${msg:-nothing}; largest fd count sampled $fd_max" >> "$out/details.txt"
		[ -n "$sink_pid" ] && stop "$sink_pid" 5
		return 0
	fi

	# Start of the window.
	local t0 c0 k0 mc0 mk0 n0 mb0 th0
	t0=$(date +%s%N)
	c0=$(cpu_ns "$ppid"); k0=$(ticks "$ppid")
	mc0=$(cpu_ns "$mbsim_pid"); mk0=$(ticks "$mbsim_pid")
	n0=$(poller_counts "$kind" "$w")
	mb0=$(machine_busy)
	th0=$(thread_ns "$ppid")
	in_window "$kind" "$ppid" "$w" "$m"
	# End of the window.
	local t1 c1 k1 mc1 mk1 n1 mb1 th1 hwm rss fd ontime fdh lim conns
	c1=$(cpu_ns "$ppid"); k1=$(ticks "$ppid")
	mc1=$(cpu_ns "$mbsim_pid"); mk1=$(ticks "$mbsim_pid")
	n1=$(poller_counts "$kind" "$w")
	t1=$(date +%s%N)
	mb1=$(machine_busy)
	th1=$(thread_ns "$ppid")
	rss=$(status_kb "$ppid" VmRSS)
	hwm=$(status_kb "$ppid" VmHWM)
	fd=$(fd_count "$ppid")
	fdh=$(fd_high "$ppid")
	lim=$(nofile_of "$ppid")
	conns=$(mb_conns)
	((rss > rss_max)) && rss_max=$rss
	((fd > fd_max)) && fd_max=$fd
	ontime=$(poller_on_time "$kind" "$w")
	local alive=yes
	kill -0 "$ppid" 2>/dev/null || alive=no
	local extra=""
	if [ "$kind" = vigild ]; then
		local raised
		raised=$(grep -o 'raised the open-file soft limit.*' "$w/vigild.log" | head -n 1 || true)
		extra="vigild's own limit raise: ${raised:-none logged}; EMFILE lines: $(grep -c 'Too many open files' "$w/vigild.log" || true); intervals opened: $(grep -c 'interval .* opened' "$w/vigild.log" || true)"
	else
		extra="late reads (above the read interval): $(grep -c 'above its read interval' "$w/collectd.log" || true); suspended reads: $(grep -c 'Will suspend it' "$w/collectd.log" || true)"
	fi

	stop "$ppid" 30
	[ -n "$sink_pid" ] && stop "$sink_pid" 5

	awk -v kind="$kind" -v m="$m" -v expect="$expect" -v hz="$hz" -v ncpu="$(nproc)" \
		-v t0="$t0" -v t1="$t1" -v c0="$c0" -v c1="$c1" -v k0="$k0" -v k1="$k1" \
		-v mc0="$mc0" -v mc1="$mc1" -v mk0="$mk0" -v mk1="$mk1" \
		-v n0="$n0" -v n1="$n1" -v mb0="$mb0" -v mb1="$mb1" -v th0="$th0" -v th1="$th1" \
		-v rss="$rss_max" -v hwm="$hwm" -v fd="$fd_max" -v fdh="$fdh" -v lim="$lim" \
		-v ontime="$ontime" -v conns="$conns" -v alive="$alive" -v extra="$extra" \
		-v details="$out/details.txt" -v figures="$out/figures.txt" "$bench_awk"'
	BEGIN {
		secs = (t1 - t0) / 1e9
		split(n0, a, " "); split(n1, b, " ")
		vals = b[1] - a[1]; tmo = b[2] - a[2]; skp = b[3] - a[3]; polls = b[4] - a[4]; fails = b[5] - a[5]
		cpu_s = (c1 - c0) / 1e9
		mb_s = (mc1 - mc0) / 1e9
		# vigild: the values between two stats lines, which its 60 s
		# timer logs; the script sees each within 0.5 s, so values/s is
		# taken over the nominal span (CPU over what the script timed).
		vsecs = kind == "vigild" ? 60 * int(secs / 60 + 0.5) : secs
		vps = vals / vsecs
		ms_per_k = vals > 0 ? cpu_s * 1e6 / vals : -1
		mb_per_k = vals > 0 ? mb_s * 1e6 / vals : -1
		split(fdh, f, " ")
		if (kind == "vigild")
			tcol = sprintf("%d / %d", tmo, skp)
		else
			tcol = sprintf("%d failed reads", tmo)
		printf "| %s | %d | %d | %.0f | %s | %s | %.2f | %.1f | %.1f | %d (max fd %d, %d >= 1024) | %.2f s (%.1f%%) | %.2f |%s\n",
			kind, m, expect, vps, tcol, (ontime == "" ? "n/a" : ontime " / " m),
			ms_per_k, rss / 1024, hwm / 1024, fd, f[1], f[2], mb_s, 100 * mb_s / secs, mb_per_k,
			(alive == "yes" ? "" : " died in window |")
		printf "%s %d %.4f %.4f\n", kind, m, ms_per_k, mb_per_k >> figures
		busy_s = (mb1 - mb0) / hz
		line = sprintf("%s M=%d: %.1f s window, %d values (%.1f%% of expected), poller CPU %.3f s (utime+stime %.2f s), mbsim CPU %.3f s (utime+stime %.2f s), machine busy %.0f%% of %d CPUs (%.1f CPU-s neither poller nor mbsim), open-file limit %s, %d connections to mbsim at the end",
			kind, m, secs, vals, 100 * vals / (expect * vsecs), cpu_s, (k1 - k0) / hz, mb_s, (mk1 - mk0) / hz,
			100 * busy_s / (secs * ncpu), ncpu, busy_s - cpu_s - mb_s, lim, conns)
		if (kind == "vigild")
			line = line sprintf(", polls %d (%.1f/s), timeouts %d, skipped %d, poll-failed log lines %d", polls, polls / secs, tmo, skp, fails)
		line = line "; " extra
		th = thread_shares(th0, th1, secs, 0.0005, 2, 1)
		if (th != "") line = line sprintf("; threads >= 0.05%% of a CPU:%s", th)
		detail(line)
	}' >> "$rows_file"
}

# --- main ---------------------------------------------------------------------
: > "$out/figures.txt"
pollers_of vigild collectd
max_m=0
for m in "${ms[@]}"; do ((m > max_m)) && max_m=$m; done
((max_m >= 1 && max_m <= 65535)) || die "M must be 1..65535"

# One simulator for the whole run, serving the most devices asked for; a
# phase with fewer devices polls the first M of them.
port=$(free_port tcp)
"$mbsim" --regs 200 --ready "$out/mbsim.ready" "127.1.0.1-$(addr_of "$max_m"):$port" \
	</dev/null >"$out/mbsim.log" 2>&1 &
mbsim_pid=$!
pids+=("$mbsim_pid")
for _ in $(seq 100); do [ -e "$out/mbsim.ready" ] && break; kill -0 "$mbsim_pid" 2>/dev/null || break; sleep 0.1; done
[ -e "$out/mbsim.ready" ] || die "mbsim did not start: $(cat "$out/mbsim.log")"
n_ready=$(wc -l < "$out/mbsim.ready")
((n_ready == max_m)) || die "mbsim serves $n_ready endpoints, wanted $max_m"
cp "$out/mbsim.ready" "$out/mbsim.endpoints"
log "mbsim pid $mbsim_pid: $n_ready endpoints 127.1.0.1 .. $(addr_of "$max_m") port $port"

{
	machine_header
	echo "command: $cmdline"
	echo "vigild: $vigild, $("$vigild" -V 2>/dev/null || echo "not built"), started with soft RLIMIT_NOFILE $vigild_nofile"
	echo "collectd: $(collectd -h 2>/dev/null | sed -n 's/^collectd \([0-9.]*[0-9]\).*/\1/p' | head -n 1), ReadThreads $read_threads, soft RLIMIT_NOFILE $(ulimit -Hn); libmodbus $(dpkg-query -W -f '${Version}' libmodbus5 2>/dev/null || echo '?')"
	echo "mbsim: $mbsim, $n_ready endpoints 127.1.0.1 .. $(addr_of "$max_m"):$port, unit 1, --regs 200"
	echo "per device: 40 uint16 registers (holding 0..19, input 100..119) every ${interval_s} s, timeout 1 s"
	echo "limits: RLIMIT_NOFILE soft $(ulimit -Sn) hard $(ulimit -Hn) (this shell)"
} > "$out/header.txt"
cat "$out/header.txt" >&2

for m in "${ms[@]}"; do
	for kind in "${kinds[@]}"; do
		vigild_unbuilt "$kind" "$m" $((m * regs / interval_s)) && continue
		run_one "$kind" "$m"
	done
done
mb_total=$(cpu_ns "$mbsim_pid")
stop "$mbsim_pid" 5

{
	echo '```'
	cat "$out/header.txt"
	echo '```'
	echo
	echo "| poller | devices | expected values/s | measured values/s (own count) | timeouts / skipped | devices with a good poll in the last ${recent_s} s | CPU ms / 1000 values | RSS MiB (max) | peak RSS MiB (VmHWM) | fds at the end | mbsim CPU in the window | mbsim CPU ms / 1000 values |"
	echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
	cat "$rows_file"
	echo
	# The headline: vigild's CPU per value over collectd's, per M.
	awk -v ms="${ms[*]}" '{ f[$1, $2] = $3 }
		END { n = split(ms, m, " ")
			for (i = 1; i <= n; i++)
				if ((("vigild", m[i]) in f) && (("collectd", m[i]) in f) && f["collectd", m[i]] > 0 && f["vigild", m[i]] > 0)
					printf "- **%d devices: vigild / collectd CPU per value = %.2f / %.2f = %.2fx**\n",
						m[i], f["vigild", m[i]], f["collectd", m[i]], f["vigild", m[i]] / f["collectd", m[i]] }' \
		"$out/figures.txt"
	echo "- mbsim (pid $mbsim_pid) used $(awk -v n="$mb_total" 'BEGIN { printf "%.1f", n / 1e9 }') CPU-s over the whole run"
	cat "$out/details.txt" 2>/dev/null || true
} > "$summary"
cat "$summary"
log "raw data in $out"
