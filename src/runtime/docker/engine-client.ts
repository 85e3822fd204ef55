// The Docker Engine API calls the agent makes, over node:http: list, inspect (container and image),
// kill, and the events stream. dockerode did this before; loading it cost the agent about 0.15 s of
// CPU at every start (it loads docker-modem with ssh2 and @grpc/grpc-js, which the agent never uses),
// a tenth of a fresh agent's first 20 s. `evaluate`, which creates and runs containers, still uses
// dockerode; its instances fit DockerApi too (the tests hand them to the adapter).
//
// Engine API facts (https://docs.docker.com/reference/api/engine/, stable since API 1.24, Docker 1.12):
// paths without a version prefix get the engine's own API version, as dockerode's default did; errors
// are a non-2xx status with a JSON body `{"message": …}`; `GET /events` streams one JSON object per line
// until `until` has passed (or for ever without it); query `filters` is a JSON map of string lists.
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { InspectFacts } from './identity.js';

/** Where the engine listens: a unix socket, or a TCP host (docker/client.ts reads --docker-host). */
export type DockerTarget = { socketPath: string } | { host: string; port: number; protocol: 'http' | 'https' };

/** One entry of `GET /containers/json` (the fields the agent reads). */
export interface ListedContainer {
  Id: string;
  State: string;
  Names?: string[];
  Labels?: Record<string, string> | null;
  Image: string;
  /** Unix seconds. */
  Created: number;
}

export interface EventsQuery {
  /** Unix seconds. */
  since?: number;
  until?: number;
  filters: Record<string, string[]>;
}

/** The engine as the Docker adapter uses it. */
export interface DockerApi {
  listContainers(opts: { all: boolean }): Promise<ListedContainer[]>;
  getContainer(id: string): { inspect(): Promise<InspectFacts>; kill(opts: { signal: string }): Promise<unknown> };
  getImage(ref: string): { inspect(): Promise<unknown> };
  /** The response stream: newline-delimited JSON events. */
  getEvents(q: EventsQuery): Promise<NodeJS.ReadableStream & { destroy?: () => void }>;
}

/** A non-2xx answer: `statusCode` as dockerode's errors carry it (404: no such container, 409: not running). */
export class EngineError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
  ) {
    super(message);
  }
}

/** Largest error or JSON body read: an inspect is a few KiB; anything past this is not the engine's answer. */
const MAX_BODY_BYTES = 16 * 1024 * 1024;

/** Each segment escaped, the slashes kept: image references hold `/` and `:` (`registry:5000/team/image:tag`). */
function pathSegments(s: string): string {
  return s.split('/').map(encodeURIComponent).join('/');
}

function body(res: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let bytes = 0;
    res.on('data', (c: Buffer) => {
      bytes += c.length;
      if (bytes > MAX_BODY_BYTES) res.destroy(new Error(`Docker answer over ${MAX_BODY_BYTES} bytes`));
      else chunks.push(c);
    });
    res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    res.on('error', reject);
  });
}

export class EngineClient implements DockerApi {
  constructor(private readonly target: DockerTarget) {}

  /** The response once its status is 2xx; an EngineError (with the engine's message) otherwise. */
  private async call(method: 'GET' | 'POST', path: string): Promise<IncomingMessage> {
    const t = this.target;
    const res = await new Promise<IncomingMessage>((resolve, reject) => {
      const req =
        'socketPath' in t
          ? httpRequest({ socketPath: t.socketPath, path, method }, resolve)
          : (t.protocol === 'https' ? httpsRequest : httpRequest)({ host: t.host, port: t.port, path, method }, resolve);
      req.on('error', reject);
      req.end();
    });
    const status = res.statusCode ?? 0;
    if (status >= 200 && status < 300) return res;
    const text = await body(res).catch(() => '');
    let message = text.trim();
    try {
      const said = (JSON.parse(text) as { message?: unknown }).message;
      if (typeof said === 'string') message = said;
    } catch {
      /* not JSON: the text as it came */
    }
    throw new EngineError(status, `(HTTP code ${status}) ${method} ${path.split('?')[0]}: ${message.slice(0, 500)}`);
  }

  private async json<T>(path: string): Promise<T> {
    return JSON.parse(await body(await this.call('GET', path))) as T;
  }

  listContainers(opts: { all: boolean }): Promise<ListedContainer[]> {
    return this.json(`/containers/json?all=${opts.all ? 1 : 0}`);
  }

  getContainer(id: string): { inspect(): Promise<InspectFacts>; kill(opts: { signal: string }): Promise<unknown> } {
    const base = `/containers/${encodeURIComponent(id)}`;
    return {
      inspect: () => this.json<InspectFacts>(`${base}/json`),
      kill: async (opts) => body(await this.call('POST', `${base}/kill?signal=${encodeURIComponent(opts.signal)}`)),
    };
  }

  getImage(ref: string): { inspect(): Promise<unknown> } {
    return { inspect: () => this.json(`/images/${pathSegments(ref)}/json`) };
  }

  getEvents(q: EventsQuery): Promise<IncomingMessage> {
    const params = new URLSearchParams();
    if (q.since !== undefined) params.set('since', String(q.since));
    if (q.until !== undefined) params.set('until', String(q.until));
    params.set('filters', JSON.stringify(q.filters));
    return this.call('GET', `/events?${params.toString()}`);
  }
}
