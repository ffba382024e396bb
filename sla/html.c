/* The SLA report as a self-contained HTML page; see html.h for what it
 * promises and the layout rule.
 *
 * Heights are decided here, not by the browser: every section gets an
 * explicit height in millimetres from its row count, and the page breaks
 * are placed by place() before a section is written. The content is sized
 * to stay inside those heights (fixed line heights, notes in a monospace
 * font that wrap at any character, so a note's line count is known from
 * its length), and a mistaken estimate would only overlap inside a box,
 * never move a page break. That is what makes the PDF's page count
 * predictable from the data.
 *
 * Invariant: after ensure(h, n) returned 1, n bytes fit at buf + len, and
 * one spare byte past cap is kept for vgl_html_text's NUL.
 */
#include "sla/html.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "core/cause.h"
#include "core/utf8.h"
#include "core/vtime.h"
#include "sla/host_month.h"

#define HTML_CHUNK (1u << 16)
#define DAY_MS (24LL * 3600 * 1000)
/* Display columns after which a text of a column cols wide is cut: its
 * lines at most, less room for the marker. */
#define CUT(cols) ((size_t)(cols) * VGL_HTML_NOTE_MAX_LINES - 40)

struct vgl_html {
	FILE *f;                        /* NULL: memory mode */
	char *buf;
	size_t len, cap;
	int failed;
	/* layout, in 0.1 mm */
	int pages;                      /* begun so far */
	int used;                       /* of the current page */
	int on_page;                    /* sections on the current page */
	int hosts;
};

/* ---- output ---- */

struct vgl_html *vgl_html_new(FILE *f)
{
	struct vgl_html *h = calloc(1, sizeof(*h));

	if (!h)
		return NULL;
	h->f = f;
	h->cap = HTML_CHUNK;
	h->buf = malloc(h->cap + 1);
	if (!h->buf) {
		free(h);
		return NULL;
	}
	return h;
}

void vgl_html_free(struct vgl_html *h)
{
	if (!h)
		return;
	free(h->buf);
	free(h);
}

static int write_out(struct vgl_html *h)
{
	if (h->f && h->len && !h->failed) {
		if (fwrite(h->buf, 1, h->len, h->f) != h->len)
			h->failed = 1;
		h->len = 0;
	}
	return h->failed ? -1 : 0;
}

int vgl_html_flush(struct vgl_html *h)
{
	if (write_out(h) != 0)
		return -1;
	if (h->f && fflush(h->f) != 0)
		h->failed = 1;
	return h->failed ? -1 : 0;
}

int vgl_html_failed(const struct vgl_html *h)
{
	return h->failed;
}

const char *vgl_html_text(struct vgl_html *h, size_t *len)
{
	if (h->failed)
		return NULL;
	h->buf[h->len] = '\0';
	if (len)
		*len = h->len;
	return h->buf;
}

int vgl_html_pages(const struct vgl_html *h)
{
	return h->pages;
}

int vgl_html_hosts(const struct vgl_html *h)
{
	return h->hosts;
}

/* Room for n more bytes: 1, or 0 (failed set) when there cannot be. */
static int ensure(struct vgl_html *h, size_t n)
{
	size_t cap;
	char *nb;

	if (h->failed)
		return 0;
	if (h->len + n <= h->cap)
		return 1;
	if (h->f && write_out(h) != 0)
		return 0;
	if (h->len + n <= h->cap)
		return 1;
	for (cap = h->cap; cap < h->len + n; cap *= 2) {
		if (cap > SIZE_MAX / 4) {
			h->failed = 1;
			return 0;
		}
	}
	nb = realloc(h->buf, cap + 1);
	if (!nb) {
		h->failed = 1;
		return 0;
	}
	h->buf = nb;
	h->cap = cap;
	return 1;
}

static void put(struct vgl_html *h, const char *s, size_t n)
{
	if (!ensure(h, n))
		return;
	memcpy(h->buf + h->len, s, n);
	h->len += n;
}

static void puts_(struct vgl_html *h, const char *s)
{
	put(h, s, strlen(s));
}

