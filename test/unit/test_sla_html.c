/* The SLA report's HTML page (sla/html.h) on hand-made months: strings
 * from the database escaped, the timeline's blocks at x and width
 * computed by hand from the interval times, open intervals up to as-of,
 * intervals clipped to the month, nothing that runs or fetches, the
 * layout rule's page count, and file output equal to the memory text. */
#include <stdio.h>

#include "sla/host_month.h"
#include "sla/html.h"
#include "test/unit/sla_util.h"

/* November 2026 in UTC: 30 days = 2,592,000,000 ms. The bar is 1000
 * units, so one day is 33.333... units: x milli = floor(10^6 t / 30 d). */

static void add_note(struct vgl_sla_calc *c, int cause, int64_t s, int64_t e, const char *note)
{
	struct vgl_sla_interval iv = { 7, cause, s, e, note, "operator:x" };

	ASSERT_EQ(vgl_sla_calc_add_interval(c, &iv), 0);
}

static const struct vgl_html_head head_nov = {
	.customer = "acme <&>", .scope = "host web-1", .month = "2026-11",
	.as_of_ms = 1796083200000LL,    /* 2026-12-01T00:00:00Z */
	.tz = "UTC", .month_start_ms = 1793491200000LL, .month_end_ms = 1796083200000LL,
};

/* One host's page in memory; the caller frees the text. */
static char *page(struct vgl_sla_calc *c, const char *name, int64_t as_of)
{
	struct vgl_html_head hd = head_nov;
	struct vgl_html *h = vgl_html_new(NULL);
	struct vgl_sla_result r;
	struct vgl_sla_total t = { .customer = "acme <&>", .hosts = 1, .downtime_ms = 60000 };
	const struct vgl_sla_total *tp = &t;
	const char *text;
	char *out;

	ASSERT(h != NULL);
	ASSERT_EQ(vgl_sla_calc_finish(c, &r), 0);
	hd.as_of_ms = as_of;
	vgl_html_begin(h, &hd);
	vgl_html_host(h, name, "acme <&>", "hall-1", c, &r);
	vgl_html_end(h, &tp, 1);
	ASSERT_EQ(vgl_html_failed(h), 0);
	text = vgl_html_text(h, NULL);
	ASSERT(text != NULL);
	out = strdup(text);
	ASSERT(out != NULL);
	vgl_html_free(h);
	return out;
}

/* Nothing that runs, loads or links out of the page. */
static void assert_inert(const char *s)
{
	ASSERT(!strstr(s, "<script"));
	ASSERT(!strstr(s, "<SCRIPT"));
	ASSERT(!strstr(s, "http://"));
	ASSERT(!strstr(s, "https://"));
	ASSERT(!strstr(s, "src="));
	ASSERT(!strstr(s, "href="));
	ASSERT(!strstr(s, "url("));
	ASSERT(!strstr(s, "@import"));
	ASSERT(!strstr(s, " on"));      /* no onload= or any other handler */
}

TEST(sla_html_x_milli)
{
	int64_t m0 = T("2026-11-01T00:00:00Z"), m1 = T("2026-12-01T00:00:00Z");

	ASSERT_EQ(vgl_html_x_milli(m0, m0, m1), 0);
	ASSERT_EQ(vgl_html_x_milli(m0 - 1, m0, m1), 0);
	ASSERT_EQ(vgl_html_x_milli(m1, m0, m1), 1000000);
	ASSERT_EQ(vgl_html_x_milli(m1 + D, m0, m1), 1000000);
	ASSERT_EQ(vgl_html_x_milli(m0 + 2 * D, m0, m1), 66666);         /* 2/30 */
	ASSERT_EQ(vgl_html_x_milli(m0 + 15 * D, m0, m1), 500000);
	ASSERT_EQ(vgl_html_x_milli(m1 - 1, m0, m1), 999999);
	ASSERT_EQ(vgl_html_x_milli(m0 + 2592, m0, m1), 1);              /* 1/10^6 of the month */
	ASSERT_EQ(vgl_html_x_milli(m0 + 2591, m0, m1), 0);
	ASSERT_EQ(vgl_html_x_milli(m0, m0, m0), 0);                     /* empty month */
}

