/* Time as vigil keeps it: int64 milliseconds since the Unix epoch, UTC,
 * shown as ISO-8601 with milliseconds and Z ("2026-11-05T10:00:00.000Z"). */
#ifndef VGL_VTIME_H
#define VGL_VTIME_H

#include <stddef.h>
#include <stdint.h>

#define VGL_ISO_LEN 32  /* buffer size that fits any formatted time */

int64_t vgl_now_ms(void);       /* CLOCK_REALTIME: stamps samples */
int64_t vgl_mono_ms(void);      /* CLOCK_MONOTONIC: schedules */

/* Writes "YYYY-MM-DDTHH:MM:SS.mmmZ"; returns buf. */
char *vgl_format_iso(int64_t ms, char buf[VGL_ISO_LEN]);

/* Accepts "YYYY-MM-DDTHH:MM:SS[.fff]Z", "...+HH:MM"/"-HH:MM" offsets, and
 * "YYYY-MM-DD" (midnight UTC). 0 on success, -1 on anything else. */
int vgl_parse_iso(const char *s, int64_t *out);

#endif
