/* The streaming JSON writer of the SLA report (sla/jw.h): separators,
 * escapes, numbers and times byte for byte, chunked file output equal to
 * the in-memory text, and write errors reported. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/vtime.h"
#include "sla/jw.h"
#include "test/test.h"

static struct vgl_jw *mem(void)
{
	struct vgl_jw *w = vgl_jw_new(NULL);

	ASSERT(w != NULL);
	return w;
}

static void expect(struct vgl_jw *w, const char *want)
{
	const char *got = vgl_jw_text(w, NULL);

	ASSERT(got != NULL);
	ASSERT_STREQ(got, want);
	vgl_jw_free(w);
}

TEST(sla_jw_separators_nested)
{
	struct vgl_jw *w = mem();

	vgl_jw_raw(w, "[\n", 2);
	vgl_jw_obj(w);
	vgl_jw_key(w, "a");
	vgl_jw_int(w, 1);
	vgl_jw_key(w, "b");
	vgl_jw_arr(w);
	vgl_jw_int(w, 1);
	vgl_jw_str(w, "x");
	vgl_jw_null(w);
	vgl_jw_bool(w, 1);
	vgl_jw_bool(w, 0);
	vgl_jw_arr(w);
	vgl_jw_arr_end(w);
	vgl_jw_obj(w);
	vgl_jw_obj_end(w);
	vgl_jw_arr_end(w);
	vgl_jw_key(w, "c");
	vgl_jw_obj(w);
	vgl_jw_obj_end(w);
	vgl_jw_key(w, "d");
	vgl_jw_str(w, NULL);
	vgl_jw_obj_end(w);
	/* raw resets the list: no comma before the next object */
	vgl_jw_raw(w, ",\n", 2);
	vgl_jw_obj(w);
	vgl_jw_obj_end(w);
	vgl_jw_raw(w, "\n]\n", 3);
	expect(w, "[\n{\"a\":1,\"b\":[1,\"x\",null,true,false,[],{}],\"c\":{},\"d\":null},\n{}\n]\n");
}

TEST(sla_jw_string_escapes)
{
	struct vgl_jw *w = mem();

	vgl_jw_str(w, "q\"b\\n\nr\rt\tb\bf\f\x01\x1f\x7f\xc3\xa9/");
	vgl_jw_key(w, "k\"");
	vgl_jw_str(w, "");
	expect(w, "\"q\\\"b\\\\n\\nr\\rt\\tb\\u0008f\\u000c\\u0001\\u001f\x7f\xc3\xa9/\","
		  "\"k\\\"\":\"\"");
}

TEST(sla_jw_integers)
{
	struct vgl_jw *w = mem();

	vgl_jw_arr(w);
	vgl_jw_int(w, 0);
	vgl_jw_int(w, 7);
	vgl_jw_int(w, 10);
	vgl_jw_int(w, -5);
	vgl_jw_int(w, 1795432417959);
	vgl_jw_int(w, INT64_MAX);
	vgl_jw_int(w, INT64_MIN);
	vgl_jw_arr_end(w);
	expect(w, "[0,7,10,-5,1795432417959,9223372036854775807,-9223372036854775808]");
}

TEST(sla_jw_doubles_round_trip)
{
	static const double v[] = { 99.95, 0.1 + 0.2, 1e300, 1e16, 9007199254740991.0, -0.0,
				    99.8655913978494, 100, -2.5, 1.0 / 3 };
	static const char *const want =
		"[99.95,0.30000000000000004,1e+300,1e+16,9007199254740991,0,99.8655913978494,"
		"100,-2.5,0.33333333333333331,null,null]";
	struct vgl_jw *w = mem();
	const char *text;

	vgl_jw_arr(w);
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		vgl_jw_num(w, v[i]);
	vgl_jw_num(w, NAN);
	vgl_jw_num(w, INFINITY);
	vgl_jw_arr_end(w);
	text = vgl_jw_text(w, NULL);
	ASSERT(text != NULL);
	ASSERT_STREQ(text, want);
	/* every finite one reads back to the very double */
	for (size_t i = 0, k = 1; i < sizeof(v) / sizeof(v[0]); i++) {
		char *end;

		ASSERT(strtod(text + k, &end) == v[i]);
		k = (size_t)(end - text) + 1;
	}
	vgl_jw_free(w);
}

TEST(sla_jw_times_as_vgl_format_iso)
{
	static const int64_t ms[] = {
		0, 1, 999, 86399999, 951782400000 /* 2000-02-29 */, 1709164800123 /* 2024-02-29 */,
		4107542400000 /* 2100-03-01 */, 1790000000000, 253402300799999, 253402300800000,
		-1, -86400000,
	};

	for (size_t i = 0; i < sizeof(ms) / sizeof(ms[0]); i++) {
		struct vgl_jw *w = mem();
		char iso[VGL_ISO_LEN], want[VGL_ISO_LEN + 2];

		snprintf(want, sizeof(want), "\"%s\"", vgl_format_iso(ms[i], iso));
		vgl_jw_time(w, ms[i]);
		expect(w, want);
	}
}

