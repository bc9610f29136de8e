/**
 * The page: controls, the NLL chart and the circle. It holds no tensors: the worker trains and
 * sends numbers, the page draws them.
 */
import {
  BACKEND_CHOICES,
  type BackendChoice,
  LR0_CHOICES,
  type PageSettings,
  queryFromSettings,
  settingsFromQuery,
  WIDTHS,
} from './config.js';
import { angleAt, drawCircle, drawNllChart, modeDegrees, type NllSeries } from './draw.js';
import type { PosteriorCurves } from './e1.js';
import type { FromWorker, ToWorker } from './protocol.js';

const $ = <T extends HTMLElement>(id: string): T => {
  const el = document.getElementById(id);
  if (!el) throw new Error(`the page has no #${id}`);
  return el as T;
};

const ui = {
  width: $<HTMLSelectElement>('width'),
  lr0: $<HTMLSelectElement>('lr0'),
  seed: $<HTMLInputElement>('seed'),
  steps: $<HTMLInputElement>('steps'),
  backend: $<HTMLSelectElement>('backend'),
  start: $<HTMLButtonElement>('start'),
  pause: $<HTMLButtonElement>('pause'),
  reset: $<HTMLButtonElement>('reset'),
  status: $('status'),
  error: $('error'),
  zoom: $<HTMLInputElement>('zoom'),
  nll: $<HTMLCanvasElement>('nll'),
  circle: $<HTMLCanvasElement>('circle'),
  step: $('step'),
  nllExact: $('nll-exact'),
  nllFull: $('nll-full'),
  nllLinear: $('nll-linear'),
  gapFull: $('gap-full'),
  gapLinear: $('gap-linear'),
  phi: $('phi'),
  modeExact: $('mode-exact'),
  modeFull: $('mode-full'),
  modeLinear: $('mode-linear'),
};

const { settings: initial, problems } = settingsFromQuery(location.search);
let settings: PageSettings = initial;

function fillSelect(sel: HTMLSelectElement, values: readonly (string | number)[], current: string | number) {
  const list = values.includes(current) ? values : [...values, current];
  sel.replaceChildren(
    ...list.map((v) => {
      const o = document.createElement('option');
      o.value = String(v);
      o.textContent = String(v);
      o.selected = v === current;
      return o;
    }),
  );
}
fillSelect(ui.width, WIDTHS, settings.width);
fillSelect(ui.lr0, LR0_CHOICES, settings.lr0);
fillSelect(ui.backend, BACKEND_CHOICES, settings.backend);
ui.seed.value = String(settings.seed);
ui.steps.value = String(settings.steps);

const state = {
  exactNll: Number.NaN,
  series: { step: [], full: [], linear: [] } as NllSeries,
  stopAt: settings.steps,
  running: false,
  ready: false,
  phi: Math.PI / 3,
  curves: undefined as PosteriorCurves | undefined,
  backend: '',
  stepsPerSecond: Number.NaN,
  step: 0,
};

function showError(message: string) {
  console.error(`demo: ${message}`);
  ui.error.hidden = false;
  ui.error.textContent = message;
}
if (problems.length) showError(`ignored malformed address parameters: ${problems.join(', ')}`);

const worker = new Worker(new URL('./worker.ts', import.meta.url), { type: 'module' });
const send = (m: ToWorker) => worker.postMessage(m);
worker.onerror = (e) => showError(`worker failed: ${e.message}`);

const fmt = (v: number) => (Number.isFinite(v) ? v.toFixed(4) : '—');
const sign = (v: number) => (Number.isFinite(v) ? `${v >= 0 ? '+' : ''}${v.toFixed(4)}` : '');
const setValue = (el: HTMLElement, v: number, text: string) => {
  el.textContent = text;
  el.dataset.value = String(v);
};

function renderNumbers() {
  const n = state.series.step.length;
  const full = n ? (state.series.full[n - 1] as number) : Number.NaN;
  const linear = n ? (state.series.linear[n - 1] as number) : Number.NaN;
  setValue(ui.nllExact, state.exactNll, fmt(state.exactNll));
  setValue(ui.nllFull, full, fmt(full));
  setValue(ui.nllLinear, linear, fmt(linear));
  ui.gapFull.textContent = sign(full - state.exactNll);
  ui.gapLinear.textContent = sign(linear - state.exactNll);
  setValue(ui.step, state.step, String(state.step));
  const sps = Number.isFinite(state.stepsPerSecond) ? `${state.stepsPerSecond.toFixed(0)} steps/s` : '';
  ui.status.textContent = state.ready
    ? `${state.running ? 'Training' : state.step >= state.stopAt ? 'Done' : state.step ? 'Paused' : 'Ready'} — step ${state.step} of ${state.stopAt} · backend ${state.backend}${sps ? ` · ${sps}` : ''}`
    : ui.status.textContent;
  ui.status.dataset.stepsPerSecond = String(state.stepsPerSecond);
  ui.status.dataset.running = String(state.running);
  ui.start.disabled = !state.ready || state.running || state.step >= state.stopAt;
  ui.pause.disabled = !state.running;
  ui.reset.disabled = !state.ready;
}

