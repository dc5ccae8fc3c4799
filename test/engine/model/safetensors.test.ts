import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppFailure } from '../../../src-main/api/index.js';
import {
  MAX_HEADER_BYTES,
  parseSafetensors,
  readSafetensors,
  serializeSafetensors,
  writeSafetensors,
} from '../../../src-main/engine/model/safetensors.js';
import { TINY_GPT2, TINY_LLAMA } from './helpers.js';

let folder: string;
beforeAll(async () => {
  folder = await mkdtemp(path.join(os.tmpdir(), 'safetensors-'));
});
afterAll(async () => {
  await rm(folder, { recursive: true, force: true });
});

/** A file with `header` (bytes, text or object) and `dataBytes` zero bytes of data; `declared` overrides N. */
function fileWith(header: Uint8Array | string | object, dataBytes: number, declared?: bigint): Uint8Array {
  const headerBytes =
    header instanceof Uint8Array
      ? header
      : new TextEncoder().encode(typeof header === 'string' ? header : JSON.stringify(header));
  const bytes = new Uint8Array(8 + headerBytes.length + dataBytes);
  new DataView(bytes.buffer).setBigUint64(0, declared ?? BigInt(headerBytes.length), true);
  bytes.set(headerBytes, 8);
  return bytes;
}

/** The AppFailure parseSafetensors throws for `bytes` (fails the test if it does not throw one). */
function failureOf(bytes: Uint8Array): AppFailure {
  try {
    parseSafetensors(bytes, 'test.safetensors');
  } catch (error) {
    if (error instanceof AppFailure) return error;
    throw error;
  }
  throw new Error('parseSafetensors accepted the file');
}

const f32 = (shape: number[], begin: number, end: number) => ({ dtype: 'F32', shape, data_offsets: [begin, end] });

describe('reading real checkpoints', () => {
  it('indexes the tiny Llama: 20 tensors, metadata, values', async () => {
    const file = await readSafetensors(path.join(TINY_LLAMA, 'model.safetensors'));
    expect(file.tensors.size).toBe(20);
    expect(file.metadata).toEqual({ format: 'pt' });
    expect(file.tensors.get('model.layers.0.self_attn.k_proj.weight')).toMatchObject({ dtype: 'F32', shape: [16, 32] });
    const norm = file.readFloat32('model.norm.weight');
    expect(norm).toHaveLength(32);
    expect(norm.every(Number.isFinite)).toBe(true);
  });

  it('reads GPT-2 Conv1D weights with their [in, out] shapes', async () => {
    const file = await readSafetensors(path.join(TINY_GPT2, 'model.safetensors'));
    expect(file.tensors.get('transformer.h.0.attn.c_attn.weight')?.shape).toEqual([32, 96]);
    expect(file.tensors.size).toBe(28);
  });
});

describe('round trip', () => {
  it('keeps F32 values, names, shapes and metadata exactly', async () => {
    const a = Float32Array.from({ length: 12 }, (_, index) => Math.sin(index) * 1e3);
    const b = Float32Array.from([1e-40, -0, Infinity, -Infinity]);
    const target = path.join(folder, 'f32.safetensors');
    await writeSafetensors(
      target,
      [
        { name: 'layer.a', shape: [3, 4], data: a },
        { name: 'layer.b', shape: [4], data: b },
        { name: 'empty', shape: [0, 5], data: new Float32Array(0) },
      ],
      { format: 'pt', note: 'x' },
    );
    const file = await readSafetensors(target);
    expect([...file.tensors.keys()]).toEqual(['layer.a', 'layer.b', 'empty']);
    expect(file.tensors.get('layer.a')?.shape).toEqual([3, 4]);
    expect(file.readFloat32('layer.a')).toEqual(a);
    expect(Object.is(file.readFloat32('layer.b')[1], -0)).toBe(true);
    expect(file.readFloat32('layer.b')).toEqual(b);
    expect(file.readFloat32('empty')).toHaveLength(0);
    expect(file.metadata).toEqual({ format: 'pt', note: 'x' });
    // The header is padded to 8 bytes so that the data is aligned.
    const bytes = await readFile(target);
    expect(Number(bytes.readBigUInt64LE(0)) % 8).toBe(0);
  });

  // Expected values computed with numpy's float16 cast and torch's bfloat16 rounding (nearest even).
  const inputs = [
    0.1, -3.14159, 65519, 65520, 1e-7, 3e-8, 2.9e-8, 6.1e-5, 1.0009765625, 1.00048828125, 1.00146484375, -0, 1e5,
  ];
  it('rounds to F16 to nearest even, with subnormals and overflow to infinity', () => {
    const expected = [
      0.0999755859375,
      -3.140625,
      65504,
      Infinity,
      1.1920928955078125e-7,
      5.960464477539063e-8,
      0,
      6.097555160522461e-5,
      1.0009765625,
      1,
      1.001953125,
      -0,
      Infinity,
    ];
    const bytes = serializeSafetensors([
      { name: 'x', shape: [inputs.length], data: Float32Array.from(inputs), dtype: 'F16' },
    ]);
    const file = parseSafetensors(bytes);
    expect(file.tensors.get('x')?.dtype).toBe('F16');
    expect(Array.from(file.readFloat32('x'))).toEqual(expected);
  });

  it('rounds to BF16 to nearest even and keeps NaN', () => {
    const expected = [
      0.10009765625, -3.140625, 65536, 65536, 1.0011717677116394e-7, 3.003515303134918e-8, 2.898741513490677e-8,
      6.103515625e-5, 1, 1, 1, -0, 99840,
    ];
    const data = Float32Array.from([...inputs, Number.NaN]);
    const bytes = serializeSafetensors([{ name: 'x', shape: [data.length], data, dtype: 'BF16' }]);
    const values = Array.from(parseSafetensors(bytes).readFloat32('x'));
    expect(values.slice(0, -1)).toEqual(expected);
    expect(values.at(-1)).toBeNaN();
  });

  it('refuses to write a duplicate name or data that does not fit its shape', () => {
    const data = new Float32Array(4);
    expect(() =>
      serializeSafetensors([
        { name: 'a', shape: [4], data },
        { name: 'a', shape: [4], data },
      ]),
    ).toThrow(/"a".*used twice/);
    expect(() => serializeSafetensors([{ name: 'a', shape: [3], data }])).toThrow(/holds 3 values, the data 4/);
  });
});

