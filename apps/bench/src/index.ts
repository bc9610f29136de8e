#!/usr/bin/env node
// pnpm bench: step benchmarks of gcvi against PyTorch on this machine. Markdown to stdout, JSON to
// apps/bench/results/latest.json and results/<date>-<time>.json. Options: --only e1,e2,e3
// --rounds R  --steps N  --warmup N  --backends wasm,cpu,tensorflow  --torch-threads N  --out DIR
// --e2-steps N  --e2-warmup N  --e2-plain-cpu  --e3-steps N  --e3-warmup N  --e3-cases k1,k2
// --e3-cpu
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BackendName, describeBackend, initBackend } from '@gcvi/runtime';
import { Command, CommanderError, InvalidArgumentError } from 'commander';

/** A bad flag value found after parsing: one line, no stack trace, exit 2. */
class BenchArgError extends Error {}

import { fusedE1Step, plainE1Step } from './e1.js';
import { runE1Fit } from './e1fit.js';
import { e2Cases, runTorchE2 } from './e2.js';
import { caseKey, caseLabel, E3_CASES, type E3Case, runE3Case } from './e3.js';
import { e1Flops, e2Flops, e3IwboFlops, e3LpFlops, e4ElboFlops, e4LpFlops } from './flops.js';
import { machineInfo } from './machine.js';
import { type BlasProbe, probeBlas, probeTorch, runPythonBench, unfairBlas } from './python.js';
import { ourSgemmGflops } from './sgemm.js';
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
  e3Steps: number;
  e3Warmup: number;
  e3Cases: string[];
  e3Cpu: boolean;
}

const here = dirname(fileURLToPath(import.meta.url));

function positiveInt(flag: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1)
      throw new InvalidArgumentError(`${flag} needs a positive integer, got '${v}'`);
    return n;
  };
}

const list = (v: string) => v.split(',').filter((x) => x.length > 0);

const BENCHES = ['e1', 'e2', 'e3'];
const BACKENDS: BackendName[] = ['tensorflow', 'wasm', 'cpu'];

