#!/usr/bin/env bash
# The SLA end to end through the CLI, without a daemon: a config with
# hosts of three services, outages recorded with `interval add`,
# maintenance windows with enough and too little notice (one cancelled),
# a counter CSV for a vcdn host and one daemon run (coverage) written with
# sqlite3; then `vigil sla` as JSON checked against numbers computed by
# hand below, the CSV, customer totals, --input giving the very object the
# database path gives, every refusal (exit 1) and bad argument (exit 2).
# Env: VIGIL (the built CLI), WORK (scratch dir), TOP (repo root).
#
# Hand computation, month 2026-10 in UTC: 31 days = 2,678,400,000 ms.
#  h1 vserver (99.94%; [99.90,99.94) 10, [95,99.90) 30, below 100):
#    network 10-03 10:00-11:00 (1 h, counts); maintenance 10-10 02:00-03:00
#    (1 h) inside a planned window announced 10-06 (4 days > 72 h: excluded,
#    under the 120 min cap); customer 10-12 00:00-02:00 (2 h, not counted).
#    counted 7,200,000, maint excluded 3,600,000, downtime 3,600,000,
#    excluded customer 7,200,000. uptime = 2,674,800,000 / 2,678,400,000
#    = 99.86559...% < 99.90: breached, band 1 [95, 99.90), credit 30 %.
#    allowance = 0.06% of the month = 1,607,040 ms.
#  h2 vbaremetal (99.90%; [99,99.90) 10, [95,99) 30):
#    maintenance 10-20 01:00-02:00 (1 h) under a window announced 1 h
#    before (short notice: counts) and one announced 10-15 that was
#    cancelled (excludes nothing). downtime 3,600,000, uptime 99.86559...%
#    < 99.90 and >= 99: breached, band 0, credit 10 %.
#  h3 vcdn (99.90%; [99,99.90) 5, [95,99) 10, [90,95) 30): counters
#    (total, failed) 09-30T23:00 (1000, 0), 10-05 (11000, 10), 10-20
#    (21000, 60): in the month 20,000 requests, 60 failed: error 0.3 %,
#    uptime 99.7 %: breached, band 0, credit 5 %.
#  h4: no service: skipped.
#  h5 custom policy vserver-hcm (vserver in Asia/Ho_Chi_Minh, +07:00): the
#    month is 09-30T17:00Z .. 10-31T17:00Z (still 31 days). network
#    09-30 18:00-19:00Z (all inside) and 10-31 16:30-17:30Z (30 min
#    inside): downtime 5,400,000, uptime 99.798...%: band 1, credit 30 %.
#  A run observed 10-01 00:00 .. 10-16 12:00 = 15.5 days: coverage 50 %.
#  Customers: acme (h1, h2): 2 hosts, 2 breached, 2 owed a percent
#  credit, sum 40; globex (h3, h4): 1 host, 1 skipped, 1 breached, sum 5;
#  initech (h5): 1 host, 1 breached, sum 30.
set -u
. "$TOP/test/lib.sh"

conf=$WORK/vigil.json
db=$WORK/vigil.db
cat > "$conf" <<'EOF'
{
  // hosts for the SLA CLI test; nothing polls them
  "storage": { "path": "vigil.db" },
  "policies": { "vserver-hcm": { "base": "vserver", "tz": "Asia/Ho_Chi_Minh" } },
  "templates": {
    "srv": {
      "snmp": { "version": "2c", "community": "public", "port": 9, "interval_s": 10 },
      "metrics": { "temp": ".1.3.6.1.4.1.99999.1.0" },
      "availability": [ { "name": "unreachable", "unreachable": 2, "cause": "network" } ]
    }
  },
  "hosts": [
    { "name": "h1", "address": "127.0.0.1", "template": "srv",
      "site": "hall-1", "service": "vserver", "customer": "acme" },
    { "name": "h2", "address": "127.0.0.2", "template": "srv",
      "site": "hall-1", "service": "vbaremetal", "customer": "acme" },
    { "name": "h3", "address": "127.0.0.3", "template": "srv",
      "site": "hall-2", "service": "vcdn", "customer": "globex" },
    { "name": "h4", "address": "127.0.0.4", "template": "srv",
      "site": "hall-2", "customer": "globex" },
    { "name": "h5", "address": "127.0.0.5", "template": "srv",
      "site": "hall-3", "service": "vserver-hcm", "customer": "initech" }
  ]
}
EOF

