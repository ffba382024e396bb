#!/usr/bin/python3
"""Writes the benchmark's configs for M simulated hosts.

    gen.py M AGENT_PORTS SINK_PORT WORKDIR [COLLECTD_MODE]

AGENT_PORTS is a comma-separated list of snmpd ports; hosts are spread over
them round-robin. Host i gets the loopback address 127.a.b.c (host parts
1..254 only, so no .0 or .255) and the name hNNNNNN. Writes, in WORKDIR:
  vigil.json     the daemon's config: one template, one line per host
  collectd.conf  collectd 5.12's snmp plugin polling the same hosts/OIDs
  hosts.txt      "name address port" per host, for the record
Both pollers ask the same 20 numeric OIDs that snmpd serves natively,
every 30 s, timeout 1 s, 1 retry.

With VIGIL_BENCH_RULES=1 in the environment, the template also carries ten
alarm rules (BENCH_RULES below, windows included) that never fire on a
quiet snmpd: the rule engine's cost without an alarm storm (bench/RESULTS.md,
"Alarms").

COLLECTD_MODE (default "per-oid"): how collectd's Data blocks group the
OIDs. "per-oid" is the usual config, one Data block (type gauge) per OID:
collectd then sends one GET per OID. "one-pdu" is one Data block of a
20-value type (bench20, in WORKDIR/types-bench.db): one GET per host, as
vigild sends, and the cheapest way collectd can ask these OIDs.
"""
import json
import os
import sys

import benchlib

INTERVAL_S = 30

# (name, numeric OID): all answer with a number from a stock snmpd on lo.
OIDS = [
    ("sysUpTime", ".1.3.6.1.2.1.1.3.0"),
    ("ifNumber", ".1.3.6.1.2.1.2.1.0"),
    ("ifType", ".1.3.6.1.2.1.2.2.1.3.1"),
    ("ifMtu", ".1.3.6.1.2.1.2.2.1.4.1"),
    ("ifSpeed", ".1.3.6.1.2.1.2.2.1.5.1"),
    ("ifAdminStatus", ".1.3.6.1.2.1.2.2.1.7.1"),
    ("ifOperStatus", ".1.3.6.1.2.1.2.2.1.8.1"),
    ("ifLastChange", ".1.3.6.1.2.1.2.2.1.9.1"),
    ("ifInOctets", ".1.3.6.1.2.1.2.2.1.10.1"),
    ("ifInUcastPkts", ".1.3.6.1.2.1.2.2.1.11.1"),
    ("ifInDiscards", ".1.3.6.1.2.1.2.2.1.13.1"),
    ("ifInErrors", ".1.3.6.1.2.1.2.2.1.14.1"),
    ("ifOutOctets", ".1.3.6.1.2.1.2.2.1.16.1"),
    ("ifOutUcastPkts", ".1.3.6.1.2.1.2.2.1.17.1"),
    ("ifOutDiscards", ".1.3.6.1.2.1.2.2.1.19.1"),
    ("ifOutErrors", ".1.3.6.1.2.1.2.2.1.20.1"),
    ("snmpInPkts", ".1.3.6.1.2.1.11.1.0"),
    ("snmpOutPkts", ".1.3.6.1.2.1.11.2.0"),
    ("snmpInBadVersions", ".1.3.6.1.2.1.11.3.0"),
    ("snmpEnableAuthenTraps", ".1.3.6.1.2.1.11.30.0"),
]
IF_STATUS = {"up": 1, "down": 2, "testing": 3}

# Ten rules over the 20 OIDs, as a site might write them: seven read a
# window (5 or 10 min of 30 s polls: 11 or 21 samples, rings of 12 or 22).
# The saturation thresholds are 1000 times a site's: lo reports ifSpeed
# 10 Mbit/s, and at 100,000 hosts the benchmark's own SNMP traffic moves
# more than that over lo, which would raise 100,000 alarms. The same
# instructions are evaluated either way.
BENCH_RULES = [
    {"name": "link-down", "when": "ifOperStatus == down and ifAdminStatus == up",
     "for_s": 30, "severity": "major"},
    {"name": "in-saturated", "when": "rate(ifInOctets, 5m) * 8 > ifSpeed * 900",
     "clear": "rate(ifInOctets, 5m) * 8 < ifSpeed * 800", "severity": "minor"},
    {"name": "out-saturated", "when": "rate(ifOutOctets, 5m) * 8 > ifSpeed * 900",
     "clear": "rate(ifOutOctets, 5m) * 8 < ifSpeed * 800", "severity": "minor"},
    {"name": "in-errors", "when": "rate(ifInErrors, 5m) > 10", "severity": "warning"},
    {"name": "out-errors", "when": "delta(ifOutErrors, 5m) > 1000", "severity": "warning"},
    {"name": "discards", "when": "avg(ifInDiscards, 5m) > 1e12", "severity": "info"},
    {"name": "agent-busy", "when": "max(snmpInPkts, 10m) - min(snmpInPkts, 10m) > 1e12",
     "severity": "info"},
    {"name": "link-flaps", "when": "changes(ifLastChange, 10m) > 3", "severity": "warning"},
    {"name": "silent", "when": "nodata(2m)", "severity": "major"},
    {"name": "small-mtu", "when": "ifMtu < 576", "for_s": 60, "severity": "info"},
]


