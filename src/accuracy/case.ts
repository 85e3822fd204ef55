// One case of the `accuracy` command: its two files read and scored; a failure is the case's own
// result (a clear message), never the folder's end.
import { join } from 'node:path';
import { readLabelVolume } from './nifti.js';
import type { Organ } from './overlap.js';
import type { Scratch } from './scratch.js';
import { scoreCase, type AccuracyRuleVersion, type OrganScore } from './score.js';

export interface CaseJob {
  file: string;
  gtDir: string;
  predDir: string;
  organs: readonly Organ[];
  version: AccuracyRuleVersion;
}

export type CaseResult = { file: string; scores: OrganScore[]; seconds: number } | { file: string; error: string; seconds: number };

/** Scores one case; `scratch` is the thread's own, reused from case to case. */
export async function scoreOneCase(job: CaseJob, scratch: Scratch): Promise<CaseResult> {
  const t0 = performance.now();
  try {
    // Both reads finished, even when one fails: the next case reuses their arrays.
    const reads = await Promise.allSettled([
      readLabelVolume(join(job.gtDir, job.file), (n) => scratch.get('u8', 'gt-labels', n)),
      readLabelVolume(join(job.predDir, job.file), (n) => scratch.get('u8', 'pred-labels', n)),
    ]);
    const [gt, pred] = reads.map((r) => {
      if (r.status === 'rejected') throw r.reason;
      return r.value;
    });
    const scores = scoreCase(gt, pred, job.organs, job.version, scratch);
    return { file: job.file, scores, seconds: (performance.now() - t0) / 1000 };
  } catch (err) {
    return { file: job.file, error: (err as Error).message, seconds: (performance.now() - t0) / 1000 };
  }
}
