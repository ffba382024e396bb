/* collectors/ber.c: against net-snmp as an oracle in both directions,
 * hand-made messages for every rejection, a seeded fuzz run for bounds
 * (meant for the SAN build) and a cost measurement. */
#include "test/test.h"

#include <time.h>

#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>
#include <net-snmp/library/snmp_impl.h>

#include "collectors/ber.h"

/* ---- a tiny assembler for hand-made messages ------------------------------
 * Hex byte pairs; 'text' for raw characters; {...} for contents preceded
 * by their minimal definite length, <...> with a one-octet long form
 * (0x81 n) and [...] with a two-octet long form (0x82 n n). So a test
 * writes structure and lets the lengths follow, or writes a length by
 * hand where the length is the point. */

#define ASM_MAX 8192

static size_t asm_seq(const char **s, uint8_t *out, size_t cap, char close);

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static size_t asm_seq(const char **s, uint8_t *out, size_t cap, char close)
{
	size_t n = 0;

	for (;;) {
		char c = **s;
		if (c == ' ' || c == '\n') {
			(*s)++;
			continue;
		}
		if (c == close) {
			if (c)
				(*s)++;
			return n;
		}
		ASSERT(c != '\0');
		(*s)++;
		if (c == '{' || c == '<' || c == '[') {
			uint8_t *tmp = malloc(ASM_MAX);
			size_t k;
			ASSERT(tmp);
			k = asm_seq(s, tmp, ASM_MAX, c == '{' ? '}' : c == '<' ? '>' : ']');
			ASSERT(n + k + 5 <= cap);
			if (c == '<') {
				ASSERT(k <= 0xff);
				out[n++] = 0x81;
				out[n++] = (uint8_t)k;
			} else if (c == '[') {
				ASSERT(k <= 0xffff);
				out[n++] = 0x82;
				out[n++] = (uint8_t)(k >> 8);
				out[n++] = (uint8_t)k;
			} else if (k < 0x80) {
				out[n++] = (uint8_t)k;
			} else if (k <= 0xff) {
				out[n++] = 0x81;
				out[n++] = (uint8_t)k;
			} else {
				ASSERT(k <= 0xffff);
				out[n++] = 0x82;
				out[n++] = (uint8_t)(k >> 8);
				out[n++] = (uint8_t)k;
			}
			memcpy(out + n, tmp, k);
			n += k;
			free(tmp);
		} else if (c == '\'') {
			while (**s && **s != '\'') {
				ASSERT(n < cap);
				out[n++] = (uint8_t) * (*s)++;
			}
			ASSERT(**s == '\'');
			(*s)++;
		} else {
			int hi = hexval(c), lo = hexval(**s);
			ASSERT(hi >= 0 && lo >= 0);
			(*s)++;
			ASSERT(n < cap);
			out[n++] = (uint8_t)(hi << 4 | lo);
		}
	}
}

static size_t asm_msg(const char *spec, uint8_t *out, size_t cap)
{
	return asm_seq(&spec, out, cap, '\0');
}

/* ---- helpers ---------------------------------------------------------------- */

/* Parses and walks every varbind. Returns the varbind count, or -1 with
 * *why set by whichever step failed. */
static int parse_all(const uint8_t *buf, size_t len, struct vgl_ber_msg *m, const char **why)
{
	const uint8_t *p, *end;
	struct vgl_ber_vb vb;
	int r, count = 0;

	if (vgl_ber_msg_parse(buf, len, m, why) != 0)
		return -1;
	p = m->vbs;
	end = m->vbs + m->vbs_len;
	while ((r = vgl_ber_vb_next(&p, end, &vb, why)) == 1)
		count++;
	return r < 0 ? -1 : count;
}

/* Parses a message written in the assembler's notation and expects it to
 * fail with a why containing `needle`. */
static void expect_reject(const char *spec, const char *needle)
{
	uint8_t buf[ASM_MAX];
	size_t n = asm_msg(spec, buf, sizeof(buf));
	struct vgl_ber_msg m;
	const char *why = NULL;
	uint8_t *exact = malloc(n ? n : 1);

	ASSERT(exact);
	memcpy(exact, buf, n);
	if (parse_all(exact, n, &m, &why) != -1) {
		fprintf(stderr, "accepted: %s\n", spec);
		ASSERT(0);
	}
	ASSERT_CONTAINS(why, needle);
	free(exact);
}

static void expect_accept(const char *spec, int nvbs)
{
	uint8_t buf[ASM_MAX];
	size_t n = asm_msg(spec, buf, sizeof(buf));
	struct vgl_ber_msg m;
	const char *why = NULL;
	int r = parse_all(buf, n, &m, &why);

	if (r != nvbs)
		fprintf(stderr, "%s: %s\n", spec, why ? why : "(no why)");
	ASSERT_EQ(r, nvbs);
}

/* The envelope and PDU header of a valid Response around a varbind list;
 * %s is the varbind list's contents. */
#define HDR "30{02 01 01 04{'public'} a2{02 01 2a 02 01 00 02 01 00 30{"
#define TLR "}}}"
#define VB_UPTIME "30{06{2b 06 01 02 01 01 03 00} 43 02 01 00}"

static void net_snmp_init(void)
{
	netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DONT_READ_CONFIGS, 1);
	netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DONT_PERSIST_STATE, 1);
	netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DISABLE_PERSISTENT_LOAD, 1);
	netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DISABLE_PERSISTENT_SAVE, 1);
	snmp_disable_log();
}

/* ---- oracle: net-snmp encodes, we decode ------------------------------------ */

struct want_vb {
	oid name[16];
	size_t name_len;
	u_char type;
};

