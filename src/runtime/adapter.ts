// The container-runtime interface: everything the generic watcher (watcher.ts) needs from a runtime,
// and nothing more. An adapter only talks to its runtime (Docker's API, containerd's gRPC) and turns
// its answers into these shapes; the queue, the attach, the cgroup, enforcement, the verdict and
// reconnecting are the watcher's, the same for every runtime. Adding a runtime is one folder with an
// adapter and one line in registry.ts (as cAdvisor registers a ContainerHandlerFactory).
import type { Settler } from '../agent/recover.js';
import type { WallWindow } from '../core/lives.js';
import type { RunFacts, RunFlag } from '../core/run-facts.js';
import type { ContainerRuntime, RunIdentity } from '../core/types.js';
import type { KillSignal } from './kill.js';
import type { SelectionFacts } from './select.js';

/** A runtime's container lifecycle event, in the watcher's terms. Times: the runtime's, epoch ns. */
export type LifecycleEvent =
  /** A container's (init) process started; pid when the event names it, imageRef when it names the image. */
  | { kind: 'start'; containerId: string; timeNs: bigint | null; pid?: number; imageRef?: string }
  /** Its init process exited (the runtime's exit code when the event carries one). */
  | { kind: 'exit'; containerId: string; timeNs: bigint | null; exitCode: number | null; exitedAtNs: bigint | null }
  /** The kernel's OOM killer acted inside it. */
  | { kind: 'oom'; containerId: string }
  /** Someone signalled it (runtimes that report signals: Docker's `kill`). */
  | { kind: 'kill'; containerId: string }
  /** The container was removed. */
  | { kind: 'remove'; containerId: string; timeNs: bigint | null };

/** Who a container is: the run's identity, its time limit, and flags about how that was decided. */
export interface ContainerWho {
  identity: RunIdentity;
  /** From a trusted label, at most the --time-limit ceiling; null: none. */
  timeLimitSeconds: number | null;
  flags: RunFlag[];
  /** What identifying it found out (image labels ignored, inputs counted, GPU ids unresolved). */
  facts?: RunFacts;
}

/** How a container's life ended, as its runtime recorded it. */
export interface ContainerEnd {
  /** The runtime's exit time, epoch ns; null: not known (the run then ends at its last reading). */
  finishedAtNs: bigint | null;
  exitCode: number | null;
  /** The runtime's own OOM verdict (Docker's OOMKilled); events are counted by the watcher. */
  oomKilled: boolean;
  /** What named the OOM kill when not the runtime's record itself (Docker's event log, read after a gap). */
  oomNamedBy?: 'runtime-event-log';
  /**
   * Ended by a signal (exit status 128 + n) in a runtime that reports no signal events (containerd):
   * unless the agent sent it, someone else killed it.
   */
  bySignal: boolean;
  flags: RunFlag[];
  /**
   * The runtime's record could not be read (Docker shutting down at `die`): the end is the event's.
   * The watcher asks again after the next reconnect and corrects the run.
   */
  provisional?: boolean;
}

/** A container as its runtime describes it at one moment (one inspect). */
export interface ContainerFacts {
  id: string;
  running: boolean;
  /** Host pid of its init process; 0 when none. */
  pid: number;
  /** When this life started, epoch ns; null when the runtime does not say (the run starts when seen). */
  startedAtNs: bigint | null;
  /** What --select reads. */
  selection: SelectionFacts;
  /** Never a run (a pod's sandbox): ignored until removed. */
  neverRun: boolean;
  /** Flags from the runtime's record. */
  flags: RunFlag[];
  /** Docker's Created → StartedAt (s, to the µs), for the official span; null where the runtime does not say. */
  createdBeforeStartSeconds: number | null;
  /** A container that has ended: its end. */
  end: ContainerEnd | null;
  /** Who it is; called once the cgroup has been read (it may ask the runtime again: image labels). */
  identify(env: IdentityEnv): Promise<ContainerWho>;
}

/** What identifying a container needs from the agent: its node, its options, its GPUs. */
export interface IdentityEnv {
  node: string;
  /** --time-limit: the default and the ceiling of a label's limit (s); null: none. */
  timeLimitSeconds: number | null;
  /** --unsafe-trust-image-labels. */
  trustImageLabels: boolean;
  /** The node's GPUs and MIG devices (the GPU source's), to resolve a container's device request. */
  gpuDevices: readonly { index: number; uuid: string }[];
  migDevices: readonly { uuid: string; parentIndex: number }[];
}

/** What the watcher may do with a runtime, beyond the common part. */
export interface RuntimeTraits {
  /** Read the counters at the exit event: the runtime keeps the cgroup until the task is deleted (containerd). */
  readAtExit: boolean;
  /** Removal time after the end counts in the official span (Docker's `destroy`: FLARE's monitor ran until then). */
  removalAfterEndFlag: boolean;
  /** The runtime reports each signal as an event (Docker's `kill`): the agent's own are told apart by count. */
  killEvents: boolean;
}

/** After the event stream was down: what became of a container the watcher followed. */
export type GapOutcome = { ended: ContainerEnd } | { gone: 'container-vanished' | 'container-restarted' };

export interface MissedQuery {
  /** --select. */
  selected(facts: SelectionFacts): boolean;
  windows: readonly WallWindow[];
  /** Skip: followed now, known not selected, or already looked at by this watcher. */
  skip(containerId: string): boolean;
  /** Whether the database has (or is about to write) a run of this container that started at or after sinceWallMs. */
  hasRunSince(containerId: string, sinceWallMs: number): boolean;
}

export interface RuntimeAdapter {
  readonly name: ContainerRuntime;
  readonly traits: RuntimeTraits;
  /** Opens the event stream; onDown once when it ends or fails. Rejects when the runtime cannot be reached. */
  subscribe(onEvent: (e: LifecycleEvent) => void, onDown: (reason: string) => void): Promise<() => void>;
  /** Containers running now, with their init pid when the listing gives it. */
  listRunning(): Promise<Array<{ id: string; pid?: number }>>;
  /** One container now; null when the runtime does not know it. `start`: the event that started it. */
  inspect(containerId: string, hint: { start?: LifecycleEvent & { kind: 'start' }; pid?: number }): Promise<ContainerFacts | null>;
  /** How a followed container ended, at its exit event. */
  endOf(containerId: string, exit: LifecycleEvent & { kind: 'exit' }): Promise<ContainerEnd>;
  /** A followed container not running at a reconnect: ended in the same life, gone, or restarted. */
  afterGap(containerId: string, startedAtNs: bigint): Promise<GapOutcome>;
  /** Signals every process of the container. */
  kill(containerId: string, signal: KillSignal): Promise<void>;
  /** Ended containers that ran while an agent watched and have no run (Docker keeps them: missed.ts). */
  missed?(q: MissedQuery): Promise<ContainerFacts[]>;
  /** How recovery settles a run an earlier agent left running on this runtime. */
  settler(): Settler;
  close(): void;
}
