// A folder of predictions scored against a folder of ground truth, as the official evaluation takes
// them: the cases are the prediction folder's label maps, sorted; a ground truth without prediction
// is not scored but listed; a case that cannot be scored is its own error. The `accuracy` command and
// `evaluate --gt` both score this way.
import { readdirSync } from 'node:fs';
import type { CaseResult } from './case.js';
import { scoreAll } from './pool.js';
import type { CaseScores } from './report.js';
import type { AccuracyRules } from './rules.js';

/** A folder that cannot be listed; `dir` names it. */
export class FolderError extends Error {
  constructor(
    readonly dir: string,
    message: string,
  ) {
    super(message);
  }
}

function niftiFiles(dir: string): string[] {
  try {
    return readdirSync(dir).filter((f) => /\.nii(\.gz)?$/.test(f)).sort();
  } catch (err) {
    throw new FolderError(dir, `cannot read ${dir}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

export interface FolderScores {
  /** The scored cases in the official order (file names sorted). */
  scored: (CaseScores & { seconds: number })[];
  failed: { file: string; error: string }[];
  /** Ground truths with no prediction. */
  missing: string[];
}

export async function scoreFolder(gtDir: string, predDir: string, rules: AccuracyRules, threads: number, onResult: (r: CaseResult, done: number, total: number) => void): Promise<FolderScores> {
  const preds = niftiFiles(predDir);
  const missing = niftiFiles(gtDir).filter((f) => !preds.includes(f));
  const jobs = preds.map((file) => ({ file, gtDir, predDir, organs: rules.organs, version: rules.version }));
  const results = await scoreAll(jobs, threads, (r, done) => onResult(r, done, jobs.length));
  const scored = results.filter((r): r is FolderScores['scored'][number] => 'scores' in r).sort((a, b) => (a.file < b.file ? -1 : 1));
  const failed = results.filter((r): r is FolderScores['failed'][number] & CaseResult => 'error' in r).map((r) => ({ file: r.file, error: r.error }));
  return { scored, failed, missing };
}
