// The routes of the heavy reads (heavy-reads.ts): /api/v1/ranking and the CSV exports. Each hands the
// request's query to the heavy reads' thread (heavy-read-thread.ts) and sends its answer; past the pool's
// bound it answers 503 with Retry-After at once.
import { Router, type NextFunction, type Request, type Response } from 'express';
import type { HeavyRead } from './heavy-reads.js';
import { ReadsBusyError, ReadsOutOfMemoryError, type HeavyReads } from './heavy-read-thread.js';
import { handled } from './handled.js';

export function heavyRouter(reads: HeavyReads): Router {
  const r = Router();
  const route = (name: HeavyRead['route']) => async (req: Request, res: Response, next: NextFunction) => {
    try {
      const a = await reads.answer({ route: name, query: req.query });
      res.status(a.status).type(a.type === 'csv' ? 'text/csv; charset=utf-8' : 'application/json').send(a.body);
    } catch (err) {
      if (err instanceof ReadsOutOfMemoryError) return void res.status(503).json({ error: err.message });
      if (!(err instanceof ReadsBusyError)) return next(err);
      res.set('Retry-After', String(err.retryAfterSeconds)).status(503).json({ error: err.message });
    }
  };
  r.get('/ranking', handled(route('ranking')));
  r.get('/export/flare22.csv', handled(route('flare22.csv')));
  r.get('/export/flare24.csv', handled(route('flare24.csv')));
  // Any shipped profile's official columns: /export/official.csv?profile=flare23
  r.get('/export/official.csv', handled(route('official.csv')));
  return r;
}
