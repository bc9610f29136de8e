import * as tf from '@tensorflow/tfjs-core';

/**
 * Evaluate `fn` (comparisons, logical ops) on tensors that may be on the gradient tape, with the
 * result cut off from it: tfjs registers no gradient for Less/Greater/LogicalAnd, so a mask for
 * `tf.where` built from differentiated tensors must not be recorded.
 */
export function detached(fn: (...xs: tf.Tensor[]) => tf.Tensor, ...inputs: tf.Tensor[]): tf.Tensor {
  const f = tf.customGrad((...args: unknown[]) => {
    const xs = args.slice(0, -1) as tf.Tensor[];
    (args[args.length - 1] as tf.GradSaveFunc)(xs);
    return {
      value: fn(...xs),
      gradFunc: (_dy: tf.Tensor, saved: tf.Tensor[]) => saved.map((t) => tf.zerosLike(t)),
    };
  }) as unknown as (...xs: tf.Tensor[]) => tf.Tensor;
  return f(...inputs);
}

const COMPARE = {
  less: tf.less,
  lessEqual: tf.lessEqual,
  greater: tf.greater,
  greaterEqual: tf.greaterEqual,
} as const;

/** `a op b` as a boolean mask carrying no gradient (see `detached`). */
export function detachedCompare(op: keyof typeof COMPARE, a: tf.Tensor, b: tf.Tensor | number): tf.Tensor {
  if (typeof b === 'number') return detached((x) => COMPARE[op](x, b), a);
  return detached((x, y) => COMPARE[op](x as tf.Tensor, y as tf.Tensor), a, b);
}
