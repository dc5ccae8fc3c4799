/**
 * The seeded random numbers of generation and training: xoshiro128** (Blackman and Vigna,
 * "Scrambled linear pseudorandom number generators", 2018; the reference C at prng.di.unimi.it),
 * seeded through SplitMix32. Its whole state is four 32-bit words, so a checkpoint can store it
 * and a resumed run draws exactly the numbers the uninterrupted run would have drawn. Plain
 * integer arithmetic: the same seed gives the same numbers on every backend and machine, which
 * neither `Math.random` (unseeded) nor tfjs's random ops (backend-specific) give.
 */

/** The four state words of a {@link Random}, as a checkpoint stores them. */
export type RandomState = [number, number, number, number];

/** A seeded xoshiro128** generator. */
export class Random {
  private state: Uint32Array;

  /** Seeds from one or more integers (e.g. a run seed and an epoch, or a seed and a row). */
  constructor(...seeds: number[]) {
    this.state = seedState(seeds);
  }

  /** A generator continuing from a state that {@link Random.getState} returned. */
  static fromState(state: RandomState): Random {
    const random = new Random(0);
    random.setState(state);
    return random;
  }

  /** The next 32-bit unsigned integer. */
  nextUint32(): number {
    const s = this.state;
    const s0 = s[0] as number;
    const s1 = s[1] as number;
    const s2 = s[2] as number;
    const s3 = s[3] as number;
    const result = Math.imul(rotateLeft(Math.imul(s1, 5), 7), 9) >>> 0;
    const shifted = (s1 << 9) >>> 0;
    const t2 = (s2 ^ s0) >>> 0;
    const t3 = (s3 ^ s1) >>> 0;
    s[1] = s1 ^ t2;
    s[0] = s0 ^ t3;
    s[2] = t2 ^ shifted;
    s[3] = rotateLeft(t3, 11);
    return result;
  }

  /** A float in [0, 1) with 32 random bits. */
  nextFloat(): number {
    return this.nextUint32() / 4294967296;
  }

  /** An integer in [0, bound), without modulo bias (rejection sampling). */
  nextInt(bound: number): number {
    if (!Number.isSafeInteger(bound) || bound < 1 || bound > 4294967296) {
      throw new RangeError(`nextInt needs a bound in [1, 2^32], not ${bound}`);
    }
    const limit = 4294967296 - (4294967296 % bound);
    for (;;) {
      const value = this.nextUint32();
      if (value < limit) return value % bound;
    }
  }

  /** A uniformly random permutation of 0 … n − 1 (Fisher–Yates). */
  permutation(n: number): number[] {
    const order = Array.from({ length: n }, (_, index) => index);
    for (let index = n - 1; index > 0; index--) {
      const other = this.nextInt(index + 1);
      [order[index], order[other]] = [order[other] as number, order[index] as number];
    }
    return order;
  }

  getState(): RandomState {
    return [this.state[0] as number, this.state[1] as number, this.state[2] as number, this.state[3] as number];
  }

  setState(state: RandomState): void {
    if (state.length !== 4 || !state.every((word) => Number.isInteger(word) && word >= 0 && word <= 0xffffffff)) {
      throw new RangeError('A random state is four unsigned 32-bit integers.');
    }
    if (state.every((word) => word === 0)) throw new RangeError('The all-zero state is not a valid xoshiro state.');
    this.state = Uint32Array.from(state);
  }
}

function rotateLeft(value: number, bits: number): number {
  return ((value << bits) | (value >>> (32 - bits))) >>> 0;
}

/** SplitMix32 over the seeds (mixed in order) fills the four words; never all zero. */
function seedState(seeds: readonly number[]): Uint32Array {
  let mix = 0x9e3779b9;
  for (const seed of seeds) {
    if (!Number.isSafeInteger(seed)) throw new RangeError(`A seed must be a safe integer, not ${seed}`);
    // Both 32-bit halves of the seed count, so seeds above 2^32 still differ.
    mix = splitMix(mix ^ (seed >>> 0)).next;
    mix = splitMix(mix ^ Math.floor(seed / 4294967296)).next;
  }
  const state = new Uint32Array(4);
  let current = mix;
  for (let index = 0; index < 4; index++) {
    const step = splitMix(current);
    current = step.next;
    state[index] = step.value;
  }
  if (state.every((word) => word === 0)) state[0] = 1;
  return state;
}

/** One SplitMix32 step (Steele, Lea and Flood 2014, 32-bit variant): the next counter and its output. */
function splitMix(counter: number): { next: number; value: number } {
  const next = (counter + 0x9e3779b9) >>> 0;
  let z = next;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
  return { next, value: (z ^ (z >>> 16)) >>> 0 };
}
