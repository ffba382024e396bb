/* SNMP collector, requests: vigil's own v2c engine (GETs encoded in place,
 * tracked by request-id in a ring, retransmitted from a deadline-ordered
 * FIFO, sent a slot at a time with sendmmsg), sending through net-snmp for
 * v3, and a poll's life from start to result. Apart from the rest as the
 * path every poll takes. */
#include "collectors/snmp_int.h"

/* ---- v2c engine ------------------------------------------------------------- */

int vgl__snmp_tx_alloc(struct vgl_snmp *s)
{
	if (!s->tx && !(s->tx = calloc(1, sizeof(*s->tx))))
		return -ENOMEM;
	return 0;
}

/* The varbinds of a source's metrics, built once per source (a template's
 * is shared by its hosts). */
int vgl__snmp_penc_for(struct vgl_snmp *s, const struct vgl_conf_profile *pr,
		    const struct vgl_conf_source *src, const struct penc **out)
{
	size_t n = src->n_metrics, cap = n * (VGL_BER_OID_MAX + 16), used = 0;
	uint8_t oid[VGL_BER_OID_MAX];
	struct penc *e;
	uint8_t *shrunk;
	int rv = -ENOMEM;

	for (e = s->pencs; e; e = e->next) {
		if (e->src == src) {
			*out = e;
			return 0;
		}
	}
	e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	e->vb = calloc(n + 1, sizeof(*e->vb));
	e->blob = malloc(cap);
	if (!e->vb || !e->blob)
		goto out_free;
	for (size_t i = 0; i < n; i++) {
		const struct vgl_conf_metric *m = &pr->metrics[src->metrics[i]];
		const struct vgl_snmp_metric *sm = vgl_snmp_metric_of(m);
		int ol = vgl_ber_oid_encode(sm->oid, sm->oid_len, oid, sizeof(oid));
		int vl = ol < 0 ? -1 : vgl_ber_vb_null(oid, (size_t)ol, e->blob + used, cap - used);

		if (vl < 0) {
			vgl_err("snmp: metric %s: OID %s cannot be encoded", m->name,
				m->text ? m->text : "?");
			rv = -EINVAL;
			goto out_free;
		}
		e->vb[i].at = (uint32_t)used;
		/* the varbind ends with the OID's contents and a NULL (05 00) */
		e->vb[i].oid_at = (uint32_t)(used + (size_t)vl - 2 - (size_t)ol);
		e->vb[i].oid_len = (uint32_t)ol;
		used += (size_t)vl;
	}
	e->vb[n].at = (uint32_t)used;
	shrunk = realloc(e->blob, used ? used : 1);
	if (shrunk)
		e->blob = shrunk;
	e->src = src;
	e->next = s->pencs;
	s->pencs = e;
	*out = e;
	return 0;

out_free:
	free(e->blob);
	free(e->vb);
	free(e);
	return rv;
}

/* Doubles the request-id ring (or makes the first). Ids in flight are
 * distinct modulo the old size, so they are modulo the new one too. */
int vgl__snmp_ring_grow(struct chan *c)
{
	uint32_t size = c->ring ? (c->ring_mask + 1) * 2 : RING_MIN;
	struct req **nr = calloc(size, sizeof(*nr));

	if (!nr)
		return -ENOMEM;
	if (c->ring) {
		for (uint32_t i = 0; i <= c->ring_mask; i++)
			if (c->ring[i])
				nr[(uint32_t)c->ring[i]->id & (size - 1)] = c->ring[i];
	}
	free(c->ring);
	c->ring = nr;
	c->ring_mask = size - 1;
	return 0;
}

/* Gives r a random request-id whose ring slot is free and takes the slot.
 *
 * Ids come from collectors/reqid.c, so consecutive requests on a socket
 * carry unrelated ids and no agent can tell its neighbours' from its own.
 * The slot is the id's low bits; an id whose slot is taken is drawn again.
 * The ring is kept at most half full, so that takes two draws at most on
 * average; after 32 misses (odds under 2^-32) the nearest free slot is
 * taken with the last draw's high bits, which keeps this O(1) in practice
 * and bounded always.
 *
 * What an agent on the channel still learns from an id: nothing about the
 * next ones (a PRF's outputs), and only that its slot was free at the time
 * (a few bits about which requests were in flight then, of no use for
 * guessing a later id). Blind forgery of a neighbour's answer needs a
 * 31-bit guess per datagram, spoofed from the neighbour's address and
 * port, while the request is in flight. */
