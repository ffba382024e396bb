/* SNMP collector, the wire side: SNMPv3 credentials (USM users localized
 * per engineID), receiving (recvmmsg batches served to net-snmp through the
 * channel transport's f_recv, answers matched to their host), and the
 * channels themselves (sockets and sessions shared by up to 512 hosts).
 * Apart from the rest because it is the one part that knows sockets and
 * net-snmp's transport. */
#include "collectors/snmp_int.h"

/* usmStats counters, the varbind of a USM Report (RFC 3414): .1.3.6.1.6.3.15.1.1.N.0 */
static const oid usm_stats_prefix[] = { 1, 3, 6, 1, 6, 3, 15, 1, 1 };

/* ---- v3 --------------------------------------------------------------------- */

static int auth_proto(const char *name, const oid **o, size_t *len)
{
	if (!name || !strcasecmp(name, "SHA") || !strcasecmp(name, "SHA1") ||
	    !strcasecmp(name, "SHA-1")) {
		*o = usmHMACSHA1AuthProtocol;
		*len = OID_LENGTH(usmHMACSHA1AuthProtocol);
	} else if (!strcasecmp(name, "MD5")) {
		*o = usmHMACMD5AuthProtocol;
		*len = OID_LENGTH(usmHMACMD5AuthProtocol);
	} else {
		return -1;
	}
	return 0;
}

static int priv_proto(const char *name, const oid **o, size_t *len)
{
	if (!name || !strcasecmp(name, "AES") || !strcasecmp(name, "AES128") ||
	    !strcasecmp(name, "AES-128")) {
		*o = usmAESPrivProtocol;
		*len = OID_LENGTH(usmAESPrivProtocol);
	} else if (!strcasecmp(name, "DES")) {
		*o = usmDESPrivProtocol;
		*len = OID_LENGTH(usmDESPrivProtocol);
	} else {
		return -1;
	}
	return 0;
}

void vgl__snmp_cred_free(struct v3cred *c)
{
	free(c->tmpl.securityName);
	free(c);
}

/* Ku (RFC 3414 password-to-key: a megabyte of hashing) once per source's
 * settings (a template's, shared by its hosts), not per host. */
int vgl__snmp_cred_get(struct vgl_snmp *s, const struct host *h, struct v3cred **out)
{
	const struct vgl_snmp_source *c = h->snmp;
	const oid *ap, *pp;
	size_t aplen, pplen;
	struct v3cred *cr;

	for (cr = s->creds; cr; cr = cr->next) {
		if (cr->snmp == h->snmp) {
			*out = cr;
			return 0;
		}
	}
	if (!c->user || !*c->user || !c->auth_key || !c->priv_key) {
		vgl__snmp_host_log(h, VGL_LOG_ERR, "v3 needs user, auth_key and priv_key");
		return -EINVAL;
	}
	if (auth_proto(c->auth_protocol, &ap, &aplen) != 0) {
		vgl__snmp_host_log(h, VGL_LOG_ERR, "unsupported auth_protocol \"%s\"", c->auth_protocol);
		return -EINVAL;
	}
	if (priv_proto(c->priv_protocol, &pp, &pplen) != 0) {
		vgl__snmp_host_log(h, VGL_LOG_ERR, "unsupported priv_protocol \"%s\"", c->priv_protocol);
		return -EINVAL;
	}
	cr = calloc(1, sizeof(*cr));
	if (!cr)
		return -ENOMEM;
	snmp_sess_init(&cr->tmpl);
	cr->snmp = h->snmp;
	cr->tmpl.version = SNMP_VERSION_3;
	cr->tmpl.securityModel = SNMP_SEC_MODEL_USM;
	cr->tmpl.securityLevel = SNMP_SEC_LEVEL_AUTHPRIV;
	cr->tmpl.securityName = strdup(c->user);
	if (!cr->tmpl.securityName) {
		free(cr);
		return -ENOMEM;
	}
	cr->tmpl.securityNameLen = strlen(c->user);
	/* usm_create_user_from_session copies these protocol OIDs. */
	cr->tmpl.securityAuthProto = (oid *)ap;
	cr->tmpl.securityAuthProtoLen = aplen;
	cr->tmpl.securityPrivProto = (oid *)pp;
	cr->tmpl.securityPrivProtoLen = pplen;
	cr->tmpl.securityAuthKeyLen = USM_AUTH_KU_LEN;
	cr->tmpl.securityPrivKeyLen = USM_PRIV_KU_LEN;
	if (generate_Ku(ap, (u_int)aplen, (const u_char *)c->auth_key, strlen(c->auth_key),
			cr->tmpl.securityAuthKey, &cr->tmpl.securityAuthKeyLen) != SNMPERR_SUCCESS ||
	    generate_Ku(ap, (u_int)aplen, (const u_char *)c->priv_key, strlen(c->priv_key),
			cr->tmpl.securityPrivKey, &cr->tmpl.securityPrivKeyLen) != SNMPERR_SUCCESS) {
		vgl__snmp_host_log(h, VGL_LOG_ERR, "cannot derive v3 keys (passphrases need 8+ characters)");
		vgl__snmp_cred_free(cr);
		return -EINVAL;
	}
	cr->next = s->creds;
	s->creds = cr;
	*out = cr;
	return 0;
}

