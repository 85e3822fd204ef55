// A challenge profile: everything that differs between challenge years, as data (docs/scoring.md,
// "Challenge profiles"). This file holds the type and its validator; pure, no I/O. Profiles come
// from organisers' files, so every field is checked and an error names the field.
import type { MaxRule } from '../official/figures.js';
import { COLUMN_KEYS, type ColumnKey, type OfficialProfile } from '../official/profile.js';

/** The profiles shipped in the package's profiles/ folder; flare22 is the default. */
export const BUILTIN_PROFILES = ['flare21', 'flare22', 'flare22-2022', 'flare23', 'flare24', 'generic'] as const;
export const DEFAULT_PROFILE = 'flare22';

export interface RankedMetric {
  /** The metric's name as it appears in the accuracy CSV (DSC, NSD) or an efficiency key (time, aucGpu, aucCpu). */
  metric: string;
  higherIsBetter: boolean;
  weight: number;
  /**
   * The value shown for a missing or failed case (the official CSV's penalty); in the ranking such a
   * case ranks after every measured value whatever it is (docs/scoring.md, "Failed cases rank last").
   */
  worst: number;
  /** The values an accuracy CSV may hold for this metric, [min, max] inclusive (DSC, NSD: [0, 1]). */
  range?: [number, number];
}

/** A challenge profile: the official figures' part (src/official/profile.ts) and the scoring's. */
export interface ChallengeProfile extends OfficialProfile {
  name: string;
  description: string;
  gpuToleranceMiB: number;
  timeLimitSeconds: number | null;
  penalties: { timeSeconds: number; aucGpuMiBs: number; aucCpuPctS: number };
  ranking: {
    metrics: RankedMetric[];
    ties: 'min' | 'average';
    /**
     * The accuracy values (DSC, NSD) of a case whose run failed (non-zero exit, OOM, interrupted) or
     * went over the time limit: 'last' ranks them last like its efficiency; 'count' ranks them as given.
     */
    failedCaseAccuracy: 'last' | 'count';
  };
  /** How DSC and NSD are computed from label maps (`accuracy`, `evaluate --gt`); absent: the profile has no accuracy rules. */
  accuracy?: AccuracyProfile;
}

/** The accuracy evaluation's part of a profile: the organs and which version of the official rules. */
export interface AccuracyProfile {
  /** flare22: the official script today (empty prediction 0, 0; NSD 0 under DSC 0.2); flare22-2022: as the 2022 challenge ran it. */
  rules: 'flare22' | 'flare22-2022';
  organs: { label: number; name: string; toleranceMm: number; cutToGtSlices: boolean }[];
}

/** A profile file that does not hold a valid profile; `field` names the first bad field. */
export class ProfileError extends Error {
  constructor(
    readonly field: string,
    reason: string,
  ) {
    super(`profile field ${field}: ${reason}`);
  }
}

type Obj = Record<string, unknown>;

function obj(v: unknown, field: string): Obj {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new ProfileError(field, 'must be an object');
  return v as Obj;
}

function onlyKeys(o: Obj, allowed: readonly string[], field: string): void {
  for (const k of Object.keys(o)) if (!allowed.includes(k)) throw new ProfileError(`${field}.${k.slice(0, 64)}`, 'unknown field');
}

function num(v: unknown, field: string, min: number, max: number, integer = false): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new ProfileError(field, 'must be a finite number');
  if (v < min || v > max) throw new ProfileError(field, `must be between ${min} and ${max}`);
  if (integer && !Number.isInteger(v)) throw new ProfileError(field, 'must be an integer');
  return v;
}

function str(v: unknown, field: string, maxChars: number, pattern?: RegExp): string {
  if (typeof v !== 'string') throw new ProfileError(field, 'must be a string');
  if (v.length > maxChars) throw new ProfileError(field, `must be at most ${maxChars} characters`);
  if (pattern && !pattern.test(v)) throw new ProfileError(field, `must match ${pattern.source}`);
  return v;
}

