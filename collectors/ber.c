/* SNMPv2c GET messages in BER: see ber.h for the contract.
 *
 * Encoding computes every nested length first and then writes forward
 * once, so nothing is moved after it is written. Decoding walks the
 * buffer with one bounds-checked header reader (tlv) whose end pointer is
 * always the end of the enclosing element: a length is trusted only after
 * it has been compared with what is left of its parent. */
#include "collectors/ber.h"

#include <limits.h>
#include <stdbool.h>
#include <string.h>

/* ---- encoding ---------------------------------------------------------- */

/* Octets needed for a definite length n (up to four length octets). */
static inline size_t len_size(size_t n)
{
	if (n < 0x80)
		return 1;
	if (n <= 0xff)
		return 2;
	if (n <= 0xffff)
		return 3;
	if (n <= 0xffffff)
		return 4;
	return 5;
}

static inline uint8_t *put_len(uint8_t *p, size_t n)
{
	if (n < 0x80) {
		*p++ = (uint8_t)n;
	} else if (n <= 0xff) {
		*p++ = 0x81;
		*p++ = (uint8_t)n;
	} else if (n <= 0xffff) {
		*p++ = 0x82;
		*p++ = (uint8_t)(n >> 8);
		*p++ = (uint8_t)n;
	} else if (n <= 0xffffff) {
		*p++ = 0x83;
		*p++ = (uint8_t)(n >> 16);
		*p++ = (uint8_t)(n >> 8);
		*p++ = (uint8_t)n;
	} else {
		*p++ = 0x84;
		*p++ = (uint8_t)(n >> 24);
		*p++ = (uint8_t)(n >> 16);
		*p++ = (uint8_t)(n >> 8);
		*p++ = (uint8_t)n;
	}
	return p;
}

/* Base-128 octets of one subidentifier (at most 2^32 + 79, the largest
 * first subidentifier, so at most five octets). */
static inline size_t subid_size(uint64_t v)
{
	if (v < (1u << 7))
		return 1;
	if (v < (1u << 14))
		return 2;
	if (v < (1u << 21))
		return 3;
	if (v < (1u << 28))
		return 4;
	return 5;
}

static inline uint8_t *put_subid(uint8_t *p, uint64_t v, size_t k)
{
	for (size_t i = k - 1; i > 0; i--)
		*p++ = (uint8_t)(0x80 | (v >> (7 * i)));
	*p++ = (uint8_t)(v & 0x7f);
	return p;
}

int vgl_ber_oid_encode(const unsigned long *arcs, size_t n, uint8_t *out, size_t cap)
{
	size_t need, sz[128];
	uint64_t first;
	uint8_t *p = out;

	if (n < 2 || n > 128 || arcs[0] > 2 || (arcs[0] < 2 && arcs[1] >= 40))
		return -1;
	for (size_t i = 1; i < n; i++)
		if (arcs[i] > 0xffffffffUL)
			return -1;
	first = (uint64_t)arcs[0] * 40 + arcs[1];
	sz[0] = subid_size(first);
	need = sz[0];
	for (size_t i = 2; i < n; i++) {
		sz[i - 1] = subid_size(arcs[i]);
		need += sz[i - 1];
	}
	if (need > cap)
		return -1;
	p = put_subid(p, first, sz[0]);
	for (size_t i = 2; i < n; i++)
		p = put_subid(p, arcs[i], sz[i - 1]);
	return (int)need;
}

int vgl_ber_vb_null(const uint8_t *oid, size_t oid_len, uint8_t *out, size_t cap)
{
	size_t inner, total;
	uint8_t *p = out;

	/* The bound keeps the sums below from overflowing; no OID we accept
	 * comes near it. */
	if (oid_len > VGL_BER_OID_MAX * 1024)
		return -1;
	inner = 1 + len_size(oid_len) + oid_len + 2;
	total = 1 + len_size(inner) + inner;
	if (total > cap)
		return -1;
	*p++ = VGL_BER_SEQUENCE;
	p = put_len(p, inner);
	*p++ = VGL_BER_OID;
	p = put_len(p, oid_len);
	memcpy(p, oid, oid_len);
	p += oid_len;
	*p++ = VGL_BER_NULL;
	*p = 0;
	return (int)total;
}

