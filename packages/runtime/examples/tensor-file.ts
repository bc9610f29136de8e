import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fromTensorData, readTensorFile, tensorData, writeTensorFile } from '@gcvi/runtime';
import * as tf from '@tensorflow/tfjs-core';

export function tensorFileExample(): unknown {
  const path = join(mkdtempSync(join(tmpdir(), 'gcvi-example-')), 'weights.gcvi');
  const w = tf.tensor([1, 2, 3, 4, 5, 6], [2, 3]);
  const step = tf.scalar(250, 'int32');
  // Atomic: written to a temporary file, fsynced, renamed over `path`.
  writeTensorFile(path, {
    kind: 'example/weights',
    meta: { width: 3, note: 'any JSON' },
    tensors: { w: tensorData(w), step: tensorData(step) },
  });
  // Verifies magic, version, kind, header, length and the payload's sha256.
  const file = readTensorFile(path, { kind: 'example/weights' });
  const back = fromTensorData(file.tensors.w!);
  const result = { meta: file.meta, shape: back.shape, values: Array.from(back.dataSync()) };
  tf.dispose([w, step, back]);
  return result;
}
