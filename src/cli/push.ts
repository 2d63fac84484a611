import { Command } from 'commander';
import { InvalidInputError } from '../errors.js';
import { formatReference, parseReference } from '../registry/reference.js';
import { action, lazy, collect } from './action.js';
import { addRegistryFlags, registryOptions, type RegistryFlags } from './registry-flags.js';

const push = lazy(() => import('../api/transfer.js'), 'push');
const images = lazy(() => import('../api/images.js'), 'images');

export function pushCommand(): Command {
  const cmd = new Command('push')
    .description('push a stored image to a registry (to DEST when given, else to its own name)')
    .argument('<image>', 'a stored image name or digest (with -a: a repository)')
    .argument('[dest]', 'the reference to push to, e.g. registry.example.com/team/app:1')
    .option('-a, --all-tags', 'push every stored tag of the repository')
    .option('-q, --quiet', 'print only the pushed references, no progress');
  addRegistryFlags(cmd, collect);
  return cmd.action(
    action(
      async (
        image: string,
        dest: string | undefined,
        flags: RegistryFlags & { allTags?: boolean; quiet?: boolean },
      ) => {
        const registry = registryOptions(flags, { quiet: flags.quiet ?? false });
        const names = flags.allTags ? await storedTags(image, dest) : [image];
        for (const name of names) {
          const { ref, descriptor } = await push(name, flags.allTags ? undefined : dest, { registry });
          process.stdout.write(flags.quiet ? `${ref}\n` : `${ref}@${descriptor.digest}\n`);
        }
      },
    ),
  );
}

/** `push -a REPO`: the stored names of REPO, every tag. */
async function storedTags(repository: string, dest: string | undefined): Promise<string[]> {
  const ref = parseReference(repository);
  if (dest !== undefined || /:[^/]+$/.test(repository) || ref.digest) {
    throw new InvalidInputError(
      `push --all-tags ${repository}: give a repository without a tag or digest, and no destination`,
    );
  }
  const repo = formatReference({ ...ref, tag: undefined });
  const names = (await images())
    .map((i) => i.name)
    .filter((name) => formatReference({ ...parseReference(name), tag: undefined }) === repo);
  if (names.length === 0)
    throw new InvalidInputError(`push --all-tags: no stored image of ${repo}`, {
      hint: 'list stored images with: tcbuild images',
    });
  return names.sort();
}
