import { createRng, initBackend, type Rng } from '@gcvi/runtime';
import { beforeAll, describe, expect, expectTypeOf, it } from 'vitest';
import type { RandomStream } from '../src/index.js';

beforeAll(async () => {
  await initBackend();
});

describe('RandomStream is the structural view of the runtime Rng', () => {
  it("Rng satisfies it (types), and a stream typed as RandomStream is the runtime's", () => {
    expectTypeOf<Rng>().toMatchTypeOf<RandomStream>();
    const s: RandomStream = createRng(4);
    const child: RandomStream = s.split('a');
    // Same numbers through either type: one stream, not a copy.
    const direct = createRng(4).split('a');
    expect([child.uniform(), child.normal()]).toEqual([direct.uniform(), direct.normal()]);
    const t = child.normalTensor([3], 1, 2);
    const u = direct.normalTensor([3], 1, 2);
    expect(Array.from(t.dataSync())).toEqual(Array.from(u.dataSync()));
    t.dispose();
    u.dispose();
  });
});