TEST(ber_oracle_response_from_net_snmp)
{
	static const oid base[] = { 1, 3, 6, 1, 4, 1, 99999, 1 };
	static const oid oid_val[] = { 1, 3, 6, 1, 4, 1, 8072, 3, 2, 10 };
	static const u_char ip[4] = { 10, 1, 2, 254 };
	static const char str[] = "hello\0\xffworld";
	long i_pos = 42, i_neg = -123456, i_min = -2147483647L - 1;
	u_long c32 = 0xffffffffUL, g32 = 1000000000UL, tt = 8640000UL;
	struct counter64 c64 = { .high = 5, .low = 7 };
	const u_char community[] = "pub\x01lic\xfe";
	const size_t community_len = sizeof(community) - 1;
	struct {
		u_char type;
		const void *val;
		size_t len;
		int numeric;            /* 1: vb_number must give num */
		double num;
	} v[] = {
		{ ASN_INTEGER, &i_pos, sizeof(i_pos), 1, 42 },
		{ ASN_INTEGER, &i_neg, sizeof(i_neg), 1, -123456 },
		{ ASN_INTEGER, &i_min, sizeof(i_min), 1, -2147483648.0 },
		{ ASN_COUNTER, &c32, sizeof(c32), 1, 4294967295.0 },
		{ ASN_GAUGE, &g32, sizeof(g32), 1, 1e9 },
		{ ASN_TIMETICKS, &tt, sizeof(tt), 1, 8640000 },
		{ ASN_COUNTER64, &c64, sizeof(c64), 1, 5.0 * 4294967296.0 + 7 },
		{ ASN_OCTET_STR, str, sizeof(str) - 1, 0, 0 },
		{ ASN_OBJECT_ID, oid_val, sizeof(oid_val), 0, 0 },
		{ ASN_IPADDRESS, ip, sizeof(ip), 0, 0 },
		{ ASN_NULL, NULL, 0, 0, 0 },
		{ SNMP_NOSUCHOBJECT, NULL, 0, 0, 0 },
		{ SNMP_NOSUCHINSTANCE, NULL, 0, 0, 0 },
		{ SNMP_ENDOFMIBVIEW, NULL, 0, 0, 0 },
	};
	const size_t nv = sizeof(v) / sizeof(v[0]);
	netsnmp_session sess;
	netsnmp_pdu *pdu;
	u_char *pkt;
	size_t pkt_len = 4096, offset = 0;
	const uint8_t *msg, *p, *end;
	size_t msg_len;
	struct vgl_ber_msg m;
	struct vgl_ber_vb vb;
	const char *why = NULL;

	net_snmp_init();
	snmp_sess_init(&sess);
	sess.version = SNMP_VERSION_2c;
	sess.community = (u_char *)community;
	sess.community_len = community_len;

	pdu = snmp_pdu_create(SNMP_MSG_RESPONSE);
	ASSERT(pdu);
	pdu->version = SNMP_VERSION_2c;
	/* snmp_build takes the community from the PDU; only the send path
	 * copies the session's in. */
	pdu->community = malloc(community_len);
	ASSERT(pdu->community);
	memcpy(pdu->community, community, community_len);
	pdu->community_len = community_len;
	pdu->reqid = 0x7654321;
	pdu->errstat = SNMP_ERR_GENERR;
	pdu->errindex = 9;
	for (size_t i = 0; i < nv; i++) {
		oid name[9];
		memcpy(name, base, sizeof(base));
		name[8] = i == 3 ? 200000 : i;   /* one multi-octet arc */
		ASSERT(snmp_pdu_add_variable(pdu, name, 9, v[i].type, v[i].val, v[i].len));
	}
	pkt = malloc(pkt_len);
	ASSERT(pkt);
	ASSERT_EQ(snmp_build(&pkt, &pkt_len, &offset, &sess, pdu), 0);
	/* The reverse encoder writes backwards from the end of the buffer. */
	if (pdu->flags & UCD_MSG_FLAG_FORWARD_ENCODE)
		msg = pkt;
	else
		msg = pkt + pkt_len - offset;
	msg_len = offset;

	ASSERT_EQ(vgl_ber_msg_parse(msg, msg_len, &m, &why), 0);
	ASSERT_EQ(m.version, VGL_BER_VERSION_2C);
	ASSERT_EQ(m.community_len, community_len);
	ASSERT(memcmp(m.community, community, community_len) == 0);
	ASSERT_EQ(m.pdu_type, VGL_BER_RESPONSE);
	ASSERT_EQ(m.request_id, 0x7654321);
	ASSERT_EQ(m.error_status, SNMP_ERR_GENERR);
	ASSERT_EQ(m.error_index, 9);

	p = m.vbs;
	end = m.vbs + m.vbs_len;
	for (size_t i = 0; i < nv; i++) {
		unsigned long arcs[9];
		uint8_t enc[64];
		char text[128];
		double num = -1;
		int n;

		ASSERT_EQ(vgl_ber_vb_next(&p, end, &vb, &why), 1);
		for (size_t k = 0; k < 8; k++)
			arcs[k] = base[k];
		arcs[8] = i == 3 ? 200000 : i;
		n = vgl_ber_oid_encode(arcs, 9, enc, sizeof(enc));
		ASSERT_GT(n, 0);
		ASSERT_EQ(vb.oid_len, n);
		ASSERT(memcmp(vb.oid, enc, (size_t)n) == 0);
		ASSERT_EQ(vb.type, v[i].type);
		if (v[i].numeric) {
			ASSERT_EQ(vgl_ber_vb_number(&vb, &num, &why), 0);
			if (num != v[i].num) {
				fprintf(stderr, "varbind %zu: %.17g, want %.17g\n", i, num, v[i].num);
				ASSERT(0);
			}
			continue;
		}
		ASSERT_EQ(vgl_ber_vb_number(&vb, &num, &why), -1);
		ASSERT_STREQ(why, "not a number");
		switch (v[i].type) {
		case ASN_OCTET_STR:
		case ASN_IPADDRESS:
			ASSERT_EQ(vb.val_len, v[i].len);
			ASSERT(memcmp(vb.val, v[i].val, v[i].len) == 0);
			break;
		case ASN_OBJECT_ID:
			vgl_ber_oid_text(vb.val, vb.val_len, text, sizeof(text));
			ASSERT_STREQ(text, "1.3.6.1.4.1.8072.3.2.10");
			break;
		default:
			ASSERT_EQ(vb.val_len, 0);
		}
	}
	ASSERT_EQ(vgl_ber_vb_next(&p, end, &vb, &why), 0);
	free(pkt);
	snmp_free_pdu(pdu);
}

/* ---- oracle: we encode, net-snmp decodes ------------------------------------ */

TEST(ber_oracle_request_to_net_snmp)
{
	static const unsigned long oids[][12] = {
		{ 1, 3, 6, 1, 2, 1, 1, 3, 0 },
		{ 1, 3, 6, 1, 4, 1, 99999, 128, 129, 16383, 16384, 0 },
		{ 1, 3, 6, 1, 4, 1, 268435455, 268435456, 4294967295UL },
		{ 2, 999, 1, 2 },
		{ 0, 39 },
		{ 2, 4294967215UL },
	};
	/* 2.4294967295 is valid BER too (first subidentifier 2^32 + 79), but
	 * net-snmp refuses a first subidentifier over 32 bits: it is covered
	 * by ber_encode_oid_and_varbind and ber_oid_text instead. */
	static const size_t lens[] = { 9, 12, 9, 4, 2, 2 };
	const size_t noids = sizeof(lens) / sizeof(lens[0]);
	static const int32_t rids[] = { 1, 127, 128, 65535, 2147483647 };
	static const uint8_t community[] = { 'c', 0x00, 0xff, 0x80, '"', 'x' };
	uint8_t vbs[2048], msg[4096];
	size_t vbs_len = 0;

	net_snmp_init();
	for (size_t i = 0; i < noids; i++) {
		uint8_t enc[VGL_BER_OID_MAX];
		int n = vgl_ber_oid_encode(oids[i], lens[i], enc, sizeof(enc)), k;
		ASSERT_GT(n, 0);
		k = vgl_ber_vb_null(enc, (size_t)n, vbs + vbs_len, sizeof(vbs) - vbs_len);
		ASSERT_GT(k, 0);
		vbs_len += (size_t)k;
	}
	for (size_t r = 0; r < sizeof(rids) / sizeof(rids[0]); r++) {
		int len = vgl_ber_get_request(community, sizeof(community), rids[r], vbs, vbs_len,
					      msg, sizeof(msg));
		u_char comm[64], *data;
		size_t comm_len = sizeof(comm), length = (size_t)len;
		long version = -1;
		netsnmp_pdu *pdu;
		netsnmp_variable_list *var;
		size_t i = 0;

		ASSERT_GT(len, 0);
		data = snmp_comstr_parse(msg, &length, comm, &comm_len, &version);
		ASSERT(data);
		ASSERT_EQ(version, SNMP_VERSION_2c);
		ASSERT_EQ(comm_len, sizeof(community));
		ASSERT(memcmp(comm, community, comm_len) == 0);
		pdu = snmp_pdu_create(0);
		ASSERT(pdu);
		pdu->version = SNMP_VERSION_2c;
		ASSERT_EQ(snmp_pdu_parse(pdu, data, &length), 0);
		ASSERT_EQ(length, 0);   /* all of it consumed */
		ASSERT_EQ(pdu->command, SNMP_MSG_GET);
		ASSERT_EQ(pdu->reqid, rids[r]);
		ASSERT_EQ(pdu->errstat, 0);
		ASSERT_EQ(pdu->errindex, 0);
		for (var = pdu->variables; var; var = var->next_variable, i++) {
			ASSERT(i < noids);
			ASSERT_EQ(var->name_length, lens[i]);
			for (size_t k = 0; k < lens[i]; k++)
				ASSERT_EQ(var->name[k], oids[i][k]);
			ASSERT_EQ(var->type, ASN_NULL);
			ASSERT_EQ(var->val_len, 0);
		}
		ASSERT_EQ(i, noids);
		snmp_free_pdu(pdu);
	}
}

