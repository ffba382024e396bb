/* The "sla" and "policies" keys: the default zone, the presets with it
 * applied, and custom policies validated completely (percentages as exact
 * e4 integers, bands that tile, a zone that exists). */
#include "conf/ld.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/vtime.h"
#include "sla/sla.h"

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

/* ---- SLA policies ------------------------------------------------------------ */

/* Every percentage goes from the token's text straight to e4 integers
 * (sla.h), never through a double: 99.95 must compare as 99.95. */
static int get_pct(struct ld *l, const struct vgl__doc *d, int v, const struct kp *kp,
		   int64_t *out)
{
	const char *s = d->text + d->tok[v].start;
	int n = d->tok[v].end - d->tok[v].start;
	int str = d->tok[v].type == VGL_J_STRING;
	int num = d->tok[v].type == VGL_J_PRIMITIVE && !strchr("tfn", s[0]);

	if ((str || num) && vgl_sla_pct_parse(s, (size_t)n, out) == 0)
		return 0;
	if (str || num)
		vgl__errk(l, d, vgl__tok_pos(d, v), kp, "expected a percentage 0-100 with at most 4 "
		     "decimals (99.95 or \"99.95\"), got %s%.*s%s", str ? "\"" : "",
		     n > 24 ? 24 : n, s, str ? "\"" : "");
	else
		vgl__errk(l, d, vgl__tok_pos(d, v), kp, "expected a percentage 0-100 with at most 4 "
		     "decimals (99.95 or \"99.95\"), got %s", vgl__tok_kind(d, v));
	return -1;
}

/* "99.95" for 999500: exact, trailing zeros dropped. */
static const char *fmt_pct(int64_t e4, char *buf, size_t n)
{
	int64_t frac = e4 % 10000;
	int digits = 4;

	if (!frac) {
		snprintf(buf, n, "%lld", (long long)(e4 / 10000));
		return buf;
	}
	while (frac % 10 == 0) {
		frac /= 10;
		digits--;
	}
	snprintf(buf, n, "%lld.%0*lld", (long long)(e4 / 10000), digits, (long long)frac);
	return buf;
}

/* A string that must be one of choices (NULL-terminated): its index, or
 * -1 after reporting. */
static int get_choice(struct ld *l, const struct vgl__doc *d, int v, const struct kp *kp,
		      const char *const *choices, const char *expected)
{
	char *s;
	int i;

	if (vgl__get_str(l, d, v, kp, &s) != 0)
		return -1;
	for (i = 0; choices[i]; i++)
		if (strcmp(s, choices[i]) == 0)
			break;
	if (!choices[i]) {
		vgl__errk(l, d, vgl__tok_pos(d, v), kp, "expected %s, got \"%s\"", expected, s);
		i = -1;
	}
	free(s);
	return i;
}

/* A zone name into buf[64], checked against the system's zone files. */
static int get_tz(struct ld *l, const struct vgl__doc *d, int v, const struct kp *kp,
		  char *buf, size_t n)
{
	char *s;
	int r = -1;

	if (vgl__get_str(l, d, v, kp, &s) != 0)
		return -1;
	if (strlen(s) >= n || !vgl_sla_tz_valid(s))
		vgl__errk(l, d, vgl__tok_pos(d, v), kp, "unknown time zone '%s': expected a zone "
		     "name under /usr/share/zoneinfo such as \"Asia/Ho_Chi_Minh\" or \"UTC\"", s);
	else
		r = 0;
	if (r == 0)
		snprintf(buf, n, "%s", s);
	free(s);
	return r;
}

static const struct vgl_sla_policy *find_preset(const struct vgl_conf *c, const char *name)
{
	for (size_t i = 0; i < c->n_presets; i++)
		if (strcmp(c->presets[i].name, name) == 0)
			return &c->presets[i];
	return NULL;
}

