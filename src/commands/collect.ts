// `flare-agent collect`: gather runs and samples from many agents into one SQLite file.
import type { Command } from 'commander';
import { AgentClient, agentsFromPrometheus } from '../http/client.js';
import { collectFrom } from '../http/collect.js';
import { runAction } from './action.js';
import { UsageError } from '../usage-error.js';
import { openStore } from '../store/index.js';
import { repeatable } from './repeat.js';

export function register(program: Command): void {
  const cmd = program
    .command('collect')
    .description('pull runs and samples from agents into one database (re-running fetches only what is new)')
    .addOption(repeatable('--from <url>', 'an agent to pull from, e.g. http://node1:9465 (repeatable)'))
    .option('--from-prometheus <url>', 'discover agents from the active targets of a Prometheus server')
    .option('--job <name>', 'the Prometheus job of the agents (with --from-prometheus)', 'flare-agent')
    .requiredOption('--db <file>', 'the SQLite database to fill (created if missing)')
    .option('--token <token>', 'bearer token of the agents (env FLARE_AGENT_TOKEN)');
  cmd.action((opts: { from?: string[]; fromPrometheus?: string; job: string; db: string; token?: string }) =>
    runAction(cmd, async () => {
      const token = opts.token ?? process.env.FLARE_AGENT_TOKEN;
      const urls = [...(opts.from ?? [])];
      if (urls.length === 0 && !opts.fromPrometheus) throw new UsageError('give at least one --from <url> or --from-prometheus <url>');
      const clients = urls.map((u) => {
        try {
          return new AgentClient(u, token);
        } catch (err) {
          throw new UsageError(`--from: ${(err as Error).message}`);
        }
      });
      if (opts.fromPrometheus) {
        const found = await agentsFromPrometheus(opts.fromPrometheus, opts.job);
        if (found.length === 0) throw new Error(`no active targets of job ${JSON.stringify(opts.job)} in ${opts.fromPrometheus}`);
        for (const u of found) if (!clients.some((c) => c.base === u)) clients.push(new AgentClient(u, token));
      }
      const store = openStore(opts.db);
      let failed = 0;
      try {
        for (const client of clients) {
          try {
            const report = await collectFrom(store, client);
            process.stdout.write(JSON.stringify(report) + '\n');
          } catch (err) {
            failed++;
            process.stdout.write(JSON.stringify({ agent: client.base, error: (err as Error).message }) + '\n');
          }
        }
      } finally {
        store.close();
      }
      if (failed > 0) throw new Error(`${failed} of ${clients.length} agent(s) failed`);
    }),
  );
}
