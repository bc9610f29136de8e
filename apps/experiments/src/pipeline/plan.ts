/** Plan: the runs of a profile, validated, with their ids and status on disk. */
import { existsSync, readFileSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { ConfigError, FileFormatError } from '@gcvi/runtime';
import { z } from 'zod';
import { runId } from '../core/hash.js';
import { type AnyExperiment, type PlanContext, PROFILES, type ProfileName } from '../core/types.js';
import { parseWithSchema } from '../core/validate.js';
import type { ResultsStore, RunSchemas } from '../store/store.js';
import type { PlannedRun } from './types.js';

/** Pick experiments by id (`--only e1,e2`); unknown ids are an error naming the option. */
export function selectExperiments(
  all: readonly AnyExperiment[],
  only: readonly string[] | undefined,
): AnyExperiment[] {
  if (!only || only.length === 0) return [...all];
  const out: AnyExperiment[] = [];
  for (const id of only) {
    const e = all.find((x) => x.id === id);
    if (!e)
      throw new ConfigError(
        '--only',
        `unknown experiment '${id}'; known: ${all.map((x) => x.id).join(', ')}`,
      );
    if (!out.includes(e)) out.push(e);
  }
  return out;
}

/** A profile: one of `PROFILES`, or a custom profile file sized from one of them. */
export interface Profile {
  /** Results folder name. */
  readonly name: string;
  readonly base: ProfileName;
  /** Per experiment id: settings from a custom profile file. */
  readonly settings: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
}

const profileFileSchema = z
  .object({
    /** Results folder name (letters, digits, `-`, `_`). */
    name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_-]*$/),
    base: z.enum(PROFILES),
  })
  .catchall(z.record(z.string(), z.unknown()));

/**
 * `--profile quick|default|paper`, or the path of a JSON file
 * `{ "name": "tiny", "base": "quick", "e1": { "widths": [64], "steps": 40 } }`: the base profile
 * with some experiments' settings changed (each checked against that experiment's `settingsSchema`).
 */
export function resolveProfile(value: string, field = '--profile'): Profile {
  if ((PROFILES as readonly string[]).includes(value)) {
    return { name: value, base: value as ProfileName, settings: {} };
  }
  if (!value.endsWith('.json')) {
    throw new ConfigError(
      field,
      `unknown profile '${value}'; use one of ${PROFILES.join(', ')} or a profile file (.json)`,
    );
  }
  const file = resolve(value);
  if (!existsSync(file)) throw new ConfigError(field, `profile file '${value}' does not exist`);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new FileFormatError(file, `is not valid JSON (${(e as Error).message})`);
  }
  const parsed = profileFileSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new FileFormatError(file, `${issue?.path.join('.') || basename(file)}: ${issue?.message}`);
  }
  const { name, base, ...settings } = parsed.data;
  return { name, base, settings: settings as Profile['settings'] };
}

/**
 * A profile file may only hold settings for experiments that exist: `"e9": {…}` would otherwise
 * be ignored without a word.
 */
export function checkProfileSettings(profile: Profile, experiments: readonly AnyExperiment[]): void {
  for (const key of Object.keys(profile.settings)) {
    if (!experiments.some((e) => e.id === key)) {
      throw new ConfigError(
        `profile.${key}`,
        `no experiment '${key}' to take these settings (experiments: ${experiments.map((e) => e.id).join(', ')})`,
      );
    }
  }
}

/** The plan context of one experiment. */
export function planContext(
  exp: AnyExperiment,
  profile: Profile,
  base: Omit<PlanContext, 'profile' | 'profileName' | 'settings'>,
): PlanContext {
  const raw = profile.settings[exp.id];
  let settings: Record<string, unknown> | undefined;
  if (raw !== undefined) {
    if (!exp.settingsSchema) {
      throw new ConfigError(
        `profile.${exp.id}`,
        `experiment ${exp.id} takes no settings from a profile file`,
      );
    }
    settings = parseWithSchema(exp.settingsSchema, raw, `profile.${exp.id}`);
  }
  return {
    ...base,
    profile: profile.base,
    profileName: profile.name,
    ...(settings ? { settings } : {}),
  };
}

export interface PlanOptions {
  readonly staleAfterMs?: number;
  readonly plugins?: readonly string[];
}

/** Validate each experiment's plan and give each run its id and on-disk status. */
export function planRuns(
  experiments: readonly AnyExperiment[],
  contexts: ReadonlyMap<AnyExperiment, PlanContext>,
  store: ResultsStore,
  options: PlanOptions = {},
): PlannedRun[] {
  const out: PlannedRun[] = [];
  for (const exp of experiments) {
    const ctx = contexts.get(exp);
    if (!ctx) throw new Error(`no plan context for ${exp.id}`);
    const seen = new Set<string>();
    exp.plan(ctx).forEach((raw, i) => {
      const config = parseWithSchema(exp.configSchema, raw, `${exp.id}.plan[${i}]`);
      const id = runId(exp.id, config);
      if (seen.has(id)) return;
      seen.add(id);
      const seed = (config as { seed?: unknown }).seed;
      out.push({
        experiment: exp,
        task: {
          experiment: exp.id,
          id,
          config,
          storeRoot: store.root,
          label: `${exp.id} ${exp.label(config)}`,
          ...(typeof seed === 'number' || typeof seed === 'string' ? { seed } : {}),
          ...(options.staleAfterMs !== undefined ? { staleAfterMs: options.staleAfterMs } : {}),
          ...(options.plugins?.length ? { plugins: [...options.plugins] } : {}),
        },
        status: store.status(exp.id, id),
        cost: exp.cost?.(config) ?? exp.progressSteps?.(config) ?? 1,
        steps: exp.progressSteps?.(config) ?? exp.cost?.(config) ?? 1,
        ...((k) => (k === undefined ? {} : { cacheKey: k }))(exp.sharedCache?.(config)),
      });
    });
  }
  return out;
}

/**
 * Check every finished run of a plan (config hash = run id, config and result against their
 * schemas): the first bad one is a `FileFormatError` naming its file. (`--force` redoes them instead.)
 */
export function checkFinishedRuns(planned: readonly PlannedRun[], store: ResultsStore): void {
  for (const p of planned) {
    if (p.status !== 'done') continue;
    store.load(p.experiment.id, p.task.id, schemasOf(p.experiment));
  }
}

export function schemasOf(exp: AnyExperiment): RunSchemas<unknown, unknown> {
  return { config: exp.configSchema, ...(exp.resultSchema ? { result: exp.resultSchema } : {}) };
}
