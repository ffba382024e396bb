/* The condition language's evaluator (rules/expr.h): runs the code of
 * rules/expr_int.h over a fixed-size stack of cells, never allocating; and
 * what callers learn about a parsed expression.
 */
#include "rules/expr_int.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules/window.h"

/* ---- evaluation ------------------------------------------------------ */

/* A number (t: 1 known, VGL_UNKNOWN) or a boolean (t: enum vgl_tri). */
struct cell {
	double v;
	signed char t;
};

static enum vgl_tri compare(enum cmp_op op, double a, double b)
{
	int r = 0;

	switch (op) {
	case C_EQ: r = a == b; break;
	case C_NE: r = a != b; break;
	case C_LT: r = a < b; break;
	case C_LE: r = a <= b; break;
	case C_GT: r = a > b; break;
	case C_GE: r = a >= b; break;
	}
	return r ? VGL_TRUE : VGL_FALSE;
}

/* Kleene's strong three-valued logic: FALSE dominates AND, TRUE dominates OR. */
static enum vgl_tri tri_and(enum vgl_tri a, enum vgl_tri b)
{
	if (a == VGL_FALSE || b == VGL_FALSE)
		return VGL_FALSE;
	if (a == VGL_UNKNOWN || b == VGL_UNKNOWN)
		return VGL_UNKNOWN;
	return VGL_TRUE;
}

static enum vgl_tri tri_or(enum vgl_tri a, enum vgl_tri b)
{
	if (a == VGL_TRUE || b == VGL_TRUE)
		return VGL_TRUE;
	if (a == VGL_UNKNOWN || b == VGL_UNKNOWN)
		return VGL_UNKNOWN;
	return VGL_FALSE;
}

static struct cell value_of(const struct vgl_value *v)
{
	if (v && v->q == VGL_Q_OK)
		return (struct cell){ v->v, 1 };
	return (struct cell){ 0, VGL_UNKNOWN };
}

static signed char nodata_host(const struct vgl_expr_ctx *c, uint32_t span)
{
	int64_t base = c->last_good_ms ? c->last_good_ms : c->start_ms;

	return c->now_ms - base >= (int64_t)span ? VGL_TRUE : VGL_FALSE;
}

/* No good sample in [now - span, now]: the window's own rule, so that
 * nodata(M, D) is TRUE exactly when last(M, D) has nothing to read. */
static signed char nodata_metric(const struct vgl_expr_ctx *c, uint32_t m, uint32_t span)
{
	int64_t g = 0;

	if (c->metric_good_ms) {
		g = c->metric_good_ms[m];
	} else {
		const struct vgl_window *w = c->windows ? c->windows[m] : NULL;

		if (!w)
			return VGL_UNKNOWN;
		if (vgl_window_newest(w, &g, NULL) < 0)
			g = 0;
	}
	if (g == 0)
		g = c->start_ms;
	return g < c->now_ms - (int64_t)span ? VGL_TRUE : VGL_FALSE;
}

static struct cell sla_value(const struct vgl_expr_sla *s, uint8_t fn)
{
	struct cell x = { 0, 1 };

	if (!s || !s->known)
		return (struct cell){ 0, VGL_UNKNOWN };
	switch (fn) {
	case S_ALLOWANCE: x.v = (double)s->allowance_ms; break;
	case S_LEFT: x.v = (double)s->allowance_left_ms; break;
	case S_DOWNTIME: x.v = (double)s->downtime_ms; break;
	case S_NEXT_BAND:
		if (s->next_band_ms < 0)
			x.t = VGL_UNKNOWN;
		x.v = (double)s->next_band_ms;
		break;
	case S_UNAVAILABLE: x.v = s->unavailable ? 1 : 0; break;
	default: x.t = VGL_UNKNOWN; break;
	}
	return x;
}

