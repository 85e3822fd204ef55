// The container watcher's cost on a real Docker engine: an agent in this process attached to Docker
// follows N short containers (three at a time) from their start event to their verdict. Figures: the
// start event → first sample latency (the watcher's own stats), the harness's view of exit → verdict
// (polled every 10 ms, so ±10 ms), and the agent process's CPU per container life (the harness's own
// Docker calls are in the same process and counted too; they are the same before and after a change).
// Needs the Docker engine and the flare-test/busybox image the tests use; `npm run bench` reports an
// error without them.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { benchDocker } from './agent-process.js';
import { startAgent } from '../src/daemon/agent.js';
import { DEFAULTS } from '../src/agent/config.js';
import { silentLogger } from '../src/log.js';
import { dockerAttachment } from '../src/runtime/docker/adapter.js';

const IMAGE = 'flare-test/busybox:latest';
const sleepMs = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const quantile = (xs: number[], q: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s[Math.min(s.length - 1, Math.floor(q * s.length))];
};
const round = (x: number): number => Math.round(x * 100) / 100;

export async function benchAttach(containers = 30, concurrency = 3): Promise<Record<string, number>> {
  const docker = benchDocker();
  await docker.getImage(IMAGE).inspect();
  const tag = `bench-${process.pid}`;
  const dir = mkdtempSync(join(tmpdir(), 'flare-bench-attach-'));
  let stats: (() => { firstSampleLatencyMs: number[]; attachedRuns: number }) | null = null;
  const agent = await startAgent({ ...DEFAULTS, db: join(dir, 'agent.db'), listen: '127.0.0.1:0', gpuSource: 'none', intervalMs: 100, select: `label:flare.bench=${tag}` }, silentLogger, [
    async (ctx) => {
      const w = await dockerAttachment(ctx);
      stats = () => w.stats();
      return w;
    },
  ]);
  const verdictMs: number[] = [];
  const ids: string[] = [];
  try {
    for (let i = 0; !agent.live.health().sources.docker.up; i++) {
      if (i > 400) throw new Error('docker source never up');
      await sleepMs(25);
    }
    const one = async (k: number): Promise<void> => {
      const c = await docker.createContainer({ Image: IMAGE, Cmd: ['sh', '-c', 'sleep 0.3'], Labels: { 'flare.bench': tag, 'flare.team': 'bench', 'flare.case': `c${k}` }, HostConfig: { NetworkMode: 'none' } });
      ids.push(c.id);
      await c.start();
      await c.wait();
      const exitedMs = Date.now();
      for (;;) {
        const run = agent.store.listRuns({ team: ['bench'] }, 1000).runs.find((r) => r.containerId === c.id);
        if (run && run.status !== 'running') break;
        if (Date.now() - exitedMs > 20_000) throw new Error(`no verdict for container ${k}`);
        await sleepMs(10);
      }
      verdictMs.push(Date.now() - exitedMs);
    };
    const cpu0 = process.cpuUsage();
    const t0 = Date.now();
    for (let k = 0; k < containers; k += concurrency) {
      await Promise.all(Array.from({ length: Math.min(concurrency, containers - k) }, (_, j) => one(k + j)));
    }
    const cpu = process.cpuUsage(cpu0);
    const s = stats!();
    return {
      containers,
      concurrency,
      attachedRuns: s.attachedRuns,
      firstSampleLatencyMsMedian: round(quantile(s.firstSampleLatencyMs, 0.5)),
      firstSampleLatencyMsP95: round(quantile(s.firstSampleLatencyMs, 0.95)),
      firstSampleLatencyMsMax: round(Math.max(...s.firstSampleLatencyMs)),
      exitToVerdictMsMedian: quantile(verdictMs, 0.5),
      exitToVerdictMsP95: quantile(verdictMs, 0.95),
      processCpuMsPerContainer: round((cpu.user + cpu.system) / 1000 / containers),
      wallSeconds: round((Date.now() - t0) / 1000),
    };
  } finally {
    await agent.stop();
    for (const id of ids) await docker.getContainer(id).remove({ force: true }).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
}
