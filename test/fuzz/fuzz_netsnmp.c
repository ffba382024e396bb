/* The net-snmp answer path of the collector (collectors/snmp.c, v3 and
 * v2c with engine "net-snmp"): a datagram handed to snmp_sess_read2()
 * through the transport's f_recv, exactly as chan_read()/chan_recv() do,
 * so net-snmp parses it as it would off the wire (message version,
 * community or v3 header, USM security parameters, scoped PDU, PDU and
 * varbinds), matches it to the request waiting on the session and calls
 * back; the callback reads the PDU the way on_pdu()/got_response() do:
 * each varbind's name and its number through the collector's own
 * vgl_snmp_var_number(), a Report's type and engineID.
 *
 * The first byte picks what is waiting, the rest is the datagram:
 *   0  v2c GET, community "public", request-id 0x1234
 *   1  v3 engineID probe (noAuth, empty user, as the collector sends it),
 *      msgID 0x5678: a Report answers it
 *   2  v3 GET of user "fuzz" at engineID 80001f8880 66757a7a (noAuth:
 *      the fuzzer cannot forge authPriv digests, and this is how the
 *      scoped PDU of a v3 answer gets parsed at all), msgID 0x5678
 * Request and message ids are fixed after snmp_pdu_create() so a seed
 * can match them. Nothing is sent: the transport's f_send is a sink. */
#include <errno.h>
#include <string.h>

#include <uv.h>

#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>
#include <net-snmp/library/large_fd_set.h>

#include "collectors/snmp.h"
#include "core/log.h"
#include "test/fuzz/fuzz.h"

#define REQID 0x1234
#define MSGID 0x5678

static const u_char engine_id[] = { 0x80, 0x00, 0x1f, 0x88, 0x80, 'f', 'u', 'z', 'z' };
static const oid asked[][12] = {
	{ 1, 3, 6, 1, 2, 1, 1, 3, 0 },
	{ 1, 3, 6, 1, 2, 1, 2, 2, 1, 8, 1 },
	{ 1, 3, 6, 1, 2, 1, 31, 1, 1, 1, 6, 1 },
	{ 1, 3, 6, 1, 4, 1, 99999, 1, 0 },
};
static const size_t asked_len[] = { 9, 11, 12, 9 };
#define N_ASKED 4

static const uint8_t *rx_data;
static size_t rx_len;
static int rx_given;
static unsigned calls;
static volatile double sink_d;
static volatile u_char sink_b;

static int fuzz_recv(netsnmp_transport *t, void *buf, int size, void **opaque, int *olength)
{
	netsnmp_indexed_addr_pair *ap;
	size_t len = rx_len;

	(void)t;
	*opaque = NULL;
	*olength = 0;
	if (rx_given || size <= 0) {
		errno = EAGAIN;
		return -1;
	}
	rx_given = 1;
	/* The source address, shaped as chan_recv() returns it; net-snmp
	 * owns and frees it. */
	ap = calloc(1, sizeof(*ap));
	if (!ap) {
		errno = ENOMEM;
		return -1;
	}
	ap->remote_addr.sin.sin_family = AF_INET;
	ap->remote_addr.sin.sin_port = htons(161);
	ap->remote_addr.sin.sin_addr.s_addr = htonl(0x7f000001);
	*opaque = ap;
	*olength = (int)sizeof(*ap);
	if (len > (size_t)size)
		len = (size_t)size;
	memcpy(buf, rx_data, len);
	return (int)len;
}

static int fuzz_send(netsnmp_transport *t, const void *buf, int size, void **opaque,
		     int *olength)
{
	(void)t;
	(void)buf;
	(void)opaque;
	(void)olength;
	return size;
}

/* Touches every byte net-snmp says it holds, so ASan checks the claim. */
static void touch(const void *p, size_t n)
{
	const u_char *b = p;

	for (size_t i = 0; i < n; i++)
		sink_b ^= b[i];
}

