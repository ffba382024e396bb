/* Attribution: which cause an Unavailable interval of a server carries,
 * from what its BMC, its power feeds and its network said around the time
 * it went down (docs/attribution.md has the table; the SLA counts some
 * causes and not others, docs/sla.md). No libuv and no clock: times come
 * in with each signal.
 *
 * Two layers:
 *  - vgl_attrib_rule: the table, a pure function of one set of signals
 *    (struct vgl_attrib_signals) to a cause and the row that decided it;
 *    unit-tested row by row.
 *  - struct vgl_attrib: per host, the signals as they arrive (each BMC
 *    poll, each poll of the host's own sources, the uplink and switch
 *    states the daemon looks up), kept around the interval's start, and
 *    the verdict and evidence JSON for the open interval.
 *
 * Evidence is sticky while an interval is open: a fault or a command seen
 * in the window stays seen, so a verdict only ever moves towards more
 * evidence (a SEL entry read a poll later turns unknown into hardware),
 * and never back to unknown.
 */
#ifndef VGL_ATTRIB_H
#define VGL_ATTRIB_H

#include <stdint.h>

#include "core/bmc.h"
#include "core/quality.h"

/* Signals further than this from the interval's start are not evidence
 * of its cause (BMC clocks are not trusted: an entry's time is when vigil
 * read it). */
#define VGL_ATTRIB_WINDOW_MS (10 * 60 * 1000)

/* One piece of evidence: what and when (0: not seen). */
struct vgl_attrib_seen {
	int64_t ts_ms;
	const char *text;
};

struct vgl_attrib_signals {
	int host_unreachable;           /* the host's own sources (OS, ping) fail */
	int bmc;                        /* -1 no BMC source, 0 not answering, 1 answers */
	int power;                      /* enum vgl_bmc_power, the BMC's last answer */
	int health;                     /* enum vgl_bmc_state, the BMC's last answer */
	struct vgl_attrib_seen power_off;       /* the BMC said off */
	struct vgl_attrib_seen fault;   /* a FAULT log entry, a critical sensor, a
					 * chassis power fault, in the window */
	struct vgl_attrib_seen orderly; /* an orderly shutdown logged in the window */
	struct vgl_attrib_seen command; /* a power or reset command logged in the window */
	struct vgl_attrib_seen ac_lost; /* chassis last power event: AC failed */
	struct vgl_attrib_seen feeds_off;       /* every power feed off (topology) */
	struct vgl_attrib_seen uplink_down;     /* the uplink port down (SNMP) */
	struct vgl_attrib_seen switch_down;     /* the switch shared with the BMC down */
};

struct vgl_attrib_verdict {
	const char *cause;      /* a core/cause.h name */
	int row;                /* of the table in docs/attribution.md, 1.. */
	const char *why;        /* the row in words */
};

/* The table. 0 and *out when a row decides; -1 when none does (the
 * condition's own cause stands). */
int vgl_attrib_rule(const struct vgl_attrib_signals *s, struct vgl_attrib_verdict *out);

struct vgl_attrib;

/* 0 or -ENOMEM. */
int vgl_attrib_create(struct vgl_attrib **out);
void vgl_attrib_free(struct vgl_attrib *a);

/* A poll of one of the host's BMC sources: its quality and, when it
 * answered, its status (bs may be NULL when it did not). */
void vgl_attrib_bmc(struct vgl_attrib *a, int64_t ts, enum vgl_quality q,
		    const struct vgl_bmc_status *bs);
/* A poll of one of the host's own sources (anything but its BMC). */
void vgl_attrib_host(struct vgl_attrib *a, int64_t ts, int ok);
/* What the daemon knows of the host's neighbours, as of ts: every feed
 * off, the uplink port down, the shared switch down (text names each for
 * the evidence; NULL when the state is not known or does not hold). */
void vgl_attrib_neighbours(struct vgl_attrib *a, int64_t ts, const char *feeds_off,
			   const char *uplink_down, const char *switch_down);

/* An interval opened at start_ms (or was restored open after a restart
 * with cause: a restored interval keeps its cause until a row decides
 * otherwise) / closed. */
void vgl_attrib_opened(struct vgl_attrib *a, int64_t start_ms, const char *cause);
void vgl_attrib_closed(struct vgl_attrib *a);

/* While an interval is open: the cause now. *changed: 0 nothing new
 * since the last call, 1 the cause differs from the one last returned
 * (or is the first), 2 the same cause decided by another row (new
 * evidence). When changed, *evidence is a JSON object (malloc'd, the
 * caller frees; NULL when out of memory) listing the signals that decided
 * it and their times. Returns NULL when no interval is open, or when no
 * row decides and nothing was decided before (the condition's cause
 * stands). */
const char *vgl_attrib_decide(struct vgl_attrib *a, int64_t now, int *changed,
			      char **evidence);

#endif
