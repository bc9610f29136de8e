import type {
  AnyObjective,
  Batch,
  Problem,
  RandomStream,
  VariationalDistribution,
} from '@gcvi/objective-contract';
import type * as tf from '@tensorflow/tfjs-core';
import { registry as defaultRegistry } from './defaults.js';
import type { ObjectiveRegistry } from './registry.js';

export interface ObjectiveLossOptions<P> {
  /** An objective or a registered name. */
  readonly objective: AnyObjective | string;
  /** Raw options (parsed by the objective). */
  readonly objectiveOptions?: unknown;
  readonly registry?: ObjectiveRegistry;
  /** Parameters: tf.Variables or plain tensors (e.g. for `tf.grads` with respect to them). */
  readonly params: P;
  readonly variational: (params: P, x: tf.Tensor) => VariationalDistribution;
  readonly problem: Problem;
  /** A batch from `objective.sampleBatch`. */
  readonly batch: Batch;
  /** The loss's random stream (same stream position → same value). */
  readonly rng: RandomStream;
}

/**
 * The objective's loss at `params` on a given batch, outside `fit`: a pure function of
 * (params, batch, rng position), for Jacobian/NTK code and finite-difference checks. The caller
 * owns (and disposes) the returned scalar.
 */
export function objectiveLoss<P>(o: ObjectiveLossOptions<P>): tf.Scalar {
  const objective =
    typeof o.objective === 'string' ? (o.registry ?? defaultRegistry).get(o.objective) : o.objective;
  const options = objective.parseOptions(o.objectiveOptions);
  return objective.loss({
    batch: o.batch,
    problem: o.problem,
    options,
    q: (x) => o.variational(o.params, x),
    rng: o.rng,
  });
}
