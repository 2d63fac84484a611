/** Shared helpers for benchmark output: medians, timings and ratio lines. */

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export async function timeMs(fn: () => Promise<unknown>): Promise<number> {
  const start = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - start) / 1e6;
}

/** One result line: our figure, and each peer's with the ratio ours/peer (below 1 means we are faster). */
export function printRow(
  label: string,
  ours: number,
  unit: string,
  peers: Record<string, number | undefined> = {},
): void {
  const parts = [`${label}: tcbuild ${ours.toFixed(2)} ${unit}`];
  for (const [peer, value] of Object.entries(peers)) {
    parts.push(
      value === undefined ? `${peer} n/a` : `${peer} ${value.toFixed(2)} ${unit} (ratio ${(ours / value).toFixed(2)})`,
    );
  }
  process.stdout.write(`${parts.join('  |  ')}\n`);
}
