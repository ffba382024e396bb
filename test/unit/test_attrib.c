/* Attribution (rules/attrib.c): the table of docs/attribution.md row by
 * row, then the per-host layer: the window around the start, a SEL entry
 * read a poll later revising unknown into hardware, latched chassis bits,
 * never back to unknown, a restored interval's cause, and the evidence
 * JSON naming the signals and their times. */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "rules/attrib.h"
#include "test/test.h"

#define T0 1793872800000LL
#define SEEN(t) ((struct vgl_attrib_seen){ (t), "x" })

static struct vgl_attrib_signals base(void)
{
	struct vgl_attrib_signals s;

	memset(&s, 0, sizeof(s));
	s.bmc = 1;
	s.power = VGL_BMC_POWER_ON;
	s.health = VGL_BMC_OK;
	return s;
}

static int row_of(const struct vgl_attrib_signals *s, const char **cause)
{
	struct vgl_attrib_verdict v;

	*cause = NULL;
	if (vgl_attrib_rule(s, &v) != 0)
		return -1;
	*cause = v.cause;
	return v.row;
}

TEST(attrib_rows)
{
	struct vgl_attrib_signals s;
	const char *c;

	/* 1: feeds off wins over everything, even a fault */
	s = base();
	s.power_off = SEEN(T0);
	s.feeds_off = SEEN(T0);
	s.fault = SEEN(T0);
	ASSERT_EQ(row_of(&s, &c), 1);
	ASSERT_STREQ(c, "power");
	/* 2: powered off with the chassis saying AC failed */
	s = base();
	s.power = VGL_BMC_POWER_OFF;
	s.power_off = SEEN(T0);
	s.ac_lost = SEEN(T0);
	ASSERT_EQ(row_of(&s, &c), 2);
	ASSERT_STREQ(c, "power");
	/* 3: off with a fault; and unreachable (a crash) with a fault */
	s = base();
	s.power_off = SEEN(T0);
	s.fault = SEEN(T0);
	s.orderly = SEEN(T0);   /* a fault outweighs an orderly shutdown */
	ASSERT_EQ(row_of(&s, &c), 3);
	ASSERT_STREQ(c, "hardware");
	s = base();
	s.host_unreachable = 1;
	s.fault = SEEN(T0);
	ASSERT_EQ(row_of(&s, &c), 3);
	ASSERT_STREQ(c, "hardware");
	/* 4: an orderly shutdown, or a power command, no fault */
	s = base();
	s.power_off = SEEN(T0);
	s.orderly = SEEN(T0);
	ASSERT_EQ(row_of(&s, &c), 4);
	ASSERT_STREQ(c, "customer");
	s = base();
	s.host_unreachable = 1;
	s.command = SEEN(T0);
	ASSERT_EQ(row_of(&s, &c), 4);
	ASSERT_STREQ(c, "customer");
	/* 5, 6: unreachable, the BMC answers powered on */
	s = base();
	s.host_unreachable = 1;
	s.uplink_down = SEEN(T0);
	ASSERT_EQ(row_of(&s, &c), 5);
	ASSERT_STREQ(c, "network");
	s.uplink_down = SEEN(0);
	ASSERT_EQ(row_of(&s, &c), 6);
	ASSERT_STREQ(c, "unknown");
	/* 7, 8: host and BMC both unreachable */
	s = base();
	s.host_unreachable = 1;
	s.bmc = 0;
	s.switch_down = SEEN(T0);
	ASSERT_EQ(row_of(&s, &c), 7);
	ASSERT_STREQ(c, "network");
	s.switch_down = SEEN(0);
	s.uplink_down = SEEN(T0); /* the uplink's state alone: BMC down too says switch */
	ASSERT_EQ(row_of(&s, &c), 8);
	ASSERT_STREQ(c, "unknown");
	/* 9: powered off, the BMC says nothing of why */
	s = base();
	s.power = VGL_BMC_POWER_OFF;
	s.power_off = SEEN(T0);
	ASSERT_EQ(row_of(&s, &c), 9);
	ASSERT_STREQ(c, "unknown");
	/* 10, 11: no BMC: only the network can be named */
	s = base();
	s.bmc = -1;
	s.host_unreachable = 1;
	s.uplink_down = SEEN(T0);
	ASSERT_EQ(row_of(&s, &c), 10);
	ASSERT_STREQ(c, "network");
	s.uplink_down = SEEN(0);
	s.switch_down = SEEN(T0);
	ASSERT_EQ(row_of(&s, &c), 11);
	ASSERT_STREQ(c, "network");
	/* none: no BMC, nothing known; or up and powered on */
	s.switch_down = SEEN(0);
	ASSERT_EQ(row_of(&s, &c), -1);
	s = base();
	ASSERT_EQ(row_of(&s, &c), -1);
}

static struct vgl_bmc_status st(int power, int health, const char *worst)
{
	struct vgl_bmc_status b;

	memset(&b, 0, sizeof(b));
	b.power = power;
	b.health = health;
	b.worst_sensor = worst;
	return b;
}

