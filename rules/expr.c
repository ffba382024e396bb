/* The condition language: a recursive-descent parser that type-checks as it
 * goes and emits reverse Polish code, and an evaluator that runs that code
 * over a fixed-size stack of three-valued booleans.
 *
 * Only comparisons produce values on the evaluation stack, so the compiled
 * form is a flat array of four instruction kinds (CMP, AND, OR, NOT). A CMP
 * carries both operands inline: a metric index or a constant (a number, or
 * an enum label already resolved to its value at parse time). Evaluation
 * therefore never allocates and never looks at a string.
 */
#include "rules/expr.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Deep enough for any hand-written condition; bounds the C stack the parser
 * uses and the evaluation stack, which is a plain array. */
#define EXPR_MAX_NEST 64
#define EXPR_MAX_STACK 64

enum insn_kind { I_CMP, I_AND, I_OR, I_NOT };
enum cmp_op { C_EQ, C_NE, C_LT, C_LE, C_GT, C_GE };
enum opnd_kind { O_METRIC, O_CONST };

struct opnd {
	uint8_t kind;           /* enum opnd_kind */
	uint32_t idx;           /* O_METRIC */
	double c;               /* O_CONST */
};

struct insn {
	uint8_t kind;           /* enum insn_kind */
	uint8_t op;             /* enum cmp_op, for I_CMP */
	struct opnd l, r;
};

struct vgl_expr {
	struct insn *code;
	size_t n_code;
	size_t *reads;          /* metric indexes read, ascending, unique */
	size_t n_reads;
};

/* ---- tokens ---------------------------------------------------------- */

enum tok_kind {
	T_END, T_NUM, T_IDENT, T_AND, T_OR, T_NOT, T_LPAREN, T_RPAREN, T_CMP,
};

struct tok {
	enum tok_kind kind;
	size_t off;             /* byte offset of the first character */
	size_t len;
	double num;             /* T_NUM */
	enum cmp_op op;         /* T_CMP */
};

/* What an operand turned out to be before it meets its comparison. */
enum val_kind { V_METRIC, V_NUM, V_LABEL, V_BOOL };

struct val {
	enum val_kind kind;
	size_t off, len;        /* source text, for messages and label lookup */
	uint32_t metric;        /* V_METRIC */
	double num;             /* V_NUM */
};

struct parser {
	const char *text;
	const struct vgl_conf_metric *metrics;
	size_t n_metrics;
	struct tok tok;         /* current lookahead */
	struct insn *code;
	size_t n_code, cap_code;
	size_t depth, max_depth; /* evaluation stack, tracked while emitting */
	unsigned nest;
	struct vgl_expr_error *err;
	int failed;             /* first error wins; later ones are consequences */
};

