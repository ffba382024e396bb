/* The Modbus back end's part of the config (conf/backend.h): a source of
 * type "modbus" (one device: a TCP address or a serial line, and a unit
 * id) and its register metrics. docs/modbus.md is the reference. */
#ifndef VGL_MODBUS_CONF_H
#define VGL_MODBUS_CONF_H

#include <stdint.h>

#include "collectors/modbus_decode.h"
#include "conf/backend.h"

enum vgl_mb_transport { VGL_MB_TCP, VGL_MB_RTU };

struct vgl_modbus_source {
	enum vgl_mb_transport transport;        /* RTU when "device" is given */
	char *address;          /* TCP: "address" (a gateway's), NULL = the host's */
	uint16_t port;          /* TCP: default 502 */
	uint8_t unit;           /* unit id, default 1 (TCP 0..255, RTU 1..247) */
	char *device;           /* RTU: the serial line, "/dev/ttyUSB0" */
	uint32_t baud;          /* RTU: default 9600 */
	char parity;            /* RTU: 'N' (default), 'E', 'O' */
	uint8_t data_bits;      /* RTU: 7 or 8 (default) */
	uint8_t stop_bits;      /* RTU: 1 (default) or 2 */
	/* Coalescing: the most registers (1..125, default 125) and bits
	 * (1..2000, default 2000) one request may read, and the largest hole
	 * of unused addresses read through to join two requests (default 0:
	 * only adjacent addresses are joined; some devices refuse holes). */
	uint16_t max_registers;
	uint16_t max_bits;
	uint16_t max_gap;
	uint8_t tcp_given;      /* "address" or "port" beside "device" in one object */
};

/* A metric: where its value is and how to read it. */
struct vgl_modbus_metric {
	uint16_t reg;           /* protocol address, 0-based ("register") */
	uint8_t table;          /* enum vgl_mb_table, default holding */
	uint8_t type;           /* enum vgl_mb_type: bool in bit tables, default uint16 */
	uint8_t order;          /* enum vgl_mb_order, default ABCD */
	uint8_t bit;            /* bool of a register: 0..15, or VGL_MB_NO_BIT */
	double scale;           /* value = raw * scale + offset; default 1, 0 */
	double offset;
};

/* Registers (or bits) the metric spans. */
static inline unsigned vgl_modbus_metric_len(const struct vgl_modbus_metric *m)
{
	return vgl_mb_table_is_bits(m->table) ? 1 : vgl_mb_type_regs(m->type);
}

extern const struct vgl_conf_backend vgl_modbus_conf_backend;

#endif