/* Minimal two's complement octets of v (1 to 4). */
static inline size_t int32_size(int32_t v)
{
	if (v >= -0x80 && v <= 0x7f)
		return 1;
	if (v >= -0x8000 && v <= 0x7fff)
		return 2;
	if (v >= -0x800000 && v <= 0x7fffff)
		return 3;
	return 4;
}

int vgl_ber_get_request(const uint8_t *community, size_t community_len, int32_t request_id,
			const uint8_t *vbs, size_t vbs_len, uint8_t *out, size_t cap)
{
	size_t rid_len, pdu_inner, msg_inner, total;
	uint32_t rid = (uint32_t)request_id;
	uint8_t *p = out;

	/* Four length octets and an int result bound the message; these two
	 * checks keep every sum below far from overflow. */
	if (community_len > INT_MAX / 4 || vbs_len > INT_MAX / 4)
		return -1;
	rid_len = int32_size(request_id);
	pdu_inner = (2 + rid_len) + 3 + 3 + (1 + len_size(vbs_len) + vbs_len);
	msg_inner = 3 + (1 + len_size(community_len) + community_len) +
		    (1 + len_size(pdu_inner) + pdu_inner);
	total = 1 + len_size(msg_inner) + msg_inner;
	if (total > cap || total > INT_MAX)
		return -1;

	*p++ = VGL_BER_SEQUENCE;
	p = put_len(p, msg_inner);
	*p++ = VGL_BER_INTEGER;
	*p++ = 1;
	*p++ = VGL_BER_VERSION_2C;
	*p++ = VGL_BER_OCTET_STRING;
	p = put_len(p, community_len);
	if (community_len)
		memcpy(p, community, community_len);
	p += community_len;
	*p++ = VGL_BER_GET_REQUEST;
	p = put_len(p, pdu_inner);
	*p++ = VGL_BER_INTEGER;
	*p++ = (uint8_t)rid_len;
	for (size_t i = rid_len; i > 0; i--)
		*p++ = (uint8_t)(rid >> (8 * (i - 1)));
	/* error-status 0, error-index 0 */
	*p++ = VGL_BER_INTEGER;
	*p++ = 1;
	*p++ = 0;
	*p++ = VGL_BER_INTEGER;
	*p++ = 1;
	*p++ = 0;
	*p++ = VGL_BER_SEQUENCE;
	p = put_len(p, vbs_len);
	if (vbs_len)
		memcpy(p, vbs, vbs_len);
	return (int)total;
}

/* ---- decoding ---------------------------------------------------------- */

/* The elements a message is made of, each with its own error texts so a
 * `why` names both the element and the problem. */
enum elem {
	EL_MESSAGE,
	EL_VERSION,
	EL_COMMUNITY,
	EL_PDU,
	EL_REQUEST_ID,
	EL_ERROR_STATUS,
	EL_ERROR_INDEX,
	EL_VB_LIST,
	EL_VB,
	EL_VB_NAME,
	EL_VB_VALUE,
	EL_COUNT
};

enum tlv_err {
	TE_TRUNC,
	TE_HIGHTAG,
	TE_TAG,
	TE_INDEF,
	TE_LENLEN,
	TE_PAST,
	TE_COUNT
};

#define ELEM_WHYS(name, tagdesc, parent)                                       \
	{                                                                      \
		[TE_TRUNC] = name " header is truncated",                      \
		[TE_HIGHTAG] = name " uses a high-tag-number tag",             \
		[TE_TAG] = name " is not " tagdesc,                            \
		[TE_INDEF] = name " has an indefinite length",                 \
		[TE_LENLEN] = name " length has more than 4 length octets",    \
		[TE_PAST] = name " runs past its " parent,                     \
	}

