import type { ProfileName } from '../../core/types.js';
import { PARAMETERIZATIONS } from './family.js';
import { type E2Config, e2ConfigSchema, OBJECTIVES } from './schema.js';

export { type E2Config, e2ConfigSchema };

/** DESIGN §2 E2, exactly (one run per seed × objective × parameterization). */
export const PAPER = {
  seeds: Array.from({ length: 100 }, (_, i) => 100 + i),
  nPoints: 1000,
  steps: 50_000,
  lr: 1e-3,
  lrEvery: 500,
  K: 100,
  width: 64,
  heads: 4,
  trueShift: 100,
  checkpointEvery: 1000,
  // Attention through @gcvi/kernels' fused kernel: the same model and numbers up to float32
  // rounding, ~1.3× faster per step at the default's 50 points (speed only, not a deviation).
  fusedAttention: true,
};

export type E2ProfileSettings = typeof PAPER;

/**
 * What each profile changes relative to PAPER. `default` is sized for ≤ 20 minutes on a 2-core
 * machine (80 runs on 2 workers, ~15–25 ms per step at 50 points on tfjs-wasm).
 */
export const PROFILE_SETTINGS: Record<ProfileName, Partial<E2ProfileSettings>> = {
  quick: {
    seeds: [100, 101],
    nPoints: 20,
    steps: 40,
    K: 20,
    width: 16,
    checkpointEvery: 20,
  },
  default: {
    seeds: Array.from({ length: 20 }, (_, i) => 100 + i),
    nPoints: 50,
    steps: 1000,
    checkpointEvery: 250,
  },
  paper: {},
};

export function profileSettings(profile: ProfileName): E2ProfileSettings {
  return { ...PAPER, ...PROFILE_SETTINGS[profile] };
}

export function planE2(profile: ProfileName): E2Config[] {
  const s = profileSettings(profile);
  const out: E2Config[] = [];
  for (const seed of s.seeds) {
    for (const objective of OBJECTIVES) {
      for (const parameterization of PARAMETERIZATIONS) {
        out.push({
          seed,
          objective,
          parameterization,
          nPoints: s.nPoints,
          steps: s.steps,
          lr: s.lr,
          lrEvery: s.lrEvery,
          K: s.K,
          width: s.width,
          heads: s.heads,
          trueShift: s.trueShift,
          checkpointEvery: s.checkpointEvery,
          fusedAttention: s.fusedAttention,
        });
      }
    }
  }
  return out;
}

/** Every way a profile departs from the paper, in words (for the report). */
export function deviationsE2(profile: ProfileName): string[] {
  const s = profileSettings(profile);
  const out: string[] = [];
  if (s.seeds.length !== PAPER.seeds.length) {
    out.push(
      `${s.seeds.length} replicate seeds (${s.seeds[0]}…${s.seeds[s.seeds.length - 1]}) instead of 100 (100…199)`,
    );
  }
  if (s.nPoints !== PAPER.nPoints) out.push(`${s.nPoints} points per data set instead of ${PAPER.nPoints}`);
  if (s.steps !== PAPER.steps) out.push(`${s.steps} optimizer steps instead of ${PAPER.steps}`);
  if (s.K !== PAPER.K) out.push(`ELBO with K = ${s.K} reparameterized samples instead of ${PAPER.K}`);
  if (s.width !== PAPER.width) out.push(`Set Transformer width ${s.width} instead of ${PAPER.width}`);
  if (s.lr !== PAPER.lr || s.lrEvery !== PAPER.lrEvery) {
    out.push(`Adam lr ${s.lr}, divided every ${s.lrEvery} steps (paper: 1e-3 every 500)`);
  }
  out.push(
    'ELBO uses the self-normalized weighting of the reference code: loss = −Σ_k stopgrad(softmax(w))_k w_k over the K log-weights (its gradient is the IWBO gradient), not the plain mean of the log-weights.',
  );
  return out;
}
