/* The condition language's parser (rules/expr.h): recursive descent that
 * type-checks as it goes and emits the reverse Polish code of
 * rules/expr_int.h. Errors carry the byte offset of the offending token.
 */
#include "rules/expr_parse_int.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules/window.h"

/* ---- code emission --------------------------------------------------- */

static int grow(struct parser *p, void **arr, size_t *cap, size_t n, size_t elem)
{
	size_t c;
	void *a;

	if (n < *cap)
		return 0;
	c = *cap ? *cap * 2 : 8;
	a = realloc(*arr, c * elem);
	if (!a) {
		vgl__expr_fail(p, p->tok.off, "out of memory");
		return -1;
	}
	*arr = a;
	*cap = c;
	return 0;
}

static int stack_effect(uint8_t kind)
{
	if (kind <= I_SLA)
		return 1;
	if (kind == I_NEG || kind == I_NOT)
		return 0;
	return -1;
}

static void emit(struct parser *p, const struct insn *in)
{
	if (p->failed || grow(p, (void **)&p->code, &p->cap_code, p->n_code, sizeof(*p->code)) < 0)
		return;
	p->code[p->n_code++] = *in;
	p->depth = (size_t)((long)p->depth + stack_effect(in->kind));
	if (p->depth > p->max_depth)
		p->max_depth = p->depth;
}

/* ---- names ----------------------------------------------------------- */

static int find_metric(const struct parser *p, size_t off, size_t len, uint32_t *idx)
{
	for (size_t i = 0; i < p->n_metrics; i++) {
		const char *n = p->metrics[i].name;

		if (n && strlen(n) == len && memcmp(n, p->text + off, len) == 0) {
			*idx = (uint32_t)i;
			return 1;
		}
	}
	return 0;
}

int vgl__expr_find_label(const struct vgl_conf_metric *m, const char *text, size_t len,
			 long *value)
{
	for (size_t i = 0; i < m->n_enums; i++) {
		const char *l = m->enums[i].label;

		if (l && strlen(l) == len && memcmp(l, text, len) == 0) {
			*value = m->enums[i].value;
			return 1;
		}
	}
	return 0;
}

static int label_anywhere(const struct parser *p, size_t off, size_t len)
{
	long v;

	for (size_t i = 0; i < p->n_metrics; i++)
		if (vgl__expr_find_label(&p->metrics[i], p->text + off, len, &v))
			return 1;
	return 0;
}

/* "feed.NAME" / "uplink.NAME": 1 with the kind and where NAME starts. */
static int ext_prefix(const struct parser *p, const struct tok *t, enum vgl_expr_ext_kind *kind,
		      size_t *name_off)
{
	static const struct {
		const char *prefix;
		enum vgl_expr_ext_kind kind;
	} px[] = { { "feed.", VGL_EXPR_EXT_FEED }, { "uplink.", VGL_EXPR_EXT_UPLINK } };

	for (size_t i = 0; i < sizeof(px) / sizeof(px[0]); i++) {
		size_t n = strlen(px[i].prefix);

		if (t->len >= n && memcmp(p->text + t->off, px[i].prefix, n) == 0) {
			*kind = px[i].kind;
			*name_off = t->off + n;
			return 1;
		}
	}
	return 0;
}

static char *dup_text(struct parser *p, size_t off, size_t len)
{
	char *s = malloc(len + 1);

	if (!s) {
		vgl__expr_fail(p, off, "out of memory");
		return NULL;
	}
	memcpy(s, p->text + off, len);
	s[len] = '\0';
	return s;
}

