/* Sources of type "modbus" and their register metrics
 * (collectors/modbus_conf.h). Everything a vendor's register map says is
 * checked here, at load time, so the collector never meets a read that
 * cannot be made. */
#include "collectors/modbus_conf.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/parse.h"

static void *source_new(const void *base)
{
	const struct vgl_modbus_source *b = base;
	struct vgl_modbus_source *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	if (!b) {
		s->transport = VGL_MB_TCP;
		s->port = 502;
		s->unit = 1;
		s->baud = 9600;
		s->parity = 'N';
		s->data_bits = 8;
		s->stop_bits = 1;
		s->max_registers = 125;
		s->max_bits = 2000;
		return s;
	}
	*s = *b;
	s->tcp_given = 0;      /* reported at the template */
	s->address = s->device = NULL;
	if ((b->address && !(s->address = strdup(b->address))) ||
	    (b->device && !(s->device = strdup(b->device)))) {
		free(s->address);
		free(s);
		return NULL;
	}
	return s;
}

static void source_free(void *spec)
{
	struct vgl_modbus_source *s = spec;

	if (!s)
		return;
	free(s->address);
	free(s->device);
	free(s);
}

enum { K_ADDRESS, K_PORT, K_UNIT, K_DEVICE, K_BAUD, K_PARITY, K_DATA_BITS, K_STOP_BITS,
       K_MAX_REGS, K_MAX_BITS, K_MAX_GAP };
static const char *const source_keys[] = {
	"address", "port", "unit", "device", "baud", "parity", "data_bits", "stop_bits",
	"max_registers", "max_bits", "max_gap", NULL,
};

static void set_str(struct vgl_cparse *cp, int tok, const char *key, char **dst)
{
	char *v;

	if (vgl_cp_str(cp, tok, key, &v) != 0)
		return;
	if (!*v) {
		vgl_cp_error(cp, tok, key, "must not be empty");
		free(v);
		return;
	}
	free(*dst);
	*dst = v;
}

static void source_apply(struct vgl_cparse *cp, const int *v, void *spec)
{
	struct vgl_modbus_source *s = spec;
	long x;

	if (v[K_ADDRESS] >= 0)
		set_str(cp, v[K_ADDRESS], "address", &s->address);
	if (v[K_PORT] >= 0 && vgl_cp_int(cp, v[K_PORT], "port", 1, 65535, &x) == 0)
		s->port = (uint16_t)x;
	/* the object given last says which transport: a host may move its
	 * template's device onto a serial line, or back; both at once is
	 * the one mistake */
	if ((v[K_ADDRESS] >= 0 || v[K_PORT] >= 0) && v[K_DEVICE] >= 0) {
		s->tcp_given = 1;
	} else if (v[K_ADDRESS] >= 0 || v[K_PORT] >= 0) {
		s->transport = VGL_MB_TCP;
		free(s->device);
		s->device = NULL;
	}
	if (v[K_UNIT] >= 0 && vgl_cp_int(cp, v[K_UNIT], "unit", 0, 255, &x) == 0)
		s->unit = (uint8_t)x;
	if (v[K_DEVICE] >= 0) {
		set_str(cp, v[K_DEVICE], "device", &s->device);
		if (s->device) {
			s->transport = VGL_MB_RTU;
			free(s->address);
			s->address = NULL;
		}
	}
	if (v[K_BAUD] >= 0 && vgl_cp_int(cp, v[K_BAUD], "baud", 300, 4000000, &x) == 0)
		s->baud = (uint32_t)x;
	if (v[K_PARITY] >= 0) {
		char *p = NULL;
		if (vgl_cp_str(cp, v[K_PARITY], "parity", &p) == 0) {
			if (strcmp(p, "none") == 0)
				s->parity = 'N';
			else if (strcmp(p, "even") == 0)
				s->parity = 'E';
			else if (strcmp(p, "odd") == 0)
				s->parity = 'O';
			else
				vgl_cp_error(cp, v[K_PARITY], "parity",
					     "expected \"none\", \"even\" or \"odd\", got \"%s\"", p);
		}
		free(p);
	}
	if (v[K_DATA_BITS] >= 0 && vgl_cp_int(cp, v[K_DATA_BITS], "data_bits", 7, 8, &x) == 0)
		s->data_bits = (uint8_t)x;
	if (v[K_STOP_BITS] >= 0 && vgl_cp_int(cp, v[K_STOP_BITS], "stop_bits", 1, 2, &x) == 0)
		s->stop_bits = (uint8_t)x;
	if (v[K_MAX_REGS] >= 0 && vgl_cp_int(cp, v[K_MAX_REGS], "max_registers", 1, 125, &x) == 0)
		s->max_registers = (uint16_t)x;
	if (v[K_MAX_BITS] >= 0 && vgl_cp_int(cp, v[K_MAX_BITS], "max_bits", 1, 2000, &x) == 0)
		s->max_bits = (uint16_t)x;
	if (v[K_MAX_GAP] >= 0 && vgl_cp_int(cp, v[K_MAX_GAP], "max_gap", 0, 124, &x) == 0)
		s->max_gap = (uint16_t)x;
}

