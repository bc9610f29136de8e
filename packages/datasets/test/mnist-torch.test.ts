import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { unzipSync, zipSync } from 'fflate';
import { afterAll, describe, expect, it } from 'vitest';
import { loadTorchCheckpoint, parseTorchCheckpoint, type TorchStateDict } from '../src/mnist/index.js';

// The fixture lives in ../shared/fixtures relative to the repo root (never copied into the repo).
const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const FIXTURE = resolve(repoRoot, '../shared/fixtures/G299.ckpt');
const haveFixture = existsSync(FIXTURE);
if (!haveFixture) console.warn(`mnist-torch: fixture ${FIXTURE} absent, skipping the checkpoint tests`);

// Golden numbers from scripts/golden-g299.py (PyTorch 1.13, float64 forward of the fixture).
const GOLDEN = {
  firstValues: {
    '0.weight': 0.03772876039147377,
    '0.bias': -0.4855225384235382,
    '2.weight': 0.046457696706056595,
    '2.bias': -0.09946466237306595,
    '4.weight': -0.48324474692344666,
    '4.bias': -0.37709498405456543,
  },
  pixels: [0, 100, 203, 300, 350, 378, 406, 434, 490, 517, 600, 783],
  values: [
    [
      -0.999949035, -0.999999903, -0.998942574, -0.999962037, -0.997830539, -0.998350051, -0.997822865,
      -0.889182931, -0.603386943, -0.64083883, -0.613922271, -0.999734732,
    ],
    [
      -0.999970764, -0.125307054, -0.99999981, -0.999980805, 0.979721984, 0.451995386, -0.987340748,
      -0.995515167, -0.998644446, -0.995111088, 0.983827663, -0.999992613,
    ],
    [
      -0.999918455, -0.999986472, -0.999999821, -0.999994052, -0.868773385, -0.995710446, -0.466142668,
      0.996161936, 0.962965561, 0.472483146, 0.999470276, -0.99999868,
    ],
  ],
  mean: [-0.915175584, -0.752993935, -0.711889789],
};

/** The fixed latents of the golden script. */
function goldenLatents(): number[][] {
  const zs = [0, 1].map((k) => Array.from({ length: 64 }, (_, j) => Math.sin(0.37 * (j + 1) * (k + 1))));
  zs.push(Array.from({ length: 64 }, (_, j) => Math.cos(0.11 * j) - 0.5));
  return zs;
}

/** Plain float64 forward of Linear → ReLU → Linear → ReLU → Linear → tanh from a state dict. */
function forward(sd: TorchStateDict, z: number[]): number[] {
  const lin = (x: number[], name: string) => {
    const W = sd[`${name}.weight`]!;
    const b = sd[`${name}.bias`]!;
    const [o, i] = W.shape as [number, number];
    return Array.from({ length: o }, (_, r) => {
      let s = b.data[r] as number;
      for (let c = 0; c < i; c++) s += (W.data[r * i + c] as number) * (x[c] as number);
      return s;
    });
  };
  const relu = (x: number[]) => x.map((v) => Math.max(0, v));
  return lin(relu(lin(relu(lin(z, '0')), '2')), '4').map(Math.tanh);
}

describe.skipIf(!haveFixture)('loadTorchCheckpoint on ../shared/fixtures/G299.ckpt', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'gcvi-torch-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('reads every tensor with its shape and first value', () => {
    const sd = loadTorchCheckpoint(FIXTURE);
    expect(Object.keys(sd)).toEqual(['0.weight', '0.bias', '2.weight', '2.bias', '4.weight', '4.bias']);
    expect(sd['0.weight']!.shape).toEqual([256, 64]);
    expect(sd['0.bias']!.shape).toEqual([256]);
    expect(sd['2.weight']!.shape).toEqual([256, 256]);
    expect(sd['4.weight']!.shape).toEqual([784, 256]);
    expect(sd['4.bias']!.shape).toEqual([784]);
    for (const [k, v] of Object.entries(GOLDEN.firstValues)) expect(sd[k]!.data[0]).toBe(Math.fround(v));
  });

  it('generator outputs for fixed latents equal the PyTorch golden numbers (1e-5)', () => {
    const sd = loadTorchCheckpoint(FIXTURE);
    goldenLatents().forEach((z, k) => {
      const out = forward(sd, z);
      GOLDEN.pixels.forEach((p, j) => {
        expect(Math.abs((out[p] as number) - GOLDEN.values[k]![j]!)).toBeLessThan(1e-5);
      });
      const mean = out.reduce((a, b) => a + b, 0) / out.length;
      expect(Math.abs(mean - GOLDEN.mean[k]!)).toBeLessThan(1e-5);
    });
  });

  it('damaged archives fail with a FileFormatError naming the file', () => {
    const bytes = new Uint8Array(readFileSync(FIXTURE));
    const trunc = join(tmp, 'trunc.ckpt');
    writeFileSync(trunc, bytes.subarray(0, 5000));
    expect(() => loadTorchCheckpoint(trunc)).toThrow(
      expect.objectContaining({ name: 'FileFormatError', file: trunc }),
    );
    const entries = unzipSync(bytes);
    const root = Object.keys(entries)
      .find((n) => n.endsWith('data.pkl'))!
      .replace('data.pkl', '');
    // A storage missing.
    const noStorage = { ...entries };
    delete noStorage[`${root}data/4`];
    expect(() => parseTorchCheckpoint(zipSync(noStorage), 'x.ckpt')).toThrow(
      /x\.ckpt: 4\.weight: storage .*data\/4 missing/,
    );
    // A storage cut short.
    const short = { ...entries, [`${root}data/1`]: entries[`${root}data/1`]!.subarray(0, 100) };
    expect(() => parseTorchCheckpoint(zipSync(short), 'y.ckpt')).toThrow(
      /y\.ckpt: 0\.bias: storage 1 has 100 bytes, expected 1024/,
    );
    // The pickle cut short.
    const pkl = { ...entries, [`${root}data.pkl`]: entries[`${root}data.pkl`]!.subarray(0, 300) };
    expect(() => parseTorchCheckpoint(zipSync(pkl), 'z.ckpt')).toThrow(/z\.ckpt: data\.pkl at byte \d+/);
    // No pickle at all.
    expect(() => parseTorchCheckpoint(zipSync({ 'a/b': new Uint8Array(3) }), 'w.ckpt')).toThrow(
      /w\.ckpt: no data\.pkl/,
    );
    expect(() => loadTorchCheckpoint(join(tmp, 'absent.ckpt'))).toThrow(/absent\.ckpt: cannot read/);
  });
});
