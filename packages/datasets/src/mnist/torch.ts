import { readFileSync } from 'node:fs';
import { crc32 } from 'node:zlib';
import { FileFormatError } from '@gcvi/runtime';
import { unzipSync } from 'fflate';

/**
 * Reader for PyTorch state-dict checkpoints in the zip format (`torch.save` since 1.6): a zip
 * holding `<root>/data.pkl` (a pickle of an OrderedDict of tensors, each stored as a call to
 * `torch._utils._rebuild_tensor_v2` on a persistent-id storage) and raw little-endian storages in
 * `<root>/data/<key>`. Only what such a state dict needs is implemented; anything else is a
 * `FileFormatError` naming the file. No Python is needed at run time.
 */

export interface TorchTensor {
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

export type TorchStateDict = Record<string, TorchTensor>;

const STORAGE_DTYPES: Record<string, { bytes: number; read: (v: DataView, o: number) => number }> = {
  FloatStorage: { bytes: 4, read: (v, o) => v.getFloat32(o, true) },
  DoubleStorage: { bytes: 8, read: (v, o) => v.getFloat64(o, true) },
  HalfStorage: { bytes: 2, read: (v, o) => halfToFloat(v.getUint16(o, true)) },
  LongStorage: { bytes: 8, read: (v, o) => Number(v.getBigInt64(o, true)) },
  IntStorage: { bytes: 4, read: (v, o) => v.getInt32(o, true) },
};

function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * 2 ** -14 * (f / 1024);
  if (e === 31) return f ? Number.NaN : s * Number.POSITIVE_INFINITY;
  return s * 2 ** (e - 15) * (1 + f / 1024);
}

/** A reference to a global (`module.name`) produced by the GLOBAL opcode. */
class PyGlobal {
  constructor(
    readonly module: string,
    readonly name: string,
  ) {}
  get full(): string {
    return `${this.module}.${this.name}`;
  }
}

/** A storage handle from a persistent id: ('storage', StorageClass, key, location, numel). */
interface StorageRef {
  readonly kind: 'storage';
  readonly dtype: string;
  readonly key: string;
  readonly numel: number;
}

interface RebuiltTensor {
  readonly kind: 'tensor';
  readonly storage: StorageRef;
  readonly offset: number;
  readonly shape: number[];
  readonly stride: number[];
}

const MARK = Symbol('mark');

/**
 * Minimal unpickler (protocols 2–4 opcodes that `torch.save` emits for a state dict). Globals are
 * resolved against an allow-list; unknown opcodes are an error.
 */
