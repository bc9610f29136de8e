/**
 * A real `redis-server` for tests (Debian's, /usr/bin/redis-server): a free localhost port, its
 * own temporary data folder, append-only persistence on. `stop()` shuts it down (saving the AOF);
 * `start()` again restarts it on the same port and data (what a Redis restart mid-sweep looks like).
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './ports.js';

export const REDIS_SERVER = process.env.GCVI_REDIS_SERVER ?? '/usr/bin/redis-server';

/** Whether redis-server can be started here. */
export function haveRedis(): boolean {
  return spawnSync(REDIS_SERVER, ['--version']).status === 0;
}

function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = new Socket();
    let buf = '';
    s.setTimeout(500);
    s.once('error', () => resolve(false));
    s.once('timeout', () => {
      s.destroy();
      resolve(false);
    });
    s.connect(port, '127.0.0.1', () => s.write('PING\r\n'));
    s.on('data', (d) => {
      buf += d.toString();
      if (buf.includes('\r\n')) {
        s.destroy();
        resolve(buf.startsWith('+PONG'));
      }
    });
  });
}

export class TestRedis {
  private proc?: ChildProcess;
  private log = '';
  private constructor(
    readonly port: number,
    readonly dir: string,
  ) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  static async start(): Promise<TestRedis> {
    const r = new TestRedis(await freePort(), mkdtempSync(join(tmpdir(), 'gcvi-redis-')));
    await r.start();
    return r;
  }

  async start(): Promise<void> {
    this.proc = spawn(
      REDIS_SERVER,
      [
        '--port',
        String(this.port),
        '--bind',
        '127.0.0.1',
        '--dir',
        this.dir,
        '--appendonly',
        'yes',
        '--appendfsync',
        'always',
        '--save',
        '',
        '--daemonize',
        'no',
        '--protected-mode',
        'yes',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    this.proc.stdout?.on('data', (d: Buffer) => {
      this.log = (this.log + d.toString()).slice(-4000);
    });
    this.proc.stderr?.on('data', (d: Buffer) => {
      this.log = (this.log + d.toString()).slice(-4000);
    });
    const t0 = Date.now();
    while (!(await ping(this.port))) {
      if (this.proc.exitCode !== null || Date.now() - t0 > 10_000) {
        throw new Error(`redis-server did not start on port ${this.port}:\n${this.log}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** SIGTERM: Redis flushes the AOF and exits. */
  async stop(): Promise<void> {
    const p = this.proc;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    const exited = new Promise<void>((r) => p.once('exit', () => r()));
    p.kill('SIGTERM');
    await exited;
    this.proc = undefined;
  }

  async destroy(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