static void source_check(struct vgl_cparse *cp, const void *spec)
{
	const struct vgl_modbus_source *s = spec;

	if (s->tcp_given)
		vgl_cp_error(cp, -1, NULL, "a modbus source is either TCP (\"address\", "
			     "\"port\") or RTU (\"device\"), not both");
	if (s->transport == VGL_MB_RTU) {
		if (s->unit < 1 || s->unit > 247)
			vgl_cp_error(cp, -1, NULL, "unit %u: an RTU unit id is 1..247",
				     (unsigned)s->unit);
	}
}

/* ---- metrics ------------------------------------------------------------ */

enum { M_TABLE, M_REGISTER, M_TYPE, M_ORDER, M_BIT, M_SCALE, M_OFFSET };
static const char *const metric_keys[] = {
	"table", "register", "type", "order", "bit", "scale", "offset", NULL,
};

static int parse_name(struct vgl_cparse *cp, int tok, const char *key, int (*parse)(const char *),
		      const char *choices, int *out)
{
	char *s;
	int r;

	if (vgl_cp_str(cp, tok, key, &s) != 0)
		return -1;
	r = parse(s);
	if (r < 0)
		vgl_cp_error(cp, tok, key, "expected one of %s, got \"%s\"", choices, s);
	free(s);
	if (r < 0)
		return -1;
	*out = r;
	return 0;
}

static int metric_parse(struct vgl_cparse *cp, const int *v, const void *src,
			struct vgl_conf_metric *m)
{
	struct vgl_modbus_metric *mm;
	int table = VGL_MB_HOLDING, type = -1, order = VGL_MB_ABCD, bad = 0;
	long reg = -1, bit = -1;
	double scale = 1, offset = 0;
	char text[96];

