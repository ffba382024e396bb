/* Moved to core/utf8.h; this forwarding header goes once nothing includes it. */
#include "core/utf8.h"
