import { createRequire } from 'node:module';
import * as tf from '@tensorflow/tfjs-core';
// The cpu backend (always there) and the gradients of tfjs-core's ops: tfjs-core's CommonJS main
// registers none, so the build bundles its register_all_gradients into dist/tfjs-gradients.js
// (scripts/bundle-gradients.mjs). No `@tensorflow/tfjs`: that would pull in layers, converter,
// data and webgl. wasm is imported on demand below; tfjs-node, when installed, brings its own.
import '@tensorflow/tfjs-backend-cpu';
import '#tfjs-gradients';
// The types of those chained ops (`x.add(y)` on a Tensor): tfjs-core declares them as module
// augmentations in this file. A type-only import used by an exported type keeps it in the emitted
// .d.ts, so every package using @gcvi/runtime sees the chained ops it registers.
import type * as chainedOps from '@tensorflow/tfjs-core/dist/public/chained_ops/register_all_chained_ops.js';
import { BackendError, ConfigError } from './errors.js';

/** tfjs-core's chained-op module, whose augmentations of `Tensor` this package registers. */
export type TfjsChainedOps = typeof chainedOps;

/**
 * Backend choice. `auto` tries tfjs-node ('tensorflow'), then 'wasm', then 'cpu'. An explicit
 * request (option or the GCVI_BACKEND environment variable) that cannot load is an error naming
 * the backend and the reason, never a silent fallback.
 */
export const BACKENDS = ['tensorflow', 'wasm', 'cpu'] as const;
export type BackendName = (typeof BACKENDS)[number];
export type BackendRequest = BackendName | 'auto';

export interface BackendInfo {
  /** The backend in use. */
  readonly name: BackendName;
  /** What was asked for (`auto` unless an option or GCVI_BACKEND named one). */
  readonly requested: BackendRequest;
  /** Where the request came from. */
  readonly source: 'option' | 'env' | 'default';
  /** Backends tried before the chosen one under `auto`, with why each failed. */
  readonly skipped: ReadonlyArray<{ readonly backend: BackendName; readonly reason: string }>;
  readonly tfjsVersion: string;
  /** wasm only: whether SIMD and threads are in use. */
  readonly wasm?: { readonly simd: boolean; readonly threads: number };
}

export interface InitBackendOptions {
  /** Backend to use; overrides GCVI_BACKEND. Default: GCVI_BACKEND or 'auto'. */
  backend?: BackendRequest;
  /** Environment to read GCVI_BACKEND from (default `process.env`). */
  env?: Record<string, string | undefined>;
}

let current: BackendInfo | undefined;
/** Node's require, made on first use (not at import, so the module also loads in a browser bundle). */
let nodeRequire: NodeJS.Require | undefined;
function require(id: string): unknown {
  nodeRequire ??= createRequire(import.meta.url);
  return nodeRequire(id);
}

function errorText(e: unknown): string {
  if (e instanceof Error) return e.message.split('\n')[0] ?? e.message;
  return String(e);
}

async function tryTensorflow(): Promise<string | null> {
  try {
    require('@tensorflow/tfjs-node');
  } catch (e) {
    return `@tensorflow/tfjs-node is not installed or its native library did not load (${errorText(e)})`;
  }
  return (await setQuietly('tensorflow'))
    ? null
    : 'tfjs-node loaded but the tensorflow backend failed to initialise';
}

async function tryWasm(): Promise<string | null> {
  try {
    await import('@tensorflow/tfjs-backend-wasm');
  } catch (e) {
    return `@tensorflow/tfjs-backend-wasm could not be imported (${errorText(e)})`;
  }
  return (await setQuietly('wasm')) ? null : 'the wasm module failed to initialise';
}

async function tryCpu(): Promise<string | null> {
  return (await setQuietly('cpu')) ? null : 'the cpu backend failed to initialise';
}

