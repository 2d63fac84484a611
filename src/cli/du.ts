import { Command } from 'commander';
import { action, lazy } from './action.js';
import { formatBytes } from '../progress/format-bytes.js';

const usage = lazy(() => import('../api/prune.js'), 'usage');

export function duCommand(): Command {
  return new Command('du').description('show the disk space named images and the build cache take').action(
    action(async () => {
      const { images, buildCache } = await usage();
      process.stdout.write(
        `images        ${formatBytes(images.bytes)} in ${images.count} blobs\n` +
          `build cache   ${formatBytes(buildCache.bytes)} in ${buildCache.records} records, ${buildCache.snapshots} ` +
          `snapshots\n`,
      );
    }),
  );
}