/* Registers the USM user localized for the host's engineID (once per
 * engineID and user name: agents sharing an engineID share the entry). */
int vgl__snmp_cred_localize(struct v3cred *cr, const u_char *eid, size_t eid_len)
{
	int rc;

	cr->tmpl.securityEngineID = (u_char *)eid;
	cr->tmpl.securityEngineIDLen = eid_len;
	cr->tmpl.flags &= ~SNMP_FLAGS_USER_CREATED;
	rc = usm_create_user_from_session(&cr->tmpl);
	cr->tmpl.securityEngineID = NULL;
	cr->tmpl.securityEngineIDLen = 0;
	return rc == SNMPERR_SUCCESS ? 0 : -1;
}

int vgl__snmp_report_counter(const netsnmp_pdu *pdu)
{
	const netsnmp_variable_list *v = pdu->variables;
	size_t n = OID_LENGTH(usm_stats_prefix);

	if (!v || v->name_length < n + 1 ||
	    snmp_oid_compare(v->name, n, usm_stats_prefix, n) != 0)
		return 0;
	return (int)v->name[n];
}

/* ---- receiving ---------------------------------------------------------------- */

/* The batch vgl__snmp_chan_read is handing to net-snmp, for vgl__snmp_chan_recv: net-snmp
 * gives f_recv nothing but the transport. Set only around snmp_sess_read2
 * on the loop's thread. */
_Thread_local struct rxbatch *vgl__snmp_rx_current;

/* The channel transports' f_recv, in place of net-snmp's UDP recv (a
 * recvmsg with IP_PKTINFO plus a getsockname per datagram): serves the
 * next datagram of the batch vgl__snmp_chan_read took with one recvmmsg(). The
 * source address is returned as net-snmp's own recv does (udpbase:
 * a malloc'd netsnmp_indexed_addr_pair; udp6: a malloc'd sockaddr_in6);
 * net-snmp owns it from here and frees it with the PDU or on error. */