int vgl__snmp_ring_claim(struct chan *c, struct req *r)
{
	uint32_t id = 0, slot;

	if ((c->ring_used + 1) * 2 > c->ring_mask + 1 && vgl__snmp_ring_grow(c) < 0)
		return -ENOMEM;
	for (int tries = 0; tries < 32; tries++) {
		id = vgl_reqid_next();
		if (!c->ring[id & c->ring_mask])
			goto found;
	}
	slot = id & c->ring_mask;
	while (c->ring[slot])
		slot = (slot + 1) & c->ring_mask;
	id = (id & ~c->ring_mask) | slot;
	if (id == 0)            /* slot 0 with no high bits: any other will do */
		id = c->ring_mask + 1;
found:
	r->id = (int32_t)id;
	c->ring[id & c->ring_mask] = r;
	r->in_ring = 1;
	c->ring_used++;
	return 0;
}

void vgl__snmp_ring_release(struct chan *c, struct req *r)
{
	if (!r->in_ring)
		return;
	c->ring[(uint32_t)r->id & c->ring_mask] = NULL;
	r->in_ring = 0;
	c->ring_used--;
}

/* Gives r its request-id and puts it in flight. */
static int own_track(struct chan *c, struct req *r)
{
	if (vgl__snmp_ring_claim(c, r) < 0)
		return -ENOMEM;
	r->in_flight = 1;
	r->tries = 0;
	r->fprev = c->fifo_tail;
	r->fnext = NULL;
	if (c->fifo_tail)
		c->fifo_tail->fnext = r;
	else
		c->fifo = r;
	c->fifo_tail = r;
	c->outstanding++;
	return 0;
}

static void fifo_unlink(struct chan *c, struct req *r)
{
	if (r->fprev)
		r->fprev->fnext = r->fnext;
	else
		c->fifo = r->fnext;
	if (r->fnext)
		r->fnext->fprev = r->fprev;
	else
		c->fifo_tail = r->fprev;
	r->fnext = r->fprev = NULL;
}

/* Takes r out of flight: no answer or timeout reaches it any more. */
void vgl__snmp_own_forget(struct chan *c, struct req *r)
{
	if (!r->in_flight)
		return;
	vgl__snmp_ring_release(c, r);
	fifo_unlink(c, r);
	r->in_flight = 0;
	c->outstanding--;
}

/* Ends a request that will not be answered, with quality q. */
static void own_fail(struct chan *c, struct req *r, enum vgl_quality q)
{
	vgl__snmp_own_forget(c, r);
	vgl__snmp_set_range(r->p, r->first, r->count, q);
	vgl__snmp_req_end(c->s, r);
}

/* Sends the batch with as few sendmmsg() calls as the kernel allows. A
 * full socket buffer leaves the rest in flight for their retransmission;
 * a message the kernel refuses (no route, ...) fails its request. Then the
 * channel is read READ_DELAY_MS later: the answers are on their way. */
void vgl__snmp_tx_flush(struct vgl_snmp *s)
{
	struct txbatch *t = s->tx;
	struct chan *c = t->chan;
	uint64_t deadline = vgl__snmp_mono_ms() + c->timeout_ms;
	unsigned k = 0, n = t->n;

	t->n = 0;
	t->used = 0;
	t->chan = NULL;
	/* Deadlines from the time of sending: the loop's clock may be old. */
	for (unsigned i = 0; i < n; i++) {
		t->req[i]->deadline = deadline;
		t->req[i]->unsent = 0;
	}
	while (k < n) {
		int sent = sendmmsg(c->fd, t->msgs + k, n - k, 0);

		if (sent > 0) {
			k += (unsigned)sent;
			continue;
		}
		if (sent < 0 && errno == EINTR)
			continue;
		if (sent < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS)) {
			vgl__snmp_host_log(t->req[k]->p->h, VGL_LOG_DEBUG,
				 "socket buffer full: %u request(s) left to retransmission", n - k);
			/* a last attempt never sent is a send failure, not a timeout */
			for (unsigned i = k; i < n; i++)
				t->req[i]->unsent = 1;
			break;
		} else {
			struct req *r = t->req[k++];
			int e = sent < 0 ? errno : EIO;

			vgl__snmp_poll_note(r->p, "send: %s", strerror(e));
			vgl__snmp_host_log(r->p->h, VGL_LOG_DEBUG, "send failed: %s", strerror(e));
			own_fail(c, r, VGL_Q_ERROR);
		}
	}
	if (!s->closing && c->live) {
		if (!uv_is_active((uv_handle_t *)&c->timer))
			vgl__snmp_chan_rearm(c);
		vgl__snmp_chan_pause(c);
	}
}

