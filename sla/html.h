/* The SLA report as one self-contained HTML page (`vigil sla --html`,
 * docs/sla.md "HTML report"): inline CSS and inline SVG only, no script,
 * no external URL, laid out for A4 so that the printed page count follows
 * from the content by a written rule.
 *
 * Pure: it takes what the JSON report takes (a finished calc and its
 * result, walked for the intervals and windows) and the customer totals
 * as `vigil sla --json` computes them, and writes text. Every string that
 * came from the configuration or the database is HTML-escaped and made
 * valid UTF-8 on the way out.
 *
 * Layout rule (all heights fixed in the CSS, so the browser has no say):
 * a page holds 272 mm (A4, 12 mm margins, 1 mm to spare); the header is
 * 22 mm on page 1; a host section is max(125, 62 + 4 x lines) mm, where
 * lines counts its table rows (a row whose note wraps counts each line),
 * so two ordinary hosts share a page; the totals section is
 * 20 + 4 x lines mm. Sections go in order, and one that does not fit in
 * what is left of the page starts the next page (break-before), unless
 * nothing but the header is on the page yet. A section taller than a
 * page is cut between rows into parts, each the rest of a page at most;
 * the parts after the first repeat the name and table heads (16 mm). No
 * section is ever cut by the browser (break-inside: avoid).
 *
 * Write errors and allocation failures are sticky, as in sla/jw.h.
 */
#ifndef VGL_SLA_HTML_H
#define VGL_SLA_HTML_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "sla/sla.h"

struct vgl_sla_total;
struct vgl_html;

/* The layout rule's numbers, in tenths of a millimetre (for tests). */
#define VGL_HTML_PAGE_H 2720
#define VGL_HTML_HEAD_H 220
#define VGL_HTML_SLOT_H 1250
#define VGL_HTML_HOST_BASE 620
#define VGL_HTML_CONT_BASE 160
#define VGL_HTML_TOTAL_BASE 200
#define VGL_HTML_LINE 40
/* Monospace columns of a note before it wraps (intervals, windows), and
 * at most this many lines of one note; the rest is cut with a marker
 * saying how many bytes were left out. */
#define VGL_HTML_NOTE_COLS 41
#define VGL_HTML_WNOTE_COLS 40
#define VGL_HTML_TCOLS 34       /* customer names in the totals */
#define VGL_HTML_NOTE_MAX_LINES 20

/* Writing to f (in chunks of about 64 KiB), or f NULL: kept in memory for
 * vgl_html_text. NULL when out of memory. */
struct vgl_html *vgl_html_new(FILE *f);
void vgl_html_free(struct vgl_html *h);
/* What is buffered, to the FILE. 0, or -1 when this or an earlier write or
 * allocation failed. */
int vgl_html_flush(struct vgl_html *h);
int vgl_html_failed(const struct vgl_html *h);
/* Memory mode: the text so far, NUL-terminated (NULL after a failure). */
const char *vgl_html_text(struct vgl_html *h, size_t *len);

struct vgl_html_head {
	const char *customer;   /* the report's customer; NULL: all customers */
	const char *scope;      /* what was selected, e.g. "host web-1"; may be NULL */
	const char *month;      /* "YYYY-MM" */
	int64_t as_of_ms;       /* the now the figures are computed at */
	/* The month in the selected hosts' zone when they share one (tz not
	 * NULL); else each host section gives its own. */
	const char *tz;
	int64_t month_start_ms, month_end_ms;
};

/* The document's head, style and page header. Once, first. */
void vgl_html_begin(struct vgl_html *h, const struct vgl_html_head *hd);

/* One host's section, after vgl_sla_calc_finish(c, r): figures, the
 * month's timeline as an SVG bar (each interval as it counts in the
 * period, open ones up to as_of) and the tables of intervals and
 * maintenance windows. customer and site may be NULL. */
void vgl_html_host(struct vgl_html *h, const char *name, const char *customer,
		   const char *site, const struct vgl_sla_calc *c, const struct vgl_sla_result *r);

/* The customer totals (n of them, struct in sla/host_month.h), then the
 * end of the document. Once, last. */
void vgl_html_end(struct vgl_html *h, const struct vgl_sla_total *const *totals, size_t n);

/* Pages the layout rule has given so far, and host sections written. */
int vgl_html_pages(const struct vgl_html *h);
int vgl_html_hosts(const struct vgl_html *h);

/* Where the timeline puts t, in the bar's 1000 units per month, as
 * thousandths: floor(10^6 x (t - m0) / (m1 - m0)), t held to [m0, m1].
 * The SVG prints it as units with three decimals. */
int64_t vgl_html_x_milli(int64_t t, int64_t m0, int64_t m1);

#endif
