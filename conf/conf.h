/* The configuration, parsed and validated completely before use.
 *
 * vgl_conf_load() reads the main file (JSON with // and block comments),
 * its optional include directory of host files and referenced secret files,
 * and returns either a complete struct vgl_conf or a list of every error
 * found, each "FILE:LINE:COL: key.path: message". The keys of a source
 * ("snmp", "sources") and of a metric belong to its back end, which parses
 * them through conf/parse.h (conf/backend.h): nothing here knows a protocol.
 *
 * The struct is plain read-only data once loaded: the daemon, the collectors
 * and the CLI read it; only conf.c builds and frees it. Hosts that use a
 * template without overriding anything share one struct vgl_conf_profile,
 * so a site of 100,000 hosts costs one profile plus a small host record each.
 */
#ifndef VGL_CONF_H
#define VGL_CONF_H

#include <stddef.h>
#include <stdint.h>

#include "sla/sla.h"

struct vgl_expr;
struct vgl_conf_backend;        /* conf/backend.h: who parses and polls a source */
struct vgl_conf_rule;           /* rules/rule_conf.h: an alarm rule of a profile */
struct vgl_conf_alarm_spec;     /* rules/rule_conf.h: what an alarm says (severity, labels, summary) */
struct vgl_alarm_conf;          /* alarms/alarm_conf.h: "alarms", "channels", "escalation" */

#include "core/cause.h"

struct vgl_conf_enum {
	char *label;            /* "up" */
	long value;             /* 1 */
};

/* Where a host's values come from: one back end's settings (an SNMP agent,
 * an ICMP echo, a TCP port ...), polled on its own interval. A profile has
 * one or more; the legacy "snmp" key is the source named "snmp". */
struct vgl_conf_source {
	char *name;                     /* "snmp" for the "snmp" key, else its key under "sources" */
	const struct vgl_conf_backend *be;
	uint32_t interval_ms;           /* poll period, from "interval_s"; 1 s .. 1 day */
	uint32_t timeout_ms;            /* per attempt */
	void *spec;                     /* the back end's own settings; be->source_free frees */
	/* The profile's metrics this source delivers, ascending indexes into
	 * vgl_conf_profile.metrics: what a poll result of it carries. */
	uint32_t *metrics;
	size_t n_metrics;
};

struct vgl_conf_metric {
	char *name;             /* "ifOperStatus": what expressions call it */
	char *text;             /* the spec as written: "IF-MIB::ifOperStatus.1", "rtt_ms" */
	uint32_t source;        /* index into the profile's sources */
	void *spec;             /* the back end's (an OID, a register); be->metric_free frees */
	/* Enumerated states, from the MIB (INTEGER { up(1), down(2) }) or from
	 * the config's "enum" object; n_enums == 0 for plain numbers. */
	struct vgl_conf_enum *enums;
	size_t n_enums;
};

enum vgl_cond_kind {
	VGL_COND_UNREACHABLE,           /* K consecutive failed polls of one source */
	VGL_COND_EXPR,                  /* expression true for at least for_ms */
};

struct vgl_conf_cond {
	char *name;                     /* rule name recorded on intervals */
	char *cause;                    /* a cause name (core/cause.h) */
	enum vgl_cond_kind kind;
	uint32_t failures;              /* UNREACHABLE: K >= 1 */
	uint32_t source;                /* UNREACHABLE: the source counted (default the first) */
	char *expr_text;                /* EXPR: as written */
	struct vgl_expr *expr;          /* EXPR: parsed and type-checked */
	uint32_t for_ms;                /* EXPR: how long it must hold; 0 = at once */
	/* EXPR: bit s set when it reads a metric of source s (bit 0 when it
	 * reads none): the sources whose polls observe it. */
	uint64_t reads;
	/* "site_wide": while it holds on this host (a UPS, a cooling unit, a
	 * room sensor), every host behind it is Unavailable too, with this
	 * cause: hosts naming it in "depends_on", and hosts whose every feed
	 * runs through it (rules/topo.h). */
	int site_wide;
	/* "alarm": the host's availability alarm when this condition opens
	 * its interval; NULL: it raises none. */
	struct vgl_conf_alarm_spec *alarm;
};

