/**
 * The experiments, in report order. To add one: create `src/experiments/<id>/index.ts` exporting
 * an `ExperimentDefinition` and list it here.
 */
import type { AnyExperiment } from '../core/types.js';
import { e1 } from './e1/index.js';
import { e2 } from './e2/index.js';
import { e3 } from './e3/index.js';
import { e4 } from './e4/index.js';

export const EXPERIMENTS: readonly AnyExperiment[] = [e1, e2, e3, e4];
