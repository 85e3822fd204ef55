// The cases of an evaluation (`*_0000.nii.gz` in --cases, sorted) and the per-case inputs folder
// holding only that case, as the official harness prepared it.
import { copyFileSync, existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';

export interface CaseFile {
  /** Case name: the file name without `_0000.nii.gz`; the expected output is `<name>.nii.gz`. */
  name: string;
  file: string;
}

const CASE_SUFFIX = '_0000.nii.gz';

export function listCases(casesDir: string): CaseFile[] {
  return readdirSync(casesDir, { withFileTypes: true })
    .filter((d) => d.isFile() && d.name.endsWith(CASE_SUFFIX) && d.name.length > CASE_SUFFIX.length)
    .map((d) => ({ name: d.name.slice(0, -CASE_SUFFIX.length), file: join(casesDir, d.name) }))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** Empties `inputsDir` and copies the one case into it. */
export function prepareInputs(inputsDir: string, c: CaseFile): void {
  rmSync(inputsDir, { recursive: true, force: true });
  mkdirSync(inputsDir, { recursive: true });
  copyFileSync(c.file, join(inputsDir, `${c.name}${CASE_SUFFIX}`));
}

export function expectedOutput(outputsDir: string, c: CaseFile): string {
  return join(outputsDir, `${c.name}.nii.gz`);
}

export const outputPresent = (outputsDir: string, c: CaseFile): boolean => existsSync(expectedOutput(outputsDir, c));
