import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectReadmeShowsExample } from '../../../test-support/readme.js';

const dir = join(__dirname, '..');

describe('README example', () => {
  it('is the same code as examples/readme.ts and runs', async () => {
    expectReadmeShowsExample(dir);
    const { main } = await import('../examples/readme.js');
    const out = (await main()) as { loss: number; gradShape: number[] };
    // η = 1e-4 at init (W2 = 0): the loss is log 2π + log I0(~1e-4) − 1e-4 ≈ log 2π.
    expect(Math.abs(out.loss - Math.log(2 * Math.PI))).toBeLessThan(1e-3);
    expect(out.gradShape).toEqual([4, 500, 16]);
  });
});
