/* The top-level "alarms", "channels" and "escalation" of the main config
 * file (alarms/alarm_conf.h, docs/alarms.md). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alarms/alarm_conf.h"
#include "conf/ld.h"
#include "notify/channel.h"
#include "rules/rule_conf.h"

void vgl_alarm_conf_free(struct vgl_alarm_conf *a)
{
	if (!a)
		return;
	vgl_channels_free(a->channels, a->n_channels);
	for (size_t i = 0; i < a->n_policies; i++) {
		struct vgl_esc_policy *p = &a->policies[i];

		free(p->name);
		for (size_t k = 0; k < p->n_match; k++) {
			free(p->match_keys[k]);
			free(p->match_values[k]);
		}
		free(p->match_keys);
		free(p->match_values);
		for (size_t s = 0; s < p->n_steps; s++) {
			for (size_t k = 0; k < p->steps[s].n_notify; k++)
				free(p->steps[s].notify[k]);
			free(p->steps[s].notify);
		}
		free(p->steps);
	}
	free(a->policies);
	free(a);
}

const struct vgl_esc_policy *vgl_alarm_conf_policy(const struct vgl_alarm_conf *c,
						   enum vgl_severity sev,
						   const char *const *keys,
						   const char *const *values, size_t n)
{
	for (size_t i = 0; c && i < c->n_policies; i++) {
		const struct vgl_esc_policy *p = &c->policies[i];
		int ok = !p->severities || (p->severities & (1u << sev));

		for (size_t m = 0; ok && m < p->n_match; m++) {
			ok = 0;
			for (size_t k = 0; k < n; k++)
				if (strcmp(keys[k], p->match_keys[m]) == 0 &&
				    strcmp(values[k], p->match_values[m]) == 0)
					ok = 1;
		}
		if (ok)
			return p;
	}
	return NULL;
}

static int has_channel(const struct vgl_alarm_conf *a, const char *name)
{
	for (size_t i = 0; i < a->n_channels; i++)
		if (strcmp(a->channels[i].name, name) == 0)
			return 1;
	return 0;
}

static int add_notify(struct vgl_esc_step *s, const char *name)
{
	char **n = realloc(s->notify, (s->n_notify + 1) * sizeof(*n));

	if (!n)
		return -1;
	s->notify = n;
	if (!(n[s->n_notify] = strdup(name)))
		return -1;
	s->n_notify++;
	return 0;
}

/* SLA.md's commitments: respond within 15 min, on site within 4 h. The
 * on-call at once, the next level at 15 min unacknowledged, the site lead
 * at 4 h uncleared, over the channels of those names; a site with other
 * names gets every channel at once. info alarms page nobody. */
static int default_policy(struct vgl_alarm_conf *a)
{
	static const struct { uint32_t after_s; const char *ch; int until_clear; } want[] = {
		{ 0, "oncall", 0 }, { 900, "secondary", 0 }, { 14400, "site-lead", 1 },
	};
	struct vgl_esc_policy *p;

	a->policies_default = 1;
	if (!a->n_channels)
		return 0;
	if (!(a->policies = calloc(1, sizeof(*a->policies))))
		return -1;
	p = &a->policies[0];
	a->n_policies = 1;
	if (!(p->name = strdup("default")) || !(p->steps = calloc(3, sizeof(*p->steps))))
		return -1;
	p->severities = ((1u << VGL_SEV_COUNT) - 1) & ~(1u << VGL_SEV_INFO);
	for (size_t i = 0; i < 3; i++) {
		if (!has_channel(a, want[i].ch))
			continue;
		struct vgl_esc_step *s = &p->steps[p->n_steps++];

		s->after_ms = want[i].after_s * 1000;
		s->until_clear = want[i].until_clear;
		if (add_notify(s, want[i].ch) != 0)
			return -1;
	}
	if (!p->n_steps) {
		struct vgl_esc_step *s = &p->steps[p->n_steps++];

		for (size_t i = 0; i < a->n_channels; i++)
			if (add_notify(s, a->channels[i].name) != 0)
				return -1;
	}
	return 0;
}

static int get_s(struct ld *l, const struct vgl__doc *d, int v, const struct kp *kp, long lo,
		 long hi, uint32_t *ms)
{
	long x;

	if (v < 0 || vgl__get_int(l, d, v, kp, lo, hi, &x) != 0)
		return -1;
	*ms = (uint32_t)x * 1000;
	return 0;
}

static void load_alarms_obj(struct ld *l, const struct vgl__doc *d, int obj,
			    struct vgl_alarm_conf *a)
{
	static const char *const keys[] = { "flap_changes", "flap_window_s", "dependency_wait_s",
					    "retry_max_s", "response", "sla_rules", NULL };
	static const char *const rkeys[] = { "ack_s", "clear_s", NULL };
	struct kp ak = { NULL, "alarms", -1, 0 };
	int v[6], r[2];
	long x;

