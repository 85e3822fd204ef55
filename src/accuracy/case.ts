// One case of the `accuracy` command: its two files read and scored; a failure is the case's own
// result (a clear message), never the folder's end.
import { join } from 'node:path';
import { readLabelVolume } from './nifti.js';
import type { Organ } from './overlap.js';
import { scoreCase, type AccuracyRuleVersion, type OrganScore } from './score.js';

export interface CaseJob {
  file: string;
  gtDir: string;
  predDir: string;
  organs: readonly Organ[];
  version: AccuracyRuleVersion;
}

export type CaseResult = { file: string; scores: OrganScore[]; seconds: number } | { file: string; error: string; seconds: number };

export async function scoreOneCase(job: CaseJob): Promise<CaseResult> {
  const t0 = performance.now();
  try {
    const [gt, pred] = await Promise.all([readLabelVolume(join(job.gtDir, job.file)), readLabelVolume(join(job.predDir, job.file))]);
    const scores = scoreCase(gt, pred, job.organs, job.version);
    return { file: job.file, scores, seconds: (performance.now() - t0) / 1000 };
  } catch (err) {
    return { file: job.file, error: (err as Error).message, seconds: (performance.now() - t0) / 1000 };
  }
}
