// The kernel's own count of OOM kills in a container's memory cgroup: `oom_kill` in v1's
// memory.oom_control (Linux ≥ 4.13) and in v2's memory.events (Linux ≥ 4.13; hierarchical: the
// cgroup and everything below it, which for a container is the container). The cgroup is made with the container's life and starts at 0, so any count in it is
// an OOM kill in this life (one that came before the attach included), whatever the runtime reported: Docker has been seen to send `die` 137 before
// its `oom` event and to leave State.OOMKilled unset (cgroup v1, about 1 in 75 OOM kills under load).
// The file is opened at the attach and re-read: once the cgroup is removed a read fails (kernfs answers
// ENODEV) and the count is unknown, never 0.
import { join } from 'node:path';
import { statField } from './counters.js';
import { CounterFile } from '../counter-file.js';
import type { CgroupDir } from './types.js';

export class OomKillCount {
  private readonly file: CounterFile;
  /** The latest count read; null until one could be. */
  private latest: number | null = null;

  constructor(memory: CgroupDir) {
    this.file = new CounterFile(join(memory.dir, memory.version === 1 ? 'memory.oom_control' : 'memory.events'), Buffer.allocUnsafe(512));
    this.read();
  }

  /** Reads the count now (while the cgroup exists); keeps it when it could be read. */
  read(): number | null {
    const text = this.file.read();
    const n = typeof text === 'string' ? statField(text, 'oom_kill') : null;
    if (n !== null) this.latest = n;
    return n;
  }

  /** OOM kills in this life of the container, from the latest count read; null when never readable. */
  kills(): number | null {
    return this.latest;
  }

  close(): void {
    this.file.close();
  }
}
