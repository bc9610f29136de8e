/**
 * Claims (leases) on runs and caches that several processes, on one machine or on several machines
 * sharing a results folder, can take safely.
 *
 * A claim is a `proper-lockfile` lock: a directory created with `mkdir` (atomic on local file
 * systems and on NFS), whose mtime is the heartbeat. It is refreshed every `staleAfterMs / 3` and
 * counts as stale once it has not been refreshed for `staleAfterMs`; a stale claim is taken over
 * (with a log line naming its last owner). The owner
 * (host, pid, what it claimed, when) in `<lock>.owner.json` beside it.
 *
 * The lock is held by a worker thread, not the main thread: a run's training loop keeps the main
 * thread busy for long stretches (tfjs steps and generator training are synchronous), which would
 * stop a main-thread heartbeat and let another process take the run over while it is still alive.
 * `releaseAllClaimsSync` (called on SIGINT/SIGTERM and on exit) removes this process's claims at once.
 */
import { readFileSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { hostname } from 'node:os';
import { Worker } from 'node:worker_threads';

/** Who holds a claim, as written into `<lock>.owner.json`. */
export interface ClaimOwner {
  readonly host: string;
  readonly pid: number;
  /** What was claimed, e.g. `run e1/3f2a…` or `cache generator-…`. */
  readonly purpose: string;
  readonly claimedAt: string;
}

/** A claim held by someone (maybe us), as seen from outside. */
export interface ClaimInfo {
  readonly owner?: ClaimOwner;
  /** Milliseconds since the last heartbeat. */
  readonly heartbeatAgeMs: number;
  readonly stale: boolean;
}

export interface ClaimOptions {
  /** A claim whose heartbeat stopped this long ago is stale and may be taken over (≥ 2000 ms). */
  readonly staleAfterMs: number;
  /** What is being claimed (for owner.json and log lines). */
  readonly purpose: string;
  readonly log?: (message: string) => void;
}

/** The default `--stale-after`: 30 seconds. */
export const DEFAULT_STALE_AFTER_MS = 30_000;
/** proper-lockfile's smallest stale threshold. */
export const MIN_STALE_AFTER_MS = 2_000;

const heldPaths = new Set<string>();
/** Claims being taken right now: their lock thread may have created the lock directory already. */
const pending = new Set<Promise<unknown>>();
let stopping = false;

/** Remove every claim this process holds, synchronously (process exit). */
export function releaseAllClaimsSync(): void {
  for (const p of heldPaths) removeClaimFiles(p);
  heldPaths.clear();
}

/**
 * Before this process exits on a signal: refuse new claims, wait (at most `timeoutMs`) for the
 * claims being taken right now, and remove every claim this process holds. A claim whose lock
 * thread had already created the lock directory when the signal came is removed too; exiting at
 * once would leave it behind for `--stale-after`. Claims that complete after this began are
 * removed at once and their `tryAcquire` rejects.
 */
export async function releaseAllClaims(timeoutMs = 2000): Promise<void> {
  stopping = true;
  releaseAllClaimsSync();
  if (pending.size > 0) {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled([...pending]),
      new Promise((r) => {
        timer = setTimeout(r, timeoutMs);
      }),
    ]);
    clearTimeout(timer);
  }
  releaseAllClaimsSync();
}

/**
 * Remove the claim at `lockPath` if `pid` on this host holds it (a parent cleaning up after a
 * worker process it has killed). Returns whether it was removed.
 */
export function removeClaimOf(lockPath: string, pid: number): boolean {
  const info = inspectClaim(lockPath, Number.POSITIVE_INFINITY);
  if (!info?.owner || info.owner.pid !== pid || info.owner.host !== hostname()) return false;
  removeClaimFiles(lockPath);
  return true;
}

function removeClaimFiles(lockPath: string): void {
  rmSync(`${lockPath}.owner.json`, { force: true });
  rmSync(lockPath, { recursive: true, force: true });
}

/** Paths of the claims this process holds now (tests). */
export function heldClaims(): string[] {
  return [...heldPaths];
}

process.on('exit', releaseAllClaimsSync);

/** Owner and heartbeat of the claim at `lockPath`, or undefined when nobody holds it. */
export function inspectClaim(lockPath: string, staleAfterMs: number): ClaimInfo | undefined {
  let mtime: number;
  try {
    mtime = statSync(lockPath).mtimeMs;
  } catch {
    return undefined;
  }
  let owner: ClaimOwner | undefined;
  try {
    owner = JSON.parse(readFileSync(`${lockPath}.owner.json`, 'utf8')) as ClaimOwner;
  } catch {
    owner = undefined; // just created, owner.json not written yet
  }
  const heartbeatAgeMs = Math.max(0, Date.now() - mtime);
  return { owner, heartbeatAgeMs, stale: heartbeatAgeMs > staleAfterMs };
}

/** "host pid 123 (run e1/…), last heartbeat 4 s ago" */
export function describeClaim(info: ClaimInfo): string {
  const who = info.owner
    ? `${info.owner.host} pid ${info.owner.pid} (${info.owner.purpose})`
    : 'an unknown owner (no owner.json yet)';
  return `${who}, last heartbeat ${(info.heartbeatAgeMs / 1000).toFixed(1)} s ago`;
}

