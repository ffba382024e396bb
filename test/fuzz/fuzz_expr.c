/* The condition language (rules/expr.h): parse and type-check any text
 * against a profile of metrics with and without states, then evaluate
 * what parsed over values that are good, missing and extreme. A refusal
 * points inside the text; a parsed expression names only known metrics
 * and evaluates to one of the three truth values. */
#include <math.h>
#include <string.h>

#include "rules/expr.h"
#include "test/fuzz/fuzz.h"

static struct vgl_conf_enum if_states[] = { { "up", 1 }, { "down", 2 }, { "testing", 3 } };
static struct vgl_conf_enum psu_states[] = { { "ok", 1 }, { "failed", 2 }, { "down", 9 } };
static struct vgl_conf_metric metrics[] = {
	{ .name = "ifOperStatus", .enums = if_states, .n_enums = 3 },
	{ .name = "temp" },
	{ .name = "psu.state", .enums = psu_states, .n_enums = 3 },
	{ .name = "fan_rpm" },
	{ .name = "a-b_c.9" },
};
#define N_METRICS (sizeof(metrics) / sizeof(metrics[0]))

static const struct vgl_value value_sets[][N_METRICS] = {
	{ { 1, VGL_Q_OK }, { 42.5, VGL_Q_OK }, { 2, VGL_Q_OK }, { 0, VGL_Q_OK }, { -1, VGL_Q_OK } },
	{ { 0, VGL_Q_TIMEOUT }, { 0, VGL_Q_ERROR }, { 0, VGL_Q_ABSENT }, { 0, VGL_Q_AUTH },
	  { 0, VGL_Q_TIMEOUT } },
	{ { 2, VGL_Q_OK }, { 0, VGL_Q_TIMEOUT }, { 9, VGL_Q_OK }, { 1e300, VGL_Q_OK },
	  { -0.0, VGL_Q_OK } },
	{ { NAN, VGL_Q_OK }, { INFINITY, VGL_Q_OK }, { -INFINITY, VGL_Q_OK },
	  { 18446744073709551615.0, VGL_Q_OK }, { 1e-300, VGL_Q_OK } },
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_cstr(data, size);
	struct vgl_expr *e = NULL;
	struct vgl_expr_error err;
	size_t idx[N_METRICS + 1], k;

	if (!text)
		return 0;
	memset(&err, 0, sizeof(err));
	if (vgl_expr_parse(text, metrics, N_METRICS, &e, &err) != 0) {
		FUZZ_CHECK(err.offset <= strlen(text));
		FUZZ_CHECK(memchr(err.msg, '\0', sizeof(err.msg)) && err.msg[0]);
		free(text);
		return 0;
	}
	FUZZ_CHECK(e != NULL);
	k = vgl_expr_metrics(e, idx, N_METRICS + 1);
	FUZZ_CHECK(k <= N_METRICS);
	for (size_t i = 0; i < k; i++)
		FUZZ_CHECK(idx[i] < N_METRICS && (i == 0 || idx[i - 1] < idx[i]));
	for (size_t s = 0; s < sizeof(value_sets) / sizeof(value_sets[0]); s++) {
		enum vgl_tri t = vgl_expr_eval(e, value_sets[s]);
		FUZZ_CHECK(t == VGL_TRUE || t == VGL_FALSE || t == VGL_UNKNOWN);
	}
	vgl_expr_free(e);
	free(text);
	return 0;
}
