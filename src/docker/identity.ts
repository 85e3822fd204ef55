// Who a container is (DESIGN.md §4), from one inspect: team, case, ids, image, GPUs, time limit.
// Pure: the host-side directory listing of the inputs mount comes in as a callback.
// Labels and names are untrusted: control characters stripped, length-limited, otherwise kept as given.
import type { RunIdentity } from '../core/types.js';

/** The part of Docker's inspect JSON this module reads (dockerode's ContainerInspectInfo fits it). */
export interface InspectFacts {
  Id: string;
  Name: string;
  Image: string;
  /** When Docker created the container (RFC 3339, ns): the head of FLARE's official span (docs/scoring.md). */
  Created?: string;
  Config: { Image: string; Labels?: Record<string, string> | null };
  State: { Pid: number; Running: boolean; StartedAt: string; FinishedAt: string; ExitCode: number; OOMKilled: boolean };
  Mounts?: Array<{ Type?: string; Source: string; Destination: string }>;
  HostConfig?: { DeviceRequests?: Array<{ Driver?: string; Count?: number; DeviceIDs?: string[] | null; Capabilities?: string[][] | null }> | null };
}

export const MAX_LABEL_CHARS = 200;
export const INPUTS_MOUNT = '/workspace/inputs';
export const LABEL_TEAM = 'flare.team';
export const LABEL_CASE = 'flare.case';
export const LABEL_TIME_LIMIT = 'flare.time_limit_s';

export interface ContainerIdentity {
  identity: RunIdentity;
  /** From flare.time_limit_s, else the configured default (null: none). */
  timeLimitSeconds: number | null;
  flags: string[];
}

/** Untrusted text → stored text: C0/C1 control characters removed, at most MAX_LABEL_CHARS code points. */
export function cleanText(raw: string): string {
  // eslint-disable-next-line no-control-regex
  const stripped = raw.replace(/[\u0000-\u001f\u007f-\u009f]/g, '');
  return Array.from(stripped).slice(0, MAX_LABEL_CHARS).join('');
}

/** The case name of an image file: FLARETs_0001_0000.nii.gz → FLARETs_0001. */
export function caseFromFileName(file: string): string {
  return file.replace(/_0000\.nii\.gz$/, '').replace(/\.nii\.gz$/, '');
}

export function containerName(inspect: InspectFacts): string {
  return cleanText(inspect.Name.replace(/^\//, ''));
}

/** GPUs requested through --gpus (DeviceRequests): indices/UUIDs, 'all', or 'count:<n>'. */
export function requestedGpus(inspect: InspectFacts): string[] {
  const out: string[] = [];
  for (const req of inspect.HostConfig?.DeviceRequests ?? []) {
    const isGpu = req.Driver === 'nvidia' || (req.Capabilities ?? []).some((set) => set.includes('gpu'));
    if (!isGpu) continue;
    if (req.DeviceIDs && req.DeviceIDs.length > 0) out.push(...req.DeviceIDs.map(cleanText));
    else if (req.Count === -1) out.push('all');
    else if (req.Count !== undefined && req.Count > 0) out.push(`count:${req.Count}`);
  }
  return out;
}

/**
 * The case from the inputs mount: the *.nii.gz files on the host side of the bind mount at
 * /workspace/inputs (first by name when several, flagged).
 */
function caseFromInputs(inspect: InspectFacts, listDir: (hostDir: string) => string[] | null, flags: string[]): string | null {
  const mount = (inspect.Mounts ?? []).find((m) => m.Destination === INPUTS_MOUNT || m.Destination === INPUTS_MOUNT + '/');
  if (!mount) return null;
  const files = (listDir(mount.Source) ?? []).filter((f) => f.endsWith('.nii.gz')).sort();
  if (files.length === 0) return null;
  if (files.length > 1) flags.push(`case-ambiguous:${files.length}-inputs`);
  return cleanText(caseFromFileName(files[0]));
}

function parseTimeLimit(raw: string): number | null {
  if (!/^\s*[0-9.eE+]+\s*$/.test(raw)) return null;
  const n = Number(raw);
  return Number.isFinite(n) && n > 0 ? n : null;
}

export function containerIdentity(
  inspect: InspectFacts,
  node: string,
  defaultTimeLimitSeconds: number | null,
  listDir: (hostDir: string) => string[] | null,
): ContainerIdentity {
  const labels = inspect.Config.Labels ?? {};
  const flags: string[] = [];
  const name = containerName(inspect);
  const label = (key: string): string | null => {
    const v = labels[key];
    if (v === undefined) return null;
    const clean = cleanText(v);
    return clean.trim() === '' ? null : clean;
  };
  const team = label(LABEL_TEAM) ?? name;
  const caseName = label(LABEL_CASE) ?? caseFromInputs(inspect, listDir, flags) ?? name;
  let timeLimitSeconds = defaultTimeLimitSeconds;
  if (labels[LABEL_TIME_LIMIT] !== undefined) {
    const limit = parseTimeLimit(labels[LABEL_TIME_LIMIT]);
    if (limit === null) flags.push('invalid-time-limit-label');
    else timeLimitSeconds = limit;
  }
  return {
    identity: {
      kind: 'container',
      team,
      case: caseName,
      node,
      containerId: inspect.Id,
      containerName: name,
      image: cleanText(inspect.Config.Image),
      imageId: cleanText(inspect.Image),
      gpuDevices: requestedGpus(inspect),
    },
    timeLimitSeconds,
    flags,
  };
}
