/* The SNMP back end's config (collectors/snmp_conf.h): an SNMP source's
 * keys (version, community or v3 USM, port, retries, PDU size, engine,
 * source address, secret files), a metric's OID through the MIBs, and
 * the top-level "snmp" (max_in_flight) and "mibs" keys. Everything is
 * read through conf/parse.h, so errors carry the loader's FILE:LINE:COL
 * and key path. */
#include "collectors/snmp_conf.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "collectors/snmp_mib.h"
#include "conf/parse.h"

#define DEFAULT_MAX_IN_FLIGHT 10000

/* net-snmp derives v3 keys from passphrases and refuses shorter ones. */
#define MIN_V3_KEY 8

/* ---- the source -------------------------------------------------------- */

enum { S_VERSION, S_COMMUNITY, S_PORT, S_RETRIES, S_MAXOIDS, S_USER, S_AUTHPROTO, S_AUTHKEY,
       S_PRIVPROTO, S_PRIVKEY, S_SECRETS, S_ENGINE, S_SOURCE, S_N };
static const char *const source_keys[] = {
	"version", "community", "port", "retries", "max_oids_per_pdu", "user", "auth_protocol",
	"auth_key", "priv_protocol", "priv_key", "secrets", "engine", "source_address", NULL,
};

static void source_free(void *spec)
{
	struct vgl_snmp_source *s = spec;

	if (!s)
		return;
	free(s->community);
	free(s->user);
	free(s->auth_protocol);
	free(s->auth_key);
	free(s->priv_protocol);
	free(s->priv_key);
	free(s->source_address);
	free(s);
}

static int dup_opt(char **dst, const char *src)
{
	*dst = NULL;
	return src && !(*dst = strdup(src)) ? -1 : 0;
}

static void *source_new(const void *base)
{
	const struct vgl_snmp_source *b = base;
	struct vgl_snmp_source *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	if (!b) {
		s->version = VGL_SNMP_V2C;
		s->port = 161;
		s->retries = 1;
		s->max_oids_per_pdu = 20;
		return s;
	}
	*s = *b;
	if (dup_opt(&s->community, b->community) || dup_opt(&s->user, b->user) ||
	    dup_opt(&s->auth_protocol, b->auth_protocol) || dup_opt(&s->auth_key, b->auth_key) ||
	    dup_opt(&s->priv_protocol, b->priv_protocol) || dup_opt(&s->priv_key, b->priv_key) ||
	    dup_opt(&s->source_address, b->source_address)) {
		source_free(s);
		return NULL;
	}
	return s;
}

static void set_str(char **dst, char *v)
{
	free(*dst);
	*dst = v;
}

static void set_word(struct vgl_cparse *cp, char **dst, const char *word)
{
	char *d = strdup(word);

	if (!d)
		vgl_cp_oom(cp);
	else
		set_str(dst, d);
}

static int v3_key_check(const char *key, const char *value, char *msg, size_t n)
{
	(void)key;
	if (strlen(value) >= MIN_V3_KEY)
		return 0;
	snprintf(msg, n, "SNMPv3 keys must be at least %d characters", MIN_V3_KEY);
	return -1;
}

static int secret_check(const char *key, const char *value, char *msg, size_t n)
{
	if (strcmp(key, "community") == 0)
		return 0;
	return v3_key_check(key, value, msg, n);
}

static void v3_key(struct vgl_cparse *cp, int tok, const char *key, char **dst)
{
	char *s, msg[128];

	if (vgl_cp_str(cp, tok, key, &s) != 0)
		return;
	if (v3_key_check(key, s, msg, sizeof(msg)) != 0) {
		vgl_cp_error(cp, tok, key, "%s", msg);
		free(s);
		return;
	}
	set_str(dst, s);
}

/* A string key that must be one of two words; 0 = the first, 1 = the
 * second, -1 = absent or wrong (reported). */
static int choice(struct vgl_cparse *cp, int tok, const char *key, const char *a,
		  const char *b, const char *msg)
{
	char *str;
	int r = -1;

	if (tok < 0 || vgl_cp_str(cp, tok, key, &str) != 0)
		return -1;
	if (strcmp(str, a) == 0)
		r = 0;
	else if (b && strcmp(str, b) == 0)
		r = 1;
	else
		vgl_cp_error(cp, tok, key, "%s, got \"%s\"", msg, str);
	free(str);
	return r;
}

static void nonempty(struct vgl_cparse *cp, int tok, const char *key, char **dst)
{
	char *str;

	if (tok < 0 || vgl_cp_str(cp, tok, key, &str) != 0)
		return;
	if (!*str) {
		vgl_cp_error(cp, tok, key, "must not be empty");
		free(str);
		return;
	}
	set_str(dst, str);
}

