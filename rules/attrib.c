/* Attribution (rules/attrib.h, docs/attribution.md).
 *
 * Per host, each kind of signal has two slots: `pre`, the latest seen
 * while no interval is open (overwritten poll after poll, so at an open
 * it is the one closest before the start), and `post`, the first seen
 * since the start (set once). A slot is evidence when it lies within
 * VGL_ATTRIB_WINDOW_MS of the start. Chassis "last power event" bits are
 * latched by the BMC for months, so only a change of them is a signal.
 *
 *   closed --opened(start)--> open --decide()*--> ... --closed--> closed
 *
 * decide() evaluates the table over the slots in the window and the
 * latest BMC and host states; the verdict never goes back to unknown once
 * a row named a cause (evidence only accumulates while open).
 */
#include "rules/attrib.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "core/vtime.h"

enum sig { S_POWER_OFF, S_FAULT, S_ORDERLY, S_COMMAND, S_AC_LOST, S_FEEDS_OFF, S_UPLINK_DOWN,
	   S_SWITCH_DOWN, S_N };

static const char *const sig_names[S_N] = {
	"power_off", "fault", "orderly_shutdown", "power_command", "ac_lost", "feeds_off",
	"uplink_down", "switch_down",
};

struct slot {
	int64_t ts;             /* 0: empty */
	char *text;
};

struct vgl_attrib {
	struct slot pre[S_N], post[S_N];
	int open;
	int64_t start_ms;
	int host_unreachable;
	int bmc;                /* -1 never polled */
	int power, health;
	int lpe_known;
	unsigned lpe;
	const char *cause;      /* last verdict (a static string), NULL none */
	int row;
};

/* ---- the table ------------------------------------------------------------ */

static int seen(const struct vgl_attrib_seen *x)
{
	return x->ts_ms != 0;
}

int vgl_attrib_rule(const struct vgl_attrib_signals *s, struct vgl_attrib_verdict *v)
{
	int down = seen(&s->power_off) || s->host_unreachable;

#define DECIDE(c, r, w) do { v->cause = (c); v->row = (r); v->why = (w); return 0; } while (0)
	if (seen(&s->feeds_off))
		DECIDE("power", 1, "every power feed of the host was off");
	if (seen(&s->power_off) && seen(&s->ac_lost))
		DECIDE("power", 2, "powered off, and the BMC reports its AC input failed");
	if (down && seen(&s->fault))
		DECIDE("hardware", 3, "down with a hardware fault around it (log entry, "
		       "critical sensor or chassis power fault)");
	if (down && (seen(&s->orderly) || seen(&s->command)))
		DECIDE("customer", 4, "an orderly shutdown or a power command, and no fault");
	if (s->host_unreachable && s->bmc == 1 && s->power == VGL_BMC_POWER_ON) {
		if (seen(&s->uplink_down))
			DECIDE("network", 5, "unreachable while its BMC answers powered on, and "
			       "its uplink port was down");
		DECIDE("unknown", 6, "unreachable while its BMC answers powered on and "
		       "healthy, its uplink port up or not known");
	}
	if (s->host_unreachable && s->bmc == 0) {
		if (seen(&s->switch_down))
			DECIDE("network", 7, "host and BMC both unreachable, and the switch they "
			       "share was down");
		DECIDE("unknown", 8, "host and BMC both unreachable, their switch up or not "
		       "known");
	}
	if (seen(&s->power_off) && s->bmc == 1)
		DECIDE("unknown", 9, "powered off, and the BMC logged no cause");
	if (s->host_unreachable && s->bmc < 0) {
		if (seen(&s->uplink_down))
			DECIDE("network", 10, "unreachable, no BMC, and its uplink port was down");
		if (seen(&s->switch_down))
			DECIDE("network", 11, "unreachable, no BMC, and its switch was down");
	}
#undef DECIDE
	return -1;
}

/* ---- per host --------------------------------------------------------------- */

int vgl_attrib_create(struct vgl_attrib **out)
{
	struct vgl_attrib *a = calloc(1, sizeof(*a));

	if (!a)
		return -ENOMEM;
	a->bmc = -1;
	a->power = VGL_BMC_POWER_UNKNOWN;
	a->health = VGL_BMC_UNKNOWN;
	*out = a;
	return 0;
}

static void slot_clear(struct slot *s)
{
	free(s->text);
	s->text = NULL;
	s->ts = 0;
}

void vgl_attrib_free(struct vgl_attrib *a)
{
	if (!a)
		return;
	for (int i = 0; i < S_N; i++) {
		slot_clear(&a->pre[i]);
		slot_clear(&a->post[i]);
	}
	free(a);
}

