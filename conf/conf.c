/* The config loader: walks the checked JSON tokens of the main file, its
 * include directory and secret files into a struct vgl_conf, collecting
 * every error with its file:line:col and key path (conf/json.h).
 *
 * Order of work: every file is parsed first (templates and hosts may sit in
 * any file), then MIB search dirs are set, then each template is compiled
 * once into a profile, then the hosts. A host that names a template and
 * overrides nothing points at the template's profile; any override builds
 * a profile of its own from the template's plus the host's keys.
 */
#include "conf/conf.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf/json.h"
#include "conf/mib.h"
#include "core/vtime.h"
#include "rules/expr.h"
#include "sla/sla.h"

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

/* ---- interned strings ------------------------------------------------------ */

struct vgl__strpool {
	char **slots;           /* open addressing; NULL = free */
	size_t cap, n;
};

static uint64_t hash_str(const char *s, size_t n)
{
	uint64_t h = 1469598103934665603ULL;
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
	return h;
}

static int pool_grow(struct vgl__strpool *p)
{
	size_t cap = p->cap ? p->cap * 2 : 64;
	char **slots = calloc(cap, sizeof(*slots));

	if (!slots)
		return -1;
	for (size_t i = 0; i < p->cap; i++) {
		char *s = p->slots[i];
		size_t j;
		if (!s)
			continue;
		j = hash_str(s, strlen(s)) & (cap - 1);
		while (slots[j])
			j = (j + 1) & (cap - 1);
		slots[j] = s;
	}
	free(p->slots);
	p->slots = slots;
	p->cap = cap;
	return 0;
}

/* The pool's copy of s; NULL on out of memory. */
static char *pool_intern(struct vgl__strpool *p, const char *s)
{
	size_t j;

	if ((p->n + 1) * 2 > p->cap && pool_grow(p) != 0)
		return NULL;
	j = hash_str(s, strlen(s)) & (p->cap - 1);
	while (p->slots[j]) {
		if (strcmp(p->slots[j], s) == 0)
			return p->slots[j];
		j = (j + 1) & (p->cap - 1);
	}
	if (!(p->slots[j] = strdup(s)))
		return NULL;
	p->n++;
	return p->slots[j];
}

static void pool_free(struct vgl__strpool *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->cap; i++)
		free(p->slots[i]);
	free(p->slots);
	free(p);
}

/* ---- key paths ------------------------------------------------------------- */

/* One step of a key path, kept on the C stack while the walk is below it
 * and only formatted when an error needs it. */
struct kp {
	const struct kp *up;
	const char *key;        /* NULL: an array index */
	int keylen;             /* -1: key is NUL-terminated */
	long idx;
};

static void kp_fmt(const struct kp *k, char *buf, size_t n)
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

/* ---- the loader ---------------------------------------------------------- */

struct tmpl {
	char *name;
	struct vgl__doc *d;
	int obj, name_tok;
	int snmp, metrics, avail;       /* value tokens, -1 when absent */
	int counters;
	struct vgl_conf_profile *prof;
	int *when_tok;                  /* per condition: its "when" token or -1 */
	int ok;                         /* compiled without errors */
	int checked;                    /* completeness checked for direct use */
	int in_conf;                    /* prof is in conf->profiles */
	size_t seq;                     /* declaration order */
};

struct host_src {
	struct vgl__doc *d;
	int arr;                        /* the "hosts" array token */
};

struct ld {
	struct vgl_conf *c;
	struct vgl__errs e;
	size_t n_errs;                  /* every error reported, repeats included */
	struct vgl__doc **docs;
	size_t n_docs;
	struct tmpl *tmpls;
	size_t n_tmpls, cap_tmpls;
	struct host_src *hsrc;
	size_t n_hsrc;
	uint32_t *hidx;                 /* host name hash: index + 1, 0 = free */
	size_t hcap;
	size_t cap_hosts, cap_profiles;
	char *main_dir;
};

static void errk(struct ld *l, const struct vgl__doc *d, size_t off, const struct kp *kp,
		 const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static void errk(struct ld *l, const struct vgl__doc *d, size_t off, const struct kp *kp,
		 const char *fmt, ...)
{
	char path[512];
	va_list ap;

	kp_fmt(kp, path, sizeof(path));
	va_start(ap, fmt);
	vgl__err_vat(&l->e, d, off, path, fmt, ap);
	va_end(ap);
	l->n_errs++;
}

static void oom(struct ld *l)
{
	l->e.oom = 1;
	l->n_errs++;
}

/* "dir/rel", or rel itself when absolute or dir is "." */
static char *join_path(const char *dir, const char *rel)
{
	char *out;

	if (rel[0] == '/' || strcmp(dir, ".") == 0)
		return strdup(rel);
	if (asprintf(&out, "%s/%s", dir, rel) < 0)
		return NULL;
	return out;
}

static char *dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		return strdup(".");
	if (slash == path)
		return strdup("/");
	return strndup(path, (size_t)(slash - path));
}

static int add_doc(struct ld *l, struct vgl__doc *d)
{
	struct vgl__doc **n = realloc(l->docs, (l->n_docs + 1) * sizeof(*n));

	if (!n) {
		vgl__doc_free(d);
		oom(l);
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
static void obj_fields(struct ld *l, const struct vgl__doc *d, int obj, const struct kp *kp,
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
			errk(l, d, vgl__tok_pos(d, k), &ck, "unknown key (expected one of: %s)", known);
		} else if (vals[hit - keys] >= 0) {
			int line, col;
			vgl__doc_linecol(d, vgl__tok_pos(d, vals[hit - keys] - 1), &line, &col);
			errk(l, d, vgl__tok_pos(d, k), &ck,
			     "duplicate key (first given at line %d:%d)", line, col);
		} else {
			vals[hit - keys] = v;
		}
		k = d->tok[v].next;
	}
}

/* The first earlier key of obj equal to key token k, or -1. For objects
 * whose keys are names (metrics, enum, templates). */
static int earlier_key(const struct vgl__doc *d, int obj, int k)
{
	int len = d->tok[k].end - d->tok[k].start;

	for (int j = obj + 1; j < k; j = d->tok[j + 1].next)
		if (d->tok[j].end - d->tok[j].start == len &&
		    memcmp(d->text + d->tok[j].start, d->text + d->tok[k].start, (size_t)len) == 0)
			return j;
	return -1;
}

static int want_type(struct ld *l, const struct vgl__doc *d, int v, const struct kp *kp,
		     int type, const char *what)
{
	if (d->tok[v].type == type)
		return 0;
	errk(l, d, vgl__tok_pos(d, v), kp, "expected %s, got %s", what, vgl__tok_kind(d, v));
	return -1;
}

/* A string value, malloc'd into *out (NULL when it failed). */
static int get_str(struct ld *l, const struct vgl__doc *d, int v, const struct kp *kp, char **out)
{
	*out = NULL;
	if (want_type(l, d, v, kp, VGL_J_STRING, "a string") != 0)
		return -1;
	if (!(*out = vgl__tok_str(d, v))) {
		oom(l);
		return -1;
	}
	return 0;
}

static int is_integer_tok(const struct vgl__doc *d, int v)
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

static int get_int(struct ld *l, const struct vgl__doc *d, int v, const struct kp *kp,
		   long lo, long hi, long *out)
{
	const char *s = d->text + d->tok[v].start;
	int n = d->tok[v].end - d->tok[v].start;
	long long x;

	if (!is_integer_tok(d, v)) {
		if (d->tok[v].type == VGL_J_PRIMITIVE && !strchr("tfn", s[0]))
			errk(l, d, vgl__tok_pos(d, v), kp, "expected an integer %ld-%ld, got %.*s",
			     lo, hi, n > 24 ? 24 : n, s);
		else
			errk(l, d, vgl__tok_pos(d, v), kp, "expected an integer %ld-%ld, got %s",
			     lo, hi, vgl__tok_kind(d, v));
		return -1;
	}
	errno = 0;
	x = strtoll(s, NULL, 10);
	if (errno || x < lo || x > hi) {
		errk(l, d, vgl__tok_pos(d, v), kp, "expected an integer %ld-%ld, got %.*s",
		     lo, hi, n > 24 ? 24 : n, s);
		return -1;
	}
	*out = (long)x;
	return 0;
}

static int is_null(const struct vgl__doc *d, int v)
{
	return d->tok[v].type == VGL_J_PRIMITIVE && d->text[d->tok[v].start] == 'n';
}

/* Names the expression language can refer to: [A-Za-z_][A-Za-z0-9_.-]*,
 * not a keyword. */
static int is_ident(const char *s)
{
	if (!(isalpha((unsigned char)s[0]) || s[0] == '_'))
		return 0;
	for (const char *p = s + 1; *p; p++)
		if (!(isalnum((unsigned char)*p) || *p == '_' || *p == '.' || *p == '-'))
			return 0;
	return strcmp(s, "and") && strcmp(s, "or") && strcmp(s, "not");
}

/* ---- profiles ---------------------------------------------------------------- */

static void snmp_free(struct vgl_conf_snmp *s)
{
	free(s->community);
	free(s->user);
	free(s->auth_protocol);
	free(s->auth_key);
	free(s->priv_protocol);
	free(s->priv_key);
	free(s->source_address);
	memset(s, 0, sizeof(*s));
}

static void snmp_defaults(struct vgl_conf_snmp *s)
{
	memset(s, 0, sizeof(*s));
	s->version = VGL_SNMP_V2C;
	s->port = 161;
	s->interval_ms = 60000;
	s->timeout_ms = 1000;
	s->retries = 1;
	s->max_oids_per_pdu = 20;
}

static int dup_opt(char **dst, const char *src)
{
	*dst = NULL;
	return src && !(*dst = strdup(src)) ? -1 : 0;
}

static int snmp_copy(struct vgl_conf_snmp *dst, const struct vgl_conf_snmp *src)
{
	*dst = *src;
	if (dup_opt(&dst->community, src->community) || dup_opt(&dst->user, src->user) ||
	    dup_opt(&dst->auth_protocol, src->auth_protocol) ||
	    dup_opt(&dst->auth_key, src->auth_key) ||
	    dup_opt(&dst->priv_protocol, src->priv_protocol) ||
	    dup_opt(&dst->priv_key, src->priv_key) ||
	    dup_opt(&dst->source_address, src->source_address)) {
		snmp_free(dst);
		return -1;
	}
	return 0;
}

static void metric_free(struct vgl_conf_metric *m)
{
	free(m->name);
	free(m->oid_text);
	vgl__mib_free_enums(m->enums, m->n_enums);
	memset(m, 0, sizeof(*m));
}

static int metric_copy(struct vgl_conf_metric *dst, const struct vgl_conf_metric *src)
{
	*dst = *src;
	dst->name = strdup(src->name);
	dst->oid_text = strdup(src->oid_text);
	dst->enums = NULL;
	dst->n_enums = 0;
	if (!dst->name || !dst->oid_text)
		goto free_dst;
	if (src->n_enums) {
		dst->enums = calloc(src->n_enums, sizeof(*dst->enums));
		if (!dst->enums)
			goto free_dst;
		for (size_t i = 0; i < src->n_enums; i++, dst->n_enums++) {
			dst->enums[i].value = src->enums[i].value;
			if (!(dst->enums[i].label = strdup(src->enums[i].label)))
				goto free_dst;
		}
	}
	return 0;
free_dst:
	metric_free(dst);
	return -1;
}

static void cond_free(struct vgl_conf_cond *c)
{
	free(c->name);
	free(c->cause);
	free(c->expr_text);
	if (c->expr)
		vgl_expr_free(c->expr);
	memset(c, 0, sizeof(*c));
}

static void profile_free(struct vgl_conf_profile *p)
{
	if (!p)
		return;
	free(p->template_name);
	snmp_free(&p->snmp);
	for (size_t i = 0; i < p->n_metrics; i++)
		metric_free(&p->metrics[i]);
	free(p->metrics);
	for (size_t i = 0; i < p->n_conds; i++)
		cond_free(&p->conds[i]);
	free(p->conds);
	free(p->counters.total_name);
	free(p->counters.failed_name);
	free(p);
}