export USER=tester
unset SUDO_USER
NOW=2026-11-20T00:00:00Z

# For py (test/lib.sh): host(n) and cust(n), the one report row of a host
# and the one customer total of a customer.
# shellcheck disable=SC2034 # read by py in test/lib.sh
py_prelude="def host(n):
    m = [r for r in rows if r.get('host') == n]
    assert len(m) == 1, (n, m)
    return m[0]
def cust(n):
    m = [r for r in rows if 'host' not in r and r.get('customer') == n]
    assert len(m) == 1, (n, m)
    return m[0]
"

# ---------------------------------------------------------------- help
for c in maint "maint add" "maint list" "maint cancel" counters "counters import" sla; do
	check "vigil $c --help exits 0 and shows its usage" \
		eval '"$VIGIL" '"$c"' --help | grep -q "^usage: vigil .*'"${c%% *}"'"'
done
check "vigil --help lists maint, counters and sla" \
	eval '"$VIGIL" --help | grep -q "^  maint" && "$VIGIL" --help | grep -q "^  counters" &&
		"$VIGIL" --help | grep -q "^  sla"'

# ---------------------------------------------------------- bad arguments
check "sla without --month -> 2" run_ex 2 "missing --month" V sla
check "sla bad month -> 2" run_ex 2 "bad month '2026-13'" V sla --month 2026-13
check "sla --json --csv -> 2" run_ex 2 "at most one of --json and --csv" \
	V sla --month 2026-10 --json --csv
check "sla --host with --all -> 2" run_ex 2 "at most one of --host, --customer and --all" \
	V sla --month 2026-10 --host h1 --all
check "sla bad --now -> 2" run_ex 2 "bad time 'soon'" V sla --month 2026-10 --now soon
check "sla --input with --month -> 2" run_ex 2 "--input takes only" \
	V sla --input x.json --month 2026-10
check "maint without subcommand -> 2" run_ex 2 "missing subcommand" V maint
check "maint unknown subcommand -> 2" run_ex 2 "unknown subcommand 'edit'" V maint edit
check "maint add without --kind -> 2" run_ex 2 "missing --kind" \
	V maint add --host h1 --start 2026-10-01 --end 2026-10-02 --announced 2026-09-01 --note x
check "maint add with --host and --site -> 2" run_ex 2 "exactly one of --host and --site" \
	V maint add --host h1 --site hall-1 --kind planned --start 2026-10-01 \
	--end 2026-10-02 --announced 2026-09-01 --note x
check "maint add bad --announced -> 2" run_ex 2 "--announced: bad time 'x'" \
	V maint add --host h1 --kind planned --start 2026-10-01 --end 2026-10-02 \
	--announced x --note x
check "maint cancel without ID -> 2" run_ex 2 "give one window ID" V maint cancel
check "maint cancel bad ID -> 2" run_ex 2 "bad window ID 'abc'" V maint cancel abc
check "maint cancel two IDs -> 2" run_ex 2 "unexpected argument '2'" V maint cancel 1 2
check "counters import without file -> 2" run_ex 2 "give one CSV file" \
	V counters import --host h3
check "counters import without --host -> 2" run_ex 2 "missing --host" \
	V counters import "$WORK/c.csv"
check "counters unknown subcommand -> 2" run_ex 2 "unknown subcommand 'export'" \
	V counters export

# ------------------------------------------------------------- outages
add() { V interval add "$@" > /dev/null; }
check "interval add h1 network" add --host h1 --cause network \
	--start 2026-10-03T10:00:00Z --end 2026-10-03T11:00:00Z --note "ticket 1"
