// The Kubernetes evaluation Job template, filled as docs/kubernetes-evaluation.md fills it, checked as
// structure (no cluster here): kinds and API versions, Indexed mode, organiser labels, the GPU request,
// both deadlines, volumes, and nothing left unfilled.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';

const ROOT = join(import.meta.dirname, '..', '..');
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Obj = Record<string, any>;

/** The guide's sed substitutions, in the guide's order. */
const FILL: [string, string][] = [
  ['<registry>/<team>:<tag>', 'registry.example/teamalpha:v1'],
  ['<team>', 'teamalpha'],
  ['<number of cases>', '100'],
  ['<GPUs to use at once>', '4'],
  ['<time limit s + start-up margin>', '120'],
  ['<time limit s>', '60'],
  ['<job deadline s>', '3600'],
];

describe('Kubernetes evaluation Job template', () => {
  const raw = readFileSync(join(ROOT, 'deploy/kubernetes/evaluation-job.yaml'), 'utf8');
  const filled = FILL.reduce((s, [from, to]) => s.split(from).join(to), raw);
  const docs = parseAllDocuments(filled).map((d) => {
    expect(d.errors).toEqual([]);
    return d.toJS() as Obj;
  });
  const job = docs.find((d) => d.kind === 'Job')!;
  const pod = job.spec.template;
  const predict = pod.spec.containers.find((c: Obj) => c.name === 'predict');

  it('the guide fills every placeholder, and the guide documents each one', () => {
    const yamlLines = filled.split('\n').filter((l) => !/^\s*#/.test(l));
    expect(yamlLines.filter((l) => /<[a-z][^>]*>/i.test(l))).toEqual([]);
    const guide = readFileSync(join(ROOT, 'docs/kubernetes-evaluation.md'), 'utf8');
    for (const [from] of FILL) if (from !== '<registry>/<team>:<tag>') expect(guide).toContain(from);
    expect(docs.map((d) => `${d.apiVersion} ${d.kind}`)).toEqual(['batch/v1 Job', 'networking.k8s.io/v1 NetworkPolicy']);
  });

  it('an Indexed Job over the cases, never retried, with a deadline for the whole team', () => {
    expect(job.spec).toMatchObject({ completionMode: 'Indexed', completions: 100, parallelism: 4, backoffLimit: 0, activeDeadlineSeconds: 3600 });
    expect(pod.spec.restartPolicy).toBe('Never');
    // The init container picks line index+1 of the case list.
    const stage = pod.spec.initContainers[0];
    expect(stage.args.join(' ')).toContain('$((JOB_COMPLETION_INDEX + 1))p');
  });

  it('organiser labels, one GPU, whole CPUs as requests = limits, and the time limit twice', () => {
    expect(pod.metadata.labels).toEqual({ 'flare.team': 'teamalpha', 'flare.time_limit_s': '60' });
    expect(predict.resources.limits['nvidia.com/gpu']).toBe(1);
    expect(predict.resources.requests).toEqual(predict.resources.limits);
    expect(Number.isInteger(Number(predict.resources.limits.cpu))).toBe(true);
    expect(pod.spec.activeDeadlineSeconds).toBeGreaterThan(Number(pod.metadata.labels['flare.time_limit_s']));
    expect(predict.command).toEqual(['/bin/bash', '-c', 'sh predict.sh']);
    expect(pod.spec.automountServiceAccountToken).toBe(false);
  });

  it('mounts only volumes that exist, with the FLARE paths; no network', () => {
    const volumes = new Set(pod.spec.volumes.map((v: Obj) => v.name));
    for (const c of [...pod.spec.initContainers, ...pod.spec.containers]) for (const m of c.volumeMounts) expect(volumes.has(m.name), m.name).toBe(true);
    expect(predict.volumeMounts.map((m: Obj) => m.mountPath).sort()).toEqual(['/dev/shm', '/workspace/inputs', '/workspace/outputs']);
    const policy = docs.find((d) => d.kind === 'NetworkPolicy')!;
    expect(policy.spec.policyTypes).toEqual(['Ingress', 'Egress']);
    expect(policy.spec.ingress).toBeUndefined();
    expect(policy.spec.egress).toBeUndefined();
    expect(policy.spec.podSelector.matchExpressions[0]).toEqual({ key: 'flare.team', operator: 'Exists' });
  });
});
