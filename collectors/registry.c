/* Every back end vigild can poll with. The one place a new back end is
 * named; its ops table lives in its own file. */
#include <string.h>

#include "collectors/collector.h"

extern const struct vgl_collector_ops vgl_snmp_collector;

static const struct vgl_collector_ops *const backends[] = {
	&vgl_snmp_collector,
};

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
