// Client side of the agent API, for `runs`/`export --url` and `collect`.
import type { Run, RunFilter, RunSample } from '../core/types.js';
import { runFromJson } from './run-json.js';

const TIMEOUT_MS = 60_000;

/**
 * How long one request may spend waiting on the agent's "busy" answers (503 with Retry-After: its
 * heavy-read thread has a bounded queue, heavy-read-thread.ts) before the client gives up, in total.
 */
export const DEFAULT_MAX_BUSY_WAIT_MS = 300_000;
/** One Retry-After is believed up to this long (a broken header must not stall the CLI for hours). */
const MAX_ONE_WAIT_MS = 60_000;

export interface ClientOptions {
  /** Total wait on 503 + Retry-After per request; 0: no retry. */
  maxBusyWaitMs?: number;
  /** Told before each wait (the CLI prints it on stderr). */
  onBusy?: (what: string, waitMs: number, waitedMs: number) => void;
  /** The sleep between tries (tests give a fast one). */
  sleep?: (ms: number) => Promise<void>;
}

/** The wait a Retry-After header asks for: delay-seconds or an HTTP date (RFC 9110 §10.2.3); null if neither. */
export function retryAfterMs(header: string | null, nowMs = Date.now()): number | null {
  if (header === null) return null;
  const v = header.trim();
  if (/^[0-9]{1,9}$/.test(v)) return Number(v) * 1000;
  const at = Date.parse(v);
  return Number.isFinite(at) ? Math.max(0, at - nowMs) : null;
}

export class AgentClient {
  readonly base: string;
  constructor(url: string, private readonly token?: string, private readonly opts: ClientOptions = {}) {
    const u = new URL(url);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error(`not an http(s) URL: ${url}`);
    this.base = u.href.replace(/\/+$/, '');
  }

  async getJson(path: string): Promise<unknown> {
    return JSON.parse(await this.getText(path, 'application/json')) as unknown;
  }

  /**
   * One GET; a 503 with Retry-After (the agent's heavy reads are busy) is tried again after the wait
   * it asks for, up to maxBusyWaitMs in all, each wait told to onBusy. Any other failure: thrown.
   */
  async getText(path: string, accept = 'text/csv'): Promise<string> {
    const headers: Record<string, string> = { accept };
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    const maxWaitMs = this.opts.maxBusyWaitMs ?? DEFAULT_MAX_BUSY_WAIT_MS;
    const sleep = this.opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
    let waitedMs = 0;
    for (;;) {
      const res = await fetch(this.base + path, { headers, signal: AbortSignal.timeout(TIMEOUT_MS) });
      const text = await res.text();
      const asked = res.status === 503 ? retryAfterMs(res.headers.get('retry-after')) : null;
      if (asked !== null && waitedMs < maxWaitMs) {
        const waitMs = Math.min(Math.max(asked, 100), MAX_ONE_WAIT_MS, maxWaitMs - waitedMs);
        this.opts.onBusy?.(`${this.base}${path.split('?')[0]}`, waitMs, waitedMs);
        await sleep(waitMs);
        waitedMs += waitMs;
        continue;
      }
      return this.checked(path, res, text);
    }
  }

  private checked(path: string, res: Response, text: string): string {
    if (!res.ok) {
      let reason = text.slice(0, 200);
      try {
        const body = JSON.parse(text) as { error?: unknown };
        if (typeof body.error === 'string') reason = body.error;
      } catch {
        /* not JSON: keep the text */
      }
      throw new Error(`${this.base}${path}: HTTP ${res.status}: ${reason}`);
    }
    return text;
  }

  /** Every run matching the filter (the newest `limit` of them), following the server's cursor. */
  async runs(filter: RunFilter = {}, limit = Infinity): Promise<Run[]> {
    const params = filterParams(filter);
    const runs: Run[] = [];
    let cursor: string | null = null;
    do {
      params.set('limit', String(Math.min(1000, limit - runs.length)));
      if (cursor) params.set('cursor', cursor);
      const body = (await this.getJson(`/api/v1/runs?${params}`)) as { runs?: unknown; nextCursor?: unknown };
      if (!Array.isArray(body.runs)) throw new Error(`${this.base}: malformed runs page`);
      runs.push(...body.runs.map(runFromJson));
      cursor = typeof body.nextCursor === 'string' ? body.nextCursor : null;
    } while (cursor && runs.length < limit);
    return runs;
  }

  /** The agent's official CSV under a shipped profile (the agent holds the host traces it needs). */
  async officialCsv(filter: RunFilter, profile: string): Promise<string> {
    const params = filterParams(filter);
    params.set('figures', 'official');
    params.set('profile', profile);
    return this.getText(`/api/v1/export/official.csv?${params}`);
  }

  async samples(runId: string): Promise<RunSample[]> {
    const body = (await this.getJson(`/api/v1/runs/${encodeURIComponent(runId)}/samples?format=json`)) as { samples?: unknown };
    if (!Array.isArray(body.samples)) throw new Error(`${this.base}: malformed samples of ${runId}`);
    return body.samples.map((s: unknown) => sampleFromJson(runId, s));
  }
}

function filterParams(filter: RunFilter): URLSearchParams {
  const params = new URLSearchParams();
  for (const key of ['team', 'case', 'status', 'node'] as const) for (const v of filter[key] ?? []) params.append(key, v);
  if (filter.sinceWallMs !== undefined) params.set('since', String(filter.sinceWallMs));
  if (filter.untilWallMs !== undefined) params.set('until', String(filter.untilWallMs));
  return params;
}

const numOrNull = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

function sampleFromJson(runId: string, json: unknown): RunSample {
  const s = (typeof json === 'object' && json !== null ? json : {}) as Record<string, unknown>;
  const monoNs = numOrNull(s.monoNs);
  const wallMs = numOrNull(s.wallMs);
  if (monoNs == null || wallMs == null) throw new Error(`malformed sample of ${runId}`);
  return {
    monoNs,
    wallMs,
    cpuSeconds: numOrNull(s.cpuSeconds),
    ramMiB: numOrNull(s.ramMiB),
    gpuMiB: numOrNull(s.gpuMiB),
    gpuDeviceMiB: numOrNull(s.gpuDeviceMiB),
  };
}

/** Agent base URLs of the active targets of one job in a Prometheus server (its /api/v1/targets). */
export async function agentsFromPrometheus(promUrl: string, job: string): Promise<string[]> {
  const prom = new AgentClient(promUrl);
  const body = (await prom.getJson('/api/v1/targets?state=active')) as {
    data?: { activeTargets?: { scrapeUrl?: unknown; labels?: Record<string, unknown> }[] };
  };
  const targets = body.data?.activeTargets;
  if (!Array.isArray(targets)) throw new Error(`${promUrl}: not a Prometheus targets response`);
  const urls = new Set<string>();
  for (const t of targets) {
    if (t.labels?.job !== job || typeof t.scrapeUrl !== 'string') continue;
    const u = new URL(t.scrapeUrl);
    u.pathname = u.pathname.replace(/\/metrics\/?$/, '') || '/';
    u.search = '';
    u.hash = '';
    urls.add(u.href.replace(/\/+$/, ''));
  }
  return [...urls].sort();
}
