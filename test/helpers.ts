// Shared test helpers: run the built CLI, temp dirs, and the "a service missing is a failure under CI" rule.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const CLI = join(process.cwd(), 'dist/src/cli.js');

export function tempDir(prefix = 'flare-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/**
 * Under FLARE_TEST_REQUIRE_SERVICES (scripts/test.sh sets it from CI; CI=1 and CI=true mean the same) a
 * missing service fails the suite instead of skipping. The one definition every test uses.
 */
export function requireServices(): boolean {
  return ['1', 'true', 'yes'].includes(String(process.env.FLARE_TEST_REQUIRE_SERVICES ?? '').toLowerCase());
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function runCli(args: string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 60_000): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

export function runCliSync(args: string[], env: NodeJS.ProcessEnv = {}): CliResult {
  const r = spawnSync(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
