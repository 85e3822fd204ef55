// Which process wrote a run, and whether it still lives: start-up recovery settles only the runs whose
// writer is gone, so an agent that starts beside a live `profile --db` leaves that profile's run alone.
//
// A writer is `<boot id>:<pid>:<start ticks>`: the pid alone is reused after the process ends, and
// the start time (field 22 of /proc/<pid>/stat, clock ticks since boot; Linux ≥ 2.6) tells a reuse
// apart; the boot id (/proc/sys/kernel/random/boot_id, Linux ≥ 2.6.22) tells a reboot apart, after
// which every pid is new. Pids are those of the agent's pid namespace: a writer in another one (an
// agent in a container, a profile on the host) reads as gone, which is the behaviour before writers
// were recorded.
import { readFileSync } from 'node:fs';
import { procStat } from './proc-alive.js';

function bootId(procRoot: string): string | null {
  try {
    return readFileSync(`${procRoot}/sys/kernel/random/boot_id`, 'latin1').trim() || null;
  } catch {
    return null;
  }
}

/** This process as a run's writer; null where /proc cannot tell (then its runs read as left by a gone writer). */
export function thisWriter(pid = process.pid, procRoot = '/proc'): string | null {
  const boot = bootId(procRoot);
  const stat = procStat(pid, procRoot);
  return boot && stat ? `${boot}:${pid}:${stat.startTicks}` : null;
}

/** The pid of a writer string, for log lines; null when it is not one. */
export function writerPid(writer: string | null): number | null {
  const m = writer === null ? null : /^[0-9a-f-]{1,64}:(\d{1,10}):\d{1,20}$/.exec(writer);
  return m ? Number(m[1]) : null;
}

/**
 * Whether the process that wrote a run still runs: same boot, same pid, same start time, and not a
 * zombie. An unknown writer (older rows, or no /proc) is gone.
 */
export function writerAlive(writer: string | null, procRoot = '/proc'): boolean {
  if (writer === null) return false;
  const parts = writer.split(':');
  const pid = writerPid(writer);
  if (parts.length !== 3 || pid === null || pid <= 0) return false;
  if (bootId(procRoot) !== parts[0]) return false;
  const stat = procStat(pid, procRoot);
  return stat !== null && stat.state !== 'Z' && stat.state !== 'X' && stat.startTicks === parts[2];
}
