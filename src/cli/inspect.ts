import { Command } from 'commander';
import { action, lazy, collect } from './action.js';
import type { InspectResult } from '../api/images.js';
import { familiarName, parseReference } from '../registry/reference.js';
import { renderTemplate } from './go-template.js';
import { addRegistryFlags, registryOptions, type RegistryFlags } from './registry-flags.js';

const inspect = lazy(() => import('../api/images.js'), 'inspect');
const inspectRemote = lazy(() => import('../api/remote.js'), 'inspectRemote');
const rawManifest = lazy(() => import('../api/remote.js'), 'rawManifest');

export function inspectCommand(): Command {
  const cmd = new Command('inspect')
    .description(
      'print an image: its descriptor, manifest (or index) and config, as JSON (a stored image; with --remote, from ' +
        'its registry)',
    )
    .argument('<image>', 'a stored image name or digest, or with --remote a registry reference')
    .option('--remote', 'read the image from its registry, not the local store')
    .option('--raw', 'with --remote: print the manifest exactly as the registry serves it')
    .option(
      '-f, --format <template>',
      "a Go template over the result and docker's fields, e.g. '{{.Id}}', '{{json .Config.Env}}'",
    );
  addRegistryFlags(cmd, collect);
  return cmd.action(
    action(async (image: string, flags: RegistryFlags & { remote?: boolean; raw?: boolean; format?: string }) => {
      if (flags.remote && flags.raw) {
        process.stdout.write(await rawManifest(image, { registry: registryOptions(flags) }));
        return;
      }
      const result = flags.remote
        ? await inspectRemote(image, { registry: registryOptions(flags) })
        : await inspect(image);
      if (flags.format !== undefined)
        process.stdout.write(`${renderTemplate(flags.format, withDockerFields(result))}\n`);
      else process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    }),
  );
}

/** The result with the fields `docker image inspect` has, so that docker's --format templates work. */
function withDockerFields(result: InspectResult): Record<string, unknown> {
  const ref = parseReference(result.name);
  const config = result.config;
  return {
    ...result,
    Id: result.manifest?.config.digest ?? result.descriptor.digest,
    RepoTags: ref.tag !== undefined ? [familiarName({ ...ref, digest: undefined })] : [],
    RepoDigests: [familiarName({ ...ref, tag: undefined, digest: result.descriptor.digest })],
    // An index has no config: its fields print <no value>, as a missing one would.
    Created: config?.created,
    Author: config ? (config.author ?? '') : undefined,
    Architecture: config?.architecture,
    Os: config?.os,
    Variant: config ? (config.variant ?? '') : undefined,
    Config: config?.config,
    RootFS: config ? { Type: config.rootfs.type, Layers: config.rootfs.diff_ids } : undefined,
  };
}
