// diff.js — a line diff (longest common subsequence) for policy
// revisions, rendered as unified-style lines marked "+", "-" and " " (the
// marks carry the meaning; colour only repeats it).

const MAX_LINES = 2000; // O(n*m) table: bounded

export function diffLines(a, b) {
  const x = a.split('\n').slice(0, MAX_LINES), y = b.split('\n').slice(0, MAX_LINES);
  const n = x.length, m = y.length;
  const t = Array.from({ length: n + 1 }, () => new Uint16Array(m + 1));
  for (let i = n - 1; i >= 0; i--)
    for (let j = m - 1; j >= 0; j--)
      t[i][j] = x[i] === y[j] ? t[i + 1][j + 1] + 1 : Math.max(t[i + 1][j], t[i][j + 1]);
  const out = [];
  let i = 0, j = 0;
  while (i < n && j < m) {
    if (x[i] === y[j]) { out.push([' ', x[i]]); i++; j++; }
    else if (t[i + 1][j] >= t[i][j + 1]) out.push(['-', x[i++]]);
    else out.push(['+', y[j++]]);
  }
  while (i < n) out.push(['-', x[i++]]);
  while (j < m) out.push(['+', y[j++]]);
  return out;
}

// Keep CONTEXT unchanged lines around each change; a longer unchanged run
// becomes one "… N unchanged lines" line (marked ' ', so it reads as context).
export function collapse(pairs, context = 3) {
  const near = pairs.map(() => false);
  pairs.forEach(([m], i) => {
    if (m === ' ') return;
    for (let j = Math.max(0, i - context); j <= Math.min(pairs.length - 1, i + context); j++) near[j] = true;
  });
  const out = [];
  for (let i = 0; i < pairs.length;) {
    if (near[i]) { out.push(pairs[i++]); continue; }
    let j = i;
    while (j < pairs.length && !near[j]) j++;
    out.push(['…', `${j - i} unchanged line${j - i === 1 ? '' : 's'}`]);
    i = j;
  }
  return out;
}

// Render diff text (or [mark, line] pairs) into a <pre>, one span a line.
export function renderDiff(pre, lines) {
  while (pre.firstChild) pre.firstChild.remove();
  const pairs = typeof lines === 'string'
    ? lines.split('\n').map((l) => [l.startsWith('+') && !l.startsWith('+++') ? '+' : l.startsWith('-') && !l.startsWith('---') ? '-' : ' ', l, true])
    : lines;
  for (const [mark, text, raw] of pairs) {
    const span = document.createElement('span');
    span.className = mark === '+' ? 'add' : mark === '-' ? 'del' : mark === '…' ? 'gap' : 'ctx';
    span.textContent = (raw ? text : `${mark} ${text}`) + '\n';
    pre.append(span);
  }
}