/* The index of reference (kind, NAME), added at its first appearance. */
static long add_ext(struct parser *p, enum vgl_expr_ext_kind kind, size_t off, size_t name_off,
		    size_t name_len)
{
	struct vgl_expr_ext *x;

	for (size_t i = 0; i < p->n_ext; i++)
		if (p->ext[i].kind == kind && strlen(p->ext[i].metric) == name_len &&
		    memcmp(p->ext[i].metric, p->text + name_off, name_len) == 0)
			return (long)i;
	if (p->n_ext >= UINT32_MAX ||
	    grow(p, (void **)&p->ext, &p->cap_ext, p->n_ext, sizeof(*p->ext)) < 0)
		return -1;
	x = &p->ext[p->n_ext];
	x->kind = kind;
	x->offset = off;
	x->metric = dup_text(p, name_off, name_len);
	if (!x->metric)
		return -1;
	return (long)p->n_ext++;
}

/* ---- parser ---------------------------------------------------------- */

static void parse_or(struct parser *p, struct val *v);

static void unknown_metric(struct parser *p, const struct val *v)
{
	const char *s = p->text + v->off;
	const char *dash = memchr(s, '-', v->len);
	uint32_t idx;

	/* '-' is a name character, so "temp-5" is one unknown name; when what
	 * precedes the '-' is a metric, a subtraction was meant. */
	if (dash && find_metric(p, v->off, (size_t)(dash - s), &idx))
		vgl__expr_fail(p, v->off, "unknown metric '%.*s' (put blanks around '-' to subtract)",
		     QL(v->len), s);
	else
		vgl__expr_fail(p, v->off, "unknown metric '%.*s'", QL(v->len), s);
}

/* The value must be a number: arithmetic does not take conditions. */
static int need_num(struct parser *p, const struct val *v, const struct tok *op)
{
	switch (v->kind) {
	case V_NUM:
	case V_NUMX:
	case V_METRIC:
	case V_EXT:
		return 0;
	case V_BOOL:
		vgl__expr_fail(p, op->off, "'%.*s' takes numbers, not a condition", (int)op->len,
		     p->text + op->off);
		return -1;
	case V_LABEL:
		if (label_anywhere(p, v->off, v->len))
			vgl__expr_fail(p, v->off, "state '%.*s' can only be compared (== or !=) with a metric "
					"that has it", QL(v->len), p->text + v->off);
		else
			unknown_metric(p, v);
		return -1;
	}
	return -1;
}

/* The value must be a condition: and/or/not and the whole expression. */
static int need_bool(struct parser *p, const struct val *v)
{
	switch (v->kind) {
	case V_BOOL:
		return 0;
	case V_METRIC:
	case V_EXT:
		vgl__expr_fail(p, v->off, "a metric alone is not a condition: compare it");
		return -1;
	case V_NUM:
	case V_NUMX:
		vgl__expr_fail(p, v->off, "a number alone is not a condition: compare it");
		return -1;
	case V_LABEL:
		unknown_metric(p, v);
		return -1;
	}
	return -1;
}

enum fn_class { F_WIN, F_NODATA, F_SLA };

static const struct fn {
	const char *name;
	uint8_t cls;            /* enum fn_class */
	uint8_t sub;            /* enum vgl_window_fn, enum sla_fn */
} fns[] = {
	{ "avg", F_WIN, VGL_WINDOW_AVG },
	{ "min", F_WIN, VGL_WINDOW_MIN },
	{ "max", F_WIN, VGL_WINDOW_MAX },
	{ "last", F_WIN, VGL_WINDOW_LAST },
	{ "delta", F_WIN, VGL_WINDOW_DELTA },
	{ "rate", F_WIN, VGL_WINDOW_RATE },
	{ "changes", F_WIN, VGL_WINDOW_CHANGES },
	{ "nodata", F_NODATA, 0 },
	{ "sla_allowance_ms", F_SLA, S_ALLOWANCE },
	{ "sla_allowance_left_ms", F_SLA, S_LEFT },
	{ "sla_downtime_ms", F_SLA, S_DOWNTIME },
	{ "sla_next_band_ms", F_SLA, S_NEXT_BAND },
	{ "unavailable", F_SLA, S_UNAVAILABLE },
};

/* How many arguments the call at p->tok ('(') has, looking ahead without
 * consuming, so that a wrong count is reported as such rather than as
 * whatever the first misplaced argument looks like. */
