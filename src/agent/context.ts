// What the agent hands each attachment it starts (a runtime watcher, src/runtime/watcher.ts): the
// interface an attachment depends on, apart from the daemon that builds it (src/daemon/agent.ts), as
// cAdvisor's container handlers import its container package and never its manager.
import type { WallWindow } from '../core/lives.js';
import type { Run } from '../core/types.js';
import type { Logger } from '../log.js';
import type { SourceStatus } from '../sources/types.js';
import type { Store } from '../store/index.js';
import type { AgentConfig } from './config.js';
import type { ErrorCounter } from './errors.js';
import type { SamplingStack } from './stack.js';
import type { AgentEvents, SourceName } from './types.js';

/** What an attachment (a runtime watcher: src/runtime/watcher.ts) gets from the agent. */
export interface AgentContext {
  config: AgentConfig;
  log: Logger;
  store: Store;
  stack: SamplingStack;
  events: AgentEvents;
  setSource(name: SourceName, status: SourceStatus): void;
  /**
   * Container runs an earlier agent process on this node left unfinished (closed as interrupted at its
   * stop, or just now after a crash), newest first: a container still running continues in a new run
   * linked to its earlier one.
   */
  interruptedAtStart: Run[];
  /** Where an error in a callback is logged and counted instead of crashing the agent. */
  errors: ErrorCounter;
  /**
   * The spans some agent watched this node (core/lives.ts), this life included: a selected container
   * that ran in one and has no run is created from Docker's record (its row never landed, or the
   * event stream was down for its whole life).
   */
  watched: WallWindow[];
}

/** Something the agent starts after its sampler (a runtime watcher); stopped before the sampler. */
export interface Attachment {
  stop(): Promise<void>;
}

export type AttachmentFactory = (ctx: AgentContext) => Promise<Attachment | null>;
