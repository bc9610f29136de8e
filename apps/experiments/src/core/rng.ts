import type { RandomStream } from '@gcvi/objective-contract';
import { Rng } from '@gcvi/runtime';

/**
 * The stream `fit` hands a problem (typed as the contract's `RandomStream`) as the runtime's `Rng`,
 * the one stream type simulators take (`Simulator.sample(n, rng)`). `fit` passes child streams of
 * the run's `Rng`; anything else is a programming error, said so.
 */
export function asRng(rng: RandomStream, where: string): Rng {
  if (rng instanceof Rng) return rng;
  throw new TypeError(`${where}: expected the runtime's Rng (a child stream of the run's rng)`);
}
