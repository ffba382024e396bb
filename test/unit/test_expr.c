#include "rules/expr.h"
#include "test/test.h"

/* A profile's metrics, built by hand: two with states, two plain numbers. */
static struct vgl_conf_enum if_states[] = { { "up", 1 }, { "down", 2 }, { "testing", 3 } };
static struct vgl_conf_enum psu_states[] = { { "ok", 1 }, { "failed", 2 }, { "down", 9 } };
static struct vgl_conf_metric metrics[] = {
	{ .name = "ifOperStatus", .enums = if_states, .n_enums = 3 },
	{ .name = "temp" },
	{ .name = "psu.state", .enums = psu_states, .n_enums = 3 },
	{ .name = "fan_rpm" },
};
#define N_METRICS (sizeof(metrics) / sizeof(metrics[0]))

static struct vgl_expr *parse_ok(const char *text)
{
	struct vgl_expr *e = NULL;
	struct vgl_expr_error err;

	if (vgl_expr_parse(text, metrics, N_METRICS, &e, &err) != 0) {
		fprintf(stderr, "parse '%s' failed at %zu: %s\n", text, err.offset, err.msg);
		ASSERT(0);
	}
	ASSERT(e != NULL);
	return e;
}

static enum vgl_tri eval_text(const char *text, const struct vgl_value *v)
{
	struct vgl_expr *e = parse_ok(text);
	enum vgl_tri r = vgl_expr_eval(e, v);

	vgl_expr_free(e);
	return r;
}

