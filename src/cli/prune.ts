import { Command } from 'commander';
import { prune } from '../api/prune.js';
import { action } from './action.js';
import { formatBytes } from './format.js';

export function pruneCommand(): Command {
  return new Command('prune')
    .description('remove the build cache and data no stored image uses (named images stay)')
    .action(
      action(async () => {
        const { blobs, bytes } = await prune();
        process.stdout.write(`removed ${blobs} blobs, reclaimed ${formatBytes(bytes)}\n`);
      }),
    );
}
