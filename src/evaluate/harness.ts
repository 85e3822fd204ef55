// `flare-agent evaluate`: every case of --cases through the team's image, one container at a time or,
// with --gpus, one per GPU of the pool at a time on disjoint CPUs (docs/parallel-evaluation.md),
// measured by the embedded agent or the node's agent; writes the CSVs, plots and summary.json.
import { mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { resolve, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import Docker from 'dockerode';
import { PlacementError, placeSlots, type SlotPlacement } from '../core/placement.js';
import type { Run } from '../core/types.js';
import { UsageError } from '../usage-error.js';
import { profileFromOption } from '../scoring/challenge-profile-option.js';
import { maskUnsafe } from '../core/text.js';
import { dockerOptions } from '../runtime/docker/client.js';
import type { Logger } from '../log.js';
import { writeRunPlots } from '../plot/files.js';
import { safeName } from '../export/file-names.js';
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
import { openIdleGuard, type IdleGuard } from './idle.js';
import { repeatSchedule, repeatsCsv, repeatsTable } from './repeats.js';
import { finalTable, harnessSpans, reportPaths, terminalText, writeCsvs } from './report.js';
import { accuracyRulesOrUsage, scoreTeamOutputs } from './accuracy.js';
import { discoverPool, onlineCpus } from './topology.js';

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

/** One slot of the run: where its cases go (the single slot without --gpus has no placement). */
export interface Slot {
  gpu: string | null;
  placement: SlotPlacement | null;
  dirs: { inputs: string; outputs: string };
}

/** Where a case ran (or was refused): its slot's placement as the case record states it. */
function placementOf(slot: Slot, o: EvaluateOptions): CaseRecord['placement'] {
  const p = slot.placement;
  if (!p) return undefined;
  return { slot: p.slot, gpu: p.gpu, gpuUuid: p.uuid, numaNode: p.numaNode, cpuset: p.cpuset, memoryBytes: o.memoryBytes, shmSizeBytes: o.shmSizeBytes, deviceRequest: o.deviceRequest };
}

async function runOne(
  docker: Docker,
  measurer: Measurer,
  o: EvaluateOptions,
  team: string,
  imageRef: string,
  c: CaseFile,
  slot: Slot,
  teamOutputs: string,
  signal: AbortSignal,
): Promise<{ record: CaseRecord; run: Run | null }> {
  const record = emptyRecord(c.name);
  const { dirs, placement: p } = slot;
  if (p) record.placement = placementOf(slot, o);
  prepareInputs(dirs.inputs, c);
  if (p) emptyDir(dirs.outputs);
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
        gpu: slot.gpu,
        memoryBytes: o.memoryBytes,
        shmSizeBytes: o.shmSizeBytes,
        network: o.network,
        timeLimitSeconds: o.timeLimitSeconds,
        containerName: `flare-eval-${safeName(team).slice(0, 40)}-${randomBytes(4).toString('hex')}`,
        placement: p ? { slot: p.slot, cpuset: p.cpuset, numaNode: p.numaNode, gpu: p.gpu, deviceRequest: o.deviceRequest, memsLocal: p.note === null } : undefined,
      },
      signal,
    );
    const { containerId, end, exitCode, oomKilled, harnessWallSeconds, beforeCreateMonoNs, afterRemoveMonoNs } = exec;
    Object.assign(record, { containerId, end, exitCode, oomKilled, harnessWallSeconds, beforeCreateMonoNs, afterRemoveMonoNs });
    record.outputPresent = outputPresent(dirs.outputs, c);
    if (p) moveOutputs(dirs.outputs, teamOutputs);
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

function emptyDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
}

/** A slot's outputs into the team's outputs folder (replacing an earlier run's file of the same name). */
function moveOutputs(from: string, to: string): void {
  for (const name of readdirSync(from)) {
    rmSync(join(to, name), { recursive: true, force: true });
    renameSync(join(from, name), join(to, name));
  }
}

export const slotLabel = (p: SlotPlacement): string => `slot ${p.slot} · gpu ${p.gpu}${p.numaNode !== null ? ` · numa ${p.numaNode}` : ''} · cpu ${p.cpuset ?? 'all'}`;

/** The --gpus pool: GPUs found through NVML (unless --gpu-source none) and sysfs, CPUs placed by the core. */
export function planPool(o: EvaluateOptions, sysRoot = '/sys'): SlotPlacement[] {
  const { gpus } = discoverPool(o.gpus ?? [], o.gpuSource === 'none' ? null : o.nvmlLib, sysRoot);
  const online = onlineCpus(sysRoot) ?? Array.from({ length: cpus().length }, (_, i) => i);
  const perRun = o.cpusPerRun ?? Math.floor(online.length / gpus.length);
  if (perRun === 0 && o.cpusPerRun === null) throw new UsageError(`--gpus: ${gpus.length} GPUs but ${online.length} online CPUs: give --cpus-per-run 0 to run them unpinned`);
  try {
    return placeSlots(gpus, online, perRun);
  } catch (e) {
    if (e instanceof PlacementError) throw new UsageError(e.message);
    throw e;
  }
}

