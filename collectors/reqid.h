/* Request-ids for SNMP requests that nobody outside the process can
 * predict.
 *
 * Why: up to 512 hosts share one socket (collectors/snmp.c), so every
 * polled agent sees the socket's port and the ids of its own requests. Ids
 * that ran on by one (as vigil's did, and as net-snmp's snmp_get_next_reqid
 * still does from a time-seeded start) told each agent the ids of its
 * neighbours' next requests: with the community (often shared) and the
 * neighbour's address (spoofable on many networks) it could forge their
 * answers and mark them up or down. Here each id is SipHash-2-4, keyed
 * once per process with 128 bits from getrandom(2), of a process-wide
 * counter: an agent that sees any number of ids learns nothing about the
 * others. What remains visible is in docs/snmp.md ("What SNMPv2c can and
 * cannot protect against").
 *
 * Thread-safe (the counter is atomic); a forked child draws a stream of
 * its own. */
#ifndef VGL_REQID_H
#define VGL_REQID_H

#include <stdint.h>

/* Seeds the generator once per process (later calls return the first
 * result). Blocks only while the kernel's pool is not yet initialised
 * (early boot). 0, or a negative errno from getrandom(2). */
int vgl_reqid_init(void);

/* A request-id in [1, 2^31 - 1] (SNMP's request-id is an Integer32; 0 and
 * negatives are avoided, as net-snmp does). vgl_reqid_init must have
 * succeeded. */
uint32_t vgl_reqid_next(void);

/* SipHash-2-4 of the 8-byte little-endian encoding of m under key (k0, k1)
 * (the key's bytes 0-7 and 8-15, little-endian). Exposed for its test
 * against the reference vectors. */
uint64_t vgl_reqid_siphash(uint64_t k0, uint64_t k1, uint64_t m);

#endif
