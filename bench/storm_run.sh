#!/usr/bin/env bash
# bench/storm_run.sh [-s SWITCHES] [-n HOSTS] [-I SWITCH_INTERVAL_S]
#                    [-i HOST_INTERVAL_S] [-d DEP_WAIT_S] [-o OBSERVE_S]
#
# The alarm storm benchmark (issue 14 part 8): SWITCHES switches (default
# 50) and HOSTS hosts behind them (default 10000, "uplink": "sw-NN.port1"
# round-robin), every one a tcp source whose availability condition
# ("unreachable: 2") raises an alarm; one webhook channel paged at once by
# the only escalation policy; "dependency_wait_s" DEP_WAIT_S (default 10).
# The switches answer through one tcp_listen.py on 0.0.0.0:SPORT, the hosts
# through another on 0.0.0.0:HPORT (every 127.a.b.c reaches them); the
# receiver is test/hookrecv.py on 127.0.0.1. Switches poll every
# SWITCH_INTERVAL_S (default 5), hosts every HOST_INTERVAL_S (default 10).
#
# Once every host is up, the script waits for vigild's "stats:" lines (60 s
# apart): one minute from one to the next is the quiet reference; at the
# next one (T0) it kills both listeners at once (SIGKILL, one kill), then
# watches for OBSERVE_S (default 150) s: triggers at the receiver, vigild's
# CPU (schedstat of all threads), and the hosts whose last poll is recent
# (last_poll_ms within their interval + 5 s), every second. It reports the
# time from T0 to the first and to the SWITCHES-th trigger, the triggers in
# all (SWITCHES expected: the hosts' alarms are suppressed by their
# switch's), the alarms in the database, polls per stats minute before and
# during the storm, and vigild's CPU in each minute.
#
# Environment: VIGILD (default build/vigild), BENCH_OUT (the work dir, kept;
# default a fresh /tmp dir). Only 127.0.0.0/8 is used. Every process
# started here is stopped by PID.
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bench=$top/bench
# shellcheck source=bench/lib.sh
. "$bench/lib.sh"
vigild=${VIGILD:-$top/build/vigild}
n_sw=50 n_hosts=10000 sw_iv=5 h_iv=10 wait_s=10 observe=150
while getopts "s:n:I:i:d:o:h" opt; do
	case $opt in
	s) n_sw=$OPTARG ;;
	n) n_hosts=$OPTARG ;;
	I) sw_iv=$OPTARG ;;
	i) h_iv=$OPTARG ;;
	d) wait_s=$OPTARG ;;
	o) observe=$OPTARG ;;
	*) sed -n '2,27p' "${BASH_SOURCE[0]}"; exit 2 ;;
	esac
done
command -v sqlite3 >/dev/null || apt_install sqlite3
[ -x "$vigild" ] || die "no daemon at $vigild (make first)"
bench_out vigil-storm
w=$out
total=$((n_sw + n_hosts))

# --- peers ---------------------------------------------------------------------
sport=$(free_port tcp)
hport=$(free_port tcp)
/usr/bin/python3 "$bench/tcp_listen.py" "$sport" </dev/null >"$w/listen-sw.out" 2>&1 &
sw_pid=$!
pids+=("$sw_pid")
/usr/bin/python3 "$bench/tcp_listen.py" "$hport" </dev/null >"$w/listen-h.out" 2>&1 &
h_pid=$!
pids+=("$h_pid")
mkdir -p "$w/hook"
rm -f "$w/hook/port" "$w/hook/log"
echo up > "$w/hook/ctl"
/usr/bin/python3 "$top/test/hookrecv.py" --port-file "$w/hook/port" --log "$w/hook/log" \
	--ctl "$w/hook/ctl" </dev/null >"$w/hook/stderr" 2>&1 &
hook_pid=$!
pids+=("$hook_pid")
for _ in $(seq 100); do [ -s "$w/hook/port" ] && break; sleep 0.1; done
[ -s "$w/hook/port" ] || die "hookrecv.py gave no port"
hook_port=$(cat "$w/hook/port")
touch "$w/hook/log"

/usr/bin/python3 "$bench/storm_gen.py" "$n_sw" "$n_hosts" "$sport" "$hport" "$hook_port" \
	"$sw_iv" "$h_iv" "$wait_s" "$w" || die "storm_gen.py failed"
