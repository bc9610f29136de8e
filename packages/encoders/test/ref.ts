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
