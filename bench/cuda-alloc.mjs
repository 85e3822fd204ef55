// A GPU process for bench/gpu-check.sh that needs neither Python nor torch: the CUDA driver API through
// koffi (already a production dependency). It holds HOLD_MIB for HOLD_S seconds with a SPIKE_MIB
// allocation of SPIKE_MS milliseconds in the middle (a spike a 100 ms sampler usually misses), then
// frees everything. Writes {pid, tSpike, ...} to OUT_JSON (stdout stays free for the profile's JSON).
//
//   node bench/cuda-alloc.mjs <holdMiB> <holdS> <spikeMiB> <spikeMs> <outJson> [gpuOrdinal]
import { writeFileSync } from 'node:fs';
import koffi from 'koffi';

const [holdMiB, holdS, spikeMiB, spikeMs] = process.argv.slice(2, 6).map(Number);
const outJson = process.argv[6];
const ordinal = Number(process.argv[7] ?? 0);
const cu = koffi.load('libcuda.so.1');
const cuInit = cu.func('int cuInit(unsigned int flags)');
const cuDeviceGet = cu.func('int cuDeviceGet(_Out_ int *dev, int ordinal)');
const cuCtxCreate = cu.func('int cuCtxCreate_v2(_Out_ void **ctx, unsigned int flags, int dev)');
const cuMemAlloc = cu.func('int cuMemAlloc_v2(_Out_ uint64_t *dptr, size_t bytes)');
const cuMemFree = cu.func('int cuMemFree_v2(uint64_t dptr)');
const cuCtxDestroy = cu.func('int cuCtxDestroy_v2(void *ctx)');

const check = (what, code) => {
  if (code !== 0) throw new Error(`${what}: CUresult ${code}`);
};
const sleepMs = (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
const alloc = (mib) => {
  const p = [0];
  check(`cuMemAlloc ${mib} MiB`, cuMemAlloc(p, mib * 1048576));
  return p[0];
};

check('cuInit', cuInit(0));
const dev = [0];
check('cuDeviceGet', cuDeviceGet(dev, ordinal));
const ctx = [null];
check('cuCtxCreate', cuCtxCreate(ctx, 0, dev[0]));
const tStart = Date.now() / 1000;
const held = holdMiB > 0 ? alloc(holdMiB) : null;
sleepMs((holdS * 1000) / 2);
let tSpike = null;
if (spikeMiB > 0) {
  tSpike = Date.now() / 1000;
  const spike = alloc(spikeMiB);
  sleepMs(spikeMs);
  check('cuMemFree spike', cuMemFree(spike));
}
sleepMs((holdS * 1000) / 2);
if (held !== null) check('cuMemFree', cuMemFree(held));
const tEnd = Date.now() / 1000;
check('cuCtxDestroy', cuCtxDestroy(ctx[0]));
writeFileSync(outJson, JSON.stringify({ pid: process.pid, holdMiB, spikeMiB, spikeMs, tStart, tSpike, tEnd }));
