import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { InvalidInputError } from '../errors.js';
import { formatCheckReport, formatWarningsJson, formatWarningSummary } from './check-report.js';
import { writeFileAtomic } from '../content/atomic-file.js';
import { createProgress, PROGRESS_MODES, type ProgressMode } from '../progress/progress.js';
import type { BuildOutput } from '../api/build.js';
import { parseLayerCompression, parseSnapshotterName } from '../snapshot/index.js';
import { action, lazy, collect } from './action.js';
import { parseBuildContexts, parseSecrets, parseSsh, stdinContext } from './build-context-flags.js';
import { addRegistryFlags, registryOptions, type RegistryFlags } from './registry-flags.js';
import { addSandboxLimitFlags, sandboxLimits, type SandboxLimitFlags } from './run.js';
import { parseEntitlements } from '../graph/entitlements.js';
import { parseNetworkMode } from '../sandbox/flags.js';

const build = lazy(() => import('../api/build.js'), 'build');

interface BuildFlags extends RegistryFlags, SandboxLimitFlags {
  tag?: string[];
  file?: string;
  buildArg?: string[];
  target?: string;
  platform?: string;
  cache: boolean;
  pull?: boolean;
  push?: boolean;
  progress: string;
  quiet?: boolean;
  iidfile?: string;
  metadataFile?: string;
  label?: string[];
  output?: string[];
  printGraph?: boolean;
  cacheFilter?: string[] | boolean;
  compression: string;
  compressionLevel?: string;
  snapshotter?: string;
  secret?: string[];
  ssh?: string[];
  buildContext?: string[];
  network: string;
  allow?: string[];
  check?: boolean;
  call?: string;
}

export function buildCommand(): Command {
  const cmd = new Command('build')
    .description('build an image from a Dockerfile and a context directory')
    .argument(
      '<context>',
      'the build context: a directory, a tarball, a git URL (https://host/repo.git#ref:subdir, git@host:repo.git), ' +
        "or '-' for a tarball or Dockerfile on stdin",
    )
    .option('-t, --tag <name>', 'name the image NAME[:TAG] (repeatable)', collect)
    .option('-f, --file <path>', "the Dockerfile (default: CONTEXT/Dockerfile; '-' reads stdin)")
    .option(
      '--build-arg <key=value>',
      'set a build-time variable (repeatable; KEY alone takes it from the environment)',
      collect,
    )
    .option('--target <stage>', 'build this stage and stop')
    .option(
      '--platform <os/arch,...>',
      'the platforms to build for, comma-separated (default: this host); several make an image index',
    )
    .option('--no-cache', 'do not use the build cache')
    // commander reads a --no-* option as the negation of --cache-filter: its value lands in `cacheFilter`.
    .option(
      '--no-cache-filter <stages>',
      'do not use the build cache for these stages (comma-separated names or indexes; repeatable)',
      (v: string, previous: unknown) => [...(Array.isArray(previous) ? (previous as string[]) : []), v],
    )
    .option('--pull', 'always get base images from their registry')
    .option('--push', 'push the image to the registry of each -t name')
    .option('--progress <mode>', `progress output: ${PROGRESS_MODES.join(', ')}`, 'auto')
    .option('-q, --quiet', 'print only the image digest')
    .option('--iidfile <file>', 'write the image digest to this file')
    .option(
      '--metadata-file <file>',
      'write the build result (image digest, config digest, names) as JSON to this file',
    )
    .option('--print-graph', 'print the build graph (one vertex per line, dependencies first) before building')
    .option('--label <key=value>', 'add a label to the image (repeatable)', collect)
    .option('-o, --output <spec>', 'also export the result: type=local,dest=DIR (repeatable)', collect)
    .option('--compression <type>', 'layer compression: gzip, zstd or none', 'gzip')
    .option('--compression-level <n>', 'compression level: gzip 0-9 (default 6), zstd 1-22 (default 3)')
    .option(
      '--snapshotter <name>',
      'how step filesystems are kept: overlay or native (default: $TCBUILD_SNAPSHOTTER, else overlay where it mounts)',
    );
  cmd
    .option(
      '--secret <id=ID,src=FILE|env=VAR>',
      'a secret RUN --mount=type=secret can read, never stored (repeatable)',
      collect,
    )
    .option('--ssh <default|ID=SOCKET>', 'an SSH agent socket RUN --mount=type=ssh forwards (repeatable)', collect)
    .option(
      '--build-context <name=DIR|GIT-URL|docker-image://REF>',
      'a named context for FROM, COPY --from and RUN --mount from= (repeatable)',
      collect,
    )
    .option(
      '--network <mode>',
      "the network of RUN steps: default (a private network: outbound access, none of the host's services), none, " +
        'or host (allows network.host)',
      'default',
    )
    .option('--check', 'only run the build checks on every stage, print their warnings, exit 1 if any (= --call check)')
    .option('--call <method>', 'what to do with the Dockerfile: build (the default) or check')
    .option(
      '--allow <entitlement>',
      'let RUN steps have network.host (RUN --network=host) or security.insecure (RUN --security=insecure); ' +
        'repeatable or comma-separated',
      collect,
    );
  addSandboxLimitFlags(cmd);
  addRegistryFlags(cmd, collect);
  return cmd.action(
    action(async (contextArg: string, flags: BuildFlags) => {
      const stdin = contextArg === '-' ? await stdinContext() : undefined;
      const context = stdin?.context ?? contextArg;
      const mode = (flags.quiet ? 'quiet' : flags.progress) as ProgressMode;
      if (!PROGRESS_MODES.includes(mode))
        throw new InvalidInputError(`--progress=${flags.progress}: expected one of ${PROGRESS_MODES.join(', ')}`);
      const check = callsCheck(flags);
      const progress = createProgress(check ? 'quiet' : mode, process.stderr);
      const sde = process.env['SOURCE_DATE_EPOCH'];
      if (sde !== undefined && !/^\d+$/.test(sde))
        throw new InvalidInputError(`SOURCE_DATE_EPOCH="${sde}" is not a number of seconds`);
      const options = {
        labels: parseKeyValues(flags.label ?? [], '--label'),
        outputs: (flags.output ?? []).map(parseOutput),
        ...(flags.printGraph ? { onGraph: (text: string) => process.stdout.write(text) } : {}),
        context,
        ...(stdin?.dockerfile !== undefined
          ? { dockerfile: stdin.dockerfile }
          : flags.file === '-'
            ? { dockerfile: readFileSync(0, 'utf8') }
            : flags.file
              ? { file: flags.file }
              : {}),
        secrets: parseSecrets(flags.secret ?? []),
        ssh: parseSsh(flags.ssh ?? []),
        buildContexts: parseBuildContexts(flags.buildContext ?? []),
        tags: flags.tag ?? [],
        buildArgs: parseBuildArgs(flags.buildArg ?? []),
        ...(flags.target ? { target: flags.target } : {}),
        ...(flags.platform ? { platform: flags.platform } : {}),
        noCache: !flags.cache,
        ...(Array.isArray(flags.cacheFilter) ? { noCacheFilter: flags.cacheFilter.flatMap((f) => f.split(',')) } : {}),
        pull: flags.pull ?? false,
        push: flags.push ?? false,
        progress,
        sandbox: sandboxLimits(flags),
        network: parseNetworkMode(flags.network),
        allow: parseEntitlements(flags.allow ?? []),
        registry: registryOptions(flags, { quiet: true }),
        ...(sde !== undefined ? { sourceDateEpoch: Number(sde) } : {}),
        compression: parseLayerCompression(flags.compression),
        ...(flags.compressionLevel !== undefined ? { compressionLevel: parseLevel(flags.compressionLevel) } : {}),
        ...(flags.snapshotter !== undefined ? { snapshotter: parseSnapshotterName(flags.snapshotter) } : {}),
      };
      const cleanUp = () => {
        progress.close?.();
        return stdin?.remove();
      };
      if (check) {
        const { warnings, error } = await build({ ...options, check: true }).finally(cleanUp);
        process.stdout.write(mode === 'json' ? formatWarningsJson(warnings) : formatCheckReport(warnings));
        if (error) throw error;
        process.exitCode = warnings.length > 0 ? 1 : 0;
        return;
      }
      const result = await build(options).finally(cleanUp);
      if (result.warnings.length > 0 && mode !== 'json' && mode !== 'quiet') {
        process.stderr.write(formatWarningSummary(result.warnings));
      }
      if (flags.iidfile) await writeFileAtomic(flags.iidfile, result.digest);
      if (flags.metadataFile) {
        const metadata = {
          'containerimage.digest': result.digest,
          ...(result.images.length === 1 ? { 'containerimage.config.digest': result.images[0]!.configDigest } : {}),
          'containerimage.descriptor': result.descriptor,
          ...(result.tags.length ? { 'image.name': result.tags.join(',') } : {}),
        };
        await writeFileAtomic(flags.metadataFile, `${JSON.stringify(metadata, null, 2)}\n`);
      }
      if (flags.quiet) process.stdout.write(`${result.digest}\n`);
      else
        process.stderr.write(
          `writing image ${result.digest} ` +
            `done${result.tags.length ? `\nnaming to ${result.tags.join(', ')} done` : ''}\n`,
        );
    }),
  );
}