"$vigild" -t -c "$w/vigil.json" >"$w/t.out" 2>&1 || { cat "$w/t.out" >&2; die "config refused"; }

{
	machine_header
	echo "command: bench/storm_run.sh -s $n_sw -n $n_hosts -I $sw_iv -i $h_iv -d $wait_s -o $observe"
	echo "vigild: $vigild, $("$vigild" -V 2>/dev/null), tree $(cd "$top" && git describe --always --dirty 2>/dev/null || echo unknown)"
	echo "config: $(tail -n 1 "$w/t.out")"
} > "$w/header.txt"
cat "$w/header.txt" >&2

q() { sqlite3 -cmd '.timeout 5000' "$w/vigil.db" "$1" 2>/dev/null || true; }
now_ms() { date +%s%3N; }
# Hosts whose last poll ended within their interval + 5 s, then the age
# of the oldest last poll of a host and of a switch, in ms (polls are
# written with the next batch, so up to interval + batch_ms is on time).
on_time() {
	local n
	n=$(now_ms)
	q "SELECT sum((name LIKE 'sw-%' AND last_poll_ms >= $n - $(((sw_iv + 5) * 1000))) OR (name LIKE 'h%' AND last_poll_ms >= $n - $(((h_iv + 5) * 1000)))), max(CASE WHEN name LIKE 'h%' THEN $n - last_poll_ms END), max(CASE WHEN name LIKE 'sw-%' THEN $n - last_poll_ms END) FROM hosts WHERE active = 1;" | tr '|' ' '
}
triggers() { grep -c '"event": "trigger"' "$w/hook/log" || true; }

log "storm: $n_sw switches, $n_hosts hosts; switch agents :$sport, host listeners :$hport, receiver :$hook_port"
t_start=$(date +%s)
spawn_vigild "$w" 1024
vpid=$poller_pid
stats_seen=0 stats_off=0

up=0
for _ in $(seq 240); do
	kill -0 "$vpid" 2>/dev/null || die "vigild exited; see $w/vigild.log"
	up=$(q "SELECT count(*) FROM hosts WHERE state = 'up';")
	[ "${up:-0}" = "$total" ] && break
	sleep 0.5
done
[ "$up" = "$total" ] || die "only $up of $total hosts up after 120 s"
log "all $total hosts up after $(($(date +%s) - t_start)) s"

# wait_stats N: until vigild has logged N stats lines; then the CPU.
wait_stats() {
	while kill -0 "$vpid" 2>/dev/null; do
		stats_lines "$w" >/dev/null
		((stats_seen >= $1)) && return 0
		sleep 0.1
	done
	die "vigild exited; see $w/vigild.log"
}
stat_line_n() { grep 'stats: ' "$w/vigild.log" | sed -n "${1}p"; }

s0=$(($(stats_lines "$w") + 1))
wait_stats "$s0"
c_s0=$(cpu_ns "$vpid") t_s0=$(now_ms)
wait_stats $((s0 + 1))
c_s1=$(cpu_ns "$vpid")
# T0: the switches' agents and the hosts' listeners, at once.
kill -9 "$sw_pid" "$h_pid"
t0=$(now_ms)
{ wait "$sw_pid" "$h_pid"; } 2>/dev/null || true
forget "$sw_pid"
forget "$h_pid"
log "T0: killed the switches' agents and the hosts' listeners (quiet minute before: $(( (c_s1 - c_s0) / 1000000 )) ms of CPU)"
t_s1=$t0

echo "t_s cpu_ns triggers on_time oldest_host_poll_ms oldest_switch_poll_ms up_hosts" > "$w/storm.txt"
t_all=""
c_all=""
s=0
next_s=$((s0 + 2))
c_stats=()
while :; do
	now=$(now_ms)
	((now - t0 >= observe * 1000)) && break
	kill -0 "$vpid" 2>/dev/null || die "vigild exited during the storm"
	c=$(cpu_ns "$vpid")
	n=$(triggers)
	stats_lines "$w" >/dev/null
	if ((stats_seen >= next_s)); then
		c_stats+=("$c:$now")
		next_s=$((next_s + 1))
	fi
	if [ -z "$t_all" ] && ((n >= n_sw)); then t_all=$now c_all=$c; fi
	if ((s % 2 == 0)); then
		echo "$(((now - t0) / 1000)) $c $n $(on_time) $(q "SELECT count(*) FROM hosts WHERE state = 'up';")" >> "$w/storm.txt"
	fi
	s=$((s + 1))
	sleep 0.5
