/**
 * Whole-file writes through `write-file-atomic` (npm's own: temporary file in the same directory,
 * fsync, rename, the temporary removed on failure and on process exit). Readers see the old or the
 * new content, never half of it.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import writeFileAtomicLib from 'write-file-atomic';

export function writeFileAtomic(file: string, data: string | Uint8Array): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileAtomicLib.sync(file, typeof data === 'string' ? data : Buffer.from(data), { fsync: true });
}

/** `writeFileAtomic` of pretty-printed JSON with a trailing newline. */
export function writeJsonAtomic(file: string, value: unknown): void {
  writeFileAtomic(file, `${JSON.stringify(value, null, 2)}\n`);
}
