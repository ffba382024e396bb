#!/usr/bin/python3
"""Writes the BMC benchmark's configs, and drives the IPMI exporter's scrapes.

    bmc_gen.py redfish READY_FILE CA_FILE SECRETS WORKDIR [INTERVAL_S]
    bmc_gen.py ipmi N PORT SECRETS WORKDIR [INTERVAL_S [COLLECTORS]]
    bmc_gen.py scrape URL TARGETS_FILE INTERVAL_S STATUS_FILE

redfish: one host per BMC line ("bmc=NAME ADDR PORT STYLE SYSTEM_ID") of
  rfsim.py's ready file, in its order: host rNNNN at the BMC's address. One
  template "rf": a redfish source (session auth, TLS verified against
  CA_FILE, the rfsim certificate, whose subjectAltName lists every address),
  interval 30 s, timeout 10 s, and five metrics: power, health, sensor:CPU
  Temp, sensor:Fan 1, sensor:Power Consumed (present in both of rfsim's
  shapes, Thermal/Power and ThermalSubsystem/Sensors). Writes vigil.json and
  hosts.txt ("name address port style").
ipmi: N hosts iNNN, BMC k (1-based) at 127.20.(k >> 8).(k & 255):PORT, as
  bench/bmc_run.sh starts ipmi_sim (test/peers/ipmi/start-ipmi-sim.sh PORT
  DIR ADDR). An ipmi source each (user vigil, privilege admin, cipher suite
  3, interval 10 s, timeout 5 s) and six metrics: power, health, sensor:CPU
  Temp, sensor:Fan 1, sensor:Inlet Temp, sel_entries. Writes vigil.json,
  targets.txt ("ADDR:PORT" per line) and exporter.yml: the module "default"
  of prometheus-ipmi-exporter with the same credentials, driver LAN_2_0,
  privilege admin, workaround flag opensesspriv (ipmi_sim needs it with
  LAN_2_0, FreeIPMI's "privilege level cannot be obtained" otherwise) and
  the collectors ipmi (ipmimonitoring, which execs ipmi-sensors: every
  sensor's reading and state),
  chassis (ipmi-chassis --get-chassis-status) and sel (ipmi-sel --info),
  their SDR cache in WORKDIR/sdr-cache (the exporter 1.6.1 passes
  --sdr-cache-recreate to ipmi-sensors: the SDR is read at every scrape).
  COLLECTORS (comma-separated, default ipmi,chassis,sel) replaces that
  list: "ipmi" alone is the exporter at its cheapest, one tool per scrape
  (sensors only, no chassis status, no SEL).
scrape: GETs URL?target=T for every line T of TARGETS_FILE every
  INTERVAL_S, target k first at k * INTERVAL_S / N (spread as vigild spreads
  its polls), one thread per target, so a scrape slower than the interval
  delays that target only. Writes STATUS_FILE (atomically, every second):
  "scrapes=N ok=N failed=N late=N busy_ms=N max_ms=N recent=N" where ok is
  an HTTP 200 whose body says ipmi_up 1 for every collector, late counts
  scrapes started more than 1 s after their due time, busy_ms sums the
  scrapes' wall time and recent is the targets with an ok scrape in the
  last INTERVAL_S + 5 s. Runs until killed.
"""
import json
import os
import re
import sys
import threading
import time
import urllib.request

RF_INTERVAL_S = 30
RF_TIMEOUT_MS = 10000
IPMI_INTERVAL_S = 10
IPMI_TIMEOUT_MS = 5000


def ipmi_address(k):
    if not 1 <= k <= 65535:
        sys.exit("BMC %d: 127.20.x.y holds 1..65535" % k)
    return "127.20.%d.%d" % (k >> 8, k & 255)


