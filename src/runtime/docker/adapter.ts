// The Docker adapter: Docker's events, its container and image inspects, its kill, its record of
// ended containers, turned into the watcher's terms (runtime/adapter.ts). Docker gives ns-precise
// StartedAt/FinishedAt, OOMKilled, and a `kill` event per signal; its containers' labels merge in their
// image's, which is why the image is inspected too (identity.ts, docs/security.md).
import { readdirSync } from 'node:fs';
import type { DockerApi } from './engine-client.js';
import type { AgentContext } from '../../agent/context.js';
import { rememberBounded } from '../../core/bounded-map.js';
import { toMicroseconds } from '../../core/run-facts.js';
import type { RunFlag } from '../../core/run-facts.js';
import type { Logger } from '../../log.js';
import type { ContainerEnd, ContainerFacts, GapOutcome, LifecycleEvent, MissedQuery, RuntimeAdapter } from '../adapter.js';
import type { KillSignal } from '../kill.js';
import type { Backoff } from '../reconnect.js';
import { watchRuntime, type RuntimeWatcher } from '../watcher.js';
import { createDockerClient } from './client.js';
import { oomInEventLog, openDockerEvents } from './events.js';
import { containerIdentity, containerName, type InspectFacts } from './identity.js';
import { missedContainers } from './missed.js';
import { dockerSettler } from './settle.js';
import { parseDockerTimeNs } from './time.js';

const MAX_CACHED_IMAGES = 256;

/** The host-side listing of a container's inputs mount (identity.ts names the case after its one file). */
function listDir(dir: string): string[] | null {
  try {
    return readdirSync(dir);
  } catch {
    return null;
  }
}

interface ImageFacts {
  id: string;
  labels: Record<string, string>;
}

export class DockerAdapter implements RuntimeAdapter {
  readonly name = 'docker' as const;
  readonly traits = { readAtExit: false, removalAfterEndFlag: true, killEvents: true };
  /** Image id → its labels (content-addressed, so never stale); bounded, oldest dropped first. */
  private readonly imageLabels = new Map<string, Record<string, string>>();
  /** Image reference (as in start events) → the id it named when last inspected. */
  private readonly imageIdByRef = new Map<string, string>();

  constructor(private readonly docker: DockerApi, private readonly log: Logger) {}

  subscribe(onEvent: (e: LifecycleEvent) => void, onDown: (reason: string) => void): Promise<() => void> {
    return openDockerEvents(this.docker, onEvent, onDown);
  }

  async listRunning(): Promise<Array<{ id: string }>> {
    return (await this.docker.listContainers({ all: false })).map((c) => ({ id: c.Id }));
  }

  private async inspectRaw(id: string): Promise<InspectFacts | null> {
    try {
      return await this.docker.getContainer(id).inspect();
    } catch (e) {
      if ((e as { statusCode?: number }).statusCode === 404) return null;
      throw e;
    }
  }

  async inspect(id: string, hint: { start?: LifecycleEvent & { kind: 'start' } }): Promise<ContainerFacts | null> {
    // The image a start event names is fetched alongside the container.
    const prefetch = this.prefetchImage(hint.start?.imageRef);
    const info = await this.inspectRaw(id);
    return info ? this.factsOf(info, prefetch) : null;
  }

  private factsOf(info: InspectFacts, prefetch: Promise<ImageFacts | null> | null): ContainerFacts {
    const startedAtNs = parseDockerTimeNs(info.State.StartedAt);
    const createdNs = parseDockerTimeNs(info.Created);
    const flags: RunFlag[] = [];
    // Docker's create → start, for the official span (docs/scoring.md); Docker's own clock, ns, kept to the µs.
    const createdBeforeStartSeconds = createdNs !== null && startedAtNs !== null && startedAtNs >= createdNs ? toMicroseconds(startedAtNs - createdNs) : null;
    return {
      id: info.Id,
      running: info.State.Running,
      pid: info.State.Pid,
      startedAtNs,
      selection: { labels: info.Config.Labels ?? {}, name: containerName(info), image: info.Config.Image },
      neverRun: false,
      flags,
      createdBeforeStartSeconds,
      end: info.State.Running ? null : this.endFrom(info, null),
      identify: async (env) => {
        const imageLabels = await this.labelsOfImage(info.Image, prefetch);
        return containerIdentity(info, env.node, env.timeLimitSeconds, { imageLabels, trustImageLabels: env.trustImageLabels }, listDir, env.gpuDevices, env.migDevices);
      },
    };
  }

