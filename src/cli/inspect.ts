import { Command } from 'commander';
import { action, lazy, collect } from './action.js';
import { addRegistryFlags, registryOptions, type RegistryFlags } from './registry-flags.js';

const inspect = lazy(() => import('../api/images.js'), 'inspect');
const inspectRemote = lazy(() => import('../api/remote.js'), 'inspectRemote');
const rawManifest = lazy(() => import('../api/remote.js'), 'rawManifest');

export function inspectCommand(): Command {
  const cmd = new Command('inspect')
    .description('print an image: its descriptor, manifest (or index) and config, as JSON (a stored image; with --remote, from its registry)')
    .argument('<image>', 'a stored image name or digest, or with --remote a registry reference')
    .option('--remote', 'read the image from its registry, not the local store')
    .option('--raw', 'with --remote: print the manifest exactly as the registry serves it');
  addRegistryFlags(cmd, collect);
  return cmd.action(
    action(async (image: string, flags: RegistryFlags & { remote?: boolean; raw?: boolean }) => {
      if (flags.remote && flags.raw) {
        process.stdout.write(await rawManifest(image, { registry: registryOptions(flags) }));
        return;
      }
      const result = flags.remote ? await inspectRemote(image, { registry: registryOptions(flags) }) : await inspect(image);
      process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    }),
  );
}
