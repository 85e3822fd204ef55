// Containers an agent should have measured and has no run of: a selected container that started in
// a span some agent watched (core/lives.ts), has ended, and whose life (its StartedAt) has no run in
// the database. That happens when the run's row could not be written (the disk was full at its
// start) and the agent died before it could be, or when Docker's event stream was down for the
// container's whole life. Docker still knows how it ran: the watcher creates its run from that
// record (identity, StartedAt, FinishedAt, exit code, OOMKilled), with no samples and the flag
// `created-from-runtime-record`.
import type { DockerApi } from './engine-client.js';
import { inWindows } from '../../core/lives.js';
import type { MissedQuery } from '../adapter.js';
import type { InspectFacts } from './identity.js';
import { parseDockerTimeNs } from './time.js';

/** Docker states of a container that ran and ended (`docker ps -a`). */
const ENDED_STATES = new Set(['exited', 'dead']);

/**
 * The ended, selected containers Docker lists whose life started inside a watched span and has no
 * run. Only those with no run at all since their creation are inspected: a container restarted while
 * no agent ran, whose first life has a run, is not looked for (its newest life is then unrecorded).
 */
export async function missedContainers(docker: DockerApi, q: MissedQuery): Promise<InspectFacts[]> {
  const earliestMs = q.windows[0]?.fromWallMs ?? Infinity;
  const listed = await docker.listContainers({ all: true });
  const out: InspectFacts[] = [];
  for (const c of listed) {
    if (!ENDED_STATES.has(c.State) || q.skip(c.Id)) continue;
    // The listing's own labels, name and image select it; Created (s, rounded down) precedes StartedAt.
    const name = (c.Names?.[0] ?? '').replace(/^\//, '');
    if (!q.selected({ labels: c.Labels ?? {}, name, image: c.Image })) continue;
    if (q.hasRunSince(c.Id, c.Created * 1000)) continue;
    let info: InspectFacts;
    try {
      info = await docker.getContainer(c.Id).inspect();
    } catch {
      continue; // removed meanwhile: nothing left to settle it from
    }
    const startedAtNs = parseDockerTimeNs(info.State.StartedAt);
    if (startedAtNs === null || info.State.Running) continue;
    const startedWallMs = Number(startedAtNs / 1_000_000n);
    if (startedWallMs < earliestMs || !inWindows(q.windows, startedWallMs)) continue;
    if (q.hasRunSince(c.Id, startedWallMs)) continue;
    out.push(info);
  }
  return out;
}