/* ---- encoding details ------------------------------------------------------- */

TEST(ber_encode_request_id_minimal)
{
	static const struct {
		int32_t rid;
		const char *hex;
	} c[] = {
		{ 0, "00" }, { 1, "01" }, { 127, "7f" }, { 128, "00 80" }, { 255, "00 ff" },
		{ 32767, "7f ff" }, { 65535, "00 ff ff" }, { 8388608, "00 80 00 00" },
		{ 2147483647, "7f ff ff ff" }, { -1, "ff" }, { -128, "80" }, { -129, "ff 7f" },
		{ -2147483647 - 1, "80 00 00 00" },
	};
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		uint8_t got[64], want[64];
		char spec[256];
		size_t wn;
		int n;
		struct vgl_ber_msg m;
		const char *why;

		snprintf(spec, sizeof(spec),
			 "30{02 01 01 04{'ab'} a0{02{%s} 02 01 00 02 01 00 30{}}}", c[i].hex);
		wn = asm_msg(spec, want, sizeof(want));
		n = vgl_ber_get_request((const uint8_t *)"ab", 2, c[i].rid, NULL, 0, got,
					sizeof(got));
		ASSERT_EQ(n, wn);
		if (memcmp(got, want, wn) != 0) {
			fprintf(stderr, "request-id %d encoded wrong\n", (int)c[i].rid);
			ASSERT(0);
		}
		ASSERT_EQ(vgl_ber_msg_parse(got, (size_t)n, &m, &why), 0);
		ASSERT_EQ(m.request_id, c[i].rid);
		ASSERT_EQ(m.pdu_type, VGL_BER_GET_REQUEST);
		/* One octet short of the message does not fit. */
		ASSERT_EQ(vgl_ber_get_request((const uint8_t *)"ab", 2, c[i].rid, NULL, 0, got,
					      wn - 1), -1);
	}
}

TEST(ber_encode_oid_and_varbind)
{
	unsigned long a[130];
	uint8_t out[VGL_BER_OID_MAX + 16], vb[VGL_BER_OID_MAX + 16];
	uint8_t want[64];
	size_t wn;
	int n;

	a[0] = 1, a[1] = 3, a[2] = 6, a[3] = 1, a[4] = 127, a[5] = 128, a[6] = 16384,
	a[7] = 268435456, a[8] = 4294967295UL;
	n = vgl_ber_oid_encode(a, 9, out, sizeof(out));
	wn = asm_msg("2b 06 01 7f 81 00 81 80 00 81 80 80 80 00 8f ff ff ff 7f", want,
		     sizeof(want));
	ASSERT_EQ(n, wn);
	ASSERT(memcmp(out, want, wn) == 0);
	ASSERT_EQ(vgl_ber_oid_encode(a, 9, out, wn - 1), -1);
	ASSERT_EQ(vgl_ber_oid_encode(a, 9, out, wn), (int)wn);

	/* 2.x: the first subidentifier is 80 + x, possibly multi-octet. */
	a[0] = 2, a[1] = 999;
	ASSERT_EQ(vgl_ber_oid_encode(a, 2, out, sizeof(out)), 2);
	ASSERT(out[0] == 0x88 && out[1] == 0x37);
	a[1] = 4294967295UL;
	ASSERT_EQ(vgl_ber_oid_encode(a, 2, out, sizeof(out)), 5);

	/* Not encodable. */
	a[0] = 1, a[1] = 3;
	ASSERT_EQ(vgl_ber_oid_encode(a, 1, out, sizeof(out)), -1);
	a[0] = 3;
	ASSERT_EQ(vgl_ber_oid_encode(a, 2, out, sizeof(out)), -1);
	a[0] = 1, a[1] = 40;
	ASSERT_EQ(vgl_ber_oid_encode(a, 2, out, sizeof(out)), -1);
	a[0] = 0, a[1] = 39;
	ASSERT_EQ(vgl_ber_oid_encode(a, 2, out, sizeof(out)), 1);
	a[1] = 1, a[2] = 4294967296UL;
	ASSERT_EQ(vgl_ber_oid_encode(a, 3, out, sizeof(out)), -1);
	a[0] = 2, a[1] = 4294967296UL;
	ASSERT_EQ(vgl_ber_oid_encode(a, 2, out, sizeof(out)), -1);
	for (size_t i = 0; i < 130; i++)
		a[i] = i < 2 ? 1 : 4294967295UL;
	ASSERT_EQ(vgl_ber_oid_encode(a, 128, out, sizeof(out)), 1 + 126 * 5);
	ASSERT_EQ(vgl_ber_oid_encode(a, 129, out, sizeof(out)), -1);

	/* A varbind, and one whose OID needs a long-form length. */
	n = vgl_ber_vb_null(want, 3, vb, sizeof(vb));
	ASSERT_EQ(n, 9);
	wn = asm_msg("30 07 06 03 2b 06 01 05 00", out, sizeof(out));
	ASSERT(memcmp(vb, out, wn) == 0);
	ASSERT_EQ(vgl_ber_vb_null(want, 3, vb, 8), -1);
	memset(out, 0x7f, 200);
	n = vgl_ber_vb_null(out, 200, vb, sizeof(vb));
	ASSERT_EQ(n, 1 + 2 + 1 + 2 + 200 + 2);
	ASSERT(vb[1] == 0x81 && vb[2] == 205 && vb[3] == 0x06 && vb[4] == 0x81 && vb[5] == 200);
}

