/* The threadpool side of the IPMI collector (collectors/ipmi_io.h): one
 * poll of one BMC over an RMCP+ session, with FreeIPMI's libfreeipmi. This
 * file has the session, its deadline and the poll's steps; the SDR and the
 * sensors are collectors/ipmi_sdr.c, the SEL collectors/ipmi_sel.c.
 *
 * Deadline. FreeIPMI times a request out session_timeout after the last
 * packet the BMC sent (retransmitting every retransmission_timeout, with
 * backoff), and neither can change once the session is open. So the
 * session is opened with session_timeout = the budget left and
 * retransmission_timeout = a third of it, each step checks the budget
 * before it starts, and a BMC that stops answering late in the poll is
 * cut off by a POSIX timer aimed at this thread: at the deadline (then
 * every 5 ms) it sends a signal with a handler that does nothing, so the
 * poll() FreeIPMI waits in returns EINTR and the call fails at once,
 * Close Session included. Without that timer (the signal is someone
 * else's) a stall late in the call could hold it up to session_timeout
 * past the deadline.
 *
 * Refused. FreeIPMI's socket is unconnected, so it never learns of an
 * ICMP port unreachable and waits the whole timeout. A connected socket of
 * ours sends an RMCP presence ping (which IPMI's LAN interface must answer)
 * first: an ICMP error is VGL_Q_REFUSED within a round trip, and a pong
 * tells a timeout with a live RMCP stack from silence.
 */
#include "collectors/ipmi_io_int.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "collectors/bmc_conf.h"

#ifndef sigev_notify_thread_id
#define sigev_notify_thread_id _sigev_un._tid   /* Linux names it; this glibc does not */
#endif

/* ---- process-wide setup ------------------------------------------------- */

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static int crypt_ok;
static int deadline_sig;        /* 0: no hard deadline (the signal is taken) */
static pthread_key_t interp_key;
static int interp_key_ok;

static void on_deadline(int sig)
{
	(void)sig;      /* its only purpose is to interrupt a system call */
}

static void interp_free(void *p)
{
	ipmi_interpret_ctx_destroy(p);
}

static void init_once_fn(void)
{
	struct sigaction sa, old;
	int sig = SIGRTMIN + 4;

	/* FreeIPMI wants its crypto set up before threads use it */
	crypt_ok = ipmi_rmcpplus_init() == 0;
	interp_key_ok = pthread_key_create(&interp_key, interp_free) == 0;
	/* a handler already there belongs to someone else: leave it, and go
	 * without the hard deadline rather than steal their signal */
	if (sig > SIGRTMAX || sigaction(sig, NULL, &old) != 0 || old.sa_handler != SIG_DFL)
		return;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_deadline;
	sigemptyset(&sa.sa_mask);
	/* restart everything but poll(), which never restarts: the other
	 * system calls of this thread go on undisturbed */
	sa.sa_flags = SA_RESTART;
	if (sigaction(sig, &sa, NULL) == 0)
		deadline_sig = sig;
}

/* The worker thread's interpretation context (FreeIPMI's built-in sensor
 * state tables; no config file is read): one per thread, since a context
 * keeps per-call error state. NULL when it cannot be had. */
ipmi_interpret_ctx_t vgl__ipmi_interp_ctx(void)
{
	ipmi_interpret_ctx_t c;

	if (!interp_key_ok)
		return NULL;
	if ((c = pthread_getspecific(interp_key)))
		return c;
	if (!(c = ipmi_interpret_ctx_create()))
		return NULL;
	if (pthread_setspecific(interp_key, c) != 0) {
		ipmi_interpret_ctx_destroy(c);
		return NULL;
	}
	return c;
}

/* ---- per-BMC state ------------------------------------------------------ */

struct vgl_ipmi_bmc *vgl_ipmi_bmc_new(const char *cursor)
{
	struct vgl_ipmi_bmc *b;

