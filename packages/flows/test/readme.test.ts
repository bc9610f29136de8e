import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { expectReadmeShowsExample } from '../../../test-support/readme.js';
import { main } from '../examples/readme.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
describe('README example', () => {
  it('is the same code as examples/readme.ts', () => {
    expectReadmeShowsExample(root);
  });

  // 400 Adam steps: ~10 s on an idle 2-core machine, minutes on a loaded one.
  it('runs and shows what it claims', { timeout: 900_000 }, async () => {
    const out = (await main()) as {
      nllStart: number;
      nllEnd: number;
      exactNll: number;
      rightMode: number;
      maxAbs: number;
    };
    expect(out.nllEnd).toBeLessThan(out.nllStart - 2);
    expect(out.nllEnd - out.exactNll).toBeLessThan(0.3);
    expect(Math.abs(out.rightMode - 0.5)).toBeLessThan(0.1);
    expect(out.maxAbs).toBeLessThan(1);
  });
});