int vgl__snmp_chan_recv(netsnmp_transport *t, void *buf, int size, void **opaque, int *olength)
{
	struct rxbatch *b = vgl__snmp_rx_current;
	const union sockaddr_u *from;
	size_t len;
	int i;

	*opaque = NULL;
	*olength = 0;
	if (!b || !t || b->chan->fd != t->sock || b->next >= b->n || size <= 0) {
		errno = EAGAIN;
		return -1;
	}
	i = b->next++;
	from = &b->from[i];
	len = b->msgs[i].msg_len;
	if (len > (size_t)size)
		len = (size_t)size;
	if (from->sa.sa_family == AF_INET6) {
		struct sockaddr_in6 *a = malloc(sizeof(*a));
		if (!a) {
			errno = ENOMEM;
			return -1;
		}
		*a = from->in6;
		*opaque = a;
		*olength = (int)sizeof(*a);
	} else {
		netsnmp_indexed_addr_pair *ap = calloc(1, sizeof(*ap));
		if (!ap) {
			errno = ENOMEM;
			return -1;
		}
		ap->remote_addr.sin = from->in;
		*opaque = ap;
		*olength = (int)sizeof(*ap);
	}
	memcpy(buf, b->buf + (size_t)i * RECV_SLOT, len);
	return (int)len;
}

static int rx_alloc(struct vgl_snmp *s)
{
	struct rxbatch *b;

	if (s->rx)
		return 0;
	b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	b->buf = malloc((size_t)RECV_BATCH * RECV_SLOT);
	if (!b->buf) {
		free(b);
		return -ENOMEM;
	}
	for (int i = 0; i < RECV_BATCH; i++) {
		b->iov[i].iov_base = b->buf + (size_t)i * RECV_SLOT;
		b->iov[i].iov_len = RECV_SLOT;
		b->msgs[i].msg_hdr.msg_iov = &b->iov[i];
		b->msgs[i].msg_hdr.msg_iovlen = 1;
		b->msgs[i].msg_hdr.msg_name = &b->from[i];
	}
	s->rx = b;
	return 0;
}

int vgl__snmp_same_addr(const union sockaddr_u *a, const union sockaddr_u *b)
{
	if (a->sa.sa_family != b->sa.sa_family)
		return 0;
	if (a->sa.sa_family == AF_INET6)
		return !memcmp(&a->in6.sin6_addr, &b->in6.sin6_addr, sizeof(a->in6.sin6_addr)) &&
		       a->in6.sin6_port == b->in6.sin6_port;
	return a->in.sin_addr.s_addr == b->in.sin_addr.s_addr &&
	       a->in.sin_port == b->in.sin_port;
}

/* The host of channel c at address from, if any: a search of the
 * channel's hosts (at most CHAN_HOSTS), for the rare datagrams that cannot
 * be matched by request-id. */
struct host *vgl__snmp_host_at(struct chan *c, const union sockaddr_u *from)
{
	for (uint32_t i = 0; i < c->n_hosts; i++) {
		struct host *h = c->members[i];
		if (h->addr_ok && vgl__snmp_same_addr(&h->addr, from))
			return h;
	}
	return NULL;
}

/* A datagram net-snmp could not decode: logged against the host it came
 * from (a linear search, but only on this rare path). Security errors of
 * v3 answers are not malformed; net-snmp reports those to vgl__snmp_on_pdu. */
void vgl__snmp_bad_datagram(struct chan *c, const union sockaddr_u *from, size_t len, int err)
{
	int malformed = err == SNMPERR_BAD_PARSE || err == SNMPERR_ASN_PARSE_ERR ||
			err == SNMPERR_UNKNOWN_PDU || err == SNMPERR_BAD_VERSION ||
			err == SNMPERR_TOO_LONG || err == SNMPERR_USM_PARSEERROR;
	struct host *h;

	if (!malformed && !vgl_log_debug_enabled())
		return;
	h = vgl__snmp_host_at(c, from);
	if (h && malformed)
		vgl__snmp_host_bad_answer(h, "undecodable answer (%zu bytes): %s", len,
				snmp_api_errstring(err));
	else if (h)
		vgl__snmp_host_log(h, VGL_LOG_DEBUG, "answer not processed: %s", snmp_api_errstring(err));
	else
		vgl_debug("snmp: datagram from an unknown address not processed: %s",
			  snmp_api_errstring(err));
}

/* ---- channels ---------------------------------------------------------------- */



