/* What the loop side (collectors/modbus.c) and the threadpool side
 * (collectors/modbus_io.c) of the Modbus collector share.
 *
 * Ownership: a device's poll fields (values, req_q, q, detail) and its
 * connection's I/O fields (mb, fd) belong to the threadpool job while the
 * device is D_RUNNING, and to the loop otherwise; the loop never runs a
 * second job on a connection (conn.busy) and reads a job's results only in
 * its after_work callback. The rest is read-only after add_device.
 */
#ifndef VGL_MODBUS_INT_H
#define VGL_MODBUS_INT_H

#include <stdint.h>

#include <modbus/modbus.h>
#include <uv.h>

#include "collectors/modbus.h"
#include "collectors/modbus_plan.h"
#include "collectors/sched.h"

struct mb_dev;

struct mb_conn {
	enum vgl_mb_transport transport;
	char *node;                     /* TCP address, or the serial device */
	char service[8];                /* TCP port */
	uint32_t baud;
	char parity;
	uint8_t data_bits, stop_bits;
	/* job-owned while busy */
	modbus_t *mb;                   /* the framing context; RTU: also the open line */
	int fd;                         /* TCP: the connected socket, or -1 */
	int rtu_open;                   /* RTU: mb connected */
	/* loop-owned */
	int busy;                       /* a job of it is queued or running */
	struct mb_dev *waitq, *waitq_tail;      /* polls due while busy */
	struct mb_conn *next;
};

enum mb_dev_state { D_IDLE, D_WAITING, D_QUEUED, D_RUNNING };

struct mb_dev {
	struct vgl_sched_entry se;
	struct vgl_modbus *owner;
	struct mb_conn *c;
	const char *name;
	uint32_t host_idx, source, interval_ms, timeout_ms;
	uint8_t unit;
	uint32_t n_values;
	const uint32_t *metrics;
	const struct vgl_conf_metric *pm;       /* profile metrics */
	const struct vgl_modbus_metric **mm;    /* per value */
	struct vgl_mb_plan plan;

	enum mb_dev_state state;
	int suspect;                    /* has not answered since (re)start or failure */
	uint32_t fails;                 /* consecutive failed polls */
	uint64_t retry_due;             /* loop ms: no I/O for polls due before it */
	int failing;                    /* logged as failing */
	int local_logged;               /* a local shortage logged */
	uint8_t *req_logged;            /* per request: the quality last logged */
	int64_t start_ms;               /* wall clock of this poll's due time */
	uint64_t due_ms;                /* loop clock of it */
	int slot;                       /* the low fd slot of its job */
	struct mb_dev *next;            /* in a conn's waitq, a lane, or the done queue */
	uv_work_t work;

	/* job results */
	enum vgl_quality q;
	uint8_t *req_q;                 /* per request: enum vgl_quality */
	uint32_t requests, exceptions, connects;
	int local_fail;                 /* no socket here (EMFILE ...): nothing observed */
	char detail[200];
	struct vgl_value *values;
	uint16_t *regs;                 /* plan.max_words registers, or bits as bytes */
	uint8_t *bits;
};

/* The threadpool side: one poll of d on its connection, using fd slot
 * `slot_fd` (a descriptor below FD_SETSIZE reserved for the job, since
 * libmodbus waits with select()). Fills d's job results. */
void vgl__mb_run_poll(struct mb_dev *d, int slot_fd, int devnull_fd);
/* Loop side, with no job running: closes the connection's socket or line. */
void vgl__mb_conn_drop(struct mb_conn *c);

#endif
