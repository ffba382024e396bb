/* The condition language shared by availability conditions and (later)
 * alarm rules:
 *
 *   expr    := or
 *   or      := and ("or" and)*
 *   and     := unary ("and" unary)*
 *   unary   := "not" unary | cmp
 *   cmp     := operand (("==" | "!=" | "<" | "<=" | ">" | ">=") operand)?
 *   operand := NUMBER | METRIC | STATE | "(" expr ")"
 *
 * METRIC is a metric name of the host's profile; STATE is an enumerated
 * label of the metric it is compared with (ifOperStatus == down). Type rules:
 * a comparison yields a boolean; and/or/not take booleans; a bare metric is
 * not a boolean; a STATE is only valid opposite a metric that has it, and
 * only with == and !=. All checked at parse time.
 *
 * Evaluation is three-valued: a metric without a good current value makes
 * the comparison UNKNOWN, and and/or/not follow Kleene logic, so missing
 * data neither opens nor closes an interval by itself.
 */
#ifndef VGL_EXPR_H
#define VGL_EXPR_H

#include <stddef.h>

#include "core/sample.h"
#include "conf/conf.h"

struct vgl_expr;

enum vgl_tri { VGL_FALSE = 0, VGL_TRUE = 1, VGL_UNKNOWN = -1 };

struct vgl_expr_error {
	size_t offset;          /* byte offset into the expression text */
	char msg[160];          /* "unknown metric 'ifOperStatu'" */
};

/* Parses and type-checks text against the metrics it may name.
 * 0 and *out on success; -1 and *err on failure. */
int vgl_expr_parse(const char *text, const struct vgl_conf_metric *metrics,
		   size_t n_metrics, struct vgl_expr **out, struct vgl_expr_error *err);

/* values[i] is the current value of metrics[i] given at parse time. */
enum vgl_tri vgl_expr_eval(const struct vgl_expr *e, const struct vgl_value *values);

/* Indexes of the metrics the expression reads, ascending, no duplicates;
 * returns how many (at most cap are written). For evidence. */
size_t vgl_expr_metrics(const struct vgl_expr *e, size_t *idx, size_t cap);

/* The k-th of those (k < vgl_expr_metrics(e, NULL, 0)) into *idx; 0, or -1
 * past the end. */
int vgl_expr_metric_at(const struct vgl_expr *e, size_t k, size_t *idx);

void vgl_expr_free(struct vgl_expr *e);

#endif
