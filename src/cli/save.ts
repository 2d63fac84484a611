import { Command } from 'commander';
import { InvalidInputError } from '../errors.js';
import { action, lazy } from './action.js';

const save = lazy(() => import('../api/archive.js'), 'save');

export function saveCommand(): Command {
  return new Command('save')
    .description('write stored images to a docker-archive tarball, as docker save')
    .argument('<images...>', 'stored image names or digests')
    .requiredOption('-o, --output <file>', 'the tar file to write')
    .option('--platform <os/arch>', 'for a multi-platform image, the platform to save (default: this host)')
    .action(
      action(async (images: string[], flags: { output: string; platform?: string }) => {
        if (flags.output === '-') throw new InvalidInputError('save writes to a file: give its path with -o FILE');
        await save(images, flags.output, flags.platform ? { platform: flags.platform } : {});
      }),
    );
}
