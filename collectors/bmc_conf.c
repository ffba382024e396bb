/* Sources of type "ipmi" and "redfish" and their metrics
 * (collectors/bmc_conf.h). The two share one spec and one metric
 * vocabulary: an expression reads "power" or "sensor_state:CPU Temp" the
 * same whichever protocol the BMC speaks. */
#include "collectors/bmc_conf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf/parse.h"
#include "core/bmc.h"

static char *dup_or_null(const char *s, int *bad)
{
	char *d;

	if (!s)
		return NULL;
	if (!(d = strdup(s)))
		*bad = 1;
	return d;
}

static void source_free(void *spec)
{
	struct vgl_bmc_source *s = spec;

	if (!s)
		return;
	free(s->address);
	free(s->username);
	free(s->password);
	free(s->ca_file);
	free(s);
}

static void *source_copy(const void *base, uint16_t port)
{
	const struct vgl_bmc_source *b = base;
	struct vgl_bmc_source *s = calloc(1, sizeof(*s));
	int bad = 0;

	if (!s)
		return NULL;
	if (!b) {
		s->port = port;
		s->cipher_suite = 3;
		s->privilege = VGL_BMC_PRIV_USER;
		s->auth = VGL_BMC_AUTH_SESSION;
		s->tls_verify = 1;
		return s;
	}
	*s = *b;
	s->address = dup_or_null(b->address, &bad);
	s->username = dup_or_null(b->username, &bad);
	s->password = dup_or_null(b->password, &bad);
	s->ca_file = dup_or_null(b->ca_file, &bad);
	if (bad) {
		source_free(s);
		return NULL;
	}
	return s;
}

static void *ipmi_source_new(const void *base)
{
	return source_copy(base, 623);
}

static void *redfish_source_new(const void *base)
{
	return source_copy(base, 443);
}

/* One key list for both types; each type refuses the other's keys. */
enum { K_ADDRESS, K_PORT, K_SECRETS, K_USERNAME, K_PASSWORD, K_CIPHER, K_PRIV, K_AUTH,
       K_TLS_VERIFY, K_CA_FILE, K_N };
static const char *const ipmi_keys[] = {
	"address", "port", "secrets", "username", "password", "cipher_suite", "privilege", NULL,
};
static const char *const redfish_keys[] = {
	"address", "port", "secrets", "username", "password", "auth", "tls_verify", "ca_file",
	NULL,
};

static void set_nonempty(struct vgl_cparse *cp, int tok, const char *key, char **dst)
{
	char *v;

	if (tok < 0 || vgl_cp_str(cp, tok, key, &v) != 0)
		return;
	if (!*v) {
		vgl_cp_error(cp, tok, key, "must not be empty");
		free(v);
		return;
	}
	free(*dst);
	*dst = v;
}

static void apply_common(struct vgl_cparse *cp, const int *v, struct vgl_bmc_source *s)
{
	long x;

	set_nonempty(cp, v[K_ADDRESS], "address", &s->address);
	if (v[K_PORT] >= 0 && vgl_cp_int(cp, v[K_PORT], "port", 1, 65535, &x) == 0)
		s->port = (uint16_t)x;
	if (v[K_USERNAME] >= 0 || v[K_PASSWORD] >= 0) {
		s->inline_secrets = 1;
		if (vgl_cp_file_mode(cp) & 044)
			vgl_cp_warn_once(cp, "holds BMC credentials inline (username, password) "
					 "and is readable by group or others (mode %04o): move "
					 "them to a secret file (\"secrets\", mode 0600) or chmod "
					 "600 this file", vgl_cp_file_mode(cp));
	}
	set_nonempty(cp, v[K_USERNAME], "username", &s->username);
	set_nonempty(cp, v[K_PASSWORD], "password", &s->password);
	if (v[K_SECRETS] >= 0) {
		static const char *const keys[] = { "username", "password", NULL };
		int inl[2] = { v[K_USERNAME], v[K_PASSWORD] };
		char *out[2];

		if (vgl_cp_secrets(cp, v[K_SECRETS], "secrets", keys, inl, NULL, out) == 0) {
			for (int i = 0; i < 2; i++) {
				char **dst = i == 0 ? &s->username : &s->password;
				if (!out[i])
					continue;
				free(*dst);
				*dst = out[i];
			}
		}
	}
}