function parseArgs(argv: readonly string[]): Options {
  const cmd = new Command('bench')
    .description(
      'step benchmarks of gcvi against PyTorch on this machine: Markdown to stdout, JSON to results/latest.json (apps/bench/README.md)',
    )
    .option('--only <list>', `benches to run, of ${BENCHES.join(', ')}`, list, BENCHES)
    .option('--rounds <n>', 'rounds per row (the row reports the median)', positiveInt('--rounds'), 3)
    .option('--steps <n>', 'E1 steps per round', positiveInt('--steps'), 200)
    .option('--warmup <n>', 'E1 warm-up steps', positiveInt('--warmup'), 30)
    .option('--backends <list>', `tfjs backends, of ${BACKENDS.join(', ')}`, list, BACKENDS)
    .option(
      '--torch-threads <n>',
      'PyTorch threads (also 1)',
      positiveInt('--torch-threads'),
      machineInfo().nproc,
    )
    .option('--out <dir>', 'results folder', join(here, '..', 'results'))
    .option('--e2-steps <n>', 'E2 steps per round', positiveInt('--e2-steps'), 3)
    .option('--e2-warmup <n>', 'E2 warm-up steps', positiveInt('--e2-warmup'), 1)
    .option('--e2-plain-cpu', 'also time the plain (unfused) E2 step on cpu', false)
    .option('--e3-steps <n>', 'E3/E4 steps per round', positiveInt('--e3-steps'), 2)
    .option('--e3-warmup <n>', 'E3/E4 warm-up steps', positiveInt('--e3-warmup'), 1)
    .option(
      '--e3-cases <list>',
      `E3/E4 cases, of ${E3_CASES.map(caseKey).join(', ')}`,
      list,
      E3_CASES.map(caseKey),
    )
    .option('--e3-cpu', 'also run the E3/E4 cases on cpu', false)
    .allowExcessArguments(false)
    .exitOverride()
    .configureOutput({ writeErr: (m) => process.stderr.write(m) });
  cmd.parse([...argv], { from: 'user' });
  const o = cmd.opts<Options>();
  for (const b of o.only) {
    if (!BENCHES.includes(b))
      throw new BenchArgError(`--only: unknown bench '${b}' (of ${BENCHES.join(', ')})`);
  }
  for (const b of o.backends) {
    if (!BACKENDS.includes(b))
      throw new BenchArgError(`--backends: unknown backend '${b}' (of ${BACKENDS.join(', ')})`);
  }
  const cases = E3_CASES.map(caseKey);
  for (const c of o.e3Cases) {
    if (!cases.includes(c))
      throw new BenchArgError(`--e3-cases: unknown case '${c}' (of ${cases.join(', ')})`);
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
  /** Matrix-multiply FLOPs of one step (src/flops.ts). */
  flops: number;
  /** flops ÷ the machine's best measured sgemm rate (PyTorch's BLAS), in ms. */
  floorMs?: number;
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

interface TorchCases {
  torch: string;
  threads: number;
  results: { case: string; medianMs: number }[];
}

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  const machine = machineInfo();
  const notes: string[] = [];
  const backends = await availableBackends(o.backends, notes);
  const torch = probeTorch();
  const threadSet = [...new Set([o.torchThreads, 1])];
  let blas: BlasProbe | undefined;
  let torchOk = torch.ok;
  if (!torch.ok) notes.push(`PyTorch column skipped: ${torch.reason}`);
  else {
    blas = probeBlas(threadSet);
    const why = unfairBlas(blas);
    if (why) {
      torchOk = false;
      notes.push(why);
    }
  }
  const machineGflops = blas && torchOk ? Math.max(...Object.values(blas.sgemmGflops)) : undefined;
  // Our own sgemm rate (tf.matMul) on each backend: the floor our kernels would reach at best.
  const ourGflops: Record<string, number> = {};
  for (const b of backends) {
    await initBackend({ backend: b });
    ourGflops[`${b} tf.matMul`] = ourSgemmGflops(512, 5, 'tf');
    ourGflops[`${b} gcvi matMul`] = ourSgemmGflops(512, 5, 'gcvi');
  }
  const rows: Row[] = [];
  const started = new Date();
  let torchThreads: number | undefined;

  const makeRow = (
    bench: string,
    name: string,
    backend: string,
    variant: string,
    ms: number[],
    trN: number[] | undefined,
    tr1: number[] | undefined,
    flops: number,
  ): Row => {
    const row: Row = { bench, case: name, backend, variant, ms: median(ms), rounds: ms, flops };
    if (machineGflops) row.floorMs = flops / (machineGflops * 1e6);
    if (trN && tr1) {
      row.torchMs = median(trN);
      row.torchRounds = trN;
      row.torch1Ms = median(tr1);
      row.torch1Rounds = tr1;
      row.ratio = row.ms / Math.min(row.torchMs, row.torch1Ms);
    }
    return row;
  };

  if (o.only.includes('e1')) {
    const ours = new Map<string, number[]>();
    const theirs = new Map<string, number[]>();
    for (let r = 0; r < o.rounds; r++) {
      if (torchOk) {
        // torch at the core count (as asked) and at 1 thread (often faster for tiny ops, and far
        // faster on a loaded machine); the ratio uses the faster of the two.
        for (const threads of threadSet) {
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
      const [width, backend, variant] = key.split('|') as [string, string, string];
      rows.push(
        makeRow(
          'e1',
          `width ${width}`,
          backend,
          variant,
          ms,
          theirs.get(`${width}|${o.torchThreads}`),
          theirs.get(`${width}|1`),
          e1Flops(Number(width), E1_BATCH),
        ),
      );
    }
  }

  if (o.only.includes('e2')) {
    const cases = e2Cases();
    const skippedE2 = new Set<string>();
    const ours = new Map<string, number[]>();
    const theirs = new Map<string, number[]>();
    for (let r = 0; r < o.rounds; r++) {
      if (torchOk) {
        for (const threads of threadSet) {
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
      const [name, backend, variant] = key.split('|') as [string, string, string];
      const cfg = cases.find((c) => c.name === name)?.config;
      if (!cfg) throw new Error(`e2: no config for case '${name}'`);
      const flops = e2Flops(cfg.nPoints, cfg.objective === 'elbo' ? cfg.K : 0, cfg.width);
      rows.push(
        makeRow(
          'e2',
          name,
          backend,
          variant,
          ms,
          theirs.get(`${name}|${o.torchThreads}`),
          theirs.get(`${name}|1`),
          flops,
        ),
      );
    }
  }

  if (o.only.includes('e3')) {
    const known = E3_CASES.map(caseKey);
    for (const k of o.e3Cases) {
      if (!known.includes(k)) throw new Error(`--e3-cases: unknown case '${k}' (known: ${known.join(', ')})`);
    }
    const cases = E3_CASES.filter((c) => o.e3Cases.includes(caseKey(c)));
    const ours = new Map<string, number[]>();
    const theirs = new Map<string, number[]>();
    for (let r = 0; r < o.rounds; r++) {
      if (torchOk) {
        for (const threads of threadSet) {
          const res = runPythonBench<TorchCases>('e3_step.py', [
            '--cases',
            cases.map(caseKey).join(','),
            '--warmup',
            String(o.e3Warmup),
            '--steps',
            String(o.e3Steps),
            '--threads',
            String(threads),
          ]);
          if (threads === o.torchThreads) torchThreads = res.threads;
          for (const c of res.results) {
            const key = `${c.case}|${threads}`;
            theirs.set(key, [...(theirs.get(key) ?? []), c.medianMs]);
          }
        }
      }
      for (const b of backends) {
        if (b === 'cpu' && !o.e3Cpu) continue;
        await initBackend({ backend: b });
        for (const c of cases) {
          const run = await runE3Case(c, 1, o.e3Warmup, o.e3Steps);
          const key = `${caseKey(c)}|${b}`;
          ours.set(key, [...(ours.get(key) ?? []), run.timing.medianMs]);
        }
      }
      process.stderr.write(`e3 round ${r + 1}/${o.rounds} done\n`);
    }
    if (backends.includes('cpu') && !o.e3Cpu) notes.push('E3/E4 on cpu skipped (--e3-cpu runs them)');
    for (const [key, ms] of ours) {
      const [k, backend] = key.split('|') as [string, string];
      const c = cases.find((x) => caseKey(x) === k) as E3Case;
      rows.push(
        makeRow(
          c.kind.slice(0, 2),
          caseLabel(c),
          backend,
          'fit()',
          ms,
          theirs.get(`${k}|${o.torchThreads}`),
          theirs.get(`${k}|1`),
          e3Flops(c),
        ),
      );
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
    'GFLOP',
    'floor ms',
    '× floor',
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
      fmt(r.flops / 1e9, 4),
      fmt(r.floorMs),
      r.floorMs === undefined ? '–' : fmt(r.ms / r.floorMs, 1),
    ]),
  );
  const loadEnd = machineInfo().loadAverage1m;
  const blasLine = blas
    ? `PyTorch BLAS: ${blas.blas} (${blas.blasPaths.join(', ')}); measured sgemm ${blas.sgemmSize}²: ${Object.entries(
        blas.sgemmGflops,
      )
        .map(([t, g]) => `${g.toFixed(1)} GFLOP/s at ${t} thread(s)`)
        .join(', ')}. `
    : '';
  const oursLine = `Our sgemm (512²): ${Object.entries(ourGflops)
    .map(([b, g]) => `${b} ${g.toFixed(1)} GFLOP/s`)
    .join(', ')}. Floor = FLOPs ÷ the best PyTorch sgemm rate above.`;
  const machineLine =
    `Machine: ${machine.nproc} cores (${machine.cpuModel}), ${machine.platform}, Node ${machine.node}; ` +
    `load average at start ${machine.loadAverage1m}, at end ${loadEnd}. ` +
    (torch.ok
      ? `PyTorch ${torch.version} with torch.set_num_threads(${torchThreads ?? o.torchThreads}) and 1. `
      : '') +
    `Median of ${o.rounds} round(s), each the median of ${o.steps} timed steps after ${o.warmup} warm-up (E2: ${o.e2Steps} after ${o.e2Warmup}; E3/E4: ${o.e3Steps} after ${o.e3Warmup}).`;
  process.stdout.write(
    `\n${blasLine}${oursLine}\n\n${table}\n\n${machineLine}\n${notes.map((n) => `- ${n}`).join('\n')}\n`,
  );
  mkdirSync(o.out, { recursive: true });
  // <date>-<time>.json: several runs a day do not overwrite each other; latest.json is the last run.
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
        machine: {
          ...machine,
          loadAverage1mAtEnd: loadEnd,
          blas: blas ?? null,
          machineSgemmGflops: machineGflops ?? null,
          ourSgemmGflops: ourGflops,
        },
        torch: torch.ok
          ? { version: torch.version, threads: torchThreads ?? o.torchThreads, fair: torchOk }
          : { skipped: torch.reason },
        options: o,
        notes,
        rows: rows.map(({ torchMs, ...r }) => ({
          name: `${r.bench} ${r.case} (${r.variant})`,
          ...r,
          // the faster PyTorch setting (the ratio's denominator); per-thread figures beside it
          torchMs: torchMs === undefined ? null : Math.min(torchMs, r.torch1Ms ?? torchMs),
          [`torch${o.torchThreads}Ms`]: torchMs ?? null,
          ratio: r.ratio ?? null,
          floorMs: r.floorMs ?? null,
        })),
      },
      null,
      2,
    )}\n`,
  );
  copyFileSync(file, join(o.out, 'latest.json'));
  process.stdout.write(`\nJSON: ${file} (and ${join(o.out, 'latest.json')})\n`);
}

function e3Flops(c: E3Case): number {
  switch (c.kind) {
    case 'e3-lp':
      return e3LpFlops(c.sets * c.images);
    case 'e3-iwbo':
      return e3IwboFlops(c.minibatch, c.particles);
    case 'e4-lp':
      return e4LpFlops();
    case 'e4-elbo':
      return e4ElboFlops(c.particles);
  }
}

main().catch((e: unknown) => {
  // --help (exit 0) or a bad flag: commander has printed it; no stack trace
  if (e instanceof CommanderError) process.exit(e.exitCode === 0 ? 0 : 2);
  if (e instanceof BenchArgError) {
    process.stderr.write(`bench: ${e.message}\n`);
    process.exit(2);
  }
  process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