static void note(struct vgl_attrib *a, enum sig k, int64_t ts, const char *text)
{
	struct slot *s = a->open ? &a->post[k] : &a->pre[k];
	char *t;

	if (a->open && s->ts)
		return;         /* the first since the start is the one that matters */
	if (ts == 0)
		ts = 1;         /* 0 means empty */
	if (!(t = strdup(text ? text : "")))
		return;         /* evidence lost to memory, not the verdict's safety */
	free(s->text);
	s->text = t;
	s->ts = ts;
}

void vgl_attrib_bmc(struct vgl_attrib *a, int64_t ts, enum vgl_quality q,
		    const struct vgl_bmc_status *bs)
{
	char text[160];

	if (q != VGL_Q_OK || !bs) {
		/* a refused login is an answer: the BMC is there, but says
		 * nothing about the server */
		a->bmc = q == VGL_Q_AUTH ? 1 : 0;
		if (q == VGL_Q_AUTH) {
			a->power = VGL_BMC_POWER_UNKNOWN;
			a->health = VGL_BMC_UNKNOWN;
		}
		return;
	}
	a->bmc = 1;
	a->power = bs->power;
	a->health = bs->health;
	if (bs->power == VGL_BMC_POWER_OFF)
		note(a, S_POWER_OFF, ts, "the BMC reports chassis power off");
	if (bs->health == VGL_BMC_CRITICAL) {
		snprintf(text, sizeof(text), "%s%s critical", bs->worst_sensor ? "sensor " : "",
			 bs->worst_sensor ? bs->worst_sensor : "the BMC reports health");
		note(a, S_FAULT, ts, text);
	}
	if (a->lpe_known && bs->last_power_event != a->lpe) {
		unsigned rise = bs->last_power_event & ~a->lpe;

		if (rise & (VGL_BMC_LPE_FAULT | VGL_BMC_LPE_OVERLOAD | VGL_BMC_LPE_INTERLOCK))
			note(a, S_FAULT, ts, "chassis last power event: power fault, overload "
			     "or interlock");
		if (rise & VGL_BMC_LPE_AC_FAILED)
			note(a, S_AC_LOST, ts, "chassis last power event: AC failed");
	}
	a->lpe = bs->last_power_event;
	a->lpe_known = 1;
	for (size_t i = 0; i < bs->n_events; i++) {
		const struct vgl_bmc_event *e = &bs->events[i];

		snprintf(text, sizeof(text), "log entry %llu: %s",
			 (unsigned long long)e->id, e->text ? e->text : "");
		if (e->cls == VGL_BMC_EV_FAULT)
			note(a, S_FAULT, ts, text);
		else if (e->cls == VGL_BMC_EV_ORDERLY)
			note(a, S_ORDERLY, ts, text);
		else if (e->cls == VGL_BMC_EV_COMMAND)
			note(a, S_COMMAND, ts, text);
	}
}

void vgl_attrib_host(struct vgl_attrib *a, int64_t ts, int ok)
{
	(void)ts;
	a->host_unreachable = !ok;
}

void vgl_attrib_neighbours(struct vgl_attrib *a, int64_t ts, const char *feeds_off,
			   const char *uplink_down, const char *switch_down)
{
	if (feeds_off)
		note(a, S_FEEDS_OFF, ts, feeds_off);
	if (uplink_down)
		note(a, S_UPLINK_DOWN, ts, uplink_down);
	if (switch_down)
		note(a, S_SWITCH_DOWN, ts, switch_down);
}

void vgl_attrib_opened(struct vgl_attrib *a, int64_t start_ms, const char *cause)
{
	a->open = 1;
	a->start_ms = start_ms;
	a->cause = NULL;
	a->row = 0;
	/* a restored interval's cause stands until a row decides: kept as the
	 * last verdict, so "changed" compares with it */
	if (cause) {
		static const char *const known[] = { "network", "hardware", "power", "facility",
						     "maintenance", "customer", "force_majeure",
						     "unknown" };
		for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
			if (strcmp(known[i], cause) == 0)
				a->cause = known[i];
	}
	for (int i = 0; i < S_N; i++)
		slot_clear(&a->post[i]);
}

void vgl_attrib_closed(struct vgl_attrib *a)
{
	a->open = 0;
	a->cause = NULL;
	a->row = 0;
	for (int i = 0; i < S_N; i++) {
		slot_clear(&a->pre[i]);
		slot_clear(&a->post[i]);
	}
}

/* The slot of kind k that is evidence for this interval, or NULL. */
static const struct slot *in_window(const struct vgl_attrib *a, int k)
{
	const struct slot *p = &a->pre[k], *q = &a->post[k];

	if (p->ts && a->start_ms - p->ts <= VGL_ATTRIB_WINDOW_MS)
		return p;
	if (q->ts && q->ts - a->start_ms <= VGL_ATTRIB_WINDOW_MS)
		return q;
	return NULL;
}