TEST(sla_html_escapes_database_strings)
{
	int64_t m0, m1;
	struct vgl_sla_calc *c = calc_month("vserver", "UTC", 2026, 11, 0, 0, 0, &m0, &m1);
	char *s;

	add_note(c, VGL_CAUSE_HARDWARE, T("2026-11-03T00:00:00Z"), T("2026-11-03T06:00:00Z"),
		 "<script>alert(1)</script>&\"' x");
	add_note(c, VGL_CAUSE_NETWORK, T("2026-11-05T00:00:00Z"), T("2026-11-05T00:30:00Z"),
		 "bad \xff byte, tab\tand \x01 ctl, caf\xc3\xa9");
	s = page(c, "web-1<img>", m1);
	assert_inert(s);
	ASSERT_CONTAINS(s, "&lt;script&gt;alert(1)&lt;/script&gt;&amp;&quot;&#39; x");
	ASSERT_CONTAINS(s, "bad &#xFFFD; byte, tab and &#xFFFD; ctl, caf\xc3\xa9");
	ASSERT_CONTAINS(s, "web-1&lt;img&gt;");
	ASSERT_CONTAINS(s, "<title>SLA report acme &lt;&amp;&gt; 2026-11</title>");
	ASSERT_CONTAINS(s, "SLA report: acme &lt;&amp;&gt;</h1>");
	ASSERT(!strstr(s, "<img>"));
	ASSERT(!strstr(s, "acme <&>"));
	ASSERT(!strstr(s, "\xff"));
	/* the figures, as the CLI prints them: 6 h 30 min of 720 h down =
	 * 99.0972...% truncated, band [95, 99.90), credit 30 */
	ASSERT_CONTAINS(s, "<b>uptime</b><span>99.0972 %</span>");
	ASSERT_CONTAINS(s, "<b>commitment</b><span>99.9400 %</span>");
	ASSERT_CONTAINS(s, "<b>allowance</b><span>25m55s <small>(1555200 ms)</small>");
	ASSERT_CONTAINS(s, "<b>downtime counted</b><span>6h30m00s <small>(23400000 ms)</small>");
	ASSERT_CONTAINS(s, "<b>allowance left</b><span>-6h04m04s");
	ASSERT_CONTAINS(s, "<b>credit</b><span>30 % of the fee</span>");
	ASSERT_CONTAINS(s, "<b>band</b><span>1: [95.0000, 99.9000) %</span>");
	ASSERT_CONTAINS(s, ">BREACHED</span>");
	free(s);
	vgl_sla_calc_free(c);
}

