// Writes icon.png (512×512 RGBA): a rising curve on a dark rounded square, the workbench's
// "the policy drifts upward" mark. Run `node resources/icons/make-icon.mjs`; the output is
// deterministic, so the committed PNG can be checked against this script.
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deflateSync } from 'node:zlib';

const SIZE = 512;
const SAMPLES = 4; // 4×4 supersampling per pixel for anti-aliased edges

const background = [15, 23, 42]; // slate-900
const backgroundTop = [30, 41, 59]; // slate-800
const grid = [51, 65, 85]; // slate-700
const curveColor = [45, 212, 191]; // teal-400
const dotColor = [251, 191, 36]; // amber-400

function roundedSquareDistance(x, y) {
  const inset = 24;
  const radius = 104;
  const half = SIZE / 2 - inset;
  const qx = Math.abs(x - SIZE / 2) - (half - radius);
  const qy = Math.abs(y - SIZE / 2) - (half - radius);
  return Math.hypot(Math.max(qx, 0), Math.max(qy, 0)) + Math.min(Math.max(qx, qy), 0) - radius;
}

// A cubic Bézier from bottom-left to top-right, flattened into a polyline.
const curve = [];
{
  const [p0, p1, p2, p3] = [
    [112, 392],
    [232, 392],
    [272, 176],
    [396, 148],
  ];
  for (let step = 0; step <= 96; step++) {
    const t = step / 96;
    const u = 1 - t;
    const a = u * u * u;
    const b = 3 * u * u * t;
    const c = 3 * u * t * t;
    const d = t * t * t;
    curve.push([a * p0[0] + b * p1[0] + c * p2[0] + d * p3[0], a * p0[1] + b * p1[1] + c * p2[1] + d * p3[1]]);
  }
}

function segmentDistance(x, y, [ax, ay], [bx, by]) {
  const dx = bx - ax;
  const dy = by - ay;
  const t = Math.max(0, Math.min(1, ((x - ax) * dx + (y - ay) * dy) / (dx * dx + dy * dy)));
  return Math.hypot(x - ax - t * dx, y - ay - t * dy);
}

function curveDistance(x, y) {
  let best = Infinity;
  for (let index = 1; index < curve.length; index++) {
    best = Math.min(best, segmentDistance(x, y, curve[index - 1], curve[index]));
  }
  return best;
}

function mix(from, to, amount) {
  return from.map((value, channel) => value + (to[channel] - value) * amount);
}

/** Colour and alpha of one sample point; `nearCurve` skips the costly distance far from it. */
function sample(x, y, nearCurve) {
  if (roundedSquareDistance(x, y) > 0) return [0, 0, 0, 0];
  let color = mix(backgroundTop, background, y / SIZE);
  const onGridLine = [176, 256, 336].some((line) => Math.abs(x - line) < 2 || Math.abs(y - line) < 2);
  if (onGridLine && x > 88 && x < 424 && y > 88 && y < 424) color = mix(color, grid, 0.6);
  if (nearCurve && curveDistance(x, y) < 18) color = curveColor;
  const [endX, endY] = curve[curve.length - 1];
  if (Math.hypot(x - endX, y - endY) < 36) color = dotColor;
  return [...color, 255];
}

const rows = Buffer.alloc(SIZE * (SIZE * 4 + 1));
for (let y = 0; y < SIZE; y++) {
  rows[y * (SIZE * 4 + 1)] = 0; // filter type: none
  for (let x = 0; x < SIZE; x++) {
    const sum = [0, 0, 0, 0];
    const nearCurve = curveDistance(x + 0.5, y + 0.5) < 20;
    for (let sy = 0; sy < SAMPLES; sy++) {
      for (let sx = 0; sx < SAMPLES; sx++) {
        const [r, g, b, a] = sample(x + (sx + 0.5) / SAMPLES, y + (sy + 0.5) / SAMPLES, nearCurve);
        // Premultiply so transparent samples do not darken the edge colour.
        sum[0] += r * a;
        sum[1] += g * a;
        sum[2] += b * a;
        sum[3] += a;
      }
    }
    const offset = y * (SIZE * 4 + 1) + 1 + x * 4;
    const alpha = sum[3] / (SAMPLES * SAMPLES);
    for (let channel = 0; channel < 3; channel++) {
      rows[offset + channel] = sum[3] === 0 ? 0 : Math.round(sum[channel] / sum[3]);
    }
    rows[offset + 3] = Math.round(alpha);
  }
}

const crcTable = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let bit = 0; bit < 8; bit++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(buffer) {
  let crc = 0xffffffff;
  for (const byte of buffer) crc = crcTable[(crc ^ byte) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

function chunk(type, data) {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

const header = Buffer.alloc(13);
header.writeUInt32BE(SIZE, 0);
header.writeUInt32BE(SIZE, 4);
header[8] = 8; // bit depth
header[9] = 6; // colour type: RGBA
header[10] = 0; // compression
header[11] = 0; // filter method
header[12] = 0; // no interlace

const png = Buffer.concat([
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
  chunk('IHDR', header),
  chunk('IDAT', deflateSync(rows, { level: 9 })),
  chunk('IEND', Buffer.alloc(0)),
]);

const output = join(dirname(fileURLToPath(import.meta.url)), 'icon.png');
writeFileSync(output, png);
console.log(`wrote ${output} (${png.length} bytes)`);
