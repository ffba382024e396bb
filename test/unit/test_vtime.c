#include "core/vtime.h"
#include "test/test.h"

TEST(vtime_roundtrip)
{
	char buf[VGL_ISO_LEN];
	int64_t t;

	ASSERT_EQ(vgl_parse_iso("2026-11-05T10:00:00.000Z", &t), 0);
	ASSERT_EQ(t, 1793872800000LL);
	ASSERT_STREQ(vgl_format_iso(t, buf), "2026-11-05T10:00:00.000Z");
	ASSERT_EQ(vgl_parse_iso("1970-01-01", &t), 0);
	ASSERT_EQ(t, 0);
	ASSERT_STREQ(vgl_format_iso(-1, buf), "1969-12-31T23:59:59.999Z");
	ASSERT_EQ(vgl_parse_iso("2024-02-29T23:59:59.5Z", &t), 0);
	ASSERT_STREQ(vgl_format_iso(t, buf), "2024-02-29T23:59:59.500Z");
	ASSERT_EQ(vgl_parse_iso("2026-11-05T17:00:00+07:00", &t), 0);
	ASSERT_EQ(t, 1793872800000LL);
}

TEST(vtime_rejects)
{
	int64_t t;
	const char *bad[] = { "", "2026", "2026-13-01", "2025-02-29", "2026-11-05T24:00:00Z",
			      "2026-11-05T10:00:00", "2026-11-05T10:00:00.Z", "2026-11-05 10:00:00Z",
			      "2026-11-05T10:00:00Zjunk", "2026-11-05T10:00:00+7" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (vgl_parse_iso(bad[i], &t) == 0) {
			fprintf(stderr, "accepted: %s\n", bad[i]);
			ASSERT(0);
		}
	}
}
