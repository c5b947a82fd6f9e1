// End-to-end test of the browser board against a real `cairn serve`, in
// Debian's headless Chromium driven by playwright-core.
//
//   CAIRN_BIN=/path/to/cairn node --test tests/e2e/board.test.mjs
//
// It starts the server on a free loopback port with a temporary data folder,
// seeds a unit, a cycle and goals through the REST API, and checks: two pages
// on one board see each other's check-ins live (within 1 s, no reload); the
// page survives the server being killed and restarted and catches up with
// what changed meanwhile; the replay slider shows the target as it was before
// a retarget and what changed since a pinned moment; the history lists the
// retarget with its reason; a goal bound to a metric charts the metric; a
// vague goal is flagged; a split goal lists its parts, charts their sum and
// takes no check-in, and a goal is split by month from its page; a
// funnel's stages show their conversion against the plan; a goal
// proposed by an employee waits on the board of its approver and is
// approved there; a goal
// created from the board shows live on both pages, from one snapshot
// rendering shared by the server (no REST board read); a first visit opens
// the company's board; a retro note is added from the retro page; a goal
// dropped with a reason shows why in its history and the retro; a wrong
// check-in is corrected from the history, both kept and linked; a goal's
// owner and weight edited with a reason; the audit trail lists them newest
// first, filtered by kind and actor; a check-in reported late counts from
// its day; a viewer scoped to the team opens its board, live, with no write
// buttons; an admin makes a token (its secret shown once) and revokes it,
// and its holder's open board signs out; on an empty store the company,
// cycles and a department are made in the browser, the department moved
// and renamed, and an ended cycle is closed from its retro.
// Screenshots go to tests/e2e/screenshots/.
import {test} from 'node:test';
import assert from 'node:assert/strict';
import {spawn} from 'node:child_process';
import {readFile} from 'node:fs/promises';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {createRequire} from 'node:module';
import {chromium} from 'playwright-core';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const CAIRN_BIN = path.resolve(process.env.CAIRN_BIN ||
    path.join(HERE, '../../build/cairn'));
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const SHOTS = path.join(HERE, 'screenshots');
// The browser files of this checkout (the server's CAIRN_STATIC).
const WEB_STATIC = path.resolve(HERE, '../../web-static');
const TOKEN = 'e2e-admin-token-' + Math.random().toString(36).slice(2);
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu',
  '--disable-background-networking', '--disable-component-update',
  '--disable-sync', '--disable-quic', '--no-first-run'];

const UNIT = 'growth';
const CYCLE = 'e2e-cycle';
const KR = 'kr-signups';
const KR2 = 'kr-churn';
const OBJ = 'obj-grow';

// ---- Server process --------------------------------------------------------

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const {port} = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// The server's /metrics as a lookup of one sample by its name and labels
// (0 when absent).
async function serverMetrics(server) {
  const res = await fetch(`${server.base}/metrics`,
      {headers: {'Authorization': `Bearer ${TOKEN}`}});
  assert.equal(res.status, 200);
  const samples = new Map();
  for (const line of (await res.text()).split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const cut = line.lastIndexOf(' ');
    samples.set(line.slice(0, cut), Number(line.slice(cut + 1)));
  }
  return (name) => samples.get(name) ?? 0;
}

class Server {
  constructor(dataDir, port) {
    this.dataDir = dataDir;
    this.port = port;
    this.base = `http://127.0.0.1:${port}`;
    this.proc = null;
    this.log = '';
  }

  async start() {
    assert.ok(fs.existsSync(CAIRN_BIN), `server binary missing: ${CAIRN_BIN}`);
    const proc = spawn(CAIRN_BIN, ['serve', '--data', this.dataDir,
      '--listen', `127.0.0.1:${this.port}`, '--admin-token', TOKEN],
    {stdio: ['ignore', 'pipe', 'pipe'], env: {...process.env,
      CAIRN_ADMIN_TOKEN: TOKEN, CAIRN_STATIC: WEB_STATIC}});
    this.proc = proc;
    const keep = (d) => {
      this.log = (this.log + d.toString()).slice(-20000);
    };
    proc.stdout.on('data', keep);
    proc.stderr.on('data', keep);
    this.exited = new Promise((r) => proc.on('exit', (code, sig) => r({code, sig})));
    const deadline = Date.now() + 20000;
    while (Date.now() < deadline) {
      if (proc.exitCode !== null) break;
      try {
        const res = await fetch(`${this.base}/healthz`);
        if (res.ok) return await res.json();
      } catch { /* not listening yet */ }
      await sleep(50);
    }
    throw new Error(`server did not become healthy; log:\n${this.log}`);
  }

  async kill() {
    if (!this.proc || this.proc.exitCode !== null) return;
    this.proc.kill('SIGKILL');
    await this.exited;
  }

  async stop() {
    if (!this.proc || this.proc.exitCode !== null) return;
    this.proc.kill('SIGTERM');
    const done = await Promise.race([this.exited, sleep(5000).then(() => null)]);
    if (!done) await this.kill();
  }

  async api(method, p, body) {
    const res = await fetch(`${this.base}/api/v1${p}`, {method,
      headers: {'Authorization': `Bearer ${TOKEN}`,
        ...(body ? {'Content-Type': 'application/json'} : {})},
      body: body ? JSON.stringify(body) : undefined});
    const text = await res.text();
    const data = text ? JSON.parse(text) : null;
    if (!res.ok) {
      throw new Error(`${method} ${p} -> ${res.status} ${text}`);
    }
    return data;
  }
}

const isoDate = (ms) => new Date(ms).toISOString().slice(0, 10);
const DAY = 86400000;

async function seed(server) {
  const now = Date.now();
  await server.api('POST', '/units', {id: 'acme', name: 'Acme', kind: 'company'});
  await server.api('POST', '/units', {id: UNIT, name: 'Growth team',
    kind: 'team', parent: 'acme'});
  await server.api('POST', '/cycles', {id: CYCLE, name: 'E2E cycle',
    kind: 'custom', start: isoDate(now - 30 * DAY), end: isoDate(now + 60 * DAY)});
  await server.api('POST', '/goals', {id: OBJ, kind: 'objective',
    title: 'Grow the product sustainably', unit: UNIT, cycle: CYCLE,
    owner: 'dana'});
  await server.api('POST', '/goals', {id: KR, kind: 'key_result',
    title: 'Reach 100 weekly sign-ups', unit: UNIT, cycle: CYCLE,
    owner: 'alice', parent: OBJ,
    measure: {start: 0, target: 100, direction: 'increase', unit: 'signups'}});
  // Server text must reach the page as text, never as markup.
  await server.api('POST', '/goals', {id: KR2, kind: 'key_result',
    title: 'Churn <b>below</b> 3% <img src=x onerror="window.__xss=1">',
    unit: UNIT, cycle: CYCLE, owner: 'bob', parent: OBJ,
    measure: {start: 5, target: 3, direction: 'decrease', unit: '%'}});
  await server.api('POST', `/goals/${KR}/check-ins`,
      {value: 10, confidence: 7, note: 'first week'});
}

// ---- Page helpers ----------------------------------------------------------

const row = (id) => `[data-testid="goal-${id}"] > .goal-row`;

async function waitLive(page, timeout = 10000) {
  await page.waitForSelector('[data-testid="live-status"][data-state="live"]',
      {timeout, state: 'attached'});
}

async function valueOf(page, id, field) {
  return page.getAttribute(`${row(id)} [data-testid="goal-${field}"]`,
      'data-value');
}

// Records, inside the page, the wall-clock time at which `selector` first
// matches, so the measured delay does not depend on the driver's polling.
async function watchFor(page, selector) {
  await page.evaluate((sel) => {
    window.__seen = window.__seen || {};
    const check = () => {
      if (!(sel in window.__seen) && document.querySelector(sel)) {
        window.__seen[sel] = Date.now();
      }
    };
    new MutationObserver(check).observe(document, {subtree: true,
      childList: true, attributes: true, characterData: true});
    check();
  }, selector);
  return async (timeout) => {
    await page.waitForFunction((sel) => sel in (window.__seen || {}),
        selector, {timeout});
    return page.evaluate((sel) => window.__seen[sel], selector);
  };
}

// Collects into `errors` what goes wrong in `page`: uncaught errors, and
// anything the Content-Security-Policy refused.
function watchErrors(page, errors) {
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => {
    if (/Content Security Policy/i.test(m.text())) errors.push(m.text());
  });
}

async function waitValue(page, id, field, value, timeout) {
  await page.waitForSelector(
      `${row(id)} [data-testid="goal-${field}"][data-value="${value}"]`,
      {timeout, state: 'attached'});
}

// ---- The test --------------------------------------------------------------

