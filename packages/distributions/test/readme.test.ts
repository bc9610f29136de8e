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

  it('runs', async () => {
    const r = (await main()) as {
      nll: number;
      special: { logI0: number[]; ratio: number[] };
      klValue: number[];
    };
    expect(Number.isFinite(r.nll)).toBe(true);
    expect(r.special.logI0[0]).toBe(0);
    expect(r.special.logI0[2]).toBeCloseTo(9994.4759, 2);
    expect(r.special.ratio[2]).toBeCloseTo(0.99995, 6);
    expect(r.klValue.every(Number.isFinite)).toBe(true);
  });
});
