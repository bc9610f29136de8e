/**
 * The demo's settings, in a module without imports so the page (main thread) can read them without
 * pulling tfjs into its bundle; the worker and the trainer import the same values.
 */

export interface E1DemoConfig {
  /** Hidden width W of the network 2 → W → 2 (NTK parameterization, no biases). */
  readonly width: number;
  /** Seed of initialization and of the training stream. */
  readonly seed: number;
  /** Seed of the fixed test set (independent of `seed`). */
  readonly dataSeed: number;
  /** lr at step n = 1 / (1/lr0 + n/lrScale) (DESIGN §2 E1's schedule; the paper's lr0 is 1e-4). */
  readonly lr0: number;
  readonly lrScale: number;
  /** Fresh (θ, x) pairs per step (the paper: 16). */
  readonly batchSize: number;
  /** Noise sd of the simulator (the paper: 0.5). */
  readonly sigma: number;
  /** η = f(x) + etaOffset (the paper: 1e-4). */
  readonly etaOffset: number;
  /** Size of the fixed test set (the paper: 1000). */
  readonly testSize: number;
  /** Test NLL every this many steps. */
  readonly evalEvery: number;
  /** Steps each `fit` is started for (training stops there). */
  readonly maxSteps: number;
}

/**
 * The demo's settings. Only the learning rate differs from the paper: lr0 = 1e-2 instead of 1e-4
 * (same inverse-time schedule), so that a width-256 network visibly reaches the exact NLL within a
 * few hundred steps instead of tens of thousands.
 */
export const DEMO_DEFAULTS: E1DemoConfig = {
  width: 256,
  seed: 0,
  dataSeed: 1,
  lr0: 1e-2,
  lrScale: 10,
  batchSize: 16,
  sigma: 0.5,
  etaOffset: 1e-4,
  testSize: 1000,
  evalEvery: 10,
  maxSteps: 20_000,
};

/** Widths offered by the page. */
export const WIDTHS = [16, 64, 256, 1024, 4096] as const;

/** Initial learning rates offered by the page (1e-4 is the paper's; 1e-2 the demo's default). */
export const LR0_CHOICES = [1e-4, 1e-3, 3e-3, 1e-2, 3e-2] as const;

/** Backends the page can ask for; `auto` tries webgl, then wasm, then cpu. */
export const BACKEND_CHOICES = ['auto', 'webgl', 'wasm', 'cpu'] as const;
export type BackendChoice = (typeof BACKEND_CHOICES)[number];

/** What the page's address says: the run (width, lr0, seed), where to stop, and the backend. */
export interface PageSettings {
  readonly width: number;
  readonly lr0: number;
  readonly seed: number;
  /** Training pauses by itself after this many steps. */
  readonly steps: number;
  readonly backend: BackendChoice;
  /** Start training as soon as the page is ready. */
  readonly autostart: boolean;
}

export const PAGE_DEFAULTS: PageSettings = {
  width: DEMO_DEFAULTS.width,
  lr0: DEMO_DEFAULTS.lr0,
  seed: DEMO_DEFAULTS.seed,
  steps: 2000,
  backend: 'auto',
  autostart: false,
};

/**
 * Settings from a query string such as `?width=256&lr0=0.01&seed=0&steps=300&backend=wasm`.
 * Unknown or malformed values fall back to the defaults and are listed in `problems`, so the page
 * can say which parameter it ignored.
 */
export function settingsFromQuery(search: string): { settings: PageSettings; problems: string[] } {
  const q = new URLSearchParams(search);
  const problems: string[] = [];
  const int = (key: 'width' | 'seed' | 'steps', ok: (v: number) => boolean): number => {
    const raw = q.get(key);
    if (raw === null) return PAGE_DEFAULTS[key];
    const v = Number(raw);
    if (Number.isSafeInteger(v) && ok(v)) return v;
    problems.push(`${key}=${raw}`);
    return PAGE_DEFAULTS[key];
  };
  const width = int('width', (v) => v >= 1 && v <= 16384);
  const seed = int('seed', (v) => v >= 0);
  const steps = int('steps', (v) => v >= 1 && v <= DEMO_DEFAULTS.maxSteps);
  let lr0 = PAGE_DEFAULTS.lr0;
  const rawLr = q.get('lr0');
  if (rawLr !== null) {
    const v = Number(rawLr);
    if (Number.isFinite(v) && v > 0 && v <= 1) lr0 = v;
    else problems.push(`lr0=${rawLr}`);
  }
  let backend: BackendChoice = PAGE_DEFAULTS.backend;
  const rawBackend = q.get('backend');
  if (rawBackend !== null) {
    if ((BACKEND_CHOICES as readonly string[]).includes(rawBackend)) backend = rawBackend as BackendChoice;
    else problems.push(`backend=${rawBackend}`);
  }
  const autostart = q.get('autostart') === '1';
  return { settings: { width, lr0, seed, steps, backend, autostart }, problems };
}

/** The query string of a settings value (defaults left out). */
export function queryFromSettings(s: PageSettings): string {
  const q = new URLSearchParams();
  if (s.width !== PAGE_DEFAULTS.width) q.set('width', String(s.width));
  if (s.lr0 !== PAGE_DEFAULTS.lr0) q.set('lr0', String(s.lr0));
  if (s.seed !== PAGE_DEFAULTS.seed) q.set('seed', String(s.seed));
  if (s.steps !== PAGE_DEFAULTS.steps) q.set('steps', String(s.steps));
  if (s.backend !== PAGE_DEFAULTS.backend) q.set('backend', s.backend);
  if (s.autostart) q.set('autostart', '1');
  const str = q.toString();
  return str ? `?${str}` : '';
}
