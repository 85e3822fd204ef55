// The harness's pure parts: option parsing, team names, docker load output, progress, resume rule.
import { describe, expect, it } from 'vitest';
import { loadedRefs } from '../../src/evaluate/image.js';
import { parseEvaluateOptions, parseSize, teamFromImage } from '../../src/evaluate/options.js';
import { barLine, createProgress, etaSeconds } from '../../src/evaluate/progress.js';
import { everyCaseRan, resumableCases, totalsOf, type CaseRecord, type EvaluationSummary } from '../../src/evaluate/record.js';
import { containerConfig } from '../../src/evaluate/container.js';
import { UsageError } from '../../src/usage-error.js';

const rec = (name: string, over: Partial<CaseRecord> = {}): CaseRecord => ({ name, state: 'done', runId: `r-${name}`, containerId: 'c', end: 'exited', exitCode: 0, oomKilled: false, outputPresent: true, harnessWallSeconds: 1, status: 'completed', exceededTimeLimit: false, error: null, ...over });

describe('evaluate options', () => {
  it('sizes in Docker units; team from the image name', () => {
    expect(parseSize('memory', '28g')).toBe(28 * 1024 ** 3);
    expect(parseSize('memory', '512m')).toBe(512 * 1024 ** 2);
    expect(() => parseSize('memory', '28 gigs')).toThrow(UsageError);
    expect(() => parseSize('memory', '1k')).toThrow(/at least 6m/);
    expect(teamFromImage('registry.example:5000/flare/TeamX:v2')).toBe('TeamX');
    expect(teamFromImage('teamalpha')).toBe('teamalpha');
  });

  it('defaults as the official harness; bad values are usage errors', () => {
    const o = parseEvaluateOptions({ image: 'x:latest', cases: 'c', out: 'o' });
    expect([o.shell, o.command, o.gpu, o.timeLimitSeconds, o.network]).toEqual(['/bin/bash', 'sh predict.sh', '0', null, 'none']);
    expect(() => parseEvaluateOptions({ image: 'x', cases: 'c', out: 'o', gpu: '0,1;rm' })).toThrow(/--gpu/);
    expect(() => parseEvaluateOptions({ image: 'x', cases: 'c', out: 'o', timeLimit: '-1' })).toThrow(/--time-limit/);
    expect(() => parseEvaluateOptions({ image: 'x', cases: 'c' })).toThrow(/required/);
  });

  it('the container: argv (no shell on our side), FLARE mounts, labels, GPU request and limits', () => {
    const cfg = containerConfig({ imageRef: 'i', team: 'a"b', caseName: 'c1', inputsDir: '/in', outputsDir: '/out', shell: '/bin/sh', command: 'sh predict.sh', gpu: '1', memoryBytes: 1024 ** 3, shmSizeBytes: 2 ** 26, network: 'none', timeLimitSeconds: 60, containerName: 'n' });
    expect(cfg.Cmd).toEqual(['/bin/sh', '-c', 'sh predict.sh']);
    expect(cfg.Labels).toEqual({ 'flare.team': 'a"b', 'flare.case': 'c1', 'flare.time_limit_s': '60' });
    expect(cfg.HostConfig?.Binds).toEqual(['/in:/workspace/inputs/', '/out:/workspace/outputs/']);
    expect(cfg.HostConfig?.DeviceRequests).toEqual([{ Driver: 'nvidia', DeviceIDs: ['1'], Capabilities: [['gpu']] }]);
    expect([cfg.HostConfig?.Memory, cfg.HostConfig?.ShmSize]).toEqual([1024 ** 3, 2 ** 26]);
  });
});