static const char *const tlv_why[EL_COUNT][TE_COUNT] = {
	[EL_MESSAGE] = ELEM_WHYS("message", "a SEQUENCE", "datagram"),
	[EL_VERSION] = ELEM_WHYS("version", "an INTEGER", "message"),
	[EL_COMMUNITY] = ELEM_WHYS("community", "an OCTET STRING", "message"),
	[EL_PDU] = ELEM_WHYS("PDU", "a PDU tag (0xa0..0xa8)", "message"),
	[EL_REQUEST_ID] = ELEM_WHYS("request-id", "an INTEGER", "PDU"),
	[EL_ERROR_STATUS] = ELEM_WHYS("error-status", "an INTEGER", "PDU"),
	[EL_ERROR_INDEX] = ELEM_WHYS("error-index", "an INTEGER", "PDU"),
	[EL_VB_LIST] = ELEM_WHYS("varbind list", "a SEQUENCE", "PDU"),
	[EL_VB] = ELEM_WHYS("varbind", "a SEQUENCE", "varbind list"),
	[EL_VB_NAME] = ELEM_WHYS("varbind name", "an OBJECT IDENTIFIER", "varbind"),
	[EL_VB_VALUE] = ELEM_WHYS("varbind value", "a value", "varbind"),
};

/* The tag each element must have; 0 for any, and the PDU's range is
 * checked apart. */
static const uint8_t elem_tag[EL_COUNT] = {
	[EL_MESSAGE] = VGL_BER_SEQUENCE,
	[EL_VERSION] = VGL_BER_INTEGER,
	[EL_COMMUNITY] = VGL_BER_OCTET_STRING,
	[EL_REQUEST_ID] = VGL_BER_INTEGER,
	[EL_ERROR_STATUS] = VGL_BER_INTEGER,
	[EL_ERROR_INDEX] = VGL_BER_INTEGER,
	[EL_VB_LIST] = VGL_BER_SEQUENCE,
	[EL_VB] = VGL_BER_SEQUENCE,
	[EL_VB_NAME] = VGL_BER_OID,
};

/* Reads the identifier and length octets of element el at *pp, which
 * must lie wholly before end (the end of its parent). On success *pp is
 * at the contents, which are *len octets that fit before end. */
static inline int tlv(const uint8_t **pp, const uint8_t *end, enum elem el, uint8_t *tag,
		      size_t *len, const char **why)
{
	const uint8_t *p = *pp;
	size_t n;
	uint8_t t, b;
	enum tlv_err e;

	if (end - p < 2) {
		e = TE_TRUNC;
		goto fail;
	}
	t = p[0];
	b = p[1];
	p += 2;
	if ((t & 0x1f) == 0x1f) {
		e = TE_HIGHTAG;
		goto fail;
	}
	if (el == EL_PDU ? (t < 0xa0 || t > 0xa8) : (elem_tag[el] && t != elem_tag[el])) {
		e = TE_TAG;
		goto fail;
	}
	if (b < 0x80) {
		n = b;
	} else {
		size_t k = b & 0x7f;
		if (k == 0) {
			e = TE_INDEF;
			goto fail;
		}
		if (k > 4) {
			e = TE_LENLEN;
			goto fail;
		}
		if ((size_t)(end - p) < k) {
			e = TE_TRUNC;
			goto fail;
		}
		n = 0;
		for (size_t i = 0; i < k; i++)
			n = (n << 8) | p[i];
		p += k;
	}
	if (n > (size_t)(end - p)) {
		e = TE_PAST;
		goto fail;
	}
	*tag = t;
	*len = n;
	*pp = p;
	return 0;
fail:
	*why = tlv_why[el][e];
	return -1;
}

/* Two's complement value of p[0..n), 1 <= n <= 8. The arithmetic is on
 * uint64_t so no shift touches a negative number. */
static inline uint64_t twos(const uint8_t *p, size_t n)
{
	uint64_t u = (p[0] & 0x80) ? ~(uint64_t)0 : 0;

	for (size_t i = 0; i < n; i++)
		u = (u << 8) | p[i];
	return u;
}

/* An INTEGER element of at most max octets, read as signed. */
static int get_int(const uint8_t **pp, const uint8_t *end, enum elem el, size_t max, int64_t *v,
		   const char **why, const char *why_empty, const char *why_long)
{
	uint8_t tag;
	size_t n;

	if (tlv(pp, end, el, &tag, &n, why) != 0)
		return -1;
	if (n == 0) {
		*why = why_empty;
		return -1;
	}
	if (n > max) {
		*why = why_long;
		return -1;
	}
	*v = (int64_t)twos(*pp, n);
	*pp += n;
	return 0;
}