	/* here, on the loop thread, before any worker opens a session */
	(void)pthread_once(&init_once, init_once_fn);
	if (!(b = calloc(1, sizeof(*b))))
		return NULL;
	/* a cursor this version cannot read is as good as none: the first
	 * poll starts at the SEL's end, as on a first run */
	if (cursor && vgl__ipmi_parse_cursor(cursor, &b->sel) == 0)
		b->have_cursor = 1;
	return b;
}

void vgl_ipmi_bmc_free(struct vgl_ipmi_bmc *b)
{
	if (!b)
		return;
	free(b->sdr.s);
	free(b->pend.s);
	free(b);
}

/* ---- one poll: time, steps and failures ---------------------------------- */

int64_t vgl__ipmi_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t vgl__ipmi_left_ms(const struct run *r)
{
	return r->deadline - vgl__ipmi_mono_ms();
}

void vgl__ipmi_set_q(struct run *r, enum vgl_quality q, const char *fmt, ...)
{
	va_list ap;

	r->out->quality = q;
	va_start(ap, fmt);
	vsnprintf(r->out->detail, sizeof(r->out->detail), fmt, ap);
	va_end(ap);
}

static void timed_out(struct run *r)
{
	vgl__ipmi_set_q(r, VGL_Q_TIMEOUT, "no answer within %u ms (%lld ms spent) during %s",
			(unsigned)r->t->timeout_ms, (long long)(vgl__ipmi_mono_ms() - r->start),
			r->step);
}

/* Starts a step: FATAL, with the poll's quality TIMEOUT, once the budget
 * is spent. */
int vgl__ipmi_begin(struct run *r, const char *step)
{
	r->step = step;
	if (vgl__ipmi_left_ms(r) > 0)
		return DONE;
	timed_out(r);
	return FATAL;
}

int vgl__ipmi_comp_code(fiid_obj_t rs)
{
	uint64_t v;

	return rs && fiid_obj_get(rs, "comp_code", &v) == 1 ? (int)v : -1;
}

static enum vgl_quality open_quality(int e)
{
	switch (e) {
	case IPMI_ERR_SESSION_TIMEOUT:
	case IPMI_ERR_CONNECTION_TIMEOUT:
		return VGL_Q_TIMEOUT;
	case IPMI_ERR_USERNAME_INVALID:
	case IPMI_ERR_PASSWORD_INVALID:
	case IPMI_ERR_K_G_INVALID:
	case IPMI_ERR_PRIVILEGE_LEVEL_INSUFFICIENT:
	case IPMI_ERR_PRIVILEGE_LEVEL_CANNOT_BE_OBTAINED:
	case IPMI_ERR_AUTHENTICATION_TYPE_UNAVAILABLE:
	case IPMI_ERR_PASSWORD_VERIFICATION_TIMEOUT:
	/* the BMC refused the security we proposed: a login refusal */
	case IPMI_ERR_CIPHER_SUITE_ID_UNAVAILABLE:
		return VGL_Q_AUTH;
	default:
		return VGL_Q_ERROR;
	}
}

/* Errors of a command that say the session is gone or this process is in
 * trouble, as opposed to the BMC refusing that one command. */
int vgl__ipmi_session_lost(int e)
{
	switch (e) {
	case IPMI_ERR_SESSION_TIMEOUT:
	case IPMI_ERR_CONNECTION_TIMEOUT:
	case IPMI_ERR_DEVICE_NOT_OPEN:
	case IPMI_ERR_OUT_OF_MEMORY:
	case IPMI_ERR_SYSTEM_ERROR:
	case IPMI_ERR_INTERNAL_ERROR:
	case IPMI_ERR_CTX_INVALID:
	case IPMI_ERR_PARAMETERS:
		return 1;
	default:
		return 0;
	}
}

/* A command of the open session failed. FATAL (the poll's quality set)
 * when the session is gone; SOFT when the BMC only refused this command,
 * noted in the detail (the poll goes on). */
