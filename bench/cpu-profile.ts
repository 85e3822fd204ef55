// Where a V8 CPU profile's time goes (`node --cpu-prof` writes one .cpuprofile per thread), in the
// parts the sampler's cost is made of: timers, messages between threads, prom-client, SQLite, the
// host's /proc, our own modules by folder, V8's garbage collector, and the rest.
import { readFileSync } from 'node:fs';

interface CallFrame {
  functionName: string;
  url: string;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** The part a frame belongs to: a package, one of our folders, a Node subsystem, or V8's own. */
export function partOf(frame: CallFrame): string {
  const { functionName: fn, url } = frame;
  if (fn === '(garbage collector)') return 'gc';
  if (fn === '(idle)') return 'idle';
  if (fn === '(program)') return 'program (V8 and native, outside JS)';
  if (fn === '(root)') return 'root';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
  if (pkg) return `pkg ${pkg[1]}`;
  const ours = /\/dist\/src\/(.+)\.js$/.exec(url);
  if (ours) return `src ${ours[1]}`;
  if (url.startsWith('node:internal/timers') || url === 'node:timers') return 'node timers';
  if (url.startsWith('node:internal/worker') || url.includes('per_context/messageport') || fn === 'postMessage') return 'node worker messages';
  if (url.startsWith('node:internal/fs') || url === 'node:fs') return 'node fs';
  if (url.startsWith('node:')) return `node ${url.slice(5).split('/').slice(0, 2).join('/')}`;
  if (url === '') return `native ${fn || '(anonymous)'}`;
  return 'other';
}

/** Each sample's time (µs, the profile's clock: one monotonic clock for every thread of a process). */
function sampleTimes(profile: CpuProfile): Float64Array {
  const at = new Float64Array(profile.samples.length);
  let t = profile.startTime;
  for (let i = 0; i < at.length; i++) at[i] = t += profile.timeDeltas[i] ?? 0;
  return at;
}

/**
 * Self time by part, ms, of the samples taken at or after `fromUs` (the profile's clock; 0: all),
 * each attributed to the frame it was in.
 */
export function selfTimeByPart(profile: CpuProfile, fromUs = 0): { totalMs: number; wallMs: number; parts: Record<string, number> } {
  const at = sampleTimes(profile);
  const byId = new Map<number, ProfileNode>();
  for (const n of profile.nodes) byId.set(n.id, n);
  const parts: Record<string, number> = {};
  let totalUs = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const node = byId.get(profile.samples[i]);
    const dt = profile.timeDeltas[i] ?? 0;
    if (!node || at[i] < fromUs) continue;
    const part = partOf(node.callFrame);
    if (part === 'idle') continue;
    parts[part] = (parts[part] ?? 0) + dt;
    totalUs += dt;
  }
  const sorted = Object.fromEntries(
    Object.entries(parts)
      .sort((a, b) => b[1] - a[1])
      .map(([k, us]) => [k, Math.round(us / 100) / 10]),
  );
  return { totalMs: Math.round(totalUs / 100) / 10, wallMs: Math.round((profile.endTime - Math.max(fromUs, profile.startTime)) / 1000), parts: sorted };
}

/** Inclusive time of matching functions (ms) from `fromUs` on: what a subtree costs with everything it calls. */
export function inclusiveTime(profile: CpuProfile, match: (frame: CallFrame) => boolean, fromUs = 0): number {
  const at = sampleTimes(profile);
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const byId = new Map<number, ProfileNode>();
  for (const n of profile.nodes) byId.set(n.id, n);
  const memo = new Map<number, boolean>();
  const under = (id: number): boolean => {
    const known = memo.get(id);
    if (known !== undefined) return known;
    const node = byId.get(id);
    const p = parent.get(id);
    const r = node !== undefined && (match(node.callFrame) || (p !== undefined && under(p)));
    memo.set(id, r);
    return r;
  };
  let us = 0;
  for (let i = 0; i < profile.samples.length; i++) if (at[i] >= fromUs && under(profile.samples[i])) us += profile.timeDeltas[i] ?? 0;
  return Math.round(us / 100) / 10;
}

export type { CpuProfile };

export function readCpuProfile(path: string): CpuProfile {
  return JSON.parse(readFileSync(path, 'utf8')) as CpuProfile;
}
