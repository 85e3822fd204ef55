// `flare-agent evaluate`: every case of --cases through the team's image, one container at a time,
// measured by the embedded agent or the node's agent; writes the CSVs, plots and summary.json.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type Docker from 'dockerode';
import type { Run } from '../core/types.js';
import { createDockerClient } from '../docker/client.js';
import type { Logger } from '../log.js';
import { writeRunPlots } from '../plot/files.js';
import { safeName } from '../plot/files.js';
import { VERSION } from '../version.js';
import { listCases, outputPresent, prepareInputs, type CaseFile } from './cases.js';
import { runCaseContainer } from './container.js';
import { resolveImage } from './image.js';
import { agentMeasurer, embeddedMeasurer, type Measurer } from './measure.js';
import type { EvaluateOptions } from './options.js';
import { teamFromImage } from './options.js';
import type { Progress } from './progress.js';
import { fmtSeconds } from './progress.js';
import { everyCaseRan, resumableCases, totalsOf, type CaseRecord, type EvaluationSummary } from './record.js';
import { finalTable, harnessSpans, reportPaths, writeCsvs } from './report.js';
import { repeatSchedule, repeatsCsv } from './repeats.js';
import { profileFromOption } from '../commands/export.js';
import { openIdleGuard, type IdleGuard } from './idle.js';
import { maskUnsafe } from '../core/text.js';

export interface HarnessResult {
  summary: EvaluationSummary;
  table: string;
  ok: boolean;
}

function readPrevious(path: string): EvaluationSummary | null {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as EvaluationSummary;
  } catch {
    return null;
  }
}

function emptyRecord(name: string): CaseRecord {
  return { name, state: 'error', runId: null, containerId: null, end: null, exitCode: null, oomKilled: false, outputPresent: null, harnessWallSeconds: null, status: null, exceededTimeLimit: null, error: null };
}

async function runOne(docker: Docker, measurer: Measurer, o: EvaluateOptions, team: string, imageRef: string, c: CaseFile, dirs: { inputs: string; outputs: string }, signal: AbortSignal): Promise<{ record: CaseRecord; run: Run | null }> {
  const record = emptyRecord(c.name);
  prepareInputs(dirs.inputs, c);
  const sinceWallMs = Date.now() - 1000;
  try {
    const exec = await runCaseContainer(
      docker,
      {
        imageRef,
        team,
        caseName: c.name,
        inputsDir: dirs.inputs,
        outputsDir: dirs.outputs,
        shell: o.shell,
        command: o.command,
        gpu: o.gpu,
        memoryBytes: o.memoryBytes,
        shmSizeBytes: o.shmSizeBytes,
        network: o.network,
        timeLimitSeconds: o.timeLimitSeconds,
        containerName: `flare-eval-${safeName(team).slice(0, 40)}-${randomBytes(4).toString('hex')}`,
      },
      signal,
    );
    Object.assign(record, { containerId: exec.containerId, end: exec.end, exitCode: exec.exitCode, oomKilled: exec.oomKilled, harnessWallSeconds: exec.harnessWallSeconds, beforeCreateMonoNs: exec.beforeCreateMonoNs, afterRemoveMonoNs: exec.afterRemoveMonoNs });
    record.outputPresent = outputPresent(dirs.outputs, c);
    const measured = await measurer.finishedRun(exec.containerId, sinceWallMs);
    record.runId = measured.run.id;
    record.status = measured.run.status;
    record.exceededTimeLimit = measured.run.summary?.exceededTimeLimit ?? null;
    record.state = exec.end === 'interrupted' ? 'interrupted' : 'done';
    return { record, run: measured.run };
  } catch (e) {
    record.state = signal.aborted ? 'interrupted' : 'error';
    record.error = (e as Error).message.slice(0, 500);
    return { record, run: null };
  }
}

/** The measured runs of each case, over its repeats. */
function runsByCase(records: readonly CaseRecord[], runs: ReadonlyMap<string, Run>): Map<string, Run[]> {
  const out = new Map<string, Run[]>();
  for (const r of records) {
    const run = r.runId ? runs.get(r.runId) : undefined;
    if (run) out.set(r.name, [...(out.get(r.name) ?? []), run]);
  }
  return out;
}

function caseLine(i: number, total: number, r: CaseRecord, run: Run | null): string {
  const name = maskUnsafe(r.name).slice(0, 80);
  if (r.state === 'error') return `case ${i}/${total} ${name}: HARNESS ERROR: ${r.error}`;
  const s = run?.summary;
  const parts = [`${r.status ?? r.state}`, r.end === 'killed at time limit' ? 'killed at the time limit' : `exit ${r.exitCode ?? '?'}`, r.outputPresent ? 'output ok' : 'output MISSING'];
  if (s) parts.push(`${fmtSeconds(s.wallSeconds)}, cpu ${s.cpuSeconds === null ? 'unknown' : `${s.cpuSeconds.toFixed(2)} s`}`);
  return `case ${i}/${total} ${name}: ${parts.join(', ')}`;
}

