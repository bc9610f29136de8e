import type { PlanContext, ProfileName } from '../../core/types.js';
import { type E1Config, type E1Settings, e1ConfigSchema } from './schema.js';

export { type E1Config, e1ConfigSchema };

/** The paper's objective (L_P); a config names another only when `--objective` asks for one. */
export const DEFAULT_OBJECTIVE = 'forward-kl';

/** DESIGN §2 E1, exactly. */
export const PAPER: Omit<E1Config, 'width'> & { widths: number[] } = {
  widths: [64, 128, 256, 512, 1024, 2048, 4096],
  steps: 200_000,
  batchSize: 16,
  lr0: 1e-4,
  lrScale: 10,
  sigma: 0.5,
  etaOffset: 1e-4,
  evalEvery: 500,
  testSize: 1000,
  trackEvery: 250,
  trackSize: 100,
  gridBinWidth: 1e-3,
  seed: 0,
  dataSeed: 1,
  checkpointEvery: 5000,
};

/** What each profile changes relative to PAPER. */
export const PROFILE_SETTINGS: Record<ProfileName, Partial<typeof PAPER>> = {
  quick: {
    widths: [64, 256, 1024],
    steps: 600,
    evalEvery: 100,
    trackEvery: 100,
    testSize: 200,
    trackSize: 20,
    checkpointEvery: 300,
  },
  default: {
    widths: [64, 256, 1024, 4096],
    steps: 20_000,
    evalEvery: 500,
    trackEvery: 500,
    checkpointEvery: 2500,
  },
  paper: {},
};

/** What a plan context changes relative to PAPER: its profile, then a profile file's settings. */
function changes(ctx: PlanContext | ProfileName): Partial<typeof PAPER> {
  if (typeof ctx === 'string') return PROFILE_SETTINGS[ctx];
  return { ...PROFILE_SETTINGS[ctx.profile], ...((ctx.settings ?? {}) as E1Settings) };
}

/** The runs of a profile (a profile name, or a plan context with profile-file settings and `--objective`). */
export function e1Plan(ctx: PlanContext | ProfileName): E1Config[] {
  const { widths, ...rest } = { ...PAPER, ...changes(ctx) };
  const objective = typeof ctx === 'string' ? undefined : ctx.objective;
  return widths.map((width) => ({
    ...rest,
    width,
    ...(objective !== undefined && objective !== DEFAULT_OBJECTIVE ? { objective } : {}),
  }));
}

/** Human-readable differences between a profile and the paper's configuration. */
export function e1Deviations(ctx: PlanContext | ProfileName): string[] {
  const p = changes(ctx);
  const out: string[] = [];
  const objective = typeof ctx === 'string' ? undefined : ctx.objective;
  if (objective !== undefined && objective !== DEFAULT_OBJECTIVE) {
    out.push(
      `Objective '${objective}' instead of the paper's L_P (forward-kl); the NTK-regime claims are the paper's claims about L_P.`,
    );
  }
  if (p.widths) {
    out.push(`Widths ${p.widths.join(', ')} instead of ${PAPER.widths.join(', ')}.`);
  }
  if (p.steps !== undefined)
    out.push(
      `${p.steps.toLocaleString('en')} training steps per model instead of ${PAPER.steps.toLocaleString('en')}.`,
    );
  if (p.evalEvery !== undefined && p.evalEvery !== PAPER.evalEvery)
    out.push(`Test NLL every ${p.evalEvery} steps instead of ${PAPER.evalEvery}.`);
  if (p.trackEvery !== undefined && p.trackEvery !== PAPER.trackEvery)
    out.push(`Jacobian/NTK statistics every ${p.trackEvery} steps instead of ${PAPER.trackEvery}.`);
  if (p.testSize !== undefined && p.testSize !== PAPER.testSize)
    out.push(`${p.testSize} test pairs instead of ${PAPER.testSize}.`);
  if (p.trackSize !== undefined && p.trackSize !== PAPER.trackSize)
    out.push(`${p.trackSize} tracked inputs instead of ${PAPER.trackSize}.`);
  return out;
}