/* 200 OIDs: the varbind list, PDU and message need two length octets. */
TEST(ber_request_200_oids)
{
	static uint8_t vbs[200 * 32], msg[200 * 32 + 64];
	size_t vbs_len = 0;
	unsigned long a[] = { 1, 3, 6, 1, 4, 1, 99999, 1, 0, 0 };
	struct vgl_ber_msg m;
	struct vgl_ber_vb vb;
	const uint8_t *p, *end;
	const char *why;
	int len, k;

	for (unsigned long i = 0; i < 200; i++) {
		uint8_t enc[64];
		int n;
		a[8] = i;
		a[9] = i * 1000;
		n = vgl_ber_oid_encode(a, 10, enc, sizeof(enc));
		ASSERT_GT(n, 0);
		k = vgl_ber_vb_null(enc, (size_t)n, vbs + vbs_len, sizeof(vbs) - vbs_len);
		ASSERT_GT(k, 0);
		vbs_len += (size_t)k;
	}
	ASSERT_GT(vbs_len, 255);
	len = vgl_ber_get_request((const uint8_t *)"public", 6, 77, vbs, vbs_len, msg, sizeof(msg));
	ASSERT_GT(len, 0);
	ASSERT_EQ(msg[1], 0x82);
	ASSERT_EQ(((size_t)msg[2] << 8 | msg[3]) + 4, len);
	ASSERT_EQ(vgl_ber_msg_parse(msg, (size_t)len, &m, &why), 0);
	ASSERT_EQ(m.vbs_len, vbs_len);
	ASSERT(memcmp(m.vbs, vbs, vbs_len) == 0);
	p = m.vbs;
	end = m.vbs + m.vbs_len;
	for (unsigned long i = 0; i < 200; i++) {
		char text[96], want[96];
		ASSERT_EQ(vgl_ber_vb_next(&p, end, &vb, &why), 1);
		ASSERT_EQ(vb.type, VGL_BER_NULL);
		vgl_ber_oid_text(vb.oid, vb.oid_len, text, sizeof(text));
		snprintf(want, sizeof(want), "1.3.6.1.4.1.99999.1.%lu.%lu", i, i * 1000);
		ASSERT_STREQ(text, want);
	}
	ASSERT_EQ(vgl_ber_vb_next(&p, end, &vb, &why), 0);

	/* And net-snmp reads it the same. */
	{
		u_char comm[16], *data;
		size_t comm_len = sizeof(comm), length = (size_t)len, count = 0;
		long version;
		netsnmp_pdu *pdu = snmp_pdu_create(0);
		netsnmp_variable_list *var;

		net_snmp_init();
		ASSERT(pdu);
		pdu->version = SNMP_VERSION_2c;
		data = snmp_comstr_parse(msg, &length, comm, &comm_len, &version);
		ASSERT(data);
		ASSERT_EQ(snmp_pdu_parse(pdu, data, &length), 0);
		for (var = pdu->variables; var; var = var->next_variable)
			count++;
		ASSERT_EQ(count, 200);
		snmp_free_pdu(pdu);
	}
}

/* ---- decoding: accepted shapes -------------------------------------------------- */

TEST(ber_parse_valid_and_long_form)
{
	uint8_t buf[512];
	size_t n;
	struct vgl_ber_msg m;
	struct vgl_ber_vb vb;
	const uint8_t *p;
	const char *why;
	double d;

	n = asm_msg(HDR VB_UPTIME TLR, buf, sizeof(buf));
	ASSERT_EQ(n, 42);
	ASSERT_EQ(vgl_ber_msg_parse(buf, n, &m, &why), 0);
	ASSERT_EQ(m.version, 1);
	ASSERT_EQ(m.community_len, 6);
	ASSERT(memcmp(m.community, "public", 6) == 0);
	ASSERT_EQ(m.pdu_type, VGL_BER_RESPONSE);
	ASSERT_EQ(m.request_id, 42);
	p = m.vbs;
	ASSERT_EQ(vgl_ber_vb_next(&p, m.vbs + m.vbs_len, &vb, &why), 1);
	ASSERT_EQ(vb.type, VGL_BER_TIMETICKS);
	ASSERT_EQ(vgl_ber_vb_number(&vb, &d, &why), 0);
	ASSERT(d == 256);

	/* Long-form lengths (not minimal, still definite) at every level. */
	n = asm_msg("30[02<01> 04<'public'> a2[02<2a> 02 01 00 02 [00] 30<"
		    "30<06<2b 06 01 02 01 01 03 00> 43[01 00]>>]]",
		    buf, sizeof(buf));
	ASSERT_EQ(vgl_ber_msg_parse(buf, n, &m, &why), 0);
	ASSERT_EQ(m.version, 1);
	ASSERT_EQ(m.request_id, 42);
	ASSERT_EQ(m.community_len, 6);
	p = m.vbs;
	ASSERT_EQ(vgl_ber_vb_next(&p, m.vbs + m.vbs_len, &vb, &why), 1);
	ASSERT_EQ(vb.oid_len, 8);
	ASSERT_EQ(vgl_ber_vb_number(&vb, &d, &why), 0);
	ASSERT(d == 256);
	ASSERT_EQ(vgl_ber_vb_next(&p, m.vbs + m.vbs_len, &vb, &why), 0);

	/* Four length octets. */
	expect_accept("30 84 00 00 00 25 02 01 01 04{'public'} a2{02 01 2a 02 01 00 02 01 00 "
		      "30 83 00 00 0a 30{06 03 2b 06 01 02 01 05}}", 1);

	/* Every context-constructed PDU tag is the caller's to judge. */
	for (unsigned t = 0xa0; t <= 0xa8; t++) {
		n = asm_msg(HDR VB_UPTIME TLR, buf, sizeof(buf));
		buf[13] = (uint8_t)t;
		ASSERT_EQ(vgl_ber_msg_parse(buf, n, &m, &why), 0);
		ASSERT_EQ(m.pdu_type, t);
	}
	/* An empty varbind list, a negative request-id, a big error-index. */
	expect_accept("30{02 01 01 04{} a2{02 01 ff 02 01 05 02 08 7f ff ff ff ff ff ff ff 30{}}}",
		      0);
	n = asm_msg("30{02 01 01 04{} a2{02 04 80 00 00 00 02 01 05 02 01 01 30{}}}", buf,
		    sizeof(buf));
	ASSERT_EQ(vgl_ber_msg_parse(buf, n, &m, &why), 0);
	ASSERT_EQ(m.request_id, INT32_MIN);
	ASSERT_EQ(m.error_status, 5);
	/* Any value tag, constructed too, is the caller's to judge. */
	expect_accept(HDR "30{06 02 2b 06 a5{02 01 00}} 30{06 01 2b 44{01 02}}" TLR, 2);
}

/* ---- decoding: rejections --------------------------------------------------- */

