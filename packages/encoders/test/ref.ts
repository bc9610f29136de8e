/** Plain-JS float64 reference helpers for tests. */
import type * as tf from '@tensorflow/tfjs-core';

export type Mat = { rows: number; cols: number; data: Float64Array };

export function toMat(t: tf.Tensor): Mat {
  const [rows, cols] = t.shape as [number, number];
  return { rows, cols, data: Float64Array.from(t.dataSync()) };
}

export function matmul(a: Mat, b: Mat): Mat {
  const out = new Float64Array(a.rows * b.cols);
  for (let i = 0; i < a.rows; i++)
    for (let k = 0; k < a.cols; k++) {
      const v = a.data[i * a.cols + k]!;
      for (let j = 0; j < b.cols; j++) out[i * b.cols + j]! += v * b.data[k * b.cols + j]!;
    }
  return { rows: a.rows, cols: b.cols, data: out };
}

export function mapMat(a: Mat, f: (v: number) => number): Mat {
  return { rows: a.rows, cols: a.cols, data: a.data.map(f) };
}

/** The NTK dense net in float64: relu(x w0) → (· w_l)/√fanIn … */
export function denseRef(x: Mat, ws: Mat[]): Mat {
  let h = x;
  ws.forEach((w, l) => {
    let pre = matmul(h, w);
    if (l > 0) pre = mapMat(pre, (v) => v / Math.sqrt(w.rows));
    h = l < ws.length - 1 ? mapMat(pre, (v) => Math.max(v, 0)) : pre;
  });
  return h;
}

export function addScaled(a: Mat, b: Mat, s: number): Mat {
  return { rows: a.rows, cols: a.cols, data: a.data.map((v, i) => v + s * b.data[i]!) };
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

export function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]!));
  return m;
}

// ---- Set Transformer reference (float64, one set at a time) ----
export type Rows = number[][];
export type P64 = Record<string, { shape: number[]; data: Float64Array }>;

export function toP64(p: Record<string, tf.Tensor>): P64 {
  const out: P64 = {};
  for (const [k, t] of Object.entries(p)) out[k] = { shape: t.shape, data: Float64Array.from(t.dataSync()) };
  return out;
}

export function perturb(p: P64, v: P64, h: number): P64 {
  const out: P64 = {};
  for (const [k, t] of Object.entries(p))
    out[k] = { shape: t.shape, data: t.data.map((x, i) => x + h * v[k]!.data[i]!) };
  return out;
}

function rowsOf(t: { shape: number[]; data: Float64Array }): Rows {
  const [r, c] = t.shape as [number, number];
  return Array.from({ length: r }, (_, i) => Array.from(t.data.subarray(i * c, (i + 1) * c)));
}

function linRef(x: Rows, p: P64, prefix: string): Rows {
  const w = rowsOf(p[`${prefix}w`]!);
  const b = p[`${prefix}b`]!.data;
  return x.map((row) => Array.from(b, (bj, j) => bj + row.reduce((s, xi, i) => s + xi * w[i]![j]!, 0)));
}

export function attentionRef(q: Rows, k: Rows, v: Rows, heads: number, scale?: number): Rows {
  const d = q[0]!.length;
  const dh = d / heads;
  const s = scale ?? 1 / Math.sqrt(d);
  const out = q.map(() => new Array<number>(d).fill(0));
  for (let h = 0; h < heads; h++) {
    for (let i = 0; i < q.length; i++) {
      const logits = k.map((kr) => {
        let dot = 0;
        for (let c = h * dh; c < (h + 1) * dh; c++) dot += q[i]![c]! * kr[c]!;
        return dot * s;
      });
      const m = Math.max(...logits);
      const e = logits.map((l) => Math.exp(l - m));
      const z = e.reduce((a, b) => a + b, 0);
      for (let j = 0; j < k.length; j++)
        for (let c = h * dh; c < (h + 1) * dh; c++) out[i]![c]! += (e[j]! / z) * v[j]![c]!;
    }
  }
  return out;
}

