import { Command } from 'commander';
import { InvalidInputError } from '../errors.js';
import { formatReference, parseReference } from '../registry/reference.js';
import { action, lazy, collect } from './action.js';
import { addRegistryFlags, registryOptions, type RegistryFlags } from './registry-flags.js';

const pull = lazy(() => import('../api/transfer.js'), 'pull');
const listTags = lazy(() => import('../api/remote.js'), 'listTags');

export function pullCommand(): Command {
  const cmd = new Command('pull')
    .description('pull an image from a registry into the local store')
    .argument('<image>', 'the reference, e.g. localhost:5000/busybox:latest (with -a: a repository)')
    .option('--platform <os/arch>', "the platform to pull (default: this host; 'all' for every platform)")
    .option('-a, --all-tags', 'pull every tag of the repository')
    .option('-q, --quiet', 'print only the pulled references, no progress');
  addRegistryFlags(cmd, collect);
  return cmd.action(
    action(async (image: string, flags: RegistryFlags & { platform?: string; allTags?: boolean; quiet?: boolean }) => {
      const registry = registryOptions(flags, { quiet: flags.quiet ?? false });
      const names = flags.allTags ? await remoteTags(image, registry) : [image];
      for (const name of names) {
        const { ref, descriptor } = await pull(name, {
          registry,
          ...(flags.platform ? { platform: flags.platform } : {}),
        });
        process.stdout.write(flags.quiet ? `${ref}\n` : `${ref}@${descriptor.digest}\n`);
      }
    }),
  );
}

/** `pull -a REPO`: REPO:TAG for every tag the registry lists. */
async function remoteTags(repository: string, registry: ReturnType<typeof registryOptions>): Promise<string[]> {
  const ref = parseReference(repository);
  if (/:[^/]+$/.test(repository) || ref.digest)
    throw new InvalidInputError(`pull --all-tags ${repository}: give a repository without a tag or digest`);
  const repo = formatReference({ ...ref, tag: undefined });
  return (await listTags(repo, { registry })).sort().map((tag) => `${repo}:${tag}`);
}