	if (vgl__want_type(l, d, obj, &ak, VGL_J_OBJECT, "an object") != 0)
		return;
	vgl__obj_fields(l, d, obj, &ak, keys, v);
#define K(i) (&(struct kp){ &ak, keys[i], -1, 0 })
	if (v[0] >= 0 && vgl__get_int(l, d, v[0], K(0), 1, 1000, &x) == 0)
		a->flap_changes = (uint32_t)x;
	get_s(l, d, v[1], K(1), 10, 86400, &a->flap_window_ms);
	get_s(l, d, v[2], K(2), 0, 3600, &a->dependency_wait_ms);
	get_s(l, d, v[3], K(3), 1, 3600, &a->retry_max_ms);
	if (v[4] >= 0 && vgl__want_type(l, d, v[4], K(4), VGL_J_OBJECT, "an object") == 0) {
		vgl__obj_fields(l, d, v[4], K(4), rkeys, r);
		get_s(l, d, r[0], &(struct kp){ K(4), "ack_s", -1, 0 }, 1, 86400 * 7, &a->ack_ms);
		get_s(l, d, r[1], &(struct kp){ K(4), "clear_s", -1, 0 }, 1, 86400 * 31,
		      &a->clear_ms);
	}
	if (v[5] >= 0) {
		const char *b = d->text + d->tok[v[5]].start;

		if (d->tok[v[5]].type == VGL_J_PRIMITIVE && (b[0] == 't' || b[0] == 'f'))
			a->sla_rules = b[0] == 't';
		else
			vgl__errk(l, d, vgl__tok_pos(d, v[5]), K(5), "expected true or false, got %s",
				  vgl__tok_kind(d, v[5]));
	}
#undef K
}

static int str_array(struct ld *l, const struct vgl__doc *d, int v, const struct kp *kp,
		     char ***out, size_t *n)
{
	int e = v + 1;

	if (vgl__want_type(l, d, v, kp, VGL_J_ARRAY, "an array of names") != 0)
		return -1;
	if (d->tok[v].size && !(*out = calloc((size_t)d->tok[v].size, sizeof(char *)))) {
		vgl__oom(l);
		return -1;
	}
	for (int i = 0; i < d->tok[v].size; i++, e = d->tok[e].next)
		if (vgl__get_str(l, d, e, &(struct kp){ kp, NULL, 0, i }, &(*out)[*n]) == 0)
			(*n)++;
	return 0;
}

static void load_step(struct ld *l, const struct vgl__doc *d, int obj, const struct kp *sk,
		      const struct vgl_alarm_conf *a, struct vgl_esc_step *s)
{
	static const char *const keys[] = { "after_s", "notify", "repeat_s", "until", NULL };
	int v[4];
	char *u;

	if (vgl__want_type(l, d, obj, sk, VGL_J_OBJECT, "an object") != 0)
		return;
	vgl__obj_fields(l, d, obj, sk, keys, v);
	get_s(l, d, v[0], &(struct kp){ sk, "after_s", -1, 0 }, 0, 86400 * 7, &s->after_ms);
	get_s(l, d, v[2], &(struct kp){ sk, "repeat_s", -1, 0 }, 1, 86400, &s->repeat_ms);
	if (v[3] >= 0 && vgl__get_str(l, d, v[3], &(struct kp){ sk, "until", -1, 0 }, &u) == 0) {
		if (strcmp(u, "clear") == 0)
			s->until_clear = 1;
		else if (strcmp(u, "ack") != 0)
			vgl__errk(l, d, vgl__tok_pos(d, v[3]), &(struct kp){ sk, "until", -1, 0 },
				  "expected \"ack\" or \"clear\", got \"%s\"", u);
		free(u);
	}
	if (v[1] < 0) {
		vgl__errk(l, d, vgl__tok_pos(d, obj), sk, "missing required key 'notify'");
		return;
	}
	struct kp nk = { sk, "notify", -1, 0 };
	if (str_array(l, d, v[1], &nk, &s->notify, &s->n_notify) != 0)
		return;
	for (size_t i = 0, e = (size_t)v[1] + 1; i < s->n_notify; i++, e = (size_t)d->tok[e].next)
		if (!has_channel(a, s->notify[i]))
			vgl__errk(l, d, vgl__tok_pos(d, (int)e), &(struct kp){ &nk, NULL, 0, (long)i },
				  "no channel named '%s' in \"channels\"", s->notify[i]);
}

