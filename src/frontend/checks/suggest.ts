/** The option closest to `value`, under 3 edits as BuildKit's suggest.Search; none when one matches exactly. */
export function closest(value: string, options: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const option of options) {
    if (option === value) return undefined;
    const distance = editDistance(value, option);
    if (distance < bestDistance) {
      best = option;
      bestDistance = distance;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(previous[j]! + 1, row[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = row;
  }
  return previous[b.length]!;
}
