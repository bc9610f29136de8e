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

/** A float32 tensor inside a JSON spec: shape and the little-endian bytes in base64 (exact). */
export interface SpecTensor {
  readonly dtype: 'float32';
  readonly shape: readonly number[];
  readonly base64: string;
}

export interface LinearizedSpec extends EncoderSpec {
  readonly kind: 'linearized';
  readonly base: EncoderSpec;
  /** The JVP method the twin was built with. */
  readonly method: JvpMethod;
  /** The expansion point φ0, bit for bit, so `encoderFromSpec(spec)` rebuilds the same twin. */
  readonly params0: Readonly<Record<string, SpecTensor>>;
}

/** Encode a float32 tensor for a JSON spec (bit-exact). */
export function specTensor(t: tf.Tensor): SpecTensor {
  if (t.dtype !== 'float32') throw new ConfigError('params0', `must be float32, got ${t.dtype}`);
  const values = t.dataSync() as Float32Array;
  const bytes = new Uint8Array(values.length * 4);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < values.length; i++) view.setFloat32(4 * i, values[i] as number, true);
  let bin = '';
  for (let i = 0; i < bytes.length; i += 0x8000) {
    bin += String.fromCharCode(...bytes.subarray(i, Math.min(i + 0x8000, bytes.length)));
  }
  return { dtype: 'float32', shape: [...t.shape], base64: btoa(bin) };
}

/** Decode a `SpecTensor` (errors name `field`). */
export function fromSpecTensor(field: string, st: SpecTensor): tf.Tensor {
  if (st === null || typeof st !== 'object' || st.dtype !== 'float32' || !Array.isArray(st.shape)) {
    throw new ConfigError(field, 'expected { dtype: "float32", shape: number[], base64: string }');
  }
  if (!st.shape.every((d) => Number.isInteger(d) && d >= 0)) {
    throw new ConfigError(`${field}.shape`, `must be non-negative integers, got [${st.shape.join(', ')}]`);
  }
  let bin: string;
  try {
    bin = atob(st.base64);
  } catch {
    throw new ConfigError(`${field}.base64`, 'is not valid base64');
  }
  const n = st.shape.reduce((a, b) => a * b, 1);
  if (bin.length !== 4 * n) {
    throw new ConfigError(
      `${field}.base64`,
      `holds ${bin.length} bytes, shape [${st.shape.join(', ')}] needs ${4 * n}`,
    );
  }
  const view = new DataView(new ArrayBuffer(bin.length));
  for (let i = 0; i < bin.length; i++) view.setUint8(i, bin.charCodeAt(i));
  const values = new Float32Array(n);
  for (let i = 0; i < n; i++) values[i] = view.getFloat32(4 * i, true);
  return tf.tensor(values, [...st.shape], 'float32');
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

  const specParams0: Record<string, SpecTensor> = {};
  for (const n of names) specParams0[n] = specTensor(p0[n] as tf.Tensor);

  const lin: LinearizedEncoder = {
    spec: { kind: 'linearized', base: encoder.spec, method, params0: specParams0 },
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
