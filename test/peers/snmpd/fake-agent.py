#!/usr/bin/python3
"""fake-agent.py MODE [LOG]: a deliberately odd SNMPv2c agent for collector tests.

Binds udp 127.0.0.1 on an ephemeral port, prints the port, then answers
GetRequests (any community) until killed. Each OID's value is a Gauge32
equal to the OID's last arc. With LOG, appends "REQUEST-ID ADDR PORT" to
that file for every GetRequest, as it arrives (the sender's address as
seen here). MODE:
  toobig:N   answer tooBig to requests of more than N varbinds
  wrongoid   answer with each OID's last arc plus one
  short      drop the last varbind of every answer
  extra      add a varbind the request did not name (last arc plus one)
  reorder    swap the first two varbinds of every answer
  badcomm    answer with another community than the request's
  badcommfirst  answer first with another community (values + 1000), then rightly
  dropfirst  ignore the first datagram of each request-id (answer its retry)
  dup        send every answer twice
  v1         answer with version 0 (SNMPv1) in the envelope
  elsewhere  answer first from another port (values + 1000), then rightly
  late:MS    answer MS milliseconds late (the agent blocks meanwhile)
  ok         answer normally
"""
import socket
import sys
import time


def tlv(tag, body):
    n = len(body)
    if n < 0x80:
        head = bytes([n])
    else:
        b = n.to_bytes((n.bit_length() + 7) // 8, "big")
        head = bytes([0x80 | len(b)]) + b
    return bytes([tag]) + head + body


def parse(buf, i):
    tag = buf[i]
    n = buf[i + 1]
    i += 2
    if n & 0x80:
        k = n & 0x7F
        n = int.from_bytes(buf[i:i + k], "big")
        i += k
    return tag, buf[i:i + n], i + n


def items(body):
    i, out = 0, []
    while i < len(body):
        tag, val, i = parse(body, i)
        out.append((tag, val))
    return out


def integer(v):
    return tlv(0x02, v.to_bytes(max(1, (v.bit_length() + 8) // 8), "big", signed=True))


def last_arc(oid_body):
    # the last arc: base-128 bytes, all but its last with the high bit set
    v = 0
    j = len(oid_body) - 1
    while j > 0 and oid_body[j - 1] & 0x80:
        j -= 1
    for b in oid_body[j:]:
        v = (v << 7) | (b & 0x7F)
    return v, j


def main():
    mode = sys.argv[1] if len(sys.argv) > 1 else "ok"
    log = open(sys.argv[2], "a", buffering=1) if len(sys.argv) > 2 else None
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    print(s.getsockname()[1], flush=True)
    other = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    other.bind(("127.0.0.1", 0))
    seen = set()
    while True:
        data, peer = s.recvfrom(65535)
        try:
            _, msg, _ = parse(data, 0)
            (_, ver), (_, comm), (ptag, pdu) = items(msg)
            if ptag != 0xA0:
                continue
            (_, reqid), _, _, (_, vbl) = items(pdu)
            oids = [items(vb)[0][1] for _, vb in items(vbl)]
        except Exception:
            continue
        if log:
            log.write("%d %s %d\n" % (int.from_bytes(reqid, "big", signed=True), peer[0], peer[1]))
        if mode == "dropfirst" and reqid not in seen:
            seen.add(reqid)
            continue
        err = 0
        vbs = []
        if mode.startswith("toobig:") and len(oids) > int(mode.split(":")[1]):
            err = 1
            vbs = [tlv(0x30, tlv(0x06, o) + b"\x05\x00") for o in oids]
        else:
            for o in oids:
                arc, j = last_arc(o)
                if mode == "wrongoid":
                    o = o[:j] + bytes([(arc + 1) & 0x7F])
                vbs.append(tlv(0x30, tlv(0x06, o) + tlv(0x42, arc.to_bytes(4, "big"))))
            if mode == "short" and vbs:
                vbs = vbs[:-1]
            if mode == "extra" and oids:
                arc, j = last_arc(oids[-1])
                o = oids[-1][:j] + bytes([(arc + 1) & 0x7F])
                vbs.append(tlv(0x30, tlv(0x06, o) + tlv(0x42, arc.to_bytes(4, "big"))))
            if mode == "reorder" and len(vbs) > 1:
                vbs[0], vbs[1] = vbs[1], vbs[0]
        pdu = tlv(0x02, reqid) + integer(err) + integer(0) + tlv(0x30, b"".join(vbs))
        if mode == "v1":
            ver = b"\x00"
        if mode.startswith("badcomm"):
            # same request-id, same address and port, another community
            wrong = [tlv(0x30, tlv(0x06, o) + tlv(0x42, (last_arc(o)[0] + 1000).to_bytes(4, "big")))
                     for o in oids]
            wpdu = tlv(0x02, reqid) + integer(0) + integer(0) + tlv(0x30, b"".join(wrong))
            s.sendto(tlv(0x30, tlv(0x02, ver) + tlv(0x04, comm + b"-x") + tlv(0xA2, wpdu)), peer)
            if mode == "badcomm":
                continue
        out = tlv(0x30, tlv(0x02, ver) + tlv(0x04, comm) + tlv(0xA2, pdu))
        if mode.startswith("late:"):
            time.sleep(int(mode.split(":")[1]) / 1000.0)
        if mode == "elsewhere":
            # same request-id, other values: must not be taken
            wrong = [tlv(0x30, tlv(0x06, o) + tlv(0x42, (last_arc(o)[0] + 1000).to_bytes(4, "big")))
                     for o in oids]
            wpdu = tlv(0x02, reqid) + integer(0) + integer(0) + tlv(0x30, b"".join(wrong))
            other.sendto(tlv(0x30, tlv(0x02, ver) + tlv(0x04, comm) + tlv(0xA2, wpdu)), peer)
        s.sendto(out, peer)
        if mode == "dup":
            s.sendto(out, peer)


if __name__ == "__main__":
    main()
