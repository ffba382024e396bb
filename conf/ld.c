/* Key paths, errors and typed values: what every part of the loader uses
 * to read a token and to say, with FILE:LINE:COL and the key path, what is
 * wrong with it (conf/ld.h). */
#include "conf/ld.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void vgl__kp_fmt(const struct kp *k, char *buf, size_t n)
{
	const struct kp *chain[32];
	int depth = 0;
	size_t len = 0;

	for (; k && depth < 32; k = k->up)
		chain[depth++] = k;
	buf[0] = '\0';
	for (int i = depth - 1; i >= 0 && len < n; i--) {
		const struct kp *c = chain[i];
		int w;
		if (c->key)
			w = snprintf(buf + len, n - len, "%s%.*s", len ? "." : "",
				     c->keylen < 0 ? (int)strlen(c->key) : c->keylen, c->key);
		else
			w = snprintf(buf + len, n - len, "[%ld]", c->idx);
		if (w < 0)
			break;
		len += (size_t)w;
	}
}

void vgl__errk(struct ld *l, const struct vgl__doc *d, size_t off, const struct kp *kp,
		 const char *fmt, ...)
{
	char path[512];
	va_list ap;

	vgl__kp_fmt(kp, path, sizeof(path));
	va_start(ap, fmt);
	vgl__err_vat(&l->e, d, off, path, fmt, ap);
	va_end(ap);
	l->n_errs++;
}

void vgl__oom(struct ld *l)
{
	l->e.oom = 1;
	l->n_errs++;
}

/* "dir/rel", or rel itself when absolute or dir is "." */
char *vgl__join_path(const char *dir, const char *rel)
{
	char *out;

	if (rel[0] == '/' || strcmp(dir, ".") == 0)
		return strdup(rel);
	if (asprintf(&out, "%s/%s", dir, rel) < 0)
		return NULL;
	return out;
}

char *vgl__dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		return strdup(".");
	if (slash == path)
		return strdup("/");
	return strndup(path, (size_t)(slash - path));
}

int vgl__add_doc(struct ld *l, struct vgl__doc *d)
{
	struct vgl__doc **n = realloc(l->docs, (l->n_docs + 1) * sizeof(*n));

	if (!n) {
		vgl__doc_free(d);
		vgl__oom(l);
		return -1;
	}
	l->docs = n;
	l->docs[l->n_docs++] = d;
	return 0;
}

/* ---- typed values ---------------------------------------------------------- */

static const char *const *find_key(const char *const *keys, const struct vgl__doc *d, int k)
{
	for (; *keys; keys++)
		if (vgl__tok_is(d, k, *keys))
			return keys;
	return NULL;
}

/* Checks obj's keys against keys (NULL-terminated) and sets vals[i] to the
 * value token of keys[i] or -1. Unknown and repeated keys are errors. */
void vgl__obj_fields(struct ld *l, const struct vgl__doc *d, int obj, const struct kp *kp,
		       const char *const *keys, int *vals)
{
	size_t nk = 0;
	int k = obj + 1;

	while (keys[nk])
		vals[nk++] = -1;
	for (int m = 0; m < d->tok[obj].size; m++) {
		int v = k + 1;
		const char *const *hit = find_key(keys, d, k);
		struct kp ck = { kp, d->text + d->tok[k].start, d->tok[k].end - d->tok[k].start, 0 };

		if (!hit) {
			char known[256];
			size_t len = 0;
			known[0] = '\0';
			for (size_t i = 0; i < nk && len < sizeof(known); i++) {
				int w = snprintf(known + len, sizeof(known) - len, "%s%s",
						 i ? ", " : "", keys[i]);
				if (w < 0)
					break;
				len += (size_t)w;
			}
			vgl__errk(l, d, vgl__tok_pos(d, k), &ck, "unknown key (expected one of: %s)", known);
		} else if (vals[hit - keys] >= 0) {
			int line, col;
			vgl__doc_linecol(d, vgl__tok_pos(d, vals[hit - keys] - 1), &line, &col);
			vgl__errk(l, d, vgl__tok_pos(d, k), &ck,
			     "duplicate key (first given at line %d:%d)", line, col);
		} else {
			vals[hit - keys] = v;
		}
		k = d->tok[v].next;
	}
}