static struct vgl_conf_profile *profile_new(void)
{
	struct vgl_conf_profile *p = calloc(1, sizeof(*p));

	if (p)
		snmp_defaults(&p->snmp);
	return p;
}

static int conf_add_profile(struct ld *l, struct vgl_conf_profile *p)
{
	struct vgl_conf *c = l->c;

	if (c->n_profiles == l->cap_profiles) {
		size_t cap = l->cap_profiles ? l->cap_profiles * 2 : 16;
		struct vgl_conf_profile **n = realloc(c->profiles, cap * sizeof(*n));
		if (!n)
			return -1;
		c->profiles = n;
		l->cap_profiles = cap;
	}
	c->profiles[c->n_profiles++] = p;
	return 0;
}

/* ---- snmp ------------------------------------------------------------------ */

enum { S_VERSION, S_COMMUNITY, S_PORT, S_INTERVAL, S_TIMEOUT, S_RETRIES, S_MAXOIDS,
       S_USER, S_AUTHPROTO, S_AUTHKEY, S_PRIVPROTO, S_PRIVKEY, S_SECRETS, S_ENGINE,
       S_SOURCE, S_N };
static const char *const snmp_keys[] = {
	"version", "community", "port", "interval_s", "timeout_ms", "retries",
	"max_oids_per_pdu", "user", "auth_protocol", "auth_key", "priv_protocol",
	"priv_key", "secrets", "engine", "source_address", NULL,
};

/* net-snmp derives v3 keys from passphrases and refuses shorter ones. */
#define MIN_V3_KEY 8

static void set_str(char **dst, char *v)
{
	free(*dst);
	*dst = v;
}

static void v3_key(struct ld *l, const struct vgl__doc *d, int v, const struct kp *kp,
		   char **dst)
{
	char *s;

	if (get_str(l, d, v, kp, &s) != 0)
		return;
	if (strlen(s) < MIN_V3_KEY) {
		errk(l, d, vgl__tok_pos(d, v), kp,
		     "SNMPv3 keys must be at least %d characters", MIN_V3_KEY);
		free(s);
		return;
	}
	set_str(dst, s);
}

/* A secret file must be a regular file that only its owner can read, and
 * its owner someone who may hold vigil's secrets: root, the user reading it
 * (vigild's), or the owner of the main configuration (who deploys it; the
 * CLI run by root reads a file owned by the vigil user). Anyone else could
 * swap in credentials of their own. 1 (error reported) or 0. */
static int secret_file_bad(struct ld *l, const struct vgl__doc *d, int v, const struct kp *kp,
			   const char *path, const struct stat *st)
{
	uid_t me = geteuid(), deployer = l->n_docs ? l->docs[0]->st.st_uid : me;

	if (!S_ISREG(st->st_mode)) {
		errk(l, d, vgl__tok_pos(d, v), kp, "secret file '%s' %s", path,
		     S_ISFIFO(st->st_mode) ? "is a FIFO, not a regular file"
		     : S_ISDIR(st->st_mode) ? "is a directory, not a file"
					    : "is not a regular file");
		return 1;
	}
	if (st->st_mode & 077) {
		errk(l, d, vgl__tok_pos(d, v), kp,
		     "secret file '%s' is accessible by group or others (mode %04o): chmod 600 it",
		     path, (unsigned)(st->st_mode & 07777));
		return 1;
	}
	if (st->st_uid != 0 && st->st_uid != me && st->st_uid != deployer) {
		errk(l, d, vgl__tok_pos(d, v), kp,
		     "secret file '%s' is owned by uid %u: only root, uid %u (this process) or "
		     "uid %u (the main configuration's owner) may own it", path,
		     (unsigned)st->st_uid, (unsigned)me, (unsigned)deployer);
		return 1;
	}
	return 0;
}

/* Reads the secret file named by token v of d into s. Keys it holds must
 * not also be given inline (vals). */
static void apply_secrets(struct ld *l, const struct vgl__doc *d, int v, const struct kp *kp,
			  const int *vals, struct vgl_conf_snmp *s)
{
	static const char *const keys[] = { "community", "auth_key", "priv_key", NULL };
	static const int inline_of[] = { S_COMMUNITY, S_AUTHKEY, S_PRIVKEY };
	char *rel, *dir = NULL, *path = NULL;
	struct vgl__doc *sd;
	struct stat st;
	int sv[3];
	struct kp root = { NULL, NULL, 0, 0 };

	if (get_str(l, d, v, kp, &rel) != 0)
		return;
	if (!(dir = dir_of(d->path)) || !(path = join_path(dir, rel))) {
		oom(l);
		goto free_strs;
	}
	/* stat, not open: a FIFO is named here instead of waited on. The
	 * checks are made again on what was actually read (sd->st). */
	if (stat(path, &st) != 0) {
		errk(l, d, vgl__tok_pos(d, v), kp, "secret file '%s': %s", path, strerror(errno));
		goto free_strs;
	}
	if (secret_file_bad(l, d, v, kp, path, &st))
		goto free_strs;
	if (vgl__doc_load_secret(path, &l->e, &sd) != 0) {
		l->n_errs++;
		goto free_strs;
	}
	if (add_doc(l, sd) != 0)
		goto free_strs;
	if (secret_file_bad(l, d, v, kp, path, &sd->st))
		goto free_strs;
	(void)root;
	obj_fields(l, sd, 0, NULL, keys, sv);
	for (int i = 0; i < 3; i++) {
		struct kp ck = { NULL, keys[i], -1, 0 };
		if (sv[i] < 0)
			continue;
		if (vals[inline_of[i]] >= 0) {
			struct kp ik = { kp->up, keys[i], -1, 0 };
			errk(l, d, vgl__tok_pos(d, vals[inline_of[i]] - 1), &ik,
			     "given both here and in secret file '%s'", path);
			continue;
		}
		if (i == 0) {
			char *str;
			if (get_str(l, sd, sv[i], &ck, &str) == 0)
				set_str(&s->community, str);
		} else {
			v3_key(l, sd, sv[i], &ck, i == 1 ? &s->auth_key : &s->priv_key);
		}
	}
free_strs:
	free(path);
	free(dir);
	free(rel);
}

/* Secrets written inline in a file others can read are readable by them:
 * not an error (the v2c community "public" is common), but said once per
 * file at load. */
static void warn_inline_secrets(struct ld *l, struct vgl__doc *d)
{
	char *msg, **nw;

	if (d->warned_inline || !(d->st.st_mode & (S_IRGRP | S_IROTH)))
		return;
	d->warned_inline = 1;
	if (asprintf(&msg, "%s: holds SNMP secrets inline (community, auth_key or priv_key) and "
		     "is readable by group or others (mode %04o): move them to a secret file "
		     "(\"secrets\", mode 0600) or chmod 600 this file", d->path,
		     (unsigned)(d->st.st_mode & 07777)) < 0) {
		oom(l);
		return;
	}
	nw = realloc(l->c->warnings, (l->c->n_warnings + 1) * sizeof(*nw));
	if (!nw) {
		free(msg);
		oom(l);
		return;
	}
	l->c->warnings = nw;
	l->c->warnings[l->c->n_warnings++] = msg;
}

/* Applies the keys of snmp object obj over s (merged key by key). */
static void apply_snmp(struct ld *l, const struct vgl__doc *d, int obj, const struct kp *kp,
		       struct vgl_conf_snmp *s)
{
	int v[S_N];
	long x;
	char *str;

	if (want_type(l, d, obj, kp, VGL_J_OBJECT, "an object") != 0)
		return;
	obj_fields(l, d, obj, kp, snmp_keys, v);
	/* Every doc is the loader's own (l->docs): marking it is safe. */
	if (v[S_COMMUNITY] >= 0 || v[S_AUTHKEY] >= 0 || v[S_PRIVKEY] >= 0)
		warn_inline_secrets(l, (struct vgl__doc *)d);
#define KP(i) (&(struct kp){ kp, snmp_keys[i], -1, 0 })
	if (v[S_VERSION] >= 0 && get_str(l, d, v[S_VERSION], KP(S_VERSION), &str) == 0) {
		if (strcmp(str, "2c") == 0)
			s->version = VGL_SNMP_V2C;
		else if (strcmp(str, "3") == 0)
			s->version = VGL_SNMP_V3;
		else
			errk(l, d, vgl__tok_pos(d, v[S_VERSION]), KP(S_VERSION),
			     "expected \"2c\" or \"3\", got \"%s\"", str);
		free(str);
	}
	if (v[S_COMMUNITY] >= 0 && get_str(l, d, v[S_COMMUNITY], KP(S_COMMUNITY), &str) == 0) {
		if (!*str) {
			errk(l, d, vgl__tok_pos(d, v[S_COMMUNITY]), KP(S_COMMUNITY),
			     "must not be empty");
			free(str);
		} else {
			set_str(&s->community, str);
		}
	}
	if (v[S_PORT] >= 0 && get_int(l, d, v[S_PORT], KP(S_PORT), 1, 65535, &x) == 0)
		s->port = (uint16_t)x;
	if (v[S_INTERVAL] >= 0 && get_int(l, d, v[S_INTERVAL], KP(S_INTERVAL), 1, 86400, &x) == 0)
		s->interval_ms = (uint32_t)x * 1000;
	if (v[S_TIMEOUT] >= 0 && get_int(l, d, v[S_TIMEOUT], KP(S_TIMEOUT), 10, 60000, &x) == 0)
		s->timeout_ms = (uint32_t)x;
	if (v[S_RETRIES] >= 0 && get_int(l, d, v[S_RETRIES], KP(S_RETRIES), 0, 10, &x) == 0)
		s->retries = (uint32_t)x;
	if (v[S_MAXOIDS] >= 0 && get_int(l, d, v[S_MAXOIDS], KP(S_MAXOIDS), 1, 128, &x) == 0)
		s->max_oids_per_pdu = (uint32_t)x;
	if (v[S_USER] >= 0 && get_str(l, d, v[S_USER], KP(S_USER), &str) == 0) {
		if (!*str) {
			errk(l, d, vgl__tok_pos(d, v[S_USER]), KP(S_USER), "must not be empty");
			free(str);
		} else {
			set_str(&s->user, str);
		}
	}
	if (v[S_AUTHPROTO] >= 0 && get_str(l, d, v[S_AUTHPROTO], KP(S_AUTHPROTO), &str) == 0) {
		if (strcmp(str, "SHA") != 0) {
			errk(l, d, vgl__tok_pos(d, v[S_AUTHPROTO]), KP(S_AUTHPROTO),
			     "expected \"SHA\" (the only one supported), got \"%s\"", str);
			free(str);
		} else {
			set_str(&s->auth_protocol, str);
		}
	}
	if (v[S_PRIVPROTO] >= 0 && get_str(l, d, v[S_PRIVPROTO], KP(S_PRIVPROTO), &str) == 0) {
		if (strcmp(str, "AES") != 0) {
			errk(l, d, vgl__tok_pos(d, v[S_PRIVPROTO]), KP(S_PRIVPROTO),
			     "expected \"AES\" (the only one supported), got \"%s\"", str);
			free(str);
		} else {
			set_str(&s->priv_protocol, str);
		}
	}
	if (v[S_AUTHKEY] >= 0)
		v3_key(l, d, v[S_AUTHKEY], KP(S_AUTHKEY), &s->auth_key);
	if (v[S_PRIVKEY] >= 0)
		v3_key(l, d, v[S_PRIVKEY], KP(S_PRIVKEY), &s->priv_key);
	if (v[S_SECRETS] >= 0)
		apply_secrets(l, d, v[S_SECRETS], KP(S_SECRETS), v, s);
	if (v[S_ENGINE] >= 0 && get_str(l, d, v[S_ENGINE], KP(S_ENGINE), &str) == 0) {
		if (strcmp(str, "vigil") == 0)
			s->engine = VGL_SNMP_ENGINE_VIGIL;
		else if (strcmp(str, "net-snmp") == 0)
			s->engine = VGL_SNMP_ENGINE_NETSNMP;
		else
			errk(l, d, vgl__tok_pos(d, v[S_ENGINE]), KP(S_ENGINE),
			     "expected \"vigil\" or \"net-snmp\", got \"%s\"", str);
		free(str);
	}
	if (v[S_SOURCE] >= 0 && get_str(l, d, v[S_SOURCE], KP(S_SOURCE), &str) == 0) {
		struct in_addr a;
		/* IPv4 only: the address every socket of these hosts is bound
		 * to. Whether it is one of this machine's is only known when
		 * binding (the config may be checked elsewhere). */
		if (inet_pton(AF_INET, str, &a) != 1) {
			errk(l, d, vgl__tok_pos(d, v[S_SOURCE]), KP(S_SOURCE),
			     "expected an IPv4 address such as \"10.0.0.5\", got \"%s\"", str);
			free(str);
		} else {
			set_str(&s->source_address, str);
		}
	}
#undef KP
}

