/* The config loader's reading API for back ends (conf/backend.h): typed
 * values with the loader's FILE:LINE:COL and key-path errors, so that a
 * back end parsing its own keys reports exactly as the loader does.
 *
 * A struct vgl_cparse names one object of one file (e.g. hosts[3].snmp).
 * Tokens are ints handed out by the loader (the vals arrays) or by these
 * calls; key is the key under that object the token belongs to (NULL: the
 * object itself), and becomes part of the message's key path; it may be a
 * path of its own ("dirs[2]", "snmp.max_in_flight"), which is printed as
 * given. Every call
 * that fails has already reported why; a back end only decides whether to
 * go on.
 */
#ifndef VGL_CONF_PARSE_H
#define VGL_CONF_PARSE_H

#include <stddef.h>

#include "conf/conf.h"

struct vgl_cparse;

void vgl_cp_error(struct vgl_cparse *cp, int tok, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
void vgl_cp_oom(struct vgl_cparse *cp);
/* A warning kept in vgl_conf.warnings (logged by vigild at start, -t and
 * reload), "FILE: " and the message; once per file, the first one given. */
void vgl_cp_warn_once(struct vgl_cparse *cp, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* The directory of the file the object is in joined with rel (malloc'd,
 * NULL when out of memory): relative paths in a file are relative to it. */
char *vgl_cp_path(const struct vgl_cparse *cp, const char *rel);
/* The main file's directory joined with rel (storage, MIB dirs). */
char *vgl_cp_main_path(const struct vgl_cparse *cp, const char *rel);
/* The file's permission bits (07777) as opened; 0 for a config in memory. */
unsigned vgl_cp_file_mode(const struct vgl_cparse *cp);

/* 0 and a malloc'd *out, or -1. */
int vgl_cp_str(struct vgl_cparse *cp, int tok, const char *key, char **out);
/* An integer lo..hi, or -1. */
int vgl_cp_int(struct vgl_cparse *cp, int tok, const char *key, long lo, long hi, long *out);
/* A finite number lo..hi (integer or not), or -1. */
int vgl_cp_num(struct vgl_cparse *cp, int tok, const char *key, double lo, double hi,
	       double *out);
/* true (1) or false (0) into *out, or -1. */
int vgl_cp_bool(struct vgl_cparse *cp, int tok, const char *key, int *out);
/* 0 when tok is an object / array, else -1 ("expected ..."). */
int vgl_cp_object(struct vgl_cparse *cp, int tok, const char *key);
int vgl_cp_array(struct vgl_cparse *cp, int tok, const char *key, const char *what);
/* Checks the keys of object obj (at key) against keys, NULL-terminated:
 * vals[i] gets the value token of keys[i] or -1; unknown and repeated keys
 * are errors. */
void vgl_cp_fields(struct vgl_cparse *cp, int obj, const char *key, const char *const *keys,
		   int *vals);
/* Elements of array tok: how many, and the token of each in turn. */
int vgl_cp_len(const struct vgl_cparse *cp, int tok);
int vgl_cp_first(const struct vgl_cparse *cp, int tok);
int vgl_cp_next(const struct vgl_cparse *cp, int tok);

/* The "enum" object at tok ({"up": 1, "down": 2}) into *out (replacing
 * what was there). 0, or -1. */
int vgl_cp_enum(struct vgl_cparse *cp, int tok, const char *key, struct vgl_conf_enum **out,
		size_t *n);
void vgl_cp_free_enums(struct vgl_conf_enum *e, size_t n);

/* A secret file named by string tok: a regular file only its owner may
 * read, owned by root, this process or the main file's owner, holding an
 * object of some of keys. out[i] gets the string of keys[i] or stays NULL.
 * inline_vals[i] >= 0 (the same key given inline too) is an error. check,
 * if given, validates each value (0, or -1 with a message in msg) and is
 * reported at the value's place in the secret file, never quoting it.
 * 0, or -1 (out freed and NULL). */
int vgl_cp_secrets(struct vgl_cparse *cp, int tok, const char *key, const char *const *keys,
		   const int *inline_vals, int (*check)(const char *key, const char *value,
							char *msg, size_t msglen),
		   char **out);

#endif