/* One writer across day, month, year and leap-day changes (its date
 * cache), times going forward and back. */
TEST(sla_jw_times_in_sequence)
{
	struct vgl_jw *w = mem();
	char iso[VGL_ISO_LEN], *want = malloc(40 * 20000 + 1);
	size_t n = 0;
	int64_t ms = 946684800000 - 3 * 86400000;       /* 1999-12-29 */
	const char *got;

	ASSERT(want != NULL);
	vgl_jw_arr(w);
	for (int i = 0; i < 20000; i++) {
		/* forward 7 h 13 min and a bit, back a day every 5th step */
		ms += i % 5 == 4 ? -86400000 : 26000123;
		vgl_jw_time(w, ms);
		n += (size_t)sprintf(want + n, "%s\"%s\"", i ? "," : "[", vgl_format_iso(ms, iso));
	}
	vgl_jw_arr_end(w);
	strcpy(want + n, "]");
	got = vgl_jw_text(w, NULL);
	ASSERT(got != NULL);
	ASSERT_STREQ(got, want);
	free(want);
	vgl_jw_free(w);
}

TEST(sla_jw_literal_keys)
{
	struct vgl_jw *w = mem();

	vgl_jw_obj(w);
	vgl_jw_key_lit(w, VGL_JW_KEY("host"));
	vgl_jw_str(w, "h1");
	vgl_jw_key_lit(w, VGL_JW_KEY("in_period_ms"));
	vgl_jw_int(w, 3);
	vgl_jw_key(w, "network");
	vgl_jw_int(w, 0);
	vgl_jw_obj_end(w);
	expect(w, "{\"host\":\"h1\",\"in_period_ms\":3,\"network\":0}");
}

/* Many chunks' worth through a FILE gives the in-memory text. */
TEST(sla_jw_file_equals_memory)
{
	char path[512], *got;
	struct vgl_jw *m = mem(), *f;
	const char *want;
	size_t wlen, glen;
	FILE *fp;

	snprintf(path, sizeof(path), "%s/out.json", vgl_test_tmpdir());
	fp = fopen(path, "w");
	ASSERT(fp != NULL);
	f = vgl_jw_new(fp);
	ASSERT(f != NULL);
	for (struct vgl_jw *w = m; w; w = w == m ? f : NULL) {
		vgl_jw_arr(w);
		for (int i = 0; i < 200000; i++) {
			vgl_jw_obj(w);
			vgl_jw_key(w, "i");
			vgl_jw_int(w, i);
			vgl_jw_key(w, "t");
			vgl_jw_time(w, (int64_t)i * 1000003);
			vgl_jw_key(w, "s");
			vgl_jw_str(w, i % 7 ? "plain" : "esc\"aped\n");
			vgl_jw_obj_end(w);
		}
		vgl_jw_arr_end(w);
	}
	ASSERT_EQ(vgl_jw_flush(f), 0);
	ASSERT_EQ(fclose(fp), 0);
	vgl_jw_free(f);
	want = vgl_jw_text(m, &wlen);
	ASSERT(want != NULL);
	ASSERT_GT(wlen, (size_t)4 << 20);
	fp = fopen(path, "r");
	ASSERT(fp != NULL);
	got = malloc(wlen + 1);
	ASSERT(got != NULL);
	glen = fread(got, 1, wlen + 1, fp);
	fclose(fp);
	ASSERT_EQ(glen, wlen);
	ASSERT(memcmp(got, want, wlen) == 0);
	free(got);
	vgl_jw_free(m);
}

/* A full disk is reported by flush, and sticks. */
TEST(sla_jw_write_error_reported)
{
	FILE *fp = fopen("/dev/full", "w");
	struct vgl_jw *w;

	if (!fp) {
		fprintf(stderr, "no /dev/full: nothing to test\n");
		return;
	}
	setvbuf(fp, NULL, _IONBF, 0);
	w = vgl_jw_new(fp);
	ASSERT(w != NULL);
	ASSERT_EQ(vgl_jw_failed(w), 0);
	vgl_jw_str(w, "x");
	ASSERT_EQ(vgl_jw_flush(w), -1);
	ASSERT_EQ(vgl_jw_failed(w), 1);
	vgl_jw_str(w, "y");
	ASSERT_EQ(vgl_jw_flush(w), -1);
	vgl_jw_free(w);
	fclose(fp);
}
