/* Modbus decoding (collectors/modbus_decode.h): every type in every order
 * against byte patterns worked out by hand, and the floats against
 * libmodbus's own modbus_get_float_* / modbus_set_float_* as an oracle. */
#include <math.h>

#include <modbus/modbus.h>

#include "collectors/modbus_decode.h"
#include "test/test.h"

static double dec(enum vgl_mb_type t, enum vgl_mb_order o, const uint16_t *r)
{
	double v = -12345;

	ASSERT_EQ(vgl_mb_decode(r, t, o, VGL_MB_NO_BIT, &v), 0);
	return v;
}

/* 0x11223344 and 0x0102030405060708 as each order lays them out. */
static const uint16_t r32[4][2] = {
	[VGL_MB_ABCD] = { 0x1122, 0x3344 }, [VGL_MB_CDAB] = { 0x3344, 0x1122 },
	[VGL_MB_BADC] = { 0x2211, 0x4433 }, [VGL_MB_DCBA] = { 0x4433, 0x2211 },
};
static const uint16_t r64[4][4] = {
	[VGL_MB_ABCD] = { 0x0102, 0x0304, 0x0506, 0x0708 },
	[VGL_MB_CDAB] = { 0x0708, 0x0506, 0x0304, 0x0102 },
	[VGL_MB_BADC] = { 0x0201, 0x0403, 0x0605, 0x0807 },
	[VGL_MB_DCBA] = { 0x0807, 0x0605, 0x0403, 0x0201 },
};

TEST(modbus_decode_16bit_types_every_order)
{
	const uint16_t pos = 0x1234, neg = 0xff38;      /* 4660; -200 as int16 */
	const uint16_t pos_sw = 0x3412, neg_sw = 0x38ff;

	for (int o = 0; o < 4; o++) {
		int swapped = o == VGL_MB_BADC || o == VGL_MB_DCBA;
		ASSERT_EQ(dec(VGL_MB_UINT16, o, swapped ? &pos_sw : &pos), 4660);
		ASSERT_EQ(dec(VGL_MB_INT16, o, swapped ? &pos_sw : &pos), 4660);
		ASSERT_EQ(dec(VGL_MB_INT16, o, swapped ? &neg_sw : &neg), -200);
		ASSERT_EQ(dec(VGL_MB_UINT16, o, swapped ? &neg_sw : &neg), 65336);
	}
}

TEST(modbus_decode_32_and_64bit_integers_every_order)
{
	/* -100000 = 0xfffe7960; -2 = 0xff..fe */
	static const uint16_t n32[4][2] = {
		{ 0xfffe, 0x7960 }, { 0x7960, 0xfffe }, { 0xfeff, 0x6079 }, { 0x6079, 0xfeff },
	};
	static const uint16_t n64[4][4] = {
		{ 0xffff, 0xffff, 0xffff, 0xfffe }, { 0xfffe, 0xffff, 0xffff, 0xffff },
		{ 0xffff, 0xffff, 0xffff, 0xfeff }, { 0xfeff, 0xffff, 0xffff, 0xffff },
	};

	for (int o = 0; o < 4; o++) {
		ASSERT_EQ(dec(VGL_MB_UINT32, o, r32[o]), 0x11223344);
		ASSERT_EQ(dec(VGL_MB_INT32, o, r32[o]), 0x11223344);
		ASSERT_EQ(dec(VGL_MB_INT32, o, n32[o]), -100000);
		ASSERT_EQ(dec(VGL_MB_UINT32, o, n32[o]), 0xfffe7960u);
		ASSERT(dec(VGL_MB_UINT64, o, r64[o]) == (double)0x0102030405060708ull);
		ASSERT(dec(VGL_MB_INT64, o, r64[o]) == (double)0x0102030405060708ll);
		ASSERT_EQ(dec(VGL_MB_INT64, o, n64[o]), -2);
		ASSERT(dec(VGL_MB_UINT64, o, n64[o]) == 18446744073709551614.0);
	}
}

TEST(modbus_decode_floats_every_order)
{
	/* 123.456f = 0x42f6e979; -1234.5678 = 0xc0934a456d5cfaad */
	static const uint16_t f32[4][2] = {
		{ 0x42f6, 0xe979 }, { 0xe979, 0x42f6 }, { 0xf642, 0x79e9 }, { 0x79e9, 0xf642 },
	};
	static const uint16_t f64[4][4] = {
		{ 0xc093, 0x4a45, 0x6d5c, 0xfaad }, { 0xfaad, 0x6d5c, 0x4a45, 0xc093 },
		{ 0x93c0, 0x454a, 0x5c6d, 0xadfa }, { 0xadfa, 0x5c6d, 0x454a, 0x93c0 },
	};
	static const uint16_t nan32[2] = { 0x7fc0, 0x0000 }, inf64[4] = { 0x7ff0, 0, 0, 0 };
	double v;

	for (int o = 0; o < 4; o++) {
		ASSERT(dec(VGL_MB_FLOAT32, o, f32[o]) == (double)123.456f);
		ASSERT(dec(VGL_MB_FLOAT64, o, f64[o]) == -1234.5678);
	}
	/* a NaN or an infinity is a device's "no reading", not a number */
	ASSERT_EQ(vgl_mb_decode(nan32, VGL_MB_FLOAT32, VGL_MB_ABCD, VGL_MB_NO_BIT, &v), -1);
	ASSERT_EQ(vgl_mb_decode(inf64, VGL_MB_FLOAT64, VGL_MB_ABCD, VGL_MB_NO_BIT, &v), -1);
}

