/**
 * safetensors reader and writer (the format of huggingface/safetensors, README "Format"):
 *
 *   8 bytes   N, the header length, unsigned little-endian
 *   N bytes   UTF-8 JSON: { name: { dtype, shape, data_offsets: [begin, end] }, "__metadata__": { str: str } }
 *   rest      the tensors' bytes, little-endian, row-major; offsets count from the start of this part
 *
 * The reader is the boundary where weight files enter, so it checks what safetensors' own
 * `validate()` checks (safetensors/src/tensor.rs; reference/reliability.md §4): N ≤ 100 MB,
 * 8 + N + data = file length, offsets contiguous from 0 with no hole and no overlap,
 * end − begin = product(shape) × size(dtype) with overflow-checked arithmetic, unique names
 * (JSON.parse would silently keep the last of two equal keys), known dtypes, non-negative integer
 * dims, `__metadata__` string → string. Every violation is `safetensors_invalid` naming the tensor.
 */
import { readFile } from 'node:fs/promises';
import { AppFailure } from '../../api/index.js';
import { writeFileAtomic } from '../workspace/atomic.js';

/** safetensors' own header size limit (MAX_HEADER_SIZE in safetensors/src/tensor.rs). */
export const MAX_HEADER_BYTES = 100_000_000;

/** Bytes per element of each dtype the format defines. */
const DTYPE_BYTES = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  F8_E4M3: 1,
  F8_E5M2: 1,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U64: 8,
  U32: 4,
  U16: 2,
  U8: 1,
  BOOL: 1,
} as const;

export type SafetensorsDtype = keyof typeof DTYPE_BYTES;

/** The float dtypes the writer produces (and {@link SafetensorsFile.readFloat32} decodes, with F64). */
export type FloatDtype = 'F32' | 'F16' | 'BF16';

export interface SafetensorsEntry {
  name: string;
  dtype: SafetensorsDtype;
  shape: number[];
  /** Byte range in the data part, [begin, end). */
  begin: number;
  end: number;
}

/** A parsed, validated safetensors file. */
export interface SafetensorsFile {
  /** The tensors in the order of their bytes. */
  readonly tensors: ReadonlyMap<string, SafetensorsEntry>;
  /** `__metadata__` ({} when absent). */
  readonly metadata: Readonly<Record<string, string>>;
  /**
   * The values of a float tensor (F64, F32, F16 or BF16) as a new Float32Array.
   * @throws AppFailure `safetensors_invalid` when the name is absent or the dtype is not a float
   */
  readFloat32(name: string): Float32Array;
}

/** A tensor to write: float32 values in row-major order, stored as `dtype` (default F32). */
export interface TensorToWrite {
  name: string;
  shape: readonly number[];
  data: Float32Array;
  dtype?: FloatDtype;
}

/**
 * Reads and validates a safetensors file.
 * @throws AppFailure `safetensors_invalid`; the file system error if the file cannot be read
 */
export async function readSafetensors(file: string): Promise<SafetensorsFile> {
  return parseSafetensors(await readFile(file), file);
}

/**
 * Validates and indexes safetensors bytes (`source` names the file in messages).
 * @throws AppFailure `safetensors_invalid`
 */