/* The parser hands back_end keys in the order of the type's key list:
 * spread them over the shared enum. */
static void spread(const int *vals, const char *const *keys, int *v)
{
	static const char *const all[K_N] = {
		"address", "port", "secrets", "username", "password", "cipher_suite",
		"privilege", "auth", "tls_verify", "ca_file",
	};

	for (int i = 0; i < K_N; i++)
		v[i] = -1;
	for (int i = 0; keys[i]; i++)
		for (int k = 0; k < K_N; k++)
			if (strcmp(keys[i], all[k]) == 0)
				v[k] = vals[i];
}

static void ipmi_apply(struct vgl_cparse *cp, const int *vals, void *spec)
{
	struct vgl_bmc_source *s = spec;
	int v[K_N];
	long x;

	spread(vals, ipmi_keys, v);
	apply_common(cp, v, s);
	/* 17 suites in IPMI 2.0's table (0..14 standard, 15..17 added by
	 * errata); which ones a BMC offers is its business */
	if (v[K_CIPHER] >= 0 && vgl_cp_int(cp, v[K_CIPHER], "cipher_suite", 0, 17, &x) == 0)
		s->cipher_suite = (uint8_t)x;
	if (v[K_PRIV] >= 0) {
		char *p;
		if (vgl_cp_str(cp, v[K_PRIV], "privilege", &p) == 0) {
			if (strcmp(p, "user") == 0)
				s->privilege = VGL_BMC_PRIV_USER;
			else if (strcmp(p, "operator") == 0)
				s->privilege = VGL_BMC_PRIV_OPERATOR;
			else if (strcmp(p, "admin") == 0)
				s->privilege = VGL_BMC_PRIV_ADMIN;
			else
				vgl_cp_error(cp, v[K_PRIV], "privilege", "expected \"user\", "
					     "\"operator\" or \"admin\", got \"%s\"", p);
			free(p);
		}
	}
}

static void redfish_apply(struct vgl_cparse *cp, const int *vals, void *spec)
{
	struct vgl_bmc_source *s = spec;
	int v[K_N], b;

	spread(vals, redfish_keys, v);
	apply_common(cp, v, s);
	if (v[K_AUTH] >= 0) {
		char *a;
		if (vgl_cp_str(cp, v[K_AUTH], "auth", &a) == 0) {
			if (strcmp(a, "session") == 0)
				s->auth = VGL_BMC_AUTH_SESSION;
			else if (strcmp(a, "basic") == 0)
				s->auth = VGL_BMC_AUTH_BASIC;
			else
				vgl_cp_error(cp, v[K_AUTH], "auth",
					     "expected \"session\" or \"basic\", got \"%s\"", a);
			free(a);
		}
	}
	if (v[K_TLS_VERIFY] >= 0 && vgl_cp_bool(cp, v[K_TLS_VERIFY], "tls_verify", &b) == 0)
		s->tls_verify = b;
	if (v[K_CA_FILE] >= 0) {
		char *rel = NULL, *abs;
		set_nonempty(cp, v[K_CA_FILE], "ca_file", &rel);
		if (rel) {
			/* relative to the file that names it, as every path */
			if (!(abs = vgl_cp_path(cp, rel))) {
				vgl_cp_oom(cp);
			} else if (access(abs, R_OK) != 0) {
				vgl_cp_error(cp, v[K_CA_FILE], "ca_file", "cannot read %s: %s", abs,
					     strerror(errno));
				free(abs);
			} else {
				free(s->ca_file);
				s->ca_file = abs;
			}
			free(rel);
		}
	}
}

