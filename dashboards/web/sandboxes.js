// sandboxes.js — the sandboxes, their enforcement posture and policy
// revision.  The list is /v1/sandboxes; the posture is each sandbox's
// latest LIFECYCLE start event (unmapped.posture), read once per sandbox
// run (its uid changes with a new run); limits hit are its
// resource_limit findings.

import { el, clear } from './util.js';
import { getJSON, enc } from './api.js';

const runKey = (s) => `${s.name}:${s.supervisor_pid || 0}`;

export class Sandboxes {
  constructor(root) {
    this.tbody = root.querySelector('#sandboxes tbody');
    this.posture = new Map(); // "name:supervisor pid" (one run) -> {layers, abi, seccomp, runAs, limits}
    this.list = [];
  }

  async refresh() {
    const d = await getJSON('/v1/sandboxes');
    this.list = d.sandboxes || [];
    await Promise.all(this.list.filter((s) => s.state === 'running' && !this.posture.has(runKey(s))).map((s) => this.loadPosture(s)));
    this.render();
    return this.list;
  }

  async loadPosture(s) {
    const name = s.name;
    const p = { layers: [], abi: '', seccomp: '', runAs: '', limits: [] };
    try {
      const lc = await getJSON(`/v1/sandboxes/${enc(name)}/logs?class=6002&limit=1000`);
      const started = (lc.events || []).filter((e) => e.activity_id === 3).pop();
      const po = started && started.unmapped && started.unmapped.posture;
      if (po) {
        p.layers = po.layers || [];
        p.abi = po.landlock_abi !== undefined ? String(po.landlock_abi) : 'none';
        p.seccomp = po.seccomp_mode || '';
        p.runAs = po.uid !== undefined ? `${po.uid}:${po.gid}` : '';
      }
      const fi = await getJSON(`/v1/sandboxes/${enc(name)}/logs?class=2004&limit=100`);
      p.limits = (fi.events || []).filter((e) => e.status_detail === 'resource_limit').map((e) => e.message);
    } catch (e) {
      p.error = e.message;
    }
    this.posture.set(runKey(s), p);
  }

  render() {
    clear(this.tbody);
    if (!this.list.length) {
      this.tbody.append(el('tr', {}, el('td', { colspan: 9 }, 'No sandboxes. Start one with glassbox run.')));
      return;
    }
    for (const s of this.list) {
      const p = this.posture.get(runKey(s)) || { layers: [], limits: [] };
      const rev = s.policy ? `rev ${s.policy.revision}` : '—';
      this.tbody.append(el('tr', { tabindex: '0', dataset: { name: s.name } },
        el('th', { scope: 'row' }, s.name),
        el('td', { class: `state-${s.state}` }, s.state === 'running' ? `● running (pid ${s.supervisor_pid})` : `○ ${s.state}`),
        el('td', { class: 'revision', title: s.policy ? s.policy.sha256 : '' }, rev),
        el('td', {}, `✓ ${s.decisions ? s.decisions.allowed : 0} allowed · ✕ ${s.decisions ? s.decisions.denied : 0} denied`),
        el('td', {}, p.layers.length ? p.layers.join(', ') : (p.error ? `unknown (${p.error})` : '—')),
        el('td', {}, p.abi || '—'),
        el('td', {}, p.seccomp || '—'),
        el('td', { class: 'mono' }, p.runAs || '—'),
        el('td', {}, p.limits.length ? p.limits.join('; ') : 'none')));
    }
  }
}
