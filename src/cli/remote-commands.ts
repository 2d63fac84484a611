import { Command } from 'commander';
import { action, lazy, collect } from './action.js';
import { addRegistryFlags, registryOptions, type RegistryFlags } from './registry-flags.js';

const catalog = lazy(() => import('../api/remote.js'), 'catalog');
const deleteRemote = lazy(() => import('../api/remote.js'), 'deleteRemote');
const digest = lazy(() => import('../api/remote.js'), 'digest');
const listTags = lazy(() => import('../api/remote.js'), 'listTags');

/** A command taking one argument that talks to a registry and prints lines. */
function remoteCommand(
  name: string,
  description: string,
  argument: [string, string],
  run: (arg: string, flags: RegistryFlags) => Promise<string[]>,
): Command {
  const cmd = new Command(name).description(description).argument(...argument);
  addRegistryFlags(cmd, collect);
  return cmd.action(
    action(async (arg: string, flags: RegistryFlags) => {
      process.stdout.write((await run(arg, flags)).map((line) => `${line}\n`).join(''));
    }),
  );
}

export function digestCommand(): Command {
  return remoteCommand(
    'digest',
    "print the digest of an image's manifest in its registry",
    ['<image>', 'e.g. localhost:5000/app:1'],
    async (image, flags) => [await digest(image, { registry: registryOptions(flags) })],
  );
}

export function lsTagsCommand(): Command {
  return remoteCommand(
    'ls-tags',
    'list the tags of a repository, one per line',
    ['<repository>', 'e.g. localhost:5000/team/app'],
    (repository, flags) => listTags(repository, { registry: registryOptions(flags) }),
  );
}

export function catalogCommand(): Command {
  return remoteCommand(
    'catalog',
    'list the repositories of a registry, one per line',
    ['<registry>', 'e.g. localhost:5000'],
    (host, flags) => catalog(host, { registry: registryOptions(flags) }),
  );
}

export function deleteCommand(): Command {
  return remoteCommand(
    'delete',
    'delete an image (its manifest, and with it every tag on it) from its registry',
    ['<image>', 'e.g. localhost:5000/app:1'],
    async (image, flags) => [`Deleted: ${await deleteRemote(image, { registry: registryOptions(flags) })}`],
  );
}
