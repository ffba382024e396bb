#!/usr/bin/env bash
# `vigil sla --html` end to end: a database built with the CLI (as
# sla_cli.sh does) for customer acme-corp's five hosts of four services,
# with outages of several causes, a note full of markup, a maintenance
# window and one open interval, beside a host of another customer; then
# the report as HTML (every host, nothing that runs or links out, the
# totals `vigil sla --json` gives), printed to PDF by headless chromium:
# the page count the layout rule predicts (docs/sla.md "HTML report"),
# A4, the text, and a PNG of the pages. Refusals and the atomic write too.
# Env: VIGIL (the built CLI), WORK (scratch dir), TOP (repo root).
set -u
. "$TOP/test/lib.sh"

conf=$WORK/vigil.json
db=$WORK/vigil.db
cat > "$conf" <<'EOF'
{
  "storage": { "path": "vigil.db" },
  "templates": {
    "srv": {
      "snmp": { "version": "2c", "community": "public", "port": 9, "interval_s": 10 },
      "metrics": { "temp": ".1.3.6.1.4.1.99999.1.0" },
      "availability": [ { "name": "unreachable", "unreachable": 2, "cause": "network" } ]
    }
  },
  "hosts": [
    { "name": "web-1", "address": "127.0.0.1", "template": "srv",
      "site": "hall-1", "service": "vserver", "customer": "acme-corp" },
    { "name": "web-2", "address": "127.0.0.2", "template": "srv",
      "site": "hall-1", "service": "vserver", "customer": "acme-corp" },
    { "name": "db-1", "address": "127.0.0.3", "template": "srv",
      "site": "hall-2", "service": "vdb", "customer": "acme-corp" },
    { "name": "bm-1", "address": "127.0.0.4", "template": "srv",
      "site": "hall-2", "service": "vbaremetal", "customer": "acme-corp" },
    { "name": "cs-1", "address": "127.0.0.5", "template": "srv",
      "site": "hall-3", "service": "vcs", "customer": "acme-corp" },
    { "name": "other-1", "address": "127.0.0.6", "template": "srv",
      "site": "hall-3", "service": "vserver", "customer": "globex" }
  ]
}
EOF

export USER=tester
unset SUDO_USER
NOW=2026-11-20T00:00:00Z
MONTH=2026-10
html=$WORK/rep/report.html
mkdir -p "$WORK/rep"

add() { V interval add "$@" > /dev/null; }

# ------------------------------------------------------------ the month
check "web-1 network" add --host web-1 --cause network \
	--start 2026-10-03T10:00:00Z --end 2026-10-03T11:00:00Z --note "ticket 1"
check "web-1 maintenance" add --host web-1 --cause maintenance \
	--start 2026-10-10T02:00:00Z --end 2026-10-10T03:00:00Z --note "firmware"
check "web-1 customer, a note of markup" add --host web-1 --cause customer \
	--start 2026-10-12T00:00:00Z --end 2026-10-12T02:00:00Z \
	--note "<script>alert(\"x\")</script> & 'q' <b>bold</b>"
check "web-1 planned window with notice" eval 'V maint add --host web-1 --kind planned \
	--start 2026-10-10T01:30:00Z --end 2026-10-10T04:00:00Z \
	--announced 2026-10-06T00:00:00Z --note "fw upgrade" > /dev/null'
check "web-2 hardware across the month start" add --host web-2 --cause hardware \
	--start 2026-09-30T22:00:00Z --end 2026-10-01T04:00:00Z --note "PSU"
check "web-2 power" add --host web-2 --cause power \
	--start 2026-10-20T08:00:00Z --end 2026-10-20T08:45:00Z --note "feed B"
# db-1: 30 short outages, one a day: more rows than half a page holds
ok_all=1
for d in $(seq 1 30); do
	dd=$(printf '%02d' "$d")
	cause=network
	[ $((d % 3)) = 0 ] && cause=facility
	[ $((d % 5)) = 0 ] && cause=force_majeure
	add --host db-1 --cause "$cause" --start "2026-10-${dd}T12:00:00Z" \
		--end "2026-10-${dd}T12:05:00Z" --note "flap $d" || ok_all=0
