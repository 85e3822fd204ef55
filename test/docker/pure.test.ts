// The Docker attachment's pure parts: selection rules, identity from inspect JSON, Docker times, end verdicts.
import { describe, expect, it } from 'vitest';
import { endVerdict } from '../../src/runtime/end.js';
import { parseEvent } from '../../src/runtime/docker/events.js';
import { caseFromFileName, containerIdentity, requestedGpus, type InspectFacts } from '../../src/runtime/docker/identity.js';
import { cleanText } from '../../src/runtime/labels.js';
import { dockerOptions } from '../../src/runtime/docker/client.js';
import { isSelected, parseSelector } from '../../src/runtime/select.js';
import { epochNsToMonoNs } from '../../src/runtime/clock.js';
import { parseDockerTimeNs } from '../../src/runtime/docker/time.js';

const ID = 'a'.repeat(64);
/** Labels given at `docker run`: the image has none of them. */
const ORG = { imageLabels: {}, trustImageLabels: false };

function inspect(over: Partial<InspectFacts> = {}, labels: Record<string, string> = {}): InspectFacts {
  return {
    Id: ID,
    Name: '/team-blue',
    Image: 'sha256:' + 'b'.repeat(64),
    Config: { Image: 'blue/seg:latest', Labels: labels },
    State: { Pid: 42, Running: true, StartedAt: '2024-05-01T10:00:00.123456789Z', FinishedAt: '0001-01-01T00:00:00Z', ExitCode: 0, OOMKilled: false },
    Mounts: [],
    HostConfig: { DeviceRequests: null },
    ...over,
  };
}

describe('selection', () => {
  const facts = { labels: { 'flare.team': 'x', tier: 'gpu' }, name: 'team-blue', image: 'blue/seg:latest' };
  it('matches label presence, label value, name and image patterns, and all', () => {
    expect(isSelected(parseSelector('label:flare.team'), facts)).toBe(true);
    expect(isSelected(parseSelector('label:flare.case'), facts)).toBe(false);
    expect(isSelected(parseSelector('label:tier=gpu'), facts)).toBe(true);
    expect(isSelected(parseSelector('label:tier=cpu'), facts)).toBe(false);
    expect(isSelected(parseSelector('label:tier='), facts)).toBe(false);
    expect(isSelected(parseSelector('name:^team-'), facts)).toBe(true);
    expect(isSelected(parseSelector('name:^red'), facts)).toBe(false);
    expect(isSelected(parseSelector('image:^blue/'), facts)).toBe(true);
    expect(isSelected(parseSelector('all'), { labels: {}, name: '', image: '' })).toBe(true);
  });
  it('does not treat inherited object keys as labels', () => {
    expect(isSelected(parseSelector('label:constructor'), { ...facts, labels: {} })).toBe(false);
  });
});