int vgl_ber_msg_parse(const uint8_t *buf, size_t len, struct vgl_ber_msg *m, const char **why)
{
	const uint8_t *p = buf, *end = buf + len, *pdu_end;
	uint8_t tag;
	size_t n;
	int64_t rid;

	if (tlv(&p, end, EL_MESSAGE, &tag, &n, why) != 0)
		return -1;
	if (n != (size_t)(end - p)) {
		*why = "bytes after the message";
		return -1;
	}
	if (get_int(&p, end, EL_VERSION, 8, &m->version, why, "version is empty",
		    "version longer than 8 octets") != 0)
		return -1;
	if (tlv(&p, end, EL_COMMUNITY, &tag, &n, why) != 0)
		return -1;
	m->community = p;
	m->community_len = n;
	p += n;
	if (tlv(&p, end, EL_PDU, &tag, &n, why) != 0)
		return -1;
	if (n != (size_t)(end - p)) {
		*why = "bytes after the PDU in the message";
		return -1;
	}
	m->pdu_type = tag;
	pdu_end = p + n;
	if (get_int(&p, pdu_end, EL_REQUEST_ID, 4, &rid, why, "request-id is empty",
		    "request-id longer than 4 octets") != 0)
		return -1;
	m->request_id = (int32_t)rid;
	if (get_int(&p, pdu_end, EL_ERROR_STATUS, 8, &m->error_status, why,
		    "error-status is empty", "error-status longer than 8 octets") != 0)
		return -1;
	if (get_int(&p, pdu_end, EL_ERROR_INDEX, 8, &m->error_index, why,
		    "error-index is empty", "error-index longer than 8 octets") != 0)
		return -1;
	if (tlv(&p, pdu_end, EL_VB_LIST, &tag, &n, why) != 0)
		return -1;
	if (n != (size_t)(pdu_end - p)) {
		*why = "bytes after the varbind list in the PDU";
		return -1;
	}
	m->vbs = p;
	m->vbs_len = n;
	return 0;
}

int vgl_ber_vb_next(const uint8_t **pos, const uint8_t *end, struct vgl_ber_vb *vb,
		    const char **why)
{
	const uint8_t *p = *pos, *vb_end;
	uint8_t tag;
	size_t n;

	if (p >= end)
		return 0;
	if (tlv(&p, end, EL_VB, &tag, &n, why) != 0)
		return -1;
	vb_end = p + n;
	if (tlv(&p, vb_end, EL_VB_NAME, &tag, &n, why) != 0)
		return -1;
	if (n == 0) {
		*why = "varbind name is empty";
		return -1;
	}
	if (n > VGL_BER_OID_MAX) {
		*why = "varbind name longer than 640 octets";
		return -1;
	}
	vb->oid = p;
	vb->oid_len = n;
	p += n;
	if (tlv(&p, vb_end, EL_VB_VALUE, &tag, &n, why) != 0)
		return -1;
	vb->type = tag;
	vb->val = p;
	vb->val_len = n;
	p += n;
	if (p != vb_end) {
		*why = "bytes after the value in a varbind";
		return -1;
	}
	*pos = p;
	return 1;
}

/* An unsigned type of `bits` bits, read as net-snmp 5.9 reads it (so that
 * switching a source's engine never changes a value): up to 8 octets plus
 * one leading zero octet, read as a plain unsigned number (0x80 reads
 * 128, not 2^32 - 128: net-snmp does not extend the sign of unsigned
 * types) and cut to the type's width. Agents that leave out the leading
 * zero, pad with zeros or send a 64-bit number in a 32-bit type thus read
 * as they do through net-snmp. */
static int get_unsigned(const struct vgl_ber_vb *vb, unsigned bits, uint64_t *u,
			const char **why, const char *why_long)
{
	const uint8_t *v = vb->val;
	size_t n = vb->val_len, max = 8;

	if (n == 0) {
		*why = "number is empty";
		return -1;
	}
	if (n > max + 1 || (n == max + 1 && v[0] != 0)) {
		*why = why_long;
		return -1;
	}
	if (n == max + 1) {
		v++;
		n--;
	}
	{
		uint64_t x = 0;
		for (size_t i = 0; i < n; i++)
			x = (x << 8) | v[i];
		*u = bits < 64 ? x & (((uint64_t)1 << bits) - 1) : x;
	}
	return 0;
}

