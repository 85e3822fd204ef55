// The agent's HTTP API, relative to the page (works behind a path prefix).

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

export async function getJson(path) {
  const res = await fetch(path, { headers: { accept: 'application/json' }, cache: 'no-store' });
  let body = null;
  try {
    body = await res.json();
  } catch {
    /* not JSON */
  }
  if (!res.ok) throw new ApiError(res.status, (body && typeof body.error === 'string' && body.error) || `HTTP ${res.status}`);
  return body;
}

const MAX_RUNS = 20000;

/** Every run matching the filter (the page sorts and paginates them itself). */
export async function allRuns(filter) {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(filter)) if (v) params.set(k, v);
  params.set('limit', '1000');
  const runs = [];
  let cursor = null;
  do {
    if (cursor) params.set('cursor', cursor);
    const page = await getJson(`api/v1/runs?${params}`);
    runs.push(...page.runs);
    cursor = page.nextCursor;
  } while (cursor && runs.length < MAX_RUNS);
  return runs;
}

export const runPath = (id) => `api/v1/runs/${encodeURIComponent(id)}`;
