// The live series: computed from the LiveView inside prom-client collect() callbacks, i.e. only when
// Prometheus scrapes. Each one is reset before it is refilled, so a container's series vanish when it ends.
import { Counter, Gauge, type Registry } from 'prom-client';
import type { GpuDevice, NodeSample, Run } from '../core/types.js';
import type { Health, LiveRun } from '../agent/types.js';

const MIB = 1024 * 1024;
/** Label values come from untrusted container labels/names: keep them short. */
const MAX_LABEL_CHARS = 128;
const CPU_MODES = ['user', 'nice', 'system', 'idle', 'iowait', 'irq', 'softirq', 'steal'] as const;

export function labelValue(value: string | undefined | null): string {
  if (!value) return '';
  return value.length > MAX_LABEL_CHARS ? value.slice(0, MAX_LABEL_CHARS) : value;
}

/** What one scrape reads from the LiveView, read once and shared by every collect() of that scrape. */
export interface Frame {
  runs: LiveRun[];
  node: NodeSample | null;
  devices: GpuDevice[];
  health: Health;
}

const RUN_LABELS = ['team', 'case', 'container'] as const;
type RunLabel = (typeof RUN_LABELS)[number];

function runLabels(run: Run): Record<RunLabel, string> {
  return { team: labelValue(run.team), case: labelValue(run.case), container: labelValue(run.containerName) };
}

