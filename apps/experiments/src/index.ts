/**
 * @gcvi/experiments — the reproduce pipeline: experiment definitions, the results store, executors,
 * figures and the report. The CLI is `src/cli.ts` (`gcvi-experiments`).
 */
import '@gcvi/runtime';

export {
  type RenderedFigure,
  renderVegaLite,
  toCsv,
  type WrittenFigure,
  writeFigure,
} from '@gcvi/plots';
export { canonicalJson, hashConfig, RUN_ID_LENGTH, runId } from './core/hash.js';
export { checkObjectiveName, loadPlugins } from './core/plugins.js';
export { executeRun, type RunHooks, type RunOutcome, type RunTask } from './core/runner.js';
export {
  escapeHtml,
  mdCell,
  mdCode,
  mdText,
  tableFileMarkdown,
  tableHtml,
  tableMarkdown,
  validateTable,
  type WrittenTable,
  writeTable,
} from './core/tables.js';
export {
  type AnyExperiment,
  type CheckedClaim,
  type ExperimentDefinition,
  type FigureDef,
  type PlanContext,
  PROFILES,
  type ProfileName,
  type RunContext,
  type RunProgress,
  type SummaryTree,
  type TableDef,
} from './core/types.js';
export { parseWithSchema } from './core/validate.js';
export { appRoot, packageVersions } from './core/versions.js';
export { InlineExecutor } from './exec/inline.js';
export { defaultWorkerScript, LocalPoolExecutor, type LocalPoolOptions } from './exec/pool.js';
export { type ProgressMode, ProgressReporter } from './exec/progress.js';
export type { Executor, ExecutorEvents, FromWorker, ToWorker } from './exec/types.js';
// The training steps of E2, E3 and E4 (also what apps/bench times), and the plans that size them.
export { E2_PAPER, type E2Family, e2Family, planE2 } from './experiments/e2/index.js';
export type { E2Config } from './experiments/e2/schema.js';
export { type E2StepConfig, e2Step } from './experiments/e2/train.js';
export { generatorCacheDir } from './experiments/e3/generator.js';
export { E3_PAPER, e3Plan, resolveGenerator } from './experiments/e3/index.js';
export {
  type E3IwboStepConfig,
  type E3LpStepConfig,
  type E3StepSetup,
  e3IwboStep,
  e3LpStep,
  e3RunRoot,
  lpProblem as e3LpProblem,
  observedSet as e3ObservedSet,
} from './experiments/e3/run.js';
export type { E3Config } from './experiments/e3/schema.js';
export { E4_PAPER, e4Plan } from './experiments/e4/index.js';
export { type E4StepConfig, e4Data, e4RunRoot, e4Step } from './experiments/e4/run.js';
export type { E4Config } from './experiments/e4/schema.js';
export { EXPERIMENTS } from './experiments/registry.js';

export { analyseExperiment } from './pipeline/analyse.js';
export { type ExecuteOptions, executeAll } from './pipeline/execute.js';
export {
  checkFinishedRuns,
  checkProfileSettings,
  type Profile,
  planContext,
  planRuns,
  resolveProfile,
  selectExperiments,
} from './pipeline/plan.js';
export { type ReportInput, renderHtml, renderMarkdown, writeReport } from './pipeline/report.js';
export { reproduce } from './pipeline/reproduce.js';
export {
  type ExperimentResult,
  type Invocation,
  invocationSchema,
  type PlannedRun,
  type ProfileSummary,
  profileSummarySchema,
  type ReproduceOptions,
  type ReproduceResult,
} from './pipeline/types.js';
export { writeFileAtomic, writeJsonAtomic } from './store/atomic.js';
export {
  Claim,
  type ClaimInfo,
  type ClaimOptions,
  type ClaimOwner,
  DEFAULT_STALE_AFTER_MS,
  describeClaim,
  heldClaims,
  inspectClaim,
  releaseAllClaims,
  releaseAllClaimsSync,
} from './store/claim.js';
export { type MetricsFile, readMetricsFile } from './store/metrics.js';
export {
  FILES,
  type LoadedRun,
  type MetricRow,
  MetricsSegment,
  parseFileWithSchema,
  ResultsStore,
  RunHandle,
  type RunMeta,
  type RunSchemas,
  type RunStatus,
  type RunSummaryFile,
} from './store/store.js';
