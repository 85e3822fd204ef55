// `flare-agent evaluate` against the real Docker Engine with a busybox team image: a case that copies
// its input and burns CPU for a known time, one that writes no output, one that sleeps past the limit.
// The CSVs are checked against what can be computed by hand: names and order, the penalties of the
// timed-out case, the missing outputs, the exit code of a SIGKILL (137).
import { execFileSync, spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, requireServices, runCli, tempDir } from '../helpers.js';
import { startAgentChild } from '../web/agent-child.js';
import { repeatSchedule } from '../../src/evaluate/repeats.js';
import { loadProfile } from '../../src/scoring/challenge-profile-load.js';
import { BURN_SECONDS, TEAM_IMAGE, buildTeamImage, dockerAvailable, makeCases } from './team-image.js';

const available = dockerAvailable();
if (!available && requireServices()) throw new Error('Docker Engine is required (FLARE_TEST_REQUIRE_SERVICES) but `docker info` fails');

const LIMIT_S = 4;
const csvRows = (path: string): string[][] => readFileSync(path, 'utf8').trim().split('\n').map((l) => l.split(','));

describe.skipIf(!available)('flare-agent evaluate (real engine)', () => {
  const dir = tempDir('flare-eval-');
  const cases = join(dir, 'cases');
  const out = join(dir, 'out');
  const tarball = join(dir, 'teamalpha.tar.gz');
  const args = (extra: string[] = []): string[] => ['evaluate', '--image', tarball, '--cases', cases, '--out', out, '--gpu', 'none', '--shell', '/bin/sh', '--time-limit', String(LIMIT_S), '--gpu-source', 'none', '--plot-format', 'svg', ...extra];

  beforeAll(() => {
    buildTeamImage();
    // The tarball path: `docker save`, gzip-compressed, then loaded by the harness.
    writeFileSync(tarball, gzipSync(execFileSync('docker', ['save', TEAM_IMAGE], { maxBuffer: 256 * 1024 * 1024 })));
    makeCases(cases, ['case_a', 'case_b_nooutput', 'case_c_slow']);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('runs every case, enforces the limit, records missing outputs and writes the FLARE22 CSVs', async () => {
    const r = await runCli(args(), {}, 120_000);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('case 3/3 case_c_slow: timeout, killed at the time limit');
    expect(r.stdout).toContain('3/3 cases ran; 1 over the time limit, 2 without output');

    const exact = csvRows(join(out, 'teamalpha_Efficiency_exact.csv'));
    expect(exact[0]).toEqual(['Name', 'Time', 'GPU_Mem', 'AUC_GPU_Time', 'CPU_Utilization', 'AUC_CPU_Time', 'RAM', 'AUC_RAM_Time']);
    expect(exact.slice(1).map((row) => row[0])).toEqual(['case_a', 'case_b_nooutput', 'case_c_slow']);
    // Over the limit: FLARE22's penalties, exactly.
    const slow = exact[3];
    expect([slow[1], slow[3], slow[5]]).toEqual(['3600', '29491200', '360000']);
    // Burning cases: Docker's wall time ≈ the burn; AUC CPU = 100 × cpuSeconds / nCpu ≤ 100 × burn / nCpu (one core).
    const nCpu = cpus().length;
    for (const row of exact.slice(1, 3)) {
      expect(Number(row[1])).toBeGreaterThan(BURN_SECONDS - 0.1);
      expect(Number(row[1])).toBeLessThan(LIMIT_S);
      expect(row[3]).toBe(''); // no GPU source: unknown, not zero
      expect(Number(row[5])).toBeGreaterThan(0);
      expect(Number(row[5])).toBeLessThanOrEqual((100 * (BURN_SECONDS + 0.2)) / nCpu);
    }

    const official = csvRows(join(out, 'teamalpha_Efficiency.csv'));
    // FLARE22's Name is the input file's name: <case>_0000.nii.gz
    expect(official.slice(1).map((row) => row[0])).toEqual(['case_a_0000.nii.gz', 'case_b_nooutput_0000.nii.gz', 'case_c_slow_0000.nii.gz']);
    expect(Number(official[3][1])).toBeGreaterThanOrEqual(LIMIT_S); // official Time: the real span, no penalty
    // Official Time = the harness's create→removal span + the docker CLI's start and exit + the JSON
    // write (the flare22 profile's values; the write grows with the monitor's samples), rounded to 2 decimals.
    const { span: m, loop } = loadProfile('flare22');
    const records = (JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as { cases: { beforeCreateMonoNs: number; afterRemoveMonoNs: number }[] }).cases;
    for (const [i, rec] of records.entries()) {
      const monitored = (rec.afterRemoveMonoNs - rec.beforeCreateMonoNs) / 1e9 + m.cliStartSeconds + m.cliExitSeconds;
      const samples = Math.floor((monitored - loop.firstTickDelaySeconds) / (loop.nominalIntervalSeconds + loop.samplingCostSeconds)) + 1;
      const expected = monitored + m.resultWriteSeconds + m.resultWritePerSampleSeconds * samples;
      expect(Math.abs(Number(official[i + 1][1]) - expected)).toBeLessThanOrEqual(0.005 + 1e-9);
      expect(Number(official[i + 1][1])).toBeGreaterThan(Number(exact[i + 1][1]) > 3000 ? 0 : Number(exact[i + 1][1]));
    }
    for (const row of official.slice(1, 3)) {
      // Host CPU and RAM over the span are present: the embedded agent samples the host.
      expect(Number(row[5])).toBeGreaterThan(0);
      expect(Number(row[7])).toBeGreaterThan(0); // AUC RAM: host used memory × nominal interval
    }

    const status = csvRows(join(out, 'teamalpha_cases.csv'));
    const byName = new Map(status.slice(1).map((row) => [row[0], row]));
    const col = (name: string): number => status[0].indexOf(name);
    expect(byName.get('case_a')![col('Output')]).toBe('present');
    expect(byName.get('case_b_nooutput')![col('Output')]).toBe('missing');
    expect(byName.get('case_c_slow')![col('Output')]).toBe('missing');
    expect(byName.get('case_c_slow')![col('ExitCode')]).toBe('137');
    expect(byName.get('case_c_slow')![col('TimedOut')]).toBe('true');
    expect(byName.get('case_c_slow')![col('Status')]).toBe('timeout');
    expect(byName.get('case_a')![col('Status')]).toBe('completed');
    expect(readFileSync(join(out, 'teamalpha_outputs', 'case_a.nii.gz'), 'utf8')).toBe('not really NIfTI: case_a\n');

    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as { team: string; totals: Record<string, number>; imageId: string };
    expect(summary.team).toBe('teamalpha');
    expect(summary.totals).toEqual({ cases: 3, done: 3, timeouts: 1, missingOutputs: 2, nonZeroExits: 0, interrupted: 0, errors: 0 });
    const plots = readdirSync(join(out, 'plots'));
    expect(plots.filter((f) => f.endsWith('.svg'))).toHaveLength(9);
    expect(readFileSync(join(out, 'plots', plots.find((f) => f.startsWith('case_c_slow') && f.endsWith('_GPU.svg'))!), 'utf8')).toContain('time limit 4 s');
    // No container left behind.
    expect(execFileSync('docker', ['ps', '-aq', '--filter', 'label=flare.team=teamalpha'], { encoding: 'utf8' }).trim()).toBe('');
  });

  it('--resume skips the cases measured for the same image', async () => {
    const before = csvRows(join(out, 'teamalpha_Efficiency_exact.csv'));
    const r = await runCli(args(['--resume']), {}, 60_000);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr.match(/skipped \(--resume/g)).toHaveLength(3);
    expect(csvRows(join(out, 'teamalpha_Efficiency_exact.csv'))).toEqual(before);
  });

  it('--gt scores the outputs after the last case: an output that is not NIfTI is that case\'s error (exit 1), a case without output is listed', async () => {
    const gt = join(dir, 'gt');
    mkdirSync(gt, { recursive: true });
    const fixtures = join(import.meta.dirname, '..', 'accuracy', 'fixtures', 'official-2022', 'gt');
    copyFileSync(join(fixtures, 'case_01.nii.gz'), join(gt, 'case_a.nii.gz'));
    copyFileSync(join(fixtures, 'case_02.nii.gz'), join(gt, 'case_b_nooutput.nii.gz'));
    const shared = join(dir, 'accuracy-all.csv');
    writeFileSync(shared, 'team,case,metric,value\nteambeta,c1,DSC,0.5\nteamalpha,old,DSC,0.1\n');
    const r = await runCli(args(['--resume', '--gt', gt, '--accuracy-csv', shared]), {}, 60_000);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/accuracy: 0 case\(s\) scored, 1 failed \(case_a\.nii\.gz\), 1 without output/);
    expect(readFileSync(join(out, 'teamalpha_DSC_NSD.csv'), 'utf8').split('\n')[0]).toMatch(/^Name,Liver_DSC,RK_DSC/);
    // The team's old rows are gone from the shared file, the other team's stay.
    expect(readFileSync(shared, 'utf8')).toBe('team,case,metric,value\nteambeta,c1,DSC,0.5\n');
  });

  it('Ctrl-C kills the running container, records it interrupted and exits 1', async () => {
    const slowCases = join(dir, 'slow-cases');
    makeCases(slowCases, ['case_z_slow']);
    const out2 = join(dir, 'out2');
    const child = spawn(process.execPath, [CLI, 'evaluate', '--image', TEAM_IMAGE, '--cases', slowCases, '--out', out2, '--gpu', 'none', '--shell', '/bin/sh', '--gpu-source', 'none'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((res) => child.on('exit', (code) => res(code)));
    for (let i = 0; i < 200 && !stderr.includes('running'); i++) await new Promise((res) => setTimeout(res, 100));
    await new Promise((res) => setTimeout(res, 1000));
    child.kill('SIGINT');
    expect(await exited).toBe(1);
    const summary = JSON.parse(readFileSync(join(out2, 'summary.json'), 'utf8')) as { cases: { state: string; end: string }[] };
    expect(summary.cases.map((c) => [c.state, c.end])).toEqual([['interrupted', 'interrupted']]);
    expect(existsSync(join(out2, 'teamalpha_Efficiency.csv'))).toBe(true);
    expect(execFileSync('docker', ['ps', '-aq', '--filter', 'label=flare.case=case_z_slow'], { encoding: 'utf8' }).trim()).toBe('');
  });

  it('--repeat 2: each case twice in the seeded order, the spread per case in <team>_repeats.csv', async () => {
    const rcases = join(dir, 'rcases');
    const rout = join(dir, 'rout');
    makeCases(rcases, ['case_a', 'case_b_nooutput']);
    const rargs = args(['--repeat', '2', '--seed', '5']).map((a) => (a === cases ? rcases : a === out ? rout : a));
    const r = await runCli(rargs, {}, 120_000);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('4/4 cases ran');
    // The terminal shows the spread too: one line per case with its two repeats.
    expect(r.stdout).toContain('repeats (median [min–max] CV):');
    expect(r.stdout).toMatch(/^case_a\s+2\s+\S+ \[\S+–\S+\] CV \d+\.\d %/m);
    const status = csvRows(join(rout, 'teamalpha_cases.csv'));
    const order = repeatSchedule(['case_a', 'case_b_nooutput'], 2, 5).map((s) => `${s.item}#${s.repeat}`);
    expect(status.slice(1).map((row) => `${row[0]}#${row[1]}`)).toEqual(order);
    expect(csvRows(join(rout, 'teamalpha_Efficiency.csv'))).toHaveLength(5); // header + one row per run
    const spread = csvRows(join(rout, 'teamalpha_repeats.csv'));
    expect(spread[0]).toEqual(['Name', 'Figure', 'Repeats', 'Median', 'Min', 'Max', 'CV']);
    for (const name of ['case_a', 'case_b_nooutput']) {
      const time = spread.find((row) => row[0] === name && row[1] === 'Time')!;
      expect(time[2]).toBe('2');
      const [median, min, max] = [Number(time[3]), Number(time[4]), Number(time[5])];
      expect(min).toBeLessThanOrEqual(median);
      expect(median).toBeLessThanOrEqual(max);
      expect(median).toBeCloseTo((min + max) / 2, 3); // two repeats: the median is their mean
      expect(Number(time[6])).toBeGreaterThanOrEqual(0);
    }
  });

  it("--agent: the node's agent measures, the harness only runs the cases", async () => {
    const oneCase = join(dir, 'one-case');
    makeCases(oneCase, ['case_a']);
    const agent = await startAgentChild(['--db', join(dir, 'node-agent.db'), '--gpu-source', 'none']);
    try {
      const out3 = join(dir, 'out3');
      const r = await runCli(['evaluate', '--image', TEAM_IMAGE, '--cases', oneCase, '--out', out3, '--gpu', 'none', '--shell', '/bin/sh', '--agent', `http://127.0.0.1:${agent.port}`], {}, 60_000);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toContain(`measured by the agent at http://127.0.0.1:${agent.port}`);
      const rows = csvRows(join(out3, 'teamalpha_cases.csv'));
      const runId = rows[1][rows[0].indexOf('RunId')];
      // The run lives in the node agent's database, not in the output folder.
      expect(existsSync(join(out3, 'flare-agent.db'))).toBe(false);
      const res = await fetch(`http://127.0.0.1:${agent.port}/api/v1/runs/${runId}`);
      expect(((await res.json()) as { case: string; status: string }).status).toBe('completed');
    } finally {
      await agent.stop();
    }
  });
});
