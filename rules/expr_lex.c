/* The condition language's lexer (rules/expr.h): numbers, durations
 * (digits and a unit), names, operators; the lookahead token of the
 * parser (rules/expr_parse.c). */
#include "rules/expr_parse_int.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void vgl__expr_fail(struct parser *p, size_t off, const char *fmt, ...)
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

static int is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

int vgl__expr_word_is(const struct parser *p, const struct tok *t, const char *w)
{
	return t->len == strlen(w) && memcmp(p->text + t->off, w, t->len) == 0;
}

/* A number, or a duration: digits directly followed by a unit. */
static void lex_number(struct parser *p, size_t i)
{
	const char *s = p->text;
	struct tok *t = &p->tok;
	size_t j = i + 1, end;
	int whole = 1;
	char buf[64];
	char *stop;
	double mult = 0;

	while (is_digit(s[j]))
		j++;
	if (s[j] == '.') {
		if (!is_digit(s[j + 1])) {
			vgl__expr_fail(p, i, "malformed number '%.*s'", QL(j + 1 - i), s + i);
			return;
		}
		j++;
		while (is_digit(s[j]))
			j++;
		whole = 0;
	}
	if (s[j] == 'e' || s[j] == 'E') {
		size_t k = j + 1;

		if (s[k] == '+' || s[k] == '-')
			k++;
		if (!is_digit(s[k])) {
			vgl__expr_fail(p, i, "malformed number '%.*s'", QL(k - i), s + i);
			return;
		}
		j = k;
		while (is_digit(s[j]))
			j++;
		whole = 0;
	}
	end = j;
	if (is_ident_start(s[j]) || s[j] == '.') {
		size_t k = j;

		while (is_ident_char(s[k]))
			k++;
		if (k - j == 2 && s[j] == 'm' && s[j + 1] == 's')
			mult = 1;
		else if (k - j == 1 && s[j] == 's')
			mult = 1000;
		else if (k - j == 1 && s[j] == 'm')
			mult = 60000;
		else if (k - j == 1 && s[j] == 'h')
			mult = 3600000;
		if (!whole || mult == 0) {
			vgl__expr_fail(p, i, "bad duration '%.*s': a whole number followed by ms, s, m or h "
				   "(500ms, 30s, 5m, 1h)", QL(k - i), s + i);
			return;
		}
		j = k;
	}
	if (end - i >= sizeof(buf)) {
		vgl__expr_fail(p, i, "number too long");
		return;
	}
	memcpy(buf, s + i, end - i);
	buf[end - i] = '\0';
	errno = 0;
	t->num = strtod(buf, &stop);
	if (errno == ERANGE || *stop != '\0' || !isfinite(t->num)) {
		vgl__expr_fail(p, i, "number '%s' is out of range", buf);
		return;
	}
	t->kind = T_NUM;
	if (mult != 0) {
		t->kind = T_DUR;
		t->num *= mult;
	}
	t->len = j - i;
}

void vgl__expr_next(struct parser *p)
{
	const char *s = p->text;
	size_t i = p->tok.off + p->tok.len;
	struct tok *t = &p->tok;

	while (is_blank(s[i]))
		i++;
	t->off = i;
	t->len = 0;
	t->kind = T_END;
	if (s[i] == '\0')
		return;
	if (is_digit(s[i])) {
		lex_number(p, i);
		return;
	}
	if (is_ident_start(s[i])) {
		size_t j = i + 1;

		while (is_ident_char(s[j]))
			j++;
		t->len = j - i;
		t->kind = T_IDENT;
		if (vgl__expr_word_is(p, t, "and"))
			t->kind = T_AND;
		else if (vgl__expr_word_is(p, t, "or"))
			t->kind = T_OR;
		else if (vgl__expr_word_is(p, t, "not"))
			t->kind = T_NOT;
		return;
	}
	t->len = 1;
	switch (s[i]) {
	case '(': t->kind = T_LPAREN; return;
	case ')': t->kind = T_RPAREN; return;
	case ',': t->kind = T_COMMA; return;
	case '+': t->kind = T_PLUS; return;
	case '-': t->kind = T_MINUS; return;
	case '*': t->kind = T_STAR; return;
	case '/': t->kind = T_SLASH; return;
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
		t->len = 0;
		vgl__expr_fail(p, i, s[i] == '=' ? "'=' is not an operator: use '=='"
				       : "'!' is not an operator: use 'not' or '!='");
		return;
	default:
		t->len = 0;
		if ((unsigned char)s[i] >= 0x20 && (unsigned char)s[i] < 0x7f)
			vgl__expr_fail(p, i, "unexpected character '%c'", s[i]);
		else
			vgl__expr_fail(p, i, "unexpected byte 0x%02x", (unsigned char)s[i]);
		return;
	}
}

/* Whether the current token is directly followed by '(' : a call. */
int vgl__expr_followed_by_paren(const struct parser *p)
{
	size_t i = p->tok.off + p->tok.len;

	while (is_blank(p->text[i]))
		i++;
	return p->text[i] == '(';
}
