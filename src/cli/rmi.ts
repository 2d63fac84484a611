import { Command } from 'commander';
import { action, lazy } from './action.js';

const rmi = lazy(() => import('../api/images.js'), 'rmi');

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
