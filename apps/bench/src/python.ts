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