	(void)src;
	if (v[M_REGISTER] < 0) {
		vgl_cp_error(cp, -1, NULL, "missing required key 'register' (the 0-based "
			     "address in its table: holding register 40001 is \"register\": 0)");
		return -1;
	}
	bad |= vgl_cp_int(cp, v[M_REGISTER], "register", 0, 65535, &reg);
	if (v[M_TABLE] >= 0)
		bad |= parse_name(cp, v[M_TABLE], "table", vgl_mb_table_parse,
				  "\"holding\", \"input\", \"coil\", \"discrete\"", &table);
	if (v[M_TYPE] >= 0)
		bad |= parse_name(cp, v[M_TYPE], "type", vgl_mb_type_parse,
				  "bool, int16, uint16, int32, uint32, int64, uint64, float32, "
				  "float64", &type);
	if (v[M_ORDER] >= 0)
		bad |= parse_name(cp, v[M_ORDER], "order", vgl_mb_order_parse,
				  "\"ABCD\", \"CDAB\", \"BADC\", \"DCBA\"", &order);
	if (v[M_BIT] >= 0)
		bad |= vgl_cp_int(cp, v[M_BIT], "bit", 0, 15, &bit);
	if (v[M_SCALE] >= 0)
		bad |= vgl_cp_num(cp, v[M_SCALE], "scale", -1e12, 1e12, &scale);
	if (v[M_OFFSET] >= 0)
		bad |= vgl_cp_num(cp, v[M_OFFSET], "offset", -1e15, 1e15, &offset);
	if (bad)
		return -1;
	if (type < 0)
		type = vgl_mb_table_is_bits(table) || bit >= 0 ? VGL_MB_BOOL : VGL_MB_UINT16;
	if (vgl_mb_table_is_bits(table)) {
		if (type != VGL_MB_BOOL || bit >= 0 || v[M_ORDER] >= 0) {
			vgl_cp_error(cp, v[M_TYPE] >= 0 ? v[M_TYPE] : -1, NULL,
				     "a %s is one bit: type bool, no \"bit\" or \"order\"",
				     vgl_mb_table_name(table));
			return -1;
		}
	} else if (bit >= 0 && type != VGL_MB_BOOL) {
		vgl_cp_error(cp, v[M_BIT], "bit", "\"bit\" picks a bool out of a register: "
			     "type must be bool, not %s", vgl_mb_type_name(type));
		return -1;
	}
	if (type == VGL_MB_BOOL && (v[M_SCALE] >= 0 || v[M_OFFSET] >= 0)) {
		vgl_cp_error(cp, v[M_SCALE] >= 0 ? v[M_SCALE] : v[M_OFFSET], NULL,
			     "a bool takes no scale or offset");
		return -1;
	}
	if (scale == 0) {
		vgl_cp_error(cp, v[M_SCALE], "scale", "must not be 0");
		return -1;
	}
	if (!vgl_mb_table_is_bits(table) && reg + vgl_mb_type_regs(type) > 65536) {
		vgl_cp_error(cp, v[M_REGISTER], "register", "a %s at %ld runs past register 65535",
			     vgl_mb_type_name(type), reg);
		return -1;
	}
	if (!(mm = calloc(1, sizeof(*mm)))) {
		vgl_cp_oom(cp);
		return -1;
	}
	mm->reg = (uint16_t)reg;
	mm->table = (uint8_t)table;
	mm->type = (uint8_t)type;
	mm->order = (uint8_t)order;
	mm->bit = bit >= 0 ? (uint8_t)bit : VGL_MB_NO_BIT;
	mm->scale = scale;
	mm->offset = offset;
	if (vgl_mb_table_is_bits(table))
		snprintf(text, sizeof(text), "%s:%ld", vgl_mb_table_name(table), reg);
	else if (bit >= 0)
		snprintf(text, sizeof(text), "%s:%ld.%ld", vgl_mb_table_name(table), reg, bit);
	else
		snprintf(text, sizeof(text), "%s:%ld:%s:%s", vgl_mb_table_name(table), reg,
			 vgl_mb_type_name(type), vgl_mb_order_name(order));
	if (!(m->text = strdup(text))) {
		free(mm);
		vgl_cp_oom(cp);
		return -1;
	}
	m->spec = mm;
	return 0;
}

static void *metric_copy(const void *spec)
{
	struct vgl_modbus_metric *m = malloc(sizeof(*m));

	if (m)
		*m = *(const struct vgl_modbus_metric *)spec;
	return m;
}

static void metric_free(void *spec)
{
	free(spec);
}

const struct vgl_conf_backend vgl_modbus_conf_backend = {
	.type = "modbus",
	.collector = "modbus",
	.interval_ms = 10000,
	.timeout_ms = 1000,
	.max_timeout_ms = 60000,
	.needs_metrics = 1,
	.source_keys = source_keys,
	.source_new = source_new,
	.source_apply = source_apply,
	.source_check = source_check,
	.source_free = source_free,
	.metric_keys = metric_keys,
	.metric_parse = metric_parse,
	.metric_copy = metric_copy,
	.metric_free = metric_free,
};
