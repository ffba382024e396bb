/* SNMP collector, answers: what a GET's answer says (status, each value,
 * a Report) and what is refused and why, for both engines. Apart because
 * every check of what an agent sent lives here, one place to audit. */
#include "collectors/snmp_int.h"

/* ---- responses ------------------------------------------------------------ */

static int same_source(const struct host *h, const netsnmp_pdu *pdu)
{
	if (!pdu->transport_data)
		return 1;
	if (h->addr.sa.sa_family == AF_INET &&
	    pdu->transport_data_length == (int)sizeof(netsnmp_indexed_addr_pair)) {
		const netsnmp_indexed_addr_pair *ap = pdu->transport_data;
		return ap->remote_addr.sin.sin_family == AF_INET &&
		       ap->remote_addr.sin.sin_addr.s_addr == h->addr.in.sin_addr.s_addr &&
		       ap->remote_addr.sin.sin_port == h->addr.in.sin_port;
	}
	if (h->addr.sa.sa_family == AF_INET6 &&
	    pdu->transport_data_length == (int)sizeof(struct sockaddr_in6)) {
		const struct sockaddr_in6 *a = pdu->transport_data;
		return !memcmp(&a->sin6_addr, &h->addr.in6.sin6_addr, sizeof(a->sin6_addr)) &&
		       a->sin6_port == h->addr.in6.sin6_port;
	}
	return 1;
}

/* The source address of a datagram net-snmp read (vgl__snmp_chan_recv's forms), for
 * logs; NULL when it has none. */
static const union sockaddr_u *pdu_source(const netsnmp_pdu *pdu, union sockaddr_u *out)
{
	memset(out, 0, sizeof(*out));
	if (pdu->transport_data &&
	    pdu->transport_data_length == (int)sizeof(netsnmp_indexed_addr_pair)) {
		out->in = ((const netsnmp_indexed_addr_pair *)pdu->transport_data)->remote_addr.sin;
		return out;
	}
	if (pdu->transport_data && pdu->transport_data_length == (int)sizeof(struct sockaddr_in6)) {
		out->in6 = *(const struct sockaddr_in6 *)pdu->transport_data;
		return out;
	}
	return NULL;
}

static int value_of(const netsnmp_variable_list *v, double *out)
{
	switch (v->type) {
	case ASN_INTEGER:
		*out = (double)*v->val.integer;
		return 0;
	case ASN_COUNTER:
	case ASN_GAUGE:         /* also Unsigned32 */
	case ASN_TIMETICKS:
	case ASN_UINTEGER:
		*out = (double)(uint32_t)*v->val.integer;
		return 0;
	case ASN_COUNTER64:
		*out = (double)(((uint64_t)v->val.counter64->high << 32) |
				(uint64_t)(uint32_t)v->val.counter64->low);
		return 0;
	default:
		return -1;
	}
}

int vgl_snmp_var_number(const netsnmp_variable_list *v, double *out)
{
	return value_of(v, out);
}

static const char *type_name(u_char t)
{
	switch (t) {
	case ASN_OCTET_STR: return "OCTET STRING";
	case ASN_OBJECT_ID: return "OBJECT IDENTIFIER";
	case ASN_IPADDRESS: return "IpAddress";
	case ASN_NULL: return "NULL";
	case ASN_OPAQUE: return "Opaque";
	case ASN_BIT_STR: return "BITS";
	default: return "unexpected type";
	}
}

/* The error-status of a GET's answer. 1 when it settles the request (values
 * set, or the request split and queued again), 0 when the varbinds hold the
 * values. */
int vgl__snmp_got_status(struct vgl_snmp *s, struct req *r, long errstat, long errindex)
{
	struct poll *p = r->p;
	struct host *h = p->h;

	if (errstat == SNMP_ERR_TOOBIG && r->count > 1) {
		uint32_t half = r->count / 2;
		vgl__snmp_host_log(h, VGL_LOG_DEBUG, "tooBig for %u OIDs, splitting", (unsigned)r->count);
		p->answered = 1;
		vgl__snmp_queue_gets(s, p, r->first, half);
		vgl__snmp_queue_gets(s, p, r->first + half, r->count - half);
		return 1;
	}
	if (errstat == SNMP_ERR_AUTHORIZATIONERROR) {
		vgl__snmp_set_range(p, r->first, r->count, VGL_Q_AUTH);
		vgl__snmp_poll_note(p, "authorizationError");
		return 1;
	}
	p->answered = 1;
	if (errstat != SNMP_ERR_NOERROR) {
		const char *e = errstat > 0 && errstat <= SNMP_ERR_INCONSISTENTNAME
					? snmp_errstring((int)errstat) : "(unknown)";
		vgl__snmp_set_range(p, r->first, r->count, VGL_Q_ERROR);
		vgl__snmp_poll_note(p, "error-status %s (index %ld)", e, errindex);
		vgl__snmp_host_log(h, VGL_LOG_DEBUG, "error-status %s (index %ld)", e, errindex);
		return 1;
	}
	return 0;
}