static void source_apply(struct vgl_cparse *cp, const int *v, void *spec)
{
	struct vgl_snmp_source *s = spec;
	long x;
	char *str;
	int r;

	/* Secrets written inline in a file others can read are readable by
	 * them: not an error (the v2c community "public" is common), but said
	 * once per file at load. */
	if ((v[S_COMMUNITY] >= 0 || v[S_AUTHKEY] >= 0 || v[S_PRIVKEY] >= 0) &&
	    (vgl_cp_file_mode(cp) & 044))
		vgl_cp_warn_once(cp, "holds SNMP secrets inline (community, auth_key or priv_key) "
				 "and is readable by group or others (mode %04o): move them to a "
				 "secret file (\"secrets\", mode 0600) or chmod 600 this file",
				 vgl_cp_file_mode(cp));
#define K(i) source_keys[i]
	r = choice(cp, v[S_VERSION], K(S_VERSION), "2c", "3", "expected \"2c\" or \"3\"");
	if (r >= 0)
		s->version = r == 0 ? VGL_SNMP_V2C : VGL_SNMP_V3;
	nonempty(cp, v[S_COMMUNITY], K(S_COMMUNITY), &s->community);
	if (v[S_PORT] >= 0 && vgl_cp_int(cp, v[S_PORT], K(S_PORT), 1, 65535, &x) == 0)
		s->port = (uint16_t)x;
	if (v[S_RETRIES] >= 0 && vgl_cp_int(cp, v[S_RETRIES], K(S_RETRIES), 0, 10, &x) == 0)
		s->retries = (uint32_t)x;
	if (v[S_MAXOIDS] >= 0 && vgl_cp_int(cp, v[S_MAXOIDS], K(S_MAXOIDS), 1, 128, &x) == 0)
		s->max_oids_per_pdu = (uint32_t)x;
	nonempty(cp, v[S_USER], K(S_USER), &s->user);
	if (choice(cp, v[S_AUTHPROTO], K(S_AUTHPROTO), "SHA", NULL,
		   "expected \"SHA\" (the only one supported)") == 0)
		set_word(cp, &s->auth_protocol, "SHA");
	if (choice(cp, v[S_PRIVPROTO], K(S_PRIVPROTO), "AES", NULL,
		   "expected \"AES\" (the only one supported)") == 0)
		set_word(cp, &s->priv_protocol, "AES");
	if (v[S_AUTHKEY] >= 0)
		v3_key(cp, v[S_AUTHKEY], K(S_AUTHKEY), &s->auth_key);
	if (v[S_PRIVKEY] >= 0)
		v3_key(cp, v[S_PRIVKEY], K(S_PRIVKEY), &s->priv_key);
	if (v[S_SECRETS] >= 0) {
		static const char *const keys[] = { "community", "auth_key", "priv_key", NULL };
		int inl[3] = { v[S_COMMUNITY], v[S_AUTHKEY], v[S_PRIVKEY] };
		char *out[3];
		if (vgl_cp_secrets(cp, v[S_SECRETS], K(S_SECRETS), keys, inl, secret_check, out) ==
		    0) {
			if (out[0])
				set_str(&s->community, out[0]);
			if (out[1])
				set_str(&s->auth_key, out[1]);
			if (out[2])
				set_str(&s->priv_key, out[2]);
		}
	}
	r = choice(cp, v[S_ENGINE], K(S_ENGINE), "vigil", "net-snmp",
		   "expected \"vigil\" or \"net-snmp\"");
	if (r >= 0)
		s->engine = r == 0 ? VGL_SNMP_ENGINE_VIGIL : VGL_SNMP_ENGINE_NETSNMP;
	if (v[S_SOURCE] >= 0 && vgl_cp_str(cp, v[S_SOURCE], K(S_SOURCE), &str) == 0) {
		struct in_addr a;
		/* IPv4 only: the address every socket of these hosts is bound
		 * to. Whether it is one of this machine's is only known when
		 * binding (the config may be checked elsewhere). */
		if (inet_pton(AF_INET, str, &a) != 1) {
			vgl_cp_error(cp, v[S_SOURCE], K(S_SOURCE),
				     "expected an IPv4 address such as \"10.0.0.5\", got \"%s\"", str);
			free(str);
		} else {
			set_str(&s->source_address, str);
		}
	}
#undef K
}