int vgl__ipmi_cmd_failed(struct run *r, fiid_obj_t rs)
{
	int e = ipmi_ctx_errnum(r->ctx), cc = vgl__ipmi_comp_code(rs);

	/* past the deadline, whatever FreeIPMI says (EINTR from the
	 * deadline timer shows as a system error) is the timeout */
	if (vgl__ipmi_left_ms(r) <= 0 || e == IPMI_ERR_SESSION_TIMEOUT ||
	    e == IPMI_ERR_CONNECTION_TIMEOUT) {
		timed_out(r);
		return FATAL;
	}
	if (vgl__ipmi_session_lost(e)) {
		vgl__ipmi_set_q(r, VGL_Q_ERROR, "%s: %s", r->step, ipmi_ctx_errormsg(r->ctx));
		return FATAL;
	}
	if (!r->soft_noted) {
		r->soft_noted = 1;
		if (cc >= 0 && cc != IPMI_COMP_CODE_COMMAND_SUCCESS)
			snprintf(r->out->detail, sizeof(r->out->detail),
				 "%s refused: completion code 0x%02x", r->step, (unsigned)cc);
		else
			snprintf(r->out->detail, sizeof(r->out->detail), "%s refused: %s", r->step,
				 ipmi_ctx_errormsg(r->ctx));
	}
	return SOFT;
}

/* ipmi_cmd() returns the BMC's answer without looking at its completion
 * code: 0 for success, SOFT/FATAL as vgl__ipmi_cmd_failed otherwise. */
int vgl__ipmi_raw_cmd(struct run *r, uint8_t lun, uint8_t netfn, fiid_obj_t rq, fiid_obj_t rs)
{
	if (ipmi_cmd(r->ctx, lun, netfn, rq, rs) < 0)
		return vgl__ipmi_cmd_failed(r, rs);
	if (vgl__ipmi_comp_code(rs) != IPMI_COMP_CODE_COMMAND_SUCCESS)
		return vgl__ipmi_cmd_failed(r, rs);
	return DONE;
}

int vgl__ipmi_get_u64(fiid_obj_t o, const char *field, uint64_t *v)
{
	*v = 0;
	return fiid_obj_get(o, field, v) == 1 ? 0 : -1;
}

/* ---- the hard deadline ---------------------------------------------------- */

struct hard_deadline {
	timer_t timer;
	int armed;
	sigset_t old_mask;
};

static void hard_deadline_arm(struct hard_deadline *h, int64_t deadline_ms)
{
	struct sigevent sev;
	struct itimerspec its;
	int64_t left = deadline_ms - vgl__ipmi_mono_ms();
	sigset_t set;

	h->armed = 0;
	if (!deadline_sig)
		return;
	memset(&sev, 0, sizeof(sev));
	sev.sigev_notify = SIGEV_THREAD_ID;
	sev.sigev_signo = deadline_sig;
	sev.sigev_notify_thread_id = gettid();
	/* without the timer (none to be had) FreeIPMI's own timeouts bound
	 * the call, loosely */
	if (timer_create(CLOCK_MONOTONIC, &sev, &h->timer) != 0)
		return;
	if (left < 1)
		left = 1;
	memset(&its, 0, sizeof(its));
	its.it_value.tv_sec = left / 1000;
	its.it_value.tv_nsec = (left % 1000) * 1000000;
	/* again every 5 ms: a poll() entered after the first signal (the
	 * Close Session wait) is cut short too */
	its.it_interval.tv_nsec = 5 * 1000000;
	sigemptyset(&set);
	sigaddset(&set, deadline_sig);
	/* the pool's threads may block signals; this one must get it */
	if (pthread_sigmask(SIG_UNBLOCK, &set, &h->old_mask) != 0) {
		timer_delete(h->timer);
		return;
	}
	if (timer_settime(h->timer, 0, &its, NULL) != 0) {
		pthread_sigmask(SIG_SETMASK, &h->old_mask, NULL);
		timer_delete(h->timer);
		return;
	}
	h->armed = 1;
}

