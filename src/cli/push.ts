import { Command } from 'commander';
import { action, lazy, collect } from './action.js';
import { addRegistryFlags, registryOptions, type RegistryFlags } from './registry-flags.js';

const push = lazy(() => import('../api/transfer.js'), 'push');

export function pushCommand(): Command {
  const cmd = new Command('push')
    .description('push a stored image to a registry (to DEST when given, else to its own name)')
    .argument('<image>', 'a stored image name or digest')
    .argument('[dest]', 'the reference to push to, e.g. registry.example.com/team/app:1');
  addRegistryFlags(cmd, collect);
  return cmd.action(
    action(async (image: string, dest: string | undefined, flags: RegistryFlags) => {
      const { ref, descriptor } = await push(image, dest, { registry: registryOptions(flags) });
      process.stdout.write(`${ref}@${descriptor.digest}\n`);
    }),
  );
}