static void source_check(struct vgl_cparse *cp, const void *spec)
{
	const struct vgl_snmp_source *s = spec;

	if (s->version == VGL_SNMP_V2C) {
		if (!s->community)
			vgl_cp_error(cp, -1, NULL, "missing required key 'community' for SNMP "
				     "version 2c (inline or in a secrets file)");
		return;
	}
	if (s->engine == VGL_SNMP_ENGINE_VIGIL)
		vgl_cp_error(cp, -1, NULL, "engine \"vigil\" polls SNMP version 2c only; version "
			     "3 goes through \"net-snmp\"");
	if (!s->user)
		vgl_cp_error(cp, -1, NULL, "missing required key 'user' for SNMP version 3");
	if (!s->auth_protocol)
		vgl_cp_error(cp, -1, NULL, "missing required key 'auth_protocol' for SNMP "
			     "version 3 (authPriv needs \"SHA\")");
	if (!s->auth_key)
		vgl_cp_error(cp, -1, NULL, "missing required key 'auth_key' for SNMP version 3 "
			     "(inline or in a secrets file)");
	if (!s->priv_protocol)
		vgl_cp_error(cp, -1, NULL, "missing required key 'priv_protocol' for SNMP "
			     "version 3 (authPriv needs \"AES\")");
	if (!s->priv_key)
		vgl_cp_error(cp, -1, NULL, "missing required key 'priv_key' for SNMP version 3 "
			     "(inline or in a secrets file)");
}

static void host_check(struct vgl_cparse *cp, const void *spec, const char *address)
{
	const struct vgl_snmp_source *s = spec;
	struct in_addr a;

	/* an IPv4 source cannot reach an IPv6 agent (0.0.0.0 binds nothing) */
	if (s->source_address && strchr(address, ':') &&
	    inet_pton(AF_INET, s->source_address, &a) == 1 && a.s_addr != htonl(INADDR_ANY))
		vgl_cp_error(cp, -1, NULL, "IPv6 address '%s' cannot be polled from "
			     "snmp.source_address \"%s\" (IPv4)", address, s->source_address);
}

/* ---- metrics ------------------------------------------------------------ */

static const char *const metric_keys[] = { "oid", NULL };

static void metric_free(void *spec)
{
	free(spec);
}

static void *metric_copy(const void *spec)
{
	struct vgl_snmp_metric *m = malloc(sizeof(*m));

	if (m)
		*m = *(const struct vgl_snmp_metric *)spec;
	return m;
}

static int metric_parse(struct vgl_cparse *cp, const int *vals, const void *source_spec,
			struct vgl_conf_metric *m)
{
	struct vgl_snmp_metric *sm;
	char msg[256];

	(void)source_spec;
	if (vals[0] < 0) {
		vgl_cp_error(cp, -1, NULL, "missing required key 'oid'");
		return -1;
	}
	if (vgl_cp_str(cp, vals[0], "oid", &m->text) != 0)
		return -1;
	if (!(sm = calloc(1, sizeof(*sm)))) {
		vgl_cp_oom(cp);
		return -1;
	}
	m->spec = sm;
	if (vgl_snmp_mib_resolve(m->text, sm->oid, &sm->oid_len, &m->enums, &m->n_enums, msg,
				 sizeof(msg)) != 0) {
		vgl_cp_error(cp, vals[0], "oid", "%s", msg);
		return -1;
	}
	return 0;
}

/* ---- top-level keys: "snmp" and "mibs" ------------------------------------ */

/* net-snmp opens every file of a MIB directory with a blocking fopen, so
 * a FIFO there (or a device: "dirs": ["/dev"]) would hang the load, and a
 * reload's worker with it. Only regular files and subdirectories may be
 * there. 1 (error reported) or 0. */
static int mib_dir_bad(struct vgl_cparse *cp, int e, const char *key, const char *dir)
{
	DIR *dp = opendir(dir);
	struct dirent *de;
	int bad = 0;

	if (!dp) {
		vgl_cp_error(cp, e, key, "MIB directory '%s': %s", dir, strerror(errno));
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
		vgl_cp_error(cp, e, key, "MIB directory '%s' holds '%s', %s: reading it would "
			     "block; keep only MIB files there", dir, de->d_name,
			     S_ISFIFO(st.st_mode) ? "a FIFO"
			     : S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) ? "a device"
									 : "not a regular file");
		bad = 1;
	}
	closedir(dp);
	return bad;
}

