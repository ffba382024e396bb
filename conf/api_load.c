/* The top-level "api" of the main config file (docs/api.md): where vigild's
 * HTTP server listens, who may use it, and with which certificate.
 *
 * The bearer tokens live in a secret file (the checks of secret files:
 * 0600, a trusted owner), never inline: a config is often readable by the
 * whole NOC, a token is an operator's signature. A TLS key is held to the
 * same rule. Both are read here, at load, so `vigild -t` catches a bad
 * file and a SIGHUP rereads them (new tokens take effect without a
 * restart; a new listen address or certificate needs one, docs/api.md). */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "conf/json.h"
#include "conf/ld.h"
#include "conf/parse.h"

#define API_DEFAULT_PORT 8765
#define API_MAX_TOKENS 256
/* A PEM certificate chain or key: far below this, and a bigger file is a
 * path mistake (a log, a database) rather than something to send. */
#define PEM_MAX (256 * 1024)

void vgl_conf_api_free(struct vgl_conf_api *a)
{
	if (!a)
		return;
	for (size_t i = 0; i < a->n_tokens; i++) {
		free(a->tokens[i].name);
		if (a->tokens[i].token) {
			/* Not left lying in freed heap for a later core dump. */
			memset(a->tokens[i].token, 0, strlen(a->tokens[i].token));
			free(a->tokens[i].token);
		}
	}
	free(a->tokens);
	free(a->tls_cert_pem);
	if (a->tls_key_pem) {
		memset(a->tls_key_pem, 0, strlen(a->tls_key_pem));
		free(a->tls_key_pem);
	}
	free(a->web_dir);
	free(a);
}

/* "127.0.0.1:8765", "[::1]:8765", "127.0.0.1" (the default port). */
static int parse_listen(const char *s, struct vgl_conf_api *a, char *why, size_t n)
{
	char host[64];
	const char *colon, *hs = s;
	size_t hl;
	unsigned char buf[16];
	long port = API_DEFAULT_PORT;

	if (*s == '[') {
		const char *close = strchr(s, ']');
		if (!close) {
			snprintf(why, n, "'%s': missing ']' after an IPv6 address", s);
			return -1;
		}
		hs = s + 1;
		hl = (size_t)(close - hs);
		colon = close[1] == ':' ? close + 1 : NULL;
		if (close[1] && !colon) {
			snprintf(why, n, "'%s': expected ':PORT' after ']'", s);
			return -1;
		}
	} else {
		colon = strrchr(s, ':');
		hl = colon ? (size_t)(colon - s) : strlen(s);
		if (colon && memchr(s, ':', hl)) {
			snprintf(why, n, "'%s': an IPv6 address goes in brackets: [ADDR]:PORT", s);
			return -1;
		}
	}
	if (hl == 0 || hl >= sizeof(host)) {
		snprintf(why, n, "'%s': expected ADDRESS:PORT", s);
		return -1;
	}
	memcpy(host, hs, hl);
	host[hl] = 0;
	if (inet_pton(AF_INET, host, buf) != 1 && inet_pton(AF_INET6, host, buf) != 1) {
		snprintf(why, n, "'%s': '%s' is not a numeric IP address (names are not resolved)", s,
			 host);
		return -1;
	}
	if (colon) {
		char *end;
		errno = 0;
		port = strtol(colon + 1, &end, 10);
		if (errno || end == colon + 1 || *end || port < 1 || port > 65535) {
			snprintf(why, n, "'%s': port must be 1-65535", s);
			return -1;
		}
	}
	snprintf(a->listen_host, sizeof(a->listen_host), "%s", host);
	a->port = (uint16_t)port;
	return 0;
}

static void load_tokens(struct ld *l, const struct vgl__doc *d, int v, const struct kp *kp,
			struct vgl_conf_api *a)
{
	static const char *const keys[] = { "tokens", NULL };
	static const char *const tkeys[] = { "name", "role", "token", NULL };
	char *rel, *path;
	struct vgl__doc *sd;
	struct stat st;
	int sv[1], e;

