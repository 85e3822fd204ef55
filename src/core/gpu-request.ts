// Which GPUs a container was given, from its request (HostConfig.DeviceRequests as requestedGpus()
// reads it) and the node's devices. Pure.
//
// Docker facts (moby's NVIDIA device driver, daemon/nvidia_linux.go, Docker 19.03 and later, in both
// the legacy prestart-hook path and the CDI path): a request with DeviceIDs passes them on as given
// (indices or UUIDs); `--gpus N` (Count N) becomes device IDs "0,…,N-1", the first N GPUs by index,
// not "any N free ones"; `--gpus all` (Count −1) is every GPU, which names no particular one: such a
// run is measured on the GPUs its processes use. docs/gpu-accounting.md says the same.

export interface GpuRequestResolution {
  /** GPU indices the container was given (a MIG device's GPU included); null: no request, or none of it resolved. */
  indices: number[] | null;
  /** MIG devices it was given by UUID (MIG-…); null: none. */
  migUuids: string[] | null;
  /** Request entries that name no GPU of this node (flagged on the run). */
  unresolved: string[];
}

export function resolveGpuRequest(
  requested: readonly string[],
  devices: readonly { index: number; uuid: string }[],
  migDevices: readonly { uuid: string; parentIndex: number }[] = [],
): GpuRequestResolution {
  if (requested.length === 0) return { indices: null, migUuids: null, unresolved: [] };
  const byUuid = new Map(devices.map((d) => [d.uuid.toLowerCase(), d.index]));
  const migByUuid = new Map(migDevices.map((m) => [m.uuid.toLowerCase(), m]));
  const migs: string[] = [];
  const known = new Set(devices.map((d) => d.index));
  const out = new Set<number>();
  const unresolved: string[] = [];
  for (const id of requested) {
    if (id === 'all') continue;
    const count = /^count:([0-9]{1,4})$/.exec(id);
    if (count) {
      for (let i = 0; i < Number(count[1]); i++) {
        if (known.has(i)) out.add(i);
        else unresolved.push(String(i));
      }
      continue;
    }
    const mig = migByUuid.get(id.toLowerCase());
    if (mig) {
      migs.push(mig.uuid);
      out.add(mig.parentIndex);
      continue;
    }
    const index = /^[0-9]{1,4}$/.test(id) ? Number(id) : byUuid.get(id.toLowerCase());
    if (index !== undefined && known.has(index)) out.add(index);
    else unresolved.push(id);
  }
  return { indices: out.size > 0 ? [...out].sort((a, b) => a - b) : null, migUuids: migs.length > 0 ? migs : null, unresolved };
}
