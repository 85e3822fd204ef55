// `flare-agent collect` against two agents on two ports: by URL, then discovered through a real
// Prometheus's targets API. Re-running fetches only what is new.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStoreReadOnly } from '../../src/store/index.js';
import { AgentMetrics } from '../../src/http/metrics.js';
import { createApp, listen, type Listening } from '../../src/http/server.js';
import { cli } from './cli-helpers.js';
import { DataLiveView, fill, run, samples, summary, T0 } from './helpers.js';
import { havePrometheus, startPrometheus, waitForScrapes } from './prometheus-helpers.js';
import { tempStore } from './store-helpers.js';

let a: ReturnType<typeof tempStore>;
let b: ReturnType<typeof tempStore>;
let servers: Listening[] = [];
let out: string;
const urls: string[] = [];
const running = run('a-live', { status: 'running', startedWallMs: T0 + 100_000, summary: null, endedWallMs: null, endedMonoNs: null });

function reports(stdout: string): Record<string, number | string>[] {
  return stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, number | string>);
}

function contents(path: string): { ids: string[]; samples: Record<string, number>; statuses: Record<string, string> } {
  const s = openStoreReadOnly(path);
  try {
    const runs = s.listRuns({}, 1000).runs;
    return {
      ids: runs.map((r) => r.id).sort(),
      samples: Object.fromEntries(runs.map((r) => [r.id, s.getRunSamples(r.id).length])),
      statuses: Object.fromEntries(runs.map((r) => [r.id, r.status])),
    };
  } finally {
    s.close();
  }
}

beforeAll(async () => {
  a = tempStore();
  b = tempStore();
  fill(a.store, [run('a-1'), run('a-2', { case: 'case_002', startedWallMs: T0 + 10_000 }), running], 7);
  fill(b.store, [run('b-1', { team: 'beta', node: 'node-b', status: 'failed', summary: summary({ status: 'failed', exitCode: 1 }) })], 4);
  for (const store of [a.store, b.store]) {
    const live = new DataLiveView();
    const s = await listen(createApp({ store, live, metrics: new AgentMetrics({ live }) }), '127.0.0.1:0');
    servers.push(s);
    urls.push(`http://127.0.0.1:${s.port}`);
  }
  out = mkdtempSync(join(tmpdir(), 'flare-collect-'));
});

afterAll(async () => {
  for (const s of servers) await s.close();
  servers = [];
  a?.cleanup();
  b?.cleanup();
  if (out) rmSync(out, { recursive: true, force: true });
});

describe('flare-agent collect', () => {
  it('pulls every run from two agents, then only what is new', async () => {
    const target = join(out, 'cluster.db');
    const first = await cli(['collect', '--from', urls[0], '--from', urls[1], '--db', target]);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(reports(first.stdout)).toEqual([
      { agent: urls[0], runsNew: 3, runsRefreshed: 0, runsSkipped: 0, samplesAdded: 21 },
      { agent: urls[1], runsNew: 1, runsRefreshed: 0, runsSkipped: 0, samplesAdded: 4 },
    ]);
    expect(contents(target)).toEqual({
      ids: ['a-1', 'a-2', 'a-live', 'b-1'],
      samples: { 'a-1': 7, 'a-2': 7, 'a-live': 7, 'b-1': 4 },
      statuses: { 'a-1': 'completed', 'a-2': 'completed', 'a-live': 'running', 'b-1': 'failed' },
    });

    // The running run goes on and ends on agent A.
    const more = samples(running, 10).slice(7);
    for (const s of more) a.store.appendRunSample(running.id, s);
    a.store.finishRun(running.id, { status: 'completed', endedWallMs: T0 + 102_000, endedMonoNs: 3_000_000_000, summary: summary() });
    a.store.flush();

    const second = await cli(['collect', '--from', urls[0], '--from', urls[1], '--db', target]);
    expect(second.code).toBe(0);
    expect(reports(second.stdout)).toEqual([
      { agent: urls[0], runsNew: 0, runsRefreshed: 1, runsSkipped: 2, samplesAdded: 3 },
      { agent: urls[1], runsNew: 0, runsRefreshed: 0, runsSkipped: 1, samplesAdded: 0 },
    ]);
    const c = contents(target);
    expect(c.samples['a-live']).toBe(10);
    expect(c.statuses['a-live']).toBe('completed');

    const third = await cli(['collect', '--from', urls[0], '--from', urls[1], '--db', target]);
    expect(third.stderr).toBe('');
    expect(reports(third.stdout).map((r) => r.samplesAdded)).toEqual([0, 0]);
  });

  it('reports an unreachable agent and exits 1 after collecting the others', async () => {
    const target = join(out, 'partial.db');
    const r = await cli(['collect', '--from', 'http://127.0.0.1:1', '--from', urls[1], '--db', target]);
    expect(r.code).toBe(1);
    const lines = reports(r.stdout);
    expect(lines[0].error).toBeTruthy();
    expect(lines[1]).toMatchObject({ runsNew: 1 });
  });

  it.skipIf(!havePrometheus())('discovers the agents from a real Prometheus', async () => {
    const prom = await startPrometheus(urls.map((u) => u.replace('http://', '')), 'flare-agent');
    try {
      await waitForScrapes(prom, 'flare-agent', 2, 1);
      const target = join(out, 'from-prom.db');
      const r = await cli(['collect', '--from-prometheus', prom.url, '--job', 'flare-agent', '--db', target]);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(reports(r.stdout).map((x) => x.agent).sort()).toEqual([...urls].sort());
      expect(contents(target).ids).toEqual(['a-1', 'a-2', 'a-live', 'b-1']);
      const none = await cli(['collect', '--from-prometheus', prom.url, '--job', 'other', '--db', target]);
      expect(none.code).toBe(1);
      expect(none.stderr).toMatch(/no active targets/);
    } finally {
      await prom.stop();
    }
  });
});
