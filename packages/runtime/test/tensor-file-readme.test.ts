import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { tensorFileExample } from '../examples/tensor-file.js';
import { initBackend } from '../src/index.js';

beforeAll(async () => {
  await initBackend();
});

describe('README tensor-file example', () => {
  it('is the code of examples/tensor-file.ts and runs', () => {
    const readme = readFileSync(join(__dirname, '..', 'README.md'), 'utf8');
    const example = readFileSync(join(__dirname, '..', 'examples', 'tensor-file.ts'), 'utf8');
    expect(readme).toContain(example.trim());
    expect(tensorFileExample()).toEqual({
      meta: { width: 3, note: 'any JSON' },
      shape: [2, 3],
      values: [1, 2, 3, 4, 5, 6],
    });
  });
});