done
c_end=$(cpu_ns "$vpid")
t_end=$(now_ms)
rss=$(status_kb "$vpid" VmRSS)
hwm=$(status_kb "$vpid" VmHWM)
stop "$vpid" 30

# --- figures -------------------------------------------------------------------
grep 'stats: ' "$w/vigild.log" > "$w/stats.txt" || true
/usr/bin/python3 - "$w" "$t0" "$n_sw" "$n_hosts" "$sw_iv" "$h_iv" "$wait_s" \
	"$c_s0" "$t_s0" "$c_s1" "$t_s1" "${t_all:-}" "${c_all:-}" "$c_end" "$t_end" "$rss" "$hwm" \
	"$s0" "${c_stats[*]+"${c_stats[*]}"}" > "$w/summary.md" <<'PY'
import json, re, sqlite3, statistics, sys
(w, t0, n_sw, n_hosts, sw_iv, h_iv, wait_s, c_s0, t_s0, c_s1, t_s1, t_all, c_all, c_end, t_end,
 rss, hwm, s0, c_stats) = sys.argv[1:]
t0 = int(t0); n_sw = int(n_sw); n_hosts = int(n_hosts); s0 = int(s0)
out = []
P = out.append
P("```")
P(open(w + "/header.txt").read().rstrip())
P("```")
P("")
# the receiver
posts = [json.loads(l) for l in open(w + "/hook/log")]
trig = [p for p in posts if isinstance(p.get("body"), dict) and p["body"].get("event") == "trigger"]
other = [p for p in posts if p not in trig]
ts = sorted(p["ts"] * 1000 - t0 for p in trig)
hosts = sorted(p["body"].get("host") for p in trig)
aff = [p["body"].get("details", {}).get("affected_count") for p in trig]
P("| figure | value |")
P("|---|---|")
P("| POSTs at the receiver | %d (%d triggers, %d other) |" % (len(posts), len(trig), len(other)))
P("| triggers for switches | %d of %d (distinct: %d) |" % (sum(h.startswith("sw-") for h in hosts), n_sw, len(set(hosts))))
P("| triggers for hosts behind them | %d |" % sum(not h.startswith("sw-") for h in hosts))
if ts:
    P("| T0 to the first trigger | %.1f s |" % (ts[0] / 1000))
    if len(ts) >= n_sw:
        P("| T0 to the %d-th trigger | **%.1f s** |" % (n_sw, ts[n_sw - 1] / 1000))
    else:
        P("| T0 to the %d-th trigger | not reached (%d) |" % (n_sw, len(ts)))
    P("| triggers' spread (first to last) | %.1f s |" % ((ts[-1] - ts[0]) / 1000))
P("| affected_count in the root pages | %s |" % (", ".join("%s x%d" % (k, aff.count(k)) for k in sorted(set(aff), key=str))))
db = sqlite3.connect(w + "/vigil.db")
r = db.execute("""SELECT sum(h.name LIKE 'sw-%'), sum(h.name LIKE 'h%'),
    sum(h.name LIKE 'h%' AND a.suppressed_by IS NOT NULL),
    min(CASE WHEN h.name LIKE 'sw-%' THEN a.raised_ms END), max(CASE WHEN h.name LIKE 'sw-%' THEN a.raised_ms END),
    min(CASE WHEN h.name LIKE 'h%' THEN a.raised_ms END), max(CASE WHEN h.name LIKE 'h%' THEN a.raised_ms END)
    FROM alarms a JOIN hosts h ON h.id = a.host_id WHERE a.cleared_ms IS NULL""").fetchone()
P("| active alarms: switches / hosts / hosts suppressed | %s / %s / %s |" % r[:3])
if r[3] is not None:
    P("| switches' alarms: raised_ms (the first failed poll) - T0 | %.1f .. %.1f s |" % ((r[3] - t0) / 1000, (r[4] - t0) / 1000))
if r[5] is not None:
    P("| hosts' alarms: raised_ms (the first failed poll) - T0 | %.1f .. %.1f s |" % ((r[5] - t0) / 1000, (r[6] - t0) / 1000))
ac = db.execute("""SELECT min(json_extract(a.details, '$.affected_count')), max(json_extract(a.details, '$.affected_count'))
    FROM alarms a JOIN hosts h ON h.id = a.host_id WHERE a.cleared_ms IS NULL AND h.name LIKE 'sw-%'""").fetchone()
