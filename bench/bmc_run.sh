#!/usr/bin/env bash
# bench/bmc_run.sh [-w WINDOW_S] [-u WARMUP_S] [-r REDFISH_BMCS] [-i IPMI_BMCS] [-p PHASES] [-n NOFILE] [-x COLLECTORS]
#
# The BMC benchmark, two phases (PHASES, comma-separated, default
# redfish,ipmi):
#  redfish  REDFISH_BMCS (default 500) simulated Redfish BMCs, one rfsim.py
#           process (test/peers/rfsim.py --range 127.10.0.1 N PORT
#           --range-style mixed), HTTPS with a certificate made here whose
#           subjectAltName lists every address (verification on, ca_file),
#           session auth, polled by vigild every 30 s. Measures BMC polls/s,
#           CPU per BMC poll, RSS, open fds, hosts with a good poll within
#           35 s at a look every 15 s, and rfsim's CPU.
#  ipmi     IPMI_BMCS (default 30) OpenIPMI ipmi_sim BMCs
#           (test/peers/ipmi/start-ipmi-sim.sh PORT DIR 127.20.0.k), polled
#           every 10 s by vigild and, in the same window, scraped every 10 s
#           by Debian's prometheus-ipmi-exporter (FreeIPMI's tools per
#           scrape; scrapes driven by bench/bmc_gen.py scrape). Measures each
#           one's CPU per BMC poll (the exporter's including the tools it
#           forks: cutime+cstime) and the ratio, and the ipmi_sims' CPU.
#           COLLECTORS: the exporter's, default ipmi,chassis,sel (-x ipmi:
#           sensors only, one tool per scrape, its cheapest).
# vigild's window is aligned to its 60 s "stats:" lines (its own polls=
# counter), so it lasts WINDOW_S rounded up to a minute and starts at the
# first such line after WARMUP_S (60 s after its start); the exporter's
# figures are read at the same instants.
# Defaults: WINDOW_S 180, WARMUP_S 30, NOFILE 1024 (vigild's soft
# open-file limit at start, a default systemd service's). A default run
# takes about 8 minutes.
# Environment: BENCH_WINDOW, BENCH_WARMUP, BENCH_PHASES, BENCH_OUT (kept; default a fresh
# /tmp dir), VIGILD (default build/vigild).
# Only 127.0.0.0/8 is used; everything listens on 127.x addresses. Every
# process started here is stopped by PID.
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bench=$top/bench
# shellcheck source=bench/lib.sh
. "$bench/lib.sh"
window=${BENCH_WINDOW:-180}
warmup=${BENCH_WARMUP:-30}
pollers=${BENCH_PHASES:-redfish,ipmi}
vigild=${VIGILD:-$top/build/vigild}
n_rf=500
n_ipmi=30
exp_collectors=ipmi,chassis,sel
vigild_nofile=1024
rf_interval=30
ipmi_interval=10
look_every=15    # on-time looks in the window
slack_s=5        # "on time": a good poll within interval + slack_s

while getopts "w:u:r:i:p:n:x:h" opt; do
	case $opt in
	w) window=$OPTARG ;;
	u) warmup=$OPTARG ;;
	r) n_rf=$OPTARG ;;
	i) n_ipmi=$OPTARG ;;
	p) pollers=$OPTARG ;;
	n) vigild_nofile=$OPTARG ;;
	x) exp_collectors=$OPTARG ;;
	*) sed -n '2,32p' "${BASH_SOURCE[0]}"; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
cmdline="bench/bmc_run.sh -w $window -u $warmup -r $n_rf -i $n_ipmi -p $pollers -n $vigild_nofile -x $exp_collectors"
py=/usr/bin/python3
peers=$top/test/peers

bench_out vigil-bmcbench

need=()
command -v sqlite3 >/dev/null || need+=(sqlite3)
command -v openssl >/dev/null || need+=(openssl)
command -v curl >/dev/null || need+=(curl)
command -v ipmi_sim >/dev/null || need+=(openipmi)
command -v ipmi-sensors >/dev/null || need+=(freeipmi-tools)
command -v prometheus-ipmi-exporter >/dev/null || need+=(prometheus-ipmi-exporter)
apt_install "${need[@]+"${need[@]}"}"

