#include <errno.h>

#include "sla/counters_csv.h"
#include "test/test.h"

#define NOW 1893456000000LL     /* 2030-01-01T00:00:00Z */

static int parse(const char *text, size_t len, struct vgl_counters_row **rows, size_t *n,
		 char *err, size_t errlen)
{
	err[0] = '\0';
	return vgl_counters_csv_parse(text, len, NOW, rows, n, err, errlen);
}

TEST(counters_csv_sorted_rows_with_lines)
{
	static const char t[] = "\r\n time , total ,failed\r\n"
				"2026-10-05T00:00:00Z,11000,10\r\n"
				"\n"
				"2026-09-30T23:00:00Z, 1000 ,0\r\n"
				"2026-10-20T00:00:00Z,18446744073709551615,60";
	struct vgl_counters_row *rows;
	size_t n;
	char err[128];

	ASSERT_EQ(parse(t, sizeof(t) - 1, &rows, &n, err, sizeof(err)), 0);
	ASSERT_EQ(n, 3);
	ASSERT_EQ(rows[0].line, 5);
	ASSERT_EQ(rows[0].total, 1000);
	ASSERT_EQ(rows[1].line, 3);
	ASSERT_EQ(rows[1].failed, 10);
	ASSERT_EQ(rows[2].line, 6);
	ASSERT(rows[2].total == UINT64_MAX);
	free(rows);
}

TEST(counters_csv_header_only_is_no_rows)
{
	struct vgl_counters_row *rows = (void *)1;
	size_t n = 7;
	char err[128];

	ASSERT_EQ(parse("time,total,failed\n", 18, &rows, &n, err, sizeof(err)), 0);
	ASSERT_EQ(n, 0);
	ASSERT(rows == NULL);
}

TEST(counters_csv_errors_name_the_line)
{
	static const struct {
		const char *text, *err;
	} cases[] = {
		{ "", "1: empty file (expected the header 'time,total,failed')" },
		{ "\n \r\n", "1: empty file (expected the header 'time,total,failed')" },
		{ "time,requests,failed\n", "1: expected the header 'time,total,failed'" },
		{ "time,total,failed,x\n", "1: expected the header 'time,total,failed'" },
		{ "time,total,failed\n2026-10-01,1\n",
		  "2: expected 3 fields (time,total,failed), found 2" },
		{ "time,total,failed\n2026-10-01,1,2,3\n",
		  "2: expected 3 fields (time,total,failed), found more" },
		{ "time,total,failed\n\n2026-13-01,1,2\n",
		  "3: bad time '2026-13-01' (expected e.g. 2026-11-05T10:00:00Z)" },
		{ "time,total,failed\n2099-01-01,1,2\n", "2: time 2099-01-01 is in the future" },
		{ "time,total,failed\n2026-10-01,-5,0\n",
		  "2: bad total '-5' (expected an integer 0..2^64-1)" },
		{ "time,total,failed\n2026-10-01,1,18446744073709551616\n",
		  "2: bad failed '18446744073709551616' (expected an integer 0..2^64-1)" },
		{ "time,total,failed\n2026-10-01T00:00:00Z,1,0\n2026-10-01,2,0\n",
		  "3: time 2026-10-01T00:00:00.000Z repeats line 2" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct vgl_counters_row *rows = (void *)1;
		size_t n = 7;
		char err[160];

		ASSERT_EQ(parse(cases[i].text, strlen(cases[i].text), &rows, &n, err, sizeof(err)),
			  -1);
		ASSERT(rows == NULL);
		ASSERT_EQ(n, 0);
		ASSERT_STREQ(err, cases[i].err);
	}
}

TEST(counters_csv_nul_byte_and_long_lines)
{
	static const char nul[] = "time,total,failed\n2026-10-01,1\0,0\n";
	struct vgl_counters_row *rows;
	size_t n, len;
	char err[160], *t;

	ASSERT_EQ(parse(nul, sizeof(nul) - 1, &rows, &n, err, sizeof(err)), -1);
	ASSERT_STREQ(err, "2: NUL byte in line");

	/* header, a line of exactly the limit (padding is trimmed), then one
	 * byte over it */
	len = 18 + VGL_COUNTERS_CSV_LINE_MAX + 1 + VGL_COUNTERS_CSV_LINE_MAX + 1;
	t = malloc(len);
	ASSERT(t != NULL);
	memset(t, ' ', len);
	memcpy(t, "time,total,failed\n", 18);
	memcpy(t + 18, "2026-10-01,1,0", 14);
	t[18 + VGL_COUNTERS_CSV_LINE_MAX] = '\n';
	ASSERT_EQ(parse(t, 18 + VGL_COUNTERS_CSV_LINE_MAX + 1, &rows, &n, err, sizeof(err)), 0);
	ASSERT_EQ(n, 1);
	free(rows);
	ASSERT_EQ(parse(t, len, &rows, &n, err, sizeof(err)), -1);
	ASSERT_STREQ(err, "3: line longer than 4096 bytes");
	free(t);
}

TEST(counters_csv_error_text_is_cut_to_the_buffer)
{
	static const char t[] = "time,total,failed\n2026-10-01,abcdefghijklmnop,0\n";
	struct vgl_counters_row *rows;
	size_t n;
	char err[8];

	ASSERT_EQ(parse(t, sizeof(t) - 1, &rows, &n, err, sizeof(err)), -1);
	ASSERT_STREQ(err, "2: bad ");
}