function unpickle(bytes: Uint8Array, file: string, persistentLoad: (pid: unknown) => unknown): unknown {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const td = new TextDecoder('utf-8');
  const stack: unknown[] = [];
  const memo = new Map<number, unknown>();
  let pos = 0;
  const fail = (msg: string): never => {
    throw new FileFormatError(file, `data.pkl at byte ${pos}: ${msg}`);
  };
  const need = (n: number) => {
    if (pos + n > bytes.length) fail('unexpected end of pickle');
  };
  const u8 = () => {
    need(1);
    return bytes[pos++] as number;
  };
  const u16 = () => {
    need(2);
    const v = view.getUint16(pos, true);
    pos += 2;
    return v;
  };
  const u32 = () => {
    need(4);
    const v = view.getUint32(pos, true);
    pos += 4;
    return v;
  };
  const str = (n: number) => {
    need(n);
    const s = td.decode(bytes.subarray(pos, pos + n));
    pos += n;
    return s;
  };
  const line = () => {
    const end = bytes.indexOf(0x0a, pos);
    if (end < 0) fail('unterminated line');
    const s = td.decode(bytes.subarray(pos, end));
    pos = end + 1;
    return s;
  };
  const popMark = (): unknown[] => {
    let k = stack.length - 1;
    while (k >= 0 && stack[k] !== MARK) k--;
    if (k < 0) fail('MARK not found');
    const items = stack.splice(k);
    items.shift();
    return items;
  };
  const pop = () => {
    if (stack.length === 0) fail('stack underflow');
    return stack.pop();
  };
  const setItems = (target: unknown, items: unknown[]) => {
    if (!(target instanceof Map)) fail('SETITEM(S) on a non-dict');
    for (let i = 0; i + 1 < items.length; i += 2)
      (target as Map<unknown, unknown>).set(items[i], items[i + 1]);
  };
  const reduce = (fn: unknown, args: unknown): unknown => {
    if (!(fn instanceof PyGlobal) || !Array.isArray(args)) return fail('REDUCE needs a global and a tuple');
    switch (fn.full) {
      case 'collections.OrderedDict':
        return new Map();
      case 'torch._utils._rebuild_tensor_v2':
      case 'torch._utils._rebuild_tensor': {
        const [storage, offset, shape, stride] = args as [StorageRef, number, number[], number[]];
        if (!storage || (storage as StorageRef).kind !== 'storage') fail('tensor without a storage');
        return {
          kind: 'tensor',
          storage,
          offset,
          shape: [...shape],
          stride: [...stride],
        } satisfies RebuiltTensor;
      }
      case 'torch._utils._rebuild_parameter':
        return args[0];
      default:
        return fail(`unsupported global ${fn.full}`);
    }
  };
  for (;;) {
    const op = u8();
    switch (op) {
      case 0x80: // PROTO
        u8();
        break;
      case 0x95: // FRAME
        pos += 8;
        break;
      case 0x2e: // STOP
        return pop();
      case 0x7d: // EMPTY_DICT
        stack.push(new Map());
        break;
      case 0x5d: // EMPTY_LIST
        stack.push([]);
        break;
      case 0x29: // EMPTY_TUPLE
        stack.push([]);
        break;
      case 0x28: // MARK
        stack.push(MARK);
        break;
      case 0x74: // TUPLE
        stack.push(popMark());
        break;
      case 0x85: // TUPLE1
        stack.push([pop()]);
        break;
      case 0x86: {
        // TUPLE2
        const b = pop();
        const a = pop();
        stack.push([a, b]);
        break;
      }
      case 0x87: {
        // TUPLE3
        const c = pop();
        const b = pop();
        const a = pop();
        stack.push([a, b, c]);
        break;
      }
      case 0x71: // BINPUT
        memo.set(u8(), stack[stack.length - 1]);
        break;
      case 0x72: // LONG_BINPUT
        memo.set(u32(), stack[stack.length - 1]);
        break;
      case 0x94: // MEMOIZE
        memo.set(memo.size, stack[stack.length - 1]);
        break;
      case 0x68: {
        // BINGET
        const k = u8();
        if (!memo.has(k)) fail(`memo key ${k} missing`);
        stack.push(memo.get(k));
        break;
      }
      case 0x6a: {
        // LONG_BINGET
        const k = u32();
        if (!memo.has(k)) fail(`memo key ${k} missing`);
        stack.push(memo.get(k));
        break;
      }
      case 0x58: // BINUNICODE
        stack.push(str(u32()));
        break;
      case 0x8c: // SHORT_BINUNICODE
        stack.push(str(u8()));
        break;
      case 0x55: // SHORT_BINSTRING
        stack.push(str(u8()));
        break;
      case 0x4b: // BININT1
        stack.push(u8());
        break;
      case 0x4d: // BININT2
        stack.push(u16());
        break;
      case 0x4a: {
        // BININT
        need(4);
        stack.push(view.getInt32(pos, true));
        pos += 4;
        break;
      }
      case 0x8a: {
        // LONG1
        const n = u8();
        need(n);
        let v = 0n;
        for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[pos + i] as number);
        if (n > 0 && ((bytes[pos + n - 1] as number) & 0x80) !== 0) v -= 1n << BigInt(8 * n);
        pos += n;
        stack.push(Number(v));
        break;
      }
      case 0x47: {
        // BINFLOAT (big-endian)
        need(8);
        stack.push(view.getFloat64(pos, false));
        pos += 8;
        break;
      }
      case 0x88: // NEWTRUE
        stack.push(true);
        break;
      case 0x89: // NEWFALSE
        stack.push(false);
        break;
      case 0x4e: // NONE
        stack.push(null);
        break;
      case 0x63: {
        // GLOBAL
        const mod = line();
        const name = line();
        stack.push(new PyGlobal(mod, name));
        break;
      }
      case 0x93: {
        // STACK_GLOBAL
        const name = pop() as string;
        const mod = pop() as string;
        stack.push(new PyGlobal(mod, name));
        break;
      }
      case 0x51: // BINPERSID
        stack.push(persistentLoad(pop()));
        break;
      case 0x52: {
        // REDUCE
        const args = pop();
        const fn = pop();
        stack.push(reduce(fn, args));
        break;
      }
      case 0x81: {
        // NEWOBJ
        const args = pop();
        const cls = pop();
        stack.push(reduce(cls, args));
        break;
      }
      case 0x62: // BUILD: state of an object (e.g. OrderedDict metadata); ignored
        pop();
        break;
      case 0x73: {
        // SETITEM
        const v = pop();
        const k = pop();
        setItems(stack[stack.length - 1], [k, v]);
        break;
      }
      case 0x75: {
        // SETITEMS
        const items = popMark();
        setItems(stack[stack.length - 1], items);
        break;
      }
      case 0x61: {
        // APPEND
        const v = pop();
        (stack[stack.length - 1] as unknown[]).push(v);
        break;
      }
      case 0x65: {
        // APPENDS
        const items = popMark();
        (stack[stack.length - 1] as unknown[]).push(...items);
        break;
      }
      default:
        fail(`unsupported pickle opcode 0x${op.toString(16)}`);
    }
  }
}