/* r's answer does not name what r asked (other OIDs, in another order,
 * more or fewer): it is not this request's answer, whoever sent it. It
 * got this far with the request's id, host address and community, so it
 * is most likely the agent's own malformed answer, and waiting longer
 * would not bring a better one: the request fails now, with the reason,
 * and none of the answer's values are taken (nor does it count as the
 * host answering). */

void vgl__snmp_got_unasked(struct req *r, const char *fmt, ...)
{
	struct poll *p = r->p;
	char msg[DETAIL_LEN];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	vgl__snmp_host_bad_answer(p->h, "%s; answer not taken", msg);
	vgl__snmp_set_range(p, r->first, r->count, VGL_Q_ERROR);
	vgl__snmp_poll_note(p, "%s", msg);
}

/* Answer varbind i of request r named another OID than asked. */
void vgl__snmp_got_wrong_oid(struct req *r, uint32_t i, const char *got)
{
	const struct vgl_conf_metric *mi = vgl__snmp_hmetric(r->p->h, r->first + i);

	vgl__snmp_got_unasked(r, "OID mismatch in answer: varbind %u is %s, asked %s", (unsigned)i, got,
		    mi->text ? mi->text : mi->name);
}

/* Answer varbind i of request r is not a number: why says what is wrong
 * with a numeric type, NULL for another type. */
void vgl__snmp_got_not_number(struct req *r, uint32_t i, unsigned type, const char *why)
{
	struct poll *p = r->p;
	const char *name = vgl__snmp_hmetric(p->h, r->first + i)->name;

	if (why) {
		vgl__snmp_host_bad_answer(p->h, "%s: %s", name, why);
		vgl__snmp_poll_note(p, "%s: %s", name, why);
	} else {
		vgl__snmp_host_bad_answer(p->h, "%s: %s is not a number", name, type_name((u_char)type));
		vgl__snmp_poll_note(p, "%s: %s is not a number", name, type_name((u_char)type));
	}
	p->values[r->first + i].q = VGL_Q_ERROR;
	p->values[r->first + i].v = 0;
	p->any_error = 1;
}

/* The value of answer varbind i of request r: type is its tag (net-snmp's
 * ASN_ and SNMP_ type codes are the BER tags), numeric says whether v holds
 * its number. */
void vgl__snmp_got_value(struct req *r, uint32_t i, unsigned type, int numeric, double v)
{
	struct vgl_value *out = &r->p->values[r->first + i];

	switch (type) {
	case SNMP_NOSUCHOBJECT:
	case SNMP_NOSUCHINSTANCE:
	case SNMP_ENDOFMIBVIEW:
		out->q = VGL_Q_ABSENT;
		return;
	}
	if (numeric) {
		out->q = VGL_Q_OK;
		out->v = v;
		return;
	}
	vgl__snmp_got_not_number(r, i, type, NULL);
}

/* "1.3.6.1.2.1.1.3.0" from the arcs, by hand rather than snprint_objid:
 * net-snmp's MIB tree is global and not thread-safe, and a SIGHUP reload
 * loads MIB modules into it from a worker thread while this loop thread
 * polls, so the loop never reads the tree. Truncated to fit buf. */
static void oid_text(const oid *name, size_t len, char *buf, size_t cap)
{
	size_t used = 0;

	if (cap == 0)
		return;
	buf[0] = '\0';
	for (size_t i = 0; i < len; i++) {
		int n = snprintf(buf + used, cap - used, "%s%lu", i ? "." : "",
				 (unsigned long)name[i]);
		if (n < 0 || (size_t)n >= cap - used)
			return;
		used += (size_t)n;
	}
}

/* A GET's answer through net-snmp (v3, or v2c with engine "net-snmp"):
 * values in, or the reason they are missing. The names are checked first,
 * as in vgl__snmp_own_response (a GET's answer echoes them, a tooBig one may carry
 * none): an answer naming anything else is not this request's. */
