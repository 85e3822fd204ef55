// The test team image: busybox (as scripts/services.sh builds flare-test/busybox) plus a predict.sh
// that copies each case to the outputs and burns CPU for a known time; a case named *slow* sleeps
// past any short limit and one named *nooutput* writes nothing. Built with `docker import`.
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const TEAM_IMAGE = 'flare-test/teamalpha:latest';
export const BURN_SECONDS = 2;

export const PREDICT_SH = `#!/bin/sh
for f in /workspace/inputs/*_0000.nii.gz; do
  n=\${f##*/}
  name=\${n%_0000.nii.gz}
  case "$name" in
    *slow*) sleep 60 ;;
    *nooutput*) timeout ${BURN_SECONDS} yes > /dev/null; exit 0 ;;
  esac
  cp "$f" "/workspace/outputs/$name.nii.gz"
  timeout ${BURN_SECONDS} yes > /dev/null
done
exit 0
`;

const APPLETS = ['sh', 'sleep', 'yes', 'dd', 'head', 'cat', 'ls', 'cp', 'timeout', 'true', 'false', 'kill', 'mkdir', 'rm', 'echo', 'seq'];

export function dockerAvailable(): boolean {
  try {
    execFileSync('docker', ['info'], { stdio: 'ignore', timeout: 10_000 });
    return true;
  } catch {
    return false;
  }
}

/**
 * Builds the image under `tag`. `docker import` gives each build a new image id, and --resume starts
 * over when the image id changed: a test file that resumes builds a tag of its own, so another file's
 * build running beside it cannot change its image between two runs.
 */
export function buildTeamImage(tag = TEAM_IMAGE): void {
  const root = mkdtempSync(join(tmpdir(), 'flare-team-'));
  try {
    for (const d of ['bin', 'tmp', 'workspace/inputs', 'workspace/outputs']) mkdirSync(join(root, d), { recursive: true });
    copyFileSync('/bin/busybox', join(root, 'bin/busybox'));
    chmodSync(join(root, 'bin/busybox'), 0o755);
    for (const a of APPLETS) symlinkSync('busybox', join(root, 'bin', a));
    writeFileSync(join(root, 'workspace/predict.sh'), PREDICT_SH, { mode: 0o755 });
    const tar = execFileSync('tar', ['-C', root, '-c', '.'], { maxBuffer: 64 * 1024 * 1024 });
    execFileSync('docker', ['import', '--change', 'WORKDIR /workspace', '-', tag], { input: tar, stdio: ['pipe', 'ignore', 'inherit'] });
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

/** Three cases with dummy contents (the harness only copies them). */
export function makeCases(dir: string, names: string[]): void {
  mkdirSync(dir, { recursive: true });
  for (const n of names) writeFileSync(join(dir, `${n}_0000.nii.gz`), `not really NIfTI: ${n}\n`);
}
