// Agent configuration: one table of options (the AgentConfig of agent/config.ts), read from flags, FLARE_AGENT_<OPTION> variables and a JSON
// file (in that order of precedence), validated into a typed object. Bad input → ConfigError (exit 2).
import { readOrganiserFile } from './organiser-file.js';
import { DEFAULTS, type AgentConfig } from './agent/config.js';
import { isDecimal } from './core/text.js';
import { compilePattern } from './runtime/select.js';
import { checkListenGuard, checkToken } from './http/guard.js';
import { readAccuracyFile } from './scoring/accuracy-file.js';

export class ConfigError extends Error {}

type Kind = 'string' | 'int' | 'number' | 'bool' | 'enum';

interface OptionDef {
  /** camelCase key in the JSON file and in AgentConfig. */
  key: keyof AgentConfig;
  flag: string;
  kind: Kind;
  help: string;
  choices?: readonly string[];
  min?: number;
  max?: number;
}

/** Bounds of the organiser's files (organiser-file.ts): a token is one line, a config a few options. */
const MAX_TOKEN_FILE_BYTES = 64 * 1024;
const MAX_CONFIG_FILE_BYTES = 1024 * 1024;

export const OPTIONS: readonly OptionDef[] = [
  { key: 'db', flag: 'db', kind: 'string', help: 'SQLite file holding runs and traces' },
  { key: 'listen', flag: 'listen', kind: 'string', help: 'HTTP address host:port (API, /metrics, web page)' },
  { key: 'intervalMs', flag: 'interval-ms', kind: 'int', min: 10, max: 10000, help: 'sampling interval in ms' },
  { key: 'select', flag: 'select', kind: 'string', help: 'containers to attach: label:<key>, name:<regex>, image:<regex> or all' },
  { key: 'timeLimit', flag: 'time-limit', kind: 'number', min: 0.001, max: 604800, help: 'time limit in s, and the ceiling for a flare.time_limit_s label (none by default)' },
  { key: 'enforceTimeLimit', flag: 'enforce-time-limit', kind: 'bool', help: 'kill a run at its time limit (off: only mark it)' },
  { key: 'killGraceSeconds', flag: 'kill-grace-seconds', kind: 'number', min: 0, max: 600, help: 'with enforcement: SIGTERM, then SIGKILL after this many seconds (0: SIGKILL at once)' },
  { key: 'gpuToleranceMib', flag: 'gpu-tolerance-mib', kind: 'number', min: 0, max: 1048576, help: 'GPU memory not counted in aucGpuMiBs' },
  { key: 'gpuSource', flag: 'gpu-source', kind: 'enum', choices: ['auto', 'nvml', 'nvidia-smi', 'none'], help: 'GPU memory source' },
  { key: 'nvmlLib', flag: 'nvml-lib', kind: 'string', help: 'path or name of libnvidia-ml' },
  { key: 'dockerHost', flag: 'docker-host', kind: 'string', help: 'Docker socket path or URL (default: DOCKER_HOST, else /var/run/docker.sock)' },
  { key: 'runtime', flag: 'runtime', kind: 'enum', choices: ['docker', 'containerd', 'auto'], help: 'container runtime to attach to (auto: each whose socket exists)' },
  { key: 'containerdAddress', flag: 'containerd-address', kind: 'string', help: 'containerd socket path' },
  { key: 'containerdNamespace', flag: 'containerd-namespace', kind: 'string', help: 'containerd namespace (kubelet: k8s.io)' },
  { key: 'token', flag: 'token', kind: 'string', help: 'bearer token guarding the API, printable ASCII, at least 16 characters (prefer --token-file)' },
  { key: 'tokenFile', flag: 'token-file', kind: 'string', help: 'file holding the bearer token (a secret or systemd credential)' },
  { key: 'metricsOpen', flag: 'metrics-open', kind: 'bool', help: 'leave /metrics open when a token is set (it publishes per-team results)' },
  { key: 'accuracyCsv', flag: 'accuracy-csv', kind: 'string', help: 'accuracy CSV (team,case,metric,value) that /api/v1/ranking and the leaderboard rank with; re-read when it changes' },
  { key: 'unsafeListenWithoutToken', flag: 'unsafe-listen-without-token', kind: 'bool', help: 'UNSAFE: allow a non-loopback --listen with no token (anyone who can reach the port reads everything)' },
  { key: 'unsafeTrustImageLabels', flag: 'unsafe-trust-image-labels', kind: 'bool', help: 'UNSAFE: take flare.* labels baked into the image for identity and time limit (participants can then spoof them)' },
  { key: 'retentionDays', flag: 'retention-days', kind: 'number', min: 0.001, max: 36500, help: 'delete finished runs older than this' },
  { key: 'retentionMaxMib', flag: 'retention-max-mib', kind: 'number', min: 1, max: 1048576, help: 'delete oldest finished runs above this DB size' },
  { key: 'penaltyTimeSeconds', flag: 'penalty-time-seconds', kind: 'number', min: 0, max: 1e9, help: 'scoring time of a run over its limit' },
  { key: 'penaltyAucGpuMibs', flag: 'penalty-auc-gpu-mibs', kind: 'number', min: 0, max: 1e12, help: 'scoring AUC GPU of a run over its limit' },
  { key: 'penaltyAucCpuPcts', flag: 'penalty-auc-cpu-pcts', kind: 'number', min: 0, max: 1e12, help: 'scoring AUC CPU of a run over its limit' },
  { key: 'maxQueuedSamples', flag: 'max-queued-samples', kind: 'int', min: 1000, max: 100_000_000, help: 'samples kept waiting while database writes fail; the oldest are dropped past it' },
  { key: 'readHeapMib', flag: 'read-heap-mib', kind: 'int', min: 32, max: 65_536, help: 'heap of the thread that answers the ranking and the CSV exports; a read needing more is refused (503)' },
  { key: 'logLevel', flag: 'log-level', kind: 'enum', choices: ['debug', 'info', 'warn', 'error'], help: 'least severe log level written' },
];

