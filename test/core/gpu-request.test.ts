// Which GPUs a device request names on a node (core/gpu-request.ts), as Docker's NVIDIA driver maps it.
import { describe, expect, it } from 'vitest';
import { resolveGpuRequest } from '../../src/core/gpu-request.js';

const GPUS = [0, 1, 2, 3].map((index) => ({ index, uuid: `GPU-0000000${index}-aaaa-bbbb-cccc-dddddddddddd` }));

describe('resolveGpuRequest', () => {
  it('--gpus device=1,3: exactly those, by index or by UUID (any case)', () => {
    expect(resolveGpuRequest(['1', '3'], GPUS)).toEqual({ indices: [1, 3], migUuids: null, unresolved: [] });
    expect(resolveGpuRequest([GPUS[3].uuid.toUpperCase().replace('GPU-', 'GPU-'), GPUS[1].uuid], GPUS)).toEqual({ indices: [1, 3], migUuids: null, unresolved: [] });
  });
  it('--gpus N: the first N GPUs by index, as Docker assigns them (not "count:N")', () => {
    expect(resolveGpuRequest(['count:2'], GPUS)).toEqual({ indices: [0, 1], migUuids: null, unresolved: [] });
    expect(resolveGpuRequest(['count:6'], GPUS)).toEqual({ indices: [0, 1, 2, 3], migUuids: null, unresolved: ['4', '5'] });
  });
  it('--gpus all and no request name no GPU in particular', () => {
    expect(resolveGpuRequest(['all'], GPUS)).toEqual({ indices: null, migUuids: null, unresolved: [] });
    expect(resolveGpuRequest([], GPUS)).toEqual({ indices: null, migUuids: null, unresolved: [] });
  });
  it('a MIG device by its UUID: that device, on its GPU', () => {
    const MIGS = [{ uuid: 'MIG-11111111-2222-3333-4444-555555555555', parentIndex: 2 }, { uuid: 'MIG-66666666-2222-3333-4444-555555555555', parentIndex: 2 }];
    expect(resolveGpuRequest(['MIG-66666666-2222-3333-4444-555555555555'], GPUS, MIGS)).toEqual({ indices: [2], migUuids: ['MIG-66666666-2222-3333-4444-555555555555'], unresolved: [] });
  });
  it('ids this node does not have (a MIG UUID, a missing index, junk) are unresolved, never guessed', () => {
    expect(resolveGpuRequest(['7', 'MIG-11111111-2222-3333-4444-555555555555', '2'], GPUS)).toEqual({ indices: [2], migUuids: null, unresolved: ['7', 'MIG-11111111-2222-3333-4444-555555555555'] });
    expect(resolveGpuRequest(['1,3', '01x'], GPUS)).toEqual({ indices: null, migUuids: null, unresolved: ['1,3', '01x'] });
  });
});