describe('identity', () => {
  it('takes team and case from labels, ids, image and name without the slash', () => {
    const who = containerIdentity(inspect({}, { 'flare.team': 'Blue', 'flare.case': 'c07' }), 'node1', null, ORG, () => null);
    expect(who.identity).toEqual({
      kind: 'container', runtime: 'docker', team: 'Blue', case: 'c07', node: 'node1', containerId: ID, containerName: 'team-blue',
      image: 'blue/seg:latest', imageId: 'sha256:' + 'b'.repeat(64), gpuDevices: [],
      placement: { slot: null, cpusetCpus: null, cpusetMems: null, numaNode: null, memoryLimitMiB: null, shmSizeMiB: null, gpuIndices: null },
    });
    expect(who.flags).toEqual([]);
  });
  it('records the placement the organiser set: HostConfig, and the slot and NUMA labels only when trusted', () => {
    const base = inspect({}, { 'flare.team': 'Blue', 'flare.slot': '2', 'flare.numa_node': '1' });
    const placed = { ...base, HostConfig: { CpusetCpus: '0-3,8', CpusetMems: '1', Memory: 8 * 1048576 * 1024, ShmSize: 64 * 1048576 } };
    expect(containerIdentity(placed, 'n', null, ORG, () => null).identity.placement).toEqual({
      slot: 2, cpusetCpus: '0-3,8', cpusetMems: '1', numaNode: 1, memoryLimitMiB: 8192, shmSizeMiB: 64, gpuIndices: null,
    });
    // A slot baked into the image is not the organiser's (the NUMA label differs from the image's, so
    // it was set at create); values that are not what Docker accepts are not recorded.
    const fromImage = { imageLabels: { 'flare.slot': '2', 'flare.numa_node': '0' }, trustImageLabels: false };
    const odd = { ...base, HostConfig: { CpusetCpus: '0-3;rm -rf', Memory: 0 } };
    const who = containerIdentity(odd, 'n', null, fromImage, () => null);
    expect(who.identity.placement).toEqual({ slot: null, cpusetCpus: null, cpusetMems: null, numaNode: 1, memoryLimitMiB: null, shmSizeMiB: null, gpuIndices: null });
    expect(who.flags).toContain('label-from-image');
    expect(who.facts.labelsFromImage).toContain('flare.slot');
  });
  it('resolves the device request on the node\'s GPUs: device=1,3 exactly, --gpus 2 as GPUs 0 and 1, unknown ids flagged', () => {
    const gpus = [0, 1, 2, 3].map((index) => ({ index, uuid: `GPU-${index}` }));
    const req = (r: NonNullable<InspectFacts['HostConfig']>['DeviceRequests']) => inspect({ HostConfig: { DeviceRequests: r } }, { 'flare.team': 'Blue' });
    const ids = containerIdentity(req([{ Driver: 'nvidia', DeviceIDs: ['1', '3'], Capabilities: [['gpu']] }]), 'n', null, ORG, () => null, gpus);
    expect(ids.identity.gpuDevices).toEqual(['1', '3']);
    expect(ids.identity.placement?.gpuIndices).toEqual([1, 3]);
    const count = containerIdentity(req([{ Driver: 'nvidia', Count: 2, Capabilities: [['gpu']] }]), 'n', null, ORG, () => null, gpus);
    expect(count.identity.gpuDevices).toEqual(['count:2']); // the request as made
    expect(count.identity.placement?.gpuIndices).toEqual([0, 1]); // what Docker gave
    const odd = containerIdentity(req([{ Driver: 'nvidia', DeviceIDs: ['GPU-3', 'GPU-9'], Capabilities: [['gpu']] }]), 'n', null, ORG, () => null, gpus);
    expect(odd.identity.placement?.gpuIndices).toEqual([3]);
    expect([odd.flags, odd.facts]).toEqual([['gpu-request-unresolved'], { gpuRequestsUnresolved: ['GPU-9'] }]);
    // Without a GPU source nothing resolves, and nothing is flagged for it.
    const blind = containerIdentity(req([{ Driver: 'nvidia', DeviceIDs: ['1'], Capabilities: [['gpu']] }]), 'n', null, ORG, () => null);
    expect([blind.identity.placement?.gpuIndices, blind.flags, blind.facts]).toEqual([null, [], {}]);
  });
  it('falls back to the container name, and to the input file of the /workspace/inputs bind mount', () => {
    const listed: string[] = [];
    const mounts = [{ Type: 'bind', Source: '/data/out', Destination: '/workspace/outputs' }, { Type: 'bind', Source: '/data/in', Destination: '/workspace/inputs' }];
    const who = containerIdentity(inspect({ Mounts: mounts }), 'n', null, ORG, (dir) => (listed.push(dir), ['notes.txt', 'FLARETs_0001_0000.nii.gz']));
    expect(listed).toEqual(['/data/in']);
    expect(who.identity.team).toBe('team-blue');
    expect(who.identity.case).toBe('FLARETs_0001');
    const none = containerIdentity(inspect(), 'n', null, ORG, () => ['x.nii.gz']);
    expect(none.identity.case).toBe('team-blue');
    const several = containerIdentity(inspect({ Mounts: mounts }), 'n', null, ORG, () => ['b.nii.gz', 'a_0000.nii.gz']);
    expect(several.identity.case).toBe('a');
    expect([several.flags, several.facts]).toEqual([['case-ambiguous'], { caseInputFiles: 2 }]);
  });
  it('strips control characters, limits length, and ignores blank labels', () => {
    expect(cleanText('a\u0000b\nc\u009bd<e>')).toBe('abcd<e>');
    expect(cleanText('é'.repeat(300))).toHaveLength(200);
    const who = containerIdentity(inspect({}, { 'flare.team': ' \n', 'flare.case': '\u0007' }), 'n', null, ORG, () => null);
    expect(who.identity.team).toBe('team-blue');
    expect(who.identity.case).toBe('team-blue');
    expect(caseFromFileName('case.nii.gz')).toBe('case');
  });
  it('takes the time limit from the label when it is a decimal in range and not above --time-limit, else the ceiling with a flag', () => {
    expect(containerIdentity(inspect({}, { 'flare.time_limit_s': '60.5' }), 'n', null, ORG, () => null).timeLimitSeconds).toBe(60.5);
    expect(containerIdentity(inspect({}, { 'flare.time_limit_s': '6.5' }), 'n', 10, ORG, () => null).timeLimitSeconds).toBe(6.5);
    const above = containerIdentity(inspect({}, { 'flare.time_limit_s': '60.5' }), 'n', 10, ORG, () => null);
    expect(above.timeLimitSeconds).toBe(10);
    expect(above.flags).toEqual(['time-limit-label-above-ceiling']);
    expect(containerIdentity(inspect(), 'n', 10, ORG, () => null).timeLimitSeconds).toBe(10);
    for (const bad of ['0', '-1', 'abc', 'Infinity', '1e999', '1e308', '604801', '', '0x10', ' ', '[5]']) {
      const who = containerIdentity(inspect({}, { 'flare.time_limit_s': bad }), 'n', null, ORG, () => null);
      expect(who.timeLimitSeconds, bad).toBeNull();
      expect(who.flags, bad).toContain('invalid-time-limit-label');
    }
  });
  it('ignores flare.* labels the image carries with the same value, and flags them', () => {
    const image = { 'flare.team': 'victim', 'flare.time_limit_s': '99999', 'org.opencontainers.image.title': 'x' };
    const spoofed = inspect({}, { ...image, 'flare.case': 'c1' });
    const who = containerIdentity(spoofed, 'n', 2, { imageLabels: image, trustImageLabels: false }, () => null);
    expect(who.identity.team).toBe('team-blue');
    expect(who.identity.case).toBe('c1');
    expect(who.timeLimitSeconds).toBe(2);
    expect(who.flags).toEqual(['label-from-image']);
    expect(who.facts).toEqual({ labelsFromImage: ['flare.team', 'flare.time_limit_s'], labelsFromImageCount: 2 });
    // The organiser overriding the image's value at `docker run` is trusted.
    const overridden = containerIdentity(inspect({}, { ...image, 'flare.team': 'blue' }), 'n', 2, { imageLabels: image, trustImageLabels: false }, () => null);
    expect(overridden.identity.team).toBe('blue');
    // Blind trust, on request: identity from the image, the limit still capped by the ceiling.
    const blind = containerIdentity(spoofed, 'n', 2, { imageLabels: image, trustImageLabels: true }, () => null);
    expect(blind.identity.team).toBe('victim');
    expect(blind.timeLimitSeconds).toBe(2);
    expect(blind.flags).toContain('unsafe-trust-image-labels');
    // The image's labels unknown: no flare.* label can be trusted.
    const unknown = containerIdentity(inspect({}, { 'flare.team': 'blue' }), 'n', null, { imageLabels: null, trustImageLabels: false }, () => null);
    expect(unknown.identity.team).toBe('team-blue');
    expect(unknown.flags).toEqual(['image-labels-unknown']);
  });
  it('strips bidi controls like other control characters', () => {
    expect(cleanText('abc\u202Egnp.exe\u2066x\u2069\u200e')).toBe('abcgnp.exex');
  });
  it('reads requested GPUs from DeviceRequests', () => {
    const gpu = [['gpu']];
    expect(requestedGpus(inspect({ HostConfig: { DeviceRequests: [{ Driver: '', Count: 0, DeviceIDs: ['0', '2'], Capabilities: gpu }] } }))).toEqual(['0', '2']);
    expect(requestedGpus(inspect({ HostConfig: { DeviceRequests: [{ Driver: '', Count: -1, DeviceIDs: null, Capabilities: gpu }] } }))).toEqual(['all']);
    expect(requestedGpus(inspect({ HostConfig: { DeviceRequests: [{ Driver: 'nvidia', Count: 2 }] } }))).toEqual(['count:2']);
    expect(requestedGpus(inspect({ HostConfig: { DeviceRequests: [{ Driver: 'other', Count: -1, Capabilities: [['tpu']] }] } }))).toEqual([]);
  });
});