export function envName(flag: string): string {
  return 'FLARE_AGENT_' + flag.toUpperCase().replace(/-/g, '_');
}

function parseValue(def: OptionDef, raw: unknown, where: string): unknown {
  const fail = (why: string): never => {
    throw new ConfigError(`invalid ${where} --${def.flag}: ${why}`);
  };
  if (def.kind === 'bool') {
    if (typeof raw === 'boolean') return raw;
    if (typeof raw !== 'string') return fail(`expected true or false, got ${JSON.stringify(raw)}`);
    const s = raw.toLowerCase();
    if (['1', 'true', 'yes', 'on'].includes(s)) return true;
    if (['0', 'false', 'no', 'off'].includes(s)) return false;
    return fail(`expected true or false, got ${JSON.stringify(raw)}`);
  }
  if (def.kind === 'int' || def.kind === 'number') {
    // Decimal JSON numbers or decimal strings only: not "0x64", "0b1", [100] (which Number() accepts).
    const n = typeof raw === 'number' ? raw : typeof raw === 'string' && isDecimal(raw) ? Number(raw) : NaN;
    if (!Number.isFinite(n)) return fail(`expected a number, got ${JSON.stringify(raw)}`);
    if (def.kind === 'int' && !Number.isInteger(n)) return fail(`expected a whole number, got ${n}`);
    if (def.min !== undefined && n < def.min) return fail(`must be at least ${def.min}, got ${n}`);
    if (def.max !== undefined && n > def.max) return fail(`must be at most ${def.max}, got ${n}`);
    return n;
  }
  if (typeof raw !== 'string' || raw === '') return fail(`expected a non-empty string`);
  if (def.kind === 'enum' && !def.choices?.includes(raw)) return fail(`expected one of ${def.choices?.join(', ')}, got ${JSON.stringify(raw)}`);
  return raw;
}

