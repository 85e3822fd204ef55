// Helpers for the Docker tests: a real engine, containers from flare-test/busybox, an in-process agent.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import Docker from 'dockerode';
import { startAgent, type RunningAgent } from '../../src/daemon/agent.js';
import { DEFAULTS, type AgentConfig } from '../../src/agent/config.js';
import type { Run } from '../../src/core/types.js';
import { dockerSettler } from '../../src/runtime/docker/settle.js';
import { dockerAttachment } from '../../src/runtime/docker/adapter.js';
import type { RuntimeWatcher } from '../../src/runtime/watcher.js';
import { silentLogger } from '../../src/log.js';
import { sleep, tempDir } from '../helpers.js';

export const IMAGE = 'flare-test/busybox:latest';
export const docker = new Docker({ socketPath: process.env.DOCKER_HOST?.replace(/^unix:\/\//, '') ?? '/var/run/docker.sock' });

export async function dockerReachable(): Promise<boolean> {
  try {
    await docker.ping();
    await docker.getImage(IMAGE).inspect();
    return true;
  } catch {
    return false;
  }
}

/** A label value unique to this test process, so other containers on the engine are never attached. */
export const TEST_LABEL = 'flare.test';
export const testTag = randomBytes(4).toString('hex');

export interface TestAgent {
  agent: RunningAgent;
  watcher: RuntimeWatcher;
  stop(): Promise<void>;
}

export async function startTestAgent(overrides: Partial<AgentConfig> = {}): Promise<TestAgent> {
  const config: AgentConfig = {
    ...DEFAULTS,
    db: join(tempDir('flare-docker-'), 'agent.db'),
    listen: '127.0.0.1:0',
    gpuSource: 'none',
    intervalMs: 100,
    select: `label:${TEST_LABEL}=${testTag}`,
    ...overrides,
  };
  let watcher: RuntimeWatcher | null = null;
  const agent = await startAgent(
    config,
    silentLogger,
    [async (ctx) => (watcher = await dockerAttachment(ctx, { initialMs: 100, maxMs: 1000 }))],
    { settle: dockerSettler(docker) },
  );
  if (!watcher) throw new Error('docker attachment did not start');
  await waitFor(() => agent.live.health().sources.docker.up, 10_000, 'docker source up');
  return { agent, watcher, stop: () => agent.stop() };
}

export interface ContainerSpec {
  cmd: string[];
  labels?: Record<string, string>;
  name?: string;
  hostConfig?: Docker.HostConfig;
  /** Leave out the selection label (the container must not be attached). */
  unselected?: boolean;
}

export async function createAndStart(spec: ContainerSpec): Promise<Docker.Container> {
  const labels = spec.unselected ? { ...spec.labels } : { [TEST_LABEL]: testTag, ...spec.labels };
  const c = await docker.createContainer({
    Image: IMAGE,
    Cmd: spec.cmd,
    name: spec.name,
    Labels: labels,
    HostConfig: { NetworkMode: 'none', ...spec.hostConfig },
  });
  await c.start();
  return c;
}

/** Runs a container to its end; returns its id and Docker's own inspect of the end state. */
export async function runToEnd(spec: ContainerSpec): Promise<{ id: string; info: Docker.ContainerInspectInfo }> {
  const c = await createAndStart(spec);
  await c.wait();
  return { id: c.id, info: await c.inspect() };
}

export async function removeContainer(id: string): Promise<void> {
  await docker.getContainer(id).remove({ force: true }).catch(() => undefined);
}

export async function waitFor(cond: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** The runs of a container, oldest first. */
export function runsOf(agent: RunningAgent, containerId: string): Run[] {
  return agent.store
    .listRuns({}, 1000)
    .runs.filter((r) => r.containerId === containerId)
    .sort((a, b) => a.startedMonoNs - b.startedMonoNs);
}

/** Waits until the container's latest run is closed, and returns it. */
export async function finishedRun(agent: RunningAgent, containerId: string, timeoutMs = 10_000): Promise<Run> {
  let run: Run | undefined;
  await waitFor(() => {
    run = runsOf(agent, containerId).at(-1);
    return run !== undefined && run.status !== 'running' && run.summary !== null;
  }, timeoutMs, `the run of ${containerId.slice(0, 12)} to finish`);
  return run as Run;
}

/** Docker's FinishedAt − StartedAt with nanoseconds, parsed here independently of the agent. */
export function dockerWallSeconds(info: Docker.ContainerInspectInfo): number {
  const ns = (t: string): bigint => {
    const m = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d+))?Z$/.exec(t);
    if (!m) throw new Error(`unexpected Docker time ${t}`);
    return BigInt(Date.parse(m[1] + 'Z')) * 1_000_000n + BigInt((m[2] ?? '').padEnd(9, '0'));
  };
  return Number(ns(info.State.FinishedAt) - ns(info.State.StartedAt)) / 1e9;
}