/** `--check` or `--call check`; `--call build` is the default. */
function callsCheck(flags: BuildFlags): boolean {
  const call = flags.call ?? (flags.check ? 'check' : 'build');
  if (call !== 'build' && call !== 'check') {
    throw new InvalidInputError(`--call=${call}: tcbuild knows build and check`, { hint: 'use --check' });
  }
  if (flags.check && call !== 'check') {
    throw new InvalidInputError(`--check and --call=${call} ask for different things`, { hint: 'give one of them' });
  }
  return call === 'check';
}

function parseBuildArgs(list: string[]): Record<string, string> {
  const args: Record<string, string> = {};
  for (const item of list) {
    if (item.startsWith('=')) throw new InvalidInputError(`--build-arg "${item}": the name is empty`);
    if (!item.includes('=')) {
      const value = process.env[item];
      if (value !== undefined) args[item] = value;
    } else {
      Object.assign(args, parseKeyValues([item], '--build-arg'));
    }
  }
  return args;
}

function parseKeyValues(list: string[], flag: string): Record<string, string> {
  const values: Record<string, string> = {};
  for (const item of list) {
    const eq = item.indexOf('=');
    if (eq <= 0) throw new InvalidInputError(`${flag} "${item}": expected KEY=VALUE`);
    values[item.slice(0, eq)] = item.slice(eq + 1);
  }
  return values;
}

function parseOutput(spec: string): BuildOutput {
  const fields = Object.fromEntries(
    spec.split(',').map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
  );
  const type = fields['type'];
  if ((type === 'local' || type === 'oci' || type === 'docker') && fields['dest'])
    return { type, dest: fields['dest'] };
  throw new InvalidInputError(
    `-o "${spec}": supported outputs are type=local,dest=DIR, type=oci,dest=FILE.tar and type=docker,dest=FILE.tar`,
    {
      hint: 'images always go to the local store too; add --push to push them',
    },
  );
}

function parseLevel(text: string): number {
  if (!/^\d+$/.test(text)) throw new InvalidInputError(`--compression-level ${text}: expected a whole number`);
  return Number(text);
}
