import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { initBackend } from '@gcvi/runtime';
import { describe, expect, it } from 'vitest';
import { quickReproduce } from '../../../test/fixtures/quick-run.js';
import { expectReadableReport, itInChromium, measureReport } from '../../../test/fixtures/report-layout.js';
import { ResultsStore } from '../../store/store.js';
import { generatorCacheName, generatorSource } from './generator.js';
import { angleDiffDeg, distinctEndpoints, e3, e3Plan, resolveGenerator } from './index.js';

const FIXTURE = join(dirname(fileURLToPath(import.meta.url)), '../../../../../../shared/fixtures/G299.ckpt');

describe('e3 helpers', () => {
  it('angle differences wrap around the circle; endpoints cluster on the circle', () => {
    expect(angleDiffDeg(355, 5)).toBeCloseTo(-10, 12);
    expect(angleDiffDeg(5, 355)).toBeCloseTo(10, 12);
    expect(angleDiffDeg(260, 80)).toBeCloseTo(180, 12);
    expect(distinctEndpoints([1, 359, 5])).toBe(1);
    expect(distinctEndpoints([0, 90, 95, 180])).toBe(3);
    expect(distinctEndpoints([])).toBe(0);
  });

  it('plans 12 L_P offsets and 12 IWBO inits by default; bad configs name the field', () => {
    const plan = e3Plan('default');
    expect(plan.length).toBe(24);
    expect(plan.filter((c) => c.method === 'forwardKl').map((c) => c.initDeg)).toEqual([
      0, 30, 60, 90, 120, 150, 180, 210, 240, 270, 300, 330,
    ]);
    for (const c of plan) expect(e3.configSchema.safeParse(c).success).toBe(true);
    const bad = e3.configSchema.safeParse({ ...plan[0], minibatch: 5000 });
    expect(bad.success).toBe(false);
    expect(JSON.stringify(bad.error?.issues[0]?.path)).toContain('minibatch');
    // The default averages each run's last third of iterates; the paper's profile does not.
    expect(new Set(plan.map((c) => `${c.method}:${c.steps}:${c.averageFrom}`))).toEqual(
      new Set(['forwardKl:600:400', 'iwbo:200:133']),
    );
    expect(e3Plan('paper').every((c) => c.averageFrom === undefined)).toBe(true);
    const late = e3.configSchema.safeParse({ ...plan[0], averageFrom: 600 });
    expect(late.success).toBe(false);
    expect(JSON.stringify(late.error?.issues[0]?.path)).toContain('averageFrom');
  });
});

const noLock = {
  acquire: async () => {
    throw new Error('a checkpoint needs no cache claim');
  },
};

describe('generator source', () => {
  it('--generator selects a checkpoint path (resolved) or the trained generator', () => {
    expect(generatorSource(undefined)).toBe('trained');
    expect(generatorSource('trained')).toBe('trained');
    expect(generatorSource('/x/G.ckpt')).toBe('/x/G.ckpt');
    expect(e3Plan('quick', '/x/G.ckpt')[0]!.generator.source).toBe('/x/G.ckpt');
  });

  it.skipIf(!existsSync(FIXTURE))(
    'a PyTorch checkpoint is loaded as the generator (../shared/fixtures/G299.ckpt)',
    async () => {
      await initBackend();
      const base = e3Plan('quick')[0]!.generator;
      const g = await resolveGenerator({ ...base, source: FIXTURE }, '/nonexistent', noLock);
      expect(g.params['4.weight']!.shape).toEqual([784, 256]);
      expect(g.description).toContain('G299.ckpt');
      await expect(
        resolveGenerator({ ...base, source: '/nonexistent/G.ckpt' }, '/nonexistent', noLock),
      ).rejects.toThrow(/\/nonexistent\/G\.ckpt: cannot read/);
    },
  );
});

const HOLD = fileURLToPath(new URL('../../../test/fixtures/hold-claim.mjs', import.meta.url));

/**
 * A process killed while it held the generator cache's claim (kill -9: no cleanup): the claim's
 * heartbeat stops, and the next run takes it over after --stale-after instead of waiting.
 */
