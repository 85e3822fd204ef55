// Tiny DOM helpers. Every string becomes a text node: labels and names are untrusted, and nothing
// from the API is ever parsed as HTML.

/** el('td', { class: 'num' }, 'text', childNode, …) */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') node.addEventListener(k.slice(2), v);
    else if (k === 'href') node.setAttribute('href', safeHref(String(v)));
    else node.setAttribute(k, String(v));
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

/** Only same-origin relative links and fragments: a label can never become a javascript: URL. */
function safeHref(href) {
  return /^(#|\/|\.\/|api\/)/.test(href) && !/^\/\//.test(href) ? href : '#';
}

export function clear(node) {
  while (node.firstChild) node.removeChild(node.firstChild);
  return node;
}

export function fmt(v, digits = 0) {
  if (v === null || v === undefined || typeof v !== 'number' || !Number.isFinite(v)) return '—';
  return v.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

export function fmtDuration(seconds) {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return '—';
  const s = Math.max(0, seconds);
  if (s < 60) return `${s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${Math.floor(s % 60)} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

export function fmtTime(wallMs) {
  return wallMs ? new Date(wallMs).toLocaleString() : '—';
}

export function statusCell(status) {
  return el('span', { class: `status-${String(status).replace(/[^a-z]/g, '')}` }, status);
}

/** Elapsed against a limit as a small bar (red once over). */
export function limitBar(elapsedSeconds, limitSeconds) {
  if (!limitSeconds) return el('span', {}, `${fmtDuration(elapsedSeconds)} (no limit)`);
  const share = elapsedSeconds / limitSeconds;
  const bar = el('span', { class: share > 1 ? 'bar over' : 'bar' }, el('span', { style: `width:${Math.min(100, share * 100).toFixed(1)}%` }));
  return el('span', {}, bar, `${fmtDuration(elapsedSeconds)} / ${fmtDuration(limitSeconds)}`);
}
