/**
 * JSON with typed arrays: a `Float32Array`/`Float64Array`/`Int32Array`/`Uint32Array` becomes
 * `{ "$typed": "float32", "base64": "…" }` (exact bits, a third the size of decimal text), and is
 * decoded back to the same class. Used for checkpoints.
 */
type Typed = Float32Array | Float64Array | Int32Array | Uint32Array;
const CTORS = {
  float32: Float32Array,
  float64: Float64Array,
  int32: Int32Array,
  uint32: Uint32Array,
} as const;
type TypedName = keyof typeof CTORS;

function typedName(v: Typed): TypedName {
  if (v instanceof Float32Array) return 'float32';
  if (v instanceof Float64Array) return 'float64';
  if (v instanceof Int32Array) return 'int32';
  return 'uint32';
}

function isTyped(v: unknown): v is Typed {
  return (
    v instanceof Float32Array ||
    v instanceof Float64Array ||
    v instanceof Int32Array ||
    v instanceof Uint32Array
  );
}

export function encodeTyped(value: unknown): string {
  return JSON.stringify(value, function (this: unknown, key: string, v: unknown) {
    const raw = (this as Record<string, unknown>)[key];
    if (isTyped(raw)) {
      return {
        $typed: typedName(raw),
        base64: Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('base64'),
      };
    }
    return v;
  });
}

export function decodeTyped(text: string): unknown {
  return JSON.parse(text, (_key, v: unknown) => {
    if (v && typeof v === 'object' && '$typed' in v && 'base64' in v) {
      const { $typed, base64 } = v as { $typed: string; base64: string };
      const Ctor = CTORS[$typed as TypedName];
      if (!Ctor) throw new TypeError(`unknown typed array kind '${$typed}'`);
      const buf = Buffer.from(base64, 'base64');
      const copy = new Uint8Array(buf.byteLength);
      copy.set(buf);
      return new Ctor(copy.buffer);
    }
    return v;
  });
}
