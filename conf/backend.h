/* What a back end gives the config loader: the keys of its sources and
 * metrics, parsed by the back end itself through conf/parse.h, so that a
 * new protocol adds a table here and touches neither conf/ nor the daemon.
 *
 * A source is {"type": TYPE, "interval_s", "timeout_ms", ...back-end keys}
 * under "sources" (the legacy "snmp" key is a source of type "snmp" named
 * "snmp"); the loader takes type, interval_s and timeout_ms itself and
 * hands the back end the value tokens of its own keys. A metric is a plain
 * string (the back end's metric_string_key, e.g. an OID) or an object
 * {"source", "enum", ...back-end keys}. A host merges its sources over its
 * template's by name, key by key: source_new(base) copies the template's
 * settings and source_apply lays the host's keys over them.
 *
 * The tables live in collectors/ (collectors/registry.c lists them); the
 * loader finds them by type. Everything here runs wherever the config is
 * loaded (vigild's reload worker, the CLI): no loop, no sockets.
 */
#ifndef VGL_CONF_BACKEND_H
#define VGL_CONF_BACKEND_H

#include <stddef.h>
#include <stdint.h>

#include "conf/conf.h"

struct vgl_cparse;

struct vgl_conf_backend {
	const char *type;               /* a source's "type": "snmp", "ping", "tcp" */
	const char *collector;          /* the collector that polls it (collectors/collector.h) */
	uint32_t interval_ms;           /* defaults of the common keys */
	uint32_t timeout_ms;
	uint32_t max_timeout_ms;        /* timeout_ms may be 10 .. this */
	/* A source of it polls nothing without metrics (SNMP); one that can
	 * (ping: its poll is the measurement) sets 0. */
	int needs_metrics;
	/* Its polls report a server's BMC (vgl_poll_result.bmc, core/bmc.h):
	 * attribution (rules/attrib.h) reads them, and a failed one means
	 * the BMC, not the host, stopped answering. */
	int is_bmc;

	/* Source keys beside type/interval_s/timeout_ms, NULL-terminated. */
	const char *const *source_keys;
	/* A new spec with the back end's defaults (base NULL), or a deep copy
	 * of base (a template's). NULL when out of memory. */
	void *(*source_new)(const void *base);
	/* Lays the keys found (vals[i]: the value token of source_keys[i], or
	 * -1) over spec; errors through cp. */
	void (*source_apply)(struct vgl_cparse *cp, const int *vals, void *spec);
	/* The spec is final: say what is missing (cp names the source object
	 * that was applied last). */
	void (*source_check)(struct vgl_cparse *cp, const void *spec);
	/* May be NULL. Whether a host at address can be polled with spec
	 * (cp names the host's address), for every host, shared profile or not. */
	void (*host_check)(struct vgl_cparse *cp, const void *spec, const char *address);
	void (*source_free)(void *spec);

	/* Metric keys beside "source" and "enum", NULL-terminated; a plain
	 * string metric means metric_string_key (NULL: this back end takes
	 * no string metrics). */
	const char *const *metric_keys;
	const char *metric_string_key;
	/* vals as for source_apply; source_spec is the source's settings as
	 * applied so far. Sets m->spec and m->text and may set m->enums (a
	 * MIB's states; the config's "enum" replaces them after). 0, or -1
	 * after reporting. */
	int (*metric_parse)(struct vgl_cparse *cp, const int *vals, const void *source_spec,
			    struct vgl_conf_metric *m);
	void *(*metric_copy)(const void *spec);
	void (*metric_free)(void *spec);

	/* Top-level keys this back end owns (NULL-terminated, may be NULL),
	 * e.g. "snmp" and "mibs". global_parse runs once per load, before any
	 * template or host, with vals[i] the token of global_keys[i] or -1,
	 * and returns the settings kept in vgl_conf.be_globals (or NULL with
	 * nothing to keep; errors through cp). */
	const char *const *global_keys;
	void *(*global_parse)(struct vgl_cparse *cp, const int *vals);
	void (*global_free)(void *g);
};

/* The tables compiled in (collectors/registry.c), in a fixed order. */
size_t vgl_conf_backend_count(void);
const struct vgl_conf_backend *vgl_conf_backend_at(size_t i);
/* NULL if no back end has that type. */
const struct vgl_conf_backend *vgl_conf_backend_find(const char *type);

/* The back end's global settings in c, or NULL. */
const void *vgl_conf_backend_global(const struct vgl_conf *c, const struct vgl_conf_backend *be);

#endif