static void arith(struct cell *a, const struct cell *b, uint8_t kind)
{
	double r = 0;

	if (a->t != 1 || b->t != 1) {
		a->t = VGL_UNKNOWN;
		return;
	}
	switch (kind) {
	case I_ADD: r = a->v + b->v; break;
	case I_SUB: r = a->v - b->v; break;
	case I_MUL: r = a->v * b->v; break;
	case I_DIV:
		if (b->v == 0) {
			a->t = VGL_UNKNOWN;
			return;
		}
		r = a->v / b->v;
		break;
	}
	/* An overflow (or a device's inf or NaN carried along) is no more a
	 * measurement than a division by zero. */
	if (!isfinite(r))
		a->t = VGL_UNKNOWN;
	a->v = r;
}

/* Runs code[from, to) on st, which is EXPR_MAX_STACK deep: the parser
 * refused anything deeper. Returns the stack depth left. */
static size_t run(const struct vgl_expr *e, const struct vgl_expr_ctx *c, size_t from, size_t to,
		  struct cell *st)
{
	size_t sp = 0;

	for (size_t i = from; i < to; i++) {
		const struct insn *in = &e->code[i];
		struct cell x = { 0, 1 };

		switch (in->kind) {
		case I_CONST:
			x.v = in->c;
			break;
		case I_METRIC:
			x = value_of(c->values ? &c->values[in->a] : NULL);
			break;
		case I_EXT:
			x = value_of(c->ext ? &c->ext[in->a] : NULL);
			break;
		case I_EXTLBL:
			if (e->labels[in->a].bound)
				x.v = (double)e->labels[in->a].value;
			else
				x.t = VGL_UNKNOWN;
			break;
		case I_WIN:
			if (vgl_window_eval(c->windows ? c->windows[in->a] : NULL,
					    (enum vgl_window_fn)in->sub, c->now_ms, in->span_ms,
					    &x.v) < 0)
				x.t = VGL_UNKNOWN;
			break;
		case I_NODATA:
			x.t = nodata_host(c, in->span_ms);
			break;
		case I_NODATA_M:
			x.t = nodata_metric(c, in->a, in->span_ms);
			break;
		case I_SLA:
			x = sla_value(c->sla, in->sub);
			break;
		case I_NEG:
			st[sp - 1].v = -st[sp - 1].v;
			continue;
		case I_NOT:
			if (st[sp - 1].t != VGL_UNKNOWN)
				st[sp - 1].t = st[sp - 1].t == VGL_TRUE ? VGL_FALSE : VGL_TRUE;
			continue;
		case I_ADD:
		case I_SUB:
		case I_MUL:
		case I_DIV:
			sp--;
			arith(&st[sp - 1], &st[sp], in->kind);
			continue;
		case I_CMP:
			sp--;
			if (st[sp - 1].t == 1 && st[sp].t == 1)
				st[sp - 1].t = (signed char)compare((enum cmp_op)in->sub,
								    st[sp - 1].v, st[sp].v);
			else
				st[sp - 1].t = VGL_UNKNOWN;
			continue;
		case I_AND:
			sp--;
			st[sp - 1].t = (signed char)tri_and(st[sp - 1].t, st[sp].t);
			continue;
		case I_OR:
			sp--;
			st[sp - 1].t = (signed char)tri_or(st[sp - 1].t, st[sp].t);
			continue;
		}
		st[sp++] = x;
	}
	return sp;
}

enum vgl_tri vgl_expr_eval_ctx(const struct vgl_expr *e, const struct vgl_expr_ctx *c)
{
	struct cell st[EXPR_MAX_STACK];

	if (!e || !c || e->n_code == 0 || run(e, c, 0, e->n_code, st) != 1)
		return VGL_UNKNOWN;
	return (enum vgl_tri)st[0].t;
}

enum vgl_tri vgl_expr_eval(const struct vgl_expr *e, const struct vgl_value *values)
{
	struct vgl_expr_ctx c = { .values = values };

