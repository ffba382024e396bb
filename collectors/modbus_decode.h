/* Modbus register contents to numbers: the data types and word orders of
 * vendor register maps, with no I/O, so every type x order can be checked
 * against known byte patterns and against libmodbus's own converters.
 *
 * Orders name the value's bytes, most significant first (A), as they
 * arrive in the registers read, first register first:
 *   ABCD  big-endian words, big-endian bytes (Modbus's own order)
 *   CDAB  words in reverse order ("word swap"), bytes big-endian
 *   BADC  words big-endian, the two bytes of each swapped ("byte swap")
 *   DCBA  fully little-endian (both swapped)
 * For 64-bit values the same four words read ABCDEFGH, GHEFCDAB, BADCFEHG
 * and HGFEDCBA. For 16-bit values CDAB is ABCD and DCBA is BADC.
 */
#ifndef VGL_MODBUS_DECODE_H
#define VGL_MODBUS_DECODE_H

#include <stdint.h>

enum vgl_mb_table {
	VGL_MB_COIL,            /* function 01, 1 bit */
	VGL_MB_DISCRETE,        /* function 02, 1 bit, read-only */
	VGL_MB_HOLDING,         /* function 03, 16-bit registers */
	VGL_MB_INPUT,           /* function 04, 16-bit registers, read-only */
};

enum vgl_mb_type {
	VGL_MB_BOOL, VGL_MB_INT16, VGL_MB_UINT16, VGL_MB_INT32, VGL_MB_UINT32,
	VGL_MB_INT64, VGL_MB_UINT64, VGL_MB_FLOAT32, VGL_MB_FLOAT64,
};

enum vgl_mb_order { VGL_MB_ABCD, VGL_MB_CDAB, VGL_MB_BADC, VGL_MB_DCBA };

#define VGL_MB_NO_BIT 0xff

/* "coil", "discrete", "holding", "input"; -1 if unknown. */
int vgl_mb_table_parse(const char *s);
const char *vgl_mb_table_name(enum vgl_mb_table t);
int vgl_mb_type_parse(const char *s);
const char *vgl_mb_type_name(enum vgl_mb_type t);
int vgl_mb_order_parse(const char *s);
const char *vgl_mb_order_name(enum vgl_mb_order o);
static inline int vgl_mb_table_is_bits(enum vgl_mb_table t)
{
	return t == VGL_MB_COIL || t == VGL_MB_DISCRETE;
}

/* Registers a value of type t occupies: 1, 2 or 4 (a bool in a register
 * table: 1). */
unsigned vgl_mb_type_regs(enum vgl_mb_type t);

/* The raw value of type t in order o from regs[0 .. vgl_mb_type_regs(t)).
 * A bool is bit `bit` (0 = least significant) of the register, after the
 * byte order, or "register != 0" with VGL_MB_NO_BIT. 64-bit integers beyond
 * 2^53 lose their low bits to the double. 0, or -1 when the value is no
 * number (a float NaN or infinity: a device saying "no reading"). */
int vgl_mb_decode(const uint16_t *regs, enum vgl_mb_type t, enum vgl_mb_order o, unsigned bit,
		  double *out);

#endif
