#!/usr/bin/env bash
# The PostgreSQL store (docs/scale-out.md) against the SQLite file: the
# same operator scenario written into each through vigil's own commands
# (outages added, one reclassified, maintenance windows added and one
# cancelled, error counters imported, for hosts of three services), then
# every report read back from each and compared byte for byte: `vigil sla
# --all --json` first of all. Also: migrations on a fresh database by two
# processes at once, a second open that migrates nothing, the refusals of
# a trigger worded as on SQLite, and a URL with a password refused at load.
set -u
. "$TOP/test/lib.sh"
need_postgres

write_conf() { # FILE STORAGE-JSON
	cat > "$1" <<JSON
{
  "storage": $2,
  "hosts": [
    { "name": "a", "address": "127.0.0.1", "site": "hall-1", "service": "vserver",
      "customer": "acme", "snmp": { "port": 9, "community": "public" }, "metrics": { "t": ".1.3.6.1.2.1.1.3.0" } },
    { "name": "b", "address": "127.0.0.2", "site": "hall-2", "service": "vstorage",
      "customer": "acme", "snmp": { "port": 9, "community": "public" }, "metrics": { "t": ".1.3.6.1.2.1.1.3.0" } },
    { "name": "c", "address": "127.0.0.3", "site": "hall-1", "service": "vcdn",
      "customer": "globex", "snmp": { "port": 9, "community": "public" }, "metrics": { "t": ".1.3.6.1.2.1.1.3.0" } }
  ]
}
JSON
	chmod 600 "$1"
}
write_conf "$WORK/sqlite.json" '{ "path": "vigil.db" }'
write_conf "$WORK/pg.json" '{ "url": "'"$pg_url"'" }'


# Two CLIs open the fresh database at once: both migrate or wait, neither fails.
"$VIGIL" -c "$WORK/pg.json" hosts > /dev/null 2> "$WORK/m1.err" & m1=$!
"$VIGIL" -c "$WORK/pg.json" hosts > /dev/null 2> "$WORK/m2.err" & m2=$!
wait $m1; r1=$?
wait $m2; r2=$?
check "two processes migrating one fresh database both succeed ($r1 $r2)" \
	eval '[ $r1 = 0 ] && [ $r2 = 0 ]'
check "the schema is at version 8" test "$(q -c 'select version from vigil_schema')" = 8
check "one version row" test "$(q -c 'select count(*) from vigil_schema')" = 1
check "a second open migrates nothing" "$VIGIL" -c "$WORK/pg.json" hosts --json

printf 'time,total,failed\n2026-11-02T00:00:00Z,1000,0\n2026-11-02T00:05:00Z,2000,400\n2026-11-02T00:10:00Z,3000,400\n2026-11-20T00:00:00Z,90000,500\n' > "$WORK/b.csv"

