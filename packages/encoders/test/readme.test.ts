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

  it('runs and shows what it claims', async () => {
    const out = (await main()) as {
      firstLayerGrad: number;
      jvpGap: number;
      setOutputShape: number[];
      rebuilt: string;
    };
    expect(out.firstLayerGrad).toBe(0);
    expect(out.jvpGap).toBeLessThan(1e-4);
    expect(out.setOutputShape).toEqual([3, 5, 2]);
    expect(out.rebuilt).toBe('set-transformer');
  });
});
