// `flare-agent runs`: list measured runs from the local database or a running agent.
import type { Command } from 'commander';
import { formatNumber, runsCsv } from '../export/csv.js';
import { runAction } from './action.js';
import { UsageError } from '../usage-error.js';
import { addSourceOptions, filterFromOptions, openRunSource } from './run-source.js';
import { runToJson } from '../http/run-json.js';
import type { Run } from '../core/types.js';
import { maskUnsafe } from '../core/text.js';

function table(runs: Run[]): string {
  const head = ['ID', 'TEAM', 'CASE', 'STATUS', 'WALL_S', 'CPU_S', 'MAX_GPU_MIB', 'MAX_RAM_MIB', 'STARTED'];
  const rows = runs.map((r) => [
    r.id,
    r.team,
    r.case,
    r.status,
    formatNumber(r.summary?.wallSeconds, 1),
    formatNumber(r.summary?.cpuSeconds, 1),
    formatNumber(r.summary?.maxGpuMiB, 0),
    formatNumber(r.summary?.maxRamMiB, 0),
    new Date(r.startedWallMs).toISOString(),
  ]);
  // Names are untrusted: drop control characters so a label cannot drive the terminal.
  const clean = [head, ...rows].map((row) => row.map((c) => maskUnsafe(c).slice(0, 60)));
  const widths = head.map((_, i) => Math.max(...clean.map((row) => row[i].length)));
  return clean.map((row) => row.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd()).join('\n') + '\n';
}

/** --limit as a count; none: every matching run. */
function limitOf(arg: string | undefined): number {
  if (arg === undefined) return Infinity;
  if (!/^[0-9]{1,7}$/.test(arg) || Number(arg) < 1 || Number(arg) > 1_000_000) throw new UsageError('--limit: expected a whole number, 1 to 1000000');
  return Number(arg);
}

export function register(program: Command): void {
  const cmd = addSourceOptions(program.command('runs').description('list measured runs (newest first)'))
    .option('--limit <n>', 'only the newest n runs (1 to 1000000)')
    .option('--json', 'print a JSON array of runs (the API run objects)')
    .option('--csv', 'print a CSV table of runs');
  cmd.action((opts: Record<string, unknown>) =>
    runAction(cmd, async () => {
      if (opts.json && opts.csv) throw new UsageError('give --json or --csv, not both');
      const filter = filterFromOptions(opts);
      const limit = limitOf(opts.limit as string | undefined);
      const source = openRunSource(opts);
      try {
        const runs = await source.runs(filter, limit);
        if (opts.json) process.stdout.write(JSON.stringify(runs.map(runToJson), null, 2) + '\n');
        else if (opts.csv) process.stdout.write(runsCsv(runs.map(runToJson)));
        else process.stdout.write(table(runs));
      } finally {
        source.close();
      }
    }),
  );
}
