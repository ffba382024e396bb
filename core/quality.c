#include "core/quality.h"

const char *vgl_quality_name(enum vgl_quality q)
{
	switch (q) {
	case VGL_Q_OK: return "ok";
	case VGL_Q_TIMEOUT: return "timeout";
	case VGL_Q_REFUSED: return "refused";
	case VGL_Q_AUTH: return "auth";
	case VGL_Q_ABSENT: return "absent";
	case VGL_Q_ERROR: return "error";
	case VGL_Q_MB_ILLEGAL_FUNCTION: return "illegal_function";
	case VGL_Q_MB_ILLEGAL_ADDRESS: return "illegal_data_address";
	case VGL_Q_MB_ILLEGAL_VALUE: return "illegal_data_value";
	case VGL_Q_MB_DEVICE_FAILURE: return "device_failure";
	case VGL_Q_MB_BUSY: return "device_busy";
	case VGL_Q_MB_GATEWAY_PATH: return "gateway_path_unavailable";
	case VGL_Q_MB_GATEWAY_TARGET: return "gateway_target_failed";
	case VGL_Q_MB_EXCEPTION: return "exception";
	}
	return "error";
}
