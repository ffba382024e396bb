/* Moved to core/vtime.h; this forwarding header goes once nothing includes it. */
#include "core/vtime.h"
