import { Command } from 'commander';
import { action, lazy, collect } from './action.js';
import { addRegistryFlags, registryOptions, type RegistryFlags } from './registry-flags.js';

const pull = lazy(() => import('../api/transfer.js'), 'pull');

export function pullCommand(): Command {
  const cmd = new Command('pull')
    .description('pull an image from a registry into the local store')
    .argument('<image>', 'the reference, e.g. localhost:5000/busybox:latest')
    .option('--platform <os/arch>', "the platform to pull (default: this host; 'all' for every platform)");
  addRegistryFlags(cmd, collect);
  return cmd.action(
    action(async (image: string, flags: RegistryFlags & { platform?: string }) => {
      const { ref, descriptor } = await pull(image, { registry: registryOptions(flags), ...(flags.platform ? { platform: flags.platform } : {}) });
      process.stdout.write(`${ref}@${descriptor.digest}\n`);
    }),
  );
}
