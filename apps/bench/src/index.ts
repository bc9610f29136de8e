#!/usr/bin/env node
// pnpm bench: step benchmarks of gcvi against PyTorch on this machine. Markdown to stdout, JSON to
// apps/bench/results/<date>.json. Options: --only e1,e2  --rounds R  --steps N  --warmup N
// --backends wasm,cpu,tensorflow  --torch-threads N  --out DIR  --e2-steps N  --e2-warmup N
// --e2-plain-cpu
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BackendName, describeBackend, initBackend } from '@gcvi/runtime';
import { fusedE1Step, plainE1Step } from './e1.js';
import { runE1Fit } from './e1fit.js';
import { e2Cases, runTorchE2 } from './e2.js';
import { machineInfo } from './machine.js';
import { probeTorch, runPythonBench } from './python.js';
import { markdownTable, median, type Timing, timeSteps } from './stats.js';

interface Options {
  only: string[];
  rounds: number;
  steps: number;
  warmup: number;
  backends: BackendName[];
  torchThreads: number;
  out: string;
  e2Steps: number;
  e2Warmup: number;
  e2PlainCpu: boolean;
}

const here = dirname(fileURLToPath(import.meta.url));

function parseArgs(argv: readonly string[]): Options {
  const o: Options = {
    only: ['e1', 'e2'],
    rounds: 3,
    steps: 200,
    warmup: 30,
    backends: ['tensorflow', 'wasm', 'cpu'],
    torchThreads: machineInfo().nproc,
    out: join(here, '..', 'results'),
    e2Steps: 3,
    e2Warmup: 1,
    e2PlainCpu: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = argv[i + 1];
    const num = () => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1) throw new Error(`${a} needs a positive integer, got '${v}'`);
      i++;
      return n;
    };
    const str = () => {
      if (v === undefined) throw new Error(`${a} needs a value`);
      i++;
      return v;
    };
    if (a === '--only') o.only = str().split(',');
    else if (a === '--rounds') o.rounds = num();
    else if (a === '--steps') o.steps = num();
    else if (a === '--warmup') o.warmup = num();
    else if (a === '--torch-threads') o.torchThreads = num();
    else if (a === '--backends') o.backends = str().split(',') as BackendName[];
    else if (a === '--out') o.out = str();
    else if (a === '--e2-steps') o.e2Steps = num();
    else if (a === '--e2-warmup') o.e2Warmup = num();
    else if (a === '--e2-plain-cpu') o.e2PlainCpu = true;
    else throw new Error(`unknown option '${a}' (see apps/bench/README.md)`);
  }
  return o;
}

export interface Row {
  bench: string;
  case: string;
  backend: string;
  variant: string;
  /** Median over rounds of each round's median ms/step. */
  ms: number;
  /** Per-round medians. */
  rounds: number[];
  torchMs?: number;
  torchRounds?: number[];
  /** PyTorch with torch.set_num_threads(1). */
  torch1Ms?: number;
  torch1Rounds?: number[];
  /** ours / the faster PyTorch setting. */
  ratio?: number;
}

interface TorchE1 {
  torch: string;
  threads: number;
  results: { width: number; medianMs: number }[];
}

const E1_WIDTHS = [64, 1024, 4096];
const E1_BATCH = 16;

async function availableBackends(wanted: BackendName[], notes: string[]): Promise<BackendName[]> {
  const ok: BackendName[] = [];
  for (const b of wanted) {
    try {
      const info = await initBackend({ backend: b });
      ok.push(b);
      notes.push(describeBackend(info));
    } catch (e) {
      notes.push(`backend ${b} skipped: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`);
    }
  }
  return ok;
}

