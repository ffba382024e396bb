/* The SNMP back end's part of the config (conf/backend.h): the settings of
 * an SNMP source, an OID metric, and the top-level "snmp" and "mibs" keys.
 * The only config header that knows net-snmp's types. */
#ifndef VGL_SNMP_CONF_H
#define VGL_SNMP_CONF_H

#include <stddef.h>
#include <stdint.h>

#include <net-snmp/net-snmp-config.h>
#include <net-snmp/types.h>

#include "conf/backend.h"
#include "conf/conf.h"

enum vgl_snmp_version { VGL_SNMP_V2C = 2, VGL_SNMP_V3 = 3 };

/* Who encodes, sends and tracks the requests: vigil's own v2c engine
 * (the v2c default), or net-snmp's session API (always for v3; for v2c
 * on request, as a fallback). See docs/snmp.md. */
enum vgl_snmp_engine { VGL_SNMP_ENGINE_DEFAULT = 0, VGL_SNMP_ENGINE_VIGIL,
		       VGL_SNMP_ENGINE_NETSNMP };

/* A source of type "snmp" (vgl_conf_source.spec); its interval and
 * timeout are the source's. */
struct vgl_snmp_source {
	enum vgl_snmp_version version;
	uint16_t port;                  /* default 161 */
	uint32_t retries;               /* default 1 */
	uint32_t max_oids_per_pdu;      /* default 20; requests are split above it */
	enum vgl_snmp_engine engine;    /* from "engine"; DEFAULT when not given */
	char *community;                /* v2c */
	char *user;                     /* v3 securityName */
	char *auth_protocol;            /* "SHA" (v3 authPriv) */
	char *auth_key;
	char *priv_protocol;            /* "AES" */
	char *priv_key;
	/* From "source_address": the IPv4 address (as written, validated)
	 * the SNMP sockets of hosts with this source are bound to; NULL =
	 * unbound (0.0.0.0, the kernel's choice per destination). */
	char *source_address;
};

/* A metric of an SNMP source (vgl_conf_metric.spec): its OID, resolved. */
struct vgl_snmp_metric {
	oid oid[MAX_OID_LEN];
	size_t oid_len;
};

/* The top-level "snmp" key. */
struct vgl_snmp_globals {
	uint32_t max_in_flight;         /* requests outstanding at once, default 10000 */
};

extern const struct vgl_conf_backend vgl_snmp_conf_backend;

static inline const struct vgl_snmp_source *vgl_snmp_source_of(const struct vgl_conf_source *s)
{
	return s->spec;
}

static inline const struct vgl_snmp_metric *vgl_snmp_metric_of(const struct vgl_conf_metric *m)
{
	return m->spec;
}

/* max_in_flight of c ("snmp": {"max_in_flight"}), or the default. */
uint32_t vgl_snmp_max_in_flight(const struct vgl_conf *c);

#endif