scenario() { # CONFIG
	local c=$1
	"$VIGIL" -c "$c" interval add --host a --cause hardware --start 2026-11-03T10:00:00Z \
		--end 2026-11-03T11:30:00Z --note "PSU swap, ticket 1" &&
	"$VIGIL" -c "$c" interval add --host a --cause network --start 2026-11-10T00:00:00Z \
		--end 2026-11-10T05:00:00Z --note "uplink flap, ticket 2" &&
	"$VIGIL" -c "$c" interval add --host b --cause power --start 2026-11-05T00:00:00Z \
		--end 2026-11-05T02:00:00Z --note "PDU B, ticket 3" &&
	"$VIGIL" -c "$c" interval add --host c --cause facility --start 2026-11-28T22:00:00Z \
		--end 2026-11-29T01:00:00Z --note "CRAC, ticket 4" &&
	"$VIGIL" -c "$c" interval add --host a --cause hardware --start 2026-11-15T00:00:00Z \
		--end 2026-11-15T06:00:00Z --note "board, ticket 6" &&
	"$VIGIL" -c "$c" interval reclassify 2 --cause customer --note "their ACL, ticket 5" \
		--by tester &&
	"$VIGIL" -c "$c" maint add --host a --kind planned --start 2026-11-03T09:00:00Z \
		--end 2026-11-03T12:00:00Z --announced 2026-10-30T00:00:00Z --note "PSU, CHG-1" &&
	"$VIGIL" -c "$c" maint add --site hall-2 --kind emergency --start 2026-11-05T00:30:00Z \
		--end 2026-11-05T01:00:00Z --announced 2026-11-05T00:00:00Z --note "PDU, CHG-2" &&
	"$VIGIL" -c "$c" maint add --site hall-1 --kind planned --start 2026-11-28T21:00:00Z \
		--end 2026-11-29T02:00:00Z --announced 2026-11-20T00:00:00Z --note "CRAC, CHG-3" &&
	"$VIGIL" -c "$c" maint cancel 3 --note "postponed" &&
	"$VIGIL" -c "$c" counters import --host b "$WORK/b.csv" &&
	"$VIGIL" -c "$c" silence add --host a --from 2026-11-01T00:00:00Z --until 2030-01-01T00:00:00Z --reason "rack move" \
		--by tester &&
	"$VIGIL" -c "$c" silence add --site hall-2 --from 2026-11-01T00:00:00Z --until 2030-01-01T00:00:00Z --reason "PDU work" \
		--by tester &&
	"$VIGIL" -c "$c" silence remove 1 --by tester
}
check "the scenario into SQLite" scenario "$WORK/sqlite.json"
check "the same scenario into PostgreSQL" scenario "$WORK/pg.json"

NOW=2026-12-02T00:00:00Z
same() { # WHAT ARGS...: both back ends print the same bytes
	local what=$1
	shift
	"$VIGIL" -c "$WORK/sqlite.json" "$@" > "$WORK/$what.sqlite" 2>&1
	"$VIGIL" -c "$WORK/pg.json" "$@" > "$WORK/$what.pg" 2>&1
	if ! cmp -s "$WORK/$what.sqlite" "$WORK/$what.pg"; then
		diff "$WORK/$what.sqlite" "$WORK/$what.pg" | head -n 20 | sed 's/^/# /' >&2
		return 1
	fi
	[ -s "$WORK/$what.sqlite" ]
}
check "vigil sla --all --json: byte-identical" same sla-json sla --month 2026-11 --all --json --now $NOW
check "vigil sla --all (table): byte-identical" same sla-table sla --month 2026-11 --all --now $NOW
check "vigil sla --customer acme --json: byte-identical" \
	same sla-acme sla --month 2026-11 --customer acme --json --now $NOW
check "vigil sla --csv: byte-identical" same sla-csv sla --month 2026-11 --all --csv --now $NOW
check "the SLA counts what was written: exclusions, a cancelled window, a credit" \
	python3 -c '
import json, sys
rows = json.load(open(sys.argv[1]))
hosts = {r["host"]: r for r in rows if "host" in r}
assert set(hosts) == {"a", "b", "c"}, hosts.keys()
a, b, c = hosts["a"], hosts["b"], hosts["c"]
# a: the PSU outage inside its announced window, the flap reclassified as
# the customer'"'"'s, the 6 h board failure counted and credited
assert (a["maint_excluded_ms"], a["excluded_ms"]["customer"], a["downtime_ms"]) == \
    (5400000, 18000000, 21600000), a
