/* What the fuzz targets share (docs/fuzzing.md). A target checks the
 * contract of the code it drives, not only that it does not crash: a
 * broken promise aborts, and libFuzzer saves the input like a crash. */
#ifndef VGL_FUZZ_H
#define VGL_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define FUZZ_CHECK(cond)                                                       \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "%s:%d: broken promise: %s\n", __FILE__, \
				__LINE__, #cond);                              \
			abort();                                               \
		}                                                              \
	} while (0)

/* data as a NUL-terminated string, for parsers of C strings; an input
 * with a NUL inside is cut there, as a C caller would see it. NULL only
 * when out of memory, which a target then skips. */
static inline char *fuzz_cstr(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (!s)
		return NULL;
	for (size_t i = 0; i < size; i++)
		s[i] = (char)data[i];
	s[size] = '\0';
	return s;
}

#endif
