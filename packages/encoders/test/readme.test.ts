import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { main } from '../examples/readme.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const strip = (s: string) =>
  s
    .split('\n')
    .map((l) => l.trimEnd())
    .join('\n')
    .trim();

describe('README example', () => {
  it('is the same code as examples/readme.ts', () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    const block = /```ts\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(block, 'README has a ```ts block').toBeDefined();
    expect(strip(block!)).toBe(strip(readFileSync(join(root, 'examples', 'readme.ts'), 'utf8')));
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