	if (vgl__get_str(l, d, v, kp, &rel) != 0)
		return;
	path = vgl__join_path(l->main_dir, rel);
	free(rel);
	if (!path) {
		vgl__oom(l);
		return;
	}
	/* stat first so a FIFO is named, not waited on; the checks are made
	 * again on the file as opened. */
	if (stat(path, &st) != 0) {
		vgl__errk(l, d, vgl__tok_pos(d, v), kp, "tokens file '%s': %s", path, strerror(errno));
		goto out;
	}
	if (vgl__secret_file_bad(l, d, v, kp, path, &st))
		goto out;
	if (vgl__doc_load_secret(path, &l->e, &sd) != 0) {
		l->n_errs++;
		goto out;
	}
	if (vgl__add_doc(l, sd) != 0 || vgl__secret_file_bad(l, d, v, kp, path, &sd->st))
		goto out;
	vgl__obj_fields(l, sd, 0, NULL, keys, sv);
	if (sv[0] < 0) {
		vgl__errk(l, sd, 0, NULL, "missing \"tokens\": [{\"name\", \"role\", \"token\"}, ...]");
		goto out;
	}
	struct kp tk = { NULL, "tokens", -1, 0 };
	if (vgl__want_type(l, sd, sv[0], &tk, VGL_J_ARRAY, "an array") != 0)
		goto out;
	if (sd->tok[sv[0]].size > API_MAX_TOKENS) {
		vgl__errk(l, sd, vgl__tok_pos(sd, sv[0]), &tk, "at most %d tokens", API_MAX_TOKENS);
		goto out;
	}
	if (!(a->tokens = calloc((size_t)sd->tok[sv[0]].size + 1, sizeof(*a->tokens)))) {
		vgl__oom(l);
		goto out;
	}
	e = sv[0] + 1;
	for (int i = 0; i < sd->tok[sv[0]].size; i++, e = sd->tok[e].next) {
		struct kp ik = { &tk, NULL, 0, i };
		struct vgl_api_token *t = &a->tokens[a->n_tokens];
		int f[3];
		char *role = NULL;

		if (vgl__want_type(l, sd, e, &ik, VGL_J_OBJECT, "an object") != 0)
			continue;
		vgl__obj_fields(l, sd, e, &ik, tkeys, f);
		for (int k = 0; k < 3; k++)
			if (f[k] < 0)
				vgl__errk(l, sd, vgl__tok_pos(sd, e), &ik, "missing \"%s\"", tkeys[k]);
		if (f[0] < 0 || f[1] < 0 || f[2] < 0)
			continue;
		if (vgl__get_str(l, sd, f[0], &(struct kp){ &ik, "name", -1, 0 }, &t->name) != 0 ||
		    vgl__get_str(l, sd, f[1], &(struct kp){ &ik, "role", -1, 0 }, &role) != 0 ||
		    vgl__get_str(l, sd, f[2], &(struct kp){ &ik, "token", -1, 0 }, &t->token) != 0)
			goto bad;
		if (!*t->name || strlen(t->name) > 64 || strpbrk(t->name, " \t\r\n:")) {
			vgl__errk(l, sd, vgl__tok_pos(sd, f[0]), &(struct kp){ &ik, "name", -1, 0 },
				  "1-64 characters without spaces or ':'");
			goto bad;
		}
		if (strcmp(role, "read") == 0) {
			t->role = VGL_API_READ;
		} else if (strcmp(role, "operator") == 0) {
			t->role = VGL_API_OPERATOR;
		} else {
			vgl__errk(l, sd, vgl__tok_pos(sd, f[1]), &(struct kp){ &ik, "role", -1, 0 },
				  "expected \"read\" or \"operator\"");
			goto bad;
		}
		/* A short token can be guessed over a few days of requests. */
		if (strlen(t->token) < 16 || strlen(t->token) > 512 ||
		    strpbrk(t->token, " \t\r\n")) {
			vgl__errk(l, sd, vgl__tok_pos(sd, f[2]), &(struct kp){ &ik, "token", -1, 0 },
				  "16-512 characters without spaces (its text is not shown)");
			goto bad;
		}
		for (size_t k = 0; k < a->n_tokens; k++)
			if (strcmp(a->tokens[k].token, t->token) == 0 ||
			    strcmp(a->tokens[k].name, t->name) == 0) {
				vgl__errk(l, sd, vgl__tok_pos(sd, e), &ik,
					  "same %s as tokens[%zu]",
					  strcmp(a->tokens[k].name, t->name) == 0 ? "name" : "token", k);
				goto bad;
			}
		free(role);
		a->n_tokens++;
		continue;
bad:
		free(role);
		free(t->name);
		if (t->token)
			memset(t->token, 0, strlen(t->token));
		free(t->token);
		t->name = t->token = NULL;
	}
out:
	free(path);
}

/* A PEM file's text, checked as a secret when it is a key. */
static char *read_pem(struct ld *l, const struct vgl__doc *d, int v, const struct kp *kp,
		      int secret)
{
	char *rel, *path, *buf = NULL;
	struct stat st;
	FILE *f = NULL;
	size_t got;

	if (vgl__get_str(l, d, v, kp, &rel) != 0)
		return NULL;
	path = vgl__join_path(l->main_dir, rel);
	free(rel);
	if (!path) {
		vgl__oom(l);
		return NULL;
	}
	if (stat(path, &st) != 0) {
		vgl__errk(l, d, vgl__tok_pos(d, v), kp, "'%s': %s", path, strerror(errno));
		goto out;
	}
	if (secret ? vgl__secret_file_bad(l, d, v, kp, path, &st) : !S_ISREG(st.st_mode)) {
		if (!secret)
			vgl__errk(l, d, vgl__tok_pos(d, v), kp, "'%s' is not a regular file", path);
		goto out;
	}
	if (st.st_size <= 0 || st.st_size > PEM_MAX) {
		vgl__errk(l, d, vgl__tok_pos(d, v), kp, "'%s': %s", path,
			  st.st_size <= 0 ? "empty" : "larger than 256 KiB: not a PEM file");
		goto out;
	}
	if (!(f = fopen(path, "rb"))) {
		vgl__errk(l, d, vgl__tok_pos(d, v), kp, "'%s': %s", path, strerror(errno));
		goto out;
	}
	if (!(buf = malloc((size_t)st.st_size + 1))) {
		vgl__oom(l);
		goto out;
	}
	got = fread(buf, 1, (size_t)st.st_size, f);
	buf[got] = 0;
	if (got != (size_t)st.st_size || !strstr(buf, "-----BEGIN ")) {
		vgl__errk(l, d, vgl__tok_pos(d, v), kp, "'%s': %s", path,
			  got != (size_t)st.st_size ? "short read" : "not a PEM file (no -----BEGIN)");
		memset(buf, 0, got);
		free(buf);
		buf = NULL;
	}
out:
	if (f)
		fclose(f);
	free(path);
	return buf;
}