function caseLine(i: number, total: number, r: CaseRecord, run: Run | null): string {
  const name = maskUnsafe(r.name).slice(0, 80);
  if (r.state === 'error') return `case ${i}/${total} ${name}: HARNESS ERROR: ${r.error}`;
  const s = run?.summary;
  const parts = [`${r.status ?? r.state}`, r.end === 'killed at time limit' ? 'killed at the time limit' : `exit ${r.exitCode ?? '?'}`, r.outputPresent ? 'output ok' : 'output MISSING'];
  if (s) parts.push(`${fmtSeconds(s.wallSeconds)}, cpu ${s.cpuSeconds === null ? 'unknown' : `${s.cpuSeconds.toFixed(2)} s`}`);
  const where = r.placement ? ` [slot ${r.placement.slot}, gpu ${r.placement.gpu}, cpu ${r.placement.cpuset ?? 'all'}]` : '';
  return `case ${i}/${total} ${name}: ${parts.join(', ')}${where}`;
}

export async function evaluate(o: EvaluateOptions, progress: Progress, log: Logger, signal: AbortSignal): Promise<HarnessResult> {
  // Read first: a malformed profile stops the evaluation before any case runs (exit 2, naming the field).
  const profile = profileFromOption(o.profile);
  // Before any case runs: --gt with a profile that cannot compute accuracy is bad usage.
  const accuracyRules = o.gtDir ? accuracyRulesOrUsage(profile, '--gt') : null;
  const outDir = resolve(o.outDir);
  mkdirSync(outDir, { recursive: true });
  const cases = listCases(o.casesDir);
  if (cases.length === 0) throw new Error(`no *_0000.nii.gz case in ${o.casesDir}`);
  // dockerode here: evaluate creates, starts and removes containers, which the agent's own client does not.
  const docker = new Docker(dockerOptions(null));
  const image = await resolveImage(docker, o.image);
  const team = o.team ?? teamFromImage(image.ref);
  const files = reportPaths(outDir, team);
  const dirs = { inputs: join(outDir, 'work', 'inputs'), outputs: join(outDir, `${safeName(team)}_outputs`) };
  mkdirSync(dirs.outputs, { recursive: true });
  const pool = o.gpus === null ? null : planPool(o);
  // A pool slot mounts its own inputs and outputs: concurrent containers never see each other's files.
  const slots: Slot[] = pool
    ? pool.map((p) => ({ gpu: p.gpu, placement: p, dirs: { inputs: join(outDir, 'work', `inputs-${p.slot}`), outputs: join(outDir, 'work', `outputs-${p.slot}`) } }))
    : [{ gpu: o.gpu, placement: null, dirs }];
  if (pool) {
    progress.setSlots(pool.map(slotLabel));
    for (const p of pool) progress.note(`${slotLabel(p)}${p.pciBusId ? ` (PCI ${p.pciBusId})` : ''}${p.note ? `: ${p.note}` : ''}`);
    if (!o.deviceRequest) progress.note('--no-device-request: GPUs are assigned and recorded, not requested from Docker');
  }
  const previous = o.resume ? readPrevious(files.summary) : null;
  const skip = resumableCases(previous, image.imageId);
  if (o.resume && previous && skip.size === 0 && previous.imageId !== image.imageId) progress.note('resume: the image changed since the last run; starting over');
  const measurer = o.agentUrl ? agentMeasurer(o.agentUrl, o.token) : await embeddedMeasurer({ outDir, gpuSource: o.gpuSource, intervalMs: o.intervalMs, nvmlLib: o.nvmlLib }, log);
  progress.note(`team ${team}, image ${image.ref} (${image.imageId.slice(0, 19)}), ${cases.length} cases; measured by ${o.agentUrl ? `the agent at ${measurer.url}` : `the embedded agent (live page: ${measurer.url})`}`);
  // Each (case, repeat) once; above one repeat the order is shuffled with --seed.
  const schedule = repeatSchedule(cases, o.repeat, o.seed);
  const byIndex = new Array<CaseRecord | undefined>(schedule.length);
  const records = (): CaseRecord[] => byIndex.filter((r): r is CaseRecord => r !== undefined);
  const runs = new Map<string, Run>();
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
    cases: [],
    ...(pool ? { slots: pool } : {}),
    totals: totalsOf([], schedule.length),
    // The repeats file exists only with --repeat above 1.
    files: Object.fromEntries(Object.entries(files).filter(([k]) => k !== 'repeats' || o.repeat > 1)),
  };
  const save = (): void => {
    summary.cases = records();
    summary.totals = totalsOf(summary.cases, schedule.length);
    writeFileSync(files.summary, JSON.stringify(summary, null, 2) + '\n');
  };
  // The idle-GPU guard of each slot's GPU (docs/gpu-accounting.md), and that GPU's environment in
  // summary.json; a slot whose GPU is a UUID (MIG) is not guarded.
  const guards: (IdleGuard | null)[] = [];
  for (const slot of slots) guards.push(slot.gpu !== null && /^\d+$/.test(slot.gpu) ? await openIdleGuard({ ...o, gpu: slot.gpu }) : null);
  summary.gpu = guards[0] ? guards[0].environment : null;
  summary.idleGpuGuard = guards.some((g) => g?.enabled) ? { floorMiB: o.idleGpuFloorMiB, timeoutSeconds: o.idleGpuTimeoutSeconds } : null;
  let officialText = '';
  try {
    const queue: number[] = [];
    for (const [k, { item: c }] of schedule.entries()) {
      const earlier = skip.get(c.name);
      if (earlier?.runId) {
        const measured = await measurer.runById(earlier.runId);
        if (measured) {
          byIndex[k] = earlier;
          runs.set(measured.run.id, measured.run);
          writeRunPlots(measured.run, measured.samples, files.plots, o.plotFormat);
          progress.note(`case ${k + 1}/${schedule.length} ${c.name}: skipped (--resume: measured before)`);
          continue;
        }
      }
      queue.push(k);
    }
    // Each slot takes the next case when its container ends: one container per GPU at a time.
    const worker = async (slot: Slot, slotIndex: number): Promise<void> => {
      for (let k = queue.shift(); k !== undefined; k = queue.shift()) {
        const { item: c, repeat } = schedule[k];
        const repeatField = o.repeat > 1 ? { repeat } : {};
        const label = o.repeat > 1 ? `${c.name} (repeat ${repeat}/${o.repeat})` : c.name;
        if (signal.aborted) {
          byIndex[k] = { ...emptyRecord(c.name), ...repeatField, state: 'interrupted', error: 'not run: interrupted' };
          continue;
        }
        const guard = guards[slotIndex];
        const busy = guard?.enabled ? await guard.waitIdle(signal) : null;
        if (busy) {
          const record: CaseRecord = { ...emptyRecord(c.name), ...repeatField, error: busy };
          if (slot.placement) record.placement = placementOf(slot, o);
          byIndex[k] = record;
          progress.caseFinished(caseLine(k + 1, schedule.length, record, null), slotIndex);
          save();
          continue;
        }
        progress.caseStarted(k + 1, schedule.length, label, o.timeLimitSeconds, slotIndex);
        const { record, run } = await runOne(docker, measurer, o, team, image.ref, c, slot, dirs.outputs, signal);
        if (o.repeat > 1) record.repeat = repeat;
        byIndex[k] = record;
        if (run) {
          runs.set(run.id, run);
          const measured = await measurer.runById(run.id);
          mkdirSync(files.plots, { recursive: true });
          if (measured) writeRunPlots(measured.run, measured.samples, files.plots, o.plotFormat);
        }
        progress.caseFinished(caseLine(k + 1, schedule.length, { ...record, name: label }, run), slotIndex);
        save();
      }
    };
    await Promise.all(slots.map((slot, i) => worker(slot, i)));
    // Formed while the measurer is open: the official figures read its traces.
    officialText = await measurer.officialCsv([...runs.values()], profile, o.profile, harnessSpans(records()), new Date(summary.startedAt).getTime() - 1000);
  } finally {
    progress.stop();
    for (const g of guards) g?.close();
    await measurer.close();
  }
  summary.finishedAt = new Date().toISOString();
  save();
  writeCsvs(files, [...runs.values()], summary.cases, officialText);
  if (o.repeat > 1) writeFileSync(files.repeats, repeatsCsv(runsByCase(summary.cases, runs)));
  writeFileSync(files.summary, JSON.stringify(summary, null, 2) + '\n');
  const accuracy =
    o.gtDir && accuracyRules
      ? await scoreTeamOutputs({ gtDir: o.gtDir, outputsDir: dirs.outputs, rules: accuracyRules, team, outDir, mergeInto: o.accuracyCsv }, (line) => log.info(line))
      : null;
  const table = finalTable(summary.cases, runs) + (o.repeat > 1 ? `\nrepeats (median [min–max] CV):\n${repeatsTable(runsByCase(summary.cases, runs), terminalText)}` : '');
  const accuracyText = accuracy ? `\naccuracy: ${accuracy.scored} case(s) scored, ${accuracy.failed.length} failed${accuracy.failed.length ? ` (${accuracy.failed.join(', ')})` : ''}, ${accuracy.missing.length} without output → ${accuracy.officialCsv}, ${accuracy.longCsv}\n` : '';
  return { summary, table: table + accuracyText, ok: everyCaseRan(summary.totals) && (accuracy === null || accuracy.failed.length === 0) };
}

