import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(__dirname, '..');

describe('a plugin depends only on the contract, the helpers and tfjs-core', () => {
  it('src imports nothing else, and package.json declares exactly those', () => {
    const allowed = ['@gcvi/objective-contract', '@gcvi/objective-utils', '@tensorflow/tfjs-core'];
    for (const f of readdirSync(join(root, 'src'))) {
      const text = readFileSync(join(root, 'src', f), 'utf8');
      for (const m of text.matchAll(/from '([^']+)'/g)) {
        const spec = m[1] as string;
        if (spec.startsWith('.')) continue;
        expect(allowed, `src/${f} imports ${spec}`).toContain(spec);
      }
    }
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
      peerDependencies: Record<string, string>;
    };
    expect(Object.keys(pkg.dependencies).sort()).toEqual([
      '@gcvi/objective-contract',
      '@gcvi/objective-utils',
    ]);
    expect(Object.keys(pkg.peerDependencies)).toEqual(['@tensorflow/tfjs-core']);
  });
});
