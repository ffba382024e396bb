#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets (docs/fuzzing.md) into
test/fuzz/corpus/<target>/: a few valid inputs and near misses each, so a
run starts from inputs that reach deep into the parser. Deterministic; run
it again after changing it and commit what it writes. Inputs that a target
found (crashes, since fixed) live beside these as crash-*, written by hand,
and are never removed by this script."""
import os
import sys

TOP = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(TOP, "corpus")


def put(target, name, data):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


# ---- BER (X.690) -----------------------------------------------------------

def tlv(tag, body):
    n = len(body)
    if n < 0x80:
        ln = bytes([n])
    else:
        b = n.to_bytes((n.bit_length() + 7) // 8, "big")
        ln = bytes([0x80 | len(b)]) + b
    return bytes([tag]) + ln + body


def integer(v, tag=0x02):
    n = 1
    while True:
        try:
            return tlv(tag, v.to_bytes(n, "big", signed=True))
        except OverflowError:
            n += 1


def unsigned(v, tag):
    b = v.to_bytes(max(1, (v.bit_length() + 7) // 8), "big")
    if b[0] & 0x80:
        b = b"\x00" + b
    return tlv(tag, b)


def octets(s, tag=0x04):
    return tlv(tag, s.encode() if isinstance(s, str) else s)


def oid(dotted):
    arcs = [int(a) for a in dotted.strip(".").split(".")]
    out = bytes([arcs[0] * 40 + arcs[1]])
    for a in arcs[2:]:
        enc = [a & 0x7F]
        a >>= 7
        while a:
            enc.append(0x80 | (a & 0x7F))
            a >>= 7
        out += bytes(reversed(enc))
    return tlv(0x06, out)


def seq(*items, tag=0x30):
    return tlv(tag, b"".join(items))


def vb(name, value):
    return seq(oid(name), value)


SYSUPTIME = "1.3.6.1.2.1.1.3.0"
IFOPER = "1.3.6.1.2.1.2.2.1.8.1"
IFHCIN = "1.3.6.1.2.1.31.1.1.1.6.1"
PRIV = "1.3.6.1.4.1.99999.1.0"

GOOD_VBS = [
    vb(SYSUPTIME, unsigned(123456, 0x43)),
    vb(IFOPER, integer(1)),
    vb(IFHCIN, unsigned(2**64 - 1, 0x46)),
    vb(PRIV, unsigned(4000000000, 0x42)),
]
ODD_VBS = [
    vb(SYSUPTIME, tlv(0x81, b"")),                 # noSuchInstance
    vb(IFOPER, octets("up")),                      # not a number
    vb(IFHCIN, unsigned(2**32 + 5, 0x41)),         # Counter32 too wide
    vb(PRIV, tlv(0x44, b"\x9f\x78\x04\x3f\x80\x00\x00")),  # Opaque float
    vb("1.3.6.1.2.1.1.1.0", tlv(0x40, b"\x7f\x00\x00\x01")),
    vb("1.3.6.1.2.1.1.2.0", oid("1.3.6.1.4.1.8072.3.2.10")),
    vb("1.3.6.1.2.1.1.9.0", tlv(0x05, b"")),
    vb("1.3.6.1.2.1.1.8.0", integer(-2**63)),
]


def pdu(tag, reqid, vbs, err=0, idx=0):
    return seq(integer(reqid), integer(err), integer(idx), seq(*vbs), tag=tag)


def v2c(reqid, vbs, community="public", tag=0xA2, err=0, idx=0, version=1):
    return seq(integer(version), octets(community), pdu(tag, reqid, vbs, err, idx))


def v3(msgid, engine, user, scoped_pdu, flags=b"\x00", ctx_engine=None, boots=1, time=100):
    usm = seq(octets(engine), integer(boots), integer(time), octets(user),
              octets(b""), octets(b""))
    ctx = engine if ctx_engine is None else ctx_engine
    return seq(integer(3), seq(integer(msgid), integer(65507), octets(flags), integer(3)),
               octets(usm), seq(octets(ctx), octets(""), scoped_pdu))


# ---- the targets -------------------------------------------------------------

def ber():
    put("fuzz_ber", "response-4", v2c(7, GOOD_VBS))
    put("fuzz_ber", "response-odd-types", v2c(8, ODD_VBS))
    put("fuzz_ber", "response-tooBig", v2c(9, [], err=1, idx=0))
    put("fuzz_ber", "get-request", v2c(10, [vb(SYSUPTIME, tlv(0x05, b""))], tag=0xA0))
    put("fuzz_ber", "long-length-form",
        b"\x30\x82\x00\x1d" + v2c(11, [vb(SYSUPTIME, integer(5))])[2:])
    put("fuzz_ber", "truncated", v2c(12, GOOD_VBS)[:-3])
    put("fuzz_ber", "v1-report", v2c(13, GOOD_VBS[:1], tag=0xA8, version=0))
    put("fuzz_ber", "vb-list-only", b"".join(GOOD_VBS + ODD_VBS))


ENGINE = bytes([0x80, 0x00, 0x1F, 0x88, 0x80]) + b"fuzz"
USM_UNKNOWN_ENGINE = "1.3.6.1.6.3.15.1.1.4.0"


def netsnmp():
    # byte 0 = what is waiting (fuzz_netsnmp.c), then the datagram
    put("fuzz_netsnmp", "v2c-response", b"\x00" + v2c(0x1234, GOOD_VBS))
    put("fuzz_netsnmp", "v2c-response-odd", b"\x00" + v2c(0x1234, ODD_VBS))
    put("fuzz_netsnmp", "v2c-tooBig", b"\x00" + v2c(0x1234, [], err=1))
    put("fuzz_netsnmp", "v2c-wrong-reqid", b"\x00" + v2c(0x4321, GOOD_VBS))
    put("fuzz_netsnmp", "v3-probe-report", b"\x01" + v3(
        0x5678, ENGINE, "",
        pdu(0xA8, 0x1234, [vb(USM_UNKNOWN_ENGINE, unsigned(3, 0x41))])))
    put("fuzz_netsnmp", "v3-probe-report-empty-engine", b"\x01" + v3(
        0x5678, b"", "",
        pdu(0xA8, 0x1234, [vb(USM_UNKNOWN_ENGINE, unsigned(3, 0x41))])))
    put("fuzz_netsnmp", "v3-response", b"\x02" + v3(0x5678, ENGINE, "fuzz",
                                                     pdu(0xA2, 0x1234, GOOD_VBS)))
    put("fuzz_netsnmp", "v3-response-odd", b"\x02" + v3(0x5678, ENGINE, "fuzz",
                                                         pdu(0xA2, 0x1234, ODD_VBS)))
    put("fuzz_netsnmp", "v3-report-not-in-time", b"\x02" + v3(
        0x5678, ENGINE, "fuzz",
        pdu(0xA8, 0x1234, [vb("1.3.6.1.6.3.15.1.1.2.0", unsigned(1, 0x41))])))
    put("fuzz_netsnmp", "v3-authpriv-flags", b"\x02" + v3(
        0x5678, ENGINE, "fuzz", pdu(0xA2, 0x1234, GOOD_VBS), flags=b"\x03"))


def counters_csv():
    t = "fuzz_counters_csv"
    put(t, "ok", "time,total,failed\n2026-10-05T00:00:00Z,11000,10\n"
                 "2026-10-05T00:05:00Z,11250,10\n")
    put(t, "ok-crlf-blanks", "\r\n time , total ,failed\r\n2026-09-30T23:00:00Z,1000,0\r\n"
                             "\r\n2026-10-05T00:00:00+07:00, 11000 ,10\r\n"
                             "2026-10-20,18446744073709551615,60")
    put(t, "bad-header", "time,requests,failed\n")
    put(t, "repeat", "time,total,failed\n2026-10-01T00:00:00Z,1,0\n"
                     "2026-10-01T00:00:00.000Z,2,0\n")
    put(t, "fields", "time,total,failed\n2026-10-01,1\n2026-10-02,1,2,3\n")
    put(t, "numbers", "time,total,failed\n2026-10-01,-5,0\n2026-10-02,1,18446744073709551616\n")
    put(t, "future", "time,total,failed\n2099-01-01T00:00:00Z,1,0\n")
    put(t, "nul", b"time,total,failed\n2026-10-01,1\x00,0\n")


def expr():
    t = "fuzz_expr"
    for i, s in enumerate([
        "ifOperStatus != up and temp > 40",
        "not (psu.state == failed or psu.state == down) and fan_rpm < 1000",
        "temp >= -12.5e1 or a-b_c.9 <= 3",
        "ifOperStatus == down",
        "(((temp > 1)))",
        "temp == up",
        "ifOperStatus == ok",
        "temp and fan_rpm",
        "not not not temp != 1e308",
        # alarm rules: windows, arithmetic, references, SLA figures
        "rate(temp, 5m) * 8 > fan_rpm * 0.9 and changes(ifOperStatus, 10m) > 3",
        "uplink.ifOperStatus == down or feed.state == 0 or nodata(30s)",
        "unavailable() == 1 and sla_allowance_left_ms() <= 0.2 * sla_allowance_ms()",
        "avg(temp, 1h) - min(temp, 1h) >= -(2 + 3) / 0 or delta(fan_rpm, 24h) < 1",
        "last(psu.state, 90s) == failed and nodata(fan_rpm, 500ms)",
    ]):
        put(t, "e%d" % i, s)


def sla_case():
    t = "fuzz_sla_case"
    put(t, "vserver", """{"policy": "vserver", "tz": "Asia/Ho_Chi_Minh", "month": "2026-11",
 "host": "web-1", "now": "2026-12-05T00:00:00Z",
 "intervals": [
  {"cause": "hardware", "start": "2026-10-31T16:50:00Z", "end": "2026-10-31T17:30:00Z", "note": "PSU", "id": 11},
  {"cause": "network", "start": "2026-10-31T17:25:00+00:00", "end": "2026-11-01T00:35:00+07:00"},
  {"cause": "customer", "start": "2026-11-03T00:00:00Z", "end": "2026-11-03T01:00:00Z"},
  {"cause": "maintenance", "start": "2026-11-10T02:00:00Z", "end": null, "rule": "ping"}],
 "maintenance": [
  {"kind": "planned", "start": "2026-11-10T01:00:00Z", "end": "2026-11-10T03:00:00Z",
   "announced": "2026-11-06T00:00:00Z", "note": "upgrade", "id": 3},
  {"kind": "emergency", "start": 1794268800000, "end": 1794270000000, "announced": 1794268200000}],
 "observed": [{"start": "2026-11-01T00:00:00Z", "end": "2026-11-05T12:00:00Z"}]}""")
    put(t, "vcdn-32", """{"policy": "vcdn", "month": "2026-11", "counter_bits": 32,
 "now": "2026-11-20T00:00:00Z",
 "counters": [{"ts": "2026-10-31T23:55:00Z", "total": 4294967290, "failed": 0},
  {"ts": "2026-11-01T00:05:00Z", "total": 10, "failed": "3"},
  {"ts": 1793491200000, "total": "20", "failed": 4}]}""")
    put(t, "vstorage", """{"policy": "vstorage", "month": "2026-02",
 "service_start": "2026-02-10T00:00:00Z", "service_end": "2026-02-20T00:00:00Z",
 "counters": [{"ts": "2026-02-10T00:00:00Z", "total": 0, "failed": 0},
  {"ts": "2026-02-10T00:05:00Z", "total": 1000, "failed": 10},
  {"ts": "2026-02-10T00:10:00Z", "total": 500, "failed": 1}]}""")
    put(t, "inline-policy", """{"policy": {"name": "gold", "kind": "availability",
  "commitment": "99.95", "bands": [{"from": "99.9", "to": "99.95", "credit": 10},
  {"from": 99, "to": 99.9, "credit": 25}, {"from": 0, "to": 99, "credit": 100}],
  "credit_unit": "days", "counted_causes": ["network", "power"],
  "notice_planned_h": 72, "notice_emergency_min": 30, "maintenance_cap_min": 120,
  "tz": "Europe/Berlin"},
 "month": "2026-03", "now": "2026-03-29T12:00:00Z",
 "intervals": [{"cause": "power", "start": "2026-03-29T00:30:00Z", "end": "2026-03-29T02:30:00Z"}]}""")
    put(t, "bad-bands", """{"policy": {"base": "vserver", "bands": [{"from": 99, "to": 99.9, "credit": 10},
  {"from": 99.5, "to": 99.94, "credit": 30}]}, "month": "2026-11"}""")
    put(t, "bad-key", """{"policy": "vserver", "month": "2026-11", "maintenence": []}""")
    put(t, "bad-month", """{"policy": "vdb", "month": "2026-13"}""")


SNMP_T = '"snmp": { "version": "2c", "community": "public", "port": 16161, "interval_s": 10 }'


def conf():
    t = "fuzz_conf"
    sep = "\n%%\n"
    main = """// fuzz seed: every section
{ "storage": { "path": "data/v.db", "batch_ms": 250, "heartbeat_s": 5 },
  "snmp": { "max_in_flight": 500 },
  "sla": { "tz": "Asia/Ho_Chi_Minh" },
  "policies": { "gold": { "commitment": "99.95",
      "bands": [ { "from": "99.9", "to": "99.95", "credit": 10 }, { "from": 0, "to": 99.9, "credit": 50 } ] },
    "cdn-eu": { "base": "vcdn", "tz": "Europe/Berlin" } },
  "include": "hosts.d",
  "templates": { "srv": {
    %s,
    "metrics": { "ifOperStatus": ".1.3.6.1.2.1.2.2.1.8.1",
                 "psu": { "oid": ".1.3.6.1.4.1.99999.3.0", "enum": { "ok": 1, "failed": 2 } },
                 "total": ".1.3.6.1.4.1.99999.4.0", "failed": ".1.3.6.1.4.1.99999.5.0" },
    "sla_counters": { "total": "total", "failed": "failed", "bits": 32 },
    "availability": [
      { "name": "unreachable", "unreachable": 3, "cause": "network" },
      { "name": "psu", "when": "psu == failed and ifOperStatus == 1", "for_s": 30, "cause": "power" } ] } },
  "hosts": [
    { "name": "web-01", "address": "127.0.0.1", "template": "srv", "site": "hcm1",
      "service": "gold", "customer": "acme", "service_start": "2026-01-01T00:00:00Z" },
    { "name": "v3-01", "address": "::1", "metrics": { "up": ".1.3.6.1.2.1.1.3.0" },
      "snmp": { "version": "3", "user": "vigilv3", "auth_protocol": "SHA",
                "priv_protocol": "AES", "secrets": "secret.json" } } ] }
