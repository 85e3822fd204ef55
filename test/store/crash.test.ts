// A real writer process is SIGKILLed at random moments (often mid-transaction); the database must
// open intact with every sample the writer had reported committed, and the run still 'running'.
import { execFileSync, spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/index.js';
// @ts-expect-error plain .mjs child script, no type declarations
import { sampleAt } from './crash-child.mjs';
import { rng, tempDbPath } from './fixtures.js';

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = resolve(here, '../..');
// The child runs plain node, so it needs the store compiled; a private build keeps this test
// independent of the state of dist/. Under the repo so the child resolves better-sqlite3.
const buildDir = join(repoRoot, '.tmp', `store-crash-build-${process.pid}`);
const childScript = join(here, 'crash-child.mjs');

beforeAll(() => {
  execFileSync(
    process.execPath,
    [
      join(repoRoot, 'node_modules/typescript/bin/tsc'),
      '--outDir', buildDir, '--rootDir', repoRoot,
      '--module', 'NodeNext', '--moduleResolution', 'NodeNext', '--target', 'ES2022',
      '--strict', '--skipLibCheck', '--sourceMap', 'false',
      join(repoRoot, 'src/store/index.ts'),
    ],
    { cwd: repoRoot, stdio: 'inherit' },
  );
});

afterAll(() => rmSync(buildDir, { recursive: true, force: true }));

/** Starts the writer, kills it `killAfterMs` after it is ready; resolves with the last committed count. */
function runAndKill(dbPath: string, runId: string, killAfterMs: number): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [childScript, join(buildDir, 'src/store/index.js'), dbPath, runId], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let committed = 0;
    let buffered = '';
    let killed = false;
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (text: string) => {
      buffered += text;
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) {
        if (line === 'ready' && !killed) {
          setTimeout(() => {
            killed = true;
            child.kill('SIGKILL');
          }, killAfterMs);
        }
        const match = /^committed (\d+)$/.exec(line);
        if (match) committed = Number(match[1]);
      }
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (signal === 'SIGKILL' && killed) resolvePromise(committed);
      else reject(new Error(`writer exited on its own (code ${code}, signal ${signal})`));
    });
  });
}

describe('store under kill -9', () => {
  it('reopens intact, with every committed sample and the run still running', async () => {
    const dbPath = tempDbPath();
    const rand = rng(Date.now());
    const verified = new Map<string, number>();
    for (let cycle = 0; cycle < 6; cycle++) {
      const runId = `crash-${cycle}`;
      const killAfterMs = 300 + Math.floor(rand() * 600);
      const committed = await runAndKill(dbPath, runId, killAfterMs);
      expect(committed, `cycle ${cycle}: the writer committed something before the kill`).toBeGreaterThan(0);

      const raw = new Database(dbPath);
      expect(raw.pragma('integrity_check', { simple: true })).toBe('ok');
      raw.close();

      const store = openStore(dbPath);
      try {
        const run = store.getRun(runId);
        expect(run?.status).toBe('running');
        expect(store.runningRuns().map((r) => r.id)).toContain(runId);
        const samples = store.getRunSamples(runId);
        expect(samples.length, `cycle ${cycle}, killed after ${killAfterMs} ms`).toBeGreaterThanOrEqual(committed);
        for (let i = 0; i < samples.length; i++) {
          if (JSON.stringify(samples[i]) !== JSON.stringify(sampleAt(i))) {
            expect(samples[i], `sample ${i} of ${runId}`).toEqual(sampleAt(i));
          }
        }
        const nodeSamples = store.getNodeSamples(0, Infinity);
        expect(nodeSamples.length).toBeGreaterThan(0);
        // Earlier runs are exactly as they were verified after their own crash.
        for (const [id, n] of verified) expect(store.getRunSamples(id)).toHaveLength(n);
        verified.set(runId, samples.length);
      } finally {
        store.close();
      }
    }
  }, 120_000);
});
