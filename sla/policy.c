/* Built-in SLA policies (../shared/SLA.md "Commitments and credit tiers")
 * and the checks any policy, built-in or custom, must pass.
 *
 * A policy is data. Presets are const and never modified; callers that
 * need a different zone or causes copy one and edit the copy. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "sla/sla.h"

#define BIT(c) (1u << (c))
/* SLA.md: customer and force majeure never count; bare metal also leaves
 * out facility power/cooling declared beyond the provider's control
 * (seed 4.11b). unknown counts: the customer must not lose credit because
 * attribution failed. */
#define COUNTED_CLOUD (BIT(VGL_CAUSE_NETWORK) | BIT(VGL_CAUSE_HARDWARE) | BIT(VGL_CAUSE_POWER) | \
		       BIT(VGL_CAUSE_FACILITY) | BIT(VGL_CAUSE_MAINTENANCE) | BIT(VGL_CAUSE_UNKNOWN))
#define COUNTED_BAREMETAL (COUNTED_CLOUD & ~BIT(VGL_CAUSE_FACILITY))

#define NOTICE { 72LL * 3600 * 1000, 30LL * 60 * 1000 }
#define CAP (120LL * 60 * 1000)
#define P VGL_PCT_E4

/* Bands highest first; "below X" starts at 0. */
static const struct vgl_sla_policy presets[] = {
	{ "vserver", VGL_SLA_AVAILABILITY, P(99, 9400),
	  { { P(99, 9000), P(99, 9400), 10 }, { P(95, 0), P(99, 9000), 30 }, { 0, P(95, 0), 100 } },
	  3, VGL_CREDIT_PERCENT, COUNTED_CLOUD, NOTICE, CAP, "UTC" },
	{ "vlb", VGL_SLA_AVAILABILITY, P(99, 9400),
	  { { P(99, 9000), P(99, 9400), 10 }, { P(95, 0), P(99, 9000), 30 }, { 0, P(95, 0), 100 } },
	  3, VGL_CREDIT_PERCENT, COUNTED_CLOUD, NOTICE, CAP, "UTC" },
	{ "vdb", VGL_SLA_AVAILABILITY, P(99, 9400),
	  { { P(99, 9000), P(99, 9400), 10 }, { P(95, 0), P(99, 9000), 30 }, { 0, P(95, 0), 100 } },
	  3, VGL_CREDIT_PERCENT, COUNTED_CLOUD, NOTICE, CAP, "UTC" },
	{ "vbaremetal", VGL_SLA_AVAILABILITY, P(99, 9000),
	  { { P(99, 0), P(99, 9000), 10 }, { P(95, 0), P(99, 0), 30 }, { 0, P(95, 0), 100 } },
	  3, VGL_CREDIT_PERCENT, COUNTED_BAREMETAL, NOTICE, CAP, "UTC" },
	/* [99.90, 99.99) breaches the commitment but the seed's table gives
	 * no credit there: no band covers it, so "breached, credit 0". */
	{ "vstorage", VGL_SLA_BLOCK_ERRORS, P(99, 9900),
	  { { P(99, 0), P(99, 9000), 10 }, { P(95, 0), P(99, 0), 30 }, { 0, P(95, 0), 100 } },
	  3, VGL_CREDIT_PERCENT, COUNTED_CLOUD, NOTICE, CAP, "UTC" },
	{ "vcdn", VGL_SLA_CYCLE_ERRORS, P(99, 9000),
	  { { P(99, 0), P(99, 9000), 5 }, { P(95, 0), P(99, 0), 10 }, { P(90, 0), P(95, 0), 30 },
	    { 0, P(90, 0), 100 } },
	  4, VGL_CREDIT_PERCENT, COUNTED_CLOUD, NOTICE, CAP, "UTC" },
	/* Credit in extra days of service: below 99.8 -> 7, below 99.50 -> 10,
	 * below 99.00 -> 15. */
	{ "vcs", VGL_SLA_AVAILABILITY, P(99, 8000),
	  { { P(99, 5000), P(99, 8000), 7 }, { P(99, 0), P(99, 5000), 10 }, { 0, P(99, 0), 15 } },
	  3, VGL_CREDIT_DAYS, COUNTED_CLOUD, NOTICE, CAP, "UTC" },
};