/* Encodes the next attempt of r (in flight on c) into the send batch. */
static int tx_add(struct vgl_snmp *s, struct chan *c, struct req *r)
{
	struct txbatch *t = s->tx;
	struct host *h = r->p->h;
	const struct penc *e = h->enc;
	const uint8_t *vbs = e->blob + e->vb[r->first].at;
	size_t vbs_len = e->vb[r->first + r->count].at - e->vb[r->first].at;
	unsigned i;
	int len;

	if (t->n && (t->chan != c || t->n == TX_BATCH))
		vgl__snmp_tx_flush(s);
	for (;;) {
		len = vgl_ber_get_request((const uint8_t *)h->comm, h->comm_len, r->id, vbs,
					  vbs_len, t->buf + t->used, TX_ARENA - t->used);
		if (len >= 0 || t->n == 0)
			break;
		vgl__snmp_tx_flush(s);
	}
	if (len < 0)
		return -1;
	i = t->n++;
	t->chan = c;
	t->iov[i].iov_base = t->buf + t->used;
	t->iov[i].iov_len = (size_t)len;
	memset(&t->msgs[i], 0, sizeof(t->msgs[i]));
	t->msgs[i].msg_hdr.msg_name = &h->addr;
	t->msgs[i].msg_hdr.msg_namelen = h->addr.sa.sa_family == AF_INET6
						 ? sizeof(h->addr.in6) : sizeof(h->addr.in);
	t->msgs[i].msg_hdr.msg_iov = &t->iov[i];
	t->msgs[i].msg_hdr.msg_iovlen = 1;
	t->req[i] = r;
	t->used += (size_t)len;
	r->tries++;
	/* set when sent: until then no timeout can take it */
	r->deadline = UINT64_MAX;
	return 0;
}

/* First attempt of a v2c GET. */
static void own_send(struct vgl_snmp *s, struct req *r)
{
	struct chan *c = r->p->h->chan;

	if (own_track(c, r) < 0) {
		vgl__snmp_poll_note(r->p, "out of memory");
		vgl__snmp_set_range(r->p, r->first, r->count, VGL_Q_ERROR);
		vgl__snmp_req_end(s, r);
		return;
	}
	if (tx_add(s, c, r) < 0) {
		vgl__snmp_poll_note(r->p, "request for %u OIDs does not fit in %d bytes",
			  (unsigned)r->count, TX_ARENA);
		own_fail(c, r, VGL_Q_ERROR);
	}
}

/* Requests whose attempt is overdue: sent again, or timed out after their
 * last. The FIFO is in deadline order, so only its head is looked at. */
void vgl__snmp_own_timeouts(struct chan *c)
{
	struct vgl_snmp *s = c->s;
	uint64_t now = vgl__snmp_mono_ms();
	struct req *r;

	while ((r = c->fifo) && r->deadline <= now) {
		if (r->tries <= c->retries) {
			fifo_unlink(c, r);
			r->fprev = c->fifo_tail;
			if (c->fifo_tail)
				c->fifo_tail->fnext = r;
			else
				c->fifo = r;
			c->fifo_tail = r;
			if (tx_add(s, c, r) < 0)        /* it fitted before */
				own_fail(c, r, VGL_Q_ERROR);
			continue;
		}
		if (r->unsent) {
			vgl__snmp_poll_note(r->p, "send: socket buffer full");
			own_fail(c, r, VGL_Q_ERROR);
			continue;
		}
		vgl__snmp_poll_note(r->p, "no answer after %u x %u ms", (unsigned)r->tries,
			  (unsigned)c->timeout_ms);
		own_fail(c, r, VGL_Q_TIMEOUT);
	}
}


static int numeric_tag(unsigned t)
{
	return t == VGL_BER_INTEGER || t == VGL_BER_COUNTER32 || t == VGL_BER_GAUGE32 ||
	       t == VGL_BER_TIMETICKS || t == VGL_BER_COUNTER64 || t == VGL_BER_UINTEGER32;
}

