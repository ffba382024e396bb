// The dashboard in a real browser: Debian's chromium driven by
// playwright-core, against a vigild that test/integration/dashboard.sh
// started with real SNMP peers. Prints TAP-style "ok - ..." / "not ok - ..."
// lines (run.sh counts them) and exits 1 if any failed.
//
// Environment (set by dashboard.sh):
//   DASH_URL      http://127.0.0.1:PORT/
//   DASH_TOKEN    an operator token; DASH_TOKEN_NAME its name
//   DASH_CTL      a directory for the handshake with the script: this test
//                 writes CTL/req-N holding an action ("fail-switch",
//                 "recover-web"), the script does it and writes CTL/done-N;
//                 the acknowledged alarm's id goes to CTL/acked
//   DASH_SCREENS  where the screenshots go (also copied to /tmp/dash_*.png)
//   DASH_LIVE_S   how long an alarm raised after load may take to show
//
// Any console error or warning, page error, failed request or HTTP error
// answer during the run fails it: the page must run clean.
import { chromium } from 'playwright-core';
import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const env = (k, d) => process.env[k] ?? d;
const URL_ = env('DASH_URL', 'http://127.0.0.1:8765/');
const TOKEN = env('DASH_TOKEN', '');
const TOKEN_NAME = env('DASH_TOKEN_NAME', '');
const CTL = env('DASH_CTL', '');
const SCREENS = env('DASH_SCREENS', '/tmp');
const LIVE_S = Number(env('DASH_LIVE_S', '30'));

let failed = 0;
const ok = (d) => console.log('ok - ' + d);
const notOk = (d, why) => {
	failed++;
	console.log('not ok - ' + d);
	if (why)
		for (const l of String(why).split('\n').slice(0, 12))
			console.log('#   ' + l);
};