/* What a profile needs before anything can be polled with it. Errors go
 * at (d, at, kp): the snmp object applied last, or the host. */
static void check_snmp(struct ld *l, const struct vgl_conf_snmp *s, const struct vgl__doc *d,
		       int at, const struct kp *kp)
{
	size_t off = vgl__tok_pos(d, at);

	if (s->version == VGL_SNMP_V2C) {
		if (!s->community)
			errk(l, d, off, kp, "missing required key 'community' for SNMP "
			     "version 2c (inline or in a secrets file)");
		return;
	}
	if (s->engine == VGL_SNMP_ENGINE_VIGIL)
		errk(l, d, off, kp, "engine \"vigil\" polls SNMP version 2c only; version 3 "
		     "goes through \"net-snmp\"");
	if (!s->user)
		errk(l, d, off, kp, "missing required key 'user' for SNMP version 3");
	if (!s->auth_protocol)
		errk(l, d, off, kp, "missing required key 'auth_protocol' for SNMP version 3 "
		     "(authPriv needs \"SHA\")");
	if (!s->auth_key)
		errk(l, d, off, kp, "missing required key 'auth_key' for SNMP version 3 "
		     "(inline or in a secrets file)");
	if (!s->priv_protocol)
		errk(l, d, off, kp, "missing required key 'priv_protocol' for SNMP version 3 "
		     "(authPriv needs \"AES\")");
	if (!s->priv_key)
		errk(l, d, off, kp, "missing required key 'priv_key' for SNMP version 3 "
		     "(inline or in a secrets file)");
}

/* ---- metrics ----------------------------------------------------------------- */

static const char *const metric_keys[] = { "oid", "enum", NULL };

static int parse_enum(struct ld *l, const struct vgl__doc *d, int obj, const struct kp *kp,
		      struct vgl_conf_metric *m)
{
	int k = obj + 1, bad = 0;

	if (want_type(l, d, obj, kp, VGL_J_OBJECT, "an object") != 0)
		return -1;
	if (d->tok[obj].size == 0) {
		errk(l, d, vgl__tok_pos(d, obj), kp, "must name at least one state");
		return -1;
	}
	vgl__mib_free_enums(m->enums, m->n_enums);
	m->n_enums = 0;
	m->enums = calloc((size_t)d->tok[obj].size, sizeof(*m->enums));
	if (!m->enums) {
		oom(l);
		return -1;
	}
	for (int i = 0; i < d->tok[obj].size; i++) {
		int v = k + 1;
		struct kp ck = { kp, d->text + d->tok[k].start, d->tok[k].end - d->tok[k].start, 0 };
		char *label = vgl__tok_str(d, k);
		long x;

		if (!label) {
			oom(l);
			return -1;
		}
		if (!is_ident(label)) {
			errk(l, d, vgl__tok_pos(d, k), &ck, "state label must match "
			     "[A-Za-z_][A-Za-z0-9_.-]* and not be and/or/not");
			bad = 1;
			free(label);
		} else if (earlier_key(d, obj, k) >= 0) {
			errk(l, d, vgl__tok_pos(d, k), &ck, "duplicate key");
			bad = 1;
			free(label);
		} else if (get_int(l, d, v, &ck, LONG_MIN / 2, LONG_MAX / 2, &x) != 0) {
			bad = 1;
			free(label);
		} else {
			m->enums[m->n_enums].label = label;
			m->enums[m->n_enums++].value = x;
		}
		k = d->tok[v].next;
	}
	return bad ? -1 : 0;
}

/* One metric from its value token (an OID string or {oid, enum}). */
static int parse_metric(struct ld *l, const struct vgl__doc *d, int v, const struct kp *kp,
			struct vgl_conf_metric *m)
{
	int oid_tok = v, enum_tok = -1, f[2];
	char msg[256];
	struct kp ok = { kp, "oid", -1, 0 }, ek = { kp, "enum", -1, 0 };
	const struct kp *okp = kp;

	if (d->tok[v].type == VGL_J_OBJECT) {
		obj_fields(l, d, v, kp, metric_keys, f);
		if (f[0] < 0) {
			errk(l, d, vgl__tok_pos(d, v), kp, "missing required key 'oid'");
			return -1;
		}
		oid_tok = f[0];
		enum_tok = f[1];
		okp = &ok;
	} else if (d->tok[v].type != VGL_J_STRING) {
		errk(l, d, vgl__tok_pos(d, v), kp,
		     "expected an OID string or an object {\"oid\", \"enum\"}, got %s",
		     vgl__tok_kind(d, v));
		return -1;
	}
	if (get_str(l, d, oid_tok, okp, &m->oid_text) != 0)
		return -1;
	if (vgl__mib_resolve(m->oid_text, m->oid, &m->oid_len, &m->enums, &m->n_enums,
			     msg, sizeof(msg)) != 0) {
		errk(l, d, vgl__tok_pos(d, oid_tok), okp, "%s", msg);
		return -1;
	}
	/* The config's states replace the MIB's. */
	if (enum_tok >= 0 && parse_enum(l, d, enum_tok, &ek, m) != 0)
		return -1;
	return 0;
}

/* Adds the metrics of object obj to *ms, replacing same-named ones. */
static void apply_metrics(struct ld *l, const struct vgl__doc *d, int obj, const struct kp *kp,
			  struct vgl_conf_metric **ms, size_t *n)
{
	int k = obj + 1;
	struct vgl_conf_metric *grown;

	if (want_type(l, d, obj, kp, VGL_J_OBJECT, "an object") != 0)
		return;
	grown = realloc(*ms, (*n + (size_t)d->tok[obj].size + 1) * sizeof(**ms));
	if (!grown) {
		oom(l);
		return;
	}
	*ms = grown;
	for (int i = 0; i < d->tok[obj].size; i++) {
		int v = k + 1;
		struct kp ck = { kp, d->text + d->tok[k].start, d->tok[k].end - d->tok[k].start, 0 };
		struct vgl_conf_metric m = { 0 };
		size_t at = *n;

		k = d->tok[v].next;
		if (!(m.name = vgl__tok_str(d, v - 1))) {
			oom(l);
			return;
		}
		if (!is_ident(m.name)) {
			errk(l, d, vgl__tok_pos(d, v - 1), &ck, "metric name must match "
			     "[A-Za-z_][A-Za-z0-9_.-]* and not be and/or/not");
			metric_free(&m);
			continue;
		}
		if (earlier_key(d, obj, v - 1) >= 0) {
			errk(l, d, vgl__tok_pos(d, v - 1), &ck, "duplicate key");
			metric_free(&m);
			continue;
		}
		if (parse_metric(l, d, v, &ck, &m) != 0) {
			metric_free(&m);
			continue;
		}
		for (size_t j = 0; j < *n; j++)
			if (strcmp((*ms)[j].name, m.name) == 0)
				at = j;
		if (at < *n)
			metric_free(&(*ms)[at]);
		else
			(*n)++;
		(*ms)[at] = m;
	}
}

/* ---- SLA counters ------------------------------------------------------------ */

enum { K_TOTAL, K_FAILED, K_BITS, K_N };
static const char *const counter_keys[] = { "total", "failed", "bits", NULL };

static long metric_index(const struct vgl_conf_metric *ms, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(ms[i].name, name) == 0)
			return (long)i;
	return -1;
}

static void counters_free(struct vgl_conf_counters *k)
{
	free(k->total_name);
	free(k->failed_name);
	memset(k, 0, sizeof(*k));
}

/* The "sla_counters" object obj, its metric names resolved against ms (of
 * the owner: "template" or "host", for messages).
 * 0 and *out filled (it owns the names), or -1 after reporting. */
static int parse_counters(struct ld *l, const struct vgl__doc *d, int obj, const struct kp *kp,
			  const struct vgl_conf_metric *ms, size_t n_ms, const char *owner,
			  struct vgl_conf_counters *out)
{
	struct kp bk = { kp, "bits", -1, 0 };
	char *names[2] = { NULL, NULL };
	long idx[2] = { -1, -1 };
	size_t before = l->n_errs;
	int v[K_N];

	memset(out, 0, sizeof(*out));
	if (want_type(l, d, obj, kp, VGL_J_OBJECT, "an object") != 0)
		return -1;
	obj_fields(l, d, obj, kp, counter_keys, v);
	for (int i = K_TOTAL; i <= K_FAILED; i++) {
		struct kp ck = { kp, counter_keys[i], -1, 0 };

		if (v[i] < 0) {
			errk(l, d, vgl__tok_pos(d, obj), kp, "missing required key '%s'",
			     counter_keys[i]);
			continue;
		}
		if (get_str(l, d, v[i], &ck, &names[i]) != 0)
			continue;
		idx[i] = metric_index(ms, n_ms, names[i]);
		if (idx[i] < 0)
			errk(l, d, vgl__tok_pos(d, v[i]), &ck,
			     "no metric named '%s' here: name one of this %s's metrics",
			     names[i], owner);
	}
	if (idx[K_TOTAL] >= 0 && idx[K_TOTAL] == idx[K_FAILED])
		errk(l, d, vgl__tok_pos(d, v[K_FAILED]), &(struct kp){ kp, "failed", -1, 0 },
		     "must name another metric than 'total'");
	/* No default: a Counter32 taken for 64 bits would read each wrap as a
	 * reset, and the SLA would lose that interval's requests. */
	if (v[K_BITS] < 0) {
		errk(l, d, vgl__tok_pos(d, obj), kp,
		     "missing required key 'bits' (32 for Counter32, 64 for Counter64)");
	} else if (!is_integer_tok(d, v[K_BITS]) ||
		   (strtol(d->text + d->tok[v[K_BITS]].start, NULL, 10) != 32 &&
		    strtol(d->text + d->tok[v[K_BITS]].start, NULL, 10) != 64)) {
		const char *s = d->text + d->tok[v[K_BITS]].start;
		int n = d->tok[v[K_BITS]].end - d->tok[v[K_BITS]].start;

		if (d->tok[v[K_BITS]].type == VGL_J_PRIMITIVE && !strchr("tfn", s[0]))
			errk(l, d, vgl__tok_pos(d, v[K_BITS]), &bk, "expected 32 or 64, got %.*s",
			     n > 24 ? 24 : n, s);
		else
			errk(l, d, vgl__tok_pos(d, v[K_BITS]), &bk, "expected 32 or 64, got %s",
			     vgl__tok_kind(d, v[K_BITS]));
	} else {
		out->bits = (int)strtol(d->text + d->tok[v[K_BITS]].start, NULL, 10);
	}
	if (l->n_errs != before) {
		free(names[0]);
		free(names[1]);
		memset(out, 0, sizeof(*out));
		return -1;
	}
	out->total_name = names[K_TOTAL];
	out->failed_name = names[K_FAILED];
	out->total = (uint32_t)idx[K_TOTAL];
	out->failed = (uint32_t)idx[K_FAILED];
	return 0;
}

/* A template's pair for a host profile built from it: same names, indexes
 * looked up again in the host's metric list. 0, -1 (out of memory) or -2
 * (a name is no longer there). */