check "interval add h1 maintenance" add --host h1 --cause maintenance \
	--start 2026-10-10T02:00:00Z --end 2026-10-10T03:00:00Z --note "firmware"
check "interval add h1 customer" add --host h1 --cause customer \
	--start 2026-10-12T00:00:00Z --end 2026-10-12T02:00:00Z --note "customer shut it down"
check "interval add h2 maintenance" add --host h2 --cause maintenance \
	--start 2026-10-20T01:00:00Z --end 2026-10-20T02:00:00Z --note "disk swap"
check "interval add h5 inside its local October" add --host h5 --cause network \
	--start 2026-09-30T18:00:00Z --end 2026-09-30T19:00:00Z --note "local Oct 1st"
check "interval add h5 across its local month end" add --host h5 --cause network \
	--start 2026-10-31T16:30:00Z --end 2026-10-31T17:30:00Z --note "local Nov 1st 00:30"

# ------------------------------------------------------ maintenance windows
m() { V maint add "$@"; }
check "maint add with enough notice: no note" eval 'm --host h1 --kind planned \
	--start 2026-10-10T01:30:00Z --end 2026-10-10T04:00:00Z \
	--announced 2026-10-06T00:00:00Z --note "fw upgrade" > "$WORK/out" 2> "$WORK/err" &&
	grep -q "^added maintenance window 1: host h1 planned" "$WORK/out" && [ ! -s "$WORK/err" ]'
check "maint add with too little notice warns, still records" eval 'm --host h2 --kind planned \
	--start 2026-10-20T01:00:00Z --end 2026-10-20T02:00:00Z \
	--announced 2026-10-20T00:00:00Z --note "late" > "$WORK/out" 2> "$WORK/err" &&
	grep -q "^added maintenance window 2" "$WORK/out" &&
	grep -q "notice 1h00m00s is less than the 3d00h00m policy vbaremetal requires" "$WORK/err"'
check "maint add --json (window 3, to be cancelled)" py '
r = rows[0]
assert r["id"] == 3 and r["host"] == "h2" and r["site"] is None, r
assert r["kind"] == "planned" and r["announced"] == "2026-10-15T00:00:00.000Z", r
assert r["notice_ms"] == 5 * 86400000 + 3600000 and r["created_by"] == "operator:tester", r
assert r["cancelled"] is False, r' \
	V --json maint add --host h2 --kind planned --start 2026-10-20T01:00:00Z \
	--end 2026-10-20T02:00:00Z --announced 2026-10-15T00:00:00Z --note "planned early"
check "maint add for a site" eval 'm --site hall-2 --kind emergency \
	--start 2026-10-25T01:00:00Z --end 2026-10-25T01:30:00Z \
	--announced 2026-10-25T00:00:00Z --note "hall-2 UPS" | grep -q "site hall-2 emergency"'

check "refused: end not after start -> 1" run_ex 1 "--end must be after --start" \
	m --host h1 --kind planned --start 2026-10-10 --end 2026-10-10 --announced 2026-10-01 --note x
check "refused: unknown host -> 1" run_ex 1 "unknown host 'nosuch'" \
	m --host nosuch --kind planned --start 2026-10-10 --end 2026-10-11 --announced 2026-10-01 --note x
check "refused: unknown site -> 1" run_ex 1 "unknown site 'hall-9'" \
	m --site hall-9 --kind planned --start 2026-10-10 --end 2026-10-11 --announced 2026-10-01 --note x
check "refused: bad kind -> 1" run_ex 1 "unknown kind 'urgent'" \
	m --host h1 --kind urgent --start 2026-10-10 --end 2026-10-11 --announced 2026-10-01 --note x
check "refused: announced in the future -> 1" run_ex 1 "announced is in the future" \
	m --host h1 --kind planned --start 2099-10-10 --end 2099-10-11 --announced 2099-10-01 --note x