TEST(ber_reject_lengths)
{
	/* Indefinite length, at the message and inside. */
	expect_reject("30 80 02 01 01 04{'public'} a2{02 01 2a 02 01 00 02 01 00 30{}} 00 00",
		      "message has an indefinite length");
	expect_reject(HDR "30 80 06 03 2b 06 01 05 00 00 00" TLR,
		      "varbind has an indefinite length");
	/* More than four length octets. */
	expect_reject("30 85 00 00 00 00 1a 02 01 01 04{'public'} a2{02 01 2a 02 01 00 02 01 00 "
		      "30{}}",
		      "message length has more than 4 length octets");
	expect_reject(HDR "30{06 85 00 00 00 00 03 2b 06 01 05 00}" TLR,
		      "varbind name length has more than 4 length octets");
	/* 0x84 ff ff ff ff: a length far past everything. */
	expect_reject(HDR "30{06 84 ff ff ff ff 2b 06 01 05 00}" TLR,
		      "varbind name runs past its varbind");
	/* Lengths past the enclosing element, level by level. */
	expect_reject("30 23 02 01 01 04{'public'} a2{02 01 2a 02 01 00 02 01 00 30{}}",
		      "message runs past its datagram");
	expect_reject("30{02 01 01 04 7f 'public' a2{02 01 2a 02 01 00 02 01 00 30{}}}",
		      "community runs past its message");
	expect_reject("30{02 02 01}", "version runs past its message");
	expect_reject("30{02 01 01 04{'public'} a2 7f 02 01 2a 02 01 00 02 01 00 30{}}",
		      "PDU runs past its message");
	expect_reject("30{02 01 01 04{'public'} a2{02 0a 2a 02 01 00 02 01 00 30{}}}",
		      "request-id runs past its PDU");
	expect_reject("30{02 01 01 04{'public'} a2{02 01 2a 02 08 00 02 01 00 30{}}}",
		      "error-status runs past its PDU");
	expect_reject("30{02 01 01 04{'public'} a2{02 01 2a 02 01 00 02 04 00 30{}}}",
		      "error-index runs past its PDU");
	expect_reject("30{02 01 01 04{'public'} a2{02 01 2a 02 01 00 02 01 00 30 01}}",
		      "varbind list runs past its PDU");
	expect_reject(HDR "30 09 06 03 2b 06 01 02 01 05" TLR,
		      "varbind runs past its varbind list");
	expect_reject(HDR "30{06 09 2b 06 01 02 01 05}" TLR, "varbind name runs past its varbind");
	expect_reject(HDR "30{06 03 2b 06 01 02 02 05}" TLR,
		      "varbind value runs past its varbind");
	/* A header cut after its tag. */
	expect_reject(HDR "30{06 03 2b 06 01 02}" TLR, "varbind value header is truncated");
	expect_reject("30", "message header is truncated");
	expect_reject("", "message header is truncated");
	expect_reject("30 82 00", "message header is truncated");
}

TEST(ber_reject_tags)
{
	/* High-tag-number form. */
	expect_reject("3f{02 01 01}", "message uses a high-tag-number tag");
	expect_reject(HDR "30{06 03 2b 06 01 5f 01 05}" TLR,
		      "varbind value uses a high-tag-number tag");
	expect_reject("30{1f 01 01}", "version uses a high-tag-number tag");
	/* Wrong tags where one is required. */
	expect_reject("31{02 01 01 04{'public'} a2{02 01 2a 02 01 00 02 01 00 30{}}}",
		      "message is not a SEQUENCE");
	expect_reject("30{04 01 01 04{'public'} a2{02 01 2a 02 01 00 02 01 00 30{}}}",
		      "version is not an INTEGER");
	expect_reject("30{02 01 01 02{'public'} a2{02 01 2a 02 01 00 02 01 00 30{}}}",
		      "community is not an OCTET STRING");
	expect_reject("30{02 01 01 04{'public'} a9{02 01 2a 02 01 00 02 01 00 30{}}}",
		      "PDU is not a PDU tag");
	expect_reject("30{02 01 01 04{'public'} 30{02 01 2a 02 01 00 02 01 00 30{}}}",
		      "PDU is not a PDU tag");
	expect_reject("30{02 01 01 04{'public'} 82{02 01 2a 02 01 00 02 01 00 30{}}}",
		      "PDU is not a PDU tag");
	expect_reject("30{02 01 01 04{'public'} a2{04 01 2a 02 01 00 02 01 00 30{}}}",
		      "request-id is not an INTEGER");
	expect_reject("30{02 01 01 04{'public'} a2{02 01 2a 0a 01 00 02 01 00 30{}}}",
		      "error-status is not an INTEGER");
	expect_reject("30{02 01 01 04{'public'} a2{02 01 2a 02 01 00 41 01 00 30{}}}",
		      "error-index is not an INTEGER");
	expect_reject("30{02 01 01 04{'public'} a2{02 01 2a 02 01 00 02 01 00 31{}}}",
		      "varbind list is not a SEQUENCE");
	expect_reject(HDR "31{06 03 2b 06 01 05 00}" TLR, "varbind is not a SEQUENCE");
	expect_reject(HDR "30{04 03 2b 06 01 05 00}" TLR,
		      "varbind name is not an OBJECT IDENTIFIER");
	/* The first varbind good, the second bad: still an error. */
	expect_reject(HDR VB_UPTIME "30{05 00 05 00}" TLR,
		      "varbind name is not an OBJECT IDENTIFIER");
}

TEST(ber_reject_integers_and_trailing)
{
	expect_reject("30{02 00 04{'public'} a2{02 01 2a 02 01 00 02 01 00 30{}}}",
		      "version is empty");
	expect_reject("30{02 01 01 04{'public'} a2{02 00 02 01 00 02 01 00 30{}}}",
		      "request-id is empty");
	expect_reject("30{02 01 01 04{'public'} a2{02 01 2a 02 00 02 01 00 30{}}}",
		      "error-status is empty");
	expect_reject("30{02 01 01 04{'public'} a2{02 01 2a 02 01 00 02 00 30{}}}",
		      "error-index is empty");
	/* A request-id of five octets, even one whose value would fit. */
	expect_reject("30{02 01 01 04{'public'} a2{02 05 00 80 00 00 00 02 01 00 02 01 00 30{}}}",
		      "request-id longer than 4 octets");
	expect_reject("30{02 01 01 04{'public'} a2{02 05 00 00 00 00 01 02 01 00 02 01 00 30{}}}",
		      "request-id longer than 4 octets");
	expect_reject("30{02 09 00 00 00 00 00 00 00 00 01 04{} a2{02 01 2a 02 01 00 02 01 00 "
		      "30{}}}",
		      "version longer than 8 octets");
	expect_reject("30{02 01 01 04{} a2{02 01 2a 02 09 00 00 00 00 00 00 00 00 01 02 01 00 "
		      "30{}}}",
		      "error-status longer than 8 octets");
	/* Trailing bytes: after the message, after the PDU, after the
	 * varbind list, after a varbind's value. */
	expect_reject(HDR VB_UPTIME TLR "00", "bytes after the message");
	expect_reject("30{02 01 01 04{'public'} a2{02 01 2a 02 01 00 02 01 00 30{}} 00}",
		      "bytes after the PDU");
	expect_reject("30{02 01 01 04{'public'} a2{02 01 2a 02 01 00 02 01 00 30{} 00}}",
		      "bytes after the varbind list");
	expect_reject(HDR "30{06 03 2b 06 01 05 00 00}" TLR, "bytes after the value in a varbind");
	expect_reject(HDR "30{06 03 2b 06 01 05 00 05 00}" TLR,
		      "bytes after the value in a varbind");
	/* A missing value, an empty name, a name too long. */
	expect_reject(HDR "30{06 03 2b 06 01}" TLR, "varbind value header is truncated");
	expect_reject(HDR "30{06 00 05 00}" TLR, "varbind name is empty");
	{
		char spec[2400] = HDR "30{06[";
		for (int i = 0; i < 641; i++)
			strcat(spec, "01 ");
		strcat(spec, "] 05 00}" TLR);
		expect_reject(spec, "varbind name longer than 640 octets");
	}
	/* A message cut anywhere is rejected. */
	{
		uint8_t buf[256];
		size_t n = asm_msg(HDR VB_UPTIME VB_UPTIME TLR, buf, sizeof(buf));
		for (size_t cut = 0; cut < n; cut++) {
			uint8_t *exact = malloc(cut ? cut : 1);
			struct vgl_ber_msg m;
			const char *why = NULL;
			ASSERT(exact);
			memcpy(exact, buf, cut);
			ASSERT_EQ(parse_all(exact, cut, &m, &why), -1);
			ASSERT(why && *why);
			free(exact);
		}
	}
}