const THREAD = `
const { parentPort, workerData } = require('node:worker_threads');
const { mkdirSync, renameSync, writeFileSync } = require('node:fs');
const lockfile = require(workerData.lockfile);
const { lockPath, stale, update, owner } = workerData;
mkdirSync(require('node:path').dirname(lockPath), { recursive: true });
lockfile.lock(lockPath, {
  lockfilePath: lockPath,
  realpath: false,
  stale,
  update,
  retries: 0,
  onCompromised: (err) => parentPort.postMessage({ type: 'compromised', message: String(err && err.message) }),
}).then(
  (release) => {
    // Beside the lock directory, not inside: a write inside would change the directory's mtime,
    // which proper-lockfile reads as someone else's heartbeat.
    const tmp = lockPath + '.owner-' + process.pid + '.tmp';
    writeFileSync(tmp, JSON.stringify(owner));
    renameSync(tmp, lockPath + '.owner.json');
    parentPort.postMessage({ type: 'acquired' });
    parentPort.on('message', (m) => {
      if (m === 'release') {
        try { require('node:fs').rmSync(lockPath + '.owner.json', { force: true }); } catch {}
        release().then(
          () => { parentPort.postMessage({ type: 'released' }); process.exit(0); },
          () => { parentPort.postMessage({ type: 'released' }); process.exit(0); },
        );
      }
    });
  },
  (err) => {
    parentPort.postMessage({ type: err && err.code === 'ELOCKED' ? 'held' : 'error', message: String(err && err.message) });
    process.exit(0);
  },
);
`;

const lockfileEntry = createRequire(import.meta.url).resolve('proper-lockfile');

/** A claim this process holds. `release()` removes it; `lost` turns true if another process took it over. */
export class Claim {
  private released = false;
  private exited = false;
  private lostReason: string | undefined;

  private constructor(
    readonly lockPath: string,
    private readonly thread: Worker,
  ) {
    thread.once('exit', () => {
      this.exited = true;
    });
    thread.on('message', (m: { type: string; message?: string }) => {
      if (m.type === 'compromised' && !this.released) this.lostReason = m.message ?? 'compromised';
    });
  }

  /** Set when the claim was lost (our heartbeat could not be written, or another process took it over). */
  get lost(): string | undefined {
    return this.lostReason;
  }

  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    heldPaths.delete(this.lockPath);
    if (this.exited) {
      removeClaimFiles(this.lockPath);
      return;
    }
    await new Promise<void>((resolve) => {
      this.thread.once('exit', () => resolve());
      this.thread.ref(); // keep the process alive until the lock is gone
      this.thread.postMessage('release');
    });
  }

  /**
   * Try to take the claim at `lockPath` once. Returns the claim, or what holds it now. A stale
   * claim is taken over, with a log line naming its last owner.
   */
  static async tryAcquire(lockPath: string, options: ClaimOptions): Promise<Claim | ClaimInfo> {
    if (stopping) throw new Error(`stopping: did not take the claim on ${options.purpose}`);
    const stale = Math.max(MIN_STALE_AFTER_MS, options.staleAfterMs);
    const before = inspectClaim(lockPath, stale);
    const inspectedAt = Date.now();
    const owner: ClaimOwner = {
      host: hostname(),
      pid: process.pid,
      purpose: options.purpose,
      claimedAt: new Date().toISOString(),
    };
    const thread = new Worker(THREAD, {
      eval: true,
      workerData: {
        lockfile: lockfileEntry,
        lockPath,
        stale,
        update: Math.max(1000, Math.floor(stale / 3)),
        owner,
      },
    });
    const answer = new Promise<{ type: string; message?: string }>((resolve, reject) => {
      thread.once('message', resolve);
      thread.once('error', reject);
    });
    pending.add(answer);
    const first = await answer.finally(() => pending.delete(answer));
    thread.unref(); // a held claim alone does not keep the process alive
    if (first.type === 'acquired' && stopping) {
      removeClaimFiles(lockPath);
      void thread.terminate();
      throw new Error(`stopping: did not take the claim on ${options.purpose}`);
    }
    if (first.type === 'acquired') {
      // The lock thread decides staleness itself, a little later than `before` was read: a claim
      // that was just short of stale then may have gone stale by the time the thread took it.
      // A claim released normally meanwhile had a fresh heartbeat, so it is not reported.
      if (before && (before.stale || before.heartbeatAgeMs + (Date.now() - inspectedAt) > stale)) {
        options.log?.(`took over the stale claim on ${options.purpose} held by ${describeClaim(before)}`);
      }
      heldPaths.add(lockPath);
      return new Claim(lockPath, thread);
    }
    if (first.type === 'held') {
      return (
        inspectClaim(lockPath, stale) ?? {
          heartbeatAgeMs: 0,
          stale: false,
        }
      );
    }
    throw new Error(`cannot claim ${lockPath}: ${first.message}`);
  }

  /**
   * Take the claim, waiting (polling every `pollMs`) while another live process holds it; says once
   * who it is waiting for.
   */
  static async acquire(lockPath: string, options: ClaimOptions & { pollMs?: number }): Promise<Claim> {
    let said = false;
    for (;;) {
      const got = await Claim.tryAcquire(lockPath, options);
      if (got instanceof Claim) return got;
      if (!said) {
        options.log?.(`waiting for ${options.purpose}, claimed by ${describeClaim(got)}`);
        said = true;
      }
      await new Promise((r) => setTimeout(r, options.pollMs ?? 1000));
    }
  }
}
