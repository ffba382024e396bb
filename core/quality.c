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
	}
	return "error";
}
