/* SNMPv2c GET messages in BER (RFC 3416 over X.690): encoding a
 * GetRequest and decoding the answer, in caller buffers, with no
 * allocation.
 *
 * Why not net-snmp for these: its PDU objects cost two heap varbinds of
 * about 1.1 KiB each (calloc'd, past glibc's tcache) per OID per poll, a
 * 64 KiB receive buffer per datagram and the PDU copies around them; at
 * 20 OIDs a poll that was over a third of the loop thread's CPU. The v2c
 * GET and its answer are a small fixed shape, so the collector builds and
 * reads them itself; v3 (USM, engine discovery, crypto) stays with
 * net-snmp. See docs/snmp.md.
 *
 * Decoding is strict about structure (definite lengths that nest, single
 * octet tags, minimal sizes where a wrong size would misread the value)
 * and lenient where agents are known to differ but the value is still
 * unambiguous (an unsigned type sent without its leading zero octet, or
 * padded, or wider than its type, reads as net-snmp 5.9 reads it: a plain
 * unsigned number cut to the type's width). Nothing here trusts a length
 * it has not checked against the buffer.
 */
#ifndef VGL_BER_H
#define VGL_BER_H

#include <stddef.h>
#include <stdint.h>

/* Tags used by SNMP (X.690 universal, RFC 2578 application, RFC 3416
 * context-specific). */
enum {
	VGL_BER_INTEGER = 0x02,
	VGL_BER_OCTET_STRING = 0x04,
	VGL_BER_NULL = 0x05,
	VGL_BER_OID = 0x06,
	VGL_BER_SEQUENCE = 0x30,
	VGL_BER_IPADDRESS = 0x40,
	VGL_BER_COUNTER32 = 0x41,
	VGL_BER_GAUGE32 = 0x42,         /* also Unsigned32 */
	VGL_BER_TIMETICKS = 0x43,
	VGL_BER_OPAQUE = 0x44,
	VGL_BER_COUNTER64 = 0x46,
	VGL_BER_UINTEGER32 = 0x47,      /* obsolete (RFC 1442), still sent */
	VGL_BER_NOSUCHOBJECT = 0x80,
	VGL_BER_NOSUCHINSTANCE = 0x81,
	VGL_BER_ENDOFMIBVIEW = 0x82,
	VGL_BER_GET_REQUEST = 0xa0,
	VGL_BER_RESPONSE = 0xa2,
	VGL_BER_REPORT = 0xa8,
};

/* SNMP's version field: 0 is v1, 1 is v2c, 3 is v3. */
#define VGL_BER_VERSION_2C 1

/* The longest OID contents we produce or accept: 128 arcs of at most
 * five octets each (net-snmp's MAX_OID_LEN). */
#define VGL_BER_OID_MAX 640

/* ---- encoding ---------------------------------------------------------- */

/* The contents octets of OBJECT IDENTIFIER arcs[0..n). arcs are
 * unsigned long, like net-snmp's oid, each at most 2^32 - 1. Returns the
 * length, or -1 when the OID is not encodable (fewer than two arcs, a
 * first arc above 2, a second arc of 40 or more under 0 or 1, an arc over
 * 32 bits, more than 128 arcs) or does not fit in cap. */
int vgl_ber_oid_encode(const unsigned long *arcs, size_t n, uint8_t *out, size_t cap);

/* One varbind asking for an OID: SEQUENCE { OBJECT IDENTIFIER, NULL }.
 * oid is contents octets (from vgl_ber_oid_encode). Returns the length,
 * or -1 when it does not fit in cap. */
int vgl_ber_vb_null(const uint8_t *oid, size_t oid_len, uint8_t *out, size_t cap);

/* A whole v2c GetRequest message: SEQUENCE { version 1, community,
 * GetRequest-PDU { request_id, 0, 0, SEQUENCE { vbs } } }, where vbs is
 * vbs_len octets of concatenated varbinds (vgl_ber_vb_null). Returns the
 * message length, or -1 when it does not fit in cap. */
int vgl_ber_get_request(const uint8_t *community, size_t community_len, int32_t request_id,
			const uint8_t *vbs, size_t vbs_len, uint8_t *out, size_t cap);

/* ---- decoding ---------------------------------------------------------- */

/* A v1/v2c message: what the envelope and PDU header say. Pointers are
 * into the buffer given to vgl_ber_msg_parse. */
struct vgl_ber_msg {
	int64_t version;
	const uint8_t *community;
	size_t community_len;
	uint8_t pdu_type;               /* VGL_BER_RESPONSE, ... */
	int32_t request_id;
	int64_t error_status;
	int64_t error_index;
	const uint8_t *vbs;             /* contents of the varbind list */
	size_t vbs_len;
};

/* Parses the message in buf[0..len): version, community, and a PDU with
 * request-id, error-status, error-index and varbind list (the shape of
 * every v1/v2c PDU but v1's Trap). Checks structure only: the caller
 * decides what version, type and community it accepts. Bytes after the
 * message are an error. Returns 0, or -1 with *why set to a static
 * description of the first problem. */
int vgl_ber_msg_parse(const uint8_t *buf, size_t len, struct vgl_ber_msg *m, const char **why);

/* One varbind. Pointers are into the message. */
struct vgl_ber_vb {
	const uint8_t *oid;             /* contents octets of the name */
	size_t oid_len;
	uint8_t type;                   /* tag of the value */
	const uint8_t *val;             /* contents octets of the value */
	size_t val_len;
};

/* Takes the varbind at *pos (< end) and advances *pos past it. Returns 1
 * with *vb filled, 0 when *pos == end (the list is done), -1 when the
 * varbind is malformed (*why set): not exactly SEQUENCE { OBJECT
 * IDENTIFIER of 1 to VGL_BER_OID_MAX octets, one value of any single-
 * octet tag }. Start with *pos = m->vbs and end = m->vbs + m->vbs_len. */
int vgl_ber_vb_next(const uint8_t **pos, const uint8_t *end, struct vgl_ber_vb *vb,
		    const char **why);

/* The value of a numeric varbind: INTEGER (signed, up to 64 bits),
 * Counter32, Gauge32, TimeTicks, UInteger32 (unsigned 32 bits), Counter64
 * (unsigned 64 bits, exact below 2^53 as a double). Unsigned types take
 * up to 8 octets plus a leading zero and are cut to their width, as
 * net-snmp reads them. An INTEGER wider than 32 bits (outside Integer32)
 * keeps its value, where net-snmp cuts it to 32 bits. Returns 0, or -1
 * when the type is not one of these or its contents are empty or too
 * long (*why set). */
int vgl_ber_vb_number(const struct vgl_ber_vb *vb, double *out, const char **why);

/* OID contents octets as dotted decimal ("1.3.6.1.2.1.1.3.0") in buf,
 * for logs: always NUL-terminated, cut with "..." when cap is short,
 * "(invalid OID)" when the octets are not a valid encoding. */
void vgl_ber_oid_text(const uint8_t *oid, size_t len, char *buf, size_t cap);

#endif
