import type { ExperimentDefinition } from '../../core/types.js';
import { e1Claims } from './claims.js';
import { e1Deviations, e1Plan } from './config.js';
import { e1Figures } from './figures.js';
import { runE1 } from './run.js';
import {
  type E1Config,
  type E1RunResult,
  type E1Summary,
  e1ConfigSchema,
  e1RunResultSchema,
  e1SettingsSchema,
} from './schema.js';
import { type E1Run, summarizeE1 } from './summary.js';

export { e1Claims } from './claims.js';
export { e1Plan, PAPER as E1_PAPER, PROFILE_SETTINGS as E1_PROFILES } from './config.js';
export { e1Figures, e1Rows } from './figures.js';
export {
  e1ConfigSchema,
  e1MetricRowSchema,
  e1RunResultSchema,
  e1SettingsSchema,
  e1SummarySchema,
} from './schema.js';
export { summarizeE1 } from './summary.js';
export type { E1Config, E1Run, E1RunResult, E1Summary };
/** The run result type (kept name). */
export type E1RunSummary = E1RunResult;

/** E1 "canonical" (section 5.1, Figure 1 and the appendix NTK figures). */
export const e1: ExperimentDefinition<E1Config, E1RunResult> = {
  id: 'e1',
  title: 'Canonical example: NTK regime and the linearized network (Figure 1, appendix NTK figures)',
  paperRef: 'Section 5.1, Figure 1; appendix figures of Jacobian/NTK distances',
  paperClaims: [
    'With enough width, minimizing L_P with SGD reaches the exact posterior (test NLL equal to the exact-posterior NLL).',
    'The network and its linearization behave the same at large width (NTK regime).',
    'The Jacobian and the NTK move less from initialization as the width grows.',
  ],
  configSchema: e1ConfigSchema,
  resultSchema: e1RunResultSchema,
  settingsSchema: e1SettingsSchema,
  plan: e1Plan,
  progressSteps: (c) => 2 * c.steps,
  // measured on wasm: a step costs about the same up to width ~1024, then grows with the width
  cost: (c) => 2 * c.steps * (1 + c.width / 2048),
  label: (c) => `width ${c.width}${c.objective ? ` ${c.objective}` : ''}`,
  run: runE1,
  summarize: (runs) => summarizeE1(runs),
  figures: (runs) => {
    const s = summarizeE1(runs);
    return e1Figures(runs, s.exactNll);
  },
  claims: (runs) => e1Claims(runs, summarizeE1(runs).exactNll),
  deviations: e1Deviations,
};
