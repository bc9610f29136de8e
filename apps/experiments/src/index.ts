/**
 * @gcvi/experiments — the reproduce pipeline: experiment definitions, the results store, executors,
 * figures and the report. The CLI is `src/cli.ts` (`gcvi-experiments`).
 */
import '@gcvi/runtime';

export { writeFileAtomic, writeJsonAtomic } from './core/atomic.js';
export { decodeTyped, encodeTyped } from './core/codec.js';
export { canonicalJson, hashConfig, RUN_ID_LENGTH, runId } from './core/hash.js';
export {
  type ExperimentResult,
  type PlannedRun,
  planRuns,
  type ReproduceOptions,
  type ReproduceResult,
  reproduce,
  selectExperiments,
} from './core/reproduce.js';
export { executeRun, type RunHooks, type RunOutcome, type RunTask } from './core/runner.js';
export {
  FILES,
  type LoadedRun,
  type MetricRow,
  ResultsStore,
  RunHandle,
  type RunMeta,
  type RunStatus,
  type RunSummaryFile,
  readMetricsFile,
} from './core/store.js';
export {
  escapeHtml,
  mdCell,
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
export {
  type RenderedFigure,
  renderVegaLite,
  toCsv,
  type WrittenFigure,
  writeFigure,
} from './figures/render.js';
export { type ReportInput, renderHtml, renderMarkdown, writeReport } from './report/report.js';
