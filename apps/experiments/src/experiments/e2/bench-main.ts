/**
 * E2 step benchmark: one training step (both Set Transformers, forward + backward + Adam) at the
 * paper's size, per objective, on each available tfjs backend (plain and fused attention), beside
 * the same step in PyTorch (`bench_torch.py`, Debian's python3-torch) and the ratio ours / PyTorch.
 *
 *   node --conditions=@gcvi/source --import tsx src/experiments/e2/bench-main.ts [points] [reps]
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type BackendName, describeBackend, initBackend } from '@gcvi/runtime';
import { benchE2Step } from './bench.js';

interface TorchTiming {
  readonly objective: string;
  readonly msPerStep: number;
  readonly threads: number;
}

function torchTimings(points: number, reps: number, threads: number): TorchTiming[] {
  const here = fileURLToPath(new URL('./bench_torch.py', import.meta.url));
  const script = existsSync(here) ? here : here.replace('/dist/', '/src/');
  const python = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
  const r = spawnSync(
    python,
    [script, '--points', String(points), '--reps', String(reps), '--threads', String(threads)],
    {
      encoding: 'utf8',
    },
  );
  if (r.status !== 0) {
    console.log(
      `PyTorch reference unavailable: ${(r.stderr || r.error?.message || '').trim().split('\n').pop()}`,
    );
    return [];
  }
  return r.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as TorchTiming);
}

export async function main(points = 1000, reps = 3): Promise<void> {
  const torch = torchTimings(points, reps, 1);
  for (const t of torch)
    console.log(`pytorch (1 thread)  ${t.objective.padEnd(10)} ${t.msPerStep.toFixed(1)} ms/step`);
  for (const backend of ['wasm', 'cpu'] as BackendName[]) {
    let info: Awaited<ReturnType<typeof initBackend>>;
    try {
      info = await initBackend({ backend });
    } catch (e) {
      console.log(`${backend}: unavailable (${(e as Error).message})`);
      continue;
    }
    for (const fusedAttention of [false, true]) {
      for (const r of await benchE2Step({ nPoints: points, reps, fusedAttention })) {
        const ref = torch.find((t) => t.objective === r.objective);
        const ratio = ref ? (r.msPerStep / ref.msPerStep).toFixed(2) : 'n/a';
        console.log(
          `${describeBackend(info).split(' (')[0]} ${fusedAttention ? 'fused' : 'plain'} ${r.objective.padEnd(10)} ` +
            `${r.msPerStep.toFixed(1)} ms/step  ours/pytorch ${ratio}`,
        );
      }
    }
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  await main(Number(process.argv[2] ?? 1000), Number(process.argv[3] ?? 3));
}
