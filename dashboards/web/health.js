// health.js — sink delivery (sent, failed, retried, lag) and loss, from
// the Prometheus text at /metrics (the same numbers Grafana sees).

import { el, clear } from './util.js';
import { getText } from './api.js';

// "name{a="x",b="y"} 12" lines -> [{name, labels, value}]
export function parseMetrics(text) {
  const out = [];
  for (const line of text.split('\n')) {
    if (!line || line[0] === '#') continue;
    const m = line.match(/^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)/);
    if (!m) continue;
    const labels = {};
    if (m[3]) for (const lm of m[3].matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[lm[1]] = lm[2].replace(/\\(.)/g, '$1');
    out.push({ name: m[1], labels, value: Number(m[4]) });
  }
  return out;
}

export class Health {
  constructor(root) {
    this.tbody = root.querySelector('#sinks tbody');
    this.dl = root.querySelector('#loss');
  }

  async refresh() {
    const ms = parseMetrics(await getText('/metrics'));
    const sinks = new Map();
    const sum = (name, pred = () => true) => ms.filter((m) => m.name === name && pred(m)).reduce((a, m) => a + m.value, 0);
    for (const m of ms) {
      const s = m.labels.sink;
      if (!s || !m.name.startsWith('glassbox_sink_')) continue;
      if (!sinks.has(s)) sinks.set(s, {});
      sinks.get(s)[m.name.replace('glassbox_sink_', '')] = m.value;
    }
    clear(this.tbody);
    if (!sinks.size) this.tbody.append(el('tr', {}, el('td', { colspan: 5 }, 'No sinks configured (the journal is the only copy).')));
    for (const [name, v] of sinks) {
      const bad = (v.failed_total || 0) > 0;
      this.tbody.append(el('tr', { class: bad ? 'bad' : '' },
        el('th', { scope: 'row' }, name),
        el('td', {}, v.sent_total ?? 0),
        el('td', {}, bad ? `⚠ ${v.failed_total}` : '0'),
        el('td', {}, v.retried_total ?? 0),
        el('td', {}, v.lag_bytes ?? 0)));
    }
    clear(this.dl);
    const facts = [
      ['Ring records lost', sum('glassbox_ring_records_lost_total')],
      ['LOSS events journaled', sum('glassbox_loss_events_total')],
      ['Exporter errors', sum('glassbox_exporter_errors_total')],
      ['Rings attached', sum('glassbox_rings_attached')],
      ['Journal bytes', sum('glassbox_journal_bytes')],
      ['Follow streams', sum('glassbox_api_follow_streams')],
    ];
    for (const [k, v] of facts) this.dl.append(el('dt', {}, k), el('dd', { class: v && k.includes('lost') ? 'bad' : '' }, v && /lost|LOSS|errors/.test(k) ? `⚠ ${v}` : String(v)));
    const byCause = ms.filter((m) => m.name === 'glassbox_loss_events_total' && m.value > 0);
    for (const m of byCause) this.dl.append(el('dt', {}, `Loss in ${m.labels.sandbox || '?'} (${m.labels.cause || '?'})`), el('dd', { class: 'bad' }, `⚠ ${m.value}`));
  }
}