TEST(expr_errors_carry_offset_and_message)
{
	static const struct {
		const char *text;
		size_t offset;
		const char *msg;
	} cases[] = {
		{ "ifOperStatu == down", 0, "unknown metric 'ifOperStatu'" },
		{ "temp > 3 and ifOperStatu == down", 13, "unknown metric 'ifOperStatu'" },
		{ "temp == down", 8, "'down' is not a state of metric 'temp'" },
		{ "ifOperStatus == dwon", 16, "'dwon' is not a state of metric 'ifOperStatus'" },
		{ "(temp > 3", 9, "expected ')'" },
		{ "(temp > 3 or fan_rpm < 5 x", 25, "expected ')'" },
		{ "temp", 0, "a metric alone is not a condition: compare it" },
		{ "temp > 1 and fan_rpm", 13, "a metric alone is not a condition: compare it" },
		{ "ifOperStatus < down", 13, "'<' cannot compare states" },
		{ "down >= ifOperStatus", 5, "'>=' cannot compare states" },
		{ "temp > 3 temp", 9, "unexpected 'temp' after the end of the condition" },
		{ "temp > 3 )", 9, "unexpected ')'" },
		{ "", 0, "empty expression" },
		{ "   \t ", 5, "empty expression" },
		{ "temp >", 6, "unexpected end of expression" },
		{ "temp > 3 and", 12, "unexpected end of expression" },
		{ "temp = 3", 5, "'=' is not an operator" },
		{ "temp > 3 # x", 9, "unexpected character '#'" },
		{ "5", 0, "a number alone is not a condition" },
		{ "up == down", 0, "unknown metric 'up'" },
		{ "3 == down", 5, "unknown metric 'down'" },
		{ "temp > 1 < 2", 9, "comparisons do not chain" },
		{ "(temp > 1) == (temp < 2)", 11, "cannot compare conditions" },
		{ "temp > 1.", 7, "malformed number" },
		{ "not", 3, "unexpected end of expression" },
		{ "temp AND temp", 0, "a metric alone" },
		{ "temp > 3 AND fan_rpm < 2", 9, "unexpected 'AND'" },
		{ "temp > or", 7, "expected a metric, a number or '(' before 'or'" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct vgl_expr *e = (struct vgl_expr *)1;
		struct vgl_expr_error err;
		int rc = vgl_expr_parse(cases[i].text, metrics, N_METRICS, &e, &err);

		if (rc != -1 || e != NULL || err.offset != cases[i].offset ||
		    !strstr(err.msg, cases[i].msg)) {
			fprintf(stderr, "'%s': rc %d, offset %zu, msg \"%s\"; want %zu \"%s\"\n",
				cases[i].text, rc, err.offset, err.msg, cases[i].offset,
				cases[i].msg);
			ASSERT(0);
		}
	}
}

TEST(expr_precedence_not_and_or)
{
	/* Each metric at 1 (OK): comparisons below are TRUE for "== 1". */
	struct vgl_value v[N_METRICS] = { { 1, VGL_Q_OK }, { 1, VGL_Q_OK }, { 1, VGL_Q_OK },
					  { 1, VGL_Q_OK } };
	static const struct {
		const char *text;
		enum vgl_tri want;
	} cases[] = {
		/* or binds loosest: T or (F and F) */
		{ "temp == 1 or temp == 2 and temp == 3", VGL_TRUE },
		{ "(temp == 1 or temp == 2) and temp == 3", VGL_FALSE },
		/* and binds tighter than or on the other side too: (F and T) or T */
		{ "temp == 2 and temp == 1 or temp == 1", VGL_TRUE },
		{ "temp == 2 and (temp == 1 or temp == 1)", VGL_FALSE },
		/* not binds tightest: (not T) and T */
		{ "not temp == 1 and temp == 1", VGL_FALSE },
		/* (not F) or T vs not (F or T) */
		{ "not temp == 2 or temp == 1", VGL_TRUE },
		{ "not (temp == 2 or temp == 1)", VGL_FALSE },
		{ "not not temp == 1", VGL_TRUE },
		{ "temp != 1", VGL_FALSE },
		{ "temp < 1", VGL_FALSE },
		{ "temp <= 1", VGL_TRUE },
		{ "temp > 0.5", VGL_TRUE },
		{ "temp >= 1.5", VGL_FALSE },
		{ "temp > -3", VGL_TRUE },
		{ "-3 < temp", VGL_TRUE },
		{ "temp == fan_rpm", VGL_TRUE },
		{ "((((temp == 1))))", VGL_TRUE },
		{ "temp==1 and(fan_rpm>=1)", VGL_TRUE },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		enum vgl_tri r = eval_text(cases[i].text, v);

		if (r != cases[i].want) {
			fprintf(stderr, "'%s' = %d, want %d\n", cases[i].text, r, cases[i].want);
			ASSERT(0);
		}
	}
}

TEST(expr_enum_labels)
{
	struct vgl_value v[N_METRICS] = { { 2, VGL_Q_OK }, { 20, VGL_Q_OK }, { 9, VGL_Q_OK },
					  { 0, VGL_Q_OK } };

	ASSERT_EQ(eval_text("ifOperStatus == down", v), VGL_TRUE);
	ASSERT_EQ(eval_text("down == ifOperStatus", v), VGL_TRUE);
	ASSERT_EQ(eval_text("ifOperStatus != up", v), VGL_TRUE);
	ASSERT_EQ(eval_text("ifOperStatus == up", v), VGL_FALSE);
	ASSERT_EQ(eval_text("ifOperStatus == 2", v), VGL_TRUE);
	/* The same label means each metric's own value: psu.state's down is 9. */
	ASSERT_EQ(eval_text("psu.state == down", v), VGL_TRUE);
	v[2].v = 2;
	ASSERT_EQ(eval_text("psu.state == down", v), VGL_FALSE);
	ASSERT_EQ(eval_text("psu.state == failed and ifOperStatus == down", v), VGL_TRUE);
}

TEST(expr_metric_name_wins_over_label)
{
	/* A metric called like a label of another metric: the name is the metric. */
	struct vgl_conf_enum st[] = { { "up", 1 }, { "down", 2 } };
	struct vgl_conf_metric m[] = { { .name = "status", .enums = st, .n_enums = 2 },
				       { .name = "up" } };
	struct vgl_value v[] = { { 1, VGL_Q_OK }, { 7, VGL_Q_OK } };
	struct vgl_expr *e = NULL;
	struct vgl_expr_error err;
	size_t idx[4];

	ASSERT_EQ(vgl_expr_parse("status == up", m, 2, &e, &err), 0);
	/* compares status (1) with the metric up (7), not the label (1) */
	ASSERT_EQ(vgl_expr_eval(e, v), VGL_FALSE);
	ASSERT_EQ(vgl_expr_metrics(e, idx, 4), 2);
	vgl_expr_free(e);
}

TEST(expr_unknown_propagates_kleene)
{
	/* temp is missing; fan_rpm is 100 */
	struct vgl_value v[N_METRICS] = { { 1, VGL_Q_OK }, { 0, VGL_Q_TIMEOUT },
					  { 1, VGL_Q_OK }, { 100, VGL_Q_OK } };
	static const struct {
		const char *text;
		enum vgl_tri want;
	} cases[] = {
		{ "temp > 30", VGL_UNKNOWN },
		{ "not temp > 30", VGL_UNKNOWN },
		{ "temp > 30 and fan_rpm > 10", VGL_UNKNOWN },      /* U and T */
		{ "temp > 30 and fan_rpm < 10", VGL_FALSE },        /* U and F */
		{ "fan_rpm < 10 and temp > 30", VGL_FALSE },        /* F and U */
		{ "temp > 30 or fan_rpm > 10", VGL_TRUE },          /* U or T */
		{ "temp > 30 or fan_rpm < 10", VGL_UNKNOWN },       /* U or F */
		{ "temp == fan_rpm", VGL_UNKNOWN },
		{ "not (temp > 30 or fan_rpm > 10)", VGL_FALSE },
		{ "not (temp > 30 and fan_rpm > 10)", VGL_UNKNOWN },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		enum vgl_tri r = eval_text(cases[i].text, v);

		if (r != cases[i].want) {
			fprintf(stderr, "'%s' = %d, want %d\n", cases[i].text, r, cases[i].want);
			ASSERT(0);
		}
	}
	/* Any non-OK quality is missing data, including absent. */
	v[1] = (struct vgl_value){ 50, VGL_Q_ABSENT };
	ASSERT_EQ(eval_text("temp > 30", v), VGL_UNKNOWN);
	v[1].q = VGL_Q_OK;
	ASSERT_EQ(eval_text("temp > 30", v), VGL_TRUE);
}

TEST(expr_metrics_read_sorted_unique)
{
	struct vgl_expr *e = parse_ok("fan_rpm < 5 or (temp > 3 and fan_rpm < 1) or "
				      "ifOperStatus == down and fan_rpm == temp");
	size_t idx[8];

	ASSERT_EQ(vgl_expr_metrics(e, idx, 8), 3);
	ASSERT_EQ(idx[0], 0);
	ASSERT_EQ(idx[1], 1);
	ASSERT_EQ(idx[2], 3);
	/* cap smaller than the count: writes cap, still reports the count */
	idx[1] = 99;
	ASSERT_EQ(vgl_expr_metrics(e, idx, 1), 3);
	ASSERT_EQ(idx[0], 0);
	ASSERT_EQ(idx[1], 99);
	vgl_expr_free(e);
}

TEST(expr_nesting_is_bounded)
{
	char text[4096];
	size_t n = 0;
	struct vgl_expr *e = NULL;
	struct vgl_expr_error err;
	struct vgl_value v[N_METRICS] = { { 1, VGL_Q_OK }, { 1, VGL_Q_OK }, { 1, VGL_Q_OK },
					  { 1, VGL_Q_OK } };

	/* 40 levels parse and evaluate */
	for (int i = 0; i < 40; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "(temp == 2 or ");
	n += (size_t)snprintf(text + n, sizeof(text) - n, "temp == 1");
	for (int i = 0; i < 40; i++)
		text[n++] = ')';
	text[n] = '\0';
	ASSERT_EQ(vgl_expr_parse(text, metrics, N_METRICS, &e, &err), 0);
	ASSERT_EQ(vgl_expr_eval(e, v), VGL_TRUE);
	vgl_expr_free(e);

	/* 1000 levels are refused, not a stack overflow */
	memset(text, '(', 1000);
	strcpy(text + 1000, "temp == 1");
	ASSERT_EQ(vgl_expr_parse(text, metrics, N_METRICS, &e, &err), -1);
	ASSERT_CONTAINS(err.msg, "nests deeper");
	memset(text, 0, sizeof(text));
	for (n = 0; n + 4 < 1000; n += 4)
		memcpy(text + n, "not ", 4);
	strcpy(text + n, "temp == 1");
	ASSERT_EQ(vgl_expr_parse(text, metrics, N_METRICS, &e, &err), -1);
	ASSERT_CONTAINS(err.msg, "nests deeper");
}
