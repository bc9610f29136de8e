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
export { EXPERIMENTS } from './experiments/registry.js';
export { analyseExperiment } from './pipeline/analyse.js';
export { type ExecuteOptions, executeAll } from './pipeline/execute.js';
export {
  checkFinishedRuns,
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
