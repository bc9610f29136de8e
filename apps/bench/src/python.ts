import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Debian's interpreter (python3-torch lives there; a pyenv `python3` on PATH may lack torch). */
export const PYTHON = process.env.GCVI_BENCH_PYTHON ?? '/usr/bin/python3';

const here = dirname(fileURLToPath(import.meta.url));
/** apps/bench/python, from src/ (tsx, vitest) or dist/ (node). */
export const PYTHON_DIR = join(here, '..', 'python');

export type TorchProbe = { ok: true; version: string } | { ok: false; reason: string };

/** Whether PyTorch can be imported by PYTHON, with the reason when not. */
export function probeTorch(): TorchProbe {
  if (!existsSync(PYTHON)) return { ok: false, reason: `${PYTHON} not found (install python3-torch)` };
  try {
    const version = execFileSync(PYTHON, ['-c', 'import torch; print(torch.__version__)'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    }).trim();
    return { ok: true, version };
  } catch (e) {
    const msg = e instanceof Error ? e.message.split('\n').slice(-2).join(' ') : String(e);
    return {
      ok: false,
      reason: `torch cannot be imported by ${PYTHON} (${msg.trim()}); apt-get install python3-torch`,
    };
  }
}

/** Run one of our python bench scripts; it prints one JSON object on stdout. */
export function runPythonBench<T>(script: string, args: readonly string[]): T {
  const out = execFileSync(PYTHON, [join(PYTHON_DIR, script), ...args], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    maxBuffer: 16 * 1024 * 1024,
  });
  return parseLastJson<T>(out, script);
}

/** The last line of `out` that parses as JSON (scripts may print warnings first). */
export function parseLastJson<T>(out: string, what: string): T {
  const lines = out.trim().split('\n').reverse();
  for (const l of lines) {
    const s = l.trim();
    if (!s.startsWith('{')) continue;
    try {
      return JSON.parse(s) as T;
    } catch {
      // keep looking
    }
  }
  throw new Error(`${what}: no JSON result in its output: ${out.slice(0, 500)}`);
}

export interface BlasProbe {
  readonly torch: string;
  /** Shared objects of a BLAS mapped into PyTorch's process (symlinks resolved). */
  readonly blasPaths: string[];
  /** 'openblas' | 'mkl' | 'blis' | 'atlas' | 'reference' | 'none-mapped'. */
  readonly blas: string;
  readonly sgemmSize: number;
  /** Measured torch.mm GFLOP/s by thread count. */
  readonly sgemmGflops: Record<string, number>;
}

/** Which BLAS PyTorch loads and its sgemm rate at the given thread counts (python/blas_probe.py). */
export function probeBlas(threads: readonly number[]): BlasProbe {
  return runPythonBench<BlasProbe>('blas_probe.py', ['--threads', threads.join(','), '--size', '1024']);
}

/**
 * Why ratios against this PyTorch would be unfair, or null when its BLAS is an optimized one. The
 * reference BLAS (Debian's libblas3) is ~100× slower at sgemm than OpenBLAS.
 */
export function unfairBlas(p: BlasProbe): string | null {
  if (p.blas === 'reference') {
    return (
      `PyTorch loads the reference BLAS (${p.blasPaths.join(', ')}): ratios against it are not reported. ` +
      'Install an optimized one: apt-get install -y libopenblas0-pthread (update-alternatives then selects it).'
    );
  }
  if (p.blas === 'none-mapped') {
    return 'no BLAS library is mapped into the PyTorch process: cannot tell which one it uses; ratios not reported';
  }
  return null;
}
