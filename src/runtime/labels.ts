// The organiser's labels on a container (Docker) or pod (Kubernetes), the same for every runtime: their
// keys, how untrusted label text is cleaned and bounded, and how a time-limit label is read. Pure.
import { isDecimal, stripUnsafe } from '../core/text.js';
import type { RunFlag } from '../core/run-facts.js';

export const MAX_LABEL_CHARS = 200;
export const INPUTS_MOUNT = '/workspace/inputs';
export const LABEL_TEAM = 'flare.team';
export const LABEL_CASE = 'flare.case';
export const LABEL_TIME_LIMIT = 'flare.time_limit_s';
/** evaluate --gpus: the pool slot and the NUMA node local to its GPU (recorded in the run's placement). */
export const LABEL_SLOT = 'flare.slot';
export const LABEL_NUMA_NODE = 'flare.numa_node';
/** The range of --time-limit (config.ts), also the range a label value must fall in (s). */
export const TIME_LIMIT_RANGE_SECONDS = { min: 0.001, max: 604800 } as const;

/** Untrusted text → stored text: control and bidi characters removed, at most MAX_LABEL_CHARS code points. */
export function cleanText(raw: string): string {
  return Array.from(stripUnsafe(raw)).slice(0, MAX_LABEL_CHARS).join('');
}

/** A label's limit: a plain decimal within the option's range, else null (rejected). */
export function parseTimeLimit(raw: string): number | null {
  if (raw.length > 32 || !isDecimal(raw)) return null;
  const n = Number(raw);
  return Number.isFinite(n) && n >= TIME_LIMIT_RANGE_SECONDS.min && n <= TIME_LIMIT_RANGE_SECONDS.max ? n : null;
}

/**
 * The time limit a `flare.time_limit_s` label sets: a decimal within the option's range and never above
 * the --time-limit ceiling (the organiser's node-wide bound); otherwise the ceiling, with a flag saying why.
 */
export function labelTimeLimit(raw: string, ceilingSeconds: number | null, flags: RunFlag[]): number | null {
  const limit = parseTimeLimit(raw);
  if (limit === null) {
    flags.push('invalid-time-limit-label');
    return ceilingSeconds;
  }
  if (ceilingSeconds !== null && limit > ceilingSeconds) {
    flags.push('time-limit-label-above-ceiling');
    return ceilingSeconds;
  }
  return limit;
}
