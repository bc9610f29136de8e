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
    const out = (await main()) as { mode: number; exactNll: number };
    expect(out.mode).toBeGreaterThan(0);
    expect(out.mode).toBeLessThan(2 * Math.PI);
    // 1,000 draws: the entropy 0.726 ± ~0.02 sampling noise.
    expect(Math.abs(out.exactNll - 0.726)).toBeLessThan(0.1);
  });
});