describe('invalid files are safetensors_invalid, naming what is wrong', () => {
  const cases: [string, Uint8Array, RegExp][] = [
    ['a file shorter than the length prefix', new Uint8Array(5), /shorter than the 8-byte header length/],
    ['a header larger than 100 MB', fileWith('{}', 0, BigInt(MAX_HEADER_BYTES + 1)), /exceeds the limit of 100000000/],
    ['a header length past the end of the file', fileWith('{}', 0, 1000n), /runs past the end of the file/],
    ['a header that is not UTF-8', fileWith(new Uint8Array([0x7b, 0xff, 0x7d]), 0), /the header is not valid UTF-8/],
    ['a header that is not JSON', fileWith('{"a": ', 0), /not valid JSON/],
    ['a header that is a JSON array', fileWith('[1, 2]', 0), /does not start with "\{"/],
    ['a tensor described by a number', fileWith({ a: 5 }, 0), /"a" is not described by an object/],
    [
      'metadata that is not string → string',
      fileWith({ __metadata__: { format: 1 } }, 0),
      /"__metadata__"."format" is not a string/,
    ],
    [
      'an unknown dtype',
      fileWith({ a: { dtype: 'F31', shape: [1], data_offsets: [0, 4] } }, 4),
      /"a" has the unknown dtype "F31"/,
    ],
    ['a negative dim', fileWith({ a: f32([-1, 4], 0, 16) }, 16), /"a" has the shape \[-1,4\]/],
    ['a fractional dim', fileWith({ a: f32([1.5], 0, 6) }, 6), /"a" has the shape \[1.5\]/],
    [
      'offsets that are not a pair',
      fileWith({ a: { dtype: 'F32', shape: [1], data_offsets: [0] } }, 4),
      /"a" has data_offsets \[0\]/,
    ],
    ['an end before the begin', fileWith({ a: f32([0], 8, 4) }, 8), /"a" ends \(4\) before it begins \(8\)/],
    [
      'a size that is not shape × dtype',
      fileWith({ a: f32([4], 0, 12) }, 12),
      /"a" is F32 \[4\], which takes 16 bytes, but .* span 12/,
    ],
    [
      'a shape whose product overflows',
      fileWith({ a: f32([2 ** 30, 2 ** 30, 2 ** 30], 0, 16) }, 16),
      /"a" has the shape \[1073741824, 1073741824, 1073741824\], whose size overflows/,
    ],
    [
      'a shape whose byte size overflows',
      fileWith({ a: f32([2 ** 52], 0, 16) }, 16),
      /"a" has the shape \[4503599627370496\], whose size overflows/,
    ],
    [
      'a hole between tensors',
      fileWith({ a: f32([4], 0, 16), b: f32([4], 20, 36) }, 36),
      /"b" starts at byte 20, leaving a hole after "a"/,
    ],
    [
      'a hole at the start',
      fileWith({ a: f32([4], 4, 20) }, 20),
      /"a" starts at byte 4, leaving a hole after the header/,
    ],
    [
      'overlapping tensors',
      fileWith({ a: f32([4], 0, 16), b: f32([4], 8, 24) }, 24),
      /"b" starts at byte 8, inside "a"/,
    ],
    ['a truncated data section', fileWith({ a: f32([4], 0, 16) }, 12), /need 16 bytes of data, but the file holds 12/],
    [
      'trailing bytes after the data',
      fileWith({ a: f32([4], 0, 16) }, 20),
      /end at byte 16 of the data, but 4 more bytes follow/,
    ],
    [
      'a duplicate tensor name',
      fileWith(
        '{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}',
        4,
      ),
      /names "a" twice/,
    ],
    [
      'a duplicate key inside a tensor entry',
      fileWith('{"a":{"dtype":"F32","dtype":"F16","shape":[1],"data_offsets":[0,4]}}', 4),
      /names "dtype" twice/,
    ],
  ];
  it.each(cases)('%s', (_name, bytes, message) => {
    const failure = failureOf(bytes);
    expect(failure.code).toBe('safetensors_invalid');
    expect(failure.message).toMatch(/^test\.safetensors: /);
    expect(failure.message).toMatch(message);
  });

  it('accepts a header with escaped quotes in names and values that look like keys', () => {
    const bytes = fileWith({ 'a"b': f32([1], 0, 4), __metadata__: { '"a"': 'x', y: '{"a":1}' } }, 4);
    const file = parseSafetensors(bytes);
    expect([...file.tensors.keys()]).toEqual(['a"b']);
  });

  it('refuses to decode an integer tensor as float', () => {
    const file = parseSafetensors(fileWith({ ids: { dtype: 'I64', shape: [2], data_offsets: [0, 16] } }, 16));
    expect(() => file.readFloat32('ids')).toThrow(/"ids" is I64, not a float tensor/);
    expect(() => file.readFloat32('missing')).toThrow(/no tensor "missing"/);
  });
});
