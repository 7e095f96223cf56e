// api.js — the public REST API, with the same bearer token as any client.
//
// The token arrives once in the URL's fragment (#token=..., printed by
// `glassbox dashboard`): fragments are never sent to a server, so no log
// sees it.  It is moved into sessionStorage (this tab only) and the
// fragment is removed from the address bar and history at once; from then
// on it is only ever sent as `Authorization: Bearer`.  EventSource cannot
// send headers, so the live stream is a fetch() of the NDJSON follow route.

const KEY = 'glassbox.token';
const TIMEOUT_MS = 15000; // a request that hangs must not stall the refresh loop
let token = null;

export function takeToken() {
  const frag = new URLSearchParams(location.hash.slice(1));
  const t = frag.get('token');
  if (t) {
    sessionStorage.setItem(KEY, t);
    history.replaceState(null, '', location.pathname + location.search);
  }
  token = sessionStorage.getItem(KEY);
  return token !== null;
}

function headers(extra = {}) {
  return { ...extra, Authorization: `Bearer ${token}` };
}

export class ApiError extends Error {
  constructor(status, body) {
    super((body && (body.detail || body.error)) || `HTTP ${status}`);
    this.status = status;
    this.body = body;
  }
}

async function request(path, opts = {}) {
  const init = { method: opts.method || 'GET', cache: 'no-store', headers: headers(), signal: AbortSignal.timeout(TIMEOUT_MS) };
  if (opts.json !== undefined) {
    init.body = JSON.stringify(opts.json);
    init.headers['Content-Type'] = 'application/json';
  }
  return fetch(path, init);
}

export async function getJSON(path, opts) {
  const r = await request(path, opts);
  const text = await r.text();
  let body = null;
  try { body = text ? JSON.parse(text) : null; } catch { body = { error: 'not_json', detail: text.slice(0, 200) }; }
  if (!r.ok) throw new ApiError(r.status, body);
  return body;
}

export async function getText(path) {
  const r = await request(path);
  if (!r.ok) throw new ApiError(r.status, null);
  return r.text();
}

export const postJSON = (path, json) => getJSON(path, { method: 'POST', json });

export const enc = encodeURIComponent;

// Follow one sandbox's log: onEvent(event, cursor) per event, onLoss(loss)
// per gap.  Reconnects (bounded back-off) from the last cursor, so nothing
// is seen twice.  Returns a function that stops it.
export function follow(name, query, onEvent, onLoss, onState) {
  let cursor = null, stopped = false, ctrl = null, delay = 500;
  async function once() {
    ctrl = new AbortController();
    const q = new URLSearchParams(cursor ? { follow: '1', cursor } : { follow: '1', ...query });
    const r = await fetch(`/v1/sandboxes/${enc(name)}/logs?${q}`, { headers: headers(), cache: 'no-store', signal: ctrl.signal });
    if (!r.ok) throw new ApiError(r.status, null);
    onState(name, 'live');
    delay = 500;
    const reader = r.body.pipeThrough(new TextDecoderStream()).getReader();
    let buf = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buf += value;
      // one pass over the chunk (slicing the rest off per line would copy
      // it once per line)
      let start = 0, nl;
      while ((nl = buf.indexOf('\n', start)) >= 0) {
        const line = buf.slice(start, nl);
        start = nl + 1;
        if (!line) continue; // heartbeat
        let o;
        try { o = JSON.parse(line); } catch { continue; }
        if (o.event) { cursor = o.cursor; onEvent(o.event, o.cursor); }
        else if (o.loss) onLoss(name, o.loss);
      }
      buf = buf.slice(start);
    }
  }
  (async () => {
    while (!stopped) {
      try { await once(); } catch (e) { if (stopped) break; onState(name, `reconnecting (${e.message})`); }
      if (stopped) break;
      await new Promise((res) => setTimeout(res, delay));
      delay = Math.min(delay * 2, 10000);
    }
  })();
  return () => { stopped = true; if (ctrl) ctrl.abort(); };
}
