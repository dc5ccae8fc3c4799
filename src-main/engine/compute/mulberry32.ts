/**
 * mulberry32 (Tommy Ettinger, public domain): a tiny seeded generator of floats in [0, 1), so
 * checks, shuffles and generated benchmark data are the same on every machine and run. Not for
 * sampling from models: generation and training use the xoshiro128** generator in
 * model/random.ts, whose state can be checkpointed.
 */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