/** Validates --select and --listen, which have a shape of their own. */
function checkShapes(c: AgentConfig): void {
  if (!/^(label:[\w.\-/]+(=.*)?|name:.+|image:.+|all)$/.test(c.select)) {
    throw new ConfigError(`invalid --select: expected label:<key>[=<value>], name:<regex>, image:<regex> or all, got ${JSON.stringify(c.select)}`);
  }
  for (const prefix of ['name:', 'image:']) {
    if (c.select.startsWith(prefix)) {
      try {
        compilePattern(c.select.slice(prefix.length));
      } catch (e) {
        throw new ConfigError(`invalid --select: ${(e as Error).message}`);
      }
    }
  }
  const m = /^(.+):(\d{1,5})$/.exec(c.listen);
  if (!m || Number(m[2]) > 65535) throw new ConfigError(`invalid --listen: expected host:port, got ${JSON.stringify(c.listen)}`);
}

/**
 * For commands that serve HTTP (`start`): reads --token-file, checks the token, and refuses a
 * non-loopback --listen without one (docs/security.md). Not in resolveConfig, so a client-side
 * FLARE_AGENT_TOKEN in the environment does not stop `profile`.
 */
export function checkServing(c: AgentConfig): void {
  readTokenFile(c);
  if (c.accuracyCsv !== null) {
    try {
      readAccuracyFile(c.accuracyCsv);
    } catch (e) {
      throw new ConfigError(`invalid --accuracy-csv ${c.accuracyCsv}: ${(e as Error).message}`);
    }
  }
  const why = (c.token !== null ? checkToken(c.token) : null) ?? checkListenGuard(c.listen, c.token !== null, c.unsafeListenWithoutToken);
  if (why) throw new ConfigError(why);
}

/** --token-file → the token (one line; a trailing newline is dropped). Both given is ambiguous. */
function readTokenFile(c: AgentConfig): void {
  if (c.tokenFile === null) return;
  if (c.token !== null) throw new ConfigError('invalid --token-file: --token is set too; give one of them');
  let text: string;
  try {
    text = readOrganiserFile(c.tokenFile, MAX_TOKEN_FILE_BYTES).text;
  } catch (e) {
    throw new ConfigError(`invalid --token-file ${c.tokenFile}: ${(e as Error).message}`);
  }
  c.token = text.replace(/\r?\n$/, '');
}

/**
 * Merges the three sources. `flags` holds only what was given on the command line (commander values
 * keyed by camelCase option name); `env` is the process environment.
 */
export function resolveConfig(flags: Record<string, unknown>, env: NodeJS.ProcessEnv, configPath?: string): AgentConfig {
  let file: Record<string, unknown> = {};
  const path = configPath ?? env[envName('config')];
  if (path) {
    try {
      file = JSON.parse(readOrganiserFile(path, MAX_CONFIG_FILE_BYTES).text) as Record<string, unknown>;
    } catch (e) {
      throw new ConfigError(`invalid --config ${path}: ${(e as Error).message}`);
    }
    if (typeof file !== 'object' || file === null || Array.isArray(file)) throw new ConfigError(`invalid --config ${path}: expected a JSON object`);
    for (const k of Object.keys(file)) {
      if (!OPTIONS.some((o) => o.key === k)) throw new ConfigError(`invalid --config ${path}: unknown option ${JSON.stringify(k)}`);
    }
  }
  const out: Record<string, unknown> = { ...DEFAULTS };
  for (const def of OPTIONS) {
    const flagKey = def.flag.replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase());
    if (flags[flagKey] !== undefined) out[def.key] = parseValue(def, flags[flagKey], 'option');
    else if (env[envName(def.flag)] !== undefined) out[def.key] = parseValue(def, env[envName(def.flag)], `environment ${envName(def.flag)} for`);
    else if (file[def.key] !== undefined && file[def.key] !== null) out[def.key] = parseValue(def, file[def.key], `config file value for`);
  }
  const config = out as unknown as AgentConfig;
  checkShapes(config);
  return config;
}
