import * as dist from '@gcvi/distributions';
import * as kernels from '@gcvi/kernels';
import { describe, expect, it } from 'vitest';

// log I0 and I1/I0 live once, in @gcvi/kernels (tested there against float64 references); this
// package re-exports them for its users and must not carry its own copy.
const SHARED: [string, unknown, unknown][] = [
  ['i1OverI0', dist.i1OverI0, kernels.i1OverI0],
  ['i1OverI0DerivNumber', dist.i1OverI0DerivNumber, kernels.i1OverI0DerivNumber],
  ['i1OverI0Number', dist.i1OverI0Number, kernels.i1OverI0Number],
  ['i1OverI0OverKappa', dist.i1OverI0OverKappa, kernels.i1OverI0OverKappa],
  ['i1OverI0OverKappaNumber', dist.i1OverI0OverKappaNumber, kernels.i1OverI0OverKappaNumber],
  ['logI0', dist.logI0, kernels.logI0],
  ['logI0e', dist.logI0e, kernels.logI0e],
  ['logI0eNumber', dist.logI0eNumber, kernels.logI0eNumber],
  ['logI0Number', dist.logI0Number, kernels.logI0Number],
  ['logI0OfSquare', dist.logI0OfSquare, kernels.logI0OfSquare],
  ['oneMinusI1OverI0Number', dist.oneMinusI1OverI0Number, kernels.oneMinusI1OverI0Number],
  ['setSpecialFunctionMode', dist.setSpecialFunctionMode, kernels.setSpecialFunctionMode],
];

describe('special functions', () => {
  it.each(SHARED)('%s is the @gcvi/kernels function itself', (_name, mine, theirs) => {
    expect(typeof mine).toBe('function');
    expect(mine).toBe(theirs);
  });
});