static int counters_rebind(struct vgl_conf_counters *dst, const struct vgl_conf_counters *src,
			   const struct vgl_conf_metric *ms, size_t n_ms)
{
	long t = metric_index(ms, n_ms, src->total_name);
	long f = metric_index(ms, n_ms, src->failed_name);

	memset(dst, 0, sizeof(*dst));
	if (t < 0 || f < 0)
		return -2;
	if (dup_opt(&dst->total_name, src->total_name) ||
	    dup_opt(&dst->failed_name, src->failed_name)) {
		counters_free(dst);
		return -1;
	}
	dst->total = (uint32_t)t;
	dst->failed = (uint32_t)f;
	dst->bits = src->bits;
	return 0;
}

/* ---- availability conditions ------------------------------------------------ */

enum { C_NAME, C_CAUSE, C_UNREACH, C_WHEN, C_FOR, C_N };
static const char *const cond_keys[] = { "name", "cause", "unreachable", "when", "for_s", NULL };

static int parse_expr(struct ld *l, const struct vgl__doc *d, int v, const struct kp *kp,
		      const struct vgl_conf_metric *ms, size_t n, const char *text,
		      const char *suffix, struct vgl_expr **out)
{
	struct vgl_expr_error ee = { 0 };

	if (vgl_expr_parse(text, ms, n, out, &ee) == 0)
		return 0;
	*out = NULL;
	/* The column of the offending token inside the string: right after
	 * the opening quote, assuming no escapes before it. */
	errk(l, d, vgl__tok_pos(d, v) + 1 + ee.offset, kp, "%s%s", ee.msg, suffix);
	return -1;
}

/* Compiles the condition array arr against metrics ms. *when_tok (if
 * asked for) gets each condition's "when" token. */
static void compile_conds(struct ld *l, const struct vgl__doc *d, int arr, const struct kp *kp,
			  const struct vgl_conf_metric *ms, size_t n_ms,
			  struct vgl_conf_cond **out, size_t *n_out, int **when_tok)
{
	int e = arr + 1, n = d->tok[arr].size;
	struct vgl_conf_cond *cs;

	*out = NULL;
	*n_out = 0;
	if (want_type(l, d, arr, kp, VGL_J_ARRAY, "an array") != 0)
		return;
	if (n == 0)
		return;
	cs = calloc((size_t)n, sizeof(*cs));
	if (!cs || (when_tok && !(*when_tok = malloc((size_t)n * sizeof(int))))) {
		free(cs);
		oom(l);
		return;
	}
	*out = cs;
	for (int i = 0; i < n; i++, e = d->tok[e].next) {
		struct kp ik = { kp, NULL, 0, i };
		struct vgl_conf_cond *c = &cs[(*n_out)++];
		int v[C_N];
		long x;
#define KP(j) (&(struct kp){ &ik, cond_keys[j], -1, 0 })
		if (when_tok)
			(*when_tok)[i] = -1;
		if (want_type(l, d, e, &ik, VGL_J_OBJECT, "an object") != 0)
			continue;
		obj_fields(l, d, e, &ik, cond_keys, v);
		if (v[C_NAME] < 0) {
			errk(l, d, vgl__tok_pos(d, e), &ik, "missing required key 'name'");
		} else if (get_str(l, d, v[C_NAME], KP(C_NAME), &c->name) == 0) {
			for (int j = 0; j < i; j++) {
				if (cs[j].name && strcmp(cs[j].name, c->name) == 0) {
					errk(l, d, vgl__tok_pos(d, v[C_NAME]), KP(C_NAME),
					     "duplicate condition name '%s' (also %s[%d])",
					     c->name, "availability", j);
					break;
				}
			}
			if (!*c->name)
				errk(l, d, vgl__tok_pos(d, v[C_NAME]), KP(C_NAME), "must not be empty");
		}
		if (v[C_CAUSE] < 0) {
			errk(l, d, vgl__tok_pos(d, e), &ik, "missing required key 'cause'");
		} else if (get_str(l, d, v[C_CAUSE], KP(C_CAUSE), &c->cause) == 0 &&
			   !vgl_cause_valid(c->cause)) {
			errk(l, d, vgl__tok_pos(d, v[C_CAUSE]), KP(C_CAUSE),
			     "unknown cause '%s': expected one of network, hardware, power, "
			     "facility, maintenance, customer, force_majeure, unknown", c->cause);
		}
		if ((v[C_UNREACH] >= 0) == (v[C_WHEN] >= 0)) {
			errk(l, d, vgl__tok_pos(d, e), &ik,
			     "give exactly one of 'unreachable' and 'when'");
			continue;
		}
		if (v[C_UNREACH] >= 0) {
			c->kind = VGL_COND_UNREACHABLE;
			if (get_int(l, d, v[C_UNREACH], KP(C_UNREACH), 1, 1000, &x) == 0)
				c->failures = (uint32_t)x;
			if (v[C_FOR] >= 0)
				errk(l, d, vgl__tok_pos(d, v[C_FOR] - 1), KP(C_FOR),
				     "'for_s' goes only with 'when'");
			continue;
		}
		c->kind = VGL_COND_EXPR;
		if (v[C_FOR] >= 0 && get_int(l, d, v[C_FOR], KP(C_FOR), 0, 86400, &x) == 0)
			c->for_ms = (uint32_t)x * 1000;
		if (get_str(l, d, v[C_WHEN], KP(C_WHEN), &c->expr_text) != 0)
			continue;
		if (when_tok)
			(*when_tok)[i] = v[C_WHEN];
		parse_expr(l, d, v[C_WHEN], KP(C_WHEN), ms, n_ms, c->expr_text, "", &c->expr);
#undef KP
	}
}

/* ---- templates --------------------------------------------------------------- */

static const char *const tmpl_keys[] = { "snmp", "metrics", "availability", "sla_counters",
					 NULL };