describe('evaluate helpers', () => {
  it('docker load output', () => {
    expect(loadedRefs([{ stream: 'Loaded image: flare-test/a:latest\n' }])).toEqual(['flare-test/a:latest']);
    expect(loadedRefs([{ stream: 'Loaded image ID: sha256:abc\n' }])).toEqual(['sha256:abc']);
  });

  it('progress line and ETA', () => {
    expect(etaSeconds([], 3, 0)).toBeNull();
    expect(etaSeconds([10, 20], 2, 5)).toBe(25);
    const line = barLine(2, 5, 'case\x1b[31m', 30, 60, 125, 10);
    expect(line).toBe('[2/5] case?[31m █████░░░░░ 30.0s / 1m00s  ETA 2m05s');
  });

  it('resume skips only cases done under the same image id; totals and exit rule', () => {
    const prev = { imageId: 'sha256:1', cases: [rec('a'), rec('b', { state: 'interrupted' }), rec('c', { state: 'error', runId: null })] } as EvaluationSummary;
    expect([...resumableCases(prev, 'sha256:1').keys()]).toEqual(['a']);
    expect(resumableCases(prev, 'sha256:2').size).toBe(0);
    const t = totalsOf([rec('a'), rec('b', { outputPresent: false }), rec('c', { exceededTimeLimit: true, end: 'killed at time limit', exitCode: 137 })], 3);
    expect(t).toEqual({ cases: 3, done: 3, timeouts: 1, missingOutputs: 1, nonZeroExits: 0, interrupted: 0, errors: 0 });
    expect(everyCaseRan(t)).toBe(true);
    expect(everyCaseRan(totalsOf([rec('a'), rec('b', { state: 'error' })], 2))).toBe(false);
  });
});

describe('pool slot container', () => {
  const spec = { imageRef: 'x:1', team: 't', caseName: 'c', inputsDir: '/i', outputsDir: '/o', shell: '/bin/sh', command: 'sh predict.sh', gpu: '2', memoryBytes: 1 << 30, shmSizeBytes: 1 << 26, network: 'none', timeLimitSeconds: null, containerName: 'n' };
  it('pins the slot\'s CPUs (and memory node when all CPUs are local) and labels the placement', () => {
    const c = containerConfig({ ...spec, placement: { slot: 1, cpuset: '8-11', numaNode: 1, gpu: '2', deviceRequest: true, memsLocal: true } });
    expect(c.HostConfig).toMatchObject({ CpusetCpus: '8-11', CpusetMems: '1', Memory: 1 << 30, ShmSize: 1 << 26, DeviceRequests: [{ Driver: 'nvidia', DeviceIDs: ['2'], Capabilities: [['gpu']] }] });
    expect(c.Labels).toMatchObject({ 'flare.slot': '1', 'flare.gpu': '2', 'flare.cpuset': '8-11', 'flare.numa_node': '1' });
  });
  it('--no-device-request: the GPU is labelled, not requested; spilled CPUs leave memory unpinned', () => {
    const c = containerConfig({ ...spec, placement: { slot: 0, cpuset: '0,5', numaNode: 0, gpu: '2', deviceRequest: false, memsLocal: false } });
    expect(c.HostConfig?.DeviceRequests).toBeUndefined();
    expect(c.HostConfig?.CpusetMems).toBeUndefined();
    expect(c.Labels?.['flare.gpu']).toBe('2');
  });
});

describe('pool progress on a terminal', () => {
  it('one line per slot and the overall line with the pool ETA, redrawn in place', () => {
    let text = '';
    const out = { isTTY: true, write: (s: string) => ((text += s), true) } as unknown as NodeJS.WriteStream;
    const p = createProgress(out);
    p.setSlots(['slot 0 · gpu 0 · cpu 0', 'slot 1 · gpu 1 · cpu 1']);
    p.caseStarted(1, 3, 'case_1', 60, 0);
    p.caseStarted(2, 3, 'case_2', 60, 1);
    expect(text).toContain('slot 0 · gpu 0 · cpu 0  [1/3] case_1');
    expect(text).toContain('slot 1 · gpu 1 · cpu 1  [2/3] case_2');
    expect(text).toContain('overall 0/3 finished, 2 running  ETA ?');
    p.caseFinished('case 1/3 case_1: completed', 0);
    expect(text).toContain('slot 0 · gpu 0 · cpu 0  idle');
    expect(text).toMatch(/overall 1\/3 finished, 1 running {2}ETA \d/);
    expect(text).toContain('\x1b[1A\x1b[2K'); // earlier block erased before the redraw
    p.stop();
  });
});