static void got_response(struct vgl_snmp *s, struct req *r, netsnmp_pdu *pdu)
{
	netsnmp_variable_list *v;
	uint32_t i;

	for (i = 0, v = pdu->variables; v; i++, v = v->next_variable) {
		const struct vgl_snmp_metric *mi;

		if (i == r->count) {
			vgl__snmp_got_unasked(r, "varbind count mismatch in answer: more than the %u asked",
				    (unsigned)r->count);
			return;
		}
		mi = vgl_snmp_metric_of(vgl__snmp_hmetric(r->p->h, r->first + i));
		if (v->name_length != mi->oid_len ||
		    snmp_oid_compare(v->name, v->name_length, mi->oid, mi->oid_len) != 0) {
			char got[96];
			oid_text(v->name, v->name_length, got, sizeof(got));
			vgl__snmp_got_wrong_oid(r, i, got);
			return;
		}
	}
	if (i < r->count && !(i == 0 && pdu->errstat == SNMP_ERR_TOOBIG)) {
		vgl__snmp_got_unasked(r, "varbind count mismatch in answer: %u of the %u asked", (unsigned)i,
			    (unsigned)r->count);
		return;
	}
	if (vgl__snmp_got_status(s, r, pdu->errstat, pdu->errindex))
		return;
	for (i = 0, v = pdu->variables; v; i++, v = v->next_variable) {
		double x = 0;
		int numeric = value_of(v, &x) == 0;     /* before x is read */
		vgl__snmp_got_value(r, i, v->type, numeric, x);
	}
}

static void got_probe_report(struct vgl_snmp *s, struct req *r, netsnmp_pdu *pdu)
{
	struct poll *p = r->p;
	struct host *h = p->h;
	uint32_t n = (uint32_t)h->src->n_metrics;
	u_char *eid;

	if (pdu->securityEngineIDLen == 0 || pdu->securityEngineIDLen > SNMP_MAX_ENG_SIZE) {
		vgl__snmp_host_bad_answer(h, "engineID discovery: report without a usable engineID");
		vgl__snmp_set_range(p, 0, n, VGL_Q_ERROR);
		vgl__snmp_poll_note(p, "engineID discovery failed");
		return;
	}
	eid = malloc(pdu->securityEngineIDLen);
	if (!eid) {
		vgl__snmp_set_range(p, 0, n, VGL_Q_ERROR);
		vgl__snmp_poll_note(p, "out of memory");
		return;
	}
	memcpy(eid, pdu->securityEngineID, pdu->securityEngineIDLen);
	if (vgl__snmp_cred_localize(h->cred, eid, pdu->securityEngineIDLen) != 0) {
		free(eid);
		vgl__snmp_set_range(p, 0, n, VGL_Q_ERROR);
		vgl__snmp_poll_note(p, "cannot localize v3 keys");
		vgl__snmp_host_log(h, VGL_LOG_WARNING, "cannot localize v3 keys for the agent's engineID");
		return;
	}
	free(h->engine_id);
	h->engine_id = eid;
	h->engine_id_len = pdu->securityEngineIDLen;
	vgl__snmp_host_log(h, VGL_LOG_DEBUG, "engineID learnt (%zu bytes)", h->engine_id_len);
	vgl__snmp_queue_gets(s, p, 0, n);
}

static void got_sec_error(struct req *r, netsnmp_pdu *pdu)
{
	struct poll *p = r->p;
	struct host *h = p->h;
	int ctr = pdu ? vgl__snmp_report_counter(pdu) : 0;

	if (ctr == USM_STATS_UNKNOWN_ENGINE_IDS) {
		/* The agent's engineID changed (a new agent on the address):
		 * forget it, the next poll discovers it again. */
		free(h->engine_id);
		h->engine_id = NULL;
		h->engine_id_len = 0;
		vgl__snmp_set_range(p, r->first, r->count, VGL_Q_ERROR);
		vgl__snmp_poll_note(p, "agent engineID changed");
		return;
	}
	vgl__snmp_set_range(p, r->first, r->count, VGL_Q_AUTH);
	switch (ctr) {
	case 1: vgl__snmp_poll_note(p, "v3: unsupported security level"); break;
	case 2: vgl__snmp_poll_note(p, "v3: not in time window"); break;
	case 3: vgl__snmp_poll_note(p, "v3: unknown user name"); break;
	case 5: vgl__snmp_poll_note(p, "v3: authentication failure (wrong digest)"); break;
	case 6: vgl__snmp_poll_note(p, "v3: decryption error"); break;
	default: vgl__snmp_poll_note(p, "v3: security error"); break;
	}
}

static void got_report(struct vgl_snmp *s, struct req *r, netsnmp_pdu *pdu)
{
	struct poll *p = r->p;

	if (r->kind == REQ_PROBE && pdu->command == SNMP_MSG_REPORT) {
		got_probe_report(s, r, pdu);
	} else if (r->kind == REQ_PROBE) {
		vgl__snmp_set_range(p, 0, (uint32_t)p->h->src->n_metrics, VGL_Q_AUTH);
		vgl__snmp_poll_note(p, "engineID discovery: security error");
	} else {
		got_sec_error(r, pdu);
	}
}