static int count_args(struct parser *p)
{
	struct tok save = p->tok;
	int depth = 0, commas = 0, any = 0;

	for (;;) {
		vgl__expr_next(p);
		if (p->failed || p->tok.kind == T_END)
			break;
		if (p->tok.kind == T_RPAREN && depth == 0)
			break;
		if (p->tok.kind == T_COMMA && depth == 0) {
			commas++;
			continue;
		}
		if (p->tok.kind == T_LPAREN)
			depth++;
		else if (p->tok.kind == T_RPAREN)
			depth--;
		any = 1;
	}
	p->tok = save;
	return any || commas ? commas + 1 : 0;
}

static int parse_metric_arg(struct parser *p, const struct fn *f, uint32_t *idx)
{
	struct tok t = p->tok;
	enum vgl_expr_ext_kind k;
	size_t noff;

	if (t.kind != T_IDENT || vgl__expr_followed_by_paren(p)) {
		vgl__expr_fail(p, t.off, "the first argument of %s() must be a metric of the host", f->name);
		return -1;
	}
	if (find_metric(p, t.off, t.len, idx)) {
		vgl__expr_next(p);
		return p->failed ? -1 : 0;
	}
	if (ext_prefix(p, &t, &k, &noff))
		vgl__expr_fail(p, t.off, "%s() reads a metric of this host, not of another device ('%.*s')",
		     f->name, QL(t.len), p->text + t.off);
	else
		vgl__expr_fail(p, t.off, "unknown metric '%.*s'", QL(t.len), p->text + t.off);
	return -1;
}

static int parse_span_arg(struct parser *p, const struct fn *f, uint32_t *span)
{
	struct tok t = p->tok;

	if (t.kind != T_DUR) {
		vgl__expr_fail(p, t.off, "expected a duration (30s, 5m, 1h) as the last argument of %s()",
		     f->name);
		return -1;
	}
	if (t.num < SPAN_MIN_MS || t.num > SPAN_MAX_MS) {
		vgl__expr_fail(p, t.off, "duration '%.*s' is out of range: 1s to 24h", QL(t.len),
		     p->text + t.off);
		return -1;
	}
	*span = (uint32_t)t.num;
	vgl__expr_next(p);
	return p->failed ? -1 : 0;
}

static int expect(struct parser *p, enum tok_kind k, const char *what)
{
	if (p->failed)
		return -1;
	if (p->tok.kind != k) {
		vgl__expr_fail(p, p->tok.off, "expected %s", what);
		return -1;
	}
	vgl__expr_next(p);
	return p->failed ? -1 : 0;
}

static void parse_call(struct parser *p, struct val *v)
{
	struct tok t = p->tok;
	const struct fn *f = NULL;
	struct insn in = { 0 };
	int n, ok;

	for (size_t i = 0; i < sizeof(fns) / sizeof(fns[0]); i++)
		if (vgl__expr_word_is(p, &t, fns[i].name))
			f = &fns[i];
	if (!f) {
		vgl__expr_fail(p, t.off, "unknown function '%.*s'", QL(t.len), p->text + t.off);
		return;
	}
	if (f->cls != F_SLA && !p->opts.allow_windows) {
		vgl__expr_fail(p, t.off, "window functions are allowed in alarm rules only");
		return;
	}
	if (f->cls == F_SLA && !p->opts.allow_sla) {
		vgl__expr_fail(p, t.off, "SLA functions are allowed in alarm rules only");
		return;
	}
	vgl__expr_next(p);
	n = count_args(p);
	if (p->failed)
		return;
	switch (f->cls) {
	case F_WIN:
		ok = n == 2;
		if (!ok)
			vgl__expr_fail(p, t.off, "%s() takes 2 arguments: %s(METRIC, DURATION)", f->name,
			     f->name);
		break;
	case F_NODATA:
		ok = n == 1 || n == 2;
		if (!ok)
			vgl__expr_fail(p, t.off, "nodata() takes 1 or 2 arguments: nodata(DURATION) or "
				       "nodata(METRIC, DURATION)");
		break;
	default:
		ok = n == 0;
		if (!ok)
			vgl__expr_fail(p, t.off, "%s() takes no arguments", f->name);
		break;
	}
	if (!ok || expect(p, T_LPAREN, "'('") < 0)
		return;
	in.sub = f->sub;
	switch (f->cls) {
	case F_WIN:
		in.kind = I_WIN;
		if (parse_metric_arg(p, f, &in.a) < 0 || expect(p, T_COMMA, "','") < 0 ||
		    parse_span_arg(p, f, &in.span_ms) < 0)
			return;
		break;
	case F_NODATA:
		in.kind = I_NODATA;
		if (n == 2) {
			in.kind = I_NODATA_M;
			if (parse_metric_arg(p, f, &in.a) < 0 || expect(p, T_COMMA, "','") < 0)
				return;
		}
		if (parse_span_arg(p, f, &in.span_ms) < 0)
			return;
		break;
	default:
		in.kind = I_SLA;
		break;
	}
	v->len = p->tok.off + 1 - t.off;
	if (expect(p, T_RPAREN, "')'") < 0)
		return;
	emit(p, &in);
	v->kind = f->cls == F_NODATA ? V_BOOL : V_NUMX;
	/* last() is the metric's own value, so its states apply. */
	if (f->cls == F_WIN && f->sub == VGL_WINDOW_LAST) {
		v->lsrc = L_METRIC;
		v->lidx = in.a;
	}
}

