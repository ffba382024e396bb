/* SNMP collector on the libuv loop.
 *
 * Channels are shared. One channel (one UDP socket, unbound or bound to
 * the profile's source_address, a uv_poll on it and a uv_timer for its
 * retransmissions) serves up to CHAN_HOSTS hosts with the same version,
 * timeout, retries and source_address; each request names its own
 * destination and carries its own community or USM user. A socket per
 * host would cost a descriptor, two uv handles and a session per host:
 * 100,000 hosts would need 100,000 descriptors (more than many hard limits)
 * and far more than 2 KiB each. See docs/snmp.md.
 *
 * Two engines drive channels:
 *  - v3 channels are net-snmp sessions (snmp_sess_* API): USM, engineID
 *    discovery, keys and crypto are net-snmp's. Each PDU carries its host's
 *    address in pdu->transport_data, which net-snmp's UDP transports use as
 *    the destination.
 *  - v2c channels are vigil's own: GETs are encoded and answers decoded
 *    by collectors/ber.c in place, requests are matched by request-id in a
 *    ring (struct chan.ring), retransmitted from a deadline-ordered FIFO,
 *    and sent a slot's worth at a time with sendmmsg(). net-snmp's PDU
 *    objects cost about 2.2 KiB of calloc per OID per poll; this path
 *    allocates nothing per request.
 *
 * Answers are checked on both engines, since neighbours on a channel see
 * its port: a random request-id (collectors/reqid.c) of a request in
 * flight, the request's host address and port, the request's community
 * (v2c; net-snmp checks none of these but the id), else the datagram is
 * dropped and the request keeps waiting; then the request's OIDs in order,
 * else the request fails. What that does and does not stop: docs/snmp.md,
 * "What SNMPv2c can and cannot protect against".
 *
 * Nothing here blocks the loop:
 *  - sockets are non-blocking, read (with recvmmsg, through our own
 *    transport f_recv) only after uv_poll said so;
 *  - net-snmp would probe a v3 agent's engineID synchronously when a v3
 *    session opens or sends without one. Channels keep SNMP_FLAGS_DONT_PROBE
 *    set and no engineID of their own; a host's first poll sends the probe
 *    (a noAuth GET with an empty user) asynchronously, learns the engineID
 *    from the Report and registers the localized USM user for it;
 *  - DNS names are resolved with uv_getaddrinfo.
 *
 * Re-entrancy: net-snmp calls on_pdu() from inside snmp_sess_read2() and
 * snmp_sess_timeout(), and a result callback may call vgl_snmp_close(). So
 * on_pdu() and the v2c answer handler only record outcomes and queue
 * follow-up work; drain() runs it (sends, then results) after they have
 * returned, and results reach fn only from drain().
 *
 * Scheduling: collectors/sched.c, shared with every back end: hosts of one
 * interval share one sorted list and one timer; first polls are spread
 * evenly over the interval in host_idx order. host_due() decides, for a
 * host whose poll is due, whether it starts, waits for an in-flight slot
 * or is skipped.
 *
 * Lifetimes: a poll (one per running host poll) owns its values; a req
 * (one per PDU; a poll's first lives inside the poll) points at its poll.
 * On a v3 channel net-snmp holds it between a successful send and its
 * final callback (received, timed out, send failed or security error),
 * after which on_pdu() frees it; on a v2c channel its channel's ring and
 * FIFO hold it from its first send until it is answered, times out or
 * fails to send.
 */
#include "collectors/snmp_int.h"

static void handle_closed(struct vgl_snmp *s);

/* ---- net-snmp library setup --------------------------------------------- */

static int netsnmp_log_cb(int major, int minor, void *serverarg, void *clientarg)
{
	const struct snmp_log_message *m = serverarg;
	char line[512];
	size_t n;

	(void)major; (void)minor; (void)clientarg;
	if (!m || !m->msg)
		return 0;
	n = strlen(m->msg);
	while (n > 0 && (m->msg[n - 1] == '\n' || m->msg[n - 1] == '\r'))
		n--;
	if (n >= sizeof(line))
		n = sizeof(line) - 1;
	memcpy(line, m->msg, n);
	line[n] = '\0';
	/* net-snmp's library errors are rare and about our own use of it;
	 * its chatter (MIB lookups, debug) is not worth an operator's time. */
	if (m->priority <= LOG_ERR)
		vgl_warn("net-snmp: %s", line);
	else
		vgl_debug("net-snmp: %s", line);
	return 0;
}

