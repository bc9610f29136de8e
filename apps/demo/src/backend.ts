/**
 * The tfjs backend in the browser: webgl where the worker can make a WebGL context (through
 * OffscreenCanvas), else wasm, else cpu. The wasm binaries are bundled by Vite as assets of the
 * site (`?url` imports), so the page loads them from its own origin, never from a CDN.
 *
 * `@gcvi/runtime`'s `initBackend` is not used here: it chooses among Node's backends
 * (tfjs-node > wasm > cpu) and reads `process.env`.
 */
import '@tensorflow/tfjs';
import { getThreadsCount, setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import wasmPlain from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimd from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreadedSimd from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';
import * as tf from '@tensorflow/tfjs-core';
import type { BackendChoice } from './config.js';
import type { BackendReport } from './protocol.js';

setWasmPaths({
  'tfjs-backend-wasm.wasm': wasmPlain,
  'tfjs-backend-wasm-simd.wasm': wasmSimd,
  'tfjs-backend-wasm-threaded-simd.wasm': wasmThreadedSimd,
});

const ORDER = ['webgl', 'wasm', 'cpu'] as const;

/** tf.setBackend logs its failures with console.warn/error; we report them ourselves. */
async function trySet(name: string): Promise<string | null> {
  const warn = console.warn;
  const error = console.error;
  const messages: string[] = [];
  console.warn = (...a: unknown[]) => messages.push(a.map(String).join(' '));
  console.error = (...a: unknown[]) => messages.push(a.map(String).join(' '));
  try {
    if (!tf.findBackendFactory(name)) return `no ${name} backend is registered`;
    if (!(await tf.setBackend(name))) return messages[0] ?? `tf.setBackend('${name}') failed`;
    await tf.ready();
    // A context that cannot run a kernel is no backend: check one tiny op end to end.
    const probe = tf.tidy(() => tf.add(tf.tensor1d([1, 2]), tf.scalar(1)).dataSync());
    if (probe[0] !== 2 || probe[1] !== 3) return `${name} computed [1, 2] + 1 = [${Array.from(probe)}]`;
    return null;
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  } finally {
    console.warn = warn;
    console.error = error;
  }
}

function details(name: string): string {
  if (name === 'wasm') {
    return `SIMD ${tf.env().getBool('WASM_HAS_SIMD_SUPPORT') ? 'on' : 'off'}, threads ${getThreadsCount()}`;
  }
  if (name === 'webgl') {
    try {
      const gl = (tf.backend() as unknown as { gpgpu: { gl: WebGLRenderingContext } }).gpgpu.gl;
      const ext = gl.getExtension('WEBGL_debug_renderer_info');
      const renderer = ext ? gl.getParameter(ext.UNMASKED_RENDERER_WEBGL) : gl.getParameter(gl.RENDERER);
      return `WebGL ${tf.env().getNumber('WEBGL_VERSION')}, ${String(renderer)}`;
    } catch {
      return `WebGL ${tf.env().getNumber('WEBGL_VERSION')}`;
    }
  }
  return '';
}

/** Pick the backend; an explicit request that fails is an error, not a silent fallback. */
export async function chooseBackend(requested: BackendChoice): Promise<BackendReport> {
  const skipped: { backend: string; reason: string }[] = [];
  const candidates = requested === 'auto' ? ORDER : [requested];
  for (const name of candidates) {
    const reason = await trySet(name);
    if (reason === null) return { name, requested, skipped, details: details(name) };
    skipped.push({ backend: name, reason });
  }
  throw new Error(
    `no tfjs backend could be started (${skipped.map((s) => `${s.backend}: ${s.reason}`).join('; ')})`,
  );
}
