import * as tf from '@tensorflow/tfjs-core';

/** Evaluate a log-density at a float64 grid and integrate exp(·) by the trapezoid rule. */
export function integrate1d(logProb: (x: tf.Tensor) => tf.Tensor, lo: number, hi: number, n: number): number {
  const xs = new Float32Array(n + 1);
  for (let i = 0; i <= n; i++) xs[i] = lo + ((hi - lo) * i) / n;
  const lp = tf.tidy(() => logProb(tf.tensor1d(xs)).dataSync());
  let s = 0;
  for (let i = 0; i <= n; i++) s += (i === 0 || i === n ? 0.5 : 1) * Math.exp(lp[i] as number);
  return (s * (hi - lo)) / n;
}

/** Central finite difference of a float64 function. */
export function fd(f: (x: number) => number, x: number, h = 1e-6 * Math.max(1, Math.abs(x))): number {
  return (f(x + h) - f(x - h)) / (2 * h);
}

export function expectClose(got: number, want: number, tol: number, what = ''): void {
  if (!(Math.abs(got - want) <= tol)) {
    throw new Error(`${what}: got ${got}, want ${want} (|diff| ${Math.abs(got - want)} > ${tol})`);
  }
}

/** Sample mean and standard error of the mean of a Float32Array. */
export function meanSe(xs: ArrayLike<number>): [number, number] {
  let m = 0;
  for (let i = 0; i < xs.length; i++) m += xs[i] as number;
  m /= xs.length;
  let v = 0;
  for (let i = 0; i < xs.length; i++) v += ((xs[i] as number) - m) ** 2;
  v /= xs.length - 1;
  return [m, Math.sqrt(v / xs.length)];
}

/** log I0 in float64 by the power series / asymptotic expansion (test-side reference). */
export function refLogI0(k: number): number {
  if (k <= 20) {
    const y = (k * k) / 4;
    let t = 1;
    let s = 1;
    for (let j = 1; j < 400; j++) {
      t *= y / (j * j);
      s += t;
      if (t < 1e-18 * s) break;
    }
    return Math.log(s);
  }
  let s = 1;
  let t = 1;
  for (let j = 1; j < 40; j++) {
    const n = (t * (2 * j - 1) ** 2) / (8 * j * k);
    if (n > t) break;
    t = n;
    s += t;
  }
  return k - 0.5 * Math.log(2 * Math.PI * k) + Math.log(s);
}
