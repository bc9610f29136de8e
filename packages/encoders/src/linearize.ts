// @gcvi/kernels registers the second-order gradients double-VJP needs (fused dense, Conv2DBackpropFilter).
import '@gcvi/kernels';
import { ConfigError, type Rng, ShapeError } from '@gcvi/runtime';
import * as tf from '@tensorflow/tfjs-core';
import { checkParams } from './params.js';
import type { Encoder, EncoderSpec, NamedTensors } from './types.js';

export type JvpMethod = 'auto' | 'closed-form' | 'double-vjp';

function checkTangent(encoder: Encoder, tangent: NamedTensors): void {
  for (const s of encoder.paramSpecs) {
    const t = tangent?.[s.name];
    if (t === undefined) throw new ConfigError(`tangent.${s.name}`, 'missing tangent for this parameter');
    if (t.shape.length !== s.shape.length || t.shape.some((d, i) => d !== s.shape[i])) {
      throw new ShapeError(`tangent.${s.name}`, `[${s.shape.join(', ')}]`, t.shape);
    }
  }
}

/**
 * J_φ f(x; φ0) · v for any encoder, without forward-mode autodiff: u ↦ vjp(u) = J0ᵀ u is linear in
 * u, so differentiating ⟨vjp(u), v⟩ with respect to u (at u = 0) gives J0 v. Costs one forward
 * pass and two backward passes. The result is differentiable in `tangent` (and so trainable).
 */
export function jvpByDoubleVjp(
  encoder: Encoder,
  params0: NamedTensors,
  x: tf.Tensor,
  tangent: NamedTensors,
): tf.Tensor {
  const names = encoder.paramSpecs.map((s) => s.name);
  return tf.tidy(() => {
    const p0 = names.map((n) => params0[n] as tf.Tensor);
    const f = (...ps: tf.Tensor[]): tf.Tensor => {
      const p: NamedTensors = {};
      for (let i = 0; i < names.length; i++) p[names[i]!] = ps[i]!;
      return encoder.apply(p, x);
    };
    const outShape = tf.tidy(() => encoder.apply(params0, x)).shape;
    const u0 = tf.zeros(outShape);
    return tf.grad((u: tf.Tensor) => {
      const gs = tf.grads(f)(p0, u);
      let acc: tf.Tensor | null = null;
      for (let i = 0; i < names.length; i++) {
        const term = tf.sum(tf.mul(gs[i]!, tangent[names[i]!] as tf.Tensor));
        acc = acc === null ? term : tf.add(acc, term);
      }
      return acc as tf.Scalar;
    })(u0);
  });
}

/**
 * Jacobian–vector product J_φ f(x; φ0) · tangent of any encoder. `method`: 'closed-form' uses the
 * encoder's own `jvp` (dense networks have one), 'double-vjp' the general trick, 'auto' (default)
 * the closed form when the encoder has one.
 */
export function jvp(
  encoder: Encoder,
  params0: NamedTensors,
  x: tf.Tensor,
  tangent: NamedTensors,
  options: { method?: JvpMethod } = {},
): tf.Tensor {
  const method = options.method ?? 'auto';
  if (!['auto', 'closed-form', 'double-vjp'].includes(method)) {
    throw new ConfigError(
      'method',
      `unknown jvp method '${String(method)}'; use auto, closed-form or double-vjp`,
    );
  }
  checkParams('params0', params0, encoder.paramSpecs);
  checkTangent(encoder, tangent);
  if (method === 'double-vjp' || (method === 'auto' && encoder.jvp === undefined)) {
    return jvpByDoubleVjp(encoder, params0, x, tangent);
  }
  if (encoder.jvp === undefined) {
    throw new ConfigError(
      'method',
      `encoder '${encoder.spec.kind}' has no closed-form jvp; use 'double-vjp'`,
    );
  }
  const { primal, tangent: out } = encoder.jvp(params0, x, tangent);
  primal.dispose();
  return out;
}

export interface LinearizedSpec extends EncoderSpec {
  readonly kind: 'linearized';
  readonly base: EncoderSpec;
}

export interface LinearizedEncoder extends Encoder {
  readonly spec: LinearizedSpec;
  readonly base: Encoder;
  /** The expansion point φ0 (owned copies; free them with `dispose`). */
  readonly params0: NamedTensors;
  /** Free the stored copy of φ0. */
  dispose(): void;
}

/**
 * The linearized twin of `encoder` around `params0`:
 * f_lin(x; φ) = f(x; φ0) + J_φ f(x; φ0) (φ − φ0). Same `paramSpecs` as the encoder, trainable
 * like it (it is linear in φ). `init` returns copies of φ0 (the twin starts where the network
 * does; the rng is not used). Uses the encoder's closed-form `jvp` when it has one (dense), the
 * double-VJP trick otherwise. `params0` is copied, so the caller may dispose or train its own.
 */
export function linearize(
  encoder: Encoder,
  params0: NamedTensors,
  options: { method?: JvpMethod } = {},
): LinearizedEncoder {
  checkParams('params0', params0, encoder.paramSpecs);
  const method = options.method ?? 'auto';
  if (!['auto', 'closed-form', 'double-vjp'].includes(method)) {
    throw new ConfigError(
      'method',
      `unknown jvp method '${String(method)}'; use auto, closed-form or double-vjp`,
    );
  }
  if (method === 'closed-form' && encoder.jvp === undefined) {
    throw new ConfigError(
      'method',
      `encoder '${encoder.spec.kind}' has no closed-form jvp; use 'double-vjp'`,
    );
  }
  const useClosed = method !== 'double-vjp' && encoder.jvp !== undefined;
  const names = encoder.paramSpecs.map((s) => s.name);
  const p0: NamedTensors = {};
  for (const n of names) p0[n] = tf.keep(tf.clone(params0[n] as tf.Tensor));

  const lin: LinearizedEncoder = {
    spec: { kind: 'linearized', base: encoder.spec },
    paramSpecs: encoder.paramSpecs,
    outputSize: encoder.outputSize,
    base: encoder,
    params0: p0,
    init(_rng: Rng): NamedTensors {
      const out: NamedTensors = {};
      for (const n of names) out[n] = tf.clone(p0[n] as tf.Tensor);
      return out;
    },
    apply(params: NamedTensors, x: tf.Tensor): tf.Tensor {
      return tf.tidy(() => {
        const delta: NamedTensors = {};
        for (const n of names) delta[n] = tf.sub(params[n] as tf.Tensor, p0[n] as tf.Tensor);
        if (useClosed) {
          const r = (encoder.jvp as NonNullable<Encoder['jvp']>)(p0, x, delta);
          return tf.add(r.primal, r.tangent);
        }
        return tf.add(encoder.apply(p0, x), jvpByDoubleVjp(encoder, p0, x, delta));
      });
    },
    dispose(): void {
      for (const n of names) (p0[n] as tf.Tensor).dispose();
    },
  };
  return lin;
}