TEST(sla_html_blocks_at_exact_times)
{
	int64_t m0, m1;
	struct vgl_sla_calc *c = calc_month("vserver", "UTC", 2026, 11, 0, 0, 0, &m0, &m1);
	char *s;

	/* 11-03 00:00 .. 06:00: x = floor(10^6 x 2/30) = 66666, end
	 * floor(10^6 x 2.25/30) = 75000, width 8334 (thousandths) */
	add_note(c, VGL_CAUSE_HARDWARE, T("2026-11-03T00:00:00Z"), T("2026-11-03T06:00:00Z"), NULL);
	/* 11-16 00:00:00.001 .. 00:00:02.593: 15 d + 1 ms -> 500000 (the ms is
	 * 0.0004 milli), end + 2592 ms -> 500001: width 0.001 */
	add_note(c, VGL_CAUSE_POWER, T("2026-11-16T00:00:00.001Z"), T("2026-11-16T00:00:02.593Z"),
		 NULL);
	/* customer is not counted: pale */
	add_note(c, VGL_CAUSE_CUSTOMER, T("2026-11-20T12:00:00Z"), T("2026-11-21T00:00:00Z"), NULL);
	s = page(c, "web-1", m1);
	ASSERT_CONTAINS(s, "<rect x=\"66.666\" width=\"8.334\" y=\"0\" height=\"30\" "
			   "fill=\"#d62728\" stroke=\"#d62728\" class=\"iv\"/>");
	ASSERT_CONTAINS(s, "<rect x=\"500.000\" width=\"0.001\" y=\"0\" height=\"30\" "
			   "fill=\"#ff7f0e\"");
	/* 19.5/30 = 650000, 20/30 = 666666 */
	ASSERT_CONTAINS(s, "<rect x=\"650.000\" width=\"16.666\" y=\"0\" height=\"30\" "
			   "fill=\"#7f7f7f\" stroke=\"#7f7f7f\" fill-opacity=\".45\"");
	/* the table: times as stored, time in the period, cause, counted */
	ASSERT_CONTAINS(s, "<tr><td>2026-11-03T00:00:00.000Z</td><td>2026-11-03T06:00:00.000Z</td>"
			   "<td class=\"n\">6h00m00s</td>");
	ASSERT_CONTAINS(s, "<tr class=\"nc\"><td>2026-11-20T12:00:00.000Z</td>");
	ASSERT_CONTAINS(s, "</i>customer</td><td>no</td>");
	/* a month over: nothing shaded as still to come, no as-of line */
	ASSERT(!strstr(s, "fill=\"#f7f7f7\"/>"));
	ASSERT(!strstr(s, "stroke-dasharray=\"3 2\""));
	/* the month's 30 days: 29 guides and labels 1..30 at mid-day */
	ASSERT_CONTAINS(s, "<line x1=\"33.333\" x2=\"33.333\" y1=\"0\" y2=\"30\"/>");
	ASSERT_CONTAINS(s, "<text x=\"16.666\" y=\"52\">1</text>");
	ASSERT_CONTAINS(s, "<text x=\"983.333\" y=\"52\">30</text>");
	ASSERT(!strstr(s, ">31</text>"));
	assert_inert(s);
	free(s);
	vgl_sla_calc_free(c);
}

TEST(sla_html_open_interval_runs_to_as_of)
{
	int64_t m0, m1, now = T("2026-11-15T12:00:00Z");
	struct vgl_sla_calc *c = calc_month("vserver", "UTC", 2026, 11, now, 0, 0, &m0, &m1);
	char *s;

	/* open since 11-10 00:00 (9/30 = 300000) up to now, 14.5/30 = 483333:
	 * width 183333 */
	add_note(c, VGL_CAUSE_NETWORK, T("2026-11-10T00:00:00Z"), VGL_SLA_OPEN, "still down");
	/* after now: not happened yet, not drawn */
	add_note(c, VGL_CAUSE_HARDWARE, T("2026-11-20T00:00:00Z"), T("2026-11-20T01:00:00Z"), NULL);
	s = page(c, "web-1", now);
	ASSERT_CONTAINS(s, "<rect x=\"300.000\" width=\"183.333\" y=\"0\" height=\"30\" "
			   "fill=\"#1f77b4\"");
	ASSERT(!strstr(s, "fill=\"#d62728\" stroke"));
	ASSERT_CONTAINS(s, "<td>2026-11-10T00:00:00.000Z</td><td>open</td>"
			   "<td class=\"n\">5d12h00m</td>");
	/* the rest of the month shaded, and the as-of line */
	ASSERT_CONTAINS(s, "<rect x=\"483.333\" width=\"516.667\" y=\"0\" height=\"30\" "
			   "fill=\"#f7f7f7\"/>");
	ASSERT_CONTAINS(s, "<line x1=\"483.333\" x2=\"483.333\" y1=\"0\" y2=\"41\"");
	ASSERT_CONTAINS(s, ">BREACHED</span>");
	ASSERT_CONTAINS(s, "As of 2026-11-15T12:00:00.000Z &#8212; month in progress");
	free(s);
	vgl_sla_calc_free(c);
}

