import { describe, expect, it } from 'vitest';
import { BUDGETS, SBI_NPE, SBI_NPE_BY_OBSERVATION, sbiNpeMean, TASKS } from '../src/config.js';

// The per-observation numbers (sbi-benchmark/results, main_paper.csv) against the published
// means over observations 1–10 (the table): a check of the transcription.
describe("sbi's NPE numbers per observation", () => {
  it.each(TASKS.flatMap((t) => BUDGETS.map((b) => [t, b] as const)))(
    '%s at %i: ten observations whose mean is the published number',
    (task, budget) => {
      const v = SBI_NPE_BY_OBSERVATION[task][budget]!;
      expect(v).toHaveLength(10);
      const all = sbiNpeMean(task, budget, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
      expect(Math.abs(all - SBI_NPE[task][budget]!)).toBeLessThanOrEqual(0.0005);
      const first5 = sbiNpeMean(task, budget, [1, 2, 3, 4, 5]);
      expect(first5).toBeCloseTo(v.slice(0, 5).reduce((s, x) => s + x, 0) / 5, 12);
    },
  );
  it('an unknown budget is one error naming it', () => {
    expect(() => sbiNpeMean('slcp', 5000, [1])).toThrow(/budget: sbi has no NPE number for slcp at 5000/);
  });
});
