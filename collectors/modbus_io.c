/* The threadpool side of the Modbus collector (collectors/modbus_int.h):
 * one poll of one device, blocking, on its connection.
 *
 * File descriptors. libmodbus waits for answers with select(), which
 * cannot watch a descriptor at or above FD_SETSIZE (1024), and a site of
 * thousands of devices keeps thousands of sockets open. So TCP sockets are
 * connected here (poll(), no limit) and kept at descriptors >= FD_SETSIZE
 * where the system allows; a job lends its connection's socket to
 * libmodbus through a slot, a descriptor below FD_SETSIZE reserved for it
 * (dup2 in, and /dev/null dup2'd back over it at the end, so the slot
 * never holds a socket between jobs). Serial lines are few and are opened
 * by libmodbus itself.
 */
#include "collectors/modbus_int.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static enum vgl_quality exception_quality(int err)
{
	switch (err) {
	case EMBXILFUN: return VGL_Q_MB_ILLEGAL_FUNCTION;
	case EMBXILADD: return VGL_Q_MB_ILLEGAL_ADDRESS;
	case EMBXILVAL: return VGL_Q_MB_ILLEGAL_VALUE;
	case EMBXSFAIL: return VGL_Q_MB_DEVICE_FAILURE;
	case EMBXACK: case EMBXSBUSY: return VGL_Q_MB_BUSY;
	case EMBXGPATH: return VGL_Q_MB_GATEWAY_PATH;
	case EMBXGTAR: return VGL_Q_MB_GATEWAY_TARGET;
	case EMBXNACK: case EMBXMEMPAR: case EMBUNKEXC: return VGL_Q_MB_EXCEPTION;
	default: return VGL_Q_OK;
	}
}

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Moves fd above the select() range when the limit allows. */
static int move_high(int fd)
{
	int hi = fcntl(fd, F_DUPFD_CLOEXEC, FD_SETSIZE);

	if (hi < 0)
		return fd;      /* RLIMIT_NOFILE <= FD_SETSIZE: stays low, still works */
	close(fd);
	return hi;
}

/* A connected blocking TCP socket, or -1 with q and why set. */
static int tcp_connect(struct mb_conn *c, uint32_t timeout_ms, enum vgl_quality *q, char *why,
		       size_t len, int *local)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV };
	struct addrinfo *res = NULL, *ai;
	int64_t deadline = mono_ms() + timeout_ms;
	int rc, fd = -1, err = 0;

	rc = getaddrinfo(c->node, c->service, &hints, &res);
	if (rc != 0) {
		*q = VGL_Q_ERROR;
		snprintf(why, len, "cannot resolve %s: %s", c->node, gai_strerror(rc));
		return -1;
	}
	for (ai = res; ai; ai = ai->ai_next) {
		struct pollfd pfd;
		socklen_t sl = sizeof(err);
		int64_t left;
		int one = 1;

		fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd < 0) {
			/* out of descriptors or memory here: the device was
			 * never asked, so this is no observation of it */
			err = errno;
			*local = err == EMFILE || err == ENFILE || err == ENOMEM || err == ENOBUFS;
			continue;
		}
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0 && errno != EINPROGRESS) {
			err = errno;
			goto next;
		}
		pfd = (struct pollfd){ .fd = fd, .events = POLLOUT };
		left = deadline - mono_ms();
		do
			rc = poll(&pfd, 1, left > 0 ? (int)left : 0);
		while (rc < 0 && errno == EINTR);
		if (rc == 0) {
			err = ETIMEDOUT;
			goto next;
		}
		if (rc < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &sl) != 0) {
			err = errno;
			goto next;
		}
		if (err)
			goto next;
		if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) != 0) {
			err = errno;
			goto next;
		}
		/* one small request, one small answer: never wait for Nagle */
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		freeaddrinfo(res);
		return move_high(fd);
next:
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	*q = err == ETIMEDOUT ? VGL_Q_TIMEOUT
	     : err == ECONNREFUSED || err == EHOSTUNREACH || err == ENETUNREACH ? VGL_Q_REFUSED
									       : VGL_Q_ERROR;
	snprintf(why, len, "connect to %s port %s: %s", c->node, c->service,
		 err == ETIMEDOUT ? "no answer" : strerror(err));
	return -1;
}