""" % SNMP_T
    hosts = """// an include file
{ "templates": { "bare": { "snmp": { "community": "x", "engine": "net-snmp" },
    "metrics": { "t": ".1.3.6.1.4.1.99999.1.0" } } },
  "hosts": [ { "name": "web-03", "address": "10.0.0.3", "template": "bare", "service": "vcdn" },
             { "name": "web-04", "address": "web-04.example", "template": "srv" } ] }
"""
    secret = '{ "auth_key": "vigil-auth-pass", // comments too\n  "priv_key": "vigil-priv-pass" }\n'
    put(t, "full", main + sep + hosts + sep + secret)
    put(t, "minimal", '{ "hosts": [ { "name": "a", "address": "127.0.0.1", %s,'
        ' "metrics": { "m": ".1.3.6.1.2.1.1.3.0" } } ] }' % SNMP_T)
    put(t, "mib-names", '{ "mibs": { "modules": [ "IF-MIB" ] },\n "hosts": [ { "name": "a",'
        ' "address": "127.0.0.1", %s, "metrics": { "oper": "IF-MIB::ifOperStatus.1" },\n'
        ' "availability": [ { "name": "down", "when": "oper == down", "cause": "network" } ] } ] }'
        % SNMP_T)
    put(t, "errors", '{ "storage": { "batch_ms": 5 }, "include": "hosts.d",\n "hosts": [ { "name": "a",'
        ' "address": "", "snmp": { "port": 0 }, "metrics": { "m": "1.3.x" } },\n'
        ' { "name": "a" } ] /* unterminated' + sep + '{ "hosts": [ { "name": "a" } ], "x": 1 }')
    put(t, "secret-v2c", '{ "hosts": [ { "name": "a", "address": "127.0.0.1",\n'
        ' "snmp": { "secrets": "secret.json" }, "metrics": { "m": ".1.3.6.1.2.1.1.3.0" } } ] }'
        + sep + sep + '{ "community": "s3cret" }')
    put(t, "template-override", '{ "templates": { "t": { %s, "metrics": { "m": ".1.3.6.1.2.1.1.3.0" } } },\n'
        ' "hosts": [ { "name": "a", "address": "127.0.0.1", "template": "t",\n'
        '   "snmp": { "retries": 3, "max_oids_per_pdu": 1 } } ] }' % SNMP_T)


def main():
    ber()
    netsnmp()
    counters_csv()
    expr()
    sla_case()
    conf()
    return 0


if __name__ == "__main__":
    sys.exit(main())
