#!/usr/bin/env bash
# vigild reloads that remove a host while its interval is open, then add it
# back: the re-added host must pick up the interval the database still holds
# open and close it on recovery (not leave it open forever, nor later close
# it at a far-off recovery, billing the time it was up).
set -u
. "$TOP/test/lib.sh"
p1=$(free_port udp)
start_snmpd "$p1" "$WORK/a1" 127.0.0.1 > /dev/null || { not_ok "start snmpd"; exit 1; }
conf=$WORK/vigil.json
write_conf() { write_reload_conf "$conf" "$p1" "$1"; }
H2=', { "name": "h2", "address": "127.0.0.1", "template": "srv", "snmp": { "port": '"$p1"' } }'
write_conf "$H2"
start_vigild -c "$conf" -v
check "h2 up" wait_until 10 state_is h2 up
set_snmp_value "$WORK/a1" 3.0 "integer 2"
check "h2 down" wait_until 10 state_is h2 down
write_conf ""
kill -HUP $dpid
check "reload without h2" wait_until 5 grep -q "reloaded: 1 hosts" "$WORK/vigild.log"
set_snmp_value "$WORK/a1" 3.0 "integer 1"
check "keep up" wait_until 10 state_is keep up
write_conf "$H2"
kill -HUP $dpid
check "reload with h2" wait_until 5 grep -q "reloaded: 2 hosts" "$WORK/vigild.log"
check "re-added h2 recovers (state up)" wait_until 6 state_is h2 up
check "re-added h2 has no open interval" [ "$(n_intervals h2 --open)" = 0 ]
stop_vigild
check "stop 0" [ $? = 0 ]
tail_on_failure 40 "$WORK/vigild.log"