export function parseSafetensors(bytes: Uint8Array, source = 'safetensors file'): SafetensorsFile {
  const fail = (message: string, tensor?: string): never => {
    throw new AppFailure('safetensors_invalid', `${source}: ${message}`, { file: source, tensor });
  };
  if (bytes.length < 8) fail(`the file is ${bytes.length} bytes, shorter than the 8-byte header length.`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const declared = view.getBigUint64(0, true);
  if (declared > BigInt(MAX_HEADER_BYTES)) {
    fail(`the header length ${declared} exceeds the limit of ${MAX_HEADER_BYTES} bytes.`);
  }
  const headerLength = Number(declared);
  if (8 + headerLength > bytes.length) {
    fail(`the header length ${headerLength} runs past the end of the file (${bytes.length} bytes).`);
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + headerLength));
  } catch {
    return fail('the header is not valid UTF-8.');
  }
  if (!text.startsWith('{')) fail('the header does not start with "{", so it is not a JSON object.');
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (error) {
    return fail(`the header is not valid JSON (${(error as Error).message}).`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) fail('the header is not a JSON object.');
  const duplicate = findDuplicateKey(text);
  if (duplicate !== undefined) fail(`the header names "${duplicate}" twice.`, duplicate);

  let metadata: Record<string, string> = {};
  const entries: SafetensorsEntry[] = [];
  for (const [name, value] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      metadata = readMetadata(value, fail);
      continue;
    }
    entries.push(readEntry(name, value, fail));
  }

  // Contiguous from 0, in offset order: no hole, no overlap (safetensors' validate()).
  entries.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let expected = 0;
  let previous: string | undefined;
  for (const entry of entries) {
    if (entry.begin > expected) {
      fail(
        `tensor "${entry.name}" starts at byte ${entry.begin}, leaving a hole after ` +
          `${previous === undefined ? 'the header' : `"${previous}"`} (which ends at ${expected}).`,
        entry.name,
      );
    }
    if (entry.begin < expected) {
      fail(
        `tensor "${entry.name}" starts at byte ${entry.begin}, inside "${previous}" (which ends at ${expected}).`,
        entry.name,
      );
    }
    expected = entry.end;
    previous = entry.name;
  }
  const dataLength = bytes.length - 8 - headerLength;
  if (expected !== dataLength) {
    fail(
      expected < dataLength
        ? `the tensors end at byte ${expected} of the data, but ${dataLength - expected} more bytes follow.`
        : `the tensors need ${expected} bytes of data, but the file holds ${dataLength} (truncated?).`,
    );
  }

  const tensors = new Map(entries.map((entry) => [entry.name, entry]));
  const dataStart = bytes.byteOffset + 8 + headerLength;
  return {
    tensors,
    metadata,
    readFloat32(name: string): Float32Array {
      const entry = tensors.get(name);
      if (entry === undefined) return fail(`there is no tensor "${name}".`, name);
      return decodeFloat32(bytes.buffer, dataStart + entry.begin, entry, fail);
    },
  };
}

/**
 * The bytes of a safetensors file holding `tensors` (in the given order) and `metadata`. The header
 * is padded with spaces to a multiple of 8 bytes, as safetensors does, so the data is aligned.
 * @throws AppFailure `safetensors_invalid` for a duplicate name or data that does not fit its shape
 */
export function serializeSafetensors(
  tensors: readonly TensorToWrite[],
  metadata: Readonly<Record<string, string>> = {},
): Uint8Array {
  const fail = (message: string, tensor: string): never => {
    throw new AppFailure('safetensors_invalid', `Cannot write tensor "${tensor}": ${message}`, { tensor });
  };
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) header.__metadata__ = { ...metadata };
  let offset = 0;
  for (const tensor of tensors) {
    if (tensor.name === '' || tensor.name === '__metadata__') fail('the name is reserved or empty.', tensor.name);
    if (Object.hasOwn(header, tensor.name)) fail('the name is used twice.', tensor.name);
    const elements = checkedElementCount(tensor.shape);
    if (elements === undefined) return fail(`the shape [${tensor.shape.join(', ')}] is invalid.`, tensor.name);
    if (elements !== tensor.data.length) {
      fail(
        `the shape [${tensor.shape.join(', ')}] holds ${elements} values, the data ${tensor.data.length}.`,
        tensor.name,
      );
    }
    const dtype = tensor.dtype ?? 'F32';
    const size = elements * DTYPE_BYTES[dtype];
    header[tensor.name] = { dtype, shape: [...tensor.shape], data_offsets: [offset, offset + size] };
    offset += size;
  }
  let json = JSON.stringify(header);
  const headerBytes = new TextEncoder().encode(json);
  const padding = (8 - (headerBytes.length % 8)) % 8;
  json += ' '.repeat(padding);
  const padded = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + padded.length + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(padded.length), true);
  out.set(padded, 8);
  let position = 8 + padded.length;
  for (const tensor of tensors) {
    const dtype = tensor.dtype ?? 'F32';
    position = encodeFloat32(tensor.data, dtype, view, position);
  }
  return out;
}

/**
 * Writes a safetensors file atomically (temp file, fsync, rename).
 * @throws AppFailure `safetensors_invalid` (see {@link serializeSafetensors}); file system errors
 */
