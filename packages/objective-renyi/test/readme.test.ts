import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const dir = join(__dirname, '..');

describe('README example', () => {
  it('is the same code as examples/readme.ts and runs: the plugin loads by name and fits the posterior', async () => {
    const readme = readFileSync(join(dir, 'README.md'), 'utf8');
    const block = /```ts\n([\s\S]*?)```/.exec(readme)?.[1];
    const file = readFileSync(join(dir, 'examples', 'readme.ts'), 'utf8');
    expect(block?.trimEnd()).toBe(file.trimEnd());
    const { main } = await import('../examples/readme.js');
    const out = (await main()) as { slope: number; variance: number };
    expect(Math.abs(out.slope - 0.5)).toBeLessThan(0.04);
    expect(Math.abs(out.variance - 0.5)).toBeLessThan(0.06);
  });
});