TEST(attrib_sel_entry_a_poll_later_revises_to_hardware)
{
	struct vgl_attrib *a;
	struct vgl_bmc_status b = st(VGL_BMC_POWER_ON, VGL_BMC_OK, NULL);
	struct vgl_bmc_event ev = { 17, 0, VGL_BMC_EV_FAULT, "Processor IERR" };
	const char *cause;
	char *evj;
	int changed;

	ASSERT_EQ(vgl_attrib_create(&a), 0);
	vgl_attrib_bmc(a, T0 - 60000, VGL_Q_OK, &b);
	vgl_attrib_host(a, T0 - 60000, 1);
	b.power = VGL_BMC_POWER_OFF;
	vgl_attrib_bmc(a, T0, VGL_Q_OK, &b);
	vgl_attrib_host(a, T0, 0);
	vgl_attrib_opened(a, T0, NULL);
	cause = vgl_attrib_decide(a, T0, &changed, &evj);
	ASSERT_STREQ(cause, "unknown");
	ASSERT_EQ(changed, 1);
	ASSERT(evj && strstr(evj, "\"row\":9"));
	free(evj);
	/* nothing new: no change, no evidence */
	cause = vgl_attrib_decide(a, T0 + 1000, &changed, &evj);
	ASSERT_STREQ(cause, "unknown");
	ASSERT_EQ(changed, 0);
	ASSERT(!evj);
	/* the next poll reads the SEL entry */
	b.events = &ev;
	b.n_events = 1;
	vgl_attrib_bmc(a, T0 + 60000, VGL_Q_OK, &b);
	cause = vgl_attrib_decide(a, T0 + 60000, &changed, &evj);
	ASSERT_STREQ(cause, "hardware");
	ASSERT_EQ(changed, 1);
	{
		cJSON *o = cJSON_Parse(evj), *sig;
		int found = 0;
		ASSERT(o);
		ASSERT_STREQ(cJSON_GetStringValue(cJSON_GetObjectItem(o, "cause")), "hardware");
		cJSON_ArrayForEach(sig, cJSON_GetObjectItem(o, "signals")) {
			const char *n = cJSON_GetStringValue(cJSON_GetObjectItem(sig, "signal"));
			const char *t = cJSON_GetStringValue(cJSON_GetObjectItem(sig, "text"));
			if (n && strcmp(n, "fault") == 0) {
				found = 1;
				ASSERT_CONTAINS(t, "log entry 17: Processor IERR");
				ASSERT_STREQ(cJSON_GetStringValue(cJSON_GetObjectItem(sig, "ts")),
					     "2026-11-05T10:01:00.000Z");
			}
		}
		ASSERT(found);
		cJSON_Delete(o);
	}
	free(evj);
	/* the server powered back on and the host answers: the verdict stays
	 * hardware (evidence is sticky), never back to unknown */
	b = st(VGL_BMC_POWER_ON, VGL_BMC_OK, NULL);
	vgl_attrib_bmc(a, T0 + 120000, VGL_Q_OK, &b);
	cause = vgl_attrib_decide(a, T0 + 120000, &changed, &evj);
	ASSERT_STREQ(cause, "hardware");
	ASSERT_EQ(changed, 0);
	vgl_attrib_closed(a);
	ASSERT(!vgl_attrib_decide(a, T0 + 180000, &changed, &evj));
	vgl_attrib_free(a);
}

TEST(attrib_window_and_latched_chassis_bits)
{
	struct vgl_attrib *a;
	struct vgl_bmc_status b = st(VGL_BMC_POWER_ON, VGL_BMC_CRITICAL, "CPU Temp");
	const char *cause;
	char *evj;
	int changed;

	ASSERT_EQ(vgl_attrib_create(&a), 0);
	/* a critical sensor an hour before, then fine: not evidence */
	b.last_power_event = VGL_BMC_LPE_AC_FAILED;
	vgl_attrib_bmc(a, T0 - 3600000, VGL_Q_OK, &b);
	b = st(VGL_BMC_POWER_ON, VGL_BMC_OK, NULL);
	/* the chassis latched AC failed long ago: the first poll learned
	 * the bits, later ones do not see them happen */
	b.last_power_event = VGL_BMC_LPE_AC_FAILED;
	vgl_attrib_bmc(a, T0 - 1000, VGL_Q_OK, &b);
	b.power = VGL_BMC_POWER_OFF;
	vgl_attrib_bmc(a, T0, VGL_Q_OK, &b);
	vgl_attrib_opened(a, T0, NULL);
	cause = vgl_attrib_decide(a, T0, &changed, &evj);
	ASSERT_STREQ(cause, "unknown");
	free(evj);
	vgl_attrib_closed(a);
	/* a fresh AC failure, seen as the bits change */
	b = st(VGL_BMC_POWER_ON, VGL_BMC_OK, NULL);
	vgl_attrib_bmc(a, T0 + 1000, VGL_Q_OK, &b);
	b.power = VGL_BMC_POWER_OFF;
	b.last_power_event = VGL_BMC_LPE_AC_FAILED;
	vgl_attrib_bmc(a, T0 + 2000, VGL_Q_OK, &b);
	vgl_attrib_opened(a, T0 + 2000, NULL);
	cause = vgl_attrib_decide(a, T0 + 2000, &changed, &evj);
	ASSERT_STREQ(cause, "power");
	ASSERT(evj && strstr(evj, "ac_lost"));
	free(evj);
	vgl_attrib_closed(a);
	/* a fault read 11 minutes after the start is not this interval's */
	b = st(VGL_BMC_POWER_OFF, VGL_BMC_OK, NULL);
	vgl_attrib_bmc(a, T0 + 10000, VGL_Q_OK, &b);
	vgl_attrib_opened(a, T0 + 10000, NULL);
	b.health = VGL_BMC_CRITICAL;
	b.worst_sensor = "PSU1";
	vgl_attrib_bmc(a, T0 + 10000 + 11 * 60000, VGL_Q_OK, &b);
	cause = vgl_attrib_decide(a, T0 + 10000 + 11 * 60000, &changed, &evj);
	ASSERT_STREQ(cause, "unknown");
	free(evj);
	vgl_attrib_free(a);
}