static void load_policy(struct ld *l, const struct vgl__doc *d, int obj, const struct kp *pk,
			const struct vgl_alarm_conf *a, struct vgl_esc_policy *p)
{
	static const char *const keys[] = { "name", "match", "steps", NULL };
	static const char *const mkeys[] = { "severity", "labels", NULL };
	int v[3], m[2];

	if (vgl__want_type(l, d, obj, pk, VGL_J_OBJECT, "an object") != 0)
		return;
	vgl__obj_fields(l, d, obj, pk, keys, v);
	if (v[0] < 0)
		vgl__errk(l, d, vgl__tok_pos(d, obj), pk, "missing required key 'name'");
	else
		vgl__get_str(l, d, v[0], &(struct kp){ pk, "name", -1, 0 }, &p->name);
	if (v[1] >= 0) {
		struct kp mk = { pk, "match", -1, 0 };

		if (vgl__want_type(l, d, v[1], &mk, VGL_J_OBJECT, "an object") == 0) {
			vgl__obj_fields(l, d, v[1], &mk, mkeys, m);
			if (m[0] >= 0) {
				struct kp sk = { &mk, "severity", -1, 0 };
				char **sv = NULL;
				size_t ns = 0;

				if (str_array(l, d, m[0], &sk, &sv, &ns) == 0)
					for (size_t i = 0; i < ns; i++) {
						enum vgl_severity s;
						if (vgl_severity_parse(sv[i], &s) == 0)
							p->severities |= 1u << s;
						else
							vgl__errk(l, d, vgl__tok_pos(d, m[0]), &sk,
								  "unknown severity '%s'", sv[i]);
					}
				for (size_t i = 0; i < ns; i++)
					free(sv[i]);
				free(sv);
			}
			if (m[1] >= 0) {
				struct vgl_conf_alarm_spec tmp;

				memset(&tmp, 0, sizeof(tmp));
				vgl__alarm_fields(l, d, -1, -1, m[1], &mk, NULL, 0, &tmp);
				p->match_keys = tmp.label_keys;
				p->match_values = tmp.label_values;
				p->n_match = tmp.n_labels;
				free(tmp.summary);
			}
		}
	}
	if (v[2] < 0) {
		vgl__errk(l, d, vgl__tok_pos(d, obj), pk, "missing required key 'steps'");
		return;
	}
	struct kp sk = { pk, "steps", -1, 0 };
	if (vgl__want_type(l, d, v[2], &sk, VGL_J_ARRAY, "an array") != 0)
		return;
	int n = d->tok[v[2]].size, e = v[2] + 1;
	if (n == 0 || n > VGL_ESC_MAX_STEPS) {
		vgl__errk(l, d, vgl__tok_pos(d, v[2]), &sk, "needs 1 to %d steps, got %d",
			  VGL_ESC_MAX_STEPS, n);
		return;
	}
	if (!(p->steps = calloc((size_t)n, sizeof(*p->steps)))) {
		vgl__oom(l);
		return;
	}
	for (int i = 0; i < n; i++, e = d->tok[e].next) {
		load_step(l, d, e, &(struct kp){ &sk, NULL, 0, i }, a, &p->steps[i]);
		p->n_steps++;
		if (i > 0 && p->steps[i].after_ms < p->steps[i - 1].after_ms)
			vgl__errk(l, d, vgl__tok_pos(d, e), &(struct kp){ &sk, NULL, 0, i },
				  "steps go in order of after_s");
	}
}

void vgl__load_alarms(struct ld *l, const struct vgl__doc *d, int alarms, int channels,
		      int escalation)
{
	struct vgl_alarm_conf *a = calloc(1, sizeof(*a));

	if (!a) {
		vgl__oom(l);
		return;
	}
	l->c->alarm_conf = a;
	a->flap_changes = 6;
	a->flap_window_ms = 600000;
	a->dependency_wait_ms = 30000;
	a->retry_max_ms = 300000;
	a->ack_ms = 900000;
	a->clear_ms = 14400000;
	a->sla_rules = 1;
	if (!d)
		return;
	if (alarms >= 0)
		load_alarms_obj(l, d, alarms, a);
	if (channels >= 0) {
		struct vgl_cparse cp = { l, d, NULL, channels, 0 };

		vgl_channels_parse(&cp, channels, &a->channels, &a->n_channels);
	}
	if (escalation < 0) {
		if (default_policy(a) != 0)
			vgl__oom(l);
		return;
	}
	struct kp ek = { NULL, "escalation", -1, 0 };
	if (vgl__want_type(l, d, escalation, &ek, VGL_J_ARRAY, "an array of policies") != 0)
		return;
	int n = d->tok[escalation].size, e = escalation + 1;
	if (n && !(a->policies = calloc((size_t)n, sizeof(*a->policies)))) {
		vgl__oom(l);
		return;
	}
	for (int i = 0; i < n; i++, e = d->tok[e].next) {
		load_policy(l, d, e, &(struct kp){ &ek, NULL, 0, i }, a, &a->policies[i]);
		a->n_policies++;
	}
}