async function plantKilledGeneratorClaim(out: string): Promise<string> {
  const cfg = e3Plan('quick')[0]!.generator;
  const lock = new ResultsStore(join(out, 'quick')).cacheClaimPath(generatorCacheName(cfg));
  const holder = spawn(process.execPath, [HOLD, lock, 'cache generator'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    holder.stdout?.on('data', (d: Buffer) =>
      d.toString().includes('claimed') ? resolve() : reject(new Error(String(d))),
    );
  });
  holder.kill('SIGKILL');
  await new Promise((r) => holder.on('exit', r));
  return `pid ${holder.pid}`;
}

/** Quick profile end to end in this process: Figures 3–6 from tiny runs, summary keys. */
describe('reproduce --profile quick --only e3', () => {
  let killed = '';
  const run = quickReproduce('e3', 600_000, {
    args: ['--stale-after', '2s'],
    before: async (out) => {
      killed = await plantKilledGeneratorClaim(out);
    },
  });

  it('takes over the generator claim a killed process left (once stale) and trains the generator once', () => {
    expect(run.log).toMatch(
      new RegExp(`took over the stale claim on cache generator-\\w+ held by .* ${killed}`),
    );
    expect(run.log.match(/training the generator/g)).toHaveLength(1);
  });

  it('finishes every run and draws Figures 3–6', () => {
    expect(run.code, run.log).toBe(0);
    for (const name of ['figure-3', 'figure-4', 'figure-5', 'figure-6', 'figure-e3-generator-samples']) {
      for (const ext of ['svg', 'png', 'csv']) {
        const f = join(run.dir, 'figures', `${name}.${ext}`);
        expect(existsSync(f), f).toBe(true);
        expect(statSync(f).size, f).toBeGreaterThan(100);
      }
    }
  });

  it('summary.json has e3.finalAngleDeg.<method>.<init> in [0, 360) and e3.trueAngleDeg = 260', () => {
    const s = JSON.parse(readFileSync(join(run.dir, 'summary.json'), 'utf8')) as {
      e3: Record<string, unknown>;
    };
    const e = (s.e3 ??
      (s as unknown as { experiments: Record<string, Record<string, unknown>> }).experiments?.e3) as {
      trueAngleDeg: number;
      finalAngleDeg: Record<string, Record<string, number>>;
    };
    expect(e.trueAngleDeg).toBe(260);
    for (const m of ['forwardKl', 'iwbo']) {
      for (const init of ['0', '90', '180', '270']) {
        const v = e.finalAngleDeg[m]?.[init] as number;
        expect(Number.isFinite(v), `${m}.${init}`).toBe(true);
        expect(v).toBeGreaterThanOrEqual(0);
        expect(v).toBeLessThan(360);
      }
    }
  });

  it('with tail averaging each run reports the tail mean and, beside it, its last iterate (the last metric row)', () => {
    const runsDir = join(run.dir, 'runs', 'e3');
    const ids = readdirSync(runsDir);
    expect(ids.length).toBe(8);
    let differ = 0;
    for (const id of ids) {
      const r = JSON.parse(readFileSync(join(runsDir, id, 'summary.json'), 'utf8')) as {
        result?: { finalAngleDeg: number; lastIterateAngleDeg?: number };
        finalAngleDeg?: number;
        lastIterateAngleDeg?: number;
      };
      const res = r.result ?? r;
      const rows = readFileSync(join(runsDir, id, 'metrics.jsonl'), 'utf8')
        .trim()
        .split('\n');
      const lastRow = JSON.parse(rows.at(-1)!) as { step: number; angleDeg: number };
      expect(lastRow.step).toBeGreaterThan(0);
      expect(res.lastIterateAngleDeg).toBe(lastRow.angleDeg);
      if (res.finalAngleDeg !== res.lastIterateAngleDeg) differ++;
    }
    // The mean of the last third differs from the last iterate wherever the parameters moved.
    expect(differ).toBeGreaterThan(0);
  });

  itInChromium(
    'report.html at a laptop width: every figure at natural size, inside the page, tick labels ≥ 10 px',
    async () => {
      const shot = join(run.out, 'report-1280px.png');
      const m = await measureReport(join(run.dir, 'report.html'), shot);
      expectReadableReport(m, shot, [
        'live-figure-3',
        'live-figure-e3-generator-samples',
        'live-figure-4',
        'live-figure-5',
        'live-figure-6',
      ]);
    },
    300_000,
  );
});
