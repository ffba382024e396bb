/* A streaming JSON writer for reports of millions of values: one large
 * output buffer written to a FILE in big chunks (or kept in memory), and
 * integers, ISO-8601 times and string escapes formatted by hand instead of
 * through printf or a cJSON tree.
 *
 * Output is compact (no spaces) and matches cli's cJSON-shaped printer
 * byte for byte: integers of a double below 2^53 as integers, other
 * numbers in the fewest of 15 or 17 significant digits that read back to
 * the same double, NaN and infinities as null, control characters as
 * \n \r \t or \u00XX, bytes >= 0x80 as they are.
 *
 * Separators are automatic: a key or value placed after a previous value
 * at the same level gets its comma. Write errors and allocation failures
 * are sticky: every call after one is a no-op, and vgl_jw_flush and
 * vgl_jw_failed report it.
 */
#ifndef VGL_JW_H
#define VGL_JW_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct vgl_jw;

/* Writing to f (flushed in chunks of about 1 MiB; f's own buffering is
 * bypassed for those), or f NULL: kept in memory for vgl_jw_text. NULL
 * when out of memory. */
struct vgl_jw *vgl_jw_new(FILE *f);
/* Frees without flushing. */
void vgl_jw_free(struct vgl_jw *w);
/* Writes what is buffered to the FILE (none: no-op). 0, or -1 when this
 * or an earlier write or allocation failed. */
int vgl_jw_flush(struct vgl_jw *w);
int vgl_jw_failed(const struct vgl_jw *w);
/* Memory mode: the text so far, NUL-terminated (NULL after a failure). */
const char *vgl_jw_text(struct vgl_jw *w, size_t *len);

/* Bytes written verbatim (separators between top-level documents); the
 * next key or value starts a new list, so no comma precedes it. */
void vgl_jw_raw(struct vgl_jw *w, const char *s, size_t n);

void vgl_jw_obj(struct vgl_jw *w);
void vgl_jw_obj_end(struct vgl_jw *w);
void vgl_jw_arr(struct vgl_jw *w);
void vgl_jw_arr_end(struct vgl_jw *w);
/* An object key; the next call writes its value. */
void vgl_jw_key(struct vgl_jw *w, const char *k);

/* A key known at compile time, quoted and followed by its colon there, so
 * writing it is one copy: vgl_jw_key_lit(w, VGL_JW_KEY("host")). Only for
 * string literals that need no escaping. */
struct vgl_jw_key {
	const char *text;               /* "\"host\":" */
	size_t len;
};
#define VGL_JW_KEY(lit) ((struct vgl_jw_key){ "\"" lit "\":", sizeof("\"" lit "\":") - 1 })
void vgl_jw_key_lit(struct vgl_jw *w, struct vgl_jw_key k);

void vgl_jw_str(struct vgl_jw *w, const char *s);       /* NULL: null */
void vgl_jw_int(struct vgl_jw *w, int64_t v);
void vgl_jw_num(struct vgl_jw *w, double v);
void vgl_jw_bool(struct vgl_jw *w, int v);
void vgl_jw_null(struct vgl_jw *w);
/* ms since the epoch as a string "2026-10-01T00:00:00.000Z", the same text
 * as vgl_format_iso. */
void vgl_jw_time(struct vgl_jw *w, int64_t ms);

#endif
