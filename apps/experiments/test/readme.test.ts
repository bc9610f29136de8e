import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectReadmeShowsExample } from '../../../test-support/readme.js';

const dir = join(__dirname, '..');

describe('README example', () => {
  it('is the same code as examples/readme.ts and runs', async () => {
    expectReadmeShowsExample(dir);
    const { main } = await import('../examples/readme.js');
    const out = (await main()) as { summary: Record<string, Record<string, Record<string, number>>> };
    const nll = out.summary['exact-nll']!.nll!;
    expect(Object.keys(nll).sort()).toEqual(['100', '1600', '400']);
    // independent value: ½ log(2πe·0.25); the 1,600-point mean is within sampling noise of it
    expect(Math.abs(nll['1600']! - 0.5 * Math.log(2 * Math.PI * Math.E * 0.25))).toBeLessThan(0.05);
  });
});
