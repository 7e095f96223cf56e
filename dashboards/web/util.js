// util.js — small DOM and formatting helpers shared by the views.

// el('td', {class: 'x'}, 'text', child): an element with attributes and
// children (strings become text nodes: nothing is ever parsed as HTML).
export function el(tag, attrs = {}, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else if (k === 'dataset') Object.assign(e.dataset, v);
    else e.setAttribute(k, v === true ? '' : String(v));
  }
  for (const k of kids.flat()) {
    if (k === undefined || k === null || k === false) continue;
    e.append(k instanceof Node ? k : document.createTextNode(String(k)));
  }
  return e;
}

export function clear(node) {
  while (node.firstChild) node.firstChild.remove();
}

// epoch ms -> "2026-12-02 00:12:03.456" (UTC, as the journal writes times)
export function fmtTime(ms) {
  if (!Number.isFinite(ms)) return '';
  return new Date(ms).toISOString().replace('T', ' ').replace('Z', '');
}

// nanoseconds (as the advisor and revision lists give) -> fmtTime
export function fmtNs(ns) {
  return fmtTime(Number(ns) / 1e6);
}

// Move focus among the rows of a list with the arrow keys, Home and End;
// Enter activates the focused row (onEnter(row)).
export function rowKeys(container, selector, onEnter) {
  container.addEventListener('keydown', (ev) => {
    const rows = [...container.querySelectorAll(selector)];
    const i = rows.indexOf(document.activeElement);
    if (i < 0) return;
    let j = -1;
    if (ev.key === 'ArrowDown') j = Math.min(rows.length - 1, i + 1);
    else if (ev.key === 'ArrowUp') j = Math.max(0, i - 1);
    else if (ev.key === 'Home') j = 0;
    else if (ev.key === 'End') j = rows.length - 1;
    else if (ev.key === 'Enter') { ev.preventDefault(); onEnter(rows[i]); return; }
    if (j >= 0) { ev.preventDefault(); rows[j].focus(); }
  });
}
