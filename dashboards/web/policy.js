// policy.js — a sandbox's policy revisions (author, action, changes) and
// the diff of a chosen revision against the one before it (both YAML
// files fetched by revision, diffed in the page).

import { el, clear, fmtNs, rowKeys } from './util.js';
import { getJSON, enc } from './api.js';
import { diffLines, renderDiff, collapse } from './diff.js';

export class Policy {
  constructor(root) {
    this.sel = root.querySelector('#pol-sandbox');
    this.tbody = root.querySelector('#revisions tbody');
    this.pre = root.querySelector('#rev-diff');
    this.sel.addEventListener('change', () => { this.key = null; this.refresh(); });
    this.tbody.addEventListener('click', (ev) => { const tr = ev.target.closest('tr'); if (tr) this.show(Number(tr.dataset.rev)); });
    rowKeys(this.tbody, 'tr', (tr) => this.show(Number(tr.dataset.rev)));
  }

  setSandboxes(list) {
    const names = list.filter((s) => s.state === 'running').map((s) => s.name);
    const cur = this.sel.value;
    const have = [...this.sel.options].map((o) => o.value);
    if (have.join() !== names.join()) {
      clear(this.sel);
      for (const n of names) this.sel.append(el('option', { value: n }, n));
      if (names.includes(cur)) this.sel.value = cur;
    }
  }

  async refresh() {
    const name = this.sel.value;
    if (!name) { clear(this.tbody); return; }
    const d = await getJSON(`/v1/sandboxes/${enc(name)}/policy/revisions`);
    const revs = d.revisions || [];
    const key = name + JSON.stringify(revs.map((r) => r.sha256));
    if (key === this.key) return;
    this.key = key;
    clear(this.tbody);
    for (const r of [...revs].reverse()) {
      this.tbody.append(el('tr', { tabindex: '0', dataset: { rev: String(r.revision) } },
        el('th', { scope: 'row' }, `rev ${r.revision}`),
        el('td', {}, fmtNs(r.time_ns)),
        el('td', {}, r.action),
        el('td', {}, r.author),
        el('td', { class: 'mono', title: r.sha256 }, String(r.sha256).slice(0, 12)),
        el('td', {}, r.changes || '')));
    }
  }

  async show(rev) {
    const name = this.sel.value;
    const get = (n) => getJSON(`/v1/sandboxes/${enc(name)}/policy?revision=${n}`).then((x) => x.yaml).catch(() => '');
    const [now, before] = await Promise.all([get(rev), rev > 1 ? get(rev - 1) : Promise.resolve('')]);
    this.pre.setAttribute('aria-label', `Revision ${rev} against ${rev - 1}`);
    renderDiff(this.pre, collapse(diffLines(before, now)));
    this.pre.focus();
  }
}