/* The address c's socket is bound to matches source_address. net-snmp
 * binds to the session's localname, but falls back to 0.0.0.0 without a
 * word should it fail to parse it, so this is checked, not assumed. */
static int chan_check_bound(struct chan *c, const char *src)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);

	if (getsockname(c->fd, (struct sockaddr *)&a, &len) != 0) {
		vgl_log_errno(VGL_LOG_ERR, "snmp: getsockname");
		return -EIO;
	}
	if (a.sin_family != AF_INET || a.sin_addr.s_addr != c->src_addr) {
		vgl_err("snmp: net-snmp did not bind its socket to source_address %s", src);
		return -EIO;
	}
	return 0;
}

/* v3, or v2c with engine "net-snmp": a net-snmp session whose socket
 * vgl__snmp_chan_read feeds through vgl__snmp_chan_recv. */
static int chan_open_session(struct chan *c)
{
	netsnmp_session sess;
	netsnmp_transport *t;
	char src[INET_ADDRSTRLEN];
	int fl, rv;

	/* Not to find answers (net-snmp does), but to keep the random ids
	 * of the session's requests distinct: see vgl__snmp_send_req. */
	rv = vgl__snmp_ring_grow(c);
	if (rv < 0)
		return rv;
	snmp_sess_init(&sess);
	/* A placeholder peer: every PDU names its own destination. */
	sess.peername = c->family == AF_INET6 ? "udp6:[::1]:9" : "udp:127.0.0.1:9";
	if (c->bound) {
		/* the transport binds to it ("clientaddr"), port 0 */
		if (!inet_ntop(AF_INET, &c->src_addr, src, sizeof(src)))
			return -EINVAL;
		sess.localname = src;
	}
	sess.timeout = (long)c->timeout_ms * 1000L;
	sess.retries = (int)c->retries;
	if (c->version == VGL_SNMP_V3) {
		sess.version = SNMP_VERSION_3;
		sess.securityModel = SNMP_SEC_MODEL_USM;
		sess.flags |= SNMP_FLAGS_DONT_PROBE;
	} else {
		/* a placeholder too: every PDU carries its own */
		sess.version = SNMP_VERSION_2c;
		sess.community = (u_char *)"public";
		sess.community_len = 6;
	}
	c->sessp = snmp_sess_open(&sess);
	if (!c->sessp) {
		/* a failed bind reads "Unknown host" in net-snmp's words */
		vgl_err("snmp: cannot open a session%s%s: %s%s", c->bound ? " from " : "",
			c->bound ? src : "", snmp_api_errstring(snmp_errno),
			c->bound ? " (is source_address an address of this machine?)" : "");
		return -EIO;
	}
	/* snmp_sess_open clears the flag when it returns; without it the
	 * first v3 send with no session engineID probes synchronously. */
	snmp_sess_session(c->sessp)->flags |= SNMP_FLAGS_DONT_PROBE;
	t = snmp_sess_transport(c->sessp);
	if (!t || t->sock < 0)
		goto out_close;
	c->fd = t->sock;
	if (c->bound && chan_check_bound(c, src) < 0)
		goto out_close;
	t->f_recv = vgl__snmp_chan_recv;
	fl = fcntl(c->fd, F_GETFL);
	if (fl < 0 || fcntl(c->fd, F_SETFL, fl | O_NONBLOCK) < 0) {
		vgl_log_errno(VGL_LOG_ERR, "snmp: fcntl O_NONBLOCK");
		goto out_close;
	}
	return 0;

out_close:
	snmp_sess_close(c->sessp);
	c->sessp = NULL;
	return -EIO;
}

/* v2c: a socket of vigil's own engine, bound to source_address port 0
 * when one is given, else unbound (the kernel picks the port at the first
 * send, and the source address per destination). */
