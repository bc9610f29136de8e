import { existsSync } from 'node:fs';
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

  it('runs and writes the figures', async () => {
    const r = await main();
    expect(r.svgBytes).toBeGreaterThan(500);
    expect(r.pngBytes).toBeGreaterThan(500);
    for (const f of r.files) expect(existsSync(f)).toBe(true);
  });
});