function fmt(x: number | undefined, digits = 3): string {
  return x === undefined ? '–' : x.toFixed(digits);
}

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  const machine = machineInfo();
  const notes: string[] = [];
  const backends = await availableBackends(o.backends, notes);
  const torch = probeTorch();
  if (!torch.ok) notes.push(`PyTorch column skipped: ${torch.reason}`);
  const rows: Row[] = [];
  const started = new Date();
  let torchThreads: number | undefined;

  if (o.only.includes('e1')) {
    const ours = new Map<string, number[]>();
    const theirs = new Map<string, number[]>();
    for (let r = 0; r < o.rounds; r++) {
      if (torch.ok) {
        // torch at the core count (as asked) and at 1 thread (often faster for tiny ops, and far
        // faster on a loaded machine); the ratio uses the faster of the two.
        for (const threads of [...new Set([o.torchThreads, 1])]) {
          const res = runPythonBench<TorchE1>('e1_step.py', [
            '--widths',
            E1_WIDTHS.join(','),
            '--batch',
            String(E1_BATCH),
            '--warmup',
            String(o.warmup),
            '--steps',
            String(o.steps),
            '--threads',
            String(threads),
          ]);
          if (threads === o.torchThreads) torchThreads = res.threads;
          for (const w of res.results) {
            const key = `${w.width}|${threads}`;
            theirs.set(key, [...(theirs.get(key) ?? []), w.medianMs]);
          }
        }
      }
      for (const b of backends) {
        await initBackend({ backend: b });
        for (const width of E1_WIDTHS) {
          for (const make of [plainE1Step, fusedE1Step]) {
            const s = make(width, E1_BATCH, 1);
            const t: Timing = timeSteps((n) => s.step(n), o.warmup, o.steps);
            s.dispose();
            const key = `${width}|${b}|${s.variant}`;
            ours.set(key, [...(ours.get(key) ?? []), t.medianMs]);
          }
          // The path users and the experiments take: dense + VonMises.fromNatural + forward-kl + adam via fit().
          const run = await runE1Fit(width, E1_BATCH, 1, o.warmup, o.steps);
          const key = `${width}|${b}|fit()`;
          ours.set(key, [...(ours.get(key) ?? []), run.timing.medianMs]);
        }
      }
      process.stderr.write(`e1 round ${r + 1}/${o.rounds} done\n`);
    }
    for (const [key, ms] of ours) {
      const [width, backend, variant] = key.split('|');
      const trN = theirs.get(`${width}|${o.torchThreads}`);
      const tr1 = theirs.get(`${width}|1`);
      const row: Row = { bench: 'e1', case: `width ${width}`, backend, variant, ms: median(ms), rounds: ms };
      if (trN && tr1) {
        row.torchMs = median(trN);
        row.torchRounds = trN;
        row.torch1Ms = median(tr1);
        row.torch1Rounds = tr1;
        row.ratio = row.ms / Math.min(row.torchMs, row.torch1Ms);
      }
      rows.push(row);
    }
  }

  if (o.only.includes('e2')) {
    const cases = e2Cases();
    const skippedE2 = new Set<string>();
    const ours = new Map<string, number[]>();
    const theirs = new Map<string, number[]>();
    for (let r = 0; r < o.rounds; r++) {
      if (torch.ok) {
        for (const threads of [...new Set([o.torchThreads, 1])]) {
          const res = runTorchE2({ warmup: o.e2Warmup, steps: o.e2Steps, torchThreads: threads });
          if (threads === o.torchThreads) torchThreads = res.threads;
          for (const c of res.results) {
            const key = `${c.case}|${threads}`;
            theirs.set(key, [...(theirs.get(key) ?? []), c.medianMs]);
          }
        }
      }
      for (const b of backends) {
        await initBackend({ backend: b });
        for (const c of cases) {
          for (const variant of c.variants) {
            if (b === 'cpu' && variant.name === 'plain' && !o.e2PlainCpu) {
              skippedE2.add(
                'plain tfjs on cpu skipped for E2 (tens of seconds per step; --e2-plain-cpu runs it)',
              );
              continue;
            }
            const s = variant.make();
            const t = timeSteps((n) => s.step(n), o.e2Warmup, o.e2Steps);
            s.dispose();
            const key = `${c.name}|${b}|${s.variant}`;
            ours.set(key, [...(ours.get(key) ?? []), t.medianMs]);
          }
        }
      }
      process.stderr.write(`e2 round ${r + 1}/${o.rounds} done\n`);
    }
    notes.push(...skippedE2);
    for (const [key, ms] of ours) {
      const [name, backend, variant] = key.split('|');
      const trN = theirs.get(`${name}|${o.torchThreads}`);
      const tr1 = theirs.get(`${name}|1`);
      const row: Row = { bench: 'e2', case: name, backend, variant, ms: median(ms), rounds: ms };
      if (trN && tr1) {
        row.torchMs = median(trN);
        row.torchRounds = trN;
        row.torch1Ms = median(tr1);
        row.torch1Rounds = tr1;
        row.ratio = row.ms / Math.min(row.torchMs, row.torch1Ms);
      }
      rows.push(row);
    }
  }

  const finished = new Date();
  const header = [
    'bench',
    'case',
    'backend',
    'variant',
    'ms/step',
    `PyTorch ms/step (${o.torchThreads} threads)`,
    'PyTorch (1 thread)',
    'ours / best PyTorch',
  ];
  const table = markdownTable(
    header,
    rows.map((r) => [
      r.bench,
      r.case,
      r.backend,
      r.variant,
      fmt(r.ms),
      fmt(r.torchMs),
      fmt(r.torch1Ms),
      fmt(r.ratio, 2),
    ]),
  );
  const machineLine =
    `Machine: ${machine.nproc} cores (${machine.cpuModel}), ${machine.platform}, Node ${machine.node}; ` +
    `load average at start ${machine.loadAverage1m}, at end ${machineInfo().loadAverage1m}. ` +
    (torch.ok
      ? `PyTorch ${torch.version} with torch.set_num_threads(${torchThreads ?? o.torchThreads}). `
      : '') +
    `Median of ${o.rounds} round(s), each the median of ${o.steps} timed steps after ${o.warmup} warm-up (E2: ${o.e2Steps} timed after ${o.e2Warmup}).`;
  process.stdout.write(`\n${table}\n\n${machineLine}\n${notes.map((n) => `- ${n}`).join('\n')}\n`);
  mkdirSync(o.out, { recursive: true });
  // <date>-<time>.json: several runs a day do not overwrite each other.
  const file = join(
    o.out,
    `${started.toISOString().slice(0, 19).replace('T', '-').replaceAll(':', '')}.json`,
  );
  writeFileSync(
    file,
    `${JSON.stringify(
      {
        started: started.toISOString(),
        finished: finished.toISOString(),
        machine: { ...machine, loadAverage1mAtEnd: machineInfo().loadAverage1m },
        torch: torch.ok
          ? { version: torch.version, threads: torchThreads ?? o.torchThreads }
          : { skipped: torch.reason },
        options: o,
        notes,
        rows,
      },
      null,
      2,
    )}\n`,
  );
  process.stdout.write(`\nJSON: ${file}\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
