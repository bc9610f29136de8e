import type { SampleStream } from '@gcvi/distributions';
import type { NamedTensors, ParamSpec } from '@gcvi/encoders';
import type { Rng } from '@gcvi/runtime';
import type * as tf from '@tensorflow/tfjs-core';

/** JSON description of a family: enough for `familyFromSpec` to rebuild it. */
export interface FamilySpec {
  readonly kind: string;
  readonly [key: string]: unknown;
}

/**
 * q(θ | η) for a batch of B observations: batch shape `[B]`, event shape `[dim]` (θ is a flat
 * vector; angles are coordinates flagged in `Family.circular`).
 */
export interface FamilyDistribution {
  readonly batchShape: readonly number[];
  readonly eventShape: readonly number[];
  /** `[..., B, dim]` → `[..., B]`; differentiable in the encoder outputs and family parameters. */
  logProb(theta: tf.Tensor): tf.Tensor;
  /** `n` draws, `[n, B, dim]`; not differentiable. Angles are wrapped into [−π, π). */
  sample(n: number, rng: SampleStream): tf.Tensor;
  /** Reparameterized draws where the family allows them (Gaussian families). */
  rsample?(n: number, rng: SampleStream): tf.Tensor;
  /** Mean, `[B, dim]`; on circular coordinates the circular mean direction. */
  mean(): tf.Tensor;
  /** Mode, `[B, dim]` (for mixtures: the highest-density component mean, see the family). */
  mode(): tf.Tensor;
  /** Free the tensors the distribution created. */
  dispose(): void;
}

/**
 * A variational family: maps the encoder's outputs η (`[B, outputSize]`) to q(θ | η). Every
 * family says whether it is an exponential family in natural parameters — then
 * log q(θ | η) = η·T(θ) − A(η) + log h(θ) is concave in η and the expected forward KL L_P is
 * convex in η, the condition of the paper's convergence result — and which coordinates of θ are
 * angles. A family may own trainable parameters (`paramSpecs`, `initParams`), e.g. the weights
 * of a conditional normalizing flow that takes the encoder's outputs as its context: they are
 * trained with the encoder and saved with the posterior under `family/<name>`.
 */
export interface Family {
  readonly kind: string;
  /** JSON spec (round-trips through `familyFromSpec`). */
  readonly spec: FamilySpec;
  /** Size of θ. */
  readonly dim: number;
  readonly eventShape: readonly number[];
  /** How many encoder outputs the family consumes (the encoder's `outputSize`). */
  readonly outputSize: number;
  /**
   * True when q is an exponential family whose natural parameters are (a smooth, gradient-keeping
   * reparameterization of) the encoder outputs: L_P is then convex in η.
   */
  readonly exponentialFamily: boolean;
  /** Per coordinate of θ: true for an angle (period 2π). */
  readonly circular: readonly boolean[];
  /** Trainable parameters owned by the family itself (empty for most). */
  readonly paramSpecs: readonly ParamSpec[];
  /** Initial values of the family's own parameters (`{}` when it has none). */
  initParams(rng: Rng): NamedTensors;
  /** q(θ | η) for encoder outputs `eta` `[B, outputSize]` and the family's own parameters. */
  distribution(eta: tf.Tensor, params: NamedTensors): FamilyDistribution;
}
