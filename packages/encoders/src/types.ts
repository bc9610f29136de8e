import type { Rng } from '@gcvi/runtime';
import type * as tf from '@tensorflow/tfjs-core';

/** Parameters by name. Order of `paramSpecs` defines the flat-vector layout. */
export type NamedTensors = Record<string, tf.Tensor>;

/** One parameter tensor of an encoder. */
export interface ParamSpec {
  readonly name: string;
  readonly shape: readonly number[];
}

/** JSON-serializable description of an encoder's architecture (enough to rebuild it). */
export interface EncoderSpec {
  readonly kind: string;
  readonly [key: string]: unknown;
}

/**
 * An encoder is a pure function of (parameters, input). It owns no variables: the caller keeps
 * the parameters (as tf.Variables for training, as plain tensors for Jacobians), so the same
 * encoder can be differentiated, linearized and trained.
 */
export interface Encoder {
  readonly spec: EncoderSpec;
  /** Parameter names and shapes, in flat-vector order. */
  readonly paramSpecs: readonly ParamSpec[];
  /** Size of the last output dimension. */
  readonly outputSize: number;
  /** Fresh parameters drawn from the encoder's initialization. */
  init(rng: Rng): NamedTensors;
  /** Output for a batch of inputs: `[batch, outputSize]` (leading dims follow the input's batch). */
  apply(params: NamedTensors, x: tf.Tensor): tf.Tensor;
  /**
   * Optional closed-form forward-mode derivative at `params0`: the output f(x; φ0) and the
   * Jacobian–vector product J_φ f(x; φ0) · tangent in one pass (`tangent` has the parameters'
   * names and shapes). `linearize` and `jvp` use it when present instead of the double-VJP trick.
   */
  jvp?(params0: NamedTensors, x: tf.Tensor, tangent: NamedTensors): { primal: tf.Tensor; tangent: tf.Tensor };
}
