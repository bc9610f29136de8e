import type { Tensor } from '@tensorflow/tfjs-core';

/**
 * The random stream a sampler needs. `@gcvi/runtime`'s `Rng` and the objective contract's
 * `RandomStream` both satisfy it.
 */
export interface SampleStream {
  /** Uniform in [0, 1). */
  uniform(): number;
  /** Standard normal. */
  normal(): number;
  normalTensor(shape: number[], mean?: number, std?: number): Tensor;
  uniformTensor(shape: number[], low?: number, high?: number): Tensor;
}

/** Options shared by every constructor. */
export interface DistributionOptions {
  /**
   * Check parameter values (finite, positive, …) at construction. These checks read tensors
   * synchronously; pass `false` in hot loops. Shape checks always run. Default `true`.
   */
  validateArgs?: boolean;
}

/**
 * What every distribution offers. Shapes follow the usual libraries: `logProb` takes
 * `[...sample, ...batchShape, ...eventShape]` and returns `[...sample, ...batchShape]`; `sample(n)`
 * returns `[n, ...batchShape, ...eventShape]`.
 */
export interface Distribution {
  readonly batchShape: readonly number[];
  readonly eventShape: readonly number[];
  logProb(value: Tensor): Tensor;
  /** `n` seeded draws; not differentiable. */
  sample(n: number, rng: SampleStream): Tensor;
  /** Reparameterized draws, differentiable in the parameters (Normal, Uniform, Independent of those). */
  rsample?(n: number, rng: SampleStream): Tensor;
  mean?(): Tensor;
  mode?(): Tensor;
  /** Elementwise variance, shape `[...batchShape, ...eventShape]` (where it has a closed form). */
  variance?(): Tensor;
  entropy?(): Tensor;
  /** Free the tensors the distribution created (not the ones passed in). */
  dispose(): void;
}

/**
 * The exponential-family view: log p(x) = η·T(x) − A(η) + log h(x), with `T` stacked on a last
 * axis of size 2 for the two families here.
 */
export interface ExponentialFamily {
  /** T(x): `[..., 2]`. */
  sufficientStatistic(x: Tensor): Tensor;
  /** η: `[...batchShape, 2]`. */
  naturalParameters(): Tensor;
  /** A(η): `[...batchShape]`. */
  logPartition(): Tensor;
  /** E[T(x)] = ∇A(η): `[...batchShape, 2]`. */
  meanParameters(): Tensor;
  /** log h(x). */
  logBaseMeasure(x: Tensor): Tensor;
}
