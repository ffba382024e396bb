/* Every back end vigild can poll with, and the source types of the config
 * each one parses. The one place a new back end is named; its ops tables
 * live in its own files. */
#include <string.h>

#include "collectors/bmc_conf.h"
#include "collectors/collector.h"
#include "collectors/modbus_conf.h"
#include "collectors/reach_conf.h"
#include "collectors/snmp_conf.h"
#include "conf/backend.h"

extern const struct vgl_collector_ops vgl_snmp_collector;
extern const struct vgl_collector_ops vgl_reach_collector;
extern const struct vgl_collector_ops vgl_modbus_collector;
extern const struct vgl_collector_ops vgl_ipmi_collector;
extern const struct vgl_collector_ops vgl_redfish_collector;

static const struct vgl_collector_ops *const backends[] = {
	&vgl_snmp_collector,
	&vgl_reach_collector,
	&vgl_modbus_collector,
	&vgl_ipmi_collector,
	&vgl_redfish_collector,
};

/* Source types, in the order "unknown source type" lists them. */
static const struct vgl_conf_backend *const types[] = {
	&vgl_snmp_conf_backend,
	&vgl_ping_conf_backend,
	&vgl_tcp_conf_backend,
	&vgl_modbus_conf_backend,
	&vgl_ipmi_conf_backend,
	&vgl_redfish_conf_backend,
};

size_t vgl_conf_backend_count(void)
{
	return sizeof(types) / sizeof(types[0]);
}

const struct vgl_conf_backend *vgl_conf_backend_at(size_t i)
{
	return i < vgl_conf_backend_count() ? types[i] : NULL;
}

const struct vgl_conf_backend *vgl_conf_backend_find(const char *type)
{
	for (size_t i = 0; type && i < vgl_conf_backend_count(); i++)
		if (strcmp(types[i]->type, type) == 0)
			return types[i];
	return NULL;
}

size_t vgl_collector_count(void)
{
	return sizeof(backends) / sizeof(backends[0]);
}

const struct vgl_collector_ops *vgl_collector_at(size_t i)
{
	return i < vgl_collector_count() ? backends[i] : NULL;
}

const struct vgl_collector_ops *vgl_collector_find(const char *name)
{
	for (size_t i = 0; name && i < vgl_collector_count(); i++)
		if (strcmp(backends[i]->name, name) == 0)
			return backends[i];
	return NULL;
}

const struct vgl_collector_ops *vgl_collector_of(const struct vgl_conf_host *h, size_t i)
{
	if (!h->profile || i >= h->profile->n_sources)
		return NULL;
	return vgl_collector_find(h->profile->sources[i].be->collector);
}
