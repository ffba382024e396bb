/* The uptime and SLA-credit core: pure functions over intervals,
 * maintenance windows and counter samples (../shared/SLA.md). No database,
 * no daemon: storage/ and cli/ feed it; `vigil sla --input` feeds it from a
 * self-contained document. Both paths share this one computation.
 *
 * Exactness: percentages are integers in units of 10^-4 percent ("e4":
 * 99.94% = 999400, 100% = 1000000) and every comparison with a bound is done
 * on integers (milliseconds x 10^6 against bound x month length), so a
 * downtime exactly at a bound lands on the side the SLA says.
 */
#ifndef VGL_SLA_H
#define VGL_SLA_H

#include <stddef.h>
#include <stdint.h>

#define VGL_PCT_E4(whole, frac4) ((int64_t)(whole) * 10000 + (frac4))
#define VGL_SLA_MAX_BANDS 8
#define VGL_SLA_OPEN INT64_MAX          /* end_ms of an interval still open */

#include "core/cause.h"

enum vgl_sla_kind {
	VGL_SLA_AVAILABILITY,   /* up/down intervals (vserver, vbaremetal, vcs, ...) */
	VGL_SLA_BLOCK_ERRORS,   /* vstorage: 5-minute blocks, average block error rate */
	VGL_SLA_CYCLE_ERRORS,   /* vcdn: failed / total over the month */
};

enum vgl_credit_unit { VGL_CREDIT_PERCENT, VGL_CREDIT_DAYS };

/* Uptime in [from_e4, to_e4) earns credit. */
struct vgl_sla_band {
	int64_t from_e4;
	int64_t to_e4;
	int64_t credit;         /* percent of the month's fee, or days */
};

enum vgl_maint_kind { VGL_MAINT_PLANNED, VGL_MAINT_EMERGENCY };

struct vgl_sla_policy {
	char name[64];
	enum vgl_sla_kind kind;
	int64_t commitment_e4;
	struct vgl_sla_band bands[VGL_SLA_MAX_BANDS];   /* highest first */
	size_t n_bands;
	enum vgl_credit_unit unit;
	uint32_t counted;       /* bit (1u << enum vgl_cause) set: that cause counts */
	int64_t notice_ms[2];   /* by enum vgl_maint_kind: 72 h, 30 min */
	int64_t maint_cap_ms;   /* excluded maintenance per month at most: 120 min */
	char tz[64];            /* contract time zone (IANA name) */
};

/* vserver vlb vdb vbaremetal vstorage vcdn vcs; NULL if no such preset. */
const struct vgl_sla_policy *vgl_sla_preset(const char *name);
/* The i-th preset's name, NULL past the last: for listings and help. */
const char *vgl_sla_preset_name(size_t i);
/* 0, or -EINVAL with a one-line reason ("bands[1]: ...") in err: bands
 * highest first, non-overlapping, 0 <= from < to <= commitment <= 100%. */
int vgl_sla_policy_check(const struct vgl_sla_policy *p, char *err, size_t errlen);
/* A percentage as decimal text ("99.94", "95", "99.9"; at most 4 decimals,
 * at most 100) parsed exactly into e4. 0, or -1. s need not be
 * NUL-terminated: a config token can be passed as it lies in the file. */
int vgl_sla_pct_parse(const char *s, size_t len, int64_t *out);
/* 1 if tz names a zone file under /usr/share/zoneinfo ("UTC",
 * "Asia/Ho_Chi_Minh"); POSIX rule strings are refused. */
int vgl_sla_tz_valid(const char *tz);
/* "2026-11" -> 2026, 11. 0, or -1. */
int vgl_sla_month_parse(const char *s, int *year, int *month);

/* Month [start, end) in tz: local midnight of the 1st to local midnight of
 * the next 1st, as UTC ms. 0, or -1 for a bad month or unknown zone. Safe
 * from any thread: the zone file is read by sla/tzfile.c, never through
 * the process's TZ. */
int vgl_sla_month_bounds(const char *tz, int year, int month, int64_t *start_ms,
			 int64_t *end_ms);

struct vgl_sla_interval {
	int64_t id;             /* 0 when not from the database */
	int cause;              /* enum vgl_cause */
	int64_t start_ms;
	int64_t end_ms;         /* VGL_SLA_OPEN while open */
	const char *note;       /* may be NULL; copied */
	const char *rule;       /* may be NULL; copied */
};

struct vgl_sla_maint {
	int64_t id;
	enum vgl_maint_kind kind;
	int64_t start_ms, end_ms, announced_ms;
	const char *note;       /* may be NULL; copied */
};

/* Request and error counters as sampled (raw counter values). */
struct vgl_sla_counter {
	int64_t ts_ms;
	uint64_t total, failed;
};

struct vgl_sla_calc;

/* One host, one month. period = [month_start, month_end) cut to the
 * service window [svc_start_ms, svc_end_ms) (0 = not set), whatever now is.
 * For a period not yet over only what happened before now counts: open
 * intervals end at now, and intervals, observed spans and counter samples
 * after now are dropped; the uptime is still of the whole period, so it is
 * the month's figure given the downtime so far (what is already owed). */
