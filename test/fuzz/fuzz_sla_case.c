/* `vigil sla --input` (vgl_sla_case_run, sla/report.h): a case document
 * of any text to a report object, with a fixed real "now" so a document
 * without one is reproducible. Success gives an object that prints; a
 * refusal gives a reason. */
#include <errno.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "sla/report.h"
#include "test/fuzz/fuzz.h"

#define NOW_MS 1795000000000LL  /* 2026-11-18 */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_cstr(data, size), err[512];
	cJSON *o = NULL;
	int rc;

	if (!text)
		return 0;
	err[0] = '\0';
	rc = vgl_sla_case_run(text, NOW_MS, &o, err, sizeof(err));
	if (rc == 0) {
		char *out;

		FUZZ_CHECK(o != NULL && cJSON_IsObject(o));
		out = cJSON_PrintUnformatted(o);
		FUZZ_CHECK(out != NULL);
		cJSON_free(out);
		cJSON_Delete(o);
	} else {
		FUZZ_CHECK(o == NULL);
		FUZZ_CHECK(rc == -ENOMEM || (rc == -EINVAL && err[0] != '\0'));
	}
	free(text);
	return 0;
}
