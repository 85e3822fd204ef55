// The command line loads only the command it runs (cli.ts): each command still parses, the help
// still lists every command, --version needs none, and a word that is no command is bad usage.
import { describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cli } from './http/cli-helpers.js';

const COMMANDS = ['start', 'profile', 'runs', 'export', 'collect', 'plot', 'evaluate', 'rank', 'accuracy'];

describe('flare-agent command line', () => {
  it('--version prints the package version; --help lists every command', async () => {
    const version = (JSON.parse(readFileSync('package.json', 'utf8')) as { version: string }).version;
    expect((await cli(['--version'])).stdout.trim()).toBe(version);
    expect((await cli(['-V'])).stdout).toBe(`${version}\n`);
    // Beside another word it is commander's: the help wins, a command's own --version is unknown.
    expect((await cli(['--version', '--help'])).stdout.trim()).toBe(version);
    expect((await cli(['runs', '--version'])).code).toBe(2);
    const help = await cli(['--help']);
    expect(help.code).toBe(0);
    for (const c of COMMANDS) expect(help.stdout).toMatch(new RegExp(`^  ${c} `, 'm'));
  });

  it('each command answers its own --help; an unknown command and a bad option are exit 2', async () => {
    for (const c of COMMANDS) {
      const r = await cli([c, '--help']);
      expect(r.code, c).toBe(0);
      expect(r.stdout, c).toContain(`Usage: flare-agent ${c} `);
    }
    const unknown = await cli(['nosuch']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/unknown command 'nosuch'/);
    // A configuration error (its module loaded only when it happens) is bad usage too, in one line.
    const config = await cli(['start', '--interval-ms', 'abc']);
    expect(config.code).toBe(2);
    expect(config.stderr).toBe('flare-agent: invalid option --interval-ms: expected a number, got "abc"\n');
    const bad = await cli(['accuracy', '--gt', '/x', '--pred', '/y', '--no-such-option']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/unknown option '--no-such-option'/);
  });

  it("the agent's sampling thread loads none of the HTTP thread's packages (they load in its worker)", async () => {
    // What `start` imports on the sampler's thread, in a process of its own: the packages Node's CommonJS
    // loader then holds. express, prom-client and their dependencies cost that thread ~75 ms of CPU and
    // ~9 MiB at every start when http-bridge.ts imported the HTTP thread's module at its top.
    const dist = join(import.meta.dirname, '..', 'dist', 'src');
    expect(existsSync(join(dist, 'http', 'http-worker.js'))).toBe(true); // else the bridge runs HTTP in-process
    const script = `await import(${JSON.stringify(join(dist, 'commands', 'start.js'))}); await import(${JSON.stringify(join(dist, 'daemon', 'agent.js'))});
const { createRequire } = await import('node:module');
const packages = new Set(Object.keys(createRequire(import.meta.url).cache).map((f) => /node_modules\\/((?:@[^/]+\\/)?[^/]+)/.exec(f)?.[1]).filter(Boolean));
process.stdout.write(JSON.stringify([...packages].sort()));`;
    const loaded = await new Promise<string[]>((resolve, reject) =>
      execFile(process.execPath, ['--input-type=module', '-e', script], (err, stdout, stderr) => (err ? reject(new Error(stderr)) : resolve(JSON.parse(stdout) as string[]))),
    );
    expect(loaded).toContain('better-sqlite3'); // the loader's cache lists the packages imported from ESM
    for (const p of ['express', 'prom-client', 'body-parser', '@opentelemetry/api']) expect(loaded, p).not.toContain(p);
  });
});