TEST(modbus_decode_bits_of_a_register)
{
	const uint16_t alarm = 0x8005;  /* bits 0, 2 and 15 */
	const uint16_t swapped = 0x0580;
	double v;

	for (unsigned bit = 0; bit < 16; bit++) {
		int want = bit == 0 || bit == 2 || bit == 15;
		ASSERT_EQ(vgl_mb_decode(&alarm, VGL_MB_BOOL, VGL_MB_ABCD, bit, &v), 0);
		ASSERT_EQ(v, want);
		/* the byte order applies before the bit is taken */
		ASSERT_EQ(vgl_mb_decode(&swapped, VGL_MB_BOOL, VGL_MB_BADC, bit, &v), 0);
		ASSERT_EQ(v, want);
	}
	ASSERT_EQ(vgl_mb_decode(&alarm, VGL_MB_BOOL, VGL_MB_ABCD, VGL_MB_NO_BIT, &v), 0);
	ASSERT_EQ(v, 1);
	ASSERT_EQ(vgl_mb_decode(&(uint16_t){ 0 }, VGL_MB_BOOL, VGL_MB_ABCD, VGL_MB_NO_BIT, &v), 0);
	ASSERT_EQ(v, 0);
}

TEST(modbus_decode_names_round_trip)
{
	for (int t = 0; t < 9; t++)
		ASSERT_EQ(vgl_mb_type_parse(vgl_mb_type_name(t)), t);
	for (int o = 0; o < 4; o++)
		ASSERT_EQ(vgl_mb_order_parse(vgl_mb_order_name(o)), o);
	for (int t = 0; t < 4; t++)
		ASSERT_EQ(vgl_mb_table_parse(vgl_mb_table_name(t)), t);
	ASSERT_EQ(vgl_mb_type_parse("float"), -1);
	ASSERT_EQ(vgl_mb_order_parse("abcd"), -1);
	ASSERT_EQ(vgl_mb_type_regs(VGL_MB_FLOAT64), 4);
	ASSERT_EQ(vgl_mb_type_regs(VGL_MB_UINT32), 2);
	ASSERT_EQ(vgl_mb_type_regs(VGL_MB_BOOL), 1);
}

/* libmodbus as the oracle: what its getters say a pair of registers
 * holds, in each order, so do we, over 20,000 arbitrary bit patterns. Only
 * the getters: libmodbus 3.1.6's setters swap the two bytes of each
 * register they write (get_float_abcd(set_float_abcd(123.456)) is
 * -9.86e32 there), so they are no oracle of anything. */
TEST(modbus_decode_float_matches_libmodbus)
{
	typedef float get_fn(const uint16_t *);
	static get_fn *const get[4] = {
		[VGL_MB_ABCD] = modbus_get_float_abcd, [VGL_MB_CDAB] = modbus_get_float_cdab,
		[VGL_MB_BADC] = modbus_get_float_badc, [VGL_MB_DCBA] = modbus_get_float_dcba,
	};
	uint32_t x = 0x12345678;
	unsigned checked = 0, no_number = 0;

	for (int i = 0; i < 20000; i++) {
		uint16_t regs[2];

		x = x * 1664525u + 1013904223u;         /* any 32 bits */
		regs[0] = (uint16_t)(x >> 16);
		regs[1] = (uint16_t)x;
		for (int o = 0; o < 4; o++) {
			float f = get[o](regs);
			double v;

			if (!isfinite(f)) {
				ASSERT_EQ(vgl_mb_decode(regs, VGL_MB_FLOAT32, o, VGL_MB_NO_BIT, &v), -1);
				no_number++;
				continue;
			}
			ASSERT_EQ(vgl_mb_decode(regs, VGL_MB_FLOAT32, o, VGL_MB_NO_BIT, &v), 0);
			if (v != (double)f) {
				fprintf(stderr, "order %s regs %04x %04x: libmodbus %.9g, vigil %.9g\n",
					vgl_mb_order_name(o), regs[0], regs[1], f, v);
				ASSERT(0);
			}
			checked++;
		}
	}
	/* 1/256 of patterns have an all-ones exponent in each order */
	ASSERT_GT(checked, 79000);
	ASSERT_GT(no_number, 100);
	/* the known pattern, through libmodbus itself */
	ASSERT(modbus_get_float_abcd((const uint16_t[]){ 0x42f6, 0xe979 }) == 123.456f);
	ASSERT(modbus_get_float_cdab((const uint16_t[]){ 0xe979, 0x42f6 }) == 123.456f);
	ASSERT(modbus_get_float_badc((const uint16_t[]){ 0xf642, 0x79e9 }) == 123.456f);
	ASSERT(modbus_get_float_dcba((const uint16_t[]){ 0x79e9, 0xf642 }) == 123.456f);
}
