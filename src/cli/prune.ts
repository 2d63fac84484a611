import { Command } from 'commander';
import type { PruneFilters } from '../api/prune.js';
import { InvalidInputError } from '../errors.js';
import { action, collect, lazy } from './action.js';
import { formatBytes } from '../progress/format-bytes.js';

const prune = lazy(() => import('../api/prune.js'), 'prune');

export function pruneCommand(): Command {
  return new Command('prune')
    .description('remove build cache nothing refers to any more (named images stay)')
    .option('-a, --all', 'remove all build cache, not only what nothing refers to')
    .option(
      '--filter <filter>',
      'as docker builder prune: until=DURATION|TIMESTAMP (e.g. 24h), label=KEY[=VALUE]; repeatable',
      collect,
      [],
    )
    .option('-f, --force', 'do not prompt (tcbuild never does; accepted as docker builder prune takes it)')
    .action(
      action(async (flags: { all?: boolean; filter: string[] }) => {
        const filters = flags.filter.length ? parseFilters(flags.filter, Date.now()) : undefined;
        const r = await prune({ all: flags.all ?? false, ...(filters ? { filters } : {}) });
        process.stdout.write(
          `removed ${r.cacheRecords} cache records, ${r.snapshots} snapshots and ${r.blobs} blobs; reclaimed ` +
            `${formatBytes(r.bytes)}\n`,
        );
      }),
    );
}

const UNIT_MS: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** docker builder prune's filters; `until` is a Go duration before now, an RFC 3339 time or Unix seconds. */
export function parseFilters(specs: readonly string[], now: number): PruneFilters {
  const filters: PruneFilters = {};
  for (const spec of specs) {
    const eq = spec.indexOf('=');
    const [key, value] = [spec.slice(0, Math.max(eq, 0)), spec.slice(eq + 1)];
    if (key === 'until' && value !== '') filters.until = untilTime(value, now, spec);
    else if (key === 'label' && value !== '') {
      const at = value.indexOf('=');
      filters.labels = {
        ...filters.labels,
        [at < 0 ? value : value.slice(0, at)]: at < 0 ? undefined : value.slice(at + 1),
      };
    } else throw new InvalidInputError(`--filter ${spec}: expected until=DURATION|TIMESTAMP or label=KEY[=VALUE]`);
  }
  return filters;
}

function untilTime(value: string, now: number, spec: string): number {
  if (/^\d+(\.\d+)?$/.test(value)) return Number(value) * 1000;
  const parts = [...value.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g)];
  if (parts.length && parts.map((p) => p[0]).join('') === value)
    return now - parts.reduce((ms, p) => ms + Number(p[1]) * UNIT_MS[p[2]!]!, 0);
  const time = /^\d{4}-\d{2}-\d{2}/.test(value) ? Date.parse(value) : NaN;
  if (!Number.isNaN(time)) return time;
  throw new InvalidInputError(
    `--filter ${spec}: "${value}" is neither a duration (24h, 1h30m) nor a time (2006-01-02T15:04:05Z, Unix seconds)`,
  );
}