# --- /proc sampling ----------------------------------------------------------
ticks() { # utime+stime of PID, clock ticks
	awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat" 2>/dev/null || echo 0
}
cticks() { # cutime+cstime of PID: its children waited for, clock ticks
	awk '{ sub(/^.*\) /, ""); print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0
}
sum_cpu_ns() { # PID...: cpu_ns summed
	local p s=0
	for p in "$@"; do s=$((s + $(cpu_ns "$p"))); done
	echo "$s"
}

# Hosts with a good poll (hosts.last_values_ms, set by good polls only)
# within interval + slack_s, and with any poll that recent.
on_time() { # WORKDIR INTERVAL_S: "good any"
	local since
	since=$(($(date +%s%3N) - ($2 + slack_s) * 1000))
	sqlite3 -cmd '.timeout 5000' -separator ' ' "$1/vigil.db" \
		"SELECT count(CASE WHEN last_values_ms >= $since THEN 1 END), count(CASE WHEN last_poll_ms >= $since THEN 1 END) FROM hosts WHERE active = 1;" 2>/dev/null || echo "0 0"
}

# wait_for's sampler. In the window (in_win=1), every look_every s, an
# on-time look: its minimum is kept in look_min, the looks in looks_file.
in_win=0 next_look=0 look_min=-1 looks=0 look_interval=30 look_work=""
sample_row() { # PID START_S NOW_S RSS_KB FDS
	local extra=""
	if ((in_win && $3 >= next_look)); then
		local g a
		read -r g a <<< "$(on_time "$look_work" "$look_interval")"
		looks=$((looks + 1))
		((look_min < 0 || g < look_min)) && look_min=$g
		echo "$(($3 - t_start)) good=$g any=$a" >> "$looks_file"
		next_look=$(($3 + look_every))
		extra=" look=$g/$a"
	fi
	echo "$(($3 - t_start)) $(cpu_ns "$1") $4 $5 $(sum_cpu_ns "${peer_pids[@]}")$extra"
}

window_start() { in_win=1; next_look=0; look_min=-1; looks=0; }

# ipmi_sim is not our child (start-ipmi-sim.sh starts it and exits), and
# here nothing reaps the orphans: a stopped ipmi_sim stays a zombie, which
# kill -0 still finds, so lib.sh's stop would wait its whole grace for each.
# Stopped all at once instead, gone when dead or a zombie.
live() { # PID: running, not a zombie
	local s
	s=$(awk '{ sub(/^.*\) /, ""); print $1 }' "/proc/$1/stat" 2>/dev/null) || return 1
	[ -n "$s" ] && [ "$s" != Z ]
}
stop_sims() {
	local p i up
	for p in "${peer_pids[@]}"; do kill "$p" 2>/dev/null || true; done
	for ((i = 0; i < 50; i++)); do
		up=0
		for p in "${peer_pids[@]}"; do live "$p" && { up=1; break; }; done
		((up)) || break
		sleep 0.1
	done
	for p in "${peer_pids[@]}"; do
		live "$p" && { log "ipmi_sim $p ignored TERM: KILL"; kill -9 "$p" 2>/dev/null || true; }
		forget "$p"
	done
}

# vigild exited during warm-up: the row says so.
vigild_died() { # WORKDIR PID KIND N
	local rc=0 died_s sig=""
	wait "$2" 2>/dev/null || rc=$?
	forget "$2"
	died_s=$(($(date +%s) - t_start))
	((rc > 128)) && sig=" = SIG$(kill -l $((rc - 128)) 2>/dev/null || echo "$((rc - 128))")"
	log "$3: vigild exited during warm-up after ${died_s}s, status $rc$sig"
	tail -n 5 "$1/vigild.log" | sed 's/^/    /' >&2
	echo "- $3: vigild exited ${died_s} s after start, status $rc$sig; last log lines: $(tail -n 3 "$1/vigild.log" | tr '\n' ' ')" >> "$out/details.txt"
	note_row "$3" "$4" "vigild exited after ${died_s} s (status $rc$sig)" >> "$rows_file"
}

# --- phase redfish -------------------------------------------------------------
rf_addrs() { # N: rfsim's --range 127.10.0.1 N addresses (.0 and .255 skipped)
	"$py" -c 'import sys
n = int(sys.argv[1]); a = []; b, c = 0, 1
while len(a) < n:
    a.append("127.10.%d.%d" % (b, c)); c += 1
    if c == 255: b, c = b + 1, 1
print(" ".join(a))' "$1"
}