  /** The end from Docker's final state, or from the `die` event when the container is gone or already restarted. */
  private endFrom(info: InspectFacts | null, die: (LifecycleEvent & { kind: 'exit' }) | null): ContainerEnd {
    const flags: RunFlag[] = [];
    let finishedAtNs = parseDockerTimeNs(info?.State.FinishedAt);
    if ((finishedAtNs === null || (info?.State.Running ?? false)) && die) {
      finishedAtNs = die.timeNs;
      flags.push('finished-at-from-event');
    }
    const exitCode = info && !info.State.Running ? info.State.ExitCode : (die?.exitCode ?? null);
    return { finishedAtNs, exitCode, oomKilled: info?.State.OOMKilled ?? false, bySignal: false, flags, provisional: flags.length > 0 };
  }

  async endOf(id: string, exit: LifecycleEvent & { kind: 'exit' }): Promise<ContainerEnd> {
    const info = await this.inspectRaw(id).catch(() => null);
    return this.endFrom(info, exit);
  }

  async afterGap(id: string, startedAtNs: bigint): Promise<GapOutcome> {
    const info = await this.inspectRaw(id);
    if (!info) return { gone: 'container-vanished' };
    if (!info.State.Running && parseDockerTimeNs(info.State.StartedAt) === startedAtNs) return { ended: await this.withEventLogOom(info, this.endFrom(info, null)) };
    return { gone: 'container-restarted' };
  }

  /** An exit by SIGKILL with OOMKilled unset, ended while no event was streamed: Docker's event log may name the OOM. */
  private async withEventLogOom(info: InspectFacts, end: ContainerEnd): Promise<ContainerEnd> {
    if (end.exitCode !== 137 || end.oomKilled) return end;
    const named = await oomInEventLog(this.docker, info.Id, parseDockerTimeNs(info.State.StartedAt), parseDockerTimeNs(info.State.FinishedAt));
    return named ? { ...end, oomKilled: true, oomNamedBy: 'runtime-event-log' } : end;
  }

  async kill(id: string, signal: KillSignal): Promise<void> {
    try {
      await this.docker.getContainer(id).kill({ signal });
    } catch (e) {
      // 409/404: it is not running any more, which is what we wanted.
      const status = (e as { statusCode?: number }).statusCode;
      if (status !== 409 && status !== 404) throw e;
    }
  }

  async missed(q: MissedQuery): Promise<ContainerFacts[]> {
    const out: ContainerFacts[] = [];
    for (const info of await missedContainers(this.docker, q)) {
      const facts = this.factsOf(info, null);
      out.push(facts.end ? { ...facts, end: await this.withEventLogOom(info, facts.end) } : facts);
    }
    return out;
  }

  settler() {
    return dockerSettler(this.docker);
  }

  close(): void {}

  private async inspectImage(ref: string): Promise<ImageFacts | null> {
    try {
      const image = (await this.docker.getImage(ref).inspect()) as { Id: string; Config?: { Labels?: Record<string, string> | null } | null };
      const facts = { id: image.Id, labels: image.Config?.Labels ?? {} };
      rememberBounded(this.imageLabels, facts.id, facts.labels, MAX_CACHED_IMAGES);
      rememberBounded(this.imageIdByRef, ref, facts.id, MAX_CACHED_IMAGES);
      return facts;
    } catch (e) {
      this.log.warn('image inspect failed', { image: ref.slice(0, 200), error: (e as Error).message });
      return null;
    }
  }

  /** Starts fetching the labels of the image a start event names, unless they are known already. */
  private prefetchImage(ref: string | undefined): Promise<ImageFacts | null> | null {
    if (!ref) return null;
    const known = this.imageIdByRef.get(ref);
    return known !== undefined && this.imageLabels.has(known) ? null : this.inspectImage(ref);
  }

  /**
   * The labels baked into the container's image, to tell them from those the organiser set at
   * `docker run` (identity.ts, docs/security.md). null: not known (image gone, inspect failed).
   * A name can be re-tagged meanwhile: a prefetched image counts only if its id is the container's.
   */
  private async labelsOfImage(imageId: string, prefetched: Promise<ImageFacts | null> | null): Promise<Record<string, string> | null> {
    const byName = prefetched ? await prefetched : null;
    if (byName?.id === imageId) return byName.labels;
    return this.imageLabels.get(imageId) ?? (await this.inspectImage(imageId))?.labels ?? null;
  }
}

/** The Docker attachment: the generic watcher on Docker's adapter. */
export async function dockerAttachment(ctx: AgentContext, backoff?: Backoff, docker: DockerApi = createDockerClient(ctx.config.dockerHost)): Promise<RuntimeWatcher> {
  return watchRuntime(ctx, new DockerAdapter(docker, ctx.log), backoff);
}
