/* Zone files in TZif format (RFC 8536, tzfile(5)) read and evaluated
 * without the C library's time-zone state: no TZ, no tzset, no localtime.
 * A parsed zone is immutable, so any number of threads may evaluate it at
 * once. The input is treated as hostile: a file that is too big, whose
 * counts do not match its size, or that indexes out of range is refused,
 * never read past. */
#ifndef VGL_TZFILE_H
#define VGL_TZFILE_H

#include <stddef.h>
#include <stdint.h>

/* Real zone files are under 4 KiB; anything near this is not one. */
#define VGL_TZ_MAX_FILE (1u << 20)

struct vgl_tz;

/* Versions 1 to 4: the 64-bit block and the footer TZ string of v2+, the
 * 32-bit block of v1. Zones with leap seconds ("right/...") are refused:
 * they count time on a scale vigil's UTC milliseconds are not on. 0 and
 * *out, or -1 (EINVAL: malformed, ENOMEM). */
int vgl_tz_parse(const void *buf, size_t len, struct vgl_tz **out);
/* The file at path, a regular file of at most VGL_TZ_MAX_FILE bytes, read
 * and parsed. 0 and *out, or -1 with errno. */
int vgl_tz_load(const char *path, struct vgl_tz **out);
void vgl_tz_free(struct vgl_tz *z);

/* UT offset (seconds east) and isdst in force at t (seconds since the
 * epoch, UTC); t is clamped to +-2^40 s (about +-34,000 years). */
void vgl_tz_at(const struct vgl_tz *z, int64_t t, int32_t *utoff, int *isdst);
/* The first instant (UTC seconds) whose local date is y-m-d or later:
 * local midnight, or where midnight does not exist (a jump forward at
 * 00:00) the instant the day begins, or where it occurs twice the first.
 * Years 1 to 100000. */
int64_t vgl_tz_day_start(const struct vgl_tz *z, int y, int m, int d);

#endif