run_redfish() {
	local n=$n_rf w=$out/redfish port rf_pid
	w=$out/redfish
	rm -rf "$w"; mkdir -p "$w"
	table_cols=13
	# A certificate naming every address (IP subjectAltNames), the CA file
	# too: vigild verifies each BMC's certificate and name.
	local san
	san=$(rf_addrs "$n" | tr ' ' '\n' | sed 's/^/IP:/' | paste -sd,)
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=rfsim-bench \
		-addext "subjectAltName=$san" -keyout "$w/key.pem" -out "$w/cert.pem" \
		> "$w/openssl.log" 2>&1 || die "openssl: $(cat "$w/openssl.log")"
	printf '{ "username": "vigil", "password": "vigilpass" }\n' > "$w/secrets.json"
	chmod 600 "$w/secrets.json"
	port=$(free_port tcp)
	rm -f "$w/rf.ready"
	"$py" "$peers/rfsim.py" --cert "$w/cert.pem" --key "$w/key.pem" \
		--range 127.10.0.1 "$n" "$port" --range-style mixed \
		--ready "$w/rf.ready" --stats "$w/rf.stats" </dev/null >"$w/rfsim.log" 2>&1 &
	rf_pid=$!
	pids+=("$rf_pid")
	peer_pids=("$rf_pid")
	for _ in $(seq 300); do [ -e "$w/rf.ready" ] && break; kill -0 "$rf_pid" 2>/dev/null || break; sleep 0.1; done
	[ -e "$w/rf.ready" ] || die "rfsim did not start: $(tail -n 5 "$w/rfsim.log")"
	local n_ready
	n_ready=$(grep -c '^bmc=' "$w/rf.ready")
	((n_ready == n)) || die "rfsim serves $n_ready BMCs, wanted $n"
	log "rfsim pid $rf_pid: $n_ready BMCs 127.10.0.1 .. $(grep '^bmc=' "$w/rf.ready" | tail -n 1 | cut -d' ' -f2):$port"
	"$py" "$bench/bmc_gen.py" redfish "$w/rf.ready" "$w/cert.pem" "$w/secrets.json" "$w" "$rf_interval" ||
		die "bmc_gen.py redfish failed"
	chmod 600 "$w/vigil.json"
	"$vigild" -t -c "$w/vigil.json" > "$w/check.txt" 2>&1 || die "vigild -t: $(cat "$w/check.txt")"
	{
		echo "redfish: rfsim.py (pid $rf_pid) --range 127.10.0.1 $n $port --range-style mixed, one process; certificate with $n IP subjectAltNames, verified (ca_file), session auth"
		echo "redfish: per BMC every ${rf_interval} s, timeout 10 s: power, health, sensor:CPU Temp, sensor:Fan 1, sensor:Power Consumed (and the log entries after the cursor, which every poll reads)"
	} >> "$out/header.txt"

	log "redfish N=$n: vigild starting, warm-up ${warmup}s, window ${window}s"
	t_start=$(date +%s)
	echo "t_s cpu_ns rss_kb fds rfsim_cpu_ns [look=good/any]" > "$w/samples.txt"
	looks_file=$w/looks.txt; : > "$looks_file"
	look_work=$w look_interval=$rf_interval in_win=0
	spawn_vigild "$w" "$vigild_nofile"
	local vp=$poller_pid
	warm_up vigild "$vp" "$w"
	if ! kill -0 "$vp" 2>/dev/null; then
		vigild_died "$w" "$vp" redfish "$n"
		stop "$rf_pid" 10
		return 0
	fi
	local t0 c0 k0 rc0 rk0 th0 mb0 p0 to0 sk0 v0 rq0
	t0=$(date +%s%N)
	c0=$(cpu_ns "$vp"); k0=$(ticks "$vp")
	rc0=$(cpu_ns "$rf_pid"); rk0=$(ticks "$rf_pid")
	p0=$(stat_field "$w" polls); to0=$(stat_field "$w" timeouts); sk0=$(stat_field "$w" skipped); v0=$(stat_field "$w" values)
	th0=$(thread_ns "$vp"); mb0=$(machine_busy)
	window_start
	in_window vigild "$vp" "$w" "$n"
	in_win=0
	local t1 c1 k1 rc1 rk1 th1 mb1 p1 to1 sk1 v1 rss hwm fd g a alive=yes
	c1=$(cpu_ns "$vp"); k1=$(ticks "$vp")
	rc1=$(cpu_ns "$rf_pid"); rk1=$(ticks "$rf_pid")
	p1=$(stat_field "$w" polls); to1=$(stat_field "$w" timeouts); sk1=$(stat_field "$w" skipped); v1=$(stat_field "$w" values)
	t1=$(date +%s%N)
	th1=$(thread_ns "$vp"); mb1=$(machine_busy)
	rss=$(status_kb "$vp" VmRSS); hwm=$(status_kb "$vp" VmHWM); fd=$(fd_count "$vp")
	((rss > rss_max)) && rss_max=$rss
	((fd > fd_max)) && fd_max=$fd
	read -r g a <<< "$(on_time "$w" "$rf_interval")"
	kill -0 "$vp" 2>/dev/null || alive=no
	local fails tlserr logins
	fails=$(grep -c 'poll failed\|error' "$w/vigild.log" || true)
	tlserr=$(grep -c 'certificate\|SSL' "$w/vigild.log" || true)
	stop "$vp" 30
	kill -USR1 "$rf_pid" 2>/dev/null || true
	sleep 1
	logins=$("$py" -c 'import json, sys
d = json.load(open(sys.argv[1]))
s = lambda k: sum(v.get(k, 0) for v in d.values())
print("requests %d, connections %d, logins %d, tls_failures %d, unauthorized %d, not_found %d" % (s("requests"), s("connections"), s("logins"), s("tls_failures"), s("unauthorized"), s("not_found")))' "$w/rf.stats" 2>/dev/null || echo "no rfsim stats")
	stop "$rf_pid" 10
	awk -v n="$n" -v iv="$rf_interval" -v hz="$hz" -v ncpu="$(nproc)" \
		-v t0="$t0" -v t1="$t1" -v c0="$c0" -v c1="$c1" -v k0="$k0" -v k1="$k1" \
		-v rc0="$rc0" -v rc1="$rc1" -v rk0="$rk0" -v rk1="$rk1" \
		-v p0="${p0:-0}" -v p1="${p1:-0}" -v to0="${to0:-0}" -v to1="${to1:-0}" -v sk0="${sk0:-0}" -v sk1="${sk1:-0}" \
		-v v0="${v0:-0}" -v v1="${v1:-0}" -v mb0="$mb0" -v mb1="$mb1" -v th0="$th0" -v th1="$th1" \
		-v rss="$rss_max" -v hwm="$hwm" -v fd="$fd_max" -v g="$g" -v a="$a" -v lmin="$look_min" -v looks="$looks" \
		-v alive="$alive" -v fails="$fails" -v tlserr="$tlserr" -v rfst="$logins" -v slack="$slack_s" \
		-v details="$out/details.txt" -v figures="$out/figures.txt" "$bench_awk"'
	BEGIN {
		secs = (t1 - t0) / 1e9
		vsecs = 60 * int(secs / 60 + 0.5)
		polls = p1 - p0
		cpu_s = (c1 - c0) / 1e9; rf_s = (rc1 - rc0) / 1e9
		ms = polls > 0 ? cpu_s * 1e3 / polls : -1
		rfms = polls > 0 ? rf_s * 1e3 / polls : -1
		printf "| vigild redfish | %d | %.2f | **%.2f** | %d / %d | **%s / %d** (%d looks; at the end %d, any poll %d) | **%s** | %.1f | %.1f | %d | %.2f s (%.1f%% of a CPU) | %s |%s\n",
			n, n / iv, polls / vsecs, to1 - to0, sk1 - sk0, (lmin < 0 ? "n/a" : lmin), n, looks, g, a,
			(ms < 0 ? "no polls" : sprintf("%.3f", ms)), rss / 1024, hwm / 1024, fd, rf_s, 100 * rf_s / secs,
			(rfms < 0 ? "n/a" : sprintf("%.3f", rfms)), (alive == "yes" ? "" : " died in window |")
		printf "redfish %d %.4f %s %d\n", n, ms, lmin, polls >> figures
		busy_s = (mb1 - mb0) / hz
		line = sprintf("redfish N=%d: %.1f s window, %d BMC polls (%.1f%% of %d expected), %d values; vigild CPU %.3f s (utime+stime %.2f s), rfsim CPU %.3f s (utime+stime %.2f s); machine busy %.0f%% of %d CPUs (%.1f CPU-s neither vigild nor rfsim); log lines with \"poll failed\"/\"error\": %d, with certificate/SSL: %d; rfsim over the whole phase: %s",
			n, secs, polls, 100 * polls / (n / iv * vsecs), n / iv * vsecs, v1 - v0, cpu_s, (k1 - k0) / hz, rf_s, (rk1 - rk0) / hz,
			100 * busy_s / (secs * ncpu), ncpu, busy_s - cpu_s - rf_s, fails, tlserr, rfst)
		th = thread_shares(th0, th1, secs, 0.0005, 2, 1)
		if (th != "") line = line sprintf("; vigild threads >= 0.05%% of a CPU:%s", th)
		detail(line)
	}' >> "$rows_file"
}

# --- phase ipmi ----------------------------------------------------------------
ipmi_port() { # a UDP port whose +1000 (the console, TCP) is free too, < 64000
	local p
	for _ in $(seq 20); do
		p=$(free_port udp)
		((p < 64000)) || continue
		"$py" -c 'import socket, sys; s = socket.socket(); s.bind(("0.0.0.0", int(sys.argv[1])))' \
			$((p + 1000)) 2>/dev/null && { echo "$p"; return 0; }
	done
	return 1
}

run_ipmi() {
	local n=$n_ipmi w port k pid exp_port exp_pid drv_pid
	w=$out/ipmi
	rm -rf "$w"; mkdir -p "$w"
	table_cols=11
	port=$(ipmi_port) || die "no free port pair for ipmi_sim"
	peer_pids=()
	for ((k = 1; k <= n; k++)); do
		pid=$("$peers/ipmi/start-ipmi-sim.sh" "$port" "$w/bmc$k" "127.20.$((k >> 8)).$((k & 255))") ||
			die "ipmi_sim $k did not start"
		pids+=("$pid")
		peer_pids+=("$pid")
	done
	log "ipmi: $n ipmi_sim on 127.20.0.1 .. 127.20.$((n >> 8)).$((n & 255)) udp $port: pids ${peer_pids[*]}"
	printf '{ "username": "vigil", "password": "vigilpass" }\n' > "$w/secrets.json"
	chmod 600 "$w/secrets.json"
	"$py" "$bench/bmc_gen.py" ipmi "$n" "$port" "$w/secrets.json" "$w" "$ipmi_interval" "$exp_collectors" ||
		die "bmc_gen.py ipmi failed"
	chmod 600 "$w/vigil.json" "$w/exporter.yml"
	"$vigild" -t -c "$w/vigil.json" > "$w/check.txt" 2>&1 || die "vigild -t: $(cat "$w/check.txt")"

	# The exporter, on 127.0.0.1 only; HOME in the work dir (FreeIPMI's
	# ~/.freeipmi).
	exp_port=$(free_port tcp)
	mkdir -p "$w/home"
	HOME=$w/home prometheus-ipmi-exporter --config.file="$w/exporter.yml" \
		--web.listen-address="127.0.0.1:$exp_port" --log.level=warn \
		</dev/null >"$w/exporter.log" 2>&1 &
	exp_pid=$!
	pids+=("$exp_pid")
	for _ in $(seq 50); do curl -fs -o /dev/null "http://127.0.0.1:$exp_port/" && break; sleep 0.1; done
	curl -fs -o "$w/first-scrape.txt" "http://127.0.0.1:$exp_port/ipmi?target=$(head -n 1 "$w/targets.txt")" ||
		die "the exporter does not answer: $(tail -n 5 "$w/exporter.log")"
	grep -q 'ipmi_up{collector="ipmi"} 1' "$w/first-scrape.txt" ||
		die "the exporter's first scrape failed: $(grep ipmi_up "$w/first-scrape.txt" | tr '\n' ' ')"
	{
		echo "ipmi: $n ipmi_sim (OpenIPMI $(dpkg-query -W -f '${Version}' openipmi 2>/dev/null || echo '?')), 127.20.0.1 .. 127.20.$((n >> 8)).$((n & 255)) udp $port, RMCP+ (LAN_2_0), user vigil (admin), cipher suite 3"
		echo "ipmi: vigild every ${ipmi_interval} s, timeout 5 s: power, health, sensor:CPU Temp, sensor:Fan 1, sensor:Inlet Temp, sel_entries (one session: chassis status, SDR repository info, every sensor, SEL after the cursor)"
		echo "ipmi: prometheus-ipmi-exporter $(dpkg-query -W -f '${Version}' prometheus-ipmi-exporter 2>/dev/null || echo '?') (FreeIPMI $(dpkg-query -W -f '${Version}' freeipmi-tools 2>/dev/null || echo '?')), 127.0.0.1:$exp_port, scraped every ${ipmi_interval} s per BMC: collectors $exp_collectors (ipmi: ipmimonitoring, which execs ipmi-sensors, with --sdr-cache-recreate; chassis: ipmi-chassis --get-chassis-status; sel: ipmi-sel --info); LAN_2_0, admin, -W opensesspriv; the exporter itself passes --sdr-cache-recreate: the SDR is read again at every scrape"
	} >> "$out/header.txt"

	# The scrapes start with vigild: both warm up together.
	"$py" "$bench/bmc_gen.py" scrape "http://127.0.0.1:$exp_port/ipmi" "$w/targets.txt" \
		"$ipmi_interval" "$w/scrape.status" </dev/null >"$w/scrape.log" 2>&1 &
	drv_pid=$!
	pids+=("$drv_pid")
	log "ipmi N=$n: vigild and the exporter's scrapes starting, warm-up ${warmup}s, window ${window}s"
	t_start=$(date +%s)
	echo "t_s vigild_cpu_ns rss_kb fds ipmi_sims_cpu_ns [look=good/any]" > "$w/samples.txt"
	looks_file=$w/looks.txt; : > "$looks_file"
	look_work=$w look_interval=$ipmi_interval in_win=0
	spawn_vigild "$w" "$vigild_nofile"
	local vp=$poller_pid
	warm_up vigild "$vp" "$w"
	if ! kill -0 "$vp" 2>/dev/null; then
		vigild_died "$w" "$vp" ipmi "$n"
		stop "$drv_pid" 5; stop "$exp_pid" 10
		stop_sims
		return 0
	fi
	scr() { sed -n "s/.* \?$1=\([0-9]*\).*/\1/p" "$w/scrape.status" 2>/dev/null | head -n 1; }
	local t0 c0 k0 e0 ek0 ec0 s0 sf0 sl0 sb0 sims0 p0 to0 sk0 th0 mb0
	t0=$(date +%s%N)
	c0=$(cpu_ns "$vp"); k0=$(ticks "$vp")
	e0=$(cpu_ns "$exp_pid"); ek0=$(ticks "$exp_pid"); ec0=$(cticks "$exp_pid")
	s0=$(scr ok); sf0=$(scr failed); sl0=$(scr late); sb0=$(scr busy_ms)
	sims0=$(sum_cpu_ns "${peer_pids[@]}")
	p0=$(stat_field "$w" polls); to0=$(stat_field "$w" timeouts); sk0=$(stat_field "$w" skipped)
	th0=$(thread_ns "$vp"); mb0=$(machine_busy)
	window_start
	in_window vigild "$vp" "$w" "$n"
	in_win=0
	local t1 c1 k1 e1 ek1 ec1 s1 sf1 sl1 sb1 sims1 p1 to1 sk1 th1 mb1 rss hwm fd g a erss efd erec alive=yes
	c1=$(cpu_ns "$vp"); k1=$(ticks "$vp")
	e1=$(cpu_ns "$exp_pid"); ek1=$(ticks "$exp_pid"); ec1=$(cticks "$exp_pid")
	s1=$(scr ok); sf1=$(scr failed); sl1=$(scr late); sb1=$(scr busy_ms); erec=$(scr recent)
	sims1=$(sum_cpu_ns "${peer_pids[@]}")
	p1=$(stat_field "$w" polls); to1=$(stat_field "$w" timeouts); sk1=$(stat_field "$w" skipped)
	t1=$(date +%s%N)
	th1=$(thread_ns "$vp"); mb1=$(machine_busy)
	rss=$(status_kb "$vp" VmRSS); hwm=$(status_kb "$vp" VmHWM); fd=$(fd_count "$vp")
	erss=$(status_kb "$exp_pid" VmRSS); efd=$(fd_count "$exp_pid")
	((rss > rss_max)) && rss_max=$rss
	((fd > fd_max)) && fd_max=$fd
	read -r g a <<< "$(on_time "$w" "$ipmi_interval")"
	kill -0 "$vp" 2>/dev/null || alive=no
	local fails
	fails=$(grep -c 'poll failed\|error' "$w/vigild.log" || true)
	stop "$vp" 30
	stop "$drv_pid" 5
	stop "$exp_pid" 10
	stop_sims
	awk -v n="$n" -v iv="$ipmi_interval" -v hz="$hz" -v ncpu="$(nproc)" \
		-v t0="$t0" -v t1="$t1" -v c0="$c0" -v c1="$c1" -v k0="$k0" -v k1="$k1" \
		-v e0="$e0" -v e1="$e1" -v ek0="$ek0" -v ek1="$ek1" -v ec0="$ec0" -v ec1="$ec1" \
		-v s0="${s0:-0}" -v s1="${s1:-0}" -v sf0="${sf0:-0}" -v sf1="${sf1:-0}" -v sl0="${sl0:-0}" -v sl1="${sl1:-0}" \
		-v sb0="${sb0:-0}" -v sb1="${sb1:-0}" -v erec="${erec:-0}" -v sims0="$sims0" -v sims1="$sims1" \
		-v p0="${p0:-0}" -v p1="${p1:-0}" -v to0="${to0:-0}" -v to1="${to1:-0}" -v sk0="${sk0:-0}" -v sk1="${sk1:-0}" \
		-v mb0="$mb0" -v mb1="$mb1" -v th0="$th0" -v th1="$th1" \
		-v rss="$rss_max" -v hwm="$hwm" -v fd="$fd_max" -v erss="$erss" -v efd="$efd" \
		-v g="$g" -v a="$a" -v lmin="$look_min" -v looks="$looks" -v alive="$alive" -v fails="$fails" \
		-v details="$out/details.txt" -v figures="$out/figures.txt" "$bench_awk"'
	BEGIN {
		secs = (t1 - t0) / 1e9
		vsecs = 60 * int(secs / 60 + 0.5)
		polls = p1 - p0; scrapes = s1 - s0
		cpu_s = (c1 - c0) / 1e9
		eown_s = (ek1 - ek0) / hz; ekid_s = (ec1 - ec0) / hz; e_s = eown_s + ekid_s
		sims_s = (sims1 - sims0) / 1e9
		vms = polls > 0 ? cpu_s * 1e3 / polls : -1
		ems = scrapes > 0 ? e_s * 1e3 / scrapes : -1
		printf "| vigild ipmi | %d | %.1f | %.2f | %d timeouts / %d skipped | %s / %d (%d looks; at the end %d) | **%s** | %.1f (peak %.1f) | %d | %.2f s | %s |%s\n",
			n, n / iv, polls / vsecs, to1 - to0, sk1 - sk0, (lmin < 0 ? "n/a" : lmin), n, looks, g,
			(vms < 0 ? "no polls" : sprintf("%.2f", vms)), rss / 1024, hwm / 1024, fd, cpu_s,
			(polls > 0 ? sprintf("%.2f", sims_s * 1e3 / (polls + scrapes)) : "n/a"), (alive == "yes" ? "" : " died in window |")
		printf "| prometheus-ipmi-exporter | %d | %.1f | %.2f | %d failed / %d late | %d / %d (at the end) | **%s** (own %.2f + tools %.2f) | %.1f | %d | %.2f s (own %.2f + tools %.2f) | (same) |\n",
			n, n / iv, scrapes / secs, sf1 - sf0, sl1 - sl0, erec, n,
			(ems < 0 ? "no scrapes" : sprintf("%.2f", ems)), (scrapes > 0 ? eown_s * 1e3 / scrapes : 0),
			(scrapes > 0 ? ekid_s * 1e3 / scrapes : 0), erss / 1024, efd, e_s, eown_s, ekid_s
		printf "ipmi %d %.4f %.4f\n", n, vms, ems >> figures
		busy_s = (mb1 - mb0) / hz
		line = sprintf("ipmi N=%d: %.1f s window; vigild %d BMC polls (%.1f%% of expected), CPU %.3f s (utime+stime %.2f s); exporter %d ok scrapes, %d failed, %d late, mean scrape %.0f ms, its own CPU %.3f s on the scheduler (utime+stime %.2f s), its children (cutime+cstime) %.2f s; the %d ipmi_sims %.2f s; machine busy %.0f%% of %d CPUs (%.1f CPU-s none of vigild, the exporter and its tools, the ipmi_sims: the scrape driver, sampling); vigild log lines with \"poll failed\"/\"error\": %d",
			n, secs, polls, 100 * polls / (n / iv * vsecs), cpu_s, (k1 - k0) / hz, scrapes, sf1 - sf0, sl1 - sl0,
			(scrapes > 0 ? (sb1 - sb0) / scrapes : 0), (e1 - e0) / 1e9, eown_s, ekid_s, n, sims_s,
			100 * busy_s / (secs * ncpu), ncpu, busy_s - cpu_s - e_s - sims_s, fails)
		th = thread_shares(th0, th1, secs, 0.0005, 2, 1)
		if (th != "") line = line sprintf("; vigild threads >= 0.05%% of a CPU:%s", th)
		detail(line)
	}' >> "$rows_file.ipmi"
}

# --- main ---------------------------------------------------------------------
: > "$out/figures.txt"
: > "$rows_file.ipmi"
pollers_of redfish ipmi
peer_pids=()
{
	machine_header
	echo "command: $cmdline"
	echo "vigild: $vigild, $("$vigild" -V 2>/dev/null || echo "not built"), started with soft RLIMIT_NOFILE $vigild_nofile, UV_THREADPOOL_SIZE ${UV_THREADPOOL_SIZE:-default (4)}"
} > "$out/header.txt"
[ -x "$vigild" ] || die "no daemon at $vigild (make first, or set VIGILD)"

for kind in "${kinds[@]}"; do
	case $kind in
	redfish) run_redfish ;;
	ipmi) run_ipmi ;;
	esac