const struct vgl_sla_policy *vgl_conf_policy(const struct vgl_conf *c, const char *name)
{
	if (!c || !name)
		return NULL;
	for (size_t i = 0; i < c->n_policies; i++)
		if (strcmp(c->policies[i].name, name) == 0)
			return &c->policies[i];
	return find_preset(c, name);
}

/* The presets of sla/, each with the config's default zone. */
int vgl__make_presets(struct vgl_conf *c)
{
	size_t n = 0;

	while (vgl_sla_preset_name(n))
		n++;
	c->presets = calloc(n ? n : 1, sizeof(*c->presets));
	if (!c->presets)
		return -1;
	for (size_t i = 0; i < n; i++) {
		const struct vgl_sla_policy *p = vgl_sla_preset(vgl_sla_preset_name(i));
		if (!p)
			return -1;
		c->presets[i] = *p;
		snprintf(c->presets[i].tz, sizeof(c->presets[i].tz), "%s", c->sla_tz);
	}
	c->n_presets = n;
	return 0;
}

void vgl__preset_list(const struct vgl_conf *c, char *buf, size_t n)
{
	size_t len = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < c->n_presets && len < n; i++) {
		int w = snprintf(buf + len, n - len, "%s%s", i ? ", " : "", c->presets[i].name);
		if (w < 0)
			break;
		len += (size_t)w;
	}
}

enum { B_FROM, B_TO, B_CREDIT, B_N };
static const char *const band_keys[] = { "from", "to", "credit", NULL };

/* The bands array arr over p (whose unit and commitment are settled). Each
 * band is checked where it is written: from < to, to at most the
 * commitment, highest first without overlap. */
static void parse_bands(struct ld *l, const struct vgl__doc *d, int arr, const struct kp *kp,
			int commit_known, struct vgl_sla_policy *p)
{
	long max_credit = p->unit == VGL_CREDIT_DAYS ? 366 : 100;
	int e = arr + 1, prev_ok = 0;
	char a[24], b[24];

	p->n_bands = 0;
	if (vgl__want_type(l, d, arr, kp, VGL_J_ARRAY, "an array of {from, to, credit}") != 0)
		return;
	if (d->tok[arr].size > VGL_SLA_MAX_BANDS) {
		vgl__errk(l, d, vgl__tok_pos(d, arr), kp, "at most %d bands, got %d",
		     VGL_SLA_MAX_BANDS, d->tok[arr].size);
		return;
	}
	for (int i = 0; i < d->tok[arr].size; i++, e = d->tok[e].next) {
		struct kp ik = { kp, NULL, 0, i };
		struct vgl_sla_band *bd = &p->bands[p->n_bands];
		int v[B_N], ok = 1;
		long credit = 0;

		if (vgl__want_type(l, d, e, &ik, VGL_J_OBJECT, "an object {from, to, credit}") != 0) {
			prev_ok = 0;
			continue;
		}
		vgl__obj_fields(l, d, e, &ik, band_keys, v);
		for (int k = 0; k < B_N; k++) {
			if (v[k] < 0) {
				vgl__errk(l, d, vgl__tok_pos(d, e), &ik, "missing required key '%s'",
				     band_keys[k]);
				ok = 0;
			}
		}
#define BK(k) (&(struct kp){ &ik, band_keys[k], -1, 0 })
		if (v[B_FROM] >= 0 && get_pct(l, d, v[B_FROM], BK(B_FROM), &bd->from_e4) != 0)
			ok = 0;
		if (v[B_TO] >= 0 && get_pct(l, d, v[B_TO], BK(B_TO), &bd->to_e4) != 0)
			ok = 0;
		if (v[B_CREDIT] >= 0 &&
		    vgl__get_int(l, d, v[B_CREDIT], BK(B_CREDIT), 0, max_credit, &credit) != 0)
			ok = 0;
		bd->credit = credit;
		if (ok && bd->from_e4 >= bd->to_e4) {
			vgl__errk(l, d, vgl__tok_pos(d, v[B_FROM]), BK(B_FROM),
			     "from (%s) must be below to (%s)", fmt_pct(bd->from_e4, a, sizeof(a)),
			     fmt_pct(bd->to_e4, b, sizeof(b)));
			ok = 0;
		}
		/* A band reaching above the commitment would pay credit for a
		 * month that met it. */
		if (ok && commit_known && bd->to_e4 > p->commitment_e4) {
			vgl__errk(l, d, vgl__tok_pos(d, v[B_TO]), BK(B_TO),
			     "%s is above the commitment %s: a month that met the commitment "
			     "would earn credit", fmt_pct(bd->to_e4, a, sizeof(a)),
			     fmt_pct(p->commitment_e4, b, sizeof(b)));
			ok = 0;
		}
		if (ok && prev_ok && bd->to_e4 > p->bands[p->n_bands - 1].from_e4) {
			vgl__errk(l, d, vgl__tok_pos(d, v[B_TO]), BK(B_TO),
			     "%s is above bands[%d].from (%s): bands go highest first and must "
			     "not overlap", fmt_pct(bd->to_e4, a, sizeof(a)), i - 1,
			     fmt_pct(p->bands[p->n_bands - 1].from_e4, b, sizeof(b)));
			ok = 0;
		}
#undef BK
		prev_ok = ok;
		if (ok)
			p->n_bands++;
	}
}

