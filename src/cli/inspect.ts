import { Command } from 'commander';
import { inspect } from '../api/images.js';
import { action } from './action.js';

export function inspectCommand(): Command {
  return new Command('inspect')
    .description('print a stored image: its descriptor, manifest (or index) and config, as JSON')
    .argument('<image>', 'a stored image name or digest')
    .action(
      action(async (image: string) => {
        process.stdout.write(`${JSON.stringify(await inspect(image), null, 2)}\n`);
      }),
    );
}