done

{
	echo '```'
	cat "$out/header.txt"
	echo '```'
	if [ -s "$rows_file" ]; then
		echo
		echo "| poller | BMCs | expected BMC polls/s | measured BMC polls/s (stats) | timeouts / skipped | BMCs with a good poll in the last $((rf_interval + slack_s)) s (lowest of the looks) | CPU ms per BMC poll | RSS MiB (max) | peak RSS MiB (VmHWM) | fds (max) | rfsim CPU in the window | rfsim CPU ms per BMC poll |"
		echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
		cat "$rows_file"
	fi
	if [ -s "$rows_file.ipmi" ]; then
		echo
		echo "| poller | BMCs | expected polls/s | measured polls/s | failures | BMCs with a good poll in the last $((ipmi_interval + slack_s)) s | CPU ms per BMC poll | RSS MiB | fds | CPU in the window | ipmi_sim CPU ms per poll or scrape |"
		echo "|---|---|---|---|---|---|---|---|---|---|---|"
		cat "$rows_file.ipmi"
	fi
	echo
	awk '$1 == "redfish" { printf "- **Redfish, %d BMCs: %s ms of CPU per BMC poll (target <= 2), %s of %d BMCs on time at every look**\n", $2, ($3 < 0 ? "no polls:" : sprintf("%.3f", $3)), ($4 < 0 ? "n/a" : $4), $2 }
	     $1 == "ipmi" && $3 > 0 && $4 > 0 { printf "- **IPMI, %d BMCs: vigild / exporter CPU per BMC poll = %.2f / %.2f = %.3fx (target <= 0.2x)**\n", $2, $3, $4, $3 / $4 }
	     $1 == "ipmi" && !($3 > 0 && $4 > 0) { printf "- IPMI, %d BMCs: no ratio (vigild %s ms, exporter %s ms per poll)\n", $2, $3, $4 }' "$out/figures.txt"
	cat "$out/details.txt" 2>/dev/null || true
} > "$summary"
cat "$summary"
log "raw data in $out"
