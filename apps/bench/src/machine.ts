import { availableParallelism, cpus, loadavg, platform, release } from 'node:os';

export interface MachineInfo {
  readonly nproc: number;
  readonly cpuModel: string;
  readonly platform: string;
  readonly node: string;
  readonly loadAverage1m: number;
}

/** What the numbers were measured on (the load average says how busy the machine was). */
export function machineInfo(): MachineInfo {
  return {
    nproc: availableParallelism(),
    cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
    platform: `${platform()} ${release()}`,
    node: process.version,
    loadAverage1m: Math.round(loadavg()[0] * 100) / 100,
  };
}
