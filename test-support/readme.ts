import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';

const normalize = (s: string) =>
  s
    .split('\n')
    .map((l) => l.trimEnd())
    .join('\n')
    .trim();

/**
 * Every package README's first ```ts block is its runnable example, kept as `examples/readme.ts`
 * so that it is typechecked and run by the package's tests. Assert the two are the same code.
 */
export function expectReadmeShowsExample(packageDir: string): void {
  const readme = readFileSync(join(packageDir, 'README.md'), 'utf8');
  const block = /```ts\n([\s\S]*?)```/.exec(readme)?.[1];
  expect(block, `${join(packageDir, 'README.md')} has no \`\`\`ts block`).toBeDefined();
  const file = readFileSync(join(packageDir, 'examples', 'readme.ts'), 'utf8');
  expect(normalize(block as string)).toBe(normalize(file));
}
