/**
 * Float64 reference of the flow in plain JavaScript numbers, written independently of the tfjs code
 * (scalar loops, binary search for the bin), for checks against finite differences.
 */
import type { NsfSpec } from '../src/index.js';

export type RefParams = Record<string, { shape: number[]; values: Float64Array }>;

const LOG_2PI = Math.log(2 * Math.PI);

/** The RQ spline of one scalar with raw parameters `raw` (length 3K − 1), identity tails. */
export function refSpline(
  x: number,
  raw: ArrayLike<number>,
  K: number,
  B: number,
  inverse = false,
  minW = 1e-3,
  minH = 1e-3,
  minD = 1e-3,
): { y: number; logDet: number } {
  if (x < -B || x > B) return { y: x, logDet: 0 };
  const knotsOf = (off: number, min: number): number[] => {
    let mx = -Infinity;
    for (let k = 0; k < K; k++) mx = Math.max(mx, raw[off + k] as number);
    const e: number[] = [];
    let s = 0;
    for (let k = 0; k < K; k++) {
      e.push(Math.exp((raw[off + k] as number) - mx));
      s += e[k] as number;
    }
    const cum = [-B];
    let acc = 0;
    for (let k = 0; k < K; k++) {
      acc += min + (1 - min * K) * ((e[k] as number) / s);
      cum.push(k === K - 1 ? B : -B + 2 * B * acc);
    }
    return cum;
  };
  const cw = knotsOf(0, minW);
  const ch = knotsOf(K, minH);
  const c = Math.log(Math.expm1(1 - minD));
  const d = [1];
  for (let k = 0; k < K - 1; k++) {
    const r = (raw[2 * K + k] as number) + c;
    d.push(minD + (r > 30 ? r : Math.log1p(Math.exp(r))));
  }
  d.push(1);
  const edges = inverse ? ch : cw;
  let k = 0;
  while (k < K - 1 && x >= (edges[k + 1] as number)) k++;
  const x0 = cw[k] as number;
  const w = (cw[k + 1] as number) - x0;
  const y0 = ch[k] as number;
  const h = (ch[k + 1] as number) - y0;
  const s = h / w;
  const d0 = d[k] as number;
  const d1 = d[k + 1] as number;
  let xi: number;
  let y: number;
  if (!inverse) {
    xi = (x - x0) / w;
    const t = xi * (1 - xi);
    y = y0 + (h * (s * xi * xi + d0 * t)) / (s + (d0 + d1 - 2 * s) * t);
  } else {
    const dy = x - y0;
    const a = h * (s - d0) + dy * (d0 + d1 - 2 * s);
    const b = h * d0 - dy * (d0 + d1 - 2 * s);
    const cc = -s * dy;
    xi = (2 * cc) / (-b - Math.sqrt(b * b - 4 * a * cc));
    y = xi * w + x0;
  }
  const t = xi * (1 - xi);
  const den = s + (d0 + d1 - 2 * s) * t;
  const ld = Math.log(s * s * (d1 * xi * xi + 2 * s * t + d0 * (1 - xi) * (1 - xi))) - 2 * Math.log(den);
  return { y, logDet: inverse ? -ld : ld };
}

function dense(p: RefParams, name: string, input: number[]): number[] {
  const w = p[`${name}`];
  if (!w) throw new Error(`missing ${name}`);
  const [fi, fo] = w.shape as [number, number];
  const out = new Array<number>(fo).fill(0);
  for (let i = 0; i < fi; i++) {
    const xi = input[i] as number;
    for (let o = 0; o < fo; o++) out[o] += xi * (w.values[i * fo + o] as number);
  }
  return out;
}

