// The kernel's own count of OOM kills in a container's memory cgroup: `oom_kill` in v1's
// memory.oom_control (Linux ≥ 4.13) and in v2's memory.events (Linux ≥ 4.13; hierarchical: the
// cgroup and everything below it, which for a container is the container). A count that grew between the attach and the end means the kernel killed a process of the
// container for memory, whatever the runtime reported: Docker has been seen to send `die` 137 before
// its `oom` event and to leave State.OOMKilled unset (cgroup v1, about 1 in 75 OOM kills under load).
// The file is opened at the attach and re-read: once the cgroup is removed a read fails (kernfs answers
// ENODEV) and the count is unknown, never 0.
import { join } from 'node:path';
import { CounterFile, statField } from './cgroup.js';
import type { CgroupDir } from './types.js';

export class OomKillCount {
  private readonly file: CounterFile;
  /** The count when the container was attached; null when it could not be read. */
  readonly atAttach: number | null;
  /** The latest count read; null until one could be. */
  private latest: number | null;

  constructor(memory: CgroupDir) {
    this.file = new CounterFile(join(memory.dir, memory.version === 1 ? 'memory.oom_control' : 'memory.events'), Buffer.allocUnsafe(512));
    this.atAttach = this.read();
    this.latest = this.atAttach;
  }

  /** Reads the count now (while the cgroup exists); keeps it when it could be read. */
  read(): number | null {
    const text = this.file.read();
    const n = typeof text === 'string' ? statField(text, 'oom_kill') : null;
    if (n !== null) this.latest = n;
    return n;
  }

  /** OOM kills since the attach, from the latest count read; null when unknown. */
  killsSinceAttach(): number | null {
    return this.atAttach === null || this.latest === null ? null : this.latest - this.atAttach;
  }

  close(): void {
    this.file.close();
  }
}
