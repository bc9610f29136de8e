import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OBJECTIVE_CONTRACT_VERSION } from '@gcvi/objective-contract';
import { initBackend } from '@gcvi/runtime';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  createRegistry,
  elbo,
  forwardKl,
  getObjective,
  iwbo,
  listObjectives,
  loadObjectivePlugins,
  registerObjective,
} from '../src/index.js';

beforeAll(async () => {
  await initBackend();
});

const custom = {
  ...forwardKl,
  name: 'my-objective',
  description: 'a copy of forward-kl under another name',
};

describe('registry', () => {
  it('the default registry holds the built-ins', () => {
    expect(listObjectives()).toEqual(['elbo', 'forward-kl', 'iwbo']);
    expect(getObjective('forward-kl')).toBe(forwardKl);
    expect(getObjective('elbo')).toBe(elbo);
    expect(getObjective('iwbo')).toBe(iwbo);
  });

  it('register / get / has / list on a fresh registry', () => {
    const r = createRegistry();
    expect(r.list()).toEqual([]);
    expect(r.register(custom)).toBe(custom);
    expect(r.has('my-objective')).toBe(true);
    expect(r.has('forward-kl')).toBe(false);
    expect(r.get('my-objective')).toBe(custom);
  });

  it('registering a name twice is an error', () => {
    const r = createRegistry([forwardKl]);
    expect(() => r.register(forwardKl)).toThrow(/'forward-kl' is already registered/);
    expect(() => registerObjective(elbo)).toThrow(/'elbo' is already registered/);
  });

  it('an unknown name is an error listing the known names', () => {
    const r = createRegistry([forwardKl, iwbo]);
    expect(() => r.get('elbow')).toThrow("unknown objective 'elbow'; registered: forward-kl, iwbo");
    expect(() => createRegistry().get('x')).toThrow(/registered: \(none\)/);
  });

  it('refuses another contract version, bad names, bad requires, missing functions', () => {
    const r = createRegistry();
    expect(() => r.register({ ...custom, contractVersion: (OBJECTIVE_CONTRACT_VERSION + 1) as 1 })).toThrow(
      /contractVersion: written for objective contract version 2, but this registry runs version 1/,
    );
    expect(() => r.register({ ...custom, name: 'Not Kebab' })).toThrow(
      /objective\.name: must be a kebab-case/,
    );
    expect(() => r.register({ ...custom, requires: ['telepathy'] as never })).toThrow(/requires/);
    expect(() => r.register({ ...custom, loss: undefined as never })).toThrow(
      /'my-objective'\.loss: must be a function/,
    );
    expect(r.list()).toEqual([]);
  });

  it('loadObjectivePlugins names the package that is missing or malformed', async () => {
    const r = createRegistry();
    await expect(loadObjectivePlugins(['@gcvi/no-such-plugin'], r)).rejects.toThrow(
      /plugins\['@gcvi\/no-such-plugin'\]: could not import the plugin package/,
    );
    // @gcvi/runtime is a real package without an `objectives` export.
    await expect(loadObjectivePlugins(['@gcvi/runtime'], r)).rejects.toThrow(
      /plugins\['@gcvi\/runtime'\]: the package must have a named export `objectives`/,
    );
    expect(r.list()).toEqual([]);
  });

  it('finds a plugin installed where this package cannot see it, via resolveFrom (pnpm strict layout)', async () => {
    const app = mkdtempSync(join(tmpdir(), 'gcvi-plugin-app-'));
    try {
      const dir = join(app, 'node_modules', '@acme', 'objective-zero');
      mkdirSync(dir, { recursive: true });
      writeFileSync(
        join(dir, 'package.json'),
        JSON.stringify({
          name: '@acme/objective-zero',
          type: 'module',
          exports: { '.': { import: './index.js' } },
        }),
      );
      writeFileSync(
        join(dir, 'index.js'),
        `export const objectives = [{ name: 'zero', contractVersion: ${OBJECTIVE_CONTRACT_VERSION}, requires: [],
          description: 'always zero', defaults: {}, parseOptions: () => ({}), sampleBatch: () => ({}),
          loss: () => { throw new Error('not for fitting'); } }];\n`,
      );
      const r = createRegistry();
      await expect(
        loadObjectivePlugins(['@acme/objective-zero'], r, { resolveFrom: join(tmpdir(), 'elsewhere') }),
      ).rejects.toThrow(/plugins\['@acme\/objective-zero'\]: could not import/);
      expect(await loadObjectivePlugins(['@acme/objective-zero'], r, { resolveFrom: app })).toEqual(['zero']);
      expect(r.get('zero').description).toBe('always zero');
    } finally {
      rmSync(app, { recursive: true, force: true });
    }
  });
});
