// The agent's accuracy file is read again whenever its bytes change: an edit that keeps the size, the
// mtime and the inode (cp -p, rsync -t, tar x, touch -r, a 2-s timestamp filesystem) included.
import { spawnSync } from 'node:child_process';
import { statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AccuracyFile } from '../../src/scoring/accuracy-file.js';
import { organiserFileKey, readOrganiserFile } from '../../src/organiser-file.js';
import { tempDir } from '../helpers.js';

describe('AccuracyFile', () => {
  it('an in-place correction with the same size, mtime and inode is read again', () => {
    const file = join(tempDir('flare-acc-key-'), 'accuracy.csv');
    writeFileSync(file, 'team,case,metric,value\nalpha,c1,DSC,0.81\n');
    const ref = `${file}.ref`;
    expect(spawnSync('cp', ['-p', file, ref]).status).toBe(0);
    const before = statSync(file);
    const acc = new AccuracyFile(file);
    expect([...acc.read().value]).toEqual([0.81]);
    // The organiser fixes a typo: same length, then the old timestamps put back (as `touch -r` or `cp -p` do).
    writeFileSync(file, 'team,case,metric,value\nalpha,c1,DSC,0.18\n');
    expect(spawnSync('touch', ['-r', ref, file]).status).toBe(0); // nanoseconds, as the tools copy them
    const after = statSync(file);
    expect([after.ino, after.size, after.mtimeMs]).toEqual([before.ino, before.size, before.mtimeMs]);
    expect([...acc.read().value]).toEqual([0.18]);
  });

  it('unchanged bytes hand back the very same rows (no parse); the key is the content\'s, hashed in pieces', () => {
    const file = join(tempDir('flare-acc-key-'), 'accuracy.csv');
    // Larger than one 1-MiB hashing piece, so the pieces' joins are covered.
    const rows = Array.from({ length: 60_000 }, (_, i) => `team-${i % 7},case-${i},DSC,0.5`).join('\n');
    writeFileSync(file, `team,case,metric,value\n${rows}\n`);
    const acc = new AccuracyFile(file);
    const first = acc.read();
    expect(acc.read()).toBe(first);
    expect(organiserFileKey(file, 256 << 20)).toBe(readOrganiserFile(file, 256 << 20).key);
    writeFileSync(file, `team,case,metric,value\n${rows}\n`);
    expect(acc.read()).toBe(first); // rewritten with the same bytes: nothing to parse again
  });
});
