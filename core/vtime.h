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

/* One range for every time vigil takes in, from any source (CLI options,
 * case documents, service_start/service_end, months): the years 1970 to
 * 9998. Every time, and the end of every month in any zone, then prints
 * with a four-digit year. */
#define VGL_YEAR_MIN 1970
#define VGL_YEAR_MAX 9998

/* Accepts "YYYY-MM-DDTHH:MM:SS[.f[f[f]]]Z", "...+HH:MM"/"-HH:MM" offsets,
 * and "YYYY-MM-DD" (midnight UTC), years VGL_YEAR_MIN..VGL_YEAR_MAX. More
 * than three fractional digits are refused rather than cut: vigil keeps
 * milliseconds, and a silently dropped digit is a wrong time. 0 on
 * success, -1 on anything else. */
int vgl_parse_iso(const char *s, int64_t *out);

#endif
