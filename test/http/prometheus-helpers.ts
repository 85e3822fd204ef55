// Starts the real Prometheus binary on a free loopback port, scraping given targets every second.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireServices } from '../helpers.js';

export const PROMETHEUS = '/usr/bin/prometheus';

/** Whether the binary is there; under FLARE_TEST_REQUIRE_SERVICES (CI) its absence is a failure. */
export function havePrometheus(): boolean {
  if (existsSync(PROMETHEUS)) return true;
  if (requireServices()) throw new Error(`${PROMETHEUS} is missing (apt-get install prometheus)`);
  return false;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      s.close(() => resolve(port));
    });
  });
}

export interface RunningPrometheus {
  url: string;
  query(expr: string): Promise<{ status: string; error?: string; data?: { resultType: string; result: unknown[] } }>;
  stop(): Promise<void>;
}

/**
 * `configText`, when given, replaces the generated config (e.g. the shipped one, adapted). `rulesText`:
 * a rule file the generated config loads (the shipped rules, evaluated every second).
 */
export async function startPrometheus(targets: string[], job = 'flare-agent', configText?: string, rulesText?: string): Promise<RunningPrometheus> {
  const dir = mkdtempSync(join(tmpdir(), 'flare-prom-'));
  const port = await freePort();
  if (rulesText !== undefined) writeFileSync(join(dir, 'rules.yml'), rulesText);
  const config = configText ?? [
    'global:',
    '  scrape_interval: 1s',
    '  evaluation_interval: 1s',
    ...(rulesText !== undefined ? ['rule_files:', '  - rules.yml'] : []),
    'scrape_configs:',
    `  - job_name: ${job}`,
    '    scrape_interval: 1s',
    '    scrape_timeout: 900ms',
    '    static_configs:',
    `      - targets: [${targets.map((t) => `'${t}'`).join(', ')}]`,
    '',
  ].join('\n');
  writeFileSync(join(dir, 'prometheus.yml'), config);
  let log = '';
  const child: ChildProcess = spawn(
    PROMETHEUS,
    [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  child.stdout?.on('data', (d: Buffer) => (log += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (log += d.toString()));
  const url = `http://127.0.0.1:${port}`;
  const stop = async (): Promise<void> => {
    if (child.exitCode === null) {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`prometheus exited: ${log.slice(-2000)}`);
    try {
      if ((await fetch(`${url}/-/ready`)).ok) break;
    } catch {
      /* not up yet */
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`prometheus did not become ready: ${log.slice(-2000)}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    url,
    async query(expr) {
      const res = await fetch(`${url}/api/v1/query`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ query: expr }),
      });
      return (await res.json()) as { status: string; error?: string; data?: { resultType: string; result: unknown[] } };
    },
    stop,
  };
}

/** Waits until Prometheus has scraped every target of `job` at least `scrapes` times. */
export async function waitForScrapes(prom: RunningPrometheus, job: string, targets: number, scrapes = 2): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const r = await prom.query(`count_over_time(up{job="${job}"}[1m]) >= ${scrapes} and up{job="${job}"} == 1`);
    if (r.status === 'success' && (r.data?.result.length ?? 0) >= targets) return;
    if (Date.now() > deadline) throw new Error(`prometheus did not scrape ${targets} target(s) ${scrapes} times`);
    await new Promise((res) => setTimeout(res, 250));
  }
}
