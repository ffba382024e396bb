/* What every collector back end hands to the daemon: one result per poll of
 * one host's source (core/sample.h). */
#ifndef VGL_COLLECTOR_H
#define VGL_COLLECTOR_H

#include "core/sample.h"

#endif