done
check "db-1: 30 intervals" [ "$ok_all" = 1 ]
check "bm-1 unknown" add --host bm-1 --cause unknown \
	--start 2026-10-15T00:00:00Z --end 2026-10-15T00:10:00Z --note "no attribution"
# An interval the daemon still has open, from the 30th on.
sql "INSERT INTO intervals (host_id, cause, start_ms, opened_by, note, created_ms)
     SELECT id, 'power', $(( $(date -d 2026-10-30T00:00:00Z +%s) * 1000 )), 'psu-lost',
            'PSU A lost', 0 FROM hosts WHERE name = 'bm-1'"
check "bm-1 has an open interval" [ "$(V intervals --host bm-1 --open --json |
	python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" = 1 ]
check "other-1 (globex) network" add --host other-1 --cause network \
	--start 2026-10-05T00:00:00Z --end 2026-10-05T01:00:00Z --note "not acme"

# ------------------------------------------------------------ arguments
check "sla --help shows --html" eval 'V sla --help | grep -q -- "--html FILE"'
check "--html with --json -> 2" run_ex 2 "--html writes a file" \
	V sla --month "$MONTH" --customer acme-corp --json --html "$html"
check "--html with --csv -> 2" run_ex 2 "--html writes a file" \
	V sla --month "$MONTH" --customer acme-corp --csv --html "$html"
check "--html with --input -> 2" run_ex 2 "--input takes only" \
	V sla --input x.json --html "$html"
check "--html without a file -> 2" run_ex 2 "option --html needs a value" V sla --month "$MONTH" --html
check "--html into a missing directory -> 1, naming the file" \
	run_ex 1 "$WORK/nodir/r.html: No such file or directory" \
	V sla --month "$MONTH" --customer acme-corp --now "$NOW" --html "$WORK/nodir/r.html"
mkdir -p "$WORK/isdir"
check "--html onto a directory -> 1, naming it" run_ex 1 "$WORK/isdir: Is a directory" \
	V sla --month "$MONTH" --customer acme-corp --now "$NOW" --html "$WORK/isdir"
check "no temporary file left behind" [ -z "$(ls -A "$WORK/isdir")" ]

# ------------------------------------------------------------ the report
echo old > "$html"
check "sla --html writes the report" eval 'V sla --month "$MONTH" --customer acme-corp \
	--now "$NOW" --html "$html" > "$WORK/stdout" 2> "$WORK/stderr"'
check "stdout says what it wrote" grep -qx "wrote $html: 5 host(s), 4 page(s) on A4" \
	"$WORK/stdout"
check "nothing on stderr" [ ! -s "$WORK/stderr" ]
check "only the report in its directory (renamed, not copied)" \
	[ "$(ls -A "$WORK/rep")" = report.html ]
check "mode as a plain create gives (umask $(umask))" \
	[ "$(stat -c %a "$html")" = "$(printf '%o' $(( 0666 & ~0$(umask) )))" ]
for h in web-1 web-2 db-1 bm-1 cs-1; do
	check "the page names $h" grep -q ">$h<" "$html"
done
check "no host of another customer" eval '! grep -q "other-1\|not acme\|globex" "$html"'
check "no script, no external URL" eval '! grep -qi "<script\|http://\|https://\|src=\|href=\|url(" "$html"'
check "the note is escaped" grep -qF \
	"&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;q&#39; &lt;b&gt;bold&lt;/b&gt;" "$html"
check "the open interval reads open" grep -q "<td>2026-10-30T00:00:00.000Z</td><td>open</td>" "$html"

# Figures and totals are the --json report's.
V sla --month "$MONTH" --customer acme-corp --now "$NOW" --json > "$WORK/j.json" 2> /dev/null
check "uptime, downtime and totals as --json computes them" python3 - "$WORK/j.json" "$html" <<'PY'
import json, re, sys
rows = json.load(open(sys.argv[1]))
page = open(sys.argv[2], encoding="utf-8").read()
secs = re.split(r'<section class="host', page)[1:]
def dur(ms):
    s, d = ms // 1000, ms // 86400000
    h, m = s // 3600 % 24, s // 60 % 60
    s %= 60
    if d: return "%dd%02dh%02dm" % (d, h, m)
    if h: return "%dh%02dm%02ds" % (h, m, s)
    if m: return "%dm%02ds" % (m, s)
    return "%d.%03ds" % (s, ms % 1000)
hosts = [r for r in rows if "host" in r]
assert len(hosts) == 5 and len(secs) == 5, (len(hosts), len(secs))
for r, sec in zip(hosts, secs):
    assert ">%s<" % r["host"] in sec, r["host"]
    e4 = int(r["uptime_pct"] * 10000 + 1e-9)   # floored to 10 decimals: truncates
    up = "%d.%04d %%" % (e4 // 10000, e4 % 10000)
    assert "<b>uptime</b><span>%s</span>" % up in sec, (r["host"], up)
    assert "<b>downtime counted</b><span>%s <small>(%d ms)" % (dur(r["downtime_ms"]), r["downtime_ms"]) in sec, r["host"]
    assert ("BREACHED" in sec) == r["breached"], r["host"]
    assert "<b>credit</b><span>%d " % r["credit"] in sec, r["host"]
t = [r for r in rows if "host" not in r]
assert len(t) == 1 and t[0]["customer"] == "acme-corp", t
t = t[0]
want = '<tr><td class="w">acme-corp</td>' + ''.join('<td class="n">%d</td>' % t[k] for k in
    ("hosts", "skipped", "breached", "credit_percent_hosts", "credit_percent_sum", "credit_days")) + \
    '<td class="n">%s</td></tr>' % dur(t["downtime_ms"])
assert want in page, want
PY

# The layout rule, computed here from the data: a page holds 272 mm, the
# header takes 22 on page 1, a host max(125, 62 + 4 x lines) (a line per
# interval row, or one "none" row; windows add 2 + one per window), the
# totals 20 + 4 per customer; a section that does not fit in what is left
# starts the next page.
pages=$(python3 - <<'PY'
lines = {"web-1": 3 + 2 + 1, "web-2": 2, "db-1": 30, "bm-1": 2, "cs-1": 1}
heights = [max(125, 62 + 4 * lines[h]) for h in ("web-1", "web-2", "db-1", "bm-1", "cs-1")]
heights.append(20 + 4 * 1)
pages, used, on = 1, 22, 0
for h in heights:
    if on and used + h > 272:
        pages, used, on = pages + 1, 0, 0
    used, on = used + h, on + 1
print(pages)
PY
)
check "the rule gives 4 pages (22+125+125 | 182 | 125+125, and 24 more does not fit)" [ "$pages" = 4 ]

# ------------------------------------------------------------ printed
if ! command -v chromium > /dev/null || ! command -v pdfinfo > /dev/null; then
	ok "print to PDF # SKIP chromium or poppler-utils not installed"
	exit 0
fi
pdf=$WORK/r.pdf
# Bounded, offline (file:// only, no background fetches), its own profile.
timeout -k 5 60 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
	--disable-background-networking --disable-component-update --disable-sync \
	--user-data-dir="$WORK/chr" --print-to-pdf="$pdf" --no-pdf-header-footer \
	"file://$html" > "$WORK/chromium.log" 2>&1
if [ -s "$pdf" ]; then
	ok "chromium printed a PDF"
else
	not_ok "chromium printed a PDF"
	tail -n 20 "$WORK/chromium.log" >&2
fi
check "PDF pages: $pages, as the rule predicts" \
	[ "$(pdfinfo "$pdf" | awk '/^Pages:/ { print $2 }')" = "$pages" ]
check "PDF on A4" eval 'pdfinfo "$pdf" | grep -q "^Page size: .* pts (A4)"'
pdftotext -layout "$pdf" "$WORK/r.txt"
for w in web-1 web-2 db-1 bm-1 cs-1 acme-corp 'alert("x")' 'flap 30'; do
	check "PDF text has $w" grep -qF -- "$w" "$WORK/r.txt"
done
# Each host on the page the rule puts it: web-1 web-2 | db-1 | bm-1 cs-1 | totals.
for spec in "1 web-1" "1 web-2" "2 db-1" "3 bm-1" "3 cs-1" "4 Customer totals"; do
	p=${spec%% *} w=${spec#* }
	check "PDF page $p has $w" eval 'pdftotext -f '"$p"' -l '"$p"' "$pdf" - | grep -qF -- "'"$w"'"'
done
check "PDF page 2 has db-1 alone (no section cut by the browser)" \
	eval '! pdftotext -f 2 -l 2 "$pdf" - | grep -q "web-2\|bm-1"'
# The rule holds only if no content outgrows the box booked for it: a copy
# of the page (the report itself runs nothing) with a script that measures
# each section's content against its fixed height, as chromium lays it out.
python3 - "$html" "$WORK/measure.html" <<'PY'
import sys
js = """var n = 0, over = [];
document.querySelectorAll('section').forEach(function (s, i) {
  var box = s.getBoundingClientRect(), bottom = box.top;
  n++;
  s.querySelectorAll('*').forEach(function (e) {
    var r = e.getBoundingClientRect();
    if (r.height > 0 && r.bottom > bottom) bottom = r.bottom;
  });
  if (bottom > box.bottom + 0.5) over.push(i + ':' + (bottom - box.bottom).toFixed(1) + 'px');
});
var p = document.createElement('pre');
p.id = 'measure';
p.textContent = 'sections ' + n + ' over [' + over.join(' ') + ']';
document.body.appendChild(p);"""
page = open(sys.argv[1], encoding="utf-8").read()
open(sys.argv[2], "w", encoding="utf-8").write(page.replace("</body>", "<script>" + js + "</script></body>"))
PY
timeout -k 5 60 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
	--disable-background-networking --disable-component-update --disable-sync \
	--user-data-dir="$WORK/chr" --dump-dom "file://$WORK/measure.html" 2> /dev/null |
	grep -o 'sections [0-9]* over \[[^]]*\]' > "$WORK/measure.txt"
check "every section's content fits its box: $(cat "$WORK/measure.txt")" \
	grep -qx 'sections 6 over \[\]' "$WORK/measure.txt"
pdftoppm -png -r 90 "$pdf" "$WORK/page"
check "pages rendered to PNG" [ -s "$WORK/page-1.png" ]
cp "$WORK/page-1.png" /tmp/sla_report.png 2> /dev/null || true

# ------------------------------------------------------------ atomic
cp "$html" "$WORK/before.html"
check "a failing report -> 1" run_ex 1 "unknown host 'nosuch'" \
	V sla --month "$MONTH" --host nosuch --now "$NOW" --html "$html"
check "... leaves the old file as it was" cmp -s "$html" "$WORK/before.html"
check "... and no temporary file" [ "$(ls -A "$WORK/rep")" = report.html ]
check "one host: one page" eval 'V sla --month "$MONTH" --host web-2 --now "$NOW" \
	--html "$html" | grep -qx "wrote $html: 1 host(s), 1 page(s) on A4"'
check "--all: all six hosts, both customers" eval 'V sla --month "$MONTH" --all --now "$NOW" \
	--html "$WORK/all.html" > /dev/null && grep -q ">other-1<" "$WORK/all.html" &&
	grep -q "<tr><td class=.w.>globex</td>" "$WORK/all.html" && grep -q "SLA report: all customers" "$WORK/all.html"'
