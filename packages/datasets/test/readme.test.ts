import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectReadmeShowsExample } from '../../../test-support/readme.js';

const dir = join(__dirname, '..');

describe('README example', () => {
  it('is the same code as examples/readme.ts and runs', async () => {
    expectReadmeShowsExample(dir);
    const { main } = await import('../examples/readme.js');
    const out = (await main()) as { mode: number; exactNll: number };
    expect(out.mode).toBeGreaterThan(0);
    expect(out.mode).toBeLessThan(2 * Math.PI);
    // 1,000 draws: the entropy 0.726 ± ~0.02 sampling noise.
    expect(Math.abs(out.exactNll - 0.726)).toBeLessThan(0.1);
  });
});
