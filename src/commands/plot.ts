// `flare-agent plot <run-id>… --out <dir> [--format svg|png] [--db <file> | --url <agent>]`
import { mkdirSync } from 'node:fs';
import type { Command } from 'commander';
import type { Run, RunSample } from '../core/types.js';
import { AgentClient } from '../http/client.js';
import { runAction } from './action.js';
import { UsageError } from '../usage-error.js';
import { DEFAULT_DB } from './run-source.js';
import { runFromJson } from '../http/run-json.js';
import { writeRunPlots, type PlotFormat } from '../plot/files.js';
import { openStoreReadOnly } from '../store/index.js';

interface RunById {
  get(id: string): Promise<{ run: Run; samples: RunSample[] } | null>;
  close(): void;
}

function openById(opts: { db?: string; url?: string; token?: string }): RunById {
  if (opts.db !== undefined && opts.url !== undefined) throw new UsageError('give --db or --url, not both');
  if (opts.url !== undefined) {
    let client: AgentClient;
    try {
      client = new AgentClient(opts.url, opts.token ?? process.env.FLARE_AGENT_TOKEN);
    } catch (err) {
      throw new UsageError(`--url: ${(err as Error).message}`);
    }
    return {
      async get(id) {
        const run = runFromJson(await client.getJson(`/api/v1/runs/${encodeURIComponent(id)}`));
        return { run, samples: await client.samples(id) };
      },
      close() {},
    };
  }
  const store = openStoreReadOnly(opts.db ?? process.env.FLARE_AGENT_DB ?? DEFAULT_DB);
  return {
    async get(id) {
      const run = store.getRun(id);
      return run ? { run, samples: store.getRunSamples(id) } : null;
    },
    close: () => store.close(),
  };
}

export function register(program: Command): void {
  const cmd = program
    .command('plot')
    .description('draw GPU memory, CPU and RAM against time for runs: three files per run (<case>_<id>_GPU|CPU|RAM)')
    .argument('<run-id...>', 'run ids (see `flare-agent runs`)')
    .requiredOption('--out <dir>', 'folder to write the plots to (created)')
    .option('--format <format>', 'svg or png', 'svg')
    .option('--db <file>', `SQLite database to read (default ${DEFAULT_DB}, env FLARE_AGENT_DB)`)
    .option('--url <agent>', 'read from a running agent instead, e.g. http://node1:9465')
    .option('--token <token>', 'bearer token for --url (env FLARE_AGENT_TOKEN)');
  cmd.action((ids: string[], opts: { out: string; format: string; db?: string; url?: string; token?: string }) =>
    runAction(cmd, async () => {
      if (opts.format !== 'svg' && opts.format !== 'png') throw new UsageError(`--format: expected svg or png, got ${JSON.stringify(opts.format)}`);
      const format: PlotFormat = opts.format;
      const source = openById(opts);
      try {
        mkdirSync(opts.out, { recursive: true });
        for (const id of ids) {
          const found = await source.get(id);
          if (!found) throw new Error(`run not found: ${id}`);
          for (const path of writeRunPlots(found.run, found.samples, opts.out, format)) process.stdout.write(path + '\n');
        }
      } finally {
        source.close();
      }
    }),
  );
}
