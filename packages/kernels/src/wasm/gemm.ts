import { GEMM_WASM_BASE64 } from './gemm_wasm.js';
import { simdModule } from './simd.js';

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

/** Exports of gemm.wat. */
interface GemmModule {
  readonly memory: WasmMemory;
  gemm(pa: number, pb: number, pc: number, m: number, n: number, k: number, acc: number): void;
  gemm_nn(
    pa: number,
    pb: number,
    pc: number,
    m: number,
    n: number,
    k: number,
    acc: number,
    ldb: number,
  ): void;
  gemm_tn(
    pa: number,
    pb: number,
    pc: number,
    m: number,
    n: number,
    k: number,
    acc: number,
    ldb: number,
    lda: number,
  ): void;
}

let module: GemmModule | null | undefined;

/** The GEMM module, instantiated on first use, or null where WebAssembly lacks fixed-width SIMD. */
function gemmModule(): GemmModule | null {
  // setSimdEnabled(false) of ./simd.js turns this module off too (the scalar loops are the fallback).
  if (simdModule() === null) return null;
  if (module === undefined) {
    try {
      const bytes = Buffer.from(GEMM_WASM_BASE64, 'base64');
      module = new WA.Instance(new WA.Module(bytes), {}).exports as unknown as GemmModule;
    } catch {
      module = null;
    }
  }
  return module;
}

function floats(m: GemmModule, n: number): Float32Array {
  const need = n * 4;
  const have = m.memory.buffer.byteLength;
  if (need > have) m.memory.grow(Math.ceil((need - have) / 65536));
  return new Float32Array(m.memory.buffer);
}

const up = (n: number, q: number) => Math.ceil(n / q) * q;

/** Floats of A per row chunk (128 KB: a quarter of a typical L2). */
const CHUNK_FLOATS = 32768;

/**
 * C = op(A) · op(B) in float32: op(A) is `[m, k]` (A stored `[m, k]`, or `[k, m]` when `transA`),
 * op(B) is `[k, n]` (B stored `[k, n]`, or `[n, k]` when `transB`); C `[m, n]` row-major is
 * written to `out` (overwritten, or added to when `accumulate`). SIMD (f32x4, 4 × 8 register
 * blocks) when available, else a scalar i–k–j loop: B row-major is read in place (`gemm_nn`, and
 * `gemm_tn` for a transposed A, read in place too); a transposed B is packed in panels of 8
 * columns first (`gemm`).
 */
