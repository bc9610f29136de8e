import * as tf from '@tensorflow/tfjs-core';
import { ConfigError } from './errors.js';

/**
 * Seeded random streams. A stream is xoshiro128** seeded from a key: the root seed plus the path
 * of names used to `split` it. Splitting does not consume numbers from the parent, so
 * `createRng(1).split('data')` is the same stream however much the root has been used, and
 * different names give unrelated streams. Tensors are filled on the JS side and uploaded, so the
 * same seed gives the same numbers on every backend.
 */

export type Seed = number | string;

/** Serializable state of a stream (for checkpoints). */
export interface RngState {
  readonly key: string;
  readonly s: readonly [number, number, number, number];
  readonly spare: number | null;
}

function murmurMix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** 32-bit hash of a string with a given salt (murmur3-style). */
function hashString(str: string, salt: number): number {
  let h = salt >>> 0;
  for (let i = 0; i < str.length; i++) {
    h = Math.imul(h ^ str.charCodeAt(i), 0x5bd1e995);
    h ^= h >>> 15;
  }
  return murmurMix(h ^ str.length);
}

function stateFromKey(key: string): [number, number, number, number] {
  const s: [number, number, number, number] = [
    hashString(key, 0x9e3779b9),
    hashString(key, 0x7f4a7c15),
    hashString(key, 0x94d049bb),
    hashString(key, 0xbf58476d),
  ];
  if ((s[0] | s[1] | s[2] | s[3]) === 0) s[0] = 1;
  return s;
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

export class Rng {
  readonly key: string;
  private s: [number, number, number, number];
  private spare: number | null = null;

  /** Use `createRng(seed)`; this constructor takes an already-derived key. */
  constructor(key: string, state?: RngState) {
    this.key = key;
    this.s = state ? [...state.s] : stateFromKey(key);
    if (state) this.spare = state.spare;
  }

  /** An independent child stream named `name`; same name → same stream. */
  split(name: string): Rng {
    if (typeof name !== 'string' || name.length === 0) {
      throw new ConfigError('name', 'split() needs a non-empty string name');
    }
    return new Rng(`${this.key}/${name}`);
  }

  /** Next uint32. */
  nextUint32(): number {
    const s = this.s;
    const result = Math.imul(rotl(Math.imul(s[1], 5) >>> 0, 7), 9) >>> 0;
    const t = (s[1] << 9) >>> 0;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    s[0] >>>= 0;
    s[1] >>>= 0;
    s[2] >>>= 0;
    return result;
  }

  /** Uniform double in [0, 1) with 53 random bits. */
  uniform(): number {
    const a = this.nextUint32() >>> 5;
    const b = this.nextUint32() >>> 6;
    return (a * 67108864 + b) / 9007199254740992;
  }

  /** Uniform double in (0, 1): safe to take the log of. */
  uniformOpen(): number {
    let u = this.uniform();
    while (u === 0) u = this.uniform();
    return u;
  }

  /** Standard normal by the Box–Muller transform (the second value is kept for the next call). */
  normal(): number {
    if (this.spare !== null) {
      const v = this.spare;
      this.spare = null;
      return v;
    }
    const u1 = this.uniformOpen();
    const u2 = this.uniform();
    const r = Math.sqrt(-2 * Math.log(u1));
    this.spare = r * Math.sin(2 * Math.PI * u2);
    return r * Math.cos(2 * Math.PI * u2);
  }

  /** Integer uniform in [0, n). */
  int(n: number): number {
    if (!Number.isInteger(n) || n <= 0)
      throw new ConfigError('n', `int(n) needs a positive integer, got ${n}`);
    return Math.floor(this.uniform() * n);
  }

  /** A 31-bit integer, for seeding tfjs random ops (`tf.randomNormal(shape, 0, 1, 'float32', seed)`). */
  tfSeed(): number {
    return this.nextUint32() >>> 1;
  }

  fillUniform<T extends Float32Array | Float64Array>(out: T, low = 0, high = 1): T {
    const w = high - low;
    for (let i = 0; i < out.length; i++) out[i] = low + w * this.uniform();
    return out;
  }

  fillNormal<T extends Float32Array | Float64Array>(out: T, mean = 0, std = 1): T {
    for (let i = 0; i < out.length; i++) out[i] = mean + std * this.normal();
    return out;
  }

  /** Fisher–Yates permutation of 0..n-1. */
  permutation(n: number): Int32Array {
    const p = new Int32Array(n);
    for (let i = 0; i < n; i++) p[i] = i;
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(this.uniform() * (i + 1));
      const t = p[i] as number;
      p[i] = p[j] as number;
      p[j] = t;
    }
    return p;
  }

  /** A float32 tensor of standard normals (scaled), filled on the JS side: identical on every backend. */
  normalTensor(shape: number[], mean = 0, std = 1): tf.Tensor {
    const size = shape.reduce((a, b) => a * b, 1);
    return tf.tensor(this.fillNormal(new Float32Array(size), mean, std), shape, 'float32');
  }

  /** A float32 tensor of uniforms on [low, high). */
  uniformTensor(shape: number[], low = 0, high = 1): tf.Tensor {
    const size = shape.reduce((a, b) => a * b, 1);
    return tf.tensor(this.fillUniform(new Float32Array(size), low, high), shape, 'float32');
  }

  /** Snapshot of the stream's position (JSON-serializable). */
  getState(): RngState {
    return { key: this.key, s: [...this.s] as [number, number, number, number], spare: this.spare };
  }

  /** Restore a position saved by `getState` (the key must match). */
  setState(state: RngState): void {
    if (state.key !== this.key) {
      throw new ConfigError('rngState.key', `state belongs to stream '${state.key}', not '${this.key}'`);
    }
    this.s = [...state.s] as [number, number, number, number];
    this.spare = state.spare;
  }
}

/** Root stream for a seed (an integer or a string). */
export function createRng(seed: Seed): Rng {
  if (typeof seed === 'number') {
    if (!Number.isSafeInteger(seed))
      throw new ConfigError('seed', `must be a safe integer or a string, got ${seed}`);
  } else if (typeof seed !== 'string' || seed.length === 0) {
    throw new ConfigError('seed', 'must be a safe integer or a non-empty string');
  }
  return new Rng(`seed:${String(seed)}`);
}

/** Rebuild a stream from a saved state. */
export function rngFromState(state: RngState): Rng {
  return new Rng(state.key, state);
}