static int on_pdu(int op, netsnmp_session *sess, int reqid, netsnmp_pdu *pdu, void *magic)
{
	(void)sess;
	(void)reqid;
	(void)magic;
	calls++;
	if (getenv("FUZZ_NETSNMP_TRACE"))
		fprintf(stderr, "fuzz_netsnmp: callback op %d, command 0x%02x\n", op,
			pdu ? (unsigned)pdu->command : 0u);
	if (op != NETSNMP_CALLBACK_OP_RECEIVED_MESSAGE && op != NETSNMP_CALLBACK_OP_SEC_ERROR)
		return 1;
	if (!pdu)
		return 1;
	if (pdu->command == SNMP_MSG_REPORT) {
		sink_d = snmpv3_get_report_type(pdu);
		if (pdu->securityEngineIDLen > 0 && pdu->securityEngineIDLen <= SNMP_MAX_ENG_SIZE)
			touch(pdu->securityEngineID, pdu->securityEngineIDLen);
	}
	for (netsnmp_variable_list *v = pdu->variables; v; v = v->next_variable) {
		double x = 0;

		FUZZ_CHECK(v->name != NULL && v->name_length <= MAX_OID_LEN);
		touch(v->name, v->name_length * sizeof(oid));
		for (size_t k = 0; k < N_ASKED; k++)
			sink_d += snmp_oid_compare(v->name, v->name_length, asked[k], asked_len[k]);
		if (vgl_snmp_var_number(v, &x) == 0)
			sink_d += x;
		else if (v->val.string)
			touch(v->val.string, v->val_len);
	}
	return 1;
}

static void closed(void *ctx)
{
	(void)ctx;
}

static void no_result(void *ctx, const struct vgl_poll_result *r)
{
	(void)ctx;
	(void)r;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const oid no_auth[] = { 1, 3, 6, 1, 6, 3, 10, 1, 1, 1 };
	static const oid no_priv[] = { 1, 3, 6, 1, 6, 3, 10, 1, 2, 1 };
	netsnmp_session user;
	struct vgl_snmp *s;
	uv_loop_t loop;

	(void)argc;
	(void)argv;
	/* net-snmp's warnings about each bad datagram ("Bad PDU type") come
	 * through the daemon's log; at millions of inputs they are noise. */
	vgl_log_set_level(VGL_LOG_ERR);
	/* net-snmp set up exactly as the daemon sets it up: the collector's
	 * own init runs on its first create. */
	if (uv_loop_init(&loop) != 0 || vgl_snmp_create(&loop, 10, no_result, NULL, &s) != 0) {
		fprintf(stderr, "fuzz_netsnmp: cannot create the collector\n");
		exit(1);
	}
	vgl_snmp_close(s, closed, NULL);
	if (uv_run(&loop, UV_RUN_DEFAULT) != 0 || uv_loop_close(&loop) != 0) {
		fprintf(stderr, "fuzz_netsnmp: collector did not close\n");
		exit(1);
	}
	/* The noAuth user of mode 2, registered the way cred_localize()
	 * registers the collector's users. */
	snmp_sess_init(&user);
	user.version = SNMP_VERSION_3;
	user.securityModel = SNMP_SEC_MODEL_USM;
	user.securityLevel = SNMP_SEC_LEVEL_NOAUTH;
	user.securityName = (char *)"fuzz";
	user.securityNameLen = 4;
	user.securityEngineID = (u_char *)engine_id;
	user.securityEngineIDLen = sizeof(engine_id);
	user.securityAuthProto = (oid *)no_auth;
	user.securityAuthProtoLen = OID_LENGTH(no_auth);
	user.securityPrivProto = (oid *)no_priv;
	user.securityPrivProtoLen = OID_LENGTH(no_priv);
	if (usm_create_user_from_session(&user) != SNMPERR_SUCCESS) {
		fprintf(stderr, "fuzz_netsnmp: cannot register the USM user\n");
		exit(1);
	}
	return 0;
}