/* ---- numbers ------------------------------------------------------------------ */

static int num_of(uint8_t type, const char *hex, double *d, const char **why)
{
	static uint8_t val[64];
	struct vgl_ber_vb vb = { .type = type, .val = val };

	vb.val_len = asm_msg(hex, val, sizeof(val));
	return vgl_ber_vb_number(&vb, d, why);
}

#define NUM_OK(type, hex, want)                                                       \
	do {                                                                          \
		double d_ = -12345;                                                   \
		const char *w_ = NULL;                                                \
		ASSERT_EQ(num_of(type, hex, &d_, &w_), 0);                            \
		if (d_ != (double)(want)) {                                           \
			fprintf(stderr, "%s: %.17g, want %.17g\n", hex, d_,           \
				(double)(want));                                      \
			ASSERT(0);                                                    \
		}                                                                     \
	} while (0)

#define NUM_BAD(type, hex, needle)                                                    \
	do {                                                                          \
		double d_ = -12345;                                                   \
		const char *w_ = NULL;                                                \
		ASSERT_EQ(num_of(type, hex, &d_, &w_), -1);                           \
		ASSERT_CONTAINS(w_, needle);                                          \
	} while (0)

TEST(ber_vb_number)
{
	static const uint8_t u32types[] = { VGL_BER_COUNTER32, VGL_BER_GAUGE32, VGL_BER_TIMETICKS,
					    VGL_BER_UINTEGER32 };

	NUM_OK(VGL_BER_INTEGER, "00", 0);
	NUM_OK(VGL_BER_INTEGER, "7f", 127);
	NUM_OK(VGL_BER_INTEGER, "ff", -1);
	NUM_OK(VGL_BER_INTEGER, "ff 7f", -129);
	NUM_OK(VGL_BER_INTEGER, "00 80", 128);
	NUM_OK(VGL_BER_INTEGER, "7f ff ff ff ff ff ff ff", 9223372036854775807.0);
	NUM_OK(VGL_BER_INTEGER, "80 00 00 00 00 00 00 00", -9223372036854775807.0 - 1);
	NUM_OK(VGL_BER_INTEGER, "00 00 00 01 00 00 00 00", 4294967296.0);
	NUM_BAD(VGL_BER_INTEGER, "00 00 00 00 00 00 00 00 01", "INTEGER longer than 8 octets");
	NUM_BAD(VGL_BER_INTEGER, "", "empty");

	for (size_t i = 0; i < sizeof(u32types); i++) {
		uint8_t t = u32types[i];
		NUM_OK(t, "00", 0);
		NUM_OK(t, "7f ff ff ff", 2147483647);
		NUM_OK(t, "00 ff ff ff ff", 4294967295.0);
		/* Without the leading zero: net-snmp's reading. */
		NUM_OK(t, "ff ff ff ff", 4294967295.0);
		NUM_OK(t, "80 00 00 00", 2147483648.0);
		NUM_OK(t, "ff", 255);
		NUM_OK(t, "80", 128);     /* no sign extension, as net-snmp */
		/* Wider than the type, padded, or 64 bits: cut to 32 bits,
		 * as net-snmp's asn_parse_unsigned_int does. */
		NUM_OK(t, "01 00 00 00 00", 0);
		NUM_OK(t, "01 00 00 00 05", 5);
		NUM_OK(t, "ff ff ff ff ff", 4294967295.0);
		NUM_OK(t, "00 00 00 00 00 01", 1);
		NUM_OK(t, "00 00 00 01 00 00 00 05", 5);
		NUM_OK(t, "00 80 00 00 00 00 00 00 07", 7);
		NUM_BAD(t, "01 00 00 00 00 00 00 00 00", "longer than 8 octets");
		NUM_BAD(t, "", "empty");
	}

	NUM_OK(VGL_BER_COUNTER64, "01 00 00 00 00", 4294967296.0);
	NUM_OK(VGL_BER_COUNTER64, "00 ff ff ff ff ff ff ff ff", 18446744073709551615.0);
	NUM_OK(VGL_BER_COUNTER64, "ff ff ff ff ff ff ff ff", 18446744073709551615.0);
	NUM_OK(VGL_BER_COUNTER64, "ff", 255);
	NUM_OK(VGL_BER_COUNTER64, "00 1f ff ff ff ff ff ff", 9007199254740991.0);
	NUM_BAD(VGL_BER_COUNTER64, "01 00 00 00 00 00 00 00 00", "Counter64 longer than 8 octets");
	NUM_BAD(VGL_BER_COUNTER64, "00 00 00 00 00 00 00 00 00 00",
		"Counter64 longer than 8 octets");
	NUM_BAD(VGL_BER_COUNTER64, "", "empty");

	NUM_BAD(VGL_BER_OCTET_STRING, "01", "not a number");
	NUM_BAD(VGL_BER_NULL, "", "not a number");
	NUM_BAD(VGL_BER_IPADDRESS, "01 02 03 04", "not a number");
	NUM_BAD(VGL_BER_OPAQUE, "01", "not a number");
	NUM_BAD(VGL_BER_NOSUCHINSTANCE, "", "not a number");
}

/* Every unsigned 32-bit encoding read as net-snmp's own
 * asn_parse_unsigned_int reads it, so switching a source between the
 * engines never changes a value. */
