/* vigil's v2c BER decoder (collectors/ber.h), as own_answer() in
 * collectors/snmp.c drives it on every datagram: the message envelope,
 * then each varbind, its number and its OID as text. The same bytes are
 * also read as a bare varbind list and as OID contents, so the inner
 * decoders are reached without a valid envelope. Every pointer handed
 * back must lie inside the input. */
#include <string.h>

#include "collectors/ber.h"
#include "test/fuzz/fuzz.h"

static int inside(const uint8_t *p, size_t n, const uint8_t *buf, size_t len)
{
	return p >= buf && n <= len && p - buf <= (ptrdiff_t)(len - n);
}

static void vb_list(const uint8_t *buf, size_t len, const uint8_t *vbs, size_t vbs_len)
{
	const uint8_t *pos = vbs, *end = vbs + vbs_len;
	struct vgl_ber_vb vb;
	const char *why;
	char text[128], tiny[8];
	int rc;

	while ((rc = vgl_ber_vb_next(&pos, end, &vb, &why)) == 1) {
		double x;

		FUZZ_CHECK(pos > vbs && pos <= end);
		FUZZ_CHECK(inside(vb.oid, vb.oid_len, buf, len));
		FUZZ_CHECK(vb.oid_len >= 1 && vb.oid_len <= VGL_BER_OID_MAX);
		FUZZ_CHECK(inside(vb.val, vb.val_len, buf, len));
		if (vgl_ber_vb_number(&vb, &x, &why) != 0)
			FUZZ_CHECK(why != NULL);
		vgl_ber_oid_text(vb.oid, vb.oid_len, text, sizeof(text));
		FUZZ_CHECK(memchr(text, '\0', sizeof(text)) != NULL);
		vgl_ber_oid_text(vb.oid, vb.oid_len, tiny, sizeof(tiny));
		FUZZ_CHECK(memchr(tiny, '\0', sizeof(tiny)) != NULL);
	}
	FUZZ_CHECK(rc == 0 || (rc == -1 && why != NULL));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vgl_ber_msg m;
	const char *why = NULL;
	char text[64];

	if (vgl_ber_msg_parse(data, size, &m, &why) == 0) {
		FUZZ_CHECK(inside(m.community, m.community_len, data, size));
		FUZZ_CHECK(inside(m.vbs, m.vbs_len, data, size));
		vb_list(data, size, m.vbs, m.vbs_len);
	} else {
		FUZZ_CHECK(why != NULL);
	}
	vb_list(data, size, data, size);
	vgl_ber_oid_text(data, size, text, sizeof(text));
	FUZZ_CHECK(memchr(text, '\0', sizeof(text)) != NULL);
	return 0;
}