TEST(sla_html_clipped_to_month_and_period)
{
	int64_t m0, m1;
	/* in service from 11-10 (svc window): days 1-9 shaded as not in service */
	struct vgl_sla_calc *c = calc_month("vserver", "UTC", 2026, 11, 0,
					    T("2026-11-10T00:00:00Z"), 0, &m0, &m1);
	char *s;

	(void)m0;
	/* 10-31 18:00 .. 11-10 06:00: clipped at the period start (11-10,
	 * 300000) to 06:00 (9.25/30 = 308333) */
	add_note(c, VGL_CAUSE_FACILITY, T("2026-10-31T18:00:00Z"), T("2026-11-10T06:00:00Z"), NULL);
	/* 11-30 20:00 .. 12-01 02:00: 29 5/6 / 30 = 994444, to the end */
	add_note(c, VGL_CAUSE_UNKNOWN, T("2026-11-30T20:00:00Z"), T("2026-12-01T02:00:00Z"), NULL);
	s = page(c, "web-1", m1 + D);
	ASSERT_CONTAINS(s, "<rect x=\"0.000\" width=\"300.000\" y=\"0\" height=\"30\" "
			   "fill=\"#cfcfcf\"/>");
	ASSERT_CONTAINS(s, "<rect x=\"300.000\" width=\"8.333\" y=\"0\" height=\"30\" "
			   "fill=\"#8c564b\"");
	ASSERT_CONTAINS(s, "<rect x=\"994.444\" width=\"5.556\" y=\"0\" height=\"30\" "
			   "fill=\"#e377c2\"");
	/* the table keeps the stored times and gives the time in the period */
	ASSERT_CONTAINS(s, "<td>2026-10-31T18:00:00.000Z</td><td>2026-11-10T06:00:00.000Z</td>"
			   "<td class=\"n\">6h00m00s</td>");
	ASSERT_CONTAINS(s, "<td>2026-11-30T20:00:00.000Z</td><td>2026-12-01T02:00:00.000Z</td>"
			   "<td class=\"n\">4h00m00s</td>");
	ASSERT_CONTAINS(s, "partial: measured 2026-11-10T00:00:00.000Z .. 2026-12-01T00:00:00.000Z");
	free(s);
	vgl_sla_calc_free(c);
}

TEST(sla_html_maintenance_windows)
{
	int64_t m0, m1;
	struct vgl_sla_calc *c = calc_month("vserver", "UTC", 2026, 11, 0, 0, 0, &m0, &m1);
	struct vgl_sla_maint mt = { 3, VGL_MAINT_PLANNED, T("2026-11-10T01:00:00Z"),
				    T("2026-11-10T03:00:00Z"), T("2026-11-06T01:00:00Z"),
				    "fw \"v2\"" };
	char *s;

	ASSERT_EQ(vgl_sla_calc_add_maint(c, &mt), 0);
	add_note(c, VGL_CAUSE_MAINTENANCE, T("2026-11-10T02:00:00Z"), T("2026-11-10T02:20:00Z"),
		 NULL);
	s = page(c, "web-1", m1);
	ASSERT_CONTAINS(s, "<h3>Maintenance windows</h3>");
	ASSERT_CONTAINS(s, "<tr><td>planned</td><td>2026-11-10T01:00:00.000Z</td>"
			   "<td>2026-11-10T03:00:00.000Z</td><td class=\"n\">4d00h00m</td><td>yes</td>"
			   "<td class=\"n\">20m00s</td><td class=\"w\">fw &quot;v2&quot;</td></tr>");
	ASSERT_CONTAINS(s, "<td>yes &#8722;20m00s</td>");
	/* 9 d 1 h / 30 d = 301388, 9 d 3 h = 304166 */
	ASSERT_CONTAINS(s, "<rect x=\"301.388\" width=\"2.778\" y=\"33\" height=\"6\" "
			   "fill=\"#5b7fa6\"");
	ASSERT_CONTAINS(s, "<b>maintenance excluded</b><span>20m00s");
	ASSERT_CONTAINS(s, "<b>uptime</b><span>100.0000 %</span>");
	ASSERT_CONTAINS(s, ">met</span>");
	free(s);
	vgl_sla_calc_free(c);
}

