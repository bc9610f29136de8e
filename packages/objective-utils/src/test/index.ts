/**
 * `@gcvi/objective-utils/test` — the conformance suite every objective runs, built-ins and plugins
 * alike. It imports no test framework: `conformanceChecks(objective, harness)` returns plain check
 * functions that throw on failure, and `runObjectiveConformance(objective, { test, harness })`
 * registers them with the `describe`/`it` you pass. The harness is what the suite needs from the
 * host library (a seeded stream, a Normal, the trainer); `@gcvi/objectives/test` has a ready one.
 */
export {
  type ConformanceCheck,
  ConformanceError,
  type ConformanceOptions,
  type ConformanceTolerance,
  conformanceChecks,
  conformanceLabel,
  runObjectiveConformance,
  type TestApi,
} from './checks.js';
export {
  CONJUGATE_POSTERIOR,
  type ConjugateFit,
  type ConjugateFitOptions,
  conjugateProblem,
  fitConjugate,
  type LinearEncoderParams,
  linearEncoderParams,
  makeLinearNormalQ,
} from './conjugate.js';
export type { ConformanceFitOptions, ConformanceHarness } from './harness.js';
