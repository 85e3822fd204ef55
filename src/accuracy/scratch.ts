// Working arrays reused from organ to organ and case to case. Pure.
//
// Why: a fresh typed array's pages are mapped by the kernel the first time they are written, and on
// the 2-core VM this project is measured on that costs about 2.7 ms per MiB (a 512×512×100 case
// touches over 100 MiB of fresh memory for its label volumes, corner codes and distance transforms:
// ~0.3 s, a third of the case). Arrays kept here are written again at memory speed. They are handed
// out uninitialised (whatever the last user left): every user writes all it reads.

type Kind = 'u8' | 'i32' | 'f64';
type ArrayOf<K extends Kind> = K extends 'u8' ? Uint8Array : K extends 'i32' ? Int32Array : Float64Array;
const MAKE = { u8: (n: number) => new Uint8Array(n), i32: (n: number) => new Int32Array(n), f64: (n: number) => new Float64Array(n) };

export class Scratch {
  private readonly arrays = new Map<string, Uint8Array | Int32Array | Float64Array>();

  /** An array of `length` elements for `use`, the same memory as the last time `use` asked when it is large enough. */
  get<K extends Kind>(kind: K, use: string, length: number): ArrayOf<K> {
    const key = `${kind}:${use}`;
    let a = this.arrays.get(key);
    if (a === undefined || a.length < length) {
      // Grown with headroom, so a slightly larger next organ or case does not allocate again.
      a = MAKE[kind](Math.ceil(length * 1.25));
      this.arrays.set(key, a);
    }
    return a.subarray(0, length) as ArrayOf<K>;
  }

}
