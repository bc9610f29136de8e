import * as tf from '@tensorflow/tfjs-core';

/** tfjs's kernel name of the filter gradient of a 2-D convolution. */
export const Conv2DBackpropFilter = 'Conv2DBackpropFilter';

/**
 * tfjs 4.22 registers no gradient for `Conv2DBackpropFilter`, so a vector–Jacobian product through
 * a convolution cannot be differentiated again (double-VJP Jacobian–vector products of conv nets).
 * This is the standard one (TensorFlow's `_Conv2DBackpropFilterGrad`): for dW = backpropFilter(x, dy),
 * d/dx = backpropInput(dy, g) and d/d(dy) = conv2d(x, g). Registered from `register_all.ts`; if a
 * later tfjs ships its own, registration fails loudly (`KernelRegistrationError`) and this patch goes.
 */
export const conv2dBackpropFilterGradConfig: tf.GradConfig = {
  kernelName: Conv2DBackpropFilter,
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
};