static int tmpl_cmp(const void *a, const void *b)
{
	const struct tmpl *x = a, *y = b;
	int c = strcmp(x->name, y->name);
	/* Equal names keep file order, so the first declared is reported
	 * as the original. */
	if (c)
		return c;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static void collect_templates(struct ld *l, struct vgl__doc *d, int obj)
{
	struct kp root = { NULL, "templates", -1, 0 };
	int k = obj + 1;

	if (want_type(l, d, obj, &root, VGL_J_OBJECT, "an object") != 0)
		return;
	for (int i = 0; i < d->tok[obj].size; i++) {
		int v = k + 1;
		struct tmpl *t;

		k = d->tok[v].next;
		if (earlier_key(d, obj, v - 1) >= 0) {
			struct kp ck = { &root, d->text + d->tok[v - 1].start,
					 d->tok[v - 1].end - d->tok[v - 1].start, 0 };
			errk(l, d, vgl__tok_pos(d, v - 1), &ck, "duplicate key");
			continue;
		}
		if (l->n_tmpls == l->cap_tmpls) {
			size_t cap = l->cap_tmpls ? l->cap_tmpls * 2 : 8;
			struct tmpl *n = realloc(l->tmpls, cap * sizeof(*n));
			if (!n) {
				oom(l);
				return;
			}
			l->tmpls = n;
			l->cap_tmpls = cap;
		}
		t = &l->tmpls[l->n_tmpls];
		memset(t, 0, sizeof(*t));
		if (!(t->name = vgl__tok_str(d, v - 1))) {
			oom(l);
			return;
		}
		t->d = d;
		t->obj = v;
		t->name_tok = v - 1;
		t->seq = l->n_tmpls++;
	}
}

static void compile_template(struct ld *l, struct tmpl *t)
{
	struct kp root = { NULL, "templates", -1, 0 };
	struct kp tk = { &root, t->name, -1, 0 };
	const struct vgl__doc *d = t->d;
	size_t before = l->n_errs;
	int v[4];

	t->snmp = t->metrics = t->avail = t->counters = -1;
	if (want_type(l, d, t->obj, &tk, VGL_J_OBJECT, "an object") != 0)
		return;
	obj_fields(l, d, t->obj, &tk, tmpl_keys, v);
	t->snmp = v[0];
	t->metrics = v[1];
	t->avail = v[2];
	t->counters = v[3];
	if (!(t->prof = profile_new()) || !(t->prof->template_name = strdup(t->name))) {
		oom(l);
		return;
	}
	if (t->snmp >= 0) {
		apply_snmp(l, d, t->snmp, &(struct kp){ &tk, "snmp", -1, 0 }, &t->prof->snmp);
		t->prof->has_snmp = 1;
	}
	if (t->metrics >= 0)
		apply_metrics(l, d, t->metrics, &(struct kp){ &tk, "metrics", -1, 0 },
			      &t->prof->metrics, &t->prof->n_metrics);
	if (t->avail >= 0)
		compile_conds(l, d, t->avail, &(struct kp){ &tk, "availability", -1, 0 },
			      t->prof->metrics, t->prof->n_metrics, &t->prof->conds,
			      &t->prof->n_conds, &t->when_tok);
	if (t->counters >= 0 &&
	    parse_counters(l, d, t->counters, &(struct kp){ &tk, "sla_counters", -1, 0 },
			   t->prof->metrics, t->prof->n_metrics, "template",
			   &t->prof->counters) == 0)
		t->prof->has_counters = 1;
	t->ok = l->n_errs == before;
}

/* A template used as is must be complete; checked once, at the first host
 * that does so, and reported at the template. */
static void check_template_direct(struct ld *l, struct tmpl *t)
{
	struct kp root = { NULL, "templates", -1, 0 };
	struct kp tk = { &root, t->name, -1, 0 };
	size_t before = l->n_errs;

	if (t->checked)
		return;
	t->checked = 1;
	if (!t->prof->has_snmp)
		errk(l, t->d, vgl__tok_pos(t->d, t->obj), &tk,
		     "template has no \"snmp\" object: hosts using it have nothing to poll");
	else
		check_snmp(l, &t->prof->snmp, t->d, t->snmp,
			   &(struct kp){ &tk, "snmp", -1, 0 });
	if (t->prof->n_metrics == 0)
		errk(l, t->d, vgl__tok_pos(t->d, t->obj), &tk,
		     "template has no metrics: hosts using it have nothing to poll");
	if (l->n_errs != before)
		t->ok = 0;
}

static struct tmpl *find_template(struct ld *l, const char *name)
{
	size_t lo = 0, hi = l->n_tmpls;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(name, l->tmpls[mid].name);
		if (c == 0) {
			/* The first of equal names: the one that counts. */
			while (mid > 0 && strcmp(l->tmpls[mid - 1].name, name) == 0)
				mid--;
			return &l->tmpls[mid];
		}
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

/* ---- SLA policies ------------------------------------------------------------ */

/* Every percentage goes from the token's text straight to e4 integers
 * (sla.h), never through a double: 99.95 must compare as 99.95. */
static int get_pct(struct ld *l, const struct vgl__doc *d, int v, const struct kp *kp,
		   int64_t *out)
{
	const char *s = d->text + d->tok[v].start;
	int n = d->tok[v].end - d->tok[v].start;
	int str = d->tok[v].type == VGL_J_STRING;
	int num = d->tok[v].type == VGL_J_PRIMITIVE && !strchr("tfn", s[0]);

	if ((str || num) && vgl_sla_pct_parse(s, (size_t)n, out) == 0)
		return 0;
	if (str || num)
		errk(l, d, vgl__tok_pos(d, v), kp, "expected a percentage 0-100 with at most 4 "
		     "decimals (99.95 or \"99.95\"), got %s%.*s%s", str ? "\"" : "",
		     n > 24 ? 24 : n, s, str ? "\"" : "");
	else
		errk(l, d, vgl__tok_pos(d, v), kp, "expected a percentage 0-100 with at most 4 "
		     "decimals (99.95 or \"99.95\"), got %s", vgl__tok_kind(d, v));
	return -1;
}

/* "99.95" for 999500: exact, trailing zeros dropped. */
static const char *fmt_pct(int64_t e4, char *buf, size_t n)
{
	int64_t frac = e4 % 10000;
	int digits = 4;

	if (!frac) {
		snprintf(buf, n, "%lld", (long long)(e4 / 10000));
		return buf;
	}
	while (frac % 10 == 0) {
		frac /= 10;
		digits--;
	}
	snprintf(buf, n, "%lld.%0*lld", (long long)(e4 / 10000), digits, (long long)frac);
	return buf;
}

/* A string that must be one of choices (NULL-terminated): its index, or
 * -1 after reporting. */
static int get_choice(struct ld *l, const struct vgl__doc *d, int v, const struct kp *kp,
		      const char *const *choices, const char *expected)
{
	char *s;
	int i;

	if (get_str(l, d, v, kp, &s) != 0)
		return -1;
	for (i = 0; choices[i]; i++)
		if (strcmp(s, choices[i]) == 0)
			break;
	if (!choices[i]) {
		errk(l, d, vgl__tok_pos(d, v), kp, "expected %s, got \"%s\"", expected, s);
		i = -1;
	}
	free(s);
	return i;
}

/* A zone name into buf[64], checked against the system's zone files. */
static int get_tz(struct ld *l, const struct vgl__doc *d, int v, const struct kp *kp,
		  char *buf, size_t n)
{
	char *s;
	int r = -1;

	if (get_str(l, d, v, kp, &s) != 0)
		return -1;
	if (strlen(s) >= n || !vgl_sla_tz_valid(s))
		errk(l, d, vgl__tok_pos(d, v), kp, "unknown time zone '%s': expected a zone "
		     "name under /usr/share/zoneinfo such as \"Asia/Ho_Chi_Minh\" or \"UTC\"", s);
	else
		r = 0;
	if (r == 0)
		snprintf(buf, n, "%s", s);
	free(s);
	return r;
}

static const struct vgl_sla_policy *find_preset(const struct vgl_conf *c, const char *name)
{
	for (size_t i = 0; i < c->n_presets; i++)
		if (strcmp(c->presets[i].name, name) == 0)
			return &c->presets[i];
	return NULL;
}

const struct vgl_sla_policy *vgl_conf_policy(const struct vgl_conf *c, const char *name)
{
	if (!c || !name)
		return NULL;
	for (size_t i = 0; i < c->n_policies; i++)
		if (strcmp(c->policies[i].name, name) == 0)
			return &c->policies[i];
	return find_preset(c, name);
}

/* The presets of sla/, each with the config's default zone. */
static int make_presets(struct vgl_conf *c)
{
	size_t n = 0;

	while (vgl_sla_preset_name(n))
		n++;
	c->presets = calloc(n ? n : 1, sizeof(*c->presets));
	if (!c->presets)
		return -1;
	for (size_t i = 0; i < n; i++) {
		const struct vgl_sla_policy *p = vgl_sla_preset(vgl_sla_preset_name(i));
		if (!p)
			return -1;
		c->presets[i] = *p;
		snprintf(c->presets[i].tz, sizeof(c->presets[i].tz), "%s", c->sla_tz);
	}
	c->n_presets = n;
	return 0;
}

static void preset_list(const struct vgl_conf *c, char *buf, size_t n)
{
	size_t len = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < c->n_presets && len < n; i++) {
		int w = snprintf(buf + len, n - len, "%s%s", i ? ", " : "", c->presets[i].name);
		if (w < 0)
			break;
		len += (size_t)w;
	}
}

enum { B_FROM, B_TO, B_CREDIT, B_N };
static const char *const band_keys[] = { "from", "to", "credit", NULL };

/* The bands array arr over p (whose unit and commitment are settled). Each
 * band is checked where it is written: from < to, to at most the
 * commitment, highest first without overlap. */
static void parse_bands(struct ld *l, const struct vgl__doc *d, int arr, const struct kp *kp,
			int commit_known, struct vgl_sla_policy *p)
{
	long max_credit = p->unit == VGL_CREDIT_DAYS ? 366 : 100;
	int e = arr + 1, prev_ok = 0;
	char a[24], b[24];

	p->n_bands = 0;
	if (want_type(l, d, arr, kp, VGL_J_ARRAY, "an array of {from, to, credit}") != 0)
		return;
	if (d->tok[arr].size > VGL_SLA_MAX_BANDS) {
		errk(l, d, vgl__tok_pos(d, arr), kp, "at most %d bands, got %d",
		     VGL_SLA_MAX_BANDS, d->tok[arr].size);
		return;
	}
	for (int i = 0; i < d->tok[arr].size; i++, e = d->tok[e].next) {
		struct kp ik = { kp, NULL, 0, i };
		struct vgl_sla_band *bd = &p->bands[p->n_bands];
		int v[B_N], ok = 1;
		long credit = 0;

		if (want_type(l, d, e, &ik, VGL_J_OBJECT, "an object {from, to, credit}") != 0) {
			prev_ok = 0;
			continue;
		}
		obj_fields(l, d, e, &ik, band_keys, v);
		for (int k = 0; k < B_N; k++) {
			if (v[k] < 0) {
				errk(l, d, vgl__tok_pos(d, e), &ik, "missing required key '%s'",
				     band_keys[k]);
				ok = 0;
			}
		}
#define BK(k) (&(struct kp){ &ik, band_keys[k], -1, 0 })
		if (v[B_FROM] >= 0 && get_pct(l, d, v[B_FROM], BK(B_FROM), &bd->from_e4) != 0)
			ok = 0;
		if (v[B_TO] >= 0 && get_pct(l, d, v[B_TO], BK(B_TO), &bd->to_e4) != 0)
			ok = 0;
		if (v[B_CREDIT] >= 0 &&
		    get_int(l, d, v[B_CREDIT], BK(B_CREDIT), 0, max_credit, &credit) != 0)
			ok = 0;
		bd->credit = credit;
		if (ok && bd->from_e4 >= bd->to_e4) {
			errk(l, d, vgl__tok_pos(d, v[B_FROM]), BK(B_FROM),
			     "from (%s) must be below to (%s)", fmt_pct(bd->from_e4, a, sizeof(a)),
			     fmt_pct(bd->to_e4, b, sizeof(b)));
			ok = 0;
		}
		/* A band reaching above the commitment would pay credit for a
		 * month that met it. */
		if (ok && commit_known && bd->to_e4 > p->commitment_e4) {
			errk(l, d, vgl__tok_pos(d, v[B_TO]), BK(B_TO),
			     "%s is above the commitment %s: a month that met the commitment "
			     "would earn credit", fmt_pct(bd->to_e4, a, sizeof(a)),
			     fmt_pct(p->commitment_e4, b, sizeof(b)));
			ok = 0;
		}
		if (ok && prev_ok && bd->to_e4 > p->bands[p->n_bands - 1].from_e4) {
			errk(l, d, vgl__tok_pos(d, v[B_TO]), BK(B_TO),
			     "%s is above bands[%d].from (%s): bands go highest first and must "
			     "not overlap", fmt_pct(bd->to_e4, a, sizeof(a)), i - 1,
			     fmt_pct(p->bands[p->n_bands - 1].from_e4, b, sizeof(b)));
			ok = 0;
		}
#undef BK
		prev_ok = ok;
		if (ok)
			p->n_bands++;
	}
}

enum { P_BASE, P_KIND, P_COMMIT, P_BANDS, P_UNIT, P_CAUSES, P_NOTICE_PLANNED,
       P_NOTICE_EMERGENCY, P_CAP, P_TZ, P_N };
static const char *const policy_keys[] = {
	"base", "kind", "commitment", "bands", "credit_unit", "counted_causes",
	"notice_planned_h", "notice_emergency_min", "maintenance_cap_min", "tz", NULL,
};

/* One custom policy into *p: a preset's copy ("base") or SLA.md's cloud
 * defaults, then the keys given. A contract without a base must state its
 * commitment and bands itself. */
static void parse_policy(struct ld *l, const struct vgl__doc *d, int obj, const struct kp *pk,
			 const char *name, struct vgl_sla_policy *p)
{
	static const char *const kinds[] = { "availability", "block_errors", "cycle_errors",
					     NULL };
	static const char *const units[] = { "percent", "days", NULL };
	size_t before = l->n_errs;
	int v[P_N], commit_known = 0, r;
	char msg[256];
	long x;
#define KP(i) (&(struct kp){ pk, policy_keys[i], -1, 0 })

	memset(p, 0, sizeof(*p));
	if (want_type(l, d, obj, pk, VGL_J_OBJECT, "an object") != 0)
		goto out_name;
	obj_fields(l, d, obj, pk, policy_keys, v);
	if (v[P_BASE] >= 0) {
		char *s, list[128];
		const struct vgl_sla_policy *b;

		if (get_str(l, d, v[P_BASE], KP(P_BASE), &s) != 0)
			goto out_name;
		b = find_preset(l->c, s);
		if (!b) {
			preset_list(l->c, list, sizeof(list));
			errk(l, d, vgl__tok_pos(d, v[P_BASE]), KP(P_BASE),
			     "unknown preset '%s': expected one of %s", s, list);
			free(s);
			goto out_name;
		}
		free(s);
		*p = *b;
		commit_known = 1;
	} else {
		/* SLA.md's defaults for the cloud services: what counts, the
		 * notice rules and the cap. */
		const struct vgl_sla_policy *b = find_preset(l->c, "vserver");

		if (b)
			*p = *b;
		p->n_bands = 0;
		p->commitment_e4 = 0;
		p->kind = VGL_SLA_AVAILABILITY;
		p->unit = VGL_CREDIT_PERCENT;
		snprintf(p->tz, sizeof(p->tz), "%s", l->c->sla_tz);
		if (v[P_COMMIT] < 0)
			errk(l, d, vgl__tok_pos(d, obj), pk, "missing required key 'commitment' "
			     "(or a \"base\" preset to start from)");
		if (v[P_BANDS] < 0)
			errk(l, d, vgl__tok_pos(d, obj), pk, "missing required key 'bands' "
			     "(or a \"base\" preset to start from)");
	}
	if (v[P_KIND] >= 0 && (r = get_choice(l, d, v[P_KIND], KP(P_KIND), kinds,
					      "\"availability\", \"block_errors\" or "
					      "\"cycle_errors\"")) >= 0)
		p->kind = (enum vgl_sla_kind)r;
	if (v[P_UNIT] >= 0 && (r = get_choice(l, d, v[P_UNIT], KP(P_UNIT), units,
					      "\"percent\" or \"days\"")) >= 0)
		p->unit = r ? VGL_CREDIT_DAYS : VGL_CREDIT_PERCENT;
	if (v[P_COMMIT] >= 0) {
		commit_known = 0;
		if (get_pct(l, d, v[P_COMMIT], KP(P_COMMIT), &p->commitment_e4) == 0) {
			if (p->commitment_e4 == 0)
				errk(l, d, vgl__tok_pos(d, v[P_COMMIT]), KP(P_COMMIT),
				     "must be above 0");
			else
				commit_known = 1;
		}
	}
	if (v[P_BANDS] >= 0)
		parse_bands(l, d, v[P_BANDS], KP(P_BANDS), commit_known, p);
	if (v[P_CAUSES] >= 0 &&
	    want_type(l, d, v[P_CAUSES], KP(P_CAUSES), VGL_J_ARRAY, "an array of causes") == 0) {
		int e = v[P_CAUSES] + 1;

		p->counted = 0;
		for (int i = 0; i < d->tok[v[P_CAUSES]].size; i++, e = d->tok[e].next) {
			struct kp ck = { KP(P_CAUSES), NULL, 0, i };
			char *s;
			int ci;

			if (get_str(l, d, e, &ck, &s) != 0)
				continue;
			ci = vgl_cause_index(s);
			if (ci < 0)
				errk(l, d, vgl__tok_pos(d, e), &ck, "unknown cause '%s': expected one "
				     "of network, hardware, power, facility, maintenance, customer, "
				     "force_majeure, unknown", s);
			else if (p->counted & (1u << ci))
				errk(l, d, vgl__tok_pos(d, e), &ck, "cause '%s' listed twice", s);
			else
				p->counted |= 1u << ci;
			free(s);
		}
	}
	if (v[P_NOTICE_PLANNED] >= 0 &&
	    get_int(l, d, v[P_NOTICE_PLANNED], KP(P_NOTICE_PLANNED), 0, 8760, &x) == 0)
		p->notice_ms[VGL_MAINT_PLANNED] = (int64_t)x * 3600 * 1000;
	if (v[P_NOTICE_EMERGENCY] >= 0 &&
	    get_int(l, d, v[P_NOTICE_EMERGENCY], KP(P_NOTICE_EMERGENCY), 0, 10080, &x) == 0)
		p->notice_ms[VGL_MAINT_EMERGENCY] = (int64_t)x * 60 * 1000;
	/* 44640 min = 31 days: a cap above a month would never bind. */
	if (v[P_CAP] >= 0 && get_int(l, d, v[P_CAP], KP(P_CAP), 0, 44640, &x) == 0)
		p->maint_cap_ms = (int64_t)x * 60 * 1000;
	if (v[P_TZ] >= 0)
		get_tz(l, d, v[P_TZ], KP(P_TZ), p->tz, sizeof(p->tz));
	snprintf(p->name, sizeof(p->name), "%s", name);
	/* What is left for the core's own check is what spans keys: a base's
	 * bands against a new commitment, a base's credits against a new
	 * unit. Reported at the key that changed. */
	if (l->n_errs == before && vgl_sla_policy_check(p, msg, sizeof(msg)) != 0) {
		int at = v[P_COMMIT] >= 0 ? v[P_COMMIT] : obj;
		errk(l, d, vgl__tok_pos(d, at), v[P_COMMIT] >= 0 ? KP(P_COMMIT) : pk,
		     "the policy is inconsistent: %s%s", msg,
		     v[P_BASE] >= 0 && v[P_BANDS] < 0 ? " (give \"bands\" to replace the base's)" :
		     "");
	}
	if (l->n_errs == before && p->unit == VGL_CREDIT_PERCENT)
		for (size_t i = 0; i < p->n_bands; i++)
			if (p->bands[i].credit > 100) {
				errk(l, d, vgl__tok_pos(d, v[P_UNIT] >= 0 ? v[P_UNIT] : obj),
				     v[P_UNIT] >= 0 ? KP(P_UNIT) : pk,
				     "bands[%zu].credit %lld is above 100 percent", i,
				     (long long)p->bands[i].credit);
				break;
			}
	return;
out_name:
	snprintf(p->name, sizeof(p->name), "%s", name);
#undef KP
}

static int valid_policy_name(const char *s)
{
	size_t n = strlen(s);

	if (!n || n >= sizeof(((struct vgl_sla_policy *)0)->name))
		return 0;
	for (; *s; s++)
		if (!(isalnum((unsigned char)*s) || *s == '.' || *s == '_' || *s == '-'))
			return 0;
	return 1;
}

/* "policies" of the main file. A policy with errors is still entered under
 * its name (the load fails anyway), so hosts naming it are not also told
 * that it does not exist. */
static void load_policies(struct ld *l, const struct vgl__doc *d, int obj)
{
	struct kp root = { NULL, "policies", -1, 0 };
	struct vgl_conf *c = l->c;
	int k = obj + 1;

	if (want_type(l, d, obj, &root, VGL_J_OBJECT, "an object") != 0)
		return;
	c->policies = calloc((size_t)d->tok[obj].size + 1, sizeof(*c->policies));
	if (!c->policies) {
		oom(l);
		return;
	}
	for (int i = 0; i < d->tok[obj].size; i++) {
		int v = k + 1;
		struct kp pk = { &root, d->text + d->tok[k].start, d->tok[k].end - d->tok[k].start,
				 0 };
		char *name = vgl__tok_str(d, k);

		k = d->tok[v].next;
		if (!name) {
			oom(l);
			return;
		}
		if (!valid_policy_name(name)) {
			errk(l, d, vgl__tok_pos(d, v - 1), &pk,
			     "policy name must be 1-63 of [A-Za-z0-9._-]");
		} else if (earlier_key(d, obj, v - 1) >= 0) {
			errk(l, d, vgl__tok_pos(d, v - 1), &pk, "duplicate key");
		} else if (find_preset(c, name)) {
			errk(l, d, vgl__tok_pos(d, v - 1), &pk,
			     "'%s' is a built-in preset: give the custom policy another name "
			     "(with \"base\": \"%s\" to start from the preset)", name, name);
		} else {
			parse_policy(l, d, v, &pk, name, &c->policies[c->n_policies++]);
		}
		free(name);
	}
}

static void load_sla(struct ld *l, const struct vgl__doc *d, int obj)
{
	static const char *const keys[] = { "tz", NULL };
	struct kp sk = { NULL, "sla", -1, 0 };
	int v[1];

	if (want_type(l, d, obj, &sk, VGL_J_OBJECT, "an object") != 0)
		return;
	obj_fields(l, d, obj, &sk, keys, v);
	if (v[0] >= 0)
		get_tz(l, d, v[0], &(struct kp){ &sk, "tz", -1, 0 }, l->c->sla_tz,
		       sizeof(l->c->sla_tz));
}

/* ---- hosts ------------------------------------------------------------------- */

enum { H_NAME, H_ADDRESS, H_SITE, H_SERVICE, H_CUSTOMER, H_TEMPLATE, H_SNMP, H_METRICS,
       H_AVAIL, H_START, H_END, H_COUNTERS, H_N };
static const char *const host_keys[] = {
	"name", "address", "site", "service", "customer", "template", "snmp", "metrics",
	"availability", "service_start", "service_end", "sla_counters", NULL,
};

static int valid_host_name(const char *s)
{
	if (!*s || strlen(s) > 128)
		return 0;
	for (; *s; s++)
		if (!(isalnum((unsigned char)*s) || *s == '.' || *s == '_' || *s == '-'))
			return 0;
	return 1;
}

static int valid_address(const char *s)
{
	if (!*s || strlen(s) > 253)
		return 0;
	for (; *s; s++)
		if (!(isalnum((unsigned char)*s) || *s == '.' || *s == '-' || *s == ':' ||
		      *s == '_' || *s == '%'))
			return 0;
	return 1;
}

/* Index of the host named name, or inserts idx under it and returns -1. */
static long host_name_seen(struct ld *l, const char *name, size_t idx)
{
	size_t j;

	if ((l->c->n_hosts + 1) * 2 > l->hcap) {
		size_t cap = l->hcap ? l->hcap * 2 : 1024;
		uint32_t *n = calloc(cap, sizeof(*n));
		if (!n)
			return -2;
		for (size_t i = 0; i < l->hcap; i++) {
			uint32_t h = l->hidx[i];
			const char *s;
			if (!h)
				continue;
			s = l->c->hosts[h - 1].name;
			j = hash_str(s, strlen(s)) & (cap - 1);
			while (n[j])
				j = (j + 1) & (cap - 1);
			n[j] = h;
		}
		free(l->hidx);
		l->hidx = n;
		l->hcap = cap;
	}
	j = hash_str(name, strlen(name)) & (l->hcap - 1);
	while (l->hidx[j]) {
		if (strcmp(l->c->hosts[l->hidx[j] - 1].name, name) == 0)
			return (long)l->hidx[j] - 1;
		j = (j + 1) & (l->hcap - 1);
	}
	l->hidx[j] = (uint32_t)idx + 1;
	return -1;
}

static int host_str(struct ld *l, const struct vgl__doc *d, int v, const struct kp *kp,
		    char **out, int interned)
{
	char *s;

	if (get_str(l, d, v, kp, &s) != 0)
		return -1;
	if (!*s) {
		errk(l, d, vgl__tok_pos(d, v), kp, "must not be empty");
		free(s);
		return -1;
	}
	if (!interned) {
		*out = s;
		return 0;
	}
	*out = pool_intern(l->c->strings, s);
	free(s);
	if (!*out) {
		oom(l);
		return -1;
	}
	return 0;
}

static int host_time(struct ld *l, const struct vgl__doc *d, int v, const struct kp *kp,
		     int64_t *out)
{
	char *s;
	int r;

	*out = 0;
	if (is_null(d, v))
		return 0;
	if (get_str(l, d, v, kp, &s) != 0)
		return -1;
	r = vgl_parse_iso(s, out);
	if (r != 0)
		errk(l, d, vgl__tok_pos(d, v), kp,
		     "expected an ISO-8601 time like \"2026-01-01T00:00:00.000Z\" or null, got \"%s\"",
		     s);
	free(s);
	return r;
}

/* Builds the profile of a host that overrides (or has no) template. */
static struct vgl_conf_profile *host_profile(struct ld *l, const struct vgl__doc *d, int obj,
					     const struct kp *hk, const int *v, struct tmpl *t,
					     const char *host_name, size_t errs_before)
{
	const struct vgl_conf_profile *base = t ? t->prof : NULL;
	struct vgl_conf_profile *p = profile_new();
	struct kp sk = { hk, "snmp", -1, 0 };

	if (!p || (t && !(p->template_name = strdup(t->name))))
		goto out_of_memory;
	if (base) {
		if (snmp_copy(&p->snmp, &base->snmp) != 0)
			goto out_of_memory;
		p->has_snmp = base->has_snmp;
		if (base->n_metrics) {
			p->metrics = calloc(base->n_metrics, sizeof(*p->metrics));
			if (!p->metrics)
				goto out_of_memory;
			for (size_t i = 0; i < base->n_metrics; i++, p->n_metrics++)
				if (metric_copy(&p->metrics[i], &base->metrics[i]) != 0)
					goto out_of_memory;
		}
	}
	if (v[H_SNMP] >= 0) {
		apply_snmp(l, d, v[H_SNMP], &sk, &p->snmp);
		p->has_snmp = 1;
	}
	if (v[H_METRICS] >= 0)
		apply_metrics(l, d, v[H_METRICS], &(struct kp){ hk, "metrics", -1, 0 },
			      &p->metrics, &p->n_metrics);
	if (v[H_AVAIL] >= 0) {
		compile_conds(l, d, v[H_AVAIL], &(struct kp){ hk, "availability", -1, 0 },
			      p->metrics, p->n_metrics, &p->conds, &p->n_conds, NULL);
	} else if (base && base->n_conds) {
		/* The template's conditions, their expressions parsed again
		 * against this host's metrics. */
		struct kp root = { NULL, "templates", -1, 0 };
		struct kp tk = { &root, t->name, -1, 0 };
		struct kp ak = { &tk, "availability", -1, 0 };
		char suffix[200];

		snprintf(suffix, sizeof(suffix), " (with the metrics of host '%s')", host_name);
		p->conds = calloc(base->n_conds, sizeof(*p->conds));
		if (!p->conds)
			goto out_of_memory;
		for (size_t i = 0; i < base->n_conds; i++, p->n_conds++) {
			const struct vgl_conf_cond *b = &base->conds[i];
			struct vgl_conf_cond *c = &p->conds[i];
			struct kp ik = { &ak, NULL, 0, (long)i };
			struct kp wk = { &ik, "when", -1, 0 };

			*c = *b;
			c->expr = NULL;
			c->name = c->cause = c->expr_text = NULL;
			if (dup_opt(&c->name, b->name) || dup_opt(&c->cause, b->cause) ||
			    dup_opt(&c->expr_text, b->expr_text))
				goto out_of_memory;
			/* A template expression that failed on its own was
			 * reported already. */
			if (b->kind == VGL_COND_EXPR && b->expr)
				parse_expr(l, t->d, t->when_tok[i], &wk, p->metrics, p->n_metrics,
					   c->expr_text, suffix, &c->expr);
		}
	}
	if (v[H_COUNTERS] >= 0) {
		if (parse_counters(l, d, v[H_COUNTERS], &(struct kp){ hk, "sla_counters", -1, 0 },
				   p->metrics, p->n_metrics, "host", &p->counters) == 0)
			p->has_counters = 1;
	} else if (base && base->has_counters) {
		/* Host metrics only add to or replace the template's by name,
		 * so the names are still there; their indexes may not be. */
		int r = counters_rebind(&p->counters, &base->counters, p->metrics, p->n_metrics);
		if (r == -1)
			goto out_of_memory;
		if (r == 0)
			p->has_counters = 1;
		else
			errk(l, d, vgl__tok_pos(d, obj), hk, "the template's sla_counters name "
			     "metrics this host does not have");
	}
	/* A host with errors already (a metric that did not resolve, a
	 * missing name) is not also told it has nothing to poll. */
	if (!p->has_snmp && l->n_errs == errs_before) {
		errk(l, d, vgl__tok_pos(d, obj), hk, "host has nothing to poll: give it a "
		     "\"template\" or an \"snmp\" object");
	} else if (!p->has_snmp) {
	} else if (v[H_SNMP] >= 0) {
		check_snmp(l, &p->snmp, d, v[H_SNMP], &sk);
	} else if (t && t->snmp >= 0) {
		struct kp root = { NULL, "templates", -1, 0 };
		struct kp tk = { &root, t->name, -1, 0 };
		check_snmp(l, &p->snmp, t->d, t->snmp, &(struct kp){ &tk, "snmp", -1, 0 });
	}
	if (p->has_snmp && p->n_metrics == 0 && l->n_errs == errs_before)
		errk(l, d, vgl__tok_pos(d, obj), hk, "host has no metrics to poll");
	return p;
out_of_memory:
	oom(l);
	profile_free(p);
	return NULL;
}

static void load_host(struct ld *l, struct vgl__doc *d, int obj, const struct kp *hk)
{
	struct vgl_conf *c = l->c;
	struct vgl_conf_host *h;
	int v[H_N], line, col;
	struct tmpl *t = NULL;
	char *tname = NULL;
	long seen;
	size_t before = l->n_errs;
#define KP(i) (&(struct kp){ hk, host_keys[i], -1, 0 })

	if (want_type(l, d, obj, hk, VGL_J_OBJECT, "an object") != 0)
		return;
	if (c->n_hosts == l->cap_hosts) {
		size_t cap = l->cap_hosts ? l->cap_hosts * 2 : 64;
		struct vgl_conf_host *n = realloc(c->hosts, cap * sizeof(*n));
		if (!n) {
			oom(l);
			return;
		}
		c->hosts = n;
		l->cap_hosts = cap;
	}
	h = &c->hosts[c->n_hosts];
	memset(h, 0, sizeof(*h));
	obj_fields(l, d, obj, hk, host_keys, v);
	vgl__doc_linecol(d, vgl__tok_pos(d, obj), &line, &col);
	h->line = line;
	if (!(h->file = pool_intern(c->strings, d->path))) {
		oom(l);
		return;
	}

	if (v[H_NAME] < 0) {
		errk(l, d, vgl__tok_pos(d, obj), hk, "missing required key 'name'");
	} else if (host_str(l, d, v[H_NAME], KP(H_NAME), &h->name, 0) == 0 &&
		   !valid_host_name(h->name)) {
		errk(l, d, vgl__tok_pos(d, v[H_NAME]), KP(H_NAME),
		     "host name must be 1-128 of [A-Za-z0-9._-]");
	}
	if (v[H_ADDRESS] < 0) {
		errk(l, d, vgl__tok_pos(d, obj), hk, "missing required key 'address'");
	} else if (host_str(l, d, v[H_ADDRESS], KP(H_ADDRESS), &h->address, 0) == 0 &&
		   !valid_address(h->address)) {
		errk(l, d, vgl__tok_pos(d, v[H_ADDRESS]), KP(H_ADDRESS),
		     "expected an IPv4/IPv6 address or a DNS name");
	}
	if (v[H_SITE] >= 0)
		host_str(l, d, v[H_SITE], KP(H_SITE), &h->site, 1);
	if (v[H_CUSTOMER] >= 0)
		host_str(l, d, v[H_CUSTOMER], KP(H_CUSTOMER), &h->customer, 1);
	if (v[H_SERVICE] >= 0 && host_str(l, d, v[H_SERVICE], KP(H_SERVICE), &h->service, 1) == 0) {
		h->policy = vgl_conf_policy(c, h->service);
		if (!h->policy) {
			char list[128];
			preset_list(c, list, sizeof(list));
			errk(l, d, vgl__tok_pos(d, v[H_SERVICE]), KP(H_SERVICE),
			     "unknown service '%s': expected a preset (%s) or a policy "
			     "defined under \"policies\"", h->service, list);
		}
	}
	if (v[H_START] >= 0)
		host_time(l, d, v[H_START], KP(H_START), &h->service_start_ms);
	if (v[H_END] >= 0 && host_time(l, d, v[H_END], KP(H_END), &h->service_end_ms) == 0 &&
	    h->service_start_ms && h->service_end_ms && h->service_end_ms <= h->service_start_ms)
		errk(l, d, vgl__tok_pos(d, v[H_END]), KP(H_END),
		     "service_end must be after service_start");
	if (v[H_TEMPLATE] >= 0 && get_str(l, d, v[H_TEMPLATE], KP(H_TEMPLATE), &tname) == 0) {
		t = find_template(l, tname);
		if (!t)
			errk(l, d, vgl__tok_pos(d, v[H_TEMPLATE]), KP(H_TEMPLATE),
			     "unknown template '%s'", tname);
		free(tname);
		if (!t)
			goto out;
	} else if (v[H_TEMPLATE] >= 0) {
		goto out;
	}

	if (t && v[H_SNMP] < 0 && v[H_METRICS] < 0 && v[H_AVAIL] < 0 && v[H_COUNTERS] < 0) {
		if (!t->prof)
			goto out;
		check_template_direct(l, t);
		if (!t->in_conf) {
			if (conf_add_profile(l, t->prof) != 0) {
				oom(l);
				goto out;
			}
			t->in_conf = 1;
		}
		t->prof->refs++;
		h->profile = t->prof;
	} else if (!t || t->prof) {
		struct vgl_conf_profile *p = host_profile(l, d, obj, hk, v, t,
							  h->name ? h->name : "?", before);
		if (!p)
			goto out;
		if (conf_add_profile(l, p) != 0) {
			profile_free(p);
			oom(l);
			goto out;
		}
		p->refs = 1;
		h->profile = p;
	}
	if (h->profile && h->profile->snmp.source_address && h->address &&
	    strchr(h->address, ':')) {
		struct in_addr a;
		/* an IPv4 source cannot reach an IPv6 agent (0.0.0.0 binds nothing) */
		if (inet_pton(AF_INET, h->profile->snmp.source_address, &a) == 1 &&
		    a.s_addr != htonl(INADDR_ANY))
			errk(l, d, vgl__tok_pos(d, v[H_ADDRESS]), KP(H_ADDRESS),
			     "IPv6 address '%s' cannot be polled from snmp.source_address "
			     "\"%s\" (IPv4)", h->address, h->profile->snmp.source_address);
	}
out:
	if (h->name && valid_host_name(h->name)) {
		seen = host_name_seen(l, h->name, c->n_hosts);
		if (seen == -2) {
			oom(l);
		} else if (seen >= 0) {
			errk(l, d, vgl__tok_pos(d, v[H_NAME]), KP(H_NAME),
			     "duplicate host name '%s' (first declared at %s:%d)", h->name,
			     c->hosts[seen].file, c->hosts[seen].line);
			free(h->name);
			free(h->address);
			return;
		}
	}
	if (!h->name) {
		/* Not indexable; the load fails anyway, but the record must
		 * still be freed with the rest. */
		if (!(h->name = strdup(""))) {
			free(h->address);
			oom(l);
			return;
		}
	}
	c->n_hosts++;
#undef KP
}

static void load_hosts(struct ld *l, struct vgl__doc *d, int arr)
{
	struct kp root = { NULL, "hosts", -1, 0 };
	int e = arr + 1;

	for (int i = 0; i < d->tok[arr].size; i++, e = d->tok[e].next) {
		struct kp hk = { &root, NULL, 0, i };
		load_host(l, d, e, &hk);
	}
}

/* ---- files ------------------------------------------------------------------ */

static int add_hsrc(struct ld *l, struct vgl__doc *d, int arr)
{
	struct kp root = { NULL, "hosts", -1, 0 };
	struct host_src *n;

	if (want_type(l, d, arr, &root, VGL_J_ARRAY, "an array") != 0)
		return -1;
	n = realloc(l->hsrc, (l->n_hsrc + 1) * sizeof(*n));
	if (!n) {
		oom(l);
		return -1;
	}
	l->hsrc = n;
	l->hsrc[l->n_hsrc++] = (struct host_src){ d, arr };
	return 0;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void load_include_dir(struct ld *l, const struct vgl__doc *md, int v)
{
	static const char *const keys[] = { "hosts", "templates", NULL };
	struct kp ik = { NULL, "include", -1, 0 };
	char *rel, *dir = NULL, **names = NULL;
	size_t n = 0, cap = 0;
	DIR *dp;
	struct dirent *de;

	if (get_str(l, md, v, &ik, &rel) != 0)
		return;
	if (!(dir = join_path(l->main_dir, rel))) {
		oom(l);
		goto free_rel;
	}
	dp = opendir(dir);
	if (!dp) {
		errk(l, md, vgl__tok_pos(md, v), &ik, "include directory '%s': %s", dir,
		     strerror(errno));
		goto free_dir;
	}
	while ((de = readdir(dp))) {
		size_t len = strlen(de->d_name);
		if (de->d_name[0] == '.' || len < 6 || strcmp(de->d_name + len - 5, ".json") != 0)
			continue;
		if (n == cap) {
			size_t nc = cap ? cap * 2 : 16;
			char **nn = realloc(names, nc * sizeof(*nn));
			if (!nn) {
				oom(l);
				goto close_dir;
			}
			names = nn;
			cap = nc;
		}
		if (!(names[n] = join_path(dir, de->d_name))) {
			oom(l);
			goto close_dir;
		}
		n++;
	}
	/* Name order, so hosts keep a stable order across reloads. */
	if (n)
		qsort(names, n, sizeof(*names), name_cmp);
	for (size_t i = 0; i < n; i++) {
		struct vgl__doc *d;
		int f[2];

		if (vgl__doc_load(names[i], &l->e, &d) != 0) {
			l->n_errs++;
			continue;
		}
		if (add_doc(l, d) != 0)
			continue;
		obj_fields(l, d, 0, NULL, keys, f);
		if (f[1] >= 0)
			collect_templates(l, d, f[1]);
		if (f[0] >= 0)
			add_hsrc(l, d, f[0]);
	}
close_dir:
	closedir(dp);
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
free_dir:
	free(dir);
free_rel:
	free(rel);
}

enum { M_STORAGE, M_SNMP, M_MIBS, M_INCLUDE, M_TEMPLATES, M_HOSTS, M_SLA, M_POLICIES, M_N };
static const char *const main_keys[] = {
	"storage", "snmp", "mibs", "include", "templates", "hosts", "sla", "policies", NULL,
};


/* Caught by -t rather than at the first write: a database must be a regular
 * file, or not exist yet (SQLite creates it, with its -wal and -shm beside
 * it) under a path whose parent, if it exists, is a directory. 1 (error
 * reported) or 0. */
static int db_path_bad(struct ld *l, const struct vgl__doc *d, int v, const struct kp *kp,
		       const char *path)
{
	struct stat st;
	char *dir;
	int bad = 0;

	if (stat(path, &st) == 0) {
		if (S_ISREG(st.st_mode))
			return 0;
		errk(l, d, vgl__tok_pos(d, v), kp, "'%s' %s", path,
		     S_ISDIR(st.st_mode) ? "is a directory, not a database file"
		     : S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) ? "is a device, not a database file"
								   : "is not a regular file");
		return 1;
	}
	if (errno != ENOENT) {
		errk(l, d, vgl__tok_pos(d, v), kp, "'%s': %s", path, strerror(errno));
		return 1;
	}
	if (!(dir = dir_of(path))) {
		oom(l);
		return 1;
	}
	/* A directory still to be made (systemd's StateDirectory=) is fine. */
	if (stat(dir, &st) == 0 && !S_ISDIR(st.st_mode)) {
		errk(l, d, vgl__tok_pos(d, v), kp, "'%s': '%s' is not a directory", path, dir);
		bad = 1;
	}
	free(dir);
	return bad;
}

static void load_storage(struct ld *l, const struct vgl__doc *d, int obj)
{
	static const char *const keys[] = { "path", "batch_ms", "heartbeat_s", NULL };
	struct kp sk = { NULL, "storage", -1, 0 };
	int v[3];
	long x;
	char *s;

	if (want_type(l, d, obj, &sk, VGL_J_OBJECT, "an object") != 0)
		return;
	obj_fields(l, d, obj, &sk, keys, v);
	if (v[0] >= 0 && get_str(l, d, v[0], &(struct kp){ &sk, "path", -1, 0 }, &s) == 0) {
		if (!*s) {
			errk(l, d, vgl__tok_pos(d, v[0]), &(struct kp){ &sk, "path", -1, 0 },
			     "must not be empty");
		} else {
			char *p = join_path(l->main_dir, s);
			if (!p)
				oom(l);
			else if (!db_path_bad(l, d, v[0], &(struct kp){ &sk, "path", -1, 0 }, p))
				set_str(&l->c->db_path, p);
			else
				free(p);
		}
		free(s);
	}
	if (v[1] >= 0 && get_int(l, d, v[1], &(struct kp){ &sk, "batch_ms", -1, 0 }, 10, 60000,
				 &x) == 0)
		l->c->batch_ms = (uint32_t)x;
	if (v[2] >= 0 && get_int(l, d, v[2], &(struct kp){ &sk, "heartbeat_s", -1, 0 }, 1, 3600,
				 &x) == 0)
		l->c->heartbeat_ms = (uint32_t)x * 1000;
}


/* net-snmp opens every file of a MIB directory with a blocking fopen, so
 * a FIFO there (or a device: "dirs": ["/dev"]) would hang the load, and a
 * reload's worker with it. Only regular files and subdirectories may be
 * there. 1 (error reported) or 0. */
static int mib_dir_bad(struct ld *l, const struct vgl__doc *d, int e, const struct kp *ek,
		       const char *dir)
{
	DIR *dp = opendir(dir);
	struct dirent *de;
	int bad = 0;

	if (!dp) {
		errk(l, d, vgl__tok_pos(d, e), ek, "MIB directory '%s': %s", dir, strerror(errno));
		return 1;
	}
	while (!bad && (de = readdir(dp))) {
		struct stat st;

		if (de->d_name[0] == '.')
			continue;
		if (fstatat(dirfd(dp), de->d_name, &st, 0) != 0)
			continue;       /* a dangling link: net-snmp cannot open it either */
		if (S_ISREG(st.st_mode) || S_ISDIR(st.st_mode))
			continue;
		errk(l, d, vgl__tok_pos(d, e), ek,
		     "MIB directory '%s' holds '%s', %s: reading it would block; keep only MIB "
		     "files there", dir, de->d_name,
		     S_ISFIFO(st.st_mode) ? "a FIFO"
		     : S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) ? "a device" : "not a regular file");
		bad = 1;
	}
	closedir(dp);
	return bad;
}

