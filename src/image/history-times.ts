import type { History, ImageConfig } from './types.js';

/** An instant as image configs write it here: RFC 3339, whole seconds, UTC. */
export function configTime(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * Fills in the times a build left open, as BuildKit's image exporter does: an entry that made a
 * layer takes the time that layer was made (`layerTimes`, one per layer; a step served from the
 * cache keeps its first time, so a rebuild from cache is the same image), an entry without a
 * layer takes the time of a neighbour that has one, and `created` is the last entry's time.
 */
export function withCreatedTimes(
  config: ImageConfig,
  layerTimes: readonly (string | undefined)[],
  now: Date = new Date(),
): ImageConfig {
  const history: History[] = [];
  let layer = 0;
  for (const entry of config.history ?? []) {
    if (entry.empty_layer) {
      history.push({ ...entry });
    } else {
      history.push({ ...entry, created: entry.created ?? layerTimes[layer] ?? configTime(now) });
      layer++;
    }
  }
  // Entries before the first known time take the first known time after them; later ones the
  // latest known time before them.
  const firstMissing = history.findIndex((h) => h.created === undefined);
  let known =
    (firstMissing < 0 ? undefined : history.slice(firstMissing).find((h) => h.created !== undefined)?.created) ??
    lastTime(history);
  let seenMissing = false;
  for (const entry of history) {
    if (entry.created !== undefined) {
      if (seenMissing) known = entry.created;
    } else {
      seenMissing = true;
      entry.created = known ?? configTime(now);
    }
  }
  const created = config.created ?? lastTime(history) ?? configTime(now);
  return { ...config, created, ...(config.history ? { history } : {}) };
}

function lastTime(history: readonly History[]): string | undefined {
  return [...history].reverse().find((h) => h.created !== undefined)?.created;
}
