import * as tf from '@tensorflow/tfjs-core';

let done = false;

/**
 * tfjs 4.22 registers no gradient for `Conv2DBackpropFilter`, so a vector–Jacobian product through
 * a convolution cannot be differentiated again. Register the standard one (as in TensorFlow's
 * `_Conv2DBackpropFilterGrad`): for dW = backpropFilter(x, dy), d/dx = backpropInput(dy, g) and
 * d/d(dy) = conv2d(x, g). Called lazily by the double-VJP code; never overrides an existing one.
 */
export function ensureSecondOrderGradients(): void {
  if (done) return;
  done = true;
  if (tf.getGradient('Conv2DBackpropFilter') !== undefined) return;
  tf.registerGradient({
    kernelName: 'Conv2DBackpropFilter',
    inputsToSave: ['x', 'dy'],
    gradFunc: (g: tf.Tensor | tf.Tensor[], saved: tf.Tensor[], attrs: tf.NamedAttrMap) => {
      const [x, dy] = saved as [tf.Tensor4D, tf.Tensor4D];
      const grad = g as tf.Tensor4D;
      const { strides, pad, dataFormat, dimRoundingMode } = attrs as unknown as {
        strides: [number, number] | number;
        pad: 'valid' | 'same' | number;
        dataFormat: 'NHWC' | 'NCHW';
        dimRoundingMode?: 'floor' | 'round' | 'ceil';
      };
      return {
        x: () => tf.conv2dTranspose(dy, grad, x.shape, strides, pad as 'valid' | 'same', dimRoundingMode),
        dy: () =>
          tf.conv2d(
            x,
            grad,
            strides,
            pad as 'valid' | 'same',
            dataFormat === 'NHWC' ? 'NHWC' : 'NCHW',
            1,
            dimRoundingMode,
          ),
      };
    },
  });
}
