import { canonicalJson } from '../../core/hash.js';
import type { ExperimentDefinition } from '../../core/types.js';
import { e4Claims } from './claims.js';
import { type E4Config, e4ConfigSchema, e4Deviations, e4Plan } from './config.js';
import { e4Figures } from './figures.js';
import { type E4RunSummary, runE4 } from './run.js';
import { e4MetricRowSchema, e4RunResultSchema } from './schema.js';
import { type E4Run, summarizeE4 } from './summary.js';

export { e4ConfigSchema, e4Plan, PAPER as E4_PAPER, PROFILE_SETTINGS as E4_PROFILES } from './config.js';
export { gaussianMetrics, gridPosterior, mergeNodes } from './posterior.js';
export type { E4Config, E4Run, E4RunSummary };
export { e4MetricRowSchema, e4RunResultSchema };

/** E4 "rotated MNIST, toy" (Figure 7). */
export const e4: ExperimentDefinition<E4Config, E4RunSummary> = {
  id: 'e4',
  title: 'Rotated MNIST with known latents: L_P vs ELBO (Figure 7)',
  paperRef: 'Section 5.3, Figure 7',
  paperClaims: [
    'With the latents known, L_P drives the forward KL and the NLL of the true angle down and finds the true angle; the ELBO does not.',
  ],
  configSchema: e4ConfigSchema,
  resultSchema: e4RunResultSchema,
  plan: (ctx) => e4Plan(ctx.profile, ctx.generator),
  progressSteps: (c) => c.steps,
  sharedCache: (c) => `generator ${canonicalJson(c.generator)}`,
  cost: (c) =>
    c.steps * (c.method === 'elbo' ? c.nImages + c.particles * 2 : c.nImages * 2 * (c.setsPerStep ?? 1)),
  label: (c) => (c.method === 'forwardKl' ? 'L_P' : `ELBO (K = ${c.particles})`),
  run: runE4,
  summarize: (runs) => summarizeE4(runs),
  figures: (runs) => e4Figures(runs),
  claims: (runs) => e4Claims(runs),
  deviations: (ctx) => e4Deviations(ctx.profile),
};