static void load_mibs(struct vgl_cparse *cp, int obj)
{
	static const char *const keys[] = { "dirs", "modules", NULL };
	char **dirs = NULL, key[48];
	size_t n_dirs = 0;
	int v[2] = { -1, -1 };

	if (obj >= 0 && vgl_cp_object(cp, obj, "mibs") == 0)
		vgl_cp_fields(cp, obj, "mibs", keys, v);
	if (v[0] >= 0 && vgl_cp_array(cp, v[0], "mibs.dirs", "an array of strings") == 0) {
		int e = vgl_cp_first(cp, v[0]), n = vgl_cp_len(cp, v[0]);
		if (!(dirs = calloc((size_t)n + 1, sizeof(*dirs)))) {
			vgl_cp_oom(cp);
			return;
		}
		for (int i = 0; i < n; i++, e = vgl_cp_next(cp, e)) {
			char *s, *p;
			struct stat st;

			snprintf(key, sizeof(key), "mibs.dirs[%d]", i);
			if (vgl_cp_str(cp, e, key, &s) != 0)
				continue;
			p = vgl_cp_main_path(cp, s);
			free(s);
			if (!p) {
				vgl_cp_oom(cp);
				continue;
			}
			if (stat(p, &st) != 0 || !S_ISDIR(st.st_mode)) {
				vgl_cp_error(cp, e, key, "MIB directory '%s': %s", p,
					     stat(p, &st) != 0 ? strerror(errno) : "not a directory");
				free(p);
				continue;
			}
			if (mib_dir_bad(cp, e, key, p)) {
				free(p);
				continue;
			}
			dirs[n_dirs++] = p;
		}
	}
	if (vgl_snmp_mib_use_dirs((const char *const *)dirs, n_dirs) != 0)
		vgl_cp_error(cp, obj, obj >= 0 ? "mibs" : NULL,
			     "net-snmp's MIB parser could not be initialised");
	for (size_t i = 0; i < n_dirs; i++)
		free(dirs[i]);
	free(dirs);
	if (v[1] >= 0 && vgl_cp_array(cp, v[1], "mibs.modules", "an array of strings") == 0) {
		int e = vgl_cp_first(cp, v[1]), n = vgl_cp_len(cp, v[1]);
		for (int i = 0; i < n; i++, e = vgl_cp_next(cp, e)) {
			char *s;
			snprintf(key, sizeof(key), "mibs.modules[%d]", i);
			if (vgl_cp_str(cp, e, key, &s) != 0)
				continue;
			if (vgl_snmp_mib_load_module(s) != 0)
				vgl_cp_error(cp, e, key, "MIB module '%s' not found", s);
			free(s);
		}
	}
}

static const char *const global_keys[] = { "snmp", "mibs", NULL };

static void *global_parse(struct vgl_cparse *cp, const int *vals)
{
	struct vgl_snmp_globals *g = calloc(1, sizeof(*g));

	if (!g) {
		vgl_cp_oom(cp);
		return NULL;
	}
	g->max_in_flight = DEFAULT_MAX_IN_FLIGHT;
	if (vals[0] >= 0 && vgl_cp_object(cp, vals[0], "snmp") == 0) {
		static const char *const keys[] = { "max_in_flight", NULL };
		int f[1];
		long x;
		vgl_cp_fields(cp, vals[0], "snmp", keys, f);
		if (f[0] >= 0 && vgl_cp_int(cp, f[0], "snmp.max_in_flight", 1, 1000000, &x) == 0)
			g->max_in_flight = (uint32_t)x;
	}
	/* Always: the MIB parser is set up (the shipped directory first)
	 * even when the config names no MIBs. */
	load_mibs(cp, vals[1]);
	return g;
}

static void global_free(void *g)
{
	free(g);
}

const struct vgl_conf_backend vgl_snmp_conf_backend = {
	.type = "snmp",
	.collector = "snmp",
	.interval_ms = 60000,
	.timeout_ms = 1000,
	.max_timeout_ms = 60000,
	.needs_metrics = 1,
	.source_keys = source_keys,
	.source_new = source_new,
	.source_apply = source_apply,
	.source_check = source_check,
	.host_check = host_check,
	.source_free = source_free,
	.metric_keys = metric_keys,
	.metric_string_key = "oid",
	.metric_parse = metric_parse,
	.metric_copy = metric_copy,
	.metric_free = metric_free,
	.global_keys = global_keys,
	.global_parse = global_parse,
	.global_free = global_free,
};

uint32_t vgl_snmp_max_in_flight(const struct vgl_conf *c)
{
	const struct vgl_snmp_globals *g = vgl_conf_backend_global(c, &vgl_snmp_conf_backend);

	return g ? g->max_in_flight : DEFAULT_MAX_IN_FLIGHT;
}
