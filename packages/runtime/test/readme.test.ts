import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectReadmeShowsExample } from '../../../test-support/readme.js';

const dir = join(__dirname, '..');

describe('README example', () => {
  it('is the same code as examples/readme.ts and runs', async () => {
    expectReadmeShowsExample(dir);
    const { main } = await import('../examples/readme.js');
    const out = (await main()) as { shape: number[]; first: number };
    expect(out.shape).toEqual([4, 3]);
    expect(Number.isFinite(out.first)).toBe(true);
  });
});