static void source_check(struct vgl_cparse *cp, const void *spec)
{
	const struct vgl_bmc_source *s = spec;

	if (!s->username || !s->password)
		vgl_cp_error(cp, -1, NULL, "a BMC source needs a username and a password: "
			     "\"secrets\": a file (mode 0600) holding {\"username\": ..., "
			     "\"password\": ...}");
}

static void redfish_check(struct vgl_cparse *cp, const void *spec)
{
	const struct vgl_bmc_source *s = spec;

	source_check(cp, spec);
	if (!s->tls_verify && s->ca_file)
		vgl_cp_error(cp, -1, NULL, "\"ca_file\" with \"tls_verify\": false: the CA "
			     "would never be used; drop one of them");
}

/* ---- metrics ------------------------------------------------------------ */

enum { M_READ, M_SENSOR };
static const char *const metric_keys[] = { "read", "sensor", NULL };

static const struct {
	const char *name;
	enum vgl_bmc_read read;
	int needs_sensor;
} reads[] = {
	{ "power", VGL_BMC_READ_POWER, 0 },
	{ "health", VGL_BMC_READ_HEALTH, 0 },
	{ "sensor", VGL_BMC_READ_SENSOR, 1 },
	{ "sensor_state", VGL_BMC_READ_SENSOR_STATE, 1 },
	{ "sel_entries", VGL_BMC_READ_SEL_ENTRIES, 0 },
};
#define READS_LIST "\"power\", \"health\", \"sensor:NAME\", \"sensor_state:NAME\", " \
	"\"sel_entries\""

static int state_enums(struct vgl_conf_metric *m)
{
	static const char *const labels[] = { "ok", "warning", "critical" };

	if (!(m->enums = calloc(3, sizeof(*m->enums))))
		return -1;
	m->n_enums = 3;
	for (int i = 0; i < 3; i++) {
		m->enums[i].value = i;
		if (!(m->enums[i].label = strdup(labels[i])))
			return -1;
	}
	return 0;
}

static int power_enums(struct vgl_conf_metric *m)
{
	if (!(m->enums = calloc(2, sizeof(*m->enums))))
		return -1;
	m->n_enums = 2;
	m->enums[0].value = 0;
	m->enums[1].value = 1;
	if (!(m->enums[0].label = strdup("off")) || !(m->enums[1].label = strdup("on")))
		return -1;
	return 0;
}

static int metric_parse(struct vgl_cparse *cp, const int *v, const void *src,
			struct vgl_conf_metric *m)
{
	struct vgl_bmc_metric *bm;
	char *read = NULL, *sensor = NULL, *colon;
	size_t i, n = sizeof(reads) / sizeof(reads[0]);
	int rc = -1;

