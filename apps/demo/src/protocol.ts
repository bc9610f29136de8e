/**
 * Messages between the page and the training worker. The worker owns tfjs and the trainer; the
 * page only draws what it is sent.
 */
import type { BackendChoice, E1DemoConfig } from './config.js';
import type { EvalRow, PosteriorCurves, StepReport } from './e1.js';

export type ToWorker =
  /** Choose the tfjs backend (once, first). */
  | { readonly type: 'init'; readonly backend: BackendChoice }
  /** (Re)build the trainer: a fresh start from step 0 (the same seed replays the same run). */
  | { readonly type: 'reset'; readonly config: Partial<E1DemoConfig>; readonly stopAt: number }
  | { readonly type: 'start' }
  | { readonly type: 'pause' }
  /** Send q(θ | x) and the exact posterior for x at angle `phi` (radians). */
  | { readonly type: 'posterior'; readonly phi: number };

export interface BackendReport {
  /** The tfjs backend in use. */
  readonly name: string;
  readonly requested: BackendChoice;
  /** Backends tried before it, with why each failed. */
  readonly skipped: readonly { readonly backend: string; readonly reason: string }[];
  /** Extra facts: wasm SIMD/threads, the WebGL renderer. */
  readonly details: string;
}

export type FromWorker =
  | { readonly type: 'backend'; readonly backend: BackendReport }
  | {
      readonly type: 'ready';
      readonly config: E1DemoConfig;
      readonly exactNll: number;
      readonly initial: EvalRow;
      readonly stopAt: number;
    }
  | {
      readonly type: 'progress';
      readonly report: StepReport;
      /** Lockstep steps (both models) per second since the start of this run, warm-up excluded. */
      readonly stepsPerSecond: number;
      readonly running: boolean;
    }
  | { readonly type: 'posterior'; readonly curves: PosteriorCurves; readonly step: number }
  | { readonly type: 'state'; readonly running: boolean; readonly step: number }
  | { readonly type: 'error'; readonly message: string };