def write_hosts(f, hosts, template):
    f.write('  "hosts": [\n')
    for n, (name, addr) in enumerate(hosts, 1):
        f.write('    { "name": "%s", "address": "%s", "service": "vbaremetal", '
                '"template": "%s" }%s\n' % (name, addr, template, "," if n < len(hosts) else ""))
    f.write("  ]\n}\n")


def redfish(ready, ca, secrets, work, interval_s):
    bmcs = []
    with open(ready) as f:
        for line in f:
            if line.startswith("bmc="):
                name, addr, port, style = line[4:].split()[:4]
                bmcs.append((name, addr, int(port), style))
    if not bmcs:
        sys.exit("no bmc= lines in %s" % ready)
    ports = {p for _, _, p, _ in bmcs}
    if len(ports) != 1:
        sys.exit("rfsim serves more than one port: %s" % sorted(ports))
    src = {"type": "redfish", "port": ports.pop(), "secrets": secrets, "auth": "session",
           "ca_file": ca, "interval_s": interval_s, "timeout_ms": RF_TIMEOUT_MS}
    metrics = {
        "power": {"source": "bmc", "read": "power"},
        "health": {"source": "bmc", "read": "health"},
        "cpu_temp": {"source": "bmc", "read": "sensor:CPU Temp"},
        "fan": {"source": "bmc", "read": "sensor:Fan 1"},
        "watts": {"source": "bmc", "read": "sensor:Power Consumed"},
    }
    template = {"sources": {"bmc": src}, "metrics": metrics,
                "availability": [{"name": "powered-off", "when": "power == off",
                                  "cause": "unknown"}]}
    hosts = [("r%04d" % i, addr) for i, (_, addr, _, _) in enumerate(bmcs, 1)]
    with open(os.path.join(work, "vigil.json"), "w") as f:
        f.write("// vigil BMC benchmark: %d Redfish BMCs every %d s (bench/bmc_gen.py)\n"
                % (len(hosts), interval_s))
        f.write("{\n")
        f.write('  "storage": { "path": "vigil.db", "batch_ms": 1000 },\n')
        f.write('  "templates": { "rf": %s },\n' % json.dumps(template))
        write_hosts(f, hosts, "rf")
    with open(os.path.join(work, "hosts.txt"), "w") as f:
        for (name, addr), (_, _, port, style) in zip(hosts, bmcs):
            f.write("%s %s %d %s\n" % (name, addr, port, style))


def ipmi(n, port, secrets, work, interval_s, collectors=("ipmi", "chassis", "sel")):
    with open(secrets) as f:
        cred = json.load(f)
    src = {"type": "ipmi", "port": port, "secrets": secrets, "privilege": "admin",
           "cipher_suite": 3, "interval_s": interval_s, "timeout_ms": IPMI_TIMEOUT_MS}
    metrics = {
        "power": {"source": "bmc", "read": "power"},
        "health": {"source": "bmc", "read": "health"},
        "cpu_temp": {"source": "bmc", "read": "sensor:CPU Temp"},
        "fan": {"source": "bmc", "read": "sensor:Fan 1"},
        "inlet": {"source": "bmc", "read": "sensor:Inlet Temp"},
        "sel_new": {"source": "bmc", "read": "sel_entries"},
    }
    template = {"sources": {"bmc": src}, "metrics": metrics,
                "availability": [{"name": "powered-off", "when": "power == off",
                                  "cause": "unknown"}]}
    hosts = [("i%03d" % k, ipmi_address(k)) for k in range(1, n + 1)]
    with open(os.path.join(work, "vigil.json"), "w") as f:
        f.write("// vigil BMC benchmark: %d IPMI BMCs every %d s (bench/bmc_gen.py)\n"
                % (n, interval_s))
        f.write("{\n")
        f.write('  "storage": { "path": "vigil.db", "batch_ms": 1000 },\n')
        f.write('  "templates": { "ipmi": %s },\n' % json.dumps(template))
        write_hosts(f, hosts, "ipmi")
    with open(os.path.join(work, "targets.txt"), "w") as f:
        for _, addr in hosts:
            f.write("%s:%d\n" % (addr, port))
    cache = os.path.join(os.path.abspath(work), "sdr-cache")
    os.makedirs(cache, exist_ok=True)
    with open(os.path.join(work, "exporter.yml"), "w") as f:
        f.write("# prometheus-ipmi-exporter, BMC benchmark (bench/bmc_gen.py)\n")
        f.write("modules:\n  default:\n")
        f.write('    user: "%s"\n    pass: "%s"\n' % (cred["username"], cred["password"]))
        f.write('    driver: "LAN_2_0"\n    privilege: "admin"\n    timeout: %d\n'
                % IPMI_TIMEOUT_MS)
        f.write("    collectors:\n%s" % "".join("    - %s\n" % c for c in collectors))
        f.write("    workaround_flags:\n    - opensesspriv\n")
        f.write("    custom_args:\n")
        for c in ("ipmi", "sel"):
            if c not in collectors:
                continue
            f.write('      %s:\n      - "--sdr-cache-directory=%s"\n' % (c, cache))