/** θ → z and log |det ∂z/∂θ| for one point, in float64. */
export function refForward(
  spec: NsfSpec,
  p: RefParams,
  theta: readonly number[],
  context: readonly number[],
): { z: number[]; logDet: number } {
  const K = spec.bins;
  const P = 3 * K - 1;
  let v = [...theta];
  let logDet = 0;
  if (spec.box) {
    v = v.map((t, i) => {
      const lo = spec.box!.low[i] as number;
      const wd = (spec.box!.high[i] as number) - lo;
      const q = (t - lo) / wd;
      logDet -= Math.log(wd) + Math.log(q) + Math.log(1 - q);
      return Math.log(q) - Math.log(1 - q);
    });
  }
  if (spec.standardize) {
    const st = spec.standardize;
    v = v.map((u, i) => {
      logDet -= Math.log(st.std[i] as number);
      return (u - (st.mean[i] as number)) / (st.std[i] as number);
    });
  }
  const dA = Math.floor(spec.dim / 2);
  const dB = spec.dim - dA;
  for (let l = 0; l < spec.layers; l++) {
    const perm = spec.permutations[l] as number[];
    v = perm.map((j) => v[j] as number);
    const input = [...v.slice(0, dA), ...context];
    let h: number[];
    const nLin = input.length === 0 ? 1 : spec.depth + 1;
    if (input.length === 0) {
      h = Array.from(p[`c${l}.b0`]!.values);
    } else {
      h = input;
      for (let j = 0; j < nLin; j++) {
        const b = p[`c${l}.b${j}`]!.values;
        h = dense(p, `c${l}.w${j}`, h).map((a, o) => a + (b[o] as number));
        if (j < nLin - 1) h = h.map((a) => (spec.activation === 'relu' ? Math.max(a, 0) : Math.tanh(a)));
      }
    }
    const out = [...v];
    for (let j = 0; j < dB; j++) {
      const r = refSpline(v[dA + j] as number, h.slice(j * P, (j + 1) * P), K, spec.bound);
      out[dA + j] = r.y;
      logDet += r.logDet;
    }
    v = out;
    if (spec.lu) {
      // z = L·U·v + b, L unit lower, U upper with diagonal softplus(raw) + 1e-3.
      const d = spec.dim;
      const lower = p[`lu${l}.lower`]!.values;
      const upper = p[`lu${l}.upper`]!.values;
      const diag = Array.from(p[`lu${l}.diag`]!.values, (r) => Math.log1p(Math.exp(r)) + 1e-3);
      const bias = p[`lu${l}.bias`]!.values;
      const uv = v.map((_, i) => {
        let acc = (diag[i] as number) * (v[i] as number);
        for (let j = i + 1; j < d; j++) acc += (upper[i * d + j] as number) * (v[j] as number);
        return acc;
      });
      v = uv.map((_, i) => {
        let acc = uv[i] as number;
        for (let j = 0; j < i; j++) acc += (lower[i * d + j] as number) * (uv[j] as number);
        return acc + (bias[i] as number);
      });
      logDet += diag.reduce((a, u) => a + Math.log(u), 0);
    }
  }
  return { z: v, logDet };
}

export function refLogProb(spec: NsfSpec, p: RefParams, theta: number[], context: number[]): number {
  const { z, logDet } = refForward(spec, p, theta, context);
  return -0.5 * z.reduce((a, b) => a + b * b, 0) - 0.5 * spec.dim * LOG_2PI + logDet;
}

/** log |det J| of a map R^d → R^d at a point by central differences (float64). */
export function fdLogAbsDet(f: (x: number[]) => number[], x: number[], h = 1e-6): number {
  const d = x.length;
  const J: number[][] = Array.from({ length: d }, () => new Array<number>(d).fill(0));
  for (let j = 0; j < d; j++) {
    const xp = [...x];
    const xm = [...x];
    xp[j] = (xp[j] as number) + h;
    xm[j] = (xm[j] as number) - h;
    const fp = f(xp);
    const fm = f(xm);
    for (let i = 0; i < d; i++) (J[i] as number[])[j] = ((fp[i] as number) - (fm[i] as number)) / (2 * h);
  }
  // LU with partial pivoting.
  let logDet = 0;
  for (let c = 0; c < d; c++) {
    let piv = c;
    for (let r = c + 1; r < d; r++) if (Math.abs(J[r]![c]!) > Math.abs(J[piv]![c]!)) piv = r;
    [J[c], J[piv]] = [J[piv]!, J[c]!];
    const pv = J[c]![c]!;
    logDet += Math.log(Math.abs(pv));
    for (let r = c + 1; r < d; r++) {
      const f2 = J[r]![c]! / pv;
      for (let k = c; k < d; k++) J[r]![k]! -= f2 * J[c]![k]!;
    }
  }
  return logDet;
}
