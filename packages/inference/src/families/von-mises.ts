import { Independent, VonMises } from '@gcvi/distributions';
import * as tf from '@tensorflow/tfjs-core';
import type { Family } from './types.js';
import { checkDim, checkEta } from './util.js';

export interface VonMisesFamilyOptions {
  /** Number of independent angles (default 1). */
  readonly dim?: number;
}

/**
 * Independent von Mises distributions, one per angle, in natural parameters: two encoder outputs
 * η = κ(cos μ, sin μ) ∈ R² per angle, log q(θ | η) = η·(cos θ, sin θ) − log(2π I0(‖η‖)). An
 * exponential family in natural parameters with no constraint on η (η = 0 is the uniform
 * distribution and keeps finite gradients): L_P is convex in η. Samples lie in [−π, π); the
 * density is 2π-periodic, so θ may be given in any interval.
 */
export function vonMisesFamily(options: VonMisesFamilyOptions = {}): Family {
  const dim = checkDim('vonMises.dim', options.dim ?? 1);
  const spec = { kind: 'von-mises', dim };
  return {
    kind: spec.kind,
    spec,
    dim,
    eventShape: [dim],
    outputSize: 2 * dim,
    exponentialFamily: true,
    circular: new Array(dim).fill(true),
    paramSpecs: [],
    initParams: () => ({}),
    distribution(eta) {
      const b = checkEta(spec.kind, eta, 2 * dim);
      const e = tf.reshape(eta, [b, dim, 2]);
      const base = VonMises.fromNatural(e, { validateArgs: false });
      const ind = new Independent(base, 1);
      return {
        batchShape: ind.batchShape,
        eventShape: ind.eventShape,
        logProb: (theta) => ind.logProb(theta),
        sample: (n, rng) => ind.sample(n, rng),
        mean: () => base.mean(),
        mode: () => base.mode(),
        dispose() {
          base.dispose();
          e.dispose();
        },
      };
    },
  };
}
