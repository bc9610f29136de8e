/// <reference lib="webworker" />
/**
 * The training worker: owns tfjs, the backend and the E1 trainer, and runs training in chunks of
 * ~50 ms, yielding between chunks so pause/reset/posterior messages are handled at once.
 */
import { chooseBackend } from './backend.js';
import { createE1Trainer, type E1Trainer } from './e1.js';
import type { FromWorker, ToWorker } from './protocol.js';

declare const self: DedicatedWorkerGlobalScope;

const post = (m: FromWorker) => self.postMessage(m);
const errorText = (e: unknown) => (e instanceof Error ? `${e.name}: ${e.message}` : String(e));

/** Steps at the start of a run left out of the speed figure (WebGL compiles its shaders then). */
const WARMUP_STEPS = 10;
/** Aim for this much training between two updates of the page. */
const CHUNK_MS = 50;

let trainer: E1Trainer | undefined;
let backendReady: Promise<unknown> | undefined;
let running = false;
let loopDone: Promise<void> = Promise.resolve();
let stopAt = 0;
let phi = Math.PI / 3;
let timedSteps = 0;
let timedMs = 0;

/** Let the worker's event loop run (a message-channel round trip, no timer clamping). */
const yieldToEvents = () =>
  new Promise<void>((resolve) => {
    const ch = new MessageChannel();
    ch.port1.onmessage = () => {
      ch.port1.close();
      resolve();
    };
    ch.port2.postMessage(0);
  });

function sendPosterior() {
  if (!trainer) return;
  post({ type: 'posterior', curves: trainer.posterior(phi), step: trainer.step });
}

async function loop(t: E1Trainer): Promise<void> {
  let chunk = 5;
  while (running && trainer === t) {
    const left = stopAt - t.step;
    if (left <= 0) break;
    const before = t.step;
    const t0 = performance.now();
    const report = await t.advance(Math.min(chunk, left));
    const ms = performance.now() - t0;
    const done = report.step - before;
    if (before >= WARMUP_STEPS) {
      timedSteps += done;
      timedMs += ms;
    }
    if (done > 0) chunk = Math.max(1, Math.min(500, Math.round((chunk * CHUNK_MS) / Math.max(ms, 1))));
    if (trainer !== t) return;
    const stillRunning = running && report.step < stopAt && !report.done;
    post({
      type: 'progress',
      report,
      stepsPerSecond: timedMs > 0 ? (1000 * timedSteps) / timedMs : Number.NaN,
      running: stillRunning,
    });
    sendPosterior();
    if (report.done) break;
    await yieldToEvents();
  }
  running = false;
  if (trainer === t) post({ type: 'state', running: false, step: t.step });
}

async function handle(m: ToWorker): Promise<void> {
  switch (m.type) {
    case 'init': {
      backendReady = chooseBackend(m.backend).then((backend) => post({ type: 'backend', backend }));
      await backendReady;
      return;
    }
    case 'reset': {
      if (!backendReady) throw new Error("the worker got 'reset' before 'init'");
      await backendReady;
      running = false;
      await loopDone;
      const old = trainer;
      trainer = undefined;
      await old?.dispose();
      timedSteps = 0;
      timedMs = 0;
      stopAt = m.stopAt;
      const t = createE1Trainer(m.config);
      trainer = t;
      post({ type: 'ready', config: t.config, exactNll: t.exactNll, initial: t.initial, stopAt });
      sendPosterior();
      return;
    }
    case 'start': {
      if (!trainer || running) return;
      if (trainer.step >= stopAt) return;
      running = true;
      post({ type: 'state', running: true, step: trainer.step });
      loopDone = loop(trainer).catch(fail);
      return;
    }
    case 'pause':
      running = false;
      return;
    case 'posterior':
      phi = m.phi;
      if (!running) sendPosterior();
      return;
  }
}

function fail(e: unknown) {
  running = false;
  post({ type: 'error', message: errorText(e) });
}

// Messages are handled one after another (a reset waits for the previous one), except `pause`
// and `posterior`, which take effect at once.
let queue: Promise<void> = Promise.resolve();
self.onmessage = (ev: MessageEvent<ToWorker>) => {
  const m = ev.data;
  if (m.type === 'pause' || m.type === 'posterior') {
    handle(m).catch(fail);
    return;
  }
  queue = queue.then(() => handle(m)).catch(fail);
};
self.addEventListener('unhandledrejection', (ev) => fail(ev.reason));
