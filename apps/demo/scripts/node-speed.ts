/**
 * Steps per second of the demo's trainer in Node on tfjs-wasm, for the README beside the
 * browser's figures: the same code (src/e1.ts), the same width and settings, the same definition
 * (lockstep steps — one Adam step of the network and one of its twin, plus the test NLL of both
 * every 10 steps — per second of `advance`, the first 10 steps left out as warm-up).
 *
 *     pnpm --filter demo speed:node [width] [steps]
 */
import { describeBackend, initBackend } from '@gcvi/runtime';
import { createE1Trainer } from '../src/e1.js';

const width = Number(process.argv[2] ?? 256);
const steps = Number(process.argv[3] ?? 300);
const WARMUP = 10;
const info = await initBackend({ backend: process.env.GCVI_BACKEND ? undefined : 'wasm' });
const trainer = createE1Trainer({ width });
try {
  await trainer.advance(WARMUP);
  const t0 = performance.now();
  await trainer.advance(steps - WARMUP);
  const seconds = (performance.now() - t0) / 1000;
  const rate = (steps - WARMUP) / seconds;
  const final = trainer.testNll();
  console.log(
    JSON.stringify({
      runtime: `node ${process.version}`,
      backend: describeBackend(info),
      width,
      steps,
      stepsPerSecond: Number(rate.toFixed(1)),
      testNll: { full: final.full, linear: final.linear, exact: trainer.exactNll },
    }),
  );
} finally {
  await trainer.dispose();
}