check "maint cancel 3" eval 'V maint cancel 3 --note "superseded" | grep -q "cancelled maintenance window 3 by tester"'
check "refused: cancel twice -> 1" run_ex 1 "already cancelled" V maint cancel 3
check "refused: cancel unknown -> 1" run_ex 1 "no maintenance window 99" V maint cancel 99
check "windows kept: 4 rows, 1 cancelled, events for each edit" eval '
	[ "$(sqlite3 "$db" "SELECT count(*) FROM maint_windows")" = 4 ] &&
	[ "$(sqlite3 "$db" "SELECT count(*) FROM maint_windows WHERE cancelled_by = '"'operator:tester'"'")" = 1 ] &&
	[ "$(sqlite3 "$db" "SELECT count(*) FROM events WHERE kind = '"'maint_add'"'")" = 4 ] &&
	[ "$(sqlite3 "$db" "SELECT count(*) FROM events WHERE kind = '"'maint_cancel'"'")" = 1 ]'
check "a window cannot be deleted behind the CLI's back" \
	eval '! sqlite3 "$db" "DELETE FROM maint_windows WHERE id = 1" 2> /dev/null'

check "maint list: active windows by start" py '
assert [r["id"] for r in rows] == [1, 2, 4], rows' V --json maint list
check "maint list --all includes the cancelled one" py '
c = [r for r in rows if r["cancelled"]]
assert [r["id"] for r in rows] == [1, 2, 3, 4], rows
assert c[0]["id"] == 3 and c[0]["cancelled_by"] == "operator:tester", c
assert c[0]["cancel_note"] == "superseded" and c[0]["cancelled_at"], c' V --json maint list --all
check "maint list --host h3: its site window" py '
assert [r["id"] for r in rows] == [4], rows' V --json maint list --host h3
check "maint list --site hall-1: the windows of its hosts" py '
assert [r["id"] for r in rows] == [1, 2], rows' V --json maint list --site hall-1
check "maint list --from/--to" py '
assert [r["id"] for r in rows] == [2], rows' \
	V --json maint list --from 2026-10-15 --to 2026-10-21
check "maint list table" eval 'V maint list --all | grep -q "^3 .*cancelled"'

# ------------------------------------------------------------- counters
printf 'time,total,failed\r\n2026-09-30T23:00:00Z,1000,0\r\n2026-10-05T00:00:00Z, 11000 ,10\r\n\r\n2026-10-20T00:00:00Z,21000,60\r\n' \
	> "$WORK/c.csv"
check "counters import" eval 'V counters import --host h3 "$WORK/c.csv" |
	grep -q "3 sample(s) for host h3, 3 new or changed, 0 unchanged"'
check "counters import again changes nothing" eval 'V counters import --host h3 "$WORK/c.csv" |
	grep -q "3 new or changed\|0 new or changed, 3 unchanged"'
printf 'time,requests,failed\n' > "$WORK/bad1.csv"
check "bad header -> 1 naming file:1" run_ex 1 "bad1.csv:1: expected the header" \
	V counters import --host h3 "$WORK/bad1.csv"
printf 'time,total,failed\n2026-10-01T00:00:00Z,1,0\n2026-10-02T00:00:00Z,-5,0\n' > "$WORK/bad2.csv"
check "negative count -> 1 naming file:3" run_ex 1 "bad2.csv:3: bad total '-5'" \
	V counters import --host h3 "$WORK/bad2.csv"
printf 'time,total,failed\n2026-10-01T00:00:00Z,1,0\n2026-10-01T00:00:00.000Z,2,0\n' > "$WORK/bad3.csv"
check "repeated time -> 1 naming file:3" run_ex 1 "bad3.csv:3: time 2026-10-01T00:00:00.000Z repeats line 2" \
	V counters import --host h3 "$WORK/bad3.csv"
printf 'time,total,failed\n2026-10-01,1\n' > "$WORK/bad4.csv"
check "missing field -> 1 naming file:2" run_ex 1 "bad4.csv:2: expected 3 fields" \
	V counters import --host h3 "$WORK/bad4.csv"
check "a failed import wrote nothing" \
	[ "$(sqlite3 "$db" "SELECT count(*) FROM counter_samples")" = 3 ]
