// tests/browser/dashboard.mjs — the dashboard in headless Chromium, driven
// by playwright-core; run by tests/integration/dashboard_browser.sh, which
// starts the daemon and a sandbox whose steps script curls the host named
// in $GB_W/goN when that file appears (status appended to $GB_W/codes).
//
// Env: GB_URL (from `glassbox dashboard`), GB_W, GB_SANDBOX, GB_ART
// (screenshot directory), GB_CHROMIUM.  Exit 0 when every check passed.
import { chromium } from 'playwright-core';
import fs from 'node:fs';
import path from 'node:path';

const { GB_URL, GB_W, GB_SANDBOX, GB_ART, GB_CHROMIUM } = process.env;
const token = GB_URL.split('#token=')[1];
let fails = 0;
function check(name, ok, detail = '') {
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${name}${ok ? '' : `: ${detail}`}`);
  if (!ok) fails++;
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// step N HOST [COUNT]: let the sandbox's curl go (COUNT requests), wait
// (bounded) for it; the status of its first request
async function step(n, host, count = 1) {
  fs.writeFileSync(path.join(GB_W, `go${n}.tmp`), `${host} ${count}\n`);
  fs.renameSync(path.join(GB_W, `go${n}.tmp`), path.join(GB_W, `go${n}`));
  for (let i = 0; i < 1200 && !fs.existsSync(path.join(GB_W, `done${n}`)); i++) await sleep(50);
  const codes = fs.existsSync(path.join(GB_W, 'codes')) ? fs.readFileSync(path.join(GB_W, 'codes'), 'utf8').split('\n') : [];
  return codes[n - 1] || 'none';
}

const browser = await chromium.launch({
  executablePath: GB_CHROMIUM,
  headless: true,
  // root in a test VM: Chromium's own sandbox needs user namespaces it may not get
  args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-extensions'],
  timeout: 60000,
});
const errors = [];
const requested = [];
let page = null;
const pending = new Set();
try {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  page = await ctx.newPage();
  page.setDefaultTimeout(15000);
  page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') errors.push(`console ${m.type()}: ${m.text()}`); });
  page.on('pageerror', (e) => errors.push(`page error: ${e.message}`));
  page.on('request', (r) => { requested.push(r.url()); pending.add(r); });
  page.on('requestfinished', (r) => pending.delete(r));
  page.on('requestfailed', (r) => { if (!/follow=1/.test(r.url())) errors.push(`request failed: ${r.url()} ${r.failure() && r.failure().errorText}`); });

  await page.goto(GB_URL);
  await page.waitForFunction(() => /live/.test(document.getElementById('status').textContent));
  check('the token left the address bar', !page.url().includes(token) && !page.url().includes('#'), page.url());
  check('the token is in sessionStorage', (await page.evaluate(() => sessionStorage.getItem('glassbox.token'))) === token);

  // sandboxes: posture and revision
  const row = page.locator(`#sandboxes tr[data-name="${GB_SANDBOX}"]`);
  await row.waitFor();
  await page.waitForFunction((n) => /landlock|netns/.test(document.querySelector(`#sandboxes tr[data-name="${n}"]`).textContent), GB_SANDBOX);
  const rev1 = await row.locator('.revision').textContent();
  check('sandbox row: running, revision 1, posture layers', /running/.test(await row.textContent()) && rev1 === 'rev 1' && /netns/.test(await row.textContent()), await row.textContent());

  // the decision stream, live: the row must not be there before the curl
  await page.keyboard.press('2');
  const denied = page.locator('#events tbody tr[data-verdict="denied"]', { hasText: 'allowed.test' });
  check('no denial for allowed.test before the curl', (await denied.count()) === 0);
  const t0 = Date.now();
  const code1 = await step(1, 'allowed.test');
  check('step 1: curl denied (403)', code1 === '403', code1);
  await denied.first().waitFor();
  console.log(`info: the denial appeared ${Date.now() - t0} ms after the curl was let go (not asserted)`);
  check('the denied row says so in words', /DENY/.test(await denied.first().textContent()));

  // event detail: its OCSF JSON
  await denied.first().click();
  await page.locator('#detail[open]').waitFor();
  let ev = null;
  try { ev = JSON.parse(await page.locator('#detail-json').textContent()); } catch (e) { check('detail is JSON', false, e.message); }
  // a plain-HTTP curl through the proxy is a forward: HTTP Activity 4002
  // (a CONNECT would be Network Activity 4001)
  check('event detail: the OCSF JSON of the denial', ev && (ev.class_uid === 4001 || ev.class_uid === 4002) && ev.action_id === 2 && ev.dst_endpoint && ev.dst_endpoint.hostname === 'allowed.test' && ev.metadata && ev.metadata.uid.length > 0 && ev.metadata.version === '1.8.0',
    JSON.stringify(ev).slice(0, 300));
  await page.keyboard.press('Escape');
  await page.locator('#detail[open]').waitFor({ state: 'detached' }).catch(() => {});
  check('Escape closes the detail', !(await page.locator('#detail').evaluate((d) => d.open)));
  // a filter: verdict=allowed hides the denial
  await page.selectOption('#filters select[name=verdict]', 'allowed');
  check('filter verdict=allowed hides the denial', (await denied.count()) === 0);
  await page.selectOption('#filters select[name=verdict]', '');
  check('filter cleared: the denial is back', (await denied.count()) > 0);
  fs.mkdirSync(GB_ART, { recursive: true });
  await page.screenshot({ path: path.join(GB_ART, 'dashboard-1280x800.png') });

  // the advisor: approve by mouse, revision changes, the same curl succeeds
  await page.keyboard.press('3');
  const card = page.locator('#proposals li.card', { hasText: 'allowed.test' });
  await card.waitFor();
  await card.locator('.head').click();
  const diff = await card.locator('pre.diff').textContent();
  check('proposal shows its diff (adds allowed.test)', /\+.*allowed\.test/.test(diff), diff.slice(0, 200));
  await page.screenshot({ path: path.join(GB_ART, 'advisor-1280x800.png') });
  await card.locator('.approve').click();
  await card.locator('.confirm').click();
  await page.waitForFunction(() => /revision 2/.test(document.getElementById('notice').textContent));
  await page.keyboard.press('1');
  await page.waitForFunction((n) => document.querySelector(`#sandboxes tr[data-name="${n}"] .revision`).textContent === 'rev 2', GB_SANDBOX);
  check('after approval the revision shown is 2', (await row.locator('.revision').textContent()) === 'rev 2');
  const code2 = await step(2, 'allowed.test');
  check('step 2: the same curl now succeeds (200)', code2 === '200', code2);
  await page.keyboard.press('2');
  await page.locator('#events tbody tr[data-verdict="allowed"]', { hasText: 'allowed.test' }).first().waitFor();
  check('the allowed connection appears in the stream', true);

  // keyboard only: a new denial, approved with keys alone
  const code3 = await step(3, 'other.test');
  check('step 3: curl to other.test denied (403)', code3 === '403', code3);
  await page.keyboard.press('3');
  const card2 = page.locator('#proposals li.card', { hasText: 'other.test' });
  await card2.waitFor();
  await page.keyboard.press('3'); // the view again: focus on its first proposal
  check('keyboard: focus is on the proposal', await card2.locator('.head').evaluate((h) => h === document.activeElement));
  await page.keyboard.press('Enter'); // open it: focus moves to Approve
  check('keyboard: Enter opened it, focus on Approve', await card2.locator('.approve').evaluate((b) => b === document.activeElement));
  await page.keyboard.press('Enter'); // Approve: focus on Confirm
  check('keyboard: Enter asked to confirm', await card2.locator('.confirm').evaluate((b) => b === document.activeElement && !b.hidden));
  await page.keyboard.press('Enter'); // Confirm
  await page.waitForFunction(() => /revision 3/.test(document.getElementById('notice').textContent));
  await page.keyboard.press('1');
  await page.waitForFunction((n) => document.querySelector(`#sandboxes tr[data-name="${n}"] .revision`).textContent === 'rev 3', GB_SANDBOX);
  check('keyboard approval: revision 3 shown', true);
  await page.screenshot({ path: path.join(GB_ART, 'sandboxes-1280x800.png') });
  const code4 = await step(4, 'other.test');
  check('step 4: curl to other.test now succeeds (200)', code4 === '200', code4);

  // load: LOAD denied requests in one burst (two events each: the
  // connection and the request); the page must take them all, cap its rows
  // and stay responsive.  How fast is printed, not asserted.
  await page.keyboard.press('2');
  const LOAD = 400;
  const received = async () => Number((await page.locator('#stream-count').textContent()).split(' ')[0]);
  const r0 = await received();
  const tl = Date.now();
  const code5 = await step(5, 'load.test', LOAD);
  check(`step 5: ${LOAD} requests to load.test denied`, code5 === '403', code5);
  await page.waitForFunction((want) => Number(document.getElementById('stream-count').textContent.split(' ')[0]) >= want, r0 + 2 * LOAD, { timeout: 60000 });
  const dt = (Date.now() - tl) / 1000;
  const got = (await received()) - r0;
  console.log(`info: ${got} events of the burst in the page ${dt.toFixed(2)} s after it was let go (${(got / dt).toFixed(0)} events/s end to end; not asserted)`);
  const rows = await page.locator('#events tbody tr').count();
  check('the stream shows at most 200 rows, newest first', rows === 200 && /load\.test/.test(await page.locator('#events tbody tr').first().textContent()), `${rows} rows`);
  await page.fill('#filters input[name=host]', 'allowed.test');
  check('filtering the full buffer by host finds the early events again', (await page.locator('#events tbody tr', { hasText: 'allowed.test' }).count()) > 0);
  await page.fill('#filters input[name=host]', '');
  await page.keyboard.press('Escape'); // out of the field, back to the list
  await page.keyboard.press('1');
  check('still responsive after the burst: a view key works', await page.locator('#view-sandboxes').isVisible());

  // policy revisions with a diff
  await page.keyboard.press('4');
  const r3 = page.locator('#revisions tr[data-rev="3"]');
  await r3.waitFor();
  await r3.click();
  await page.waitForFunction(() => /other\.test/.test(document.getElementById('rev-diff').textContent));
  const rd = await page.locator('#rev-diff .add').allTextContents();
  check('revision 3 diff adds other.test', rd.some((l) => /other\.test/.test(l)), rd.join('|').slice(0, 200));
  await page.screenshot({ path: path.join(GB_ART, 'policy-1280x800.png') });
  // health
  await page.keyboard.press('5');
  await page.waitForFunction(() => document.querySelectorAll('#loss dt').length > 0);
  check('health shows ring loss figures', /Ring records lost/.test(await page.locator('#loss').textContent()));

  // narrow: usable without sideways scrolling of the page
  await page.keyboard.press('2');
  await page.setViewportSize({ width: 400, height: 800 });
  await sleep(300);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  check('narrow (400 px): no sideways scrolling of the page', overflow <= 1, `${overflow}px too wide`);
  await page.screenshot({ path: path.join(GB_ART, 'dashboard-narrow.png'), fullPage: false });
} catch (e) {
  check('browser run', false, e.stack || String(e));
  if (page) { // what the page looked like, for the reader of the failure
    await page.screenshot({ path: path.join(GB_ART, 'failure.png') }).catch(() => {});
    fs.writeFileSync(path.join(GB_ART, 'failure.html'), await page.content().catch(() => ''));
    console.log(`the page at the failure: ${path.join(GB_ART, 'failure.png')}, failure.html`);
    const sug = await page.evaluate(async (n) => (await fetch(`/v1/sandboxes/${n}/advisor/suggestions`, { headers: { Authorization: `Bearer ${sessionStorage.getItem('glassbox.token')}` } })).text(), GB_SANDBOX).catch((x) => String(x));
    console.log(`last requests: ${requested.slice(-8).join(' ')}; view ${await page.evaluate(() => sessionStorage.getItem('glassbox.view'))}`);
    console.log(`requests unfinished then: ${[...pending].map((r) => r.url()).join(' ')}`);
    console.log(`the advisor's proposals then: ${sug.slice(0, 1500)}`);
  }
} finally {
  await browser.close();
}
check('no console errors or warnings, no page errors', errors.length === 0, errors.join(' | '));
const leaked = requested.filter((u) => u.includes(token));
check(`the token is in no requested URL (${requested.length} requests)`, leaked.length === 0, leaked.join(' '));
console.log(fails ? `${fails} browser check(s) failed` : 'all browser checks passed');
process.exit(fails ? 1 : 0);
