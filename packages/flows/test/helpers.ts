import { type Nsf, type NsfOptions, type NsfParams, nsf } from '@gcvi/flows';
import { createRng, type Rng } from '@gcvi/runtime';
import * as tf from '@tensorflow/tfjs-core';
import type { RefParams } from './ref.js';

/**
 * A flow with parameters far from the identity: PyTorch-default weights everywhere (initScale 1)
 * and N(0, biasSd²) biases on the conditioners' last layers, so the splines bend visibly; the LU
 * layers' off-diagonal entries N(0, luSd²) and raw diagonal N(raw₁, (5/3·luSd)²) around the
 * identity's raw₁ (default luSd = 0.3·biasSd).
 */
export function bentFlow(
  options: NsfOptions,
  seed = 1,
  biasSd = 1,
  luSd = 0.3 * biasSd,
): { flow: Nsf; params: NsfParams; rng: Rng } {
  const flow = nsf({ initScale: 1, ...options });
  const rng = createRng(seed);
  const params = flow.init(rng.split('init'));
  const b = rng.split('bias');
  for (const name of Object.keys(params)) {
    const last = Object.keys(params)
      .filter((k) => k.startsWith(name.split('.')[0] as string) && k.includes('.b'))
      .sort()
      .pop();
    if (name.startsWith('lu')) {
      const old = params[name] as tf.Tensor;
      const sd = name.endsWith('.diag') ? (5 / 3) * luSd : luSd;
      params[name] = tf.add(old, b.split(name).normalTensor(old.shape, 0, sd));
      old.dispose();
    } else if (name === last) {
      const old = params[name] as tf.Tensor;
      params[name] = tf.add(old, b.normalTensor(old.shape, 0, biasSd));
      old.dispose();
    }
  }
  return { flow, params, rng };
}

export function refParams(params: NsfParams): RefParams {
  const out: RefParams = {};
  for (const [k, t] of Object.entries(params)) {
    out[k] = { shape: [...t.shape], values: Float64Array.from(t.dataSync()) };
  }
  return out;
}

export function rows(t: tf.Tensor): number[][] {
  return t.arraySync() as number[][];
}
