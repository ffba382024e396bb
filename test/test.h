/* A tiny test harness in the shape of libuv's test/task.h: TEST(name)
 * registers a test (no central list to edit), ASSERT_* print the file, line,
 * expression and both values, then fail the test. The runner forks each test
 * so a crash or a sanitizer report fails that test alone. */
#ifndef VGL_TEST_H
#define VGL_TEST_H

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef void vgl_test_fn(void);
void vgl_test_register(const char *name, vgl_test_fn *fn, const char *file);
void vgl_test_fail(void) __attribute__((noreturn));
/* Scratch directory for the running test, removed by the runner afterwards. */
const char *vgl_test_tmpdir(void);

#define TEST(name)                                                            \
	static void test_##name(void);                                        \
	__attribute__((constructor)) static void test_register_##name(void)   \
	{                                                                     \
		vgl_test_register(#name, test_##name, __FILE__);              \
	}                                                                     \
	static void test_##name(void)

#define ASSERT(expr)                                                          \
	do {                                                                  \
		if (!(expr)) {                                                \
			fprintf(stderr, "%s:%d: assertion failed: %s\n",      \
				__FILE__, __LINE__, #expr);                   \
			vgl_test_fail();                                      \
		}                                                             \
	} while (0)

#define ASSERT_INT_OP(a, op, b)                                               \
	do {                                                                  \
		int64_t a_ = (int64_t)(a), b_ = (int64_t)(b);                 \
		if (!(a_ op b_)) {                                            \
			fprintf(stderr,                                       \
				"%s:%d: assertion failed: %s %s %s "          \
				"(%" PRId64 " vs %" PRId64 ")\n",              \
				__FILE__, __LINE__, #a, #op, #b, a_, b_);     \
			vgl_test_fail();                                      \
		}                                                             \
	} while (0)

#define ASSERT_EQ(a, b) ASSERT_INT_OP(a, ==, b)
#define ASSERT_NE(a, b) ASSERT_INT_OP(a, !=, b)
#define ASSERT_LT(a, b) ASSERT_INT_OP(a, <, b)
#define ASSERT_LE(a, b) ASSERT_INT_OP(a, <=, b)
#define ASSERT_GT(a, b) ASSERT_INT_OP(a, >, b)
#define ASSERT_GE(a, b) ASSERT_INT_OP(a, >=, b)

#define ASSERT_STREQ(a, b)                                                    \
	do {                                                                  \
		const char *a_ = (a), *b_ = (b);                              \
		if (!a_ || !b_ || strcmp(a_, b_) != 0) {                      \
			fprintf(stderr,                                       \
				"%s:%d: assertion failed: %s == %s "          \
				"(\"%s\" vs \"%s\")\n",                        \
				__FILE__, __LINE__, #a, #b,                   \
				a_ ? a_ : "(null)", b_ ? b_ : "(null)");      \
			vgl_test_fail();                                      \
		}                                                             \
	} while (0)

/* Substring check, for error messages. */
#define ASSERT_CONTAINS(hay, needle)                                          \
	do {                                                                  \
		const char *h_ = (hay), *n_ = (needle);                       \
		if (!h_ || !strstr(h_, n_)) {                                 \
			fprintf(stderr,                                       \
				"%s:%d: \"%s\" does not contain \"%s\"\n",    \
				__FILE__, __LINE__, h_ ? h_ : "(null)", n_);  \
			vgl_test_fail();                                      \
		}                                                             \
	} while (0)

#endif
