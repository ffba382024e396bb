#!/bin/sh
# test/start_alertmanager.sh DIR: a private Alertmanager for the notify
# tests, on 127.0.0.1 only, clustering off, every alert routed to a
# receiver that sends nothing (no network beyond the loopback). Prints
# "PID PORT" once GET /api/v2/status answers (within 30 s), else exits 1
# after stopping it. Its log is DIR/am.log.
set -eu
. "$(dirname "$0")/peer_wait.sh"
dir=$1
am=${ALERTMANAGER:-/usr/bin/prometheus-alertmanager}
[ -x "$am" ] || { echo "start_alertmanager: $am not found (apt-get install prometheus-alertmanager)" >&2; exit 1; }
mkdir -p "$dir"
cat > "$dir/am.yml" <<'EOF'
route:
  receiver: "null"
  group_wait: 1h
  group_interval: 1h
  repeat_interval: 1h
receivers:
  - name: "null"
EOF
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$am" --config.file="$dir/am.yml" --storage.path="$dir" \
	--web.listen-address="127.0.0.1:$port" --cluster.listen-address= \
	> "$dir/am.log" 2>&1 < /dev/null &
pid=$!
answers() {
	python3 -c 'import sys, urllib.request
urllib.request.urlopen("http://127.0.0.1:%s/api/v2/status" % sys.argv[1], timeout=1).read()' "$port"
}
if peer_wait "$pid" answers; then
	echo "$pid $port"
	exit 0
fi
echo "start_alertmanager: not answering on 127.0.0.1:$port; its log:" >&2
tail -n 20 "$dir/am.log" >&2 || true
kill "$pid" 2>/dev/null || true
exit 1