check "counters import unknown host -> 1" run_ex 1 "unknown host 'h9'" \
	V counters import --host h9 "$WORK/c.csv"
# Inputs that would block or grow without end are refused up front; the
# timeout turns a hang into a failure (exit 124) instead of a stuck suite.
mkfifo "$WORK/fifo.csv"
check "counters import of a FIFO -> 1 at once" run_ex 1 "fifo.csv: not a regular file" \
	timeout -k 2 10 "$VIGIL" -c "$conf" counters import --host h3 "$WORK/fifo.csv"
check "counters import of /dev/zero -> 1" run_ex 1 "/dev/zero: not a regular file" \
	timeout -k 2 10 "$VIGIL" -c "$conf" counters import --host h3 /dev/zero
check "counters import of a directory -> 1" run_ex 1 "$WORK: not a regular file" \
	V counters import --host h3 "$WORK"
printf 'time,total,failed\n' > "$WORK/big.csv"
truncate -s $((16 * 1024 * 1024 + 1)) "$WORK/big.csv"
check "counters import over 16 MiB -> 1" run_ex 1 "big.csv: larger than 16 MiB" \
	timeout -k 2 10 "$VIGIL" -c "$conf" counters import --host h3 "$WORK/big.csv"
{ printf 'time,total,failed\n'; head -c 4097 /dev/zero | tr '\0' x; printf '\n'; } \
	> "$WORK/long.csv"
check "line over 4096 bytes -> 1 naming file:2" run_ex 1 "long.csv:2: line longer than 4096 bytes" \
	V counters import --host h3 "$WORK/long.csv"
# A line of exactly 4096 bytes is fine: a stored sample, padded with blanks.
{ printf 'time,total,failed\n'; printf '%-4096s\n' '2026-10-05T00:00:00Z,11000,10'; } \
	> "$WORK/edge.csv"
check "line of 4096 bytes is accepted" eval 'V counters import --host h3 "$WORK/edge.csv" |
	grep -q "1 sample(s) for host h3, 0 new or changed, 1 unchanged"'
check "refused imports wrote nothing" \
	[ "$(sqlite3 "$db" "SELECT count(*) FROM counter_samples")" = 3 ]

# One daemon run: observed 10-01 00:00 .. 10-16 12:00 (15.5 days).
sql "INSERT INTO runs (started_ms, heartbeat_ms, stopped_ms, pid) VALUES
	(1790812800000, 1792152000000, NULL, 1)"

# ---------------------------------------------------------------- sla
M=2678400000
check "sla --json: h1 numbers as computed by hand" py '
r = host("h1")
assert r["month"] == "2026-10" and r["policy"] == "vserver" and r["customer"] == "acme", r
assert r["month_ms"] == '$M' and r["period_ms"] == '$M', r
assert r["allowance_ms"] == 1607040 and r["allowance_left_ms"] == 1607040 - 3600000, r
assert r["in_progress"] is False and r["begun"] is True, r
assert r["counted_ms"] == 7200000 and r["maint_excluded_ms"] == 3600000, r
assert r["downtime_ms"] == 3600000, r
assert r["excluded_ms"]["customer"] == 7200000, r
assert abs(r["uptime_pct"] - 100.0 * 2674800000 / '$M') < 1e-9, r["uptime_pct"]
assert r["breached"] is True and r["band"] == 1 and r["credit"] == 30, r
assert r["credit_unit"] == "percent", r
assert r["coverage_pct"] == 50 and r["observed_ms"] == 1339200000, r
iv = r["intervals"]
assert [(i["cause"], i["counted"], i["maint_excluded_ms"]) for i in iv] == [
    ("network", True, 0), ("maintenance", True, 3600000), ("customer", False, 0)], iv