/* The varbinds of a v2c answer to r, against what r asked.
 *
 * One pass, no allocation: each name is checked against the request's as
 * its value is read. An answer whose names are not the request's, in
 * order and number (a GET's answer echoes them; a tooBig one may carry
 * none, RFC 3416 4.2.1), is not this request's answer, whoever sent it:
 * values read so far are overwritten and the request fails (vgl__snmp_got_unasked).
 * So a value that is not a number is only reported once the whole list
 * has passed, and only the first of an answer (the rest are errors too,
 * unlogged): a complaint about an answer then rejected would mislead. */
void vgl__snmp_own_response(struct vgl_snmp *s, struct req *r, const struct vgl_ber_msg *m)
{
	struct poll *p = r->p;
	struct host *h = p->h;
	const struct penc *e = h->enc;
	const uint8_t *pos = m->vbs, *end = m->vbs + m->vbs_len;
	/* values are read from a noError answer only */
	int take = m->error_status == SNMP_ERR_NOERROR;
	uint32_t bad = UINT32_MAX;
	unsigned bad_type = 0;
	const char *bad_why = NULL;
	struct vgl_ber_vb vb;
	const char *why;
	uint32_t i;

	if (m->error_status == SNMP_ERR_TOOBIG && m->vbs_len == 0) {
		(void)vgl__snmp_got_status(s, r, (long)m->error_status, (long)m->error_index);
		return;
	}
	for (i = 0;; i++) {
		const struct penc_vb *want;
		double x = 0;
		int rc = vgl_ber_vb_next(&pos, end, &vb, &why);

		if (rc == 0)
			break;
		if (rc < 0) {
			vgl__snmp_got_unasked(r, "malformed varbind %u in answer: %s", (unsigned)i, why);
			return;
		}
		if (i == r->count) {
			vgl__snmp_got_unasked(r, "varbind count mismatch in answer: more than the %u asked",
				    (unsigned)r->count);
			return;
		}
		want = &e->vb[r->first + i];
		if (vb.oid_len != want->oid_len ||
		    memcmp(vb.oid, e->blob + want->oid_at, vb.oid_len) != 0) {
			char got[96];
			vgl_ber_oid_text(vb.oid, vb.oid_len, got, sizeof(got));
			vgl__snmp_got_wrong_oid(r, i, got);
			return;
		}
		if (!take)
			continue;
		if (vgl_ber_vb_number(&vb, &x, &why) == 0) {
			vgl__snmp_got_value(r, i, vb.type, 1, x);
		} else if (vb.type == VGL_BER_NOSUCHOBJECT || vb.type == VGL_BER_NOSUCHINSTANCE ||
			   vb.type == VGL_BER_ENDOFMIBVIEW) {
			vgl__snmp_got_value(r, i, vb.type, 0, 0);
		} else {
			p->values[r->first + i].q = VGL_Q_ERROR;
			p->values[r->first + i].v = 0;
			if (bad == UINT32_MAX) {
				bad = i;
				bad_type = vb.type;
				bad_why = numeric_tag(vb.type) ? why : NULL;
			}
		}
	}
	if (i < r->count) {
		vgl__snmp_got_unasked(r, "varbind count mismatch in answer: %u of the %u asked", (unsigned)i,
			    (unsigned)r->count);
		return;
	}
	if (vgl__snmp_got_status(s, r, (long)m->error_status, (long)m->error_index))
		return;
	if (bad != UINT32_MAX)
		vgl__snmp_got_not_number(r, bad, bad_type, bad_why);
}

/* One datagram on a v2c channel. In order: it must decode, name a
 * request in flight (by its random id), come from that request's host
 * (address and port) and carry that request's community; failing any of
 * these it is not the answer and the request keeps waiting. Then it must
 * be a v2c Response naming the request's OIDs (vgl__snmp_own_response); failing
 * that it is the answer, malformed, and the request fails. */