export async function writeSafetensors(
  file: string,
  tensors: readonly TensorToWrite[],
  metadata: Readonly<Record<string, string>> = {},
): Promise<void> {
  await writeFileAtomic(file, serializeSafetensors(tensors, metadata));
}

// ---------------------------------------------------------------------------------------------

type Fail = (message: string, tensor?: string) => never;

function readMetadata(value: unknown, fail: Fail): Record<string, string> {
  if (value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) return fail('"__metadata__" is not an object.');
  for (const [key, item] of Object.entries(value as Record<string, unknown>)) {
    if (typeof item !== 'string') fail(`"__metadata__"."${key}" is not a string.`);
  }
  return { ...(value as Record<string, string>) };
}

function readEntry(name: string, value: unknown, fail: Fail): SafetensorsEntry {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return fail(`tensor "${name}" is not described by an object.`, name);
  }
  const { dtype, shape, data_offsets: offsets } = value as Record<string, unknown>;
  if (typeof dtype !== 'string' || !Object.hasOwn(DTYPE_BYTES, dtype)) {
    return fail(
      `tensor "${name}" has the unknown dtype ${JSON.stringify(dtype)} (known: ${Object.keys(DTYPE_BYTES).join(', ')}).`,
      name,
    );
  }
  if (!Array.isArray(shape) || !shape.every((dim) => Number.isSafeInteger(dim) && (dim as number) >= 0)) {
    return fail(`tensor "${name}" has the shape ${JSON.stringify(shape)}; dims must be non-negative integers.`, name);
  }
  if (
    !Array.isArray(offsets) ||
    offsets.length !== 2 ||
    !offsets.every((offset) => Number.isSafeInteger(offset) && (offset as number) >= 0)
  ) {
    return fail(`tensor "${name}" has data_offsets ${JSON.stringify(offsets)}; expected [begin, end].`, name);
  }
  const [begin, end] = offsets as [number, number];
  if (end < begin) return fail(`tensor "${name}" ends (${end}) before it begins (${begin}).`, name);
  const elements = checkedElementCount(shape as number[]);
  const bytes = elements === undefined ? undefined : elements * DTYPE_BYTES[dtype as SafetensorsDtype];
  if (bytes === undefined || !Number.isSafeInteger(bytes)) {
    return fail(`tensor "${name}" has the shape [${shape.join(', ')}], whose size overflows.`, name);
  }
  if (end - begin !== bytes) {
    return fail(
      `tensor "${name}" is ${dtype} [${shape.join(', ')}], which takes ${bytes} bytes, but its data_offsets ` +
        `[${begin}, ${end}] span ${end - begin}.`,
      name,
    );
  }
  return { name, dtype: dtype as SafetensorsDtype, shape: shape as number[], begin, end };
}

/** product(shape), or undefined when a dim is not a non-negative integer or the product overflows. */
function checkedElementCount(shape: readonly number[]): number | undefined {
  let count = 1;
  for (const dim of shape) {
    if (!Number.isSafeInteger(dim) || dim < 0) return undefined;
    count *= dim;
    if (!Number.isSafeInteger(count)) return undefined;
  }
  return count;
}

/**
 * Returns the first object key (at any depth) that appears twice in the same object of a valid
 * JSON text. JSON.parse keeps the last duplicate silently; safetensors refuses duplicates.
 */
function findDuplicateKey(text: string): string | undefined {
  const stack: { keys: Set<string> | null; expectingKey: boolean }[] = [];
  for (let index = 0; index < text.length; index++) {
    const char = text[index];
    const top = stack[stack.length - 1];
    if (char === '"') {
      let close = index + 1;
      while (text[close] !== '"') close += text[close] === '\\' ? 2 : 1;
      if (top?.keys && top.expectingKey) {
        const key = JSON.parse(text.slice(index, close + 1)) as string;
        if (top.keys.has(key)) return key;
        top.keys.add(key);
        top.expectingKey = false;
      }
      index = close;
    } else if (char === '{') {
      stack.push({ keys: new Set(), expectingKey: true });
    } else if (char === '[') {
      stack.push({ keys: null, expectingKey: false });
    } else if (char === '}' || char === ']') {
      stack.pop();
    } else if (char === ',' && top?.keys) {
      top.expectingKey = true;
    }
  }
  return undefined;
}

