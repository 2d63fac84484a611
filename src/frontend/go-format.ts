import type { HealthConfig } from '../image/types.js';

/** How BuildKit's history `created_by` strings print Go values: %q of lists, structs and runes, time.Duration. */

/** Go's %q of a []string, as BuildKit writes CMD and ENTRYPOINT into history. */
export function goQuoteList(list: string[]): string {
  return `[${list.map((s) => JSON.stringify(s)).join(' ')}]`;
}

/** Go's time.Duration String(): 1h2m3.5s, 1m0s, 30s, 500ms, 0s. */
export function goDuration(ns: number): string {
  if (ns === 0) return '0s';
  if (ns < 1e9) {
    const [unit, size] = ns < 1e3 ? ['ns', 1] : ns < 1e6 ? ['µs', 1e3] : ['ms', 1e6];
    return `${Number((ns / size).toFixed(9))}${unit}`;
  }
  const hours = Math.floor(ns / 3600e9);
  const minutes = Math.floor((ns % 3600e9) / 60e9);
  const seconds = Number(((ns % 60e9) / 1e9).toFixed(9));
  return hours ? `${hours}h${minutes}m${seconds}s` : minutes ? `${minutes}m${seconds}s` : `${seconds}s`;
}

const RUNE_ESCAPES: Record<number, string> = {
  7: '\\a',
  8: '\\b',
  9: '\\t',
  10: '\\n',
  11: '\\v',
  12: '\\f',
  13: '\\r',
  39: "\\'",
  92: '\\\\',
};

/** Go's %q of an int: a quoted rune, e.g. '\x04' or 'A'. */
export function goQuoteRune(n: number): string {
  if (RUNE_ESCAPES[n]) return `'${RUNE_ESCAPES[n]}'`;
  if (n >= 32 && n < 127) return `'${String.fromCharCode(n)}'`;
  return n < 256 ? `'\\x${n.toString(16).padStart(2, '0')}'` : `'\\u${n.toString(16).padStart(4, '0')}'`;
}

/** HEALTHCHECK history as BuildKit writes it: Go's %q of its HealthcheckConfig struct. */
export function goHealthcheck(h: HealthConfig | undefined): string {
  const durations = [h?.Interval, h?.Timeout, h?.StartPeriod, h?.StartInterval].map((d) =>
    JSON.stringify(goDuration(d ?? 0)),
  );
  return `&{${goQuoteList(h?.Test ?? [])} ${durations.join(' ')} ${goQuoteRune(h?.Retries ?? 0)}}`;
}