void vgl__snmp_own_answer(struct chan *c, const uint8_t *buf, size_t len,
		       const union sockaddr_u *from)
{
	struct vgl_ber_msg m;
	const char *why;
	struct req *r;
	struct host *h;

	if (vgl_ber_msg_parse(buf, len, &m, &why) != 0) {
		h = vgl__snmp_host_at(c, from);
		if (h)
			vgl__snmp_host_bad_answer(h, "undecodable answer (%zu bytes): %s", len, why);
		else
			vgl_debug("snmp: undecodable datagram (%zu bytes) from an unknown address: %s",
				  len, why);
		return;
	}
	r = c->ring[(uint32_t)m.request_id & c->ring_mask];
	if (!r || r->id != m.request_id) {
		/* An answer after its request timed out, a duplicate (an agent
		 * answering both attempts), or not ours: nothing waits for it.
		 * Common under load, so only named at debug level. */
		if (!vgl_log_debug_enabled())
			return;
		h = vgl__snmp_host_at(c, from);
		if (h)
			vgl__snmp_host_log(h, VGL_LOG_DEBUG, "answer to no request in flight (id %ld) ignored",
				 (long)m.request_id);
		return;
	}
	h = r->p->h;
	if (!vgl__snmp_same_addr(&h->addr, from)) {
		vgl__snmp_host_rejected(h, from, "not the host's address");
		return;
	}
	/* An agent answers with the community it was asked with; another
	 * one means the datagram was made by someone else (or by an agent
	 * that should not be trusted with this host's polls). */
	if (m.community_len != h->comm_len || memcmp(m.community, h->comm, h->comm_len) != 0) {
		vgl__snmp_host_rejected(h, from, "community differs from the request's");
		return;
	}
	vgl__snmp_own_forget(c, r);
	if (m.version != VGL_BER_VERSION_2C || m.pdu_type != VGL_BER_RESPONSE) {
		if (m.version != VGL_BER_VERSION_2C)
			vgl__snmp_host_bad_answer(h, "answer in SNMP version field %lld, not v2c (1)",
					(long long)m.version);
		else
			vgl__snmp_host_bad_answer(h, "unexpected PDU type 0x%02x", (unsigned)m.pdu_type);
		vgl__snmp_set_range(r->p, r->first, r->count, VGL_Q_ERROR);
		vgl__snmp_poll_note(r->p, "unexpected answer");
	} else {
		vgl__snmp_own_response(c->s, r, &m);
	}
	vgl__snmp_req_end(c->s, r);
}

/* ---- sending --------------------------------------------------------------- */

static netsnmp_pdu *build_pdu(struct host *h, const struct req *r)
{
	const struct vgl_snmp_source *c = h->snmp;
	netsnmp_pdu *pdu = snmp_pdu_create(SNMP_MSG_GET);

	if (!pdu)
		return NULL;
	if (h->addr.sa.sa_family == AF_INET6) {
		pdu->transport_data = malloc(sizeof(struct sockaddr_in6));
		if (!pdu->transport_data)
			goto out_free_pdu;
		memcpy(pdu->transport_data, &h->addr.in6, sizeof(struct sockaddr_in6));
		pdu->transport_data_length = sizeof(struct sockaddr_in6);
	} else {
		netsnmp_indexed_addr_pair *ap = calloc(1, sizeof(*ap));
		if (!ap)
			goto out_free_pdu;
		ap->remote_addr.sin = h->addr.in;
		pdu->transport_data = ap;
		pdu->transport_data_length = sizeof(*ap);
	}
	if (c->version == VGL_SNMP_V3) {
		const char *name = r->kind == REQ_PROBE ? "" : c->user;
		pdu->version = SNMP_VERSION_3;
		pdu->securityModel = SNMP_SEC_MODEL_USM;
		pdu->securityLevel = r->kind == REQ_PROBE ? SNMP_SEC_LEVEL_NOAUTH
							  : SNMP_SEC_LEVEL_AUTHPRIV;
		pdu->securityName = strdup(name);
		pdu->contextName = strdup("");
		if (!pdu->securityName || !pdu->contextName)
			goto out_free_pdu;
		pdu->securityNameLen = strlen(name);
		pdu->contextNameLen = 0;
		if (r->kind == REQ_GET) {
			pdu->securityEngineID = netsnmp_memdup(h->engine_id, h->engine_id_len);
			pdu->contextEngineID = netsnmp_memdup(h->engine_id, h->engine_id_len);
			if (!pdu->securityEngineID || !pdu->contextEngineID)
				goto out_free_pdu;
			pdu->securityEngineIDLen = h->engine_id_len;
			pdu->contextEngineIDLen = h->engine_id_len;
		}
	} else {
		const char *comm = c->community ? c->community : "public";
		pdu->version = SNMP_VERSION_2c;
		pdu->community = (u_char *)strdup(comm);
		if (!pdu->community)
			goto out_free_pdu;
		pdu->community_len = strlen(comm);
	}
	for (uint32_t i = r->first; i < r->first + r->count; i++) {
		const struct vgl_snmp_metric *m = vgl_snmp_metric_of(vgl__snmp_hmetric(h, i));
		if (!snmp_add_null_var(pdu, m->oid, m->oid_len))
			goto out_free_pdu;
	}
	return pdu;

out_free_pdu:
	snmp_free_pdu(pdu);
	return NULL;
}

