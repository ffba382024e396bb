/* The counter CSV of `vigil counters import` (docs/cli.md), parsed from
 * memory: the CLI reads the file (bounded, regular files only) and hands
 * the bytes here, and so does the fuzz target (test/fuzz/). Pure: no I/O,
 * no globals, nothing printed.
 */
#ifndef VGL_COUNTERS_CSV_H
#define VGL_COUNTERS_CSV_H

#include <stddef.h>
#include <stdint.h>

/* The longest line accepted, in bytes, not counting its "\n". A sample
 * line is about 50 bytes; the limit keeps a file without newlines from
 * being one unbounded line. */
#define VGL_COUNTERS_CSV_LINE_MAX 4096

struct vgl_counters_row {
	int64_t ts_ms;
	uint64_t total, failed;         /* raw counter values */
	size_t line;                    /* 1-based line in the text */
};

/* Parses text[0..len) (not NUL-terminated; a NUL byte is an error): the
 * header 'time,total,failed', then one sample a line; blank lines, blanks
 * around fields and CRLF are accepted. Samples after now_ms, and two
 * samples of one time, are refused. On success returns 0 with *rows (by
 * time, caller frees; NULL when there is none) and *n. Else *rows is NULL
 * and returns -1 with "LINE: reason" in err (the caller prefixes the
 * file's name), or -ENOMEM. */
int vgl_counters_csv_parse(const char *text, size_t len, int64_t now_ms,
			   struct vgl_counters_row **rows, size_t *n, char *err, size_t errlen);

#endif
