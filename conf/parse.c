/* The back ends' reading API (conf/parse.h) over the loader's own helpers
 * (conf/ld.h), and the load of their top-level keys. */
#include "conf/parse.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf/backend.h"
#include "conf/ld.h"

/* The path of a key under the object (or the object's, when bare). */
static const struct kp *key_kp(const struct vgl_cparse *cp, const char *key, struct kp *buf)
{
	if (!key || cp->bare)
		return cp->kp;
	*buf = (struct kp){ cp->kp, key, -1, 0 };
	return buf;
}

static size_t pos(const struct vgl_cparse *cp, int tok)
{
	return vgl__tok_pos(cp->d, tok >= 0 ? tok : cp->obj >= 0 ? cp->obj : 0);
}

void vgl_cp_error(struct vgl_cparse *cp, int tok, const char *key, const char *fmt, ...)
{
	char msg[1024];
	struct kp b;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	vgl__errk(cp->l, cp->d, pos(cp, tok), key_kp(cp, key, &b), "%s", msg);
}

void vgl_cp_oom(struct vgl_cparse *cp)
{
	vgl__oom(cp->l);
}

void vgl_cp_warn_once(struct vgl_cparse *cp, const char *fmt, ...)
{
	/* Every doc is the loader's own (l->docs): marking it is safe. */
	struct vgl__doc *d = (struct vgl__doc *)cp->d;
	char body[1024], *msg;
	va_list ap;

	if (d->warned_inline)
		return;
	d->warned_inline = 1;
	va_start(ap, fmt);
	vsnprintf(body, sizeof(body), fmt, ap);
	va_end(ap);
	if (asprintf(&msg, "%s: %s", d->path, body) < 0) {
		vgl__oom(cp->l);
		return;
	}
	vgl__add_warning(cp->l, msg);
}

char *vgl_cp_path(const struct vgl_cparse *cp, const char *rel)
{
	char *dir = vgl__dir_of(cp->d->path), *p;

	if (!dir)
		return NULL;
	p = vgl__join_path(dir, rel);
	free(dir);
	return p;
}

char *vgl_cp_main_path(const struct vgl_cparse *cp, const char *rel)
{
	return vgl__join_path(cp->l->main_dir, rel);
}

unsigned vgl_cp_file_mode(const struct vgl_cparse *cp)
{
	return (unsigned)(cp->d->st.st_mode & 07777);
}

int vgl_cp_str(struct vgl_cparse *cp, int tok, const char *key, char **out)
{
	struct kp b;

	return vgl__get_str(cp->l, cp->d, tok, key_kp(cp, key, &b), out);
}

int vgl_cp_int(struct vgl_cparse *cp, int tok, const char *key, long lo, long hi, long *out)
{
	struct kp b;

	return vgl__get_int(cp->l, cp->d, tok, key_kp(cp, key, &b), lo, hi, out);
}

int vgl_cp_num(struct vgl_cparse *cp, int tok, const char *key, double lo, double hi,
	       double *out)
{
	const struct vgl__doc *d = cp->d;
	const char *s = d->text + d->tok[tok].start;
	int n = d->tok[tok].end - d->tok[tok].start;
	char buf[64], *end;
	struct kp b;
	double x;

	/* JSON's number grammar is jsmn's business; strtod must take the
	 * whole token, so true, null and hex are refused here */
	if (d->tok[tok].type != VGL_J_PRIMITIVE || n <= 0 || n >= (int)sizeof(buf) ||
	    strchr("tfn", s[0])) {
		vgl__errk(cp->l, d, vgl__tok_pos(d, tok), key_kp(cp, key, &b),
			  "expected a number %g..%g, got %s", lo, hi, vgl__tok_kind(d, tok));
		return -1;
	}
	memcpy(buf, s, (size_t)n);
	buf[n] = 0;
	errno = 0;
	x = strtod(buf, &end);
	if (*end || errno || !isfinite(x) || x < lo || x > hi || strpbrk(buf, "xXpP")) {
		vgl__errk(cp->l, d, vgl__tok_pos(d, tok), key_kp(cp, key, &b),
			  "expected a number %g..%g, got %s", lo, hi, buf);
		return -1;
	}
	*out = x;
	return 0;
}

int vgl_cp_bool(struct vgl_cparse *cp, int tok, const char *key, int *out)
{
	const struct vgl__doc *d = cp->d;
	const char *s = d->text + d->tok[tok].start;
	int n = d->tok[tok].end - d->tok[tok].start;
	struct kp b;

	if (d->tok[tok].type == VGL_J_PRIMITIVE && n == 4 && memcmp(s, "true", 4) == 0) {
		*out = 1;
		return 0;
	}
	if (d->tok[tok].type == VGL_J_PRIMITIVE && n == 5 && memcmp(s, "false", 5) == 0) {
		*out = 0;
		return 0;
	}
	vgl__errk(cp->l, d, vgl__tok_pos(d, tok), key_kp(cp, key, &b),
		  "expected true or false, got %s", vgl__tok_kind(d, tok));
	return -1;
}

