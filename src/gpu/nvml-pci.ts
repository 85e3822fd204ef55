// Each GPU's UUID and PCI bus id, from one short NVML session (init … shutdown; NVML counts inits, so
// an agent's own session in the same process is unaffected). Used to place evaluation slots near their
// GPU (docs/parallel-evaluation.md). nvmlPciInfo_t (v2/v3 layout, x86-64): char busIdLegacy[16];
// unsigned domain, bus, device, pciDeviceId, pciSubSystemId; char busId[32] → busId at byte 36.
import koffi from 'koffi';

export interface NvmlPciDevice {
  index: number;
  uuid: string;
  /** NVML's form, e.g. 00000000:3B:00.0 (null: not available, see pciReason). */
  pciBusId: string | null;
  pciReason: string | null;
}

const PCI_INFO_BYTES = 68;
const BUS_ID_OFFSET = 36;
const BUS_ID_BYTES = 32;
const UUID_BYTES = 96;

const cString = (buf: Buffer, from = 0, len = buf.length - from): string => {
  const slice = buf.subarray(from, from + len);
  const end = slice.indexOf(0);
  return slice.toString('latin1', 0, end < 0 ? slice.length : end);
};

export function readNvmlPci(libPath: string): NvmlPciDevice[] {
  let lib: ReturnType<typeof koffi.load>;
  try {
    lib = koffi.load(libPath);
  } catch (err) {
    throw new Error(`${libPath}: ${(err as Error).message.replace(/^Failed to load shared library:\s*/, '')}`);
  }
  const ptr = 'void *';
  const fn = (name: string, params: string[]): ((...a: unknown[]) => number) | null => {
    try {
      return lib.func(name, 'int', params) as (...a: unknown[]) => number;
    } catch {
      return null;
    }
  };
  const init = fn('nvmlInit_v2', []);
  const shutdown = fn('nvmlShutdown', []);
  const getCount = fn('nvmlDeviceGetCount_v2', [ptr]);
  const getHandle = fn('nvmlDeviceGetHandleByIndex_v2', ['uint32_t', ptr]);
  const getUuid = fn('nvmlDeviceGetUUID', [ptr, ptr, 'uint32_t']);
  if (!init || !shutdown || !getCount || !getHandle || !getUuid) throw new Error(`${libPath}: not an NVML library (missing init/count/handle/UUID entry points)`);
  const pciV3 = fn('nvmlDeviceGetPciInfo_v3', [ptr, ptr]);
  const getPci = pciV3 ?? fn('nvmlDeviceGetPciInfo_v2', [ptr, ptr]);
  const code = init();
  if (code !== 0) throw new Error(`nvmlInit_v2 returned ${code}`);
  try {
    const countBuf = Buffer.alloc(4);
    const c = getCount(countBuf);
    if (c !== 0) throw new Error(`nvmlDeviceGetCount_v2 returned ${c}`);
    const out: NvmlPciDevice[] = [];
    for (let index = 0; index < countBuf.readUInt32LE(0); index++) {
      const handleBuf = Buffer.alloc(8);
      const h = getHandle(index, handleBuf);
      if (h !== 0) throw new Error(`nvmlDeviceGetHandleByIndex_v2(${index}) returned ${h}`);
      const handle = handleBuf.readBigUInt64LE(0);
      const uuidBuf = Buffer.alloc(UUID_BYTES);
      const u = getUuid(handle, uuidBuf, UUID_BYTES);
      if (u !== 0) throw new Error(`nvmlDeviceGetUUID(${index}) returned ${u}`);
      let pciBusId: string | null = null;
      let pciReason: string | null = null;
      if (!getPci) pciReason = 'the NVML library exports no nvmlDeviceGetPciInfo_v3/_v2';
      else {
        const pciBuf = Buffer.alloc(PCI_INFO_BYTES);
        const p = getPci(handle, pciBuf);
        if (p === 0) pciBusId = cString(pciBuf, BUS_ID_OFFSET, BUS_ID_BYTES);
        else pciReason = `nvmlDeviceGetPciInfo returned ${p}`;
      }
      out.push({ index, uuid: cString(uuidBuf), pciBusId, pciReason });
    }
    return out;
  } finally {
    shutdown();
  }
}