const littleEndianHost = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function decodeFloat32(buffer: ArrayBufferLike, start: number, entry: SafetensorsEntry, fail: Fail): Float32Array {
  const count = (entry.end - entry.begin) / DTYPE_BYTES[entry.dtype];
  const view = new DataView(buffer, start, entry.end - entry.begin);
  const out = new Float32Array(count);
  switch (entry.dtype) {
    case 'F32':
      if (littleEndianHost && start % 4 === 0) {
        out.set(new Float32Array(buffer, start, count));
      } else {
        for (let index = 0; index < count; index++) out[index] = view.getFloat32(index * 4, true);
      }
      return out;
    case 'F64':
      for (let index = 0; index < count; index++) out[index] = view.getFloat64(index * 8, true);
      return out;
    case 'BF16': {
      // bfloat16 is the upper half of a float32.
      const bits = new Uint32Array(out.buffer);
      for (let index = 0; index < count; index++) bits[index] = view.getUint16(index * 2, true) << 16;
      return out;
    }
    case 'F16':
      for (let index = 0; index < count; index++) out[index] = halfToFloat(view.getUint16(index * 2, true));
      return out;
    default:
      return fail(`tensor "${entry.name}" is ${entry.dtype}, not a float tensor.`, entry.name);
  }
}

function encodeFloat32(data: Float32Array, dtype: FloatDtype, view: DataView, position: number): number {
  if (dtype === 'F32') {
    for (let index = 0; index < data.length; index++) view.setFloat32(position + index * 4, data[index] ?? 0, true);
    return position + data.length * 4;
  }
  const bits = new Uint32Array(Float32Array.from(data).buffer);
  for (let index = 0; index < bits.length; index++) {
    const value = bits[index] ?? 0;
    view.setUint16(position + index * 2, dtype === 'BF16' ? floatBitsToBfloat16(value) : floatBitsToHalf(value), true);
  }
  return position + data.length * 2;
}

/** float32 bits → bfloat16 bits, rounding to nearest even (as torch does); NaN stays NaN. */
function floatBitsToBfloat16(bits: number): number {
  if ((bits & 0x7f800000) === 0x7f800000 && (bits & 0x007fffff) !== 0) return ((bits >>> 16) | 0x0040) & 0xffff;
  return ((bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16) & 0xffff;
}

/** float32 bits → IEEE half bits, rounding to nearest even, with subnormals, overflow to ±∞, NaN. */
function floatBitsToHalf(bits: number): number {
  const sign = (bits >>> 16) & 0x8000;
  const exponent = (bits >>> 23) & 0xff;
  const mantissa = bits & 0x007fffff;
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa !== 0 ? 0x0200 : 0);
  const halfExponent = exponent - 127 + 15;
  if (halfExponent >= 0x1f) return sign | 0x7c00;
  if (halfExponent <= 0) {
    if (halfExponent < -10) return sign;
    // Subnormal: shift the mantissa (with its implicit 1) right, rounding to nearest even.
    const full = mantissa | 0x00800000;
    const shift = 14 - halfExponent;
    const halfMantissa = full >>> shift;
    const remainder = full & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    const roundUp = remainder > halfway || (remainder === halfway && (halfMantissa & 1) === 1);
    return sign | (halfMantissa + (roundUp ? 1 : 0));
  }
  const halfMantissa = mantissa >>> 13;
  const remainder = mantissa & 0x1fff;
  const roundUp = remainder > 0x1000 || (remainder === 0x1000 && (halfMantissa & 1) === 1);
  // A carry out of the mantissa correctly bumps the exponent (and can reach ∞).
  return (sign | (halfExponent << 10) | halfMantissa) + (roundUp ? 1 : 0);
}

function halfToFloat(half: number): number {
  const sign = half & 0x8000 ? -1 : 1;
  const exponent = (half >>> 10) & 0x1f;
  const mantissa = half & 0x03ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  if (exponent === 0x1f) return mantissa === 0 ? sign * Infinity : Number.NaN;
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}