/** Registers every scrape-time metric; `frame` gives the LiveView state of the current scrape. */
export function registerLiveMetrics(registers: Registry[], frame: () => Frame): void {
  // --- per running container -------------------------------------------------------------
  new Counter({
    name: 'flare_container_cpu_seconds_total',
    help: 'CPU time used by a running container (cgroup counter), seconds.',
    labelNames: RUN_LABELS,
    registers,
    collect() {
      this.reset();
      for (const r of frame().runs) {
        const v = r.last?.cpuSeconds;
        if (v != null && v >= 0) this.inc(runLabels(r.run), v);
      }
    },
  });
  new Gauge({
    name: 'flare_container_cpu_utilization_ratio',
    help: 'CPU utilisation of a running container over the last sample interval; 1 = one full core.',
    labelNames: RUN_LABELS,
    registers,
    collect() {
      this.reset();
      for (const r of frame().runs) if (r.cpuCorePct != null) this.set(runLabels(r.run), r.cpuCorePct / 100);
    },
  });
  new Gauge({
    name: 'flare_container_memory_working_set_bytes',
    help: 'Memory working set (usage minus inactive file cache) of a running container, bytes.',
    labelNames: RUN_LABELS,
    registers,
    collect() {
      this.reset();
      for (const r of frame().runs) {
        const v = r.last?.ramMiB;
        if (v != null) this.set(runLabels(r.run), v * MIB);
      }
    },
  });
  new Gauge({
    name: 'flare_container_gpu_memory_bytes',
    help: "GPU memory held by a running container's own processes on one GPU (mig: the MIG device's UUID, empty outside MIG), bytes.",
    labelNames: [...RUN_LABELS, 'gpu', 'mig'],
    registers,
    collect() {
      this.reset();
      for (const r of frame().runs) {
        // Per device key (core/attribution.ts deviceKey): "<gpu>" or "<gpu> <MIG uuid>", each process in one.
        for (const [key, mib] of Object.entries(r.gpuMiBByDevice ?? r.gpuMiBByIndex)) {
          if (mib == null) continue;
          const space = key.indexOf(' ');
          const gpu = space < 0 ? key : key.slice(0, space);
          const mig = space < 0 ? '' : labelValue(key.slice(space + 1));
          this.set({ ...runLabels(r.run), gpu, mig }, mib * MIB);
        }
      }
    },
  });
  new Gauge({
    name: 'flare_container_gpu_foreign_processes',
    help: "Other processes on a running container's GPU at the latest tick (the GPU is shared: its memory and time are not the run's alone).",
    labelNames: [...RUN_LABELS, 'gpu'],
    registers,
    collect() {
      this.reset();
      for (const r of frame().runs) for (const [gpu, n] of Object.entries(r.gpuForeignProcesses ?? {})) this.set({ ...runLabels(r.run), gpu }, n);
    },
  });
  new Gauge({
    name: 'flare_container_elapsed_seconds',
    help: 'Seconds since a running container started.',
    labelNames: RUN_LABELS,
    registers,
    collect() {
      this.reset();
      for (const r of frame().runs) this.set(runLabels(r.run), r.elapsedSeconds);
    },
  });
  new Gauge({
    name: 'flare_container_time_limit_seconds',
    help: 'Time limit of a running container, seconds (absent when it has none).',
    labelNames: RUN_LABELS,
    registers,
    collect() {
      this.reset();
      for (const r of frame().runs) {
        if (r.run.timeLimitSeconds != null) this.set(runLabels(r.run), r.run.timeLimitSeconds);
      }
    },
  });
  new Gauge({
    name: 'flare_runs_running',
    help: 'Runs (containers or profiled commands) being measured now.',
    registers,
    collect() {
      this.set(frame().runs.length);
    },
  });

  // --- per GPU device ---------------------------------------------------------------------
  const gpuGauge = (name: string, help: string, pick: (g: NodeSample['gpus'][number]) => number | null) =>
    new Gauge({
      name,
      help,
      labelNames: ['gpu', 'uuid'],
      registers,
      collect() {
        this.reset();
        for (const g of frame().node?.gpus ?? []) {
          const v = pick(g);
          if (v != null) this.set({ gpu: String(g.index), uuid: labelValue(g.uuid) }, v);
        }
      },
    });
  gpuGauge('flare_gpu_memory_used_bytes', 'Device-level used GPU memory (total - free), bytes.', (g) =>
    g.usedMiB == null ? null : g.usedMiB * MIB,
  );
  new Gauge({
    name: 'flare_gpu_memory_total_bytes',
    help: 'Total memory of a GPU, bytes.',
    labelNames: ['gpu', 'uuid'],
    registers,
    collect() {
      this.reset();
      const f = frame();
      const seen = new Set<number>();
      for (const g of f.node?.gpus ?? []) {
        if (g.totalMiB == null) continue;
        seen.add(g.index);
        this.set({ gpu: String(g.index), uuid: labelValue(g.uuid) }, g.totalMiB * MIB);
      }
      // Before the first node sample the inventory still knows each device's size.
      for (const d of f.devices) {
        if (!seen.has(d.index)) this.set({ gpu: String(d.index), uuid: labelValue(d.uuid) }, d.totalMiB * MIB);
      }
    },
  });
  gpuGauge('flare_gpu_utilization_ratio', 'GPU compute utilisation over the driver sample period; 1 = 100 %.', (g) =>
    g.utilPct == null ? null : g.utilPct / 100,
  );

  new Counter({
    name: 'flare_gpu_energy_joules_total',
    help: "GPU energy counter since the driver loaded (NVML, Volta and newer; refreshed at most once a second), joules.",
    labelNames: ['gpu', 'uuid'],
    registers,
    collect() {
      this.reset();
      for (const g of frame().node?.gpus ?? []) {
        if (g.energyMj != null) this.inc({ gpu: String(g.index), uuid: labelValue(g.uuid) }, g.energyMj / 1000);
      }
    },
  });

  // --- per MIG device (GPUs with MIG on; NVML only) ------------------------------------------
  const migGauge = (name: string, help: string, pick: (m: NonNullable<NodeSample['mig']>[number]) => number | null) =>
    new Gauge({
      name,
      help,
      labelNames: ['gpu', 'mig'],
      registers,
      collect() {
        this.reset();
        for (const m of frame().node?.mig ?? []) {
          const v = pick(m);
          if (v != null) this.set({ gpu: String(m.parentIndex), mig: labelValue(m.uuid) }, v);
        }
      },
    });
  migGauge('flare_mig_memory_used_bytes', 'Used memory of one MIG device (its own, not its GPU\'s), bytes.', (m) => (m.usedMiB == null ? null : m.usedMiB * MIB));
  migGauge('flare_mig_memory_total_bytes', 'Total memory of one MIG device, bytes.', (m) => (m.totalMiB == null ? null : m.totalMiB * MIB));

  // --- per node ---------------------------------------------------------------------------
  new Counter({
    name: 'flare_node_cpu_seconds_total',
    help: 'Host CPU time by mode, summed over all CPUs (/proc/stat), seconds.',
    labelNames: ['mode'],
    registers,
    collect() {
      this.reset();
      const cpu = frame().node?.cpu;
      if (!cpu) return;
      for (const mode of CPU_MODES) this.inc({ mode }, Math.max(0, cpu[`${mode}Seconds`]));
    },
  });
  new Gauge({
    name: 'flare_node_memory_used_bytes',
    help: 'Host memory in use, bytes.',
    registers,
    collect() {
      this.reset();
      const n = frame().node;
      if (n) this.set(n.memUsedMiB * MIB);
    },
  });
  new Gauge({
    name: 'flare_node_memory_total_bytes',
    help: 'Host memory installed, bytes.',
    registers,
    collect() {
      this.reset();
      const n = frame().node;
      if (n) this.set(n.memTotalMiB * MIB);
    },
  });
}
