/**
 * @gcvi/objective-contract — what an objective plugin implements. Types only: a plugin depends on
 * this package (and tfjs-core for tensors) and on nothing else of gcvi's.
 *
 * An objective is a plain value `{ name, requires, sampleBatch, loss }`. The fit loop calls
 * `sampleBatch` outside the gradient tape to draw what one step needs (simulated pairs, a
 * minibatch, noise), then differentiates `loss` with respect to the trainable parameters. The loss
 * reaches the parameters only through `ctx.q(x)` (the variational distribution the encoders give
 * for an observation) and through the problem's own trainable parameters, so it is a pure function
 * of (parameters, batch, loss seed): the NTK code and finite-difference tests can call it directly.
 */
import type { Scalar, Tensor } from '@tensorflow/tfjs-core';

/** Version of this contract; the registry refuses objectives written for another major version. */
export const OBJECTIVE_CONTRACT_VERSION = 1 as const;

/**
 * A seeded random stream: the structural view of `@gcvi/runtime`'s `Rng`, the one stream type of
 * gcvi (the trainer hands plugins an `Rng`). It is spelled out here so that a plugin can type its
 * streams without depending on the runtime; everything that takes a stream without importing the
 * runtime uses this interface, and `Rng` is checked to satisfy it.
 */
export interface RandomStream {
  /** Uniform in [0, 1). */
  uniform(): number;
  /** Standard normal. */
  normal(): number;
  /** Independent child stream; the same name gives the same stream. */
  split(name: string): RandomStream;
  /** Float32 tensor of normals with the given mean and standard deviation. */
  normalTensor(shape: number[], mean?: number, std?: number): Tensor;
  /** Float32 tensor of uniforms on [low, high). */
  uniformTensor(shape: number[], low?: number, high?: number): Tensor;
}

/**
 * The variational distribution q(θ | x) for a batch of observations. Shapes follow the usual
 * distribution libraries: `logProb(value)` takes `[...sampleShape, ...batchShape, ...eventShape]`
 * and returns `[...sampleShape, ...batchShape]`.
 */
export interface VariationalDistribution {
  readonly batchShape: readonly number[];
  readonly eventShape: readonly number[];
  logProb(value: Tensor): Tensor;
  /** `n` draws, shape `[n, ...batchShape, ...eventShape]`; not differentiable. */
  sample(n: number, rng: RandomStream): Tensor;
  /** Reparameterized draws (differentiable in the parameters), where the family allows it. */
  rsample?(n: number, rng: RandomStream): Tensor;
}

/** What an objective needs from the problem. */
export type Requirement =
  /** `problem.simulate`: joint draws (θ, x) from the prior and the model. */
  | 'simulator'
  /** `problem.observed`: the data the objective fits. */
  | 'observed'
  /** `problem.logJoint`: log p(θ, x) (prior plus likelihood), differentiable in θ. */
  | 'logJoint'
  /** `q(x).rsample`: a reparameterizable variational family. */
  | 'rsample';

/** A joint draw: latents `theta` and observations `x`, leading dimension = number of draws. */
export interface SimulatedPairs {
  readonly theta: Tensor;
  readonly x: Tensor;
}

/** The inference problem, as much of it as the objectives in use require. */
export interface Problem {
  /** Draw `n` pairs (θ, x) ~ p(θ) p(x | θ). */
  simulate?(n: number, rng: RandomStream): SimulatedPairs;
  /** Observed data: `[nObs, ...]`; objectives that fit data draw minibatches from it. */
  readonly observed?: Tensor;
  /**
   * log p(θ, x). `theta` is `[K, B, ...latent]` (K draws for each of B observations), `x` is
   * `[B, ...obs]`; returns `[K, B]`. May depend on the problem's own trainable parameters.
   */
  logJoint?(theta: Tensor, x: Tensor): Tensor;
}

/** Arguments of `sampleBatch`. */
export interface BatchContext<O> {
  readonly problem: Problem;
  readonly rng: RandomStream;
  readonly options: O;
  /** Batch size asked for by the caller of `fit` (simulated pairs, or observations per minibatch). */
  readonly batchSize: number;
  /** 0-based step index. */
  readonly step: number;
}

/** A batch: named tensors drawn by `sampleBatch`; the fit loop disposes them after the step. */
export type Batch = Readonly<Record<string, Tensor>>;

/** Arguments of `loss`. */
export interface LossContext<O> {
  readonly batch: Batch;
  readonly problem: Problem;
  readonly options: O;
  /** q(θ | x) at the current parameters, differentiable in them. */
  q(x: Tensor): VariationalDistribution;
  /** A stream for randomness inside the loss (e.g. reparameterized draws); seeded per step. */
  readonly rng: RandomStream;
}

/** An objective to minimize. `O` is its options object. */
export interface Objective<O = Record<string, unknown>> {
  /** Registry name, kebab-case (e.g. `forward-kl`). */
  readonly name: string;
  /** Contract major version the objective was written against. */
  readonly contractVersion: typeof OBJECTIVE_CONTRACT_VERSION;
  /** What the objective needs from the problem and the family. */
  readonly requires: readonly Requirement[];
  /** One line for reports and `list`. */
  readonly description: string;
  /** Default options. */
  readonly defaults: O;
  /**
   * Validate raw options (from a config file) merged over the defaults. Throw an Error whose
   * message names the offending field.
   */
  parseOptions(raw: unknown): O;
  /** Draw the step's batch (called outside the gradient). */
  sampleBatch(ctx: BatchContext<O>): Batch;
  /** The scalar to minimize. Must not read or write optimizer state. */
  loss(ctx: LossContext<O>): Scalar;
}

/** An objective with its options type erased (what registries and plugin lists hold). */
// biome-ignore lint/suspicious/noExplicitAny: the options type is erased where objectives are stored by name.
export type AnyObjective = Objective<any>;

/** What a plugin package exports (named export `objectives`). */
export interface ObjectivePluginModule {
  readonly objectives: readonly AnyObjective[];
}
