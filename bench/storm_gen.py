#!/usr/bin/python3
"""Writes the alarm storm benchmark's config (bench/storm_run.sh).

    storm_gen.py SWITCHES HOSTS SWITCH_PORT HOST_PORT HOOK_PORT
                 SWITCH_INTERVAL_S HOST_INTERVAL_S DEP_WAIT_S WORKDIR

SWITCHES "switch" hosts sw-01.. at 127.200.0.1.. (one tcp source on
SWITCH_PORT: whoever listens on 0.0.0.0:SWITCH_PORT answers for all of
them), each with a metric port1 (the tcp probe's up, 1 = up) and an
availability condition "unreachable: 2" that raises a critical alarm.
HOSTS hosts h000001.. at 127.a.b.c (bench/gen.py's addresses), one tcp
source on HOST_PORT each, "uplink": "sw-NN.port1" round-robin over the
switches, with an availability condition "unreachable: 2" that raises a
major alarm. Alarms: dependency_wait_s DEP_WAIT_S, one webhook channel
"noc" (http://127.0.0.1:HOOK_PORT/noc), one escalation policy paging it at
once. Writes WORKDIR/vigil.json.
"""
import json
import os
import sys


def address(i):
    per_b = 254 * 254
    a = 1 + i // per_b
    b = 1 + (i % per_b) // 254
    c = 1 + i % 254
    return "127.%d.%d.%d" % (a, b, c)


def main():
    if len(sys.argv) != 10:
        sys.exit(__doc__)
    n_sw, n_hosts, sport, hport, hook, sw_iv, h_iv, wait = (int(x) for x in sys.argv[1:9])
    work = os.path.abspath(sys.argv[9])
    if n_sw > 254:
        sys.exit("at most 254 switches")
    conf = {
        "storage": {"path": "vigil.db", "heartbeat_s": 10},
        "alarms": {"dependency_wait_s": wait},
        "channels": {"noc": {"type": "webhook", "url": "http://127.0.0.1:%d/noc" % hook,
                             "timeout_s": 5}},
        "escalation": [{"name": "all", "steps": [{"after_s": 0, "notify": ["noc"]}]}],
        "templates": {
            "switch": {
                "sources": {"svc": {"type": "tcp", "port": sport, "interval_s": sw_iv,
                                    "timeout_ms": 1000}},
                "metrics": {"port1": {"source": "svc", "value": "up"}},
                "availability": [{"name": "switch-down", "unreachable": 2, "source": "svc",
                                  "cause": "network", "alarm": {"severity": "critical"}}],
            },
            "server": {
                "sources": {"svc": {"type": "tcp", "port": hport, "interval_s": h_iv,
                                    "timeout_ms": 1000}},
                "metrics": {"up": {"source": "svc", "value": "up"}},
                "availability": [{"name": "svc-down", "unreachable": 2, "source": "svc",
                                  "cause": "unknown", "alarm": {"severity": "major"}}],
            },
        },
    }
    with open(os.path.join(work, "vigil.json"), "w") as f:
        f.write("// vigil alarm storm benchmark: %d switches, %d hosts behind them "
                "(bench/storm_gen.py)\n" % (n_sw, n_hosts))
        body = json.dumps(conf, indent=1)
        f.write(body[:body.rindex("}")].rstrip() + ',\n "hosts": [\n')
        rows = []
        for s in range(n_sw):
            rows.append('  {"name": "sw-%02d", "address": "127.200.0.%d", "template": "switch"}'
                        % (s + 1, s + 1))
        for i in range(n_hosts):
            rows.append('  {"name": "h%06d", "address": "%s", "template": "server", '
                        '"uplink": "sw-%02d.port1"}' % (i + 1, address(i), i % n_sw + 1))
        f.write(",\n".join(rows))
        f.write("\n ]\n}\n")


if __name__ == "__main__":
    main()