describe('Docker times', () => {
  it('keeps nanoseconds that Date would drop', () => {
    expect(parseDockerTimeNs('2024-05-01T10:00:00.123456789Z')).toBe(1714557600123456789n);
    expect(parseDockerTimeNs('2024-05-01T10:00:00Z')).toBe(1714557600000000000n);
    expect(parseDockerTimeNs('2024-05-01T12:00:00.5+02:00')).toBe(1714557600500000000n);
    expect(parseDockerTimeNs('0001-01-01T00:00:00Z')).toBeNull();
    expect(parseDockerTimeNs('yesterday')).toBeNull();
  });
  it('maps an epoch instant onto the monotonic clock through one clock pair', () => {
    const now = { wallMs: 1714557610000, monoNs: 5e12 };
    expect(epochNsToMonoNs(1714557600123456789n, now)).toBe(5e12 - 9876543211);
  });
});

describe('end verdict', () => {
  const base = { exitCode: 0, oomKilled: false, sawOom: false, killedByAgent: false, killedExternally: false };
  it('orders the agent kill, OOM, an external kill and a plain exit', () => {
    expect(endVerdict(base)).toEqual({ status: 'completed', terminationReason: 'exited', exitCode: 0 });
    expect(endVerdict({ ...base, exitCode: 2 })).toEqual({ status: 'failed', terminationReason: 'exited', exitCode: 2 });
    expect(endVerdict({ ...base, exitCode: 137, oomKilled: true })).toMatchObject({ status: 'oom', terminationReason: 'oom' });
    expect(endVerdict({ ...base, exitCode: 137, sawOom: true })).toMatchObject({ status: 'oom' });
    expect(endVerdict({ ...base, exitCode: 137, killedExternally: true })).toMatchObject({ status: 'failed', terminationReason: 'killed externally' });
    expect(endVerdict({ ...base, exitCode: 137, killedByAgent: true, sawOom: true })).toMatchObject({ status: 'timeout', terminationReason: 'killed at time limit' });
  });
});

