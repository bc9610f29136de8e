import type { ExperimentDefinition } from '../../core/types.js';
import { type E1Run, e1Claims, e1Figures, summarizeE1 } from './analysis.js';
import { type E1Config, e1ConfigSchema, e1Deviations, e1Plan } from './config.js';
import { type E1RunSummary, runE1 } from './run.js';

export { e1ConfigSchema, e1Plan, PAPER as E1_PAPER, PROFILE_SETTINGS as E1_PROFILES } from './config.js';
export type { E1Config, E1Run, E1RunSummary };

/** E1 "canonical" (section 5.1, Figure 1 and the appendix NTK figures). */
export const e1: ExperimentDefinition<E1Config, E1RunSummary> = {
  id: 'e1',
  title: 'Canonical example: NTK regime and the linearized network (Figure 1, appendix NTK figures)',
  paperRef: 'Section 5.1, Figure 1; appendix figures of Jacobian/NTK distances',
  paperClaims: [
    'With enough width, minimizing L_P with SGD reaches the exact posterior (test NLL equal to the exact-posterior NLL).',
    'The network and its linearization behave the same at large width (NTK regime).',
    'The Jacobian and the NTK move less from initialization as the width grows.',
  ],
  configSchema: e1ConfigSchema,
  plan: e1Plan,
  progressSteps: (c) => 2 * c.steps,
  // measured on wasm: a step costs about the same up to width ~1024, then grows with the width
  cost: (c) => 2 * c.steps * (1 + c.width / 2048),
  label: (c) => `width ${c.width}`,
  run: runE1,
  summarize: (runs) => summarizeE1(runs as E1Run[]),
  figures: (runs, summary) => e1Figures(runs as E1Run[], summary.exactNll as number),
  claims: (runs, summary) => e1Claims(runs as E1Run[], summary.exactNll as number),
  deviations: e1Deviations,
};