/* A profile has at most this many sources (one bit each in reads). */
#define VGL_CONF_MAX_SOURCES 64

/* Two metrics of a profile that are request counters, fed to the error-rate
 * SLA kinds (vstorage, vcdn): "sla_counters" in a template or host. The
 * daemon queues (ts, raw total, raw failed) on every good poll. */
struct vgl_conf_counters {
	char *total_name;               /* metric names, as written */
	char *failed_name;
	uint32_t total;                 /* their indexes into the profile's metrics */
	uint32_t failed;
	int bits;                       /* 32 or 64: where the raw counters wrap */
};

/* Everything a host polls and judges, shared between hosts of one template. */
struct vgl_conf_profile {
	char *template_name;            /* NULL when the host defined it inline */
	struct vgl_conf_source *sources;        /* in declaration order: "snmp" first, then "sources" */
	size_t n_sources;
	struct vgl_conf_metric *metrics;
	size_t n_metrics;
	struct vgl_conf_cond *conds;
	size_t n_conds;
	struct vgl_conf_counters counters;
	int has_counters;
	/* "rules": alarm rules, in declaration order (rules/rule_conf.h). */
	struct vgl_conf_rule *rules;
	size_t n_rules;
	unsigned refs;                  /* hosts pointing at it (conf.c bookkeeping) */
};

/* A power feed of a host: a metric of another host (a PDU outlet, a UPS
 * output) that is nonzero while the feed is live. */
struct vgl_conf_feed {
	uint32_t host;                  /* the feeding device: index into vgl_conf.hosts */
	uint32_t metric;                /* index into that host's profile metrics */
	char *text;                     /* as written: "pdu-a1.outlet3" */
};

/* A host has at most this many feeds and depends_on entries. */
#define VGL_CONF_MAX_FEEDS 4
#define VGL_CONF_MAX_DEPENDS 8

struct vgl_conf_host {
	char *name;                     /* unique */
	char *address;                  /* IPv4/IPv6 literal or DNS name */
	char *site;
	char *service;                  /* names the SLA policy: a preset or a custom policy */
	const struct vgl_sla_policy *policy;    /* that policy (vgl_conf_policy); NULL
						 * when no service is given */
	char *customer;
	int64_t service_start_ms;       /* 0 = not set */
	int64_t service_end_ms;         /* 0 = not set */
	const struct vgl_conf_profile *profile;
	char *file;                     /* where it was declared, for messages */
	int line;
	/* Topology (rules/topo.h, docs/modbus.md), resolved and checked for
	 * cycles by the loader: what powers the host ("feeds", A+B), and the
	 * devices whose site-wide conditions it depends on ("depends_on": a
	 * cooling unit, a room sensor, a UPS). */
	struct vgl_conf_feed *feeds;
	uint32_t n_feeds;
	uint32_t *depends_on;           /* host indexes */
	uint32_t n_depends;
	/* "uplink": the switch port the host hangs off, "SWITCH.METRIC" (an
	 * ifOperStatus: 1 = up). Attribution (rules/attrib.h) reads it; not
	 * an edge of the cycle-checked graph. has_uplink 0: none. */
	struct vgl_conf_feed uplink;
	int has_uplink;
	/* The metrics of other devices the profile's rules read (feed.M,
	 * uplink.M: rules/rule_conf.h), resolved for this host: one per
	 * external reference of every rule, in rule order then reference
	 * order. */
	struct vgl_conf_feed *rule_refs;
	size_t n_rule_refs;
};

