/* The condition language shared by availability conditions and alarm
 * rules (docs/rules.md has the full reference):
 *
 *   expr      := or
 *   or        := and ("or" and)*
 *   and       := unary ("and" unary)*
 *   unary     := "not" unary | cmp
 *   cmp       := sum (("==" | "!=" | "<" | "<=" | ">" | ">=") sum)?
 *   sum       := prod (("+" | "-") prod)*
 *   prod      := unary_num (("*" | "/") unary_num)*
 *   unary_num := "-" unary_num | primary
 *   primary   := NUMBER | DURATION | METRIC | EXTREF | STATE
 *              | FUNC "(" args ")" | "(" expr ")"
 *
 * METRIC is a metric name of the host's profile; STATE is an enumerated
 * label of the metric it is compared with (ifOperStatus == down); EXTREF
 * (feed.NAME, uplink.NAME) a metric of the device powering the host or of
 * its uplink switch. FUNC: the window functions avg, min, max, last, delta,
 * rate, changes (METRIC, DURATION) and nodata([METRIC,] DURATION), and the
 * SLA functions sla_allowance_ms(), sla_allowance_left_ms(),
 * sla_downtime_ms(), sla_next_band_ms(), unavailable(). A window is
 * [now - D, now], both ends included, D 1 s .. 24 h; nodata(D) is TRUE when
 * the host's last good poll is at least D ago, nodata(M, D) when M has no
 * good sample in the window; "never" counts from ctx->start_ms. A counter's
 * wrap and reset rule is vgl_window_counter_increase's (rules/window.h).
 *
 * Type rules, all checked at parse time: arithmetic takes numbers; a
 * comparison of numbers yields a boolean; and/or/not take booleans; a bare
 * number or metric is not a boolean; a STATE is valid only directly
 * opposite a metric that has it (or an EXTREF, or last(METRIC, D)), and
 * only with == and !=.
 *
 * Evaluation is three-valued: a metric without a good current value, an
 * empty window, a division by zero make the number UNKNOWN, a comparison
 * with an UNKNOWN side is UNKNOWN, and and/or/not follow Kleene logic, so
 * missing data neither opens nor closes an interval by itself. Evaluation
 * never allocates.
 */
#ifndef VGL_EXPR_H
#define VGL_EXPR_H

#include <stddef.h>
#include <stdint.h>

#include "core/sample.h"
#include "conf/conf.h"

struct vgl_expr;
struct vgl_window;

enum vgl_tri { VGL_FALSE = 0, VGL_TRUE = 1, VGL_UNKNOWN = -1 };

struct vgl_expr_error {
	size_t offset;          /* byte offset into the expression text */
	char msg[160];          /* "unknown metric 'ifOperStatu'" */
};

/* What the text may use beyond plain conditions; each 0 or 1. Availability
 * conditions allow none (vgl_expr_parse), alarm rules all. Using a feature
 * not allowed is an error naming it. */
struct vgl_expr_opts {
	int allow_windows;      /* avg min max last delta rate changes nodata */
	int allow_ext;          /* feed.NAME, uplink.NAME */
	int allow_sla;          /* sla_*_ms(), unavailable() */
};

/* Parses and type-checks text against the metrics it may name.
 * 0 and *out on success; -1 and *err on failure. opts NULL: all off. */
int vgl_expr_parse_opts(const char *text, const struct vgl_conf_metric *metrics,
			size_t n_metrics, const struct vgl_expr_opts *opts,
			struct vgl_expr **out, struct vgl_expr_error *err);

/* vgl_expr_parse_opts with every option off. */
int vgl_expr_parse(const char *text, const struct vgl_conf_metric *metrics,
		   size_t n_metrics, struct vgl_expr **out, struct vgl_expr_error *err);

/* The host's SLA month so far, as `vigil sla --month` computes it
 * (rules/sla_ledger.h fills it). */
struct vgl_expr_sla {
	int known;                      /* 0: every sla_ function is unknown */
	int64_t allowance_ms, allowance_left_ms, downtime_ms;
	int64_t next_band_ms;           /* downtime left before a higher credit band; < 0: none (unknown) */
	int unavailable;                /* an interval is open now */
};

