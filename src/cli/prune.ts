import { Command } from 'commander';
import { action, lazy } from './action.js';
import { formatBytes } from '../progress/format-bytes.js';

const prune = lazy(() => import('../api/prune.js'), 'prune');

export function pruneCommand(): Command {
  return new Command('prune')
    .description('remove build cache nothing refers to any more (named images stay)')
    .option('-a, --all', 'remove all build cache, not only what nothing refers to')
    .action(
      action(async (flags: { all?: boolean }) => {
        const r = await prune({ all: flags.all ?? false });
        process.stdout.write(
          `removed ${r.cacheRecords} cache records, ${r.snapshots} snapshots and ${r.blobs} blobs; reclaimed ${formatBytes(r.bytes)}\n`,
        );
      }),
    );
}
