import { Command } from 'commander';
import { action, lazy, collect } from './action.js';
import { addRegistryFlags, registryOptions, type RegistryFlags } from './registry-flags.js';

const copy = lazy(() => import('../api/copy.js'), 'copy');

export function copyCommand(): Command {
  const cmd = new Command('copy')
    .description(
      'copy an image between registries, OCI layouts and archives (docker://REF or REF, oci:DIR[:NAME], ' +
        'oci-archive:FILE[:NAME], docker-archive:FILE[:NAME])',
    )
    .argument('<source>', 'where the image is')
    .argument('<destination>', 'where to put it')
    .option('--all-platforms', 'copy every platform of a multi-platform image')
    .option('--platform <os/arch>', 'the platform to copy from a multi-platform image (default: this host)');
  addRegistryFlags(cmd, collect);
  return cmd.action(
    action(
      async (
        source: string,
        destination: string,
        flags: RegistryFlags & { allPlatforms?: boolean; platform?: string },
      ) => {
        const result = await copy(source, destination, {
          allPlatforms: flags.allPlatforms ?? false,
          ...(flags.platform ? { platform: flags.platform } : {}),
          registry: registryOptions(flags),
        });
        process.stdout.write(`${result.destination}@${result.descriptor.digest}\n`);
      },
    ),
  );
}
