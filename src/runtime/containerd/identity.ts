// Who a containerd container is, as kubelet's CRI plugin creates them in namespace k8s.io (docs/containerd.md).
// The organiser's labels (flare.team, flare.case, flare.time_limit_s) are read from the POD: kubelet
// puts the pod's labels on the pod sandbox container, not on the workload's container, whose own
// labels come from kubelet (io.kubernetes.*) merged over the team's IMAGE labels — so a label on the
// workload container may have been written by the team and is never used for identity. The same
// policy as for Docker: the organiser's word only, untrusted text cleaned and bounded. Pure.
import type { RunIdentity } from '../../core/types.js';
import type { RunFlag } from '../../core/run-facts.js';
import { cleanText, LABEL_CASE, LABEL_TEAM, LABEL_TIME_LIMIT, labelTimeLimit } from '../labels.js';

export const K8S_POD_NAME = 'io.kubernetes.pod.name';
export const K8S_POD_NAMESPACE = 'io.kubernetes.pod.namespace';
export const K8S_POD_UID = 'io.kubernetes.pod.uid';
export const K8S_CONTAINER_NAME = 'io.kubernetes.container.name';
/** The CRI plugin's own label: `sandbox` for a pod's sandbox, `container` for a workload container. */
export const CRI_KIND = 'io.cri-containerd.kind';
/** Set by the Job controller on an Indexed Job's pods (Kubernetes ≥ 1.28): the pod's completion index. */
export const JOB_COMPLETION_INDEX = 'batch.kubernetes.io/job-completion-index';

export interface CtrFacts {
  id: string;
  labels: Record<string, string>;
  image: string;
}

export interface PodIdentity {
  identity: RunIdentity;
  timeLimitSeconds: number | null;
  flags: RunFlag[];
  /** The labels selection looks at: the pod's (organiser's) labels. */
  selectionLabels: Record<string, string>;
  name: string;
}

export const isSandbox = (c: CtrFacts): boolean => c.labels[CRI_KIND] === 'sandbox';

/** The sandbox of a workload container: same pod uid, kind sandbox. */
export function sandboxOf(c: CtrFacts, all: readonly CtrFacts[]): CtrFacts | null {
  const uid = c.labels[K8S_POD_UID];
  if (!uid) return null;
  return all.find((s) => isSandbox(s) && s.labels[K8S_POD_UID] === uid) ?? null;
}

const indexCase = (raw: string | null): string | null => (raw !== null && /^\d{1,6}$/.test(raw) ? `index-${raw}` : null);

/** `namespace/pod/container` from kubelet's labels; the container id for one kubelet did not create. */
export function podName(c: CtrFacts): string {
  const ns = cleanText(c.labels[K8S_POD_NAMESPACE] ?? '');
  const pod = cleanText(c.labels[K8S_POD_NAME] ?? '');
  const ctr = cleanText(c.labels[K8S_CONTAINER_NAME] ?? '');
  return pod ? `${ns ? `${ns}/` : ''}${pod}${ctr ? `/${ctr}` : ''}` : cleanText(c.id);
}

/**
 * Identity of a workload container from its pod's sandbox labels. Without a sandbox (not created by
 * kubelet) the container has no organiser labels: team and case fall back to its name, flagged.
 */
export function podIdentity(c: CtrFacts, sandbox: CtrFacts | null, node: string, ceilingSeconds: number | null): PodIdentity {
  const flags: RunFlag[] = [];
  const podLabels = sandbox?.labels ?? {};
  if (!sandbox) flags.push('no-pod-sandbox');
  const label = (key: string): string | null => {
    const v = podLabels[key];
    if (v === undefined) return null;
    const clean = cleanText(v);
    return clean.trim() === '' ? null : clean;
  };
  const pod = cleanText(c.labels[K8S_POD_NAME] ?? '');
  const name = podName(c);
  // Bounded by the --time-limit ceiling, as Docker's labels are (labels.ts).
  const timeLimitSeconds = podLabels[LABEL_TIME_LIMIT] !== undefined ? labelTimeLimit(podLabels[LABEL_TIME_LIMIT], ceilingSeconds, flags) : ceilingSeconds;
  return {
    identity: {
      kind: 'container',
      runtime: 'containerd',
      team: label(LABEL_TEAM) ?? name,
      // An Indexed Job's pod without flare.case: its index (line index+1 of the shared case list).
      case: label(LABEL_CASE) ?? indexCase(label(JOB_COMPLETION_INDEX)) ?? (pod || name),
      node,
      containerId: c.id,
      containerName: name,
      image: cleanText(c.image),
      gpuDevices: [],
    },
    timeLimitSeconds,
    flags,
    selectionLabels: podLabels,
    name,
  };
}
