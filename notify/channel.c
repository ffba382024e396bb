/* The "channels" config (notify/channel.h). */
#include "notify/channel.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "conf/parse.h"

const char *vgl_channel_type_name(enum vgl_channel_type t)
{
	switch (t) {
	case VGL_CH_WEBHOOK:
		return "webhook";
	case VGL_CH_ALERTMANAGER:
		return "alertmanager";
	case VGL_CH_EXEC:
		return "exec";
	case VGL_CH_EMAIL:
		return "email";
	}
	return "?";
}

static void free_strv(char **v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		free(v[i]);
	free(v);
}

static void wipe_free(char *s)
{
	if (s) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

void vgl_channel_conf_clear(struct vgl_channel_conf *c)
{
	free(c->name);
	free(c->url);
	wipe_free(c->routing_key);
	wipe_free(c->bearer);
	free(c->ca_file);
	free_strv(c->argv, c->argc);
	free_strv(c->to, c->n_to);
	free(c->from);
	free(c->sendmail);
	memset(c, 0, sizeof(*c));
}

void vgl_channels_free(struct vgl_channel_conf *c, size_t n)
{
	for (size_t i = 0; c && i < n; i++)
		vgl_channel_conf_clear(&c[i]);
	free(c);
}

static int str_eq(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

static int strv_eq(char **a, size_t na, char **b, size_t nb)
{
	if (na != nb)
		return 0;
	for (size_t i = 0; i < na; i++)
		if (!str_eq(a[i], b[i]))
			return 0;
	return 1;
}

int vgl_channel_conf_equal(const struct vgl_channel_conf *a, const struct vgl_channel_conf *b)
{
	return str_eq(a->name, b->name) && a->type == b->type && str_eq(a->url, b->url) &&
	       a->format == b->format && str_eq(a->routing_key, b->routing_key) &&
	       str_eq(a->bearer, b->bearer) && str_eq(a->ca_file, b->ca_file) &&
	       a->insecure_tls == b->insecure_tls && strv_eq(a->argv, a->argc, b->argv, b->argc) &&
	       strv_eq(a->to, a->n_to, b->to, b->n_to) && str_eq(a->from, b->from) &&
	       str_eq(a->sendmail, b->sendmail) && a->timeout_ms == b->timeout_ms;
}

static char *dup_opt(const char *s, int *bad)
{
	char *d;

	if (!s)
		return NULL;
	if (!(d = strdup(s)))
		*bad = 1;
	return d;
}

/* n strings plus a NULL slot, so an argv can go to exec as it is. */
static char **dup_strv(char *const *v, size_t n, int *bad)
{
	char **d;

	if (!v)
		return NULL;
	if (!(d = calloc(n + 1, sizeof(*d)))) {
		*bad = 1;
		return NULL;
	}
	for (size_t i = 0; i < n; i++)
		d[i] = dup_opt(v[i], bad);
	return d;
}

int vgl_channel_conf_copy(struct vgl_channel_conf *dst, const struct vgl_channel_conf *src)
{
	int bad = 0;

	*dst = *src;
	dst->name = dup_opt(src->name, &bad);
	dst->url = dup_opt(src->url, &bad);
	dst->routing_key = dup_opt(src->routing_key, &bad);
	dst->bearer = dup_opt(src->bearer, &bad);
	dst->ca_file = dup_opt(src->ca_file, &bad);
	dst->argv = dup_strv(src->argv, src->argc, &bad);
	dst->to = dup_strv(src->to, src->n_to, &bad);
	dst->from = dup_opt(src->from, &bad);
	dst->sendmail = dup_opt(src->sendmail, &bad);
	if (bad) {
		/* the counts must match what was allocated for clear */
		if (!dst->argv)
			dst->argc = 0;
		if (!dst->to)
			dst->n_to = 0;
		vgl_channel_conf_clear(dst);
		return -1;
	}
	return 0;
}

/* ---- parsing ------------------------------------------------------------------ */

enum {
	K_TYPE, K_TIMEOUT, K_URL, K_FORMAT, K_RK, K_RKFILE, K_TOKENFILE, K_CA, K_INSECURE,
	K_COMMAND, K_TO, K_FROM, K_SENDMAIL, K_N
};
static const char *const all_keys[K_N] = {
	"type", "timeout_s", "url", "format", "routing_key", "routing_key_file", "token_file",
	"ca_file", "insecure_tls", "command", "to", "from", "sendmail",
};
static const char *const webhook_keys[] = {
	"type", "timeout_s", "url", "format", "routing_key", "routing_key_file", "token_file",
	"ca_file", "insecure_tls", NULL,
};
static const char *const am_keys[] = {
	"type", "timeout_s", "url", "token_file", "ca_file", "insecure_tls", NULL,
};
static const char *const exec_keys[] = { "type", "timeout_s", "command", NULL };
static const char *const email_keys[] = { "type", "timeout_s", "to", "from", "sendmail", NULL };

struct chp {
	struct vgl_cparse *cp;
	char base[32 + VGL_CH_NAME_MAX];        /* "channels.NAME" */
	char key[64 + VGL_CH_NAME_MAX];         /* "channels.NAME.KEY", rebuilt per use */
	int obj;
	int v[K_N];
	int bad;
};

static const char *kpath(struct chp *p, const char *k)
{
	snprintf(p->key, sizeof(p->key), "%s.%s", p->base, k);
	return p->key;
}

static void perr(struct chp *p, int tok, const char *k, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void perr(struct chp *p, int tok, const char *k, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	vgl_cp_error(p->cp, tok, k ? kpath(p, k) : p->base, "%s", msg);
	p->bad = 1;
}

static int has_ctl(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 1;
	return 0;
}

/* A non-empty string without control characters (they would end up in
 * headers and argv), or NULL after the error. */
static char *get_text(struct chp *p, int tok, const char *k)
{
	char *s;

	if (vgl_cp_str(p->cp, tok, kpath(p, k), &s) != 0) {
		p->bad = 1;
		return NULL;
	}
	if (!*s || has_ctl(s)) {
		perr(p, tok, k, "%s", *s ? "must not contain control characters"
					 : "must not be empty");
		free(s);
		return NULL;
	}
	return s;
}

static int check_url(struct chp *p, int tok, const char *url)
{
	size_t skip = strncasecmp(url, "http://", 7) == 0 ? 7
		      : strncasecmp(url, "https://", 8) == 0 ? 8 : 0;

	if (!skip) {
		perr(p, tok, "url", "expected an http:// or https:// URL, got \"%s\"", url);
		return -1;
	}
	if (!url[skip] || url[skip] == '/' || strchr(url, ' ')) {
		perr(p, tok, "url", "\"%s\" names no host (or holds a space)", url);
		return -1;
	}
	return 0;
}

static int nonempty_check(const char *key, const char *value, char *msg, size_t len)
{
	if (!*value || has_ctl(value)) {
		snprintf(msg, len, "%s must be a non-empty string without control characters", key);
		return -1;
	}
	return 0;
}

/* One string out of a secret file (an object holding key). */
static char *get_secret(struct chp *p, int tok, const char *k, const char *field)
{
	const char *keys[2] = { field, NULL };
	int inl[1] = { -1 };
	char *out[1] = { NULL };

	if (vgl_cp_secrets(p->cp, tok, kpath(p, k), keys, inl, nonempty_check, out) != 0) {
		p->bad = 1;
		return NULL;
	}
	if (!out[0])
		perr(p, tok, k, "secret file holds no \"%s\"", field);
	return out[0];
}

/* A non-empty array of non-empty strings, NULL-terminated. */
static char **get_strv(struct chp *p, int tok, const char *k, size_t *n_out)
{
	int len, e;
	char **v;

	if (vgl_cp_array(p->cp, tok, kpath(p, k), "an array of strings") != 0) {
		p->bad = 1;
		return NULL;
	}
	if ((len = vgl_cp_len(p->cp, tok)) == 0) {
		perr(p, tok, k, "must not be empty");
		return NULL;
	}
	if (!(v = calloc((size_t)len + 1, sizeof(*v)))) {
		vgl_cp_oom(p->cp);
		p->bad = 1;
		return NULL;
	}
	e = vgl_cp_first(p->cp, tok);
	for (int i = 0; i < len; i++, e = vgl_cp_next(p->cp, e)) {
		char sub[24];

		snprintf(sub, sizeof(sub), "%s[%d]", k, i);
		v[i] = get_text(p, e, sub);
	}
	if (p->bad) {
		free_strv(v, (size_t)len);
		return NULL;
	}
	*n_out = (size_t)len;
	return v;
}

static void parse_http(struct chp *p, struct vgl_channel_conf *c)
{
	const int *v = p->v;

	if (v[K_URL] < 0) {
		perr(p, p->obj, NULL, "missing \"url\"");
	} else if ((c->url = get_text(p, v[K_URL], "url")) && check_url(p, v[K_URL], c->url) == 0 &&
		   c->type == VGL_CH_ALERTMANAGER) {
		/* the API path is appended: one slash between */
		size_t n = strlen(c->url);
		while (n > 0 && c->url[n - 1] == '/')
			c->url[--n] = 0;
	}
	if (v[K_FORMAT] >= 0) {
		char *f = get_text(p, v[K_FORMAT], "format");

		if (f && strcmp(f, "vigil") == 0)
			c->format = VGL_WH_VIGIL;
		else if (f && strcmp(f, "pagerduty") == 0)
			c->format = VGL_WH_PAGERDUTY;
		else if (f)
			perr(p, v[K_FORMAT], "format", "expected \"vigil\" or \"pagerduty\", got "
			     "\"%s\"", f);
		free(f);
	}
	if (v[K_RK] >= 0 && v[K_RKFILE] >= 0) {
		perr(p, v[K_RK], "routing_key", "given both inline and as \"routing_key_file\"");
	} else if (v[K_RKFILE] >= 0) {
		c->routing_key = get_secret(p, v[K_RKFILE], "routing_key_file", "routing_key");
	} else if (v[K_RK] >= 0) {
		c->routing_key = get_text(p, v[K_RK], "routing_key");
		if (vgl_cp_file_mode(p->cp) & 044)
			vgl_cp_warn_once(p->cp, "holds a PagerDuty routing key inline (%s) and is "
					 "readable by group or others (mode %04o): move it to a "
					 "secret file (\"routing_key_file\", mode 0600) or chmod "
					 "600 this file", kpath(p, "routing_key"),
					 vgl_cp_file_mode(p->cp));
	}
	if (c->format == VGL_WH_PAGERDUTY && !c->routing_key && !p->bad)
		perr(p, p->obj, NULL, "format \"pagerduty\" needs \"routing_key_file\" (or "
		     "\"routing_key\")");
	if (c->format != VGL_WH_PAGERDUTY && (v[K_RK] >= 0 || v[K_RKFILE] >= 0))
		perr(p, v[K_RK] >= 0 ? v[K_RK] : v[K_RKFILE], v[K_RK] >= 0 ? "routing_key"
		     : "routing_key_file", "only for format \"pagerduty\"");
	if (v[K_TOKENFILE] >= 0)
		c->bearer = get_secret(p, v[K_TOKENFILE], "token_file", "token");
	if (v[K_CA] >= 0) {
		char *rel = get_text(p, v[K_CA], "ca_file");

		if (rel && !(c->ca_file = vgl_cp_path(p->cp, rel))) {
			vgl_cp_oom(p->cp);
			p->bad = 1;
		}
		free(rel);
	}
	if (v[K_INSECURE] >= 0 &&
	    vgl_cp_bool(p->cp, v[K_INSECURE], kpath(p, "insecure_tls"), &c->insecure_tls) != 0)
		p->bad = 1;
}

static void parse_exec(struct chp *p, struct vgl_channel_conf *c)
{
	if (p->v[K_COMMAND] < 0) {
		perr(p, p->obj, NULL, "missing \"command\"");
		return;
	}
	if (!(c->argv = get_strv(p, p->v[K_COMMAND], "command", &c->argc)))
		return;
	if (c->argv[0][0] != '/')
		perr(p, vgl_cp_first(p->cp, p->v[K_COMMAND]), "command[0]",
		     "must be an absolute path (no shell, no PATH search), got \"%s\"",
		     c->argv[0]);
}

static void parse_email(struct chp *p, struct vgl_channel_conf *c)
{
	const int *v = p->v;

	if (v[K_TO] < 0)
		perr(p, p->obj, NULL, "missing \"to\"");
	else if ((c->to = get_strv(p, v[K_TO], "to", &c->n_to)))
		for (size_t i = 0; i < c->n_to; i++)
			if (!strchr(c->to[i], '@') || strpbrk(c->to[i], ",;<>\" "))
				perr(p, v[K_TO], "to", "\"%s\" is not one plain address "
				     "(user@domain)", c->to[i]);
	if (v[K_FROM] >= 0)
		c->from = get_text(p, v[K_FROM], "from");
	if (v[K_SENDMAIL] >= 0) {
		if ((c->sendmail = get_text(p, v[K_SENDMAIL], "sendmail")) && c->sendmail[0] != '/')
			perr(p, v[K_SENDMAIL], "sendmail", "must be an absolute path, got \"%s\"",
			     c->sendmail);
	} else if (!(c->sendmail = strdup(VGL_CH_DEFAULT_SENDMAIL))) {
		vgl_cp_oom(p->cp);
		p->bad = 1;
	}
}

static int valid_name(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > VGL_CH_NAME_MAX)
		return 0;
	for (; *s; s++)
		if (!(('a' <= *s && *s <= 'z') || ('A' <= *s && *s <= 'Z') ||
		      ('0' <= *s && *s <= '9') || *s == '_' || *s == '-'))
			return 0;
	return 1;
}

/* The "type" value token of channel object obj, or -1. */
static int find_type(struct vgl_cparse *cp, int obj)
{
	int k = vgl_cp_first(cp, obj), len = vgl_cp_len(cp, obj);

	for (int i = 0; i < len; i++, k = vgl_cp_next(cp, k + 1)) {
		char *s;
		int is;

		if (vgl_cp_str(cp, k, NULL, &s) != 0)
			return -1;
		is = strcmp(s, "type") == 0;
		free(s);
		if (is)
			return k + 1;
	}
	return -1;
}

static void spread(const int *vals, const char *const *keys, int *v)
{
	for (int i = 0; i < K_N; i++)
		v[i] = -1;
	for (int i = 0; keys[i]; i++)
		for (int k = 0; k < K_N; k++)
			if (strcmp(keys[i], all_keys[k]) == 0)
				v[k] = vals[i];
}

/* One channel: 0, or -1 (reported). */
static int parse_one(struct vgl_cparse *cp, const char *name, int obj, struct vgl_channel_conf *c)
{
	struct chp p = { .cp = cp, .obj = obj };
	const char *const *keys = NULL;
	int vals[K_N], tt;
	char *type;
	long t = 0;

	snprintf(p.base, sizeof(p.base), "channels.%s", name);
	if (vgl_cp_object(cp, obj, p.base) != 0)
		return -1;
	if ((tt = find_type(cp, obj)) < 0) {
		vgl_cp_error(cp, obj, p.base, "missing \"type\" (\"webhook\", \"alertmanager\", "
			     "\"exec\" or \"email\")");
		return -1;
	}
	if (!(type = get_text(&p, tt, "type")))
		return -1;
	if (strcmp(type, "webhook") == 0) {
		c->type = VGL_CH_WEBHOOK;
		keys = webhook_keys;
	} else if (strcmp(type, "alertmanager") == 0) {
		c->type = VGL_CH_ALERTMANAGER;
		keys = am_keys;
	} else if (strcmp(type, "exec") == 0) {
		c->type = VGL_CH_EXEC;
		keys = exec_keys;
	} else if (strcmp(type, "email") == 0) {
		c->type = VGL_CH_EMAIL;
		keys = email_keys;
	} else {
		perr(&p, tt, "type", "expected \"webhook\", \"alertmanager\", \"exec\" or "
		     "\"email\", got \"%s\"", type);
	}
	free(type);
	if (!keys)
		return -1;
	if (!(c->name = strdup(name))) {
		vgl_cp_oom(cp);
		return -1;
	}
	c->timeout_ms = VGL_CH_DEFAULT_TIMEOUT_MS;
	vgl_cp_fields(cp, obj, p.base, keys, vals);
	/* vgl_cp_fields reports unknown and repeated keys without a status:
	 * fewer known keys than members means it did */
	for (int i = 0; keys[i]; i++)
		t += vals[i] >= 0;
	if (t != vgl_cp_len(cp, obj))
		p.bad = 1;
	spread(vals, keys, p.v);
	if (p.v[K_TIMEOUT] >= 0) {
		if (vgl_cp_int(cp, p.v[K_TIMEOUT], kpath(&p, "timeout_s"), 1, 300, &t) == 0)
			c->timeout_ms = (uint32_t)t * 1000u;
		else
			p.bad = 1;
	}
	switch (c->type) {
	case VGL_CH_WEBHOOK:
	case VGL_CH_ALERTMANAGER:
		parse_http(&p, c);
		break;
	case VGL_CH_EXEC:
		parse_exec(&p, c);
		break;
	case VGL_CH_EMAIL:
		parse_email(&p, c);
		break;
	}
	return p.bad ? -1 : 0;
}

int vgl_channels_parse(struct vgl_cparse *cp, int tok, struct vgl_channel_conf **out, size_t *n_out)
{
	struct vgl_channel_conf *c = NULL;
	size_t n = 0;
	int len, k, bad = 0;

	*out = NULL;
	*n_out = 0;
	if (vgl_cp_object(cp, tok, "channels") != 0)
		return -1;
	if ((len = vgl_cp_len(cp, tok)) == 0)
		return 0;
	if (!(c = calloc((size_t)len, sizeof(*c)))) {
		vgl_cp_oom(cp);
		return -1;
	}
	k = vgl_cp_first(cp, tok);
	for (int i = 0; i < len; i++, k = vgl_cp_next(cp, k + 1)) {
		char *name;
		int dup = 0;

		if (vgl_cp_str(cp, k, "channels", &name) != 0) {
			bad = 1;
			continue;
		}
		if (!valid_name(name)) {
			vgl_cp_error(cp, k, "channels", "channel name \"%s\" must be 1..%d of "
				     "[A-Za-z0-9_-]", name, VGL_CH_NAME_MAX);
			bad = 1;
			free(name);
			continue;
		}
		for (size_t j = 0; j < n; j++)
			dup |= strcmp(c[j].name, name) == 0;
		if (dup) {
			char p[32 + VGL_CH_NAME_MAX];
			snprintf(p, sizeof(p), "channels.%s", name);
			vgl_cp_error(cp, k, p, "duplicate channel name");
			bad = 1;
		} else if (parse_one(cp, name, k + 1, &c[n]) != 0) {
			vgl_channel_conf_clear(&c[n]);
			bad = 1;
		} else {
			n++;
		}
		free(name);
	}
	if (bad) {
		vgl_channels_free(c, n);
		return -1;
	}
	*out = c;
	*n_out = n;
	return 0;
}