static void parse_name(struct parser *p, struct val *v)
{
	struct tok t = p->tok;
	enum vgl_expr_ext_kind k;
	size_t noff;
	uint32_t idx;
	long x;

	if (find_metric(p, t.off, t.len, &idx)) {
		emit(p, &(struct insn){ .kind = I_METRIC, .a = idx });
		v->kind = V_METRIC;
		v->lsrc = L_METRIC;
		v->lidx = idx;
	} else if (ext_prefix(p, &t, &k, &noff)) {
		if (!p->opts.allow_ext) {
			vgl__expr_fail(p, t.off, "references to other devices (feed.NAME, uplink.NAME) are "
				       "allowed in alarm rules only");
			return;
		}
		if (noff == t.off + t.len) {
			vgl__expr_fail(p, t.off, "expected a metric name after '%.*s'", QL(t.len),
			     p->text + t.off);
			return;
		}
		x = add_ext(p, k, t.off, noff, t.off + t.len - noff);
		if (x < 0)
			return;
		emit(p, &(struct insn){ .kind = I_EXT, .a = (uint32_t)x });
		v->kind = V_EXT;
		v->lsrc = L_EXT;
		v->lidx = (uint32_t)x;
	} else {
		/* Maybe a state: that depends on the other side of its
		 * comparison, so a placeholder is patched there. */
		v->kind = V_LABEL;
		v->code_at = p->n_code;
		emit(p, &(struct insn){ .kind = I_CONST });
	}
	vgl__expr_next(p);
}

static void parse_primary(struct parser *p, struct val *v)
{
	struct tok t = p->tok;

	v->off = t.off;
	v->len = t.len;
	v->lsrc = L_NONE;
	switch (t.kind) {
	case T_NUM:
	case T_DUR:
		/* A duration used as a number is its milliseconds, which is what
		 * the sla_ functions return. */
		v->kind = V_NUM;
		emit(p, &(struct insn){ .kind = I_CONST, .c = t.num });
		vgl__expr_next(p);
		return;
	case T_IDENT:
		if (vgl__expr_followed_by_paren(p))
			parse_call(p, v);
		else
			parse_name(p, v);
		return;
	case T_LPAREN:
		if (++p->nest > EXPR_MAX_NEST) {
			vgl__expr_fail(p, t.off, "expression nests deeper than %d levels", EXPR_MAX_NEST);
			return;
		}
		vgl__expr_next(p);
		parse_or(p, v);
		p->nest--;
		if (p->failed)
			return;
		if (p->tok.kind != T_RPAREN) {
			vgl__expr_fail(p, p->tok.off, "expected ')'");
			return;
		}
		vgl__expr_next(p);
		return;
	case T_END:
		vgl__expr_fail(p, t.off, "unexpected end of expression");
		return;
	default:
		vgl__expr_fail(p, t.off, "expected a metric, a number or '(' before '%.*s'", QL(t.len),
		     p->text + t.off);
		return;
	}
}