int vgl_ber_vb_number(const struct vgl_ber_vb *vb, double *out, const char **why)
{
	uint64_t u;

	switch (vb->type) {
	case VGL_BER_INTEGER:
		if (vb->val_len == 0) {
			*why = "number is empty";
			return -1;
		}
		if (vb->val_len > 8) {
			*why = "INTEGER longer than 8 octets";
			return -1;
		}
		*out = (double)(int64_t)twos(vb->val, vb->val_len);
		return 0;
	case VGL_BER_COUNTER32:
	case VGL_BER_GAUGE32:
	case VGL_BER_TIMETICKS:
	case VGL_BER_UINTEGER32:
		if (get_unsigned(vb, 32, &u, why, "unsigned number longer than 8 octets") != 0)
			return -1;
		*out = (double)u;
		return 0;
	case VGL_BER_COUNTER64:
		if (get_unsigned(vb, 64, &u, why, "Counter64 longer than 8 octets") != 0)
			return -1;
		*out = (double)u;
		return 0;
	default:
		*why = "not a number";
		return -1;
	}
}

/* ---- OID text ---------------------------------------------------------- */

/* A bounded writer: text past cap - 1 is dropped and remembered, and
 * finish() puts "..." over the tail when anything was. */
struct tw {
	char *buf;
	size_t cap, n;
	bool cut;
};

static void tw_put(struct tw *w, const char *s, size_t k)
{
	size_t room = w->cap - 1 - w->n;

	if (k > room) {
		k = room;
		w->cut = true;
	}
	memcpy(w->buf + w->n, s, k);
	w->n += k;
}

static void tw_u64(struct tw *w, uint64_t v, bool dot)
{
	char tmp[24];
	char *e = tmp + sizeof(tmp), *s = e;

	do {
		*--s = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	if (dot)
		*--s = '.';
	tw_put(w, s, (size_t)(e - s));
}

static void tw_finish(struct tw *w)
{
	if (w->cut) {
		size_t dots = w->cap - 1 < 3 ? w->cap - 1 : 3;
		w->n = w->cap - 1 - dots;
		/* "1.3.6...", not "1.3.6....": the dots replace a cut separator. */
		while (w->n > 0 && w->buf[w->n - 1] == '.')
			w->n--;
		memcpy(w->buf + w->n, "...", dots);
		w->n += dots;
	}
	w->buf[w->n] = '\0';
}

void vgl_ber_oid_text(const uint8_t *oid, size_t len, char *buf, size_t cap)
{
	struct tw w = { .buf = buf, .cap = cap };
	bool first = true;
	size_t i = 0;

	if (cap == 0)
		return;
	if (len == 0)
		goto out_invalid;
	while (i < len) {
		uint64_t v = 0;

		/* X.690 8.19.2: no leading 0x80 octet in a subidentifier. */
		if (oid[i] == 0x80)
			goto out_invalid;
		for (;;) {
			uint8_t b;
			if (i == len)
				goto out_invalid;       /* last octet continues */
			b = oid[i++];
			v = (v << 7) | (b & 0x7f);
			/* The first subidentifier may reach 2^32 - 1 + 80. */
			if (v > 0xffffffffULL + 80)
				goto out_invalid;
			if (!(b & 0x80))
				break;
		}
		if (first) {
			uint64_t x = v < 40 ? 0 : v < 80 ? 1 : 2;
			v -= x * 40;
			if (v > 0xffffffffULL)
				goto out_invalid;
			if (!w.cut) {
				tw_u64(&w, x, false);
				tw_u64(&w, v, true);
			}
			first = false;
		} else {
			if (v > 0xffffffffULL)
				goto out_invalid;
			if (!w.cut)
				tw_u64(&w, v, true);
		}
	}
	tw_finish(&w);
	return;
out_invalid:
	w.n = 0;
	w.cut = false;
	tw_put(&w, "(invalid OID)", 13);
	tw_finish(&w);
}
