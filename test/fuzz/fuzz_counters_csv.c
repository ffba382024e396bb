/* `vigil counters import`'s CSV parser (sla/counters_csv.h) over any
 * bytes: rows come back sorted by time with distinct times, never after
 * now, each naming a line that exists; a refusal leaves no rows and says
 * why. */
#include <errno.h>
#include <string.h>

#include "sla/counters_csv.h"
#include "test/fuzz/fuzz.h"

#define NOW_MS 1893456000000LL  /* 2030-01-01T00:00:00Z */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vgl_counters_row *rows = (void *)&rows;  /* must be overwritten */
	size_t n = 123, lines = 1;
	char err[256];
	int rc;

	err[0] = '\0';
	rc = vgl_counters_csv_parse((const char *)data, size, NOW_MS, &rows, &n, err,
				    sizeof(err));
	for (size_t i = 0; i < size; i++)
		lines += data[i] == '\n';
	if (rc != 0) {
		FUZZ_CHECK(rc == -1 || rc == -ENOMEM);
		FUZZ_CHECK(rows == NULL && n == 0);
		FUZZ_CHECK(rc != -1 || (err[0] >= '1' && err[0] <= '9' && strstr(err, ": ")));
		return 0;
	}
	FUZZ_CHECK(n == 0 || rows != NULL);
	for (size_t k = 0; k < n; k++) {
		FUZZ_CHECK(rows[k].ts_ms <= NOW_MS);
		FUZZ_CHECK(rows[k].line >= 2 && rows[k].line <= lines);
		FUZZ_CHECK(k == 0 || rows[k - 1].ts_ms < rows[k].ts_ms);
	}
	free(rows);
	return 0;
}