static void parse_unary_num(struct parser *p, struct val *v)
{
	struct tok m = p->tok;

	if (m.kind != T_MINUS) {
		parse_primary(p, v);
		return;
	}
	if (++p->nest > EXPR_MAX_NEST) {
		vgl__expr_fail(p, m.off, "expression nests deeper than %d levels", EXPR_MAX_NEST);
		return;
	}
	vgl__expr_next(p);
	parse_unary_num(p, v);
	p->nest--;
	if (p->failed || need_num(p, v, &m) < 0)
		return;
	emit(p, &(struct insn){ .kind = I_NEG });
	v->kind = v->kind == V_NUM ? V_NUM : V_NUMX;
	v->lsrc = L_NONE;
	v->len = v->off + v->len - m.off;
	v->off = m.off;
}

/* Left-associative arithmetic: level 0 is sum (+ -), level 1 prod (* /),
 * which binds tighter. */
static void parse_arith(struct parser *p, struct val *v, int level)
{
	static const struct {
		enum tok_kind t[2];
		enum insn_kind i[2];
	} lv[] = { { { T_PLUS, T_MINUS }, { I_ADD, I_SUB } },
		   { { T_STAR, T_SLASH }, { I_MUL, I_DIV } } };

	if (level == 0)
		parse_arith(p, v, 1);
	else
		parse_unary_num(p, v);
	while (!p->failed && (p->tok.kind == lv[level].t[0] || p->tok.kind == lv[level].t[1])) {
		struct tok op = p->tok;
		struct val r;

		if (need_num(p, v, &op) < 0)
			return;
		vgl__expr_next(p);
		if (level == 0)
			parse_arith(p, &r, 1);
		else
			parse_unary_num(p, &r);
		if (p->failed || need_num(p, &r, &op) < 0)
			return;
		emit(p, &(struct insn){ .kind = lv[level].i[op.kind == lv[level].t[1]] });
		v->kind = V_NUMX;
		v->lsrc = L_NONE;
		v->len = r.off + r.len - v->off;
	}
}

/* Turns one side of a comparison into a constant when it is a label, given
 * the other side (which a label needs to mean anything). */
static int resolve(struct parser *p, const struct val *v, const struct val *other,
		   const struct tok *op)
{
	long lv = 0;

	switch (v->kind) {
	case V_BOOL:
		vgl__expr_fail(p, op->off, "'%.*s' cannot compare conditions: combine them with and/or/not",
		     (int)op->len, p->text + op->off);
		return -1;
	case V_LABEL:
		break;
	default:
		return 0;
	}
	if (other->lsrc == L_NONE) {
		unknown_metric(p, v);
		return -1;
	}
	if (other->lsrc == L_METRIC) {
		const struct vgl_conf_metric *m = &p->metrics[other->lidx];

		if (!vgl__expr_find_label(m, p->text + v->off, v->len, &lv)) {
			/* A spelling no metric knows as a state is more likely a
			 * mistyped metric name, unless this metric has states to
			 * choose from. */
			if (m->n_enums == 0 && !label_anywhere(p, v->off, v->len))
				unknown_metric(p, v);
			else
				vgl__expr_fail(p, v->off, "'%.*s' is not a state of metric '%.*s'",
				     QL(v->len), p->text + v->off, QLEN, m->name);
			return -1;
		}
	}
	if (op->op != C_EQ && op->op != C_NE) {
		vgl__expr_fail(p, op->off, "'%.*s' cannot compare states: use == or !=", (int)op->len,
		     p->text + op->off);
		return -1;
	}
	if (other->lsrc == L_METRIC) {
		p->code[v->code_at].c = (double)lv;
		return 0;
	}
	/* Opposite another device's metric: kept as text until bound. */
	if (p->n_labels >= UINT32_MAX ||
	    grow(p, (void **)&p->labels, &p->cap_labels, p->n_labels, sizeof(*p->labels)) < 0)
		return -1;
	struct ext_label *l = &p->labels[p->n_labels];
	l->ext = other->lidx;
	l->off = v->off;
	l->value = 0;
	l->bound = 0;
	l->text = dup_text(p, v->off, v->len);
	if (!l->text)
		return -1;
	p->code[v->code_at].kind = I_EXTLBL;
	p->code[v->code_at].a = (uint32_t)p->n_labels++;
	return 0;
}

