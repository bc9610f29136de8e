import { amortize, gaussianFull, gaussianDiag } from '@gcvi/inference';
import { backendInfo, initBackend } from '@gcvi/runtime';
import { it } from 'vitest';
import { linearGaussian } from './linear-gaussian.js';

it('try', async () => {
  await initBackend();
  console.log(JSON.stringify(backendInfo()));
  for (const [name, fam, bs] of [['diag', gaussianDiag({ dim: 2 }), 256], ['full', gaussianFull({ dim: 2 }), 256], ['full64', gaussianFull({ dim: 2 }), 64]] as const) {
    const est = amortize({ simulator: linearGaussian, family: fam, seed: 1 });
    const t0 = performance.now();
    await est.train({ steps: 200, batchSize: bs });
    console.log(name, ((performance.now() - t0) / 200).toFixed(1), 'ms/step');
  }
}, 600000);