/* The first earlier key of obj equal to key token k, or -1. For objects
 * whose keys are names (metrics, enum, templates). */
int vgl__earlier_key(const struct vgl__doc *d, int obj, int k)
{
	int len = d->tok[k].end - d->tok[k].start;

	for (int j = obj + 1; j < k; j = d->tok[j + 1].next)
		if (d->tok[j].end - d->tok[j].start == len &&
		    memcmp(d->text + d->tok[j].start, d->text + d->tok[k].start, (size_t)len) == 0)
			return j;
	return -1;
}

int vgl__want_type(struct ld *l, const struct vgl__doc *d, int v, const struct kp *kp,
		     int type, const char *what)
{
	if (d->tok[v].type == type)
		return 0;
	vgl__errk(l, d, vgl__tok_pos(d, v), kp, "expected %s, got %s", what, vgl__tok_kind(d, v));
	return -1;
}

/* A string value, malloc'd into *out (NULL when it failed). */
int vgl__get_str(struct ld *l, const struct vgl__doc *d, int v, const struct kp *kp, char **out)
{
	*out = NULL;
	if (vgl__want_type(l, d, v, kp, VGL_J_STRING, "a string") != 0)
		return -1;
	if (!(*out = vgl__tok_str(d, v))) {
		vgl__oom(l);
		return -1;
	}
	return 0;
}

int vgl__is_integer_tok(const struct vgl__doc *d, int v)
{
	const char *s = d->text + d->tok[v].start;
	int n = d->tok[v].end - d->tok[v].start;

	if (d->tok[v].type != VGL_J_PRIMITIVE)
		return 0;
	for (int i = 0; i < n; i++)
		if (!(isdigit((unsigned char)s[i]) || (i == 0 && s[i] == '-')))
			return 0;
	return n > 0 && isdigit((unsigned char)s[n - 1]);
}

int vgl__get_int(struct ld *l, const struct vgl__doc *d, int v, const struct kp *kp,
		   long lo, long hi, long *out)
{
	const char *s = d->text + d->tok[v].start;
	int n = d->tok[v].end - d->tok[v].start;
	long long x;

	if (!vgl__is_integer_tok(d, v)) {
		if (d->tok[v].type == VGL_J_PRIMITIVE && !strchr("tfn", s[0]))
			vgl__errk(l, d, vgl__tok_pos(d, v), kp, "expected an integer %ld-%ld, got %.*s",
			     lo, hi, n > 24 ? 24 : n, s);
		else
			vgl__errk(l, d, vgl__tok_pos(d, v), kp, "expected an integer %ld-%ld, got %s",
			     lo, hi, vgl__tok_kind(d, v));
		return -1;
	}
	errno = 0;
	x = strtoll(s, NULL, 10);
	if (errno || x < lo || x > hi) {
		vgl__errk(l, d, vgl__tok_pos(d, v), kp, "expected an integer %ld-%ld, got %.*s",
		     lo, hi, n > 24 ? 24 : n, s);
		return -1;
	}
	*out = (long)x;
	return 0;
}

int vgl__is_null(const struct vgl__doc *d, int v)
{
	return d->tok[v].type == VGL_J_PRIMITIVE && d->text[d->tok[v].start] == 'n';
}

/* Names the expression language can refer to: [A-Za-z_][A-Za-z0-9_.-]*,
 * not a keyword. */
int vgl__is_ident(const char *s)
{
	if (!(isalpha((unsigned char)s[0]) || s[0] == '_'))
		return 0;
	for (const char *p = s + 1; *p; p++)
		if (!(isalnum((unsigned char)*p) || *p == '_' || *p == '.' || *p == '-'))
			return 0;
	return strcmp(s, "and") && strcmp(s, "or") && strcmp(s, "not");
}

void vgl__set_str(char **dst, char *v)
{
	free(*dst);
	*dst = v;
}

int vgl__dup_opt(char **dst, const char *src)
{
	*dst = NULL;
	return src && !(*dst = strdup(src)) ? -1 : 0;
}

void vgl__add_warning(struct ld *l, char *msg)
{
	char **nw = realloc(l->c->warnings, (l->c->n_warnings + 1) * sizeof(*nw));

	if (!nw) {
		free(msg);
		vgl__oom(l);
		return;
	}
	l->c->warnings = nw;
	l->c->warnings[l->c->n_warnings++] = msg;
}