static void hard_deadline_disarm(struct hard_deadline *h)
{
	if (!h->armed)
		return;
	/* a signal the timer raised before this is delivered by the time
	 * timer_delete returns (the thread is unblocked and running), so
	 * none is left for whatever the thread does next */
	timer_delete(h->timer);
	pthread_sigmask(SIG_SETMASK, &h->old_mask, NULL);
	h->armed = 0;
}

/* ---- address, RMCP ping, session ------------------------------------------ */

/* The RMCP/ASF presence ping (DSP0136): RMCP version 6, sequence FF (no
 * RMCP ack), class ASF; IANA 4542, type 80h, tag, no data. */
static const uint8_t rmcp_ping[12] = { 0x06, 0x00, 0xFF, 0x06, 0x00, 0x00, 0x11, 0xBE,
				       0x80, 0x5A, 0x00, 0x00 };

/* What the ping socket heard: 1 a pong, 0 nothing, or -errno of an ICMP
 * error. Waits up to wait_ms for the first of them. */
static int ping_heard(int fd, int wait_ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	uint8_t buf[64];
	ssize_t n;
	int rc;

	rc = poll(&pfd, 1, wait_ms);
	if (rc <= 0)
		return 0;
	n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : -errno;
	/* an RMCP ASF message (class 6) of type pong (40h) */
	return n >= 9 && buf[0] == 0x06 && buf[3] == 0x06 && buf[8] == 0x40;
}

/* The numeric address FreeIPMI is given (so the name is resolved once,
 * here) and a connected UDP socket with a ping sent on it; -1 with the
 * quality set when the name does not resolve. *ping_fd < 0 when no ping
 * could be sent (this is only ever a hint). */
static int resolve(struct run *r, char *host, size_t len, int *ping_fd)
{
	struct addrinfo hints = { .ai_socktype = SOCK_DGRAM, .ai_flags = AI_NUMERICSERV };
	struct addrinfo *res = NULL;
	char service[8], num[NI_MAXHOST];
	int rc, fd;

	*ping_fd = -1;
	snprintf(service, sizeof(service), "%u", (unsigned)r->t->port);
	/* a name goes through the system resolver, whose timeouts are its
	 * own (resolv.conf): give BMCs as literals to keep within the budget */
	rc = getaddrinfo(r->t->host, service, &hints, &res);
	if (rc != 0 || !res) {
		vgl__ipmi_set_q(r, VGL_Q_ERROR, "cannot resolve %s: %s", r->t->host,
				rc ? gai_strerror(rc) : "no address");
		if (res)
			freeaddrinfo(res);
		return -1;
	}
	rc = getnameinfo(res->ai_addr, res->ai_addrlen, num, sizeof(num), NULL, 0, NI_NUMERICHOST);
	if (rc != 0) {
		vgl__ipmi_set_q(r, VGL_Q_ERROR, "address of %s: %s", r->t->host, gai_strerror(rc));
		freeaddrinfo(res);
		return -1;
	}
	/* FreeIPMI's "host:port", IPv6 in brackets */
	if (res->ai_family == AF_INET6)
		snprintf(host, len, "[%s]:%u", num, (unsigned)r->t->port);
	else
		snprintf(host, len, "%s:%u", num, (unsigned)r->t->port);
	fd = socket(res->ai_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd >= 0 && (connect(fd, res->ai_addr, res->ai_addrlen) != 0 ||
			send(fd, rmcp_ping, sizeof(rmcp_ping), MSG_DONTWAIT) < 0)) {
		close(fd);
		fd = -1;
	}
	*ping_fd = fd;
	freeaddrinfo(res);
	return 0;
}

static uint8_t ipmi_priv(int p)
{
	switch (p) {
	case VGL_BMC_PRIV_ADMIN: return IPMI_PRIVILEGE_LEVEL_ADMIN;
	case VGL_BMC_PRIV_OPERATOR: return IPMI_PRIVILEGE_LEVEL_OPERATOR;
	default: return IPMI_PRIVILEGE_LEVEL_USER;
	}
}

/* ICMP errors that say nothing listens there (or the host is not up) */
static int unreachable(int heard)
{
	return heard == -ECONNREFUSED || heard == -EHOSTUNREACH || heard == -ENETUNREACH ||
	       heard == -EHOSTDOWN;
}

