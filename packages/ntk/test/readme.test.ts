import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectReadmeShowsExample } from '../../../test-support/readme.js';

const dir = join(__dirname, '..');

describe('README example', () => {
  it('is the same code as examples/readme.ts and runs', async () => {
    expectReadmeShowsExample(dir);
    const { main } = await import('../examples/readme.js');
    const out = (await main()) as { row: { jacobianDistance: number; eig1: number }; lambdaMin: number };
    expect(out.row.jacobianDistance).toBeGreaterThan(0);
    expect(Number.isFinite(out.row.eig1)).toBe(true);
    expect(out.lambdaMin).toBeGreaterThan(0);
  });
});
