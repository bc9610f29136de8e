import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  type GeneratorParams,
  generatorCacheFile,
  generatorCacheKey,
  generatorFromStateDict,
  loadMnist,
  loadTorchCheckpoint,
  type RotatedMnistModel,
  rotatedMnistModel,
  trainGenerator,
} from '@gcvi/datasets';
import { z } from 'zod';
import type { RunContext } from '../../core/types.js';

/**
 * Which generator E3/E4 use: `source: 'trained'` trains G ourselves as a VAE decoder on MNIST
 * (cached by a hash of data + these settings, shared by every run), any other value is the path of
 * a PyTorch state-dict checkpoint of the same architecture (e.g. ../shared/fixtures/G299.ckpt).
 */
export const generatorConfigSchema = z
  .object({
    source: z.string().min(1),
    /** VAE training (ignored for a checkpoint). */
    trainSteps: z.number().int().min(1),
    trainBatchSize: z.number().int().min(1),
    /** Training images: the first `trainImages` of the MNIST training split. */
    trainImages: z.number().int().min(1).max(60_000),
    hidden: z.number().int().min(1),
    learningRate: z.number().positive(),
    seed: z.number().int().nonnegative(),
  })
  .strict();

export type GeneratorConfig = z.infer<typeof generatorConfigSchema>;

/**
 * The value of `--generator`: `trained` (also when absent) or a checkpoint path, made absolute
 * (it becomes part of every E3/E4 run's config through the plan context).
 */
export function generatorSource(value: string | undefined): string {
  const v = value?.trim();
  if (!v || v === 'trained') return 'trained';
  return resolve(v);
}

/** Folder shared by every run of a results root for the trained generator weights. */
export function generatorCacheDir(runDir: string): string {
  // Run folders are <root>/runs/<experiment>/<id>.
  return join(runDir, '..', '..', '..', 'cache', 'generator');
}

export interface ResolvedGenerator {
  readonly params: GeneratorParams;
  /** Where the weights come from; the same whichever process trained them (it goes into summaries). */
  readonly description: string;
  /** Seconds spent training here (0 when the weights came from the cache or a checkpoint): a timing, not a result. */
  readonly trainSeconds: number;
  readonly finalLoss: number;
}

/** Something that holds the generator cache's claim until released (`ctx.results` + `ctx.staleAfterMs` in a run). */
export interface CacheLock {
  acquire(name: string): Promise<{ release(): Promise<void> }>;
}

/**
 * Load or train the generator. Training happens once per cache key: the trainer holds the cache's
 * claim (the run store's lease, with a heartbeat), so concurrent runs wait for it instead of
 * training the same weights twice, and a claim left by a killed process is taken over once its
 * heartbeat is stale (with a log line), instead of blocking every later run.
 */
/** Options of the trained generator, as `trainGenerator` gets them. */
function trainingOptions(cfg: GeneratorConfig, cacheDir: string | undefined) {
  return {
    data: loadMnist({ split: 'train', limit: cfg.trainImages }),
    latentDim: 64,
    hidden: cfg.hidden,
    steps: cfg.trainSteps,
    batchSize: cfg.trainBatchSize,
    learningRate: cfg.learningRate,
    seed: cfg.seed,
    ...(cacheDir !== undefined ? { cacheDir } : {}),
  };
}

/** Name of the cache claim (and weights file stem) of a trained generator: `generator-<key>`. */
export function generatorCacheName(cfg: GeneratorConfig): string {
  return `generator-${generatorCacheKey(trainingOptions(cfg, undefined))}`;
}

export async function resolveGenerator(
  cfg: GeneratorConfig,
  cacheDir: string,
  lock: CacheLock,
  log: (m: string) => void = () => {},
): Promise<ResolvedGenerator> {
  if (cfg.source !== 'trained') {
    const params = generatorFromStateDict(loadTorchCheckpoint(cfg.source), cfg.source);
    return {
      params,
      description: `PyTorch checkpoint ${cfg.source}`,
      trainSeconds: 0,
      finalLoss: Number.NaN,
    };
  }
  const options = trainingOptions(cfg, cacheDir);
  const key = generatorCacheKey(options);
  const weights = generatorCacheFile(cacheDir, options);
  const description = `VAE decoder trained on ${cfg.trainImages} MNIST images (key ${key})`;
  mkdirSync(cacheDir, { recursive: true });
  const fresh = !existsSync(weights);
  const claim = fresh ? await lock.acquire(`generator-${key}`) : undefined;
  try {
    const training = !existsSync(weights);
    if (training)
      log(`training the generator (VAE, ${cfg.trainSteps} steps, batch ${cfg.trainBatchSize}, key ${key})`);
    const t0 = performance.now();
    const g = trainGenerator({
      ...options,
      ...(training
        ? {
            logEvery: Math.max(1, Math.floor(cfg.trainSteps / 10)),
            onProgress: (s: number, l: number) =>
              log(`generator step ${s}: −ELBO ${l.toFixed(1)} nats/image`),
          }
        : {}),
    });
    return {
      params: g.params,
      description,
      trainSeconds: training ? (performance.now() - t0) / 1000 : 0,
      finalLoss: g.finalLoss,
    };
  } finally {
    await claim?.release();
  }
}

/**
 * The rotated-MNIST model of one E3 or E4 run: its generator (resolved through the store's shared
 * cache under the cache lock; training time, when this run trained it, recorded as a timing), with
 * `nImages` images and noise sd `noiseSd`.
 */
export async function rotatedModelForRun(
  generator: GeneratorConfig,
  nImages: number,
  noiseSd: number,
  ctx: RunContext,
): Promise<{ gen: ResolvedGenerator; model: RotatedMnistModel }> {
  const gen = await resolveGenerator(
    generator,
    generatorCacheDir(ctx.store.dir),
    ctx.results.cacheLock(ctx.staleAfterMs, ctx.log),
    ctx.log,
  );
  if (gen.trainSeconds > 0) ctx.timing('generatorTrain', gen.trainSeconds);
  return { gen, model: rotatedMnistModel({ generator: gen.params, nImages, noiseSd }) };
}
