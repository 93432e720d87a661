/**
 * A seeded PRNG (mulberry32): the workload must be the same for every run of one invocation and
 * from one invocation to the next, so that results are comparable; Math.random() is neither.
 */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** An integer in [0, bound). */
export function randomIndex(random: () => number, bound: number): number {
  return Math.floor(random() * bound);
}

/** `count` distinct indexes in [0, bound), in ascending order. */
export function distinctIndexes(random: () => number, bound: number, count: number): number[] {
  const chosen = new Set<number>();
  while (chosen.size < Math.min(count, bound)) chosen.add(randomIndex(random, bound));
  return [...chosen].sort((a, b) => a - b);
}