/* Everything an evaluation may read. Only values is needed by an
 * expression without functions or external references; whatever an
 * expression reads and the context lacks is UNKNOWN. */
struct vgl_expr_ctx {
	const struct vgl_value *values;          /* the host's current values, by metric index */
	const struct vgl_window *const *windows; /* by metric index; NULL entry (or NULL array) = none kept:
						  * window functions of it are unknown */
	const struct vgl_value *ext;             /* by ext index k; NULL = all unknown */
	const struct vgl_expr_sla *sla;          /* NULL = unknown */
	int64_t now_ms;
	int64_t start_ms;                        /* when the host's rule state began (nodata's "never") */
	int64_t last_good_ms;                    /* the host's last good poll of any source; 0 = never */
	const int64_t *metric_good_ms;           /* by metric index: its last good sample (0 = never);
						  * NULL = the newest sample of its window */
};

enum vgl_tri vgl_expr_eval_ctx(const struct vgl_expr *e, const struct vgl_expr_ctx *c);

/* values[i] is the current value of metrics[i] given at parse time: the
 * context with only values. */
enum vgl_tri vgl_expr_eval(const struct vgl_expr *e, const struct vgl_value *values);

/* For summary templates ("temp {value} > 50"): the value of the left
 * operand of the expression's first comparison in text order. 0 and *out
 * when known and finite; -1 when unknown, not finite (a device's inf or
 * NaN) or the expression compares nothing. */
int vgl_expr_value(const struct vgl_expr *e, const struct vgl_expr_ctx *c, double *out);

/* Indexes of the metrics the expression reads (directly and through
 * functions), ascending, no duplicates; returns how many (at most cap are
 * written). For evidence, and for the sources a rule listens to. */
size_t vgl_expr_metrics(const struct vgl_expr *e, size_t *idx, size_t cap);

/* The k-th of those (k < vgl_expr_metrics(e, NULL, 0)) into *idx; 0, or -1
 * past the end. */
int vgl_expr_metric_at(const struct vgl_expr *e, size_t k, size_t *idx);

/* The windows the rules engine must keep for this expression: one entry per
 * metric read by a window function or nodata(METRIC, D), ascending metric,
 * span_ms the largest D over that metric's uses. Returns the count (at most
 * cap are written). */
struct vgl_expr_window {
	uint32_t metric;
	uint32_t span_ms;
};
size_t vgl_expr_windows(const struct vgl_expr *e, struct vgl_expr_window *out, size_t cap);

/* References to another device's metric: unique (kind, metric) pairs in
 * order of first appearance; ctx->ext is indexed the same way. metric is
 * the NAME after "feed." / "uplink.", owned by the expression; offset
 * where it first appears in the text. */
enum vgl_expr_ext_kind { VGL_EXPR_EXT_FEED, VGL_EXPR_EXT_UPLINK };
struct vgl_expr_ext {
	enum vgl_expr_ext_kind kind;
	const char *metric;
	size_t offset;
};
size_t vgl_expr_n_ext(const struct vgl_expr *e);
const struct vgl_expr_ext *vgl_expr_ext_at(const struct vgl_expr *e, size_t k);

/* Resolves the state labels compared with external reference k against
 * the referenced device's metric (its profile is unknown at parse time).
 * Called once per host at config load. Checks that every label compared
 * with reference k is a state of device_metric and records its value; a
 * later bind (another host's device) that maps a label to a different
 * value is an error naming the label, since one rule must mean one thing.
 * With no label compared with k it always succeeds (device_metric may then
 * be NULL). 0, or -1 and *err (offset: the label in the text), nothing
 * changed. Until bound, such a comparison evaluates UNKNOWN. */
int vgl_expr_bind_ext(struct vgl_expr *e, size_t k, const struct vgl_conf_metric *device_metric,
		      struct vgl_expr_error *err);

void vgl_expr_free(struct vgl_expr *e);

#endif