export async function evaluate(o: EvaluateOptions, progress: Progress, log: Logger, signal: AbortSignal): Promise<HarnessResult> {
  // Read first: a malformed profile stops the evaluation before any case runs (exit 2, naming the field).
  const profile = profileFromOption(o.profile);
  const outDir = resolve(o.outDir);
  mkdirSync(outDir, { recursive: true });
  const cases = listCases(o.casesDir);
  if (cases.length === 0) throw new Error(`no *_0000.nii.gz case in ${o.casesDir}`);
  const docker = createDockerClient(null);
  const image = await resolveImage(docker, o.image);
  const team = o.team ?? teamFromImage(image.ref);
  const files = reportPaths(outDir, team);
  const dirs = { inputs: join(outDir, 'work', 'inputs'), outputs: join(outDir, `${safeName(team)}_outputs`) };
  mkdirSync(dirs.outputs, { recursive: true });
  const previous = o.resume ? readPrevious(files.summary) : null;
  const skip = resumableCases(previous, image.imageId);
  if (o.resume && previous && skip.size === 0 && previous.imageId !== image.imageId) progress.note('resume: the image changed since the last run; starting over');
  const measurer = o.agentUrl ? agentMeasurer(o.agentUrl, o.token) : await embeddedMeasurer({ outDir, gpuSource: o.gpuSource, intervalMs: o.intervalMs, nvmlLib: o.nvmlLib }, log);
  progress.note(`team ${team}, image ${image.ref} (${image.imageId.slice(0, 19)}), ${cases.length} cases; measured by ${o.agentUrl ? `the agent at ${measurer.url}` : `the embedded agent (live page: ${measurer.url})`}`);
  const records: CaseRecord[] = [];
  const runs = new Map<string, Run>();
  const schedule = repeatSchedule(cases, o.repeat, o.seed);
  let officialText = '';
  const summary: EvaluationSummary = {
    tool: 'flare-agent evaluate',
    version: VERSION,
    team,
    image: image.ref,
    imageId: image.imageId,
    measuredBy: o.agentUrl ? measurer.url : 'embedded',
    timeLimitSeconds: o.timeLimitSeconds,
    command: [o.shell, '-c', o.command],
    startedAt: new Date().toISOString(),
    finishedAt: null,
    cases: records,
    totals: totalsOf([], schedule.length),
    // The repeats file exists only with --repeat above 1.
    files: Object.fromEntries(Object.entries(files).filter(([k]) => k !== 'repeats' || o.repeat > 1)),
  };
  // The GPU's environment in summary.json, and the idle-GPU guard before each case (docs/gpu-accounting.md).
  const guard: IdleGuard | null = o.gpu === null ? null : await openIdleGuard(o);
  summary.gpu = guard ? guard.environment : null;
  summary.idleGpuGuard = guard?.enabled ? { floorMiB: o.idleGpuFloorMiB, timeoutSeconds: o.idleGpuTimeoutSeconds } : null;
  try {
    for (const [k, { item: c, repeat }] of schedule.entries()) {
      const i = k + 1;
      const label = o.repeat > 1 ? `${c.name} (repeat ${repeat}/${o.repeat})` : c.name;
      const earlier = skip.get(c.name);
      if (earlier?.runId) {
        const measured = await measurer.runById(earlier.runId);
        if (measured) {
          records.push(earlier);
          runs.set(measured.run.id, measured.run);
          writeRunPlots(measured.run, measured.samples, files.plots, o.plotFormat);
          progress.note(`case ${i}/${schedule.length} ${c.name}: skipped (--resume: measured before)`);
          continue;
        }
      }
      if (signal.aborted) {
        records.push({ ...emptyRecord(c.name), ...(o.repeat > 1 ? { repeat } : {}), state: 'interrupted', error: 'not run: interrupted' });
        continue;
      }
      const busy = guard?.enabled ? await guard.waitIdle(signal) : null;
      if (busy) {
        const record: CaseRecord = { ...emptyRecord(c.name), ...(o.repeat > 1 ? { repeat } : {}), error: busy };
        records.push(record);
        progress.caseFinished(caseLine(i, schedule.length, record, null));
        summary.totals = totalsOf(records, schedule.length);
        writeFileSync(files.summary, JSON.stringify(summary, null, 2) + '\n');
        continue;
      }
      progress.caseStarted(i, schedule.length, label, o.timeLimitSeconds);
      const { record, run } = await runOne(docker, measurer, o, team, image.ref, c, dirs, signal);
      if (o.repeat > 1) record.repeat = repeat;
      records.push(record);
      if (run) {
        runs.set(run.id, run);
        const measured = await measurer.runById(run.id);
        mkdirSync(files.plots, { recursive: true });
        if (measured) writeRunPlots(measured.run, measured.samples, files.plots, o.plotFormat);
      }
      progress.caseFinished(caseLine(i, schedule.length, { ...record, name: label }, run));
      summary.totals = totalsOf(records, schedule.length);
      writeFileSync(files.summary, JSON.stringify(summary, null, 2) + '\n');
    }
    // Formed while the measurer is open: the official figures read its traces.
    officialText = await measurer.officialCsv([...runs.values()], profile, o.profile, harnessSpans(records), new Date(summary.startedAt).getTime() - 1000);
  } finally {
    progress.stop();
    guard?.close();
    await measurer.close();
  }
  summary.finishedAt = new Date().toISOString();
  summary.totals = totalsOf(records, schedule.length);
  writeCsvs(files, [...runs.values()], records, officialText);
  if (o.repeat > 1) writeFileSync(files.repeats, repeatsCsv(runsByCase(records, runs)));
  writeFileSync(files.summary, JSON.stringify(summary, null, 2) + '\n');
  return { summary, table: finalTable(records, runs), ok: everyCaseRan(summary.totals) };
}

