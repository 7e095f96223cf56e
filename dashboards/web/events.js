// events.js — what the views read from an OCSF event (docs/ocsf.md).

export const CLASSES = {
  4001: 'NET', 4002: 'HTTP', 2004: 'FINDING', 5019: 'CONFIG', 1007: 'PROC', 6002: 'LIFECYCLE', 1008: 'LOSS',
};

// A decision is a Network OPEN/REFUSE or an HTTP request with an action.
export function verdictOf(e) {
  if (e.class_uid !== 4001 && e.class_uid !== 4002) return '';
  if (e.disposition_id === 15) return 'audit'; // allowed in audit mode, a rule would deny
  if (e.action_id === 1) return 'allowed';
  if (e.action_id === 2) return 'denied';
  return '';
}

export function sandboxOf(e) {
  return (e.metadata && e.metadata.log_name) || (e.device && e.device.container && e.device.container.name) || '';
}

export function binaryOf(e) {
  const p = (e.actor && e.actor.process) || e.process || {};
  return p.path || p.name || '';
}

export function destOf(e) {
  const u = e.http_request && e.http_request.url;
  if (u && u.url_string) return `${e.http_request.http_method || ''} ${u.url_string}`.trim();
  const d = e.dst_endpoint;
  if (!d) return '';
  const h = d.hostname || d.ip || d.name || '';
  return d.port ? `${h}:${d.port}` : h;
}

export function hostOf(e) {
  const d = e.dst_endpoint || {};
  return [d.hostname, d.ip, d.name].filter(Boolean).join(' ');
}

// The fields the stream shows and filters on, computed once per event.
export function summarize(e) {
  return {
    e,
    time: Number(e.time) || 0,
    sandbox: sandboxOf(e),
    cls: e.class_uid,
    clsName: CLASSES[e.class_uid] || String(e.class_uid),
    verdict: verdictOf(e),
    binary: binaryOf(e),
    dest: destOf(e),
    host: hostOf(e).toLowerCase(),
    reason: e.status_detail || '',
    message: e.message || '',
    uid: (e.metadata && e.metadata.uid) || '',
  };
}
