// tests/browser/stream_bench.mjs — the page under load, for
// bench/bench_dashboard.sh (never a test: it prints, it asserts nothing).
// Headless Chromium on the Decisions view; a stand-in sandbox
// (tests/helpers/ring_events) publishes events; we read how fast the page
// took them and how long its frames were, idle and under load.
//
// Env: GB_URL, GB_CHROMIUM, GB_EV (ring_events), GB_RT (runtime dir),
// GB_N (burst size), GB_PACED (paced count), GB_DELAY_US (pace).
import { chromium } from 'playwright-core';
import { spawn } from 'node:child_process';

const { GB_URL, GB_CHROMIUM, GB_EV, GB_RT } = process.env;
const N = Number(process.env.GB_N || 20000);
const PACED = Number(process.env.GB_PACED || 5000);
const DELAY = Number(process.env.GB_DELAY_US || 2000);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const run = (args) => new Promise((res) => { const p = spawn(GB_EV, args, { stdio: 'ignore' }); p.on('exit', res); });

const browser = await chromium.launch({ executablePath: GB_CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu'] });
const page = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
await page.goto(GB_URL);
await page.keyboard.press('2');
await page.evaluate(() => {
  window.__frames = [];
  let last = performance.now();
  const f = (t) => { window.__frames.push(t - last); last = t; requestAnimationFrame(f); };
  requestAnimationFrame(f);
});
const frames = async () => page.evaluate(() => { const a = window.__frames; window.__frames = []; return a; });
const stats = (a) => {
  const s = [...a].sort((x, y) => x - y);
  const q = (p) => s[Math.min(s.length - 1, Math.floor(s.length * p))] || 0;
  return { n: s.length, p50: q(0.5), p99: q(0.99), max: s[s.length - 1] || 0 };
};
const received = async () => Number((await page.locator('#stream-count').textContent().catch(() => '0')).split(' ')[0]) || 0;
const fmt = (s) => `p50 ${s.p50.toFixed(1)} ms, p99 ${s.p99.toFixed(1)} ms, max ${s.max.toFixed(1)} ms (${s.n} frames)`;

await sleep(2000);
await frames();
await sleep(3000);
const idle = stats(await frames());
console.log(`idle: frame interval ${fmt(idle)}`);

// burst: N events as fast as the ring takes them; the page catches up
const r0 = await received();
let t0 = Date.now();
await run([GB_RT, 'burst', String(N), '0', '--keep']);
for (let i = 0; i < 1200 && (await received()) - r0 < N; i++) await sleep(50);
const burstS = (Date.now() - t0) / 1000, got = (await received()) - r0;
const burst = stats(await frames());
console.log(`burst: ${got} of ${N} events in the page ${burstS.toFixed(2)} s after publishing began (${(got / burstS).toFixed(0)} events/s); frame interval ${fmt(burst)}`);

// GB_PROFILE=1: the page's JavaScript self time by function over the paced run
const cdp = process.env.GB_PROFILE ? await page.context().newCDPSession(page) : null;
let m0 = null;
const metrics = async () => Object.fromEntries((await cdp.send('Performance.getMetrics')).metrics.map((m) => [m.name, m.value]));
if (cdp) {
  await cdp.send('Performance.enable');
  m0 = await metrics();
  await cdp.send('Profiler.enable'); await cdp.send('Profiler.start');
}
// paced: PACED events DELAY µs apart (~1e6/DELAY per second)
const r1 = await received();
t0 = Date.now();
await run([GB_RT, 'paced', String(PACED), String(DELAY), '--keep']);
const pubS = (Date.now() - t0) / 1000;
for (let i = 0; i < 600 && (await received()) - r1 < PACED; i++) await sleep(50);
const lagS = (Date.now() - t0) / 1000 - pubS;
const paced = stats(await frames());
console.log(`paced: ${(await received()) - r1} of ${PACED} events at ${(PACED / pubS).toFixed(0)}/s published over ${pubS.toFixed(1)} s, the last in the page ${lagS.toFixed(2)} s after; frame interval ${fmt(paced)}`);
if (cdp) {
  const { profile } = await cdp.send('Profiler.stop');
  const self = new Map(), byId = new Map(profile.nodes.map((n) => [n.id, n]));
  profile.samples.forEach((id, i) => {
    const n = byId.get(id), f = n.callFrame;
    const k = `${f.functionName || '(anon)'} ${f.url.split('/').pop()}:${f.lineNumber + 1}`;
    self.set(k, (self.get(k) || 0) + (profile.timeDeltas[i] || 0) / 1000);
  });
  const m1 = await metrics();
  console.log('main thread (s): ' + ['TaskDuration', 'ScriptDuration', 'LayoutDuration', 'RecalcStyleDuration'].map((k) => `${k} ${(m1[k] - m0[k]).toFixed(2)}`).join(', ') + `; layouts ${m1.LayoutCount - m0.LayoutCount}, style recalcs ${m1.RecalcStyleCount - m0.RecalcStyleCount}`);
  console.log('profile (self ms): ' + [...self].sort((a, b) => b[1] - a[1]).slice(0, 12).map(([k, v]) => `${k} ${v.toFixed(0)}`).join(' | '));
}
console.log(`ratios: burst frame p99 ${(burst.p99 / idle.p99).toFixed(2)}x idle, max ${(burst.max / idle.max).toFixed(2)}x; paced frame p99 ${(paced.p99 / idle.p99).toFixed(2)}x idle, max ${(paced.max / idle.max).toFixed(2)}x`);
console.log(`RESULT page_events_per_s=${(got / burstS).toFixed(0)}`);
await browser.close();