export function mabRef(x: Rows, y: Rows, p: P64, prefix: string, heads: number): Rows {
  const q = linRef(x, p, `${prefix}fc_q.`);
  const k = linRef(y, p, `${prefix}fc_k.`);
  const v = linRef(y, p, `${prefix}fc_v.`);
  const a = attentionRef(q, k, v, heads);
  const h = q.map((r, i) => r.map((val, j) => val + a[i]![j]!));
  const o = linRef(h, p, `${prefix}fc_o.`);
  return h.map((r, i) => r.map((val, j) => val + Math.max(0, o[i]![j]!)));
}

/** SAB → SAB → PMA → Linear for one set `x` `[n, in]`; returns `[seeds, out]`. */
export function setTransformerRef(x: Rows, p: P64, heads: number): Rows {
  const h0 = mabRef(x, x, p, 'sab0.', heads);
  const h1 = mabRef(h0, h0, p, 'sab1.', heads);
  const pooled = mabRef(rowsOf(p['pma.S']!), h1, p, 'pma.', heads);
  return linRef(pooled, p, 'out.');
}

// ---- conv nets (float64, one image at a time, NHWC) ----
/** 3×3 stride-2 'valid' convolution + bias + ReLU on an [h, w, c] image. */
export function convReluRef(x: Float64Array, h: number, w: number, c: number, p: P64, prefix: string) {
  const wt = p[`${prefix}w`]!;
  const co = wt.shape[3]!;
  const b = p[`${prefix}b`]!.data;
  const ho = Math.floor((h - 3) / 2) + 1;
  const wo = Math.floor((w - 3) / 2) + 1;
  const out = new Float64Array(ho * wo * co);
  for (let oy = 0; oy < ho; oy++)
    for (let ox = 0; ox < wo; ox++)
      for (let o = 0; o < co; o++) {
        let s = b[o]!;
        for (let ky = 0; ky < 3; ky++)
          for (let kx = 0; kx < 3; kx++)
            for (let i = 0; i < c; i++)
              s += x[((2 * oy + ky) * w + 2 * ox + kx) * c + i]! * wt.data[((ky * 3 + kx) * c + i) * co + o]!;
        out[(oy * wo + ox) * co + o] = Math.max(0, s);
      }
  return { data: out, h: ho, w: wo, c: co };
}

/** x [in] · W + b with W stored [in, out] (or [out, in] when `torch`). */
export function affineRef(
  x: ArrayLike<number>,
  w: { shape: number[]; data: Float64Array },
  b: Float64Array,
  torch = false,
) {
  const dout = b.length;
  const din = x.length;
  const out = new Float64Array(dout);
  for (let j = 0; j < dout; j++) {
    let s = b[j]!;
    for (let i = 0; i < din; i++) s += x[i]! * w.data[torch ? j * din + i : i * dout + j]!;
    out[j] = s;
  }
  return out;
}

function convStack(img: ArrayLike<number>, p: P64) {
  let t = { data: Float64Array.from(img), h: 28, w: 28, c: 1 };
  for (const l of ['conv0.', 'conv1.', 'conv2.']) t = convReluRef(t.data, t.h, t.w, t.c, p, l);
  return t.data;
}

export function latentRef(img: ArrayLike<number>, p: P64): Float64Array {
  const z = affineRef(convStack(img, p), p['fc0.w']!, p['fc0.b']!.data).map((v) => Math.max(0, v));
  return affineRef(z, p['out.w']!, p['out.b']!.data);
}

export function angleRef(img: ArrayLike<number>, p: P64, slope = 0.01): Float64Array {
  let z = convStack(img, p);
  for (const l of ['fc0.', 'fc1.', 'fc2.'])
    z = affineRef(z, p[`${l}w`]!, p[`${l}b`]!.data).map((v) => (v > 0 ? v : slope * v));
  return affineRef(z, p['out.w']!, p['out.b']!.data);
}

export function generatorRef(z: ArrayLike<number>, p: P64): Float64Array {
  let h = affineRef(z, p['0.weight']!, p['0.bias']!.data, true).map((v) => Math.max(0, v));
  h = affineRef(h, p['2.weight']!, p['2.bias']!.data, true).map((v) => Math.max(0, v));
  return affineRef(h, p['4.weight']!, p['4.bias']!.data, true).map(Math.tanh);
}
