// stream.js — the live decision stream: every followed sandbox's events,
// filtered in the page, newest first.
//
// Hundreds of events per second must not freeze the page, so arriving
// events are only queued; one requestAnimationFrame callback per frame
// moves the queue into the buffer, the chart's counts and — for those the
// filters keep — a single DocumentFragment prepended to the table, which
// is then cut back to MAX_ROWS.  The buffer is bounded too (MAX_BUFFER,
// oldest dropped), and a filter change re-renders from it.

import { el, clear, fmtTime, rowKeys } from './util.js';
import { summarize } from './events.js';
import { Chart } from './chart.js';

const MAX_ROWS = 200;
const MAX_BUFFER = 20000;

export class Stream {
  constructor(root, openDetail) {
    this.root = root;
    this.tbody = root.querySelector('#events tbody');
    this.form = root.querySelector('#filters');
    this.count = root.querySelector('#stream-count');
    this.chart = new Chart(root.querySelector('#chart'), root.querySelector('#chart-legend'));
    this.buffer = [];
    this.queue = [];
    this.seen = new Set(); // metadata.uid: a reconnect never shows an event twice
    this.paused = false;
    this.scheduled = false;
    this.received = 0;
    this.openDetail = openDetail;
    this.filter = this.readFilter();
    this.form.addEventListener('input', () => { this.filter = this.readFilter(); this.rerender(); });
    this.form.addEventListener('submit', (ev) => ev.preventDefault());
    const pause = root.querySelector('#pause');
    pause.addEventListener('click', () => {
      this.paused = !this.paused;
      pause.setAttribute('aria-pressed', String(this.paused));
      pause.textContent = this.paused ? 'Resume' : 'Pause';
      if (!this.paused) this.rerender();
    });
    this.tbody.addEventListener('click', (ev) => {
      const tr = ev.target.closest('tr');
      if (tr && tr.ev) this.openDetail(tr.ev);
    });
    rowKeys(this.tbody, 'tr', (tr) => tr.ev && this.openDetail(tr.ev));
    const redraw = () => { this.chart.dirty = true; this.schedule(); };
    setInterval(redraw, 5000); // the time axis moves
    new ResizeObserver((entries) => { // narrow, wide: redrawn to size
      const r = entries[entries.length - 1].contentRect;
      this.chart.resize(r.width, r.height);
      this.schedule();
    }).observe(root.querySelector('#chart'));
  }

  setSandboxes(names) {
    const sel = this.form.elements.sandbox;
    const have = new Set([...sel.options].map((o) => o.value));
    for (const n of names) if (!have.has(n)) sel.append(el('option', { value: n }, n));
  }

  readFilter() {
    const f = this.form.elements;
    return {
      sandbox: f.sandbox.value,
      verdict: f.verdict.value,
      cls: f.class.value ? Number(f.class.value) : 0,
      binary: f.binary.value.trim(),
      host: f.host.value.trim().toLowerCase(),
      window: f.time.value ? Number(f.time.value) : 0,
    };
  }

  keep(s, now = Date.now()) {
    const f = this.filter;
    return (!f.sandbox || s.sandbox === f.sandbox) &&
      (!f.verdict || s.verdict === f.verdict || (f.verdict === 'allowed' && s.verdict === 'audit')) &&
      (!f.cls || s.cls === f.cls) &&
      (!f.binary || s.binary.includes(f.binary)) &&
      (!f.host || s.host.includes(f.host) || s.dest.toLowerCase().includes(f.host)) &&
      (!f.window || s.time >= now - f.window);
  }

  push(event) {
    const uid = event.metadata && event.metadata.uid;
    if (uid) {
      if (this.seen.has(uid)) return;
      this.seen.add(uid);
    }
    this.queue.push(event);
    this.schedule();
  }

  schedule() {
    if (this.scheduled) return;
    this.scheduled = true;
    requestAnimationFrame(() => this.flush());
  }

  flush() {
    this.scheduled = false;
    const batch = this.queue;
    this.queue = [];
    const now = Date.now();
    const kept = [];
    for (const ev of batch) {
      const s = summarize(ev);
      this.buffer.push(s);
      this.received++;
      this.chart.add(s.time, s.verdict);
      if (!this.paused && this.keep(s, now)) kept.push(s);
    }
    // rows only for what can stay on screen: the newest MAX_ROWS of the batch
    const frag = document.createDocumentFragment();
    for (let i = kept.length - 1; i >= 0 && frag.childNodes.length < MAX_ROWS; i--) frag.append(this.row(kept[i]));
    if (this.buffer.length > MAX_BUFFER) {
      for (const s of this.buffer.splice(0, this.buffer.length - MAX_BUFFER)) if (s.uid) this.seen.delete(s.uid);
    }
    if (frag.childNodes.length) {
      this.tbody.prepend(frag);
      while (this.tbody.rows.length > MAX_ROWS) this.tbody.lastElementChild.remove();
    }
    this.chart.draw(now);
    this.count.textContent = `${this.received} events received, ${this.tbody.rows.length} shown (newest first, at most ${MAX_ROWS})${this.paused ? ' — paused' : ''}`;
  }

  rerender() {
    clear(this.tbody);
    const frag = document.createDocumentFragment();
    const now = Date.now();
    for (let i = this.buffer.length - 1; i >= 0 && frag.childNodes.length < MAX_ROWS; i--) {
      if (this.keep(this.buffer[i], now)) frag.append(this.row(this.buffer[i]));
    }
    this.tbody.append(frag);
    this.schedule();
  }

  // "2026-12-02 " (hidden when narrow) + "00:21:33.123"
  timeParts(ms) {
    const t = fmtTime(ms);
    return [el('span', { class: 'date' }, t.slice(0, 11)), t.slice(11)];
  }

  row(s) {
    const v = s.verdict;
    const label = v === 'denied' ? '✕ DENY' : v === 'allowed' ? '✓ ALLOW' : v === 'audit' ? '! AUDIT' : '';
    const tr = el('tr', { tabindex: '0', class: v ? `v-${v}` : '', dataset: { uid: s.uid, verdict: v, cls: String(s.cls) },
      'aria-label': `${s.clsName} ${label} ${s.dest} ${s.reason}` },
      el('td', {}, el('time', { datetime: new Date(s.time).toISOString() }, this.timeParts(s.time))),
      el('td', {}, s.sandbox),
      el('td', { class: 'verdict' }, label),
      el('td', {}, s.clsName),
      el('td', { class: 'mono' }, s.binary),
      el('td', { class: 'mono' }, s.dest),
      el('td', { title: s.message }, s.reason));
    tr.ev = s.e;
    return tr;
  }
}