int vgl_cp_object(struct vgl_cparse *cp, int tok, const char *key)
{
	struct kp b;

	return vgl__want_type(cp->l, cp->d, tok, key_kp(cp, key, &b), VGL_J_OBJECT, "an object");
}

int vgl_cp_array(struct vgl_cparse *cp, int tok, const char *key, const char *what)
{
	struct kp b;

	return vgl__want_type(cp->l, cp->d, tok, key_kp(cp, key, &b), VGL_J_ARRAY,
			      what ? what : "an array");
}



int vgl_cp_len(const struct vgl_cparse *cp, int tok)
{
	return cp->d->tok[tok].size;
}

int vgl_cp_first(const struct vgl_cparse *cp, int tok)
{
	(void)cp;
	return tok + 1;
}

int vgl_cp_next(const struct vgl_cparse *cp, int tok)
{
	return cp->d->tok[tok].next;
}

void vgl_cp_free_enums(struct vgl_conf_enum *e, size_t n)
{
	for (size_t i = 0; e && i < n; i++)
		free(e[i].label);
	free(e);
}

int vgl_cp_enum(struct vgl_cparse *cp, int obj, const char *key, struct vgl_conf_enum **out,
		size_t *n_out)
{
	struct ld *l = cp->l;
	const struct vgl__doc *d = cp->d;
	struct kp b;
	const struct kp *kp = key_kp(cp, key, &b);
	struct vgl_conf_enum *e;
	size_t n = 0;
	int k = obj + 1, bad = 0;

	if (vgl__want_type(l, d, obj, kp, VGL_J_OBJECT, "an object") != 0)
		return -1;
	if (d->tok[obj].size == 0) {
		vgl__errk(l, d, vgl__tok_pos(d, obj), kp, "must name at least one state");
		return -1;
	}
	if (!(e = calloc((size_t)d->tok[obj].size, sizeof(*e)))) {
		vgl__oom(l);
		return -1;
	}
	for (int i = 0; i < d->tok[obj].size; i++) {
		int v = k + 1;
		struct kp ck = { kp, d->text + d->tok[k].start, d->tok[k].end - d->tok[k].start, 0 };
		char *label = vgl__tok_str(d, k);
		long x;

		if (!label) {
			vgl_cp_free_enums(e, n);
			vgl__oom(l);
			return -1;
		}
		if (!vgl__is_ident(label)) {
			vgl__errk(l, d, vgl__tok_pos(d, k), &ck, "state label must match "
				  "[A-Za-z_][A-Za-z0-9_.-]* and not be and/or/not");
			bad = 1;
			free(label);
		} else if (vgl__earlier_key(d, obj, k) >= 0) {
			vgl__errk(l, d, vgl__tok_pos(d, k), &ck, "duplicate key");
			bad = 1;
			free(label);
		} else if (vgl__get_int(l, d, v, &ck, LONG_MIN / 2, LONG_MAX / 2, &x) != 0) {
			bad = 1;
			free(label);
		} else {
			e[n].label = label;
			e[n++].value = x;
		}
		k = d->tok[v].next;
	}
	if (bad) {
		vgl_cp_free_enums(e, n);
		return -1;
	}
	vgl_cp_free_enums(*out, *n_out);
	*out = e;
	*n_out = n;
	return 0;
}

/* ---- secret files -------------------------------------------------------- */

/* A secret file must be a regular file that only its owner can read, and
 * its owner someone who may hold vigil's secrets: root, the user reading it
 * (vigild's), or the owner of the main configuration (who deploys it; the
 * CLI run by root reads a file owned by the vigil user). Anyone else could
 * swap in credentials of their own. 1 (error reported) or 0. */
int vgl__secret_file_bad(struct ld *l, const struct vgl__doc *d, int v, const struct kp *kp,
			 const char *path, const struct stat *st)
{
	uid_t me = geteuid(), deployer = l->n_docs ? l->docs[0]->st.st_uid : me;

	if (!S_ISREG(st->st_mode)) {
		vgl__errk(l, d, vgl__tok_pos(d, v), kp, "secret file '%s' %s", path,
			  S_ISFIFO(st->st_mode) ? "is a FIFO, not a regular file"
			  : S_ISDIR(st->st_mode) ? "is a directory, not a file"
						 : "is not a regular file");
		return 1;
	}
	if (st->st_mode & 077) {
		vgl__errk(l, d, vgl__tok_pos(d, v), kp,
			  "secret file '%s' is accessible by group or others (mode %04o): chmod 600 "
			  "it", path, (unsigned)(st->st_mode & 07777));
		return 1;
	}
	if (st->st_uid != 0 && st->st_uid != me && st->st_uid != deployer) {
		vgl__errk(l, d, vgl__tok_pos(d, v), kp,
			  "secret file '%s' is owned by uid %u: only root, uid %u (this process) or "
			  "uid %u (the main configuration's owner) may own it", path,
			  (unsigned)st->st_uid, (unsigned)me, (unsigned)deployer);
		return 1;
	}
	return 0;
}

