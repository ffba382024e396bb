#!/bin/bash
# rfsim-check.sh WORKDIR - check test/peers/rfsim.py against Debian's
# redfishtool and curl: Redfish shape, auth, paging, every ctl command, 500
# BMCs on --range, and the simulator's CPU cost. Prints "ok N - ..." or
# "not ok N - ..." per check and exits 0 only if all passed.
# Needs: /usr/bin/python3, openssl, curl, redfishtool. Traffic: 127/8 only.
set -u
W=${1:?usage: rfsim-check.sh WORKDIR}
mkdir -p "$W" && W=$(cd "$W" && pwd) || exit 2
HERE=$(cd "$(dirname "$0")" && pwd)
PY=/usr/bin/python3
RFSIM=$HERE/rfsim.py
N=0 FAILS=0 PID= PID2=
ok()  { N=$((N + 1)); echo "ok $N - $*"; }
nok() { N=$((N + 1)); FAILS=$((FAILS + 1)); echo "not ok $N - $*"; }
eq()  { if [ "$2" = "$3" ]; then ok "$1"; else nok "$1 (got '$2', want '$3')"; fi; }
yes_() { if "${@:2}" >/dev/null 2>&1; then ok "$1"; else nok "$1"; fi; }
cleanup() { for p in $PID $PID2; do kill "$p" 2>/dev/null; done; }
trap cleanup EXIT
freeport() { $PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
# jv FILE EXPR: evaluate a python expression over the JSON document d
jv() { $PY -c 'import json, sys; d = json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2" 2>/dev/null; }
waitfile() { for _ in $(seq 100); do [ -s "$1" ] && return 0; sleep 0.1; done; return 1; }

# ---- certificate: 127.0.0.1, 127.0.0.2 and the 500 --range addresses
SAN=$($PY -c '
import ipaddress
ips = ["127.0.0.1", "127.0.0.2"]; ip = ipaddress.IPv4Address("127.10.0.1")
while len(ips) < 502:
    if int(ip) & 255 not in (0, 255): ips.append(str(ip))
    ip += 1
print(",".join("IP:" + i for i in ips))')
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 \
	-addext "subjectAltName=$SAN" -keyout "$W/key.pem" -out "$W/cert.pem" 2>"$W/openssl.err"
yes_ "self-signed certificate made" test -s "$W/cert.pem"

# ---- start two BMCs: a (legacy) and b (subsystem), same port
P=$(freeport)
rm -f "$W/fifo" "$W/stats.json" "$W/ready" "$W/ready2"
$PY "$RFSIM" --cert "$W/cert.pem" --key "$W/key.pem" --bmc "a=127.0.0.1:$P" \
	--bmc "b=127.0.0.2:$P:subsystem" --ctl "$W/fifo" --ctl-port 0 --stats "$W/stats.json" \
	--ready "$W/ready" 2>"$W/rfsim.err" &
PID=$!
if ! waitfile "$W/ready"; then nok "rfsim started"; cat "$W/rfsim.err"; exit 1; fi
ok "rfsim started (pid $PID, port $P)"
CTLPORT=$(sed -n 's/^ctl_port=//p' "$W/ready")
exec 3<>"/dev/tcp/127.0.0.1/$CTLPORT" || { nok "ctl port $CTLPORT"; exit 1; }
ctl() { echo "$*" >&3; read -r REPLY <&3; echo "$REPLY"; }
A=https://127.0.0.1:$P B=https://127.0.0.2:$P
SYS=/redfish/v1/Systems/System.Embedded.1 CH=/redfish/v1/Chassis/Enclosure.Embedded.1
SEL=$SYS/LogServices/SEL
# req METHOD URL [curl args]: CODE, $W/body, $W/hdr
req() {
	local m=$1 u=$2; shift 2
	local how=(-X "$m"); [ "$m" = HEAD ] && how=(--head)
	: >"$W/body"
	CODE=$(curl -sS --cacert "$W/cert.pem" "${how[@]}" -o "$W/body" -D "$W/hdr" -w '%{http_code}' \
		--max-time 10 "$@" "$u" 2>"$W/curl.err")
	CRC=$?
}
get() { req GET "$1" -u vigil:vigilpass "${@:2}"; }
hdr() { tr -d '\r' <"$W/hdr" | sed -n "s/^$1: //Ip" | tail -1; }

# ---- redfishtool
RT() { timeout 30 redfishtool -r "127.0.0.1:$P" -u vigil -p vigilpass -S Always "$@"; }
has() { local f=$1; shift; for s in "$@"; do grep -qF -- "$s" "$f" || return 1; done; }
rt() { # rt DESC "STRINGS|..." ARGS...
	local desc=$1 want=$2; shift 2
	RT "$@" >"$W/rt.out" 2>"$W/rt.err"; local rc=$?
	IFS='|' read -ra ws <<<"$want"
	if [ $rc = 0 ] && has "$W/rt.out" "${ws[@]}"; then ok "redfishtool $*: $desc"
	else nok "redfishtool $*: $desc (rc $rc: $(head -c 300 "$W/rt.err"))"; fi
}
rt "service root" '"RedfishVersion"|"Sessions"|/redfish/v1/Systems' root
rt "versions" '"v1"' versions
rt "Systems collection" '"Members@odata.count": 1|System.Embedded.1' Systems
rt "the system, discovered" '"PowerState": "On"|"Health": "OK"|#ComputerSystem.Reset' Systems -1
rt "session auth" '"PowerState"' -A Session Systems -1
rt "basic auth" '"PowerState"' -A Basic Systems -1
rt "Thermal" '"Temperatures"|"CPU Temp"|"ReadingCelsius": 45|"UpperThresholdCritical": 85|"Fans"|"ReadingUnits": "RPM"|"Reading": 3000' Chassis -1 Thermal
rt "Power" '"PowerControl"|"Power Consumed"|"PowerConsumedWatts": 180|"PowerSupplies"|"PSU1"|"Voltages"' -A Session Chassis -1 Power
rt "Logs list" '"SEL"' Systems -1 Logs list
rt "SEL entries" '"EntryType": "SEL"|"Id": "1"|"SensorType"|"Members@odata.count": 2' -A Session Systems -1 Logs -i SEL -E
rt "Managers" '"ManagerType": "BMC"|LogServices' Managers -1
rt "SessionService" '"SessionTimeout"|"ServiceEnabled": true' SessionService
rt "reset GracefulShutdown" '' -A Session Systems -1 reset GracefulShutdown
rt "PowerState Off after GracefulShutdown" '"PowerState": "Off"' Systems -1
rt "OS Stop entry logged" '"SensorType": "OS Stop / Shutdown"' Systems -1 Logs -i SEL -E
rt "reset On" '' Systems -1 reset On
if RT -p wrong Systems -1 >/dev/null 2>&1; then nok "redfishtool basic, wrong password, fails"; else ok "redfishtool basic, wrong password, fails"; fi
if RT -p wrong -A Session Systems -1 >/dev/null 2>&1; then nok "redfishtool session, wrong password, fails"; else ok "redfishtool session, wrong password, fails"; fi
RT -A Session raw GET /redfish/v1/Chassis >/dev/null 2>&1  # one more login+logout
ST=$(ctl a stats | sed 's/^ok //'); echo "$ST" >"$W/st.json"
eq "redfishtool sessions logged in and out (logins == logouts)" "$(jv "$W/st.json" 'd["a"]["logins"] - d["a"]["logouts"]')" 0
RTB() { timeout 30 redfishtool -r "127.0.0.2:$P" -u vigil -p vigilpass -S Always "$@"; }
RTB Chassis -1 >"$W/rt.out" 2>&1
yes_ "redfishtool, subsystem chassis has ThermalSubsystem/PowerSubsystem/Sensors" has "$W/rt.out" ThermalSubsystem PowerSubsystem /redfish/v1/Chassis/1U/Sensors
RTB -A Session raw GET /redfish/v1/Chassis/1U/Sensors/temperature_CPU_Temp >"$W/rt.out" 2>&1
yes_ "redfishtool raw GET of a Sensor (subsystem)" has "$W/rt.out" '"ReadingType": "Temperature"' '"UpperCritical"'
if RTB Chassis -1 Thermal >/dev/null 2>&1; then nok "subsystem style has no legacy Thermal"; else ok "subsystem style has no legacy Thermal (redfishtool fails as expected)"; fi

# ---- curl: protocol, auth
req GET "$A/redfish"; eq "GET /redfish" "$CODE $(jv "$W/body" 'd["v1"]')" "200 /redfish/v1/"
req GET "$A/redfish/v1"; eq "GET /redfish/v1 without auth" "$CODE $(jv "$W/body" 'd["@odata.type"]')" "200 #ServiceRoot.v1_5_0.ServiceRoot"
eq "OData-Version header" "$(hdr OData-Version)" "4.0"
eq "Content-Type header" "$(hdr Content-Type)" "application/json; charset=utf-8"
req HEAD "$A/redfish/v1/"; eq "HEAD service root" "$CODE $([ "$(hdr Content-Length)" -gt 100 ] && echo cl)" "200 cl"
req GET "$A/redfish/v1/Systems"
eq "no auth: 401 with a Redfish error" "$CODE $(jv "$W/body" 'd["error"]["code"], d["error"]["@Message.ExtendedInfo"][0]["MessageId"]')" "401 ('Base.1.8.GeneralError', 'Base.1.8.NoValidSession')"
get "$A/redfish/v1/Systems/"; eq "basic auth (and trailing slash)" "$CODE $(jv "$W/body" 'd["Members"][0]["@odata.id"]')" "200 $SYS"
req GET "$A/redfish/v1/Systems" -u vigil:nope; eq "wrong basic password: 401" "$CODE" 401
req POST "$A/redfish/v1/SessionService/Sessions" -H 'Content-Type: application/json' -d '{"UserName":"vigil","Password":"vigilpass"}'
TOK=$(hdr X-Auth-Token) LOC=$(hdr Location)
eq "login: 201, token, Location, Session body" "$CODE $([ ${#TOK} -ge 16 ] && echo tok) $LOC" "201 tok /redfish/v1/SessionService/Sessions/$(jv "$W/body" 'd["Id"]')"
req GET "$A$SYS" -H "X-Auth-Token: $TOK"; eq "token auth" "$CODE $(jv "$W/body" 'd["PowerState"]')" "200 On"
req GET "$A/redfish/v1/SessionService/Sessions" -H "X-Auth-Token: $TOK"; eq "session listed" "$(jv "$W/body" 'd["Members"][0]["@odata.id"]')" "$LOC"
req DELETE "$A$LOC" -H "X-Auth-Token: $TOK"; eq "logout: DELETE session 204" "$CODE" 204
req GET "$A$SYS" -H "X-Auth-Token: $TOK"; eq "deleted token: 401" "$CODE" 401
req POST "$A/redfish/v1/SessionService/Sessions" -d '{"UserName":"vigil","Password":"x"}'
eq "bad login: 401 with error body" "$CODE $(jv "$W/body" '"error" in d')" "401 True"
req POST "$A/redfish/v1/SessionService/Sessions" -d '{"UserName":'; eq "malformed login JSON: 400" "$CODE" 400
get "$A/redfish/v1/Nope"; eq "unknown path: 404 with error body" "$CODE $(jv "$W/body" 'd["error"]["@Message.ExtendedInfo"][0]["MessageId"]')" "404 Base.1.8.ResourceMissingAtURI"
get "$A/redfish/v1/Systems" -X DELETE; eq "wrong method: 405 with Allow" "$CODE $(hdr Allow)" "405 GET, HEAD"
get "$A$SYS/Actions/ComputerSystem.Reset"; eq "GET on an action: 405" "$CODE" 405

# ---- paging
eq "ctl fill 120" "$(ctl a fill 120)" ok
get "$A$SEL/Entries"
eq "Entries: first page of 50 with nextLink, count = total" "$(jv "$W/body" 'len(d["Members"]), d["Members@odata.count"], d["Members@odata.nextLink"], d["Members"][0]["Id"]')" "(50, 124, '$SEL/Entries?\$skip=50', '1')"
get "$A$SEL/Entries?\$skip=100"; eq "Entries?\$skip=100: last page, no nextLink" "$(jv "$W/body" 'len(d["Members"]), "Members@odata.nextLink" in d, d["Members"][-1]["Id"]')" "(24, False, '124')"
get "$A$SEL/Entries?\$top=5&\$skip=10"; eq "Entries?\$top=5&\$skip=10" "$(jv "$W/body" '[m["Id"] for m in d["Members"]], "Members@odata.nextLink" in d')" "(['11', '12', '13', '14', '15'], False)"
get "$A$SEL/Entries?\$top=x"; eq "bad \$top: 400" "$CODE" 400
get "$A$SEL/Entries/7"; eq "one entry" "$CODE $(jv "$W/body" 'd["Id"], d["EntryType"]')" "200 ('7', 'SEL')"
get "$A$SEL/Entries/999"; eq "missing entry: 404" "$CODE" 404
get "$A$SEL/Entries/1"; yes_ "entry fields (Created with offset, MessageId, EntryCode, SensorNumber)" test "$(jv "$W/body" 'bool(__import__("re").match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$", d["Created"])) and all(k in d for k in ("MessageId","EntryCode","SensorNumber","Severity","Message","SensorType"))')" = True
req POST "$A$SEL/Actions/LogService.ClearLog" -u vigil:vigilpass -d '{}'; get "$A$SEL/Entries"
eq "LogService.ClearLog action" "$(jv "$W/body" 'd["Members@odata.count"]')" 0

# ---- subsystem style (b)
get "$B/redfish/v1/Systems"; eq "subsystem: System Id 1" "$(jv "$W/body" 'd["Members"][0]["@odata.id"]')" /redfish/v1/Systems/1
BC=/redfish/v1/Chassis/1U
get "$B$BC/ThermalSubsystem"; eq "ThermalSubsystem links" "$(jv "$W/body" 'd["Fans"]["@odata.id"], d["ThermalMetrics"]["@odata.id"]')" "('$BC/ThermalSubsystem/Fans', '$BC/ThermalSubsystem/ThermalMetrics')"
get "$B$BC/ThermalSubsystem/ThermalMetrics"; eq "ThermalMetrics readings" "$(jv "$W/body" '[(t["DeviceName"], t["Reading"]) for t in d["TemperatureReadingsCelsius"]]')" "[('CPU Temp', 45), ('Inlet Temp', 22)]"
get "$B$BC/ThermalSubsystem/Fans"; FAN=$(jv "$W/body" 'd["Members"][0]["@odata.id"]')
get "$B$FAN"; eq "Fan SpeedRPM" "$(jv "$W/body" 'd["Name"], d["SpeedPercent"]["SpeedRPM"], d["Status"]["Health"]')" "('Fan 1', 3000, 'OK')"
get "$B$BC/Sensors"; eq "Sensors collection" "$(jv "$W/body" 'd["Members@odata.count"]')" 5
get "$B$BC/Sensors/power_Power_Consumed"; eq "Power Consumed sensor" "$(jv "$W/body" 'd["Name"], d["Reading"], d["ReadingType"], d["ReadingUnits"]')" "('Power Consumed', 180, 'Power', 'W')"
get "$B$BC/Sensors/temperature_CPU_Temp"; eq "CPU Temp sensor thresholds" "$(jv "$W/body" 'd["Reading"], d["Thresholds"]["UpperCaution"]["Reading"], d["Thresholds"]["UpperCritical"]["Reading"]')" "(45, 75, 85)"
get "$B$BC/PowerSubsystem"; PS=$(jv "$W/body" 'd["PowerSupplies"]["@odata.id"]')
get "$B$PS"; PSU=$(jv "$W/body" 'd["Members"][0]["@odata.id"]')
get "$B$PSU"; eq "PowerSupply PSU1" "$(jv "$W/body" 'd["Name"], d["Status"]["Health"]')" "('PSU1', 'OK')"
get "$B$(jv "$W/body" 'd["Metrics"]["@odata.id"]')"; eq "PowerSupplyMetrics" "$(jv "$W/body" 'd["InputPowerWatts"]["Reading"]')" 200

# ---- Reset action by curl
get "$A$SYS/Actions/ComputerSystem.Reset" -X POST -H 'Content-Type: application/json' -d '{"ResetType":"ForceOff"}'
eq "Reset ForceOff: 204" "$CODE" 204
get "$A$SYS"; eq "PowerState Off" "$(jv "$W/body" 'd["PowerState"], d["Status"]["State"]')" "('Off', 'StandbyOffline')"
get "$A$SEL/Entries"; yes_ "ForceOff entry (MessageId PowerOff, Message ResetType)" test "$(jv "$W/body" '"PowerOff" in d["Members"][-1]["MessageId"] and "ResetType=ForceOff" in d["Members"][-1]["Message"]')" = True
get "$A$SYS/Actions/ComputerSystem.Reset" -X POST -d '{"ResetType":"Bogus"}'; eq "bad ResetType: 400" "$CODE" 400
get "$A$SYS/Actions/ComputerSystem.Reset" -X POST -d '{"ResetType":"On"}'; get "$A$SYS"; eq "Reset On" "$(jv "$W/body" 'd["PowerState"]')" On

# ---- ctl commands
echo 'a power Off' >"$W/fifo"; sleep 0.3
get "$A$SYS"; eq "FIFO: power Off" "$(jv "$W/body" 'd["PowerState"]')" Off
echo '# a comment' >"$W/fifo"; echo 'a power On' >"$W/fifo"; sleep 0.3
get "$A$SYS"; eq "FIFO reopened by a second writer: power On" "$(jv "$W/body" 'd["PowerState"]')" On
eq "tcp: health Critical" "$(ctl a health Critical)" ok
get "$A$SYS"; eq "System Health/HealthRollup Critical" "$(jv "$W/body" 'd["Status"]["Health"], d["Status"]["HealthRollup"]')" "('Critical', 'Critical')"
ctl a health OK >/dev/null
thermal() { get "$A$CH/Thermal"; jv "$W/body" '[(t["ReadingCelsius"], t["Status"]["Health"]) for t in d["Temperatures"] if t["Name"] == "CPU Temp"][0]'; }
ctl 'a sensor "CPU Temp" 91' >/dev/null; eq 'sensor "CPU Temp" 91: Critical' "$(thermal)" "(91, 'Critical')"
ctl 'a sensor "CPU Temp" 80' >/dev/null; eq 'sensor "CPU Temp" 80: Warning' "$(thermal)" "(80, 'Warning')"
ctl 'a sensor "CPU Temp" 45.5' >/dev/null; eq 'sensor "CPU Temp" 45.5: OK' "$(thermal)" "(45.5, 'OK')"
ctl 'b sensor "CPU Temp" 96' >/dev/null; get "$B$BC/Sensors/temperature_CPU_Temp"
eq "subsystem sensor 96: Critical" "$(jv "$W/body" 'd["Reading"], d["Status"]["Health"]')" "(96, 'Critical')"
ctl 'a sensor "Fan 1" 400' >/dev/null; get "$A$CH/Thermal"; eq "fan below lower critical: Critical" "$(jv "$W/body" 'd["Fans"][0]["Reading"], d["Fans"][0]["Status"]["Health"]')" "(400, 'Critical')"
ctl 'a sensor PSU1 Critical' >/dev/null; get "$A$CH/Power"; eq "sensor PSU1 Critical" "$(jv "$W/body" 'd["PowerSupplies"][0]["Status"]["Health"]')" Critical
eq "sensor: unknown sensor rejected" "$(ctl 'a sensor "Nope" 1' | cut -c1-6)" "error:"
eq "tcp: log" "$(ctl a log Critical Temperature '"CPU Temp upper critical going high"')" ok
ctl a log Critical Processor '"CPU 1 thermal trip"' OpenBMC.0.1.CPUThermalTrip Assert 7 >/dev/null
get "$A$SEL/Entries"
eq "log entries appended" "$(jv "$W/body" '[(m["Severity"], m["SensorType"], m["Message"], m["MessageId"], m["SensorNumber"]) for m in d["Members"][-2:]]')" "[('Critical', 'Temperature', 'CPU Temp upper critical going high', 'Event.1.0.TempCritical', 1), ('Critical', 'Processor', 'CPU 1 thermal trip', 'OpenBMC.0.1.CPUThermalTrip', 7)]"
ctl a clearlog >/dev/null; get "$A$SEL/Entries"; eq "clearlog empties" "$(jv "$W/body" 'd["Members@odata.count"]')" 0
ctl a log Warning Temperature '"Inlet Temp high"' >/dev/null; get "$A$SEL/Entries"; eq "after clearlog Ids restart at 1" "$(jv "$W/body" 'd["Members"][0]["Id"]')" 1
ctl a clearlog marker >/dev/null; get "$A$SEL/Entries"; eq "clearlog marker" "$(jv "$W/body" 'd["Members@odata.count"], d["Members"][0]["Message"]')" "(1, 'Log area reset/cleared')"
ctl a delay 1.5 >/dev/null; T0=$(date +%s.%N); get "$A$SYS"; T1=$(date +%s.%N)
yes_ "delay 1.5: response took >= 1.5 s" $PY -c "import sys; sys.exit(not ($T1 - $T0 >= 1.5 and '$CODE' == '200'))"
ctl a delay 0 >/dev/null; T0=$(date +%s.%N); get "$A$SYS"; T1=$(date +%s.%N)
yes_ "delay 0: back to fast" $PY -c "import sys; sys.exit(not ($T1 - $T0 < 1.0 and '$CODE' == '200'))"
ctl a hang on >/dev/null; curl -sv --cacert "$W/cert.pem" -u vigil:vigilpass --max-time 2 "$A$SYS" >/dev/null 2>"$W/curl.err"; CRC=$?
yes_ "hang on: TLS done, no answer (timeout)" test "$CRC" = 28 -a -n "$(grep -E 'SSL connection using|TLS handshake, Finished' "$W/curl.err")"
ctl a hang tcp >/dev/null; curl -sv --cacert "$W/cert.pem" -u vigil:vigilpass --max-time 2 "$A$SYS" >/dev/null 2>"$W/curl.err"; CRC=$?
yes_ "hang tcp: connected, TLS never completes" test "$CRC" = 28 -a -z "$(grep -E 'SSL connection using' "$W/curl.err")" -a -n "$(grep -iE 'Connected to' "$W/curl.err")"
ctl a hang off >/dev/null; get "$A$SYS"; eq "hang off" "$CODE" 200
req POST "$A/redfish/v1/SessionService/Sessions" -d '{"UserName":"vigil","Password":"vigilpass"}'; TOK=$(hdr X-Auth-Token)
req GET "$A$SYS" -H "X-Auth-Token: $TOK"; C1=$CODE
ctl a expire >/dev/null; req GET "$A$SYS" -H "X-Auth-Token: $TOK"; eq "expire: old token 401" "$C1 $CODE" "200 401"
ctl a down >/dev/null; req GET "$A/redfish"; eq "down: connection refused" "$CRC" 7
get "$B/redfish"; eq "down: other BMC unaffected" "$CODE" 200
eq "up" "$(ctl a up)" ok; req GET "$A/redfish"; eq "up: answers again" "$CODE" 200
ST=$(ctl a stats); echo "${ST#ok }" >"$W/st.json"
eq "stats reply" "$(jv "$W/st.json" 'sorted(k for k in ("requests","logins","unauthorized","hung") if d["a"][k] > 0)')" "['hung', 'logins', 'requests', 'unauthorized']"
eq "unknown BMC: error" "$(ctl zz power On | cut -c1-6)" "error:"
eq "unknown command: error" "$(ctl a frob | cut -c1-6)" "error:"
eq "'*' target" "$(ctl '*' health Warning)" ok; get "$B/redfish/v1/Systems/1"; eq "'*' reached b" "$(jv "$W/body" 'd["Status"]["Health"]')" Warning
kill -USR1 $PID; sleep 0.3
eq "SIGUSR1 writes --stats" "$(jv "$W/stats.json" 'sorted(d), d["b"]["health"]')" "(['a', 'b'], 'Warning')"
eq "zero" "$(ctl a zero)" ok
exec 3>&-
kill $PID; for _ in $(seq 50); do kill -0 $PID 2>/dev/null || break; sleep 0.1; done
wait $PID; RC=$?; PID=
eq "SIGTERM: clean exit" "$RC" 0
yes_ "nothing on stderr but expected lines" test -z "$(grep -v '^{' "$W/rfsim.err")"

# ---- 500 BMCs
P2=$(freeport)
T0=$(date +%s.%N)
$PY "$RFSIM" --cert "$W/cert.pem" --key "$W/key.pem" --range 127.10.0.1 500 "$P2" --range-style mixed \
	--ready "$W/ready2" 2>"$W/rfsim2.err" &
PID2=$!
waitfile "$W/ready2"; T1=$(date +%s.%N)
STARTUP=$($PY -c "print('%.2f' % ($T1 - $T0))")
yes_ "500 BMCs listening in ${STARTUP}s (< 5 s)" $PY -c "import sys; sys.exit(not $STARTUP < 5)"
LAST=$(grep '^bmc=bmc500 ' "$W/ready2" | cut -d' ' -f2)
eq "bmc500 address (.0/.255 skipped)" "$LAST" 127.10.1.246
req GET "https://$LAST:$P2/redfish/v1/Systems/1" -u vigil:vigilpass; eq "bmc500 (subsystem) answers, cert verified" "$CODE" 200
req GET "https://127.10.0.1:$P2$SYS" -u vigil:vigilpass; eq "bmc1 (legacy) answers" "$CODE" 200
cat >"$W/load.py" <<'EOF'
# load.py READY CAFILE: 500 keep-alive HTTPS clients, measure rfsim's CPU.
import base64, os, ssl, socket, sys, time
ready, ca = sys.argv[1], sys.argv[2]
pid = int(open(ready).read().split("pid=")[1].split()[0])
bmcs = [l[4:].split() for l in open(ready) if l.startswith("bmc=")]
ctx = ssl.create_default_context(cafile=ca)
auth = "Basic " + base64.b64encode(b"vigil:vigilpass").decode()
def cpu():
    f = open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")
def request(s, path):
    s.sendall(("GET %s HTTP/1.1\r\nHost: x\r\nAuthorization: %s\r\n\r\n" % (path, auth)).encode())
    buf = b""
    while b"\r\n\r\n" not in buf:
        buf += s.recv(65536)
    head, _, body = buf.partition(b"\r\n\r\n")
    n = int([l for l in head.split(b"\r\n") if l.lower().startswith(b"content-length:")][0].split(b":")[1])
    while len(body) < n:
        body += s.recv(65536)
    assert head.startswith(b"HTTP/1.1 200"), head
def paths(style, sid):
    s = "/redfish/v1/Systems/" + sid
    if style == "legacy":
        c = "/redfish/v1/Chassis/Enclosure.Embedded.1"
        return [s, c, c + "/Thermal", c + "/Power", s + "/LogServices/SEL/Entries?$skip=1", "/redfish/v1/Managers"]
    c = "/redfish/v1/Chassis/1U"
    return [s, c + "/Sensors/temperature_CPU_Temp", c + "/Sensors/power_Power_Consumed",
            c + "/ThermalSubsystem/Fans/Fan1", c + "/PowerSubsystem/PowerSupplies/PSU1",
            s + "/LogServices/SEL/Entries?$skip=1"]
c0, t0 = cpu(), time.time()
conns = []
for name, addr, port, style, sid in bmcs:
    s = ctx.wrap_socket(socket.create_connection((addr, int(port))), server_hostname=addr)
    request(s, "/redfish/v1/")
    conns.append((s, paths(style, sid)))
c1, t1 = cpu(), time.time()
n = 0
for s, ps in conns:
    for p in ps:
        request(s, p); n += 1
c2, t2 = cpu(), time.time()
print("connect+TLS+1 request x %d: rfsim CPU %.3f s (%.2f ms each), wall %.2f s" % (len(conns), c1 - c0, (c1 - c0) * 1000 / len(conns), t1 - t0))
print("%d keep-alive requests: rfsim CPU %.3f s (%.0f us each), wall %.2f s" % (n, c2 - c1, (c2 - c1) * 1e6 / n, t2 - t1))
print("500 requests cost %.3f s CPU; 17 polls/s x 6 requests = 102 req/s would use %.1f%% of one core" % ((c2 - c1) * 500 / n, (c2 - c1) / n * 102 * 100))
EOF
if $PY "$W/load.py" "$W/ready2" "$W/cert.pem" >"$W/load.out" 2>&1; then ok "load: 500 connections, 3000 requests"; sed 's/^/# /' "$W/load.out"
else nok "load run"; sed 's/^/# /' "$W/load.out"; fi
kill $PID2; wait $PID2; RC=$?; PID2=
eq "500-BMC rfsim: clean exit" "$RC" 0
echo "# $N checks, $FAILS failed"
[ "$FAILS" = 0 ]
