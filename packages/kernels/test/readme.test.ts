import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const dir = join(__dirname, '..');

describe('README example', () => {
  it('is the same code as examples/readme.ts and runs', async () => {
    const readme = readFileSync(join(dir, 'README.md'), 'utf8');
    const block = /```ts\n([\s\S]*?)```/.exec(readme)?.[1];
    const file = readFileSync(join(dir, 'examples', 'readme.ts'), 'utf8');
    expect(block?.trimEnd()).toBe(file.trimEnd());
    const { main } = await import('../examples/readme.js');
    const out = (await main()) as { loss: number; gradShape: number[] };
    // η = 1e-4 at init (W2 = 0): the loss is log 2π + log I0(~1e-4) − 1e-4 ≈ log 2π.
    expect(Math.abs(out.loss - Math.log(2 * Math.PI))).toBeLessThan(1e-3);
    expect(out.gradShape).toEqual([4, 500, 16]);
  });
});