/**
 * The CRC-32 and uncompressed size the zip's central directory records for each entry (zip64
 * sizes are taken from the zip64 extra field). fflate does not check CRCs; we do, so a flipped bit
 * in a stored weight is an error, not a silently different generator.
 */
function centralDirectory(zip: Uint8Array, file: string): Map<string, { crc: number; size: number }> {
  const v = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
  let eocd = -1;
  for (let i = zip.length - 22; i >= Math.max(0, zip.length - 22 - 0xffff); i--) {
    if (v.getUint32(i, true) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0)
    throw new FileFormatError(file, 'not a zip archive (no end-of-central-directory record; truncated?)');
  let count = v.getUint16(eocd + 10, true);
  let offset = v.getUint32(eocd + 16, true);
  if (
    (count === 0xffff || offset === 0xffffffff) &&
    eocd >= 20 &&
    v.getUint32(eocd - 20, true) === 0x07064b50
  ) {
    const z64 = Number(v.getBigUint64(eocd - 12, true));
    if (z64 + 56 > zip.length || v.getUint32(z64, true) !== 0x06064b50) {
      throw new FileFormatError(file, 'zip64 end-of-central-directory record is damaged');
    }
    count = Number(v.getBigUint64(z64 + 32, true));
    offset = Number(v.getBigUint64(z64 + 48, true));
  }
  const out = new Map<string, { crc: number; size: number }>();
  let p = offset;
  const dec = new TextDecoder();
  for (let k = 0; k < count; k++) {
    if (p + 46 > zip.length || v.getUint32(p, true) !== 0x02014b50) {
      throw new FileFormatError(file, `zip central directory entry ${k} is damaged (at byte ${p})`);
    }
    const crc = v.getUint32(p + 16, true);
    let size = v.getUint32(p + 24, true);
    const nameLen = v.getUint16(p + 28, true);
    const extraLen = v.getUint16(p + 30, true);
    const commentLen = v.getUint16(p + 32, true);
    if (p + 46 + nameLen + extraLen > zip.length) {
      throw new FileFormatError(file, `zip central directory entry ${k} runs past the end of the file`);
    }
    const name = dec.decode(zip.subarray(p + 46, p + 46 + nameLen));
    if (size === 0xffffffff) {
      // zip64 extra field (id 1): uncompressed size first
      for (let e = p + 46 + nameLen; e + 4 <= p + 46 + nameLen + extraLen; ) {
        const id = v.getUint16(e, true);
        const len = v.getUint16(e + 2, true);
        if (id === 1 && len >= 8) size = Number(v.getBigUint64(e + 4, true));
        e += 4 + len;
      }
    }
    out.set(name, { crc, size });
    p += 46 + nameLen + extraLen + commentLen;
  }
  return out;
}

/** Check every entry's size and CRC-32 against the central directory. */
function checkCrcs(entries: Record<string, Uint8Array>, zip: Uint8Array, file: string): void {
  const dir = centralDirectory(zip, file);
  for (const [name, data] of Object.entries(entries)) {
    const want = dir.get(name);
    if (!want) throw new FileFormatError(file, `zip entry '${name}' is not in the central directory`);
    if (data.length !== want.size) {
      throw new FileFormatError(
        file,
        `zip entry '${name}' has ${data.length} bytes, the archive records ${want.size}`,
      );
    }
    const got = crc32(data) >>> 0;
    if (got !== want.crc >>> 0) {
      throw new FileFormatError(
        file,
        `zip entry '${name}' is damaged (CRC-32 ${got.toString(16).padStart(8, '0')}, the archive records ${(want.crc >>> 0).toString(16).padStart(8, '0')})`,
      );
    }
  }
}

/** Parse a checkpoint already in memory (`file` only names it in errors). */
export function parseTorchCheckpoint(zipBytes: Uint8Array, file: string): TorchStateDict {
  let entries: Record<string, Uint8Array>;
  try {
    entries = unzipSync(zipBytes);
  } catch (e) {
    throw new FileFormatError(file, `not a readable zip archive (${(e as Error).message})`, { cause: e });
  }
  checkCrcs(entries, zipBytes, file);
  const pklName = Object.keys(entries).find((n) => n === 'data.pkl' || n.endsWith('/data.pkl'));
  if (!pklName)
    throw new FileFormatError(file, 'no data.pkl in the archive (not a torch.save zip checkpoint)');
  const root = pklName.slice(0, pklName.length - 'data.pkl'.length);
  const persistentLoad = (pid: unknown): StorageRef => {
    if (!Array.isArray(pid) || pid[0] !== 'storage' || !(pid[1] instanceof PyGlobal)) {
      throw new FileFormatError(file, `unsupported persistent id ${JSON.stringify(pid)}`);
    }
    return { kind: 'storage', dtype: pid[1].name, key: String(pid[2]), numel: Number(pid[4]) };
  };
  const obj = unpickle(entries[pklName] as Uint8Array, file, persistentLoad);
  if (!(obj instanceof Map))
    throw new FileFormatError(file, 'data.pkl does not hold a state dict (OrderedDict)');
  const out: TorchStateDict = {};
  for (const [name, t] of obj) {
    const tensor = t as RebuiltTensor;
    if (typeof name !== 'string' || !tensor || tensor.kind !== 'tensor') {
      throw new FileFormatError(file, `entry ${String(name)} is not a tensor`);
    }
    const dt = STORAGE_DTYPES[tensor.storage.dtype];
    if (!dt) throw new FileFormatError(file, `${name}: unsupported storage type ${tensor.storage.dtype}`);
    const raw = entries[`${root}data/${tensor.storage.key}`];
    if (!raw) throw new FileFormatError(file, `${name}: storage ${root}data/${tensor.storage.key} missing`);
    if (raw.length !== tensor.storage.numel * dt.bytes) {
      throw new FileFormatError(
        file,
        `${name}: storage ${tensor.storage.key} has ${raw.length} bytes, expected ${tensor.storage.numel * dt.bytes}`,
      );
    }
    const size = tensor.shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(size);
    const v = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    // Honour offset and strides (state dicts are contiguous, but views need not be).
    const idx = new Array<number>(tensor.shape.length).fill(0);
    for (let k = 0; k < size; k++) {
      let e = tensor.offset;
      for (let d = 0; d < idx.length; d++) e += (idx[d] as number) * (tensor.stride[d] as number);
      if (e < 0 || e >= tensor.storage.numel) {
        throw new FileFormatError(
          file,
          `${name}: element ${e} outside its storage of ${tensor.storage.numel}`,
        );
      }
      data[k] = dt.read(v, e * dt.bytes);
      for (let d = idx.length - 1; d >= 0; d--) {
        idx[d] = (idx[d] as number) + 1;
        if ((idx[d] as number) < (tensor.shape[d] as number)) break;
        idx[d] = 0;
      }
    }
    out[name] = { shape: tensor.shape, data };
  }
  return out;
}

/** Read a PyTorch zip state-dict checkpoint: `{ name → { shape, data } }` (data as float32). */
export function loadTorchCheckpoint(path: string): TorchStateDict {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(readFileSync(path));
  } catch (e) {
    throw new FileFormatError(path, `cannot read: ${(e as Error).message}`, { cause: e });
  }
  return parseTorchCheckpoint(bytes, path);
}
