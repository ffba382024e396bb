/* What the Redfish parsing unit tests share (test_redfish_parse.c,
 * test_redfish_log.c): fixture text made a tree. Static: each test file
 * gets its own copy. */
#ifndef VGL_TEST_REDFISH_UTIL_H
#define VGL_TEST_REDFISH_UTIL_H

#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "collectors/redfish_parse.h"
#include "test/test.h"

/* A fixture that does not parse fails the test. */
static __attribute__((unused)) cJSON *P(const char *text)
{
	char err[128];
	cJSON *j = vgl_rf_parse(text, strlen(text), err, sizeof(err));

	if (!j) {
		fprintf(stderr, "fixture does not parse: %s\n", err);
		vgl_test_fail();
	}
	return j;
}

#endif
