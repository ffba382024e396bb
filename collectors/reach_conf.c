/* Sources of type "ping" and "tcp" (collectors/reach_conf.h). The
 * reachability collector takes IP literals only (no resolver on its path),
 * so a host polled by one must have an IPv4 or IPv6 address. */
#include "collectors/reach_conf.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "conf/parse.h"

static void *source_new_kind(const void *base, enum vgl_reach_kind kind)
{
	struct vgl_reach_source *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	if (base) {
		*s = *(const struct vgl_reach_source *)base;
		return s;
	}
	s->kind = kind;
	s->count = kind == VGL_REACH_ICMP ? 3 : 0;
	return s;
}

static void *ping_new(const void *base)
{
	return source_new_kind(base, VGL_REACH_ICMP);
}

static void *tcp_new(const void *base)
{
	return source_new_kind(base, VGL_REACH_TCP);
}

static void source_free(void *spec)
{
	free(spec);
}

static const char *const ping_keys[] = { "count", "gap_ms", NULL };
static const char *const tcp_keys[] = { "port", NULL };

static void ping_apply(struct vgl_cparse *cp, const int *v, void *spec)
{
	struct vgl_reach_source *s = spec;
	long x;

	if (v[0] >= 0 && vgl_cp_int(cp, v[0], "count", 1, 64, &x) == 0)
		s->count = (uint16_t)x;
	if (v[1] >= 0 && vgl_cp_int(cp, v[1], "gap_ms", 0, 10000, &x) == 0)
		s->gap_ms = (uint32_t)x;
}

static void tcp_apply(struct vgl_cparse *cp, const int *v, void *spec)
{
	struct vgl_reach_source *s = spec;
	long x;

	if (v[0] >= 0 && vgl_cp_int(cp, v[0], "port", 1, 65535, &x) == 0)
		s->port = (uint16_t)x;
}

static void ping_check(struct vgl_cparse *cp, const void *spec)
{
	(void)cp;
	(void)spec;
}

static void tcp_check(struct vgl_cparse *cp, const void *spec)
{
	const struct vgl_reach_source *s = spec;

	if (!s->port)
		vgl_cp_error(cp, -1, NULL, "missing required key 'port' for a tcp source");
}

static void host_check(struct vgl_cparse *cp, const void *spec, const char *address)
{
	unsigned char buf[16];
	const struct vgl_reach_source *s = spec;

	if (inet_pton(AF_INET, address, buf) != 1 && inet_pton(AF_INET6, address, buf) != 1)
		vgl_cp_error(cp, -1, NULL, "'%s' is not an IP address: %s sources poll IPv4 or "
			     "IPv6 addresses only (no DNS names)", address,
			     s->kind == VGL_REACH_ICMP ? "ping" : "tcp");
}

/* ---- metrics ------------------------------------------------------------ */

static const char *const metric_keys[] = { "value", NULL };

static int metric_parse_kind(struct vgl_cparse *cp, const int *vals, struct vgl_conf_metric *m,
			     enum vgl_reach_kind kind)
{
	static const char *const names[] = { "loss_pct", "rtt_ms", "up", "connect_ms" };
	struct vgl_reach_metric *rm;
	int first = kind == VGL_REACH_ICMP ? 0 : 2;

	if (vals[0] < 0) {
		vgl_cp_error(cp, -1, NULL, "missing required key 'value' (%s: \"%s\" or \"%s\")",
			     kind == VGL_REACH_ICMP ? "ping" : "tcp", names[first], names[first + 1]);
		return -1;
	}
	if (vgl_cp_str(cp, vals[0], "value", &m->text) != 0)
		return -1;
	for (int i = first; i < first + 2; i++) {
		if (strcmp(m->text, names[i]) != 0)
			continue;
		if (!(rm = calloc(1, sizeof(*rm)))) {
			vgl_cp_oom(cp);
			return -1;
		}
		rm->value = (enum vgl_reach_value)i;
		m->spec = rm;
		return 0;
	}
	vgl_cp_error(cp, vals[0], "value", "a %s source measures \"%s\" or \"%s\", not \"%s\"",
		     kind == VGL_REACH_ICMP ? "ping" : "tcp", names[first], names[first + 1],
		     m->text);
	return -1;
}

static int ping_metric(struct vgl_cparse *cp, const int *vals, const void *src,
		       struct vgl_conf_metric *m)
{
	(void)src;
	return metric_parse_kind(cp, vals, m, VGL_REACH_ICMP);
}

static int tcp_metric(struct vgl_cparse *cp, const int *vals, const void *src,
		      struct vgl_conf_metric *m)
{
	(void)src;
	return metric_parse_kind(cp, vals, m, VGL_REACH_TCP);
}

static void *metric_copy(const void *spec)
{
	struct vgl_reach_metric *m = malloc(sizeof(*m));

	if (m)
		*m = *(const struct vgl_reach_metric *)spec;
	return m;
}

static void metric_free(void *spec)
{
	free(spec);
}

const struct vgl_conf_backend vgl_ping_conf_backend = {
	.type = "ping",
	.collector = "reach",
	.interval_ms = 30000,
	.timeout_ms = 1000,
	.max_timeout_ms = 60000,
	.needs_metrics = 0,
	.source_keys = ping_keys,
	.source_new = ping_new,
	.source_apply = ping_apply,
	.source_check = ping_check,
	.host_check = host_check,
	.source_free = source_free,
	.metric_keys = metric_keys,
	.metric_parse = ping_metric,
	.metric_copy = metric_copy,
	.metric_free = metric_free,
};

const struct vgl_conf_backend vgl_tcp_conf_backend = {
	.type = "tcp",
	.collector = "reach",
	.interval_ms = 30000,
	.timeout_ms = 1000,
	.max_timeout_ms = 60000,
	.needs_metrics = 0,
	.source_keys = tcp_keys,
	.source_new = tcp_new,
	.source_apply = tcp_apply,
	.source_check = tcp_check,
	.host_check = host_check,
	.source_free = source_free,
	.metric_keys = metric_keys,
	.metric_parse = tcp_metric,
	.metric_copy = metric_copy,
	.metric_free = metric_free,
};