function oneOf<T extends string>(v: unknown, field: string, choices: readonly T[]): T {
  if (typeof v !== 'string' || !(choices as readonly string[]).includes(v)) throw new ProfileError(field, `must be one of ${choices.join(', ')}`);
  return v as T;
}

const MAX_RULES: readonly MaxRule[] = ['max', 'stable'];
// Printable, no quote/comma/newline: column names go into CSV headers and HTML.
const HEADER = /^[A-Za-z0-9_. ()%-]{1,64}$/;
const NAME = /^[a-z0-9][a-z0-9_-]{0,63}$/;
const DAY_S = 86_400 * 7;

function decimals(v: unknown, field: string): number | null {
  return v === null ? null : num(v, field, 0, 10, true);
}

function section<K extends string>(raw: Obj, key: string, keys: readonly K[], each: (v: unknown, field: string) => unknown): Record<K, never> {
  const o = obj(raw[key], key);
  onlyKeys(o, keys, key);
  const out = {} as Record<K, unknown>;
  for (const k of keys) {
    if (!(k in o)) throw new ProfileError(`${key}.${k}`, 'is required');
    out[k] = each(o[k], `${key}.${k}`);
  }
  return out as Record<K, never>;
}

const TOP_KEYS = ['name', 'description', 'columns', 'nameSuffix', 'maxRule', 'stableMinShare', 'rounding', 'loop', 'span', 'gpuToleranceMiB', 'timeLimitSeconds', 'penalties', 'ranking'];
const OPTIONAL_KEYS = ['accuracy'];

function accuracyProfile(v: unknown): AccuracyProfile {
  const o = obj(v, 'accuracy');
  onlyKeys(o, ['rules', 'organs'], 'accuracy');
  if (!Array.isArray(o.organs) || o.organs.length < 1 || o.organs.length > 255) throw new ProfileError('accuracy.organs', 'must be a list of 1 to 255 organs');
  const labels = new Set<number>();
  const organs = o.organs.map((raw: unknown, i: number) => {
    const f = `accuracy.organs[${i}]`;
    const g = obj(raw, f);
    onlyKeys(g, ['label', 'name', 'toleranceMm', 'cutToGtSlices'], f);
    if (typeof g.cutToGtSlices !== 'boolean') throw new ProfileError(`${f}.cutToGtSlices`, 'must be true or false');
    const label = num(g.label, `${f}.label`, 1, 255, true);
    if (labels.has(label)) throw new ProfileError(`${f}.label`, `duplicate label ${label}`);
    labels.add(label);
    return { label, name: str(g.name, `${f}.name`, 32, /^[A-Za-z0-9_]{1,32}$/), toleranceMm: num(g.toleranceMm, `${f}.toleranceMm`, 0, 1000), cutToGtSlices: g.cutToGtSlices };
  });
  return { rules: oneOf(o.rules, 'accuracy.rules', ['flare22', 'flare22-2022'] as const), organs };
}

