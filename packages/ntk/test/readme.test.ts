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
    const out = (await main()) as { row: { jacobianDistance: number; eig1: number }; lambdaMin: number };
    expect(out.row.jacobianDistance).toBeGreaterThan(0);
    expect(Number.isFinite(out.row.eig1)).toBe(true);
    expect(out.lambdaMin).toBeGreaterThan(0);
  });
});