// check(desc, fn): fn throws (or returns false) to fail; returns its value.
async function check(desc, fn) {
	try {
		const r = await fn();
		if (r === false) {
			notOk(desc);
			return null;
		}
		ok(desc);
		return r === undefined ? true : r;
	} catch (e) {
		notOk(desc, e && e.message ? e.message : e);
		return null;
	}
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

let reqN = 0;
// Ask dashboard.sh to change the world, and wait until it has.
async function action(name, timeoutMs = 20000) {
	if (!CTL)
		throw new Error('DASH_CTL is not set: no script to do ' + name);
	const n = ++reqN;
	writeFileSync(join(CTL, 'req-' + n + '.tmp'), name + '\n');
	// rename: the script never reads half a request
	renameSync(join(CTL, 'req-' + n + '.tmp'), join(CTL, 'req-' + n));
	const end = Date.now() + timeoutMs;
	while (Date.now() < end) {
		if (existsSync(join(CTL, 'done-' + n)))
			return readFileSync(join(CTL, 'done-' + n), 'utf8').trim();
		await sleep(100);
	}
	throw new Error('the script did not do ' + name + ' within ' + timeoutMs + ' ms');
}

mkdirSync(SCREENS, { recursive: true });
async function screenshot(page, name) {
	const f = join(SCREENS, name + '.png');
	await page.screenshot({ path: f, fullPage: true });
	try {
		copyFileSync(f, '/tmp/dash_' + name + '.png');
	} catch (e) {
		console.log('# could not copy ' + f + ' to /tmp: ' + e.message);
	}
	console.log('# screenshot ' + f);
}

const problems = [];
let closing = false;
let reloading = false;             // a reload aborts the event stream: expected
const browser = await chromium.launch({
	executablePath: '/usr/bin/chromium',
	// as root chromium needs the sandbox off; the rest keeps it from
	// reaching out (updates, sync, QUIC probes): only vigild is talked to
	args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
		'--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const context = await browser.newContext({ viewport: { width: 1920, height: 1080 } });
const page = await context.newPage();
page.setDefaultTimeout(15000);
page.on('console', (m) => {
	if (!closing && (m.type() === 'error' || m.type() === 'warning'))
		problems.push('console ' + m.type() + ': ' + m.text());
});
page.on('pageerror', (e) => problems.push('page error: ' + e.message));
page.on('requestfailed', (r) => {
	const aborted = (r.failure() || {}).errorText === 'net::ERR_ABORTED';
	if (!closing && !(reloading && aborted && r.url().endsWith('/api/v1/events')))
		problems.push('request failed: ' + r.method() + ' ' + r.url() + ': ' + (r.failure() || {}).errorText);
});
page.on('response', (r) => {
	if (r.status() >= 400)
		problems.push('HTTP ' + r.status() + ': ' + r.request().method() + ' ' + r.url());
});
// Nothing but vigild: a request to any other origin is a failure.
const origin = new URL(URL_).origin;
page.on('request', (r) => {
	const u = r.url();
	if (!u.startsWith(origin + '/') && !u.startsWith('data:'))
		problems.push('request outside vigild: ' + u);
});

const rowSel = (host) => `#alarm-rows tr.alarm:has(td.host a:text-is("${host}"))`;

try {
	// ---- the alarms view ----------------------------------------------
	await check('the dashboard loads at ' + URL_, async () => {
		const r = await page.goto(URL_, { waitUntil: 'load' });
		if (!r || r.status() !== 200)
			throw new Error('status ' + (r && r.status()));
		await page.waitForSelector('#view-alarms:not([hidden])');
	});
	await check('the alarms view lists the seeded alarms (web-01 major, db-01 warning)', async () => {
		await page.waitForSelector(rowSel('web-01'));
		await page.waitForSelector(rowSel('db-01'));
		const web = await page.textContent(rowSel('web-01') + ' .badge');
		const db = await page.textContent(rowSel('db-01') + ' .badge');
		if (web.trim() !== 'major' || db.trim() !== 'warning')
			throw new Error('severities ' + web + ', ' + db);
	});
	await check('the connection indicator says live', async () => {
		await page.waitForSelector('#conn.conn-live', { timeout: 10000 });
	});
	await check('a raised age counts up by itself', async () => {
		const a = await page.textContent(rowSel('web-01') + ' td.age');
		await sleep(2200);
		const b = await page.textContent(rowSel('web-01') + ' td.age');
		if (a === b || !/^\d+[smhd]/.test(b))
			throw new Error('age "' + a + '" then "' + b + '"');
	});

	// An alarm raised after the page loaded: no reload allowed.
	await page.evaluate(() => { window.__vigilNoReload = 1; });
	const t0 = Date.now();
	await action('fail-switch');
	const live = await check(`the switch's alarm, raised after load, appears within ${LIVE_S} s without reload`, async () => {
		await page.waitForSelector(rowSel('sw-01'), { timeout: LIVE_S * 1000 });
		if (await page.evaluate(() => window.__vigilNoReload) !== 1)
			throw new Error('the page was reloaded');
		console.log('# it showed ' + ((Date.now() - t0) / 1000).toFixed(1) + ' s after the agent was stopped');
		return true;
	});
	if (live) {
		await check('alarms are sorted by severity, then age (critical sw-01 first)', async () => {
			const order = await page.$$eval('#alarm-rows tr.alarm', (trs) => trs.map((tr) => [
				tr.querySelector('.badge').textContent.trim(), tr.querySelector('td.host').textContent.trim()]));
			const rank = ['critical', 'major', 'minor', 'warning', 'info'];
			for (let i = 1; i < order.length; i++)
				if (rank.indexOf(order[i - 1][0]) > rank.indexOf(order[i][0]))
					throw new Error('order ' + JSON.stringify(order));
			if (order[0][1] !== 'sw-01')
				throw new Error('first row ' + JSON.stringify(order[0]));
		});
		await check('Acknowledge without a token asks for one (and sends nothing)', async () => {
			await page.click(rowSel('sw-01') + ' button.ack');
			await page.waitForSelector('#notice:not([hidden])');
			const t = await page.textContent('#notice');
			if (!/token/i.test(t))
				throw new Error('notice: ' + t);
			if (await page.isHidden('#settings'))
				throw new Error('the settings bar did not open');
		});
		const id = await check('Acknowledge with the operator token typed into the settings', async () => {
			await page.fill('#token', TOKEN);
			await page.click('#token-save');
			const id = await page.getAttribute(rowSel('sw-01'), 'data-alarm-id');
			await page.click(rowSel('sw-01') + ' button.ack');
			await page.waitForSelector(rowSel('sw-01') + ' .chip.st-acknowledged');
			const by = (await page.textContent(rowSel('sw-01') + ' td.acked-by')).trim();
			if (TOKEN_NAME && !by.includes(TOKEN_NAME))
				throw new Error('acknowledged by "' + by + '", expected ' + TOKEN_NAME);
			if (!(await page.isDisabled(rowSel('sw-01') + ' button.ack')))
				throw new Error('the button is still enabled');
			return id;
		});
		if (id && CTL)
			writeFileSync(join(CTL, 'acked'), id + '\n');
		await check('the token survives a reload (localStorage)', async () => {
			reloading = true;
			await page.reload({ waitUntil: 'load' });
			reloading = false;
			await page.waitForSelector(rowSel('sw-01') + ' .chip.st-acknowledged');
			if (await page.inputValue('#token') !== TOKEN)
				throw new Error('token field empty after reload');
		});
		await check('a comment posts from its small form', async () => {
			await page.click(rowSel('sw-01') + ' button.comment');
			await page.fill('tr.comment-row input[name="text"]', 'browser test: on it');
			await page.click('tr.comment-row button[type="submit"]');
			await page.waitForSelector('#notice.good:has-text("Comment added")');
			await page.waitForSelector('tr.comment-row', { state: 'detached' });
		});
	}
	await page.waitForSelector('#conn.conn-live');
	// the pictures without a passing notice or the "fresh" highlight
	await page.waitForSelector('#notice', { state: 'hidden', timeout: 12000 }).catch(() => {});
	await page.waitForSelector('tr.fresh', { state: 'detached', timeout: 5000 }).catch(() => {});
	await screenshot(page, 'alarms');

	// ---- the hosts grid -----------------------------------------------
	await check('the hosts grid shows each host coloured by its state', async () => {
		await page.click('#nav-hosts');
		await page.waitForSelector('#view-hosts:not([hidden]) a.tile[data-host="db-01"]');
		const want = { 'db-01': 'up', 'web-01': 'down' };
		if (live)
			want['sw-01'] = 'down';
		const colours = { up: 'rgb(47, 168, 98)', down: 'rgb(216, 57, 59)' };
		for (const [h, st] of Object.entries(want)) {
			const sel = `a.tile[data-host="${h}"]`;
			await page.waitForSelector(`${sel}[data-state="${st}"]`, { timeout: 15000 });
			const bg = await page.$eval(sel, (e) => getComputedStyle(e).backgroundColor);
			if (bg !== colours[st])
				throw new Error(h + ' is ' + st + ' but coloured ' + bg);
		}
		const cause = await page.textContent('a.tile[data-host="web-01"] .cause');
		if (!/hardware/.test(cause))
			throw new Error('web-01 tile cause: ' + cause);
		const sites = await page.$$eval('#sites section.site h2', (hs) => hs.map((h) => h.textContent));
		if (!sites.some((s) => s.startsWith('hall-1')) || !sites.some((s) => s.startsWith('hall-2')))
			throw new Error('sites: ' + JSON.stringify(sites));
	});
	await screenshot(page, 'hosts');
	await check('a host coming back recolours its tile without reload', async () => {
		await page.evaluate(() => { window.__vigilNoReload = 1; });
		await action('recover-web');
		await page.waitForSelector('a.tile[data-host="web-01"][data-state="up"]', { timeout: LIVE_S * 1000 });
		if (await page.evaluate(() => window.__vigilNoReload) !== 1)
			throw new Error('the page was reloaded');
	});

	// ---- the host page ------------------------------------------------
	await check('clicking a tile opens the host page with its sensors', async () => {
		await page.click('a.tile[data-host="web-01"]');
		await page.waitForURL(/#\/host\/web-01$/);
		await page.waitForSelector('#view-host:not([hidden]) h1#h-host:text-is("web-01")');
		await page.waitForSelector('table.values tbody tr');
		const metrics = await page.$$eval('table.values tbody tr', (trs) =>
			trs.map((tr) => [...tr.children].map((td) => td.textContent.trim())));
		const names = metrics.map((r) => r[0]);
		for (const m of ['temp', 'link'])
			if (!names.includes(m))
				throw new Error('no ' + m + ' in ' + JSON.stringify(metrics));
		if (!metrics.every((r) => r[2]))
			throw new Error('a value without quality: ' + JSON.stringify(metrics));
		await page.waitForSelector('table.sources tbody tr');
	});
	await check('the host page shows the month timeline SVG with the interval', async () => {
		await page.waitForSelector('svg#timeline');
		const n = await page.$$eval('svg#timeline rect.iv', (r) => r.length);
		if (n < 1)
			throw new Error('no interval block in the timeline');
		const title = await page.$eval('svg#timeline rect.iv title', (t) => t.textContent);
		if (!/hardware/.test(title) || !/start /.test(title) || !/end /.test(title))
			throw new Error('hover title: ' + title);
		const cards = await page.$$eval('.cards .card .k', (ks) => ks.map((k) => k.textContent));
		if (!cards.some((c) => /uptime/i.test(c)) || !cards.some((c) => /allowance/i.test(c)) ||
			!cards.some((c) => /credit/i.test(c)))
			throw new Error('month cards: ' + JSON.stringify(cards));
	});
	await screenshot(page, 'host');
	await check('every button is a button with a name', async () => {
		const bad = await page.evaluate(() => [...document.querySelectorAll('button')]
			.filter((b) => !(b.getAttribute('aria-label') || b.textContent.trim()))
			.map((b) => b.outerHTML));
		if (bad.length)
			throw new Error(bad.join('\n'));
	});
} catch (e) {
	notOk('the browser run', e && e.stack ? e.stack : e);
} finally {
	closing = true;
	if (problems.length)
		notOk('no console errors or warnings, page errors or failed requests', problems.join('\n'));
	else
		ok('no console errors or warnings, page errors or failed requests');
	await browser.close();
}
process.exit(failed ? 1 : 0);
