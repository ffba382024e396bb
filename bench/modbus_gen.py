#!/usr/bin/python3
"""Writes the Modbus benchmark's configs for M simulated devices.

    modbus_gen.py M PORT SINK_PORT WORKDIR [READ_THREADS]

Device i (1-based) is m%04d at 127.1.(i >> 8).(i & 255): device 1 is
127.1.0.1, device 2000 is 127.1.7.208, the addresses mbsim serves for
"127.1.0.1-127.1.7.208:PORT" in the same order (the range runs over the
last two octets, so some addresses end in .0 or .255: all of 127.0.0.0/8
is local, that is fine). Every device is unit 1 on PORT. Writes, in WORKDIR:
  vigil.json     the daemon's config: one template "dev", one line per device
  collectd.conf  collectd 5.12's modbus plugin reading the same registers
  hosts.txt      "name address port" per device, for the record
Both pollers read, every 10 s, 40 uint16 registers in two blocks of 20:
holding 0..19 (h0..h19; mbsim serves 1000 + i) and input 100..119
(i0..i19; mbsim serves 2000 + i, so mbsim needs --regs >= 120).

vigild plans its requests itself: two reads of 20 registers per poll
(docs/modbus.md "Reads"). collectd 5.12's plugin reads one Data block per
request, and a Data block is one value of 1, 2 or 4 registers
(RegisterType Uint16/Int16, 32-bit types and Float, 64-bit types): there
is no way to read a block of 20 registers as 20 values, so its config is
40 Data blocks (Type gauge, RegisterType Uint16), 40 requests per poll.
READ_THREADS (default 5) is collectd's ReadThreads.
"""
import json
import os
import sys

import benchlib

INTERVAL_S = 10
TIMEOUT_MS = 1000
HOLDING = [("h%d" % k, k) for k in range(20)]          # holding 0..19
INPUT = [("i%d" % k, 100 + k) for k in range(20)]      # input 100..119


def address(i):
    """Device i (1-based) -> 127.1.x.y, as mbsim expands its range."""
    if not 1 <= i <= 65535:
        sys.exit("device %d: 127.1.x.y holds 1..65535" % i)
    return "127.1.%d.%d" % (i >> 8, i & 255)


def devices(m):
    for i in range(1, m + 1):
        yield "m%04d" % i, address(i)


def write_vigil(path, m, port):
    metrics = {}
    for name, reg in HOLDING:
        metrics[name] = {"source": "modbus", "register": reg, "type": "uint16"}
    for name, reg in INPUT:
        metrics[name] = {"source": "modbus", "table": "input", "register": reg,
                         "type": "uint16"}
    template = {
        "sources": {"modbus": {"type": "modbus", "port": port,
                               "interval_s": INTERVAL_S, "timeout_ms": TIMEOUT_MS}},
        "metrics": metrics,
        "availability": [
            {"name": "unreachable", "unreachable": 3, "cause": "hardware"},
        ],
    }
    with open(path, "w") as f:
        f.write("// vigil Modbus benchmark: %d devices x %d registers every %d s "
                "(bench/modbus_gen.py)\n" % (m, len(metrics), INTERVAL_S))
        f.write("{\n")
        f.write('  "storage": { "path": "vigil.db", "batch_ms": 1000 },\n')
        f.write('  "templates": { "dev": %s },\n' % json.dumps(template))
        f.write('  "hosts": [\n')
        for n, (name, addr) in enumerate(devices(m), 1):
            f.write('    { "name": "%s", "address": "%s", "template": "dev" }%s\n'
                    % (name, addr, "," if n < m else ""))
        f.write("  ]\n}\n")


def write_collectd(path, work, m, port, sink_port, threads):
    with open(path, "w") as f:
        benchlib.collectd_head(f, "collectd 5.12 Modbus benchmark config (bench/modbus_gen.py)",
                               work, INTERVAL_S, threads, sink_port)
        f.write("LoadPlugin modbus\n<Plugin modbus>\n")
        for cmd, regs in (("ReadHolding", HOLDING), ("ReadInput", INPUT)):
            for name, reg in regs:
                f.write('  <Data "%s">\n    RegisterBase %d\n    RegisterType Uint16\n'
                        '    RegisterCmd %s\n    Type "gauge"\n    Instance "%s"\n'
                        '  </Data>\n' % (name, reg, cmd, name))
        collect = "".join('      Collect "%s"\n' % n for n, _ in HOLDING + INPUT)
        for name, addr in devices(m):
            f.write('  <Host "%s">\n    Address "%s"\n    Port "%d"\n    Interval %d\n'
                    '    <Slave 1>\n      Instance "dev"\n%s    </Slave>\n  </Host>\n'
                    % (name, addr, port, INTERVAL_S, collect))
        f.write("</Plugin>\n")


def main():
    if len(sys.argv) not in (5, 6):
        sys.exit(__doc__)
    m, port, sink_port, work = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    threads = int(sys.argv[5]) if len(sys.argv) == 6 else 5
    os.makedirs(work, exist_ok=True)
    write_vigil(os.path.join(work, "vigil.json"), m, port)
    write_collectd(os.path.join(work, "collectd.conf"), os.path.abspath(work), m, port,
                   sink_port, threads)
    with open(os.path.join(work, "hosts.txt"), "w") as f:
        for name, addr in devices(m):
            f.write("%s %s %d\n" % (name, addr, port))


if __name__ == "__main__":
    main()