const struct vgl_sla_policy *vgl_sla_preset(const char *name)
{
	if (!name)
		return NULL;
	for (size_t i = 0; i < sizeof(presets) / sizeof(presets[0]); i++)
		if (strcmp(presets[i].name, name) == 0)
			return &presets[i];
	return NULL;
}

const char *vgl_sla_preset_name(size_t i)
{
	return i < sizeof(presets) / sizeof(presets[0]) ? presets[i].name : NULL;
}

static int fail(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

int vgl_sla_policy_check(const struct vgl_sla_policy *p, char *err, size_t errlen)
{
	if (p->kind != VGL_SLA_AVAILABILITY && p->kind != VGL_SLA_BLOCK_ERRORS &&
	    p->kind != VGL_SLA_CYCLE_ERRORS)
		return fail(err, errlen, "kind: unknown");
	if (p->commitment_e4 <= 0 || p->commitment_e4 > VGL_PCT_E4(100, 0))
		return fail(err, errlen, "commitment: expected more than 0 and at most 100");
	if (p->n_bands > VGL_SLA_MAX_BANDS)
		return fail(err, errlen, "bands: at most %d", VGL_SLA_MAX_BANDS);
	for (size_t i = 0; i < p->n_bands; i++) {
		const struct vgl_sla_band *b = &p->bands[i];

		if (b->from_e4 < 0 || b->from_e4 >= b->to_e4)
			return fail(err, errlen, "bands[%zu]: expected 0 <= from < to", i);
		/* A band reaching above the commitment would pay credit on a
		 * month that met it. */
		if (b->to_e4 > p->commitment_e4)
			return fail(err, errlen, "bands[%zu].to: above the commitment", i);
		if (i > 0 && b->to_e4 > p->bands[i - 1].from_e4)
			return fail(err, errlen,
				    "bands[%zu]: bands must be ordered highest first and not overlap", i);
		if (b->credit < 0)
			return fail(err, errlen, "bands[%zu].credit: negative", i);
	}
	if (p->unit != VGL_CREDIT_PERCENT && p->unit != VGL_CREDIT_DAYS)
		return fail(err, errlen, "unit: expected percent or days");
	if (p->counted & ~((1u << VGL_CAUSE_COUNT) - 1))
		return fail(err, errlen, "counted: unknown cause bit");
	if (p->notice_ms[0] < 0 || p->notice_ms[1] < 0)
		return fail(err, errlen, "notice: negative");
	if (p->maint_cap_ms < 0)
		return fail(err, errlen, "maint_cap: negative");
	if (!memchr(p->tz, '\0', sizeof(p->tz)) || !p->tz[0])
		return fail(err, errlen, "tz: empty or too long");
	return 0;
}

int vgl_sla_pct_parse(const char *s, size_t len, int64_t *out)
{
	int64_t whole = 0, frac = 0;
	size_t i = 0, digits = 0, fdigits = 0;

	/* Decimal text only ("99.94", "95", "99.9"): no sign, no exponent, at
	 * most 4 decimals, so the value is exactly representable in e4. */
	while (i < len && s[i] >= '0' && s[i] <= '9') {
		whole = whole * 10 + (s[i] - '0');
		if (whole > 100)
			return -1;
		i++, digits++;
	}
	if (!digits)
		return -1;
	if (i < len && s[i] == '.') {
		i++;
		while (i < len && s[i] >= '0' && s[i] <= '9') {
			if (++fdigits > 4)
				return -1;
			frac = frac * 10 + (s[i] - '0');
			i++;
		}
		if (!fdigits)
			return -1;
	}
	if (i != len)
		return -1;
	for (; fdigits < 4; fdigits++)
		frac *= 10;
	*out = whole * 10000 + frac;
	return *out > VGL_PCT_E4(100, 0) ? -1 : 0;
}
