#!/usr/bin/env bash
# The private PostgreSQL of test/start_postgres.sh, checked on its own so
# that the storage tests built on it (issue 16) can trust it: it answers on
# 127.0.0.1 and its ephemeral port only, it really checks the password it
# was given, and stopping it by PID takes its backends with it.
set -u
. "$TOP/test/lib.sh"
need_postgres
check "a query with the password from PGPASSFILE" \
	test "$(q -c "select current_user || ' ' || inet_server_addr()" 2>&1)" = "vigil 127.0.0.1/32"
listening=$(ss -Hltn "sport = :$pg_port" | awk '{print $4}' | sort -u | tr '\n' ' ')
check "it listens on 127.0.0.1:$pg_port and nowhere else ($listening)" \
	test "$listening" = "127.0.0.1:$pg_port "
check "no Unix socket" test "$(q -c 'show unix_socket_directories')" = ""
bad=$WORK/badpass
printf '127.0.0.1:%s:*:vigil:wrong\n' "$pg_port" > "$bad"
chmod 600 "$bad"
err=$(PGPASSFILE=$bad q -c "select 1" 2>&1 | grep -o "FATAL.*")
check "a wrong password is refused ($err)" \
	sh -c 'case "$1" in *"password authentication failed"*) exit 0;; esac; exit 1' _ "$err"

# a session held open, so that the stop must end a backend too
q -c 'select pg_sleep(60)' > /dev/null 2>&1 &
sleep_pid=$!
backend() { test "$(q -c "select count(*) from pg_stat_activity where query like 'select pg_sleep%'")" = 1; }
check "a backend runs a long query" wait_until 10 backend
children=$(pgrep -P "$pg_pid" | tr '\n' ' ')
t0=$(now_ms)
stop_postgres
check "SIGINT to the postmaster stops it ($(( $(now_ms) - t0 )) ms)" pid_gone "$pg_pid"
alive=""
for c in $children; do kill -0 "$c" 2>/dev/null && alive="$alive $c"; done
check "and its children ($children) with it" test -z "$alive"
wait "$sleep_pid" 2>/dev/null
exit 0