void vgl__mb_conn_drop(struct mb_conn *c)
{
	if (c->transport == VGL_MB_TCP) {
		if (c->fd >= 0)
			close(c->fd);
		c->fd = -1;
	} else if (c->rtu_open) {
		modbus_close(c->mb);
		c->rtu_open = 0;
	}
}

/* 0 with the line or socket ready for libmodbus, or -1 with q and why. */
static int conn_ready(struct mb_dev *d, int slot_fd, enum vgl_quality *q, int *fresh)
{
	struct mb_conn *c = d->c;

	if (c->transport == VGL_MB_TCP) {
		if (c->fd < 0) {
			c->fd = tcp_connect(c, d->timeout_ms, q, d->detail, sizeof(d->detail),
					    &d->local_fail);
			if (c->fd < 0)
				return -1;
			d->connects++;
			*fresh = 1;
		}
		if (slot_fd < 0 || dup2(c->fd, slot_fd) < 0 || modbus_set_socket(c->mb, slot_fd) != 0) {
			*q = VGL_Q_ERROR;
			snprintf(d->detail, sizeof(d->detail), "no descriptor below %d for libmodbus: %s",
				 FD_SETSIZE, strerror(errno));
			return -1;
		}
		return 0;
	}
	if (!c->rtu_open) {
		if (modbus_connect(c->mb) != 0) {
			*q = VGL_Q_ERROR;
			snprintf(d->detail, sizeof(d->detail), "cannot open %s: %s", c->node,
				 modbus_strerror(errno));
			return -1;
		}
		if (modbus_get_socket(c->mb) >= FD_SETSIZE) {
			modbus_close(c->mb);
			*q = VGL_Q_ERROR;
			snprintf(d->detail, sizeof(d->detail), "%s opened as descriptor >= %d, which "
				 "libmodbus cannot wait on", c->node, FD_SETSIZE);
			return -1;
		}
		c->rtu_open = 1;
		d->connects++;
		*fresh = 1;
	}
	return 0;
}

static int read_request(modbus_t *mb, const struct vgl_mb_request *r, uint16_t *regs,
			uint8_t *bits)
{
	switch (r->table) {
	case VGL_MB_COIL: return modbus_read_bits(mb, r->start, r->count, bits);
	case VGL_MB_DISCRETE: return modbus_read_input_bits(mb, r->start, r->count, bits);
	case VGL_MB_HOLDING: return modbus_read_registers(mb, r->start, r->count, regs);
	default: return modbus_read_input_registers(mb, r->start, r->count, regs);
	}
}

static void take_values(struct mb_dev *d, const struct vgl_mb_request *r)
{
	for (uint32_t k = 0; k < r->n; k++) {
		uint32_t vi = d->plan.order[r->first + k];
		const struct vgl_modbus_metric *m = d->mm[vi];
		unsigned off = m->reg - r->start;
		double v;

		if (vgl_mb_table_is_bits(r->table)) {
			d->values[vi] = (struct vgl_value){ d->bits[off] != 0, VGL_Q_OK };
			continue;
		}
		if (vgl_mb_decode(&d->regs[off], m->type, m->order, m->bit, &v) != 0) {
			/* a float NaN: the device has no reading there */
			d->values[vi] = (struct vgl_value){ 0, VGL_Q_ABSENT };
			continue;
		}
		if (m->type != VGL_MB_BOOL)
			v = v * m->scale + m->offset;
		d->values[vi] = (struct vgl_value){ v, VGL_Q_OK };
	}
}

static void set_request(struct mb_dev *d, size_t ri, enum vgl_quality q)
{
	const struct vgl_mb_request *r = &d->plan.req[ri];

	d->req_q[ri] = (uint8_t)q;
	for (uint32_t k = 0; k < r->n; k++)
		d->values[d->plan.order[r->first + k]] = (struct vgl_value){ 0, q };
}

/* Errors of a kept connection the peer closed (restarted, idle timeout):
 * worth one reconnect before calling the device unreachable. */
static int stale_connection(int err)
{
	return err == ECONNRESET || err == EPIPE || err == ENOTCONN || err == EBADF;
}