void vgl__snmp_send_req(struct vgl_snmp *s, struct req *r)
{
	struct poll *p = r->p;
	struct host *h = p->h;
	struct chan *c = h->chan;
	netsnmp_session *ss;
	netsnmp_pdu *pdu;
	int rc;

	if (c->own) {
		own_send(s, r);
		return;
	}
	pdu = build_pdu(h, r);
	if (!pdu) {
		vgl__snmp_set_range(p, r->first, r->count, VGL_Q_ERROR);
		vgl__snmp_poll_note(p, "cannot build a PDU");
		vgl__snmp_req_end(s, r);
		return;
	}
	/* net-snmp's own request-ids run on by one from a start seeded with
	 * the time of day (snmp_pdu_create -> snmp_get_next_reqid), and it
	 * keeps the PDU's id for every retransmission: ours replace them, as
	 * in the v2c engine, distinct among the session's requests in flight
	 * (the ring), since net-snmp hands an answer to the first request
	 * with its id. A v3 message also carries a msgID in clear, by which
	 * net-snmp matches v3 answers; ours replaces the first attempt's, but
	 * net-snmp draws each resend's from its own counter
	 * (snmp_resend_request -> snmp_get_next_msgid), which the API offers
	 * no way to change. v3 answers are authenticated, so a guessed msgID
	 * alone forges nothing but an unauthenticated Report (docs/snmp.md). */
	if (vgl__snmp_ring_claim(c, r) < 0) {
		snmp_free_pdu(pdu);
		vgl__snmp_set_range(p, r->first, r->count, VGL_Q_ERROR);
		vgl__snmp_poll_note(p, "out of memory");
		vgl__snmp_req_end(s, r);
		return;
	}
	pdu->reqid = r->id;
	if (c->version == VGL_SNMP_V3)
		pdu->msgid = vgl_reqid_next();
	ss = snmp_sess_session(c->sessp);
	if (c->version == VGL_SNMP_V3 && ss->securityEngineIDLen) {
		/* net-snmp adopts the first Report's engineID as the session's
		 * and would stamp it on our probes; each PDU names its own. */
		SNMP_FREE(ss->securityEngineID);
		ss->securityEngineIDLen = 0;
		SNMP_FREE(ss->contextEngineID);
		ss->contextEngineIDLen = 0;
	}
	ss->flags |= SNMP_FLAGS_DONT_PROBE;
	r->in_send = 1;
	rc = snmp_sess_async_send(c->sessp, pdu, vgl__snmp_on_pdu, r);
	r->in_send = 0;
	if (rc == 0) {
		int e = ss->s_snmp_errno;
		vgl__snmp_ring_release(c, r);
		snmp_free_pdu(pdu);
		vgl__snmp_set_range(p, r->first, r->count,
			  e == SNMPERR_USM_UNKNOWNSECURITYNAME || e == SNMPERR_UNKNOWN_USER_NAME
				  ? VGL_Q_AUTH : VGL_Q_ERROR);
		vgl__snmp_poll_note(p, "send: %s", e == SNMPERR_BAD_SENDTO && ss->s_errno
					   ? strerror(ss->s_errno) : snmp_api_errstring(e));
		vgl__snmp_host_log(h, VGL_LOG_DEBUG, "send failed: %s", snmp_api_errstring(e));
		vgl__snmp_req_end(s, r);
		return;
	}
	c->outstanding++;
	if (!uv_is_active((uv_handle_t *)&c->timer))
		uv_timer_start(&c->timer, vgl__snmp_on_chan_timer, (uint64_t)c->timeout_ms + 1, 0);
	vgl__snmp_chan_pause(c);
}

