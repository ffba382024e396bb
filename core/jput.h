/* Fields into a cJSON object, as every --json of the CLI and the read-side
 * views (storage/view.h) write them: NULL strings and absent times as JSON
 * null, times as ISO-8601 UTC strings, ms timestamps and ids as numbers.
 * One set of builders so the CLI and a future HTTP API cannot drift apart
 * in how a missing value or a time looks. */
#ifndef VGL_JPUT_H
#define VGL_JPUT_H

#include <stdint.h>

#include <cjson/cJSON.h>

/* Each returns 0, or -1 when out of memory. */
int vgl_jput_str(cJSON *o, const char *k, const char *v);       /* NULL: null */
int vgl_jput_num(cJSON *o, const char *k, int64_t v);
int vgl_jput_time(cJSON *o, const char *k, int64_t ms, int present);   /* !present: null */
int vgl_jput_bool(cJSON *o, const char *k, int v);

#endif