	return vgl_expr_eval_ctx(e, &c);
}

int vgl_expr_value(const struct vgl_expr *e, const struct vgl_expr_ctx *c, double *out)
{
	struct cell st[EXPR_MAX_STACK];

	/* a device's inf or NaN taken as it came is no value to print */
	if (!e || !c || !e->has_cmp || run(e, c, e->val0, e->val1, st) != 1 || st[0].t != 1 ||
	    !isfinite(st[0].v))
		return -1;
	*out = st[0].v;
	return 0;
}

/* ---- what an expression needs ---------------------------------------- */

size_t vgl_expr_metrics(const struct vgl_expr *e, size_t *idx, size_t cap)
{
	if (!e)
		return 0;
	for (size_t i = 0; i < e->n_reads && i < cap; i++)
		idx[i] = e->reads[i];
	return e->n_reads;
}

int vgl_expr_metric_at(const struct vgl_expr *e, size_t k, size_t *idx)
{
	if (!e || k >= e->n_reads)
		return -1;
	*idx = e->reads[k];
	return 0;
}

size_t vgl_expr_windows(const struct vgl_expr *e, struct vgl_expr_window *out, size_t cap)
{
	if (!e)
		return 0;
	for (size_t i = 0; i < e->n_wins && i < cap; i++)
		out[i] = e->wins[i];
	return e->n_wins;
}

size_t vgl_expr_n_ext(const struct vgl_expr *e)
{
	return e ? e->n_ext : 0;
}

const struct vgl_expr_ext *vgl_expr_ext_at(const struct vgl_expr *e, size_t k)
{
	return e && k < e->n_ext ? &e->ext[k] : NULL;
}

static void bind_fail(struct vgl_expr_error *err, size_t off, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void bind_fail(struct vgl_expr_error *err, size_t off, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return;
	err->offset = off;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
}

int vgl_expr_bind_ext(struct vgl_expr *e, size_t k, const struct vgl_conf_metric *device_metric,
		      struct vgl_expr_error *err)
{
	const struct vgl_expr_ext *x;
	long v;

	if (!e || k >= e->n_ext) {
		bind_fail(err, 0, "no external reference %zu", k);
		return -1;
	}
	x = &e->ext[k];
	/* Check everything before changing anything, so a refused bind leaves
	 * the expression as the previous hosts left it. */
	for (size_t i = 0; i < e->n_labels; i++) {
		const struct ext_label *l = &e->labels[i];

		if (l->ext != k)
			continue;
		if (!device_metric ||
		    !vgl__expr_find_label(device_metric, l->text, strlen(l->text), &v)) {
			bind_fail(err, l->off, "'%.*s' is not a state of %s.%.*s",
				  QL(strlen(l->text)), l->text,
				  x->kind == VGL_EXPR_EXT_FEED ? "feed" : "uplink",
				  QL(strlen(x->metric)), x->metric);
			return -1;
		}
		if (l->bound && l->value != v) {
			bind_fail(err, l->off, "state '%.*s' of %s.%.*s is %ld on this device but "
					       "%ld on another",
				  QL(strlen(l->text)), l->text,
				  x->kind == VGL_EXPR_EXT_FEED ? "feed" : "uplink",
				  QL(strlen(x->metric)), x->metric, v, l->value);
			return -1;
		}
	}
	for (size_t i = 0; i < e->n_labels; i++) {
		struct ext_label *l = &e->labels[i];

		if (l->ext != k)
			continue;
		vgl__expr_find_label(device_metric, l->text, strlen(l->text), &l->value);
		l->bound = 1;
	}
	return 0;
}

void vgl_expr_free(struct vgl_expr *e)
{
	if (!e)
		return;
	free(e->code);
	free(e->reads);
	free(e->wins);
	vgl__expr_free_ext(e->ext, e->n_ext, e->labels, e->n_labels);
	free(e);
}