static void refused(struct run *r, int err)
{
	vgl__ipmi_set_q(r, VGL_Q_REFUSED, "%s port %u: %s (ICMP)", r->t->host,
			(unsigned)r->t->port, strerror(err));
}

static int open_session(struct run *r)
{
	char host[NI_MAXHOST + 16];
	int64_t left;
	unsigned st, rt;
	int ping_fd, heard = 0, wait, e;

	if (vgl__ipmi_begin(r, "resolve") != 0 || resolve(r, host, sizeof(host), &ping_fd) != 0)
		return FATAL;
	if (ping_fd >= 0) {
		/* the pong (or the ICMP error) comes back within a round
		 * trip. Not waited for from a BMC that opened a session
		 * without answering the last ping: its silence would cost
		 * every poll up to 250 ms. */
		left = vgl__ipmi_left_ms(r);
		wait = r->b->ping_silent ? 0 : (int)(left / 4 < 250 ? left / 4 : 250);
		heard = ping_heard(ping_fd, wait);
		if (unreachable(heard)) {
			refused(r, -heard);
			close(ping_fd);
			return FATAL;
		}
	}
	if (vgl__ipmi_begin(r, "open session") != 0)
		goto fail;
	left = vgl__ipmi_left_ms(r);
	/* FreeIPMI wants retransmission < session timeout, and 0 means its
	 * 20 s default: never hand it less than 3 ms */
	st = left < 3 ? 3 : (unsigned)left;
	rt = st / 3;
	if (!(r->ctx = ipmi_ctx_create())) {
		vgl__ipmi_set_q(r, VGL_Q_ERROR, "open session: %s", strerror(errno));
		goto fail;
	}
	/* OPEN_SESSION_PRIVILEGE asks for the privilege we want in Open
	 * Session rather than "highest": the standard request, which many
	 * BMCs (ipmi_sim among them) need to hash the keys right */
	if (ipmi_ctx_open_outofband_2_0(r->ctx, host, r->t->username, r->t->password, NULL, 0,
					ipmi_priv(r->t->privilege), r->t->cipher_suite, st, rt,
					IPMI_WORKAROUND_FLAGS_OUTOFBAND_2_0_OPEN_SESSION_PRIVILEGE,
					IPMI_FLAGS_DEFAULT) < 0) {
		e = ipmi_ctx_errnum(r->ctx);
		if (ping_fd >= 0 &&
		    (open_quality(e) == VGL_Q_TIMEOUT || vgl__ipmi_left_ms(r) <= 0)) {
			int late = heard == 1 ? 1 : ping_heard(ping_fd, 0);

			if (unreachable(late)) {
				refused(r, -late);
				goto fail;
			}
			heard = late;
		}
		if (vgl__ipmi_left_ms(r) <= 0 || open_quality(e) == VGL_Q_TIMEOUT)
			vgl__ipmi_set_q(r, VGL_Q_TIMEOUT,
					"no answer within %u ms (%lld ms spent) during open session%s",
					(unsigned)r->t->timeout_ms,
					(long long)(vgl__ipmi_mono_ms() - r->start),
					heard == 1 ? " (RMCP ping answered)" : "");
		else
			vgl__ipmi_set_q(r, open_quality(e), "open session: %s",
					ipmi_ctx_errormsg(r->ctx));
		ipmi_ctx_destroy(r->ctx);
		r->ctx = NULL;
		goto fail;
	}
	if (ping_fd >= 0) {
		r->b->ping_silent = heard != 1 && ping_heard(ping_fd, 0) != 1;
		close(ping_fd);
	}
	return DONE;
fail:
	if (ping_fd >= 0)
		close(ping_fd);
	return FATAL;
}

/* ---- chassis --------------------------------------------------------------- */

