import { Command } from 'commander';
import { rmi } from '../api/images.js';
import { action } from './action.js';

export function rmiCommand(): Command {
  return new Command('rmi')
    .description('remove image names from the local store (their data goes with the next prune)')
    .argument('<images...>', 'image names or digests')
    .action(
      action(async (names: string[]) => {
        for (const name of await rmi(names)) process.stdout.write(`Untagged: ${name}\n`);
      }),
    );
}
