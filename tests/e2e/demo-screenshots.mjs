// Takes the README's screenshots (docs/screenshots/) of the demo company:
// starts `cairn serve --demo` on a temporary store and a free loopback
// port, opens the views in Debian's headless Chromium and saves each.
//
//   CAIRN_BIN=../../build/cairn node demo-screenshots.mjs
import {spawn} from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {chromium} from 'playwright-core';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const CAIRN_BIN = path.resolve(process.env.CAIRN_BIN ||
    path.join(HERE, '../../build/cairn'));
const OUT = path.resolve(HERE, '../../docs/screenshots');
const TOKEN = 'demo-shots-' + Math.random().toString(36).slice(2);

const port = await new Promise((resolve, reject) => {
  const srv = net.createServer();
  srv.on('error', reject);
  srv.listen(0, '127.0.0.1', () => {
    const p = srv.address().port;
    srv.close(() => resolve(p));
  });
});
const base = `http://127.0.0.1:${port}`;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-shots-'));
const server = spawn(CAIRN_BIN, ['serve', '--demo', '--quiet',
  '--data', path.join(dir, 'data'), '--listen', `127.0.0.1:${port}`,
  '--admin-token', TOKEN, '--static', path.resolve(HERE, '../../web-static')],
{stdio: 'inherit'});
let browser = null;
try {
  const deadline = Date.now() + 30000;
  for (;;) {
    try {
      if ((await fetch(`${base}/healthz`)).ok) break;
    } catch { /* not yet listening */ }
    if (Date.now() > deadline) throw new Error('the server did not start');
    await new Promise((r) => setTimeout(r, 100));
  }
  const cycle = (await (await fetch(`${base}/api/v1/goals/kr-csat`,
      {headers: {Authorization: `Bearer ${TOKEN}`}})).json()).cycle;
  browser = await chromium.launch({executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu']});
  const page = await browser.newPage({viewport: {width: 1280, height: 860},
    colorScheme: 'light'});
  await page.goto(`${base}/`);
  await page.evaluate((t) => localStorage.setItem('cairn.token', t), TOKEN);
  const shot = async (hash, file, ready, prepare) => {
    await page.goto(`${base}/${hash}`);
    await page.waitForSelector(ready);
    if (prepare) await prepare();
    await page.waitForTimeout(400);  // transitions
    await page.screenshot({path: path.join(OUT, file), fullPage: true});
    console.log(`${file}: ${hash}`);
  };
  fs.mkdirSync(OUT, {recursive: true});
  await shot(`#/board?unit=support&cycle=${cycle}`, 'board.png',
      '[data-testid="board"] .goal-row');
  await shot(`#/replay?unit=support&cycle=${cycle}`, 'replay-slider.png',
      '[data-testid="replay-board"][data-as-of]', async () => {
        // Three weeks back, what changed in the week before then.
        const at = Date.now() - 21 * 86400000;
        await page.fill('[data-testid="replay-slider"]', String(at));
        await page.selectOption('[data-testid="diff-since"]', 'week');
        await page.waitForSelector('[data-testid="diff"]' +
            `[data-to="${new Date(at).toISOString()}"]:not([data-loading])`,
        {state: 'attached'});
      });
  await shot('#/goal/kr-csat', 'history.png',
      '[data-testid="history-event"]');
  await shot(`#/retro?unit=support&cycle=${cycle}`, 'retro.png',
      '[data-testid="retro"]');
  await shot('#/metrics/cac', 'metrics.png', '[data-testid="metric-chart"]');
} finally {
  if (browser) await browser.close();
  server.kill('SIGTERM');
  await new Promise((r) => server.on('exit', r));
  fs.rmSync(dir, {recursive: true, force: true});
}
