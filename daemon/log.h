/* Moved to core/log.h; this forwarding header goes once nothing includes it. */
#include "core/log.h"
