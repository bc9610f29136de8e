import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { simdModule } from '../src/wasm/simd.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

describe('SIMD wasm module', () => {
  it('the committed bytes are the compile of src/wasm/simd.wat', () => {
    const out = execFileSync(process.execPath, [join(root, 'scripts', 'build-wasm.mjs'), '--check'], {
      encoding: 'utf8',
    });
    expect(out).toMatch(/up to date/);
  });

  it('instantiates on this Node (SIMD available) and flags non-finite values', () => {
    const m = simdModule();
    expect(m).not.toBeNull();
    if (!m) return;
    const mem = new Float32Array(m.memory.buffer);
    mem.set([1, 2, 3, 4, 5, 6, 7, 8], 0);
    expect(m.nonfinite(0, 8)).toBe(0);
    mem[5] = Number.NaN;
    expect(m.nonfinite(0, 8)).toBe(1);
    mem[5] = Number.NEGATIVE_INFINITY;
    expect(m.nonfinite(0, 8)).toBe(1);
    expect(m.nonfinite(0, 4)).toBe(0);
  });
});
