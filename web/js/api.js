// The agent's HTTP API, relative to the page (works behind a path prefix).
// Behind a token (`start --token-file`): the first 401 asks for it once, it is kept for this tab only
// (sessionStorage, gone when the tab closes) and sent as `Authorization: Bearer` on every call. A
// refused token is dropped and asked for again, saying so. Links cannot carry a header, so clicks on
// API links (CSV, JSON, SVG downloads) are fetched with the header and saved from a blob.
import { el } from './dom.js';

const TOKEN_KEY = 'flare-agent-token';
let token = sessionStorage.getItem(TOKEN_KEY);
let asking = null;

/** Shows the token form (one at a time) and resolves once a token was entered. */
function askToken(message) {
  if (asking) return asking;
  asking = new Promise((resolve) => {
    const input = el('input', { id: 'token-input', type: 'password', autocomplete: 'off', spellcheck: 'false', required: true, 'aria-label': 'access token' });
    const form = el(
      'form',
      { id: 'token-prompt', role: 'dialog', 'aria-modal': 'true' },
      el('p', { id: 'token-message' }, message),
      el('label', {}, 'Token ', input),
      el('button', { type: 'submit' }, 'Use token'),
      el('p', { class: 'muted' }, 'Kept for this tab only; sent to this agent and nowhere else.'),
    );
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      const value = input.value.trim();
      if (!value) return;
      token = value;
      sessionStorage.setItem(TOKEN_KEY, value);
      form.remove();
      asking = null;
      resolve();
    });
    document.body.append(form);
    input.focus();
  });
  return asking;
}

/** fetch() with the token; on 401 asks for it (again) and retries. */
export async function apiFetch(path, init = {}) {
  for (;;) {
    const used = token;
    const headers = { ...(init.headers ?? {}) };
    if (used) headers.authorization = `Bearer ${used}`;
    const res = await fetch(path, { cache: 'no-store', ...init, headers });
    if (res.status !== 401) return res;
    if (token === used) {
      token = null;
      sessionStorage.removeItem(TOKEN_KEY);
    }
    await askToken(
      used
        ? 'The token was refused by the agent (HTTP 401): it is wrong or has changed. Enter the token again.'
        : 'This agent requires an access token (the one it was started with).',
    );
  }
}

function fileNameOf(res, href) {
  const m = /filename="([^"]+)"/.exec(res.headers.get('content-disposition') ?? '');
  const raw = m ? m[1] : href.split('?')[0].split('/').pop();
  return (raw || 'download').replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 120);
}

/** With a token, API links are downloaded through apiFetch (a plain link would get 401). */
export function interceptApiLinks() {
  document.addEventListener('click', (ev) => {
    const a = ev.target instanceof Element ? ev.target.closest('a[href^="api/"]') : null;
    if (!a || !token || ev.defaultPrevented || ev.button !== 0) return;
    ev.preventDefault();
    const href = a.getAttribute('href');
    apiFetch(href)
      .then(async (res) => {
        if (!res.ok) throw new Error(`HTTP ${res.status}`);
        const url = URL.createObjectURL(await res.blob());
        const save = document.createElement('a');
        save.href = url;
        save.download = fileNameOf(res, href);
        document.body.append(save);
        save.click();
        save.remove();
        setTimeout(() => URL.revokeObjectURL(url), 60_000);
      })
      .catch((err) => console.warn(`download failed: ${err.message}`));
  });
}

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

export async function getJson(path) {
  const res = await apiFetch(path, { headers: { accept: 'application/json' } });
  let body = null;
  try {
    body = await res.json();
  } catch {
    /* not JSON */
  }
  if (!res.ok) throw new ApiError(res.status, (body && typeof body.error === 'string' && body.error) || `HTTP ${res.status}`);
  return body;
}

/**
 * One page of the runs matching `filter`, in `sort` order (`key` or `-key`, the API's list columns),
 * sorted and paged by the agent: { runs, total, nextOffset }. The page never holds more than one page.
 */
export async function runsPage(filter, sort, offset, limit) {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(filter)) if (v) params.set(k, v);
  params.set('sort', sort);
  params.set('offset', String(offset));
  params.set('limit', String(limit));
  params.set('total', '1');
  return getJson(`api/v1/runs?${params}`);
}

export const runPath = (id) => `api/v1/runs/${encodeURIComponent(id)}`;
