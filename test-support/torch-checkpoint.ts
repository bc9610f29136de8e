/**
 * Writes a PyTorch zip state-dict checkpoint the way `torch.save` lays it out (`<root>/data.pkl`
 * a protocol-2 pickle of an OrderedDict of `torch._utils._rebuild_tensor_v2` calls on persistent
 * storages, `<root>/data/<key>` the raw little-endian float32 storages, entries stored
 * uncompressed with their CRC-32s), so tests can build real and damaged checkpoints without
 * Python or a fixture file. Test support only.
 */
import { crc32 } from 'node:zlib';

export interface CheckpointTensor {
  readonly shape: readonly number[];
  readonly data: ArrayLike<number>;
}

const enc = new TextEncoder();

function u32(n: number): number[] {
  return [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff];
}
function u16(n: number): number[] {
  return [n & 0xff, (n >>> 8) & 0xff];
}

/** The data.pkl pickle of a state dict whose tensor `i` lives in storage key `String(i)`. */
function statePickle(tensors: readonly [string, CheckpointTensor][]): Uint8Array {
  const b: number[] = [];
  const str = (s: string) => {
    const e = enc.encode(s);
    b.push(0x58, ...u32(e.length), ...e); // BINUNICODE
  };
  const int = (n: number) => b.push(0x4a, ...u32(n)); // BININT
  const global = (mod: string, name: string) => b.push(0x63, ...enc.encode(`${mod}\n${name}\n`));
  b.push(0x80, 2); // PROTO 2
  global('collections', 'OrderedDict');
  b.push(0x29, 0x52); // EMPTY_TUPLE REDUCE → OrderedDict()
  b.push(0x28); // MARK
  tensors.forEach(([name, t], i) => {
    const numel = t.shape.reduce((a, c) => a * c, 1);
    str(name);
    global('torch._utils', '_rebuild_tensor_v2');
    b.push(0x28); // MARK (args)
    b.push(0x28); // MARK (persistent id)
    str('storage');
    global('torch', 'FloatStorage');
    str(String(i));
    str('cpu');
    int(numel);
    b.push(0x74, 0x51); // TUPLE BINPERSID
    int(0); // storage offset
    b.push(0x28);
    for (const d of t.shape) int(d);
    b.push(0x74); // shape
    b.push(0x28);
    let stride = 1;
    const strides: number[] = [];
    for (let d = t.shape.length - 1; d >= 0; d--) {
      strides.unshift(stride);
      stride *= t.shape[d] as number;
    }
    for (const s of strides) int(s);
    b.push(0x74); // stride
    b.push(0x89); // requires_grad False
    global('collections', 'OrderedDict');
    b.push(0x29, 0x52); // backward hooks
    b.push(0x74, 0x52); // TUPLE REDUCE → tensor
  });
  b.push(0x75, 0x2e); // SETITEMS STOP
  return new Uint8Array(b);
}

/** A zip archive of `entries`, stored (no compression), with correct CRC-32s. */
export function storedZip(entries: Record<string, Uint8Array>): Uint8Array {
  const parts: number[] = [];
  const central: number[] = [];
  for (const [name, data] of Object.entries(entries)) {
    const n = enc.encode(name);
    const crc = crc32(data) >>> 0;
    const offset = parts.length;
    parts.push(...u32(0x04034b50), ...u16(20), ...u16(0), ...u16(0), ...u16(0), ...u16(0));
    parts.push(...u32(crc), ...u32(data.length), ...u32(data.length), ...u16(n.length), ...u16(0), ...n);
    for (const x of data) parts.push(x);
    central.push(...u32(0x02014b50), ...u16(20), ...u16(20), ...u16(0), ...u16(0), ...u16(0), ...u16(0));
    central.push(...u32(crc), ...u32(data.length), ...u32(data.length), ...u16(n.length), ...u16(0));
    central.push(...u16(0), ...u16(0), ...u16(0), ...u32(0), ...u32(offset), ...n);
  }
  const cdOffset = parts.length;
  const count = Object.keys(entries).length;
  const eocd = [
    ...u32(0x06054b50),
    ...u16(0),
    ...u16(0),
    ...u16(count),
    ...u16(count),
    ...u32(central.length),
    ...u32(cdOffset),
    ...u16(0),
  ];
  return new Uint8Array([...parts, ...central, ...eocd]);
}

/** The bytes of a `torch.save(state_dict)` zip checkpoint (archive root `archive/`). */
export function torchCheckpointBytes(stateDict: Record<string, CheckpointTensor>): Uint8Array {
  const tensors = Object.entries(stateDict);
  const entries: Record<string, Uint8Array> = { 'archive/data.pkl': statePickle(tensors) };
  tensors.forEach(([, t], i) => {
    entries[`archive/data/${i}`] = new Uint8Array(Float32Array.from(t.data).buffer);
  });
  entries['archive/version'] = enc.encode('3\n');
  return storedZip(entries);
}

/**
 * A small generator state dict (`@gcvi/datasets`' six parameter names, latent 64, `hidden` wide,
 * 784 pixels) with deterministic finite weights.
 */
export function smallGeneratorStateDict(hidden = 8): Record<string, CheckpointTensor> {
  const t = (shape: number[], k: number): CheckpointTensor => {
    const n = shape.reduce((a, c) => a * c, 1);
    return { shape, data: Array.from({ length: n }, (_, i) => 0.05 * Math.sin(0.7 * i + k)) };
  };
  return {
    '0.weight': t([hidden, 64], 1),
    '0.bias': t([hidden], 2),
    '2.weight': t([hidden, hidden], 3),
    '2.bias': t([hidden], 4),
    '4.weight': t([784, hidden], 5),
    '4.bias': t([784], 6),
  };
}
