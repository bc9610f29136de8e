// Best validation NLL of one task's flow under variations of the family (the runner's training:
// batch 200, Adam 5e-4, 10 % validation, patience 20, the linear embedding, the runner's seed), to
// choose the family by held-out simulations, never by C2ST. Built app and packages needed.
//
//   node bench/val-nll.mjs <task> '<json list of variants>' [budget=1000]
//
// A variant may set lu, initScale, depth, batch, lr, patience, maxEpochs, embScale (the linear
// embedding's initial weights N(0, embScale²), default 1), and nobox (θ standardized by sd `std`,
// default 0.577, instead of the logit of the box; gaussian_linear has no box: give nobox and
// std 0.316 for the runner's standardization by the prior's sd), e.g.
//   node bench/val-nll.mjs two_moons '[{"lu":false},{},{"nobox":true}]'
import { sbibmTask } from '@gcvi/datasets';
import { dense } from '@gcvi/encoders';
import { amortize, nsfFamily } from '@gcvi/inference';
import { createRng, initBackend } from '@gcvi/runtime';

await initBackend();
const taskName = process.argv[2] ?? 'two_moons';
const variants = JSON.parse(process.argv[3] ?? '[{}]');
const budget = Number(process.argv[4] ?? 1000);
const task = sbibmTask(taskName);
const dim = task.thetaDim;
const ctx = Math.max(4, 2 * dim);
for (const v of variants) {
  const fam = nsfFamily({
    dim,
    contextDim: ctx,
    layers: 5,
    bins: 10,
    hidden: 50,
    box: v.nobox ? null : task.prior.support,
    standardize: v.nobox ? { mean: Array(dim).fill(0), std: Array(dim).fill(v.std ?? 0.577) } : null,
    initScale: v.initScale,
    depth: v.depth,
    lu: v.lu,
  });
  const e = dense({ inputSize: task.xDim, hiddenSizes: [], outputSize: ctx, bias: true });
  const enc = {
    ...e,
    init(rng) {
      const p = e.init(rng);
      p.w0?.dispose();
      p.w0 = rng.split('embedding').normalTensor([task.xDim, ctx], 0, v.embScale ?? 1);
      return p;
    },
  };
  const est = amortize({
    simulator: task,
    family: fam,
    encoder: enc,
    seed: createRng(0)
      .split(`${taskName}_${budget}_flow`)
      .int(2 ** 31),
  });
  const t0 = performance.now();
  const res = await est.train({
    simulations: budget,
    batchSize: v.batch ?? 200,
    learningRate: v.lr ?? 5e-4,
    validationFraction: 0.1,
    earlyStopping: { patience: v.patience ?? 20 },
    maxEpochs: v.maxEpochs ?? 500,
    clipNorm: 5,
  });
  const val = res.validationLoss ?? [];
  console.log(
    JSON.stringify({
      v,
      best: Math.min(...val).toFixed(3),
      epochs: res.epochs,
      bestEpoch: res.bestEpoch,
      s: ((performance.now() - t0) / 1000).toFixed(0),
    }),
  );
  est.dispose();
}