static int chan_open_socket(struct chan *c)
{
	int rv;

	c->fd = socket(c->family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0) {
		rv = -errno;
		vgl_log_errno(VGL_LOG_ERR, "snmp: socket");
		return rv;
	}
	if (c->bound) {
		struct sockaddr_in a = { .sin_family = AF_INET };
		char src[INET_ADDRSTRLEN] = "?";

		a.sin_addr.s_addr = c->src_addr;
		if (bind(c->fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
			rv = -errno;
			inet_ntop(AF_INET, &c->src_addr, src, sizeof(src));
			vgl_log_errno(VGL_LOG_ERR, "snmp: bind to source_address %s", src);
			close(c->fd);
			return rv;
		}
	}
	rv = vgl__snmp_ring_grow(c);
	if (rv < 0) {
		close(c->fd);
		return rv;
	}
	c->own = 1;
	return 0;
}

int vgl__snmp_chan_open(struct vgl_snmp *s, int family, int version, int own,
		     uint32_t timeout_ms, uint32_t retries, const struct host *h,
		     struct chan **out)
{
	struct chan *c;
	int rv, rcvbuf = 1 << 20;

	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	rv = rx_alloc(s);
	if (rv < 0)
		goto out_free;
	c->s = s;
	c->family = family;
	c->version = version;
	c->timeout_ms = timeout_ms;
	c->retries = retries;
	c->bound = h->bound;
	c->src_addr = h->src_addr;
	c->fd = -1;
	if (own && (rv = vgl__snmp_tx_alloc(s)) < 0)
		goto out_free;
	rv = own ? chan_open_socket(c) : chan_open_session(c);
	if (rv < 0) {
		free(c->ring);
		goto out_free;
	}
	/* Room for a burst of answers from hundreds of hosts; the kernel caps
	 * it at net.core.rmem_max, which is fine. */
	(void)setsockopt(c->fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	rv = uv_poll_init(s->loop, &c->poll, c->fd);
	if (rv < 0) {
		vgl_err("snmp: uv_poll_init: %s", uv_strerror(rv));
		goto out_close;
	}
	c->poll.data = c;
	c->open_handles++;
	s->open_handles++;
	rv = uv_timer_init(s->loop, &c->timer);
	if (rv == 0) {
		c->timer.data = c;
		c->open_handles++;
		s->open_handles++;
		rv = uv_poll_start(&c->poll, UV_READABLE, vgl__snmp_on_readable);
	}
	/* From here vgl_snmp_close releases it, even when not live. */
	c->next = s->chans;
	s->chans = c;
	if (rv < 0) {
		vgl_err("snmp: uv_poll_start: %s", uv_strerror(rv));
		return rv;
	}
	c->live = 1;
	*out = c;
	return 0;

out_close:
	if (c->sessp)
		snmp_sess_close(c->sessp);
	else
		close(c->fd);
	free(c->ring);
out_free:
	free(c);
	return rv;
}

/* Makes h one of c's hosts. */
int vgl__snmp_chan_add_host(struct chan *c, struct host *h)
{
	if (c->n_hosts == c->cap_members) {
		uint32_t cap = c->cap_members ? c->cap_members * 2 : 16;
		struct host **m = realloc(c->members, cap * sizeof(*m));
		if (!m)
			return -ENOMEM;
		c->members = m;
		c->cap_members = cap;
	}
	c->members[c->n_hosts++] = h;
	return 0;
}

/* Whether a host's requests go through vigil's v2c engine. */
int vgl__snmp_host_own(const struct host *h)
{
	return h->snmp->version == VGL_SNMP_V2C && h->snmp->engine != VGL_SNMP_ENGINE_NETSNMP;
}

int vgl__snmp_chan_for(struct vgl_snmp *s, const struct host *h, struct chan **out)
{
	const struct vgl_snmp_source *c = h->snmp;
	int family = h->addr_ok ? h->addr.sa.sa_family : AF_INET;
	uint32_t timeout = h->src->timeout_ms ? h->src->timeout_ms : 1000;
	int own = vgl__snmp_host_own(h);

	for (struct chan *ch = s->chans; ch; ch = ch->next) {
		if (ch->family == family && ch->version == (int)c->version &&
		    (int)ch->own == own && ch->timeout_ms == timeout &&
		    ch->retries == c->retries && ch->n_hosts < CHAN_HOSTS && ch->live &&
		    ch->bound == h->bound && ch->src_addr == h->src_addr) {
			*out = ch;
			return 0;
		}
	}
	return vgl__snmp_chan_open(s, family, (int)c->version, own, timeout, c->retries, h, out);
}

/* Arms the channel's timer for net-snmp's earliest retransmission or
 * timeout; nothing outstanding, no timer. */
void vgl__snmp_chan_rearm(struct chan *c)
{
	struct vgl_snmp *s = c->s;
	struct timeval tv = { 0, 0 };
	int numfds = 0, block = 1;
	uint64_t ms;

	if (s->closing || !c->live)
		return;
	if (c->outstanding == 0) {
		uv_timer_stop(&c->timer);
		return;
	}
	if (c->own) {
		/* The FIFO's head is the earliest deadline; one still being
		 * sent (UINT64_MAX) waits for vgl__snmp_tx_flush to re-arm. */
		uint64_t now = vgl__snmp_mono_ms();
		if (!c->fifo || c->fifo->deadline == UINT64_MAX)
			return;
		ms = c->fifo->deadline > now ? c->fifo->deadline - now + 1 : 0;
		uv_timer_start(&c->timer, vgl__snmp_on_chan_timer, ms, 0);
		return;
	}
	snmp_sess_select_info2_flags(c->sessp, &numfds, &s->fds, &tv, &block,
				     NETSNMP_SELECT_NOALARMS);
	NETSNMP_LARGE_FD_CLR(c->fd, &s->fds);
	if (block) {
		uv_timer_stop(&c->timer);
		return;
	}
	/* Rounded up, plus one: firing a hair early would find nothing due. */
	ms = (uint64_t)tv.tv_sec * 1000 + ((uint64_t)tv.tv_usec + 999) / 1000 + 1;
	uv_timer_start(&c->timer, vgl__snmp_on_chan_timer, ms, 0);
}


void vgl__snmp_on_chan_timer(uv_timer_t *t)
{
	struct chan *c = t->data;
	struct vgl_snmp *s = c->s;

	if (s->closing || !c->live)
		return;
	/* Answers that arrived in time may be waiting, for the read tick or
	 * behind a loop that stalled (libuv runs timers before it polls the
	 * sockets): take them before their requests time out. A v2c
	 * channel's timer also fires early for a head answered since; then
	 * nothing is due and the socket is left to its poll. */
	if (c->paused || !c->own || (c->fifo && c->fifo->deadline <= vgl__snmp_mono_ms())) {
		vgl__snmp_chan_read(c);
		if (s->closing || !c->live)
			return;
	}
	if (c->own)
		vgl__snmp_own_timeouts(c);
	else
		snmp_sess_timeout(c->sessp);
	vgl__snmp_drain(s);
	if (!s->closing)
		vgl__snmp_chan_rearm(c);
}

/* Stops watching the socket for READ_DELAY_MS: answers are coming (a
 * batch was just sent, or the first answer is in), and reading them in
 * one go later costs one wakeup instead of one per answer. The read tick
 * reads the socket and watches it again. */
void vgl__snmp_chan_pause(struct chan *c)
{
	struct vgl_snmp *s = c->s;

	if (c->paused) {
		/* still to be read by the tick running now: too early for
		 * what was just sent, so it pauses again after that read */
		if (c->ticking)
			c->pause_again = 1;
		return;
	}
	uv_poll_stop(&c->poll);
	c->paused = 1;
	c->next_paused = s->paused;
	s->paused = c;
	if (!uv_is_active((uv_handle_t *)&s->rtick))
		uv_timer_start(&s->rtick, vgl__snmp_on_read_tick, READ_DELAY_MS, 0);
}
