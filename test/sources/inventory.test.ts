// The node inventory recorded at each start (src/sources/inventory.ts): read from Node and os-release,
// with no process spawned.
import { describe, expect, it } from 'vitest';
import { cpus, release, totalmem } from 'node:os';
import { osOfRelease, readInventory } from '../../src/sources/inventory.js';

describe('node inventory', () => {
  it('reads os-release(5) values, quoted or not, with escapes and comments', () => {
    expect(osOfRelease('PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\nID=debian\n')).toBe('Debian GNU/Linux 12');
    expect(osOfRelease("NAME='Ubuntu'\nVERSION_ID=22.04\n")).toBe('Ubuntu 22.04');
    expect(osOfRelease('# a comment\nNAME="A \\"quoted\\" name"\n')).toBe('A "quoted" name');
    expect(osOfRelease('')).toBe('unknown');
  });

  it("holds this machine's CPU, memory and kernel as Node reads them", () => {
    const inv = readInventory('9.9.9', []);
    expect(inv.cpuCores).toBe(cpus().length);
    expect(inv.cpuModel).toBe(cpus()[0].model.trim());
    expect(inv.memTotalMiB).toBe(totalmem() / 1024 / 1024);
    expect(inv.kernel).toBe(release());
    expect(inv.os).not.toBe('');
    expect(inv.agentVersion).toBe('9.9.9');
  });
});