assert iv[0]["start"] == "2026-10-03T10:00:00.000Z" and iv[0]["note"] == "ticket 1", iv
mt = r["maintenance"]
assert len(mt) == 1 and mt[0]["qualifies"] is True and mt[0]["excluded_ms"] == 3600000, mt
' V sla --month 2026-10 --json --now "$NOW"
check "sla --json: h2 short notice counts, cancelled window ignored" py '
r = host("h2")
assert r["downtime_ms"] == 3600000 and r["maint_excluded_ms"] == 0, r
assert r["breached"] is True and r["band"] == 0 and r["credit"] == 10, r
assert [(m["id"], m["qualifies"]) for m in r["maintenance"]] == [(2, False)], r["maintenance"]
' V sla --month 2026-10 --json --now "$NOW"
check "sla --json: h3 from counters" py '
r = host("h3")
assert r["kind"] == "cycle_errors" and r["requests"] == 20000 and r["failures"] == 60, r
assert abs(r["uptime_pct"] - 99.7) < 1e-9, r
assert r["breached"] is True and r["band"] == 0 and r["credit"] == 5, r
assert [m["id"] for m in r["maintenance"]] == [4], r["maintenance"]
' V sla --month 2026-10 --json --now "$NOW"
check "sla --json: h4 skipped, customer totals" py '
assert not [r for r in rows if r.get("host") == "h4"], rows
a, g = cust("acme"), cust("globex")
assert a["hosts"] == 2 and a["breached"] == 2 and a["skipped"] == 0, a
assert a["credit_percent_hosts"] == 2 and a["credit_percent_sum"] == 40, a
assert a["credit_days"] == 0 and a["downtime_ms"] == 7200000, a
assert sorted(a["breached_hosts"]) == ["h1", "h2"], a
assert g["hosts"] == 1 and g["skipped"] == 1 and g["credit_percent_sum"] == 5, g
assert cust("initech")["credit_percent_sum"] == 30, rows
assert len(rows) == 7, rows
' V sla --month 2026-10 --json --now "$NOW"
check "sla notes the skipped host on stderr" grep -q "h4 has no service" "$WORK/err"
check "sla --json: h5 month bounds in its policy zone" py '
r = host("h5")
assert r["policy"] == "vserver-hcm" and r["tz"] == "Asia/Ho_Chi_Minh", r
assert r["month_start"] == "2026-09-30T17:00:00.000Z", r
assert r["month_end"] == "2026-10-31T17:00:00.000Z", r
assert r["month_ms"] == '$M' and r["downtime_ms"] == 5400000, r
assert [i["in_period_ms"] for i in r["intervals"]] == [3600000, 1800000], r["intervals"]
assert r["band"] == 1 and r["credit"] == 30, r
' V sla --month 2026-10 --json --now "$NOW"
check "sla --customer globex: its hosts and total only" py '
assert [r.get("host") for r in rows] == ["h3", None], rows
assert cust("globex")["hosts"] == 1, rows
' V sla --month 2026-10 --json --customer globex --now "$NOW"
check "sla --host h1: one host, its customer total" py '
assert [r.get("host") for r in rows] == ["h1", None], rows
' V sla --month 2026-10 --json --host h1 --now "$NOW"
check "sla --csv: a header and one row per host" eval '
	V sla --month 2026-10 --csv --now "$NOW" > "$WORK/sla.csv" 2> /dev/null &&
	[ "$(wc -l < "$WORK/sla.csv")" = 5 ] &&
	head -1 "$WORK/sla.csv" | grep -q "^host,customer,policy,month,month_ms," &&
	grep -q "^h1,acme,vserver,2026-10,'$M','$M',0,0,1607040,-1992960,7200000,3600000,7200000,3600000,99.8655,1,1,30,percent,50.0000$" "$WORK/sla.csv" &&
	grep -q "^h3,globex,vcdn,2026-10,.*,99.7000,1,0,5,percent," "$WORK/sla.csv"'
check "sla human: a block per host and customer lines" eval '
	V sla --month 2026-10 --now "$NOW" > "$WORK/sla.txt" 2> /dev/null &&
	grep -q "^h1  2026-10  customer acme  policy vserver" "$WORK/sla.txt" &&
	grep -q "uptime         99.8655%  BREACHED  band \[95.0000%, 99.9000%)  credit 30" "$WORK/sla.txt" &&
	grep -q "^customer acme 2026-10: 2 host(s), 2 breached" "$WORK/sla.txt"'