/* ---- polls ----------------------------------------------------------------- */

void vgl__snmp_start_poll(struct vgl_snmp *s, struct host *h)
{
	size_t n = h->src->n_metrics;
	/* Allocated per poll, not kept per host: a record per host would cost
	 * ~0.6 KiB per host for a malloc that tcache serves in nanoseconds. */
	struct poll *p = calloc(1, sizeof(*p) + n * sizeof(p->values[0]));

	if (!p) {
		vgl__snmp_host_log(h, VGL_LOG_ERR, "out of memory starting a poll");
		return;
	}
	p->h = h;
	p->start_ms = vgl__snmp_wall_ms();
	h->poll = p;
	s->st.in_flight++;
	for (size_t i = 0; i < n; i++)
		p->values[i].q = VGL_Q_ERROR;
	/* pending counts the setup itself so the poll cannot finish while
	 * its first PDUs are being queued. */
	p->pending = 1;
	if (!h->addr_ok) {
		vgl__snmp_set_range(p, 0, (uint32_t)n, VGL_Q_ERROR);
		vgl__snmp_poll_note(p, h->resolving ? "address not resolved yet" : "cannot vgl__snmp_resolve address");
	} else if (h->snmp->version == VGL_SNMP_V3 && !h->engine_id) {
		struct req *r = vgl__snmp_req_new(p, REQ_PROBE, 0, 0);
		if (r) {
			vgl__snmp_sendq_push(s, r);
		} else {
			vgl__snmp_set_range(p, 0, (uint32_t)n, VGL_Q_ERROR);
			vgl__snmp_poll_note(p, "out of memory");
		}
	} else {
		vgl__snmp_queue_gets(s, p, 0, (uint32_t)n);
	}
	vgl__snmp_poll_done_one(s, p);
}

static void finish_poll(struct vgl_snmp *s, struct poll *p)
{
	struct host *h = p->h;
	struct vgl_poll_result res = { 0 };
	size_t n = h->src->n_metrics, ok = 0;

	res.host = h->idx;
	res.source = h->src_idx;
	res.metrics = h->src->metrics;
	res.ts_ms = p->start_ms;
	res.n_values = n;
	res.values = p->values;
	for (size_t i = 0; i < n; i++)
		ok += p->values[i].q == VGL_Q_OK;
	if (p->answered)
		res.quality = VGL_Q_OK;
	else if (p->any_auth)
		res.quality = VGL_Q_AUTH;
	else if (p->any_error)
		res.quality = VGL_Q_ERROR;
	else
		res.quality = VGL_Q_TIMEOUT;
	res.detail = p->detail[0] ? p->detail : NULL;
	res.interval_ms = h->src->interval_ms;

	/* collectd's c_complain: once when a host starts failing, once when
	 * it recovers, debug in between. */
	if (res.quality != VGL_Q_OK) {
		vgl__snmp_host_log(h, h->failing ? VGL_LOG_DEBUG : VGL_LOG_WARNING, "poll failed (%s): %s",
			 vgl_quality_name(res.quality), res.detail ? res.detail : "no detail");
		h->failing = 1;
	} else if (h->failing) {
		vgl__snmp_host_log(h, VGL_LOG_NOTICE, "answers again");
		h->failing = 0;
	}

	s->st.polls++;
	s->st.values += ok;
	if (res.quality == VGL_Q_TIMEOUT)
		s->st.timeouts++;
	s->st.in_flight--;
	h->poll = NULL;
	s->fn(s->ctx, &res);
	free(p);
}

/* Runs what net-snmp callbacks queued, delivers finished polls and starts
 * waiting ones, until nothing is left or the collector is being closed. */
void vgl__snmp_drain(struct vgl_snmp *s)
{
	if (s->draining)
		return;
	s->draining = 1;
	while (!s->closing) {
		if (s->sendq) {
			struct req *r = s->sendq;
			s->sendq = r->next;
			if (!s->sendq)
				s->sendq_tail = NULL;
			vgl__snmp_send_req(s, r);
		} else if (s->tx && s->tx->n) {
			/* a slot's GETs go out together, before any result */
			vgl__snmp_tx_flush(s);
		} else if (s->doneq) {
			struct poll *p = s->doneq;
			s->doneq = p->next_done;
			if (!s->doneq)
				s->doneq_tail = NULL;
			finish_poll(s, p);
		} else if (s->waitq && s->st.in_flight < s->max_in_flight) {
			struct host *h = s->waitq;
			s->waitq = h->next_wait;
			if (!s->waitq)
				s->waitq_tail = NULL;
			h->queued = 0;
			h->next_wait = NULL;
			vgl__snmp_start_poll(s, h);
		} else {
			break;
		}
	}
	s->draining = 0;
}