UP = re.compile(rb'^ipmi_up\{collector="([a-z-]+)"\} ([0-9.]+)$', re.M)


def scrape(url, targets_file, interval_s, status):
    with open(targets_file) as f:
        targets = [t.strip() for t in f if t.strip()]
    n = len(targets)
    lock = threading.Lock()
    c = {"scrapes": 0, "ok": 0, "failed": 0, "late": 0, "busy_ms": 0, "max_ms": 0}
    last_ok = [0.0] * n
    t0 = time.monotonic() + 1

    def one(k):
        due = t0 + k * interval_s / n
        while True:
            now = time.monotonic()
            if due > now:
                time.sleep(due - now)
            start = time.monotonic()
            late = start - due > 1
            good = False
            try:
                with urllib.request.urlopen("%s?target=%s" % (url, targets[k]),
                                            timeout=interval_s * 3) as r:
                    body = r.read()
                ups = UP.findall(body)
                good = r.status == 200 and bool(ups) and all(v == b"1" for _, v in ups)
            except Exception:
                good = False
            ms = int((time.monotonic() - start) * 1000)
            with lock:
                c["scrapes"] += 1
                c["ok" if good else "failed"] += 1
                c["late"] += late
                c["busy_ms"] += ms
                c["max_ms"] = max(c["max_ms"], ms)
                if good:
                    last_ok[k] = time.monotonic()
            due += interval_s
            while due < time.monotonic() - interval_s:   # skip rounds missed entirely
                due += interval_s

    for k in range(n):
        threading.Thread(target=one, args=(k,), daemon=True).start()
    while True:
        time.sleep(1)
        now = time.monotonic()
        with lock:
            line = " ".join("%s=%d" % kv for kv in c.items())
            recent = sum(1 for t in last_ok if now - t <= interval_s + 5)
        tmp = status + ".tmp"
        with open(tmp, "w") as f:
            f.write("%s recent=%d\n" % (line, recent))
        os.replace(tmp, status)


def main():
    a = sys.argv[1:]
    if a and a[0] == "redfish" and len(a) in (5, 6):
        os.makedirs(a[4], exist_ok=True)
        redfish(a[1], a[2], a[3], a[4], int(a[5]) if len(a) == 6 else RF_INTERVAL_S)
    elif a and a[0] == "ipmi" and len(a) in (5, 6, 7):
        os.makedirs(a[4], exist_ok=True)
        cols = tuple(a[6].split(",")) if len(a) == 7 else ("ipmi", "chassis", "sel")
        ipmi(int(a[1]), int(a[2]), a[3], a[4], int(a[5]) if len(a) >= 6 else IPMI_INTERVAL_S, cols)
    elif a and a[0] == "scrape" and len(a) == 5:
        scrape(a[1], a[2], float(a[3]), a[4])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
