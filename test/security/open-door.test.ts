// Security §3: the agent is not an open door. Against the built CLI: a non-loopback --listen without
// a token is refused (exit 2) unless --unsafe-listen-without-token; tokens are checked at start
// (printable ASCII, ≥ 16 characters) without being echoed; the bearer scheme is case-insensitive;
// with a token /metrics needs it unless --metrics-open; every response carries nosniff,
// no-referrer and a CSP with frame-ancestors 'none'. The shipped deploy files pass the token from a
// secret or credential file, and real Prometheus scrapes the agent with the shipped
// authorization.credentials_file.
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { CLI, runCli, tempDir } from '../helpers.js';
import { havePrometheus, startPrometheus, waitForScrapes } from '../http/prometheus-helpers.js';
import { startAgentChild, type AgentChild } from '../web/agent-child.js';

const TOKEN = 'flare-sec-test-token-0123456789abcdef';
const dir = tempDir('flare-sec-door-');
const db = join(dir, 'agent.db');
const tokenFile = join(dir, 'token');
writeFileSync(tokenFile, TOKEN + '\n');

/** Starts the CLI with these args; resolves with the exit code, or 'listening' once it serves. */
function startOrExit(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ result: number | 'listening'; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, 'start', '--db', db, '--gpu-source', 'none', ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let stderr = '';
    let listening = false;
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (!listening && out.includes('"msg":"listening"')) {
        listening = true;
        child.kill('SIGTERM');
      }
    });
    child.once('exit', (code) => resolve({ result: listening ? 'listening' : (code ?? -1), stderr }));
  });
}

describe('start refuses an open door', () => {
  it('refuses a non-loopback --listen without a token (exit 2), unless the unsafe flag is named', async () => {
    for (const listen of ['0.0.0.0:0', '[::]:0']) {
      const r = await startOrExit(['--listen', listen]);
      expect(r.result, listen).toBe(2);
      expect(r.stderr).toMatch(/refusing --listen .* without a token/);
    }
    expect((await startOrExit(['--listen', '0.0.0.0:0', '--unsafe-listen-without-token'])).result).toBe('listening');
    expect((await startOrExit(['--listen', '0.0.0.0:0', '--token-file', tokenFile])).result).toBe('listening');
    expect((await startOrExit(['--listen', '127.0.0.1:0'])).result).toBe('listening');
  }, 60_000);

  it('checks tokens at start (printable ASCII, at least 16 characters) and never echoes them', async () => {
    const bad = ['short-token', 'has a space in it 0123456789', 'non-ascii-tökén-0123456789', 'tab\tin-the-token-0123456789'];
    for (const token of bad) {
      const r = await runCli(['start', '--db', db, '--gpu-source', 'none', '--token', token]);
      expect(r.code, token).toBe(2);
      expect(r.stderr).toMatch(/invalid token/);
      expect(r.stderr).not.toContain(token);
    }
    // The same check whichever way the token comes.
    expect((await runCli(['start', '--db', db, '--gpu-source', 'none'], { FLARE_AGENT_TOKEN: bad[1] })).code).toBe(2);
    const file = join(dir, 'bad-token');
    writeFileSync(file, bad[2]);
    expect((await runCli(['start', '--db', db, '--gpu-source', 'none', '--token-file', file])).code).toBe(2);
    expect((await runCli(['start', '--db', db, '--token', TOKEN, '--token-file', tokenFile])).code).toBe(2);
  }, 60_000);
});

