import { Command } from 'commander';
import { InvalidInputError } from '../errors.js';
import { action, lazy, collect } from './action.js';
import { addRegistryFlags, registryOptions, type RegistryFlags } from './registry-flags.js';

const manifestAdd = lazy(() => import('../api/manifest.js'), 'manifestAdd');
const manifestAnnotate = lazy(() => import('../api/manifest.js'), 'manifestAnnotate');
const manifestCreate = lazy(() => import('../api/manifest.js'), 'manifestCreate');
const manifestInspect = lazy(() => import('../api/manifest.js'), 'manifestInspect');
const manifestPush = lazy(() => import('../api/manifest.js'), 'manifestPush');
const manifestRm = lazy(() => import('../api/manifest.js'), 'manifestRm');

/** `tcbuild manifest …`: assemble multi-platform lists from images already in a registry, without moving layers. */
export function manifestCommand(): Command {
  const manifest = new Command('manifest').description(
    'assemble, annotate and push manifest lists (image indexes) of images already in a registry',
  );

  const create = new Command('create')
    .description('make a list from images in a registry (an index contributes all its images)')
    .argument('<list>', "the list's name, e.g. registry.example.com/app:1")
    .argument('<images...>', 'image references')
    .option('-a, --amend', 'add to an existing list instead of replacing it');
  addRegistryFlags(create, collect).action(
    action(async (list: string, images: string[], flags: RegistryFlags & { amend?: boolean }) => {
      const d = await manifestCreate(list, images, { registry: registryOptions(flags), amend: flags.amend ?? false });
      process.stdout.write(`${d.digest}\n`);
    }),
  );

  const add = new Command('add').description('add an image to a list').argument('<list>').argument('<image>');
  addRegistryFlags(add, collect).action(
    action(async (list: string, image: string, flags: RegistryFlags) => {
      process.stdout.write(`${(await manifestAdd(list, image, { registry: registryOptions(flags) })).digest}\n`);
    }),
  );

  const annotate = new Command('annotate')
    .description("set a child's platform fields and annotations")
    .argument('<list>')
    .argument('<image>', 'the child, as IMAGE@sha256:DIGEST, a digest, or a reference to resolve')
    .option('--os <os>')
    .option('--arch <arch>')
    .option('--variant <variant>')
    .option('--os-version <version>')
    .option('--os-features <list>', 'comma-separated')
    .option('--annotation <key=value>', 'repeatable', collect);
  addRegistryFlags(annotate, collect).action(
    action(
      async (
        list: string,
        image: string,
        flags: RegistryFlags & {
          os?: string;
          arch?: string;
          variant?: string;
          osVersion?: string;
          osFeatures?: string;
          annotation?: string[];
        },
      ) => {
        const annotations = Object.fromEntries(
          (flags.annotation ?? []).map((kv) => {
            const eq = kv.indexOf('=');
            if (eq <= 0) throw new InvalidInputError(`--annotation "${kv}": expected KEY=VALUE`);
            return [kv.slice(0, eq), kv.slice(eq + 1)];
          }),
        );
        const d = await manifestAnnotate(
          list,
          image,
          {
            ...(flags.os ? { os: flags.os } : {}),
            ...(flags.arch ? { arch: flags.arch } : {}),
            ...(flags.variant ? { variant: flags.variant } : {}),
            ...(flags.osVersion ? { osVersion: flags.osVersion } : {}),
            ...(flags.osFeatures ? { osFeatures: flags.osFeatures.split(',') } : {}),
            annotations,
          },
          { registry: registryOptions(flags) },
        );
        process.stdout.write(`${d.digest}\n`);
      },
    ),
  );

  const inspect = new Command('inspect')
    .description('print a list as it will be pushed')
    .argument('<list>')
    .action(
      action(async (list: string) => {
        process.stdout.write(`${JSON.stringify(await manifestInspect(list), null, 2)}\n`);
      }),
    );

  const push = new Command('push')
    .description('push a list to its registry (or to DEST); children are mounted, never re-uploaded')
    .argument('<list>')
    .argument('[dest]')
    .option('-p, --purge', 'remove the local list after pushing');
  addRegistryFlags(push, collect).action(
    action(async (list: string, dest: string | undefined, flags: RegistryFlags & { purge?: boolean }) => {
      const d = await manifestPush(list, dest, { registry: registryOptions(flags), purge: flags.purge ?? false });
      process.stdout.write(`${d.digest}\n`);
    }),
  );

  const rm = new Command('rm')
    .description('remove local lists')
    .argument('<lists...>')
    .action(action(async (lists: string[]) => manifestRm(lists)));

  for (const sub of [create, add, annotate, inspect, push, rm]) manifest.addCommand(sub);
  return manifest;
}
