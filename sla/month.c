/* Calendar months in a contract time zone, through the system tz database.
 *
 * mktime() only knows the zone named by TZ, so the zone is switched for the
 * call and put back afterwards. That touches process-wide state: fine for
 * the CLI (single-threaded, one month at a time), not for loop-thread code,
 * which never needs month bounds. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "daemon/vtime.h"
#include "sla/sla.h"

#define ZONEINFO "/usr/share/zoneinfo/"

int vgl_sla_tz_valid(const char *tz)
{
	char path[sizeof(ZONEINFO) + 64];
	struct stat st;
	size_t n;

	if (!tz || !*tz || tz[0] == '/' || strstr(tz, ".."))
		return 0;
	n = strlen(tz);
	if (n >= 64)
		return 0;
	/* IANA names are letters, digits and "/_-+"; anything else (a POSIX TZ
	 * rule such as "EST5EDT,M3.2.0" or a ":path") is refused so that a
	 * typo cannot fall back silently to UTC inside glibc. */
	for (size_t i = 0; i < n; i++) {
		char ch = tz[i];

		if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
		      ch == '/' || ch == '_' || ch == '-' || ch == '+'))
			return 0;
	}
	memcpy(path, ZONEINFO, sizeof(ZONEINFO) - 1);
	memcpy(path + sizeof(ZONEINFO) - 1, tz, n + 1);
	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
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

static int local_midnight(int year, int month, int64_t *out)
{
	struct tm tm = { 0 };
	time_t t;

	tm.tm_year = year - 1900;
	tm.tm_mon = month - 1;
	tm.tm_mday = 1;
	/* -1: let the zone say whether DST is in force at that midnight. Where
	 * midnight does not exist (a DST jump at 00:00), glibc moves forward to
	 * the first instant that does, which is when the local day begins. */
	tm.tm_isdst = -1;
	errno = 0;
	t = mktime(&tm);
	if (t == (time_t)-1 && errno)
		return -1;
	*out = (int64_t)t * 1000;
	return 0;
}

/* A report over 10,000 hosts asks for the same few (zone, month) pairs
 * again and again; switching TZ rereads the zone file each time (~30 us).
 * The zone database does not change under a running CLI, so answers are
 * remembered. Only this file sees the cache, and month bounds are already
 * single-threaded (TZ). */
#define CACHE_N 8
static struct {
	char tz[64];
	int year, month;
	int64_t start, end;
} cache[CACHE_N];
static unsigned cache_next;

int vgl_sla_month_bounds(const char *tz, int year, int month, int64_t *start_ms, int64_t *end_ms)
{
	char *saved = NULL;
	const char *old;
	int rc = -1;
	int64_t s, e;

	if (year < 1970 || year > 9999 || month < 1 || month > 12 || !tz)
		return -1;
	for (unsigned i = 0; i < CACHE_N; i++) {
		if (cache[i].year == year && cache[i].month == month && strcmp(cache[i].tz, tz) == 0) {
			*start_ms = cache[i].start;
			*end_ms = cache[i].end;
			return 0;
		}
	}
	if (!vgl_sla_tz_valid(tz))
		return -1;
	old = getenv("TZ");
	if (old && !(saved = strdup(old)))
		return -1;
	if (setenv("TZ", tz, 1) != 0)
		goto out_free_saved;
	tzset();
	if (local_midnight(year, month, &s) == 0 &&
	    local_midnight(month == 12 ? year + 1 : year, month == 12 ? 1 : month + 1, &e) == 0 &&
	    s < e) {
		*start_ms = s;
		*end_ms = e;
		rc = 0;
		/* vgl_sla_tz_valid bounds tz below 64 bytes */
		snprintf(cache[cache_next].tz, sizeof(cache[0].tz), "%s", tz);
		cache[cache_next].year = year;
		cache[cache_next].month = month;
		cache[cache_next].start = s;
		cache[cache_next].end = e;
		cache_next = (cache_next + 1) % CACHE_N;
	}
	if (saved ? setenv("TZ", saved, 1) != 0 : unsetenv("TZ") != 0)
		rc = -1;
	tzset();
out_free_saved:
	free(saved);
	return rc;
}