/** Checks a parsed profile file; throws ProfileError naming the first bad field. */
export function validateProfile(raw: unknown): ChallengeProfile {
  const o = obj(raw, '(root)');
  onlyKeys(o, [...TOP_KEYS, ...OPTIONAL_KEYS], '(root)');
  for (const k of TOP_KEYS) if (!(k in o)) throw new ProfileError(k, 'is required');
  const columnsRaw = obj(o.columns, 'columns');
  onlyKeys(columnsRaw, COLUMN_KEYS, 'columns');
  const columns: Partial<Record<ColumnKey, string>> = {};
  for (const k of COLUMN_KEYS) if (columnsRaw[k] !== undefined) columns[k] = str(columnsRaw[k], `columns.${k}`, 64, HEADER);
  if (columns.name === undefined) throw new ProfileError('columns.name', 'is required');
  const rankingRaw = obj(o.ranking, 'ranking');
  onlyKeys(rankingRaw, ['metrics', 'ties', 'failedCaseAccuracy'], 'ranking');
  if (!Array.isArray(rankingRaw.metrics) || rankingRaw.metrics.length > 32) throw new ProfileError('ranking.metrics', 'must be a list of at most 32 metrics');
  const metrics = rankingRaw.metrics.map((m: unknown, i: number): RankedMetric => {
    const f = `ranking.metrics[${i}]`;
    const mo = obj(m, f);
    onlyKeys(mo, ['metric', 'higherIsBetter', 'weight', 'worst', 'range'], f);
    if (typeof mo.higherIsBetter !== 'boolean') throw new ProfileError(`${f}.higherIsBetter`, 'must be true or false');
    const metric: RankedMetric = {
      metric: str(mo.metric, `${f}.metric`, 32, /^[A-Za-z0-9_]{1,32}$/),
      higherIsBetter: mo.higherIsBetter,
      weight: num(mo.weight, `${f}.weight`, 0, 1000),
      worst: num(mo.worst, `${f}.worst`, -1e12, 1e12),
    };
    if (mo.range !== undefined) {
      if (!Array.isArray(mo.range) || mo.range.length !== 2) throw new ProfileError(`${f}.range`, 'must be [min, max]');
      const [lo, hi] = [num(mo.range[0], `${f}.range[0]`, -1e12, 1e12), num(mo.range[1], `${f}.range[1]`, -1e12, 1e12)];
      if (lo > hi) throw new ProfileError(`${f}.range`, 'min must not be above max');
      metric.range = [lo, hi];
    }
    return metric;
  });
  const seen = new Set<string>();
  for (const [i, m] of metrics.entries()) {
    if (seen.has(m.metric)) throw new ProfileError(`ranking.metrics[${i}].metric`, `duplicate metric ${m.metric}`);
    seen.add(m.metric);
  }
  const penalties = section(o, 'penalties', ['timeSeconds', 'aucGpuMiBs', 'aucCpuPctS'], (v, f) => num(v, f, 0, 1e12));
  return {
    name: str(o.name, 'name', 64, NAME),
    description: str(o.description, 'description', 2000),
    columns,
    nameSuffix: str(o.nameSuffix, 'nameSuffix', 32, /^[A-Za-z0-9._-]{0,32}$/),
    maxRule: section(o, 'maxRule', ['gpu', 'cpu', 'ram'], (v, f) => oneOf(v, f, MAX_RULES)),
    stableMinShare: num(o.stableMinShare, 'stableMinShare', 0, 1),
    rounding: section(o, 'rounding', ['time', 'gpuMax', 'gpuAuc', 'cpuMax', 'cpuAuc', 'ramMax', 'ramAuc'], decimals),
    loop: section(o, 'loop', ['nominalIntervalSeconds', 'samplingCostSeconds', 'samplingCpuSeconds', 'firstTickDelaySeconds', 'firstCpuIntervalSeconds', 'firstCpuBusyCores'], (v, f) =>
      num(v, f, f === 'loop.nominalIntervalSeconds' ? 0.001 : 0, f === 'loop.firstCpuBusyCores' ? 1024 : 60),
    ),
    span: section(o, 'span', ['cliStartSeconds', 'createToStartSeconds', 'stopToRemovedSeconds', 'cliExitSeconds', 'resultWriteSeconds', 'resultWritePerSampleSeconds'], (v, f) => num(v, f, 0, 60)),
    gpuToleranceMiB: num(o.gpuToleranceMiB, 'gpuToleranceMiB', 0, 1 << 24),
    timeLimitSeconds: o.timeLimitSeconds === null ? null : num(o.timeLimitSeconds, 'timeLimitSeconds', 0.001, DAY_S),
    penalties,
    ranking: {
      metrics,
      ties: oneOf(rankingRaw.ties, 'ranking.ties', ['min', 'average'] as const),
      failedCaseAccuracy: oneOf(rankingRaw.failedCaseAccuracy, 'ranking.failedCaseAccuracy', ['last', 'count'] as const),
    },
    ...(o.accuracy === undefined ? {} : { accuracy: accuracyProfile(o.accuracy) }),
  };
}