static void pf(struct vgl_html *h, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Only for our own text (numbers, times, markup): never a string from the
 * database, which goes through esc(). */
static void pf(struct vgl_html *h, const char *fmt, ...)
{
	char small[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0) {
		h->failed = 1;
		return;
	}
	if ((size_t)n < sizeof(small)) {
		put(h, small, (size_t)n);
		return;
	}
	if (!ensure(h, (size_t)n + 1))
		return;
	va_start(ap, fmt);
	vsnprintf(h->buf + h->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	h->len += (size_t)n;
}

/* Display columns of the code point starting at s (1, or 2 for anything
 * past U+07FF: wide scripts and emoji are 2, and an estimate that errs
 * long only leaves room unused), and its length in bytes in *k (an
 * invalid byte is 1 byte, shown as U+FFFD). */
static int cols_at(const unsigned char *s, size_t n, size_t *k)
{
	*k = s[0] < 0x80 ? 1 : vgl_utf8_seq(s, n);
	if (!*k) {
		*k = 1;
		return 1;
	}
	return *k >= 3 ? 2 : 1;
}

/* Lines a text takes in a column of cols characters, at most max_lines. */
static int text_lines(const char *s, int cols, int max_lines)
{
	size_t c = 0, n = s ? strlen(s) : 0, k;
	int lines;

	for (size_t i = 0; i < n; i += k)
		c += (size_t)cols_at((const unsigned char *)s + i, n - i, &k);
	lines = c ? (int)((c + (size_t)cols - 1) / (size_t)cols) : 1;
	return lines > max_lines ? max_lines : lines;
}

/* s HTML-escaped (& < > " '), as valid UTF-8 (a byte that starts no valid
 * sequence, and control characters, as U+FFFD), cut after max_cols display
 * columns (0: no limit) with a marker saying how much was left out. NULL
 * writes dflt. */
static void esc_cut(struct vgl_html *h, const char *s, size_t max_cols, const char *dflt)
{
	size_t n, cols = 0, k;
	const char *run;

	if (!s) {
		puts_(h, dflt);
		return;
	}
	n = strlen(s);
	run = s;
	for (size_t i = 0; i < n; i += k) {
		const unsigned char *u = (const unsigned char *)s + i;
		const char *rep = NULL;
		int w = cols_at(u, n - i, &k);

		if (max_cols && cols + (size_t)w > max_cols) {
			put(h, run, (size_t)(s + i - run));
			pf(h, "&#8230; [%zu more bytes not shown]", n - i);
			return;
		}
		cols += (size_t)w;
		switch (*u) {
		case '&': rep = "&amp;"; break;
		case '<': rep = "&lt;"; break;
		case '>': rep = "&gt;"; break;
		case '"': rep = "&quot;"; break;
		case '\'': rep = "&#39;"; break;
		case '\t': case '\n': case '\r': rep = " "; break;
		default:
			if (*u < 0x20 || *u == 0x7f || (k == 1 && *u >= 0x80) ||
			    (k == 2 && u[0] == 0xc2 && u[1] < 0xa0))
				rep = "&#xFFFD;";       /* C0, DEL, C1, invalid */
		}
		if (rep) {
			put(h, run, (size_t)(s + i - run));
			puts_(h, rep);
			run = s + i + k;
		}
	}
	put(h, run, (size_t)(s + n - run));
}

static void esc(struct vgl_html *h, const char *s)
{
	esc_cut(h, s, 0, "");
}

/* ---- figures ---- */

static void iso(struct vgl_html *h, int64_t ms)
{
	char b[VGL_ISO_LEN];

	puts_(h, vgl_format_iso(ms, b));
}

/* The CLI's durations (vgl_cli_format_duration), signed. */
static void dur(struct vgl_html *h, int64_t ms)
{
	int64_t a = ms < 0 ? -ms : ms, s = a / 1000, d = s / 86400, hh = s / 3600 % 24,
		m = s / 60 % 60;
	const char *sg = ms < 0 ? "-" : "";

	s %= 60;
	if (d)
		pf(h, "%s%" PRId64 "d%02" PRId64 "h%02" PRId64 "m", sg, d, hh, m);
	else if (hh)
		pf(h, "%s%" PRId64 "h%02" PRId64 "m%02" PRId64 "s", sg, hh, m, s);
	else if (m)
		pf(h, "%s%" PRId64 "m%02" PRId64 "s", sg, m, s);
	else
		pf(h, "%s%" PRId64 ".%03" PRId64 "s", sg, s, a % 1000);
}

/* 10^-4 percent, truncated, as the CLI prints it: "99.8655". */
static void pct(struct vgl_html *h, int64_t e4)
{
	int64_t a = e4 < 0 ? -e4 : e4;

	pf(h, "%s%" PRId64 ".%04" PRId64, e4 < 0 ? "-" : "", a / 10000, a % 10000);
}

/* 0.1 mm as CSS. */
static void mm(struct vgl_html *h, int tenths)
{
	pf(h, "%d.%dmm", tenths / 10, tenths % 10);
}

int64_t vgl_html_x_milli(int64_t t, int64_t m0, int64_t m1)
{
	if (m1 <= m0 || t <= m0)
		return 0;
	if (t >= m1)
		return 1000000;
	return (int64_t)((unsigned __int128)(t - m0) * 1000000 / (uint64_t)(m1 - m0));
}

static void xu(struct vgl_html *h, int64_t milli)
{
	pf(h, "%" PRId64 ".%03" PRId64, milli / 1000, milli % 1000);
}

/* "A .. B (length)" */
static void span(struct vgl_html *h, int64_t a, int64_t b, int with_len)
{
	iso(h, a);
	puts_(h, " .. ");
	iso(h, b);
	if (!with_len)
		return;
	puts_(h, " (");
	dur(h, b - a);
	puts_(h, ")");
}

/* A vertical line across the bar at t. */
static void vline(struct vgl_html *h, int64_t milli, const char *attrs)
{
	puts_(h, "<line x1=\"");
	xu(h, milli);
	puts_(h, "\" x2=\"");
	xu(h, milli);
	pf(h, "\" %s/>", attrs);
}

static const char *const cause_colour[VGL_CAUSE_COUNT] = {
	[VGL_CAUSE_NETWORK] = "#1f77b4", [VGL_CAUSE_HARDWARE] = "#d62728",
	[VGL_CAUSE_POWER] = "#ff7f0e", [VGL_CAUSE_FACILITY] = "#8c564b",
	[VGL_CAUSE_MAINTENANCE] = "#9467bd", [VGL_CAUSE_CUSTOMER] = "#7f7f7f",
	[VGL_CAUSE_FORCE_MAJEURE] = "#bcbd22", [VGL_CAUSE_UNKNOWN] = "#e377c2",
};

static const char *colour(int cause)
{
	return cause >= 0 && cause < VGL_CAUSE_COUNT ? cause_colour[cause] : "#000";
}

/* ---- the document ---- */

static const char css[] =
	"@page{size:A4;margin:12mm}\n"
	"*{box-sizing:border-box}\n"
	"html{-webkit-print-color-adjust:exact;print-color-adjust:exact}\n"
	"body{margin:0;font:8pt/1.3 'DejaVu Sans',sans-serif;color:#111;background:#fff}\n"
	"@media screen{body{width:186mm;margin:6mm auto}}\n"
	"header{height:22mm;padding:0 0 2mm;border-bottom:.5mm solid #222;overflow:hidden}\n"
	"h1{font-size:14pt;line-height:6mm;margin:0 0 1mm}\n"
	"header p{margin:0;line-height:3.6mm}\n"
	"section{break-inside:avoid;page-break-inside:avoid;padding:3mm 0 0;"
	"border-bottom:.2mm solid #999}\n"
	"section.pb{break-before:page;page-break-before:always}\n"
	"h2{font-size:11pt;line-height:5mm;margin:0;white-space:nowrap;overflow:hidden;"
	"text-overflow:ellipsis}\n"
	"h2 .st{float:right;font-size:8pt;line-height:4mm;padding:0 2mm;margin-top:.5mm;"
	"border-radius:1mm;color:#fff}\n"
	".breached{background:#c0392b}.met{background:#2e7d32}.nb{background:#777}\n"
	".sub{line-height:3.5mm;height:3.5mm;margin:0 0 1.5mm;color:#444;font-size:7pt;"
	"white-space:nowrap;overflow:hidden;text-overflow:ellipsis}\n"
	".figs{display:grid;grid-template-columns:repeat(4,1fr);gap:1mm 2mm;margin:0 0 1.5mm}\n"
	".fig{height:6.6mm;border-left:.6mm solid #bbb;padding-left:1.2mm;overflow:hidden}\n"
	".fig b{display:block;font-size:6pt;line-height:2.6mm;font-weight:normal;color:#555;"
	"text-transform:uppercase;letter-spacing:.1mm}\n"
	".fig span{display:block;font-size:8.5pt;line-height:4mm;white-space:nowrap;"
	"overflow:hidden;text-overflow:ellipsis}\n"
	".fig.big span{font-weight:bold}\n"
	".fig.bad{border-color:#c0392b}.fig.good{border-color:#2e7d32}\n"
	"svg.tl{display:block;width:186mm;height:11.2mm;margin:0 0 .8mm}\n"
	".lg{font-size:6pt;line-height:3.2mm;height:3.2mm;margin:0 0 1.2mm;color:#333;"
	"white-space:nowrap;overflow:hidden}\n"
	".lg i{display:inline-block;width:2.6mm;height:2.2mm;margin:0 .7mm 0 1.6mm;"
	"vertical-align:-.3mm;border:.1mm solid #666}\n"
	"h3{font-size:7pt;line-height:3.4mm;margin:.6mm 0 0;font-weight:bold}\n"
	"table{width:100%;border-collapse:collapse;table-layout:fixed}\n"
	"th{font:bold 6.5pt/3.4mm 'DejaVu Sans',sans-serif;text-align:left;padding:.2mm .6mm;"
	"border-bottom:.3mm solid #333;white-space:nowrap;overflow:hidden;vertical-align:bottom}\n"
	/* a row of k lines is 3.3k + .3 + one device pixel of border (.27):
	 * within the 4k mm the layout books for it */
	"td{font:6.5pt/3.3mm 'DejaVu Sans Mono',monospace;padding:.15mm .6mm;vertical-align:top;"
	"border-bottom:.2mm solid #ddd;white-space:nowrap;overflow:hidden}\n"
	"td.w{white-space:normal;word-break:break-all;overflow-wrap:anywhere}\n"
	"td.n,th.n{text-align:right}\n"
	".tot th{white-space:normal}\n"
	"td i{display:inline-block;width:1.8mm;height:1.8mm;margin-right:.8mm;"
	"vertical-align:-.1mm}\n"
	"tr.nc td{color:#666}\n"
	".none td{color:#666;font-family:'DejaVu Sans',sans-serif}\n";

void vgl_html_begin(struct vgl_html *h, const struct vgl_html_head *hd)
{
	h->pages = 1;
	h->used = VGL_HTML_HEAD_H;
	h->on_page = 0;
	puts_(h, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>SLA report ");
	esc_cut(h, hd->customer, 0, "all customers");
	puts_(h, " ");
	esc(h, hd->month);
	puts_(h, "</title>\n<style>\n");
	puts_(h, css);
	puts_(h, "</style></head><body>\n<header><h1>SLA report: ");
	esc_cut(h, hd->customer, 0, "all customers");
	puts_(h, "</h1>\n<p>Month <b>");
	esc(h, hd->month);
	puts_(h, "</b>");
	if (hd->tz) {
		puts_(h, " in ");
		esc(h, hd->tz);
		puts_(h, ": ");
		span(h, hd->month_start_ms, hd->month_end_ms, 1);
	} else {
		puts_(h, " in each host's contract zone (see each host)");
	}
	puts_(h, "</p>\n<p>As of ");
	iso(h, hd->as_of_ms);
	if (hd->tz && hd->as_of_ms < hd->month_end_ms)
		puts_(h, " &#8212; month in progress: downtime counted up to this time, figures "
			 "are the month's, owed so far");
	puts_(h, "</p>\n<p>");
	if (hd->scope) {
		puts_(h, "Selection: ");
		esc(h, hd->scope);
		puts_(h, ". ");
	}
	puts_(h, "Uptime % truncated to 4 decimals; times UTC. Made by vigil sla --html.</p>"
		 "</header>\n");
}

static void new_page(struct vgl_html *h)
{
	h->pages++;
	h->used = 0;
	h->on_page = 0;
}

/* Books hh on the current page: 1 if the section starts a page other
 * than the first (it then breaks before). */
static int place(struct vgl_html *h, int hh)
{
	int brk = !h->on_page && h->pages > 1;

	h->used += hh;
	h->on_page++;
	return brk;
}

static void section_open(struct vgl_html *h, int brk, int height, const char *cls)
{
	pf(h, "<section class=\"%s%s\" style=\"height:", cls, brk ? " pb" : "");
	mm(h, height);
	puts_(h, "\">\n");
}

/* ---- rows: what a section's tables hold, with the lines each takes ---- */

enum row_kind { ROW_IV, ROW_NONE, ROW_WHEAD, ROW_WIN, ROW_TOTAL };

struct row {
	enum row_kind kind;
	int lines;
	struct vgl_sla_part p;                  /* ROW_IV */
	struct vgl_sla_maint_part m;            /* ROW_WIN */
	const struct vgl_sla_total *t;          /* ROW_TOTAL */
};

struct rows {
	struct row *r;
	size_t n, cap;
	int nomem;
};

static struct row *row_add(struct rows *rs, enum row_kind kind, int lines)
{
	if (rs->nomem)
		return NULL;
	if (rs->n == rs->cap) {
		size_t cap = rs->cap ? rs->cap * 2 : 32;
		struct row *n = realloc(rs->r, cap * sizeof(*n));

		if (!n) {
			rs->nomem = 1;
			return NULL;
		}
		rs->r = n;
		rs->cap = cap;
	}
	memset(&rs->r[rs->n], 0, sizeof(rs->r[0]));
	rs->r[rs->n].kind = kind;
	rs->r[rs->n].lines = lines;
	return &rs->r[rs->n++];
}

static void on_part(void *ctx, const struct vgl_sla_part *p)
{
	struct rows *rs = ctx;
	struct row *r = row_add(rs, ROW_IV, text_lines(p->iv->note, VGL_HTML_NOTE_COLS,
							VGL_HTML_NOTE_MAX_LINES));

	if (r)
		r->p = *p;
}

static void on_maint(void *ctx, const struct vgl_sla_maint_part *mp)
{
	struct rows *rs = ctx;
	struct row *r = row_add(rs, ROW_WIN, text_lines(mp->m->note, VGL_HTML_WNOTE_COLS,
							VGL_HTML_NOTE_MAX_LINES));

	if (r)
		r->m = *mp;
}

/* ---- one host ---- */

struct host_ctx {
	const char *name, *customer, *site;
	const struct vgl_sla_calc *c;
	const struct vgl_sla_policy *p;
	const struct vgl_sla_result *r;
};

static void fig_open(struct vgl_html *h, const char *cls, const char *label)
{
	pf(h, "<div class=\"fig%s%s\"><b>%s</b><span>", *cls ? " " : "", cls, label);
}

static void fig_close(struct vgl_html *h)
{
	puts_(h, "</span></div>\n");
}

static void fig_dur(struct vgl_html *h, const char *label, int64_t ms)
{
	fig_open(h, "", label);
	dur(h, ms);
	pf(h, " <small>(%" PRId64 " ms)</small>", ms);
	fig_close(h);
}

static const char *status_class(const struct vgl_sla_result *r)
{
	return r->breached ? "breached" : r->begun ? "met" : "nb";
}

static const char *status_text(const struct vgl_sla_result *r)
{
	return r->breached ? "BREACHED"
	       : !r->begun ? "not begun"
	       : r->in_progress ? "met so far" : "met";
}

static void host_title(struct vgl_html *h, const struct host_ctx *x, int cont)
{
	const struct vgl_sla_result *r = x->r;

	pf(h, "<h2><span class=\"st %s\">%s</span>", status_class(r), status_text(r));
	esc(h, x->name);
	if (cont)
		puts_(h, " <small>(continued)</small>");
	puts_(h, "</h2>\n");
	if (cont)
		return;
	puts_(h, "<div class=\"sub\">customer ");
	esc_cut(h, x->customer, 0, "-");
	puts_(h, " &#183; site ");
	esc_cut(h, x->site, 0, "-");
	puts_(h, " &#183; policy ");
	esc(h, x->p->name);
	puts_(h, " &#183; tz ");
	esc(h, x->p->tz);
	puts_(h, " &#183; month ");
	span(h, r->month_start_ms, r->month_end_ms, 1);
	if (r->partial) {
		puts_(h, " &#183; partial: measured ");
		span(h, r->period_start_ms, r->period_end_ms, 0);
	}
	puts_(h, "</div>\n");
}

static void host_figures(struct vgl_html *h, const struct host_ctx *x)
{
	const struct vgl_sla_policy *p = x->p;
	const struct vgl_sla_result *r = x->r;
	int any = 0;

	puts_(h, "<div class=\"figs\">\n");
	fig_open(h, r->breached ? "big bad" : "big good", "uptime");
	pct(h, r->uptime_e4);
	puts_(h, " %");
	fig_close(h);
	fig_open(h, "", "commitment");
	pct(h, p->commitment_e4);
	puts_(h, " %");
	fig_close(h);
	fig_dur(h, "allowance", r->allowance_ms);
	fig_dur(h, "allowance left", r->allowance_left_ms);
	fig_dur(h, "downtime counted", r->downtime_ms);
	fig_dur(h, "maintenance excluded", r->maint_excluded_ms);
	fig_open(h, "", "not counted (cause)");
	for (int i = 0; i < VGL_CAUSE_COUNT; i++) {
		if (!r->excluded_ms[i])
			continue;
		pf(h, "%s%s ", any ? ", " : "", vgl_cause_str(i));
		dur(h, r->excluded_ms[i]);
		any = 1;
	}
	if (!any)
		puts_(h, "none");
	fig_close(h);
	fig_open(h, r->credit ? "big bad" : "", "credit");
	pf(h, "%" PRId64 " %s", r->credit,
	   p->unit == VGL_CREDIT_DAYS ? "day(s) of service" : "% of the fee");
	fig_close(h);
	fig_open(h, r->breached ? "bad" : "good", "status");
	puts_(h, r->breached ? "breached" : !r->begun ? "not begun" : r->in_progress ? "met so far" : "met");
	fig_close(h);
	fig_open(h, "", "band");
	if (r->band >= 0) {
		pf(h, "%d: [", r->band);
		pct(h, p->bands[r->band].from_e4);
		puts_(h, ", ");
		pct(h, p->bands[r->band].to_e4);
		puts_(h, ") %");
	} else {
		puts_(h, r->breached ? "none (no credit band)" : "none");
	}
	fig_close(h);
	if (p->kind != VGL_SLA_AVAILABILITY) {
		fig_open(h, "", "requests / failed");
		pf(h, "%" PRIu64 " / %" PRIu64, r->requests, r->failures);
		fig_close(h);
	} else {
		fig_dur(h, "counted (before maint.)", r->counted_ms);
	}
	fig_open(h, "", "coverage");
	pf(h, "%.2f %% (", r->coverage_pct);
	dur(h, r->observed_ms);
	puts_(h, ")");
	fig_close(h);
	puts_(h, "</div>\n");
}

struct tl_ctx {
	struct vgl_html *h;
	int64_t m0, m1;
};

static void tl_rect(struct vgl_html *h, int64_t m0, int64_t m1, int64_t s, int64_t e,
		    const char *attrs)
{
	int64_t xs = vgl_html_x_milli(s, m0, m1), xe = vgl_html_x_milli(e, m0, m1);

	puts_(h, "<rect x=\"");
	xu(h, xs);
	puts_(h, "\" width=\"");
	xu(h, xe - xs);
	pf(h, "\" %s/>\n", attrs);
}

static void tl_part(void *ctx, const struct vgl_sla_part *p)
{
	struct tl_ctx *t = ctx;
	char a[160];

	snprintf(a, sizeof(a), "y=\"0\" height=\"30\" fill=\"%s\" stroke=\"%s\"%s class=\"iv\"",
		 colour(p->iv->cause), colour(p->iv->cause),
		 p->counted ? "" : " fill-opacity=\".45\" stroke-opacity=\".45\"");
	tl_rect(t->h, t->m0, t->m1, p->start_ms, p->end_ms, a);
}

static void tl_maint(void *ctx, const struct vgl_sla_maint_part *mp)
{
	struct tl_ctx *t = ctx;
	int64_t s = mp->m->start_ms, e = mp->m->end_ms;

	if (e <= t->m0 || s >= t->m1)
		return;
	tl_rect(t->h, t->m0, t->m1, s, e,
		mp->qualifies ? "y=\"33\" height=\"6\" fill=\"#5b7fa6\" stroke=\"#5b7fa6\""
			      : "y=\"33\" height=\"6\" fill=\"#fff\" stroke=\"#5b7fa6\" "
				"stroke-dasharray=\"2 1\"");
}

/* The month from its first to its last ms across 1000 units: the period
 * outside the service window and the time after as_of shaded, each part
 * of an interval (clipped to the period, open ones up to as_of) a block
 * in its cause's colour, the windows below, and 24-hour day guides. */
static void host_timeline(struct vgl_html *h, const struct host_ctx *x)
{
	const struct vgl_sla_result *r = x->r;
	int64_t m0 = r->month_start_ms, m1 = r->month_end_ms;
	int64_t upto = r->as_of_ms < r->period_end_ms ? r->as_of_ms : r->period_end_ms;
	int64_t days = (r->month_ms + DAY_MS / 2) / DAY_MS;
	struct tl_ctx t = { h, m0, m1 };

	puts_(h, "<svg class=\"tl\" viewBox=\"0 0 1000 60\" preserveAspectRatio=\"none\" "
		 "role=\"img\" aria-label=\"timeline\">\n"
		 "<rect x=\"0\" y=\"0\" width=\"1000\" height=\"30\" fill=\"#e4f2e4\"/>\n");
	if (r->period_start_ms > m0)
		tl_rect(h, m0, m1, m0, r->period_start_ms, "y=\"0\" height=\"30\" fill=\"#cfcfcf\"");
	if (r->period_end_ms < m1)
		tl_rect(h, m0, m1, r->period_end_ms, m1, "y=\"0\" height=\"30\" fill=\"#cfcfcf\"");
	if (r->begun && upto < r->period_end_ms)
		tl_rect(h, m0, m1, upto, r->period_end_ms, "y=\"0\" height=\"30\" fill=\"#f7f7f7\"");
	else if (!r->begun)
		tl_rect(h, m0, m1, r->period_start_ms, r->period_end_ms,
			"y=\"0\" height=\"30\" fill=\"#f7f7f7\"");
	/* the stroke keeps a block of seconds visible; x and width stay exact */
	puts_(h, "<g stroke-width=\".8\">\n");
	vgl_sla_calc_each_part(x->c, tl_part, &t);
	vgl_sla_calc_each_maint(x->c, tl_maint, &t);
	puts_(h, "</g>\n");
	puts_(h, "<g stroke=\"#fff\" stroke-width=\".5\" stroke-opacity=\".7\">\n");
	for (int64_t k = 1; k < days; k++)
		vline(h, vgl_html_x_milli(m0 + k * DAY_MS, m0, m1), "y1=\"0\" y2=\"30\"");
	puts_(h, "\n</g>\n<g font-size=\"11\" fill=\"#444\" text-anchor=\"middle\" "
		 "font-family=\"DejaVu Sans,sans-serif\">\n");
	for (int64_t k = 0; k < days; k++) {
		int64_t xm = vgl_html_x_milli(m0 + k * DAY_MS + DAY_MS / 2, m0, m1);

		puts_(h, "<text x=\"");
		xu(h, xm);
		pf(h, "\" y=\"52\">%" PRId64 "</text>", k + 1);
	}
	puts_(h, "\n</g>\n");
	if (r->begun && r->as_of_ms > m0 && r->as_of_ms < m1)
		vline(h, vgl_html_x_milli(r->as_of_ms, m0, m1),
		      "y1=\"0\" y2=\"41\" stroke=\"#000\" stroke-width=\"1.2\" "
		      "stroke-dasharray=\"3 2\"");
	puts_(h, "\n</svg>\n<div class=\"lg\">");
	for (int i = 0; i < VGL_CAUSE_COUNT; i++)
		pf(h, "<i style=\"background:%s\"></i>%s", colour(i), vgl_cause_str(i));
	puts_(h, " &#183; pale: not counted</div>\n<div class=\"lg\"><i style=\"background:#e4f2e4\"></i>available"
		 "<i style=\"background:#cfcfcf\"></i>not in service"
		 "<i style=\"background:#f7f7f7\"></i>after as-of (dashed line)"
		 "<i style=\"background:#5b7fa6\"></i>maintenance window, qualifies"
		 "<i style=\"background:#fff;border:.2mm dashed #5b7fa6\"></i>without enough notice"
		 " &#183; day guides every 24 h from the month's start</div>\n");
}

static void iv_head(struct vgl_html *h)
{
	puts_(h, "<table class=\"iv\"><colgroup><col style=\"width:34.5mm\"><col "
		 "style=\"width:34.5mm\"><col style=\"width:15mm\"><col style=\"width:22.5mm\">"
		 "<col style=\"width:19.5mm\"><col></colgroup>\n<tr><th>start</th><th>end</th>"
		 "<th class=\"n\">in period</th><th>cause</th><th>counted</th><th>note</th></tr>\n");
}

static void win_head(struct vgl_html *h)
{
	puts_(h, "<table class=\"mw\"><colgroup><col style=\"width:14mm\"><col "
		 "style=\"width:34.5mm\"><col style=\"width:34.5mm\"><col style=\"width:16mm\">"
		 "<col style=\"width:13mm\"><col style=\"width:15mm\"><col></colgroup>\n"
		 "<tr><th>kind</th><th>start</th><th>end</th><th class=\"n\">notice</th>"
		 "<th>qualifies</th><th class=\"n\">excluded</th><th>note</th></tr>\n");
}

static void iv_row(struct vgl_html *h, const struct vgl_sla_part *p)
{
	pf(h, "<tr%s><td>", p->counted ? "" : " class=\"nc\"");
	iso(h, p->iv->start_ms);
	puts_(h, "</td><td>");
	if (p->iv->end_ms == VGL_SLA_OPEN)
		puts_(h, "open");
	else
		iso(h, p->iv->end_ms);
	puts_(h, "</td><td class=\"n\">");
	dur(h, p->end_ms - p->start_ms);
	pf(h, "</td><td><i style=\"background:%s\"></i>%s</td><td>%s", colour(p->iv->cause),
	   vgl_cause_str(p->iv->cause), p->counted ? "yes" : "no");
	if (p->maint_excluded_ms) {
		puts_(h, " &#8722;");
		dur(h, p->maint_excluded_ms);
	}
	puts_(h, "</td><td class=\"w\">");
	esc_cut(h, p->iv->note, CUT(VGL_HTML_NOTE_COLS), "");
	puts_(h, "</td></tr>\n");
}

static void win_row(struct vgl_html *h, const struct vgl_sla_maint_part *mp)
{
	pf(h, "<tr%s><td>%s</td><td>", mp->qualifies ? "" : " class=\"nc\"",
	   mp->m->kind == VGL_MAINT_EMERGENCY ? "emergency" : "planned");
	iso(h, mp->m->start_ms);
	puts_(h, "</td><td>");
	iso(h, mp->m->end_ms);
	puts_(h, "</td><td class=\"n\">");
	dur(h, mp->notice_ms);
	pf(h, "</td><td>%s</td><td class=\"n\">", mp->qualifies ? "yes" : "no");
	dur(h, mp->excluded_ms);
	puts_(h, "</td><td class=\"w\">");
	esc_cut(h, mp->m->note, CUT(VGL_HTML_WNOTE_COLS), "");
	puts_(h, "</td></tr>\n");
}

static void total_head(struct vgl_html *h)
{
	puts_(h, "<table class=\"tot\"><colgroup><col style=\"width:50mm\"><col><col><col>"
		 "<col><col><col><col style=\"width:22mm\"></colgroup>\n<tr><th>customer</th>"
		 "<th class=\"n\">hosts</th><th class=\"n\">skipped (no service)</th>"
		 "<th class=\"n\">breached</th><th class=\"n\">owed a % credit</th>"
		 "<th class=\"n\">credit % sum</th><th class=\"n\">credit days</th>"
		 "<th class=\"n\">downtime</th></tr>\n");
}

static void total_row(struct vgl_html *h, const struct vgl_sla_total *t)
{
	puts_(h, "<tr><td class=\"w\">");
	esc_cut(h, t->customer, CUT(VGL_HTML_TCOLS), "(none)");
	pf(h, "</td><td class=\"n\">%" PRId64 "</td><td class=\"n\">%" PRId64 "</td>"
	   "<td class=\"n\">%" PRId64 "</td><td class=\"n\">%" PRId64 "</td>"
	   "<td class=\"n\">%" PRId64 "</td><td class=\"n\">%" PRId64 "</td><td class=\"n\">",
	   t->hosts, t->skipped, t->breached, t->credit_percent_hosts, t->credit_percent_sum,
	   t->credit_days);
	dur(h, t->downtime_ms);
	puts_(h, "</td></tr>\n");
}

/* Rows [a, b) into the tables, opening and closing them as the kinds
 * change; a part after the first starts with the head of its table. */
static void write_rows(struct vgl_html *h, const struct row *rows, size_t a, size_t b)
{
	enum table { NONE, IV, WIN, TOT } open = NONE;

	for (size_t i = a; i < b; i++) {
		const struct row *r = &rows[i];
		enum table want = r->kind == ROW_IV || r->kind == ROW_NONE ? IV
			   : r->kind == ROW_TOTAL ? TOT : WIN;

		if (r->kind == ROW_WHEAD) {
			if (open != NONE)
				puts_(h, "</table>\n");
			puts_(h, "<h3>Maintenance windows</h3>\n");
			win_head(h);
			open = WIN;
			continue;
		}
		if (open != want) {
			if (open != NONE)
				puts_(h, "</table>\n");
			if (want == IV)
				iv_head(h);
			else if (want == WIN)
				win_head(h);
			else
				total_head(h);
			open = want;
		}
		if (r->kind == ROW_IV)
			iv_row(h, &r->p);
		else if (r->kind == ROW_NONE)
			puts_(h, "<tr class=\"none\"><td colspan=\"6\">no Unavailable interval in "
				 "the period</td></tr>\n");
		else if (r->kind == ROW_WIN)
			win_row(h, &r->m);
		else
			total_row(h, r->t);
	}
	if (open != NONE)
		puts_(h, "</table>\n");
}

/* How many rows from a fit in cap lines (at least one: a row never waits
 * for a bigger page than there is); a part does not end on the windows'
 * heading, which goes with their first row. */
static size_t rows_fitting(const struct row *rows, size_t a, size_t n, int cap, int *lines)
{
	size_t b = a;

	*lines = 0;
	while (b < n && (b == a || *lines + rows[b].lines <= cap))
		*lines += rows[b++].lines;
	if (b < n && b > a + 1 && rows[b - 1].kind == ROW_WHEAD)
		*lines -= rows[--b].lines;
	return b;
}

typedef void head_fn(struct vgl_html *h, const void *ctx, int cont);

/* A section of base height base (first part) and rows, by the layout
 * rule: whole if it fits in what is left of the page or else on the next
 * (at least min high); what fits on no page (the header's page counts as
 * fresh while nothing else is on it) is cut between rows into parts. */
static void emit_section(struct vgl_html *h, const char *cls, int base, int min,
			 const struct row *rows, size_t n, head_fn *head, const void *ctx)
{
	int lines = 0, hh;
	size_t a = 0;

	for (size_t i = 0; i < n; i++)
		lines += rows[i].lines;
	hh = base + VGL_HTML_LINE * lines;
	if (hh < min)
		hh = min;
	if (h->on_page && h->used + hh > VGL_HTML_PAGE_H)
		new_page(h);
	if (h->used + hh <= VGL_HTML_PAGE_H) {
		section_open(h, place(h, hh), hh, cls);
		head(h, ctx, 0);
		write_rows(h, rows, 0, n);
		puts_(h, "</section>\n");
		return;
	}
	for (int part = 0; a < n; part++) {
		int b0 = part ? VGL_HTML_CONT_BASE : base, got;
		size_t b = rows_fitting(rows, a, n, (VGL_HTML_PAGE_H - h->used - b0) / VGL_HTML_LINE,
					&got);

		hh = b0 + VGL_HTML_LINE * got;
		section_open(h, place(h, hh), hh, cls);
		head(h, ctx, part > 0);
		write_rows(h, rows, a, b);
		puts_(h, "</section>\n");
		a = b;
		if (a < n)
			new_page(h);
	}
}

static void host_head(struct vgl_html *h, const void *ctx, int cont)
{
	const struct host_ctx *x = ctx;

	host_title(h, x, cont);
	if (cont)
		return;
	host_figures(h, x);
	host_timeline(h, x);
}

void vgl_html_host(struct vgl_html *h, const char *name, const char *customer,
		   const char *site, const struct vgl_sla_calc *c, const struct vgl_sla_result *r)
{
	struct host_ctx x = { name, customer, site, c, vgl_sla_calc_policy(c), r };
	struct rows rs = { 0 };
	size_t n_iv;

	if (h->failed)
		return;
	vgl_sla_calc_each_part(c, on_part, &rs);
	if (!rs.n)
		row_add(&rs, ROW_NONE, 1);
	n_iv = rs.n;
	row_add(&rs, ROW_WHEAD, 2);
	vgl_sla_calc_each_maint(c, on_maint, &rs);
	if (rs.n == n_iv + 1)
		rs.n = n_iv;            /* no window: no table for them */
	if (rs.nomem) {
		h->failed = 1;
		free(rs.r);
		return;
	}
	emit_section(h, "host", VGL_HTML_HOST_BASE, VGL_HTML_SLOT_H, rs.r, rs.n, host_head, &x);
	h->hosts++;
	free(rs.r);
}

static void totals_head(struct vgl_html *h, const void *ctx, int cont)
{
	(void)ctx;
	pf(h, "<h2>Customer totals%s</h2>\n", cont ? " <small>(continued)</small>" : "");
}

void vgl_html_end(struct vgl_html *h, const struct vgl_sla_total *const *totals, size_t n)
{
	struct rows rs = { 0 };

	for (size_t i = 0; i < n; i++) {
		struct row *r = row_add(&rs, ROW_TOTAL,
					text_lines(totals[i]->customer, VGL_HTML_TCOLS,
						   VGL_HTML_NOTE_MAX_LINES));

		if (r)
			r->t = totals[i];
	}
	if (rs.nomem) {
		h->failed = 1;
		free(rs.r);
		return;
	}
	if (n)
		emit_section(h, "totals", VGL_HTML_TOTAL_BASE, 0, rs.r, rs.n, totals_head, NULL);
	free(rs.r);
	puts_(h, "</body></html>\n");
}
