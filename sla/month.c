/* Calendar months in a contract time zone, through the system tz database.
 *
 * The zone's TZif file is read and evaluated here (sla/tzfile.c) rather
 * than through mktime(): mktime only knows the zone named by the
 * process-wide TZ, and switching TZ races every other thread's localtime()
 * and getenv(). Nothing here touches TZ or the C library's zone state, so
 * month bounds may be computed from any thread. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "core/vtime.h"
#include "sla/sla.h"
#include "sla/tzfile.h"

#define ZONEINFO "/usr/share/zoneinfo/"

/* Lexical checks only: IANA names are letters, digits and "/_-+";
 * anything else (a POSIX TZ rule such as "EST5EDT,M3.2.0", a ":path", an
 * absolute path or "..") is refused, so a typo cannot become some other
 * file or, inside glibc, silently UTC. */
static int name_ok(const char *tz)
{
	size_t n;

	if (!tz || !*tz || tz[0] == '/' || strstr(tz, ".."))
		return 0;
	n = strlen(tz);
	if (n >= 64)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char ch = tz[i];

		if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
		      ch == '/' || ch == '_' || ch == '-' || ch == '+'))
			return 0;
	}
	return 1;
}

static int zone_read(const char *tz, struct vgl_tz **out)
{
	char path[sizeof(ZONEINFO) + 64];

	/* name_ok bounds tz below 64 bytes */
	snprintf(path, sizeof(path), "%s%s", ZONEINFO, tz);
	return vgl_tz_load(path, out);
}

/* A report over 10,000 hosts asks for the same few (zone, month) pairs
 * again and again, and reading a zone file costs tens of microseconds: so
 * parsed zones and computed bounds are remembered, for the life of the
 * process (a tzdata upgrade is seen after a restart). One mutex guards
 * both; a zone is only ever evaluated with it held, so evicting one cannot
 * pull it from under another thread. Files are read without it. */
#define ZONES_N 8
#define CACHE_N 8
static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
	char tz[64];
	struct vgl_tz *z;
} zones[ZONES_N];
static unsigned zones_next;
static struct {
	char tz[64];
	int year, month;
	int64_t start, end;
} cache[CACHE_N];
static unsigned cache_next;

static const struct vgl_tz *zone_find(const char *tz)
{
	for (unsigned i = 0; i < ZONES_N; i++)
		if (zones[i].z && strcmp(zones[i].tz, tz) == 0)
			return zones[i].z;
	return NULL;
}

/* 0 with cache_lock held and *out the zone tz, or -1 with it not held
 * (bad name, no such zone file, malformed file, lock failure). */
static int zone_acquire(const char *tz, const struct vgl_tz **out)
{
	struct vgl_tz *fresh, *old = NULL;

	if (!name_ok(tz) || pthread_mutex_lock(&cache_lock) != 0)
		return -1;
	if ((*out = zone_find(tz)))
		return 0;
	if (pthread_mutex_unlock(&cache_lock) != 0 || zone_read(tz, &fresh) != 0)
		return -1;
	if (pthread_mutex_lock(&cache_lock) != 0) {
		vgl_tz_free(fresh);
		return -1;
	}
	/* another thread may have read the same zone meanwhile */
	if ((*out = zone_find(tz))) {
		vgl_tz_free(fresh);
		return 0;
	}
	old = zones[zones_next].z;
	snprintf(zones[zones_next].tz, sizeof(zones[0].tz), "%s", tz);
	zones[zones_next].z = fresh;
	zones_next = (zones_next + 1) % ZONES_N;
	vgl_tz_free(old);
	*out = fresh;
	return 0;
}

/* Also reads the file: a name of some other file under the zone directory
 * ("leapseconds", a text file) would otherwise pass and then fail, or in
 * glibc silently mean UTC. */
int vgl_sla_tz_valid(const char *tz)
{
	const struct vgl_tz *z;

	if (zone_acquire(tz, &z) != 0)
		return 0;
	return pthread_mutex_unlock(&cache_lock) == 0;
}

int vgl_sla_month_parse(const char *s, int *year, int *month)
{
	int y = 0, m = 0;

	if (!s || strlen(s) != 7 || s[4] != '-')
		return -1;
	for (int i = 0; i < 7; i++) {
		if (i == 4)
			continue;
		if (s[i] < '0' || s[i] > '9')
			return -1;
		if (i < 4)
			y = y * 10 + (s[i] - '0');
		else
			m = m * 10 + (s[i] - '0');
	}
	if (y < VGL_YEAR_MIN || y > VGL_YEAR_MAX || m < 1 || m > 12)
		return -1;
	*year = y;
	*month = m;
	return 0;
}

int vgl_sla_month_bounds(const char *tz, int year, int month, int64_t *start_ms, int64_t *end_ms)
{
	const struct vgl_tz *z;
	int hit = 0, rc = -1;
	int64_t s, e;

	if (year < 1970 || year > 9999 || month < 1 || month > 12 || !tz)
		return -1;
	if (pthread_mutex_lock(&cache_lock) != 0)
		return -1;
	for (unsigned i = 0; i < CACHE_N && !hit; i++) {
		if (cache[i].year == year && cache[i].month == month && strcmp(cache[i].tz, tz) == 0) {
			s = cache[i].start;
			e = cache[i].end;
			hit = 1;
		}
	}
	if (pthread_mutex_unlock(&cache_lock) != 0)
		return -1;
	if (!hit) {
		if (zone_acquire(tz, &z) != 0)
			return -1;
		/* Where local midnight does not exist (a jump forward at 00:00)
		 * the month starts when its first day does; where it occurs
		 * twice (a fall-back at 01:00), at the first. */
		s = vgl_tz_day_start(z, year, month, 1) * 1000;
		e = vgl_tz_day_start(z, month == 12 ? year + 1 : year, month == 12 ? 1 : month + 1, 1) * 1000;
		if (s < e) {
			snprintf(cache[cache_next].tz, sizeof(cache[0].tz), "%s", tz);
			cache[cache_next].year = year;
			cache[cache_next].month = month;
			cache[cache_next].start = s;
			cache[cache_next].end = e;
			cache_next = (cache_next + 1) % CACHE_N;
		}
		if (pthread_mutex_unlock(&cache_lock) != 0)
			return -1;
	}
	if (s < e) {
		*start_ms = s;
		*end_ms = e;
		rc = 0;
	}
	return rc;
}
