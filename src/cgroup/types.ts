// What the cgroup module hands the layers above: where a target's counters live, and one read of them.

/** One cgroup controller directory and the hierarchy version it lives in. */
export interface CgroupDir {
  version: 1 | 2;
  dir: string;
}

/** Where a target's CPU and memory counters live (may be two v1 hierarchies, or one v2 directory). */
export interface CgroupPaths {
  cpu: CgroupDir;
  memory: CgroupDir | null;
}

/** One read of a target's counters. A figure that could not be read is null, never 0. */
export interface CgroupReading {
  cpuSeconds: number | null;
  ramMiB: number | null;
  /** The target has ended (its counters went away with it): nothing to record. */
  gone?: boolean;
  /** `<path>: <errno>` for each counter that failed while the target lived (the run's fact countersUnreadable). */
  unreadable?: string[];
}