static pthread_once_t lib_once = PTHREAD_ONCE_INIT;
static int lib_ok;

static void lib_init_once(void)
{
	netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DONT_READ_CONFIGS, 1);
	netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DONT_PERSIST_STATE, 1);
	netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DISABLE_PERSISTENT_LOAD, 1);
	netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DISABLE_PERSISTENT_SAVE, 1);
	netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DONT_LOAD_HOST_FILES, 1);
	netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_MIB_ERRORS, 0);
	netsnmp_ds_set_int(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_MIB_WARNINGS, 0);
	/* No SIGALRM: the library's alarms are never run here. */
	netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_ALARM_DONT_USE_SIG, 1);
	/* Should anything still be written, it goes to a private temp dir,
	 * never to /var/lib/snmp. The path is only ever created by net-snmp. */
	if (!netsnmp_ds_get_string(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_PERSISTENT_DIR)) {
		char dir[256];
		const char *t = getenv("TMPDIR");
		snprintf(dir, sizeof(dir), "%s/vigil-snmp-%ld", t && *t ? t : "/tmp",
			 (long)getpid());
		netsnmp_ds_set_string(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_PERSISTENT_DIR, dir);
	}
	snmp_disable_log();
	if (!netsnmp_register_loghandler(NETSNMP_LOGHANDLER_CALLBACK, LOG_DEBUG) ||
	    snmp_register_callback(SNMP_CALLBACK_LIBRARY, SNMP_CALLBACK_LOGGING,
				   netsnmp_log_cb, NULL) != SNMPERR_SUCCESS) {
		vgl_err("snmp: cannot route net-snmp's log");
		return;
	}
	/* An empty MIBS keeps init_snmp from reading net-snmp's default
	 * module list; conf/mib.c sets the same before its own MIB init,
	 * whichever runs first. Only numeric OIDs are used here. */
	if (!getenv("MIBS") && setenv("MIBS", "", 1) != 0) {
		vgl_log_errno(VGL_LOG_ERR, "snmp: setenv MIBS");
		return;
	}
	init_snmp("vigil");
	{
		/* init_snmp creates the persistent dir (and cert_indexes in
		 * it) even with persistence off; nothing is ever written
		 * there, so remove the empty dirs rather than leave one per
		 * process behind in /tmp. */
		const char *pd = netsnmp_ds_get_string(NETSNMP_DS_LIBRARY_ID,
						       NETSNMP_DS_LIB_PERSISTENT_DIR);
		char sub[300];
		if (pd && strstr(pd, "/vigil-snmp-")) {
			snprintf(sub, sizeof(sub), "%s/cert_indexes", pd);
			(void)rmdir(sub);
			(void)rmdir(pd);
		}
	}
	lib_ok = 1;
}

static int lib_init(void)
{
	if (pthread_once(&lib_once, lib_init_once) != 0 || !lib_ok)
		return -EIO;
	return 0;
}

/* ---- small helpers -------------------------------------------------------- */

/* Monotonic ms, fresher than uv_now() inside a long loop iteration. */
uint64_t vgl__snmp_mono_ms(void)
{
	return uv_hrtime() / 1000000u;
}

int64_t vgl__snmp_wall_ms(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
		return 0;
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static const char *addr_text(const union sockaddr_u *sa, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN] = "?";

	if (sa->sa.sa_family == AF_INET6) {
		inet_ntop(AF_INET6, &sa->in6.sin6_addr, a, sizeof(a));
		snprintf(buf, len, "[%s]:%u", a, (unsigned)ntohs(sa->in6.sin6_port));
	} else {
		inet_ntop(AF_INET, &sa->in.sin_addr, a, sizeof(a));
		snprintf(buf, len, "%s:%u", a, (unsigned)ntohs(sa->in.sin_port));
	}
	return buf;
}