void vgl__load_api(struct ld *l, const struct vgl__doc *d, int obj)
{
	static const char *const keys[] = { "listen", "tokens_file", "read_requires_token",
					    "tls_cert", "tls_key", "max_body", "max_clients",
					    "web_dir", NULL };
	enum { K_LISTEN, K_TOKENS, K_READREQ, K_CERT, K_KEY, K_BODY, K_CLIENTS, K_WEB, K_N };
	struct kp ak = { NULL, "api", -1, 0 };
	struct vgl_conf_api *a;
	struct vgl_cparse cp = { l, d, &ak, obj, 0 };
	int v[K_N];
	long x;
	char *s, why[200];

	if (vgl__want_type(l, d, obj, &ak, VGL_J_OBJECT, "an object") != 0)
		return;
	if (!(a = l->c->api = calloc(1, sizeof(*a)))) {
		vgl__oom(l);
		return;
	}
	snprintf(a->listen_host, sizeof(a->listen_host), "127.0.0.1");
	a->port = API_DEFAULT_PORT;
	a->max_body = 65536;
	a->max_clients = 256;
	vgl__obj_fields(l, d, obj, &ak, keys, v);
	if (v[K_LISTEN] >= 0 &&
	    vgl__get_str(l, d, v[K_LISTEN], &(struct kp){ &ak, "listen", -1, 0 }, &s) == 0) {
		if (parse_listen(s, a, why, sizeof(why)) != 0)
			vgl__errk(l, d, vgl__tok_pos(d, v[K_LISTEN]),
				  &(struct kp){ &ak, "listen", -1, 0 }, "%s", why);
		free(s);
	}
	if (v[K_TOKENS] >= 0)
		load_tokens(l, d, v[K_TOKENS], &(struct kp){ &ak, "tokens_file", -1, 0 }, a);
	if (v[K_READREQ] >= 0)
		vgl_cp_bool(&cp, v[K_READREQ], "read_requires_token", &a->read_requires_token);
	if (a->read_requires_token && v[K_TOKENS] < 0)
		vgl__errk(l, d, vgl__tok_pos(d, v[K_READREQ]),
			  &(struct kp){ &ak, "read_requires_token", -1, 0 },
			  "needs a tokens_file: no request could be read");
	if ((v[K_CERT] >= 0) != (v[K_KEY] >= 0))
		vgl__errk(l, d, vgl__tok_pos(d, v[K_CERT] >= 0 ? v[K_CERT] : v[K_KEY]),
			  &(struct kp){ &ak, v[K_CERT] >= 0 ? "tls_cert" : "tls_key", -1, 0 },
			  "tls_cert and tls_key go together");
	else if (v[K_CERT] >= 0) {
		a->tls_cert_pem = read_pem(l, d, v[K_CERT], &(struct kp){ &ak, "tls_cert", -1, 0 }, 0);
		a->tls_key_pem = read_pem(l, d, v[K_KEY], &(struct kp){ &ak, "tls_key", -1, 0 }, 1);
	}
	if (v[K_BODY] >= 0 && vgl__get_int(l, d, v[K_BODY], &(struct kp){ &ak, "max_body", -1, 0 },
					   1024, 16 * 1024 * 1024, &x) == 0)
		a->max_body = (uint32_t)x;
	if (v[K_CLIENTS] >= 0 &&
	    vgl__get_int(l, d, v[K_CLIENTS], &(struct kp){ &ak, "max_clients", -1, 0 }, 1, 10000,
			 &x) == 0)
		a->max_clients = (uint32_t)x;
	if (v[K_WEB] >= 0 &&
	    vgl__get_str(l, d, v[K_WEB], &(struct kp){ &ak, "web_dir", -1, 0 }, &s) == 0) {
		struct stat st;
		if (!(a->web_dir = vgl__join_path(l->main_dir, s)))
			vgl__oom(l);
		else if (stat(a->web_dir, &st) != 0 || !S_ISDIR(st.st_mode))
			vgl__errk(l, d, vgl__tok_pos(d, v[K_WEB]), &(struct kp){ &ak, "web_dir", -1, 0 },
				  "'%s' is not a directory", a->web_dir);
		free(s);
	}
}
