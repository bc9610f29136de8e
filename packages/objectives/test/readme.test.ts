import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectReadmeShowsExample } from '../../../test-support/readme.js';

const dir = join(__dirname, '..');

describe('README example', () => {
  it('is the same code as examples/readme.ts and runs: the hand-written objective fits the exact posterior', async () => {
    expectReadmeShowsExample(dir);
    const { main } = await import('../examples/readme.js');
    const out = (await main()) as { slope: number; variance: number; stepsDone: number };
    expect(out.stepsDone).toBe(600);
    // Exact posterior N(x/2, 1/2); tolerances as in the conformance suite.
    expect(Math.abs(out.slope - 0.5)).toBeLessThan(0.04);
    expect(Math.abs(out.variance - 0.5)).toBeLessThan(0.06);
  });
});