/* n hosts of k intervals each (k: per host), counting pages and breaks. */
static int layout(const int *k, int n, char **text)
{
	struct vgl_html *h = vgl_html_new(NULL);
	struct vgl_sla_total t = { .customer = "acme", .hosts = n };
	const struct vgl_sla_total *tp = &t;
	int pages;

	ASSERT(h != NULL);
	vgl_html_begin(h, &head_nov);
	for (int i = 0; i < n; i++) {
		int64_t m0, m1;
		struct vgl_sla_calc *c = calc_month("vserver", "UTC", 2026, 11, 0, 0, 0, &m0, &m1);
		struct vgl_sla_result r;
		char name[16];

		for (int j = 0; j < k[i]; j++)
			add_iv(c, VGL_CAUSE_NETWORK, m0 + j * H, m0 + j * H + MIN);
		ASSERT_EQ(vgl_sla_calc_finish(c, &r), 0);
		snprintf(name, sizeof(name), "h%d", i);
		vgl_html_host(h, name, "acme", NULL, c, &r);
		vgl_sla_calc_free(c);
	}
	vgl_html_end(h, &tp, 1);
	ASSERT_EQ(vgl_html_hosts(h), n);
	pages = vgl_html_pages(h);
	*text = strdup(vgl_html_text(h, NULL));
	vgl_html_free(h);
	return pages;
}

static int count(const char *s, const char *needle)
{
	int n = 0;

	for (const char *p = s; (p = strstr(p, needle)); p++)
		n++;
	return n;
}

TEST(sla_html_layout_rule)
{
	/* small hosts: 125 mm each, two a page; the header shares page 1 */
	int five[] = { 1, 0, 3, 15, 2 }, big[] = { 1, 30, 1, 1, 1 }, huge[] = { 2, 120 };
	char *s;

	/* 22 + 125 + 125 | 125 + 125 | 125 + totals 24 */
	ASSERT_EQ(layout(five, 5, &s), 3);
	ASSERT_EQ(count(s, "<section class=\"host\" style=\"height:125.0mm\">"), 3);
	ASSERT_EQ(count(s, "<section class=\"host pb\" style=\"height:125.0mm\">"), 2);
	ASSERT_EQ(count(s, "<section class=\"totals\" style=\"height:24.0mm\">"), 1);
	ASSERT_EQ(count(s, "no Unavailable interval in the period"), 1);
	free(s);
	/* 16 lines: 62 + 64 = 126 mm; 30 lines 182 mm does not share with the
	 * next 125: | 22 + 125 + 125 | 182 | 125 + 125 | totals? 250 + 24 > 272 | */
	ASSERT_EQ(layout(big, 5, &s), 4);
	ASSERT_EQ(count(s, "height:182.0mm"), 1);
	ASSERT_EQ(count(s, " pb\""), 3);
	free(s);
	/* 120 intervals, 542 mm: after 22 + 125 it starts page 2 and is cut:
	 * 62 + 52 lines (270 mm), then 16 + 64 lines (272 mm), then 16 + 4
	 * lines (32 mm) with the totals below: 4 pages */
	ASSERT_EQ(layout(huge, 2, &s), 4);
	ASSERT_EQ(count(s, "height:270.0mm"), 1);
	ASSERT_EQ(count(s, "height:272.0mm"), 1);
	ASSERT_EQ(count(s, "height:32.0mm"), 1);
	ASSERT_EQ(count(s, "h1 <small>(continued)</small>"), 2);
	ASSERT_EQ(count(s, "<tr><td>2026-11-"), 122);
	free(s);
}