TEST(ber_unsigned_matches_net_snmp)
{
	static const char *const enc[] = {
		"00", "7f", "80", "ff", "ff ff ff ff", "00 ff ff ff ff", "80 00 00 00",
		"01 00 00 00 00", "01 00 00 00 05", "ff ff ff ff ff", "00 00 00 00 00 01",
		"00 00 00 01 00 00 00 05", "00 80 00 00 00 00 00 00 07",
		"7f ff ff ff ff ff ff ff", "ff ff ff ff ff ff ff fe",
	};

	for (size_t i = 0; i < sizeof(enc) / sizeof(enc[0]); i++) {
		uint8_t val[16], tlv[20];
		size_t n = asm_msg(enc[i], val, sizeof(val)), len;
		u_long theirs = 0;
		u_char type = 0;
		double ours = -1;
		const char *why = NULL;
		struct vgl_ber_vb vb = { .type = VGL_BER_GAUGE32, .val = val, .val_len = n };

		tlv[0] = ASN_GAUGE;
		tlv[1] = (uint8_t)n;
		memcpy(tlv + 2, val, n);
		len = n + 2;
		ASSERT(asn_parse_unsigned_int(tlv, &len, &type, &theirs, sizeof(theirs)) != NULL);
		ASSERT_EQ(vgl_ber_vb_number(&vb, &ours, &why), 0);
		if (ours != (double)(uint32_t)theirs) {
			fprintf(stderr, "%s: ours %.17g, net-snmp %lu\n", enc[i], ours, theirs);
			ASSERT(0);
		}
		{
			struct counter64 c64 = { 0, 0 };
			double want;

			tlv[0] = ASN_COUNTER64;
			len = n + 2;
			ASSERT(asn_parse_unsigned_int64(tlv, &len, &type, &c64, sizeof(c64)) != NULL);
			vb.type = VGL_BER_COUNTER64;
			ASSERT_EQ(vgl_ber_vb_number(&vb, &ours, &why), 0);
			want = (double)(((uint64_t)c64.high << 32) | (uint32_t)c64.low);
			if (ours != want) {
				fprintf(stderr, "Counter64 %s: ours %.17g, net-snmp %.17g\n", enc[i],
					ours, want);
				ASSERT(0);
			}
		}
	}
}

/* ---- OID text ------------------------------------------------------------------- */

static void oid_text_of(const char *hex, size_t cap, char *out)
{
	uint8_t o[VGL_BER_OID_MAX];
	size_t n = asm_msg(hex, o, sizeof(o));
	/* Exactly-sized input and output let ASan see a read past len and a
	 * write past cap. */
	uint8_t *in = malloc(n ? n : 1);
	char *buf = malloc(cap ? cap : 1);

	ASSERT(in && buf);
	memcpy(in, o, n);
	memset(buf, 'Z', cap ? cap : 1);
	vgl_ber_oid_text(in, n, buf, cap);
	if (cap) {
		ASSERT(memchr(buf, '\0', cap) != NULL);
		strcpy(out, buf);
	} else {
		ASSERT_EQ(buf[0], 'Z');
		strcpy(out, "untouched");
	}
	free(in);
	free(buf);
}

TEST(ber_oid_text)
{
	char t[256];

	oid_text_of("2b 06 01 02 01 01 03 00", 64, t);
	ASSERT_STREQ(t, "1.3.6.1.2.1.1.3.0");
	oid_text_of("2b 06 01 02 01 01 03 00", 18, t);    /* exactly fits */
	ASSERT_STREQ(t, "1.3.6.1.2.1.1.3.0");
	oid_text_of("2b 06 01 02 01 01 03 00", 17, t);
	ASSERT_STREQ(t, "1.3.6.1.2.1.1...");
	oid_text_of("2b 06 01 02 01 01 03 00", 10, t);
	ASSERT_STREQ(t, "1.3.6...");
	oid_text_of("2b 06 01 02 01 01 03 00", 4, t);
	ASSERT_STREQ(t, "...");
	oid_text_of("2b 06 01 02 01 01 03 00", 3, t);
	ASSERT_STREQ(t, "..");
	oid_text_of("2b 06 01 02 01 01 03 00", 1, t);
	ASSERT_STREQ(t, "");
	oid_text_of("2b 06 01 02 01 01 03 00", 0, t);
	ASSERT_STREQ(t, "untouched");
	/* First octet split, multi-octet arcs, the 32-bit maximum. */
	oid_text_of("00", 64, t);
	ASSERT_STREQ(t, "0.0");
	oid_text_of("27", 64, t);
	ASSERT_STREQ(t, "0.39");
	oid_text_of("28", 64, t);
	ASSERT_STREQ(t, "1.0");
	oid_text_of("4f", 64, t);
	ASSERT_STREQ(t, "1.39");
	oid_text_of("50", 64, t);
	ASSERT_STREQ(t, "2.0");
	oid_text_of("88 37 03", 64, t);
	ASSERT_STREQ(t, "2.999.3");
	oid_text_of("90 80 80 80 4f", 64, t);
	ASSERT_STREQ(t, "2.4294967295");
	oid_text_of("2b 81 00 8f ff ff ff 7f", 64, t);
	ASSERT_STREQ(t, "1.3.128.4294967295");
	/* Invalid: empty, last octet continues, arc over 32 bits, a
	 * non-minimal 0x80 lead octet. */
	oid_text_of("", 64, t);
	ASSERT_STREQ(t, "(invalid OID)");
	oid_text_of("2b 06 81", 64, t);
	ASSERT_STREQ(t, "(invalid OID)");
	oid_text_of("2b 90 80 80 80 00", 64, t);
	ASSERT_STREQ(t, "(invalid OID)");
	oid_text_of("2b ff ff ff ff ff ff ff ff ff ff 7f", 64, t);
	ASSERT_STREQ(t, "(invalid OID)");
	/* 2^70: wraps to 0 in 64 bits, so the bound must apply per octet. */
	oid_text_of("2b 81 80 80 80 80 80 80 80 80 80 00", 64, t);
	ASSERT_STREQ(t, "(invalid OID)");
	oid_text_of("90 80 80 80 50", 64, t);
	ASSERT_STREQ(t, "(invalid OID)");
	oid_text_of("2b 80 01", 64, t);
	ASSERT_STREQ(t, "(invalid OID)");
	/* Invalid only after the cut: still reported as invalid. */
	oid_text_of("2b 06 01 02 01 01 03 81", 8, t);
	ASSERT_STREQ(t, "(inv...");
	oid_text_of("2b 06 01 02 01 01 03 81", 14, t);
	ASSERT_STREQ(t, "(invalid OID)");
}

/* ---- fuzz ------------------------------------------------------------------------- */

static uint64_t rng_next(uint64_t *s)
{
	/* xorshift64*: deterministic for a given seed. */
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ULL;
}

