// The soak (bench/soak.ts), shortened: 200 container lifecycles on the real engine through one dockerd
// restart and one agent restart with containers in flight, every verdict against Docker's record.
// Nothing lost, no wrong status or exit code, no wall time off by more than 20 ms, every limit
// enforced, no run left interrupted, no missed tick; the agent's threads back where they were after its
// restart, and no descriptor left open but a connection in flight. OOM kills no source can name (Docker recorded none and the agent never read
// the cgroup) are reported, not failed. Runs last in its file: it restarts the engine.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { soak } from '../../bench/soak.js';
import { requireServices } from '../helpers.js';
import { dockerReachable } from './helpers.js';

const engineUp = await dockerReachable();
if (!engineUp && requireServices()) throw new Error('Docker Engine with flare-test/busybox is required (FLARE_TEST_REQUIRE_SERVICES)');

describe.skipIf(!engineUp)('soak through restarts (real engine, built agent)', () => {
  it('200 lifecycles, a dockerd restart and an agent restart: every verdict matches Docker\'s record', async () => {
    const r = await soak({ lifecycles: 200, parallel: 3, cli: join(process.cwd(), 'dist/src/cli.js'), log: (l) => console.log(l) });
    const { process: perHundred, mismatches, ...figures } = r;
    console.log('soak', JSON.stringify(figures), JSON.stringify(perHundred), JSON.stringify(mismatches));
    expect(r.lifecycles).toBe(200);
    expect({ lost: r.lost, wrongStatus: r.wrongStatus, wrongExitCode: r.wrongExitCode, wallOff: r.wallOff, overLimitNotKilled: r.overLimitNotKilled, interruptedWithoutVerdict: r.interruptedWithoutVerdict, missedTicks: r.missedTicks }).toEqual({
      lost: 0, wrongStatus: 0, wrongExitCode: 0, wallOff: 0, overLimitNotKilled: 0, interruptedWithoutVerdict: 0, missedTicks: 0,
    });
    // No descriptor left behind: what is open at the end and was not at the quiet start is at most a
    // connection or two in flight (Docker's API, a scrape); every file, watch and pipe is closed again.
    expect(r.fdsOpenedSinceStart.filter((f) => f !== 'socket:')).toEqual([]);
    expect(r.fdsOpenedSinceStart.length).toBeLessThanOrEqual(2);
    expect(r.fdsAtEnd).toBeLessThanOrEqual(r.fdsAtStart + 2);
    expect(r.threadsAtEnd).toBe(r.threadsAtStart);
  }, 900_000);
});