/* "api": vigild's HTTP API and dashboard (docs/api.md). */
enum vgl_api_role { VGL_API_READ = 1, VGL_API_OPERATOR = 2 };
struct vgl_api_token {
	char *name;                     /* who: recorded as the author of a write */
	char *token;                    /* the bearer secret */
	enum vgl_api_role role;
};
struct vgl_conf_api {
	char listen_host[64];           /* numeric address; default 127.0.0.1 */
	uint16_t port;                  /* default 8765 */
	int read_requires_token;        /* default 0: reads are open to who can connect */
	struct vgl_api_token *tokens;   /* from tokens_file (a secret file) */
	size_t n_tokens;
	char *tls_cert_pem, *tls_key_pem;  /* both or neither: HTTPS */
	uint32_t max_body;              /* bytes of a request body; default 65536 */
	uint32_t max_clients;           /* connections at once; default 256 */
	char *web_dir;                  /* dashboard files from here, not the binary's */
};

struct vgl_conf {
	char *path;                     /* main file as given */
	char *db_path;                  /* storage.path, resolved against the main file's dir */
	uint32_t batch_ms;              /* storage.batch_ms: write batching window, default 1000 */
	uint32_t heartbeat_ms;          /* storage.heartbeat_s, default 10 s */
	/* Per back end (indexed like vgl_conf_backend_at), its top-level
	 * settings ("snmp": {"max_in_flight"}, "mibs"); NULL when it has none.
	 * Owned; freed by the back end's global_free. */
	void **be_globals;
	size_t n_be_globals;
	struct vgl_conf_host *hosts;
	size_t n_hosts;
	struct vgl_conf_profile **profiles;  /* owned; hosts point into these */
	size_t n_profiles;
	/* SLA policies: the custom ones of "policies", each already validated
	 * and complete; and every preset with the config's default zone
	 * ("sla": {"tz"}, else UTC) applied. Look up with vgl_conf_policy. */
	struct vgl_sla_policy *policies;
	size_t n_policies;
	struct vgl_sla_policy *presets;
	/* "alarms", "channels", "escalation": never NULL once loaded (the
	 * defaults when none is given). */
	struct vgl_alarm_conf *alarm_conf;
	struct vgl_conf_api *api;       /* NULL: no "api" section, no HTTP server */
	size_t n_presets;
	char sla_tz[64];                /* default zone of the presets */
	/* Things a valid config should still not do (secrets inline in a file
	 * others can read), one complete line each; vigild logs them at start,
	 * reload and -t. */
	char **warnings;
	size_t n_warnings;
	/* conf.c: the host strings other than name and address (file, site,
	 * service, customer) are interned here and shared between hosts. */
	struct vgl__strpool *strings;
};

/* Error list returned when loading fails; each message is complete,
 * e.g. "site.json:12:7: hosts[3].snmp.port: expected an integer 1-65535". */
struct vgl_conf_errors {
	char **msgs;
	size_t n;
};

/* 0 and *out on success; -1 and errs filled on failure (errs must be freed
 * with vgl_conf_errors_free either way). Never prints. */
int vgl_conf_load(const char *path, struct vgl_conf **out, struct vgl_conf_errors *errs);
void vgl_conf_free(struct vgl_conf *c);
void vgl_conf_errors_free(struct vgl_conf_errors *errs);

/* The custom policy named name, else the preset of that name with the
 * config's default zone applied, else NULL. A custom policy never shares a
 * preset's name (the loader refuses that), so the answer is unambiguous.
 * Linear over a handful of policies: cheap enough per host. */
const struct vgl_sla_policy *vgl_conf_policy(const struct vgl_conf *c, const char *name);

/* The index of the profile's source named name, or -1. */
long vgl_conf_source_index(const struct vgl_conf_profile *p, const char *name);

/* Linear in the number of hosts is fine for the CLI; the daemon indexes. */
const struct vgl_conf_host *vgl_conf_find_host(const struct vgl_conf *c, const char *name);

#endif
