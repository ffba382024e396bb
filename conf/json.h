/* The config's JSON layer, internal to conf/: comment stripping, jsmn
 * tokens checked against the JSON grammar (jsmn alone accepts missing
 * commas, bare words and trailing garbage), offsets to line:col, and the
 * error list every config message goes through. */
#ifndef VGL_CONF_JSON_H
#define VGL_CONF_JSON_H

#include <stdarg.h>
#include <stddef.h>
#include <sys/stat.h>

#include "conf/conf.h"

enum vgl__jtype { VGL_J_OBJECT = 1, VGL_J_ARRAY, VGL_J_STRING, VGL_J_PRIMITIVE };

struct vgl__tok {
	int type;               /* enum vgl__jtype */
	int start, end;         /* strings: without the quotes */
	int size;               /* objects: members; arrays: elements */
	int next;               /* index of the token after this subtree */
};

struct vgl__doc {
	char *path;             /* as shown in messages */
	char *text;             /* comments blanked out */
	size_t len;
	struct vgl__tok *tok;
	int ntok;
	size_t *lines;          /* offset of each line's first byte */
	size_t nlines;
	int secret;             /* messages never quote its text */
	int warned_inline;      /* conf.c: inline secrets in a readable file, said once */
	struct stat st;         /* of the file as opened (zeroed for memory) */
};

#define VGL__MAX_ERRORS 100

/* Every message passes here: exact repeats are dropped (a template's error
 * seen again through each host that uses it), and past the cap only
 * counted. */
struct vgl__errs {
	struct vgl_conf_errors *out;
	size_t dropped;
	int oom;
	int closing;            /* the final summary lines pass the cap */
};

void vgl__err_add(struct vgl__errs *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* "FILE:LINE:COL: PATH: MSG"; path may be NULL or "" (then omitted). */
void vgl__err_at(struct vgl__errs *e, const struct vgl__doc *d, size_t off,
		 const char *path, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
void vgl__err_vat(struct vgl__errs *e, const struct vgl__doc *d, size_t off,
		  const char *path, const char *fmt, va_list ap);

/* Reads and tokenizes path (shown as path). 0 and *out; -1 after adding
 * the error (I/O or syntax: one per file, parsing cannot go on past it).
 * Only a regular file is read: it is opened without blocking and checked
 * with fstat before a byte is read, so a FIFO, a device or a directory is
 * an error, never a hang. Nesting deeper than 64 is refused before the
 * tokenizer runs, so any file up to the size cap parses in linear time. */
int vgl__doc_load(const char *path, struct vgl__errs *e, struct vgl__doc **out);
/* The same for a file of secrets: its messages give the position and
 * never the text found there. */
int vgl__doc_load_secret(const char *path, struct vgl__errs *e, struct vgl__doc **out);
/* Same from memory (text is copied). */
int vgl__doc_parse(const char *path, const char *text, size_t len, struct vgl__errs *e,
		   struct vgl__doc **out);
void vgl__doc_free(struct vgl__doc *d);

void vgl__doc_linecol(const struct vgl__doc *d, size_t off, int *line, int *col);

/* Offset of a token as written (a string's opening quote). */
size_t vgl__tok_pos(const struct vgl__doc *d, int t);
/* 1 when string token t equals s exactly (no escapes considered). */
int vgl__tok_is(const struct vgl__doc *d, int t, const char *s);
/* The decoded value of string token t, malloc'd; NULL on out of memory. */
char *vgl__tok_str(const struct vgl__doc *d, int t);
/* "a string", "an object", "null", "true", "a number" ... for messages. */
const char *vgl__tok_kind(const struct vgl__doc *d, int t);

#endif