/* Metric i of the host's source (its i-th), as the profile has it. */
const struct vgl_conf_metric *vgl__snmp_hmetric(const struct host *h, uint32_t i)
{
	return &h->conf->profile->metrics[h->src->metrics[i]];
}

static const char *host_source(const struct host *h, char *buf, size_t len)
{
	if (!h->addr_ok) {
		snprintf(buf, len, "%s:%u", h->conf->address, (unsigned)h->snmp->port);
		return buf;
	}
	return addr_text(&h->addr, buf, len);
}

void vgl__snmp_host_log(const struct host *h, enum vgl_log_level lvl, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

void vgl__snmp_host_log(const struct host *h, enum vgl_log_level lvl, const char *fmt, ...)
{
	char src[80], msg[512];
	va_list ap;

	if (lvl == VGL_LOG_DEBUG && !vgl_log_debug_enabled())
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	vgl_log(lvl, "host %s snmp %s: %s", h->conf->name,
		host_source(h, src, sizeof(src)), msg);
}

/* A malformed answer is logged once per host at warning, then at debug:
 * it usually means a config that will not fix itself between polls. */
void vgl__snmp_host_bad_answer(struct host *h, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

void vgl__snmp_host_bad_answer(struct host *h, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	vgl__snmp_host_log(h, h->warned_bad ? VGL_LOG_DEBUG : VGL_LOG_WARNING, "%s", msg);
	h->warned_bad = 1;
}

/* A datagram that names one of h's requests in flight but is not its
 * answer (from another address, with another community): dropped like a
 * foreign datagram, and the request keeps waiting for the real one.
 * Counted; logged once per host at warning (a forgery attempt or a
 * misconfigured agent, either worth a line), then at debug, so a flood of
 * them cannot flood the log. The community itself is never logged. */
void vgl__snmp_host_rejected(struct host *h, const union sockaddr_u *from, const char *why)
{
	char src[80];

	h->s->st.rejected++;
	if (h->warned_rejected && !vgl_log_debug_enabled())
		return;
	vgl__snmp_host_log(h, h->warned_rejected ? VGL_LOG_DEBUG : VGL_LOG_WARNING,
		 "answer from %s ignored: %s", from ? addr_text(from, src, sizeof(src)) : "?",
		 why);
	h->warned_rejected = 1;
}


void vgl__snmp_poll_note(struct poll *p, const char *fmt, ...)
{
	va_list ap;

	if (p->detail[0])
		return;
	va_start(ap, fmt);
	vsnprintf(p->detail, sizeof(p->detail), fmt, ap);
	va_end(ap);
}

void vgl__snmp_set_range(struct poll *p, uint32_t first, uint32_t count, enum vgl_quality q)
{
	for (uint32_t i = first; i < first + count; i++) {
		p->values[i].q = q;
		p->values[i].v = 0;
	}
	if (q == VGL_Q_AUTH)
		p->any_auth = 1;
	else if (q == VGL_Q_ERROR)
		p->any_error = 1;
}

void vgl__snmp_sendq_push(struct vgl_snmp *s, struct req *r)
{
	r->next = NULL;
	if (s->sendq_tail)
		s->sendq_tail->next = r;
	else
		s->sendq = r;
	s->sendq_tail = r;
}

struct req *vgl__snmp_req_new(struct poll *p, enum req_kind kind, uint32_t first, uint32_t count)
{
	struct req *r;

	if (!p->req0_used) {
		r = &p->req0;
		memset(r, 0, sizeof(*r));
		p->req0_used = 1;
	} else if (!(r = calloc(1, sizeof(*r)))) {
		return NULL;
	}
	r->p = p;
	r->kind = kind;
	r->first = first;
	r->count = count;
	p->pending++;
	return r;
}

void vgl__snmp_poll_done_one(struct vgl_snmp *s, struct poll *p)
{
	if (--p->pending > 0)
		return;
	p->next_done = NULL;
	if (s->doneq_tail)
		s->doneq_tail->next_done = p;
	else
		s->doneq = p;
	s->doneq_tail = p;
}

void vgl__snmp_req_free(struct req *r)
{
	if (r == &r->p->req0)
		r->p->req0_used = 0;
	else
		free(r);
}

/* Ends a req: frees it and, when it was the poll's last, queues the poll. */
void vgl__snmp_req_end(struct vgl_snmp *s, struct req *r)
{
	struct poll *p = r->p;

	vgl__snmp_req_free(r);
	vgl__snmp_poll_done_one(s, p);
}

/* Queues GETs for metrics [first, first+count) in PDUs of at most max_oids. */
void vgl__snmp_queue_gets(struct vgl_snmp *s, struct poll *p, uint32_t first, uint32_t count)
{
	uint32_t max = p->h->snmp->max_oids_per_pdu ? p->h->snmp->max_oids_per_pdu : 20;

	while (count > 0) {
		uint32_t n = count < max ? count : max;
		struct req *r = vgl__snmp_req_new(p, REQ_GET, first, n);
		if (!r) {
			vgl__snmp_set_range(p, first, count, VGL_Q_ERROR);
			vgl__snmp_poll_note(p, "out of memory");
			return;
		}
		vgl__snmp_sendq_push(s, r);
		first += n;
		count -= n;
	}
}

/* ---- hosts and scheduling --------------------------------------------------- */

/* A host's poll is due: start it, queue it for an in-flight slot, or skip
 * it when its previous poll still runs. */
static void host_due(struct vgl_snmp *s, struct host *h)
{
	if (!h->addr_ok && !h->resolving)
		(void)vgl__snmp_resolve(s, h);    /* again; this poll reports the failure */
	if (h->poll || h->queued) {
		s->st.skipped++;
		vgl__snmp_host_log(h, VGL_LOG_DEBUG, "previous poll still running; skipped");
	} else if (s->st.in_flight < s->max_in_flight && !s->waitq) {
		vgl__snmp_start_poll(s, h);
	} else {
		h->queued = 1;
		h->next_wait = NULL;
		if (s->waitq_tail)
			s->waitq_tail->next_wait = h;
		else
			s->waitq = h;
		s->waitq_tail = h;
	}
}

/* The scheduler's view of a host (collectors/sched.h). */
static void on_host_due(void *ctx, struct vgl_sched_entry *e)
{
	host_due(ctx, (struct host *)((char *)e - offsetof(struct host, sched)));
}

/* After a tick's due hosts: their requests leave, one sendmmsg a channel. */
static void on_sched_tick(void *ctx)
{
	vgl__snmp_drain(ctx);
}

static void sched_closed(void *ctx)
{
	handle_closed(ctx);
}

static void on_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
	struct resolve_req *w = req->data;
	struct vgl_snmp *s = w->s;
	struct host *h = w->h;          /* NULL once the collector closed */

	if (h)
		h->resolving = NULL;
	if (h && !s->closing) {
		uint16_t port = h->snmp->port ? h->snmp->port : 161;
		struct chan *c;

		if (status == 0 && res && res->ai_addrlen <= sizeof(h->addr)) {
			memcpy(&h->addr, res->ai_addr, res->ai_addrlen);
			if (h->addr.sa.sa_family == AF_INET6)
				h->addr.in6.sin6_port = htons(port);
			else
				h->addr.in.sin_port = htons(port);
			if (vgl__snmp_chan_for(s, h, &c) == 0 && vgl__snmp_chan_add_host(c, h) == 0) {
				h->chan = c;
				h->addr_ok = 1;
				vgl__snmp_host_log(h, VGL_LOG_DEBUG, "resolved");
			} else {
				vgl__snmp_host_log(h, VGL_LOG_ERR, "resolved, but no channel to poll it on "
					 "(out of memory or descriptors)");
			}
		} else {
			vgl__snmp_host_log(h, h->failing ? VGL_LOG_DEBUG : VGL_LOG_WARNING,
				 "cannot vgl__snmp_resolve: %s", status ? uv_strerror(status) : "no address");
		}
	}
	if (res)
		uv_freeaddrinfo(res);
	free(w);
	handle_closed(s);       /* last: may free s */
}

int vgl__snmp_resolve(struct vgl_snmp *s, struct host *h)
{
	struct addrinfo hints;
	struct resolve_req *w = calloc(1, sizeof(*w));
	int rv;

	if (!w)
		return -ENOMEM;
	memset(&hints, 0, sizeof(hints));
	/* an IPv4 source_address can only reach IPv4 addresses */
	hints.ai_family = h->bound ? AF_INET : AF_UNSPEC;
	hints.ai_socktype = SOCK_DGRAM;
	w->s = s;
	w->h = h;
	w->req.data = w;
	rv = uv_getaddrinfo(s->loop, &w->req, on_resolved, h->conf->address, NULL, &hints);
	if (rv < 0) {
		free(w);
		return rv;
	}
	h->resolving = w;
	s->open_handles++;
	return 0;
}

int vgl_snmp_add_source(struct vgl_snmp *s, uint32_t host_idx, const struct vgl_conf_host *host,
			uint32_t source)
{
	const struct vgl_conf_profile *pr;
	const struct vgl_conf_source *src;
	const struct vgl_snmp_source *sn;
	struct host *h;
	uint16_t port;
	int rv;

	if (!s || !host || !host->profile || s->closing)
		return -EINVAL;
	pr = host->profile;
	if (source >= pr->n_sources || pr->sources[source].be != &vgl_snmp_conf_backend) {
		vgl_err("host %s: source %u is not an SNMP source", host->name, (unsigned)source);
		return -EINVAL;
	}
	src = &pr->sources[source];
	sn = vgl_snmp_source_of(src);
	if (src->n_metrics == 0) {
		vgl_err("host %s: no snmp metrics to poll for source %s", host->name, src->name);
		return -EINVAL;
	}
	if (sn->version != VGL_SNMP_V2C && sn->version != VGL_SNMP_V3) {
		vgl_err("host %s: unsupported snmp version %d", host->name, (int)sn->version);
		return -EINVAL;
	}
	if (s->n_hosts == s->cap_hosts) {
		size_t cap = s->cap_hosts ? s->cap_hosts * 2 : 64;
		struct host **nh = realloc(s->hosts, cap * sizeof(*nh));
		if (!nh)
			return -ENOMEM;
		s->hosts = nh;
		s->cap_hosts = cap;
	}
	h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	h->s = s;
	h->conf = host;
	h->src = src;
	h->src_idx = source;
	h->snmp = sn;
	h->idx = host_idx;
	h->comm = sn->community ? sn->community : "public";
	h->comm_len = strlen(h->comm);
	if (sn->source_address) {
		struct in_addr src;
		if (inet_pton(AF_INET, sn->source_address, &src) != 1) {
			vgl_err("host %s: source_address \"%s\" is not an IPv4 address", host->name,
				sn->source_address);
			rv = -EINVAL;
			goto out_free_host;
		}
		/* 0.0.0.0 is the default: no bind, channels shared with
		 * hosts that do not give it */
		h->src_addr = src.s_addr;
		h->bound = src.s_addr != htonl(INADDR_ANY);
	}
	port = sn->port ? sn->port : 161;
	if (inet_pton(AF_INET, host->address, &h->addr.in.sin_addr) == 1) {
		h->addr.in.sin_family = AF_INET;
		h->addr.in.sin_port = htons(port);
		h->addr_ok = 1;
	} else if (inet_pton(AF_INET6, host->address, &h->addr.in6.sin6_addr) == 1) {
		h->addr.in6.sin6_family = AF_INET6;
		h->addr.in6.sin6_port = htons(port);
		h->addr_ok = 1;
		if (h->bound) {
			vgl_err("host %s: IPv6 address %s cannot be polled from the IPv4 "
				"source_address %s", host->name, host->address,
				sn->source_address);
			rv = -EINVAL;
			goto out_free_host;
		}
	}
	if (sn->version == VGL_SNMP_V3) {
		rv = vgl__snmp_cred_get(s, h, &h->cred);
		if (rv < 0)
			goto out_free_host;
	} else if (vgl__snmp_host_own(h)) {
		rv = vgl__snmp_penc_for(s, pr, src, &h->enc);
		if (rv < 0)
			goto out_free_host;
	}
	if (h->addr_ok) {
		rv = vgl__snmp_chan_for(s, h, &h->chan);
		if (rv < 0) {
			vgl__snmp_host_log(h, VGL_LOG_ERR, "no snmp session: %s", uv_strerror(rv));
			goto out_free_host;
		}
	}
	if (h->chan && (rv = vgl__snmp_chan_add_host(h->chan, h)) < 0)
		goto out_free_host;
	s->hosts[s->n_hosts++] = h;
	s->st.hosts++;
	if (!h->chan && (rv = vgl__snmp_resolve(s, h)) < 0)
		vgl__snmp_host_log(h, VGL_LOG_WARNING, "cannot vgl__snmp_resolve: %s", uv_strerror(rv));

	/* Last, as it cannot be undone: the host is the collector's now (its
	 * memory goes at close), and a scheduler that cannot take it leaves
	 * it configured but never polled, said once. */
	rv = vgl_sched_add(s->sched, &h->sched, src->interval_ms, h->idx);
	if (rv < 0)
		vgl__snmp_host_log(h, VGL_LOG_ERR, "cannot be scheduled: %s; not polled", uv_strerror(rv));
	return rv;

out_free_host:
	free(h);
	return rv;
}

/* ---- create / stats / close ----------------------------------------------- */

static void free_on_close(uv_handle_t *hd)
{
	free(hd->data);
}

int vgl_snmp_create(uv_loop_t *loop, uint32_t max_in_flight, vgl_poll_fn *fn, void *ctx,
		    struct vgl_snmp **out)
{
	struct vgl_snmp *s;
	int rv;

	if (!loop || !fn || !out)
		return -EINVAL;
	rv = lib_init();
	if (rv < 0)
		return rv;
	rv = vgl_reqid_init();
	if (rv < 0) {
		vgl_err("snmp: cannot seed request-ids from getrandom: %s", strerror(-rv));
		return rv;
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->loop = loop;
	s->fn = fn;
	s->ctx = ctx;
	s->max_in_flight = max_in_flight ? max_in_flight : DEFAULT_IN_FLIGHT;
	rv = vgl_sched_new(loop, on_host_due, on_sched_tick, s, &s->sched);
	if (rv < 0) {
		free(s);
		return rv;
	}
	rv = uv_timer_init(loop, &s->rtick);
	if (rv < 0) {
		vgl_sched_close(s->sched, NULL, NULL);  /* no group yet: freed at once */
		free(s);
		return rv;
	}
	s->rtick.data = s;
	rv = uv_timer_init(loop, &s->anchor);
	if (rv < 0) {
		/* the loop knows rtick now: s goes when it is closed */
		vgl_sched_close(s->sched, NULL, NULL);
		uv_close((uv_handle_t *)&s->rtick, free_on_close);
		return rv;
	}
	s->anchor.data = s;
	s->open_handles = 2;
	s->open_handles = 3;            /* the scheduler counts as one */
	netsnmp_large_fd_set_init(&s->fds, FD_SETSIZE);
	*out = s;
	return 0;
}

void vgl_snmp_get_stats(const struct vgl_snmp *s, struct vgl_snmp_stats *out)
{
	*out = s->st;
	/* periods a stalled loop missed entirely are skipped polls too */
	if (s->sched)
		out->skipped += vgl_sched_missed(s->sched);
}

static void finish_close(struct vgl_snmp *s)
{
	void (*done)(void *) = s->done;
	void *ctx = s->done_ctx;

	while (s->creds) {
		struct v3cred *c = s->creds;
		s->creds = c->next;
		vgl__snmp_cred_free(c);
	}
	for (size_t i = 0; i < s->n_hosts; i++) {
		free(s->hosts[i]->engine_id);
		free(s->hosts[i]);
	}
	while (s->pencs) {
		struct penc *e = s->pencs;
		s->pencs = e->next;
		free(e->blob);
		free(e->vb);
		free(e);
	}
	free(s->tx);
	netsnmp_large_fd_set_cleanup(&s->fds);
	if (s->rx) {
		free(s->rx->buf);
		free(s->rx);
	}
	free(s->hosts);
	free(s);
	if (done)
		done(ctx);
}

static void handle_closed(struct vgl_snmp *s)
{
	if (--s->open_handles == 0)
		finish_close(s);
}

static void anchor_close_cb(uv_handle_t *hd)
{
	handle_closed(hd->data);
}

void vgl__snmp_chan_close_cb(uv_handle_t *hd)
{
	struct chan *c = hd->data;
	struct vgl_snmp *s = c->s;

	/* A v2c socket is ours to close, once nothing polls it. */
	if (hd == (uv_handle_t *)&c->poll && c->own && c->fd >= 0) {
		close(c->fd);
		c->fd = -1;
	}
	if (--c->open_handles == 0) {
		free(c->ring);
		free(c->members);
		free(c);
	}
	handle_closed(s);
}

void vgl_snmp_close(struct vgl_snmp *s, void (*done)(void *ctx), void *ctx)
{
	if (!s || s->closing)
		return;
	s->closing = 1;
	s->done = done;
	s->done_ctx = ctx;

	/* Requests first: snmp_sess_close reports each outstanding request
	 * to vgl__snmp_on_pdu as timed out, which (closing) only frees the req; a v2c
	 * channel's are freed here. Polls go below. */
	if (s->tx) {
		s->tx->n = 0;
		s->tx->used = 0;
		s->tx->chan = NULL;
	}
	for (struct chan *c = s->chans; c; c = c->next) {
		c->live = 0;
		if (c->sessp) {
			snmp_sess_close(c->sessp);
			c->sessp = NULL;
		}
		while (c->fifo) {
			struct req *r = c->fifo;
			vgl__snmp_own_forget(c, r);
			vgl__snmp_req_free(r);
		}
	}
	while (s->sendq) {
		struct req *r = s->sendq;
		s->sendq = r->next;
		vgl__snmp_req_free(r);
	}
	s->sendq_tail = NULL;
	s->doneq = s->doneq_tail = NULL;
	s->waitq = s->waitq_tail = NULL;
	for (size_t i = 0; i < s->n_hosts; i++) {
		struct host *h = s->hosts[i];
		free(h->poll);
		h->poll = NULL;
		/* The getaddrinfo callback still runs (UV_ECANCELED, or the
		 * answer if it was already under way) and drops its count in
		 * open_handles then; it must not touch the host. */
		if (h->resolving) {
			h->resolving->h = NULL;
			(void)uv_cancel((uv_req_t *)&h->resolving->req);
			h->resolving = NULL;
		}
	}
	vgl_sched_close(s->sched, sched_closed, s);
	s->sched = NULL;
	for (struct chan *c = s->chans, *next; c; c = next) {
		next = c->next;
		/* vgl__snmp_chan_open may have failed between the two inits. */
		int n = c->open_handles;
		uv_close((uv_handle_t *)&c->poll, vgl__snmp_chan_close_cb);
		if (n == 2)
			uv_close((uv_handle_t *)&c->timer, vgl__snmp_chan_close_cb);
	}
	s->chans = NULL;
	s->paused = NULL;
	uv_close((uv_handle_t *)&s->rtick, anchor_close_cb);
	uv_close((uv_handle_t *)&s->anchor, anchor_close_cb);
}

/* ---- the collector interface (collectors/collector.h) ------------------ */

static int be_create(uv_loop_t *loop, const struct vgl_conf *conf, vgl_poll_fn *fn, void *ctx,
		       void **out)
{
	struct vgl_snmp *s = NULL;
	int rv = vgl_snmp_create(loop, vgl_snmp_max_in_flight(conf), fn, ctx, &s);

	*out = rv == 0 ? s : NULL;
	return rv;
}

static int be_add_source(void *be, uint32_t host_idx, const struct vgl_conf_host *host,
			 uint32_t source)
{
	return vgl_snmp_add_source(be, host_idx, host, source);
}

static void be_stats(const void *be, struct vgl_collector_stats *out)
{
	struct vgl_snmp_stats st;

	vgl_snmp_get_stats(be, &st);
	*out = (struct vgl_collector_stats){
		.polls = st.polls, .timeouts = st.timeouts, .skipped = st.skipped,
		.values = st.values, .rejected = st.rejected, .in_flight = st.in_flight,
		.hosts = st.hosts,
	};
}

static void be_close(void *be, void (*done)(void *ctx), void *ctx)
{
	vgl_snmp_close(be, done, ctx);
}

const struct vgl_collector_ops vgl_snmp_collector = {
	.name = "snmp",
	.create = be_create,
	.add_source = be_add_source,
	.stats = be_stats,
	.close = be_close,
};
