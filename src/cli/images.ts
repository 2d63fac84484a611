import { Command } from 'commander';
import { action, lazy } from './action.js';
import { formatBytes } from './format.js';

const images = lazy(() => import('../api/images.js'), 'images');

export function imagesCommand(): Command {
  return new Command('images')
    .description('list the images in the local store')
    .option('-q, --quiet', 'print only digests')
    .action(
      action(async (flags: { quiet?: boolean }) => {
        const list = await images();
        if (flags.quiet) {
          process.stdout.write(list.map((i) => `${i.digest}\n`).join(''));
          return;
        }
        const rows = [['NAME', 'DIGEST', 'SIZE'], ...list.map((i) => [i.name, i.digest.slice(7, 19), formatBytes(i.size)])];
        const width = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
        process.stdout.write(rows.map((r) => r.map((cell, c) => cell.padEnd(width[c]!)).join('   ').trimEnd()).join('\n') + '\n');
      }),
    );
}