static void fail(struct parser *p, size_t off, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void fail(struct parser *p, size_t off, const char *fmt, ...)
{
	va_list ap;

	if (p->failed)
		return;
	p->failed = 1;
	if (!p->err)
		return;
	p->err->offset = off;
	va_start(ap, fmt);
	vsnprintf(p->err->msg, sizeof(p->err->msg), fmt, ap);
	va_end(ap);
}

static int is_ident_start(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

static int is_ident_char(char c)
{
	return is_ident_start(c) || (c >= '0' && c <= '9') || c == '.' || c == '-';
}

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Token texts are quoted in messages at most this long, so a message always
 * fits its 160 bytes with its fixed words intact. */
#define QLEN 48

static int word_is(const struct parser *p, const struct tok *t, const char *w)
{
	return t->len == strlen(w) && memcmp(p->text + t->off, w, t->len) == 0;
}

static void next(struct parser *p)
{
	const char *s = p->text;
	size_t i = p->tok.off + p->tok.len;
	struct tok *t = &p->tok;

	while (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')
		i++;
	t->off = i;
	t->len = 0;
	if (s[i] == '\0') {
		t->kind = T_END;
		return;
	}
	if (is_digit(s[i]) || (s[i] == '-' && is_digit(s[i + 1]))) {
		size_t j = i + 1;
		char buf[64];
		char *end;

		while (is_digit(s[j]))
			j++;
		if (s[j] == '.') {
			if (!is_digit(s[j + 1])) {
				t->kind = T_END;
				fail(p, i, "malformed number '%.*s'", (int)(j + 1 - i), s + i);
				return;
			}
			j++;
			while (is_digit(s[j]))
				j++;
		}
		if (j - i >= sizeof(buf)) {
			t->kind = T_END;
			fail(p, i, "number too long");
			return;
		}
		memcpy(buf, s + i, j - i);
		buf[j - i] = '\0';
		errno = 0;
		t->num = strtod(buf, &end);
		if (errno == ERANGE || *end != '\0') {
			t->kind = T_END;
			fail(p, i, "number '%s' is out of range", buf);
			return;
		}
		t->kind = T_NUM;
		t->len = j - i;
		return;
	}
	if (is_ident_start(s[i])) {
		size_t j = i + 1;

		while (is_ident_char(s[j]))
			j++;
		t->len = j - i;
		t->kind = T_IDENT;
		if (word_is(p, t, "and"))
			t->kind = T_AND;
		else if (word_is(p, t, "or"))
			t->kind = T_OR;
		else if (word_is(p, t, "not"))
			t->kind = T_NOT;
		return;
	}
	t->len = 1;
	switch (s[i]) {
	case '(': t->kind = T_LPAREN; return;
	case ')': t->kind = T_RPAREN; return;
	case '<':
	case '>':
		t->kind = T_CMP;
		if (s[i + 1] == '=') {
			t->len = 2;
			t->op = s[i] == '<' ? C_LE : C_GE;
		} else {
			t->op = s[i] == '<' ? C_LT : C_GT;
		}
		return;
	case '=':
	case '!':
		if (s[i + 1] == '=') {
			t->kind = T_CMP;
			t->len = 2;
			t->op = s[i] == '=' ? C_EQ : C_NE;
			return;
		}
		t->kind = T_END;
		fail(p, i, s[i] == '=' ? "'=' is not an operator: use '=='"
				       : "'!' is not an operator: use 'not' or '!='");
		return;
	default:
		t->kind = T_END;
		if ((unsigned char)s[i] >= 0x20 && (unsigned char)s[i] < 0x7f)
			fail(p, i, "unexpected character '%c'", s[i]);
		else
			fail(p, i, "unexpected byte 0x%02x", (unsigned char)s[i]);
		return;
	}
}

/* ---- code emission --------------------------------------------------- */

static void emit(struct parser *p, const struct insn *in)
{
	if (p->failed)
		return;
	if (p->n_code == p->cap_code) {
		size_t cap = p->cap_code ? p->cap_code * 2 : 8;
		struct insn *c = realloc(p->code, cap * sizeof(*c));

		if (!c) {
			fail(p, p->tok.off, "out of memory");
			return;
		}
		p->code = c;
		p->cap_code = cap;
	}
	p->code[p->n_code++] = *in;
	/* CMP pushes one; AND/OR pop two, push one; NOT pops one, pushes one. */
	if (in->kind == I_CMP) {
		if (++p->depth > p->max_depth)
			p->max_depth = p->depth;
	} else if (in->kind != I_NOT) {
		p->depth--;
	}
}

/* ---- parser ---------------------------------------------------------- */

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

static int find_label(const struct vgl_conf_metric *m, const char *text, size_t len, long *value)
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
		if (find_label(&p->metrics[i], p->text + off, len, &v))
			return 1;
	return 0;
}

static void parse_or(struct parser *p);

static void unknown_metric(struct parser *p, const struct val *v)
{
	fail(p, v->off, "unknown metric '%.*s'", (int)(v->len > QLEN ? QLEN : v->len),
	     p->text + v->off);
}

static void parse_operand(struct parser *p, struct val *v)
{
	struct tok t = p->tok;

	v->off = t.off;
	v->len = t.len;
	switch (t.kind) {
	case T_NUM:
		v->kind = V_NUM;
		v->num = t.num;
		next(p);
		return;
	case T_IDENT:
		/* A metric name wins over a label of the same spelling; whether
		 * a non-metric is a valid label depends on the other side, so it
		 * is resolved by the comparison. */
		v->kind = find_metric(p, t.off, t.len, &v->metric) ? V_METRIC : V_LABEL;
		next(p);
		return;
	case T_LPAREN:
		if (++p->nest > EXPR_MAX_NEST) {
			fail(p, t.off, "expression nests deeper than %d levels", EXPR_MAX_NEST);
			return;
		}
		next(p);
		parse_or(p);
		p->nest--;
		if (p->failed)
			return;
		if (p->tok.kind != T_RPAREN) {
			fail(p, p->tok.off, "expected ')'");
			return;
		}
		v->kind = V_BOOL;
		v->len = p->tok.off + 1 - t.off;
		next(p);
		return;
	case T_END:
		fail(p, t.off, "unexpected end of expression");
		return;
	default:
		fail(p, t.off, "expected a metric, a number or '(' before '%.*s'",
		     (int)(t.len > QLEN ? QLEN : t.len), p->text + t.off);
		return;
	}
}

/* Turns one side of a comparison into an instruction operand, given the
 * other side (which a label needs to mean anything). */
static int resolve(struct parser *p, const struct val *v, const struct val *other,
		   const struct tok *op, struct opnd *o)
{
	long lv;

	switch (v->kind) {
	case V_METRIC:
		o->kind = O_METRIC;
		o->idx = v->metric;
		return 0;
	case V_NUM:
		o->kind = O_CONST;
		o->c = v->num;
		return 0;
	case V_BOOL:
		fail(p, op->off, "'%.*s' cannot compare conditions: combine them with and/or/not",
		     (int)op->len, p->text + op->off);
		return -1;
	case V_LABEL:
		break;
	}
	if (other->kind != V_METRIC) {
		unknown_metric(p, v);
		return -1;
	}
	const struct vgl_conf_metric *m = &p->metrics[other->metric];
	if (!find_label(m, p->text + v->off, v->len, &lv)) {
		/* A spelling no metric knows as a state is more likely a mistyped
		 * metric name, unless this metric has states to choose from. */
		if (m->n_enums == 0 && !label_anywhere(p, v->off, v->len))
			unknown_metric(p, v);
		else
			fail(p, v->off, "'%.*s' is not a state of metric '%.*s'",
			     (int)(v->len > QLEN ? QLEN : v->len), p->text + v->off,
			     QLEN, m->name);
		return -1;
	}
	if (op->op != C_EQ && op->op != C_NE) {
		fail(p, op->off, "'%.*s' cannot compare states: use == or !=",
		     (int)op->len, p->text + op->off);
		return -1;
	}
	o->kind = O_CONST;
	o->c = (double)lv;
	return 0;
}

static void parse_cmp(struct parser *p)
{
	struct val l, r;
	struct tok op;
	struct insn in = { .kind = I_CMP };

	parse_operand(p, &l);
	if (p->failed)
		return;
	if (p->tok.kind != T_CMP) {
		switch (l.kind) {
		case V_BOOL:
			return;
		case V_METRIC:
			fail(p, l.off, "a metric alone is not a condition: compare it");
			return;
		case V_NUM:
			fail(p, l.off, "a number alone is not a condition");
			return;
		case V_LABEL:
			unknown_metric(p, &l);
			return;
		}
		return;
	}
	op = p->tok;
	next(p);
	if (p->failed)
		return;
	parse_operand(p, &r);
	if (p->failed)
		return;
	if (resolve(p, &l, &r, &op, &in.l) < 0 || resolve(p, &r, &l, &op, &in.r) < 0)
		return;
	in.op = (uint8_t)op.op;
	emit(p, &in);
	if (p->tok.kind == T_CMP)
		fail(p, p->tok.off, "comparisons do not chain: join them with 'and'");
}

static void parse_unary(struct parser *p)
{
	if (p->tok.kind != T_NOT) {
		parse_cmp(p);
		return;
	}
	if (++p->nest > EXPR_MAX_NEST) {
		fail(p, p->tok.off, "expression nests deeper than %d levels", EXPR_MAX_NEST);
		return;
	}
	next(p);
	parse_unary(p);
	p->nest--;
	emit(p, &(struct insn){ .kind = I_NOT });
}

static void parse_and(struct parser *p)
{
	parse_unary(p);
	while (!p->failed && p->tok.kind == T_AND) {
		next(p);
		parse_unary(p);
		emit(p, &(struct insn){ .kind = I_AND });
	}
}

static void parse_or(struct parser *p)
{
	parse_and(p);
	while (!p->failed && p->tok.kind == T_OR) {
		next(p);
		parse_and(p);
		emit(p, &(struct insn){ .kind = I_OR });
	}
}

static int collect_reads(struct vgl_expr *e, size_t n_metrics)
{
	unsigned char *seen;
	size_t n = 0;

	if (n_metrics == 0)
		return 0;
	seen = calloc(n_metrics, 1);
	if (!seen)
		return -1;
	for (size_t i = 0; i < e->n_code; i++) {
		const struct insn *in = &e->code[i];

		if (in->kind != I_CMP)
			continue;
		if (in->l.kind == O_METRIC && !seen[in->l.idx]++)
			n++;
		if (in->r.kind == O_METRIC && !seen[in->r.idx]++)
			n++;
	}
	if (n) {
		e->reads = malloc(n * sizeof(*e->reads));
		if (!e->reads) {
			free(seen);
			return -1;
		}
		for (size_t i = 0; i < n_metrics; i++)
			if (seen[i])
				e->reads[e->n_reads++] = i;
	}
	free(seen);
	return 0;
}

int vgl_expr_parse(const char *text, const struct vgl_conf_metric *metrics,
		   size_t n_metrics, struct vgl_expr **out, struct vgl_expr_error *err)
{
	struct parser p = { .text = text, .metrics = metrics, .n_metrics = n_metrics, .err = err };
	struct vgl_expr *e;

	*out = NULL;
	if (err) {
		err->offset = 0;
		err->msg[0] = '\0';
	}
	if (!text) {
		fail(&p, 0, "empty expression");
		return -1;
	}
	if (n_metrics > UINT32_MAX) {
		fail(&p, 0, "too many metrics");
		return -1;
	}
	next(&p);
	if (!p.failed && p.tok.kind == T_END) {
		fail(&p, p.tok.off, "empty expression");
		goto out_free_code;
	}
	if (!p.failed)
		parse_or(&p);
	if (!p.failed && p.tok.kind != T_END)
		fail(&p, p.tok.off, "unexpected '%.*s' after the end of the condition",
		     (int)(p.tok.len > QLEN ? QLEN : p.tok.len), text + p.tok.off);
	if (!p.failed && p.max_depth > EXPR_MAX_STACK)
		fail(&p, 0, "expression too complex (needs more than %d pending values)",
		     EXPR_MAX_STACK);
	if (p.failed)
		goto out_free_code;

	e = calloc(1, sizeof(*e));
	if (!e) {
		fail(&p, 0, "out of memory");
		goto out_free_code;
	}
	e->code = p.code;
	e->n_code = p.n_code;
	if (collect_reads(e, n_metrics) < 0) {
		vgl_expr_free(e);
		p.failed = 0;
		fail(&p, 0, "out of memory");
		return -1;
	}
	*out = e;
	return 0;

out_free_code:
	free(p.code);
	return -1;
}

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

static int operand(const struct opnd *o, const struct vgl_value *values, double *v)
{
	if (o->kind == O_CONST) {
		*v = o->c;
		return 1;
	}
	if (values[o->idx].q != VGL_Q_OK)
		return 0;
	*v = values[o->idx].v;
	return 1;
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

enum vgl_tri vgl_expr_eval(const struct vgl_expr *e, const struct vgl_value *values)
{
	signed char st[EXPR_MAX_STACK];
	size_t sp = 0;

	if (!e || e->n_code == 0)
		return VGL_UNKNOWN;
	for (size_t i = 0; i < e->n_code; i++) {
		const struct insn *in = &e->code[i];
		double a, b;

		switch (in->kind) {
		case I_CMP:
			if (operand(&in->l, values, &a) && operand(&in->r, values, &b))
				st[sp++] = (signed char)compare(in->op, a, b);
			else
				st[sp++] = VGL_UNKNOWN;
			break;
		case I_NOT:
			if (st[sp - 1] != VGL_UNKNOWN)
				st[sp - 1] = st[sp - 1] == VGL_TRUE ? VGL_FALSE : VGL_TRUE;
			break;
		case I_AND:
			sp--;
			st[sp - 1] = (signed char)tri_and(st[sp - 1], st[sp]);
			break;
		case I_OR:
			sp--;
			st[sp - 1] = (signed char)tri_or(st[sp - 1], st[sp]);
			break;
		}
	}
	return (enum vgl_tri)st[0];
}

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

void vgl_expr_free(struct vgl_expr *e)
{
	if (!e)
		return;
	free(e->code);
	free(e->reads);
	free(e);
}