static void parse_cmp(struct parser *p, struct val *v)
{
	struct val l, r;
	struct tok op;
	size_t c0 = p->n_code, c1;

	parse_arith(p, &l, 0);
	if (p->failed)
		return;
	if (p->tok.kind != T_CMP) {
		*v = l;
		return;
	}
	c1 = p->n_code;
	op = p->tok;
	vgl__expr_next(p);
	if (p->failed)
		return;
	parse_arith(p, &r, 0);
	if (p->failed)
		return;
	if (resolve(p, &l, &r, &op) < 0 || resolve(p, &r, &l, &op) < 0)
		return;
	emit(p, &(struct insn){ .kind = I_CMP, .sub = (uint8_t)op.op });
	if (!p->has_cmp) {
		p->has_cmp = 1;
		p->val0 = c0;
		p->val1 = c1;
	}
	v->kind = V_BOOL;
	v->off = l.off;
	v->len = r.off + r.len - l.off;
	v->lsrc = L_NONE;
	if (p->tok.kind == T_CMP)
		vgl__expr_fail(p, p->tok.off, "comparisons do not chain: join them with 'and'");
}

static void parse_unary(struct parser *p, struct val *v)
{
	struct tok t = p->tok;

	if (t.kind != T_NOT) {
		parse_cmp(p, v);
		return;
	}
	if (++p->nest > EXPR_MAX_NEST) {
		vgl__expr_fail(p, t.off, "expression nests deeper than %d levels", EXPR_MAX_NEST);
		return;
	}
	vgl__expr_next(p);
	parse_unary(p, v);
	p->nest--;
	if (p->failed || need_bool(p, v) < 0)
		return;
	emit(p, &(struct insn){ .kind = I_NOT });
	v->len = v->off + v->len - t.off;
	v->off = t.off;
}

/* and (level 1) binds tighter than or (level 0). */
static void parse_logic(struct parser *p, struct val *v, int level)
{
	enum tok_kind k = level ? T_AND : T_OR;

	if (level)
		parse_unary(p, v);
	else
		parse_logic(p, v, 1);
	while (!p->failed && p->tok.kind == k) {
		struct val r;

		if (need_bool(p, v) < 0)
			return;
		vgl__expr_next(p);
		if (level)
			parse_unary(p, &r);
		else
			parse_logic(p, &r, 1);
		if (p->failed || need_bool(p, &r) < 0)
			return;
		emit(p, &(struct insn){ .kind = level ? I_AND : I_OR });
		v->len = r.off + r.len - v->off;
	}
}

static void parse_or(struct parser *p, struct val *v)
{
	parse_logic(p, v, 0);
}

