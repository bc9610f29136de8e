import * as tf from '@tensorflow/tfjs-core';

/**
 * Backends our JS-side fused kernels run on. Both keep float32 tensor data where JS can reach it
 * synchronously: 'cpu' in JS typed arrays, 'wasm' in the wasm heap (read and written in place
 * through views on `HEAPU8.buffer`).
 */
export const FUSED_BACKENDS = ['wasm', 'cpu'] as const;
export type FusedBackendName = (typeof FUSED_BACKENDS)[number];

interface WasmBackendLike {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(info: tf.TensorInfo): tf.TypedArray;
}

interface CpuBackendLike {
  data: { get(dataId: tf.DataId): { values?: unknown } };
  makeTensorInfo(shape: number[], dtype: tf.DataType, values?: tf.TypedArray): tf.TensorInfo;
}

/**
 * The body of a fused kernel: read the float32 inputs, write every element of every output
 * (output buffers are NOT zeroed on wasm).
 */
export type JsKernelBody = (inputs: readonly Float32Array[], outputs: readonly Float32Array[]) => void;

function checkFloat(kernel: string, info: tf.TensorInfo, index: number): void {
  if (info.dtype !== 'float32') {
    throw new TypeError(`${kernel}: input ${index} must be float32, got ${info.dtype}`);
  }
}

/**
 * Run `body` on the tensor data of `inputs` and return freshly allocated float32 outputs of the
 * given shapes, on the 'wasm' or 'cpu' backend.
 *
 * wasm: outputs are allocated first (allocation may grow the heap and detach older views), then
 * views of inputs and outputs are taken from the current heap buffer, so the body reads and
 * writes the wasm memory directly with no copies.
 */
export function runJsKernel(
  kernel: string,
  backendName: FusedBackendName,
  backend: unknown,
  inputs: readonly tf.TensorInfo[],
  outputShapes: readonly number[][],
  body: JsKernelBody,
): tf.TensorInfo[] {
  inputs.forEach((t, i) => {
    checkFloat(kernel, t, i);
  });
  if (backendName === 'wasm') {
    const b = backend as WasmBackendLike;
    const outs = outputShapes.map((s) => b.makeOutput(s.slice(), 'float32'));
    const inViews = inputs.map((t) => b.typedArrayFromHeap(t) as Float32Array);
    const outViews = outs.map((t) => b.typedArrayFromHeap(t) as Float32Array);
    body(inViews, outViews);
    return outs;
  }
  const b = backend as CpuBackendLike;
  const inViews = inputs.map((t) => {
    const values = b.data.get(t.dataId).values;
    if (!(values instanceof Float32Array)) {
      throw new TypeError(`${kernel}: the cpu backend holds no float32 values for input`);
    }
    return values;
  });
  const outViews = outputShapes.map((s) => new Float32Array(tf.util.sizeFromShape(s)));
  body(inViews, outViews);
  return outputShapes.map((s, i) => b.makeTensorInfo(s.slice(), 'float32', outViews[i]));
}

/** Kernel inputs by name (every input our ops pass is present). */
export type KernelInputs = Record<string, tf.TensorInfo>;

/**
 * The kernel configs of one fused kernel, one per backend in FUSED_BACKENDS: values to put in the
 * package's registration list (`register_all.ts`), created once so that registering them twice is
 * recognised as the same implementation.
 */
export function jsKernelConfigs(
  kernelName: string,
  impl: (
    backendName: FusedBackendName,
    backend: unknown,
    inputs: KernelInputs,
    attrs: tf.NamedAttrMap,
  ) => tf.TensorInfo | tf.TensorInfo[],
): readonly tf.KernelConfig[] {
  return FUSED_BACKENDS.map((backendName) => ({
    kernelName,
    backendName,
    kernelFunc: ({ inputs, backend, attrs }: Parameters<tf.KernelFunc>[0]) =>
      impl(backendName, backend, inputs as KernelInputs, attrs ?? {}),
  }));
}

/** True when the active backend has our fused kernel `kernelName` (else callers use plain ops). */
export function hasFusedKernel(kernelName: string): boolean {
  return tf.getKernel(kernelName, tf.getBackend()) !== undefined;
}

/**
 * The gradient config of a fused kernel whose backward pass is another fused kernel: saves the
 * named inputs (and the forward output as `out` when `saveOutput`), runs `gradKernelName` on
 * `{ dy, ...inputs[, out] }` with the forward attributes, and maps its outputs to the inputs in
 * order.
 */
export function gradViaKernel(
  kernelName: string,
  gradKernelName: string,
  inputNames: readonly string[],
  options: { saveOutput?: boolean } = {},
): tf.GradConfig {
  const saveOutput = options.saveOutput ?? false;
  return {
    kernelName,
    inputsToSave: [...inputNames],
    ...(saveOutput ? { outputsToSave: [true] } : {}),
    gradFunc: (dy, saved, attrs) => {
      const ins: Record<string, tf.Tensor> = { dy: dy as tf.Tensor };
      inputNames.forEach((n, i) => {
        ins[n] = saved[i] as tf.Tensor;
      });
      if (saveOutput) ins.out = saved[inputNames.length] as tf.Tensor;
      const grads = tf.engine().runKernel(gradKernelName, ins, attrs) as tf.Tensor[];
      return Object.fromEntries(inputNames.map((n, i) => [n, () => grads[i] as tf.Tensor]));
    },
  };
}
