import { SIMD_WASM_BASE64 } from './simd_wasm.js';

/** The few WebAssembly JS API members we use (the DOM lib, which declares them, is not loaded). */
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
}
const WA = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

/** Exports of simd.wat (pointers are byte offsets into `memory`, lengths in floats, multiples of 4). */
export interface SimdModule {
  readonly memory: WasmMemory;
  dense22_fwd(
    x0: number,
    x1: number,
    pa: number,
    pb: number,
    pc: number,
    pd: number,
    n: number,
    out: number,
  ): void;
  dense22_bwd(
    x0: number,
    x1: number,
    d0: number,
    d1: number,
    pa: number,
    pb: number,
    pc: number,
    pd: number,
    ga: number,
    gb: number,
    gc: number,
    gd: number,
    n: number,
    out: number,
  ): void;
  nonfinite(p: number, n: number): number;
  rows_axpy(s: number, coef: number, mt: number, d: number, nkp: number): void;
  rows_reduce(s: number, mt: number, out: number, d: number, nkp: number, mul: number): void;
  rows_outer(gt: number, coef: number, s: number, d: number, nkp: number, mul: number): void;
  softmax_row(s: number, nkp: number): number;
  ds_row(p: number, dp: number, di: number, nkp: number): void;
  adam(
    pp: number,
    pg: number,
    pm: number,
    pv: number,
    n: number,
    b1: number,
    b2: number,
    lrc1: number,
    c2: number,
    eps: number,
  ): void;
}

let module: SimdModule | null | undefined;
let enabled = true;

/**
 * The SIMD module, instantiated on first use (synchronously: it is 1 kB), or null where the
 * WebAssembly engine lacks fixed-width SIMD (then the kernels use their scalar JS loops).
 */
export function simdModule(): SimdModule | null {
  if (!enabled) return null;
  if (module === undefined) {
    try {
      const bytes = Buffer.from(SIMD_WASM_BASE64, 'base64');
      const instance = new WA.Instance(new WA.Module(bytes), {});
      module = instance.exports as unknown as SimdModule;
    } catch {
      module = null;
    }
  }
  return module;
}

/** Turn the SIMD path off (true → on again). For tests and benchmarks of the scalar path. */
export function setSimdEnabled(on: boolean): void {
  enabled = on;
}

/** A float view of the module memory holding at least `floats` floats (grows it if needed). */
export function simdFloats(m: SimdModule, floats: number): Float32Array {
  const need = floats * 4;
  const have = m.memory.buffer.byteLength;
  if (need > have) m.memory.grow(Math.ceil((need - have) / 65536));
  return new Float32Array(m.memory.buffer);
}

export function pad4(n: number): number {
  return (n + 3) & ~3;
}
