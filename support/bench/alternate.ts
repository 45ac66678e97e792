/**
 * Runs variants of one measurement in turns, round after round, so that whatever drifts during a run
 * (caches, the other core's load, the file system) falls on every variant alike. The order rotates by
 * one each round, so no variant is always first.
 */
export type Variant = () => Promise<number>;

export async function alternate(
  rounds: number,
  variants: Readonly<Record<string, Variant>>,
  onSample?: (name: string, round: number, seconds: number) => void,
): Promise<Record<string, number[]>> {
  const names = Object.keys(variants);
  const samples: Record<string, number[]> = Object.fromEntries(names.map((name) => [name, []]));
  for (let round = 0; round < rounds; round++) {
    for (let turn = 0; turn < names.length; turn++) {
      const name = names[(round + turn) % names.length]!;
      const seconds = await variants[name]!();
      samples[name]!.push(seconds);
      onSample?.(name, round, seconds);
    }
  }
  return samples;
}
