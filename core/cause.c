#include "core/cause.h"

#include <string.h>

static const char *const cause_names[VGL_CAUSE_COUNT] = {
	"network", "hardware", "power", "facility",
	"maintenance", "customer", "force_majeure", "unknown",
};

int vgl_cause_index(const char *name)
{
	if (!name)
		return -1;
	for (int i = 0; i < VGL_CAUSE_COUNT; i++)
		if (strcmp(cause_names[i], name) == 0)
			return i;
	return -1;
}

const char *vgl_cause_str(int idx)
{
	if (idx < 0 || idx >= VGL_CAUSE_COUNT)
		return "?";
	return cause_names[idx];
}

int vgl_cause_valid(const char *name)
{
	return vgl_cause_index(name) >= 0;
}