let frame = 0;
function redraw() {
  if (frame) return;
  frame = requestAnimationFrame(() => {
    frame = 0;
    if (Number.isFinite(state.exactNll)) {
      drawNllChart(ui.nll, state.series, {
        exactNll: state.exactNll,
        stepMax: state.stopAt,
        zoom: ui.zoom.checked,
      });
    }
    drawCircle(ui.circle, state.phi, state.curves);
    const deg = ((((state.phi * 180) / Math.PI) % 360) + 360) % 360;
    setValue(ui.phi, deg, `${deg.toFixed(0)}°`);
    if (state.curves) {
      const c = state.curves;
      const modes = {
        exact: modeDegrees(c.theta, c.exact),
        full: modeDegrees(c.theta, c.full),
        linear: modeDegrees(c.theta, c.linear),
      };
      setValue(ui.modeExact, modes.exact, `${modes.exact.toFixed(0)}°`);
      setValue(ui.modeFull, modes.full, `${modes.full.toFixed(0)}°`);
      setValue(ui.modeLinear, modes.linear, `${modes.linear.toFixed(0)}°`);
    }
    renderNumbers();
  });
}

worker.onmessage = (ev: MessageEvent<FromWorker>) => {
  const m = ev.data;
  switch (m.type) {
    case 'backend': {
      const b = m.backend;
      state.backend = `${b.name}${b.details ? ` (${b.details})` : ''}`;
      ui.status.dataset.backend = b.name;
      if (b.skipped.length) {
        console.info(
          `demo: backends skipped: ${b.skipped.map((s) => `${s.backend}: ${s.reason}`).join('; ')}`,
        );
      }
      return;
    }
    case 'ready':
      state.ready = true;
      state.exactNll = m.exactNll;
      state.stopAt = m.stopAt;
      state.series = { step: [0], full: [m.initial.full], linear: [m.initial.linear] };
      state.step = 0;
      state.stepsPerSecond = Number.NaN;
      state.running = false;
      if (settings.autostart) send({ type: 'start' });
      redraw();
      return;
    case 'progress':
      for (const e of m.report.evals) {
        state.series.step.push(e.step);
        state.series.full.push(e.full);
        state.series.linear.push(e.linear);
      }
      state.step = m.report.step;
      state.stepsPerSecond = m.stepsPerSecond;
      state.running = m.running;
      redraw();
      return;
    case 'posterior':
      if (Math.abs(m.curves.phi - state.phi) < 1e-12) state.curves = m.curves;
      redraw();
      return;
    case 'state':
      state.running = m.running;
      state.step = m.step;
      redraw();
      return;
    case 'error':
      state.running = false;
      showError(m.message);
      redraw();
      return;
  }
};

function reset() {
  state.ready = false;
  ui.status.textContent = `Building width ${settings.width}…`;
  renderNumbers();
  send({
    type: 'reset',
    config: { width: settings.width, lr0: settings.lr0, seed: settings.seed },
    stopAt: settings.steps,
  });
}

/** Keep the address in step with the settings, so a reload replays this run. */
function settingsChanged(next: PageSettings, { reload }: { reload: boolean }) {
  const backendChanged = next.backend !== settings.backend;
  settings = next;
  const url = `${location.pathname}${queryFromSettings({ ...settings, autostart: false })}${location.hash}`;
  if (backendChanged || reload) {
    location.assign(url);
    return;
  }
  history.replaceState(null, '', url);
  reset();
}

const readInt = (el: HTMLInputElement, fallback: number, min: number) => {
  const v = Number(el.value);
  return Number.isSafeInteger(v) && v >= min ? v : fallback;
};
ui.width.onchange = () => settingsChanged({ ...settings, width: Number(ui.width.value) }, { reload: false });
ui.lr0.onchange = () => settingsChanged({ ...settings, lr0: Number(ui.lr0.value) }, { reload: false });
ui.seed.onchange = () =>
  settingsChanged({ ...settings, seed: readInt(ui.seed, settings.seed, 0) }, { reload: false });
ui.steps.onchange = () =>
  settingsChanged({ ...settings, steps: readInt(ui.steps, settings.steps, 1) }, { reload: false });
ui.backend.onchange = () =>
  settingsChanged({ ...settings, backend: ui.backend.value as BackendChoice }, { reload: true });
ui.start.onclick = () => send({ type: 'start' });
ui.pause.onclick = () => send({ type: 'pause' });
ui.reset.onclick = () => reset();
ui.zoom.onchange = () => redraw();

function setPhi(phi: number) {
  state.phi = Math.atan2(Math.sin(phi), Math.cos(phi));
  send({ type: 'posterior', phi: state.phi });
  redraw();
}
let dragging = false;
ui.circle.addEventListener('pointerdown', (e) => {
  dragging = true;
  ui.circle.setPointerCapture(e.pointerId);
  setPhi(angleAt(ui.circle, e.clientX, e.clientY));
});
ui.circle.addEventListener('pointermove', (e) => {
  if (dragging) setPhi(angleAt(ui.circle, e.clientX, e.clientY));
});
const stopDrag = () => {
  dragging = false;
};
ui.circle.addEventListener('pointerup', stopDrag);
ui.circle.addEventListener('pointercancel', stopDrag);
ui.circle.addEventListener('keydown', (e) => {
  const d = e.key === 'ArrowLeft' ? 1 : e.key === 'ArrowRight' ? -1 : 0;
  if (!d) return;
  e.preventDefault();
  setPhi(state.phi + (d * 5 * Math.PI) / 180);
});
window.addEventListener('resize', () => redraw());

send({ type: 'init', backend: settings.backend });
reset();
redraw();