describe('events and client options', () => {
  it('parses container events and drops the rest', () => {
    const e = parseEvent({ Type: 'container', Action: 'die', Actor: { ID: ID, Attributes: { exitCode: '3' } }, time: 1, timeNano: 1714557600123456789 });
    expect(e).toEqual({ kind: 'exit', containerId: ID, timeNs: BigInt(1714557600123456789), exitCode: 3, exitedAtNs: null });
    expect(parseEvent({ Type: 'container', Action: 'exec_start: sh', Actor: { ID } })).toBeNull();
    expect(parseEvent({ Type: 'network', Action: 'connect', Actor: { ID } })).toBeNull();
    expect(parseEvent({ Type: 'container', Action: 'start', Actor: { ID: 'short' } })).toBeNull();
  });
  it('honours socket paths, unix:// and tcp:// hosts', () => {
    expect(dockerOptions('/run/docker.sock')).toEqual({ socketPath: '/run/docker.sock' });
    expect(dockerOptions(null, { DOCKER_HOST: 'unix:///tmp/d.sock' })).toEqual({ socketPath: '/tmp/d.sock' });
    expect(dockerOptions(null, { DOCKER_HOST: 'tcp://10.0.0.2:2375' })).toEqual({ host: '10.0.0.2', port: 2375, protocol: 'http' });
    expect(dockerOptions(null, {})).toEqual({ socketPath: '/var/run/docker.sock' });
    expect(() => dockerOptions('ssh://host')).toThrow(/unsupported Docker host/);
  });
});
