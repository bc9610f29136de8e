/**
 * A real single-node Slurm for tests (Debian's `slurm-wlm` and `munge`): its own munge key and
 * socket, a `slurm.conf` naming this host as controller and only node, `slurmctld` and `slurmd` in
 * the foreground on free localhost ports, state and spool in a temporary folder. `env` is what a
 * client (`sbatch`, `sinfo`) needs (`SLURM_CONF`). `stop()` stops the daemons and removes the folder.
 * slurmd runs jobs as their submitting user, so this needs root (as on CI machines here).
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './ports.js';

const BIN = {
  munged: '/usr/sbin/munged',
  slurmctld: '/usr/sbin/slurmctld',
  slurmd: '/usr/sbin/slurmd',
  sinfo: '/usr/bin/sinfo',
  sbatch: '/usr/bin/sbatch',
};

/** Why a Slurm cluster cannot be started here, or null when it can. */
export function slurmUnavailable(): string | null {
  for (const [name, path] of Object.entries(BIN)) {
    if (spawnSync(path, ['--version']).error)
      return `${name} not found at ${path} (apt-get install slurm-wlm munge)`;
  }
  if (process.getuid?.() !== 0) return 'slurmd must run as root to start jobs';
  return null;
}

export class TestSlurm {
  private readonly procs: ChildProcess[] = [];
  private log = '';
  private constructor(readonly dir: string) {}

  get env(): Record<string, string> {
    return { SLURM_CONF: join(this.dir, 'slurm.conf') };
  }

  static async start(): Promise<TestSlurm> {
    const s = new TestSlurm(mkdtempSync(join(tmpdir(), 'gcvi-slurm-cluster-')));
    try {
      await s.boot();
    } catch (e) {
      await s.stop();
      throw e;
    }
    return s;
  }

  private spawnDaemon(cmd: string, args: string[]): void {
    const p = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const tag = cmd.split('/').pop();
    p.stdout?.on('data', (d: Buffer) => {
      this.log += `[${tag}] ${d}`;
    });
    p.stderr?.on('data', (d: Buffer) => {
      this.log += `[${tag}] ${d}`;
    });
    this.procs.push(p);
  }

  private async boot(): Promise<void> {
    const d = this.dir;
    // munged wants its socket's folders executable by all, its key folder private
    chmodSync(d, 0o755);
    for (const sub of ['munge', 'run', 'state', 'spool', 'log']) mkdirSync(join(d, sub), { mode: 0o755 });
    chmodSync(join(d, 'munge'), 0o700);
    const key = join(d, 'munge', 'munge.key');
    writeFileSync(key, randomBytes(1024), { mode: 0o400 });
    const sock = join(d, 'run', 'munge.sock');
    this.spawnDaemon(BIN.munged, [
      '-F',
      `--key-file=${key}`,
      `--socket=${sock}`,
      `--pid-file=${join(d, 'munge', 'pid')}`,
      `--log-file=${join(d, 'munge', 'log')}`,
      `--seed-file=${join(d, 'munge', 'seed')}`,
    ]);
    const host = hostname();
    const [ctldPort, dPort] = [await freePort(), await freePort()];
    const conf = join(d, 'slurm.conf');
    writeFileSync(
      conf,
      [
        'ClusterName=gcvitest',
        `SlurmctldHost=${host}`,
        'SlurmUser=root',
        `SlurmctldPort=${ctldPort}`,
        `SlurmdPort=${dPort}`,
        'AuthType=auth/munge',
        `AuthInfo=socket=${sock}`,
        'CredType=cred/munge',
        `StateSaveLocation=${join(d, 'state')}`,
        `SlurmdSpoolDir=${join(d, 'spool')}`,
        `SlurmctldPidFile=${join(d, 'ctld.pid')}`,
        `SlurmdPidFile=${join(d, 'd.pid')}`,
        `SlurmctldLogFile=${join(d, 'log', 'ctld.log')}`,
        `SlurmdLogFile=${join(d, 'log', 'd.log')}`,
        'ProctrackType=proctrack/linuxproc',
        'TaskPlugin=task/none',
        'JobAcctGatherType=jobacct_gather/none',
        'SelectType=select/cons_tres',
        'SelectTypeParameters=CR_CPU',
        'MpiDefault=none',
        'ReturnToService=2',
        `NodeName=${host} CPUs=2 State=UNKNOWN`,
        `PartitionName=debug Nodes=${host} Default=YES MaxTime=INFINITE State=UP`,
        '',
      ].join('\n'),
    );
    await this.waitFor('munged', () => spawnSync('test', ['-S', sock]).status === 0);
    this.spawnDaemon(BIN.slurmctld, ['-D', '-f', conf]);
    this.spawnDaemon(BIN.slurmd, ['-D', '-f', conf]);
    await this.waitFor('the node to be idle', () => {
      const r = spawnSync(BIN.sinfo, ['-h', '-o', '%T'], {
        env: { ...process.env, ...this.env },
        encoding: 'utf8',
      });
      return r.status === 0 && r.stdout.trim() === 'idle';
    });
  }

  private async waitFor(what: string, ok: () => boolean, timeoutMs = 60_000): Promise<void> {
    const t0 = Date.now();
    while (!ok()) {
      if (Date.now() - t0 > timeoutMs) throw new Error(`slurm: timed out waiting for ${what}\n${this.log}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  /** `sbatch --wait SCRIPT`: submits the array and returns when every task has ended. */
  sbatchWait(script: string): { code: number | null; out: string } {
    const r = spawnSync(BIN.sbatch, ['--wait', script], {
      env: { ...process.env, ...this.env },
      encoding: 'utf8',
      timeout: 600_000,
    });
    return { code: r.status, out: `${r.stdout}${r.stderr}` };
  }

  async stop(): Promise<void> {
    for (const p of this.procs.reverse()) {
      if (p.exitCode === null && p.signalCode === null) {
        const exited = new Promise((r) => p.once('exit', r));
        p.kill('SIGTERM');
        await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
        if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
      }
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