P("| affected_count of the switches' alarms in the database at the end | %s .. %s (%d hosts per switch) |" % (ac[0], ac[1], n_hosts // n_sw))
iv = db.execute("SELECT count(*), sum(cause = 'network') FROM intervals WHERE end_ms IS NULL").fetchone()
P("| open intervals (cause network) | %s (%s) |" % iv)
ob = db.execute("SELECT count(*) FROM outbox").fetchone() if db.execute(
    "SELECT count(*) FROM sqlite_master WHERE name = 'outbox'").fetchone()[0] else ("n/a",)
P("| outbox rows | %s |" % ob)
# CPU
def cpu(a, b, ta, tb):
    s = (int(b) - int(a)) / 1e9
    return "%.2f CPU-s in %.1f s (%.1f%% of a CPU)" % (s, (int(tb) - int(ta)) / 1000, 100 * s / ((int(tb) - int(ta)) / 1000))
P("| vigild CPU, quiet minute before T0 (stats line to stats line) | %s |" % cpu(c_s0, c_s1, t_s0, t_s1))
if t_all:
    P("| vigild CPU, T0 to the %d-th trigger | %s |" % (n_sw, cpu(c_s1, c_all, t_s1, t_all)))
marks = [(int(c_s1), int(t_s1))] + [tuple(int(x) for x in m.split(":")) for m in c_stats.split()]
for i in range(1, len(marks)):
    P("| vigild CPU, storm minute %d (T0+%.0f to T0+%.0f s) | %s |" % (
        i, (marks[i - 1][1] - t0) / 1000, (marks[i][1] - t0) / 1000,
        cpu(marks[i - 1][0], marks[i][0], marks[i - 1][1], marks[i][1])))
P("| vigild CPU, T0 to the end (T0+%.0f s) | %s |" % ((int(t_end) - t0) / 1000, cpu(c_s1, c_end, t_s1, t_end)))
P("| vigild RSS at the end / peak | %.1f / %.1f MiB |" % (int(rss) / 1024, int(hwm) / 1024))
# polls per stats minute
st = []
for l in open(w + "/stats.txt"):
    st.append({k: int(v) for k, v in re.findall(r" (\w+)=(\d+)", l)})
P("")
P("Polls per stats minute (vigild's `stats:` lines; line %d is T0; expected %.0f polls a minute):" % (
    s0 + 1, 60 * (n_sw / int(sw_iv) + n_hosts / int(h_iv))))
P("")
P("| stats line | polls | timeouts | skipped | rejected | in_flight | committed | note |")
P("|---|---|---|---|---|---|---|---|")
for i in range(1, len(st)):
    d = {k: st[i].get(k, 0) - st[i - 1].get(k, 0) for k in ("polls", "timeouts", "skipped", "rejected", "committed")}
    note = "before T0" if i + 1 <= s0 + 1 else "storm"
    if i + 1 == s0 + 1:
        note = "quiet minute, ends at T0"
    if i == len(st) - 1 and i + 1 > s0 + 1:
        note = "at exit: a partial minute"
    P("| %d | %d | %d | %d | %d | %d | %d | %s |" % (i + 1, d["polls"], d["timeouts"], d["skipped"],
      d["rejected"], st[i].get("in_flight", 0), d["committed"], note))
# on time
rows = [l.split() for l in open(w + "/storm.txt")][1:]
rows = [r for r in rows if len(r) == 7 and all(x.lstrip("-").isdigit() for x in r)]
if rows:
    ot = [int(r[3]) for r in rows]
    ah = [int(r[4]) / 1000 for r in rows]
    asw = [int(r[5]) / 1000 for r in rows]
    P("")
    P("From T0 on, every second or so (%d samples): hosts whose last poll is within their interval + 5 s: "
      "min %d, median %d, max %d of %d; age of the oldest last poll: hosts (interval %s s) max %.1f s, "
      "median %.1f s; switches (interval %s s) max %.1f s, median %.1f s." % (
      len(rows), min(ot), statistics.median(ot), max(ot), n_sw + n_hosts,
      h_iv, max(ah), statistics.median(ah), sw_iv, max(asw), statistics.median(asw)))
print("\n".join(out))
PY
cat "$w/summary.md"
log "raw data in $w"
