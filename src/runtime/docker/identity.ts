// Who a container is (README "What it measures"; docs/measurement.md §5), from one inspect: team, case, ids, image, GPUs, time limit.
// Pure: the host-side directory listing of the inputs mount comes in as a callback.
// Labels and names are untrusted: control and bidi characters stripped, length-limited, otherwise kept
// as given. Label trust policy (docs/security.md): a `flare.*` label counts only when the organiser set
// it when creating the container, i.e. it is on the container and not, with the same value, on its
// image (Docker merges the image's labels into every container's Config.Labels). The time limit from
// a label is bounded by the option's range and never above the --time-limit ceiling.
import { resolveGpuRequest } from '../../core/gpu-request.js';
import { MAX_FACT_LIST, type RunFacts, type RunFlag } from '../../core/run-facts.js';
import type { RunIdentity, RunPlacement } from '../../core/types.js';
import { cleanText, INPUTS_MOUNT, LABEL_CASE, LABEL_NUMA_NODE, LABEL_SLOT, LABEL_TEAM, LABEL_TIME_LIMIT, labelTimeLimit } from '../labels.js';

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
  HostConfig?: {
    DeviceRequests?: Array<{ Driver?: string; Count?: number; DeviceIDs?: string[] | null; Capabilities?: string[][] | null }> | null;
    CpusetCpus?: string;
    CpusetMems?: string;
    /** Bytes; 0: unlimited. */
    Memory?: number;
    /** Bytes. */
    ShmSize?: number;
  };
}


export interface LabelTrust {
  /** The labels of the container's image (`docker image inspect` Config.Labels); null: unknown. */
  imageLabels: Record<string, string> | null;
  /** --unsafe-trust-image-labels: labels from the image count too (the old, blind behaviour). */
  trustImageLabels: boolean;
}

