#!/bin/sh
# test/start_postgres.sh DIR: a private PostgreSQL server for the storage
# tests (issue 16), on 127.0.0.1 and an ephemeral port only, no Unix
# socket, password authentication (scram-sha-256) for the user "vigil"
# whose password is in DIR/pgpass (libpq's PGPASSFILE format) and DIR/pw.
# Prints "PID PORT" once it accepts a query (within 30 s), else exits 1
# after stopping it. PID is the postmaster: SIGINT stops it fast and its
# children with it (never SIGKILL it: the backends would be orphaned).
# Its log is DIR/pg.log; as root, the cluster's directory is named in
# DIR/datadir (the caller removes it).
#
# The server refuses to run as root, and CI runs as root: there the
# cluster belongs to the user nobody, in a directory of its own under /tmp
# (the test's $WORK is root's 0700, closed to nobody); setpriv, not runuser,
# so that $! is the postmaster itself (runuser forks and waits).
set -eu
. "$(dirname "$0")/peer_wait.sh"
dir=$1
bin=${PGBIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}
[ -n "$bin" ] && [ -x "$bin/initdb" ] && [ -x "$bin/postgres" ] || {
	echo "start_postgres: PostgreSQL server binaries not found (apt-get install postgresql)" >&2
	exit 2
}
mkdir -p "$dir"
pw=$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')
umask 077
printf '%s\n' "$pw" > "$dir/pw"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
printf '127.0.0.1:%s:*:vigil:%s\n' "$port" "$pw" > "$dir/pgpass"
as=""
if [ "$(id -u)" -eq 0 ]; then
	data=$(mktemp -d -p /tmp)
	chown nobody "$data"
	as="setpriv --reuid=nobody --regid=nogroup --clear-groups --"
	echo "$data" > "$dir/datadir"
else
	data=$dir/data
	mkdir -p "$data"
fi
# initdb reads the password from a file the cluster's owner can read.
printf '%s\n' "$pw" > "$data/pwfile"
[ -z "$as" ] || chown nobody "$data/pwfile"
$as "$bin/initdb" -D "$data/db" -U vigil --pwfile="$data/pwfile" \
	--auth=scram-sha-256 --no-locale -E UTF8 > "$dir/initdb.log" 2>&1 || {
	echo "start_postgres: initdb failed:" >&2
	tail -n 20 "$dir/initdb.log" >&2
	exit 1
}
rm -f "$data/pwfile"
$as "$bin/postgres" -D "$data/db" -c listen_addresses=127.0.0.1 -p "$port" \
	-c unix_socket_directories= -c fsync=off -c logging_collector=off \
	> "$dir/pg.log" 2>&1 < /dev/null &
pid=$!
echo "$pid" > "$dir/pid"
answers() {
	PGPASSFILE=$dir/pgpass psql -X -q -w -h 127.0.0.1 -p "$port" -U vigil \
		-d postgres -c 'select 1' > /dev/null
}
if peer_wait "$pid" answers; then
	echo "$pid $port"
	exit 0
fi
echo "start_postgres: not answering on 127.0.0.1:$port; its log:" >&2
tail -n 20 "$dir/pg.log" >&2 || true
kill -INT "$pid" 2>/dev/null || true
exit 1
