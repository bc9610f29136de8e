import { existsSync } from 'node:fs';
import { ConfigError, checkPositiveInt } from '@gcvi/runtime';
import * as tf from '@tensorflow/tfjs-core';
import { loadFitState, saveFitState } from './checkpoint.js';
import { disposeFitState, fitStep, initFit, optionalPositiveInt, scheduledLr } from './fit-state.js';
import type { FitOptions, FitResult, FitState, Params, StepInfo } from './fit-types.js';

/** Also exported here for modules that import it from `./fit.js`. */
export type { Params } from './fit-types.js';

function validateLoop(options: FitOptions<Params>): void {
  const callbacks = options.callbacks ?? {};
  optionalPositiveInt('callbacks.progressEvery', callbacks.progressEvery, 100);
  (callbacks.every ?? []).forEach((c, i) => {
    optionalPositiveInt(`callbacks.every[${i}].every`, c.every, 1);
  });
  if (options.checkpoint) {
    if (typeof options.checkpoint.path !== 'string' || options.checkpoint.path === '') {
      throw new ConfigError('checkpoint.path', 'must be a non-empty string');
    }
    checkPositiveInt('checkpoint.every', options.checkpoint.every);
  }
  if (options.resume && !options.checkpoint)
    throw new ConfigError('resume', 'needs checkpoint.path to resume from');
}

/** New non-trainable variables with the values of `vars` (which the run disposes). */
function ownedCopies(vars: Readonly<Record<string, tf.Variable>>): Record<string, tf.Variable> {
  const out: Record<string, tf.Variable> = {};
  for (const [k, v] of Object.entries(vars)) out[k] = tf.tidy(() => tf.variable(tf.add(v, 0), false));
  return out;
}

/**
 * Minimize an objective over `params`: `initFit`, then `fitStep` until `steps`, with callbacks,
 * progress, abort and checkpoints around it (see `fitStep` for what one step does).
 *
 * With `checkpoint`, the state is saved (`saveFitState`) every `checkpoint.every` steps and at the
 * end; with `resume`/`resumeFrom` it is loaded first (`loadFitState`), `callbacks.onResume(step)`
 * is called, and the run continues exactly (same backend: bit for bit the parameters of an
 * uninterrupted run). `FitResult.resumedFrom` says where it resumed.
 */
export async function fit<P extends Params>(options: FitOptions<P>): Promise<FitResult<P>> {
  validateLoop(options as unknown as FitOptions<Params>);
  const callbacks = options.callbacks ?? {};
  const progressEvery = callbacks.progressEvery ?? 100;
  const everies = callbacks.every ?? [];
  const ckpt = options.checkpoint;
  let state: FitState<P> = initFit(options);
  try {
    if (options.signal?.aborted) throw options.signal.reason ?? new Error('fit aborted');
    const resumePath =
      options.resumeFrom ?? (options.resume && existsSync(ckpt!.path) ? ckpt!.path : undefined);
    let resumedFrom: number | null = null;
    if (resumePath !== undefined) {
      state = loadFitState(resumePath, state);
      resumedFrom = state.step;
      await callbacks.onResume?.(state.step);
    }
    const { steps } = state.run;
    const info = (s: FitState<P>): StepInfo => ({
      step: s.step,
      steps,
      loss: s.last?.loss ?? Number.NaN,
      lr: s.last?.lr ?? scheduledLr(s.run.schedule, s.step),
      gradNorm: s.last?.gradNorm ?? Number.NaN,
      skipped: s.last?.skipped ?? false,
      skippedSteps: s.skippedSteps,
      params: s.params,
    });
    const save = () => {
      if (ckpt) saveFitState(ckpt.path, state, { meta: ckpt.meta ?? {} });
    };
    if (state.step === 0) for (const c of everies) if (c.atStart) await c.fn(info(state));

    const t0 = performance.now();
    const firstStep = state.step;
    let lastSaved = state.step;
    let lastLoss = Number.NaN;
    while (state.step < steps) {
      state = fitStep(state);
      const step = state.step;
      if (!state.last!.skipped) lastLoss = state.last!.loss;
      if (callbacks.onStep || everies.some((c) => step % c.every === 0)) {
        const i = info(state);
        if (callbacks.onStep) await callbacks.onStep(i);
        for (const c of everies) if (step % c.every === 0) await c.fn(i);
      }
      if (callbacks.onProgress && (step % progressEvery === 0 || step === steps)) {
        const elapsed = (performance.now() - t0) / 1000;
        const rate = elapsed > 0 ? (step - firstStep) / elapsed : 0;
        callbacks.onProgress({
          step,
          steps,
          loss: lastLoss,
          rate,
          etaSeconds: rate > 0 ? (steps - step) / rate : Number.POSITIVE_INFINITY,
          skippedSteps: state.skippedSteps,
        });
      }
      if (ckpt && step % ckpt.every === 0) {
        save();
        lastSaved = step;
      }
      if (options.signal?.aborted) {
        if (lastSaved !== step) save();
        throw options.signal.reason ?? new Error('fit aborted');
      }
    }
    if (lastSaved !== state.step) save();
    return {
      params: options.params,
      stepsDone: state.step,
      skippedSteps: state.skippedSteps,
      history: state.history,
      resumedFrom,
      averaged: (state.run.average ? ownedCopies(state.run.average.vars) : null) as FitResult<P>['averaged'],
    };
  } finally {
    disposeFitState(state);
  }
}