export interface ContainerIdentity {
  identity: RunIdentity;
  /** From a trusted flare.time_limit_s at most the --time-limit ceiling, else the ceiling (null: none). */
  timeLimitSeconds: number | null;
  flags: RunFlag[];
  facts: RunFacts;
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

/** A CPU or memory-node list as Docker accepts it ("0-3,8"): digits, commas, dashes; else null. */
function cpuList(v: string | undefined): string | null {
  if (!v || v.length > 256 || !/^[0-9,-]+$/.test(v)) return null;
  return v;
}

const mib = (bytes: number | undefined): number | null => (typeof bytes === 'number' && Number.isFinite(bytes) && bytes > 0 ? bytes / 1048576 : null);

/** A small non-negative integer label (slot, NUMA node); anything else is not recorded. */
function smallInt(v: string | undefined): number | null {
  return v !== undefined && /^[0-9]{1,4}$/.test(v) ? Number(v) : null;
}

/**
 * Where the organiser placed the container: HostConfig is theirs (the create call; an image cannot set
 * it) and is what Docker enforces; the slot and NUMA labels count only when trusted (set at create).
 */
export function placementOf(inspect: InspectFacts, trusted: Record<string, string>, given: { indices: number[] | null; migUuids: string[] | null }): RunPlacement {
  const h = inspect.HostConfig ?? {};
  return {
    gpuIndices: given.indices,
    ...(given.migUuids ? { migUuids: given.migUuids } : {}),
    slot: smallInt(trusted[LABEL_SLOT]),
    cpusetCpus: cpuList(h.CpusetCpus),
    cpusetMems: cpuList(h.CpusetMems),
    numaNode: smallInt(trusted[LABEL_NUMA_NODE]),
    memoryLimitMiB: mib(h.Memory),
    shmSizeMiB: mib(h.ShmSize),
  };
}

/**
 * The case from the inputs mount: the *.nii.gz files on the host side of the bind mount at
 * /workspace/inputs (first by name when several, flagged).
 */
function caseFromInputs(inspect: InspectFacts, listDir: (hostDir: string) => string[] | null, flags: RunFlag[], facts: RunFacts): string | null {
  const mount = (inspect.Mounts ?? []).find((m) => m.Destination === INPUTS_MOUNT || m.Destination === INPUTS_MOUNT + '/');
  if (!mount) return null;
  const files = (listDir(mount.Source) ?? []).filter((f) => f.endsWith('.nii.gz')).sort();
  if (files.length === 0) return null;
  if (files.length > 1) {
    flags.push('case-ambiguous');
    facts.caseInputFiles = files.length;
  }
  return cleanText(caseFromFileName(files[0]));
}

/**
 * The `flare.*` labels the organiser set; a flag and the facts name those that came from the image
 * (the first MAX_FACT_LIST keys, cleaned; their count). Without the image's labels (image removed,
 * inspect failed) no `flare.*` label can be told apart, so none counts.
 */
export function trustedLabels(labels: Record<string, string>, trust: LabelTrust, flags: RunFlag[], facts: RunFacts): Record<string, string> {
  const out: Record<string, string> = {};
  const fromImage: string[] = [];
  for (const [key, value] of Object.entries(labels)) {
    if (!key.startsWith('flare.')) continue;
    const image = trust.imageLabels;
    const inherited = image === null || (Object.prototype.hasOwnProperty.call(image, key) && image[key] === value);
    if (inherited) fromImage.push(key);
    if (!inherited || trust.trustImageLabels) out[key] = value;
  }
  if (fromImage.length === 0) return out;
  if (trust.imageLabels === null) flags.push('image-labels-unknown');
  else {
    fromImage.sort();
    flags.push('label-from-image');
    facts.labelsFromImage = fromImage.slice(0, MAX_FACT_LIST).map((key) => cleanText(key).slice(0, 64));
    facts.labelsFromImageCount = fromImage.length;
  }
  if (trust.trustImageLabels) flags.push('unsafe-trust-image-labels');
  return out;
}

export function containerIdentity(
  inspect: InspectFacts,
  node: string,
  ceilingSeconds: number | null,
  trust: LabelTrust,
  listDir: (hostDir: string) => string[] | null,
  /** The node's GPUs (the GPU source's devices), to resolve the container's device request. */
  gpus: readonly { index: number; uuid: string }[] = [],
  /** The node's MIG devices, so a request naming one resolves to it. */
  migs: readonly { uuid: string; parentIndex: number }[] = [],
): ContainerIdentity {
  const flags: RunFlag[] = [];
  const facts: RunFacts = {};
  const labels = trustedLabels(inspect.Config.Labels ?? {}, trust, flags, facts);
  const name = containerName(inspect);
  const label = (key: string): string | null => {
    const v = labels[key];
    if (v === undefined) return null;
    const clean = cleanText(v);
    return clean.trim() === '' ? null : clean;
  };
  const team = label(LABEL_TEAM) ?? name;
  const caseName = label(LABEL_CASE) ?? caseFromInputs(inspect, listDir, flags, facts) ?? name;
  let timeLimitSeconds = ceilingSeconds;
  if (labels[LABEL_TIME_LIMIT] !== undefined) {
    timeLimitSeconds = labelTimeLimit(labels[LABEL_TIME_LIMIT], ceilingSeconds, flags);
  }
  const requested = requestedGpus(inspect);
  const given = resolveGpuRequest(requested, gpus, migs);
  // Only with a GPU source: without one every request would look unresolved.
  if (gpus.length > 0 && given.unresolved.length > 0) {
    flags.push('gpu-request-unresolved');
    facts.gpuRequestsUnresolved = given.unresolved.slice(0, 4).map((id) => cleanText(id).slice(0, 64));
  }
  return {
    identity: {
      kind: 'container',
      runtime: 'docker',
      team,
      case: caseName,
      node,
      containerId: inspect.Id,
      containerName: name,
      image: cleanText(inspect.Config.Image),
      imageId: cleanText(inspect.Image),
      gpuDevices: requested,
      placement: placementOf(inspect, labels, given),
    },
    timeLimitSeconds,
    flags,
    facts,
  };
}
