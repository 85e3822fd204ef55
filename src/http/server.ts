// The agent's HTTP server: /metrics, /healthz, /api/v1 and the web page, on one port.
import http from 'node:http';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { LiveView } from '../agent/types.js';
import type { Store } from '../store/index.js';
import { apiRouter, type SampleTail } from './api.js';
import { heavyRouter } from './heavy-routes.js';
import { inProcessReads, type HeavyReads } from './heavy-read-thread.js';
import { liveRouter } from './live.js';
import { requireToken } from './auth.js';
import { parseListen } from './guard.js';
import type { AgentMetrics } from './metrics.js';
import { handled } from './handled.js';

/** Moved to guard.ts (the start-time check needs it without express); kept here for callers. */
export { parseListen };

export interface AppDeps {
  store: Store;
  /** null for a server over a database only (no agent running). */
  live: LiveView | null;
  metrics: AgentMetrics | null;
  /** When set, /api needs `Authorization: Bearer <token>`. */
  token?: string;
  /** With a token: whether /metrics stays open (default false: it publishes per-team results). */
  metricsOpen?: boolean;
  /** The organiser's accuracy CSV that /api/v1/ranking ranks with. */
  accuracyCsv?: string;
  /** Static files of the web page, served at /. */
  webDir?: string;
  /**
   * A running run's samples not committed yet, from index fromIndex on, asked of their owner (the
   * agent's RunManager); absent: readers see committed samples only.
   */
  tail?: SampleTail;
  /** Where the ranking and the exports run (the agent: a thread of their own); default: in this thread. */
  heavy?: HeavyReads;
  /** Brings `live` up to date before a request that reads it (the agent's HTTP thread asks its owner); absent: it is. */
  fresh?: () => Promise<void>;
}

/** The routes that read the live view: a request to one waits (boundedly) for a fresh snapshot first. */
const READS_LIVE = /^\/(?:metrics|healthz|api\/)/;

/**
 * On every response: no MIME sniffing (a JSON or CSV body holding participants' text is never run as
 * HTML), no Referer leaking run ids, and a CSP that allows only our own scripts and no framing
 * (clickjacking). A route may set a stricter CSP of its own (the SVG plot does).
 */
export const CONTENT_SECURITY_POLICY =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
  "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

function securityHeaders(_req: Request, res: Response, next: NextFunction): void {
  res.set({
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
    'Content-Security-Policy': CONTENT_SECURITY_POLICY,
    'X-Frame-Options': 'DENY',
  });
  next();
}

export function createApp(deps: AppDeps): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  // Plain key=value parsing: no nested objects from query strings.
  app.set('query parser', 'simple');
  app.use(securityHeaders);
  const fresh = deps.fresh;
  if (fresh) {
    app.use((req, _res, next) => {
      if (!READS_LIVE.test(req.path)) return next();
      // fresh() never rejects: it resolves with the owner's snapshot or after its bounded wait.
      void fresh().then(() => next());
    });
  }
  const guard = deps.token ? requireToken(deps.token) : null;

  const metricsHandlers: express.RequestHandler[] = [];
  if (guard && deps.metricsOpen !== true) metricsHandlers.push(guard);
  app.get('/metrics', ...metricsHandlers, handled(async (_req, res, next) => {
    if (!deps.metrics) return void res.status(404).json({ error: 'no agent running here: metrics are not available' });
    try {
      const body = await deps.metrics.registry.metrics();
      res.type(deps.metrics.registry.contentType).send(body);
    } catch (err) {
      next(err);
    }
  }));

  // Open even with a token: it reveals only source states, and probes need it without secrets.
  app.get('/healthz', (_req, res) => {
    if (!deps.live) return void res.json({ mode: 'database-only', agent: null });
    res.json({ mode: 'agent', ...deps.live.health() });
  });

  if (guard) app.use('/api', guard);
  app.use('/api/v1', apiRouter(deps.store, deps.tail));
  app.use('/api/v1', liveRouter(deps.store, deps.live, deps.tail));
  app.use('/api/v1', heavyRouter(deps.heavy ?? inProcessReads(deps.store, deps.accuracyCsv)));
  app.use('/api', (_req, res) => void res.status(404).json({ error: 'no such API route' }));

  if (deps.webDir) app.use(express.static(deps.webDir, { index: 'index.html', fallthrough: true }));

  app.use((_req: Request, res: Response) => void res.status(404).json({ error: 'not found' }));
  // Express's own 4xx (e.g. a malformed %-escape in the path) stay 4xx, as JSON.
  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const status = typeof err === 'object' && err && 'status' in err && typeof err.status === 'number' ? err.status : 500;
    if (res.headersSent) return void res.destroy();
    if (status >= 400 && status < 500) return void res.status(status).json({ error: 'bad request' });
    console.error(JSON.stringify({ level: 'error', msg: 'http handler failed', error: String(err) }));
    res.status(500).json({ error: 'internal error' });
  });
  return app;
}

export interface Listening {
  server: http.Server;
  port: number;
  close(): Promise<void>;
}

export async function listen(app: express.Express, listenAddr: string): Promise<Listening> {
  const { host, port } = parseListen(listenAddr);
  const server = http.createServer(app);
  // A slow client must not hold sockets forever.
  server.headersTimeout = 10_000;
  server.requestTimeout = 60_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address();
  const bound = typeof addr === 'object' && addr ? addr.port : port;
  return {
    server,
    port: bound,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}
