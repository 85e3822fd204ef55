// containerd attachment, pure parts: identity from the pod sandbox's labels under the organiser-only
// policy, the messages' wire form, and kubepods cgroups (v1 and v2, as kubelet's cgroupfs and systemd
// drivers name them) resolved through /proc/<pid>/cgroup.
import { describe, expect, it } from 'vitest';
import { decodeEvent } from '../../src/runtime/containerd/client.js';
import { isSandbox, podIdentity, sandboxOf, type CtrFacts } from '../../src/runtime/containerd/identity.js';
import { lifecycleOf } from '../../src/runtime/containerd/adapter.js';
import { chooseRuntimes, dockerSocketPath } from '../../src/runtime/registry.js';
import * as P from '../../src/runtime/containerd/proto.js';
import { pickCgroup, type CgroupMounts, type PickOptions } from '../../src/cgroup/mounts.js';
import type { CgroupPaths } from '../../src/cgroup/types.js';

/** The paths pickCgroup finds, without its words; null when no mounted hierarchy holds the process. */
function cgroupPathsFromProcText(text: string, mounts: CgroupMounts, opts: PickOptions): CgroupPaths | null {
  const pick = pickCgroup(text, mounts, opts);
  return 'paths' in pick ? pick.paths : null;
}

const uid = '6f0c1d2e-1111-2222-3333-444455556666';
const kubelet = { 'io.kubernetes.pod.uid': uid, 'io.kubernetes.pod.name': 'flare-eval-teamalpha-3-x7k2p', 'io.kubernetes.pod.namespace': 'flare-eval' };
const sandbox: CtrFacts = { id: 'sb', image: 'registry.k8s.io/pause:3.9', labels: { ...kubelet, 'io.cri-containerd.kind': 'sandbox', 'flare.team': 'teamalpha', 'flare.case': 'FLARETs_0003', 'flare.time_limit_s': '60' } };
const workload: CtrFacts = {
  id: 'abc123',
  image: 'registry.example/teamalpha:v1',
  // What the team's image says about itself ends up here too (the CRI plugin merges image labels).
  labels: { ...kubelet, 'io.kubernetes.container.name': 'predict', 'io.cri-containerd.kind': 'container', 'flare.team': 'winner', 'flare.time_limit_s': '99999' },
};