enum { P_BASE, P_KIND, P_COMMIT, P_BANDS, P_UNIT, P_CAUSES, P_NOTICE_PLANNED,
       P_NOTICE_EMERGENCY, P_CAP, P_TZ, P_N };
static const char *const policy_keys[] = {
	"base", "kind", "commitment", "bands", "credit_unit", "counted_causes",
	"notice_planned_h", "notice_emergency_min", "maintenance_cap_min", "tz", NULL,
};

/* One custom policy into *p: a preset's copy ("base") or SLA.md's cloud
 * defaults, then the keys given. A contract without a base must state its
 * commitment and bands itself. */
static void parse_policy(struct ld *l, const struct vgl__doc *d, int obj, const struct kp *pk,
			 const char *name, struct vgl_sla_policy *p)
{
	static const char *const kinds[] = { "availability", "block_errors", "cycle_errors",
					     NULL };
	static const char *const units[] = { "percent", "days", NULL };
	size_t before = l->n_errs;
	int v[P_N], commit_known = 0, r;
	char msg[256];
	long x;
#define KP(i) (&(struct kp){ pk, policy_keys[i], -1, 0 })

	memset(p, 0, sizeof(*p));
	if (vgl__want_type(l, d, obj, pk, VGL_J_OBJECT, "an object") != 0)
		goto out_name;
	vgl__obj_fields(l, d, obj, pk, policy_keys, v);
	if (v[P_BASE] >= 0) {
		char *s, list[128];
		const struct vgl_sla_policy *b;

		if (vgl__get_str(l, d, v[P_BASE], KP(P_BASE), &s) != 0)
			goto out_name;
		b = find_preset(l->c, s);
		if (!b) {
			vgl__preset_list(l->c, list, sizeof(list));
			vgl__errk(l, d, vgl__tok_pos(d, v[P_BASE]), KP(P_BASE),
			     "unknown preset '%s': expected one of %s", s, list);
			free(s);
			goto out_name;
		}
		free(s);
		*p = *b;
		commit_known = 1;
	} else {
		/* SLA.md's defaults for the cloud services: what counts, the
		 * notice rules and the cap. */
		const struct vgl_sla_policy *b = find_preset(l->c, "vserver");

		if (b)
			*p = *b;
		p->n_bands = 0;
		p->commitment_e4 = 0;
		p->kind = VGL_SLA_AVAILABILITY;
		p->unit = VGL_CREDIT_PERCENT;
		snprintf(p->tz, sizeof(p->tz), "%s", l->c->sla_tz);
		if (v[P_COMMIT] < 0)
			vgl__errk(l, d, vgl__tok_pos(d, obj), pk, "missing required key 'commitment' "
			     "(or a \"base\" preset to start from)");
		if (v[P_BANDS] < 0)
			vgl__errk(l, d, vgl__tok_pos(d, obj), pk, "missing required key 'bands' "
			     "(or a \"base\" preset to start from)");
	}
	if (v[P_KIND] >= 0 && (r = get_choice(l, d, v[P_KIND], KP(P_KIND), kinds,
					      "\"availability\", \"block_errors\" or "
					      "\"cycle_errors\"")) >= 0)
		p->kind = (enum vgl_sla_kind)r;
	if (v[P_UNIT] >= 0 && (r = get_choice(l, d, v[P_UNIT], KP(P_UNIT), units,
					      "\"percent\" or \"days\"")) >= 0)
		p->unit = r ? VGL_CREDIT_DAYS : VGL_CREDIT_PERCENT;
	if (v[P_COMMIT] >= 0) {
		commit_known = 0;
		if (get_pct(l, d, v[P_COMMIT], KP(P_COMMIT), &p->commitment_e4) == 0) {
			if (p->commitment_e4 == 0)
				vgl__errk(l, d, vgl__tok_pos(d, v[P_COMMIT]), KP(P_COMMIT),
				     "must be above 0");
			else
				commit_known = 1;
		}
	}
	if (v[P_BANDS] >= 0)
		parse_bands(l, d, v[P_BANDS], KP(P_BANDS), commit_known, p);
	if (v[P_CAUSES] >= 0 &&
	    vgl__want_type(l, d, v[P_CAUSES], KP(P_CAUSES), VGL_J_ARRAY, "an array of causes") == 0) {
		int e = v[P_CAUSES] + 1;

		p->counted = 0;
		for (int i = 0; i < d->tok[v[P_CAUSES]].size; i++, e = d->tok[e].next) {
			struct kp ck = { KP(P_CAUSES), NULL, 0, i };
			char *s;
			int ci;

			if (vgl__get_str(l, d, e, &ck, &s) != 0)
				continue;
			ci = vgl_cause_index(s);
			if (ci < 0)
				vgl__errk(l, d, vgl__tok_pos(d, e), &ck, "unknown cause '%s': expected one "
				     "of network, hardware, power, facility, maintenance, customer, "
				     "force_majeure, unknown", s);
			else if (p->counted & (1u << ci))
				vgl__errk(l, d, vgl__tok_pos(d, e), &ck, "cause '%s' listed twice", s);
			else
				p->counted |= 1u << ci;
			free(s);
		}
	}
	if (v[P_NOTICE_PLANNED] >= 0 &&
	    vgl__get_int(l, d, v[P_NOTICE_PLANNED], KP(P_NOTICE_PLANNED), 0, 8760, &x) == 0)
		p->notice_ms[VGL_MAINT_PLANNED] = (int64_t)x * 3600 * 1000;
	if (v[P_NOTICE_EMERGENCY] >= 0 &&
	    vgl__get_int(l, d, v[P_NOTICE_EMERGENCY], KP(P_NOTICE_EMERGENCY), 0, 10080, &x) == 0)
		p->notice_ms[VGL_MAINT_EMERGENCY] = (int64_t)x * 60 * 1000;
	/* 44640 min = 31 days: a cap above a month would never bind. */
	if (v[P_CAP] >= 0 && vgl__get_int(l, d, v[P_CAP], KP(P_CAP), 0, 44640, &x) == 0)
		p->maint_cap_ms = (int64_t)x * 60 * 1000;
	if (v[P_TZ] >= 0)
		get_tz(l, d, v[P_TZ], KP(P_TZ), p->tz, sizeof(p->tz));
	snprintf(p->name, sizeof(p->name), "%s", name);
	/* What is left for the core's own check is what spans keys: a base's
	 * bands against a new commitment, a base's credits against a new
	 * unit. Reported at the key that changed. */
	if (l->n_errs == before && vgl_sla_policy_check(p, msg, sizeof(msg)) != 0) {
		int at = v[P_COMMIT] >= 0 ? v[P_COMMIT] : obj;
		vgl__errk(l, d, vgl__tok_pos(d, at), v[P_COMMIT] >= 0 ? KP(P_COMMIT) : pk,
		     "the policy is inconsistent: %s%s", msg,
		     v[P_BASE] >= 0 && v[P_BANDS] < 0 ? " (give \"bands\" to replace the base's)" :
		     "");
	}
	if (l->n_errs == before && p->unit == VGL_CREDIT_PERCENT)
		for (size_t i = 0; i < p->n_bands; i++)
			if (p->bands[i].credit > 100) {
				vgl__errk(l, d, vgl__tok_pos(d, v[P_UNIT] >= 0 ? v[P_UNIT] : obj),
				     v[P_UNIT] >= 0 ? KP(P_UNIT) : pk,
				     "bands[%zu].credit %lld is above 100 percent", i,
				     (long long)p->bands[i].credit);
				break;
			}
	return;
out_name:
	snprintf(p->name, sizeof(p->name), "%s", name);
#undef KP
}

