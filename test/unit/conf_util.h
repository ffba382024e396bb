/* Helpers the config unit tests share: files in the test's scratch
 * directory and expected errors. Static: each test file gets its own copy. */
#ifndef VGL_TEST_CONF_UTIL_H
#define VGL_TEST_CONF_UTIL_H

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "collectors/snmp_conf.h"
#include "conf/conf.h"
#include "test/test.h"

/* The profile's source named "snmp" (the "snmp" key), and its settings. */
static __attribute__((unused)) const struct vgl_conf_source *
snmp_src(const struct vgl_conf_profile *p)
{
	long i = vgl_conf_source_index(p, "snmp");

	ASSERT(i >= 0);
	return &p->sources[i];
}

static __attribute__((unused)) const struct vgl_snmp_source *
snmp_of(const struct vgl_conf_profile *p)
{
	return vgl_snmp_source_of(snmp_src(p));
}

static __attribute__((unused)) const struct vgl_snmp_metric *
oid_of(const struct vgl_conf_metric *m)
{
	return vgl_snmp_metric_of(m);
}

static __attribute__((unused)) char *tpath(const char *name)
{
	static char buf[4][512];
	static int k;
	char *b = buf[k++ % 4];

	snprintf(b, sizeof(buf[0]), "%s/%s", vgl_test_tmpdir(), name);
	return b;
}

static __attribute__((unused)) void write_file(const char *name, const char *text, mode_t mode)
{
	const char *p = tpath(name);
	FILE *f = fopen(p, "w");

	ASSERT(f != NULL);
	ASSERT(fputs(text, f) >= 0);
	ASSERT_EQ(fclose(f), 0);
	ASSERT_EQ(chmod(p, mode), 0);
}

static __attribute__((unused)) void dump_errors(const struct vgl_conf_errors *e)
{
	for (size_t i = 0; i < e->n; i++)
		fprintf(stderr, "  error: %s\n", e->msgs[i]);
}

/* Loads vigil.json written from text; it must load (errors are shown). */
static __attribute__((unused)) struct vgl_conf *load_ok(const char *text)
{
	struct vgl_conf *c = NULL;
	struct vgl_conf_errors e;
	int r;

	write_file("vigil.json", text, 0600);
	r = vgl_conf_load(tpath("vigil.json"), &c, &e);
	if (r != 0)
		dump_errors(&e);
	ASSERT_EQ(r, 0);
	ASSERT_EQ(e.n, 0);
	vgl_conf_errors_free(&e);
	ASSERT(c != NULL);
	return c;
}

/* Loads vigil.json written from text; it must fail with a message that
 * begins "<tmp>/vigil.json:" + expect. */
static __attribute__((unused)) void expect_error_in(const char *text, const char *file, const char *expect)
{
	struct vgl_conf *c = NULL;
	struct vgl_conf_errors e;
	char want[1024];
	int found = 0;

	write_file("vigil.json", text, 0644);
	snprintf(want, sizeof(want), "%s:%s", tpath(file), expect);
	ASSERT_EQ(vgl_conf_load(tpath("vigil.json"), &c, &e), -1);
	ASSERT(c == NULL);
	for (size_t i = 0; i < e.n; i++)
		found |= strncmp(e.msgs[i], want, strlen(want)) == 0;
	if (!found) {
		fprintf(stderr, "no error starting with: %s\n", want);
		dump_errors(&e);
	}
	vgl_conf_errors_free(&e);
	ASSERT(found);
}

static __attribute__((unused)) void expect_error(const char *text, const char *expect)
{
	expect_error_in(text, "vigil.json", expect);
}

#endif