describe('containerd identity', () => {
  it('team, case and time limit come from the pod (sandbox), never from the workload container', () => {
    expect(isSandbox(sandbox)).toBe(true);
    expect(sandboxOf(workload, [workload, sandbox])).toBe(sandbox);
    const who = podIdentity(workload, sandbox, 'node-1', null);
    expect(who.identity).toMatchObject({ team: 'teamalpha', case: 'FLARETs_0003', containerId: 'abc123', containerName: 'flare-eval/flare-eval-teamalpha-3-x7k2p/predict', image: 'registry.example/teamalpha:v1', node: 'node-1' });
    expect(who.timeLimitSeconds).toBe(60);
    expect(who.selectionLabels['flare.team']).toBe('teamalpha');
    expect(who.flags).toEqual([]);
  });

  it("an Indexed Job's pod without flare.case: the case is its completion index", () => {
    const { 'flare.case': _omit, ...labels } = sandbox.labels;
    const who = podIdentity(workload, { ...sandbox, labels: { ...labels, 'batch.kubernetes.io/job-completion-index': '3' } }, 'n', null);
    expect(who.identity.case).toBe('index-3');
    expect(podIdentity(workload, { ...sandbox, labels: { ...labels, 'batch.kubernetes.io/job-completion-index': '3; x' } }, 'n', null).identity.case).toBe('flare-eval-teamalpha-3-x7k2p');
  });

  it('without a sandbox: no organiser labels, names as fallback, flagged; bad text cleaned', () => {
    const who = podIdentity(workload, null, 'n', 30);
    expect([who.identity.team, who.identity.case, who.timeLimitSeconds, who.flags]).toEqual(['flare-eval/flare-eval-teamalpha-3-x7k2p/predict', 'flare-eval-teamalpha-3-x7k2p', 30, ['no-pod-sandbox']]);
    const evil = podIdentity(workload, { ...sandbox, labels: { ...sandbox.labels, 'flare.team': 'a\u0000b\u001b[31m', 'flare.time_limit_s': '1;rm' } }, 'n', null);
    expect(evil.identity.team).toBe('ab[31m');
    expect(evil.flags).toContain('invalid-time-limit-label');
  });

  it('a pod\'s time limit is bounded by the --time-limit ceiling, as a Docker label is', () => {
    const withLimit = (v: string) => ({ ...sandbox, labels: { ...sandbox.labels, 'flare.time_limit_s': v } });
    expect(podIdentity(workload, withLimit('60'), 'n', 300).timeLimitSeconds).toBe(60);
    const above = podIdentity(workload, withLimit('99999'), 'n', 300);
    expect([above.timeLimitSeconds, above.flags]).toEqual([300, ['time-limit-label-above-ceiling']]);
    // No ceiling: the label's limit, within the option's range.
    expect(podIdentity(workload, withLimit('99999'), 'n', null).timeLimitSeconds).toBe(99999);
    expect(podIdentity(workload, withLimit('9999999'), 'n', null).flags).toEqual(['invalid-time-limit-label']);
  });

  it('lifecycle events: an exec\'d process\'s exit is not the container\'s', () => {
    expect(lifecycleOf({ topic: '/tasks/exit', timeNs: 7n, containerId: 'abc', execId: 'abc', pid: 42, exitStatus: 137, exitedAtNs: 9n })).toEqual({ kind: 'exit', containerId: 'abc', timeNs: 7n, exitCode: 137, exitedAtNs: 9n });
    expect(lifecycleOf({ topic: '/tasks/exit', timeNs: 7n, containerId: 'abc', execId: 'exec-1', pid: 43, exitStatus: 0, exitedAtNs: 9n })).toBeNull();
    expect(lifecycleOf({ topic: '/tasks/start', timeNs: 5n, containerId: 'abc', pid: 42 })).toEqual({ kind: 'start', containerId: 'abc', timeNs: 5n, pid: 42 });
    expect(lifecycleOf({ topic: '/containers/delete', timeNs: 8n, containerId: 'abc' })).toEqual({ kind: 'remove', containerId: 'abc', timeNs: 8n });
  });

  it('events decode from the wire form; Go\'s zero time is no time', () => {
    const exit = P.encode(P.TaskExit, { containerId: 'abc', id: 'abc', pid: 42, exitStatus: 137, exitedAt: { seconds: 1_800_000_000, nanos: 5 } });
    expect(decodeEvent('/tasks/exit', 7n, exit)).toEqual({ topic: '/tasks/exit', timeNs: 7n, containerId: 'abc', execId: 'abc', pid: 42, exitStatus: 137, exitedAtNs: 1_800_000_000_000_000_005n });
    expect(decodeEvent('/tasks/paused', null, Buffer.alloc(0))).toBeNull();
    expect(P.timestampNs({ seconds: -62135596800, nanos: 0 })).toBeNull();
  });

  it('--runtime: auto attaches to each runtime whose socket exists', () => {
    expect(chooseRuntimes('containerd', { docker: true, containerd: false })).toEqual(['containerd']);
    expect(chooseRuntimes('auto', { docker: true, containerd: true })).toEqual(['docker', 'containerd']);
    expect(chooseRuntimes('auto', { docker: false, containerd: true })).toEqual(['containerd']);
    expect(chooseRuntimes('auto', { docker: false, containerd: false })).toEqual(['docker']);
    expect(dockerSocketPath(null, { DOCKER_HOST: 'unix:///run/d.sock' })).toBe('/run/d.sock');
    expect(dockerSocketPath('tcp://h:2375', {})).toBeNull();
  });
});

// The discovery the watcher uses (pickCgroup, docs/cgroups.md), with the paths taken to exist on disk.
describe('kubepods cgroups through /proc/<pid>/cgroup', () => {
  const id = 'a1b2c3';
  it('v1 (cgroupfs driver): per-controller paths under /kubepods/<qos>/pod<uid>/<id>', () => {
    const mounts: CgroupMounts = { v1: { cpuacct: '/sys/fs/cgroup/cpu,cpuacct', memory: '/sys/fs/cgroup/memory' }, v2: null, v2Controllers: [] };
    const text = `12:memory:/kubepods/burstable/pod${uid}/${id}\n4:cpu,cpuacct:/kubepods/burstable/pod${uid}/${id}\n0::/\n`;
    expect(cgroupPathsFromProcText(text, mounts, { mustContain: id, exists: () => true })).toEqual({
      cpu: { version: 1, dir: `/sys/fs/cgroup/cpu,cpuacct/kubepods/burstable/pod${uid}/${id}` },
      memory: { version: 1, dir: `/sys/fs/cgroup/memory/kubepods/burstable/pod${uid}/${id}` },
    });
  });
  it('v2 (systemd driver): one path under kubepods.slice', () => {
    const mounts: CgroupMounts = { v1: {}, v2: '/sys/fs/cgroup', v2Controllers: ['cpu', 'memory'] };
    const path = `/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${uid.replaceAll('-', '_')}.slice/cri-containerd-${id}.scope`;
    expect(cgroupPathsFromProcText(`0::${path}\n`, mounts, { mustContain: id, exists: () => true })).toEqual({ cpu: { version: 2, dir: `/sys/fs/cgroup${path}` }, memory: { version: 2, dir: `/sys/fs/cgroup${path}` } });
  });
});