def address(i):
    per_b = 254 * 254
    a = 1 + i // per_b
    b = 1 + (i % per_b) // 254
    c = 1 + i % 254
    if a > 254:
        sys.exit("too many hosts for 127.1-254.x.y")
    return "127.%d.%d.%d" % (a, b, c)


def hosts(m, ports):
    for i in range(m):
        yield "h%06d" % (i + 1), address(i), ports[i % len(ports)]


def write_vigil(path, m, ports):
    metrics = {}
    for name, oid in OIDS:
        if name in ("ifAdminStatus", "ifOperStatus"):
            metrics[name] = {"oid": oid, "enum": IF_STATUS}
        else:
            metrics[name] = oid
    template = {
        "snmp": {"version": "2c", "community": "public", "port": ports[0],
                 "interval_s": INTERVAL_S, "timeout_ms": 1000, "retries": 1,
                 "max_oids_per_pdu": 20},
        "metrics": metrics,
        # What a real site evaluates on every poll: a count of failed polls
        # and an expression over two of the values.
        "availability": [
            {"name": "unreachable", "unreachable": 3, "cause": "network"},
            {"name": "uplink-down",
             "when": "ifOperStatus != up and ifAdminStatus == up",
             "for_s": 30, "cause": "network"},
        ],
    }
    if os.environ.get("VIGIL_BENCH_RULES"):
        template["rules"] = BENCH_RULES
    templates = {}
    for p in ports:
        t = json.loads(json.dumps(template))
        t["snmp"]["port"] = p
        templates["bench-%d" % p] = t
    with open(path, "w") as f:
        f.write("// vigil benchmark: %d hosts x %d OIDs every %d s (bench/gen.py)\n"
                % (m, len(OIDS), INTERVAL_S))
        f.write("{\n")
        # batch_ms left at its default (1000), as a site would run it
        f.write('  "storage": { "path": "vigil.db", "heartbeat_s": 10 },\n')
        f.write('  "snmp": { "max_in_flight": 10000 },\n')
        f.write('  "templates": %s,\n' % json.dumps(templates))
        f.write('  "hosts": [\n')
        n = 0
        for name, addr, port in hosts(m, ports):
            n += 1
            f.write('    {"name": "%s", "address": "%s", "template": "bench-%d"}%s\n'
                    % (name, addr, port, "," if n < m else ""))
        f.write("  ]\n}\n")


def write_collectd(path, work, m, ports, sink_port, mode):
    # collectd reads each host synchronously, one GET per Data block, on its
    # read threads; enough threads that a round of M hosts fits in 30 s.
    threads = max(5, min(64, m // 500))
    types_dbs = []
    if mode == "one-pdu":
        types = os.path.join(work, "types-bench.db")
        with open(types, "w") as t:
            t.write("bench20 %s\n" % ", ".join("%s:GAUGE:U:U" % n for n, _ in OIDS))
        types_dbs.append(types)
    with open(path, "w") as f:
        benchlib.collectd_head(f, "collectd 5.12 benchmark config (bench/gen.py)", work,
                               INTERVAL_S, threads, sink_port, types_dbs)
        f.write("LoadPlugin snmp\n<Plugin snmp>\n")
        if mode == "one-pdu":
            f.write('  <Data "all">\n    Type "bench20"\n    Table false\n'
                    '    TypeInstance "all"\n    Values %s\n  </Data>\n'
                    % " ".join('"%s"' % o for _, o in OIDS))
            collect = '"all"'
        else:
            for name, oid in OIDS:
                f.write('  <Data "%s">\n    Type "gauge"\n    Table false\n'
                        '    TypeInstance "%s"\n    Values "%s"\n  </Data>\n'
                        % (name, name, oid))
            collect = " ".join('"%s"' % n for n, _ in OIDS)
        for name, addr, port in hosts(m, ports):
            f.write('  <Host "%s">\n    Address "%s:%d"\n    Version 2\n'
                    '    Community "public"\n    Collect %s\n    Interval %d\n'
                    '    Timeout 1\n    Retries 1\n  </Host>\n'
                    % (name, addr, port, collect, INTERVAL_S))
        f.write("</Plugin>\n")


def main():
    if len(sys.argv) not in (5, 6):
        sys.exit(__doc__)
    mode = sys.argv[5] if len(sys.argv) == 6 else "per-oid"
    if mode not in ("per-oid", "one-pdu"):
        sys.exit("COLLECTD_MODE: per-oid or one-pdu")
    m = int(sys.argv[1])
    ports = [int(p) for p in sys.argv[2].split(",")]
    sink_port = int(sys.argv[3])
    work = os.path.abspath(sys.argv[4])
    write_vigil(os.path.join(work, "vigil.json"), m, ports)
    write_collectd(os.path.join(work, "collectd.conf"), work, m, ports, sink_port, mode)
    with open(os.path.join(work, "hosts.txt"), "w") as f:
        for name, addr, port in hosts(m, ports):
            f.write("%s %s %d\n" % (name, addr, port))


if __name__ == "__main__":
    main()
