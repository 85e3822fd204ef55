// The agent's own state as gauges, for the shipped alert rules (deploy/prometheus/rules.yml): what is
// waiting for a database write, the filesystem the database lives on, the sampling interval the tick
// lag is judged against, whether limits are enforced, and NVML accounting per GPU. All are read at
// scrape time from the scrape's frame (the owner's latest snapshot) or, for the filesystem, statfs(2).
import { statfsSync } from 'node:fs';
import { dirname } from 'node:path';
import { Gauge, type Registry } from 'prom-client';
import { labelValue, type Frame } from './metrics-live.js';

export function registerHealthMetrics(registers: Registry[], frame: () => Frame, dbPath: string | null): void {
  const store = (pick: 'queuedSamples' | 'pendingRuns' | 'pendingVerdicts', name: string, help: string): void =>
    void new Gauge({
      name,
      help,
      registers,
      collect() {
        this.set(frame().health.store?.[pick] ?? 0);
      },
    });
  store('queuedSamples', 'flare_agent_queued_samples', 'Samples waiting for a database write (bounded by --max-queued-samples).');
  store('pendingRuns', 'flare_agent_pending_runs', 'Run starts (rows) waiting for a database write: runs begun while writes failed; never dropped.');
  store('pendingVerdicts', 'flare_agent_pending_verdicts', 'Run ends (verdicts) waiting for a database write; never dropped, retried until they land.');

  new Gauge({
    name: 'flare_agent_interval_seconds',
    help: 'The sampling interval (--interval-ms), seconds: what tick lag is judged against.',
    registers,
    collect() {
      this.set(frame().health.intervalMs / 1000);
    },
  });
  new Gauge({
    name: 'flare_agent_runtime_attached',
    help: 'Whether the agent attaches to a container runtime (1: configured, or found by --runtime auto); its flare_agent_source_up says whether it works.',
    labelNames: ['runtime'],
    registers,
    collect() {
      const attached = frame().health.runtime.attached;
      for (const runtime of ['docker', 'containerd']) this.set({ runtime }, attached.includes(runtime) ? 1 : 0);
    },
  });
  new Gauge({
    name: 'flare_agent_source_enabled',
    help: 'Whether the organiser runs this source on the node (1) or turned it off (0: the gpu source under --gpu-source none); a source turned off is not down.',
    labelNames: ['source'],
    registers,
    collect() {
      this.set({ source: 'gpu' }, frame().health.gpuSource.requested === 'none' ? 0 : 1);
    },
  });
  new Gauge({
    name: 'flare_agent_time_limit_enforced',
    help: 'Whether a run is killed at its time limit (1, --enforce-time-limit) or only marked (0).',
    registers,
    collect() {
      this.set(frame().health.timeLimitEnforced ? 1 : 0);
    },
  });
  new Gauge({
    name: 'flare_agent_kill_grace_seconds',
    help: 'With enforcement, the SIGTERM-to-SIGKILL grace (--kill-grace-seconds): FlareRunPastTimeLimit allows it before saying a kill has not landed.',
    registers,
    collect() {
      this.set(frame().health.killGraceSeconds ?? 0);
    },
  });
  new Gauge({
    name: 'flare_gpu_accounting_enabled',
    help: 'NVML accounting mode per GPU, read at start: 1 on, 0 off (exact per-process peaks need it); absent where unsupported.',
    labelNames: ['gpu'],
    registers,
    collect() {
      this.reset();
      const modes = frame().health.gpuAccountingModes;
      for (const g of modes?.on ?? []) this.set({ gpu: String(g) }, 1);
      for (const g of modes?.off ?? []) this.set({ gpu: String(g) }, 0);
    },
  });

  if (dbPath === null) return;
  // statfs(2) of the database's folder (Node ≥ 18.15): what the database, its WAL and its journal can still grow into.
  const dir = dirname(dbPath);
  // Labelled by the folder (the organiser's --db), so that an unreadable one exports no series at all:
  // an unlabelled gauge would read 0 bytes free.
  const fs = (name: string, help: string, pick: (s: { bavail: number; blocks: number; bsize: number }) => number): void =>
    void new Gauge({
      name,
      help,
      labelNames: ['path'],
      registers,
      collect() {
        this.reset();
        try {
          this.set({ path: labelValue(dir) }, pick(statfsSync(dir)));
        } catch {
          /* gone or unreadable: no value rather than a false one */
        }
      },
    });
  fs('flare_agent_db_filesystem_avail_bytes', "Bytes the database's filesystem has free for an unprivileged writer (statfs f_bavail).", (s) => s.bavail * s.bsize);
  fs('flare_agent_db_filesystem_size_bytes', "Size of the database's filesystem, bytes.", (s) => s.blocks * s.bsize);
}
