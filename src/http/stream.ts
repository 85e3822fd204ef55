// Writes a long series to an HTTP response in chunks, honouring backpressure, so a trace is never
// held whole in memory (neither as an array nor as one string).
import type { Response } from 'express';

const CHUNK_ROWS = 500;

export async function streamLines<T>(
  res: Response,
  items: Iterable<T>,
  format: (item: T, index: number) => string,
  opts: { head?: string; separator?: string; tail?: string } = {},
): Promise<void> {
  const sep = opts.separator ?? '';
  let chunk = opts.head ?? '';
  let i = 0;
  for (const item of items) {
    chunk += (i > 0 ? sep : '') + format(item, i);
    i++;
    if (i % CHUNK_ROWS === 0) {
      if (res.destroyed) return;
      if (!res.write(chunk)) await new Promise<void>((resolve) => {
        const done = (): void => {
          res.off('drain', done);
          res.off('close', done);
          resolve();
        };
        res.on('drain', done);
        res.on('close', done);
      });
      chunk = '';
    }
  }
  res.end(chunk + (opts.tail ?? ''));
}