/* A valid Response with 20 varbinds of every value type. */
static size_t response_20(uint8_t *buf, size_t cap)
{
	static const char *vals[] = {
		"02 01 2a", "02 04 80 00 00 00", "41 05 00 ff ff ff ff", "42 04 ff ff ff ff",
		"43 03 01 00 00", "46 09 00 ff ff ff ff ff ff ff ff", "46 05 01 00 00 00 00",
		"04 05 'hello'", "06 03 2b 06 01", "40 04 0a 00 00 01", "05 00", "80 00",
		"81 00", "82 00", "47 01 07", "44 02 01 02", "02 08 7f ff ff ff ff ff ff ff",
		"04 00", "41 01 ff", "42 02 00 80",
	};
	char spec[4096];
	size_t off;

	off = (size_t)snprintf(spec, sizeof(spec), "%s", HDR);
	for (int i = 0; i < 20; i++)
		off += (size_t)snprintf(spec + off, sizeof(spec) - off,
					"30{06{2b 06 01 04 01 86 8d 1f 01 %02x 81 80 00} %s}", i,
					vals[i]);
	snprintf(spec + off, sizeof(spec) - off, "%s", TLR);
	return asm_msg(spec, buf, cap);
}

static int in_buf(const uint8_t *p, size_t n, const uint8_t *buf, size_t len)
{
	return p >= buf && n <= len && (size_t)(p - buf) <= len - n;
}

TEST(ber_fuzz)
{
	uint8_t base[2048], work[4096];
	size_t base_len = response_20(base, sizeof(base));
	uint64_t seed = 0x9e3779b97f4a7c15ULL;
	struct vgl_ber_msg m;
	const char *why;
	int ok = 0, bad = 0, vbs_seen = 0;

	ASSERT_EQ(parse_all(base, base_len, &m, &why), 20);
	for (int iter = 0; iter < 5000; iter++) {
		size_t len = base_len;
		int muts = 1 + (int)(rng_next(&seed) % 4);
		uint8_t *exact;
		const uint8_t *p, *end;
		struct vgl_ber_vb vb;
		int r, count = 0;

		memcpy(work, base, base_len);
		for (int k = 0; k < muts; k++) {
			uint64_t x = rng_next(&seed);
			size_t at = len ? (size_t)(rng_next(&seed) % len) : 0;
			switch (x % 6) {
			case 0: /* flip a byte */
			case 1:
				if (len)
					work[at] = (uint8_t)(x >> 8);
				break;
			case 2: /* truncate */
				len = at;
				break;
			case 3: /* extend */
				for (size_t e = 1 + (x >> 8) % 8; e && len < sizeof(work); e--)
					work[len++] = (uint8_t)rng_next(&seed);
				break;
			case 4: /* a huge length where a length may be */
				if (len >= 6) {
					at = at % (len - 5);
					memcpy(work + at + 1, "\x84\xff\xff\xff\xff", 5);
				}
				break;
			case 5: /* a long-form length byte */
				if (len)
					work[at] = (uint8_t)(0x80 | ((x >> 8) % 6));
				break;
			}
		}
		exact = malloc(len ? len : 1);
		ASSERT(exact);
		memcpy(exact, work, len);
		if (vgl_ber_msg_parse(exact, len, &m, &why) != 0) {
			ASSERT(why && *why);
			bad++;
			free(exact);
			continue;
		}
		ASSERT(in_buf(m.community, m.community_len, exact, len));
		ASSERT(in_buf(m.vbs, m.vbs_len, exact, len));
		p = m.vbs;
		end = m.vbs + m.vbs_len;
		while ((r = vgl_ber_vb_next(&p, end, &vb, &why)) == 1) {
			char text[40];
			double d;
			const char *w2;
			ASSERT(in_buf(vb.oid, vb.oid_len, exact, len));
			ASSERT(in_buf(vb.val, vb.val_len, exact, len));
			ASSERT(p <= end);
			(void)vgl_ber_vb_number(&vb, &d, &w2);
			vgl_ber_oid_text(vb.oid, vb.oid_len, text, sizeof(text));
			ASSERT(memchr(text, '\0', sizeof(text)));
			/* Every value as an OID too: the last one ends the buffer. */
			vgl_ber_oid_text(vb.val, vb.val_len, text, sizeof(text));
			ASSERT(memchr(text, '\0', sizeof(text)));
			/* Each varbind is at least 4 octets: a bound on the walk. */
			ASSERT_LE(++count, (int)(m.vbs_len / 4));
		}
		vbs_seen += count;
		if (r == 0)
			ok++;
		else
			bad++;
		free(exact);
	}
	fprintf(stderr, "ber_fuzz: 5000 mutations, %d whole, %d rejected, %d varbinds read\n",
		ok, bad, vbs_seen);
	/* Both outcomes must have been exercised for the run to mean much. */
	ASSERT_GT(ok, 100);
	ASSERT_GT(bad, 1000);
}

/* ---- cost ---------------------------------------------------------------------------- */

static double cpu_ns(void)
{
	struct timespec ts;

	ASSERT_EQ(clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts), 0);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

TEST(ber_cost)
{
	enum { ITERS = 200000, NOIDS = 20 };
	uint8_t oids[NOIDS][32], vbs[NOIDS * 40], msg[NOIDS * 40 + 64], resp[2048];
	size_t oid_len[NOIDS], resp_len = response_20(resp, sizeof(resp));
	volatile double sink = 0;
	double t0, t1, t2;
	unsigned long a[] = { 1, 3, 6, 1, 4, 1, 99999, 1, 2, 0 };

	for (int i = 0; i < NOIDS; i++) {
		int n;
		a[9] = (unsigned long)i * 300;
		n = vgl_ber_oid_encode(a, 10, oids[i], sizeof(oids[i]));
		ASSERT_GT(n, 0);
		oid_len[i] = (size_t)n;
	}
	t0 = cpu_ns();
	for (int it = 0; it < ITERS; it++) {
		size_t off = 0;
		int len;
		for (int i = 0; i < NOIDS; i++) {
			int k = vgl_ber_vb_null(oids[i], oid_len[i], vbs + off, sizeof(vbs) - off);
			ASSERT_GT(k, 0);
			off += (size_t)k;
		}
		len = vgl_ber_get_request((const uint8_t *)"public", 6, it + 1, vbs, off, msg,
					  sizeof(msg));
		ASSERT_GT(len, 0);
		sink = sink + msg[len - 1];
	}
	t1 = cpu_ns();
	for (int it = 0; it < ITERS; it++) {
		struct vgl_ber_msg m;
		struct vgl_ber_vb vb;
		const uint8_t *p, *end;
		const char *why;
		double d, sum = 0;
		int r, count = 0;

		ASSERT_EQ(vgl_ber_msg_parse(resp, resp_len, &m, &why), 0);
		p = m.vbs;
		end = m.vbs + m.vbs_len;
		while ((r = vgl_ber_vb_next(&p, end, &vb, &why)) == 1) {
			if (vgl_ber_vb_number(&vb, &d, &why) == 0)
				sum += d;
			count++;
		}
		ASSERT_EQ(r, 0);
		ASSERT_EQ(count, NOIDS);
		sink = sink + sum;
	}
	t2 = cpu_ns();
	{
		double enc = (t1 - t0) / ITERS, dec = (t2 - t1) / ITERS;
		fprintf(stderr,
			"ber_cost: 20-OID GetRequest encode %.0f ns, 20-varbind Response "
			"parse+walk+number %.0f ns, total %.0f ns per message pair\n",
			enc, dec, enc + dec);
		ASSERT_LT(enc + dec, 20000);
	}
	(void)sink;
}