static void load_mibs(struct ld *l, const struct vgl__doc *d, int obj)
{
	static const char *const keys[] = { "dirs", "modules", NULL };
	struct kp mk = { NULL, "mibs", -1, 0 };
	struct kp dk = { &mk, "dirs", -1, 0 }, ok = { &mk, "modules", -1, 0 };
	char **dirs = NULL;
	size_t n_dirs = 0;
	int v[2] = { -1, -1 };

	if (obj >= 0 && want_type(l, d, obj, &mk, VGL_J_OBJECT, "an object") == 0)
		obj_fields(l, d, obj, &mk, keys, v);
	if (v[0] >= 0 && want_type(l, d, v[0], &dk, VGL_J_ARRAY, "an array of strings") == 0) {
		int e = v[0] + 1;
		dirs = calloc((size_t)d->tok[v[0]].size + 1, sizeof(*dirs));
		if (!dirs) {
			oom(l);
			return;
		}
		for (int i = 0; i < d->tok[v[0]].size; i++, e = d->tok[e].next) {
			struct kp ek = { &dk, NULL, 0, i };
			char *s, *p;
			struct stat st;
			if (get_str(l, d, e, &ek, &s) != 0)
				continue;
			p = join_path(l->main_dir, s);
			free(s);
			if (!p) {
				oom(l);
				continue;
			}
			if (stat(p, &st) != 0 || !S_ISDIR(st.st_mode)) {
				errk(l, d, vgl__tok_pos(d, e), &ek, "MIB directory '%s': %s", p,
				     stat(p, &st) != 0 ? strerror(errno) : "not a directory");
				free(p);
				continue;
			}
			if (mib_dir_bad(l, d, e, &ek, p)) {
				free(p);
				continue;
			}
			dirs[n_dirs++] = p;
		}
	}
	if (vgl__mib_use_dirs((const char *const *)dirs, n_dirs) != 0)
		vgl__err_add(&l->e, "%s: net-snmp's MIB parser could not be initialised",
			     l->c->path);
	for (size_t i = 0; i < n_dirs; i++)
		free(dirs[i]);
	free(dirs);
	if (v[1] >= 0 && want_type(l, d, v[1], &ok, VGL_J_ARRAY, "an array of strings") == 0) {
		int e = v[1] + 1;
		for (int i = 0; i < d->tok[v[1]].size; i++, e = d->tok[e].next) {
			struct kp ek = { &ok, NULL, 0, i };
			char *s;
			if (get_str(l, d, e, &ek, &s) != 0)
				continue;
			if (vgl__mib_load_module(s) != 0)
				errk(l, d, vgl__tok_pos(d, e), &ek, "MIB module '%s' not found", s);
			free(s);
		}
	}
}