int vgl__snmp_on_pdu(int op, netsnmp_session *sess, int reqid, netsnmp_pdu *pdu, void *magic)
{
	struct req *r = magic;
	struct poll *p;
	struct vgl_snmp *s;
	struct host *h;

	(void)sess; (void)reqid;
	if (!r)
		return 1;
	if (r->in_send)         /* failure inside snmp_sess_async_send: vgl__snmp_send_req handles it */
		return 1;
	p = r->p;
	h = p->h;
	s = h->s;
	if (s->closing) {
		/* snmp_sess_close reports each outstanding request as timed
		 * out; the poll is freed by vgl_snmp_close. */
		if (op == NETSNMP_CALLBACK_OP_TIMED_OUT || op == NETSNMP_CALLBACK_OP_SEND_FAILED) {
			vgl__snmp_ring_release(h->chan, r);
			vgl__snmp_req_free(r);
		}
		return 1;
	}
	switch (op) {
	case NETSNMP_CALLBACK_OP_RECEIVED_MESSAGE:
		if (pdu->command == SNMP_MSG_REPORT) {
			if (r->report_seen)
				break;          /* after OP_SEC_ERROR: final */
			if (snmpv3_get_report_type(pdu) == SNMPERR_NOT_IN_TIME_WINDOW) {
				/* net-snmp resends with the time it just learnt */
				r->nit_seen = 1;
				return 1;
			}
			got_report(s, r, pdu);
			r->report_seen = 1;
			return 1;               /* OP_SEC_ERROR follows: final */
		}
		/* As in vgl__snmp_own_answer: from the host's address and with the
		 * request's community, or not the answer (net-snmp itself
		 * checks neither for v1/v2c). 0 leaves the request in
		 * net-snmp's list, waiting for the real one. */
		if (!same_source(h, pdu)) {
			union sockaddr_u from;
			vgl__snmp_host_rejected(h, pdu_source(pdu, &from), "not the host's address");
			return 0;
		}
		if (h->snmp->version == VGL_SNMP_V2C &&
		    (pdu->community_len != h->comm_len ||
		     (h->comm_len && memcmp(pdu->community, h->comm, h->comm_len) != 0))) {
			union sockaddr_u from;
			vgl__snmp_host_rejected(h, pdu_source(pdu, &from), "community differs from the request's");
			return 0;
		}
		if (h->snmp->version == VGL_SNMP_V2C && pdu->version != SNMP_VERSION_2c) {
			vgl__snmp_host_bad_answer(h, "answer in SNMP version %ld, not v2c", pdu->version);
			vgl__snmp_set_range(p, r->first, r->count, VGL_Q_ERROR);
			vgl__snmp_poll_note(p, "unexpected answer");
		} else if (pdu->command != SNMP_MSG_RESPONSE) {
			vgl__snmp_host_bad_answer(h, "unexpected PDU type 0x%02x", (unsigned)pdu->command);
			vgl__snmp_set_range(p, r->first, r->count, VGL_Q_ERROR);
			vgl__snmp_poll_note(p, "unexpected PDU type");
		} else if (r->kind == REQ_PROBE) {
			vgl__snmp_host_bad_answer(h, "engineID discovery: response instead of a report");
			vgl__snmp_set_range(p, 0, (uint32_t)h->src->n_metrics, VGL_Q_ERROR);
			vgl__snmp_poll_note(p, "engineID discovery failed");
		} else {
			got_response(s, r, pdu);
		}
		break;
	case NETSNMP_CALLBACK_OP_SEC_ERROR:
		if (!r->report_seen && pdu)
			got_report(s, r, pdu);
		if (!r->report_seen && !r->nit_seen) {
			r->report_seen = 1;
			return 1;               /* OP_RECEIVED_MESSAGE follows: final */
		}
		break;
	case NETSNMP_CALLBACK_OP_TIMED_OUT:
		if (r->kind == REQ_PROBE)
			vgl__snmp_set_range(p, 0, (uint32_t)h->src->n_metrics, VGL_Q_TIMEOUT);
		else
			vgl__snmp_set_range(p, r->first, r->count, VGL_Q_TIMEOUT);
		vgl__snmp_poll_note(p, "no answer after %u x %u ms", (unsigned)h->snmp->retries + 1,
			  (unsigned)h->chan->timeout_ms);
		break;
	case NETSNMP_CALLBACK_OP_SEND_FAILED:
		vgl__snmp_set_range(p, r->first, r->count, VGL_Q_ERROR);
		vgl__snmp_poll_note(p, "send failed: %s", strerror(sess && sess->s_errno ? sess->s_errno : EIO));
		break;
	default:                /* OP_RESEND and the like: not final */
		return 1;
	}
	if (h->chan->outstanding > 0)
		h->chan->outstanding--;
	vgl__snmp_ring_release(h->chan, r);
	vgl__snmp_req_end(s, r);
	return 1;
}
