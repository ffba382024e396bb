"""What the benchmark config writers (gen.py, modbus_gen.py) share.

    collectd_head(f, title, work, interval_s, threads, sink_port, types_dbs=())
        the global part of a collectd.conf, up to the poller's own plugin
"""


def collectd_head(f, title, work, interval_s, threads, sink_port, types_dbs=()):
    """Writes to f the part both benchmarks' collectd must run the same way
    for their CPU figures to compare: logging to WORK/collectd.log and the
    write path, the binary network protocol to a local UDP counter
    (bench/sink.py on SINK_PORT), the cheapest honest one found (no disk).
    TYPES_DBS are TypesDB files beside collectd's own."""
    f.write("# %s\n" % title)
    f.write('Hostname "bench"\nFQDNLookup false\n')
    f.write('BaseDir "%s"\nPIDFile "%s/collectd.pid"\n' % (work, work))
    f.write('TypesDB "/usr/share/collectd/types.db"\n')
    for types in types_dbs:
        f.write('TypesDB "%s"\n' % types)
    f.write("Interval %d\nReadThreads %d\nWriteThreads 1\n" % (interval_s, threads))
    f.write("LoadPlugin logfile\n")
    f.write('<Plugin logfile>\n  LogLevel "info"\n  File "%s/collectd.log"\n'
            '  Timestamp true\n</Plugin>\n' % work)
    f.write("LoadPlugin network\n")
    f.write('<Plugin network>\n  Server "127.0.0.1" "%d"\n</Plugin>\n' % sink_port)