describe('with a token', () => {
  let agent: AgentChild;
  let open: AgentChild;
  let base: string;
  beforeAll(async () => {
    agent = await startAgentChild(['--db', db, '--gpu-source', 'none', '--token-file', tokenFile]);
    open = await startAgentChild(['--db', join(dir, 'open.db'), '--gpu-source', 'none', '--token-file', tokenFile, '--metrics-open']);
    base = `http://127.0.0.1:${agent.port}`;
  }, 60_000);
  afterAll(async () => {
    await agent?.stop();
    await open?.stop();
  });

  it('matches the bearer scheme case-insensitively (RFC 7235)', async () => {
    for (const scheme of ['Bearer', 'bearer', 'BEARER', 'bEaReR']) {
      expect((await fetch(`${base}/api/v1/runs`, { headers: { authorization: `${scheme} ${TOKEN}` } })).status, scheme).toBe(200);
    }
    expect((await fetch(`${base}/api/v1/runs`, { headers: { authorization: `Basic ${TOKEN}` } })).status).toBe(401);
    expect((await fetch(`${base}/api/v1/runs`, { headers: { authorization: `bearer ${TOKEN}x` } })).status).toBe(401);
  });

  it('guards /metrics unless --metrics-open', async () => {
    expect((await fetch(`${base}/metrics`)).status).toBe(401);
    const m = await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(m.status).toBe(200);
    expect(await m.text()).toContain('flare_agent');
    expect((await fetch(`http://127.0.0.1:${open.port}/metrics`)).status).toBe(200);
    expect((await fetch(`http://127.0.0.1:${open.port}/api/v1/runs`)).status).toBe(401);
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
  });

  it('sends nosniff, no-referrer and a CSP with frame-ancestors \'none\' on every response', async () => {
    const auth = { authorization: `Bearer ${TOKEN}` };
    const cases: [string, Record<string, string>, number][] = [
      ['/', {}, 200], ['/index.html', {}, 200], ['/js/api.js', {}, 200], ['/healthz', {}, 200], ['/metrics', {}, 401],
      ['/metrics', auth, 200], ['/api/v1/runs', {}, 401], ['/api/v1/runs', auth, 200], ['/api/v1/export/flare22.csv', auth, 200],
      ['/api/v1/nope', auth, 404], ['/nope', {}, 404], ['/api/v1/runs/%E0%A4%A', auth, 400],
    ];
    for (const [path, headers, status] of cases) {
      const res = await fetch(`${base}${path}`, { headers });
      expect(res.status, path).toBe(status);
      expect(res.headers.get('x-content-type-options'), path).toBe('nosniff');
      expect(res.headers.get('referrer-policy'), path).toBe('no-referrer');
      expect(res.headers.get('content-security-policy'), path).toMatch(/frame-ancestors 'none'/);
    }
    const page = await fetch(`${base}/`);
    expect(page.headers.get('content-security-policy')).toMatch(/script-src 'self'/);
  });

  it('real Prometheus scrapes it with the shipped config\'s authorization.credentials_file', async (ctx) => {
    if (!havePrometheus()) return ctx.skip();
    const shipped = readFileSync(join(import.meta.dirname, '..', '..', 'deploy', 'prometheus.yml'), 'utf8');
    const config = shipped
      .replace('/run/secrets/flare-agent-token', tokenFile)
      .replace("['agent:9465']", `['127.0.0.1:${agent.port}']`)
      .replace(/scrape_interval: 5s/g, 'scrape_interval: 1s')
      .replace('scrape_timeout: 4s', 'scrape_timeout: 900ms');
    expect(config).toContain(`credentials_file: ${tokenFile}`);
    const prom = await startPrometheus([], 'flare-agent', config);
    try {
      await waitForScrapes(prom, 'flare-agent', 1, 2);
      const r = await prom.query('flare_agent_ticks_total');
      expect(r.data?.result.length).toBeGreaterThan(0);
    } finally {
      await prom.stop();
    }
  }, 60_000);
});

describe('deploy files pass the token from a secret or credential file', () => {
  const deploy = join(import.meta.dirname, '..', '..', 'deploy');
  it('compose: a file secret for the agent (--token-file) and for Prometheus', () => {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const compose = parse(readFileSync(join(deploy, 'docker-compose.yml'), 'utf8')) as any;
    expect(compose.secrets['flare-agent-token']).toEqual({ file: './secrets/flare-agent-token' });
    expect(compose.services.agent.secrets).toEqual(['flare-agent-token']);
    expect(compose.services.agent.environment.FLARE_AGENT_TOKEN_FILE).toBe('/run/secrets/flare-agent-token');
    expect(compose.services.agent.environment.FLARE_AGENT_TOKEN).toBeUndefined();
    expect(compose.services.prometheus.secrets).toEqual(['flare-agent-token']);
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const prom = parse(readFileSync(join(deploy, 'prometheus.yml'), 'utf8')) as any;
    expect(prom.scrape_configs[0].authorization).toEqual({ type: 'Bearer', credentials_file: '/run/secrets/flare-agent-token' });
  });

  it('Kubernetes: the Secret mounted as a file for --token-file, and the ServiceMonitor authorised by it', () => {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const docs = parseAllDocuments(readFileSync(join(deploy, 'kubernetes', 'flare-agent.yaml'), 'utf8')).map((d) => d.toJS() as any);
    const pod = docs.find((d) => d.kind === 'DaemonSet').spec.template.spec;
    const agent = pod.containers[0];
    const i = agent.args.indexOf('--token-file');
    expect(i).toBeGreaterThan(0);
    const mount = agent.volumeMounts.find((m: { name: string }) => m.name === 'token');
    expect(agent.args[i + 1]).toBe(`${mount.mountPath}/token`);
    expect(pod.volumes.find((v: { name: string }) => v.name === 'token').secret.secretName).toBe('flare-agent-token');
    expect(agent.args).toContain('0.0.0.0:9465');
    expect(JSON.stringify(agent.env)).not.toMatch(/TOKEN/);
    const sm = docs.find((d) => d.kind === 'ServiceMonitor');
    expect(sm.spec.endpoints[0].authorization).toEqual({ type: 'Bearer', credentials: { name: 'flare-agent-token', key: 'token' } });
  });

  it('systemd: a LoadCredential read with --token-file', () => {
    const unit = readFileSync(join(deploy, 'systemd', 'flare-agent.service'), 'utf8');
    expect(unit).toMatch(/^LoadCredential=token:\/etc\/flare-agent\/token$/m);
    expect(unit).toMatch(/^ExecStart=.* --token-file \$\{CREDENTIALS_DIRECTORY\}\/token$/m);
  });
});
