import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { expectReadmeShowsExample } from '../../../test-support/readme.js';
import { main } from '../examples/readme.js';

const here = dirname(fileURLToPath(import.meta.url));
describe('README example', () => {
  it('the first ts block of the README is examples/readme.ts', () => {
    expectReadmeShowsExample(join(here, '..'));
  });

  it('runs: own simulator → trained posterior → samples → SBC figure → save → load', async () => {
    const r = await main();
    expect(Number.isFinite(r.finalLoss)).toBe(true);
    // exact posterior sd is 1/√21 ≈ 0.22 per coordinate
    r.mean.forEach((m, j) => {
      expect(Math.abs(m - r.exactMean[j]!)).toBeLessThan(0.1);
    });
    expect(r.sbcWithinBand).toEqual([true, true]);
    expect(r.figure.endsWith('sbc.svg')).toBe(true);
    expect(r.loadedMaxDifference).toBe(0);
  });
});