static void signals(const struct vgl_attrib *a, struct vgl_attrib_signals *s)
{
	struct vgl_attrib_seen *dst[S_N] = {
		&s->power_off, &s->fault, &s->orderly, &s->command, &s->ac_lost, &s->feeds_off,
		&s->uplink_down, &s->switch_down,
	};

	memset(s, 0, sizeof(*s));
	s->host_unreachable = a->host_unreachable;
	s->bmc = a->bmc;
	s->power = a->power;
	s->health = a->health;
	for (int k = 0; k < S_N; k++) {
		const struct slot *sl = in_window(a, k);
		if (sl)
			*dst[k] = (struct vgl_attrib_seen){ sl->ts, sl->text };
	}
}

static char *evidence_json(const struct vgl_attrib *a, const struct vgl_attrib_signals *s,
			   const struct vgl_attrib_verdict *v, int64_t now)
{
	const struct vgl_attrib_seen *src[S_N] = {
		&s->power_off, &s->fault, &s->orderly, &s->command, &s->ac_lost, &s->feeds_off,
		&s->uplink_down, &s->switch_down,
	};
	char iso[VGL_ISO_LEN];
	cJSON *o = cJSON_CreateObject(), *arr;
	char *out = NULL;

	if (!o)
		return NULL;
	/* a row that says unknown beside a cause already standing */
	if (a->cause && strcmp(a->cause, v->cause) != 0 &&
	    !cJSON_AddStringToObject(o, "kept_cause", a->cause))
		goto out;
	if (!cJSON_AddStringToObject(o, "cause", v->cause) ||
	    !cJSON_AddNumberToObject(o, "row", v->row) ||
	    !cJSON_AddStringToObject(o, "why", v->why) ||
	    !cJSON_AddStringToObject(o, "decided", vgl_format_iso(now, iso)) ||
	    !cJSON_AddStringToObject(o, "host", s->host_unreachable ? "unreachable" : "answers") ||
	    !cJSON_AddStringToObject(o, "bmc", s->bmc < 0 ? "none" : s->bmc ? "answers"
								    : "unreachable") ||
	    !cJSON_AddStringToObject(o, "power", vgl_bmc_power_str(s->power)) ||
	    !cJSON_AddStringToObject(o, "health", vgl_bmc_state_str(s->health)) ||
	    !(arr = cJSON_AddArrayToObject(o, "signals")))
		goto out;
	for (int k = 0; k < S_N; k++) {
		cJSON *e;

		if (!src[k]->ts_ms)
			continue;
		if (!(e = cJSON_CreateObject()) || !cJSON_AddItemToArray(arr, e)) {
			cJSON_Delete(e);
			goto out;
		}
		if (!cJSON_AddStringToObject(e, "signal", sig_names[k]) ||
		    !cJSON_AddStringToObject(e, "ts", vgl_format_iso(src[k]->ts_ms, iso)) ||
		    !cJSON_AddStringToObject(e, "text", src[k]->text ? src[k]->text : ""))
			goto out;
	}
	out = cJSON_PrintUnformatted(o);
out:
	cJSON_Delete(o);
	return out;
}

const char *vgl_attrib_decide(struct vgl_attrib *a, int64_t now, int *changed,
			      char **evidence)
{
	struct vgl_attrib_signals s;
	struct vgl_attrib_verdict v;

	*changed = 0;
	*evidence = NULL;
	if (!a->open)
		return NULL;
	signals(a, &s);
	if (vgl_attrib_rule(&s, &v) != 0)
		return a->cause;        /* nothing new: what stood, stands */
	/* unknown is the absence of evidence: never a step back from a cause,
	 * the condition's own or one decided before. The first verdict after
	 * the open still goes into the evidence, saying what was kept. */
	if (strcmp(v.cause, "unknown") == 0 && a->cause && strcmp(a->cause, "unknown") != 0) {
		if (a->row == 0) {
			a->row = v.row;
			*changed = 2;
			*evidence = evidence_json(a, &s, &v, now);
		}
		return a->cause;
	}
	if (!a->cause || strcmp(a->cause, v.cause) != 0 || a->row != v.row) {
		*changed = !a->cause || strcmp(a->cause, v.cause) != 0;
		a->cause = v.cause;
		a->row = v.row;
		*evidence = evidence_json(a, &s, &v, now);
		if (!*changed && !*evidence)
			return a->cause;
		/* a new row with the same cause: the evidence is news */
		if (!*changed)
			*changed = 2;
	}
	return a->cause;
}
