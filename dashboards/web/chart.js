// chart.js — decisions over time by verdict, drawn by hand on a canvas.
// Readable without colour: allowed is a solid line with round marks,
// denied a dashed line with square marks, and the legend says both in
// words with the totals.

const BUCKET_MS = 10000;
const BUCKETS = 60; // ten minutes
const SERIES = [
  { key: 'allowed', label: 'allowed', mark: '●', dash: [], color: '#1b6e3a' },
  { key: 'denied', label: 'denied', mark: '■', dash: [6, 4], color: '#b3261e' },
];

export class Chart {
  constructor(canvas, legend) {
    this.canvas = canvas;
    this.legend = legend;
    this.counts = new Map(); // bucket index -> {allowed, denied}
    this.totals = { allowed: 0, denied: 0 };
    this.dirty = true;
  }

  // the canvas's CSS size (the stream's ResizeObserver)
  resize(w, h) {
    this.w = w;
    this.h = h;
    this.dirty = true;
  }

  add(timeMs, verdict) {
    const v = verdict === 'audit' ? 'allowed' : verdict;
    if (v !== 'allowed' && v !== 'denied') return;
    const b = Math.floor(timeMs / BUCKET_MS);
    let c = this.counts.get(b);
    if (!c) { c = { allowed: 0, denied: 0 }; this.counts.set(b, c); }
    c[v]++;
    this.totals[v]++;
    this.dirty = true;
  }

  draw(nowMs = Date.now()) {
    if (!this.dirty) return;
    this.dirty = false;
    const cv = this.canvas;
    const dpr = window.devicePixelRatio || 1;
    // the size comes from resize(), never read here: reading layout after
    // the stream's rows were added would force a layout of the whole page
    // every frame
    const w = Math.max(200, this.w || 0), h = Math.max(100, this.h || 0);
    if (cv.width !== Math.round(w * dpr) || cv.height !== Math.round(h * dpr)) {
      cv.width = Math.round(w * dpr);
      cv.height = Math.round(h * dpr);
    }
    const g = cv.getContext('2d');
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    g.clearRect(0, 0, w, h);
    const last = Math.floor(nowMs / BUCKET_MS);
    const first = last - BUCKETS + 1;
    for (const b of this.counts.keys()) if (b < first - BUCKETS) this.counts.delete(b); // bounded
    let max = 1;
    for (let b = first; b <= last; b++) {
      const c = this.counts.get(b);
      if (c) max = Math.max(max, c.allowed, c.denied);
    }
    const L = 44, R = 8, T = 8, B = 22;
    const x = (i) => L + (i / (BUCKETS - 1)) * (w - L - R);
    const y = (n) => T + (1 - n / max) * (h - T - B);
    g.strokeStyle = '#888';
    // read once: a style lookup per frame would force a style pass after
    // every batch of rows
    if (!this.ink) this.ink = getComputedStyle(cv).color || '#222';
    g.fillStyle = this.ink;
    g.lineWidth = 1;
    g.font = '11px system-ui, sans-serif';
    g.beginPath();
    g.moveTo(L, T); g.lineTo(L, h - B); g.lineTo(w - R, h - B);
    g.stroke();
    g.textAlign = 'right';
    g.fillText(String(max), L - 4, T + 8);
    g.fillText('0', L - 4, h - B);
    g.textAlign = 'left';
    g.fillText('−10 min', L, h - 6);
    g.textAlign = 'right';
    g.fillText('now (per 10 s)', w - R, h - 6);
    for (const s of SERIES) {
      g.strokeStyle = s.color;
      g.fillStyle = s.color;
      g.setLineDash(s.dash);
      g.lineWidth = 2;
      g.beginPath();
      for (let i = 0; i < BUCKETS; i++) {
        const c = this.counts.get(first + i);
        const px = x(i), py = y(c ? c[s.key] : 0);
        if (i === 0) g.moveTo(px, py); else g.lineTo(px, py);
      }
      g.stroke();
      g.setLineDash([]);
      for (let i = 0; i < BUCKETS; i++) {
        const c = this.counts.get(first + i);
        if (!c || !c[s.key]) continue;
        const px = x(i), py = y(c[s.key]);
        g.beginPath();
        if (s.key === 'allowed') g.arc(px, py, 3, 0, 2 * Math.PI);
        else g.rect(px - 3, py - 3, 6, 6);
        g.fill();
      }
    }
    this.legend.textContent = SERIES.map((s) => `${s.mark} ${s.dash.length ? 'dashed' : 'solid'}: ${s.label} ${this.totals[s.key]}`).join('   ·   ');
    this.canvas.setAttribute('aria-label', `Decisions per 10 seconds over the last 10 minutes: ${this.totals.allowed} allowed, ${this.totals.denied} denied in total`);
  }
}