/** tf.setBackend logs failures with console.warn; we report them ourselves. */
async function setQuietly(name: BackendName): Promise<boolean> {
  const warn = console.warn;
  const messages: string[] = [];
  console.warn = (...args: unknown[]) => {
    messages.push(args.map(String).join(' '));
  };
  try {
    if (!tf.findBackendFactory(name)) return false;
    return await tf.setBackend(name);
  } catch {
    return false;
  } finally {
    console.warn = warn;
  }
}

const TRY: Record<BackendName, () => Promise<string | null>> = {
  tensorflow: tryTensorflow,
  wasm: tryWasm,
  cpu: tryCpu,
};

function parseRequest(value: string, field: string): BackendRequest {
  if (value === 'auto' || (BACKENDS as readonly string[]).includes(value)) return value as BackendRequest;
  throw new ConfigError(field, `unknown backend '${value}'; use one of auto, ${BACKENDS.join(', ')}`);
}

/**
 * Select and initialise the tfjs backend. Safe to call again: asking for the backend already in
 * use is a no-op; asking for another switches to it.
 */
export async function initBackend(options: InitBackendOptions = {}): Promise<BackendInfo> {
  const env = options.env ?? process.env;
  let requested: BackendRequest = 'auto';
  let source: BackendInfo['source'] = 'default';
  if (options.backend !== undefined) {
    requested = parseRequest(options.backend, 'backend');
    source = 'option';
  } else if (env.GCVI_BACKEND !== undefined && env.GCVI_BACKEND !== '') {
    requested = parseRequest(env.GCVI_BACKEND, 'GCVI_BACKEND');
    source = 'env';
  }
  if (current && (requested === current.name || (requested === 'auto' && current.requested === 'auto'))) {
    return current;
  }
  const skipped: { backend: BackendName; reason: string }[] = [];
  let chosen: BackendName | undefined;
  if (requested === 'auto') {
    for (const name of BACKENDS) {
      const reason = await TRY[name]();
      if (reason === null) {
        chosen = name;
        break;
      }
      skipped.push({ backend: name, reason });
    }
    if (!chosen) {
      throw new BackendError(
        'auto',
        `no backend could be loaded: ${skipped.map((s) => `${s.backend}: ${s.reason}`).join('; ')}`,
      );
    }
  } else {
    const reason = await TRY[requested]();
    if (reason !== null) {
      throw new BackendError(
        requested,
        `${reason}. It was requested by ${source === 'env' ? 'GCVI_BACKEND' : 'the backend option'}; ` +
          `use GCVI_BACKEND=auto to fall back automatically`,
      );
    }
    chosen = requested;
  }
  current = {
    name: chosen,
    requested,
    source,
    skipped,
    tfjsVersion: tf.version_core,
    ...(chosen === 'wasm' ? { wasm: wasmDetails() } : {}),
  };
  return current;
}

function wasmDetails(): { simd: boolean; threads: number } {
  let threads = 1;
  try {
    const wasm = require('@tensorflow/tfjs-backend-wasm') as { getThreadsCount?: () => number };
    threads = wasm.getThreadsCount?.() ?? 1;
  } catch {
    // keep 1
  }
  return { simd: Boolean(tf.env().getBool('WASM_HAS_SIMD_SUPPORT')), threads };
}

/** The backend chosen by the last `initBackend`, or undefined before any call. */
export function backendInfo(): BackendInfo | undefined {
  return current;
}

/** One line for logs: `backend wasm (auto; skipped tensorflow: …)`. */
export function describeBackend(info: BackendInfo): string {
  const skipped = info.skipped.length
    ? `; skipped ${info.skipped.map((s) => `${s.backend}: ${s.reason}`).join('; ')}`
    : '';
  const wasm = info.wasm ? `, simd ${info.wasm.simd ? 'on' : 'off'}, threads ${info.wasm.threads}` : '';
  return `backend ${info.name} (requested ${info.requested} via ${info.source}${wasm}, tfjs ${info.tfjsVersion}${skipped})`;
}
