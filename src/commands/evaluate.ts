// `flare-agent evaluate --image <tar|name:tag> --cases <dir> --out <dir> …`: the organiser's harness.
// Exit 0 when every case ran (timeouts and missing outputs included), 1 on harness failure or Ctrl-C.
import { createWriteStream, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { parseEvaluateOptions } from '../evaluate/options.js';
import { createProgress } from '../evaluate/progress.js';
import { runAction } from './action.js';
import { createLogger } from '../log.js';

export function register(program: Command): void {
  const cmd = program
    .command('evaluate')
    .description('run every case (*_0000.nii.gz) through a team image, one container per case, and write <team>_Efficiency.csv, plots and summary.json')
    .requiredOption('--image <tar|name:tag>', 'team image: a docker-save tarball (.tar or .tar.gz) or an image reference')
    .requiredOption('--cases <dir>', 'folder of *_0000.nii.gz cases')
    .requiredOption('--out <dir>', 'output folder (CSVs, plots, summary.json, <team>_outputs/)')
    .option('--team <name>', 'team name (default: the image name)')
    .option('--gpu <index|none>', 'GPU given to the container (device request)', '0')
    .option('--gpus <list>', 'GPU pool: all, or indices / GPU-… / MIG-… UUIDs separated by commas; runs one container per GPU at a time (overrides --gpu)')
    .option('--cpus-per-run <n>', 'with --gpus: CPUs pinned to each container, from the cores local to its GPU (0: no pinning; default: online CPUs ÷ GPUs)')
    .option('--no-device-request', 'with --gpus: assign and record the GPU but make no Docker device request (hosts without the NVIDIA runtime)')
    .option('--nvml-lib <path>', 'path or name of libnvidia-ml (GPU topology, the idle-GPU guard and the embedded agent)', 'libnvidia-ml.so.1')
    .option('--time-limit <s>', 'kill a case at this many seconds and score it with the penalties (default: none)')
    .option('--memory <size>', 'container memory limit, e.g. 28g (default: none)')
    .option('--shm-size <size>', 'container /dev/shm size, e.g. 28g (default: Docker\'s)')
    .option('--command <cmd>', 'command run by the shell inside the container', 'sh predict.sh')
    .option('--shell <path>', 'shell running the command (/bin/sh for images without bash)', '/bin/bash')
    .option('--network <name>', 'container network (none: no network, as inference needs none)', 'none')
    .option('--agent <url>', 'read measurements from the node\'s agent instead of an embedded one')
    .option('--token <token>', 'bearer token for --agent (env FLARE_AGENT_TOKEN)')
    .option('--resume', 'skip cases already measured to the end for the same image id')
    .option('--gpu-source <source>', 'embedded agent: auto, nvml, nvidia-smi or none', 'auto')
    .option('--interval-ms <n>', 'embedded agent: sampling interval', '100')
    .option('--plot-format <format>', 'svg or png', 'png')
    .option('--no-require-idle-gpu', 'do not wait, before each case, for the GPU to be free of other processes')
    .option('--idle-gpu-timeout <s>', 'longest wait for an idle GPU before a case (else a harness error)', '120')
    .option('--idle-gpu-floor-mib <MiB>', 'most memory an idle GPU may show used', '1024')
    .option('--repeat <n>', 'run every case n times, in an order shuffled with --seed; <team>_repeats.csv gives the median, min–max and CV', '1')
    .option('--seed <n>', 'seed of the --repeat order', '1')
    .option('--gt <dir>', 'ground-truth label maps (<case>.nii.gz): score the outputs after the last case (<team>_DSC_NSD.csv, <team>_accuracy.csv)')
    .option('--accuracy-csv <file>', 'with --gt: merge this team\'s accuracy rows into this shared long CSV (an agent\'s --accuracy-csv)')
    .option('--profile <name|file>', 'challenge profile of <team>_Efficiency.csv and, with --gt, of the accuracy rules (flare21, flare22, flare22-2022, flare23, flare24, generic or a .json file)', 'flare22');
  cmd.action((opts: Record<string, unknown>) =>
    runAction(cmd, async () => {
      const o = parseEvaluateOptions(opts);
      mkdirSync(o.outDir, { recursive: true });
      // The embedded agent's JSON log goes to a file: the terminal shows progress.
      const logFile = createWriteStream(join(o.outDir, 'agent.log'), { flags: 'a' });
      const log = createLogger('info', (l) => logFile.write(l));
      const progress = createProgress(process.stderr);
      const abort = new AbortController();
      let interrupts = 0;
      const onSigint = (): void => {
        interrupts++;
        if (interrupts > 1) process.exit(130);
        progress.note('interrupted: stopping the running container (Ctrl-C again to quit at once)');
        abort.abort();
      };
      process.on('SIGINT', onSigint);
      process.on('SIGTERM', onSigint);
      try {
        // Loaded here, not at the top: every other command starts without the harness's modules.
        const { evaluate } = await import('../evaluate/harness.js');
        const result = await evaluate(o, progress, log, abort.signal);
        process.stdout.write('\n' + result.table);
        const t = result.summary.totals;
        process.stdout.write(`\n${t.done}/${t.cases} cases ran; ${t.timeouts} over the time limit, ${t.missingOutputs} without output, ${t.nonZeroExits} non-zero exits, ${t.interrupted} interrupted, ${t.errors} harness errors\n`);
        for (const [k, v] of Object.entries(result.summary.files)) process.stdout.write(`${k}: ${v}\n`);
        process.exitCode = result.ok ? 0 : 1;
      } finally {
        process.off('SIGINT', onSigint);
        process.off('SIGTERM', onSigint);
        logFile.end();
      }
    }),
  );
}
