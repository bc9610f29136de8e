import { describe, expect, it } from 'vitest';
import { PAGE_DEFAULTS, queryFromSettings, settingsFromQuery } from '../src/config.js';
import { ticks } from '../src/draw.js';

describe('page settings in the address', () => {
  it('reads every parameter and round-trips', () => {
    const { settings, problems } = settingsFromQuery('?width=1024&lr0=0.001&seed=7&steps=300&backend=wasm');
    expect(problems).toEqual([]);
    expect(settings).toEqual({
      width: 1024,
      lr0: 0.001,
      seed: 7,
      steps: 300,
      backend: 'wasm',
      autostart: false,
    });
    expect(settingsFromQuery(queryFromSettings(settings)).settings).toEqual(settings);
    expect(queryFromSettings(PAGE_DEFAULTS)).toBe('');
  });

  it('names malformed parameters and keeps the defaults for them', () => {
    const { settings, problems } = settingsFromQuery('?width=-3&lr0=abc&backend=metal&seed=1');
    expect(problems).toEqual(['width=-3', 'lr0=abc', 'backend=metal']);
    expect(settings).toEqual({ ...PAGE_DEFAULTS, seed: 1 });
  });
});

describe('ticks', () => {
  it('gives round values covering the range', () => {
    expect(ticks(0, 300, 6)).toEqual([0, 50, 100, 150, 200, 250, 300]);
    expect(ticks(0.68, 1.9, 6)).toEqual([0.8, 1, 1.2, 1.4, 1.6, 1.8]);
  });
});
