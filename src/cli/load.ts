import { Command } from 'commander';
import { action, lazy } from './action.js';

const load = lazy(() => import('../api/archive.js'), 'load');

export function loadCommand(): Command {
  return new Command('load')
    .description('load images from a docker-archive tarball into the local store, as docker load')
    .option('-i, --input <file>', 'the tar file to read (default: stdin)')
    .option('-q, --quiet', 'print nothing')
    .action(
      action(async (flags: { input?: string; quiet?: boolean }) => {
        const { names, digests } = await load(flags.input ?? process.stdin);
        if (flags.quiet) return;
        const lines = names.length
          ? names.map((n) => `Loaded image: ${n}`)
          : digests.map((d) => `Loaded image ID: ${d}`);
        process.stdout.write(lines.map((l) => `${l}\n`).join(''));
      }),
    );
}