TEST(sla_html_long_note_lines_and_cut)
{
	int64_t m0, m1;
	struct vgl_sla_calc *c = calc_month("vserver", "UTC", 2026, 11, 0, 0, 0, &m0, &m1);
	struct vgl_html *h = vgl_html_new(NULL);
	struct vgl_sla_result r;
	char note[2001];
	const char *s;

	/* 44 columns: 2 lines; 2000: cut at 20 lines with the marker */
	memset(note, 'a', 2000);
	note[2000] = '\0';
	add_note(c, VGL_CAUSE_NETWORK, m0 + H, m0 + 2 * H, note);
	note[44] = '\0';
	add_note(c, VGL_CAUSE_NETWORK, m0 + 3 * H, m0 + 4 * H, note);
	ASSERT_EQ(vgl_sla_calc_finish(c, &r), 0);
	vgl_html_begin(h, &head_nov);
	vgl_html_host(h, "x", NULL, NULL, c, &r);
	s = vgl_html_text(h, NULL);
	/* 20 + 2 lines: 62 + 88 = 150 mm */
	ASSERT_CONTAINS(s, "style=\"height:150.0mm\"");
	ASSERT_CONTAINS(s, "&#8230; [1220 more bytes not shown]");
	ASSERT_CONTAINS(s, "customer -");
	vgl_html_free(h);
	vgl_sla_calc_free(c);
}

TEST(sla_html_file_equals_memory_and_full_disk)
{
	int64_t m0, m1;
	struct vgl_sla_calc *c = calc_month("vserver", "UTC", 2026, 11, 0, 0, 0, &m0, &m1);
	struct vgl_sla_result r;
	char path[512], *mem, *file;
	struct vgl_html *h;
	size_t n, got;
	FILE *f;

	for (int j = 0; j < 400; j++)           /* > 64 KiB: several chunks */
		add_note(c, VGL_CAUSE_NETWORK, m0 + j * H, m0 + j * H + MIN, "note");
	ASSERT_EQ(vgl_sla_calc_finish(c, &r), 0);
	h = vgl_html_new(NULL);
	vgl_html_begin(h, &head_nov);
	vgl_html_host(h, "x", NULL, NULL, c, &r);
	vgl_html_end(h, NULL, 0);
	mem = strdup(vgl_html_text(h, &n));
	ASSERT(n > 70000);
	vgl_html_free(h);
	snprintf(path, sizeof(path), "%s/out.html", vgl_test_tmpdir());
	f = fopen(path, "w+");
	ASSERT(f != NULL);
	h = vgl_html_new(f);
	vgl_html_begin(h, &head_nov);
	vgl_html_host(h, "x", NULL, NULL, c, &r);
	vgl_html_end(h, NULL, 0);
	ASSERT_EQ(vgl_html_flush(h), 0);
	vgl_html_free(h);
	file = malloc(n + 1);
	ASSERT(file != NULL);
	rewind(f);
	got = fread(file, 1, n + 1, f);
	ASSERT_EQ(got, n);
	ASSERT(memcmp(file, mem, n) == 0);
	fclose(f);
	free(file);
	free(mem);
	/* a full disk is reported, by the flush at the latest */
	f = fopen("/dev/full", "w");
	if (f) {
		h = vgl_html_new(f);
		vgl_html_begin(h, &head_nov);
		vgl_html_host(h, "x", NULL, NULL, c, &r);
		vgl_html_end(h, NULL, 0);
		ASSERT_EQ(vgl_html_flush(h), -1);
		ASSERT_EQ(vgl_html_failed(h), 1);
		ASSERT(vgl_html_text(h, NULL) == NULL);
		vgl_html_free(h);
		fclose(f);
	}
	vgl_sla_calc_free(c);
}