int vgl_cp_secrets(struct vgl_cparse *cp, int v, const char *key, const char *const *keys,
		   const int *inline_vals, int (*check)(const char *key, const char *value,
							char *msg, size_t msglen),
		   char **out)
{
	struct ld *l = cp->l;
	const struct vgl__doc *d = cp->d;
	struct kp b;
	const struct kp *kp = key_kp(cp, key, &b);
	char *rel, *path = NULL;
	struct vgl__doc *sd;
	struct stat st;
	size_t nk = 0, before = l->n_errs;
	int sv[16];

	while (keys[nk] && nk < 15)
		out[nk++] = NULL;
	if (vgl__get_str(l, d, v, kp, &rel) != 0)
		return -1;
	if (!(path = vgl_cp_path(cp, rel))) {
		vgl__oom(l);
		goto free_strs;
	}
	/* stat, not open: a FIFO is named here instead of waited on. The
	 * checks are made again on what was actually read (sd->st). */
	if (stat(path, &st) != 0) {
		vgl__errk(l, d, vgl__tok_pos(d, v), kp, "secret file '%s': %s", path,
			  strerror(errno));
		goto free_strs;
	}
	if (vgl__secret_file_bad(l, d, v, kp, path, &st))
		goto free_strs;
	if (vgl__doc_load_secret(path, &l->e, &sd) != 0) {
		l->n_errs++;
		goto free_strs;
	}
	if (vgl__add_doc(l, sd) != 0)
		goto free_strs;
	if (vgl__secret_file_bad(l, d, v, kp, path, &sd->st))
		goto free_strs;
	vgl__obj_fields(l, sd, 0, NULL, keys, sv);
	for (size_t i = 0; i < nk; i++) {
		struct kp ck = { NULL, keys[i], -1, 0 };
		char *str, msg[256];

		if (sv[i] < 0)
			continue;
		if (inline_vals[i] >= 0) {
			struct kp ik = { cp->kp, keys[i], -1, 0 };
			vgl__errk(l, d, vgl__tok_pos(d, inline_vals[i] - 1), &ik,
				  "given both here and in secret file '%s'", path);
			continue;
		}
		if (vgl__get_str(l, sd, sv[i], &ck, &str) != 0)
			continue;
		if (check && check(keys[i], str, msg, sizeof(msg)) != 0) {
			vgl__errk(l, sd, vgl__tok_pos(sd, sv[i]), &ck, "%s", msg);
			free(str);
			continue;
		}
		out[i] = str;
	}
free_strs:
	free(path);
	free(rel);
	if (l->n_errs != before) {
		for (size_t i = 0; i < nk; i++) {
			free(out[i]);
			out[i] = NULL;
		}
		return -1;
	}
	return 0;
}

/* ---- the back ends' top-level keys -------------------------------------- */

int vgl__backend_owns_key(const struct vgl__doc *d, int k)
{
	for (size_t i = 0; i < vgl_conf_backend_count(); i++)
		for (const char *const *g = vgl_conf_backend_at(i)->global_keys; g && *g; g++)
			if (vgl__tok_is(d, k, *g))
				return 1;
	return 0;
}

void vgl__load_backend_globals(struct ld *l, const struct vgl__doc *md, int main_obj)
{
	size_t n = vgl_conf_backend_count();
	struct vgl_conf *c = l->c;

	if (!(c->be_globals = calloc(n ? n : 1, sizeof(*c->be_globals)))) {
		vgl__oom(l);
		return;
	}
	c->n_be_globals = n;
	for (size_t i = 0; i < n; i++) {
		const struct vgl_conf_backend *be = vgl_conf_backend_at(i);
		struct vgl_cparse cp = { l, md, NULL, main_obj, 0 };
		int vals[16];
		size_t nk = 0;

		if (!be->global_parse)
			continue;
		for (const char *const *g = be->global_keys; g && *g && nk < 16; g++)
			vals[nk++] = -1;
		/* The main object's keys were checked already; pick ours. */
		for (int m = 0, k = main_obj + 1; m < md->tok[main_obj].size;
		     m++, k = md->tok[k + 1].next)
			for (size_t j = 0; j < nk; j++)
				if (vgl__tok_is(md, k, be->global_keys[j]))
					vals[j] = k + 1;
		c->be_globals[i] = be->global_parse(&cp, vals);
	}
}

const void *vgl_conf_backend_global(const struct vgl_conf *c, const struct vgl_conf_backend *be)
{
	for (size_t i = 0; c && i < c->n_be_globals; i++)
		if (vgl_conf_backend_at(i) == be)
			return c->be_globals[i];
	return NULL;
}

void vgl_cp_fields(struct vgl_cparse *cp, int obj, const char *key, const char *const *keys,
		   int *vals)
{
	struct kp b;

	vgl__obj_fields(cp->l, cp->d, obj, key_kp(cp, key, &b), keys, vals);
}
