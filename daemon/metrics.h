/* vigild's Prometheus exposition (GET /metrics, docs/metrics.md): the
 * daemon's own counters that no other module keeps (poll latency and
 * errors per source type, the cause of each open interval), and a
 * renderer that writes the text format a bounded piece at a time, so a
 * scrape of 100,000 hosts never holds the loop for long.
 *
 * Loop thread only, like everything in struct vigil. The renderer reads
 * the live state (hosts, collectors, alarms, the store's stats) between
 * its calls; a reload that swaps the config ends the scrape (-1).
 */
#ifndef VGL_METRICS_H
#define VGL_METRICS_H

#include <stddef.h>
#include <stdint.h>

struct vigil;
struct vgl_poll_result;
struct vgl_store;

struct vgl_metrics;

/* 0 or -ENOMEM. */
int vgl__metrics_new(struct vgl_metrics **out);
void vgl__metrics_free(struct vgl_metrics *m);

/* At start, before the loop runs (blocking): the cause of every interval
 * the database holds open, for vigil_host_unavailable's cause label of
 * hosts whose interval was carried over. 0, or -1 (logged; those hosts
 * show cause "unknown" until a revision or their recovery). */
int vgl__metrics_restore(struct vgl_metrics *m, struct vgl_store *s);

/* Every poll result as it reaches the daemon: now_ms - r->ts_ms into the
 * histogram of kind (the source's type: "snmp", "ping", "tcp", "modbus",
 * "ipmi", "redfish"), and a failed poll into the errors of kind and
 * r->quality. An unknown kind is not counted. m may be NULL. */
void vgl__metrics_on_poll(struct vgl_metrics *m, const char *kind,
			  const struct vgl_poll_result *r, int64_t now_ms);

/* The cause of host db_id's open interval as vigild recorded it: at the
 * open, and at each revision by attribution (NULL: the interval closed).
 * m may be NULL; out of memory loses the label only (logged once). */
void vgl__metrics_cause(struct vgl_metrics *m, int64_t db_id, const char *cause);

struct vgl_metrics_render;

/* A scrape of v's state from now on. 0 or -ENOMEM. */
int vgl__metrics_render_new(struct vigil *v, struct vgl_metrics_render **out);
/* Writes the next lines of the exposition into buf, at most max bytes and
 * never part of a line (no NUL is added). Returns the bytes written (> 0),
 * 0 once everything was written, or -1 when a reload swapped v->conf
 * since render_new (the caller ends the response; the client sees a
 * truncated body and the scrape fails rather than mixing two configs).
 * Each call looks at 200 hosts at most once it has written a line, and
 * at 4,000 while it has not: then it writes one comment line ("# 4000
 * hosts without a vigil_value_not_ok line"), which the text format
 * ignores, rather than 0, the end. A line longer than max is left out
 * (logged once per scrape). */
long vgl__metrics_render_next(struct vgl_metrics_render *r, struct vigil *v, char *buf,
			      size_t max);
/* Before vgl_vigil_free. NULL is fine. */
void vgl__metrics_render_free(struct vgl_metrics_render *r);

/* Exposed for the unit tests: s as a label value of the text format
 * (\ " and newline escaped) into out[cap]; returns the length it needs
 * (without the NUL), like snprintf. */
size_t vgl__metrics_escape(char *out, size_t cap, const char *s);
/* The shortest text that reads back as d ("NaN", "+Inf", "-Inf" too)
 * into out (at least 32 bytes); returns its length. */
size_t vgl__metrics_number(char *out, double d);

#endif