TEST(attrib_restored_cause_and_network)
{
	struct vgl_attrib *a;
	struct vgl_bmc_status b = st(VGL_BMC_POWER_ON, VGL_BMC_OK, NULL);
	const char *cause;
	char *evj;
	int changed;

	ASSERT_EQ(vgl_attrib_create(&a), 0);
	/* restored after a restart as hardware: the BMC now says on and
	 * healthy, the host unreachable: row 6 says unknown, which never
	 * replaces a cause; the evidence says it was kept */
	vgl_attrib_opened(a, T0, "hardware");
	vgl_attrib_bmc(a, T0 + 1000, VGL_Q_OK, &b);
	vgl_attrib_host(a, T0 + 1000, 0);
	cause = vgl_attrib_decide(a, T0 + 1000, &changed, &evj);
	ASSERT_STREQ(cause, "hardware");
	ASSERT_EQ(changed, 2);
	ASSERT(evj && strstr(evj, "\"kept_cause\":\"hardware\""));
	free(evj);
	cause = vgl_attrib_decide(a, T0 + 2000, &changed, &evj);
	ASSERT_EQ(changed, 0);
	vgl_attrib_closed(a);
	/* the uplink port goes down around the start: network */
	vgl_attrib_neighbours(a, T0 + 5000, NULL, "sw1.port12 down", NULL);
	vgl_attrib_host(a, T0 + 6000, 0);
	vgl_attrib_opened(a, T0 + 6000, NULL);
	cause = vgl_attrib_decide(a, T0 + 6000, &changed, &evj);
	ASSERT_STREQ(cause, "network");
	ASSERT(evj && strstr(evj, "sw1.port12 down"));
	free(evj);
	vgl_attrib_closed(a);
	/* the BMC stops answering too, the shared switch is down */
	vgl_attrib_bmc(a, T0 + 7000, VGL_Q_TIMEOUT, NULL);
	vgl_attrib_neighbours(a, T0 + 7000, NULL, NULL, "switch sw1 unavailable");
	vgl_attrib_opened(a, T0 + 7000, NULL);
	cause = vgl_attrib_decide(a, T0 + 7000, &changed, &evj);
	ASSERT_STREQ(cause, "network");
	ASSERT(evj && strstr(evj, "\"bmc\":\"unreachable\""));
	free(evj);
	vgl_attrib_free(a);
}

/* The condition's own cause stands against a row that says unknown, live
 * as after a restart, and the evidence says what was kept; a refused
 * login is a BMC that answers. */
TEST(attrib_condition_cause_kept_against_unknown)
{
	struct vgl_attrib *a;
	struct vgl_bmc_status b = st(VGL_BMC_POWER_ON, VGL_BMC_OK, NULL);
	const char *cause;
	char *evj;
	int changed;

	ASSERT_EQ(vgl_attrib_create(&a), 0);
	vgl_attrib_bmc(a, T0, VGL_Q_OK, &b);
	vgl_attrib_host(a, T0, 0);
	vgl_attrib_opened(a, T0, "network");
	cause = vgl_attrib_decide(a, T0, &changed, &evj);
	ASSERT_STREQ(cause, "network");
	ASSERT_EQ(changed, 2);
	ASSERT(evj && strstr(evj, "\"kept_cause\":\"network\"") && strstr(evj, "\"row\":6"));
	free(evj);
	/* the next poll: nothing new, and still not unknown */
	cause = vgl_attrib_decide(a, T0 + 1000, &changed, &evj);
	ASSERT_STREQ(cause, "network");
	ASSERT_EQ(changed, 0);
	vgl_attrib_closed(a);
	/* a BMC refusing the login answered: rows 5-8 need what it would
	 * have said, so no row decides */
	vgl_attrib_bmc(a, T0 + 2000, VGL_Q_AUTH, NULL);
	vgl_attrib_host(a, T0 + 2000, 0);
	vgl_attrib_opened(a, T0 + 2000, NULL);
	ASSERT(!vgl_attrib_decide(a, T0 + 2000, &changed, &evj));
	vgl_attrib_free(a);
}
