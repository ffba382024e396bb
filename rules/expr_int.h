/* Internals shared by the parser (rules/expr_parse.c) and the evaluator
 * (rules/expr_eval.c) of rules/expr.h: the compiled form. Nothing else
 * includes this.
 *
 * An expression compiles to a flat reverse-Polish array of instructions.
 * Every instruction pushes, pops or replaces cells of one stack; a cell is
 * a number or a three-valued boolean, each of which may be UNKNOWN. The
 * parser knows each instruction's stack effect, so the deepest the stack
 * can get is known at parse time and refused above EXPR_MAX_STACK: the
 * evaluator is a plain array and never checks, allocates or looks at a
 * string. State labels are resolved to numbers at parse time, except those
 * compared with another device's metric, whose profile is only known per
 * host: those are resolved by vgl_expr_bind_ext into a slot the code reads.
 */
#ifndef VGL_RULES_EXPR_INT_H
#define VGL_RULES_EXPR_INT_H

#include <stddef.h>
#include <stdint.h>

#include "rules/expr.h"

/* Deep enough for any hand-written condition; bounds the C stack the parser
 * uses and the evaluation stack, which is a plain array. */
#define EXPR_MAX_NEST 64
#define EXPR_MAX_STACK 64

/* A window function's span: below a second there is rarely more than one
 * sample; above a day the window would need more memory than it is worth. */
#define SPAN_MIN_MS 1000.0
#define SPAN_MAX_MS 86400000.0

enum insn_kind {
	/* push one cell */
	I_CONST,        /* c */
	I_METRIC,       /* values[a] */
	I_EXT,          /* ext[a] */
	I_EXTLBL,       /* labels[a].value once bound */
	I_WIN,          /* window function sub of metric a over span_ms */
	I_NODATA,       /* the host has had no good poll for span_ms */
	I_NODATA_M,     /* metric a has no good sample within span_ms */
	I_SLA,          /* SLA figure sub */
	/* replace the top */
	I_NEG, I_NOT,
	/* pop two, push one */
	I_ADD, I_SUB, I_MUL, I_DIV, I_CMP, I_AND, I_OR,
};
enum cmp_op { C_EQ, C_NE, C_LT, C_LE, C_GT, C_GE };
enum sla_fn { S_ALLOWANCE, S_LEFT, S_DOWNTIME, S_NEXT_BAND, S_UNAVAILABLE };

struct insn {
	uint8_t kind;           /* enum insn_kind */
	uint8_t sub;            /* enum cmp_op, enum vgl_window_fn, enum sla_fn */
	uint32_t a;             /* metric, ext or label index */
	uint32_t span_ms;
	double c;
};

/* A label compared with an external reference, waiting for its device. */
struct ext_label {
	uint32_t ext;
	size_t off;
	char *text;
	long value;
	int bound;
};

struct vgl_expr {
	struct insn *code;
	size_t n_code;
	size_t *reads;          /* metric indexes read, ascending, unique */
	size_t n_reads;
	struct vgl_expr_window *wins;
	size_t n_wins;
	struct vgl_expr_ext *ext;
	size_t n_ext;
	struct ext_label *labels;
	size_t n_labels;
	/* code[val0, val1) computes the left operand of the first comparison:
	 * comparisons never contain comparisons, so it stands alone. */
	int has_cmp;
	size_t val0, val1;
};

/* Token texts are quoted in messages at most this long, so a message always
 * fits its 160 bytes with its fixed words intact. */
#define QLEN 48
#define QL(n) ((int)((n) > QLEN ? QLEN : (n)))

/* The value of m's state label text[0, len): 1 and *value, or 0. */
int vgl__expr_find_label(const struct vgl_conf_metric *m, const char *text, size_t len,
			 long *value);
/* Frees what the external references and their labels own, and the arrays. */
void vgl__expr_free_ext(struct vgl_expr_ext *ext, size_t n, struct ext_label *labels, size_t nl);

#endif