/* Reads what the channel's socket holds, up to RECV_ROUNDS batches, and
 * hands each datagram to the v2c engine or to net-snmp. */
void vgl__snmp_chan_read(struct chan *c)
{
	struct vgl_snmp *s = c->s;
	struct rxbatch *b = s->rx;
	netsnmp_session *ss = NULL;

	if (s->closing || !c->live)
		return;
	if (!c->own)
		ss = snmp_sess_session(c->sessp);
	/* One recvmmsg() per batch instead of a recvmsg, a getsockname and
	 * an ioctl(FIONREAD) per datagram; a short batch means the socket
	 * is drained. */
	for (int round = 0; round < RECV_ROUNDS; round++) {
		int n;

		for (int i = 0; i < RECV_BATCH; i++)
			b->msgs[i].msg_hdr.msg_namelen = sizeof(b->from[i]);
		n = recvmmsg(c->fd, b->msgs, RECV_BATCH, MSG_DONTWAIT, NULL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				vgl_log_errno(VGL_LOG_DEBUG, "snmp: recvmmsg");
			break;
		}
		b->chan = c;
		b->n = n;
		b->next = 0;
		for (int i = 0; i < n; i++) {
			int rc;

			if (c->own) {
				vgl__snmp_own_answer(c, b->buf + (size_t)i * RECV_SLOT, b->msgs[i].msg_len,
					   &b->from[i]);
				vgl__snmp_drain(s);
				if (s->closing)
					return;
				continue;
			}
			NETSNMP_LARGE_FD_SET(c->fd, &s->fds);
			ss->s_snmp_errno = 0;
			vgl__snmp_rx_current = b;
			rc = snmp_sess_read2(c->sessp, &s->fds);
			vgl__snmp_rx_current = NULL;
			NETSNMP_LARGE_FD_CLR(c->fd, &s->fds);
			/* read2 took datagram i (or failed before: skip it) */
			b->next = i + 1;
			if (rc != 0 && ss->s_snmp_errno != 0 &&
			    ss->s_snmp_errno != SNMPERR_BAD_RECVFROM)
				vgl__snmp_bad_datagram(c, &b->from[i], b->msgs[i].msg_len, ss->s_snmp_errno);
			vgl__snmp_drain(s);
			if (s->closing)
				return;
		}
		b->n = 0;
		if (n < RECV_BATCH)
			break;
	}
	/* A timer armed for a request answered since fires early and re-arms
	 * from the requests left; only an idle channel needs it stopped now. */
	if (c->outstanding == 0)
		uv_timer_stop(&c->timer);
}

void vgl__snmp_on_read_tick(uv_timer_t *t)
{
	struct vgl_snmp *s = t->data;
	/* Taken whole: reading may send (a split request), which pauses its
	 * channel again for the next tick. */
	struct chan *list = s->paused;

	s->paused = NULL;
	for (struct chan *c = list; c; c = c->next_paused)
		c->ticking = 1;
	while (list && !s->closing) {
		struct chan *c = list;
		list = c->next_paused;
		c->next_paused = NULL;
		c->paused = 0;
		c->ticking = 0;
		vgl__snmp_chan_read(c);
		if (s->closing || !c->live)
			continue;
		if (c->pause_again) {
			c->pause_again = 0;
			vgl__snmp_chan_pause(c);
		} else if (!c->paused) {
			/* Level-triggered: still readable means readable again at once. */
			uv_poll_start(&c->poll, UV_READABLE, vgl__snmp_on_readable);
		}
	}
}

void vgl__snmp_on_readable(uv_poll_t *hd, int status, int events)
{
	struct chan *c = hd->data;
	struct vgl_snmp *s = c->s;

	(void)events;
	if (s->closing || !c->live)
		return;
	if (status < 0) {
		vgl_warn("snmp: socket poll: %s", uv_strerror(status));
		return;
	}
	vgl__snmp_chan_pause(c);
}
