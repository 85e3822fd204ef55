// Structural checks of the deployment files, with the real tools where they exist (promtool,
// systemd-analyze, docker-compose).
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { requireServices } from '../helpers.js';

const ROOT = join(import.meta.dirname, '..', '..');
const DEPLOY = join(ROOT, 'deploy');
// Parsed YAML, navigated freely in assertions.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Obj = Record<string, any>;

const yamlFile = (path: string): Obj => parse(readFileSync(join(DEPLOY, path), 'utf8')) as Obj;

function have(cmd: string, args: string[]): boolean {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  return r.status === 0;
}

describe('docker compose', () => {
  const compose = yamlFile('docker-compose.yml');

  it('runs the agent, Prometheus and Grafana with the documented mounts', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['agent', 'grafana', 'prometheus']);
    const agent = compose.services.agent;
    expect(agent.pid).toBe('host');
    expect(agent.build).toEqual({ context: '..', dockerfile: 'deploy/Dockerfile' });
    expect(agent.volumes).toContain('/var/run/docker.sock:/var/run/docker.sock:ro');
    expect(agent.volumes).toContain('/sys/fs/cgroup:/sys/fs/cgroup:ro');
    expect(agent.environment.NVIDIA_DRIVER_CAPABILITIES).toContain('utility');
    expect(agent.deploy.resources.reservations.devices[0].driver).toBe('nvidia');
    expect(agent.ports).toEqual(['127.0.0.1:9465:9465']);
    expect(agent.user).not.toMatch(/^0(:|$)/);
  });

  it('mounts files that exist, and Grafana finds the dashboards where its provider looks', () => {
    for (const svc of Object.values(compose.services) as Obj[]) {
      for (const v of (svc.volumes ?? []) as string[]) {
        const src = v.split(':')[0];
        if (src.startsWith('.')) expect(existsSync(join(DEPLOY, src)), v).toBe(true);
      }
    }
    const provider = yamlFile('grafana/provisioning/dashboards/flare-agent.yml').providers[0];
    const dashMount = (compose.services.grafana.volumes as string[]).find((v) => v.startsWith('../dashboards:'));
    expect(dashMount?.split(':')[1]).toBe(provider.options.path);
    const ds = yamlFile('grafana/provisioning/datasources/prometheus.yml').datasources[0];
    expect(ds).toMatchObject({ type: 'prometheus', url: 'http://prometheus:9090', isDefault: true });
    const prom = yamlFile('prometheus.yml');
    expect(prom.scrape_configs[0].static_configs[0].targets).toEqual(['agent:9465']);
  });

  it('passes `docker-compose config` (Debian docker-compose 1.29)', (ctx) => {
    if (!have('docker-compose', ['version'])) {
      if (requireServices()) throw new Error('docker-compose is missing (apt-get install docker-compose)');
      ctx.skip();
    }
    const r = spawnSync('docker-compose', ['-f', join(DEPLOY, 'docker-compose.yml'), 'config', '--quiet'], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
});

describe('prometheus.yml', () => {
  it('passes promtool check config', (ctx) => {
    if (!existsSync('/usr/bin/promtool')) {
      if (requireServices()) throw new Error('/usr/bin/promtool is missing');
      ctx.skip();
    }
    // promtool also checks that the token file exists: point it at one (the compose secret's path
    // exists only inside the Prometheus container).
    const dir = mkdtempSync(join(tmpdir(), 'flare-prom-'));
    try {
      const tokenFile = join(dir, 'token');
      writeFileSync(tokenFile, 'x'.repeat(32));
      const text = readFileSync(join(DEPLOY, 'prometheus.yml'), 'utf8');
      expect(text).toContain('credentials_file: /run/secrets/flare-agent-token');
      writeFileSync(join(dir, 'prometheus.yml'), text.replace('/run/secrets/flare-agent-token', tokenFile));
      // The rule file beside it, where the shipped config names it (and compose mounts it).
      mkdirSync(join(dir, 'prometheus'));
      copyFileSync(join(DEPLOY, 'prometheus', 'rules.yml'), join(dir, 'prometheus', 'rules.yml'));
      const r = spawnSync('/usr/bin/promtool', ['check', 'config', join(dir, 'prometheus.yml')], { encoding: 'utf8' });
      expect(r.status, r.stdout + r.stderr).toBe(0);
      expect(r.stdout + r.stderr).toMatch(/SUCCESS: \d+ rules found/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('Dockerfile', () => {
  const text = readFileSync(join(DEPLOY, 'Dockerfile'), 'utf8');
  it('is multi-stage, non-root, and starts the agent', () => {
    expect(text.match(/^FROM /gm)?.length).toBeGreaterThanOrEqual(2);
    expect(text).toMatch(/^COPY --from=build /m);
    expect(text).toMatch(/^USER node$/m);
    expect(text).toMatch(/^ENTRYPOINT \["node", "dist\/src\/cli.js"\]$/m);
    expect(text).toMatch(/^EXPOSE 9465$/m);
  });
});

describe('systemd unit', () => {
  const unit = readFileSync(join(DEPLOY, 'systemd', 'flare-agent.service'), 'utf8');
  const settings = new Map<string, string>();
  for (const line of unit.split('\n')) {
    const m = /^([A-Za-z]+)=(.*)$/.exec(line);
    if (m) settings.set(m[1], m[2]);
  }

  it('restarts on failure, keeps state, and hardens without hiding what the agent reads', () => {
    expect(unit).toMatch(/^\[Unit\]$/m);
    expect(unit).toMatch(/^\[Service\]$/m);
    expect(unit).toMatch(/^\[Install\]$/m);
    expect(settings.get('Restart')).toBe('on-failure');
    expect(settings.get('StateDirectory')).toBe('flare-agent');
    expect(settings.get('ExecStart')).toContain('/var/lib/flare-agent/');
    expect(settings.get('SupplementaryGroups')).toBe('docker');
    expect(settings.get('NoNewPrivileges')).toBe('yes');
    expect(settings.get('ProtectSystem')).toBe('strict');
    expect(settings.get('RestrictAddressFamilies')).toContain('AF_UNIX');
    expect(settings.has('PrivateDevices')).toBe(false);
    expect(settings.has('MemoryDenyWriteExecute')).toBe(false);
    expect(settings.get('ProtectProc') ?? 'default').toBe('default');
  });

  it('passes systemd-analyze verify where systemd is installed', (ctx) => {
    if (!existsSync('/usr/bin/systemd-analyze')) ctx.skip(); // optional tool
    const dir = mkdtempSync(join(tmpdir(), 'flare-unit-'));
    try {
      // The binary is not installed here: verify the unit with a stand-in ExecStart.
      const path = join(dir, 'flare-agent.service');
      writeFileSync(path, unit.replace(/^ExecStart=\S+/m, 'ExecStart=/bin/true'));
      const r = spawnSync('/usr/bin/systemd-analyze', ['verify', path], { encoding: 'utf8' });
      const complaints = (r.stdout + r.stderr).split('\n').filter((l) => l.includes('flare-agent.service'));
      expect(complaints).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('Kubernetes', () => {
  const docs = parseAllDocuments(readFileSync(join(DEPLOY, 'kubernetes', 'flare-agent.yaml'), 'utf8')).map((d) => d.toJS() as Obj);
  const byKind = (kind: string): Obj => {
    const d = docs.find((x) => x.kind === kind);
    expect(d, kind).toBeTruthy();
    return d as Obj;
  };

  it('has a namespace, DaemonSet, Service, ServiceMonitor and PrometheusRule with valid apiVersions', () => {
    expect(docs.map((d) => `${d.apiVersion}/${d.kind}`)).toEqual([
      'v1/Namespace',
      'apps/v1/DaemonSet',
      'v1/Service',
      'monitoring.coreos.com/v1/ServiceMonitor',
      'monitoring.coreos.com/v1/PrometheusRule',
    ]);
    for (const d of docs) {
      expect(d.metadata.name).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
      if (d.kind !== 'Namespace') expect(d.metadata.namespace).toBe('flare-agent');
    }
  });

  it('runs one privileged-enough, read-only agent per GPU node', () => {
    const ds = byKind('DaemonSet');
    const pod = ds.spec.template.spec;
    expect(ds.spec.selector.matchLabels).toEqual(ds.spec.template.metadata.labels);
    expect(pod.hostPID).toBe(true);
    expect(pod.runtimeClassName).toBe('nvidia');
    expect(pod.nodeSelector).toEqual({ 'nvidia.com/gpu.present': 'true' });
    const c = pod.containers[0];
    expect(c.securityContext.readOnlyRootFilesystem).toBe(true);
    expect(c.securityContext.allowPrivilegeEscalation).toBe(false);
    expect(c.resources.limits['nvidia.com/gpu']).toBeUndefined();
    const mounts = Object.fromEntries((c.volumeMounts as Obj[]).map((m) => [m.mountPath, m]));
    expect(mounts['/var/run/docker.sock'].readOnly).toBe(true);
    expect(mounts['/sys/fs/cgroup'].readOnly).toBe(true);
    const volumes = new Set((pod.volumes as Obj[]).map((v) => v.name));
    for (const m of c.volumeMounts as Obj[]) expect(volumes.has(m.name), m.name).toBe(true);
    expect(c.args).toContain('0.0.0.0:9465');
    expect(c.livenessProbe.httpGet.path).toBe('/healthz');
  });

  it('wires Service and ServiceMonitor to the pods by label and port name', () => {
    const ds = byKind('DaemonSet');
    const svc = byKind('Service');
    const sm = byKind('ServiceMonitor');
    const podLabels = ds.spec.template.metadata.labels as Record<string, string>;
    for (const [k, v] of Object.entries(svc.spec.selector as Record<string, string>)) expect(podLabels[k]).toBe(v);
    for (const [k, v] of Object.entries(sm.spec.selector.matchLabels as Record<string, string>)) expect(svc.metadata.labels[k]).toBe(v);
    const portNames = (ds.spec.template.spec.containers[0].ports as Obj[]).map((p) => p.name);
    expect(portNames).toContain(svc.spec.ports[0].targetPort);
    expect(svc.spec.ports.map((p: Obj) => p.name)).toContain(sm.spec.endpoints[0].port);
    expect(sm.spec.endpoints[0].path).toBe('/metrics');
  });
});

// --enforce-time-limit kills through the container's cgroup when the runtime refuses: the shipped units
// without their enforcement overlay are denied that (kill-impossible); each overlay grants exactly the
// write on cgroupfs and the signal it needs (docs/security.md, "Enforcing time limits").
describe('enforcement overlays', () => {
  it('systemd drop-in: enforcement on, cgroupfs read-write, CAP_DAC_OVERRIDE and CAP_KILL only', () => {
    const dropIn = readFileSync(join(DEPLOY, 'systemd', 'enforce.conf'), 'utf8');
    const set = (k: string): string | undefined => new RegExp(`^${k}=(.*)$`, 'm').exec(dropIn)?.[1];
    expect(dropIn).toMatch(/^\[Service\]$/m);
    expect(set('Environment')).toBe('FLARE_AGENT_ENFORCE_TIME_LIMIT=true');
    expect(set('ProtectControlGroups')).toBe('no');
    expect(set('ReadWritePaths')).toBe('/sys/fs/cgroup');
    expect(set('CapabilityBoundingSet')?.split(' ').sort()).toEqual(['CAP_DAC_OVERRIDE', 'CAP_KILL']);
    expect(set('AmbientCapabilities')?.split(' ').sort()).toEqual(['CAP_DAC_OVERRIDE', 'CAP_KILL']);
  });

  it('compose override: uid 0, KILL, cgroupfs read-write; it merges with the base file (docker-compose config)', (ctx) => {
    const o = yamlFile('docker-compose.enforce.yml').services.agent;
    expect(o.environment.FLARE_AGENT_ENFORCE_TIME_LIMIT).toBe('true');
    expect(o.user).toBe('0:0');
    expect(o.cap_add).toEqual(['KILL']);
    expect(o.volumes).toEqual(['/sys/fs/cgroup:/sys/fs/cgroup:rw']);
    if (!have('docker-compose', ['version'])) {
      if (requireServices()) throw new Error('docker-compose is missing (apt-get install docker-compose)');
      return ctx.skip();
    }
    const r = spawnSync('docker-compose', ['-f', join(DEPLOY, 'docker-compose.yml'), '-f', join(DEPLOY, 'docker-compose.enforce.yml'), 'config'], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const merged = parse(r.stdout) as Obj;
    expect(merged.services.agent.user).toBe('0:0');
    // One mount of cgroupfs, the read-write one (compose merges volumes by target path).
    const cg = (merged.services.agent.volumes as (string | Obj)[]).filter((v) => (typeof v === 'string' ? v : v.target as string).includes('/sys/fs/cgroup'));
    expect(cg).toHaveLength(1);
    expect(JSON.stringify(cg[0])).not.toMatch(/:ro|read_only":true/);
  });

  it('Kubernetes patch: the agent container gets KILL, enforcement on and cgroupfs read-write', () => {
    const patch = yamlFile('kubernetes/enforce-patch.yaml');
    const c = patch.spec.template.spec.containers[0];
    expect(c.name).toBe('agent');
    expect(c.env).toEqual([{ name: 'FLARE_AGENT_ENFORCE_TIME_LIMIT', value: 'true' }]);
    expect(c.securityContext.capabilities.add).toEqual(['KILL']);
    expect(c.volumeMounts).toEqual([{ name: 'cgroup', mountPath: '/sys/fs/cgroup', readOnly: false }]);
  });
});