struct vgl_sla_calc *vgl_sla_calc_new(const struct vgl_sla_policy *p, int64_t month_start_ms,
				      int64_t month_end_ms, int64_t now_ms,
				      int64_t svc_start_ms, int64_t svc_end_ms);
/* In any order, overlapping or not. 0 or -ENOMEM / -EINVAL. */
int vgl_sla_calc_add_interval(struct vgl_sla_calc *c, const struct vgl_sla_interval *iv);
int vgl_sla_calc_add_maint(struct vgl_sla_calc *c, const struct vgl_sla_maint *m);
/* Spans during which the daemon observed (runs: started .. last heartbeat). */
int vgl_sla_calc_add_observed(struct vgl_sla_calc *c, int64_t start_ms, int64_t end_ms);
/* Counter samples for the error-rate kinds; counters are 64-bit unless
 * wrap_bits == 32. In time order or not. */
int vgl_sla_calc_add_counter(struct vgl_sla_calc *c, const struct vgl_sla_counter *s,
			     int wrap_bits);

struct vgl_sla_result {
	int64_t month_ms;               /* calendar month length */
	int64_t period_ms;              /* measured: month cut to the service window */
	int partial;                    /* service started/ended inside the month */
	int64_t allowance_ms;           /* downtime allowed at the commitment over period_ms */
	int64_t counted_ms;             /* union of counted intervals in the period */
	int64_t maint_excluded_ms;      /* part of counted_ms inside qualifying windows, capped */
	int64_t excluded_ms[VGL_CAUSE_COUNT];   /* non-counted causes, union per cause */
	int64_t downtime_ms;            /* counted_ms - maint_excluded_ms */
	/* uptime = up_num / up_den exactly; uptime_pct for display only */
	int64_t up_num, up_den;
	double uptime_pct;
	int64_t uptime_e4;              /* floor(uptime x 10^6) */
	int breached;                   /* uptime < commitment */
	int band;                       /* index into policy bands, -1: none */
	int64_t credit;                 /* 0 when no band */
	int64_t observed_ms;            /* coverage: elapsed period time the daemon observed */
	double coverage_pct;
	/* error-rate kinds */
	uint64_t requests, failures;    /* over the period */
	int blocks;                     /* vstorage: 5-minute blocks in the period */
	/* added after the first version of this header */
	int64_t month_start_ms, month_end_ms;   /* as given to vgl_sla_calc_new */
	int64_t period_start_ms, period_end_ms; /* the measured part, [start, end) */
	int in_progress;                /* now is before the period's end: downtime so far */
	int up_exact;                   /* up_num / up_den is the exact uptime;
					 * 0: it is uptime_e10 / 10^12 (an error-
					 * rate month whose exact fraction does
					 * not fit 64 bits; bands are still decided
					 * on the exact or bracketed value) */
	int64_t uptime_e10;             /* floor(uptime x 10^12): units of 10^-10 % */
	double blocks_failed_rate_pct;  /* vstorage: the average block error rate */
	int64_t allowance_left_ms;      /* allowance_ms - downtime_ms; < 0 once breached */
	int64_t as_of_ms;               /* the now given to vgl_sla_calc_new */
	int begun;                      /* now >= the period's start */
	int64_t elapsed_ms;             /* of the period, up to now: coverage's base */
};

/* Computes; the calc may then be walked for the intervals that make up the
 * downtime (as clipped to the period, with counted/excluded flags). */
int vgl_sla_calc_finish(struct vgl_sla_calc *c, struct vgl_sla_result *out);

struct vgl_sla_part {
	const struct vgl_sla_interval *iv;      /* as added */
	int64_t start_ms, end_ms;               /* clipped to the period */
	int counted;                            /* cause counts under the policy */
	int64_t maint_excluded_ms;              /* of this part, excluded by maintenance */
};
typedef void vgl_sla_part_fn(void *ctx, const struct vgl_sla_part *part);
void vgl_sla_calc_each_part(const struct vgl_sla_calc *c, vgl_sla_part_fn *fn, void *ctx);

/* The maintenance windows as added, after finish: whether each qualified
 * (its notice met the rule for its kind) and how much counted downtime it
 * excluded (overlapping windows: the time is credited to the earliest). */
struct vgl_sla_maint_part {
	const struct vgl_sla_maint *m;          /* as added */
	int qualifies;
	int64_t notice_ms;                      /* start - announced */
	int64_t excluded_ms;
};
typedef void vgl_sla_maint_fn(void *ctx, const struct vgl_sla_maint_part *mp);
void vgl_sla_calc_each_maint(const struct vgl_sla_calc *c, vgl_sla_maint_fn *fn, void *ctx);
/* The policy the calc was made with (a copy). */
const struct vgl_sla_policy *vgl_sla_calc_policy(const struct vgl_sla_calc *c);

void vgl_sla_calc_free(struct vgl_sla_calc *c);

#endif