static int read_chassis(struct run *r)
{
	static const struct { const char *field; unsigned bit; } lpe[] = {
		{ "last_power_event.ac_failed", VGL_BMC_LPE_AC_FAILED },
		{ "last_power_event.power_down_caused_by_power_overload", VGL_BMC_LPE_OVERLOAD },
		{ "last_power_event.power_down_caused_by_power_interlock_being_activated",
		  VGL_BMC_LPE_INTERLOCK },
		{ "last_power_event.power_down_caused_by_power_fault", VGL_BMC_LPE_FAULT },
		{ "last_power_event.power_on_entered_via_ipmi", VGL_BMC_LPE_IPMI_COMMAND },
	};
	fiid_obj_t rs;
	uint64_t v;
	int rc = DONE;

	if (vgl__ipmi_begin(r, "Get Chassis Status") != 0)
		return FATAL;
	if (!(rs = fiid_obj_create(tmpl_cmd_get_chassis_status_rs))) {
		vgl__ipmi_set_q(r, VGL_Q_ERROR, "%s: %s", r->step, strerror(errno));
		return FATAL;
	}
	if (ipmi_cmd_get_chassis_status(r->ctx, rs) < 0) {
		rc = vgl__ipmi_cmd_failed(r, rs);
	} else {
		if (vgl__ipmi_get_u64(rs, "current_power_state.power_is_on", &v) == 0)
			r->out->power = v ? VGL_BMC_POWER_ON : VGL_BMC_POWER_OFF;
		for (size_t i = 0; i < sizeof(lpe) / sizeof(lpe[0]); i++)
			if (vgl__ipmi_get_u64(rs, lpe[i].field, &v) == 0 && v)
				r->out->last_power_event |= lpe[i].bit;
	}
	fiid_obj_destroy(rs);
	return rc == FATAL ? FATAL : DONE;
}

/* ---- the poll ---------------------------------------------------------------- */

void vgl_ipmi_poll(struct vgl_ipmi_bmc *b, const struct vgl_ipmi_target *t,
		   struct vgl_ipmi_reading *out)
{
	struct run r = { .b = b, .t = t, .out = out };
	struct hard_deadline hd;
	struct sel_pos np;
	int at_end = 0, rc;

	out->quality = VGL_Q_OK;
	out->detail[0] = 0;
	out->power = VGL_BMC_POWER_UNKNOWN;
	out->last_power_event = 0;
	out->n_sensors = 0;
	out->n_events = 0;
	out->sdr_reread = 0;
	out->sel_cleared = 0;
	r.start = vgl__ipmi_mono_ms();
	r.deadline = r.start + t->timeout_ms;
	r.step = "start";
	(void)pthread_once(&init_once, init_once_fn);
	if (!crypt_ok) {
		vgl__ipmi_set_q(&r, VGL_Q_ERROR, "FreeIPMI's crypto library did not initialise");
		goto report;
	}
	hard_deadline_arm(&hd, r.deadline);
	if (open_session(&r) != DONE)
		goto done;
	if (read_chassis(&r) == FATAL || vgl__ipmi_update_sdr(&r) == FATAL ||
	    vgl__ipmi_read_sensors(&r) == FATAL)
		goto close;
	rc = vgl__ipmi_read_sel(&r, &np, &at_end);
	if (rc == FATAL)
		goto close;
	if (rc == DONE) {
		b->sel = np;
		b->have_cursor = 1;
		b->sel_at_end = at_end;
	} else {
		/* the BMC refused a SEL command: nothing taken, the cursor
		 * stays where it was */
		out->n_events = 0;
		out->sel_cleared = 0;
	}
close:
	ipmi_ctx_close(r.ctx);
	ipmi_ctx_destroy(r.ctx);
	if (out->quality != VGL_Q_OK) {
		/* entries read before the failure are read again next poll,
		 * from the cursor that was not moved */
		out->n_events = 0;
		out->sel_cleared = 0;
	}
done:
	hard_deadline_disarm(&hd);
report:
	if (b->have_cursor)
		vgl__ipmi_format_cursor(&b->sel, out->cursor, sizeof(out->cursor));
	else
		out->cursor[0] = 0;
}
