/* vigil NOC dashboard: one page over vigild's HTTP API (docs/api.md).
 *
 * Views (hash routes, so a wall screen can be pointed at one):
 *   #/alarms       active alarms, worst first, then oldest first (default)
 *   #/hosts        one tile per host, grouped by site, coloured by state
 *   #/host/NAME    a host's sensors, sources and its SLA month
 *
 * Data: GET /api/v1/... once, then Server-Sent Events (/api/v1/events)
 * keep it current: "alarm" upserts or removes a row, "host" recolours a
 * tile and refreshes an open host page. The stream reconnects with
 * backoff; only when it keeps failing does the page poll every 10 s.
 * EventSource cannot send a header, so with a token set the stream is
 * asked for with ?access_token= (the one URL vigild takes a token in,
 * docs/api.md). On every (re)connection the lists are read again, so
 * nothing raised while disconnected is missed.
 *
 * Writes (acknowledge, comment) need an operator token, kept in
 * localStorage from the settings bar and sent as "Authorization: Bearer".
 * Reads go without it unless the server answers 401.
 *
 * URLs are relative, so the page also works behind a proxy's sub-path.
 */
'use strict';

(function () {

const SEVERITIES = ['critical', 'major', 'minor', 'warning', 'info'];
const CAUSES = ['network', 'hardware', 'power', 'facility', 'maintenance',
	'customer', 'force_majeure', 'unknown'];
const TOKEN_KEY = 'vigil.token';
const POLL_MS = 10000;          /* the fallback when the stream keeps failing */
const POLL_AFTER_FAILURES = 4;  /* consecutive stream failures before polling */
const HOST_REFRESH_MS = 15000;  /* sensor values have no events: re-read */

const S = {
	alarms: new Map(),          /* id -> alarm object, active only */
	rows: new Map(),            /* id -> {tr, cells, form} */
	hosts: [],                  /* in the API's (configuration) order */
	hostsLoaded: false,
	route: { view: 'alarms', host: null },
	detail: null,               /* the open host page's object */
	clockOffset: 0,             /* server now - our now, from "hello" */
	readAuth: false,            /* reads need the token (a 401 was seen) */
	alarmsLoading: 0,           /* > 0: buffer alarm events until loaded */
	pendingAlarmEvents: [],
};

const $ = (id) => document.getElementById(id);

/* ---- DOM helpers ------------------------------------------------------ */

function el(tag, attrs, ...children) {
	const e = document.createElement(tag);
	setAttrs(e, attrs);
	append(e, children);
	return e;
}

const SVGNS = 'http://www.w3.org/2000/svg';
function svgEl(tag, attrs, ...children) {
	const e = document.createElementNS(SVGNS, tag);
	setAttrs(e, attrs);
	append(e, children);
	return e;
}

function setAttrs(e, attrs) {
	if (!attrs)
		return;
	for (const [k, v] of Object.entries(attrs)) {
		if (v === null || v === undefined || v === false)
			continue;
		if (k === 'text')
			e.textContent = v;
		else if (k.startsWith('on'))
			e.addEventListener(k.slice(2), v);
		else
			e.setAttribute(k, v === true ? '' : String(v));
	}
}

function append(e, children) {
	for (const c of children.flat()) {
		if (c === null || c === undefined || c === false)
			continue;
		e.append(c instanceof Node ? c : document.createTextNode(String(c)));
	}
}

/* ---- time ------------------------------------------------------------- */

function now() { return Date.now() + S.clockOffset; }

function ts(s) {
	if (s === null || s === undefined)
		return null;
	const t = Date.parse(s);
	return Number.isFinite(t) ? t : null;
}

function pad2(n) { return String(n).padStart(2, '0'); }

/* "42s", "5m 12s", "2h 03m", "3d 04h": short enough for a table cell. */
function fmtAge(ms) {
	if (ms < 0)
		ms = 0;
	const s = Math.floor(ms / 1000);
	if (s < 60)
		return s + 's';
	const m = Math.floor(s / 60);
	if (m < 60)
		return m + 'm ' + pad2(s % 60) + 's';
	const h = Math.floor(m / 60);
	if (h < 24)
		return h + 'h ' + pad2(m % 60) + 'm';
	return Math.floor(h / 24) + 'd ' + pad2(h % 24) + 'h';
}

/* A duration that may be negative (an allowance overrun). */
function fmtDur(ms) {
	if (ms === null || ms === undefined || !Number.isFinite(ms))
		return '—';
	return (ms < 0 ? '−' : '') + fmtAge(Math.abs(ms));
}

/* The API's ISO times shown in UTC, to the second: what vigil prints. */
function fmtTime(s) {
	const t = ts(s);
	if (t === null)
		return '—';
	return new Date(t).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
}

/* An element whose text is the age of ISO time `iso`, kept current by the
 * one-second ticker. */
function ageEl(iso, suffix) {
	const t = ts(iso);
	if (t === null)
		return el('span', { class: 'muted-text', text: '—' });
	const e = el('time', { datetime: iso, title: fmtTime(iso), 'data-ts': t,
		'data-suffix': suffix || '' });
	e.textContent = fmtAge(now() - t) + (suffix || '');
	return e;
}

function tick() {
	const n = now();
	for (const e of document.querySelectorAll('time[data-ts]'))
		e.textContent = fmtAge(n - Number(e.dataset.ts)) + e.dataset.suffix;
	$('clock').textContent = new Date(n).toISOString().slice(11, 19) + ' UTC';
}

/* ---- notices ---------------------------------------------------------- */

let noticeTimer = null;
function notice(text, good) {
	const n = $('notice');
	n.textContent = text;
	n.classList.toggle('good', !!good);
	n.hidden = false;
	clearTimeout(noticeTimer);
	noticeTimer = setTimeout(() => { n.hidden = true; }, good ? 4000 : 10000);
}

/* ---- the API ---------------------------------------------------------- */

function token() {
	try {
		return localStorage.getItem(TOKEN_KEY) || '';
	} catch (e) {
		return '';
	}
}

class ApiError extends Error {
	constructor(status, message) {
		super(message);
		this.status = status;
	}
}

async function request(method, path, body, auth) {
	const headers = { Accept: 'application/json' };
	if (auth)
		headers.Authorization = 'Bearer ' + token();
	const init = { method, headers, cache: 'no-store' };
	if (body !== undefined) {
		headers['Content-Type'] = 'application/json';
		init.body = JSON.stringify(body);
	}
	let r;
	try {
		r = await fetch(path, init);
	} catch (e) {
		throw new ApiError(0, 'vigild does not answer (' + e.message + ')');
	}
	let data = null;
	const text = await r.text();
	if (text) {
		try {
			data = JSON.parse(text);
		} catch (e) {
			throw new ApiError(r.status, 'not JSON from ' + path);
		}
	}
	if (!r.ok)
		throw new ApiError(r.status, (data && data.error) || ('HTTP ' + r.status));
	return data;
}

/* A read: without the token unless the server has asked for one. */
async function get(path) {
	try {
		return await request('GET', path, undefined, S.readAuth && !!token());
	} catch (e) {
		if (e.status === 401 && !S.readAuth && token()) {
			S.readAuth = true;
			return request('GET', path, undefined, true);
		}
		if (e.status === 401)
			notice('vigild needs a token to read: enter it under Settings.');
		throw e;
	}
}

/* A write: operators only. */
function post(path, body) {
	if (!token())
		return Promise.reject(new ApiError(401, 'no token'));
	return request('POST', path, body, true);
}

function needToken(what) {
	openSettings();
	notice(what + ' needs an operator token: enter it under Settings.');
	$('token').focus();
}

function writeFailed(what, e) {
	if (e.status === 401 || e.status === 403)
		needToken(what + (e.status === 403 ? ' (this token may only read)' : ''));
	else
		notice(what + ' failed: ' + e.message);
}

/* ---- alarms ----------------------------------------------------------- */

function sevRank(s) {
	const i = SEVERITIES.indexOf(s);
	return i < 0 ? SEVERITIES.length : i;
}

function alarmOrder(a, b) {
	return sevRank(a.severity) - sevRank(b.severity) ||
		(ts(a.raised) || 0) - (ts(b.raised) || 0) || a.id - b.id;
}

/* What the operator sees: the stored state (raised / acknowledged) and
 * whether someone else stands for it (suppressed) or nobody is paged
 * (muted). */
function alarmStates(a) {
	const st = [a.state === 'acknowledged' || a.acked ? 'acknowledged' : 'active'];
	if (a.suppressed_by !== null && a.suppressed_by !== undefined)
		st.push('suppressed');
	if (a.muted)
		st.push('muted');
	return st;
}

function sevClass(s) {
	return 'sev-' + (SEVERITIES.includes(s) ? s : 'info');
}

async function loadAlarms() {
	S.alarmsLoading++;
	try {
		const list = await get('api/v1/alarms?active=1');
		S.alarms.clear();
		for (const a of list || [])
			if (a.state !== 'cleared')
				S.alarms.set(a.id, a);
		/* events that came while the list was on its way are newer */
		for (const a of S.pendingAlarmEvents)
			applyAlarm(a);
	} finally {
		S.alarmsLoading--;
		if (S.alarmsLoading === 0)
			S.pendingAlarmEvents = [];
	}
	renderAlarms();
}

function applyAlarm(a) {
	if (!a || typeof a.id !== 'number')
		return;
	if (a.state === 'cleared' || a.cleared)
		S.alarms.delete(a.id);
	else
		S.alarms.set(a.id, a);
}

function onAlarmEvent(a) {
	if (S.alarmsLoading > 0)
		S.pendingAlarmEvents.push(a);
	const fresh = !S.alarms.has(a.id);
	applyAlarm(a);
	renderAlarms(fresh ? a.id : null);
}

function buildRow(a) {
	const tr = el('tr', { 'data-alarm-id': a.id, class: 'alarm' });
	const cells = {
		sev: el('td'), host: el('td', { class: 'host' }), summary: el('td', { class: 'summary-cell' }),
		age: el('td', { class: 'age' }), state: el('td', { class: 'state' }),
		by: el('td', { class: 'acked-by' }), actions: el('td', { class: 'actions' }),
	};
	cells.ack = el('button', { type: 'button', class: 'primary ack',
		onclick: () => acknowledge(a.id) }, 'Acknowledge');
	cells.comment = el('button', { type: 'button', class: 'comment',
		'aria-expanded': 'false', onclick: () => toggleComment(a.id) }, 'Comment');
	cells.actions.append(cells.ack, cells.comment);
	tr.append(cells.sev, cells.host, cells.summary, cells.age, cells.state, cells.by, cells.actions);
	return { tr, cells, form: null, raised: null };
}

function fillRow(row, a) {
	const c = row.cells, states = alarmStates(a);
	row.tr.className = 'alarm ' + sevClass(a.severity) +
		(states.includes('acknowledged') ? ' is-acked' : '') +
		(states.includes('suppressed') ? ' is-suppressed' : '') +
		(states.includes('muted') ? ' is-muted' : '');
	c.sev.replaceChildren(el('span', { class: 'badge ' + sevClass(a.severity), text: a.severity }));
	c.host.replaceChildren(el('a', { href: '#/host/' + encodeURIComponent(a.host), text: a.host }));
	c.summary.replaceChildren(a.summary || '',
		el('span', { class: 'rule', text: '#' + a.id + ' · ' + a.kind + (a.rule ? ' · ' + a.rule : '') }));
	if (row.raised !== a.raised) {
		c.age.replaceChildren(ageEl(a.raised));
		row.raised = a.raised;
	}
	c.state.replaceChildren(...states.map((s) => el('span', {
		class: 'chip st-' + s, text: s,
		title: s === 'suppressed' ? 'suppressed by alarm ' + a.suppressed_by :
			s === 'muted' ? 'muted by ' + a.muted : null,
	})));
	c.by.textContent = a.acked_by || '—';
	const acked = states.includes('acknowledged');
	c.ack.disabled = acked;
	c.ack.setAttribute('aria-label', (acked ? 'Acknowledged: alarm ' : 'Acknowledge alarm ') +
		a.id + ' on ' + a.host);
	c.comment.setAttribute('aria-label', 'Comment on alarm ' + a.id + ' on ' + a.host);
}

/* Rows are kept by id and updated in place, so an open comment form and
 * the focus survive the updates that stream in while someone types. */
function renderAlarms(freshId) {
	const body = $('alarm-rows');
	const list = [...S.alarms.values()].sort(alarmOrder);
	for (const [id, row] of S.rows) {
		if (!S.alarms.has(id)) {
			row.tr.remove();
			if (row.form)
				row.form.remove();
			S.rows.delete(id);
		}
	}
	let prev = null;
	for (const a of list) {
		let row = S.rows.get(a.id);
		if (!row) {
			row = buildRow(a);
			S.rows.set(a.id, row);
		}
		fillRow(row, a);
		/* move only what is out of place */
		const want = prev ? (prev.form || prev.tr).nextSibling : body.firstChild;
		if (want !== row.tr)
			body.insertBefore(row.tr, want);
		if (row.form && row.tr.nextSibling !== row.form)
			body.insertBefore(row.form, row.tr.nextSibling);
		if (a.id === freshId) {
			row.tr.classList.add('fresh');
			setTimeout(() => row.tr.classList.remove('fresh'), 2100);
		}
		prev = row;
	}
	$('alarms-empty').hidden = list.length > 0;
	$('alarms').hidden = list.length === 0;
	const count = $('alarm-count');
	count.textContent = String(list.length);
	count.classList.toggle('hot', list.some((a) => a.severity === 'critical' &&
		!alarmStates(a).includes('acknowledged')));
	renderSummary();
	if (S.route.view === 'host' && S.detail)
		renderHostAlarms();
}

async function acknowledge(id) {
	const a = S.alarms.get(id), row = S.rows.get(id);
	if (!a || !row)
		return;
	if (!token()) {
		needToken('Acknowledging');
		return;
	}
	row.cells.ack.disabled = true;
	try {
		let r = await post('api/v1/alarms/' + id + '/ack', {});
		if (Array.isArray(r))
			r = r[0];
		/* the edit's answer: {"id", "by", "ts", "comment"?} */
		const by = r && (r.acked_by || r.by);
		const cur = S.alarms.get(id);
		if (cur) {
			S.alarms.set(id, Object.assign({}, cur, {
				state: 'acknowledged',
				acked_by: by || cur.acked_by,
				acked: (r && (r.acked || r.ts)) || new Date(now()).toISOString(),
			}));
		}
		renderAlarms();
		notice('Alarm ' + id + ' acknowledged' + (by ? ' by ' + by : ''), true);
	} catch (e) {
		row.cells.ack.disabled = false;
		writeFailed('Acknowledging alarm ' + id, e);
		if (e.status === 409)
			loadAlarms().catch(() => {});
	}
}

function toggleComment(id) {
	const row = S.rows.get(id);
	if (!row)
		return;
	if (row.form) {
		row.form.remove();
		row.form = null;
		row.cells.comment.setAttribute('aria-expanded', 'false');
		return;
	}
	const input = el('input', { type: 'text', name: 'text', maxlength: 2000, required: true,
		'aria-label': 'Comment on alarm ' + id, placeholder: 'What is being done, ticket, ETA' });
	const send = el('button', { type: 'submit', class: 'primary' }, 'Add comment');
	const form = el('form', { class: 'comment-form', 'aria-label': 'Comment on alarm ' + id },
		input, send, el('button', { type: 'button', onclick: () => toggleComment(id) }, 'Cancel'));
	form.addEventListener('submit', async (ev) => {
		ev.preventDefault();
		const text = input.value.trim();
		if (!text)
			return;
		if (!token()) {
			needToken('Commenting');
			return;
		}
		send.disabled = true;
		try {
			await post('api/v1/alarms/' + id + '/comment', { text });
			notice('Comment added to alarm ' + id, true);
			if (S.rows.get(id) && S.rows.get(id).form)
				toggleComment(id);
		} catch (e) {
			send.disabled = false;
			writeFailed('Commenting on alarm ' + id, e);
		}
	});
	row.form = el('tr', { class: 'comment-row' }, el('td', { colspan: 7 }, form));
	row.tr.after(row.form);
	row.cells.comment.setAttribute('aria-expanded', 'true');
	input.focus();
}

/* ---- hosts ------------------------------------------------------------ */

/* The tile's colour: degraded is a host up on part of its feeds. */
function hostState(h) {
	if (h.state === 'up' && h.degraded)
		return 'degraded';
	return ['up', 'down', 'unknown'].includes(h.state) ? h.state : 'unknown';
}

async function loadHosts() {
	const list = await get('api/v1/hosts');
	S.hosts = Array.isArray(list) ? list : [];
	S.hostsLoaded = true;
	renderHosts();
}

function tileFor(h) {
	const st = hostState(h);
	const label = [h.name, st + (h.stale ? ' (stale)' : '')];
	const extra = [];
	if (h.cause) {
		label.push('cause ' + h.cause);
		extra.push(el('span', { class: 'cause' }, h.cause, h.since ? [' · ', ageEl(h.since)] : null));
	} else if (st === 'degraded' && h.power) {
		label.push(h.power);
		extra.push(el('span', { class: 'cause', text: h.power }));
	}
	return el('a', {
		class: 'tile st-' + st + (h.stale ? ' stale' : ''), href: '#/host/' + encodeURIComponent(h.name),
		'data-host': h.name, 'data-state': st, 'aria-label': label.join(', '),
		title: [h.address, h.policy, h.customer].filter(Boolean).join(' · ') || null,
	}, el('span', { class: 'name', text: h.name }),
	el('span', { class: 'state', text: st + (h.stale ? ' · stale' : '') }), extra);
}

function renderHosts(changed) {
	const sites = new Map();
	for (const h of S.hosts) {
		const k = h.site || '';
		if (!sites.has(k))
			sites.set(k, []);
		sites.get(k).push(h);
	}
	const names = [...sites.keys()].sort((a, b) => (a === '') - (b === '') || a.localeCompare(b));
	const out = names.map((k) => {
		const hosts = sites.get(k);
		const down = hosts.filter((h) => hostState(h) === 'down').length;
		return el('section', { class: 'site', 'aria-label': 'site ' + (k || 'none') },
			el('h2', null, k || '(no site)', ' ',
				el('span', { class: 'muted-text', text: '· ' + hosts.length + ' host' +
					(hosts.length === 1 ? '' : 's') + (down ? ', ' + down + ' down' : '') })),
			el('div', { class: 'tiles' }, hosts.map((h) => {
				const t = tileFor(h);
				if (changed && changed === h.name)
					t.classList.add('changed');
				return t;
			})));
	});
	if (!S.hosts.length && S.hostsLoaded)
		out.push(el('p', { class: 'muted-text', text: 'No hosts configured.' }));
	/* keep the focused tile focused across a redraw */
	const focused = document.activeElement && document.activeElement.dataset ?
		document.activeElement.dataset.host : null;
	$('sites').replaceChildren(...out);
	if (focused) {
		const t = $('sites').querySelector('[data-host="' + CSS.escape(focused) + '"]');
		if (t)
			t.focus();
	}
	renderSummary();
}

let hostsReload = null;
function onHostEvent(ev) {
	if (!ev || typeof ev.host !== 'string')
		return;
	const h = S.hosts.find((x) => x.name === ev.host);
	if (h) {
		h.state = ev.state;
		h.cause = ev.cause === undefined ? h.cause : ev.cause;
		h.since = ev.since === undefined ? h.since : ev.since;
		if (ev.state !== 'up')
			delete h.degraded;
		renderHosts(ev.host);
	}
	/* the event carries the transition only: read the full objects soon
	 * (degraded, stale, a host a reload added) */
	clearTimeout(hostsReload);
	hostsReload = setTimeout(() => loadHosts().catch(() => {}), 1000);
	if (S.route.view === 'host' && S.route.host === ev.host)
		loadHost(ev.host).catch(() => {});
}

function renderSummary() {
	const pills = [];
	const bySev = new Map();
	for (const a of S.alarms.values())
		bySev.set(a.severity, (bySev.get(a.severity) || 0) + 1);
	for (const s of SEVERITIES)
		if (bySev.get(s))
			pills.push(el('span', { class: 'badge ' + sevClass(s), text: bySev.get(s) + ' ' + s }));
	if (S.hostsLoaded) {
		const n = { up: 0, down: 0, degraded: 0, unknown: 0 };
		for (const h of S.hosts)
			n[hostState(h)]++;
		for (const k of ['down', 'degraded', 'unknown', 'up'])
			if (n[k])
				pills.push(el('span', { class: 'pill st-' + k, text: n[k] + ' ' + k }));
	}
	$('summary').replaceChildren(...pills);
}

/* ---- the host page ---------------------------------------------------- */

async function loadHost(name) {
	let d;
	try {
		d = await get('api/v1/hosts/' + encodeURIComponent(name));
	} catch (e) {
		if (S.route.view === 'host' && S.route.host === name) {
			S.detail = null;
			$('host-detail').replaceChildren(el('h1', { id: 'h-host', text: name }),
				el('p', { class: 'muted-text', text: e.status === 404 ? 'No such host.' : e.message }));
		}
		throw e;
	}
	if (S.route.view !== 'host' || S.route.host !== name)
		return;
	S.detail = d;
	renderHost();
}

function fmtValue(v) {
	if (v === null || v === undefined)
		return '—';
	if (typeof v === 'number')
		return Number.isInteger(v) ? String(v) : String(Math.round(v * 1000) / 1000);
	return String(v);
}

function qualityEl(q) {
	return el('span', { class: 'q ' + (q === 'ok' ? 'q-ok' : 'q-bad'), text: q || '—' });
}

function causeClass(c) {
	return 'cause-' + (CAUSES.includes(c) ? c : 'other');
}

function card(k, v, cls, sub) {
	return el('div', { class: 'card' + (cls ? ' ' + cls : '') },
		el('span', { class: 'k', text: k }), el('span', { class: 'v', text: v }),
		sub ? el('span', { class: 'muted-text', text: sub }) : null);
}

function monthCards(m) {
	if (!m)
		return el('p', { class: 'muted-text', text: 'No SLA policy: no month figures.' });
	if (m.begun === false)
		return el('p', { class: 'muted-text', text: 'The SLA month ' + m.month + ' has not begun for this host.' });
	const pct = typeof m.uptime_pct === 'number' ?
		(Math.floor(m.uptime_pct * 1e4) / 1e4).toFixed(4) + ' %' : '—';
	const left = m.allowance_left_ms;
	let credit = '—';
	if (typeof m.credit === 'number')
		credit = m.credit === 0 ? 'none' : m.credit + (m.credit_unit === 'days' ? ' d' : ' %');
	return el('div', { class: 'cards' },
		card('Uptime' + (m.in_progress ? ' so far' : ''), pct, m.breached ? 'bad' : 'good',
			(m.breached ? 'BREACHED · ' : '') + (typeof m.commitment_pct === 'number' ?
				'commitment ' + m.commitment_pct + ' %' : '')),
		card('Allowance left', left < 0 ? 'over ' + fmtAge(-left) : fmtDur(left), left < 0 ? 'bad' : null,
			'of ' + fmtDur(m.allowance_ms)),
		card('Downtime', fmtDur(m.downtime_ms), null, 'counted ' + fmtDur(m.counted_ms)),
		card('Credit', credit, m.credit > 0 ? 'bad' : null,
			m.credit_unit === 'days' ? 'days of service' : 'of the month\'s fee'));
}

/* The month's Unavailable intervals as one bar: the month from left to
 * right, a block per interval in its cause's colour, hover for detail. */
function timeline(d) {
	const m = d.month;
	let t0 = m && ts(m.month_start), t1 = m && ts(m.month_end), label = m && m.month;
	if (t0 === null || t1 === null || !(t1 > t0)) {
		const n = new Date(now());
		t0 = Date.UTC(n.getUTCFullYear(), n.getUTCMonth(), 1);
		t1 = Date.UTC(n.getUTCFullYear(), n.getUTCMonth() + 1, 1);
		label = n.toISOString().slice(0, 7);
	}
	const W = 1000, H = 74, Y = 6, BH = 40, span = t1 - t0, x = (t) => (t - t0) / span * W;
	const tnow = Math.min(Math.max(now(), t0), t1);
	const ivs = (d.intervals || []).filter((iv) => iv && ts(iv.start) !== null);
	const counts = new Map();
	const blocks = [];
	for (const iv of ivs) {
		const s = Math.max(ts(iv.start), t0), e = Math.min(ts(iv.end) ?? now(), t1);
		if (!(e > s))
			continue;
		counts.set(iv.cause, (counts.get(iv.cause) || 0) + 1);
		const w = Math.max(x(e) - x(s), 3);
		const tip = [iv.cause + (iv.end ? '' : ' (open)'),
			'start ' + fmtTime(iv.start), 'end ' + (iv.end ? fmtTime(iv.end) : 'open'),
			'duration ' + fmtAge((ts(iv.end) ?? now()) - ts(iv.start))];
		if (iv.note)
			tip.push('note: ' + iv.note);
		blocks.push(svgEl('rect', { class: 'iv ' + causeClass(iv.cause) + (iv.end ? '' : ' open'),
			x: Math.min(x(s), W - w).toFixed(1), y: Y, width: w.toFixed(1), height: BH,
			'data-interval-id': iv.id },
		svgEl('title', { text: tip.join('\n') })));
	}
	const ticks = [];
	const days = Math.round(span / 86400000);
	for (let i = 0; i <= days; i++) {
		const tx = x(t0 + i * 86400000);
		ticks.push(svgEl('line', { class: 'tick', x1: tx.toFixed(1), x2: tx.toFixed(1),
			y1: Y + BH, y2: Y + BH + (i % 5 === 0 ? 9 : 4) }));
		if (i < days && (i === 0 || (i + 1) % 5 === 0))
			ticks.push(svgEl('text', { class: 'tick-label', x: (tx + 2).toFixed(1), y: H - 4,
				text: String(i + 1) }));
	}
	const what = [...counts].map(([c, n]) => n + ' ' + c).join(', ') || 'none';
	const svg = svgEl('svg', { class: 'timeline', id: 'timeline', viewBox: '0 0 ' + W + ' ' + H,
		role: 'img', 'aria-label': 'Unavailable intervals in ' + label + ': ' + what },
	svgEl('rect', { class: 'month-bg', x: 0, y: Y, width: x(tnow).toFixed(1), height: BH }),
	svgEl('rect', { class: 'future', x: x(tnow).toFixed(1), y: Y,
		width: (W - x(tnow)).toFixed(1), height: BH }),
	ticks, blocks,
	tnow < t1 ? svgEl('line', { class: 'now', x1: x(tnow).toFixed(1), x2: x(tnow).toFixed(1),
		y1: Y - 4, y2: Y + BH + 4 }) : null);
	const legend = el('div', { class: 'legend', 'aria-hidden': 'true' },
		[...counts.keys()].map((c) => el('span', null,
			el('span', { class: 'sw ' + causeClass(c) }), c + ' ×' + counts.get(c))),
		el('span', { class: 'muted-text', text: ivs.length ? '' : 'no unavailable interval this month' }));
	return [el('h2', { text: 'Month ' + label }), svg, legend];
}

function table(cls, heads, rows, empty) {
	if (!rows.length)
		return el('p', { class: 'muted-text', text: empty });
	return el('table', { class: 'data ' + cls },
		el('thead', null, el('tr', null, heads.map((h) => el('th', {
			scope: 'col', class: h.num ? 'num' : null, text: h.t || h })))),
		el('tbody', null, rows));
}

function renderHost() {
	const d = S.detail, st = hostState(d);
	const facts = [['address', d.address], ['site', d.site], ['policy', d.policy],
		['customer', d.customer], ['last poll', d.last_poll ? fmtTime(d.last_poll) : null]]
		.filter(([, v]) => v).map(([k, v]) => el('span', null, k + ' ', el('b', { text: v })));
	const open = d.open_interval;
	const head = el('div', { class: 'host-head' },
		el('h1', { id: 'h-host', text: d.name }),
		el('span', { class: 'hstate st-' + st, 'data-state': st, text: st + (d.stale ? ' · stale' : '') }),
		open || d.cause ? el('span', null, 'cause ', el('b', { text: (open && open.cause) || d.cause }),
			(open && open.start) || d.since ? [' for ', ageEl((open && open.start) || d.since)] : null) : null,
		st === 'degraded' && d.power ? el('span', { text: d.power }) : null);

	const values = (d.values || []).map((v) => el('tr', null,
		el('td', { text: v.metric }), el('td', { class: 'num', text: fmtValue(v.value) }),
		el('td', null, qualityEl(v.quality)), el('td', { text: v.source || '—' }),
		el('td', { class: 'num' }, ageEl(v.ts))));
	const sources = (d.sources || []).map((s) => el('tr', null,
		el('td', { text: s.name }), el('td', { text: s.type || '—' }),
		el('td', null, qualityEl(s.quality)), el('td', { class: 'num' }, ageEl(s.last_poll))));
	const ivs = (d.intervals || []).slice().reverse().map((iv) => el('tr', null,
		el('td', null, el('span', { class: 'sw ' + causeClass(iv.cause) }), iv.cause),
		el('td', { text: fmtTime(iv.start) }), el('td', { text: iv.end ? fmtTime(iv.end) : 'open' }),
		el('td', { class: 'num', text: fmtAge((ts(iv.end) ?? now()) - ts(iv.start)) + (iv.end ? '' : '+') }),
		el('td', { text: iv.rule || '—' }), el('td', { text: iv.note || '' })));

	$('host-detail').replaceChildren(head, el('div', { class: 'facts' }, facts),
		monthCards(d.month), ...timeline(d),
		el('div', { id: 'host-alarms' }),
		el('div', { class: 'grid2' },
			el('div', null, el('h2', { text: 'Sensors' }),
				table('values', ['Metric', { t: 'Value', num: true }, 'Quality', 'Source', { t: 'Age', num: true }],
					values, 'No values yet.')),
			el('div', null, el('h2', { text: 'Sources' }),
				table('sources', ['Source', 'Type', 'Quality', { t: 'Last poll', num: true }],
					sources, 'No sources.'))),
		el('h2', { text: 'Unavailable intervals this month' }),
		table('intervals', ['Cause', 'Start', 'End', { t: 'Duration', num: true }, 'Opened by', 'Note'],
			ivs, 'None.'));
	renderHostAlarms();
}

function renderHostAlarms() {
	const box = $('host-alarms');
	if (!box || !S.detail)
		return;
	const mine = [...S.alarms.values()].filter((a) => a.host === S.detail.name).sort(alarmOrder);
	box.replaceChildren(...(mine.length ? [el('h2', { text: 'Active alarms' }),
		el('ul', { class: 'host-alarm-list' }, mine.map((a) => el('li', null,
			el('span', { class: 'badge ' + sevClass(a.severity), text: a.severity }), ' ',
			a.summary || a.rule, ' · ', ageEl(a.raised), ' · ', alarmStates(a).join(', '))))] : []));
}

/* ---- routing ---------------------------------------------------------- */

let hostTimer = null;
function route() {
	const h = location.hash || '#/alarms';
	const m = /^#\/host\/(.+)$/.exec(h);
	let view = 'alarms', host = null;
	if (m) {
		view = 'host';
		try {
			host = decodeURIComponent(m[1]);
		} catch (e) {
			host = m[1];
		}
	} else if (h === '#/hosts') {
		view = 'hosts';
	}
	S.route = { view, host };
	$('view-alarms').hidden = view !== 'alarms';
	$('view-hosts').hidden = view !== 'hosts';
	$('view-host').hidden = view !== 'host';
	$('nav-alarms').toggleAttribute('aria-current', false);
	$('nav-hosts').toggleAttribute('aria-current', false);
	(view === 'alarms' ? $('nav-alarms') : $('nav-hosts')).setAttribute('aria-current', 'page');
	document.title = 'vigil · ' + (view === 'host' ? host : view);
	clearInterval(hostTimer);
	hostTimer = null;
	if (view === 'host') {
		if (!S.detail || S.detail.name !== host) {
			S.detail = null;
			$('host-detail').replaceChildren(el('h1', { id: 'h-host', text: host }),
				el('p', { class: 'muted-text', text: 'Loading…' }));
		}
		loadHost(host).catch(() => {});
		hostTimer = setInterval(() => loadHost(host).catch(() => {}), HOST_REFRESH_MS);
	}
	window.scrollTo(0, 0);
}

/* ---- live updates ----------------------------------------------------- */

const live = { es: null, failures: 0, retry: null, poll: null };

function setConn(state, text) {
	const c = $('conn');
	c.className = 'conn conn-' + state;
	$('conn-text').textContent = text || state;
	c.setAttribute('aria-label', 'live updates: ' + (text || state));
}

function resync() {
	loadAlarms().catch((e) => notice('Alarms: ' + e.message));
	loadHosts().catch((e) => notice('Hosts: ' + e.message));
	if (S.route.view === 'host' && S.route.host)
		loadHost(S.route.host).catch(() => {});
}

function parseData(e) {
	try {
		return JSON.parse(e.data);
	} catch (err) {
		return null;
	}
}

function connect() {
	live.retry = null;
	if (typeof EventSource !== 'function') {
		startPolling();
		return;
	}
	const t = token();
	const es = new EventSource(t ? 'api/v1/events?access_token=' + encodeURIComponent(t)
		: 'api/v1/events');
	live.es = es;
	es.addEventListener('open', () => {
		const again = live.failures > 0 || live.poll !== null;
		live.failures = 0;
		stopPolling();
		$('conn').removeAttribute('title');
		setConn('live');
		if (again)
			resync();
	});
	es.addEventListener('hello', (e) => {
		const d = parseData(e);
		const t = d && ts(d.now);
		if (t !== null)
			S.clockOffset = t - Date.now();
	});
	es.addEventListener('alarm', (e) => {
		const a = parseData(e);
		if (a)
			onAlarmEvent(a);
	});
	es.addEventListener('host', (e) => onHostEvent(parseData(e)));
	es.addEventListener('error', () => {
		/* our own backoff instead of the browser's fixed retry */
		es.close();
		if (live.es !== es)
			return;
		live.es = null;
		live.failures++;
		if (live.failures >= POLL_AFTER_FAILURES)
			startPolling();
		else
			setConn('reconnecting');
		const delay = Math.min(15000, 1000 * 2 ** (live.failures - 1)) * (0.8 + Math.random() * 0.4);
		live.retry = setTimeout(connect, delay);
	});
}

/* Each poll also tries the stream again at once, so a vigild that is back
 * is live within one poll rather than one (long) backoff. */
function startPolling() {
	setConn('polling', 'polling');
	$('conn').title = 'the event stream keeps failing: reading every 10 s';
	if (live.poll === null) {
		live.poll = setInterval(() => {
			resync();
			if (!live.es && live.retry) {
				clearTimeout(live.retry);
				connect();
			}
		}, POLL_MS);
	}
}

function stopPolling() {
	if (live.poll !== null)
		clearInterval(live.poll);
	live.poll = null;
}

/* ---- settings --------------------------------------------------------- */

function openSettings() {
	$('settings').hidden = false;
	$('settings-toggle').setAttribute('aria-expanded', 'true');
}

function showTokenState() {
	$('token-state').textContent = token() ? 'a token is saved in this browser' : 'no token: read only';
}

function setupSettings() {
	$('settings-toggle').addEventListener('click', () => {
		const open = $('settings').hidden;
		$('settings').hidden = !open;
		$('settings-toggle').setAttribute('aria-expanded', String(open));
		if (open)
			$('token').focus();
	});
	$('token').value = token();
	$('settings').addEventListener('submit', (ev) => {
		ev.preventDefault();
		const v = $('token').value.trim();
		try {
			if (v)
				localStorage.setItem(TOKEN_KEY, v);
			else
				localStorage.removeItem(TOKEN_KEY);
		} catch (e) {
			notice('This browser keeps no token (storage is off).');
		}
		showTokenState();
		if (v)
			notice('Token saved.', true);
	});
	$('token-clear').addEventListener('click', () => {
		try {
			localStorage.removeItem(TOKEN_KEY);
		} catch (e) { /* nothing kept anyway */ }
		$('token').value = '';
		S.readAuth = false;
		showTokenState();
	});
	showTokenState();
}

/* ---- start ------------------------------------------------------------ */

function start() {
	setupSettings();
	window.addEventListener('hashchange', route);
	route();
	tick();
	setInterval(tick, 1000);
	connect();
	resync();
}

if (document.readyState === 'loading')
	document.addEventListener('DOMContentLoaded', start);
else
	start();

})();
