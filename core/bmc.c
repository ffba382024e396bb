#include "core/bmc.h"

const char *vgl_bmc_event_class_str(int cls)
{
	static const char *const names[VGL_BMC_EV_N] = {
		"info", "fault", "orderly", "command", "cleared",
	};

	return cls >= 0 && cls < VGL_BMC_EV_N ? names[cls] : "?";
}

const char *vgl_bmc_state_str(int state)
{
	switch (state) {
	case VGL_BMC_OK: return "ok";
	case VGL_BMC_WARNING: return "warning";
	case VGL_BMC_CRITICAL: return "critical";
	default: return "unknown";
	}
}

const char *vgl_bmc_power_str(int power)
{
	switch (power) {
	case VGL_BMC_POWER_ON: return "on";
	case VGL_BMC_POWER_OFF: return "off";
	default: return "unknown";
	}
}
