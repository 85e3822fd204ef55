import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, resolveConfig } from '../src/config.js';
import { DEFAULTS } from '../src/agent/config.js';
import { runCliSync, tempDir } from './helpers.js';

describe('config', () => {
  it('uses the documented defaults', () => {
    const c = resolveConfig({}, {});
    expect(c).toEqual(DEFAULTS);
    expect(c.listen).toBe('127.0.0.1:9465');
    expect(c.intervalMs).toBe(100);
    expect(c.gpuToleranceMib).toBe(2048);
  });

  it('takes flags over environment over the JSON file', () => {
    const dir = tempDir();
    const file = join(dir, 'c.json');
    writeFileSync(file, JSON.stringify({ intervalMs: 50, gpuSource: 'none', db: '/file.db', enforceTimeLimit: true }));
    const c = resolveConfig({ intervalMs: '20' }, { FLARE_AGENT_INTERVAL_MS: '30', FLARE_AGENT_DB: '/env.db' }, file);
    expect(c.intervalMs).toBe(20);
    expect(c.db).toBe('/env.db');
    expect(c.gpuSource).toBe('none');
    expect(c.enforceTimeLimit).toBe(true);
  });

  it('reads FLARE_AGENT_NVML_LIB and boolean env values', () => {
    const c = resolveConfig({}, { FLARE_AGENT_NVML_LIB: '/opt/lib.so', FLARE_AGENT_ENFORCE_TIME_LIMIT: 'yes' });
    expect(c.nvmlLib).toBe('/opt/lib.so');
    expect(c.enforceTimeLimit).toBe(true);
  });

  it.each([
    [{ intervalMs: '5' }, /interval-ms: must be at least 10/],
    [{ intervalMs: '10001' }, /at most 10000/],
    [{ intervalMs: '12.5' }, /whole number/],
    [{ intervalMs: 'abc' }, /expected a number/],
    [{ gpuSource: 'cuda' }, /expected one of auto, nvml, nvidia-smi, none/],
    [{ listen: 'nowhere' }, /--listen: expected host:port/],
    [{ select: 'label:' }, /--select/],
    [{ select: 'name:(' }, /--select/],
    [{ timeLimit: '-1' }, /time-limit/],
  ])('rejects bad input %o', (flags, message) => {
    expect(() => resolveConfig(flags, {})).toThrow(ConfigError);
    expect(() => resolveConfig(flags, {})).toThrow(message);
  });

  it('rejects unknown keys and broken JSON in the config file', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'a.json'), JSON.stringify({ intervalMS: 10 }));
    writeFileSync(join(dir, 'b.json'), '{');
    expect(() => resolveConfig({}, {}, join(dir, 'a.json'))).toThrow(/unknown option "intervalMS"/);
    expect(() => resolveConfig({}, {}, join(dir, 'b.json'))).toThrow(/invalid --config/);
  });

  it('CLI: bad input is one line on stderr and exit 2', () => {
    const r = runCliSync(['start', '--interval-ms', '3']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/interval-ms/);
    const e = runCliSync(['start'], { FLARE_AGENT_GPU_SOURCE: 'bogus' });
    expect(e.code).toBe(2);
    expect(e.stderr).toMatch(/FLARE_AGENT_GPU_SOURCE/);
    expect(runCliSync(['frobnicate']).code).toBe(2);
  });
});

describe('README', () => {
  it('documents every option, its environment variable and the two commands', async () => {
    const { readFileSync } = await import('node:fs');
    const { OPTIONS, envName } = await import('../src/config.js');
    const readme = readFileSync('README.md', 'utf8');
    for (const o of OPTIONS) {
      expect(readme).toContain('`--' + o.flag + '`');
      expect(readme).toContain('`' + envName(o.flag) + '`');
    }
    expect(readme).toContain('npm ci && npm run build && node dist/src/cli.js start');
    expect(readme).toContain('npm test');
    expect(readFileSync('.ci/run', 'utf8')).toMatch(/^npm test$/m);
  });
});

describe('listen guard and tokens', () => {
  it('counts only loopback addresses as safe without a token', async () => {
    const { checkListenGuard, checkToken, isLoopbackHost } = await import('../src/http/guard.js');
    for (const h of ['127.0.0.1', '127.1.2.3', '::1', 'localhost', 'LOCALHOST', '::ffff:127.0.0.1']) expect(isLoopbackHost(h), h).toBe(true);
    for (const h of ['0.0.0.0', '::', '10.0.0.1', 'example.com', '128.0.0.1', '::ffff:10.0.0.1', 'localhost.example.com']) expect(isLoopbackHost(h), h).toBe(false);
    expect(checkListenGuard(':9465', false, false)).toBeNull(); // empty host = 127.0.0.1
    expect(checkListenGuard('[::1]:9465', false, false)).toBeNull();
    expect(checkListenGuard('[::]:9465', false, false)).toMatch(/refusing/);
    expect(checkListenGuard('0.0.0.0:9465', true, false)).toBeNull();
    expect(checkListenGuard('0.0.0.0:9465', false, true)).toBeNull();
    expect(checkToken('a'.repeat(16))).toBeNull();
    expect(checkToken('a'.repeat(15))).toMatch(/at least 16/);
    expect(checkToken('a'.repeat(1025))).toMatch(/at most/);
    expect(checkToken('abc def ghijklmnopq')).toMatch(/printable ASCII/);
  });
});
