// advisor.js — the policy advisor's proposals: the rule, its diff against
// the running policy, its risk findings, approve / reject.
//
// Approving is two steps (Approve, then Confirm) so a stray Enter never
// widens a policy; each step is a real button, so the keyboard reaches it
// with Tab or by the list's arrows + Enter.  The review token sent is the
// one shown with the proposal: when the policy moved since, the API says
// stale_token and the refreshed proposal is shown for a second look.

import { el, clear, fmtNs, rowKeys } from './util.js';
import { getJSON, postJSON, enc, ApiError } from './api.js';
import { renderDiff } from './diff.js';

export class Advisor {
  constructor(root, onChange) {
    this.ul = root.querySelector('#proposals');
    this.statusSel = root.querySelector('#adv-status');
    this.statusSel.addEventListener('change', () => this.refresh());
    this.onChange = onChange;
    this.sandboxes = [];
    this.open = new Set(); // "name/id" whose details are shown
    rowKeys(this.ul, 'li > .head', (h) => h.click());
  }

  async refresh(sandboxes = this.sandboxes) {
    this.sandboxes = sandboxes;
    if (this.ul.querySelector('.confirm:not([hidden])')) return; // never re-render under a confirm in progress
    const st = this.statusSel.value;
    const rows = [];
    for (const s of sandboxes.filter((x) => x.state === 'running')) {
      try {
        const d = await getJSON(`/v1/sandboxes/${enc(s.name)}/advisor/suggestions${st ? `?status=${st}` : ''}`);
        for (const p of d.suggestions || []) rows.push({ sandbox: s.name, p });
      } catch (e) {
        if (!(e instanceof ApiError && e.status === 503)) throw e;
      }
    }
    const key = JSON.stringify(rows.map((r) => [r.sandbox, r.p.id, r.p.status, r.p.review_token, r.p.hits]));
    if (key === this.key) return; // unchanged: keep focus where it is
    this.key = key;
    const focused = document.activeElement && this.ul.contains(document.activeElement) ? document.activeElement.dataset.key : null;
    clear(this.ul);
    if (!rows.length) this.ul.append(el('li', { class: 'empty' }, st ? `No ${st} proposals.` : 'No proposals.'));
    for (const r of rows) this.ul.append(this.card(r.sandbox, r.p));
    if (focused) { const f = this.ul.querySelector(`[data-key="${CSS.escape(focused)}"]`); if (f) f.focus(); }
  }

  card(sandbox, p) {
    const k = `${sandbox}/${p.id}`;
    const body = el('div', { class: 'body', id: `prop-${sandbox}-${p.id}`, hidden: !this.open.has(k) });
    const head = el('button', { type: 'button', class: 'head', 'aria-expanded': String(this.open.has(k)), 'aria-controls': body.id, dataset: { key: `h:${k}` } },
      el('span', { class: `status status-${p.status}` }, `[${p.status}]`), ' ',
      `#${p.id} ${sandbox}: ${(p.binaries || []).join(', ')} → ${p.host}:${p.port} (${p.layer || 'L4'}, ${p.hits} hit${p.hits === 1 ? '' : 's'})`,
      p.findings && p.findings.length ? el('span', { class: 'risk' }, ` ⚠ ${p.findings.length} risk finding${p.findings.length > 1 ? 's' : ''}`) : '');
    head.addEventListener('click', () => {
      const show = body.hidden;
      body.hidden = !show;
      head.setAttribute('aria-expanded', String(show));
      if (show) { this.open.add(k); const a = body.querySelector('.approve'); if (a) a.focus(); } else this.open.delete(k);
    });
    body.append(
      el('p', {}, p.rationale || ''),
      el('p', { class: 'note' }, `rule ${p.rule_name || ''}, first seen ${p.first_seen_ns ? fmtNs(p.first_seen_ns) : '?'}, last ${p.last_seen_ns ? fmtNs(p.last_seen_ns) : '?'}${p.decided_by ? `, decided by ${p.decided_by}` : ''}${p.reason ? `, reason: ${p.reason}` : ''}`));
    if (p.findings && p.findings.length) {
      body.append(el('h4', {}, 'Risk findings'),
        el('ul', { class: 'findings' }, p.findings.map((f) => el('li', {}, el('strong', {}, `⚠ ${f.kind}: `), f.reason))));
    }
    if (p.diff) {
      const pre = el('pre', { class: 'diff', tabindex: '0', 'aria-label': 'Diff against the running policy' });
      renderDiff(pre, p.diff);
      body.append(el('h4', {}, 'Diff against the running policy'), pre);
    }
    const msg = el('p', { class: 'msg', role: 'status' });
    if (p.status === 'pending') {
      const approve = el('button', { type: 'button', class: 'approve', dataset: { key: `a:${k}` } }, `Approve #${p.id}`);
      const confirm = el('button', { type: 'button', class: 'confirm', hidden: true, dataset: { key: `c:${k}` } }, `Confirm: add this rule to ${sandbox}'s policy`);
      const cancel = el('button', { type: 'button', class: 'cancel', hidden: true }, 'Cancel');
      const reason = el('input', { type: 'text', class: 'reason', 'aria-label': `Reason to reject #${p.id}`, placeholder: 'reason to reject' });
      const reject = el('button', { type: 'button', class: 'reject' }, `Reject #${p.id}`);
      approve.addEventListener('click', () => { approve.hidden = true; confirm.hidden = false; cancel.hidden = false; confirm.focus(); });
      cancel.addEventListener('click', () => { approve.hidden = false; confirm.hidden = true; cancel.hidden = true; approve.focus(); });
      confirm.addEventListener('click', () => { confirm.hidden = true; cancel.hidden = true; this.act(sandbox, p, 'approve', { token: p.review_token }, msg); });
      reject.addEventListener('click', () => {
        if (!reason.value.trim()) { msg.textContent = 'A rejection needs a reason.'; reason.focus(); return; }
        this.act(sandbox, p, 'reject', { reason: reason.value.trim() }, msg);
      });
      body.append(el('div', { class: 'actions' }, approve, confirm, cancel, reason, reject));
    }
    body.append(msg);
    return el('li', { class: `card status-${p.status}`, dataset: { id: String(p.id), sandbox } }, head, body);
  }

  async act(sandbox, p, what, json, msg) {
    msg.textContent = `${what === 'approve' ? 'Approving' : 'Rejecting'}…`;
    try {
      const d = await postJSON(`/v1/sandboxes/${enc(sandbox)}/advisor/suggestions/${p.id}/${what}`, json);
      msg.textContent = what === 'approve' ? `Approved: ${sandbox} now runs policy revision ${d.revision}.` : 'Rejected.';
      this.announce(msg.textContent);
    } catch (e) {
      msg.textContent = e.body && e.body.error === 'stale_token'
        ? 'The running policy changed since this was shown: review the refreshed proposal.'
        : `Refused: ${e.message}`;
      this.announce(msg.textContent);
    }
    this.key = null;
    await this.onChange();
  }

  announce(text) {
    const s = document.getElementById('notice');
    if (s) s.textContent = text;
  }
}
