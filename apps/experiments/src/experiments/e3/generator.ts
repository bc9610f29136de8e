import { closeSync, existsSync, mkdirSync, openSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  type GeneratorParams,
  generatorCacheKey,
  generatorFromStateDict,
  loadMnist,
  loadTorchCheckpoint,
  trainGenerator,
} from '@gcvi/datasets';
import { z } from 'zod';

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

/** `--generator trained|<checkpoint path>` reaches the plans through this variable. */
export function generatorSourceFromEnv(env: NodeJS.ProcessEnv = process.env): string {
  const v = env.GCVI_GENERATOR?.trim();
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
  readonly description: string;
  /** Training time recorded when the weights were trained (0 for a checkpoint). */
  readonly trainSeconds: number;
  readonly cached: boolean;
  readonly finalLoss: number;
}

async function sleep(ms: number): Promise<void> {
  await new Promise((r) => setTimeout(r, ms));
}

/**
 * Load or train the generator. Training happens once per cache key: a lock file makes concurrent
 * runs (worker processes) wait for the first one instead of training the same weights twice.
 */
export async function resolveGenerator(
  cfg: GeneratorConfig,
  cacheDir: string,
  log: (m: string) => void = () => {},
): Promise<ResolvedGenerator> {
  if (cfg.source !== 'trained') {
    const params = generatorFromStateDict(loadTorchCheckpoint(cfg.source), cfg.source);
    return {
      params,
      description: `PyTorch checkpoint ${cfg.source}`,
      trainSeconds: 0,
      cached: true,
      finalLoss: Number.NaN,
    };
  }
  const data = loadMnist({ split: 'train', limit: cfg.trainImages });
  const options = {
    data,
    latentDim: 64,
    hidden: cfg.hidden,
    steps: cfg.trainSteps,
    batchSize: cfg.trainBatchSize,
    learningRate: cfg.learningRate,
    seed: cfg.seed,
    cacheDir,
  };
  const key = generatorCacheKey(options);
  const weights = join(cacheDir, `generator-${key}.json`);
  const lock = join(cacheDir, `generator-${key}.lock`);
  mkdirSync(cacheDir, { recursive: true });
  for (;;) {
    if (existsSync(weights)) break;
    let fd: number | undefined;
    try {
      fd = openSync(lock, 'wx');
    } catch {
      // Another process is training; a lock older than 2 hours is stale (that process died).
      try {
        if (Date.now() - statSync(lock).mtimeMs > 2 * 3600_000) rmSync(lock, { force: true });
      } catch {}
      await sleep(2000);
      continue;
    }
    try {
      log(`training the generator (VAE, ${cfg.trainSteps} steps, batch ${cfg.trainBatchSize}, key ${key})`);
      const g = trainGenerator({
        ...options,
        logEvery: Math.max(1, Math.floor(cfg.trainSteps / 10)),
        onProgress: (s, l) => log(`generator step ${s}: −ELBO ${l.toFixed(1)} nats/image`),
      });
      return {
        params: g.params,
        description: `VAE decoder trained on ${cfg.trainImages} MNIST images (key ${key})`,
        trainSeconds: g.trainMs / 1000,
        cached: false,
        finalLoss: g.finalLoss,
      };
    } finally {
      closeSync(fd);
      rmSync(lock, { force: true });
    }
  }
  const g = trainGenerator(options);
  return {
    params: g.params,
    description: `VAE decoder trained on ${cfg.trainImages} MNIST images (key ${key}, cached)`,
    trainSeconds: g.trainMs / 1000,
    cached: true,
    finalLoss: g.finalLoss,
  };
}