assert a["credit"] > 0, a
# b: 30 min of the 2 h power outage inside the site'"'"'s emergency window
assert (b["counted_ms"], b["maint_excluded_ms"], b["downtime_ms"]) == (7200000, 1800000, 5400000), b
# c: the cancelled window excludes nothing
assert (c["downtime_ms"], c["maint_excluded_ms"]) == (10800000, 0), c
' "$WORK/sla-json.pg"
strip_created() { python3 -c '
import json, sys
rows = json.load(sys.stdin)
for r in rows:
    for k in list(r):
        if k in ("created", "created_ms", "cancelled_at", "as_of"): del r[k]
    for h in r.get("history", []):
        h.pop("ts", None)
print(json.dumps(rows, sort_keys=True))'; }
intervals_same() {
	"$VIGIL" -c "$WORK/sqlite.json" intervals --json --history | strip_created > "$WORK/iv.sqlite" &&
	"$VIGIL" -c "$WORK/pg.json" intervals --json --history | strip_created > "$WORK/iv.pg" &&
	cmp -s "$WORK/iv.sqlite" "$WORK/iv.pg" && grep -q '"customer"' "$WORK/iv.pg"
}
check "vigil intervals --history --json: the same (but when each was written)" intervals_same
maint_same() {
	"$VIGIL" -c "$WORK/sqlite.json" maint list --all --json --from 2026-11-01 --to 2026-12-01 |
		strip_created > "$WORK/mw.sqlite" &&
	"$VIGIL" -c "$WORK/pg.json" maint list --all --json --from 2026-11-01 --to 2026-12-01 |
		strip_created > "$WORK/mw.pg" &&
	cmp -s "$WORK/mw.sqlite" "$WORK/mw.pg" && grep -q "CHG-3" "$WORK/mw.pg"
}
check "vigil maint list --all --json: the same (but when each was written)" maint_same
silences_same() {
	"$VIGIL" -c "$WORK/sqlite.json" silence list --json | strip_created > "$WORK/si.sqlite" &&
	"$VIGIL" -c "$WORK/pg.json" silence list --json | strip_created > "$WORK/si.pg" &&
	cmp -s "$WORK/si.sqlite" "$WORK/si.pg" && grep -q "PDU work" "$WORK/si.pg" &&
	! grep -q "rack move" "$WORK/si.pg"
}
check "vigil silence list --json: the same, the removed one gone" silences_same
check "vigil alarms --json and report response --json: byte-identical" \
	eval 'same alarms alarms --json && same response report response --month 2026-11 --json --now $NOW'

# Refusals come back worded as on SQLite.
check "a cancelled window cannot be cancelled again, on both" \
	eval '! "$VIGIL" -c "$WORK/pg.json" maint cancel 3 2> "$WORK/c.pg" &&
	      ! "$VIGIL" -c "$WORK/sqlite.json" maint cancel 3 2> "$WORK/c.sqlite" &&
	      cmp -s "$WORK/c.pg" "$WORK/c.sqlite"'
trig=$(q -c "delete from maint_windows where id = 1" 2>&1)
check "the no-delete trigger refuses on PostgreSQL too ($trig)" \
	sh -c 'case "$1" in *"maintenance windows are never deleted"*) exit 0;; esac; exit 1' _ "$trig"
check "the window is still there" test "$(q -c 'select count(*) from maint_windows')" = 3

# Bad storage settings are refused at load, naming file:line:col.
write_conf "$WORK/pw.json" '{ "url": "postgresql://vigil:secret@127.0.0.1:'"$pg_port"'/postgres" }'
check "a URL carrying a password is refused at load" \
	eval '! "$VIGILD" -t -c "$WORK/pw.json" 2> "$WORK/pw.err" &&
	      grep -q "pw.json:[0-9]*:[0-9]*: .*must not carry the password" "$WORK/pw.err"'
write_conf "$WORK/both.json" '{ "path": "x.db", "url": "'"$pg_url"'" }'
check "path and url together are refused" \
	eval '! "$VIGILD" -t -c "$WORK/both.json" 2> "$WORK/both.err" &&
	      grep -q "not both" "$WORK/both.err"'
down_err=$(PGPASSFILE=/dev/null "$VIGIL" -c "$WORK/pg.json" hosts 2>&1)
check "no password: a one-line error naming the server, not the URL ($down_err)" \
	sh -c 'case "$1" in *"postgresql 127.0.0.1:"*"/postgres: cannot connect"*) exit 0;; esac; exit 1' _ "$down_err"

stop_postgres
[ "$_vgl_failed" = 0 ]
