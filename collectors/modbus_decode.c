/* Register contents to numbers (collectors/modbus_decode.h). Everything
 * goes through one byte string in value order, most significant first, so
 * each order is one permutation and each type one reading of it. */
#include "collectors/modbus_decode.h"

#include <math.h>
#include <string.h>

static const char *const table_names[] = { "coil", "discrete", "holding", "input" };
static const char *const type_names[] = {
	"bool", "int16", "uint16", "int32", "uint32", "int64", "uint64", "float32", "float64",
};
static const char *const order_names[] = { "ABCD", "CDAB", "BADC", "DCBA" };

static int find(const char *const *names, int n, const char *s)
{
	for (int i = 0; s && i < n; i++)
		if (strcmp(names[i], s) == 0)
			return i;
	return -1;
}

int vgl_mb_table_parse(const char *s)
{
	return find(table_names, 4, s);
}

const char *vgl_mb_table_name(enum vgl_mb_table t)
{
	return (unsigned)t < 4 ? table_names[t] : "?";
}

int vgl_mb_type_parse(const char *s)
{
	return find(type_names, 9, s);
}

const char *vgl_mb_type_name(enum vgl_mb_type t)
{
	return (unsigned)t < 9 ? type_names[t] : "?";
}

int vgl_mb_order_parse(const char *s)
{
	return find(order_names, 4, s);
}

const char *vgl_mb_order_name(enum vgl_mb_order o)
{
	return (unsigned)o < 4 ? order_names[o] : "?";
}

unsigned vgl_mb_type_regs(enum vgl_mb_type t)
{
	switch (t) {
	case VGL_MB_INT32: case VGL_MB_UINT32: case VGL_MB_FLOAT32: return 2;
	case VGL_MB_INT64: case VGL_MB_UINT64: case VGL_MB_FLOAT64: return 4;
	default: return 1;
	}
}

/* The n registers as bytes in value order (b[0] most significant). */
static void to_bytes(const uint16_t *regs, unsigned n, enum vgl_mb_order o, uint8_t *b)
{
	int word_swap = o == VGL_MB_CDAB || o == VGL_MB_DCBA;
	int byte_swap = o == VGL_MB_BADC || o == VGL_MB_DCBA;

	for (unsigned i = 0; i < n; i++) {
		uint16_t w = regs[word_swap ? n - 1 - i : i];
		uint8_t hi = (uint8_t)(w >> 8), lo = (uint8_t)w;

		b[2 * i] = byte_swap ? lo : hi;
		b[2 * i + 1] = byte_swap ? hi : lo;
	}
}

static uint64_t be_uint(const uint8_t *b, unsigned nbytes)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < nbytes; i++)
		v = v << 8 | b[i];
	return v;
}

int vgl_mb_decode(const uint16_t *regs, enum vgl_mb_type t, enum vgl_mb_order o, unsigned bit,
		  double *out)
{
	unsigned n = vgl_mb_type_regs(t);
	uint8_t b[8];
	uint64_t u;

	to_bytes(regs, n, o, b);
	u = be_uint(b, 2 * n);
	switch (t) {
	case VGL_MB_BOOL:
		*out = bit == VGL_MB_NO_BIT ? u != 0 : bit < 16 && ((u >> bit) & 1);
		return 0;
	case VGL_MB_INT16: *out = (int16_t)(uint16_t)u; return 0;
	case VGL_MB_UINT16: *out = (double)(uint16_t)u; return 0;
	case VGL_MB_INT32: *out = (int32_t)(uint32_t)u; return 0;
	case VGL_MB_UINT32: *out = (double)(uint32_t)u; return 0;
	case VGL_MB_INT64: *out = (double)(int64_t)u; return 0;
	case VGL_MB_UINT64: *out = (double)u; return 0;
	case VGL_MB_FLOAT32: {
		uint32_t u32 = (uint32_t)u;
		float f;

		memcpy(&f, &u32, sizeof(f));
		*out = f;
		return isfinite(f) ? 0 : -1;
	}
	case VGL_MB_FLOAT64: {
		double d;

		memcpy(&d, &u, sizeof(d));
		*out = d;
		return isfinite(d) ? 0 : -1;
	}
	}
	return -1;
}
