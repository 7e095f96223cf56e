// app.js — the dashboard's entry: the token, the views (tabs), the keys,
// the event detail, and the loop that keeps the lists current.  Only the
// public API is used, with the same bearer token as any other client.

import { takeToken, follow, getJSON } from './api.js';
import { el, clear, fmtTime } from './util.js';
import { summarize } from './events.js';
import { Stream } from './stream.js';
import { Sandboxes } from './sandboxes.js';
import { Advisor } from './advisor.js';
import { Policy } from './policy.js';
import { Health } from './health.js';

const POLL_MS = 2000;
const MAX_FOLLOWS = 4; // a browser has ~6 connections per host: leave room for the rest
const HISTORY = '30m';  // what a new follow starts with

const status = document.getElementById('status');
const views = [...document.querySelectorAll('[role=tab]')];
const main = document.getElementById('main');
const detail = document.getElementById('detail');

function setStatus(text) { status.textContent = text; }

function show(view, focus = true) {
  for (const t of views) {
    const on = t.dataset.view === view;
    t.setAttribute('aria-selected', String(on));
    t.tabIndex = on ? 0 : -1;
    document.getElementById(t.getAttribute('aria-controls')).hidden = !on;
  }
  sessionStorage.setItem('glassbox.view', view);
  if (focus) {
    const panel = document.getElementById(`view-${view}`);
    // the list first (not a filter: a focused select would take the digit keys)
    const first = panel.querySelector('tbody tr[tabindex]') || panel.querySelector('.cards .head');
    (first || main).focus();
  }
  current = view;
  tick();
}
let current = sessionStorage.getItem('glassbox.view') || 'sandboxes';

function openDetail(ev) {
  const s = summarize(ev);
  const facts = document.getElementById('detail-facts');
  clear(facts);
  for (const [k, v] of [['time', fmtTime(s.time)], ['sandbox', s.sandbox], ['class', `${ev.class_name || s.clsName} (${ev.class_uid})`],
    ['verdict', s.verdict || '—'], ['binary', s.binary || '—'], ['destination', s.dest || '—'], ['reason', s.reason || '—'],
    ['message', s.message], ['uid', s.uid]])
    facts.append(el('dt', {}, k), el('dd', {}, v));
  document.getElementById('detail-json').textContent = JSON.stringify(ev, null, 2);
  document.getElementById('detail-title').textContent = `${s.clsName} event ${s.uid}`;
  detail.returnFocus = document.activeElement;
  detail.showModal();
  document.getElementById('detail-json').focus();
}
document.getElementById('detail-close').addEventListener('click', () => detail.close());
detail.addEventListener('close', () => { if (detail.returnFocus) detail.returnFocus.focus(); });

const stream = new Stream(document.getElementById('view-decisions'), openDetail);
const sandboxes = new Sandboxes(document.getElementById('view-sandboxes'));
const policy = new Policy(document.getElementById('view-policy'));
const health = new Health(document.getElementById('view-health'));
const advisor = new Advisor(document.getElementById('view-advisor'), () => tick(true));

const follows = new Map(); // sandbox -> stop()
const streamState = new Map();
function followState(name, st) {
  streamState.set(name, st);
  const live = [...streamState.values()].filter((x) => x === 'live').length;
  setStatus(`connected: ${live} of ${streamState.size} stream${streamState.size === 1 ? '' : 's'} live`);
}
function onLoss(name, loss) {
  stream.push({ class_uid: 1008, time: Date.now(), message: `loss in ${name}: ${JSON.stringify(loss)}`, status_detail: loss.reason || 'loss', metadata: { log_name: name } });
}

// Follow the running sandboxes first, then recently stopped ones still
// listed, at most MAX_FOLLOWS; a sandbox that left the list frees its slot
// (its events stay in the stream's buffer).
function syncFollows(list) {
  const want = [...list.filter((s) => s.state === 'running'), ...list.filter((s) => s.state !== 'running')]
    .map((s) => s.name).slice(0, MAX_FOLLOWS);
  for (const [n, stop] of follows) if (!want.includes(n)) { stop(); follows.delete(n); streamState.delete(n); }
  for (const n of want) if (!follows.has(n)) follows.set(n, follow(n, { since: HISTORY }, (e) => stream.push(e), onLoss, followState));
  stream.setSandboxes(list.map((s) => s.name));
}

let ticking = false;
async function tick(all = false) {
  if (ticking) return;
  ticking = true;
  try {
    const list = await sandboxes.refresh();
    syncFollows(list);
    policy.setSandboxes(list);
    const jobs = [];
    if (all || current === 'advisor') jobs.push(advisor.refresh(list));
    if (all || current === 'policy') jobs.push(policy.refresh());
    if (all || current === 'health') jobs.push(health.refresh());
    await Promise.all(jobs);
    if (!follows.size) setStatus('connected: no running sandbox');
  } catch (e) {
    setStatus(e.status === 401 || e.status === 403 ? `not authorised (${e.status}): open the URL glassbox dashboard prints` : `API unreachable: ${e.message}`);
  } finally {
    ticking = false;
  }
}

// keys: 1-5 views (not while typing), / filters, Esc closes the detail or
// leaves a field
document.addEventListener('keydown', (ev) => {
  const typing = ev.target.matches('input, select, textarea');
  if (typing && ev.key === 'Escape' && !detail.open) { // out of a field: back to the view's list
    ev.preventDefault();
    const panel = document.getElementById(`view-${current}`);
    (panel.querySelector('tbody tr[tabindex]') || panel.querySelector('.cards .head') || main).focus();
    return;
  }
  if (ev.altKey || ev.ctrlKey || ev.metaKey || typing) return;
  const tab = views.find((t) => t.dataset.key === ev.key);
  if (tab && !detail.open) { ev.preventDefault(); show(tab.dataset.view); return; }
  if (ev.key === '/' && !detail.open) {
    ev.preventDefault();
    show('decisions', false);
    document.querySelector('#filters input[name=binary]').focus();
  }
});
// the tab list: arrows move between tabs (WAI-ARIA tabs pattern)
document.querySelector('[role=tablist]').addEventListener('keydown', (ev) => {
  const i = views.indexOf(document.activeElement);
  if (i < 0 || (ev.key !== 'ArrowRight' && ev.key !== 'ArrowLeft')) return;
  const t = views[(i + (ev.key === 'ArrowRight' ? 1 : views.length - 1)) % views.length];
  t.focus();
  show(t.dataset.view, false);
});
for (const t of views) t.addEventListener('click', () => show(t.dataset.view, false));

if (!takeToken()) {
  setStatus('no token');
  document.getElementById('login').showModal();
} else {
  show(views.some((t) => t.dataset.view === current) ? current : 'sandboxes', false);
  getJSON('/v1/health').then((h) => { document.title = `glassbox ${h.version}`; }).catch(() => {});
  setInterval(() => tick(), POLL_MS);
}