static netsnmp_pdu *request(int mode)
{
	netsnmp_pdu *pdu = snmp_pdu_create(SNMP_MSG_GET);
	netsnmp_indexed_addr_pair *ap;
	const char *name = mode == 2 ? "fuzz" : "";

	if (!pdu)
		return NULL;
	pdu->reqid = REQID;
	pdu->msgid = MSGID;
	ap = calloc(1, sizeof(*ap));
	if (!ap)
		goto fail;
	ap->remote_addr.sin.sin_family = AF_INET;
	ap->remote_addr.sin.sin_port = htons(161);
	ap->remote_addr.sin.sin_addr.s_addr = htonl(0x7f000001);
	pdu->transport_data = ap;
	pdu->transport_data_length = sizeof(*ap);
	if (mode == 0) {
		pdu->version = SNMP_VERSION_2c;
		pdu->community = (u_char *)strdup("public");
		if (!pdu->community)
			goto fail;
		pdu->community_len = 6;
	} else {
		pdu->version = SNMP_VERSION_3;
		pdu->securityModel = SNMP_SEC_MODEL_USM;
		pdu->securityLevel = SNMP_SEC_LEVEL_NOAUTH;
		pdu->securityName = strdup(name);
		pdu->contextName = strdup("");
		if (!pdu->securityName || !pdu->contextName)
			goto fail;
		pdu->securityNameLen = strlen(name);
		if (mode == 2) {
			pdu->securityEngineID = netsnmp_memdup(engine_id, sizeof(engine_id));
			pdu->contextEngineID = netsnmp_memdup(engine_id, sizeof(engine_id));
			if (!pdu->securityEngineID || !pdu->contextEngineID)
				goto fail;
			pdu->securityEngineIDLen = sizeof(engine_id);
			pdu->contextEngineIDLen = sizeof(engine_id);
		}
	}
	for (size_t k = 0; k < N_ASKED && mode != 1; k++)
		if (!snmp_add_null_var(pdu, asked[k], asked_len[k]))
			goto fail;
	return pdu;

fail:
	snmp_free_pdu(pdu);
	return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	netsnmp_large_fd_set fds;
	netsnmp_session sess, *ss;
	netsnmp_transport *t;
	netsnmp_pdu *pdu;
	void *sessp;
	int mode;

	if (size < 1)
		return 0;
	mode = data[0] % 3;
	snmp_sess_init(&sess);
	sess.peername = (char *)"udp:127.0.0.1:9";
	sess.timeout = 1000000;
	sess.retries = 0;
	if (mode == 0) {
		sess.version = SNMP_VERSION_2c;
		sess.community = (u_char *)"public";
		sess.community_len = 6;
	} else {
		sess.version = SNMP_VERSION_3;
		sess.securityModel = SNMP_SEC_MODEL_USM;
		sess.flags |= SNMP_FLAGS_DONT_PROBE;
	}
	sessp = snmp_sess_open(&sess);
	FUZZ_CHECK(sessp != NULL);
	ss = snmp_sess_session(sessp);
	ss->flags |= SNMP_FLAGS_DONT_PROBE;
	t = snmp_sess_transport(sessp);
	FUZZ_CHECK(t != NULL && t->sock >= 0);
	t->f_recv = fuzz_recv;
	t->f_send = fuzz_send;
	calls = 0;
	pdu = request(mode);
	FUZZ_CHECK(pdu != NULL);
	if (snmp_sess_async_send(sessp, pdu, on_pdu, NULL) == 0) {
		/* Built but not sent is a harness fault, not a finding. */
		fprintf(stderr, "fuzz_netsnmp: send failed: %s\n",
			snmp_api_errstring(ss->s_snmp_errno));
		snmp_free_pdu(pdu);
		abort();
	}
	rx_data = data + 1;
	rx_len = size - 1;
	rx_given = 0;
	netsnmp_large_fd_set_init(&fds, FD_SETSIZE);
	NETSNMP_LARGE_FD_SET(t->sock, &fds);
	snmp_sess_read2(sessp, &fds);
	netsnmp_large_fd_set_cleanup(&fds);
	if (getenv("FUZZ_NETSNMP_TRACE"))
		fprintf(stderr, "fuzz_netsnmp: mode %d, %u callback(s) before close\n", mode,
			calls);
	snmp_sess_close(sessp);
	return 0;
}
