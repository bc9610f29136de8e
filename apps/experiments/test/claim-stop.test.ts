/**
 * A signal that comes while a claim is being taken: the lock thread may already have created the
 * lock directory, which the process does not yet count as held. `releaseAllClaims` (the signal
 * handlers' release) waits for it and removes it; a sync release at that moment would leave it
 * behind for `--stale-after` (the SIGINT fault test caught this once in CI). Its own file: once
 * stopping, this process takes no more claims.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Claim, heldClaims, releaseAllClaims } from '../src/index.js';

const root = mkdtempSync(join(tmpdir(), 'gcvi-claim-stop-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('releaseAllClaims', () => {
  it('removes held claims and a claim taken while it runs, whose tryAcquire then rejects', async () => {
    const held = await Claim.tryAcquire(join(root, 'held.lock'), { staleAfterMs: 2000, purpose: 'held' });
    expect(held).toBeInstanceOf(Claim);
    expect(existsSync(join(root, 'held.lock.owner.json'))).toBe(true);
    // The lock thread starts now and creates its directory a few ms later, while we stop.
    const taking = Claim.tryAcquire(join(root, 'taking.lock'), { staleAfterMs: 2000, purpose: 'taking' });
    const outcome = taking.then(
      () => 'acquired',
      (e: Error) => e.message,
    );
    await releaseAllClaims();
    expect(await outcome).toBe('stopping: did not take the claim on taking');
    for (const name of ['held.lock', 'held.lock.owner.json', 'taking.lock', 'taking.lock.owner.json']) {
      expect(existsSync(join(root, name)), name).toBe(false);
    }
    expect(heldClaims()).toEqual([]);
    // stopping: no new claims
    await expect(
      Claim.tryAcquire(join(root, 'later.lock'), { staleAfterMs: 2000, purpose: 'later' }),
    ).rejects.toThrow(/stopping: did not take the claim on later/);
    expect(existsSync(join(root, 'later.lock'))).toBe(false);
  }, 30_000);
});
