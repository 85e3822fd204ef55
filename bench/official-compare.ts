// The agent's official FLARE22 figures against a reconstruction of the organisers' monitor
// (bench/flare22_monitor.py) measuring the same containers: the monitor runs
// `docker container run --rm …` as FLARE did while a real agent (built CLI, NVML stub) watches the
// engine. Each case: one core busy for 3 s, then 1 s idle, the GPU device at 3400 MiB used while busy
// and 400 MiB otherwise. Prints JSON: per case both rows and the agent's deviation per column (%).
// Needs root, dockerd with flare-test/busybox, gcc, /usr/bin/python3 with psutil and numpy.
// Usage: npm run build && node dist/bench/official-compare.js [cases=3]
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const MiB = 1048576;
const UUID = 'GPU-00000000-1111-2222-3333-444444444444';
const TOTAL = 81559 * MiB;
const deviceLine = (usedMiB: number): string => `device ${UUID} ${TOTAL} ${usedMiB * MiB} 10 NVIDIA H100 80GB HBM3`;
const COLUMNS = ['Time', 'GPU_Mem', 'AUC_GPU_Time', 'CPU_Utilization', 'AUC_CPU_Time', 'RAM', 'AUC_RAM_Time'] as const;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`${cmd} exited ${code}: ${err.slice(-500)}`))));
  });
}

function parseCsv(text: string): Record<string, string>[] {
  const [head, ...rows] = text.trim().split('\n').map((l) => l.split(','));
  return rows.map((r) => Object.fromEntries(head.map((h, i) => [h, r[i]])));
}

export async function benchOfficialCompare(cases = 3): Promise<Record<string, unknown>> {
  const dir = mkdtempSync(join(tmpdir(), 'flare-official-'));
  const state = join(dir, 'state');
  const lib = join(dir, 'libnvidia-ml.so.1');
  execFileSync('gcc', ['-O2', '-shared', '-fPIC', '-o', lib, join(process.cwd(), 'test/gpu/stub/nvml_stub.c')]);
  writeFileSync(state, deviceLine(400) + '\n');
  const port = await freePort();
  const env = { ...process.env, FLARE_NVML_STUB_STATE: state };
  const agent = spawn(process.execPath, [join(process.cwd(), 'dist/src/cli.js'), 'start', '--db', join(dir, 'agent.db'), '--listen', `127.0.0.1:${port}`,
    '--gpu-source', 'nvml', '--nvml-lib', lib, '--interval-ms', '100', '--select', 'name:^flarecmp-'], { env, stdio: 'ignore' });
  const api = async (path: string): Promise<string> => (await fetch(`http://127.0.0.1:${port}${path}`)).text();
  try {
    for (let i = 0; i < 100; i++) {
      if (await api('/healthz').then((t) => t.includes('"docker":{"up":true')).catch(() => false)) break;
      await sleep(100);
    }
    const team = `flarecmp-${process.pid}`;
    const out: Record<string, unknown>[] = [];
    for (let k = 1; k <= cases; k++) {
      const caseName = `case_${k}`;
      const inputs = join(dir, `inputs-${k}`);
      mkdirSync(inputs);
      mkdirSync(join(dir, 'outputs'), { recursive: true });
      writeFileSync(join(inputs, `${caseName}_0000.nii.gz`), '');
      const setGpu = (mib: number): string => `echo '${deviceLine(mib)}' > /state/s.tmp && busybox mv /state/s.tmp /state/state`;
      const work = `${setGpu(3400)}; timeout 3 yes > /dev/null; ${setGpu(400)}; sleep 1`;
      // The FLARE22 command line (without --gpus: no NVIDIA runtime here), plus the stub's folder.
      const docker = ['docker', 'container', 'run', '--name', team, '--rm', '-v', `${inputs}/:/workspace/inputs/`, '-v', `${dir}/outputs/:/workspace/outputs/`,
        '-v', `${dir}:/state`, 'flare-test/busybox:latest', '/bin/sh', '-c', `"${work}"`];
      const script = JSON.parse(await run('/usr/bin/python3', [join(process.cwd(), 'bench/flare22_monitor.py'), state, caseName, ...docker])) as Record<string, number>;
      let agentRow: Record<string, string> | undefined;
      for (let i = 0; i < 100 && !agentRow; i++) {
        await sleep(200);
        const csv = await api(`/api/v1/export/flare22.csv?figures=official&profile=flare22&team=${team}`);
        agentRow = parseCsv(csv).find((r) => r.Name === `${caseName}_0000.nii.gz`);
      }
      if (!agentRow) throw new Error(`the agent has no official row for ${caseName}`);
      const deviationPct = Object.fromEntries(COLUMNS.map((c) => [c, Number((100 * (Number(agentRow![c]) - script[c]) / script[c]).toFixed(2))]));
      // The span terms as they were on this machine (a profile's `span`): the script's t0 → Docker's
      // create (the CLI start, which the agent cannot see), create → start, FinishedAt → destroy.
      const runs = JSON.parse(await api(`/api/v1/runs?team=${team}&limit=1000`)) as { runs: { case: string; startedWallMs: number; flags: string[] }[] };
      const stored = runs.runs.find((r) => r.case === caseName || r.case === `${caseName}_0000.nii.gz`);
      const flagSeconds = (prefix: string): number | null => {
        const f = stored?.flags.find((x) => x.startsWith(prefix));
        return f ? Number(f.slice(prefix.length).replace(/s$/, '')) : null;
      };
      const createToStart = flagSeconds('created-before-start:');
      const cliStart = stored && createToStart !== null ? stored.startedWallMs / 1000 - createToStart - script.t0EpochSeconds : null;
      const span = { cliStartSeconds: cliStart === null ? null : Number(cliStart.toFixed(3)), createToStartSeconds: createToStart, stopToRemovedSeconds: flagSeconds('removed-after-end:') };
      out.push({ case: caseName, script, agent: Object.fromEntries(COLUMNS.map((c) => [c, Number(agentRow![c])])), deviationPct, span });
    }
    const worst = Object.fromEntries(COLUMNS.map((c) => [c, Math.max(...out.map((o) => Math.abs((o.deviationPct as Record<string, number>)[c])))]));
    return { cases: out, worstAbsDeviationPct: worst, load: (await import('node:os')).loadavg() };
  } finally {
    agent.kill('SIGTERM');
    await new Promise((r) => agent.once('close', r));
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1]?.endsWith('official-compare.js')) {
  process.stdout.write(JSON.stringify(await benchOfficialCompare(Number(process.argv[2] ?? 3)), null, 2) + '\n');
}