test('browser board: live, reconnect, replay, history', {timeout: 180000},
    async (t) => {
      fs.mkdirSync(SHOTS, {recursive: true});
      const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-e2e-'));
      const server = new Server(path.join(dataDir, 'data'), await freePort());
      let browser = null;
      t.after(async () => {
        if (browser) await browser.close();
        await server.stop();
        fs.rmSync(dataDir, {recursive: true, force: true});
      });

      await server.start();
      await seed(server);

      browser = await chromium.launch({executablePath: CHROMIUM,
        headless: true, args: CHROMIUM_ARGS});
      const context = await browser.newContext({viewport: {width: 1440,
        height: 900}, colorScheme: 'light'});
      const boardUrl = `${server.base}/#/board?unit=${UNIT}&cycle=${CYCLE}`;
      const pageA = await context.newPage();
      const pageB = await context.newPage();
      const consoleErrors = [];
      for (const p of [pageA, pageB]) {
        watchErrors(p, consoleErrors);
      }
      // A page in a browser context of its own (`options`, closed after the
      // test) whose errors count too; signed in with `token` unless null.
      const pageOf = async (options, token = TOKEN) => {
        const context = await browser.newContext(options);
        t.after(() => context.close());
        const page = await context.newPage();
        watchErrors(page, consoleErrors);
        await page.goto(`${server.base}/`);
        if (token) {
          await page.evaluate((tk) => localStorage.setItem('cairn.token', tk),
              token);
        }
        return page;
      };

      await t.test('token entry on first visit, kept for the next page',
          async () => {
            await pageA.goto(boardUrl);
            await pageA.fill('[data-testid="token-input"]', 'wrong-token');
            await pageA.click('[data-testid="token-submit"]');
            await pageA.waitForSelector(
                '[data-testid="token-error"]:not(:empty)');
            await pageA.fill('[data-testid="token-input"]', TOKEN);
            await pageA.click('[data-testid="token-submit"]');
            await pageA.waitForSelector(`[data-testid="goal-${KR}"]`);
            await pageB.goto(boardUrl);
            await pageB.waitForSelector(`[data-testid="goal-${KR}"]`);
            assert.equal(await valueOf(pageB, KR, 'current'), '10');
            assert.equal(await valueOf(pageB, KR, 'target'), '100');
            // Nested: the key result is inside its objective.
            assert.equal(await pageB.locator(
                `[data-testid="goal-${OBJ}"] [data-testid="goal-${KR}"]`)
                .count(), 1);
            const title = await pageB.textContent(
                `${row(KR2)} [data-testid="goal-title"]`);
            assert.match(title, /<b>below<\/b>/);
            assert.equal(await pageB.evaluate(() => window.__xss), undefined);
            await waitLive(pageA);
            await waitLive(pageB);
          });

      await t.test('a check-in in one page shows in the other within 1 s',
          async () => {
            await pageB.evaluate(() => {
              window.__sameDocument = true;
            });
            await pageA.bringToFront(); // the acting page is the visible one
            const seen = await watchFor(pageB, `${row(KR)} ` +
                '[data-testid="goal-current"][data-value="42"]');
            await pageA.click(`${row(KR)} [data-testid="checkin-btn"]`);
            await pageA.fill('[data-testid="checkin-value"]', '42');
            await pageA.fill('[data-testid="checkin-confidence"]', '6');
            await pageA.fill('[data-testid="checkin-note"]',
                'launch post went out');
            const t0 = Date.now();
            await pageA.click('[data-testid="checkin-save"]');
            const elapsed = (await seen(5000)) - t0;
            t.diagnostic(`check-in visible in the other page after ${elapsed} ms`);
            assert.ok(elapsed <= 1000, `took ${elapsed} ms`);
            assert.equal(await pageB.evaluate(() => window.__sameDocument), true);
            assert.equal(await pageB.textContent(
                `${row(KR)} [data-testid="goal-confidence"]`), '6/10');
            await pageA.waitForSelector('[data-testid="checkin-dialog"]',
                {state: 'detached'});
          });

      await t.test('server killed and restarted: the page reconnects and catches up',
          async () => {
            await pageA.evaluate(() => {
              window.__sameDocument = true;
            });
            await server.kill();
            await pageA.waitForSelector(
                '[data-testid="live-status"][data-state="reconnecting"]',
                {timeout: 10000, state: 'attached'});
            await server.start();
            // Changes made while the pages were away.
            await server.api('POST', `/goals/${KR}/check-ins`,
                {value: 55, confidence: 8, note: 'made while the page was away'});
            await server.api('POST', `/goals/${KR2}/check-ins`, {value: 4.2});
            for (const page of [pageA, pageB]) {
              await waitValue(page, KR, 'current', '55', 15000);
              await waitValue(page, KR2, 'current', '4.2', 5000);
              await waitLive(page, 10000);
              assert.equal(await page.evaluate(() => window.__sameDocument), true,
                  'the page was reloaded');
            }
            // And it is live again, not just caught up once.
            const seen = await watchFor(pageB, `${row(KR)} ` +
                '[data-testid="goal-current"][data-value="60"]');
            const t0 = Date.now();
            await server.api('POST', `/goals/${KR}/check-ins`, {value: 60});
            const elapsed = (await seen(5000)) - t0;
            t.diagnostic(`live again after restart: ${elapsed} ms`);
            assert.ok(elapsed <= 1000, `took ${elapsed} ms`);
          });

      let retargetAt = 0;
      await t.test('edit the target with a reason', async () => {
        await sleep(50); // the retarget has a later time than the check-ins
        await pageA.bringToFront();
        await pageA.click(`${row(KR)} [data-testid="edit-target-btn"]`);
        await pageA.fill('[data-testid="target-value"]', '80');
        await pageA.fill('[data-testid="target-reason"]', 'budget cut');
        await pageA.click('[data-testid="target-save"]');
        await waitValue(pageB, KR, 'target', '80', 1000);
        await pageA.waitForSelector('[data-testid="target-dialog"]',
            {state: 'detached'});
        const history = await server.api('GET', `/goals/${KR}/history`);
        const edit = history.events.find((e) => e.type === 'goal.edited');
        assert.ok(edit, 'goal.edited in the history');
        retargetAt = Date.parse(edit.at);
        await pageB.screenshot({path: path.join(SHOTS, 'board.png'),
          fullPage: true});
      });

      await t.test('replay slider shows the target before the retarget',
          async () => {
            await pageA.goto(
                `${server.base}/#/replay?unit=${UNIT}&cycle=${CYCLE}`);
            const slider = '[data-testid="replay-slider"]';
            const boardSel = '[data-testid="replay-board"]';
            await pageA.waitForSelector(`${boardSel}[data-as-of]`,
                {state: 'attached'});
            await waitValue(pageA, KR, 'target', '80', 5000);
            const before = retargetAt - 1;
            await pageA.fill(slider, String(before));
            await pageA.waitForSelector(`${boardSel}[data-as-of=` +
                `"${new Date(before).toISOString()}"]:not([data-loading])`,
            {state: 'attached', timeout: 5000});
            assert.equal(await valueOf(pageA, KR, 'target'), '100');
            assert.equal(await valueOf(pageA, KR, 'current'), '60');
            await pageA.screenshot({path: path.join(SHOTS, 'replay-slider.png'),
              fullPage: true});
            // Pinned there, then back to the end of the slider: the new
            // target, and what changed since the pinned moment.
            await pageA.click('[data-testid="diff-pin"]');
            const max = await pageA.getAttribute(slider, 'max');
            await pageA.fill(slider, max);
            await waitValue(pageA, KR, 'target', '80', 5000);
            const diff = `[data-testid="diff"][data-from="` +
                `${new Date(before).toISOString()}"][data-to="` +
                `${new Date(Number(max)).toISOString()}"]:not([data-loading])`;
            await pageA.waitForSelector(diff, {state: 'attached',
              timeout: 5000});
            const changed = pageA.locator(`${diff} [data-testid=` +
                `"diff-changed"][data-goal="${KR}"]`);
            assert.equal(await changed.locator(
                '[data-field="measure.target"]').textContent(),
            'Target 100 → 80');
            // The key result, and its objective's grade with it.
            const goals = await pageA.locator(`${diff} [data-testid=` +
                '"diff-changed"]').evaluateAll((els) =>
              els.map((e) => e.dataset.goal).sort());
            assert.deepEqual(goals, [KR, OBJ].sort());
            // Play steps through the cycle from its start.
            await pageA.click('[data-testid="replay-play"]');
            await pageA.waitForFunction((sel) => {
              const s = document.querySelector(sel);
              return Number(s.value) > Number(s.min) &&
                  Number(s.value) < Number(s.max);
            }, slider, {timeout: 5000});
            await pageA.click('[data-testid="replay-play"]');
            assert.equal(await pageA.getAttribute('[data-testid="replay-play"]',
                'aria-pressed'), 'false');
          });

      await t.test('history lists the retarget with its reason', async () => {
        await pageA.goto(`${server.base}/#/goal/${KR}`);
        const ev = pageA.locator(
            '[data-testid="history-event"][data-type="goal.edited"]');
        await ev.first().waitFor();
        const change = ev.locator(
            '[data-testid="history-change"][data-field="measure.target"]');
        const text = await change.first().textContent();
        assert.match(text, /100/);
        assert.match(text, /80/);
        assert.match(await ev.first().textContent(), /budget cut/);
        assert.equal(await pageA.locator('[data-testid="progress-chart"]')
            .count(), 1);
        await pageA.screenshot({path: path.join(SHOTS, 'history.png'),
          fullPage: true});
      });

      await t.test('any page as it was before the retarget, and back to now',
          async () => {
            const before = new Date(retargetAt - 1).toISOString();
            await server.api('POST', '/units', {id: 'later-team',
              name: 'A team made later', kind: 'team', parent: 'acme'});
            // The replay opened at that moment links the other views then.
            await pageA.goto(`${server.base}/#/replay?unit=${UNIT}&cycle=` +
                `${CYCLE}&as_of=${encodeURIComponent(before)}`);
            await pageA.waitForSelector('[data-testid="replay-board"]' +
                `[data-as-of="${before}"]:not([data-loading])`,
            {state: 'attached'});
            await pageA.click('[data-testid="at-moment-board"]');
            await pageA.waitForSelector(`[data-testid="board"][data-as-of=` +
                `"${before}"] ${row(KR)}`);
            assert.equal(await valueOf(pageA, KR, 'target'), '100');
            assert.match(await pageA.textContent(
                '[data-testid="as-of-banner"]'), /As it was at .*Back to now/);
            assert.equal(await pageA.locator('[data-testid="checkin-btn"], ' +
                '[data-testid="new-goal"]').count(), 0);
            // The pickers list the units there were then: not one made
            // since.
            const unitOptions = () => pageA.$$eval('#unit-select option',
                (os) => os.map((o) => o.value));
            assert.ok((await unitOptions()).includes(UNIT));
            assert.ok(!(await unitOptions()).includes('later-team'));
            // Its goal's page then: the old target, its history up to
            // then, nothing to change.
            await pageA.click(`${row(KR)} [data-testid="goal-title"]`);
            await pageA.waitForSelector('[data-testid="history-event"]');
            assert.match(await pageA.textContent(
                '[data-testid="goal-value-of-target"]'), /of 100\b/);
            assert.equal(await pageA.locator('[data-testid="history-event"]' +
                '[data-type="goal.edited"]').count(), 0);
            assert.equal(await pageA.locator('.page-head .head-actions')
                .count(), 0);
            // Another view from the menu stays at the moment.
            await pageA.click('#nav a[data-view="retro"]');
            await pageA.waitForSelector('[data-testid="retro"]');
            assert.ok(new URL(pageA.url()).hash.includes('as_of='));
            assert.equal(await pageA.locator('[data-testid="retarget-row"]')
                .count(), 0);
            // Back to now: the retarget, and the banner gone.
            await pageA.click('[data-testid="as-of-now"]');
            await pageA.waitForSelector('[data-testid="retarget-row"]');
            assert.equal(await pageA.isVisible('[data-testid="as-of-banner"]'),
                false);
            assert.ok((await unitOptions()).includes('later-team'));
            assert.ok(!new URL(pageA.url()).hash.includes('as_of='));
          });

      await t.test('a goal bound to a metric charts the metric', async () => {
        await server.api('POST', '/metrics', {id: 'mrr', name: 'New revenue',
          unit: 'EUR', aggregate: 'sum'});
        await server.api('POST', '/goals', {id: 'kr-revenue',
          kind: 'key_result', title: 'Book 1000 EUR of new revenue',
          unit: UNIT, cycle: CYCLE, owner: 'alice', parent: OBJ,
          measure: {start: 0, target: 1000, direction: 'increase',
            unit: 'EUR', metric: 'mrr', aggregate: 'sum'}});
        // The first point lies before the cycle and counts for nothing.
        const now = Date.now();
        await server.api('POST', '/metrics/mrr/values', {points: [
          {ts: new Date(now - 40 * DAY).toISOString(), value: 900},
          {ts: new Date(now - 20 * DAY).toISOString(), value: 100},
          {ts: new Date(now - 10 * DAY).toISOString(), value: 200},
          {ts: new Date(now - DAY).toISOString(), value: 300}]});
        await pageA.goto(`${server.base}/#/goal/kr-revenue`);
        const source = pageA.locator('[data-testid="chart-source"]');
        await source.waitFor();
        assert.match(await source.textContent(), /New revenue.*sum/);
        const points = pageA.locator('[data-testid="progress-chart"] circle');
        assert.equal(await points.count(), 3);
        // The running sum over the cycle, ending at the goal's current value.
        const titles = await points.locator('title').allTextContents();
        assert.deepEqual(titles.map((x) => x.split(' ')[0]),
            ['100', '300', '600']);
        assert.equal((await server.api('GET', '/goals/kr-revenue')).current,
            600);
        // The live board names where the value comes from.
        const last = `${row('kr-revenue')} [data-testid="goal-last-check-in"]`;
        await pageB.waitForSelector(last);
        assert.equal(await pageB.textContent(last), 'from the metric mrr');
        assert.equal(await pageB.locator(
            `${row('kr-revenue')} [data-testid="goal-vague"]`).count(), 0);
      });

      await t.test('a vague goal is flagged on the board', async () => {
        await server.api('POST', '/goals', {id: 'vague', kind: 'objective',
          title: 'Be better', unit: UNIT, cycle: CYCLE});
        const tag = `${row('vague')} [data-testid="goal-vague"]`;
        await pageB.waitForSelector(tag);
        assert.match(await pageB.getAttribute(tag, 'title'),
            /not specific, measurable, relevant/);
        await pageA.goto(`${server.base}/#/goal/vague`);
        await pageA.waitForSelector('[data-testid="goal-smart"]');
        assert.match(await pageA.textContent('[data-testid="goal-smart"]'),
            /Not SMART: not specific, measurable, relevant/);
      });

      await t.test('a split goal lists its parts and takes no check-in',
          async () => {
            await server.api('POST', '/goals', {id: 'kr-deals',
              kind: 'key_result', title: 'Close ten deals', unit: UNIT,
              cycle: CYCLE, owner: 'dana', parent: OBJ,
              measure: {start: 0, target: 10, direction: 'increase'}});
            await server.api('POST', '/goals/kr-deals/decompose', {
              by: 'owners', integer: true, parts: [
                {unit: UNIT, owner: 'alice', weight: 3},
                {unit: UNIT, owner: 'bob', weight: 2}]});
            const last = `${row('kr-deals')} ` +
                '[data-testid="goal-last-check-in"]';
            await pageB.waitForFunction((sel) =>
              document.querySelector(sel)?.textContent === 'from its parts',
            last, {timeout: 5000});
            assert.equal(await pageB.locator(
                `${row('kr-deals')} [data-testid="checkin-btn"]`).count(), 0);
            await pageA.goto(`${server.base}/#/goal/kr-deals`);
            const split = pageA.locator('[data-testid="history-split"]');
            await split.waitFor();
            assert.equal(await split.textContent(),
                'By owners into 2 parts: alice 6 (weight 3) · bob 4 (weight 2)');
            const parts = pageA.locator('[data-testid="goal-child"]');
            assert.equal(await parts.count(), 2);
            assert.equal(await pageA.locator('[data-testid="checkin-btn"]')
                .count(), 0);
            // Its chart sums the parts' check-ins by effective time,
            // ending at the goal's current value.
            const [alice, bob] = (await server.api('GET', '/goals/kr-deals'))
                .children;
            const at = (days) => new Date(Date.now() - days * 86400000)
                .toISOString();
            await server.api('POST', `/goals/${alice}/check-ins`,
                {value: 2, at: at(5)});
            await server.api('POST', `/goals/${bob}/check-ins`,
                {value: 1, at: at(3)});
            await server.api('POST', `/goals/${alice}/check-ins`,
                {value: 4, at: at(1)});
            await pageA.reload();
            const source = pageA.locator('[data-testid="chart-source"]');
            await source.waitFor();
            assert.equal(await source.textContent(),
                'The sum of its parts\' check-ins');
            const sums = await pageA.locator('[data-testid="progress-chart"] ' +
                'circle title').allTextContents();
            assert.deepEqual(sums.map((x) => x.split(' ')[0]), ['2', '3', '5']);
            assert.equal((await server.api('GET', '/goals/kr-deals')).current,
                5);
            // A part split in turn counts as the sum of its own parts, as
            // the server counts it: alice's share by month, one checked in.
            const aliceMonths = await server.api('POST',
                `/goals/${alice}/decompose`, {by: 'time', into: 'month'});
            await server.api('POST',
                `/goals/${aliceMonths.goals[0].id}/check-ins`,
                {value: 3, at: at(0.5)});
            const current = (await server.api('GET', '/goals/kr-deals')).current;
            await pageA.reload();
            await source.waitFor();
            const after = await pageA.locator('[data-testid="progress-chart"] ' +
                'circle title').allTextContents();
            assert.equal(after[after.length - 1].split(' ')[0],
                String(current));
            assert.equal(current, 4);  // bob 1 + alice's month 3
            // A split from the goal's page: by month, into the months of
            // the cycle (the test's cycle spans parts of four).
            await server.api('POST', '/goals', {id: 'kr-calls',
              kind: 'key_result', title: 'Make 300 calls', unit: UNIT,
              cycle: CYCLE, parent: OBJ,
              measure: {start: 0, target: 300, direction: 'increase'}});
            await pageA.goto(`${server.base}/#/goal/kr-calls`);
            await pageA.click('[data-testid="split-btn"]');
            await pageA.selectOption('[data-testid="split-into"]', 'month');
            await pageA.click('[data-testid="split-save"]');
            await pageA.waitForSelector('[data-testid="split-dialog"]',
                {state: 'detached'});
            await pageA.waitForFunction(() => document.querySelector(
                '[data-testid="history-split"]')?.textContent
                .startsWith('By month into '));
            const months = (await server.api('GET', '/goals/kr-calls'))
                .children.length;
            assert.ok(months >= 3 && months <= 4, `${months} months`);
            assert.equal(await pageA.locator('[data-testid="goal-child"]')
                .count(), months);
            assert.equal(await pageA.locator('[data-testid="split-btn"]')
                .count(), 0);
            // Retargeted from its page: the months follow, by their shares.
            const monthTargets = async () => Promise.all(
                (await server.api('GET', '/goals/kr-calls')).children.map(
                    async (id) => (await server.api('GET', `/goals/${id}`))
                        .measure.target));
            const shares = await monthTargets();
            await pageA.click('[data-testid="edit-target-btn"]');
            assert.equal(await pageA.isChecked('[data-testid="target-rescale"]'),
                true);
            await pageA.fill('[data-testid="target-value"]', '600');
            await pageA.fill('[data-testid="target-reason"]', 'a second caller');
            await pageA.click('[data-testid="target-save"]');
            await pageA.waitForSelector('[data-testid="target-dialog"]',
                {state: 'detached'});
            const scaled = await monthTargets();
            assert.equal(scaled.reduce((x, y) => x + y, 0), 600);
            scaled.forEach((v, i) => assert.ok(Math.abs(v - 2 * shares[i]) <= 1,
                `${v} against ${shares[i]}`));
            // The objective's page lists its key results.
            await pageA.goto(`${server.base}/#/goal/${OBJ}`);
            await pageA.locator('[data-testid="goal-children"]').waitFor();
            const kids = await pageA.locator('[data-testid="goal-child"]')
                .evaluateAll((els) => els.map((e) => e.dataset.goal));
            for (const id of [KR, KR2, 'kr-deals']) {
              assert.ok(kids.includes(id), `${id} in ${kids}`);
            }
          });

      await t.test('a funnel\'s stages show their conversion against the plan',
          async () => {
            // A unit of its own: the growth team's board stays as it is.
            await server.api('POST', '/units', {id: 'funnel-team',
              name: 'Inside sales', kind: 'team', parent: 'acme'});
            await server.api('POST', '/goals', {id: 'kr-signings',
              kind: 'key_result', title: 'Two signings', unit: 'funnel-team',
              cycle: CYCLE, owner: 'sam',
              measure: {start: 0, target: 2, direction: 'increase'}});
            const stages = (await server.api('POST',
                '/goals/kr-signings/decompose', {by: 'funnel', stages: [
                  {name: 'calls'}, {name: 'appointments', rate: 0.1},
                  {name: 'meetings', rate: 0.5}, {name: 'signings', rate: 0.1},
                ]})).goals.map((g) => g.id);
            // 120 calls, 9 appointments (7.5%: below the plan's 10%), 6
            // meetings (67%), no signing yet.
            for (const [i, value] of [120, 9, 6].entries()) {
              await server.api('POST', `/goals/${stages[i]}/check-ins`,
                  {value});
            }
            await pageA.goto(`${server.base}/#/goal/kr-signings`);
            const conv = '[data-testid="goal-children"] ' +
              '[data-testid="stage-conversion"]';
            await pageA.waitForSelector(conv);
            const shown = await pageA.locator(conv).evaluateAll((els) =>
              els.map((e) => [e.dataset.actual, e.dataset.plan,
                e.textContent]));
            assert.equal(shown.length, 3);  // none for the first stage
            assert.deepEqual(shown.map(([a, p]) => [Number(a), Number(p)]),
                [[0.075, 0.1], [6 / 9, 0.5], [0, 0.1]]);
            assert.match(shown[0][2],
                /^8% of calls came through, plan 10% \(below plan\)$/);
            assert.match(shown[1][2], /^67% of appointments came through, plan 50%$/);
            // Whole percents that would hide a miss of the plan are not
            // used; a stage before with no value yet says so.
            assert.deepEqual(await pageA.evaluate(async () => {
              const {conversionText} = await import('/views/goal.js');
              return [{actual: 9 / 46, plan: 0.2}, {actual: 0.2, plan: 0.2},
                {actual: 0.19996, plan: 0.2}, {actual: null, plan: 0.5},
                {actual: 0.25, plan: null}].map((r) =>
                conversionText({...r, from: 'calls'}));
            }), ['19.6% of calls came through, plan 20% (below plan)',
              '20% of calls came through, plan 20%',
              '20% of calls came through, plan 20%',
              'no calls yet, plan 50%',
              '25% of calls came through']);
          });

      await t.test('a goal proposed by an employee waits on the board ' +
          'whose editors approve it', async () => {
        await server.api('POST', '/units', {id: 'erin', name: 'Erin Novak',
          kind: 'person', parent: UNIT});
        const propose = async (goal) => {
          await server.api('POST', '/goals', {kind: 'key_result', unit: 'erin',
            cycle: CYCLE, owner: 'erin', status: 'draft',
            measure: {start: 0, target: 4, direction: 'increase'}, ...goal});
          await server.api('POST', `/goals/${goal.id}/status`,
              {status: 'proposed', reason: 'Partners asked for it'});
        };
        // With no parent goal: the team above the person approves it.
        await propose({id: 'erin-webinars', title: 'Run four webinars'});
        await pageA.goto(boardUrl);
        const item = (id) => '[data-testid="approvals"] ' +
          `[data-testid="approval"][data-goal="${id}"]`;
        await pageA.waitForSelector(item('erin-webinars'));
        assert.match(await pageA.textContent(item('erin-webinars')),
            /Run four webinars.*erin · Erin Novak · E2E cycle.*Approve/);
        await pageA.click(`${item('erin-webinars')} ` +
            '[data-testid="approve-btn"]');
        await pageA.waitForSelector('[data-testid="approvals"]',
            {state: 'detached'});
        assert.equal((await server.api('GET', '/goals/erin-webinars')).status,
            'active');
        // Under one of the person's own goals: her board's panel follows
        // the proposal and its approval live.
        await server.api('POST', '/goals', {id: 'erin-obj', kind: 'objective',
          title: 'Grow the partner channel', unit: 'erin', cycle: CYCLE,
          owner: 'erin'});
        await pageA.goto(`${server.base}/#/board?unit=erin&cycle=${CYCLE}`);
        await pageA.waitForSelector('[data-testid="goal-erin-obj"]');
        await waitLive(pageA);
        await propose({id: 'erin-kr', title: 'Sign two partners',
          parent: 'erin-obj'});
        await pageA.waitForSelector(item('erin-kr'), {timeout: 3000});
        await server.api('POST', '/goals/erin-kr/status', {status: 'active'});
        await pageA.waitForSelector('[data-testid="approvals"]',
            {state: 'detached', timeout: 3000});
        // One left waiting, for the accessibility and phone passes.
        await propose({id: 'erin-course', title: 'Finish the partner course',
          parent: 'erin-obj'});
      });

      await t.test('a new goal from the board shows on the other page',
          async () => {
            await pageA.goto(boardUrl);
            await pageA.click('[data-testid="new-goal"]');
            const dialog = '[data-testid="new-goal-dialog"]';
            await pageA.waitForSelector(dialog);
            await pageA.fill('[data-testid="new-goal-title"]',
                'Run 20 customer demos');
            await pageA.selectOption('[data-testid="new-goal-parent"]', OBJ);
            await pageA.fill('[data-testid="new-goal-unit"]', 'demos');
            // Start equal to the target: refused, shown in the form.
            await pageA.fill('[data-testid="new-goal-start"]', '20');
            await pageA.fill('[data-testid="new-goal-target"]', '20');
            const head = async () =>
              (await (await fetch(`${server.base}/healthz`)).json()).position;
            const before = await head();
            await pageA.click('[data-testid="new-goal-save"]');
            await pageA.waitForSelector(
                '[data-testid="new-goal-dialog-error"]:not(:empty)');
            assert.equal(await head(), before);
            await pageA.fill('[data-testid="new-goal-start"]', '0');
            await waitLive(pageA);
            await waitLive(pageB);
            const metricsBefore = await serverMetrics(server);
            await pageA.click('[data-testid="new-goal-save"]');
            await pageA.waitForSelector(dialog, {state: 'detached'});
            for (const page of [pageA, pageB]) {
              await page.locator('[data-testid="goal-title"]',
                  {hasText: 'Run 20 customer demos'}).waitFor({timeout: 5000});
            }
            // Both pages took the new tree from one snapshot rendering,
            // shared by the server, not from a board read each.
            const metricsAfter = await serverMetrics(server);
            const moved = (name) => metricsAfter(name) - metricsBefore(name);
            assert.equal(moved('cairn_http_requests_total{route="/api/v1/boards/{}",status="200"}'), 0);
            assert.equal(moved('cairn_live_snapshot_boards_total{made="rendered"}'), 1);
            assert.equal(moved('cairn_live_snapshot_boards_total{made="shared"}'), 1);
            const goals = (await server.api('GET',
                `/goals?unit=${UNIT}&cycle=${CYCLE}`)).goals;
            const g = goals.find((x) => x.title === 'Run 20 customer demos');
            assert.ok(g, 'the goal was created');
            // Made a moment ago with no check-in: the server calls it stale
            // (none in 7 days), the board calls it new.
            assert.equal(g.stale, true);
            await pageB.waitForSelector(`${row(g.id)} [data-testid="goal-new"]`);
            assert.equal(await pageB.locator(
                `${row(g.id)} [data-testid="goal-stale"]`).count(), 0);
            assert.equal(g.parent, OBJ);
            assert.equal(g.kind, 'key_result');
            assert.deepEqual([g.measure.start, g.measure.target,
              g.measure.unit], [0, 20, 'demos']);
          });

      await t.test('a first visit opens the company board', async () => {
        await pageA.evaluate(() => {
          localStorage.removeItem('cairn.unit');
          localStorage.removeItem('cairn.cycle');
        });
        await pageA.goto(`${server.base}/`);
        await pageA.waitForSelector('[data-testid="board-title"]');
        assert.equal(await pageA.textContent('[data-testid="board-title"]'),
            'Acme');
        assert.equal(await pageA.inputValue('#unit-select'), 'acme');
      });

      await t.test('retro page lists the retarget', async () => {
        await pageA.goto(`${server.base}/#/retro?unit=${UNIT}&cycle=${CYCLE}`);
        const rt = pageA.locator('[data-testid="retro-retargeted"]');
        await rt.locator('[data-testid="retarget-row"]').first().waitFor();
        assert.match(await rt.textContent(), /budget cut/);
        // Named by the goal's title, not its id.
        assert.match(await rt.locator('[data-testid="retarget-row"]').first()
            .textContent(), /^Reach 100 weekly sign-ups/);
        // A note on one of the cycle's goals, added from the page.
        await pageA.click('[data-testid="note-add"]');
        await pageA.selectOption('[data-testid="note-kind"]', 'cause');
        await pageA.selectOption('[data-testid="note-goal"]', KR);
        await pageA.fill('[data-testid="note-text"]', 'The launch slipped');
        await pageA.click('[data-testid="note-save"]');
        const note = pageA.locator('[data-testid="retro-notes"] li',
            {hasText: 'The launch slipped'});
        await note.waitFor();
        assert.match(await note.textContent(),
            /cause.*The launch slipped.*Reach 100 weekly sign-ups/);
        const retro = await server.api('GET',
            `/retro?unit=${UNIT}&cycle=${CYCLE}`);
        assert.ok(retro.notes.some((n) => n.text === 'The launch slipped' &&
            n.kind === 'cause' && n.goal === KR), JSON.stringify(retro.notes));
        // The cycle runs for weeks yet: the retro reports it so far.
        assert.match(await pageA.textContent('[data-testid="retro-summary"]'),
            /so far; the cycle ends/);
        assert.equal(await pageA.textContent(
            '[data-testid="retro-missed"] h2'), 'Below target so far');
        await pageA.screenshot({path: path.join(SHOTS, 'retro.png'),
          fullPage: true});
      });

      await t.test('a wrong check-in is corrected from the history, both kept',
          async () => {
            await pageA.goto(`${server.base}/#/goal/${KR2}`);
            const wrong = pageA.locator('[data-testid="history-event"]' +
                '[data-type="goal.checked_in"]').first();
            await wrong.waitFor();
            const position = Number(await wrong.getAttribute('data-position'));
            const before = (await server.api('GET', `/goals/${KR2}/history`))
                .events.find((e) => e.position === position);
            assert.equal(before.data.value, 4.2);
            await wrong.locator('[data-testid="history-correct"]').click();
            assert.equal(await pageA.inputValue('[data-testid="checkin-value"]'),
                '4.2');
            await pageA.fill('[data-testid="checkin-value"]', '4');
            await pageA.fill('[data-testid="checkin-note"]', 'typo: was 4.0');
            await pageA.click('[data-testid="checkin-save"]');
            await pageA.waitForSelector('[data-testid="history-corrects"]');
            // Both in the history, linked; the correction takes the wrong
            // one's place in the value and the chart.
            const history = (await server.api('GET', `/goals/${KR2}/history`))
                .events;
            const fix = history[history.length - 1];
            assert.deepEqual([fix.data.value, fix.corrects, fix.data.at],
                [4, position, before.data.at]);
            assert.equal(history.find((e) => e.position === position)
                .corrected_by, fix.position);
            assert.equal((await server.api('GET', `/goals/${KR2}`)).current, 4);
            await pageA.waitForSelector('[data-testid="history-corrected-by"]');
            const points = await pageA.locator('[data-testid="progress-chart"] ' +
                'circle title').allTextContents();
            assert.deepEqual(points.map((x) => x.split(' ')[0]), ['4%']);
            // Corrected once: no second correction offered on it.
            assert.equal(await pageA.locator(`[data-testid="history-event"]` +
                `[data-position="${position}"] [data-testid="history-correct"]`)
                .count(), 0);
          });

      await t.test('a goal edited from its page: only what changed, with ' +
          'the reason', async () => {
        await pageA.goto(`${server.base}/#/goal/${KR2}`);
        await pageA.click('[data-testid="edit-goal-btn"]');
        await pageA.fill('[data-testid="edit-goal-owner"]', 'carol');
        await pageA.fill('[data-testid="edit-goal-weight"]', '2');
        await pageA.fill('[data-testid="edit-goal-reason"]',
            'Bob moved to the platform team');
        const before = (await server.api('GET', `/goals/${KR2}`)).version;
        await pageA.click('[data-testid="edit-goal-save"]');
        await pageA.waitForSelector('[data-testid="edit-goal-dialog"]',
            {state: 'detached'});
        const ev = pageA.locator('[data-testid="history-event"]' +
            '[data-type="goal.edited"]').first();
        await ev.waitFor();
        assert.match(await ev.textContent(), /bob.*carol/s);
        assert.match(await ev.textContent(), /Bob moved to the platform team/);
        const g = await server.api('GET', `/goals/${KR2}`);
        assert.deepEqual([g.owner, g.weight, g.version], ['carol', 2,
          before + 1]);
        // The title with markup was sent back untouched: not in the change.
        const history = await server.api('GET', `/goals/${KR2}/history`);
        const last = history.events[history.events.length - 1];
        assert.deepEqual(Object.keys(last.changes).sort(), ['owner', 'weight']);
        // Saving with nothing changed appends nothing.
        const head = (await (await fetch(`${server.base}/healthz`)).json())
            .position;
        await pageA.click('[data-testid="edit-goal-btn"]');
        await pageA.click('[data-testid="edit-goal-save"]');
        await pageA.waitForSelector('[data-testid="edit-goal-dialog"]',
            {state: 'detached'});
        assert.equal((await (await fetch(`${server.base}/healthz`)).json())
            .position, head);
      });

      await t.test('a goal dropped with a reason: history and retro say why',
          async () => {
            const goals = (await server.api('GET',
                `/goals?unit=${UNIT}&cycle=${CYCLE}`)).goals;
            const demos = goals.find((x) => x.title === 'Run 20 customer demos');
            await pageA.goto(`${server.base}/#/goal/${demos.id}`);
            await pageA.click('[data-testid="status-btn"]');
            // Only the statuses an active goal may move to are offered.
            assert.deepEqual(await pageA.locator(
                '[data-testid="status-value"] option').evaluateAll((os) =>
              os.map((o) => o.value)),
            ['achieved', 'missed', 'dropped', 'archived', 'draft']);
            await pageA.selectOption('[data-testid="status-value"]', 'dropped');
            await pageA.fill('[data-testid="status-reason"]',
                'Folded into the sign-ups goal');
            await pageA.click('[data-testid="status-save"]');
            await pageA.waitForSelector(
                '[data-testid="goal-status"]:text("dropped")');
            // A dropped goal takes no more check-ins, here as on the board.
            assert.equal(await pageA.locator('[data-testid="checkin-btn"]')
                .count(), 0);
            // Its target can still be corrected there (audited like any
            // edit), but not from the board.
            assert.equal(await pageA.locator('[data-testid="edit-target-btn"]')
                .count(), 1);
            // On the board it is neither behind nor counted as off target,
            // and offers neither a check-in nor a new target.
            await pageB.waitForSelector(`${row(demos.id)}.status-dropped`);
            assert.equal(await pageB.locator(`${row(demos.id)} ` +
                ':is([data-testid="checkin-btn"], ' +
                '[data-testid="edit-target-btn"])').count(), 0);
            assert.equal(await pageB.locator(`${row(demos.id)} ` +
                '[data-testid="goal-pacing"]').count(), 0);
            const summary = await pageB.textContent(
                '[data-testid="board-summary"]');
            const shown = await pageB.locator('.goal-row:not(.status-dropped)' +
                ':not(.status-archived)').count();
            const [on, risk, off] = [...summary.matchAll(
                /(\d+) (?:on target|at risk|off target)/g)].map((x) => +x[1]);
            assert.equal(on + risk + off, shown, summary);
            const ev = pageA.locator('[data-testid="history-event"]' +
                '[data-type="goal.status_changed"]');
            assert.match(await ev.textContent(), /Folded into the sign-ups goal/);
            assert.equal((await server.api('GET', `/goals/${demos.id}`)).status,
                'dropped');
            await pageA.goto(`${server.base}/#/retro?unit=${UNIT}&cycle=${CYCLE}`);
            const item = pageA.locator(`[data-testid="retro-dropped"] ` +
                `[data-testid="retro-goal-${demos.id}"]`);
            await item.waitFor();
            assert.equal(await item.locator('[data-testid="retro-reason"]')
                .textContent(), 'Why: Folded into the sign-ups goal');
            // A running cycle is not offered for closing.
            assert.equal(await pageA.locator('[data-testid="retro-close"]')
                .count(), 0);
          });

      await t.test('the audit trail lists who changed what, when and why',
          async () => {
            await pageA.goto(`${server.base}/#/audit`);
            const list = '[data-testid="audit-list"]';
            await pageA.waitForSelector(`${list} [data-testid="audit-event"]`);
            // Newest first: the last change made (the demos goal dropped),
            // then KR2's owner and weight.
            const rows = pageA.locator(`${list} [data-testid="audit-event"]`);
            assert.equal(await rows.nth(0).getAttribute('data-type'),
                'goal.status_changed');
            assert.equal(await rows.nth(1).getAttribute('data-type'),
                'goal.edited');
            assert.match(await rows.nth(1).textContent(),
                /bob.*carol.*Bob moved to the platform/s);
            // More than a page of check-ins since: a filter that leaves too
            // few reads older pages by itself.
            for (let i = 0; i < 210; ++i) {
              await server.api('POST', `/goals/${KR}/check-ins`, {value: 71});
            }
            await pageA.reload();
            await pageA.waitForSelector(`${list} [data-testid="audit-event"]`);
            assert.equal(await rows.nth(0).getAttribute('data-type'),
                'goal.checked_in');
            // Only target and field edits: the retarget with its reason,
            // named by the goal's title. "Older" clicked while the filter
            // is still reading older pages (each read of events and of
            // goals' titles slowed down) reads the window after, not the
            // same one again.
            const eventsRead = (url) => url.pathname === '/api/v1/events' ||
              url.pathname.startsWith('/api/v1/goals/');
            await pageA.route(eventsRead, async (route) => {
              await sleep(300);
              await route.continue();
            });
            await pageA.selectOption('[data-testid="audit-kind"]', 'edits');
            await pageA.click('[data-testid="audit-older"]');
            await pageA.waitForSelector(`${list} [data-testid="audit-event"]` +
                '[data-type="goal.edited"]', {timeout: 5000});
            await pageA.waitForFunction((sel) => [...document.querySelectorAll(
                sel)].some((el) => el.textContent.includes('budget cut')),
            `${list} [data-testid="audit-event"]`, {timeout: 5000});
            const types = await pageA.locator(`${list} [data-testid=` +
                '"audit-event"]').evaluateAll((els) =>
              els.map((el) => el.dataset.type));
            assert.ok(types.length >= 2 && types.every((x) =>
              x === 'goal.edited'), types.join());
            await pageA.waitForSelector(
                '[data-testid="audit-older"]:not([disabled])',
                {state: 'attached'});
            await pageA.unroute(eventsRead);
            const read = await pageA.locator(`${list} [data-testid=` +
                '"audit-event"]').evaluateAll((els) =>
              els.map((e) => Number(e.dataset.position)));
            assert.ok(read.every((p, i) => i === 0 || p < read[i - 1]),
                `each change once, newest first: ${read.join()}`);
            const retarget = pageA.locator(`${list} [data-testid=` +
                '"audit-event"]', {hasText: 'budget cut'});
            assert.match(await retarget.textContent(),
                /Reach 100 weekly sign-ups.*Target.*budget cut/s);
            // The edits shown, as CSV: one row per field changed.
            const [download] = await Promise.all([
              pageA.waitForEvent('download'),
              pageA.click('[data-testid="audit-csv"]')]);
            assert.match(download.suggestedFilename(),
                /^cairn-audit-\d+-\d+\.csv$/);
            const csv = (await readFile(await download.path(), 'utf8'))
                .split('\r\n');
            assert.equal(csv[0], 'position,at,actor,change,stream,title,' +
                'field,from,to,reason,note');
            const row = csv.find((line) => line.includes('budget cut'));
            assert.ok(row.endsWith(`,Edited,goal-${KR},Reach 100 weekly ` +
                'sign-ups,measure.target,100,80,budget cut,'), row);
            assert.equal(csv[csv.length - 1], '');
            assert.ok(csv.slice(1, -1).every((line) =>
              line.includes(',Edited,goal-')), csv.join('\n'));
            // Text a spreadsheet would run as a formula is defused; quotes,
            // commas and line breaks are quoted; numbers stay numbers.
            assert.deepEqual(await pageA.evaluate(async () => {
              const {csvCell} = await import('/views/audit.js');
              return ['=HYPERLINK("x")', '@SUM(A1)', 'a,"b"', 'two\nlines',
                -5, 'plain'].map(csvCell);
            }), [`"'=HYPERLINK(""x"")"`, `'@SUM(A1)`, '"a,""b"""',
              '"two\nlines"', '-5', 'plain']);
            // Status changes: the drop, with its reason.
            await pageA.selectOption('[data-testid="audit-kind"]', 'status');
            assert.match(await pageA.textContent(list),
                /Run 20 customer demos.*dropped.*Folded into the sign-ups goal/s);
            // Who: nothing by a name that never acted.
            await pageA.fill('[data-testid="audit-who"]', 'nobody-here');
            assert.equal(await pageA.locator(`${list} [data-testid=` +
                '"audit-event"]').count(), 0);
            // Up to a moment: the changes until just before the retarget,
            // newest first, the retarget not among them.
            await pageA.fill('[data-testid="audit-who"]', '');
            await pageA.selectOption('[data-testid="audit-kind"]', 'all');
            // A second before it, in the page's time zone, to the second.
            const localBefore = await pageA.evaluate((at) => {
              const d = new Date(at - 1000);
              const pad = (n) => String(n).padStart(2, '0');
              return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-` +
                `${pad(d.getDate())}T${pad(d.getHours())}:` +
                `${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
            }, retargetAt);
            await pageA.fill('[data-testid="audit-until"]', localBefore);
            await pageA.dispatchEvent('[data-testid="audit-until"]', 'change');
            await pageA.waitForFunction((sel) => /up to/.test(
                document.querySelector(sel).textContent),
            '[data-testid="audit-status"]');
            const edits = (await server.api('GET', `/goals/${KR}/history`))
                .events.filter((e) => e.type === 'goal.edited');
            const positions = await pageA.locator(`${list} [data-testid=` +
                '"audit-event"]').evaluateAll((els) =>
              els.map((e) => Number(e.dataset.position)));
            assert.ok(positions.length > 0);
            assert.ok(positions.every((p, i) => i === 0 ||
              p < positions[i - 1]), 'newest first');
            assert.ok(positions[0] < edits[0].position,
                `${positions[0]} is before the retarget ${edits[0].position}`);
          });

      await t.test('a viewer scoped to a team: its board, live, no write ' +
          'buttons', async () => {
        const {token} = await server.api('POST', '/tokens',
            {name: 'wall-display', role: 'viewer', unit: UNIT});
        // A unit under the team, listed before it.
        await server.api('POST', '/units', {id: 'ads', name: 'Ads',
          kind: 'person', parent: UNIT});
        const viewer = await browser.newContext({viewport: {width: 1280,
          height: 800}});
        t.after(() => viewer.close());
        const page = await viewer.newPage();
        watchErrors(page, consoleErrors);
        await page.goto(`${server.base}/`);
        await page.fill('[data-testid="token-input"]', token);
        await page.click('[data-testid="token-submit"]');
        // It opens the unit it is scoped to, the top of what it sees.
        await page.waitForSelector('[data-testid="board-title"]');
        assert.equal(await page.textContent('[data-testid="board-title"]'),
            'Growth team');
        await page.goto(boardUrl);
        await page.waitForSelector(`[data-testid="goal-${KR}"]`);
        assert.equal(await page.textContent('[data-testid="who"]'),
            `wall-display · viewer · ${UNIT}`);
        for (const button of ['checkin-btn', 'edit-target-btn', 'new-goal']) {
          assert.equal(await page.locator(`[data-testid="${button}"]`).count(),
              0, button);
        }
        // Still live: a check-in made elsewhere shows.
        await waitLive(page);
        await server.api('POST', `/goals/${KR}/check-ins`, {value: 71});
        await waitValue(page, KR, 'current', '71', 5000);
        await page.goto(`${server.base}/#/goal/${KR}`);
        await page.waitForSelector('[data-testid="goal-page-title"]');
        assert.equal(await page.locator('.page-head .head-actions').count(), 0);
        await page.goto(`${server.base}/#/retro?unit=${UNIT}&cycle=${CYCLE}`);
        await page.waitForSelector('[data-testid="retro-notes"]');
        assert.equal(await page.locator('[data-testid="note-add"]').count(), 0);
        await page.goto(`${server.base}/#/tree`);
        await page.waitForSelector('[data-testid="goal-tree"]');
        assert.equal(await page.locator('[data-testid="new-unit"]').count(), 0);
        assert.equal(await page.isVisible('[data-testid="nav-tokens"]'), false);
      });

      await t.test('an admin makes a token, sees its secret once, revokes it',
          async () => {
            await pageA.goto(`${server.base}/#/tokens`);
            await pageA.waitForSelector('[data-testid="token-wall-display"]');
            assert.equal(await pageA.isVisible('[data-testid="nav-tokens"]'),
                true);
            await pageA.click('[data-testid="new-token"]');
            await pageA.fill('[data-testid="new-token-name"]', 'li-wei');
            await pageA.selectOption('[data-testid="new-token-role"]', 'editor');
            await pageA.selectOption('[data-testid="new-token-unit"]', UNIT);
            await pageA.click('[data-testid="new-token-save"]');
            const secret = await pageA.inputValue(
                '[data-testid="token-secret"]');
            const me = async () => fetch(`${server.base}/api/v1/me`,
                {headers: {'Authorization': `Bearer ${secret}`}});
            assert.deepEqual(await (await me()).json(),
                {name: 'li-wei', role: 'editor', unit: UNIT});
            await pageA.click('[data-testid="token-done"]');
            // Its holder watches the team's board.
            const holder = await browser.newContext();
            t.after(() => holder.close());
            const page = await holder.newPage();
            watchErrors(page, consoleErrors);
            await page.goto(boardUrl);
            await page.fill('[data-testid="token-input"]', secret);
            await page.click('[data-testid="token-submit"]');
            await page.waitForSelector(`[data-testid="goal-${KR}"]`);
            await waitLive(page);
            const rowOf = '[data-testid="token-li-wei"]';
            await pageA.waitForSelector(rowOf);
            assert.equal(await pageA.textContent(
                `${rowOf} [data-testid="token-state"]`), 'Active');
            // The secret is not on the page any more, nor in the list.
            assert.equal((await pageA.content()).includes(secret), false);
            await pageA.click(`${rowOf} [data-testid="token-revoke"]`);
            await pageA.click('[data-testid="revoke-token-save"]');
            await pageA.waitForSelector(
                `${rowOf} [data-testid="token-state"]:text("Revoked")`);
            assert.equal((await me()).status, 401);
            // The holder's live board is closed and the page signed out.
            await page.waitForSelector(
                '[data-testid="token-error"]:text("revoked")', {timeout: 5000});
          });

      await t.test('the metrics page: a metric made, a value entered, a ' +
          'goal fed by it', async () => {
        await pageA.goto(`${server.base}/#/metrics`);
        const mrr = '[data-testid="metric-mrr"]';
        await pageA.waitForSelector(mrr);
        assert.equal(await pageA.textContent(
            `${mrr} [data-testid="metric-count"]`), '4');
        assert.match(await pageA.textContent(
            `${mrr} [data-testid="metric-goals"]`), /kr-revenue/);
        await pageA.click('[data-testid="new-metric"]');
        await pageA.fill('[data-testid="new-metric-name"]', 'Net promoter score');
        assert.equal(await pageA.inputValue('[data-testid="new-metric-id"]'),
            'net-promoter-score');
        await pageA.fill('[data-testid="new-metric-unit"]', 'pts');
        await pageA.selectOption('[data-testid="new-metric-aggregate"]', 'avg');
        await pageA.click('[data-testid="new-metric-save"]');
        // The new metric is shown with its (no) values.
        const nps = '[data-testid="metric-net-promoter-score"]';
        await pageA.waitForSelector(`${nps}.selected`);
        await pageA.waitForSelector('[data-testid="metric-panel"]');
        const made = await server.api('GET', '/metrics/net-promoter-score');
        assert.deepEqual([made.name, made.unit, made.aggregate, made.points],
            ['Net promoter score', 'pts', 'avg', []]);
        await pageA.click(`${nps} [data-testid="metric-record"]`);
        await pageA.fill('[data-testid="metric-value"]', '42');
        await pageA.click('[data-testid="metric-value-save"]');
        await pageA.waitForSelector('[data-testid="metric-point"]');
        assert.equal(await pageA.textContent(
            `${nps} [data-testid="metric-count"]`), '1');
        assert.equal(await pageA.locator('[data-testid="metric-chart"]')
            .count(), 1);
        const fed = await server.api('GET', '/metrics/net-promoter-score');
        assert.equal(fed.points.length, 1);
        assert.equal(fed.points[0].value, 42);
        assert.ok(Math.abs(Date.parse(fed.points[0].ts) - Date.now()) < 60000);
        // A goal fed by it from the board's New goal: its value is the
        // metric's, counted as the metric counts.
        await pageA.goto(boardUrl);
        await pageA.click('[data-testid="new-goal"]');
        await pageA.fill('[data-testid="new-goal-title"]',
            'Lift NPS to fifty');
        await pageA.fill('[data-testid="new-goal-target"]', '50');
        await pageA.selectOption('[data-testid="new-goal-metric"]',
            'net-promoter-score');
        assert.equal(await pageA.inputValue('[data-testid="new-goal-unit"]'),
            'pts');
        await pageA.click('[data-testid="new-goal-save"]');
        await pageA.waitForSelector('[data-testid="new-goal-dialog"]',
            {state: 'detached'});
        const g = (await server.api('GET', `/goals?unit=${UNIT}&cycle=${CYCLE}`))
            .goals.find((x) => x.title === 'Lift NPS to fifty');
        assert.ok(g, 'the goal was created');
        assert.deepEqual([g.measure.metric, g.measure.aggregate, g.current],
            ['net-promoter-score', 'avg', 42]);
        const list = await server.api('GET', '/metrics');
        assert.deepEqual(list.metrics.find((m) => m.id === 'net-promoter-score')
            .goals, [g.id]);
      });

      await t.test('a metric of 150,000 values: charted, picked by range, ' +
          'and charted on its goal', async () => {
        // 10 values 200 days ago, then one every 15 s for the last 26 days
        // (inside the cycle), in calls of 10,000.
        await server.api('POST', '/metrics', {id: 'page-views',
          name: 'Page views', aggregate: 'last'});
        const now = Date.now();
        const old = Array.from({length: 10}, (_, i) => ({
          ts: new Date(now - 200 * DAY + i * 60000).toISOString(), value: 5}));
        await server.api('POST', '/metrics/page-views/values', {points: old});
        const N = 150000;
        const first = now - 26 * DAY;
        for (let i = 0; i < N; i += 10000) {
          await server.api('POST', '/metrics/page-views/values', {points:
            Array.from({length: 10000}, (_, k) => ({
              ts: new Date(first + (i + k) * 15000).toISOString(),
              value: (i + k) % 1000}))});
        }
        const chartSpan = async (page, selector) => page.evaluate((sel) => {
          const line = document.querySelector(sel);
          const pts = line.tagName === 'polyline' ?
            line.getAttribute('points').trim().split(/\s+/)
                .map((p) => Number(p.split(',')[1])) :
            line.getAttribute('d').split(/[ML]/).filter(Boolean)
                .map((p) => Number(p.split(',')[1]));
          return {n: pts.length, top: Math.min(...pts),
            bottom: Math.max(...pts)};
        }, selector);
        await pageA.evaluate(() => localStorage.removeItem('cairn.metric-range'));
        await pageA.goto(`${server.base}/#/metrics/page-views`);
        const count = '[data-testid="metric-range-count"]';
        await pageA.waitForSelector('[data-testid="metric-values"]' +
            '[data-range="1y"]:not([data-loading]) [data-testid="metric-chart"]');
        assert.equal(await pageA.textContent(count), ' · 150,010 values');
        // The line is thinned to what the chart's width shows and still
        // reaches the highest and the lowest value (y 12 and 192).
        const line = await chartSpan(pageA,
            '[data-testid="metric-chart"] polyline');
        assert.ok(line.n <= 1002, `${line.n} points drawn`);
        assert.deepEqual([line.top, line.bottom], [12, 192]);
        assert.deepEqual(await pageA.locator('[data-testid="metric-chart"] ' +
            'text.axis').allTextContents().then((a) => a.slice(0, 2)),
        ['0', '999']);
        // The last 30 days leave the old values out, and are kept.
        await pageA.selectOption('[data-testid="metric-range"]', '30d');
        await pageA.waitForSelector('[data-testid="metric-values"]' +
            '[data-range="30d"]:not([data-loading])');
        assert.equal(await pageA.textContent(count), ' · 150,000 values');
        await pageA.reload();
        await pageA.waitForSelector('[data-testid="metric-values"]' +
            '[data-range="30d"]:not([data-loading])');
        // A goal fed by it charts all of them in its cycle, without a dot
        // per value.
        await server.api('POST', '/goals', {id: 'kr-views', kind: 'key_result',
          title: 'Serve 999 page views', unit: UNIT, cycle: CYCLE,
          owner: 'alice', parent: OBJ, measure: {start: 0, target: 999,
            direction: 'increase', metric: 'page-views', aggregate: 'max'}});
        await pageA.goto(`${server.base}/#/goal/kr-views`);
        await pageA.waitForSelector('[data-testid="chart-source"]');
        const path = await chartSpan(pageA, '[data-testid="actual-line"]');
        assert.ok(path.n <= 1003, `${path.n} points drawn`);
        assert.equal(await pageA.locator('[data-testid="progress-chart"] ' +
            'circle').count(), 0);
        assert.equal((await server.api('GET', '/goals/kr-views')).current, 999);
      });

      await t.test('dark theme board', async () => {
        await pageB.emulateMedia({colorScheme: 'dark'});
        await pageB.screenshot({path: path.join(SHOTS, 'board-dark.png'),
          fullPage: true});
        const bg = await pageB.evaluate(() =>
          getComputedStyle(document.body).backgroundColor);
        assert.notEqual(bg, 'rgb(246, 247, 249)');
      });

      await t.test('a phone 320 px wide: no page scrolls sideways',
          async () => {
            const page = await pageOf({viewport: {width: 320, height: 640},
              isMobile: true, hasTouch: true});
            const views = [
              [`#/board?unit=${UNIT}&cycle=${CYCLE}`,
                `[data-testid="goal-${KR}"]`],
              [`#/tree?cycle=${CYCLE}`, '[data-testid="goal-tree"]'],
              [`#/scorecard?cycle=${CYCLE}`, '[data-testid="scorecard-score"]'],
              [`#/goal/${KR}`, '[data-testid="history-event"]'],
              // A funnel: its stages, their conversions, the chart's legend.
              ['#/goal/kr-signings', '[data-testid="stage-conversion"]'],
              ['#/board?unit=erin&cycle=' + CYCLE, '[data-testid="approvals"]'],
              [`#/replay?unit=${UNIT}&cycle=${CYCLE}`,
                '[data-testid="replay-board"][data-as-of]'],
              [`#/retro?unit=${UNIT}&cycle=${CYCLE}`,
                '[data-testid="retarget-row"]'],
              ['#/audit', '[data-testid="audit-event"]'],
              ['#/metrics/mrr', '[data-testid="metric-point"]'],
              ['#/tokens', '[data-testid="tokens"]'],
            ];
            for (const [hash, ready] of views) {
              await page.goto(`${server.base}/${hash}`);
              await page.waitForSelector(ready, {state: 'attached'});
              // What sticks out of the page: the width the page scrolls to,
              // and the first element past the screen's right edge.
              const out = await page.evaluate(() => {
                const vw = document.documentElement.clientWidth;
                const past = [...document.querySelectorAll('body *')].find(
                    (el) => el.getBoundingClientRect().right > vw + 1 &&
                      !el.closest('.table-scroll, dialog'));
                return {width: document.documentElement.scrollWidth, vw,
                  past: past ? `${past.tagName}.${past.className} ` +
                    `"${past.textContent.slice(0, 30)}"` : null};
              });
              assert.equal(out.width, out.vw, `${hash}: ${out.past}`);
            }
            await page.screenshot({path: path.join(SHOTS, 'phone-tokens.png')});
          });

      await t.test('a goal\'s page follows its goal live', async () => {
        await pageB.goto(`${server.base}/#/goal/${KR2}`);
        await pageB.waitForSelector('[data-testid="history-event"]');
        await waitLive(pageB);
        await pageB.evaluate(() => {
          window.__sameDocument = true;
        });
        const t0 = Date.now();
        await server.api('POST', `/goals/${KR2}/check-ins`,
            {value: 4.4, note: 'from another browser'});
        await pageB.waitForFunction(() => [...document.querySelectorAll(
            '[data-testid="history-event"]')].some((e) =>
          /from another browser/.test(e.textContent)), null,
        // Polled by time: animation frames barely run in a page behind.
        {timeout: 5000, polling: 20});
        const elapsed = Date.now() - t0;
        t.diagnostic(`check-in on the goal's page after ${elapsed} ms`);
        assert.ok(elapsed <= 1000, `took ${elapsed} ms`);
        assert.match(await pageB.textContent(
            '[data-testid="goal-value-of-target"]'), /^4\.4%? of /);
        assert.equal(await pageB.evaluate(() => window.__sameDocument), true);
      });

      await t.test('a goal\'s page points the pickers and the menu at its ' +
          'board', async () => {
        await server.api('POST', '/goals', {id: 'obj-company',
          kind: 'objective', title: 'Be the best place to work',
          unit: 'acme', cycle: CYCLE, owner: 'dana'});
        await pageA.goto(boardUrl);
        await pageA.waitForSelector(row(KR));
        assert.equal(await pageA.inputValue('[data-testid="unit-select"]'),
            UNIT);
        await pageA.goto(`${server.base}/#/goal/obj-company`);
        await pageA.waitForSelector('[data-testid="goal-page-title"]');
        assert.equal(await pageA.inputValue('[data-testid="unit-select"]'),
            'acme');
        await pageA.click('#nav a[data-view="board"]');
        await pageA.waitForSelector('[data-testid="board-title"]:text("Acme")');
      });

      await t.test('printed in the light theme without the controls; no ' +
          'motion when less is asked for', async () => {
        const page = await pageOf({viewport: {width: 1280, height: 800},
          colorScheme: 'dark', reducedMotion: 'reduce'});
        await page.goto(`${server.base}/#/retro?unit=${UNIT}&cycle=${CYCLE}`);
        await page.waitForSelector('[data-testid="retarget-row"]');
        const looks = () => page.evaluate(() => ({
          body: getComputedStyle(document.body).backgroundColor,
          text: getComputedStyle(document.body).color,
          header: getComputedStyle(document.querySelector('.topbar')).display,
          buttons: [...document.querySelectorAll('.btn')]
              .filter((b) => b.getClientRects().length).length,
        }));
        const screen = await looks();
        assert.notEqual(screen.body, 'rgb(255, 255, 255)');  // dark
        assert.ok(screen.buttons > 0);
        await page.emulateMedia({media: 'print'});
        assert.deepEqual(await looks(), {body: 'rgb(255, 255, 255)',
          text: 'rgb(21, 24, 29)', header: 'none', buttons: 0});
        await page.emulateMedia({media: 'screen'});
        // A live change flashes its row, unless motion is reduced.
        await page.goto(boardUrl);
        await waitLive(page);
        await server.api('POST', `/goals/${KR2}/check-ins`, {value: 3.9});
        await waitValue(page, KR2, 'current', '3.9', 5000);
        assert.equal(await page.evaluate((sel) => getComputedStyle(
            document.querySelector(sel)).animationName, `${row(KR2)}.flash`),
        'none');
      });

      await t.test('every page and dialog passes axe\'s accessibility ' +
          'rules, light and dark', async () => {
        const axeSource = await readFile(createRequire(import.meta.url)
            .resolve('axe-core/axe.min.js'), 'utf8');
        // axe is injected as a script, which the board's policy refuses.
        const page = await pageOf({viewport: {width: 1280, height: 800},
          bypassCSP: true}, null);
        await page.waitForSelector('[data-testid="token-form"]');
        const audit = async (where) => {
          if (!(await page.evaluate(() => 'axe' in window))) {
            await page.addScriptTag({content: axeSource});
          }
          const found = await page.evaluate(async () =>
            (await window.axe.run(document)).violations.map((v) =>
              `${v.id}: ${v.nodes.slice(0, 3).map((n) => n.target.join(' '))
                  .join(', ')}`));
          assert.deepEqual(found, [], where);
        };
        await audit('the sign-in page');
        await page.evaluate((tk) => localStorage.setItem('cairn.token', tk),
            TOKEN);
        const pages = [
          [`#/board?unit=${UNIT}&cycle=${CYCLE}`, `[data-testid="goal-${KR}"]`,
            ['new-goal', 'checkin-btn']],
          ['#/board?unit=erin&cycle=' + CYCLE, '[data-testid="approvals"]',
            []],
          [`#/tree?cycle=${CYCLE}`, '[data-testid="goal-tree"]',
            ['new-unit', 'new-cycle']],
          [`#/scorecard?cycle=${CYCLE}`, '[data-testid="scorecard-score"]', []],
          [`#/goal/${KR}`, '[data-testid="history-event"]',
            ['edit-target-btn', 'edit-goal-btn', 'status-btn']],
          [`#/replay?unit=${UNIT}&cycle=${CYCLE}`,
            '[data-testid="replay-board"][data-as-of]', []],
          [`#/retro?unit=${UNIT}&cycle=${CYCLE}`,
            '[data-testid="retarget-row"]', ['note-add']],
          ['#/audit', '[data-testid="audit-event"]', []],
          ['#/metrics/mrr', '[data-testid="metric-point"]',
            ['new-metric', 'metric-record']],
          ['#/tokens', '[data-testid="tokens"]', ['new-token']],
        ];
        for (const scheme of ['light', 'dark']) {
          await page.emulateMedia({colorScheme: scheme});
          for (const [hash, ready, dialogs] of pages) {
            await page.goto(`${server.base}/${hash}`);
            await page.waitForSelector(ready, {state: 'attached'});
            await audit(`${hash} (${scheme})`);
            for (const button of dialogs) {
              await page.locator(`[data-testid="${button}"]`).first().click();
              await page.waitForSelector('dialog[open]');
              await audit(`${hash} ${button} (${scheme})`);
              await page.keyboard.press('Escape');
              await page.waitForSelector('dialog[open]', {state: 'detached'});
            }
          }
        }
      });

      await t.test('a check-in reported late counts from the day it was true',
          async () => {
            await pageA.goto(`${server.base}/#/goal/${KR}`);
            await pageA.click('[data-testid="checkin-btn"]');
            const yesterday = await pageA.evaluate(() => {
              const d = new Date(Date.now() - 86400000);
              const pad = (n) => String(n).padStart(2, '0');
              return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-` +
                pad(d.getDate());
            });
            await pageA.fill('[data-testid="checkin-value"]', '33');
            await pageA.fill('[data-testid="checkin-as-of"]', yesterday);
            await pageA.click('[data-testid="checkin-save"]');
            await pageA.waitForSelector('[data-testid="checkin-dialog"]',
                {state: 'detached'});
            const history = await server.api('GET', `/goals/${KR}/history`);
            const last = history.events[history.events.length - 1];
            assert.equal(last.type, 'goal.checked_in');
            assert.equal(last.data.value, 33);
            assert.equal(last.data.at, await pageA.evaluate((day) =>
              new Date(`${day}T23:59:59`).toISOString(), yesterday));
            // Today's later check-ins stay the current value.
            assert.equal((await server.api('GET', `/goals/${KR}`)).current, 71);
          });

      await t.test('a check-in made with the keyboard alone', async () => {
        await pageA.goto(boardUrl);
        await pageA.waitForSelector(`${row(KR)} [data-testid="checkin-btn"]`);
        // Tab from the top of the page to the goal's Check in button.
        await pageA.evaluate(() => document.activeElement?.blur());
        const label = `Check in on ${await pageA.textContent(
            `${row(KR)} [data-testid="goal-title"]`)}`;
        let focused = '';
        for (let i = 0; i < 40 && focused !== label; ++i) {
          await pageA.keyboard.press('Tab');
          focused = await pageA.evaluate(() =>
            document.activeElement?.getAttribute('aria-label') || '');
        }
        assert.equal(focused, label);
        await pageA.keyboard.press('Enter');
        // The dialog takes the focus, on the value.
        await pageA.waitForSelector('dialog[open]');
        assert.equal(await pageA.evaluate(() =>
          document.activeElement?.dataset.testid), 'checkin-value');
        await pageA.keyboard.type('77');
        await pageA.keyboard.press('Enter');
        await pageA.waitForSelector('dialog[open]', {state: 'detached'});
        await waitValue(pageA, KR, 'current', '77', 5000);
        // And gives it back to the button that opened it.
        assert.equal(await pageA.evaluate(() =>
          document.activeElement?.getAttribute('aria-label')), label);
        assert.equal((await server.api('GET', `/goals/${KR}`)).current, 77);
        // On the goal's page, which the save reads again and redraws.
        await pageA.goto(`${server.base}/#/goal/${KR}`);
        await pageA.focus('[data-testid="checkin-btn"]');
        await pageA.keyboard.press('Enter');
        await pageA.waitForSelector('dialog[open]');
        await pageA.keyboard.type('78');
        await pageA.keyboard.press('Enter');
        await pageA.waitForSelector('dialog[open]', {state: 'detached'});
        await pageA.waitForFunction(() => [...document.querySelectorAll(
            '[data-testid="history-event"]')].some((e) =>
          /78/.test(e.textContent)));
        assert.equal(await pageA.evaluate(() =>
          document.activeElement?.dataset.testid), 'checkin-btn');
      });

      await t.test('an empty store: the company, a cycle and a team made ' +
          'in the browser', async () => {
        const empty = new Server(path.join(dataDir, 'empty'), await freePort());
        t.after(() => empty.stop());
        await empty.start();
        const page = await context.newPage();
        watchErrors(page, consoleErrors);
        await page.goto(`${empty.base}/`);
        await page.fill('[data-testid="token-input"]', TOKEN);
        await page.click('[data-testid="token-submit"]');
        await page.waitForSelector('[data-testid="board-empty"]');
        // The first unit: the company at the top, its id from its name.
        await page.click('[data-testid="empty-new-unit"]');
        await page.fill('[data-testid="new-unit-name"]', 'Northwind Träders');
        assert.equal(await page.inputValue('[data-testid="new-unit-id"]'),
            'northwind-traders');
        assert.equal(await page.inputValue('[data-testid="new-unit-kind"]'),
            'company');
        assert.equal(await page.locator('[data-testid="new-unit-parent"]')
            .count(), 0);
        await page.click('[data-testid="new-unit-save"]');
        await page.waitForSelector('[data-testid="new-unit-dialog"]',
            {state: 'detached'});
        await page.waitForSelector('[data-testid="board-empty"]');
        assert.equal(await page.locator('[data-testid="empty-new-unit"]')
            .count(), 0);
        // A cycle whose end is before its start is refused, nothing appended.
        await page.click('[data-testid="empty-new-cycle"]');
        await page.fill('[data-testid="new-cycle-name"]', 'FY 2027');
        assert.equal(await page.inputValue('[data-testid="new-cycle-id"]'),
            'fy-2027');
        assert.equal(await page.inputValue('[data-testid="new-cycle-kind"]'),
            'quarter');
        await page.selectOption('[data-testid="new-cycle-kind"]', 'year');
        await page.fill('[data-testid="new-cycle-start"]', '2027-01-01');
        await page.fill('[data-testid="new-cycle-end"]', '2026-12-31');
        const head = async () =>
          (await (await fetch(`${empty.base}/healthz`)).json()).position;
        const before = await head();
        await page.click('[data-testid="new-cycle-save"]');
        await page.waitForSelector(
            '[data-testid="new-cycle-dialog-error"]:not(:empty)');
        assert.equal(await head(), before);
        await page.fill('[data-testid="new-cycle-end"]', '2027-12-31');
        await page.click('[data-testid="new-cycle-save"]');
        // Both made: the company's board for the new cycle.
        await page.waitForSelector('[data-testid="new-goal"]');
        assert.equal(await page.textContent('[data-testid="board-title"]'),
            'Northwind Träders');
        assert.equal(await page.inputValue('#cycle-select'), 'fy-2027');
        // From the goal tree: a quarter, within the year it lies in unless
        // another is picked, and a department under the company.
        await page.goto(`${empty.base}/#/tree`);
        await page.click('[data-testid="new-cycle"]');
        await page.fill('[data-testid="new-cycle-name"]', 'Q1 2027');
        await page.fill('[data-testid="new-cycle-start"]', '2027-01-01');
        await page.fill('[data-testid="new-cycle-end"]', '2027-03-31');
        assert.equal(await page.inputValue('[data-testid="new-cycle-parent"]'),
            'fy-2027');
        await page.click('[data-testid="new-cycle-save"]');
        await page.waitForSelector('[data-testid="new-cycle-dialog"]',
            {state: 'detached'});
        await page.waitForFunction(() =>
          document.querySelector('#cycle-select')?.value === 'q1-2027');
        await page.click('[data-testid="new-unit"]');
        await page.fill('[data-testid="new-unit-name"]', 'Sales');
        assert.equal(await page.inputValue('[data-testid="new-unit-parent"]'),
            'northwind-traders');
        assert.equal(await page.inputValue('[data-testid="new-unit-kind"]'),
            'department');
        await page.click('[data-testid="new-unit-save"]');
        await page.waitForSelector(
            '[data-testid="tree-northwind-traders"] [data-testid="tree-sales"]');
        // A reorganisation: a division under the company, and sales moved
        // under it and renamed.
        await empty.api('POST', '/units', {id: 'emea', name: 'EMEA',
          kind: 'division', parent: 'northwind-traders'});
        await page.reload();
        await page.click('[data-testid="tree-sales"] > .tree-row ' +
            '[data-testid="unit-edit"]');
        // Not under itself or anything under it.
        const under = await page.locator('[data-testid="edit-unit-parent"] ' +
            'option').evaluateAll((os) => os.map((o) => o.value));
        assert.deepEqual(under.sort(), ['emea', 'northwind-traders']);
        await page.fill('[data-testid="edit-unit-name"]', 'EMEA Sales');
        await page.selectOption('[data-testid="edit-unit-parent"]', 'emea');
        await page.click('[data-testid="edit-unit-save"]');
        await page.waitForSelector(
            '[data-testid="tree-emea"] [data-testid="tree-sales"]');
        assert.match(await page.textContent('[data-testid="tree-sales"]'),
            /EMEA Sales/);
        const moved = await empty.api('GET', '/units/sales');
        assert.deepEqual([moved.name, moved.parent], ['EMEA Sales', 'emea']);
        await empty.api('PATCH', '/units/sales', {name: 'Sales',
          parent: 'northwind-traders'});
        const units = (await empty.api('GET', '/units')).units
            .map((u) => [u.id, u.name, u.kind, u.parent ?? null]);
        assert.deepEqual(units.sort(), [
          ['emea', 'EMEA', 'division', 'northwind-traders'],
          ['northwind-traders', 'Northwind Träders', 'company', null],
          ['sales', 'Sales', 'department', 'northwind-traders']]);
        // An ended cycle is closed from its retrospective; check-ins on its
        // goals are refused after.
        await empty.api('POST', '/cycles', {id: 'q3-2026', name: 'Q3 2026',
          kind: 'quarter', start: '2026-07-01', end: '2026-09-30'});
        await empty.api('POST', '/goals', {id: 'kr-q3', kind: 'key_result',
          title: 'Sign 12 new distributors', unit: 'sales', cycle: 'q3-2026',
          measure: {start: 0, target: 12, direction: 'increase'}});
        await page.goto(`${empty.base}/#/retro?unit=sales&cycle=q3-2026`);
        await page.reload();  // the page reads the cycles at its start
        await page.click('[data-testid="retro-close"]');
        await page.click('[data-testid="close-cycle-save"]');
        await page.waitForSelector('[data-testid="retro-summary"]' +
            ':text("closed: the grades are final")');
        assert.equal(await page.locator('[data-testid="retro-close"]').count(),
            0);
        assert.equal((await empty.api('GET', '/cycles/q3-2026')).closed, true);
        const late = await fetch(`${empty.base}/api/v1/goals/kr-q3/check-ins`,
            {method: 'POST', headers: {'Authorization': `Bearer ${TOKEN}`,
              'Content-Type': 'application/json'}, body: '{"value": 3}'});
        assert.equal(late.status, 409);
        assert.equal((await late.json()).error.code, 'cycle_closed');
        const cycles = (await empty.api('GET', '/cycles')).cycles
            .filter((c) => c.id !== 'q3-2026')
            .map((c) => [c.id, c.name, c.kind, c.start, c.end, c.parent ?? null]);
        assert.deepEqual(cycles.sort(), [
          ['fy-2027', 'FY 2027', 'year', '2027-01-01', '2027-12-31', null],
          ['q1-2027', 'Q1 2027', 'quarter', '2027-01-01', '2027-03-31',
            'fy-2027']]);
        await page.close();
      });

      assert.deepEqual(consoleErrors, []);
    });