/* The metrics read, and the windows the engine must keep. */
static int collect_reads(struct vgl_expr *e, size_t n_metrics)
{
	unsigned char *seen;
	uint32_t *span;
	size_t n = 0, nw = 0;

	if (n_metrics == 0)
		return 0;
	seen = calloc(n_metrics, 1);
	span = calloc(n_metrics, sizeof(*span));
	if (!seen || !span)
		goto oom;
	for (size_t i = 0; i < e->n_code; i++) {
		const struct insn *in = &e->code[i];

		if (in->kind != I_METRIC && in->kind != I_WIN && in->kind != I_NODATA_M)
			continue;
		if (!seen[in->a]++)
			n++;
		if (in->kind == I_METRIC)
			continue;
		if (span[in->a] == 0)
			nw++;
		if (in->span_ms > span[in->a])
			span[in->a] = in->span_ms;
	}
	if (n) {
		e->reads = malloc(n * sizeof(*e->reads));
		if (!e->reads)
			goto oom;
		for (size_t i = 0; i < n_metrics; i++)
			if (seen[i])
				e->reads[e->n_reads++] = i;
	}
	if (nw) {
		e->wins = malloc(nw * sizeof(*e->wins));
		if (!e->wins)
			goto oom;
		for (size_t i = 0; i < n_metrics; i++)
			if (span[i])
				e->wins[e->n_wins++] = (struct vgl_expr_window){ (uint32_t)i, span[i] };
	}
	free(seen);
	free(span);
	return 0;
oom:
	free(seen);
	free(span);
	return -1;
}

void vgl__expr_free_ext(struct vgl_expr_ext *ext, size_t n, struct ext_label *labels, size_t nl)
{
	for (size_t i = 0; i < n; i++)
		free((char *)ext[i].metric);
	free(ext);
	for (size_t i = 0; i < nl; i++)
		free(labels[i].text);
	free(labels);
}

int vgl_expr_parse_opts(const char *text, const struct vgl_conf_metric *metrics,
			size_t n_metrics, const struct vgl_expr_opts *opts,
			struct vgl_expr **out, struct vgl_expr_error *err)
{
	struct parser p = { .text = text, .metrics = metrics, .n_metrics = n_metrics, .err = err };
	struct vgl_expr *e;
	struct val v;

	*out = NULL;
	if (opts)
		p.opts = *opts;
	if (err) {
		err->offset = 0;
		err->msg[0] = '\0';
	}
	if (!text) {
		vgl__expr_fail(&p, 0, "empty expression");
		return -1;
	}
	if (n_metrics > UINT32_MAX) {
		vgl__expr_fail(&p, 0, "too many metrics");
		return -1;
	}
	vgl__expr_next(&p);
	if (!p.failed && p.tok.kind == T_END) {
		vgl__expr_fail(&p, p.tok.off, "empty expression");
		goto out_free;
	}
	if (!p.failed)
		parse_or(&p, &v);
	/* The type first: "temp AND x" is a metric alone, not a stray 'AND'. */
	if (!p.failed)
		need_bool(&p, &v);
	if (!p.failed && p.tok.kind != T_END)
		vgl__expr_fail(&p, p.tok.off, "unexpected '%.*s' after the end of the condition",
		     QL(p.tok.len), text + p.tok.off);
	if (!p.failed && p.max_depth > EXPR_MAX_STACK)
		vgl__expr_fail(&p, 0, "expression too complex (needs more than %d pending values)",
		     EXPR_MAX_STACK);
	if (p.failed)
		goto out_free;

	e = calloc(1, sizeof(*e));
	if (!e) {
		vgl__expr_fail(&p, 0, "out of memory");
		goto out_free;
	}
	e->code = p.code;
	e->n_code = p.n_code;
	e->ext = p.ext;
	e->n_ext = p.n_ext;
	e->labels = p.labels;
	e->n_labels = p.n_labels;
	e->has_cmp = p.has_cmp;
	e->val0 = p.val0;
	e->val1 = p.val1;
	if (collect_reads(e, n_metrics) < 0) {
		vgl_expr_free(e);
		p.failed = 0;
		vgl__expr_fail(&p, 0, "out of memory");
		return -1;
	}
	*out = e;
	return 0;

out_free:
	free(p.code);
	vgl__expr_free_ext(p.ext, p.n_ext, p.labels, p.n_labels);
	return -1;
}

int vgl_expr_parse(const char *text, const struct vgl_conf_metric *metrics,
		   size_t n_metrics, struct vgl_expr **out, struct vgl_expr_error *err)
{
	return vgl_expr_parse_opts(text, metrics, n_metrics, NULL, out, err);
}