static void ld_free(struct ld *l)
{
	for (size_t i = 0; i < l->n_tmpls; i++) {
		if (!l->tmpls[i].in_conf)
			profile_free(l->tmpls[i].prof);
		free(l->tmpls[i].name);
		free(l->tmpls[i].when_tok);
	}
	free(l->tmpls);
	for (size_t i = 0; i < l->n_docs; i++)
		vgl__doc_free(l->docs[i]);
	free(l->docs);
	free(l->hsrc);
	free(l->hidx);
	free(l->main_dir);
}

int vgl_conf_load(const char *path, struct vgl_conf **out, struct vgl_conf_errors *errs)
{
	struct ld l = { 0 };
	struct vgl_conf *c;
	struct vgl__doc *md;
	int v[M_N];

	*out = NULL;
	errs->msgs = NULL;
	errs->n = 0;
	l.e.out = errs;
	c = l.c = calloc(1, sizeof(*c));
	if (!c || !(c->path = strdup(path)) || !(c->strings = calloc(1, sizeof(*c->strings))) ||
	    !(l.main_dir = dir_of(path)) || !(c->db_path = join_path(l.main_dir, "vigil.db"))) {
		oom(&l);
		goto finish;
	}
	c->batch_ms = 1000;
	c->heartbeat_ms = 10000;
	c->max_in_flight = 10000;
	snprintf(c->sla_tz, sizeof(c->sla_tz), "UTC");

	if (vgl__doc_load(path, &l.e, &md) != 0) {
		l.n_errs++;
		goto finish;
	}
	if (add_doc(&l, md) != 0)
		goto finish;
	obj_fields(&l, md, 0, NULL, main_keys, v);
	if (v[M_STORAGE] >= 0)
		load_storage(&l, md, v[M_STORAGE]);
	if (v[M_SNMP] >= 0) {
		static const char *const keys[] = { "max_in_flight", NULL };
		struct kp sk = { NULL, "snmp", -1, 0 };
		int f[1];
		long x;
		if (want_type(&l, md, v[M_SNMP], &sk, VGL_J_OBJECT, "an object") == 0) {
			obj_fields(&l, md, v[M_SNMP], &sk, keys, f);
			if (f[0] >= 0 && get_int(&l, md, f[0], &(struct kp){ &sk, "max_in_flight",
						 -1, 0 }, 1, 1000000, &x) == 0)
				c->max_in_flight = (uint32_t)x;
		}
	}
	/* Zone, presets and policies before any host names its service. */
	if (v[M_SLA] >= 0)
		load_sla(&l, md, v[M_SLA]);
	if (make_presets(c) != 0) {
		oom(&l);
		goto finish;
	}
	if (v[M_POLICIES] >= 0)
		load_policies(&l, md, v[M_POLICIES]);
	load_mibs(&l, md, v[M_MIBS]);
	if (v[M_TEMPLATES] >= 0)
		collect_templates(&l, md, v[M_TEMPLATES]);
	if (v[M_HOSTS] >= 0)
		add_hsrc(&l, md, v[M_HOSTS]);
	if (v[M_INCLUDE] >= 0)
		load_include_dir(&l, md, v[M_INCLUDE]);

	if (l.n_tmpls)
		qsort(l.tmpls, l.n_tmpls, sizeof(*l.tmpls), tmpl_cmp);
	for (size_t i = 0; i < l.n_tmpls; i++) {
		struct tmpl *t = &l.tmpls[i];
		if (i > 0 && strcmp(t[-1].name, t->name) == 0) {
			const struct tmpl *first = find_template(&l, t->name);
			int line, col;
			struct kp root = { NULL, "templates", -1, 0 };
			vgl__doc_linecol(first->d, vgl__tok_pos(first->d, first->name_tok), &line, &col);
			errk(&l, t->d, vgl__tok_pos(t->d, t->name_tok),
			     &(struct kp){ &root, t->name, -1, 0 },
			     "duplicate template name (first defined at %s:%d:%d)", first->d->path,
			     line, col);
			continue;
		}
		compile_template(&l, t);
	}
	for (size_t i = 0; i < l.n_hsrc; i++)
		load_hosts(&l, l.hsrc[i].d, l.hsrc[i].arr);
	if (l.n_errs == 0 && c->n_hosts == 0)
		vgl__err_add(&l.e, "%s: no hosts configured", path);

finish:
	l.e.closing = 1;
	if (l.e.dropped)
		vgl__err_add(&l.e, "%s: %zu more errors not shown", path, l.e.dropped);
	if (l.e.oom)
		vgl__err_add(&l.e, "%s: out of memory while loading", path);
	ld_free(&l);
	if (errs->n > 0 || l.n_errs > 0 || l.e.oom) {
		if (errs->n == 0)
			vgl__err_add(&l.e, "%s: failed to load", path);
		vgl_conf_free(c);
		return -1;
	}
	*out = c;
	return 0;
}

void vgl_conf_free(struct vgl_conf *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n_hosts; i++) {
		free(c->hosts[i].name);
		free(c->hosts[i].address);
	}
	free(c->hosts);
	for (size_t i = 0; i < c->n_profiles; i++)
		profile_free(c->profiles[i]);
	free(c->profiles);
	free(c->policies);
	free(c->presets);
	pool_free(c->strings);
	for (size_t i = 0; i < c->n_warnings; i++)
		free(c->warnings[i]);
	free(c->warnings);
	free(c->db_path);
	free(c->path);
	free(c);
}

void vgl_conf_errors_free(struct vgl_conf_errors *errs)
{
	if (!errs)
		return;
	for (size_t i = 0; i < errs->n; i++)
		free(errs->msgs[i]);
	free(errs->msgs);
	errs->msgs = NULL;
	errs->n = 0;
}

const struct vgl_conf_host *vgl_conf_find_host(const struct vgl_conf *c, const char *name)
{
	for (size_t i = 0; c && name && i < c->n_hosts; i++)
		if (strcmp(c->hosts[i].name, name) == 0)
			return &c->hosts[i];
	return NULL;
}
