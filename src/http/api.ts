// /api/v1: the scoring pipeline's read API over the Store: runs, one run, a trace (the ranking and
// the CSV exports are heavy reads, served by heavy-routes.ts off this thread).
import { Router, type Request, type Response } from 'express';
import type { Run, RunSample } from '../core/types.js';
import { InvalidCursorError, type Store } from '../store/index.js';
import { SAMPLE_CSV_HEADER, sampleCsvLine, sampleJson } from '../export/csv.js';
import { parseRunList, parseSampleFormat, QueryError } from './query.js';
import { runToJson } from './run-json.js';
import { streamLines } from './stream.js';
import { handled } from './handled.js';

const MAX_ID_CHARS = 200;

/** A running run's not-yet-committed samples from fromIndex on, from its owner; null: not running there. */
export type SampleTail = (runId: string, fromIndex: number) => Promise<RunSample[] | null>;

/**
 * A run's whole trace: the committed samples (up to the count read first, so a flush meanwhile
 * cannot repeat one), then, for a running run, the owner's samples after them.
 */
export async function runSamples(store: Store, run: Run, tail: SampleTail | undefined): Promise<Iterable<RunSample>> {
  if (run.status !== 'running' || tail === undefined) return store.iterateRunSamples(run.id);
  const committed = store.committedSampleCount(run.id);
  const rest = (await tail(run.id, committed)) ?? [];
  return (function* () {
    let i = 0;
    for (const s of store.iterateRunSamples(run.id)) {
      if (i++ >= committed) break;
      yield s;
    }
    yield* rest;
  })();
}

function badRequest(res: Response, err: unknown): void {
  const message = err instanceof QueryError ? err.message : 'bad request';
  res.status(400).json({ error: message });
}

function findRun(store: Store, req: Request, res: Response): Run | undefined {
  const id = req.params.id ?? '';
  const run = id.length > 0 && id.length <= MAX_ID_CHARS ? store.getRun(id) : undefined;
  if (!run) res.status(404).json({ error: `run not found: ${id.slice(0, MAX_ID_CHARS)}` });
  return run;
}

export function apiRouter(store: Store, tail?: SampleTail): Router {
  const r = Router();

  r.get('/runs', (req, res) => {
    let q;
    try {
      q = parseRunList(req.query);
    } catch (err) {
      return badRequest(res, err);
    }
    const total = q.total ? { total: store.countRuns(q.filter) } : {};
    if (q.sorted) {
      const { order, offset } = q.sorted;
      const page = store.listRunsSorted({ filter: q.filter, order, offset, limit: q.limit });
      return void res.json({ runs: page.runs.map(runToJson), nextCursor: null, nextOffset: page.more ? offset + page.runs.length : null, ...total });
    }
    let page;
    try {
      page = store.listRuns(q.filter, q.limit, q.cursor);
    } catch (err) {
      if (err instanceof InvalidCursorError) return void res.status(400).json({ error: 'cursor: not a cursor this server returned' });
      throw err;
    }
    res.json({ runs: page.runs.map(runToJson), nextCursor: page.nextCursor, ...total });
  });

  r.get('/runs/:id', (req, res) => {
    if (Object.keys(req.query).length > 0) return badRequest(res, new QueryError(Object.keys(req.query)[0].slice(0, 64), 'unknown parameter'));
    const run = findRun(store, req, res);
    if (run) res.json(runToJson(run));
  });

  r.get('/runs/:id/samples', handled(async (req, res, next) => {
    let format;
    try {
      format = parseSampleFormat(req.query);
    } catch (err) {
      return badRequest(res, err);
    }
    const run = findRun(store, req, res);
    if (!run) return;
    try {
      const samples = await runSamples(store, run, tail);
      if (format === 'csv') {
        res.type('text/csv; charset=utf-8');
        res.set('Content-Disposition', `attachment; filename="run-${run.id.replace(/[^A-Za-z0-9._-]/g, '_')}.csv"`);
        await streamLines(res, samples, (s) => sampleCsvLine(run, s), { head: SAMPLE_CSV_HEADER });
      } else {
        res.type('application/json');
        await streamLines(res, samples, (s) => JSON.stringify(sampleJson(run, s)), {
          head: `{"runId":${JSON.stringify(run.id)},"startedMonoNs":${run.startedMonoNs},"samples":[`,
          separator: ',',
          tail: ']}',
        });
      }
    } catch (err) {
      next(err);
    }
  }));

  return r;
}