# On 10-10 00:00 only the network hour has happened; it is measured
# against the whole month (what is owed so far), and coverage against the
# 9 days that have passed (all observed).
check "sla --now inside the month: the whole month, downtime so far" py '
r = host("h1")
assert r["in_progress"] is True and r["begun"] is True, r
assert r["as_of"] == "2026-10-10T00:00:00.000Z", r
assert r["period_ms"] == '$M' and r["period_end"] == "2026-11-01T00:00:00.000Z", r
assert r["downtime_ms"] == 3600000 and r["counted_ms"] == 3600000, r
assert r["allowance_left_ms"] == 1607040 - 3600000, r
assert r["uptime_fraction"] == "743/744" and r["band"] == 1 and r["credit"] == 30, r
assert r["coverage_pct"] == 100 and r["observed_ms"] == 9 * 86400000, r
' V sla --month 2026-10 --json --host h1 --now 2026-10-10T00:00:00Z
check "sla human in progress: says so, with the allowance left" eval '
	V sla --month 2026-10 --host h1 --now 2026-10-10T00:00:00Z > "$WORK/prog.txt" 2> /dev/null &&
	grep -q "^  in progress    downtime counted up to 2026-10-10T00:00:00.000Z" "$WORK/prog.txt" &&
	grep -q "at the 99.9400% commitment; left -33m12s (-1992960 ms)" "$WORK/prog.txt" &&
	grep -q "uptime         99.8655%  BREACHED" "$WORK/prog.txt"'
check "sla human before the outage: met so far, the whole allowance left" eval '
	V sla --month 2026-10 --host h1 --now 2026-10-02T00:00:00Z > "$WORK/prog2.txt" 2> /dev/null &&
	grep -q "uptime         100.0000%  met so far" "$WORK/prog2.txt" &&
	grep -q "left 26m47s (1607040 ms)" "$WORK/prog2.txt"'
check "sla --month not begun -> 2, never 'met'" run_ex 2 \
	"the month 2026-12 has not begun (it begins 2026-11-30T17:00:00.000Z in Asia/Ho_Chi_Minh" \
	V sla --month 2026-12 --now 2026-11-20T00:00:00Z
# h5's zone (+07) begins December 7 hours before UTC: then h5 is reported
# and the UTC hosts say they have not begun.
check "sla --month begun in one zone only: the others not begun" py '
r = host("h5")
assert r["begun"] is True and r["in_progress"] is True, r
r = host("h1")
assert r["begun"] is False and r["downtime_ms"] == 0 and r["breached"] is False, r
' V sla --month 2026-12 --json --now 2026-11-30T20:00:00Z
check "sla unknown host -> 1" run_ex 1 "unknown host 'h9'" V sla --month 2026-10 --host h9
check "sla unknown customer -> 1" run_ex 1 "no host of customer 'umbrella'" \
	V sla --month 2026-10 --customer umbrella
check "sla without a database -> 1" run_ex 1 "cannot open database" \
	V --db "$WORK/none.db" sla --month 2026-10

# ---------------------------------------------------------------- --input
# h1's month as a case document: the same numbers by the same computation.
cat > "$WORK/case.json" <<'EOF'
{"policy": "vserver", "tz": "UTC", "month": "2026-10", "now": "2026-11-20T00:00:00Z",
 "host": "h1",
 "intervals": [
   {"cause": "network", "start": "2026-10-03T10:00:00Z", "end": "2026-10-03T11:00:00Z"},
   {"cause": "maintenance", "start": "2026-10-10T02:00:00Z", "end": "2026-10-10T03:00:00Z"},
   {"cause": "customer", "start": "2026-10-12T00:00:00Z", "end": "2026-10-12T02:00:00Z"}],
 "maintenance": [{"kind": "planned", "start": "2026-10-10T01:30:00Z",
   "end": "2026-10-10T04:00:00Z", "announced": "2026-10-06T00:00:00Z"}],
 "observed": [{"start": "2026-10-01T00:00:00Z", "end": "2026-10-16T12:00:00Z"}]}
