/* What the condition language's lexer (rules/expr_lex.c) and parser
 * (rules/expr_parse.c) share: tokens, the parser's state, the type of a
 * parsed piece. Nothing else includes this. */
#ifndef VGL_RULES_EXPR_PARSE_INT_H
#define VGL_RULES_EXPR_PARSE_INT_H

#include <stddef.h>
#include <stdint.h>

#include "rules/expr_int.h"

enum tok_kind {
	T_END, T_NUM, T_DUR, T_IDENT, T_AND, T_OR, T_NOT, T_LPAREN, T_RPAREN, T_COMMA,
	T_PLUS, T_MINUS, T_STAR, T_SLASH, T_CMP,
};

struct tok {
	enum tok_kind kind;
	size_t off;             /* byte offset of the first character */
	size_t len;
	double num;             /* T_NUM; T_DUR in ms */
	enum cmp_op op;         /* T_CMP */
};

/* What a parsed piece turned out to be, for the type rules. */
enum val_kind {
	V_NUM,                  /* a literal (or its negation) */
	V_NUMX,                 /* any other number: arithmetic, a function */
	V_METRIC,               /* a bare metric of the host */
	V_EXT,                  /* a bare external reference */
	V_LABEL,                /* an identifier that is none of those: maybe a state */
	V_BOOL,
};

/* Where a label opposite this value would be looked up. */
enum lbl_src { L_NONE, L_METRIC, L_EXT };

struct val {
	enum val_kind kind;
	size_t off, len;        /* source text, for messages and label lookup */
	enum lbl_src lsrc;
	uint32_t lidx;          /* metric or ext index */
	size_t code_at;         /* V_LABEL: its placeholder instruction */
};

struct parser {
	const char *text;
	const struct vgl_conf_metric *metrics;
	size_t n_metrics;
	struct vgl_expr_opts opts;
	struct tok tok;         /* current lookahead */
	struct insn *code;
	size_t n_code, cap_code;
	size_t depth, max_depth; /* evaluation stack, tracked while emitting */
	struct vgl_expr_ext *ext;
	size_t n_ext, cap_ext;
	struct ext_label *labels;
	size_t n_labels, cap_labels;
	int has_cmp;
	size_t val0, val1;
	unsigned nest;
	struct vgl_expr_error *err;
	int failed;             /* first error wins; later ones are consequences */
};

/* The first error wins (later ones are consequences): its offset and
 * message into p->err. */
void vgl__expr_fail(struct parser *p, size_t off, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void vgl__expr_next(struct parser *p);
int vgl__expr_word_is(const struct parser *p, const struct tok *t, const char *w);
int vgl__expr_followed_by_paren(const struct parser *p);

#endif
