import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statfsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AgentMetrics } from '../../src/http/metrics.js';
import { DataLiveView, liveRun, run } from './helpers.js';
import { requireServices } from '../helpers.js';

const PROMTOOL = '/usr/bin/promtool';

function promtool(text: string): { status: number | null; out: string } {
  const r = spawnSync(PROMTOOL, ['check', 'metrics'], { input: text, encoding: 'utf8' });
  return { status: r.status, out: r.stdout + r.stderr };
}

function lines(text: string, name: string): string[] {
  return text.split('\n').filter((l) => l.startsWith(name + '{') || l.startsWith(name + ' '));
}

describe('AgentMetrics', () => {
  it('MIG: a container\'s memory per MIG device (each process once), and each MIG device\'s own memory', async () => {
    const MIG_A = 'MIG-aaaaaaaa-1111-2222-3333-444444444444';
    const live = new DataLiveView();
    const m = new AgentMetrics({ live });
    live.runs = [{ ...liveRun('r1'), gpuMiBByIndex: { 0: 1536 }, gpuMiBByDevice: { [`0 ${MIG_A}`]: 1024, 0: 512 } }];
    live.node = { ...live.node!, mig: [{ uuid: MIG_A, parentIndex: 0, usedMiB: 1100, totalMiB: 40192 }] };
    const text = await m.registry.metrics();
    expect(lines(text, 'flare_container_gpu_memory_bytes')).toEqual([
      'flare_container_gpu_memory_bytes{team="alpha",case="case_001",container="alpha",gpu="0",mig=""} 536870912',
      `flare_container_gpu_memory_bytes{team="alpha",case="case_001",container="alpha",gpu="0",mig="${MIG_A}"} 1073741824`,
    ]);
    expect(lines(text, 'flare_mig_memory_used_bytes')).toEqual([`flare_mig_memory_used_bytes{gpu="0",mig="${MIG_A}"} ${1100 * 1048576}`]);
    expect(lines(text, 'flare_mig_memory_total_bytes')).toEqual([`flare_mig_memory_total_bytes{gpu="0",mig="${MIG_A}"} ${40192 * 1048576}`]);
  });

  it('exposes per-container series only while the container runs', async () => {
    const live = new DataLiveView();
    const m = new AgentMetrics({ live });
    live.runs = [liveRun('r1'), liveRun('r2', { team: 'beta', containerName: 'beta', case: 'case_002' })];
    let text = await m.registry.metrics();
    expect(lines(text, 'flare_container_cpu_seconds_total')).toEqual([
      'flare_container_cpu_seconds_total{team="alpha",case="case_001",container="alpha"} 1.5',
      'flare_container_cpu_seconds_total{team="beta",case="case_002",container="beta"} 1.5',
    ]);
    expect(lines(text, 'flare_container_cpu_utilization_ratio')[0]).toMatch(/ 1\.5$/);
    expect(lines(text, 'flare_container_memory_working_set_bytes')[0]).toMatch(/ 268435456$/);
    expect(lines(text, 'flare_container_gpu_memory_bytes')[0]).toBe(
      'flare_container_gpu_memory_bytes{team="alpha",case="case_001",container="alpha",gpu="0",mig=""} 1073741824',
    );
    expect(lines(text, 'flare_runs_running')).toEqual(['flare_runs_running 2']);

    live.runs = [live.runs[1]];
    text = await m.registry.metrics();
    expect(lines(text, 'flare_container_cpu_seconds_total')).toHaveLength(1);
    expect(text).not.toContain('team="alpha",case="case_001"');
    live.runs = [];
    text = await m.registry.metrics();
    expect(lines(text, 'flare_container_memory_working_set_bytes')).toHaveLength(0);
    expect(lines(text, 'flare_runs_running')).toEqual(['flare_runs_running 0']);
  });

  it('reports node, GPU and agent health figures in base units', async () => {
    const live = new DataLiveView();
    const m = new AgentMetrics({ live });
    m.tick(0.002, 0);
    m.tick(0.3, 2);
    m.dbWrite(0.004, 120);
    m.sourceError('gpu');
    m.runFinished(run('done', { status: 'timeout', team: 'gamma' }));
    const text = await m.registry.metrics();
    expect(text).toContain('flare_node_cpu_seconds_total{mode="user"} 1000.5');
    expect(text).toContain('flare_node_memory_total_bytes 17179869184');
    expect(text).toContain('flare_gpu_memory_used_bytes{gpu="0",uuid="GPU-11111111-2222-3333-4444-555555555555"} 3145728000');
    expect(text).toContain('flare_gpu_utilization_ratio{gpu="0",uuid="GPU-11111111-2222-3333-4444-555555555555"} 0.4');
    expect(text).toContain('flare_agent_missed_ticks_total 2');
    expect(text).toContain('flare_agent_ticks_total 2');
    expect(text).toContain('flare_agent_tick_lag_seconds_count 2');
    expect(text).toContain('flare_agent_samples_stored_total 120');
    expect(text).toContain('flare_agent_source_errors_total{source="gpu"} 1');
    expect(text).toContain('flare_agent_source_errors_total{source="docker"} 0');
    // The agent's error counts (agent/errors.ts), every place present, 0 where none happened.
    expect(text).toContain('flare_agent_errors_total{where="tick"} 3');
    expect(text).toContain('flare_agent_errors_total{where="docker"} 1');
    expect(text).toContain('flare_agent_errors_total{where="unhandled-rejection"} 0');
    expect(text).toContain('flare_agent_source_up{source="sqlite"} 0');
    expect(text).toContain('flare_agent_source_up{source="docker"} 1');
    expect(text).toContain('flare_agent_gpu_source_info{source="nvml"} 1');
    expect(text).toContain('flare_agent_source_enabled{source="gpu"} 1'); // not turned off (--gpu-source none gives 0)
    expect(text).toContain('flare_agent_errors_total{where="kill"} 0');
    // Tick lag above 1 s has buckets of its own (FlareAgentTickLagHigh at --interval-ms ≥ 1000).
    expect(text).toContain('flare_agent_tick_lag_seconds_bucket{le="2.5"} 2');
    expect(text).toContain('flare_runs_finished_total{status="timeout",team="gamma"} 1');
    expect(text).toContain('flare_run_duration_seconds_bucket{le="30",team="gamma"} 1');
    expect(text).not.toMatch(/pid=/);
  });

  it('exports what the alert rules read: waiting writes, the database filesystem, interval, enforcement, runtimes, accounting, a shared GPU', async () => {
    const live = new DataLiveView();
    const base = live.health();
    live.health = () => ({ ...base, store: { queuedSamples: 120, pendingRuns: 1, pendingVerdicts: 2 }, timeLimitEnforced: false, gpuAccountingModes: { on: [1], off: [0] } });
    live.runs = [{ ...liveRun('r1'), gpuForeignProcesses: { 0: 2 } }, liveRun('r2', { team: 'beta', containerName: 'beta' })];
    const dir = mkdtempSync(join(tmpdir(), 'flare-metrics-'));
    const m = new AgentMetrics({ live, dbPath: join(dir, 'agent.db') });
    const text = await m.registry.metrics();
    expect(lines(text, 'flare_agent_queued_samples')).toEqual(['flare_agent_queued_samples 120']);
    expect(lines(text, 'flare_agent_pending_runs')).toEqual(['flare_agent_pending_runs 1']);
    expect(lines(text, 'flare_agent_pending_verdicts')).toEqual(['flare_agent_pending_verdicts 2']);
    expect(lines(text, 'flare_agent_interval_seconds')).toEqual(['flare_agent_interval_seconds 0.1']);
    expect(lines(text, 'flare_agent_time_limit_enforced')).toEqual(['flare_agent_time_limit_enforced 0']);
    expect(lines(text, 'flare_agent_runtime_attached')).toEqual(['flare_agent_runtime_attached{runtime="docker"} 1', 'flare_agent_runtime_attached{runtime="containerd"} 0']);
    expect(lines(text, 'flare_gpu_accounting_enabled')).toEqual(['flare_gpu_accounting_enabled{gpu="1"} 1', 'flare_gpu_accounting_enabled{gpu="0"} 0']);
    expect(lines(text, 'flare_container_gpu_foreign_processes')).toEqual(['flare_container_gpu_foreign_processes{team="alpha",case="case_001",container="alpha",gpu="0"} 2']);
    expect(lines(text, 'flare_agent_info')).toEqual(['flare_agent_info{version="0.1.0",node="node-a"} 1']);
    // statfs of the database's folder: the same figures df would give.
    const fs = statfsSync(dir);
    const avail = Number(/^flare_agent_db_filesystem_avail_bytes\{path="([^"]+)"\} (\d+)$/m.exec(text)?.[2]);
    expect(/^flare_agent_db_filesystem_avail_bytes\{path="([^"]+)"\}/m.exec(text)?.[1]).toBe(dir);
    const size = Number(/^flare_agent_db_filesystem_size_bytes\{path="[^"]+"\} (\d+)$/m.exec(text)?.[1]);
    expect(size).toBe(fs.blocks * fs.bsize);
    expect(Math.abs(avail - fs.bavail * fs.bsize)).toBeLessThan(64 * 1024 * 1024);
    expect(avail).toBeGreaterThan(0);
    // The folder gone: no value rather than a false one.
    rmSync(dir, { recursive: true, force: true });
    expect(lines(await m.registry.metrics(), 'flare_agent_db_filesystem_avail_bytes')).toEqual([]);
    // Without a database path (tests, tools) those series are not exported at all.
    expect(await new AgentMetrics({ live }).registry.metrics()).not.toContain('flare_agent_db_filesystem');
  });

  it('keeps untrusted label values bounded and escaped', async () => {
    const live = new DataLiveView();
    const m = new AgentMetrics({ live });
    live.runs = [liveRun('evil', { team: 'x'.repeat(5000), case: 'a"b\\c\nd', containerName: '}{' })];
    const text = await m.registry.metrics();
    const line = lines(text, 'flare_container_elapsed_seconds')[0];
    expect(line).toContain(`team="${'x'.repeat(128)}"`);
    expect(line).toContain('case="a\\"b\\\\c\\nd"');
    if (existsSync(PROMTOOL)) expect(promtool(text).status).toBe(0);
  });

  it('passes promtool check metrics', async (ctx) => {
    if (!existsSync(PROMTOOL)) {
      if (requireServices()) throw new Error(`${PROMTOOL} is missing`);
      ctx.skip();
    }
    const live = new DataLiveView();
    const m = new AgentMetrics({ live });
    live.runs = [liveRun('r1')];
    m.runFinished(run('done'));
    m.tick(0.001, 0);
    m.dbWrite(0.001, 1);
    const r = promtool(await m.registry.metrics());
    expect(r.out.trim()).toBe('');
    expect(r.status).toBe(0);
  });
});
