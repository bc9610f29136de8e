import { createRng, describeBackend, initBackend } from '@gcvi/runtime';
import * as tf from '@tensorflow/tfjs-core';

export async function main(): Promise<unknown> {
  // tensorflow (tfjs-node) if it loads, else wasm, else cpu; GCVI_BACKEND=wasm|cpu|tensorflow forces one.
  const info = await initBackend();
  console.log(describeBackend(info));

  // One seeded stream per run, split into named children: same seed, same numbers.
  const rng = createRng(2024);
  const data = rng.split('data');
  const init = rng.split('init');
  const x = data.normalTensor([4, 2]); // filled on the JS side: identical on every backend
  const w = init.normalTensor([2, 3], 0, 0.1);
  const y = tf.matMul(x, w);
  const result = { backend: info.name, shape: y.shape, first: y.dataSync()[0] };
  tf.dispose([x, w, y]);
  return result;
}

// Run and print the result when executed directly (`npx tsx example.ts`), not when imported.
if (import.meta.url === `file://${process.argv[1]}`) console.log(await main());
