import type { NamedTensors, ParamSpec } from '@gcvi/encoders';
import { ConfigError } from '@gcvi/runtime';
import * as tf from '@tensorflow/tfjs-core';
import type { Family, FamilyDistribution } from './types.js';
import { checkEta, columns, lastAxis } from './util.js';

/**
 * A product of independent families over consecutive blocks of θ, e.g. an angle and a real vector:
 * `productFamily([vonMisesFamily(), gaussianDiag({ dim: 3 })])` is a family over θ ∈ R⁴ whose first
 * coordinate is an angle. Encoder outputs are split the same way. It is an exponential family in
 * natural parameters exactly when every factor is. Factor k's own parameters are named `k/<name>`.
 */
export function productFamily(factors: readonly Family[]): Family {
  if (!Array.isArray(factors) || factors.length === 0) {
    throw new ConfigError('productFamily.factors', 'must be a non-empty array of families');
  }
  const dims = factors.map((f) => f.dim);
  const outs = factors.map((f) => f.outputSize);
  const dim = dims.reduce((a, b) => a + b, 0);
  const outputSize = outs.reduce((a, b) => a + b, 0);
  const spec = { kind: 'product', factors: factors.map((f) => f.spec) };
  const paramSpecs: ParamSpec[] = factors.flatMap((f, k) =>
    f.paramSpecs.map((p: ParamSpec): ParamSpec => ({ name: `${k}/${p.name}`, shape: p.shape })),
  );
  const own = (params: NamedTensors, k: number): NamedTensors => {
    const out: NamedTensors = {};
    for (const p of factors[k]!.paramSpecs) out[p.name] = params[`${k}/${p.name}`] as tf.Tensor;
    return out;
  };
  return {
    kind: spec.kind,
    spec,
    dim,
    eventShape: [dim],
    outputSize,
    exponentialFamily: factors.every((f) => f.exponentialFamily),
    circular: factors.flatMap((f) => [...f.circular]),
    paramSpecs,
    initParams(rng) {
      const out: NamedTensors = {};
      factors.forEach((f, k) => {
        const p = f.initParams(rng.split(`factor${k}`));
        for (const [n, t] of Object.entries(p)) out[`${k}/${n}`] = t as tf.Tensor;
      });
      return out;
    },
    distribution(eta, params) {
      checkEta(spec.kind, eta, outputSize);
      const parts: FamilyDistribution[] = [];
      const slices: tf.Tensor[] = [];
      let at = 0;
      factors.forEach((f, k) => {
        const e = columns(eta, at, f.outputSize);
        slices.push(e);
        parts.push(f.distribution(e, own(params, k)));
        at += f.outputSize;
      });
      const offsets = dims.map((_, k) => dims.slice(0, k).reduce((a, b) => a + b, 0));
      const concat = (fn: (d: FamilyDistribution) => tf.Tensor) =>
        tf.tidy(() => tf.concat(parts.map(fn), -1));
      return {
        batchShape: parts[0]!.batchShape,
        eventShape: [dim],
        logProb: (theta) =>
          tf.tidy(() => tf.addN(parts.map((d, k) => d.logProb(lastAxis(theta, offsets[k]!, dims[k]!))))),
        sample: (n, rng) => concat((d) => d.sample(n, rng)),
        mean: () => concat((d) => d.mean()),
        mode: () => concat((d) => d.mode()),
        dispose() {
          for (const d of parts) d.dispose();
          tf.dispose(slices);
        },
      };
    },
  };
}