	(void)src;
	if (v[M_READ] < 0) {
		vgl_cp_error(cp, -1, NULL, "missing required key 'read' (one of " READS_LIST ")");
		return -1;
	}
	if (vgl_cp_str(cp, v[M_READ], "read", &read) != 0)
		return -1;
	/* "sensor:CPU Temp" is the short form of {"read": "sensor", "sensor": ...} */
	if ((colon = strchr(read, ':'))) {
		*colon = 0;
		if (!colon[1]) {
			vgl_cp_error(cp, v[M_READ], "read", "no sensor name after \"%s:\"", read);
			goto out;
		}
		if (v[M_SENSOR] >= 0) {
			vgl_cp_error(cp, v[M_SENSOR], "sensor", "the sensor is named twice: in "
				     "\"read\" and in \"sensor\"");
			goto out;
		}
		if (!(sensor = strdup(colon + 1))) {
			vgl_cp_oom(cp);
			goto out;
		}
	} else if (v[M_SENSOR] >= 0) {
		if (vgl_cp_str(cp, v[M_SENSOR], "sensor", &sensor) != 0)
			goto out;
		if (!*sensor) {
			vgl_cp_error(cp, v[M_SENSOR], "sensor", "must not be empty");
			goto out;
		}
	}
	for (i = 0; i < n && strcmp(reads[i].name, read) != 0; i++)
		;
	if (i == n) {
		vgl_cp_error(cp, v[M_READ], "read", "expected one of " READS_LIST ", got \"%s\"",
			     read);
		goto out;
	}
	if (reads[i].needs_sensor && !sensor) {
		vgl_cp_error(cp, v[M_READ], "read", "\"%s\" needs a sensor name: \"%s:NAME\" or "
			     "\"sensor\": NAME", read, read);
		goto out;
	}
	if (!reads[i].needs_sensor && sensor) {
		vgl_cp_error(cp, v[M_SENSOR] >= 0 ? v[M_SENSOR] : v[M_READ], NULL,
			     "\"%s\" reads no sensor", read);
		goto out;
	}
	if (!(bm = calloc(1, sizeof(*bm)))) {
		vgl_cp_oom(cp);
		goto out;
	}
	bm->read = reads[i].read;
	bm->sensor = sensor;
	sensor = NULL;
	m->spec = bm;
	{
		size_t len = strlen(read) + (bm->sensor ? strlen(bm->sensor) + 1 : 0) + 1;
		if (!(m->text = malloc(len))) {
			vgl_cp_oom(cp);
			goto out;
		}
		snprintf(m->text, len, "%s%s%s", read, bm->sensor ? ":" : "",
			 bm->sensor ? bm->sensor : "");
	}
	if ((bm->read == VGL_BMC_READ_HEALTH || bm->read == VGL_BMC_READ_SENSOR_STATE) &&
	    state_enums(m) != 0) {
		vgl_cp_oom(cp);
		goto out;
	}
	if (bm->read == VGL_BMC_READ_POWER && power_enums(m) != 0) {
		vgl_cp_oom(cp);
		goto out;
	}
	rc = 0;
out:
	free(read);
	free(sensor);
	return rc;
}

static void metric_free(void *spec)
{
	struct vgl_bmc_metric *m = spec;

	if (!m)
		return;
	free(m->sensor);
	free(m);
}

static void *metric_copy(const void *spec)
{
	const struct vgl_bmc_metric *b = spec;
	struct vgl_bmc_metric *m = malloc(sizeof(*m));

	if (!m)
		return NULL;
	*m = *b;
	if (b->sensor && !(m->sensor = strdup(b->sensor))) {
		free(m);
		return NULL;
	}
	return m;
}

const struct vgl_conf_backend vgl_ipmi_conf_backend = {
	.type = "ipmi",
	.collector = "ipmi",
	.interval_ms = 60000,
	.timeout_ms = 5000,
	.max_timeout_ms = 60000,
	.needs_metrics = 0,     /* a poll reads power, health and the SEL whatever is named */
	.is_bmc = 1,
	.source_keys = ipmi_keys,
	.source_new = ipmi_source_new,
	.source_apply = ipmi_apply,
	.source_check = source_check,
	.source_free = source_free,
	.metric_keys = metric_keys,
	.metric_string_key = "read",
	.metric_parse = metric_parse,
	.metric_copy = metric_copy,
	.metric_free = metric_free,
};

const struct vgl_conf_backend vgl_redfish_conf_backend = {
	.type = "redfish",
	.collector = "redfish",
	.interval_ms = 60000,
	.timeout_ms = 10000,
	.max_timeout_ms = 120000,
	.needs_metrics = 0,
	.is_bmc = 1,
	.source_keys = redfish_keys,
	.source_new = redfish_source_new,
	.source_apply = redfish_apply,
	.source_check = redfish_check,
	.source_free = source_free,
	.metric_keys = metric_keys,
	.metric_string_key = "read",
	.metric_parse = metric_parse,
	.metric_copy = metric_copy,
	.metric_free = metric_free,
};
