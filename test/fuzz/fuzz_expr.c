/* The condition language (rules/expr.h): parse and type-check any text
 * against a profile of metrics with and without states, then evaluate
 * what parsed over values that are good, missing and extreme. A refusal
 * points inside the text; a parsed expression names only known metrics
 * and evaluates to one of the three truth values. The same text again as
 * an alarm rule (windows, feed./uplink. references bound to a device's
 * metric, SLA functions), evaluated over windows of samples with wraps,
 * resets and gaps. */
#include <math.h>
#include <string.h>

#include "rules/expr.h"
#include "rules/window.h"
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

static void rule_pass(const char *text)
{
	static const struct vgl_expr_opts all = { 1, 1, 1 };
	static const double samples[] = { 4294967000.0, 200, 5, 1e9, 5, 18446744073709551000.0, 7,
					  NAN, -3, 0 };
	struct vgl_window *w[N_METRICS] = { 0 };
	struct vgl_value ext[8];
	struct vgl_expr_sla sla = { 1, 2678, 500, 2178, 600000, 1 };
	struct vgl_expr_window wins[N_METRICS + 1];
	struct vgl_expr_error err;
	struct vgl_expr *e = NULL;
	double v;

	memset(&err, 0, sizeof(err));
	if (vgl_expr_parse_opts(text, metrics, N_METRICS, &all, &e, &err) != 0) {
		FUZZ_CHECK(err.offset <= strlen(text));
		FUZZ_CHECK(memchr(err.msg, '\0', sizeof(err.msg)) && err.msg[0]);
		return;
	}
	FUZZ_CHECK(vgl_expr_windows(e, wins, N_METRICS + 1) <= N_METRICS);
	for (size_t k = 0; k < vgl_expr_n_ext(e); k++) {
		FUZZ_CHECK(vgl_expr_ext_at(e, k) != NULL);
		/* a bind may be refused (a label the device lacks): never a crash */
		(void)vgl_expr_bind_ext(e, k, &metrics[k % N_METRICS], &err);
	}
	for (size_t m = 0; m < N_METRICS; m++) {
		if (!(w[m] = vgl_window_new(8)))
			goto out;
		for (size_t i = 0; i < sizeof(samples) / sizeof(samples[0]); i++)
			vgl_window_push(w[m], 1000000 + (int64_t)(i * 10000) - (i == 4 ? 20000 : 0),
					samples[(i + m) % (sizeof(samples) / sizeof(samples[0]))]);
	}
	for (size_t k = 0; k < 8; k++)
		ext[k] = (struct vgl_value){ (double)k, k % 3 ? VGL_Q_OK : VGL_Q_TIMEOUT };
	for (size_t s = 0; s < sizeof(value_sets) / sizeof(value_sets[0]); s++) {
		struct vgl_expr_ctx c = {
			.values = value_sets[s], .windows = (const struct vgl_window *const *)w,
			.ext = vgl_expr_n_ext(e) <= 8 ? ext : NULL, .sla = s % 2 ? &sla : NULL,
			.now_ms = 1000000 + (int64_t)s * 40000, .start_ms = 1000000,
			.last_good_ms = s == 1 ? 0 : 1000000,
		};
		enum vgl_tri t = vgl_expr_eval_ctx(e, &c);
		FUZZ_CHECK(t == VGL_TRUE || t == VGL_FALSE || t == VGL_UNKNOWN);
		if (vgl_expr_value(e, &c, &v) == 0)
			FUZZ_CHECK(isfinite(v));
	}
out:
	for (size_t m = 0; m < N_METRICS; m++)
		vgl_window_free(w[m]);
	vgl_expr_free(e);
}

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
	e = NULL;
	rule_pass(text);
	free(text);
	return 0;
}