export function sgemm(
  a: Float32Array,
  b: Float32Array,
  out: Float32Array,
  m: number,
  n: number,
  k: number,
  transA = false,
  transB = false,
  accumulate = false,
): void {
  if (m === 0 || n === 0) return;
  if (k === 0) {
    if (!accumulate) out.fill(0, 0, m * n);
    return;
  }
  const mod = gemmModule();
  if (!mod) {
    sgemmScalar(a, b, out, m, n, k, transA, transB, accumulate);
    return;
  }
  const mp = up(m, 4);
  const np = up(n, 8);
  if (!transB) {
    // B unpacked (row stride np): one copy, no packing pass.
    const aOff = 0;
    const bOff = transA ? k * mp : mp * k;
    const cOff = bOff + k * np;
    const mem = floats(mod, cOff + mp * np);
    if (!transA) {
      mem.set(a.subarray(0, m * k), aOff);
      if (mp > m) mem.fill(0, aOff + m * k, aOff + mp * k);
    } else if (mp === m) mem.set(a.subarray(0, k * m), aOff);
    else {
      copyRows(a, 0, m, mem, aOff, mp, k, m);
      for (let kk = 0; kk < k; kk++) mem.fill(0, aOff + kk * mp + m, aOff + kk * mp + mp);
    }
    if (np === n) mem.set(b.subarray(0, k * n), bOff);
    else {
      copyRows(b, 0, n, mem, bOff, np, k, n);
      for (let kk = 0; kk < k; kk++) mem.fill(0, bOff + kk * np + n, bOff + kk * np + np);
    }
    if (accumulate) {
      if (np === n) mem.set(out.subarray(0, m * n), cOff);
      else copyRows(out, 0, n, mem, cOff, np, m, n);
    }
    // Row chunks of A small enough to stay in L2 while every panel of B streams past them.
    const mc = Math.max(4, Math.min(mp, 4 * Math.floor(CHUNK_FLOATS / (4 * k))));
    for (let i0 = 0; i0 < mp; i0 += mc) {
      const rows = Math.min(mc, mp - i0);
      const pc = 4 * (cOff + i0 * np);
      if (transA) mod.gemm_tn(4 * (aOff + i0), 4 * bOff, pc, rows, np, k, accumulate ? 1 : 0, np, mp);
      else mod.gemm_nn(4 * (aOff + i0 * k), 4 * bOff, pc, rows, np, k, accumulate ? 1 : 0, np);
    }
    if (np === n) out.set(mem.subarray(cOff, cOff + m * n));
    else copyRows(mem, cOff, np, out, 0, n, m, n);
    return;
  }
  const aOff = 0;
  const bOff = mp * k;
  const cOff = bOff + np * k;
  const mem = floats(mod, cOff + mp * np);
  // A, row-major [mp, k], zero pad rows.
  if (!transA) mem.set(a.subarray(0, m * k), aOff);
  else {
    for (let kk = 0; kk < k; kk++) {
      const row = kk * m;
      for (let i = 0; i < m; i++) mem[aOff + i * k + kk] = a[row + i] as number;
    }
  }
  if (mp > m) mem.fill(0, aOff + m * k, aOff + mp * k);
  // B in panels of 8 columns: panel p, row kk → 8 floats at bOff + (p k + kk) 8.
  const panels = np / 8;
  if (!transB) {
    for (let p = 0; p < panels; p++) {
      const j0 = 8 * p;
      const w = Math.min(8, n - j0);
      const base = bOff + p * k * 8;
      if (w === 8) {
        for (let kk = 0; kk < k; kk++) {
          const src = kk * n + j0;
          const dst = base + kk * 8;
          mem[dst] = b[src] as number;
          mem[dst + 1] = b[src + 1] as number;
          mem[dst + 2] = b[src + 2] as number;
          mem[dst + 3] = b[src + 3] as number;
          mem[dst + 4] = b[src + 4] as number;
          mem[dst + 5] = b[src + 5] as number;
          mem[dst + 6] = b[src + 6] as number;
          mem[dst + 7] = b[src + 7] as number;
        }
      } else {
        mem.fill(0, base, base + k * 8);
        for (let kk = 0; kk < k; kk++) {
          for (let c = 0; c < w; c++) mem[base + kk * 8 + c] = b[kk * n + j0 + c] as number;
        }
      }
    }
  } else {
    if (np > n) {
      const last = bOff + (panels - 1) * k * 8;
      mem.fill(0, last, last + k * 8);
    }
    for (let j = 0; j < n; j++) {
      const base = bOff + (j >> 3) * k * 8 + (j & 7);
      const src = j * k;
      for (let kk = 0; kk < k; kk++) mem[base + kk * 8] = b[src + kk] as number;
    }
  }
  if (accumulate) {
    if (np === n) mem.set(out.subarray(0, m * n), cOff);
    else copyRows(out, 0, n, mem, cOff, np, m, n);
  }
  mod.gemm(4 * aOff, 4 * bOff, 4 * cOff, mp, np, k, accumulate ? 1 : 0);
  if (np === n) out.set(mem.subarray(cOff, cOff + m * n));
  else copyRows(mem, cOff, np, out, 0, n, m, n);
}

/** Copy `rows` rows of `len` floats between row strides (element loop for narrow rows: no subarrays). */
function copyRows(
  src: Float32Array,
  so: number,
  ss: number,
  dst: Float32Array,
  d0: number,
  ds: number,
  rows: number,
  len: number,
): void {
  if (len >= 64) {
    for (let i = 0; i < rows; i++) dst.set(src.subarray(so + i * ss, so + i * ss + len), d0 + i * ds);
    return;
  }
  for (let i = 0; i < rows; i++) {
    const a = so + i * ss;
    const b = d0 + i * ds;
    for (let j = 0; j < len; j++) dst[b + j] = src[a + j] as number;
  }
}

/** Scalar fallback of `sgemm` (float32 accumulation as the SIMD path). */
function sgemmScalar(
  a: Float32Array,
  b: Float32Array,
  out: Float32Array,
  m: number,
  n: number,
  k: number,
  transA: boolean,
  transB: boolean,
  accumulate: boolean,
): void {
  const row = new Float32Array(n);
  for (let i = 0; i < m; i++) {
    if (accumulate) row.set(out.subarray(i * n, i * n + n));
    else row.fill(0);
    for (let kk = 0; kk < k; kk++) {
      const av = (transA ? a[kk * m + i] : a[i * k + kk]) as number;
      if (av === 0) continue;
      if (!transB) {
        const off = kk * n;
        for (let j = 0; j < n; j++) row[j] = (row[j] as number) + av * (b[off + j] as number);
      } else {
        for (let j = 0; j < n; j++) row[j] = (row[j] as number) + av * (b[j * k + kk] as number);
      }
    }
    out.set(row, i * n);
  }
}