EOF
V sla --month 2026-10 --json --host h1 --now "$NOW" > "$WORK/db.json" 2> /dev/null
check "sla --input CASE --json needs no config or database" eval '
	"$VIGIL" -c /nonexistent sla --input "$WORK/case.json" --json > "$WORK/case.out"'
check "sla --input gives the database report's numbers" python3 -c '
import json, sys
a = json.load(open(sys.argv[1]))
b = json.load(open(sys.argv[2]))[0]
keys = ["month", "policy", "month_ms", "period_ms", "allowance_ms", "counted_ms",
        "maint_excluded_ms", "excluded_ms", "downtime_ms", "uptime_pct", "uptime_fraction",
        "breached", "band", "credit", "credit_unit", "coverage_pct", "observed_ms"]
for k in keys:
    assert a[k] == b[k], (k, a[k], b[k])
assert [(i["cause"], i["in_period_ms"]) for i in a["intervals"]] == \
    [(i["cause"], i["in_period_ms"]) for i in b["intervals"]]
assert a["credit"] == 30' "$WORK/case.out" "$WORK/db.json"
check "sla --input human output" eval '"$VIGIL" sla --input "$WORK/case.json" |
	grep -qE "^credit +30$"'
printf '{"policy": "vserver", "month": "2026-10", "intervals": [{"cause": "gremlins", "start": "2026-10-01T00:00:00Z", "end": null}]}' > "$WORK/badcase.json"
check "sla --input bad document -> 1 naming the field" \
	run_ex 1 "intervals[0].cause" "$VIGIL" sla --input "$WORK/badcase.json"
check "sla --input missing file -> 1" run_ex 1 "nope.json" "$VIGIL" sla --input "$WORK/nope.json"
mkfifo "$WORK/case.fifo"
check "sla --input FIFO -> 1 at once, not a hang" run_ex 1 "case.fifo: not a regular file" \
	timeout 10 "$VIGIL" sla --input "$WORK/case.fifo"
printf '{"policy": "vserver", "month": "2026-10", "now": "2026-10-05T00:00:00Z", "now": "2026-11-05T00:00:00Z"}' > "$WORK/dup.json"
check "sla --input duplicate key -> 1 naming it (cJSON would take the first)" \
	run_ex 1 'duplicate key "now"' "$VIGIL" sla --input "$WORK/dup.json"
printf '{"policy": "vserver", "month": "2026-10", "intervals": [{"cause": "power", "start": 1, "end": 2, "note": "n", "note": "m"}]}' > "$WORK/dup2.json"
check "sla --input duplicate key deep inside -> 1 naming where" \
	run_ex 1 'intervals[0]: duplicate key "note"' "$VIGIL" sla --input "$WORK/dup2.json"
printf '{"policy": "vserver", "month": "2026-10", "host": "h\xff"}' > "$WORK/bad8.json"
check "sla --input not UTF-8 -> 1 with the offset" \
	run_ex 1 "not valid UTF-8 at byte offset 52 (0xff)" "$VIGIL" sla --input "$WORK/bad8.json"
check "sla --month 9999-12 -> 2 (its end would be year 10000)" run_ex 2 "1970-01 to 9998-12" \
	V sla --month 9999-12
# A note with a byte that is not UTF-8, as another tool might have stored
# it: the streamed report must still be strict UTF-8.
sql "UPDATE intervals SET note = CAST(X'6e6f74652dff' AS TEXT) WHERE id = (SELECT min(id) FROM intervals)"
sla_utf8() { V sla --month 2026-10 --json --now "$NOW" > "$WORK/u8.json" 2>/dev/null && python3 -c '
import json, sys
rows = json.loads(open(sys.argv[1], "rb").read().decode("utf-8"))
notes = [i["note"] for r in rows if "intervals" in r for i in r["intervals"]]
assert "note-\ufffd" in notes, notes' "$WORK/u8.json"; }
check "sla --json: a stored invalid byte comes out as U+FFFD" sla_utf8
