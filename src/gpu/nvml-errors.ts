// NVML return codes (nvml.h, API 13) and the typed error every failing NVML call becomes.

export const NVML_ERROR_UNINITIALIZED = 1;
export const NVML_ERROR_NOT_SUPPORTED = 3;
export const NVML_ERROR_INSUFFICIENT_SIZE = 7;
export const NVML_ERROR_FUNCTION_NOT_FOUND = 13;
export const NVML_ERROR_GPU_IS_LOST = 15;
export const NVML_ERROR_ARGUMENT_VERSION_MISMATCH = 25;

const CODE_NAMES: Record<number, string> = {
  0: 'SUCCESS', 1: 'UNINITIALIZED', 2: 'INVALID_ARGUMENT', 3: 'NOT_SUPPORTED', 4: 'NO_PERMISSION',
  5: 'ALREADY_INITIALIZED', 6: 'NOT_FOUND', 7: 'INSUFFICIENT_SIZE', 8: 'INSUFFICIENT_POWER',
  9: 'DRIVER_NOT_LOADED', 10: 'TIMEOUT', 11: 'IRQ_ISSUE', 12: 'LIBRARY_NOT_FOUND', 13: 'FUNCTION_NOT_FOUND',
  14: 'CORRUPTED_INFOROM', 15: 'GPU_IS_LOST', 16: 'RESET_REQUIRED', 17: 'OPERATING_SYSTEM',
  18: 'LIB_RM_VERSION_MISMATCH', 19: 'IN_USE', 20: 'MEMORY', 21: 'NO_DATA', 22: 'VGPU_ECC_NOT_SUPPORTED',
  23: 'INSUFFICIENT_RESOURCES', 24: 'FREQ_NOT_SUPPORTED', 25: 'ARGUMENT_VERSION_MISMATCH', 26: 'DEPRECATED',
  27: 'NOT_READY', 28: 'GPU_NOT_FOUND', 29: 'INVALID_STATE', 30: 'RESET_TYPE_NOT_SUPPORTED', 999: 'UNKNOWN',
};

/** Symbolic name of an nvmlReturn_t ('GPU_IS_LOST'); 'ERROR_<n>' for codes this table does not know. */
export function nvmlCodeName(code: number): string {
  return CODE_NAMES[code] ?? `ERROR_${code}`;
}

/** A failing NVML call: the return code, the C symbol that returned it, and nvmlErrorString's text. */
export class NvmlError extends Error {
  override readonly name = 'NvmlError';
  constructor(
    readonly code: number,
    readonly symbol: string,
    readonly nvmlMessage: string,
  ) {
    super(`${symbol}: ${nvmlMessage} (NVML_ERROR_${nvmlCodeName(code)}, ${code})`);
  }
}