void vgl__mb_run_poll(struct mb_dev *d, int slot_fd, int devnull_fd)
{
	struct mb_conn *c = d->c;
	enum vgl_quality fail_q = VGL_Q_TIMEOUT;
	uint32_t answered = 0, gateway_failed = 0, to = d->timeout_ms;
	int fresh = 0, retried = 0;
	size_t ri;

	d->requests = d->exceptions = d->connects = 0;
	d->local_fail = 0;
	d->detail[0] = 0;
	for (uint32_t i = 0; i < d->n_values; i++)
		d->values[i] = (struct vgl_value){ 0, VGL_Q_TIMEOUT };
	memset(d->req_q, VGL_Q_TIMEOUT, d->plan.n_req);

	if (modbus_set_slave(c->mb, d->unit) != 0 ||
	    modbus_set_response_timeout(c->mb, to / 1000, (to % 1000) * 1000) != 0 ||
	    modbus_set_byte_timeout(c->mb, to / 1000, (to % 1000) * 1000) != 0) {
		fail_q = VGL_Q_ERROR;
		snprintf(d->detail, sizeof(d->detail), "libmodbus refused unit %u or timeout %u ms: %s",
			 (unsigned)d->unit, (unsigned)to, modbus_strerror(errno));
		goto out_lost;
	}
	if (conn_ready(d, slot_fd, &fail_q, &fresh) != 0)
		goto out_lost;
	for (ri = 0; ri < d->plan.n_req; ri++) {
		const struct vgl_mb_request *r = &d->plan.req[ri];
		int rc, err;
		enum vgl_quality eq;

		d->requests++;
		rc = read_request(c->mb, r, d->regs, d->bits);
		err = errno;
		if (rc == (int)r->count) {
			d->req_q[ri] = VGL_Q_OK;
			take_values(d, r);
			answered++;
			continue;
		}
		if (rc >= 0) {
			err = EMBBADDATA;       /* a short answer */
		} else if ((eq = exception_quality(err)) != VGL_Q_OK) {
			set_request(d, ri, eq);
			d->exceptions++;
			answered++;
			gateway_failed += eq == VGL_Q_MB_GATEWAY_PATH || eq == VGL_Q_MB_GATEWAY_TARGET;
			continue;
		}
		if (!fresh && !retried && !answered && stale_connection(err)) {
			retried = 1;
			vgl__mb_conn_drop(c);
			if (conn_ready(d, slot_fd, &fail_q, &fresh) != 0)
				goto out_lost;
			ri--;
			d->requests--;
			continue;
		}
		fail_q = err == ETIMEDOUT ? VGL_Q_TIMEOUT
			 : stale_connection(err) ? VGL_Q_REFUSED : VGL_Q_ERROR;
		snprintf(d->detail, sizeof(d->detail), "%s %s %u+%u: %s",
			 err == ETIMEDOUT ? "no answer to" : "failed reading",
			 vgl_mb_table_name(r->table), (unsigned)r->start, (unsigned)r->count,
			 err == ETIMEDOUT ? "timed out" : modbus_strerror(err));
		for (size_t k = ri; k < d->plan.n_req; k++)
			set_request(d, k, fail_q);
		/* An answer arriving late would be taken for the next
		 * request's: a TCP connection starts over. A serial line is
		 * flushed instead; one silent unit is no reason to reopen the
		 * bus for the others. */
		if (c->transport == VGL_MB_TCP) {
			vgl__mb_conn_drop(c);
		} else {
			modbus_flush(c->mb);
		}
		break;
	}
	if (answered && gateway_failed == answered) {
		/* a gateway answered for a device it cannot reach */
		d->q = VGL_Q_TIMEOUT;
		snprintf(d->detail, sizeof(d->detail), "the gateway answered %s for unit %u",
			 vgl_quality_name((enum vgl_quality)d->req_q[0]), (unsigned)d->unit);
	} else {
		d->q = answered ? VGL_Q_OK : fail_q;
	}
	goto out;
out_lost:
	d->q = fail_q;
	for (ri = 0; ri < d->plan.n_req; ri++)
		set_request(d, ri, fail_q);
out:
	if (d->detail[0] == 0 && d->q != VGL_Q_OK)
		snprintf(d->detail, sizeof(d->detail), "%s", vgl_quality_name(d->q));
	if (c->transport == VGL_MB_TCP && slot_fd >= 0 && devnull_fd >= 0)
		dup2(devnull_fd, slot_fd);
}