static int valid_policy_name(const char *s)
{
	size_t n = strlen(s);

	if (!n || n >= sizeof(((struct vgl_sla_policy *)0)->name))
		return 0;
	for (; *s; s++)
		if (!(isalnum((unsigned char)*s) || *s == '.' || *s == '_' || *s == '-'))
			return 0;
	return 1;
}

/* "policies" of the main file. A policy with errors is still entered under
 * its name (the load fails anyway), so hosts naming it are not also told
 * that it does not exist. */
void vgl__load_policies(struct ld *l, const struct vgl__doc *d, int obj)
{
	struct kp root = { NULL, "policies", -1, 0 };
	struct vgl_conf *c = l->c;
	int k = obj + 1;

	if (vgl__want_type(l, d, obj, &root, VGL_J_OBJECT, "an object") != 0)
		return;
	c->policies = calloc((size_t)d->tok[obj].size + 1, sizeof(*c->policies));
	if (!c->policies) {
		vgl__oom(l);
		return;
	}
	for (int i = 0; i < d->tok[obj].size; i++) {
		int v = k + 1;
		struct kp pk = { &root, d->text + d->tok[k].start, d->tok[k].end - d->tok[k].start,
				 0 };
		char *name = vgl__tok_str(d, k);

		k = d->tok[v].next;
		if (!name) {
			vgl__oom(l);
			return;
		}
		if (!valid_policy_name(name)) {
			vgl__errk(l, d, vgl__tok_pos(d, v - 1), &pk,
			     "policy name must be 1-63 of [A-Za-z0-9._-]");
		} else if (vgl__earlier_key(d, obj, v - 1) >= 0) {
			vgl__errk(l, d, vgl__tok_pos(d, v - 1), &pk, "duplicate key");
		} else if (find_preset(c, name)) {
			vgl__errk(l, d, vgl__tok_pos(d, v - 1), &pk,
			     "'%s' is a built-in preset: give the custom policy another name "
			     "(with \"base\": \"%s\" to start from the preset)", name, name);
		} else {
			parse_policy(l, d, v, &pk, name, &c->policies[c->n_policies++]);
		}
		free(name);
	}
}

void vgl__load_sla(struct ld *l, const struct vgl__doc *d, int obj)
{
	static const char *const keys[] = { "tz", NULL };
	struct kp sk = { NULL, "sla", -1, 0 };
	int v[1];

	if (vgl__want_type(l, d, obj, &sk, VGL_J_OBJECT, "an object") != 0)
		return;
	vgl__obj_fields(l, d, obj, &sk, keys, v);
	if (v[0] >= 0)
		get_tz(l, d, v[0], &(struct kp){ &sk, "tz", -1, 0 }, l->c->sla_tz,
		       sizeof(l->c->sla_tz));
}
